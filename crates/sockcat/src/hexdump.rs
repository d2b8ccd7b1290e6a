//! `--hexdump`: every message, both directions, as offset, hex bytes and
//! printable characters on stderr (as `hexdump -C` lays them out).

use std::fmt::Write as _;
use std::io::Write as _;

use crate::format::Direction;

/// The dump of one message: a header line, then 16 bytes per line.
pub(crate) fn dump(direction: Direction, peer: &str, data: &[u8]) -> String {
    let arrow = match direction {
        Direction::In => "<",
        Direction::Out => ">",
    };
    let word = match direction {
        Direction::In => "from",
        Direction::Out => "to",
    };
    let mut out = format!("{arrow} {} bytes {word} {peer}\n", data.len());
    for (i, chunk) in data.chunks(16).enumerate() {
        let _ = write!(out, "{:08x} ", i * 16);
        for j in 0..16 {
            if j == 8 {
                out.push(' ');
            }
            match chunk.get(j) {
                Some(b) => {
                    let _ = write!(out, " {b:02x}");
                }
                None => out.push_str("   "),
            }
        }
        out.push_str("  |");
        out.extend(chunk.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '.'
            }
        }));
        out.push_str("|\n");
    }
    out
}

/// Writes the dump of one message on stderr, in one write so that dumps
/// of concurrent connections do not interleave.
pub(crate) fn print(direction: Direction, peer: &str, data: &[u8]) {
    let text = dump(direction, peer, data);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_hold_sixteen_bytes_with_their_characters() {
        let text = dump(
            Direction::Out,
            "127.0.0.1:7",
            b"hello, world!\n\x00\xffmore",
        );
        assert_eq!(
            text,
            "> 20 bytes to 127.0.0.1:7\n\
             00000000  68 65 6c 6c 6f 2c 20 77  6f 72 6c 64 21 0a 00 ff  |hello, world!...|\n\
             00000010  6d 6f 72 65                                       |more|\n"
        );
    }
}
