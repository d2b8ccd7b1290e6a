//! Sharing a port among listeners (`SO_REUSEPORT`), and steering new
//! connections away from one of them while it drains (Linux: a classic BPF
//! program attached to the group with `SO_ATTACH_REUSEPORT_CBPF`).
//!
//! The kernel keeps a port's listeners in an array, in the order they bound;
//! when one closes, the last takes its place. A program attached to any of
//! them picks, for each new connection, an index into that array; an index
//! past the end falls back to the kernel's own hash.

use std::io;
#[cfg(not(target_os = "linux"))]
use std::os::fd::BorrowedFd;

use socket2::Socket;

/// Lets other listeners bind the same port (`SO_REUSEPORT`); the kernel
/// spreads new connections among them.
pub(crate) fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    return socket.set_reuse_port(true);
    #[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))]
    {
        let _ = socket;
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "listeners sharing a port (SO_REUSEPORT) are not supported on this platform",
        ))
    }
}

#[cfg(target_os = "linux")]
mod steer {
    use std::io;
    use std::os::fd::{AsRawFd, BorrowedFd};

    // Classic BPF opcodes (`linux/filter.h`), class | operation | source.
    /// `BPF_LD | BPF_W | BPF_ABS`.
    const LD_W_ABS: u16 = 0x20;
    /// `BPF_ALU | BPF_MOD | BPF_K`.
    const ALU_MOD_K: u16 = 0x04 | 0x90;
    /// `BPF_ALU | BPF_ADD | BPF_K`.
    const ALU_ADD_K: u16 = 0x04;
    /// `BPF_JMP | BPF_JGE | BPF_K`.
    const JMP_JGE_K: u16 = 0x05 | 0x30;
    /// `BPF_RET | BPF_A`.
    const RET_A: u16 = 0x06 | 0x10;
    /// `SKF_AD_OFF + SKF_AD_RXHASH`: the packet's flow hash.
    const RXHASH: u32 = (-0x1000_i32 + 32) as u32;
    /// `SO_DETACH_REUSEPORT_BPF` (Linux 5.14).
    const SO_DETACH_REUSEPORT_BPF: libc::c_int = 68;

    const fn op(code: u16, k: u32) -> libc::sock_filter {
        libc::sock_filter {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    fn attach(fd: BorrowedFd<'_>, program: &[libc::sock_filter]) -> io::Result<()> {
        let fprog = libc::sock_fprog {
            len: program.len() as u16,
            filter: program.as_ptr().cast_mut(),
        };
        // SAFETY: `fprog` points at `program`, which outlives the call; the
        // kernel copies the program.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_ATTACH_REUSEPORT_CBPF,
                std::ptr::addr_of!(fprog).cast(),
                size_of::<libc::sock_fprog>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Sends new connections to the group's listeners other than the one at
    /// `avoid` (of `live`), spread by flow hash.
    pub(crate) fn steer_away(fd: BorrowedFd<'_>, live: usize, avoid: usize) -> io::Result<()> {
        let others = u32::try_from(live.saturating_sub(1)).unwrap_or(u32::MAX);
        let avoid = u32::try_from(avoid).unwrap_or(u32::MAX);
        if others == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "no other listener to send connections to",
            ));
        }
        attach(
            fd,
            &[
                op(LD_W_ABS, RXHASH),
                op(ALU_MOD_K, others),
                libc::sock_filter {
                    code: JMP_JGE_K,
                    jt: 0,
                    jf: 1,
                    k: avoid,
                },
                op(ALU_ADD_K, 1),
                op(RET_A, 0),
            ],
        )
    }

    /// Spreads new connections over all `live` listeners again: the
    /// kernel's own hash where the program can be removed, else a program
    /// spreading by flow hash.
    pub(crate) fn rebalance(fd: BorrowedFd<'_>, live: usize) -> io::Result<()> {
        let unused: libc::c_int = 0;
        // SAFETY: the option takes (and ignores) an int, which `unused` is.
        let rc = unsafe {
            libc::setsockopt(
                fd.as_raw_fd(),
                libc::SOL_SOCKET,
                SO_DETACH_REUSEPORT_BPF,
                std::ptr::addr_of!(unused).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        let err = io::Error::last_os_error();
        if rc == 0 || err.raw_os_error() == Some(libc::ENOENT) {
            return Ok(());
        }
        let live = u32::try_from(live.max(1)).unwrap_or(u32::MAX);
        attach(
            fd,
            &[op(LD_W_ABS, RXHASH), op(ALU_MOD_K, live), op(RET_A, 0)],
        )
    }
}

#[cfg(target_os = "linux")]
pub(crate) use steer::{rebalance, steer_away};

/// Steering connections among listeners: not available on this platform.
#[cfg(not(target_os = "linux"))]
pub(crate) fn steer_away(_fd: BorrowedFd<'_>, _live: usize, _avoid: usize) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "draining one of several listeners on a port needs Linux",
    ))
}

/// Spreading connections among listeners again: nothing to undo here.
#[cfg(not(target_os = "linux"))]
pub(crate) fn rebalance(_fd: BorrowedFd<'_>, _live: usize) -> io::Result<()> {
    Ok(())
}
