//! The jitter optimum (`smooth_sim::optimum`) on the paper's stream, checked
//! against an independent solver and against its own constraints.

use smooth_core::time::{NSEC_PER_SEC as S, NSEC_PER_USEC as US};
use smooth_sim::metrics;
use smooth_sim::model::{replay, Departure, Model, Tbf};
use smooth_sim::optimum;
use smooth_sim::workload::{self, Video};

const RATE: u64 = 250_000; // 2 Mbit/s
const MAX_DELAY: u64 = 200_000 * US;

/// Mean |IPDV| over consecutive departures, ns: what the LP minimises.
fn mean_ipdv(deps: &[Departure]) -> f64 {
    let sum: u64 = deps
        .windows(2)
        .map(|w| w[1].delay().abs_diff(w[0].delay()))
        .sum();
    sum as f64 / (deps.len() - 1) as f64
}

/// The paper's stream as docs/simulation.md defines it, 20 s, through the
/// optimum at five bucket depths. J.mean (ms) from an independent solver
/// (HiGHS, on its own 3765-packet draw of the same stream; seed 1 here has
/// 3747 packets, so the noise differs and 5 % is the bar).
#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "≈ 40 s unoptimised: run with cargo test --release"
)]
fn the_optimum_matches_highs_conforms_and_beats_tbf() {
    let trace = workload::vbr(Video::paper((RATE as f64 * 0.97).round() as u64), 20 * S, 1);
    for (sigma, highs_ms) in [
        (6000u32, 2.62),
        (10_000, 1.30),
        (15_600, 1.06),
        (20_000, 0.87),
        (27_300, 0.56),
    ] {
        let deps = optimum::solve(&trace, RATE, sigma.into(), MAX_DELAY).unwrap();
        let m = metrics::measure(&deps, trace.len() as u64, 0, RATE, S, 20 * S);
        let j = m.jitter_mean / 1e6;
        assert!(
            (j / highs_ms - 1.0).abs() < 0.05,
            "σ {sigma}: J.mean {j:.3} ms, HiGHS {highs_ms} ms"
        );

        // Every packet, in order, unchanged, within the ceiling.
        assert_eq!(deps.len(), trace.len());
        for (d, &(arrival, len)) in deps.iter().zip(&trace) {
            assert_eq!((d.arrival, d.len), (arrival, len));
            assert!(d.depart >= arrival, "σ {sigma}: early {d:?}");
            assert!(d.delay() <= MAX_DELAY + US, "σ {sigma}: late {d:?}");
        }
        assert!(deps.windows(2).all(|w| w[0].depart <= w[1].depart));
        // Conforms to the bucket over every window.
        assert!(
            m.sigma_sup <= i64::from(sigma) + 1,
            "σ {sigma}: needs {}",
            m.sigma_sup
        );

        // TBF with the same bucket is one conforming FIFO schedule (it
        // meets the ceiling here: no drops with an unbounded queue and the
        // delays checked), so the optimum's Σ|IPDV| cannot exceed its.
        let mut tbf = Tbf::new(RATE, sigma, u64::MAX, 0);
        let tbf_deps = replay(&mut tbf, &trace);
        assert_eq!((tbf_deps.len(), tbf.drops()), (trace.len(), 0));
        let tbf_m = metrics::measure(&tbf_deps, trace.len() as u64, 0, RATE, S, 20 * S);
        assert!(tbf_m.delay.max <= MAX_DELAY, "σ {sigma}: TBF too slow");
        assert!(mean_ipdv(&deps) <= mean_ipdv(&tbf_deps) * (1.0 + 1e-6));
        assert!(
            m.jitter_mean <= tbf_m.jitter_mean,
            "σ {sigma}: J.mean {j:.3} ms > TBF's {:.3} ms",
            tbf_m.jitter_mean / 1e6
        );
    }
}

/// Infeasible problems are errors that say why, not panics.
#[test]
fn infeasible_problems_are_explained() {
    let trace = workload::vbr(Video::paper((RATE as f64 * 0.97).round() as u64), 2 * S, 1);
    let e = optimum::solve(&trace, RATE, 1000, MAX_DELAY).unwrap_err();
    assert!(e.contains("larger than the bucket"), "{e}");
    // An I-frame (≈ 41 kB) cannot leave a 6 kB bucket at 2 Mbit/s in 20 ms.
    let e = optimum::solve(&trace, RATE, 6000, 20_000 * US).unwrap_err();
    assert!(e.contains("max_delay") && e.contains("too small"), "{e}");
}
