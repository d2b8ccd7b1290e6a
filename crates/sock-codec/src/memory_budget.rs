//! [`FrameMemoryBudget`]: a limit, shared by many decoders, on the memory
//! held in frames that have started to arrive but are not whole yet.
//!
//! A peer that announces a large frame and then sends it slowly (or never
//! finishes it) holds the decoder's buffer: what it sent, and the room kept
//! for what it announced (at most 16 times what it sent). One such peer is
//! bounded by the frame limit; many of them together are bounded by the
//! budget they share: when it is spent, the decoder that asks for more fails
//! with `LimitExceeded` naming `frame_memory_budget`, and every other
//! connection goes on.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use sock_core::{Error, Result};

/// The size of the budget that decoders share unless given another: 256 MiB
/// for the whole process.
pub const DEFAULT_FRAME_MEMORY_BUDGET: usize = 256 * 1024 * 1024;

/// How many bytes of room for a partial frame each decoder holds without
/// charging the budget (64 KiB): small frames never touch it.
pub const FRAME_MEMORY_ALLOWANCE: usize = 64 * 1024;

/// The limit named in the error when the budget is spent.
pub(crate) const BUDGET_LIMIT: &str = "frame_memory_budget";

/// A limit on the bytes buffered in partial frames, shared by every decoder
/// given a clone of it (for example all the connections of one listener).
///
/// Each decoder holds up to [`FRAME_MEMORY_ALLOWANCE`] of room for a partial
/// frame for free; beyond that, the room its buffer keeps for the frame
/// (what arrived, and at most 16 times that) is charged until the frame is
/// whole (and handed out) or the decoder is dropped. Decoders that are given
/// no budget share one process-wide budget of
/// [`DEFAULT_FRAME_MEMORY_BUDGET`] ([`FrameMemoryBudget::process_default`]).
///
/// ```
/// use sock_codec::{FrameMemoryBudget, LengthPrefixedCodec};
///
/// // Every connection of this server together may hold 64 MiB of partial frames.
/// let budget = FrameMemoryBudget::new(64 * 1024 * 1024);
/// let codec = LengthPrefixedCodec::builder()
///     .memory_budget(budget.clone())
///     .new_codec();
/// assert_eq!(budget.in_use(), 0);
/// # drop(codec);
/// ```
#[derive(Debug, Clone)]
pub struct FrameMemoryBudget {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limit: usize,
    used: AtomicUsize,
}

impl FrameMemoryBudget {
    /// A budget of `limit` bytes (`usize::MAX` for no limit).
    pub fn new(limit: usize) -> Self {
        Self {
            inner: Arc::new(Inner {
                limit,
                used: AtomicUsize::new(0),
            }),
        }
    }

    /// The process-wide budget that decoders share unless given another
    /// ([`DEFAULT_FRAME_MEMORY_BUDGET`]).
    pub fn process_default() -> Self {
        static DEFAULT: OnceLock<FrameMemoryBudget> = OnceLock::new();
        DEFAULT
            .get_or_init(|| Self::new(DEFAULT_FRAME_MEMORY_BUDGET))
            .clone()
    }

    /// The budget's size, in bytes.
    pub fn limit(&self) -> usize {
        self.inner.limit
    }

    /// The bytes charged now.
    pub fn in_use(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// Takes `bytes` from the budget, or says how much was in use.
    fn try_take(&self, bytes: usize) -> Result<(), usize> {
        let used = &self.inner.used;
        let mut now = used.load(Ordering::Relaxed);
        loop {
            let after = now.checked_add(bytes).filter(|&n| n <= self.inner.limit);
            let Some(after) = after else {
                return Err(now);
            };
            match used.compare_exchange_weak(now, after, Ordering::AcqRel, Ordering::Relaxed) {
                Ok(_) => return Ok(()),
                Err(actual) => now = actual,
            }
        }
    }

    fn give_back(&self, bytes: usize) {
        self.inner.used.fetch_sub(bytes, Ordering::AcqRel);
    }

    fn is(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl PartialEq for FrameMemoryBudget {
    /// Two handles are equal when they share one budget.
    fn eq(&self, other: &Self) -> bool {
        self.is(other)
    }
}

impl Eq for FrameMemoryBudget {}

/// What one decoder holds of a [`FrameMemoryBudget`]: a decoder of another
/// crate (sock-websocket's) charges the room it keeps for a partial frame
/// through one, as `LengthPrefixedCodec` does. A clone holds nothing (it is
/// a new decoder); dropping gives the holding back.
#[derive(Debug)]
pub struct FrameMemoryCharge {
    budget: FrameMemoryBudget,
    held: usize,
}

impl FrameMemoryCharge {
    /// A charge on `budget` that holds nothing yet.
    pub fn new(budget: FrameMemoryBudget) -> Self {
        Self { budget, held: 0 }
    }

    /// The budget charged.
    pub fn budget(&self) -> &FrameMemoryBudget {
        &self.budget
    }

    /// Makes the holding match `buffered` bytes of room for a partial frame
    /// (less the free allowance).
    ///
    /// # Errors
    ///
    /// [`Error::LimitExceeded`] naming `frame_memory_budget` when the budget
    /// cannot give what more is needed; the holding is unchanged.
    #[inline]
    pub fn hold(&mut self, buffered: usize) -> Result<()> {
        let want = buffered.saturating_sub(FRAME_MEMORY_ALLOWANCE);
        if want <= self.held {
            if want < self.held {
                self.budget.give_back(self.held - want);
                self.held = want;
            }
            return Ok(());
        }
        let more = want - self.held;
        match self.budget.try_take(more) {
            Ok(()) => {
                self.held = want;
                Ok(())
            }
            Err(in_use) => Err(Error::LimitExceeded {
                limit: BUDGET_LIMIT,
                actual: in_use.saturating_add(more) as u64,
                max: self.budget.limit() as u64,
            }),
        }
    }

    /// Gives everything held back (the frame is whole, or abandoned).
    #[inline]
    pub fn release(&mut self) {
        if self.held > 0 {
            self.budget.give_back(self.held);
            self.held = 0;
        }
    }
}

impl Clone for FrameMemoryCharge {
    fn clone(&self) -> Self {
        Self::new(self.budget.clone())
    }
}

impl Drop for FrameMemoryCharge {
    fn drop(&mut self) {
        self.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_beyond_the_allowance_are_bounded_and_given_back() {
        let budget = FrameMemoryBudget::new(100);
        let mut a = FrameMemoryCharge::new(budget.clone());
        let mut b = FrameMemoryCharge::new(budget.clone());
        a.hold(FRAME_MEMORY_ALLOWANCE).unwrap();
        assert_eq!(budget.in_use(), 0, "the allowance is free");
        a.hold(FRAME_MEMORY_ALLOWANCE + 60).unwrap();
        assert_eq!(budget.in_use(), 60);
        let err = b.hold(FRAME_MEMORY_ALLOWANCE + 50).unwrap_err();
        assert_eq!(
            err.to_string(),
            "frame_memory_budget exceeded: 110 bytes is more than the maximum of 100"
        );
        assert_eq!(budget.in_use(), 60, "a refused charge takes nothing");
        b.hold(FRAME_MEMORY_ALLOWANCE + 40).unwrap();
        assert_eq!(budget.in_use(), 100);
        a.release();
        assert_eq!(budget.in_use(), 40);
        let c = b.clone();
        assert_eq!(c.held, 0);
        drop(b);
        assert_eq!(budget.in_use(), 0);
    }
}
