//! `bench-xen`'s figures. Fig 7 as the paper draws it — the pinged guest's
//! latency (p50 above, p99 below) against the number of CPU hogs, one line
//! per scheduler configuration — one column per target guest, the measurement in solid
//! lines, the simulator's credit rows dashed, TCG's noise floor (no hogs)
//! as a grey line; and Fig 12, the hogs' shares over time. plotters'
//! bitmap backend with DejaVu Sans, as smooth-sim's plots.

use super::bench::Record;
use anyhow::{anyhow, Result};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;

const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

const COLORS: [RGBColor; 8] = [
    RGBColor(214, 39, 40),
    RGBColor(255, 127, 14),
    RGBColor(148, 103, 189),
    RGBColor(127, 127, 127),
    RGBColor(44, 160, 44),
    RGBColor(31, 119, 180),
    RGBColor(23, 190, 207),
    RGBColor(0, 0, 0),
];

fn err<E: std::fmt::Debug>(e: E) -> anyhow::Error {
    anyhow!("plot: {e:?}")
}

fn init_font() -> Result<()> {
    let bytes = std::fs::read(FONT).map_err(|_| {
        anyhow!("font {FONT} missing: install the Debian package fonts-dejavu-core")
    })?;
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| anyhow!("font {FONT} unreadable"))
}

/// One line of a panel: label, points (hogs, p99 ms), dashed.
type Line = (String, Vec<(f64, f64)>, bool);

/// Draws `path`: a column per guest (`blocked`, `busy`), a row per
/// percentile (p50, p99).
pub fn fig7(path: &Path, record: &Record, sim: &[super::bench::SimPoint]) -> Result<()> {
    init_font()?;
    let root = BitMapBackend::new(path, (1200, 1000)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root
        .titled(
            "Fig 7: ping every 100 ms to a guest beside CPU hogs on one pCPU (Xen 4.17.5 in QEMU)",
            ("sans-serif", 18),
        )
        .map_err(err)?;
    let panels = root.split_evenly((2, 2));
    let cells = [
        ("p50", "blocked"),
        ("p50", "busy"),
        ("p99", "blocked"),
        ("p99", "busy"),
    ];
    for (&(q, guest), area) in cells.iter().zip(panels.iter()) {
        let guest = &guest;
        let pick = |d: &xen_sched_sim::report::Dist| if q == "p50" { d.p50_ms } else { d.p99_ms };
        let mut lines: Vec<Line> = Vec::new();
        let mut labels: Vec<String> = Vec::new();
        for m in record
            .measurements
            .iter()
            .filter(|m| m.guest == *guest && m.config != "floor")
        {
            let l = m.label();
            if !labels.contains(&l) {
                labels.push(l);
            }
        }
        for l in &labels {
            let mut pts: Vec<(f64, f64)> = record
                .measurements
                .iter()
                .filter(|m| m.guest == *guest && m.config != "floor" && m.label() == *l)
                .map(|m| (f64::from(m.hogs), pick(&m.dist())))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            lines.push((l.clone(), pts, false));
        }
        let mut sim_labels: Vec<String> = Vec::new();
        for s in sim.iter().filter(|s| s.guest == *guest) {
            if !sim_labels.contains(&s.scheduler) {
                sim_labels.push(s.scheduler.clone());
            }
        }
        for l in &sim_labels {
            let mut pts: Vec<(f64, f64)> = sim
                .iter()
                .filter(|s| s.guest == *guest && s.scheduler == *l)
                .map(|s| (f64::from(s.hogs), pick(&s.dist)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            lines.push((format!("simulator: {l}"), pts, true));
        }
        let floor = record
            .measurements
            .iter()
            .filter(|m| m.config == "floor")
            .map(|m| pick(&m.dist()))
            .fold(0.0, f64::max);
        let ymax = lines
            .iter()
            .flat_map(|l| l.1.iter().map(|p| p.1))
            .fold(floor, f64::max)
            .max(1.0)
            * 1.15;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "{q}: {}",
                    if *guest == "busy" {
                        "CPU-bound guest (busy loop, answers ping)"
                    } else {
                        "guest blocked between pings"
                    }
                ),
                ("sans-serif", 15),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..6.0, 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("CPU hogs on the guest's pCPU")
            .y_desc(format!("ping {q} (ms)"))
            .x_labels(7)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.0}"))
            .label_style(("sans-serif", 12))
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        if floor > 0.0 {
            let grey = RGBColor(170, 170, 170);
            chart
                .draw_series(LineSeries::new(
                    vec![(0.0, floor), (6.0, floor)],
                    grey.stroke_width(1),
                ))
                .map_err(err)?
                .label(format!("TCG noise floor (no hogs, {q})"))
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], grey));
        }
        let mut measured = 0;
        let mut simulated = 0;
        for (label, pts, dashed) in lines {
            let c = if dashed {
                simulated += 1;
                [
                    RGBColor(90, 90, 90),
                    RGBColor(31, 119, 180),
                    RGBColor(0, 0, 0),
                ][(simulated - 1) % 3]
            } else {
                measured += 1;
                COLORS[(measured - 1) % COLORS.len()]
            };
            let style = c.stroke_width(2);
            if dashed {
                chart
                    .draw_series(DashedLineSeries::new(pts.clone(), 6, 4, style))
                    .map_err(err)?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
                chart
                    .draw_series(pts.iter().map(|&p| TriangleMarker::new(p, 5, c.filled())))
                    .map_err(err)?;
            } else {
                chart
                    .draw_series(LineSeries::new(pts.clone(), style))
                    .map_err(err)?
                    .label(label.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 4, c.filled())))
                    .map_err(err)?;
            }
        }
        legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    }
    root.present().map_err(err)
}

type Chart<'a> = ChartContext<'a, BitMapBackend<'a>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The chart's legend at `at`, boxed.
fn legend(chart: &mut Chart<'_>, at: SeriesLabelPosition) -> Result<()> {
    chart
        .configure_series_labels()
        .position(at)
        .label_font(("sans-serif", 11))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}

/// Draws `path`: Fig 12 as the paper draws it — each hog's share of the
/// pCPU over time (a step per window), the real-time sender's, and the
/// ideal share of each hog that is on (dashed).
pub fn fig12(path: &Path, steps: &[&super::figs::ShareStep]) -> Result<()> {
    init_font()?;
    let root = BitMapBackend::new(path, (1200, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let step_s = steps.first().map_or(1.0, |s| s.wall_ns as f64 / 1e9);
    let end = steps.len() as f64 * step_s;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Fig 12: five equal hogs started and stopped beside a periodic real-time guest (Xen 4.17.5 + series, QEMU)",
            ("sans-serif", 17),
        )
        .margin(14)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..end, 0.0..105.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("share of the pCPU (%)")
        .label_style(("sans-serif", 12))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    // A value per window, drawn flat across it; None breaks the line.
    let staircase = |value: &dyn Fn(&super::figs::ShareStep) -> Option<f64>| {
        let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
        for (i, s) in steps.iter().enumerate() {
            match value(s) {
                Some(v) => {
                    let run = runs.last_mut().expect("one run at least");
                    run.push((i as f64 * step_s, v));
                    run.push(((i + 1) as f64 * step_s, v));
                }
                None => runs.push(Vec::new()),
            }
        }
        runs.into_iter()
            .filter(|r| !r.is_empty())
            .collect::<Vec<_>>()
    };
    let ideal = RGBColor(0, 0, 0);
    for (k, run) in staircase(&|s| Some(s.shares().2)).into_iter().enumerate() {
        let series = chart
            .draw_series(DashedLineSeries::new(run, 6, 4, ideal.stroke_width(2)))
            .map_err(err)?;
        if k == 0 {
            series
                .label("ideal: the hogs' equal split")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], ideal));
        }
    }
    for (hog, &c) in COLORS.iter().take(5).enumerate() {
        for (k, run) in staircase(&|s| s.shares().3[hog]).into_iter().enumerate() {
            let series = chart
                .draw_series(LineSeries::new(run, c.stroke_width(2)))
                .map_err(err)?;
            if k == 0 {
                series
                    .label(format!("hog {}", hog + 1))
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
            }
        }
    }
    let rt = COLORS[5];
    for (k, run) in staircase(&|s| Some(s.shares().0)).into_iter().enumerate() {
        let series = chart
            .draw_series(LineSeries::new(run, rt.stroke_width(3)))
            .map_err(err)?;
        if k == 0 {
            series
                .label("periodic real-time sender")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], rt));
        }
    }
    legend(&mut chart, SeriesLabelPosition::UpperMiddle)?;
    root.present().map_err(err)
}
