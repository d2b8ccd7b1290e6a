//! From `HostName` and service name to socket addresses, and between the
//! addresses users see and the ones a dual-stack socket uses on the wire.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};

use sock_core::{Error, HostName, Result, ServiceName, TransportProtocol};

/// The largest UDP payload over IPv4 (65,535 − 20-byte IP header − 8-byte UDP header).
pub const MAX_DATAGRAM_SIZE_V4: usize = 65_507;
/// The largest UDP payload over IPv6 without jumbograms (65,535 − 8-byte UDP header).
pub const MAX_DATAGRAM_SIZE_V6: usize = 65_527;

/// The largest payload that can be sent to `addr`.
pub(crate) fn max_payload(addr: &SocketAddr) -> usize {
    match addr {
        SocketAddr::V4(_) => MAX_DATAGRAM_SIZE_V4,
        SocketAddr::V6(a) if a.ip().to_ipv4_mapped().is_some() => MAX_DATAGRAM_SIZE_V4,
        SocketAddr::V6(_) => MAX_DATAGRAM_SIZE_V6,
    }
}

/// The error for a datagram over the UDP maximum.
pub(crate) fn too_long(actual: usize, max: usize) -> Error {
    Error::LimitExceeded {
        limit: "max_datagram_size",
        actual: actual as u64,
        max: max as u64,
    }
}

/// Parses a service given as text, a [`ServiceName`] or a port number, and
/// looks up its UDP port.
pub(crate) fn udp_port<S>(service: S) -> Result<u16>
where
    S: TryInto<ServiceName>,
    Error: From<S::Error>,
{
    let service: ServiceName = service.try_into()?;
    service.port(TransportProtocol::Udp)
}

/// Which addresses a socket speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// An IPv4 socket.
    V4,
    /// An IPv6-only socket (bound to a specific IPv6 address, or v6-only).
    V6,
    /// An IPv6 socket that also carries IPv4 as mapped addresses.
    Dual,
}

impl Family {
    /// Whether this socket can send to `addr`.
    pub(crate) fn reaches(self, addr: &SocketAddr) -> bool {
        match (self, addr) {
            (Self::Dual, _) | (Self::V4, SocketAddr::V4(_)) => true,
            (Self::V6, SocketAddr::V6(a)) => a.ip().to_ipv4_mapped().is_none(),
            (Self::V4, SocketAddr::V6(a)) => a.ip().to_ipv4_mapped().is_some(),
            (Self::V6, SocketAddr::V4(_)) => false,
        }
    }

    /// The address to hand the kernel for `addr`.
    pub(crate) fn to_wire(self, addr: SocketAddr) -> io::Result<SocketAddr> {
        if !self.reaches(&addr) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                FamilyMismatch { addr, family: self },
            ));
        }
        Ok(match (self, addr) {
            (Self::Dual, SocketAddr::V4(a)) => {
                SocketAddr::V6(SocketAddrV6::new(a.ip().to_ipv6_mapped(), a.port(), 0, 0))
            }
            (Self::V4, SocketAddr::V6(_)) => unmap(addr),
            _ => addr,
        })
    }
}

/// A destination the socket's address family cannot reach.
#[derive(Debug)]
struct FamilyMismatch {
    addr: SocketAddr,
    family: Family,
}

impl fmt::Display for FamilyMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let family = match self.family {
            Family::V4 => "an ipv4",
            Family::V6 | Family::Dual => "an ipv6-only",
        };
        write!(f, "cannot send to {} from {family} socket", self.addr)
    }
}

impl std::error::Error for FamilyMismatch {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        None
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d`; any other address as it is.
pub(crate) fn unmap(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(a) => match a.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), a.port()),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

/// `::ffff:a.b.c.d` as `a.b.c.d`; any other address as it is.
pub(crate) fn unmap_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// Every address of `host` at `port`, in the order to try them.
///
/// IP literals need no lookup (a zone becomes the scope id); `localhost` and
/// names under `.localhost` mean the loopback addresses, without asking a
/// resolver; other names go to the system resolver.
///
/// # Errors
///
/// [`Error::Resolve`] when the resolver fails, [`Error::NoAddresses`] when it
/// answers with nothing, [`Error::InvalidHostName`] for a zone that names no
/// interface.
pub(crate) async fn resolve(host: &HostName, port: u16) -> Result<Vec<SocketAddr>> {
    if let Some(addr) = host.socket_addr(port) {
        return Ok(vec![addr?]);
    }
    if host.is_loopback() {
        return Ok(vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), port),
        ]);
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.canonical_name(), port))
        .await
        .map_err(|source| Error::Resolve {
            host: host.raw_name().to_owned(),
            source,
        })?
        .collect();
    if addrs.is_empty() {
        return Err(Error::NoAddresses {
            host: host.raw_name().to_owned(),
        });
    }
    Ok(addrs)
}

/// The first of `addrs` the socket can reach, or an error naming the host.
pub(crate) fn pick(host: &HostName, addrs: &[SocketAddr], family: Family) -> Result<SocketAddr> {
    addrs
        .iter()
        .copied()
        .find(|a| family.reaches(a))
        .ok_or_else(|| Error::NoAddresses {
            host: host.raw_name().to_owned(),
        })
}

/// The error for a destination a
/// [`multicast_only`](DatagramSocketControl::multicast_only) socket may not
/// send to (or connect to).
pub(crate) fn unicast_refused(addr: SocketAddr) -> Error {
    Error::unsupported(
        format!("sending to {addr}"),
        "a multicast_only socket sends only to multicast groups (224.0.0.0/4, ff00::/8); \
         use a socket without multicast_only for unicast or broadcast",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dual_stack_maps_ipv4_and_unmaps_it_back() {
        let v4: SocketAddr = "127.0.0.1:7".parse().unwrap();
        let wire = Family::Dual.to_wire(v4).unwrap();
        assert_eq!(wire, "[::ffff:127.0.0.1]:7".parse().unwrap());
        assert_eq!(unmap(wire), v4);
        let v6: SocketAddr = "[::1]:7".parse().unwrap();
        assert_eq!(Family::Dual.to_wire(v6).unwrap(), v6);
        assert_eq!(unmap(v6), v6);
    }

    #[test]
    fn a_family_mismatch_is_an_error_naming_the_address() {
        let err = Family::V6
            .to_wire("192.0.2.1:9".parse().unwrap())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot send to 192.0.2.1:9 from an ipv6-only socket"
        );
        assert!(Family::V4.to_wire("[::1]:9".parse().unwrap()).is_err());
        assert_eq!(
            Family::V4
                .to_wire("[::ffff:192.0.2.1]:9".parse().unwrap())
                .unwrap(),
            "192.0.2.1:9".parse().unwrap()
        );
    }

    #[test]
    fn payload_limits_follow_the_family() {
        assert_eq!(max_payload(&"1.2.3.4:1".parse().unwrap()), 65_507);
        assert_eq!(max_payload(&"[::1]:1".parse().unwrap()), 65_527);
        assert_eq!(max_payload(&"[::ffff:1.2.3.4]:1".parse().unwrap()), 65_507);
        assert_eq!(
            too_long(70_000, 65_507).status(),
            sock_core::SocketErrorStatus::MessageTooLong
        );
    }

    #[tokio::test]
    async fn literals_and_localhost_resolve_without_a_resolver() {
        let host = HostName::new("localhost").unwrap();
        let addrs = resolve(&host, 53).await.unwrap();
        assert_eq!(addrs.len(), 2);
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 53));
        assert_eq!(
            pick(&host, &addrs, Family::V6).unwrap(),
            "[::1]:53".parse().unwrap()
        );
        let lit = HostName::new("[::1%1]").unwrap();
        let addrs = resolve(&lit, 9).await.unwrap();
        assert_eq!(addrs, vec!["[::1%1]:9".parse().unwrap()]);
        let bad_zone = HostName::new("fe80::1%no-such-if0").unwrap();
        let err = resolve(&bad_zone, 9).await.unwrap_err();
        assert!(err.to_string().contains("no-such-if0"), "{err}");
    }

    #[test]
    fn services_parse_as_text_names_or_numbers() {
        assert_eq!(udp_port("1337").unwrap(), 1337);
        assert_eq!(udp_port(1338u16).unwrap(), 1338);
        assert_eq!(udp_port("").unwrap(), 0);
        assert_eq!(udp_port(ServiceName::new("domain").unwrap()).unwrap(), 53);
        assert!(udp_port("65536").is_err());
    }
}
