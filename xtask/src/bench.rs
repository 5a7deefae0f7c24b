//! `cargo xtask bench [--quick]`: the in-kernel streaming benchmark (E1).
//! Boots the test kernel, replays corpus traces through each shaper on the
//! IFB of the dom0-like topology (`tests/netns/bench.sh`), collects the runs
//! the guest prints, and has `smooth-sim bench-report` write the results:
//! `docs/results.md`, `docs/results/bench.json` and `docs/img/bench-*.png`
//! (with `--quick`, under `target/bench/quick/` instead, so the test suite
//! exercises the whole path without touching the docs).

use crate::util::{output, repo_root, run};
use crate::{artefacts, deps, kernel, vm};
use anyhow::{bail, Context, Result};
use std::process::Command;
use std::time::Duration;

pub fn bench(quick: bool) -> Result<()> {
    deps::deps()?;
    let kernel = kernel::ensure(kernel::Variant::Base)?;
    let files = artefacts::build(&kernel)?;
    let guest = vm::Guest {
        kernel: &kernel,
        files,
        command: format!(
            "BENCH_QUICK={} bash /smooth/tests/netns/bench.sh",
            u8::from(quick)
        ),
        timeout: Duration::from_secs(if quick { 1200 } else { 5400 }),
        cpus: 2,
        needs: vec![],
    };
    let outcome = guest.run("bench")?;
    if outcome.status != 0 {
        bail!("the benchmark's guest failed (status {})", outcome.status);
    }
    if outcome.data.is_empty() {
        bail!("the benchmark's guest reported no runs");
    }
    let root = repo_root();
    let work = root.join("target/bench");
    std::fs::create_dir_all(&work)?;
    let runs = work.join(if quick {
        "runs-quick.jsonl"
    } else {
        "runs.jsonl"
    });
    std::fs::write(&runs, outcome.data.join("\n") + "\n")
        .with_context(|| format!("writing {}", runs.display()))?;
    let (json, markdown, plots) = if quick {
        let dir = work.join("quick");
        (
            dir.join("bench.json"),
            dir.join("results.md"),
            dir.join("img"),
        )
    } else {
        (
            root.join("docs/results/bench.json"),
            root.join("docs/results.md"),
            root.join("docs/img"),
        )
    };
    std::fs::create_dir_all(json.parent().expect("has a parent"))?;
    let commit = output(
        Command::new("git")
            .current_dir(&root)
            .args(["describe", "--always", "--dirty"]),
    )
    .unwrap_or_else(|_| "unknown".into());
    let header = format!(
        "Command: `cargo xtask bench{}`; commit {commit}; guest: Linux {} under QEMU TCG, 2 vCPUs, on {} ({} CPUs); {}.",
        if quick { " --quick" } else { "" },
        output(kernel.make().args(["-s", "kernelrelease"])).unwrap_or_else(|_| "?".into()),
        output(Command::new("uname").arg("-m")).unwrap_or_default(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        output(Command::new("date").args(["-u", "+%Y-%m-%d %H:%M UTC"])).unwrap_or_default(),
    );
    run(Command::new(root.join("target/release/smooth-sim"))
        .arg("bench-report")
        .arg("--runs")
        .arg(&runs)
        .arg("--json")
        .arg(&json)
        .arg("--markdown")
        .arg(&markdown)
        .arg("--plots")
        .arg(&plots)
        .arg("--header")
        .arg(&header))?;
    println!(
        "[bench] wrote {}, {} and {}/bench-*.png",
        markdown.display(),
        json.display(),
        plots.display()
    );
    Ok(())
}
