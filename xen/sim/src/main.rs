//! `xen-sched-sim run <scenario|all> [--json] [--seconds N] [--seed S]`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;
use xen_sched_sim::scenario::{by_name, Opts, NAMES};

#[derive(Parser)]
#[command(
    name = "xen-sched-sim",
    version,
    about = "Simulates Xen's credit scheduler, stock and with smooth's real-time series"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Runs a scenario (fig7, fig6, fig2, fig12, reserve) or all of them.
    Run {
        scenario: String,
        /// One JSON line per scenario instead of tables.
        #[arg(long)]
        json: bool,
        /// Simulated seconds per run (default: the scenario's own).
        #[arg(long)]
        seconds: Option<u64>,
        /// Seed of the workloads' random phases.
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
}

fn main() -> ExitCode {
    let Cmd::Run {
        scenario,
        json,
        seconds,
        seed,
    } = Cli::parse().cmd;
    if seconds == Some(0) {
        eprintln!("xen-sched-sim: --seconds must be at least 1");
        return ExitCode::FAILURE;
    }
    let names: Vec<&str> = if scenario == "all" {
        NAMES.to_vec()
    } else {
        vec![scenario.as_str()]
    };
    let o = Opts { seconds, seed };
    for name in names {
        let Some(out) = by_name(name, &o) else {
            eprintln!(
                "xen-sched-sim: unknown scenario \"{name}\" (expected one of {} or all)",
                NAMES.join(", ")
            );
            return ExitCode::FAILURE;
        };
        if json {
            println!("{}", serde_json::to_string(&out).expect("serialisable"));
        } else {
            println!("{}", out.table());
        }
    }
    ExitCode::SUCCESS
}
