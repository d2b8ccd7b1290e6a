//! Addresses as they arrive: the AAAA and A answers of one name merged as
//! RFC 8305 §3 asks (IPv6 at once, IPv4 after a short wait for IPv6), and a
//! one-batch stream for resolvers that answer all at once.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;
use tokio::time::{sleep, Sleep};

use crate::answer::{AddressBatches, Resolving};

/// RFC 8305's "Resolution Delay": how long an IPv4 answer waits for the IPv6
/// one before connecting starts with IPv4 alone (50 ms).
pub const DEFAULT_RESOLUTION_DELAY: Duration = Duration::from_millis(50);

/// Merges an AAAA and an A query into batches, as RFC 8305 §3 asks.
///
/// - IPv6 addresses are handed out as soon as they arrive.
/// - IPv4 addresses that arrive first wait up to `resolution_delay` for the
///   IPv6 ones (which then come first in the same batch), and are handed out
///   alone when the delay ends or the AAAA query fails or finds nothing.
/// - A failed query is an `Err` item only when no addresses came at all; the
///   first failure is the one given.
///
/// For a [`Resolve`](crate::Resolve) implementation that asks for each family
/// separately; `DnsResolver` (feature `hickory-resolver`) uses it.
pub fn resolve_families(
    aaaa: Resolving,
    a: Resolving,
    resolution_delay: Duration,
) -> AddressBatches {
    Box::pin(Families {
        aaaa: Some(aaaa),
        a: Some(a),
        held: None,
        delay: None,
        resolution_delay,
        failure: None,
        found_any: false,
    })
}

/// A stream of the one answer of `resolving`.
pub(crate) fn one_batch(resolving: Resolving) -> AddressBatches {
    Box::pin(OneBatch(Some(resolving)))
}

struct OneBatch(Option<Resolving>);

impl Stream for OneBatch {
    type Item = io::Result<Vec<SocketAddr>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let Some(resolving) = self.0.as_mut() else {
            return Poll::Ready(None);
        };
        let answer = std::task::ready!(resolving.as_mut().poll(cx));
        self.0 = None;
        Poll::Ready(Some(answer))
    }
}

struct Families {
    aaaa: Option<Resolving>,
    a: Option<Resolving>,
    /// IPv4 addresses waiting for the IPv6 answer.
    held: Option<Vec<SocketAddr>>,
    delay: Option<Pin<Box<Sleep>>>,
    resolution_delay: Duration,
    failure: Option<io::Error>,
    found_any: bool,
}

impl Families {
    fn failed(&mut self, error: io::Error) {
        self.failure.get_or_insert(error);
    }

    fn found(&mut self, batch: Vec<SocketAddr>) -> Poll<Option<io::Result<Vec<SocketAddr>>>> {
        self.found_any = true;
        Poll::Ready(Some(Ok(batch)))
    }
}

impl Stream for Families {
    type Item = io::Result<Vec<SocketAddr>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if let Some(aaaa) = this.aaaa.as_mut() {
            if let Poll::Ready(answer) = aaaa.as_mut().poll(cx) {
                this.aaaa = None;
                match answer {
                    Ok(mut v6) if !v6.is_empty() => {
                        // What IPv4 had waiting goes after, in the same batch.
                        v6.extend(this.held.take().unwrap_or_default());
                        return this.found(v6);
                    }
                    Ok(_) => {}
                    Err(e) => this.failed(e),
                }
            }
        }
        if let Some(a) = this.a.as_mut() {
            if let Poll::Ready(answer) = a.as_mut().poll(cx) {
                this.a = None;
                match answer {
                    Ok(v4) if !v4.is_empty() => {
                        if this.aaaa.is_none() {
                            return this.found(v4);
                        }
                        this.held = Some(v4);
                    }
                    Ok(_) => {}
                    Err(e) => this.failed(e),
                }
            }
        }
        if this.held.is_some() {
            let waited = this.aaaa.is_none() || {
                let delay = this
                    .delay
                    .get_or_insert_with(|| Box::pin(sleep(this.resolution_delay)));
                delay.as_mut().poll(cx).is_ready()
            };
            if waited {
                let v4 = this.held.take().unwrap_or_default();
                return this.found(v4);
            }
        }
        if this.aaaa.is_some() || this.a.is_some() || this.held.is_some() {
            return Poll::Pending;
        }
        match this.failure.take() {
            Some(error) if !this.found_any => Poll::Ready(Some(Err(error))),
            _ => Poll::Ready(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;
    use tokio::time::Instant;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn after(ms: u64, answer: io::Result<Vec<SocketAddr>>) -> Resolving {
        Box::pin(async move {
            sleep(Duration::from_millis(ms)).await;
            answer
        })
    }

    async fn collect(mut s: AddressBatches) -> Vec<(u64, io::Result<Vec<SocketAddr>>)> {
        let start = Instant::now();
        let mut out = Vec::new();
        while let Some(item) = poll_fn(|cx| s.as_mut().poll_next(cx)).await {
            out.push((start.elapsed().as_millis() as u64, item));
        }
        out
    }

    fn ok(batches: &[(u64, io::Result<Vec<SocketAddr>>)]) -> Vec<(u64, Vec<SocketAddr>)> {
        batches
            .iter()
            .map(|(t, b)| (*t, b.as_ref().unwrap().clone()))
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn ipv6_first_goes_out_at_once_and_ipv4_follows() {
        let s = resolve_families(
            after(10, Ok(vec![addr("[::1]:1")])),
            after(30, Ok(vec![addr("127.0.0.1:1")])),
            DEFAULT_RESOLUTION_DELAY,
        );
        assert_eq!(
            ok(&collect(s).await),
            [(10, vec![addr("[::1]:1")]), (30, vec![addr("127.0.0.1:1")])]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn ipv4_first_waits_the_resolution_delay_for_ipv6() {
        // IPv6 within the delay: one batch, IPv6 first.
        let s = resolve_families(
            after(30, Ok(vec![addr("[::1]:1")])),
            after(10, Ok(vec![addr("127.0.0.1:1")])),
            DEFAULT_RESOLUTION_DELAY,
        );
        assert_eq!(
            ok(&collect(s).await),
            [(30, vec![addr("[::1]:1"), addr("127.0.0.1:1")])]
        );
        // IPv6 late: IPv4 goes alone when the delay ends.
        let s = resolve_families(
            after(500, Ok(vec![addr("[::1]:1")])),
            after(10, Ok(vec![addr("127.0.0.1:1")])),
            DEFAULT_RESOLUTION_DELAY,
        );
        assert_eq!(
            ok(&collect(s).await),
            [
                (60, vec![addr("127.0.0.1:1")]),
                (500, vec![addr("[::1]:1")])
            ]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_or_empty_family_does_not_hold_the_other_back() {
        let s = resolve_families(
            after(20, Ok(Vec::new())),
            after(10, Ok(vec![addr("127.0.0.1:1")])),
            DEFAULT_RESOLUTION_DELAY,
        );
        assert_eq!(ok(&collect(s).await), [(20, vec![addr("127.0.0.1:1")])]);
        let s = resolve_families(
            after(20, Err(io::Error::other("servfail"))),
            after(10, Ok(vec![addr("127.0.0.1:1")])),
            DEFAULT_RESOLUTION_DELAY,
        );
        assert_eq!(ok(&collect(s).await), [(20, vec![addr("127.0.0.1:1")])]);
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_failure_is_given_when_nothing_is_found() {
        let s = resolve_families(
            after(20, Err(io::Error::other("first"))),
            after(30, Err(io::Error::other("second"))),
            DEFAULT_RESOLUTION_DELAY,
        );
        let items = collect(s).await;
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].1.as_ref().unwrap_err().to_string(), "first");
        // Both empty: the stream just ends.
        let s = resolve_families(
            after(1, Ok(Vec::new())),
            after(2, Ok(Vec::new())),
            DEFAULT_RESOLUTION_DELAY,
        );
        assert!(collect(s).await.is_empty());
    }
}
