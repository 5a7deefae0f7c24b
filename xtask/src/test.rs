//! `cargo xtask test`: the whole suite — lint and the workspace's
//! `cargo test`, every VM test under `tests/netns/` in its own freshly booted
//! guest, the quick benchmark, the Xen stage and the quick Xen benchmark —
//! as one tally with one closing line `N passed, N failed` (also the tally
//! of `cargo xtask xen --test`).

use crate::artefacts;
use crate::kernel::{self, Kernel, Variant};
use crate::qemu::Clock;
use crate::util::repo_root;
use crate::vm::{self, Guest};
use anyhow::{Context, Result};
use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
    failures: Vec<String>,
    /// What failed checks left for the reader (a hung boot's diagnosis).
    details: Vec<String>,
    /// Every check recorded by name: (name, passed, seconds).
    checks: Vec<(String, bool, f64)>,
}

impl Tally {
    /// The closing lines: what failed checks left (a hung boot's diagnosis),
    /// what failed, then `N passed, N failed`.
    fn summary(&self) {
        for detail in &self.details {
            println!("{}", detail.trim_end());
        }
        if !self.failures.is_empty() {
            println!("failed: {}", self.failures.join(", "));
        }
        println!("{} passed, {} failed", self.passed, self.failed);
    }

    fn record(&mut self, name: &str, ok: bool, secs: f64) {
        self.checks.push((name.to_string(), ok, secs));
        if ok {
            self.passed += 1;
            println!("PASS {name} ({secs:.1} s)");
        } else {
            self.failed += 1;
            self.failures.push(name.to_string());
            println!("FAIL {name} ({secs:.1} s)");
        }
    }
}

/// Runs `cargo test --workspace` and adds its counts to the tally.
fn cargo_tests(tally: &mut Tally) -> Result<()> {
    println!("== cargo test --workspace");
    let mut child = Command::new(env!("CARGO"))
        .args([
            "test",
            "--workspace",
            "--release",
            "--no-fail-fast",
            "--color",
            "never",
        ])
        .current_dir(repo_root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("running cargo test")?;
    // Both shown as they come (the build's progress, each binary's results)
    // and kept for the counts.
    let stdout = echo_lines(child.stdout.take().context("cargo test's stdout")?);
    let stderr = echo_lines(child.stderr.take().context("cargo test's stderr")?);
    let status = child.wait().context("waiting for cargo test")?;
    let (stdout, stderr) = (
        stdout.join().unwrap_or_default(),
        stderr.join().unwrap_or_default(),
    );
    let counts = CargoTestCounts::read(&stdout, &stderr, status.success());
    tally.passed += counts.passed;
    tally.failed += counts.failed;
    if !status.success() {
        tally.failures.push("cargo test --workspace".into());
    }
    Ok(())
}

/// Prints each line read from `pipe`, indented, as it comes; returns them.
fn echo_lines(pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut kept = String::new();
        for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
            println!("  {line}");
            kept.push_str(&line);
            kept.push('\n');
        }
        kept
    })
}

/// What one `cargo test --no-fail-fast` run counts.
#[derive(Debug, PartialEq)]
struct CargoTestCounts {
    passed: u64,
    /// Failed tests, plus one for each test binary that failed without a
    /// result line saying so (it crashed: abort, segfault, stack
    /// overflow), plus one for a run that failed with no target named (a
    /// build error).
    failed: u64,
}

impl CargoTestCounts {
    fn read(stdout: &str, stderr: &str, success: bool) -> CargoTestCounts {
        let (mut passed, mut failed, mut failed_binaries) = (0, 0, 0);
        for rest in stdout
            .lines()
            .filter_map(|l| l.strip_prefix("test result: "))
        {
            // "ok. 14 passed; 0 failed; 0 ignored; …"
            let num = |key: &str| -> u64 {
                rest.split(';')
                    .find_map(|part| part.trim().strip_suffix(key))
                    .and_then(|n| n.trim().rsplit(' ').next()?.parse().ok())
                    .unwrap_or(0)
            };
            passed += num(" passed");
            failed += num(" failed");
            failed_binaries += u64::from(num(" failed") > 0);
        }
        // cargo's closing "error: N targets failed:" (or "1 target failed:").
        let failed_targets = stderr.lines().find_map(|l| {
            let n = l.strip_prefix("error: ")?.split_once(' ')?;
            matches!(n.1, "target failed:" | "targets failed:")
                .then(|| n.0.parse::<u64>().ok())
                .flatten()
        });
        match failed_targets {
            Some(n) => failed += n.saturating_sub(failed_binaries),
            None if !success && failed == 0 => failed += 1,
            None => {}
        }
        CargoTestCounts { passed, failed }
    }
}

/// Runs a check command as one test of the tally (output shown on failure).
fn check(tally: &mut Tally, name: &str, cmd: &mut Command) {
    let t = Instant::now();
    let ok = match cmd.current_dir(repo_root()).output() {
        Ok(out) => {
            if !out.status.success() {
                print!("{}", String::from_utf8_lossy(&out.stdout));
                print!("{}", String::from_utf8_lossy(&out.stderr));
            }
            out.status.success()
        }
        Err(e) => {
            println!("  cannot run: {e}");
            false
        }
    };
    tally.record(name, ok, t.elapsed().as_secs_f64());
}

/// Style gates of the workspace: rustfmt and clippy with warnings denied.
fn lint_workspace(tally: &mut Tally) {
    println!("== lint");
    check(
        tally,
        "cargo fmt --all --check",
        Command::new(env!("CARGO")).args(["fmt", "--all", "--", "--check"]),
    );
    check(
        tally,
        "cargo clippy --workspace --all-targets --release -- -D warnings",
        Command::new(env!("CARGO")).args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--release",
            "--",
            "-D",
            "warnings",
        ]),
    );
}

/// The module's Rust formatted by the kernel's own rustfmt configuration
/// (what `make rustfmtcheck` checks in-tree).
fn lint_module(kernel: &kernel::Kernel, tally: &mut Tally) {
    let mut cmd = Command::new("rustfmt");
    cmd.args(["--edition", "2021", "--check", "--config-path"])
        .arg(kernel.source_dir.join(".rustfmt.toml"))
        .arg("sch_smooth/sch_smooth_main.rs")
        .arg("sch_smooth/qdisc.rs");
    check(tally, "sch_smooth: kernel rustfmt check", &mut cmd);
}

/// The VM test scripts, sorted: `tests/netns/test_*.sh`.
pub fn vm_tests(filter: Option<&str>) -> Result<Vec<String>> {
    let dir = repo_root().join("tests/netns");
    let mut names: Vec<String> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("test_") && n.ends_with(".sh"))
        .filter(|n| filter.is_none_or(|f| n.contains(f)))
        .collect();
    names.sort();
    Ok(names)
}

/// `cargo xtask test`: the stages in order, then the tally.
pub fn test(variant: Variant, filter: Option<&str>, skip_cargo: bool) -> Result<()> {
    let start = Instant::now();
    let mut tally = Tally::default();
    if !skip_cargo {
        lint_workspace(&mut tally);
        let t = Instant::now();
        cargo_tests(&mut tally)?;
        println!("== cargo tests done in {:.0} s", t.elapsed().as_secs_f64());
    }

    let kernel = kernel::ensure(variant)?;
    let files = artefacts::build(&kernel)?;
    println!(
        "== VM tests (host kernel {}; guest kernel: {:?} variant from {})",
        vm::host_release(),
        kernel.variant,
        kernel.build_dir.display()
    );
    lint_module(&kernel, &mut tally);
    self_check(&kernel, &files, &mut tally);
    vm_stage(&kernel, &files, filter, &mut tally)?;

    let base = matches!(variant, Variant::Base);
    let xen = base && filter.is_none_or(|f| "xen".contains(f));
    let bench_xen = base && filter.is_none_or(|f| "bench-xen".contains(f));
    // After the VM tests, whose checks time the guest: a cold machine
    // builds the Xens while the next stages leave CPU idle.
    let mut xen_builds = (xen || bench_xen).then(crate::xen::Prebuild::start);
    // The in-kernel benchmark, quick: the whole path (replayer, shapers,
    // report) runs on every suite so it never rots. Its figures are printed
    // and written under target/bench/quick/, not asserted (benchmarks report
    // their bars; the debug kernel is too slow to be worth timing).
    if base && filter.is_none_or(|f| "bench".contains(f)) {
        bench_stage(&mut tally);
    }
    // The CPU half: the patched Xen, booted with a PV dom0 (xen/tests/)
    // running the base kernel: not part of the Linux debug variant's run.
    if xen {
        if let Some(b) = xen_builds.as_mut() {
            b.wait_patched();
        }
        xen_stage(&mut tally);
    }
    // Fig 7 on stock and patched Xen, quick: its checks are behaviour (each
    // hypervisor is what it claims, every configuration answered pings);
    // its figures and the bar are printed, not asserted.
    if bench_xen {
        if let Some(b) = xen_builds.as_mut() {
            b.wait_all();
        }
        bench_xen_stage(&mut tally);
    }
    drop(xen_builds);

    println!(
        "== suite finished in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    tally.summary();
    // The record is of the whole suite: a filtered run only prints.
    if variant == Variant::Debug && filter.is_none() {
        write_record(&kernel, skip_cargo, &tally)?;
    }
    if tally.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// Runs `guest` as the check `label`; `passed` judges the command's status.
/// A guest that hangs or dies before reporting fails the check.
fn guest_check(
    tally: &mut Tally,
    label: &str,
    guest: &Guest,
    name: &str,
    passed: impl Fn(i32) -> bool,
) {
    let t = Instant::now();
    let ok = match guest.run(name) {
        Ok(outcome) => passed(outcome.status),
        Err(e) => {
            println!("  {e:#}");
            false
        }
    };
    tally.record(label, ok, t.elapsed().as_secs_f64());
}

/// The harness must report a failing guest command as a failure: prove it
/// on every run with a guest command that must fail.
fn self_check(kernel: &Kernel, files: &[(PathBuf, String)], tally: &mut Tally) {
    let guest = Guest {
        kernel,
        files: files.to_vec(),
        command: "tc qdisc add dev lo root tbf rate 2mbit  # no burst: tc must refuse".into(),
        timeout: Duration::from_secs(120),
        cpus: 1,
        clock: Clock::Host,
        needs: Vec::new(),
    };
    guest_check(
        tally,
        "harness: a failing guest command is reported as failed",
        &guest,
        "harness-selftest",
        |status| status != 0,
    );
}

/// Every `tests/netns/test_*.sh` matching `filter`, each in its own guest.
fn vm_stage(
    kernel: &Kernel,
    files: &[(PathBuf, String)],
    filter: Option<&str>,
    tally: &mut Tally,
) -> Result<()> {
    for name in vm_tests(filter)? {
        println!("== {name}");
        let guest = Guest {
            kernel,
            files: files.to_vec(),
            command: format!("bash /smooth/tests/netns/{name}"),
            // The debug kernel runs the guest several times slower.
            timeout: Duration::from_secs(match kernel.variant {
                Variant::Debug => 1200,
                _ => 600,
            }),
            cpus: 2,
            clock: Clock::Host,
            needs: vm::script_needs(&repo_root().join("tests/netns").join(&name)),
        };
        guest_check(
            tally,
            &name,
            &guest,
            name.trim_end_matches(".sh"),
            |status| status == 0,
        );
    }
    Ok(())
}

/// `cargo xtask bench --quick`, as one check.
fn bench_stage(tally: &mut Tally) {
    let t = Instant::now();
    println!("== cargo xtask bench --quick");
    let quick = crate::bench::Options {
        quick: true,
        only: Vec::new(),
        report_only: false,
    };
    let ok = match crate::bench::bench(&quick) {
        Ok(()) => true,
        Err(e) => {
            println!("  {e:#}");
            false
        }
    };
    tally.record(
        "bench --quick: runs and reports",
        ok,
        t.elapsed().as_secs_f64(),
    );
}

/// The Xen scheduler tests, each one check; a build or boot error is one
/// failed check.
fn xen_stage(tally: &mut Tally) {
    let t = Instant::now();
    println!("== Xen scheduler tests (patched debug Xen in QEMU)");
    match crate::xen::run_tests(Duration::from_secs(1200)) {
        Ok(tests) => {
            for x in tests {
                tally.record(&x.name, x.ok, t.elapsed().as_secs_f64());
                tally.details.extend(x.detail);
            }
        }
        Err(e) => {
            println!("  {e:#}");
            tally.record("xen: build and boot", false, t.elapsed().as_secs_f64());
        }
    }
}

/// `cargo xtask bench-xen --quick`, each of its checks one test; a build,
/// boot or report error is one failed check.
fn bench_xen_stage(tally: &mut Tally) {
    let t = Instant::now();
    println!("== cargo xtask bench-xen --quick (stock and patched Xen in QEMU)");
    let quick = crate::xen::BenchOptions {
        quick: true,
        report_only: false,
        pings: None,
    };
    match crate::xen::bench_xen(&quick) {
        Ok(tests) => {
            for x in tests {
                tally.record(&x.name, x.ok, t.elapsed().as_secs_f64());
                tally.details.extend(x.detail);
            }
        }
        Err(e) => {
            println!("  {e:#}");
            tally.record(
                "bench-xen --quick: runs and reports",
                false,
                t.elapsed().as_secs_f64(),
            );
        }
    }
}

/// `cargo xtask xen --test`: the Xen stage alone, with its own tally.
pub fn xen_only() -> Result<()> {
    let mut tally = Tally::default();
    xen_stage(&mut tally);
    tally.summary();
    if tally.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}

/// Where the debug kernel's run is recorded: sanitizer runs are too slow for
/// CI, so the record of the last one is kept with the docs, written here.
const DEBUG_RECORD: &str = "docs/results/test-debug.md";

/// Writes the record of a `--variant debug` run: provenance, every check
/// with its result, the totals.
fn write_record(kernel: &kernel::Kernel, skip_cargo: bool, tally: &Tally) -> Result<()> {
    let mut command = String::from("cargo xtask test --variant debug");
    if skip_cargo {
        command.push_str(" --vm-only");
    }
    let mut out = format!(
        "# The suite on the debug kernel\n\n\
         Written by the command below; do not edit. The debug variant adds KASAN, lockdep, kmemleak and Rust's \
         debug assertions and overflow checks (`xtask/kernel/debug.config`); each guest fails its test on any \
         kernel warning or sanitizer report. Rates are asserted only from above on this kernel (a shaper never \
         sends above its rate, however slow the emulated path), and the behaviour test does not require TCP to build GSO packets larger than the bucket (segmentation is asserted exactly by the drops test); everything else is asserted as on the base kernel.\n\n{}\n\n| check | result | seconds |\n|---|---|---|\n",
        kernel.provenance(&command, Clock::Host)
    );
    for (name, ok, secs) in &tally.checks {
        out.push_str(&format!(
            "| {name} | {} | {secs:.0} |\n",
            if *ok { "pass" } else { "FAIL" }
        ));
    }
    out.push_str(&format!(
        "\n{} passed, {} failed\n",
        tally.passed, tally.failed
    ));
    let path = repo_root().join(DEBUG_RECORD);
    std::fs::write(&path, out).with_context(|| format!("writing {}", path.display()))?;
    println!("[test] wrote {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_test_binary_that_died_counts_as_a_failure() {
        let ok = "test result: ok. 14 passed; 0 failed; 0 ignored; 0 measured\n";
        let one_failed = "test result: FAILED. 3 passed; 1 failed; 0 ignored\n";
        let read = CargoTestCounts::read;
        let counts = |passed, failed| CargoTestCounts { passed, failed };
        assert_eq!(read(ok, "", true), counts(14, 0));
        // One binary failed a test, another crashed before its result line.
        let two = "error: 2 targets failed:\n    `-p a --lib`\n    `-p b --test t`\n";
        assert_eq!(
            read(&format!("{ok}{one_failed}"), two, false),
            counts(17, 2)
        );
        // Only the crashed one.
        let one = "error: 1 target failed:\n    `-p b --test t`\n";
        assert_eq!(read(ok, one, false), counts(14, 1));
        // A build error: no target ran, none named.
        assert_eq!(
            read("", "error: could not compile `a`\n", false),
            counts(0, 1)
        );
    }
}
