//! Incremental UTF-8 validation: text arrives in fragments that may split a
//! character, and invalid text must fail as soon as it is seen (RFC 6455
//! section 8.1), not when the message ends.

/// Validates text fed in pieces; keeps the (at most 3) bytes of a character
/// that a piece ended in.
#[derive(Debug, Default, Clone)]
pub(crate) struct Utf8Validator {
    pending: [u8; 4],
    pending_len: usize,
}

/// The text is not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InvalidUtf8;

impl Utf8Validator {
    /// Checks the next piece; fails as soon as a byte makes the text invalid.
    pub(crate) fn feed(&mut self, mut data: &[u8]) -> Result<(), InvalidUtf8> {
        if self.pending_len > 0 {
            let width = char_width(self.pending[0]);
            let take = (width - self.pending_len).min(data.len());
            self.pending[self.pending_len..self.pending_len + take].copy_from_slice(&data[..take]);
            self.pending_len += take;
            data = &data[take..];
            match std::str::from_utf8(&self.pending[..self.pending_len]) {
                Ok(_) => self.pending_len = 0,
                // Still a valid beginning of a character: wait for more.
                Err(e) if e.error_len().is_none() => return Ok(()),
                Err(_) => return Err(InvalidUtf8),
            }
        }
        match std::str::from_utf8(data) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_none() => {
                let tail = &data[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len();
                Ok(())
            }
            Err(_) => Err(InvalidUtf8),
        }
    }

    /// Checks that the text did not end inside a character.
    pub(crate) fn finish(&mut self) -> Result<(), InvalidUtf8> {
        let complete = self.pending_len == 0;
        self.pending_len = 0;
        if complete {
            Ok(())
        } else {
            Err(InvalidUtf8)
        }
    }
}

/// The length of the character a lead byte starts (only called on lead
/// bytes `from_utf8` reported as an incomplete character).
fn char_width(lead: u8) -> usize {
    match lead {
        0xF0..=0xF4 => 4,
        0xE0..=0xEF => 3,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed_split(text: &[u8], at: &[usize]) -> Result<(), InvalidUtf8> {
        let mut v = Utf8Validator::default();
        let mut start = 0;
        for &end in at.iter().chain(std::iter::once(&text.len())) {
            v.feed(&text[start..end])?;
            start = end;
        }
        v.finish()
    }

    #[test]
    fn a_character_split_anywhere_is_valid() {
        let text = "a€𝄞ü".as_bytes();
        for i in 0..=text.len() {
            for j in i..=text.len() {
                assert_eq!(feed_split(text, &[i, j]), Ok(()), "split at {i}, {j}");
            }
        }
    }

    #[test]
    fn invalid_text_fails_at_the_first_bad_piece() {
        let mut v = Utf8Validator::default();
        v.feed(b"ok \xCE").unwrap();
        // 0xCE wants a continuation byte; 'A' is not one.
        assert_eq!(v.feed(b"A and more"), Err(InvalidUtf8));

        // The Autobahn case: valid so far, then a code point above U+10FFFF.
        let mut v = Utf8Validator::default();
        v.feed(b"\xCE\xBA\xE1\xBD\xB9").unwrap();
        assert_eq!(v.feed(b"\xF4\x90"), Err(InvalidUtf8));

        // A surrogate, split before its second byte.
        let mut v = Utf8Validator::default();
        v.feed(b"\xED").unwrap();
        assert_eq!(v.feed(b"\xA0\x80"), Err(InvalidUtf8));
    }

    #[test]
    fn text_ending_inside_a_character_is_invalid() {
        let mut v = Utf8Validator::default();
        v.feed(b"\xE2\x82").unwrap();
        assert_eq!(v.finish(), Err(InvalidUtf8));
    }
}
