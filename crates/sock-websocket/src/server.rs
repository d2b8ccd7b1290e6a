//! `ServerWebSocketControl`: accepting WebSocket upgrades on sockets a
//! `StreamSocketListener` accepted (plain or TLS), one at a time or with
//! `serve`.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use bytes::BytesMut;
use sock_tcp::{Serve, StreamSocket, StreamSocketListener};

use crate::engine::Engine;
use crate::handshake::{self, server};
use crate::options::{shared_setters, Options};
use crate::{
    Decision, MessageWebSocket, MessageWebSocketInformation, ReceiveMode, Result, Role,
    StreamWebSocket, UpgradeRequest,
};

/// What a WebSocket handler given to [`ServerWebSocketControl::serve`]
/// runs as, once boxed.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Result<()>> + Send + 'static>>;

/// How a server accepts WebSocket upgrades: the subprotocols it supports,
/// limits and timeouts (UWP's server-side `ServerMessageWebSocketControl`).
///
/// Each `accept*` method takes a socket a listener accepted, reads the
/// client's upgrade request, lets a `decide` function inspect it (path,
/// headers, origin, credentials) and answers: 101 and a WebSocket, or the
/// HTTP status `decide` chose. A listener with a TLS server configuration
/// gives `wss://`.
///
/// ```no_run
/// use futures::StreamExt;
/// use sock_tcp::StreamSocketListener;
/// use sock_websocket::{Decision, ServerWebSocketControl};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_websocket::Result<()> {
/// let listener = StreamSocketListener::bind_service_name("1337").await?;
/// let report = ServerWebSocketControl::new()
///     .supported_protocols(["chat"])
///     .serve_with(
///         listener,
///         |request| match request.path() {
///             "/chat" => Decision::accept(),
///             _ => Decision::reject(404),
///         },
///         |mut ws| async move {
///             while let Some(message) = ws.next().await.transpose()? {
///                 ws.send(message).await?;
///             }
///             Ok(())
///         },
///     )
///     .await;
/// println!("served {} connections", report.accepted);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ServerWebSocketControl {
    options: Options,
}

impl ServerWebSocketControl {
    /// The default settings.
    pub fn new() -> Self {
        Self::default()
    }

    shared_setters!();

    /// Accepts the upgrade on `socket`, with the first of the supported
    /// subprotocols that the client offers.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::Handshake`](crate::WebSocketError::Handshake) for a request that is not a valid
    /// upgrade (the client was answered 400, 405 or 426);
    /// [`WebSocketError::LimitExceeded`](crate::WebSocketError::LimitExceeded) past `max_handshake_size` (431);
    /// [`WebSocketError::TimedOut`](crate::WebSocketError::TimedOut) past the handshake timeout; an I/O error.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection.
    pub async fn accept(&self, socket: StreamSocket) -> Result<MessageWebSocket> {
        self.accept_with(socket, |_| Decision::accept()).await
    }

    /// Accepts or rejects the upgrade on `socket` as `decide` says after
    /// inspecting the request (UWP's `ServerCustomValidationRequested`).
    ///
    /// # Errors
    ///
    /// As [`accept`](Self::accept); a rejection is
    /// [`WebSocketError::Refused`](crate::WebSocketError::Refused) with the status sent.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection.
    pub async fn accept_with<F>(&self, socket: StreamSocket, decide: F) -> Result<MessageWebSocket>
    where
        F: FnOnce(&UpgradeRequest) -> Decision,
    {
        self.accept_buffered(socket, &[], decide).await
    }

    /// As [`accept_with`](Self::accept_with), on a socket from which the
    /// caller already read `buffered` (the start of the request, read while
    /// sniffing the protocol); those bytes are read first.
    ///
    /// Bytes the socket holds itself (given back with
    /// `StreamSocket::from_framed`) are read after `buffered`, so nothing is
    /// lost either way.
    ///
    /// # Errors
    ///
    /// As [`accept_with`](Self::accept_with).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection.
    pub async fn accept_buffered<F>(
        &self,
        socket: StreamSocket,
        buffered: &[u8],
        decide: F,
    ) -> Result<MessageWebSocket>
    where
        F: FnOnce(&UpgradeRequest) -> Decision,
    {
        let (engine, info) = self
            .upgrade(socket, buffered, decide, self.options.receive_mode)
            .await?;
        Ok(MessageWebSocket::new(
            engine,
            info,
            self.options.message_type,
        ))
    }

    /// As [`accept_with`](Self::accept_with), for a [`StreamWebSocket`]
    /// (UWP's `ServerStreamWebSocket`).
    ///
    /// # Errors
    ///
    /// As [`accept_with`](Self::accept_with).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection.
    pub async fn accept_stream<F>(&self, socket: StreamSocket, decide: F) -> Result<StreamWebSocket>
    where
        F: FnOnce(&UpgradeRequest) -> Decision,
    {
        let (engine, info) = self
            .upgrade(socket, &[], decide, ReceiveMode::PartialMessage)
            .await?;
        Ok(StreamWebSocket::new(engine, info))
    }

    async fn upgrade<F>(
        &self,
        mut socket: StreamSocket,
        buffered: &[u8],
        decide: F,
        receive_mode: ReceiveMode,
    ) -> Result<(Engine, MessageWebSocketInformation)>
    where
        F: FnOnce(&UpgradeRequest) -> Decision,
    {
        let mut buf = BytesMut::from(buffered);
        let handshake = server::run(
            &mut socket,
            &mut buf,
            self.options.max_handshake_size,
            &self.options.supported_protocols,
            decide,
            |request| self.extensions(request),
        );
        let agreed = handshake::within(self.options.handshake_timeout, handshake).await?;
        #[allow(unused_mut)]
        let mut info = MessageWebSocketInformation::new(
            &socket,
            Role::Server,
            agreed.protocol,
            agreed.request.resource().to_owned(),
        );
        #[allow(unused_mut)]
        let mut settings = self.options.settings(receive_mode);
        if let Some((answer, _deflate)) = agreed.extensions {
            info.extensions = Some(answer);
            #[cfg(feature = "deflate")]
            {
                info.deflate = Some(_deflate.1);
                settings.deflate = Some(_deflate);
            }
        }
        let engine = Engine::new(socket, Role::Server, buf, settings);
        Ok((engine, info))
    }

    /// The answer to the extensions a request offers: permessage-deflate
    /// when it is on and an offer can be honoured.
    #[cfg(feature = "deflate")]
    fn extensions(
        &self,
        request: &UpgradeRequest,
    ) -> Option<(String, (crate::DeflateConfig, crate::DeflateParameters))> {
        let config = self.options.deflate?;
        let offers = request
            .headers()
            .filter(|(name, _)| name.eq_ignore_ascii_case("sec-websocket-extensions"))
            .map(|(_, value)| value);
        let (answer, agreed) = crate::deflate::negotiate::answer(offers, &config)?;
        Some((answer, (config, agreed)))
    }

    /// No extension is supported without the `deflate` feature.
    #[cfg(not(feature = "deflate"))]
    fn extensions(&self, _: &UpgradeRequest) -> Option<(String, ())> {
        None
    }

    /// Serves WebSockets on `listener`: `serve` (a task per connection, the
    /// connection limit, idle timeout, graceful shutdown; see
    /// [`Serve`]) with each upgrade accepted as [`accept`](Self::accept)
    /// does, and `handler` given the WebSocket.
    ///
    /// A failed upgrade or handler counts as a failed connection in the
    /// [`ServeReport`](sock_tcp::ServeReport).
    pub fn serve<H, Fut>(
        self,
        listener: StreamSocketListener,
        handler: H,
    ) -> Serve<impl Fn(StreamSocket) -> HandlerFuture + Send + Sync + 'static>
    where
        H: Fn(MessageWebSocket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.serve_with(listener, |_| Decision::accept(), handler)
    }

    /// As [`serve`](Self::serve), with `decide` accepting or rejecting each
    /// upgrade request first. A request `decide` rejects is answered with its
    /// status and counts as a completed connection in the
    /// [`ServeReport`](sock_tcp::ServeReport), not as a failed handler.
    pub fn serve_with<D, H, Fut>(
        self,
        listener: StreamSocketListener,
        decide: D,
        handler: H,
    ) -> Serve<impl Fn(StreamSocket) -> HandlerFuture + Send + Sync + 'static>
    where
        D: Fn(&UpgradeRequest) -> Decision + Send + Sync + 'static,
        H: Fn(MessageWebSocket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        let shared = Arc::new((self, decide, handler));
        listener.serve(move |socket| {
            let shared = Arc::clone(&shared);
            Box::pin(async move {
                let (control, decide, handler) = &*shared;
                let ws = match control.accept_with(socket, decide).await {
                    Ok(ws) => ws,
                    // Refused as `decide` said: the connection went as asked.
                    Err(crate::WebSocketError::Refused { .. }) => return Ok(()),
                    Err(e) => return Err(e),
                };
                handler(ws).await
            }) as HandlerFuture
        })
    }
}
