//! Memory follows the bytes a peer sent, never the length it announced, and
//! partial frames share a budget: a peer that runs it out is refused with an
//! error naming `frame_memory_budget` while the others go on.

use bytes::{BufMut, BytesMut};
use sock_codec::{FrameMemoryBudget, LengthPrefixedCodec, FRAME_MEMORY_ALLOWANCE};
use sock_core::Error;
use tokio_util::codec::Decoder;

const MIB: usize = 1024 * 1024;
const KIB: usize = 1024;

fn codec(budget: &FrameMemoryBudget) -> LengthPrefixedCodec {
    LengthPrefixedCodec::builder()
        .memory_budget(budget.clone())
        .new_codec()
}

/// A header announcing `len` bytes, then `sent` of them.
fn partial(len: usize, sent: usize) -> BytesMut {
    let mut src = BytesMut::new();
    src.put_u32(len as u32);
    src.put_bytes(b'x', sent);
    src
}

#[test]
fn a_header_alone_commits_memory_for_what_arrived_not_for_what_it_announced() {
    let budget = FrameMemoryBudget::new(usize::MAX);
    let mut dec = codec(&budget);
    let mut src = partial(8 * MIB, 10);
    assert!(dec.decode(&mut src).unwrap().is_none());
    assert!(
        src.capacity() <= 128 * KIB,
        "{} bytes reserved for 10 received",
        src.capacity()
    );
    assert_eq!(budget.in_use(), 0, "the free allowance covers it");

    // As bytes arrive, the buffer keeps room for at most 16 times them, and
    // that room is charged.
    src.put_bytes(b'x', 100 * KIB);
    assert!(dec.decode(&mut src).unwrap().is_none());
    let have = src.len();
    assert!(src.capacity() <= 16 * have + 64 * KIB, "{}", src.capacity());
    assert_eq!(budget.in_use(), 16 * have - FRAME_MEMORY_ALLOWANCE);

    src.put_bytes(b'x', 8 * MIB - have);
    let frame = dec.decode(&mut src).unwrap().unwrap();
    assert_eq!(frame.len(), 8 * MIB);
    assert_eq!(budget.in_use(), 0, "a whole frame gives its charge back");
}

#[test]
fn the_decoder_that_runs_the_budget_out_is_refused_and_the_others_go_on() {
    let budget = FrameMemoryBudget::new(3 * MIB);
    let mut first = codec(&budget);
    let mut second = codec(&budget);
    let mut small = codec(&budget);

    // 700 KiB of a 2 MiB frame: room for all of it is kept, and charged
    // beyond the free allowance.
    let mut a = partial(2 * MIB, 700 * KIB);
    assert!(first.decode(&mut a).unwrap().is_none());
    let charged = 2 * MIB - FRAME_MEMORY_ALLOWANCE;
    assert_eq!(budget.in_use(), charged);

    // The same again does not fit: refused by name, nothing taken, and the
    // stream is done (the buffered bytes are freed).
    let mut b = partial(2 * MIB, 700 * KIB);
    let err = second.decode(&mut b).unwrap_err();
    assert!(
        matches!(
            err,
            Error::LimitExceeded {
                limit: "frame_memory_budget",
                max,
                ..
            } if max == (3 * MIB) as u64
        ),
        "{err}"
    );
    assert!(b.is_empty() && b.capacity() == 0);
    assert_eq!(budget.in_use(), charged);
    assert!(
        second.decode(&mut partial(4, 4)).is_err(),
        "the stream is done"
    );

    // Frames within the allowance never touch the budget.
    let mut s = partial(1000, 1000);
    assert_eq!(small.decode(&mut s).unwrap().unwrap().len(), 1000);

    // The first finishes its frame; then the budget is whole again.
    a.put_bytes(b'x', 2 * MIB - 700 * KIB);
    assert_eq!(first.decode(&mut a).unwrap().unwrap().len(), 2 * MIB);
    assert_eq!(budget.in_use(), 0);
}

#[test]
fn a_decoder_dropped_in_the_middle_of_a_frame_gives_its_charge_back() {
    let budget = FrameMemoryBudget::new(4 * MIB);
    let mut dec = codec(&budget);
    let mut src = partial(2 * MIB, 500 * KIB);
    assert!(dec.decode(&mut src).unwrap().is_none());
    assert!(budget.in_use() > 0);
    // A clone is a new decoder: it holds nothing.
    let clone = dec.clone();
    drop(dec);
    assert_eq!(budget.in_use(), 0);
    drop(clone);
    assert_eq!(budget.in_use(), 0);
}

#[test]
fn codecs_share_the_process_budget_unless_given_one() {
    let a = LengthPrefixedCodec::new();
    let b = LengthPrefixedCodec::new();
    assert_eq!(a.memory_budget(), &FrameMemoryBudget::process_default());
    assert_eq!(a.memory_budget(), b.memory_budget());
    let own = FrameMemoryBudget::new(MIB);
    assert_ne!(codec(&own).memory_budget(), a.memory_budget());
    assert_eq!(
        a.to_builder().new_codec().memory_budget(),
        a.memory_budget()
    );
}
