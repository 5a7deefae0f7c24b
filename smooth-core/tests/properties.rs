//! Property tests of the promises `docs/algorithm.md` states, over random
//! configurations, packet sizes, arrival patterns and parameter changes.
//!
//! The virtual clock is re-derived here from its definition (an oracle
//! independent of the shaper's code) to check the lead bound.

use proptest::prelude::*;
use smooth_core::time::{transmit_time, NSEC_PER_MSEC, NSEC_PER_USEC};
use smooth_core::uapi::{self, Value};
use smooth_core::units::{self, GainDecimal, Rate, Time};
use smooth_core::{Backlog, Config, Decision, Gain, Shaper};
use std::collections::VecDeque;

/// A rate spread evenly on a log scale over the whole range (uniform
/// sampling would almost never pick a rate slow enough to queue).
fn rate() -> impl Strategy<Value = u64> {
    (0u32..=1000).prop_map(|k| {
        let span = (Config::MAX_RATE as f64 / Config::MIN_RATE as f64).ln();
        let r = Config::MIN_RATE as f64 * (span * f64::from(k) / 1000.0).exp();
        (r as u64).clamp(Config::MIN_RATE, Config::MAX_RATE)
    })
}

/// A random valid configuration (the ranges of `Config::validate`).
fn config() -> impl Strategy<Value = Config> {
    (
        rate(),
        0u64..=20 * NSEC_PER_MSEC,
        0u64..=200 * NSEC_PER_MSEC,
        Config::MIN_INTERVAL..=2 * 1_000 * NSEC_PER_MSEC,
        1u64..=2_000,
        0..=Config::MAX_KP.0,
        Config::MIN_KI.0..=Config::MAX_KI.0,
        0..=Config::MAX_KD.0,
    )
        .prop_map(|(rate, window, burst, interval, max_ms, kp, ki, kd)| {
            let max_delay = (max_ms * NSEC_PER_MSEC).max(window).max(burst);
            Config {
                rate,
                window,
                burst,
                interval,
                max_delay,
                limit: 1_000_000,
                limit_bytes: 0,
                kp: Gain(kp),
                ki: Gain(ki),
                kd: Gain(kd),
            }
        })
}

/// Arrivals: (gap before the packet in ns, length in bytes).
fn arrivals(max_gap: u64) -> impl Strategy<Value = Vec<(u64, u32)>> {
    prop::collection::vec((0..=max_gap, 1u32..=65_536), 1..400)
}

/// What one run produced, per admitted packet.
struct Run {
    /// (arrival, release, length, window top at admission, conforming time)
    admitted: Vec<(u64, u64, u32, u64, u64)>,
    offered: usize,
    dropped: u64,
}

/// Replays arrivals through a shaper owning a FIFO, as the qdisc does.
fn replay(cfg: Config, input: &[(u64, u32)]) -> (Shaper, Run) {
    let mut shaper = Shaper::new(cfg, 0);
    let mut queue: VecDeque<(u64, u64, u32)> = VecDeque::new();
    let mut backlog = 0u64;
    let mut now = 0u64;
    let mut vc = 0u64; // the oracle's virtual clock
    let mut run = Run {
        admitted: Vec::new(),
        offered: input.len(),
        dropped: 0,
    };
    for &(gap, len) in input {
        now += gap;
        while let Some(&(release, enq, l)) = queue.front() {
            if release > now {
                break;
            }
            queue.pop_front();
            backlog -= u64::from(l);
            shaper.dequeued(release, enq, release);
        }
        let window_top = {
            // The window the packet meets (a due controller update runs
            // first inside `enqueue`, so take it after a dry tick).
            let mut probe = shaper.clone();
            let _ = probe.enqueue(
                now,
                1,
                Backlog {
                    packets: u32::MAX,
                    bytes: 0,
                },
            );
            probe.window().max
        };
        let b = Backlog {
            packets: queue.len() as u32,
            bytes: backlog,
        };
        match shaper.enqueue(now, len, b) {
            Decision::Release { at } => {
                let conform = vc.max(now);
                vc = conform + transmit_time(len.into(), cfg.rate);
                queue.push_back((at, now, len));
                backlog += u64::from(len);
                run.admitted.push((now, at, len, window_top, conform));
            }
            Decision::Drop(_) => run.dropped += 1,
        }
    }
    (shaper, run)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Releases keep arrival order, never precede arrival, never wait more
    /// than `max_delay`, and never lead the rate by more than `burst`.
    #[test]
    fn delay_and_lead_bounds(cfg in config(), input in arrivals(20 * NSEC_PER_MSEC)) {
        let (shaper, run) = replay(cfg, &input);
        let mut last = 0;
        for &(arrival, release, _, _, conform) in &run.admitted {
            prop_assert!(release >= arrival);
            prop_assert!(release >= last, "releases out of order");
            prop_assert!(release - arrival <= cfg.max_delay, "delay {} > max_delay", release - arrival);
            prop_assert!(conform <= release + cfg.burst, "lead {} > burst", conform - release);
            last = release;
        }
        prop_assert_eq!(run.admitted.len() as u64 + run.dropped, run.offered as u64);
        prop_assert_eq!(shaper.stats().drops(), run.dropped);
        prop_assert!(shaper.window().max <= cfg.max_delay);
    }

    /// The rate promise: bytes released by any time t since the first
    /// arrival t0 are at most R·(t − t0 + burst) plus one packet, and bytes
    /// admitted over the run at most R·(T + max_delay) plus one packet.
    #[test]
    fn bytes_stay_within_rate_plus_slack(cfg in config(), input in arrivals(5 * NSEC_PER_MSEC)) {
        let (_, run) = replay(cfg, &input);
        let Some(&(t0, ..)) = run.admitted.first() else { return Ok(()) };
        let mut releases: Vec<(u64, u32)> = run.admitted.iter().map(|a| (a.1, a.2)).collect();
        releases.sort();
        let mut sent: u128 = 0;
        for &(t, len) in &releases {
            sent += u128::from(len);
            let allowed = u128::from(cfg.rate) * u128::from(t - t0 + cfg.burst) / 1_000_000_000 + 65_536;
            prop_assert!(sent <= allowed, "sent {} by {} > {}", sent, t - t0, allowed);
        }
    }

    /// A flow at or below the rate whose bursts fit the burst allowance
    /// (a (σ, ρ) envelope with ρ ≤ R and σ ≤ R·burst) is never dropped and
    /// no packet's delay exceeds the top of the window it met.
    #[test]
    fn conforming_flow_stays_in_its_window(
        cfg in config(),
        packets in prop::collection::vec((1u32..=1500, 0u64..=3), 1..400),
        load_pct in 10u64..=100,
    ) {
        let cfg = Config { burst: cfg.burst.max(NSEC_PER_MSEC), max_delay: cfg.max_delay.max(cfg.burst.max(NSEC_PER_MSEC)), ..cfg };
        // Token bucket envelope at ρ = load·R, depth σ = R·burst: a packet
        // leaves the source as soon as the bucket allows, in bursts of up to
        // `k` packets.
        let rho = (cfg.rate * load_pct / 100).max(1);
        let sigma = u128::from(cfg.rate) * u128::from(cfg.burst) / 1_000_000_000;
        let mut tokens: u128 = sigma;
        let mut now = 0u64;
        let mut input = Vec::new();
        let mut last = 0u64;
        for (len, idle_ms) in packets {
            if u128::from(len) > sigma {
                continue;
            }
            now += idle_ms * NSEC_PER_MSEC;
            let refill = |from: u64, to: u64| u128::from(rho) * u128::from(to - from) / 1_000_000_000;
            tokens = (tokens + refill(last, now)).min(sigma);
            last = now;
            if tokens < u128::from(len) {
                let need = u128::from(len) - tokens;
                let wait = (need * 1_000_000_000).div_ceil(u128::from(rho)) as u64;
                now += wait;
                tokens = (tokens + refill(last, now)).min(sigma);
                last = now;
            }
            tokens -= u128::from(len).min(tokens);
            input.push((now, len));
        }
        let gaps: Vec<(u64, u32)> = input
            .iter()
            .scan(0u64, |prev, &(t, len)| {
                let gap = t - *prev;
                *prev = t;
                Some((gap, len))
            })
            .collect();
        let (shaper, run) = replay(cfg, &gaps);
        prop_assert_eq!(run.dropped, 0);
        let mut prev_release = 0u64;
        for &(arrival, release, _, top, _) in &run.admitted {
            // Inside the window it met, or right behind the packet ahead
            // (the window moved down while that one was queued). Rounding of
            // the envelope: one microsecond.
            let bound = (top + NSEC_PER_USEC).max(prev_release.saturating_sub(arrival));
            prop_assert!(release - arrival <= bound,
                "delay {} above window top {}", release - arrival, top);
            prev_release = release;
        }
        prop_assert_eq!(shaper.stats().beyond_window, 0);
    }

    /// Changing parameters mid-stream keeps every bound for the packets
    /// admitted under each configuration.
    #[test]
    fn changes_keep_the_bounds(a in config(), b in config(), input in arrivals(10 * NSEC_PER_MSEC), at in 0usize..400) {
        let mut shaper = Shaper::new(a, 0);
        let mut now = 0;
        let mut last = 0;
        for (i, &(gap, len)) in input.iter().enumerate() {
            now += gap;
            if i == at {
                shaper.change(b, now);
            }
            let cfg = *shaper.config();
            if let Decision::Release { at } = shaper.enqueue(now, len, Backlog::default()) {
                prop_assert!(at >= last && at >= now);
                // A queue admitted under the old configuration may hold the
                // first packets behind it: bounded by the larger ceiling.
                prop_assert!(at - now <= a.max_delay.max(b.max_delay));
                let _ = cfg;
                last = at;
            }
        }
        prop_assert!(shaper.window().max <= shaper.config().max_delay);
    }

    /// `dump` is the exact inverse of `change`.
    #[test]
    fn attributes_round_trip(cfg in config()) {
        let encoded: Vec<(u16, Vec<u8>)> = uapi::to_attrs(&cfg)
            .iter()
            .map(|v| match *v {
                Value::U64(t, x) => (t, x.to_ne_bytes().to_vec()),
                Value::U32(t, x) => (t, x.to_ne_bytes().to_vec()),
            })
            .collect();
        let back = uapi::apply(Config::DEFAULT, encoded.iter().map(|(t, p)| (*t, p.as_slice())), true);
        prop_assert_eq!(back, Ok(cfg));
    }

    /// What is printed parses back to the same value.
    #[test]
    fn units_round_trip(rate in 1u64..=Config::MAX_RATE, ns in any::<u64>(), g in 0u32..=65_536) {
        prop_assert_eq!(units::parse_rate(&Rate(rate).to_string()), Ok(rate));
        prop_assert_eq!(units::parse_time(&Time(ns).to_string()), Ok(ns));
        prop_assert_eq!(units::parse_gain(&GainDecimal(Gain(g)).to_string()), Ok(Gain(g)));
    }

    /// Validation accepts a value exactly when it is inside the stated range.
    #[test]
    fn validation_matches_the_ranges(rate in any::<u64>(), window in 0u64..=2_000 * NSEC_PER_MSEC, limit in any::<u32>()) {
        let cfg = Config { rate, window, limit, ..Config::DEFAULT };
        let ok = (Config::MIN_RATE..=Config::MAX_RATE).contains(&rate)
            && window <= cfg.max_delay
            && (1..=Config::MAX_LIMIT).contains(&limit);
        prop_assert_eq!(cfg.validate().is_ok(), ok);
    }
}

/// Backlogged senders get the rate: UDP at 2× and 10× and the rate within
/// ±2 % over 10 s, with drops counted.
#[test]
fn backlogged_sender_gets_the_rate() {
    for rate in [250_000u64, 12_500_000, 1_250_000_000] {
        for factor in [2u64, 10] {
            let cfg = Config::with_rate(rate);
            let len = 1400u32;
            let gap = transmit_time(len.into(), rate * factor);
            let mut shaper = Shaper::new(cfg, 0);
            let mut queue: VecDeque<u64> = VecDeque::new();
            let (mut now, mut sent, mut warm_bytes) = (0u64, 0u64, 0u64);
            let (warm, end) = (NSEC_PER_MSEC * 1000, NSEC_PER_MSEC * 11_000);
            while now < end {
                while queue.front().is_some_and(|&r| r <= now) {
                    let r = queue.pop_front().unwrap();
                    shaper.dequeued(now, r, r);
                    sent += u64::from(len);
                }
                if now < warm {
                    warm_bytes = sent;
                }
                let b = Backlog {
                    packets: queue.len() as u32,
                    bytes: queue.len() as u64 * u64::from(len),
                };
                if let Decision::Release { at } = shaper.enqueue(now, len, b) {
                    queue.push_back(at);
                }
                now += gap;
            }
            let got = (sent - warm_bytes) as f64 / 10.0;
            let ratio = got / rate as f64;
            assert!(
                (0.98..=1.02).contains(&ratio),
                "rate {rate} x{factor}: ratio {ratio:.4}"
            );
            assert!(shaper.stats().drops() > 0);
        }
    }
}
