//! E5: the real VM's case — the paper's video and a bulk TCP flow (iperf3)
//! leave the VM through one shaper at once. A single-queue shaper (TBF,
//! smooth, HTB's default class) cannot isolate the two flows; CAKE's and fq's
//! flow queues can. No bar yet: the figures say how far each shaper is from
//! the flow-isolating ones.

use super::stream::{departures, SentJson};
use super::{ms, Spec};
use crate::metrics::{self, Metrics};
use crate::replay::Received;
use serde::{Deserialize, Serialize};

/// The guest's result.
#[derive(Clone, Debug, Deserialize)]
pub struct Raw {
    /// The shaper.
    #[serde(flatten)]
    pub spec: Spec,
    /// Corpus entry played beside the bulk flow.
    pub trace: String,
    /// The video sender's report.
    pub sender: SentJson,
    /// The video's datagrams received.
    pub packets: Vec<Received>,
    /// The bulk flow's goodput at its receiver, bit/s.
    pub bulk_bps: u64,
}

/// One shaper, measured.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Measured {
    /// The shaper.
    pub spec: Spec,
    /// Corpus entry.
    pub trace: String,
    /// Video datagrams sent and lost.
    pub sent: u64,
    /// See `sent`.
    pub lost: u64,
    /// The video, measured as in E1.
    pub video: Metrics,
    /// Bulk goodput, bit/s.
    pub bulk_bps: u64,
}

/// Measures one run.
pub fn measure(raw: &Raw) -> Measured {
    let (trace, deps) = departures(&raw.packets);
    let end = trace.last().map_or(0, |p| p.0 + 1);
    let lost = raw.sender.sent.saturating_sub(deps.len() as u64);
    Measured {
        spec: raw.spec.clone(),
        trace: raw.trace.clone(),
        sent: raw.sender.sent,
        lost,
        video: metrics::measure(&deps, raw.sender.sent, lost, raw.spec.rate, 0, end),
        bulk_bps: raw.bulk_bps,
    }
}

/// The E5 section.
pub fn markdown(runs: &[Measured]) -> String {
    let mut s = format!(
        "## E5 mixed traffic\n\n`{}` replayed from the VM while iperf3 sends a bulk TCP flow from the VM \
         to the client through the same shaper (2 Mbit/s). The video's figures as in E1 (ms); the bulk \
         flow's goodput at its receiver. No bar.\n\n\
         | qdisc | video J | owd p50 | owd p99 | owd max | video lost | bulk (Mbit/s) |\n\
         |---|---|---|---|---|---|---|\n",
        runs.first().map_or("", |r| r.trace.as_str())
    );
    for r in runs {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} of {} | {:.3} |\n",
            r.spec.qdisc,
            ms(r.video.jitter_mean),
            ms(r.video.delay.p50 as f64),
            ms(r.video.delay.p99 as f64),
            ms(r.video.delay.max as f64),
            r.lost,
            r.sent,
            r.bulk_bps as f64 / 1e6,
        ));
    }
    let smooth = runs.iter().find(|r| r.spec.is_smooth_default());
    let cake = runs
        .iter()
        .find(|r| r.spec.family == "cake" && r.spec.qdisc.ends_with(" flows"));
    if let (Some(sm), Some(ck)) = (smooth, cake) {
        s.push_str(&format!(
            "\nsmooth (defaults) against CAKE with flow isolation: video J {} vs {} ms, p99 delay {} vs {} ms, \
             video lost {} vs {}, bulk {:.3} vs {:.3} Mbit/s. smooth has one queue: the bulk flow's \
             packets wait in it with the video's.\n",
            ms(sm.video.jitter_mean),
            ms(ck.video.jitter_mean),
            ms(sm.video.delay.p99 as f64),
            ms(ck.video.delay.p99 as f64),
            sm.lost,
            ck.lost,
            sm.bulk_bps as f64 / 1e6,
            ck.bulk_bps as f64 / 1e6,
        ));
    }
    s.push('\n');
    s
}
