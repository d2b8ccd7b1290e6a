//! Opening `DatagramSocket`s: binding and connecting with the options of a
//! `DatagramSocketControl`, dual-stack when bound to all addresses.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use sock_core::{
    io_context, ConnectAttempt, EndpointPair, Error, HostName, QualityOfService, Result,
    ServiceName,
};
use socket2::{Domain, Protocol, Socket, Type};

use crate::options::set_hop_limit;
use crate::resolve::{self, unicast_refused, Family};
use crate::{sys, DatagramSocket, DatagramSocketControl};

/// The DSCP "expedited forwarding" class (46), as a TOS / traffic-class byte,
/// used for [`QualityOfService::LowLatency`](sock_core::QualityOfService::LowLatency).
const LOW_LATENCY_TOS: u32 = 46 << 2;

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
}

impl DatagramSocketControl {
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
        if self.multicast_only || self.reuse_port {
            sys::share_port(&socket)?;
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
            .map_err(|e| io_context(e, format!("could not bind a udp socket to {local}")))?;
        Ok((socket, family))
    }
}

fn is_no_ipv6(err: &Error) -> bool {
    match err {
        Error::Io(e) => {
            matches!(
                e.kind(),
                io::ErrorKind::Unsupported | io::ErrorKind::AddrNotAvailable
            ) || e.raw_os_error() == Some(sys::EAFNOSUPPORT)
        }
        _ => false,
    }
}
