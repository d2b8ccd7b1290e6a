//! The client's side of the opening handshake (RFC 6455 sections 4.1 and
//! 4.2.2): the upgrade request, and the checks on the server's answer.

use std::fmt::Write as _;

use bytes::BytesMut;
use sock_tcp::StreamSocket;
use tokio::io::AsyncWriteExt;

use super::{accept_key, basic_credentials, collect_headers, has_token, header, header_all};
use super::{items, new_key};
use super::{read_head, MAX_HEADERS};
use crate::{Result, WebSocketError};

/// What the request carries.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    /// The `Host` header: the host, and the port when it is not the scheme's.
    pub(crate) host: &'a str,
    /// The path and query.
    pub(crate) resource: &'a str,
    /// Subprotocols offered, in order of preference.
    pub(crate) protocols: &'a [String],
    /// Headers the caller added.
    pub(crate) headers: &'a [(String, String)],
    /// User and password for HTTP basic authentication.
    pub(crate) credential: Option<&'a (String, String)>,
    /// The extensions offered (`Sec-WebSocket-Extensions`).
    pub(crate) extensions: Option<&'a str>,
}

/// What the server's answer settled.
#[derive(Debug)]
pub(crate) struct Accepted {
    /// The subprotocol the server chose.
    pub(crate) protocol: Option<String>,
    /// The server's `Sec-WebSocket-Extensions`, when extensions were
    /// offered and it chose some: the caller checks them.
    pub(crate) extensions: Option<String>,
}

/// Sends the request and reads the answer; gives what it settled and the
/// bytes read past it.
pub(crate) async fn run(
    io: &mut StreamSocket,
    request: &Request<'_>,
    max_head: usize,
) -> Result<(Accepted, BytesMut)> {
    let key = new_key();
    io.write_all(render(request, &key).as_bytes()).await?;
    io.flush().await?;
    let mut buf = BytesMut::with_capacity(4096);
    let head_len = read_head(io, &mut buf, max_head).await?;
    let head = buf.split_to(head_len);
    let accepted = check_response(&head, &key, request.protocols, request.extensions.is_some())?;
    Ok((accepted, buf))
}

/// The request's text.
fn render(request: &Request<'_>, key: &str) -> String {
    let mut out = String::with_capacity(256);
    let _ = write!(
        out,
        "GET {} HTTP/1.1\r\nHost: {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n",
        request.resource, request.host
    );
    if !request.protocols.is_empty() {
        let _ = write!(
            out,
            "Sec-WebSocket-Protocol: {}\r\n",
            request.protocols.join(", ")
        );
    }
    if let Some(extensions) = request.extensions {
        let _ = write!(out, "Sec-WebSocket-Extensions: {extensions}\r\n");
    }
    if let Some((user, password)) = request.credential {
        let _ = write!(
            out,
            "Authorization: Basic {}\r\n",
            basic_credentials(user, password)
        );
    }
    for (name, value) in request.headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    out.push_str("\r\n");
    out
}

/// Checks `head` as a server's answer to a request offering "chat" (for the
/// fuzz bodies): accepted or an error, never a panic.
#[cfg(feature = "fuzzing")]
pub(crate) fn check_answer(head: &[u8]) {
    let _ = check_response(
        head,
        "dGhlIHNhbXBsZSBub25jZQ==",
        &["chat".to_owned()],
        false,
    );
}

/// Checks the server's answer (section 4.2.2 as the client sees it, 4.1's
/// list of reasons to fail); `extensions_offered` when the request offered
/// some.
fn check_response(
    head: &[u8],
    key: &str,
    offered: &[String],
    extensions_offered: bool,
) -> Result<Accepted> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut slots);
    match response.parse(head) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => {
            return Err(WebSocketError::handshake(
                "the http response head is incomplete",
            ))
        }
        Err(e) => {
            return Err(WebSocketError::handshake(format!(
                "the server's answer is not an http response: {e}"
            )))
        }
    }
    let status = response.code.unwrap_or(0);
    if status != 101 {
        return Err(WebSocketError::Refused {
            status,
            reason: response.reason.unwrap_or("").to_owned(),
        });
    }
    let headers = collect_headers(response.headers);
    if !header(&headers, "upgrade").is_some_and(|v| has_token(v, "websocket")) {
        return Err(WebSocketError::handshake(
            "the response lacks \"Upgrade: websocket\" (rfc 6455 4.1)",
        ));
    }
    if !header(&headers, "connection").is_some_and(|v| has_token(v, "upgrade")) {
        return Err(WebSocketError::handshake(
            "the response lacks \"Connection: Upgrade\" (rfc 6455 4.1)",
        ));
    }
    let expected = accept_key(key);
    match header(&headers, "sec-websocket-accept") {
        Some(got) if got.trim() == expected => {}
        got => {
            return Err(WebSocketError::handshake(format!(
                "Sec-WebSocket-Accept is {got:?}, not {expected:?} (rfc 6455 4.1)"
            )))
        }
    }
    let chosen: Vec<&str> = header_all(&headers, "sec-websocket-extensions").collect();
    let extensions = match (chosen.is_empty(), extensions_offered) {
        (true, _) => None,
        (false, true) => Some(chosen.join(", ")),
        (false, false) => {
            return Err(WebSocketError::handshake(format!(
                "the server chose extensions {:?} that were not offered (rfc 6455 4.1)",
                chosen.join(", ")
            )))
        }
    };
    let protocol = match header(&headers, "sec-websocket-protocol") {
        None => None,
        Some(chosen) => {
            let chosen = chosen.trim();
            if items(chosen).count() != 1 || !offered.iter().any(|p| p == chosen) {
                return Err(WebSocketError::handshake(format!(
                    "the server chose subprotocol {chosen:?}, which was not offered (rfc 6455 4.1)"
                )));
            }
            Some(chosen.to_owned())
        }
    };
    Ok(Accepted {
        protocol,
        extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn answer(extra: &str) -> String {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n{extra}\r\n"
        )
    }

    #[test]
    fn a_right_answer_is_accepted_with_its_subprotocol() {
        let offered = ["chat".to_owned(), "superchat".to_owned()];
        let ok = check_response(
            answer("Sec-WebSocket-Protocol: chat\r\n").as_bytes(),
            KEY,
            &offered,
            false,
        )
        .unwrap();
        assert_eq!(ok.protocol.as_deref(), Some("chat"));
        assert!(check_response(answer("").as_bytes(), KEY, &offered, false)
            .unwrap()
            .protocol
            .is_none());
    }

    #[test]
    fn wrong_answers_are_refused_with_the_reason() {
        let offered = ["chat".to_owned()];
        let cases = [
            (answer("Sec-WebSocket-Protocol: other\r\n"), "not offered"),
            (
                answer("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
                "extensions",
            ),
            (
                answer("").replace("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "wrong"),
                "Sec-WebSocket-Accept",
            ),
            (answer("").replace("Upgrade: websocket\r\n", ""), "Upgrade"),
        ];
        for (text, expected) in cases {
            let err = check_response(text.as_bytes(), KEY, &offered, false).unwrap_err();
            assert!(err.to_string().contains(expected), "{err}");
        }
        let refused = check_response(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic\r\n\r\n",
            KEY,
            &offered,
            false,
        )
        .unwrap_err();
        assert!(matches!(
            refused,
            WebSocketError::Refused { status: 401, .. }
        ));
    }

    #[test]
    fn the_request_names_what_the_caller_set() {
        let protocols = ["a".to_owned(), "b".to_owned()];
        let headers = [("Origin".to_owned(), "http://x".to_owned())];
        let credential = ("user".to_owned(), "pass".to_owned());
        let text = render(
            &Request {
                host: "example.com:8080",
                resource: "/chat?x=1",
                protocols: &protocols,
                headers: &headers,
                credential: Some(&credential),
                extensions: Some("permessage-deflate"),
            },
            KEY,
        );
        assert!(text.starts_with("GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\n"));
        assert!(text.contains("Sec-WebSocket-Protocol: a, b\r\n"));
        assert!(text.contains("Authorization: Basic dXNlcjpwYXNz\r\n"));
        assert!(text.contains("Sec-WebSocket-Extensions: permessage-deflate\r\n"));
        assert!(text.ends_with("Origin: http://x\r\n\r\n"));
    }
}
