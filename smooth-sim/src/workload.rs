//! Traffic offered to a shaper. Open-loop workloads are a sorted list of
//! `(arrival ns, length bytes)` made up front (deterministically, from a
//! seed where there is randomness); the TCP-like flow is closed-loop and
//! reacts to departures (see [`Tcp`]).

use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use smooth_core::time::{transmit_time, NSEC_PER_SEC};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// An open-loop packet list: `(arrival ns, length bytes)`, sorted.
pub type Trace = Vec<(u64, u32)>;

/// Constant bit rate: `size`-byte packets at `rate` bytes/s for `duration`.
pub fn cbr(rate: u64, size: u32, duration: u64) -> Trace {
    let gap = transmit_time(size.into(), rate);
    (0..)
        .map(|i| i * gap)
        .take_while(|&t| t < duration)
        .map(|t| (t, size))
        .collect()
}

/// Video parameters (the paper's RTP stream).
#[derive(Clone, Copy, Debug)]
pub struct Video {
    /// Mean rate, bytes/s.
    pub rate: u64,
    /// Frames per second.
    pub fps: u32,
    /// An I-frame every this many frames.
    pub gop: u32,
    /// I-frame size over P-frame size.
    pub i_to_p: u32,
    /// Largest packet, bytes.
    pub mtu: u32,
    /// Relative frame-size noise, ± (0.1 = ±10 %), uniform.
    pub noise: f64,
}

impl Video {
    /// 30 fps, one I-frame a second six times a P-frame, ≤ 1400 B packets,
    /// ±10 % frame size noise.
    pub fn paper(rate: u64) -> Video {
        Video {
            rate,
            fps: 30,
            gop: 30,
            i_to_p: 6,
            mtu: 1400,
            noise: 0.1,
        }
    }
}

/// Variable bit rate video: each frame is cut into `mtu`-byte packets sent
/// back to back at the frame's time; frame sizes are P or I (every
/// `gop`-th frame) times `1 ± noise`, averaging `v.rate`.
pub fn vbr(v: Video, duration: u64, seed: u64) -> Trace {
    let mut rng = StdRng::seed_from_u64(seed);
    let frames_per_gop = f64::from(v.gop - 1 + v.i_to_p);
    let gop_bytes = v.rate as f64 * f64::from(v.gop) / f64::from(v.fps);
    let p_bytes = gop_bytes / frames_per_gop;
    let mut out = Vec::new();
    for frame in 0u64.. {
        let t = frame * NSEC_PER_SEC / u64::from(v.fps);
        if t >= duration {
            break;
        }
        let base = if frame % u64::from(v.gop) == 0 {
            p_bytes * f64::from(v.i_to_p)
        } else {
            p_bytes
        };
        let noise = if v.noise > 0.0 {
            rng.random_range(-v.noise..v.noise)
        } else {
            0.0
        };
        let mut left = (base * (1.0 + noise)).round().max(1.0) as u64;
        while left > 0 {
            let len = left.min(v.mtu.into()) as u32;
            out.push((t, len));
            left -= u64::from(len);
        }
    }
    out
}

/// On/off bursts: every `period`, `size`-byte packets at `peak` bytes/s for
/// `on` ns, then silence; the start of each burst is jittered by up to 10 %
/// of the period (seeded).
pub fn on_off(peak: u64, size: u32, on: u64, period: u64, duration: u64, seed: u64) -> Trace {
    let mut rng = StdRng::seed_from_u64(seed);
    let gap = transmit_time(size.into(), peak);
    let mut out = Vec::new();
    let mut start = 0;
    while start < duration {
        let shift = rng.random_range(0..=period / 10);
        let mut t = start + shift;
        while t < (start + shift + on).min(duration) {
            out.push((t, size));
            t += gap;
        }
        start += period;
    }
    out
}

/// Reads `(timestamp, original length)` of every packet of a pcap file,
/// times relative to the first packet.
pub fn pcap(path: &std::path::Path) -> Result<Trace, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("pcap {}: {e}", path.display()))?;
    let mut reader = pcap_file::pcap::PcapReader::new(file)
        .map_err(|e| format!("pcap {}: {e}", path.display()))?;
    let mut out: Trace = Vec::new();
    let mut first = None;
    while let Some(p) = reader.next_packet() {
        let p = p.map_err(|e| format!("pcap {}: {e}", path.display()))?;
        let t = p.timestamp.as_nanos() as u64;
        let t0 = *first.get_or_insert(t);
        out.push((t.saturating_sub(t0), p.orig_len));
    }
    // Captures are not always in order; a shaper sees packets in time order.
    out.sort_by_key(|p| p.0);
    if out.is_empty() {
        return Err(format!("pcap {}: no packets", path.display()));
    }
    Ok(out)
}

/// A window-limited sender: keeps at most `window` bytes unacknowledged,
/// sends `mss`-byte packets as soon as the window allows, and a packet's
/// acknowledgement returns `rtt` after it leaves the shaper (self-clocked).
/// A dropped packet is noticed `rtt` after its drop and its bytes leave the
/// window (it counts as lost; the window does not shrink: a receive-window
/// limited flow, not congestion control).
pub struct Tcp {
    window: u64,
    mss: u32,
    rtt: u64,
    end: u64,
    in_flight: u64,
    /// Earliest time the sender may send the next packet (the window has
    /// room since then), or `None` while the window is full.
    ready: Option<u64>,
    acks: BinaryHeap<Reverse<(u64, u32)>>,
}

impl Tcp {
    /// A flow that starts at 0 and stops sending at `end`.
    pub fn new(window: u64, mss: u32, rtt: u64, end: u64) -> Tcp {
        Tcp {
            window,
            mss,
            rtt,
            end,
            in_flight: 0,
            ready: Some(0),
            acks: BinaryHeap::new(),
        }
    }

    /// The next time the flow has something to do (send or take an ack).
    pub fn next_event(&self) -> Option<u64> {
        let ack = self.acks.peek().map(|a| a.0 .0);
        let send = self.ready.filter(|&t| t < self.end);
        match (ack, send) {
            (Some(a), Some(s)) => Some(a.min(s)),
            (a, s) => a.or(s),
        }
    }

    /// Runs the event at `now`; returns the length of a packet to send now.
    pub fn step(&mut self, now: u64) -> Option<u32> {
        if let Some(&Reverse((t, len))) = self.acks.peek() {
            if t <= now {
                self.acks.pop();
                self.in_flight -= u64::from(len);
                self.open(now);
                return None;
            }
        }
        if self.ready.is_some_and(|t| t <= now) && now < self.end {
            self.in_flight += u64::from(self.mss);
            self.ready = None;
            self.open(now);
            return Some(self.mss);
        }
        None
    }

    fn open(&mut self, now: u64) {
        if self.ready.is_none() && self.in_flight + u64::from(self.mss) <= self.window {
            self.ready = Some(now);
        }
    }

    /// A packet left the shaper at `depart`: its ack comes back `rtt` later.
    pub fn departed(&mut self, depart: u64, len: u32) {
        self.acks.push(Reverse((depart + self.rtt, len)));
    }

    /// A packet was dropped at `now`.
    pub fn dropped(&mut self, now: u64, len: u32) {
        self.acks.push(Reverse((now + self.rtt, len)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smooth_core::time::NSEC_PER_MSEC;

    #[test]
    fn cbr_spacing() {
        let t = cbr(250_000, 1000, NSEC_PER_SEC);
        assert_eq!(t.len(), 250);
        assert_eq!(t[1].0, 4 * NSEC_PER_MSEC);
    }

    #[test]
    fn vbr_averages_the_rate_and_has_i_frames() {
        let v = Video::paper(250_000);
        let t = vbr(v, 10 * NSEC_PER_SEC, 1);
        let bytes: u64 = t.iter().map(|p| u64::from(p.1)).sum();
        let rate = bytes as f64 / 10.0;
        assert!((rate / 250_000.0 - 1.0).abs() < 0.02, "{rate}");
        assert!(t.iter().all(|p| p.1 <= 1400));
        let frame0: u64 = t.iter().filter(|p| p.0 == 0).map(|p| u64::from(p.1)).sum();
        let frame1: u64 = t
            .iter()
            .filter(|p| p.0 == NSEC_PER_SEC / 30)
            .map(|p| u64::from(p.1))
            .sum();
        assert!(frame0 > 4 * frame1, "{frame0} {frame1}");
        assert_eq!(vbr(v, NSEC_PER_SEC, 1), vbr(v, NSEC_PER_SEC, 1));
    }

    #[test]
    fn tcp_keeps_its_window_in_flight() {
        let mut tcp = Tcp::new(3000, 1000, 10 * NSEC_PER_MSEC, NSEC_PER_SEC);
        assert_eq!(tcp.next_event(), Some(0));
        assert_eq!(tcp.step(0), Some(1000));
        assert_eq!(tcp.step(0), Some(1000));
        assert_eq!(tcp.step(0), Some(1000));
        assert_eq!(tcp.next_event(), None);
        tcp.departed(5, 1000);
        assert_eq!(tcp.next_event(), Some(10 * NSEC_PER_MSEC + 5));
        assert_eq!(tcp.step(10 * NSEC_PER_MSEC + 5), None);
        assert_eq!(tcp.step(10 * NSEC_PER_MSEC + 5), Some(1000));
    }
}
