//! Interop with peers no one here wrote, both ways: Python's `websockets`
//! and Node's `ws` (installed under `target/interop/` on first use). Text and
//! binary from 0 B to 16 MiB, fragmented messages, ping/pong, closes from
//! either side with their codes and reasons, subprotocols, and TLS.
#![cfg(feature = "tls")]

use crate::support;

use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use sock_core::HostName;
use sock_tcp::StreamSocketListener;
use sock_test::certs::Ca;
use sock_tls::TlsServerConfig;
use sock_websocket::{
    CloseCode, Message, MessageType, MessageWebSocket, MessageWebSocketControl,
    ServerWebSocketControl,
};
use support::peers::{Peer, TlsFiles};
use support::within;

const MAX: usize = 32 << 20;

/// A CA and a certificate for `localhost` and 127.0.0.1 it signed.
fn certificates(name: &str) -> TlsFiles {
    let ca = Ca::new("Interop CA");
    let leaf = ca.server(&["localhost", "127.0.0.1"]).with_root(&ca);
    TlsFiles::write(name, &leaf.chain_pem, &leaf.key_pem, &ca.pem())
}

fn client(tls: Option<&TlsFiles>) -> MessageWebSocketControl {
    let control = MessageWebSocket::builder()
        .supported_protocols(["chat"])
        .max_message_size(MAX)
        .max_frame_size(MAX);
    match tls {
        Some(files) => control
            .with_os_roots(false)
            .add_root_certificates_pem(&std::fs::read(&files.ca).unwrap()),
        None => control,
    }
}

/// Our client against the peer's echo server.
async fn our_client_against(peer: Peer, tls: Option<&TlsFiles>) {
    let (_server, port) = peer.server(tls).await;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let uri = format!("{scheme}://127.0.0.1:{port}/");
    let control = client(tls);
    let mut ws = within(control.connect(&uri)).await.unwrap();
    assert_eq!(ws.information().protocol.as_deref(), Some("chat"));

    let mut messages = vec![
        Message::text("hello"),
        Message::text(""),
        Message::text("wörld €𝄞"),
    ];
    for size in [0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20] {
        let data: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
        messages.push(Message::binary(data));
    }
    for message in messages {
        within(ws.send(message.clone())).await.unwrap();
        let echoed = within(ws.next()).await.unwrap().unwrap();
        assert_eq!(echoed.message_type(), message.message_type());
        assert!(
            echoed.data() == message.data(),
            "echo of {} bytes",
            message.len()
        );
    }

    // A message in parts comes back whole.
    for (data, last) in [("frag", false), ("men", false), ("ted", true)] {
        within(ws.send(Message::part(MessageType::Utf8, data, last)))
            .await
            .unwrap();
    }
    let joined = within(ws.next()).await.unwrap().unwrap();
    assert_eq!(joined.as_text(), Some("fragmented"));

    // The peer pings (Python every 50 ms, failing a client that does not
    // answer; Node too): while we read, its pings are answered.
    let quiet = tokio::time::timeout(Duration::from_millis(300), ws.next()).await;
    assert!(quiet.is_err(), "nothing but pings was expected: {quiet:?}");
    within(ws.send(Message::binary(Bytes::from_static(b"still open"))))
        .await
        .unwrap();
    assert_eq!(within(ws.next()).await.unwrap().unwrap().len(), 10);

    let peer_close = within(ws.close(CloseCode::NORMAL, "bye")).await.unwrap();
    assert_eq!(peer_close.code, CloseCode::NORMAL);

    // The peer closes first: our stream ends with its code and reason.
    let mut ws = within(control.connect(&uri)).await.unwrap();
    within(ws.send(Message::text("close-me"))).await.unwrap();
    assert!(within(ws.next()).await.is_none());
    let close = ws.close_frame().unwrap();
    assert_eq!(
        (close.code, close.reason.as_str()),
        (CloseCode(4001), "as asked")
    );
}

/// The peer's client against our echo server.
async fn their_client_against_us(peer: Peer, tls: Option<&TlsFiles>) {
    let lo = HostName::new("127.0.0.1").unwrap();
    let mut builder = StreamSocketListener::builder();
    if let Some(files) = tls {
        let config = TlsServerConfig::builder()
            .certificate_chain_pem(
                &std::fs::read(&files.cert).unwrap(),
                &std::fs::read(&files.key).unwrap(),
            )
            .build()
            .unwrap();
        builder = builder.tls_server_config(config);
    }
    let listener = builder.bind_endpoint(Some(&lo), 0).await.unwrap();
    let port = listener.information().local_port;
    let (tx, mut endings) = tokio::sync::mpsc::unbounded_channel();
    let server = tokio::spawn(
        ServerWebSocketControl::new()
            .supported_protocols(["chat"])
            .max_message_size(MAX)
            .max_frame_size(MAX)
            .serve(listener, move |mut ws| {
                let tx = tx.clone();
                async move {
                    while let Some(message) = ws.next().await {
                        let message = message?;
                        if message.as_text() == Some("close-me") {
                            ws.close(4001, "as asked").await?;
                            return Ok(());
                        }
                        ws.send(message).await?;
                    }
                    let _ = tx.send(ws.close_frame());
                    Ok(())
                }
            }),
    );
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    let host = if tls.is_some() {
        "localhost"
    } else {
        "127.0.0.1"
    };
    peer.client(
        &format!("{scheme}://{host}:{port}/"),
        tls.map(|f| f.ca.as_path()),
    )
    .await;
    // The peer's close reached our handler with its code and reason.
    let close = within(endings.recv()).await.unwrap().unwrap();
    assert_eq!(
        (close.code, close.reason.as_str()),
        (CloseCode::NORMAL, "bye")
    );
    server.abort();
}

#[tokio::test]
async fn our_client_against_python_websockets() {
    our_client_against(Peer::Python, None).await;
}

#[tokio::test]
async fn our_client_against_python_websockets_over_tls() {
    our_client_against(Peer::Python, Some(&certificates("py-server"))).await;
}

#[tokio::test]
async fn python_websockets_client_against_our_server() {
    their_client_against_us(Peer::Python, None).await;
}

#[tokio::test]
async fn python_websockets_client_against_our_server_over_tls() {
    their_client_against_us(Peer::Python, Some(&certificates("py-client"))).await;
}

#[tokio::test]
async fn our_client_against_node_ws() {
    our_client_against(Peer::Node, None).await;
}

#[tokio::test]
async fn our_client_against_node_ws_over_tls() {
    our_client_against(Peer::Node, Some(&certificates("node-server"))).await;
}

#[tokio::test]
async fn node_ws_client_against_our_server() {
    their_client_against_us(Peer::Node, None).await;
}

#[tokio::test]
async fn node_ws_client_against_our_server_over_tls() {
    their_client_against_us(Peer::Node, Some(&certificates("node-client"))).await;
}
