//! Bench target `tcp`: sock-tcp against tokio::net on loopback.
//!
//! * `tcp_bulk`: one connection, 64 KiB writes, bytes per second. `peer` is a
//!   tokio `TcpStream` pair, `ours` a `StreamSocket` pair.
//! * `echo_rtt`: 64-byte length-prefixed ping-pong, round trips per second,
//!   with p50/p99 of the round-trip times printed for both. `peer` is a tokio
//!   `TcpStream` pair with the 4-byte header written and read by hand (header
//!   and payload in one write, then `read_exact` of the header and of the
//!   payload, as people write it); `ours` is a `StreamSocket` pair framed with
//!   `LengthPrefixedCodec`.
//! * `accept_rate`: connections accepted per second. `peer` is a tokio
//!   `TcpListener`, `ours` `StreamSocketListener::incoming()`. The connecting
//!   side is the same plain tokio `TcpStream` in both, so only accepting
//!   differs; each connection ends with a reset, so no TIME_WAIT piles up.
//!
//! Both sides of every pair run on one current-thread runtime
//! (`sock_benches::runtime()`), and TCP_NODELAY is on for the peer's sockets
//! too (ours has it by default), so the groups compare the libraries, not
//! Nagle's algorithm.

use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use futures::{SinkExt, StreamExt};
use sock_codec::Framed;
use sock_codec::LengthPrefixedCodec;
use sock_core::HostName;
use sock_tcp::{StreamSocket, StreamSocketListener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// Bytes per write in `tcp_bulk`.
const CHUNK: usize = 64 * 1024;
/// Writes per `tcp_bulk` iteration (1 MiB).
const CHUNKS: usize = 16;
/// Payload bytes per `echo_rtt` message.
const PING: usize = 64;
/// The most round-trip times kept for percentiles.
const MAX_SAMPLES: usize = 1_000_000;

fn lo() -> HostName {
    HostName::new("127.0.0.1").expect("loopback literal")
}

async fn peer_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("peer bind");
    let addr = listener.local_addr().expect("peer address");
    let (client, server) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client.expect("peer connect");
    let server = server.expect("peer accept").0;
    client.set_nodelay(true).expect("peer nodelay");
    server.set_nodelay(true).expect("peer nodelay");
    (client, server)
}

async fn our_pair() -> (StreamSocket, StreamSocket) {
    let listener = StreamSocketListener::bind_endpoint(Some(&lo()), 0)
        .await
        .expect("our bind");
    let port = listener.information().local_port;
    let (client, server) = tokio::join!(StreamSocket::connect(&lo(), port), listener.accept());
    (client.expect("our connect"), server.expect("our accept"))
}

/// Moves one iteration's bytes from `w` to `r`.
async fn bulk<W, R>(w: &mut W, r: &mut R, chunk: &[u8], buf: &mut [u8])
where
    W: tokio::io::AsyncWrite + Unpin,
    R: tokio::io::AsyncRead + Unpin,
{
    let total = CHUNK * CHUNKS;
    let write = async {
        for _ in 0..CHUNKS {
            w.write_all(chunk).await.expect("bulk write");
        }
    };
    let read = async {
        let mut got = 0;
        while got < total {
            let n = r.read(buf).await.expect("bulk read");
            assert!(n > 0, "bulk: early end of stream");
            got += n;
        }
    };
    tokio::join!(write, read);
}

fn tcp_bulk(c: &mut Criterion, rt: &Runtime) {
    let chunk = vec![0x5A; CHUNK];
    let mut buf = vec![0; CHUNK];

    // Each side gets a fresh connection for each run of its routine, and no
    // idle connection of the other side is left around while it runs (an idle
    // pair with grown buffers skewed whichever side ran second).
    let mut g = c.benchmark_group("tcp_bulk");
    g.throughput(Throughput::Bytes((CHUNK * CHUNKS) as u64));
    g.bench_function("peer", |b| {
        let (mut w, mut r) = rt.block_on(peer_pair());
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    bulk(&mut w, &mut r, &chunk, &mut buf).await;
                }
                start.elapsed()
            })
        });
    });
    g.bench_function("ours", |b| {
        let (mut w, mut r) = rt.block_on(our_pair());
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    bulk(&mut w, &mut r, &chunk, &mut buf).await;
                }
                start.elapsed()
            })
        });
    });
    g.finish();
}

/// The peer's echo server: header, payload, both back in one write.
async fn peer_echo(mut s: TcpStream) {
    let mut head = [0u8; 4];
    let mut msg = vec![0u8; 4 + PING];
    loop {
        if s.read_exact(&mut head).await.is_err() {
            return;
        }
        let len = u32::from_be_bytes(head) as usize;
        msg.resize(4 + len, 0);
        msg[..4].copy_from_slice(&head);
        if s.read_exact(&mut msg[4..]).await.is_err() {
            return;
        }
        if s.write_all(&msg).await.is_err() {
            return;
        }
    }
}

/// Our echo server: frames in, the same frames out.
async fn our_echo(s: StreamSocket) {
    let mut frames = s.framed(LengthPrefixedCodec::new());
    while let Some(Ok(frame)) = frames.next().await {
        if frames.send(frame).await.is_err() {
            return;
        }
    }
}

struct PeerPing {
    s: TcpStream,
    out: Vec<u8>,
    back: Vec<u8>,
}

impl PeerPing {
    async fn round_trip(&mut self) {
        self.s.write_all(&self.out).await.expect("peer ping");
        let mut head = [0u8; 4];
        self.s.read_exact(&mut head).await.expect("peer pong head");
        let len = u32::from_be_bytes(head) as usize;
        assert_eq!(len, PING);
        self.s
            .read_exact(&mut self.back[..len])
            .await
            .expect("peer pong");
    }
}

struct OurPing {
    frames: Framed<StreamSocket, LengthPrefixedCodec>,
    ping: Bytes,
}

impl OurPing {
    async fn round_trip(&mut self) {
        self.frames.send(self.ping.clone()).await.expect("our ping");
        let pong = self
            .frames
            .next()
            .await
            .expect("our pong")
            .expect("our pong");
        assert_eq!(pong.len(), PING);
    }
}

fn percentiles(name: &str, samples: &mut [Duration]) {
    if samples.is_empty() {
        return;
    }
    samples.sort_unstable();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p) as usize];
    println!(
        "echo_rtt/{name}: p50 {:?}, p99 {:?} over {} round trips",
        at(0.50),
        at(0.99),
        samples.len()
    );
}

fn echo_rtt(c: &mut Criterion, rt: &Runtime) {
    let (pc, ps) = rt.block_on(peer_pair());
    let (oc, os) = rt.block_on(our_pair());
    rt.spawn(peer_echo(ps));
    rt.spawn(our_echo(os));
    let mut out = (PING as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&[0x42; PING]);
    let mut peer = PeerPing {
        s: pc,
        out,
        back: vec![0; PING],
    };
    let mut ours = OurPing {
        frames: oc.framed(LengthPrefixedCodec::new()),
        ping: Bytes::from(vec![0x42; PING]),
    };
    let mut peer_times = Vec::new();
    let mut our_times = Vec::new();

    let mut g = c.benchmark_group("echo_rtt");
    g.throughput(Throughput::Elements(1));
    g.bench_function("peer", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let t = Instant::now();
                    peer.round_trip().await;
                    if peer_times.len() < MAX_SAMPLES {
                        peer_times.push(t.elapsed());
                    }
                }
                start.elapsed()
            })
        });
    });
    g.bench_function("ours", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let t = Instant::now();
                    ours.round_trip().await;
                    if our_times.len() < MAX_SAMPLES {
                        our_times.push(t.elapsed());
                    }
                }
                start.elapsed()
            })
        });
    });
    g.finish();
    percentiles("peer", &mut peer_times);
    percentiles("ours", &mut our_times);
}

/// The connecting side of `accept_rate`, the same for both: a plain tokio
/// stream, reset on close so no TIME_WAIT piles up.
async fn dial(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).await.expect("accept_rate connect");
    s.set_zero_linger().expect("zero linger");
    s
}

fn accept_rate(c: &mut Criterion, rt: &Runtime) {
    let peer = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("peer bind");
    let peer_addr = peer.local_addr().expect("peer address");
    let ours = rt
        .block_on(StreamSocketListener::bind_endpoint(Some(&lo()), 0))
        .expect("our bind");
    let our_addr = ours.local_addr();

    let mut g = c.benchmark_group("accept_rate");
    g.throughput(Throughput::Elements(1));
    g.bench_function("peer", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    let (client, accepted) = tokio::join!(dial(peer_addr), peer.accept());
                    let (server, _) = accepted.expect("peer accept");
                    drop(client);
                    drop(server);
                }
                start.elapsed()
            })
        });
    });
    g.bench_function("ours", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut incoming = ours.incoming();
                let start = Instant::now();
                for _ in 0..iters {
                    let (client, accepted) = tokio::join!(dial(our_addr), incoming.next());
                    let server = accepted.expect("never ends").expect("our accept");
                    drop(client);
                    drop(server);
                }
                start.elapsed()
            })
        });
    });
    g.finish();
}

fn main() {
    let mut c = sock_benches::criterion().configure_from_args();
    let rt = sock_benches::runtime();
    tcp_bulk(&mut c, &rt);
    echo_rtt(&mut c, &rt);
    accept_rate(&mut c, &rt);
    c.final_summary();
}
