//! `cargo xtask bench-xen [--quick] [--report-only]`: the paper's Xen figures
//! in Xen under QEMU. Fig 7: stock Xen 4.17.5 (credit, credit2, RTDS) and
//! the patched one (credit with nothing set, aperiodic real-time with
//! D = 3, 5, 8 ms) in one run, one boot per hypervisor and scheduler, each
//! running `xen/tests/bench-fig7.sh` in dom0: dom0 alone on pCPU 0 pings a
//! guest on pCPU 1 every 100 ms beside 1, 3 and 5 CPU hogs, the guest either
//! blocked between pings or CPU-bound. Figs 6, 2, 12, the reserve and the
//! placement: a boot of stock and one of patched credit running
//! `xen/tests/bench-figs.sh` (`figs`).
//! What dom0 reports is kept with the run's provenance in one JSON record
//! (`docs/results/bench-xen.json`; `--quick`: `target/bench-xen/quick/`),
//! from which `docs/results-xen.md` and `docs/img/bench-xen-fig7.png` are
//! written with the simulator's figures (`xen-sched-sim`) beside the
//! measurement and the bars judged (`bars()`). `--report-only` rewrites them
//! from the record.

use super::boot::{self, Boot, XenTest};
use super::build;
use super::figs::{self, Figs};
use crate::kernel;
use crate::util::repo_root;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use xen_sched_sim::model::{Ns, MS};
use xen_sched_sim::report::Dist;
use xen_sched_sim::scenario::{
    fig7_on, fig7_one, fig7_tick_for_share, Fig7Row, Host, LONG_WAIT, PING_WORK, TCG_DOM0, TCG_TICK,
};

/// What to run.
pub struct Options {
    /// Fig 7 with five hogs, fewer pings, stock credit and aperiodic
    /// D = 5 ms only, the other figures shorter (`figs::plan`); results
    /// under target/bench-xen/quick/.
    pub quick: bool,
    /// Rewrite the report from the record; run nothing.
    pub report_only: bool,
    /// Pings per measurement instead of the plan's (300; quick 100).
    pub pings: Option<u32>,
}

/// The aperiodic guest's budget per job, µs (admitted at every deadline:
/// 1/3 of a pCPU at D = 3 ms, within the 50 % bound).
const AP_BUDGET_US: u64 = 1000;
/// Pings per measurement at 100 ms.
const PINGS: u32 = 300;
const PINGS_QUICK: u32 = 100;
/// The issue's bar: the aperiodic guest's p99 at most this times stock
/// credit's, five hogs.
const BAR_RATIO: f64 = 0.2;

/// One boot of the plan: which hypervisor, `sched=`, the configurations
/// its dom0 measures.
struct Step {
    patched: bool,
    sched: &'static str,
    configs: &'static [&'static str],
}

fn plan(quick: bool) -> (Vec<Step>, &'static [u32], u32) {
    if quick {
        let steps = vec![
            Step {
                patched: false,
                sched: "credit",
                configs: &["credit"],
            },
            Step {
                patched: true,
                sched: "credit",
                configs: &["ap5"],
            },
        ];
        (steps, &[5], PINGS_QUICK)
    } else {
        let steps = vec![
            Step {
                patched: false,
                sched: "credit",
                configs: &["credit"],
            },
            Step {
                patched: false,
                sched: "credit2",
                configs: &["credit2"],
            },
            Step {
                patched: false,
                sched: "rtds",
                configs: &["rtds"],
            },
            Step {
                patched: true,
                sched: "credit",
                configs: &["credit", "ap3", "ap5", "ap8"],
            },
        ];
        (steps, &[1, 3, 5], PINGS)
    }
}

struct Paths {
    record: PathBuf,
    markdown: PathBuf,
    plots: PathBuf,
    work: PathBuf,
}

fn paths(quick: bool) -> Paths {
    let root = repo_root();
    let work = root.join("target/bench-xen");
    if quick {
        let dir = work.join("quick");
        Paths {
            record: dir.join("bench-xen.json"),
            markdown: dir.join("results-xen.md"),
            plots: dir.join("img"),
            work,
        }
    } else {
        Paths {
            record: root.join("docs/results/bench-xen.json"),
            markdown: root.join("docs/results-xen.md"),
            plots: root.join("docs/img"),
            work,
        }
    }
}

/// One measurement: pings from dom0 to a target, as dom0 reported them.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Measurement {
    /// `stock` or `patched`.
    pub hv: String,
    /// Xen's scheduler: `credit`, `credit2`, `rtds`.
    pub sched: String,
    /// `floor` (no hogs), `credit`, `credit2`, `rtds`, `apD`.
    pub config: String,
    /// `blocked` or `busy`.
    pub guest: String,
    pub hogs: u32,
    pub sent: u32,
    pub received: u32,
    /// EDF dispatches of the target during the pings (patched credit).
    pub edf_dispatches: Option<u64>,
    /// The target's CPU time over the pings, s (xl's 0.1 s resolution;
    /// absent from older records).
    #[serde(default)]
    pub cpu_s: Option<f64>,
    /// dom0's CPU time over the pings, s (absent from older records).
    #[serde(default)]
    pub dom0_cpu_s: Option<f64>,
    /// The wall time over the pings, s.
    #[serde(default)]
    pub wall_s: Option<f64>,
    /// Round-trip times as busybox ping printed them, ms.
    pub rtt_ms: Vec<f64>,
}

impl Measurement {
    pub(super) fn dist(&self) -> Dist {
        Dist::of(
            self.rtt_ms
                .iter()
                .map(|&ms| (ms * 1e6).round() as Ns)
                .collect(),
        )
    }

    /// The configuration as the report names it.
    pub(super) fn label(&self) -> String {
        label(&self.hv, &self.config)
    }
}

fn label(hv: &str, config: &str) -> String {
    match (hv, config) {
        (_, "floor") => format!("no hogs ({hv})"),
        ("stock", c) => format!("{c} (stock)"),
        (_, "credit") => "credit (patched, nothing set)".into(),
        (_, c) => match c.strip_prefix("ap") {
            Some(d) => format!("aperiodic D={d}ms (patched)"),
            None => format!("{c} (patched)"),
        },
    }
}

/// The run as filed: where it came from and what dom0 reported.
#[derive(Debug, Deserialize, Serialize)]
pub struct Record {
    pub provenance: String,
    pub quick: bool,
    pub pings: u32,
    /// Every check the boots reported: (name, passed).
    pub checks: Vec<(String, bool)>,
    pub measurements: Vec<Measurement>,
    /// Figs 6, 2, 12, the reserve and the placement (absent from older
    /// records).
    #[serde(default)]
    pub figs: Figs,
}

/// `cargo xtask bench-xen`: runs (unless `report_only`) and reports.
/// Returns the checks of the boots (empty with `report_only`).
pub fn bench_xen(opts: &Options) -> Result<Vec<XenTest>> {
    let paths = paths(opts.quick);
    // The source the report is computed from, read before the run files its
    // record (which dirties the tree).
    let source = crate::util::output(
        std::process::Command::new("git")
            .current_dir(repo_root())
            .args(["describe", "--always", "--dirty"]),
    )
    .unwrap_or_else(|_| "unknown".into());
    let mut tests = Vec::new();
    if !opts.report_only {
        let (record, t) = run(opts, &paths)?;
        tests = t;
        if let Some(dir) = paths.record.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&paths.record, serde_json::to_string_pretty(&record)? + "\n")
            .with_context(|| format!("writing {}", paths.record.display()))?;
    }
    report(&paths, &source)?;
    Ok(tests)
}

/// Boots every step of the plan; returns the record and the checks.
fn run(opts: &Options, paths: &Paths) -> Result<(Record, Vec<XenTest>)> {
    let (steps, hogs, planned) = plan(opts.quick);
    let pings = opts.pings.unwrap_or(planned);
    let kernel = kernel::ensure(kernel::Variant::Base)?;
    let stock = build::ensure_stock()?;
    let patched = boot::xen_build()?;
    if !patched.xen_release.is_file() {
        bail!("no release hypervisor at {}", patched.xen_release.display());
    }
    let stock_initrd =
        boot::dom0_initramfs(&paths.work.join("stock"), &stock.tools, &kernel, false)?;
    let patched_initrd =
        boot::dom0_initramfs(&paths.work.join("patched"), &patched.tools, &kernel, true)?;
    // Where the run came from, taken before it (the tree may change while
    // it runs).
    let command = format!(
        "cargo xtask bench-xen{}{}",
        if opts.quick { " --quick" } else { "" },
        opts.pings
            .map_or(String::new(), |n| format!(" --pings {n}"))
    );
    let provenance = format!(
        "{}; Xen {} release hypervisors, QEMU -smp 2 -cpu qemu64: stock ({}), patched ({})",
        kernel.provenance(&command, crate::qemu::Clock::Host),
        build::XEN_VERSION,
        dir_name(&stock.dir),
        dir_name(&patched.dir),
    );
    let hog_list: Vec<String> = hogs.iter().map(u32::to_string).collect();
    let mut lines = Vec::new();
    let mut tests = Vec::new();
    for step in &steps {
        let (xen, initrd, hv) = if step.patched {
            (&patched, &patched_initrd, "patched")
        } else {
            (&stock, &stock_initrd, "stock")
        };
        let spec = Boot {
            hypervisor: &xen.xen_release,
            kernel: &kernel,
            initrd,
            cpus: 2,
            sched: step.sched,
            script: "bench-fig7.sh",
            args: format!(
                "smooth_hv={hv} smooth_configs={} smooth_hogs={} smooth_pings={pings} smooth_apbudget={AP_BUDGET_US}",
                // Not commas: QEMU's -initrd separates multiboot modules
                // with them.
                step.configs.join(":"),
                hog_list.join(":")
            ),
            log: paths.work.join(format!("console-{hv}-{}.log", step.sched)),
            timeout: Duration::from_secs(3600),
        };
        let step_tests = spec.run(|line| {
            if let Some(json) = line.split("SMOOTH-XEN-BENCH ").nth(1) {
                lines.push(json.trim().to_string());
            }
        })?;
        // The script's checks name their boot; the boot's own ("ran to its
        // end", the console) are given its name here.
        tests.extend(step_tests.into_iter().map(|t| {
            let name = t.name.strip_prefix("xen: ").unwrap_or(&t.name);
            let name = if name.starts_with("bench-fig7 (") {
                name.to_string()
            } else {
                format!("bench-fig7 ({hv} {}): {name}", step.sched)
            };
            XenTest {
                name: format!("bench-xen: {name}"),
                ..t
            }
        }));
    }
    let figs = run_figs(
        opts.quick,
        &kernel,
        [(&stock, &stock_initrd), (&patched, &patched_initrd)],
        paths,
        &mut tests,
    )?;
    let measurements = assemble(&lines)?;
    if measurements.is_empty() {
        let failed: Vec<&str> = tests
            .iter()
            .filter(|t| !t.ok)
            .map(|t| t.name.as_str())
            .collect();
        bail!(
            "no boot measured anything (the record is left as it was); failed: {}",
            failed.join(", ")
        );
    }
    // Every configuration of the plan produced pings, in every boot.
    for step in &steps {
        let hv = if step.patched { "patched" } else { "stock" };
        let wanted =
            std::iter::once(("floor", "blocked", 0)).chain(step.configs.iter().flat_map(|c| {
                ["blocked", "busy"]
                    .into_iter()
                    .flat_map(move |g| hogs.iter().map(move |&n| (*c, g, n)))
            }));
        for (config, guest, n) in wanted {
            let got = measurements.iter().find(|m| {
                m.hv == hv
                    && m.sched == step.sched
                    && m.config == config
                    && m.guest == guest
                    && m.hogs == n
            });
            tests.push(XenTest {
                name: format!(
                    "bench-xen: {} ({}), {guest} guest, {n} hogs: pings answered and filed",
                    label(hv, config),
                    step.sched
                ),
                ok: got.is_some_and(|m| m.received > 0 && m.rtt_ms.len() == m.received as usize),
                detail: None,
            });
        }
    }
    let record = Record {
        provenance,
        quick: opts.quick,
        pings,
        checks: tests.iter().map(|t| (t.name.clone(), t.ok)).collect(),
        measurements,
        figs,
    };
    Ok((record, tests))
}

/// Figs 6, 2, 12, the reserve and the placement (`xen/tests/bench-figs.sh`):
/// a boot of stock credit and one of patched credit; checks that every
/// planned figure was filed.
fn run_figs(
    quick: bool,
    kernel: &kernel::Kernel,
    builds: [(&build::XenBuild, &PathBuf); 2],
    paths: &Paths,
    tests: &mut Vec<XenTest>,
) -> Result<Figs> {
    let plan = figs::plan(quick);
    let mut figs = Figs::default();
    for ((xen, initrd), hv) in builds.into_iter().zip(["stock", "patched"]) {
        let (configs, step) = if hv == "stock" {
            (plan.stock_fig6, 0)
        } else {
            (plan.patched_fig6, plan.step_s)
        };
        let args = plan.args(hv);
        let spec = Boot {
            hypervisor: &xen.xen_release,
            kernel,
            initrd,
            cpus: 2,
            sched: "credit",
            script: "bench-figs.sh",
            args,
            log: paths.work.join(format!("console-{hv}-figs.log")),
            timeout: Duration::from_secs(3600),
        };
        let mut unreadable = Vec::new();
        let boot_tests = spec.run(|line| {
            if let Some(json) = line.split("SMOOTH-XEN-FIG ").nth(1) {
                if let Err(e) = figs.push(json) {
                    unreadable.push(format!("{e:#}"));
                }
            }
        })?;
        for e in &unreadable {
            eprintln!("[bench-xen] unreadable figure: {e}");
        }
        tests.extend(boot_tests.into_iter().map(|t| {
            let name = t.name.strip_prefix("xen: ").unwrap_or(&t.name);
            let name = if name.starts_with("bench-figs (") {
                name.to_string()
            } else {
                format!("bench-figs ({hv} credit): {name}")
            };
            XenTest {
                name: format!("bench-xen: {name}"),
                ..t
            }
        }));
        tests.push(XenTest {
            name: format!("bench-xen: bench-figs ({hv} credit): every figure line readable"),
            ok: unreadable.is_empty(),
            detail: None,
        });
        for c in configs {
            tests.push(XenTest {
                name: format!("bench-xen: Fig 6, {c} ({hv}): the sender's run filed"),
                ok: figs
                    .senders
                    .iter()
                    .any(|r| r.fig == "fig6" && r.hv == hv && r.config == *c && r.received > 0),
                detail: None,
            });
        }
        if step > 0 {
            for kind in ["periodic", "plain"] {
                tests.push(XenTest {
                    name: format!("bench-xen: Fig 12 ({hv}, {kind} sender): ten steps filed"),
                    ok: figs.staircase(kind).iter().filter(|s| s.hv == hv).count() == 10,
                    detail: None,
                });
            }
        }
        if hv == "stock" {
            for g in plan.fig2_grids_ms {
                tests.push(XenTest {
                    name: format!("bench-xen: Fig 2, grid {g} ms ({hv}): the sender's run filed"),
                    ok: figs.senders.iter().any(|r| {
                        r.fig == "fig2"
                            && r.hv == hv
                            && r.config == format!("g{g}")
                            && r.received > 0
                    }),
                    detail: None,
                });
            }
        } else {
            tests.push(XenTest {
                name: format!(
                    "bench-xen: reserve ({hv}): every run filed ({} runs)",
                    plan.reserves_pct.len()
                ),
                ok: figs.reserve.len() == plan.reserves_pct.len()
                    && figs.reserve.iter().all(|r| r.received > 0),
                detail: None,
            });
            tests.push(XenTest {
                name: format!("bench-xen: placement ({hv}): three cases filed, each with jobs"),
                ok: figs.placement.len() == 3 && figs.placement.iter().all(|p| p.jobs > 0),
                detail: None,
            });
        }
    }
    Ok(figs)
}

fn dir_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(|| p.display().to_string(), |n| n.to_string_lossy().into())
}

/// dom0's `SMOOTH-XEN-BENCH` objects, the parts of each measurement's RTTs
/// followed by its summary, into measurements.
fn assemble(lines: &[String]) -> Result<Vec<Measurement>> {
    let mut out = Vec::new();
    let mut parts: Vec<f64> = Vec::new();
    for line in lines {
        let v: serde_json::Value =
            boot::first_json(line).with_context(|| format!("dom0 result: {line:.200}"))?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        match v["kind"].as_str() {
            Some("part") => {
                let rtts = v["rtt_ms"].as_array().context("a part without rtt_ms")?;
                parts.extend(rtts.iter().filter_map(serde_json::Value::as_f64));
            }
            Some("run") => out.push(Measurement {
                hv: s("hv"),
                sched: s("sched"),
                config: s("config"),
                guest: s("guest"),
                hogs: v["hogs"].as_u64().unwrap_or_default() as u32,
                sent: v["sent"].as_u64().unwrap_or_default() as u32,
                received: v["received"].as_u64().unwrap_or_default() as u32,
                edf_dispatches: v["edf_dispatches"].as_u64(),
                cpu_s: v["cpu_s"].as_f64(),
                dom0_cpu_s: v["dom0_cpu_s"].as_f64(),
                wall_s: v["wall_s"].as_f64(),
                rtt_ms: std::mem::take(&mut parts),
            }),
            _ => bail!("dom0 result of no known kind: {line:.200}"),
        }
    }
    Ok(out)
}

// ------------------------------------------------------------- the report

/// A bar, judged.
#[derive(Debug, Serialize)]
pub(super) struct Bar {
    pub what: String,
    pub measured: String,
    pub verdict: &'static str,
}

/// A measurement with its figures, as the JSON report carries it.
#[derive(Serialize)]
struct Row<'a> {
    label: String,
    #[serde(flatten)]
    m: &'a Measurement,
    #[serde(flatten)]
    dist: Dist,
}

/// The simulator's Fig 7 row beside a measurement.
#[derive(Serialize)]
pub struct SimPoint {
    pub guest: String,
    pub hogs: u32,
    pub scheduler: String,
    #[serde(flatten)]
    pub dist: Dist,
    pub edf_dispatches: u64,
    /// The same on the QEMU host (`Host::QEMU`).
    pub ticking: Dist,
    /// The tick cost that gives the simulated guest the CPU share the
    /// measured one used (blocked guest, where its CPU time was measured),
    /// µs; otherwise `TCG_TICK`'s (on the QEMU host both).
    pub tick_us: f64,
    /// Where that tick came from: `measured` or `TCG_TICK`.
    pub tick_from: &'static str,
    /// dom0's share of its pCPU in those runs, per mille: measured over the
    /// same pings, else `TCG_DOM0`'s.
    pub dom0_busy_permille: u32,
    /// Where that share came from: `measured` or `TCG_DOM0`.
    pub dom0_from: &'static str,
    /// p99 with that tick over `SEEDS`, lowest and highest, ms: the
    /// simulator's own spread (a guest at its share is OVER or not by a
    /// hair, and its rare OVER spells make the tail).
    pub seeds_p99_ms: (f64, f64),
    /// The share of pings that waited longer than `LONG_WAIT` over the
    /// same seeds, lowest and highest, %.
    pub seeds_long_waits_pct: (f64, f64),
}

/// Simulated seconds per run.
const SIM_SECONDS: u64 = 60;
/// The seeds of the calibrated runs (and of Fig 6's on the QEMU host).
pub(super) const SEEDS: std::ops::RangeInclusive<u64> = 1..=5;

/// The blocked guest's share of its pCPU over the pings (its pings' work
/// and its kernel's ticks), which the simulated guest's tick is calibrated
/// to reproduce ([`fig7_tick_for_share`]): the guest's overhead under TCG,
/// measured in the same run instead of assumed. `None` for a busy guest
/// (its tick is handled in its running time) or without the measurement.
fn measured_share(m: &Measurement) -> Option<f64> {
    let (cpu, wall) = (m.cpu_s?, m.wall_s?);
    if m.guest != "blocked" || wall <= 0.0 {
        return None;
    }
    Some(cpu / wall)
}

/// dom0's share of its pCPU over the pings, per mille (the simulator's
/// `OtherPcpu`): what credit's accounting sees of it, measured in the
/// same run instead of assumed. `None` without the measurement.
fn measured_dom0(m: &Measurement) -> Option<u32> {
    let (cpu, wall) = (m.dom0_cpu_s?, m.wall_s?);
    if wall <= 0.0 {
        return None;
    }
    Some((cpu / wall * 1000.0).clamp(0.0, 1000.0).round() as u32)
}

fn sim_rows(record: &Record) -> Vec<SimPoint> {
    let mut rows = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for m in &record.measurements {
        // The simulator models credit: stock, and the series' aperiodic mode.
        let deadline = match (m.hv.as_str(), m.config.as_str()) {
            ("stock", "credit") => None,
            (_, c) if c.starts_with("ap") => match c[2..].parse::<u64>() {
                Ok(d) => Some(d * MS),
                Err(_) => continue,
            },
            _ => continue,
        };
        if !seen.insert((m.guest.clone(), m.hogs, deadline)) {
            continue;
        }
        let r = fig7_one(m.hogs as usize, m.guest == "busy", deadline, SIM_SECONDS, 1);
        let busy = m.guest == "busy";
        let hogs = m.hogs as usize;
        let ticking = fig7_on(Host::QEMU, hogs, busy, deadline, SIM_SECONDS, 1);
        let (host, dom0_from) = match measured_dom0(m) {
            Some(permille) => (Host::QEMU.with_dom0_busy(permille), "measured"),
            None => (Host::QEMU, "TCG_DOM0"),
        };
        let (host, tick_from) = match measured_share(m) {
            Some(share) => {
                let cost = fig7_tick_for_share(host, hogs, deadline, SIM_SECONDS, share);
                let tick = Some((TCG_TICK.0, cost));
                (Host { tick, ..host }, "measured")
            }
            None => (host, "TCG_TICK"),
        };
        let seeds: Vec<Fig7Row> = SEEDS
            .map(|seed| fig7_on(host, hogs, busy, deadline, SIM_SECONDS, seed))
            .collect();
        let p99s: Vec<f64> = seeds.iter().map(|r| r.latency.p99_ms).collect();
        let long_shares: Vec<f64> = seeds
            .iter()
            .map(|r| r.long_waits as f64 * 100.0 / r.latency.n.max(1) as f64)
            .collect();
        rows.push(SimPoint {
            guest: m.guest.clone(),
            hogs: m.hogs,
            scheduler: r.scheduler,
            dist: r.latency,
            edf_dispatches: r.edf_dispatches,
            ticking: ticking.latency,
            tick_us: host.tick.map_or(0, |t| t.1) as f64 / 1e3,
            tick_from,
            dom0_busy_permille: host.other_pcpu.map_or(0, |o| o.busy_permille),
            dom0_from,
            seeds_p99_ms: (
                p99s.iter().copied().fold(f64::INFINITY, f64::min),
                p99s.iter().copied().fold(0.0, f64::max),
            ),
            seeds_long_waits_pct: (
                long_shares.iter().copied().fold(f64::INFINITY, f64::min),
                long_shares.iter().copied().fold(0.0, f64::max),
            ),
        });
    }
    rows
}

fn find<'a>(
    record: &'a Record,
    hv: &str,
    config: &str,
    guest: &str,
    hogs: u32,
) -> Option<&'a Measurement> {
    record
        .measurements
        .iter()
        .find(|m| m.hv == hv && m.config == config && m.guest == guest && m.hogs == hogs)
}

/// The issue's bar, per guest and deadline measured: five hogs, the
/// aperiodic guest's p99 ≤ 0.2 × stock credit's in the same run.
fn bars(record: &Record) -> Vec<Bar> {
    let mut bars = Vec::new();
    for guest in ["busy", "blocked"] {
        let Some(stock) = find(record, "stock", "credit", guest, 5) else {
            continue;
        };
        let base = stock.dist().p99_ms;
        let mut aps: Vec<&Measurement> = record
            .measurements
            .iter()
            .filter(|m| m.config.starts_with("ap") && m.guest == guest && m.hogs == 5)
            .collect();
        aps.sort_by_key(|m| m.config[2..].parse::<u32>().unwrap_or(0));
        for ap in aps {
            let p99 = ap.dist().p99_ms;
            let ratio = p99 / base;
            let what = if guest == "busy" {
                "the CPU-bound guest (the issue's)"
            } else {
                "the guest blocked between pings"
            };
            bars.push(Bar {
                what: format!(
                    "Fig 7, five hogs, {what}: {} p99 ≤ {BAR_RATIO} × stock credit's",
                    ap.label()
                ),
                measured: format!("{p99:.2} ms against {base:.2} ms: {ratio:.2}"),
                verdict: if ratio <= BAR_RATIO { "met" } else { "MISSED" },
            });
        }
    }
    bars
}

fn report(paths: &Paths, source: &str) -> Result<()> {
    let text = std::fs::read_to_string(&paths.record).with_context(|| {
        format!(
            "reading {} (run `cargo xtask bench-xen` first)",
            paths.record.display()
        )
    })?;
    let record: Record = serde_json::from_str(&text)
        .with_context(|| format!("parsing {}", paths.record.display()))?;
    let sim = sim_rows(&record);
    let mut bars = bars(&record);
    bars.extend(validation_bar(&record, &sim));
    bars.extend(record.figs.bars());
    let rows: Vec<Row> = record
        .measurements
        .iter()
        .map(|m| Row {
            label: m.label(),
            m,
            dist: m.dist(),
        })
        .collect();
    std::fs::create_dir_all(&paths.plots)?;
    let png = paths.plots.join("bench-xen-fig7.png");
    super::plot::fig7(&png, &record, &sim)?;
    let fig12_png = paths.plots.join("bench-xen-fig12.png");
    if !record.figs.shares.is_empty() {
        super::plot::fig12(&fig12_png, &record.figs.staircase("periodic"))?;
    }
    let summary = serde_json::json!({
        "provenance": record.provenance,
        "bars": bars,
        "rows": rows,
        "sim": sim,
        "figs": record.figs,
    });
    let summary_path = paths.record.with_file_name(format!(
        "{}-summary.json",
        paths
            .record
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
    ));
    std::fs::write(
        &summary_path,
        serde_json::to_string_pretty(&summary)? + "\n",
    )?;
    let md = markdown(&record, &rows, &sim, &bars, &png, paths, source)?;
    std::fs::write(&paths.markdown, md)
        .with_context(|| format!("writing {}", paths.markdown.display()))?;
    for b in &bars {
        println!(
            "[bench-xen] bar: {} — measured {} — {}",
            b.what, b.measured, b.verdict
        );
    }
    println!(
        "[bench-xen] wrote {}, {}, {} and {}",
        paths.markdown.display(),
        paths.record.display(),
        summary_path.display(),
        png.display()
    );
    Ok(())
}

fn f2(x: f64) -> String {
    format!("{x:.2}")
}

fn markdown(
    record: &Record,
    rows: &[Row],
    sim: &[SimPoint],
    bars: &[Bar],
    png: &Path,
    paths: &Paths,
    source: &str,
) -> Result<String> {
    let rel = |p: &Path| -> String {
        let base = paths.markdown.parent().unwrap_or(Path::new("."));
        p.strip_prefix(base)
            .map_or_else(|_| p.display().to_string(), |r| r.display().to_string())
    };
    let mut s = String::new();
    s += "# Xen benchmark results: Figs 6, 7 and 12 in Xen under QEMU\n\n";
    s += "Written by `cargo xtask bench-xen` from its record; do not edit. ";
    s += &format!(
        "Run: {}. This page, its bars and its simulator figures written at {}.\n\n",
        record.provenance, source
    );
    s += &format!(
        "**Set-up.** One boot per hypervisor and scheduler, QEMU TCG with two pCPUs. dom0 — the measuring side — \
         is alone on pCPU 0 (`dom0_max_vcpus=1 dom0_vcpus_pin`) and is *not* a driver domain: with the series it is a \
         plain credit domain (mode `none`, checked in the patched boot), so nothing boosts the pinger. On pCPU 1 \
         (`cpus=\"1\"`) run the target guest and 1, 3 or 5 CPU hogs (busy loops; the others paused); dom0 pings the \
         target {} times every 100 ms (busybox ping, RTT in ms). Two targets, one measured at a time: **blocked** \
         idles between pings (every ping wakes it; its Linux has a 1 kHz tick, so it also wakes every millisecond) \
         and **busy** spins in a loop and answers ping from its kernel — the issue's \"CPU-bound guest\". \
         Configurations: stock Xen 4.17.5 with credit (30 ms slice, ratelimit 1 ms), credit2 (defaults) and RTDS \
         (target 1 ms every 5 ms, each hog 1 ms every 10 ms, dom0 4 ms every 10 ms, all with extratime); the patched \
         Xen with credit and nothing set, and with the target aperiodic real-time (`xl sched-credit -M aperiodic -e D \
         -b {AP_BUDGET_US}`, D = 3, 5, 8 ms; the simulator uses xl's default 500 µs budget). Release hypervisors; \
         the stock one has stock tools built from the same source (the patched tools' domctl interface version, \
         0x80000015, is refused by a stock hypervisor, and the reverse). Under the series the busy guest, made \
         aperiodic while it spins, gets a job at its next deschedule and, never blocking, the next one a deadline \
         after each release (a sporadic server's replenishment).\n\n",
        record.pings
    );
    if record.pings < 100 {
        s += &format!(
            "**{} pings per measurement**: a p99 of fewer than 100 samples is their largest (nearest rank).\n\n",
            record.pings
        );
    }
    s += "## The bars\n\n";
    if bars.is_empty() {
        s += "* not measured: the run has none of the figures a bar needs\n";
    }
    for b in bars {
        s += &format!(
            "* {} — measured {} — **{}**\n",
            b.what, b.measured, b.verdict
        );
    }
    s += "\nA ratio is of the two p99s measured in this run. TCG's own noise is the `no hogs` rows below (the \
          blocked target with every hog paused, in each boot): a difference inside it is not a scheduler's.\n\n";
    s += &format!("![Fig 7: ping p99 against hogs]({})\n\n", rel(png));
    s += "## Measured\n\n";
    s += "| guest | hogs | configuration | scheduler | replies | p50 | p90 | p99 | max (ms) | EDF dispatches |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|\n";
    let mut sorted: Vec<&Row> = rows.iter().collect();
    sorted.sort_by_key(|r| (r.m.config != "floor", r.m.guest.clone(), r.m.hogs));
    for r in sorted {
        s += &format!(
            "| {} | {} | {} | {} | {}/{} | {} | {} | {} | {} | {} |\n",
            r.m.guest,
            r.m.hogs,
            r.label,
            r.m.sched,
            r.m.received,
            r.m.sent,
            f2(r.dist.p50_ms),
            f2(r.dist.p90_ms),
            f2(r.dist.p99_ms),
            f2(r.dist.max_ms),
            r.m.edf_dispatches.map_or("—".into(), |e| e.to_string())
        );
    }
    s += "\n## Beside the simulator\n\n";
    s += &format!(
        "`xen-sched-sim`'s Fig 7 ([xen-sim.md](xen-sim.md)) for the same guests, hogs and credit configurations \
         ({SIM_SECONDS} s simulated, seed 1), on the paper's host: one pCPU, no dom0 or packet path, a ping costing \
         {} µs of guest CPU, no guest tick; and **on the QEMU host** (`Host::QEMU`): the guests on one pCPU of a \
         two-pCPU pool whose other pCPU holds dom0 alone (credit hands out both pCPUs' worth to the active \
         units; dom0, busy {}‰ of its pCPU as it pings (`TCG_DOM0`, from `xl vcpu-list`), is debited that share \
         and joins the active list when its own tick finds it running), and the guest kernel's 1 kHz tick costing {} µs of CPU each, as TCG runs it (`TCG_TICK`, \
         calibrated once from the Fig 12 sender's share less its work; each tick's cost drawn around that mean \
         from `TCG_TICK_SPREAD`, the blocked guest's run lengths measured once with a debug hypervisor), \
         Xen's timers (credit's tick and \
         accounting, the guest's own tick) late at random as TCG fires them (`TCG_TIMER_LATE`: a histogram of \
         credit's tick lateness on the guests' pCPU, measured once with a debug hypervisor; median about 70 µs). \
         Its latency is the guest's wait for the \
         CPU; the measured RTT adds the emulated path (the `no hogs` rows). Where the measured difference between \
         configurations is well above that floor, TCG resolves the effect and the two can be compared; below it \
         only the simulator speaks.\n\n\
         **Calibrated**: the guest blocked between pings spends, under TCG, most of its CPU on its own tick, and \
         that share decides whether credit ever finds it OVER (no BOOST on wake-up: it waits out the hogs' 30 ms \
         slices). So each blocked row is simulated on the QEMU host again \
         with the tick cost at which the simulated guest, in this row's scenario, uses the CPU share this row's \
         guest used over its pings (its CPU time from `xl vcpu-list`, 0.1 s resolution; found by bisection at \
         seed 1, and not the share times the period: a guest that waits behind a hog runs the ticks that fell \
         due meanwhile as one), over seeds {}–{}; the busy \
         guest keeps `TCG_TICK` (its tick runs in its own running time). dom0 is given the share of its pCPU \
         it used over the same pings where the run measured it, else `TCG_DOM0`'s. A row **agrees** when its measured p99 \
         lies within the seeds' p99 range widened by the run's noise floor ({} ms, the largest p99 of the no-hogs \
         rows). A p99 of a few hundred pings is a threshold: it jumps by a slice once about 1 % of them wait one \
         out. So, beside it and not part of the verdict, the share of pings that **waited long** (over {} ms: more \
         than a whole slice, beyond what the path adds): measured, with its 95 % (Wilson) interval for that many \
         pings, and over the seeds.\n\n",
        PING_WORK / 1000,
        TCG_DOM0.busy_permille,
        TCG_TICK.1 / 1000,
        SEEDS.start(),
        SEEDS.end(),
        f2(noise_floor(record)),
        LONG_WAIT / MS,
    );
    s += "| guest | hogs | scheduler (simulated) | p50 | p99 | max (ms) | EDF dispatches | QEMU host: p50 | p99 (ms) | calibrated tick (µs) | dom0 busy (‰) | its p99, 5 seeds (ms) | measured p50 | measured p99 (ms) | agrees | waited long: measured (95 % interval) | its seeds |\n";
    s += "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
    let floor = noise_floor(record);
    let mut by_key: BTreeMap<(String, u32, String), &SimPoint> = BTreeMap::new();
    for r in sim {
        by_key.insert((r.guest.clone(), r.hogs, r.scheduler.clone()), r);
    }
    for r in by_key.into_values() {
        let measured_m = measured_for(record, r);
        let measured = measured_m.map(Measurement::dist);
        let long_waits = measured_m.map_or("—".into(), |m| {
            let k = m
                .rtt_ms
                .iter()
                .filter(|&&ms| ms > LONG_WAIT as f64 / 1e6)
                .count();
            let (lo, hi) = wilson_95(k, m.rtt_ms.len());
            format!("{k}/{} ({lo:.1}–{hi:.1} %)", m.rtt_ms.len())
        });
        s += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.0} ({}) | {} ({}) | {}–{} | {} | {} | {} | {long_waits} | {:.1}–{:.1} % |\n",
            r.guest,
            r.hogs,
            r.scheduler,
            f2(r.dist.p50_ms),
            f2(r.dist.p99_ms),
            f2(r.dist.max_ms),
            r.edf_dispatches,
            f2(r.ticking.p50_ms),
            f2(r.ticking.p99_ms),
            r.tick_us,
            r.tick_from,
            r.dom0_busy_permille,
            r.dom0_from,
            f2(r.seeds_p99_ms.0),
            f2(r.seeds_p99_ms.1),
            measured.as_ref().map_or("—".into(), |d| f2(d.p50_ms)),
            measured.as_ref().map_or("—".into(), |d| f2(d.p99_ms)),
            match agrees(r, measured.as_ref(), floor) {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "—",
            },
            r.seeds_long_waits_pct.0,
            r.seeds_long_waits_pct.1,
        );
    }
    s += &effects(record, sim);
    s += &record
        .figs
        .markdown(&rel(&paths.plots.join("bench-xen-fig12.png")));
    s += "\n## Checks\n\nWhat the boots asserted (behaviour, not performance; part of `cargo xtask test` with `--quick`):\n\n";
    let failed = record.checks.iter().filter(|c| !c.1).count();
    s += &format!("{} checks, {} failed.\n\n", record.checks.len(), failed);
    for (name, ok) in &record.checks {
        s += &format!("* {} {name}\n", if *ok { "pass" } else { "**FAIL**" });
    }
    Ok(s)
}

/// The 95 % Wilson score interval of a proportion, `k` of `n`, in %.
fn wilson_95(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 100.0);
    }
    let (z, n) = (1.96_f64, n as f64);
    let p = k as f64 / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    (
        (centre - half).max(0.0) * 100.0,
        (centre + half).min(1.0) * 100.0,
    )
}

/// The run's noise floor: the largest p99 of its no-hogs rows, ms (0 if it
/// has none).
fn noise_floor(record: &Record) -> f64 {
    record
        .measurements
        .iter()
        .filter(|m| m.config == "floor")
        .map(|m| m.dist().p99_ms)
        .fold(0.0, f64::max)
}

/// The measurement a simulated row stands beside: stock credit's, or the
/// patched aperiodic guest's.
fn measured_for<'a>(record: &'a Record, r: &SimPoint) -> Option<&'a Measurement> {
    let (hv, config) = match r.scheduler.strip_prefix("aperiodic D=") {
        Some(d) => ("patched", format!("ap{}", d.trim_end_matches("ms"))),
        None => ("stock", "credit".to_string()),
    };
    find(record, hv, &config, &r.guest, r.hogs)
}

/// Does the simulator, calibrated, agree with the measurement: its p99
/// within the seeds' range widened by the noise floor?
fn agrees(r: &SimPoint, measured: Option<&Dist>, floor: f64) -> Option<bool> {
    let p99 = measured?.p99_ms;
    Some(p99 >= r.seeds_p99_ms.0 - floor && p99 <= r.seeds_p99_ms.1 + floor)
}

/// The simulator's validation on Fig 7 as a bar: every row it simulates
/// agrees with its measurement ([`agrees`]).
fn validation_bar(record: &Record, sim: &[SimPoint]) -> Option<Bar> {
    let floor = noise_floor(record);
    let verdicts: Vec<(&SimPoint, bool)> = sim
        .iter()
        .filter_map(|r| {
            Some((
                r,
                agrees(
                    r,
                    measured_for(record, r).map(Measurement::dist).as_ref(),
                    floor,
                )?,
            ))
        })
        .collect();
    if verdicts.is_empty() {
        return None;
    }
    let disagree: Vec<String> = verdicts
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(r, _)| format!("{} guest, {} hogs, {}", r.guest, r.hogs, r.scheduler))
        .collect();
    Some(Bar {
        what: "Fig 7, the simulator (blocked guest calibrated by its measured CPU) agrees with every measured p99 \
               within its seeds' range and the noise floor"
            .into(),
        measured: format!(
            "{} of {} rows{}",
            verdicts.len() - disagree.len(),
            verdicts.len(),
            if disagree.is_empty() {
                String::new()
            } else {
                format!("; not: {}", disagree.join("; "))
            }
        ),
        verdict: if disagree.is_empty() { "met" } else { "MISSED" },
    })
}

/// The effect of the series on p99 (stock credit's minus the aperiodic
/// guest's), simulated and measured, against the noise floor measured in
/// the same run: does TCG resolve it?
fn effects(record: &Record, sim: &[SimPoint]) -> String {
    let floor = noise_floor(record);
    let sim_p99 = |guest: &str, hogs: u32, sched: &str| {
        sim.iter()
            .find(|r| r.guest == guest && r.hogs == hogs && r.scheduler == sched)
            .map(|r| r.dist.p99_ms)
    };
    let mut rows = String::new();
    for ap in record
        .measurements
        .iter()
        .filter(|m| m.config.starts_with("ap"))
    {
        let Some(stock) = find(record, "stock", "credit", &ap.guest, ap.hogs) else {
            continue;
        };
        let measured = stock.dist().p99_ms - ap.dist().p99_ms;
        let d = &ap.config[2..];
        let simulated = sim_p99(&ap.guest, ap.hogs, "credit")
            .zip(sim_p99(&ap.guest, ap.hogs, &format!("aperiodic D={d}ms")))
            .map(|(c, a)| c - a);
        rows += &format!(
            "| {} | {} | aperiodic D={d}ms | {} | {} | {} |\n",
            ap.guest,
            ap.hogs,
            simulated.map_or("—".into(), f2),
            f2(measured),
            if measured.abs() > floor { "yes" } else { "no" }
        );
    }
    if rows.is_empty() {
        return String::new();
    }
    format!(
        "\nThe series' effect on p99 (stock credit's minus the aperiodic guest's, ms; positive: the series is faster), \
         against the largest p99 of this run's noise-floor rows ({} ms): a measured difference no larger than that \
         is not resolved by TCG.\n\n\
         | guest | hogs | configuration | simulated | measured | measured beyond the floor |\n|---|---|---|---|---|---|\n{rows}",
        f2(floor)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(kind: &str, rest: &str) -> String {
        format!(
            r#"{{"hv":"stock","sched":"credit","config":"credit","guest":"busy","hogs":5,"kind":"{kind}",{rest}}}"#
        )
    }

    #[test]
    fn parts_then_summary_make_a_measurement() {
        let lines = [
            line("part", r#""rtt_ms":[1.5,2.0]"#),
            line("part", r#""rtt_ms":[30.25]"#),
            line("run", r#""sent":4,"received":3,"edf_dispatches":null"#),
            line("run", r#""sent":4,"received":0,"edf_dispatches":7"#),
        ];
        let m = assemble(&lines).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].rtt_ms, [1.5, 2.0, 30.25]);
        assert_eq!(
            (m[0].sent, m[0].received, m[0].edf_dispatches),
            (4, 3, None)
        );
        assert!(m[1].rtt_ms.is_empty());
        assert_eq!(m[1].edf_dispatches, Some(7));
        assert_eq!(m[0].dist().max_ms, 30.25);
        assert!(assemble(&[r#"{"kind":"what"}"#.to_string()]).is_err());
    }

    #[test]
    fn a_wilson_interval_covers_its_proportion_and_stays_in_range() {
        // 13 of 300: 2.55–7.27 % (the Wilson score interval, z = 1.96).
        let (lo, hi) = wilson_95(13, 300);
        assert!(
            (lo - 2.55).abs() < 0.01 && (hi - 7.27).abs() < 0.01,
            "{lo} {hi}"
        );
        // None of 300 still allows a little; all of them, nearly all.
        let (lo, hi) = wilson_95(0, 300);
        assert!(lo == 0.0 && (hi - 1.26).abs() < 0.01, "{lo} {hi}");
        let (lo, hi) = wilson_95(300, 300);
        assert!(
            (lo - 98.74).abs() < 0.01 && (hi - 100.0).abs() < 1e-9,
            "{lo} {hi}"
        );
        assert_eq!(wilson_95(0, 0), (0.0, 100.0));
    }

    #[test]
    fn the_plans_measure_what_the_issue_asks() {
        // Full: stock credit, credit2, RTDS and the patched credit with
        // D = 3, 5, 8 ms, 1, 3 and 5 hogs; quick: at least stock credit and
        // aperiodic D = 5 ms with five hogs, so the bar can be judged.
        let (steps, hogs, pings) = plan(false);
        let configs: Vec<(bool, &str, &str)> = steps
            .iter()
            .flat_map(|s| s.configs.iter().map(move |c| (s.patched, s.sched, *c)))
            .collect();
        for want in [
            (false, "credit", "credit"),
            (false, "credit2", "credit2"),
            (false, "rtds", "rtds"),
            (true, "credit", "credit"),
            (true, "credit", "ap3"),
            (true, "credit", "ap5"),
            (true, "credit", "ap8"),
        ] {
            assert!(configs.contains(&want), "{want:?}");
        }
        assert_eq!((hogs, pings), (&[1, 3, 5][..], PINGS));
        let (steps, hogs, _) = plan(true);
        assert!(steps
            .iter()
            .any(|s| !s.patched && s.configs.contains(&"credit")));
        assert!(steps
            .iter()
            .any(|s| s.patched && s.configs.contains(&"ap5")));
        assert_eq!(hogs, &[5]);
    }

    fn meas(hv: &str, config: &str, guest: &str, rtt: f64) -> Measurement {
        Measurement {
            hv: hv.into(),
            sched: "credit".into(),
            config: config.into(),
            guest: guest.into(),
            hogs: 5,
            sent: 1,
            received: 1,
            edf_dispatches: None,
            cpu_s: None,
            dom0_cpu_s: None,
            wall_s: None,
            rtt_ms: vec![rtt],
        }
    }

    #[test]
    fn the_bar_is_the_p99_ratio_against_stock_credit() {
        let record = Record {
            provenance: String::new(),
            quick: true,
            pings: 1,
            checks: Vec::new(),
            measurements: vec![
                meas("stock", "credit", "busy", 100.0),
                meas("patched", "ap5", "busy", 20.0),
                meas("stock", "credit", "blocked", 100.0),
                meas("patched", "ap3", "blocked", 20.5),
            ],
            figs: Figs::default(),
        };
        let b = bars(&record);
        assert_eq!(b.len(), 2);
        assert_eq!((b[0].verdict, b[1].verdict), ("met", "MISSED"));
        assert!(b[0].measured.ends_with(": 0.20"), "{}", b[0].measured);
    }

    #[test]
    fn dom0s_measured_share_calibrates_the_simulated_dom0() {
        // bench-fig7.sh's summary line carries dom0's CPU time over the pings
        // beside the target's; the simulator is given that share, per mille.
        let part = r#"{"hv":"stock","sched":"credit","config":"credit","guest":"blocked","hogs":5,"kind":"part","rtt_ms":[1.5,2.5]}"#;
        let run = r#"{"hv":"stock","sched":"credit","config":"credit","guest":"blocked","hogs":5,"kind":"run","sent":2,"received":2,"edf_dispatches":null,"cpu_s":4.5,"dom0_cpu_s":3.3,"wall_s":30.00}"#;
        let m = assemble(&[part.into(), run.into()]).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!((m[0].dom0_cpu_s, m[0].rtt_ms.len()), (Some(3.3), 2));
        assert_eq!(measured_dom0(&m[0]), Some(110));
        // An older record without it keeps TCG_DOM0; no wall time, no share.
        let old = run.replace(r#""dom0_cpu_s":3.3,"#, "");
        let m = assemble(&[old]).unwrap();
        assert_eq!(measured_dom0(&m[0]), None);
        let no_wall = Measurement {
            dom0_cpu_s: Some(1.0),
            wall_s: Some(0.0),
            ..meas("stock", "credit", "blocked", 1.0)
        };
        assert_eq!(measured_dom0(&no_wall), None);
    }
}
