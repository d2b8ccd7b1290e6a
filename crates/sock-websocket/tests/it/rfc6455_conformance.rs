//! RFC 6455 conformance: raw bytes written to our server (and, for what only
//! a server can break, read by our client), each case named after the
//! section that says how an endpoint must react.

use crate::support;

use sock_websocket::{CloseCode, MessageWebSocket, ServerWebSocketControl, WebSocketError};
use support::{close_payload, echo_server, masked_frame, within, Ending, RawClient};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc::UnboundedReceiver;

const TEXT: u8 = 0x1;
const BINARY: u8 = 0x2;
const CONTINUATION: u8 = 0x0;
const CLOSE: u8 = 0x8;
const PING: u8 = 0x9;
const PONG: u8 = 0xA;
const FIN: u8 = 0x80;

async fn server() -> (String, UnboundedReceiver<Ending>) {
    echo_server(ServerWebSocketControl::new()).await
}

/// The server failed the connection with `code`: its close frame carried
/// it, it closed the TCP connection, and it reported the protocol error.
async fn expect_failed(
    client: &mut RawClient,
    endings: &mut UnboundedReceiver<Ending>,
    code: u16,
    detail: &str,
) {
    assert_eq!(client.read_close().await, Some(code));
    client.expect_closed().await;
    match within(endings.recv()).await.unwrap() {
        Err(WebSocketError::Protocol {
            code: got,
            detail: d,
        }) => {
            assert_eq!(got, CloseCode(code));
            assert!(d.contains(detail), "{d:?} lacks {detail:?}");
        }
        other => panic!("expected a protocol error, got {other:?}"),
    }
}

#[tokio::test]
async fn section_5_2_reserved_bits_without_an_extension_fail_with_1002() {
    let (uri, mut endings) = server().await;
    for rsv in [0x40, 0x20, 0x10] {
        let mut client = RawClient::connect(&uri).await;
        client.send_frame(FIN | rsv | TEXT, b"hi").await;
        expect_failed(&mut client, &mut endings, 1002, "reserved bits").await;
    }
}

#[tokio::test]
async fn section_5_2_reserved_opcodes_fail_with_1002() {
    let (uri, mut endings) = server().await;
    for opcode in [0x3, 0x7, 0xB, 0xF] {
        let mut client = RawClient::connect(&uri).await;
        client.send_frame(FIN | opcode, b"x").await;
        expect_failed(&mut client, &mut endings, 1002, "reserved opcode").await;
    }
}

#[tokio::test]
async fn section_5_2_a_64_bit_length_with_its_top_bit_set_fails_with_1002() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    let mut frame = vec![FIN | BINARY, 0x80 | 127];
    frame.extend_from_slice(&(1u64 << 63).to_be_bytes());
    frame.extend_from_slice(&[0, 0, 0, 0]);
    client.send_raw(&frame).await;
    expect_failed(&mut client, &mut endings, 1002, "most significant bit").await;
}

#[tokio::test]
async fn section_5_1_an_unmasked_client_frame_fails_with_1002() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    client.send_raw(&[FIN | TEXT, 2, b'h', b'i']).await;
    expect_failed(&mut client, &mut endings, 1002, "unmasked").await;
}

#[tokio::test]
async fn section_5_5_a_control_frame_longer_than_125_bytes_fails_with_1002() {
    let (uri, mut endings) = server().await;
    for opcode in [PING, PONG, CLOSE] {
        let mut client = RawClient::connect(&uri).await;
        client.send_frame(FIN | opcode, &[b'p'; 126]).await;
        expect_failed(&mut client, &mut endings, 1002, "longer than 125").await;
    }
}

#[tokio::test]
async fn section_5_5_a_fragmented_control_frame_fails_with_1002() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    client.send_frame(PING, b"half").await;
    expect_failed(&mut client, &mut endings, 1002, "fragmented control").await;
}

#[tokio::test]
async fn section_5_4_a_continuation_with_no_message_fails_with_1002() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    client.send_frame(FIN | CONTINUATION, b"orphan").await;
    expect_failed(&mut client, &mut endings, 1002, "no message to continue").await;
}

#[tokio::test]
async fn section_5_4_a_new_message_inside_a_fragmented_one_fails_with_1002() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    client.send_frame(TEXT, b"a").await;
    client.send_frame(FIN | BINARY, b"b").await;
    expect_failed(
        &mut client,
        &mut endings,
        1002,
        "before the fragmented message ended",
    )
    .await;
}

#[tokio::test]
async fn section_5_4_control_frames_between_fragments_are_answered_and_the_message_joined() {
    let (uri, _endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    client.send_frame(TEXT, b"Hel").await;
    client.send_frame(FIN | PING, b"are you there").await;
    assert_eq!(
        client.read_frame().await,
        Some((FIN | PONG, b"are you there".to_vec()))
    );
    client.send_frame(CONTINUATION, b"").await;
    client
        .send_frame(FIN | CONTINUATION, "lo, wörld".as_bytes())
        .await;
    assert_eq!(
        client.read_frame().await,
        Some((FIN | TEXT, "Hello, wörld".as_bytes().to_vec()))
    );
}

#[tokio::test]
async fn section_5_5_2_a_ping_is_answered_with_a_pong_carrying_its_payload() {
    let (uri, _endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    for payload in [&b""[..], b"abc", &[0xFF; 125]] {
        client.send_frame(FIN | PING, payload).await;
        assert_eq!(
            client.read_frame().await,
            Some((FIN | PONG, payload.to_vec()))
        );
    }
    // An unsolicited pong needs no answer: the next message echoes at once.
    client.send_frame(FIN | PONG, b"beat").await;
    client.send_frame(FIN | BINARY, b"after").await;
    assert_eq!(
        client.read_frame().await,
        Some((FIN | BINARY, b"after".to_vec()))
    );
}

#[tokio::test]
async fn section_8_1_invalid_utf8_split_across_fragments_fails_fast_with_1007() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    // Valid so far: 0xCE starts a two-byte character.
    client.send_frame(TEXT, b"ok \xCE").await;
    // 'A' cannot continue it. The message is not finished, and still the
    // server must fail the connection now.
    client.send_frame(CONTINUATION, b"A").await;
    expect_failed(&mut client, &mut endings, 1007, "utf-8").await;
}

#[tokio::test]
async fn section_8_1_invalid_utf8_in_a_whole_text_message_fails_with_1007() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    // One frame, the whole message: 0xFF is never UTF-8.
    client.send_frame(FIN | TEXT, b"bad \xFF").await;
    expect_failed(&mut client, &mut endings, 1007, "utf-8").await;
}

#[tokio::test]
async fn section_8_1_text_ending_inside_a_character_fails_with_1007() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    client.send_frame(TEXT, b"\xE2").await;
    client.send_frame(FIN | CONTINUATION, b"\x82").await;
    expect_failed(&mut client, &mut endings, 1007, "utf-8").await;
}

#[tokio::test]
async fn section_8_1_a_character_split_across_fragments_is_valid() {
    let (uri, _endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    let euro = "€".as_bytes();
    client.send_frame(TEXT, &euro[..1]).await;
    client.send_frame(CONTINUATION, &euro[1..2]).await;
    client.send_frame(FIN | CONTINUATION, &euro[2..]).await;
    assert_eq!(client.read_frame().await, Some((FIN | TEXT, euro.to_vec())));
}

#[tokio::test]
async fn section_7_4_close_codes_that_may_not_be_sent_fail_with_1002() {
    let (uri, mut endings) = server().await;
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        let mut client = RawClient::connect(&uri).await;
        client
            .send_frame(FIN | CLOSE, &close_payload(code, b""))
            .await;
        expect_failed(&mut client, &mut endings, 1002, "may not be sent").await;
    }
}

#[tokio::test]
async fn section_5_5_1_a_one_byte_close_payload_fails_with_1002() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    client.send_frame(FIN | CLOSE, &[0x03]).await;
    expect_failed(&mut client, &mut endings, 1002, "one-byte").await;
}

#[tokio::test]
async fn section_5_5_1_a_close_reason_that_is_not_utf8_fails_with_1007() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    client
        .send_frame(FIN | CLOSE, &close_payload(1000, b"\xFF\xFE"))
        .await;
    expect_failed(&mut client, &mut endings, 1007, "close reason").await;
}

#[tokio::test]
async fn section_5_5_1_a_close_is_echoed_and_the_server_closes_the_connection() {
    let (uri, mut endings) = server().await;
    for (code, reason) in [(1000, "bye"), (1001, ""), (3000, "app"), (4999, "private")] {
        let mut client = RawClient::connect(&uri).await;
        client
            .send_frame(FIN | CLOSE, &close_payload(code, reason.as_bytes()))
            .await;
        assert_eq!(client.read_close().await, Some(code));
        client.expect_closed().await;
        let peer = within(endings.recv()).await.unwrap().unwrap().unwrap();
        assert_eq!((peer.code, peer.reason.as_str()), (CloseCode(code), reason));
    }
    // An empty close is echoed empty and reported as 1005.
    let mut client = RawClient::connect(&uri).await;
    client.send_frame(FIN | CLOSE, b"").await;
    assert_eq!(client.read_close().await, None);
    let peer = within(endings.recv()).await.unwrap().unwrap().unwrap();
    assert_eq!(peer.code, CloseCode::NO_STATUS);
}

#[tokio::test]
async fn section_1_4_data_after_the_peers_close_is_never_delivered() {
    let (uri, mut endings) = server().await;
    let mut client = RawClient::connect(&uri).await;
    let mut bytes = masked_frame(FIN | CLOSE, &close_payload(1000, b""));
    bytes.extend_from_slice(&masked_frame(FIN | TEXT, b"too late"));
    client.send_raw(&bytes).await;
    assert_eq!(client.read_close().await, Some(1000));
    client.expect_closed().await;
    assert!(within(endings.recv()).await.unwrap().is_ok());
}

#[tokio::test]
async fn section_5_1_a_masked_frame_from_a_server_fails_the_client_with_1002() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("ws://{}/", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut tcp, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        while !head.ends_with(b"\r\n\r\n") {
            head.push(tcp.read_u8().await.unwrap());
        }
        let head = String::from_utf8(head).unwrap();
        let key = head
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        let accept = accept_for(key);
        let answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        tcp.write_all(answer.as_bytes()).await.unwrap();
        tcp.write_all(&masked_frame(FIN | TEXT, b"masked"))
            .await
            .unwrap();
        // The client's close frame, masked, with 1002.
        let mut close = [0u8; 8];
        tcp.read_exact(&mut close).await.unwrap();
        let key = [close[2], close[3], close[4], close[5]];
        u16::from_be_bytes([close[6] ^ key[0], close[7] ^ key[1]])
    });
    let mut ws = within(MessageWebSocket::connect(&uri)).await.unwrap();
    let err = within(ws.recv()).await.unwrap().unwrap_err();
    assert_eq!(err.close_code(), Some(CloseCode::PROTOCOL_ERROR), "{err}");
    assert!(err.to_string().contains("masked frame from a server"));
    assert_eq!(within(server).await.unwrap(), 1002);
}

/// The accept value for a key (section 4.2.2), for the hand-written server.
fn accept_for(key: &str) -> String {
    use base64::Engine as _;
    use sha1::Digest as _;
    let mut sha = sha1::Sha1::new();
    sha.update(key.as_bytes());
    sha.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(sha.finalize())
}
