//! The shapers under test. Each is a small event-driven model with integer
//! ns time: the simulator calls [`Model::arrive`] for each packet and
//! [`Model::wake`] at each internal event ([`Model::next_event`]); a model
//! appends the packets it lets go to `out`, in FIFO order. The link behind
//! every shaper is infinitely fast: a packet departs the instant the shaper
//! lets it go, so the shaper alone makes the delay. Rates count the length
//! given (the L2 frame, as tc's `qdisc_pkt_len`).

pub mod netback;
pub mod pacer;
pub mod smooth;
pub mod tbf;

pub use netback::Netback;
pub use pacer::Pacer;
pub use smooth::Smooth;
pub use tbf::Tbf;

/// A packet leaving a shaper.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Departure {
    /// When it reached the shaper, ns.
    pub arrival: u64,
    /// When it left, ns.
    pub depart: u64,
    /// Length in bytes.
    pub len: u32,
}

impl Departure {
    /// The delay the shaper imposed, ns.
    pub fn delay(&self) -> u64 {
        self.depart - self.arrival
    }
}

/// One shaper model.
pub trait Model {
    /// A short label for tables and plots (`tbf burst=1514B`).
    fn label(&self) -> String;
    /// A `len`-byte packet arrives at `now`. Returns `false` if it was
    /// dropped. Packets the model lets go at once are appended to `out`.
    fn arrive(&mut self, now: u64, len: u32, out: &mut Vec<Departure>) -> bool;
    /// The next internal event (a release time or a timer), if any.
    fn next_event(&self) -> Option<u64>;
    /// Runs the internal event due at `now` (`== next_event()`).
    fn wake(&mut self, now: u64, out: &mut Vec<Departure>);
    /// Packets dropped so far.
    fn drops(&self) -> u64;
    /// The smooth window over time, for models that have one.
    fn window_trace(&self) -> &[WindowSample] {
        &[]
    }
}

/// The smooth window at a moment (ns).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct WindowSample {
    /// Time of the change.
    pub at: u64,
    /// Lower edge (`dmin`).
    pub min: u64,
    /// Upper edge (`dmax`).
    pub max: u64,
}

/// Drives `model` with `arrivals` (open loop, sorted by time) and returns
/// every departure. Test helper and the open-loop core of the simulator.
pub fn replay(model: &mut dyn Model, arrivals: &[(u64, u32)]) -> Vec<Departure> {
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let next_arrival = arrivals.get(i).map(|a| a.0);
        match (model.next_event(), next_arrival) {
            (Some(e), Some(a)) if e <= a => model.wake(e, &mut out),
            (_, Some(a)) => {
                model.arrive(a, arrivals[i].1, &mut out);
                i += 1;
            }
            (Some(e), None) => model.wake(e, &mut out),
            (None, None) => return out,
        }
    }
}
