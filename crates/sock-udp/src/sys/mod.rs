//! Platform code that socket2 lacks, behind one set of functions: batched
//! receive and send (`recvmmsg`/`sendmmsg`), segmentation and receive offload
//! (UDP GSO/GRO), the destination address of each datagram (packet info),
//! truncation flags, "don't fragment", and interface lookup.
//!
//! Linux gets the real thing; elsewhere a portable fallback sends and receives
//! one datagram per system call and reports no offload.

use std::net::{IpAddr, SocketAddr};

pub(crate) use crate::batch::Transmit;

mod landing;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(not(target_os = "linux"))]
mod fallback;
#[cfg(not(target_os = "linux"))]
pub(crate) use fallback::*;
pub(crate) use landing::{recv_landing, Slots};

/// What the kernel said about one received buffer.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RecvMeta {
    /// Bytes placed in the buffer.
    pub(crate) len: usize,
    /// Who sent it.
    pub(crate) source: Option<SocketAddr>,
    /// The address it was sent to (packet info), where known.
    pub(crate) destination: Option<IpAddr>,
    /// The size of each datagram in the buffer: `len` unless receive offload
    /// coalesced several datagrams of this size (the last may be shorter).
    pub(crate) stride: usize,
    /// Whether the buffer was too small for the datagram.
    pub(crate) truncated: bool,
}

/// Lets other sockets bind the same port (`SO_REUSEADDR`, and `SO_REUSEPORT`
/// where the system has it), for sockets that share a multicast port.
pub(crate) fn share_port(socket: &socket2::Socket) -> std::io::Result<()> {
    socket.set_reuse_address(true)?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    socket.set_reuse_port(true)?;
    Ok(())
}

/// `EAFNOSUPPORT`: the system has no such address family (no IPv6).
#[cfg(unix)]
pub(crate) const EAFNOSUPPORT: i32 = libc::EAFNOSUPPORT;
#[cfg(not(unix))]
pub(crate) const EAFNOSUPPORT: i32 = 10047;

/// `EIO`: what a segmented send through a device that cannot checksum it fails with.
#[cfg(unix)]
pub(crate) const EIO: i32 = libc::EIO;
#[cfg(not(unix))]
pub(crate) const EIO: i32 = 5;
