//! permessage-deflate (RFC 7692), feature `deflate`: the settings a
//! WebSocket asks for ([`DeflateConfig`]) and what the opening handshake
//! agreed ([`DeflateParameters`]). `negotiate` reads and writes the
//! `Sec-WebSocket-Extensions` header; `codec` compresses and inflates
//! messages.

pub(crate) mod codec;
pub(crate) mod negotiate;

use flate2::Compression;

use crate::{Result, WebSocketError};

/// Messages shorter than this are sent uncompressed by default: 256 bytes
/// ([`DeflateConfig::threshold`]). Below it, the block header and the flush
/// that ends every compressed message eat most of what compression saves,
/// and compressing costs more time than sending the bytes.
pub const DEFAULT_DEFLATE_THRESHOLD: usize = 256;

/// The compression level used by default: 6, zlib's own default, between
/// speed (1) and size (9).
pub const DEFAULT_DEFLATE_LEVEL: u32 = 6;

/// The largest LZ77 window, and the one used when none was agreed: 2^15
/// bytes (RFC 7692 section 7.1.2).
pub(crate) const MAX_WINDOW_BITS: u8 = 15;

/// The smallest window a peer may ask for: 2^8 bytes.
pub(crate) const MIN_WINDOW_BITS: u8 = 8;

/// How a WebSocket uses permessage-deflate (RFC 7692): compressed messages,
/// when both ends agree in the opening handshake. Off unless given to
/// [`MessageWebSocketControl::deflate`](crate::MessageWebSocketControl::deflate)
/// or [`ServerWebSocketControl::deflate`](crate::ServerWebSocketControl::deflate):
/// UWP's WebSockets have no compression, and a compressing connection costs
/// memory: about 370 KiB for its compressor and 40 KiB for its
/// decompressor with 2^15-byte windows (zlib-rs's sizes; about 260 KiB and
/// 12 KiB with 2^12), kept between messages only with context takeover.
///
/// The four negotiation settings describe the connection wanted; a client
/// asks for them in its offer, a server puts them in its answer:
///
/// - [`server_no_context_takeover`](Self::server_no_context_takeover) and
///   [`client_no_context_takeover`](Self::client_no_context_takeover): that
///   end starts each message with an empty window, so its compressor (and
///   the other end's decompressor) need not be kept between messages;
///   smaller messages compress less well.
/// - [`server_max_window_bits`](Self::server_max_window_bits) and
///   [`client_max_window_bits`](Self::client_max_window_bits): the most
///   bytes back (2^8 to 2^15) that end's compressor may refer to, which
///   bounds the other end's decompressor memory. A server can limit the
///   client's window only if the client's offer says it can honour a limit
///   (this crate's offers always do).
///
/// [`level`](Self::level) and [`threshold`](Self::threshold) are this end's
/// own, and not negotiated.
///
/// ```
/// use sock_websocket::{DeflateConfig, MessageWebSocket};
///
/// # fn main() -> sock_websocket::Result<()> {
/// let control = MessageWebSocket::builder().deflate(
///     DeflateConfig::new()
///         .client_no_context_takeover(true)
///         .server_max_window_bits(12)?,
/// );
/// # drop(control);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeflateConfig {
    pub(crate) level: u32,
    pub(crate) threshold: usize,
    pub(crate) server_no_context_takeover: bool,
    pub(crate) client_no_context_takeover: bool,
    pub(crate) server_max_window_bits: Option<u8>,
    pub(crate) client_max_window_bits: Option<u8>,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        Self {
            level: DEFAULT_DEFLATE_LEVEL,
            threshold: DEFAULT_DEFLATE_THRESHOLD,
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: None,
            client_max_window_bits: None,
        }
    }
}

impl DeflateConfig {
    /// Compression with context takeover both ways, windows as the peer
    /// allows, level [`DEFAULT_DEFLATE_LEVEL`] and threshold
    /// [`DEFAULT_DEFLATE_THRESHOLD`].
    pub fn new() -> Self {
        Self::default()
    }

    /// The compression level, from 0 (stored, no compression) to 9
    /// (smallest, slowest); [`DEFAULT_DEFLATE_LEVEL`] by default.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::InvalidArgument`] naming `deflate level` above 9.
    pub fn level(mut self, level: u32) -> Result<Self> {
        if level > 9 {
            return Err(WebSocketError::invalid_argument(
                "deflate level",
                format!("{level} is not a compression level (0 to 9)"),
            ));
        }
        self.level = level;
        Ok(self)
    }

    /// Whole messages shorter than `bytes` are sent uncompressed
    /// ([`DEFAULT_DEFLATE_THRESHOLD`] by default; 0 compresses every
    /// message). A message whose compressed form would not be smaller is
    /// sent uncompressed too, whatever its size; messages sent in parts are
    /// always compressed. RFC 7692 lets either end send any message
    /// uncompressed.
    pub fn threshold(mut self, bytes: usize) -> Self {
        self.threshold = bytes;
        self
    }

    /// Whether the server starts each message with an empty window: a
    /// client asks for it (and fails the connection if the server does not
    /// agree), a server does it whatever the client asked.
    pub fn server_no_context_takeover(mut self, yes: bool) -> Self {
        self.server_no_context_takeover = yes;
        self
    }

    /// Whether the client starts each message with an empty window: a
    /// client says it will, a server requires it of every client.
    pub fn client_no_context_takeover(mut self, yes: bool) -> Self {
        self.client_no_context_takeover = yes;
        self
    }

    /// The largest window the server's compressor may use, 2^`bits` bytes
    /// (8 to 15): a client asks for it (and fails the connection if the
    /// server answers with a larger one), a server keeps its own window at
    /// most this large.
    ///
    /// A window of 2^8 is compressed with 2^9 bytes of window (zlib and its
    /// ports have no smaller one), whose matches reach at most 250 bytes
    /// back, so a peer with 256 bytes of window reads it.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::InvalidArgument`] naming `server_max_window_bits`
    /// outside 8 to 15.
    pub fn server_max_window_bits(mut self, bits: u8) -> Result<Self> {
        self.server_max_window_bits = Some(check_bits("server_max_window_bits", bits)?);
        Ok(self)
    }

    /// The largest window the client's compressor may use, 2^`bits` bytes
    /// (8 to 15): a client offers to keep its window at most this large, a
    /// server asks clients that can honour a limit for it.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::InvalidArgument`] naming `client_max_window_bits`
    /// outside 8 to 15.
    pub fn client_max_window_bits(mut self, bits: u8) -> Result<Self> {
        self.client_max_window_bits = Some(check_bits("client_max_window_bits", bits)?);
        Ok(self)
    }

    pub(crate) fn compression(&self) -> Compression {
        Compression::new(self.level)
    }
}

fn check_bits(setting: &'static str, bits: u8) -> Result<u8> {
    if (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&bits) {
        Ok(bits)
    } else {
        Err(WebSocketError::invalid_argument(
            setting,
            format!("{bits} is not a window size in bits (8 to 15)"),
        ))
    }
}

/// What the opening handshake agreed for permessage-deflate (RFC 7692
/// section 7.1), in [`information().deflate`](crate::MessageWebSocketInformation::deflate).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateParameters {
    /// The server starts each message with an empty window.
    pub server_no_context_takeover: bool,
    /// The client starts each message with an empty window.
    pub client_no_context_takeover: bool,
    /// The server's window is at most 2^this bytes (15 when not limited).
    pub server_max_window_bits: u8,
    /// The client's window is at most 2^this bytes (15 when not limited).
    pub client_max_window_bits: u8,
}
