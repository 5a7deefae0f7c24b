//! smooth, driven exactly as the qdisc drives it (`sch_smooth_main.rs`):
//! `Shaper::enqueue` on arrival with the backlog in front of the packet,
//! the packet is queued with its release time, the head leaves once its
//! time has come and `Shaper::dequeued` is told. The algorithm itself is
//! `smooth_core`; nothing of it is repeated here.

use super::{Departure, Model, WindowSample};
use smooth_core::{Backlog, Config, Decision, Shaper};
use std::collections::VecDeque;

/// The smooth qdisc around one `smooth_core::Shaper`.
pub struct Smooth {
    shaper: Shaper,
    /// (release at, enqueued at, len)
    queue: VecDeque<(u64, u64, u32)>,
    bytes: u64,
    drops: u64,
    trace: Vec<WindowSample>,
}

impl Smooth {
    /// A shaper with a validated configuration, created at `now`.
    pub fn new(cfg: Config, now: u64) -> Smooth {
        let shaper = Shaper::new(cfg, now);
        let w = shaper.window();
        Smooth {
            shaper,
            queue: VecDeque::new(),
            bytes: 0,
            drops: 0,
            trace: vec![WindowSample {
                at: now,
                min: w.min,
                max: w.max,
            }],
        }
    }

    /// The algorithm's state (counters, controller).
    pub fn shaper(&self) -> &Shaper {
        &self.shaper
    }

    fn note_window(&mut self, now: u64) {
        let w = self.shaper.window();
        let last = self.trace.last().expect("trace starts non-empty");
        if (last.min, last.max) != (w.min, w.max) {
            self.trace.push(WindowSample {
                at: now,
                min: w.min,
                max: w.max,
            });
        }
    }
}

impl Model for Smooth {
    fn label(&self) -> String {
        let c = self.shaper.config();
        format!(
            "smooth window={} burst={}",
            smooth_core::units::Time(c.window),
            smooth_core::units::Time(c.burst)
        )
    }

    fn arrive(&mut self, now: u64, len: u32, _out: &mut Vec<Departure>) -> bool {
        let backlog = Backlog {
            packets: self.queue.len() as u32,
            bytes: self.bytes,
        };
        let decision = self.shaper.enqueue(now, len, backlog);
        self.note_window(now);
        match decision {
            Decision::Release { at } => {
                debug_assert!(self.queue.back().map_or(true, |b| b.0 <= at));
                self.queue.push_back((at, now, len));
                self.bytes += u64::from(len);
                true
            }
            Decision::Drop(_) => {
                self.drops += 1;
                false
            }
        }
    }

    fn next_event(&self) -> Option<u64> {
        self.queue.front().map(|p| p.0)
    }

    fn wake(&mut self, now: u64, out: &mut Vec<Departure>) {
        while let Some(&(at, enqueued, len)) = self.queue.front() {
            if at > now {
                break;
            }
            self.queue.pop_front();
            self.bytes -= u64::from(len);
            self.shaper.dequeued(now, enqueued, at);
            self.note_window(now);
            out.push(Departure {
                arrival: enqueued,
                depart: now,
                len,
            });
        }
    }

    fn drops(&self) -> u64 {
        self.drops
    }

    fn window_trace(&self) -> &[WindowSample] {
        &self.trace
    }
}
