//! Jitter against burst allowance, on one trace: TBF over bucket depths,
//! netback over credit intervals, the pacer, smooth over the same bucket
//! depths (its `burst`), and the offline optimum at the σ smooth's output
//! measured, within the delay a token bucket of that σ needs plus smooth's
//! default window (`optimum::equal_delay_ceiling`). Every σ is measured on the output (`metrics::sigma_sup`: the
//! token-bucket depth the departures need, sup over all windows), so the
//! shapers are compared at equal burstiness, whatever their knob means.
//!
//! The bar (issue "smooth must actually defeat jitter"): at each σ, smooth's
//! mean RFC 3550 J ≤ 1.25 × the optimum's + 0.1 ms, and its largest delay ≤
//! TBF's at that σ + the window.

use crate::metrics::Metrics;
use crate::model::Departure;
use crate::optimum;
use crate::sim::{simulate, Offered, ShaperSpec};
use crate::workload::Trace;
use serde::Serialize;
use smooth_core::time::{credit_bytes, transmit_time, NSEC_PER_MSEC};
use smooth_core::Config;

/// One shaper setting's result.
#[derive(Clone, Debug, Serialize)]
pub struct Point {
    /// `tbf`, `netback`, `pacer`, `smooth` or `optimum`.
    pub family: &'static str,
    /// The shaper's label with its parameter.
    pub shaper: String,
    /// Mean RFC 3550 jitter over the run, ns.
    pub jitter_mean: f64,
    /// Delay p99, ns.
    pub delay_p99: u64,
    /// Largest delay, ns.
    pub delay_max: u64,
    /// The bucket depth the output needs, bytes (sup over all windows).
    pub sigma: i64,
    /// Dropped / offered packets.
    pub loss: f64,
}

impl Point {
    fn new(family: &'static str, shaper: String, m: &Metrics) -> Point {
        Point {
            family,
            shaper,
            jitter_mean: m.jitter_mean,
            delay_p99: m.delay.p99,
            delay_max: m.delay.max,
            sigma: m.sigma_sup,
            loss: m.drops as f64 / m.offered.max(1) as f64,
        }
    }
}

/// The bar at one σ.
#[derive(Clone, Debug, Serialize)]
pub struct Bar {
    /// smooth's configured bucket, bytes.
    pub bucket: u64,
    /// The σ smooth's output measured; the optimum and TBF are run at it.
    pub sigma: u64,
    /// smooth's mean J, ns.
    pub smooth_jitter: f64,
    /// The optimum's mean J at `sigma`, ns.
    pub optimum_jitter: f64,
    /// TBF's mean J with a bucket of `sigma`, ns.
    pub tbf_jitter: f64,
    /// smooth's largest delay, ns.
    pub smooth_delay_max: u64,
    /// TBF's largest delay at `sigma`, ns.
    pub tbf_delay_max: u64,
    /// J ≤ 1.25 × optimum + 0.1 ms.
    pub jitter_met: bool,
    /// Largest delay ≤ TBF's + window.
    pub delay_met: bool,
}

impl Bar {
    /// Both halves of the bar.
    pub fn met(&self) -> bool {
        self.jitter_met && self.delay_met
    }
}

/// Everything the sweep measured on one trace.
#[derive(Clone, Debug, Serialize)]
pub struct Sweep {
    /// Every shaper setting, the optimum included.
    pub points: Vec<Point>,
    /// The bar at each of smooth's σ.
    pub bars: Vec<Bar>,
}

/// Six bucket depths spread geometrically from the trace's largest packet
/// to the depth at which a token bucket at `rate` adds no delay at all (the
/// σ of the arrivals themselves: the largest frame, more or less); fewer
/// when the two are close (a VoIP stream has a single sensible depth).
pub fn sigmas(trace: &Trace, rate: u64) -> Vec<u64> {
    let largest = trace.iter().map(|p| u64::from(p.1)).max().unwrap_or(0);
    let arrivals: Vec<Departure> = trace
        .iter()
        .map(|&(t, len)| Departure {
            arrival: t,
            depart: t,
            len,
        })
        .collect();
    let top = (crate::metrics::sigma_sup(&arrivals, rate).max(0) as u64).max(largest);
    let mut out: Vec<u64> = (0..6)
        .map(|k| {
            let f = (top as f64 / largest.max(1) as f64).powf(f64::from(k) / 5.0);
            (largest as f64 * f).round() as u64
        })
        .collect();
    out.dedup();
    out
}

/// Runs the sweep on `trace` at `base.rate`, smooth with `base`'s window
/// and ceiling; TBF gets `limit = burst + rate × max_delay` (tc's `latency`
/// equal to smooth's ceiling), netback and the pacer `queue` packets.
pub fn run(trace: &Trace, base: Config, queue: usize, warmup: u64) -> Result<Sweep, String> {
    let rate = base.rate;
    let end = trace.last().map_or(0, |p| p.0 + 1);
    let offered = Offered::Open(trace.clone());
    let sim = |spec: &ShaperSpec| simulate(spec, &offered, end, warmup);
    let tbf = |sigma: u64| ShaperSpec::Tbf {
        rate,
        burst: sigma.min(u64::from(u32::MAX)) as u32,
        limit: sigma + credit_bytes(base.max_delay, rate),
    };
    let mut points = Vec::new();
    let mut bars = Vec::new();
    for bucket in sigmas(trace, rate) {
        let r = sim(&tbf(bucket));
        points.push(Point::new("tbf", r.shaper, &r.metrics));
    }
    for ms in [10u64, 20, 50, 100] {
        let r = sim(&ShaperSpec::Netback {
            rate,
            interval: ms * NSEC_PER_MSEC,
            limit: queue,
        });
        points.push(Point::new("netback", r.shaper, &r.metrics));
    }
    let r = sim(&ShaperSpec::Pacer { rate, limit: queue });
    points.push(Point::new("pacer", r.shaper, &r.metrics));
    for bucket in sigmas(trace, rate) {
        let cfg = Config {
            burst: transmit_time(bucket, rate),
            ..base
        }
        .validate()
        .map_err(|e| e.to_string())?;
        let s = sim(&ShaperSpec::Smooth(cfg));
        let sigma = s.metrics.sigma_sup.max(0) as u64;
        let t = sim(&tbf(sigma));
        // The optimum gets the packets smooth delivered: where the ceiling
        // made smooth drop (a bucket too small for the stream), the same
        // packets are dropped for it, and smooth's own schedule proves the
        // problem feasible.
        let delivered: Trace = s.departures.iter().map(|d| (d.arrival, d.len)).collect();
        let ceiling = optimum::equal_delay_ceiling(&delivered, rate, sigma)?;
        let opt_deps = optimum::solve(&delivered, rate, sigma, ceiling)?;
        let opt = crate::metrics::measure(&opt_deps, trace.len() as u64, 0, rate, warmup, end);
        let sj = s.metrics.jitter_mean;
        let oj = opt.jitter_mean;
        bars.push(Bar {
            bucket,
            sigma,
            smooth_jitter: sj,
            optimum_jitter: oj,
            tbf_jitter: t.metrics.jitter_mean,
            smooth_delay_max: s.metrics.delay.max,
            tbf_delay_max: t.metrics.delay.max,
            jitter_met: sj <= 1.25 * oj + 0.1 * NSEC_PER_MSEC as f64,
            delay_met: s.metrics.delay.max <= t.metrics.delay.max + base.window,
        });
        points.push(Point::new("smooth", s.shaper, &s.metrics));
        points.push(Point::new("optimum", format!("optimum σ={sigma}B"), &opt));
    }
    Ok(Sweep { points, bars })
}
