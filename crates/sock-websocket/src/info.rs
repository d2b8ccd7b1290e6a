//! `MessageWebSocketInformation`: what the handshake settled and where the
//! connection goes.

use std::net::SocketAddr;

use sock_core::ProtectionLevel;
use sock_tcp::StreamSocket;

use crate::Role;

/// What a WebSocket's handshake settled, and its addresses (UWP's
/// `MessageWebSocketInformation` and `StreamWebSocketInformation`).
///
/// The connection's own details (round-trip times, the TLS version, the
/// server's certificate and its errors) are in the socket's information:
/// [`socket_information`](crate::MessageWebSocket::socket_information).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MessageWebSocketInformation {
    /// The subprotocol chosen (UWP's `Protocol`); `None` when none was.
    pub protocol: Option<String>,
    /// The local address of the connection.
    pub local_address: SocketAddr,
    /// The peer's address.
    pub remote_address: SocketAddr,
    /// `PlainSocket` for `ws://`, the TLS version for `wss://`.
    pub protection_level: ProtectionLevel,
    /// Whether this end is the client or the server.
    pub role: Role,
    /// The request target: the path and query the client asked for.
    pub resource: String,
    /// The extensions agreed, as the server's `Sec-WebSocket-Extensions`
    /// answer put them (`permessage-deflate; client_max_window_bits=12`);
    /// `None` when none was.
    pub extensions: Option<String>,
    /// The permessage-deflate parameters agreed (feature `deflate`);
    /// `None` when messages are not compressed.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub deflate: Option<crate::DeflateParameters>,
}

impl MessageWebSocketInformation {
    pub(crate) fn new(
        socket: &StreamSocket,
        role: Role,
        protocol: Option<String>,
        resource: String,
    ) -> Self {
        Self {
            protocol,
            local_address: socket.local_addr(),
            remote_address: socket.peer_addr(),
            protection_level: socket.protection_level(),
            role,
            resource,
            extensions: None,
            #[cfg(feature = "deflate")]
            deflate: None,
        }
    }
}
