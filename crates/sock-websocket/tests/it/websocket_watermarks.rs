//! Backpressure watermarks on a server `MessageWebSocket` whose client stops
//! reading: the WebSocket stops being writable at the high watermark, a
//! producer feeding it holds no more than that plus one message, and it is
//! writable again once the client reads below the low watermark.

use crate::support;

use futures::{FutureExt, SinkExt};
use sock_websocket::MessageWebSocket;
use sock_websocket::{Message, ServerWebSocketControl, WebSocketError};
use support::{listener, within, RawClient};
use tokio::io::AsyncReadExt;

/// A raw client and the server `MessageWebSocket` it is connected to.
async fn connected() -> (RawClient, MessageWebSocket) {
    let (listener, uri) = listener().await;
    let server = async {
        let socket = listener.accept().await.unwrap();
        ServerWebSocketControl::new().accept(socket).await.unwrap()
    };
    within(async { tokio::join!(RawClient::connect(&uri), server) }).await
}

#[tokio::test]
async fn a_websocket_to_a_stalled_reader_stops_at_the_high_watermark_and_resumes_below_the_low() {
    let (mut client, mut ws) = connected().await;
    let (low, high) = (8 * 1024, 32 * 1024);
    ws.set_watermarks(low, high).unwrap();
    assert!(ws.is_writable());

    // Feed 1 KiB messages until the WebSocket says stop; the client reads nothing.
    let message = Message::binary(vec![7u8; 1024]);
    let mut fed = 0usize;
    loop {
        // One poll: Pending only once the socket refuses more (the client
        // reads nothing, so from then on the stall lasts).
        match ws.feed(message.clone()).now_or_never() {
            Some(result) => result.unwrap(),
            None => break,
        }
        fed += 1;
        assert!(fed < 100_000, "the kernel buffers never filled");
    }
    assert!(!ws.is_writable());
    // What waits in the WebSocket is bounded by the high watermark plus one
    // message, however much the producer wanted to send.
    assert!(
        ws.buffered_amount() <= high + 1024 + 16,
        "{}",
        ws.buffered_amount()
    );
    assert!(ws.buffered_amount() >= low, "{}", ws.buffered_amount());

    // The client reads everything it was sent so far: the WebSocket drains
    // below the low watermark and is writable again.
    let reader = tokio::spawn(async move {
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0usize;
        while total < fed * (1024 + 4) {
            let n = client.tcp.read(&mut buf).await.unwrap();
            assert!(n > 0, "closed early");
            total += n;
        }
        client
    });
    within(ws.writable()).await.unwrap();
    assert!(ws.is_writable());
    assert!(ws.buffered_amount() < low, "{}", ws.buffered_amount());
    within(ws.flush()).await.unwrap();
    assert_eq!(ws.buffered_amount(), 0);
    within(reader).await.unwrap();
}

#[tokio::test]
async fn a_low_watermark_above_the_high_one_is_refused_by_name() {
    let (_client, mut ws) = connected().await;
    let err = ws.set_watermarks(10, 5).unwrap_err();
    assert!(
        matches!(
            err,
            WebSocketError::InvalidArgument {
                setting: "watermarks",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("low watermark (10 bytes)"),
        "{err}"
    );
    // The defaults stay in force.
    assert!(ws.is_writable());
}
