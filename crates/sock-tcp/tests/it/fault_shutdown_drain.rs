//! A graceful shutdown in the middle of pipelined traffic: `serve` stops
//! accepting, but every reply to a request sent before the shutdown reaches
//! its client, whole and in order, before the connection closes, even through
//! a slow path (the proxy adds latency to every reply).

use crate::faults;
use crate::support;

use std::future::IntoFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use faults::{Fault, Proxy};
use futures::{SinkExt, StreamExt};
use sock_codec::{FrameReader, FrameWriter};
use sock_core::SocketErrorStatus as S;
use sock_tcp::StreamSocket;
use support::{listener, v4, within};
use tokio::sync::{oneshot, Notify};

const CLIENTS: usize = 10;
const REQUESTS: u32 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_mid_stream_delivers_every_in_flight_reply() {
    let listener = listener().await;
    let addr = listener.local_addr();
    let started = Arc::new(AtomicUsize::new(0));
    let all_started = Arc::new(Notify::new());
    let (stop, stopped) = oneshot::channel::<()>();
    let (s, all) = (Arc::clone(&started), Arc::clone(&all_started));
    let server = tokio::spawn(
        listener
            .serve(move |socket: StreamSocket| {
                if s.fetch_add(1, Ordering::SeqCst) + 1 == CLIENTS {
                    all.notify_one();
                }
                async move {
                    // A slow service: every reply takes 10 ms of work.
                    let (input, output) = socket.into_split();
                    let mut requests = FrameReader::new(input);
                    let mut replies = FrameWriter::new(output);
                    while let Some(request) = requests.next().await {
                        let request = request?;
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        replies.send(request).await?;
                    }
                    replies.close().await
                }
            })
            .shutdown_timeout(Duration::from_secs(8))
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .into_future(),
    );
    // Every reply spends 100 ms on the way back.
    let proxy = Proxy::start(addr, Fault::Pass, Fault::Delay(Duration::from_millis(100))).await;

    let mut clients = Vec::new();
    let mut all_sent = Vec::new();
    for c in 0..CLIENTS {
        let port = proxy.port();
        let (sent_tx, sent) = oneshot::channel::<()>();
        all_sent.push(sent);
        clients.push(tokio::spawn(async move {
            let socket = StreamSocket::connect(&v4(), port).await.unwrap();
            let (input, output) = socket.into_split();
            let mut replies = FrameReader::new(input);
            let mut requests = FrameWriter::new(output);
            for i in 0..REQUESTS {
                let body = format!("client {c} request {i}");
                requests.feed(Bytes::from(body)).await.unwrap();
            }
            requests.flush().await.unwrap();
            sent_tx.send(()).unwrap();
            // Read every reply, then say goodbye.
            for i in 0..REQUESTS {
                let reply = within(replies.next()).await.unwrap().unwrap();
                assert_eq!(reply, format!("client {c} request {i}").as_bytes());
            }
            requests.close().await.unwrap();
            assert!(within(replies.next()).await.is_none(), "a reply too many");
        }));
    }
    for sent in all_sent {
        within(sent).await.unwrap();
    }
    within(all_started.notified()).await;
    // Shut down while the replies are being worked on and on their way.
    stop.send(()).unwrap();
    within(async {
        loop {
            match StreamSocket::connect(&v4(), addr.port()).await {
                Err(e) if e.status() == S::ConnectionRefused => break,
                _ => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
    .await;
    for client in clients {
        within(client).await.unwrap();
    }
    let report = within(server).await.unwrap();
    assert_eq!(report.completed, CLIENTS as u64, "{report:?}");
    assert_eq!(report.failed + report.aborted + report.panicked, 0);
}
