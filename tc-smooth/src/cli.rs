//! The command line (clap derive); the man page is generated from it.

use clap::{Arg, ArgMatches, Args, Command, FromArgMatches, Parser, Subcommand};
use smooth_core::options::{self, WordError};
use smooth_core::uapi::Value;
use smooth_core::{Param, PARAMS};

#[derive(Parser, Debug)]
#[command(
    name = "tc-smooth",
    version,
    about = "Configure, inspect and attach the smooth qdisc",
    long_about = "tc-smooth configures the smooth qdisc over rtnetlink, shows its options \
and statistics (the same keys and numbers as `tc -s -j qdisc show` with q_smooth.so), \
attaches it to a VM's vif in both directions (egress as the vif's root qdisc, ingress \
through an IFB) and watches it live. Values are written as tc writes them: rates like \
2mbit, times like 3ms, sizes like 64kb.",
    after_help = "Exit status: 0 success; 1 refused by the kernel (its extack message is \
printed) or a system error; 2 invalid command line or value."
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

/// The smooth parameters, one `--flag` per row of smooth-core's options
/// table, every one optional; what is not given keeps its value (change)
/// or smooth's default (add, attach).
#[derive(Debug, Clone, Default)]
pub struct Params {
    /// The given values in table order, as (option, text).
    given: Vec<(&'static Param, String)>,
}

impl Params {
    /// The flags' values in tc's keyword order, as (keyword, text).
    pub fn flag_words(&self) -> Vec<(&'static str, &str)> {
        self.given
            .iter()
            .map(|(p, v)| (p.name, v.as_str()))
            .collect()
    }

    /// The flags' values, then those of tc's parameter words `words`.
    fn parsed(&self, words: &[String]) -> Result<Vec<Value>, String> {
        let flags = self
            .flag_words()
            .into_iter()
            .map(|(key, text)| options::parse_word(key, text));
        flags
            .chain(options::words(words))
            .map(|v| v.map_err(|e: WordError| e.to_string()))
            .collect()
    }

    /// The attributes to send, checked as far as userspace can.
    pub fn values(&self, create: bool) -> Result<Vec<Value>, String> {
        self.values_with(&[], create)
    }

    /// As [`Params::values`], with tc's parameter words besides the flags
    /// (a parameter given both ways is refused as given twice).
    pub fn values_with(&self, words: &[String], create: bool) -> Result<Vec<Value>, String> {
        let values = self.parsed(words)?;
        options::precheck(&values, create)
            .map_err(|e| format!("smooth: {}", options::Refusal(e)))?;
        Ok(values)
    }

    /// The complete configuration (defaults for what is not given).
    pub fn config(&self) -> Result<smooth_core::Config, String> {
        let values = self.values(true)?;
        options::apply(smooth_core::Config::DEFAULT, &values, true)
            .map_err(|e| format!("smooth: {}", options::Refusal(e)))
    }
}

impl Args for Params {
    fn augment_args(cmd: Command) -> Command {
        PARAMS.iter().fold(cmd, |cmd, p| {
            let required = if p.required {
                "; required to create"
            } else {
                ""
            };
            cmd.arg(
                Arg::new(p.name)
                    .long(p.flag().to_string())
                    .value_name(p.kind.placeholder())
                    .help(format!(
                        "{} ({}{required})",
                        capitalised(p.help),
                        p.kind.example()
                    )),
            )
        })
    }

    fn augment_args_for_update(cmd: Command) -> Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for Params {
    fn from_arg_matches(m: &ArgMatches) -> Result<Self, clap::Error> {
        let given = PARAMS
            .iter()
            .filter_map(|p| m.get_one::<String>(p.name).map(|v| (p, v.clone())))
            .collect();
        Ok(Params { given })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|first| first.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// A device named as tc names it: `DEV` or `dev DEV`.
#[derive(Args, Debug, Clone)]
pub struct Device {
    /// The network device (`dev DEV`, as tc writes it, also works).
    #[arg(value_name = "DEV", num_args = 1..=2, required = true)]
    words: Vec<String>,
}

impl Device {
    /// The device's name (a device named `dev` is written `dev` or
    /// `dev dev`).
    pub fn name(&self) -> Result<&str, String> {
        match self.words.as_slice() {
            [name] => Ok(name),
            [dev, name] if dev == "dev" => Ok(name),
            [_, word] => Err(format!(
                "unexpected word \"{word}\": the device is DEV or dev DEV"
            )),
            [] | [_, _, _, ..] => Err("the device is DEV or dev DEV".to_string()),
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct Place {
    /// The network device (`dev DEV`, as tc writes it, also works).
    pub dev: String,
    /// tc's words after the device, as tc writes them and `show` prints
    /// them: `root` (the default) or `parent ID`, `handle ID`, the kind
    /// `smooth`, then the parameters (`rate 2mbit window 3ms`). Each may be
    /// given as a flag instead.
    #[arg(value_name = "WORDS")]
    pub words: Vec<String>,
    /// The parent class (1:10) or root.
    #[arg(long, value_name = "ID")]
    pub parent: Option<String>,
    /// The qdisc's handle (1:); the kernel picks one if not given.
    #[arg(long, value_name = "ID")]
    pub handle: Option<String>,
}

/// A place as its flags and words give it.
#[derive(Debug, PartialEq)]
pub struct Placed<'a> {
    pub dev: &'a str,
    /// As written (`root`, `1:10`); `None` is the root.
    pub parent: Option<&'a str>,
    pub handle: Option<&'a str>,
    /// tc's parameter words that followed (`rate 2mbit …`).
    pub params: &'a [String],
}

impl Place {
    /// Reads `[dev] DEV [root | parent ID] [handle ID] [smooth] [KEYWORD
    /// VALUE]…` as tc does after the device: the place words in any order
    /// before the kind, the parameters after it (the kind may be left out),
    /// and the parent and the handle at most once, counting the flags. The
    /// device comes first (a device named `dev` is written `dev dev`).
    pub fn resolve(&self) -> Result<Placed<'_>, String> {
        fn once<'a>(slot: &mut Option<&'a str>, name: &str, id: &'a str) -> Result<(), String> {
            match slot.replace(id) {
                Some(_) => Err(format!("\"{name}\" given twice")),
                None => Ok(()),
            }
        }
        let mut dev = self.dev.as_str();
        let mut words = self.words.as_slice();
        if let ("dev", Some((name, rest))) = (dev, words.split_first()) {
            dev = name;
            words = rest;
        }
        let mut parent = self.parent.as_deref();
        let mut handle = self.handle.as_deref();
        loop {
            match words {
                [w, rest @ ..] if w == "root" => {
                    once(&mut parent, "parent", "root")?;
                    words = rest;
                }
                [w, id, rest @ ..] if w == "parent" => {
                    once(&mut parent, "parent", id)?;
                    words = rest;
                }
                [w, id, rest @ ..] if w == "handle" => {
                    once(&mut handle, "handle", id)?;
                    words = rest;
                }
                [w] if w == "parent" || w == "handle" => {
                    return Err(format!("\"{w}\" needs an id"));
                }
                [w, rest @ ..] if w == "smooth" => {
                    words = rest;
                    break;
                }
                _ => break,
            }
        }
        Ok(Placed {
            dev,
            parent,
            handle,
            params: words,
        })
    }

    /// As [`Place::resolve`], for `del`, which takes no parameters.
    pub fn resolve_bare(&self) -> Result<Placed<'_>, String> {
        let placed = self.resolve()?;
        match placed.params.first() {
            Some(w) => Err(format!(
                "unexpected word \"{w}\": del takes [dev] DEV [root | parent ID] [handle ID] [smooth]"
            )),
            None => Ok(placed),
        }
    }
}

/// A qdisc and its parameters.
#[derive(Args, Debug, Clone)]
pub struct Target {
    #[command(flatten)]
    pub place: Place,
    #[command(flatten)]
    pub params: Params,
}

impl Target {
    /// Where the qdisc goes and the attributes to send (flags and words).
    pub fn resolve(&self, create: bool) -> Result<(Placed<'_>, Vec<Value>), String> {
        let placed = self.place.resolve()?;
        let values = self.params.values_with(placed.params, create)?;
        Ok((placed, values))
    }
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Create a smooth qdisc (needs a rate).
    Add(Target),
    /// Change parameters of an existing smooth qdisc (others stay as they are).
    Change(Target),
    /// Create or replace a smooth qdisc.
    Replace(Target),
    /// Delete a smooth qdisc.
    #[command(mut_arg("words", |a| a.help(
        "tc's words after the device: `root` (the default) or `parent ID`, `handle ID`, \
         the kind `smooth`; no parameters"
    )))]
    Del(Place),
    /// Show the smooth qdiscs of a device.
    Show {
        #[command(flatten)]
        dev: Device,
        /// With counters and smooth's statistics (xstats).
        #[arg(short = 's', long = "stats")]
        stats: bool,
        /// JSON, with the keys and numbers of `tc -s -j qdisc show`.
        #[arg(short = 'j', long)]
        json: bool,
    },
    /// Shape a VM's vif in both directions (idempotent).
    ///
    /// Egress: smooth as the root qdisc of DEV (dom0 to guest). Ingress:
    /// guest-originated traffic is redirected by an ingress qdisc (ffff:) and a
    /// matchall filter with a mirred action to an IFB named ifb-DEV (or
    /// ifb-PREFIX-HASH when too long), whose root qdisc is smooth. Running
    /// attach again updates the parameters and leaves one of everything.
    Attach {
        #[command(flatten)]
        dev: Device,
        #[command(flatten)]
        params: Params,
        /// Shape only dom0-to-guest traffic.
        #[arg(long, group = "direction")]
        egress: bool,
        /// Shape only guest-originated traffic.
        #[arg(long, group = "direction")]
        ingress: bool,
        /// Shape both directions (the default).
        #[arg(long, group = "direction")]
        both: bool,
    },
    /// Remove what attach created: the smooth root qdisc of DEV, the
    /// redirect filter (and the ingress qdisc when no other filter is left
    /// on it) and the IFB. The vif may already be gone.
    Detach {
        #[command(flatten)]
        dev: Device,
    },
    /// Live view: rate, window and credit, drops and the sojourn histogram.
    Watch {
        #[command(flatten)]
        dev: Device,
        /// Time between frames, at least 10ms (a bare number is µs, as tc).
        #[arg(long, default_value = "1s", value_name = "TIME")]
        interval: String,
        /// Stop after N frames (N ≥ 1).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        count: Option<u64>,
        /// One JSON line per frame instead: `{"time_ns": …, "qdisc": …}`,
        /// the wall clock (ns since the epoch, as packet timestamps) and the
        /// qdisc as `show --stats --json` prints it.
        #[arg(long)]
        json: bool,
    },
    /// Print the man page (roff) on stdout.
    Man,
}

/// The man page, generated from the clap definition: the top-level page
/// followed by each subcommand's synopsis and options.
pub fn man_page() -> Vec<u8> {
    use clap::CommandFactory;
    let cmd = Cli::command();
    let mut out = Vec::new();
    let man = clap_mangen::Man::new(cmd.clone()).section("8");
    man.render_title(&mut out).expect("write to Vec");
    man.render_name_section(&mut out).expect("write to Vec");
    man.render_synopsis_section(&mut out).expect("write to Vec");
    man.render_description_section(&mut out)
        .expect("write to Vec");
    for sub in cmd.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("tc-smooth {}", sub.get_name());
        let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
        let sub = sub.clone().name(static_name).bin_name(name.clone());
        let m = clap_mangen::Man::new(sub.clone());
        out.extend_from_slice(format!(".SH \"{}\"\n", name.to_uppercase()).as_bytes());
        let mut syn = Vec::new();
        m.render_synopsis_section(&mut syn).expect("write to Vec");
        // Drop the section header clap_mangen writes: we have our own.
        let syn = String::from_utf8_lossy(&syn).replacen(".SH SYNOPSIS\n", "", 1);
        out.extend_from_slice(syn.as_bytes());
        if let Some(about) = sub.get_long_about().or(sub.get_about()) {
            out.extend_from_slice(format!(".PP\n{}\n", roff_escape(&about.to_string())).as_bytes());
        }
        let mut opts = Vec::new();
        m.render_options_section(&mut opts).expect("write to Vec");
        let opts = String::from_utf8_lossy(&opts).replacen(".SH OPTIONS\n", "", 1);
        out.extend_from_slice(opts.as_bytes());
    }
    out.extend_from_slice(
        b".SH \"EXIT STATUS\"\n0 success; 1 refused by the kernel (its extack message is printed) or a system error; 2 invalid command line or value.\n",
    );
    out.extend_from_slice(b".SH \"SEE ALSO\"\ntc(8), tc-ifb(8), tc-mirred(8), tc-matchall(8)\n");
    man.render_version_section(&mut out).expect("write to Vec");
    out
}

fn roff_escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .lines()
        .map(|l| {
            if l.starts_with('.') || l.starts_with('\'') {
                format!("\\&{l}")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("tc-smooth").chain(args.iter().copied()))
    }

    fn values(args: &[&str], create: bool) -> Result<Vec<Value>, String> {
        match parse(args).unwrap().cmd {
            Cmd::Add(t) | Cmd::Change(t) | Cmd::Replace(t) => t.resolve(create).map(|(_, v)| v),
            Cmd::Attach { params, .. } => params.values(create),
            _ => unreachable!(),
        }
    }

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_field_fails_on_one_line_with_its_range() {
        let cases: [(&[&str], &str); 11] = [
            (&["--window", "3ms"], "smooth: rate is required"),
            (
                &["--rate", "fast"],
                "smooth: rate \"fast\" is not a rate like 2mbit (range 8Kbit..=100Gbit)",
            ),
            (
                &["--rate", "1kbit"],
                "smooth: rate 1Kbit out of range 8Kbit..=100Gbit",
            ),
            (
                &["--rate", "2mbit", "--window", "3 ms"],
                "smooth: window \"3 ms\" is not a time like 3ms (range 0us..=1s)",
            ),
            (
                &["--rate", "2mbit", "--window", "60ms", "--max-delay", "50ms"],
                "smooth: window 60ms out of range 0us..=50ms",
            ),
            (
                &["--rate", "2mbit", "--burst", "11s"],
                "smooth: burst 11s out of range 0us..=10s",
            ),
            (
                &["--rate", "2mbit", "--burst", "50 ms"],
                "smooth: burst \"50 ms\" is not a time like 3ms (range 0us..=10s)",
            ),
            (
                &["--rate", "2mbit", "--max-delay", "20s"],
                "smooth: max_delay 20s out of range 1ms..=10s",
            ),
            (
                &["--rate", "2mbit", "--limit", "0"],
                "smooth: limit 0 out of range 1..=65536 packets",
            ),
            (
                &["--rate", "2mbit", "--limit-bytes", "8gb"],
                "smooth: limit_bytes 8589934592 out of range 0..=4294967295 bytes",
            ),
            (
                &["--rate", "2mbit", "--limit", "65537"],
                "smooth: limit 65537 out of range 1..=65536 packets",
            ),
        ];
        for (args, want) in cases {
            let mut full = vec!["add", "eth0"];
            full.extend_from_slice(args);
            let e = values(&full, true).unwrap_err();
            assert_eq!(e, want, "{args:?}");
            assert!(!e.contains('\n'));
        }
        // The bucket depth is not bounded by max_delay.
        let v = values(
            &[
                "add",
                "eth0",
                "--rate",
                "2mbit",
                "--burst",
                "200ms",
                "--max-delay",
                "100ms",
            ],
            true,
        )
        .unwrap();
        assert_eq!(v.len(), 3);
        // The removed PID options are gone; watch's refresh --interval stays.
        assert!(parse(&["add", "eth0", "--rate", "2mbit", "--interval", "100ms"]).is_err());
        assert!(parse(&["add", "eth0", "--rate", "2mbit", "--kp", "0.125"]).is_err());
        assert!(parse(&["watch", "eth0", "--interval", "500ms"]).is_ok());
        // change does not need the rate; values come in tc's order.
        let v = values(
            &["change", "eth0", "--limit", "5", "--window", "1ms"],
            false,
        )
        .unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].kind(), smooth_core::uapi::attr::WINDOW);
    }

    #[test]
    fn attach_installs_given_values_over_the_defaults() {
        let Cmd::Attach { params, .. } =
            parse(&["attach", "vif1.0", "--rate", "2mbit", "--window", "5ms"])
                .unwrap()
                .cmd
        else {
            unreachable!()
        };
        let cfg = params.config().unwrap();
        assert_eq!((cfg.rate, cfg.window), (250_000, 5_000_000));
        assert_eq!(cfg.max_delay, smooth_core::Config::DEFAULT.max_delay);
        // A window wider than the default max_delay is refused: attach
        // installs the whole configuration.
        let max = smooth_core::Config::DEFAULT.max_delay;
        let wide = format!("{}ns", max + 1);
        let Cmd::Attach { params, .. } =
            parse(&["attach", "vif1.0", "--rate", "2mbit", "--window", &wide])
                .unwrap()
                .cmd
        else {
            unreachable!()
        };
        assert_eq!(
            params.config().unwrap_err(),
            format!(
                "smooth: window {} out of range 0us..={}",
                smooth_core::units::Time(max + 1),
                smooth_core::units::Time(max)
            )
        );
    }

    fn place(args: &[&str]) -> Place {
        match parse(args).unwrap().cmd {
            Cmd::Add(t) | Cmd::Change(t) | Cmd::Replace(t) => t.place,
            Cmd::Del(p) => p,
            _ => unreachable!(),
        }
    }

    #[test]
    fn tc_words_place_the_qdisc_and_carry_its_parameters() {
        let words = [
            "rate".to_string(),
            "2mbit".into(),
            "window".into(),
            "3ms".into(),
        ];
        let want = Placed {
            dev: "vif1.0",
            parent: Some("root"),
            handle: None,
            params: &words,
        };
        // tc's own line, without `tc qdisc`; the kind and `dev` may go.
        for args in [
            &[
                "add", "dev", "vif1.0", "root", "smooth", "rate", "2mbit", "window", "3ms",
            ][..],
            &["add", "vif1.0", "root", "rate", "2mbit", "window", "3ms"],
            &[
                "add", "vif1.0", "smooth", "rate", "2mbit", "window", "3ms", "--parent", "root",
            ],
        ] {
            assert_eq!(place(args).resolve().unwrap(), want, "{args:?}");
        }
        let p = place(&["add", "vif1.0", "handle", "1:", "parent", "1:10", "smooth"]);
        let got = p.resolve().unwrap();
        assert_eq!((got.parent, got.handle), (Some("1:10"), Some("1:")));
        assert!(got.params.is_empty());
        // Words and flags give the same attributes, in the same order.
        assert_eq!(
            values(
                &["add", "vif1.0", "root", "smooth", "rate", "2mbit", "window", "3ms"],
                true
            ),
            values(
                &["add", "vif1.0", "--rate", "2mbit", "--window", "3ms"],
                true
            )
        );
        // What `show` prints is read back.
        let shown = "rate 2Mbit window 3ms burst 50ms max_delay 50ms limit 1000 limit_bytes 0";
        let mut args = vec!["replace", "vif1.0", "root", "smooth"];
        args.extend(shown.split(' '));
        assert_eq!(values(&args, true).unwrap().len(), 6);
    }

    #[test]
    fn tc_words_refused_on_one_line() {
        let refused = |args: &[&str]| match parse(args).unwrap().cmd {
            Cmd::Add(t) | Cmd::Change(t) => t.resolve(true).unwrap_err(),
            Cmd::Del(p) => p.resolve_bare().unwrap_err(),
            _ => unreachable!(),
        };
        let cases: [(&[&str], &str); 9] = [
            (
                &["add", "vif1.0", "root", "--parent", "1:10", "rate", "2mbit"],
                "\"parent\" given twice",
            ),
            (
                &["add", "vif1.0", "root", "root", "rate", "2mbit"],
                "\"parent\" given twice",
            ),
            (
                &[
                    "add", "vif1.0", "handle", "1:", "--handle", "2:", "rate", "2mbit",
                ],
                "\"handle\" given twice",
            ),
            (&["del", "vif1.0", "handle"], "\"handle\" needs an id"),
            (
                &["del", "vif1.0", "top"],
                "unexpected word \"top\": del takes [dev] DEV [root | parent ID] [handle ID] [smooth]",
            ),
            (
                &["del", "vif1.0", "root", "smooth", "rate", "2mbit"],
                "unexpected word \"rate\": del takes [dev] DEV [root | parent ID] [handle ID] [smooth]",
            ),
            (
                &["add", "vif1.0", "root", "tbf", "rate", "2mbit"],
                "smooth: unknown option \"tbf\"",
            ),
            (
                &["add", "vif1.0", "root", "smooth", "rate"],
                "smooth: \"rate\" needs a value",
            ),
            (
                &["add", "vif1.0", "rate", "2mbit", "--rate", "3mbit"],
                "smooth: \"rate\" given twice",
            ),
        ];
        for (args, want) in cases {
            assert_eq!(refused(args), want, "{args:?}");
        }
    }

    #[test]
    fn places_and_directions() {
        let got = place(&["del", "vif1.0", "root"]);
        assert_eq!(got.resolve().unwrap().parent, Some("root"));
        assert_eq!(place(&["del", "vif1.0"]).resolve().unwrap().parent, None);
        assert!(parse(&[
            "attach",
            "vif1.0",
            "--rate",
            "2mbit",
            "--egress",
            "--ingress"
        ])
        .is_err());
        assert!(parse(&["show", "vif1.0", "-s", "-j"]).is_ok());
        assert!(parse(&["show"]).is_err());
        assert!(parse(&["show", "dev", "vif1.0", "vif2.0"]).is_err());
        assert!(parse(&["watch", "vif1.0", "--count", "2"]).is_ok());
        assert!(parse(&["watch", "vif1.0", "--count", "0"]).is_err());
        assert!(parse(&["watch", "vif1.0", "--json", "--interval", "100ms"]).is_ok());
    }

    #[test]
    fn commands_on_a_device_take_dev_as_tc_writes_it() {
        let device = |args: &[&str]| match parse(args).unwrap().cmd {
            Cmd::Show { dev, .. }
            | Cmd::Watch { dev, .. }
            | Cmd::Attach { dev, .. }
            | Cmd::Detach { dev } => dev.name().map(str::to_string),
            other => panic!("{other:?}"),
        };
        assert_eq!(device(&["show", "vif1.0", "-s"]).unwrap(), "vif1.0");
        assert_eq!(device(&["show", "-s", "dev", "vif1.0"]).unwrap(), "vif1.0");
        assert_eq!(
            device(&["watch", "dev", "vif1.0", "--count", "1"]).unwrap(),
            "vif1.0"
        );
        assert_eq!(
            device(&["attach", "dev", "vif1.0", "--rate", "2mbit"]).unwrap(),
            "vif1.0"
        );
        assert_eq!(device(&["detach", "dev", "vif1.0"]).unwrap(), "vif1.0");
        assert_eq!(device(&["detach", "dev"]).unwrap(), "dev");
        assert_eq!(device(&["detach", "dev", "dev"]).unwrap(), "dev");
        assert_eq!(
            device(&["show", "vif1.0", "root"]).unwrap_err(),
            "unexpected word \"root\": the device is DEV or dev DEV"
        );
    }

    #[test]
    fn committed_man_page_is_up_to_date() {
        let generated = String::from_utf8(man_page()).unwrap();
        let committed = include_str!("../tc-smooth.8");
        assert!(
            generated == committed,
            "tc-smooth/tc-smooth.8 is stale: run `cargo run -p tc-smooth -- man > tc-smooth/tc-smooth.8`"
        );
        assert!(generated.contains("tc\\-smooth attach"));
    }
}
