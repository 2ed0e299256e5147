//! rtnetlink: check a route against the kernel, add, replace or delete it,
//! and list the routing table the way `ip route` prints it.
//!
//! One socket, spoken to synchronously: no background thread (hardbox must
//! stay single-threaded for setns and credential changes), close-on-exec.
//! neli builds the messages and parses the answers (`wire`); hardbox keeps
//! the plan of a change and its messages (`routes`) and the `ip route`
//! printer (`print`). Every change asks for the kernel's ACK and turns its
//! error code into one line with the cause and the fix.

use neli::consts::nl::NlmF;
use neli::consts::rtnl::{Ifla, RtAddrFamily, Rtm};
use neli::rtnl::{Ifinfomsg, IfinfomsgBuilder, Rtmsg, RtmsgBuilder};
use nix::errno::Errno;

use crate::error::{Error, Result};
use crate::route::{Family, RouteSpec};

mod print;
mod routes;
mod wire;

pub use routes::{Change, CheckedRoute};
use wire::{Failure, Wire};

const CAP_HINT: &str = "needs CAP_NET_ADMIN: docker run --cap-add NET_ADMIN";

/// A network interface: its index and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    pub index: u32,
    pub name: String,
}

pub struct RouteSocket {
    wire: Wire,
}

impl RouteSocket {
    pub fn open() -> Result<RouteSocket> {
        let wire = Wire::open().map_err(|e| Error::new(format!("cannot open a netlink socket: {e}")))?;
        Ok(RouteSocket { wire })
    }

    /// Every interface, in the kernel's order (by index, as `ip link` lists them).
    pub fn links(&mut self) -> Result<Vec<Link>> {
        let request = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .build()
            .map_err(|e| Error::new(format!("listing interfaces: {e}")))?;
        let infos =
            self.wire.request(Rtm::Getlink, NlmF::DUMP, request).map_err(|f| failed("listing interfaces", f))?;
        let mut links = Vec::with_capacity(infos.len());
        for info in &infos {
            let info = wire::payload::<Ifinfomsg>(info).map_err(|f| failed("listing interfaces", f))?;
            links.extend(link(&info));
        }
        Ok(links)
    }

    /// Asks the kernel what can be known without changing anything: that the
    /// interface exists. An unknown one is refused with the names that do.
    pub fn check(&mut self, spec: &RouteSpec) -> Result<CheckedRoute> {
        let oif = match &spec.dev {
            None => None,
            Some(dev) => {
                let links = self.links()?;
                match links.iter().find(|link| &link.name == dev) {
                    Some(link) => Some(link.index),
                    None => {
                        let names: Vec<&str> = links.iter().map(|link| link.name.as_str()).collect();
                        return Err(Error::new(format!(
                            "{spec}: no interface named {dev} (there are: {})",
                            names.join(", ")
                        )));
                    }
                }
            }
        };
        Ok(CheckedRoute { spec: spec.clone(), oif })
    }

    /// Makes the change and waits for the kernel's ACK.
    pub fn apply(&mut self, route: &CheckedRoute, change: Change) -> Result<()> {
        self.change(route, change).map_err(|failure| routes::refused(route, change, failure))
    }

    /// Sets the route with replace semantics, and says whether it is new: a
    /// route this call created can be undone by deleting it, one it replaced
    /// cannot. Create-only first, replace only when the kernel says EEXIST.
    pub fn set(&mut self, route: &CheckedRoute) -> Result<bool> {
        match self.change(route, Change::Create) {
            Ok(()) => Ok(true),
            Err(Failure::Kernel(Errno::EEXIST, _)) => self.apply(route, Change::Replace).map(|()| false),
            Err(failure) => Err(routes::refused(route, Change::Replace, failure)),
        }
    }

    fn change(&mut self, route: &CheckedRoute, change: Change) -> std::result::Result<(), Failure> {
        let kind = if change == Change::Delete { Rtm::Delroute } else { Rtm::Newroute };
        let message = routes::route_message(route, change)?;
        self.wire.request(kind, change.flags(), message).map(drop)
    }

    /// The routing table, one line per route in `ip route`'s order and words.
    /// `family` None means IPv4 then IPv6; `table` None means every table
    /// (`ip route show table all`).
    pub fn list(&mut self, family: Option<Family>, table: Option<u32>) -> Result<Vec<String>> {
        let links = self.links()?;
        let families = match family {
            Some(family) => vec![family],
            None => vec![Family::V4, Family::V6],
        };
        let mut lines = Vec::new();
        for family in families {
            let request = RtmsgBuilder::default()
                .rtm_family(routes::family(family))
                .rtm_dst_len(0)
                .rtm_src_len(0)
                .rtm_tos(0)
                .rtm_table(0.into())
                .rtm_protocol(0.into())
                .rtm_scope(0.into())
                .rtm_type(0.into())
                .build()
                .map_err(|e| Error::new(format!("listing routes: {e}")))?;
            let routes =
                self.wire.request(Rtm::Getroute, NlmF::DUMP, request).map_err(|f| failed("listing routes", f))?;
            for route in &routes {
                let route = wire::payload::<Rtmsg>(route).map_err(|f| failed("listing routes", f))?;
                lines.extend(print::describe(&route, &links, table));
            }
        }
        Ok(lines)
    }
}

/// The `ip route` lines of one datagram of a route dump, read as `list`
/// reads the kernel's (request 1, port 0): the fuzz target's way in.
pub fn dump_lines(datagram: &[u8]) -> Vec<String> {
    let mut routes = Vec::new();
    let _ = wire::read_answer(datagram, 1, 0, &mut routes);
    let routes = routes.iter().map_while(|route| wire::payload::<Rtmsg>(route).ok());
    routes.filter_map(|route| print::describe(&route, &[], None)).collect()
}

/// An interface from an RTM_NEWLINK message: its index and IFLA_IFNAME.
fn link(info: &Ifinfomsg) -> Option<Link> {
    let name = info.rtattrs().iter().find(|attr| *attr.rta_type() == Ifla::Ifname)?;
    let index = u32::try_from(*info.ifi_index()).ok()?;
    Some(Link { index, name: print::c_string(name.rta_payload().as_ref()) })
}

fn failed(what: &str, failure: Failure) -> Error {
    match failure {
        Failure::Kernel(errno, text) => Error::sys(what, errno, text.as_deref()),
        Failure::Socket(text) => Error::new(format!("{what}: netlink: {text}")),
    }
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn the_socket_is_close_on_exec() {
        let socket = RouteSocket::open().unwrap();
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", socket.wire.socket.as_raw_fd())).unwrap();
        let flags = info.lines().find_map(|line| line.strip_prefix("flags:")).unwrap();
        let flags = i64::from_str_radix(flags.trim(), 8).unwrap();
        assert_ne!(flags & i64::from(libc::O_CLOEXEC), 0, "{info}");
    }

    #[test]
    fn a_dump_datagram_reads_as_ip_route_lines() {
        let mut datagram = Vec::new();
        for (len, kind, flags, payload) in [
            (36u32, 24u16, 2u16, &[2, 24, 0, 0, 254, 3, 0, 1, 0, 0, 0, 0, 8, 0, 1, 0, 203, 0, 113, 0][..]),
            (20, 3, 2, &[0; 4][..]),
        ] {
            for field in
                [&len.to_ne_bytes()[..], &kind.to_ne_bytes(), &flags.to_ne_bytes(), &1u32.to_ne_bytes(), &[0; 4]]
            {
                datagram.extend_from_slice(field);
            }
            datagram.extend_from_slice(payload);
        }
        assert_eq!(dump_lines(&datagram), ["203.0.113.0/24"]);
        datagram[28..30].copy_from_slice(&3u16.to_ne_bytes());
        assert!(dump_lines(&datagram).is_empty(), "an attribute shorter than its header spoils the route");
    }
}
