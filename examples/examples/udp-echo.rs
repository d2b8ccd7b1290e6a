//! The UWP sockets guide's DatagramSocket page: a UDP echo server and client.
//!
//! ```text
//! cargo run --example udp-echo
//! cargo run --example udp-echo -- --serve 127.0.0.1:1337
//! cargo run --example udp-echo -- --connect 127.0.0.1:1337 --message "Hello, World!"
//! ```
//!
//! With no arguments, a server bound to port 1337 and a client bound to port
//! 1336 run in this one process and tell the guide's story. `--serve ADDR:PORT`
//! echoes every datagram back to its sender until stopped (Ctrl-C).
//! `--connect ADDR:PORT --message TEXT` sends one datagram, prints the reply
//! and exits 0; on a timeout (`--timeout SECONDS`, default 5) or an error it
//! prints the status and exits 1. IPv6 addresses go in brackets: `[::1]:1337`.

use std::process::ExitCode;
use std::time::Duration;

use sock_codec::DataWriter;
use sock_core::{Error, HostName};
use sock_examples::{describe, fail, Args, Failure};
use sock_udp::{DatagramMessage, DatagramSocket};

const SERVER_PORT: &str = "1337";
const CLIENT_PORT: &str = "1336";
const WAIT: Duration = Duration::from_secs(5);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::parse(&[]) {
        Ok(args) => args,
        Err(e) => return usage(&e),
    };
    let result = match (args.get("serve"), args.get("connect")) {
        (Some(addr), None) => serve(addr).await,
        (None, Some(addr)) => {
            let Some(message) = args.get("message") else {
                return usage("--connect needs --message TEXT");
            };
            let wait = match args.get("timeout").map(str::parse::<u64>) {
                None => WAIT,
                Some(Ok(secs)) => Duration::from_secs(secs),
                Some(Err(_)) => return usage("--timeout takes a whole number of seconds"),
            };
            connect(addr, message, wait).await
        }
        (None, None) => story().await,
        (Some(_), Some(_)) => return usage("give --serve or --connect, not both"),
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
    eprintln!("udp-echo: {problem}");
    eprintln!("usage: udp-echo [--serve ADDR:PORT | --connect ADDR:PORT --message TEXT [--timeout SECONDS]]");
    ExitCode::from(2)
}

/// Splits `host:port` (`[v6]:port` for IPv6).
fn split_endpoint(text: &str) -> Result<(HostName, String), Error> {
    let (host, port) = text.rsplit_once(':').ok_or_else(|| {
        Error::invalid_host_name(text, "needs a port after ':' (ADDR:PORT, [IPv6]:PORT)")
    })?;
    Ok((HostName::new(host)?, port.to_owned()))
}

/// The request text, as the guide reads it: the whole datagram, trimmed.
fn text_of(msg: &DatagramMessage) -> String {
    let mut reader = msg.data_reader();
    let len = reader.unconsumed_buffer_length();
    // Escaped: the text comes from whoever sent the datagram.
    match reader.read_string(len) {
        Ok(text) => sock_examples::shown(text.trim().as_bytes()),
        Err(_) => sock_examples::shown(msg.data.trim_ascii()),
    }
}

async fn within<T>(
    who: &'static str,
    operation: &'static str,
    wait: Duration,
    fut: impl std::future::Future<Output = Result<T, Error>>,
) -> Result<T, Failure> {
    match tokio::time::timeout(wait, fut).await {
        Ok(result) => result.map_err(fail(who)),
        Err(_) => Err((
            who,
            Error::TimedOut {
                operation,
                after: wait,
            },
        )),
    }
}

/// Sends `text` to `msg`'s sender through an output stream and a DataWriter:
/// one `store`, one datagram.
async fn reply(socket: &DatagramSocket, msg: &DatagramMessage, text: &str) -> Result<(), Error> {
    let out = socket
        .output_stream(&msg.remote_address, msg.remote_port)
        .await?;
    let mut writer = DataWriter::new(out);
    writer.write_string(text);
    writer.store().await?;
    Ok(())
}

/// The guide's page: server and client in one process.
async fn story() -> Result<(), Failure> {
    println!("[server] server is about to bind...");
    let server = DatagramSocket::bind_service_name(SERVER_PORT)
        .await
        .map_err(fail("server"))?;
    println!("[server] server is bound to port number {SERVER_PORT}");

    let server_task = tokio::spawn(async move {
        let msg = within("server", "receive", WAIT, server.recv()).await?;
        let request = text_of(&msg);
        println!("[server] server received the request: \"{request}\"");
        // Echo the request back as the response.
        reply(&server, &msg, &request)
            .await
            .map_err(fail("server"))?;
        println!("[server] server sent back the response: \"{request}\"");
        server.close();
        println!("[server] server closed its socket");
        Ok::<(), Failure>(())
    });

    println!("[client] client is about to bind...");
    let client = DatagramSocket::bind_service_name(CLIENT_PORT)
        .await
        .map_err(fail("client"))?;
    println!("[client] client is bound to port number {CLIENT_PORT}");

    // The server host name that we will send to. In this example, the server
    // and client are in the same process.
    let host = HostName::new("localhost").map_err(fail("client"))?;
    let request = "Hello, World!";
    let out = client
        .output_stream(&host, SERVER_PORT)
        .await
        .map_err(fail("client"))?;
    let mut writer = DataWriter::new(out);
    writer.write_string(request);
    writer.store().await.map_err(fail("client"))?;
    drop(writer);
    println!("[client] client sent the request: \"{request}\"");

    let msg = within("client", "receive", WAIT, client.recv()).await?;
    println!(
        "[client] client received the response: \"{}\"",
        text_of(&msg)
    );
    client.close();
    println!("[client] client closed its socket");

    match server_task.await {
        Ok(result) => result,
        Err(e) => Err(("server", Error::Io(std::io::Error::other(e)))),
    }
}

/// `--serve ADDR:PORT`: echo every datagram until Ctrl-C.
async fn serve(addr: &str) -> Result<(), Failure> {
    let (host, port) = split_endpoint(addr).map_err(fail("server"))?;
    println!("[server] server is about to bind...");
    let server = DatagramSocket::bind_endpoint(Some(&host), port.as_str())
        .await
        .map_err(fail("server"))?;
    println!(
        "[server] server is bound to port number {} (Ctrl-C stops it)",
        server.information().local_port
    );
    let echo = async {
        loop {
            let msg = match server.recv().await {
                Ok(msg) => msg,
                // A receive error does not end the server (and ICMP reports
                // never reach an unconnected socket's loop).
                Err(e) => {
                    eprintln!("[server] {}", describe(&e));
                    continue;
                }
            };
            let request = text_of(&msg);
            println!(
                "[server] server received the request: \"{request}\" from {}",
                msg.remote_addr()
            );
            // Echo the bytes exactly as they came.
            match server.send_to_addr(msg.remote_addr(), &msg.data).await {
                Ok(_) => println!("[server] server sent back the response: \"{request}\""),
                Err(e) => eprintln!("[server] {}", describe(&e)),
            }
        }
    };
    tokio::select! {
        () = echo => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    server.close();
    println!("[server] server closed its socket");
    Ok(())
}

/// `--connect ADDR:PORT --message TEXT`: one request, one response.
async fn connect(addr: &str, message: &str, wait: Duration) -> Result<(), Failure> {
    let (host, port) = split_endpoint(addr).map_err(fail("client"))?;
    // A connected socket hears only the server, and learns of a closed port
    // (ConnectionRefused) instead of waiting for the timeout.
    let client = DatagramSocket::connect(&host, port.as_str())
        .await
        .map_err(fail("client"))?;
    println!(
        "[client] client is bound to port number {}",
        client.information().local_port
    );
    client.send(message).await.map_err(fail("client"))?;
    println!("[client] client sent the request: \"{message}\"");
    let msg = within("client", "receive", wait, client.recv()).await?;
    println!(
        "[client] client received the response: \"{}\"",
        text_of(&msg)
    );
    client.close();
    println!("[client] client closed its socket");
    Ok(())
}
