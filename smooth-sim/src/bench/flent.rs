//! E1b, flent's half: Debian's flent through the same shapers as the irtt
//! probes. `voip` is D-ITG's G.711 stream (100 packets/s of 80 B) sent from
//! the VM's namespace to the client's while the paper's video leaves the VM
//! through the same shaper: what a call beside the video sees. `rrul` runs
//! from the client against netserver in the VM's namespace: four TCP flows
//! each way with ICMP and UDP probes; only its download (VM → client) crosses
//! the shaper, its upload is the VM's unshaped receive way. The guest keeps
//! the raw samples of flent's data file (`tests/netns/flent/extract.py`);
//! every figure here is computed from them.

use super::{ms, spread, Spec, Spread};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// (time or step, value) as extract.py writes them.
pub type Sample = (f64, f64);

/// The guest's result (one flent run).
#[derive(Clone, Debug, Deserialize)]
pub struct Raw {
    /// The shaper.
    #[serde(flatten)]
    pub spec: Spec,
    /// flent's test: `voip` or `rrul`.
    pub test: String,
    /// flent's `-l`, s.
    pub length: f64,
    /// Series whose runner failed.
    pub failed_runners: u64,
    /// The runner flent used for each series.
    pub runners: BTreeMap<String, Option<String>>,
    /// voip: every packet D-ITG received, (sequence, one-way delay µs).
    #[serde(default)]
    pub packets: Vec<(u64, i64)>,
    /// voip: D-ITG's jitter per flent step, ms.
    #[serde(default)]
    pub jitter: Vec<Sample>,
    /// rrul: when the TCP flows start, s after flent's start.
    #[serde(default)]
    pub delay: f64,
    /// rrul: the four download flows' sum per step, Mbit/s.
    #[serde(default)]
    pub download: Vec<Sample>,
    /// rrul: the four upload flows' sum per step, Mbit/s.
    #[serde(default)]
    pub upload: Vec<Sample>,
    /// rrul: latency probes by kind (`ICMP`, `UDP BE`, …), (s, RTT ms).
    #[serde(default)]
    pub probes: BTreeMap<String, Vec<Sample>>,
}

/// flent `voip` through one shaper.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Voip {
    /// The shaper.
    pub spec: Spec,
    /// flent's `-l`, s.
    pub length: f64,
    /// Packets D-ITG sent (the highest sequence received).
    pub sent: u64,
    /// Of those, not received (a loss at the very end is not seen).
    pub lost: u64,
    /// One-way delay.
    pub delay: Spread,
    /// RFC 3550 J over the one-way delays in sequence order, mean, ns.
    pub jitter_mean: f64,
    /// D-ITG's own jitter (ITGDec per flent step), mean, ns.
    pub ditg_jitter_mean: f64,
    /// Every one-way delay, µs (for the CDF).
    #[serde(skip)]
    pub delays_us: Vec<u64>,
}

/// flent `rrul` through one shaper.
#[derive(Clone, Debug, Deserialize, Serialize)]
pub struct Rrul {
    /// The shaper.
    pub spec: Spec,
    /// flent's `-l`, s.
    pub length: f64,
    /// Idle probing before the flows start, s.
    pub delay: f64,
    /// Series whose runner failed.
    pub failed_runners: u64,
    /// Probe RTT before the flows start.
    pub idle: Spread,
    /// Probe RTT while the flows run (all kinds together).
    pub loaded: Spread,
    /// Probes answered while the flows run.
    pub probes: usize,
    /// Mean total goodput VM → client (shaped), bit/s.
    pub download_bps: f64,
    /// Mean total goodput client → VM (not shaped), bit/s.
    pub upload_bps: f64,
    /// Every RTT under load, µs (for the CDF).
    #[serde(skip)]
    pub loaded_us: Vec<u64>,
}

/// One flent run, measured.
pub enum Measured {
    /// `voip`.
    Voip(Voip),
    /// `rrul`.
    Rrul(Rrul),
}

/// Measures one run; refuses a run that is not what the benchmark asked for
/// (a VoIP stream flent took from another tool than D-ITG, no samples).
pub fn measure(raw: &Raw) -> Result<Measured, String> {
    let what = format!("flent {} through `{}`", raw.test, raw.spec.qdisc);
    match raw.test.as_str() {
        "voip" => {
            let runner = raw.runners.get("VoIP").cloned().flatten();
            if runner.as_deref() != Some("DitgRunner") {
                return Err(format!(
                    "{what}: the VoIP stream came from {}, not D-ITG",
                    runner.as_deref().unwrap_or("no runner")
                ));
            }
            voip(raw)
                .map(Measured::Voip)
                .ok_or(format!("{what}: no VoIP packet received"))
        }
        "rrul" => rrul(raw)
            .map(Measured::Rrul)
            .map_err(|e| format!("{what}: {e}")),
        other => Err(format!("{what}: unknown flent test \"{other}\"")),
    }
}

fn voip(raw: &Raw) -> Option<Voip> {
    let mut packets = raw.packets.clone();
    packets.sort_unstable();
    packets.dedup_by_key(|p| p.0);
    let sent = packets.last()?.0;
    // Delays below zero cannot happen on one clock; clamp rather than wrap.
    let delays_us: Vec<u64> = packets.iter().map(|p| p.1.max(0) as u64).collect();
    let ns: Vec<u64> = delays_us.iter().map(|d| d * 1000).collect();
    // RFC 3550 A.8 over consecutive received packets.
    let (mut j, mut sum) = (0.0f64, 0.0f64);
    for w in ns.windows(2) {
        let d = (w[1] as f64 - w[0] as f64).abs();
        j += (d - j) / 16.0;
        sum += j;
    }
    let ditg = &raw.jitter;
    Some(Voip {
        spec: raw.spec.clone(),
        length: raw.length,
        sent,
        lost: sent - packets.len() as u64,
        delay: spread(&ns),
        jitter_mean: sum / ns.len().saturating_sub(1).max(1) as f64,
        ditg_jitter_mean: ditg.iter().map(|s| s.1 * 1e6).sum::<f64>() / ditg.len().max(1) as f64,
        delays_us,
    })
}

fn rrul(raw: &Raw) -> Result<Rrul, String> {
    let (from, to) = (raw.delay, raw.delay + raw.length);
    let during = |t: f64| t >= from && t <= to;
    let mean_bps = |series: &[Sample], way: &str| {
        let v: Vec<f64> = series.iter().filter(|s| during(s.0)).map(|s| s.1).collect();
        if v.is_empty() {
            Err(format!("no {way} goodput while the flows ran"))
        } else {
            Ok(v.iter().sum::<f64>() / v.len() as f64 * 1e6)
        }
    };
    let all = raw.probes.values().flatten();
    let us = |s: &Sample| (s.1 * 1000.0).round().max(0.0) as u64;
    let loaded_us: Vec<u64> = all.clone().filter(|s| during(s.0)).map(us).collect();
    let idle_us: Vec<u64> = all.filter(|s| s.0 < from).map(us).collect();
    if loaded_us.is_empty() {
        return Err("no latency probe answered while the flows ran".into());
    }
    let ns = |v: &[u64]| v.iter().map(|x| x * 1000).collect::<Vec<u64>>();
    Ok(Rrul {
        spec: raw.spec.clone(),
        length: raw.length,
        delay: raw.delay,
        failed_runners: raw.failed_runners,
        idle: spread(&ns(&idle_us)),
        loaded: spread(&ns(&loaded_us)),
        probes: loaded_us.len(),
        download_bps: mean_bps(&raw.download, "download")?,
        upload_bps: mean_bps(&raw.upload, "upload")?,
        loaded_us,
    })
}

/// The section: one table per test.
pub fn markdown(voips: &[Voip], rrul: &[Rrul]) -> String {
    let mut s = String::from(
        "## E1b flent `voip` and `rrul`\n\nDebian's flent through the same shapers as the irtt probes, on the \
         IFB that shapes what the VM sends (VM → client); the `none` row is the noise floor.\n\n",
    );
    if let Some(first) = voips.first() {
        s.push_str(&format!(
            "`flent voip -l {}`: D-ITG's G.711 stream (100 packets/s of 80 B), ITGSend in the VM's namespace \
             to ITGRecv in the client's (started by flent's D-ITG control server), while `paper-vbr` is \
             replayed from the VM through the same shaper. One-way delay per packet from ITGRecv's log (both \
             ends share the guest's clock); `J` the RFC 3550 jitter over it, `D-ITG J` the mean of ITGDec's \
             jitter per flent step. Times in ms.\n\n\
             | qdisc | packets | lost | owd p50 | owd p99 | owd max | J | D-ITG J |\n\
             |---|---|---|---|---|---|---|---|\n",
            first.length
        ));
        for r in voips {
            s.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} | {} | {} |\n",
                r.spec.qdisc,
                r.sent,
                r.lost,
                ms(r.delay.p50 as f64),
                ms(r.delay.p99 as f64),
                ms(r.delay.max as f64),
                ms(r.jitter_mean),
                ms(r.ditg_jitter_mean),
            ));
        }
        s.push_str("\n![VoIP one-way delay CDF](img/bench-flent-voip.png)\n\n");
    }
    if let Some(first) = rrul.first() {
        s.push_str(&format!(
            "`flent rrul -l {}` from the client's namespace against netserver in the VM's: four TCP flows each \
             way (DSCP-marked BE, BK, CS5, EF) for {} s after {} s of idle probing, with ICMP (fping) and UDP \
             (irtt, three markings) probes every 200 ms. Download (VM → client) crosses the shaper at 2 Mbit/s; \
             upload (client → VM) is the VM's receive way, which the shaper does not limit (netback's `rate` \
             limits only what a VM sends), so it shows what the emulated path carries; its ACKs leave the VM \
             through the shaper beside the download. Latency: the probes' \
             RTT, all kinds together, ms; goodput: the four flows' sum, mean over the flows' span, Mbit/s.\n\n\
             | qdisc | RTT idle p50 | RTT loaded p50 | RTT loaded p99 | RTT loaded max | probes | download (shaped) | upload (unshaped) | failed series |\n\
             |---|---|---|---|---|---|---|---|---|\n",
            first.length, first.length, first.delay
        ));
        for r in rrul {
            s.push_str(&format!(
                "| `{}` | {} | {} | {} | {} | {} | {:.3} | {:.1} | {} |\n",
                r.spec.qdisc,
                ms(r.idle.p50 as f64),
                ms(r.loaded.p50 as f64),
                ms(r.loaded.p99 as f64),
                ms(r.loaded.max as f64),
                r.probes,
                r.download_bps / 1e6,
                r.upload_bps / 1e6,
                r.failed_runners,
            ));
        }
        s.push_str("\n![rrul latency under load CDF](img/bench-flent-rrul.png)\n\n");
    }
    s
}

fn in_ms(us: &[u64]) -> Vec<f64> {
    us.iter().map(|&x| x as f64 / 1000.0).collect()
}

/// The VoIP stream's one-way delay and rrul's RTT under load, as CDFs.
pub fn plots(dir: &Path, voips: &[Voip], rrul: &[Rrul]) -> Result<(), String> {
    if !voips.is_empty() {
        let series: Vec<(String, Vec<f64>)> = voips
            .iter()
            .map(|r| (r.spec.qdisc.clone(), in_ms(&r.delays_us)))
            .collect();
        crate::plot::cdf_f64(
            &dir.join("bench-flent-voip.png"),
            "flent voip (D-ITG G.711) beside the video: one-way delay",
            "one-way delay (ms)",
            &series,
        )?;
    }
    if !rrul.is_empty() {
        let series: Vec<(String, Vec<f64>)> = rrul
            .iter()
            .map(|r| (r.spec.qdisc.clone(), in_ms(&r.loaded_us)))
            .collect();
        crate::plot::cdf_f64(
            &dir.join("bench-flent-rrul.png"),
            "flent rrul: probe RTT under load",
            "RTT (ms)",
            &series,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A result line as bench.sh emits it (spec + extract.py's object).
    fn raw(fields: &str) -> Raw {
        let line = format!(
            r#"{{"family":"tbf","bucket":12500,"window":0,"qdisc":"tbf rate 2mbit","rate":250000,
                "kind":"flent","step":0.2,"total_length":20,"failed_runners":0,{fields}}}"#
        );
        serde_json::from_str(&line).unwrap()
    }

    #[test]
    fn voip_counts_gaps_as_lost_and_measures_delay_in_sequence_order() {
        // Packet 3 lost, 4 arrives before 2.
        let r = raw(
            r#""test":"voip","length":10,"runners":{"VoIP":"DitgRunner","VoIP::delay":"NullRunner"},
               "packets":[[1,1000],[4,3000],[2,3000],[5,3000]],"jitter":[[0.0,0.5],[0.2,1.5]]"#,
        );
        let Measured::Voip(v) = measure(&r).unwrap() else {
            panic!("not voip")
        };
        assert_eq!((v.sent, v.lost), (5, 1));
        assert_eq!(v.delay.max, 3_000_000);
        assert_eq!(v.delay.p50, 3_000_000);
        // In sequence order 1, 3, 3, 3 ms: one step of 2 ms, J = 2/16 then
        // decaying by 15/16 twice; the mean over the three steps.
        let j1 = 2e6 / 16.0;
        let expect = (j1 + j1 * 15.0 / 16.0 + j1 * 225.0 / 256.0) / 3.0;
        assert!((v.jitter_mean - expect).abs() < 1.0, "{}", v.jitter_mean);
        assert!((v.ditg_jitter_mean - 1e6).abs() < 1e-6);
    }

    #[test]
    fn a_voip_run_not_from_d_itg_is_refused() {
        let r =
            raw(r#""test":"voip","length":10,"runners":{"VoIP":"IrttRunner"},"packets":[[1,100]]"#);
        let e = measure(&r).err().expect("refused");
        assert!(e.contains("IrttRunner, not D-ITG"), "{e}");
        let r = raw(r#""test":"voip","length":10,"runners":{"VoIP":"DitgRunner"},"packets":[]"#);
        assert!(measure(&r).is_err());
    }

    #[test]
    fn rrul_measures_the_flows_span_only() {
        let r = raw(r#""test":"rrul","length":10,"delay":5,"runners":{},
               "download":[[4.8,9.0],[5.0,1.0],[10.0,3.0],[15.0,2.0],[15.2,9.0]],
               "upload":[[6.0,40.0],[7.0,60.0]],
               "probes":{"ICMP":[[1.0,0.5],[6.0,100.0]],"UDP BE":[[2.0,0.7],[7.0,50.0],[16.0,0.1]]}"#);
        let Measured::Rrul(m) = measure(&r).unwrap() else {
            panic!("not rrul")
        };
        assert!((m.download_bps - 2e6).abs() < 1.0, "{}", m.download_bps);
        assert!((m.upload_bps - 50e6).abs() < 1.0, "{}", m.upload_bps);
        assert_eq!(m.probes, 2);
        assert_eq!((m.loaded.p50, m.loaded.max), (50_000_000, 100_000_000));
        assert_eq!(m.idle.p50, 500_000);
        let md = markdown(&[], &[m]);
        assert!(
            md.contains(
                "| `tbf rate 2mbit` | 0.50 | 50.00 | 100.00 | 100.00 | 2 | 2.000 | 50.0 | 0 |"
            ),
            "{md}"
        );
    }

    #[test]
    fn an_rrul_run_without_probes_under_load_is_refused() {
        let r = raw(
            r#""test":"rrul","length":10,"delay":5,"runners":{},"download":[[6.0,1.0]],
               "upload":[[6.0,1.0]],"probes":{"ICMP":[[1.0,0.5]]}"#,
        );
        let e = measure(&r).err().expect("refused");
        assert!(e.contains("no latency probe"), "{e}");
    }
}
