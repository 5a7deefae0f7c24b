//! A discrete-event simulator of Xen 4.17's credit scheduler on one pCPU,
//! stock and with smooth's real-time series (`xen/patches/`), driven by the
//! workloads of the paper's Xen figures. Integer nanoseconds, deterministic for a
//! seed. See docs/xen-sim.md.

pub mod model;
pub mod report;
pub mod scenario;
pub mod workload;
