//! Bench target `websocket`: sock-websocket against tokio-tungstenite (`peer`)
//! and fastwebsockets (`fastwebsockets`) on loopback, in the same groups.
//!
//! * `websocket_echo_64`, `websocket_echo_16k`, `websocket_echo_1m`: one
//!   binary message of 64 B, 16 KiB or 1 MiB sent by the client, echoed by
//!   the server and read back; one round trip per iteration.
//! * `websocket_text_64`: the same with a 64-byte text message (checked as
//!   UTF-8 by every library on receipt).
//! * `websocket_pipelined`: 256 binary messages of 64 B queued by the client
//!   and written with one flush (tokio-tungstenite and ours: `feed` ×256,
//!   `flush`; fastwebsockets has no queue, so one `write_frame` each); the
//!   server reads all 256 and answers with one 1-byte message.
//! * `websocket_deflate_16k`: a 16 KiB text message of JSON lines echoed,
//!   ours with permessage-deflate on both ends (`ours`: compressed and
//!   inflated on each side; alone the text deflates to about 1.1 KiB, and
//!   as the same text is sent each time, with context takeover each copy
//!   refers to the last and takes a few hundred bytes on the wire), against
//!   tokio-tungstenite (`peer`) and ours (`uncompressed`) sending it as it
//!   is: tokio-tungstenite 0.30, the latest, has no permessage-deflate, and
//!   neither has fastwebsockets. On loopback bytes cost almost nothing, so
//!   this measures what compression costs in time; what it saves shows on a
//!   real network.
//!
//! The echo and pipelined groups also measure `floor`: the same bytes on the
//! wire (a masked client frame made in advance, the server's frame made in
//! advance) echoed by bare tokio with no WebSocket library, so `peer ÷ floor`
//! is the best ratio any library could reach against tokio-tungstenite here.
//!
//! Every side speaks the real protocol: clients mask, servers check. The
//! opening handshake is not measured (it happens once per connection, before
//! the timed loop); fastwebsockets and tokio-tungstenite skip it
//! (`after_handshake`, `from_raw_socket`), ours runs it. Both ends run on
//! one current-thread runtime (`sock_benches::runtime()`) with TCP_NODELAY.

use std::time::Instant;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use fastwebsockets::{FragmentCollector, Frame, OpCode, Payload, WebSocket};
use futures::{Sink, SinkExt, Stream, StreamExt};
use sock_core::HostName;
use sock_tcp::StreamSocketListener;
use sock_websocket::{
    DeflateConfig, Message, MessageWebSocket, MessageWebSocketControl, ServerWebSocketControl,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_tungstenite::tungstenite::protocol::Role as TungsteniteRole;
use tokio_tungstenite::tungstenite::Message as TungsteniteMessage;
use tokio_tungstenite::WebSocketStream;

/// Messages per `websocket_pipelined` iteration.
const PIPELINED: usize = 256;
/// Payload bytes of each pipelined message.
const SMALL: usize = 64;

/// What a group sends.
#[derive(Clone, Copy)]
enum Work {
    /// One message of this size and type, echoed.
    Echo { size: usize, text: bool },
    /// `PIPELINED` small binary messages, one ack.
    Pipelined,
}

impl Work {
    fn payload(self) -> Bytes {
        match self {
            Self::Echo { size, .. } => Bytes::from(vec![b'a'; size]),
            Self::Pipelined => Bytes::from(vec![b'a'; SMALL]),
        }
    }

    fn bytes_per_iteration(self) -> u64 {
        match self {
            Self::Echo { size, .. } => 2 * size as u64,
            Self::Pipelined => (PIPELINED * SMALL) as u64,
        }
    }

    fn is_text(self) -> bool {
        matches!(self, Self::Echo { text: true, .. })
    }
}

async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let (client, server) = (client.expect("connect"), server.expect("accept").0);
    client.set_nodelay(true).expect("nodelay");
    server.set_nodelay(true).expect("nodelay");
    (client, server)
}

// ===== tokio-tungstenite =====

async fn tungstenite_pair() -> (WebSocketStream<TcpStream>, WebSocketStream<TcpStream>) {
    let (client, server) = tcp_pair().await;
    let client = WebSocketStream::from_raw_socket(client, TungsteniteRole::Client, None).await;
    let server = WebSocketStream::from_raw_socket(server, TungsteniteRole::Server, None).await;
    (client, server)
}

// ===== fastwebsockets =====

async fn fast_server(ws: WebSocket<TcpStream>, work: Work) {
    let mut ws = FragmentCollector::new(ws);
    let mut seen = 0;
    while let Ok(frame) = ws.read_frame().await {
        match frame.opcode {
            OpCode::Close => return,
            OpCode::Text | OpCode::Binary => {}
            _ => continue,
        }
        let result = match work {
            Work::Echo { .. } => ws.write_frame(frame).await,
            Work::Pipelined => {
                seen += 1;
                if seen < PIPELINED {
                    continue;
                }
                seen = 0;
                ws.write_frame(Frame::binary(Payload::Borrowed(b"k"))).await
            }
        };
        if result.is_err() {
            return;
        }
    }
}

async fn fast_client(ws: &mut FragmentCollector<TcpStream>, work: Work, payload: &Bytes) {
    let frame = || {
        // Owned, as the client masks it in place.
        let data = Payload::Owned(payload.to_vec());
        if work.is_text() {
            Frame::text(data)
        } else {
            Frame::binary(data)
        }
    };
    match work {
        Work::Echo { size, .. } => {
            ws.write_frame(frame()).await.expect("send");
            let reply = ws.read_frame().await.expect("reply");
            assert_eq!(reply.payload.len(), size);
        }
        Work::Pipelined => {
            for _ in 0..PIPELINED {
                ws.write_frame(frame()).await.expect("send");
            }
            ws.read_frame().await.expect("ack");
        }
    }
}

// ===== the floor: the same wire bytes with no WebSocket library =====

/// One frame as it crosses the wire: FIN, `opcode`, the length, and for a
/// client a mask key with the payload masked.
fn wire_frame(opcode: u8, payload: &[u8], masked: bool) -> Vec<u8> {
    let mut out = vec![0x80 | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    match payload.len() {
        n if n < 126 => out.push(mask_bit | n as u8),
        n if n <= 0xffff => {
            out.push(mask_bit | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(mask_bit | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    if masked {
        let key = [0x12, 0x34, 0x56, 0x78];
        out.extend_from_slice(&key);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    } else {
        out.extend_from_slice(payload);
    }
    out
}

/// What the floor's client sends and what the server answers, made once.
fn floor_bytes(work: Work, payload: &Bytes) -> (Vec<u8>, Vec<u8>) {
    let opcode = if work.is_text() { 1 } else { 2 };
    match work {
        Work::Echo { .. } => (
            wire_frame(opcode, payload, true),
            wire_frame(opcode, payload, false),
        ),
        Work::Pipelined => (
            wire_frame(opcode, payload, true).repeat(PIPELINED),
            wire_frame(2, b"k", false),
        ),
    }
}

/// Reads one request's bytes and writes the answer made in advance, until
/// the client goes.
async fn floor_server(mut tcp: TcpStream, request: usize, answer: Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; request];
    while tcp.read_exact(&mut buf).await.is_ok() {
        if tcp.write_all(&answer).await.is_err() {
            return;
        }
    }
}

async fn floor_client(tcp: &mut TcpStream, request: &[u8], answer: &mut [u8]) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(request).await.expect("floor write");
    tcp.read_exact(answer).await.expect("floor read");
}

// ===== ours =====

async fn our_pair() -> (MessageWebSocket, MessageWebSocket) {
    our_pair_with(MessageWebSocket::builder(), ServerWebSocketControl::new()).await
}

async fn our_pair_with(
    client: MessageWebSocketControl,
    server: ServerWebSocketControl,
) -> (MessageWebSocket, MessageWebSocket) {
    let lo = HostName::new("127.0.0.1").expect("loopback literal");
    let listener = StreamSocketListener::bind_endpoint(Some(&lo), 0)
        .await
        .expect("bind");
    let uri = format!("ws://127.0.0.1:{}/", listener.information().local_port);
    let server = async {
        let socket = listener.accept().await.expect("accept");
        server.accept(socket).await.expect("upgrade")
    };
    let (client, server) = tokio::join!(client.connect(&uri), server);
    (client.expect("connect"), server)
}

// ===== both Sink + Stream libraries: tokio-tungstenite and ours =====

/// The echo server of a library whose WebSocket is a `Sink` and `Stream` of
/// messages: echoes each data message, or acks every `PIPELINED`th.
async fn sink_stream_server<S, M, E>(mut ws: S, work: Work, is_data: fn(&M) -> bool, ack: fn() -> M)
where
    S: Sink<M> + Stream<Item = Result<M, E>> + Unpin,
{
    let mut seen = 0;
    while let Some(Ok(message)) = ws.next().await {
        if !is_data(&message) {
            continue;
        }
        let reply = match work {
            Work::Echo { .. } => message,
            Work::Pipelined => {
                seen += 1;
                if seen < PIPELINED {
                    continue;
                }
                seen = 0;
                ack()
            }
        };
        if ws.send(reply).await.is_err() {
            return;
        }
    }
}

/// One iteration of a `Sink` + `Stream` library's client; `message` makes
/// what it sends, `len` measures what comes back.
async fn sink_stream_client<S, M, E>(
    ws: &mut S,
    work: Work,
    message: impl Fn() -> M,
    len: fn(&M) -> usize,
) where
    S: Sink<M> + Stream<Item = Result<M, E>> + Unpin,
    S::Error: std::fmt::Debug,
    E: std::fmt::Debug,
{
    match work {
        Work::Echo { size, .. } => {
            ws.send(message()).await.expect("send");
            let reply = ws.next().await.expect("reply").expect("reply");
            assert_eq!(len(&reply), size);
        }
        Work::Pipelined => {
            for _ in 0..PIPELINED {
                ws.feed(message()).await.expect("feed");
            }
            ws.flush().await.expect("flush");
            ws.next().await.expect("ack").expect("ack");
        }
    }
}

fn tungstenite_message(work: Work, payload: &Bytes) -> TungsteniteMessage {
    if work.is_text() {
        TungsteniteMessage::text(std::str::from_utf8(payload).expect("text payload"))
    } else {
        TungsteniteMessage::binary(payload.clone())
    }
}

fn our_message(work: Work, payload: &Bytes) -> Message {
    if work.is_text() {
        Message::text(std::str::from_utf8(payload).expect("text payload"))
    } else {
        Message::binary(payload.clone())
    }
}

/// Times `iters` rounds of `round` (an expression awaited each round) on `rt`.
macro_rules! timed {
    ($rt:expr, $iters:expr, $round:expr) => {
        $rt.block_on(async {
            let start = Instant::now();
            for _ in 0..$iters {
                $round.await;
            }
            start.elapsed()
        })
    };
}

fn group(c: &mut Criterion, rt: &Runtime, name: &str, work: Work) {
    let payload = work.payload();
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes(work.bytes_per_iteration()));

    g.bench_function("peer", |b| {
        let (mut client, server) = rt.block_on(tungstenite_pair());
        rt.spawn(sink_stream_server(
            server,
            work,
            |m: &TungsteniteMessage| m.is_binary() || m.is_text(),
            || TungsteniteMessage::binary(Bytes::from_static(b"k")),
        ));
        b.iter_custom(|iters| {
            timed!(
                rt,
                iters,
                sink_stream_client(
                    &mut client,
                    work,
                    || tungstenite_message(work, &payload),
                    TungsteniteMessage::len
                )
            )
        });
    });

    g.bench_function("fastwebsockets", |b| {
        let (client, server) = rt.block_on(tcp_pair());
        rt.spawn(fast_server(
            WebSocket::after_handshake(server, fastwebsockets::Role::Server),
            work,
        ));
        let mut client = FragmentCollector::new(WebSocket::after_handshake(
            client,
            fastwebsockets::Role::Client,
        ));
        b.iter_custom(|iters| timed!(rt, iters, fast_client(&mut client, work, &payload)));
    });

    g.bench_function("floor", |b| {
        let (request, answer) = floor_bytes(work, &payload);
        let (mut client, server) = rt.block_on(tcp_pair());
        let mut back = vec![0u8; answer.len()];
        rt.spawn(floor_server(server, request.len(), answer));
        b.iter_custom(|iters| timed!(rt, iters, floor_client(&mut client, &request, &mut back)));
    });

    g.bench_function("ours", |b| {
        let (mut client, server) = rt.block_on(our_pair());
        rt.spawn(sink_stream_server(
            server,
            work,
            |_: &Message| true,
            || Message::binary(Bytes::from_static(b"k")),
        ));
        b.iter_custom(|iters| {
            timed!(
                rt,
                iters,
                sink_stream_client(
                    &mut client,
                    work,
                    || our_message(work, &payload),
                    Message::len
                )
            )
        });
    });
    g.finish();
}

/// About `size` bytes of JSON lines, as chat and telemetry send.
fn json_lines(size: usize) -> Bytes {
    let mut out = String::with_capacity(size + 64);
    let mut i = 0;
    while out.len() < size {
        out.push_str(&format!(
            "{{\"seq\":{i},\"sensor\":\"probe-{}\",\"ok\":true}}\n",
            i % 10
        ));
        i += 1;
    }
    out.truncate(size);
    Bytes::from(out)
}

/// `websocket_deflate_16k`: ours compressing both ways against
/// tokio-tungstenite and ours sending the same text as it is.
fn deflate_group(c: &mut Criterion, rt: &Runtime) {
    let work = Work::Echo {
        size: 16 << 10,
        text: true,
    };
    let payload = json_lines(16 << 10);
    let mut g = c.benchmark_group("websocket_deflate_16k");
    g.throughput(Throughput::Bytes(work.bytes_per_iteration()));

    g.bench_function("peer", |b| {
        let (mut client, server) = rt.block_on(tungstenite_pair());
        rt.spawn(sink_stream_server(
            server,
            work,
            |m: &TungsteniteMessage| m.is_binary() || m.is_text(),
            || TungsteniteMessage::binary(Bytes::from_static(b"k")),
        ));
        b.iter_custom(|iters| {
            timed!(
                rt,
                iters,
                sink_stream_client(
                    &mut client,
                    work,
                    || tungstenite_message(work, &payload),
                    TungsteniteMessage::len
                )
            )
        });
    });

    for (name, deflate) in [("uncompressed", false), ("ours", true)] {
        g.bench_function(name, |b| {
            let (client, server) = if deflate {
                (
                    MessageWebSocket::builder().deflate(DeflateConfig::new()),
                    ServerWebSocketControl::new().deflate(DeflateConfig::new()),
                )
            } else {
                (MessageWebSocket::builder(), ServerWebSocketControl::new())
            };
            let (mut client, server) = rt.block_on(our_pair_with(client, server));
            assert_eq!(client.information().deflate.is_some(), deflate);
            rt.spawn(sink_stream_server(
                server,
                work,
                |_: &Message| true,
                || Message::binary(Bytes::from_static(b"k")),
            ));
            b.iter_custom(|iters| {
                timed!(
                    rt,
                    iters,
                    sink_stream_client(
                        &mut client,
                        work,
                        || our_message(work, &payload),
                        Message::len
                    )
                )
            });
        });
    }
    g.finish();
}

fn main() {
    let rt = sock_benches::runtime();
    let mut c = sock_benches::criterion().configure_from_args();
    group(
        &mut c,
        &rt,
        "websocket_echo_64",
        Work::Echo {
            size: 64,
            text: false,
        },
    );
    group(
        &mut c,
        &rt,
        "websocket_echo_16k",
        Work::Echo {
            size: 16 << 10,
            text: false,
        },
    );
    group(
        &mut c,
        &rt,
        "websocket_echo_1m",
        Work::Echo {
            size: 1 << 20,
            text: false,
        },
    );
    group(
        &mut c,
        &rt,
        "websocket_text_64",
        Work::Echo {
            size: 64,
            text: true,
        },
    );
    group(&mut c, &rt, "websocket_pipelined", Work::Pipelined);
    deflate_group(&mut c, &rt);
    c.final_summary();
}
