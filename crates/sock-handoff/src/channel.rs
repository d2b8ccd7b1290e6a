//! [`HandoffChannel`]: one end of a Unix stream socket that carries sockets
//! (with their ids and contexts) to another process.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;

use sock_core::Error;
use tokio::io::{AsyncWriteExt, Interest};
use tokio::net::UnixStream;

use crate::info::check_shape;
use crate::sys::{self, MAX_FDS_PER_READ};
use crate::wire::{self, Header, Op, HEADER_LEN};
use crate::{
    SocketActivityInformation, SocketActivityKind, SocketSettings, DEFAULT_MAX_CONTEXT_LEN,
    MAX_CONTEXT_LEN,
};

/// A message read from a channel.
#[derive(Debug)]
pub(crate) enum Message {
    Socket(SocketActivityInformation),
    Request,
    End,
}

/// One end of a hand-off connection: sends sockets to, and receives sockets
/// from, the process at the other end of a Unix stream socket.
///
/// Each socket travels as one message (its id, kind and context; see the
/// crate docs for the wire format) with the descriptor attached by
/// `SCM_RIGHTS`. The receiving side checks every length against its limits
/// before allocating, expects exactly one descriptor per socket message,
/// receives descriptors close-on-exec (`MSG_CMSG_CLOEXEC`), and checks that
/// the descriptor is the kind of socket the message says.
///
/// Everything is non-blocking, on tokio's `UnixStream`: no call blocks a
/// runtime thread.
///
/// ```no_run
/// use sock_handoff::HandoffChannel;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// let mut channel = HandoffChannel::connect("/run/myapp/handoff.sock").await?;
/// while let Some(info) = channel.recv().await? {
///     println!("got {} {:?} ({} context bytes)", info.kind, info.id, info.context.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct HandoffChannel {
    stream: UnixStream,
    max_context_len: usize,
}

impl HandoffChannel {
    /// Connects to a Unix socket at `path` (a peer process, or a
    /// [`SocketBroker`](crate::SocketBroker)).
    ///
    /// # Errors
    ///
    /// When nobody listens at `path`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn connect(path: impl AsRef<Path>) -> Result<Self, Error> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|e| Error::handoff("connect", e))?;
        Ok(Self::from_unix_stream(stream))
    }

    /// Uses a connected tokio `UnixStream`.
    pub fn from_unix_stream(stream: UnixStream) -> Self {
        Self {
            stream,
            max_context_len: DEFAULT_MAX_CONTEXT_LEN,
        }
    }

    /// Two connected ends, for example to hand one to a child process.
    ///
    /// # Errors
    ///
    /// When the socket pair cannot be made.
    pub fn pair() -> Result<(Self, Self), Error> {
        let (a, b) = UnixStream::pair()?;
        Ok((Self::from_unix_stream(a), Self::from_unix_stream(b)))
    }

    /// Sets the longest context this end sends or accepts (default
    /// [`DEFAULT_MAX_CONTEXT_LEN`], at most [`MAX_CONTEXT_LEN`]; larger values
    /// are lowered to it).
    pub fn set_max_context_len(&mut self, bytes: usize) {
        self.max_context_len = bytes.min(MAX_CONTEXT_LEN);
    }

    /// The longest context this end sends or accepts.
    pub fn max_context_len(&self) -> usize {
        self.max_context_len
    }

    /// The Unix stream underneath.
    pub fn get_ref(&self) -> &UnixStream {
        &self.stream
    }

    /// The Unix stream underneath.
    pub fn into_inner(self) -> UnixStream {
        self.stream
    }

    /// Sends `socket` as a socket of `kind`, with its `id` and `context`
    /// and default [`SocketSettings`] (none set); see
    /// [`send_with`](Self::send_with) to send others.
    ///
    /// The socket stays open in this process too; close it (drop its owner)
    /// once this returns, which is what the `transfer_ownership` methods of
    /// sock-tcp and sock-udp do.
    ///
    /// # Errors
    ///
    /// [`Error::LimitExceeded`] when `id` is longer than
    /// [`MAX_ID_LEN`](crate::MAX_ID_LEN) (`max_id_len`) or `context` longer
    /// than [`max_context_len`](Self::max_context_len) (`max_context_len`);
    /// a clear error when `socket` is not a socket of `kind`; an I/O error
    /// when the peer has gone.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped, part of the message may
    /// have been sent and the channel is unusable (the peer drops the
    /// partial message and closes its copy of the descriptor).
    pub async fn send(
        &mut self,
        kind: SocketActivityKind,
        id: &str,
        context: &[u8],
        socket: BorrowedFd<'_>,
    ) -> Result<(), Error> {
        self.send_with(kind, SocketSettings::default(), id, context, socket)
            .await
    }

    /// Sends `socket` as [`send`](Self::send) does, with the control
    /// `settings` that live outside the kernel (such as a datagram socket's
    /// `multicast_only`); the receiver finds them in
    /// [`SocketActivityInformation::settings`]. sock-udp's
    /// `transfer_ownership` calls this with the socket's own settings.
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send); also `Unsupported` when `settings` has
    /// `multicast_only` and `kind` is not
    /// [`SocketActivityKind::DatagramSocket`].
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Self::send).
    pub async fn send_with(
        &mut self,
        kind: SocketActivityKind,
        settings: SocketSettings,
        id: &str,
        context: &[u8],
        socket: BorrowedFd<'_>,
    ) -> Result<(), Error> {
        wire::check_outgoing(kind, settings, id, context, self.max_context_len)?;
        check_shape(socket, &format!("socket {id:?}"), kind)?;
        let message = wire::encode(Op::Socket, kind, settings, id, context);
        let sent = self
            .stream
            .async_io(Interest::WRITABLE, || {
                sys::send_with_fd(self.stream.as_fd(), &message, socket)
            })
            .await
            .map_err(|e| Error::handoff("send", e))?;
        self.stream
            .write_all(&message[sent..])
            .await
            .map_err(|e| Error::handoff("send", e))?;
        crate::log::sent(kind, id);
        Ok(())
    }

    /// Sends a socket that was received earlier, as it came (its settings
    /// included).
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send).
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Self::send).
    pub async fn send_info(&mut self, info: &SocketActivityInformation) -> Result<(), Error> {
        self.send_with(
            info.kind,
            info.settings,
            &info.id,
            &info.context,
            info.socket.as_fd(),
        )
        .await
    }

    /// Receives the next socket; `None` when the peer closed the connection
    /// between messages.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidData`] or [`Error::LimitExceeded`] for a message that
    /// breaks the format or the limits (and a message that is not a socket),
    /// [`Error::UnexpectedEof`] when the peer closed in the middle of one,
    /// and an `InvalidInput` I/O error when the descriptor is not the kind of
    /// socket the message says. Descriptors that came with a bad message are
    /// closed. After an error, drop the channel.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: dropping the future in the middle of a message loses
    /// it (and closes its descriptor).
    pub async fn recv(&mut self) -> Result<Option<SocketActivityInformation>, Error> {
        match self.recv_message().await? {
            None => Ok(None),
            Some(Message::Socket(info)) => {
                crate::log::received(info.kind, &info.id);
                Ok(Some(info))
            }
            Some(other) => Err(Error::invalid_data(format!(
                "expected a socket, the peer sent a {other:?} message"
            ))),
        }
    }

    /// Asks the peer (a [`SocketBroker`](crate::SocketBroker)) for every
    /// socket it holds, and receives them (UWP's
    /// `SocketActivityInformation.AllSockets`). The peer no longer holds them.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv); also when the peer closes before saying it
    /// sent them all. Sockets received before an error are closed.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: sockets received so far are closed.
    pub async fn all_sockets(&mut self) -> Result<Vec<SocketActivityInformation>, Error> {
        self.send_plain(Op::Request).await?;
        let mut all = Vec::new();
        loop {
            match self.recv_message().await? {
                Some(Message::Socket(info)) => all.push(info),
                Some(Message::End) => return Ok(all),
                Some(Message::Request) => {
                    return Err(Error::invalid_data(
                        "expected sockets, the peer sent a request",
                    ))
                }
                None => {
                    return Err(Error::UnexpectedEof {
                        context: "before the peer sent every socket it holds".to_owned(),
                    })
                }
            }
        }
    }

    /// Closes the sending direction and waits until the peer has read
    /// everything sent and closed its end: after this, a
    /// [`SocketBroker`](crate::SocketBroker) holds every socket sent on this
    /// channel. Whatever the peer still sends is discarded (descriptors
    /// included, which closes them).
    ///
    /// # Errors
    ///
    /// [`Error::Handoff`] at step `wait for the peer` when the peer closed
    /// without reading everything sent (the connection was reset: the
    /// sockets in the unread messages were destroyed), or on any other
    /// error of the connection.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe (the channel is gone either way).
    pub async fn finish(mut self) -> Result<(), Error> {
        const STEP: &str = "wait for the peer";
        self.stream
            .shutdown()
            .await
            .map_err(|e| Error::handoff(STEP, e))?;
        let mut buf = [0u8; 1024];
        let mut fds = Vec::new();
        loop {
            match self.read_some(&mut buf, &mut fds).await {
                Ok(0) => return Ok(()),
                Ok(_) => fds.clear(),
                // A reset: the peer closed with messages it never read.
                Err(e) => return Err(Error::handoff(STEP, e)),
            }
        }
    }

    /// Sends a message without a socket.
    pub(crate) async fn send_plain(&mut self, op: Op) -> Result<(), Error> {
        let message = wire::encode(
            op,
            SocketActivityKind::None,
            SocketSettings::default(),
            "",
            b"",
        );
        self.stream.write_all(&message).await?;
        Ok(())
    }

    /// Reads one message; `None` at a clean end of stream.
    pub(crate) async fn recv_message(&mut self) -> Result<Option<Message>, Error> {
        let mut fds = Vec::new();
        let mut header = [0u8; HEADER_LEN];
        let mut filled = 0;
        while filled < HEADER_LEN {
            let n = self
                .read_some(&mut header[filled..], &mut fds)
                .await
                .map_err(receive_step)?;
            if n == 0 {
                if filled == 0 && fds.is_empty() {
                    return Ok(None);
                }
                return Err(eof(format!(
                    "in a hand-off message header ({filled} of {HEADER_LEN} bytes)"
                )));
            }
            filled += n;
        }
        let h = wire::decode_header(&header, self.max_context_len)?;
        let mut body = vec![0u8; h.id_len + h.context_len];
        let mut filled = 0;
        while filled < body.len() {
            let before = fds.len();
            let n = self
                .read_some(&mut body[filled..], &mut fds)
                .await
                .map_err(receive_step)?;
            if n == 0 {
                return Err(eof(format!(
                    "in a hand-off message body ({filled} of {} bytes)",
                    body.len()
                )));
            }
            if fds.len() != before {
                return Err(Error::invalid_data(
                    "a file descriptor came in the middle of a hand-off message",
                ));
            }
            filled += n;
        }
        finish(h, body, fds).map(Some)
    }

    /// One `recvmsg`, keeping the descriptors that came with it.
    async fn read_some(&self, buf: &mut [u8], fds: &mut Vec<OwnedFd>) -> Result<usize, Error> {
        let (n, got, truncated) = self
            .stream
            .async_io(Interest::READABLE, || {
                sys::recv_with_fds(self.stream.as_fd(), buf)
            })
            .await?;
        fds.extend(got);
        if truncated {
            return Err(Error::invalid_data(format!(
                "the peer sent more than {MAX_FDS_PER_READ} file descriptors at once (expected one)"
            )));
        }
        Ok(n)
    }
}

/// An I/O error while receiving is the `receive` step's; a broken message
/// keeps its own error.
fn receive_step(e: Error) -> Error {
    match e {
        Error::Io(e) => Error::handoff("receive", e),
        other => other,
    }
}

fn eof(context: String) -> Error {
    Error::UnexpectedEof { context }
}

/// Checks the descriptors against the header and makes the message.
fn finish(h: Header, body: Vec<u8>, mut fds: Vec<OwnedFd>) -> Result<Message, Error> {
    match h.op {
        Op::Request | Op::End if !fds.is_empty() => Err(Error::invalid_data(format!(
            "hand-off {:?} message came with {} file descriptors (expected none)",
            h.op,
            fds.len()
        ))),
        Op::Request => Ok(Message::Request),
        Op::End => Ok(Message::End),
        Op::Socket => {
            let count = fds.len();
            let (Some(socket), true) = (fds.pop(), count == 1) else {
                return Err(Error::invalid_data(format!(
                    "hand-off socket message came with {count} file descriptors (expected exactly one)"
                )));
            };
            let mut body = body;
            let context = body.split_off(h.id_len);
            let id = String::from_utf8(body)
                .map_err(|_| Error::invalid_data("hand-off socket id is not utf-8"))?;
            check_shape(
                socket.as_fd(),
                &format!("handed-over socket {id:?}"),
                h.kind,
            )?;
            Ok(Message::Socket(SocketActivityInformation {
                id,
                kind: h.kind,
                context,
                settings: h.settings,
                socket,
            }))
        }
    }
}
