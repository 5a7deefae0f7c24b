//! smooth-sim: replays workloads through smooth (the real algorithm,
//! `smooth_core::Shaper`) and through models of the shapers it is measured
//! against — Xen netback's windowed credit, Linux TBF and a virtual-clock
//! pacer (CAKE's shaper) — and measures delay, jitter, rate conformance
//! and burst allowance. See `docs/simulation.md`.

pub mod bench;
pub mod corpus;
pub mod metrics;
pub mod model;
pub mod optimum;
pub mod plot;
pub mod received;
pub mod replay;
pub mod report;
pub mod requests;
pub mod sim;
pub mod sweep;
pub mod workload;
