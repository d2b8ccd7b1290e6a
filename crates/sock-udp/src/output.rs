//! `DatagramOutputStream`: bytes written up to a flush go out as one datagram.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::AsyncWrite;

use sock_core::{Error, HostName, Result, ServiceName};

use crate::resolve::{max_payload, too_long};
use crate::socket::lock;
use crate::DatagramSocket;

/// An output stream fixed to one destination, where every `flush` sends what
/// was written since the last one as **one datagram** (UWP's
/// `GetOutputStreamAsync` stream). A `DataWriter`'s `store` writes its buffer
/// and flushes, so each `store` is one datagram.
///
/// A write that would make the datagram larger than UDP allows (65,507 bytes
/// over IPv4, 65,527 over IPv6) fails with `MessageTooLong` (limit
/// `max_datagram_size`) and adds nothing: datagrams are never split. A flush
/// with nothing written sends nothing. If a send fails, the datagram is
/// dropped and the flush returns the error.
///
/// ```
/// use sock_core::HostName;
/// use sock_udp::DatagramSocket;
/// use tokio::io::AsyncWriteExt;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// let server = DatagramSocket::bind_service_name("").await?;
/// let port = server.information().local_port;
///
/// let client = DatagramSocket::bind_service_name("").await?;
/// let mut out = client.output_stream(&HostName::new("localhost")?, port).await?;
/// out.write_all(b"Hello, ").await?;
/// out.write_all(b"World!").await?;
/// out.flush().await?; // one datagram
/// assert_eq!(&server.recv().await?.data[..], b"Hello, World!");
/// # Ok(()) }
/// ```
pub struct DatagramOutputStream<'a> {
    socket: &'a DatagramSocket,
    dest: SocketAddr,
    wire: SocketAddr,
    buf: Vec<u8>,
    max: usize,
}

impl<'a> DatagramOutputStream<'a> {
    pub(crate) fn new(socket: &'a DatagramSocket, dest: SocketAddr, wire: SocketAddr) -> Self {
        Self {
            socket,
            dest,
            wire,
            buf: Vec::new(),
            max: max_payload(&dest),
        }
    }

    /// The destination.
    pub fn remote_addr(&self) -> SocketAddr {
        self.dest
    }

    /// The bytes written and not yet sent.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// The socket it sends through.
    pub fn get_ref(&self) -> &'a DatagramSocket {
        self.socket
    }
}

impl fmt::Debug for DatagramOutputStream<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramOutputStream")
            .field("dest", &self.dest)
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl AsyncWrite for DatagramOutputStream<'_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let total = this.buf.len() + data.len();
        if total > this.max {
            return Poll::Ready(Err(too_long(total, this.max).into()));
        }
        this.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.buf.is_empty() {
            return Poll::Ready(Ok(()));
        }
        let res = std::task::ready!(this.socket.get_ref().poll_send_to(cx, &this.buf, this.wire));
        this.buf.clear();
        Poll::Ready(res.map(drop))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl DatagramSocket {
    /// A stream whose writes collect into one datagram to `host` at
    /// `service`, sent on each `flush` (UWP's `GetOutputStreamAsync`; a
    /// `DataWriter`'s `store` sends one datagram). Keep one per peer:
    /// the name is looked up once, here.
    ///
    /// # Errors
    ///
    /// A bad service or failed lookup, or an address family the socket
    /// cannot reach; [`Error::Unsupported`] for a destination that is not a
    /// multicast group on a
    /// [`multicast_only`](crate::DatagramSocketControl::multicast_only) socket.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only resolves the destination; nothing is sent.
    pub async fn output_stream<S>(
        &self,
        host: &HostName,
        service: S,
    ) -> Result<DatagramOutputStream<'_>>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        let addr = self.resolve(host, service).await?;
        self.output_stream_to(addr)
    }

    /// As [`output_stream`](Self::output_stream), to an address.
    ///
    /// # Errors
    ///
    /// An address family the socket cannot reach; a unicast destination on
    /// a [`multicast_only`](crate::DatagramSocketControl::multicast_only) socket.
    pub fn output_stream_to(&self, addr: SocketAddr) -> Result<DatagramOutputStream<'_>> {
        self.check_destination(addr)?;
        let wire = self.family.to_wire(addr)?;
        *lock(&self.last_remote) = Some(addr);
        Ok(DatagramOutputStream::new(self, addr, wire))
    }
}
