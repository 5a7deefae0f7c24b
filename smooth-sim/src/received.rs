//! What the receiver of a replayed trace saw, measured against the trace's
//! own schedule (`smooth-sim replay-measure`; the Xen deployment scenario,
//! `cargo xtask xen --bench-deploy`, where sender and receiver are
//! different domains with different clocks).
//!
//! The trace's time of each packet plays the part of an RTP timestamp: a
//! packet's transit is its kernel receive time minus its scheduled time,
//! so the sender's own lateness (a guest waiting for its vCPU) counts as
//! much as the queueing on the way, as a receiver of the stream sees it.
//! The two clocks are not synchronised, so one-way delays are given above
//! the smallest transit of the run (the unknown offset and the path's fixed
//! latency cancel out); RFC 3550's J needs only transit differences and is
//! exact. The sender's own stamp (CLOCK_REALTIME just before `send`, same
//! offset) splits the delay into the sender's lateness and the path's.

use crate::metrics::{self, DelayStats, Metrics};
use crate::model::Departure;
use crate::replay::Received;
use crate::workload::Trace;
use serde::Serialize;
use smooth_core::time::NSEC_PER_SEC;

/// The receiver's view of one replay.
#[derive(Clone, Debug, Serialize)]
pub struct Measured {
    /// Datagrams the trace holds (what the sender was to send).
    pub offered: u64,
    /// Distinct datagrams received.
    pub received: u64,
    /// Offered but not received.
    pub lost: u64,
    /// Bit/s the trace offers: its bytes on the wire over its length.
    pub offered_bps: f64,
    /// Bit/s delivered: the bytes received over the same length.
    pub delivered_bps: f64,
    /// delivered / offered.
    pub rate_ratio: f64,
    /// Metrics of the departures, delays above the run's smallest transit
    /// (`jitter_mean`: RFC 3550 J, mean over the run).
    pub metrics: Metrics,
    /// Delay above the smallest: p90, ns (the rest are in `metrics.delay`).
    pub delay_p90: u64,
    /// The sender's lateness against the schedule (its stamp minus the
    /// scheduled time, above the smallest), ns.
    pub sender_late: DelayStats,
    /// Delay above the smallest at the 0th, 1st, …, 100th percentile, ns.
    pub delay_cdf: Vec<u64>,
}

/// Measures `packets` (as `replay::receive` returns them) against `trace`,
/// the trace the sender replayed, at the shaper's `rate` (bytes/s).
pub fn measure(trace: &Trace, packets: &[Received], rate: u64) -> Result<Measured, String> {
    let mut p: Vec<Received> = packets
        .iter()
        .copied()
        .filter(|r| (r.0 as usize) < trace.len())
        .collect();
    if p.is_empty() {
        return Err("replay-measure: no datagram of the trace was received".into());
    }
    // Send order; a duplicate counts once.
    p.sort_by_key(|r| r.0);
    p.dedup_by_key(|r| r.0);
    let sched = |r: &Received| trace[r.0 as usize].0 as i128;
    let transit = |r: &Received| r.2 as i128 - sched(r);
    let base = p.iter().map(transit).min().expect("not empty");
    let deps: Vec<Departure> = p
        .iter()
        .map(|r| Departure {
            arrival: sched(r) as u64,
            depart: (sched(r) + transit(r) - base) as u64,
            len: trace[r.0 as usize].1,
        })
        .collect();
    let late_base = p
        .iter()
        .map(|r| r.1 as i128 - sched(r))
        .min()
        .expect("not empty");
    let late: Vec<Departure> = p
        .iter()
        .map(|r| Departure {
            arrival: 0,
            depart: (r.1 as i128 - sched(r) - late_base) as u64,
            len: 0,
        })
        .collect();
    let span = trace.last().map_or(1, |t| t.0 + 1).max(1);
    let offered_bytes: u64 = trace.iter().map(|t| u64::from(t.1)).sum();
    let delivered_bytes: u64 = deps.iter().map(|d| u64::from(d.len)).sum();
    let bps = |bytes: u64| bytes as f64 * 8.0 * NSEC_PER_SEC as f64 / span as f64;
    let lost = trace.len() as u64 - deps.len() as u64;
    let metrics = metrics::measure(&deps, trace.len() as u64, lost, rate, 0, span);
    let mut delays: Vec<u64> = deps.iter().map(Departure::delay).collect();
    delays.sort_unstable();
    Ok(Measured {
        offered: trace.len() as u64,
        received: deps.len() as u64,
        lost,
        offered_bps: bps(offered_bytes),
        delivered_bps: bps(delivered_bytes),
        rate_ratio: delivered_bytes as f64 / offered_bytes.max(1) as f64,
        metrics,
        delay_p90: metrics::percentile(&delays, 0.9),
        sender_late: metrics::delays(&late),
        delay_cdf: (0..=100)
            .map(|i| metrics::percentile(&delays, f64::from(i) / 100.0))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    #[test]
    fn constant_offset_is_no_jitter_and_lateness_counts() {
        // Four packets every 10 ms; the receiver's clock 5 s ahead, a fixed
        // 2 ms path: no jitter, zero delays above the smallest.
        let trace: Trace = (0..4).map(|k| (k * 10 * MS, 1000)).collect();
        let off = 5_000 * MS;
        let rx: Vec<Received> = (0..4u32)
            .map(|k| {
                (
                    k,
                    u64::from(k) * 10 * MS,
                    off + u64::from(k) * 10 * MS + 2 * MS,
                    1000,
                )
            })
            .collect();
        let m = measure(&trace, &rx, 250_000).unwrap();
        assert_eq!((m.received, m.lost), (4, 0));
        assert_eq!(m.metrics.jitter_mean, 0.0);
        assert_eq!(m.metrics.delay.max, 0);
        assert!((m.rate_ratio - 1.0).abs() < 1e-9);
        // The third packet sent 8 ms late (the sender's vCPU waited): the
        // receiver sees it 8 ms late too, and the sender's lateness says so.
        let mut late = rx.clone();
        late[2].1 += 8 * MS;
        late[2].2 += 8 * MS;
        let m = measure(&trace, &late, 250_000).unwrap();
        assert_eq!(m.metrics.delay.max, 8 * MS);
        assert_eq!(m.sender_late.max, 8 * MS);
        assert!(m.metrics.jitter_mean > 0.0);
    }

    #[test]
    fn losses_lower_the_delivered_rate() {
        let trace: Trace = (0..10).map(|k| (k * MS, 500)).collect();
        let rx: Vec<Received> = (0..9u32)
            .map(|k| (k, u64::from(k) * MS, u64::from(k) * MS, 500))
            .collect();
        let m = measure(&trace, &rx, 250_000).unwrap();
        assert_eq!(m.lost, 1);
        assert!((m.rate_ratio - 0.9).abs() < 1e-9);
        assert!(measure(&trace, &[], 250_000).is_err());
    }
}
