//! E1b: irtt probes (`-i 20ms -l 172`) sent from the client and answered
//! from the VM through the shaper while the paper's video plays through it:
//! a cross-check of E1 with a standard tool, and what a small interactive
//! flow sharing the VM's shaper with the video sees.

use super::{ms, spread, Spec, Spread};
use serde::{Deserialize, Serialize};

/// One probe: sequence, irtt's `lost` (`"false"`, `"true"`,
/// `"true_down"`, `"true_up"`), RTT and the server → client delay, ns.
pub type Probe = (u32, String, Option<u64>, Option<u64>);

/// The guest's result.
#[derive(Clone, Debug, Deserialize)]
pub struct Raw {
    /// The shaper.
    #[serde(flatten)]
    pub spec: Spec,
    /// Every probe.
    pub probes: Vec<Probe>,
}

/// One shaper, measured.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Measured {
    /// The shaper.
    pub spec: Spec,
    /// Probes sent.
    pub sent: usize,
    /// Probes without an answer.
    pub lost: usize,
    /// Round-trip time.
    pub rtt: Spread,
    /// The shaped way (VM → client).
    pub down: Spread,
    /// RFC 3550 J over the shaped way's delays, mean, ns.
    pub jitter_mean: f64,
}

/// Measures one run.
pub fn measure(raw: &Raw) -> Measured {
    let answered: Vec<&Probe> = raw.probes.iter().filter(|p| p.1 == "false").collect();
    let rtt: Vec<u64> = answered.iter().filter_map(|p| p.2).collect();
    let down: Vec<u64> = answered.iter().filter_map(|p| p.3).collect();
    // RFC 3550 A.8 over consecutive answered probes.
    let (mut j, mut sum) = (0.0f64, 0.0f64);
    for w in down.windows(2) {
        let d = (w[1] as f64 - w[0] as f64).abs();
        j += (d - j) / 16.0;
        sum += j;
    }
    Measured {
        spec: raw.spec.clone(),
        sent: raw.probes.len(),
        lost: raw.probes.len() - answered.len(),
        rtt: spread(&rtt),
        down: spread(&down),
        jitter_mean: sum / down.len().saturating_sub(1).max(1) as f64,
    }
}

/// The E1b section.
pub fn markdown(runs: &[Measured]) -> String {
    let mut s = String::from(
        "## E1b irtt probes beside the video\n\nirtt (`-i 20ms -l 172`) from the client's namespace to a server \
         in the VM's, while `paper-vbr` is replayed from the VM through the same shaper; the answers cross the \
         shaper. `down` is irtt's receive delay (server → client, the shaped way; both ends share the guest's \
         clock), `J` the RFC 3550 jitter over it. Times in ms.\n\n\
         | qdisc | probes | lost | RTT p50 | RTT p99 | RTT max | down p50 | down p99 | down max | down J |\n\
         |---|---|---|---|---|---|---|---|---|---|\n",
    );
    for r in runs {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.spec.qdisc,
            r.sent,
            r.lost,
            ms(r.rtt.p50 as f64),
            ms(r.rtt.p99 as f64),
            ms(r.rtt.max as f64),
            ms(r.down.p50 as f64),
            ms(r.down.p99 as f64),
            ms(r.down.max as f64),
            ms(r.jitter_mean),
        ));
    }
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_probes_are_counted_and_left_out_of_the_delays() {
        let raw = Raw {
            spec: Spec {
                family: "none".into(),
                bucket: 0,
                window: 0,
                qdisc: "pfifo".into(),
                rate: 250_000,
            },
            probes: vec![
                (0, "false".into(), Some(3_000_000), Some(1_000_000)),
                (1, "true_down".into(), None, None),
                (2, "false".into(), Some(5_000_000), Some(3_000_000)),
            ],
        };
        let m = measure(&raw);
        assert_eq!((m.sent, m.lost), (3, 1));
        assert_eq!(m.down.max, 3_000_000);
        assert_eq!(m.rtt.p50, 3_000_000);
        // One step of 2 ms: J = 2 ms / 16.
        assert!((m.jitter_mean - 125_000.0).abs() < 1.0, "{}", m.jitter_mean);
    }
}
