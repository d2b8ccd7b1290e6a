//! Platform code that socket2 lacks, behind one set of functions: batched
//! receive and send (`recvmmsg`/`sendmmsg`), segmentation and receive offload
//! (UDP GSO/GRO), the destination address of each datagram (packet info),
//! truncation flags, "don't fragment", and interface lookup.
//!
//! Linux gets the real thing; elsewhere a portable fallback sends and receives
//! one datagram per system call and reports no offload.

use std::net::{IpAddr, SocketAddr};

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(not(target_os = "linux"))]
mod fallback;
#[cfg(not(target_os = "linux"))]
pub(crate) use fallback::*;

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

/// One message to send: datagrams `start..end` of a batch, and, when there is
/// more than one, the segment size that lets the kernel split them (GSO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transmit {
    /// First datagram of the batch in this message.
    pub(crate) start: usize,
    /// One past the last datagram.
    pub(crate) end: usize,
    /// The GSO segment size, when `end - start > 1`.
    pub(crate) segment: Option<usize>,
}
