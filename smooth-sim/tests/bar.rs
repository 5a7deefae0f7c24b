//! The jitter bar, asserted on the corpus (release build: `cargo test
//! --release -p smooth-sim`): on every video, VoIP and game trace, at each
//! bucket depth of the sweep (from the largest packet to the depth at which
//! a token bucket adds no delay), smooth's mean RFC 3550 J ≤ 1.25 × the
//! offline optimum's + 0.1 ms at the σ smooth's output measured, and its
//! largest delay ≤ TBF's at that σ + the window. Defaults otherwise
//! (window 3 ms, max_delay 200 ms, 2 Mbit/s), on 20 s and on 60 s of each
//! trace.

use smooth_core::time::NSEC_PER_SEC;
use smooth_core::Config;
use smooth_sim::corpus::{self, Kind};
use smooth_sim::sweep;

#[test]
fn smooth_is_near_the_optimum_on_every_stream() {
    let cfg = Config::DEFAULT;
    let mut report = String::new();
    let mut wrong = Vec::new();
    for name in corpus::names() {
        if !matches!(
            corpus::kind(name),
            Some(Kind::Video | Kind::Voip | Kind::Game)
        ) {
            continue;
        }
        for secs in [20, 60] {
            let trace = corpus::load(name, cfg.rate, secs * NSEC_PER_SEC, 1).unwrap();
            let s = sweep::run(&trace, cfg, 1000, NSEC_PER_SEC).unwrap();
            assert!(
                s.bars.len() >= 5 || matches!(corpus::kind(name), Some(Kind::Voip)),
                "{name}: only {} bucket depths",
                s.bars.len()
            );
            for b in &s.bars {
                report.push_str(&format!(
                "{name} {secs} s σ {}: J {:.3} ms, optimum {:.3} ms, d.max {:.1} ms vs tbf {:.1} ms: {}\n",
                b.sigma,
                b.smooth_jitter / 1e6,
                b.optimum_jitter / 1e6,
                b.smooth_delay_max as f64 / 1e6,
                b.tbf_delay_max as f64 / 1e6,
                if b.met() { "met" } else { "MISSED" }
            ));
                if !b.met() {
                    wrong.push(format!("{name} {secs} s σ {}", b.sigma));
                }
            }
        }
    }
    print!("{report}");
    assert!(wrong.is_empty(), "bar missed at {wrong:?}:\n{report}");
}
