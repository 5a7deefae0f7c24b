//! E2 (the paper's Fig 9): ApacheBench fetching an 8 KB file, one request at
//! a time, from busybox httpd in the VM's namespace through the shaper. The
//! figure of merit is the spread of the waiting time (request sent → first
//! byte of the response): what a user feels as jitter of a web service.

use super::{percentile, Bar, Spec};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The guest's result.
#[derive(Clone, Debug, Deserialize)]
pub struct Raw {
    /// The shaper.
    #[serde(flatten)]
    pub spec: Spec,
    /// Requests made.
    pub requests: u64,
    /// Requests ab counted as failed.
    pub failed: u64,
    /// Per request, from `ab -g`: waiting time and total time, whole ms.
    pub wait_total_ms: Vec<(u64, u64)>,
}

/// One shaper, measured (ms: ab's resolution).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Measured {
    /// The shaper.
    pub spec: Spec,
    /// Requests made and failed.
    pub requests: u64,
    /// Failed requests.
    pub failed: u64,
    /// Waiting time p50, p90, p99, max.
    pub wait: [u64; 4],
    /// Total time p50, p99.
    pub total: [u64; 2],
    /// Every waiting time, sorted (for the CDF).
    #[serde(skip)]
    pub waits: Vec<u64>,
}

impl Measured {
    /// Waiting time p99 − p50, ms.
    pub fn spread(&self) -> u64 {
        self.wait[2] - self.wait[0]
    }
}

/// Measures one run.
pub fn measure(raw: &Raw) -> Measured {
    let mut waits: Vec<u64> = raw.wait_total_ms.iter().map(|r| r.0).collect();
    waits.sort_unstable();
    let totals: Vec<u64> = raw.wait_total_ms.iter().map(|r| r.1).collect();
    Measured {
        spec: raw.spec.clone(),
        requests: raw.requests,
        failed: raw.failed,
        wait: [
            percentile(&waits, 0.5),
            percentile(&waits, 0.9),
            percentile(&waits, 0.99),
            waits.last().copied().unwrap_or(0),
        ],
        total: [percentile(&totals, 0.5), percentile(&totals, 0.99)],
        waits,
    }
}

/// E2's bar: smooth's waiting-time p99 − p50 ≤ 0.25 × the netback-like
/// TBF's (R × 50 ms bucket), in the same run.
pub fn bar(runs: &[Measured]) -> Option<Bar> {
    let smooth = runs.iter().find(|r| r.spec.is_smooth_default())?;
    let tbf = runs.iter().find(|r| r.spec.is_tbf_netback())?;
    let noise = runs
        .iter()
        .find(|r| r.spec.family == "none")
        .map_or(0, Measured::spread);
    let (s, t) = (smooth.spread(), tbf.spread());
    let verdict = if t == 0 {
        "not measured"
    } else if 4 * s <= t {
        "met"
    } else if s <= noise {
        "within the noise floor"
    } else {
        "MISSED"
    };
    Some(Bar {
        experiment: "E2",
        what: "HTTP waiting time p99 − p50 ≤ 0.25 × the netback-like TBF's".into(),
        measured: format!(
            "smooth {s} ms, TBF {t} ms: {} (unshaped {noise} ms; ab resolves 1 ms)",
            if t == 0 {
                "no ratio".to_string()
            } else {
                format!("{:.2}", s as f64 / t as f64)
            }
        ),
        verdict,
    })
}

/// The E2 section.
pub fn markdown(runs: &[Measured]) -> String {
    let mut s = format!(
        "## E2 HTTP (Fig 9)\n\n`ab -n {} -c 1` fetching an 8 KB file from busybox httpd in the VM's namespace \
         through the shaper. Waiting time: request sent → first byte of the response; total: connect → last \
         byte. Whole ms (ab's resolution).\n\n\
         | qdisc | failed | wait p50 | wait p90 | wait p99 | wait max | p99 − p50 | total p50 | total p99 |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        runs.first().map_or(0, |r| r.requests)
    );
    for r in runs {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.spec.qdisc,
            r.failed,
            r.wait[0],
            r.wait[1],
            r.wait[2],
            r.wait[3],
            r.spread(),
            r.total[0],
            r.total[1]
        ));
    }
    s.push_str("\n![HTTP waiting time CDF](img/bench-http.png)\n\n");
    s
}

/// The waiting-time CDF of every shaper.
pub fn plot(path: &Path, runs: &[Measured]) -> Result<(), String> {
    let series: Vec<(String, Vec<u64>)> = runs
        .iter()
        .map(|r| (r.spec.qdisc.clone(), r.waits.clone()))
        .collect();
    crate::plot::cdf(
        path,
        "HTTP waiting time through each shaper (ab, 8 KB)",
        "waiting time (ms)",
        &series,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(family: &str, bucket: u64, window: u64, waits: &[u64]) -> Measured {
        measure(&Raw {
            spec: Spec {
                family: family.into(),
                bucket,
                window,
                qdisc: family.into(),
                rate: 250_000,
            },
            requests: waits.len() as u64,
            failed: 0,
            wait_total_ms: waits.iter().map(|&w| (w, w + 30)).collect(),
        })
    }

    #[test]
    fn the_bar_compares_smooth_with_the_netback_like_tbf() {
        let tbf: Vec<u64> = (0..100).map(|i| if i < 50 { 2 } else { 42 }).collect();
        let smooth = vec![5u64; 100];
        let runs = vec![
            run("none", 0, 0, &[1; 100]),
            run("tbf", 12_500, 0, &tbf),
            run("smooth", 12_500, 3_000_000, &smooth),
        ];
        let b = bar(&runs).unwrap();
        assert_eq!(b.verdict, "met", "{b:?}");
        let worse: Vec<u64> = (0..100).map(|i| if i < 50 { 2 } else { 40 }).collect();
        let runs = vec![
            run("tbf", 12_500, 0, &tbf),
            run("smooth", 12_500, 3_000_000, &worse),
        ];
        assert_eq!(bar(&runs).unwrap().verdict, "MISSED");
    }
}
