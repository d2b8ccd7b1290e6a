//! Deadlines: `later`, an instant a timeout away that never overflows, and
//! `ConnectTimer`, the one timer of a connect, shared by its steps (the
//! address race, then the TLS handshake).
//!
//! Each timer a task registers with tokio's time driver costs a lock, and the
//! first one (or one earlier than any registered) wakes the driver through its
//! event descriptor: a system call. A TLS connect bounded separately by the
//! connect deadline and the handshake timeout would register two. Here the
//! timer is made once, set to the earliest instant any step may need, and
//! moved later as the steps go (moving a registered timer later does not wake
//! the driver).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::{sleep_until, Instant, Sleep};

/// How far a timeout too long to add saturates: about a century, which no
/// connection waits out.
const FOREVER: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);

/// `timeout` after `from`; a timeout too long for the clock (`Duration::MAX`
/// for "never") gives an instant a century away instead of overflowing.
pub(crate) fn later(from: Instant, timeout: Duration) -> Instant {
    from.checked_add(timeout).unwrap_or_else(|| from + FOREVER)
}

/// The timer of one connect: made when a step first waits, first set to
/// `first`, moved later as the steps need it.
#[derive(Debug)]
pub(crate) struct ConnectTimer {
    /// The earliest instant a step may ask for.
    first: Instant,
    sleep: Option<Pin<Box<Sleep>>>,
}

impl ConnectTimer {
    /// A timer whose steps will ask for no instant before `first`.
    pub(crate) fn new(first: Instant) -> Self {
        Self { first, sleep: None }
    }

    /// Ready once `at` has passed. `at` must not be before the `first` given
    /// to [`new`](Self::new); steps may ask for different instants in turn.
    ///
    /// Until `at`, the timer wakes the task (at the latest) at `at`, or
    /// earlier at an instant a former step set: the caller then polls again,
    /// as a woken future does, and the timer moves on to `at`.
    pub(crate) fn poll_until(&mut self, at: Instant, cx: &mut Context<'_>) -> Poll<()> {
        let first = self.first.min(at);
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(sleep_until(first)));
        loop {
            if sleep.deadline() > at {
                // A step may end sooner than the last one did.
                sleep.as_mut().reset(at);
            }
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            if sleep.deadline() >= at {
                return Poll::Ready(());
            }
            sleep.as_mut().reset(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn each_step_ends_at_its_own_instant() {
        let start = Instant::now();
        let mut timer = ConnectTimer::new(start + Duration::from_secs(10));
        // The first step's instant is later than the first wake: the timer
        // wakes at 10 s, finds 30 s not passed, and waits on.
        poll_fn(|cx| timer.poll_until(start + Duration::from_secs(30), cx)).await;
        assert_eq!(Instant::now(), start + Duration::from_secs(30));
        // A later step asks for a later instant.
        poll_fn(|cx| timer.poll_until(start + Duration::from_secs(35), cx)).await;
        assert_eq!(Instant::now(), start + Duration::from_secs(35));
    }

    #[tokio::test(start_paused = true)]
    async fn a_step_may_end_sooner_than_the_one_before() {
        let start = Instant::now();
        let mut timer = ConnectTimer::new(start + Duration::from_secs(5));
        // The first step waits for 30 s: the timer wakes at 5 s and moves on
        // to 30 s.
        assert!(poll_once(&mut timer, start + Duration::from_secs(30)).is_pending());
        tokio::time::advance(Duration::from_secs(6)).await;
        assert!(poll_once(&mut timer, start + Duration::from_secs(30)).is_pending());
        // The next step ends sooner, at 8 s: the timer comes back to it.
        poll_fn(|cx| timer.poll_until(start + Duration::from_secs(8), cx)).await;
        assert_eq!(Instant::now(), start + Duration::from_secs(8));
    }

    #[test]
    fn a_timeout_too_long_for_the_clock_saturates() {
        let now = Instant::now();
        assert!(later(now, Duration::MAX) > now + Duration::from_secs(10 * 365 * 24 * 3600));
        assert_eq!(
            later(now, Duration::from_secs(3)),
            now + Duration::from_secs(3)
        );
    }

    /// One poll of `poll_until`, with a waker that does nothing.
    fn poll_once(timer: &mut ConnectTimer, at: Instant) -> Poll<()> {
        let waker = std::task::Waker::noop();
        timer.poll_until(at, &mut Context::from_waker(waker))
    }
}
