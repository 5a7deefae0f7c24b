//! What is measured on a shaper's departures. Definitions (also in
//! `docs/simulation.md`):
//!
//! * delay: departure − arrival at the shaper, per delivered packet;
//!   percentiles are nearest-rank.
//! * RFC 3550 A.8 jitter: over consecutive delivered packets,
//!   `D = delay_j − delay_i`, `J += (|D| − J) / 16`, starting at 0. Both the
//!   mean of J over all packets and the final J are reported.
//! * IPDV (RFC 3393): `delay_j − delay_i` of consecutive delivered packets;
//!   the p99 of its absolute value.
//! * rate: bytes departed in consecutive windows of 1 s and 10 s after the
//!   warm-up (whole windows before the end of the run only), over the
//!   configured rate; min and max over windows.
//! * burst allowance σ(τ) = max over closed windows `[t, t + τ]` of the
//!   bytes departed in them, minus `rate × τ` (the smallest σ of a (σ, ρ)
//!   envelope at the configured rate). Exact: the maximum is attained by a
//!   window starting at a departure, found with two pointers.
//! * σ (`sigma_sup`): the depth of the smallest token bucket at the
//!   configured rate, full at the start, that the departures conform to —
//!   σ(τ) maximised over every τ, the one number that says what burst the
//!   output really carries.

use crate::model::Departure;
use serde::{Deserialize, Serialize};
use smooth_core::time::{credit_bytes, NSEC_PER_MSEC, NSEC_PER_SEC};

/// Delay percentiles (ns).
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize, PartialEq)]
pub struct DelayStats {
    /// Smallest delay.
    pub min: u64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Largest delay.
    pub max: u64,
    /// max − min.
    pub spread: u64,
}

/// Min and max of delivered/configured rate over windows.
#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq)]
pub struct RateRange {
    /// Window length, ns.
    pub window: u64,
    /// Whole windows measured.
    pub windows: usize,
    /// Smallest ratio.
    pub min: f64,
    /// Largest ratio.
    pub max: f64,
}

/// Everything measured for one (shaper, workload).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
pub struct Metrics {
    /// Packets offered.
    pub offered: u64,
    /// Packets delivered.
    pub packets: u64,
    /// Packets dropped.
    pub drops: u64,
    /// Bytes delivered.
    pub bytes: u64,
    /// Imposed delay.
    pub delay: DelayStats,
    /// Mean of the RFC 3550 jitter estimate J over the run, ns.
    pub jitter_mean: f64,
    /// J after the last packet, ns.
    pub jitter_final: f64,
    /// p99 of |IPDV|, ns.
    pub ipdv_p99: u64,
    /// Delivered/configured rate over 1 s windows (None if none fits).
    pub rate_1s: Option<RateRange>,
    /// Over 10 s windows.
    pub rate_10s: Option<RateRange>,
    /// σ(10 ms), bytes.
    pub sigma_10ms: i64,
    /// σ(100 ms), bytes.
    pub sigma_100ms: i64,
    /// σ(1 s), bytes.
    pub sigma_1s: i64,
    /// σ over all windows ([`sigma_sup`]), bytes.
    #[serde(rename = "sigma")]
    pub sigma_sup: i64,
}

/// Nearest-rank percentile `q` (0..=1) of sorted `v`.
pub fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Delay statistics of `deps`.
pub fn delays(deps: &[Departure]) -> DelayStats {
    let mut d: Vec<u64> = deps.iter().map(Departure::delay).collect();
    d.sort_unstable();
    if d.is_empty() {
        return DelayStats::default();
    }
    DelayStats {
        min: d[0],
        p50: percentile(&d, 0.5),
        p99: percentile(&d, 0.99),
        p999: percentile(&d, 0.999),
        max: d[d.len() - 1],
        spread: d[d.len() - 1] - d[0],
    }
}

/// RFC 3550 A.8 jitter over consecutive departures (FIFO: departure order
/// is send order): returns (mean of J over packets 2.., final J), ns.
pub fn rfc3550_jitter(deps: &[Departure]) -> (f64, f64) {
    let mut j = 0.0f64;
    let mut sum = 0.0;
    for w in deps.windows(2) {
        let d = w[1].delay() as f64 - w[0].delay() as f64;
        j += (d.abs() - j) / 16.0;
        sum += j;
    }
    let n = deps.len().saturating_sub(1);
    (if n == 0 { 0.0 } else { sum / n as f64 }, j)
}

/// p99 of |IPDV| (RFC 3393) over consecutive departures.
pub fn ipdv_p99(deps: &[Departure]) -> u64 {
    let mut v: Vec<u64> = deps
        .windows(2)
        .map(|w| w[1].delay().abs_diff(w[0].delay()))
        .collect();
    v.sort_unstable();
    percentile(&v, 0.99)
}

/// σ(τ): the largest number of bytes departing in any closed window of
/// length `tau` minus what `rate` allocates in `tau`. `deps` sorted by
/// departure time.
pub fn sigma(deps: &[Departure], rate: u64, tau: u64) -> i64 {
    let mut best = 0u64;
    let mut sum = 0u64;
    let mut j = 0;
    for i in 0..deps.len() {
        if j < i {
            j = i;
            sum = 0;
        }
        while j < deps.len() && deps[j].depart <= deps[i].depart + tau {
            sum += u64::from(deps[j].len);
            j += 1;
        }
        best = best.max(sum);
        sum -= u64::from(deps[i].len);
    }
    best as i64 - credit_bytes(tau, rate) as i64
}

/// The token-bucket depth the departures need at `rate`: the maximum over
/// packets `i ≤ j` (in departure order) of `Σ_{k=i..j} len_k − rate·(d_j −
/// d_i)`, in bytes rounded up. A bucket of this depth, full at the start,
/// passes the departures unchanged; σ(τ) for every τ is at most this. Never
/// below the largest packet (the window `i = j`). With the prefix sums
/// `S_j`, the term is `(S_j − R d_j) − (S_{i−1} − R d_i)`, so one pass with
/// a running minimum of the second part finds it in O(n); exact integer
/// arithmetic in byte·ns/s. `deps` in FIFO (departure) order.
pub fn sigma_sup(deps: &[Departure], rate: u64) -> i64 {
    const G: i128 = NSEC_PER_SEC as i128;
    let rate = i128::from(rate);
    let mut before = 0i128; // S_{i−1}·G
    let mut min_start = i128::MAX; // min over i ≤ j of S_{i−1}·G − R·d_i
    let mut best = 0i128;
    for d in deps {
        let at = rate * i128::from(d.depart);
        min_start = min_start.min(before - at);
        before += i128::from(d.len) * G;
        best = best.max(before - at - min_start);
    }
    // Round up: the bucket must hold the whole excess.
    ((best + G - 1) / G) as i64
}

/// Delivered/configured rate over consecutive `window`s in `[from, to)`.
pub fn rate_range(
    deps: &[Departure],
    rate: u64,
    window: u64,
    from: u64,
    to: u64,
) -> Option<RateRange> {
    let n = (to.saturating_sub(from) / window) as usize;
    if n == 0 {
        return None;
    }
    let mut bytes = vec![0u64; n];
    for d in deps {
        if d.depart >= from {
            let k = ((d.depart - from) / window) as usize;
            if k < n {
                bytes[k] += u64::from(d.len);
            }
        }
    }
    let allowed = rate as f64 * window as f64 / NSEC_PER_SEC as f64;
    let ratios = bytes.iter().map(|&b| b as f64 / allowed);
    Some(RateRange {
        window,
        windows: n,
        min: ratios.clone().fold(f64::INFINITY, f64::min),
        max: ratios.fold(0.0, f64::max),
    })
}

/// All metrics of one run. `offered` packets were offered, `drops` dropped;
/// rates are measured from `warmup` to `end` (the end of offered traffic).
pub fn measure(
    deps: &[Departure],
    offered: u64,
    drops: u64,
    rate: u64,
    warmup: u64,
    end: u64,
) -> Metrics {
    let (jitter_mean, jitter_final) = rfc3550_jitter(deps);
    Metrics {
        offered,
        packets: deps.len() as u64,
        drops,
        bytes: deps.iter().map(|d| u64::from(d.len)).sum(),
        delay: delays(deps),
        jitter_mean,
        jitter_final,
        ipdv_p99: ipdv_p99(deps),
        rate_1s: rate_range(deps, rate, NSEC_PER_SEC, warmup, end),
        rate_10s: rate_range(deps, rate, 10 * NSEC_PER_SEC, warmup, end),
        sigma_10ms: sigma(deps, rate, 10 * NSEC_PER_MSEC),
        sigma_100ms: sigma(deps, rate, 100 * NSEC_PER_MSEC),
        sigma_1s: sigma(deps, rate, NSEC_PER_SEC),
        sigma_sup: sigma_sup(deps, rate),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(arrival: u64, depart: u64, len: u32) -> Departure {
        Departure {
            arrival,
            depart,
            len,
        }
    }

    #[test]
    fn sigma_on_a_hand_made_trace() {
        // 1000 B/s; tau 1 s allocates 1000 B.
        // Departures at 0 s (500 B), 0.5 s (1000 B), 1 s (1500 B), 3 s (100 B).
        let s = NSEC_PER_SEC;
        let t = [
            dep(0, 0, 500),
            dep(0, s / 2, 1000),
            dep(0, s, 1500),
            dep(0, 3 * s, 100),
        ];
        // [0, 1 s] holds 3000 B (closed window): σ = 2000.
        assert_eq!(sigma(&t, 1000, s), 2000);
        // τ = 0.4 s: the largest single instant is 1500 B; allocation 400.
        assert_eq!(sigma(&t, 1000, 4 * s / 10), 1100);
        // τ = 10 s: everything (3100 B) minus 10000: negative.
        assert_eq!(sigma(&t, 1000, 10 * s), -6900);
    }

    /// The definition, O(n²).
    fn sigma_sup_brute(deps: &[Departure], rate: u64) -> i64 {
        let g = NSEC_PER_SEC as i128;
        let mut best = 0i128;
        for i in 0..deps.len() {
            let mut bytes = 0i128;
            for j in i..deps.len() {
                bytes += i128::from(deps[j].len);
                let span = i128::from(deps[j].depart - deps[i].depart);
                best = best.max(bytes * g - i128::from(rate) * span);
            }
        }
        ((best + g - 1) / g) as i64
    }

    #[test]
    fn sigma_sup_on_hand_made_traces() {
        let ms = NSEC_PER_MSEC;
        assert_eq!(sigma_sup(&[], 250_000), 0);
        assert_eq!(sigma_sup(&[dep(0, 7, 1234)], 250_000), 1234);
        // A back-to-back clump needs all of it.
        let clump: Vec<_> = (0..5).map(|_| dep(0, 3 * ms, 1400)).collect();
        assert_eq!(sigma_sup(&clump, 250_000), 7000);
        // 1000 B every 4 ms is exactly 250 kB/s: one packet's worth.
        let paced: Vec<_> = (0..100).map(|i| dep(0, i * 4 * ms, 1000)).collect();
        assert_eq!(sigma_sup(&paced, 250_000), 1000);
        // A clump after idle time: the idle credit does not count (the
        // bucket is capped), so it is the clump again.
        let mut t = paced.clone();
        t.extend((0..3).map(|_| dep(0, 2000 * ms, 1000)));
        assert_eq!(sigma_sup(&t, 250_000), 3000);
        // Faster than the rate for a while: 1000 B every 2 ms for 10
        // packets carries 10000 − 250·18 = 5500 B above the rate.
        let fast: Vec<_> = (0..10).map(|i| dep(0, i * 2 * ms, 1000)).collect();
        assert_eq!(sigma_sup(&fast, 250_000), 5500);
        // σ(τ) never exceeds it.
        for tau in [ms, 10 * ms, 100 * ms] {
            assert!(sigma(&t, 250_000, tau) <= sigma_sup(&t, 250_000));
        }
    }

    #[test]
    fn sigma_sup_matches_brute_force_on_random_departures() {
        use rand::rngs::StdRng;
        use rand::{RngExt, SeedableRng};
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..300 {
            let n = rng.random_range(1..60);
            let rate = rng.random_range(1_000..10_000_000u64);
            let mut t = 0u64;
            let deps: Vec<_> = (0..n)
                .map(|_| {
                    // Often simultaneous, sometimes long gaps.
                    if rng.random_range(0..3) > 0 {
                        t += rng.random_range(0..5_000_000);
                    }
                    dep(0, t, rng.random_range(40..9000))
                })
                .collect();
            assert_eq!(
                sigma_sup(&deps, rate),
                sigma_sup_brute(&deps, rate),
                "{rate} {deps:?}"
            );
        }
    }

    #[test]
    fn rfc3550_on_a_hand_made_trace() {
        // Delays 0, 16, 16, 0 ns: D = 16, 0, -16.
        let t = [dep(0, 0, 1), dep(10, 26, 1), dep(20, 36, 1), dep(30, 30, 1)];
        let (mean, last) = rfc3550_jitter(&t);
        // J1 = 1, J2 = 1 - 1/16 = 0.9375, J3 = 0.9375 + (16 - 0.9375)/16.
        let j3 = 0.9375 + (16.0 - 0.9375) / 16.0;
        assert!((last - j3).abs() < 1e-12);
        assert!((mean - (1.0 + 0.9375 + j3) / 3.0).abs() < 1e-12);
        assert_eq!(ipdv_p99(&t), 16);
    }

    #[test]
    fn delay_percentiles_and_rates() {
        let t: Vec<_> = (0..1000u64)
            .map(|i| dep(i * 1000, i * 1000 + i, 1))
            .collect();
        let d = delays(&t);
        assert_eq!(
            (d.min, d.p50, d.p99, d.p999, d.max),
            (0, 499, 989, 998, 999)
        );
        // 250 B every ms at 250 kB/s: each 10 ms window holds exactly 2500 B.
        let t: Vec<_> = (0..100u64)
            .map(|i| dep(0, i * NSEC_PER_MSEC, 250))
            .collect();
        let r = rate_range(&t, 250_000, 10 * NSEC_PER_MSEC, 0, 100 * NSEC_PER_MSEC).unwrap();
        assert_eq!(r.windows, 10);
        assert!((r.min - 1.0).abs() < 1e-12 && (r.max - 1.0).abs() < 1e-12);
    }
}
