//! The scheduler model: one pCPU, its vCPUs, an event queue.
//!
//! Time is integer nanoseconds; credit is Xen's integer credit (1 credit =
//! 100 µs of CPU, `CSCHED_CREDITS_PER_MSEC` = 10). The model follows
//! `xen/common/sched/credit.c` of Xen 4.17 function by function: the stock
//! rules live in [`credit`], the real-time series (`xen/patches/0001`..`0013`)
//! in [`edf`]. `Params::patched = false` is stock credit: none of the
//! series' code paths run. With `patched = true` and no real-time domain and
//! no reserve the series must behave exactly as stock credit (a unit test
//! checks that).
//!
//! What is not modelled: more than one pCPU (load balancing, `_csched_cpu_pick()`,
//! `csched_runq_steal()`, the placement rule; another pCPU's unit only
//! through its accounting, [`OtherPcpu`]), caps and parking, yield,
//! tasklets, context-switch and interrupt costs. See docs/xen-sim.md.

pub mod credit;
pub mod edf;

use crate::workload::{Behaviour, Rng, Stream};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

/// Nanoseconds.
pub type Ns = u64;
pub const US: Ns = 1_000;
pub const MS: Ns = 1_000_000;
pub const SEC: Ns = 1_000_000_000;
/// [`Params::timer_late`]'s default: interrupt and softirq latency, a
/// fraction of Xen's `timer_slop` (50 µs). What matters is that it is not
/// zero; the tick's phase sweeps a 1 ms guest tick every 50 ticks.
pub const TIMER_LATE: Ns = 20 * US;

/// How late Xen's timers fire: credit's, and a guest's own tick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimerLate {
    /// The same every time (real hardware's interrupt and softirq latency).
    Fixed(Ns),
    /// Drawn anew at every firing (seeded) from a measured histogram:
    /// `(upper edge, count)` buckets in increasing order, the first from 0,
    /// uniform within each.
    Drawn(&'static [(Ns, u32)]),
}

impl TimerLate {
    /// One firing's lateness.
    pub fn draw(self, rng: &mut Rng) -> Ns {
        match self {
            TimerLate::Fixed(late) => late,
            TimerLate::Drawn(buckets) => draw(buckets, rng),
        }
    }
}

/// One value drawn from a measured histogram: `(upper edge, count)`
/// buckets in increasing order, the first from 0, uniform within each.
pub fn draw(buckets: &[(Ns, u32)], rng: &mut Rng) -> Ns {
    let total: u64 = buckets.iter().map(|&(_, n)| u64::from(n)).sum();
    let mut pick = rng.below(total.max(1));
    let mut low = 0;
    for &(high, n) in buckets {
        if pick < u64::from(n) {
            return low + rng.below((high - low).max(1));
        }
        pick -= u64::from(n);
        low = high;
    }
    low
}

/// The mean of what [`draw`] draws from `buckets`.
pub fn mean(buckets: &[(Ns, u32)]) -> Ns {
    let (mut sum, mut total, mut low) = (0u64, 0u64, 0);
    for &(high, n) in buckets {
        sum += u64::from(n) * (low + high) / 2;
        total += u64::from(n);
        low = high;
    }
    sum / total.max(1)
}

/// Credit's priorities (`CSCHED_PRI_*`); the series adds `Driver` (0011).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pri {
    Idle = -64,
    Over = -2,
    Under = -1,
    Boost = 0,
    Driver = 1,
}

/// A real-time domain's mode (`CSCHED_RT_*`, 0001, 0002).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RtMode {
    None,
    Periodic { period: Ns },
    Aperiodic,
}

/// A domain's real-time parameters (`xl sched-credit -M/-e/-P/-b`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rt {
    pub mode: RtMode,
    pub deadline: Ns,
    pub budget: Ns,
}

impl Rt {
    pub const NONE: Rt = Rt {
        mode: RtMode::None,
        deadline: 0,
        budget: 0,
    };
    pub fn periodic(period: Ns, deadline: Ns, budget: Ns) -> Rt {
        Rt {
            mode: RtMode::Periodic { period },
            deadline,
            budget,
        }
    }
    pub fn aperiodic(deadline: Ns, budget: Ns) -> Rt {
        Rt {
            mode: RtMode::Aperiodic,
            deadline,
            budget,
        }
    }
    /// One vCPU's utilisation in ppm of a pCPU, rounded up (0007's `rt_unit_util()`).
    pub fn util_ppm(&self) -> u64 {
        let per = match self.mode {
            RtMode::None => return 0,
            RtMode::Periodic { period } => period,
            RtMode::Aperiodic => self.deadline,
        };
        (self.budget * 1_000_000).div_ceil(per)
    }
}

/// Scheduler parameters (Xen boot parameters and the series' switches).
#[derive(Clone, Debug)]
pub struct Params {
    /// `sched_credit_tslice_ms` (30 ms): the slice and the accounting period.
    pub tslice: Ns,
    /// Credit's tick, tslice / `CSCHED_TICKS_PER_TSLICE` (3).
    pub tick: Ns,
    /// `sched_ratelimit_us` (1000 µs); 0 disables.
    pub ratelimit: Ns,
    /// The series applied (false: stock 4.17 credit).
    pub patched: bool,
    /// The series' driver-domain priority (0011). Off here by default: the
    /// measuring side is outside the simulated pCPU and never boosted.
    pub driver_priority: bool,
    /// `sched_credit_rt_util=` (percent of a pCPU, 0007), at most 90.
    pub rt_util_pct: u64,
    /// How late Xen's timers fire: credit's tick and accounting timers, and
    /// the guests' own tick ([`VcpuSpec::tick`]). Credit's are re-armed
    /// from their handler's `NOW()`, so the lateness carries over and
    /// credit's 10 ms tick drifts against a guest's own periodic tick (re-armed
    /// from its last deadline): without it, the tick would sample that
    /// guest at one phase for ever, finding it always or never running. A
    /// fixed lateness sweeps that phase slowly and regularly; a drawn one
    /// (QEMU's, measured) samples it at random, as TCG does, and delays
    /// each of the guest's ticks by its own draw.
    pub timer_late: TimerLate,
    /// pCPUs in the simulated pCPU's cpupool. Credit hands out a slice's
    /// worth of credit per pCPU of the pool every tslice (`prv->credit`),
    /// to the active units wherever they run: guests pinned to one pCPU of
    /// a two-pCPU pool whose other pCPU idles earn twice what that pCPU can
    /// burn. The other pCPUs' units are not run; one of them can be modelled
    /// by its accounting alone (`other_pcpu`).
    pub pool_pcpus: u32,
    /// The unit alone on the pool's other pCPU (dom0 in the QEMU
    /// benchmarks), seen only through credit's accounting; None: that pCPU
    /// idles.
    pub other_pcpu: Option<OtherPcpu>,
    /// How a guest's tick ([`VcpuSpec::tick`]) costs from one tick to the
    /// next: a histogram of measured run lengths, scaled so that its mean is
    /// the tick's cost. None: every tick costs the same.
    pub tick_spread: Option<&'static [(Ns, u32)]>,
}

/// A unit alone on another pCPU of the pool (dom0 in the QEMU benchmarks),
/// which the simulated pCPU never runs but whose weight and credit credit's
/// accounting shares with the guests there. It runs `busy_permille` of the
/// time: it is debited that share of a pCPU's credit, and each of its pCPU's
/// 10 ms ticks finds it running with that probability and puts it back on
/// the active list (`csched_tick()` → `csched_unit_acct()`; its pCPU stops
/// the tick while idle, so a short burst seldom meets one).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct OtherPcpu {
    pub weight: u32,
    pub busy_permille: u32,
}

impl Params {
    pub fn stock() -> Params {
        Params {
            tslice: 30 * MS,
            tick: 10 * MS,
            ratelimit: 1000 * US,
            patched: false,
            driver_priority: false,
            rt_util_pct: 50,
            timer_late: TimerLate::Fixed(TIMER_LATE),
            pool_pcpus: 1,
            other_pcpu: None,
            tick_spread: None,
        }
    }
    pub fn patched() -> Params {
        Params {
            patched: true,
            ..Params::stock()
        }
    }
    pub fn credits_per_tslice(&self) -> i32 {
        (self.tslice / MS) as i32 * credit::CREDITS_PER_MSEC
    }
}

/// A domain of one vCPU, as configured.
#[derive(Clone, Debug)]
pub struct VcpuSpec {
    pub name: String,
    pub weight: u32,
    pub rt: Rt,
    /// `reserve` percent (0004).
    pub reserve_pct: u32,
    /// The hardware domain (the driver rule applies to it).
    pub dom0: bool,
    pub behaviour: Behaviour,
    /// The guest kernel's periodic tick, (period, CPU per tick): a guest
    /// that blocks wakes for it too, each tick as late as
    /// [`Params::timer_late`] draws and costing what [`Params::tick_spread`]
    /// draws around that mean. None: no tick (a tickless guest).
    pub tick: Option<(Ns, Ns)>,
}

impl VcpuSpec {
    pub fn new(name: &str, behaviour: Behaviour) -> VcpuSpec {
        VcpuSpec {
            name: name.to_string(),
            weight: 256,
            rt: Rt::NONE,
            reserve_pct: 0,
            dom0: false,
            behaviour,
            tick: None,
        }
    }
    pub fn weight(mut self, w: u32) -> Self {
        self.weight = w;
        self
    }
    pub fn rt(mut self, rt: Rt) -> Self {
        self.rt = rt;
        self
    }
    pub fn reserve(mut self, pct: u32) -> Self {
        self.reserve_pct = pct;
        self
    }
    pub fn tick(mut self, tick: Option<(Ns, Ns)>) -> Self {
        self.tick = tick;
        self
    }
}

/// A piece of CPU work a vCPU must do (an interrupt to answer, a datagram to
/// send); done in arrival order, before any background load.
#[derive(Clone, Debug)]
pub struct Work {
    pub left: Ns,
    /// When the request was made (a ping's send time, a sender's nominal
    /// send time): latencies are measured from here.
    pub origin: Ns,
    pub stream: Stream,
    pub seq: u64,
}

/// A finished piece of work.
#[derive(Clone, Debug)]
pub struct Done {
    pub vcpu: usize,
    pub stream: Stream,
    pub seq: u64,
    pub origin: Ns,
    pub at: Ns,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Running,
    Queued,
    Blocked,
}

/// A vCPU: credit's `struct csched_unit` (and its one-vCPU domain), the
/// series' fields, and the workload's state.
#[derive(Clone, Debug)]
pub struct Vcpu {
    pub spec: VcpuSpec,
    pub state: State,
    // credit
    pub credit: i32,
    pub residual: u64,
    /// `start_time`: absolute while running, an offset (≤ 0) otherwise, as
    /// csched_schedule() keeps it.
    pub start_time: i64,
    pub pri: Pri,
    /// On credit's active list (earns credit in csched_acct()).
    pub active: bool,
    /// When it last started running (the runstate's `state_entry_time`).
    pub state_entry: Ns,
    // the series
    pub rt_synced: bool,
    pub deadline: Ns,
    pub release: Ns,
    pub job_ran: Ns,
    pub edf_run: bool,
    pub run_start: Ns,
    pub slice_end: Ns,
    pub turn_left: Ns,
    pub runq_ticket: Ns,
    pub reserve: i32,
    pub reserve_spent: u64,
    pub edf_dispatches: u64,
    pub rt_dispatches: u64,
    // workload
    pub work: VecDeque<Work>,
    pub background: bool,
    work_since: Ns,
    work_gen: u64,
    /// CPU time so far, up to the last deschedule.
    pub cpu: Ns,
}

impl Vcpu {
    fn new(spec: VcpuSpec) -> Vcpu {
        Vcpu {
            spec,
            state: State::Blocked,
            credit: 0,
            residual: 0,
            start_time: 0,
            // csched_alloc_udata(): a new unit is UNDER.
            pri: Pri::Under,
            active: false,
            state_entry: 0,
            rt_synced: false,
            deadline: 0,
            release: 0,
            job_ran: 0,
            edf_run: false,
            run_start: 0,
            slice_end: 0,
            turn_left: 0,
            runq_ticket: 0,
            reserve: 0,
            reserve_spent: 0,
            edf_dispatches: 0,
            rt_dispatches: 0,
            work: VecDeque::new(),
            background: false,
            work_since: 0,
            work_gen: 0,
            cpu: 0,
        }
    }
    pub fn is_rt(&self) -> bool {
        self.spec.rt.mode != RtMode::None
    }
    fn has_work(&self) -> bool {
        self.background || !self.work.is_empty()
    }
}

/// What the workload does to a vCPU at a given time.
#[derive(Clone, Debug)]
pub enum Action {
    /// Work arrives (an event channel notification, a timer): a blocked
    /// vCPU is woken, a runnable one just gets more to do.
    Arrive(Work),
    /// The vCPU starts a CPU-bound load (unpaused if stopped).
    Start,
    /// The vCPU stops (paused, `csched_unit_sleep()`), its work dropped.
    Stop,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    /// csched_tick() on the pCPU (generation: stop_timer() cancels).
    Tick(u64),
    /// csched_acct(), the master ticker.
    Acct,
    /// The scheduler's slice timer (`next_time`).
    Slice(u64),
    /// The series' EDF timer (0001).
    EdfTimer(u64),
    /// The running vCPU finishes its head work item.
    WorkDone(usize, u64),
    /// A workload action.
    Workload(usize, usize),
    /// A CPU-time sample for the share windows.
    Sample,
    /// The other pCPU's tick ([`Params::other_pcpu`]).
    OtherTick,
}

/// One dispatch, for tests and tracing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dispatch {
    pub at: Ns,
    pub vcpu: Option<usize>,
    pub edf: bool,
}

/// The pCPU: `struct csched_pcpu` and the core scheduler's timers.
#[derive(Clone, Debug, Default)]
pub struct Pcpu {
    pub curr: Option<usize>,
    pub runq: Vec<usize>,
    pub edfq: Vec<usize>,
    tick_gen: u64,
    slice_gen: u64,
    edf_gen: u64,
    /// The EDF timer's expiry while it is armed.
    pub edf_timer: Option<Ns>,
    need_resched: bool,
    runq_sort_last: u64,
    pub edf_timer_fires: u64,
    pub edf_inserts: u64,
}

/// `struct csched_private`, one pCPU.
#[derive(Clone, Debug, Default)]
pub struct Private {
    /// The active list, head first (domains = vCPUs here).
    pub active: Vec<usize>,
    pub weight: u32,
    pub credit_balance: i32,
    pub runq_sort: u64,
}

/// The simulator.
pub struct Sim {
    pub p: Params,
    pub now: Ns,
    pub vcpus: Vec<Vcpu>,
    pub pcpu: Pcpu,
    pub prv: Private,
    events: BinaryHeap<Reverse<(Ns, u64, Ev)>>,
    seq: u64,
    actions: Vec<Action>,
    pub done: Vec<Done>,
    /// Per vCPU CPU time at each sample (`sample_every`).
    pub samples: Vec<(Ns, Vec<Ns>)>,
    sample_every: Ns,
    /// Draws [`TimerLate::Drawn`] lateness ([`Sim::seed_timers`]).
    timer_rng: Rng,
    /// Every dispatch, when `trace` is on.
    pub trace: Option<Vec<Dispatch>>,
    /// The unit of [`Params::other_pcpu`], after the scenario's.
    pub other: Option<usize>,
    other_rng: Rng,
    other_burnt: Ns,
}

impl Sim {
    /// A pCPU with these domains. Refuses what 0007's admission refuses.
    pub fn new(p: Params, specs: Vec<VcpuSpec>) -> Result<Sim, String> {
        let bound = p.rt_util_pct.min(90) * 10_000;
        let mut pool = 0;
        for s in &specs {
            if s.rt.mode != RtMode::None {
                edf::check(&s.rt).map_err(|e| format!("{}: {e}", s.name))?;
                if s.dom0 {
                    return Err(format!(
                        "{}: the hardware domain cannot be real-time",
                        s.name
                    ));
                }
                if !p.patched {
                    return Err(format!("{}: real-time parameters need the series", s.name));
                }
            }
            let u = s.rt.util_ppm();
            pool += u;
            if u > bound || pool > bound {
                return Err(format!(
                    "{}: real-time admission refused: {pool} ppm over 1 pCPU, the bound is {bound} ppm",
                    s.name
                ));
            }
        }
        let mut vcpus: Vec<Vcpu> = specs.into_iter().map(Vcpu::new).collect();
        let other = p.other_pcpu.map(|o| {
            vcpus.push(Vcpu::new(
                VcpuSpec::new("other pCPU", Behaviour::Idle).weight(o.weight),
            ));
            vcpus.len() - 1
        });
        let mut sim = Sim {
            p,
            now: 0,
            vcpus,
            pcpu: Pcpu::default(),
            prv: Private::default(),
            events: BinaryHeap::new(),
            seq: 0,
            actions: Vec::new(),
            done: Vec::new(),
            samples: Vec::new(),
            sample_every: 0,
            timer_rng: Rng::new(0),
            trace: None,
            other,
            other_rng: Rng::new(1),
            other_burnt: 0,
        };
        // init_pdata(): the tick and the master ticker start with the pCPU.
        let (tick, tslice) = (sim.p.tick, sim.p.tslice);
        sim.push(tick, Ev::Tick(0));
        sim.push(tslice, Ev::Acct);
        if other.is_some() {
            sim.push(tick, Ev::OtherTick);
        }
        Ok(sim)
    }

    /// Schedules a workload action.
    pub fn at(&mut self, t: Ns, vcpu: usize, a: Action) {
        self.actions.push(a);
        let i = self.actions.len() - 1;
        self.push(t, Ev::Workload(vcpu, i));
    }

    /// Records every vCPU's CPU time every `every` ns (from `every`).
    pub fn sample_every(&mut self, every: Ns) {
        self.sample_every = every;
        self.push(every, Ev::Sample);
    }

    /// Puts vCPU v out of credit as accounting would have: OVER with
    /// `credit`, on the active list (for tests).
    pub fn force_over(&mut self, v: usize, credit: i32) {
        self.vcpus[v].pri = Pri::Over;
        self.vcpus[v].credit = credit;
        if !self.vcpus[v].active {
            self.vcpus[v].active = true;
            self.prv.active.insert(0, v);
            self.prv.weight += self.vcpus[v].spec.weight;
        }
    }

    pub fn enable_trace(&mut self) {
        self.trace = Some(Vec::new());
    }

    fn push(&mut self, t: Ns, ev: Ev) {
        self.seq += 1;
        self.events.push(Reverse((t, self.seq, ev)));
    }

    /// CPU time of vCPU v up to now.
    pub fn cpu_time(&self, v: usize) -> Ns {
        let vc = &self.vcpus[v];
        if vc.state == State::Running {
            vc.cpu + (self.now - vc.state_entry)
        } else {
            vc.cpu
        }
    }

    /// Runs until `end` (events at `end` included).
    pub fn run_until(&mut self, end: Ns) {
        while let Some(Reverse((t, _, _))) = self.events.peek() {
            if *t > end {
                break;
            }
            let Reverse((t, _, ev)) = self.events.pop().expect("peeked");
            self.now = t;
            self.handle(ev);
            if self.pcpu.need_resched {
                self.schedule();
            }
        }
        self.now = self.now.max(end);
    }

    fn handle(&mut self, ev: Ev) {
        let now = self.now;
        match ev {
            Ev::Tick(g) if g == self.pcpu.tick_gen => self.csched_tick(),
            Ev::Acct => {
                self.csched_acct();
                let t = now + self.p.tslice + self.timer_late();
                self.push(t, Ev::Acct);
            }
            Ev::Slice(g) if g == self.pcpu.slice_gen => self.pcpu.need_resched = true,
            Ev::EdfTimer(g) if g == self.pcpu.edf_gen => {
                self.pcpu.edf_timer = None;
                self.csched_edf_tick();
            }
            Ev::WorkDone(v, g) if g == self.vcpus[v].work_gen => {
                self.advance_work(v);
                if self.vcpus[v].has_work() {
                    self.arm_work(v);
                } else {
                    // The guest blocks (SCHEDOP_block): csched_unit_sleep()
                    // on a running unit raises the schedule softirq.
                    self.pcpu.need_resched = true;
                }
            }
            Ev::Workload(v, i) => {
                let a = std::mem::replace(&mut self.actions[i], Action::Stop);
                self.workload(v, a);
            }
            Ev::Sample => {
                let cpu = (0..self.vcpus.len()).map(|v| self.cpu_time(v)).collect();
                self.samples.push((now, cpu));
                let t = now + self.sample_every;
                self.push(t, Ev::Sample);
            }
            Ev::OtherTick => {
                self.other_tick();
                let t = now + self.p.tick + self.timer_late();
                self.push(t, Ev::OtherTick);
            }
            _ => {} // a cancelled timer
        }
    }

    /// The other pCPU's unit: debited for the time since, and onto the
    /// active list if its tick finds it running.
    fn other_tick(&mut self) {
        let (Some(v), Some(o)) = (self.other, self.p.other_pcpu) else {
            return;
        };
        let busy = u64::from(o.busy_permille);
        let owed = self.now * busy * credit::CREDITS_PER_MSEC as u64 / (1000 * MS);
        self.vcpus[v].credit -= (owed - self.other_burnt) as i32;
        self.other_burnt = owed;
        if self.other_rng.below(1000) < busy && !self.vcpus[v].active {
            self.acct_start(v);
        }
    }

    fn workload(&mut self, v: usize, a: Action) {
        match a {
            Action::Arrive(w) => {
                // Progress so far is accounted first (the background load
                // took it if there was nothing else).
                self.advance_work(v);
                let vc = &mut self.vcpus[v];
                // A tick still pending absorbs the next (a kernel that ran
                // late catches up its jiffies at once, not tick by tick).
                if w.stream == Stream::Tick && vc.work.iter().any(|o| o.stream == Stream::Tick) {
                    return;
                }
                // An interrupt's work (a ping, a send) runs before the
                // guest's own computation.
                let pos = match w.stream {
                    Stream::Compute => vc.work.len(),
                    _ => vc
                        .work
                        .iter()
                        .position(|o| o.stream == Stream::Compute)
                        .unwrap_or(vc.work.len()),
                };
                vc.work.insert(pos, w);
                match vc.state {
                    State::Blocked => self.csched_unit_wake(v),
                    State::Running => self.arm_work(v),
                    State::Queued => {}
                }
            }
            Action::Start => {
                self.vcpus[v].background = true;
                if self.vcpus[v].state == State::Blocked {
                    self.csched_unit_wake(v);
                }
            }
            Action::Stop => {
                self.advance_work(v);
                let vc = &mut self.vcpus[v];
                vc.background = false;
                vc.work.clear();
                vc.work_gen += 1;
                match vc.state {
                    State::Running => self.pcpu.need_resched = true,
                    State::Queued => self.csched_unit_sleep(v),
                    State::Blocked => {}
                }
            }
        }
    }

    /// Applies the running vCPU's progress since `work_since` to its work
    /// items, recording those that finish.
    fn advance_work(&mut self, v: usize) {
        let now = self.now;
        let vc = &mut self.vcpus[v];
        if vc.state != State::Running {
            return;
        }
        let mut t = vc.work_since;
        while let Some(w) = vc.work.front_mut() {
            let step = w.left.min(now - t);
            w.left -= step;
            t += step;
            if w.left > 0 {
                break;
            }
            let w = vc.work.pop_front().expect("front");
            self.done.push(Done {
                vcpu: v,
                stream: w.stream,
                seq: w.seq,
                origin: w.origin,
                at: t,
            });
            // A waker sleeps after its spin, then computes again.
            if let (Behaviour::Waker { spin, sleep }, Stream::Compute) =
                (&vc.spec.behaviour, w.stream)
            {
                let (spin, sleep) = (*spin, *sleep);
                let at = t + sleep;
                let w = Work {
                    left: spin,
                    origin: at,
                    stream: w.stream,
                    seq: w.seq + 1,
                };
                self.actions.push(Action::Arrive(w));
                let i = self.actions.len() - 1;
                self.seq += 1;
                self.events
                    .push(Reverse((at, self.seq, Ev::Workload(v, i))));
            }
        }
        vc.work_since = now;
    }

    /// Arms the completion of the running vCPU's head work item.
    fn arm_work(&mut self, v: usize) {
        let vc = &mut self.vcpus[v];
        vc.work_gen += 1;
        if let Some(w) = vc.work.front() {
            let (t, g) = (self.now + w.left, vc.work_gen);
            self.push(t, Ev::WorkDone(v, g));
        }
    }

    fn set_slice_timer(&mut self, slice: Option<Ns>) {
        self.pcpu.slice_gen += 1;
        if let Some(s) = slice {
            let (t, g) = (self.now + s, self.pcpu.slice_gen);
            self.push(t, Ev::Slice(g));
        }
    }

    /// Seeds the draws of credit's timer lateness.
    pub fn seed_timers(&mut self, seed: u64) {
        // Not the workloads' sequence (they are seeded with `seed` too).
        self.timer_rng = Rng::new(seed.rotate_left(32) ^ 0x7469_6d65_725f_6c61);
        self.other_rng = Rng::new(seed.rotate_left(16) ^ 0x6f74_6865_725f_7063);
    }

    /// How late credit's timer that fires now is ([`Params::timer_late`]).
    pub(crate) fn timer_late(&mut self) -> Ns {
        self.p.timer_late.draw(&mut self.timer_rng)
    }

    fn set_tick(&mut self, at: Option<Ns>) {
        self.pcpu.tick_gen += 1;
        if let Some(t) = at {
            let g = self.pcpu.tick_gen;
            self.push(t, Ev::Tick(g));
        }
    }

    /// `edf_arm()` (0001): make the EDF timer fire at `when` unless it is
    /// armed to fire earlier.
    fn edf_arm(&mut self, when: Ns) {
        if !matches!(self.pcpu.edf_timer, Some(e) if e <= when) {
            self.pcpu.edf_gen += 1;
            self.pcpu.edf_timer = Some(when);
            let g = self.pcpu.edf_gen;
            self.push(when, Ev::EdfTimer(g));
        }
    }

    /// The core scheduler's context switch after csched_schedule() chose
    /// `snext` with slice `tslice`.
    fn switch_to(&mut self, prev: Option<usize>, snext: Option<usize>, tslice: Ns) {
        let now = self.now;
        if let Some(c) = prev {
            if snext != Some(c) {
                let vc = &mut self.vcpus[c];
                vc.cpu += now - vc.state_entry;
                vc.work_gen += 1;
            }
        }
        if let Some(n) = snext {
            let vc = &mut self.vcpus[n];
            if prev != Some(n) {
                vc.state_entry = now;
            }
            vc.state = State::Running;
            vc.work_since = now;
            self.arm_work(n);
        }
        self.pcpu.curr = snext;
        self.set_slice_timer(snext.map(|_| tslice));
        if let Some(tr) = self.trace.as_mut() {
            if prev != snext || snext.is_some_and(|n| self.vcpus[n].edf_run) {
                tr.push(Dispatch {
                    at: now,
                    vcpu: snext,
                    edf: snext.is_some_and(|n| self.vcpus[n].edf_run),
                });
            }
        }
    }
}
