//! `TlsServerConfig`: the server side: certificate and key, client
//! authentication against given roots and revocation lists, and `accept`.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{KeyLogFile, RootCertStore, ServerConfig, Side};
use sock_core::{Error, ProtectionLevel, Result};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::config::{
    default_provider, drive, handshake_timeout, versions_error, versions_for,
    DEFAULT_HANDSHAKE_TIMEOUT,
};
use crate::error::handshake_error;
use crate::pem;
use crate::verify::{Findings, RecordingClientVerifier};
use crate::{HandshakeError, TlsConnectionInfo, TlsStream};

/// Whether and how a server asks clients for a certificate.
///
/// Client certificates are verified against `roots` (and, when given, the
/// revocation lists `crls`: then a certificate whose issuer has no list fails
/// with `CertificateNoRevocationCheck`). The verified client identity is
/// [`TlsConnectionInfo::peer_identity`].
#[derive(Debug, Clone, Default)]
pub enum ClientAuth {
    /// Do not ask for a client certificate (the default).
    #[default]
    None,
    /// Ask for one; accept clients that send none, verify those that send one.
    Optional {
        /// The roots client certificates must chain to.
        roots: Vec<CertificateDer<'static>>,
        /// Revocation lists to check client certificates against.
        crls: Vec<CertificateRevocationListDer<'static>>,
    },
    /// Require a valid client certificate.
    Required {
        /// The roots client certificates must chain to.
        roots: Vec<CertificateDer<'static>>,
        /// Revocation lists to check client certificates against.
        crls: Vec<CertificateRevocationListDer<'static>>,
    },
}

impl ClientAuth {
    /// [`ClientAuth::Required`] with the roots of `roots_pem` and no revocation lists.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCertificateInput`] when `roots_pem` holds no certificate.
    pub fn required_pem(roots_pem: &[u8]) -> Result<Self> {
        Ok(Self::Required {
            roots: pem::certificates(roots_pem, "client authentication roots")?,
            crls: Vec::new(),
        })
    }

    /// [`ClientAuth::Optional`] with the roots of `roots_pem` and no revocation lists.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCertificateInput`] when `roots_pem` holds no certificate.
    pub fn optional_pem(roots_pem: &[u8]) -> Result<Self> {
        Ok(Self::Optional {
            roots: pem::certificates(roots_pem, "client authentication roots")?,
            crls: Vec::new(),
        })
    }

    /// Adds the revocation lists of `crls_pem` (`X509 CRL` blocks).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCertificateInput`] when `crls_pem` holds no list, or when
    /// this is [`ClientAuth::None`].
    pub fn with_crls_pem(self, crls_pem: &[u8]) -> Result<Self> {
        let more = pem::crls(crls_pem, "client certificate revocation lists")?;
        self.with_crls_der(more)
    }

    /// Adds DER-encoded revocation lists.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCertificateInput`] when this is [`ClientAuth::None`].
    pub fn with_crls_der(
        mut self,
        more: impl IntoIterator<Item = CertificateRevocationListDer<'static>>,
    ) -> Result<Self> {
        match &mut self {
            Self::None => Err(pem::invalid(
                "client certificate revocation lists",
                "client authentication is off (ClientAuth::None), so there is nothing to revoke",
                None,
            )),
            Self::Optional { crls, .. } | Self::Required { crls, .. } => {
                crls.extend(more);
                Ok(self)
            }
        }
    }
}

/// A TLS server configuration: the certificate to present, and whether to
/// authenticate clients.
///
/// Made with [`TlsServerConfig::builder`]; cheap to clone.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// use sock_tls::{ClientAuth, TlsServerConfig};
///
/// let config = TlsServerConfig::builder()
///     .certificate_chain_pem_files("server.pem", "server.key")
///     .client_authentication(ClientAuth::required_pem(&std::fs::read("clients-ca.pem")?)?)
///     .build()?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:4433").await?;
/// let (tcp, _) = listener.accept().await?;
/// let tls = config.accept(tcp).await?;
/// if let Some(client) = tls.info().peer_identity() {
///     println!("client: {}", client.subject());
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TlsServerConfig {
    inner: Arc<ServerInner>,
}

struct ServerInner {
    acceptor: tokio_rustls::TlsAcceptor,
    level: ProtectionLevel,
    handshake_timeout: Duration,
}

impl fmt::Debug for TlsServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsServerConfig")
            .field("protection_level", &self.inner.level)
            .field("handshake_timeout", &self.inner.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl TlsServerConfig {
    /// A builder with the defaults: the best available TLS (1.3 or 1.2), no
    /// client authentication, no ALPN, a handshake timeout of
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`](crate::DEFAULT_HANDSHAKE_TIMEOUT) (10 s). A
    /// certificate chain and key must be given.
    pub fn builder() -> TlsServerConfigBuilder {
        TlsServerConfigBuilder::new()
    }

    /// The protection level this configuration was built for.
    pub fn protection_level(&self) -> ProtectionLevel {
        self.inner.level
    }

    /// How long a handshake may take.
    pub fn handshake_timeout(&self) -> Duration {
        self.inner.handshake_timeout
    }

    /// The rustls configuration underneath.
    pub fn rustls_config(&self) -> &Arc<ServerConfig> {
        self.inner.acceptor.config()
    }

    /// Runs a TLS handshake as the server over `io`.
    ///
    /// The handshake must finish within the [handshake
    /// timeout](TlsServerConfigBuilder::handshake_timeout), so a client that
    /// connects and stalls (or sends nothing) cannot hold the connection. A
    /// failure concerns this connection only.
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] carrying [`Error::Certificate`] when a client
    /// certificate is refused, [`Error::Tls`] when the client sent no
    /// certificate to a server that requires one or did not speak TLS,
    /// [`Error::TimedOut`] (`"tls handshake"`), or [`Error::Io`].
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future drops `io` mid-handshake.
    pub fn accept<IO>(&self, io: IO) -> impl Future<Output = Result<TlsStream<IO>, HandshakeError>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        self.accept_until(io, handshake_timeout(self.inner.handshake_timeout))
    }

    /// As [`accept`](Self::accept), but bounded by `until` instead of the
    /// handshake timeout: when `until` finishes first, the handshake fails
    /// with the error it gives.
    ///
    /// For a caller that bounds the handshake with a timer it has already (a
    /// listener that first waits for the client's first byte, say);
    /// [`handshake_timeout`](Self::handshake_timeout) is not applied unless
    /// `until` includes it.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use sock_core::Error;
    /// use sock_tls::TlsServerConfig;
    ///
    /// let config = TlsServerConfig::builder()
    ///     .certificate_chain_pem_files("server.pem", "server.key")
    ///     .build()?;
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:4433").await?;
    /// let (tcp, _) = listener.accept().await?;
    /// // Two seconds for the whole handshake, named in the error.
    /// let limit = Duration::from_secs(2);
    /// let tls = config
    ///     .accept_until(tcp, async move {
    ///         tokio::time::sleep(limit).await;
    ///         Error::TimedOut { operation: "my handshake", after: limit }
    ///     })
    ///     .await?;
    /// # drop(tls); Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`accept`](Self::accept), with `until`'s error in place of the
    /// handshake timeout's.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future drops `io` mid-handshake.
    pub fn accept_until<IO, B>(
        &self,
        io: IO,
        until: B,
    ) -> impl Future<Output = Result<TlsStream<IO>, HandshakeError>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
        B: Future<Output = Error>,
    {
        let inner = self.inner.clone();
        async move {
            let mut info = TlsConnectionInfo::new(Side::Server, None);
            let mut findings = Findings::default();
            let handshake = inner.acceptor.accept(io);
            let done = drive(handshake, &mut findings, until)
                .await
                .and_then(|done| done.map_err(|e| handshake_error(e, Side::Server, &findings)));
            match done {
                Ok(stream) => {
                    let conn = stream.get_ref().1;
                    info.server_name = conn.server_name().map(str::to_owned);
                    info.complete(conn);
                    info.certificate_errors = findings.problems;
                    Ok(TlsStream::new(stream.into(), info))
                }
                Err(err) => Err(HandshakeError::with_findings(err, info, findings)),
            }
        }
    }
}

/// Builds a [`TlsServerConfig`]; errors in what is given are reported by
/// [`build`](Self::build).
pub struct TlsServerConfigBuilder {
    level: ProtectionLevel,
    certificate: Option<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
    client_auth: ClientAuth,
    alpn: Vec<Vec<u8>>,
    handshake_timeout: Duration,
    key_log: bool,
    provider: Option<Arc<CryptoProvider>>,
    error: Option<Error>,
}

impl fmt::Debug for TlsServerConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsServerConfigBuilder")
            .field("protection_level", &self.level)
            .field("certificate", &self.certificate.is_some())
            .field("client_auth", &self.client_auth)
            .field("alpn", &self.alpn)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("key_log", &self.key_log)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Default for TlsServerConfigBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsServerConfigBuilder {
    fn new() -> Self {
        Self {
            level: ProtectionLevel::Unspecified,
            certificate: None,
            client_auth: ClientAuth::None,
            alpn: Vec::new(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            key_log: false,
            provider: None,
            error: None,
        }
    }

    fn fail(&mut self, e: Error) {
        self.error.get_or_insert(e);
    }

    /// The TLS versions to accept, as [`ProtectionLevel`]'s documentation
    /// describes; refused levels make [`build`](Self::build) fail with
    /// [`Error::Unsupported`].
    pub fn protection_level(mut self, level: ProtectionLevel) -> Self {
        self.level = level;
        self
    }

    /// Presents this certificate chain (end-entity first) with this private key
    /// (PKCS#8, PKCS#1 or SEC1), both PEM.
    pub fn certificate_chain_pem(mut self, chain_pem: &[u8], key_pem: &[u8]) -> Self {
        let result = pem::certificates(chain_pem, "server certificate chain")
            .and_then(|chain| Ok((chain, pem::private_key(key_pem, "server private key")?)));
        match result {
            Ok(pair) => self.certificate = Some(pair),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Presents the certificate chain and private key read from PEM files.
    pub fn certificate_chain_pem_files(
        mut self,
        chain_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Self {
        let chain_what = pem::file_label("server certificate chain", chain_path.as_ref());
        let key_what = pem::file_label("server private key", key_path.as_ref());
        let result = pem::read_file(chain_path.as_ref(), &chain_what)
            .and_then(|bytes| pem::certificates(&bytes, &chain_what))
            .and_then(|chain| {
                let key = pem::read_file(key_path.as_ref(), &key_what)?;
                Ok((chain, pem::private_key(&key, &key_what)?))
            });
        match result {
            Ok(pair) => self.certificate = Some(pair),
            Err(e) => self.fail(e),
        }
        self
    }

    /// Presents this DER-encoded certificate chain and private key.
    pub fn certificate_chain_der(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        if chain.is_empty() {
            self.fail(pem::invalid(
                "server certificate chain",
                "the chain is empty",
                None,
            ));
        } else {
            self.certificate = Some((chain, key));
        }
        self
    }

    /// Whether to ask clients for a certificate, and what to verify it against
    /// (default [`ClientAuth::None`]).
    pub fn client_authentication(mut self, auth: ClientAuth) -> Self {
        self.client_auth = auth;
        self
    }

    /// The application protocols to accept (ALPN), most preferred first. A client
    /// that offers protocols, none of them in this list, is refused.
    pub fn alpn_protocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// How long a handshake may take before it fails with [`Error::TimedOut`]
    /// (default 10 s): the defence against clients that connect and stall.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Whether to write the session keys to the file named by `SSLKEYLOGFILE`,
    /// when it is set (default false).
    pub fn key_log_from_env(mut self, yes: bool) -> Self {
        self.key_log = yes;
        self
    }

    /// The rustls crypto provider. Default: rustls's *ring* provider.
    pub fn crypto_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Builds the configuration.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for a refused protection level;
    /// [`Error::InvalidCertificateInput`] when no certificate was given, for an
    /// unreadable or malformed certificate, key, root or revocation list, or a key
    /// that does not match its certificate.
    pub fn build(self) -> Result<TlsServerConfig> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let versions = versions_for(self.level)?;
        let provider = self.provider.unwrap_or_else(default_provider);
        let Some((chain, key)) = self.certificate else {
            return Err(pem::invalid(
                "server certificate",
                "none was given: call certificate_chain_pem, certificate_chain_pem_files or certificate_chain_der",
                None,
            ));
        };
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .map_err(|e| versions_error(self.level, e))?;
        let builder = match self.client_auth {
            ClientAuth::None => builder.with_no_client_auth(),
            ClientAuth::Optional { roots, crls } => {
                builder.with_client_cert_verifier(client_verifier(roots, crls, false, provider)?)
            }
            ClientAuth::Required { roots, crls } => {
                builder.with_client_cert_verifier(client_verifier(roots, crls, true, provider)?)
            }
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .map_err(|e| pem::certified_key_error(e, "server certificate and key"))?;
        config.alpn_protocols = self.alpn;
        if self.key_log {
            config.key_log = Arc::new(KeyLogFile::new());
        }
        Ok(TlsServerConfig {
            inner: Arc::new(ServerInner {
                acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
                level: self.level,
                handshake_timeout: self.handshake_timeout,
            }),
        })
    }
}

fn client_verifier(
    roots: Vec<CertificateDer<'static>>,
    crls: Vec<CertificateRevocationListDer<'static>>,
    required: bool,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<RecordingClientVerifier>> {
    let what = "client authentication roots";
    if roots.is_empty() {
        return Err(pem::invalid(what, "no root certificate was given", None));
    }
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root).map_err(|e| {
            pem::invalid(
                what,
                format!("not usable as a root: {e}"),
                Some(Box::new(e)),
            )
        })?;
    }
    let mut builder =
        WebPkiClientVerifier::builder_with_provider(Arc::new(store), provider).with_crls(crls);
    if !required {
        builder = builder.allow_unauthenticated();
    }
    let inner = builder.build().map_err(|e| {
        pem::invalid(
            "client authentication roots or revocation lists",
            e.to_string(),
            Some(Box::new(e)),
        )
    })?;
    Ok(Arc::new(RecordingClientVerifier { inner }))
}
