//! What a socket knows about itself: `StreamSocketInformation`,
//! `RoundTripTimeStatistics` and `StreamSocketListenerInformation`.

use std::net::SocketAddr;
use std::time::Duration;

use sock_core::{HostName, ServiceName};

/// What a connected socket remembers from its making.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub(crate) local: SocketAddr,
    pub(crate) remote: SocketAddr,
    pub(crate) remote_host: HostName,
    pub(crate) remote_service: ServiceName,
    pub(crate) close: CloseSettings,
}

/// How `close` drains the peer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CloseSettings {
    pub(crate) timeout: Duration,
    pub(crate) drain_limit: usize,
}

/// The addresses and statistics of a connected [`StreamSocket`](crate::StreamSocket),
/// as UWP's `StreamSocketInformation`.
///
/// Made by [`StreamSocket::information`](crate::StreamSocket::information).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamSocketInformation {
    /// The local address the connection is bound to.
    pub local_address: HostName,
    /// The local port.
    pub local_port: u16,
    /// The peer's address (the one that answered, after resolution and racing).
    pub remote_address: HostName,
    /// The peer's port.
    pub remote_port: u16,
    /// The host name as the caller gave it to `connect` (unresolved); for an
    /// accepted socket, the peer's address.
    pub remote_host_name: HostName,
    /// The service as the caller gave it to `connect`; for an accepted socket,
    /// the peer's port.
    pub remote_service_name: ServiceName,
    /// Round-trip-time statistics from the kernel (`TCP_INFO`); `None` where
    /// the platform does not report them.
    pub round_trip_time: Option<RoundTripTimeStatistics>,
}

/// Round-trip-time statistics of a TCP connection, as UWP's
/// `RoundTripTimeStatistics`, read from Linux's `TCP_INFO`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RoundTripTimeStatistics {
    /// The smallest round-trip time seen (`tcpi_min_rtt`); `None` when the
    /// kernel does not report it (before Linux 4.10).
    pub min: Option<Duration>,
    /// The smoothed round-trip time (`tcpi_rtt`).
    pub smoothed: Duration,
    /// The round-trip time's mean deviation (`tcpi_rttvar`).
    pub variance: Duration,
}

impl RoundTripTimeStatistics {
    pub(crate) fn new(min: Option<Duration>, smoothed: Duration, variance: Duration) -> Self {
        Self {
            min,
            smoothed,
            variance,
        }
    }
}

/// Where a [`StreamSocketListener`](crate::StreamSocketListener) listens, as
/// UWP's `StreamSocketListenerInformation`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StreamSocketListenerInformation {
    /// The local address (`::` or `0.0.0.0` when listening on every interface).
    pub local_address: HostName,
    /// The port actually bound: read it after binding to `""` or `0` to learn
    /// the port the operating system chose.
    pub local_port: u16,
}

impl StreamSocketListenerInformation {
    pub(crate) fn new(addr: SocketAddr) -> Self {
        Self {
            local_address: HostName::from(addr.ip()),
            local_port: addr.port(),
        }
    }
}
