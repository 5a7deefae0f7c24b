//! The event loop: one workload through one shaper model. Events at the
//! same instant run shaper first (releases, timers), then the sender, so a
//! packet released at `t` is gone before a packet arriving at `t` is
//! checked against the backlog — as when the qdisc dequeues right after an
//! enqueue.

use crate::metrics::{self, Metrics};
use crate::model::{Departure, Model, Netback, Pacer, Smooth, Tbf, WindowSample};
use crate::workload::{Tcp, Trace};
use serde::Serialize;
use smooth_core::Config;

/// A shaper and its parameters.
#[derive(Clone, Debug)]
pub enum ShaperSpec {
    /// smooth with this configuration.
    Smooth(Config),
    /// netback `rate=R@interval` in front of `limit` packets.
    Netback {
        /// Bytes/s.
        rate: u64,
        /// Window, ns.
        interval: u64,
        /// Queue, packets.
        limit: usize,
    },
    /// TBF.
    Tbf {
        /// Bytes/s.
        rate: u64,
        /// Bucket, bytes.
        burst: u32,
        /// Queue, bytes.
        limit: u64,
    },
    /// Virtual-clock pacer.
    Pacer {
        /// Bytes/s.
        rate: u64,
        /// Queue, packets.
        limit: usize,
    },
}

impl ShaperSpec {
    /// A fresh model starting at time 0.
    pub fn build(&self) -> Box<dyn Model> {
        match *self {
            ShaperSpec::Smooth(cfg) => Box::new(Smooth::new(cfg, 0)),
            ShaperSpec::Netback {
                rate,
                interval,
                limit,
            } => Box::new(Netback::new(rate, interval, limit, 0)),
            ShaperSpec::Tbf { rate, burst, limit } => Box::new(Tbf::new(rate, burst, limit, 0)),
            ShaperSpec::Pacer { rate, limit } => Box::new(Pacer::new(rate, limit, 0)),
        }
    }

    /// The configured rate, bytes/s.
    pub fn rate(&self) -> u64 {
        match *self {
            ShaperSpec::Smooth(cfg) => cfg.rate,
            ShaperSpec::Netback { rate, .. }
            | ShaperSpec::Tbf { rate, .. }
            | ShaperSpec::Pacer { rate, .. } => rate,
        }
    }
}

/// What is offered.
#[derive(Clone, Debug)]
pub enum Offered {
    /// An open-loop packet list.
    Open(Trace),
    /// The window-limited closed-loop flow.
    Tcp {
        /// Bytes in flight.
        window: u64,
        /// Packet length.
        mss: u32,
        /// Base round-trip time, ns.
        rtt: u64,
    },
}

/// One (shaper, workload) run.
#[derive(Clone, Debug, Serialize)]
pub struct Run {
    /// The shaper's label.
    pub shaper: String,
    /// What was measured.
    pub metrics: Metrics,
    /// Every delivered packet.
    #[serde(skip)]
    pub departures: Vec<Departure>,
    /// smooth's window over time (empty for the others).
    #[serde(skip)]
    pub window: Vec<WindowSample>,
}

/// Runs `offered` through `spec` for `duration` ns of offered traffic (the
/// queue then drains), measuring rates from `warmup` on.
pub fn simulate(spec: &ShaperSpec, offered: &Offered, duration: u64, warmup: u64) -> Run {
    let mut model = spec.build();
    let mut deps = Vec::new();
    let offered_count = match offered {
        Offered::Open(trace) => {
            let n = trace.partition_point(|p| p.0 < duration);
            deps = crate::model::replay(model.as_mut(), &trace[..n]);
            n as u64
        }
        Offered::Tcp { window, mss, rtt } => {
            let mut tcp = Tcp::new(*window, *mss, *rtt, duration);
            let mut sent = 0;
            let mut out = Vec::new();
            loop {
                match (model.next_event(), tcp.next_event()) {
                    (Some(m), Some(s)) if m <= s => model.wake(m, &mut out),
                    (_, Some(s)) => {
                        if let Some(len) = tcp.step(s) {
                            sent += 1;
                            if !model.arrive(s, len, &mut out) {
                                tcp.dropped(s, len);
                            }
                        }
                    }
                    (Some(m), None) => model.wake(m, &mut out),
                    (None, None) => break,
                }
                for d in out.drain(..) {
                    tcp.departed(d.depart, d.len);
                    deps.push(d);
                }
            }
            sent
        }
    };
    let rate = spec.rate();
    Run {
        shaper: model.label(),
        metrics: metrics::measure(&deps, offered_count, model.drops(), rate, warmup, duration),
        window: model.window_trace().to_vec(),
        departures: deps,
    }
}
