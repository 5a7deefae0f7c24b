//! smooth: a rate limiter that keeps every packet's imposed delay inside a
//! sliding *smooth window* `[dmin, dmax]`.
//!
//! This crate is the one and only copy of the algorithm. It is `no_std`,
//! integer-only (no floats, no allocation, no 128-bit division) and is
//! compiled unchanged into the kernel qdisc (`sch_smooth/` includes this file
//! as a module), the `tc` plugin, `tc-smooth` and the simulator.
//!
//! The model, in short (the full specification is `docs/algorithm.md`):
//!
//! * A **virtual clock** `vc` allocates credit at the configured rate `R`:
//!   a packet of `len` bytes arriving at `now` may conform no earlier than
//!   `c = max(vc, now)`, and advances `vc` to `c + len / R`. Its *pacer delay*
//!   is `p = c - now`. The clock restarts at `now` after idle, so idle time
//!   earns no burst (like CAKE's shaper, unlike a token bucket).
//! * The **smooth window** `[pos, pos + width]` bounds what is imposed: the
//!   packet is released after `d = clamp(p, pos, pos + width)`. Within one
//!   adjusting interval the window does not move, so the delays a flow sees
//!   differ by at most `width` — that is the jitter promise.
//! * The window may release a packet early, but never more than `burst`
//!   ahead of its conforming time: `d = max(d, p - burst)`. This bounds the
//!   burst allowance — bytes sent in any span τ are at most
//!   `R·(τ + burst)` plus one packet — and gives a sustained excess (a TCP
//!   flow) a real queue, not only drops at the ceiling.
//! * A packet released before its conforming time consumes credit *ahead*
//!   of allocation (`lead = c - release > 0`); one held past it, *behind*.
//!   Every adjusting interval a **PID controller** (velocity form, Q16 gains)
//!   turns the byte-weighted mean lead into a window movement, so the window
//!   follows the queue's rate-conforming delay and the long-run rate equals
//!   `R`. The position stays in `[0, max_delay - width]`.
//! * **Overload** cannot grow delay without bound: a packet that would have
//!   to wait more than `max_delay` (its pacer delay exceeds
//!   `max_delay + burst`) is dropped (and counted) instead of advancing the
//!   clock; packet and byte limits are counted drops too.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod config;
pub mod controller;
pub mod shaper;
pub mod stats;
pub mod time;
// Userspace only (tc's words and units); not compiled into the module.
#[cfg(not(MODULE))]
pub mod options;
pub mod uapi;
#[cfg(not(MODULE))]
pub mod units;

pub use config::{Config, ConfigError, Field, Gain};
pub use controller::{Controller, ControllerState};
pub use shaper::{Backlog, Decision, DropReason, Shaper, Window};
pub use stats::{DelayHistogram, Stats};
