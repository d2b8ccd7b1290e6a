//! `TransportProtocol`: TCP or UDP, for service-name lookups and errors.

use std::fmt;

/// The transport a service name is looked up for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TransportProtocol {
    /// TCP (`StreamSocket`, `StreamSocketListener`).
    Tcp,
    /// UDP (`DatagramSocket`).
    Udp,
}

impl TransportProtocol {
    /// The protocol's name as `/etc/services` writes it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }
}

impl fmt::Display for TransportProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
