//! What client and server WebSockets share: the limits with their
//! defaults, the timeouts, how messages are received, and one setter for
//! each on both controls.

use std::time::Duration;

use sock_codec::FrameMemoryBudget;

use crate::engine::Settings;
use crate::{MessageType, ReceiveMode};

/// The largest message, its fragments joined, by default: 64 MiB
/// (`max_message_size`).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 << 20;

/// The largest payload of one frame by default: 16 MiB (`max_frame_size`).
pub const DEFAULT_MAX_FRAME_SIZE: usize = 16 << 20;

/// The longest HTTP head of an opening handshake by default: 16 KiB
/// (`max_handshake_size`).
pub const DEFAULT_MAX_HANDSHAKE_SIZE: usize = 16 << 10;

/// How long the opening handshake may take by default: 10 s, after the
/// connection (and its TLS handshake) is made (`handshake_timeout`).
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a message (all its fragments) or a frame may take to arrive
/// from its first byte by default: 5 minutes, as sock-codec's frames
/// (`message_timeout`).
pub const DEFAULT_MESSAGE_TIMEOUT: Duration = sock_codec::DEFAULT_FRAME_TIMEOUT;

/// How long the closing handshake may take by default, the TCP close
/// included: 5 s (`close_timeout`).
pub const DEFAULT_CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// The settings of one WebSocket, before it connects or is accepted.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) message_type: MessageType,
    pub(crate) receive_mode: ReceiveMode,
    pub(crate) max_message_size: usize,
    pub(crate) max_frame_size: usize,
    pub(crate) max_handshake_size: usize,
    pub(crate) handshake_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) pong_interval: Option<Duration>,
    pub(crate) message_timeout: Option<Duration>,
    pub(crate) supported_protocols: Vec<String>,
    pub(crate) memory_budget: Option<FrameMemoryBudget>,
    /// permessage-deflate: offered (client) or accepted (server) when set.
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<crate::DeflateConfig>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            message_type: MessageType::Binary,
            receive_mode: ReceiveMode::FullMessage,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            max_handshake_size: DEFAULT_MAX_HANDSHAKE_SIZE,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            close_timeout: DEFAULT_CLOSE_TIMEOUT,
            pong_interval: None,
            message_timeout: Some(DEFAULT_MESSAGE_TIMEOUT),
            supported_protocols: Vec::new(),
            memory_budget: None,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }
}

impl Options {
    /// What the engine runs with; a stream WebSocket always receives in
    /// parts (it hands out bytes, not messages). permessage-deflate is off
    /// until the handshake agrees it.
    pub(crate) fn settings(&self, receive_mode: ReceiveMode) -> Settings {
        Settings {
            receive_mode,
            max_message_size: self.max_message_size,
            max_frame_size: self.max_frame_size,
            close_timeout: self.close_timeout,
            pong_interval: self.pong_interval,
            message_timeout: self.message_timeout,
            memory_budget: self
                .memory_budget
                .clone()
                .unwrap_or_else(FrameMemoryBudget::process_default),
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }
}

/// The setters both controls have, on their `options` field.
macro_rules! shared_setters {
    () => {
        /// The type of the messages [`send_data`](crate::MessageWebSocket::send_data)
        /// sends (UWP's `MessageType`): `Binary` (the default) or `Utf8`.
        pub fn message_type(mut self, message_type: $crate::MessageType) -> Self {
            self.options.message_type = message_type;
            self
        }

        /// Whole messages (the default) or parts as they arrive (UWP's
        /// `ReceiveMode`).
        pub fn receive_mode(mut self, mode: $crate::ReceiveMode) -> Self {
            self.options.receive_mode = mode;
            self
        }

        /// The largest message accepted, its fragments joined (UWP's
        /// `MaxMessageSize`; [`DEFAULT_MAX_MESSAGE_SIZE`](crate::DEFAULT_MAX_MESSAGE_SIZE),
        /// 64 MiB). A larger one fails the connection with close code 1009
        /// and `LimitExceeded { limit: "max_message_size" }`, found on its
        /// frame header, before its bytes are stored. Not applied to parts
        /// in partial mode.
        pub fn max_message_size(mut self, bytes: usize) -> Self {
            self.options.max_message_size = bytes;
            self
        }

        /// The largest frame payload accepted
        /// ([`DEFAULT_MAX_FRAME_SIZE`](crate::DEFAULT_MAX_FRAME_SIZE), 16 MiB);
        /// a larger one fails the connection as `max_message_size` does.
        pub fn max_frame_size(mut self, bytes: usize) -> Self {
            self.options.max_frame_size = bytes;
            self
        }

        /// The longest HTTP head of the opening handshake
        /// ([`DEFAULT_MAX_HANDSHAKE_SIZE`](crate::DEFAULT_MAX_HANDSHAKE_SIZE), 16 KiB).
        pub fn max_handshake_size(mut self, bytes: usize) -> Self {
            self.options.max_handshake_size = bytes;
            self
        }

        /// How long the opening handshake may take, once connected
        /// ([`DEFAULT_HANDSHAKE_TIMEOUT`](crate::DEFAULT_HANDSHAKE_TIMEOUT), 10 s).
        pub fn handshake_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.handshake_timeout = timeout;
            self
        }

        /// How long a message, all its fragments, or a frame may take to
        /// arrive from its first byte
        /// ([`DEFAULT_MESSAGE_TIMEOUT`](crate::DEFAULT_MESSAGE_TIMEOUT), 5
        /// minutes; `None` for no bound): a peer dripping a message slowly
        /// enough never to be idle is failed with close code 1008 and
        /// `TimedOut` naming `message_timeout`. Checked as bytes arrive; a
        /// peer that sends nothing is the socket's idle timeout's.
        pub fn message_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
            self.options.message_timeout = timeout;
            self
        }

        /// How long `close` waits for the peer's close frame and the end of
        /// the connection ([`DEFAULT_CLOSE_TIMEOUT`](crate::DEFAULT_CLOSE_TIMEOUT), 5 s);
        /// then it resets the connection.
        pub fn close_timeout(mut self, timeout: std::time::Duration) -> Self {
            self.options.close_timeout = timeout;
            self
        }

        /// Sends an unsolicited pong this often, as a keep-alive (UWP's
        /// `DesiredUnsolicitedPongInterval` and `WebSocketKeepAlive`); `None`
        /// (the default) sends none. Pongs go out while the WebSocket is
        /// being read or written.
        pub fn desired_unsolicited_pong_interval(
            mut self,
            interval: Option<std::time::Duration>,
        ) -> Self {
            self.options.pong_interval = interval.filter(|d| !d.is_zero());
            self
        }

        /// The budget that the partial frames and partly joined messages of
        /// these WebSockets are charged to, shared with every decoder given
        /// the same budget (sock-codec's `FrameMemoryBudget`; by default the
        /// process-wide one of 256 MiB). Past its free allowance (64 KiB per
        /// connection), the room kept for a frame still arriving is charged;
        /// the connection that would overspend the budget fails with close
        /// code 1013 and `LimitExceeded { limit: "frame_memory_budget" }`,
        /// and every other goes on.
        pub fn memory_budget(mut self, budget: sock_codec::FrameMemoryBudget) -> Self {
            self.options.memory_budget = Some(budget);
            self
        }

        /// Compresses messages with permessage-deflate (RFC 7692) when the
        /// other end agrees: a client offers it in its upgrade request, a
        /// server accepts the first offer it can honour (and declines the
        /// rest). Off by default, as in UWP, whose WebSockets have no
        /// compression. What was agreed is in `information().deflate`;
        /// [`DeflateConfig`](crate::DeflateConfig) says what each setting
        /// asks for.
        ///
        /// A compressed message counts against `max_message_size` twice:
        /// its bytes on the wire on the frame headers, and its inflated
        /// bytes as they are produced (in partial mode, each part's inflated
        /// bytes against `max_frame_size`), so a small message that inflates
        /// past the limit fails the connection with 1009 once one byte more
        /// than the limit is out, its buffer never larger; the inflated
        /// bytes of a message still arriving are charged to the memory
        /// budget. Data that is not DEFLATE fails it with 1007.
        #[cfg(feature = "deflate")]
        #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
        pub fn deflate(mut self, config: $crate::DeflateConfig) -> Self {
            self.options.deflate = Some(config);
            self
        }

        /// The subprotocols supported, in order of preference (UWP's
        /// `SupportedProtocols`): a client offers them, a server picks the
        /// first one the client offers. The one chosen is in
        /// `information().protocol`.
        pub fn supported_protocols<I, S>(mut self, protocols: I) -> Self
        where
            I: IntoIterator<Item = S>,
            S: Into<String>,
        {
            self.options.supported_protocols = protocols.into_iter().map(Into::into).collect();
            self
        }
    };
}

pub(crate) use shared_setters;
