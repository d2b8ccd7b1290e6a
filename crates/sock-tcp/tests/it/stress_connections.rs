//! Load: 5,000 concurrent TCP connections to one `serve` listener, each
//! echoing 100 length-prefixed frames of random sizes that carry a sequence
//! number and a checksum. Every frame comes back intact and in order, and the
//! process's resident memory per idle connection stays small.
//!
//! Slow, so ignored by default; run it with `cargo xtask test --stress`, or
//! `cargo test -p sock-tcp --release --test it stress_connections -- --ignored --nocapture`.
//! It raises its own descriptor limit (it needs two per connection: the
//! client's and the server's end live in this one process).

use crate::faults;
use crate::support;

use sock_test::limits::{descriptor_limit, set_descriptor_limit};
use std::future::IntoFuture;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use sock_codec::{FrameReader, FrameWriter};
use sock_tcp::StreamSocket;
use support::{listener, v4};
use tokio::sync::{oneshot, watch, Notify, Semaphore};

const CONNECTIONS: usize = 5_000;
const FRAMES: u32 = 100;
/// Payload sizes are random in `HEADER..=MAX_PAYLOAD`.
const MAX_PAYLOAD: usize = 4096;
/// Sequence number (4 bytes) and FNV-1a checksum of the rest (8 bytes).
const HEADER: usize = 12;
/// Connections being set up at once (the rest are already open and idle).
const CONNECTING_AT_ONCE: usize = 256;
/// The whole test, however slow the machine.
const DEADLINE: Duration = Duration::from_secs(300);
/// The bound asserted on resident memory per idle connection (both ends).
const MAX_BYTES_PER_IDLE_CONNECTION: u64 = 64 * 1024;
/// The bound per connection (both ends) once idle again after the traffic:
/// each end's `FrameReader` may keep a read buffer grown to
/// `DEFAULT_READ_BUFFER` (256 KiB) and its `FrameWriter` one of
/// `DEFAULT_BACKPRESSURE_BOUNDARY` (64 KiB) plus a frame; more than that
/// would be memory nothing accounts for.
const MAX_BYTES_PER_CONNECTION_AFTER_TRAFFIC: u64 = 2 * (256 + 64 + 8) * 1024;

/// xorshift64*: a small deterministic generator, one per connection, so the
/// reader can regenerate what the writer sent.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Frame `seq` of a connection: sequence number, checksum, random bytes.
fn make_frame(rng: &mut Rng, seq: u32) -> Bytes {
    let len = HEADER + (rng.next() as usize % (MAX_PAYLOAD - HEADER + 1));
    let mut body = vec![0u8; len];
    for chunk in body[HEADER..].chunks_mut(8) {
        let r = rng.next().to_le_bytes();
        chunk.copy_from_slice(&r[..chunk.len()]);
    }
    let sum = fnv1a(&body[HEADER..]);
    body[..4].copy_from_slice(&seq.to_be_bytes());
    body[4..HEADER].copy_from_slice(&sum.to_be_bytes());
    Bytes::from(body)
}

fn checksum_ok(frame: &[u8]) -> bool {
    frame.len() >= HEADER && frame[4..HEADER] == fnv1a(&frame[HEADER..]).to_be_bytes()
}

/// Raises the soft descriptor limit to at least `need` (up to the hard
/// limit); returns the limit now in force.
fn raise_descriptor_limit(need: u64) -> u64 {
    let (soft, _) = descriptor_limit().unwrap();
    if soft < need {
        set_descriptor_limit(need).unwrap();
    }
    descriptor_limit().unwrap().0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "stress: run by cargo xtask test --stress"]
async fn stress_five_thousand_connections_echo_checksummed_frames() {
    tokio::time::timeout(DEADLINE, run())
        .await
        .expect("the stress test did not finish within its deadline");
}

async fn run() {
    let need = 2 * CONNECTIONS as u64 + 256;
    let limit = raise_descriptor_limit(need);
    assert!(
        limit >= need,
        "the hard descriptor limit ({limit}) is below the {need} this test needs"
    );

    let listener = listener().await;
    let port = listener.information().local_port;
    let corrupt = Arc::new(AtomicU64::new(0));
    let handlers = Arc::new(AtomicUsize::new(0));
    let all_accepted = Arc::new(Notify::new());
    let (stop, stopped) = oneshot::channel::<()>();
    let (c, h, a) = (
        Arc::clone(&corrupt),
        Arc::clone(&handlers),
        Arc::clone(&all_accepted),
    );
    let server = tokio::spawn(
        listener
            .serve(move |socket: StreamSocket| {
                let corrupt = Arc::clone(&c);
                if h.fetch_add(1, Ordering::SeqCst) + 1 == CONNECTIONS {
                    a.notify_one();
                }
                async move {
                    let (input, output) = socket.into_split();
                    let mut frames = FrameReader::new(input);
                    let mut replies = FrameWriter::new(output);
                    while let Some(frame) = frames.next().await {
                        let frame = frame?;
                        if !checksum_ok(&frame) {
                            corrupt.fetch_add(1, Ordering::Relaxed);
                        }
                        replies.send(frame).await?;
                    }
                    replies.close().await
                }
            })
            // Above the default (4096): every connection is served at once.
            .max_connections(CONNECTIONS)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );

    let baseline = faults::resident_bytes();
    let started = Instant::now();
    let (go_tx, go) = watch::channel(false);
    let (done_tx, done) = watch::channel(false);
    let connecting = Arc::new(Semaphore::new(CONNECTING_AT_ONCE));
    let connected = Arc::new(AtomicUsize::new(0));
    let echoed = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::with_capacity(CONNECTIONS);
    for id in 0..CONNECTIONS {
        let (mut go, mut done) = (go.clone(), done.clone());
        let connecting = Arc::clone(&connecting);
        let (connected, echoed) = (Arc::clone(&connected), Arc::clone(&echoed));
        clients.push(tokio::spawn(async move {
            let socket = {
                let _slot = connecting.acquire().await.unwrap();
                StreamSocket::connect(&v4(), port).await.unwrap()
            };
            connected.fetch_add(1, Ordering::SeqCst);
            go.wait_for(|&go| go).await.unwrap();

            let (input, output) = socket.into_split();
            let mut replies = FrameReader::new(input);
            let mut requests = FrameWriter::new(output);
            let seed = id as u64 + 1;
            let send = async {
                let mut rng = Rng::new(seed);
                for seq in 0..FRAMES {
                    requests.feed(make_frame(&mut rng, seq)).await.unwrap();
                }
                requests.flush().await.unwrap();
            };
            let check = async {
                let mut rng = Rng::new(seed);
                for seq in 0..FRAMES {
                    let reply = replies
                        .next()
                        .await
                        .unwrap_or_else(|| panic!("connection {id}: ended at frame {seq}"))
                        .unwrap();
                    assert!(checksum_ok(&reply), "connection {id}: frame {seq} corrupt");
                    assert_eq!(
                        reply,
                        make_frame(&mut rng, seq),
                        "connection {id}: frame {seq} differs (out of order?)"
                    );
                }
            };
            tokio::join!(send, check);
            echoed.fetch_add(1, Ordering::SeqCst);
            // Stay open (idle) until every connection has echoed.
            done.wait_for(|&done| done).await.unwrap();
            requests.close().await.unwrap();
            assert!(replies.next().await.is_none());
        }));
    }

    // Every connection open, accepted, and waiting: idle.
    while connected.load(Ordering::SeqCst) < CONNECTIONS {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    all_accepted.notified().await;
    let connect_time = started.elapsed();
    let idle = faults::resident_bytes();
    let per_idle = idle.saturating_sub(baseline) / CONNECTIONS as u64;

    let traffic = Instant::now();
    go_tx.send_replace(true);
    while echoed.load(Ordering::SeqCst) < CONNECTIONS {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let traffic_time = traffic.elapsed();
    let after = faults::resident_bytes();
    let per_after = after.saturating_sub(baseline) / CONNECTIONS as u64;

    done_tx.send_replace(true);
    for client in clients {
        client.await.unwrap();
    }
    stop.send(()).unwrap();
    let report = server.await.unwrap();

    let frames = CONNECTIONS as u64 * u64::from(FRAMES);
    println!(
        "stress tcp: {CONNECTIONS} connections open in {connect_time:.2?}; \
         {frames} frames echoed in {traffic_time:.2?}, {} corrupt; resident memory \
         {baseline} B before, {idle} B with all idle ({per_idle} B per idle connection, \
         both ends), {after} B idle after the traffic ({per_after} B per connection); \
         {report:?}",
        corrupt.load(Ordering::SeqCst)
    );
    assert_eq!(corrupt.load(Ordering::SeqCst), 0);
    assert_eq!(report.accepted, CONNECTIONS as u64, "{report:?}");
    assert_eq!(report.completed, CONNECTIONS as u64, "{report:?}");
    assert!(
        per_idle < MAX_BYTES_PER_IDLE_CONNECTION,
        "{per_idle} bytes per idle connection"
    );
    assert!(
        per_after < MAX_BYTES_PER_CONNECTION_AFTER_TRAFFIC,
        "{per_after} bytes per connection idle after the traffic"
    );
}
