//! `WebSocketError`: every failure of a WebSocket, each knowing its
//! `SocketErrorStatus`, its `WebErrorStatus` and the close code it sends.

use std::io;
use std::time::Duration;

use sock_core::SocketErrorStatus;

use crate::{CloseCode, WebErrorStatus};

/// The operation named when a message takes longer than `message_timeout`.
pub(crate) const ARRIVAL_LIMIT: &str = "a message's arrival (message_timeout)";

/// `Result` with a [`WebSocketError`].
pub type Result<T, E = WebSocketError> = std::result::Result<T, E>;

/// A failure of a WebSocket operation.
///
/// [`status`](Self::status) gives its [`SocketErrorStatus`] (UWP's
/// `SocketError.GetStatus`), [`web_status`](Self::web_status) its
/// [`WebErrorStatus`] (UWP's `WebSocketError.GetStatus`): for an upgrade the
/// server refused, the HTTP status (`Unauthorized`, `NotFound`, …).
/// Messages are lowercase and name the input or limit that was wrong.
///
/// Converts into [`io::Error`] and back without loss, so that a
/// [`StreamWebSocket`](crate::StreamWebSocket) can carry it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WebSocketError {
    /// The connection under the WebSocket failed: name resolution, connect,
    /// TLS and certificates, I/O; the status is the socket's.
    #[error(transparent)]
    Socket(#[from] sock_core::Error),

    /// A WebSocket URI that cannot be used (RFC 6455 section 3).
    #[error("invalid websocket uri {uri:?}: {reason}")]
    InvalidUri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },

    /// A setting or argument out of its range (a close code that may not be
    /// sent, a header that is not a token). The caller's input: retrying
    /// cannot help.
    #[error("invalid {setting}: {reason}")]
    InvalidArgument {
        /// The setting, as its setter is called (`close code`, `request header`, …).
        setting: &'static str,
        /// Why the value was refused.
        reason: String,
    },

    /// The upgrade was refused with an HTTP status other than 101: by the
    /// server (on a client), or by the server's own validation (on a
    /// server, after sending that status); [`web_status`](Self::web_status)
    /// names it.
    #[error(
        "the websocket upgrade was refused: http status {status}{}",
        reason_suffix(reason)
    )]
    Refused {
        /// The HTTP status code (401, 404, …).
        status: u16,
        /// The reason phrase the server gave.
        reason: String,
    },

    /// The opening handshake broke RFC 6455 section 4: a response without
    /// the right `Sec-WebSocket-Accept`, a request that is not an upgrade, a
    /// subprotocol nobody offered.
    #[error("invalid websocket handshake: {detail}")]
    Handshake {
        /// What was wrong.
        detail: String,
    },

    /// The peer broke the framing rules (RFC 6455 sections 5 to 8); the
    /// connection was failed with `code` (1002 protocol error, 1007 invalid
    /// payload).
    #[error("websocket protocol error ({code}): {detail}")]
    Protocol {
        /// The close code sent to the peer.
        code: CloseCode,
        /// What the peer did, with the RFC section it breaks.
        detail: String,
    },

    /// A size limit was crossed: a message, a frame or a handshake larger
    /// than allowed, refused before its bytes were stored (close code 1009
    /// for messages and frames).
    #[error("{limit} exceeded: {actual} bytes is more than the maximum of {max}")]
    LimitExceeded {
        /// The name of the limit, as its setter is called (`max_message_size`, …).
        limit: &'static str,
        /// The size announced or reached.
        actual: u64,
        /// The limit in force.
        max: u64,
    },

    /// An operation did not finish within its time limit (the handshake,
    /// the closing handshake).
    #[error("{operation} timed out after {after:?}")]
    TimedOut {
        /// What timed out, with the setting that bounds it.
        operation: &'static str,
        /// The limit that was reached.
        after: Duration,
    },

    /// The connection ended without a closing handshake (close code 1006).
    #[error("the connection ended without a websocket closing handshake")]
    AbnormalClosure,

    /// A send on a WebSocket that is closing or closed.
    #[error("the websocket is closed")]
    Closed,
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason:?})")
    }
}

impl WebSocketError {
    /// The UWP socket status of this error.
    pub fn status(&self) -> SocketErrorStatus {
        use SocketErrorStatus as S;
        match self {
            Self::Socket(e) => e.status(),
            Self::Handshake { .. } => S::HttpInvalidServerResponse,
            Self::LimitExceeded { .. } => S::MessageTooLong,
            Self::TimedOut { .. } => S::ConnectionTimedOut,
            Self::AbnormalClosure => S::ConnectionResetByPeer,
            Self::Closed => S::OperationAborted,
            Self::InvalidUri { .. }
            | Self::InvalidArgument { .. }
            | Self::Refused { .. }
            | Self::Protocol { .. } => S::Unknown,
        }
    }

    /// The UWP web status of this error: the HTTP status of a refused
    /// upgrade, else the web meaning of the socket status
    /// ([`WebErrorStatus::from_socket_status`]).
    pub fn web_status(&self) -> WebErrorStatus {
        match self {
            Self::Refused { status, .. } => WebErrorStatus::from_http_status(*status),
            Self::Handshake { .. } => WebErrorStatus::ErrorHttpInvalidServerResponse,
            Self::AbnormalClosure => WebErrorStatus::Disconnected,
            other => WebErrorStatus::from_socket_status(other.status()),
        }
    }

    /// The close code this failure sends to the peer, when it fails the
    /// connection: 1002, 1007, 1009, 1008 for `message_timeout`, or 1013
    /// for the shared memory budget.
    pub fn close_code(&self) -> Option<CloseCode> {
        match self {
            Self::Protocol { code, .. } => Some(*code),
            Self::LimitExceeded { limit, .. }
                if matches!(*limit, "max_message_size" | "max_frame_size") =>
            {
                Some(CloseCode::MESSAGE_TOO_BIG)
            }
            Self::TimedOut {
                operation: ARRIVAL_LIMIT,
                ..
            } => Some(CloseCode::POLICY_VIOLATION),
            // The server as a whole is short of memory: the peer may retry.
            Self::LimitExceeded {
                limit: "frame_memory_budget",
                ..
            } => Some(CloseCode::TRY_AGAIN_LATER),
            _ => None,
        }
    }

    /// A protocol error: the peer broke `section` of RFC 6455.
    pub(crate) fn protocol(code: CloseCode, detail: impl Into<String>) -> Self {
        Self::Protocol {
            code,
            detail: detail.into(),
        }
    }

    /// A handshake error.
    pub(crate) fn handshake(detail: impl Into<String>) -> Self {
        Self::Handshake {
            detail: detail.into(),
        }
    }

    /// An invalid argument.
    pub(crate) fn invalid_argument(setting: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidArgument {
            setting,
            reason: reason.into(),
        }
    }

    /// The [`io::ErrorKind`] this error has when carried as an [`io::Error`].
    pub fn io_kind(&self) -> io::ErrorKind {
        use io::ErrorKind as K;
        match self {
            Self::Socket(e) => e.io_kind(),
            Self::InvalidUri { .. } | Self::InvalidArgument { .. } => K::InvalidInput,
            Self::Refused { .. } => K::ConnectionRefused,
            Self::Handshake { .. } | Self::Protocol { .. } | Self::LimitExceeded { .. } => {
                K::InvalidData
            }
            Self::TimedOut { .. } => K::TimedOut,
            Self::AbnormalClosure => K::UnexpectedEof,
            Self::Closed => K::BrokenPipe,
        }
    }
}

impl From<io::Error> for WebSocketError {
    /// Wraps an I/O error; an `io::Error` that carries a `WebSocketError`
    /// (or a sock error) gives it back.
    fn from(err: io::Error) -> Self {
        if err.get_ref().is_some_and(|e| e.is::<Self>()) {
            if let Some(ours) = err.into_inner().and_then(|e| e.downcast::<Self>().ok()) {
                return *ours;
            }
            return Self::Closed;
        }
        Self::Socket(sock_core::Error::from(err))
    }
}

impl From<WebSocketError> for io::Error {
    /// Carries the error inside an `io::Error` of the matching kind; a
    /// socket error converts as sock's errors do.
    fn from(err: WebSocketError) -> Self {
        match err {
            WebSocketError::Socket(e) => e.into(),
            other => Self::new(other.io_kind(), other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_upgrade_reports_its_http_status() {
        let err = WebSocketError::Refused {
            status: 404,
            reason: "Not Found".into(),
        };
        assert_eq!(err.web_status(), WebErrorStatus::NotFound);
        assert_eq!(
            err.to_string(),
            r#"the websocket upgrade was refused: http status 404 ("Not Found")"#
        );
    }

    #[test]
    fn errors_survive_a_trip_through_io_error() {
        let err = WebSocketError::LimitExceeded {
            limit: "max_message_size",
            actual: 10,
            max: 5,
        };
        let io: io::Error = err.into();
        assert_eq!(io.kind(), io::ErrorKind::InvalidData);
        let back = WebSocketError::from(io);
        assert_eq!(back.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
        assert_eq!(back.status(), SocketErrorStatus::MessageTooLong);
    }

    #[test]
    fn socket_errors_keep_their_status() {
        let err = WebSocketError::from(sock_core::Error::TimedOut {
            operation: "connect",
            after: Duration::from_secs(1),
        });
        assert_eq!(err.status(), SocketErrorStatus::ConnectionTimedOut);
        assert_eq!(err.web_status(), WebErrorStatus::Timeout);
    }
}
