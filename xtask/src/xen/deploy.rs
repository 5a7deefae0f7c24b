//! The network half in the Xen dom0 ([docs/deploy.md]): what an operator
//! installs on a Debian dom0, placed in dom0's initramfs under
//! `/smooth/deploy/` as the operator would have it before installing —
//! `sch_smooth.ko` built against the very kernel dom0 boots (the one
//! the VM tests boot), the tc plugin, `tc-smooth` and the `vif-smooth` hotplug
//! script — and the stock `tc` from iproute2. The dom0 scripts install them
//! with the commands docs/deploy.md lists (`xen/tests/deploy-lib.sh`).
//!
//! For the four-configuration scenario (`cargo xtask xen --bench-deploy`,
//! `xen/tests/dom0-deploy-bench.sh`) dom0 also gets the replayer
//! (`smooth-sim`) and a second guest image, `/smooth/domu-stream.cpio`: the
//! streaming guest, which replays a corpus trace to dom0 on request.

use super::boot;
use crate::artefacts;
use crate::image::Image;
use crate::kernel::Kernel;
use crate::util::{output, repo_root, run};
use anyhow::{bail, Context, Result};
use serde_json::Value;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Where the artefacts wait in dom0, as copied onto an operator's dom0.
pub const DEPLOY_DIR: &str = "/smooth/deploy";

/// The streaming guest's init: its address from the kernel command line;
/// then, for each request from dom0 (a TCP connection to port 5003 carrying
/// "TRACE SECONDS IP:PORT"), it replays the trace to IP:PORT and sends the
/// sender's JSON report back to dom0's port 5004.
const STREAM_INIT: &str = r#"#!/bin/sh
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t tmpfs tmp /tmp
addr=$(sed -n 's/.*smooth_ip=\([0-9.]*\).*/\1/p' /proc/cmdline)
ip link set lo up
ip addr add "$addr/24" dev eth0; ip link set eth0 up
echo "smooth-domu: role stream addr $addr"
while :; do
    nc -l -p 5003 > /tmp/request || continue
    read -r trace secs to < /tmp/request
    [ -n "$to" ] || continue
    smooth-sim replay-send --trace "$trace" --to "$to" --duration "${secs}s" > /tmp/sent.json 2>&1
    nc 10.0.0.1 5004 < /tmp/sent.json
done
"#;

const STREAM_APPLETS: &[&str] = &[
    "sh", "mount", "mkdir", "cat", "echo", "sleep", "sed", "ip", "nc", "true", "ls",
];

/// `binary` without its debug information, in `work` (the guests' images
/// stay small).
fn stripped(work: &Path, binary: &Path) -> Result<PathBuf> {
    let out = work.join(binary.file_name().context("a file name")?);
    run(Command::new("strip").arg("-o").arg(&out).arg(binary))?;
    Ok(out)
}

/// The streaming guest's initrd: busybox, the replayer and its libraries.
fn stream_initramfs(work: &Path, smooth_sim: &Path) -> Result<PathBuf> {
    let mut image = Image::new(work.join("domu-stream-root"), &["tmp"], STREAM_APPLETS)?;
    image.libraries_of(smooth_sim)?;
    image.install_libraries(None)?;
    image.copy(smooth_sim, "/usr/bin/smooth-sim")?;
    image.write("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")?;
    image.init(STREAM_INIT)?;
    let out = work.join("domu-stream.cpio");
    image.cpio(&out)?;
    Ok(out)
}

/// Adds the artefacts, built against `kernel`, `tc`, the replayer and the
/// streaming guest's image to dom0's image (built in `work`). Their
/// libraries are noted in `image`; the caller installs them.
pub fn add_to_dom0(image: &mut Image, kernel: &Kernel, work: &Path) -> Result<()> {
    let module = artefacts::module(kernel)?;
    let release = artefacts::userspace()?;
    // coreutils' install: busybox has none.
    image.host_tools(&["tc", "install"])?;
    let tc_smooth = release.join("tc-smooth");
    let plugin = release.join("libq_smooth.so");
    // smooth-nl rate: a root qdisc's sent rate from its byte counter.
    let smooth_nl = release.join("smooth-nl");
    let smooth_sim = stripped(work, &release.join("smooth-sim"))?;
    for binary in [&tc_smooth, &plugin, &smooth_nl, &smooth_sim] {
        image.libraries_of(binary)?;
    }
    image.copy(&module, &format!("{DEPLOY_DIR}/sch_smooth.ko"))?;
    image.copy(&tc_smooth, &format!("{DEPLOY_DIR}/tc-smooth"))?;
    image.copy(&plugin, &format!("{DEPLOY_DIR}/q_smooth.so"))?;
    image.copy(
        &repo_root().join("xen/scripts/vif-smooth"),
        &format!("{DEPLOY_DIR}/vif-smooth"),
    )?;
    image.copy(&smooth_nl, "/usr/sbin/smooth-nl")?;
    image.copy(&smooth_sim, "/usr/sbin/smooth-sim")?;
    image.copy(
        &stream_initramfs(work, &smooth_sim)?,
        "/smooth/domu-stream.cpio",
    )?;
    Ok(())
}

/// The scenario's dom0 script, and the console line prefix it reports each
/// configuration's measurements with (one JSON object).
const BENCH_SCRIPT: &str = "dom0-deploy-bench.sh";
const DATA_MARKER: &str = "SMOOTH-DEPLOY ";
/// The configurations, in the table's order.
const CONFIGS: &[(&str, &str)] = &[
    ("stock", "credit, netback's rate limit (vif-bridge)"),
    (
        "cpu",
        "CPU half only: real-time guest, dom0 driver domain; netback's rate limit",
    ),
    ("net", "network half only: credit; smooth via vif-smooth"),
    ("both", "both halves"),
];

/// `cargo xtask xen --bench-deploy`: boots the patched (debug) Xen twice —
/// xen/tests/dom0-vif.sh on one pCPU, then the four configurations
/// (xen/tests/dom0-deploy-bench.sh) on two, dom0 pinned to pCPU 0 and the
/// guests on pCPU 1 — and writes docs/results/deploy.json,
/// docs/results-deploy.md and its plots (docs/img/deploy-delay.png,
/// docs/img/deploy-ping.png) from what dom0 measured. Fails if the run did
/// not complete; a missed bar is reported, not an error.
pub fn bench() -> Result<()> {
    let xen = boot::xen_build()?;
    let kernel = crate::kernel::ensure(crate::kernel::Variant::Base)?;
    let work = repo_root().join("target/xen-deploy");
    std::fs::create_dir_all(&work)?;
    // Where the run came from, as it starts.
    let command = "cargo xtask xen --bench-deploy";
    let provenance = format!(
        "{}; Xen {} (patched, debug=y) on 2 pCPUs: dom0 pinned to pCPU 0, every guest on pCPU 1",
        kernel.provenance(command, crate::qemu::Clock::Host),
        xen.dir.display()
    );
    let initrd = boot::dom0_initramfs(&work, &xen.tools, &kernel, true)?;
    // The hook's own checks first (the Xen stage's dom0-vif.sh), then the
    // four configurations, each in a fresh boot.
    let one_boot = |script: &str, cpus: u32, timeout: u64| {
        boot::Boot {
            hypervisor: &xen.xen_debug,
            kernel: &kernel,
            initrd: &initrd,
            cpus,
            sched: "credit",
            script,
            args: String::new(),
            log: work.join(format!("console-{}.log", script.trim_end_matches(".sh"))),
            timeout: Duration::from_secs(timeout),
        }
        .run(|_| ())
    };
    let mut tests = one_boot("dom0-vif.sh", 1, 1200)?;
    tests.extend(one_boot(BENCH_SCRIPT, 2, 2400)?);
    let log = work.join(format!(
        "console-{}.log",
        BENCH_SCRIPT.trim_end_matches(".sh")
    ));
    let console = std::fs::read_to_string(&log)?;
    let mut runs: Vec<Value> = Vec::new();
    let mut splicer = boot::Splicer::default();
    for line in console.lines().flat_map(|l| splicer.push(l)) {
        if let Some(json) = line.split(DATA_MARKER).nth(1) {
            // A line the console mangled leaves its configuration "not
            // measured" in the table; the run then fails below.
            match boot::first_json(json) {
                Ok(v) => runs.push(v),
                Err(e) => eprintln!("[deploy] unreadable {DATA_MARKER}line ({e}): {json}"),
            }
        }
    }
    for t in &tests {
        println!("{} {}", if t.ok { "PASS" } else { "FAIL" }, t.name);
        if let Some(detail) = &t.detail {
            println!("{}", detail.trim_end());
        }
    }
    let page = markdown(&runs, &provenance)?;
    let json = serde_json::json!({ "provenance": provenance, "runs": runs });
    std::fs::create_dir_all(repo_root().join("docs/results"))?;
    std::fs::write(
        repo_root().join("docs/results/deploy.json"),
        serde_json::to_string_pretty(&json)? + "\n",
    )?;
    std::fs::write(repo_root().join("docs/results-deploy.md"), &page)?;
    if !runs.is_empty() {
        run(Command::new(repo_root().join("target/release/smooth-sim"))
            .arg("deploy-plot")
            .arg("--results")
            .arg(repo_root().join("docs/results/deploy.json"))
            .arg("--dir")
            .arg(repo_root().join("docs/img")))?;
    }
    print!("{page}");
    if tests.iter().any(|t| !t.ok) || runs.len() != CONFIGS.len() * ROUNDS {
        bail!(
            "the scenario did not complete: {} of {} runs measured, console in {}",
            runs.len(),
            CONFIGS.len() * ROUNDS,
            log.display()
        );
    }
    Ok(())
}

fn ms(ns: f64) -> String {
    format!("{:.1}", ns / 1e6)
}

/// The rounds of each configuration, in the scenario's rounds (`ROUNDS` in
/// dom0-deploy-bench.sh).
pub const ROUNDS: usize = 3;

/// A number from a run, NaN if missing.
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// The median of `v` (the lower middle one for an even count).
fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2)
        .copied()
        .unwrap_or(f64::NAN)
}

/// "median (min–max)" of `v`, in ms from ns.
fn spread_ms(v: &[f64]) -> String {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if v.len() > 1 {
        format!("{} ({}–{})", ms(median(v)), ms(lo), ms(hi))
    } else {
        ms(median(v))
    }
}

/// The results page: one row per configuration (medians over its rounds),
/// every run, then the bars.
fn markdown(runs: &[Value], provenance: &str) -> Result<String> {
    let mut s = String::new();
    let host = output(Command::new("uname").arg("-srm")).unwrap_or_default();
    writeln!(s, "# smooth deployed on Xen: four configurations\n")?;
    writeln!(
        s,
        "Generated by `cargo xtask xen --bench-deploy` ([docs/deploy.md](deploy.md)); do not edit.\n\n\
         {provenance}; host: {host}.\n"
    )?;
    let first = runs.first();
    let field = |k: &str| first.and_then(|r| r[k].as_str()).unwrap_or("?").to_string();
    writeln!(
        s,
        "The streaming guest replays `{}` for {} s to a receiver in dom0 (`smooth-sim replay-send` → \
         `replay-recv`), beside {}; dom0 pings the guest every 50 ms meanwhile. xl.cfg rate \
         `{}`. Each configuration runs {ROUNDS} times, the order rotated every round. J: RFC 3550 \
         interarrival jitter (mean over the run) with the trace's schedule as the RTP timestamp; \
         delays are one-way delays above the run's smallest (the guest's and dom0's clocks are not \
         synchronised), the guest's own lateness included; rate: bytes delivered over bytes the \
         trace offers.\n",
        field("trace"),
        first.and_then(|r| r["seconds"].as_u64()).unwrap_or(0),
        field("hogs"),
        field("rate"),
    )?;
    writeln!(
        s,
        "Medians over the rounds, (min–max) where it matters:\n\n\
         | configuration | rounds | J mean (ms) | delay p50 / p99 / max (ms) | sender late p99 (ms) | \
         received / offered | rate | ping p50 / p99 (ms) |"
    )?;
    writeln!(s, "|---|---|---|---|---|---|---|---|")?;
    // Per configuration: the J of each round and the rate ratios.
    let mut by: Vec<(&str, Vec<f64>, Vec<f64>)> = Vec::new();
    for (name, what) in CONFIGS {
        let rs: Vec<&Value> = runs.iter().filter(|r| r["config"] == *name).collect();
        if rs.is_empty() {
            writeln!(s, "| {name}: {what} | 0 | not measured | | | | | |")?;
            continue;
        }
        let col = |f: &dyn Fn(&Value) -> f64| rs.iter().map(|r| f(r)).collect::<Vec<f64>>();
        let j = col(&|r| num(&r["stream"]["metrics"]["jitter_mean"]));
        let ratio = col(&|r| num(&r["stream"]["rate_ratio"]));
        let med = |f: &dyn Fn(&Value) -> f64| median(&col(f));
        let (lo, hi) = ratio
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                (a.min(x), b.max(x))
            });
        let sum = |k: &str| {
            rs.iter()
                .map(|r| r["stream"][k].as_u64().unwrap_or(0))
                .sum::<u64>()
        };
        writeln!(
            s,
            "| {name}: {what} | {} | {} | {} / {} / {} | {} | {} / {} | {:.4}–{:.4} | {:.1} / {:.1} |",
            rs.len(),
            spread_ms(&j),
            ms(med(&|r| num(&r["stream"]["metrics"]["delay"]["p50"]))),
            spread_ms(&col(&|r| num(&r["stream"]["metrics"]["delay"]["p99"]))),
            ms(med(&|r| num(&r["stream"]["metrics"]["delay"]["max"]))),
            ms(med(&|r| num(&r["stream"]["sender_late"]["p99"]))),
            sum("received"),
            sum("offered"),
            lo,
            hi,
            med(&|r| num(&r["ping"]["p50"])),
            med(&|r| num(&r["ping"]["p99"])),
        )?;
        by.push((name, j, ratio));
    }
    writeln!(
        s,
        "\nEvery run:\n\n| round | configuration | J mean (ms) | delay p99 (ms) | rate | ping p99 (ms) |\n\
         |---|---|---|---|---|---|"
    )?;
    let mut all: Vec<&Value> = runs.iter().collect();
    all.sort_by_key(|r| r["round"].as_u64().unwrap_or(0));
    for r in all {
        writeln!(
            s,
            "| {} | {} | {} | {} | {:.4} | {:.1} |",
            r["round"].as_u64().unwrap_or(0),
            r["config"].as_str().unwrap_or("?"),
            ms(num(&r["stream"]["metrics"]["jitter_mean"])),
            ms(num(&r["stream"]["metrics"]["delay"]["p99"])),
            num(&r["stream"]["rate_ratio"]),
            num(&r["ping"]["p99"]),
        )?;
    }
    writeln!(
        s,
        "\n![one-way delay per configuration](img/deploy-delay.png)\n\n\
         ![ping round trips per configuration](img/deploy-ping.png)"
    )?;
    writeln!(s, "\n## Bars\n")?;
    match by.iter().find(|b| b.0 == "both") {
        Some((_, j, ratio)) => {
            let mj = median(j);
            let others: Vec<&(&str, Vec<f64>, Vec<f64>)> =
                by.iter().filter(|b| b.0 != "both").collect();
            let best =
                others.len() == CONFIGS.len() - 1 && others.iter().all(|o| mj < median(&o.1));
            // In how many rounds 'both' had the lowest J of that round.
            let rounds: Vec<u64> = {
                let mut r: Vec<u64> = runs.iter().filter_map(|r| r["round"].as_u64()).collect();
                r.sort_unstable();
                r.dedup();
                r
            };
            let won = rounds
                .iter()
                .filter(|&&k| {
                    let jr = |c: &str| {
                        runs.iter()
                            .find(|r| r["config"] == c && r["round"].as_u64() == Some(k))
                            .map(|r| num(&r["stream"]["metrics"]["jitter_mean"]))
                    };
                    jr("both").is_some_and(|b| {
                        CONFIGS
                            .iter()
                            .filter(|c| c.0 != "both")
                            .all(|c| jr(c.0).is_some_and(|o| b < o))
                    })
                })
                .count();
            writeln!(
                s,
                "* {} — 'both' has the lowest J (median over its rounds): {} ms against {}; the lowest of its \
                 round in {won} of {} rounds.",
                if best { "met" } else { "missed" },
                ms(mj),
                others
                    .iter()
                    .map(|o| format!("{} {} ms", o.0, ms(median(&o.1))))
                    .collect::<Vec<_>>()
                    .join(", "),
                rounds.len(),
            )?;
            let within = ratio.iter().all(|r| (r - 1.0).abs() <= 0.02);
            writeln!(
                s,
                "* {} — 'both' delivers the offered rate within ±2 % in every round: {}.",
                if within { "met" } else { "missed" },
                ratio
                    .iter()
                    .map(|r| format!("{r:.4}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )?;
        }
        None => writeln!(s, "* missed — 'both' was not measured.")?,
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: &str, round: u64, jitter_ms: f64, ratio: f64) -> Value {
        serde_json::json!({
            "config": config, "round": round, "trace": "x264-mandel-30fps", "seconds": 30,
            "rate": "2Mb/s@50ms", "hogs": "two CPU-hog guests",
            "stream": {
                "offered": 100, "received": 99, "offered_bps": 1.8e6, "rate_ratio": ratio,
                "delay_p90": 2e6, "sender_late": {"p99": 1e6},
                "metrics": {"jitter_mean": jitter_ms * 1e6,
                            "delay": {"p50": 1e6, "p99": 3e6, "max": 4e6}}
            },
            "ping": {"sent": 600, "replies": 600, "p50": 3.0, "p90": 7.0, "p99": 11.0, "max": 12.0}
        })
    }

    #[test]
    fn the_page_reports_each_bar_met_or_missed() {
        let mut runs = Vec::new();
        for (k, both) in [(1, 2.0), (2, 5.0), (3, 3.0)] {
            runs.extend([
                run("stock", k, 9.0, 0.99),
                run("cpu", k, 6.0, 0.99),
                run("net", k, 4.0, 1.0),
                run("both", k, both, 0.995),
            ]);
        }
        let page = markdown(&runs, "test").unwrap();
        assert!(
            page.contains("| both: both halves | 3 | 3.0 (2.0–5.0) |"),
            "{page}"
        );
        assert!(
            page.contains("* met — 'both' has the lowest J (median over its rounds): 3.0 ms"),
            "{page}"
        );
        assert!(
            page.contains("the lowest of its round in 2 of 3 rounds"),
            "{page}"
        );
        assert!(
            page.contains("* met — 'both' delivers the offered rate within ±2 % in every round")
        );
        assert!(page.contains("| 2 | both | 5.0 |"), "{page}");
        let runs = [
            run("stock", 1, 9.0, 0.99),
            run("net", 1, 1.5, 1.0),
            run("both", 1, 2.0, 0.97),
        ];
        let page = markdown(&runs, "test").unwrap();
        assert!(page.contains("| cpu: CPU half only"), "{page}");
        assert!(page.contains("not measured"));
        assert!(
            page.contains("* missed — 'both' has the lowest J"),
            "{page}"
        );
        assert!(page.contains(
            "* missed — 'both' delivers the offered rate within ±2 % in every round: 0.9700"
        ));
    }
}
