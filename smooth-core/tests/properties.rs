//! Property tests of the promises `docs/algorithm.md` states, over random
//! configurations (rates log-uniform over the whole range), packet sizes
//! 1 B … 64 KiB, arrival patterns and parameter changes.
//!
//! The burst bound is checked against an oracle independent of the
//! shaper's code: the token-bucket depth the departures need, sup over all
//! windows, computed by brute force in exact integer arithmetic.

use proptest::prelude::*;
use smooth_core::time::{transmit_time, NSEC_PER_MSEC, NSEC_PER_SEC};
use smooth_core::uapi::{self, Value};
use smooth_core::units::{self, Rate, Time};
use smooth_core::{Backlog, Config, Decision, Shaper};
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
        0u64..=500 * NSEC_PER_MSEC,
        1u64..=2_000,
    )
        .prop_map(|(rate, window, burst, max_ms)| Config {
            rate,
            window,
            burst,
            max_delay: (max_ms * NSEC_PER_MSEC).max(window),
            limit: Config::MAX_LIMIT,
            limit_bytes: 0,
        })
}

/// Arrivals: (gap before the packet in ns, length in bytes).
fn arrivals(max_gap: u64) -> impl Strategy<Value = Vec<(u64, u32)>> {
    prop::collection::vec((0..=max_gap, 1u32..=65_536), 1..300)
}

/// One admitted packet.
#[derive(Clone, Copy, Debug)]
struct Admitted {
    arrival: u64,
    release: u64,
    len: u32,
    /// The window right after its admission.
    window: (u64, u64),
    /// The configuration it was admitted under.
    cfg: Config,
}

/// Replays arrivals through a shaper owning a FIFO, as the qdisc does;
/// `change` switches the configuration before the packet with that index
/// and re-times the queue (the admitted packets' records with it).
fn replay(cfg: Config, input: &[(u64, u32)], change: Option<(usize, Config)>) -> Vec<Admitted> {
    let mut shaper = Shaper::new(cfg, 0);
    // (release, arrival, length, index in `out`)
    let mut queue: VecDeque<(u64, u64, u32, usize)> = VecDeque::new();
    let mut backlog = 0u64;
    let mut now = 0u64;
    let mut out: Vec<Admitted> = Vec::new();
    for (i, &(gap, len)) in input.iter().enumerate() {
        now += gap;
        while let Some(&(release, enq, l, _)) = queue.front() {
            if release > now {
                break;
            }
            queue.pop_front();
            backlog -= u64::from(l);
            shaper.dequeued(release, enq, release);
        }
        if let Some((at, c)) = change {
            if at == i {
                let retime = shaper.change(c, now);
                for q in queue.iter_mut() {
                    q.0 = retime.release(q.0);
                    out[q.3].release = q.0;
                }
            }
        }
        let b = Backlog {
            packets: queue.len() as u32,
            bytes: backlog,
        };
        if let Decision::Release { at } = shaper.enqueue(now, len, b) {
            queue.push_back((at, now, len, out.len()));
            backlog += u64::from(len);
            let w = shaper.window();
            out.push(Admitted {
                arrival: now,
                release: at,
                len,
                window: (w.min, w.max),
                cfg: *shaper.config(),
            });
        }
    }
    out
}

/// The token-bucket depth at `rate` the departures need, sup over all
/// windows `[d_i, d_j]`: max of `Σ len − rate·(d_j − d_i)`, in bytes·ns
/// (scaled by 10⁹ so it is exact), by brute force.
fn needed_depth_scaled(departures: &[(u64, u32)], rate: u64) -> u128 {
    let mut best = 0u128;
    for i in 0..departures.len() {
        let mut bytes = 0u128;
        for j in i..departures.len() {
            bytes += u128::from(departures[j].1) * u128::from(NSEC_PER_SEC);
            let credit = u128::from(rate) * u128::from(departures[j].0 - departures[i].0);
            best = best.max(bytes.saturating_sub(credit));
        }
    }
    best
}

/// The documented bound, scaled like [`needed_depth_scaled`]:
/// `max(rate·burst, largest packet)`.
fn bound_scaled(cfg: &Config, largest: u32) -> u128 {
    (u128::from(cfg.rate) * u128::from(cfg.burst))
        .max(u128::from(largest) * u128::from(NSEC_PER_SEC))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Releases keep arrival order, never precede arrival, never wait more
    /// than `max_delay`; every packet lies inside the window as it stands
    /// after its admission; and the output conforms to a token bucket of
    /// depth `max(rate·burst, largest packet)` over every window.
    #[test]
    fn order_delay_window_and_bucket_bounds(cfg in config(), input in arrivals(20 * NSEC_PER_MSEC)) {
        let run = replay(cfg, &input, None);
        let mut last = 0;
        for p in &run {
            prop_assert!(p.release >= p.arrival && p.release >= last);
            let delay = p.release - p.arrival;
            prop_assert!(delay <= cfg.max_delay);
            prop_assert!(p.window.0 <= delay && delay <= p.window.1, "{p:?}");
            prop_assert!(p.window.1 <= cfg.max_delay);
            last = p.release;
        }
        let deps: Vec<(u64, u32)> = run.iter().map(|p| (p.release, p.len)).collect();
        let largest = deps.iter().map(|d| d.1).max().unwrap_or(0);
        prop_assert!(needed_depth_scaled(&deps, cfg.rate) <= bound_scaled(&cfg, largest));
    }

    /// Traffic that itself conforms to the bucket — whose bursts fit
    /// `rate·burst` and whose rate stays below `rate` — leaves with zero
    /// added delay and nothing dropped.
    #[test]
    fn conforming_traffic_passes_untouched(
        cfg in config(),
        gaps in prop::collection::vec((0u64..=3, 1u32..=65_536), 1..300),
    ) {
        // Each packet arrives at or after the moment a token bucket
        // (rate·burst, rate) has credit for it; the extra gap (0–3 × the
        // packet's own transmit time) varies the pattern. One more ns per
        // packet covers the shaper's rounding: it charges each packet its
        // transmit time rounded up to whole ns.
        let bucket = u128::from(cfg.rate) * u128::from(cfg.burst);
        let mut input = Vec::new();
        let (mut t, mut tokens, mut last, mut prev_arrival) = (0u64, bucket, 0u64, 0u64);
        for &(extra, len) in &gaps {
            let need = u128::from(len) * u128::from(NSEC_PER_SEC);
            if need > bucket {
                continue; // larger than the bucket: cannot conform
            }
            let short = need.saturating_sub(tokens);
            let wait = short.div_ceil(u128::from(cfg.rate)) as u64;
            t += wait + extra * transmit_time(len.into(), cfg.rate);
            tokens = (tokens + u128::from(cfg.rate) * u128::from(t - last)).min(bucket) - need;
            last = t;
            let arrival = t + input.len() as u64 + 1;
            input.push((arrival - prev_arrival, len));
            prev_arrival = arrival;
        }
        let run = replay(cfg, &input, None);
        prop_assert_eq!(run.len(), input.len());
        for p in &run {
            prop_assert_eq!(p.release, p.arrival, "{:?}", p);
        }
    }

    /// A change of parameters at any point keeps order and the bounds of
    /// the configurations involved: a packet admitted after it waits at
    /// most the new `max_delay`; one queued across it at most its own,
    /// stretched by a rate cut (its wait ahead is re-timed at the new
    /// rate); and everything that leaves from the change on — the
    /// re-timed queue and what follows — needs no deeper bucket at the new
    /// rate than the larger of the two bounds, except that a packet larger
    /// than the new bucket may add what a shrinking bucket forgave (the
    /// bucket keeps its content in bytes up to its new depth; one byte of
    /// slack for the rounding).
    #[test]
    fn changes_keep_the_bounds(a in config(), b in config(), input in arrivals(10 * NSEC_PER_MSEC), at in 0usize..300) {
        let run = replay(a, &input, Some((at, b)));
        let changed_at = input.iter().take(at + 1).map(|p| p.0).sum::<u64>();
        let changed = at < input.len();
        let mut last = 0;
        for p in &run {
            prop_assert!(p.release >= p.arrival && p.release >= last, "{p:?}");
            let delay = u128::from(p.release - p.arrival);
            if p.cfg == b && changed && p.arrival >= changed_at {
                prop_assert!(delay <= u128::from(b.max_delay));
            } else {
                // Stretched by at most a / b (plus a ns of rounding).
                let stretch = u128::from(a.rate.max(b.rate));
                prop_assert!(
                    delay * u128::from(b.rate) <= u128::from(a.max_delay) * stretch + u128::from(b.rate),
                    "{p:?}"
                );
            }
            last = p.release;
        }
        let after: Vec<(u64, u32)> = run
            .iter()
            .filter(|p| changed && p.release >= changed_at)
            .map(|p| (p.release, p.len))
            .collect();
        let largest = after.iter().map(|d| d.1).max().unwrap_or(0);
        let slack = u128::from(NSEC_PER_SEC);
        let depth = |c: &Config| u128::from(c.rate) * u128::from(c.burst);
        let oversize = run.iter().any(|p| {
            p.cfg == b && changed && p.arrival >= changed_at
                && u128::from(p.len) * u128::from(NSEC_PER_SEC) > depth(&b)
        });
        let forgiven = if oversize { depth(&a).saturating_sub(depth(&b)) } else { 0 };
        let bound = bound_scaled(&a, largest)
            .max(bound_scaled(&b, largest))
            .max(u128::from(largest) * u128::from(NSEC_PER_SEC) + forgiven);
        prop_assert!(needed_depth_scaled(&after, b.rate) <= bound + slack);
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
    fn units_round_trip(rate in 1u64..=Config::MAX_RATE, ns in any::<u64>()) {
        prop_assert_eq!(units::parse_rate(&Rate(rate).to_string()), Ok(rate));
        prop_assert_eq!(units::parse_time(&Time(ns).to_string()), Ok(ns));
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
