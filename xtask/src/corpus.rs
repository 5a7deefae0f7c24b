//! `cargo xtask corpus`: regenerates the real video captures of
//! smooth-sim's trace corpus (`smooth-sim/corpus/*.pcap`).
//!
//! For each capture: ffmpeg renders a synthetic source (lavfi) once to a
//! lossless FFV1 file in the cache; then tcpdump starts capturing loopback
//! and ffmpeg encodes that file in real time (`-re`) and streams it as RTP to
//! 127.0.0.1, where a socket of ours drains it. Only headers are kept
//! (`-s 64`), the pcap records the original length. The capture's statistics
//! (packets, mean rate, fps, largest frame, …) are measured from the pcap —
//! frames are told apart by their RTP timestamp — and written, with the exact
//! commands and the tools' versions, into `smooth-sim/corpus/README.md`
//! between per-capture markers. Nothing here is tuned after the fact: what
//! the encoder sent is what is kept.

use crate::deps;
use crate::util::{cache_dir, forward_lines, output, repo_root, run, show};
use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::Duration;

/// Length of every capture, seconds of video: a whole number of GOPs
/// (2 s each for both encoders), so a replay that loops the capture keeps
/// the key-frame cadence.
const SECONDS: u32 = 40;
/// Bytes kept per packet: 14 (loopback's Ethernet-like header) + 20 (IPv4)
/// + 8 (UDP) + 12 (RTP) + 10 of payload, enough for the H.264 NAL / FU-A
///   headers and the VP8 payload descriptor and header.
const SNAPLEN: u32 = 64;
/// RTP video clock, Hz.
const RTP_CLOCK: f64 = 90_000.0;
/// A capture in which some frame left more than this off the RTP clock
/// (median offset removed) is refused: the sender was starved by other work
/// on the capturing machine (seen: stalls of 0.8 s with a TCG guest and a
/// kernel build on the same two cores), which is not the sender's ordinary
/// scheduling noise the corpus means to keep.
const MAX_LATENESS_MS: f64 = 100.0;
/// Attempts per capture before giving up.
const ATTEMPTS: u32 = 3;

#[derive(Clone, Copy, PartialEq)]
enum Codec {
    H264,
    Vp8,
}

/// One capture of the corpus.
struct Capture {
    /// File stem under smooth-sim/corpus/ (and the corpus entry's name).
    name: &'static str,
    codec: Codec,
    /// Nominal frame rate.
    fps: u32,
    /// RTP port on 127.0.0.1 (RTCP goes to port + 1 and is not captured).
    port: u16,
    /// The lavfi source graph.
    source: &'static str,
    /// Encoder options.
    encoder: &'static [&'static str],
}

const CAPTURES: &[Capture] = &[
    Capture {
        name: "x264-mandel-30fps",
        codec: Codec::H264,
        fps: 30,
        port: 15004,
        // A zoom into the Mandelbrot set (every pixel moves, like a camera
        // pan) with testsrc2's moving test card as a picture-in-picture.
        source: "mandelbrot=s=854x480:r=30[bg];testsrc2=s=320x180:r=30[pip];\
                 [bg][pip]overlay=x=W-w-16:y=H-h-16,format=yuv420p",
        // A live-streaming setting: constrained ABR, 2 s VBV buffer, a key
        // frame every 2 s, no B-frames, zero-latency tuning.
        encoder: &[
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-b:v",
            "1.75M",
            "-maxrate",
            "1.75M",
            "-bufsize",
            "3.5M",
            "-g",
            "60",
            "-bf",
            "0",
        ],
    },
    Capture {
        name: "vp8-testsrc2-25fps",
        codec: Codec::Vp8,
        fps: 25,
        port: 15008,
        // testsrc2's test card (mostly static graphics, a moving pattern and
        // counters) with a Mandelbrot zoom in a window: screen-share-like.
        source: "testsrc2=s=854x480:r=25[bg];mandelbrot=s=320x240:r=25[pip];\
                 [bg][pip]overlay=x=W-w-16:y=16,format=yuv420p",
        // libvpx's real-time mode at its fastest speed, CBR, a key frame
        // every 2 s, error-resilient, one thread (a WebRTC-like setting).
        // Slower speeds, and libvpx's default of a thread per CPU, fell
        // behind real time by up to 3 s whenever another process was busy
        // on this 2-core machine; one thread at speed 16 keeps within 25 ms
        // next to two CPU hogs.
        encoder: &[
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "16",
            "-b:v",
            "1.75M",
            "-minrate",
            "1.75M",
            "-maxrate",
            "1.75M",
            "-g",
            "50",
            "-lag-in-frames",
            "0",
            "-error-resilient",
            "1",
            "-threads",
            "1",
        ],
    },
];

/// `cargo xtask corpus [--only NAME]`.
pub fn corpus(only: Option<&str>) -> Result<()> {
    let captures: Vec<&Capture> = CAPTURES
        .iter()
        .filter(|c| only.is_none() || only == Some(c.name))
        .collect();
    if captures.is_empty() {
        let names: Vec<_> = CAPTURES.iter().map(|c| c.name).collect();
        bail!(
            "no capture named {:?}; there are {}",
            only,
            names.join(", ")
        );
    }
    deps::corpus_deps()?;
    let work = cache_dir().join("corpus");
    std::fs::create_dir_all(&work)?;
    let dest = repo_root().join("smooth-sim/corpus");
    std::fs::create_dir_all(&dest)?;
    let tools = Tools::probe()?;
    for c in captures {
        let mut attempt = 1;
        let section = loop {
            match capture(c, &work, &dest, &tools) {
                Ok(s) => break s,
                Err(e) if attempt < ATTEMPTS => {
                    eprintln!("[corpus] {}: attempt {attempt}/{ATTEMPTS}: {e:#}", c.name);
                    attempt += 1;
                }
                Err(e) => return Err(e),
            }
        };
        update_readme(&dest.join("README.md"), c.name, &section)?;
    }
    eprintln!("[corpus] done: {}", dest.display());
    Ok(())
}

/// The versions that went into a capture.
struct Tools {
    ffmpeg: String,
    tcpdump: String,
    kernel: String,
}

impl Tools {
    fn probe() -> Result<Tools> {
        let ffmpeg = output(Command::new("ffmpeg").arg("-version"))?;
        // tcpdump prints its version (and libpcap's) on stdout or stderr
        // depending on the version: take both.
        let td = Command::new("tcpdump").arg("--version").output()?;
        let tcpdump = format!(
            "{}{}",
            String::from_utf8_lossy(&td.stdout),
            String::from_utf8_lossy(&td.stderr)
        );
        Ok(Tools {
            ffmpeg: ffmpeg.lines().next().unwrap_or("").to_string(),
            tcpdump: tcpdump
                .lines()
                .filter(|l| l.starts_with("tcpdump") || l.starts_with("libpcap"))
                .collect::<Vec<_>>()
                .join(", "),
            kernel: output(Command::new("uname").args(["-sr"]))?,
        })
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Renders, streams and captures `c`; copies the pcap and SDP into `dest`;
/// returns its README section.
fn capture(c: &Capture, work: &Path, dest: &Path, tools: &Tools) -> Result<String> {
    let (render, src) = render_source(c, work, tools)?;
    let sinks = Sinks::open(c.port)?;
    let pcap = format!("{}.pcap", c.name);
    let (tcpdump, capturing) = Tcpdump::start(c, work, &pcap)?;
    let sdp = format!("{}.sdp", c.name);
    let mut stream = stream_command(c, work, &src, &sdp);
    let load_before = loadavg();
    eprintln!(
        "[corpus] {}: streaming {SECONDS} s in real time: {}",
        c.name,
        show(&stream)
    );
    let streamed = run(&mut stream);
    let load_after = loadavg();
    // Longer than libpcap's buffer timeout, so the last packets are written.
    thread::sleep(Duration::from_secs(2));
    let captured = capturing.stop();
    drop(sinks);
    streamed?;
    captured?;

    // Measure, copy, describe.
    let bytes = std::fs::read(work.join(&pcap))?;
    let stats = Stats::measure(&bytes, c)?;
    stats.check(c)?;
    std::fs::copy(work.join(&pcap), dest.join(&pcap))?;
    std::fs::copy(work.join(&sdp), dest.join(&sdp))?;
    eprintln!(
        "[corpus] {}: {} packets, {:.3} Mbit/s, {} frames at {:.2} fps, largest frame {} B in {} packets, {} B file",
        c.name,
        stats.packets,
        stats.mean_rate * 8.0 / 1e6,
        stats.frames,
        stats.fps,
        stats.largest_frame.0,
        stats.largest_frame.1,
        bytes.len()
    );
    let date = output(Command::new("date").args(["-u", "+%Y-%m-%d"]))?;
    Ok(section(
        c,
        &render,
        &tcpdump,
        &stream,
        tools,
        &stats,
        bytes.len(),
        &format!("{date}; load average {load_before} before, {load_after} after"),
    ))
}

/// The source, rendered once per (ffmpeg, graph, length) into `work`:
/// returns the command that renders it (as the README shows it, with the
/// file name) and the file's name.
fn render_source(c: &Capture, work: &Path, tools: &Tools) -> Result<(Command, String)> {
    let mut h = Sha256::new();
    h.update(format!("{}\n{}\n{SECONDS}\n", tools.ffmpeg, c.source));
    let key: String = h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let src = format!("src-{}-{key}.mkv", c.name);
    let mut render = Command::new("ffmpeg");
    render
        .current_dir(work)
        .args(["-hide_banner", "-nostats", "-loglevel", "error", "-y"])
        .args(["-f", "lavfi", "-i", c.source])
        .args(["-t", &SECONDS.to_string(), "-c:v", "ffv1"]);
    if work.join(&src).is_file() {
        eprintln!("[corpus] {}: source {src} (cached)", c.name);
    } else {
        eprintln!("[corpus] {}: rendering the source (FFV1, ≈ 1 min)", c.name);
        let tmp = format!("{src}.tmp.mkv");
        run(Command::new("ffmpeg")
            .current_dir(work)
            .args(render.get_args())
            .arg(&tmp))?;
        std::fs::rename(work.join(&tmp), work.join(&src))?;
    }
    render.arg(&src);
    // Into the page cache, so the real-time reader never waits for the disk
    // (a camera would not).
    std::fs::read(work.join(&src)).with_context(|| format!("reading {src}"))?;
    Ok((render, src))
}

/// The encoder, streaming `src` in real time as RTP to `c.port` — at a
/// raised priority (nice -10), as a media sender would run, so a concurrent
/// build does not starve it; its ordinary scheduling noise stays in the
/// timestamps.
fn stream_command(c: &Capture, work: &Path, src: &str, sdp: &str) -> Command {
    let mut stream = Command::new("nice");
    stream
        .current_dir(work)
        .args([
            "-n",
            "-10",
            "ffmpeg",
            "-hide_banner",
            "-nostats",
            "-loglevel",
            "warning",
        ])
        .args(["-re", "-i", src])
        .args(c.encoder)
        .args(["-sdp_file", sdp, "-f", "rtp"])
        .arg(format!("rtp://127.0.0.1:{}", c.port));
    stream
}

/// Sockets on the RTP and RTCP ports that read and drop what arrives, so
/// nothing bounces off a closed port; closed when dropped.
struct Sinks {
    stop: Arc<AtomicBool>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Sinks {
    fn open(port: u16) -> Result<Sinks> {
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for port in [port, port + 1] {
            let sock = UdpSocket::bind(("127.0.0.1", port))
                .with_context(|| format!("binding 127.0.0.1:{port}"))?;
            sock.set_read_timeout(Some(Duration::from_millis(100)))?;
            let stop = stop.clone();
            threads.push(thread::spawn(move || {
                let mut buf = [0u8; 65536];
                while !stop.load(Ordering::Relaxed) {
                    let _ = sock.recv(&mut buf);
                }
            }));
        }
        Ok(Sinks { stop, threads })
    }
}

impl Drop for Sinks {
    /// Closes the sockets (on every path, so a failed attempt frees the ports
    /// for the next).
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            t.join().ok();
        }
    }
}

/// A running tcpdump and what it has said on stderr.
struct Tcpdump {
    child: Child,
    rx: mpsc::Receiver<String>,
    reader: thread::JoinHandle<()>,
    lines: Vec<String>,
}

impl Tcpdump {
    /// Starts capturing `c`'s RTP on loopback into `work/pcap` — headers
    /// only, nanosecond timestamps, each packet handed over at once
    /// (--immediate-mode, so none is left in the ring when it stops), staying
    /// root (-Z root) so it may write into the cache directory — and waits
    /// until it listens. Returns the command too (for the README).
    fn start(c: &Capture, work: &Path, pcap: &str) -> Result<(Command, Tcpdump)> {
        let _ = std::fs::remove_file(work.join(pcap));
        let mut cmd = Command::new("tcpdump");
        cmd.current_dir(work)
            .args(["-i", "lo", "-n", "-U", "--immediate-mode", "-Z", "root"])
            .args(["-s", &SNAPLEN.to_string()])
            .args(["--time-stamp-precision=nano", "-w", pcap])
            .arg(format!("udp dst port {}", c.port));
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start `{}`", show(&cmd)))?;
        let (tx, rx) = mpsc::channel::<String>();
        let reader = forward_lines(child.stderr.take().expect("piped"), tx);
        let mut lines = Vec::new();
        loop {
            match rx.recv_timeout(Duration::from_secs(10)) {
                Ok(line) => {
                    let ready = line.contains("listening on");
                    lines.push(line);
                    if ready {
                        break;
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    bail!("tcpdump did not start: {}", lines.join(" | "));
                }
            }
        }
        let tcpdump = Tcpdump {
            child,
            rx,
            reader,
            lines,
        };
        Ok((cmd, tcpdump))
    }

    /// Stops tcpdump (our child, by its pid) so it writes its statistics;
    /// fails if it failed or the kernel dropped packets.
    fn stop(mut self) -> Result<()> {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let status = self.child.wait()?;
        self.reader.join().ok();
        self.lines.extend(self.rx.try_iter());
        if !status.success() {
            bail!("tcpdump failed ({status}): {}", self.lines.join(" | "));
        }
        let dropped = self
            .lines
            .iter()
            .find_map(|l| l.strip_suffix(" packets dropped by kernel"))
            .and_then(|n| n.trim().parse::<u64>().ok())
            .context("tcpdump printed no drop count")?;
        if dropped > 0 {
            bail!(
                "tcpdump: {dropped} packets dropped by the kernel; run again on a quieter machine"
            );
        }
        Ok(())
    }
}

/// One packet of a classic pcap file.
struct Packet<'a> {
    /// ns since the epoch.
    t: u64,
    orig_len: u32,
    data: &'a [u8],
}

/// Parses a classic (little-endian, µs or ns) pcap file: link type and
/// packets.
fn parse_pcap(b: &[u8]) -> Result<(u32, Vec<Packet<'_>>)> {
    let u32_at = |o: usize| -> u32 { u32::from_le_bytes(b[o..o + 4].try_into().expect("4 bytes")) };
    if b.len() < 24 {
        bail!("pcap: short file");
    }
    let frac_ns = match u32_at(0) {
        0xa1b2_c3d4 => 1000,
        0xa1b2_3c4d => 1,
        m => bail!("pcap: unexpected magic {m:#x}"),
    };
    let link = u32_at(20);
    let mut out = Vec::new();
    let mut o = 24;
    while o + 16 <= b.len() {
        let t = u64::from(u32_at(o)) * 1_000_000_000 + u64::from(u32_at(o + 4)) * frac_ns;
        let incl = u32_at(o + 8) as usize;
        let orig_len = u32_at(o + 12);
        let data = b
            .get(o + 16..o + 16 + incl)
            .context("pcap: truncated record")?;
        out.push(Packet { t, orig_len, data });
        o += 16 + incl;
    }
    out.sort_by_key(|p| p.t);
    Ok((link, out))
}

/// What a capture measures.
struct Stats {
    link: u32,
    packets: usize,
    l2_bytes: u64,
    min_len: u32,
    max_len: u32,
    /// Last packet − first, s.
    span: f64,
    /// span + one nominal frame interval: the period a looped replay uses.
    period: f64,
    /// Bytes/s over `period`.
    mean_rate: f64,
    frames: usize,
    key_frames: usize,
    /// Frames per second of RTP time.
    fps: f64,
    /// (bytes, packets) of the largest frame, and whether it is a key frame.
    largest_frame: (u64, usize, bool),
    mean_key: f64,
    mean_other: f64,
    largest_other: u64,
    /// p50 and max of a frame's send time (first to last packet), µs.
    send_p50: f64,
    send_max: f64,
    /// p99 and max of |frame start − RTP clock − median offset|, ms.
    lateness_p99: f64,
    lateness_max: f64,
    /// RTP sequence steps other than +1.
    seq_breaks: usize,
}

struct Frame {
    rtp: u32,
    start: u64,
    end: u64,
    bytes: u64,
    packets: usize,
    key: bool,
}

impl Stats {
    /// A capture that is not the whole stream, or a sender that fell behind
    /// real time, is not what the corpus promises: fail rather than keep it.
    fn check(&self, c: &Capture) -> Result<()> {
        let want = (SECONDS * c.fps) as usize;
        if self.frames != want {
            bail!(
                "{}: captured {} frames of {want}; run again",
                c.name,
                self.frames
            );
        }
        let behind = self.span - (want - 1) as f64 / f64::from(c.fps);
        if behind.abs() > 0.25 {
            bail!(
                "{}: the stream took {:.3} s for {:.3} s of video: the encoder could not keep real time; \
                 run again on a quieter machine",
                c.name,
                self.span,
                (want - 1) as f64 / f64::from(c.fps)
            );
        }
        if self.lateness_max > MAX_LATENESS_MS {
            bail!(
                "{}: a frame left {:.0} ms off the RTP clock (more than {MAX_LATENESS_MS} ms): the \
                 sender was starved by other work on this machine; run again on a quieter one",
                c.name,
                self.lateness_max
            );
        }
        Ok(())
    }

    fn measure(pcap: &[u8], c: &Capture) -> Result<Stats> {
        let (link, packets) = parse_pcap(pcap)?;
        if link != 1 {
            bail!("pcap: link type {link}, expected 1 (DLT_EN10MB, Linux loopback)");
        }
        if packets.len() < 2 {
            bail!("pcap: {} packets", packets.len());
        }
        let (frames, seq_breaks) = frames(&packets, c.codec)?;
        let t0 = packets[0].t;
        let span = (packets[packets.len() - 1].t - t0) as f64 / 1e9;
        let period = span + 1.0 / f64::from(c.fps);
        let l2_bytes: u64 = packets.iter().map(|p| u64::from(p.orig_len)).sum();
        let rtp0 = frames[0].rtp;
        let rtp_secs = |f: &Frame| f64::from(f.rtp.wrapping_sub(rtp0)) / RTP_CLOCK;
        let fps = (frames.len() - 1) as f64 / rtp_secs(&frames[frames.len() - 1]);
        let largest = frames.iter().max_by_key(|f| f.bytes).expect("frames");
        let mean = |key: bool| {
            let v: Vec<u64> = frames
                .iter()
                .filter(|f| f.key == key)
                .map(|f| f.bytes)
                .collect();
            v.iter().sum::<u64>() as f64 / v.len().max(1) as f64
        };
        let mut send: Vec<f64> = frames
            .iter()
            .map(|f| (f.end - f.start) as f64 / 1e3)
            .collect();
        send.sort_by(f64::total_cmp);
        let mut offsets: Vec<f64> = frames
            .iter()
            .map(|f| (f.start - t0) as f64 / 1e9 - rtp_secs(f))
            .collect();
        offsets.sort_by(f64::total_cmp);
        let median = offsets[offsets.len() / 2];
        let mut late: Vec<f64> = offsets.iter().map(|o| (o - median).abs() * 1e3).collect();
        late.sort_by(f64::total_cmp);
        let pct =
            |v: &[f64], q: f64| v[((v.len() as f64 * q).ceil() as usize).clamp(1, v.len()) - 1];
        Ok(Stats {
            link,
            packets: packets.len(),
            l2_bytes,
            min_len: packets.iter().map(|p| p.orig_len).min().expect("packets"),
            max_len: packets.iter().map(|p| p.orig_len).max().expect("packets"),
            span,
            period,
            mean_rate: l2_bytes as f64 / period,
            frames: frames.len(),
            key_frames: frames.iter().filter(|f| f.key).count(),
            fps,
            largest_frame: (largest.bytes, largest.packets, largest.key),
            mean_key: mean(true),
            mean_other: mean(false),
            largest_other: frames
                .iter()
                .filter(|f| !f.key)
                .map(|f| f.bytes)
                .max()
                .unwrap_or(0),
            send_p50: pct(&send, 0.5),
            send_max: pct(&send, 1.0),
            lateness_p99: pct(&late, 0.99),
            lateness_max: pct(&late, 1.0),
            seq_breaks,
        })
    }
}

/// The packets' frames (told apart by their RTP timestamp) and the number
/// of RTP sequence steps other than +1.
fn frames(packets: &[Packet], codec: Codec) -> Result<(Vec<Frame>, usize)> {
    let mut frames: Vec<Frame> = Vec::new();
    let mut seq_breaks = 0;
    let mut last_seq: Option<u16> = None;
    for p in packets {
        let d = p.data;
        if d.len() < 14 + 20 + 8 + 12 || d[12..14] != [0x08, 0x00] {
            bail!("pcap: a packet that is not IPv4/UDP/RTP");
        }
        let ip = 14;
        let udp = ip + usize::from(d[ip] & 0x0f) * 4;
        let rtp = udp + 8;
        let h = d.get(rtp..).context("pcap: short packet")?;
        if h.len() < 12 || h[0] >> 6 != 2 {
            bail!("pcap: not RTP version 2");
        }
        let seq = u16::from_be_bytes([h[2], h[3]]);
        if last_seq.is_some_and(|s| s.wrapping_add(1) != seq) {
            seq_breaks += 1;
        }
        last_seq = Some(seq);
        let ts = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        let payload = &h[(12 + usize::from(h[0] & 0x0f) * 4).min(h.len())..];
        let key = is_key(codec, payload);
        let len = u64::from(p.orig_len);
        match frames.last_mut() {
            Some(f) if f.rtp == ts => {
                f.end = p.t;
                f.bytes += len;
                f.packets += 1;
                f.key |= key;
            }
            _ => frames.push(Frame {
                rtp: ts,
                start: p.t,
                end: p.t,
                bytes: len,
                packets: 1,
                key,
            }),
        }
    }
    Ok((frames, seq_breaks))
}

/// Whether an RTP payload (as far as the snap length kept it) belongs to a
/// key frame: H.264 (RFC 6184) an IDR slice or SPS, directly, in a STAP-A or
/// a FU-A; VP8 (RFC 7741) the first packet of a frame with the P bit clear.
fn is_key(codec: Codec, p: &[u8]) -> bool {
    match codec {
        Codec::H264 => {
            let nal = |b: u8| matches!(b & 0x1f, 5 | 7);
            match p.first().map(|b| b & 0x1f) {
                Some(24) => p.get(3).is_some_and(|&b| nal(b)),
                Some(28) => p.get(1).is_some_and(|&b| nal(b)),
                Some(_) => nal(p[0]),
                None => false,
            }
        }
        Codec::Vp8 => {
            let Some(&d) = p.first() else { return false };
            // S (start of partition) and partition index 0.
            if d & 0x10 == 0 || d & 0x07 != 0 {
                return false;
            }
            let mut i = 1;
            if d & 0x80 != 0 {
                let Some(&x) = p.get(1) else { return false };
                i = 2;
                if x & 0x80 != 0 {
                    // PictureID, 7 or 15 bits.
                    i += if p.get(i).is_some_and(|b| b & 0x80 != 0) {
                        2
                    } else {
                        1
                    };
                }
                if x & 0x40 != 0 {
                    i += 1; // TL0PICIDX
                }
                if x & 0x30 != 0 {
                    i += 1; // TID / KEYIDX
                }
            }
            p.get(i).is_some_and(|b| b & 0x01 == 0)
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn section(
    c: &Capture,
    render: &Command,
    tcpdump: &Command,
    stream: &Command,
    tools: &Tools,
    s: &Stats,
    file_size: usize,
    when: &str,
) -> String {
    let codec = match c.codec {
        Codec::H264 => "H.264 (libx264)",
        Codec::Vp8 => "VP8 (libvpx)",
    };
    let (lb, lp, lk) = s.largest_frame;
    let quote = |cmd: &Command| {
        let mut s = cmd.get_program().to_string_lossy().into_owned();
        for a in cmd.get_args() {
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains(|ch: char| " ;[]=,#*&|<>()'\"$".contains(ch)) {
                s.push_str(&format!(" '{a}'"));
            } else {
                s.push(' ');
                s.push_str(&a);
            }
        }
        s
    };
    format!(
        "### `{name}.pcap`\n\n\
         {codec}, {fps} fps, RTP over UDP to 127.0.0.1:{port}, captured on `lo` (the SDP is `{name}.sdp`).\n\
         Made by `cargo xtask corpus` on {when}, in `$SMOOTH_CACHE/corpus` (default `~/.cache/smooth/corpus`):\n\n\
         ```sh\n\
         # the source, rendered once to lossless FFV1 (not committed)\n\
         {render}\n\
         # the capture, started first (and stopped with SIGINT 2 s after the encoder exits)\n\
         {tcpdump}\n\
         # the encoder, reading the source at its native frame rate and streaming it\n\
         {stream}\n\
         ```\n\n\
         Tools: {ffmpeg}; {tcpd}; {kernel}.\n\n\
         | measured | value |\n\
         |---|---|\n\
         | link type | {link} (DLT_EN10MB: loopback's 14-byte Ethernet-like header is in every length) |\n\
         | packets | {packets} (RTP sequence breaks: {breaks}) |\n\
         | L2 lengths | {minl}–{maxl} B, {bytes} B in all |\n\
         | span | {span:.3} s first to last packet; loop period {period:.3} s (span + 1/{fps} s) |\n\
         | mean rate | {mbit:.3} Mbit/s over the loop period = {frac:.3} × 2 Mbit/s |\n\
         | frames | {frames} at {mfps:.3} fps (RTP clock), {keys} key frames |\n\
         | largest frame | {lb} B in {lp} packets ({lkind}) |\n\
         | mean frame | key {mk:.0} B, other {mo:.0} B (ratio {ratio:.1}); largest non-key {lo} B |\n\
         | frame send time | p50 {sp50:.0} µs, max {smax:.0} µs (first to last packet of a frame) |\n\
         | frame start vs RTP clock | p99 {lp99:.2} ms, max {lmax:.2} ms (sender scheduling noise, median removed) |\n\
         | file | {file_size} B |\n",
        name = c.name,
        fps = c.fps,
        port = c.port,
        render = quote(render),
        tcpdump = quote(tcpdump),
        stream = quote(stream),
        ffmpeg = tools.ffmpeg,
        tcpd = tools.tcpdump,
        kernel = tools.kernel,
        link = s.link,
        packets = s.packets,
        breaks = s.seq_breaks,
        minl = s.min_len,
        maxl = s.max_len,
        bytes = s.l2_bytes,
        span = s.span,
        period = s.period,
        mbit = s.mean_rate * 8.0 / 1e6,
        frac = s.mean_rate * 8.0 / 2e6,
        frames = s.frames,
        mfps = s.fps,
        keys = s.key_frames,
        lkind = if lk { "a key frame" } else { "not a key frame" },
        mk = s.mean_key,
        mo = s.mean_other,
        ratio = s.mean_key / s.mean_other,
        lo = s.largest_other,
        sp50 = s.send_p50,
        smax = s.send_max,
        lp99 = s.lateness_p99,
        lmax = s.lateness_max,
    )
}

/// Replaces the block between `<!-- BEGIN capture NAME -->` and
/// `<!-- END capture NAME -->` in the README (appending it if absent).
fn update_readme(path: &PathBuf, name: &str, section: &str) -> Result<()> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let begin = format!("<!-- BEGIN capture {name} (generated by `cargo xtask corpus`) -->\n");
    let end = format!("<!-- END capture {name} -->\n");
    let block = format!("{begin}{section}{end}");
    let new = match (text.find(&begin), text.find(&end)) {
        (Some(b), Some(e)) if e > b => format!("{}{block}{}", &text[..b], &text[e + end.len()..]),
        _ => format!("{text}\n{block}"),
    };
    std::fs::write(path, new).with_context(|| format!("writing {}", path.display()))
}
