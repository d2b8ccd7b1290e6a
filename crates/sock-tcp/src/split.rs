//! `InputStream` and `OutputStream`: the two directions of a `StreamSocket`,
//! borrowed (`split`) or owned (`into_split`).

use std::error::Error as StdError;
use std::fmt;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use sock_core::{Error, Result};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::tcp;

use crate::idle_handle::IdleHandle;
use crate::io::{self as sio, DirState, ReadSide, Shared, Transport};
use crate::{CancelIoHandle, StreamSocket};

/// State a half either borrows from its socket or owns.
#[derive(Debug)]
enum Slot<'a, T> {
    Borrowed(&'a mut T),
    Owned(T),
}

impl<T> Deref for Slot<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        match self {
            Self::Borrowed(t) => t,
            Self::Owned(t) => t,
        }
    }
}

impl<T> DerefMut for Slot<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        match self {
            Self::Borrowed(t) => t,
            Self::Owned(t) => t,
        }
    }
}

impl<T: Default> Slot<'_, T> {
    fn into_owned(self) -> T {
        match self {
            Self::Borrowed(t) => std::mem::take(t),
            Self::Owned(t) => t,
        }
    }
}

#[derive(Debug)]
enum ReadIo<'a> {
    Plain(tcp::ReadHalf<'a>),
    PlainOwned(tcp::OwnedReadHalf),
    #[cfg(feature = "tls")]
    Tls(tokio::io::ReadHalf<&'a mut crate::io::TlsIo>),
    #[cfg(feature = "tls")]
    TlsOwned(tokio::io::ReadHalf<Box<crate::io::TlsIo>>),
}

#[derive(Debug)]
enum WriteIo<'a> {
    Plain(tcp::WriteHalf<'a>),
    PlainOwned(tcp::OwnedWriteHalf),
    #[cfg(feature = "tls")]
    Tls(tokio::io::WriteHalf<&'a mut crate::io::TlsIo>),
    #[cfg(feature = "tls")]
    TlsOwned(tokio::io::WriteHalf<Box<crate::io::TlsIo>>),
}

/// The receiving direction of a [`StreamSocket`] (UWP's `InputStream`): an
/// [`AsyncRead`].
///
/// `InputStream<'_>` borrows its socket ([`StreamSocket::split`]);
/// `InputStream<'static>` owns its half ([`StreamSocket::into_split`]) and can
/// [`reunite`](Self::reunite) with its `OutputStream`. Reads honour the
/// socket's [`cancel_io`](StreamSocket::cancel_io) and idle timeout.
#[derive(Debug)]
pub struct InputStream<'a> {
    io: ReadIo<'a>,
    side: Slot<'a, ReadSide>,
    shared: Arc<Shared>,
}

/// The sending direction of a [`StreamSocket`] (UWP's `OutputStream`): an
/// [`AsyncWrite`] with batched sends ([`write_batch`](Self::write_batch)).
///
/// `OutputStream<'_>` borrows its socket ([`StreamSocket::split`]);
/// `OutputStream<'static>` owns its half ([`StreamSocket::into_split`]).
/// `shutdown()` (from `AsyncWriteExt`) half-closes the connection: the peer
/// reads the end of the stream while this side can still read. Dropping an
/// owned `OutputStream` does the same.
#[derive(Debug)]
pub struct OutputStream<'a> {
    io: WriteIo<'a>,
    state: Slot<'a, DirState>,
    shared: Arc<Shared>,
}

impl<'a> InputStream<'a> {
    pub(crate) fn borrowed_plain(
        half: tcp::ReadHalf<'a>,
        side: &'a mut ReadSide,
        shared: &Arc<Shared>,
    ) -> Self {
        Self {
            io: ReadIo::Plain(half),
            side: Slot::Borrowed(side),
            shared: Arc::clone(shared),
        }
    }

    pub(crate) fn owned_plain(
        half: tcp::OwnedReadHalf,
        side: ReadSide,
        shared: Arc<Shared>,
    ) -> InputStream<'static> {
        InputStream {
            io: ReadIo::PlainOwned(half),
            side: Slot::Owned(side),
            shared,
        }
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> SocketAddr {
        local_addr(&self.shared, self.tcp())
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.shared.meta.remote
    }

    /// Cancels the waiting operations of the whole socket (both directions);
    /// see [`StreamSocket::cancel_io`].
    pub fn cancel_io(&self) {
        self.shared.cancel.cancel();
    }

    /// A handle that cancels the socket's waiting operations from anywhere.
    pub fn cancel_io_handle(&self) -> CancelIoHandle {
        CancelIoHandle::new(&self.shared)
    }

    /// Sets the idle timeout of reads on this half: a waiting read fails
    /// once no bytes moved in either direction (on either half) for
    /// `timeout`; see [`StreamSocket::set_idle_timeout`].
    pub fn set_idle_timeout(&mut self, timeout: Option<Duration>) {
        let mut timeouts = self.side.state.idle_timeouts();
        timeouts.all = timeout;
        self.side.state.set_idle_timeouts(timeouts);
        if timeout.is_some() {
            self.shared.activity.track();
        }
    }

    /// A handle that tells when the connection goes idle; see
    /// [`StreamSocket::idle_handle`].
    pub fn idle_handle(&self) -> IdleHandle {
        IdleHandle::new(&self.shared)
    }
}

/// The local address from the TCP stream, or, for TLS halves (which cannot
/// reach it), as recorded when the socket was split.
fn local_addr(shared: &Shared, tcp: Option<&tokio::net::TcpStream>) -> SocketAddr {
    match tcp {
        Some(tcp) => shared.meta.local(tcp),
        #[cfg(feature = "tls")]
        None => shared
            .meta
            .local_known()
            .expect("the local address is recorded before a tls socket is split"),
        #[cfg(not(feature = "tls"))]
        None => unreachable!("plain halves reach their stream"),
    }
}

impl InputStream<'_> {
    fn tcp(&self) -> Option<&tokio::net::TcpStream> {
        match &self.io {
            ReadIo::Plain(r) => Some(r.as_ref()),
            ReadIo::PlainOwned(r) => Some(r.as_ref()),
            #[cfg(feature = "tls")]
            ReadIo::Tls(_) | ReadIo::TlsOwned(_) => None,
        }
    }
}

#[cfg(feature = "tls")]
impl<'a> InputStream<'a> {
    pub(crate) fn borrowed_tls(
        half: tokio::io::ReadHalf<&'a mut crate::io::TlsIo>,
        side: &'a mut ReadSide,
        shared: &Arc<Shared>,
    ) -> Self {
        Self {
            io: ReadIo::Tls(half),
            side: Slot::Borrowed(side),
            shared: Arc::clone(shared),
        }
    }

    pub(crate) fn owned_tls(
        half: tokio::io::ReadHalf<Box<crate::io::TlsIo>>,
        side: ReadSide,
        shared: Arc<Shared>,
    ) -> InputStream<'static> {
        InputStream {
            io: ReadIo::TlsOwned(half),
            side: Slot::Owned(side),
            shared,
        }
    }
}

#[cfg(feature = "tls")]
impl<'a> OutputStream<'a> {
    pub(crate) fn borrowed_tls(
        half: tokio::io::WriteHalf<&'a mut crate::io::TlsIo>,
        state: &'a mut DirState,
        shared: &Arc<Shared>,
    ) -> Self {
        Self {
            io: WriteIo::Tls(half),
            state: Slot::Borrowed(state),
            shared: Arc::clone(shared),
        }
    }

    pub(crate) fn owned_tls(
        half: tokio::io::WriteHalf<Box<crate::io::TlsIo>>,
        state: DirState,
        shared: Arc<Shared>,
    ) -> OutputStream<'static> {
        OutputStream {
            io: WriteIo::TlsOwned(half),
            state: Slot::Owned(state),
            shared,
        }
    }
}

impl InputStream<'static> {
    /// Puts the socket back together from the two halves of one
    /// [`into_split`](StreamSocket::into_split).
    ///
    /// # Errors
    ///
    /// [`ReuniteError`], holding both halves, when they come from different sockets.
    pub fn reunite(self, output: OutputStream<'static>) -> Result<StreamSocket, ReuniteError> {
        if !Arc::ptr_eq(&self.shared, &output.shared) {
            return Err(ReuniteError(Box::new((self, output))));
        }
        match (self.io, output.io) {
            (ReadIo::PlainOwned(r), WriteIo::PlainOwned(w)) => {
                let stream = r
                    .reunite(w)
                    .expect("halves sharing one socket state come from the same stream");
                Ok(StreamSocket {
                    transport: Transport::Plain(stream),
                    read: self.side.into_owned(),
                    write: output.state.into_owned(),
                    shared: self.shared,
                })
            }
            #[cfg(feature = "tls")]
            (ReadIo::TlsOwned(r), WriteIo::TlsOwned(w)) => Ok(StreamSocket {
                transport: Transport::Tls(r.unsplit(w)),
                read: self.side.into_owned(),
                write: output.state.into_owned(),
                shared: self.shared,
            }),
            _ => unreachable!("'static halves are owned halves"),
        }
    }
}

impl<'a> OutputStream<'a> {
    pub(crate) fn borrowed_plain(
        half: tcp::WriteHalf<'a>,
        state: &'a mut DirState,
        shared: &Arc<Shared>,
    ) -> Self {
        Self {
            io: WriteIo::Plain(half),
            state: Slot::Borrowed(state),
            shared: Arc::clone(shared),
        }
    }

    pub(crate) fn owned_plain(
        half: tcp::OwnedWriteHalf,
        state: DirState,
        shared: Arc<Shared>,
    ) -> OutputStream<'static> {
        OutputStream {
            io: WriteIo::PlainOwned(half),
            state: Slot::Owned(state),
            shared,
        }
    }

    /// Writes every buffer, in order, with as few vectored writes as the
    /// kernel allows, and completes only when all of them are written; see
    /// [`StreamSocket::write_batch`].
    ///
    /// # Errors
    ///
    /// The first write error; some of the buffers may have been sent by then.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped, an unknown prefix of the
    /// batch has been sent.
    pub async fn write_batch(&mut self, bufs: &[Bytes]) -> Result<()> {
        sio::write_batch(self, bufs).await.map_err(Error::from)
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> SocketAddr {
        local_addr(&self.shared, self.tcp())
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.shared.meta.remote
    }

    /// Cancels the waiting operations of the whole socket (both directions);
    /// see [`StreamSocket::cancel_io`].
    pub fn cancel_io(&self) {
        self.shared.cancel.cancel();
    }

    /// A handle that cancels the socket's waiting operations from anywhere.
    pub fn cancel_io_handle(&self) -> CancelIoHandle {
        CancelIoHandle::new(&self.shared)
    }

    /// Sets the idle timeout of writes on this half: a waiting write fails
    /// once no bytes moved in either direction (on either half) for
    /// `timeout`; see [`StreamSocket::set_idle_timeout`].
    pub fn set_idle_timeout(&mut self, timeout: Option<Duration>) {
        let mut timeouts = self.state.idle_timeouts();
        timeouts.all = timeout;
        self.state.set_idle_timeouts(timeouts);
        if timeout.is_some() {
            self.shared.activity.track();
        }
    }

    /// A handle that tells when the connection goes idle; see
    /// [`StreamSocket::idle_handle`].
    pub fn idle_handle(&self) -> IdleHandle {
        IdleHandle::new(&self.shared)
    }
}

impl OutputStream<'_> {
    fn tcp(&self) -> Option<&tokio::net::TcpStream> {
        match &self.io {
            WriteIo::Plain(w) => Some(w.as_ref()),
            WriteIo::PlainOwned(w) => Some(w.as_ref()),
            #[cfg(feature = "tls")]
            WriteIo::Tls(_) | WriteIo::TlsOwned(_) => None,
        }
    }
}

impl OutputStream<'static> {
    /// Puts the socket back together; see [`InputStream::reunite`].
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] when the halves come from different sockets.
    pub fn reunite(self, input: InputStream<'static>) -> Result<StreamSocket, ReuniteError> {
        input.reunite(self)
    }
}

impl AsyncRead for InputStream<'_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let shared = &*this.shared;
        match &mut this.io {
            ReadIo::Plain(r) => sio::poll_read(Pin::new(r), &mut this.side, shared, cx, buf),
            ReadIo::PlainOwned(r) => sio::poll_read(Pin::new(r), &mut this.side, shared, cx, buf),
            #[cfg(feature = "tls")]
            ReadIo::Tls(r) => sio::poll_read(Pin::new(r), &mut this.side, shared, cx, buf),
            #[cfg(feature = "tls")]
            ReadIo::TlsOwned(r) => sio::poll_read(Pin::new(r), &mut this.side, shared, cx, buf),
        }
    }
}

/// Runs `$body` with `$io` bound to the pinned write half, `$state` to the
/// direction state and `$shared` to what the socket's halves share.
macro_rules! with_write_half {
    ($this:expr, |$io:ident, $state:ident, $shared:ident| $body:expr) => {{
        let this = $this;
        let $state = &mut *this.state;
        let $shared = &*this.shared;
        match &mut this.io {
            WriteIo::Plain(w) => {
                let $io = Pin::new(w);
                $body
            }
            WriteIo::PlainOwned(w) => {
                let $io = Pin::new(w);
                $body
            }
            #[cfg(feature = "tls")]
            WriteIo::Tls(w) => {
                let $io = Pin::new(w);
                $body
            }
            #[cfg(feature = "tls")]
            WriteIo::TlsOwned(w) => {
                let $io = Pin::new(w);
                $body
            }
        }
    }};
}

impl AsyncWrite for OutputStream<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        with_write_half!(self.get_mut(), |io, state, shared| sio::poll_write(
            io, state, shared, cx, buf
        ))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        with_write_half!(self.get_mut(), |io, state, shared| {
            sio::poll_write_vectored(io, state, shared, cx, bufs)
        })
    }

    fn is_write_vectored(&self) -> bool {
        match &self.io {
            WriteIo::Plain(w) => w.is_write_vectored(),
            WriteIo::PlainOwned(w) => w.is_write_vectored(),
            #[cfg(feature = "tls")]
            WriteIo::Tls(w) => w.is_write_vectored(),
            #[cfg(feature = "tls")]
            WriteIo::TlsOwned(w) => w.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with_write_half!(self.get_mut(), |io, state, shared| sio::poll_flush(
            io, state, shared, cx
        ))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        with_write_half!(self.get_mut(), |io, state, shared| sio::poll_shutdown(
            io, state, shared, cx
        ))
    }
}

/// The halves given to [`InputStream::reunite`] came from different sockets;
/// [`into_halves`](Self::into_halves) gives them back.
pub struct ReuniteError(Box<(InputStream<'static>, OutputStream<'static>)>);

impl ReuniteError {
    /// The two halves, as they were given.
    pub fn into_halves(self) -> (InputStream<'static>, OutputStream<'static>) {
        *self.0
    }
}

impl fmt::Debug for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReuniteError").finish_non_exhaustive()
    }
}

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves of different sockets")
    }
}

impl StdError for ReuniteError {}

impl StreamSocket {
    /// Borrows the socket as an [`InputStream`] and an [`OutputStream`] that
    /// can be used at the same time (for example one in each branch of a
    /// `select!`).
    pub fn split(&mut self) -> (InputStream<'_>, OutputStream<'_>) {
        let Self {
            transport,
            read,
            write,
            shared,
        } = self;
        match transport {
            Transport::Plain(stream) => {
                let (r, w) = stream.split();
                (
                    InputStream::borrowed_plain(r, read, shared),
                    OutputStream::borrowed_plain(w, write, shared),
                )
            }
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => {
                shared.meta.local(tls.get_ref().get_ref());
                let (r, w) = tokio::io::split(&mut **tls);
                (
                    InputStream::borrowed_tls(r, read, shared),
                    OutputStream::borrowed_tls(w, write, shared),
                )
            }
        }
    }

    /// Splits the socket into an owned [`InputStream`] and [`OutputStream`],
    /// which can move to different tasks; [`InputStream::reunite`] puts them
    /// back together.
    ///
    /// Dropping the owned `OutputStream` shuts down the sending direction
    /// (the peer sees the end of the stream), as tokio's owned write half does.
    pub fn into_split(self) -> (InputStream<'static>, OutputStream<'static>) {
        let Self {
            transport,
            read,
            write,
            shared,
        } = self;
        match transport {
            Transport::Plain(stream) => {
                let (r, w) = stream.into_split();
                (
                    InputStream::owned_plain(r, read, Arc::clone(&shared)),
                    OutputStream::owned_plain(w, write, shared),
                )
            }
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => {
                shared.meta.local(tls.get_ref().get_ref());
                let (r, w) = tokio::io::split(tls);
                (
                    InputStream::owned_tls(r, read, Arc::clone(&shared)),
                    OutputStream::owned_tls(w, write, shared),
                )
            }
        }
    }
}
