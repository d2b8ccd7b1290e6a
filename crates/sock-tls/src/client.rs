//! `TlsClientConfig`: the client side: trust roots, client certificate,
//! protection level, ignorable server certificate errors, and `connect`.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, ServerName, UnixTime,
};
use rustls::{ClientConfig, KeyLogFile, RootCertStore, Side};
use sock_core::{Error, HostName, ProtectionLevel, Result};
use tokio::io::{AsyncRead, AsyncWrite};

use crate::certificate::AlwaysPresent;
use crate::config::{
    default_provider, drive, handshake_timeout, os_roots, versions_error, versions_for,
    DEFAULT_HANDSHAKE_TIMEOUT,
};
use crate::error::handshake_error;
use crate::pem;
use crate::problem::IgnorableCertificateError;
use crate::verify::{recording, Findings, PolicyVerifier, RecordingCertResolver};
use crate::{Certificate, HandshakeError, TlsConnectionInfo, TlsStream};

/// A TLS client configuration: what to trust, who we are, which versions.
///
/// Made with [`TlsClientConfig::builder`]; cheap to clone (the state is shared),
/// so build one and use it for every connection: sessions are resumed between
/// connections made with the same configuration.
///
/// ```no_run
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// use sock_core::{HostName, ProtectionLevel};
/// use sock_tls::TlsClientConfig;
///
/// let config = TlsClientConfig::builder()
///     .protection_level(ProtectionLevel::Tls12)
///     .client_certificate_pem_files("client.pem", "client.key")
///     .build()?;
/// let host = HostName::new("mail.example.test")?;
/// let tcp = tokio::net::TcpStream::connect((host.canonical_name(), 443)).await?;
/// let tls = config.connect(&host, tcp).await?;
/// println!("negotiated {:?}", tls.info().protocol_version());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct TlsClientConfig {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    connector: tokio_rustls::TlsConnector,
    verifier: Arc<PolicyVerifier>,
    level: ProtectionLevel,
    ignorable: Vec<IgnorableCertificateError>,
    handshake_timeout: Duration,
}

impl fmt::Debug for TlsClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClientConfig")
            .field("protection_level", &self.inner.level)
            .field("ignorable", &self.inner.ignorable)
            .field("handshake_timeout", &self.inner.handshake_timeout)
            .finish_non_exhaustive()
    }
}

impl TlsClientConfig {
    /// A builder with the defaults: the best available TLS (1.3 or 1.2), the
    /// operating system's trust roots, no client certificate, no ALPN, SNI on,
    /// no error tolerated, a handshake timeout of
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`](crate::DEFAULT_HANDSHAKE_TIMEOUT) (10 s).
    pub fn builder() -> TlsClientConfigBuilder {
        TlsClientConfigBuilder::new()
    }

    /// The protection level this configuration was built for.
    pub fn protection_level(&self) -> ProtectionLevel {
        self.inner.level
    }

    /// The server certificate problems this configuration tolerates.
    pub fn ignorable_server_certificate_errors(&self) -> &[IgnorableCertificateError] {
        &self.inner.ignorable
    }

    /// How long a handshake may take.
    pub fn handshake_timeout(&self) -> Duration {
        self.inner.handshake_timeout
    }

    /// The rustls configuration underneath.
    pub fn rustls_config(&self) -> &Arc<ClientConfig> {
        self.inner.connector.config()
    }

    /// Runs a TLS handshake as the client over `io`, verifying that the server's
    /// certificate is valid for `server_name` (a DNS name or an IP literal).
    ///
    /// The handshake must finish within the [handshake
    /// timeout](TlsClientConfigBuilder::handshake_timeout). With TLS 1.3 the
    /// server judges our client certificate after the client has finished, so a
    /// refused client certificate shows up on the first read instead.
    ///
    /// # Errors
    ///
    /// A [`HandshakeError`] carrying [`Error::Certificate`] (with its status,
    /// 23–30) when the server's certificate is refused, [`Error::TimedOut`]
    /// (`"tls handshake"`) when the timeout passes, [`Error::Tls`] for other TLS
    /// failures, [`Error::Io`] for transport failures; its
    /// [`info`](HandshakeError::info) keeps the server's chain and the problems
    /// found.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future drops `io` mid-handshake.
    pub fn connect<IO>(
        &self,
        server_name: &HostName,
        io: IO,
    ) -> impl Future<Output = Result<TlsStream<IO>, HandshakeError>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let until = handshake_timeout(self.inner.handshake_timeout);
        self.connect_until(server_name, io, until)
    }

    /// As [`connect`](Self::connect), but bounded by `until` instead of the
    /// handshake timeout: when `until` finishes first, the handshake fails with
    /// the error it gives, and the [`HandshakeError`] keeps the certificate
    /// problems found so far (with the server's chain, when there were any).
    ///
    /// For a caller that bounds several steps with one deadline, as sock-tcp's
    /// connect bounds the TCP connection and the handshake with one timer;
    /// [`handshake_timeout`](Self::handshake_timeout) is not applied unless
    /// `until` includes it.
    ///
    /// ```no_run
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use sock_core::{Error, HostName};
    /// use sock_tls::TlsClientConfig;
    /// use tokio::time::{sleep_until, timeout_at, Instant};
    ///
    /// let config = TlsClientConfig::builder().build()?;
    /// let host = HostName::new("mail.example.test")?;
    /// // Three seconds for the TCP connection and the handshake together.
    /// let budget = Duration::from_secs(3);
    /// let deadline = Instant::now() + budget;
    /// let tcp = timeout_at(deadline, tokio::net::TcpStream::connect(("mail.example.test", 443)))
    ///     .await??;
    /// let tls = config
    ///     .connect_until(&host, tcp, async move {
    ///         sleep_until(deadline).await;
    ///         Error::TimedOut { operation: "connect and tls handshake", after: budget }
    ///     })
    ///     .await?;
    /// # drop(tls); Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), with `until`'s error in place of the
    /// handshake timeout's.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future drops `io` mid-handshake.
    pub fn connect_until<IO, B>(
        &self,
        server_name: &HostName,
        io: IO,
        until: B,
    ) -> impl Future<Output = Result<TlsStream<IO>, HandshakeError>>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
        B: Future<Output = Error>,
    {
        let inner = self.inner.clone();
        let name = tls_server_name(server_name);
        let shown = server_name.canonical_name().to_owned();
        async move {
            let mut info = TlsConnectionInfo::new(Side::Client, Some(shown));
            let name = match name {
                Ok(name) => name,
                Err(e) => return Err(HandshakeError::new(e, info)),
            };
            let mut findings = Findings::default();
            let handshake = inner.connector.connect(name.clone(), io);
            let done = drive(handshake, &mut findings, until)
                .await
                .and_then(|done| done.map_err(|e| handshake_error(e, Side::Client, &findings)));
            match done {
                Ok(stream) => {
                    info.complete(stream.get_ref().1);
                    info.certificate_errors = findings.problems;
                    if info.resumed && !inner.ignorable.is_empty() {
                        info.certificate_errors = inner.recheck(&info, &name);
                    }
                    Ok(TlsStream::new(stream.into(), info))
                }
                Err(err) => Err(HandshakeError::with_findings(err, info, findings)),
            }
        }
    }
}

impl ClientInner {
    /// A resumed session skips certificate verification; find again what the
    /// original handshake waived, so the information says so.
    fn recheck(
        &self,
        info: &TlsConnectionInfo,
        name: &ServerName<'static>,
    ) -> Vec<crate::CertificateProblem> {
        let Some((ee, rest)) = info.peer_certificates.split_first() else {
            return Vec::new();
        };
        let mut findings = Findings::default();
        recording(&mut findings, || {
            let _ = self
                .verifier
                .verify_server_cert(ee, rest, name, &[], UnixTime::now());
        });
        findings.problems
    }
}

/// The rustls name for a host: IP literals as addresses (without zone), DNS
/// names by their canonical (punycode) form.
pub(crate) fn tls_server_name(host: &HostName) -> Result<ServerName<'static>> {
    if let Some(ip) = host.ip_addr() {
        return Ok(ServerName::IpAddress(ip.into()));
    }
    ServerName::try_from(host.canonical_name().to_owned()).map_err(|e| {
        Error::invalid_host_name(
            host.raw_name(),
            &format!("not usable as a tls server name: {e}"),
        )
    })
}

/// The client certificate as the builder was given it.
enum ClientIdentity {
    Pair((Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)),
    Certificate(Certificate),
}

/// Builds a [`TlsClientConfig`]; errors in what is given are reported by
/// [`build`](Self::build).
pub struct TlsClientConfigBuilder {
    level: ProtectionLevel,
    os_roots: bool,
    #[cfg(feature = "webpki-roots")]
    webpki_roots: bool,
    roots: Vec<CertificateDer<'static>>,
    crls: Vec<CertificateRevocationListDer<'static>>,
    client_certificate: Option<ClientIdentity>,
    alpn: Vec<Vec<u8>>,
    ignorable: Vec<IgnorableCertificateError>,
    handshake_timeout: Duration,
    key_log: bool,
    sni: bool,
    provider: Option<Arc<CryptoProvider>>,
    error: Option<Error>,
}

impl fmt::Debug for TlsClientConfigBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsClientConfigBuilder")
            .field("protection_level", &self.level)
            .field("os_roots", &self.os_roots)
            .field("roots", &self.roots.len())
            .field("crls", &self.crls.len())
            .field("client_certificate", &self.client_certificate.is_some())
            .field("alpn", &self.alpn)
            .field("ignorable", &self.ignorable)
            .field("handshake_timeout", &self.handshake_timeout)
            .field("key_log", &self.key_log)
            .field("sni", &self.sni)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Default for TlsClientConfigBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl TlsClientConfigBuilder {
    fn new() -> Self {
        Self {
            level: ProtectionLevel::Unspecified,
            os_roots: true,
            #[cfg(feature = "webpki-roots")]
            webpki_roots: false,
            roots: Vec::new(),
            crls: Vec::new(),
            client_certificate: None,
            alpn: Vec::new(),
            ignorable: Vec::new(),
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            key_log: false,
            sni: true,
            provider: None,
            error: None,
        }
    }

    fn fail(&mut self, result: Result<()>) {
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }

    /// The TLS versions to negotiate, as [`ProtectionLevel`]'s documentation
    /// describes: `Tls12` only 1.2, `Tls13` only 1.3, `Ssl`/`Unspecified` the best
    /// available. The weak levels (SSL 3, TLS 1.0/1.1, NULL ciphers) and
    /// `PlainSocket` make [`build`](Self::build) fail with [`Error::Unsupported`].
    pub fn protection_level(mut self, level: ProtectionLevel) -> Self {
        self.level = level;
        self
    }

    /// Whether to trust the operating system's root certificates (default
    /// true). They are loaded once per process.
    pub fn with_os_roots(mut self, yes: bool) -> Self {
        self.os_roots = yes;
        self
    }

    /// Whether to trust Mozilla's root certificates compiled into the program
    /// (`webpki-roots`), in addition to the others (default false).
    #[cfg(feature = "webpki-roots")]
    pub fn with_webpki_roots(mut self, yes: bool) -> Self {
        self.webpki_roots = yes;
        self
    }

    /// Trusts every certificate in `pem` (one or more `CERTIFICATE` blocks) as a
    /// root, in addition to the others.
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Self {
        match pem::certificates(pem, "trust root certificates") {
            Ok(certs) => self.roots.extend(certs),
            Err(e) => self.fail(Err(e)),
        }
        self
    }

    /// Trusts the certificates of a PEM file as roots.
    pub fn add_root_certificates_pem_file(mut self, path: impl AsRef<Path>) -> Self {
        let what = pem::file_label("trust root certificates", path.as_ref());
        let result =
            pem::read_file(path.as_ref(), &what).and_then(|bytes| pem::certificates(&bytes, &what));
        match result {
            Ok(certs) => self.roots.extend(certs),
            Err(e) => self.fail(Err(e)),
        }
        self
    }

    /// Trusts a DER-encoded certificate as a root.
    pub fn add_root_certificate_der(mut self, der: CertificateDer<'static>) -> Self {
        self.roots.push(der);
        self
    }

    /// Checks server certificates against these revocation lists (`X509 CRL`
    /// PEM blocks), revoked ones failing with `CertificateRevoked`. Certificates
    /// no list covers are accepted, and the lists apply to chains that end in a
    /// trusted root (not to one accepted under
    /// [`UntrustedRoot`](IgnorableCertificateError::UntrustedRoot), nor to a
    /// self-signed server certificate trusted as its own root).
    pub fn add_crls_pem(mut self, pem: &[u8]) -> Self {
        match pem::crls(pem, "certificate revocation lists") {
            Ok(crls) => self.crls.extend(crls),
            Err(e) => self.fail(Err(e)),
        }
        self
    }

    /// Checks server certificates against this DER-encoded revocation list.
    pub fn add_crl_der(mut self, der: CertificateRevocationListDer<'static>) -> Self {
        self.crls.push(der);
        self
    }

    /// Presents this certificate chain (end-entity first) and private key
    /// (PKCS#8, PKCS#1 or SEC1) to servers that ask for a client certificate.
    pub fn client_certificate_pem(mut self, chain_pem: &[u8], key_pem: &[u8]) -> Self {
        let result = pem::certificates(chain_pem, "client certificate chain")
            .and_then(|chain| Ok((chain, pem::private_key(key_pem, "client private key")?)));
        match result {
            Ok(pair) => self.client_certificate = Some(ClientIdentity::Pair(pair)),
            Err(e) => self.fail(Err(e)),
        }
        self
    }

    /// Presents the certificate chain and private key read from PEM files.
    pub fn client_certificate_pem_files(
        mut self,
        chain_path: impl AsRef<Path>,
        key_path: impl AsRef<Path>,
    ) -> Self {
        let chain_what = pem::file_label("client certificate chain", chain_path.as_ref());
        let key_what = pem::file_label("client private key", key_path.as_ref());
        let result = pem::read_file(chain_path.as_ref(), &chain_what)
            .and_then(|bytes| pem::certificates(&bytes, &chain_what))
            .and_then(|chain| {
                let key = pem::read_file(key_path.as_ref(), &key_what)?;
                Ok((chain, pem::private_key(&key, &key_what)?))
            });
        match result {
            Ok(pair) => self.client_certificate = Some(ClientIdentity::Pair(pair)),
            Err(e) => self.fail(Err(e)),
        }
        self
    }

    /// Presents this DER-encoded certificate chain and private key.
    pub fn client_certificate_der(
        mut self,
        chain: Vec<CertificateDer<'static>>,
        key: PrivateKeyDer<'static>,
    ) -> Self {
        if chain.is_empty() {
            self.fail(Err(pem::invalid(
                "client certificate chain",
                "the chain is empty",
                None,
            )));
        } else {
            self.client_certificate = Some(ClientIdentity::Pair((chain, key)));
        }
        self
    }

    /// Presents this [`Certificate`] to servers that ask for a client
    /// certificate, as UWP's `StreamSocketControl.ClientCertificate`: one
    /// found in a store ([`CertificateStores::find_all`](crate::CertificateStores::find_all)),
    /// read from PKCS#12, or held on a PKCS#11 token (which then signs each
    /// handshake; the key never leaves it).
    ///
    /// [`build`](Self::build) checks it first, so that a connection never
    /// goes out without the certificate meant for it: a certificate without
    /// a private key, or with a key that is not its own, is
    /// [`Error::InvalidCertificateInput`]; an expired (or not yet valid) one
    /// is [`Error::Certificate`] with status `CertificateExpired`.
    pub fn client_certificate_from(mut self, certificate: Certificate) -> Self {
        self.client_certificate = Some(ClientIdentity::Certificate(certificate));
        self
    }

    /// The application protocols to offer (ALPN), most preferred first, for
    /// example `["h2", "http/1.1"]`.
    pub fn alpn_protocols<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// The server certificate problems to tolerate (UWP's
    /// `IgnorableServerCertificateErrors`). **Each one removes a protection**:
    /// read [`IgnorableCertificateError`] before using this. Default: none.
    pub fn ignorable_server_certificate_errors(
        mut self,
        errors: &[IgnorableCertificateError],
    ) -> Self {
        self.ignorable = errors.to_vec();
        self
    }

    /// How long a handshake may take before it fails with [`Error::TimedOut`]
    /// (default 10 s), so a server that stalls cannot hold a connection forever.
    pub fn handshake_timeout(mut self, timeout: Duration) -> Self {
        self.handshake_timeout = timeout;
        self
    }

    /// Whether to write the session keys to the file named by the
    /// `SSLKEYLOGFILE` environment variable (for Wireshark), when it is set.
    /// Default false. Anyone who can read that file can decrypt the traffic.
    pub fn key_log_from_env(mut self, yes: bool) -> Self {
        self.key_log = yes;
        self
    }

    /// Whether to send the server name (SNI) for DNS names (default true; IP
    /// literals are never sent).
    pub fn server_name_indication(mut self, yes: bool) -> Self {
        self.sni = yes;
        self
    }

    /// The rustls crypto provider (cipher suites, key exchange groups,
    /// signature algorithms). Default: rustls's *ring* provider with its
    /// default suites.
    pub fn crypto_provider(mut self, provider: Arc<CryptoProvider>) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Builds the configuration.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for a refused protection level;
    /// [`Error::InvalidCertificateInput`] for an unreadable or malformed
    /// certificate, key, root or revocation list, or a key that does not match
    /// its certificate (the first such problem given to the builder).
    pub fn build(self) -> Result<TlsClientConfig> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let versions = versions_for(self.level)?;
        let provider = self.provider.unwrap_or_else(default_provider);

        let mut roots = RootCertStore::empty();
        if self.os_roots {
            roots.roots.extend(os_roots().iter().cloned());
        }
        #[cfg(feature = "webpki-roots")]
        if self.webpki_roots {
            roots
                .roots
                .extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        }
        for root in self.roots {
            roots.add(root).map_err(|e| {
                pem::invalid(
                    "trust root certificate",
                    format!("not usable as a root: {e}"),
                    Some(Box::new(e)),
                )
            })?;
        }
        let verifier =
            PolicyVerifier::new(roots, self.crls, provider.clone(), self.ignorable.clone())
                .map_err(|e| {
                    pem::invalid(
                        "certificate revocation lists",
                        e.to_string(),
                        Some(Box::new(e)),
                    )
                })?;
        let verifier = Arc::new(verifier);

        let provider_for_keys = provider.clone();
        let builder = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&versions)
            .map_err(|e| versions_error(self.level, e))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone());
        let mut config =
            match self.client_certificate {
                Some(ClientIdentity::Pair((chain, key))) => builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| pem::certified_key_error(e, "client certificate and key"))?,
                Some(ClientIdentity::Certificate(certificate)) => {
                    let key = certificate.certified_key(&provider_for_keys)?;
                    builder.with_client_cert_resolver(Arc::new(AlwaysPresent(key)))
                }
                None => builder.with_no_client_auth(),
            };
        config.client_auth_cert_resolver = Arc::new(RecordingCertResolver {
            inner: config.client_auth_cert_resolver.clone(),
        });
        config.alpn_protocols = self.alpn;
        config.enable_sni = self.sni;
        if self.key_log {
            config.key_log = Arc::new(KeyLogFile::new());
        }
        Ok(TlsClientConfig {
            inner: Arc::new(ClientInner {
                connector: tokio_rustls::TlsConnector::from(Arc::new(config)),
                verifier,
                level: self.level,
                ignorable: self.ignorable,
                handshake_timeout: self.handshake_timeout,
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_levels_fail_at_build() {
        for level in [
            ProtectionLevel::Tls10,
            ProtectionLevel::Tls11,
            ProtectionLevel::Ssl3AllowWeakEncryption,
            ProtectionLevel::SslAllowNullEncryption,
            ProtectionLevel::PlainSocket,
        ] {
            let err = TlsClientConfig::builder()
                .protection_level(level)
                .build()
                .unwrap_err();
            assert!(matches!(err, Error::Unsupported { .. }), "{level}: {err}");
        }
    }

    #[test]
    fn the_first_bad_input_is_reported() {
        let err = TlsClientConfig::builder()
            .add_root_certificates_pem(b"not pem")
            .client_certificate_pem(b"", b"")
            .build()
            .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("invalid trust root certificates"),
            "{err}"
        );
        assert!(err.is_invalid_input());
    }

    #[test]
    fn ip_literals_are_server_names() {
        let v4 = HostName::new("127.0.0.1").unwrap();
        assert!(matches!(
            tls_server_name(&v4).unwrap(),
            ServerName::IpAddress(_)
        ));
        let v6 = HostName::new("[fe80::1%eth0]").unwrap();
        assert!(matches!(
            tls_server_name(&v6).unwrap(),
            ServerName::IpAddress(_)
        ));
        let dns = HostName::new("Bücher.Example").unwrap();
        assert_eq!(
            tls_server_name(&dns).unwrap().to_str(),
            "xn--bcher-kva.example"
        );
    }
}
