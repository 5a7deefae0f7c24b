//! `smooth-nl`: the VM tests' raw netlink tool.
//!
//! ```text
//! smooth-nl send DEV add|change|replace [--flat] [--raw-options HEX] ATTR...
//! smooth-nl rate DEV WARM SECS
//! ```
//!
//! `send` puts one hand-built `RTM_NEWQDISC` for a root `smooth` qdisc and
//! prints the kernel's answer, extack included ([`send`]); `rate` prints the
//! rate a root qdisc sends, from its own byte counter ([`rate`]).
//!
//! Exit status: 0 when all went well, 1 when the kernel refused or the
//! measurement failed, 2 on bad usage.

mod rate;
mod send;

use std::process::ExitCode;

const USAGE: &str =
    "usage: smooth-nl send DEV add|change|replace [--flat] [--raw-options HEX] ATTR...\n       \
                     smooth-nl rate DEV WARM SECS";

/// How a command ends: its output is printed already; a message on stderr
/// and the exit status.
pub enum Failure {
    /// Bad usage (exit 2).
    Usage(String),
    /// The kernel said no, or something else went wrong (exit 1).
    Failed(String),
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = match args.split_first() {
        Some((&"send", rest)) => send::main(rest),
        Some((&"rate", rest)) => rate::main(rest),
        Some((&("-h" | "--help" | "help"), _)) => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(Failure::Usage(String::new())),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(m)) => {
            if !m.is_empty() {
                eprintln!("smooth-nl: {m}");
            }
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
        Err(Failure::Failed(m)) => {
            if !m.is_empty() {
                eprintln!("smooth-nl: {m}");
            }
            ExitCode::from(1)
        }
    }
}

/// The interface index of `dev`, or a usage failure naming it.
pub fn ifindex(dev: &str) -> Result<u32, Failure> {
    smooth_netlink::socket::ifindex(dev).map_err(|e| Failure::Usage(format!("device {dev}: {e}")))
}
