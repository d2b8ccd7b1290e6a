//! Bench target `stream`: length-prefixed frames streamed the way programs
//! stream them, writer and reader on separate tasks, against tokio-util.
//!
//! Every iteration streams [`FRAMES`] 64-byte frames over a loopback TCP
//! pair (`TCP_NODELAY` on): a writer task feeds them in batches of 64 and
//! flushes each batch; a reader task, spawned on its own, reads them all
//! back. Both tasks are spawned anew each iteration and own their halves.
//!
//! * `frames_stream`: current-thread runtime. `peer`: tokio `TcpStream`
//!   `into_split` with `FramedWrite`/`FramedRead` and `LengthDelimitedCodec`.
//!   `ours`: `StreamSocket::into_split` with `FrameWriter`/`FrameReader`.
//! * `frames_stream_mt`: the same on a multi-thread runtime with 2 workers.
//! * `frames_stream_framed`: the path the README shows, current-thread:
//!   `peer` is `Framed<TcpStream, LengthDelimitedCodec>`, `ours`
//!   `socket.framed(LengthPrefixedCodec::new())`, each split with
//!   `StreamExt::split` into a sink task and a stream task.
//!
//! `frames_stream` and `frames_stream_mt` also measure `floor`: the thinnest
//! `Sink` of `Bytes` and `Stream` of frames written by hand on tokio's
//! halves, with no limit, timeout or option: frames copied into one buffer
//! and written at each flush, read into one 256 KiB buffer and split off
//! without a copy. `peer ÷ floor` is the best ratio a library with this
//! interface can reach here; the kernel's share of the work (a `send` per
//! flush, with loopback's receive path run inside it) bounds it.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use criterion::{Criterion, Throughput};
use futures::{Sink, SinkExt, Stream, StreamExt};
use sock_codec::{FrameReader, FrameWriter, LengthPrefixedCodec};
use sock_core::HostName;
use sock_tcp::{StreamSocket, StreamSocketListener};
use tokio::io::AsyncWrite;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tokio_util::codec::{Framed, FramedRead, FramedWrite, LengthDelimitedCodec};

/// Frames per iteration.
const FRAMES: usize = 4096;
/// Frames fed between flushes.
const BATCH: usize = 64;
/// Bytes per frame.
const LEN: usize = 64;

async fn tokio_pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    let (client, accepted) = tokio::join!(TcpStream::connect(addr), listener.accept());
    let client = client.expect("connect");
    let (server, _) = accepted.expect("accept");
    client.set_nodelay(true).expect("nodelay");
    server.set_nodelay(true).expect("nodelay");
    (client, server)
}

async fn sock_pair() -> (StreamSocket, StreamSocket) {
    let lo = HostName::new("127.0.0.1").expect("loopback literal");
    let listener = StreamSocketListener::bind_endpoint(Some(&lo), 0)
        .await
        .expect("bind");
    let port = listener.information().local_port;
    let (client, server) = tokio::join!(StreamSocket::connect(&lo, port), listener.accept());
    (client.expect("connect"), server.expect("accept"))
}

/// The floor's writer: frames copied after their 4-byte length into one
/// buffer, written out at each flush.
struct FloorWriter {
    io: OwnedWriteHalf,
    buf: BytesMut,
}

impl Sink<Bytes> for FloorWriter {
    type Error = io::Error;

    fn poll_ready(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn start_send(mut self: Pin<&mut Self>, item: Bytes) -> io::Result<()> {
        self.buf.put_u32(item.len() as u32);
        self.buf.put_slice(&item);
        Ok(())
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        while !this.buf.is_empty() {
            let n = ready!(Pin::new(&mut this.io).poll_write(cx, &this.buf))?;
            this.buf.advance(n);
        }
        this.buf.clear();
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// The floor's reader: one 256 KiB buffer, each frame split off it.
struct FloorReader {
    io: OwnedReadHalf,
    buf: BytesMut,
}

impl Stream for FloorReader {
    type Item = io::Result<Bytes>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<io::Result<Bytes>>> {
        let this = self.get_mut();
        loop {
            if this.buf.len() >= 4 {
                let len = u32::from_be_bytes(this.buf[..4].try_into().expect("4 bytes")) as usize;
                if this.buf.len() >= 4 + len {
                    this.buf.advance(4);
                    return Poll::Ready(Some(Ok(this.buf.split_to(len).freeze())));
                }
            }
            if this.buf.capacity() - this.buf.len() < 64 * 1024 {
                this.buf.reserve(256 * 1024);
            }
            let n = ready!(tokio_util::io::poll_read_buf(
                Pin::new(&mut this.io),
                cx,
                &mut this.buf
            ))?;
            if n == 0 {
                return Poll::Ready(None);
            }
        }
    }
}

/// Feeds `FRAMES` frames in batches, flushing each; gives the sink back.
async fn write_all<S>(mut sink: S, payload: Bytes) -> S
where
    S: Sink<Bytes> + Unpin,
    S::Error: std::fmt::Debug,
{
    for _ in 0..FRAMES / BATCH {
        for _ in 0..BATCH {
            sink.feed(payload.clone()).await.expect("feed");
        }
        sink.flush().await.expect("flush");
    }
    sink
}

/// Reads `FRAMES` frames; gives the stream back.
async fn read_all<R, T, E>(mut stream: R) -> R
where
    R: Stream<Item = Result<T, E>> + Unpin,
    T: AsRef<[u8]>,
    E: std::fmt::Debug,
{
    let mut bytes = 0;
    for _ in 0..FRAMES {
        bytes += stream
            .next()
            .await
            .expect("a frame")
            .expect("no error")
            .as_ref()
            .len();
    }
    assert_eq!(bytes, FRAMES * LEN);
    stream
}

/// Runs `iters` iterations with the halves moved into a writer task and a
/// reader task each time.
fn run<S, R, T, E>(rt: &Runtime, halves: &mut Option<(S, R)>, iters: u64) -> Duration
where
    S: Sink<Bytes> + Unpin + Send + 'static,
    S::Error: std::fmt::Debug,
    R: Stream<Item = Result<T, E>> + Unpin + Send + 'static,
    T: AsRef<[u8]> + Send + 'static,
    E: std::fmt::Debug + Send + 'static,
{
    let payload = Bytes::from(vec![0xa5; LEN]);
    rt.block_on(async {
        let (mut sink, mut stream) = halves.take().expect("halves");
        let start = Instant::now();
        for _ in 0..iters {
            let writer = tokio::spawn(write_all(sink, payload.clone()));
            let reader = tokio::spawn(read_all(stream));
            sink = writer.await.expect("writer");
            stream = reader.await.expect("reader");
        }
        let took = start.elapsed();
        *halves = Some((sink, stream));
        took
    })
}

fn split_group(c: &mut Criterion, rt: &Runtime, name: &str) {
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes((FRAMES * (4 + LEN)) as u64));
    let mut peer = Some(rt.block_on(async {
        let (a, b) = tokio_pair().await;
        let (_, write) = a.into_split();
        let (read, _) = b.into_split();
        (
            FramedWrite::new(write, LengthDelimitedCodec::new()),
            FramedRead::new(read, LengthDelimitedCodec::new()),
        )
    }));
    g.bench_function("peer", |b| b.iter_custom(|iters| run(rt, &mut peer, iters)));
    let mut ours = Some(rt.block_on(async {
        let (a, b) = sock_pair().await;
        let (_, write) = a.into_split();
        let (read, _) = b.into_split();
        (FrameWriter::new(write), FrameReader::new(read))
    }));
    g.bench_function("ours", |b| b.iter_custom(|iters| run(rt, &mut ours, iters)));
    let mut floor = Some(rt.block_on(async {
        let (a, b) = tokio_pair().await;
        let (_, io) = a.into_split();
        let (read, _) = b.into_split();
        (
            FloorWriter {
                io,
                buf: BytesMut::new(),
            },
            FloorReader {
                io: read,
                buf: BytesMut::new(),
            },
        )
    }));
    g.bench_function("floor", |b| {
        b.iter_custom(|iters| run(rt, &mut floor, iters))
    });
    g.finish();
}

fn framed_group(c: &mut Criterion, rt: &Runtime) {
    let mut g = c.benchmark_group("frames_stream_framed");
    g.throughput(Throughput::Bytes((FRAMES * (4 + LEN)) as u64));
    let mut peer = Some(rt.block_on(async {
        let (a, b) = tokio_pair().await;
        let (sink, _) = Framed::new(a, LengthDelimitedCodec::new()).split();
        let (_, stream) = Framed::new(b, LengthDelimitedCodec::new()).split::<Bytes>();
        (sink, stream)
    }));
    g.bench_function("peer", |b| b.iter_custom(|iters| run(rt, &mut peer, iters)));
    let mut ours = Some(rt.block_on(async {
        let (a, b) = sock_pair().await;
        let (sink, _) = a.framed(LengthPrefixedCodec::new()).split();
        let (_, stream) = b.framed(LengthPrefixedCodec::new()).split::<Bytes>();
        (sink, stream)
    }));
    g.bench_function("ours", |b| b.iter_custom(|iters| run(rt, &mut ours, iters)));
    g.finish();
}

fn main() {
    let mut c = sock_benches::criterion().configure_from_args();
    let current = sock_benches::runtime();
    split_group(&mut c, &current, "frames_stream");
    let multi = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("multi-thread runtime");
    split_group(&mut c, &multi, "frames_stream_mt");
    framed_group(&mut c, &current);
    c.final_summary();
}
