//! The offline jitter optimum: the least jitter any FIFO shaper with a delay
//! ceiling can achieve on a known trace while its output conforms to a token
//! bucket (σ, R). It is the floor the shapers' J-versus-σ curves are judged
//! against, so it is solved exactly, as a linear program, not by a heuristic:
//!
//! ```text
//! minimise   Σ_{i≥1} t_i + ε Σ_i d_i           (t_i = |IPDV_i| at the optimum)
//! subject to a_i ≤ d_i ≤ a_i + max_delay        (no early release, delay ceiling)
//!            d_{i−1} ≤ d_i                      (FIFO)
//!            0 ≤ b_i ≤ σ − L_i                  (b_i: tokens just after packet i left)
//!            b_i ≤ b_{i−1} + R (d_i − d_{i−1}) − L_i
//!            t_i ≥ ±((d_i − a_i) − (d_{i−1} − a_{i−1}))
//! ```
//!
//! The bucket starts full (`b_0 ≤ σ − L_0` is the only bound on packet 0).
//! `b_i` may sit below the true token level (tokens thrown away), which never
//! helps, so the feasible departures are exactly the (σ, R)-conforming ones.
//! Minimising Σ|IPDV| is what RFC 3550's J estimates: J is an exponential
//! average of |IPDV|, so the mean of J over the run equals the mean |IPDV|
//! up to the last ~16 packets. ε breaks ties towards less delay (see
//! `DELAY_WEIGHT`).
//!
//! The solver is clarabel (pure Rust, interior point on a sparse KKT system;
//! the constraint matrix is banded, so a solve is linear in the packets:
//! ≈ 0.3 s for 20 s of the 2 Mbit/s video, 1.3 s for 60 s). It is fed times
//! in ms since the first arrival and tokens in ms of transmission at R (as
//! TBF counts them), so every coefficient is ±1 and the data O(1)–O(10⁵).

use crate::metrics::{self, Metrics};
use crate::model::{self, Departure, Model, Tbf};
use clarabel::algebra::CscMatrix;
use clarabel::solver::{
    DefaultSettingsBuilder, DefaultSolver, IPSolver, NonnegativeConeT, SolverStatus,
};
use serde::Serialize;
use smooth_core::time::{credit_bytes, NSEC_PER_MSEC};
use smooth_core::Config;
use std::time::Instant;

const NS_PER_MS: f64 = NSEC_PER_MSEC as f64;

/// ε, the weight of Σ d_i beside Σ t_i (both in ms). Jitter is blind to a
/// common delay offset, so the jitter-optimal schedules form a face and an
/// interior point method lands in its middle (e.g. every packet held 50 ms
/// for nothing). A tiny delay term steers it to the low-delay end of that
/// face (to the solver's tolerance). Its price in jitter is bounded:
/// comparing objectives at both optima, Σ|IPDV| rises by at most
/// `DELAY_WEIGHT · n · max_delay`, i.e. the mean |IPDV| by at most
/// 1e-7 · max_delay (20 ns at 200 ms).
const DELAY_WEIGHT: f64 = 1e-7;

/// Departures of `trace` (sorted `(arrival ns, bytes)`) that minimise the
/// sum of |IPDV| subject to FIFO order, delay ≤ `max_delay` ns and
/// conformance to a token bucket of `sigma` bytes filled at `rate` bytes/s
/// (full at the start). The LP's departures are rounded to ns and passed
/// through the exact greedy bucket, so the result is FIFO and conforms
/// exactly (`metrics::sigma_sup ≤ sigma`); the LP keeps 1 µs of tokens in
/// hand so that pass normally moves nothing and delay ≤ `max_delay` holds
/// too (at worst exceeded by the ns it moved). An infeasible problem (a
/// packet longer than the bucket, or a ceiling shorter than the delay the
/// earliest conforming schedule needs) is an error naming the cause.
pub fn solve(
    trace: &[(u64, u32)],
    rate: u64,
    sigma: u64,
    max_delay: u64,
) -> Result<Vec<Departure>, String> {
    check(trace, rate, sigma, max_delay)?;
    let n = trace.len();
    if n <= 1 {
        // One packet: it fits the full bucket and leaves at once, no IPDV.
        return Ok(trace
            .iter()
            .map(|&(a, len)| Departure {
                arrival: a,
                depart: a,
                len,
            })
            .collect());
    }
    let t0 = trace[0].0;
    let a: Vec<f64> = trace
        .iter()
        .map(|p| (p.0 - t0) as f64 / NS_PER_MS)
        .collect();
    // Tokens in ms of transmission at the rate (as TBF keeps them), so the
    // bucket rows have unit coefficients at any rate.
    let ms_per_byte = 1e3 / rate as f64;
    let l: Vec<f64> = trace.iter().map(|p| f64::from(p.1) * ms_per_byte).collect();
    let bucket = sigma as f64 * ms_per_byte;
    let m = max_delay as f64 / NS_PER_MS;
    // A hair of bucket held back (1 µs of tokens, less if the bucket is
    // barely a packet) absorbs the ns rounding and the solver's tolerance,
    // so the exact repair below normally moves nothing. Should the hair
    // itself make the problem infeasible (a ceiling the earliest schedule
    // just meets), solve without it.
    let lmax = trace.iter().map(|p| p.1).max().unwrap_or(0);
    let hair = (1e-3f64).min((sigma - u64::from(lmax)) as f64 * ms_per_byte / 2.0);
    let x = match lp(&a, &l, bucket - hair, m) {
        Err(SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible)
            if hair > 0.0 =>
        {
            lp(&a, &l, bucket, m)
        }
        x => x,
    };
    let x = match x {
        Ok(x) => x,
        Err(SolverStatus::PrimalInfeasible | SolverStatus::AlmostPrimalInfeasible) => {
            return Err(format!(
                "optimum: infeasible: no FIFO schedule within max_delay {max_delay} ns \
                 conforms to a {sigma}-byte bucket at {rate} B/s"
            ))
        }
        Err(other) => {
            return Err(format!(
                "optimum: the LP solver stopped without a solution ({other:?})"
            ))
        }
    };

    // Round to ns, then let the exact greedy bucket repair what rounding and
    // the solver's tolerance (relative 1e-8) may break: order and
    // conformance. It only ever delays, and only by the ns of a violation.
    let ready: Vec<(u64, u32)> = trace
        .iter()
        .zip(&x)
        .map(|(&(arrival, len), &x)| {
            let x = (x * NS_PER_MS).round().max(0.0) as u64 + t0;
            (x.clamp(arrival, arrival + max_delay), len)
        })
        .collect();
    let departs = earliest(&ready, rate, sigma);
    let out = trace
        .iter()
        .zip(departs)
        .map(|(&(arrival, len), depart)| Departure {
            arrival,
            depart,
            len,
        })
        .collect();
    Ok(out)
}

/// Solves the LP for arrivals `a` (ms), lengths `l` and bucket `s` (ms of
/// tokens), ceiling `m` (ms); returns the departures (ms) or why not.
fn lp(a: &[f64], l: &[f64], s: f64, m: f64) -> Result<Vec<f64>, SolverStatus> {
    let n = a.len();
    // Variables: d_0..d_{n−1}, then b_0..b_{n−1}, then t_1..t_{n−1}.
    let d = |i: usize| i;
    let b = |i: usize| n + i;
    let t = |i: usize| 2 * n + i - 1;
    let nvar = 3 * n - 1;
    // Rows of A x ≤ rhs, as triplets.
    let (mut ri, mut ci, mut vi, mut rhs) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut row = |entries: &[(usize, f64)], bound: f64| {
        let k = rhs.len();
        for &(c, v) in entries {
            ri.push(k);
            ci.push(c);
            vi.push(v);
        }
        rhs.push(bound);
    };
    for i in 0..n {
        row(&[(d(i), -1.0)], -a[i]);
        row(&[(d(i), 1.0)], a[i] + m);
        row(&[(b(i), -1.0)], 0.0);
        row(&[(b(i), 1.0)], s - l[i]);
        if i == 0 {
            continue;
        }
        let gap = a[i] - a[i - 1];
        row(&[(d(i - 1), 1.0), (d(i), -1.0)], 0.0);
        row(
            &[(b(i), 1.0), (b(i - 1), -1.0), (d(i), -1.0), (d(i - 1), 1.0)],
            -l[i],
        );
        row(&[(d(i), 1.0), (d(i - 1), -1.0), (t(i), -1.0)], gap);
        row(&[(d(i), -1.0), (d(i - 1), 1.0), (t(i), -1.0)], -gap);
    }
    let nrow = rhs.len();
    let amat = CscMatrix::new_from_triplets(nrow, nvar, ri, ci, vi);
    let p = CscMatrix::zeros((nvar, nvar));
    let mut q = vec![0.0; nvar];
    q[..n].fill(DELAY_WEIGHT);
    q[2 * n..].fill(1.0);
    let settings = DefaultSettingsBuilder::default()
        .verbose(false)
        .max_iter(500)
        .build()
        .expect("valid settings");
    let cones = [NonnegativeConeT(nrow)];
    let mut solver = DefaultSolver::new(&p, &q, &amat, &rhs, &cones, settings)
        .expect("dimensions agree by construction");
    solver.solve();
    match solver.solution.status {
        SolverStatus::Solved | SolverStatus::AlmostSolved => Ok(solver.solution.x[..n].to_vec()),
        status => Err(status),
    }
}

/// One σ of `smooth-sim optimum`: the optimum's metrics and, for scale,
/// TBF's with the same bucket on the same trace.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// Bucket depth, bytes.
    pub sigma: u64,
    /// The delay ceiling the optimum was solved with, ns.
    pub ceiling: u64,
    /// Wall-clock time of [`solve`], s (the only non-deterministic number).
    pub solve_seconds: f64,
    /// The optimum's departures, measured like a shaper's.
    pub metrics: Metrics,
    /// TBF with burst σ and `limit = σ + rate × ceiling` (tc's latency).
    pub tbf: Metrics,
}

/// Solves `trace` at `sigma` — within `max_delay`, or the
/// [`equal_delay_ceiling`] where it is `None` — and measures the result
/// (rates from `warmup` to `end`) beside TBF's.
pub fn point(
    trace: &[(u64, u32)],
    rate: u64,
    sigma: u64,
    max_delay: Option<u64>,
    warmup: u64,
    end: u64,
) -> Result<Point, String> {
    let ceiling = match max_delay {
        Some(d) => d,
        None => equal_delay_ceiling(trace, rate, sigma)?,
    };
    let started = Instant::now();
    let deps = solve(trace, rate, sigma, ceiling)?;
    let solve_seconds = started.elapsed().as_secs_f64();
    let offered = trace.len() as u64;
    let burst = u32::try_from(sigma).map_err(|_| format!("optimum: σ {sigma} bytes too large"))?;
    let mut tbf = Tbf::new(rate, burst, sigma + credit_bytes(ceiling, rate), 0);
    let tbf_deps = model::replay(&mut tbf, trace);
    Ok(Point {
        sigma,
        ceiling,
        solve_seconds,
        metrics: metrics::measure(&deps, offered, 0, rate, warmup, end),
        tbf: metrics::measure(&tbf_deps, offered, tbf.drops(), rate, warmup, end),
    })
}

/// How much longer than the least possible worst wait the equal-delay
/// optimum may hold a packet: smooth's default window, the band by which
/// smooth's own largest delay may exceed TBF's at the same σ.
pub const DELAY_SLACK: u64 = Config::DEFAULT.window;

/// The delay ceiling at which the optimum is compared with online shapers:
/// the longest wait of the earliest schedule conforming to (σ, rate) — a
/// token bucket whose queue never drops, which delays every packet least
/// among all such FIFO schedules — plus [`DELAY_SLACK`].
///
/// A longer ceiling lets the optimum buy smoothness with delay no token
/// bucket imposes: it can raise the delay at each burst the bucket cannot
/// carry and keep it there, so that later bursts fit without a change. Its
/// J then shrinks as the trace grows while its delay stays at the worst
/// seen — a schedule no operator would run, and not the shape smooth
/// follows (the delay slides back down once the bucket can carry the
/// stream again).
pub fn equal_delay_ceiling(trace: &[(u64, u32)], rate: u64, sigma: u64) -> Result<u64, String> {
    check_bucket(trace, rate, sigma)?;
    let worst = trace
        .iter()
        .zip(earliest(trace, rate, sigma))
        .map(|(&(a, _), depart)| depart - a)
        .max()
        .unwrap_or(0);
    Ok(worst + DELAY_SLACK)
}

/// The problem's preconditions, each failure named: a sorted trace, a
/// positive rate, every packet fitting the bucket, and a ceiling the
/// earliest conforming schedule meets. That schedule (a greedy token bucket:
/// every packet leaves as soon as FIFO order and the tokens allow) delays
/// every packet least among all conforming FIFO schedules, so if it breaks
/// the ceiling, every schedule does.
fn check(trace: &[(u64, u32)], rate: u64, sigma: u64, max_delay: u64) -> Result<(), String> {
    check_bucket(trace, rate, sigma)?;
    for (i, (&(a, _), depart)) in trace.iter().zip(earliest(trace, rate, sigma)).enumerate() {
        if depart - a > max_delay {
            return Err(format!(
                "optimum: infeasible: max_delay {max_delay} ns is too small: even the earliest \
                 conforming schedule (a greedy {sigma}-byte token bucket) delays packet {i} \
                 (arrival {a} ns) by {} ns",
                depart - a
            ));
        }
    }
    Ok(())
}

/// [`check`]'s preconditions but the ceiling: what [`earliest`] needs.
fn check_bucket(trace: &[(u64, u32)], rate: u64, sigma: u64) -> Result<(), String> {
    if rate == 0 {
        return Err("optimum: rate must be positive".into());
    }
    if let Some(i) = trace.windows(2).position(|w| w[1].0 < w[0].0) {
        return Err(format!(
            "optimum: the trace is not sorted by arrival (packet {})",
            i + 1
        ));
    }
    if let Some((i, p)) = trace
        .iter()
        .enumerate()
        .find(|(_, p)| u64::from(p.1) > sigma)
    {
        return Err(format!(
            "optimum: infeasible: packet {i} ({} bytes) is larger than the bucket σ = {sigma} bytes",
            p.1
        ));
    }
    Ok(())
}

/// The greedy token bucket (σ = `sigma` bytes, full at the start, `rate`
/// bytes/s): each packet leaves as soon as it is ready, the one before it
/// has left and the tokens cover it. Exact integer arithmetic (tokens in
/// byte·ns/s). Every length ≤ `sigma`; `ready` need not be sorted (FIFO:
/// no packet leaves before the one in front of it).
fn earliest(ready: &[(u64, u32)], rate: u64, sigma: u64) -> Vec<u64> {
    const G: u128 = 1_000_000_000;
    let (rate, cap) = (u128::from(rate), u128::from(sigma) * G);
    let (mut tokens, mut last) = (cap, ready.first().map_or(0, |p| p.0));
    ready
        .iter()
        .map(|&(a, len)| {
            let now = a.max(last);
            tokens = (tokens + rate * u128::from(now - last)).min(cap);
            let need = u128::from(len) * G;
            let wait = need.saturating_sub(tokens).div_ceil(rate) as u64;
            tokens = (tokens + rate * u128::from(wait)).min(cap) - need;
            last = now + wait;
            last
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use smooth_core::time::NSEC_PER_MSEC as MS;

    #[test]
    fn a_burst_that_fits_the_bucket_leaves_untouched() {
        let trace = [(0, 1000), (0, 1000), (10 * MS, 1000), (40 * MS, 500)];
        let out = solve(&trace, 250_000, 3000, 100 * MS).unwrap();
        assert!(out.iter().all(|d| d.delay() < 1000), "{out:?}");
    }

    #[test]
    fn a_clump_larger_than_the_bucket_is_spread_evenly() {
        // Four 1000 B packets at 0, a one-packet bucket at 250 B/ms: the
        // bucket is empty after each packet, so consecutive departures are
        // ≥ 4 ms apart and every schedule's IPDVs sum to at least 12 ms.
        let trace = [(0, 1000); 4];
        let out = solve(&trace, 250_000, 1000, 100 * MS).unwrap();
        let total: u64 = out
            .windows(2)
            .map(|w| w[1].delay().abs_diff(w[0].delay()))
            .sum();
        assert!(total.abs_diff(12 * MS) < 1000, "{total} {out:?}");
        assert!(metrics::sigma_sup(&out, 250_000) <= 1001);
    }

    #[test]
    fn a_ceiling_the_earliest_schedule_just_meets_is_feasible() {
        // 1500 B bucket, four 1000 B packets at 0: the greedy bucket sends
        // them at 0, 2, 6, 10 ms; a 10 ms ceiling leaves no token to spare
        // (the hair of held-back tokens would make it infeasible).
        let trace = [(0, 1000); 4];
        let out = solve(&trace, 250_000, 1500, 10 * MS).unwrap();
        assert_eq!(out[3].depart, 10 * MS, "{out:?}");
        assert!(metrics::sigma_sup(&out, 250_000) <= 1500);
        // One packet, and none.
        let one = solve(&[(5, 100)], 250_000, 100, 0).unwrap();
        assert_eq!(one[0].depart, 5);
        assert!(solve(&[], 250_000, 100, 0).unwrap().is_empty());
    }

    #[test]
    fn infeasible_problems_are_named() {
        let e = solve(&[(0, 1500)], 250_000, 1000, MS).unwrap_err();
        assert!(e.contains("larger than the bucket"), "{e}");
        let e = solve(&[(0, 1000); 4], 250_000, 1000, 5 * MS).unwrap_err();
        assert!(e.contains("max_delay") && e.contains("packet 2"), "{e}");
        let e = solve(&[(5, 100), (1, 100)], 250_000, 1000, MS).unwrap_err();
        assert!(e.contains("not sorted"), "{e}");
    }

    #[test]
    fn the_equal_delay_ceiling_keeps_the_optimum_from_holding_the_delay_up() {
        // Two bursts of four 1000 B packets a second apart, a 2000 B bucket
        // at 250 B/ms: the greedy bucket holds each burst's last packet
        // 8 ms. With a long ceiling the optimum keeps the first burst's 8 ms
        // through the idle second and stacks the second burst on it (its
        // IPDVs cost less than falling back and climbing again); within
        // 8 ms + the slack it cannot: the delay falls between the bursts.
        let burst = |t: u64| [(t, 1000u32); 4];
        let trace: Vec<(u64, u32)> = burst(0).into_iter().chain(burst(1000 * MS)).collect();
        let ceiling = equal_delay_ceiling(&trace, 250_000, 2000).unwrap();
        assert_eq!(ceiling, 8 * MS + DELAY_SLACK);
        let worst = |out: &[Departure]| out.iter().map(Departure::delay).max().unwrap();
        let long = solve(&trace, 250_000, 2000, 200 * MS).unwrap();
        assert!(worst(&long) > ceiling, "{long:?}");
        let equal = solve(&trace, 250_000, 2000, ceiling).unwrap();
        assert!(worst(&equal) <= ceiling, "{equal:?}");
        assert!(equal[4].delay() < equal[3].delay(), "{equal:?}");
        assert!(equal_delay_ceiling(&[(0, 3000)], 250_000, 2000).is_err());
    }
}
