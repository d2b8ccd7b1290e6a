//! Classifying errors into a `SocketErrorStatus`: by errno, by resolver
//! code, by the sock `Error` an error carries, and along `source()` chains.

use std::error::Error as StdError;
use std::io;

use crate::{sys, Error, ResolverError, SocketErrorStatus};

impl SocketErrorStatus {
    /// Classifies the first classifiable error in `error`'s `source()` chain, as
    /// UWP's `SocketError.GetStatus` does for an HRESULT.
    ///
    /// A [`Error`] or [`ResolverError`] gives its own status, an
    /// [`io::Error`] is classified by errno or resolver code; anything else is
    /// skipped. `Unknown` when nothing in
    /// the chain is classifiable.
    pub fn of(error: &(dyn StdError + 'static)) -> Self {
        let mut next = Some(error);
        while let Some(err) = next {
            let status = if let Some(e) = err.downcast_ref::<Error>() {
                e.status()
            } else if let Some(e) = err.downcast_ref::<ResolverError>() {
                e.status()
            } else if let Some(e) = err.downcast_ref::<io::Error>() {
                Self::from(e)
            } else {
                Self::Unknown
            };
            if status != Self::Unknown {
                return status;
            }
            next = err.source();
        }
        Self::Unknown
    }

    /// The status for a `getaddrinfo` failure code (`EAI_*`), where the platform
    /// has one. `Unknown` for codes that say nothing about the name.
    pub fn from_resolver_code(code: i32) -> Self {
        sys::resolver_status(code)
    }

    /// The status for a raw operating-system error number (`errno`).
    pub fn from_raw_os_error(errno: i32) -> Self {
        sys::errno_status(errno)
    }
}

impl From<&io::Error> for SocketErrorStatus {
    /// Classifies an I/O error: by errno when it has one, by resolver code when it
    /// is a name-resolution failure, by the [`Error`] it wraps when it was
    /// made from one, and otherwise by its [`io::ErrorKind`].
    fn from(err: &io::Error) -> Self {
        if let Some(errno) = err.raw_os_error() {
            let status = Self::from_raw_os_error(errno);
            if status != Self::Unknown {
                return status;
            }
        }
        if let Some(inner) = err.get_ref() {
            if let Some(e) = inner.downcast_ref::<Error>() {
                return e.status();
            }
            let status = Self::of(inner);
            if status != Self::Unknown {
                return status;
            }
        }
        if let Some(status) = sys::resolver_status_from_message(&err.to_string()) {
            return status;
        }
        match err.kind() {
            io::ErrorKind::TimedOut => Self::ConnectionTimedOut,
            io::ErrorKind::ConnectionRefused => Self::ConnectionRefused,
            io::ErrorKind::ConnectionReset => Self::ConnectionResetByPeer,
            io::ErrorKind::ConnectionAborted => Self::SoftwareCausedConnectionAbort,
            io::ErrorKind::AddrInUse => Self::AddressAlreadyInUse,
            io::ErrorKind::AddrNotAvailable => Self::CannotAssignRequestedAddress,
            io::ErrorKind::HostUnreachable => Self::UnreachableHost,
            io::ErrorKind::NetworkUnreachable => Self::NetworkIsUnreachable,
            io::ErrorKind::NetworkDown => Self::NetworkIsDown,
            _ => Self::Unknown,
        }
    }
}

impl From<io::Error> for SocketErrorStatus {
    fn from(err: io::Error) -> Self {
        Self::from(&err)
    }
}
