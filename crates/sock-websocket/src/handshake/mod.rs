//! The opening handshake (RFC 6455 section 4): what client and server
//! share — the accept key, reading an HTTP head within its size limit, and
//! the rules for header names and values.

pub(crate) mod client;
pub(crate) mod server;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use bytes::BytesMut;
use sha1::{Digest, Sha1};
use sock_tcp::StreamSocket;
use tokio::io::AsyncReadExt;

use crate::{Result, WebSocketError};

/// The GUID of section 1.3, appended to the key to make the accept value.
const GUID: &str = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The most headers a handshake may carry.
pub(crate) const MAX_HEADERS: usize = 64;

/// Headers the handshake itself writes: a caller may not set them.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "upgrade",
    "connection",
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-accept",
    "sec-websocket-protocol",
    "sec-websocket-extensions",
    "content-length",
    "transfer-encoding",
];

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key` (section 4.2.2).
pub(crate) fn accept_key(key: &str) -> String {
    let mut sha = Sha1::new();
    sha.update(key.as_bytes());
    sha.update(GUID.as_bytes());
    BASE64.encode(sha.finalize())
}

/// A fresh `Sec-WebSocket-Key`: 16 random bytes, base64 (section 4.1).
pub(crate) fn new_key() -> String {
    let mut nonce = [0u8; 16];
    crate::mask::fill_random(&mut nonce);
    BASE64.encode(nonce)
}

/// Whether `key` is the base64 of 16 bytes, as section 4.2.1 asks.
pub(crate) fn is_valid_key(key: &str) -> bool {
    BASE64.decode(key).is_ok_and(|raw| raw.len() == 16)
}

/// Base64 of `user:password`, for HTTP basic authentication.
pub(crate) fn basic_credentials(user: &str, password: &str) -> String {
    BASE64.encode(format!("{user}:{password}"))
}

/// Runs an opening handshake within `timeout` (`handshake_timeout`).
pub(crate) async fn within<T>(
    timeout: std::time::Duration,
    handshake: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(timeout, handshake).await {
        Ok(result) => result,
        Err(_) => Err(WebSocketError::TimedOut {
            operation: "websocket handshake (handshake_timeout)",
            after: timeout,
        }),
    }
}

/// Reads an HTTP head (up to and including the empty line) into `buf`;
/// gives its length. Bytes read past it stay in `buf` (the first frames).
///
/// Fails when the head is longer than `max` bytes (`max_handshake_size`)
/// or the connection ends before it does.
pub(crate) async fn read_head(
    io: &mut StreamSocket,
    buf: &mut BytesMut,
    max: usize,
) -> Result<usize> {
    let mut searched: usize = 0;
    loop {
        let from = searched.saturating_sub(3);
        if let Some(at) = find_blank_line(&buf[from..]) {
            let len = from + at + 4;
            if len > max {
                return Err(too_long(len, max));
            }
            return Ok(len);
        }
        searched = buf.len();
        if buf.len() >= max {
            return Err(too_long(buf.len(), max));
        }
        buf.reserve((max - buf.len()).min(4096));
        if io.read_buf(buf).await? == 0 {
            return Err(WebSocketError::Socket(sock_core::Error::UnexpectedEof {
                context: format!(
                    "in the websocket handshake, after {} bytes of its http head",
                    buf.len()
                ),
            }));
        }
    }
}

fn find_blank_line(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n")
}

fn too_long(len: usize, max: usize) -> WebSocketError {
    WebSocketError::LimitExceeded {
        limit: "max_handshake_size",
        actual: len as u64,
        max: max as u64,
    }
}

/// Whether a comma-separated header value holds `token`, ignoring case
/// (`Connection: keep-alive, Upgrade`).
pub(crate) fn has_token(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|item| item.trim().eq_ignore_ascii_case(token))
}

/// The comma-separated items of a header value, trimmed, empty ones left out.
pub(crate) fn items(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

/// Checks a header a caller wants to send: a token name that the handshake
/// does not write itself, and a value without line breaks.
pub(crate) fn check_header(name: &str, value: &str) -> Result<()> {
    let is_token = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    if !is_token {
        return Err(WebSocketError::invalid_argument(
            "request header",
            format!("{name:?} is not a header name (an http token)"),
        ));
    }
    if RESERVED_HEADERS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(WebSocketError::invalid_argument(
            "request header",
            format!("{name:?} is written by the websocket handshake itself"),
        ));
    }
    check_value("request header", value)
}

/// Checks a header value or subprotocol: printable, no line breaks.
pub(crate) fn check_value(setting: &'static str, value: &str) -> Result<()> {
    if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(WebSocketError::invalid_argument(
            setting,
            format!("{value:?} holds a line break or a NUL"),
        ));
    }
    Ok(())
}

/// Header name-value pairs as received, in order; names keep their case.
pub(crate) fn collect_headers(headers: &[httparse::Header<'_>]) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// The first value of header `name`, ignoring case.
pub(crate) fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// Every value of header `name` (it may be repeated), ignoring case.
pub(crate) fn header_all<'a>(
    headers: &'a [(String, String)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_example_key_gives_the_rfc_accept_value() {
        // RFC 6455 section 1.3.
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert!(is_valid_key("dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key("c2hvcnQ="));
        assert!(is_valid_key(&new_key()));
    }

    #[test]
    fn tokens_are_found_in_lists_ignoring_case() {
        assert!(has_token("keep-alive, Upgrade", "upgrade"));
        assert!(!has_token("upgrades", "upgrade"));
        assert_eq!(items(" a, ,b ").collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn caller_headers_may_not_forge_the_handshake() {
        assert!(check_header("X-Token", "abc").is_ok());
        assert!(check_header("Sec-WebSocket-Key", "x").is_err());
        assert!(check_header("Bad Name", "x").is_err());
        assert!(check_header("X-Token", "a\r\nInjected: yes").is_err());
    }
}
