//! The TLS settings of `StreamSocketControl` and connecting with TLS.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sock_core::{EndpointPair, Error, HostName, ServiceName};

use crate::{StreamSocket, StreamSocketControl};

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
        Arc::make_mut(&mut self.options.client_tls).set_level(level);
        self
    }

    /// The lowest TLS version to accept (UWP's `MinProtectionLevel`): `Tls13`
    /// narrows `Ssl` (best available) to TLS 1.3 alone; `Tls12` or anything
    /// below changes nothing, since no level here allows older versions.
    pub fn min_protection_level(mut self, level: sock_core::ProtectionLevel) -> Self {
        Arc::make_mut(&mut self.options.client_tls).set_min_level(level);
        self
    }

    /// Uses a whole client configuration: roots, client certificate, ignorable
    /// errors, handshake timeout, ALPN, versions. Sets the protection level to
    /// the configuration's; the separate TLS settings must then stay unset.
    /// One configuration shared by many connections resumes their sessions.
    pub fn tls_client_config(mut self, config: sock_tls::TlsClientConfig) -> Self {
        Arc::make_mut(&mut self.options.client_tls).set_config(config);
        self
    }

    /// Presents this client certificate (PEM chain, end-entity first, and its
    /// private key) to servers that ask for one (UWP's `ClientCertificate`).
    /// It is read when connecting: an unreadable certificate or key makes
    /// `connect` fail with `InvalidCertificateInput`.
    pub fn client_certificate_pem(mut self, chain_pem: &[u8], key_pem: &[u8]) -> Self {
        Arc::make_mut(&mut self.options.client_tls).set_certificate_pem(chain_pem, key_pem);
        self
    }

    /// Presents the client certificate and key read from PEM files when connecting.
    pub fn client_certificate_pem_files(
        mut self,
        chain_path: impl Into<std::path::PathBuf>,
        key_path: impl Into<std::path::PathBuf>,
    ) -> Self {
        Arc::make_mut(&mut self.options.client_tls)
            .set_certificate_pem_files(chain_path.into(), key_path.into());
        self
    }

    /// Presents this DER-encoded client certificate chain and private key.
    pub fn client_certificate(
        mut self,
        chain: Vec<sock_tls::CertificateDer<'static>>,
        key: sock_tls::PrivateKeyDer<'static>,
    ) -> Self {
        Arc::make_mut(&mut self.options.client_tls).set_certificate_der(chain, key);
        self
    }

    /// Presents this [`Certificate`](sock_tls::Certificate) (UWP's
    /// `ClientCertificate`): one found in a certificate store, read from
    /// PKCS#12, or held on a PKCS#11 token. It is checked when connecting: one
    /// without a private key, or whose key is not its own, makes `connect`
    /// fail with `InvalidCertificateInput`; an expired one with status
    /// `CertificateExpired`.
    pub fn client_certificate_from(mut self, certificate: sock_tls::Certificate) -> Self {
        Arc::make_mut(&mut self.options.client_tls).set_certificate(certificate);
        self
    }

    /// Trusts these PEM root certificates too (besides the operating system's).
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Self {
        Arc::make_mut(&mut self.options.client_tls).add_roots_pem(pem);
        self
    }

    /// Whether to trust the operating system's roots (`true` by default).
    pub fn with_os_roots(mut self, yes: bool) -> Self {
        Arc::make_mut(&mut self.options.client_tls).set_os_roots(yes);
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
        Arc::make_mut(&mut self.options.client_tls).set_ignorable(errors);
        self
    }

    /// How long the TLS handshake may take
    /// ([`sock_tls::DEFAULT_HANDSHAKE_TIMEOUT`], 10 s); the connect timeout
    /// bounds it too.
    pub fn tls_handshake_timeout(mut self, timeout: Duration) -> Self {
        Arc::make_mut(&mut self.options.client_tls).set_handshake_timeout(timeout);
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
    ) -> impl Future<Output = Result<StreamSocket, crate::TlsConnectError>> + Send + 'static
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
    ) -> impl Future<Output = Result<StreamSocket, crate::TlsConnectError>> + Send + 'static {
        let control = self.clone();
        let pair = pair.clone();
        async move { control.connect_to(&pair).await.map_err(Into::into) }
    }
}
