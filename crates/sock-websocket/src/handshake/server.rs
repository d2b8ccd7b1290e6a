//! The server's side of the opening handshake (RFC 6455 section 4.2):
//! reading and checking the upgrade request, letting the caller inspect it,
//! and answering 101 or an HTTP error status.

use std::fmt::Write as _;

use bytes::BytesMut;
use sock_tcp::StreamSocket;
use tokio::io::AsyncWriteExt;

use super::{accept_key, check_value, collect_headers, has_token, header, header_all, items};
use super::{is_valid_key, read_head, MAX_HEADERS};
use crate::{Result, WebSocketError};

/// A client's upgrade request, for the server to inspect before accepting or
/// rejecting it (UWP's `ServerCustomValidationRequested`, with the request
/// itself rather than only its credentials).
#[derive(Debug, Clone)]
pub struct UpgradeRequest {
    resource: String,
    headers: Vec<(String, String)>,
    key: String,
    protocols: Vec<String>,
}

impl UpgradeRequest {
    /// The request target as sent: path and query (`/chat?room=1`).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The path, without the query (`/chat`).
    pub fn path(&self) -> &str {
        self.resource
            .split_once('?')
            .map_or(self.resource.as_str(), |(path, _)| path)
    }

    /// The query, without the `?`, when there is one.
    pub fn query(&self) -> Option<&str> {
        self.resource.split_once('?').map(|(_, query)| query)
    }

    /// The first value of header `name` (ignoring case).
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// Every header, in the order received, names as sent.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str()))
    }

    /// The `Origin` header: the page a browser opened the connection from.
    pub fn origin(&self) -> Option<&str> {
        self.header("origin")
    }

    /// The `Host` header.
    pub fn host(&self) -> Option<&str> {
        self.header("host")
    }

    /// The subprotocols the client offers, in its order of preference.
    pub fn protocols(&self) -> &[String] {
        &self.protocols
    }

    /// The user and password of an HTTP basic `Authorization` header (UWP's
    /// `ServerCustomValidationRequestedEventArgs` credentials).
    pub fn basic_credentials(&self) -> Option<(String, String)> {
        use base64::Engine as _;
        let value = self.header("authorization")?.trim();
        let (scheme, encoded) = value.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (user, password) = text.split_once(':')?;
        Some((user.to_owned(), password.to_owned()))
    }
}

/// What the server does with an upgrade request: accept it, choosing a
/// subprotocol, or reject it with an HTTP status.
#[derive(Debug, Clone)]
pub struct Decision {
    kind: DecisionKind,
    headers: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
enum DecisionKind {
    /// Accept; the subprotocol from the server's supported list.
    Accept,
    /// Accept with exactly this subprotocol (or none).
    AcceptProtocol(Option<String>),
    /// Answer with this HTTP status and close.
    Reject(u16),
}

impl Decision {
    /// Accepts, with the first of the server's supported subprotocols that
    /// the client offers (none when there is no such subprotocol).
    pub fn accept() -> Self {
        Self::of(DecisionKind::Accept)
    }

    /// Accepts with `protocol`, which must be one the client offered.
    pub fn accept_with_protocol(protocol: impl Into<String>) -> Self {
        Self::of(DecisionKind::AcceptProtocol(Some(protocol.into())))
    }

    /// Accepts without a subprotocol, whatever the client offered.
    pub fn accept_without_protocol() -> Self {
        Self::of(DecisionKind::AcceptProtocol(None))
    }

    /// Rejects with an HTTP status (401, 403, 404, …; anything outside
    /// 200–599 or equal to 101 is sent as 500) and closes the connection.
    pub fn reject(status: u16) -> Self {
        Self::of(DecisionKind::Reject(status))
    }

    /// Adds a header to the answer (`WWW-Authenticate` on a 401, a cookie
    /// on the 101). Headers that are not valid HTTP are left out.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        if super::check_header(&name, &value).is_ok() {
            self.headers.push((name, value));
        }
        self
    }

    fn of(kind: DecisionKind) -> Self {
        Self {
            kind,
            headers: Vec::new(),
        }
    }
}

/// What the server agreed in its answer.
#[derive(Debug)]
pub(crate) struct Agreed<T> {
    /// The request answered.
    pub(crate) request: UpgradeRequest,
    /// The subprotocol chosen.
    pub(crate) protocol: Option<String>,
    /// The `Sec-WebSocket-Extensions` answer sent, and what the caller's
    /// `extensions` function made of the offers.
    pub(crate) extensions: Option<(String, T)>,
}

/// Reads the request (some of it may be in `buf` already), asks `decide`,
/// and on an accepted request `extensions` (which gives the
/// `Sec-WebSocket-Extensions` answer to the offers, if any); answers.
/// Leaves the bytes read past the request in `buf`.
pub(crate) async fn run<F, E, T>(
    io: &mut StreamSocket,
    buf: &mut BytesMut,
    max_head: usize,
    supported: &[String],
    decide: F,
    extensions: E,
) -> Result<Agreed<T>>
where
    F: FnOnce(&UpgradeRequest) -> Decision,
    E: FnOnce(&UpgradeRequest) -> Option<(String, T)>,
{
    let head_len = match read_head(io, buf, max_head).await {
        Ok(len) => len,
        Err(e @ WebSocketError::LimitExceeded { .. }) => {
            answer_error(io, 431, &[], "").await;
            return Err(e);
        }
        Err(e) => return Err(e),
    };
    let head = buf.split_to(head_len);
    let request = match parse_request(&head) {
        Ok(request) => request,
        Err(Refusal { status, detail }) => {
            let extra: &[(&str, &str)] = if status == 426 {
                &[("Sec-WebSocket-Version", "13")]
            } else {
                &[]
            };
            answer_error(io, status, extra, &detail).await;
            return Err(WebSocketError::handshake(detail));
        }
    };
    let decision = decide(&request);
    let protocol = match decision.kind {
        DecisionKind::Reject(status) => {
            let status = if status == 101 || !(200..=599).contains(&status) {
                500
            } else {
                status
            };
            let extra: Vec<(&str, &str)> = decision
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            answer_error(io, status, &extra, "").await;
            return Err(WebSocketError::Refused {
                status,
                reason: reason_phrase(status).to_owned(),
            });
        }
        DecisionKind::Accept => supported
            .iter()
            .find(|p| request.protocols.contains(p))
            .cloned(),
        DecisionKind::AcceptProtocol(None) => None,
        DecisionKind::AcceptProtocol(Some(p)) => {
            if !request.protocols.contains(&p) {
                answer_error(io, 500, &[], "").await;
                return Err(WebSocketError::invalid_argument(
                    "subprotocol",
                    format!("{p:?} was not offered by the client"),
                ));
            }
            if let Err(e) = check_value("subprotocol", &p) {
                answer_error(io, 500, &[], "").await;
                return Err(e);
            }
            Some(p)
        }
    };
    let mut out = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        accept_key(&request.key)
    );
    if let Some(p) = &protocol {
        let _ = write!(out, "Sec-WebSocket-Protocol: {p}\r\n");
    }
    let extensions = extensions(&request);
    if let Some((answer, _)) = &extensions {
        let _ = write!(out, "Sec-WebSocket-Extensions: {answer}\r\n");
    }
    for (name, value) in &decision.headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    out.push_str("\r\n");
    io.write_all(out.as_bytes()).await?;
    io.flush().await?;
    Ok(Agreed {
        request,
        protocol,
        extensions,
    })
}

/// Parses `head` as an upgrade request, checking that a refusal carries a
/// client-error status (for the fuzz bodies).
#[cfg(feature = "fuzzing")]
pub(crate) fn check_request(head: &[u8]) {
    if let Err(refusal) = parse_request(head) {
        assert!(
            (400..=499).contains(&refusal.status),
            "refused with {}",
            refusal.status
        );
    }
}

/// Why a request is not a valid upgrade, and the status that says so.
#[derive(Debug)]
struct Refusal {
    status: u16,
    detail: String,
}

fn refuse(status: u16, detail: impl Into<String>) -> Refusal {
    Refusal {
        status,
        detail: detail.into(),
    }
}

/// Checks the request against section 4.2.1.
fn parse_request(head: &[u8]) -> std::result::Result<UpgradeRequest, Refusal> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    match request.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return Err(refuse(400, "incomplete http request head")),
        Err(e) => return Err(refuse(400, format!("not an http request: {e}"))),
    }
    if request.method != Some("GET") {
        return Err(refuse(
            405,
            format!(
                "method {:?}: an upgrade is a GET (rfc 6455 4.2.1)",
                request.method.unwrap_or("")
            ),
        ));
    }
    if request.version != Some(1) {
        return Err(refuse(400, "an upgrade needs HTTP/1.1 (rfc 6455 4.2.1)"));
    }
    let resource = request.path.unwrap_or("/").to_owned();
    let headers = collect_headers(request.headers);
    if header(&headers, "host").is_none() {
        return Err(refuse(400, "no Host header (rfc 6455 4.2.1)"));
    }
    if !header_all(&headers, "upgrade").any(|v| has_token(v, "websocket")) {
        return Err(refuse(
            426,
            "not a websocket upgrade: no \"Upgrade: websocket\" (rfc 6455 4.2.1)",
        ));
    }
    if !header_all(&headers, "connection").any(|v| has_token(v, "upgrade")) {
        return Err(refuse(400, "no \"Connection: Upgrade\" (rfc 6455 4.2.1)"));
    }
    let version = header(&headers, "sec-websocket-version").map(str::trim);
    if version != Some("13") {
        return Err(refuse(
            426,
            format!("Sec-WebSocket-Version {version:?}; this server speaks 13 (rfc 6455 4.4)"),
        ));
    }
    let key = match header(&headers, "sec-websocket-key").map(str::trim) {
        Some(key) if is_valid_key(key) => key.to_owned(),
        other => {
            return Err(refuse(
                400,
                format!("Sec-WebSocket-Key {other:?} is not 16 bytes in base64 (rfc 6455 4.2.1)"),
            ))
        }
    };
    let protocols = header_all(&headers, "sec-websocket-protocol")
        .flat_map(items)
        .map(str::to_owned)
        .collect();
    Ok(UpgradeRequest {
        resource,
        headers,
        key,
        protocols,
    })
}

/// Answers with an error status and no body; best effort, the connection
/// closes after it anyway.
async fn answer_error(io: &mut StreamSocket, status: u16, headers: &[(&str, &str)], detail: &str) {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n",
        reason_phrase(status)
    );
    for (name, value) in headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n{detail}", detail.len());
    let _ = io.write_all(out.as_bytes()).await;
    let _ = io.flush().await;
}

/// The reason phrase of a status.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Rejected",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(extra: &str) -> String {
        format!(
            "GET /chat?room=1 HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n\
             Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
        )
    }

    #[test]
    fn the_rfc_request_is_read_with_path_origin_and_subprotocols() {
        let req = parse_request(
            request(
                "Sec-WebSocket-Protocol: chat, superchat\r\nAuthorization: Basic dXNlcjpwYXNz\r\n",
            )
            .as_bytes(),
        )
        .unwrap();
        assert_eq!(req.path(), "/chat");
        assert_eq!(req.query(), Some("room=1"));
        assert_eq!(req.origin(), Some("http://example.com"));
        assert_eq!(req.protocols(), ["chat", "superchat"]);
        assert_eq!(
            req.basic_credentials(),
            Some(("user".to_owned(), "pass".to_owned()))
        );
    }

    #[test]
    fn requests_that_are_not_upgrades_get_the_status_that_says_why() {
        let cases = [
            (request("").replacen("GET", "POST", 1), 405),
            (request("").replace("Upgrade: websocket\r\n", ""), 426),
            (
                request("").replace("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"),
                426,
            ),
            (
                request("").replace("dGhlIHNhbXBsZSBub25jZQ==", "short"),
                400,
            ),
            (request("").replace("Host: server.example.com\r\n", ""), 400),
            (request("").replace("HTTP/1.1", "HTTP/1.0"), 400),
        ];
        for (text, status) in cases {
            let refusal = parse_request(text.as_bytes()).unwrap_err();
            assert_eq!(refusal.status, status, "{}", refusal.detail);
        }
    }
}
