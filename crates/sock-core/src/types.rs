//! Small value types shared by every crate: `EndpointPair`, `QualityOfService`,
//! `ByteOrder`, `UnicodeEncoding`.

use crate::{HostName, ServiceName};

/// A local and a remote endpoint, as UWP's `Windows.Networking.EndpointPair`.
///
/// `local_host: None` and an "any" `local_service` let the operating system choose.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EndpointPair {
    /// The local address to use, or `None` for any.
    pub local_host: Option<HostName>,
    /// The local port or service (`""` for any).
    pub local_service: ServiceName,
    /// The remote host.
    pub remote_host: HostName,
    /// The remote port or service.
    pub remote_service: ServiceName,
}

impl EndpointPair {
    /// Bundles the four parts.
    pub fn new(
        local_host: Option<HostName>,
        local_service: ServiceName,
        remote_host: HostName,
        remote_service: ServiceName,
    ) -> Self {
        Self {
            local_host,
            local_service,
            remote_host,
            remote_service,
        }
    }

    /// A pair with no local preference: any local address and port.
    pub fn to_remote(remote_host: HostName, remote_service: ServiceName) -> Self {
        Self::new(None, ServiceName::any(), remote_host, remote_service)
    }
}

/// The traffic class of a socket, as UWP's `SocketQualityOfService`.
///
/// Here `LowLatency` marks the socket's packets for low delay (IP TOS/DSCP), where
/// UWP raised a thread priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QualityOfService {
    /// Ordinary traffic.
    #[default]
    Normal = 0,
    /// Latency-sensitive traffic (voice, games).
    LowLatency = 1,
}

/// Byte order of multi-byte values, as UWP's `ByteOrder`. Big-endian (network
/// order) by default, as UWP's `DataReader`/`DataWriter` behave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ByteOrder {
    /// Least significant byte first.
    LittleEndian = 0,
    /// Most significant byte first (network order).
    #[default]
    BigEndian = 1,
}

/// Text encoding of strings, as UWP's `UnicodeEncoding`. UTF-8 by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UnicodeEncoding {
    /// UTF-8: code units are bytes.
    #[default]
    Utf8 = 0,
    /// UTF-16, little-endian: code units are 2 bytes.
    Utf16LE = 1,
    /// UTF-16, big-endian: code units are 2 bytes.
    Utf16BE = 2,
}

impl UnicodeEncoding {
    /// Bytes per code unit (1 for UTF-8, 2 for UTF-16).
    pub const fn code_unit_len(self) -> usize {
        match self {
            Self::Utf8 => 1,
            Self::Utf16LE | Self::Utf16BE => 2,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_uwp_defaults() {
        assert_eq!(ByteOrder::default(), ByteOrder::BigEndian);
        assert_eq!(UnicodeEncoding::default(), UnicodeEncoding::Utf8);
        assert_eq!(QualityOfService::default(), QualityOfService::Normal);
    }

    #[test]
    fn endpoint_pair_to_remote_leaves_local_to_the_os() {
        let pair =
            EndpointPair::to_remote(HostName::new("localhost").unwrap(), ServiceName::from(1337));
        assert!(pair.local_host.is_none());
        assert!(pair.local_service.is_any());
        assert_eq!(pair.remote_service.as_port(), Some(1337));
    }
}
