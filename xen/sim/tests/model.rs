//! Behaviour of the model: credit's shares, BOOST, rate limiting, the
//! series' EDF service, budgets, the reserve, and the bar.

use xen_sched_sim::model::{
    draw, mean, Action, Ns, Params, Pri, Rt, Sim, State, TimerLate, VcpuSpec, Work, MS, SEC,
    TIMER_LATE, US,
};
use xen_sched_sim::scenario::{
    fig6_one, fig7_on, fig7_one, fig7_tick_for_share, run, Host, TCG_DOM0, TCG_TICK_SPREAD,
    TCG_TIMER_LATE,
};
use xen_sched_sim::workload::{Behaviour, Rng, Stream};

fn hog(name: &str) -> VcpuSpec {
    VcpuSpec::new(name, Behaviour::Hog)
}

fn share(sim: &Sim, v: usize, over: Ns) -> f64 {
    sim.cpu_time(v) as f64 / over as f64
}

#[test]
fn a_lone_hog_gets_the_whole_pcpu() {
    for p in [Params::stock(), Params::patched()] {
        let sim = run(p, vec![hog("h")], 10 * SEC, 1).unwrap();
        assert_eq!(sim.cpu_time(0), 10 * SEC);
    }
}

#[test]
fn equal_hogs_share_equally_within_one_percent() {
    for n in [2, 3, 5] {
        let specs = (0..n).map(|i| hog(&format!("h{i}"))).collect();
        let sim = run(Params::stock(), specs, 10 * SEC, 1).unwrap();
        for v in 0..n {
            let s = share(&sim, v, 10 * SEC);
            assert!(
                (s - 1.0 / n as f64).abs() <= 0.01,
                "{n} hogs: hog {v} got {s}"
            );
        }
    }
}

#[test]
fn weights_set_the_shares() {
    // 768 : 256 : 256 -> 60 / 20 / 20 %.
    let specs = vec![hog("a").weight(768), hog("b"), hog("c")];
    let sim = run(Params::stock(), specs, 10 * SEC, 1).unwrap();
    assert!(
        (share(&sim, 0, 10 * SEC) - 0.6).abs() <= 0.01,
        "{}",
        share(&sim, 0, 10 * SEC)
    );
    assert!((share(&sim, 1, 10 * SEC) - 0.2).abs() <= 0.01);
}

/// Two hogs and an idle guest; at 105 ms the guest is woken with priority
/// `pri` (set just before); returns when it was first dispatched after.
fn wake_at_105ms(p: Params, pri: Pri, reserve: i32) -> Ns {
    let g = VcpuSpec::new("g", Behaviour::Idle).reserve(if reserve > 0 { 10 } else { 0 });
    let mut sim = Sim::new(p, vec![hog("a"), hog("b"), g]).unwrap();
    sim.at(0, 0, Action::Start);
    sim.at(0, 1, Action::Start);
    let w = Work {
        left: 50 * US,
        origin: 105 * MS,
        stream: Stream::Ping,
        seq: 0,
    };
    sim.at(105 * MS, 2, Action::Arrive(w));
    sim.enable_trace();
    sim.run_until(104 * MS);
    // A hog has run for more than the rate limit (slices switch at 30,
    // 60, 90 ms).
    assert!(sim.vcpus[0].state == State::Running || sim.vcpus[1].state == State::Running);
    if pri == Pri::Over {
        sim.force_over(2, -50);
    } else {
        sim.vcpus[2].pri = pri;
    }
    sim.vcpus[2].reserve = reserve;
    sim.run_until(SEC);
    let tr = sim.trace.as_ref().unwrap();
    tr.iter()
        .find(|d| d.vcpu == Some(2))
        .map(|d| d.at)
        .expect("the guest ran")
}

#[test]
fn a_boosted_waker_preempts_only_under_the_stock_rules() {
    // UNDER when woken: BOOST, preempts the running hog at once.
    assert_eq!(wake_at_105ms(Params::stock(), Pri::Under, 0), 105 * MS);
    // OVER: no BOOST, it waits for the hogs' slices.
    assert!(wake_at_105ms(Params::stock(), Pri::Over, 0) >= 120 * MS);
    // The series without a reserve changes nothing.
    assert!(wake_at_105ms(Params::patched(), Pri::Over, 0) >= 120 * MS);
    // The series' reserve covering the deficit makes it UNDER, so BOOSTed.
    assert_eq!(wake_at_105ms(Params::patched(), Pri::Over, 100), 105 * MS);
    // A reserve too small for the deficit does not.
    assert!(wake_at_105ms(Params::patched(), Pri::Over, 20) >= 120 * MS);
}

fn ratelimited_dispatch(ratelimit: Ns) -> Ns {
    let p = Params {
        ratelimit,
        ..Params::stock()
    };
    let mut sim = Sim::new(
        p,
        vec![hog("a"), hog("b"), VcpuSpec::new("g", Behaviour::Idle)],
    )
    .unwrap();
    sim.at(0, 0, Action::Start);
    sim.at(0, 1, Action::Start);
    // The second hog starts its slice at 30 ms; the guest (UNDER, so
    // BOOSTed) wakes 200 us later.
    let w = Work {
        left: 50 * US,
        origin: 0,
        stream: Stream::Ping,
        seq: 0,
    };
    sim.at(30 * MS + 200 * US, 2, Action::Arrive(w));
    sim.enable_trace();
    sim.run_until(100 * MS);
    let tr = sim.trace.as_ref().unwrap();
    assert!(
        tr.iter().any(|d| d.at == 30 * MS && d.vcpu == Some(1)),
        "{tr:?}"
    );
    tr.iter().find(|d| d.vcpu == Some(2)).map(|d| d.at).unwrap()
}

#[test]
fn ratelimit_is_respected() {
    assert_eq!(ratelimited_dispatch(1000 * US), 31 * MS);
    assert_eq!(ratelimited_dispatch(0), 30 * MS + 200 * US);
}

/// Pings to a blocked guest beside `hogs` hogs, forced OVER before each
/// ping (so credit never BOOSTs it); returns each ping's latency.
fn over_pings(p: Params, rt: Rt) -> Vec<Ns> {
    let mut specs = vec![VcpuSpec::new("g", Behaviour::Idle).rt(rt)];
    specs.extend((0..5).map(|i| hog(&format!("h{i}"))));
    let mut sim = Sim::new(p, specs).unwrap();
    for v in 1..6 {
        sim.at(0, v, Action::Start);
    }
    let pings: Vec<Ns> = (0..40).map(|k| SEC + k * 97 * MS).collect();
    for (k, &t) in pings.iter().enumerate() {
        let w = Work {
            left: 50 * US,
            origin: t,
            stream: Stream::Ping,
            seq: k as u64,
        };
        sim.at(t, 0, Action::Arrive(w));
    }
    for &t in &pings {
        sim.run_until(t - 1);
        sim.force_over(0, -300);
    }
    sim.run_until(pings[pings.len() - 1] + SEC);
    sim.done
        .iter()
        .filter(|d| d.vcpu == 0)
        .map(|d| d.at - d.origin)
        .collect()
}

#[test]
fn an_admitted_aperiodic_job_is_served_by_its_deadline_plus_one_edf_slice() {
    let (d, budget) = (3 * MS, 500 * US);
    let lat = over_pings(Params::patched(), Rt::aperiodic(d, budget));
    assert_eq!(lat.len(), 40);
    for l in &lat {
        assert!(
            *l <= d + budget,
            "latency {l} ns > deadline + one EDF slice"
        );
    }
    // Not BOOSTed: served from the EDF queue, at the deadline.
    assert!(lat.iter().all(|&l| l >= d), "{lat:?}");
    // Stock credit leaves the same OVER guest behind the hogs.
    let stock = over_pings(Params::stock(), Rt::NONE);
    assert!(
        stock.len() < 40 || stock.iter().max().unwrap() > &(30 * MS),
        "{stock:?}"
    );
}

/// Two real-time guests and three hogs on one pCPU for 10 s: every hog
/// gets at least its weighted share of what the 50 % bound leaves, less 2 %.
fn hogs_keep_their_share(rt_guest: Behaviour, rt: Rt) {
    let mut specs = vec![
        VcpuSpec::new("r1", rt_guest.clone()).rt(rt),
        VcpuSpec::new("r2", rt_guest).rt(rt),
    ];
    specs.extend((0..3).map(|i| hog(&format!("h{i}"))));
    let end = 10 * SEC;
    let sim = run(Params::patched(), specs, end, 3).unwrap();
    let bar = 256.0 / (5.0 * 256.0) * (1.0 - 0.5) - 0.02;
    for v in 2..5 {
        let s = share(&sim, v, end);
        assert!(s >= bar, "hog {v}: {s} < {bar}");
    }
}

#[test]
fn budgets_cap_the_edf_share_of_cpu_bound_aperiodic_guests() {
    hogs_keep_their_share(Behaviour::Hog, Rt::aperiodic(500 * US, 125 * US));
}

#[test]
fn budgets_cap_the_edf_share_of_waking_aperiodic_guests() {
    let waker = Behaviour::Waker {
        spin: 200 * US,
        sleep: 3 * MS,
    };
    hogs_keep_their_share(waker, Rt::aperiodic(5 * MS, 1250 * US));
}

#[test]
fn the_edf_timer_fires_at_most_once_per_job() {
    let waker = Behaviour::Waker {
        spin: 200 * US,
        sleep: 3 * MS,
    };
    let rt = Rt::aperiodic(5 * MS, 1250 * US);
    let specs = vec![
        VcpuSpec::new("r1", waker.clone()).rt(rt),
        VcpuSpec::new("r2", waker).rt(rt),
        hog("h"),
    ];
    let sim = run(Params::patched(), specs, 10 * SEC, 1).unwrap();
    assert!(sim.pcpu.edf_inserts > 1000);
    assert!(sim.pcpu.edf_timer_fires <= sim.pcpu.edf_inserts);
}

#[test]
fn the_reserve_is_carried_over_and_capped() {
    // A hog never wakes from blocked, so never spends its reserve.
    let specs = vec![hog("a").reserve(50), hog("b")];
    let mut sim = Sim::new(Params::patched(), specs).unwrap();
    sim.at(0, 0, Action::Start);
    sim.at(0, 1, Action::Start);
    sim.run_until(31 * MS);
    let r1 = sim.vcpus[0].reserve;
    assert!(r1 > 0);
    sim.run_until(61 * MS);
    let r2 = sim.vcpus[0].reserve;
    assert!(r2 > r1, "carried over: {r1} then {r2}");
    sim.run_until(10 * SEC);
    assert_eq!(
        sim.vcpus[0].reserve, 300,
        "capped at one slice's worth of credit"
    );
    assert_eq!(sim.vcpus[0].reserve_spent, 0);
    assert_eq!(sim.vcpus[1].reserve, 0);
    // Nothing set apart is lost: once the reserve is full, the two equal
    // hogs share the CPU equally again.
    let (a, b) = (sim.cpu_time(0), sim.cpu_time(1));
    assert!(a.abs_diff(b) * 100 < (a + b) * 2, "cpu {a} vs {b}");
}

#[test]
fn no_real_time_domain_no_change() {
    let specs = || {
        let g = VcpuSpec::new(
            "g",
            Behaviour::ComputeResponder {
                interval: 100 * MS,
                work: 50 * US,
                burst: 6 * MS,
                every: 40 * MS,
                from: SEC,
            },
        );
        let mut s = vec![g];
        s.extend((0..4).map(|i| hog(&format!("h{i}"))));
        s
    };
    let a = run(Params::stock(), specs(), 20 * SEC, 5).unwrap();
    let b = run(Params::patched(), specs(), 20 * SEC, 5).unwrap();
    let times = |s: &Sim| {
        s.done
            .iter()
            .map(|d| (d.vcpu, d.seq, d.at))
            .collect::<Vec<_>>()
    };
    assert_eq!(times(&a), times(&b));
    for v in 0..5 {
        assert_eq!(a.cpu_time(v), b.cpu_time(v));
    }
    assert_eq!(b.pcpu.edf_inserts, 0);
}

#[test]
fn runs_are_deterministic_for_a_seed() {
    let a = serde_json::to_string(&fig7_one(3, false, Some(3 * MS), 10, 9)).unwrap();
    let b = serde_json::to_string(&fig7_one(3, false, Some(3 * MS), 10, 9)).unwrap();
    assert_eq!(a, b);
}

#[test]
fn admission_refuses_beyond_the_bound() {
    let g = |n: &str, b| VcpuSpec::new(n, Behaviour::Idle).rt(Rt::aperiodic(500 * US, b));
    assert!(Sim::new(Params::patched(), vec![g("a", 125 * US), g("b", 125 * US)]).is_ok());
    let e = Sim::new(
        Params::patched(),
        vec![g("a", 125 * US), g("b", 125 * US), g("c", 125 * US)],
    )
    .err();
    assert!(e.unwrap().contains("admission refused"));
    assert!(Sim::new(Params::patched(), vec![g("a", 300 * US)]).is_err());
    assert!(
        Sim::new(Params::patched(), vec![g("a", 50 * US)]).is_err(),
        "budget below 100 us"
    );
    assert!(
        Sim::new(Params::stock(), vec![g("a", 125 * US)]).is_err(),
        "stock credit has no real-time mode"
    );
}

/// The simulator bar, on the guest dom0-sched.sh runs (it idles
/// between pings): five hogs, aperiodic real-time, worst case ≤ D + 0.5 ms.
#[test]
fn fig7_bar_five_hogs_blocked_guest() {
    for d in [3, 5, 8] {
        let r = fig7_one(5, false, Some(d * MS), 60, 1);
        assert!(r.latency.n > 500);
        assert!(
            r.latency.max_ms <= d as f64 + 0.5,
            "D={d} ms: max {} ms",
            r.latency.max_ms
        );
    }
}

/// The same bar for a CPU-bound guest, the wording for Fig 7: made
/// aperiodic while runnable it has a job, and still runnable after each
/// budget it has the next a deadline later (0007's replenishment), so a ping
/// that finds it busy waits at most about a deadline.
#[test]
fn fig7_bar_five_hogs_cpu_bound_guest() {
    for d in [3, 5, 8] {
        let r = fig7_one(5, true, Some(d * MS), 60, 1);
        assert!(
            r.latency.max_ms <= d as f64 + 0.5,
            "D={d} ms: max {} ms",
            r.latency.max_ms
        );
    }
}

#[test]
fn a_tick_costs_a_blocking_guest_its_share_and_nothing_else() {
    // A waker alone spinning 1 ms every 10 ms, with a tick of 100 µs every
    // 1 ms: its CPU is the spins plus the ticks, and the ticks do not add
    // spins (a waker re-arms after its own computation only).
    let waker = Behaviour::Waker {
        spin: MS,
        sleep: 9 * MS,
    };
    let g = VcpuSpec::new("w", waker).tick(Some((MS, 100 * US)));
    let sim = run(Params::stock(), vec![g], 10 * SEC, 1).unwrap();
    let spins = sim
        .done
        .iter()
        .filter(|d| d.stream == Stream::Compute)
        .count();
    let ticks = sim.done.iter().filter(|d| d.stream == Stream::Tick).count();
    assert!((9_000..=10_000).contains(&ticks), "{ticks} ticks in 10 s");
    // A spin every 10 ms at most, longer when ticks cut in.
    assert!((800..=1_000).contains(&spins), "{spins} spins in 10 s");
    let s = share(&sim, 0, 10 * SEC);
    assert!((0.17..=0.21).contains(&s), "share {s}");
    // A hog is CPU-bound: no tick is scheduled for it.
    let sim = run(
        Params::stock(),
        vec![hog("h").tick(Some((MS, 100 * US)))],
        SEC,
        1,
    )
    .unwrap();
    assert!(sim.done.iter().all(|d| d.stream != Stream::Tick));
}

#[test]
fn a_periodic_job_descheduled_after_the_next_release_is_not_skipped() {
    // Fig 6 at D = 5 ms: the budget (5 ms) is the send's CPU, so a job
    // dispatched at its deadline ends exactly at the next release. That
    // release's job must be the one served next: skipping it (as 0001 did,
    // advancing to the first release after now) leaves the sender a period
    // without EDF service and its sends fall behind by whole periods.
    let row = fig6_one(Some(5 * MS), 60, 1);
    assert!(row.late.max_ms <= 5.0 + 1e-6, "{:?}", row.late);
}

#[test]
fn a_periodic_job_is_not_taken_by_an_earlier_wake_up_in_its_period() {
    // A sender whose kernel ticks at 1 kHz, weighted below what it uses
    // beside two hogs, so that credit finds it OVER and the EDF queue is
    // what serves it on time. The tick wakes the vCPU first in most
    // periods: were a job ended by blocking, that wake-up would take the
    // period's service and the send, due later in the period, would wait
    // for the next period's deadline, up to a period plus D late. The
    // budget covers the send and the period's ticks.
    let (d, work) = (5 * MS, 3 * MS);
    for seed in 1..=3 {
        let sender = Behaviour::Sender {
            period: 10 * MS,
            work,
            grid: None,
            from: 100 * MS,
        };
        let g = VcpuSpec::new("sender", sender)
            .weight(128)
            .tick(Some((MS, 50 * US)))
            .rt(Rt::periodic(10 * MS, d, 4 * MS));
        let sim = run(
            Params::patched(),
            vec![g, hog("h1"), hog("h2")],
            20 * SEC,
            seed,
        )
        .unwrap();
        let late: Vec<Ns> = sim
            .done
            .iter()
            .filter(|x| x.vcpu == 0 && x.stream == Stream::Send)
            .map(|x| x.at - x.origin - work)
            .collect();
        assert!(late.len() >= 1980, "seed {seed}: {} sends", late.len());
        assert!(
            sim.vcpus[0].edf_dispatches > 200,
            "seed {seed}: credit served it"
        );
        let max = *late.iter().max().unwrap();
        assert!(max <= d + 500 * US, "seed {seed}: a send {max} ns late");
    }
}

#[test]
fn credit_hands_out_the_whole_pools_credit() {
    // A CPU-bound guest beside a hog on one pCPU. Alone in its pool the two
    // earn, on average, what they burn, and an accounting can find the one
    // running UNDER and the other OVER: the first keeps the pCPU for a
    // second slice. On the QEMU host (a second, idle pCPU in the pool) each
    // earns twice what it burns: both stay UNDER, the turns alternate, and a
    // ping waits at most the hog's one slice.
    let paper = fig7_on(Host::PAPER, 1, true, None, 60, 1);
    let qemu = fig7_on(Host::QEMU, 1, true, None, 60, 1);
    assert!(paper.latency.max_ms > 31.0, "{:?}", paper.latency);
    assert!(qemu.latency.max_ms <= 31.0, "{:?}", qemu.latency);
}

#[test]
fn a_drawn_timer_lateness_follows_its_histogram() {
    let buckets: &'static [(Ns, u32)] = &[(10 * US, 1), (100 * US, 3)];
    let mut rng = Rng::new(7);
    let draws: Vec<Ns> = (0..40_000)
        .map(|_| TimerLate::Drawn(buckets).draw(&mut rng))
        .collect();
    assert!(draws.iter().all(|&d| d < 100 * US));
    let low = draws.iter().filter(|&&d| d < 10 * US).count() as f64 / draws.len() as f64;
    assert!((low - 0.25).abs() < 0.01, "{low}");
    // A fixed lateness is drawn as itself, and the same seed draws the same.
    assert_eq!(TimerLate::Fixed(TIMER_LATE).draw(&mut rng), TIMER_LATE);
    let again: Vec<Ns> = {
        let mut rng = Rng::new(7);
        (0..100)
            .map(|_| TimerLate::Drawn(buckets).draw(&mut rng))
            .collect()
    };
    assert_eq!(again, draws[..100]);
}

#[test]
fn a_random_tick_finds_a_1khz_guest_over_at_times() {
    // Stock credit, a blocked guest whose kernel ticks at 1 kHz beside five
    // hogs, on the QEMU host. Xen's timers, late at random as TCG fires
    // them, make credit's tick miss the guest for long stretches off the
    // active list; its credit runs negative, an accounting makes it OVER,
    // and a ping waits out hogs' slices (measured under QEMU: p99 82-150
    // ms). Timers late by a fixed 20 µs sweep the guest's tick phase so
    // regularly that it seldom does (never for 1 % of the pings: the
    // misses come in runs as regular as the hits). The guest's tick at
    // 188 µs, what bench-xen calibrated for this row; dom0 off the active
    // list and every tick costing the same, so the timers' lateness is all
    // that differs.
    let drawn = Host {
        other_pcpu: None,
        tick_spread: None,
        ..Host::qemu_with_tick(188 * US)
    };
    let fixed = Host {
        timer_late: TimerLate::Fixed(TIMER_LATE),
        ..drawn
    };
    assert_eq!(drawn.timer_late, TimerLate::Drawn(TCG_TIMER_LATE));
    for seed in 1..=3 {
        let r = fig7_on(drawn, 5, false, None, 60, seed);
        assert!(r.latency.p99_ms > 30.0, "seed {seed}: {:?}", r.latency);
        let r = fig7_on(fixed, 5, false, None, 60, seed);
        assert!(r.latency.p99_ms < 30.0, "seed {seed}: {:?}", r.latency);
    }
}

/// Pings of stock credit's blocked guest beside `hogs` hogs on `host` that
/// waited more than 20 ms (out of hogs' slices), over seeds 1-10.
fn waits_behind_hogs(host: Host, hogs: usize) -> usize {
    let b = Behaviour::Responder {
        interval: 100 * MS,
        work: 50 * US,
        busy: false,
        from: SEC,
    };
    (1..=10)
        .map(|seed| {
            let mut specs = vec![VcpuSpec::new("guest", b.clone()).tick(host.tick)];
            specs.extend((1..=hogs).map(|i| hog(&format!("hog{i}"))));
            let p = Params {
                pool_pcpus: host.pool_pcpus,
                timer_late: host.timer_late,
                other_pcpu: host.other_pcpu,
                tick_spread: host.tick_spread,
                ..Params::stock()
            };
            let sim = run(p, specs, 60 * SEC, seed).expect("admitted");
            sim.done
                .iter()
                .filter(|d| d.vcpu == 0 && d.stream == Stream::Ping && d.at - d.origin > 20 * MS)
                .count()
        })
        .sum()
}

#[test]
fn dom0_on_the_other_pcpu_takes_its_share_of_the_credit() {
    // The same blocked guest beside five hogs, its tick at 188 µs. dom0,
    // busy 11 % of its own pCPU, joins the active list when its tick finds
    // it running: its weight takes a share of the pool's credit from the
    // guests, and the guest, off the list between its rare ticks, comes
    // back to an accounting OVER more often. Over ten seeds, more of its
    // pings wait out hogs' slices with dom0 than without (seed by seed
    // the two overlap; measured under QEMU: 5-8 % of the pings).
    let with = Host::qemu_with_tick(188 * US);
    let without = Host {
        other_pcpu: None,
        ..with
    };
    assert_eq!(with.other_pcpu, Some(TCG_DOM0));
    let (w, wo) = (waits_behind_hogs(with, 5), waits_behind_hogs(without, 5));
    assert!(
        w * 10 > wo * 11,
        "with dom0 {w}, without {wo} of 6000 pings"
    );
}

#[test]
fn a_measured_share_calibrates_the_guests_tick() {
    // 13.5 % of its pCPU beside three hogs, as bench-xen measured stock
    // credit's blocked guest using: the calibrated tick gives the simulated
    // guest that share, and costs more than 13.5 % of its period, since the
    // ticks due while the guest waits behind a hog run as one.
    let cost = fig7_tick_for_share(Host::QEMU, 3, None, 60, 0.135);
    let host = Host::qemu_with_tick(cost);
    let share = fig7_on(host, 3, false, None, 60, 1).guest_cpu_share;
    assert!((share - 0.135).abs() < 0.001, "{cost} ns: share {share}");
    assert!(cost > 145 * US, "{cost} ns");
    // A share no tick cost reaches gives a whole period.
    assert_eq!(fig7_tick_for_share(Host::QEMU, 3, None, 10, 0.99), MS);
}

#[test]
fn a_ticks_cost_is_drawn_around_its_mean_as_measured() {
    // The measured run lengths' mean (about 190 µs) is what a drawn cost is
    // scaled by, so a tick's cost averages the configured one.
    let m = mean(TCG_TICK_SPREAD);
    assert!((185 * US..195 * US).contains(&m), "{m} ns");
    let mut rng = Rng::new(3);
    let draws: Vec<Ns> = (0..100_000)
        .map(|_| draw(TCG_TICK_SPREAD, &mut rng))
        .collect();
    let avg = draws.iter().sum::<Ns>() / draws.len() as Ns;
    assert!(avg.abs_diff(m) < m / 100, "{avg} against {m} ns");
    assert!(draws.iter().all(|&d| (100 * US..5 * MS).contains(&d)));
    // In the scenario: the blocked guest's share with the spread is within
    // half a point of the share with every tick costing the mean.
    let spread = Host::qemu_with_tick(170 * US);
    let even = Host {
        tick_spread: None,
        ..spread
    };
    let (a, b) = (
        fig7_on(spread, 1, false, None, 60, 1).guest_cpu_share,
        fig7_on(even, 1, false, None, 60, 1).guest_cpu_share,
    );
    assert!((a - b).abs() < 0.005, "{a} with the spread, {b} without");
}
