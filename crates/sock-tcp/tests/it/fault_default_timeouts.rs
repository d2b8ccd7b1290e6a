//! Every wait has a limit by default: connecting (30 s), a served
//! connection's reads and writes (60 s), and the TLS handshake (10 s, pinned
//! in sock-tls's `tls_timeouts`). A served socket gets the default without
//! anyone asking for it.

use crate::support;

use std::future::IntoFuture;
use std::time::Duration;

use sock_tcp::{StreamSocket, DEFAULT_CONNECT_TIMEOUT, DEFAULT_SERVE_IDLE_TIMEOUT};
use support::{listener, v4, within};
use tokio::sync::{mpsc, oneshot};

#[test]
fn the_defaults_are_thirty_and_sixty_seconds() {
    assert_eq!(DEFAULT_CONNECT_TIMEOUT, Duration::from_secs(30));
    assert_eq!(DEFAULT_SERVE_IDLE_TIMEOUT, Duration::from_secs(60));
}

#[tokio::test]
async fn a_served_socket_has_the_default_idle_timeout_unless_told_otherwise() {
    let listener = listener().await;
    let port = listener.information().local_port;
    let (tx, mut timeouts) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(
        listener
            .serve(move |socket: StreamSocket| {
                let _ = tx.send(socket.idle_timeout());
                async {}
            })
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    let _client = within(StreamSocket::connect(&v4(), port)).await.unwrap();
    assert_eq!(
        within(timeouts.recv()).await.unwrap(),
        Some(DEFAULT_SERVE_IDLE_TIMEOUT)
    );
    stop.send(()).unwrap();
    within(server).await.unwrap();
}
