//! `TlsConnectionInfo`: what a handshake negotiated and found, available on the
//! stream and on a failed handshake's error.

use std::sync::OnceLock;

use rustls::pki_types::CertificateDer;
use rustls::{CipherSuite, CommonState, HandshakeKind, ProtocolVersion, Side};
use sock_core::TlsVersion;

use crate::problem::CertificateProblem;
use crate::x509::CertificateInfo;

/// What a TLS handshake negotiated and found, as UWP's `StreamSocketInformation`
/// shows it (`ServerCertificate`, `ServerCertificateErrors`, …).
///
/// On a [`TlsStream`](crate::TlsStream) everything is filled in. On a
/// [`HandshakeError`](crate::HandshakeError) only what was learned before the
/// failure is: typically the peer's certificate chain and the problems found
/// with it.
#[derive(Debug, Clone)]
pub struct TlsConnectionInfo {
    pub(crate) side: Side,
    pub(crate) server_name: Option<String>,
    pub(crate) complete: bool,
    pub(crate) protocol_version: Option<TlsVersion>,
    pub(crate) cipher_suite: Option<CipherSuite>,
    pub(crate) alpn_protocol: Option<Vec<u8>>,
    pub(crate) resumed: bool,
    pub(crate) peer_certificates: Vec<CertificateDer<'static>>,
    pub(crate) certificate_errors: Vec<CertificateProblem>,
    pub(crate) peer_certificate: OnceLock<Option<CertificateInfo>>,
}

impl TlsConnectionInfo {
    /// The information of a handshake that never started (a connect that
    /// failed before TLS): nothing learned.
    pub(crate) const fn not_started() -> Self {
        Self {
            side: Side::Client,
            server_name: None,
            complete: false,
            protocol_version: None,
            cipher_suite: None,
            alpn_protocol: None,
            resumed: false,
            peer_certificates: Vec::new(),
            certificate_errors: Vec::new(),
            peer_certificate: OnceLock::new(),
        }
    }

    /// Information known before the handshake runs.
    pub(crate) fn new(side: Side, server_name: Option<String>) -> Self {
        Self {
            side,
            server_name,
            ..Self::not_started()
        }
    }

    /// Fills in what a finished handshake negotiated.
    pub(crate) fn complete(&mut self, state: &CommonState) {
        self.complete = true;
        self.protocol_version = match state.protocol_version() {
            Some(ProtocolVersion::TLSv1_3) => Some(TlsVersion::Tls13),
            Some(ProtocolVersion::TLSv1_2) => Some(TlsVersion::Tls12),
            _ => None,
        };
        self.cipher_suite = state.negotiated_cipher_suite().map(|s| s.suite());
        self.alpn_protocol = state.alpn_protocol().map(<[u8]>::to_vec);
        self.resumed = state.handshake_kind() == Some(HandshakeKind::Resumed);
        if let Some(certs) = state.peer_certificates() {
            self.peer_certificates = certs.iter().map(|c| c.clone().into_owned()).collect();
        }
    }

    /// Whether this side is the client or the server.
    pub fn side(&self) -> Side {
        self.side
    }

    /// The server name: for a client the name it connected to (and sent as SNI),
    /// for a server the name the client asked for with SNI, if any.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// Whether the handshake finished.
    pub fn is_handshake_complete(&self) -> bool {
        self.complete
    }

    /// The negotiated TLS version.
    pub fn protocol_version(&self) -> Option<TlsVersion> {
        self.protocol_version
    }

    /// The negotiated cipher suite (`TLS13_AES_128_GCM_SHA256`, …).
    pub fn cipher_suite(&self) -> Option<CipherSuite> {
        self.cipher_suite
    }

    /// The negotiated application protocol (ALPN), if both sides offered one.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.alpn_protocol.as_deref()
    }

    /// Whether the session was resumed (no certificate was exchanged or checked
    /// again; the chain shown is the one from the original handshake).
    pub fn is_resumed(&self) -> bool {
        self.resumed
    }

    /// The peer's certificate chain, end-entity certificate first, DER-encoded.
    ///
    /// Empty when the peer sent none (a server's client that did not
    /// authenticate) or the handshake failed before it arrived.
    pub fn peer_certificates(&self) -> &[CertificateDer<'static>] {
        &self.peer_certificates
    }

    /// The names and dates of the peer's end-entity certificate, whether or not
    /// it was accepted (read on first use).
    pub fn peer_certificate(&self) -> Option<&CertificateInfo> {
        self.peer_certificate
            .get_or_init(|| {
                self.peer_certificates
                    .first()
                    .and_then(|c| CertificateInfo::parse(c).ok())
            })
            .as_ref()
    }

    /// The peer's verified identity: its end-entity certificate once the
    /// handshake finished with it accepted.
    ///
    /// On a server, this is the authenticated client (`None` when client
    /// authentication is optional and the client sent no certificate). On a
    /// client it is the server; check [`waived_certificate_errors`](Self::waived_certificate_errors)
    /// to know whether it was accepted despite problems.
    pub fn peer_identity(&self) -> Option<&CertificateInfo> {
        if self.complete {
            self.peer_certificate()
        } else {
            None
        }
    }

    /// Every problem found with the peer's certificate chain, waived or not
    /// (UWP's `ServerCertificateErrors`). Empty when the chain was fine.
    pub fn certificate_errors(&self) -> &[CertificateProblem] {
        &self.certificate_errors
    }

    /// The problems that were tolerated because the configuration said so.
    pub fn waived_certificate_errors(&self) -> impl Iterator<Item = &CertificateProblem> {
        self.certificate_errors.iter().filter(|p| p.is_waived())
    }
}
