//! Time and credit arithmetic that cannot overflow anywhere in the supported
//! range (8 kbit/s to 100 Gbit/s, packets up to 4 GiB, a u64 ns clock), and
//! never needs a 128-bit division (the kernel has no `__udivti3`); the
//! per-packet path ([`PacketTime`]) needs no division at all.

use super::config::Config;

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
    debug_assert!(rate > 0 && rate <= Config::MAX_RATE);
    let whole = (len / rate).saturating_mul(NSEC_PER_SEC);
    let rest = (len % rate) * NSEC_PER_SEC;
    whole.saturating_add(rest.div_ceil(rate))
}

/// Bytes the rate allocates in `ns` nanoseconds, rounded down.
#[cfg(not(MODULE))]
pub fn credit_bytes(ns: u64, rate: u64) -> u64 {
    debug_assert!(rate <= Config::MAX_RATE);
    let secs = ns / NSEC_PER_SEC;
    let rest = ns % NSEC_PER_SEC;
    // rest * rate < 1e9 * 1.25e10 < 2^64.
    secs.saturating_mul(rate)
        .saturating_add(rest * rate / NSEC_PER_SEC)
}

/// Bytes the rate allocates in `ns` nanoseconds, rounded up: a debt or a
/// wait carried from one rate to another in bytes (never shortened by the
/// rounding).
pub fn credit_bytes_up(ns: u64, rate: u64) -> u64 {
    debug_assert!(rate <= Config::MAX_RATE);
    let secs = ns / NSEC_PER_SEC;
    let rest = ns % NSEC_PER_SEC;
    secs.saturating_mul(rate)
        .saturating_add((rest * rate).div_ceil(NSEC_PER_SEC))
}

/// [`transmit_time`] of a packet at one rate, without a division per packet
/// (the per-packet path; the division is done once, when the rate is set):
/// like the kernel's `psched_ratecfg`, but exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketTime {
    rate: u64,
    /// ⌊10⁹ · 2³² / rate⌋, split in 32-bit halves so that `len` times it
    /// needs no 128-bit arithmetic.
    recip_hi: u64,
    recip_lo: u64,
}

impl PacketTime {
    /// For `rate` bytes/s, between `Config::MIN_RATE` and `Config::MAX_RATE`.
    pub fn new(rate: u64) -> PacketTime {
        debug_assert!((Config::MIN_RATE..=Config::MAX_RATE).contains(&rate));
        // 10⁹ · 2³² < 2^62: no overflow. The rate is validated; the
        // `max` only lets the compiler drop a division-by-zero panic path
        // (which the kernel's objtool cannot follow).
        let recip = (NSEC_PER_SEC << 32) / rate.max(Config::MIN_RATE);
        PacketTime {
            rate,
            recip_hi: recip >> 32,
            recip_lo: recip & 0xffff_ffff,
        }
    }

    /// `transmit_time(len, rate)`, exactly.
    pub fn of(&self, len: u32) -> u64 {
        let len = u64::from(len);
        // The quotient by the reciprocal: recip ≤ 10⁹·2³²/rate exactly, and
        // by less than 1, so q ≤ ⌊len·10⁹/rate⌋ by less than len/2³² < 1:
        // at most one short. recip_hi < 2^20 (rate ≥ 1000), so neither
        // product overflows.
        let mut q = len * self.recip_hi + ((len * self.recip_lo) >> 32);
        let n = len * NSEC_PER_SEC;
        let mut r = n - q * self.rate;
        if r >= self.rate {
            q += 1;
            r -= self.rate;
        }
        q + u64::from(r != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packet_time_is_transmit_time_exactly() {
        let rates = [
            1_000u64,
            1_001,
            250_000,
            333_333,
            1_000_000_007,
            12_499_999_999,
            12_500_000_000,
        ];
        for rate in rates {
            let t = PacketTime::new(rate);
            for len in (0..70_000u32).chain([u32::MAX - 1, u32::MAX]) {
                assert_eq!(
                    t.of(len),
                    transmit_time(len.into(), rate),
                    "{len} B at {rate} B/s"
                );
            }
        }
        // A pseudo-random sweep over both.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let rate = 1_000 + x % (12_500_000_000 - 1_000 + 1);
            let len = (x >> 32) as u32;
            assert_eq!(
                PacketTime::new(rate).of(len),
                transmit_time(len.into(), rate)
            );
        }
    }

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

    #[test]
    fn credit_rounded_up_is_never_short() {
        for rate in [1_000u64, 250_000, 333_333, 12_500_000_000] {
            for ns in [0u64, 1, 999, 6_000_000, 1_000_000_001, 123_456_789_012] {
                let down = credit_bytes(ns, rate);
                let up = credit_bytes_up(ns, rate);
                let exact = u128::from(ns) * u128::from(rate);
                assert!(u128::from(up) * 1_000_000_000 >= exact && up - down <= 1);
                assert_eq!(up == down, exact % 1_000_000_000 == 0, "{ns} ns at {rate}");
            }
        }
    }
}
