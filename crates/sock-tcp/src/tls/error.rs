//! `TlsConnectError`, which keeps what a failed handshake learned, and
//! `ServerCertificateErrorSeverity`.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use sock_core::{Error, SocketErrorStatus};
use sock_tls::{CertificateProblem, HandshakeError, IgnorableCertificateError, TlsConnectionInfo};

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
