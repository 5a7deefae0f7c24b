//! Stock credit (Xen 4.17 `xen/common/sched/credit.c`), one pCPU, with the
//! series' hooks (in [`super::edf`]) called where the patches call them,
//! each guarded by `Params::patched`.

use super::{Ns, Pri, Sim, State, MS, US};

/// `CSCHED_CREDITS_PER_MSEC`.
pub const CREDITS_PER_MSEC: i32 = 10;
/// `CSCHED_MIN_TIMER` = `XEN_SYSCTL_SCHED_RATELIMIT_MIN` (100 µs).
pub const MIN_TIMER: Ns = 100 * US;

impl Sim {
    /// `burn_credits()`: debit the running unit for the time since
    /// `start_time`. Kept exactly as 4.17 has it: the remainder is carried
    /// both in `residual` and by advancing `start_time` only by whole
    /// credits, so a unit descheduled often is debited slightly more than
    /// it ran.
    pub(crate) fn burn_credits(&mut self, v: usize) {
        let now = self.now as i64;
        let vc = &mut self.vcpus[v];
        let delta = now - vc.start_time;
        if delta <= 0 {
            return;
        }
        let val = delta as u64 * CREDITS_PER_MSEC as u64 + vc.residual;
        vc.residual = val % MS;
        let credits = (val / MS) as i32;
        vc.credit -= credits;
        vc.start_time += credits as i64 * MS as i64 / CREDITS_PER_MSEC as i64;
    }

    /// `__runq_insert()`: behind every unit of the same or higher priority
    /// (yield is not modelled). The series stamps `runq_ticket` (0003).
    pub(crate) fn runq_insert(&mut self, v: usize) {
        self.vcpus[v].runq_ticket = self.now;
        let pri = self.vcpus[v].pri;
        let pos = self.pcpu.runq.iter().position(|&o| pri > self.vcpus[o].pri);
        let pos = pos.unwrap_or(self.pcpu.runq.len());
        self.pcpu.runq.insert(pos, v);
        self.vcpus[v].state = State::Queued;
    }

    fn runq_remove(&mut self, v: usize) {
        self.pcpu.runq.retain(|&o| o != v);
    }

    /// `csched_runq_sort()`: once per accounting period, move the units of
    /// priority UNDER and above ahead of the others, keeping their order.
    fn csched_runq_sort(&mut self) {
        if self.pcpu.runq_sort_last == self.prv.runq_sort {
            return;
        }
        self.pcpu.runq_sort_last = self.prv.runq_sort;
        let (mut up, mut down): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
        for &v in &self.pcpu.runq {
            if self.vcpus[v].pri >= Pri::Under {
                up.push(v)
            } else {
                down.push(v)
            }
        }
        up.extend(down);
        self.pcpu.runq = up;
    }

    /// `__csched_unit_acct_start()`: onto the active list (head), its
    /// weight into the total.
    pub(crate) fn acct_start(&mut self, v: usize) {
        self.vcpus[v].active = true;
        self.prv.active.insert(0, v);
        self.prv.weight += self.vcpus[v].spec.weight;
    }

    /// `__csched_unit_acct_stop_locked()`.
    fn acct_stop(&mut self, v: usize) {
        self.vcpus[v].active = false;
        self.prv.active.retain(|&o| o != v);
        self.prv.weight -= self.vcpus[v].spec.weight;
    }

    /// `csched_tick()` and `csched_unit_acct()`: every tick the running unit
    /// loses BOOST, is debited and, if it was idling, joins the active list;
    /// then the runq is sorted if accounting ran since.
    pub(crate) fn csched_tick(&mut self) {
        if let Some(c) = self.pcpu.curr {
            if self.vcpus[c].pri == Pri::Boost {
                self.vcpus[c].pri = Pri::Under;
            }
            self.burn_credits(c);
            if !self.vcpus[c].active {
                self.acct_start(c);
            }
            // (else: _csched_cpu_pick() for a migration; one pCPU here.)
            if self.p.patched {
                self.driver_pri(c);
            }
        }
        self.csched_runq_sort();
        let t = self.now + self.p.tick + self.timer_late();
        self.set_tick(Some(t));
    }

    /// `csched_acct()`: every tslice, credit by weight to the active units
    /// (caps not modelled), priorities recomputed, credit bounded to
    /// ±one slice's worth (a unit above it stops earning, its credit halved).
    pub(crate) fn csched_acct(&mut self) {
        let cpt = self.p.credits_per_tslice();
        let weight_total = self.prv.weight as i64;
        let mut credit_total = cpt as i64 * i64::from(self.p.pool_pcpus); // prv->credit
        if self.prv.credit_balance < 0 {
            credit_total -= self.prv.credit_balance as i64;
        }
        if weight_total == 0 {
            self.prv.credit_balance = 0;
            return;
        }
        let mut weight_left = weight_total;
        let mut credit_balance: i64 = 0;
        let mut credit_xtra = false;
        let list = self.prv.active.clone();
        for v in list {
            let w = self.vcpus[v].spec.weight as i64;
            weight_left -= w;
            let mut credit_peak = cpt as i64;
            if self.prv.credit_balance < 0 {
                credit_peak +=
                    (-(self.prv.credit_balance as i64) * w + weight_total - 1) / weight_total;
            }
            let mut credit_fair = (credit_total * w + weight_total - 1) / weight_total;
            if credit_fair < credit_peak {
                credit_xtra = true;
            } else {
                if weight_left != 0 {
                    credit_total += ((credit_fair - credit_peak) * weight_total + weight_left - 1)
                        / weight_left;
                }
                if credit_xtra {
                    self.prv.active.retain(|&o| o != v);
                    self.prv.active.insert(0, v);
                }
                credit_fair = credit_peak;
            }
            let credit_fair = credit_fair as i32;
            // The series sets the reserve apart here (0004).
            if self.p.patched && self.vcpus[v].spec.reserve_pct > 0 {
                self.reserve_set_apart(v, credit_fair);
            } else {
                self.vcpus[v].credit += credit_fair;
            }
            let mut credit = self.vcpus[v].credit;
            if credit < 0 {
                self.vcpus[v].pri = Pri::Over;
                if credit < -cpt {
                    credit = -cpt;
                    self.vcpus[v].credit = credit;
                }
            } else {
                self.vcpus[v].pri = Pri::Under;
                if credit > cpt {
                    self.acct_stop(v);
                    credit /= 2;
                    self.vcpus[v].credit = credit;
                }
            }
            if self.p.patched {
                self.driver_pri(v);
            }
            credit_balance += credit as i64;
        }
        self.prv.credit_balance = credit_balance as i32;
        self.prv.runq_sort += 1;
    }

    /// `csched_unit_wake()`: a unit woken while UNDER is BOOSTed; the
    /// series spends the reserve first (0004) and releases a job (0001, 0002).
    pub(crate) fn csched_unit_wake(&mut self, v: usize) {
        if self.p.patched {
            self.driver_pri(v);
            self.reserve_spend(v);
        }
        if self.vcpus[v].pri == Pri::Under {
            self.vcpus[v].pri = Pri::Boost;
        }
        if self.p.patched && self.vcpus[v].is_rt() {
            self.rt_wake(v);
        }
        self.runq_insert(v);
        self.runq_tickle(v);
    }

    /// `__runq_tickle()`, one pCPU: preempt if the pCPU idles or the woken
    /// unit's priority is strictly higher than the running one's.
    fn runq_tickle(&mut self, v: usize) {
        let cur = self.pcpu.curr.map_or(Pri::Idle, |c| self.vcpus[c].pri);
        if cur == Pri::Idle || self.vcpus[v].pri > cur {
            self.pcpu.need_resched = true;
        }
    }

    /// `csched_unit_sleep()` on a queued unit (a running one reschedules).
    pub(crate) fn csched_unit_sleep(&mut self, v: usize) {
        self.runq_remove(v);
        self.vcpus[v].state = State::Blocked;
        if self.p.patched {
            self.edfq_remove(v);
            self.vcpus[v].turn_left = 0;
        }
    }

    /// `csched_schedule()` with the series' changes (0001, 0007, 0009,
    /// 0011) where `patched`, and the core's context switch.
    pub(crate) fn schedule(&mut self) {
        self.pcpu.need_resched = false;
        let now = self.now;
        let scurr = self.pcpu.curr;
        let mut runnable = false;
        let mut runtime = 0;
        if let Some(c) = scurr {
            self.advance_work(c);
            runnable = self.vcpus[c].has_work();
            runtime = now - self.vcpus[c].state_entry;
            self.burn_credits(c);
            self.vcpus[c].start_time -= now as i64;
        }

        // Rate limiting: a unit that has run less than ratelimit goes on.
        // The series never holds a due EDF head back, nor stretches a
        // real-time unit's slice (0001).
        if let Some(c) = scurr {
            let rt_ok = !self.p.patched || (!self.vcpus[c].is_rt() && self.edf_due().is_none());
            if runnable && self.p.ratelimit > 0 && runtime < self.p.ratelimit && rt_ok {
                self.vcpus[c].start_time += now as i64;
                let tslice = if runtime < MIN_TIMER {
                    MIN_TIMER
                } else {
                    self.p.ratelimit - runtime
                };
                self.switch_to(scurr, scurr, tslice);
                return;
            }
        }
        let mut tslice = self.p.tslice;

        let mut due = None;
        let mut driver_next = false;
        if self.p.patched {
            if let Some(c) = scurr {
                self.driver_pri(c);
            }
            due = self.edf_due();
            // The driver domain is never preempted (0011).
            driver_next = self
                .pcpu
                .runq
                .first()
                .is_some_and(|&h| self.vcpus[h].pri == Pri::Driver);
            let scurr_driver = scurr.is_some_and(|c| runnable && self.vcpus[c].pri == Pri::Driver);
            if due.is_some() && (scurr_driver || driver_next) {
                due = None;
            }
        }

        if let Some(c) = scurr {
            if runnable {
                let out_of_turn =
                    due.is_some() || (driver_next && self.vcpus[c].pri != Pri::Driver);
                if self.p.patched && self.keeps_place(c, out_of_turn) {
                    self.runq_insert_kept(c);
                } else {
                    self.runq_insert(c);
                }
            } else {
                self.vcpus[c].state = State::Blocked;
                self.vcpus[c].turn_left = 0;
            }
            if self.p.patched && self.vcpus[c].is_rt() {
                self.rt_deschedule(c, runnable);
            }
        }

        // Pick: a due EDF head, else the head of the runq (or idle).
        let snext = match due {
            Some(d) => {
                self.runq_remove(d);
                self.vcpus[d].edf_dispatches += 1;
                Some(d)
            }
            None => {
                if self.pcpu.runq.is_empty() {
                    None
                } else {
                    Some(self.pcpu.runq.remove(0))
                }
            }
        };
        if let Some(n) = snext {
            self.vcpus[n].start_time += now as i64;
            if self.p.patched {
                self.edfq_remove(n);
                tslice = self.edf_dispatch(n, due == Some(n), tslice);
            }
        }
        if self.p.patched {
            self.edf_arm_after_schedule(snext);
        }

        // Stop credit's tick when going idle, restart it aligned when
        // leaving idle.
        if scurr.is_some() && snext.is_none() {
            self.set_tick(None);
        }
        if scurr.is_none() && snext.is_some() {
            let t = now + self.p.tick - now % self.p.tick;
            self.set_tick(Some(t));
        }
        self.switch_to(scurr, snext, tslice);
    }
}
