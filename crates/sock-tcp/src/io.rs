//! What every byte of a `StreamSocket` passes through: the transport (plain TCP,
//! or TLS over it with the `tls` feature), `cancel_io`, the idle timeout, and bytes kept from an earlier reader.
//!
//! Everything here is generic over `AsyncRead`/`AsyncWrite`, so another
//! transport (TLS over the same TCP stream) only adds a `Transport` variant and
//! its split halves; cancellation, idle timeouts and batching come for free.

use std::future::poll_fn;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};

use bytes::{Buf, Bytes};
use sock_core::Error;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::idle::{idle_timed_out, Activity, Direction, IdleTimeouts, IdleWait};
use crate::info::Meta;

/// The TLS stream under a protected socket.
#[cfg(feature = "tls")]
pub(crate) type TlsIo = sock_tls::TlsStream<sock_tls::PrefixedIo<TcpStream>>;

/// At most this many buffers go to one vectored write (Linux's `IOV_MAX`).
pub(crate) const MAX_IOVECS: usize = 1024;

// ===== Transport =====

/// What carries a socket's bytes.
#[derive(Debug)]
pub(crate) enum Transport {
    /// Bytes go straight to the TCP stream.
    Plain(TcpStream),
    /// Bytes go through TLS over the TCP stream.
    #[cfg(feature = "tls")]
    Tls(Box<TlsIo>),
}

impl Transport {
    /// The TCP stream underneath, whatever runs on top of it.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Self::Plain(s) => s,
            #[cfg(feature = "tls")]
            Self::Tls(s) => s.get_ref().get_ref(),
        }
    }
}

impl AsyncRead for Transport {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Transport {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "tls")]
            Self::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            #[cfg(feature = "tls")]
            Self::Tls(s) => Pin::new(&mut **s).poll_shutdown(cx),
        }
    }
}

// ===== Shared state =====

/// What a socket and its split halves share.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) cancel: CancelState,
    pub(crate) activity: Activity,
    pub(crate) meta: Meta,
    /// The graceful shutdown of the server that handed the socket out.
    pub(crate) server_shutdown: std::sync::OnceLock<tokio_util::sync::CancellationToken>,
}

impl Shared {
    pub(crate) fn new(meta: Meta) -> Arc<Self> {
        Arc::new(Self {
            cancel: CancelState::default(),
            activity: Activity::new(),
            meta,
            server_shutdown: std::sync::OnceLock::new(),
        })
    }
}

/// `cancel_io` state: a generation counter that `cancel_io` bumps, and the
/// waker of the operation waiting in each direction.
///
/// An operation that returned `Pending` remembers the generation it started
/// in; when it is polled again in a later generation it ends with
/// [`Error::Cancelled`]. The counter is only read on the hot path.
#[derive(Debug, Default)]
pub(crate) struct CancelState {
    generation: AtomicU64,
    read: Mutex<Option<Waker>>,
    write: Mutex<Option<Waker>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CancelState {
    /// Ends every operation waiting now, in both directions.
    pub(crate) fn cancel(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        for slot in [&self.read, &self.write] {
            if let Some(waker) = lock(slot).as_ref() {
                waker.wake_by_ref();
            }
        }
    }

    fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn slot(&self, dir: Direction) -> &Mutex<Option<Waker>> {
        match dir {
            Direction::Read => &self.read,
            Direction::Write => &self.write,
        }
    }

    fn register(&self, dir: Direction, waker: &Waker) {
        let mut slot = lock(self.slot(dir));
        match slot.as_ref() {
            Some(w) if w.will_wake(waker) => {}
            _ => *slot = Some(waker.clone()),
        }
    }

    /// Whether the operation waiting in `dir` when `cancel_io` ran belongs to
    /// the task now polling (and not to a future dropped since).
    fn was_waiting(&self, dir: Direction, waker: &Waker) -> bool {
        lock(self.slot(dir))
            .as_ref()
            .is_some_and(|w| w.will_wake(waker))
    }
}

// ===== Per-direction state =====

/// The state of one direction of one socket (or split half): the generation
/// its waiting operation started in, and its idle timeouts.
#[derive(Debug, Default)]
pub(crate) struct DirState {
    pending: Option<u64>,
    idle: Option<Box<IdleWait>>,
}

impl DirState {
    pub(crate) fn set_idle_timeouts(&mut self, timeouts: IdleTimeouts) {
        self.idle = IdleWait::new(timeouts);
    }

    pub(crate) fn idle_timeouts(&self) -> IdleTimeouts {
        self.idle
            .as_ref()
            .map_or_else(IdleTimeouts::default, |idle| idle.timeouts())
    }

    fn done(&mut self) {
        self.pending = None;
        if let Some(idle) = &mut self.idle {
            idle.done();
        }
    }

    /// Runs one poll of an operation in direction `dir`, ending it early with
    /// `Cancelled` when `cancel_io` ran while it waited, or with `TimedOut` when
    /// the connection stayed idle past an idle timeout while it waited.
    pub(crate) fn poll<T>(
        &mut self,
        shared: &Shared,
        dir: Direction,
        cx: &mut Context<'_>,
        op: impl FnOnce(&mut Context<'_>) -> Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        let cancel = &shared.cancel;
        let generation = cancel.generation();
        if let Some(started) = self.pending {
            if started != generation {
                self.done();
                if cancel.was_waiting(dir, cx.waker()) {
                    return Poll::Ready(Err(cancelled(dir)));
                }
            }
        }
        match op(cx) {
            Poll::Ready(res) => {
                self.done();
                Poll::Ready(res)
            }
            Poll::Pending => {
                cancel.register(dir, cx.waker());
                if cancel.generation() != generation {
                    // cancel_io ran while this operation started to wait.
                    self.done();
                    return Poll::Ready(Err(cancelled(dir)));
                }
                self.pending = Some(generation);
                if let Some(idle) = &mut self.idle {
                    if let Some((kind, after)) = idle.poll_expired(&shared.activity, dir, cx) {
                        self.done();
                        let error = idle_timed_out(dir, kind, after);
                        crate::log::idle_timed_out(shared.meta.remote, &error);
                        return Poll::Ready(Err(error.into()));
                    }
                }
                Poll::Pending
            }
        }
    }
}

fn cancelled(dir: Direction) -> io::Error {
    let operation = match dir {
        Direction::Read => "read",
        Direction::Write => "write",
    };
    Error::Cancelled { operation }.into()
}

// ===== The read side =====

/// The read direction: its state and the bytes read earlier by someone else
/// (a `Framed` given back with `from_framed`), which come out first.
#[derive(Debug, Default)]
pub(crate) struct ReadSide {
    pub(crate) state: DirState,
    pub(crate) prefix: Bytes,
}

/// `poll_read` through the prefix, `cancel_io` and the idle timer.
pub(crate) fn poll_read<R: AsyncRead + ?Sized>(
    io: Pin<&mut R>,
    side: &mut ReadSide,
    shared: &Shared,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    if !side.prefix.is_empty() {
        let n = side.prefix.len().min(buf.remaining());
        buf.put_slice(&side.prefix[..n]);
        side.prefix.advance(n);
        return Poll::Ready(Ok(()));
    }
    let before = buf.filled().len();
    let res = side
        .state
        .poll(shared, Direction::Read, cx, |cx| io.poll_read(cx, buf));
    if buf.filled().len() > before {
        shared.activity.moved(Direction::Read);
    }
    res
}

/// Records a write that moved bytes.
fn wrote(shared: &Shared, res: Poll<io::Result<usize>>) -> Poll<io::Result<usize>> {
    if let Poll::Ready(Ok(n)) = res {
        if n > 0 {
            shared.activity.moved(Direction::Write);
        }
    }
    res
}

/// `poll_write` through `cancel_io` and the idle timer.
pub(crate) fn poll_write<W: AsyncWrite + ?Sized>(
    io: Pin<&mut W>,
    state: &mut DirState,
    shared: &Shared,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    wrote(
        shared,
        state.poll(shared, Direction::Write, cx, |cx| io.poll_write(cx, buf)),
    )
}

/// `poll_write_vectored` through `cancel_io` and the idle timer.
pub(crate) fn poll_write_vectored<W: AsyncWrite + ?Sized>(
    io: Pin<&mut W>,
    state: &mut DirState,
    shared: &Shared,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    wrote(
        shared,
        state.poll(shared, Direction::Write, cx, |cx| {
            io.poll_write_vectored(cx, bufs)
        }),
    )
}

/// `poll_flush` through `cancel_io` and the idle timer.
pub(crate) fn poll_flush<W: AsyncWrite + ?Sized>(
    io: Pin<&mut W>,
    state: &mut DirState,
    shared: &Shared,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    state.poll(shared, Direction::Write, cx, |cx| io.poll_flush(cx))
}

/// `poll_shutdown` through `cancel_io` and the idle timer.
pub(crate) fn poll_shutdown<W: AsyncWrite + ?Sized>(
    io: Pin<&mut W>,
    state: &mut DirState,
    shared: &Shared,
    cx: &mut Context<'_>,
) -> Poll<io::Result<()>> {
    state.poll(shared, Direction::Write, cx, |cx| io.poll_shutdown(cx))
}

// ===== Batched sends =====

/// Writes every buffer, in order, with as few vectored writes as the kernel
/// allows, then flushes: done only when all of it is written.
pub(crate) async fn write_batch<W: AsyncWrite + Unpin + ?Sized>(
    io: &mut W,
    bufs: &[Bytes],
) -> io::Result<()> {
    // The first buffer not yet fully written, and how much of it is.
    let mut index = 0;
    let mut offset = 0;
    let mut slices: Vec<IoSlice<'_>> = Vec::with_capacity(bufs.len().min(MAX_IOVECS));
    loop {
        while index < bufs.len() && offset == bufs[index].len() {
            index += 1;
            offset = 0;
        }
        if index == bufs.len() {
            break;
        }
        slices.clear();
        slices.push(IoSlice::new(&bufs[index][offset..]));
        slices.extend(
            bufs[index + 1..]
                .iter()
                .filter(|b| !b.is_empty())
                .take(MAX_IOVECS - 1)
                .map(|b| IoSlice::new(b)),
        );
        let mut written = poll_fn(|cx| Pin::new(&mut *io).poll_write_vectored(cx, &slices)).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        while written > 0 {
            let left = bufs[index].len() - offset;
            if written >= left {
                written -= left;
                index += 1;
                offset = 0;
            } else {
                offset += written;
                written = 0;
            }
        }
    }
    poll_fn(|cx| Pin::new(&mut *io).poll_flush(cx)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `max` bytes per call, recording each call.
    struct Trickle {
        max: usize,
        data: Vec<u8>,
        calls: usize,
    }

    impl AsyncWrite for Trickle {
        fn poll_write(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = buf.len().min(self.max);
            self.data.extend_from_slice(&buf[..n]);
            self.calls += 1;
            Poll::Ready(Ok(n))
        }

        fn poll_write_vectored(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
            bufs: &[IoSlice<'_>],
        ) -> Poll<io::Result<usize>> {
            let mut left = self.max;
            let mut n = 0;
            for b in bufs {
                let take = b.len().min(left);
                self.data.extend_from_slice(&b[..take]);
                left -= take;
                n += take;
            }
            self.calls += 1;
            Poll::Ready(Ok(n))
        }

        fn is_write_vectored(&self) -> bool {
            true
        }

        fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }

        fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test]
    async fn write_batch_writes_everything_in_order_across_partial_writes() {
        let bufs: Vec<Bytes> = (0..50u8)
            .map(|i| Bytes::from(vec![i; usize::from(i % 7)]))
            .collect();
        let expected: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        let mut w = Trickle {
            max: 5,
            data: Vec::new(),
            calls: 0,
        };
        write_batch(&mut w, &bufs).await.unwrap();
        assert_eq!(w.data, expected);
        assert_eq!(w.calls, expected.len().div_ceil(5));
    }

    #[tokio::test]
    async fn write_batch_uses_one_call_when_the_kernel_takes_it_all() {
        let bufs = vec![Bytes::from_static(b"Hello, World!"); 200];
        let mut w = Trickle {
            max: usize::MAX,
            data: Vec::new(),
            calls: 0,
        };
        write_batch(&mut w, &bufs).await.unwrap();
        assert_eq!(w.calls, 1);
        assert_eq!(w.data.len(), 13 * 200);
    }

    #[tokio::test]
    async fn write_batch_of_nothing_writes_nothing() {
        let mut w = Trickle {
            max: 1,
            data: Vec::new(),
            calls: 0,
        };
        write_batch(&mut w, &[Bytes::new(), Bytes::new()])
            .await
            .unwrap();
        assert_eq!(w.calls, 0);
    }

    #[test]
    fn a_write_that_accepts_nothing_is_an_error() {
        struct Zero;
        impl AsyncWrite for Zero {
            fn poll_write(
                self: Pin<&mut Self>,
                _: &mut Context<'_>,
                _: &[u8],
            ) -> Poll<io::Result<usize>> {
                Poll::Ready(Ok(0))
            }
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
            fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let err = rt
            .block_on(write_batch(&mut Zero, &[Bytes::from_static(b"x")]))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WriteZero);
    }

    fn test_shared() -> Arc<Shared> {
        let peer = "127.0.0.1:9".parse().unwrap();
        Shared::new(Meta::new(
            None,
            peer,
            None,
            &crate::options::SocketOptions::default(),
        ))
    }

    #[test]
    fn an_operation_pending_across_cancel_io_ends_cancelled_and_the_next_one_runs() {
        struct Flag(std::sync::atomic::AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let flag = Arc::new(Flag(false.into()));
        let waker = Waker::from(Arc::clone(&flag));
        let shared = test_shared();
        let cancel = &shared.cancel;
        let mut state = DirState::default();
        let mut cx = Context::from_waker(&waker);
        let pending = state.poll::<()>(&shared, Direction::Read, &mut cx, |_| Poll::Pending);
        assert!(pending.is_pending());
        cancel.cancel();
        assert!(
            flag.0.load(Ordering::SeqCst),
            "cancel_io did not wake the waiting task"
        );
        let Poll::Ready(Err(err)) =
            state.poll::<()>(&shared, Direction::Read, &mut cx, |_| Poll::Ready(Ok(())))
        else {
            panic!("the waiting read was not cancelled");
        };
        assert_eq!(
            sock_core::SocketErrorStatus::from(&err),
            sock_core::SocketErrorStatus::OperationAborted
        );
        // The next read is a new operation and runs.
        let next = state.poll(&shared, Direction::Read, &mut cx, |_| Poll::Ready(Ok(7)));
        assert!(matches!(next, Poll::Ready(Ok(7))));
    }

    #[test]
    fn cancel_io_leaves_the_other_direction_alone_when_it_is_not_waiting() {
        let shared = test_shared();
        let cancel = &shared.cancel;
        let mut write = DirState::default();
        let mut cx = Context::from_waker(Waker::noop());
        cancel.cancel();
        let res = write.poll(&shared, Direction::Write, &mut cx, |_| Poll::Ready(Ok(3)));
        assert!(matches!(res, Poll::Ready(Ok(3))));
    }
}
