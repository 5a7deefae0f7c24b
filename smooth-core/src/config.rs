//! The options table. Each row of [`options!`] declares one parameter once:
//! the [`Config`] field, its netlink attribute, how tc and the CLIs write it,
//! its unit, range, default and help. Everything else is driven from the
//! table: validation ([`Config::validate`]), the UAPI encoding
//! (`uapi::apply`, `uapi::to_attrs`), the tc plugin's and `tc-smooth`'s
//! parsing and printing, the C header and the docs' parameter table.
//! Adding an option is one row here plus its use in the shaper.

use super::time::{NSEC_PER_MSEC, NSEC_PER_SEC};
use core::fmt;

/// How an option's value is written by tc and the CLIs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A tc rate (`2mbit`); bytes/s on the wire.
    Rate,
    /// A tc time (`3ms`); ns on the wire.
    Time,
    /// A plain count.
    Count,
    /// A tc size (`64kb`); bytes on the wire.
    Size,
}

/// The payload width of an option's attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// A native-endian u32.
    U32,
    /// A native-endian u64.
    U64,
}

impl Width {
    /// Payload size in bytes.
    pub const fn bytes(self) -> usize {
        match self {
            Width::U32 => 4,
            Width::U64 => 8,
        }
    }

    /// The C type of the payload.
    #[cfg(not(MODULE))]
    pub const fn c_type(self) -> &'static str {
        match self {
            Width::U32 => "u32",
            Width::U64 => "u64",
        }
    }
}

/// A [`Config`] field's Rust type, as carried on the wire.
trait Wire: Copy + Into<u64> + TryFrom<u64> {
    const WIDTH: Width;
}

impl Wire for u32 {
    const WIDTH: Width = Width::U32;
}

impl Wire for u64 {
    const WIDTH: Width = Width::U64;
}

/// The upper end of an option's range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Max {
    /// A constant.
    Const(u64),
    /// The smaller of a constant and another field's value (the window
    /// never exceeds `max_delay`).
    AtMost(u64, Field),
}

/// One option: everything a front end needs to know about it.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Which [`Config`] field.
    pub field: Field,
    /// The tc word and JSON key (the CLI flag is `--` and this with `-`
    /// for `_`).
    pub name: &'static str,
    /// The netlink attribute type nested in `TCA_OPTIONS`.
    pub attr: u16,
    /// The attribute's C name.
    pub attr_name: &'static str,
    /// The attribute's payload width.
    pub width: Width,
    /// How tc and the CLIs write the value.
    #[cfg_attr(MODULE, allow(dead_code))] // read by the front ends
    pub kind: Kind,
    /// The wire unit, for messages.
    pub unit: &'static str,
    /// Smallest allowed value.
    pub min: u64,
    /// Largest allowed value.
    pub max: Max,
    /// Creating a qdisc requires it.
    pub required: bool,
    /// One line for `--help`, tc's usage and the docs.
    #[cfg_attr(MODULE, allow(dead_code))] // read by the front ends
    pub help: &'static str,
    get: fn(&Config) -> u64,
    set: fn(&mut Config, u64) -> bool,
}

impl Param {
    /// The field's value in `cfg`.
    pub fn get(&self, cfg: &Config) -> u64 {
        (self.get)(cfg)
    }

    /// Stores `value` (not yet range-checked: see [`Config::validate`]);
    /// refuses a value wider than the field.
    pub fn set(&self, cfg: &mut Config, value: u64) -> Result<(), ConfigError> {
        if (self.set)(cfg, value) {
            Ok(())
        } else {
            Err(self.out_of_range(cfg, value))
        }
    }

    /// The largest value allowed in `cfg`.
    pub fn max_in(&self, cfg: &Config) -> u64 {
        match self.max {
            Max::Const(m) => m,
            Max::AtMost(m, other) => m.min(other.param().get(cfg)),
        }
    }

    fn out_of_range(&self, cfg: &Config, value: u64) -> ConfigError {
        ConfigError {
            field: self.field,
            value,
            min: self.min,
            max: self.max_in(cfg),
        }
    }

    /// The CLI flag without its dashes (`max-delay`).
    #[cfg(not(MODULE))]
    pub fn flag(&self) -> FlagName {
        FlagName(self.name)
    }
}

/// An option's name with `-` for `_`, as a CLI flag spells it.
#[cfg(not(MODULE))]
#[derive(Clone, Copy, Debug)]
pub struct FlagName(&'static str);

#[cfg(not(MODULE))]
impl fmt::Display for FlagName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            fmt::Write::write_char(f, if c == '_' { '-' } else { c })?;
        }
        Ok(())
    }
}

/// The largest of `values` (0 for none), for the tables' constants.
pub(crate) const fn max_of(values: &[u64]) -> u64 {
    let mut max = 0;
    let mut i = 0;
    while i < values.len() {
        if values[i] > max {
            max = values[i];
        }
        i += 1;
    }
    max
}

macro_rules! options {
    (
        pad: $pad:ident = $pad_id:literal;
        $(
            $(#[doc = $doc:literal])*
            $field:ident: $ty:ty {
                variant: $variant:ident,
                attr: $attr:ident = $id:literal,
                kind: $kind:ident,
                unit: $unit:literal,
                min: $min:expr,
                max: $max:expr,
                default: $default:expr,
                required: $required:literal,
                help: $help:literal $(,)?
            }
        )*
    ) => {
        /// The shaper's parameters, one field per row of the options
        /// table. Construct with [`Config::validate`] (or start from
        /// [`Config::DEFAULT`] and validate after changing fields).
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Config {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        /// The options, as named in netlink, tc and the CLIs.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Field {
            $( #[doc = $help] $variant, )*
        }

        /// Attribute types nested in `TCA_OPTIONS`.
        pub mod attr {
            /// Never valid.
            #[cfg(not(MODULE))]
            pub const UNSPEC: u16 = 0;
            $( #[doc = $help] pub const $attr: u16 = $id; )*
            /// Padding for 64-bit alignment; ignored.
            pub const $pad: u16 = $pad_id;
            /// Highest attribute type.
            #[cfg(not(MODULE))]
            pub const MAX: u16 = super::max_of(&[$pad_id, $($id),*]) as u16;

            /// Payload size of an option attribute (`None`: not one).
            pub fn payload_len(kind: u16) -> Option<usize> {
                super::Param::by_attr(kind).map(|p| p.width.bytes())
            }

            /// The attribute that carries `field`.
            pub const fn of(field: super::Field) -> u16 {
                field.param().attr
            }

            /// The attribute's C name, for messages.
            pub fn name(kind: u16) -> &'static str {
                match super::Param::by_attr(kind) {
                    Some(p) => p.attr_name,
                    None if kind == $pad => concat!("TCA_SMOOTH_", stringify!($pad)),
                    None => "unknown attribute",
                }
            }
        }

        /// The options table, in print order.
        pub const PARAMS: [Param; [$(stringify!($field)),*].len()] = [
            $(
                Param {
                    field: Field::$variant,
                    name: stringify!($field),
                    attr: attr::$attr,
                    attr_name: concat!("TCA_SMOOTH_", stringify!($attr)),
                    width: <$ty as Wire>::WIDTH,
                    kind: Kind::$kind,
                    unit: $unit,
                    min: $min,
                    max: $max,
                    required: $required,
                    help: $help,
                    get: |c: &Config| c.$field.into(),
                    set: |c: &mut Config, v: u64| match <$ty>::try_from(v) {
                        Ok(v) => {
                            c.$field = v;
                            true
                        }
                        Err(_) => false,
                    },
                },
            )*
        ];

        impl Config {
            /// Every option at its default (the rate, which has no sensible
            /// default, at the paper's 2 Mbit/s).
            pub const DEFAULT: Config = Config {
                $( $field: $default as $ty, )*
            };
        }
    };
}

options! {
    pad: PAD = 7;

    /// Rate in bytes per second, counted on `qdisc_pkt_len` (L2 frame).
    rate: u64 {
        variant: Rate,
        attr: RATE = 1,
        kind: Rate,
        unit: "bytes/s",
        min: Config::MIN_RATE,
        max: Max::Const(Config::MAX_RATE),
        default: 250_000,
        required: true,
        help: "the long-run rate a backlog gets, counted on L2 frames",
    }
    /// Width of the smooth window in ns: a packet the token bucket holds at
    /// most this far above the window's floor does not move the window.
    window: u64 {
        variant: Window,
        attr: WINDOW = 2,
        kind: Time,
        unit: "ns",
        min: 0,
        max: Max::AtMost(Config::MAX_WINDOW, Field::MaxDelay),
        default: 3 * NSEC_PER_MSEC,
        required: false,
        help: "how far a packet's delay may rise above the window's floor before the floor moves up",
    }
    /// Depth of the token bucket every departure conforms to, as time at
    /// the rate (ns): `σ = rate · burst` bytes. The output needs a bucket of
    /// at most `max(σ, largest packet)`.
    burst: u64 {
        variant: Burst,
        attr: BURST = 3,
        kind: Time,
        unit: "ns",
        min: 0,
        max: Max::Const(Config::MAX_MAX_DELAY),
        default: 50 * NSEC_PER_MSEC,
        required: false,
        help: "token-bucket depth as time at the rate: the bucket holds rate x burst bytes",
    }
    /// Ceiling on any packet's delay in ns: a packet whose earliest
    /// conforming departure lies further away is dropped.
    max_delay: u64 {
        variant: MaxDelay,
        attr: MAX_DELAY = 4,
        kind: Time,
        unit: "ns",
        min: Config::MIN_MAX_DELAY,
        max: Max::Const(Config::MAX_MAX_DELAY),
        default: 200 * NSEC_PER_MSEC,
        required: false,
        help: "ceiling on any packet's delay; a packet that would wait longer is dropped",
    }
    /// Queue limit in packets.
    limit: u32 {
        variant: Limit,
        attr: LIMIT = 5,
        kind: Count,
        unit: "packets",
        min: 1,
        max: Max::Const(Config::MAX_LIMIT as u64),
        default: 1000,
        required: false,
        help: "queue limit in packets",
    }
    /// Queue limit in bytes; 0 means no byte limit (the packet limit and
    /// `max_delay` still bound the queue).
    limit_bytes: u32 {
        variant: LimitBytes,
        attr: LIMIT_BYTES = 6,
        kind: Size,
        unit: "bytes",
        min: 0,
        max: Max::Const(u32::MAX as u64),
        default: 0,
        required: false,
        help: "queue limit in bytes, 0 for none",
    }
}

impl Field {
    /// The field's row in [`PARAMS`].
    pub const fn param(self) -> &'static Param {
        &PARAMS[self as usize]
    }

    /// The field's name as every front end spells it.
    pub const fn name(self) -> &'static str {
        self.param().name
    }

    /// The unit the field's range is expressed in.
    pub const fn unit(self) -> &'static str {
        self.param().unit
    }
}

impl Param {
    /// The option's default ([`Config::DEFAULT`]).
    #[cfg(not(MODULE))]
    pub fn default_value(&self) -> u64 {
        self.get(&Config::DEFAULT)
    }

    /// The row carrying attribute type `kind`, if any.
    pub fn by_attr(kind: u16) -> Option<&'static Param> {
        PARAMS.iter().find(|p| p.attr == kind)
    }

    /// The row a tc word or JSON key names, if any.
    #[cfg(not(MODULE))]
    pub fn by_name(name: &str) -> Option<&'static Param> {
        PARAMS.iter().find(|p| p.name == name)
    }
}

/// A value outside its allowed range `[min, max]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The offending field.
    pub field: Field,
    /// The value given.
    pub value: u64,
    /// Smallest allowed value.
    pub min: u64,
    /// Largest allowed value (for `window` also bounded by `max_delay`).
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
    /// Queue limit range in packets: a rate change re-times every queued
    /// packet in one walk under the root lock (BH off), a cache miss a
    /// packet, which this keeps short.
    pub const MAX_LIMIT: u32 = 65_536;

    /// Default configuration at `rate` bytes/s (not yet validated).
    #[cfg(not(MODULE))]
    pub const fn with_rate(rate: u64) -> Config {
        Config {
            rate,
            ..Config::DEFAULT
        }
    }

    /// Checks every field against its row's range; returns the
    /// configuration or the first field out of range: the fields with a
    /// constant range in table order, then those bounded by another field.
    pub fn validate(self) -> Result<Config, ConfigError> {
        let constant = PARAMS.iter().filter(|p| matches!(p.max, Max::Const(_)));
        let relative = PARAMS.iter().filter(|p| matches!(p.max, Max::AtMost(..)));
        for p in constant.chain(relative) {
            let value = p.get(&self);
            if value < p.min || value > p.max_in(&self) {
                return Err(p.out_of_range(&self, value));
            }
        }
        Ok(self)
    }

    /// The bucket depth in bytes, `rate · burst` rounded down.
    #[cfg(not(MODULE))]
    pub fn bucket_bytes(&self) -> u64 {
        super::time::credit_bytes(self.burst, self.rate)
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
    fn the_table_is_consistent() {
        for (i, p) in PARAMS.iter().enumerate() {
            assert_eq!(p.field as usize, i, "{}", p.name);
            assert_eq!(p.field.param().name, p.name);
            assert!(p.attr != attr::UNSPEC && p.attr != attr::PAD, "{}", p.name);
            let same = PARAMS
                .iter()
                .filter(|q| q.attr == p.attr || q.name == p.name);
            assert_eq!(same.count(), 1, "{} reuses an attribute or a name", p.name);
            let top = match p.max {
                Max::Const(m) | Max::AtMost(m, _) => m,
            };
            assert!(p.min <= top, "{}", p.name);
            // The range fits the field: a value in range can always be set.
            let mut cfg = Config::DEFAULT;
            assert_eq!(p.set(&mut cfg, top), Ok(()), "{}", p.name);
        }
        assert_eq!(
            attr::MAX,
            PARAMS.iter().map(|p| p.attr).max().unwrap().max(attr::PAD)
        );
    }

    #[test]
    fn values_wider_than_the_field_are_refused() {
        let limit = Field::Limit.param();
        let mut cfg = Config::DEFAULT;
        let e = limit.set(&mut cfg, u64::from(u32::MAX) + 1).unwrap_err();
        assert_eq!(
            (e.field, e.max),
            (Field::Limit, u64::from(Config::MAX_LIMIT))
        );
        assert_eq!(cfg, Config::DEFAULT);
    }

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
