//! The human tables.

use crate::sim::Run;
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
pub fn sweep_table(title: &str, sweep: &crate::sweep::Sweep) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{title}");
    let header = ["shaper", "J.mean", "d.p99", "d.max", "σ", "loss%"];
    let rows: Vec<Vec<String>> = sweep
        .points
        .iter()
        .map(|p| {
            vec![
                p.shaper.clone(),
                msf(p.jitter_mean),
                ms(p.delay_p99),
                ms(p.delay_max),
                p.sigma.to_string(),
                format!("{:.2}", p.loss * 100.0),
            ]
        })
        .collect();
    grid(&mut s, &header, &rows);
    let header = [
        "smooth bucket",
        "σ",
        "J smooth",
        "J optimum",
        "J tbf",
        "smooth/opt",
        "smooth/tbf",
        "d.max smooth",
        "d.max tbf",
        "bar",
    ];
    let rows: Vec<Vec<String>> = sweep
        .bars
        .iter()
        .map(|b| {
            let verdict = match (b.jitter_met, b.delay_met) {
                (true, true) => "met",
                (false, true) => "MISSED: jitter",
                (true, false) => "MISSED: delay",
                (false, false) => "MISSED: both",
            };
            vec![
                b.bucket.to_string(),
                b.sigma.to_string(),
                msf(b.smooth_jitter),
                msf(b.optimum_jitter),
                msf(b.tbf_jitter),
                format!("{:.2}", b.smooth_jitter / b.optimum_jitter.max(1.0)),
                format!("{:.2}", b.smooth_jitter / b.tbf_jitter.max(1.0)),
                ms(b.smooth_delay_max),
                ms(b.tbf_delay_max),
                verdict.into(),
            ]
        })
        .collect();
    grid(&mut s, &header, &rows);
    let met = sweep.bars.iter().filter(|b| b.met()).count();
    let _ = writeln!(
        s,
        "J = mean RFC 3550 jitter (ms); d in ms; σ = bucket depth the output needs (bytes, sup over all windows)\n\
         bar (J ≤ 1.25 × optimum + 0.1 ms, d.max ≤ tbf's + window): met at {met} of {} σ",
        sweep.bars.len()
    );
    s
}

/// One row per σ of `smooth-sim optimum`, with TBF at the same σ beside it.
pub fn optimum_table(title: &str, points: &[crate::optimum::Point]) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{title}");
    let header = [
        "σ",
        "ceiling",
        "pkts",
        "J.mean",
        "J.final",
        "ipdv99",
        "d.p50",
        "d.p99",
        "d.max",
        "σ.sup",
        "solve",
        "tbf.J.mean",
        "tbf.drops",
    ];
    let rows: Vec<Vec<String>> = points
        .iter()
        .map(|p| {
            let m = &p.metrics;
            vec![
                p.sigma.to_string(),
                ms(p.ceiling),
                m.packets.to_string(),
                msf(m.jitter_mean),
                msf(m.jitter_final),
                ms(m.ipdv_p99),
                ms(m.delay.p50),
                ms(m.delay.p99),
                ms(m.delay.max),
                m.sigma_sup.to_string(),
                format!("{:.2}s", p.solve_seconds),
                msf(p.tbf.jitter_mean),
                p.tbf.drops.to_string(),
            ]
        })
        .collect();
    grid(&mut s, &header, &rows);
    let _ = writeln!(
        s,
        "the least-jitter FIFO schedule conforming to (σ, rate) that delays no packet beyond the ceiling \
         (an LP); J = RFC 3550 jitter, ceiling, delays and |IPDV| p99 in ms; σ.sup = bucket depth the \
         departures need, bytes; tbf = TBF with burst σ and latency the ceiling on the same trace"
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
