//! The per-packet decision. A caller (the qdisc, the simulator) owns a FIFO
//! queue; for each arriving packet it asks [`Shaper::enqueue`] for a release
//! time (or a drop), stores it with the packet, releases packets in order
//! once their time has come, and reports each release to
//! [`Shaper::dequeued`].

use super::config::Config;
use super::stats::Stats;
use super::time::{credit_bytes_up, transmit_time, PacketTime};

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

/// How a [`Shaper::change`] moves the release times given before it: the
/// owner of the queue applies [`Retime::release`] to every packet still
/// queued.
#[must_use = "the queued packets' release times must be re-timed with it"]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retime {
    now: u64,
    from: u64,
    to: u64,
}

impl Retime {
    /// Whether no release time moves (the rate did not change): the queue
    /// need not be walked.
    pub fn is_identity(&self) -> bool {
        self.from == self.to
    }

    /// The new release time of a packet released at `at` under the old
    /// rate: the wait still ahead of it, as credit at the old rate (rounded
    /// up), taken at the new one (a packet already due keeps its time).
    /// Never earlier than the exact ratio, and non-decreasing in `at`, so
    /// the queue stays in order.
    pub fn release(&self, at: u64) -> u64 {
        if self.is_identity() || at <= self.now {
            return at;
        }
        let owed = credit_bytes_up(at - self.now, self.from);
        self.now.saturating_add(transmit_time(owed, self.to))
    }
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

    /// Switches to a new validated configuration at `now`. A new rate
    /// applies at once, to the packets already queued as to those still to
    /// come: each queued packet's wait still ahead is carried over in bytes
    /// and re-timed at the new rate (the caller re-times its queue with
    /// the returned [`Retime`]), so the output runs at the new rate from
    /// `now` on rather than keeping the old one until the queue has
    /// drained. The bucket keeps its content in bytes as of the last
    /// departure scheduled (or `now`), up to its new depth: a cut does not
    /// pause the output to pay back a debt deeper than the new bucket, and
    /// a raise does not let a burst through (the depth it gains starts
    /// empty). An overdrawn bucket (a packet larger than the old bucket
    /// took more than it held) keeps its debt below zero, no more and no
    /// less. The window's floor moves as far as the last packet's release
    /// did (clamped below the new ceiling), so the next packet gets the
    /// delay its predecessor now gets.
    pub fn change(&mut self, cfg: Config, now: u64) -> Retime {
        let old = self.cfg;
        let retime = Retime {
            now,
            from: old.rate,
            to: cfg.rate,
        };
        let last = retime.release(self.last_release);
        if (cfg.rate, cfg.burst) != (old.rate, old.burst) {
            let ahead = self.tat.saturating_sub(now.max(self.last_release));
            let owed = credit_bytes_up(ahead, old.rate);
            let (depth, new_depth) = (
                credit_bytes_up(old.burst, old.rate),
                credit_bytes_up(cfg.burst, cfg.rate),
            );
            // The bucket keeps its content, up to its new depth: what it
            // owes the new depth is `new_depth − content`.
            let owed = if ahead > old.burst {
                // Overdrawn (a packet larger than the bucket): the content
                // is the debt below zero, which carries over as it was.
                owed.saturating_sub(depth).saturating_add(new_depth)
            } else {
                new_depth.saturating_sub(depth.saturating_sub(owed))
            };
            self.tat = now.max(last).saturating_add(transmit_time(owed, cfg.rate));
        }
        self.floor = self
            .floor
            .saturating_add(last)
            .saturating_sub(self.last_release)
            .min(cfg.max_delay - cfg.window);
        self.last_release = last;
        self.cfg = cfg;
        self.packet_time = PacketTime::new(cfg.rate);
        retime
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
    const US: u64 = crate::time::NSEC_PER_USEC;
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
    fn a_change_keeps_the_buckets_content_in_bytes() {
        let owed_after = |at: u64, cfg: Config| {
            let mut s = Shaper::new(CFG, 0);
            for _ in 0..12 {
                send(&mut s, 0, 1500);
            }
            // The last of the twelve leaves at 22 ms with the bucket
            // empty: 50 ms at 250 kB/s (12 500 B) until it is full again.
            assert_eq!(s.credit_owed(22 * MS), 50 * MS);
            let _ = s.change(cfg, at);
            s.credit_owed(at)
        };
        // Empty, a 50 ms bucket at 500 kB/s (25 000 B) is 50 ms from full.
        assert_eq!(owed_after(22 * MS, Config::with_rate(500_000)), 50 * MS);
        // So is one at 125 kB/s (6250 B): it owes no more than it holds.
        assert_eq!(owed_after(22 * MS, Config::with_rate(125_000)), 50 * MS);
        // And a 10 ms bucket (2500 B) at the same rate.
        let small = Config {
            burst: 10 * MS,
            ..CFG
        };
        assert_eq!(owed_after(22 * MS, small), 10 * MS);
        // Half full at 47 ms (6250 B): 18 750 B short of 25 000 B.
        assert_eq!(owed_after(47 * MS, Config::with_rate(500_000)), 37_500 * US);
        // 6250 B fill the 2500 B bucket.
        assert_eq!(owed_after(47 * MS, small), 0);
    }

    #[test]
    fn an_overdrawn_bucket_keeps_its_debt_across_a_change() {
        // 9000 B through a 10 ms bucket (2500 B) at 250 kB/s: the packet
        // waits for a full bucket and overdraws it, so the next waits its
        // full 36 ms.
        let tiny = Config {
            burst: 10 * MS,
            ..CFG
        };
        let mut s = Shaper::new(tiny, 0);
        assert_eq!(send(&mut s, 0, 9000), 0);
        assert_eq!(s.credit_owed(0), 36 * MS);
        // A smaller bucket does not forgive the overdraft (6500 B), nor
        // charge the depth it lost: the debt, then the new 500 B.
        let _ = s.change(
            Config {
                burst: 2 * MS,
                ..tiny
            },
            0,
        );
        assert_eq!(s.credit_owed(0), 28 * MS);
    }

    #[test]
    fn a_change_owes_no_more_for_one_byte_of_overdraft() {
        // A 2500 B bucket at 250 kB/s emptied by 2500 B, or overdrawn by
        // 2501 B. Cut to a tenth of the rate, the bucket owes its new depth
        // (250 B) and that one byte, not the old depth again; raised
        // tenfold, the depth it gains starts empty whether or not it was
        // overdrawn (25 000 B owed, and the byte).
        let tiny = Config {
            burst: 10 * MS,
            ..CFG
        };
        for (rate, byte) in [(25_000, 40_000), (2_500_000, 400)] {
            for (len, owed) in [(2500, 10 * MS), (2501, 10 * MS + byte)] {
                let mut s = Shaper::new(tiny, 0);
                assert_eq!(send(&mut s, 0, len), 0);
                let _ = s.change(Config { rate, ..tiny }, 0);
                assert_eq!(s.credit_owed(0), owed, "{len} B, then {rate} B/s");
            }
        }
    }

    #[test]
    fn a_rate_change_retimes_the_queued_packets_at_the_new_rate() {
        let mut s = Shaper::new(CFG, 0);
        // Twelve packets at once: eight fit the bucket (12 500 B), the
        // other four leave 6 ms apart (1500 B at 250 kB/s), the first once
        // the bucket has the 1000 B it lacks, at 4 ms.
        let queued: Vec<u64> = (0..12).map(|_| send(&mut s, 0, 1500)).collect();
        assert_eq!(queued[8..], [4 * MS, 10 * MS, 16 * MS, 22 * MS]);
        // Doubling the rate at 5 ms halves every wait still ahead; what is
        // due keeps its time.
        let r = s.change(Config::with_rate(500_000), 5 * MS);
        let retimed: Vec<u64> = queued.iter().map(|&at| r.release(at)).collect();
        assert_eq!(retimed[..9], queued[..9]);
        assert_eq!(retimed[9..], [7500 * US, 10500 * US, 13500 * US]);
        // The window moved with the last packet (22 ms of delay, now
        // 13.5 ms): the next gets that delay too.
        assert_eq!(s.window().min, 13500 * US);
        assert_eq!(send(&mut s, 5 * MS, 1500), 18500 * US);
    }

    #[test]
    fn a_rate_cut_neither_pauses_nor_keeps_the_old_rate() {
        // (rate, its cut, gap between 1500 B arrivals): greedy at about
        // twice the rate, which fills the queue to the ceiling; then the
        // rate is cut. 333 333 B/s makes the bucket a fraction of a byte
        // (16 666.65 B), which must not read as overdrawn.
        for (rate, cut, gap) in [(250_000, 125_000, 3 * MS), (333_333, 111_111, 2 * MS)] {
            let cfg = Config::with_rate(rate);
            let mut s = Shaper::new(cfg, 0);
            let mut queue = std::collections::VecDeque::new();
            let mut now = 0;
            while now < 1000 * MS {
                if let Decision::Release { at } = s.enqueue(now, 1500, Backlog::default()) {
                    queue.push_back(at);
                }
                now += gap;
            }
            queue.retain(|&at| at > now);
            let r = s.change(Config::with_rate(cut), now);
            let mut releases: Vec<u64> = queue.iter().map(|&at| r.release(at)).collect();
            let end = now + 1000 * MS;
            while now < end {
                if let Decision::Release { at } = s.enqueue(now, 1500, Backlog::default()) {
                    releases.push(at);
                }
                now += gap;
            }
            // From the change on, packets leave one packet time at the
            // new rate apart (to the byte the carried credit is rounded
            // to), the re-timed queue and the new arrivals alike: no gap,
            // and none at the old rate's spacing.
            let (cost, byte) = (transmit_time(1500, cut), transmit_time(1, cut));
            let gaps: Vec<u64> = releases.windows(2).map(|w| w[1] - w[0]).collect();
            assert!(gaps.len() > 60);
            assert!(
                gaps.iter().all(|&g| g.abs_diff(cost) <= byte),
                "{rate} → {cut}: {gaps:?}"
            );
        }
    }

    #[test]
    fn retiming_keeps_the_order_and_what_is_due() {
        let r = Retime {
            now: 100,
            from: 1_000,
            to: 3_000,
        };
        assert_eq!(r.release(40), 40);
        assert_eq!(r.release(100), 100);
        let mut last = 0;
        for at in 100..100_000 {
            let t = r.release(at);
            assert!(t >= last && t >= 100, "{at}");
            last = t;
        }
        let same = Retime { to: 1_000, ..r };
        assert!(same.is_identity());
        assert_eq!(same.release(5_000), 5_000);
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
