//! The human tables.

use crate::sim::Run;
use crate::sweep::Point;
use std::fmt::Write;

fn ms(ns: u64) -> String {
    format!("{:.3}", ns as f64 / 1e6)
}

fn msf(ns: f64) -> String {
    format!("{:.3}", ns / 1e6)
}

fn range(r: &Option<crate::metrics::RateRange>) -> String {
    match r {
        Some(r) => format!("{:.3}-{:.3}", r.min, r.max),
        None => "-".to_string(),
    }
}

/// One table row per shaper; delays and jitter in ms, σ in bytes.
pub fn table(title: &str, runs: &[Run]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{title}");
    let header = [
        "shaper", "pkts", "drops", "d.min", "d.p50", "d.p99", "d.p99.9", "d.max", "spread",
        "J.mean", "J.final", "ipdv99", "rate1s", "rate10s", "σ10ms", "σ100ms", "σ1s",
    ];
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let m = &r.metrics;
            vec![
                r.shaper.clone(),
                m.packets.to_string(),
                m.drops.to_string(),
                ms(m.delay.min),
                ms(m.delay.p50),
                ms(m.delay.p99),
                ms(m.delay.p999),
                ms(m.delay.max),
                ms(m.delay.spread),
                msf(m.jitter_mean),
                msf(m.jitter_final),
                ms(m.ipdv_p99),
                range(&m.rate_1s),
                range(&m.rate_10s),
                m.sigma_10ms.to_string(),
                m.sigma_100ms.to_string(),
                m.sigma_1s.to_string(),
            ]
        })
        .collect();
    grid(&mut s, &header, &rows);
    let _ = writeln!(
        s,
        "delays, J (RFC 3550 jitter: mean over the run and final value) and |IPDV| p99 in ms; \
         rate = delivered/configured over 1 s and 10 s windows after warm-up (min-max); σ in bytes"
    );
    s
}

/// The sweep table.
pub fn sweep_table(title: &str, points: &[Point]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{title}");
    let header = ["shaper", "J.mean", "J.final", "d.p99", "σ100ms", "loss%"];
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            vec![
                p.shaper.clone(),
                msf(p.jitter_mean),
                msf(p.jitter_final),
                ms(p.delay_p99),
                p.sigma_100ms.to_string(),
                format!("{:.2}", p.loss * 100.0),
            ]
        })
        .collect();
    grid(&mut s, &header, &rows);
    let _ = writeln!(
        s,
        "J = RFC 3550 jitter in ms (mean over the run, final value); d.p99 in ms; σ100ms in bytes"
    );
    s
}

fn grid(s: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut width: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |s: &mut String, cells: Vec<&str>| {
        for (i, (c, w)) in cells.iter().zip(&width).enumerate() {
            let pad = w - c.chars().count();
            if i == 0 {
                let _ = write!(s, "{c}{}", " ".repeat(pad));
            } else {
                let _ = write!(s, "  {}{c}", " ".repeat(pad));
            }
        }
        s.push('\n');
    };
    line(s, header.to_vec());
    for r in rows {
        line(s, r.iter().map(String::as_str).collect());
    }
}
