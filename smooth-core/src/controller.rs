//! The closed loop that slides the smooth window.
//!
//! Error signal: the byte-weighted mean *lead* of the packets admitted in the
//! last adjusting interval, where a packet's lead is its rate-conforming time
//! minus its release time. Multiplied by the rate it is exactly the credit
//! consumed ahead of (positive) or behind (negative) the credit allocated.
//!
//! Update, once per interval, in velocity form so clamping the output never
//! winds the integral up:
//!
//! ```text
//! Δpos = (kp·(e − e₁) + ki·e + kd·(e − 2e₁ + e₂)) >> 16
//! pos  = clamp(pos + Δpos, 0, max_delay − width)
//! ```
//!
//! An interval with no traffic (or only packets of a saturated shaper, which
//! carry no lead) counts as `e = −pos`: an idle shaper walks
//! its window back to zero. After [`Controller::FORGET_AFTER`] idle
//! intervals it starts afresh.

use super::config::{Config, Gain};
use super::time::{credit_bytes, NSEC_PER_USEC};

/// What the last update saw and did (reported in the qdisc's xstats).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ControllerState {
    /// Byte-weighted mean lead in ns (positive: ahead of allocation).
    pub error: i64,
    /// Proportional term of the last update, ns.
    pub p_term: i64,
    /// Integral term of the last update, ns.
    pub i_term: i64,
    /// Derivative term of the last update, ns.
    pub d_term: i64,
    /// Bytes admitted in the last interval (credit consumed).
    pub consumed: u64,
    /// Credit the rate allocated over the last interval, bytes.
    pub allocated: u64,
    /// Number of updates since creation.
    pub updates: u64,
}

/// PID controller of the window position.
#[derive(Clone, Debug)]
pub struct Controller {
    position: u64,
    e1: i64,
    e2: i64,
    /// Σ len × lead (µs) over the current interval.
    lead_sum: i64,
    /// Σ len over the current interval.
    bytes: u64,
    /// Bytes admitted in the current interval while the shaper was
    /// saturated: consumed credit, but no lead (the window was not used).
    unled_bytes: u64,
    interval_end: u64,
    last: ControllerState,
}

impl Controller {
    /// Idle intervals after which the loop forgets its history.
    pub const FORGET_AFTER: u64 = 8;

    /// A controller whose first interval starts at `now`.
    pub fn new(cfg: &Config, now: u64) -> Controller {
        Controller {
            position: 0,
            e1: 0,
            e2: 0,
            lead_sum: 0,
            bytes: 0,
            unled_bytes: 0,
            interval_end: now.saturating_add(cfg.interval),
            last: ControllerState::default(),
        }
    }

    /// The window's lower edge, ns.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// What the last update did.
    pub fn state(&self) -> &ControllerState {
        &self.last
    }

    /// End of the current interval (the next update is due then).
    pub fn interval_end(&self) -> u64 {
        self.interval_end
    }

    /// Records an admitted packet of `len` bytes with `lead` ns.
    pub fn record(&mut self, len: u32, lead: i64) {
        let lead_us = lead / NSEC_PER_USEC as i64;
        self.lead_sum = self.lead_sum.saturating_add(i64::from(len) * lead_us);
        self.bytes = self.bytes.saturating_add(u64::from(len));
    }

    /// Records `len` bytes admitted without the window (a saturated
    /// shaper): they count as consumed credit but carry no lead, so an
    /// interval of only such packets walks the window back like an idle one.
    pub fn record_unled(&mut self, len: u32) {
        self.unled_bytes = self.unled_bytes.saturating_add(u64::from(len));
    }

    /// Applies a new configuration: the position is kept where still valid.
    pub fn reconfigure(&mut self, cfg: &Config, now: u64) {
        self.position = self.position.min(cfg.max_position());
        self.interval_end = self.interval_end.min(now.saturating_add(cfg.interval));
    }

    /// Runs every update that is due at `now`. Cheap when none is.
    pub fn tick(&mut self, cfg: &Config, now: u64) {
        if now < self.interval_end {
            return;
        }
        let due = (now - self.interval_end) / cfg.interval + 1;
        if due > Self::FORGET_AFTER {
            *self = Controller {
                last: ControllerState {
                    updates: self.last.updates,
                    ..ControllerState::default()
                },
                ..Controller::new(cfg, now)
            };
            return;
        }
        for _ in 0..due {
            self.update(cfg);
        }
    }

    fn update(&mut self, cfg: &Config) {
        let e = if self.bytes == 0 {
            -(self.position as i64)
        } else {
            // |lead_sum / bytes| <= max lead in µs, so × 1000 fits.
            (self.lead_sum / self.bytes as i64) * NSEC_PER_USEC as i64
        };
        let term = |g: Gain, x: i64| (i64::from(g.0) * x) >> Gain::SHIFT;
        let p_term = term(cfg.kp, e - self.e1);
        let i_term = term(cfg.ki, e);
        let d_term = term(cfg.kd, e - 2 * self.e1 + self.e2);
        let delta = p_term + i_term + d_term;
        let moved = self.position as i64 + delta;
        self.position = (moved.max(0) as u64).min(cfg.max_position());
        self.e2 = self.e1;
        self.e1 = e;
        self.last = ControllerState {
            error: e,
            p_term,
            i_term,
            d_term,
            consumed: self.bytes.saturating_add(self.unled_bytes),
            allocated: credit_bytes(cfg.interval, cfg.rate),
            updates: self.last.updates + 1,
        };
        self.lead_sum = 0;
        self.bytes = 0;
        self.unled_bytes = 0;
        self.interval_end = self.interval_end.saturating_add(cfg.interval);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::NSEC_PER_MSEC;

    /// The plant: a backlog whose packets all have pacer delay `p`; those
    /// above the window are released at its top, those below at its bottom.
    fn lead_for(p: i64, pos: i64, width: i64, slope_num: i64) -> i64 {
        let d = p.clamp(pos, pos + width);
        (p - d) * slope_num / 8
    }

    /// For every allowed gain combination (on a grid) and plant slopes in
    /// (0, 1], the window converges to where the lead is zero, without
    /// oscillating outside a bounded overshoot.
    #[test]
    fn converges_for_all_allowed_gains() {
        let width = 3 * NSEC_PER_MSEC as i64;
        let target_p = 40 * NSEC_PER_MSEC as i64;
        for kp in (0..=Config::MAX_KP.0).step_by(4096) {
            for ki in [4096u32, 16384, 32768, 49152, 65536] {
                for kd in (0..=Config::MAX_KD.0).step_by(1024) {
                    for slope in 1..=8 {
                        let cfg = Config {
                            kp: Gain(kp),
                            ki: Gain(ki),
                            kd: Gain(kd),
                            ..Config::DEFAULT
                        };
                        let mut c = Controller::new(&cfg, 0);
                        let mut now = 0;
                        let mut max_pos = 0;
                        for _ in 0..2000 {
                            let lead = lead_for(target_p, c.position() as i64, width, slope);
                            c.record(1500, lead);
                            now += cfg.interval;
                            c.tick(&cfg, now);
                            max_pos = max_pos.max(c.position());
                        }
                        // Converged: the window holds the pacer delay (any
                        // such window is an equilibrium: the lead is zero).
                        // The error is measured in whole µs; with the plant
                        // slope 1/8 that leaves a dead band of 8 µs.
                        let pos = c.position() as i64;
                        let quantum = 10 * NSEC_PER_USEC as i64;
                        assert!(
                            pos <= target_p + quantum && target_p <= pos + width + quantum,
                            "kp {kp} ki {ki} kd {kd} slope {slope}: pos {pos}"
                        );
                        // Overshoot bounded by half the distance travelled.
                        assert!(max_pos as i64 <= target_p + target_p / 2);
                    }
                }
            }
        }
    }

    #[test]
    fn idle_walks_back_to_zero_and_forgets() {
        let cfg = Config::DEFAULT;
        let mut c = Controller::new(&cfg, 0);
        let mut now = 0;
        for _ in 0..50 {
            c.record(1500, 20 * NSEC_PER_MSEC as i64);
            now += cfg.interval;
            c.tick(&cfg, now);
        }
        assert!(c.position() > 10 * NSEC_PER_MSEC);
        for _ in 0..30 {
            now += cfg.interval;
            c.tick(&cfg, now);
        }
        assert!(c.position() < NSEC_PER_MSEC / 10, "{}", c.position());
        // A long idle period resets in one go.
        c.record(1500, 50 * NSEC_PER_MSEC as i64);
        c.tick(&cfg, now + cfg.interval);
        assert!(c.position() > 0);
        c.tick(&cfg, now + 100 * cfg.interval);
        assert_eq!(c.position(), 0);
    }

    #[test]
    fn position_stays_in_range() {
        let cfg = Config::DEFAULT;
        let mut c = Controller::new(&cfg, 0);
        let mut now = 0;
        for _ in 0..100 {
            c.record(u32::MAX, cfg.max_delay as i64);
            now += cfg.interval;
            c.tick(&cfg, now);
            assert!(c.position() <= cfg.max_position());
        }
        assert_eq!(c.position(), cfg.max_position());
    }
}
