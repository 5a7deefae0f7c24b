//! What `show` prints: a smooth qdisc decoded from a netlink dump, as text
//! (tc's layout) or as JSON with the keys and numbers of `tc -s -j qdisc
//! show` with q_smooth.so. What to print comes from smooth-core's
//! `report` (driven by the options and xstats tables), which the tc plugin
//! prints too, so both front ends print the same thing by construction.

use crate::nl::{format_tc_id, TC_H_ROOT};
use netlink_packet_core::{DefaultNla, Nla};
use netlink_packet_route::tc::{TcAttribute, TcMessage, TcOption, TcStats2, TcXstats};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use smooth_core::report::{self, BucketLabel, Item};
use smooth_core::uapi::XStats;
use smooth_core::Config;

/// `TCA_STATS_PKT64`: the packet count in full, next to the 32-bit one of
/// `TCA_STATS_BASIC` once that has wrapped.
const TCA_STATS_PKT64: u16 = 8;

/// A JSON value whose objects keep their keys in insertion order (tc's).
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    U(u64),
    S(String),
    B(bool),
    Obj(Vec<(String, J)>),
    Arr(Vec<J>),
}

impl Serialize for J {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            J::U(n) => s.serialize_u64(*n),
            J::S(t) => s.serialize_str(t),
            J::B(b) => s.serialize_bool(*b),
            J::Obj(fields) => {
                let mut m = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
            J::Arr(items) => {
                let mut a = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    a.serialize_element(v)?;
                }
                a.end()
            }
        }
    }
}

/// The queue counters of `TCA_STATS2` (tc's names).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub bytes: u64,
    pub packets: u64,
    pub drops: u64,
    pub overlimits: u64,
    pub requeues: u64,
    pub backlog: u64,
    pub qlen: u64,
}

/// One qdisc of a dump.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Qdisc {
    pub ifindex: u32,
    pub kind: String,
    pub handle: u32,
    pub parent: u32,
    pub refcnt: u32,
    /// A smooth qdisc's option attributes, `(type, payload)` in the
    /// kernel's order (empty for other kinds).
    pub options: Vec<(u16, Vec<u8>)>,
    pub counters: Counters,
    pub xstats: Option<XStats>,
}

impl Qdisc {
    /// Decodes a qdisc message of a dump.
    pub fn from_message(msg: &TcMessage) -> Qdisc {
        let mut q = Qdisc {
            ifindex: msg.header.index as u32,
            handle: u32::from(msg.header.handle),
            parent: u32::from(msg.header.parent),
            refcnt: msg.header.info,
            ..Qdisc::default()
        };
        let mut app = None;
        for a in &msg.attributes {
            match a {
                TcAttribute::Kind(k) => q.kind = k.clone(),
                TcAttribute::Options(opts) => {
                    // An unknown kind's options come back as one raw attribute.
                    if let [TcOption::Other(nla)] = opts.as_slice() {
                        q.options = nested(&nla_value(nla));
                    }
                }
                TcAttribute::Xstats(TcXstats::Other(bytes)) => app = Some(bytes.clone()),
                TcAttribute::Stats2(stats) => {
                    for s in stats {
                        match s {
                            TcStats2::Basic(b) => {
                                q.counters.bytes = b.bytes;
                                // The 64-bit count truncated; the kernel
                                // adds TCA_STATS_PKT64 with the whole one
                                // once it is larger (kept, in either order).
                                q.counters.packets = q.counters.packets.max(u64::from(b.packets));
                            }
                            TcStats2::Other(nla) if nla.kind() == TCA_STATS_PKT64 => {
                                if let Ok(bytes) = <[u8; 8]>::try_from(nla_value(nla).as_slice()) {
                                    q.counters.packets = u64::from_ne_bytes(bytes);
                                }
                            }
                            TcStats2::Queue(st) => {
                                q.counters.qlen = u64::from(st.qlen);
                                q.counters.backlog = u64::from(st.backlog);
                                q.counters.drops = u64::from(st.drops);
                                q.counters.requeues = u64::from(st.requeues);
                                q.counters.overlimits = u64::from(st.overlimits);
                            }
                            TcStats2::App(TcXstats::Other(bytes)) if app.is_none() => {
                                app = Some(bytes.clone())
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
        }
        if q.kind != "smooth" {
            q.options.clear();
        } else if let Some(bytes) = app {
            q.xstats = XStats::decode(&bytes);
        }
        q
    }
}

impl Qdisc {
    /// The configuration its options report (the options this version
    /// knows on top of the defaults); `None` if not a smooth qdisc.
    pub fn config(&self) -> Option<Config> {
        report::config(self.option_attrs())
    }

    fn option_attrs(&self) -> impl Iterator<Item = (u16, &[u8])> {
        self.options.iter().map(|(k, p)| (*k, p.as_slice()))
    }
}

/// The attributes nested in `bytes`, up to a malformed one.
fn nested(bytes: &[u8]) -> Vec<(u16, Vec<u8>)> {
    smooth_netlink::Attrs::new(bytes)
        .map_while(Result::ok)
        .map(|a| (a.kind, a.payload.to_vec()))
        .collect()
}

fn nla_value(nla: &DefaultNla) -> Vec<u8> {
    let mut out = vec![0; nla.value_len()];
    nla.emit_value(&mut out);
    out
}

fn items_obj<'a>(items: impl Iterator<Item = Item<'a>>) -> Vec<(String, J)> {
    items
        .map(|i| {
            let value = match i.value.number() {
                Some(n) => J::U(n),
                None => J::S(i.value.to_string()),
            };
            (i.key.to_string(), value)
        })
        .collect()
}

fn hist_obj(buckets: &[u64]) -> J {
    J::Obj(
        buckets
            .iter()
            .enumerate()
            .map(|(k, n)| (BucketLabel(k).to_string(), J::U(*n)))
            .collect(),
    )
}

/// The xstats object of `tc -s -j`.
pub fn xstats_json(x: &XStats) -> J {
    let mut obj = items_obj(report::counters(x));
    obj.extend(report::histograms(x).map(|(name, b)| (name.to_string(), hist_obj(b))));
    J::Obj(obj)
}

/// One qdisc as `tc [-s] -j qdisc show` prints it.
pub fn to_json(q: &Qdisc, stats: bool) -> J {
    let mut obj = vec![
        ("kind".to_string(), J::S(q.kind.clone())),
        ("handle".to_string(), J::S(format_tc_id(q.handle))),
    ];
    if q.parent == TC_H_ROOT {
        obj.push(("root".into(), J::B(true)));
    } else {
        obj.push(("parent".into(), J::S(format_tc_id(q.parent))));
    }
    if q.refcnt != 1 {
        obj.push(("refcnt".into(), J::U(q.refcnt.into())));
    }
    obj.push((
        "options".into(),
        J::Obj(items_obj(report::options(q.option_attrs()))),
    ));
    if stats {
        let c = &q.counters;
        for (k, v) in [
            ("bytes", c.bytes),
            ("packets", c.packets),
            ("drops", c.drops),
            ("overlimits", c.overlimits),
            ("requeues", c.requeues),
            ("backlog", c.backlog),
            ("qlen", c.qlen),
        ] {
            obj.push((k.into(), J::U(v)));
        }
        if let Some(x) = &q.xstats {
            obj.push(("xstats".into(), xstats_json(x)));
        }
    }
    J::Obj(obj)
}

fn text_items<'a>(items: impl Iterator<Item = Item<'a>>) -> String {
    items
        .map(|i| format!("{} {}", i.key, i.value))
        .collect::<Vec<_>>()
        .join(" ")
}

fn text_hist(name: &str, buckets: &[u64]) -> String {
    let parts: Vec<String> = buckets
        .iter()
        .enumerate()
        .map(|(k, n)| format!("{}:{n}", BucketLabel(k)))
        .collect();
    format!("{name} {}", parts.join(" "))
}

/// One qdisc as `tc [-s] qdisc show` prints it (with the device name).
pub fn to_text(q: &Qdisc, dev: &str, stats: bool) -> String {
    let mut out = format!("qdisc {} {} dev {dev} ", q.kind, format_tc_id(q.handle));
    if q.parent == TC_H_ROOT {
        out.push_str("root ");
    } else {
        out.push_str(&format!("parent {} ", format_tc_id(q.parent)));
    }
    if q.refcnt != 1 {
        out.push_str(&format!("refcnt {} ", q.refcnt));
    }
    out.push_str(&text_items(report::options(q.option_attrs())));
    let mut out = out.trim_end().to_string();
    if stats {
        let c = &q.counters;
        out.push_str(&format!(
            "\n Sent {} bytes {} pkt (dropped {}, overlimits {} requeues {})\n backlog {}b {}p requeues {}",
            c.bytes, c.packets, c.drops, c.overlimits, c.requeues, c.backlog, c.qlen, c.requeues
        ));
        if let Some(x) = &q.xstats {
            out.push_str(&format!("\n  {}", text_items(report::counters(x))));
            for (name, buckets) in report::histograms(x) {
                out.push_str(&format!("\n  {}", text_hist(name, buckets)));
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use netlink_packet_route::tc::{TcStatsBasic, TcStatsQueue};

    /// `cfg` as a dump carries it.
    pub fn attrs(cfg: &Config) -> Vec<(u16, Vec<u8>)> {
        smooth_core::uapi::to_attrs(cfg)
            .iter()
            .map(|v| {
                let (p, n) = v.payload();
                (v.kind(), p[..n].to_vec())
            })
            .collect()
    }

    pub fn sample() -> Qdisc {
        let mut x = XStats {
            version: XStats::VERSION,
            window_min: 1_000_000,
            window_max: 4_000_000,
            raised: 42,
            drops_ceiling: 3,
            ..XStats::default()
        };
        x.sojourn_hist[0] = 5;
        x.sojourn_hist[15] = 1;
        Qdisc {
            ifindex: 3,
            kind: "smooth".into(),
            handle: 0x8001_0000,
            parent: TC_H_ROOT,
            refcnt: 2,
            // Spelled out: the test does not follow changes of the defaults.
            options: attrs(&Config {
                rate: 250_000,
                window: 3_000_000,
                burst: 20_000_000,
                max_delay: 100_000_000,
                limit: 1000,
                limit_bytes: 0,
            }),
            counters: Counters {
                bytes: 1000,
                packets: 10,
                drops: 3,
                ..Counters::default()
            },
            xstats: Some(x),
        }
    }

    #[test]
    fn json_has_tc_keys_in_tc_order() {
        let text = serde_json::to_string(&to_json(&sample(), true)).unwrap();
        assert!(text.starts_with(
            r#"{"kind":"smooth","handle":"8001:","root":true,"refcnt":2,"options":{"rate":250000,"window":3000000,"burst":20000000,"max_delay":100000000,"limit":1000,"limit_bytes":0},"bytes":1000,"packets":10,"drops":3,"overlimits":0,"requeues":0,"backlog":0,"qlen":0,"xstats":{"window_min":1000000,"window_max":4000000,"#
        ), "{text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["xstats"]["raised"], 42);
        assert_eq!(v["xstats"]["drops_ceiling"], 3);
        assert_eq!(v["xstats"]["sojourn_hist"]["<128us"], 5);
        assert_eq!(v["xstats"]["sojourn_hist"][">=2097152us"], 1);
        assert_eq!(v["xstats"]["lateness_hist"].as_object().unwrap().len(), 16);
        // Every counter of the xstats table but the version is there.
        assert_eq!(
            v["xstats"].as_object().unwrap().len(),
            smooth_core::uapi::COUNTERS.len() - 1
        );
        // Without -s: no counters, no xstats.
        let plain: serde_json::Value =
            serde_json::from_str(&serde_json::to_string(&to_json(&sample(), false)).unwrap())
                .unwrap();
        assert!(plain.get("bytes").is_none() && plain.get("xstats").is_none());
    }

    #[test]
    fn text_is_tc_words() {
        let t = to_text(&sample(), "vif1.0", false);
        assert_eq!(
            t,
            "qdisc smooth 8001: dev vif1.0 root refcnt 2 rate 2Mbit window 3ms burst 20ms max_delay 100ms limit 1000 limit_bytes 0"
        );
        let s = to_text(&sample(), "vif1.0", true);
        assert!(s.contains("\n Sent 1000 bytes 10 pkt (dropped 3,"));
        assert!(s.contains("sojourn_hist <128us:5 "));
    }

    #[test]
    fn decodes_a_dump_message() {
        let cfg = sample().config().unwrap();
        let opts = crate::nl::smooth_options(&smooth_core::uapi::to_attrs(&cfg));
        let x = sample().xstats.unwrap();
        let mut basic = TcStatsBasic::default();
        basic.bytes = 1000;
        basic.packets = 10;
        let mut queue = TcStatsQueue::default();
        queue.drops = 3;
        let mut msg = TcMessage::default();
        msg.header.index = 3;
        msg.header.handle = 0x8001_0000.into();
        msg.header.parent = TC_H_ROOT.into();
        msg.header.info = 2;
        msg.attributes = vec![
            TcAttribute::Kind("smooth".into()),
            TcAttribute::Options(vec![TcOption::Other(DefaultNla::new(
                crate::nl::TCA_OPTIONS,
                opts,
            ))]),
            TcAttribute::Stats2(vec![
                TcStats2::Basic(basic),
                TcStats2::Queue(queue),
                TcStats2::App(TcXstats::Other(x.encode().to_vec())),
            ]),
        ];
        assert_eq!(Qdisc::from_message(&msg), sample());
        // Past 2^32 packets the kernel adds the whole count after the
        // truncated one.
        let whole: u64 = (1 << 32) + 10;
        if let TcAttribute::Stats2(stats) = &mut msg.attributes[2] {
            stats.push(TcStats2::Other(DefaultNla::new(
                TCA_STATS_PKT64,
                whole.to_ne_bytes().to_vec(),
            )));
        }
        assert_eq!(Qdisc::from_message(&msg).counters.packets, whole);
    }
}
