//! `cargo xtask sim-results`: regenerates the simulation results the docs
//! link to (`docs/results/sim-*.txt`, `docs/img/*.png`) with the release
//! `smooth-sim`, each file headed by the command that wrote it. Nobody
//! types a simulated number into the docs: they quote these files.

use crate::util::{output, repo_root, run};
use anyhow::{Context, Result};
use std::process::Command;

/// (results file stem, smooth-sim arguments). Plots go to docs/img.
const RUNS: &[(&str, &[&str])] = &[
    ("sim-corpus", &["corpus", "--duration", "60s"]),
    (
        "sim-sweep",
        &["sweep", "--duration", "60s", "--plot", "docs/img"],
    ),
    (
        "sim-sweep-20s",
        &[
            "sweep",
            "--duration",
            "20s",
            "--trace",
            "paper-vbr,x264-mandel-30fps,vp8-testsrc2-25fps",
        ],
    ),
    (
        "sim-sweep-window-1ms",
        &[
            "sweep",
            "--duration",
            "60s",
            "--window",
            "1ms",
            "--trace",
            "paper-vbr,x264-mandel-30fps",
        ],
    ),
    (
        "sim-sweep-window-8ms",
        &[
            "sweep",
            "--duration",
            "60s",
            "--window",
            "8ms",
            "--trace",
            "paper-vbr,x264-mandel-30fps",
        ],
    ),
    (
        "sim-optimum-vbr",
        &["optimum", "--workload", "vbr", "--duration", "20s"],
    ),
    (
        "sim-run-vbr",
        &[
            "run",
            "--workload",
            "vbr",
            "--duration",
            "60s",
            "--tbf-burst",
            "12500",
            "--plot",
            "docs/img",
        ],
    ),
    (
        "sim-run-cbr",
        &["run", "--workload", "cbr", "--duration", "30s"],
    ),
    (
        "sim-run-udp",
        &[
            "run",
            "--workload",
            "udp",
            "--load",
            "2",
            "--size",
            "1514",
            "--duration",
            "30s",
        ],
    ),
    (
        "sim-run-tcp",
        &[
            "run",
            "--workload",
            "tcp",
            "--duration",
            "30s",
            "--plot",
            "docs/img",
        ],
    ),
];

pub fn sim_results() -> Result<()> {
    let root = repo_root();
    run(Command::new("cargo")
        .current_dir(&root)
        .args(["build", "--release", "-p", "smooth-sim"]))?;
    let sim = root.join("target/release/smooth-sim");
    let dir = root.join("docs/results");
    std::fs::create_dir_all(&dir)?;
    for (stem, args) in RUNS {
        println!("[sim-results] smooth-sim {}", args.join(" "));
        let out = output(Command::new(&sim).current_dir(&root).args(*args))?;
        let text = format!("$ smooth-sim {}\n{out}", args.join(" "));
        let path = dir.join(format!("{stem}.txt"));
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!("[sim-results] wrote docs/results/sim-*.txt and docs/img/*.png");
    Ok(())
}
