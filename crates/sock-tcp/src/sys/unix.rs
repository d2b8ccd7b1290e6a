//! Unix: `TCP_INFO` on Linux, `if_nametoindex`, errno classes, raw descriptors.

use std::io;
use std::os::fd::AsRawFd;

use socket2::{SockRef, Socket};
use tokio::net::TcpStream;

use super::AcceptError;
use crate::stats::TcpInfo;

/// Sorts an `accept` failure (after `accept4(2)`'s list of errors that belong
/// to the pending connection rather than to the listener).
pub(crate) fn accept_error(err: &io::Error) -> AcceptError {
    match err.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => AcceptError::Resources,
        Some(
            libc::ECONNABORTED
            | libc::ECONNRESET
            | libc::EPROTO
            | libc::EPERM
            | libc::ENETDOWN
            | libc::ENETUNREACH
            | libc::ENOPROTOOPT
            | libc::EHOSTDOWN
            | libc::EHOSTUNREACH
            | libc::EOPNOTSUPP
            | libc::ETIMEDOUT
            | libc::EINTR,
        ) => AcceptError::PerConnection,
        _ if matches!(
            err.kind(),
            io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
        ) =>
        {
            AcceptError::PerConnection
        }
        _ => AcceptError::Other,
    }
}

/// Prepares a listening socket before `bind`: as std and tokio do on Unix,
/// `SO_REUSEADDR` lets a restarted server bind again at once despite
/// connections in TIME_WAIT (two live listeners still cannot share a port).
pub(crate) fn before_listener_bind(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_address(true)
}

/// Sets the IPv6 traffic class (`IPV6_TCLASS`).
pub(crate) fn set_traffic_class_v6(socket: &SockRef<'_>, class: u32) -> io::Result<()> {
    socket.set_tclass_v6(class)
}

/// Whether a failure to bind `[::]` means IPv6 is missing here (so binding
/// `0.0.0.0` instead is right).
pub(crate) fn ipv6_unavailable(err: &io::Error) -> bool {
    matches!(
        err.raw_os_error(),
        Some(libc::EAFNOSUPPORT | libc::EADDRNOTAVAIL | libc::EPROTONOSUPPORT)
    )
}

/// Linux's `struct tcp_info` (`linux/tcp.h`) up to `tcpi_delivery_rate`.
#[cfg(target_os = "linux")]
#[repr(C)]
#[derive(Default)]
struct Raw {
    state: u8,
    ca_state: u8,
    retransmits: u8,
    probes: u8,
    backoff: u8,
    options: u8,
    wscale: u8,
    /// Bit 0: `tcpi_delivery_rate_app_limited`.
    flags: u8,
    rto: u32,
    ato: u32,
    snd_mss: u32,
    rcv_mss: u32,
    unacked: u32,
    sacked: u32,
    lost: u32,
    retrans: u32,
    fackets: u32,
    last_data_sent: u32,
    last_ack_sent: u32,
    last_data_recv: u32,
    last_ack_recv: u32,
    pmtu: u32,
    rcv_ssthresh: u32,
    rtt: u32,
    rttvar: u32,
    snd_ssthresh: u32,
    snd_cwnd: u32,
    advmss: u32,
    reordering: u32,
    rcv_rtt: u32,
    rcv_space: u32,
    total_retrans: u32,
    pacing_rate: u64,
    max_pacing_rate: u64,
    bytes_acked: u64,
    bytes_received: u64,
    segs_out: u32,
    segs_in: u32,
    notsent_bytes: u32,
    min_rtt: u32,
    data_segs_in: u32,
    data_segs_out: u32,
    delivery_rate: u64,
}

/// Whether the kernel filled `field` of [`Raw`] (older kernels write a
/// shorter struct).
#[cfg(target_os = "linux")]
macro_rules! has {
    ($len:expr, $field:ident) => {
        $len >= std::mem::offset_of!(Raw, $field) + size_of_val(&Raw::default().$field)
    };
}

/// Reads `TCP_INFO` of `fd`: the struct and how many bytes the kernel wrote.
#[cfg(target_os = "linux")]
fn read_tcp_info(fd: std::os::fd::RawFd) -> Option<(Raw, usize)> {
    let mut raw = Raw::default();
    let mut len = size_of::<Raw>() as libc::socklen_t;
    // SAFETY: `raw` is a plain C struct of `len` bytes that the kernel fills
    // (at most `len` bytes); `len` tells us how much it wrote.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            std::ptr::addr_of_mut!(raw).cast(),
            &mut len,
        )
    };
    (rc == 0).then_some((raw, len as usize))
}

/// How many connections wait in a listening socket's accept queue
/// (`tcpi_unacked` of a listener); `None` where the system does not say.
#[cfg(target_os = "linux")]
pub(crate) fn accept_queue_len(listener: std::os::fd::BorrowedFd<'_>) -> Option<u32> {
    use std::os::fd::AsRawFd as _;
    let (raw, len) = read_tcp_info(listener.as_raw_fd())?;
    has!(len, unacked).then_some(raw.unacked)
}

/// How many connections wait in a listening socket's accept queue: not
/// reported on this platform.
#[cfg(not(target_os = "linux"))]
pub(crate) fn accept_queue_len(_listener: std::os::fd::BorrowedFd<'_>) -> Option<u32> {
    None
}

/// The kernel's statistics of a connection (`TCP_INFO`).
#[cfg(target_os = "linux")]
pub(crate) fn tcp_info(stream: &TcpStream) -> Option<TcpInfo> {
    let (raw, len) = read_tcp_info(stream.as_raw_fd())?;
    if !has!(len, rttvar) {
        return None;
    }
    let if_has = |filled: bool, value: u64| if filled { value } else { 0 };
    Some(TcpInfo {
        rtt_us: raw.rtt,
        rttvar_us: raw.rttvar,
        min_rtt_us: (has!(len, min_rtt) && raw.min_rtt != 0 && raw.min_rtt != u32::MAX)
            .then_some(raw.min_rtt),
        rcv_rtt_us: raw.rcv_rtt,
        rcv_space: raw.rcv_space,
        total_retrans: raw.total_retrans,
        bytes_acked: if_has(has!(len, bytes_acked), raw.bytes_acked),
        bytes_received: if_has(has!(len, bytes_received), raw.bytes_received),
        delivery_rate: if_has(has!(len, delivery_rate), raw.delivery_rate),
        app_limited: has!(len, delivery_rate) && raw.flags & 1 != 0,
    })
}

/// The kernel's statistics of a connection: not reported on this platform.
#[cfg(not(target_os = "linux"))]
pub(crate) fn tcp_info(_stream: &TcpStream) -> Option<TcpInfo> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_errors_are_sorted() {
        let e = |n| io::Error::from_raw_os_error(n);
        assert_eq!(accept_error(&e(libc::EMFILE)), AcceptError::Resources);
        assert_eq!(accept_error(&e(libc::ENFILE)), AcceptError::Resources);
        assert_eq!(
            accept_error(&e(libc::ECONNABORTED)),
            AcceptError::PerConnection
        );
        assert_eq!(accept_error(&e(libc::EBADF)), AcceptError::Other);
    }
}
