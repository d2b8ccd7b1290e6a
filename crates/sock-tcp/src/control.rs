//! Socket options shared by `StreamSocketControl` and
//! `StreamSocketListenerControl`, and `KeepAlive`.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use sock_core::{
    ConnectAttempt, EndpointPair, Error, HostName, HostNameType, QualityOfService, Result,
    ServiceName, TransportProtocol,
};
use socket2::{SockRef, TcpKeepalive};
use tokio::time::Instant;

use crate::connect::{connect_to_addrs, Local, Race};
use crate::idle::IdleKind;
use crate::info::CloseSettings;
use crate::resolve::{interleave, resolve, Resolve, SharedResolver};
use crate::StreamSocket;

/// The IP TOS byte (IPv4) or traffic class (IPv6) for
/// [`QualityOfService::LowLatency`]: DSCP EF ("expedited forwarding", 46),
/// the mark voice and other latency-sensitive traffic uses.
pub const LOW_LATENCY_TRAFFIC_CLASS: u32 = 46 << 2;

/// How long [`close`](crate::StreamSocket::close) waits for the peer to finish
/// (10 s) before resetting the connection.
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(10);

/// How many bytes [`close`](crate::StreamSocket::close) reads and discards
/// while waiting for the peer to finish (256 KiB) before resetting.
pub const DEFAULT_CLOSE_DRAIN_LIMIT: usize = 256 * 1024;

/// TCP keep-alive probing: after `idle` without traffic, send a probe every
/// `interval`, and give up after `count` unanswered probes.
///
/// Every unset value keeps the operating system's default (on Linux: 2 hours,
/// 75 s, 9 probes). UWP's `KeepAlive` is this with every value unset.
///
/// ```
/// use std::time::Duration;
/// use sock_tcp::KeepAlive;
///
/// let probe = KeepAlive::new()
///     .idle(Duration::from_secs(30))
///     .interval(Duration::from_secs(5))
///     .count(4);
/// assert_eq!(probe.idle_time(), Some(Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KeepAlive {
    idle: Option<Duration>,
    interval: Option<Duration>,
    count: Option<u32>,
}

impl KeepAlive {
    /// Keep-alive with the operating system's timings.
    pub const fn new() -> Self {
        Self {
            idle: None,
            interval: None,
            count: None,
        }
    }

    /// How long the connection stays idle before the first probe (`TCP_KEEPIDLE`).
    pub const fn idle(mut self, idle: Duration) -> Self {
        self.idle = Some(idle);
        self
    }

    /// The time between probes (`TCP_KEEPINTVL`).
    pub const fn interval(mut self, interval: Duration) -> Self {
        self.interval = Some(interval);
        self
    }

    /// How many unanswered probes end the connection (`TCP_KEEPCNT`).
    pub const fn count(mut self, count: u32) -> Self {
        self.count = Some(count);
        self
    }

    /// The idle time set, if any.
    pub const fn idle_time(&self) -> Option<Duration> {
        self.idle
    }

    /// The probe interval set, if any.
    pub const fn interval_time(&self) -> Option<Duration> {
        self.interval
    }

    /// The probe count set, if any.
    pub const fn probe_count(&self) -> Option<u32> {
        self.count
    }

    fn to_socket2(self) -> Option<TcpKeepalive> {
        if self == Self::new() {
            return None;
        }
        let mut ka = TcpKeepalive::new();
        if let Some(idle) = self.idle {
            ka = ka.with_time(idle);
        }
        if let Some(interval) = self.interval {
            ka = ka.with_interval(interval);
        }
        if let Some(count) = self.count {
            ka = ka.with_retries(count);
        }
        Some(ka)
    }
}

/// The options every connected socket gets, whether it connected or was accepted.
#[derive(Debug, Clone)]
pub(crate) struct SocketOptions {
    pub(crate) no_delay: bool,
    pub(crate) keep_alive: Option<KeepAlive>,
    pub(crate) outbound_buffer_size: Option<usize>,
    pub(crate) hop_limit: Option<u8>,
    pub(crate) quality_of_service: QualityOfService,
    pub(crate) idle: crate::idle::IdleTimeouts,
    pub(crate) close: CloseSettings,
    /// The client TLS settings (only a `StreamSocketControl` sets them).
    #[cfg(feature = "tls")]
    pub(crate) client_tls: crate::tls::ClientTls,
}

impl Default for SocketOptions {
    fn default() -> Self {
        Self {
            no_delay: true,
            keep_alive: None,
            outbound_buffer_size: None,
            hop_limit: None,
            quality_of_service: QualityOfService::Normal,
            idle: crate::idle::IdleTimeouts::default(),
            close: CloseSettings {
                timeout: DEFAULT_CLOSE_TIMEOUT,
                drain_limit: DEFAULT_CLOSE_DRAIN_LIMIT,
            },
            #[cfg(feature = "tls")]
            client_tls: crate::tls::ClientTls::default(),
        }
    }
}

impl SocketOptions {
    /// Refuses values no socket could take, naming the setting.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.hop_limit == Some(0) {
            return Err(invalid_input(
                "outbound_unicast_hop_limit 0 is out of range: hop limits go from 1 to 255",
            ));
        }
        if self.outbound_buffer_size == Some(0) {
            return Err(invalid_input(
                "outbound_buffer_size 0 is out of range: give at least 1 byte",
            ));
        }
        for kind in IdleKind::ALL {
            if self.idle.get(kind) == Some(Duration::ZERO) {
                return Err(invalid_input(&format!(
                    "{} of zero would fail every read and write: use None to turn it off",
                    crate::idle::IdleTimeouts::name(kind)
                )));
            }
        }
        Ok(())
    }

    /// Applies the options to a TCP socket whose peer is (or will be) `peer`.
    ///
    /// On an IPv6 socket talking to an IPv4-mapped peer (an accepted dual-stack
    /// connection) both the IPv6 and the IPv4 option are set.
    pub(crate) fn apply(&self, socket: SockRef<'_>, peer: SocketAddr) -> io::Result<()> {
        let v4_traffic = match peer {
            SocketAddr::V4(_) => true,
            SocketAddr::V6(a) => a.ip().to_ipv4_mapped().is_some(),
        };
        self.apply_for(socket, peer.is_ipv6(), v4_traffic)
    }

    /// Applies the options to a listening socket bound to `local`, for the
    /// platforms where accepted sockets inherit them: a dual-stack socket gets
    /// both the IPv6 and the IPv4 options.
    pub(crate) fn apply_to_listener(
        &self,
        socket: SockRef<'_>,
        local: SocketAddr,
    ) -> io::Result<()> {
        let v4_traffic = local.is_ipv4() || !socket.only_v6()?;
        self.apply_for(socket, local.is_ipv6(), v4_traffic)
    }

    fn apply_for(&self, socket: SockRef<'_>, v6: bool, v4_traffic: bool) -> io::Result<()> {
        if self.no_delay {
            socket.set_tcp_nodelay(true)?;
        }
        if let Some(ka) = self.keep_alive {
            socket.set_keepalive(true)?;
            if let Some(params) = ka.to_socket2() {
                socket.set_tcp_keepalive(&params)?;
            }
        }
        if let Some(size) = self.outbound_buffer_size {
            socket.set_send_buffer_size(size)?;
        }
        if let Some(hops) = self.hop_limit {
            let hops = u32::from(hops);
            if v6 {
                socket.set_unicast_hops_v6(hops)?;
            }
            if v4_traffic {
                socket.set_ttl_v4(hops)?;
            }
        }
        if self.quality_of_service == QualityOfService::LowLatency {
            if v6 {
                crate::sys::set_traffic_class_v6(&socket, LOW_LATENCY_TRAFFIC_CLASS)?;
            }
            if v4_traffic {
                socket.set_tos_v4(LOW_LATENCY_TRAFFIC_CLASS)?;
            }
        }
        Ok(())
    }
}

pub(crate) fn invalid_input(message: &str) -> Error {
    Error::Io(io::Error::new(io::ErrorKind::InvalidInput, message))
}

/// The setters of [`SocketOptions`], shared by both control types.
macro_rules! socket_option_setters {
    () => {
        /// Turns Nagle's algorithm off (`true`, the default, as UWP's `NoDelay`) or on.
        pub fn no_delay(mut self, no_delay: bool) -> Self {
            self.options.no_delay = no_delay;
            self
        }

        /// Turns TCP keep-alive on with the given timings (off by default).
        /// `KeepAlive::new()` keeps the operating system's timings, as UWP's
        /// `KeepAlive = true` does.
        pub fn keep_alive(mut self, keep_alive: $crate::KeepAlive) -> Self {
            self.options.keep_alive = Some(keep_alive);
            self
        }

        /// Sets the send buffer size (`SO_SNDBUF`, UWP's
        /// `OutboundBufferSizeInBytes`). By default the operating system sizes
        /// it and tunes it as the connection goes; setting it turns that off.
        pub fn outbound_buffer_size(mut self, bytes: usize) -> Self {
            self.options.outbound_buffer_size = Some(bytes);
            self
        }

        /// Sets the IPv4 TTL or IPv6 hop limit of outgoing packets, 1-255 (UWP's
        /// `OutboundUnicastHopLimit`). By default the operating system's
        /// (64 on Linux; UWP used 128).
        pub fn outbound_unicast_hop_limit(mut self, hops: u8) -> Self {
            self.options.hop_limit = Some(hops);
            self
        }

        /// Sets the traffic class. `LowLatency` marks packets with DSCP EF
        /// ([`LOW_LATENCY_TRAFFIC_CLASS`](crate::LOW_LATENCY_TRAFFIC_CLASS)).
        pub fn quality_of_service(mut self, qos: sock_core::QualityOfService) -> Self {
            self.options.quality_of_service = qos;
            self
        }

        /// Ends a waiting read or write with a `ConnectionTimedOut` error once
        /// no bytes moved in either direction for `timeout` (`None`, the
        /// default, waits forever); see
        /// [`StreamSocket::set_idle_timeout`](crate::StreamSocket::set_idle_timeout).
        pub fn idle_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.options.idle.all = timeout;
            self
        }

        /// Ends a waiting read or write with a `ConnectionTimedOut` error once
        /// no bytes were read for `timeout` (off by default); see
        /// [`StreamSocket::set_read_idle_timeout`](crate::StreamSocket::set_read_idle_timeout).
        pub fn read_idle_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.options.idle.read = timeout;
            self
        }

        /// Ends a waiting read or write with a `ConnectionTimedOut` error once
        /// no bytes were written for `timeout` (off by default); see
        /// [`StreamSocket::set_write_idle_timeout`](crate::StreamSocket::set_write_idle_timeout).
        pub fn write_idle_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.options.idle.write = timeout;
            self
        }

        /// How long a graceful [`close`](crate::StreamSocket::close) waits for
        /// the peer to finish before resetting the connection
        /// ([`DEFAULT_CLOSE_TIMEOUT`](crate::DEFAULT_CLOSE_TIMEOUT)).
        pub fn close_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.close.timeout = timeout;
            self
        }

        /// How many bytes a graceful [`close`](crate::StreamSocket::close) reads
        /// and discards while the peer finishes, before resetting the connection
        /// ([`DEFAULT_CLOSE_DRAIN_LIMIT`](crate::DEFAULT_CLOSE_DRAIN_LIMIT)).
        pub fn close_drain_limit(mut self, bytes: usize) -> Self {
            self.options.close.drain_limit = bytes;
            self
        }
    };
}

pub(crate) use socket_option_setters;

/// How long [`StreamSocketControl::connect`] may take in all, resolution
/// included (30 s), unless [`connect_timeout`](StreamSocketControl::connect_timeout)
/// says otherwise.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The wait between starting connection attempts to successive addresses
/// (250 ms, RFC 8305's recommended "Connection Attempt Delay").
pub const DEFAULT_CONNECTION_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

/// The options of a [`StreamSocket`] and the way it connects, as UWP's
/// `StreamSocketControl`; made by [`StreamSocket::builder`].
///
/// Set everything, then [`connect`](Self::connect). The control can connect
/// any number of sockets; each gets the same options. Defaults follow UWP:
/// Nagle off (`no_delay` true), keep-alive off, operating-system buffer sizes
/// and hop limit, `Normal` quality of service, connection attempts raced
/// (Happy Eyeballs), plus a [`DEFAULT_CONNECT_TIMEOUT`] UWP did not have.
///
/// ```no_run
/// use std::time::Duration;
/// use sock_core::{HostName, QualityOfService};
/// use sock_tcp::{KeepAlive, StreamSocket};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// let socket = StreamSocket::builder()
///     .keep_alive(KeepAlive::new().idle(Duration::from_secs(30)))
///     .quality_of_service(QualityOfService::LowLatency)
///     .connect_timeout(Duration::from_secs(5))
///     .connect(&HostName::new("localhost")?, "1337")
///     .await?;
/// # drop(socket); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct StreamSocketControl {
    pub(crate) options: SocketOptions,
    connect_timeout: Duration,
    attempt_delay: Duration,
    serialize: bool,
    resolver: SharedResolver,
}

impl Default for StreamSocketControl {
    fn default() -> Self {
        Self {
            options: SocketOptions::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            attempt_delay: DEFAULT_CONNECTION_ATTEMPT_DELAY,
            serialize: false,
            resolver: SharedResolver::system(),
        }
    }
}

impl StreamSocketControl {
    /// The default control (the same as [`StreamSocket::builder`]).
    pub fn new() -> Self {
        Self::default()
    }

    socket_option_setters!();

    /// Limits the whole of [`connect`](Self::connect), name resolution
    /// included ([`DEFAULT_CONNECT_TIMEOUT`]).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The wait before trying the next address while earlier attempts are
    /// still running ([`DEFAULT_CONNECTION_ATTEMPT_DELAY`]).
    pub fn connection_attempt_delay(mut self, delay: Duration) -> Self {
        self.attempt_delay = delay;
        self
    }

    /// Tries one address at a time, starting the next only when the previous
    /// one failed (`false` by default: attempts race, Happy Eyeballs style).
    /// UWP's `SerializeConnectionAttempts`.
    pub fn serialize_connection_attempts(mut self, serialize: bool) -> Self {
        self.serialize = serialize;
        self
    }

    /// Resolves host names with `resolver` instead of the operating system's.
    pub fn resolver(mut self, resolver: impl Resolve) -> Self {
        self.resolver = SharedResolver(Arc::new(resolver));
        self
    }

    /// Resolves `host`, connects to `service` on it, and applies the options.
    ///
    /// An IP literal is used as is; a name is resolved off the async threads.
    /// The addresses are raced Happy Eyeballs style (RFC 8305): families
    /// alternate, a new attempt starts every
    /// [`connection_attempt_delay`](Self::connection_attempt_delay) or as soon
    /// as the running ones have failed, the first connection wins and the
    /// others are closed. With
    /// [`serialize_connection_attempts`](Self::serialize_connection_attempts),
    /// one address at a time.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidServiceName`] for `""` (a connection needs a port) or
    ///   unparsable service text, [`Error::UnknownService`] for a name not known;
    /// - [`Error::Resolve`] (status `HostNotFound`, …) and [`Error::NoAddresses`];
    /// - [`Error::Connect`] when every address failed: it lists each address
    ///   with its error, and its status is the most telling one
    ///   (`ConnectionRefused`, `ConnectionTimedOut`, …);
    /// - [`Error::TimedOut`] when resolution alone used up the connect timeout;
    /// - an `InvalidInput` I/O error for an out-of-range option.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes every socket it opened.
    ///
    /// The returned future owns what it needs (it does not borrow the
    /// control or the host), so it can be spawned or joined freely.
    pub fn connect<S>(
        &self,
        host: &HostName,
        service: S,
    ) -> impl Future<Output = Result<StreamSocket>> + Send + 'static
    where
        S: TryInto<ServiceName>,
        S::Error: Into<Error>,
    {
        let service = service.try_into().map_err(Into::into);
        let control = self.clone();
        let host = host.clone();
        async move {
            #[allow(clippy::useless_conversion)] // a TlsConnectError with the tls feature
            let pair = EndpointPair::to_remote(host, service?);
            control.connect_to(&pair).await.map_err(Into::into)
        }
    }

    /// Connects from an explicit local endpoint (UWP's
    /// `ConnectAsync(EndpointPair)`): binds `pair.local_host` /
    /// `pair.local_service`, then connects to `pair.remote_host` /
    /// `pair.remote_service` as [`connect`](Self::connect) does, with the
    /// same options, timeout and protection level.
    ///
    /// - `local_host: None` lets the system pick the local address; otherwise
    ///   it is resolved (a literal as is; `localhost` gives every loopback
    ///   address) and only the remote addresses of a family it has are tried,
    ///   each attempt bound to the first local address of its family.
    /// - An [`any`](ServiceName::any) (`""`) or `0` `local_service` lets the
    ///   system pick the local port. A fixed local port makes the attempts
    ///   run one at a time (as with
    ///   [`serialize_connection_attempts`](Self::serialize_connection_attempts)),
    ///   since two sockets cannot both hold it.
    ///
    /// [`connect`](Self::connect) is this with
    /// [`EndpointPair::to_remote`].
    ///
    /// ```no_run
    /// use sock_core::{EndpointPair, HostName, ServiceName};
    /// use sock_tcp::StreamSocket;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_core::Result<()> {
    /// let pair = EndpointPair::new(
    ///     Some(HostName::new("127.0.0.2")?),
    ///     ServiceName::any(),
    ///     HostName::new("127.0.0.1")?,
    ///     ServiceName::from(1337),
    /// );
    /// let socket = StreamSocket::builder().connect_pair(&pair).await?;
    /// assert_eq!(socket.local_addr().ip().to_string(), "127.0.0.2");
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), and:
    ///
    /// - the local host's resolution errors ([`Error::Resolve`],
    ///   [`Error::NoAddresses`]), and [`Error::InvalidServiceName`] /
    ///   [`Error::UnknownService`] for the local service;
    /// - [`Error::Connect`] with status `CannotAssignRequestedAddress` when
    ///   the local address is not one of this machine's, or when no remote
    ///   address has the local address's family (every remote address is
    ///   listed, with the reason, and no socket is opened);
    /// - [`Error::Connect`] with status `AddressAlreadyInUse` when the local
    ///   port is taken.
    ///
    /// Each attempt's error names the local address it could not bind.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes every socket it opened.
    ///
    /// The returned future owns what it needs, so it can be spawned or
    /// joined freely.
    pub fn connect_pair(
        &self,
        pair: &EndpointPair,
    ) -> impl Future<Output = Result<StreamSocket>> + Send + 'static {
        let control = self.clone();
        let pair = pair.clone();
        async move {
            #[allow(clippy::useless_conversion)] // a TlsConnectError with the tls feature
            control.connect_to(&pair).await.map_err(Into::into)
        }
    }

    /// The endpoint pairs a [`connect`](Self::connect) to `host` at `service`
    /// would try (UWP's `GetEndpointPairsAsync`), in the order it tries them:
    /// one per address the resolver gives, the two families alternating from
    /// the resolver's first answer, each with no local preference. An IP
    /// literal is its one pair. For a connect loop of one's own: set a local
    /// endpoint on a pair, or skip some, and pass each to
    /// [`connect_pair`](Self::connect_pair).
    ///
    /// ```no_run
    /// use sock_core::HostName;
    /// use sock_tcp::StreamSocket;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_core::Result<()> {
    /// let control = StreamSocket::builder();
    /// let host = HostName::new("localhost")?;
    /// for pair in control.endpoint_pairs(&host, "8080").await? {
    ///     match control.connect_pair(&pair).await {
    ///         Ok(socket) => return Ok(drop(socket)),
    ///         Err(e) => eprintln!("{}: {e}", pair.remote_host),
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect) before it opens a socket: the service's
    /// errors, [`Error::Resolve`], [`Error::NoAddresses`], and
    /// [`Error::TimedOut`] when resolving takes longer than the connect
    /// timeout.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only looks names up.
    pub fn endpoint_pairs<S>(
        &self,
        host: &HostName,
        service: S,
    ) -> impl Future<Output = Result<Vec<EndpointPair>>> + Send + 'static
    where
        S: TryInto<ServiceName>,
        S::Error: Into<Error>,
    {
        let service = service.try_into().map_err(Into::into);
        let control = self.clone();
        let host = host.clone();
        async move {
            let service = service?;
            let port = service_port(&service).await?;
            let deadline = Instant::now() + control.connect_timeout;
            let addrs = control.resolve_by(&host, port, deadline).await?;
            Ok(interleave(&addrs)
                .into_iter()
                .map(|addr| EndpointPair::to_remote(HostName::from(addr), service.clone()))
                .collect())
        }
    }

    /// Resolves `host` with this control's resolver, by `deadline`.
    async fn resolve_by(
        &self,
        host: &HostName,
        port: u16,
        deadline: Instant,
    ) -> Result<Vec<SocketAddr>> {
        tokio::time::timeout_at(deadline, resolve(&*self.resolver.0, host, port))
            .await
            .map_err(|_| Error::TimedOut {
                operation: "host name resolution (connect_timeout)",
                after: self.connect_timeout,
            })?
    }

    async fn connect_to(&self, pair: &EndpointPair) -> ConnectResult {
        let EndpointPair {
            local_host,
            local_service,
            remote_host: host,
            remote_service: service,
        } = pair;
        self.options.validate()?;
        #[cfg(feature = "tls")]
        let tls = self.options.client_tls.for_connect()?;
        let started = Instant::now();
        let deadline = started + self.connect_timeout;
        let port = service_port(service).await?;
        let local_port = local_port(local_service).await?;
        let mut addrs = self.resolve_by(host, port, deadline).await?;
        let local = Local {
            addrs: match local_host {
                None => Vec::new(),
                Some(local_host) => self.resolve_by(local_host, local_port, deadline).await?,
            },
            port: local_port,
        };
        let target = match host.kind() {
            HostNameType::Ipv6 => format!("[{}]:{}", host.canonical_name(), service),
            _ => format!("{}:{}", host.canonical_name(), service),
        };
        if !local.is_any() {
            let (usable, unusable): (Vec<_>, Vec<_>) =
                addrs.into_iter().partition(|a| local.can_reach(*a));
            if usable.is_empty() {
                #[allow(clippy::useless_conversion)] // a TlsConnectError with the tls feature
                return Err(Error::Connect {
                    target,
                    attempts: unusable
                        .into_iter()
                        .map(|addr| ConnectAttempt {
                            addr,
                            error: family_mismatch(&local.addrs, addr),
                        })
                        .collect(),
                }
                .into());
            }
            addrs = usable;
        }
        let race = Race {
            stagger: self.attempt_delay,
            // Two sockets cannot hold one fixed local port at once.
            serialize: self.serialize || local.port != 0,
            deadline,
            timeout: self.connect_timeout,
        };
        let (stream, peer) = connect_to_addrs(&addrs, &local, &self.options, race, &target).await?;
        let socket =
            StreamSocket::connected(stream, peer, host.clone(), service.clone(), &self.options)?;
        #[cfg(feature = "tls")]
        if let Some(config) = tls {
            let upgrade = socket.upgrade_to_tls_with(&config, host);
            if Instant::now() + config.handshake_timeout() <= deadline {
                // The handshake's own timeout ends it before the connect
                // deadline could: one timer is enough.
                return upgrade.await;
            }
            return tokio::time::timeout_at(deadline, upgrade)
                .await
                .map_err(|_| Error::TimedOut {
                    operation: "tls handshake (connect_timeout)",
                    after: self.connect_timeout,
                })?;
        }
        Ok(socket)
    }
}

/// Why `remote` cannot be reached from any of `locals` (all of the other family).
fn family_mismatch(locals: &[SocketAddr], remote: SocketAddr) -> io::Error {
    let (ours, theirs) = if remote.is_ipv4() {
        ("IPv6", "IPv4")
    } else {
        ("IPv4", "IPv6")
    };
    let local = locals
        .first()
        .map_or_else(String::new, |l| format!(" {}", l.ip()));
    io::Error::new(
        io::ErrorKind::AddrNotAvailable,
        format!("the local address{local} is {ours} and cannot reach an {theirs} address"),
    )
}

#[cfg(feature = "tls")]
type ConnectResult = std::result::Result<StreamSocket, crate::TlsConnectError>;
#[cfg(not(feature = "tls"))]
type ConnectResult = Result<StreamSocket>;

/// The TLS settings of [`StreamSocketControl`] (feature `tls`).
#[cfg(feature = "tls")]
impl StreamSocketControl {
    /// The protection of the connection (UWP's `ConnectAsync(host, service,
    /// level)`): `PlainSocket` (the default) connects in plain text, `Tls12` /
    /// `Tls13` / `Ssl` (best available) run a TLS handshake right after the TCP
    /// connection, within the connect timeout. SSL 3, TLS 1.0/1.1 and NULL
    /// cipher levels make `connect` fail with `Unsupported`; nothing ever falls
    /// back to plain text.
    ///
    /// The other TLS settings below also serve
    /// [`upgrade_to_tls`](StreamSocket::upgrade_to_tls) on a socket that
    /// connected in plain text.
    pub fn protection_level(mut self, level: sock_core::ProtectionLevel) -> Self {
        self.options.client_tls.set_level(level);
        self
    }

    /// The lowest TLS version to accept (UWP's `MinProtectionLevel`): `Tls13`
    /// narrows `Ssl` (best available) to TLS 1.3 alone; `Tls12` or anything
    /// below changes nothing, since no level here allows older versions.
    pub fn min_protection_level(mut self, level: sock_core::ProtectionLevel) -> Self {
        self.options.client_tls.set_min_level(level);
        self
    }

    /// Uses a whole client configuration: roots, client certificate, ignorable
    /// errors, handshake timeout, ALPN, versions. Sets the protection level to
    /// the configuration's; the separate TLS settings must then stay unset.
    /// One configuration shared by many connections resumes their sessions.
    pub fn tls_client_config(mut self, config: sock_tls::TlsClientConfig) -> Self {
        self.options.client_tls.set_config(config);
        self
    }

    /// Presents this client certificate (PEM chain, end-entity first, and its
    /// private key) to servers that ask for one (UWP's `ClientCertificate`).
    /// It is read when connecting: an unreadable certificate or key makes
    /// `connect` fail with `InvalidCertificateInput`.
    pub fn client_certificate_pem(mut self, chain_pem: &[u8], key_pem: &[u8]) -> Self {
        self.options
            .client_tls
            .set_certificate_pem(chain_pem, key_pem);
        self
    }

    /// Presents the client certificate and key read from PEM files when connecting.
    pub fn client_certificate_pem_files(
        mut self,
        chain_path: impl Into<std::path::PathBuf>,
        key_path: impl Into<std::path::PathBuf>,
    ) -> Self {
        self.options
            .client_tls
            .set_certificate_pem_files(chain_path.into(), key_path.into());
        self
    }

    /// Presents this DER-encoded client certificate chain and private key.
    pub fn client_certificate(
        mut self,
        chain: Vec<sock_tls::CertificateDer<'static>>,
        key: sock_tls::PrivateKeyDer<'static>,
    ) -> Self {
        self.options.client_tls.set_certificate_der(chain, key);
        self
    }

    /// Presents this [`Certificate`](sock_tls::Certificate) (UWP's
    /// `ClientCertificate`): one found in a certificate store, read from
    /// PKCS#12, or held on a PKCS#11 token. It is checked when connecting: one
    /// without a private key, or whose key is not its own, makes `connect`
    /// fail with `InvalidCertificateInput`; an expired one with status
    /// `CertificateExpired`.
    pub fn client_certificate_from(mut self, certificate: sock_tls::Certificate) -> Self {
        self.options.client_tls.set_certificate(certificate);
        self
    }

    /// Trusts these PEM root certificates too (besides the operating system's).
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Self {
        self.options.client_tls.add_roots_pem(pem);
        self
    }

    /// Whether to trust the operating system's roots (`true` by default).
    pub fn with_os_roots(mut self, yes: bool) -> Self {
        self.options.client_tls.set_os_roots(yes);
        self
    }

    /// Server certificate problems to tolerate (UWP's
    /// `IgnorableServerCertificateErrors`): an expired certificate, an
    /// untrusted root, a name mismatch. Tolerated problems still show in
    /// [`StreamSocketInformation::server_certificate_errors`](crate::StreamSocketInformation::server_certificate_errors).
    pub fn ignorable_server_certificate_errors(
        mut self,
        errors: &[sock_tls::IgnorableCertificateError],
    ) -> Self {
        self.options.client_tls.set_ignorable(errors);
        self
    }

    /// How long the TLS handshake may take
    /// ([`sock_tls::DEFAULT_HANDSHAKE_TIMEOUT`], 10 s); the connect timeout
    /// bounds it too.
    pub fn tls_handshake_timeout(mut self, timeout: Duration) -> Self {
        self.options.client_tls.set_handshake_timeout(timeout);
        self
    }

    /// As [`connect`](Self::connect), but a failure keeps what the TLS
    /// handshake learned: the server's certificate chain and the problems
    /// found, with their severity, to show to a user and retry with those
    /// problems made ignorable on a new socket (UWP's certificate-error flow).
    ///
    /// ```no_run
    /// use sock_core::{HostName, ProtectionLevel};
    /// use sock_tcp::{ServerCertificateErrorSeverity, StreamSocket};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_core::Result<()> {
    /// let host = HostName::new("localhost")?;
    /// let control = StreamSocket::builder().protection_level(ProtectionLevel::Tls12);
    /// let socket = match control.connect_with_tls_info(&host, "443").await {
    ///     Ok(socket) => socket,
    ///     Err(e) if e.server_certificate_error_severity()
    ///         == ServerCertificateErrorSeverity::Ignorable =>
    ///     {
    ///         for problem in e.server_certificate_errors() {
    ///             println!("{} ({})", problem, problem.status());
    ///         }
    ///         let ignorable = e.ignorable_server_certificate_errors().unwrap_or_default();
    ///         control
    ///             .ignorable_server_certificate_errors(&ignorable)
    ///             .connect(&host, "443")
    ///             .await?
    ///     }
    ///     Err(e) => return Err(e.into()),
    /// };
    /// # drop(socket); Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), in a [`TlsConnectError`](crate::TlsConnectError).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes every socket it opened.
    pub fn connect_with_tls_info<S>(
        &self,
        host: &HostName,
        service: S,
    ) -> impl Future<Output = std::result::Result<StreamSocket, crate::TlsConnectError>> + Send + 'static
    where
        S: TryInto<ServiceName>,
        S::Error: Into<Error>,
    {
        let service = service.try_into().map_err(Into::into);
        let control = self.clone();
        let host = host.clone();
        async move {
            let pair = EndpointPair::to_remote(host, service?);
            control.connect_to(&pair).await
        }
    }

    /// As [`connect_pair`](Self::connect_pair), from an explicit local
    /// endpoint, but a failure keeps what the TLS handshake learned, as
    /// [`connect_with_tls_info`](Self::connect_with_tls_info) does: the
    /// server's chain and the certificate problems with their severity.
    ///
    /// # Errors
    ///
    /// As [`connect_pair`](Self::connect_pair), in a
    /// [`TlsConnectError`](crate::TlsConnectError).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes every socket it opened.
    pub fn connect_pair_with_tls_info(
        &self,
        pair: &EndpointPair,
    ) -> impl Future<Output = std::result::Result<StreamSocket, crate::TlsConnectError>> + Send + 'static
    {
        let control = self.clone();
        let pair = pair.clone();
        async move { control.connect_to(&pair).await }
    }
}

/// The local port of `service` for TCP: 0 (the system picks) for `""` or
/// `0`; a service name is looked up off the async threads.
async fn local_port(service: &ServiceName) -> Result<u16> {
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
async fn service_port(service: &ServiceName) -> Result<u16> {
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

    #[test]
    fn defaults_are_uwp_defaults() {
        let o = SocketOptions::default();
        assert!(o.no_delay);
        assert!(o.keep_alive.is_none());
        assert_eq!(o.quality_of_service, QualityOfService::Normal);
        assert!(o.validate().is_ok());
    }

    #[test]
    fn out_of_range_values_are_refused_by_name() {
        for (opts, name) in [
            (
                SocketOptions {
                    hop_limit: Some(0),
                    ..SocketOptions::default()
                },
                "outbound_unicast_hop_limit",
            ),
            (
                SocketOptions {
                    outbound_buffer_size: Some(0),
                    ..SocketOptions::default()
                },
                "outbound_buffer_size",
            ),
            (
                SocketOptions {
                    idle: crate::idle::IdleTimeouts {
                        all: Some(Duration::ZERO),
                        ..Default::default()
                    },
                    ..SocketOptions::default()
                },
                "idle_timeout",
            ),
            (
                SocketOptions {
                    idle: crate::idle::IdleTimeouts {
                        read: Some(Duration::ZERO),
                        ..Default::default()
                    },
                    ..SocketOptions::default()
                },
                "read_idle_timeout",
            ),
        ] {
            let err = opts.validate().unwrap_err();
            assert!(err.to_string().contains(name), "{err}");
            assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
        }
    }

    #[test]
    fn keep_alive_without_timings_leaves_them_to_the_os() {
        assert!(KeepAlive::new().to_socket2().is_none());
        assert!(KeepAlive::new().count(3).to_socket2().is_some());
    }

    #[test]
    fn low_latency_is_dscp_ef() {
        assert_eq!(LOW_LATENCY_TRAFFIC_CLASS, 0xB8);
    }
}
