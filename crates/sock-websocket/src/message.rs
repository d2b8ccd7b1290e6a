//! `Message`: what a `MessageWebSocket` sends and receives, with its type
//! and, in partial mode, whether it completes a message.

use bytes::Bytes;

/// The type of a message (UWP's `SocketMessageType`): text or binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum MessageType {
    /// UTF-8 text (a text frame).
    Utf8,
    /// Binary data (a binary frame); UWP's default.
    #[default]
    Binary,
}

/// How messages are handed to the reader (UWP's
/// `MessageWebSocketReceiveMode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReceiveMode {
    /// Each item is a whole message, its fragments joined; bounded by
    /// `max_message_size`.
    #[default]
    FullMessage,
    /// Each item is one fragment as it arrives (UWP's `PartialMessage`);
    /// [`Message::is_complete`] marks the last part of a message. Only
    /// `max_frame_size` bounds a part; a message may be any length.
    PartialMessage,
}

/// A WebSocket message, or in partial mode a part of one: its type, its
/// bytes, and whether it completes the message.
///
/// Text is checked to be UTF-8 as it arrives (a part may end inside a
/// character, so [`as_text`](Self::as_text) on a part may be `None`).
/// To send a message in parts, send [`part`](Self::part)s whose last one is
/// complete (UWP's `SendNonfinalFrameAsync` / `SendFinalFrameAsync`).
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    data: Bytes,
    shape: Shape,
}

/// A message's type and whether it is complete, in one word. As two
/// one-byte fields they were written a byte at a time and copied a word at
/// a time as the message moved from the engine to the reader, a
/// store-forwarding stall per message; one word is written and copied
/// whole. (The message is 40 bytes either way.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape(u64);

impl Shape {
    const TEXT: u64 = 1;
    const COMPLETE: u64 = 2;

    fn new(message_type: MessageType, complete: bool) -> Self {
        let text = if message_type == MessageType::Utf8 {
            Self::TEXT
        } else {
            0
        };
        let complete = if complete { Self::COMPLETE } else { 0 };
        Self(text | complete)
    }

    fn message_type(self) -> MessageType {
        if self.0 & Self::TEXT != 0 {
            MessageType::Utf8
        } else {
            MessageType::Binary
        }
    }

    fn is_complete(self) -> bool {
        self.0 & Self::COMPLETE != 0
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("message_type", &self.message_type())
            .field("data", &self.data)
            .field("complete", &self.is_complete())
            .finish()
    }
}

impl Message {
    /// A whole text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self::part(MessageType::Utf8, Bytes::from(text.into()), true)
    }

    /// A whole binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self::part(MessageType::Binary, data, true)
    }

    /// A part of a message of `message_type`; `complete` marks its last
    /// part. The parts of a text message, joined, must be UTF-8 (the peer
    /// fails the connection otherwise); each part alone need not be.
    pub fn part(message_type: MessageType, data: impl Into<Bytes>, complete: bool) -> Self {
        Self {
            data: data.into(),
            shape: Shape::new(message_type, complete),
        }
    }

    pub(crate) fn received(message_type: MessageType, data: Bytes, complete: bool) -> Self {
        Self::part(message_type, data, complete)
    }

    /// Text or binary (UWP's `MessageType`).
    pub fn message_type(&self) -> MessageType {
        self.shape.message_type()
    }

    /// Whether this is the last (or only) part of its message (UWP's
    /// `IsMessageComplete`); always `true` in full-message mode.
    pub fn is_complete(&self) -> bool {
        self.shape.is_complete()
    }

    /// Whether this is text.
    pub fn is_text(&self) -> bool {
        self.message_type() == MessageType::Utf8
    }

    /// Whether this is binary.
    pub fn is_binary(&self) -> bool {
        self.message_type() == MessageType::Binary
    }

    /// The bytes.
    pub fn data(&self) -> &Bytes {
        &self.data
    }

    /// The bytes, without copying.
    pub fn into_data(self) -> Bytes {
        self.data
    }

    /// The text of a text message; `None` for binary, or for a part that
    /// ends inside a character.
    pub fn as_text(&self) -> Option<&str> {
        if self.is_text() {
            std::str::from_utf8(&self.data).ok()
        } else {
            None
        }
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the message has no bytes.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Self::text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Self::text(text)
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Self {
        Self::binary(data)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Self {
        Self::binary(data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_binary_know_their_type() {
        let text = Message::text("héllo");
        assert_eq!(text.as_text(), Some("héllo"));
        assert!(text.is_complete());
        let binary = Message::binary(vec![1, 2]);
        assert_eq!(binary.as_text(), None);
        assert_eq!(binary.message_type(), MessageType::Binary);
        let part = Message::part(MessageType::Utf8, &b"\xC3"[..], false);
        assert_eq!(part.as_text(), None);
        assert!(!part.is_complete());
    }

    #[test]
    fn a_part_keeps_its_type_and_completeness_all_four_ways() {
        for message_type in [MessageType::Utf8, MessageType::Binary] {
            for complete in [true, false] {
                let part = Message::part(message_type, &b"x"[..], complete);
                assert_eq!(part.message_type(), message_type);
                assert_eq!(part.is_complete(), complete);
                assert_eq!(part.is_text(), message_type == MessageType::Utf8);
                assert_eq!(part.is_binary(), message_type == MessageType::Binary);
            }
        }
    }
}
