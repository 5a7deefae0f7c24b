//! Statistics (floats only here, never in the model) and tables.

use crate::model::Ns;
use serde::Serialize;

/// Nearest-rank percentile (as dom0-sched.sh computes it), in ms.
pub fn pct_ms(sorted: &[Ns], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[i - 1] as f64 / 1e6
}

/// p50/p90/p99/max of a set of delays, ms.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Dist {
    pub n: usize,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Dist {
    pub fn of(mut v: Vec<Ns>) -> Dist {
        v.sort_unstable();
        Dist {
            n: v.len(),
            p50_ms: pct_ms(&v, 0.5),
            p90_ms: pct_ms(&v, 0.9),
            p99_ms: pct_ms(&v, 0.99),
            max_ms: pct_ms(&v, 1.0),
        }
    }
}

/// RFC 3550 A.8 interarrival jitter over (nominal, actual) send times:
/// D = (Aj − Ai) − (Nj − Ni), J += (|D| − J)/16. Returns the mean of the
/// running estimate over the run and its final value, ms.
pub fn rfc3550_jitter_ms(pairs: &[(Ns, Ns)]) -> (f64, f64) {
    let mut j = 0.0f64;
    let mut sum = 0.0;
    for w in pairs.windows(2) {
        let d = (w[1].1 as f64 - w[0].1 as f64) - (w[1].0 as f64 - w[0].0 as f64);
        j += (d.abs() - j) / 16.0;
        sum += j;
    }
    let n = pairs.len().saturating_sub(1).max(1) as f64;
    (sum / n / 1e6, j / 1e6)
}

/// A plain text table: a header and rows, columns padded.
pub fn table(title: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut w: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            w[i] = w[i].max(c.len());
        }
    }
    let line = |cells: Vec<&str>| {
        let s: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:>width$}", width = w[i]))
            .collect();
        s.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = format!("== {title}\n");
    out += &line(header.to_vec());
    for r in rows {
        out += &line(r.iter().map(|s| s.as_str()).collect());
    }
    out
}

pub fn f2(x: f64) -> String {
    format!("{x:.2}")
}
