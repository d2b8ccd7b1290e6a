//! Socket options shared by `StreamSocketControl` and
//! `StreamSocketListenerControl`, and `KeepAlive`.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use sock_core::{EndpointPair, Error, HostName, HostNameType, Result, ServiceName};
use tokio::time::Instant;

use crate::connect::{connect_to_addrs, Local, Race};
use crate::deadline::{later, ConnectTimer};
use crate::dial::{candidates, connect_to_services, remote, Remote};
use crate::options::{socket_option_setters, SocketOptions};
use crate::resolve::{interleave, local_port, resolve, Resolve, SharedResolver};
use crate::StreamSocket;

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
        async move { control.connect_to(&pair).await.map_err(Into::into) }
    }

    /// The endpoint pairs a [`connect`](Self::connect) to `host` at `service`
    /// would try (UWP's `GetEndpointPairsAsync`), in the order it tries them:
    /// one per address the resolver gives, the two families alternating from
    /// the resolver's first answer, each with no local preference. An IP
    /// literal is its one pair. A service found through SRV records gives the
    /// pairs of each target in the order tried, each with its port. For a
    /// connect loop of one's own: set a local
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
            let deadline = later(Instant::now(), control.connect_timeout);
            let resolver = &*control.resolver.0;
            // (host, port, the service as the pairs name it)
            let targets =
                match remote(resolver, &host, &service, deadline, control.connect_timeout).await? {
                    Remote::Port(port) => vec![(host, port, service)],
                    Remote::Services(records) => records
                        .into_iter()
                        .map(|r| Ok((HostName::new(&r.target)?, r.port, ServiceName::from(r.port))))
                        .collect::<Result<_>>()?,
                };
            let mut pairs = Vec::new();
            for (host, port, service) in targets {
                let addrs = control.resolve_by(&host, port, deadline).await?;
                pairs.extend(
                    interleave(&addrs)
                        .into_iter()
                        .map(|addr| EndpointPair::to_remote(HostName::from(addr), service.clone())),
                );
            }
            Ok(pairs)
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

    pub(crate) async fn connect_to(&self, pair: &EndpointPair) -> ConnectResult {
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
        let deadline = later(started, self.connect_timeout);
        // One timer for the whole connect, first set to the earliest instant
        // a step may end: the connect deadline, or the handshake timeout
        // counted from now (the handshake starts later, so ends no sooner).
        #[cfg(feature = "tls")]
        let first = match &tls {
            Some(config) => deadline.min(later(started, config.handshake_timeout())),
            None => deadline,
        };
        #[cfg(not(feature = "tls"))]
        let first = deadline;
        let mut timer = ConnectTimer::new(first);
        let resolver = &*self.resolver.0;
        let remote = remote(resolver, host, service, deadline, self.connect_timeout).await?;
        let local_port = local_port(local_service).await?;
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
        let race = Race {
            stagger: self.attempt_delay,
            // Two sockets cannot hold one fixed local port at once.
            serialize: self.serialize || local.port != 0,
            deadline,
            timeout: self.connect_timeout,
        };
        let (stream, peer) = match remote {
            Remote::Port(port) => {
                let candidates = candidates(
                    resolver,
                    host,
                    port,
                    &local,
                    deadline,
                    self.connect_timeout,
                    &target,
                )
                .await?;
                connect_to_addrs(candidates, &local, &self.options, race, &mut timer, &target)
                    .await?
            }
            Remote::Services(records) => {
                connect_to_services(
                    resolver,
                    records,
                    &local,
                    &self.options,
                    race,
                    &mut timer,
                    &target,
                )
                .await?
            }
        };
        let socket =
            StreamSocket::connected(stream, peer, host.clone(), service.clone(), &self.options)?;
        #[cfg(feature = "tls")]
        if let Some(config) = tls {
            // The handshake ends at its own timeout or at the connect
            // deadline, whichever comes first, on the connect's timer.
            let own = later(Instant::now(), config.handshake_timeout());
            let (at, timed_out) = if own <= deadline {
                (
                    own,
                    Error::TimedOut {
                        operation: "tls handshake",
                        after: config.handshake_timeout(),
                    },
                )
            } else {
                (
                    deadline,
                    Error::TimedOut {
                        operation: "tls handshake (connect_timeout)",
                        after: self.connect_timeout,
                    },
                )
            };
            let until = async move {
                std::future::poll_fn(|cx| timer.poll_until(at, cx)).await;
                timed_out
            };
            return Ok(socket.upgrade_to_tls_until(&config, host, until).await?);
        }
        Ok(socket)
    }
}

pub(crate) type ConnectResult = std::result::Result<StreamSocket, crate::connect::ConnectFailure>;

impl StreamSocket {
    /// Connects to `service` on `host` with the default options (UWP's
    /// `ConnectAsync(HostName, String)`).
    ///
    /// The same as `StreamSocket::builder().connect(host, service)`; see
    /// [`StreamSocketControl::connect`] for how names, addresses and errors
    /// are handled. `service` is a [`ServiceName`], a `&str` (`"1337"`,
    /// `"http"`) or a `u16` port.
    ///
    /// ```no_run
    /// use sock_core::HostName;
    /// use sock_tcp::StreamSocket;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_core::Result<()> {
    /// let socket = StreamSocket::connect(&HostName::new("localhost")?, "1337").await?;
    /// println!("connected to {}", socket.peer_addr());
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`StreamSocketControl::connect`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes every socket it opened.
    pub fn connect<S>(
        host: &HostName,
        service: S,
    ) -> impl Future<Output = Result<Self>> + Send + 'static
    where
        S: TryInto<ServiceName>,
        S::Error: Into<Error>,
    {
        StreamSocketControl::default().connect(host, service)
    }

    /// Connects from an explicit local endpoint with the default options
    /// (UWP's `ConnectAsync(EndpointPair)`).
    ///
    /// The same as `StreamSocket::builder().connect_pair(pair)`; see
    /// [`StreamSocketControl::connect_pair`] for how the local endpoint is
    /// used.
    ///
    /// # Errors
    ///
    /// As [`StreamSocketControl::connect_pair`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes every socket it opened.
    pub fn connect_pair(
        pair: &EndpointPair,
    ) -> impl Future<Output = Result<Self>> + Send + 'static {
        StreamSocketControl::default().connect_pair(pair)
    }

    /// The endpoint pairs a connect to `host` at `service` would try, in its
    /// order (UWP's static `GetEndpointPairsAsync`), resolved with the system
    /// resolver.
    ///
    /// The same as `StreamSocket::builder().endpoint_pairs(host, service)`;
    /// see [`StreamSocketControl::endpoint_pairs`].
    ///
    /// # Errors
    ///
    /// As [`StreamSocketControl::endpoint_pairs`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only looks names up.
    pub fn endpoint_pairs<S>(
        host: &HostName,
        service: S,
    ) -> impl Future<Output = Result<Vec<EndpointPair>>> + Send + 'static
    where
        S: TryInto<ServiceName>,
        S::Error: Into<Error>,
    {
        StreamSocketControl::default().endpoint_pairs(host, service)
    }

    /// The options and connection settings to connect with (UWP's
    /// `StreamSocketControl`).
    pub fn builder() -> StreamSocketControl {
        StreamSocketControl::default()
    }
}
