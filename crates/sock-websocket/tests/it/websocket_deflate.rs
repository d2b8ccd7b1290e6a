//! permessage-deflate (RFC 7692): our client and our server agreeing on it
//! (or not), messages of both types from 0 B to 1 MiB whole and in parts,
//! every window size with and without context takeover; answers a client
//! must refuse; compression both ways with Python's `websockets` and Node's
//! `ws`, each as client and as server; and hostile peers: a compression
//! bomb, data that is not DEFLATE, RSV1 where it may not be.
#![cfg(feature = "deflate")]

use crate::support;

use flate2::{Compress, Compression, FlushCompress};
use futures::{SinkExt, StreamExt};
use sock_codec::FrameMemoryBudget;
use sock_websocket::{
    CloseCode, DeflateConfig, DeflateParameters, Message, MessageType, MessageWebSocket,
    MessageWebSocketControl, MessageWebSocketInformation, ReceiveMode, ServerWebSocketControl,
    WebSocketError,
};
use support::peers::Peer;
use support::{listener, upgrade_request, within, Ending, RawClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

const FIN: u8 = 0x80;
const RSV1: u8 = 0x40;
const CONTINUATION: u8 = 0x0;
const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const PING: u8 = 0x9;

/// How one served connection went.
#[derive(Debug)]
struct Served {
    info: MessageWebSocketInformation,
    ending: Ending,
    /// What the server's socket received in all (`TCP_INFO`).
    bytes_received: u64,
}

/// An echo server that reports each connection's information, ending and
/// received bytes once it ends; upgrades it could not make come out as
/// `Err`.
async fn server(
    control: ServerWebSocketControl,
) -> (
    String,
    mpsc::UnboundedReceiver<Result<Served, WebSocketError>>,
) {
    let (listener, uri) = listener().await;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok(socket) = listener.accept().await {
            let (control, tx) = (control.clone(), tx.clone());
            tokio::spawn(async move {
                let mut ws = match control.accept(socket).await {
                    Ok(ws) => ws,
                    Err(e) => return drop(tx.send(Err(e))),
                };
                let ending = async {
                    while let Some(message) = ws.next().await {
                        ws.send(message?).await?;
                    }
                    Ok(ws.close_frame())
                }
                .await;
                let _ = tx.send(Ok(Served {
                    info: ws.information().clone(),
                    ending,
                    bytes_received: ws.socket_information().bytes_received,
                }));
            });
        }
    });
    (uri, rx)
}

fn deflate_server() -> ServerWebSocketControl {
    ServerWebSocketControl::new().deflate(DeflateConfig::new())
}

fn deflate_client() -> MessageWebSocketControl {
    MessageWebSocket::builder().deflate(DeflateConfig::new())
}

/// About `len` bytes of JSON lines, as chat and telemetry send: compressible.
fn json_lines(len: usize) -> String {
    let mut out = String::with_capacity(len + 64);
    let mut i = 0;
    while out.len() < len {
        out.push_str(&format!(
            "{{\"seq\":{i},\"sensor\":\"probe-{}\",\"ok\":true}}\n",
            i % 10
        ));
        i += 1;
    }
    out.truncate(len);
    out
}

/// `len` bytes no compressor shrinks.
fn noise(len: usize) -> Vec<u8> {
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 32) as u8
        })
        .collect()
}

/// `data` as one compressed message: raw DEFLATE with a sync flush, its
/// `00 00 ff ff` taken off (RFC 7692 section 7.2.1).
fn compress(data: &[u8]) -> Vec<u8> {
    let mut deflater = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 2 + 1024);
    let mut rest = data;
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity());
        }
        let before = deflater.total_in();
        deflater
            .compress_vec(rest, &mut out, FlushCompress::Sync)
            .unwrap();
        rest = &rest[(deflater.total_in() - before) as usize..];
        if rest.is_empty() && out.len() < out.capacity() {
            break;
        }
    }
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

/// Sends `message` and checks that it comes back as it went.
async fn round_trip(ws: &mut MessageWebSocket, message: Message) {
    within(ws.send(message.clone())).await.unwrap();
    let echoed = within(ws.next()).await.unwrap().unwrap();
    assert_eq!(echoed.message_type(), message.message_type());
    assert!(
        echoed.data() == message.data(),
        "echo of {} bytes",
        message.len()
    );
}

/// The parameters agreed, in their order of declaration.
fn fields(p: &DeflateParameters) -> (bool, bool, u8, u8) {
    (
        p.server_no_context_takeover,
        p.client_no_context_takeover,
        p.server_max_window_bits,
        p.client_max_window_bits,
    )
}

async fn next_served(rx: &mut mpsc::UnboundedReceiver<Result<Served, WebSocketError>>) -> Served {
    within(rx.recv()).await.unwrap().unwrap()
}

// ===== our client and our server =====

#[tokio::test]
async fn text_and_binary_from_0_b_to_1_mib_travel_compressed_both_ways() {
    let (uri, mut served) = server(deflate_server()).await;
    let mut ws = within(deflate_client().connect(&uri)).await.unwrap();
    let agreed = ws.information().deflate.expect("deflate agreed");
    assert_eq!(fields(&agreed), (false, false, 15, 15));
    assert_eq!(
        ws.information().extensions.as_deref(),
        Some("permessage-deflate")
    );

    let mut sent = 0;
    for size in [0, 1, 125, 126, 255, 256, 4096, 65535, 65536, 1 << 20] {
        for message in [
            Message::text(json_lines(size)),
            Message::binary(json_lines(size).into_bytes()),
            Message::binary(noise(size)),
        ] {
            sent += message.len() as u64;
            round_trip(&mut ws, message).await;
        }
    }
    // The 1 MiB text came back in far fewer bytes than it has.
    let before = ws.socket_information().bytes_received;
    round_trip(&mut ws, Message::text(json_lines(1 << 20))).await;
    let echoed = ws.socket_information().bytes_received - before;
    assert!(
        echoed < 128 << 10,
        "1 MiB of text came back in {echoed} bytes"
    );
    sent += 1 << 20;

    within(ws.close(CloseCode::NORMAL, "done")).await.unwrap();
    let served = next_served(&mut served).await;
    assert_eq!(served.info.deflate, Some(agreed));
    assert_eq!(
        served.ending.unwrap().map(|c| c.code),
        Some(CloseCode::NORMAL)
    );
    // The noise went as it is; everything else compressed.
    let noise_sent: u64 = [0, 1, 125, 126, 255, 256, 4096, 65535, 65536, 1 << 20]
        .iter()
        .sum();
    assert!(
        served.bytes_received < noise_sent + (sent - noise_sent) / 8,
        "the server received {} bytes for {sent}",
        served.bytes_received
    );
}

#[tokio::test]
async fn messages_in_parts_are_compressed_and_arrive_joined_or_part_by_part() {
    let (listener, uri) = listener().await;
    let server = tokio::spawn(async move {
        let full = deflate_server();
        let mut ws = full.accept(listener.accept().await.unwrap()).await.unwrap();
        let joined = ws.next().await.unwrap().unwrap();
        let partial = deflate_server().receive_mode(ReceiveMode::PartialMessage);
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
        // Parts go back as parts: compressed, RSV1 on the first only.
        for part in &parts {
            ws2.send(part.clone()).await.unwrap();
        }
        (joined, parts, ws, ws2)
    });
    let text = json_lines(300_000);
    let pieces = [&text[..10], &text[10..100_000], &text[100_000..]];
    let send_parts = |mut ws: MessageWebSocket| async move {
        for (i, piece) in pieces.iter().enumerate() {
            ws.feed(Message::part(MessageType::Utf8, piece.to_string(), i == 2))
                .await
                .unwrap();
        }
        within(ws.flush()).await.unwrap();
        ws
    };
    let _ws = send_parts(within(deflate_client().connect(&uri)).await.unwrap()).await;
    let partial = deflate_client().receive_mode(ReceiveMode::PartialMessage);
    let mut ws2 = send_parts(within(partial.connect(&uri)).await.unwrap()).await;
    let (joined, parts, _ws, _ws2) = within(server).await.unwrap();
    assert_eq!(joined.as_text(), Some(text.as_str()));
    assert_eq!(parts.len(), 3);
    for (part, piece) in parts.iter().zip(pieces) {
        assert_eq!(part.data(), piece.as_bytes());
    }
    let mut back = Vec::new();
    for _ in 0..3 {
        back.push(within(ws2.next()).await.unwrap().unwrap());
    }
    assert_eq!(
        back.iter().map(Message::is_complete).collect::<Vec<_>>(),
        [false, false, true]
    );
    let back: Vec<u8> = back.iter().flat_map(|p| p.data().to_vec()).collect();
    assert_eq!(back, text.as_bytes());
}

#[tokio::test]
async fn every_window_size_with_and_without_context_takeover() {
    let (uri, mut served) = server(deflate_server()).await;
    let text = json_lines(40_000);
    for bits in 8..=15 {
        for no_takeover in [false, true] {
            let config = DeflateConfig::new()
                .server_max_window_bits(bits)
                .unwrap()
                .client_max_window_bits(bits)
                .unwrap()
                .server_no_context_takeover(no_takeover)
                .client_no_context_takeover(no_takeover);
            let mut ws = within(MessageWebSocket::builder().deflate(config).connect(&uri))
                .await
                .unwrap();
            let expected = (no_takeover, no_takeover, bits, bits);
            assert_eq!(
                ws.information().deflate.as_ref().map(fields),
                Some(expected)
            );
            // The same message thrice: with context takeover the later ones
            // refer back to the earlier.
            for round in 0..3 {
                let slice = &text[round * 1000..];
                round_trip(&mut ws, Message::text(slice)).await;
                round_trip(&mut ws, Message::binary(slice.as_bytes().to_vec())).await;
            }
            within(ws.close(CloseCode::NORMAL, "")).await.unwrap();
            let served = next_served(&mut served).await;
            assert_eq!(
                served.info.deflate.as_ref().map(fields),
                Some(expected),
                "bits {bits}"
            );
            assert!(served.ending.is_ok(), "{:?}", served.ending);
        }
    }
}

#[tokio::test]
async fn the_server_config_limits_what_the_client_gets() {
    let config = DeflateConfig::new()
        .server_max_window_bits(10)
        .unwrap()
        .client_max_window_bits(9)
        .unwrap()
        .client_no_context_takeover(true);
    let (uri, mut served) = server(ServerWebSocketControl::new().deflate(config)).await;
    let mut ws = within(deflate_client().connect(&uri)).await.unwrap();
    assert_eq!(
        ws.information().extensions.as_deref(),
        Some(
            "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; \
             client_max_window_bits=9"
        )
    );
    // The client's offer allowed a limit on its window; the server set
    // both and took away the client's context takeover.
    let expected = (false, true, 10, 9);
    assert_eq!(
        ws.information().deflate.as_ref().map(fields),
        Some(expected)
    );
    round_trip(&mut ws, Message::text(json_lines(100_000))).await;
    within(ws.close(CloseCode::NORMAL, "")).await.unwrap();
    let served = next_served(&mut served).await;
    assert_eq!(served.info.deflate.as_ref().map(fields), Some(expected));
}

#[tokio::test]
async fn without_deflate_on_either_end_messages_go_uncompressed() {
    let text = json_lines(100_000);
    // The server has it off: the client's offer is declined.
    let (uri, mut served) = server(ServerWebSocketControl::new()).await;
    let mut ws = within(deflate_client().connect(&uri)).await.unwrap();
    assert_eq!(ws.information().deflate, None);
    assert_eq!(ws.information().extensions, None);
    round_trip(&mut ws, Message::text(text.clone())).await;
    within(ws.close(CloseCode::NORMAL, "")).await.unwrap();
    let served = next_served(&mut served).await;
    assert_eq!(served.info.deflate, None);
    assert!(served.bytes_received > 100_000);

    // The client has it off: nothing is offered.
    let (uri, mut served) = server(deflate_server()).await;
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    assert_eq!(ws.information().deflate, None);
    round_trip(&mut ws, Message::text(text)).await;
    within(ws.close(CloseCode::NORMAL, "")).await.unwrap();
    assert_eq!(next_served(&mut served).await.info.deflate, None);
}

#[tokio::test]
async fn the_server_declines_offers_it_cannot_honour_and_takes_the_next() {
    let (uri, mut served) = server(deflate_server()).await;
    for offer in [
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; mystery",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "x-webkit-deflate-frame",
    ] {
        let request = upgrade_request(&format!("Sec-WebSocket-Extensions: {offer}\r\n"));
        let mut client = RawClient::connect_with(&uri, &request).await;
        let head = client.read_head().await;
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        assert!(
            !head.contains("Sec-WebSocket-Extensions"),
            "{offer}: {head}"
        );
        // Uncompressed, RSV1 is still refused.
        client
            .send_frame(FIN | RSV1 | TEXT, &compress(b"hello"))
            .await;
        assert_eq!(client.read_close().await, Some(1002));
        let ending = next_served(&mut served).await.ending.unwrap_err();
        assert!(ending.to_string().contains("reserved bits"), "{ending}");
    }
    // Two offers: the first declined, the second taken.
    let request = upgrade_request(
        "Sec-WebSocket-Extensions: permessage-deflate; bogus=1, permessage-deflate; \
         server_max_window_bits=11\r\n",
    );
    let mut client = RawClient::connect_with(&uri, &request).await;
    let head = client.read_head().await;
    assert!(
        head.contains(
            "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=11\r\n"
        ),
        "{head}"
    );
    client
        .send_frame(FIN | RSV1 | TEXT, &compress(b"hello"))
        .await;
    let (first, payload) = client.read_frame().await.unwrap();
    assert_eq!(first, FIN | TEXT, "short messages go uncompressed");
    assert_eq!(payload, b"hello");
}

/// A server on loopback that answers any upgrade with 101 and `extensions`
/// as its `Sec-WebSocket-Extensions`.
async fn answering(extensions: &'static str) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("ws://{}/", tcp.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = tcp.accept().await {
            let mut head = Vec::new();
            while !head.ends_with(b"\r\n\r\n") {
                match socket.read_u8().await {
                    Ok(byte) => head.push(byte),
                    Err(_) => break,
                }
            }
            let head = String::from_utf8_lossy(&head).into_owned();
            let key = head
                .lines()
                .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
                .unwrap_or_default();
            let mut sha = sha1::Sha1::new();
            sha.update(key.trim().as_bytes());
            sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
            let accept = base64::engine::general_purpose::STANDARD.encode(sha.finalize());
            let answer = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {accept}\r\nSec-WebSocket-Extensions: {extensions}\r\n\r\n"
            );
            let _ = socket.write_all(answer.as_bytes()).await;
            // Held open until the client lets go.
            let mut sink = [0u8; 64];
            while matches!(socket.read(&mut sink).await, Ok(n) if n > 0) {}
        }
    });
    uri
}

#[tokio::test]
async fn a_client_fails_answers_with_parameters_it_did_not_allow() {
    let cases: &[(&'static str, DeflateConfig, &str)] = &[
        (
            "permessage-deflate; client_max_window_bits",
            DeflateConfig::new(),
            "without a value",
        ),
        (
            "permessage-deflate; server_max_window_bits=16",
            DeflateConfig::new(),
            "not a window size",
        ),
        (
            "permessage-deflate; bogus",
            DeflateConfig::new(),
            "unknown permessage-deflate parameter",
        ),
        (
            "x-webkit-deflate-frame",
            DeflateConfig::new(),
            "was not offered",
        ),
        (
            "permessage-deflate, permessage-deflate",
            DeflateConfig::new(),
            "2 extensions",
        ),
        (
            "permessage-deflate",
            DeflateConfig::new().server_no_context_takeover(true),
            "lacks server_no_context_takeover",
        ),
        (
            "permessage-deflate; server_max_window_bits=12",
            DeflateConfig::new().server_max_window_bits(10).unwrap(),
            "more than the 10 asked for",
        ),
    ];
    for (answer, config, expected) in cases {
        let uri = answering(answer).await;
        let err = within(MessageWebSocket::builder().deflate(*config).connect(&uri))
            .await
            .unwrap_err();
        match &err {
            WebSocketError::Handshake { detail } => {
                assert!(detail.contains(expected), "{answer}: {detail}");
            }
            other => panic!("{answer}: expected a handshake error, got {other:?}"),
        }
    }
    // Without deflate, any extension in the answer was not offered.
    let uri = answering("permessage-deflate").await;
    let err = within(MessageWebSocket::connect(&uri)).await.unwrap_err();
    assert!(err.to_string().contains("not offered"), "{err}");
}

// ===== peers no one here wrote =====

/// The largest message the interop peers send, and ours accept.
const PEER_MAX: usize = 32 << 20;

/// Our client, compressing, against the peer's echo server (compression on
/// there too): the extension is agreed, and messages travel compressed both
/// ways, as the socket's byte counts show.
async fn our_client_compresses_with(peer: Peer) {
    let (_server, port) = peer.server(None).await;
    let uri = format!("ws://127.0.0.1:{port}/");
    let control = deflate_client()
        .supported_protocols(["chat"])
        .max_message_size(PEER_MAX)
        .max_frame_size(PEER_MAX);
    let mut ws = within(control.connect(&uri)).await.unwrap();
    assert!(ws.information().deflate.is_some(), "{:?}", ws.information());
    assert!(ws
        .information()
        .extensions
        .as_deref()
        .is_some_and(|e| e.starts_with("permessage-deflate")));

    let text = json_lines(1 << 20);
    let start = ws.socket_information();
    let messages = [
        Message::text(""),
        Message::text("hello"),
        Message::text(text.clone()),
        Message::binary(text.clone().into_bytes()),
        Message::binary(noise(100_000)),
    ];
    let total: usize = messages.iter().map(Message::len).sum::<usize>() + text.len();
    for message in messages {
        round_trip(&mut ws, message).await;
    }
    // In parts: compressed, RSV1 on the first; echoed whole.
    let pieces = [&text[..1000], &text[1000..5000], &text[5000..]];
    for (i, piece) in pieces.iter().enumerate() {
        ws.feed(Message::part(MessageType::Utf8, piece.to_string(), i == 2))
            .await
            .unwrap();
    }
    within(ws.flush()).await.unwrap();
    let joined = within(ws.next()).await.unwrap().unwrap();
    assert_eq!(joined.as_text(), Some(text.as_str()));

    let end = ws.socket_information();
    let (sent, received) = (
        end.bytes_sent - start.bytes_sent,
        end.bytes_received - start.bytes_received,
    );
    assert!(
        sent < total as u64 / 4,
        "{peer:?}: sent {sent} bytes for {total}"
    );
    assert!(
        received < total as u64 / 4,
        "{peer:?}: received {received} bytes for {total}"
    );
    let peer_close = within(ws.close(CloseCode::NORMAL, "bye")).await.unwrap();
    assert_eq!(peer_close.code, CloseCode::NORMAL);
}

/// The peer's client, compressing, against our server: its script checks
/// that permessage-deflate was agreed and its messages echo; our end saw
/// the extension and far fewer bytes than the messages hold.
async fn their_client_compresses_with_us(peer: Peer) {
    let (listener, uri) = listener().await;
    let (tx, mut endings) = mpsc::unbounded_channel();
    let server = tokio::spawn(
        deflate_server()
            .supported_protocols(["chat"])
            .max_message_size(PEER_MAX)
            .max_frame_size(PEER_MAX)
            .serve(listener, move |mut ws| {
                let tx = tx.clone();
                async move {
                    while let Some(message) = ws.next().await {
                        ws.send(message?).await?;
                    }
                    let _ = tx.send((
                        ws.information().deflate,
                        ws.close_frame(),
                        ws.socket_information().bytes_received,
                    ));
                    Ok(())
                }
            }),
    );
    peer.run_client("deflate-client", &uri, None).await;
    let (deflate, close, received) = within(endings.recv()).await.unwrap();
    assert!(
        deflate.is_some(),
        "{peer:?} did not agree permessage-deflate"
    );
    assert_eq!(close.map(|c| c.code), Some(CloseCode::NORMAL));
    // Its script sends over 3 MiB, mostly JSON lines.
    assert!(received < 1 << 20, "{peer:?}: we received {received} bytes");
    server.abort();
}

#[tokio::test]
async fn our_client_compresses_with_python_websockets() {
    our_client_compresses_with(Peer::Python).await;
}

#[tokio::test]
async fn our_client_compresses_with_node_ws() {
    our_client_compresses_with(Peer::Node).await;
}

#[tokio::test]
async fn python_websockets_client_compresses_with_our_server() {
    their_client_compresses_with_us(Peer::Python).await;
}

#[tokio::test]
async fn node_ws_client_compresses_with_our_server() {
    their_client_compresses_with_us(Peer::Node).await;
}

// ===== hostile peers =====

/// A raw client that offered permessage-deflate and had it accepted.
async fn raw_deflate_client(uri: &str) -> RawClient {
    let request = upgrade_request("Sec-WebSocket-Extensions: permessage-deflate\r\n");
    let mut client = RawClient::connect_with(uri, &request).await;
    let head = client.read_head().await;
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    assert!(
        head.contains("Sec-WebSocket-Extensions: permessage-deflate\r\n"),
        "{head}"
    );
    client
}

/// The server failed the connection with `code`: its close frame said so,
/// the TCP connection closed, and the server reported an error whose text
/// holds `detail`.
async fn expect_failed(
    client: &mut RawClient,
    served: &mut mpsc::UnboundedReceiver<Result<Served, WebSocketError>>,
    code: u16,
    detail: &str,
) -> WebSocketError {
    assert_eq!(client.read_close().await, Some(code));
    client.expect_closed().await;
    let err = next_served(served).await.ending.unwrap_err();
    assert!(err.to_string().contains(detail), "{err} lacks {detail:?}");
    assert_eq!(err.close_code(), Some(CloseCode(code)));
    err
}

#[tokio::test]
async fn a_compression_bomb_stops_at_max_message_size_with_1009_memory_bounded() {
    // 10 MB of zeros in about 10 KB.
    let bomb = compress(&vec![0u8; 10_000_000]);
    assert!(bomb.len() < 16 * 1024, "{}", bomb.len());
    // Every byte the inflated message holds is charged to this budget past
    // the free 64 KiB: had the buffer grown past the limit, the budget
    // would have refused it before max_message_size did.
    let budget = FrameMemoryBudget::new(1 << 20);
    let control = deflate_server()
        .max_message_size(1 << 20)
        .memory_budget(budget.clone());
    let (uri, mut served) = server(control).await;
    let mut client = raw_deflate_client(&uri).await;
    client.send_frame(FIN | RSV1 | BINARY, &bomb).await;
    let err = expect_failed(&mut client, &mut served, 1009, "max_message_size").await;
    assert_eq!(
        err.to_string(),
        "max_message_size exceeded: 1048577 bytes is more than the maximum of 1048576"
    );
    assert_eq!(budget.in_use(), 0);

    // The same bomb in 100-byte fragments: the message's inflated bytes add up.
    let mut client = raw_deflate_client(&uri).await;
    let mut chunks = bomb.chunks(100).peekable();
    let mut first = true;
    while let Some(chunk) = chunks.next() {
        let fin = if chunks.peek().is_none() { FIN } else { 0 };
        let head = if first { RSV1 | BINARY } else { CONTINUATION };
        client.send_frame(fin | head, chunk).await;
        first = false;
    }
    expect_failed(&mut client, &mut served, 1009, "max_message_size").await;

    // A server that serves on meanwhile.
    let mut ws = within(deflate_client().connect(&uri)).await.unwrap();
    round_trip(&mut ws, Message::text(json_lines(10_000))).await;
}

#[tokio::test]
async fn a_bomb_against_the_memory_budget_fails_with_1013_and_in_partial_mode_names_max_frame_size()
{
    let bomb = compress(&vec![0u8; 10_000_000]);
    let budget = FrameMemoryBudget::new(256 << 10);
    let (uri, mut served) = server(deflate_server().memory_budget(budget.clone())).await;
    let mut client = raw_deflate_client(&uri).await;
    client.send_frame(FIN | RSV1 | TEXT, &bomb).await;
    expect_failed(&mut client, &mut served, 1013, "frame_memory_budget").await;
    assert_eq!(budget.in_use(), 0);

    let control = deflate_server()
        .receive_mode(ReceiveMode::PartialMessage)
        .max_frame_size(1 << 20);
    let (uri, mut served) = server(control).await;
    let mut client = raw_deflate_client(&uri).await;
    client.send_frame(FIN | RSV1 | BINARY, &bomb).await;
    expect_failed(&mut client, &mut served, 1009, "max_frame_size").await;
}

#[tokio::test]
async fn data_that_is_not_deflate_fails_with_1007() {
    let (uri, mut served) = server(deflate_server()).await;
    // 0xff: a block of the reserved type 3.
    let mut client = raw_deflate_client(&uri).await;
    client.send_frame(FIN | RSV1 | BINARY, &[0xff; 16]).await;
    expect_failed(&mut client, &mut served, 1007, "not valid deflate data").await;
    // Text that inflates to something that is not UTF-8.
    let mut client = raw_deflate_client(&uri).await;
    client
        .send_frame(FIN | RSV1 | TEXT, &compress(b"ok \xC3\x28 not"))
        .await;
    expect_failed(&mut client, &mut served, 1007, "not valid utf-8").await;
}

#[tokio::test]
async fn rsv1_on_a_control_or_continuation_frame_fails_with_1002() {
    let (uri, mut served) = server(deflate_server()).await;
    let mut client = raw_deflate_client(&uri).await;
    client.send_frame(FIN | RSV1 | PING, b"").await;
    expect_failed(
        &mut client,
        &mut served,
        1002,
        "rsv1 set on a control frame",
    )
    .await;

    let mut client = raw_deflate_client(&uri).await;
    let data = compress(&json_lines(5000).into_bytes());
    client.send_frame(RSV1 | TEXT, &data[..100]).await;
    client
        .send_frame(FIN | RSV1 | CONTINUATION, &data[100..])
        .await;
    expect_failed(
        &mut client,
        &mut served,
        1002,
        "rsv1 set on a continuation frame",
    )
    .await;
}

#[tokio::test]
async fn rsv1_without_deflate_agreed_fails_with_1002() {
    // The server has deflate on, but this client did not offer it.
    let (uri, mut served) = server(deflate_server()).await;
    let mut client = RawClient::connect(&uri).await;
    client
        .send_frame(FIN | RSV1 | TEXT, &compress(b"hello"))
        .await;
    expect_failed(&mut client, &mut served, 1002, "reserved bits").await;
}

#[tokio::test]
async fn a_compressed_message_from_a_raw_client_inflates_and_is_echoed_compressed() {
    let (uri, mut served) = server(deflate_server()).await;
    let mut client = raw_deflate_client(&uri).await;
    let text = json_lines(20_000);
    client
        .send_frame(FIN | RSV1 | TEXT, &compress(text.as_bytes()))
        .await;
    let (first, payload) = client.read_frame().await.unwrap();
    assert_eq!(first, FIN | RSV1 | TEXT);
    assert!(payload.len() < text.len() / 4);
    let mut inflater = flate2::Decompress::new(false);
    let mut out = Vec::with_capacity(text.len() + 1);
    let mut input = payload;
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    inflater
        .decompress_vec(&input, &mut out, flate2::FlushDecompress::Sync)
        .unwrap();
    assert_eq!(out, text.as_bytes());
    client
        .send_frame(FIN | 0x8, &support::close_payload(1000, b""))
        .await;
    assert_eq!(client.read_close().await, Some(1000));
    assert!(next_served(&mut served).await.ending.is_ok());
}

#[tokio::test]
async fn parts_sent_compressed_carry_rsv1_on_their_first_frame_only() {
    let control = deflate_server().receive_mode(ReceiveMode::PartialMessage);
    let (uri, _served) = server(control).await;
    let mut client = raw_deflate_client(&uri).await;
    let text = json_lines(30_000);
    let data = compress(text.as_bytes());
    let third = data.len() / 3;
    client.send_frame(RSV1 | TEXT, &data[..third]).await;
    client
        .send_frame(CONTINUATION, &data[third..2 * third])
        .await;
    client
        .send_frame(FIN | CONTINUATION, &data[2 * third..])
        .await;
    // Each part inflated is echoed as a part, compressed by the server.
    let mut firsts = Vec::new();
    let mut stream = Vec::new();
    loop {
        let (first, payload) = client.read_frame().await.unwrap();
        firsts.push(first);
        stream.extend_from_slice(&payload);
        if first & FIN != 0 {
            break;
        }
    }
    assert_eq!(firsts[0], RSV1 | TEXT);
    assert!(
        firsts[1..].iter().all(|f| f & !FIN == CONTINUATION),
        "{firsts:x?}"
    );
    stream.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut inflater = flate2::Decompress::new(false);
    let mut out = Vec::with_capacity(text.len() + 1);
    inflater
        .decompress_vec(&stream, &mut out, flate2::FlushDecompress::Sync)
        .unwrap();
    assert_eq!(out, text.as_bytes());
}
