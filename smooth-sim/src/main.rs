//! `smooth-sim`: what-if simulator for the smooth shaper. Run
//! `smooth-sim run --help` and `smooth-sim sweep --help`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use smooth_core::options::Refusal;
use smooth_core::time::{credit_bytes, NSEC_PER_MSEC, NSEC_PER_SEC};
use smooth_core::uapi::OptionError;
use smooth_core::{units, Config};
use smooth_sim::sim::{simulate, Offered, Run, ShaperSpec};
use smooth_sim::workload::{self, Video};
use smooth_sim::{bench, corpus, optimum, plot, received, replay, report, sweep};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "smooth-sim",
    version,
    about = "Replays workloads through smooth and the classic shapers"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// One workload through each shaper; a table of metrics.
    Run(RunArgs),
    /// Each corpus trace through TBF and smooth over the same bucket depths,
    /// netback, the pacer and the offline optimum: jitter versus the σ the
    /// output needs, and the jitter bar.
    Sweep(SweepArgs),
    /// The least jitter any FIFO shaper can reach on an open-loop workload
    /// while its output conforms to a token bucket (σ, rate) and no packet
    /// waits longer than --max-delay: an LP, solved per σ.
    Optimum(OptimumArgs),
    /// Statistics of every corpus entry at --rate over --duration.
    Corpus {
        /// The shaper's rate (synthetic traces scale with it).
        #[arg(long, default_value = "2mbit", value_parser = rate)]
        rate: u64,
        /// Seconds of each trace.
        #[arg(long, default_value = "60s", value_parser = time)]
        duration: u64,
    },
    /// Sends a corpus trace as UDP datagrams at its recorded times (the
    /// in-kernel benchmark's sender); prints a JSON report.
    ReplaySend(ReplaySendArgs),
    /// Receives a replayed trace with kernel timestamps; prints the
    /// datagrams as JSON `{"packets": [[seq, sent_ns, received_ns, len], …]}`.
    ReplayRecv(ReplayRecvArgs),
    /// Measures what `replay-recv` received against the replayed trace's
    /// schedule (sender and receiver on different clocks): RFC 3550 J,
    /// delays above the smallest, delivered rate, the sender's lateness;
    /// prints JSON.
    ReplayMeasure(ReplayMeasureArgs),
    /// Plots the Xen deployment scenario's results (`cargo xtask xen
    /// --bench-deploy`): the stream's one-way delay above the smallest and
    /// the ping round trips, one distribution per configuration.
    DeployPlot(DeployPlotArgs),
    /// Turns the in-kernel benchmark's runs (JSON lines) into results:
    /// JSON, a markdown page and plots.
    BenchReport(BenchReportArgs),
}

/// Which trace a replay sends: `replay-send` and `replay-measure` must be
/// given the same, so that the receiver's view is measured against the
/// schedule that was sent.
#[derive(Args)]
struct ReplayTrace {
    /// Corpus entry.
    #[arg(long)]
    trace: String,
    /// The shaper's rate (synthetic traces scale with it).
    #[arg(long, default_value = "2mbit", value_parser = rate)]
    rate: u64,
    /// Seconds of the trace to send.
    #[arg(long, default_value = "20s", value_parser = time)]
    duration: u64,
    /// Seed of synthetic traces.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl ReplayTrace {
    fn load(&self) -> Result<workload::Trace, String> {
        corpus::load(&self.trace, self.rate, self.duration, self.seed)
    }
}

#[derive(Args)]
struct ReplaySendArgs {
    #[command(flatten)]
    trace: ReplayTrace,
    /// Destination, IP:PORT.
    #[arg(long)]
    to: std::net::SocketAddr,
}

#[derive(Args)]
struct ReplayRecvArgs {
    /// UDP port to listen on.
    #[arg(long)]
    port: u16,
    /// Stop this long after the first datagram.
    #[arg(long, default_value = "25s", value_parser = time)]
    duration: u64,
    /// Or after this long without one.
    #[arg(long, default_value = "2s", value_parser = time)]
    idle: u64,
}

#[derive(Args)]
struct ReplayMeasureArgs {
    /// The trace exactly as the sender was given it.
    #[command(flatten)]
    trace: ReplayTrace,
    /// `replay-recv`'s output.
    #[arg(long)]
    received: PathBuf,
}

#[derive(Args)]
struct DeployPlotArgs {
    /// docs/results/deploy.json.
    #[arg(long)]
    results: PathBuf,
    /// Writes deploy-delay.png and deploy-ping.png here.
    #[arg(long)]
    dir: PathBuf,
}

#[derive(Args)]
struct BenchReportArgs {
    /// The runs: JSON lines, one file per experiment (`*.jsonl`), each
    /// starting with its provenance.
    #[arg(long)]
    runs: PathBuf,
    /// Write the measured runs as JSON here.
    #[arg(long)]
    json: PathBuf,
    /// Write the results page here.
    #[arg(long)]
    markdown: PathBuf,
    /// Write the page's plots into this directory.
    #[arg(long)]
    plots: PathBuf,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum WorkloadKind {
    /// Constant bit rate at --load × rate.
    Cbr,
    /// RTP-like video: 30 fps, an I-frame a second 6× a P-frame, ≤ 1400 B packets.
    Vbr,
    /// Bursts at --peak × rate, mean --load × rate, period --period.
    Onoff,
    /// Backlogged UDP at --load × rate (default 2).
    Udp,
    /// Window-limited closed-loop flow (--tcp-window bytes in flight, --rtt).
    Tcp,
    /// Timestamps and lengths of --pcap FILE.
    Pcap,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum ShaperKind {
    Smooth,
    Netback,
    Tbf,
    Pacer,
}

#[derive(Args)]
struct Common {
    /// Configured rate of every shaper (tc units: 2mbit, 250kbps).
    #[arg(long, default_value = "2mbit", value_parser = rate)]
    rate: u64,
    /// smooth: window width.
    #[arg(long, default_value = "3ms", value_parser = time)]
    window: u64,
    /// smooth: delay ceiling (also TBF's latency: limit = burst + rate × max-delay).
    #[arg(long, default_value = "200ms", value_parser = time)]
    max_delay: u64,
    /// smooth: queue limit in packets; also netback's and the pacer's queue.
    #[arg(long, default_value_t = 1000)]
    limit: u32,
    /// Offered traffic time (the queues then drain).
    #[arg(long, default_value = "60s", value_parser = time)]
    duration: u64,
    /// Rates are measured from this time on.
    #[arg(long, default_value = "1s", value_parser = time)]
    warmup: u64,
    /// Seed of the workload's random numbers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
    /// Write PNG figures into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Time span of the delay plots (from the warm-up on).
    #[arg(long, default_value = "5s", value_parser = time)]
    plot_span: u64,
}

#[derive(Args)]
struct SweepArgs {
    #[command(flatten)]
    common: Common,
    /// Corpus entries to sweep, comma separated (default: every entry but
    /// the backlogged ones).
    #[arg(long, value_delimiter = ',')]
    trace: Vec<String>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    workload: WorkloadArgs,
    /// Shapers to run, comma separated.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "smooth,netback,tbf,pacer"
    )]
    shapers: Vec<ShaperKind>,
    /// TBF bucket (tc sizes).
    #[arg(long, default_value = "10kb", value_parser = size)]
    tbf_burst: u64,
    /// netback credit window (rate=R@INTERVAL).
    #[arg(long, default_value = "50ms", value_parser = time)]
    netback_interval: u64,
}

/// What is offered, shared by `run` and `optimum`.
#[derive(Args)]
struct WorkloadArgs {
    /// What is offered.
    #[arg(
        long = "workload",
        value_name = "WORKLOAD",
        value_enum,
        default_value = "vbr"
    )]
    kind: WorkloadKind,
    /// Offered mean rate over the configured rate (default: cbr 0.9, vbr 0.97, onoff 0.9, udp 2).
    #[arg(long)]
    load: Option<f64>,
    /// Packet length in bytes (cbr, onoff, udp, tcp).
    #[arg(long, default_value_t = 1400)]
    size: u32,
    /// onoff: peak rate over the configured rate.
    #[arg(long, default_value_t = 5.0)]
    peak: f64,
    /// onoff: burst period.
    #[arg(long, default_value = "1s", value_parser = time)]
    period: u64,
    /// tcp: bytes kept in flight (tc sizes: 32kb).
    #[arg(long, default_value = "16kb", value_parser = size)]
    tcp_window: u64,
    /// tcp: base round-trip time.
    #[arg(long, default_value = "20ms", value_parser = time)]
    rtt: u64,
    /// pcap: the capture to replay.
    #[arg(long)]
    pcap: Option<PathBuf>,
}

#[derive(Args)]
struct OptimumArgs {
    #[command(flatten)]
    workload: WorkloadArgs,
    /// Token-bucket rate the output must conform to (tc units).
    #[arg(long, default_value = "2mbit", value_parser = rate)]
    rate: u64,
    /// Token-bucket depths, comma separated (tc sizes: 6000,10kb); the
    /// default spans the sweep's range of σ(100 ms).
    #[arg(
        long,
        value_delimiter = ',',
        value_parser = size,
        default_value = "6000,10000,15600,20000,27300"
    )]
    sigma: Vec<u64>,
    /// Delay ceiling of every packet (default: at each σ, the longest wait of
    /// the earliest conforming schedule — TBF's worst delay — plus smooth's
    /// default window: the equal-delay optimum).
    #[arg(long, value_parser = time)]
    max_delay: Option<u64>,
    /// Offered traffic time.
    #[arg(long, default_value = "20s", value_parser = time)]
    duration: u64,
    /// Rates are measured from this time on.
    #[arg(long, default_value = "1s", value_parser = time)]
    warmup: u64,
    /// Seed of the workload's random numbers.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

/// A unit error in clap's words: what a value of the kind looks like if it
/// did not parse, else what is wrong with it.
fn unit_error(e: units::UnitError, example: &str) -> String {
    match e {
        units::UnitError::Syntax => format!("not {example}"),
        other => other.to_string(),
    }
}

fn rate(s: &str) -> Result<u64, String> {
    units::parse_rate(s).map_err(|e| unit_error(e, "a rate like 2mbit"))
}

fn time(s: &str) -> Result<u64, String> {
    units::parse_time(s).map_err(|e| unit_error(e, "a time like 3ms"))
}

fn size(s: &str) -> Result<u64, String> {
    units::parse_size(s).map_err(|e| unit_error(e, "a size like 64kb"))
}

/// The range check every non-smooth parameter gets, in `Config`'s words.
fn check<T: PartialOrd + std::fmt::Display>(
    field: &str,
    v: T,
    min: T,
    max: T,
    unit: &str,
) -> Result<T, String> {
    if v < min || v > max {
        return Err(format!("{field} {v} out of range {min}..={max} {unit}"));
    }
    Ok(v)
}

/// [`check`] for a time, in the words smooth's own fields use.
fn check_time(field: &str, v: u64, min: u64, max: u64) -> Result<u64, String> {
    let t = units::Time;
    if v < min || v > max {
        return Err(format!(
            "{field} {} out of range {}..={}",
            t(v),
            t(min),
            t(max)
        ));
    }
    Ok(v)
}

impl Common {
    fn config(&self) -> Result<Config, String> {
        Config {
            rate: self.rate,
            window: self.window,
            max_delay: self.max_delay,
            limit: self.limit,
            ..Config::DEFAULT
        }
        .validate()
        .map_err(|e| Refusal(OptionError::Invalid(e)).to_string())
    }

    fn validate(&self) -> Result<Config, String> {
        let cfg = self.config()?;
        check_time(
            "duration",
            self.duration,
            NSEC_PER_MSEC,
            3600 * NSEC_PER_SEC,
        )?;
        check_time("warmup", self.warmup, 0, self.duration)?;
        check_time(
            "plot_span",
            self.plot_span,
            NSEC_PER_MSEC,
            3600 * NSEC_PER_SEC,
        )?;
        Ok(cfg)
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let msg = e.to_string();
            let first = msg.lines().next().unwrap_or("bad arguments");
            eprintln!("smooth-sim: {}", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    let result = match cli.cmd {
        Cmd::Run(a) => run(&a),
        Cmd::Sweep(a) => run_sweep(&a),
        Cmd::Optimum(o) => run_optimum(&o),
        Cmd::Corpus { rate, duration } => {
            println!(
                "corpus at {}, {}, seed 1:\nname                 packets  Mbit/s  ×rate  len min-max  largest burst (< 1 ms gaps): B (packets)",
                units::Rate(rate),
                units::Time(duration)
            );
            for name in corpus::names() {
                println!("{}", corpus::stats_line(name, rate, duration, 1));
            }
            Ok(())
        }
        Cmd::ReplaySend(a) => replay_send(&a),
        Cmd::ReplayRecv(a) => replay_recv(&a),
        Cmd::ReplayMeasure(a) => replay_measure(&a),
        Cmd::DeployPlot(a) => deploy_plot(&a),
        Cmd::BenchReport(a) => bench_report(&a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smooth-sim: {e}");
            ExitCode::FAILURE
        }
    }
}

fn offered(
    a: &WorkloadArgs,
    rate: u64,
    duration: u64,
    seed: u64,
) -> Result<(Offered, String), String> {
    let default_load = match a.kind {
        WorkloadKind::Cbr | WorkloadKind::Onoff => 0.9,
        WorkloadKind::Vbr => 0.97,
        WorkloadKind::Udp => 2.0,
        WorkloadKind::Tcp | WorkloadKind::Pcap => 1.0,
    };
    let load = check(
        "load",
        a.load.unwrap_or(default_load),
        0.001,
        1000.0,
        "× rate",
    )?;
    let size = check("size", a.size, 64, 65535, "bytes")?;
    let wl_rate = ((rate as f64 * load).round() as u64).max(1);
    let r = units::Rate(wl_rate);
    Ok(match a.kind {
        WorkloadKind::Cbr => (
            Offered::Open(workload::cbr(wl_rate, size, duration)),
            format!("cbr {r} {size}B"),
        ),
        WorkloadKind::Udp => (
            Offered::Open(workload::cbr(wl_rate, size, duration)),
            format!("udp {load}x = {r} {size}B"),
        ),
        WorkloadKind::Vbr => (
            Offered::Open(workload::vbr(Video::paper(wl_rate), duration, seed)),
            format!("vbr video mean {r} 30fps I=6P"),
        ),
        WorkloadKind::Onoff => {
            let peak = check("peak", a.peak, load, 1000.0, "× rate")?;
            let period = check_time("period", a.period, NSEC_PER_MSEC, 100 * NSEC_PER_SEC)?;
            let on = (period as f64 * load / peak) as u64;
            let peak_rate = (rate as f64 * peak).round() as u64;
            (
                Offered::Open(workload::on_off(
                    peak_rate, size, on, period, duration, seed,
                )),
                format!(
                    "onoff peak {} mean {r} period {}",
                    units::Rate(peak_rate),
                    units::Time(period)
                ),
            )
        }
        WorkloadKind::Tcp => {
            let window = check("tcp_window", a.tcp_window, size.into(), 1 << 30, "bytes")?;
            let rtt = check_time("rtt", a.rtt, 0, 10 * NSEC_PER_SEC)?;
            (
                Offered::Tcp {
                    window,
                    mss: size,
                    rtt,
                },
                format!("tcp window {window}B rtt {} {size}B", units::Time(rtt)),
            )
        }
        WorkloadKind::Pcap => {
            let path = a
                .pcap
                .as_ref()
                .ok_or("pcap: --pcap FILE is required for --workload pcap")?;
            let trace = workload::pcap(path)?;
            (Offered::Open(trace), format!("pcap {}", path.display()))
        }
    })
}

fn run(a: &RunArgs) -> Result<(), String> {
    let c = &a.common;
    let cfg = c.validate()?;
    let burst = check("tbf_burst", a.tbf_burst, 64, u64::from(u32::MAX), "bytes")? as u32;
    let nb_interval = check_time(
        "netback_interval",
        a.netback_interval,
        NSEC_PER_MSEC,
        10 * NSEC_PER_SEC,
    )?;
    let (offered, what) = offered(&a.workload, c.rate, c.duration, c.seed)?;
    let queue = c.limit as usize;
    let specs: Vec<ShaperSpec> = a
        .shapers
        .iter()
        .map(|s| match s {
            ShaperKind::Smooth => ShaperSpec::Smooth(cfg),
            ShaperKind::Netback => ShaperSpec::Netback {
                rate: c.rate,
                interval: nb_interval,
                limit: queue,
            },
            ShaperKind::Tbf => ShaperSpec::Tbf {
                rate: c.rate,
                burst,
                limit: u64::from(burst) + credit_bytes(c.max_delay, c.rate),
            },
            ShaperKind::Pacer => ShaperSpec::Pacer {
                rate: c.rate,
                limit: queue,
            },
        })
        .collect();
    let runs: Vec<Run> = specs
        .iter()
        .map(|s| simulate(s, &offered, c.duration, c.warmup))
        .collect();
    let title = format!(
        "{what} through {} shapers for {}",
        units::Rate(c.rate),
        units::Time(c.duration)
    );
    if c.json {
        let v = serde_json::json!({ "workload": what, "rate": c.rate, "duration": c.duration, "runs": runs });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", report::table(&title, &runs));
    }
    if let Some(dir) = &c.plot {
        std::fs::create_dir_all(dir).map_err(|e| format!("plot {}: {e}", dir.display()))?;
        let (from, to) = (c.warmup, c.warmup + c.plot_span);
        let stem = match a.workload.kind {
            WorkloadKind::Cbr => "cbr",
            WorkloadKind::Vbr => "vbr",
            WorkloadKind::Onoff => "onoff",
            WorkloadKind::Udp => "udp",
            WorkloadKind::Tcp => "tcp",
            WorkloadKind::Pcap => "pcap",
        };
        plot::delays(
            &dir.join(format!("delay-{stem}.png")),
            &title,
            &runs,
            from,
            to,
        )?;
        if let Some(r) = runs.iter().find(|r| !r.window.is_empty()) {
            plot::window(
                &dir.join(format!("window-{stem}.png")),
                &format!("{}: window and delays, {what}", r.shaper),
                r,
                from,
                to,
            )?;
        }
    }
    Ok(())
}

fn run_optimum(o: &OptimumArgs) -> Result<(), String> {
    check("rate", o.rate, 1, u64::MAX / 1_000_000, "B/s")?;
    check_time("duration", o.duration, NSEC_PER_MSEC, 3600 * NSEC_PER_SEC)?;
    if let Some(d) = o.max_delay {
        check_time("max_delay", d, 0, 100 * NSEC_PER_SEC)?;
    }
    check_time("warmup", o.warmup, 0, o.duration)?;
    for &s in &o.sigma {
        check("sigma", s, 1, u64::from(u32::MAX), "bytes")?;
    }
    let (offered, what) = offered(&o.workload, o.rate, o.duration, o.seed)?;
    let Offered::Open(mut trace) = offered else {
        return Err(format!(
            "optimum: {what} is closed-loop (it reacts to the shaper's departures), \
             not a fixed trace; the optimum needs an open-loop workload"
        ));
    };
    trace.truncate(trace.partition_point(|p| p.0 < o.duration));
    let points = o
        .sigma
        .iter()
        .map(|&sigma| {
            optimum::point(&trace, o.rate, sigma, o.max_delay, o.warmup, o.duration)
                .map_err(|e| format!("σ {sigma} B: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let ceiling = o.max_delay.map_or_else(
        || format!("TBF's worst delay + {}", units::Time(optimum::DELAY_SLACK)),
        |d| units::Time(d).to_string(),
    );
    let title = format!(
        "optimum: {what}, {} packets, through a token bucket at {}, max_delay {ceiling}, for {}",
        trace.len(),
        units::Rate(o.rate),
        units::Time(o.duration)
    );
    if o.json {
        let v = serde_json::json!({
            "workload": what,
            "rate": o.rate,
            "max_delay": o.max_delay,
            "duration": o.duration,
            "packets": trace.len(),
            "points": points,
        });
        println!(
            "{}",
            serde_json::to_string_pretty(&v).map_err(|e| e.to_string())?
        );
    } else {
        print!("{}", report::optimum_table(&title, &points));
    }
    Ok(())
}

fn run_sweep(a: &SweepArgs) -> Result<(), String> {
    let c = &a.common;
    let cfg = c.validate()?;
    let names: Vec<String> = if a.trace.is_empty() {
        corpus::names()
            .iter()
            .filter(|n| corpus::kind(n) != Some(corpus::Kind::Backlogged))
            .map(|n| n.to_string())
            .collect()
    } else {
        a.trace.clone()
    };
    let mut all = Vec::new();
    let mut missed = 0;
    for name in &names {
        let trace = corpus::load(name, c.rate, c.duration, c.seed)?;
        let sweep = sweep::run(&trace, cfg, c.limit as usize, c.warmup)?;
        let title = format!(
            "sweep: {name} through {} shapers for {}, smooth window {} max_delay {}",
            units::Rate(c.rate),
            units::Time(c.duration),
            units::Time(c.window),
            units::Time(c.max_delay)
        );
        missed += sweep.bars.iter().filter(|b| !b.met()).count();
        if !c.json {
            println!("{}", report::sweep_table(&title, &sweep));
        }
        if let Some(dir) = &c.plot {
            std::fs::create_dir_all(dir).map_err(|e| format!("plot {}: {e}", dir.display()))?;
            plot::sweep(
                &dir.join(format!("sweep-{name}.png")),
                &format!(
                    "{name} at {}: jitter vs burst allowance",
                    units::Rate(c.rate)
                ),
                &sweep.points,
            )?;
        }
        all.push(serde_json::json!({ "trace": name, "title": title, "sweep": sweep }));
    }
    if c.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&all).map_err(|e| e.to_string())?
        );
    } else {
        println!("the bar was missed at {missed} (trace, σ) points");
    }
    Ok(())
}

fn replay_send(a: &ReplaySendArgs) -> Result<(), String> {
    let trace = a.trace.load()?;
    let sent = replay::send(&trace, a.to).map_err(|e| format!("replay-send to {}: {e}", a.to))?;
    println!(
        "{}",
        serde_json::to_string(&sent).map_err(|e| e.to_string())?
    );
    Ok(())
}

fn replay_recv(a: &ReplayRecvArgs) -> Result<(), String> {
    let got = replay::receive(
        a.port,
        std::time::Duration::from_nanos(a.duration),
        std::time::Duration::from_nanos(a.idle),
    )
    .map_err(|e| format!("replay-recv on port {}: {e}", a.port))?;
    let v = serde_json::json!({ "packets": got });
    println!("{}", serde_json::to_string(&v).map_err(|e| e.to_string())?);
    Ok(())
}

fn replay_measure(a: &ReplayMeasureArgs) -> Result<(), String> {
    let trace = a.trace.load()?;
    let text = std::fs::read_to_string(&a.received)
        .map_err(|e| format!("{}: {e}", a.received.display()))?;
    #[derive(serde::Deserialize)]
    struct Got {
        packets: Vec<replay::Received>,
    }
    let got: Got =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", a.received.display()))?;
    let m = received::measure(&trace, &got.packets, a.trace.rate)?;
    println!("{}", serde_json::to_string(&m).map_err(|e| e.to_string())?);
    Ok(())
}

fn deploy_plot(a: &DeployPlotArgs) -> Result<(), String> {
    let text =
        std::fs::read_to_string(&a.results).map_err(|e| format!("{}: {e}", a.results.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", a.results.display()))?;
    let all = v["runs"].as_array().cloned().unwrap_or_default();
    // Of each configuration's rounds, the one with the median J.
    let mut runs: Vec<serde_json::Value> = Vec::new();
    for r in &all {
        let config = &r["config"];
        if runs.iter().any(|x| &x["config"] == config) {
            continue;
        }
        let mut rounds: Vec<&serde_json::Value> =
            all.iter().filter(|x| &x["config"] == config).collect();
        let j = |x: &serde_json::Value| {
            x["stream"]["metrics"]["jitter_mean"]
                .as_f64()
                .unwrap_or(0.0)
        };
        rounds.sort_by(|a, b| j(a).total_cmp(&j(b)));
        runs.push(rounds[(rounds.len() - 1) / 2].clone());
    }
    // (label, values in ms) of one distribution per run; `scale` turns the
    // stored unit into ms.
    let series = |pick: &dyn Fn(&serde_json::Value) -> &serde_json::Value, scale: f64| {
        runs.iter()
            .map(|r| {
                let values = pick(r)
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|x| x.as_f64())
                            .map(|x| x * scale)
                            .collect()
                    })
                    .unwrap_or_default();
                (r["config"].as_str().unwrap_or("?").to_string(), values)
            })
            .collect::<Vec<(String, Vec<f64>)>>()
    };
    std::fs::create_dir_all(&a.dir).map_err(|e| format!("{}: {e}", a.dir.display()))?;
    let trace = runs
        .first()
        .and_then(|r| r["trace"].as_str())
        .unwrap_or("?");
    plot::cdf_f64(
        &a.dir.join("deploy-delay.png"),
        &format!(
            "{trace} from a guest to dom0 beside two CPU hogs: one-way delay (median-J round)"
        ),
        "delay above the run's smallest (ms), percentiles 0..100",
        &series(&|r| &r["stream"]["delay_cdf"], 1e-6),
    )?;
    plot::cdf_f64(
        &a.dir.join("deploy-ping.png"),
        "dom0 pings the streaming guest every 50 ms (median-J round)",
        "round trip (ms), percentiles 0..100",
        &series(&|r| &r["ping"]["cdf"], 1.0),
    )
}

fn bench_report(a: &BenchReportArgs) -> Result<(), String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&a.runs)
        .map_err(|e| format!("runs {}: {e}", a.runs.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    // The page's order, whatever the files are called.
    let order = bench::EXPERIMENTS;
    let rank = |p: &PathBuf| {
        let stem = p.file_stem().map(|s| s.to_string_lossy().into_owned());
        order
            .iter()
            .position(|o| stem.as_deref() == Some(*o))
            .unwrap_or(order.len())
    };
    files.sort_by_key(|p| (rank(p), p.clone()));
    if files.is_empty() {
        return Err(format!("runs {}: no *.jsonl files", a.runs.display()));
    }
    let mut report = bench::Report::default();
    let mut raw = bench::Raw::default();
    for f in &files {
        bench::read(f, &mut report, &mut raw)?;
    }
    // The experiments not run here keep their last report (and plots).
    let mut carried = Vec::new();
    if let Ok(text) = std::fs::read_to_string(&a.json) {
        let previous: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| format!("previous json {}: {e}", a.json.display()))?;
        let previous: bench::Report = serde_json::from_value(previous["report"].clone())
            .map_err(|e| format!("previous json {}: report: {e}", a.json.display()))?;
        carried = report.carry_over(previous);
    }
    let json = serde_json::json!({ "report": report, "bars": bench::bars(&report) });
    std::fs::write(
        &a.json,
        serde_json::to_string_pretty(&json).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("json {}: {e}", a.json.display()))?;
    std::fs::write(&a.markdown, bench::markdown(&report))
        .map_err(|e| format!("markdown {}: {e}", a.markdown.display()))?;
    std::fs::create_dir_all(&a.plots).map_err(|e| format!("plots {}: {e}", a.plots.display()))?;
    bench::plots(&a.plots, &report, &raw, &carried)
}
