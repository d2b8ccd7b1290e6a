//! Connecting: Happy Eyeballs (RFC 8305) over a list of addresses, or one
//! address at a time when attempts are serialized, optionally from a given
//! local endpoint.

use std::future::{poll_fn, Future};
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use sock_core::{io_context, ConnectAttempt, Error, Result};
use socket2::SockRef;
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::{sleep_until, Instant, Sleep};

use crate::answer::AddressBatches;
use crate::deadline::ConnectTimer;
use crate::options::SocketOptions;
use crate::resolve::interleave;

/// Why a connect failed: the same type with or without TLS, so connecting
/// reads the same either way.
#[derive(Debug)]
pub(crate) enum ConnectFailure {
    /// Before any TLS: a setting, name resolution, or the TCP connection.
    Connect(Error),
    /// The TLS handshake, with what it learned (the server's chain and the
    /// certificate problems found).
    #[cfg(feature = "tls")]
    Handshake(crate::TlsConnectError),
}

impl From<Error> for ConnectFailure {
    fn from(error: Error) -> Self {
        Self::Connect(error)
    }
}

#[cfg(feature = "tls")]
impl From<crate::TlsConnectError> for ConnectFailure {
    fn from(error: crate::TlsConnectError) -> Self {
        Self::Handshake(error)
    }
}

impl From<ConnectFailure> for Error {
    fn from(failure: ConnectFailure) -> Self {
        match failure {
            ConnectFailure::Connect(error) => error,
            #[cfg(feature = "tls")]
            ConnectFailure::Handshake(error) => error.into(),
        }
    }
}

/// What a connect that keeps the handshake's findings reports.
#[cfg(feature = "tls")]
impl From<ConnectFailure> for crate::TlsConnectError {
    fn from(failure: ConnectFailure) -> Self {
        match failure {
            ConnectFailure::Connect(error) => error.into(),
            ConnectFailure::Handshake(error) => error,
        }
    }
}

/// How to run the attempts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Race {
    /// Wait between starting attempts (RFC 8305's "Connection Attempt Delay").
    pub(crate) stagger: Duration,
    /// One attempt at a time (UWP's `SerializeConnectionAttempts`).
    pub(crate) serialize: bool,
    /// When to give up on every attempt still running.
    pub(crate) deadline: Instant,
    /// The connect timeout, to name it in errors.
    pub(crate) timeout: Duration,
}

/// The local endpoint to connect from (the local half of an `EndpointPair`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Local {
    /// The local addresses allowed (their ports are `port`); empty for any.
    pub(crate) addrs: Vec<SocketAddr>,
    /// The local port; 0 lets the system choose.
    pub(crate) port: u16,
}

impl Local {
    /// Whether the system picks everything (no bind before connecting).
    pub(crate) fn is_any(&self) -> bool {
        self.addrs.is_empty() && self.port == 0
    }

    /// The local address for a connection to `remote`, if one must be bound:
    /// the first local address of `remote`'s family, or the unspecified
    /// address of that family with the fixed port. `None` when the system
    /// picks both, or when no local address has `remote`'s family (callers
    /// filter those remotes out first).
    fn bind_for(&self, remote: SocketAddr) -> Option<SocketAddr> {
        if self.addrs.is_empty() {
            if self.port == 0 {
                return None;
            }
            let any = match remote {
                SocketAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                SocketAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            return Some(SocketAddr::new(any, self.port));
        }
        self.addrs
            .iter()
            .find(|l| l.is_ipv4() == remote.is_ipv4())
            .copied()
    }

    /// Why `remote` cannot be reached from any local address (all of the
    /// other family).
    pub(crate) fn family_mismatch(&self, remote: SocketAddr) -> io::Error {
        let (ours, theirs) = if remote.is_ipv4() {
            ("IPv6", "IPv4")
        } else {
            ("IPv4", "IPv6")
        };
        let local = self
            .addrs
            .first()
            .map_or_else(String::new, |l| format!(" {}", l.ip()));
        io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("the local address{local} is {ours} and cannot reach an {theirs} address"),
        )
    }

    /// Whether some local address can reach `remote` (same family).
    pub(crate) fn can_reach(&self, remote: SocketAddr) -> bool {
        self.addrs.is_empty() || self.addrs.iter().any(|l| l.is_ipv4() == remote.is_ipv4())
    }
}

type Attempt = Pin<Box<dyn Future<Output = io::Result<TcpStream>> + Send>>;

fn attempt(addr: SocketAddr, local: Option<SocketAddr>, options: &SocketOptions) -> Attempt {
    let options = options.clone();
    Box::pin(async move {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        options.apply(SockRef::from(&socket), addr)?;
        if let Some(local) = local {
            socket
                .bind(local)
                .map_err(|e| io_context(e, format!("could not bind to local address {local}")))?;
        }
        socket.connect(addr).await
    })
}

/// The addresses to connect to: those known now, and those still being
/// resolved (RFC 8305 §3: connecting starts with the first answer).
pub(crate) struct Candidates {
    /// Addresses known before connecting starts, in the resolver's order.
    pub(crate) now: Vec<SocketAddr>,
    /// Answers still to come, merged into the untried addresses as they arrive.
    pub(crate) later: Option<AddressBatches>,
    /// The host name being resolved, to name it in resolution errors.
    pub(crate) host: String,
}

impl Candidates {
    /// Addresses all known already.
    pub(crate) fn known(addrs: Vec<SocketAddr>) -> Self {
        Self {
            now: addrs,
            later: None,
            host: String::new(),
        }
    }
}

/// Puts newly resolved addresses among the untried ones: IPv6 first, the
/// families alternating (RFC 8305 §4), each keeping its order.
fn merge(pending: &mut Vec<SocketAddr>, batch: Vec<SocketAddr>) {
    let mut all = std::mem::take(pending);
    all.extend(batch);
    all.sort_by_key(|a| a.is_ipv4()); // stable: each family keeps its order
    *pending = interleave(&all);
}

/// Connects to the first of the `candidates` that answers.
///
/// Addresses are tried in Happy Eyeballs order ([`interleave`]): the first
/// attempt starts at once, the next after `stagger` or as soon as every
/// running attempt has failed, and the first to connect wins (the others are
/// dropped, which closes their sockets). Addresses resolved later join the
/// untried ones as they arrive. With `serialize`, the next starts only when
/// the previous one has failed. Each attempt binds the address `local` gives
/// for its family first, if any.
///
/// # Errors
///
/// [`Error::Connect`] with every address tried and its error (attempts still
/// running at the deadline fail with `TimedOut`), in the order they were
/// started; when no address was found to try: [`Error::Resolve`],
/// [`Error::NoAddresses`], or [`Error::TimedOut`] at the deadline.
pub(crate) async fn connect_to_addrs(
    candidates: Candidates,
    local: &Local,
    options: &SocketOptions,
    race: Race,
    timer: &mut ConnectTimer,
    target: &str,
) -> Result<(TcpStream, SocketAddr)> {
    let Candidates {
        now,
        mut later,
        host,
    } = candidates;
    let mut pending = interleave(&now);
    pending.reverse(); // the next address to try is popped off the end
    let mut tried: Vec<SocketAddr> = Vec::new();
    let mut running: Vec<(usize, Attempt)> = Vec::new();
    let mut failed: Vec<(usize, io::Error)> = Vec::new();
    let mut unresolved: Option<io::Error> = None;
    // The stagger timer is made only when needed: a single address (an IP
    // literal, a name with one answer) races nothing. The deadline is the
    // connect's one timer, shared with the steps after this one.
    let mut stagger: Option<Pin<Box<Sleep>>> = None;
    let mut next_start = Instant::now();

    let outcome = poll_fn(|cx| loop {
        while let Some(batches) = later.as_mut() {
            match batches.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(batch))) => {
                    pending.reverse();
                    merge(&mut pending, batch);
                    pending.reverse();
                }
                Poll::Ready(Some(Err(e))) => {
                    unresolved.get_or_insert(e);
                }
                Poll::Ready(None) => later = None,
                Poll::Pending => break,
            }
        }
        let start_next = !pending.is_empty()
            && (running.is_empty()
                || (!race.serialize && {
                    let stagger = stagger.get_or_insert_with(|| Box::pin(sleep_until(next_start)));
                    if stagger.deadline() != next_start {
                        stagger.as_mut().reset(next_start);
                    }
                    stagger.as_mut().poll(cx).is_ready()
                }));
        if start_next {
            let remote = pending.pop().expect("checked non-empty");
            let bind = local.bind_for(remote);
            crate::log::connect_attempt(remote, bind);
            running.push((tried.len(), attempt(remote, bind, options)));
            tried.push(remote);
            next_start = Instant::now() + race.stagger;
            continue; // poll the stagger timer again so it wakes us
        }
        let mut i = 0;
        while i < running.len() {
            match running[i].1.as_mut().poll(cx) {
                Poll::Ready(Ok(stream)) => {
                    let addr = tried[running[i].0];
                    crate::log::connected(addr);
                    return Poll::Ready(Ok((stream, addr)));
                }
                Poll::Ready(Err(e)) => {
                    let (index, _) = running.remove(i);
                    crate::log::connect_attempt_failed(tried[index], &e);
                    failed.push((index, e));
                }
                Poll::Pending => i += 1,
            }
        }
        if running.is_empty() {
            if !pending.is_empty() {
                continue; // every running attempt failed: start the next one now
            }
            if later.is_none() {
                return Poll::Ready(Err(false));
            }
        }
        if timer.poll_until(race.deadline, cx).is_ready() {
            for (index, _) in running.drain(..) {
                let error = io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no answer within connect_timeout ({:?})", race.timeout),
                );
                crate::log::connect_attempt_failed(tried[index], &error);
                failed.push((index, error));
            }
            return Poll::Ready(Err(true));
        }
        return Poll::Pending;
    })
    .await;

    outcome.map_err(|timed_out| {
        if tried.is_empty() {
            return match unresolved {
                _ if timed_out => Error::TimedOut {
                    operation: "host name resolution (connect_timeout)",
                    after: race.timeout,
                },
                Some(source) => Error::Resolve { host, source },
                None => Error::NoAddresses { host },
            };
        }
        failed.sort_by_key(|(index, _)| *index);
        Error::Connect {
            target: target.to_owned(),
            attempts: failed
                .into_iter()
                .map(|(index, error)| ConnectAttempt {
                    addr: tried[index],
                    error,
                })
                .collect(),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sock_core::SocketErrorStatus;
    use tokio::net::TcpListener;

    fn race(serialize: bool) -> Race {
        Race {
            stagger: Duration::from_millis(250),
            serialize,
            deadline: Instant::now() + Duration::from_secs(10),
            timeout: Duration::from_secs(10),
        }
    }

    /// The timer of a connect that may take 10 s.
    fn timer() -> ConnectTimer {
        ConnectTimer::new(Instant::now() + Duration::from_secs(10))
    }

    async fn refused_addr() -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap()
    }

    #[tokio::test]
    async fn falls_back_from_a_refusing_address_without_waiting_for_the_stagger() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good = listener.local_addr().unwrap();
        let bad = refused_addr().await;
        let started = std::time::Instant::now();
        let (_, peer) = connect_to_addrs(
            Candidates::known(vec![bad, good]),
            &Local::default(),
            &SocketOptions::default(),
            race(false),
            &mut timer(),
            "t",
        )
        .await
        .unwrap();
        assert_eq!(peer, good);
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn the_local_address_is_chosen_by_the_remote_family() {
        let v4: SocketAddr = "127.0.0.1:80".parse().unwrap();
        let v6: SocketAddr = "[::1]:80".parse().unwrap();
        assert!(Local::default().is_any());
        assert_eq!(Local::default().bind_for(v4), None);
        let port_only = Local {
            addrs: Vec::new(),
            port: 4000,
        };
        assert_eq!(
            port_only.bind_for(v4),
            Some("0.0.0.0:4000".parse().unwrap())
        );
        assert_eq!(port_only.bind_for(v6), Some("[::]:4000".parse().unwrap()));
        let both = Local {
            addrs: vec!["[::1]:0".parse().unwrap(), "127.0.0.2:0".parse().unwrap()],
            port: 0,
        };
        assert_eq!(both.bind_for(v4), Some("127.0.0.2:0".parse().unwrap()));
        assert_eq!(both.bind_for(v6), Some("[::1]:0".parse().unwrap()));
        let only_v6 = Local {
            addrs: vec!["[::1]:0".parse().unwrap()],
            port: 0,
        };
        assert!(!only_v6.can_reach(v4));
        assert!(only_v6.can_reach(v6));
    }

    #[tokio::test]
    async fn every_failure_is_kept_in_the_order_tried() {
        let a = refused_addr().await;
        let b = refused_addr().await;
        for serialize in [false, true] {
            let err = connect_to_addrs(
                Candidates::known(vec![a, b]),
                &Local::default(),
                &SocketOptions::default(),
                race(serialize),
                &mut timer(),
                "x:1",
            )
            .await
            .unwrap_err();
            assert_eq!(err.status(), SocketErrorStatus::ConnectionRefused);
            let Error::Connect { attempts, target } = err else {
                panic!("not a connect error")
            };
            assert_eq!(target, "x:1");
            assert_eq!(attempts.iter().map(|a| a.addr).collect::<Vec<_>>(), [a, b]);
        }
    }

    /// Candidates whose addresses come later, as `batches` (each after its delay).
    fn later(batches: Vec<(u64, io::Result<Vec<SocketAddr>>)>) -> Candidates {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            for (ms, batch) in batches {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let _ = tx.send(batch);
            }
        });
        let mut rx = rx;
        Candidates {
            now: Vec::new(),
            later: Some(Box::pin(futures::stream::poll_fn(move |cx| {
                rx.poll_recv(cx)
            }))),
            host: "late.test".into(),
        }
    }

    /// Connects to late `candidates` with no local endpoint and default options.
    async fn connect_late(candidates: Candidates, race: Race) -> Result<(TcpStream, SocketAddr)> {
        connect_to_addrs(
            candidates,
            &Local::default(),
            &SocketOptions::default(),
            race,
            &mut ConnectTimer::new(race.deadline),
            "late.test:1",
        )
        .await
    }

    #[tokio::test]
    async fn addresses_that_arrive_late_join_the_race() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let good = listener.local_addr().unwrap();
        let bad = refused_addr().await;
        // The first batch only refuses; the good address comes 50 ms later.
        let candidates = later(vec![(0, Ok(vec![bad])), (50, Ok(vec![good]))]);
        let (_, peer) = connect_late(candidates, race(false)).await.unwrap();
        assert_eq!(peer, good);
    }

    #[tokio::test]
    async fn no_address_at_all_is_the_resolver_error_or_no_addresses() {
        let failed = later(vec![(0, Err(io::Error::other("servfail")))]);
        let err = connect_late(failed, race(false)).await.unwrap_err();
        assert!(
            matches!(err, Error::Resolve { ref host, .. } if host == "late.test"),
            "{err:?}"
        );
        let empty = later(vec![(0, Ok(Vec::new()))]);
        let err = connect_late(empty, race(false)).await.unwrap_err();
        assert!(matches!(err, Error::NoAddresses { .. }), "{err:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_resolver_still_silent_at_the_deadline_times_out_as_resolution() {
        let silent = later(vec![(3_600_000, Ok(Vec::new()))]);
        let mut race = race(false);
        race.deadline = Instant::now() + Duration::from_millis(500);
        let err = connect_late(silent, race).await.unwrap_err();
        assert!(
            matches!(err, Error::TimedOut { operation, .. } if operation.contains("resolution")),
            "{err:?}"
        );
    }

    #[test]
    fn late_addresses_put_ipv6_first_and_alternate() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        let mut pending = vec![a("127.0.0.1:1"), a("127.0.0.2:1")];
        merge(&mut pending, vec![a("[::1]:1"), a("[::2]:1")]);
        assert_eq!(
            pending,
            [
                a("[::1]:1"),
                a("127.0.0.1:1"),
                a("[::2]:1"),
                a("127.0.0.2:1")
            ]
        );
    }
}
