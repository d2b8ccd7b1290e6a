//! TCP, plain or TLS: connecting (Happy Eyeballs by the library, `-4`/`-6`
//! through a resolver that keeps one family, `--local`, `--sni`), binding a
//! listener, and a connected socket made into a session's `Conn`.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sock::tcp::{Resolve, Resolving, StreamSocket, StreamSocketListener};
use sock::{EndpointPair, FramedRead, FramedWrite, HostName, HostNameType, ServiceName};

use crate::cli::{Common, ListenArgs};
use crate::context::Context;
use crate::exit::Failure;
use crate::session::{Conn, Received};
use crate::tls;

/// An address family `-4` or `-6` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// IPv4 only.
    V4,
    /// IPv6 only.
    V6,
}

impl Family {
    /// The family the options ask for, if any.
    pub(crate) fn of(common: &Common) -> Option<Self> {
        if common.ipv4 {
            Some(Self::V4)
        } else if common.ipv6 {
            Some(Self::V6)
        } else {
            None
        }
    }

    /// Whether `addr` is of this family.
    pub(crate) fn has(self, addr: IpAddr) -> bool {
        match self {
            Self::V4 => addr.is_ipv4(),
            Self::V6 => addr.is_ipv6(),
        }
    }

    /// Fails when `host` is an address literal of the other family.
    pub(crate) fn check(self, host: &HostName) -> Result<(), Failure> {
        let other = match (self, host.kind()) {
            (Self::V4, HostNameType::Ipv6) => "an IPv6 address, but -4 was given",
            (Self::V6, HostNameType::Ipv4) => "an IPv4 address, but -6 was given",
            _ => return Ok(()),
        };
        Err(Failure::input(format!("host {host}"), other))
    }

    /// The unspecified address of the family, to listen on.
    pub(crate) fn any(self) -> IpAddr {
        match self {
            Self::V4 => IpAddr::from([0, 0, 0, 0]),
            Self::V6 => IpAddr::from([0u16; 8]),
        }
    }
}

/// The system's resolver, keeping the addresses of one family.
#[derive(Debug, Clone, Copy)]
struct FamilyResolver(Family);

impl Resolve for FamilyResolver {
    fn resolve(&self, host: &HostName, port: u16) -> Resolving {
        let name = host.canonical_name().to_owned();
        let family = self.0;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), port))
                .await?
                .filter(|a| family.has(a.ip()))
                .collect();
            Ok(addrs)
        })
    }
}

/// `--local`: `ADDR:PORT`, `[V6]:PORT` or `ADDR` (any port).
pub(crate) fn local_endpoint(text: &str) -> Result<(HostName, ServiceName), Failure> {
    if let Ok(addr) = text.parse::<SocketAddr>() {
        return Ok((HostName::from(addr.ip()), ServiceName::from(addr.port())));
    }
    let bare = text.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => Ok((HostName::from(ip), ServiceName::any())),
        Err(_) => Err(Failure::input(
            format!("--local {text:?}"),
            "expected ADDR:PORT, [IPV6]:PORT or ADDR",
        )),
    }
}

/// The endpoints to connect: `host` at `service`, from `--local` if given.
pub(crate) fn endpoint_pair(
    local: Option<&str>,
    host: HostName,
    service: ServiceName,
) -> Result<EndpointPair, Failure> {
    Ok(match local {
        Some(local) => {
            let (local_host, local_service) = local_endpoint(local)?;
            EndpointPair::new(Some(local_host), local_service, host, service)
        }
        None => EndpointPair::to_remote(host, service),
    })
}

/// Connects to `host` at `port` as the options say, with TLS if asked.
pub(crate) async fn connect(
    host: &str,
    port: &str,
    local: Option<&str>,
    connect_timeout: Duration,
    common: &Common,
    ctx: &Context,
) -> Result<Conn, Failure> {
    let host_name = HostName::new(host)?;
    let service = ServiceName::new(port)?;
    // Certificate files are read before connecting: a mistake in them
    // costs no connection.
    let tls_config = common
        .tls
        .map(|version| tls::client_config(common, version, connect_timeout))
        .transpose()?;
    let mut control = StreamSocket::builder().connect_timeout(connect_timeout);
    if let Some(family) = Family::of(common) {
        family.check(&host_name)?;
        control = control.resolver(FamilyResolver(family));
    }
    ctx.say(format_args!("connecting to {host} port {port}"));
    let pair = endpoint_pair(local, host_name.clone(), service)?;
    let socket = control.connect_pair(&pair).await?;
    ctx.say(format_args!(
        "connected to {} from {}",
        socket.peer_addr(),
        socket.local_addr()
    ));
    let socket = match tls_config {
        None => socket,
        Some(config) => {
            let name = match &common.sni {
                Some(sni) => HostName::new(sni)?,
                None => host_name,
            };
            let socket = socket.upgrade_to_tls_with(&config, &name).await?;
            if let Some(info) = socket.tls_info() {
                tls::report(info).into_iter().for_each(|line| ctx.say(line));
            }
            socket
        }
    };
    Ok(conn(socket, ctx))
}

/// `[HOST] PORT` of `listen`.
pub(crate) fn listen_address(address: &[String]) -> (Option<&str>, &str) {
    match address {
        [host, port] => (Some(host.as_str()), port.as_str()),
        [port, ..] => (None, port.as_str()),
        [] => (None, "0"),
    }
}

/// The address to bind: HOST, or the family's unspecified address with
/// `-4`/`-6`, or `None` for every address of both families.
pub(crate) fn bind_host(host: Option<&str>, common: &Common) -> Result<Option<HostName>, Failure> {
    let family = Family::of(common);
    match (host, family) {
        (Some(host), family) => {
            let host = HostName::new(host)?;
            if let Some(family) = family {
                family.check(&host)?;
            }
            Ok(Some(host))
        }
        (None, Some(family)) => Ok(Some(HostName::from(family.any()))),
        (None, None) => Ok(None),
    }
}

/// Binds the TCP listener `listen` asks for (TLS if asked) and says where.
pub(crate) async fn bind(
    args: &ListenArgs,
    ctx: &Context,
) -> Result<StreamSocketListener, Failure> {
    let common = &args.common;
    let (host, port) = listen_address(&args.address);
    let mut control = StreamSocketListener::builder();
    if let Some(version) = common.tls {
        control = control.tls_server_config(tls::server_config(common, version)?);
    }
    let host = bind_host(host, common)?;
    let service = ServiceName::new(port)?;
    let listener = control.bind_endpoint(host.as_ref(), service).await?;
    announce(listener.local_addr(), port, ctx);
    Ok(listener)
}

/// Says where a listener listens: always when the port was chosen by the
/// system (the user needs it), else with `-v`.
pub(crate) fn announce(addr: SocketAddr, asked: &str, ctx: &Context) {
    let line = format!("listening on {addr}");
    if asked == "0" || asked.is_empty() {
        eprintln!("sockcat: {line}");
    } else {
        ctx.say(line);
    }
}

/// A connected (or accepted) socket as a session's connection.
pub(crate) fn conn(socket: StreamSocket, ctx: &Context) -> Conn {
    let peer = socket.peer_addr().to_string();
    let (input, output) = socket.into_split();
    let codec = ctx.codec();
    let rx = FramedRead::new(input, codec.clone())
        .map(|message| message.map(Received::from).map_err(Failure::from));
    let tx = FramedWrite::new(output, codec).sink_map_err(Failure::from);
    Conn {
        peer,
        rx: Box::pin(rx),
        tx: Box::pin(tx),
        linger: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_endpoints_take_a_port_or_not() {
        let (host, service) = local_endpoint("127.0.0.2:4000").unwrap();
        assert_eq!(
            (host.to_string(), service.to_string()),
            ("127.0.0.2".into(), "4000".into())
        );
        let (host, service) = local_endpoint("[::1]:0").unwrap();
        assert_eq!(
            (host.to_string(), service.as_port()),
            ("::1".into(), Some(0))
        );
        let (host, _) = local_endpoint("::1").unwrap();
        assert_eq!(host.to_string(), "::1");
        assert!(local_endpoint("localhost:80").is_err());
    }

    #[test]
    fn listen_takes_an_optional_host() {
        let one = vec!["80".to_owned()];
        assert_eq!(listen_address(&one), (None, "80"));
        let two = vec!["::1".to_owned(), "80".to_owned()];
        assert_eq!(listen_address(&two), (Some("::1"), "80"));
    }
}
