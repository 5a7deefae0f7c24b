//! `watch`: one frame per interval from the qdisc's counters and xstats.
//! Rendering is a pure function of two snapshots (unit-tested); the loop in
//! `main` only fetches, renders and prints.

use crate::show::Qdisc;
use smooth_core::options::{Kind, ValueText};
use smooth_core::report::BucketLabel;
use smooth_core::units::Rate;

/// Width of the longest histogram bar.
const BAR: u64 = 40;

fn time(ns: u64) -> String {
    ValueText(Kind::Time, ns).to_string()
}

/// Formats bit/s with a unit (2.00 Mbit/s).
fn bits(bps: f64) -> String {
    let units = ["bit/s", "Kbit/s", "Mbit/s", "Gbit/s"];
    let mut v = bps;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    format!("{v:.2} {}", units[i])
}

/// One frame. `prev` is the snapshot one interval earlier (None for the
/// first frame: no rate yet, histogram since creation); `secs` the time
/// between the two snapshots.
pub fn render(dev: &str, now: &Qdisc, prev: Option<&Qdisc>, secs: f64) -> String {
    let mut out = String::new();
    let cfg = now.config().unwrap_or_default();
    out.push_str(&format!(
        "smooth on {dev}: rate {} window {} max_delay {}\n",
        Rate(cfg.rate),
        time(cfg.window),
        time(cfg.max_delay)
    ));
    let delivered = match prev {
        Some(p) if secs > 0.0 => {
            let bytes = now.counters.bytes.saturating_sub(p.counters.bytes);
            bits(bytes as f64 * 8.0 / secs)
        }
        _ => "-".into(),
    };
    out.push_str(&format!(
        "delivered {delivered} (configured {})  backlog {}b {}p\n",
        bits(cfg.rate as f64 * 8.0),
        now.counters.backlog,
        now.counters.qlen
    ));
    let Some(x) = &now.xstats else {
        out.push_str("(no xstats)\n");
        return out;
    };
    out.push_str(&format!(
        "window [{}, {}]  credit_owed {}  raised {}  lowered {}\n",
        time(x.window_min),
        time(x.window_max),
        time(x.credit_owed),
        x.raised,
        x.lowered
    ));
    out.push_str(&format!(
        "drops {}: limit {}  bytes {}  ceiling {}  gso {}\n",
        now.counters.drops, x.drops_limit, x.drops_bytes, x.drops_ceiling, x.drops_gso
    ));
    let base = prev.and_then(|p| p.xstats.as_ref());
    let counts: Vec<u64> = x
        .sojourn_hist
        .iter()
        .enumerate()
        .map(|(k, n)| n.saturating_sub(base.map_or(0, |b| b.sojourn_hist[k])))
        .collect();
    out.push_str(if base.is_some() {
        "sojourn (last interval)\n"
    } else {
        "sojourn (since creation)\n"
    });
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    for (k, n) in counts.iter().enumerate() {
        let len = (n * BAR).div_ceil(max) as usize;
        let line = format!("  {:>12} {:>8} {}", BucketLabel(k), n, "#".repeat(len));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::show::Counters;
    use smooth_core::uapi::XStats;
    use smooth_core::Config;

    fn snap(bytes: u64, first_bucket: u64) -> Qdisc {
        let mut x = XStats {
            version: XStats::VERSION,
            window_min: 0,
            window_max: 3_000_000,
            ..XStats::default()
        };
        x.sojourn_hist[0] = first_bucket;
        x.sojourn_hist[3] = 10;
        Qdisc {
            kind: "smooth".into(),
            options: crate::show::tests::attrs(&Config::with_rate(250_000)),
            counters: Counters {
                bytes,
                drops: 2,
                ..Counters::default()
            },
            xstats: Some(x),
            ..Qdisc::default()
        }
    }

    #[test]
    fn frame_shows_rate_window_drops_and_bars() {
        let first = render("vif1.0", &snap(0, 10), None, 0.0);
        assert!(
            first.contains("delivered - (configured 2.00 Mbit/s)"),
            "{first}"
        );
        assert!(first.contains("sojourn (since creation)"));
        let f = render("vif1.0", &snap(250_000, 30), Some(&snap(0, 10)), 1.0);
        assert!(f.contains("delivered 2.00 Mbit/s"), "{f}");
        assert!(f.contains("window [0us, 3ms]"), "{f}");
        assert!(f.contains("drops 2: limit 0  bytes 0  ceiling 0"), "{f}");
        // 20 new packets in the first bucket: the full bar; bucket 3 unchanged.
        assert!(
            f.contains(&format!("<128us       20 {}\n", "#".repeat(40))),
            "{f}"
        );
        assert!(f.contains("<1024us        0\n"), "{f}");
        assert!(!f.contains('\x1b'));
    }
}
