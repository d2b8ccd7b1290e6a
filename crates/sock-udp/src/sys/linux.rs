//! Linux: `recvmmsg`/`sendmmsg`, UDP GSO (`UDP_SEGMENT`) and GRO (`UDP_GRO`),
//! `IP_PKTINFO`/`IPV6_RECVPKTINFO` for the local address, `MSG_TRUNC`, path-MTU
//! discovery for "don't fragment", and interface lookup for multicast joins.

use std::io;
use std::mem::{self, MaybeUninit};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, RawFd};
use std::ptr;

use socket2::{SockAddr, SockRef, Socket};

use super::{RecvMeta, Transmit};

/// Datagrams (or GSO super-datagrams) handed to the kernel in one `sendmmsg`
/// or asked for in one `recvmmsg`.
pub(crate) const BATCH_SIZE: usize = 64;

/// Segments the kernel accepts in one GSO send (`UDP_MAX_SEGMENTS` is 64 on
/// older kernels, 128 on newer ones; 64 works on all).
pub(crate) const MAX_GSO_SEGMENTS: usize = 64;

/// Room for the control messages of one datagram: a packet-info record and a
/// GRO segment size.
const CMSG_LEN: usize = 128;

#[repr(C, align(8))]
#[derive(Clone, Copy)]
struct CmsgBuf([u8; CMSG_LEN]);

fn cvt(ret: libc::c_int) -> io::Result<libc::c_int> {
    if ret == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn set_int_opt(
    fd: RawFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` lives for the call and its size is passed.
    cvt(unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            ptr::from_ref(&value).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// Asks the kernel for the destination address of every datagram received.
pub(crate) fn enable_packet_info(socket: &Socket, ipv6: bool) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    if ipv6 {
        // Also covers IPv4 datagrams on a dual-stack socket (as mapped addresses).
        set_int_opt(fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)
    } else {
        set_int_opt(fd, libc::IPPROTO_IP, libc::IP_PKTINFO, 1)
    }
}

/// Turns on UDP receive offload; `Ok(false)` where the kernel lacks it.
pub(crate) fn enable_gro(socket: &Socket) -> io::Result<bool> {
    match set_int_opt(socket.as_raw_fd(), libc::SOL_UDP, libc::UDP_GRO, 1) {
        Ok(()) => Ok(true),
        Err(e) if matches!(e.raw_os_error(), Some(libc::ENOPROTOOPT | libc::EINVAL)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Whether the kernel accepts UDP segmentation offload on this socket.
pub(crate) fn gso_supported(socket: &Socket) -> bool {
    // Setting a segment size as a socket option is the cheapest probe; sends
    // then pass their own size as a control message, overriding it, and a
    // datagram smaller than the size is sent as is.
    let probe = set_int_opt(socket.as_raw_fd(), libc::SOL_UDP, libc::UDP_SEGMENT, 1500);
    let ok = probe.is_ok();
    if ok {
        let _ = set_int_opt(socket.as_raw_fd(), libc::SOL_UDP, libc::UDP_SEGMENT, 0);
    }
    ok
}

/// Sets or clears the "don't fragment" behaviour (path-MTU discovery "do").
pub(crate) fn set_dont_fragment(
    socket: &Socket,
    ipv4: bool,
    ipv6: bool,
    on: bool,
) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    if ipv4 {
        let mode = if on {
            libc::IP_PMTUDISC_DO
        } else {
            libc::IP_PMTUDISC_WANT
        };
        set_int_opt(fd, libc::IPPROTO_IP, libc::IP_MTU_DISCOVER, mode)?;
    }
    if ipv6 {
        let mode = if on {
            libc::IPV6_PMTUDISC_DO
        } else {
            libc::IPV6_PMTUDISC_WANT
        };
        set_int_opt(fd, libc::IPPROTO_IPV6, libc::IPV6_MTU_DISCOVER, mode)?;
        set_int_opt(fd, libc::IPPROTO_IPV6, libc::IPV6_DONTFRAG, i32::from(on))?;
    }
    Ok(())
}

/// Whether an error of a GSO send means "this path cannot segment" (so the
/// batch should be retried without GSO) rather than a real failure.
pub(crate) fn is_gso_failure(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EIO | libc::EINVAL))
}

fn socket_addr_from(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a `sockaddr_in`.
            let sin = unsafe { &*ptr::from_ref(storage).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(sin.sin_addr.s_addr)),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a `sockaddr_in6`.
            let sin6 = unsafe { &*ptr::from_ref(storage).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Receives up to `min(bufs.len(), BATCH_SIZE)` datagrams without blocking,
/// one per buffer, filling `meta` for each. Returns how many arrived.
///
/// Each buffer is a pair: the kernel fills the first slice, then the second
/// (`meta.len` counts both); the first `min(meta.len, first.len())` bytes of
/// the first are initialised on return.
///
/// # Errors
///
/// `WouldBlock` when none is waiting; otherwise the socket's error (an ICMP
/// report on a connected socket, for example).
pub(crate) fn recv(
    socket: SockRef<'_>,
    bufs: &mut [(&mut [MaybeUninit<u8>], &mut [u8])],
    meta: &mut [RecvMeta],
) -> io::Result<usize> {
    let fd = socket.as_raw_fd();
    let n = bufs.len().min(meta.len()).min(BATCH_SIZE);
    if n == 0 {
        return Ok(0);
    }
    // SAFETY: all-zero is a valid value of these plain C structs.
    let mut names: [libc::sockaddr_storage; BATCH_SIZE] = unsafe { mem::zeroed() };
    let mut ctrl = [CmsgBuf([0; CMSG_LEN]); BATCH_SIZE];
    // SAFETY: as above.
    let mut iovs: [[libc::iovec; 2]; BATCH_SIZE] = unsafe { mem::zeroed() };
    // SAFETY: as above.
    let mut hdrs: [libc::mmsghdr; BATCH_SIZE] = unsafe { mem::zeroed() };
    for i in 0..n {
        let (head, tail) = &mut bufs[i];
        iovs[i] = [
            libc::iovec {
                iov_base: head.as_mut_ptr().cast(),
                iov_len: head.len(),
            },
            libc::iovec {
                iov_base: tail.as_mut_ptr().cast(),
                iov_len: tail.len(),
            },
        ];
        let h = &mut hdrs[i].msg_hdr;
        h.msg_name = ptr::from_mut(&mut names[i]).cast();
        h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        h.msg_iov = iovs[i].as_mut_ptr();
        h.msg_iovlen = 2;
        h.msg_control = ctrl[i].0.as_mut_ptr().cast();
        h.msg_controllen = CMSG_LEN as _;
    }
    // MSG_TRUNC makes the kernel report each datagram's real length.
    let received = if n == 1 {
        // SAFETY: the header points at live buffers sized as declared.
        let len = unsafe { libc::recvmsg(fd, &mut hdrs[0].msg_hdr, libc::MSG_TRUNC) };
        if len < 0 {
            return Err(io::Error::last_os_error());
        }
        hdrs[0].msg_len = len as libc::c_uint;
        1
    } else {
        // SAFETY: every header points at live buffers sized as declared.
        let count = unsafe {
            libc::recvmmsg(
                fd,
                hdrs.as_mut_ptr(),
                n as libc::c_uint,
                libc::MSG_TRUNC as _,
                ptr::null_mut(),
            )
        };
        usize::try_from(cvt(count)?).unwrap_or(0)
    };
    for i in 0..received {
        let h = &hdrs[i].msg_hdr;
        let real = hdrs[i].msg_len as usize;
        let room = bufs[i].0.len() + bufs[i].1.len();
        let m = &mut meta[i];
        m.truncated = h.msg_flags & libc::MSG_TRUNC != 0 || real > room;
        m.len = real.min(room);
        m.source = socket_addr_from(&names[i]);
        m.destination = None;
        m.stride = m.len;
        // SAFETY: the header was filled by the kernel; the macros walk the
        // control buffer within `msg_controllen`.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(h);
            while !c.is_null() {
                let data = libc::CMSG_DATA(c);
                match ((*c).cmsg_level, (*c).cmsg_type) {
                    (libc::IPPROTO_IP, libc::IP_PKTINFO) => {
                        let info: libc::in_pktinfo = ptr::read_unaligned(data.cast());
                        m.destination = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                            info.ipi_addr.s_addr,
                        ))));
                    }
                    (libc::IPPROTO_IPV6, libc::IPV6_PKTINFO) => {
                        let info: libc::in6_pktinfo = ptr::read_unaligned(data.cast());
                        m.destination = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
                    }
                    (libc::SOL_UDP, libc::UDP_GRO) => {
                        let size: libc::c_int = ptr::read_unaligned(data.cast());
                        if let Ok(size) = usize::try_from(size) {
                            if size > 0 {
                                m.stride = size;
                            }
                        }
                    }
                    _ => {}
                }
                c = libc::CMSG_NXTHDR(h, c);
            }
        }
    }
    Ok(received)
}

/// Sends up to `BATCH_SIZE` transmits to `dest` (or the connected peer when
/// `None`) in one `sendmmsg`. Returns how many transmits the kernel took.
///
/// # Errors
///
/// `WouldBlock` when the first cannot be sent now; otherwise the error of the
/// first transmit.
pub(crate) fn send<B: AsRef<[u8]>>(
    socket: SockRef<'_>,
    dest: Option<&SockAddr>,
    datagrams: &[B],
    transmits: &[Transmit],
) -> io::Result<usize> {
    let fd = socket.as_raw_fd();
    let n = transmits.len().min(BATCH_SIZE);
    if n == 0 {
        return Ok(0);
    }
    let iov_count: usize = transmits[..n].iter().map(|t| t.end - t.start).sum();
    let mut iovs: Vec<libc::iovec> = Vec::with_capacity(iov_count);
    // Each message's slices, where one datagram ends where the next begins
    // (slices of one buffer), joined: the kernel copies one run at a time.
    let mut counts = [0usize; BATCH_SIZE];
    for (t, count) in transmits[..n].iter().zip(&mut counts) {
        let first = iovs.len();
        for d in &datagrams[t.start..t.end] {
            let d = d.as_ref();
            if iovs.len() > first {
                let last = iovs.last_mut().expect("a slice");
                if last.iov_base.cast::<u8>().wrapping_add(last.iov_len) == d.as_ptr().cast_mut() {
                    last.iov_len += d.len();
                    continue;
                }
            }
            iovs.push(libc::iovec {
                iov_base: d.as_ptr().cast_mut().cast(),
                iov_len: d.len(),
            });
        }
        *count = iovs.len() - first;
    }
    let mut ctrl = [CmsgBuf([0; CMSG_LEN]); BATCH_SIZE];
    // SAFETY: all-zero is a valid `mmsghdr`.
    let mut hdrs: [libc::mmsghdr; BATCH_SIZE] = unsafe { mem::zeroed() };
    let mut offset = 0;
    for (i, t) in transmits[..n].iter().enumerate() {
        let count = counts[i];
        let h = &mut hdrs[i].msg_hdr;
        if let Some(dest) = dest {
            h.msg_name = dest.as_ptr().cast_mut().cast();
            h.msg_namelen = dest.len();
        }
        h.msg_iov = iovs[offset..].as_mut_ptr();
        h.msg_iovlen = count as _;
        offset += count;
        if let Some(segment) = t.segment {
            let size =
                u16::try_from(segment).map_err(|_| io::Error::from_raw_os_error(libc::EMSGSIZE))?;
            h.msg_control = ctrl[i].0.as_mut_ptr().cast();
            // SAFETY: the control buffer is aligned and large enough for one
            // `u16` record; the macros stay inside it.
            unsafe {
                h.msg_controllen = libc::CMSG_SPACE(size_of::<u16>() as u32) as _;
                let c = libc::CMSG_FIRSTHDR(h);
                (*c).cmsg_level = libc::SOL_UDP;
                (*c).cmsg_type = libc::UDP_SEGMENT;
                (*c).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as _;
                ptr::write_unaligned(libc::CMSG_DATA(c).cast::<u16>(), size);
            }
        }
    }
    let sent = if n == 1 {
        // SAFETY: the header points at live buffers sized as declared.
        let ret = unsafe { libc::sendmsg(fd, &hdrs[0].msg_hdr, 0) };
        if ret < 0 {
            return Err(io::Error::last_os_error());
        }
        1
    } else {
        // SAFETY: every header points at live buffers sized as declared.
        let ret = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr(), n as libc::c_uint, 0) };
        usize::try_from(cvt(ret)?).unwrap_or(0)
    };
    Ok(sent)
}

/// The index of the interface that has address `ip`, for multicast joins.
pub(crate) fn interface_index_of(ip: IpAddr) -> io::Result<u32> {
    let mut list: *mut libc::ifaddrs = ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, freed below.
    cvt(unsafe { libc::getifaddrs(&mut list) })?;
    let mut found = None;
    let mut cur = list;
    while !cur.is_null() {
        // SAFETY: `cur` is a node of the list getifaddrs returned.
        let ifa = unsafe { &*cur };
        if !ifa.ifa_addr.is_null() {
            // SAFETY: `ifa_addr` points at a sockaddr of the family it names;
            // copying it into storage sized for any family is in bounds for
            // the families we read.
            let addr = unsafe {
                let mut storage: libc::sockaddr_storage = mem::zeroed();
                let len = match libc::c_int::from((*ifa.ifa_addr).sa_family) {
                    libc::AF_INET => size_of::<libc::sockaddr_in>(),
                    libc::AF_INET6 => size_of::<libc::sockaddr_in6>(),
                    _ => 0,
                };
                ptr::copy_nonoverlapping(
                    ifa.ifa_addr.cast::<u8>(),
                    ptr::from_mut(&mut storage).cast::<u8>(),
                    len,
                );
                if len == 0 {
                    None
                } else {
                    socket_addr_from(&storage)
                }
            };
            if addr.map(|a| a.ip()) == Some(ip) {
                // SAFETY: `ifa_name` is a NUL-terminated interface name.
                let index = unsafe { libc::if_nametoindex(ifa.ifa_name) };
                if index != 0 {
                    found = Some(index);
                    break;
                }
            }
        }
        cur = ifa.ifa_next;
    }
    // SAFETY: `list` came from getifaddrs.
    unsafe { libc::freeifaddrs(list) };
    found.ok_or_else(|| io::Error::from_raw_os_error(libc::EADDRNOTAVAIL))
}
