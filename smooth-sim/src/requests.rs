//! Request/response through a shaper, one request at a time: the closed loop
//! of `ab -c 1` fetching a file (E2). Only the server → client way crosses
//! the shaper, as on the vif: the handshake's SYN-ACK, the response and the
//! server's FIN are shaped; the client's packets are not.
//!
//! Each exchange runs: the client connects at `t`; the SYN-ACK reaches the
//! shaper one path later; when it has left and crossed the path the client
//! sends its request; the response reaches the shaper `serve` after that
//! (path and server time), the server's FIN right behind it; the first
//! packet's arrival at the client ends the waiting time, the FIN's ends the
//! exchange (ab reads until the server closes) and the client connects
//! again at once.
//!
//! The per-exchange times come from the caller (in E2, from the unshaped
//! run of the same loop), so the loop keeps what the path and the server
//! contribute and the shaper alone is swapped.

use crate::model::{Departure, Model};

/// Frame lengths of a response of `body` bytes after `header` bytes of
/// HTTP headers: the headers in their own segment (the server writes them
/// first), then the body in `mss`-byte segments, each with `overhead`
/// bytes of TCP/IP/Ethernet headers.
pub fn response_frames(header: u32, body: u32, mss: u32, overhead: u32) -> Vec<u32> {
    let mut frames = vec![header + overhead];
    let mut left = body;
    while left > 0 {
        let seg = left.min(mss);
        frames.push(seg + overhead);
        left -= seg;
    }
    frames
}

/// The path and server times of one exchange, ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Loop {
    /// One way across the path (either direction).
    pub path: u64,
    /// Request sent → response handed to the shaper: path plus server.
    pub serve: u64,
}

/// One exchange as the client saw it, ns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exchange {
    /// Request sent → first byte of the response (ab's "wait").
    pub wait: u64,
    /// Connect → the server's FIN (ab's "ttime").
    pub total: u64,
}

/// The smallest frame (a bare TCP segment: SYN-ACK, FIN), bytes.
pub const BARE_FRAME: u32 = 66;

/// Runs one exchange per element of `loops` through `model`, each response
/// being `frames` (the FIN is added). `None` if the shaper dropped a frame:
/// the loop would then wait on a retransmission, which is not modelled.
pub fn run(model: &mut dyn Model, loops: &[Loop], frames: &[u32]) -> Option<Vec<Exchange>> {
    let mut fifo = Fifo::default();
    let mut t = 0;
    let mut exchanges = Vec::with_capacity(loops.len());
    let mut frames = frames.to_vec();
    frames.push(BARE_FRAME); // the server closes: its FIN follows the response
    for l in loops {
        let connect = t;
        let syn_ack = fifo.pass(model, connect + l.path, &[BARE_FRAME])?;
        let request = syn_ack[0] + l.path;
        let response = fifo.pass(model, request + l.serve, &frames)?;
        let first = response[0] + l.path;
        let fin = response[response.len() - 1] + l.path;
        exchanges.push(Exchange {
            wait: first - request,
            total: fin - connect,
        });
        t = fin;
    }
    Some(exchanges)
}

/// What went into the shaper and what came out: every model is FIFO, so the
/// n-th departure is the n-th frame handed in.
#[derive(Default)]
struct Fifo {
    handed: usize,
    departed: Vec<u64>,
    out: Vec<Departure>,
}

impl Fifo {
    /// Hands `frames` to `model` at `at` (after running its events up to
    /// then) and returns their departure times, in order; `None` if one was
    /// dropped.
    fn pass(&mut self, model: &mut dyn Model, at: u64, frames: &[u32]) -> Option<Vec<u64>> {
        while let Some(e) = model.next_event().filter(|&e| e <= at) {
            model.wake(e, &mut self.out);
        }
        for &len in frames {
            if !model.arrive(at, len, &mut self.out) {
                return None;
            }
        }
        let first = self.handed;
        self.handed += frames.len();
        loop {
            self.departed.extend(self.out.drain(..).map(|d| d.depart));
            if self.departed.len() >= self.handed {
                return Some(self.departed[first..self.handed].to_vec());
            }
            let next = model
                .next_event()
                .expect("a queued frame has a release time");
            model.wake(next, &mut self.out);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Smooth, Tbf};
    use smooth_core::time::{transmit_time, NSEC_PER_MSEC};
    use smooth_core::Config;

    const RATE: u64 = 250_000; // 2 Mbit/s
    const BUCKET: u32 = 12_500; // R × 50 ms

    fn frames() -> Vec<u32> {
        response_frames(200, 8192, 1448, BARE_FRAME)
    }

    fn loops(n: usize) -> Vec<Loop> {
        // Server times of 1–4 ms, a fixed pattern (no seed needed).
        (0..n)
            .map(|i| Loop {
                path: NSEC_PER_MSEC / 2,
                serve: NSEC_PER_MSEC * (2 + (i as u64 * 7) % 4) / 2 + NSEC_PER_MSEC,
            })
            .collect()
    }

    fn median(mut v: Vec<u64>) -> u64 {
        v.sort_unstable();
        v[v.len() / 2]
    }

    #[test]
    fn response_frames_carry_the_body_in_segments() {
        let f = frames();
        assert_eq!(f, vec![266, 1514, 1514, 1514, 1514, 1514, 1018]);
    }

    #[test]
    fn an_unshaped_path_gives_the_loop_back() {
        // A bucket nothing exhausts: every wait is the loop's own.
        let mut tbf = Tbf::new(RATE * 1000, u32::MAX, u64::MAX, 0);
        let l = loops(10);
        let ex = run(&mut tbf, &l, &frames()).unwrap();
        for (e, l) in ex.iter().zip(&l) {
            assert_eq!(e.wait, l.serve + l.path);
            assert_eq!(e.total, 3 * l.path + l.serve);
        }
    }

    /// The mechanism behind E2: the loop keeps the shaper backlogged (a
    /// response every time the last one is through), so every shaper's
    /// exchange takes the response's time at the rate. A token bucket lets
    /// the first segments out on whatever credit is left and paces the rest;
    /// smooth sends the response at the delay the previous one left (one
    /// delay per burst), so the first byte waits about as long as the last.
    #[test]
    fn a_saturated_loop_delays_smooths_first_byte_not_its_last() {
        let l = loops(400);
        let at_rate = frames()
            .iter()
            .map(|&f| transmit_time(u64::from(f), RATE))
            .sum::<u64>();
        let mut tbf = Tbf::new(RATE, BUCKET, u64::MAX, 0);
        let tbf = run(&mut tbf, &l, &frames()).unwrap();
        let cfg = Config {
            rate: RATE,
            burst: transmit_time(u64::from(BUCKET), RATE),
            ..Config::DEFAULT
        };
        let mut smooth = Smooth::new(cfg.validate().unwrap(), 0);
        let smooth = run(&mut smooth, &l, &frames()).unwrap();
        let (tbf, smooth) = (&tbf[100..], &smooth[100..]);
        let total = |ex: &[Exchange]| median(ex.iter().map(|e| e.total).collect());
        let wait = |ex: &[Exchange]| median(ex.iter().map(|e| e.wait).collect());
        // Both are rate-bound: the exchange lasts the response at the rate.
        for t in [total(tbf), total(smooth)] {
            assert!(
                t >= at_rate && t <= at_rate + 8 * NSEC_PER_MSEC,
                "{t} vs {at_rate}"
            );
        }
        // TBF's first byte waits for the loop alone, smooth's for most of the
        // response.
        let unshaped = median(l[100..].iter().map(|l| l.serve + l.path).collect());
        assert!(wait(tbf) <= unshaped + NSEC_PER_MSEC, "{}", wait(tbf));
        assert!(wait(smooth) >= unshaped + at_rate / 3, "{}", wait(smooth));
    }
}
