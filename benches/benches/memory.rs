//! Bench target `memory`: bytes of memory per connection (not time).
//!
//! `memory_per_connection`: [`CONNECTIONS`] clients each send one 16 KiB
//! length-prefixed frame, get it echoed, and then stay connected and idle;
//! and the same number of clients that connect and send nothing.
//! `peer` is tokio's usual server: an accept loop, a task per connection, and
//! `Framed<TcpStream, LengthDelimitedCodec>`. `ours` is
//! `StreamSocketListener::serve` with `socket.framed(LengthPrefixedCodec)`,
//! its defaults (idle timeout, connection limit raised to fit). Each runs in a
//! child process of its own; the figure is the growth of the process's
//! resident memory from before the server starts to when every connection is
//! idle, divided by the connections (the clients' sockets, the same in both,
//! are counted too). Kernel socket buffers are not resident memory and are
//! not counted.
//!
//! `--child serve_ld` (serve with tokio-util's codec) and `--child
//! accept_lp` (an accept loop by hand with our codec) print the same figure
//! for two layouts in between, to tell the server's share from the codec's.
//!
//! Prints one line per layout and the ratio (peer bytes ÷ ours bytes, above 1
//! when ours needs less), and writes them to `target/bench-memory.md`, which
//! `cargo xtask bench` adds to its table.

use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use sock_codec::LengthPrefixedCodec;
use sock_core::HostName;
use sock_tcp::{StreamSocket, StreamSocketListener};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, LengthDelimitedCodec};

/// Connections held at once (under `cargo test --benches`, a smoke run of
/// [`SMOKE_CONNECTIONS`]).
const CONNECTIONS: usize = 2000;
const SMOKE_CONNECTIONS: usize = 100;
/// The frame each client sends and gets back.
const FRAME: usize = 16 * 1024;

/// Resident memory of this process in bytes (`/proc/self/statm`).
fn resident() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("read /proc/self/statm");
    let pages: usize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("statm's resident field");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages * usize::try_from(page).expect("page size")
}

/// Raises the descriptor limit to the hard limit (both ends of every
/// connection live in this process).
fn raise_descriptor_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit to fill and then pass back.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
    }
}

/// One client: sends its frame and reads the echo (with `echo`), and stays
/// connected.
async fn client(addr: std::net::SocketAddr, echo: bool) -> Framed<TcpStream, LengthDelimitedCodec> {
    let stream = TcpStream::connect(addr).await.expect("connect");
    let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
    if !echo {
        return framed;
    }
    framed
        .send(Bytes::from(vec![7u8; FRAME]))
        .await
        .expect("send");
    let back = framed.next().await.expect("echo").expect("echo frame");
    assert_eq!(back.len(), FRAME);
    framed
}

async fn peer_server() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut framed = Framed::new(stream, LengthDelimitedCodec::new());
                while let Some(Ok(frame)) = framed.next().await {
                    if framed.send(frame.freeze()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

/// Variants to find where the bytes go (not part of the reported figure).
async fn variant_server(variant: &str) -> std::net::SocketAddr {
    let lo = HostName::new("127.0.0.1").expect("loopback literal");
    let listener = StreamSocketListener::bind_endpoint(Some(&lo), 0)
        .await
        .expect("bind");
    let addr = listener.local_addr();
    match variant {
        // serve, with tokio-util's codec.
        "serve_ld" => {
            tokio::spawn(
                listener
                    .serve(|socket: StreamSocket| async move {
                        let mut framed = Framed::new(socket, LengthDelimitedCodec::new());
                        while let Some(frame) = framed.next().await.transpose()? {
                            framed.send(frame.freeze()).await?;
                        }
                        Ok::<(), std::io::Error>(())
                    })
                    .max_connections(CONNECTIONS * 2),
            );
        }
        // accept + spawn by hand on StreamSocket, our codec.
        _ => {
            tokio::spawn(async move {
                while let Ok(socket) = listener.accept().await {
                    tokio::spawn(async move {
                        let mut framed = socket.framed(LengthPrefixedCodec::new());
                        while let Some(Ok(frame)) = framed.next().await {
                            if framed.send(frame).await.is_err() {
                                return;
                            }
                        }
                    });
                }
            });
        }
    }
    addr
}

async fn our_server() -> std::net::SocketAddr {
    let lo = HostName::new("127.0.0.1").expect("loopback literal");
    let listener = StreamSocketListener::bind_endpoint(Some(&lo), 0)
        .await
        .expect("bind");
    let addr = listener.local_addr();
    tokio::spawn(
        listener
            .serve(|socket: StreamSocket| async move {
                let mut framed = socket.framed(LengthPrefixedCodec::new());
                while let Some(frame) = framed.next().await.transpose()? {
                    framed.send(frame).await?;
                }
                Ok::<(), sock_core::Error>(())
            })
            .max_connections(CONNECTIONS * 2),
    );
    addr
}

/// Runs one layout in this process and prints its bytes per connection.
fn child(layout: &str, connections: usize, echo: bool) {
    raise_descriptor_limit();
    let rt = sock_benches::runtime();
    rt.block_on(async {
        // Warm up the allocator and the runtime with one connection first.
        let before = resident();
        let addr = match layout {
            "peer" => peer_server().await,
            "ours" => our_server().await,
            variant => variant_server(variant).await,
        };
        let mut clients = Vec::with_capacity(connections);
        for _ in 0..connections / 100 {
            let batch: Vec<_> = (0..100).map(|_| tokio::spawn(client(addr, echo))).collect();
            for c in batch {
                clients.push(c.await.expect("client"));
            }
        }
        // Let every handler go back to waiting.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = resident();
        println!("{}", (after.saturating_sub(before)) / connections);
        drop(clients);
    });
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let connections = args
            .get(i + 2)
            .and_then(|n| n.parse().ok())
            .unwrap_or(CONNECTIONS);
        let echo = args.get(i + 3).is_none_or(|mode| mode != "idle");
        child(&args[i + 1], connections, echo);
        return;
    }
    if args.iter().any(|a| a == "--list") {
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not: a smoke run.
    let connections = if args.iter().any(|a| a == "--bench") {
        CONNECTIONS
    } else {
        SMOKE_CONNECTIONS
    };
    let filter: Vec<&String> = args
        .iter()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    // Criterion's filter is a regular expression; alternatives are enough here.
    let wanted = |f: &&String| {
        f.split('|')
            .any(|part| "memory_per_connection".contains(part))
    };
    if !filter.is_empty() && !filter.iter().any(wanted) {
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let measure = |layout: &str, mode: &str| -> usize {
        let out = Command::new(&exe)
            .args(["--child", layout, &connections.to_string(), mode])
            .output()
            .expect("run the child");
        assert!(
            out.status.success(),
            "{layout}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .expect("bytes per connection")
    };
    let mut lines = String::new();
    for (mode, what) in [
        ("echo", "idle connections after a 16 KiB echo"),
        ("idle", "connections idle from the start"),
    ] {
        let peer = measure("peer", mode);
        let ours = measure("ours", mode);
        let ratio = peer as f64 / ours.max(1) as f64;
        lines.push_str(&format!(
            "- memory_per_connection ({connections} {what}): peer {peer} B, ours {ours} B, \
             ratio (peer ÷ ours) {ratio:.2}\n"
        ));
    }
    let line = lines;
    print!("{line}");
    if connections != CONNECTIONS {
        return;
    }
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/bench-memory.md");
    let _ = std::fs::write(target, line);
}
