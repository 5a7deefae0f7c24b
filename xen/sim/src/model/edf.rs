//! The series (`xen/patches/0001`..`0013`): the per-pCPU EDF runqueue, jobs
//! with budgets, the one-shot EDF timer, places kept in the credit queue,
//! the I/O credit reserve and the driver-domain priority. Each function
//! names the credit.c function of the patched tree it models.

use super::credit::MIN_TIMER;
use super::{Ns, Pri, Rt, RtMode, Sim, MS, US};

/// `CSCHED_EDF_RETRY` (0001).
pub const EDF_RETRY: Ns = 500 * US;

/// `csched_rt_check()` (0005, 0007): the parameter rules.
pub fn check(rt: &Rt) -> Result<(), String> {
    if !(500 * US..=1000 * MS).contains(&rt.deadline) {
        return Err("deadline outside [500, 1000000] us".into());
    }
    if let RtMode::Periodic { period } = rt.mode {
        if period < rt.deadline || period > 1000 * MS {
            return Err("period outside [deadline, 1000000] us".into());
        }
    }
    if rt.budget < 100 * US || rt.budget > rt.deadline {
        return Err("budget outside [100, deadline] us".into());
    }
    Ok(())
}

impl Sim {
    /// `is_driver_unit()` (0011): dom0 made the driver domain. Its budget
    /// per period is not modelled: the priority is unbounded here.
    fn is_driver(&self, v: usize) -> bool {
        self.p.driver_priority && self.vcpus[v].spec.dom0
    }

    /// `driver_pri()` (0011): falling back, OVER only with negative credit
    /// on the active list, as `csched_acct()` would make it.
    pub(crate) fn driver_pri(&mut self, v: usize) {
        let driver = self.is_driver(v);
        let vc = &mut self.vcpus[v];
        if driver {
            vc.pri = Pri::Driver;
        } else if vc.pri == Pri::Driver {
            vc.pri = if vc.credit < 0 && vc.active {
                Pri::Over
            } else {
                Pri::Under
            };
        }
    }

    /// `csched_acct()` (0004): set `reserve` % of the earned credit apart;
    /// the reserve carries over, capped at one slice's worth, and what a
    /// full reserve cannot take stays credit.
    pub(crate) fn reserve_set_apart(&mut self, v: usize, credit_fair: i32) {
        let cap = self.p.credits_per_tslice();
        let vc = &mut self.vcpus[v];
        let wanted = credit_fair * vc.spec.reserve_pct as i32 / 100;
        let set_apart = wanted.min(cap - vc.reserve).max(0);
        vc.credit += credit_fair - set_apart;
        vc.reserve += set_apart;
    }

    /// `csched_unit_wake()` (0004): woken from blocked while OVER, the whole
    /// reserve moves into the credit; UNDER then if the credit is ≥ 0.
    pub(crate) fn reserve_spend(&mut self, v: usize) {
        let vc = &mut self.vcpus[v];
        if vc.pri == Pri::Over && vc.reserve > 0 {
            vc.credit += vc.reserve;
            vc.reserve = 0;
            vc.reserve_spent += 1;
            if vc.credit >= 0 {
                vc.pri = Pri::Under;
            }
        }
    }

    /// `rt_sync()` (0001, 0007): the job sequence starts at the first event
    /// after the parameters were set; returns whether it starts now.
    fn rt_sync(&mut self, v: usize) -> bool {
        let now = self.now;
        let vc = &mut self.vcpus[v];
        if vc.rt_synced {
            return false;
        }
        vc.rt_synced = true;
        vc.release = now;
        vc.job_ran = 0;
        vc.deadline = 0;
        true
    }

    /// `rt_released()` (0001, 0002, 0007): a wake-up from blocked releases a
    /// job; a periodic vCPU's is the job of the period the wake-up falls in,
    /// with what is left of its budget, due at once if woken past its
    /// deadline.
    fn rt_released(&mut self, v: usize) {
        self.rt_sync(v);
        let now = self.now;
        let vc = &mut self.vcpus[v];
        let d = vc.spec.rt.deadline;
        match vc.spec.rt.mode {
            RtMode::Periodic { period } => {
                // The periods slept through are dropped.
                if now >= vc.release + period {
                    vc.release += (now - vc.release) / period * period;
                    vc.job_ran = 0;
                }
                vc.deadline = (vc.release + d).max(now);
            }
            RtMode::Aperiodic => {
                vc.release = now;
                vc.deadline = now + d;
                vc.job_ran = 0;
            }
            RtMode::None => vc.deadline = 0,
        }
    }

    /// `rt_served()` (0001, 0002, 0007, 0009): `v` was descheduled after running
    /// since `run_start`. A periodic job ends with its budget or its period,
    /// not when the vCPU blocks; an aperiodic one also when it blocks.
    fn rt_served(&mut self, v: usize, runnable: bool) {
        let restarted = self.rt_sync(v);
        let now = self.now;
        let vc = &mut self.vcpus[v];
        let ran = now - vc.run_start;
        let budget = vc.spec.rt.budget;
        match vc.spec.rt.mode {
            RtMode::Periodic { period } => {
                if now < vc.release {
                    vc.job_ran = 0;
                } else {
                    // Descheduled a period or more after the release: the
                    // latest release's job is the one running now.
                    let over = (now - vc.release) / period * period;
                    if over > 0 {
                        vc.release += over;
                        vc.job_ran = 0;
                    }
                    vc.job_ran += ran.min(now - vc.release);
                    if vc.job_ran >= budget {
                        vc.release += period;
                        vc.job_ran = 0;
                    }
                }
                // A job woken past its release's deadline keeps the wake-up's.
                vc.deadline = vc.deadline.max(vc.release + vc.spec.rt.deadline);
            }
            // Blocked: no job until the next event. Served still runnable:
            // the next job a deadline after this one's release, not before
            // now (a sporadic server's replenishment). Made aperiodic while
            // runnable: the first job now.
            RtMode::Aperiodic => {
                let d = vc.spec.rt.deadline;
                if !runnable {
                    vc.deadline = 0;
                } else if restarted {
                    vc.deadline = now + d;
                } else if vc.deadline == 0 {
                    // Never released.
                } else if now < vc.release {
                    vc.job_ran = 0;
                } else {
                    vc.job_ran += ran.min(now - vc.release);
                    if vc.job_ran >= budget {
                        vc.release = (vc.release + d).max(now);
                        vc.deadline = vc.release + d;
                        vc.job_ran = 0;
                    }
                }
            }
            RtMode::None => vc.deadline = 0,
        }
    }

    /// `edfq_insert()` (0001): in deadline order, behind equal ones.
    fn edfq_insert(&mut self, v: usize) {
        let d = self.vcpus[v].deadline;
        debug_assert!(d != 0 && !self.pcpu.edfq.contains(&v));
        let pos = self
            .pcpu
            .edfq
            .iter()
            .position(|&o| d < self.vcpus[o].deadline);
        let pos = pos.unwrap_or(self.pcpu.edfq.len());
        self.pcpu.edfq.insert(pos, v);
        self.pcpu.edf_inserts += 1;
    }

    /// `edfq_remove()`.
    pub(crate) fn edfq_remove(&mut self, v: usize) {
        self.pcpu.edfq.retain(|&o| o != v);
    }

    /// `edf_due()`: the EDF head if its deadline has arrived.
    pub(crate) fn edf_due(&self) -> Option<usize> {
        let h = *self.pcpu.edfq.first()?;
        (self.vcpus[h].deadline <= self.now).then_some(h)
    }

    /// The real-time part of `csched_unit_wake()` (0001, 0002): a unit woken
    /// from blocked has a job released; a new head arms the EDF timer.
    pub(crate) fn rt_wake(&mut self, v: usize) {
        self.rt_released(v);
        if self.vcpus[v].deadline != 0 {
            self.edfq_insert(v);
            if self.pcpu.edfq.first() == Some(&v) {
                self.edf_arm(self.vcpus[v].deadline);
            }
        }
    }

    /// The real-time part of `csched_schedule()` for the unit descheduled:
    /// `rt_served()`, and its next deadline queued if it is still queued.
    pub(crate) fn rt_deschedule(&mut self, v: usize, runnable: bool) {
        self.rt_served(v, runnable);
        if self.vcpus[v].deadline != 0 && runnable {
            self.edfq_insert(v);
        }
    }

    /// `keeps_place()` (0003): does the descheduled, still runnable unit
    /// keep its credit-queue place? Yes after an EDF slice, or when what
    /// runs next runs out of turn and cuts its slice short (then it keeps
    /// the rest of the slice too).
    pub(crate) fn keeps_place(&mut self, v: usize, out_of_turn: bool) -> bool {
        let now = self.now;
        let vc = &mut self.vcpus[v];
        if vc.edf_run {
            return true;
        }
        if out_of_turn && vc.slice_end >= now + MIN_TIMER {
            vc.turn_left = vc.slice_end - now;
            return true;
        }
        vc.turn_left = 0;
        false
    }

    /// `__runq_insert_kept()` (0003): back where it was, by priority and
    /// then by when it joined the tail.
    pub(crate) fn runq_insert_kept(&mut self, v: usize) {
        let (pri, ticket) = (self.vcpus[v].pri, self.vcpus[v].runq_ticket);
        let pos = self.pcpu.runq.iter().position(|&o| {
            let ov = &self.vcpus[o];
            pri > ov.pri || (pri == ov.pri && ticket < ov.runq_ticket)
        });
        let pos = pos.unwrap_or(self.pcpu.runq.len());
        self.pcpu.runq.insert(pos, v);
        self.vcpus[v].state = super::State::Queued;
    }

    /// The end of `csched_schedule()` (0001, 0007): an EDF dispatch runs
    /// the rest of the job's budget (at least `CSCHED_MIN_TIMER`); a credit
    /// dispatch runs a full slice, or the rest of one cut short.
    pub(crate) fn edf_dispatch(&mut self, n: usize, edf: bool, tslice: Ns) -> Ns {
        let now = self.now;
        let vc = &mut self.vcpus[n];
        vc.edf_run = edf;
        let slice = if edf {
            vc.spec.rt.budget.saturating_sub(vc.job_ran).max(MIN_TIMER)
        } else if vc.turn_left > 0 {
            std::mem::take(&mut vc.turn_left)
        } else {
            tslice
        };
        vc.run_start = now;
        vc.slice_end = now + slice;
        if vc.is_rt() {
            vc.rt_dispatches += 1;
        }
        slice
    }

    /// The EDF timer at the end of `csched_schedule()` (0001): for the
    /// head's deadline; a due head not dispatched now is retried after
    /// `CSCHED_EDF_RETRY` unless an EDF slice or the driver domain runs.
    pub(crate) fn edf_arm_after_schedule(&mut self, snext: Option<usize>) {
        let Some(&h) = self.pcpu.edfq.first() else {
            return;
        };
        let d = self.vcpus[h].deadline;
        if d > self.now {
            self.edf_arm(d);
        } else {
            let (edf_run, pri) = snext.map_or((false, Pri::Idle), |n| {
                (self.vcpus[n].edf_run, self.vcpus[n].pri)
            });
            if !edf_run && pri != Pri::Driver {
                self.edf_arm(self.now + EDF_RETRY);
            }
        }
    }

    /// `csched_edf_tick()` (0001): the timer fired.
    pub(crate) fn csched_edf_tick(&mut self) {
        self.pcpu.edf_timer_fires += 1;
        let Some(&h) = self.pcpu.edfq.first() else {
            return;
        };
        let d = self.vcpus[h].deadline;
        if d > self.now {
            self.edf_arm(d);
            return;
        }
        let (edf_run, pri) = self.pcpu.curr.map_or((false, Pri::Idle), |c| {
            (self.vcpus[c].edf_run, self.vcpus[c].pri)
        });
        if !edf_run && pri != Pri::Driver {
            self.pcpu.need_resched = true;
        }
    }
}
