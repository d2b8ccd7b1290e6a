//! Helpers shared by the examples (and the benches): a tiny argument parser,
//! printing a failure the way the sockets guide does, and a throw-away
//! SoftHSM2 token.
//!
//! Every example runs with no arguments as a self-contained story on loopback,
//! which is also how `cargo xtask test` smoke-runs it.

pub mod softhsm;

use std::collections::HashMap;

use sock_core::{Error, Report, SocketErrorStatus};

/// As the guide prints a failure: the status when it has one, then the message
/// with its causes.
pub fn describe(err: &Error) -> String {
    match err.status() {
        SocketErrorStatus::Unknown => Report(err).to_string(),
        status => format!("{status}: {}", Report(err)),
    }
}

/// What a peer sent, made safe to print: text stays as it is, while control
/// characters (newlines, terminal escapes), quotes, backslashes and bytes
/// that are not UTF-8 are escaped (`\n`, `\u{1b}`, `\"`, `\xff`), so a peer
/// cannot forge log lines or drive the operator's terminal.
pub fn shown(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.extend(chunk.valid().escape_debug());
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// A failure and who had it (`"server"`, `"client"`, …), for the story's prefix.
pub type Failure = (&'static str, Error);

/// Tags an error with who had it: `.map_err(fail("client"))`.
pub fn fail(who: &'static str) -> impl FnOnce(Error) -> Failure {
    move |err| (who, err)
}

/// Command-line options of the form `--name value` and bare `--flag`s.
#[derive(Debug, Default)]
pub struct Args {
    values: HashMap<String, String>,
    flags: Vec<String>,
}

impl Args {
    /// Parses `std::env::args()`, knowing which options take no value.
    ///
    /// # Errors
    ///
    /// A message for an argument that is not an option, or an option that lacks
    /// its value.
    pub fn parse(flags: &[&str]) -> Result<Self, String> {
        Self::parse_from(std::env::args().skip(1), flags)
    }

    /// Parses the given arguments (without the program name).
    ///
    /// # Errors
    ///
    /// As [`Args::parse`].
    pub fn parse_from(
        args: impl IntoIterator<Item = String>,
        flags: &[&str],
    ) -> Result<Self, String> {
        let mut out = Self::default();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let Some(name) = arg.strip_prefix("--") else {
                return Err(format!("unexpected argument {arg:?}"));
            };
            if flags.contains(&name) {
                out.flags.push(name.to_owned());
            } else {
                let value = args
                    .next()
                    .ok_or_else(|| format!("--{name} needs a value"))?;
                out.values.insert(name.to_owned(), value);
            }
        }
        Ok(out)
    }

    /// The value of `--name`, if given.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Whether the bare flag `--name` was given.
    pub fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_flags_are_parsed() {
        let args = Args::parse_from(
            ["--connect", "127.0.0.1:1", "--quiet"].map(String::from),
            &["quiet"],
        )
        .unwrap();
        assert_eq!(args.get("connect"), Some("127.0.0.1:1"));
        assert!(args.flag("quiet"));
        assert!(Args::parse_from(["--connect".to_owned()], &[]).is_err());
        assert!(Args::parse_from(["stray".to_owned()], &[]).is_err());
    }

    #[test]
    fn what_a_peer_sent_cannot_forge_a_line_or_drive_the_terminal() {
        assert_eq!(shown(b"Hello, World!"), "Hello, World!");
        assert_eq!(shown("héllo".as_bytes()), "héllo");
        assert_eq!(
            shown(b"ok\n2026-01-01 [server] forged\x1b[31m\"\xff"),
            "ok\\n2026-01-01 [server] forged\\u{1b}[31m\\\"\\xff"
        );
    }
}
