//! `Error`: every failure the sock crates report, each knowing its `SocketErrorStatus`.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::{SocketErrorStatus, TransportProtocol};

/// A boxed error that can cross threads, kept as a `source()`.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// `Result` with the sock [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A failure of a sock operation.
///
/// Every variant knows its [`SocketErrorStatus`] ([`Error::status`]), so a program
/// can branch on it as UWP programs do with `SocketError.GetStatus`. Messages are
/// lowercase and name the input or limit that was wrong; the underlying error, if
/// any, is the [`source`](StdError::source).
///
/// `Error` converts to and from [`io::Error`] without losing anything: an
/// `io::Error` made from an `Error` turns back into the same `Error`, so it can
/// travel through `AsyncRead`/`AsyncWrite`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A host name was not a valid DNS name or IP literal.
    #[error("invalid host name {input:?}: {reason}")]
    InvalidHostName {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A service name was neither a port number nor a service name.
    #[error("invalid service name {input:?}: {reason}")]
    InvalidServiceName {
        /// The text given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A service name is in neither `/etc/services` nor the built-in table.
    #[error("unknown service name {name:?} for {protocol}")]
    UnknownService {
        /// The name given.
        name: String,
        /// The protocol it was looked up for.
        protocol: TransportProtocol,
    },

    /// Resolving a host name failed; the source is the resolver's error.
    #[error("could not resolve host name {host:?}")]
    Resolve {
        /// The host name being resolved.
        host: String,
        /// The resolver's error.
        #[source]
        source: io::Error,
    },

    /// A host name resolved to no address usable here.
    #[error("host name {host:?} resolved to no usable address")]
    NoAddresses {
        /// The host name that was resolved.
        host: String,
    },

    /// Every address of a connection attempt failed.
    ///
    /// The status is the most telling of the attempts' statuses (a refusal says
    /// more than an unusable IPv6 route); all of them are in `attempts`.
    #[error("could not connect to {target}: {}", ConnectAttempt::summary(attempts))]
    Connect {
        /// The host and service as given.
        target: String,
        /// Each address tried, with its error, in the order tried.
        attempts: Vec<ConnectAttempt>,
    },

    /// An operation did not finish within its time limit.
    #[error("{operation} timed out after {after:?}")]
    TimedOut {
        /// What timed out (`"connect"`, `"tls handshake"`, …).
        operation: &'static str,
        /// The limit that was reached.
        after: Duration,
    },

    /// An operation was cancelled (for example by `cancel_io`).
    #[error("{operation} was cancelled")]
    Cancelled {
        /// What was cancelled.
        operation: &'static str,
    },

    /// A size limit was crossed (a frame, a line, a datagram, a buffer).
    #[error("{limit} exceeded: {actual} bytes is more than the maximum of {max}")]
    LimitExceeded {
        /// The name of the limit, as its setter is called (`max_frame_length`, …).
        limit: &'static str,
        /// The size that was asked for or announced.
        actual: u64,
        /// The limit in force.
        max: u64,
    },

    /// The stream ended in the middle of a unit (a frame, a line, a value).
    #[error("unexpected end of stream {context}")]
    UnexpectedEof {
        /// Where it ended and how much was missing.
        context: String,
    },

    /// A peer sent bytes that do not follow the expected format.
    #[error("invalid data: {detail}")]
    InvalidData {
        /// What was wrong, and where.
        detail: String,
    },

    /// Something asked for is not supported here (a weak protection level, a
    /// platform feature).
    #[error("{what} is not supported: {reason}")]
    Unsupported {
        /// What was asked for.
        what: String,
        /// Why it is refused.
        reason: String,
    },

    /// An argument given to a setter or operation was out of its range or
    /// does not fit the socket (a hop limit of 0, a multicast group on a
    /// connected socket). The caller's input: retrying cannot help.
    #[error("invalid {setting}: {reason}")]
    InvalidArgument {
        /// The setting or argument, as its setter is called (`hop_limit`, …).
        setting: &'static str,
        /// Why the value was refused.
        reason: String,
    },

    /// A certificate was rejected; `status` is one of the certificate statuses.
    #[error("certificate error ({status}): {detail}")]
    Certificate {
        /// The certificate status (23–30).
        status: SocketErrorStatus,
        /// What was wrong, with the names and dates involved.
        detail: String,
        /// The TLS library's error, when there is one.
        #[source]
        source: Option<BoxError>,
    },

    /// A certificate, private key, trust root or revocation list given by the
    /// caller could not be read or used: a missing file, PEM without the expected
    /// block, a malformed DER encoding, a key that does not match its certificate.
    ///
    /// This is the caller's input, not the peer's: retrying cannot help.
    #[error("invalid {what}: {reason}")]
    InvalidCertificateInput {
        /// What was being read, with the file name when there is one
        /// (`client certificate chain "client.pem"`).
        what: String,
        /// What is wrong with it.
        reason: String,
        /// The underlying error (I/O, parser), when there is one.
        #[source]
        source: Option<BoxError>,
    },

    /// A TLS failure that is not a certificate problem (handshake, alert, protocol).
    #[error("tls error: {detail}")]
    Tls {
        /// What went wrong.
        detail: String,
        /// The TLS library's error, when there is one.
        #[source]
        source: Option<BoxError>,
    },

    /// An operating-system or transport I/O error; classified by errno.
    #[error(transparent)]
    Io(io::Error),

    /// A step of passing a socket to another process failed (`connect`,
    /// `send`, `receive`, `wait for the peer`, `adopt`); the source says
    /// why, and gives the status.
    #[error("hand-off {step} failed: {source}")]
    Handoff {
        /// The step that failed.
        step: &'static str,
        /// Why it failed.
        #[source]
        source: Box<Self>,
    },
}

/// One failed address of a connection attempt.
#[derive(Debug)]
pub struct ConnectAttempt {
    /// The address tried.
    pub addr: SocketAddr,
    /// Why it failed.
    pub error: io::Error,
}

impl ConnectAttempt {
    fn summary(attempts: &[Self]) -> String {
        if attempts.is_empty() {
            return "no address was tried".to_owned();
        }
        attempts
            .iter()
            .map(|a| format!("{} ({})", a.addr, a.error))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl Error {
    /// The UWP status of this error.
    pub fn status(&self) -> SocketErrorStatus {
        use SocketErrorStatus as S;
        match self {
            Self::InvalidHostName { .. }
            | Self::InvalidServiceName { .. }
            | Self::InvalidCertificateInput { .. }
            | Self::InvalidArgument { .. } => S::Unknown,
            Self::UnknownService { .. } => S::ClassTypeNotFound,
            Self::Resolve { source, .. } => match S::from(source) {
                S::Unknown => S::HostNotFound,
                status => status,
            },
            Self::NoAddresses { .. } => S::NoAddressesFound,
            Self::Connect { attempts, .. } => {
                most_telling(attempts.iter().map(|a| S::from(&a.error)))
            }
            Self::TimedOut { .. } => S::ConnectionTimedOut,
            Self::Cancelled { .. } => S::OperationAborted,
            Self::LimitExceeded { .. } => S::MessageTooLong,
            Self::UnexpectedEof { .. } | Self::InvalidData { .. } | Self::Unsupported { .. } => {
                S::Unknown
            }
            Self::Certificate { status, .. } => *status,
            Self::Tls { source, .. } => source
                .as_deref()
                .map_or(S::Unknown, |e| S::of(e as &(dyn StdError + 'static))),
            Self::Io(e) => S::from(e),
            Self::Handoff { source, .. } => source.status(),
        }
    }

    /// Whether retrying may succeed ([`SocketErrorStatus::is_transient`]).
    pub fn is_transient(&self) -> bool {
        self.status().is_transient()
    }

    /// Whether the error came from the caller's input (a bad host name, service
    /// name or unsupported request) rather than from the network: UWP reports
    /// these as `E_INVALIDARG`, and retrying cannot help.
    pub fn is_invalid_input(&self) -> bool {
        match self {
            Self::InvalidHostName { .. }
            | Self::InvalidServiceName { .. }
            | Self::InvalidCertificateInput { .. }
            | Self::InvalidArgument { .. }
            | Self::Unsupported { .. } => true,
            // An argument refused by the operating system or by a setter.
            Self::Io(e) => e.kind() == io::ErrorKind::InvalidInput,
            Self::Handoff { source, .. } => source.is_invalid_input(),
            _ => false,
        }
    }

    /// The [`io::ErrorKind`] this error has when carried as an [`io::Error`].
    pub fn io_kind(&self) -> io::ErrorKind {
        use io::ErrorKind as K;
        match self {
            Self::InvalidHostName { .. } | Self::InvalidServiceName { .. } => K::InvalidInput,
            Self::UnknownService { .. } | Self::InvalidCertificateInput { .. } => K::InvalidInput,
            Self::InvalidArgument { .. } => K::InvalidInput,
            Self::LimitExceeded { .. } | Self::InvalidData { .. } => K::InvalidData,
            Self::UnexpectedEof { .. } => K::UnexpectedEof,
            Self::Unsupported { .. } => K::Unsupported,
            Self::TimedOut { .. } => K::TimedOut,
            Self::Certificate { .. } | Self::Tls { .. } => K::InvalidData,
            Self::Io(e) => e.kind(),
            Self::Handoff { source, .. } => source.io_kind(),
            Self::Resolve { .. } | Self::NoAddresses { .. } | Self::Cancelled { .. } => K::Other,
            Self::Connect { .. } => match self.status() {
                SocketErrorStatus::ConnectionRefused => K::ConnectionRefused,
                SocketErrorStatus::ConnectionTimedOut => K::TimedOut,
                SocketErrorStatus::CannotAssignRequestedAddress => K::AddrNotAvailable,
                _ => K::Other,
            },
        }
    }

    /// An [`Error::Handoff`]: `source` happened at hand-off step `step`.
    pub fn handoff(step: &'static str, source: impl Into<Self>) -> Self {
        Self::Handoff {
            step,
            source: Box::new(source.into()),
        }
    }

    /// An [`Error::InvalidArgument`]: `setting` was refused because of `reason`.
    pub fn invalid_argument(setting: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            setting,
            reason: reason.into(),
        }
    }

    /// An [`Error::InvalidHostName`].
    pub fn invalid_host_name(input: &str, reason: &str) -> Self {
        Self::InvalidHostName {
            input: input.to_owned(),
            reason: reason.to_owned(),
        }
    }

    /// An [`Error::InvalidServiceName`].
    pub fn invalid_service_name(input: &str, reason: &str) -> Self {
        Self::InvalidServiceName {
            input: input.to_owned(),
            reason: reason.to_owned(),
        }
    }

    /// An [`Error::Unsupported`].
    pub fn unsupported(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::Unsupported {
            what: what.into(),
            reason: reason.into(),
        }
    }

    /// An [`Error::InvalidData`].
    pub fn invalid_data(detail: impl Into<String>) -> Self {
        Self::InvalidData {
            detail: detail.into(),
        }
    }
}

/// Picks the status that says most about why a set of attempts failed: a
/// refusal or timeout from a reachable host beats an unusable route or address
/// family, which beats `Unknown`.
pub fn most_telling(statuses: impl IntoIterator<Item = SocketErrorStatus>) -> SocketErrorStatus {
    fn rank(s: SocketErrorStatus) -> u8 {
        use SocketErrorStatus as S;
        match s {
            S::Unknown => 0,
            S::AddressFamilyNotSupported | S::CannotAssignRequestedAddress => 1,
            S::NetworkIsUnreachable | S::NetworkIsDown => 2,
            S::UnreachableHost | S::HostIsDown => 3,
            S::ConnectionTimedOut => 4,
            S::ConnectionResetByPeer | S::SoftwareCausedConnectionAbort => 5,
            s if s.is_certificate_error() => 7,
            S::ConnectionRefused => 6,
            _ => 3,
        }
    }
    statuses
        .into_iter()
        .max_by_key(|s| rank(*s))
        .unwrap_or(SocketErrorStatus::Unknown)
}

impl From<io::Error> for Error {
    /// Wraps an I/O error; an `io::Error` that carries an [`Error`] gives it back.
    fn from(err: io::Error) -> Self {
        if err.get_ref().is_some_and(|e| e.is::<Self>()) {
            if let Some(inner) = err.into_inner() {
                if let Ok(ours) = inner.downcast::<Self>() {
                    return *ours;
                }
            }
            unreachable!("checked above that the io::Error carries a sock_core::Error")
        }
        Self::Io(err)
    }
}

impl From<Error> for io::Error {
    /// Carries the error inside an `io::Error` of the matching kind; an
    /// [`Error::Io`] gives back its own `io::Error` (keeping its errno).
    fn from(err: Error) -> Self {
        match err {
            Error::Io(e) => e,
            other => Self::new(other.io_kind(), other),
        }
    }
}

impl From<std::convert::Infallible> for Error {
    fn from(never: std::convert::Infallible) -> Self {
        match never {}
    }
}

/// Displays an error followed by its `source()` chain: `a: b: c`.
///
/// Handy for printing in examples and logs, since [`Error`]'s own message does
/// not repeat its source.
#[derive(Debug, Clone, Copy)]
pub struct Report<'a>(pub &'a (dyn StdError + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        let mut last = self.0.to_string();
        while let Some(err) = source {
            let text = err.to_string();
            // `#[error(transparent)]` layers repeat their source's text; skip those.
            if text != last {
                write!(f, ": {text}")?;
            }
            last = text;
            source = err.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_status() {
        use SocketErrorStatus as S;
        let cases: Vec<(Error, S)> = vec![
            (
                Error::invalid_host_name("a b", "contains a space"),
                S::Unknown,
            ),
            (
                Error::UnknownService {
                    name: "x".into(),
                    protocol: TransportProtocol::Tcp,
                },
                S::ClassTypeNotFound,
            ),
            (
                Error::Resolve {
                    host: "h".into(),
                    source: io::Error::other("no"),
                },
                S::HostNotFound,
            ),
            (Error::NoAddresses { host: "h".into() }, S::NoAddressesFound),
            (
                Error::invalid_argument("hop_limit", "0 is below 1"),
                S::Unknown,
            ),
            (
                Error::TimedOut {
                    operation: "connect",
                    after: Duration::from_secs(1),
                },
                S::ConnectionTimedOut,
            ),
            (Error::Cancelled { operation: "read" }, S::OperationAborted),
            (
                Error::LimitExceeded {
                    limit: "max_frame_length",
                    actual: 10,
                    max: 5,
                },
                S::MessageTooLong,
            ),
            (
                Error::Certificate {
                    status: S::CertificateExpired,
                    detail: "expired".into(),
                    source: None,
                },
                S::CertificateExpired,
            ),
            (
                Error::Io(io::Error::from(io::ErrorKind::ConnectionRefused)),
                S::ConnectionRefused,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(err.status(), status, "{err}");
        }
    }

    #[test]
    fn invalid_certificate_input_is_the_callers_input() {
        let err = Error::InvalidCertificateInput {
            what: "client certificate chain \"client.pem\"".into(),
            reason: "no CERTIFICATE block found".into(),
            source: None,
        };
        assert_eq!(
            err.to_string(),
            "invalid client certificate chain \"client.pem\": no CERTIFICATE block found"
        );
        assert_eq!(err.status(), SocketErrorStatus::Unknown);
        assert!(err.is_invalid_input());
        assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn io_round_trip_keeps_the_error_and_its_status() {
        let err = Error::LimitExceeded {
            limit: "max_frame_length",
            actual: 9,
            max: 8,
        };
        let io_err: io::Error = err.into();
        assert_eq!(io_err.kind(), io::ErrorKind::InvalidData);
        assert_eq!(
            SocketErrorStatus::from(&io_err),
            SocketErrorStatus::MessageTooLong
        );
        let back = Error::from(io_err);
        assert!(
            matches!(
                back,
                Error::LimitExceeded {
                    actual: 9,
                    max: 8,
                    ..
                }
            ),
            "{back:?}"
        );
    }

    #[test]
    fn io_errors_keep_their_errno_through_error() {
        let io_err = io::Error::from_raw_os_error(libc_econnrefused());
        let err = Error::from(io_err);
        assert_eq!(err.status(), SocketErrorStatus::ConnectionRefused);
        let io_again: io::Error = err.into();
        assert_eq!(io_again.raw_os_error(), Some(libc_econnrefused()));
    }

    fn libc_econnrefused() -> i32 {
        crate::sys::errno_table()
            .iter()
            .find(|(_, s)| *s == SocketErrorStatus::ConnectionRefused)
            .map_or(111, |(e, _)| *e)
    }

    #[test]
    fn connect_status_is_the_most_telling_attempt() {
        let err = Error::Connect {
            target: "localhost:1".into(),
            attempts: vec![
                ConnectAttempt {
                    addr: "[::1]:1".parse().unwrap(),
                    error: io::Error::from(io::ErrorKind::AddrNotAvailable),
                },
                ConnectAttempt {
                    addr: "127.0.0.1:1".parse().unwrap(),
                    error: io::Error::from(io::ErrorKind::ConnectionRefused),
                },
            ],
        };
        assert_eq!(err.status(), SocketErrorStatus::ConnectionRefused);
        let msg = err.to_string();
        assert!(
            msg.contains("[::1]:1") && msg.contains("127.0.0.1:1"),
            "{msg}"
        );
    }

    #[test]
    fn report_prints_the_chain_once() {
        let err = Error::Resolve {
            host: "nowhere".into(),
            source: io::Error::other("name not known"),
        };
        assert_eq!(
            Report(&err).to_string(),
            "could not resolve host name \"nowhere\": name not known"
        );
    }
}
