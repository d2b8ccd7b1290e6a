//! Idle detection: when a socket last moved bytes in each direction, the
//! idle timeouts that end a waiting operation, and [`IdleHandle`], which tells
//! a handler the connection went idle without closing it (for heartbeats).
//!
//! The model is Netty's `IdleStateHandler`: a connection is *read-idle* when
//! no bytes were read for a while, *write-idle* when none were written, and
//! *all-idle* when neither happened. Idle timeouts are checked while an
//! operation waits: the waiting operation fails with `TimedOut` once the
//! connection has been idle (of the timeout's kind) for the timeout, counted
//! from the later of the last traffic and the moment the operation started
//! waiting.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::Context;
use std::time::Duration;

use sock_core::Error;
use tokio::time::{Instant, Sleep};

/// The two directions of a socket; each has at most one operation in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

/// Which traffic an idle timeout or an idle wait watches (Netty's
/// `IdleState`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdleKind {
    /// No bytes read (`READER_IDLE`).
    Read,
    /// No bytes written (`WRITER_IDLE`).
    Write,
    /// No bytes read and none written (`ALL_IDLE`).
    All,
}

impl IdleKind {
    /// Every kind, in the order settings list them.
    pub(crate) const ALL: [Self; 3] = [Self::All, Self::Read, Self::Write];
}

/// The idle timeouts that end a waiting operation, one per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IdleTimeouts {
    pub(crate) read: Option<Duration>,
    pub(crate) write: Option<Duration>,
    pub(crate) all: Option<Duration>,
}

impl IdleTimeouts {
    /// The timeout of `kind`.
    pub(crate) fn get(&self, kind: IdleKind) -> Option<Duration> {
        match kind {
            IdleKind::Read => self.read,
            IdleKind::Write => self.write,
            IdleKind::All => self.all,
        }
    }

    /// Sets the timeout of `kind`.
    pub(crate) fn set(&mut self, kind: IdleKind, timeout: Option<Duration>) {
        match kind {
            IdleKind::Read => self.read = timeout,
            IdleKind::Write => self.write = timeout,
            IdleKind::All => self.all = timeout,
        }
    }

    /// Whether any timeout is set.
    pub(crate) fn any(&self) -> bool {
        self.read.is_some() || self.write.is_some() || self.all.is_some()
    }

    fn configured(&self) -> impl Iterator<Item = (IdleKind, Duration)> + '_ {
        IdleKind::ALL
            .into_iter()
            .filter_map(|kind| self.get(kind).map(|after| (kind, after)))
    }

    /// The setting's name, for errors.
    pub(crate) fn name(kind: IdleKind) -> &'static str {
        match kind {
            IdleKind::Read => "read_idle_timeout",
            IdleKind::Write => "write_idle_timeout",
            IdleKind::All => "idle_timeout",
        }
    }
}

// ===== Activity =====

/// When a socket last moved bytes in each direction, shared by the socket and
/// its halves. Nothing is recorded (no clock is read) until an idle timeout
/// is set or an [`IdleHandle`] is made.
#[derive(Debug)]
pub(crate) struct Activity {
    base: Instant,
    tracking: AtomicBool,
    /// Nanoseconds from `base` to the last read and the last write.
    last_read: AtomicU64,
    last_write: AtomicU64,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            base: Instant::now(),
            tracking: AtomicBool::new(false),
            last_read: AtomicU64::new(0),
            last_write: AtomicU64::new(0),
        }
    }

    /// Starts recording traffic; until now the socket counts as busy.
    pub(crate) fn track(&self) {
        if !self.tracking.swap(true, Ordering::AcqRel) {
            let now = self.offset(Instant::now());
            self.last_read.fetch_max(now, Ordering::AcqRel);
            self.last_write.fetch_max(now, Ordering::AcqRel);
        }
    }

    /// Records that bytes moved in `dir` now.
    #[inline]
    pub(crate) fn moved(&self, dir: Direction) {
        if self.tracking.load(Ordering::Relaxed) {
            let now = self.offset(Instant::now());
            let slot = match dir {
                Direction::Read => &self.last_read,
                Direction::Write => &self.last_write,
            };
            slot.store(now, Ordering::Relaxed);
        }
    }

    /// The last traffic that counts for `kind`.
    pub(crate) fn last(&self, kind: IdleKind) -> Instant {
        let read = self.last_read.load(Ordering::Relaxed);
        let write = self.last_write.load(Ordering::Relaxed);
        let nanos = match kind {
            IdleKind::Read => read,
            IdleKind::Write => write,
            IdleKind::All => read.max(write),
        };
        self.base + Duration::from_nanos(nanos)
    }

    fn offset(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }
}

// ===== Idle timeouts on a waiting operation =====

/// The idle timeouts of one direction of a socket, and the timer of the
/// operation waiting in it.
#[derive(Debug)]
pub(crate) struct IdleWait {
    timeouts: IdleTimeouts,
    sleep: Option<Pin<Box<Sleep>>>,
    /// Whether an operation waits (or waited and was dropped since).
    waiting: bool,
    /// Where idle time starts counting, at the latest, while the socket is
    /// in use: the start of the first wait after it was left alone.
    since: Option<Instant>,
}

impl IdleWait {
    /// `None` when no timeout is set.
    pub(crate) fn new(timeouts: IdleTimeouts) -> Option<Box<Self>> {
        timeouts.any().then(|| {
            Box::new(Self {
                timeouts,
                sleep: None,
                waiting: false,
                since: None,
            })
        })
    }

    pub(crate) fn timeouts(&self) -> IdleTimeouts {
        self.timeouts
    }

    /// The operation in this direction completed (or was cancelled).
    pub(crate) fn done(&mut self) {
        self.waiting = false;
    }

    /// A quarter of the shortest timeout, from 20 ms to 1 s: how late past
    /// its deadline a timer may be seen and still belong to an operation
    /// that waited for it, and how soon after the last traffic in its
    /// direction an operation must start to continue the same stretch of
    /// use.
    fn grace(&self) -> Duration {
        let shortest = self
            .timeouts
            .configured()
            .map(|(_, after)| after)
            .min()
            .unwrap_or(Duration::ZERO);
        (shortest / 4).clamp(Duration::from_millis(20), Duration::from_secs(1))
    }

    /// Called when an operation in `dir` returned `Pending`: arms the timer
    /// for the earliest idle deadline, and returns the timeout that has run
    /// out, if one has.
    ///
    /// A new wait continues the socket's stretch of use when the previous
    /// operation in its direction moved bytes just before (a read loop, a
    /// `select!` loop); after a pause longer than that (the socket was left
    /// alone) idle time starts again at the new wait. A waiting operation
    /// is polled as soon as its timer fires; one that first sees the
    /// deadline well after it passed was not waiting then (its future was
    /// dropped), so it starts a new wait too.
    pub(crate) fn poll_expired(
        &mut self,
        activity: &Activity,
        dir: Direction,
        cx: &mut Context<'_>,
    ) -> Option<(IdleKind, Duration)> {
        let mut now = Instant::now();
        let grace = self.grace();
        let stale = self.waiting
            && self
                .sleep
                .as_ref()
                .is_some_and(|sleep| now > sleep.deadline() + grace);
        if !self.waiting || stale {
            let own = match dir {
                Direction::Read => IdleKind::Read,
                Direction::Write => IdleKind::Write,
            };
            let busy = now.saturating_duration_since(activity.last(own)) <= grace;
            if stale || !busy || self.since.is_none() {
                self.since = Some(now);
            }
            self.waiting = true;
        }
        let since = self.since.unwrap_or(now);
        loop {
            let (deadline, kind, after) = self
                .timeouts
                .configured()
                .map(|(kind, after)| (activity.last(kind).max(since) + after, kind, after))
                .min_by_key(|&(deadline, _, _)| deadline)?;
            if now >= deadline {
                self.waiting = false;
                return Some((kind, after));
            }
            let sleep = match &mut self.sleep {
                Some(sleep) => {
                    if sleep.deadline() != deadline {
                        sleep.as_mut().reset(deadline);
                    }
                    sleep
                }
                None => self
                    .sleep
                    .insert(Box::pin(tokio::time::sleep_until(deadline))),
            };
            if sleep.as_mut().poll(cx).is_pending() {
                return None;
            }
            now = Instant::now();
        }
    }
}

/// The error of an operation in `dir` ended by the idle timeout of `kind`.
pub(crate) fn idle_timed_out(dir: Direction, kind: IdleKind, after: Duration) -> Error {
    let operation = match (dir, kind) {
        (Direction::Read, IdleKind::All) => "read (idle_timeout)",
        (Direction::Read, IdleKind::Read) => "read (read_idle_timeout)",
        (Direction::Read, IdleKind::Write) => "read (write_idle_timeout)",
        (Direction::Write, IdleKind::All) => "write (idle_timeout)",
        (Direction::Write, IdleKind::Read) => "write (read_idle_timeout)",
        (Direction::Write, IdleKind::Write) => "write (write_idle_timeout)",
    };
    Error::TimedOut { operation, after }
}
