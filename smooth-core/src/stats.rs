//! Counters and the sojourn histogram the qdisc reports in its xstats.

use super::time::NSEC_PER_USEC;

/// Log2 histogram of measured sojourn times: bucket 0 holds sojourns under
/// 128 µs, bucket k < 15 those in [128·2^(k−1), 128·2^k) µs, bucket 15 the
/// rest (≥ ~2.1 s).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DelayHistogram {
    /// Packet counts per bucket.
    pub buckets: [u64; DelayHistogram::BUCKETS],
}

impl DelayHistogram {
    /// Number of buckets.
    pub const BUCKETS: usize = 16;
    /// Upper edge of bucket 0, µs.
    pub const FIRST_EDGE_US: u64 = 128;

    /// The bucket a sojourn of `ns` falls in.
    pub fn bucket(ns: u64) -> usize {
        let units = ns / NSEC_PER_USEC / Self::FIRST_EDGE_US;
        if units == 0 {
            return 0;
        }
        let k = (u64::BITS - units.leading_zeros()) as usize;
        k.min(Self::BUCKETS - 1)
    }

    /// Upper edge of bucket `k` in µs (`None` for the last, open bucket).
    #[cfg(not(MODULE))]
    pub fn upper_edge_us(k: usize) -> Option<u64> {
        (k + 1 < Self::BUCKETS).then(|| Self::FIRST_EDGE_US << k)
    }

    /// Counts one sojourn.
    pub fn record(&mut self, ns: u64) {
        let b = &mut self.buckets[Self::bucket(ns)];
        *b = b.saturating_add(1);
    }
}

/// Everything the shaper counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets admitted.
    pub packets: u64,
    /// Bytes admitted.
    pub bytes: u64,
    /// Dropped: the packet limit was reached.
    pub drops_limit: u64,
    /// Dropped: the byte limit was reached.
    pub drops_bytes: u64,
    /// Dropped: the packet's rate-conforming time lay beyond `max_delay`.
    pub drops_ceiling: u64,
    /// Dropped: a GSO packet larger than the bucket could not be segmented
    /// (the segmentation's allocation failed).
    pub drops_gso: u64,
    /// GSO packets larger than the bucket split into segments (each then
    /// admitted or dropped on its own).
    pub gso_segmented: u64,
    /// Admitted packets that had to wait (imposed delay > 0): tc's
    /// "overlimits".
    pub throttled: u64,
    /// Times the window rose: credit ran short and a packet had to leave
    /// above the window (consumed ahead of allocated).
    pub raised: u64,
    /// Times the window slid down: holding a packet at the window's floor
    /// would have let credit overflow (allocated ahead of consumed).
    pub lowered: u64,
    /// Smallest measured sojourn (enqueue to dequeue), ns; `u64::MAX` if
    /// none yet.
    pub sojourn_min: u64,
    /// Largest measured sojourn, ns.
    pub sojourn_max: u64,
    /// Measured sojourns.
    pub sojourn: DelayHistogram,
    /// Lateness: how long after its release time a packet actually left
    /// (timer slack, softirq and emulator delay; the algorithm adds none).
    pub lateness: DelayHistogram,
    /// Largest lateness, ns.
    pub lateness_max: u64,
}

impl Stats {
    /// Zeroed counters.
    pub fn new() -> Stats {
        Stats {
            sojourn_min: u64::MAX,
            ..Stats::default()
        }
    }

    /// All drops.
    #[cfg(not(MODULE))]
    pub fn drops(&self) -> u64 {
        self.drops_limit + self.drops_bytes + self.drops_ceiling + self.drops_gso
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets() {
        assert_eq!(DelayHistogram::bucket(0), 0);
        assert_eq!(DelayHistogram::bucket(127_999), 0);
        assert_eq!(DelayHistogram::bucket(128_000), 1);
        assert_eq!(DelayHistogram::bucket(255_999), 1);
        assert_eq!(DelayHistogram::bucket(256_000), 2);
        assert_eq!(DelayHistogram::bucket(3_000_000), 5); // [2048, 4096) µs
        assert_eq!(DelayHistogram::bucket(u64::MAX), 15);
        assert_eq!(DelayHistogram::upper_edge_us(5), Some(4096));
        assert_eq!(DelayHistogram::upper_edge_us(15), None);
        for k in 0..15 {
            let edge = DelayHistogram::upper_edge_us(k).unwrap() * 1000;
            assert_eq!(DelayHistogram::bucket(edge - 1), k);
            assert_eq!(DelayHistogram::bucket(edge), k + 1);
        }
    }
}
