//! `IoContext`: an `io::Error` wrapped with what was being done, keeping its
//! kind, errno and status reachable.

use std::error::Error as StdError;
use std::fmt;
use std::io;

/// An I/O error with a sentence saying what was being done (`could not bind a
/// udp socket to 127.0.0.1:5000`). The original error is its
/// [`source`](StdError::source), so the errno, and with it the
/// [`SocketErrorStatus`](crate::SocketErrorStatus), stay reachable; the
/// message does not repeat the source's text.
///
/// Made with [`io_context`]; every sock crate adds context this one way.
#[derive(Debug)]
pub struct IoContext {
    what: String,
    source: io::Error,
}

impl IoContext {
    /// What was being done.
    pub fn what(&self) -> &str {
        &self.what
    }

    /// The error that happened while doing it.
    pub fn io_error(&self) -> &io::Error {
        &self.source
    }
}

impl fmt::Display for IoContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl StdError for IoContext {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `source` with `what` was being done, keeping its [`io::ErrorKind`].
///
/// ```
/// use std::io;
/// use sock_core::{io_context, SocketErrorStatus};
///
/// let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
/// let err = io_context(refused, "could not reach the broker");
/// assert_eq!(err.to_string(), "could not reach the broker");
/// assert_eq!(SocketErrorStatus::from(&err), SocketErrorStatus::ConnectionRefused);
/// ```
pub fn io_context(source: io::Error, what: impl Into<String>) -> io::Error {
    io::Error::new(
        source.kind(),
        IoContext {
            what: what.into(),
            source,
        },
    )
}
