//! Bench target `scale`: serving many clients on every core.
//!
//! * `serve_scaling_1`, `serve_scaling_2`: 32 persistent connections, each
//!   doing 64-byte echo round trips concurrently (64 per connection per
//!   iteration); round trips per second. `peer` is the layout most tokio
//!   servers use: one `TcpListener` on a multi-thread runtime with 2 workers
//!   and a task per connection. `ours` is `serve_sharded` with 1 and with 2
//!   worker threads (one listener per thread on one port, each with a
//!   current-thread runtime). `serve_scaling_2` also measures `floor`: the
//!   same thread-per-core layout written with bare tokio and socket2 (two
//!   threads, each a current-thread runtime and its own `SO_REUSEPORT`
//!   listener, a task per connection), no library at all: `peer ÷ floor`
//!   is the best any sharded server could reach against the peer here.
//! * `serve_accept_2`: connections per second: 64 clients connect at once,
//!   send 8 bytes, read them back and reset; the same two server layouts, 2
//!   workers each.
//!
//! The clients run on their own 2-worker runtime in the same process, so on
//! a 2-core machine they compete with the server for the cores: every
//! layout pays that the same.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use sock_core::HostName;
use sock_tcp::{ShardedServer, StreamSocket, StreamSocketListener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;

/// Concurrent connections in the echo groups.
const CONNECTIONS: usize = 32;
/// Round trips per connection per iteration.
const ROUND_TRIPS: usize = 64;
/// Bytes per message.
const MESSAGE: usize = 64;
/// Connections per iteration in `serve_accept_2`.
const DIALS: usize = 64;

fn multi_thread(workers: usize) -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .expect("build a multi-thread runtime")
}

/// Echoes until the peer closes.
async fn echo<S: AsyncReadExt + AsyncWriteExt + Unpin>(mut socket: S) {
    let mut buf = [0u8; 4096];
    loop {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if socket.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

/// The tokio layout: one listener, a task per connection, `workers` threads.
fn start_peer(workers: usize) -> (Runtime, SocketAddr) {
    let rt = multi_thread(workers);
    let listener = rt
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .expect("peer bind");
    let addr = listener.local_addr().expect("peer address");
    rt.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            stream.set_nodelay(true).expect("peer nodelay");
            tokio::spawn(echo(stream));
        }
    });
    (rt, addr)
}

/// The floor: thread per core by hand: `workers` threads, each with a
/// current-thread runtime and its own `SO_REUSEPORT` listener on one port.
/// The threads end when the process does.
fn start_floor(workers: usize) -> SocketAddr {
    use socket2::{Domain, Socket, Type};
    let bind = |addr: SocketAddr| {
        let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("floor socket");
        socket.set_reuse_port(true).expect("floor reuse_port");
        socket.set_nonblocking(true).expect("floor nonblocking");
        socket.bind(&addr.into()).expect("floor bind");
        socket.listen(1024).expect("floor listen");
        std::net::TcpListener::from(socket)
    };
    let first = bind("127.0.0.1:0".parse().expect("loopback"));
    let addr = first.local_addr().expect("floor address");
    let mut listeners = vec![first];
    for _ in 1..workers {
        listeners.push(bind(addr));
    }
    for listener in listeners {
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("floor runtime");
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).expect("floor listener");
                while let Ok((stream, _)) = listener.accept().await {
                    stream.set_nodelay(true).expect("floor nodelay");
                    tokio::spawn(echo(stream));
                }
            });
        });
    }
    addr
}

/// Ours: `serve_sharded` with `workers` shards.
fn start_ours(workers: usize) -> ShardedServer {
    let lo = HostName::new("127.0.0.1").expect("loopback literal");
    sock_benches::runtime()
        .block_on(
            StreamSocketListener::builder()
                .serve_sharded(Some(&lo), "", workers, |socket: StreamSocket| echo(socket))
                .idle_timeout(None)
                .start(),
        )
        .expect("start the shards")
}

async fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).expect("nodelay");
    s
}

/// Every client does `rounds` round trips at once; gives the clients back
/// with the time it took.
async fn echo_load(clients: Vec<TcpStream>, rounds: usize) -> (Vec<TcpStream>, Duration) {
    let start = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                let msg = [7u8; MESSAGE];
                let mut back = [0u8; MESSAGE];
                for _ in 0..rounds {
                    client.write_all(&msg).await.expect("echo write");
                    client.read_exact(&mut back).await.expect("echo read");
                }
                client
            })
        })
        .collect();
    let mut clients = Vec::with_capacity(tasks.len());
    for task in tasks {
        clients.push(task.await.expect("echo client"));
    }
    (clients, start.elapsed())
}

/// Runs the echo load against `addr` for criterion's `iters`.
fn bench_echo(client_rt: &Runtime, addr: SocketAddr, iters: u64) -> Duration {
    client_rt.block_on(async {
        let mut clients = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            clients.push(connect(addr).await);
        }
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let (back, took) = echo_load(clients, ROUND_TRIPS).await;
            clients = back;
            total += took;
        }
        total
    })
}

fn serve_scaling(c: &mut Criterion, client_rt: &Runtime, ours_workers: usize) {
    let (peer_rt, peer_addr) = start_peer(2);
    let ours = start_ours(ours_workers);
    let our_addr = ours.local_addr();
    let mut g = c.benchmark_group(format!("serve_scaling_{ours_workers}"));
    g.throughput(Throughput::Elements((CONNECTIONS * ROUND_TRIPS) as u64));
    g.bench_function("peer", |b| {
        b.iter_custom(|iters| bench_echo(client_rt, peer_addr, iters));
    });
    g.bench_function("ours", |b| {
        b.iter_custom(|iters| bench_echo(client_rt, our_addr, iters));
    });
    if ours_workers > 1 {
        let floor_addr = start_floor(ours_workers);
        g.bench_function("floor", |b| {
            b.iter_custom(|iters| bench_echo(client_rt, floor_addr, iters));
        });
    }
    g.finish();
    sock_benches::runtime().block_on(ours.shutdown());
    peer_rt.shutdown_timeout(Duration::from_secs(1));
}

/// `DIALS` clients connect at once, do one round trip, and reset.
async fn dial_burst(addr: SocketAddr) {
    let tasks: Vec<_> = (0..DIALS)
        .map(|_| {
            tokio::spawn(async move {
                let mut s = connect(addr).await;
                s.set_zero_linger().expect("zero linger");
                s.write_all(&[1u8; 8]).await.expect("dial write");
                let mut back = [0u8; 8];
                s.read_exact(&mut back).await.expect("dial read");
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("dial");
    }
}

fn serve_accept(c: &mut Criterion, client_rt: &Runtime) {
    let (peer_rt, peer_addr) = start_peer(2);
    let ours = start_ours(2);
    let our_addr = ours.local_addr();
    let mut g = c.benchmark_group("serve_accept_2");
    g.throughput(Throughput::Elements(DIALS as u64));
    for (name, addr) in [("peer", peer_addr), ("ours", our_addr)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                client_rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        dial_burst(addr).await;
                    }
                    start.elapsed()
                })
            });
        });
    }
    g.finish();
    sock_benches::runtime().block_on(ours.shutdown());
    peer_rt.shutdown_timeout(Duration::from_secs(1));
}

fn main() {
    let mut c = sock_benches::criterion().configure_from_args();
    let client_rt = multi_thread(2);
    serve_scaling(&mut c, &client_rt, 1);
    serve_scaling(&mut c, &client_rt, 2);
    serve_accept(&mut c, &client_rt);
    c.final_summary();
}
