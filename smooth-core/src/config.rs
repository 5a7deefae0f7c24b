//! The validated configuration. Every front end (kernel `change()`, the `tc`
//! plugin, `tc-smooth`, the simulator) builds a [`Config`] through
//! [`Config::validate`], so they accept and reject exactly the same values,
//! with the same message naming the field and its allowed range.

use super::time::{credit_bytes, NSEC_PER_MSEC, NSEC_PER_SEC};
use core::fmt;

/// The configuration fields, as named in netlink, tc and the CLIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Rate in bytes per second.
    Rate,
    /// Window width in ns.
    Window,
    /// Token-bucket depth, as time at the rate, in ns.
    Burst,
    /// Delay ceiling in ns.
    MaxDelay,
    /// Queue limit in packets.
    Limit,
    /// Queue limit in bytes (0: none).
    LimitBytes,
}

impl Field {
    /// The field's name as every front end spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Rate => "rate",
            Field::Window => "window",
            Field::Burst => "burst",
            Field::MaxDelay => "max_delay",
            Field::Limit => "limit",
            Field::LimitBytes => "limit_bytes",
        }
    }

    /// The unit the range below is expressed in.
    pub const fn unit(self) -> &'static str {
        match self {
            Field::Rate => "bytes/s",
            Field::Window | Field::Burst | Field::MaxDelay => "ns",
            Field::Limit => "packets",
            Field::LimitBytes => "bytes",
        }
    }
}

/// A value outside its allowed range `[min, max]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending field.
    pub field: Field,
    /// The value given.
    pub value: u64,
    /// Smallest allowed value (for `window` also bounded by `max_delay`).
    pub min: u64,
    /// Largest allowed value.
    pub max: u64,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} out of range {}..={} {}",
            self.field.name(),
            self.value,
            self.min,
            self.max,
            self.field.unit()
        )
    }
}

/// The shaper's parameters. Construct with [`Config::validate`] (or start
/// from [`Config::DEFAULT`] and validate after changing fields).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Config {
    /// Rate in bytes per second, counted on `qdisc_pkt_len` (L2 frame).
    pub rate: u64,
    /// Width of the smooth window in ns: a packet the token bucket holds at
    /// most this far above the window's floor does not move the window.
    pub window: u64,
    /// Depth of the token bucket every departure conforms to, as time at
    /// the rate (ns): `σ = rate · burst` bytes. The output needs a bucket of
    /// at most `max(σ, largest packet)`.
    pub burst: u64,
    /// Ceiling on any packet's delay in ns: a packet whose earliest
    /// conforming departure lies further away is dropped.
    pub max_delay: u64,
    /// Queue limit in packets.
    pub limit: u32,
    /// Queue limit in bytes; 0 means no byte limit (the packet limit and
    /// `max_delay` still bound the queue).
    pub limit_bytes: u32,
}

impl Config {
    /// 8 kbit/s.
    pub const MIN_RATE: u64 = 1_000;
    /// 100 Gbit/s.
    pub const MAX_RATE: u64 = 12_500_000_000;
    /// One second: a wider window is not smoothing any more.
    pub const MAX_WINDOW: u64 = NSEC_PER_SEC;
    /// 1 ms.
    pub const MIN_MAX_DELAY: u64 = NSEC_PER_MSEC;
    /// 10 s.
    pub const MAX_MAX_DELAY: u64 = 10 * NSEC_PER_SEC;
    /// Queue limit range in packets.
    pub const MAX_LIMIT: u32 = 1_000_000;

    /// The defaults: 3 ms window, 50 ms burst (netback's default credit
    /// window: 12.5 kB at 2 Mbit/s), 200 ms ceiling, 1000 packets. The rate
    /// has no sensible default; 2 Mbit/s (the paper's RTP stream) is used
    /// here.
    pub const DEFAULT: Config = Config {
        rate: 250_000,
        window: 3 * NSEC_PER_MSEC,
        burst: 50 * NSEC_PER_MSEC,
        max_delay: 200 * NSEC_PER_MSEC,
        limit: 1000,
        limit_bytes: 0,
    };

    /// Default configuration at `rate` bytes/s (not yet validated).
    pub const fn with_rate(rate: u64) -> Config {
        Config {
            rate,
            ..Config::DEFAULT
        }
    }

    /// Checks every field; returns the configuration or the first field out
    /// of range, in declaration order.
    pub fn validate(self) -> Result<Config, ConfigError> {
        fn check(field: Field, value: u64, min: u64, max: u64) -> Result<(), ConfigError> {
            if value < min || value > max {
                return Err(ConfigError {
                    field,
                    value,
                    min,
                    max,
                });
            }
            Ok(())
        }
        check(Field::Rate, self.rate, Self::MIN_RATE, Self::MAX_RATE)?;
        check(
            Field::MaxDelay,
            self.max_delay,
            Self::MIN_MAX_DELAY,
            Self::MAX_MAX_DELAY,
        )?;
        check(
            Field::Window,
            self.window,
            0,
            Self::MAX_WINDOW.min(self.max_delay),
        )?;
        check(Field::Burst, self.burst, 0, Self::MAX_MAX_DELAY)?;
        check(Field::Limit, self.limit.into(), 1, Self::MAX_LIMIT.into())?;
        check(
            Field::LimitBytes,
            self.limit_bytes.into(),
            0,
            u32::MAX.into(),
        )?;
        Ok(self)
    }

    /// The bucket depth in bytes, `rate · burst` rounded down.
    pub fn bucket_bytes(&self) -> u64 {
        credit_bytes(self.burst, self.rate)
    }
}

impl Default for Config {
    fn default() -> Self {
        Config::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(Config::DEFAULT.validate(), Ok(Config::DEFAULT));
    }

    #[test]
    fn each_field_is_checked_with_its_range() {
        let bad = Config {
            rate: 999,
            ..Config::DEFAULT
        };
        let e = bad.validate().unwrap_err();
        assert_eq!(e.field, Field::Rate);
        assert_eq!(
            e.to_string(),
            "rate 999 out of range 1000..=12500000000 bytes/s"
        );
        let cases: [(Config, Field); 5] = [
            (
                Config {
                    burst: 10_001 * NSEC_PER_MSEC,
                    ..Config::DEFAULT
                },
                Field::Burst,
            ),
            (
                Config {
                    rate: Config::MAX_RATE + 1,
                    ..Config::DEFAULT
                },
                Field::Rate,
            ),
            (
                Config {
                    window: 201 * NSEC_PER_MSEC,
                    ..Config::DEFAULT
                },
                Field::Window,
            ),
            (
                Config {
                    max_delay: 0,
                    ..Config::DEFAULT
                },
                Field::MaxDelay,
            ),
            (
                Config {
                    limit: 0,
                    ..Config::DEFAULT
                },
                Field::Limit,
            ),
        ];
        for (cfg, field) in cases {
            assert_eq!(cfg.validate().unwrap_err().field, field, "{cfg:?}");
        }
    }

    #[test]
    fn window_is_bounded_by_max_delay() {
        let cfg = Config {
            window: 10 * NSEC_PER_MSEC,
            max_delay: 5 * NSEC_PER_MSEC,
            ..Config::DEFAULT
        };
        let e = cfg.validate().unwrap_err();
        assert_eq!((e.field, e.max), (Field::Window, 5 * NSEC_PER_MSEC));
    }
}
