//! The UWP sockets guide's "handling exceptions": every failure carries a
//! `SocketErrorStatus` (UWP: `SocketError.GetStatus(hresult)`) that a program
//! can branch on, and a host name typed by a user is checked when it is made.
//!
//! ```text
//! cargo run --example error-status
//! cargo run --example error-status -- --host some.name.example
//! ```
//!
//! With no arguments it shows four failures on this machine and prints each
//! one's status, as the guide does (the status name, or the message when the
//! status is `Unknown`):
//!
//! 1. an invalid host name typed by a user (`"my server"`): refused by
//!    `HostName::new` before any traffic, status `Unknown`, with a message
//!    saying what is wrong;
//! 2. a refused connection (a loopback port where nobody listens):
//!    `ConnectionRefused`;
//! 3. an unknown host: `HostNotFound`. To stay off the network, this case
//!    resolves through a resolver that answers only from a small local table
//!    and fails the way the system resolver does for unknown names; a name
//!    under `.invalid` would still send a DNS query to the configured DNS
//!    server, which is not on this machine. `--host NAME` resolves NAME with
//!    the system resolver instead (which may ask your DNS server);
//! 4. a port already in use (a second listener on the same port):
//!    `AddressAlreadyInUse`.
//!
//! It exits 0 when every case gave its expected status, 1 otherwise.

use std::io;
use std::net::SocketAddr;
use std::process::ExitCode;

use sock_core::{Error, HostName, Report, SocketErrorStatus};
use sock_examples::Args;
use sock_tcp::{StreamSocket, StreamSocketListener};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::parse(&[]) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("error-status: {e}");
            eprintln!("usage: error-status [--host NAME]");
            return ExitCode::from(2);
        }
    };
    let mut all_as_expected = true;
    for (case, expected, outcome) in [
        (
            "a host name typed by a user: \"my server\"",
            SocketErrorStatus::Unknown,
            invalid_host_name(),
        ),
        (
            "connecting to a loopback port where nobody listens",
            SocketErrorStatus::ConnectionRefused,
            refused().await,
        ),
        (
            "connecting to a host that does not exist",
            SocketErrorStatus::HostNotFound,
            unknown_host(args.get("host")).await,
        ),
        (
            "listening on a port that is already in use",
            SocketErrorStatus::AddressAlreadyInUse,
            port_in_use().await,
        ),
    ] {
        println!("{case}...");
        match outcome {
            Ok(()) => {
                println!("  succeeded (expected {expected})");
                all_as_expected = false;
            }
            Err(err) => {
                let status = err.status();
                // As the guide prints it: the status, or the message if Unknown.
                let shown = if status == SocketErrorStatus::Unknown {
                    Report(&err).to_string()
                } else {
                    status.to_string()
                };
                println!("  {shown}");
                println!(
                    "  status {status} ({}), transient: {}",
                    status.code(),
                    err.is_transient()
                );
                if status != SocketErrorStatus::Unknown {
                    println!("  message: {}", Report(&err));
                }
                if status != expected {
                    println!("  expected {expected}");
                    all_as_expected = false;
                }
            }
        }
    }
    if all_as_expected {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn invalid_host_name() -> Result<(), Error> {
    // Construct a HostName from what the user typed, inside the error check:
    // if it is refused, ask the user for another.
    HostName::new("my server").map(drop)
}

async fn refused() -> Result<(), Error> {
    // Learn a free port by binding it, then stop listening there.
    let listener =
        StreamSocketListener::bind_endpoint(Some(&HostName::new("127.0.0.1")?), "").await?;
    let port = listener.information().local_port;
    drop(listener);
    StreamSocket::connect(&HostName::new("127.0.0.1")?, port)
        .await
        .map(drop)
}

/// Answers from a local table, and otherwise as the system resolver does for
/// a name nobody knows; no query leaves the machine.
fn local_table(host: &HostName, port: u16) -> io::Result<Vec<SocketAddr>> {
    match host.canonical_name() {
        "echo.local-table" => Ok(vec![SocketAddr::from(([127, 0, 0, 1], port))]),
        _ => Err(io::Error::other(
            "failed to lookup address information: Name or service not known",
        )),
    }
}

async fn unknown_host(system_lookup_of: Option<&str>) -> Result<(), Error> {
    match system_lookup_of {
        Some(name) => StreamSocket::connect(&HostName::new(name)?, 80)
            .await
            .map(drop),
        None => StreamSocket::builder()
            .resolver(local_table)
            .connect(&HostName::new("no-such-host.example")?, 80)
            .await
            .map(drop),
    }
}

async fn port_in_use() -> Result<(), Error> {
    let first = StreamSocketListener::bind_service_name("").await?;
    let port = first.information().local_port;
    let second = StreamSocketListener::bind_service_name(port).await?;
    drop((first, second));
    Ok(())
}
