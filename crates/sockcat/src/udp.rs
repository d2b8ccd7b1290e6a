//! UDP: one message per datagram. `connect` sends to one peer and hears
//! only it; `listen` hears everyone and answers the last sender, or with
//! `--multicast` shares the port, joins the group and sends to it.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use futures::{sink, stream};
use sock::udp::DatagramSocket;
use sock::{Bytes, HostName, ServiceName};

use crate::cli::{Common, ListenArgs};
use crate::context::Context;
use crate::exit::Failure;
use crate::frame::WireCodec;
use crate::session::{Conn, Received};
use crate::tcp::{self, Family};

/// Connects a datagram socket to `host` at `port`.
pub(crate) async fn connect(
    host: &str,
    port: &str,
    local: Option<&str>,
    common: &Common,
    ctx: &Context,
) -> Result<Conn, Failure> {
    let host_name = HostName::new(host)?;
    let service = ServiceName::new(port)?;
    let mut pair = tcp::endpoint_pair(local, host_name.clone(), service.clone())?;
    if let Some(family) = Family::of(common) {
        family.check(&host_name)?;
        let remote = DatagramSocket::endpoint_pairs(&host_name, service)
            .await?
            .into_iter()
            .map(|p| p.remote_host)
            .find(|h| h.ip_addr().is_some_and(|ip| family.has(ip)))
            .ok_or_else(|| {
                Failure::from(sock::Error::NoAddresses {
                    host: host.to_owned(),
                })
            })?;
        pair.remote_host = remote;
    }
    ctx.say(format_args!("sending datagrams to {host} port {port}"));
    let socket = DatagramSocket::builder().connect_pair(&pair).await?;
    let peer = socket
        .peer_addr()
        .map_or_else(|| format!("{host}:{port}"), |a| a.to_string());
    ctx.say(format_args!(
        "connected to {peer} from {}",
        socket.local_addr()
    ));
    Ok(conn(
        Arc::new(socket),
        peer,
        Target::Connected,
        ctx.codec(),
        true,
    ))
}

/// Binds the datagram socket `listen` asks for.
pub(crate) async fn listen(args: &ListenArgs, ctx: &Context) -> Result<Conn, Failure> {
    let common = &args.common;
    let (host, port) = tcp::listen_address(&args.address);
    let host = tcp::bind_host(host, common)?;
    let service = ServiceName::new(port)?;
    let group = args.multicast.as_deref().map(HostName::new).transpose()?;
    let socket = DatagramSocket::builder()
        .multicast_only(group.is_some())
        .bind_endpoint(host.as_ref(), service)
        .await?;
    let local = socket.local_addr();
    let target = match &group {
        Some(group) => {
            socket.join_multicast_group(group)?;
            ctx.say(format_args!("joined multicast group {group}"));
            let ip = group.ip_addr().ok_or_else(|| {
                Failure::input(format!("multicast group {group}"), "not an IP address")
            })?;
            Target::Group(SocketAddr::new(ip, local.port()))
        }
        None => Target::LastSender(Arc::new(Mutex::new(None))),
    };
    // Said once the group is joined: from then on nothing sent to it is missed.
    tcp::announce(local, port, ctx);
    Ok(conn(
        Arc::new(socket),
        local.to_string(),
        target,
        ctx.codec(),
        false,
    ))
}

/// Where sent datagrams go.
#[derive(Debug, Clone)]
enum Target {
    /// The connected peer.
    Connected,
    /// The last sender heard from (none yet: nothing is sent).
    LastSender(Arc<Mutex<Option<SocketAddr>>>),
    /// A multicast group.
    Group(SocketAddr),
}

impl Target {
    fn heard(&self, from: SocketAddr) {
        if let Self::LastSender(last) = self {
            *last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(from);
        }
    }

    async fn send(&self, socket: &DatagramSocket, data: &[u8]) -> Result<(), Failure> {
        match self {
            Self::Connected => socket.send(data).await.map(drop)?,
            Self::Group(addr) => socket.send_to_addr(*addr, data).await.map(drop)?,
            Self::LastSender(last) => {
                let to = *last
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                match to {
                    Some(addr) => socket.send_to_addr(addr, data).await.map(drop)?,
                    None => eprintln!(
                        "sockcat: no datagram received yet, so no one to send to: {} bytes dropped",
                        data.len()
                    ),
                }
            }
        }
        Ok(())
    }
}

/// A datagram socket as a session's connection.
fn conn(
    socket: Arc<DatagramSocket>,
    peer: String,
    target: Target,
    codec: WireCodec,
    linger: bool,
) -> Conn {
    let show_sender = !matches!(target, Target::Connected);
    let rx = stream::unfold(
        (Arc::clone(&socket), target.clone(), codec.clone()),
        move |(socket, target, mut codec)| async move {
            let item = match socket.recv().await {
                Ok(datagram) => {
                    let from = datagram.remote_addr();
                    target.heard(from);
                    codec
                        .decode_datagram(datagram.data)
                        .map(|data| Received {
                            data,
                            from: show_sender.then(|| from.to_string()),
                        })
                        .map_err(Failure::from)
                }
                Err(e) => Err(Failure::from(e)),
            };
            Some((item, (socket, target, codec)))
        },
    );
    let tx = sink::unfold(
        (socket, target, codec),
        |(socket, target, mut codec), data: Bytes| async move {
            let datagram = codec.encode_datagram(data)?;
            target.send(&socket, &datagram).await?;
            Ok::<_, Failure>((socket, target, codec))
        },
    );
    Conn {
        peer,
        rx: Box::pin(rx),
        tx: Box::pin(tx),
        linger,
    }
}
