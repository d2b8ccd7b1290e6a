//! TLS over `StreamSocket` (feature `tls`): the client settings of
//! `StreamSocketControl`, `upgrade_to_tls`, the listener's server handshakes,
//! and the TLS parts of `StreamSocketInformation`.

use std::collections::VecDeque;
use std::error::Error as StdError;
use std::fmt;
use std::future::Future;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use sock_core::{Error, HostName, ProtectionLevel, Result, SocketErrorStatus, TlsVersion};
use sock_tls::{
    CertificateDer, CertificateProblem, HandshakeError, IgnorableCertificateError, PrefixedIo,
    PrivateKeyDer, TlsClientConfig, TlsClientConfigBuilder, TlsConnectionInfo, TlsServerConfig,
    TlsStream,
};
use tokio::net::TcpStream;
use tokio::task::{AbortHandle, JoinSet};

use crate::io::Transport;
use crate::StreamSocket;

/// The TLS stream under a protected socket.
pub(crate) type TlsIo = TlsStream<PrefixedIo<TcpStream>>;

/// At most this many server handshakes of one listener run at once by default
/// (256); further connections wait in the backlog until one finishes.
pub const DEFAULT_MAX_PENDING_TLS_HANDSHAKES: usize = 256;

/// How long a TLS listener waits by default for a new connection's first
/// byte (the ClientHello) before closing it (3 s): separate from, and much
/// shorter than, the whole handshake's timeout, so connections that say
/// nothing cannot hold handshake slots for long.
pub const DEFAULT_TLS_FIRST_BYTE_TIMEOUT: Duration = Duration::from_secs(3);

// ===== Client settings =====

/// A client certificate as the control was given it (read when a
/// configuration is built, so errors come back from `connect`).
enum ClientCertificate {
    Pem { chain: Vec<u8>, key: Vec<u8> },
    PemFiles { chain: PathBuf, key: PathBuf },
    Der(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    Certificate(sock_tls::Certificate),
}

/// The TLS settings of a `StreamSocketControl`.
#[derive(Clone, Default)]
pub(crate) struct ClientTls {
    level: Option<ProtectionLevel>,
    min_level: Option<ProtectionLevel>,
    config: Option<TlsClientConfig>,
    roots_pem: Vec<Arc<[u8]>>,
    os_roots: Option<bool>,
    certificate: Option<Arc<ClientCertificate>>,
    ignorable: Option<Vec<IgnorableCertificateError>>,
    handshake_timeout: Option<Duration>,
    /// The configuration built from these settings, shared by the clones of
    /// one control so sessions resume between its connections.
    built: Arc<OnceLock<TlsClientConfig>>,
}

impl fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientTls")
            .field("protection_level", &self.level)
            .field("min_protection_level", &self.min_level)
            .field("tls_client_config", &self.config)
            .field("root_certificates", &self.roots_pem.len())
            .field("client_certificate", &self.certificate.is_some())
            .field("ignorable", &self.ignorable)
            .field("handshake_timeout", &self.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl ClientTls {
    fn changed(&mut self) {
        self.built = Arc::default();
    }

    pub(crate) fn set_level(&mut self, level: ProtectionLevel) {
        self.level = Some(level);
        self.changed();
    }

    pub(crate) fn set_min_level(&mut self, level: ProtectionLevel) {
        self.min_level = Some(level);
        self.changed();
    }

    pub(crate) fn set_config(&mut self, config: TlsClientConfig) {
        self.config = Some(config);
        self.changed();
    }

    pub(crate) fn add_roots_pem(&mut self, pem: &[u8]) {
        self.roots_pem.push(pem.into());
        self.changed();
    }

    pub(crate) fn set_os_roots(&mut self, yes: bool) {
        self.os_roots = Some(yes);
        self.changed();
    }

    pub(crate) fn set_certificate_pem(&mut self, chain: &[u8], key: &[u8]) {
        self.certificate = Some(Arc::new(ClientCertificate::Pem {
            chain: chain.to_vec(),
            key: key.to_vec(),
        }));
        self.changed();
    }

    pub(crate) fn set_certificate_pem_files(&mut self, chain: PathBuf, key: PathBuf) {
        self.certificate = Some(Arc::new(ClientCertificate::PemFiles { chain, key }));
        self.changed();
    }

    pub(crate) fn set_certificate_der(
        &mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) {
        self.certificate = Some(Arc::new(ClientCertificate::Der(chain, key)));
        self.changed();
    }

    pub(crate) fn set_certificate(&mut self, certificate: sock_tls::Certificate) {
        self.certificate = Some(Arc::new(ClientCertificate::Certificate(certificate)));
        self.changed();
    }

    pub(crate) fn set_ignorable(&mut self, errors: &[IgnorableCertificateError]) {
        self.ignorable = Some(errors.to_vec());
        self.changed();
    }

    pub(crate) fn set_handshake_timeout(&mut self, timeout: Duration) {
        self.handshake_timeout = Some(timeout);
        self.changed();
    }

    /// The configuration `connect` uses: `None` for a plaintext connection.
    ///
    /// # Errors
    ///
    /// `Unsupported` for a weak level or one that contradicts the minimum or
    /// the whole configuration given; errors in the certificates given.
    pub(crate) fn for_connect(&self) -> Result<Option<TlsClientConfig>> {
        let level = match (self.level, &self.config) {
            (None, None) => {
                check_min(ProtectionLevel::PlainSocket, self.min_level)?;
                return Ok(None);
            }
            (None, Some(config)) => config.protection_level(),
            (Some(level), _) => level,
        };
        if level == ProtectionLevel::PlainSocket {
            check_min(level, self.min_level)?;
            if self.config.is_some() {
                return Err(Error::unsupported(
                    "protection level PlainSocket with a tls_client_config",
                    "a plaintext connection cannot use a tls configuration; \
                     drop one of the two (upgrade_to_tls uses the settings later)",
                ));
            }
            return Ok(None);
        }
        if let Some(built) = self.built.get() {
            return Ok(Some(built.clone()));
        }
        let config = self.build(level)?;
        let _ = self.built.set(config.clone());
        Ok(Some(config))
    }

    /// A configuration for `level` from these settings (for `upgrade_to_tls`).
    pub(crate) fn build(&self, level: ProtectionLevel) -> Result<TlsClientConfig> {
        let level = effective_level(level, self.min_level)?;
        if let Some(config) = &self.config {
            let extra = self.roots_pem.len()
                + usize::from(self.os_roots.is_some())
                + usize::from(self.certificate.is_some())
                + usize::from(self.ignorable.is_some())
                + usize::from(self.handshake_timeout.is_some());
            if extra > 0 {
                return Err(Error::unsupported(
                    "tls settings together with a tls_client_config",
                    "give either a whole tls_client_config or the separate settings \
                     (roots, client certificate, ignorable errors, handshake timeout)",
                ));
            }
            if config.protection_level() != level {
                return Err(Error::unsupported(
                    format!(
                        "protection level {level} with a tls_client_config built for {}",
                        config.protection_level()
                    ),
                    "the configuration fixes its own tls versions; build it for this level",
                ));
            }
            return Ok(config.clone());
        }
        let mut builder = TlsClientConfig::builder().protection_level(level);
        for pem in &self.roots_pem {
            builder = builder.add_root_certificates_pem(pem);
        }
        if let Some(yes) = self.os_roots {
            builder = builder.with_os_roots(yes);
        }
        if let Some(certificate) = &self.certificate {
            builder = with_certificate(builder, certificate);
        }
        if let Some(errors) = &self.ignorable {
            builder = builder.ignorable_server_certificate_errors(errors);
        }
        if let Some(timeout) = self.handshake_timeout {
            builder = builder.handshake_timeout(timeout);
        }
        builder.build()
    }
}

fn with_certificate(
    builder: TlsClientConfigBuilder,
    certificate: &ClientCertificate,
) -> TlsClientConfigBuilder {
    match certificate {
        ClientCertificate::Pem { chain, key } => builder.client_certificate_pem(chain, key),
        ClientCertificate::PemFiles { chain, key } => {
            builder.client_certificate_pem_files(chain, key)
        }
        ClientCertificate::Der(chain, key) => {
            builder.client_certificate_der(chain.clone(), key.clone_key())
        }
        ClientCertificate::Certificate(certificate) => {
            builder.client_certificate_from(certificate.clone())
        }
    }
}

/// Checks a minimum level is one that can be asked for at all.
fn check_min(level: ProtectionLevel, min: Option<ProtectionLevel>) -> Result<()> {
    effective_level(level, min).map(drop).or_else(|e| {
        if level == ProtectionLevel::PlainSocket
            && min.is_some_and(|m| m.tls_versions().is_ok_and(|v| !v.is_empty()))
        {
            Err(Error::unsupported(
                format!(
                    "protection level PlainSocket with min_protection_level {}",
                    min.unwrap_or_default()
                ),
                "the minimum asks for tls: set protection_level too",
            ))
        } else if level == ProtectionLevel::PlainSocket {
            Ok(())
        } else {
            Err(e)
        }
    })
}

/// The level to build for, given the minimum: a minimum of `Tls13` narrows the
/// best-available levels to TLS 1.3; a minimum of TLS 1.2 or below changes
/// nothing (no level here allows anything older).
fn effective_level(
    level: ProtectionLevel,
    min: Option<ProtectionLevel>,
) -> Result<ProtectionLevel> {
    let versions = level.tls_versions()?;
    let Some(min) = min else {
        return Ok(level);
    };
    let floor = match min {
        ProtectionLevel::Tls13 => Some(TlsVersion::Tls13),
        ProtectionLevel::SslAllowNullEncryption
        | ProtectionLevel::BluetoothEncryptionAllowNullAuthentication
        | ProtectionLevel::BluetoothEncryptionWithAuthentication => {
            return Err(Error::unsupported(
                format!("min_protection_level {min}"),
                "it is not a tls version floor",
            ))
        }
        _ => None,
    };
    match floor {
        Some(TlsVersion::Tls13) if !versions.contains(&TlsVersion::Tls13) => {
            Err(Error::unsupported(
                format!("protection level {level} with min_protection_level {min}"),
                "the level allows only versions below the minimum",
            ))
        }
        Some(TlsVersion::Tls13) => Ok(ProtectionLevel::Tls13),
        _ => Ok(level),
    }
}

// ===== Errors that keep what the handshake learned =====

/// A failed connect or upgrade, with what the TLS handshake learned when it
/// got that far: the server's certificate chain and the problems found, as
/// UWP's `StreamSocketInformation` shows them after a failed `ConnectAsync`.
///
/// Made by [`StreamSocketControl::connect_with_tls_info`](crate::StreamSocketControl::connect_with_tls_info),
/// [`connect_pair_with_tls_info`](crate::StreamSocketControl::connect_pair_with_tls_info)
/// and the `upgrade_to_tls*` methods; converts into [`sock_core::Error`] (so
/// `?` works) and [`io::Error`].
#[derive(Debug)]
pub struct TlsConnectError {
    error: Error,
    info: Option<Box<TlsConnectionInfo>>,
}

impl TlsConnectError {
    pub(crate) fn plain(error: Error) -> Self {
        Self { error, info: None }
    }

    /// The error: [`Error::Certificate`] (status 23–30) when the server's
    /// certificate was refused, [`Error::TimedOut`] for the handshake or connect
    /// timeout, [`Error::Tls`], or any error of a plaintext connect.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The status of the error.
    pub fn status(&self) -> SocketErrorStatus {
        self.error.status()
    }

    /// What the handshake learned before it failed (the server's chain, the
    /// certificate problems found); `None` when it failed before TLS started
    /// (name resolution, TCP).
    pub fn tls_info(&self) -> Option<&TlsConnectionInfo> {
        self.info.as_deref()
    }

    /// The problems found with the server's certificate (UWP's
    /// `ServerCertificateErrors`), empty when there were none or TLS never started.
    pub fn server_certificate_errors(&self) -> &[CertificateProblem] {
        self.tls_info()
            .map_or(&[], TlsConnectionInfo::certificate_errors)
    }

    /// How bad those problems are (UWP's `ServerCertificateErrorSeverity`):
    /// `Ignorable` means a retry with them in
    /// [`ignorable_server_certificate_errors`](crate::StreamSocketControl::ignorable_server_certificate_errors)
    /// can succeed.
    pub fn server_certificate_error_severity(&self) -> ServerCertificateErrorSeverity {
        ServerCertificateErrorSeverity::of(self.server_certificate_errors())
    }

    /// The kinds of the problems found, to make ignorable for a retry; `None`
    /// when some problem can never be ignored (or there was none).
    pub fn ignorable_server_certificate_errors(&self) -> Option<Vec<IgnorableCertificateError>> {
        let errors = self.server_certificate_errors();
        if errors.is_empty() {
            return None;
        }
        let mut kinds = Vec::new();
        for problem in errors {
            let kind = problem.ignorable_as()?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Some(kinds)
    }

    /// The error, dropping the information.
    pub fn into_error(self) -> Error {
        self.error
    }
}

impl From<HandshakeError> for TlsConnectError {
    fn from(err: HandshakeError) -> Self {
        let (error, info) = err.into_parts();
        Self {
            error,
            info: Some(Box::new(info)),
        }
    }
}

impl From<Error> for TlsConnectError {
    fn from(error: Error) -> Self {
        Self::plain(error)
    }
}

impl fmt::Display for TlsConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl StdError for TlsConnectError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.error.source()
    }
}

impl From<TlsConnectError> for Error {
    fn from(err: TlsConnectError) -> Self {
        err.error
    }
}

impl From<TlsConnectError> for io::Error {
    fn from(err: TlsConnectError) -> Self {
        err.error.into()
    }
}

/// How serious the problems with a server's certificate are, as UWP's
/// `SocketSslErrorSeverity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerCertificateErrorSeverity {
    /// No problem.
    None,
    /// Every problem is of a kind that can be made ignorable
    /// ([`IgnorableCertificateError`]).
    Ignorable,
    /// At least one problem can never be ignored (revoked, bad signature, …).
    Fatal,
}

impl ServerCertificateErrorSeverity {
    /// The severity of a list of problems.
    pub fn of(problems: &[CertificateProblem]) -> Self {
        if problems.is_empty() {
            Self::None
        } else if problems.iter().all(|p| p.ignorable_as().is_some()) {
            Self::Ignorable
        } else {
            Self::Fatal
        }
    }
}

// ===== Upgrades =====

impl StreamSocket {
    /// Runs a TLS handshake as the client on this connection (UWP's
    /// `UpgradeToSslAsync`), with the TLS settings of the control it connected
    /// with (roots, client certificate, ignorable errors) and `level`; the
    /// server's certificate must be valid for `host`.
    ///
    /// For protocols that start in plain text (STARTTLS): bytes already read
    /// into the socket and not yet consumed (given back with
    /// [`from_framed`](Self::from_framed)) are fed to TLS first, so nothing is lost.
    ///
    /// # Errors
    ///
    /// A [`TlsConnectError`]: `Unsupported` for weak levels (SSL 3, TLS 1.0/1.1,
    /// NULL ciphers) or `PlainSocket`; certificate errors with their status and
    /// the server's chain; the handshake timeout; a socket that is TLS
    /// already. The connection is closed on failure.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future drops the socket. The future owns
    /// what it needs, so it can be spawned or joined freely.
    pub fn upgrade_to_tls(
        self,
        level: ProtectionLevel,
        host: &HostName,
    ) -> impl Future<Output = std::result::Result<Self, TlsConnectError>> + Send + 'static {
        let config = self.shared.meta.client_tls.build(level);
        let host = host.clone();
        async move { self.upgrade_to_tls_with(&config?, &host).await }
    }

    /// As [`upgrade_to_tls`](Self::upgrade_to_tls), with a whole client
    /// configuration.
    ///
    /// # Errors
    ///
    /// As [`upgrade_to_tls`](Self::upgrade_to_tls).
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future drops the socket.
    pub fn upgrade_to_tls_with(
        self,
        config: &TlsClientConfig,
        host: &HostName,
    ) -> impl Future<Output = std::result::Result<Self, TlsConnectError>> + Send + 'static {
        let handshake = self
            .into_prefixed()
            .map(|(io, rest)| (config.connect(host, io), rest));
        async move {
            let (handshake, rest) = handshake?;
            Ok(rest.with_tls(handshake.await?))
        }
    }

    /// Runs a TLS handshake as the server on this connection: STARTTLS on
    /// the server side. Bytes already buffered (the start of the client's
    /// hello, read together with the last plaintext line) are kept.
    ///
    /// # Errors
    ///
    /// As [`TlsServerConfig::accept`], and for a socket that is TLS already.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future drops the socket.
    pub fn upgrade_to_tls_server(
        self,
        config: &TlsServerConfig,
    ) -> impl Future<Output = std::result::Result<Self, TlsConnectError>> + Send + 'static {
        let handshake = self
            .into_prefixed()
            .map(|(io, rest)| (config.accept(io), rest));
        async move {
            let (handshake, rest) = handshake?;
            Ok(rest.with_tls(handshake.await?))
        }
    }

    /// Takes the TCP stream and the buffered bytes out for a handshake.
    fn into_prefixed(mut self) -> Result<(PrefixedIo<TcpStream>, Parts)> {
        let prefix = std::mem::take(&mut self.read.prefix);
        let Self {
            transport,
            read,
            write,
            shared,
        } = self;
        match transport {
            Transport::Plain(tcp) => Ok((
                PrefixedIo::new(Vec::from(prefix), tcp),
                Parts {
                    read,
                    write,
                    shared,
                },
            )),
            Transport::Tls(_) => Err(Error::unsupported(
                "upgrading a tls socket to tls",
                "the connection is protected already",
            )),
        }
    }

    /// The TLS details of the connection, when it is protected.
    pub fn tls_info(&self) -> Option<&TlsConnectionInfo> {
        match &self.transport {
            Transport::Tls(tls) => Some(tls.info()),
            Transport::Plain(_) => None,
        }
    }
}

/// A socket without its transport, during a handshake.
pub(crate) struct Parts {
    read: crate::io::ReadSide,
    write: crate::io::DirState,
    shared: Arc<crate::io::Shared>,
}

impl Parts {
    fn with_tls(self, tls: TlsIo) -> StreamSocket {
        StreamSocket {
            transport: Transport::Tls(Box::new(tls)),
            read: self.read,
            write: self.write,
            shared: self.shared,
        }
    }
}

/// The protection level a connection's TLS version amounts to.
pub(crate) fn level_of(info: &TlsConnectionInfo) -> ProtectionLevel {
    match info.protocol_version() {
        Some(TlsVersion::Tls13) => ProtectionLevel::Tls13,
        Some(TlsVersion::Tls12) => ProtectionLevel::Tls12,
        None => ProtectionLevel::Ssl,
    }
}

// ===== The listener's handshakes =====

type Handshake = std::result::Result<StreamSocket, (std::net::SocketAddr, HandshakeFailure)>;

/// Why a listener's server handshake did not finish.
#[derive(Debug)]
enum HandshakeFailure {
    /// No byte arrived within the first-byte timeout.
    Silent(Duration),
    /// The transport failed while waiting for the first byte.
    Io(io::Error),
    /// The TLS handshake failed or timed out.
    Tls(HandshakeError),
}

impl fmt::Display for HandshakeFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Silent(after) => write!(
                f,
                "no ClientHello within tls_first_byte_timeout ({after:?})"
            ),
            Self::Io(e) => write!(f, "{e}"),
            Self::Tls(e) => write!(f, "{e}"),
        }
    }
}

/// A handshake running on its own task, and whether its client has sent
/// anything yet.
struct Running {
    abort: AbortHandle,
    heard: Arc<AtomicBool>,
}

#[derive(Default)]
struct Pending {
    tasks: JoinSet<Handshake>,
    /// Oldest first; aborted and finished ones are dropped from it.
    order: VecDeque<Running>,
}

/// The server handshakes of a TLS listener: each runs on its own task, so a
/// client that stalls holds only its own connection.
///
/// A connection that sends nothing is closed after the first-byte timeout;
/// and when `max_pending` handshakes run and another connection waits, the
/// oldest handshake that has heard nothing yet is dropped to make room, so
/// real clients are not queued behind silent ones.
pub(crate) struct ServerTls {
    config: TlsServerConfig,
    max_pending: usize,
    first_byte: Duration,
    pending: Mutex<Pending>,
    failed: AtomicU64,
    shed: AtomicU64,
}

impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("config", &self.config)
            .field("max_pending", &self.max_pending)
            .field("first_byte", &self.first_byte)
            .field("failed", &self.failed)
            .field("shed", &self.shed)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    pub(crate) fn new(config: TlsServerConfig, max_pending: usize, first_byte: Duration) -> Self {
        Self {
            config,
            max_pending: max_pending.max(1),
            first_byte,
            pending: Mutex::default(),
            failed: AtomicU64::new(0),
            shed: AtomicU64::new(0),
        }
    }

    /// Failed handshakes so far (those shed and those silent included).
    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    /// Silent handshakes dropped to make room for a new connection.
    pub(crate) fn shed(&self) -> u64 {
        self.shed.load(Ordering::Relaxed)
    }

    /// The next socket whose handshake finished; new connections are taken
    /// from `accept_tcp` while fewer than `max_pending` handshakes run, or
    /// when one that has heard nothing can be dropped for them.
    pub(crate) fn poll_accept(
        &self,
        cx: &mut Context<'_>,
        mut accept_tcp: impl FnMut(&mut Context<'_>) -> Poll<Result<StreamSocket>>,
    ) -> Poll<Result<StreamSocket>> {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let pending = &mut *pending;
        loop {
            while let Poll::Ready(Some(done)) = pending.tasks.poll_join_next(cx) {
                match done {
                    Ok(Ok(socket)) => return Poll::Ready(Ok(socket)),
                    Ok(Err((peer, e))) => {
                        crate::log::server_handshake_failed(Some(peer), &e);
                        self.failed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        if !e.is_cancelled() {
                            crate::log::server_handshake_failed(None, &e);
                        }
                        self.failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            pending.order.retain(|r| !r.abort.is_finished());
            // At the limit, a new connection may only take the place of a
            // handshake that has heard nothing from its client.
            let silent = if pending.order.len() >= self.max_pending {
                let oldest = pending
                    .order
                    .iter()
                    .position(|r| !r.heard.load(Ordering::Acquire));
                if oldest.is_none() {
                    return Poll::Pending;
                }
                oldest
            } else {
                None
            };
            match accept_tcp(cx) {
                Poll::Ready(Ok(socket)) => {
                    if let Some(r) = silent.and_then(|i| pending.order.remove(i)) {
                        r.abort.abort();
                        self.shed.fetch_add(1, Ordering::Relaxed);
                        crate::log::silent_handshake_shed(self.max_pending);
                    }
                    let heard = Arc::new(AtomicBool::new(false));
                    let abort = pending.tasks.spawn(handshake(
                        socket,
                        self.config.clone(),
                        self.first_byte,
                        Arc::clone(&heard),
                    ));
                    pending.order.push_back(Running { abort, heard });
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

async fn handshake(
    socket: StreamSocket,
    config: TlsServerConfig,
    first_byte: Duration,
    heard: Arc<AtomicBool>,
) -> Handshake {
    let peer = socket.peer_addr();
    // The client speaks first: wait for its ClientHello, briefly.
    // (A peek: readiness alone may be reported before any byte is there.)
    let mut first = [0u8; 1];
    match tokio::time::timeout(first_byte, socket.get_ref().peek(&mut first)).await {
        Ok(Ok(_)) => heard.store(true, Ordering::Release),
        Ok(Err(e)) => return Err((peer, HandshakeFailure::Io(e))),
        Err(_) => return Err((peer, HandshakeFailure::Silent(first_byte))),
    }
    let Ok((io, rest)) = socket.into_prefixed() else {
        unreachable!("accepted sockets are plain")
    };
    let tls = config
        .accept(io)
        .await
        .map_err(|e| (peer, HandshakeFailure::Tls(e)))?;
    Ok(rest.with_tls(tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minimum_of_tls13_narrows_the_best_available_level() {
        assert_eq!(
            effective_level(ProtectionLevel::Ssl, Some(ProtectionLevel::Tls13)).unwrap(),
            ProtectionLevel::Tls13
        );
        assert_eq!(
            effective_level(ProtectionLevel::Ssl, Some(ProtectionLevel::Tls10)).unwrap(),
            ProtectionLevel::Ssl
        );
        let err =
            effective_level(ProtectionLevel::Tls12, Some(ProtectionLevel::Tls13)).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    }

    #[test]
    fn weak_levels_are_unsupported_and_plain_needs_no_config() {
        for level in [
            ProtectionLevel::Tls10,
            ProtectionLevel::Tls11,
            ProtectionLevel::Ssl3AllowWeakEncryption,
            ProtectionLevel::SslAllowNullEncryption,
        ] {
            let mut tls = ClientTls::default();
            tls.set_level(level);
            let err = tls.for_connect().unwrap_err();
            assert_eq!(err.status(), SocketErrorStatus::Unknown, "{err}");
            assert!(matches!(err, Error::Unsupported { .. }), "{level}: {err}");
        }
        assert!(ClientTls::default().for_connect().unwrap().is_none());
    }

    #[test]
    fn a_whole_config_and_separate_settings_do_not_mix() {
        let config = TlsClientConfig::builder().build().unwrap();
        let mut tls = ClientTls::default();
        tls.set_config(config);
        assert!(tls.for_connect().unwrap().is_some());
        tls.set_handshake_timeout(Duration::from_secs(1));
        let err = tls.for_connect().unwrap_err();
        assert!(err.to_string().contains("tls_client_config"), "{err}");
    }
}
