//! `smooth-nl rate DEV WARM SECS`: the rate a root qdisc sends, from its
//! own byte counter.
//!
//! Waits WARM seconds, reads the root qdisc's byte counter (`TCA_STATS2` /
//! `TCA_STATS_BASIC`: the `qdisc_pkt_len` bytes it dequeued, what a tc rate
//! counts), waits SECS seconds, reads it again and prints bit/s, rounded.
//!
//! Each read is one `RTM_GETQDISC` round trip from this process, stamped
//! with the middle of the round trip. A `tc | jq` pipeline per read takes a
//! varying share of a second under TCG, and where in it the counter is read
//! varies with load: TBF at 4 Mbit/s, whose true rate over 10 s cannot beat
//! the configured one by more than its burst (0.2 %), read at 1.014 of its
//! rate that way on a loaded host.

use crate::Failure;
use smooth_netlink::tc::{self, TcMsg, TC_H_ROOT};
use smooth_netlink::{Socket, NLM_F_ACK, NLM_F_ECHO, NLM_F_REQUEST};
use std::time::{Duration, Instant};

fn seconds(s: &str) -> Result<Duration, Failure> {
    s.parse::<f64>()
        .ok()
        .and_then(|v| Duration::try_from_secs_f64(v).ok())
        .ok_or_else(|| Failure::Usage(format!("\"{s}\" is not a number of seconds")))
}

/// The root qdisc's byte counter, from one `RTM_GETQDISC` round trip.
fn root_qdisc_bytes(sock: &mut Socket, ifindex: u32, seq: u32) -> Result<u64, Failure> {
    let tcm = TcMsg {
        ifindex,
        parent: TC_H_ROOT,
        ..TcMsg::default()
    };
    // A get is answered like a change notification, unicast only on ECHO.
    let flags = NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO;
    let req = tc::message(tc::RTM_GETQDISC, flags, seq, &tcm).finish();
    let failed = |what: String| Failure::Failed(format!("RTM_GETQDISC: {what}"));
    let answer = sock.transact(&req).map_err(|e| failed(e.to_string()))?;
    if answer.ack.error != 0 {
        let errno = answer.ack.errno_name().unwrap_or("errno");
        let text = answer.ack.message.as_deref().unwrap_or("");
        return Err(failed(format!("{errno} ({}) {text}", -answer.ack.error)));
    }
    let mut count = None;
    for r in answer
        .replies
        .iter()
        .filter(|r| r.header.kind == tc::RTM_NEWQDISC)
    {
        let (_, attrs) = tc::parse(&r.message()).map_err(|e| failed(e.to_string()))?;
        count = tc::basic_bytes(attrs)
            .map_err(|e| failed(e.to_string()))?
            .or(count);
    }
    count.ok_or_else(|| failed("no root qdisc statistics (TCA_STATS2) in the answer".into()))
}

/// (instant, bytes): the counter and the middle of the round trip that
/// read it.
fn sample(sock: &mut Socket, ifindex: u32, seq: u32) -> Result<(Instant, u64), Failure> {
    let before = Instant::now();
    let count = root_qdisc_bytes(sock, ifindex, seq)?;
    Ok((before + before.elapsed() / 2, count))
}

/// bit/s from two samples, rounded to the nearest.
pub fn bits_per_second(bytes: u64, over: Duration) -> u64 {
    let ns = over.as_nanos().max(1);
    let num = u128::from(bytes) * 8 * 1_000_000_000;
    ((2 * num + ns) / (2 * ns)) as u64
}

pub fn main(args: &[&str]) -> Result<(), Failure> {
    let [dev, warm, secs] = args else {
        return Err(Failure::Usage("rate takes DEV WARM SECS".into()));
    };
    let (warm, secs) = (seconds(warm)?, seconds(secs)?);
    let ifindex = crate::ifindex(dev)?;
    let mut sock = Socket::route().map_err(|e| Failure::Failed(format!("netlink socket: {e}")))?;
    std::thread::sleep(warm);
    let (t0, b0) = sample(&mut sock, ifindex, 1)?;
    std::thread::sleep(secs);
    let (t1, b1) = sample(&mut sock, ifindex, 2)?;
    println!("{}", bits_per_second(b1.saturating_sub(b0), t1 - t0));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_arithmetic() {
        assert_eq!(bits_per_second(250_000, Duration::from_secs(1)), 2_000_000);
        assert_eq!(
            bits_per_second(5_000_000, Duration::from_secs(10)),
            4_000_000
        );
        // Rounded to the nearest bit/s.
        assert_eq!(bits_per_second(1, Duration::from_secs(3)), 3);
        assert_eq!(bits_per_second(0, Duration::ZERO), 0);
        // 10 Gbit/s for a minute does not overflow.
        assert_eq!(
            bits_per_second(75_000_000_000, Duration::from_secs(60)),
            10_000_000_000
        );
    }

    #[test]
    fn seconds_parse() {
        assert_eq!(seconds("2").ok(), Some(Duration::from_secs(2)));
        assert_eq!(seconds("0.5").ok(), Some(Duration::from_millis(500)));
        assert!(seconds("-1").is_err());
        assert!(seconds("soon").is_err());
    }
}
