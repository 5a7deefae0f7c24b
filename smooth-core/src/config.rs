//! The validated configuration. Every front end (kernel `change()`, the `tc`
//! plugin, `tc-smooth`, the simulator) builds a [`Config`] through
//! [`Config::validate`], so they accept and reject exactly the same values,
//! with the same message naming the field and its allowed range.

use super::time::{NSEC_PER_MSEC, NSEC_PER_SEC};
use core::fmt;

/// A PID gain in Q16 fixed point: `65536` is 1.0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Gain(pub u32);

impl Gain {
    /// The fixed-point one.
    pub const ONE: Gain = Gain(1 << 16);
    /// Number of fractional bits.
    pub const SHIFT: u32 = 16;
}

/// The configuration fields, as named in netlink, tc and the CLIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// Rate in bytes per second.
    Rate,
    /// Window width in ns.
    Window,
    /// Largest lead over the rate in ns.
    Burst,
    /// Adjusting interval in ns.
    Interval,
    /// Delay ceiling in ns.
    MaxDelay,
    /// Queue limit in packets.
    Limit,
    /// Queue limit in bytes (0: none).
    LimitBytes,
    /// Proportional gain.
    Kp,
    /// Integral gain.
    Ki,
    /// Derivative gain.
    Kd,
}

impl Field {
    /// The field's name as every front end spells it.
    pub const fn name(self) -> &'static str {
        match self {
            Field::Rate => "rate",
            Field::Window => "window",
            Field::Burst => "burst",
            Field::Interval => "interval",
            Field::MaxDelay => "max_delay",
            Field::Limit => "limit",
            Field::LimitBytes => "limit_bytes",
            Field::Kp => "kp",
            Field::Ki => "ki",
            Field::Kd => "kd",
        }
    }

    /// The unit the range below is expressed in.
    pub const fn unit(self) -> &'static str {
        match self {
            Field::Rate => "bytes/s",
            Field::Window | Field::Burst | Field::Interval | Field::MaxDelay => "ns",
            Field::Limit => "packets",
            Field::LimitBytes => "bytes",
            Field::Kp | Field::Ki | Field::Kd => "/65536",
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
    /// Smooth window width in ns: the jitter the shaper may impose.
    pub window: u64,
    /// How far ahead of its rate-conforming time a packet may leave, in ns:
    /// the window releases a burst early only up to this lead, so the bytes
    /// sent in any span τ stay below `rate·(τ + burst)` plus one packet.
    pub burst: u64,
    /// Adjusting interval of the controller in ns.
    pub interval: u64,
    /// Ceiling on any packet's delay in ns: a packet that would have to wait
    /// longer (its rate-conforming time is more than `max_delay + burst`
    /// away) is dropped.
    pub max_delay: u64,
    /// Queue limit in packets.
    pub limit: u32,
    /// Queue limit in bytes; 0 means no byte limit (the packet limit and
    /// `max_delay` still bound the queue).
    pub limit_bytes: u32,
    /// Proportional gain.
    pub kp: Gain,
    /// Integral gain.
    pub ki: Gain,
    /// Derivative gain.
    pub kd: Gain,
}

impl Config {
    /// 8 kbit/s.
    pub const MIN_RATE: u64 = 1_000;
    /// 100 Gbit/s.
    pub const MAX_RATE: u64 = 12_500_000_000;
    /// One second: a wider window is not smoothing any more.
    pub const MAX_WINDOW: u64 = NSEC_PER_SEC;
    /// 1 ms: shorter intervals see too few packets at low rates.
    pub const MIN_INTERVAL: u64 = NSEC_PER_MSEC;
    /// 10 s.
    pub const MAX_INTERVAL: u64 = 10 * NSEC_PER_SEC;
    /// 1 ms.
    pub const MIN_MAX_DELAY: u64 = NSEC_PER_MSEC;
    /// 10 s.
    pub const MAX_MAX_DELAY: u64 = 10 * NSEC_PER_SEC;
    /// Queue limit range in packets.
    pub const MAX_LIMIT: u32 = 1_000_000;
    /// Gain ranges (Q16). Within them the closed loop is stable for any
    /// plant slope in [0, 1] (see `docs/algorithm.md`, checked by tests).
    pub const MAX_KP: Gain = Gain(1 << 14);
    /// Integral gain must be positive: it is what moves the window.
    pub const MIN_KI: Gain = Gain(1);
    /// At most 1.0: more overshoots on a static plant.
    pub const MAX_KI: Gain = Gain::ONE;
    /// Derivative gain maximum (1/16). With kp ≤ 0.25 and ki ≤ 1 this keeps
    /// 2·kp + ki + 4·kd < 2, the Jury condition at z = −1.
    pub const MAX_KD: Gain = Gain(1 << 12);

    /// The defaults: 3 ms window, 20 ms burst, 100 ms interval, 200 ms ceiling,
    /// 1000 packets, kp 0.125, ki 0.5, kd 0. The rate has no sensible
    /// default; 2 Mbit/s (the paper's RTP stream) is used here.
    pub const DEFAULT: Config = Config {
        rate: 250_000,
        window: 3 * NSEC_PER_MSEC,
        burst: 20 * NSEC_PER_MSEC,
        interval: 100 * NSEC_PER_MSEC,
        max_delay: 200 * NSEC_PER_MSEC,
        limit: 1000,
        limit_bytes: 0,
        kp: Gain(1 << 13),
        ki: Gain(1 << 15),
        kd: Gain(0),
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
        check(Field::Burst, self.burst, 0, self.max_delay)?;
        check(
            Field::Interval,
            self.interval,
            Self::MIN_INTERVAL,
            Self::MAX_INTERVAL,
        )?;
        check(Field::Limit, self.limit.into(), 1, Self::MAX_LIMIT.into())?;
        check(
            Field::LimitBytes,
            self.limit_bytes.into(),
            0,
            u32::MAX.into(),
        )?;
        check(Field::Kp, self.kp.0.into(), 0, Self::MAX_KP.0.into())?;
        check(
            Field::Ki,
            self.ki.0.into(),
            Self::MIN_KI.0.into(),
            Self::MAX_KI.0.into(),
        )?;
        check(Field::Kd, self.kd.0.into(), 0, Self::MAX_KD.0.into())?;
        Ok(self)
    }

    /// Highest window position: the window's top edge stays at or below
    /// `max_delay`.
    pub const fn max_position(&self) -> u64 {
        self.max_delay - self.window
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
        let cases: [(Config, Field); 10] = [
            (
                Config {
                    burst: 201 * NSEC_PER_MSEC,
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
                    interval: 999_999,
                    ..Config::DEFAULT
                },
                Field::Interval,
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
            (
                Config {
                    kp: Gain(Config::MAX_KP.0 + 1),
                    ..Config::DEFAULT
                },
                Field::Kp,
            ),
            (
                Config {
                    ki: Gain(0),
                    ..Config::DEFAULT
                },
                Field::Ki,
            ),
            (
                Config {
                    ki: Gain(Gain::ONE.0 + 1),
                    ..Config::DEFAULT
                },
                Field::Ki,
            ),
            (
                Config {
                    kd: Gain(Config::MAX_KD.0 + 1),
                    ..Config::DEFAULT
                },
                Field::Kd,
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
