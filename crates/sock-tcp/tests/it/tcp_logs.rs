//! Logs through `tracing`: connect attempts, failed handlers with their
//! peer and status inside a per-connection span, and peer-controlled text
//! escaped.

#![cfg(feature = "tracing")]

use crate::support;

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

use sock_tcp::StreamSocket;
use support::{refused_addr, v4, within};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tracing_subscriber::fmt::MakeWriter;

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Self;
    fn make_writer(&'a self) -> Self {
        self.clone()
    }
}

/// A subscriber for this thread (the test's runtime is single-threaded, so
/// every task of the test logs through it).
fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(captured.clone())
        .finish();
    let guard = tracing::subscriber::set_default(subscriber);
    (captured, guard)
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_connect_logs_the_attempt_and_its_status() {
    let (logs, _guard) = capture();
    let addr = refused_addr().await;
    let _ = StreamSocket::connect(&v4(), addr.port()).await.unwrap_err();
    let text = logs.text();
    assert!(text.contains("connect attempt"), "{text}");
    assert!(text.contains(&addr.to_string()), "{text}");
    assert!(text.contains("ConnectionRefused"), "{text}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_failed_handler_is_logged_in_its_connection_span_with_the_text_escaped() {
    let (logs, _guard) = capture();
    let listener = support::listener().await;
    let port = listener.information().local_port;
    let (stop, stopped) = oneshot::channel::<()>();
    let (done_tx, mut done) = mpsc::unbounded_channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(|mut socket: StreamSocket| async move {
                let mut buf = [0u8; 64];
                let n = socket.read(&mut buf).await?;
                // The error quotes what the peer sent, as parsers do.
                let said = String::from_utf8_lossy(&buf[..n]).into_owned();
                Err::<(), _>(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad request {said}"),
                ))
            })
            .on_handler_error(move |_| {
                let _ = done_tx.send(());
            })
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            }),
    );
    let mut client = StreamSocket::connect(&v4(), port).await.unwrap();
    let peer = client.local_addr();
    client
        .write_all(b"evil\n2026-01-01 ERROR forged line\x1b[31m")
        .await
        .unwrap();
    within(done.recv()).await.unwrap();
    stop.send(()).unwrap();
    within(server).await.unwrap();

    let text = logs.text();
    let line = text
        .lines()
        .find(|l| l.contains("connection handler failed"))
        .unwrap_or_else(|| panic!("no handler failure logged:\n{text}"));
    assert!(line.contains("WARN"), "{line}");
    assert!(line.contains(&format!("connection{{peer={peer}")), "{line}");
    assert!(line.contains("status=Unknown"), "{line}");
    assert!(line.contains(r"evil\n2026-01-01"), "{line}");
    // The peer's newline and escape byte did not make a line of their own.
    assert!(!text.lines().any(|l| l.starts_with("2026-01-01")), "{text}");
    assert!(!text.contains('\x1b'), "{text}");
    assert!(text.contains("shutting down"), "{text}");
}
