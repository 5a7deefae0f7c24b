//! Xen netback's transmit credit (`drivers/net/xen-netback/netback.c`,
//! `tx_credit_exceeded`, `tx_add_credit`, `xenvif_tx_credit_callback`),
//! `rate=R@I` in xl.cfg: `credit_bytes = R × I` per window.
//!
//! * When a packet is checked and the window has expired, the window
//!   restarts *now* and credit is added once (not once per elapsed window).
//! * Adding credit sets `remaining = min(remaining + credit_bytes,
//!   max(128 KiB, credit_bytes))`.
//! * A packet larger than the remaining credit stops ring processing; a
//!   timer fires at the window's end, adds credit once and restarts.
//!
//! Real netback does not queue: it stops reading the guest's transmit ring,
//! which fills, and the guest's own qdisc then backs up and drops. This
//! model stands for ring plus guest queue with one FIFO of `limit` packets
//! (1000, a `pfifo_fast`'s `txqueuelen`). Jiffies granularity of the
//! window and timer is not modelled (ns time).

use super::{Departure, Model};
use smooth_core::time::credit_bytes;
use std::collections::VecDeque;

/// netback's windowed credit in front of a finite FIFO.
pub struct Netback {
    rate: u64,
    interval: u64,
    credit: u64,
    remaining: u64,
    window_start: u64,
    timer: Option<u64>,
    limit: usize,
    queue: VecDeque<(u64, u32)>,
    drops: u64,
}

impl Netback {
    /// The largest remaining credit: enough for a 128 KiB packet.
    pub const MAX_BURST_FLOOR: u64 = 128 * 1024;

    /// `rate` bytes/s in windows of `interval` ns, `limit` packets queued;
    /// connected at `now` with one window of credit (as `connect()` does).
    pub fn new(rate: u64, interval: u64, limit: usize, now: u64) -> Netback {
        let credit = credit_bytes(interval, rate);
        Netback {
            rate,
            interval,
            credit,
            remaining: credit,
            window_start: now,
            timer: None,
            limit,
            queue: VecDeque::new(),
            drops: 0,
        }
    }

    fn add_credit(&mut self) {
        let max_burst = Self::MAX_BURST_FLOOR.max(self.credit);
        self.remaining = (self.remaining + self.credit).min(max_burst);
    }

    /// Processes the ring at `now` until a packet does not fit.
    fn run(&mut self, now: u64, out: &mut Vec<Departure>) {
        while let Some(&(arrival, len)) = self.queue.front() {
            if self.timer.is_some() {
                return;
            }
            let next_credit = self.window_start + self.interval;
            if now >= next_credit {
                self.window_start = now;
                self.add_credit();
            }
            if u64::from(len) > self.remaining {
                self.timer = Some(next_credit.max(now));
                self.window_start = next_credit;
                return;
            }
            self.remaining -= u64::from(len);
            self.queue.pop_front();
            out.push(Departure {
                arrival,
                depart: now,
                len,
            });
        }
    }
}

impl Model for Netback {
    fn label(&self) -> String {
        format!(
            "netback rate={}@{}",
            smooth_core::units::Rate(self.rate),
            smooth_core::units::Time(self.interval)
        )
    }

    fn arrive(&mut self, now: u64, len: u32, out: &mut Vec<Departure>) -> bool {
        if self.queue.len() >= self.limit {
            self.drops += 1;
            return false;
        }
        self.queue.push_back((now, len));
        self.run(now, out);
        true
    }

    fn next_event(&self) -> Option<u64> {
        self.timer
    }

    fn wake(&mut self, now: u64, out: &mut Vec<Departure>) {
        if self.timer.is_some_and(|t| t <= now) {
            self.timer = None;
            self.add_credit();
            self.run(now, out);
        }
    }

    fn drops(&self) -> u64 {
        self.drops
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::replay;
    use smooth_core::time::NSEC_PER_MSEC as MS;

    #[test]
    fn releases_a_windows_worth_at_each_window_start() {
        // 2 Mbit/s @ 10 ms: 2500 B of credit per window.
        let mut nb = Netback::new(250_000, 10 * MS, 1000, 0);
        let out = replay(&mut nb, &[(0, 1000); 10]);
        let t: Vec<u64> = out.iter().map(|d| d.depart / MS).collect();
        // 2500 at 0 (500 left), +2500 at 10 ms = 3000, 0 left at 20 ms...
        assert_eq!(t, [0, 0, 10, 10, 10, 20, 20, 30, 30, 30]);
    }

    #[test]
    fn credit_is_added_once_however_long_the_idle_time() {
        let mut nb = Netback::new(250_000, 10 * MS, 1000, 0);
        // Use 2000 of the first 2500 B, then stay idle for a second.
        let mut arrivals = vec![(0, 1000), (0, 1000)];
        arrivals.extend([(1000 * MS, 1000); 5]);
        let t: Vec<u64> = replay(&mut nb, &arrivals)
            .iter()
            .map(|d| d.depart / MS)
            .collect();
        // 500 + 2500 = 3000 B at 1 s, not 100 windows' worth.
        assert_eq!(t, [0, 0, 1000, 1000, 1000, 1010, 1010]);
    }

    #[test]
    fn unused_credit_accumulates_up_to_128_kib() {
        let mut nb = Netback::new(250_000, 10 * MS, 1000, 0);
        let mut out = Vec::new();
        // A tiny packet per window lets credit pile up to the cap.
        for w in 0..100 {
            nb.arrive(w * 10 * MS, 64, &mut out);
        }
        assert_eq!(nb.remaining, Netback::MAX_BURST_FLOOR - 64);
    }
}
