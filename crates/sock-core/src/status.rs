//! `SocketErrorStatus`: the UWP classification of socket failures.
//!
//! Every value carries the number UWP gives it, so code ported from
//! `SocketError.GetStatus(hresult)` keeps its `switch` tables. Operating-system
//! errors are classified by errno ([`SocketErrorStatus::from`]`(&io::Error)`), and
//! resolver failures by their `getaddrinfo` code.

use std::fmt;

/// Why a socket operation failed, as UWP's `Windows.Networking.Sockets.SocketErrorStatus`.
///
/// The discriminants are UWP's (`Unknown` = 0 … `CertificateIsInvalid` = 30).
/// Obtain one with [`crate::Error::status`], [`SocketErrorStatus::from`] on an
/// [`io::Error`](std::io::Error), or [`SocketErrorStatus::of`] on any error chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum SocketErrorStatus {
    /// The failure is not one of the classified ones. Treat it as fatal.
    Unknown = 0,
    /// The operation was aborted (cancelled), for example by `cancel_io`.
    OperationAborted = 1,
    /// A bad response was received from an HTTP server (a proxy).
    HttpInvalidServerResponse = 2,
    /// A connection attempt or operation timed out.
    ConnectionTimedOut = 3,
    /// The address family is not supported.
    AddressFamilyNotSupported = 4,
    /// The socket type is not supported.
    SocketTypeNotSupported = 5,
    /// The host was not found (the name does not exist).
    HostNotFound = 6,
    /// The name exists but has no data record of the requested type.
    NoDataRecordOfRequestedType = 7,
    /// A non-authoritative host was not found; usually temporary ("try again").
    NonAuthoritativeHostNotFound = 8,
    /// The specified class (service name) was not found.
    ClassTypeNotFound = 9,
    /// The address is already in use.
    AddressAlreadyInUse = 10,
    /// The requested address cannot be assigned on this machine.
    CannotAssignRequestedAddress = 11,
    /// The connection was refused by the remote host.
    ConnectionRefused = 12,
    /// The network is unreachable.
    NetworkIsUnreachable = 13,
    /// The host is unreachable.
    UnreachableHost = 14,
    /// The network is down.
    NetworkIsDown = 15,
    /// The network dropped the connection on reset.
    NetworkDroppedConnectionOnReset = 16,
    /// Software on this host caused the connection to abort.
    SoftwareCausedConnectionAbort = 17,
    /// The connection was reset by the peer.
    ConnectionResetByPeer = 18,
    /// The host is down.
    HostIsDown = 19,
    /// Name resolution returned no usable address.
    NoAddressesFound = 20,
    /// Too many open files (the process or system descriptor limit was hit).
    TooManyOpenFiles = 21,
    /// A message was larger than a buffer or limit.
    MessageTooLong = 22,
    /// A certificate has expired or is not yet valid.
    CertificateExpired = 23,
    /// A certificate chain does not end in a trusted root.
    CertificateUntrustedRoot = 24,
    /// A certificate is not valid for the name it was presented for.
    CertificateCommonNameIsIncorrect = 25,
    /// A certificate is not valid for this usage (extended key usage).
    CertificateWrongUsage = 26,
    /// A certificate was revoked.
    CertificateRevoked = 27,
    /// The revocation status of a certificate could not be determined.
    CertificateNoRevocationCheck = 28,
    /// The revocation server was offline.
    CertificateRevocationServerOffline = 29,
    /// A certificate is invalid (bad signature, encoding, constraints, …).
    CertificateIsInvalid = 30,
}

impl SocketErrorStatus {
    /// Every status, in numeric order.
    pub const ALL: [Self; 31] = [
        Self::Unknown,
        Self::OperationAborted,
        Self::HttpInvalidServerResponse,
        Self::ConnectionTimedOut,
        Self::AddressFamilyNotSupported,
        Self::SocketTypeNotSupported,
        Self::HostNotFound,
        Self::NoDataRecordOfRequestedType,
        Self::NonAuthoritativeHostNotFound,
        Self::ClassTypeNotFound,
        Self::AddressAlreadyInUse,
        Self::CannotAssignRequestedAddress,
        Self::ConnectionRefused,
        Self::NetworkIsUnreachable,
        Self::UnreachableHost,
        Self::NetworkIsDown,
        Self::NetworkDroppedConnectionOnReset,
        Self::SoftwareCausedConnectionAbort,
        Self::ConnectionResetByPeer,
        Self::HostIsDown,
        Self::NoAddressesFound,
        Self::TooManyOpenFiles,
        Self::MessageTooLong,
        Self::CertificateExpired,
        Self::CertificateUntrustedRoot,
        Self::CertificateCommonNameIsIncorrect,
        Self::CertificateWrongUsage,
        Self::CertificateRevoked,
        Self::CertificateNoRevocationCheck,
        Self::CertificateRevocationServerOffline,
        Self::CertificateIsInvalid,
    ];

    /// The UWP number of this status.
    pub const fn code(self) -> u8 {
        self as u8
    }

    /// The status with UWP number `code`, if there is one.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code)).copied()
    }

    /// The UWP name of the status, as `SocketErrorStatus.ToString()` gives it.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Unknown => "Unknown",
            Self::OperationAborted => "OperationAborted",
            Self::HttpInvalidServerResponse => "HttpInvalidServerResponse",
            Self::ConnectionTimedOut => "ConnectionTimedOut",
            Self::AddressFamilyNotSupported => "AddressFamilyNotSupported",
            Self::SocketTypeNotSupported => "SocketTypeNotSupported",
            Self::HostNotFound => "HostNotFound",
            Self::NoDataRecordOfRequestedType => "NoDataRecordOfRequestedType",
            Self::NonAuthoritativeHostNotFound => "NonAuthoritativeHostNotFound",
            Self::ClassTypeNotFound => "ClassTypeNotFound",
            Self::AddressAlreadyInUse => "AddressAlreadyInUse",
            Self::CannotAssignRequestedAddress => "CannotAssignRequestedAddress",
            Self::ConnectionRefused => "ConnectionRefused",
            Self::NetworkIsUnreachable => "NetworkIsUnreachable",
            Self::UnreachableHost => "UnreachableHost",
            Self::NetworkIsDown => "NetworkIsDown",
            Self::NetworkDroppedConnectionOnReset => "NetworkDroppedConnectionOnReset",
            Self::SoftwareCausedConnectionAbort => "SoftwareCausedConnectionAbort",
            Self::ConnectionResetByPeer => "ConnectionResetByPeer",
            Self::HostIsDown => "HostIsDown",
            Self::NoAddressesFound => "NoAddressesFound",
            Self::TooManyOpenFiles => "TooManyOpenFiles",
            Self::MessageTooLong => "MessageTooLong",
            Self::CertificateExpired => "CertificateExpired",
            Self::CertificateUntrustedRoot => "CertificateUntrustedRoot",
            Self::CertificateCommonNameIsIncorrect => "CertificateCommonNameIsIncorrect",
            Self::CertificateWrongUsage => "CertificateWrongUsage",
            Self::CertificateRevoked => "CertificateRevoked",
            Self::CertificateNoRevocationCheck => "CertificateNoRevocationCheck",
            Self::CertificateRevocationServerOffline => "CertificateRevocationServerOffline",
            Self::CertificateIsInvalid => "CertificateIsInvalid",
        }
    }

    /// Whether retrying the same operation later may succeed.
    ///
    /// True for timeouts, temporary resolver failures, resets and aborts, and for
    /// network or host outages that come and go. False for refusals, bad names,
    /// address conflicts, certificate problems and `Unknown`: retrying those
    /// unchanged gives the same answer.
    pub const fn is_transient(self) -> bool {
        matches!(
            self,
            Self::ConnectionTimedOut
                | Self::NonAuthoritativeHostNotFound
                | Self::NetworkIsUnreachable
                | Self::UnreachableHost
                | Self::NetworkIsDown
                | Self::NetworkDroppedConnectionOnReset
                | Self::SoftwareCausedConnectionAbort
                | Self::ConnectionResetByPeer
                | Self::HostIsDown
                | Self::TooManyOpenFiles
                | Self::CertificateRevocationServerOffline
        )
    }

    /// Whether this is one of the certificate statuses (23–30).
    pub const fn is_certificate_error(self) -> bool {
        (self as u8) >= (Self::CertificateExpired as u8)
    }
}

impl fmt::Display for SocketErrorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use std::error::Error as StdError;
    use std::io;

    use super::*;

    #[test]
    fn codes_match_uwp_numbers() {
        for (i, status) in SocketErrorStatus::ALL.iter().enumerate() {
            assert_eq!(usize::from(status.code()), i, "{status}");
            assert_eq!(SocketErrorStatus::from_code(status.code()), Some(*status));
        }
        assert_eq!(SocketErrorStatus::from_code(31), None);
        assert_eq!(SocketErrorStatus::CertificateIsInvalid.code(), 30);
        assert_eq!(SocketErrorStatus::MessageTooLong.code(), 22);
    }

    #[test]
    fn certificate_statuses_are_23_to_30() {
        for status in SocketErrorStatus::ALL {
            assert_eq!(
                status.is_certificate_error(),
                (23..=30).contains(&status.code()),
                "{status}"
            );
        }
    }

    #[test]
    fn transient_statuses_are_the_retryable_ones() {
        use SocketErrorStatus as S;
        for s in [
            S::ConnectionTimedOut,
            S::NonAuthoritativeHostNotFound,
            S::ConnectionResetByPeer,
        ] {
            assert!(s.is_transient(), "{s}");
        }
        for s in [
            S::Unknown,
            S::ConnectionRefused,
            S::HostNotFound,
            S::AddressAlreadyInUse,
            S::CertificateExpired,
        ] {
            assert!(!s.is_transient(), "{s}");
        }
    }

    #[test]
    fn io_error_kinds_without_errno_are_classified() {
        let err = io::Error::new(io::ErrorKind::TimedOut, "slow");
        assert_eq!(
            SocketErrorStatus::from(&err),
            SocketErrorStatus::ConnectionTimedOut
        );
        let err = io::Error::other("who knows");
        assert_eq!(SocketErrorStatus::from(&err), SocketErrorStatus::Unknown);
    }

    #[test]
    fn of_walks_the_source_chain() {
        #[derive(Debug)]
        struct Outer(io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("outer")
            }
        }
        impl StdError for Outer {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(io::Error::new(io::ErrorKind::ConnectionRefused, "no"));
        assert_eq!(
            SocketErrorStatus::of(&err),
            SocketErrorStatus::ConnectionRefused
        );
    }
}
