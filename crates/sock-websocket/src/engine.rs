//! The protocol engine under both WebSocket types: turns frames into
//! messages (joining fragments, checking text as it arrives), answers pings
//! and closes, sends keep-alive pongs, and runs the closing handshake
//! (RFC 6455 sections 5 to 7).

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use sock_codec::{FrameMemoryBudget, FrameMemoryCharge, ReadSize};
use sock_codec::{DEFAULT_HIGH_WATERMARK, DEFAULT_LOW_WATERMARK};
use sock_tcp::StreamSocket;
use tokio::sync::watch;
use tokio::time::{Instant, Sleep};

use crate::close::{CloseParseError, MAX_CLOSE_REASON_LEN};
use crate::decoder::{budget_error, Frame, FrameDecoder, Limits};
#[cfg(feature = "deflate")]
use crate::deflate::codec::{into_bytes, InflateLimit, PerMessageDeflate};
use crate::frame::{OpCode, Role};
use crate::outbox::Outbox;
use crate::utf8::Utf8Validator;
use crate::{CloseCode, CloseFrame, Message, MessageType, ReceiveMode, Result, WebSocketError};
#[cfg(feature = "deflate")]
use crate::{DeflateConfig, DeflateParameters};

/// The most one read asks for when no frame in progress needs more (a large
/// frame's room is the decoder's): a burst of small messages comes in with
/// one read, and an idle connection keeps little.
const MAX_READ: usize = 32 * 1024;

/// The largest read buffer an idle connection keeps; one grown past it by a
/// large message is given back when the connection waits with nothing
/// buffered.
const KEEP_IDLE: usize = 64 * 1024;

/// Past this many bytes of replies (pongs) waiting because the peer does not
/// read, reading stops until they are written: a peer cannot grow our
/// memory by sending pings it never collects the answers to.
const MAX_PENDING_REPLIES: usize = 256 * 1024;

/// The settings an engine runs with.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) receive_mode: ReceiveMode,
    pub(crate) max_message_size: usize,
    pub(crate) max_frame_size: usize,
    pub(crate) close_timeout: Duration,
    pub(crate) pong_interval: Option<Duration>,
    pub(crate) message_timeout: Option<Duration>,
    pub(crate) memory_budget: FrameMemoryBudget,
    /// What permessage-deflate the handshake agreed, with this end's
    /// settings.
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<(DeflateConfig, DeflateParameters)>,
}

/// Where the connection stands.
#[derive(Debug)]
enum State {
    /// Messages flow both ways.
    Open,
    /// Our close frame is queued or sent; the peer's is awaited and its
    /// messages are dropped.
    CloseSent,
    /// The connection is being failed: our close frame goes out, then the
    /// error is reported.
    Failing(Option<WebSocketError>),
    /// The closing handshake is over, or the connection failed.
    Done,
}

/// A message being received.
#[derive(Debug)]
struct Incoming {
    message_type: MessageType,
    utf8: Utf8Validator,
    /// The fragments so far (full-message mode).
    joined: BytesMut,
    /// RSV1 was set on its first frame: its frames are inflated.
    compressed: bool,
    /// What its frames inflated to so far (full-message mode).
    #[cfg(feature = "deflate")]
    inflated: Vec<u8>,
}

/// The protocol engine over one connection.
#[derive(Debug)]
pub(crate) struct Engine {
    io: StreamSocket,
    read_buf: BytesMut,
    /// How much the next read asks for: more while reads come back full, so
    /// a burst of small messages comes in with one read.
    read_size: ReadSize,
    read_eof: bool,
    decoder: FrameDecoder,
    outbox: Outbox,
    receive_mode: ReceiveMode,
    close_timeout: Duration,
    state: State,
    incoming: Option<Incoming>,
    /// The fragments joined so far, charged to the shared budget.
    joined_charge: FrameMemoryCharge,
    /// The type of the message being sent in parts.
    sending: Option<MessageType>,
    /// Backpressure: past `high` bytes unsent, a send first writes down to
    /// `low` (`throttled` meanwhile).
    high_watermark: usize,
    low_watermark: usize,
    throttled: bool,
    closed: watch::Sender<Option<CloseFrame>>,
    keepalive: Option<(Duration, Pin<Box<Sleep>>)>,
    /// The compressor and decompressor, when permessage-deflate was agreed.
    #[cfg(feature = "deflate")]
    deflate: Option<PerMessageDeflate>,
    /// How far one compressed message (or part) may inflate.
    #[cfg(feature = "deflate")]
    inflate_limit: InflateLimit,
}

impl Engine {
    /// An engine over `io`, after the opening handshake; `read_buf` holds
    /// the bytes read past the handshake.
    pub(crate) fn new(
        io: StreamSocket,
        role: Role,
        read_buf: BytesMut,
        settings: Settings,
    ) -> Self {
        let limits = Limits {
            max_frame_size: settings.max_frame_size,
            max_message_size: match settings.receive_mode {
                ReceiveMode::FullMessage => Some(settings.max_message_size),
                ReceiveMode::PartialMessage => None,
            },
            message_timeout: settings.message_timeout,
        };
        #[allow(unused_mut)]
        let mut decoder = FrameDecoder::new(
            role,
            limits,
            FrameMemoryCharge::new(settings.memory_budget.clone()),
        );
        #[cfg(feature = "deflate")]
        let deflate = settings
            .deflate
            .as_ref()
            .map(|(config, agreed)| PerMessageDeflate::new(role, config, agreed));
        #[cfg(feature = "deflate")]
        if deflate.is_some() {
            decoder = decoder.allow_rsv1();
        }
        Self {
            io,
            read_buf,
            read_size: {
                let mut size = ReadSize::new();
                size.set_max(MAX_READ);
                size
            },
            read_eof: false,
            decoder,
            outbox: Outbox::new(role),
            receive_mode: settings.receive_mode,
            close_timeout: settings.close_timeout,
            state: State::Open,
            incoming: None,
            joined_charge: FrameMemoryCharge::new(settings.memory_budget),
            sending: None,
            high_watermark: DEFAULT_HIGH_WATERMARK,
            low_watermark: DEFAULT_LOW_WATERMARK,
            throttled: false,
            closed: watch::Sender::new(None),
            keepalive: settings
                .pong_interval
                .map(|every| (every, Box::pin(tokio::time::sleep(every)))),
            #[cfg(feature = "deflate")]
            deflate,
            // A part is a frame: in partial mode its inflated bytes are
            // bounded as a frame's.
            #[cfg(feature = "deflate")]
            inflate_limit: match settings.receive_mode {
                ReceiveMode::FullMessage => InflateLimit {
                    name: "max_message_size",
                    max: settings.max_message_size,
                },
                ReceiveMode::PartialMessage => InflateLimit {
                    name: "max_frame_size",
                    max: settings.max_frame_size,
                },
            },
        }
    }

    /// The connection under the WebSocket.
    pub(crate) fn socket(&self) -> &StreamSocket {
        &self.io
    }

    /// How the connection closed, once it has.
    pub(crate) fn close_frame(&self) -> Option<CloseFrame> {
        self.closed.borrow().clone()
    }

    /// A future that resolves with how the connection closed.
    pub(crate) fn closed(&self) -> impl Future<Output = CloseFrame> + Send + 'static {
        let mut rx = self.closed.subscribe();
        async move {
            match rx.wait_for(Option::is_some).await {
                Ok(frame) => frame.clone().unwrap_or_else(abnormal),
                Err(_) => abnormal(),
            }
        }
    }

    /// Whether messages may still be sent.
    pub(crate) fn is_open(&self) -> bool {
        matches!(self.state, State::Open)
    }

    // ===== receiving =====

    /// The next message, or `None` once the connection has closed.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Message>>> {
        loop {
            match &mut self.state {
                State::Failing(err) => {
                    // One try to send our close frame: a peer that does not
                    // read cannot hold the error back.
                    let err = err.take().unwrap_or(WebSocketError::Closed);
                    self.state = State::Done;
                    if self.outbox.queued() > 0 {
                        let _ = self.outbox.poll_flush(&mut self.io, cx);
                    }
                    return Poll::Ready(Some(Err(err)));
                }
                State::Done => {
                    if self.outbox.queued() > 0 {
                        // The echo of the peer's close.
                        let _ = ready!(self.outbox.poll_flush(&mut self.io, cx));
                    }
                    return Poll::Ready(None);
                }
                State::Open | State::CloseSent => {}
            }
            self.poll_keepalive(cx);
            if self.outbox.queued() > 0 {
                match self.outbox.poll_flush(&mut self.io, cx) {
                    Poll::Ready(Err(e)) => {
                        self.fail(WebSocketError::from(e));
                        continue;
                    }
                    Poll::Pending if self.outbox.queued() >= MAX_PENDING_REPLIES => {
                        return Poll::Pending
                    }
                    _ => {}
                }
            }
            match self.decoder.decode(&mut self.read_buf) {
                Err(e) => self.fail(e),
                Ok(Some(frame)) => {
                    if let Some(item) = self.on_frame(frame) {
                        return Poll::Ready(Some(Ok(item)));
                    }
                }
                Ok(None) if self.read_eof => {
                    self.finish(abnormal());
                    return Poll::Ready(Some(Err(WebSocketError::AbnormalClosure)));
                }
                Ok(None) => {
                    let read =
                        self.read_size
                            .poll_read(Pin::new(&mut self.io), cx, &mut self.read_buf);
                    let Poll::Ready(read) = read else {
                        if self.read_buf.is_empty() && self.read_buf.capacity() > KEEP_IDLE {
                            // Waiting with nothing buffered: a buffer grown
                            // by a large message is given back. (One of
                            // burst size is kept: making it again for each
                            // burst costs more than the burst.)
                            self.read_buf = BytesMut::new();
                        }
                        return Poll::Pending;
                    };
                    match read {
                        Ok(0) => self.read_eof = true,
                        Ok(_) => {}
                        Err(e) => {
                            self.finish(abnormal());
                            return Poll::Ready(Some(Err(e.into())));
                        }
                    }
                }
            }
        }
    }

    /// Handles one frame; a message when it completes one (or is a part,
    /// in partial mode).
    fn on_frame(&mut self, frame: Frame) -> Option<Message> {
        match frame.opcode {
            OpCode::Ping => {
                if self.is_open() {
                    self.outbox.push(true, OpCode::Pong, &frame.payload);
                }
                None
            }
            OpCode::Pong => None,
            OpCode::Close => {
                match CloseFrame::parse(&frame.payload) {
                    Ok(close) => {
                        if self.is_open() {
                            // Echo the code (section 5.5.1); 1005 echoes an empty close.
                            self.outbox.push(true, OpCode::Close, &close.payload());
                        }
                        self.finish(close);
                    }
                    Err(e) => self.fail(close_error(e)),
                }
                None
            }
            OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                if !self.is_open() {
                    // After our close frame, messages are dropped (section 1.4).
                    return None;
                }
                match self.on_data(frame) {
                    Ok(message) => message,
                    Err(e) => {
                        self.fail(e);
                        None
                    }
                }
            }
        }
    }

    fn on_data(&mut self, frame: Frame) -> Result<Option<Message>> {
        if frame.fin && !frame.rsv1 && frame.opcode != OpCode::Continuation {
            // A whole message in one frame, the common case: no state to keep.
            let message_type = if frame.opcode == OpCode::Text {
                if std::str::from_utf8(&frame.payload).is_err() {
                    return Err(invalid_text());
                }
                MessageType::Utf8
            } else {
                MessageType::Binary
            };
            return Ok(Some(Message::received(message_type, frame.payload, true)));
        }
        let message_type = match frame.opcode {
            OpCode::Text => MessageType::Utf8,
            OpCode::Binary => MessageType::Binary,
            // The decoder let a continuation through, so a message is open.
            _ => self
                .incoming
                .as_ref()
                .map_or(MessageType::Binary, |i| i.message_type),
        };
        if frame.opcode != OpCode::Continuation {
            self.incoming = Some(Incoming {
                message_type,
                utf8: Utf8Validator::default(),
                joined: BytesMut::new(),
                compressed: frame.rsv1,
                #[cfg(feature = "deflate")]
                inflated: Vec::new(),
            });
        }
        let Some(incoming) = self.incoming.as_mut() else {
            return Err(WebSocketError::protocol(
                CloseCode::PROTOCOL_ERROR,
                "continuation frame with no message to continue (rfc 6455 5.4)",
            ));
        };
        if incoming.compressed {
            return self.on_compressed(frame, message_type);
        }
        if message_type == MessageType::Utf8 {
            check_text(&mut incoming.utf8, &frame.payload, frame.fin)?;
        }
        let message = match self.receive_mode {
            ReceiveMode::PartialMessage => {
                Some(Message::received(message_type, frame.payload, frame.fin))
            }
            ReceiveMode::FullMessage if frame.fin && incoming.joined.is_empty() => {
                Some(Message::received(message_type, frame.payload, true))
            }
            ReceiveMode::FullMessage => {
                incoming.joined.extend_from_slice(&frame.payload);
                if !frame.fin {
                    self.joined_charge
                        .hold(incoming.joined.capacity())
                        .map_err(budget_error)?;
                }
                frame.fin.then(|| {
                    let data = std::mem::take(&mut incoming.joined).freeze();
                    Message::received(message_type, data, true)
                })
            }
        };
        if frame.fin {
            self.incoming = None;
            self.joined_charge.release();
        }
        Ok(message)
    }

    /// Handles a frame of a compressed message (RFC 7692 section 6.2): its
    /// payload inflated, in bounded steps charged to the memory budget,
    /// the inflated text checked as it comes.
    #[cfg(feature = "deflate")]
    fn on_compressed(
        &mut self,
        frame: Frame,
        message_type: MessageType,
    ) -> Result<Option<Message>> {
        let (Some(incoming), Some(deflate)) = (self.incoming.as_mut(), self.deflate.as_mut())
        else {
            return Err(rsv1_unexpected());
        };
        let partial = self.receive_mode == ReceiveMode::PartialMessage;
        let mut part = Vec::new();
        let out = if partial {
            &mut part
        } else {
            &mut incoming.inflated
        };
        let before = out.len();
        let charge = &mut self.joined_charge;
        deflate.inflater.inflate(
            &frame.payload,
            frame.fin,
            out,
            self.inflate_limit,
            &mut |size| charge.hold(size).map_err(budget_error),
        )?;
        if message_type == MessageType::Utf8 {
            check_text(&mut incoming.utf8, &out[before..], frame.fin)?;
        }
        let message = if partial {
            self.joined_charge.release();
            Some(Message::received(message_type, into_bytes(part), frame.fin))
        } else {
            frame.fin.then(|| {
                let data = into_bytes(std::mem::take(&mut incoming.inflated));
                Message::received(message_type, data, true)
            })
        };
        if frame.fin {
            self.incoming = None;
            self.joined_charge.release();
        }
        Ok(message)
    }

    /// Without the `deflate` feature the decoder refuses RSV1: no message
    /// is compressed.
    #[cfg(not(feature = "deflate"))]
    fn on_compressed(&mut self, _: Frame, _: MessageType) -> Result<Option<Message>> {
        Err(rsv1_unexpected())
    }

    /// Fails the connection (section 7.1.7): our close frame with the
    /// error's code goes out, then the error is reported.
    fn fail(&mut self, err: WebSocketError) {
        let code = err.close_code();
        if let (Some(code), true) = (code, self.is_open()) {
            self.outbox
                .push(true, OpCode::Close, &CloseFrame::new(code, "").payload());
        }
        self.notify(CloseFrame::new(code.unwrap_or(CloseCode::ABNORMAL), ""));
        self.state = State::Failing(Some(err));
    }

    /// The connection is over: `how` is what `closed()` reports.
    fn finish(&mut self, how: CloseFrame) {
        self.notify(how);
        self.state = State::Done;
    }

    fn notify(&self, how: CloseFrame) {
        self.closed.send_if_modified(|slot| {
            if slot.is_none() {
                *slot = Some(how);
                true
            } else {
                false
            }
        });
    }

    // ===== sending =====

    /// Ready to take a message: once the high watermark is reached, writes
    /// down to the low one first.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if !self.is_open() {
            return Poll::Ready(Err(WebSocketError::Closed));
        }
        self.poll_writable(cx)
    }

    /// Writes down to the low watermark when the high one was reached.
    pub(crate) fn poll_writable(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if self.outbox.queued() >= self.high_watermark {
            self.throttled = true;
        }
        if self.throttled {
            self.poll_keepalive(cx);
            ready!(self.outbox.poll_write_below(
                &mut self.io,
                cx,
                self.low_watermark.saturating_sub(1)
            ))?;
            self.throttled = false;
        }
        Poll::Ready(Ok(()))
    }

    /// Whether a message may be queued without going over the high
    /// watermark; once it is reached, `false` until less than the low one
    /// waits.
    pub(crate) fn is_writable(&self) -> bool {
        !self.throttled && self.outbox.queued() < self.high_watermark
    }

    /// Bytes of frames queued and not yet written.
    pub(crate) fn buffered_amount(&self) -> usize {
        self.outbox.queued()
    }

    /// Sets the watermarks.
    pub(crate) fn set_watermarks(&mut self, low: usize, high: usize) -> Result<()> {
        if low > high {
            return Err(WebSocketError::invalid_argument(
                "watermarks",
                format!("the low watermark ({low} bytes) is above the high one ({high} bytes)"),
            ));
        }
        self.high_watermark = high;
        self.low_watermark = low;
        Ok(())
    }

    /// Queues a message (or a part of one).
    pub(crate) fn start_send(&mut self, message: Message) -> Result<()> {
        if !self.is_open() {
            return Err(WebSocketError::Closed);
        }
        let message_type = message.message_type();
        let opcode = match self.sending {
            None => match message_type {
                MessageType::Utf8 => OpCode::Text,
                MessageType::Binary => OpCode::Binary,
            },
            Some(open) if open == message_type => OpCode::Continuation,
            Some(open) => {
                return Err(WebSocketError::invalid_argument(
                    "message part",
                    format!("a {message_type:?} part while a {open:?} message is being sent"),
                ))
            }
        };
        let complete = message.is_complete();
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &mut self.deflate {
            // A whole message is compressed when that is worth it; a
            // message in parts always is, RSV1 on its first part (RFC 7692
            // section 6.1).
            let first = opcode != OpCode::Continuation;
            let compressed = if first && complete {
                deflate.deflater.compress_message(message.data())?
            } else {
                Some(deflate.deflater.compress_part(message.data(), complete)?)
            };
            if let Some(payload) = compressed {
                self.outbox
                    .push_compressed(complete, first, opcode, &payload);
                self.sending = (!complete).then_some(message_type);
                return Ok(());
            }
        }
        self.outbox.push(complete, opcode, message.data());
        self.sending = (!complete).then_some(message_type);
        Ok(())
    }

    /// Writes what is queued.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        self.poll_keepalive(cx);
        self.outbox
            .poll_flush(&mut self.io, cx)
            .map_err(WebSocketError::from)
    }

    /// Queues our close frame, once.
    pub(crate) fn start_close(&mut self, frame: &CloseFrame) -> Result<()> {
        check_close(frame)?;
        if self.is_open() {
            self.outbox.push(true, OpCode::Close, &frame.payload());
            self.state = State::CloseSent;
        }
        Ok(())
    }

    /// Sends a pong now, unasked (UWP's `WebSocketKeepAlive`).
    fn poll_keepalive(&mut self, cx: &mut Context<'_>) {
        let open = self.is_open();
        if let Some((every, sleep)) = &mut self.keepalive {
            while sleep.as_mut().poll(cx).is_ready() {
                if open {
                    self.outbox.push(true, OpCode::Pong, &Bytes::new());
                }
                sleep.as_mut().reset(Instant::now() + *every);
            }
        }
    }

    // ===== closing =====

    /// The closing handshake (section 7.1.2): our close frame, then the
    /// peer's messages are dropped until its close frame; then the TCP
    /// connection closes. All within the close timeout.
    pub(crate) async fn close(mut self, frame: CloseFrame) -> Result<CloseFrame> {
        check_close(&frame)?;
        let timeout = self.close_timeout;
        let deadline = Instant::now() + timeout;
        let handshake = tokio::time::timeout_at(deadline, async {
            self.start_close(&frame)?;
            poll_fn(|cx| self.poll_flush(cx)).await?;
            while let Some(item) = poll_fn(|cx| self.poll_next(cx)).await {
                item?;
            }
            Ok::<_, WebSocketError>(())
        })
        .await;
        let peer = self.close_frame().unwrap_or_else(abnormal);
        match handshake {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                let _ = self.io.abort();
                return Err(e);
            }
            Err(_) => {
                let _ = self.io.abort();
                return Err(WebSocketError::TimedOut {
                    operation: "closing handshake (close_timeout)",
                    after: timeout,
                });
            }
        }
        match tokio::time::timeout_at(deadline, self.io.close()).await {
            Ok(Ok(())) => Ok(peer),
            Ok(Err(e)) => Err(e.into()),
            // The socket was dropped with the future: closed at once.
            Err(_) => Err(WebSocketError::TimedOut {
                operation: "closing handshake (close_timeout)",
                after: timeout,
            }),
        }
    }

    /// Starts the closing handshake with code 1000 and sends the close
    /// frame (a `Sink`'s close, an `AsyncWrite`'s shutdown); the peer's
    /// answer is read by the next reads.
    pub(crate) fn poll_shutdown(&mut self, cx: &mut Context<'_>) -> Poll<Result<()>> {
        if self.is_open() {
            self.start_close(&CloseFrame::new(CloseCode::NORMAL, ""))?;
        }
        self.poll_flush(cx)
    }
}

/// Checks the next piece of a text message (RFC 6455 section 8.1): it
/// fails as soon as the text cannot be UTF-8.
fn check_text(utf8: &mut Utf8Validator, data: &[u8], fin: bool) -> Result<()> {
    let checked = utf8
        .feed(data)
        .and_then(|()| if fin { utf8.finish() } else { Ok(()) });
    checked.map_err(|_| invalid_text())
}

fn invalid_text() -> WebSocketError {
    WebSocketError::protocol(
        CloseCode::INVALID_PAYLOAD,
        "text message is not valid utf-8 (rfc 6455 8.1)",
    )
}

fn rsv1_unexpected() -> WebSocketError {
    WebSocketError::protocol(
        CloseCode::PROTOCOL_ERROR,
        "reserved bits 0b100 set with no extension negotiated (rfc 6455 5.2)",
    )
}

/// How a connection that ended without a closing handshake is reported.
fn abnormal() -> CloseFrame {
    CloseFrame::new(CloseCode::ABNORMAL, "")
}

fn close_error(e: CloseParseError) -> WebSocketError {
    match e {
        CloseParseError::OneByte => WebSocketError::protocol(
            CloseCode::PROTOCOL_ERROR,
            "close frame with a one-byte payload (rfc 6455 5.5.1)",
        ),
        CloseParseError::Code(code) => WebSocketError::protocol(
            CloseCode::PROTOCOL_ERROR,
            format!("close frame with code {code}, which may not be sent (rfc 6455 7.4)"),
        ),
        CloseParseError::Reason => WebSocketError::protocol(
            CloseCode::INVALID_PAYLOAD,
            "close reason is not valid utf-8 (rfc 6455 5.5.1)",
        ),
    }
}

/// Checks a close frame we are about to send.
fn check_close(frame: &CloseFrame) -> Result<()> {
    if !frame.code.is_sendable() {
        return Err(WebSocketError::invalid_argument(
            "close code",
            format!(
                "{} may not be sent (1000-1003, 1007-1014, 3000-4999)",
                frame.code
            ),
        ));
    }
    if frame.reason.len() > MAX_CLOSE_REASON_LEN {
        return Err(WebSocketError::invalid_argument(
            "close reason",
            format!(
                "{} bytes is more than the {MAX_CLOSE_REASON_LEN} a close frame holds",
                frame.reason.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use sock_core::HostName;
    use sock_tcp::StreamSocketListener;
    use tokio::io::AsyncWriteExt;

    use super::*;
    use crate::decoder::tests::frame;

    fn settings() -> Settings {
        Settings {
            receive_mode: ReceiveMode::FullMessage,
            max_message_size: 1 << 20,
            max_frame_size: 1 << 20,
            close_timeout: Duration::from_secs(5),
            pong_interval: None,
            message_timeout: None,
            memory_budget: FrameMemoryBudget::new(1 << 30),
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }

    /// `count` masked binary frames of `len` bytes of 7s.
    fn masked_frames(count: usize, len: usize) -> BytesMut {
        frame(true, OpCode::Binary, &vec![7u8; len]).repeat(count)[..].into()
    }

    #[tokio::test]
    async fn an_idle_connection_keeps_a_small_read_buffer_and_gives_a_large_one_back() {
        let lo = HostName::new("127.0.0.1").unwrap();
        let listener = StreamSocketListener::bind_endpoint(Some(&lo), 0)
            .await
            .unwrap();
        let port = listener.information().local_port;
        let (client, server) = tokio::join!(StreamSocket::connect(&lo, port), listener.accept());
        let (mut client, server) = (client.unwrap(), server.unwrap());
        let mut engine = Engine::new(server, Role::Server, BytesMut::new(), settings());
        let idle = async |engine: &mut Engine| {
            let waited = poll_fn(|cx| Poll::Ready(engine.poll_next(cx).is_pending())).await;
            assert!(waited, "nothing more was sent");
            engine.read_buf.capacity()
        };
        // A burst of 2,000 small messages (140 KB), read 32 KiB at a time.
        client.write_all(&masked_frames(2000, 64)).await.unwrap();
        for _ in 0..2000 {
            let message = poll_fn(|cx| engine.poll_next(cx)).await.unwrap().unwrap();
            assert_eq!(message.data().as_ref(), &[7u8; 64]);
        }
        let kept = idle(&mut engine).await;
        assert!(kept <= KEEP_IDLE, "an idle connection kept {kept} bytes");
        // One 1 MiB message grows the buffer; waiting gives it back.
        client.write_all(&masked_frames(1, 1 << 20)).await.unwrap();
        let message = poll_fn(|cx| engine.poll_next(cx)).await.unwrap().unwrap();
        assert_eq!(message.len(), 1 << 20);
        assert_eq!(idle(&mut engine).await, 0);
        // And it reads again when more comes.
        client.write_all(&masked_frames(1, 64)).await.unwrap();
        let message = poll_fn(|cx| engine.poll_next(cx)).await.unwrap().unwrap();
        assert_eq!(message.data().as_ref(), &[7u8; 64]);
    }
}
