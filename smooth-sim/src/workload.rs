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
    let mut out = Vec::new();
    for (t, bytes) in frames(v, v.rate as f64, duration, seed) {
        let mut left = bytes;
        while left > 0 {
            let len = left.min(v.mtu.into()) as u32;
            out.push((t, len));
            left -= u64::from(len);
        }
    }
    out
}

/// The frames of `v` as `(time, bytes)`: P, or I (every `gop`-th frame,
/// from the first) `i_to_p` times as large, times `1 ± noise` (seeded), so
/// that they average `rate` bytes/s.
fn frames(v: Video, rate: f64, duration: u64, seed: u64) -> impl Iterator<Item = (u64, u64)> {
    let mut rng = StdRng::seed_from_u64(seed);
    let frames_per_gop = f64::from(v.gop - 1 + v.i_to_p);
    let p_bytes = rate * f64::from(v.gop) / f64::from(v.fps) / frames_per_gop;
    (0u64..)
        .map(move |frame| (frame, frame * NSEC_PER_SEC / u64::from(v.fps)))
        .take_while(move |&(_, t)| t < duration)
        .map(move |(frame, t)| {
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
            (t, (base * (1.0 + noise)).round().max(1.0) as u64)
        })
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
    pcap_from(file, &path.display().to_string())
}

/// [`pcap`] from any reader (`what` names it in errors): the original
/// length of each packet (the frame as it was on the link, whatever the
/// snap length kept), times relative to the first packet, sorted.
pub fn pcap_from(input: impl std::io::Read, what: &str) -> Result<Trace, String> {
    use pcap_file::TsResolution;
    let mut reader =
        pcap_file::pcap::PcapReader::new(input).map_err(|e| format!("pcap {what}: {e}"))?;
    let frac_ns = match reader.header().ts_resolution {
        TsResolution::MicroSecond => 1000,
        TsResolution::NanoSecond => 1,
    };
    let mut out: Trace = Vec::new();
    let mut first = None;
    // Raw records: pcap-file 2's checked `next_packet` rejects a packet
    // longer than the snap length (`orig_len > snap_len`), i.e. every packet
    // of a headers-only capture (`tcpdump -s 96`), which is what a replay
    // wants.
    while let Some(p) = reader.next_raw_packet() {
        let p = p.map_err(|e| format!("pcap {what}: {e}"))?;
        if p.incl_len > p.orig_len {
            return Err(format!(
                "pcap {what}: a record keeps {} bytes of a {}-byte packet",
                p.incl_len, p.orig_len
            ));
        }
        let t = u64::from(p.ts_sec) * NSEC_PER_SEC + u64::from(p.ts_frac) * frac_ns;
        let t0 = *first.get_or_insert(t);
        out.push((t.saturating_sub(t0), p.orig_len));
    }
    // Captures are not always in order; a shaper sees packets in time order.
    out.sort_by_key(|p| p.0);
    if out.is_empty() {
        return Err(format!("pcap {what}: no packets"));
    }
    Ok(out)
}

/// MPEG-TS-over-UDP-like video: frame sizes as in [`vbr`] (P, or I every
/// `gop`-th frame, times `1 ± noise`), but a transport stream is a constant
/// stream of 188-byte packets sent `payload` bytes (7 × 188 = 1316) to a
/// datagram: each frame's bytes join the stream at the frame's time and
/// every datagram that fills leaves then, back to back, `v.mtu` bytes on the
/// wire (payload + UDP, IP and Ethernet headers: 1358); a frame's last,
/// partial datagram waits for the next frame's bytes. Frame sizes are scaled
/// so that the datagrams, headers included, average `v.rate`.
pub fn ts_video(v: Video, payload: u32, duration: u64, seed: u64) -> Trace {
    assert!(
        payload > 0 && payload <= v.mtu,
        "payload {payload} > mtu {}",
        v.mtu
    );
    let payload_rate = v.rate as f64 * f64::from(payload) / f64::from(v.mtu);
    let mut out = Vec::new();
    let mut pending = 0u64;
    for (t, bytes) in frames(v, payload_rate, duration, seed) {
        pending += bytes;
        while pending >= u64::from(payload) {
            out.push((t, v.mtu));
            pending -= u64::from(payload);
        }
    }
    out
}

/// Voice calls: each of `calls` senders sends a `size`-byte packet every
/// `interval` (G.711 at 20 ms: 160 B of audio + 12 RTP + 8 UDP + 20 IP + 14
/// Ethernet = 214 B), from a start drawn uniformly in `[0, interval)`; every
/// packet leaves up to `noise` ns late (uniform: the sender's scheduling
/// noise). Seeded.
pub fn voip(calls: u32, size: u32, interval: u64, noise: u64, duration: u64, seed: u64) -> Trace {
    assert!(interval > 0 && noise < interval);
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for _ in 0..calls {
        let start = rng.random_range(0..interval);
        for k in 0u64.. {
            let slot = start + k * interval;
            if slot >= duration {
                break;
            }
            let late = if noise > 0 {
                rng.random_range(0..noise)
            } else {
                0
            };
            if slot + late < duration {
                out.push((slot + late, size));
            }
        }
    }
    out.sort_by_key(|p| p.0);
    out
}

/// A game client/server's update stream.
#[derive(Clone, Copy, Debug)]
pub struct Game {
    /// Ticks per second.
    pub tick_hz: u32,
    /// Each tick's packet length, bytes: uniform in `small.0..=small.1`.
    pub small: (u32, u32),
    /// Every this many ticks a state snapshot follows the tick's packet.
    pub snapshot_every: u32,
    /// Snapshot size, bytes: uniform in `snapshot.0..=snapshot.1`.
    pub snapshot: (u32, u32),
    /// Snapshots are cut into packets of at most this many bytes.
    pub mtu: u32,
    /// Each tick leaves up to this many ns late (uniform; sender noise).
    pub noise: u64,
}

impl Game {
    /// 60 Hz; 60–300 B a tick; every 30th tick (twice a second) a
    /// 1000–3000 B snapshot in ≤ 1400 B packets; up to 1 ms late. Mean
    /// 60 × 180 + 2 × 2000 = 14.8 kB/s (118 kbit/s).
    pub fn typical() -> Game {
        Game {
            tick_hz: 60,
            small: (60, 300),
            snapshot_every: 30,
            snapshot: (1000, 3000),
            mtu: 1400,
            noise: NSEC_PER_SEC / 1000,
        }
    }

    /// The mean rate, bytes/s.
    pub fn mean_rate(&self) -> f64 {
        let mid = |r: (u32, u32)| f64::from(r.0 + r.1) / 2.0;
        f64::from(self.tick_hz)
            * (mid(self.small) + mid(self.snapshot) / f64::from(self.snapshot_every))
    }
}

/// A game stream: at every tick one small packet and, every
/// `snapshot_every`-th tick, a snapshot cut evenly into packets of at most
/// `mtu` bytes sent back to back after it. Seeded.
pub fn game(g: Game, duration: u64, seed: u64) -> Trace {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut out = Vec::new();
    for tick in 0u64.. {
        let slot = tick * NSEC_PER_SEC / u64::from(g.tick_hz);
        if slot >= duration {
            break;
        }
        let t = slot
            + if g.noise > 0 {
                rng.random_range(0..g.noise)
            } else {
                0
            };
        let small = rng.random_range(g.small.0..=g.small.1);
        if t >= duration {
            continue;
        }
        out.push((t, small));
        if tick % u64::from(g.snapshot_every) == u64::from(g.snapshot_every) - 1 {
            // Cut evenly: n packets of at most mtu bytes.
            let size = rng.random_range(g.snapshot.0..=g.snapshot.1);
            let n = size.div_ceil(g.mtu);
            for i in 0..n {
                out.push((t, size / n + u32::from(i < size % n)));
            }
        }
    }
    out
}

/// Web server responses.
#[derive(Clone, Copy, Debug)]
pub struct Web {
    /// Mean offered rate, bytes/s on the wire (headers included).
    pub rate: u64,
    /// Median response size, bytes of payload (log-normal).
    pub median: f64,
    /// σ of the log of the response size.
    pub sigma: f64,
    /// Largest response, bytes of payload.
    pub cap: u64,
    /// Payload bytes per packet (TCP MSS: 1460).
    pub mss: u32,
    /// Header bytes per packet (14 Ethernet + 20 IP + 20 TCP = 54), so a
    /// full packet is `mss + header` = 1514 B.
    pub header: u32,
}

impl Web {
    /// Responses of median 15 kB, σ = 1.5 (log-normal; mean ≈ 42 kB once
    /// capped at 500 kB), in 1514 B frames, averaging `rate` bytes/s: at
    /// 0.5 × 2 Mbit/s that is about 3 responses a second.
    pub fn typical(rate: u64) -> Web {
        Web {
            rate,
            median: 15_000.0,
            sigma: 1.5,
            cap: 500_000,
            mss: 1460,
            header: 54,
        }
    }

    /// Bytes on the wire of a `payload`-byte response.
    fn wire(&self, payload: u64) -> u64 {
        payload + u64::from(self.header) * payload.div_ceil(self.mss.into())
    }
}

/// HTTP-like response bursts. Response sizes are drawn (log-normal, capped)
/// until they add up to `w.rate × duration` bytes on the wire — the last
/// one is cut to fit, so the mean rate is exact to within one small packet
/// per run — and each starts at a time uniform in `[0, duration)` (a
/// Poisson process given its count). A response is `mss + header`-byte
/// packets and a shorter last one, all at its start time (back to back, as
/// a server's NIC bursts a large TCP send; TCP's own window and pacing are
/// not modelled). Seeded.
pub fn web(w: Web, duration: u64, seed: u64) -> Trace {
    let mut rng = StdRng::seed_from_u64(seed);
    let target = (u128::from(w.rate) * u128::from(duration) / u128::from(NSEC_PER_SEC)) as u64;
    let full = u64::from(w.mss + w.header);
    let mut sizes = Vec::new();
    let mut left = target;
    while left > u64::from(w.header) {
        // Box–Muller: a standard normal from two uniforms.
        let u1: f64 = 1.0 - rng.random::<f64>();
        let u2: f64 = rng.random::<f64>();
        let z = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        let mut size = ((w.median * (w.sigma * z).exp()).round() as u64).clamp(1, w.cap);
        if w.wire(size) > left {
            // The largest payload whose packets fit in what is left.
            size = left - u64::from(w.header) * left.div_ceil(full);
        }
        if size == 0 {
            break;
        }
        sizes.push(size);
        left -= w.wire(size);
    }
    let mut out = Vec::new();
    for size in sizes {
        let t = rng.random_range(0..duration);
        let mut payload = size;
        while payload > 0 {
            let seg = payload.min(w.mss.into());
            out.push((t, (seg + u64::from(w.header)) as u32));
            payload -= seg;
        }
    }
    // Stable: a response's packets keep their order.
    out.sort_by_key(|p| p.0);
    out
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
    fn pcap_keeps_the_original_length_of_truncated_packets() {
        // A nanosecond pcap (little-endian), snap length 64, Ethernet; two
        // packets of 1514 and 60 bytes, the first truncated to 64.
        let mut f = Vec::new();
        for v in [0xa1b2_3c4du32, 0x0004_0002, 0, 0, 64, 1] {
            f.extend_from_slice(&v.to_le_bytes());
        }
        for (sec, ns, incl, orig) in [(10u32, 999_999_000u32, 64u32, 1514u32), (11, 2_000, 60, 60)]
        {
            for v in [sec, ns, incl, orig] {
                f.extend_from_slice(&v.to_le_bytes());
            }
            f.extend(vec![0u8; incl as usize]);
        }
        let t = pcap_from(&f[..], "test").unwrap();
        assert_eq!(t, vec![(0, 1514), (3_000, 60)]);
        assert!(pcap_from(&f[..30], "test").is_err());
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
