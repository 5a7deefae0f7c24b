//! Linux TBF (`net/sched/sch_tbf.c`) without a peak rate: tokens counted in
//! ns of transmission time at the rate, capped at the bucket (`burst`); the
//! head packet leaves once the tokens cover its length; packets wait in a
//! FIFO limited in bytes (tc's `limit`, the child bfifo). A packet longer
//! than the bucket can never pass and is dropped (TBF would segment a GSO
//! packet; the simulator has none).

use super::{Departure, Model};
use smooth_core::time::transmit_time;
use std::collections::VecDeque;

/// A token bucket filter.
pub struct Tbf {
    rate: u64,
    burst: u32,
    limit: u64,
    /// Bucket size in ns of credit.
    buffer: i64,
    /// Tokens at `t_c`, ns of credit.
    tokens: i64,
    t_c: u64,
    queue: VecDeque<(u64, u32)>,
    backlog: u64,
    drops: u64,
}

impl Tbf {
    /// `rate` bytes/s, bucket `burst` bytes, queue `limit` bytes; the bucket
    /// starts full at `now` (as after `tc qdisc add`).
    pub fn new(rate: u64, burst: u32, limit: u64, now: u64) -> Tbf {
        let buffer = transmit_time(burst.into(), rate) as i64;
        Tbf {
            rate,
            burst,
            limit,
            buffer,
            tokens: buffer,
            t_c: now,
            queue: VecDeque::new(),
            backlog: 0,
            drops: 0,
        }
    }

    fn tokens_at(&self, now: u64) -> i64 {
        (self.tokens + (now - self.t_c).min(self.buffer as u64) as i64).min(self.buffer)
    }

    /// When the head packet's tokens are complete.
    fn head_ready(&self) -> Option<u64> {
        let &(_, len) = self.queue.front()?;
        let need = transmit_time(len.into(), self.rate) as i64;
        let have = self.tokens_at(self.t_c);
        Some(self.t_c + (need - have).max(0) as u64)
    }
}

impl Model for Tbf {
    fn label(&self) -> String {
        format!("tbf burst={}B", self.burst)
    }

    fn arrive(&mut self, now: u64, len: u32, out: &mut Vec<Departure>) -> bool {
        if len > self.burst || self.backlog + u64::from(len) > self.limit {
            self.drops += 1;
            return false;
        }
        self.queue.push_back((now, len));
        self.backlog += u64::from(len);
        self.wake(now, out);
        true
    }

    fn next_event(&self) -> Option<u64> {
        self.head_ready()
    }

    fn wake(&mut self, now: u64, out: &mut Vec<Departure>) {
        while let Some(&(arrival, len)) = self.queue.front() {
            let toks = self.tokens_at(now) - transmit_time(len.into(), self.rate) as i64;
            if toks < 0 {
                break;
            }
            self.tokens = toks;
            self.t_c = now;
            self.queue.pop_front();
            self.backlog -= u64::from(len);
            out.push(Departure {
                arrival,
                depart: now,
                len,
            });
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
    fn sends_the_burst_at_once_then_paces() {
        // 2 Mbit/s = 250 B/ms; bucket 3000 B: three 1000 B packets at once,
        // then one every 4 ms.
        let mut tbf = Tbf::new(250_000, 3000, 1 << 20, 0);
        let out = replay(&mut tbf, &[(0, 1000); 8]);
        let t: Vec<u64> = out.iter().map(|d| d.depart / MS).collect();
        assert_eq!(t, [0, 0, 0, 4, 8, 12, 16, 20]);
        // Idle refills the bucket, no further than the burst.
        let mut tbf = Tbf::new(250_000, 3000, 1 << 20, 0);
        let arrivals = [
            (0, 3000),
            (1000 * MS, 1000),
            (1000 * MS, 1000),
            (1000 * MS, 1000),
            (1000 * MS, 1000),
        ];
        let t: Vec<u64> = replay(&mut tbf, &arrivals)
            .iter()
            .map(|d| d.depart / MS)
            .collect();
        assert_eq!(t, [0, 1000, 1000, 1000, 1004]);
    }

    #[test]
    fn drops_beyond_the_limit_and_oversized_packets() {
        let mut tbf = Tbf::new(250_000, 1500, 3000, 0);
        let mut out = Vec::new();
        assert!(!tbf.arrive(0, 1501, &mut out));
        assert!(tbf.arrive(0, 1500, &mut out)); // leaves at once
        assert!(tbf.arrive(0, 1500, &mut out));
        assert!(tbf.arrive(0, 1500, &mut out));
        assert!(!tbf.arrive(0, 1, &mut out));
        assert_eq!((out.len(), tbf.drops()), (1, 2));
    }
}
