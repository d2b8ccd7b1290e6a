//! Masking (RFC 6455 section 5.3): applying a masking key, and drawing
//! unpredictable keys for a client's frames.

use bytes::{BufMut, BytesMut};
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha12Rng;

/// XORs `data` with the 4-byte `key`, as if `data` started at a multiple of
/// four bytes into the payload (masking and unmasking are the same).
pub(crate) fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes(repeated(key));
    let mut chunks = data.chunks_exact_mut(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        chunk.copy_from_slice(&(u64::from_ne_bytes(word) ^ wide).to_ne_bytes());
    }
    // The chunks were a multiple of 8 bytes, so the tail starts at key[0].
    for (i, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

/// `key` repeated to fill `N` bytes (`N` a multiple of four), to mask a
/// word at a time.
fn repeated<const N: usize>(key: [u8; 4]) -> [u8; N] {
    std::array::from_fn(|i| key[i % 4])
}

/// Payloads up to this long are masked on their way into the output.
const MASK_ON_COPY_MAX: usize = 256;

/// Appends `data` masked with `key` to `out` (the mask starting at the
/// payload's first byte). A short payload is masked 16 bytes at a time as
/// it is appended: masking a fresh copy reloads bytes that `memcpy`'s
/// string stores have not yet committed, a stall per frame (a client
/// sending small messages spent a fifth of its encoding there). A long one
/// is copied and then masked over the copy, both in cache, which is faster
/// there.
#[inline]
pub(crate) fn put_masked(out: &mut BytesMut, data: &[u8], key: [u8; 4]) {
    if data.len() > MASK_ON_COPY_MAX {
        let start = out.len();
        out.extend_from_slice(data);
        apply_mask(&mut out[start..], key);
        return;
    }
    out.reserve(data.len());
    let wide = u128::from_ne_bytes(repeated(key));
    let mut chunks = data.chunks_exact(16);
    for chunk in &mut chunks {
        let mut word = [0u8; 16];
        word.copy_from_slice(chunk);
        out.put_u128_ne(u128::from_ne_bytes(word) ^ wide);
    }
    // The chunks were a multiple of 16 bytes, so the tail starts at key[0].
    for (i, byte) in chunks.remainder().iter().enumerate() {
        out.put_u8(byte ^ key[i % 4]);
    }
}

/// Masking keys for a client's frames: a ChaCha12 stream (the generator
/// behind `rand`'s `StdRng`) seeded from the operating system's random source
/// when the first key is drawn, so a client sending many small frames makes
/// no system call per frame. RFC 6455 section 5.3 asks for keys derived from
/// a strong source of entropy that a script cannot predict; a
/// cryptographic stream seeded from the OS is that.
pub(crate) struct MaskKeys {
    rng: Option<Box<ChaCha12Rng>>,
}

impl std::fmt::Debug for MaskKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MaskKeys").finish_non_exhaustive()
    }
}

impl MaskKeys {
    pub(crate) fn new() -> Self {
        Self { rng: None }
    }

    /// The next key.
    #[inline]
    pub(crate) fn next_key(&mut self) -> [u8; 4] {
        let rng = self.rng.get_or_insert_with(|| {
            let mut seed = [0u8; 32];
            fill_random(&mut seed);
            Box::new(ChaCha12Rng::from_seed(seed))
        });
        rng.next_u32().to_ne_bytes()
    }
}

/// Fills `buf` from the system's random source. Should it ever fail (no
/// entropy source at all), the keys fall back to a hash-seeded sequence,
/// which still differs per frame and per process: masking protects
/// intermediaries from cache poisoning, not the data's secrecy.
pub(crate) fn fill_random(buf: &mut [u8]) {
    if getrandom::getrandom(buf).is_err() {
        use std::hash::{BuildHasher, Hasher};
        let state = std::collections::hash_map::RandomState::new();
        for chunk in buf.chunks_mut(8) {
            let mut hasher = state.build_hasher();
            hasher.write_usize(chunk.as_ptr() as usize);
            let word = hasher.finish().to_ne_bytes();
            chunk.copy_from_slice(&word[..chunk.len()]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masking_twice_gives_the_data_back_at_every_length() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        for len in 0..40 {
            let original: Vec<u8> = (0..len as u8).collect();
            let mut data = original.clone();
            apply_mask(&mut data, key);
            for (i, (m, o)) in data.iter().zip(&original).enumerate() {
                assert_eq!(*m, o ^ key[i % 4]);
            }
            apply_mask(&mut data, key);
            assert_eq!(data, original);
        }
    }

    #[test]
    fn a_masked_copy_is_the_copy_masked_at_every_length() {
        let key = [0x37, 0xfa, 0x21, 0x3d];
        // Masked on the way in up to MASK_ON_COPY_MAX, copied then masked
        // past it.
        let around = MASK_ON_COPY_MAX - 9..MASK_ON_COPY_MAX + 9;
        for len in (0..40).chain(around).chain([4099]) {
            let data: Vec<u8> = (0..len).map(|b| (b as u8).wrapping_mul(7)).collect();
            let mut expected = data.clone();
            apply_mask(&mut expected, key);
            let mut out = BytesMut::from(&b"head"[..]);
            put_masked(&mut out, &data, key);
            assert_eq!(&out[..4], b"head");
            assert_eq!(&out[4..], &expected[..], "length {len}");
        }
    }

    #[test]
    fn the_rfc_example_unmasks_to_hello() {
        // RFC 6455 section 5.7: a masked "Hello".
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(&payload, b"Hello");
    }

    #[test]
    fn keys_differ_from_key_to_key_and_from_client_to_client() {
        let mut keys = MaskKeys::new();
        let all: Vec<[u8; 4]> = (0..1000).map(|_| keys.next_key()).collect();
        let distinct: std::collections::HashSet<_> = all.iter().collect();
        // 1,000 draws of 32 bits: a repeat is about one chance in 8,600.
        assert!(distinct.len() >= 999, "{} distinct keys", distinct.len());
        let mut other = MaskKeys::new();
        let theirs: Vec<[u8; 4]> = (0..16).map(|_| other.next_key()).collect();
        assert_ne!(&all[..16], &theirs[..], "two clients drew the same keys");
    }
}
