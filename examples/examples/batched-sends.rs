//! The UWP sockets guide's "batched sends": sending many buffers one write at
//! a time costs a kernel transition per buffer; sending them as one batch
//! (UWP: `WriteAsync` × n, then `FlushAsync`) costs a few.
//!
//! ```text
//! cargo run --example batched-sends
//! cargo run --release --example batched-sends -- --count 100000
//! ```
//!
//! A listener on port 1337 (or, if that port is taken, one the system picks)
//! counts what arrives. The client sends `--count` buffers (10000 by default)
//! of "Hello, World!" twice, on a connection each: first one `write_all` per
//! buffer (the guide's `SendMultipleBuffersInefficiently`), then with one
//! `OutputStream::write_batch`, which hands many buffers to the kernel per
//! system call (vectored writes) and completes only when every buffer is
//! written, as the guide's `FlushAsync` does. It prints both times and their
//! ratio; the server confirms every byte arrived each time.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sock_core::{Error, HostName, SocketErrorStatus};
use sock_examples::{describe, Args};
use sock_tcp::{StreamSocket, StreamSocketListener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const PORT: &str = "1337";
const MESSAGE: &str = "Hello, World!";
const WAIT: Duration = Duration::from_secs(30);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match Args::parse(&[]) {
        Ok(args) => args,
        Err(e) => return usage(&e),
    };
    let count = match args.get("count").map(str::parse::<usize>) {
        None => 10_000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => return usage("--count takes a whole number of buffers, at least 1"),
    };
    match tokio::time::timeout(WAIT, run(count)).await {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("batched-sends: {}", describe(&e));
            ExitCode::FAILURE
        }
        Err(_) => {
            eprintln!("batched-sends: gave up after {WAIT:?}");
            ExitCode::FAILURE
        }
    }
}

fn usage(problem: &str) -> ExitCode {
    eprintln!("batched-sends: {problem}");
    eprintln!("usage: batched-sends [--count BUFFERS]");
    ExitCode::from(2)
}

async fn run(count: usize) -> Result<(), Error> {
    let listener = match StreamSocketListener::bind_service_name(PORT).await {
        Ok(listener) => listener,
        Err(e) if e.status() == SocketErrorStatus::AddressAlreadyInUse => {
            println!("[server] port {PORT} is taken; letting the system pick one");
            StreamSocketListener::bind_service_name("").await?
        }
        Err(e) => return Err(e),
    };
    let port = listener.information().local_port;
    println!("[server] server is listening...");

    // The server reads each connection to its end and reports what arrived.
    let expected = count * MESSAGE.len();
    let server = tokio::spawn(async move {
        for round in ["one write per buffer", "batched"] {
            let mut socket = listener.accept().await?;
            let mut total = 0usize;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let n = socket.read(&mut buf).await?;
                if n == 0 {
                    break;
                }
                total += n;
            }
            println!("[server] server received {total} bytes ({round})");
            if total != expected {
                return Err(Error::invalid_data(format!(
                    "{round}: expected {expected} bytes, got {total}"
                )));
            }
            socket.close().await?;
        }
        Ok::<(), Error>(())
    });

    let host = HostName::new("localhost")?;
    let packets: Vec<Bytes> = (0..count)
        .map(|_| Bytes::from_static(MESSAGE.as_bytes()))
        .collect();

    // This implementation incurs kernel transition overhead for each packet written.
    let mut socket = StreamSocket::connect(&host, port).await?;
    let started = Instant::now();
    for packet in &packets {
        socket.write_all(packet).await?;
    }
    let one_by_one = started.elapsed();
    println!("[client] one write per buffer: {count} buffers sent in {one_by_one:?}");
    socket.close().await?;

    // Batched: many buffers per system call; done only when all are written.
    let socket = StreamSocket::connect(&host, port).await?;
    let (_input, mut output) = socket.into_split();
    let started = Instant::now();
    output.write_batch(&packets).await?;
    let batched = started.elapsed();
    println!("[client] batched:              {count} buffers sent in {batched:?}");
    drop(output); // the owned output stream ends the stream for the server

    server
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))??;
    let ratio = one_by_one.as_secs_f64() / batched.as_secs_f64().max(1e-9);
    println!("[client] batched sends took {ratio:.1}x less time than one write per buffer");
    Ok(())
}
