//! `MessageWebSocketControl`: a client WebSocket's settings (UWP's
//! `MessageWebSocketControl` and `StreamWebSocketControl`), and connecting
//! with them.

use std::time::Duration;

use sock_core::ProtectionLevel;
use sock_tcp::{StreamSocket, StreamSocketControl};

use crate::engine::Engine;
use crate::handshake::{self, client};
use crate::options::{shared_setters, Options};
use crate::uri::WsUri;
use crate::{
    MessageWebSocket, MessageWebSocketInformation, ReceiveMode, Result, Role, StreamWebSocket,
    WebSocketError,
};

/// How to connect a client WebSocket: the handshake's subprotocols, headers
/// and credentials; limits and timeouts; and the connection's own settings
/// (a [`StreamSocketControl`]: connect timeout, keep-alive, TLS client
/// certificate and ignorable server certificate errors).
///
/// ```no_run
/// use std::time::Duration;
/// use sock_websocket::{MessageType, MessageWebSocket};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sock_websocket::Result<()> {
/// let ws = MessageWebSocket::builder()
///     .message_type(MessageType::Utf8)
///     .supported_protocols(["chat.v2", "chat.v1"])
///     .set_request_header("Origin", "https://example.com")?
///     .server_credential("user", "secret")
///     .desired_unsolicited_pong_interval(Some(Duration::from_secs(30)))
///     .connect("ws://localhost:1337/chat")
///     .await?;
/// println!("protocol: {:?}", ws.information().protocol);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MessageWebSocketControl {
    options: Options,
    socket: StreamSocketControl,
    headers: Vec<(String, String)>,
    credential: Option<(String, String)>,
    protection_level: Option<ProtectionLevel>,
}

impl MessageWebSocketControl {
    /// The default settings.
    pub fn new() -> Self {
        Self::default()
    }

    shared_setters!();

    /// Adds a header to the upgrade request (UWP's `SetRequestHeader`):
    /// `Origin`, `Cookie`, a token. The headers the handshake writes itself
    /// (`Host`, `Upgrade`, `Connection`, `Sec-WebSocket-*`) cannot be set.
    ///
    /// # Errors
    ///
    /// [`WebSocketError::InvalidArgument`] for a name that is not an HTTP
    /// token or is one of those, or a value with a line break.
    pub fn set_request_header(mut self, name: &str, value: &str) -> Result<Self> {
        handshake::check_header(name, value)?;
        self.headers.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// Sends these credentials with HTTP basic authentication (UWP's
    /// `ServerCredential`). Over `ws://` they cross the network in clear.
    pub fn server_credential(mut self, user: &str, password: &str) -> Self {
        self.credential = Some((user.to_owned(), password.to_owned()));
        self
    }

    /// The connection's own settings: connect timeout, keep-alive, idle
    /// timeouts, and for `wss://` the TLS settings (client certificate,
    /// roots, ignorable certificate errors). Replaces those set so far.
    ///
    /// It replaces the whole connection control, with the settings made on
    /// this builder before it that go to the connection (connect timeout,
    /// TLS roots, client certificate, ignorable certificate errors): call it
    /// first, then those setters.
    pub fn socket_control(mut self, control: StreamSocketControl) -> Self {
        self.socket = control;
        self
    }

    /// How long connecting may take, name resolution and TLS included
    /// (`sock_tcp::DEFAULT_CONNECT_TIMEOUT`, 30 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.socket = self.socket.connect_timeout(timeout);
        self
    }

    /// The TLS protection for `wss://` URIs: `Ssl` (best available, the
    /// default), `Tls12` or `Tls13`. Ignored for `ws://`.
    pub fn protection_level(mut self, level: ProtectionLevel) -> Self {
        self.protection_level = Some(level);
        self
    }

    /// Connects to a `ws://` or `wss://` URI and runs the opening handshake
    /// (UWP's `ConnectAsync(Uri)`).
    ///
    /// # Errors
    ///
    /// - [`WebSocketError::InvalidUri`], or an invalid subprotocol name;
    /// - [`WebSocketError::Socket`] when connecting fails (its status says
    ///   why: `HostNotFound`, `ConnectionRefused`, a certificate error…);
    /// - [`WebSocketError::Refused`] when the server answers with another
    ///   HTTP status than 101 ([`web_status`](WebSocketError::web_status):
    ///   `Unauthorized`, `NotFound`…);
    /// - [`WebSocketError::Handshake`] for an answer that breaks RFC 6455;
    /// - [`WebSocketError::TimedOut`] past the handshake timeout,
    ///   [`WebSocketError::LimitExceeded`] past `max_handshake_size`.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection it was making.
    pub async fn connect(&self, uri: &str) -> Result<MessageWebSocket> {
        let (engine, info) = self.open(uri, self.options.receive_mode).await?;
        Ok(MessageWebSocket::new(
            engine,
            info,
            self.options.message_type,
        ))
    }

    /// Connects as [`connect`](Self::connect) does, for a
    /// [`StreamWebSocket`] (UWP's `StreamWebSocket.ConnectAsync`).
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection it was making.
    pub async fn connect_stream(&self, uri: &str) -> Result<StreamWebSocket> {
        let (engine, info) = self.open(uri, ReceiveMode::PartialMessage).await?;
        Ok(StreamWebSocket::new(engine, info))
    }

    async fn open(
        &self,
        uri: &str,
        receive_mode: ReceiveMode,
    ) -> Result<(Engine, MessageWebSocketInformation)> {
        let uri = WsUri::parse(uri)?;
        for protocol in &self.options.supported_protocols {
            check_protocol(protocol)?;
        }
        let mut socket = self.connect_socket(&uri).await?;
        #[cfg(feature = "deflate")]
        let offer = self
            .options
            .deflate
            .as_ref()
            .map(crate::deflate::negotiate::offer);
        #[cfg(not(feature = "deflate"))]
        let offer: Option<String> = None;
        let request = client::Request {
            host: &uri.host_header,
            resource: &uri.resource,
            protocols: &self.options.supported_protocols,
            headers: &self.headers,
            credential: self.credential.as_ref(),
            extensions: offer.as_deref(),
        };
        let (accepted, rest) = handshake::within(
            self.options.handshake_timeout,
            client::run(&mut socket, &request, self.options.max_handshake_size),
        )
        .await?;
        #[allow(unused_mut)]
        let mut settings = self.options.settings(receive_mode);
        #[allow(unused_mut)]
        let mut info = MessageWebSocketInformation::new(
            &socket,
            Role::Client,
            accepted.protocol,
            uri.resource,
        );
        // The server's answer to our offer: checked, or the connection
        // fails (RFC 7692 section 5).
        #[cfg(feature = "deflate")]
        if let (Some(config), Some(answer)) = (self.options.deflate, &accepted.extensions) {
            let agreed = crate::deflate::negotiate::check_answer(answer, &config)
                .map_err(WebSocketError::handshake)?;
            info.deflate = Some(agreed);
            settings.deflate = Some((config, agreed));
        }
        info.extensions = accepted.extensions;
        let engine = Engine::new(socket, Role::Client, rest, settings);
        Ok((engine, info))
    }

    async fn connect_socket(&self, uri: &WsUri) -> Result<StreamSocket> {
        if !uri.secure {
            return Ok(self.socket.connect(&uri.host, uri.port).await?);
        }
        #[cfg(feature = "tls")]
        {
            let level = self.protection_level.unwrap_or(ProtectionLevel::Ssl);
            if level == ProtectionLevel::PlainSocket {
                return Err(WebSocketError::invalid_argument(
                    "protection_level",
                    "a wss:// uri needs tls, not PlainSocket",
                ));
            }
            let control = self.socket.clone().protection_level(level);
            Ok(control.connect(&uri.host, uri.port).await?)
        }
        #[cfg(not(feature = "tls"))]
        {
            Err(WebSocketError::Socket(sock_core::Error::unsupported(
                "wss://",
                "sock-websocket was built without its `tls` feature",
            )))
        }
    }
}

/// The TLS settings for `wss://` (feature `tls`), on the connection's
/// [`StreamSocketControl`].
#[cfg(feature = "tls")]
impl MessageWebSocketControl {
    /// Presents this client certificate (PEM chain and key) to servers that
    /// ask for one (UWP's `ClientCertificate`).
    pub fn client_certificate_pem(mut self, chain_pem: &[u8], key_pem: &[u8]) -> Self {
        self.socket = self.socket.client_certificate_pem(chain_pem, key_pem);
        self
    }

    /// Presents this client certificate (UWP's `ClientCertificate`): one
    /// found in a certificate store, read from PKCS#12, or on a PKCS#11
    /// token; see `StreamSocketControl::client_certificate_from`.
    pub fn client_certificate_from(mut self, certificate: sock_tls::Certificate) -> Self {
        self.socket = self.socket.client_certificate_from(certificate);
        self
    }

    /// Server certificate problems to tolerate (UWP's
    /// `IgnorableServerCertificateErrors`): expired, untrusted root, wrong
    /// name. The signature is still checked.
    pub fn ignorable_server_certificate_errors(
        mut self,
        errors: &[sock_tls::IgnorableCertificateError],
    ) -> Self {
        self.socket = self.socket.ignorable_server_certificate_errors(errors);
        self
    }

    /// Trusts these PEM root certificates too.
    pub fn add_root_certificates_pem(mut self, pem: &[u8]) -> Self {
        self.socket = self.socket.add_root_certificates_pem(pem);
        self
    }

    /// Whether to trust the operating system's roots (`true` by default).
    pub fn with_os_roots(mut self, yes: bool) -> Self {
        self.socket = self.socket.with_os_roots(yes);
        self
    }
}

/// A subprotocol name must be an HTTP token (RFC 6455 section 4.1).
fn check_protocol(protocol: &str) -> Result<()> {
    let is_token = !protocol.is_empty()
        && protocol
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"()<>@,;:\\\"/[]?={}".contains(&b));
    if is_token {
        Ok(())
    } else {
        Err(WebSocketError::invalid_argument(
            "supported_protocols",
            format!("{protocol:?} is not a token"),
        ))
    }
}

impl MessageWebSocket {
    /// Connects to a `ws://` or `wss://` URI with the default settings (UWP's
    /// `ConnectAsync(Uri)`); the same as
    /// `MessageWebSocket::builder().connect(uri)`.
    ///
    /// ```no_run
    /// use futures::StreamExt;
    /// use sock_websocket::{Message, MessageWebSocket};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> sock_websocket::Result<()> {
    /// let mut ws = MessageWebSocket::connect("ws://localhost:1337/echo").await?;
    /// ws.send(Message::text("Hello, World!")).await?;
    /// if let Some(reply) = ws.next().await.transpose()? {
    ///     println!("{:?}", reply.as_text());
    /// }
    /// ws.close(1000, "done").await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`MessageWebSocketControl::connect`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection it was making.
    pub async fn connect(uri: &str) -> Result<Self> {
        MessageWebSocketControl::new().connect(uri).await
    }

    /// The settings to connect with (UWP's `MessageWebSocketControl`).
    pub fn builder() -> MessageWebSocketControl {
        MessageWebSocketControl::new()
    }
}

impl StreamWebSocket {
    /// Connects to a `ws://` or `wss://` URI with the default settings;
    /// the same as `MessageWebSocketControl::new().connect_stream(uri)`.
    ///
    /// # Errors
    ///
    /// As [`MessageWebSocketControl::connect`].
    ///
    /// # Cancel safety
    ///
    /// Dropping the future closes the connection it was making.
    pub async fn connect(uri: &str) -> Result<Self> {
        MessageWebSocketControl::new().connect_stream(uri).await
    }
}
