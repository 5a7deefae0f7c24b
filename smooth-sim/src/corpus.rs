//! The trace corpus: named workloads a sweep can loop over, each made by a
//! generator in [`crate::workload`] or replayed from a real capture under
//! `smooth-sim/corpus/` (made by `cargo xtask corpus`; provenance and
//! measured statistics in `smooth-sim/corpus/README.md`).
//!
//! ```
//! use smooth_sim::corpus;
//! for name in corpus::names() {
//!     match corpus::load(name, 250_000, 10_000_000_000, 1) {
//!         Ok(trace) => assert!(!trace.is_empty()),
//!         Err(e) => assert_eq!(corpus::kind(name), Some(corpus::Kind::Backlogged), "{e}"),
//!     }
//! }
//! ```
//!
//! | name | kind | what | mean |
//! |---|---|---|---|
//! | `paper-vbr` | video | [`workload::vbr`] with [`Video::paper`]: 30 fps, I every 30 frames = 6 P, ±10 %, ≤ 1400 B packets back to back | 0.97 × rate |
//! | `gop12-25fps` | video | [`workload::ts_video`]: 25 fps, GOP 12, I = 5 P, ±10 %, MPEG-TS over UDP (1316 B payloads, 1358 B frames) | 0.97 × rate |
//! | `x264-mandel-30fps` | video | capture: libx264 30 fps RTP, looped | 1.866 Mbit/s (0.933 × 2 Mbit/s), any rate |
//! | `vp8-testsrc2-25fps` | video | capture: libvpx VP8 25 fps RTP, looped | 1.789 Mbit/s (0.895 × 2 Mbit/s), any rate |
//! | `voip-g711` | voip | [`workload::voip`]: one G.711 call, 214 B every 20 ms, ≤ 1 ms late | 85.6 kbit/s, any rate |
//! | `game` | game | [`workload::game`] with [`Game::typical`]: 60 Hz 60–300 B, 1–3 kB snapshot twice a second | 118.4 kbit/s, any rate |
//! | `web` | web | [`workload::web`] with [`Web::typical`]: log-normal responses (median 15 kB, capped 500 kB) in 1514 B frames, Poisson starts | 0.5 × rate |
//! | `udp-backlogged` | backlogged | [`workload::cbr`] of 1514 B at 2 × rate | 2 × rate |
//! | `tcp-backlogged` | backlogged | closed loop: [`offered`] gives `Offered::Tcp` (16 kB window, 1400 B, 20 ms rtt); [`load`] fails | rate |
//!
//! Captures are rate-independent: they were made for a 2 Mbit/s shaper (a
//! mean of 0.85–0.97 × 2 Mbit/s on the wire) and [`load`] returns them
//! unchanged whatever `rate` is; `seed` does not matter to them either. A
//! capture shorter than `duration` is looped: copy k is shifted by k × (the
//! capture's span + one frame interval), so frames keep their spacing
//! across the seam and each copy starts with the capture's first key frame.
//! VoIP and game traffic do not scale with the rate either.

use crate::sim::Offered;
use crate::workload::{self, Game, Trace, Video, Web};
use smooth_core::time::{NSEC_PER_MSEC, NSEC_PER_SEC};

/// What an entry stands for, so a sweep can group results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Video: frames of packets sent back to back.
    Video,
    /// Voice: small packets at a constant interval.
    Voip,
    /// A game's tick stream.
    Game,
    /// Web responses: heavy-tailed bursts.
    Web,
    /// A sender with more to send than the rate.
    Backlogged,
}

/// A real capture in `smooth-sim/corpus/`, compiled in.
struct Capture {
    name: &'static str,
    /// Nominal frame rate (for the loop period).
    fps: u64,
    pcap: &'static [u8],
}

const CAPTURES: &[Capture] = &[
    Capture {
        name: "x264-mandel-30fps",
        fps: 30,
        pcap: include_bytes!("../corpus/x264-mandel-30fps.pcap"),
    },
    Capture {
        name: "vp8-testsrc2-25fps",
        fps: 25,
        pcap: include_bytes!("../corpus/vp8-testsrc2-25fps.pcap"),
    },
];

/// The range a capture's mean rate (bytes on the wire over its loop
/// period) lies in, as a fraction of 2 Mbit/s.
pub const CAPTURE_LOAD: (f64, f64) = (0.85, 0.97);

/// The rate the captures were made for, bytes/s (2 Mbit/s).
pub const CAPTURE_RATE: u64 = 250_000;

const NAMES: &[&str] = &[
    "paper-vbr",
    "gop12-25fps",
    "x264-mandel-30fps",
    "vp8-testsrc2-25fps",
    "voip-g711",
    "game",
    "web",
    "udp-backlogged",
    "tcp-backlogged",
];

/// Every entry's name, in a fixed order.
pub fn names() -> &'static [&'static str] {
    NAMES
}

/// An entry's kind; `None` for an unknown name.
pub fn kind(name: &str) -> Option<Kind> {
    Some(match name {
        "paper-vbr" | "gop12-25fps" => Kind::Video,
        "voip-g711" => Kind::Voip,
        "game" => Kind::Game,
        "web" => Kind::Web,
        "udp-backlogged" | "tcp-backlogged" => Kind::Backlogged,
        _ if capture(name).is_some() => Kind::Video,
        _ => return None,
    })
}

fn capture(name: &str) -> Option<&'static Capture> {
    CAPTURES.iter().find(|c| c.name == name)
}

/// `frac × rate`, rounded, at least 1 byte/s.
fn scaled(rate: u64, frac: f64) -> u64 {
    ((rate as f64 * frac).round() as u64).max(1)
}

/// The entry `name` as an open-loop trace for a shaper configured at `rate`
/// bytes/s, with arrivals in `[0, duration)` ns, random choices from `seed`.
/// `tcp-backlogged` is closed-loop and has no trace: an error (see
/// [`offered`]).
pub fn load(name: &str, rate: u64, duration: u64, seed: u64) -> Result<Trace, String> {
    if rate == 0 {
        return Err("corpus: rate 0".into());
    }
    match name {
        "paper-vbr" => Ok(workload::vbr(
            Video::paper(scaled(rate, 0.97)),
            duration,
            seed,
        )),
        "gop12-25fps" => Ok(workload::ts_video(
            gop12(scaled(rate, 0.97)),
            1316,
            duration,
            seed,
        )),
        "voip-g711" => Ok(workload::voip(
            1,
            214,
            20 * NSEC_PER_MSEC,
            NSEC_PER_MSEC,
            duration,
            seed,
        )),
        "game" => Ok(workload::game(Game::typical(), duration, seed)),
        "web" => Ok(workload::web(
            Web::typical(scaled(rate, 0.5)),
            duration,
            seed,
        )),
        "udp-backlogged" => Ok(workload::cbr(rate.saturating_mul(2), 1514, duration)),
        "tcp-backlogged" => Err(
            "corpus: tcp-backlogged is closed-loop (it reacts to departures) and has no trace; \
             use corpus::offered, which gives sim::Offered::Tcp"
                .into(),
        ),
        _ => match capture(name) {
            Some(c) => {
                let trace = workload::pcap_from(c.pcap, c.name)?;
                Ok(looped(&trace, NSEC_PER_SEC / c.fps, duration))
            }
            None => Err(format!(
                "corpus: no entry {name:?}; there are {}",
                NAMES.join(", ")
            )),
        },
    }
}

/// The entry as what a simulation is offered: [`load`]'s trace, or for
/// `tcp-backlogged` the closed-loop flow `smooth-sim run --workload tcp`
/// uses by default (16 kB window, 1400 B packets, 20 ms round trip).
pub fn offered(name: &str, rate: u64, duration: u64, seed: u64) -> Result<Offered, String> {
    if name == "tcp-backlogged" {
        return Ok(Offered::Tcp {
            window: 16_384,
            mss: 1400,
            rtt: 20 * NSEC_PER_MSEC,
        });
    }
    load(name, rate, duration, seed).map(Offered::Open)
}

/// `gop12-25fps`'s parameters: 25 fps, an I-frame every 12 frames 5 × a
/// P-frame, ±10 %, 1358 B frames (7 × 188 B of transport stream + 8 UDP +
/// 20 IP + 14 Ethernet).
fn gop12(rate: u64) -> Video {
    Video {
        rate,
        fps: 25,
        gop: 12,
        i_to_p: 5,
        mtu: 1316 + 8 + 20 + 14,
        noise: 0.1,
    }
}

/// `trace` (which starts at 0) repeated every `span + gap` ns up to
/// `duration`, or cut there.
fn looped(trace: &Trace, gap: u64, duration: u64) -> Trace {
    let period = trace.last().map_or(0, |p| p.0) + gap;
    let mut out = Vec::new();
    'copies: for k in 0u64.. {
        let shift = k * period;
        for &(t, len) in trace {
            if t + shift >= duration {
                break 'copies;
            }
            out.push((t + shift, len));
        }
    }
    out
}

/// One entry's statistics at `rate` over `duration` (what
/// `smooth-sim corpus` prints): packets, mean rate, lengths and the largest
/// burst (packets less than 1 ms apart: a frame, a response).
pub fn stats_line(name: &str, rate: u64, duration: u64, seed: u64) -> String {
    let Ok(t) = load(name, rate, duration, seed) else {
        return format!("{name:<20} closed loop (no trace)");
    };
    let mut best = (0u64, 0usize);
    let mut cur = (0u64, 0usize);
    for (i, p) in t.iter().enumerate() {
        if i > 0 && p.0 - t[i - 1].0 >= NSEC_PER_MSEC {
            cur = (0, 0);
        }
        cur = (cur.0 + u64::from(p.1), cur.1 + 1);
        best = best.max(cur);
    }
    let bytes: u64 = t.iter().map(|p| u64::from(p.1)).sum();
    let mean = bytes as f64 * NSEC_PER_SEC as f64 / duration.max(1) as f64;
    format!(
        "{name:<20} {:>7}  {:>6.3}  {:>5.3}  {:>4}-{:<4}  {} ({})",
        t.len(),
        mean * 8.0 / 1e6,
        mean / rate as f64,
        t.iter().map(|p| p.1).min().unwrap_or(0),
        t.iter().map(|p| p.1).max().unwrap_or(0),
        best.0,
        best.1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u64 = 250_000; // 2 Mbit/s
    const SECS: u64 = 60;

    /// Mean bytes/s of a trace over `duration` ns.
    fn mean(t: &Trace, duration: u64) -> f64 {
        t.iter().map(|p| f64::from(p.1)).sum::<f64>() * 1e9 / duration as f64
    }

    fn sorted(t: &Trace) -> bool {
        t.windows(2).all(|w| w[0].0 <= w[1].0)
    }

    #[test]
    fn corpus_every_name_loads_sorted_within_the_duration() {
        for &name in names() {
            let k = kind(name).unwrap_or_else(|| panic!("{name}: no kind"));
            match load(name, RATE, SECS * NSEC_PER_SEC, 1) {
                Ok(t) => {
                    assert!(!t.is_empty(), "{name}");
                    assert!(sorted(&t), "{name}");
                    assert!(t.last().unwrap().0 < SECS * NSEC_PER_SEC, "{name}");
                    // Captures hold real frames (42..=1514 B, checked
                    // below); a generator's last packet of a frame may be
                    // shorter (paper-vbr cuts frames at 1400 B as it always has).
                    assert!(t.iter().all(|p| (1..=1514).contains(&p.1)), "{name}");
                }
                Err(e) => {
                    assert_eq!(name, "tcp-backlogged", "{e}");
                    assert_eq!(k, Kind::Backlogged);
                    assert!(e.contains("closed-loop"), "{e}");
                    assert!(matches!(
                        offered(name, RATE, SECS, 1),
                        Ok(Offered::Tcp { .. })
                    ));
                }
            }
        }
        assert_eq!(kind("no-such"), None);
        assert!(load("no-such", RATE, SECS, 1).is_err());
    }

    #[test]
    fn corpus_generators_are_deterministic_for_a_seed() {
        for &name in names() {
            let a = load(name, RATE, 20 * NSEC_PER_SEC, 7);
            let b = load(name, RATE, 20 * NSEC_PER_SEC, 7);
            assert_eq!(a, b, "{name}");
        }
        // ... and the seed matters where there is randomness.
        for name in ["paper-vbr", "gop12-25fps", "voip-g711", "game", "web"] {
            assert_ne!(
                load(name, RATE, 20 * NSEC_PER_SEC, 1),
                load(name, RATE, 20 * NSEC_PER_SEC, 2),
                "{name}"
            );
        }
    }

    #[test]
    fn corpus_mean_rates_are_as_documented() {
        let d = SECS * NSEC_PER_SEC;
        let expect = [
            ("paper-vbr", 0.97 * RATE as f64),
            ("gop12-25fps", 0.97 * RATE as f64),
            ("voip-g711", 214.0 * 50.0),
            ("game", Game::typical().mean_rate()),
            ("web", 0.5 * RATE as f64),
            ("udp-backlogged", 2.0 * RATE as f64),
        ];
        for (name, want) in expect {
            for seed in 1..=3 {
                let got = mean(&load(name, RATE, d, seed).unwrap(), d);
                assert!(
                    (got / want - 1.0).abs() < 0.05,
                    "{name} seed {seed}: {got:.0} B/s, documented {want:.0}"
                );
            }
        }
        // The rate-following entries follow another rate too.
        let got = mean(&load("web", 4 * RATE, d, 1).unwrap(), d);
        assert!((got / (2.0 * RATE as f64) - 1.0).abs() < 0.05, "{got}");
        let got = mean(&load("gop12-25fps", 4 * RATE, d, 1).unwrap(), d);
        assert!((got / (3.88 * RATE as f64) - 1.0).abs() < 0.05, "{got}");
    }

    #[test]
    fn corpus_captures_are_real_and_within_the_documented_load() {
        for c in CAPTURES {
            let raw = workload::pcap_from(c.pcap, c.name).unwrap();
            assert!(raw.len() > 1000, "{}: {} packets", c.name, raw.len());
            assert_eq!(raw[0].0, 0);
            let period = raw.last().unwrap().0 + NSEC_PER_SEC / c.fps;
            // One copy, exactly: the loader returns the capture unchanged.
            assert_eq!(load(c.name, RATE, period, 1).unwrap(), raw, "{}", c.name);
            // The shaper rate does not change a capture.
            assert_eq!(load(c.name, 4 * RATE, period, 1).unwrap(), raw);
            let frac = mean(&raw, period) / CAPTURE_RATE as f64;
            assert!(
                (CAPTURE_LOAD.0..=CAPTURE_LOAD.1).contains(&frac),
                "{}: {frac:.3} × 2 Mbit/s",
                c.name
            );
            assert!(raw.iter().all(|p| (42..=1514).contains(&p.1)));
            // Longer than the capture: looped, the mean kept.
            let long = load(c.name, RATE, 3 * period + period / 2, 1).unwrap();
            assert!(sorted(&long));
            assert!(long.len() > 3 * raw.len() && long.len() < 4 * raw.len());
            assert_eq!(long[raw.len()], (period, raw[0].1));
            let l = mean(&long, 3 * period + period / 2) / CAPTURE_RATE as f64;
            assert!((l / frac - 1.0).abs() < 0.05, "{l} {frac}");
        }
    }

    #[test]
    fn corpus_shapes_are_as_documented() {
        let d = 10 * NSEC_PER_SEC;
        // gop12: 1358 B frames only; an I-frame group every 12 frames.
        let t = load("gop12-25fps", RATE, d, 1).unwrap();
        assert!(t.iter().all(|p| p.1 == 1358));
        let at = |t: &Trace, ns: u64| t.iter().filter(|p| p.0 == ns).count();
        assert!(at(&t, 12 * NSEC_PER_SEC / 25) > 3 * at(&t, 13 * NSEC_PER_SEC / 25));
        // VoIP: 214 B every 20 ms, one packet a slot.
        let t = load("voip-g711", RATE, d, 1).unwrap();
        assert_eq!(t.len(), 500);
        assert!(t.iter().all(|p| p.1 == 214));
        assert!(t.windows(2).all(|w| w[1].0 - w[0].0 > 18 * NSEC_PER_MSEC));
        // Game: 60 ticks a second, small packets, snapshots ≤ 1400 B.
        let t = load("game", RATE, d, 1).unwrap();
        let small = t.iter().filter(|p| p.1 <= 300).count();
        assert!((590..=600).contains(&small), "{small}");
        assert!(t.iter().all(|p| p.1 >= 60 && p.1 <= 1400));
        // Web: full frames and a shorter last one, a few responses a second.
        let t = load("web", RATE, 60 * NSEC_PER_SEC, 1).unwrap();
        let starts = t.windows(2).filter(|w| w[1].0 != w[0].0).count() + 1;
        assert!((100..=300).contains(&starts), "{starts} responses");
        assert!(t.iter().all(|p| p.1 > 54 && p.1 <= 1514));
    }
}
