//! Everything platform-specific of the crate: passing descriptors with
//! `SCM_RIGHTS`, and telling what kind of socket a descriptor is.
//!
//! Linux (and Android) have all of it. On other systems every function here
//! returns an `Unsupported` error, so the public calls do too.

use std::fmt;

/// The most descriptors one `recvmsg` makes room for. A hand-off message
/// carries exactly one; room for a few more lets us see (and close) extras a
/// misbehaving peer attached, instead of the kernel silently dropping them.
pub(crate) const MAX_FDS_PER_READ: usize = 4;

/// What a descriptor is, as far as adopting it is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Not a socket at all.
    NotSocket,
    /// A socket: its family, type and whether it listens.
    Socket {
        family: Family,
        stream: bool,
        datagram: bool,
        listening: bool,
        connected: bool,
    },
}

/// The address family of a socket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    Ipv4,
    Ipv6,
    Unix,
    Other(i32),
}

impl Shape {
    /// Whether this is a TCP listener.
    pub(crate) fn is_tcp_listener(self) -> bool {
        matches!(
            self,
            Self::Socket {
                family: Family::Ipv4 | Family::Ipv6,
                stream: true,
                listening: true,
                ..
            }
        )
    }

    /// Whether this is a connected TCP socket.
    pub(crate) fn is_tcp_stream(self) -> bool {
        matches!(
            self,
            Self::Socket {
                family: Family::Ipv4 | Family::Ipv6,
                stream: true,
                listening: false,
                connected: true,
                ..
            }
        )
    }

    /// Whether this is a UDP socket.
    pub(crate) fn is_udp(self) -> bool {
        matches!(
            self,
            Self::Socket {
                family: Family::Ipv4 | Family::Ipv6,
                datagram: true,
                ..
            }
        )
    }
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Self::Socket {
            family,
            stream,
            datagram,
            listening,
            connected,
        } = *self
        else {
            return f.write_str("not a socket");
        };
        let family = match family {
            Family::Ipv4 => "ipv4".to_owned(),
            Family::Ipv6 => "ipv6".to_owned(),
            Family::Unix => "unix".to_owned(),
            Family::Other(n) => format!("family {n}"),
        };
        let inet = family.starts_with("ip");
        match (stream, datagram, inet) {
            (true, _, true) if listening => write!(f, "a listening tcp socket ({family})"),
            (true, _, true) if connected => write!(f, "a connected tcp socket ({family})"),
            (true, _, true) => write!(f, "an unconnected, non-listening tcp socket ({family})"),
            (_, true, true) => write!(f, "a udp socket ({family})"),
            (true, _, false) if listening => write!(f, "a listening {family} stream socket"),
            (true, _, false) => write!(f, "a {family} stream socket"),
            (_, true, false) => write!(f, "a {family} datagram socket"),
            _ => write!(f, "a {family} socket of another type"),
        }
    }
}

/// Takes ownership of a descriptor this process inherited through socket
/// activation: refuses one already in `taken` or not open (`not_open`), lets
/// `check` look at it, and records it in `taken` so it is handed out once.
///
/// The caller passes only numbers that `LISTEN_FDS` names for this process
/// (`LISTEN_PID`): by the activation protocol those belong to this process
/// and to no other code in it, and `taken` is the one record of the ones
/// handed out.
pub(crate) fn adopt_inherited<E>(
    fd: std::os::fd::RawFd,
    taken: &mut std::collections::HashSet<std::os::fd::RawFd>,
    not_open: impl FnOnce() -> E,
    check: impl FnOnce(std::os::fd::BorrowedFd<'_>) -> Result<(), E>,
) -> Result<std::os::fd::OwnedFd, E> {
    use std::os::fd::{BorrowedFd, FromRawFd, OwnedFd};
    // SAFETY: fcntl(F_GETFD) only asks whether the number is open.
    if taken.contains(&fd) || unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
        return Err(not_open());
    }
    // SAFETY: the descriptor is open (checked above) and stays open while
    // borrowed here: nothing in this process owns it (it is not in `taken`).
    check(unsafe { BorrowedFd::borrow_raw(fd) })?;
    taken.insert(fd);
    // SAFETY: by the socket activation protocol the descriptor belongs to
    // this process and to no other code in it; `taken` ensures it is handed
    // out once.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

pub(crate) use imp::*;

#[cfg(any(target_os = "linux", target_os = "android"))]
mod imp {
    use std::io;
    use std::mem;
    use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

    use socket2::{SockRef, Type};

    use super::{Family, Shape, MAX_FDS_PER_READ};

    /// Sends `data` on the Unix stream socket `sock`, with `fd` attached to
    /// its first byte. Returns how many bytes went (at least one when `Ok`).
    pub(crate) fn send_with_fd(
        sock: BorrowedFd<'_>,
        data: &[u8],
        fd: BorrowedFd<'_>,
    ) -> io::Result<usize> {
        let fds = [fd.as_raw_fd()];
        // SAFETY: CMSG_SPACE is a pure computation.
        let space = unsafe { libc::CMSG_SPACE(size_of_val(&fds) as u32) } as usize;
        let mut control = vec![0u8; space];
        let mut iov = libc::iovec {
            iov_base: data.as_ptr() as *mut libc::c_void,
            iov_len: data.len(),
        };
        // SAFETY: an all-zero msghdr is valid; the pointers set below outlive the call.
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: `control` has room for one cmsg header and its data
        // (CMSG_SPACE), so CMSG_FIRSTHDR is non-null and CMSG_DATA in bounds.
        unsafe {
            let cmsg = libc::CMSG_FIRSTHDR(&msg);
            (*cmsg).cmsg_level = libc::SOL_SOCKET;
            (*cmsg).cmsg_type = libc::SCM_RIGHTS;
            (*cmsg).cmsg_len = libc::CMSG_LEN(size_of_val(&fds) as u32) as _;
            std::ptr::copy_nonoverlapping(
                fds.as_ptr().cast::<u8>(),
                libc::CMSG_DATA(cmsg),
                size_of_val(&fds),
            );
        }
        // SAFETY: `msg` points at live buffers; `sock` is an open descriptor.
        let n = unsafe { libc::sendmsg(sock.as_raw_fd(), &msg, libc::MSG_NOSIGNAL) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }

    /// One `recvmsg` into `buf`: the bytes read, the descriptors that came
    /// with them (close-on-exec set atomically with `MSG_CMSG_CLOEXEC`), and
    /// whether the kernel had to drop descriptors for lack of room.
    pub(crate) fn recv_with_fds(
        sock: BorrowedFd<'_>,
        buf: &mut [u8],
    ) -> io::Result<(usize, Vec<OwnedFd>, bool)> {
        // SAFETY: CMSG_SPACE is a pure computation.
        let space =
            unsafe { libc::CMSG_SPACE((MAX_FDS_PER_READ * size_of::<libc::c_int>()) as u32) }
                as usize;
        // u64 elements keep the buffer aligned for cmsghdr.
        let mut control = vec![0u64; space.div_ceil(8)];
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr().cast(),
            iov_len: buf.len(),
        };
        // SAFETY: an all-zero msghdr is valid; the pointers set below outlive the call.
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = space as _;
        // SAFETY: `msg` points at live buffers; `sock` is an open descriptor.
        let n = unsafe { libc::recvmsg(sock.as_raw_fd(), &mut msg, libc::MSG_CMSG_CLOEXEC) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut fds = Vec::new();
        // SAFETY: the kernel filled `control` up to msg_controllen; the CMSG
        // macros stay within it, and every SCM_RIGHTS entry is a descriptor
        // the kernel just installed in this process, owned by nobody else.
        unsafe {
            let mut cmsg = libc::CMSG_FIRSTHDR(&msg);
            while !cmsg.is_null() {
                if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_RIGHTS {
                    let data = libc::CMSG_DATA(cmsg);
                    let len = (*cmsg).cmsg_len as usize - (data as usize - cmsg as usize);
                    let count = len / size_of::<libc::c_int>();
                    for i in 0..count {
                        let fd = std::ptr::read_unaligned(data.cast::<libc::c_int>().add(i));
                        fds.push(OwnedFd::from_raw_fd(fd));
                    }
                }
                cmsg = libc::CMSG_NXTHDR(&msg, cmsg);
            }
        }
        let truncated = msg.msg_flags & libc::MSG_CTRUNC != 0;
        Ok((n as usize, fds, truncated))
    }

    /// What `fd` is.
    pub(crate) fn shape(fd: BorrowedFd<'_>) -> io::Result<Shape> {
        let sock = SockRef::from(&fd);
        let ty = match sock.r#type() {
            Ok(ty) => ty,
            Err(e) if e.raw_os_error() == Some(libc::ENOTSOCK) => return Ok(Shape::NotSocket),
            Err(e) => return Err(e),
        };
        let family = match i32::from(sock.domain()?) {
            libc::AF_INET => Family::Ipv4,
            libc::AF_INET6 => Family::Ipv6,
            libc::AF_UNIX => Family::Unix,
            other => Family::Other(other),
        };
        let stream = ty == Type::STREAM;
        let listening = stream && sock.is_listener()?;
        let connected = stream && !listening && sock.peer_addr().is_ok();
        Ok(Shape::Socket {
            family,
            stream,
            datagram: ty == Type::DGRAM,
            listening,
            connected,
        })
    }

    /// Makes `fd` ready for tokio: non-blocking (tokio's `from_std` panics on
    /// blocking sockets in debug builds) and close-on-exec (so a command we
    /// spawn does not inherit it).
    pub(crate) fn prepare_for_adoption(fd: BorrowedFd<'_>) -> io::Result<()> {
        let sock = SockRef::from(&fd);
        sock.set_nonblocking(true)?;
        sock.set_cloexec(true)
    }

    /// Whether this platform can pass sockets.
    pub(crate) const SUPPORTED: bool = true;
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
mod imp {
    use std::io;
    use std::os::fd::{BorrowedFd, OwnedFd};

    use super::Shape;

    fn unsupported() -> io::Error {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "socket hand-off is not supported on this platform (only on linux)",
        )
    }

    pub(crate) fn send_with_fd(
        _: BorrowedFd<'_>,
        _: &[u8],
        _: BorrowedFd<'_>,
    ) -> io::Result<usize> {
        Err(unsupported())
    }

    pub(crate) fn recv_with_fds(
        _: BorrowedFd<'_>,
        _: &mut [u8],
    ) -> io::Result<(usize, Vec<OwnedFd>, bool)> {
        Err(unsupported())
    }

    pub(crate) fn shape(_: BorrowedFd<'_>) -> io::Result<Shape> {
        Err(unsupported())
    }

    pub(crate) fn prepare_for_adoption(_: BorrowedFd<'_>) -> io::Result<()> {
        Err(unsupported())
    }

    pub(crate) const SUPPORTED: bool = false;
}
