//! PNG figures with plotters' bitmap backend. Text uses DejaVu Sans from
//! Debian's `fonts-dejavu-core`, registered at run time (no fontconfig).

use crate::model::WindowSample;
use crate::sim::Run;
use crate::sweep::Point;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::FontStyle;
use std::path::Path;
use std::sync::OnceLock;

/// Where the font is expected.
pub const FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

type Res = Result<(), String>;

/// Registers the font once; a one-line error names the package if missing.
pub fn init_font() -> Res {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        let bytes = std::fs::read(FONT).map_err(|_| {
            format!("font {FONT} missing: install the Debian package fonts-dejavu-core")
        })?;
        let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
        plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
            .map_err(|_| format!("font {FONT} unreadable: reinstall fonts-dejavu-core"))
    })
    .clone()
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("plot: {e:?}")
}

const COLORS: [RGBColor; 11] = [
    RGBColor(31, 119, 180),
    RGBColor(214, 39, 40),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(0, 0, 0),
];

/// Delay over time, one panel per shaper, for departures of packets that
/// arrived in `[from, to)` ns.
pub fn delays(path: &Path, title: &str, runs: &[Run], from: u64, to: u64) -> Res {
    init_font()?;
    let height = 60 + 180 * runs.len() as u32;
    let root = BitMapBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 20)).map_err(err)?;
    let panels = root.split_evenly((runs.len(), 1));
    for (i, (run, area)) in runs.iter().zip(panels.iter()).enumerate() {
        let pts: Vec<(f64, f64)> = run
            .departures
            .iter()
            .filter(|d| d.arrival >= from && d.arrival < to)
            .map(|d| (d.arrival as f64 / 1e9, d.delay() as f64 / 1e6))
            .collect();
        let ymax = pts.iter().map(|p| p.1).fold(1.0, f64::max) * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(&run.shaper, ("sans-serif", 15))
            .margin(6)
            .x_label_area_size(28)
            .y_label_area_size(55)
            .build_cartesian_2d(from as f64 / 1e9..to as f64 / 1e9, 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc("delay (ms)")
            .label_style(("sans-serif", 11))
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 1, c.filled())))
            .map_err(err)?;
    }
    root.present().map_err(err)
}

/// smooth's window `[dmin, dmax]` over time with the delays it imposed
/// (the paper's Figs 8 and 10), for `[from, to)` ns.
pub fn window(path: &Path, title: &str, run: &Run, from: u64, to: u64) -> Res {
    init_font()?;
    let root = BitMapBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let pts: Vec<(f64, f64)> = run
        .departures
        .iter()
        .filter(|d| d.arrival >= from && d.arrival < to)
        .map(|d| (d.arrival as f64 / 1e9, d.delay() as f64 / 1e6))
        .collect();
    let steps = |edge: fn(&WindowSample) -> u64| -> Vec<(f64, f64)> {
        let mut v = Vec::new();
        let mut last = None;
        for w in &run.window {
            let y = edge(w) as f64 / 1e6;
            if w.at >= from && w.at < to {
                if let Some(prev) = last {
                    v.push((w.at as f64 / 1e9, prev));
                } else {
                    v.push((from as f64 / 1e9, y));
                }
                v.push((w.at as f64 / 1e9, y));
            }
            last = Some(y);
        }
        if let Some(y) = last {
            if v.is_empty() {
                v.push((from as f64 / 1e9, y));
            }
            v.push((to as f64 / 1e9, y));
        }
        v
    };
    let top = steps(|w| w.max);
    let bottom = steps(|w| w.min);
    let ymax = pts.iter().chain(&top).map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(8)
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(from as f64 / 1e9..to as f64 / 1e9, 0.0..ymax)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("time (s)")
        .y_desc("delay (ms)")
        .label_style(("sans-serif", 12))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(pts.iter().map(|&p| Circle::new(p, 1, COLORS[0].filled())))
        .map_err(err)?
        .label("packet delay")
        .legend(|(x, y)| Circle::new((x + 10, y), 3, COLORS[0].filled()));
    chart
        .draw_series(LineSeries::new(top, COLORS[1].stroke_width(2)))
        .map_err(err)?
        .label("window top (dmax)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COLORS[1]));
    chart
        .draw_series(LineSeries::new(bottom, COLORS[2].stroke_width(2)))
        .map_err(err)?
        .label("window bottom (dmin)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COLORS[2]));
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 12))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Jitter (mean RFC 3550 J) versus the σ the output needs: a curve per
/// family, in the order the families first appear in `points`.
pub fn sweep(path: &Path, title: &str, points: &[Point]) -> Res {
    init_font()?;
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let xmax = points
        .iter()
        .map(|p| p.sigma as f64 / 1000.0)
        .fold(1.0, f64::max)
        * 1.1;
    let ymax = points
        .iter()
        .map(|p| p.jitter_mean / 1e6)
        .fold(0.1, f64::max)
        * 1.1;
    let xmin = points
        .iter()
        .map(|p| p.sigma as f64 / 1000.0)
        .fold(0.0, f64::min);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(xmin..xmax, 0.0..ymax)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("burst allowance σ the output needs (kB)")
        .y_desc("RFC 3550 jitter, mean J (ms)")
        .label_style(("sans-serif", 12))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    let mut families: Vec<&'static str> = Vec::new();
    for p in points {
        if !families.contains(&p.family) {
            families.push(p.family);
        }
    }
    for (i, family) in families.iter().enumerate() {
        let mut pts: Vec<(f64, f64, String)> = points
            .iter()
            .filter(|p| p.family == *family)
            .map(|p| {
                (
                    p.sigma as f64 / 1000.0,
                    p.jitter_mean / 1e6,
                    p.shaper.clone(),
                )
            })
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let c = COLORS[i % COLORS.len()];
        if pts.len() > 1 {
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, p.1)),
                    c.stroke_width(2),
                ))
                .map_err(err)?;
        }
        let size = if family.starts_with("smooth") { 6 } else { 4 };
        chart
            .draw_series(
                pts.iter()
                    .map(|p| EmptyElement::at((p.0, p.1)) + Circle::new((0, 0), size, c.filled())),
            )
            .map_err(err)?
            .label(*family)
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", 13))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    root.present().map_err(err)
}

/// Distribution functions of `series` (label, values), one line each.
pub fn cdf(path: &Path, title: &str, x_desc: &str, series: &[(String, Vec<u64>)]) -> Res {
    let series: Vec<(String, Vec<f64>)> = series
        .iter()
        .map(|(l, v)| (l.clone(), v.iter().map(|&x| x as f64).collect()))
        .collect();
    cdf_f64(path, title, x_desc, &series)
}

/// [`cdf`] of real values.
pub fn cdf_f64(path: &Path, title: &str, x_desc: &str, series: &[(String, Vec<f64>)]) -> Res {
    init_font()?;
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let xmax = series
        .iter()
        .flat_map(|s| s.1.iter())
        .copied()
        .fold(1.0f64, f64::max)
        * 1.05;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..xmax, 0.0..1.0)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("fraction ≤ x")
        .label_style(("sans-serif", 12))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    for (i, (label, values)) in series.iter().enumerate() {
        let mut v = values.clone();
        v.sort_unstable_by(f64::total_cmp);
        let n = v.len().max(1) as f64;
        let pts: Vec<(f64, f64)> = v
            .iter()
            .enumerate()
            .map(|(k, &x)| (x, (k + 1) as f64 / n))
            .collect();
        let c = COLORS[i % COLORS.len()];
        chart
            .draw_series(LineSeries::new(pts, c.stroke_width(2)))
            .map_err(err)?
            .label(label.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
    }
    legend(&mut chart, SeriesLabelPosition::LowerRight)?;
    root.present().map_err(err)
}

/// One panel of [`timeseries`]: lines sharing a y axis.
pub struct Panel {
    /// The y axis' label.
    pub y_desc: &'static str,
    /// (label, points (s, y)).
    pub series: Vec<(String, Vec<(f64, f64)>)>,
}

/// Panels stacked on one time axis.
pub fn timeseries(path: &Path, title: &str, panels: &[Panel]) -> Res {
    init_font()?;
    let height = 60 + 260 * panels.len() as u32;
    let root = BitMapBackend::new(path, (900, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(title, ("sans-serif", 18)).map_err(err)?;
    let areas = root.split_evenly((panels.len(), 1));
    let all = || {
        panels
            .iter()
            .flat_map(|p| p.series.iter())
            .flat_map(|s| s.1.iter())
    };
    let xmax = all().map(|p| p.0).fold(1.0, f64::max);
    for (panel, area) in panels.iter().zip(areas.iter()) {
        let ymax = panel
            .series
            .iter()
            .flat_map(|s| s.1.iter())
            .map(|p| p.1)
            .fold(0.1, f64::max)
            * 1.15;
        let mut chart = ChartBuilder::on(area)
            .margin(8)
            .x_label_area_size(35)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("time (s)")
            .y_desc(panel.y_desc)
            .label_style(("sans-serif", 12))
            .light_line_style(WHITE)
            .draw()
            .map_err(err)?;
        for (i, (label, pts)) in panel.series.iter().enumerate() {
            let c = COLORS[i % COLORS.len()];
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                .map_err(err)?
                .label(label.as_str())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c));
        }
        legend(&mut chart, SeriesLabelPosition::UpperRight)?;
    }
    root.present().map_err(err)
}

/// Points per series with the line y = x (delivered against configured).
pub fn scatter_diagonal(
    path: &Path,
    title: &str,
    x_desc: &str,
    y_desc: &str,
    series: &[(String, Vec<(f64, f64)>)],
) -> Res {
    init_font()?;
    let root = BitMapBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let max = series
        .iter()
        .flat_map(|s| s.1.iter())
        .map(|p| p.0.max(p.1))
        .fold(1.0, f64::max)
        * 1.1;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..max, 0.0..max)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .label_style(("sans-serif", 12))
        .light_line_style(WHITE)
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            [(0.0, 0.0), (max, max)],
            COLORS[8].stroke_width(1),
        ))
        .map_err(err)?
        .label("delivered = configured")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], COLORS[8]));
    for (i, (label, pts)) in series.iter().enumerate() {
        let c = COLORS[i % COLORS.len()];
        let size = 5 - (i as i32 % 3);
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, size, c.filled())))
            .map_err(err)?
            .label(label.as_str())
            .legend(move |(x, y)| Circle::new((x + 10, y), 4, c.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
    root.present().map_err(err)
}

/// The chart type every plot here draws on.
type Chart<'a, 'b> =
    ChartContext<'a, BitMapBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

fn legend<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, at: SeriesLabelPosition) -> Res {
    chart
        .configure_series_labels()
        .position(at)
        .label_font(("sans-serif", 12))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(err)
}
