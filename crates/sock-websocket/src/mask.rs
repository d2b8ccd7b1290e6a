//! Masking (RFC 6455 section 5.3): applying a masking key, and drawing
//! unpredictable keys for a client's frames.

/// XORs `data` with the 4-byte `key`, as if `data` started at a multiple of
/// four bytes into the payload (masking and unmasking are the same).
pub(crate) fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    let wide = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
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

/// How many keys one call to the system's random source yields.
const KEYS_PER_FILL: usize = 64;

/// Masking keys from the operating system's random source, drawn 64 at a
/// time so that a client sending many small frames makes one system call
/// per 64 frames.
#[derive(Debug)]
pub(crate) struct MaskKeys {
    pool: [u8; KEYS_PER_FILL * 4],
    next: usize,
}

impl MaskKeys {
    pub(crate) fn new() -> Self {
        Self {
            pool: [0; KEYS_PER_FILL * 4],
            next: KEYS_PER_FILL,
        }
    }

    /// The next key.
    pub(crate) fn next_key(&mut self) -> [u8; 4] {
        if self.next == KEYS_PER_FILL {
            fill_random(&mut self.pool);
            self.next = 0;
        }
        let at = self.next * 4;
        self.next += 1;
        [
            self.pool[at],
            self.pool[at + 1],
            self.pool[at + 2],
            self.pool[at + 3],
        ]
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
    fn the_rfc_example_unmasks_to_hello() {
        // RFC 6455 section 5.7: a masked "Hello".
        let mut payload = [0x7f, 0x9f, 0x4d, 0x51, 0x58];
        apply_mask(&mut payload, [0x37, 0xfa, 0x21, 0x3d]);
        assert_eq!(&payload, b"Hello");
    }

    #[test]
    fn keys_keep_coming_past_one_pool() {
        let mut keys = MaskKeys::new();
        let all: Vec<[u8; 4]> = (0..KEYS_PER_FILL * 2 + 1)
            .map(|_| keys.next_key())
            .collect();
        assert!(all.windows(2).any(|w| w[0] != w[1]));
    }
}
