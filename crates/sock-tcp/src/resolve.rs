//! Turning a `HostName` into addresses: the `Resolve` trait, the system
//! resolver, and the shortcut for IP literals.

use std::fmt;
use std::io;
use std::net::SocketAddr;

use sock_core::{Error, HostName, Result};
use sock_core::{ServiceName, TransportProtocol};

use crate::answer::{AddressBatches, Resolving, ResolvingService};
use crate::progressive::one_batch;

/// Resolves host names to socket addresses.
///
/// The default, [`SystemResolver`], asks the operating system (`getaddrinfo`,
/// so `/etc/hosts` and the configured DNS servers) on tokio's blocking pool.
/// Plug in another one with
/// [`StreamSocketControl::resolver`](crate::StreamSocketControl::resolver) (a
/// DNS-over-HTTPS client, a fixed table for tests, …). IP literals never reach
/// a resolver.
///
/// Any `Fn(&HostName, u16) -> io::Result<Vec<SocketAddr>>` is a resolver:
///
/// ```
/// use std::io;
/// use std::net::SocketAddr;
/// use sock_core::HostName;
/// use sock_tcp::StreamSocket;
///
/// let pinned = |host: &HostName, port: u16| -> io::Result<Vec<SocketAddr>> {
///     match host.canonical_name() {
///         "db.internal" => Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]),
///         _ => Err(io::Error::other("failed to lookup address information: Name or service not known")),
///     }
/// };
/// let control = StreamSocket::builder().resolver(pinned);
/// # drop(control);
/// ```
///
/// A failure should say what it stands for: a
/// [`ResolverError`](sock_core::ResolverError) with its
/// [`SocketErrorStatus`](sock_core::SocketErrorStatus) (`HostNotFound` for a
/// name that does not exist, `NonAuthoritativeHostNotFound` for "try again"),
/// or an error that looks like the system's (std's `failed to lookup address
/// information: …`).
///
/// A resolver that asks for IPv6 and IPv4 separately can hand addresses out
/// as they arrive ([`resolve_progressively`](Self::resolve_progressively),
/// RFC 8305 §3), and one that speaks DNS can look up SRV records
/// ([`resolve_service`](Self::resolve_service)).
pub trait Resolve: Send + Sync + 'static {
    /// The addresses of `host` (never an IP literal) with `port` filled in.
    fn resolve(&self, host: &HostName, port: u16) -> Resolving;

    /// The addresses of `host` as they arrive, for a connect that starts with
    /// the first answer. The default is [`resolve`](Self::resolve)'s answer as
    /// one batch; [`resolve_families`](crate::resolve_families) merges
    /// separate AAAA and A queries as RFC 8305 §3 asks.
    fn resolve_progressively(&self, host: &HostName, port: u16) -> AddressBatches {
        one_batch(self.resolve(host, port))
    }

    /// The SRV records of `service` over `protocol` on `host`
    /// (`_service._tcp.host`), in any order, or `None` when this resolver does
    /// not look services up (the default). Asked only for a service name that
    /// is neither a port number nor in the services table.
    fn resolve_service(
        &self,
        service: &str,
        protocol: TransportProtocol,
        host: &HostName,
    ) -> ResolvingService {
        let _ = (service, protocol, host);
        Box::pin(std::future::ready(Ok(None)))
    }
}

/// The operating system's resolver (`getaddrinfo` through
/// [`tokio::net::lookup_host`], off the async threads).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemResolver;

impl Resolve for SystemResolver {
    fn resolve(&self, host: &HostName, port: u16) -> Resolving {
        let name = host.canonical_name().to_owned();
        Box::pin(async move {
            Ok(tokio::net::lookup_host((name.as_str(), port))
                .await?
                .collect())
        })
    }
}

impl<F> Resolve for F
where
    F: Fn(&HostName, u16) -> io::Result<Vec<SocketAddr>> + Send + Sync + 'static,
{
    fn resolve(&self, host: &HostName, port: u16) -> Resolving {
        let result = self(host, port);
        Box::pin(std::future::ready(result))
    }
}

/// A shared resolver, printable.
#[derive(Clone)]
pub(crate) struct SharedResolver(pub(crate) std::sync::Arc<dyn Resolve>);

impl SharedResolver {
    pub(crate) fn system() -> Self {
        Self(std::sync::Arc::new(SystemResolver))
    }
}

impl fmt::Debug for SharedResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Resolver")
    }
}

/// The addresses to try for `host`: the literal itself, or what the resolver says.
///
/// # Errors
///
/// [`Error::Resolve`] when the resolver fails, [`Error::NoAddresses`] when it
/// answers with nothing, [`Error::InvalidHostName`] for an IPv6 zone naming no
/// interface.
pub(crate) async fn resolve(
    resolver: &dyn Resolve,
    host: &HostName,
    port: u16,
) -> Result<Vec<SocketAddr>> {
    if let Some(addr) = literal(host, port)? {
        return Ok(vec![addr]);
    }
    let addrs = resolver
        .resolve(host, port)
        .await
        .map_err(|source| Error::Resolve {
            host: host.raw_name().to_owned(),
            source,
        })?;
    if addrs.is_empty() {
        return Err(Error::NoAddresses {
            host: host.raw_name().to_owned(),
        });
    }
    Ok(addrs)
}

/// The address of an IP-literal host (with its zone as scope id), or `None`
/// for a name.
pub(crate) fn literal(host: &HostName, port: u16) -> Result<Option<SocketAddr>> {
    host.socket_addr(port).transpose()
}

/// Orders addresses for Happy Eyeballs (RFC 8305 §4): families alternate,
/// starting with the family of the resolver's first answer, each family keeping
/// the resolver's order.
pub(crate) fn interleave(addrs: &[SocketAddr]) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return Vec::new();
    };
    let (mut preferred, mut other): (Vec<SocketAddr>, Vec<SocketAddr>) =
        addrs.iter().partition(|a| a.is_ipv6() == first.is_ipv6());
    let mut out = Vec::with_capacity(addrs.len());
    let (mut p, mut o) = (preferred.drain(..), other.drain(..));
    loop {
        match (p.next(), o.next()) {
            (None, None) => break,
            (a, b) => out.extend(a.into_iter().chain(b)),
        }
    }
    out
}

/// The local port of `service` for TCP: 0 (the system picks) for `""` or
/// `0`; a service name is looked up off the async threads.
pub(crate) async fn local_port(service: &ServiceName) -> Result<u16> {
    if service.is_any() {
        return Ok(0);
    }
    if let Some(port) = service.as_port() {
        return Ok(port);
    }
    let service = service.clone();
    tokio::task::spawn_blocking(move || service.port(TransportProtocol::Tcp))
        .await
        .map_err(|e| Error::Io(io::Error::other(e)))?
}

/// The port of `service` for TCP; a service name is looked up off the async threads.
pub(crate) async fn service_port(service: &ServiceName) -> Result<u16> {
    if service.is_any() {
        return Err(Error::invalid_service_name(
            service.as_str(),
            "is empty: a connection needs a port number or service name",
        ));
    }
    if let Some(port) = service.as_port() {
        if port == 0 {
            return Err(Error::invalid_service_name(
                service.as_str(),
                "is port 0, which no one can listen on",
            ));
        }
        return Ok(port);
    }
    let service = service.clone();
    tokio::task::spawn_blocking(move || service.port(TransportProtocol::Tcp))
        .await
        .map_err(|e| Error::Io(io::Error::other(e)))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use sock_core::SocketErrorStatus;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn families_alternate_starting_with_the_first_answer() {
        let given = [
            addr("[::1]:1"),
            addr("[::2]:1"),
            addr("[::3]:1"),
            addr("127.0.0.1:1"),
            addr("127.0.0.2:1"),
        ];
        assert_eq!(
            interleave(&given),
            [
                addr("[::1]:1"),
                addr("127.0.0.1:1"),
                addr("[::2]:1"),
                addr("127.0.0.2:1"),
                addr("[::3]:1"),
            ]
        );
        let v4_first = [addr("127.0.0.1:1"), addr("[::1]:1"), addr("127.0.0.2:1")];
        assert_eq!(
            interleave(&v4_first),
            [addr("127.0.0.1:1"), addr("[::1]:1"), addr("127.0.0.2:1")]
        );
        assert!(interleave(&[]).is_empty());
    }

    #[test]
    fn literals_skip_the_resolver() {
        let host = HostName::new("[::1]").unwrap();
        assert_eq!(literal(&host, 80).unwrap(), Some(addr("[::1]:80")));
        let host = HostName::new("127.0.0.1").unwrap();
        assert_eq!(literal(&host, 80).unwrap(), Some(addr("127.0.0.1:80")));
        assert_eq!(
            literal(&HostName::new("localhost").unwrap(), 80).unwrap(),
            None
        );
    }

    #[test]
    fn a_zone_naming_no_interface_is_an_invalid_host_name() {
        let host = HostName::new("fe80::1%no-such-interface0").unwrap();
        let err = literal(&host, 80).unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        let lo = HostName::new("fe80::1%1").unwrap();
        let Some(SocketAddr::V6(a)) = literal(&lo, 80).unwrap() else {
            panic!("not v6")
        };
        assert_eq!(a.scope_id(), 1);
    }

    #[tokio::test]
    async fn resolver_failures_and_empty_answers_keep_their_status() {
        let not_found = |_: &HostName, _: u16| -> io::Result<Vec<SocketAddr>> {
            Err(io::Error::other(
                "failed to lookup address information: Name or service not known",
            ))
        };
        let host = HostName::new("nowhere.example").unwrap();
        let err = resolve(&not_found, &host, 1).await.unwrap_err();
        assert_eq!(err.status(), SocketErrorStatus::HostNotFound);
        assert!(err.to_string().contains("nowhere.example"), "{err}");

        let empty = |_: &HostName, _: u16| -> io::Result<Vec<SocketAddr>> { Ok(Vec::new()) };
        let err = resolve(&empty, &host, 1).await.unwrap_err();
        assert_eq!(err.status(), SocketErrorStatus::NoAddressesFound);
    }

    #[tokio::test]
    async fn the_system_resolver_knows_localhost() {
        let addrs = resolve(&SystemResolver, &HostName::new("localhost").unwrap(), 7)
            .await
            .unwrap();
        assert!(addrs.iter().all(|a| a.ip().is_loopback() && a.port() == 7));
    }
}
