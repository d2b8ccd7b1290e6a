//! The UWP sockets guide's StreamSocket and StreamSocketListener page: a TCP
//! echo server and client.
//!
//! ```text
//! cargo run --example tcp-echo
//! cargo run --example tcp-echo -- --framing length
//! cargo run --example tcp-echo -- --serve 127.0.0.1:1337
//! cargo run --example tcp-echo -- --connect 127.0.0.1:1337 --message "Hello, World!"
//! ```
//!
//! With no arguments, a listener on port 1337 (or, if that port is taken, one
//! the system picks) and a client run in this one process and tell the guide's
//! story. `--framing lines` (the default) frames each message as a line, as
//! the guide's C# sample does with `StreamReader.ReadLine`; `--framing length`
//! prefixes it with its 4-byte big-endian length, as the C++ sample does with
//! `DataWriter.WriteUInt32`. Both sides must use the same framing.
//!
//! `--serve ADDR:PORT` serves until Ctrl-C: each connection echoes every
//! message until the peer closes. `--connect ADDR:PORT --message TEXT` sends
//! one message, prints the reply on stdout and exits 0; on failure it prints
//! the error with its status and exits 1. IPv6 addresses go in brackets:
//! `[::1]:1337`.

use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use sock_codec::{Framed, LengthPrefixedCodec, LineCodec};
use sock_core::{Error, HostName, SocketErrorStatus};
use sock_examples::{describe, fail, Args, Failure};
use sock_tcp::{StreamSocket, StreamSocketListener};

/// The guide's port: "an arbitrary port number".
const PORT: &str = "1337";
/// How long the client waits for the server at any step.
const WAIT: Duration = Duration::from_secs(10);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::parse(&[]) {
        Ok(args) => args,
        Err(e) => return usage(&e),
    };
    let framing = match args.get("framing") {
        None | Some("lines") => Framing::Lines,
        Some("length") => Framing::Length,
        Some(other) => return usage(&format!("unknown framing {other:?}: use lines or length")),
    };
    let result = match (args.get("serve"), args.get("connect"), args.get("message")) {
        (None, None, None) => story(framing).await,
        (Some(addr), None, None) => serve(addr, framing).await,
        (None, Some(addr), Some(message)) => connect(addr, message, framing).await,
        (None, Some(_), None) => return usage("--connect needs --message TEXT"),
        _ => return usage("give --serve ADDR:PORT, or --connect ADDR:PORT --message TEXT"),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err((who, err)) => {
            eprintln!("[{who}] {}", describe(&err));
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("tcp-echo: {problem}");
    eprintln!(
        "usage: tcp-echo [--framing lines|length] \
         [--serve ADDR:PORT | --connect ADDR:PORT --message TEXT]"
    );
    ExitCode::from(2)
}

/// How messages are cut out of the byte stream.
#[derive(Debug, Clone, Copy)]
enum Framing {
    /// One message per line (the C# sample).
    Lines,
    /// A 4-byte big-endian length, then the message (the C++ sample).
    Length,
}

/// A socket with a framing on it: sends and receives whole messages.
enum Messages {
    Lines(Framed<StreamSocket, LineCodec>),
    Length(Framed<StreamSocket, LengthPrefixedCodec>),
}

impl Messages {
    fn new(socket: StreamSocket, framing: Framing) -> Self {
        match framing {
            Framing::Lines => Self::Lines(socket.framed(LineCodec::new())),
            Framing::Length => Self::Length(socket.framed(LengthPrefixedCodec::new())),
        }
    }

    async fn send(&mut self, message: Bytes) -> Result<(), Error> {
        match self {
            Self::Lines(lines) => {
                let text = std::str::from_utf8(&message)
                    .map_err(|_| Error::invalid_data("a line to send is not UTF-8"))?;
                lines.send(text).await
            }
            Self::Length(frames) => frames.send(message).await,
        }
    }

    /// The next message, or `None` when the peer has closed.
    async fn recv(&mut self) -> Result<Option<Bytes>, Error> {
        match self {
            Self::Lines(lines) => Ok(lines.next().await.transpose()?.map(Bytes::from)),
            Self::Length(frames) => frames.next().await.transpose(),
        }
    }

    /// Closes gracefully: the peer sees the end of the stream.
    async fn close(self) -> Result<(), Error> {
        let socket = match self {
            Self::Lines(f) => StreamSocket::from_framed(f).await?,
            Self::Length(f) => StreamSocket::from_framed(f).await?,
        };
        socket.close().await
    }
}

/// What a peer sent, escaped for printing.
fn text(message: &[u8]) -> String {
    sock_examples::shown(message)
}

/// Splits `host:port` (`[v6]:port` for IPv6).
fn split_endpoint(endpoint: &str) -> Result<(HostName, String), Error> {
    let (host, port) = endpoint.rsplit_once(':').ok_or_else(|| {
        Error::invalid_host_name(endpoint, "needs a port after ':' (ADDR:PORT, [IPv6]:PORT)")
    })?;
    Ok((HostName::new(host)?, port.to_owned()))
}

async fn within<T>(
    who: &'static str,
    operation: &'static str,
    fut: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(WAIT, fut).await {
        Ok(result) => result.map_err(fail(who)),
        Err(_) => Err((
            who,
            Error::TimedOut {
                operation,
                after: WAIT,
            },
        )),
    }
}

/// The guide's page: server and client in one process.
async fn story(framing: Framing) -> Result<(), Failure> {
    // Start listening for incoming TCP connections on the guide's port.
    let listener = match StreamSocketListener::bind_service_name(PORT).await {
        Ok(listener) => listener,
        Err(e) if e.status() == SocketErrorStatus::AddressAlreadyInUse => {
            println!(
                "[server] port {PORT} is taken ({}); letting the system pick one",
                e.status()
            );
            StreamSocketListener::bind_service_name("")
                .await
                .map_err(fail("server"))?
        }
        Err(e) => return Err(("server", e)),
    };
    let port = listener.information().local_port;
    println!("[server] server is listening...");

    let server = tokio::spawn(async move {
        let socket = within("server", "accept", listener.accept()).await?;
        // Closing the listener stops listening; the accepted socket lives on.
        drop(listener);
        let mut messages = Messages::new(socket, framing);
        let request = within("server", "read", messages.recv())
            .await?
            .ok_or_else(|| {
                (
                    "server",
                    Error::UnexpectedEof {
                        context: "before the request".into(),
                    },
                )
            })?;
        println!(
            "[server] server received the request: \"{}\"",
            text(&request)
        );
        // Echo the request back as the response.
        within("server", "write", messages.send(request.clone())).await?;
        println!(
            "[server] server sent back the response: \"{}\"",
            text(&request)
        );
        within("server", "close", messages.close()).await?;
        println!("[server] server closed its socket");
        Ok::<(), Failure>(())
    });

    // The server host name that we will be establishing a connection to. In
    // this example, the server and client are in the same process.
    let host = HostName::new("localhost").map_err(fail("client"))?;
    println!("[client] client is trying to connect...");
    let socket = StreamSocket::connect(&host, port)
        .await
        .map_err(fail("client"))?;
    println!("[client] client connected");

    let mut messages = Messages::new(socket, framing);
    let request = "Hello, World!";
    within(
        "client",
        "write",
        messages.send(Bytes::from_static(request.as_bytes())),
    )
    .await?;
    println!("[client] client sent the request: \"{request}\"");

    let response = within("client", "read", messages.recv())
        .await?
        .ok_or_else(|| {
            (
                "client",
                Error::UnexpectedEof {
                    context: "before the response".into(),
                },
            )
        })?;
    println!(
        "[client] client received the response: \"{}\"",
        text(&response)
    );
    within("client", "close", messages.close()).await?;
    println!("[client] client closed its socket");

    match server.await {
        Ok(result) => result,
        Err(e) => Err(("server", Error::Io(std::io::Error::other(e)))),
    }
}

/// `--serve ADDR:PORT`: every connection echoes each message until the peer
/// closes; Ctrl-C stops the server after the running connections finish.
async fn serve(endpoint: &str, framing: Framing) -> Result<(), Failure> {
    let (host, port) = split_endpoint(endpoint).map_err(fail("server"))?;
    let listener = StreamSocketListener::bind_endpoint(Some(&host), port.as_str())
        .await
        .map_err(fail("server"))?;
    println!(
        "[server] server is listening on {} (Ctrl-C stops it)...",
        listener.local_addr()
    );
    let report = listener
        .serve(move |socket| async move {
            let peer = socket.peer_addr();
            let mut messages = Messages::new(socket, framing);
            let result = async {
                while let Some(request) = messages.recv().await? {
                    println!(
                        "[server] server received the request: \"{}\" from {peer}",
                        text(&request)
                    );
                    messages.send(request.clone()).await?;
                    println!(
                        "[server] server sent back the response: \"{}\"",
                        text(&request)
                    );
                }
                messages.close().await
            }
            .await;
            match &result {
                Ok(()) => println!("[server] server closed its socket to {peer}"),
                Err(e) => println!("[server] connection from {peer} ended: {}", describe(e)),
            }
            result
        })
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

/// `--connect ADDR:PORT --message TEXT`: one request, its response on stdout.
async fn connect(endpoint: &str, message: &str, framing: Framing) -> Result<(), Failure> {
    let (host, port) = split_endpoint(endpoint).map_err(fail("client"))?;
    eprintln!("[client] client is trying to connect...");
    let socket = StreamSocket::builder()
        .connect_timeout(WAIT)
        .idle_timeout(Some(WAIT))
        .connect(&host, port.as_str())
        .await
        .map_err(fail("client"))?;
    eprintln!("[client] client connected to {}", socket.peer_addr());
    let mut messages = Messages::new(socket, framing);
    messages
        .send(Bytes::copy_from_slice(message.as_bytes()))
        .await
        .map_err(fail("client"))?;
    eprintln!("[client] client sent the request: \"{message}\"");
    let response = messages
        .recv()
        .await
        .map_err(fail("client"))?
        .ok_or_else(|| {
            (
                "client",
                Error::UnexpectedEof {
                    context: "before the response".into(),
                },
            )
        })?;
    println!("{}", text(&response));
    messages.close().await.map_err(fail("client"))?;
    eprintln!("[client] client closed its socket");
    Ok(())
}
