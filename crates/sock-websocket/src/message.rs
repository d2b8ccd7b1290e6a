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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    message_type: MessageType,
    data: Bytes,
    complete: bool,
}

impl Message {
    /// A whole text message.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            message_type: MessageType::Utf8,
            data: Bytes::from(text.into()),
            complete: true,
        }
    }

    /// A whole binary message.
    pub fn binary(data: impl Into<Bytes>) -> Self {
        Self {
            message_type: MessageType::Binary,
            data: data.into(),
            complete: true,
        }
    }

    /// A part of a message of `message_type`; `complete` marks its last
    /// part. The parts of a text message, joined, must be UTF-8 (the peer
    /// fails the connection otherwise); each part alone need not be.
    pub fn part(message_type: MessageType, data: impl Into<Bytes>, complete: bool) -> Self {
        Self {
            message_type,
            data: data.into(),
            complete,
        }
    }

    pub(crate) fn received(message_type: MessageType, data: Bytes, complete: bool) -> Self {
        Self::part(message_type, data, complete)
    }

    /// Text or binary (UWP's `MessageType`).
    pub fn message_type(&self) -> MessageType {
        self.message_type
    }

    /// Whether this is the last (or only) part of its message (UWP's
    /// `IsMessageComplete`); always `true` in full-message mode.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Whether this is text.
    pub fn is_text(&self) -> bool {
        self.message_type == MessageType::Utf8
    }

    /// Whether this is binary.
    pub fn is_binary(&self) -> bool {
        self.message_type == MessageType::Binary
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
}
