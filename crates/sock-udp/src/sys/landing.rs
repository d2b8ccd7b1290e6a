//! Receiving a batch straight into a socket's landing zone: the one place
//! that writes datagrams into uninitialised memory, and says why that is
//! sound.

use std::io;
use std::mem::MaybeUninit;

use bytes::BytesMut;
use socket2::SockRef;

use super::{recv, RecvMeta, BATCH_SIZE};
use crate::rx::ARENA_SIZE;

/// How a batch's buffers are laid out: `count` slots, each a `head` of the
/// landing zone and a `tail` in the scratch buffer, `stride` bytes apart.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slots {
    /// How many datagrams to ask for.
    pub(crate) count: usize,
    /// Room per datagram in the landing zone (0 with receive offload).
    pub(crate) head: usize,
    /// Distance between tails in `scratch`.
    pub(crate) stride: usize,
    /// Room per datagram in `scratch`, after its head.
    pub(crate) tail: usize,
}

/// Receives up to `slots.count` datagrams. Each lands in `landing`'s spare
/// capacity when it fits its head; a longer one continues in `scratch` and is
/// then copied whole into `arena`. Afterwards `landing` holds `got * head`
/// initialised bytes (what a datagram left of its head is zeroed). Returns
/// `got`, with `meta` filled for each.
pub(crate) fn recv_landing(
    socket: SockRef<'_>,
    slots: Slots,
    landing: &mut BytesMut,
    scratch: &mut [u8],
    arena: &mut BytesMut,
    meta: &mut [RecvMeta; BATCH_SIZE],
) -> io::Result<usize> {
    let Slots {
        count,
        head,
        stride,
        tail,
    } = slots;
    let heads = count * head;
    let mut head_slices = landing.spare_capacity_mut()[..heads].chunks_mut(head.max(1));
    let mut bufs: Vec<(&mut [MaybeUninit<u8>], &mut [u8])> = scratch
        .chunks_mut(stride)
        .map(|chunk| (head_slices.next().unwrap_or_default(), &mut chunk[..tail]))
        .collect();
    let got = recv(socket, &mut bufs, meta)?;
    let copied: usize = meta[..got]
        .iter()
        .filter(|m| m.len > head)
        .map(|m| m.len)
        .sum();
    if arena.capacity() < copied {
        // Reclaims the arena's allocation when every datagram copied
        // there before is gone, else starts a new one.
        arena.reserve(copied.max(ARENA_SIZE));
    }
    for ((h, t), m) in bufs.iter_mut().zip(&meta[..got]) {
        if m.len > head {
            // SAFETY: the kernel filled the whole head before the tail.
            arena.extend_from_slice(unsafe { assume_init(h) });
            arena.extend_from_slice(&t[..m.len - head]);
        } else {
            // What the datagram left of its head is handed out with the
            // landing zone (and skipped): make it initialised bytes.
            h[m.len..].fill(MaybeUninit::new(0));
        }
    }
    drop(bufs);
    // SAFETY: each of the first `got` heads is initialised: the kernel
    // wrote a datagram's bytes, the rest was zeroed just above, and
    // `heads` is within the spare capacity.
    unsafe { landing.set_len(got * head) };
    Ok(got)
}

/// The bytes of a slice the caller knows to be initialised.
///
/// # Safety
///
/// Every byte of `bytes` is initialised.
unsafe fn assume_init(bytes: &[MaybeUninit<u8>]) -> &[u8] {
    // SAFETY: `MaybeUninit<u8>` has the layout of `u8`, and the caller
    // promises the bytes are initialised.
    unsafe { &*(std::ptr::from_ref::<[MaybeUninit<u8>]>(bytes) as *const [u8]) }
}
