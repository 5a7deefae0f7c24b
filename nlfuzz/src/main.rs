//! `smooth-nlfuzz`: a netlink fuzzer for the smooth qdisc.
//!
//! Sends a seeded stream of `RTM_NEWQDISC`/`RTM_DELQDISC` requests for kind
//! `smooth` on one device ([`gen`] says what they are made of), one at a
//! time, and sorts every answer: accepted, refused with an extack message
//! (smooth's own start with `smooth: `), refused without one. smooth
//! promises a message with every refusal (`docs/uapi.md`), so a message-less
//! refusal that can be smooth's fails the run; the core's few bare errnos
//! are counted apart ([`tally::CORE_SILENT`]). smooth's refusals must also
//! carry the extack offset on the attribute at fault wherever one is
//! (`docs/uapi.md`, "Refusals"). At the end a valid replace
//! must be accepted: whatever the stream did, the device still takes a
//! smooth qdisc.
//!
//! Prints progress on stderr and one JSON summary line on stdout; exits 0
//! when all is well, 1 when something is wrong, 2 when it could not run.
//! Kernel warnings (a bad extack offset, a leak, a lockdep splat) are the
//! guest's `/init`'s to catch.

mod gen;
mod mutate;
mod rng;
mod tally;

use clap::Parser;
use smooth_core::config::Config;
use smooth_netlink::socket::TransactError;
use smooth_netlink::{Ack, Error, Socket};
use std::process::ExitCode;
use std::time::{Duration, Instant};
use tally::{Tally, Verdict};

#[derive(Parser)]
#[command(
    name = "smooth-nlfuzz",
    about = "Fuzz the smooth qdisc's netlink interface: random, malformed and mutated \
             RTM_NEWQDISC requests; every refusal must carry an extack message"
)]
struct Args {
    /// The device whose root qdisc is fuzzed (its traffic is shaped by
    /// whatever the stream installs).
    #[arg(long)]
    dev: String,
    /// Requests to send.
    #[arg(long, default_value_t = 100_000)]
    messages: u32,
    /// PRNG seed: the same seed sends the same requests.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop sending after this many seconds, whatever --messages says (0: no
    /// limit). The summary says how many were sent.
    #[arg(long, default_value_t = 0)]
    max_seconds: u64,
    /// Seconds to wait for each answer.
    #[arg(long, default_value_t = 10)]
    reply_timeout: u64,
    /// Print every request and answer (hex) on stderr.
    #[arg(long)]
    verbose: bool,
}

/// How many failing requests are printed in full.
const MAX_REPORTS: u32 = 20;

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Sends `req` and waits for its answer, which must be one `NLMSG_ERROR`.
/// Answers to earlier requests that timed out are skipped. A failure is
/// the kind of trouble, as the summary counts it.
fn exchange(sock: &mut Socket, req: &[u8]) -> Result<Ack, String> {
    match sock.transact(req) {
        Ok(x) => {
            if x.late > 0 {
                eprintln!("nlfuzz: {} late answer(s) skipped", x.late);
            }
            match x.replies.first() {
                Some(r) => Err(format!("reply_type_{}", r.header.kind)),
                None => Ok(x.ack),
            }
        }
        Err(TransactError::Send(e)) => Err(format!("send_error {e}")),
        Err(TransactError::Timeout) => Err("no_reply".into()),
        Err(TransactError::Recv(e)) => Err(format!("recv {e}")),
        Err(TransactError::Truncated(_)) => Err("reply_truncated".into()),
        Err(TransactError::UnexpectedSeq(s)) => Err(format!("unexpected_seq {s}")),
        Err(TransactError::Malformed(Error::Message { .. } | Error::ShortBody { .. })) => {
            Err("reply_short".into())
        }
        Err(TransactError::Malformed(Error::Type { kind, .. })) => {
            Err(format!("reply_type_{kind}"))
        }
        Err(TransactError::Malformed(_)) => Err("reply_tlvs".into()),
        Err(e @ TransactError::BadRequest) => Err(format!("bad_request {e}")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let ifindex = match smooth_netlink::socket::ifindex(&args.dev) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("smooth-nlfuzz: device {}: {e}", args.dev);
            return ExitCode::from(2);
        }
    };
    let timeout = Duration::from_secs(args.reply_timeout.max(1));
    let mut sock = match Socket::route().and_then(|s| s.set_timeout(timeout).map(|()| s)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("smooth-nlfuzz: netlink socket: {e}");
            return ExitCode::from(2);
        }
    };
    let mut gen = gen::Generator::new(args.seed, ifindex);
    let mut tally = Tally::default();
    let mut reports = 0;
    let start = Instant::now();
    let budget = (args.max_seconds > 0).then(|| Duration::from_secs(args.max_seconds));
    let progress_every = (args.messages / 10).max(1);
    let mut stopped_early = false;

    for i in 0..args.messages {
        if budget.is_some_and(|b| start.elapsed() >= b) {
            stopped_early = true;
            break;
        }
        let seq = i + 1;
        let req = gen.next(seq);
        tally.sent(&req);
        let what = format!("request {seq} ({} {})", req.op.name(), req.body.name());
        if args.verbose {
            eprintln!("nlfuzz: {what}: {}", hex(&req.bytes));
        }
        match exchange(&mut sock, &req.bytes) {
            Ok(r) => {
                if args.verbose {
                    eprintln!("nlfuzz:   -> {} {:?}", r.error, r.message);
                }
                let v = tally.answer(&r, &req.bytes);
                let bad = matches!(
                    v,
                    Verdict::RefusedWithoutMessage { core: false }
                        | Verdict::BadOffset
                        | Verdict::WrongOffset
                );
                if bad && reports < MAX_REPORTS {
                    reports += 1;
                    eprintln!(
                        "nlfuzz: FAIL {what}: {} {:?} offset {:?}; request {}",
                        tally::errno_name(-r.error),
                        r.message,
                        r.offset,
                        hex(&req.bytes)
                    );
                }
            }
            Err(kind) => {
                tally.other(kind.split(' ').next().unwrap_or("other"));
                if reports < MAX_REPORTS {
                    reports += 1;
                    eprintln!("nlfuzz: FAIL {what}: {kind}; request {}", hex(&req.bytes));
                }
            }
        }
        if seq % progress_every == 0 {
            let s = start.elapsed().as_secs_f64();
            eprintln!(
                "nlfuzz: {seq} requests in {s:.1} s ({:.0}/s), {} accepted",
                f64::from(seq) / s,
                tally.accepted
            );
        }
    }
    let elapsed = start.elapsed().as_secs_f64();

    // Whatever the stream left behind, a valid smooth must still go in.
    let seq = args.messages.saturating_add(1);
    let final_req = gen::valid_replace(ifindex, seq, &Config::DEFAULT);
    let final_result = match exchange(&mut sock, &final_req) {
        Ok(r) if r.error == 0 => "ack".to_string(),
        Ok(r) => format!(
            "{}: {}",
            tally::errno_name(-r.error),
            r.message.unwrap_or_default()
        ),
        Err(kind) => kind,
    };
    let final_ok = final_result == "ack";

    let mut summary = tally.json();
    summary["requested"] = args.messages.into();
    summary["stopped_early"] = stopped_early.into();
    summary["seed"] = args.seed.into();
    summary["elapsed_s"] = ((elapsed * 10.0).round() / 10.0).into();
    summary["final_replace"] = final_result.into();
    println!("{summary}");

    if tally.clean() && final_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
