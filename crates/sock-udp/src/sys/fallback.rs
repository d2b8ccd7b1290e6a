//! Portable fallback: one datagram per system call through socket2, no packet
//! info, no offload. Truncation is still reported (`MSG_TRUNC` or its
//! equivalent, as socket2's `RecvFlags` gives it).

use std::io;
use std::mem::MaybeUninit;
use std::net::IpAddr;

use socket2::{MaybeUninitSlice, SockAddr, SockRef, Socket};

use super::{RecvMeta, Transmit};

/// Datagrams handled per call (one: no `recvmmsg`/`sendmmsg` here).
pub(crate) const BATCH_SIZE: usize = 1;

/// No segmentation offload here.
pub(crate) const MAX_GSO_SEGMENTS: usize = 1;

/// Packet info is not read here.
pub(crate) fn enable_packet_info(_socket: &Socket, _ipv6: bool) -> io::Result<()> {
    Ok(())
}

/// Receive offload is not available here.
pub(crate) fn enable_gro(_socket: &Socket) -> io::Result<bool> {
    Ok(false)
}

/// Segmentation offload is not available here.
pub(crate) fn gso_supported(_socket: &Socket) -> bool {
    false
}

/// "Don't fragment" is not settable here.
pub(crate) fn set_dont_fragment(
    _socket: &Socket,
    _ipv4: bool,
    _ipv6: bool,
    on: bool,
) -> io::Result<()> {
    if on {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "dont_fragment is not supported on this platform",
        ))
    } else {
        Ok(())
    }
}

/// Never: there is no GSO to fail.
pub(crate) fn is_gso_failure(_err: &io::Error) -> bool {
    false
}

/// Receives one datagram into the first buffer.
pub(crate) fn recv(
    socket: SockRef<'_>,
    bufs: &mut [(&mut [MaybeUninit<u8>], &mut [u8])],
    meta: &mut [RecvMeta],
) -> io::Result<usize> {
    let (Some((head, tail)), Some(m)) = (bufs.first_mut(), meta.first_mut()) else {
        return Ok(0);
    };
    let len = head.len() + tail.len();
    // SAFETY: an initialised byte slice viewed as maybe-uninitialised bytes;
    // the socket only writes initialised bytes into it.
    let tail = unsafe { &mut *(std::ptr::from_mut::<[u8]>(tail) as *mut [MaybeUninit<u8>]) };
    let mut slices = [MaybeUninitSlice::new(head), MaybeUninitSlice::new(tail)];
    let (n, flags, addr) = socket.recv_from_vectored(&mut slices)?;
    *m = RecvMeta {
        len: n.min(len),
        source: addr.as_socket(),
        destination: None::<IpAddr>,
        stride: n.min(len),
        truncated: flags.is_truncated(),
    };
    Ok(1)
}

/// Sends the first transmit (one datagram).
pub(crate) fn send<B: AsRef<[u8]>>(
    socket: SockRef<'_>,
    dest: Option<&SockAddr>,
    datagrams: &[B],
    transmits: &[Transmit],
) -> io::Result<usize> {
    let Some(t) = transmits.first() else {
        return Ok(0);
    };
    let data = datagrams[t.start].as_ref();
    let sock = socket;
    match dest {
        Some(dest) => sock.send_to(data, dest)?,
        None => sock.send(data)?,
    };
    Ok(1)
}

/// Interface lookup by address is not available here: use the default.
pub(crate) fn interface_index_of(_ip: IpAddr) -> io::Result<u32> {
    Ok(0)
}
