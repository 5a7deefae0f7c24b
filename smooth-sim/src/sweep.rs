//! The jitter-versus-burst sweep on the 2 Mbit/s VBR video: each baseline's
//! parameter is varied (TBF burst, netback interval), smooth is run with
//! several window widths, and each point reports jitter, delay p99,
//! σ(100 ms) and loss.

use crate::sim::{simulate, Offered, ShaperSpec};
use serde::Serialize;
use smooth_core::time::NSEC_PER_MSEC;
use smooth_core::Config;

/// One point of the sweep.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// `tbf`, `netback`, `pacer` or `smooth`.
    pub family: &'static str,
    /// The shaper's label with its parameter.
    pub shaper: String,
    /// Mean RFC 3550 jitter over the run, ns.
    pub jitter_mean: f64,
    /// Final RFC 3550 jitter, ns.
    pub jitter_final: f64,
    /// Delay p99, ns.
    pub delay_p99: u64,
    /// σ(100 ms), bytes.
    pub sigma_100ms: i64,
    /// Dropped / offered packets.
    pub loss: f64,
}

/// The sweep's shapers at `rate`; smooth uses `base` with each window,
/// TBF gets `limit = burst + rate × base.max_delay` (tc's `latency` equal
/// to smooth's ceiling), netback and the pacer `queue` packets.
pub fn points(base: Config, queue: usize) -> Vec<(&'static str, ShaperSpec)> {
    let rate = base.rate;
    let mut v = Vec::new();
    for burst in [1514u32, 3000, 6000, 12_000, 24_000, 40_000, 65_536] {
        let limit = u64::from(burst) + smooth_core::time::credit_bytes(base.max_delay, rate);
        v.push(("tbf", ShaperSpec::Tbf { rate, burst, limit }));
    }
    for ms in [10u64, 20, 30, 50, 75, 100] {
        v.push((
            "netback",
            ShaperSpec::Netback {
                rate,
                interval: ms * NSEC_PER_MSEC,
                limit: queue,
            },
        ));
    }
    v.push(("pacer", ShaperSpec::Pacer { rate, limit: queue }));
    // smooth's own curve: its burst allowance (how far ahead of the rate the
    // window may release) is the knob that trades σ for jitter, like TBF's
    // bucket; the window width sets the jitter within an interval.
    for burst_ms in [0u64, 5, 20, 60, 200] {
        for ms in [1u64, 3, 8] {
            let burst = (burst_ms * NSEC_PER_MSEC).min(base.max_delay);
            v.push((
                "smooth",
                ShaperSpec::Smooth(Config {
                    window: ms * NSEC_PER_MSEC,
                    burst,
                    ..base
                }),
            ));
        }
    }
    v
}

/// Runs every point on `offered`.
pub fn run(
    specs: &[(&'static str, ShaperSpec)],
    offered: &Offered,
    duration: u64,
    warmup: u64,
) -> Vec<Point> {
    specs
        .iter()
        .map(|(family, spec)| {
            let r = simulate(spec, offered, duration, warmup);
            let m = &r.metrics;
            Point {
                family,
                shaper: r.shaper,
                jitter_mean: m.jitter_mean,
                jitter_final: m.jitter_final,
                delay_p99: m.delay.p99,
                sigma_100ms: m.sigma_100ms,
                loss: m.drops as f64 / m.offered.max(1) as f64,
            }
        })
        .collect()
}
