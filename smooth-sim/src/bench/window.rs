//! E3 (the paper's Fig 10): smooth's window over time, read from its xstats
//! every 100 ms (`tc-smooth watch --json`) while the paper's video plays,
//! and the delivered rate across steps of the configured rate under a
//! greedy load: how fast the shaper follows a new rate (settling time) and
//! by how much it overshoots. smooth has no controller state beyond its
//! bucket and window, so these are the terms there are to show.

use super::Spec;
use crate::model::WindowSample;
use crate::replay::Received;
use crate::sim::Run;
use crate::{metrics, plot};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One xstats sample: time (ns, wall clock), bytes sent, window_min,
/// window_max, credit_owed (ns), raised, lowered, drops.
pub type Frame = [u64; 8];

/// The window run as the guest reports it.
#[derive(Clone, Debug, Deserialize)]
pub struct RawWindow {
    /// The shaper.
    #[serde(flatten)]
    pub spec: Spec,
    /// Corpus entry played.
    pub trace: String,
    /// Samples of the qdisc.
    pub frames: Vec<Frame>,
    /// Every datagram received.
    pub packets: Vec<Received>,
}

/// The window run, measured.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Measured {
    /// The shaper.
    pub spec: Spec,
    /// Corpus entry.
    pub trace: String,
    /// Samples taken.
    pub samples: usize,
    /// Lowest and highest window floor sampled, ns.
    pub floor_range: (u64, u64),
    /// Times the window was raised and lowered during the run.
    pub raised: u64,
    /// See `raised`.
    pub lowered: u64,
    /// Largest credit owed sampled, ns.
    pub credit_owed_max: u64,
    /// RFC 3550 J of the video, mean, ns.
    pub jitter_mean: f64,
}

/// Measures the window run.
pub fn measure(raw: &RawWindow) -> Measured {
    let f = &raw.frames;
    let (first, last) = (f.first().copied(), f.last().copied());
    let (trace, deps) = super::stream::departures(&raw.packets);
    let end = trace.last().map_or(0, |p| p.0 + 1);
    let m = metrics::measure(&deps, deps.len() as u64, 0, raw.spec.rate, 0, end);
    Measured {
        spec: raw.spec.clone(),
        trace: raw.trace.clone(),
        samples: f.len(),
        floor_range: (
            f.iter().map(|x| x[2]).min().unwrap_or(0),
            f.iter().map(|x| x[2]).max().unwrap_or(0),
        ),
        raised: last.zip(first).map_or(0, |(l, f)| l[5] - f[5]),
        lowered: last.zip(first).map_or(0, |(l, f)| l[6] - f[6]),
        credit_owed_max: f.iter().map(|x| x[4]).max().unwrap_or(0),
        jitter_mean: m.jitter_mean,
    }
}

/// The packets' delays with the sampled window, on the send-time axis.
pub fn plot_window(path: &Path, raw: &RawWindow) -> Result<(), String> {
    let (trace, deps) = super::stream::departures(&raw.packets);
    let t0 = raw.packets.iter().map(|p| p.1).min().unwrap_or(0);
    let end = trace.last().map_or(0, |p| p.0 + 1);
    let window = raw
        .frames
        .iter()
        .filter(|x| x[0] >= t0)
        .map(|x| WindowSample {
            at: x[0] - t0,
            min: x[2],
            max: x[3],
        })
        .collect();
    let run = Run {
        shaper: raw.spec.qdisc.clone(),
        metrics: metrics::measure(&deps, deps.len() as u64, 0, raw.spec.rate, 0, end),
        departures: deps,
        window,
    };
    plot::window(
        path,
        &format!(
            "{} through `{}` in the guest kernel (window sampled every 100 ms)",
            raw.trace, raw.spec.qdisc
        ),
        &run,
        0,
        end,
    )
}

/// The rate-step run as the guest reports it.
#[derive(Clone, Debug, Deserialize)]
pub struct RawSteps {
    /// The qdisc as first configured.
    pub qdisc: String,
    /// Its first rate, bytes/s.
    pub rate: u64,
    /// (time ns, new rate bytes/s) of each change.
    pub steps: Vec<(u64, u64)>,
    /// When the load ended, ns.
    pub end: u64,
    /// Samples of the qdisc.
    pub frames: Vec<Frame>,
}

/// How the delivered rate followed one step.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Step {
    /// Seconds from the first sample.
    pub at_s: f64,
    /// Rate before and after, bit/s.
    pub from_bps: u64,
    /// See `from_bps`.
    pub to_bps: u64,
    /// Time until every later 0.5 s window of the phase delivered within
    /// ±2 % of the new rate, ms (None: never within it).
    pub settle_ms: Option<u64>,
    /// Largest 0.5 s rate in the phase above the new rate, fraction of it.
    pub overshoot: f64,
    /// Largest shortfall, fraction.
    pub undershoot: f64,
}

/// The rate-step run, measured.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Steps {
    /// The qdisc.
    pub qdisc: String,
    /// One per change.
    pub steps: Vec<Step>,
    /// (s, delivered Mbit/s per sample, configured Mbit/s, floor ms,
    /// ceiling ms), for the plot.
    #[serde(skip)]
    pub series: Vec<(f64, f64, f64, f64, f64)>,
}

/// The 0.5 s spans starting at each sample: (start ns, end ns, bit/s).
fn spans(frames: &[Frame]) -> Vec<(u64, u64, f64)> {
    let mut out = Vec::new();
    let mut j = 0;
    for (i, a) in frames.iter().enumerate() {
        j = j.max(i + 1);
        while j < frames.len() && frames[j][0] < a[0] + 500_000_000 {
            j += 1;
        }
        let Some(b) = frames.get(j) else { break };
        let secs = (b[0] - a[0]) as f64 / 1e9;
        out.push((a[0], b[0], (b[1] - a[1]) as f64 * 8.0 / secs));
    }
    out
}

/// Measures the rate steps.
pub fn steps(raw: &RawSteps) -> Steps {
    let t0 = raw.frames.first().map_or(0, |f| f[0]);
    let spans = spans(&raw.frames);
    let mut out = Vec::new();
    let mut from = raw.rate * 8;
    for (k, &(at, to)) in raw.steps.iter().enumerate() {
        let to = to * 8;
        let end = raw.steps.get(k + 1).map_or(raw.end, |s| s.0);
        let phase: Vec<&(u64, u64, f64)> =
            spans.iter().filter(|s| s.0 >= at && s.1 <= end).collect();
        let off = |s: &&(u64, u64, f64)| (s.2 - to as f64) / to as f64;
        // The last span outside ±2 % decides: settled from the next one on.
        let settle_ms = match phase.iter().rposition(|s| off(s).abs() > 0.02) {
            None => phase.first().map(|s| (s.0 - at) / 1_000_000),
            Some(i) => phase.get(i + 1).map(|s| (s.0 - at) / 1_000_000),
        };
        out.push(Step {
            at_s: at.saturating_sub(t0) as f64 / 1e9,
            from_bps: from,
            to_bps: to,
            settle_ms,
            overshoot: phase.iter().map(off).fold(0.0, f64::max),
            undershoot: phase.iter().map(|s| -off(s)).fold(0.0, f64::max),
        });
        from = to;
    }
    let mut series = Vec::new();
    for w in raw.frames.windows(2).filter(|w| w[1][0] <= raw.end) {
        let (a, b) = (w[0], w[1]);
        let configured = raw
            .steps
            .iter()
            .rev()
            .find(|s| s.0 <= b[0])
            .map_or(raw.rate, |s| s.1);
        series.push((
            (b[0] - t0) as f64 / 1e9,
            (b[1] - a[1]) as f64 * 8.0 / ((b[0] - a[0]) as f64 / 1e9) / 1e6,
            configured as f64 * 8.0 / 1e6,
            b[2] as f64 / 1e6,
            b[3] as f64 / 1e6,
        ));
    }
    Steps {
        qdisc: raw.qdisc.clone(),
        steps: out,
        series,
    }
}

/// Delivered rate and window across the steps.
pub fn plot_steps(path: &Path, s: &Steps) -> Result<(), String> {
    let pick = |f: fn(&(f64, f64, f64, f64, f64)) -> f64| -> Vec<(f64, f64)> {
        s.series.iter().map(|p| (p.0, f(p))).collect()
    };
    plot::timeseries(
        path,
        &format!("`{}`: rate steps under a greedy UDP load", s.qdisc),
        &[
            plot::Panel {
                y_desc: "Mbit/s (per 100 ms sample)",
                series: vec![
                    ("delivered".into(), pick(|p| p.1)),
                    ("configured".into(), pick(|p| p.2)),
                ],
            },
            plot::Panel {
                y_desc: "window (ms)",
                series: vec![
                    ("floor (dmin)".into(), pick(|p| p.3)),
                    ("ceiling (dmax)".into(), pick(|p| p.4)),
                ],
            },
        ],
    )
}

/// The E3 section.
pub fn markdown(window: Option<&Measured>, steps: Option<&Steps>) -> String {
    let mut s = String::from("## E3 the window and rate steps (Fig 10)\n\n");
    if let Some(w) = window {
        s.push_str(&format!(
            "`{}` played through `{}`, its xstats sampled every 100 ms ({} samples): the window's floor \
             ranged over {:.2}–{:.2} ms; it was raised {} and lowered {} times; credit owed peaked at {:.2} ms; \
             the video's mean J was {:.2} ms.\n\n![window over time](img/bench-window.png)\n\n",
            w.trace,
            w.spec.qdisc,
            w.samples,
            w.floor_range.0 as f64 / 1e6,
            w.floor_range.1 as f64 / 1e6,
            w.raised,
            w.lowered,
            w.credit_owed_max as f64 / 1e6,
            w.jitter_mean / 1e6,
        ));
    }
    if let Some(st) = steps {
        s.push_str(&format!(
            "`{}` under a greedy 6 Mbit/s UDP load (iperf3 with a 4 MB socket buffer: the qdisc drops the excess, the sender's \
             socket does not hold it back), its rate changed with `tc qdisc change`. Settling: time \
             until every later 0.5 s window delivers within ±2 % of the new rate; overshoot/shortfall: the \
             largest 0.5 s rate above/below it in that phase.\n\n\
             | at (s) | from (Mbit/s) | to (Mbit/s) | settling (ms) | overshoot | shortfall |\n|---|---|---|---|---|---|\n",
            st.qdisc
        ));
        for p in &st.steps {
            s.push_str(&format!(
                "| {:.1} | {:.1} | {:.1} | {} | {:.1} % | {:.1} % |\n",
                p.at_s,
                p.from_bps as f64 / 1e6,
                p.to_bps as f64 / 1e6,
                p.settle_ms.map_or("never".into(), |v| v.to_string()),
                p.overshoot * 100.0,
                p.undershoot * 100.0
            ));
        }
        s.push_str("\n![rate steps](img/bench-step.png)\n\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rate that follows the step at once settles at the first span.
    #[test]
    fn an_immediate_step_settles_at_once() {
        // 100 ms samples: 4 Mbit/s (50 kB/100 ms) for 5 s, then 2 Mbit/s.
        let mut frames = Vec::new();
        let mut bytes = 0;
        for i in 0..100u64 {
            let t = i * 100_000_000;
            frames.push([t, bytes, 0, 0, 0, 0, 0, 0]);
            bytes += if t < 5_000_000_000 { 50_000 } else { 25_000 };
        }
        let raw = RawSteps {
            qdisc: "smooth".into(),
            rate: 500_000,
            steps: vec![(5_000_000_000, 250_000)],
            end: 9_900_000_000,
            frames,
        };
        let s = steps(&raw);
        assert_eq!(s.steps.len(), 1);
        assert_eq!(s.steps[0].settle_ms, Some(0));
        assert!(s.steps[0].overshoot < 1e-9);
        assert_eq!(s.steps[0].to_bps, 2_000_000);
    }

    /// A rate that overshoots for a second settles only after it.
    #[test]
    fn an_overshoot_delays_settling() {
        let mut frames = Vec::new();
        let mut bytes = 0;
        for i in 0..100u64 {
            let t = i * 100_000_000;
            frames.push([t, bytes, 0, 0, 0, 0, 0, 0]);
            bytes += if t < 1_000_000_000 { 40_000 } else { 25_000 };
        }
        let raw = RawSteps {
            qdisc: "smooth".into(),
            rate: 500_000,
            steps: vec![(0, 250_000)],
            end: 9_900_000_000,
            frames,
        };
        let s = steps(&raw);
        // Every span starting before 1 s still holds a 3.2 Mbit/s sample.
        assert_eq!(s.steps[0].settle_ms, Some(1000));
        assert!((s.steps[0].overshoot - 0.6).abs() < 1e-9);
    }
}
