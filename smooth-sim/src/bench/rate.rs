//! E4 (the paper's Fig 11): does smooth deliver the configured rate? netperf
//! TCP_STREAM and UDP_STREAM (and iperf3 beside it) from the client to the
//! VM through smooth on the vif's root, read by the qdisc's own byte counter
//! (what a tc rate counts: L2 bytes) over the steady state.

use super::Bar;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One run as the guest reports it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Run {
    /// `netperf` or `iperf3`.
    pub tool: String,
    /// `TCP` or `UDP`.
    pub proto: String,
    /// Configured rate, bit/s.
    pub configured_bps: u64,
    /// What the qdisc sent over the measured span, bit/s.
    pub delivered_bps: u64,
    /// Length of the measured span, s.
    pub secs: u64,
    /// netperf's own figure (payload, at the receiver), bit/s.
    pub goodput_bps: Option<u64>,
}

impl Run {
    /// Delivered / configured.
    pub fn ratio(&self) -> f64 {
        self.delivered_bps as f64 / self.configured_bps as f64
    }
}

/// E4's bar: every netperf run within ±2 % of the configured rate.
pub fn bar(runs: &[Run]) -> Option<Bar> {
    let netperf: Vec<&Run> = runs.iter().filter(|r| r.tool == "netperf").collect();
    if netperf.is_empty() {
        return None;
    }
    let outside = netperf
        .iter()
        .filter(|r| (r.ratio() - 1.0).abs() > 0.02)
        .count();
    let (lo, hi) = netperf.iter().fold((f64::MAX, 0.0f64), |(lo, hi), r| {
        (lo.min(r.ratio()), hi.max(r.ratio()))
    });
    Some(Bar {
        experiment: "E4",
        what: format!(
            "every netperf run (TCP and UDP, {} s each) within ±2 % of the configured rate",
            netperf[0].secs
        ),
        measured: format!(
            "delivered/configured {lo:.3}–{hi:.3}; {outside} of {} runs outside",
            netperf.len()
        ),
        verdict: if outside == 0 { "met" } else { "MISSED" },
    })
}

/// The E4 section.
pub fn markdown(runs: &[Run]) -> String {
    let mut s = String::from(
        "## E4 rate (Fig 11)\n\nnetperf TCP_STREAM and UDP_STREAM (`-m 1400`, unpaced: the qdisc drops the \
         excess) from the client to the VM through `smooth rate R` on the vif's root; iperf3 beside it (TCP, \
         and UDP at 2R). Delivered: the qdisc's byte counter (L2 bytes, what a tc rate counts) over the run \
         after 2 s of warm-up, read over netlink. netperf's goodput is its own payload figure at the \
         receiver (below the L2 rate by the headers).\n\n\
         | configured | tool | proto | delivered (Mbit/s) | delivered / configured | netperf goodput (Mbit/s) |\n\
         |---|---|---|---|---|---|\n",
    );
    for r in runs {
        s.push_str(&format!(
            "| {} Mbit/s | {} | {} | {:.3} | {:.4} | {} |\n",
            r.configured_bps / 1_000_000,
            r.tool,
            r.proto,
            r.delivered_bps as f64 / 1e6,
            r.ratio(),
            r.goodput_bps
                .map_or("–".into(), |g| format!("{:.3}", g as f64 / 1e6)),
        ));
    }
    s.push_str("\n![delivered vs configured rate](img/bench-rate.png)\n\n");
    s
}

/// Delivered against configured, per tool and protocol.
pub fn plot(path: &Path, runs: &[Run]) -> Result<(), String> {
    let mut series: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
    for r in runs {
        let label = format!("{} {}", r.tool, r.proto);
        let point = (r.configured_bps as f64 / 1e6, r.delivered_bps as f64 / 1e6);
        match series.iter_mut().find(|s| s.0 == label) {
            Some(s) => s.1.push(point),
            None => series.push((label, vec![point])),
        }
    }
    crate::plot::scatter_diagonal(
        path,
        "smooth: delivered vs configured rate",
        "configured (Mbit/s)",
        "delivered by the qdisc (Mbit/s)",
        &series,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(tool: &str, configured: u64, delivered: u64) -> Run {
        Run {
            tool: tool.into(),
            proto: "TCP".into(),
            configured_bps: configured,
            delivered_bps: delivered,
            secs: 60,
            goodput_bps: None,
        }
    }

    #[test]
    fn one_netperf_run_outside_two_percent_misses_the_bar() {
        let ok = vec![
            run("netperf", 4_000_000, 4_070_000),
            run("iperf3", 4_000_000, 3_000_000),
        ];
        assert_eq!(bar(&ok).unwrap().verdict, "met");
        let bad = vec![
            run("netperf", 4_000_000, 4_070_000),
            run("netperf", 8_000_000, 7_800_000),
        ];
        assert_eq!(bar(&bad).unwrap().verdict, "MISSED");
    }
}
