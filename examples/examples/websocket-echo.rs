//! The MessageWebSocket echo story: a WebSocket server and client on
//! loopback exchange a UTF-8 message, then close cleanly with a code and a
//! reason.
//!
//! ```text
//! cargo run --example websocket-echo
//! cargo run --example websocket-echo -- --serve 127.0.0.1:1337
//! cargo run --example websocket-echo -- --connect ws://127.0.0.1:1337/echo --message "Hello, World!"
//! ```
//!
//! With no arguments, a server on a port the system picks and a client run
//! in this one process and tell the story: the client connects to
//! `ws://127.0.0.1:PORT/echo` offering the subprotocol `echo.v1`, sends
//! "Hello, World!" as a Utf8 message, reads the echo, and closes with code
//! 1000 and the reason "done"; the server prints the close it received.
//!
//! `--serve ADDR:PORT` serves until Ctrl-C: each WebSocket on `/echo` echoes
//! every message until the peer closes; other paths are refused with 404.
//! `--connect URI --message TEXT` sends one message to any WebSocket server
//! (`ws://` or `wss://`), prints the reply on stdout and exits 0; on failure
//! it prints the error with its statuses and exits 1.

use std::process::ExitCode;
use std::time::Duration;

use futures::StreamExt;
use sock_core::{Error, HostName};
use sock_examples::{describe, fail, shown, Args, Failure};
use sock_tcp::StreamSocketListener;
use sock_websocket::{
    CloseCode, Decision, Message, MessageType, MessageWebSocket, ServerWebSocketControl,
    UpgradeRequest, WebSocketError,
};

/// How long the client waits for the server at any step.
const WAIT: Duration = Duration::from_secs(10);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::parse(&[]) {
        Ok(args) => args,
        Err(e) => return usage(&e),
    };
    let result = match (args.get("serve"), args.get("connect"), args.get("message")) {
        (None, None, None) => story().await,
        (Some(addr), None, None) => serve(addr).await,
        (None, Some(uri), Some(message)) => connect(uri, message).await,
        (None, Some(_), None) => return usage("--connect needs --message TEXT"),
        _ => return usage("give --serve ADDR:PORT, or --connect URI --message TEXT"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((who, err)) => {
            eprintln!("[{who}] {}", explain(&err));
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("websocket-echo: {problem}");
    eprintln!("usage: websocket-echo [--serve ADDR:PORT | --connect URI --message TEXT]");
    ExitCode::from(2)
}

/// A WebSocket failure as the guide prints one: the web status, then the
/// socket status and message.
fn explain(err: &WebSocketError) -> String {
    match err {
        WebSocketError::Socket(e) => describe(e),
        other => format!("{} ({}): {other}", other.web_status(), other.status()),
    }
}

/// A WebSocket error tagged with who had it.
type WsFailure = (&'static str, WebSocketError);

fn ws_fail(who: &'static str) -> impl FnOnce(WebSocketError) -> WsFailure {
    move |err| (who, err)
}

fn from_sock((who, err): Failure) -> WsFailure {
    (who, err.into())
}

async fn within<T>(
    who: &'static str,
    operation: &'static str,
    fut: impl std::future::Future<Output = Result<T, WebSocketError>>,
) -> Result<T, WsFailure> {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(result) => result.map_err(ws_fail(who)),
        Err(_) => Err((
            who,
            WebSocketError::TimedOut {
                operation,
                after: WAIT,
            },
        )),
    }
}

/// Only `/echo` is served.
fn decide(request: &UpgradeRequest) -> Decision {
    if request.path() == "/echo" {
        Decision::accept()
    } else {
        Decision::reject(404)
    }
}

fn server_control() -> ServerWebSocketControl {
    ServerWebSocketControl::new()
        .supported_protocols(["echo.v1"])
        .message_type(MessageType::Utf8)
}

/// Echoes every message until the peer closes; gives the peer's close.
async fn echo(mut ws: MessageWebSocket) -> Result<(), WebSocketError> {
    let peer = ws.information().remote_address;
    while let Some(message) = ws.next().await.transpose()? {
        println!(
            "[server] server received the message: \"{}\" from {peer}",
            shown(message.data())
        );
        ws.send(message).await?;
    }
    match ws.close_frame() {
        Some(close) => println!("[server] the client closed the websocket: {close}"),
        None => println!("[server] the connection to {peer} ended"),
    }
    Ok(())
}

/// The story: server and client in one process.
async fn story() -> Result<(), WsFailure> {
    let listener = StreamSocketListener::bind_endpoint(Some(&loopback()), "")
        .await
        .map_err(fail("server"))
        .map_err(from_sock)?;
    let port = listener.information().local_port;
    println!("[server] server is listening...");

    let server = tokio::spawn(async move {
        let socket = listener.accept().await.map_err(WebSocketError::from)?;
        let ws = server_control().accept_with(socket, decide).await?;
        println!(
            "[server] server accepted a websocket for {} (subprotocol {:?})",
            ws.information().resource,
            ws.information().protocol
        );
        echo(ws).await
    });

    let uri = format!("ws://127.0.0.1:{port}/echo");
    println!("[client] client is connecting to {uri}...");
    let mut ws = within(
        "client",
        "connect",
        MessageWebSocket::builder()
            .message_type(MessageType::Utf8)
            .supported_protocols(["echo.v1"])
            .connect(&uri),
    )
    .await?;
    println!(
        "[client] client connected (subprotocol {:?})",
        ws.information().protocol
    );

    let request = "Hello, World!";
    within("client", "send", ws.send(Message::text(request))).await?;
    println!("[client] client sent the message: \"{request}\"");
    let response = within("client", "receive", async { ws.next().await.transpose() })
        .await?
        .ok_or(("client", WebSocketError::AbnormalClosure))?;
    println!(
        "[client] client received the message: \"{}\"",
        shown(response.data())
    );

    let peer = within("client", "close", ws.close(CloseCode::NORMAL, "done")).await?;
    println!("[client] client closed the websocket; the server answered {peer}");

    match server.await {
        Ok(result) => result.map_err(ws_fail("server")),
        Err(e) => Err(("server", Error::Io(std::io::Error::other(e)).into())),
    }
}

fn loopback() -> HostName {
    HostName::new("127.0.0.1").expect("a valid literal")
}

/// `--serve ADDR:PORT`: a WebSocket echo server until Ctrl-C.
async fn serve(endpoint: &str) -> Result<(), WsFailure> {
    let (host, port) = endpoint.rsplit_once(':').ok_or_else(|| {
        (
            "server",
            Error::invalid_host_name(endpoint, "needs ADDR:PORT").into(),
        )
    })?;
    let host = HostName::new(host.trim_start_matches('[').trim_end_matches(']'))
        .map_err(|e| ("server", e.into()))?;
    let listener = StreamSocketListener::bind_endpoint(Some(&host), port)
        .await
        .map_err(|e| ("server", e.into()))?;
    println!(
        "[server] server is listening on ws://{}/echo (Ctrl-C stops it)...",
        listener.local_addr()
    );
    let report = server_control()
        .serve_with(listener, decide, echo)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .shutdown_timeout(Duration::from_secs(5))
        .await;
    println!(
        "[server] server stopped after {} connections ({} ended with an error)",
        report.accepted, report.failed
    );
    Ok(())
}

/// `--connect URI --message TEXT`: one message, its reply on stdout.
async fn connect(uri: &str, message: &str) -> Result<(), WsFailure> {
    eprintln!("[client] client is connecting to {uri}...");
    let mut ws = within(
        "client",
        "connect",
        MessageWebSocket::builder()
            .connect_timeout(WAIT)
            .message_type(MessageType::Utf8)
            .connect(uri),
    )
    .await?;
    within("client", "send", ws.send(Message::text(message))).await?;
    let reply = within("client", "receive", async { ws.next().await.transpose() })
        .await?
        .ok_or(("client", WebSocketError::AbnormalClosure))?;
    println!("{}", shown(reply.data()));
    within("client", "close", ws.close(CloseCode::NORMAL, "done")).await?;
    eprintln!("[client] client closed the websocket");
    Ok(())
}
