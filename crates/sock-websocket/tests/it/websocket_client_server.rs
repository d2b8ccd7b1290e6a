//! Our client against our server on loopback: messages of both types, in
//! parts and whole, subprotocols, request inspection and rejection, the
//! closing handshake from either side, StreamWebSocket, keep-alive pongs,
//! upgrading a socket already read from, and errors with their statuses.

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use sock_core::SocketErrorStatus;
use sock_websocket::{
    CloseCode, Decision, Message, MessageType, MessageWebSocket, ReceiveMode,
    ServerWebSocketControl, StreamWebSocket, WebErrorStatus, WebSocketError,
};
use support::{echo, echo_server, listener, send, within, RawClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn text_binary_and_empty_messages_echo_with_their_type() {
    let (uri, _endings) = echo_server(ServerWebSocketControl::new()).await;
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    let big = Bytes::from((0..100_000u32).map(|i| i as u8).collect::<Vec<_>>());
    let messages = [
        Message::text("Hello, wörld"),
        Message::binary(big),
        Message::text(""),
        Message::binary(Vec::new()),
    ];
    for message in &messages {
        ws.feed(message.clone()).await.unwrap();
    }
    within(ws.flush()).await.unwrap();
    for message in messages {
        let echoed = within(ws.next()).await.unwrap().unwrap();
        assert_eq!(echoed, message);
    }
    assert_eq!(ws.information().protocol, None);
}

#[tokio::test]
async fn parts_sent_arrive_joined_in_full_mode_and_one_by_one_in_partial_mode() {
    let (listener, uri) = listener().await;
    let server = tokio::spawn(async move {
        let full = ServerWebSocketControl::new();
        let mut ws = full.accept(listener.accept().await.unwrap()).await.unwrap();
        let joined = ws.next().await.unwrap().unwrap();
        let partial = ServerWebSocketControl::new().receive_mode(ReceiveMode::PartialMessage);
        let mut ws2 = partial
            .accept(listener.accept().await.unwrap())
            .await
            .unwrap();
        let mut parts = Vec::new();
        while let Some(part) = ws2.next().await {
            let part = part.unwrap();
            let last = part.is_complete();
            parts.push(part);
            if last {
                break;
            }
        }
        (joined, parts, ws, ws2)
    });
    let send_parts = |mut ws: MessageWebSocket| async move {
        for (data, last) in [(&b"Hel"[..], false), (b"", false), (b"lo", true)] {
            ws.send(Message::part(MessageType::Utf8, data, last))
                .await
                .unwrap();
        }
        ws
    };
    let a = send_parts(within(MessageWebSocket::connect(&uri)).await.unwrap()).await;
    let b = send_parts(within(MessageWebSocket::connect(&uri)).await.unwrap()).await;
    let (joined, parts, _ws, _ws2) = within(server).await.unwrap();
    assert_eq!(joined.as_text(), Some("Hello"));
    assert!(joined.is_complete());
    let shown: Vec<(&[u8], bool)> = parts
        .iter()
        .map(|p| (&p.data()[..], p.is_complete()))
        .collect();
    assert_eq!(shown, [(&b"Hel"[..], false), (b"", false), (b"lo", true)]);
    assert!(parts.iter().all(Message::is_text));
    drop((a, b));
}

#[tokio::test]
async fn a_binary_part_inside_a_text_message_is_refused_before_sending() {
    let (uri, _endings) = echo_server(ServerWebSocketControl::new()).await;
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    ws.send(Message::part(MessageType::Utf8, "a", false))
        .await
        .unwrap();
    let err = ws
        .send(Message::part(MessageType::Binary, "b", true))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WebSocketError::InvalidArgument { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn the_server_picks_its_first_supported_subprotocol_that_the_client_offers() {
    let (uri, _endings) =
        echo_server(ServerWebSocketControl::new().supported_protocols(["v3", "v1", "v2"])).await;
    let ws = within(
        MessageWebSocket::builder()
            .supported_protocols(["v2", "v1"])
            .connect(&uri),
    )
    .await
    .unwrap();
    assert_eq!(ws.information().protocol.as_deref(), Some("v1"));

    let ws = within(
        MessageWebSocket::builder()
            .supported_protocols(["other"])
            .connect(&uri),
    )
    .await
    .unwrap();
    assert_eq!(ws.information().protocol, None);
}

#[tokio::test]
async fn the_server_inspects_path_headers_origin_and_credentials_and_rejects_with_a_status() {
    let (listener, uri) = listener().await;
    let server = tokio::spawn(
        ServerWebSocketControl::new()
            .supported_protocols(["chat"])
            .serve_with(
                listener,
                |request| {
                    if request.path() != "/chat" {
                        return Decision::reject(404);
                    }
                    if request.basic_credentials() != Some(("ann".into(), "secret".into())) {
                        return Decision::reject(401)
                            .with_header("WWW-Authenticate", "Basic realm=\"chat\"");
                    }
                    match (request.origin(), request.header("x-room")) {
                        (Some("https://example.com"), Some("7")) => Decision::accept(),
                        _ => Decision::reject(403),
                    }
                },
                |ws| async move {
                    let resource = ws.information().resource.clone();
                    let mut ws = ws;
                    ws.send(Message::text(resource)).await
                },
            ),
    );
    let base = uri.trim_end_matches('/').to_owned();

    let err = within(MessageWebSocket::connect(&format!("{base}/nowhere")))
        .await
        .unwrap_err();
    assert!(
        matches!(err, WebSocketError::Refused { status: 404, .. }),
        "{err}"
    );
    assert_eq!(err.web_status(), WebErrorStatus::NotFound);

    let err = within(MessageWebSocket::connect(&format!("{base}/chat")))
        .await
        .unwrap_err();
    assert_eq!(err.web_status(), WebErrorStatus::Unauthorized);

    let control = MessageWebSocket::builder()
        .server_credential("ann", "secret")
        .supported_protocols(["chat"])
        .set_request_header("Origin", "https://example.com")
        .unwrap();
    let err = within(control.connect(&format!("{base}/chat")))
        .await
        .unwrap_err();
    assert_eq!(err.web_status(), WebErrorStatus::Forbidden);

    let mut ws = within(
        control
            .set_request_header("X-Room", "7")
            .unwrap()
            .connect(&format!("{base}/chat?x=1")),
    )
    .await
    .unwrap();
    assert_eq!(ws.information().protocol.as_deref(), Some("chat"));
    let greeting = within(ws.next()).await.unwrap().unwrap();
    assert_eq!(greeting.as_text(), Some("/chat?x=1"));
    server.abort();
}

#[tokio::test]
async fn a_close_with_code_and_reason_reaches_the_server_and_its_echo_the_client() {
    let (uri, mut endings) = echo_server(ServerWebSocketControl::new()).await;
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    let closed = ws.closed();
    send(&mut ws, Message::text("last words")).await;
    let peer = within(ws.close(4000, "done here")).await.unwrap();
    assert_eq!(
        (peer.code, peer.reason.as_str()),
        (CloseCode(4000), "done here")
    );
    // The server saw the client's close, and so did the client's closed().
    let server_saw = within(endings.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(server_saw.code, CloseCode(4000));
    assert_eq!(within(closed).await.code, CloseCode(4000));
}

#[tokio::test]
async fn a_server_initiated_close_ends_the_clients_stream_with_the_code_and_reason() {
    let (listener, uri) = listener().await;
    let server = tokio::spawn(async move {
        let ws = ServerWebSocketControl::new()
            .accept(listener.accept().await.unwrap())
            .await
            .unwrap();
        ws.close(CloseCode::GOING_AWAY, "restarting").await
    });
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    assert!(within(ws.next()).await.is_none());
    let close = ws.close_frame().unwrap();
    assert_eq!(
        (close.code, close.reason.as_str()),
        (CloseCode::GOING_AWAY, "restarting")
    );
    drop(ws);
    let echoed = within(server).await.unwrap().unwrap();
    assert_eq!(echoed.code, CloseCode::GOING_AWAY);
}

#[tokio::test]
async fn close_refuses_codes_that_may_not_be_sent_and_long_reasons() {
    let (uri, _endings) = echo_server(ServerWebSocketControl::new()).await;
    let ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    let err = ws.close(CloseCode::NO_STATUS, "").await.unwrap_err();
    assert!(err.to_string().contains("close code"), "{err}");
    let ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    let err = ws.close(1000, &"x".repeat(124)).await.unwrap_err();
    assert!(err.to_string().contains("123"), "{err}");
}

#[tokio::test]
async fn sends_after_close_fail_with_closed() {
    let (uri, _endings) = echo_server(ServerWebSocketControl::new()).await;
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    within(SinkExt::close(&mut ws)).await.unwrap();
    let err = ws.send(Message::text("late")).await.unwrap_err();
    assert!(matches!(err, WebSocketError::Closed));
    // The server's echo of the close ends the stream.
    assert!(within(ws.next()).await.is_none());
    assert_eq!(ws.close_frame().unwrap().code, CloseCode::NORMAL);
}

#[tokio::test]
async fn stream_websockets_move_bytes_both_ways_and_end_with_the_closing_handshake() {
    let (listener, uri) = listener().await;
    let server = tokio::spawn(async move {
        let socket = listener.accept().await.unwrap();
        let mut ws = ServerWebSocketControl::new()
            .accept_stream(socket, |_| Decision::accept())
            .await
            .unwrap();
        // Echo until the client's close frame ends the stream.
        let mut buf = vec![0u8; 10_000];
        let mut total = 0;
        loop {
            let n = ws.read(&mut buf).await.unwrap();
            if n == 0 {
                break;
            }
            total += n;
            ws.write_all(&buf[..n]).await.unwrap();
            ws.flush().await.unwrap();
        }
        (ws.close_frame(), total)
    });
    let ws = within(StreamWebSocket::connect(&uri)).await.unwrap();
    let (mut reader, mut writer) = tokio::io::split(ws);
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let write = async {
        writer.write_all(&data).await.unwrap();
        writer.flush().await.unwrap();
    };
    let mut back = vec![0u8; data.len()];
    within(async { tokio::join!(write, reader.read_exact(&mut back)).1 })
        .await
        .unwrap();
    assert_eq!(back, data);
    let ws = reader.unsplit(writer);
    let peer = within(ws.close(1000, "done")).await.unwrap();
    assert_eq!(peer.code, CloseCode::NORMAL);
    let (server_saw, total) = within(server).await.unwrap();
    assert_eq!(total, data.len());
    assert_eq!(server_saw.unwrap().reason, "done");
}

#[tokio::test]
async fn a_socket_already_read_from_is_upgraded_with_its_buffered_bytes() {
    let (listener, uri) = listener().await;
    let server = tokio::spawn(async move {
        let mut socket = listener.accept().await.unwrap();
        // Sniff the protocol: the first bytes are read before deciding.
        let mut sniffed = [0u8; 4];
        socket.read_exact(&mut sniffed).await.unwrap();
        assert_eq!(&sniffed, b"GET ");
        let ws = ServerWebSocketControl::new()
            .accept_buffered(socket, &sniffed, |_| Decision::accept())
            .await
            .unwrap();
        echo(ws).await
    });
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    send(&mut ws, Message::text("after sniffing")).await;
    let echoed = within(ws.next()).await.unwrap().unwrap();
    assert_eq!(echoed.as_text(), Some("after sniffing"));
    within(ws.close(1000, "")).await.unwrap();
    assert!(within(server).await.unwrap().is_ok());
}

#[tokio::test]
async fn a_keep_alive_pong_is_sent_unasked_at_the_interval() {
    let (uri, _endings) = echo_server(
        ServerWebSocketControl::new()
            .desired_unsolicited_pong_interval(Some(Duration::from_millis(50))),
    )
    .await;
    let mut client = RawClient::connect(&uri).await;
    for _ in 0..2 {
        let (first, payload) = client.read_frame().await.unwrap();
        assert_eq!((first, payload.len()), (0x8A, 0));
    }
}

#[tokio::test]
async fn connect_failures_carry_socket_and_web_statuses() {
    let (listener, uri) = listener().await;
    drop(listener);
    let err = within(MessageWebSocket::connect(&uri)).await.unwrap_err();
    assert_eq!(err.status(), SocketErrorStatus::ConnectionRefused);
    assert_eq!(err.web_status(), WebErrorStatus::CannotConnect);

    let err = within(MessageWebSocket::connect("http://127.0.0.1/"))
        .await
        .unwrap_err();
    assert!(matches!(err, WebSocketError::InvalidUri { .. }), "{err}");

    let err = MessageWebSocket::builder()
        .set_request_header("Sec-WebSocket-Key", "forged")
        .unwrap_err();
    assert!(
        matches!(err, WebSocketError::InvalidArgument { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_handler_that_ends_without_a_close_is_an_abnormal_closure_for_the_client() {
    let (listener, uri) = listener().await;
    tokio::spawn(async move {
        let ws = ServerWebSocketControl::new()
            .accept(listener.accept().await.unwrap())
            .await
            .unwrap();
        drop(ws);
    });
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    let err = within(ws.next()).await.unwrap().unwrap_err();
    assert!(matches!(err, WebSocketError::AbnormalClosure), "{err}");
    assert_eq!(ws.close_frame().unwrap().code, CloseCode::ABNORMAL);
    assert_eq!(err.web_status(), WebErrorStatus::Disconnected);
}
