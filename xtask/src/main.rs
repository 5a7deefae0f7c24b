//! smooth's orchestration: `cargo xtask <command>`.
//!
//! Every expensive artefact is cached outside the repository (see
//! `util::cache_dir`), keyed by content, so a fresh machine builds it once and
//! later runs take seconds.

mod artefacts;
mod bench;
mod corpus;
mod deps;
mod gen;
mod image;
mod kernel;
mod qemu;
mod sim;
mod test;
mod util;
mod vm;
mod xen;

use anyhow::Result;
use clap::{Parser, Subcommand};
use std::time::Duration;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Build, boot and test smooth")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install missing Debian packages, rust-src and bindgen (idempotent).
    Deps,
    /// Build (or reuse from the cache) the Rust-enabled test kernel.
    Kernel {
        #[arg(long, value_enum, default_value = "base")]
        variant: kernel::Variant,
    },
    /// Boot the test kernel and run a shell command inside the guest.
    Vm {
        #[arg(long, value_enum, default_value = "base")]
        variant: kernel::Variant,
        /// Seconds before a hung guest is killed.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        /// The command (run by bash in /smooth, where tests/netns lives).
        #[arg(required = true, trailing_var_arg = true)]
        command: Vec<String>,
    },
    /// The whole suite: deps, cargo tests, VM tests; ends with `N passed, N failed`.
    Test {
        #[arg(long, value_enum, default_value = "base")]
        variant: kernel::Variant,
        /// Only VM tests whose file name contains this.
        #[arg(long)]
        filter: Option<String>,
        /// Skip `cargo test` (VM tests only).
        #[arg(long)]
        vm_only: bool,
    },
    /// The main job: boot the kernel, build the dom0-like topology, shape a
    /// vif and report delay and rate figures.
    Demo,
    /// Build (or reuse from the cache) Xen 4.17.5 with the credit
    /// real-time series (xen/patches/): hypervisors and tools.
    Xen {
        /// Then boot the debug hypervisor with a PV dom0 and run the
        /// scheduler tests (xen/tests/).
        #[arg(long)]
        test: bool,
        /// Instead: build the hypervisors at every patch of the series and
        /// the tools where a patch changes them, then boot every patch's
        /// debug hypervisor and run xen/tests/dom0-smoke.sh (each patch
        /// building and booting on its own).
        #[arg(long, conflicts_with = "test")]
        check_series: bool,
        /// Instead: build (or reuse) stock Xen 4.17.5, the same source
        /// without the series (release hypervisor with RTDS, stock tools),
        /// which `bench-xen` compares against.
        #[arg(long, conflicts_with_all = ["test", "check_series"])]
        stock: bool,
        /// Instead: smooth deployed on Xen (docs/deploy.md) in two boots:
        /// the vif hook's checks (xen/tests/dom0-vif.sh, one pCPU), then four
        /// configurations — stock, CPU half, network half, both — on two
        /// pCPUs (xen/tests/dom0-deploy-bench.sh); writes
        /// docs/results-deploy.md, docs/results/deploy.json and
        /// docs/img/deploy-{delay,ping}.png.
        #[arg(long, conflicts_with_all = ["test", "check_series"])]
        bench_deploy: bool,
    },
    /// Regenerate smooth-sim's real video captures (smooth-sim/corpus/):
    /// installs ffmpeg and tcpdump, encodes synthetic sources in real time,
    /// streams them as RTP on loopback and captures them (≈ 1.5 min each).
    Corpus {
        /// Only this capture (a file stem under smooth-sim/corpus/).
        #[arg(long)]
        only: Option<String>,
    },
    /// The in-kernel benchmark (tests/netns/bench.sh): streaming, irtt,
    /// flent, HTTP, window, rate, mixed traffic and cost through every shaper
    /// in the guest; writes docs/results.md, docs/results/bench.json and
    /// docs/img/bench-*.png (with --quick: target/bench/quick/).
    Bench {
        /// One trace, fewer shapers, shorter runs (part of `cargo xtask test`).
        #[arg(long)]
        quick: bool,
        /// Run only these experiments (comma-separated: stream, irtt, flent,
        /// http, window, rate, mixed, cost); the report keeps the others' last
        /// runs.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
        /// Rewrite the results from the runs already filed; run nothing.
        #[arg(long)]
        report_only: bool,
    },
    /// The paper's Xen figures under QEMU: Fig 7 on stock Xen 4.17.5
    /// (credit, credit2, RTDS) and the patched one (credit, aperiodic
    /// real-time with D = 3, 5, 8 ms), a pinged guest beside 1, 3, 5 CPU
    /// hogs; Figs 6, 2 and 12, the reserve and the placement; writes
    /// docs/results-xen.md, docs/results/bench-xen.json and its plots in
    /// docs/img/ (with --quick: target/bench-xen/quick/).
    BenchXen {
        /// Fig 7 with five hogs, 100 pings, stock credit and aperiodic
        /// D = 5 ms only; the other figures shorter (part of `cargo xtask
        /// test`).
        #[arg(long)]
        quick: bool,
        /// Rewrite the report from the record; run nothing.
        #[arg(long)]
        report_only: bool,
        /// Pings per measurement (default 300; with --quick 100).
        #[arg(long, value_parser = clap::value_parser!(u32).range(10..))]
        pings: Option<u32>,
    },
    /// Regenerate what comes from smooth-core's options and xstats tables:
    /// the C UAPI header and the tables in docs/.
    Gen {
        /// Write nothing; fail if a committed copy is stale.
        #[arg(long)]
        check: bool,
    },
    /// Regenerate the simulation results the docs quote (docs/results/sim-*.txt
    /// and the plots in docs/img) with the release smooth-sim.
    SimResults,
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Cmd::Deps => deps::deps(),
        Cmd::Kernel { variant } => kernel::ensure(variant).map(|k| {
            println!("{}", k.bzimage.display());
        }),
        Cmd::Vm {
            variant,
            timeout,
            command,
        } => vm::run_command(
            variant,
            "vm",
            command.join(" "),
            Duration::from_secs(timeout),
        ),
        Cmd::Test {
            variant,
            filter,
            vm_only,
        } => {
            deps::deps()?;
            test::test(variant, filter.as_deref(), vm_only)
        }
        Cmd::Xen {
            check_series: true, ..
        } => xen::check_series(),
        Cmd::Xen {
            bench_deploy: true, ..
        } => xen::bench_deploy(),
        Cmd::Xen {
            test: false, stock, ..
        } => xen::xen(stock),
        Cmd::Xen { test: true, .. } => test::xen_only(),
        Cmd::Corpus { only } => corpus::corpus(only.as_deref()),
        Cmd::SimResults => sim::sim_results(),
        Cmd::Gen { check: false } => gen::gen(),
        Cmd::Gen { check: true } => gen::check(),
        Cmd::Bench {
            quick,
            only,
            report_only,
        } => bench::bench(&bench::Options {
            quick,
            only,
            report_only,
        }),
        Cmd::BenchXen {
            quick,
            report_only,
            pings,
        } => {
            let tests = xen::bench_xen(&xen::BenchOptions {
                quick,
                report_only,
                pings,
            })?;
            for detail in tests.iter().filter_map(|t| t.detail.as_deref()) {
                println!("{}", detail.trim_end());
            }
            let failed = xen::failed_tests(&tests);
            if !failed.is_empty() {
                anyhow::bail!("bench-xen: failed checks: {}", failed.join(", "));
            }
            Ok(())
        }
        Cmd::Demo => {
            deps::deps()?;
            vm::run_command(
                kernel::Variant::Base,
                "demo",
                "bash /smooth/tests/netns/demo.sh".into(),
                Duration::from_secs(900),
            )
        }
    }
}
