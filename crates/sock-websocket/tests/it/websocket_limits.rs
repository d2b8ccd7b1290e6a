//! Limits and bad input: message and frame sizes refused on the header
//! before the payload is stored, handshakes too long or too slow, and a peer
//! that never finishes the closing handshake; each a clear error naming the
//! limit, the server going on serving.

use crate::support;

use std::time::Duration;

use futures::StreamExt;
use sock_websocket::{
    CloseCode, Message, MessageWebSocket, ServerWebSocketControl, WebSocketError,
};
use support::{echo_server, listener, send, upgrade_request, within, RawClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn expect_limit(ending: Result<impl std::fmt::Debug, WebSocketError>, limit: &str) {
    match ending {
        Err(WebSocketError::LimitExceeded { limit: got, .. }) => assert_eq!(got, limit),
        other => panic!("expected {limit} exceeded, got {other:?}"),
    }
}

#[tokio::test]
async fn a_message_over_max_message_size_is_refused_with_1009_and_the_server_serves_on() {
    let control = ServerWebSocketControl::new().max_message_size(1000);
    let (uri, mut endings) = echo_server(control).await;
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    send(&mut ws, Message::binary(vec![1u8; 1000])).await;
    assert_eq!(within(ws.next()).await.unwrap().unwrap().len(), 1000);
    send(&mut ws, Message::binary(vec![1u8; 1001])).await;
    // The server's close frame with 1009 ends the client's stream.
    assert!(within(ws.next()).await.is_none());
    assert_eq!(ws.close_frame().unwrap().code, CloseCode::MESSAGE_TOO_BIG);
    expect_limit(within(endings.recv()).await.unwrap(), "max_message_size");

    // Another connection is served as before.
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    send(&mut ws, Message::text("still here")).await;
    assert_eq!(
        within(ws.next()).await.unwrap().unwrap().as_text(),
        Some("still here")
    );
}

#[tokio::test]
async fn fragments_adding_up_past_max_message_size_are_refused_before_the_last_one() {
    let control = ServerWebSocketControl::new().max_message_size(100);
    let (uri, mut endings) = echo_server(control).await;
    let mut client = RawClient::connect(&uri).await;
    client.send_frame(0x02, &[0; 60]).await;
    client.send_frame(0x00, &[0; 41]).await;
    assert_eq!(client.read_close().await, Some(1009));
    client.expect_closed().await;
    let ending = within(endings.recv()).await.unwrap();
    let err = ending.unwrap_err();
    assert_eq!(
        err.to_string(),
        "max_message_size exceeded: 101 bytes is more than the maximum of 100"
    );
}

#[tokio::test]
async fn a_huge_announced_frame_is_refused_on_its_header_alone() {
    let (uri, mut endings) = echo_server(ServerWebSocketControl::new()).await;
    let mut client = RawClient::connect(&uri).await;
    // 1 TiB announced; not one payload byte follows.
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(1u64 << 40).to_be_bytes());
    header.extend_from_slice(&[1, 2, 3, 4]);
    client.send_raw(&header).await;
    assert_eq!(client.read_close().await, Some(1009));
    client.expect_closed().await;
    let err = within(endings.recv()).await.unwrap().unwrap_err();
    assert_eq!(
        err.to_string(),
        "max_frame_size exceeded: 1099511627776 bytes is more than the maximum of 16777216"
    );
    assert_eq!(err.close_code(), Some(CloseCode::MESSAGE_TOO_BIG));
}

#[tokio::test]
async fn partial_mode_bounds_frames_but_not_messages() {
    let control = ServerWebSocketControl::new()
        .receive_mode(sock_websocket::ReceiveMode::PartialMessage)
        .max_message_size(10)
        .max_frame_size(100);
    let (uri, mut endings) = echo_server(control).await;
    let mut client = RawClient::connect(&uri).await;
    // 3 × 100 bytes: over max_message_size, which partial mode does not apply.
    for first in [0x02, 0x00, 0x80] {
        client.send_frame(first, &[7; 100]).await;
        assert_eq!(client.read_frame().await.unwrap().1.len(), 100);
    }
    client.send_frame(0x82, &[7; 101]).await;
    assert_eq!(client.read_close().await, Some(1009));
    expect_limit(within(endings.recv()).await.unwrap(), "max_frame_size");
}

#[tokio::test]
async fn a_handshake_head_over_max_handshake_size_is_answered_431() {
    let control = ServerWebSocketControl::new().max_handshake_size(1024);
    let (uri, mut endings) = echo_server(control).await;
    let padding = format!("X-Padding: {}\r\n", "p".repeat(2000));
    let mut client = RawClient::connect_with(&uri, &upgrade_request(&padding)).await;
    let head = client.read_head().await;
    assert!(head.starts_with("HTTP/1.1 431 "), "{head}");
    expect_limit(within(endings.recv()).await.unwrap(), "max_handshake_size");
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_is_cut_at_the_handshake_timeout() {
    let control = ServerWebSocketControl::new().handshake_timeout(Duration::from_millis(200));
    let (uri, mut endings) = echo_server(control).await;
    // Half a request, then silence.
    let mut client = RawClient::connect_with(&uri, "GET / HTTP/1.1\r\nHost: x\r\n").await;
    match within(endings.recv()).await.unwrap() {
        Err(WebSocketError::TimedOut { operation, after }) => {
            assert!(operation.contains("handshake_timeout"));
            assert_eq!(after, Duration::from_millis(200));
        }
        other => panic!("expected a handshake timeout, got {other:?}"),
    }
    client.expect_closed().await;
}

#[tokio::test]
async fn a_server_that_never_answers_the_upgrade_is_cut_at_the_handshake_timeout() {
    let (listener, uri) = listener().await;
    let silent = tokio::spawn(async move {
        let mut socket = listener.accept().await.unwrap();
        // Read the request, answer nothing, keep the connection open.
        let mut buf = [0u8; 4096];
        let _ = socket.read(&mut buf).await;
        let _ = socket.read(&mut buf).await;
    });
    let err = within(
        MessageWebSocket::builder()
            .handshake_timeout(Duration::from_millis(200))
            .connect(&uri),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, WebSocketError::TimedOut { .. }), "{err}");
    assert_eq!(
        err.status(),
        sock_core::SocketErrorStatus::ConnectionTimedOut
    );
    silent.abort();
}

#[tokio::test]
async fn a_peer_that_never_answers_our_close_is_cut_at_the_close_timeout() {
    let (listener, uri) = listener().await;
    let server = tokio::spawn(async move {
        let ws = ServerWebSocketControl::new()
            .close_timeout(Duration::from_millis(200))
            .accept(listener.accept().await.unwrap())
            .await
            .unwrap();
        ws.close(CloseCode::GOING_AWAY, "bye").await
    });
    let mut client = RawClient::connect(&uri).await;
    // The close frame arrives; the client never answers and keeps the
    // connection open.
    assert_eq!(client.read_close().await, Some(1001));
    match within(server).await.unwrap() {
        Err(WebSocketError::TimedOut { operation, .. }) => {
            assert!(operation.contains("close_timeout"), "{operation}")
        }
        other => panic!("expected the close timeout, got {other:?}"),
    }
    // The connection was reset or closed, not left open.
    client.expect_closed().await;
}

#[tokio::test]
async fn a_peer_flooding_pings_without_reading_cannot_grow_our_memory_without_bound() {
    let (uri, _endings) = echo_server(ServerWebSocketControl::new()).await;
    let mut client = RawClient::connect(&uri).await;
    // 100 MB of pings (each needing a 125-byte pong) while never reading.
    let ping = support::masked_frame(0x89, &[0u8; 125]);
    let burst: Vec<u8> = ping
        .iter()
        .copied()
        .cycle()
        .take(ping.len() * 8192)
        .collect();
    let writer = async {
        for _ in 0..100 {
            if client.tcp.write_all(&burst).await.is_err() {
                return true;
            }
        }
        false
    };
    // The server stops reading once its unsent pongs pass the bound, so the
    // client's writes block: the flood cannot finish.
    let finished = tokio::time::timeout(Duration::from_secs(2), writer).await;
    assert!(
        finished.is_err(),
        "the server read a whole flood it could not answer"
    );
}

#[tokio::test]
async fn partial_frames_share_one_memory_budget_and_the_spender_gets_1013() {
    let budget = sock_codec::FrameMemoryBudget::new(1 << 20);
    let control = ServerWebSocketControl::new().memory_budget(budget.clone());
    let (uri, mut endings) = echo_server(control).await;
    let mut hog = RawClient::connect(&uri).await;
    // A 16 MiB frame announced, 200 KB of it sent: the room kept for the
    // rest is more than the 1 MiB the connections share.
    let mut header = vec![0x82, 0x80 | 127];
    header.extend_from_slice(&(16u64 << 20).to_be_bytes());
    header.extend_from_slice(&[0, 0, 0, 0]);
    hog.send_raw(&header).await;
    hog.send_raw(&vec![0u8; 200_000]).await;
    assert_eq!(hog.read_close().await, Some(1013));
    expect_limit(within(endings.recv()).await.unwrap(), "frame_memory_budget");
    hog.expect_closed().await;
    assert_eq!(budget.in_use(), 0);

    // Others are served meanwhile and after.
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    send(&mut ws, Message::binary(vec![5u8; 50_000])).await;
    assert_eq!(within(ws.next()).await.unwrap().unwrap().len(), 50_000);
}

#[tokio::test]
async fn a_message_dripped_in_fragments_is_cut_at_the_message_timeout() {
    let control = ServerWebSocketControl::new().message_timeout(Some(Duration::from_millis(300)));
    let (uri, mut endings) = echo_server(control).await;
    let client = RawClient::connect(&uri).await;
    let (mut read, mut write) = client.tcp.into_split();
    // One fragment, then a byte of the message (as tiny fragments) and a
    // ping every 50 ms: never idle, never finished.
    let drip = async move {
        write
            .write_all(&support::masked_frame(0x01, b"start"))
            .await
            .unwrap();
        loop {
            let mut bytes = support::masked_frame(0x00, b".");
            bytes.extend_from_slice(&support::masked_frame(0x89, b""));
            if write.write_all(&bytes).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let dripper = tokio::spawn(drip);
    // Pongs, then the close frame with 1008.
    let code = within(async {
        loop {
            let mut head = [0u8; 2];
            read.read_exact(&mut head).await.unwrap();
            let mut payload = vec![0u8; usize::from(head[1] & 0x7F)];
            read.read_exact(&mut payload).await.unwrap();
            if head[0] & 0x0F == 0x8 {
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
    })
    .await;
    assert_eq!(code, 1008);
    match within(endings.recv()).await.unwrap() {
        Err(WebSocketError::TimedOut { operation, after }) => {
            assert!(operation.contains("message_timeout"), "{operation}");
            assert_eq!(after, Duration::from_millis(300));
        }
        other => panic!("expected the message timeout, got {other:?}"),
    }
    dripper.abort();
}
