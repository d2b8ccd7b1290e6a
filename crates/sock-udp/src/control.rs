//! `DatagramSocketControl`: the options of a `DatagramSocket`, set before it
//! binds or connects, as UWP's `DatagramSocketControl`.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use sock_core::{
    ConnectAttempt, EndpointPair, Error, HostName, QualityOfService, Result, ServiceName,
};
use socket2::{Domain, Protocol, Socket, Type};

use crate::resolve::{self, Family};
use crate::socket::unicast_refused;
use crate::{sys, DatagramSocket};

/// The default [`max_message_size`](DatagramSocketControl::max_message_size):
/// 64 KiB, more than any UDP datagram (without IPv6 jumbograms).
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// The DSCP "expedited forwarding" class (46), as a TOS / traffic-class byte,
/// used for [`QualityOfService::LowLatency`].
const LOW_LATENCY_TOS: u32 = 46 << 2;

/// The options of a [`DatagramSocket`], and the builder that applies them
/// before the socket binds or connects (UWP's `DatagramSocketControl`).
///
/// ```
/// use sock_udp::DatagramSocket;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_core::Result<()> {
/// // Two listeners sharing one port, as mDNS and SSDP listeners do.
/// let first = DatagramSocket::builder()
///     .multicast_only(true)
///     .inbound_buffer_size(1 << 20)
///     .bind_service_name("")
///     .await?;
/// let port = first.information().local_port;
/// let second = DatagramSocket::builder().multicast_only(true).bind_service_name(port).await?;
/// assert_eq!(second.information().local_port, port);
///
/// // Without port sharing, the port is taken.
/// let err = DatagramSocket::bind_service_name(port).await.unwrap_err();
/// assert_eq!(err.status(), sock_core::SocketErrorStatus::AddressAlreadyInUse);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatagramSocketControl {
    multicast_only: bool,
    dont_fragment: bool,
    inbound_buffer_size: Option<usize>,
    outbound_unicast_hop_limit: Option<u8>,
    quality_of_service: QualityOfService,
    max_message_size: usize,
    receive_offload: bool,
    segmentation_offload: bool,
}

impl Default for DatagramSocketControl {
    fn default() -> Self {
        Self {
            multicast_only: false,
            dont_fragment: false,
            inbound_buffer_size: None,
            outbound_unicast_hop_limit: None,
            quality_of_service: QualityOfService::Normal,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            receive_offload: false,
            segmentation_offload: true,
        }
    }
}

impl DatagramSocketControl {
    /// The defaults: an exclusive bind, fragmentation allowed, system buffer
    /// sizes and hop limit, normal quality of service, 64 KiB messages,
    /// segmentation offload where the kernel has it, no receive offload.
    pub fn new() -> Self {
        Self::default()
    }

    /// Port sharing for multicast only (UWP's `MulticastOnly`, default
    /// `false`).
    ///
    /// When set, the socket sets address and port reuse (`SO_REUSEADDR` and
    /// `SO_REUSEPORT`) before it binds, so several sockets can bind the same
    /// port, as mDNS and SSDP listeners do; each receives every multicast
    /// datagram sent to a group it joined. Without it a bind is exclusive: a
    /// second socket on the same port fails with `AddressAlreadyInUse`.
    ///
    /// As in UWP, such a socket is for multicast only, so a shared port
    /// cannot be used to send or take over unicast traffic:
    ///
    /// * **Sending** to anything but a multicast group (224.0.0.0/4,
    ///   ff00::/8) fails, before anything is sent, with
    ///   [`Error::Unsupported`] (status `Unknown`, as UWP's access-denied
    ///   error; the message names `multicast_only`). This covers
    ///   [`send_to`](DatagramSocket::send_to),
    ///   [`send_to_addr`](DatagramSocket::send_to_addr),
    ///   [`send_batch`](DatagramSocket::send_batch),
    ///   [`output_stream`](DatagramSocket::output_stream) (refused when
    ///   made) and [`connect`](Self::connect) (a unicast peer is refused).
    ///   Broadcast is not multicast and is refused too (a subnet broadcast
    ///   address cannot be told from a unicast one by its address alone).
    /// * **Receiving**: a datagram whose destination address is not a
    ///   multicast group (a unicast or broadcast datagram sent to the shared
    ///   port) is dropped, never delivered, and counted by
    ///   [`DatagramSocket::dropped_unicast_datagrams`]. The destination is
    ///   read from the packet information the kernel attaches (Linux);
    ///   where the platform does not give it, datagrams are delivered as
    ///   without this option.
    ///
    /// The tokio socket reached through
    /// [`get_ref`](DatagramSocket::get_ref) or
    /// [`into_inner`](DatagramSocket::into_inner) bypasses both checks.
    /// (Linux also lets only sockets of the same user share a port.)
    pub fn multicast_only(mut self, on: bool) -> Self {
        self.multicast_only = on;
        self
    }

    /// Sets the IP "don't fragment" bit (UWP's `DontFragment`, default
    /// `false`): a datagram larger than the path MTU is dropped instead of
    /// fragmented, and a send larger than the known MTU fails with
    /// `MessageTooLong`.
    pub fn dont_fragment(mut self, on: bool) -> Self {
        self.dont_fragment = on;
        self
    }

    /// The kernel receive buffer size in bytes (UWP's
    /// `InboundBufferSizeInBytes`, `SO_RCVBUF`; default: the system's). The
    /// kernel may cap it (Linux: `net.core.rmem_max`).
    pub fn inbound_buffer_size(mut self, bytes: usize) -> Self {
        self.inbound_buffer_size = Some(bytes);
        self
    }

    /// The hop limit (IPv4 TTL) of unicast datagrams, 1 to 255 (UWP's
    /// `OutboundUnicastHopLimit`; default: the system's, usually 64). It can
    /// also be changed after binding with
    /// [`DatagramSocket::set_outbound_unicast_hop_limit`].
    pub fn outbound_unicast_hop_limit(mut self, hops: u8) -> Self {
        self.outbound_unicast_hop_limit = Some(hops);
        self
    }

    /// The traffic class (UWP's `QualityOfService`, default `Normal`).
    /// `LowLatency` marks outgoing datagrams with DSCP "expedited forwarding".
    pub fn quality_of_service(mut self, qos: QualityOfService) -> Self {
        self.quality_of_service = qos;
        self
    }

    /// The longest datagram received whole (default
    /// [`DEFAULT_MAX_MESSAGE_SIZE`], 64 KiB). A longer one arrives with
    /// [`DatagramMessage::truncated`](crate::DatagramMessage::truncated) set.
    /// Lower it to use less memory in [`DatagramSocket::recv_batch`], which
    /// keeps one buffer of this size per datagram of a batch. At least 1.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes.max(1);
        self
    }

    /// UDP receive offload (GRO, Linux; default `false`): the kernel may hand
    /// over several datagrams of one sender in one go, which the socket splits
    /// again, so each still arrives as its own [`DatagramMessage`](crate::DatagramMessage). Fewer
    /// system calls for bulk receivers; ignored where the kernel lacks it.
    pub fn receive_offload(mut self, on: bool) -> Self {
        self.receive_offload = on;
        self
    }

    /// UDP segmentation offload (GSO, Linux; default `true`) for
    /// [`DatagramSocket::send_batch`]: datagrams of one size go to the kernel
    /// as one message, which it cuts into datagrams. Turned off by itself
    /// where the kernel or the network device lacks it.
    pub fn segmentation_offload(mut self, on: bool) -> Self {
        self.segmentation_offload = on;
        self
    }

    /// Whether port sharing for multicast only is on.
    pub fn is_multicast_only(&self) -> bool {
        self.multicast_only
    }

    /// Whether "don't fragment" is on.
    pub fn is_dont_fragment(&self) -> bool {
        self.dont_fragment
    }

    /// The receive buffer size asked for, if any.
    pub fn inbound_buffer_size_in_bytes(&self) -> Option<usize> {
        self.inbound_buffer_size
    }

    /// The unicast hop limit asked for, if any.
    pub fn outbound_unicast_hop_limit_value(&self) -> Option<u8> {
        self.outbound_unicast_hop_limit
    }

    /// The quality of service.
    pub fn quality_of_service_value(&self) -> QualityOfService {
        self.quality_of_service
    }

    /// The longest datagram received whole.
    pub fn max_message_size_value(&self) -> usize {
        self.max_message_size
    }

    /// Whether receive offload was asked for.
    pub fn is_receive_offload(&self) -> bool {
        self.receive_offload
    }

    /// Whether segmentation offload may be used.
    pub fn is_segmentation_offload(&self) -> bool {
        self.segmentation_offload
    }

    pub(crate) fn set_hop_limit(&mut self, hops: u8) {
        self.outbound_unicast_hop_limit = Some(hops);
    }

    /// Binds on every local address, IPv4 and IPv6, at `service` (UWP's
    /// `BindServiceNameAsync`; `""` for any free port).
    ///
    /// # Errors
    ///
    /// An invalid or unknown service name; `AddressAlreadyInUse` when the
    /// port is taken (and not shared, see
    /// [`multicast_only`](Self::multicast_only)); any option the system
    /// refuses.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn bind_service_name<S>(self, service: S) -> Result<DatagramSocket>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        let port = resolve::udp_port(service)?;
        self.bind_any(port)
    }

    /// Binds one local address (UWP's `BindEndpointAsync`); `None` binds
    /// every address, as [`bind_service_name`](Self::bind_service_name).
    /// A name (`localhost`) binds the first of its addresses that works.
    ///
    /// # Errors
    ///
    /// As [`bind_service_name`](Self::bind_service_name), plus a failed name
    /// lookup, and `CannotAssignRequestedAddress` for an address this host
    /// does not have.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn bind_endpoint<S>(
        self,
        host: Option<&HostName>,
        service: S,
    ) -> Result<DatagramSocket>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        let port = resolve::udp_port(service)?;
        let Some(host) = host else {
            return self.bind_any(port);
        };
        let mut last = None;
        for addr in resolve::resolve(host, port).await? {
            match self.open_bound(addr) {
                Ok(socket) => return Ok(socket),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(|| Error::NoAddresses {
            host: host.raw_name().to_owned(),
        }))
    }

    /// Connects to `host` at `service` (UWP's `ConnectAsync`): binds any free
    /// local port, makes the remote the default destination of
    /// [`send`](DatagramSocket::send), and filters incoming datagrams to that
    /// peer. Each address of `host` is tried in turn.
    ///
    /// # Errors
    ///
    /// An invalid service, a failed lookup, or [`Error::Connect`] listing
    /// every address tried (status of the most telling one);
    /// [`Error::Unsupported`] when the socket is
    /// [`multicast_only`](Self::multicast_only) and `host` has no multicast
    /// group address.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn connect<S>(self, host: &HostName, service: S) -> Result<DatagramSocket>
    where
        S: TryInto<ServiceName>,
        Error: From<S::Error>,
    {
        let service: ServiceName = service.try_into()?;
        let pair = EndpointPair::to_remote(host.clone(), service);
        self.connect_pair(&pair).await
    }

    /// Connects with explicit endpoints (UWP's `ConnectAsync(EndpointPair)`):
    /// binds `local_host`/`local_service` (either may be left to the system),
    /// then connects as [`connect`](Self::connect).
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect) and [`bind_endpoint`](Self::bind_endpoint).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the socket is made only when the future completes, so
    /// dropping it earlier leaves none behind.
    pub async fn connect_pair(self, pair: &EndpointPair) -> Result<DatagramSocket> {
        let remote_port = resolve::udp_port(pair.remote_service.clone())?;
        let local_port = resolve::udp_port(pair.local_service.clone())?;
        let mut remotes = resolve::resolve(&pair.remote_host, remote_port).await?;
        if self.multicast_only {
            if let Some(&unicast) = remotes.iter().find(|r| !r.ip().is_multicast()) {
                remotes.retain(|r| r.ip().is_multicast());
                if remotes.is_empty() {
                    return Err(unicast_refused(unicast));
                }
            }
        }
        let locals = match &pair.local_host {
            Some(host) => Some(resolve::resolve(host, local_port).await?),
            None => None,
        };
        let mut attempts = Vec::new();
        for remote in remotes {
            let local = match &locals {
                Some(locals) => match locals.iter().find(|l| l.is_ipv4() == remote.is_ipv4()) {
                    Some(l) => *l,
                    None => {
                        attempts.push(ConnectAttempt {
                            addr: remote,
                            error: io::Error::from(io::ErrorKind::AddrNotAvailable),
                        });
                        continue;
                    }
                },
                None => match remote {
                    SocketAddr::V4(_) => {
                        SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), local_port)
                    }
                    SocketAddr::V6(_) => {
                        SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), local_port)
                    }
                },
            };
            let attempt = self.open(local, false).and_then(|(socket, family)| {
                socket
                    .connect(&family.to_wire(remote)?.into())
                    .map(|()| (socket, family))
            });
            match attempt {
                Ok((socket, family)) => {
                    return DatagramSocket::from_parts(socket, family, self.clone(), Some(remote))
                }
                Err(error) => attempts.push(ConnectAttempt {
                    addr: remote,
                    error,
                }),
            }
        }
        Err(Error::Connect {
            target: format!("{}:{}", pair.remote_host.raw_name(), pair.remote_service),
            attempts,
        })
    }

    fn bind_any(self, port: u16) -> Result<DatagramSocket> {
        let dual = SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port);
        match self.open_bound(dual) {
            Err(e) if is_no_ipv6(&e) => {
                self.open_bound(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port))
            }
            other => other,
        }
    }

    fn open_bound(&self, addr: SocketAddr) -> Result<DatagramSocket> {
        let (socket, family) = self.open(addr, true)?;
        DatagramSocket::from_parts(socket, family, self.clone(), None)
    }

    /// Makes a socket for `local`'s family with every option applied, and
    /// binds it to `local`.
    fn open(&self, local: SocketAddr, dual_if_any: bool) -> io::Result<(Socket, Family)> {
        let socket = Socket::new(Domain::for_address(local), Type::DGRAM, Some(Protocol::UDP))?;
        let family = match local {
            SocketAddr::V4(_) => Family::V4,
            SocketAddr::V6(a) if dual_if_any && a.ip().is_unspecified() => {
                match socket.set_only_v6(false) {
                    Ok(()) => Family::Dual,
                    Err(_) => Family::V6,
                }
            }
            SocketAddr::V6(_) => {
                // A specific IPv6 address (or a connect over IPv6) carries IPv6 only.
                let _ = socket.set_only_v6(true);
                Family::V6
            }
        };
        let v4 = family != Family::V6;
        let v6 = family != Family::V4;
        socket.set_nonblocking(true)?;
        if self.multicast_only {
            socket.set_reuse_address(true)?;
            #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
            socket.set_reuse_port(true)?;
        }
        if let Some(bytes) = self.inbound_buffer_size {
            socket.set_recv_buffer_size(bytes)?;
        }
        if self.dont_fragment {
            sys::set_dont_fragment(&socket, v4, v6, true)?;
        }
        if let Some(hops) = self.outbound_unicast_hop_limit {
            set_hop_limit(&socket, family, hops)?;
        }
        if self.quality_of_service == QualityOfService::LowLatency {
            if v6 {
                socket.set_tclass_v6(LOW_LATENCY_TOS)?;
            }
            if family == Family::V4 {
                socket.set_tos_v4(LOW_LATENCY_TOS)?;
            } else if v4 {
                // IPv4 traffic of a dual-stack socket; not every system allows it.
                let _ = socket.set_tos_v4(LOW_LATENCY_TOS);
            }
        }
        if local.ip().is_unspecified() || self.multicast_only {
            // Which local address a datagram was sent to is only a question
            // when bound to all of them, or when only datagrams sent to a
            // multicast group may be delivered.
            sys::enable_packet_info(&socket, v6)?;
        }
        socket
            .bind(&family.to_wire(local).unwrap_or(local).into())
            .map_err(|e| with_context(e, format!("could not bind a udp socket to {local}")))?;
        Ok((socket, family))
    }
}

/// Sets the unicast hop limit for the families the socket speaks.
pub(crate) fn set_hop_limit(socket: &Socket, family: Family, hops: u8) -> io::Result<()> {
    if hops == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "outbound_unicast_hop_limit must be from 1 to 255, not 0",
        ));
    }
    let hops = u32::from(hops);
    match family {
        Family::V4 => socket.set_ttl_v4(hops),
        Family::V6 => socket.set_unicast_hops_v6(hops),
        Family::Dual => {
            socket.set_unicast_hops_v6(hops)?;
            // IPv4 traffic of a dual-stack socket uses the IPv4 TTL.
            let _ = socket.set_ttl_v4(hops);
            Ok(())
        }
    }
}

fn is_no_ipv6(err: &Error) -> bool {
    match err {
        Error::Io(e) => {
            matches!(
                e.kind(),
                io::ErrorKind::Unsupported | io::ErrorKind::AddrNotAvailable
            ) || e.raw_os_error() == Some(libc_eafnosupport())
        }
        _ => false,
    }
}

#[cfg(unix)]
fn libc_eafnosupport() -> i32 {
    libc::EAFNOSUPPORT
}

#[cfg(not(unix))]
fn libc_eafnosupport() -> i32 {
    10047
}

/// An I/O error with a sentence saying what was being done; the original is
/// its source, so the errno and the status stay reachable.
#[derive(Debug)]
pub(crate) struct Context {
    what: String,
    source: io::Error,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl StdError for Context {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.source)
    }
}

/// Wraps `source` with what was being done, keeping its kind.
pub(crate) fn with_context(source: io::Error, what: String) -> io::Error {
    io::Error::new(source.kind(), Context { what, source })
}
