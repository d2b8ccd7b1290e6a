//! Connecting to a name with several addresses: Happy Eyeballs (RFC 8305)
//! falls back from addresses that refuse or stay silent, and serialized
//! attempts try one address at a time.

use crate::support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use sock_core::{Error, HostName, SocketErrorStatus as S};
use sock_tcp::StreamSocket;
use support::{fixed_resolver, has_ipv6, listener, refused_addr, silent_listener, within};

fn name() -> HostName {
    HostName::new("multi.test").unwrap()
}

#[tokio::test]
async fn a_refusing_address_falls_back_to_a_listening_one_at_once() {
    let listener = listener().await;
    let good = listener.local_addr();
    let bad = refused_addr().await;
    let started = Instant::now();
    let (socket, accepted) = within(async {
        tokio::join!(
            StreamSocket::builder()
                .connection_attempt_delay(Duration::from_secs(5))
                .resolver(fixed_resolver(vec![bad, good]))
                .connect(&name(), good.port()),
            listener.accept()
        )
    })
    .await;
    let socket = socket.unwrap();
    accepted.unwrap();
    assert_eq!(socket.peer_addr(), good);
    assert_eq!(
        socket.information().remote_host_name.raw_name(),
        "multi.test"
    );
    // A refusal starts the next attempt without waiting out the stagger.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_refusing_ipv6_loopback_falls_back_to_ipv4() {
    if !has_ipv6() {
        eprintln!("skipped: no IPv6 loopback here");
        return;
    }
    let listener = listener().await;
    let good = listener.local_addr();
    let v6 = tokio::net::TcpListener::bind("[::1]:0").await.unwrap();
    let bad: SocketAddr = v6.local_addr().unwrap();
    drop(v6);
    let (socket, _) = within(async {
        tokio::join!(
            StreamSocket::builder()
                .resolver(fixed_resolver(vec![bad, good]))
                .connect(&name(), good.port()),
            listener.accept()
        )
    })
    .await;
    assert_eq!(socket.unwrap().peer_addr(), good);
}

#[tokio::test]
async fn a_silent_address_is_raced_after_the_stagger_and_loses() {
    let (silent, _queued) = silent_listener();
    let silent = silent.local_addr().unwrap();
    let listener = listener().await;
    let good = listener.local_addr();
    let started = Instant::now();
    let (socket, _) = within(async {
        tokio::join!(
            StreamSocket::builder()
                .resolver(fixed_resolver(vec![silent, good]))
                .connect(&name(), good.port()),
            listener.accept()
        )
    })
    .await;
    assert_eq!(socket.unwrap().peer_addr(), good);
    let elapsed = started.elapsed();
    assert!(
        elapsed >= Duration::from_millis(250) && elapsed < Duration::from_secs(5),
        "{elapsed:?}"
    );
}

#[tokio::test]
async fn serialized_attempts_wait_for_each_address_to_fail() {
    let (silent, _queued) = silent_listener();
    let silent = silent.local_addr().unwrap();
    let listener = listener().await;
    let good = listener.local_addr();
    // The silent address holds the only attempt until the connect timeout.
    let err = within(
        StreamSocket::builder()
            .serialize_connection_attempts(true)
            .connect_timeout(Duration::from_millis(600))
            .resolver(fixed_resolver(vec![silent, good]))
            .connect(&name(), good.port()),
    )
    .await
    .unwrap_err();
    let Error::Connect { attempts, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(attempts.len(), 1, "{err}");
    assert_eq!(attempts[0].addr, silent);
    assert_eq!(err.status(), S::ConnectionTimedOut);

    // With a refusing first address, the second gets its turn.
    let bad = refused_addr().await;
    let (socket, _) = within(async {
        tokio::join!(
            StreamSocket::builder()
                .serialize_connection_attempts(true)
                .resolver(fixed_resolver(vec![bad, good]))
                .connect(&name(), good.port()),
            listener.accept()
        )
    })
    .await;
    assert_eq!(socket.unwrap().peer_addr(), good);
}

#[tokio::test]
async fn when_all_fail_every_address_keeps_its_error_and_the_most_telling_status_wins() {
    let (silent, _queued) = silent_listener();
    let silent = silent.local_addr().unwrap();
    let refused = refused_addr().await;
    let err = within(
        StreamSocket::builder()
            .connect_timeout(Duration::from_millis(600))
            .resolver(fixed_resolver(vec![silent, refused]))
            .connect(&name(), 1),
    )
    .await
    .unwrap_err();
    let Error::Connect { attempts, target } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(target, "multi.test:1");
    assert_eq!(
        attempts.iter().map(|a| a.addr).collect::<Vec<_>>(),
        [silent, refused]
    );
    assert_eq!(S::from(&attempts[0].error), S::ConnectionTimedOut);
    assert_eq!(S::from(&attempts[1].error), S::ConnectionRefused);
    // A refusal says more than a silence.
    assert_eq!(err.status(), S::ConnectionRefused);
    let text = err.to_string();
    assert!(
        text.contains(&silent.to_string()) && text.contains(&refused.to_string()),
        "{text}"
    );
}
