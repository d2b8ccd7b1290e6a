//! The hostile clients. Each attack opens its connections (or starts its
//! senders) and holds them until dropped; every loop is bounded in count.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinHandle;

/// A running attack: the connections it holds and the tasks it runs.
pub(crate) struct Attack {
    /// How many hostile connections (or senders) it made.
    pub(crate) hostile: usize,
    held: Vec<TcpStream>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Attack {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

impl Attack {
    fn new() -> Self {
        Self {
            hostile: 0,
            held: Vec::new(),
            tasks: Vec::new(),
        }
    }

    /// Ends the attack: connections close, tasks stop.
    pub(crate) fn stop(mut self) {
        self.held.clear();
        for task in self.tasks.drain(..) {
            task.abort();
        }
    }
}

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// Opens up to `n` connections, `batch` at a time, each set up by `prepare`;
/// connections the server refused are skipped.
async fn open<F, Fut>(port: u16, n: usize, prepare: F) -> Vec<TcpStream>
where
    F: Fn(TcpStream) -> Fut,
    Fut: std::future::Future<Output = Option<TcpStream>>,
{
    let mut held = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(64) {
        let opened = futures::future::join_all(chunk.iter().map(|_| async {
            let stream =
                tokio::time::timeout(Duration::from_secs(5), TcpStream::connect(addr(port)))
                    .await
                    .ok()?
                    .ok()?;
            prepare(stream).await
        }))
        .await;
        held.extend(opened.into_iter().flatten());
    }
    held
}

/// Connections that connect and say nothing (an idle flood, or silent TLS
/// clients that never send a ClientHello).
pub(crate) async fn silent(port: u16, n: usize) -> Attack {
    let mut attack = Attack::new();
    attack.held = open(port, n, |s| async { Some(s) }).await;
    attack.hostile = attack.held.len();
    attack
}

/// Connections that announce an 8 MiB frame and send nothing more.
pub(crate) async fn header_only(port: u16, n: usize) -> Attack {
    let mut attack = Attack::new();
    attack.held = open(port, n, |mut s| async move {
        s.write_all(&(8u32 << 20).to_be_bytes()).await.ok()?;
        Some(s)
    })
    .await;
    attack.hostile = attack.held.len();
    attack
}

/// Connections that send all but the last byte of an 8 MiB frame and stall.
pub(crate) async fn stalled_frames(port: u16, n: usize) -> Attack {
    let mut attack = Attack::new();
    attack.hostile = n;
    for _ in 0..n {
        attack.tasks.push(tokio::spawn(async move {
            let Ok(mut s) = TcpStream::connect(addr(port)).await else {
                return;
            };
            let len: usize = 8 << 20;
            let mut frame = Vec::with_capacity(4 + len);
            frame.extend_from_slice(&(len as u32).to_be_bytes());
            frame.resize(4 + len - 1, b'a');
            // The server may refuse it (its memory budget): a reset then.
            let _ = s.write_all(&frame).await;
            std::future::pending::<()>().await;
        }));
    }
    // Give the frames time to arrive before the probe starts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    attack
}

/// WebSocket clients that upgrade, send the header of a masked 4 MiB binary
/// frame and its first KiB, and stall: the server may keep room for what
/// arrived, never for what the header announced.
pub(crate) async fn websocket_stalled(port: u16, n: usize) -> Attack {
    let mut attack = Attack::new();
    attack.held = open(port, n, |mut s| async move {
        let request = format!(
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\n\r\n"
        );
        s.write_all(request.as_bytes()).await.ok()?;
        // The 101 answer, up to its blank line (a few hundred bytes).
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && head.len() < 4096 {
            s.read_exact(&mut byte).await.ok()?;
            head.push(byte[0]);
        }
        if !head.starts_with(b"HTTP/1.1 101") {
            return None;
        }
        let mut frame = vec![0x82, 0x80 | 127];
        frame.extend_from_slice(&(4u64 << 20).to_be_bytes());
        frame.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
        frame.resize(frame.len() + 1024, b'w');
        s.write_all(&frame).await.ok()?;
        Some(s)
    })
    .await;
    attack.hostile = attack.held.len();
    attack
}

/// Connections that announce a 1 MiB frame and then send one byte every
/// `every`.
pub(crate) async fn slow_drip(port: u16, n: usize, every: Duration) -> Attack {
    let mut attack = Attack::new();
    let streams = open(port, n, |mut s| async move {
        s.write_all(&(1u32 << 20).to_be_bytes()).await.ok()?;
        Some(s)
    })
    .await;
    attack.hostile = streams.len();
    for mut s in streams {
        attack.tasks.push(tokio::spawn(async move {
            // At most 1 MiB of drips; the attack is stopped long before.
            for _ in 0..(1 << 20) {
                tokio::time::sleep(every).await;
                if s.write_all(b"d").await.is_err() {
                    return;
                }
            }
        }));
    }
    attack
}

/// Clients that send bytes that are not TLS, or truncated and lying TLS
/// records, over and over (at most `rounds` connections each).
pub(crate) async fn garbage_tls(port: u16, n: usize, rounds: usize) -> Attack {
    let mut attack = Attack::new();
    attack.hostile = n;
    for client in 0..n {
        attack.tasks.push(tokio::spawn(async move {
            let mut seed = 0x9e37_79b9_7f4a_7c15_u64 ^ client as u64;
            for round in 0..rounds {
                let bytes: Vec<u8> = match round % 3 {
                    // Random bytes.
                    0 => (0..4096)
                        .map(|_| {
                            seed ^= seed << 13;
                            seed ^= seed >> 7;
                            seed ^= seed << 17;
                            seed as u8
                        })
                        .collect(),
                    // A handshake record announcing 65,535 bytes, then 3.
                    1 => vec![0x16, 0x03, 0x01, 0xff, 0xff, 0x01, 0x00, 0x00],
                    // Plain text where a ClientHello belongs.
                    _ => b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_vec(),
                };
                say_and_listen(port, &bytes, false).await;
            }
        }));
    }
    attack
}

/// One connection: sends `bytes` (then ends its sending side, with
/// `half_close`) and reads what the server says until it closes (at most
/// 5 s). Failures are the point of the exercise and are ignored.
async fn say_and_listen(port: u16, bytes: &[u8], half_close: bool) {
    let Ok(mut s) = TcpStream::connect(addr(port)).await else {
        return;
    };
    let _ = s.write_all(bytes).await;
    if half_close {
        let _ = s.shutdown().await;
    }
    let mut sink = [0u8; 512];
    let _ = tokio::time::timeout(Duration::from_secs(5), async {
        while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

/// `n` connections opened and reset at once (`SO_LINGER` 0), as fast as
/// they go, in the background.
pub(crate) async fn reset_storm(port: u16, n: usize) -> Attack {
    let mut attack = Attack::new();
    attack.hostile = n;
    attack.tasks.push(tokio::spawn(async move {
        for _ in 0..n {
            if let Ok(s) = TcpStream::connect(addr(port)).await {
                let _ = s.set_zero_linger();
                drop(s);
            }
            tokio::task::yield_now().await;
        }
    }));
    attack
}

/// `senders` sockets sending `datagrams` 1,200-byte datagrams in all, as
/// fast as they go.
pub(crate) async fn udp_flood(port: u16, senders: usize, datagrams: usize) -> Attack {
    let mut attack = Attack::new();
    attack.hostile = senders;
    for _ in 0..senders {
        attack.tasks.push(tokio::spawn(async move {
            let Ok(s) = UdpSocket::bind("127.0.0.1:0").await else {
                return;
            };
            let payload = [0x5a_u8; 1200];
            for _ in 0..datagrams / senders {
                let _ = s.send_to(&payload, addr(port)).await;
            }
        }));
    }
    attack
}

/// Line clients that send CR/LF edge cases, invalid UTF-8 and over-long
/// lines, reconnecting (at most `rounds` times each).
pub(crate) async fn line_edges(port: u16, n: usize, rounds: usize) -> Attack {
    let mut attack = Attack::new();
    attack.hostile = n;
    for _ in 0..n {
        attack.tasks.push(tokio::spawn(async move {
            let cases: [&[u8]; 6] = [
                b"x\r\r\n",
                b"\r\n\n\r",
                b"\xff\xfe invalid\n",
                b"caf\xc3\n",
                b"\x1b[31mred\r\n",
                b"no newline at all",
            ];
            let long = vec![b'l'; 70 * 1024];
            for round in 0..rounds {
                let bytes = if round % 7 == 6 {
                    &long[..]
                } else {
                    cases[round % 6]
                };
                say_and_listen(port, bytes, true).await;
            }
        }));
    }
    attack
}
