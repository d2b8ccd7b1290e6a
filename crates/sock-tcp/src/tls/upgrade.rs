//! Upgrading a connected socket to TLS (UWP's `UpgradeToSslAsync`, and
//! STARTTLS on either side), keeping bytes already read.

use std::future::Future;
use std::sync::Arc;

use sock_core::{Error, HostName, ProtectionLevel, Result};
use sock_tls::{PrefixedIo, TlsClientConfig, TlsConnectionInfo, TlsServerConfig};
use tokio::net::TcpStream;

use crate::io::{TlsIo, Transport};
use crate::StreamSocket;
use crate::TlsConnectError;

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

    /// As [`upgrade_to_tls_with`](Self::upgrade_to_tls_with), bounded by
    /// `until` instead of the handshake timeout (see
    /// [`TlsClientConfig::connect_until`]).
    pub(crate) async fn upgrade_to_tls_until(
        self,
        config: &TlsClientConfig,
        host: &HostName,
        until: impl Future<Output = Error>,
    ) -> std::result::Result<Self, TlsConnectError> {
        let (io, rest) = self.into_prefixed()?;
        Ok(rest.with_tls(config.connect_until(host, io, until).await?))
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
    pub(crate) fn into_prefixed(mut self) -> Result<(PrefixedIo<TcpStream>, Parts)> {
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
    pub(crate) fn with_tls(self, tls: TlsIo) -> StreamSocket {
        StreamSocket {
            transport: Transport::Tls(Box::new(tls)),
            read: self.read,
            write: self.write,
            shared: self.shared,
        }
    }
}
