//! `DnsResolver` (feature `hickory-resolver`): DNS through hickory-resolver,
//! with AAAA and A asked in parallel and handed out as RFC 8305 §3 asks, SRV
//! lookups for service names, and failures named by their UWP status.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts,
};
use hickory_resolver::lookup::Lookup;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::NetError;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::TokioResolver;
use sock_core::TransportProtocol;
use sock_core::{io_context, Error, HostName, ResolverError, Result, SocketErrorStatus as S};

use crate::answer::{AddressBatches, Resolving, ResolvingService};
use crate::progressive::{resolve_families, DEFAULT_RESOLUTION_DELAY};
use crate::resolve::Resolve;
use crate::srv::ServiceRecord;

/// How long one DNS query (AAAA, A or SRV) may take before it is given up
/// (5 s); a connect's own timeout still bounds the whole.
pub const DEFAULT_DNS_QUERY_TIMEOUT: Duration = Duration::from_secs(5);

/// A DNS resolver that starts connecting with the first answer (feature
/// `hickory-resolver`).
///
/// Where [`SystemResolver`](crate::SystemResolver) asks `getaddrinfo` for both
/// families at once and waits for both, this one asks AAAA and A in parallel
/// and hands addresses out as they arrive (RFC 8305 §3: IPv6 at once, IPv4
/// after waiting [`DEFAULT_RESOLUTION_DELAY`] for IPv6), so one slow answer
/// does not hold the connect back. It also looks up SRV records: a service
/// name that is neither a port nor in the services table connects to the
/// targets of `_service._tcp.host`, by priority and weight (RFC 2782), as UWP
/// does.
///
/// ```no_run
/// use sock_core::HostName;
/// use sock_tcp::{DnsResolver, StreamSocket};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// // The DNS server of a test or a lab on loopback; `from_system_conf()` for the system's.
/// let dns = DnsResolver::with_name_servers(&["127.0.0.1:5353".parse().unwrap()])?;
/// let control = StreamSocket::builder().resolver(dns);
/// // "sock-echo" is no port: `_sock-echo._tcp.lab.test` says where it is.
/// let socket = control.connect(&HostName::new("lab.test")?, "sock-echo").await?;
/// # drop(socket); Ok(()) }
/// ```
///
/// Failures carry their status: a name that does not exist is `HostNotFound`;
/// a server that fails, answers garbage or does not answer within
/// [`query_timeout`](Self::query_timeout) is `NonAuthoritativeHostNotFound`
/// (worth trying again, as `getaddrinfo`'s `EAI_AGAIN`).
#[derive(Clone)]
pub struct DnsResolver {
    inner: Arc<TokioResolver>,
    resolution_delay: Duration,
    query_timeout: Duration,
}

impl fmt::Debug for DnsResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsResolver")
            .field("resolution_delay", &self.resolution_delay)
            .field("query_timeout", &self.query_timeout)
            .finish()
    }
}

impl DnsResolver {
    /// The system's DNS configuration (`/etc/resolv.conf`: name servers,
    /// search domains, `ndots`), with `/etc/hosts` consulted first.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] when the configuration cannot be read or names no server.
    pub fn from_system_conf() -> Result<Self> {
        let builder = TokioResolver::builder_tokio().map_err(|e| {
            Error::Io(io_context(
                io::Error::other(e),
                "could not read the system's DNS configuration",
            ))
        })?;
        Self::build(builder, DEFAULT_DNS_QUERY_TIMEOUT)
    }

    /// Asks the name servers at `servers` (UDP, and TCP for answers too long
    /// for UDP) and nothing else: no hosts file, no search domains.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] when `servers` is empty.
    pub fn with_name_servers(servers: &[SocketAddr]) -> Result<Self> {
        if servers.is_empty() {
            return Err(Error::InvalidArgument {
                setting: "DnsResolver::with_name_servers",
                reason: "names no server".into(),
            });
        }
        let config = ResolverConfig::from_name_servers(
            servers
                .iter()
                .map(|server| {
                    let mut udp = ConnectionConfig::udp();
                    udp.port = server.port();
                    let mut tcp = ConnectionConfig::tcp();
                    tcp.port = server.port();
                    NameServerConfig::new(server.ip(), true, vec![udp, tcp])
                })
                .collect(),
        );
        let mut options = ResolverOpts::default();
        options.use_hosts_file = ResolveHosts::Never;
        let builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
        Self::build(builder.with_options(options), DEFAULT_DNS_QUERY_TIMEOUT)
    }

    /// Wraps a resolver configured with hickory-resolver's own builder (DNS
    /// over TLS or HTTPS, DNSSEC, caching, …).
    pub fn from_hickory(resolver: TokioResolver) -> Self {
        Self {
            inner: Arc::new(resolver),
            resolution_delay: DEFAULT_RESOLUTION_DELAY,
            query_timeout: DEFAULT_DNS_QUERY_TIMEOUT,
        }
    }

    fn build(
        mut builder: hickory_resolver::ResolverBuilder<TokioRuntimeProvider>,
        query_timeout: Duration,
    ) -> Result<Self> {
        let options = builder.options_mut();
        options.timeout = query_timeout;
        options.attempts = 1;
        let resolver = builder.build().map_err(|e| {
            Error::Io(io_context(
                io::Error::other(e),
                "could not set up the DNS resolver",
            ))
        })?;
        Ok(Self::from_hickory(resolver))
    }

    /// How long an IPv4 answer that came first waits for the IPv6 one
    /// ([`DEFAULT_RESOLUTION_DELAY`], RFC 8305's "Resolution Delay").
    pub fn resolution_delay(mut self, delay: Duration) -> Self {
        self.resolution_delay = delay;
        self
    }

    /// How long one query may take before it is given up
    /// ([`DEFAULT_DNS_QUERY_TIMEOUT`]). A connect's `connect_timeout` bounds
    /// the whole connect, queries included.
    pub fn query_timeout(mut self, timeout: Duration) -> Self {
        self.query_timeout = timeout;
        self
    }

    /// The answer of one query for `name`, within the query timeout.
    async fn query(
        resolver: Arc<TokioResolver>,
        name: String,
        record_type: RecordType,
        timeout: Duration,
    ) -> io::Result<Option<Lookup>> {
        match tokio::time::timeout(timeout, resolver.lookup(name.as_str(), record_type)).await {
            Ok(Ok(lookup)) => Ok(Some(lookup)),
            Ok(Err(e)) if e.is_nx_domain() => Err(ResolverError::new(
                S::HostNotFound,
                format!("no such name: {name} (NXDOMAIN)"),
            )
            .into()),
            Ok(Err(e)) if e.is_no_records_found() => Ok(None),
            Ok(Err(e)) => Err(failure(&name, record_type, &e, timeout)),
            Err(_) => Err(no_answer(&name, record_type, timeout)),
        }
    }

    fn addresses(&self, host: &HostName, port: u16, record_type: RecordType) -> Resolving {
        let lookup = Self::query(
            Arc::clone(&self.inner),
            host.canonical_name().to_owned(),
            record_type,
            self.query_timeout,
        );
        Box::pin(async move {
            let Some(lookup) = lookup.await? else {
                return Ok(Vec::new());
            };
            Ok(lookup
                .answers()
                .iter()
                .filter_map(|record| match &record.data {
                    RData::A(a) => Some(IpAddr::V4(a.0)),
                    RData::AAAA(aaaa) => Some(IpAddr::V6(aaaa.0)),
                    _ => None,
                })
                .map(|ip| SocketAddr::new(ip, port))
                .collect())
        })
    }
}

/// A query that failed for another reason than "no such name".
fn failure(name: &str, record_type: RecordType, error: &NetError, timeout: Duration) -> io::Error {
    if matches!(error, NetError::Timeout) {
        return no_answer(name, record_type, timeout);
    }
    ResolverError::new(
        S::NonAuthoritativeHostNotFound,
        format!("DNS query for {name} ({record_type}) failed: {error}"),
    )
    .into()
}

fn no_answer(name: &str, record_type: RecordType, timeout: Duration) -> io::Error {
    ResolverError::new(
        S::NonAuthoritativeHostNotFound,
        format!("no DNS answer for {name} ({record_type}) within query_timeout ({timeout:?})"),
    )
    .into()
}

impl Resolve for DnsResolver {
    fn resolve(&self, host: &HostName, port: u16) -> Resolving {
        let mut batches = self.resolve_progressively(host, port);
        Box::pin(async move {
            let mut addrs = Vec::new();
            while let Some(batch) = std::future::poll_fn(|cx| batches.as_mut().poll_next(cx)).await
            {
                addrs.extend(batch?);
            }
            Ok(addrs)
        })
    }

    fn resolve_progressively(&self, host: &HostName, port: u16) -> AddressBatches {
        resolve_families(
            self.addresses(host, port, RecordType::AAAA),
            self.addresses(host, port, RecordType::A),
            self.resolution_delay,
        )
    }

    fn resolve_service(
        &self,
        service: &str,
        protocol: TransportProtocol,
        host: &HostName,
    ) -> ResolvingService {
        let name = format!("_{service}._{protocol}.{}", host.canonical_name());
        let lookup = Self::query(
            Arc::clone(&self.inner),
            name,
            RecordType::SRV,
            self.query_timeout,
        );
        Box::pin(async move {
            let lookup = match lookup.await {
                Ok(Some(lookup)) => lookup,
                // No `_service._tcp` name at all: the host offers no such
                // service, which is an unknown service, not an unknown host.
                Ok(None) => return Ok(Some(Vec::new())),
                Err(e) if S::from(&e) == S::HostNotFound => return Ok(Some(Vec::new())),
                Err(e) => return Err(e),
            };
            Ok(Some(
                lookup
                    .answers()
                    .iter()
                    .filter_map(|record| match &record.data {
                        RData::SRV(srv) => Some(ServiceRecord {
                            priority: srv.priority,
                            weight: srv.weight,
                            port: srv.port,
                            target: match srv.target.to_ascii() {
                                root if root == "." => root,
                                target => target.trim_end_matches('.').to_owned(),
                            },
                        }),
                        _ => None,
                    })
                    .collect(),
            ))
        })
    }
}
