//! The servers under attack, each built with sock the way its docs show, run
//! as a child process (`sock-attack serve KIND`) so that an attack that took
//! one down, or a resource limit set on it, touches nothing else.
//!
//! The child prints `PORT n` when it listens, and serves until its standard
//! input closes.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use sock::prelude::*;
use sock::tls::TlsServerConfig;
use sock::websocket::ServerWebSocketControl;
use tokio::io::AsyncReadExt;

/// What a server is started with.
#[derive(Debug, Clone, Default)]
pub(crate) struct ServerArgs {
    pub(crate) kind: String,
    /// An address-space limit (`RLIMIT_AS`) for the server process, in MiB.
    pub(crate) as_limit_mib: Option<u64>,
    pub(crate) max_connections: Option<usize>,
    pub(crate) cert: Option<String>,
    pub(crate) key: Option<String>,
}

impl ServerArgs {
    /// The arguments that start this server as a child.
    pub(crate) fn to_args(&self) -> Vec<String> {
        let mut args = vec!["serve".to_owned(), self.kind.clone()];
        let mut push = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                args.push(format!("--{name}"));
                args.push(value);
            }
        };
        push("as-limit-mib", self.as_limit_mib.map(|v| v.to_string()));
        push(
            "max-connections",
            self.max_connections.map(|v| v.to_string()),
        );
        push("cert", self.cert.clone());
        push("key", self.key.clone());
        args
    }
}

/// Runs the server `args` names until standard input closes.
pub(crate) async fn serve(args: ServerArgs) -> Result<(), String> {
    if let Some(mib) = args.as_limit_mib {
        crate::limits::limit_address_space(mib << 20)?;
    }
    crate::limits::raise_open_files();
    let stop = async {
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        while !matches!(stdin.read(&mut buf).await, Ok(0) | Err(_)) {}
    };
    let max = args
        .max_connections
        .unwrap_or(sock::tcp::DEFAULT_MAX_CONNECTIONS);
    match args.kind.as_str() {
        "length" => serve_until(bind(None).await?, echo_frames, max, stop).await,
        "line" => serve_until(bind(None).await?, echo_lines, max, stop).await,
        "websocket" => serve_until(bind(None).await?, echo_websocket, max, stop).await,
        "tls" => {
            let (cert, key) = (args.cert.clone(), args.key.clone());
            let (Some(cert), Some(key)) = (cert, key) else {
                return Err("the tls server needs --cert and --key".into());
            };
            let read = |p: &str| std::fs::read(p).map_err(|e| format!("{p}: {e}"));
            let config = TlsServerConfig::builder()
                .certificate_chain_pem(&read(&cert)?, &read(&key)?)
                .build()
                .map_err(|e| e.to_string())?;
            serve_until(bind(Some(config)).await?, echo_lines, max, stop).await;
        }
        "udp" => {
            let socket = DatagramSocket::bind_endpoint(Some(&loopback()), 0)
                .await
                .map_err(|e| e.to_string())?;
            announce(socket.information().local_port);
            let echo = async {
                loop {
                    // Errors (ICMP reports, a full send buffer) end no loop.
                    if let Ok(msg) = socket.recv().await {
                        let _ = socket.send_to_addr(msg.remote_addr(), &msg.data).await;
                    }
                }
            };
            tokio::select! {
                () = echo => {}
                () = stop => {}
            }
        }
        other => return Err(format!("unknown server kind {other:?}")),
    }
    Ok(())
}

fn loopback() -> HostName {
    HostName::new("127.0.0.1").expect("a valid literal")
}

async fn bind(tls: Option<TlsServerConfig>) -> Result<StreamSocketListener, String> {
    let mut control = StreamSocketListener::builder();
    if let Some(config) = tls {
        control = control.tls_server_config(config);
    }
    control
        .bind_endpoint(Some(&loopback()), 0)
        .await
        .map_err(|e| e.to_string())
}

/// Tells the parent the port, then serves with `handler` until `stop`.
async fn serve_until<H, F>(
    listener: StreamSocketListener,
    handler: H,
    max_connections: usize,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) where
    H: Fn(StreamSocket) -> F + Send + Sync + 'static,
    F: std::future::Future<Output = sock::Result<()>> + Send + 'static,
{
    announce(listener.information().local_port);
    listener
        .serve(handler)
        .max_connections(max_connections)
        .with_graceful_shutdown(stop)
        .shutdown_timeout(Duration::from_secs(1))
        .await;
}

fn announce(port: u16) {
    println!("PORT {port}");
}

/// The length-prefixed echo of the docs.
async fn echo_frames(socket: StreamSocket) -> sock::Result<()> {
    let mut frames = socket.framed(LengthPrefixedCodec::new());
    while let Some(frame) = frames.next().await {
        frames.send(frame?).await?;
    }
    Ok(())
}

/// The WebSocket echo of the docs: each message sent back as it came. A
/// failed upgrade or connection ends the handler; it is the peer's.
async fn echo_websocket(socket: StreamSocket) -> sock::Result<()> {
    let Ok(mut ws) = ServerWebSocketControl::new().accept(socket).await else {
        return Ok(());
    };
    while let Some(Ok(message)) = ws.next().await {
        if ws.send(message).await.is_err() {
            break;
        }
    }
    Ok(())
}

/// The line echo of the docs.
async fn echo_lines(socket: StreamSocket) -> sock::Result<()> {
    let mut lines = socket.framed(LineCodec::new());
    while let Some(line) = lines.next().await {
        lines.send(line?).await?;
    }
    Ok(())
}
