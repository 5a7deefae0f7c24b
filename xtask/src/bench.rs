//! `cargo xtask bench [--quick] [--only E,…] [--report-only]`: the in-kernel
//! benchmark. Boots the test kernel, runs the experiments of
//! `tests/netns/bench.sh` on the dom0-like topology, files what the guest
//! reports by experiment (one JSON-lines file each, headed by where it came
//! from) and has `smooth-sim bench-report` write the results from every
//! experiment's latest runs: `docs/results.md`, `docs/results/bench.json` and
//! `docs/img/bench-*.png` — with `--quick`, all under `target/bench/quick/`
//! instead, so the test suite exercises the whole path without touching the
//! docs.

use crate::qemu::Clock;
use crate::util::{repo_root, run};
use crate::{artefacts, deps, kernel, vm};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// The experiments, in the order the guest runs them (bench.sh's names).
pub const EXPERIMENTS: &[&str] = &[
    "stream", "irtt", "flent", "http", "window", "rate", "mixed", "cost",
];

/// What to run.
pub struct Options {
    /// Fewer traces, shapers and seconds; results under target/bench/quick/.
    pub quick: bool,
    /// These experiments only (empty: all).
    pub only: Vec<String>,
    /// Report the runs already filed; run nothing.
    pub report_only: bool,
}

struct Paths {
    runs: PathBuf,
    json: PathBuf,
    markdown: PathBuf,
    plots: PathBuf,
}

fn paths(quick: bool) -> Paths {
    let root = repo_root();
    if quick {
        let dir = root.join("target/bench/quick");
        Paths {
            runs: dir.join("runs"),
            json: dir.join("bench.json"),
            markdown: dir.join("results.md"),
            plots: dir.join("img"),
        }
    } else {
        Paths {
            runs: root.join("target/bench/runs"),
            json: root.join("docs/results/bench.json"),
            markdown: root.join("docs/results.md"),
            plots: root.join("docs/img"),
        }
    }
}

pub fn bench(opts: &Options) -> Result<()> {
    for e in &opts.only {
        if !EXPERIMENTS.contains(&e.as_str()) {
            bail!(
                "--only: unknown experiment \"{e}\" (one of: {})",
                EXPERIMENTS.join(", ")
            );
        }
    }
    let paths = paths(opts.quick);
    if !opts.report_only {
        run_guest(opts, &paths.runs)?;
    }
    report(&paths)
}

/// The benchmark's guest counts instructions for time. On the host's clock,
/// the emulator's own pauses (the host scheduling its threads, translating
/// code) land in the guest's timings as jitter that varies from run to run
/// and hides the smaller differences between shapers. Counted time removes
/// that noise and makes a run repeatable, while the kernel, the shapers and
/// the measuring programs run unchanged; the unshaped runs still measure
/// what the path itself adds.
const BENCH_CLOCK: Clock = Clock::Instructions;

/// Boots the guest for the chosen experiments and files their results.
fn run_guest(opts: &Options, runs: &Path) -> Result<()> {
    deps::deps()?;
    let kernel = kernel::ensure(kernel::Variant::Base)?;
    let files = artefacts::build(&kernel)?;
    let wanted: Vec<&str> = if opts.only.is_empty() {
        EXPERIMENTS.to_vec()
    } else {
        opts.only.iter().map(String::as_str).collect()
    };
    let script = repo_root().join("tests/netns/bench.sh");
    let mut needs = vm::script_needs(&script);
    // flent and its tools (python3 among them) only when E1b's flent runs.
    if wanted.contains(&"flent") {
        needs.push("flent".into());
    }
    let guest = vm::Guest {
        kernel: &kernel,
        files,
        command: format!(
            "BENCH_QUICK={} BENCH_ONLY='{}' bash /smooth/tests/netns/bench.sh",
            u8::from(opts.quick),
            wanted.join(" ")
        ),
        timeout: Duration::from_secs(if opts.quick { 1800 } else { 3 * 3600 }),
        cpus: 2,
        clock: BENCH_CLOCK,
        needs,
    };
    // Taken before the run: the commit the guest's code came from.
    let provenance = provenance(&kernel, opts)?;
    let outcome = guest.run("bench")?;
    let mut filed = sort_by_experiment(outcome.data)?;
    if outcome.status != 0 {
        // The experiments that finished before the failure are kept.
        let broken = filed.pop().map_or_else(|| "none".into(), |(e, _)| e);
        eprintln!("[bench] the guest failed during experiment {broken}: its runs are not filed");
    }
    file_runs(runs, &filed, &provenance)?;
    let missing: Vec<&str> = wanted
        .into_iter()
        .filter(|e| !filed.iter().any(|(f, _)| f == e))
        .collect();
    if outcome.status != 0 {
        bail!("the benchmark's guest failed (status {})", outcome.status);
    }
    if !missing.is_empty() {
        bail!("the guest did not run: {}", missing.join(", "));
    }
    Ok(())
}

/// The guest's result lines by experiment: each experiment's `begin` line
/// opens its group.
fn sort_by_experiment(data: Vec<String>) -> Result<Vec<(String, Vec<String>)>> {
    let mut filed: Vec<(String, Vec<String>)> = Vec::new();
    for line in data {
        let value: serde_json::Value =
            serde_json::from_str(&line).with_context(|| format!("guest result: {line:.200}"))?;
        if value["kind"] == "begin" {
            let experiment = value["experiment"].as_str().unwrap_or_default().to_string();
            filed.push((experiment, Vec::new()));
        } else if let Some((_, lines)) = filed.last_mut() {
            lines.push(line);
        } else {
            bail!("guest result before any experiment began: {line:.200}");
        }
    }
    Ok(filed)
}

/// Writes each experiment's results to `runs/<experiment>.jsonl`, headed by
/// the run's provenance.
fn file_runs(runs: &Path, filed: &[(String, Vec<String>)], provenance: &str) -> Result<()> {
    std::fs::create_dir_all(runs)?;
    for (experiment, lines) in filed {
        if lines.is_empty() {
            bail!("experiment {experiment} reported nothing");
        }
        let head = serde_json::json!({
            "kind": "provenance",
            "experiment": experiment,
            "text": provenance,
        });
        let file = runs.join(format!("{experiment}.jsonl"));
        std::fs::write(&file, format!("{head}\n{}\n", lines.join("\n")))
            .with_context(|| format!("writing {}", file.display()))?;
        println!(
            "[bench] {experiment}: {} results in {}",
            lines.len(),
            file.display()
        );
    }
    Ok(())
}

/// Command, commit, kernel and machine of this run.
fn provenance(kernel: &kernel::Kernel, opts: &Options) -> Result<String> {
    let only = if opts.only.is_empty() {
        String::new()
    } else {
        format!(" --only {}", opts.only.join(","))
    };
    let quick = if opts.quick { " --quick" } else { "" };
    Ok(kernel.provenance(&format!("cargo xtask bench{quick}{only}"), BENCH_CLOCK))
}

/// Writes the results from every experiment's filed runs.
fn report(paths: &Paths) -> Result<()> {
    std::fs::create_dir_all(paths.json.parent().expect("has a parent"))?;
    let root = repo_root();
    run(Command::new("cargo").current_dir(&root).args([
        "build",
        "--release",
        "-q",
        "-p",
        "smooth-sim",
    ]))?;
    run(Command::new(root.join("target/release/smooth-sim"))
        .arg("bench-report")
        .arg("--runs")
        .arg(&paths.runs)
        .arg("--json")
        .arg(&paths.json)
        .arg("--markdown")
        .arg(&paths.markdown)
        .arg("--plots")
        .arg(&paths.plots))?;
    println!(
        "[bench] wrote {}, {} and {}/bench-*.png",
        paths.markdown.display(),
        paths.json.display(),
        paths.plots.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_are_filed_by_experiment() {
        let data = [
            r#"{"kind":"begin","experiment":"irtt"}"#,
            r#"{"kind":"run","n":1}"#,
            r#"{"kind":"run","n":2}"#,
            r#"{"kind":"begin","experiment":"http"}"#,
        ];
        let filed = sort_by_experiment(data.iter().map(|s| s.to_string()).collect()).unwrap();
        assert_eq!(filed.len(), 2);
        assert_eq!((filed[0].0.as_str(), filed[0].1.len()), ("irtt", 2));
        assert_eq!((filed[1].0.as_str(), filed[1].1.len()), ("http", 0));
        assert!(sort_by_experiment(vec![data[1].to_string()]).is_err());
    }
}
