//! `DatagramSocket`: UWP's `DatagramSocket` on tokio.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::{Buf, Bytes, BytesMut};
use sock_core::{EndpointPair, Error, HostName, Result, ServiceName};
use socket2::{SockAddr, SockRef, Socket};
use tokio::io::Interest;
use tokio::net::UdpSocket;

use crate::batch::{self, MAX_GSO_BYTES};
use crate::control::{self, with_context, DatagramSocketControl};
use crate::message::Messages;
use crate::output::DatagramOutputStream;
use crate::resolve::{self, max_payload, too_long, unmap, unmap_ip, Family};
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
    io: UdpSocket,
    family: Family,
    local: SocketAddr,
    peer: Option<SocketAddr>,
    control: Mutex<DatagramSocketControl>,
    last_remote: Mutex<Option<SocketAddr>>,
    gso: AtomicBool,
    gro: bool,
    slot_size: usize,
    rx: Mutex<Rx>,
    // `multicast_only`: unicast sends refused, unicast datagrams dropped.
    multicast_only: bool,
    dropped_unicast: AtomicU64,
}

/// Receive state: the landing zone the kernel writes datagrams of up to
/// `head` bytes straight into, the buffer it writes the rest of longer ones
/// (or receive-offload batches) into, the arena those are copied to (each of
/// landing and arena is one allocation shared by many datagrams, reclaimed
/// once they are all dropped), datagrams received but not yet handed out, and
/// the last host names made, so a burst from one sender does not format its
/// address for every datagram.
#[derive(Default)]
struct Rx {
    // Where datagrams land; empty between receives (all handed out).
    landing: BytesMut,
    // Room per datagram in the landing zone (0: not learned yet).
    head: usize,
    scratch: Vec<u8>,
    arena: BytesMut,
    pending: VecDeque<Pending>,
    remote: Option<(Source, HostName)>,
    local: Option<(IpAddr, HostName)>,
}

/// Bytes between receive slots in the scratch buffer (17 cache lines).
const SLOT_STAGGER: usize = 17 * 64;

/// The arena's allocation size: many datagrams per allocation.
const ARENA_SIZE: usize = 256 * 1024;

/// The most of one datagram received straight into the landing zone; the
/// room per datagram follows the largest of the previous batch, so longer
/// ones are rare (and then copied, as with receive offload).
const MAX_HEAD: usize = 2048;

/// A sender's address without its port: the IP and, for IPv6, the scope.
type Source = (IpAddr, u32);

/// A received datagram before it becomes a [`DatagramMessage`].
struct Pending {
    data: Bytes,
    source: SocketAddr,
    local: IpAddr,
    truncated: bool,
}

fn source_of(addr: &SocketAddr) -> Source {
    match addr {
        SocketAddr::V4(a) => (IpAddr::V4(*a.ip()), 0),
        SocketAddr::V6(a) => (IpAddr::V6(*a.ip()), a.scope_id()),
    }
}

fn host_source(host: &HostName) -> Option<Source> {
    let ip = host.ip_addr()?;
    let scope = match host.zone() {
        None => 0,
        Some(zone) => zone.parse().ok()?,
    };
    Some((ip, scope))
}

impl Rx {
    /// The host name of a sender (a link-local IPv6 sender keeps its scope
    /// as a numeric zone, so a reply finds the way back), made once per run
    /// of datagrams from one sender.
    fn remote_name(&mut self, addr: &SocketAddr) -> HostName {
        let source = source_of(addr);
        match &self.remote {
            Some((cached, name)) if *cached == source => name.clone(),
            _ => {
                let name = HostName::from(*addr);
                self.remote = Some((source, name.clone()));
                name
            }
        }
    }

    fn local_name(&mut self, ip: IpAddr) -> HostName {
        match &self.local {
            Some((cached, name)) if *cached == ip => name.clone(),
            _ => {
                let name = HostName::from(ip);
                self.local = Some((ip, name.clone()));
                name
            }
        }
    }

    fn message(&mut self, p: Pending) -> DatagramMessage {
        DatagramMessage {
            remote_address: self.remote_name(&p.source),
            remote_port: p.source.port(),
            local_address: self.local_name(p.local),
            data: p.data,
            truncated: p.truncated,
        }
    }

    /// Fills a reused slot, keeping its host names when they are already
    /// right (the common case of a batch from one sender): no allocation.
    fn fill_slot(&mut self, slot: &mut DatagramMessage, p: Pending) {
        let source = source_of(&p.source);
        if host_source(&slot.remote_address) != Some(source) {
            slot.remote_address = self.remote_name(&p.source);
        }
        if slot.local_address.ip_addr() != Some(p.local) || slot.local_address.zone().is_some() {
            slot.local_address = self.local_name(p.local);
        }
        slot.remote_port = p.source.port();
        slot.data = p.data;
        slot.truncated = p.truncated;
    }
}

/// The bytes of a slice the caller knows to be initialised.
///
/// # Safety
///
/// Every byte of `bytes` is initialised.
unsafe fn assume_init(bytes: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the caller
    // promises the bytes are initialised.
    unsafe { &*(std::ptr::from_ref::<[MaybeUninit<u8>]>(bytes) as *const [u8]) }
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

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl DatagramSocket {
    /// The options builder (UWP's `DatagramSocketControl`).
    pub fn builder() -> DatagramSocketControl {
        DatagramSocketControl::new()
    }

    /// Binds every local address, IPv4 and IPv6, at `service` (UWP's
    /// `BindServiceNameAsync`): a port (`"1337"`, `1337`), a service name, or
    /// `""` for any free port.
    ///
    /// # Errors
    ///
    /// See [`DatagramSocketControl::bind_service_name`]; a taken port gives
    /// `AddressAlreadyInUse`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn bind_service_name<S>(service: S) -> Result<Self>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        Self::builder().bind_service_name(service).await
    }

    /// Binds one local address (UWP's `BindEndpointAsync`); `None` means all.
    ///
    /// # Errors
    ///
    /// See [`DatagramSocketControl::bind_endpoint`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn bind_endpoint<S>(host: Option<&HostName>, service: S) -> Result<Self>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        Self::builder().bind_endpoint(host, service).await
    }

    /// Connects to `host` at `service` (UWP's `ConnectAsync`): the default
    /// destination of [`send`](Self::send), and a filter that lets only
    /// datagrams from that peer in.
    ///
    /// # Errors
    ///
    /// See [`DatagramSocketControl::connect`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn connect<S>(host: &HostName, service: S) -> Result<Self>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        Self::builder().connect(host, service).await
    }

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
    fn check_destination(&self, addr: SocketAddr) -> Result<()> {
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

    /// The incoming datagrams as a `Stream` (UWP's `MessageReceived` event);
    /// each item is what [`recv`](Self::recv) gives.
    pub fn messages(&self) -> Messages<'_> {
        Messages::new(self)
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
        let mut head_slices = landing.spare_capacity_mut()[..heads].chunks_mut(head.max(1));
        let mut bufs: Vec<(&mut [MaybeUninit<u8>], &mut [u8])> = scratch[..need]
            .chunks_mut(stride)
            .map(|chunk| (head_slices.next().unwrap_or_default(), &mut chunk[..tail]))
            .collect();
        let mut meta = [RecvMeta::default(); sys::BATCH_SIZE];
        let got = sys::recv(&self.io, &mut bufs, &mut meta)?;
        let copied: usize = meta[..got]
            .iter()
            .filter(|m| m.len > head)
            .map(|m| m.len)
            .sum();
        if arena.capacity() < copied {
            // Reclaims the arena's allocation when every datagram copied
            // there before is gone, else starts a new one.
            arena.reserve(copied.max(ARENA_SIZE));
        }
        for ((h, t), m) in bufs.iter_mut().zip(&meta[..got]) {
            if m.len > head {
                // SAFETY: the kernel filled the whole head before the tail.
                arena.extend_from_slice(unsafe { assume_init(h) });
                arena.extend_from_slice(&t[..m.len - head]);
            } else {
                // What the datagram left of its head is handed out with the
                // landing zone (and skipped): make it initialised bytes.
                h[m.len..].fill(MaybeUninit::new(0));
            }
        }
        drop(bufs);
        // SAFETY: each of the first `got` heads is initialised: the kernel
        // wrote a datagram's bytes, the rest was zeroed just above, and
        // `heads` is within the spare capacity.
        unsafe { landing.set_len(got * head) };
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
                    sys::send(&self.io, Some(&wire), datagrams, chunk)
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
                    if e.raw_os_error() == Some(EIO) {
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

    /// A stream whose writes collect into one datagram to `host` at
    /// `service`, sent on each `flush` (UWP's `GetOutputStreamAsync`; a
    /// `DataWriter`'s `store` sends one datagram). Keep one per peer:
    /// the name is looked up once, here.
    ///
    /// # Errors
    ///
    /// A bad service or failed lookup, or an address family the socket
    /// cannot reach; [`Error::Unsupported`] for a destination that is not a
    /// multicast group on a
    /// [`multicast_only`](DatagramSocketControl::multicast_only) socket.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it only resolves the destination; nothing is sent.
    pub async fn output_stream<S>(
        &self,
        host: &HostName,
        service: S,
    ) -> Result<DatagramOutputStream<'_>>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        let addr = self.resolve(host, service).await?;
        self.output_stream_to(addr)
    }

    /// As [`output_stream`](Self::output_stream), to an address.
    ///
    /// # Errors
    ///
    /// An address family the socket cannot reach; a unicast destination on
    /// a [`multicast_only`](DatagramSocketControl::multicast_only) socket.
    pub fn output_stream_to(&self, addr: SocketAddr) -> Result<DatagramOutputStream<'_>> {
        self.check_destination(addr)?;
        let wire = self.family.to_wire(addr)?;
        *lock(&self.last_remote) = Some(addr);
        Ok(DatagramOutputStream::new(self, addr, wire))
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

    /// Joins the multicast group `group` (UWP's `JoinMulticastGroup`), IPv4
    /// or IPv6, on the interface of the bound address (the system's choice
    /// when bound to all addresses).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHostName`] when `group` is not a multicast address; a
    /// group of a family the socket does not speak; the system's refusal.
    pub fn join_multicast_group(&self, group: &HostName) -> Result<()> {
        self.membership(group, true)
    }

    /// Leaves a group joined with
    /// [`join_multicast_group`](Self::join_multicast_group).
    ///
    /// # Errors
    ///
    /// As [`join_multicast_group`](Self::join_multicast_group); also when
    /// the group was not joined.
    pub fn leave_multicast_group(&self, group: &HostName) -> Result<()> {
        self.membership(group, false)
    }

    fn membership(&self, group: &HostName, join: bool) -> Result<()> {
        let ip = group
            .ip_addr()
            .filter(IpAddr::is_multicast)
            .ok_or_else(|| {
                Error::invalid_host_name(
                    group.raw_name(),
                    "is not a multicast group address (224.0.0.0/4 or ff00::/8)",
                )
            })?;
        let what = if join { "join" } else { "leave" };
        let sock = SockRef::from(&self.io);
        let res = match ip {
            IpAddr::V4(g) => {
                let interface = match self.local.ip() {
                    IpAddr::V4(a) => a,
                    IpAddr::V6(_) if self.family == Family::Dual => std::net::Ipv4Addr::UNSPECIFIED,
                    IpAddr::V6(_) => return Err(family_error(ip, self.family)),
                };
                if join {
                    sock.join_multicast_v4(&g, &interface)
                } else {
                    sock.leave_multicast_v4(&g, &interface)
                }
            }
            IpAddr::V6(g) => {
                if self.family == Family::V4 {
                    return Err(family_error(ip, self.family));
                }
                let interface = match self.local {
                    SocketAddr::V6(a) if a.scope_id() != 0 => a.scope_id(),
                    SocketAddr::V6(a) if !a.ip().is_unspecified() => {
                        sys::interface_index_of(IpAddr::V6(*a.ip()))?
                    }
                    _ => 0,
                };
                if join {
                    sock.join_multicast_v6(&g, interface)
                } else {
                    sock.leave_multicast_v6(&g, interface)
                }
            }
        };
        res.map_err(|e| {
            Error::Io(with_context(
                e,
                format!("could not {what} multicast group {ip}"),
            ))
        })
    }

    /// Whether this host's own multicast datagrams come back to its sockets
    /// (default: on).
    ///
    /// # Errors
    ///
    /// The system's refusal.
    pub fn set_multicast_loopback(&self, on: bool) -> Result<()> {
        let sock = SockRef::from(&self.io);
        match self.family {
            Family::V4 => sock.set_multicast_loop_v4(on)?,
            Family::V6 => sock.set_multicast_loop_v6(on)?,
            Family::Dual => {
                sock.set_multicast_loop_v6(on)?;
                sock.set_multicast_loop_v4(on)?;
            }
        }
        Ok(())
    }

    /// The hop limit (TTL) of multicast datagrams sent (default 1: this
    /// link only).
    ///
    /// # Errors
    ///
    /// The system's refusal.
    pub fn set_multicast_hop_limit(&self, hops: u8) -> Result<()> {
        let hops = u32::from(hops);
        let sock = SockRef::from(&self.io);
        match self.family {
            Family::V4 => sock.set_multicast_ttl_v4(hops)?,
            Family::V6 => sock.set_multicast_hops_v6(hops)?,
            Family::Dual => {
                sock.set_multicast_hops_v6(hops)?;
                sock.set_multicast_ttl_v4(hops)?;
            }
        }
        Ok(())
    }

    /// Changes the unicast hop limit after binding (UWP allows this one
    /// option to change; flush output streams first).
    ///
    /// # Errors
    ///
    /// `InvalidInput` for 0; the system's refusal.
    pub fn set_outbound_unicast_hop_limit(&self, hops: u8) -> Result<()> {
        let sock = SockRef::from(&self.io);
        control::set_hop_limit(&sock, self.family, hops)?;
        lock(&self.control).set_hop_limit(hops);
        Ok(())
    }

    /// The unicast hop limit in force.
    ///
    /// # Errors
    ///
    /// The system's refusal.
    pub fn outbound_unicast_hop_limit(&self) -> Result<u8> {
        let sock = SockRef::from(&self.io);
        let hops = match self.family {
            Family::V4 => sock.ttl_v4()?,
            Family::V6 | Family::Dual => sock.unicast_hops_v6()?,
        };
        Ok(u8::try_from(hops).unwrap_or(u8::MAX))
    }
}

#[cfg(unix)]
const EIO: i32 = libc::EIO;
#[cfg(not(unix))]
const EIO: i32 = 5;

fn not_connected() -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::NotConnected,
        "send needs a connected socket; use send_to or an output stream",
    ))
}

/// The error for a destination a
/// [`multicast_only`](DatagramSocketControl::multicast_only) socket may not
/// send to (or connect to).
pub(crate) fn unicast_refused(addr: SocketAddr) -> Error {
    Error::unsupported(
        format!("sending to {addr}"),
        "a multicast_only socket sends only to multicast groups (224.0.0.0/4, ff00::/8); \
         use a socket without multicast_only for unicast or broadcast",
    )
}

fn family_error(group: IpAddr, family: Family) -> Error {
    let socket = match family {
        Family::V4 => "an ipv4",
        Family::V6 | Family::Dual => "an ipv6-only",
    };
    Error::unsupported(
        format!("multicast group {group}"),
        format!("{socket} socket cannot join it; bind a socket of the group's family"),
    )
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
mod name_tests {
    use super::*;

    #[test]
    fn sockets_streams_and_messages_cross_threads() {
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send>() {}
        send_sync::<DatagramSocket>();
        send_sync::<DatagramMessage>();
        send::<Messages<'static>>();
        send::<DatagramOutputStream<'static>>();
    }

    #[test]
    fn senders_keep_their_ipv6_scope_and_slots_are_reused_when_unchanged() {
        let link_local: SocketAddr = "[fe80::1%3]:5353".parse().unwrap();
        let name = Rx::default().remote_name(&link_local);
        assert_eq!(name.canonical_name(), "fe80::1%3");
        assert_eq!(host_source(&name), Some(source_of(&link_local)));

        let mut rx = Rx::default();
        let mut slot = DatagramMessage::default();
        let pending = |port| Pending {
            data: Bytes::from_static(b"x"),
            source: link_local
                .to_string()
                .replace("5353", port)
                .parse()
                .unwrap(),
            local: "fe80::2".parse().unwrap(),
            truncated: false,
        };
        rx.fill_slot(&mut slot, pending("5353"));
        assert_eq!(slot.remote_addr(), link_local);
        assert_eq!(slot.local_address.canonical_name(), "fe80::2");
        let before = slot.remote_address.raw_name().as_ptr();
        rx.fill_slot(&mut slot, pending("5354"));
        assert_eq!(slot.remote_port, 5354);
        // Same sender: the host name was kept, not made again.
        assert_eq!(slot.remote_address.raw_name().as_ptr(), before);

        let v4: SocketAddr = "198.51.100.3:9".parse().unwrap();
        assert_eq!(
            Rx::default().remote_name(&v4).canonical_name(),
            "198.51.100.3"
        );
    }
}
