//! What a socket knows about itself: `StreamSocketInformation` and
//! `StreamSocketListenerInformation`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::OnceLock;

use sock_core::{HostName, ProtectionLevel, ServiceName};
use tokio::net::TcpStream;

use crate::options::CloseSettings;
use crate::stats::{BandwidthStatistics, RoundTripTimeStatistics};

/// What a connected socket remembers from its making. Accepting is on the hot
/// path of a server, so what an accepted socket may never be asked for (its
/// local address, names as strings) is worked out on first use.
#[derive(Debug)]
pub(crate) struct Meta {
    local: OnceLock<SocketAddr>,
    pub(crate) remote: SocketAddr,
    /// The host and service given to `connect`; `None` for an accepted
    /// socket, whose "names" are the peer's address and port.
    pub(crate) given: Option<Box<(HostName, ServiceName)>>,
    pub(crate) close: CloseSettings,
    /// The TLS settings of the control the socket connected with, for
    /// `upgrade_to_tls`.
    #[cfg(feature = "tls")]
    pub(crate) client_tls: std::sync::Arc<crate::tls::ClientTls>,
}

impl Meta {
    pub(crate) fn new(
        local: Option<SocketAddr>,
        remote: SocketAddr,
        given: Option<(HostName, ServiceName)>,
        options: &crate::options::SocketOptions,
    ) -> Self {
        // Boxed: most sockets on a server are accepted ones, without names.
        let given = given.map(Box::new);
        let cell = OnceLock::new();
        if let Some(local) = local {
            let _ = cell.set(canonical(local));
        }
        Self {
            local: cell,
            remote: canonical(remote),
            given,
            close: options.close,
            #[cfg(feature = "tls")]
            client_tls: options.client_tls.clone(),
        }
    }

    /// The local address, read from `stream` the first time it is needed.
    pub(crate) fn local(&self, stream: &TcpStream) -> SocketAddr {
        *self.local.get_or_init(|| {
            stream.local_addr().map(canonical).unwrap_or_else(|_| {
                let ip = match self.remote.ip() {
                    IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                    IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
                };
                SocketAddr::new(ip, 0)
            })
        })
    }

    /// The local address if it is known without asking the stream.
    #[cfg(feature = "tls")]
    pub(crate) fn local_known(&self) -> Option<SocketAddr> {
        self.local.get().copied()
    }

    pub(crate) fn remote_host_name(&self) -> HostName {
        match self.given.as_deref() {
            Some((host, _)) => host.clone(),
            None => HostName::from(self.remote.ip()),
        }
    }

    pub(crate) fn remote_service_name(&self) -> ServiceName {
        match self.given.as_deref() {
            Some((_, service)) => service.clone(),
            None => ServiceName::from(self.remote.port()),
        }
    }
}

/// An IPv4 peer of a dual-stack socket shows as the IPv4 address it is,
/// not as `::ffff:a.b.c.d`.
fn canonical(addr: SocketAddr) -> SocketAddr {
    match addr {
        SocketAddr::V6(a) => match a.ip().to_ipv4_mapped() {
            Some(v4) => SocketAddr::new(IpAddr::V4(v4), a.port()),
            None => addr,
        },
        SocketAddr::V4(_) => addr,
    }
}

/// The addresses and statistics of a connected [`StreamSocket`](crate::StreamSocket),
/// as UWP's `StreamSocketInformation`.
///
/// Made by [`StreamSocket::information`](crate::StreamSocket::information).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamSocketInformation {
    /// The local address the connection is bound to.
    pub local_address: HostName,
    /// The local port.
    pub local_port: u16,
    /// The peer's address (the one that answered, after resolution and racing).
    pub remote_address: HostName,
    /// The peer's port.
    pub remote_port: u16,
    /// The host name as the caller gave it to `connect` (unresolved); for an
    /// accepted socket, the peer's address.
    pub remote_host_name: HostName,
    /// The service as the caller gave it to `connect`; for an accepted socket,
    /// the peer's port.
    pub remote_service_name: ServiceName,
    /// Round-trip-time statistics from the kernel (`TCP_INFO`); `None` where
    /// the platform does not report them.
    pub round_trip_time: Option<RoundTripTimeStatistics>,
    /// UWP's `BandwidthStatistics`, from the kernel (`TCP_INFO`); `None` where
    /// the platform does not report them. See [`BandwidthStatistics`] for
    /// where each value comes from.
    pub bandwidth: Option<BandwidthStatistics>,
    /// Bytes sent and acknowledged by the peer (`tcpi_bytes_acked`, less the
    /// SYN on a socket that connected); 0 where the platform does not report
    /// it. Counts the TLS records' bytes on a
    /// protected socket.
    pub bytes_sent: u64,
    /// Bytes received (`tcpi_bytes_received`); 0 where the platform does not
    /// report it.
    pub bytes_received: u64,
    /// Segments sent again over the connection's life
    /// (`tcpi_total_retrans`); 0 where the platform does not report it.
    pub segments_retransmitted: u64,
    /// The protection in effect (UWP's `ProtectionLevel`): `PlainSocket`, or
    /// `Tls12` / `Tls13` for the TLS version negotiated.
    pub protection_level: ProtectionLevel,
    /// What the TLS handshake negotiated and found (version, cipher suite,
    /// the peer's certificates, certificate problems); `None` in plain text.
    #[cfg(feature = "tls")]
    pub tls: Option<sock_tls::TlsConnectionInfo>,
}

#[cfg(feature = "tls")]
impl StreamSocketInformation {
    /// The server's end-entity certificate, parsed (UWP's `ServerCertificate`);
    /// `None` in plain text and on the server side.
    pub fn server_certificate(&self) -> Option<&sock_tls::CertificateInfo> {
        self.client_side_tls()?.peer_certificate()
    }

    /// The server's certificate chain as it sent it, end-entity first, DER
    /// (UWP's `ServerCertificate` and `ServerIntermediateCertificates`).
    pub fn server_certificate_chain(&self) -> &[sock_tls::CertificateDer<'static>] {
        self.client_side_tls()
            .map_or(&[], sock_tls::TlsConnectionInfo::peer_certificates)
    }

    /// The problems found with the server's certificate and waived by the
    /// control's ignorable errors (UWP's `ServerCertificateErrors`).
    pub fn server_certificate_errors(&self) -> &[sock_tls::CertificateProblem] {
        self.client_side_tls()
            .map_or(&[], sock_tls::TlsConnectionInfo::certificate_errors)
    }

    /// How serious those problems are (UWP's `ServerCertificateErrorSeverity`).
    pub fn server_certificate_error_severity(&self) -> crate::ServerCertificateErrorSeverity {
        crate::ServerCertificateErrorSeverity::of(self.server_certificate_errors())
    }

    /// On an accepted TLS socket, the client's verified certificate (when the
    /// listener asked for one and the client presented it).
    pub fn client_identity(&self) -> Option<&sock_tls::CertificateInfo> {
        let tls = self.tls.as_ref()?;
        if tls.side() == sock_tls::rustls::Side::Server {
            tls.peer_identity()
        } else {
            None
        }
    }

    fn client_side_tls(&self) -> Option<&sock_tls::TlsConnectionInfo> {
        self.tls
            .as_ref()
            .filter(|t| t.side() == sock_tls::rustls::Side::Client)
    }
}

/// Where a [`StreamSocketListener`](crate::StreamSocketListener) listens, as
/// UWP's `StreamSocketListenerInformation`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamSocketListenerInformation {
    /// The local address (`::` or `0.0.0.0` when listening on every interface).
    pub local_address: HostName,
    /// The port actually bound: read it after binding to `""` or `0` to learn
    /// the port the operating system chose.
    pub local_port: u16,
}

impl StreamSocketListenerInformation {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Self {
            local_address: HostName::from(addr.ip()),
            local_port: addr.port(),
        }
    }
}
