//! Socket options applied to the operating system's socket: hop limits,
//! multicast membership and loopback, before and after binding.

use std::net::{IpAddr, SocketAddr};

use sock_core::{io_context, Error, HostName, Result};
use socket2::{SockRef, Socket};

use crate::resolve::Family;
use crate::socket::lock;
use crate::{sys, DatagramSocket};

impl DatagramSocket {
    /// Joins the multicast group `group` (UWP's `JoinMulticastGroup`), IPv4
    /// or IPv6, on the interface of the bound address (the system's choice
    /// when bound to all addresses).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHostName`] when `group` is not a multicast address; a
    /// group of a family the socket does not speak; the system's refusal.
    pub fn join_multicast_group(&self, group: &HostName) -> Result<()> {
        self.membership(group, true)
    }

    /// Leaves a group joined with
    /// [`join_multicast_group`](Self::join_multicast_group).
    ///
    /// # Errors
    ///
    /// As [`join_multicast_group`](Self::join_multicast_group); also when
    /// the group was not joined.
    pub fn leave_multicast_group(&self, group: &HostName) -> Result<()> {
        self.membership(group, false)
    }

    fn membership(&self, group: &HostName, join: bool) -> Result<()> {
        let ip = group
            .ip_addr()
            .filter(IpAddr::is_multicast)
            .ok_or_else(|| {
                Error::invalid_host_name(
                    group.raw_name(),
                    "is not a multicast group address (224.0.0.0/4 or ff00::/8)",
                )
            })?;
        let what = if join { "join" } else { "leave" };
        let sock = SockRef::from(&self.io);
        let res = match ip {
            IpAddr::V4(g) => {
                let interface = match self.local.ip() {
                    IpAddr::V4(a) => a,
                    IpAddr::V6(_) if self.family == Family::Dual => std::net::Ipv4Addr::UNSPECIFIED,
                    IpAddr::V6(_) => return Err(family_error(ip, self.family)),
                };
                if join {
                    sock.join_multicast_v4(&g, &interface)
                } else {
                    sock.leave_multicast_v4(&g, &interface)
                }
            }
            IpAddr::V6(g) => {
                if self.family == Family::V4 {
                    return Err(family_error(ip, self.family));
                }
                let interface = match self.local {
                    SocketAddr::V6(a) if a.scope_id() != 0 => a.scope_id(),
                    SocketAddr::V6(a) if !a.ip().is_unspecified() => {
                        sys::interface_index_of(IpAddr::V6(*a.ip()))?
                    }
                    _ => 0,
                };
                if join {
                    sock.join_multicast_v6(&g, interface)
                } else {
                    sock.leave_multicast_v6(&g, interface)
                }
            }
        };
        res.map_err(|e| {
            Error::Io(io_context(
                e,
                format!("could not {what} multicast group {ip}"),
            ))
        })
    }

    /// Whether this host's own multicast datagrams come back to its sockets
    /// (default: on).
    ///
    /// # Errors
    ///
    /// The system's refusal.
    pub fn set_multicast_loopback(&self, on: bool) -> Result<()> {
        let sock = SockRef::from(&self.io);
        match self.family {
            Family::V4 => sock.set_multicast_loop_v4(on)?,
            Family::V6 => sock.set_multicast_loop_v6(on)?,
            Family::Dual => {
                sock.set_multicast_loop_v6(on)?;
                sock.set_multicast_loop_v4(on)?;
            }
        }
        Ok(())
    }

    /// The hop limit (TTL) of multicast datagrams sent (default 1: this
    /// link only).
    ///
    /// # Errors
    ///
    /// The system's refusal.
    pub fn set_multicast_hop_limit(&self, hops: u8) -> Result<()> {
        let hops = u32::from(hops);
        let sock = SockRef::from(&self.io);
        match self.family {
            Family::V4 => sock.set_multicast_ttl_v4(hops)?,
            Family::V6 => sock.set_multicast_hops_v6(hops)?,
            Family::Dual => {
                sock.set_multicast_hops_v6(hops)?;
                sock.set_multicast_ttl_v4(hops)?;
            }
        }
        Ok(())
    }

    /// Changes the unicast hop limit after binding (UWP allows this one
    /// option to change; flush output streams first).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for 0; the system's refusal.
    pub fn set_outbound_unicast_hop_limit(&self, hops: u8) -> Result<()> {
        let sock = SockRef::from(&self.io);
        set_hop_limit(&sock, self.family, hops)?;
        lock(&self.control).set_hop_limit(hops);
        Ok(())
    }

    /// The unicast hop limit in force.
    ///
    /// # Errors
    ///
    /// The system's refusal.
    pub fn outbound_unicast_hop_limit(&self) -> Result<u8> {
        let sock = SockRef::from(&self.io);
        let hops = match self.family {
            Family::V4 => sock.ttl_v4()?,
            Family::V6 | Family::Dual => sock.unicast_hops_v6()?,
        };
        Ok(u8::try_from(hops).unwrap_or(u8::MAX))
    }
}

/// Sets the unicast hop limit for the families the socket speaks.
pub(crate) fn set_hop_limit(socket: &Socket, family: Family, hops: u8) -> Result<()> {
    if hops == 0 {
        return Err(Error::invalid_argument(
            "outbound_unicast_hop_limit",
            "must be from 1 to 255, not 0",
        ));
    }
    let hops = u32::from(hops);
    match family {
        Family::V4 => socket.set_ttl_v4(hops)?,
        Family::V6 => socket.set_unicast_hops_v6(hops)?,
        Family::Dual => {
            socket.set_unicast_hops_v6(hops)?;
            // IPv4 traffic of a dual-stack socket uses the IPv4 TTL.
            let _ = socket.set_ttl_v4(hops);
        }
    }
    Ok(())
}

fn family_error(group: IpAddr, family: Family) -> Error {
    let socket = match family {
        Family::V4 => "an ipv4",
        Family::V6 | Family::Dual => "an ipv6-only",
    };
    Error::unsupported(
        format!("multicast group {group}"),
        format!("{socket} socket cannot join it; bind a socket of the group's family"),
    )
}
