//! Bench target `udp`: moving 1200-byte datagrams over loopback.
//!
//! * `udp_datagrams` (the headline, receive offload off):
//!   `peer` is what a tokio program writes by hand, a `UdpSocket::send_to`
//!   loop and a `recv_from` loop; `ours` is `DatagramSocket::send_batch`
//!   (UDP GSO + `sendmmsg`) of the window's datagrams as slices of one
//!   buffer, as its docs advise, and `recv_batch` (`recvmmsg`).
//! * `udp_datagrams_gro`: the same, with receive offload (GRO) on for ours.
//! * `floor` (Linux, `udp_datagrams` only): the kernel's own cost of the same
//!   work with no library in between: the window sent as contiguous GSO
//!   messages in one `sendmmsg`, and received by bare `recvmmsg` calls that
//!   still ask for each sender's address (as any receive API must), receive
//!   offload off. Nothing that reports senders beats it without receive
//!   offload, so `peer ÷ floor` is the ceiling of the headline ratio on the
//!   machine it runs on (`cargo xtask bench` prints it).
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

/// A tokio sender and receiver on loopback, the receiver's buffer enlarged.
async fn tokio_pair(who: &str) -> (UdpSocket, UdpSocket) {
    let bind = || UdpSocket::bind("127.0.0.1:0");
    let tx = bind()
        .await
        .unwrap_or_else(|e| panic!("bind {who} sender: {e}"));
    let rx = bind()
        .await
        .unwrap_or_else(|e| panic!("bind {who} receiver: {e}"));
    socket2::SockRef::from(&rx)
        .set_recv_buffer_size(RECV_BUFFER)
        .unwrap_or_else(|e| panic!("{who} receive buffer: {e}"));
    (tx, rx)
}

impl Peer {
    async fn new() -> Self {
        let (tx, rx) = tokio_pair("peer").await;
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
        // The window as slices of one buffer, as a program that encodes
        // its datagrams one after another has them.
        let window = Bytes::from(vec![0xA5; WINDOW * SIZE]);
        Self {
            tx,
            rx,
            dest,
            batch: (0..WINDOW)
                .map(|i| window.slice(i * SIZE..(i + 1) * SIZE))
                .collect(),
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

/// The kernel's floor: the same window with no library in between.
#[cfg(target_os = "linux")]
struct Floor {
    tx: UdpSocket,
    rx: UdpSocket,
    dest: libc::sockaddr_in,
    /// The whole window, contiguous: `WINDOW` datagrams of `SIZE` bytes.
    window: Vec<u8>,
    bufs: Vec<[u8; SIZE + 1]>,
    lost: usize,
}

#[cfg(target_os = "linux")]
impl Floor {
    /// Datagrams per GSO message: as many as fit in 64 KiB.
    const SEGMENTS: usize = 65_000 / SIZE;

    async fn new() -> Self {
        let (tx, rx) = tokio_pair("floor").await;
        let SocketAddr::V4(addr) = rx.local_addr().expect("floor address") else {
            unreachable!("bound to an IPv4 address")
        };
        // SAFETY: all-zero is a valid `sockaddr_in`.
        let mut dest: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        dest.sin_family = libc::AF_INET as libc::sa_family_t;
        dest.sin_port = addr.port().to_be();
        dest.sin_addr.s_addr = u32::from(*addr.ip()).to_be();
        Self {
            tx,
            rx,
            dest,
            window: vec![0xA5; WINDOW * SIZE],
            bufs: vec![[0; SIZE + 1]; 64],
            lost: 0,
        }
    }

    async fn iteration(&mut self) {
        use std::os::fd::AsRawFd;
        use tokio::io::Interest;

        // Send: one `sendmmsg` of GSO messages, each `SEGMENTS` datagrams.
        let messages = WINDOW.div_ceil(Self::SEGMENTS);
        let mut iovs: Vec<libc::iovec> = self
            .window
            .chunks_mut(Self::SEGMENTS * SIZE)
            .map(|c| libc::iovec {
                iov_base: c.as_mut_ptr().cast(),
                iov_len: c.len(),
            })
            .collect();
        // Room for one `UDP_SEGMENT` control message (a u16) per message.
        let mut ctrl = vec![[0u64; 4]; messages];
        // SAFETY: all-zero is a valid `mmsghdr`.
        let mut hdrs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; messages];
        for ((h, iov), c) in hdrs.iter_mut().zip(&mut iovs).zip(&mut ctrl) {
            let h = &mut h.msg_hdr;
            h.msg_name = std::ptr::from_mut(&mut self.dest).cast();
            h.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h.msg_iov = iov;
            h.msg_iovlen = 1;
            h.msg_control = c.as_mut_ptr().cast();
            // SAFETY: the control buffer is aligned and holds one u16 record.
            unsafe {
                h.msg_controllen = libc::CMSG_SPACE(size_of::<u16>() as u32) as _;
                let cm = libc::CMSG_FIRSTHDR(h);
                (*cm).cmsg_level = libc::SOL_UDP;
                (*cm).cmsg_type = libc::UDP_SEGMENT;
                (*cm).cmsg_len = libc::CMSG_LEN(size_of::<u16>() as u32) as _;
                std::ptr::write_unaligned(libc::CMSG_DATA(cm).cast::<u16>(), SIZE as u16);
            }
        }
        let fd = self.tx.as_raw_fd();
        let mut sent = 0;
        while sent < messages {
            self.tx.writable().await.expect("floor writable");
            let res = self.tx.try_io(Interest::WRITABLE, || {
                // SAFETY: every header points at live buffers sized as declared.
                let n = unsafe {
                    libc::sendmmsg(fd, hdrs[sent..].as_mut_ptr(), (messages - sent) as _, 0)
                };
                usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
            });
            match res {
                Ok(n) => sent += n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("floor sendmmsg (does the kernel have UDP GSO?): {e}"),
            }
        }

        // Receive: bare `recvmmsg`, with the sender's address and room for
        // control messages, 64 at a time.
        let mut names = [0u64; 64 * 16];
        let mut ctrl = [[0u64; 16]; 64];
        let mut iovs: Vec<libc::iovec> = self
            .bufs
            .iter_mut()
            .map(|b| libc::iovec {
                iov_base: b.as_mut_ptr().cast(),
                iov_len: b.len(),
            })
            .collect();
        // SAFETY: all-zero is a valid `mmsghdr`.
        let mut hdrs: Vec<libc::mmsghdr> = vec![unsafe { std::mem::zeroed() }; 64];
        let fd = self.rx.as_raw_fd();
        let mut got = 0;
        while got < WINDOW {
            for (i, h) in hdrs.iter_mut().enumerate() {
                let h = &mut h.msg_hdr;
                h.msg_name = names[i * 16..].as_mut_ptr().cast();
                h.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                h.msg_iov = &mut iovs[i];
                h.msg_iovlen = 1;
                h.msg_control = ctrl[i].as_mut_ptr().cast();
                h.msg_controllen = size_of::<[u64; 16]>() as _;
            }
            let ready = tokio::time::timeout(DEADLINE, self.rx.readable()).await;
            if ready.is_err() {
                self.lost += WINDOW - got;
                return;
            }
            let res = self.rx.try_io(Interest::READABLE, || {
                // SAFETY: every header points at live buffers sized as declared.
                let n = unsafe {
                    libc::recvmmsg(
                        fd,
                        hdrs.as_mut_ptr(),
                        64,
                        libc::MSG_TRUNC as _,
                        std::ptr::null_mut(),
                    )
                };
                usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
            });
            match res {
                Ok(n) => {
                    debug_assert!(hdrs[..n].iter().all(|h| h.msg_len as usize == SIZE));
                    got += n;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => panic!("floor recvmmsg: {e}"),
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
    #[cfg(target_os = "linux")]
    let floor_lost = if receive_offload {
        0
    } else {
        let mut floor = rt.block_on(Floor::new());
        g.bench_function("floor", |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for _ in 0..iters {
                        floor.iteration().await;
                    }
                    start.elapsed()
                })
            });
        });
        floor.lost
    };
    #[cfg(not(target_os = "linux"))]
    let floor_lost = 0;
    g.finish();
    println!(
        "{name}: datagrams lost on loopback: peer {}, ours {}, floor {floor_lost}",
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
