//! `DatagramSocket`: UWP's `DatagramSocket` on tokio.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Buf;
use sock_core::{EndpointPair, Error, HostName, Result, ServiceName};
use socket2::{SockAddr, SockRef, Socket};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use crate::batch::{self, MAX_GSO_BYTES};
use crate::control::DatagramSocketControl;
use crate::resolve::{self, max_payload, too_long, unicast_refused, unmap, unmap_ip, Family};
use crate::rx::{Pending, Rx, ARENA_SIZE, MAX_HEAD, SLOT_STAGGER};
use crate::sys::{self, RecvMeta};
use crate::DatagramMessage;

/// The addresses of a socket, as UWP's `DatagramSocketInformation`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatagramSocketInformation {
    /// The bound local address (`::` or `0.0.0.0` when bound to all).
    pub local_address: HostName,
    /// The bound local port.
    pub local_port: u16,
    /// The remote address: the connected peer, else the target of the last
    /// [`output_stream`](DatagramSocket::output_stream); `None` before either.
    pub remote_address: Option<HostName>,
    /// The remote port, with `remote_address`.
    pub remote_port: Option<u16>,
}

/// A UDP socket with the UWP `DatagramSocket` feature set.
///
/// Make one with [`bind_service_name`](Self::bind_service_name),
/// [`bind_endpoint`](Self::bind_endpoint) or [`connect`](Self::connect), or
/// with options through [`builder`](Self::builder). Every method takes
/// `&self`, so one task can receive while others send; share the socket with
/// an `Arc` to use it from several tasks.
///
/// Receiving: [`recv`](Self::recv), [`messages`](Self::messages) (a
/// `Stream`), [`recv_batch`](Self::recv_batch). Sending:
/// [`send_to`](Self::send_to), [`send`](Self::send) when connected,
/// [`output_stream`](Self::output_stream) (each flush is one datagram, as
/// UWP's `GetOutputStreamAsync`), [`send_batch`](Self::send_batch).
///
/// **ICMP reports.** A "port unreachable" reply to an earlier send surfaces
/// as `ConnectionRefused` (or `ConnectionResetByPeer` on some systems). It
/// never ends a receive loop: an unconnected socket skips it (it cannot tell
/// which of its peers it concerns), and a connected socket returns it as an
/// error from one `recv` and goes on working.
///
/// **Truncation.** A datagram larger than
/// [`max_message_size`](DatagramSocketControl::max_message_size) is flagged
/// with [`DatagramMessage::truncated`]; none is cut short silently.
pub struct DatagramSocket {
    pub(crate) io: UdpSocket,
    pub(crate) family: Family,
    pub(crate) local: SocketAddr,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) control: Mutex<DatagramSocketControl>,
    pub(crate) last_remote: Mutex<Option<SocketAddr>>,
    pub(crate) gso: AtomicBool,
    pub(crate) gro: bool,
    pub(crate) slot_size: usize,
    pub(crate) rx: Mutex<Rx>,
    // `multicast_only`: unicast sends refused, unicast datagrams dropped.
    pub(crate) multicast_only: bool,
    pub(crate) dropped_unicast: AtomicU64,
}

/// Errors that report an ICMP message about an earlier send.
fn is_icmp_report(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
    )
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl DatagramSocket {
    pub(crate) fn from_parts(
        socket: Socket,
        family: Family,
        control: DatagramSocketControl,
        peer: Option<SocketAddr>,
    ) -> Result<Self> {
        let gso = control.is_segmentation_offload() && sys::gso_supported(&socket);
        let gro = control.is_receive_offload() && sys::enable_gro(&socket)?;
        let slot_size = if gro {
            control.max_message_size_value().max(64 * 1024)
        } else {
            control.max_message_size_value()
        };
        let local = socket
            .local_addr()?
            .as_socket()
            .map(unmap)
            .ok_or_else(|| io::Error::other("socket has no ip address"))?;
        let io = UdpSocket::from_std(socket.into())?;
        let multicast_only = control.is_multicast_only();
        Ok(Self {
            io,
            family,
            local,
            peer,
            control: Mutex::new(control),
            last_remote: Mutex::new(None),
            gso: AtomicBool::new(gso),
            gro,
            slot_size,
            rx: Mutex::new(Rx::default()),
            multicast_only,
            dropped_unicast: AtomicU64::new(0),
        })
    }

    /// The options in force.
    pub fn control(&self) -> DatagramSocketControl {
        lock(&self.control).clone()
    }

    /// The local and remote addresses (UWP's `Information`).
    pub fn information(&self) -> DatagramSocketInformation {
        let remote = self.peer.or(*lock(&self.last_remote));
        DatagramSocketInformation {
            local_address: HostName::from(self.local.ip()),
            local_port: self.local.port(),
            remote_address: remote.map(|r| HostName::from(r.ip())),
            remote_port: remote.map(|r| r.port()),
        }
    }

    /// The bound local address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The connected peer, if the socket was made with `connect`.
    pub fn peer_addr(&self) -> Option<SocketAddr> {
        self.peer
    }

    /// Whether [`send_batch`](Self::send_batch) hands same-size datagrams to
    /// the kernel as one segmented message (UDP GSO).
    pub fn segmentation_offload(&self) -> bool {
        self.gso.load(Ordering::Relaxed)
    }

    /// How many received datagrams a
    /// [`multicast_only`](DatagramSocketControl::multicast_only) socket
    /// dropped because they were not sent to a multicast group (unicast or
    /// broadcast datagrams sent to its shared port). Always 0 on other
    /// sockets.
    pub fn dropped_unicast_datagrams(&self) -> u64 {
        self.dropped_unicast.load(Ordering::Relaxed)
    }

    /// Refuses a destination a
    /// [`multicast_only`](DatagramSocketControl::multicast_only) socket may
    /// not send to.
    pub(crate) fn check_destination(&self, addr: SocketAddr) -> Result<()> {
        if self.multicast_only && !unmap_ip(addr.ip()).is_multicast() {
            return Err(unicast_refused(addr));
        }
        Ok(())
    }

    /// Whether the kernel may coalesce received datagrams (UDP GRO).
    pub fn receive_offload(&self) -> bool {
        self.gro
    }

    /// The tokio socket underneath.
    pub fn get_ref(&self) -> &UdpSocket {
        &self.io
    }

    /// The tokio socket underneath (receive offload, if on, stays on).
    pub fn into_inner(self) -> UdpSocket {
        self.io
    }

    /// Closes the socket (UWP's `Close`). Dropping it does the same.
    pub fn close(self) {
        drop(self);
    }

    /// Receives the next datagram (UWP's `MessageReceived` event).
    ///
    /// On a connected socket only the peer's datagrams arrive, and an ICMP
    /// report about an earlier send (the peer's port was closed) is returned
    /// as an error (`ConnectionRefused`); the next call receives again. An
    /// unconnected socket skips such reports.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is either returned or kept for the next call.
    ///
    /// # Errors
    ///
    /// An ICMP report on a connected socket, or a failure of the socket.
    pub async fn recv(&self) -> Result<DatagramMessage> {
        loop {
            {
                let mut rx = lock(&self.rx);
                if let Some(p) = rx.pending.pop_front() {
                    return Ok(rx.message(p));
                }
            }
            self.fill(1).await?;
        }
    }

    /// Receives up to `messages.len()` datagrams with as few system calls as
    /// the platform allows (`recvmmsg`, and GRO when
    /// [`receive_offload`](DatagramSocketControl::receive_offload) is on),
    /// overwriting the first slots. Waits for at least one; returns how many
    /// arrived. Datagrams arrive in the order the kernel queued them.
    ///
    /// ```
    /// use sock_udp::{DatagramMessage, DatagramSocket};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_core::Result<()> {
    /// let socket = DatagramSocket::bind_endpoint(Some(&"127.0.0.1".parse()?), "").await?;
    /// let sender = DatagramSocket::bind_service_name("").await?;
    /// sender.send_batch(socket.local_addr(), &[&b"one"[..], b"two"]).await?;
    ///
    /// let mut batch = vec![DatagramMessage::default(); 64];
    /// let mut got = 0;
    /// while got < 2 {
    ///     let n = socket.recv_batch(&mut batch).await?;
    ///     for msg in &batch[..n] {
    ///         println!("{} bytes from {}", msg.data.len(), msg.remote_addr());
    ///     }
    ///     got += n;
    /// }
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`recv`](Self::recv).
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv). Returns `Ok(0)` at once for no slots.
    pub async fn recv_batch(&self, messages: &mut [DatagramMessage]) -> Result<usize> {
        if messages.is_empty() {
            return Ok(0);
        }
        loop {
            {
                let mut rx = lock(&self.rx);
                let n = rx.pending.len().min(messages.len());
                if n > 0 {
                    for slot in &mut messages[..n] {
                        if let Some(p) = rx.pending.pop_front() {
                            rx.fill_slot(slot, p);
                        }
                    }
                    return Ok(n);
                }
            }
            self.fill(messages.len()).await?;
        }
    }

    /// Waits for datagrams and moves up to about `want` of them into the
    /// pending queue; ICMP reports on unconnected sockets are skipped.
    async fn fill(&self, want: usize) -> Result<()> {
        loop {
            let res = self
                .io
                .async_io(Interest::READABLE | Interest::ERROR, || {
                    let mut rx = lock(&self.rx);
                    if rx.pending.is_empty() {
                        self.receive_now(&mut rx, want)
                    } else {
                        Ok(())
                    }
                })
                .await;
            match res {
                Ok(()) => return Ok(()),
                Err(e) if self.peer.is_none() && is_icmp_report(&e) => {
                    crate::log::icmp_report_skipped(&e);
                    continue;
                }
                Err(e) => return Err(Error::Io(e)),
            }
        }
    }

    /// Datagrams already taken from the kernel (by a batch receive) but not yet
    /// handed out; they live only in this process.
    #[cfg(feature = "handoff")]
    pub(crate) fn queued_datagrams(&self) -> usize {
        lock(&self.rx).pending.len()
    }

    /// One non-blocking receive of up to `want` buffers into `rx.pending`.
    ///
    /// Without receive offload, each datagram lands straight in the landing
    /// zone (no copy) when it fits the room learned from the previous batch;
    /// the rest of a longer one goes to the scratch buffer, and then the whole
    /// datagram is copied to the arena. With receive offload a buffer holds
    /// many datagrams: all of it goes to the scratch buffer and is copied.
    fn receive_now(&self, rx: &mut Rx, want: usize) -> io::Result<()> {
        let slots = want.clamp(1, sys::BATCH_SIZE);
        let head = if self.gro {
            0
        } else if rx.head == 0 {
            MAX_HEAD.min(self.slot_size)
        } else {
            rx.head.min(self.slot_size)
        };
        let heads = slots * head;
        if rx.landing.capacity() < heads {
            // Reclaims the landing zone's allocation when every datagram
            // received there before is gone, else starts a new one.
            rx.landing.reserve(heads.max(ARENA_SIZE));
        }
        // Slots start a few cache lines apart from a multiple of the slot
        // size, so the starts of a batch's datagrams do not all fall in the
        // same cache sets.
        let tail = self.slot_size - head;
        let stride = tail + SLOT_STAGGER;
        let need = slots * stride;
        if rx.scratch.len() < need {
            rx.scratch = vec![0; need];
        }
        let Rx {
            landing,
            scratch,
            arena,
            pending,
            ..
        } = rx;
        let slots = sys::Slots {
            count: slots,
            head,
            stride,
            tail,
        };
        let mut meta = [RecvMeta::default(); sys::BATCH_SIZE];
        let got = sys::recv_landing(
            SockRef::from(&self.io),
            slots,
            landing,
            &mut scratch[..need],
            arena,
            &mut meta,
        )?;
        let mut copied = arena.split().freeze();
        let mut longest = 0;
        let multicast_only = self.multicast_only;
        let mut dropped = 0;
        for m in &meta[..got] {
            longest = longest.max(m.len);
            let data = if m.len <= head {
                let data = landing.split_to(m.len).freeze();
                landing.advance(head - m.len);
                data
            } else {
                landing.advance(head);
                copied.split_to(m.len)
            };
            let Some(source) = m.source.map(unmap) else {
                continue;
            };
            let local = m.destination.map_or(self.local.ip(), unmap_ip);
            let stride = if m.stride == 0 { m.len } else { m.stride };
            if multicast_only && m.destination.is_some() && !local.is_multicast() {
                // Not sent to a group: a shared port does not take unicast.
                dropped += m.len.div_ceil(stride.max(1)).max(1) as u64;
                continue;
            }
            let mut chunk = data;
            loop {
                pending.push_back(Pending {
                    data: chunk.split_to(stride.min(chunk.len())),
                    source,
                    local,
                    truncated: m.truncated,
                });
                if chunk.is_empty() {
                    break;
                }
            }
        }
        if dropped > 0 {
            self.dropped_unicast.fetch_add(dropped, Ordering::Relaxed);
        }
        if got > 0 {
            // Room for the longest datagram of this batch, in whole cache lines.
            rx.head = longest.div_ceil(64).clamp(1, MAX_HEAD / 64) * 64;
        }
        Ok(())
    }

    /// Sends `data` as one datagram to `host` at `service`.
    ///
    /// Names are looked up each time; to send often to one peer, resolve once
    /// with [`resolve`](Self::resolve) and use
    /// [`send_to_addr`](Self::send_to_addr), or keep an
    /// [`output_stream`](Self::output_stream).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a datagram is sent whole or not at all.
    ///
    /// # Errors
    ///
    /// A bad service or failed lookup; `MessageTooLong` (limit
    /// `max_datagram_size`) for more than a UDP datagram holds;
    /// [`Error::Unsupported`] for a destination that is not a multicast
    /// group on a
    /// [`multicast_only`](DatagramSocketControl::multicast_only) socket; a
    /// failed send.
    pub async fn send_to<S>(
        &self,
        host: &HostName,
        service: S,
        data: impl AsRef<[u8]>,
    ) -> Result<usize>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        let addr = self.resolve(host, service).await?;
        self.send_to_addr(addr, data.as_ref()).await
    }

    /// Sends `data` as one datagram to `addr`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Errors
    ///
    /// As [`send_to`](Self::send_to), without the lookup.
    pub async fn send_to_addr(&self, addr: SocketAddr, data: &[u8]) -> Result<usize> {
        self.check_destination(addr)?;
        let max = max_payload(&addr);
        if data.len() > max {
            return Err(too_long(data.len(), max));
        }
        let wire = self.family.to_wire(addr)?;
        Ok(self.io.send_to(data, wire).await?)
    }

    /// Sends `data` as one datagram to the connected peer (UWP's
    /// `OutputStream` after `ConnectAsync`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Errors
    ///
    /// `NotConnected` when the socket was not made with `connect`; an ICMP
    /// report about an earlier send (`ConnectionRefused`); as
    /// [`send_to`](Self::send_to).
    pub async fn send(&self, data: impl AsRef<[u8]>) -> Result<usize> {
        let data = data.as_ref();
        let Some(peer) = self.peer else {
            return Err(not_connected());
        };
        let max = max_payload(&peer);
        if data.len() > max {
            return Err(too_long(data.len(), max));
        }
        Ok(self.io.send(data).await?)
    }

    /// Sends every datagram of `datagrams` to `dest`, in order, with as few
    /// system calls as the platform allows: runs of same-size datagrams go
    /// out as one segmented message (UDP GSO), and messages go out many per
    /// call (`sendmmsg`); where neither exists, one by one. Returns how many
    /// were sent: all of them, unless a send failed after some had gone (as
    /// with `write`, the next call then reports the error).
    ///
    /// Datagrams that lie one after another in memory (slices of one buffer:
    /// `Bytes::slice`, `split_to`, `chunks`) reach the kernel as one run
    /// rather than one slice each, which costs it less: encode a window of
    /// datagrams into one buffer and send its slices.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use sock_udp::DatagramSocket;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_core::Result<()> {
    /// let receiver = DatagramSocket::bind_endpoint(Some(&"127.0.0.1".parse()?), "").await?;
    /// let socket = DatagramSocket::bind_service_name("").await?;
    ///
    /// let datagrams = vec![Bytes::from(vec![7u8; 1200]); 100];
    /// assert_eq!(socket.send_batch(receiver.local_addr(), &datagrams).await?, 100);
    /// assert_eq!(receiver.recv().await?.data.len(), 1200);
    /// # Ok(()) }
    /// ```
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if cancelled, an unknown leading part of the batch
    /// has been sent.
    ///
    /// # Errors
    ///
    /// `MessageTooLong` (limit `max_datagram_size`, nothing sent) when any
    /// datagram is larger than UDP allows; an unreachable family;
    /// [`Error::Unsupported`] (nothing sent) for a `dest` that is not a
    /// multicast group on a
    /// [`multicast_only`](DatagramSocketControl::multicast_only) socket; a
    /// failed first send.
    pub async fn send_batch<B: AsRef<[u8]>>(
        &self,
        dest: SocketAddr,
        datagrams: &[B],
    ) -> Result<usize> {
        self.check_destination(dest)?;
        let max = max_payload(&dest);
        let sizes: Vec<usize> = datagrams.iter().map(|d| d.as_ref().len()).collect();
        if let Some(&len) = sizes.iter().find(|&&len| len > max) {
            return Err(too_long(len, max));
        }
        let wire = SockAddr::from(self.family.to_wire(dest)?);
        let segments = if self.gso.load(Ordering::Relaxed) {
            sys::MAX_GSO_SEGMENTS
        } else {
            1
        };
        let mut plan = batch::plan(&sizes, segments, MAX_GSO_BYTES);
        let mut next = 0;
        let mut sent = 0;
        while next < plan.len() {
            let end = (next + sys::BATCH_SIZE).min(plan.len());
            let chunk = &plan[next..end];
            let res = self
                .io
                .async_io(Interest::WRITABLE, || {
                    sys::send(SockRef::from(&self.io), Some(&wire), datagrams, chunk)
                })
                .await;
            match res {
                Ok(k) => {
                    sent += chunk[..k].iter().map(|t| t.end - t.start).sum::<usize>();
                    next += k;
                }
                Err(e) if chunk[0].segment.is_some() && sys::is_gso_failure(&e) => {
                    // This path cannot segment: send the rest one by one. A
                    // device without checksum offload (EIO) never will.
                    if e.raw_os_error() == Some(sys::EIO) {
                        self.gso.store(false, Ordering::Relaxed);
                    }
                    let start = chunk[0].start;
                    let rest = batch::plan(&sizes[start..], 1, MAX_GSO_BYTES);
                    plan.truncate(next);
                    plan.extend(rest.into_iter().map(|mut t| {
                        t.start += start;
                        t.end += start;
                        t
                    }));
                }
                Err(_) if sent > 0 => return Ok(sent),
                Err(e) => return Err(Error::Io(e)),
            }
        }
        Ok(sent)
    }

    /// Looks up `host` at `service` and picks the first address this socket
    /// can reach (an IPv4-only socket skips IPv6 addresses and so on).
    ///
    /// # Errors
    ///
    /// A bad service, a failed lookup, or no reachable address.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only looks the name up.
    pub async fn resolve<S>(&self, host: &HostName, service: S) -> Result<SocketAddr>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        let port = resolve::udp_port(service)?;
        let addrs = resolve::resolve(host, port).await?;
        resolve::pick(host, &addrs, self.family)
    }

    /// The endpoint pairs for `host` at `service` (UWP's static
    /// `GetEndpointPairsAsync`): one per address the lookup gives, in its
    /// order, each with no local preference. `localhost` gives `127.0.0.1`
    /// and `::1`; an IP literal is its one pair. To choose for oneself: set a
    /// local endpoint on a pair, or skip some, and pass one to
    /// [`DatagramSocketControl::connect_pair`].
    ///
    /// # Errors
    ///
    /// An empty service ([`Error::InvalidServiceName`]: datagrams need a
    /// port), an unknown one, a failed lookup.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only looks names up.
    pub async fn endpoint_pairs<S>(host: &HostName, service: S) -> Result<Vec<EndpointPair>>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        let service: ServiceName = service.try_into()?;
        if service.is_any() {
            return Err(Error::invalid_service_name(
                service.as_str(),
                "is empty: a remote endpoint needs a port number or service name",
            ));
        }
        let port = service.port(sock_core::TransportProtocol::Udp)?;
        Ok(resolve::resolve(host, port)
            .await?
            .into_iter()
            .map(|addr| EndpointPair::to_remote(HostName::from(addr), service.clone()))
            .collect())
    }
}

fn not_connected() -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::NotConnected,
        "send needs a connected socket; use send_to or an output stream",
    ))
}

impl fmt::Debug for DatagramSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramSocket")
            .field("local", &self.local)
            .field("peer", &self.peer)
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::time::Duration;

    use bytes::Bytes;

    use super::*;

    async fn one_receive(receive_offload: bool) -> usize {
        let lo = HostName::new("127.0.0.1").unwrap();
        let receiver = DatagramSocket::builder()
            .receive_offload(receive_offload)
            .bind_endpoint(Some(&lo), "")
            .await
            .unwrap();
        assert_eq!(receiver.receive_offload(), receive_offload);
        let sender = DatagramSocket::bind_service_name("").await.unwrap();
        assert!(sender.segmentation_offload());
        let batch = vec![Bytes::from(vec![3u8; 1000]); 10];
        sender
            .send_batch(receiver.local_addr(), &batch)
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(10), receiver.io.readable())
            .await
            .unwrap()
            .unwrap();
        let mut rx = lock(&receiver.rx);
        receiver.receive_now(&mut rx, 1).unwrap();
        assert!(rx.pending.iter().all(|p| p.data.len() == 1000));
        rx.pending.len()
    }

    /// Datagrams land in place when they fit the room learned from the
    /// previous batch and are copied when longer; either way each arrives
    /// whole, in order, and stays intact while later receives reuse memory.
    #[tokio::test]
    async fn datagrams_of_any_size_arrive_whole_and_kept_ones_stay_intact() {
        let lo = HostName::new("127.0.0.1").unwrap();
        let receiver = DatagramSocket::bind_endpoint(Some(&lo), "").await.unwrap();
        let sender = DatagramSocket::bind_service_name("").await.unwrap();
        let rounds: [&[(usize, usize)]; 3] = [
            &[(100, 5)],
            &[(1500, 5), (3000, 3), (0, 1), (64, 40)],
            &[(1200, 40), (100, 2), (2048, 2), (2049, 1)],
        ];
        let mut sent = Vec::new();
        let mut kept = Vec::new();
        let mut slots = vec![DatagramMessage::default(); 64];
        for round in rounds {
            let mut batch = Vec::new();
            for &(size, count) in round {
                for _ in 0..count {
                    let fill = (sent.len() % 251) as u8;
                    batch.push(Bytes::from(vec![fill; size]));
                    sent.push(batch.last().unwrap().clone());
                }
            }
            let n = sender
                .send_batch(receiver.local_addr(), &batch)
                .await
                .unwrap();
            assert_eq!(n, batch.len());
            let mut got = 0;
            while got < batch.len() {
                let n =
                    tokio::time::timeout(Duration::from_secs(10), receiver.recv_batch(&mut slots))
                        .await
                        .unwrap()
                        .unwrap();
                kept.extend(slots[..n].iter().map(|m| m.data.clone()));
                got += n;
            }
        }
        assert_eq!(kept.len(), sent.len());
        for (i, (got, want)) in kept.iter().zip(&sent).enumerate() {
            assert_eq!(got, want, "datagram {i}");
        }
    }

    /// One segmented send reaches a GRO socket as one buffer, which one
    /// system call reads and the socket splits into its ten datagrams.
    #[tokio::test]
    async fn receive_offload_reads_a_segmented_send_in_one_call() {
        assert_eq!(one_receive(true).await, 10);
        assert_eq!(one_receive(false).await, 1);
    }

    /// Datagrams taken from the kernel but not handed out cannot travel with
    /// the socket, so a hand-off waits until they are read, and the socket comes
    /// back usable.
    #[cfg(feature = "handoff")]
    #[tokio::test]
    async fn transfer_is_refused_while_received_datagrams_are_queued() {
        let lo = HostName::new("127.0.0.1").unwrap();
        let receiver = DatagramSocket::builder()
            .receive_offload(true)
            .bind_endpoint(Some(&lo), "")
            .await
            .unwrap();
        let sender = DatagramSocket::bind_service_name("").await.unwrap();
        let batch = vec![Bytes::from(vec![7u8; 1000]); 10];
        sender
            .send_batch(receiver.local_addr(), &batch)
            .await
            .unwrap();
        let ten_seconds = Duration::from_secs(10);
        tokio::time::timeout(ten_seconds, receiver.recv())
            .await
            .unwrap()
            .unwrap();
        let queued = receiver.queued_datagrams();
        assert_eq!(queued, 9, "one GRO read took all ten datagrams");

        let (mut ours, mut theirs) = sock_handoff::HandoffChannel::pair().unwrap();
        let refused = receiver
            .transfer_ownership("udp", b"", &mut ours)
            .await
            .unwrap_err();
        assert!(
            refused
                .error()
                .to_string()
                .contains("holding 9 received datagrams"),
            "{}",
            refused.error()
        );
        let receiver = refused.into_socket();
        for _ in 0..queued {
            tokio::time::timeout(ten_seconds, receiver.recv())
                .await
                .unwrap()
                .unwrap();
        }
        receiver
            .transfer_ownership("udp", b"ctx", &mut ours)
            .await
            .unwrap();
        let info = tokio::time::timeout(ten_seconds, theirs.recv())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!((info.id.as_str(), &info.context[..]), ("udp", &b"ctx"[..]));
    }
}

#[cfg(test)]
mod send_tests {
    use crate::{DatagramMessage, DatagramOutputStream, DatagramSocket, Messages};

    #[test]
    fn sockets_streams_and_messages_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<DatagramSocket>();
        send_sync::<DatagramMessage>();
        send::<Messages<'static>>();
        send::<DatagramOutputStream<'static>>();
    }
}
