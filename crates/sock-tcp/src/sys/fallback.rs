//! Platforms without Unix APIs: numeric IPv6 zones only, no `TCP_INFO`, and
//! `accept` errors sorted by `io::ErrorKind`.

use std::io;

use socket2::{SockRef, Socket};
use tokio::net::TcpStream;

use super::AcceptError;
use crate::stats::TcpInfo;

/// Sorts an `accept` failure by its kind.
pub(crate) fn accept_error(err: &io::Error) -> AcceptError {
    match err.kind() {
        io::ErrorKind::ConnectionAborted
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::Interrupted => AcceptError::PerConnection,
        io::ErrorKind::OutOfMemory => AcceptError::Resources,
        _ => AcceptError::Other,
    }
}

/// Prepares a listening socket before `bind`: nothing here (on Windows,
/// `SO_REUSEADDR` would let another program take the port over).
pub(crate) fn before_listener_bind(_socket: &Socket) -> io::Result<()> {
    Ok(())
}

/// Sets the IPv6 traffic class: not available here, so IPv6 packets keep the
/// default class (quality of service is best effort).
pub(crate) fn set_traffic_class_v6(_socket: &SockRef<'_>, _class: u32) -> io::Result<()> {
    Ok(())
}

/// Whether a failure to bind `[::]` means IPv6 is missing here.
pub(crate) fn ipv6_unavailable(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::AddrNotAvailable | io::ErrorKind::Unsupported
    )
}

/// The kernel's statistics of a connection: not reported on this platform.
pub(crate) fn tcp_info(_stream: &TcpStream) -> Option<TcpInfo> {
    None
}

/// Sharing a port among listeners: not supported on this platform.
pub(crate) fn set_reuse_port(_socket: &Socket) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "listeners sharing a port (SO_REUSEPORT) are not supported on this platform",
    ))
}
