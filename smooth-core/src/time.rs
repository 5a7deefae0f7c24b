//! Time and credit arithmetic that cannot overflow anywhere in the supported
//! range (8 kbit/s to 100 Gbit/s, packets up to 4 GiB, a u64 ns clock), and
//! never needs a 128-bit division (the kernel has no `__udivti3`).

/// Nanoseconds in a second.
pub const NSEC_PER_SEC: u64 = 1_000_000_000;
/// Nanoseconds in a millisecond.
pub const NSEC_PER_MSEC: u64 = 1_000_000;
/// Nanoseconds in a microsecond.
pub const NSEC_PER_USEC: u64 = 1_000;

/// Time in ns to send `len` bytes at `rate` bytes/s, rounded up so that a
/// stream of packets never exceeds the rate.
///
/// `rate` must be at least 1 and at most `Config::MAX_RATE`; then
/// `(len % rate) * 1e9 < 1.25e10 * 1e9 < 2^64`.
pub fn transmit_time(len: u64, rate: u64) -> u64 {
    debug_assert!(rate > 0 && rate <= super::Config::MAX_RATE);
    let whole = (len / rate).saturating_mul(NSEC_PER_SEC);
    let rest = (len % rate) * NSEC_PER_SEC;
    whole.saturating_add(rest.div_ceil(rate))
}

/// Bytes the rate allocates in `ns` nanoseconds, rounded down.
pub fn credit_bytes(ns: u64, rate: u64) -> u64 {
    debug_assert!(rate <= super::Config::MAX_RATE);
    let secs = ns / NSEC_PER_SEC;
    let rest = ns % NSEC_PER_SEC;
    // rest * rate < 1e9 * 1.25e10 < 2^64.
    secs.saturating_mul(rate)
        .saturating_add(rest * rate / NSEC_PER_SEC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmit_time_examples() {
        // 1500 B at 2 Mbit/s (250 000 B/s) = 6 ms.
        assert_eq!(transmit_time(1500, 250_000), 6 * NSEC_PER_MSEC);
        // 64 KiB at 2 Mbit/s = 262.144 ms: the brief's GSO example.
        assert_eq!(transmit_time(65536, 250_000), 262_144_000);
        // 1 B at 100 Gbit/s rounds up to 1 ns.
        assert_eq!(transmit_time(1, 12_500_000_000), 1);
        // A huge length saturates instead of overflowing.
        assert_eq!(transmit_time(u64::MAX, 1_000), u64::MAX);
    }

    #[test]
    fn credit_is_the_inverse_of_transmit_time() {
        for rate in [1_000u64, 250_000, 125_000_000, 12_500_000_000] {
            for len in [1u64, 64, 1500, 65536] {
                let t = transmit_time(len, rate);
                assert!(credit_bytes(t, rate) >= len);
                assert!(credit_bytes(t.saturating_sub(1), rate) <= len);
            }
        }
        assert_eq!(credit_bytes(u64::MAX, 12_500_000_000), u64::MAX);
    }
}
