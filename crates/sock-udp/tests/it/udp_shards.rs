//! `bind_sharded`: UDP sockets sharing one port, each served on its own
//! thread; the kernel spreads senders over them.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::thread::ThreadId;

use sock_udp::DatagramSocket;
use tokio::net::UdpSocket;

use crate::support::{self, within};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shards_share_a_port_and_each_sender_is_answered() {
    let threads: Arc<Mutex<HashSet<ThreadId>>> = Arc::default();
    let seen = Arc::clone(&threads);
    let shards = within(
        "binding the shards",
        DatagramSocket::builder().bind_sharded(
            Some(&support::v4_loopback()),
            "",
            2,
            move |socket: DatagramSocket| {
                let seen = Arc::clone(&seen);
                async move {
                    while let Ok(msg) = socket.recv().await {
                        seen.lock().unwrap().insert(std::thread::current().id());
                        let _ = socket.send_to_addr(msg.remote_addr(), &msg.data).await;
                    }
                }
            },
        ),
    )
    .await
    .unwrap();
    assert_eq!(shards.shard_count(), 2);
    let addr = shards.local_addr();
    assert_ne!(addr.port(), 0);
    // Each sender (its own port) is one flow; 64 of them land on both shards.
    for n in 0u32..64 {
        let client = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        client.send_to(&n.to_be_bytes(), addr).await.unwrap();
        let mut buf = [0u8; 4];
        let (len, from) = within("the echo", client.recv_from(&mut buf))
            .await
            .unwrap();
        assert_eq!((len, from), (4, addr));
        assert_eq!(u32::from_be_bytes(buf), n);
    }
    within("stopping the shards", shards.shutdown()).await;
    let threads = threads.lock().unwrap();
    assert_eq!(
        threads.len(),
        2,
        "datagrams were handled on {} threads",
        threads.len()
    );
}

#[tokio::test]
async fn a_port_bound_without_reuse_port_cannot_be_sharded() {
    let plain = DatagramSocket::bind_endpoint(Some(&support::v4_loopback()), "")
        .await
        .unwrap();
    let port = plain.local_addr().port();
    let err = within(
        "binding the shards",
        DatagramSocket::builder().bind_sharded(
            Some(&support::v4_loopback()),
            port,
            2,
            |_socket: DatagramSocket| async {},
        ),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.status(),
        sock_core::SocketErrorStatus::AddressAlreadyInUse,
        "{err}"
    );
}
