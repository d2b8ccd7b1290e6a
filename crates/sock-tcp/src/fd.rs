//! The descriptors of sockets and listeners (`AsFd`, `AsRawFd`), for
//! options sock does not cover (through socket2's `SockRef`).

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use crate::{StreamSocket, StreamSocketListener};

impl AsFd for StreamSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl AsRawFd for StreamSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}

impl AsFd for StreamSocketListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }
}

impl AsRawFd for StreamSocketListener {
    fn as_raw_fd(&self) -> RawFd {
        self.get_ref().as_raw_fd()
    }
}
