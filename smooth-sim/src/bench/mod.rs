//! The in-kernel benchmark's report (`cargo xtask bench`): what the guest
//! measured (`tests/netns/bench.sh`, one JSON object per result, grouped
//! by experiment), turned into `docs/results.md`, its JSON and its plots.
//! One module per experiment; each measures its raw results, judges its bar
//! and writes its section. Nothing here is typed in: every figure comes from
//! the runs read.

pub mod cost;
pub mod flent;
pub mod http;
pub mod mixed;
pub mod probes;
pub mod rate;
pub mod stream;
pub mod window;

use crate::sim::ShaperSpec;
use serde::{Deserialize, Serialize};
use smooth_core::time::{credit_bytes, transmit_time, NSEC_PER_MSEC};
use smooth_core::Config;
use std::path::Path;

/// A shaper as the guest configured it.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Spec {
    /// `none`, `tbf`, `smooth`, `htb`, `cake`, `fq`, `fq_codel`.
    pub family: String,
    /// The bucket in bytes (tbf, smooth), else 0.
    #[serde(default)]
    pub bucket: u64,
    /// smooth's window, ns (0 for the others).
    #[serde(default)]
    pub window: u64,
    /// The qdisc as tc took it.
    pub qdisc: String,
    /// Configured rate, bytes/s.
    pub rate: u64,
}

impl Spec {
    /// smooth with its default window at the netback-like bucket R × 50 ms.
    pub fn is_smooth_default(&self) -> bool {
        self.family == "smooth"
            && self.window == smooth_core::Config::DEFAULT.window
            && self.bucket == netback_bucket(self.rate)
    }

    /// TBF at the netback-like bucket.
    pub fn is_tbf_netback(&self) -> bool {
        self.family == "tbf" && self.bucket == netback_bucket(self.rate)
    }

    /// The simulator's model of this shaper, if it has one: smooth itself,
    /// and TBF with the queue the guest gives it (the bucket plus 200 ms).
    pub fn model(&self) -> Option<ShaperSpec> {
        let max_delay = 200 * NSEC_PER_MSEC;
        match self.family.as_str() {
            "tbf" => Some(ShaperSpec::Tbf {
                rate: self.rate,
                burst: self.bucket.min(u64::from(u32::MAX)) as u32,
                limit: self.bucket + credit_bytes(max_delay, self.rate),
            }),
            "smooth" => Config {
                rate: self.rate,
                burst: transmit_time(self.bucket, self.rate),
                window: self.window,
                ..Config::DEFAULT
            }
            .validate()
            .ok()
            .map(ShaperSpec::Smooth),
            _ => None,
        }
    }
}

/// Netback's credit: the rate over 50 ms, bytes.
pub fn netback_bucket(rate: u64) -> u64 {
    rate / 20
}

/// Nearest-rank percentile of unsorted values.
pub fn percentile(values: &[u64], q: f64) -> u64 {
    let mut v = values.to_vec();
    v.sort_unstable();
    crate::metrics::percentile(&v, q)
}

/// Milliseconds with two decimals, from ns.
/// Percentiles, ns.
#[derive(Clone, Copy, Debug, Default, Deserialize, Serialize)]
pub struct Spread {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

/// The spread of `v`.
pub fn spread(v: &[u64]) -> Spread {
    Spread {
        p50: percentile(v, 0.5),
        p99: percentile(v, 0.99),
        max: v.iter().copied().max().unwrap_or(0),
    }
}

/// `ns` in ms: two decimals, or two significant digits below 0.01 ms (the
/// benchmark's clock resolves a path's jitter of a microsecond and less).
pub fn ms(ns: f64) -> String {
    let v = ns / 1e6;
    if v != 0.0 && v.abs() < 0.01 {
        let decimals = 1 - v.abs().log10().floor() as i32;
        format!("{v:.*}", decimals.max(2) as usize)
    } else {
        format!("{v:.2}")
    }
}

/// A bar, judged.
#[derive(Clone, Debug, Serialize)]
pub struct Bar {
    /// Experiment, e.g. `E2`.
    pub experiment: &'static str,
    /// What is required.
    pub what: String,
    /// What was measured.
    pub measured: String,
    /// `met`, `MISSED`, `within the noise floor` or `not measured`.
    pub verdict: &'static str,
}

impl Bar {
    /// A line of the summary.
    pub fn line(&self) -> String {
        format!(
            "* {}: {} — measured {} — **{}**",
            self.experiment, self.what, self.measured, self.verdict
        )
    }
}

/// Where an experiment's runs came from (the first line of its runs file).
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Provenance {
    /// Experiment name (`stream`, `irtt`, `flent`, `http`, `window`, `rate`,
    /// `mixed`, `cost`).
    pub experiment: String,
    /// Command, commit, kernel, machine, date.
    pub text: String,
}

/// Everything read from the runs, measured.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct Report {
    /// One per experiment present.
    pub provenance: Vec<Provenance>,
    /// E1.
    pub stream: Vec<stream::Measured>,
    /// E1b.
    pub irtt: Vec<probes::Measured>,
    /// E1b, flent `voip`.
    pub flent_voip: Vec<flent::Voip>,
    /// E1b, flent `rrul`.
    pub flent_rrul: Vec<flent::Rrul>,
    /// E2.
    pub http: Vec<http::Measured>,
    /// E3.
    pub window: Option<window::Measured>,
    /// E3, the rate steps.
    pub step: Option<window::Steps>,
    /// E4.
    pub rate: Vec<rate::Run>,
    /// E5.
    pub mixed: Vec<mixed::Measured>,
    /// E6, packet rate and CPU.
    pub pps: Vec<cost::Pps>,
    /// E6, 1000 idle instances.
    pub scale: Option<cost::Scale>,
}

impl Report {
    /// Takes from `previous` (the last report written, e.g. the committed
    /// `docs/results/bench.json`) every experiment these runs lack, with its
    /// provenance: `--only` on a machine that has no runs of the others
    /// (a fresh clone) reports them as last measured instead of dropping
    /// them. An experiment is carried whole or not at all. Returns the
    /// experiments carried.
    pub fn carry_over(&mut self, mut previous: Report) -> Vec<String> {
        let mut carried = Vec::new();
        for p in std::mem::take(&mut previous.provenance) {
            if self.provenance.iter().any(|q| q.experiment == p.experiment) {
                continue;
            }
            match p.experiment.as_str() {
                "stream" => self.stream = std::mem::take(&mut previous.stream),
                "irtt" => self.irtt = std::mem::take(&mut previous.irtt),
                "flent" => {
                    self.flent_voip = std::mem::take(&mut previous.flent_voip);
                    self.flent_rrul = std::mem::take(&mut previous.flent_rrul);
                }
                "http" => self.http = std::mem::take(&mut previous.http),
                "window" => {
                    self.window = previous.window.take();
                    self.step = previous.step.take();
                }
                "rate" => self.rate = std::mem::take(&mut previous.rate),
                "mixed" => self.mixed = std::mem::take(&mut previous.mixed),
                "cost" => {
                    self.pps = std::mem::take(&mut previous.pps);
                    self.scale = previous.scale.take();
                }
                _ => continue,
            }
            carried.push(p.experiment.clone());
            self.provenance.push(p);
        }
        let rank = |p: &Provenance| EXPERIMENTS.iter().position(|e| *e == p.experiment);
        self.provenance.sort_by_key(rank);
        carried
    }
}

/// What reading keeps beside [`Report`]: raw runs later steps need.
#[derive(Default)]
pub struct Raw {
    /// The window trace as received (for its plot).
    pub window: Option<window::RawWindow>,
    /// E2's loop as the unshaped run measured it (the guest runs it first),
    /// for the simulator's predictions of the shaped runs.
    pub http_loop: Option<Vec<crate::requests::Loop>>,
}

/// Reads one runs file: a provenance line, then results with a `kind`.
pub fn read(path: &Path, report: &mut Report, raw: &mut Raw) -> Result<(), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = || format!("{} line {}", path.display(), i + 1);
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("{}: {e}", at()))?;
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .unwrap_or("stream")
            .to_string();
        let parse = |e: serde_json::Error| format!("{}: {kind}: {e}", at());
        match kind.as_str() {
            "provenance" => report
                .provenance
                .push(serde_json::from_value(value).map_err(parse)?),
            "stream" => report.stream.push(stream::measure(
                &serde_json::from_value(value).map_err(parse)?,
            )?),
            "irtt" => report.irtt.push(probes::measure(
                &serde_json::from_value(value).map_err(parse)?,
            )),
            "flent" => match flent::measure(&serde_json::from_value(value).map_err(parse)?)
                .map_err(|e| format!("{}: {e}", at()))?
            {
                flent::Measured::Voip(v) => report.flent_voip.push(v),
                flent::Measured::Rrul(r) => report.flent_rrul.push(r),
            },
            "http" => {
                let run: http::Raw = serde_json::from_value(value).map_err(parse)?;
                if run.spec.family == "none" {
                    raw.http_loop = Some(http::loops(&run));
                }
                report
                    .http
                    .push(http::measure(&run, raw.http_loop.as_deref()));
            }
            "window" => {
                let w: window::RawWindow = serde_json::from_value(value).map_err(parse)?;
                report.window = Some(window::measure(&w));
                raw.window = Some(w);
            }
            "step" => {
                report.step = Some(window::steps(
                    &serde_json::from_value(value).map_err(parse)?,
                ))
            }
            "rate" => report
                .rate
                .push(serde_json::from_value(value).map_err(parse)?),
            "mixed" => report.mixed.push(mixed::measure(
                &serde_json::from_value(value).map_err(parse)?,
            )),
            "pps" => report
                .pps
                .push(serde_json::from_value(value).map_err(parse)?),
            "scale" => report.scale = Some(serde_json::from_value(value).map_err(parse)?),
            other => return Err(format!("{}: unknown kind \"{other}\"", at())),
        }
    }
    Ok(())
}

/// Every bar of every experiment present, judged.
pub fn bars(report: &Report) -> Vec<Bar> {
    let mut out = stream::summary(&stream::bars(&report.stream));
    out.extend(http::bar(&report.http));
    out.extend(rate::bar(&report.rate));
    out.extend(cost::bars(&report.pps, report.scale.as_ref()));
    out
}

/// Every experiment of `cargo xtask bench`, in the page's order.
pub const EXPERIMENTS: [&str; 8] = [
    "stream", "irtt", "flent", "http", "window", "rate", "mixed", "cost",
];

/// The results page.
pub fn markdown(report: &Report) -> String {
    let mut s = String::from(
        "# Benchmark results\n\nWritten by `cargo xtask bench`; do not edit. `cargo xtask bench` runs every \
         experiment; `cargo xtask bench --only <experiment>` reruns one and reports it with the others' \
         last runs (this machine's, else the committed `docs/results/bench.json`'s), so each experiment says \
         where its runs came from:\n\n| experiment | runs |\n|---|---|\n",
    );
    for p in &report.provenance {
        s.push_str(&format!("| {} | {} |\n", p.experiment, p.text));
    }
    for e in EXPERIMENTS {
        if !report.provenance.iter().any(|p| p.experiment == e) {
            s.push_str(&format!(
                "| {e} | no runs on record: `cargo xtask bench --only {e}` runs it |\n"
            ));
        }
    }
    s.push_str(
        "\nAll under QEMU TCG (software emulation), on the clock each run names above: the `none` rows are \
         the noise floor of the emulated path, and nothing below it is claimed.\n\n## The bars\n\n",
    );
    for b in bars(report) {
        s.push_str(&b.line());
        s.push('\n');
    }
    s.push('\n');
    if !report.stream.is_empty() {
        s.push_str(&stream::markdown(
            &report.stream,
            &stream::bars(&report.stream),
        ));
    }
    if !report.irtt.is_empty() {
        s.push_str(&probes::markdown(&report.irtt));
    }
    if !report.flent_voip.is_empty() || !report.flent_rrul.is_empty() {
        s.push_str(&flent::markdown(&report.flent_voip, &report.flent_rrul));
    }
    if !report.http.is_empty() {
        s.push_str(&http::markdown(&report.http));
    }
    if report.window.is_some() || report.step.is_some() {
        s.push_str(&window::markdown(
            report.window.as_ref(),
            report.step.as_ref(),
        ));
    }
    if !report.rate.is_empty() {
        s.push_str(&rate::markdown(&report.rate));
    }
    if !report.mixed.is_empty() {
        s.push_str(&mixed::markdown(&report.mixed));
    }
    if !report.pps.is_empty() || report.scale.is_some() {
        s.push_str(&cost::markdown(&report.pps, report.scale.as_ref()));
    }
    s
}

/// Every plot of the page, into `dir` (named as the page links them),
/// but those of the experiments in `carried`: a carried report keeps its
/// figures, not the samples its plots were drawn from, so their plots stay
/// as the run that measured them drew them.
pub fn plots(dir: &Path, report: &Report, raw: &Raw, carried: &[String]) -> Result<(), String> {
    let here = |e: &str| !carried.iter().any(|c| c == e);
    let traces = if here("stream") {
        stream::bars(&report.stream)
    } else {
        Vec::new()
    };
    for b in traces {
        crate::plot::sweep(
            &dir.join(format!("bench-{}.png", b.trace)),
            &format!("{} in the guest kernel: jitter vs burst allowance", b.trace),
            &stream::points(&report.stream, &b.trace),
        )?;
    }
    if here("flent") {
        flent::plots(dir, &report.flent_voip, &report.flent_rrul)?;
    }
    if !report.http.is_empty() && here("http") {
        http::plot(&dir.join("bench-http.png"), &report.http)?;
    }
    if let Some(w) = &raw.window {
        window::plot_window(&dir.join("bench-window.png"), w)?;
    }
    if let Some(s) = report.step.as_ref().filter(|_| here("window")) {
        window::plot_steps(&dir.join("bench-step.png"), s)?;
    }
    if !report.rate.is_empty() && here("rate") {
        rate::plot(&dir.join("bench-rate.png"), &report.rate)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_below_a_hundredth_of_a_ms_keep_two_significant_digits() {
        assert_eq!(ms(0.0), "0.00");
        assert_eq!(ms(123_456.0), "0.12");
        assert_eq!(ms(10_000.0), "0.01");
        assert_eq!(ms(9_400.0), "0.0094");
        assert_eq!(ms(1_700.0), "0.0017");
        assert_eq!(ms(420.0), "0.00042");
        assert_eq!(ms(-1_700.0), "-0.0017");
        assert_eq!(ms(8_370_000.0), "8.37");
    }

    #[test]
    fn experiments_not_run_here_keep_their_last_report() {
        let provenance = |e: &str, text: &str| Provenance {
            experiment: e.into(),
            text: text.into(),
        };
        let rate_run = |configured_bps: u64| rate::Run {
            tool: "netperf".into(),
            proto: "TCP".into(),
            configured_bps,
            delivered_bps: configured_bps,
            secs: 60,
            goodput_bps: None,
        };
        let mut now = Report::default();
        now.provenance.push(provenance("rate", "this run"));
        now.rate.push(rate_run(1));
        let mut previous = Report::default();
        previous.provenance.push(provenance("rate", "older"));
        previous.rate.push(rate_run(2));
        previous.provenance.push(provenance("stream", "committed"));
        previous.provenance.push(provenance("http", "committed"));
        let json = serde_json::to_value(&previous).unwrap();
        let carried = now.carry_over(serde_json::from_value(json).unwrap());
        assert_eq!(carried, ["stream", "http"]);
        // This run's experiment is kept, the others are carried, in the
        // page's order.
        let order: Vec<_> = now.provenance.iter().map(|p| p.text.as_str()).collect();
        assert_eq!(order, ["committed", "committed", "this run"]);
        assert_eq!(now.rate.len(), 1);
        assert_eq!(now.rate[0].configured_bps, 1);
        assert!(markdown(&now).contains("| http | committed |"));
    }

    #[test]
    fn the_committed_report_reads_back() {
        // What `carry_over` is given on a fresh clone: a change to the
        // measured types must keep reading it (or regenerate it).
        let text = include_str!("../../../docs/results/bench.json");
        let json: serde_json::Value = serde_json::from_str(text).unwrap();
        let report: Report = serde_json::from_value(json["report"].clone()).unwrap();
        assert!(!report.provenance.is_empty());
        assert!(!report.stream.is_empty());
    }

    #[test]
    fn an_experiment_without_runs_is_listed_as_such() {
        let mut report = Report::default();
        report.provenance.push(Provenance {
            experiment: "stream".into(),
            text: "ran".into(),
        });
        let page = markdown(&report);
        assert!(page.contains("| stream | ran |"));
        assert!(!page.contains("| stream | no runs"));
        assert!(page
            .contains("| flent | no runs on record: `cargo xtask bench --only flent` runs it |"));
    }
}
