//! WebSockets: `--ws URI` connects a `MessageWebSocket` (`wss://` with the
//! TLS options), `--ws-listen` upgrades each accepted connection; either
//! way one message is one message of stdin and stdout, and the end of
//! input sends a close frame and reads on until the peer's.

use std::time::Duration;

use futures::{future, SinkExt, StreamExt};
use sock::tcp::StreamSocket;
use sock::websocket::{Message, MessageWebSocket, ServerWebSocketControl};
use sock::Bytes;

use crate::cli::{Common, WsType};
use crate::context::Context;
use crate::exit::Failure;
use crate::session::{Conn, Received};
use crate::tls;

/// Connects to `uri`.
pub(crate) async fn connect(
    uri: &str,
    connect_timeout: Duration,
    common: &Common,
    ctx: &Context,
) -> Result<Conn, Failure> {
    let mut control = MessageWebSocket::builder()
        .connect_timeout(connect_timeout)
        .max_message_size(ctx.max_frame);
    if let Some(version) = common.tls {
        control = control.protection_level(tls::level(version));
    }
    for ca in &common.ca {
        let pem =
            std::fs::read(ca).map_err(|e| Failure::input(format!("file {}", ca.display()), e))?;
        control = control.add_root_certificates_pem(&pem);
    }
    if let (Some(cert), Some(key)) = (&common.cert, &common.key) {
        let read = |path: &std::path::Path| {
            std::fs::read(path).map_err(|e| Failure::input(format!("file {}", path.display()), e))
        };
        control = control.client_certificate_pem(&read(cert)?, &read(key)?);
    }
    if let Some(certificate) = tls::client_certificate(common)? {
        control = control.client_certificate_from(certificate);
    }
    if !common.ignore.is_empty() {
        control = control.ignorable_server_certificate_errors(&tls::ignorable(&common.ignore));
    }
    ctx.say(format_args!("connecting to {uri}"));
    let ws = control.connect(uri).await?;
    let info = ws.information();
    ctx.say(format_args!(
        "websocket open to {} from {} ({})",
        info.remote_address,
        info.local_address,
        info.protocol.as_deref().map_or_else(
            || "no subprotocol".to_owned(),
            |p| format!("subprotocol {p}")
        ),
    ));
    if let Some(tls_info) = ws.socket_information().tls {
        tls::report(&tls_info)
            .into_iter()
            .for_each(|line| ctx.say(line));
    }
    Ok(conn(ws, common.ws_type))
}

/// Upgrades an accepted connection (any path) to a WebSocket.
pub(crate) async fn accept(
    socket: StreamSocket,
    common: &Common,
    ctx: &Context,
) -> Result<Conn, Failure> {
    let control = ServerWebSocketControl::new().max_message_size(ctx.max_frame);
    let ws = control.accept(socket).await?;
    ctx.say(format_args!(
        "websocket upgrade from {} for {:?}",
        ws.information().remote_address,
        ws.information().resource
    ));
    Ok(conn(ws, common.ws_type))
}

/// A WebSocket as a session's connection.
fn conn(ws: MessageWebSocket, kind: WsType) -> Conn {
    let peer = ws.information().remote_address.to_string();
    let (sink, stream) = ws.split();
    let rx = stream.map(|message| {
        message
            .map(|m| Received::from(m.into_data()))
            .map_err(Failure::from)
    });
    let tx = sink
        .sink_map_err(Failure::from)
        .with(move |data: Bytes| future::ready(message(data, kind)));
    Conn {
        peer,
        rx: Box::pin(rx),
        tx: Box::pin(tx),
        linger: false,
    }
}

/// The message to send for `data`.
fn message(data: Bytes, kind: WsType) -> Result<Message, Failure> {
    match kind {
        WsType::Binary => Ok(Message::binary(data)),
        WsType::Auto | WsType::Text => match String::from_utf8(data.to_vec()) {
            Ok(text) => Ok(Message::text(text)),
            Err(_) if kind == WsType::Auto => Ok(Message::binary(data)),
            Err(e) => Err(Failure::input("a text message (--ws-type text)", e)),
        },
    }
}
