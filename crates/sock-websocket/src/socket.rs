//! `MessageWebSocket`: a WebSocket that sends and receives messages, as a
//! `Stream` and a `Sink`, on either end of the connection.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use sock_tcp::{StreamSocket, StreamSocketInformation};

use crate::engine::Engine;
use crate::{
    CloseCode, CloseFrame, Message, MessageType, MessageWebSocketInformation, Result,
    WebSocketError,
};

/// A WebSocket for messages (UWP's `MessageWebSocket`, and on a server its
/// `ServerMessageWebSocket`).
///
/// Connect with [`MessageWebSocket::connect`] or through
/// [`MessageWebSocket::builder`]; a server gets one from
/// [`ServerWebSocketControl`](crate::ServerWebSocketControl).
///
/// - **Receive**: it is a `Stream` of [`Message`]s (or
///   [`recv`](Self::recv)); pings are answered and the peer's close frame
///   echoed while it is read. The stream ends (`None`) after the closing
///   handshake; [`close_frame`](Self::close_frame) then tells the peer's
///   code and reason (UWP's `Closed` event, also as the
///   [`closed`](Self::closed) future).
/// - **Send**: it is a `Sink` of [`Message`]s (or [`send`](Self::send));
///   `feed` many and `flush` once to send them with few system calls.
///   Messages may be sent in parts ([`Message::part`]).
/// - **Close**: [`close`](Self::close) runs the closing handshake with a
///   code and reason. Dropping the WebSocket closes the connection at once,
///   without one.
///
/// Reading and writing at the same time from two tasks: split it with
/// `futures::StreamExt::split`.
#[derive(Debug)]
pub struct MessageWebSocket {
    engine: Engine,
    info: MessageWebSocketInformation,
    message_type: MessageType,
}

impl MessageWebSocket {
    pub(crate) fn new(
        engine: Engine,
        info: MessageWebSocketInformation,
        message_type: MessageType,
    ) -> Self {
        Self {
            engine,
            info,
            message_type,
        }
    }

    /// What the handshake settled (the subprotocol) and the addresses (UWP's
    /// `Information`).
    pub fn information(&self) -> &MessageWebSocketInformation {
        &self.info
    }

    /// The connection's own information: round-trip times, and over TLS
    /// the version, the server's certificate and its errors.
    pub fn socket_information(&self) -> StreamSocketInformation {
        self.engine.socket().information()
    }

    /// The connection under the WebSocket.
    pub fn get_ref(&self) -> &StreamSocket {
        self.engine.socket()
    }

    /// The type [`send_data`](Self::send_data) gives its messages (the
    /// control's `message_type`).
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// The next message, or `None` after the closing handshake; the same as
    /// the `Stream`'s `next`.
    ///
    /// # Errors
    ///
    /// A [`WebSocketError`] when the peer broke the protocol (the connection
    /// was failed with the error's close code), a limit was crossed, or the
    /// connection failed or ended without a closing handshake.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a message is only taken out when it is returned.
    pub async fn recv(&mut self) -> Option<Result<Message>> {
        poll_fn(|cx| self.engine.poll_next(cx)).await
    }

    /// Sends one message and waits until it is written.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::Closed`] once a close frame was sent or received;
    /// a write error.
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped after the message was queued, it is sent
    /// with the next send or flush.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<()> {
        let message = message.into();
        poll_fn(|cx| self.engine.poll_ready(cx)).await?;
        self.engine.start_send(message)?;
        poll_fn(|cx| self.engine.poll_flush(cx)).await
    }

    /// Sends `data` as one message of the control's
    /// [`message_type`](Self::message_type) (UWP's `OutputStream` writes).
    ///
    /// # Errors
    ///
    /// As [`send`](Self::send); with `Utf8`, data that is not UTF-8 is an
    /// [`WebSocketError::InvalidArgument`].
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Self::send).
    pub async fn send_data(&mut self, data: impl Into<Bytes>) -> Result<()> {
        let data = data.into();
        if self.message_type == MessageType::Utf8 && std::str::from_utf8(&data).is_err() {
            return Err(WebSocketError::invalid_argument(
                "message",
                "data sent as Utf8 is not valid utf-8",
            ));
        }
        self.send(Message::part(self.message_type, data, true))
            .await
    }

    /// Sets the backpressure watermarks (Netty's `WriteBufferWaterMark`):
    /// once `high` bytes of messages wait unsent, the WebSocket is not
    /// [writable](Self::is_writable), and the next `send`, `feed` or
    /// [`writable`](Self::writable) writes until fewer than `low` wait.
    /// Defaults: 64 KiB and 32 KiB (sock-codec's `DEFAULT_HIGH_WATERMARK` and
    /// `DEFAULT_LOW_WATERMARK`, as `FrameWriter`).
    ///
    /// This is the `Sink`'s `poll_ready`: a producer that `feed`s without
    /// flushing holds at most the high watermark plus one message.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::InvalidArgument`] naming `watermarks` when `low` is
    /// above `high`; the watermarks in force do not change.
    pub fn set_watermarks(&mut self, low: usize, high: usize) -> Result<()> {
        self.engine.set_watermarks(low, high)
    }

    /// Whether a message may be queued without going over the high
    /// watermark (Netty's `Channel.isWritable`). Once the high watermark is
    /// reached it stays `false` until fewer than the low watermark's bytes
    /// wait.
    pub fn is_writable(&self) -> bool {
        self.engine.is_writable()
    }

    /// Bytes of messages queued and not yet written (the browser
    /// WebSocket's `bufferedAmount`), frame headers included.
    pub fn buffered_amount(&self) -> usize {
        self.engine.buffered_amount()
    }

    /// Writes until the WebSocket is [writable](Self::is_writable) again: at
    /// once if it is.
    ///
    /// # Errors
    ///
    /// A write error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: messages not yet written stay queued, in order.
    pub async fn writable(&mut self) -> Result<()> {
        poll_fn(|cx| self.engine.poll_writable(cx)).await
    }

    /// Runs the closing handshake (UWP's `Close(code, reason)`): sends a
    /// close frame, drops the messages still arriving until the peer's close
    /// frame, then closes the connection; gives the peer's code and reason.
    ///
    /// Within the close timeout (`close_timeout`, 5 s by default); a peer
    /// that does not answer in time has its connection reset.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::InvalidArgument`] for a code that may not be sent
    /// (1000–1003, 1007–1014 and 3000–4999 may) or a reason longer than 123
    /// bytes; [`WebSocketError::TimedOut`] past the close timeout; the
    /// error that ended the connection if it failed meanwhile.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the WebSocket, which closes the connection
    /// at once.
    pub async fn close(self, code: impl Into<CloseCode>, reason: &str) -> Result<CloseFrame> {
        self.engine.close(CloseFrame::new(code, reason)).await
    }

    /// How the WebSocket closed, once it has: the peer's close frame after a
    /// closing handshake, 1006 (`ABNORMAL`) when the connection ended
    /// without one, or the code we failed the connection with.
    pub fn close_frame(&self) -> Option<CloseFrame> {
        self.engine.close_frame()
    }

    /// A future that resolves when the WebSocket closes, with what
    /// [`close_frame`](Self::close_frame) gives (UWP's `Closed` event). It
    /// owns what it needs: spawn it or keep it while the WebSocket is read.
    /// The close is noticed by reading, so something must read.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only watches.
    pub fn closed(&self) -> impl Future<Output = CloseFrame> + Send + 'static {
        self.engine.closed()
    }
}

impl Stream for MessageWebSocket {
    type Item = Result<Message>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().engine.poll_next(cx)
    }
}

impl Sink<Message> for MessageWebSocket {
    type Error = WebSocketError;

    fn poll_ready(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().engine.poll_ready(cx)
    }

    fn start_send(self: Pin<&mut Self>, message: Message) -> Result<()> {
        self.get_mut().engine.start_send(message)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().engine.poll_flush(cx)
    }

    /// Sends a close frame with code 1000 and writes it; the peer's answer
    /// ends the `Stream`. For the whole handshake use
    /// [`MessageWebSocket::close`].
    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.get_mut().engine.poll_shutdown(cx)
    }
}
