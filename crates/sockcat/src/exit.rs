//! Failures and exit codes: `Failure` (every way a session can fail, each
//! with its `SocketErrorStatus`), the exit code of each status class (the
//! table `--help` and the manual show), and printing a failure on stderr.

use std::fmt;
use std::io;
use std::time::Duration;

use sock::tcp::TlsConnectError;
use sock::websocket::WebSocketError;
use sock::{Report, SocketErrorStatus};

use crate::certs;

/// The session ended normally.
pub(crate) const SUCCESS: u8 = 0;
/// Another failure (status `Unknown`).
pub(crate) const OTHER: u8 = 1;
/// The command line is wrong (clap uses it too).
pub(crate) const USAGE: u8 = 2;
/// The caller's input: a host name, service, file or setting.
pub(crate) const INVALID_INPUT: u8 = 3;
/// A name did not resolve.
pub(crate) const NOT_RESOLVED: u8 = 4;
/// Refused or unreachable.
pub(crate) const UNREACHABLE: u8 = 5;
/// Timed out.
pub(crate) const TIMED_OUT: u8 = 6;
/// The connection was lost.
pub(crate) const CONNECTION_LOST: u8 = 7;
/// The local address could not be had.
pub(crate) const LOCAL_ADDRESS: u8 = 8;
/// The peer's certificate.
pub(crate) const CERTIFICATE: u8 = 9;
/// The peer broke the protocol (framing, limits, WebSocket).
pub(crate) const PROTOCOL: u8 = 10;
/// Stdout was closed: as a process killed by `SIGPIPE` (128 + 13).
pub(crate) const STDOUT_CLOSED: u8 = 141;

/// Every way a session can fail.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Failure {
    /// A socket, name, framing or certificate-file error from sock.
    #[error("{}", Report(.0))]
    Sock(#[from] sock::Error),
    /// A TLS handshake that failed, with what it learned about the peer.
    #[error("{}", Report(.0.error()))]
    Tls(Box<TlsConnectError>),
    /// A WebSocket error.
    #[error("{}", Report(.0))]
    WebSocket(#[from] WebSocketError),
    /// Local I/O: stdin, stdout, a command run with --exec.
    #[error("{what}: {source}")]
    Local {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: io::Error,
    },
    /// Input that cannot be used: a stdin line in the wrong format, an
    /// option value the command line could not check.
    #[error("invalid {what}: {reason}")]
    Input {
        /// What was wrong.
        what: String,
        /// Why.
        reason: String,
    },
    /// Options that do not go together.
    #[error("{0}")]
    Usage(String),
    /// Nothing either way for the idle timeout.
    #[error("no traffic for {} (--idle-timeout)", humantime::format_duration(*.0))]
    IdleTimeout(Duration),
    /// Stdout was closed.
    #[error("stdout was closed")]
    StdoutClosed,
}

impl From<TlsConnectError> for Failure {
    fn from(error: TlsConnectError) -> Self {
        Self::Tls(Box::new(error))
    }
}

impl Failure {
    /// A local I/O failure while doing `what`.
    pub(crate) fn local(what: impl Into<String>, source: io::Error) -> Self {
        Self::Local {
            what: what.into(),
            source,
        }
    }

    /// Unusable input.
    pub(crate) fn input(what: impl Into<String>, reason: impl fmt::Display) -> Self {
        Self::Input {
            what: what.into(),
            reason: reason.to_string(),
        }
    }

    /// The UWP status of the failure.
    pub(crate) fn status(&self) -> SocketErrorStatus {
        match self {
            Self::Sock(e) => e.status(),
            Self::Tls(e) => e.status(),
            Self::WebSocket(e) => e.status(),
            Self::Local { source, .. } => SocketErrorStatus::from(source),
            Self::IdleTimeout(_) => SocketErrorStatus::ConnectionTimedOut,
            Self::Input { .. } | Self::Usage(_) | Self::StdoutClosed => SocketErrorStatus::Unknown,
        }
    }

    /// The exit code: the class of the status, or of the failure when the
    /// status is `Unknown`.
    pub(crate) fn exit_code(&self) -> u8 {
        let unknown = match self {
            Self::StdoutClosed => return STDOUT_CLOSED,
            Self::Usage(_) => return USAGE,
            Self::Input { .. } => return INVALID_INPUT,
            // Local I/O is never the network's doing, whatever its errno says.
            Self::Local { .. } => return OTHER,
            Self::Sock(e) if e.is_invalid_input() => INVALID_INPUT,
            Self::Sock(e) if is_protocol(e.io_kind()) => PROTOCOL,
            Self::Tls(e) if e.error().is_invalid_input() => INVALID_INPUT,
            Self::WebSocket(e) => match e {
                WebSocketError::Socket(s) if s.is_invalid_input() => INVALID_INPUT,
                WebSocketError::InvalidUri { .. } | WebSocketError::InvalidArgument { .. } => {
                    INVALID_INPUT
                }
                WebSocketError::Refused { .. } | WebSocketError::Protocol { .. } => PROTOCOL,
                _ if is_protocol(e.io_kind()) => PROTOCOL,
                _ => OTHER,
            },
            _ => OTHER,
        };
        code_of(self.status(), unknown)
    }

    /// Lines to print after the message: for a TLS failure the certificate
    /// problems and the peer's chain.
    pub(crate) fn details(&self) -> Vec<String> {
        match self {
            Self::Tls(e) => e
                .tls_info()
                .map(certs::handshake_report)
                .unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    /// Prints the failure on stderr: the message, the details, the status
    /// and the exit code (nothing for a closed stdout).
    pub(crate) fn print(&self) {
        if matches!(self, Self::StdoutClosed) {
            return;
        }
        eprintln!("sockcat: {self}");
        for line in self.details() {
            eprintln!("sockcat: {line}");
        }
        let status = self.status();
        eprintln!(
            "sockcat: status {status} ({}), exit code {}",
            status.code(),
            self.exit_code()
        );
    }
}

/// Errors of data from the peer: a malformed frame, a limit, a truncated frame.
fn is_protocol(kind: io::ErrorKind) -> bool {
    matches!(
        kind,
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
    )
}

/// The exit code of `status`; `unknown` for `SocketErrorStatus::Unknown`.
pub(crate) fn code_of(status: SocketErrorStatus, unknown: u8) -> u8 {
    use SocketErrorStatus as S;
    match status {
        S::Unknown => unknown,
        S::HostNotFound
        | S::NoDataRecordOfRequestedType
        | S::NonAuthoritativeHostNotFound
        | S::NoAddressesFound
        | S::ClassTypeNotFound => NOT_RESOLVED,
        S::ConnectionRefused
        | S::NetworkIsUnreachable
        | S::UnreachableHost
        | S::NetworkIsDown
        | S::HostIsDown
        | S::AddressFamilyNotSupported
        | S::SocketTypeNotSupported => UNREACHABLE,
        S::ConnectionTimedOut => TIMED_OUT,
        S::ConnectionResetByPeer
        | S::NetworkDroppedConnectionOnReset
        | S::SoftwareCausedConnectionAbort
        | S::OperationAborted => CONNECTION_LOST,
        S::AddressAlreadyInUse | S::CannotAssignRequestedAddress | S::TooManyOpenFiles => {
            LOCAL_ADDRESS
        }
        S::CertificateExpired
        | S::CertificateUntrustedRoot
        | S::CertificateCommonNameIsIncorrect
        | S::CertificateWrongUsage
        | S::CertificateRevoked
        | S::CertificateNoRevocationCheck
        | S::CertificateRevocationServerOffline
        | S::CertificateIsInvalid => CERTIFICATE,
        S::MessageTooLong | S::HttpInvalidServerResponse => PROTOCOL,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_documented_class() {
        for status in SocketErrorStatus::ALL {
            let code = code_of(status, OTHER);
            assert!((OTHER..=PROTOCOL).contains(&code), "{status}: {code}");
        }
        assert_eq!(code_of(SocketErrorStatus::ConnectionRefused, OTHER), 5);
        assert_eq!(code_of(SocketErrorStatus::CertificateExpired, OTHER), 9);
        assert_eq!(code_of(SocketErrorStatus::AddressAlreadyInUse, OTHER), 8);
    }

    #[test]
    fn the_help_text_lists_every_code() {
        let help = crate::cli::AFTER_LONG_HELP;
        for code in [
            SUCCESS,
            OTHER,
            USAGE,
            INVALID_INPUT,
            NOT_RESOLVED,
            UNREACHABLE,
            TIMED_OUT,
            CONNECTION_LOST,
            LOCAL_ADDRESS,
            CERTIFICATE,
            PROTOCOL,
            STDOUT_CLOSED,
        ] {
            assert!(help.contains(&format!("  {code}  ")), "{code}");
        }
    }

    #[test]
    fn framing_errors_from_the_peer_are_protocol_failures() {
        let e = Failure::from(sock::Error::invalid_data("bad frame"));
        assert_eq!(e.exit_code(), PROTOCOL);
        let e = Failure::from(sock::Error::LimitExceeded {
            limit: "max_frame_length",
            actual: 10,
            max: 5,
        });
        assert_eq!(e.exit_code(), PROTOCOL);
        assert_eq!(Failure::IdleTimeout(Duration::from_secs(1)).exit_code(), 6);
    }
}
