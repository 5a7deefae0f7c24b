//! Talking to the kernel: one rtnetlink connection with extended ACKs on,
//! requests whose refusals carry the kernel's extack text, and the
//! operations of the subcommands (qdisc verbs, dumps, attach, detach).

use crate::nl::{self, Verb, FILTER_PREF, INGRESS_HANDLE, TC_H_INGRESS, TC_H_ROOT};
use crate::show::Qdisc;
use futures::StreamExt;
use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::link::{InfoKind, LinkAttribute, LinkInfo, LinkMessage};
use netlink_packet_route::tc::{
    TcAction, TcActionAttribute, TcActionMirrorOption, TcActionOption, TcAttribute,
    TcFilterMatchAllOption, TcMessage, TcOption,
};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::AsyncSocket;
use rtnetlink::Handle;
use smooth_core::uapi::Value;
use smooth_netlink::Extack;
use std::fmt;

const ENOENT: i32 = 2;
const ENODEV: i32 = 19;
const EEXIST: i32 = 17;
const EINVAL: i32 = 22;

/// Why a command failed; decides the message and the exit status.
#[derive(Debug)]
pub enum Failure {
    /// Invalid command line or value (exit 2): smooth-core's one line.
    Usage(String),
    /// The kernel refused (exit 1): its extack text, or strerror.
    Kernel { errno: i32, text: String },
    /// Anything else (exit 1).
    Other(String),
}

impl Failure {
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Usage(_) => 2,
            Failure::Kernel { .. } | Failure::Other(_) => 1,
        }
    }
    fn errno(&self) -> Option<i32> {
        match self {
            Failure::Kernel { errno, .. } => Some(*errno),
            _ => None,
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Usage(m) | Failure::Other(m) => f.write_str(m),
            Failure::Kernel { text, .. } => write!(f, "Error: {text}"),
        }
    }
}

pub type Result<T> = std::result::Result<T, Failure>;

/// An rtnetlink connection (NETLINK_EXT_ACK on).
pub struct Nl {
    handle: Handle,
}

impl Nl {
    pub fn connect() -> Result<Nl> {
        let (mut conn, handle, _) = rtnetlink::new_connection()
            .map_err(|e| Failure::Other(format!("cannot open rtnetlink: {e}")))?;
        conn.socket_mut()
            .socket_mut()
            .set_ext_ack(true)
            .map_err(|e| Failure::Other(format!("cannot enable extended ACKs: {e}")))?;
        tokio::spawn(conn);
        Ok(Nl { handle })
    }

    /// Sends one request and collects the replies; a refusal becomes
    /// [`Failure::Kernel`] with the extack text when the kernel gave one.
    pub async fn request(
        &mut self,
        msg: NetlinkMessage<RouteNetlinkMessage>,
    ) -> Result<Vec<RouteNetlinkMessage>> {
        let mut replies = self
            .handle
            .request(msg)
            .map_err(|e| Failure::Other(format!("netlink request failed: {e}")))?;
        let mut out = Vec::new();
        while let Some(reply) = replies.next().await {
            match reply.payload {
                NetlinkPayload::InnerMessage(m) => out.push(m),
                NetlinkPayload::Error(e) => {
                    if let Some(code) = e.code {
                        let errno = -code.get();
                        let text = Extack::parse(reply.header.flags, &e.header)
                            .ok()
                            .and_then(|x| x.message)
                            .unwrap_or_else(|| {
                                std::io::Error::from_raw_os_error(errno).to_string()
                            });
                        return Err(Failure::Kernel { errno, text });
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// A link's index and message, None if there is no such link.
    pub async fn link(&mut self, name: &str) -> Result<Option<LinkMessage>> {
        match self.request(nl::link_get(name)).await {
            Ok(replies) => Ok(replies.into_iter().find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(l),
                _ => None,
            })),
            Err(e) if e.errno() == Some(ENODEV) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// A link's index or a one-line error.
    pub async fn ifindex(&mut self, name: &str) -> Result<u32> {
        match self.link(name).await? {
            Some(l) => Ok(l.header.index),
            None => Err(Failure::Other(format!("Cannot find device \"{name}\""))),
        }
    }

    /// The qdiscs of one device.
    pub async fn qdiscs(&mut self, ifindex: u32) -> Result<Vec<Qdisc>> {
        let replies = self.request(nl::qdisc_dump()).await?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewQueueDiscipline(t) => Some(Qdisc::from_message(t)),
                _ => None,
            })
            .filter(|q| q.ifindex == ifindex)
            .collect())
    }

    /// The filters under `parent` of one device.
    pub async fn filters(&mut self, ifindex: u32, parent: u32) -> Result<Vec<TcMessage>> {
        let replies = self.request(nl::filter_dump(ifindex, parent)).await?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewTrafficFilter(t) => Some(t),
                _ => None,
            })
            .collect())
    }

    pub async fn qdisc(
        &mut self,
        verb: Verb,
        ifindex: u32,
        parent: u32,
        handle: u32,
        values: &[Value],
    ) -> Result<()> {
        self.request(nl::qdisc_request(verb, ifindex, parent, handle, values))
            .await
            .map(drop)
    }
}

/// The IFB attach uses for `dev`: `ifb-DEV` if it fits in IFNAMSIZ (15
/// characters), else `ifb-` + the first 6 characters + `-` + 4 hex digits
/// of a stable hash (FNV-1a) of the whole name.
pub fn ifb_name(dev: &str) -> String {
    let simple = format!("ifb-{dev}");
    if simple.len() <= 15 {
        return simple;
    }
    let hash = dev.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    let prefix: String = dev.chars().take(6).collect();
    format!("ifb-{prefix}-{:04x}", (hash ^ (hash >> 16)) & 0xffff)
}

/// What the alias attach gives the IFB it makes starts with, before the
/// device's name: whose ingress the IFB shapes, so that two devices whose
/// long names share an IFB name never share (or delete) one IFB.
const IFB_ALIAS: &str = "smooth ingress of ";

/// The alias of the IFB attach makes for `dev`.
pub fn ifb_alias(dev: &str) -> String {
    format!("{IFB_ALIAS}{dev}")
}

/// Whose ingress an IFB is, if attach named it (its alias).
fn ifb_owner(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|a| match a {
        LinkAttribute::IfAlias(alias) => alias.strip_prefix(IFB_ALIAS),
        _ => None,
    })
}

/// Whether `link`, an IFB, may serve `dev`: it is `dev`'s, or nobody's
/// (made by hand, or by a tc-smooth that did not name its IFBs).
fn serves(link: &LinkMessage, dev: &str) -> bool {
    ifb_owner(link).is_none_or(|owner| owner == dev)
}

fn is_ifb(link: &LinkMessage) -> bool {
    link.attributes.iter().any(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos
            .iter()
            .any(|i| matches!(i, LinkInfo::Kind(InfoKind::Ifb))),
        _ => false,
    })
}

/// The mirred target of attach's redirect filter, if `f` is that filter.
fn redirect_target(f: &TcMessage) -> Option<u32> {
    if f.header.info >> 16 != u32::from(FILTER_PREF) {
        return None;
    }
    let actions: &Vec<TcAction> = f.attributes.iter().find_map(|a| match a {
        TcAttribute::Options(opts) => opts.iter().find_map(|o| match o {
            TcOption::MatchAll(TcFilterMatchAllOption::Action(acts)) => Some(acts),
            _ => None,
        }),
        _ => None,
    })?;
    actions.iter().find_map(|act| {
        act.attributes.iter().find_map(|a| match a {
            TcActionAttribute::Options(opts) => opts.iter().find_map(|o| match o {
                TcActionOption::Mirror(TcActionMirrorOption::Parms(p)) => Some(p.ifindex),
                _ => None,
            }),
            _ => None,
        })
    })
}

/// Which directions attach shapes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Directions {
    pub egress: bool,
    pub ingress: bool,
}

/// Puts smooth with exactly `values` as the root qdisc of `ifindex`:
/// replace changes an existing root smooth in place (counters kept) and
/// grafts a new one over any other root qdisc.
async fn put_root_smooth(nl: &mut Nl, ifindex: u32, values: &[Value]) -> Result<()> {
    nl.qdisc(Verb::Replace, ifindex, TC_H_ROOT, 0, values).await
}

pub async fn attach(nl: &mut Nl, dev: &str, values: &[Value], dirs: Directions) -> Result<()> {
    let ifindex = nl.ifindex(dev).await?;
    let name = ifb_name(dev);
    // A link of the IFB's name that attach may not use refuses the whole
    // attach, before anything is changed.
    let existing = if !dirs.ingress {
        None
    } else {
        match nl.link(&name).await? {
            None => None,
            Some(l) if is_ifb(&l) && serves(&l, dev) => {
                Some((l.header.index, ifb_owner(&l).is_some()))
            }
            Some(l) if is_ifb(&l) => {
                return Err(Failure::Other(format!(
                    "IFB \"{name}\" shapes the ingress of {}: not sharing it with {dev}",
                    ifb_owner(&l).unwrap_or_default()
                )))
            }
            Some(_) => {
                return Err(Failure::Other(format!(
                    "\"{name}\" exists and is not an IFB: not touching it"
                )))
            }
        }
    };
    if dirs.egress {
        put_root_smooth(nl, ifindex, values).await?;
    }
    if !dirs.ingress {
        return Ok(());
    }
    let ifb = match existing {
        Some((index, named)) => {
            if !named {
                // Taken over: from now on it is DEV's.
                nl.request(nl::link_alias(index, &ifb_alias(dev))).await?;
            }
            nl.request(nl::link_up(index)).await?;
            index
        }
        None => {
            nl.request(nl::ifb_add(&name)).await?;
            let index = nl.ifindex(&name).await?;
            nl.request(nl::link_alias(index, &ifb_alias(dev))).await?;
            index
        }
    };
    put_root_smooth(nl, ifb, values).await?;
    match nl.request(nl::ingress_request(Verb::Add, ifindex)).await {
        Err(e) if e.errno() == Some(EEXIST) => {}
        other => other.map(drop)?,
    }
    let filters = nl.filters(ifindex, INGRESS_HANDLE).await?;
    let ours: Vec<Option<u32>> = filters
        .iter()
        .filter(|f| f.header.info >> 16 == u32::from(FILTER_PREF))
        .map(redirect_target)
        .collect();
    if ours.contains(&Some(ifb)) {
        return Ok(());
    }
    if !ours.is_empty() {
        // A stale redirect (an IFB that was recreated): replace it.
        nl.request(nl::redirect_filter_del(ifindex)).await?;
    }
    nl.request(nl::redirect_filter_add(ifindex, ifb))
        .await
        .map(drop)
}

/// Ignores "nothing there" refusals: detach is idempotent.
fn absent_ok(r: Result<Vec<RouteNetlinkMessage>>) -> Result<()> {
    match r {
        Err(e) if matches!(e.errno(), Some(ENOENT | EINVAL | ENODEV)) => Ok(()),
        other => other.map(drop),
    }
}

pub async fn detach(nl: &mut Nl, dev: &str) -> Result<()> {
    if let Some(link) = nl.link(dev).await? {
        let ifindex = link.header.index;
        let root_is_smooth = nl
            .qdiscs(ifindex)
            .await?
            .iter()
            .any(|q| q.parent == TC_H_ROOT && q.kind == "smooth");
        if root_is_smooth {
            absent_ok(
                nl.request(nl::qdisc_request(Verb::Del, ifindex, TC_H_ROOT, 0, &[]))
                    .await,
            )?;
        }
        let has_ingress = nl
            .qdiscs(ifindex)
            .await?
            .iter()
            .any(|q| q.kind == "ingress" && q.parent == TC_H_INGRESS);
        if has_ingress {
            let filters = nl.filters(ifindex, INGRESS_HANDLE).await?;
            if filters.iter().any(|f| redirect_target(f).is_some()) {
                absent_ok(nl.request(nl::redirect_filter_del(ifindex)).await)?;
            }
            if nl.filters(ifindex, INGRESS_HANDLE).await?.is_empty() {
                absent_ok(nl.request(nl::ingress_request(Verb::Del, ifindex)).await)?;
            }
        }
    }
    let name = ifb_name(dev);
    if let Some(l) = nl.link(&name).await? {
        if is_ifb(&l) && serves(&l, dev) {
            absent_ok(nl.request(nl::link_del(l.header.index)).await)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ifb_serves_the_device_its_alias_names() {
        let ifb = |alias: Option<&str>| {
            let mut l = LinkMessage::default();
            l.attributes
                .push(LinkAttribute::IfName("ifb-vif1234-abcd".into()));
            if let Some(a) = alias {
                l.attributes.push(LinkAttribute::IfAlias(a.into()));
            }
            l
        };
        let dev = "vif12345678.0";
        assert!(serves(&ifb(Some(&ifb_alias(dev))), dev));
        assert!(!serves(&ifb(Some(&ifb_alias("vif12349999.0"))), dev));
        assert_eq!(
            ifb_owner(&ifb(Some(&ifb_alias("vif12349999.0")))),
            Some("vif12349999.0")
        );
        // Unnamed (by hand, or an older tc-smooth), or another alias: served.
        assert!(serves(&ifb(None), dev));
        assert!(serves(&ifb(Some("uplink mirror")), dev));
    }

    #[test]
    fn ifb_names_are_short_and_stable() {
        assert_eq!(ifb_name("vif1.0"), "ifb-vif1.0");
        assert_eq!(ifb_name("vif12345.0"), "ifb-vif12345.0");
        let long = ifb_name("vif123456.10");
        assert!(long.len() <= 15, "{long}");
        assert!(long.starts_with("ifb-vif123-"));
        assert_eq!(long, ifb_name("vif123456.10"));
        assert_ne!(long, ifb_name("vif123456.11"));
    }
}
