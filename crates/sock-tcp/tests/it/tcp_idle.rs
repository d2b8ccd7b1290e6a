//! Idle detection: idle timeouts count traffic in both directions (or one,
//! when asked), an abandoned operation leaves no stale deadline, a socket left
//! alone is not failed for it, and `IdleHandle` tells a handler the
//! connection went idle without closing it (heartbeats).
//!
//! Each test connects a pair on the real clock, then pauses tokio's clock:
//! from then on time moves only when every task waits on a timer, so the
//! instants asserted below are exact and the tests take no real time. Both
//! peers run in the test's own task, so data written is in the peer's
//! receive queue before the runtime next looks for timers.

use crate::support;

use std::time::Duration;

use sock_core::SocketErrorStatus as S;
use sock_tcp::{IdleKind, StreamSocket};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::{sleep, timeout, Instant};

const SECOND: Duration = Duration::from_secs(1);

/// A connected (client, server) pair, then the clock paused.
async fn paused_pair() -> (StreamSocket, StreamSocket) {
    let pair = support::pair().await;
    tokio::time::pause();
    pair
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Asserts that `elapsed` is `expected`, give or take the timer's one
/// millisecond granularity (a deadline rounds up to the next tick).
#[track_caller]
fn assert_about(elapsed: Duration, expected: Duration) {
    assert!(
        elapsed >= expected && elapsed <= expected + ms(2),
        "{elapsed:?}, expected {expected:?}"
    );
}

/// Reads one byte, which `writer` sends after `after`.
async fn read_byte_sent_after(
    reader: &mut StreamSocket,
    writer: &mut StreamSocket,
    after: Duration,
) -> std::io::Result<u8> {
    let (read, ()) = tokio::join!(reader.read_u8(), async {
        sleep(after).await;
        writer.write_all(b"x").await.unwrap();
    });
    read
}

#[tokio::test(flavor = "current_thread")]
async fn an_operation_dropped_by_a_timeout_leaves_no_stale_deadline() {
    let (mut client, mut server) = paused_pair().await;
    server.set_idle_timeout(Some(SECOND));
    let mut buf = [0u8; 8];
    // A read given up after 100 ms, then the socket left alone for 3 s:
    // long past the dropped read's deadline.
    assert!(timeout(ms(100), server.read(&mut buf)).await.is_err());
    sleep(3 * SECOND).await;
    // The next read gets the whole timeout: data 800 ms later arrives.
    let byte = read_byte_sent_after(&mut server, &mut client, ms(800)).await;
    assert_eq!(byte.unwrap(), b'x');
}

#[tokio::test(flavor = "current_thread")]
async fn a_socket_left_alone_gives_its_next_read_the_whole_timeout() {
    let (mut client, mut server) = paused_pair().await;
    server.set_idle_timeout(Some(SECOND));
    // One exchange, then nothing for 5 s: no operation waited meanwhile.
    client.write_all(b"a").await.unwrap();
    assert_eq!(server.read_u8().await.unwrap(), b'a');
    sleep(5 * SECOND).await;
    let byte = read_byte_sent_after(&mut server, &mut client, ms(900)).await;
    assert_eq!(byte.unwrap(), b'x');
}

#[tokio::test(flavor = "current_thread")]
async fn a_select_loop_that_recreates_its_read_is_one_wait_and_still_times_out() {
    let (_client, mut server) = paused_pair().await;
    server.set_idle_timeout(Some(SECOND));
    let start = Instant::now();
    let mut buf = [0u8; 8];
    let mut ticks = 0;
    let err = loop {
        tokio::select! {
            read = server.read(&mut buf) => break read.unwrap_err(),
            () = sleep(ms(300)) => ticks += 1,
        }
        assert!(ticks < 10, "the read never timed out");
    };
    assert_eq!(S::from(&err), S::ConnectionTimedOut, "{err}");
    assert!(err.to_string().contains("read (idle_timeout)"), "{err}");
    // Three ticks went by (300, 600, 900 ms); the wait that began at the
    // first read ended at 1 s, not 1 s after the last re-created read.
    assert_eq!(ticks, 3);
    assert_about(start.elapsed(), SECOND);
}

#[tokio::test(flavor = "current_thread")]
async fn a_push_only_connection_is_not_idle_while_it_writes() {
    let (mut client, server) = paused_pair().await;
    let (mut input, mut output) = server.into_split();
    input.set_idle_timeout(Some(SECOND));
    let mut buf = [0u8; 8];
    let mut sink = [0u8; 64];
    // The server's read waits 5 s while the server writes every 300 ms and
    // the client reads what it writes.
    let waited = tokio::join!(timeout(5 * SECOND, input.read(&mut buf)), async {
        for _ in 0..16 {
            sleep(ms(300)).await;
            output.write_all(b"tick").await.unwrap();
            client.read_exact(&mut sink[..4]).await.unwrap();
        }
    })
    .0;
    assert!(waited.is_err(), "the read ended early: {waited:?}");
    // Writes stop: the read fails one timeout after the last write.
    let last_write = Instant::now();
    let err = input.read(&mut buf).await.unwrap_err();
    assert_eq!(S::from(&err), S::ConnectionTimedOut, "{err}");
    assert!(last_write.elapsed() <= SECOND, "{:?}", last_write.elapsed());
}

#[tokio::test(flavor = "current_thread")]
async fn a_pull_only_connection_is_not_idle_while_it_reads() {
    let (mut client, mut server) = paused_pair().await;
    server.set_idle_timeout(Some(SECOND));
    // The client sends a byte every 700 ms for 7 s; the server only reads.
    let (received, ()) = tokio::join!(
        async {
            let mut n = 0;
            while let Ok(b) = server.read_u8().await {
                assert_eq!(b, b'x');
                n += 1;
                if n == 10 {
                    break;
                }
            }
            n
        },
        async {
            for _ in 0..10 {
                sleep(ms(700)).await;
                client.write_all(b"x").await.unwrap();
            }
        }
    );
    assert_eq!(received, 10);
}

#[tokio::test(flavor = "current_thread")]
async fn a_read_idle_timeout_ends_a_push_only_connection_whose_peer_is_silent() {
    let (mut client, server) = paused_pair().await;
    let (mut input, mut output) = server.into_split();
    let mut server = input.reunite(output).unwrap();
    server.set_read_idle_timeout(Some(SECOND));
    assert_eq!(server.read_idle_timeout(), Some(SECOND));
    assert_eq!(server.idle_timeout(), None);
    (input, output) = server.into_split();
    let start = Instant::now();
    let mut buf = [0u8; 8];
    let mut sink = [0u8; 4];
    let ((read, failed_after), ()) = tokio::join!(
        async { (input.read(&mut buf).await, start.elapsed()) },
        async {
            for _ in 0..5 {
                sleep(ms(300)).await;
                output.write_all(b"tick").await.unwrap();
                client.read_exact(&mut sink).await.unwrap();
            }
        }
    );
    let err = read.unwrap_err();
    assert!(err.to_string().contains("read_idle_timeout"), "{err}");
    assert_about(failed_after, SECOND);
}

#[tokio::test(flavor = "current_thread")]
async fn a_write_idle_timeout_ends_a_pull_only_connection() {
    let (mut client, mut server) = paused_pair().await;
    server.set_write_idle_timeout(Some(SECOND));
    let start = Instant::now();
    let (read, ()) = tokio::join!(
        async {
            loop {
                if let Err(e) = server.read_u8().await {
                    return (e, start.elapsed());
                }
            }
        },
        async {
            for _ in 0..5 {
                sleep(ms(300)).await;
                // The server is gone once its read fails.
                let _ = client.write_all(b"x").await;
            }
        }
    );
    let (err, failed_after) = read;
    assert!(err.to_string().contains("write_idle_timeout"), "{err}");
    assert_about(failed_after, SECOND);
}

#[tokio::test(flavor = "current_thread")]
async fn the_idle_handle_drives_heartbeats_without_closing_the_connection() {
    let (mut client, mut server) = paused_pair().await;
    // A long closing timeout: the heartbeats keep the connection busy.
    server.set_idle_timeout(Some(10 * SECOND));
    let idle = server.idle_handle();
    let start = Instant::now();
    let mut pings = Vec::new();
    let mut buf = [0u8; 8];
    let mut got = [0u8; 4];
    // The client says nothing for 3.5 s and then "bye".
    let client_side = async {
        let mut seen = Vec::new();
        let deadline = start + ms(3500);
        loop {
            tokio::select! {
                r = client.read_exact(&mut got) => {
                    r.unwrap();
                    assert_eq!(&got, b"PING");
                    seen.push(start.elapsed());
                }
                () = tokio::time::sleep_until(deadline) => break,
            }
        }
        client.write_all(b"bye").await.unwrap();
        seen
    };
    let server_side = async {
        loop {
            tokio::select! {
                n = server.read(&mut buf) => return n,
                idle_for = idle.idle(IdleKind::Write, SECOND) => {
                    assert!(idle_for >= SECOND, "{idle_for:?}");
                    pings.push(start.elapsed());
                    server.write_all(b"PING").await.unwrap();
                }
            }
        }
    };
    let (seen, read) = tokio::join!(client_side, server_side);
    assert_eq!(read.unwrap(), 3, "the connection was not kept");
    // One ping a second (each period starts when the previous ping went).
    assert_eq!(pings.len(), 3, "{pings:?}");
    for (n, at) in (1..).zip(&pings) {
        assert_about(*at, n * SECOND + ms(u64::from(n) - 1));
    }
    assert_eq!(seen, pings);
}

#[tokio::test(flavor = "current_thread")]
async fn a_read_idle_heartbeat_fires_once_per_period_although_the_ping_is_a_write() {
    let (_client, server) = paused_pair().await;
    let idle = server.idle_handle();
    let start = Instant::now();
    for n in 1..=3 {
        let since = Instant::now();
        let idle_for = idle.idle(IdleKind::Read, SECOND).await;
        assert_about(since.elapsed(), SECOND);
        assert!(idle_for >= n * SECOND, "{idle_for:?}");
    }
    assert!(idle.idle_for(IdleKind::Read) >= 3 * SECOND);
    assert!(start.elapsed() <= 3 * SECOND + ms(6));
}

#[tokio::test(flavor = "current_thread")]
async fn a_zero_idle_timeout_on_the_control_is_refused_by_name() {
    let listener = support::listener().await;
    let port = listener.information().local_port;
    for (control, name) in [
        (
            StreamSocket::builder().read_idle_timeout(Some(Duration::ZERO)),
            "read_idle_timeout",
        ),
        (
            StreamSocket::builder().write_idle_timeout(Some(Duration::ZERO)),
            "write_idle_timeout",
        ),
    ] {
        let err = control.connect(&support::v4(), port).await.unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains(name), "{err}");
    }
}
