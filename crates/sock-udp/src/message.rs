//! `DatagramMessage`: one received datagram, as UWP's `MessageReceived`
//! event arguments.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV6};

use bytes::Bytes;
use sock_codec::{DataReader, NoStream};
use sock_core::HostName;

/// One received datagram, as UWP's `DatagramSocketMessageReceivedEventArgs`.
///
/// `data` holds the whole datagram; [`data_reader`](Self::data_reader) gives
/// UWP's `GetDataReader()`, a reader preloaded with it.
///
/// A datagram is never truncated silently: when it was larger than the
/// socket's [`max_message_size`](crate::DatagramSocketControl::max_message_size),
/// `data` holds its first bytes and [`truncated`](Self::truncated) is `true`.
/// With the default limit (64 KiB) no UDP datagram is ever truncated.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DatagramMessage {
    /// The datagram's bytes. They share one allocation with datagrams
    /// received around the same time (freed when all are dropped); to keep a
    /// few small datagrams for long, copy them out.
    pub data: Bytes,
    /// Who sent it (UWP's `RemoteAddress`). IPv4 senders on a dual-stack
    /// socket appear as IPv4 addresses, not as mapped IPv6 ones; link-local
    /// IPv6 senders carry their scope as a numeric zone (`fe80::1%2`).
    pub remote_address: HostName,
    /// The port it was sent from (UWP's `RemotePort`).
    pub remote_port: u16,
    /// The local address it was sent to (UWP's `LocalAddress`): a multicast
    /// group for multicast datagrams. Read from the packet where the platform
    /// reports it (Linux), otherwise the socket's bound address.
    pub local_address: HostName,
    /// Whether the datagram was longer than the receive buffer and `data`
    /// holds only its beginning.
    pub truncated: bool,
}

impl DatagramMessage {
    /// The sender as a socket address, to reply with
    /// [`send_to_addr`](crate::DatagramSocket::send_to_addr).
    pub fn remote_addr(&self) -> SocketAddr {
        let ip = self
            .remote_address
            .ip_addr()
            .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
        let scope = self.remote_address.zone().and_then(|z| z.parse().ok());
        match (ip, scope) {
            (IpAddr::V6(v6), Some(scope)) => {
                SocketAddr::V6(SocketAddrV6::new(v6, self.remote_port, 0, scope))
            }
            _ => SocketAddr::new(ip, self.remote_port),
        }
    }

    /// A [`DataReader`] already loaded with the whole datagram (UWP's
    /// `GetDataReader()`): read typed values at once, no `load` needed.
    pub fn data_reader(&self) -> DataReader<NoStream> {
        DataReader::from_buffer(self.data.clone())
    }

    /// The datagram's length in bytes (of what was kept, if truncated).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the datagram was empty.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
}

impl Default for DatagramMessage {
    /// An empty message from `0.0.0.0:0`: a slot for
    /// [`recv_batch`](crate::DatagramSocket::recv_batch) to fill.
    fn default() -> Self {
        let any = HostName::from(Ipv4Addr::UNSPECIFIED);
        Self {
            data: Bytes::new(),
            remote_address: any.clone(),
            remote_port: 0,
            local_address: any,
            truncated: false,
        }
    }
}

impl fmt::Debug for DatagramMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatagramMessage")
            .field("len", &self.data.len())
            .field("remote_address", &self.remote_address.canonical_name())
            .field("remote_port", &self.remote_port)
            .field("local_address", &self.local_address.canonical_name())
            .field("truncated", &self.truncated)
            .finish()
    }
}
