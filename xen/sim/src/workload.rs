//! vCPU behaviours: what each guest asks of its vCPU, as timed actions.

use crate::model::{draw, mean, Action, Ns, Sim, Work};
use serde::Serialize;

/// What a piece of work is, for the figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// A ping to answer.
    Ping,
    /// A datagram to send on schedule.
    Send,
    /// CPU work of the guest's own (a compute burst, a waker's spin).
    Compute,
    /// The guest kernel's periodic tick (`VcpuSpec::tick`).
    Tick,
}

/// A guest's behaviour.
#[derive(Clone, Debug)]
pub enum Behaviour {
    /// Never runs.
    Idle,
    /// CPU-bound from the start, never blocks.
    Hog,
    /// CPU-bound while on: started at each `.0`, stopped (paused) at `.1`.
    HogPattern(Vec<(Ns, Ns)>),
    /// Answers pings `interval` apart on average (from `from`; each gap
    /// uniform in [interval/2, 3·interval/2), seeded, so pings do not lock
    /// onto the 30 ms slices),
    /// needing `work` of CPU. `busy`: a CPU-bound guest that never blocks
    /// (the ping waits for its next turn); otherwise it blocks in between
    /// and each ping wakes it.
    Responder {
        interval: Ns,
        work: Ns,
        busy: bool,
        from: Ns,
    },
    /// Like `Responder` (blocked in between), and also computes `burst` of
    /// CPU every `every` (its own timer): an I/O guest that spends its
    /// credit on computation.
    ComputeResponder {
        interval: Ns,
        work: Ns,
        burst: Ns,
        every: Ns,
        from: Ns,
    },
    /// Sends a datagram every `period` at absolute times (a seeded phase,
    /// like `udpclock serve`), needing `work` of CPU each; blocks between.
    /// `grid`: each wake-up is forced to the next multiple of `grid` (plus
    /// a seeded phase), as if the vCPU were provisioned only every `grid`.
    Sender {
        period: Ns,
        work: Ns,
        grid: Option<Ns>,
        from: Ns,
    },
    /// `udpclock wake SPIN SLEEP`: computes `spin`, sleeps `sleep`, forever.
    Waker { spin: Ns, sleep: Ns },
}

/// A small seeded PRNG (SplitMix64): deterministic, no dependency.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x6a09_e667_f3bc_c909)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, n) (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
}

fn arrive(sim: &mut Sim, t: Ns, v: usize, left: Ns, origin: Ns, stream: Stream, seq: u64) {
    sim.at(
        t,
        v,
        Action::Arrive(Work {
            left,
            origin,
            stream,
            seq,
        }),
    );
}

fn pings(sim: &mut Sim, v: usize, interval: Ns, work: Ns, from: Ns, end: Ns, rng: &mut Rng) {
    let mut seq = 0;
    let mut t = from + rng.below(interval);
    while t < end {
        arrive(sim, t, v, work, t, Stream::Ping, seq);
        seq += 1;
        t += interval / 2 + rng.below(interval);
    }
}

/// Schedules vCPU `v`'s open-loop actions up to `end`.
pub fn install(sim: &mut Sim, v: usize, end: Ns, rng: &mut Rng) {
    let b = sim.vcpus[v].spec.behaviour.clone();
    // A guest that blocks also wakes for its own kernel's tick (a CPU-bound
    // one handles it in its running time).
    let blocks = !matches!(
        b,
        Behaviour::Idle | Behaviour::Hog | Behaviour::HogPattern(_)
    );
    let tick = sim.vcpus[v].spec.tick.filter(|_| blocks);
    match b {
        Behaviour::Idle => {}
        Behaviour::Hog => sim.at(0, v, Action::Start),
        Behaviour::HogPattern(on) => {
            for (a, b) in on {
                sim.at(a, v, Action::Start);
                sim.at(b, v, Action::Stop);
            }
        }
        Behaviour::Responder {
            interval,
            work,
            busy,
            from,
        } => {
            if busy {
                sim.at(0, v, Action::Start);
            }
            pings(sim, v, interval, work, from, end, rng);
        }
        Behaviour::ComputeResponder {
            interval,
            work,
            burst,
            every,
            from,
        } => {
            pings(sim, v, interval, work, from, end, rng);
            let mut t = rng.below(every);
            let mut seq = 0;
            while t < end {
                arrive(sim, t, v, burst, t, Stream::Compute, seq);
                seq += 1;
                t += every;
            }
        }
        Behaviour::Sender {
            period,
            work,
            grid,
            from,
        } => {
            let mut t = from + rng.below(period);
            let phase = grid.map_or(0, |g| rng.below(g));
            let mut seq = 0;
            while t < end {
                // The wake-up, forced onto the provisioning grid if any.
                let at = grid.map_or(t, |g| t + (g + phase - t % g) % g);
                arrive(sim, at, v, work, t, Stream::Send, seq);
                seq += 1;
                t += period;
            }
        }
        Behaviour::Waker { spin, .. } => {
            let t = rng.below(spin.max(1));
            arrive(sim, t, v, spin, t, Stream::Compute, 0);
        }
    }
    if let Some((period, cost)) = tick {
        let spread = sim.p.tick_spread.map(|h| (h, mean(h).max(1)));
        let mut t = rng.below(period);
        let mut seq = 0;
        while t < end {
            // Each tick is a Xen timer on the guest's pCPU, fired as late as
            // credit's own; the next is armed from the last deadline, so the
            // lateness does not carry over.
            let late = sim.p.timer_late.draw(rng);
            let cost = spread.map_or(cost, |(h, m)| cost * draw(h, rng) / m);
            arrive(sim, t + late, v, cost, t, Stream::Tick, seq);
            seq += 1;
            t += period;
        }
    }
}
