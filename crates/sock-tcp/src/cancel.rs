//! `cancel_io` from anywhere: `CancelIoHandle` for a socket or a listener,
//! and the listener's cancellation state.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio_util::sync::CancellationToken;

use crate::io::Shared;

/// Cancels the operations waiting on a socket or a listener, from anywhere;
/// made by [`StreamSocket::cancel_io_handle`](crate::StreamSocket::cancel_io_handle) (and the halves'
/// `cancel_io_handle`) and
/// [`StreamSocketListener::cancel_io_handle`](crate::StreamSocketListener::cancel_io_handle).
///
/// Cheap to clone and `Send`: give it to the task or thread that decides to
/// stop waiting.
#[derive(Debug, Clone)]
pub struct CancelIoHandle {
    target: CancelTarget,
}

#[derive(Debug, Clone)]
enum CancelTarget {
    Socket(Arc<Shared>),
    Listener(Arc<AcceptCancel>),
}

impl CancelIoHandle {
    pub(crate) fn new(shared: &Arc<Shared>) -> Self {
        Self {
            target: CancelTarget::Socket(Arc::clone(shared)),
        }
    }

    pub(crate) fn for_listener(cancel: &Arc<AcceptCancel>) -> Self {
        Self {
            target: CancelTarget::Listener(Arc::clone(cancel)),
        }
    }

    /// Ends every operation waiting on the socket (reads and writes) or the
    /// listener (accepts) now with [`Error::Cancelled`](sock_core::Error::Cancelled) (status
    /// `OperationAborted`), as UWP's `CancelIOAsync`; see
    /// [`StreamSocket::cancel_io`](crate::StreamSocket::cancel_io) and
    /// [`StreamSocketListener::cancel_io`](crate::StreamSocketListener::cancel_io).
    pub fn cancel_io(&self) {
        match &self.target {
            CancelTarget::Socket(shared) => shared.cancel.cancel(),
            CancelTarget::Listener(cancel) => cancel.cancel(),
        }
    }
}

/// `cancel_io` of a listener: a token that `cancel_io` cancels and replaces
/// (so only the accepts waiting on the old one end), and a generation
/// counter that catches a `cancel_io` racing with an accept's first wait.
#[derive(Debug, Default)]
pub(crate) struct AcceptCancel {
    pub(crate) generation: AtomicU64,
    token: Mutex<CancellationToken>,
}

impl AcceptCancel {
    /// Ends every accept pending now.
    pub(crate) fn cancel(&self) {
        let old = {
            let mut token = self.token.lock().unwrap_or_else(PoisonError::into_inner);
            self.generation.fetch_add(1, Ordering::AcqRel);
            std::mem::take(&mut *token)
        };
        old.cancel();
    }

    /// The current token and generation, read together.
    pub(crate) fn current(&self) -> (CancellationToken, u64) {
        let token = self.token.lock().unwrap_or_else(PoisonError::into_inner);
        (token.clone(), self.generation.load(Ordering::Acquire))
    }
}
