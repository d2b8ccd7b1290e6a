//! Bench target `codec`: sock-codec's `FrameWriter`/`FrameReader` against
//! tokio-util's `Framed<_, LengthDelimitedCodec>`, the peer people use today.
//!
//! Both write the same wire format (4-byte big-endian length, then the payload)
//! over the same transport: a loopback TCP pair (`127.0.0.1`, `TCP_NODELAY` on),
//! both ends driven by one task on the current-thread runtime of
//! `sock_benches::runtime()`, the writer and the far-side reader joined. Every
//! iteration writes the frames **and** reads them back on the far side, counting
//! frames and bytes, so the work includes decoding.
//!
//! * `frames_small`: 64-byte frames, fed in batches of 64 and then flushed once
//!   (`feed` ×64 + `flush`), 16 batches per iteration.
//! * `frames_large`: 1 MiB frames, each sent with `send` (`feed` + `flush`), 8 per
//!   iteration. The peer copies each payload into its write buffer; ours writes it
//!   from the caller's `Bytes` with a vectored write.
//!
//! Run with `cargo bench -p sock-benches --bench codec`; `cargo xtask bench`
//! prints the peer/ours ratios.

use std::hint::black_box;
use std::time::Instant;

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use futures::{SinkExt, StreamExt};
use sock_codec::{FrameReader, FrameWriter};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_util::codec::{Framed, LengthDelimitedCodec};

const SMALL_LEN: usize = 64;
const SMALL_BATCH: usize = 64;
const SMALL_BATCHES: usize = 16;
const LARGE_LEN: usize = 1 << 20;
const LARGE_FRAMES: usize = 8;

/// A connected loopback TCP pair with Nagle off.
async fn tcp_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client.expect("connect");
    let (server, _) = accepted.expect("accept");
    client.set_nodelay(true).expect("nodelay");
    server.set_nodelay(true).expect("nodelay");
    (client, server)
}

/// What one iteration must see on the far side.
#[derive(Clone, Copy)]
struct Work {
    frame_len: usize,
    batch: usize,
    batches: usize,
}

impl Work {
    fn frames(self) -> usize {
        self.batch * self.batches
    }

    fn bytes(self) -> u64 {
        (self.frames() * (4 + self.frame_len)) as u64
    }
}

/// The peer: tokio-util `Framed<TcpStream, LengthDelimitedCodec>` at both ends.
async fn peer_round(
    tx: &mut Framed<TcpStream, LengthDelimitedCodec>,
    rx: &mut Framed<TcpStream, LengthDelimitedCodec>,
    payload: &Bytes,
    work: Work,
) {
    let write = async {
        for _ in 0..work.batches {
            for _ in 0..work.batch {
                tx.feed(payload.clone()).await.expect("feed");
            }
            SinkExt::<Bytes>::flush(tx).await.expect("flush");
        }
    };
    let read = async {
        let (mut frames, mut bytes) = (0, 0);
        while frames < work.frames() {
            let frame = rx.next().await.expect("a frame").expect("no error");
            frames += 1;
            bytes += frame.len();
        }
        (frames, bytes)
    };
    let ((), (frames, bytes)) = tokio::join!(write, read);
    assert_eq!(
        (frames, bytes),
        (work.frames(), work.frames() * work.frame_len)
    );
    black_box(bytes);
}

/// Ours: `FrameWriter` at one end, `FrameReader` at the other.
async fn ours_round(
    tx: &mut FrameWriter<TcpStream>,
    rx: &mut FrameReader<TcpStream>,
    payload: &Bytes,
    work: Work,
) {
    let write = async {
        for _ in 0..work.batches {
            for _ in 0..work.batch {
                tx.feed(payload.clone()).await.expect("feed");
            }
            tx.flush().await.expect("flush");
        }
    };
    let read = async {
        let (mut frames, mut bytes) = (0, 0);
        while frames < work.frames() {
            let frame = rx.next().await.expect("a frame").expect("no error");
            frames += 1;
            bytes += frame.len();
        }
        (frames, bytes)
    };
    let ((), (frames, bytes)) = tokio::join!(write, read);
    assert_eq!(
        (frames, bytes),
        (work.frames(), work.frames() * work.frame_len)
    );
    black_box(bytes);
}

fn group(c: &mut Criterion, rt: &Runtime, name: &str, work: Work) {
    let payload = Bytes::from(vec![0xa5; work.frame_len]);
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Bytes(work.bytes()));

    let (a, b) = rt.block_on(tcp_pair());
    let mut tx = Framed::new(a, LengthDelimitedCodec::new());
    let mut rx = Framed::new(b, LengthDelimitedCodec::new());
    group.bench_function("peer", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    peer_round(&mut tx, &mut rx, &payload, work).await;
                }
                start.elapsed()
            })
        });
    });
    drop((tx, rx));

    let (a, b) = rt.block_on(tcp_pair());
    let mut tx = FrameWriter::new(a);
    let mut rx = FrameReader::new(b);
    group.bench_function("ours", |bench| {
        bench.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    ours_round(&mut tx, &mut rx, &payload, work).await;
                }
                start.elapsed()
            })
        });
    });
    group.finish();
}

fn codec(c: &mut Criterion) {
    let rt = sock_benches::runtime();
    group(
        c,
        &rt,
        "frames_small",
        Work {
            frame_len: SMALL_LEN,
            batch: SMALL_BATCH,
            batches: SMALL_BATCHES,
        },
    );
    group(
        c,
        &rt,
        "frames_large",
        Work {
            frame_len: LARGE_LEN,
            batch: 1,
            batches: LARGE_FRAMES,
        },
    );
}

fn main() {
    // What criterion_group!/criterion_main! expand to, without their undocumented
    // public function.
    let mut c = sock_benches::criterion().configure_from_args();
    codec(&mut c);
    c.final_summary();
}
