//! The per-packet decision. A caller (the qdisc, the simulator) owns a FIFO
//! queue; for each arriving packet it asks [`Shaper::enqueue`] for a release
//! time (or a drop), stores it with the packet, releases packets in order
//! once their time has come, and reports each release to
//! [`Shaper::dequeued`].

use super::config::Config;
use super::stats::Stats;
use super::time::{credit_bytes, transmit_time, PacketTime};

/// What is queued in front of an arriving packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backlog {
    /// Packets queued.
    pub packets: u32,
    /// Bytes queued.
    pub bytes: u64,
}

/// Why a packet was dropped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropReason {
    /// The queue holds `limit` packets.
    Limit,
    /// The packet would take the queue over `limit_bytes`.
    Bytes,
    /// Its earliest conforming departure is more than `max_delay` away:
    /// sustained overload.
    Ceiling,
}

/// The verdict on an arriving packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Queue it; release it at time `at` (ns, same clock as `now`).
    Release {
        /// Release time.
        at: u64,
    },
    /// Drop it (already counted).
    Drop(DropReason),
}

/// The smooth window currently imposed, in ns of delay.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Lower edge (`dmin`): the delay the next packet gets unless the
    /// bucket forces more or credit would be wasted.
    pub min: u64,
    /// Upper edge (`dmax = dmin + width`).
    pub max: u64,
}

/// One shaped queue's algorithm state.
#[derive(Clone, Debug)]
pub struct Shaper {
    cfg: Config,
    /// A packet's time at `cfg.rate`.
    packet_time: PacketTime,
    /// When the token bucket is full again (GCRA's theoretical arrival
    /// time): at `t < tat` it holds `rate·(burst − (tat − t))` bytes of
    /// credit, from `tat` on the full `rate·burst`.
    tat: u64,
    /// Release time of the last admitted packet (releases stay in order).
    last_release: u64,
    /// The window's floor: the delay a packet is given when the bucket
    /// neither forces more nor would overflow before it leaves.
    floor: u64,
    stats: Stats,
}

impl Shaper {
    /// A shaper with a validated configuration and a full bucket at `now`.
    pub fn new(cfg: Config, now: u64) -> Shaper {
        Shaper {
            cfg,
            packet_time: PacketTime::new(cfg.rate),
            tat: now,
            last_release: now,
            floor: 0,
            stats: Stats::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Switches to a new validated configuration at `now`. Queued packets
    /// keep their release times; the credit owed is carried over in bytes
    /// (re-timed at the new rate) and the window's floor is kept, clamped
    /// below the new ceiling.
    pub fn change(&mut self, cfg: Config, now: u64) {
        if cfg.rate != self.cfg.rate && self.tat > now {
            let owed = credit_bytes(self.tat - now, self.cfg.rate);
            self.tat = now.saturating_add(transmit_time(owed, cfg.rate));
        }
        self.floor = self.floor.min(cfg.max_delay - cfg.window);
        self.cfg = cfg;
        self.packet_time = PacketTime::new(cfg.rate);
    }

    /// The current window.
    pub fn window(&self) -> Window {
        Window {
            min: self.floor,
            max: self.floor + self.cfg.window,
        }
    }

    /// How long after `now` the bucket is full again (0: full): the credit
    /// owed, as time at the rate.
    pub fn credit_owed(&self, now: u64) -> u64 {
        self.tat.saturating_sub(now)
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether a GSO packet of `len` bytes must be split before
    /// [`Shaper::enqueue`]: one larger than the bucket would overdraw it
    /// and the output would need a deeper bucket than `rate·burst` (the
    /// brief's 64 KB at 2 Mbit/s is 262 ms of credit), as in TBF.
    pub fn needs_segmentation(&self, len: u32) -> bool {
        self.packet_time.of(len) > self.cfg.burst
    }

    /// Counts the outcome of segmenting a GSO packet that
    /// [`Shaper::needs_segmentation`]: split (its segments then go through
    /// [`Shaper::enqueue`]) or not (the packet is dropped, `drops_gso`).
    pub fn segmented(&mut self, split: bool) {
        if split {
            self.stats.gso_segmented += 1;
        } else {
            self.stats.drops_gso += 1;
        }
    }

    /// Decides the fate of a `len`-byte packet arriving at `now` behind
    /// `backlog`.
    pub fn enqueue(&mut self, now: u64, len: u32, backlog: Backlog) -> Decision {
        if backlog.packets >= self.cfg.limit {
            self.stats.drops_limit += 1;
            return Decision::Drop(DropReason::Limit);
        }
        if self.cfg.limit_bytes != 0
            && backlog.bytes.saturating_add(len.into()) > u64::from(self.cfg.limit_bytes)
        {
            self.stats.drops_bytes += 1;
            return Decision::Drop(DropReason::Bytes);
        }
        let burst = self.cfg.burst;
        let cost = self.packet_time.of(len);
        let start = now.max(self.last_release);
        // Earliest departure with enough credit: the bucket holds `len`
        // bytes (a packet larger than the bucket waits for a full one).
        let conform = start.max(
            self.tat
                .saturating_add(cost.min(burst))
                .saturating_sub(burst),
        );
        if conform - now > self.cfg.max_delay {
            self.stats.drops_ceiling += 1;
            return Decision::Drop(DropReason::Ceiling);
        }
        // Latest departure that wastes no credit: the bucket is full.
        let full = start.max(self.tat);
        // The window's floor, unless the bucket forces the packet later or
        // holding it that long would let credit overflow (conform <= full).
        let at = now.saturating_add(self.floor).clamp(conform, full);
        let delay = at - now;
        let s = &mut self.stats;
        if delay < self.floor {
            // Allocated credit would go unused: the window slides down to
            // this packet, at the speed the spare rate allows.
            self.floor = delay;
            s.lowered += 1;
        } else if delay > self.floor + self.cfg.window {
            // Credit ran short: the window rises to the packet (its top
            // kept at the ceiling), and the rest of its burst follows at the
            // same delay.
            self.floor = delay.min(self.cfg.max_delay - self.cfg.window);
            s.raised += 1;
        }
        self.tat = self.tat.max(at).saturating_add(cost);
        self.last_release = at;
        s.packets += 1;
        s.bytes += u64::from(len);
        s.throttled += u64::from(at > now);
        Decision::Release { at }
    }

    /// Records the release at `now` of a packet admitted at `enqueued_at`
    /// with release time `release_at`.
    pub fn dequeued(&mut self, now: u64, enqueued_at: u64, release_at: u64) {
        let sojourn = now.saturating_sub(enqueued_at);
        let late = now.saturating_sub(release_at);
        let s = &mut self.stats;
        s.lateness.record(late);
        s.lateness_max = s.lateness_max.max(late);
        s.sojourn.record(sojourn);
        s.sojourn_min = s.sojourn_min.min(sojourn);
        s.sojourn_max = s.sojourn_max.max(sojourn);
    }

    /// The queue was purged at `now`: forget the credit its packets had
    /// reserved (the bucket starts full, as TBF's reset does) and the
    /// window's position.
    pub fn reset(&mut self, now: u64) {
        self.tat = now;
        self.last_release = now;
        self.floor = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NSEC_PER_MSEC;

    const MS: u64 = NSEC_PER_MSEC;
    /// 2 Mbit/s: 1500 B is 6 ms of credit; the default bucket (50 ms) holds
    /// 12 500 B.
    const CFG: Config = Config::DEFAULT;

    fn release(d: Decision) -> u64 {
        match d {
            Decision::Release { at } => at,
            Decision::Drop(r) => panic!("dropped: {r:?}"),
        }
    }

    fn send(s: &mut Shaper, now: u64, len: u32) -> u64 {
        release(s.enqueue(now, len, Backlog::default()))
    }

    #[test]
    fn a_burst_that_fits_the_bucket_leaves_at_once() {
        let mut s = Shaper::new(CFG, 1000 * MS);
        for _ in 0..8 {
            assert_eq!(send(&mut s, 1000 * MS, 1500), 1000 * MS);
        }
        assert_eq!(s.stats().throttled, 0);
        assert_eq!(s.window().min, 0);
    }

    #[test]
    fn the_excess_of_a_burst_waits_for_credit_and_the_window_rises() {
        let mut s = Shaper::new(CFG, 0);
        // 12 packets = 18 000 B: 8 fit (12 000 B), the 9th needs 1000 B
        // more (4 ms), then one per 6 ms.
        let t: Vec<u64> = (0..12).map(|_| send(&mut s, 0, 1500)).collect();
        assert_eq!(&t[..8], &[0; 8]);
        assert_eq!(&t[8..], &[4 * MS, 10 * MS, 16 * MS, 22 * MS]);
        assert_eq!(s.window().min, 22 * MS);
        assert!(s.stats().raised >= 1);
    }

    #[test]
    fn the_next_burst_leaves_as_one_clump_at_the_raised_delay() {
        let mut s = Shaper::new(CFG, 0);
        for _ in 0..12 {
            send(&mut s, 0, 1500);
        }
        let floor = s.window().min;
        assert_eq!(floor, 22 * MS);
        // At 40 ms + 22 ms the bucket holds 40 ms of credit (10 000 B): a
        // 3-packet burst arriving at 40 ms leaves together at the floor.
        let at: Vec<u64> = (0..3).map(|_| send(&mut s, 40 * MS, 1500)).collect();
        assert_eq!(at, [62 * MS; 3]);
        assert_eq!(s.window().min, floor);
    }

    #[test]
    fn the_window_slides_down_when_credit_would_overflow() {
        let mut s = Shaper::new(CFG, 0);
        for _ in 0..12 {
            send(&mut s, 0, 1500);
        }
        // The bucket is full again at 72 ms (18 000 B sent from 0 at
        // 250 kB/s, less the 50 ms it holds). A packet arriving at 70 ms
        // would be held to 70 ms + floor (92 ms): past that, so it leaves
        // at 72 ms and the window follows it down.
        let at = send(&mut s, 70 * MS, 1500);
        assert_eq!(at, 72 * MS);
        assert_eq!(s.window().min, 2 * MS);
        assert_eq!(s.stats().lowered, 1);
        // Idle long enough, the window is back at zero.
        assert_eq!(send(&mut s, 1000 * MS, 1500), 1000 * MS);
        assert_eq!(s.window().min, 0);
    }

    #[test]
    fn limits_and_ceiling_drop_and_count() {
        let cfg = Config {
            limit: 2,
            limit_bytes: 3000,
            max_delay: 100 * MS,
            ..CFG
        };
        let mut s = Shaper::new(cfg, 0);
        let full = Backlog {
            packets: 2,
            bytes: 0,
        };
        assert_eq!(s.enqueue(0, 100, full), Decision::Drop(DropReason::Limit));
        let bytes = Backlog {
            packets: 1,
            bytes: 2000,
        };
        assert_eq!(s.enqueue(0, 1001, bytes), Decision::Drop(DropReason::Bytes));
        // 8 packets fit the bucket; then one per 6 ms from 4 ms on: the
        // packet that would leave at 100 ms is the last one admitted.
        let mut dropped = 0;
        for _ in 0..30 {
            if let Decision::Drop(r) = s.enqueue(0, 1500, Backlog::default()) {
                assert_eq!(r, DropReason::Ceiling);
                dropped += 1;
            }
        }
        assert_eq!(dropped, 30 - 8 - 17);
        assert_eq!(s.stats().drops(), dropped + 2);
    }

    #[test]
    fn releases_stay_in_order() {
        let mut s = Shaper::new(CFG, 0);
        let mut last = 0;
        // 6x overload: some packets hit the ceiling, the rest stay in order.
        for i in 0..1000u64 {
            if let Decision::Release { at } = s.enqueue(i * MS, 1500, Backlog::default()) {
                assert!(at >= last);
                last = at;
            }
        }
        assert!(s.stats().drops_ceiling > 0);
    }

    #[test]
    fn a_rate_change_carries_the_credit_owed_in_bytes() {
        let mut s = Shaper::new(CFG, 0);
        for _ in 0..12 {
            send(&mut s, 0, 1500);
        }
        // At 22 ms the bucket is empty: 50 ms owed at 250 kB/s = 12 500 B;
        // at 500 kB/s that is 25 ms.
        assert_eq!(s.credit_owed(22 * MS), 50 * MS);
        s.change(Config::with_rate(500_000), 22 * MS);
        assert_eq!(s.credit_owed(22 * MS), 25 * MS);
    }

    #[test]
    fn gso_segmentation_threshold() {
        let s = Shaper::new(CFG, 0);
        assert!(!s.needs_segmentation(12_500));
        assert!(s.needs_segmentation(12_501));
        assert!(s.needs_segmentation(65536));
    }

    #[test]
    fn a_failed_segmentation_is_a_counted_drop() {
        let mut s = Shaper::new(CFG, 0);
        s.segmented(true);
        s.segmented(false);
        s.segmented(false);
        assert_eq!((s.stats().gso_segmented, s.stats().drops_gso), (1, 2));
        assert_eq!(s.stats().drops(), 2);
    }
}
