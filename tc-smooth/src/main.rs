//! `tc-smooth`: the smooth qdisc's own front end, speaking rtnetlink
//! directly. The UAPI, option words, units and validation come from
//! smooth-core; how options and statistics print comes from the tc plugin's
//! crate; this crate adds the netlink plumbing, attach/detach for a VM's
//! vif, a live view and the man page.

mod cli;
mod nl;
mod ops;
mod show;
mod watch;

use clap::Parser;
use cli::{Cli, Cmd, Place, Placed, Target};
use nl::{Verb, TC_H_ROOT};
use ops::{Directions, Failure, Nl, Result};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn usage(msg: String) -> Failure {
    Failure::Usage(msg)
}

/// Parent and handle of a place, as tc reads them.
fn place_ids(p: &Placed) -> Result<(u32, u32)> {
    let parent = match p.parent {
        Some(id) => nl::parse_tc_id(id).map_err(|e| usage(format!("parent {e}")))?,
        None => TC_H_ROOT,
    };
    let handle = match p.handle {
        Some(id) => nl::parse_qdisc_handle(id).map_err(|e| usage(format!("handle {e}")))?,
        None => 0,
    };
    Ok((parent, handle))
}

async fn verb(verb: Verb, t: &Target) -> Result<()> {
    let (placed, values) = t.resolve(verb == Verb::Add).map_err(usage)?;
    let (parent, handle) = place_ids(&placed)?;
    let mut nl = Nl::connect()?;
    let ifindex = nl.ifindex(placed.dev).await?;
    nl.qdisc(verb, ifindex, parent, handle, &values).await
}

async fn del(p: &Place) -> Result<()> {
    let placed = p.resolve_bare().map_err(usage)?;
    let (parent, handle) = place_ids(&placed)?;
    let mut nl = Nl::connect()?;
    let ifindex = nl.ifindex(placed.dev).await?;
    nl.qdisc(Verb::Del, ifindex, parent, handle, &[]).await
}

async fn smooth_qdiscs(nl: &mut Nl, dev: &str) -> Result<Vec<show::Qdisc>> {
    let ifindex = nl.ifindex(dev).await?;
    Ok(nl
        .qdiscs(ifindex)
        .await?
        .into_iter()
        .filter(|q| q.kind == "smooth")
        .collect())
}

async fn show_cmd(dev: &str, stats: bool, json: bool) -> Result<()> {
    let mut nl = Nl::connect()?;
    let qdiscs = smooth_qdiscs(&mut nl, dev).await?;
    let mut out = std::io::stdout().lock();
    if json {
        let all = show::J::Arr(qdiscs.iter().map(|q| show::to_json(q, stats)).collect());
        let text = serde_json::to_string(&all).map_err(|e| Failure::Other(e.to_string()))?;
        let _ = writeln!(out, "{text}");
    } else {
        for q in &qdiscs {
            let _ = writeln!(out, "{}", show::to_text(q, dev, stats));
        }
    }
    Ok(())
}

/// The root smooth qdisc of `dev` (what watch follows), else the first.
async fn watched(nl: &mut Nl, dev: &str) -> Result<show::Qdisc> {
    let mut qs = smooth_qdiscs(nl, dev).await?;
    let pos = qs.iter().position(|q| q.parent == TC_H_ROOT).unwrap_or(0);
    if qs.is_empty() {
        return Err(Failure::Other(format!("no smooth qdisc on \"{dev}\"")));
    }
    Ok(qs.swap_remove(pos))
}

/// The shortest `watch --interval`: every frame dumps all the host's qdiscs.
const MIN_INTERVAL_NS: u64 = 10_000_000;

/// `watch --interval`, in ns.
fn interval_ns(interval: &str) -> Result<u64> {
    use smooth_core::units::{parse_time, Time, UnitError};
    let problem = match parse_time(interval) {
        Ok(ns) if ns >= MIN_INTERVAL_NS => return Ok(ns),
        Ok(_) => format!("is below {} (a bare number is µs)", Time(MIN_INTERVAL_NS)),
        Err(UnitError::Syntax) => "is not a time like 1s".to_string(),
        Err(e) => format!("is {e}"),
    };
    Err(usage(format!("interval \"{interval}\" {problem}")))
}

async fn watch_cmd(dev: &str, interval: &str, count: Option<u64>, json: bool) -> Result<()> {
    let ns = interval_ns(interval)?;
    let period = Duration::from_nanos(ns);
    let fancy = std::io::stdout().is_terminal() && std::env::var("TERM").is_ok_and(|t| t != "dumb");
    let mut nl = Nl::connect()?;
    let mut prev: Option<(show::Qdisc, Instant)> = None;
    let mut frames = 0u64;
    loop {
        let now = watched(&mut nl, dev).await?;
        let at = Instant::now();
        let secs = prev
            .as_ref()
            .map_or(0.0, |(_, t)| at.duration_since(*t).as_secs_f64());
        let text = if json {
            let time_ns = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64);
            let frame = show::J::Obj(vec![
                ("time_ns".into(), show::J::U(time_ns)),
                ("qdisc".into(), show::to_json(&now, true)),
            ]);
            let line = serde_json::to_string(&frame).map_err(|e| Failure::Other(e.to_string()))?;
            format!("{line}\n")
        } else {
            let frame = watch::render(dev, &now, prev.as_ref().map(|(q, _)| q), secs);
            if fancy {
                format!("\x1b[H\x1b[2J{frame}")
            } else {
                format!("{frame}\n")
            }
        };
        let mut out = std::io::stdout().lock();
        match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
            Ok(()) => {}
            // A closed pipe (`| head`) ends the watch.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            Err(e) => return Err(Failure::Other(format!("cannot write to stdout: {e}"))),
        }
        frames += 1;
        if count.is_some_and(|c| frames >= c) {
            return Ok(());
        }
        prev = Some((now, at));
        tokio::time::sleep(period).await;
    }
}

async fn run(cli: Cli) -> Result<()> {
    match &cli.cmd {
        Cmd::Add(t) => verb(Verb::Add, t).await,
        Cmd::Change(t) => verb(Verb::Change, t).await,
        Cmd::Replace(t) => verb(Verb::Replace, t).await,
        Cmd::Del(p) => del(p).await,
        Cmd::Show { dev, stats, json } => show_cmd(dev.name().map_err(usage)?, *stats, *json).await,
        Cmd::Attach {
            dev,
            params,
            egress,
            ingress,
            ..
        } => {
            // attach installs the whole configuration: the rate is required.
            let cfg = params.config().map_err(usage)?;
            let all = smooth_core::uapi::to_attrs(&cfg);
            let dirs = match (egress, ingress) {
                (true, false) => Directions {
                    egress: true,
                    ingress: false,
                },
                (false, true) => Directions {
                    egress: false,
                    ingress: true,
                },
                _ => Directions {
                    egress: true,
                    ingress: true,
                },
            };
            let dev = dev.name().map_err(usage)?;
            let mut nl = Nl::connect()?;
            ops::attach(&mut nl, dev, &all, dirs).await
        }
        Cmd::Detach { dev } => {
            let dev = dev.name().map_err(usage)?;
            let mut nl = Nl::connect()?;
            ops::detach(&mut nl, dev).await
        }
        Cmd::Watch {
            dev,
            interval,
            count,
            json,
        } => watch_cmd(dev.name().map_err(usage)?, interval, *count, *json).await,
        Cmd::Man => {
            let _ = std::io::stdout().write_all(&cli::man_page());
            Ok(())
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tc-smooth: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = rt.block_on(run(cli)) {
        eprintln!("{e}");
        std::process::exit(e.exit_code());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(interval: &str) -> String {
        match interval_ns(interval) {
            Err(Failure::Usage(m)) => m,
            other => panic!("{interval}: {other:?}"),
        }
    }

    #[test]
    fn watch_interval_is_a_time_of_at_least_10ms() {
        assert_eq!(interval_ns("100ms").ok(), Some(100_000_000));
        assert_eq!(interval_ns("10ms").ok(), Some(10_000_000));
        assert_eq!(
            refused("1"),
            "interval \"1\" is below 10ms (a bare number is µs)"
        );
        assert_eq!(refused("fast"), "interval \"fast\" is not a time like 1s");
        assert_eq!(
            refused("1.5ns"),
            "interval \"1.5ns\" is not a whole number of ns"
        );
    }
}
