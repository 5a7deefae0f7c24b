//! smooth: a rate limiter whose imposed delay slides smoothly inside a
//! *smooth window* `[dmin, dmax]` instead of swinging with a token bucket.
//!
//! This crate is the one and only copy of the algorithm. It is `no_std`,
//! integer-only (no floats, no allocation; no 128-bit division in what the
//! kernel compiles, which has no `__udivti3`: only the userspace-only unit
//! parsing and printing use `u128`) and is
//! compiled unchanged into the kernel qdisc (`sch_smooth/` includes this file
//! as a module), the `tc` plugin, `tc-smooth` and the simulator.
//!
//! The model, in short (the full specification is `docs/algorithm.md`):
//!
//! * Every departure conforms to a **token bucket** of depth
//!   `σ = rate·burst` refilled at `rate` (kept as GCRA's theoretical
//!   arrival time `tat`): the output needs a bucket of at most
//!   `max(σ, largest packet)` and a backlog gets exactly `rate`.
//! * Within that, each packet's delay is chosen to be the same as its
//!   predecessor's — the **smooth window's** floor — so a burst leaves as
//!   one clump with one delay. The window moves only when it must, which is
//!   the closed loop of consumed versus allocated credit:
//!   - **up** when credit runs short (the bucket holds the packet more than
//!     `window` above the floor): just enough to contain the packet;
//!   - **down** when holding a packet at the floor would let the full
//!     bucket overflow (allocated credit going unused): to the moment the
//!     bucket fills, so the delay slides back at the speed the spare rate
//!     allows, and never by wasting credit.
//! * Traffic whose bursts fit the bucket and whose rate is below `rate`
//!   never meets a raised window: zero added delay.
//! * **Overload** cannot grow delay without bound: a packet whose earliest
//!   conforming departure is more than `max_delay` away is dropped (and
//!   counted); packet and byte limits are counted drops too.

#![cfg_attr(not(any(test, MODULE)), no_std)]
#![forbid(unsafe_code)]

pub mod config;
pub mod shaper;
pub mod stats;
pub mod time;
// Userspace only (tc's words and units); not compiled into the module.
#[cfg(not(MODULE))]
pub mod generated;
#[cfg(not(MODULE))]
pub mod options;
#[cfg(not(MODULE))]
pub mod report;
pub mod uapi;
#[cfg(not(MODULE))]
pub mod units;

// The module names items by their paths; these are for the front ends.
#[cfg(not(MODULE))]
pub use config::{Config, ConfigError, Field, Kind, Param, PARAMS};
#[cfg(not(MODULE))]
pub use shaper::{Backlog, Decision, DropReason, Retime, Shaper, Window};
#[cfg(not(MODULE))]
pub use stats::{DelayHistogram, Stats};
