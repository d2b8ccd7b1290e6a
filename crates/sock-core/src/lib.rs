//! Runtime-free types of the sock sockets library.
//!
//! `sock-core` holds what every other sock crate shares and nothing that needs a
//! runtime: validated [`HostName`]s and [`ServiceName`]s, the [`Error`] type and
//! its UWP [`SocketErrorStatus`], and the small enums of the UWP sockets API
//! ([`ProtectionLevel`], [`QualityOfService`], [`ByteOrder`], [`UnicodeEncoding`]).
//!
//! # Examples
//!
//! Validate what a user typed, as UWP programs do with `new HostName(text)`:
//!
//! ```
//! use sock_core::{HostName, ServiceName, SocketErrorStatus, TransportProtocol};
//!
//! let err = HostName::new("my server").unwrap_err();
//! assert_eq!(err.to_string(), r#"invalid host name "my server": contains a space"#);
//!
//! let host = HostName::new("localhost")?;
//! let port = ServiceName::new("1337")?.port(TransportProtocol::Tcp)?;
//! assert_eq!((host.canonical_name(), port), ("localhost", 1337));
//!
//! let unknown = ServiceName::new("no-such-service")?.port(TransportProtocol::Tcp).unwrap_err();
//! assert_eq!(unknown.status(), SocketErrorStatus::ClassTypeNotFound);
//! # Ok::<(), sock_core::Error>(())
//! ```
//!
//! Classify any I/O error:
//!
//! ```
//! use std::io;
//! use sock_core::SocketErrorStatus;
//!
//! let err = io::Error::from(io::ErrorKind::ConnectionRefused);
//! assert_eq!(SocketErrorStatus::from(&err), SocketErrorStatus::ConnectionRefused);
//! assert!(!SocketErrorStatus::ConnectionRefused.is_transient());
//! ```
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc(test(attr(deny(warnings))))]
// `unsafe` lives in `sys`, the platform glue, and nowhere else.
#![deny(unsafe_code)]

mod classify;
mod context;
mod error;
mod host_name;
mod protection;
mod resolver_error;
mod service_name;
mod status;
#[allow(unsafe_code)]
mod sys;
mod transport;
mod types;

pub use context::{io_context, IoContext};
pub use error::{most_telling, BoxError, ConnectAttempt, Error, Report, Result};
pub use host_name::{HostName, HostNameType, MAX_LABEL_LEN, MAX_NAME_LEN, MAX_ZONE_LEN};
pub use protection::{ProtectionLevel, TlsVersion};
pub use resolver_error::ResolverError;
pub use service_name::{ServiceName, MAX_SERVICE_NAME_LEN};
pub use status::SocketErrorStatus;
pub use transport::TransportProtocol;
pub use types::{ByteOrder, EndpointPair, QualityOfService, UnicodeEncoding};

#[cfg(test)]
mod errno_tests {
    use std::io;

    use crate::SocketErrorStatus;

    /// Every errno in the table maps to its status through `io::Error`, and the
    /// statuses it names are ones `SocketError.GetStatus` reports.
    #[test]
    fn every_errno_in_the_table_maps_to_its_status() {
        let table = crate::sys::errno_table();
        if cfg!(unix) {
            assert!(table.len() >= 17, "table has {} rows", table.len());
        }
        for (errno, status) in table {
            let err = io::Error::from_raw_os_error(*errno);
            assert_eq!(
                SocketErrorStatus::from(&err),
                *status,
                "errno {errno} ({err})"
            );
            assert_eq!(SocketErrorStatus::from_raw_os_error(*errno), *status);
        }
        assert_eq!(
            SocketErrorStatus::from_raw_os_error(0),
            SocketErrorStatus::Unknown
        );
    }

    #[cfg(unix)]
    #[test]
    fn named_errnos_have_their_uwp_statuses() {
        use SocketErrorStatus as S;
        for (errno, status) in [
            (libc::ECANCELED, S::OperationAborted),
            (libc::ETIMEDOUT, S::ConnectionTimedOut),
            (libc::EAFNOSUPPORT, S::AddressFamilyNotSupported),
            (libc::ESOCKTNOSUPPORT, S::SocketTypeNotSupported),
            (libc::EADDRINUSE, S::AddressAlreadyInUse),
            (libc::EADDRNOTAVAIL, S::CannotAssignRequestedAddress),
            (libc::ECONNREFUSED, S::ConnectionRefused),
            (libc::ENETUNREACH, S::NetworkIsUnreachable),
            (libc::EHOSTUNREACH, S::UnreachableHost),
            (libc::ENETDOWN, S::NetworkIsDown),
            (libc::ENETRESET, S::NetworkDroppedConnectionOnReset),
            (libc::ECONNABORTED, S::SoftwareCausedConnectionAbort),
            (libc::ECONNRESET, S::ConnectionResetByPeer),
            (libc::EHOSTDOWN, S::HostIsDown),
            (libc::EMFILE, S::TooManyOpenFiles),
            (libc::EMSGSIZE, S::MessageTooLong),
            (libc::EPROTO, S::HttpInvalidServerResponse),
        ] {
            let err = io::Error::from_raw_os_error(errno);
            assert_eq!(S::from(&err), status, "{err}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn resolver_failures_map_to_their_statuses() {
        use SocketErrorStatus as S;
        assert_eq!(S::from_resolver_code(libc::EAI_NONAME), S::HostNotFound);
        assert_eq!(
            S::from_resolver_code(libc::EAI_AGAIN),
            S::NonAuthoritativeHostNotFound
        );
        assert_eq!(
            S::from_resolver_code(libc::EAI_SERVICE),
            S::ClassTypeNotFound
        );
        // std keeps only the text of a resolver failure; each text maps back.
        for (code, status, text) in crate::sys::resolver_table() {
            let err = io::Error::other(format!("failed to lookup address information: {text}"));
            assert_eq!(S::from(&err), status, "EAI code {code}: {text}");
        }
    }
}
