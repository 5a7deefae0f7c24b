//! The per-packet decision. A caller (the qdisc, the simulator) owns a FIFO
//! queue; for each arriving packet it asks [`Shaper::enqueue`] for a release
//! time (or a drop), stores it with the packet, releases packets in order
//! once their time has come, and reports each release to
//! [`Shaper::dequeued`].

use super::config::Config;
use super::controller::{Controller, ControllerState};
use super::stats::Stats;
use super::time::transmit_time;

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
    /// Its rate-conforming time is more than `max_delay` away: sustained
    /// overload.
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
    /// Lower edge (`dmin`, the controller's position).
    pub min: u64,
    /// Upper edge (`dmax = dmin + width`).
    pub max: u64,
}

/// One shaped queue's algorithm state.
#[derive(Clone, Debug)]
pub struct Shaper {
    cfg: Config,
    /// Virtual clock: when the credit for the last admitted packet is paid.
    vc: u64,
    /// Release time of the last admitted packet (releases stay in order).
    last_release: u64,
    /// Until when the shaper counts as saturated (see [`Shaper::enqueue`]).
    saturated_until: u64,
    controller: Controller,
    stats: Stats,
}

impl Shaper {
    /// A shaper with a validated configuration, starting at `now`.
    pub fn new(cfg: Config, now: u64) -> Shaper {
        Shaper {
            cfg,
            vc: now,
            last_release: now,
            saturated_until: now,
            controller: Controller::new(&cfg, now),
            stats: Stats::new(),
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Switches to a new validated configuration. Queued packets keep their
    /// release times; the clock and the window carry over (the position is
    /// clamped into the new range).
    pub fn change(&mut self, cfg: Config, now: u64) {
        self.cfg = cfg;
        self.controller.reconfigure(&cfg, now);
    }

    /// The current window.
    pub fn window(&self) -> Window {
        let min = self.controller.position();
        Window {
            min,
            max: min + self.cfg.window,
        }
    }

    /// The controller's last update.
    pub fn controller(&self) -> &ControllerState {
        self.controller.state()
    }

    /// When the controller's next update is due.
    pub fn next_update(&self) -> u64 {
        self.controller.interval_end()
    }

    /// How far the virtual clock runs ahead of `now`: the time the rate
    /// still needs for what has been admitted.
    pub fn clock_ahead(&self, now: u64) -> u64 {
        self.vc.saturating_sub(now)
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Whether a GSO packet of `len` bytes must be split before
    /// [`Shaper::enqueue`]: a single packet whose transmit time at the rate
    /// exceeds the window width would push the next packets' conforming time
    /// past the window on its own (the brief's 64 KB at 2 Mbit/s is 262 ms).
    pub fn needs_segmentation(&self, len: u32) -> bool {
        transmit_time(len.into(), self.cfg.rate) > self.cfg.window
    }

    /// Decides the fate of a `len`-byte packet arriving at `now` behind
    /// `backlog`. Runs any controller update that is due first.
    pub fn enqueue(&mut self, now: u64, len: u32, backlog: Backlog) -> Decision {
        self.controller.tick(&self.cfg, now);
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
        let conform = self.vc.max(now);
        let pacer_delay = conform - now;
        // The largest delay this packet could be imposed is `p - burst`
        // (below, when that exceeds the window): beyond `max_delay`, drop.
        if pacer_delay > self.cfg.max_delay.saturating_add(self.cfg.burst) {
            self.stats.drops_ceiling += 1;
            self.saturated_until = now.saturating_add(self.saturation_memory());
            return Decision::Drop(DropReason::Ceiling);
        }
        self.vc = conform.saturating_add(transmit_time(len.into(), self.cfg.rate));

        // Inside the window when possible; never more than `burst` ahead of
        // the rate, so a sustained excess meets a real queue (TCP sees delay,
        // not only drops at the ceiling).
        //
        // A saturated shaper releases every packet as early as `burst`
        // allows, as a token bucket does: the offered load exceeds the rate,
        // so the backlog, not the window, sets the delay, and a packet held
        // at its credit time keeps the burst allowance unspent — credit a
        // sender that pauses (a TCP timeout) then loses for good. The
        // window is not used meanwhile and relaxes to zero (the controller
        // counts the bytes as consumed but sees no lead).
        let window = self.window();
        let saturated = now < self.saturated_until;
        let delay = if saturated {
            pacer_delay.saturating_sub(self.cfg.burst)
        } else {
            pacer_delay
                .clamp(window.min, window.max)
                .max(pacer_delay.saturating_sub(self.cfg.burst))
        };
        let at = now.saturating_add(delay).max(self.last_release);
        self.last_release = at;

        let lead = conform as i64 - at as i64;
        if saturated {
            self.controller.record_unled(len);
        } else {
            self.controller.record(len, lead);
        }
        let s = &mut self.stats;
        s.saturated += u64::from(saturated);
        s.packets += 1;
        s.bytes += u64::from(len);
        s.throttled += u64::from(at > now);
        s.early += u64::from(lead > 0);
        s.late += u64::from(lead < 0);
        s.beyond_window += u64::from(delay > window.max);
        Decision::Release { at }
    }

    /// How long a ceiling drop keeps the shaper saturated: as long as the
    /// controller remembers an idle spell ([`Controller::FORGET_AFTER`]
    /// intervals), which covers a TCP sender's loss recovery and timeout.
    fn saturation_memory(&self) -> u64 {
        self.cfg.interval.saturating_mul(Controller::FORGET_AFTER)
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
        self.controller.tick(&self.cfg, now);
    }

    /// The queue was purged at `now`: forget the credit its packets had
    /// reserved so the next packet is not paced behind packets that are gone.
    pub fn reset(&mut self, now: u64) {
        self.vc = now;
        self.last_release = now;
        self.saturated_until = now;
        self.controller = Controller::new(&self.cfg, now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NSEC_PER_MSEC;

    const MS: u64 = NSEC_PER_MSEC;

    fn release(d: Decision) -> u64 {
        match d {
            Decision::Release { at } => at,
            Decision::Drop(r) => panic!("dropped: {r:?}"),
        }
    }

    #[test]
    fn an_idle_shaper_sends_the_first_packet_at_once() {
        let mut s = Shaper::new(Config::DEFAULT, 1000 * MS);
        assert_eq!(
            release(s.enqueue(1000 * MS, 1500, Backlog::default())),
            1000 * MS
        );
    }

    #[test]
    fn a_burst_is_spread_inside_the_window() {
        // 2 Mbit/s: 1500 B = 6 ms of credit; window [0, 3 ms].
        let mut s = Shaper::new(Config::DEFAULT, 0);
        let t: Vec<u64> = (0..4)
            .map(|i| {
                release(s.enqueue(
                    0,
                    1500,
                    Backlog {
                        packets: i,
                        bytes: 0,
                    },
                ))
            })
            .collect();
        assert_eq!(t, [0, 3 * MS, 3 * MS, 3 * MS]);
        assert_eq!(s.stats().early, 3);
    }

    #[test]
    fn limits_and_ceiling_drop_and_count() {
        let cfg = Config {
            limit: 2,
            limit_bytes: 3000,
            max_delay: 100 * MS,
            ..Config::DEFAULT
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
        // 100 ms ceiling + 20 ms burst at 6 ms a packet: the 22nd packet
        // conforms at 126 ms, beyond 120 ms.
        let mut dropped = 0;
        for _ in 0..25 {
            if let Decision::Drop(r) = s.enqueue(0, 1500, Backlog::default()) {
                assert_eq!(r, DropReason::Ceiling);
                dropped += 1;
            }
        }
        assert_eq!(dropped, 4);
        assert_eq!(s.stats().drops(), 6);
    }

    #[test]
    fn releases_stay_in_order() {
        let mut s = Shaper::new(Config::DEFAULT, 0);
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
    fn a_ceiling_drop_saturates_the_shaper_for_the_controllers_memory() {
        // 2 Mbit/s, 1500 B = 6 ms of credit; ceiling 50 ms + 20 ms burst.
        let cfg = Config {
            max_delay: 50 * MS,
            ..Config::DEFAULT
        };
        let mut s = Shaper::new(cfg, 0);
        let mut drops = 0;
        for _ in 0..15 {
            drops += u64::from(matches!(
                s.enqueue(0, 1500, Backlog::default()),
                Decision::Drop(DropReason::Ceiling)
            ));
        }
        assert_eq!(drops, 3);
        assert_eq!(s.stats().saturated, 0);
        // Saturated: the next packet's credit is 70 ms away; it leaves
        // `burst` ahead of it, not at the window (which relaxes to zero:
        // the controller gets bytes but no lead meanwhile).
        assert_eq!(
            release(s.enqueue(2 * MS, 1500, Backlog::default())),
            52 * MS
        );
        assert_eq!(s.stats().saturated, 1);
        let memory = cfg.interval * Controller::FORGET_AFTER;
        // Until the memory runs out from the drop (at 0): still saturated.
        let before = memory - MS;
        assert_eq!(release(s.enqueue(before, 1500, Backlog::default())), before);
        assert_eq!(s.stats().saturated, 2);
        // Afterwards the window applies again: two packets' 12 ms of credit
        // are released inside it, which has relaxed towards zero.
        let after = memory + 10 * MS;
        let first = release(s.enqueue(after, 1500, Backlog::default()));
        let w = s.window();
        assert!(w.min < MS, "{w:?}");
        // The interval that ended at `memory` held only the saturated packet
        // at `before`: consumed credit all the same.
        assert_eq!(s.controller().consumed, 1500);
        assert_eq!(first, after + w.min);
        assert_eq!(
            release(s.enqueue(after, 1500, Backlog::default())),
            after + w.max
        );
        assert_eq!(s.stats().saturated, 2);
    }

    #[test]
    fn gso_segmentation_threshold() {
        let s = Shaper::new(Config::DEFAULT, 0);
        assert!(!s.needs_segmentation(1500 / 2)); // 3 ms
        assert!(s.needs_segmentation(1500));
        assert!(s.needs_segmentation(65536));
    }
}
