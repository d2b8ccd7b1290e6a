//! `StreamSocket`: a TCP connection with UWP's options, information,
//! `cancel_io` and graceful close.

use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use sock_codec::Framed;
use sock_core::{Error, HostName, Result, ServiceName};
use socket2::SockRef;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;

use crate::cancel::CancelIoHandle;
use crate::idle::{IdleKind, IdleTimeouts};
use crate::info::Meta;
use crate::io::{self as sio, DirState, ReadSide, Shared, Transport};
use crate::options::{CloseSettings, SocketOptions};
use crate::stats::TcpInfo;
use crate::StreamSocketInformation;

/// A TCP connection, as UWP's `StreamSocket`.
///
/// Make one with [`StreamSocket::connect`], or with [`StreamSocket::builder`]
/// to set options first; a [`StreamSocketListener`](crate::StreamSocketListener)
/// hands out accepted ones. It is an [`AsyncRead`] + [`AsyncWrite`] byte
/// stream; [`framed`](Self::framed) puts any tokio-util codec on it, and
/// [`split`](Self::split) / [`into_split`](Self::into_split) give its
/// [`InputStream`](crate::InputStream) and [`OutputStream`](crate::OutputStream).
///
/// A socket lives exactly as long as its owner (for an accepted socket, the task
/// that handles it), so nothing like the C++/PPL "keep the socket referenced in
/// continuations" rule applies.
///
/// # Closing
///
/// - [`close`](Self::close) is graceful: it finishes sending, tells the peer
///   (FIN), reads what the peer still sends until it closes too, then closes.
/// - [`abort`](Self::abort) resets the connection (RST) at once.
/// - Dropping the socket closes it straight away: a FIN if everything the peer
///   sent was read, otherwise the kernel sends a reset and the peer may lose
///   the last data it was sent.
///
/// # Cancellation
///
/// Dropping a read or write future never harms the connection: nothing is lost
/// and the next operation carries on. [`cancel_io`](Self::cancel_io) ends the
/// operations waiting right now (also those on split halves and in other
/// tasks, through a [`CancelIoHandle`]) with `OperationAborted`; the
/// connection stays usable.
#[derive(Debug)]
pub struct StreamSocket {
    pub(crate) transport: Transport,
    pub(crate) read: ReadSide,
    pub(crate) write: DirState,
    pub(crate) shared: Arc<Shared>,
}

impl StreamSocket {
    /// Wraps a connected tokio `TcpStream` as it is (no option is changed).
    ///
    /// # Errors
    ///
    /// When the stream's addresses cannot be read (it is not connected).
    pub fn from_tcp_stream(stream: TcpStream) -> Result<Self> {
        let peer = stream.peer_addr()?;
        let local = stream.local_addr()?;
        Ok(Self::new(
            stream,
            Some(local),
            peer,
            None,
            &SocketOptions::default(),
        ))
    }

    /// A socket that just connected: applies nothing (the options were set
    /// before connecting), records where it goes.
    pub(crate) fn connected(
        stream: TcpStream,
        peer: SocketAddr,
        host: HostName,
        service: ServiceName,
        options: &SocketOptions,
    ) -> Result<Self> {
        let local = stream.local_addr()?;
        Ok(Self::new(
            stream,
            Some(local),
            peer,
            Some((host, service)),
            options,
        ))
    }

    /// A socket the listener accepted: applies the listener's options (where
    /// accepted sockets do not inherit them from the listener).
    /// `local` is the listener's address when that is the connection's too
    /// (it listens on one address), `None` when it listens on every interface.
    pub(crate) fn accepted(
        stream: TcpStream,
        local: Option<SocketAddr>,
        peer: SocketAddr,
        options: &SocketOptions,
    ) -> io::Result<Self> {
        if !crate::sys::ACCEPTED_SOCKETS_INHERIT_OPTIONS {
            options.apply(SockRef::from(&stream), peer)?;
        }
        Ok(Self::new(stream, local, peer, None, options))
    }

    fn new(
        stream: TcpStream,
        local: Option<SocketAddr>,
        peer: SocketAddr,
        given: Option<(HostName, ServiceName)>,
        options: &SocketOptions,
    ) -> Self {
        let meta = Meta::new(local, peer, given, options);
        let mut socket = Self {
            transport: Transport::Plain(stream),
            read: ReadSide::default(),
            write: DirState::default(),
            shared: Shared::new(meta),
        };
        socket.set_idle_timeouts(options.idle);
        socket
    }

    /// Addresses, names and round-trip statistics (UWP's `Information`).
    ///
    /// The addresses are those of the connection as made; the round-trip
    /// statistics are read from the kernel at each call.
    pub fn information(&self) -> StreamSocketInformation {
        let meta = &self.shared.meta;
        let local = self.local_addr();
        let kernel = crate::sys::tcp_info(self.transport.tcp());
        StreamSocketInformation {
            local_address: HostName::from(local.ip()),
            local_port: local.port(),
            remote_address: HostName::from(meta.remote.ip()),
            remote_port: meta.remote.port(),
            remote_host_name: meta.remote_host_name(),
            remote_service_name: meta.remote_service_name(),
            round_trip_time: kernel.as_ref().map(TcpInfo::round_trip_time),
            bandwidth: kernel.as_ref().map(TcpInfo::bandwidth),
            // The kernel counts the SYN of a connection this side opened.
            bytes_sent: kernel.map_or(0, |k| {
                k.bytes_acked
                    .saturating_sub(u64::from(meta.given.is_some()))
            }),
            bytes_received: kernel.map_or(0, |k| k.bytes_received),
            segments_retransmitted: kernel.map_or(0, |k| u64::from(k.total_retrans)),
            protection_level: self.protection_level(),
            #[cfg(feature = "tls")]
            tls: self.tls_info().cloned(),
        }
    }

    /// The protection in effect: `PlainSocket`, or `Tls12` / `Tls13` for the
    /// TLS version negotiated.
    pub fn protection_level(&self) -> sock_core::ProtectionLevel {
        match &self.transport {
            Transport::Plain(_) => sock_core::ProtectionLevel::PlainSocket,
            #[cfg(feature = "tls")]
            Transport::Tls(tls) => crate::tls::level_of(tls.info()),
        }
    }

    /// The local address of the connection.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.meta.local(self.transport.tcp())
    }

    /// The peer's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.shared.meta.remote
    }

    /// The TCP stream under the socket, to read or set any option tokio offers.
    pub fn get_ref(&self) -> &TcpStream {
        self.transport.tcp()
    }

    /// Ends every read and write waiting on this socket now with
    /// [`Error::Cancelled`] (status `OperationAborted`), as UWP's
    /// `CancelIOAsync`.
    ///
    /// Operations that are not waiting are not touched, and later operations
    /// run normally: the connection stays open and no byte is lost (a read
    /// cancelled before data arrived leaves that data for the next read; a
    /// cancelled write wrote nothing of the buffer it was given). While the
    /// socket is borrowed by a pending operation, cancel through a
    /// [`CancelIoHandle`] from [`cancel_io_handle`](Self::cancel_io_handle).
    ///
    /// An operation counts as waiting from the moment it returned `Pending`
    /// until it is polled again; so if its future was dropped while waiting,
    /// the next operation in the same direction from the same task is the one
    /// that ends `Cancelled`.
    pub fn cancel_io(&self) {
        self.shared.cancel.cancel();
    }

    /// A handle that cancels this socket's waiting operations from anywhere
    /// (also after [`split`](Self::split)); see [`cancel_io`](Self::cancel_io).
    pub fn cancel_io_handle(&self) -> CancelIoHandle {
        CancelIoHandle::new(&self.shared)
    }

    /// Ends a waiting read or write with [`Error::TimedOut`] (status
    /// `ConnectionTimedOut`) once the connection has been idle, with no bytes
    /// read or written, for `timeout`; `None` waits forever. The connection
    /// itself stays open.
    ///
    /// # How idle time is counted
    ///
    /// - Traffic in either direction counts: a connection that only pushes
    ///   data (a subscription, a download) while a read waits is not idle,
    ///   and neither is one that only receives.
    /// - Idle time counts from the later of the last traffic and the moment
    ///   the waiting operation started to wait. A socket left alone (no
    ///   operation on it) for longer than the timeout is not failed for it:
    ///   its next operation gets the whole timeout.
    /// - An operation dropped while it waits (a `select!` branch that lost,
    ///   a `tokio::time::timeout`) leaves no deadline behind. An operation
    ///   started again right away (a `select!` loop) continues the same
    ///   wait; one started after the dropped one's deadline passed unseen
    ///   starts a new one.
    /// - Only traffic that reads and writes moved counts: bytes the peer sent
    ///   that nobody reads yet do not.
    ///
    /// [`set_read_idle_timeout`](Self::set_read_idle_timeout) and
    /// [`set_write_idle_timeout`](Self::set_write_idle_timeout) watch one
    /// direction only; [`idle_handle`](Self::idle_handle) tells a handler the
    /// connection went idle without failing anything (for heartbeats). This
    /// is not TCP keep-alive; see [`IdleHandle`](crate::IdleHandle).
    pub fn set_idle_timeout(&mut self, timeout: Option<Duration>) {
        self.set_idle(IdleKind::All, timeout);
    }

    /// The idle timeout in force, if any
    /// ([`set_idle_timeout`](Self::set_idle_timeout)).
    pub fn idle_timeout(&self) -> Option<Duration> {
        self.read.state.idle_timeouts().all
    }

    /// Ends a waiting read or write with [`Error::TimedOut`] once no bytes
    /// were read for `timeout` (Netty's reader-idle), whatever was written;
    /// `None` turns it off. Counted as
    /// [`set_idle_timeout`](Self::set_idle_timeout) says.
    pub fn set_read_idle_timeout(&mut self, timeout: Option<Duration>) {
        self.set_idle(IdleKind::Read, timeout);
    }

    /// The read-idle timeout in force, if any.
    pub fn read_idle_timeout(&self) -> Option<Duration> {
        self.read.state.idle_timeouts().read
    }

    /// Ends a waiting read or write with [`Error::TimedOut`] once no bytes
    /// were written for `timeout` (Netty's writer-idle), whatever was read;
    /// `None` turns it off. Counted as
    /// [`set_idle_timeout`](Self::set_idle_timeout) says.
    pub fn set_write_idle_timeout(&mut self, timeout: Option<Duration>) {
        self.set_idle(IdleKind::Write, timeout);
    }

    /// The write-idle timeout in force, if any.
    pub fn write_idle_timeout(&self) -> Option<Duration> {
        self.read.state.idle_timeouts().write
    }

    fn set_idle(&mut self, kind: IdleKind, timeout: Option<Duration>) {
        let mut timeouts = self.read.state.idle_timeouts();
        timeouts.set(kind, timeout);
        self.set_idle_timeouts(timeouts);
    }

    /// Sets every idle timeout at once, in both directions.
    pub(crate) fn set_idle_timeouts(&mut self, timeouts: IdleTimeouts) {
        self.read.state.set_idle_timeouts(timeouts);
        self.write.set_idle_timeouts(timeouts);
        if timeouts.any() {
            self.shared.activity.track();
        }
    }

    /// Writes every buffer, in order, with as few vectored writes as the
    /// kernel allows, and completes only when all of them are written: UWP's
    /// batched sends (`WriteAsync` × n, then `FlushAsync`), with one system
    /// call for many buffers.
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

    /// Puts a codec on the socket: a [`Framed`] that is a `Stream` of
    /// decoded frames and a `Sink` of frames to encode, for any tokio-util
    /// codec. Use `feed` for many frames and one `flush`, which resolves only
    /// when all were written. It holds no buffer while the connection waits
    /// with nothing buffered, and reads in chunks that grow while the peer
    /// sends faster than the program reads.
    ///
    /// [`StreamSocket::from_framed`] takes the socket back without losing the
    /// bytes the codec had read but not decoded.
    pub fn framed<C>(self, codec: C) -> Framed<Self, C> {
        Framed::new(self, codec)
    }

    /// Takes the socket back from a [`Framed`]: bytes the codec had read but
    /// not decoded come out of the socket's next reads, and bytes encoded but
    /// not yet sent are sent first.
    ///
    /// # Errors
    ///
    /// A write error while sending what the codec had buffered.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future drops the socket.
    pub async fn from_framed<C>(framed: Framed<Self, C>) -> Result<Self> {
        let parts = framed.into_parts();
        let mut socket = parts.io;
        if !parts.write_buf.is_empty() {
            socket.write_all(&parts.write_buf).await?;
        }
        if !parts.read_buf.is_empty() {
            socket.read.prefix = if socket.read.prefix.is_empty() {
                parts.read_buf.freeze()
            } else {
                let mut joined =
                    BytesMut::with_capacity(parts.read_buf.len() + socket.read.prefix.len());
                joined.extend_from_slice(&parts.read_buf);
                joined.extend_from_slice(&socket.read.prefix);
                joined.freeze()
            };
        }
        Ok(socket)
    }

    /// Closes the connection gracefully.
    ///
    /// Sends what is still buffered, shuts down the sending direction (the peer
    /// reads the end of the stream; on a TLS socket `close_notify` goes first,
    /// so the peer knows nothing was cut off), then reads and discards what the peer
    /// still sends until it closes its side too, and closes. Waiting for the
    /// peer avoids the reset that closing with unread data causes, which can
    /// make the peer lose the last data it was sent.
    ///
    /// # Errors
    ///
    /// When the peer does not close within the close timeout
    /// ([`DEFAULT_CLOSE_TIMEOUT`](crate::DEFAULT_CLOSE_TIMEOUT), `close_timeout` on the control) or sends more
    /// than the drain limit ([`DEFAULT_CLOSE_DRAIN_LIMIT`](crate::DEFAULT_CLOSE_DRAIN_LIMIT), `close_drain_limit`),
    /// the connection is reset and the error says which limit was reached
    /// ([`Error::TimedOut`] or [`Error::LimitExceeded`]). An I/O error (the
    /// peer reset the connection) is returned as is. In every case the socket
    /// is closed when this returns.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the socket, which closes it at once.
    pub async fn close(mut self) -> Result<()> {
        let CloseSettings {
            timeout,
            drain_limit,
        } = self.shared.meta.close;
        let outcome = tokio::time::timeout(timeout, self.finish(drain_limit)).await;
        let result = match outcome {
            Ok(result) => result,
            Err(_) => Err(Error::TimedOut {
                operation: "close (close_timeout)",
                after: timeout,
            }),
        };
        if result.is_err() {
            // Best effort: the socket goes away in any case.
            let _ = self.transport.tcp().set_zero_linger();
        }
        result
    }

    /// Shuts down sending, then drains the peer until its end of stream.
    async fn finish(&mut self, drain_limit: usize) -> Result<()> {
        self.shutdown().await?;
        let mut drained = 0usize;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match self.read(&mut buf).await {
                Ok(n) => n,
                // A TLS peer that closes without close_notify: what it sent
                // is being thrown away anyway.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                Err(e) => return Err(e.into()),
            };
            if n == 0 {
                return Ok(());
            }
            drained += n;
            if drained > drain_limit {
                return Err(Error::LimitExceeded {
                    limit: "close_drain_limit",
                    actual: drained as u64,
                    max: drain_limit as u64,
                });
            }
        }
    }

    /// Resets the connection at once (RST): unsent and unread data are thrown
    /// away and the peer's next read or write fails with
    /// `ConnectionResetByPeer`.
    ///
    /// # Errors
    ///
    /// When the reset cannot be asked for (the socket is closed in any case).
    pub fn abort(self) -> Result<()> {
        self.transport.tcp().set_zero_linger()?;
        Ok(())
    }
}

impl AsyncRead for StreamSocket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        sio::poll_read(
            Pin::new(&mut this.transport),
            &mut this.read,
            &this.shared,
            cx,
            buf,
        )
    }
}

impl AsyncWrite for StreamSocket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        sio::poll_write(
            Pin::new(&mut this.transport),
            &mut this.write,
            &this.shared,
            cx,
            buf,
        )
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        sio::poll_write_vectored(
            Pin::new(&mut this.transport),
            &mut this.write,
            &this.shared,
            cx,
            bufs,
        )
    }

    fn is_write_vectored(&self) -> bool {
        self.transport.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        sio::poll_flush(
            Pin::new(&mut this.transport),
            &mut this.write,
            &this.shared,
            cx,
        )
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        sio::poll_shutdown(
            Pin::new(&mut this.transport),
            &mut this.write,
            &this.shared,
            cx,
        )
    }
}
