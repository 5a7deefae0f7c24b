// SPDX-License-Identifier: GPL-2.0

//! sch_smooth: a rate limiter whose imposed delay slides smoothly.
//!
//! A token bucket (netback's `rate=R@50ms`, TBF, HTB) sends a packet that
//! finds credit at once and holds the next for up to a replenish period, so
//! per-packet delay swings between zero and the period, packet by packet.
//! smooth keeps the same token bucket (depth `rate·burst`) on every
//! departure — so its output needs no deeper bucket and a backlog gets
//! exactly the rate — but chooses *when* within what the bucket allows so
//! that the delay changes as little as possible:
//!
//! * enqueue: the packet is given the delay of the *smooth window's* floor
//!   (the delay its predecessor got), so a burst leaves as one clump with
//!   one delay. If the bucket holds it more than `window` above the floor
//!   (credit consumed ahead of allocation), the window rises just enough;
//!   if holding it at the floor would let the full bucket overflow
//!   (allocated credit going unused), it leaves when the bucket fills and
//!   the window slides down to it. The release time is stored in the skb's
//!   qdisc cb and the packet joins a FIFO (release times never go
//!   backwards, so the head is always the next to leave). GSO packets
//!   larger than the bucket are segmented first, as `tbf_segment()` does
//!   (one that cannot be is dropped and counted).
//! * dequeue: the head leaves once its time has come; otherwise the qdisc
//!   watchdog (an hrtimer) is armed for it. No polling, no per-packet timer,
//!   no periodic work: the window moves only on enqueue and on a change.
//! * overload: a packet whose earliest conforming departure is beyond
//!   `max_delay`, or that would exceed `limit`/`limit_bytes`, is dropped
//!   and counted by reason (the reasons add up to the qdisc's drops); a
//!   packet's release time is never more than the `max_delay` in force
//!   when it arrived after its arrival (it leaves late only by the
//!   watchdog's lateness, which the xstats measure), unless a rate cut
//!   stretched the wait it still had.
//! * change: a new rate applies at once, to the queued packets too: their
//!   waits still ahead are re-timed at it (one walk of the queue under the
//!   root lock) and the watchdog re-armed for the head.
//!
//! The algorithm itself is `smooth-core` (compiled in below, the same
//! source the userspace tools and tests use); `qdisc.rs` holds every line
//! of `unsafe`. Parameters and statistics: `docs/qdisc.md`, `docs/uapi.md`.

use kernel::prelude::*;

mod qdisc;

// smooth-core's `pub` items are its userspace API; compiled in here as a
// module they are crate-private, which is all `unreachable_pub` reports.
// What only userspace uses is `cfg(not(MODULE))` in smooth-core.
#[allow(unreachable_pub)]
#[path = "../smooth-core/src/lib.rs"]
mod smooth_core;

use qdisc::{
    Arrival, AttrWriter, Attrs, Enqueued, ExtAck, Head, QdiscOps, Queue, Registration, Skb,
};
use smooth_core::config::Config;
use smooth_core::shaper::{Backlog, Decision, Shaper};
use smooth_core::uapi::{self, OptionError, Value, XStats};

module! {
    type: SmoothModule,
    name: "sch_smooth",
    author: "smooth developers",
    description: "smooth: rate limiting with a smoothly sliding delay",
    license: "GPL",
    // What the qdisc core asks modprobe for when tc names the kind.
    alias: ["net-sch-smooth"],
}

/// Timer slack for the watchdog, as sch_fq's default: 10 µs.
const TIMER_SLACK_NS: u64 = 10_000;

struct Smooth {
    shaper: Shaper,
}

/// Parses `attrs` on top of `base`, reporting the first problem via extack
/// with the attribute at fault.
fn parse(base: Config, attrs: &Attrs<'_>, create: bool, ext: &mut ExtAck) -> Result<Config> {
    let mut iter = attrs.iter();
    let mut last = None;
    let mut malformed = None;
    let result = uapi::apply(
        base,
        core::iter::from_fn(|| match iter.next()? {
            Ok(a) => {
                last = Some(a.at);
                Some((a.kind, a.payload))
            }
            Err(at) => {
                malformed = Some(at);
                None
            }
        }),
        create,
    );
    let result = if malformed.is_some() {
        Err(OptionError::Malformed)
    } else {
        result
    };
    result.map_err(|e| {
        let at = match e {
            // `apply` stopped at the attribute it refused.
            OptionError::Unknown(_) | OptionError::BadLength(..) | OptionError::Duplicate(_) => {
                last
            }
            OptionError::Malformed => malformed.flatten(),
            // A value out of range: its attribute, if this request has it
            // (once: duplicates are refused); else the one that moved its
            // bound (a max_delay below a window the request does not carry).
            OptionError::Invalid(_) | OptionError::Missing(_) => {
                let find = |kind| {
                    attrs
                        .iter()
                        .map_while(|a| a.ok())
                        .find(|a| a.kind == kind)
                        .map(|a| a.at)
                };
                e.attribute()
                    .and_then(find)
                    .or_else(|| e.bounding_attribute().and_then(find))
            }
        };
        ext.set(format_args!("{e}"), at);
        EINVAL
    })
}

impl Smooth {
    /// Queues one packet (a GSO segment, or a packet that needs no
    /// segmenting) with the release time the shaper gives it, or drops it.
    fn enqueue_one(&mut self, q: &mut Queue<'_>, a: Arrival, skb: Skb) -> Enqueued {
        let backlog = Backlog {
            packets: a.packets,
            bytes: a.bytes.into(),
        };
        match self.shaper.enqueue(a.now, a.len, backlog) {
            Decision::Release { at } => q.push_stamped(skb, at, a.now, at > a.now),
            Decision::Drop(_) => q.drop_packet(skb),
        }
    }
}

impl QdiscOps for Smooth {
    const KIND: &'static [u8] = b"smooth";
    const PAD_ATTR: u16 = uapi::attr::PAD;

    fn init(q: &mut Queue<'_>, opts: Option<&Attrs<'_>>, ext: &mut ExtAck) -> Result<Self> {
        let Some(opts) = opts else {
            ext.set(format_args!("rate is required"), None);
            return Err(EINVAL);
        };
        let cfg = parse(Config::DEFAULT, opts, true, ext)?;
        Ok(Smooth {
            shaper: Shaper::new(cfg, q.now()),
        })
    }

    type Options = Config;

    fn options(&self) -> Config {
        *self.shaper.config()
    }

    fn parse(base: Config, opts: &Attrs<'_>, ext: &mut ExtAck) -> Result<Config> {
        parse(base, opts, false, ext)
    }

    fn apply(&mut self, q: &mut Queue<'_>, cfg: Config) {
        let retime = self.shaper.change(cfg, q.now());
        if retime.is_identity() {
            return;
        }
        // A new rate re-times the queue; the watchdog, armed for the old
        // head's time, is moved to the new one (or fires at once).
        if let Some(head) = q.retime(|release| retime.release(release)) {
            q.wake_at(head, TIMER_SLACK_NS);
        }
    }

    fn enqueue(&mut self, q: &mut Queue<'_>, skb: Skb) -> Enqueued {
        let arrival = q.arrival(&skb);
        if arrival.gso && self.shaper.needs_segmentation(arrival.len) {
            let Some(segments) = skb.segment() else {
                self.shaper.segmented(false);
                return q.drop_packet(skb);
            };
            self.shaper.segmented(true);
            return q.enqueue_segments(skb, segments, |q, seg| {
                let a = q.arrival(&seg);
                self.enqueue_one(q, a, seg)
            });
        }
        self.enqueue_one(q, arrival, skb)
    }

    fn dequeue(&mut self, q: &mut Queue<'_>) -> Option<Skb> {
        match q.dequeue_due() {
            Head::Empty => None,
            Head::Waiting { release } => {
                q.wake_at(release, TIMER_SLACK_NS);
                None
            }
            Head::Due {
                skb,
                now,
                release,
                arrival,
            } => {
                self.shaper.dequeued(now, arrival, release);
                Some(skb)
            }
        }
    }

    fn reset(&mut self, q: &mut Queue<'_>) {
        self.shaper.reset(q.now());
    }

    fn dump(&self, w: &mut AttrWriter) -> Result {
        for v in uapi::to_attrs(self.shaper.config()) {
            match v {
                Value::U64(kind, x) => w.put_u64(kind, x, Self::PAD_ATTR)?,
                Value::U32(kind, x) => w.put_u32(kind, x)?,
            }
        }
        Ok(())
    }

    type XStats = [u8; XStats::SIZE];

    fn xstats(&self, now: u64) -> Self::XStats {
        XStats::snapshot(&self.shaper, now).encode()
    }
}

struct SmoothModule {
    _registration: Registration,
}

impl kernel::Module for SmoothModule {
    fn init(module: &'static ThisModule) -> Result<Self> {
        let registration = Registration::new::<Smooth>(module)?;
        pr_info!("smooth qdisc registered\n");
        Ok(SmoothModule {
            _registration: registration,
        })
    }
}
