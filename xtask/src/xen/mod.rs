//! `cargo xtask xen`: the CPU half of smooth. `build` fetches Debian's Xen
//! 4.17.5 source, applies the credit scheduler series in `xen/patches/` and
//! builds the hypervisors and the tools (cached), or checks that every patch
//! builds on its own; `boot` boots the patched debug hypervisor in QEMU with
//! a Linux PV dom0 that runs `xen/tests/` (the Xen stage of
//! `cargo xtask test`, whose tally is `test.rs`'s); `bench` runs issue 15's
//! figures on stock and patched Xen (`cargo xtask bench-xen`): Fig 7 itself,
//! Figs 6, 2, 12, the reserve and the placement through `figs`; `plot`
//! draws Figs 7 and 12.

mod bench;
mod boot;
mod build;
mod deploy;
mod figs;
mod plot;

pub use bench::{bench_xen, Options as BenchOptions};
pub use boot::{failed as failed_tests, run_tests};
pub use build::{check_series, xen, Prebuild};
pub use deploy::bench as bench_deploy;
