//! Bench target `udp`: moving 1200-byte datagrams over loopback.
//!
//! * `udp_datagrams` (the headline, receive offload off):
//!   `peer` is what a tokio program writes by hand, a `UdpSocket::send_to`
//!   loop and a `recv_from` loop; `ours` is `DatagramSocket::send_batch`
//!   (UDP GSO + `sendmmsg`) and `recv_batch` (`recvmmsg`).
//! * `udp_datagrams_gro`: the same, with receive offload (GRO) on for ours.
//!
//! Each iteration sends a window of datagrams and receives them on the other
//! side; both ends run on one current-thread runtime. The window is far below
//! what the receive buffer holds, and every receive waits at most a deadline,
//! so a lost datagram costs time (and is counted and printed) instead of
//! hanging the bench.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use criterion::{Criterion, Throughput};
use sock_core::HostName;
use sock_udp::{DatagramMessage, DatagramSocket};
use tokio::net::UdpSocket;

/// Bytes per datagram: a typical QUIC-sized payload.
const SIZE: usize = 1200;
/// Datagrams per iteration.
const WINDOW: usize = 512;
/// The receive buffer asked for on both sides.
const RECV_BUFFER: usize = 4 << 20;
/// How long an iteration waits for a datagram before counting it lost.
const DEADLINE: Duration = Duration::from_millis(200);

struct Peer {
    tx: UdpSocket,
    rx: UdpSocket,
    dest: SocketAddr,
    buf: Vec<u8>,
    payload: Vec<u8>,
    lost: usize,
}

impl Peer {
    async fn new() -> Self {
        let tx = UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind peer sender");
        let rx = UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("bind peer receiver");
        socket2::SockRef::from(&rx)
            .set_recv_buffer_size(RECV_BUFFER)
            .expect("peer receive buffer");
        let dest = rx.local_addr().expect("peer address");
        Self {
            tx,
            rx,
            dest,
            buf: vec![0; 64 * 1024],
            payload: vec![0xA5; SIZE],
            lost: 0,
        }
    }

    async fn iteration(&mut self) {
        for _ in 0..WINDOW {
            self.tx
                .send_to(&self.payload, self.dest)
                .await
                .expect("peer send_to");
        }
        let mut got = 0;
        while got < WINDOW {
            match tokio::time::timeout(DEADLINE, self.rx.recv_from(&mut self.buf)).await {
                Ok(Ok((n, _))) => {
                    assert_eq!(n, SIZE);
                    got += 1;
                }
                Ok(Err(e)) => panic!("peer recv_from: {e}"),
                Err(_) => {
                    self.lost += WINDOW - got;
                    break;
                }
            }
        }
    }
}

struct Ours {
    tx: DatagramSocket,
    rx: DatagramSocket,
    dest: SocketAddr,
    batch: Vec<Bytes>,
    slots: Vec<DatagramMessage>,
    lost: usize,
}

impl Ours {
    async fn new(receive_offload: bool) -> Self {
        let lo = HostName::new("127.0.0.1").expect("loopback literal");
        let tx = DatagramSocket::bind_endpoint(Some(&lo), "")
            .await
            .expect("bind our sender");
        let rx = DatagramSocket::builder()
            .inbound_buffer_size(RECV_BUFFER)
            .receive_offload(receive_offload)
            .bind_endpoint(Some(&lo), "")
            .await
            .expect("bind our receiver");
        let dest = rx.local_addr();
        let payload = Bytes::from(vec![0xA5; SIZE]);
        Self {
            tx,
            rx,
            dest,
            batch: vec![payload; WINDOW],
            slots: vec![DatagramMessage::default(); 64],
            lost: 0,
        }
    }

    async fn iteration(&mut self) {
        let sent = self
            .tx
            .send_batch(self.dest, &self.batch)
            .await
            .expect("our send_batch");
        assert_eq!(sent, WINDOW);
        let mut got = 0;
        while got < WINDOW {
            match tokio::time::timeout(DEADLINE, self.rx.recv_batch(&mut self.slots)).await {
                Ok(Ok(n)) => {
                    debug_assert!(self.slots[..n].iter().all(|m| m.data.len() == SIZE));
                    got += n;
                }
                Ok(Err(e)) => panic!("our recv_batch: {e}"),
                Err(_) => {
                    self.lost += WINDOW - got;
                    break;
                }
            }
        }
    }
}

fn group(c: &mut Criterion, name: &str, receive_offload: bool) {
    let rt = sock_benches::runtime();
    let mut peer = rt.block_on(Peer::new());
    let mut ours = rt.block_on(Ours::new(receive_offload));
    println!(
        "{name}: ours with segmentation offload {}, receive offload {}",
        on_off(ours.tx.segmentation_offload()),
        on_off(ours.rx.receive_offload()),
    );

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Bytes((WINDOW * SIZE) as u64));
    g.bench_function("peer", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = Instant::now();
                for _ in 0..iters {
                    peer.iteration().await;
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
                    ours.iteration().await;
                }
                start.elapsed()
            })
        });
    });
    g.finish();
    println!(
        "{name}: datagrams lost on loopback: peer {}, ours {}",
        peer.lost, ours.lost
    );
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

fn main() {
    let mut c = sock_benches::criterion().configure_from_args();
    group(&mut c, "udp_datagrams", false);
    group(&mut c, "udp_datagrams_gro", true);
    c.final_summary();
}
