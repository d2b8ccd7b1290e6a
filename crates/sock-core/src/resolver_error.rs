//! `ResolverError`: a name-resolution failure that names its UWP status, for
//! resolvers other than the system's (which report `EAI_*` codes).

use std::fmt;
use std::io;

use crate::SocketErrorStatus;

/// A resolver's failure with the [`SocketErrorStatus`] it stands for.
///
/// The system resolver's errors are classified by their `getaddrinfo` code; a
/// DNS client of its own (or a test resolver) says what happened with one of
/// these instead, wrapped in an [`io::Error`] by [`into_io`](Self::into_io) or
/// `From`. [`SocketErrorStatus::of`] and `SocketErrorStatus::from(&io::Error)`
/// find it.
///
/// ```
/// use std::io;
/// use sock_core::{ResolverError, SocketErrorStatus as S};
///
/// let err: io::Error = ResolverError::new(S::HostNotFound, "no such name: db.example (NXDOMAIN)").into();
/// assert_eq!(S::from(&err), S::HostNotFound);
/// assert_eq!(err.to_string(), "no such name: db.example (NXDOMAIN)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolverError {
    status: SocketErrorStatus,
    message: String,
}

impl ResolverError {
    /// A failure with `status`, described by `message`.
    pub fn new(status: SocketErrorStatus, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// The status this failure stands for.
    pub fn status(&self) -> SocketErrorStatus {
        self.status
    }

    /// The failure as an [`io::Error`], with the kind its status suggests
    /// (`TimedOut` for a timeout, `NotFound` for a name that does not exist).
    pub fn into_io(self) -> io::Error {
        let kind = match self.status {
            SocketErrorStatus::ConnectionTimedOut => io::ErrorKind::TimedOut,
            SocketErrorStatus::HostNotFound
            | SocketErrorStatus::NoDataRecordOfRequestedType
            | SocketErrorStatus::NoAddressesFound => io::ErrorKind::NotFound,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, self)
    }
}

impl fmt::Display for ResolverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ResolverError {}

impl From<ResolverError> for io::Error {
    fn from(error: ResolverError) -> Self {
        error.into_io()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Error, SocketErrorStatus as S};

    #[test]
    fn the_status_survives_wrapping_in_a_resolve_error() {
        for status in [
            S::HostNotFound,
            S::NonAuthoritativeHostNotFound,
            S::NoDataRecordOfRequestedType,
            S::ConnectionTimedOut,
        ] {
            let err = Error::Resolve {
                host: "db.example".into(),
                source: ResolverError::new(status, "it failed").into(),
            };
            assert_eq!(err.status(), status);
            assert_eq!(S::of(&err), status);
        }
        let timeout = ResolverError::new(S::ConnectionTimedOut, "late").into_io();
        assert_eq!(timeout.kind(), io::ErrorKind::TimedOut);
    }
}
