//! A virtual-clock pacer, the deficit-mode shaper of CAKE
//! (`sch_cake.c`: `time_next_packet += len × rate_ns`, reset to now when the
//! queue is empty) and of Cilium's EDT bandwidth manager: the head leaves
//! at `t_next`, then `t_next` advances by its transmit time; an arrival to
//! an empty queue restarts the clock at `max(t_next, now)`. No burst beyond
//! one packet. The queue is a FIFO of `limit` packets (CAKE limits memory
//! instead; at these rates the packet limit is what binds).

use super::{Departure, Model};
use smooth_core::time::transmit_time;
use std::collections::VecDeque;

/// The virtual-clock pacer.
pub struct Pacer {
    rate: u64,
    t_next: u64,
    limit: usize,
    queue: VecDeque<(u64, u32)>,
    drops: u64,
}

impl Pacer {
    /// `rate` bytes/s, `limit` packets queued.
    pub fn new(rate: u64, limit: usize, now: u64) -> Pacer {
        Pacer {
            rate,
            t_next: now,
            limit,
            queue: VecDeque::new(),
            drops: 0,
        }
    }
}

impl Model for Pacer {
    fn label(&self) -> String {
        "pacer".to_string()
    }

    fn arrive(&mut self, now: u64, len: u32, out: &mut Vec<Departure>) -> bool {
        if self.queue.len() >= self.limit {
            self.drops += 1;
            return false;
        }
        if self.queue.is_empty() {
            self.t_next = self.t_next.max(now);
        }
        self.queue.push_back((now, len));
        if self.t_next <= now {
            self.wake(now, out);
        }
        true
    }

    fn next_event(&self) -> Option<u64> {
        (!self.queue.is_empty()).then_some(self.t_next)
    }

    fn wake(&mut self, now: u64, out: &mut Vec<Departure>) {
        while self.t_next <= now {
            let Some((arrival, len)) = self.queue.pop_front() else {
                return;
            };
            out.push(Departure {
                arrival,
                depart: now,
                len,
            });
            self.t_next += transmit_time(len.into(), self.rate);
        }
    }

    fn drops(&self) -> u64 {
        self.drops
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::sigma;
    use crate::model::replay;
    use smooth_core::time::NSEC_PER_MSEC as MS;

    #[test]
    fn has_no_burst() {
        let mut p = Pacer::new(250_000, 1000, 0);
        let out = replay(&mut p, &[(0, 1000); 6]);
        let t: Vec<u64> = out.iter().map(|d| d.depart / MS).collect();
        assert_eq!(t, [0, 4, 8, 12, 16, 20]);
        // Closed windows: one packet is the whole burst allowance.
        assert!(sigma(&out, 250_000, 10 * MS) <= 1000);
        // After idle time the clock restarts at now: no credit was saved.
        let mut p = Pacer::new(250_000, 1000, 0);
        let t: Vec<u64> = replay(&mut p, &[(0, 1000), (1000 * MS, 1000), (1000 * MS, 1000)])
            .iter()
            .map(|d| d.depart / MS)
            .collect();
        assert_eq!(t, [0, 1000, 1004]);
    }
}
