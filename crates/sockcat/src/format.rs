//! `--format` and `--input-format`: how a message is written to stdout
//! (text, hex, a JSON line) and how a line of stdin becomes a message.

use std::time::SystemTime;

use base64::Engine as _;
use sock::Bytes;

use crate::cli::Format;
use crate::exit::Failure;

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Received from the peer.
    In,
    /// Sent to the peer.
    Out,
}

impl Direction {
    /// `in` or `out`, as JSON says it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }
}

/// How messages are written out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OutputFormat {
    /// Text, hex or JSON.
    pub(crate) format: Format,
    /// Whether messages have boundaries (a newline ends each in text).
    pub(crate) framed: bool,
    /// Whether sent messages are written too (marked).
    pub(crate) show_sent: bool,
}

impl OutputFormat {
    /// The bytes to write for one message.
    pub(crate) fn render(&self, direction: Direction, peer: Option<&str>, data: &[u8]) -> Vec<u8> {
        let mark: &[u8] = match (self.show_sent, direction) {
            (true, Direction::Out) => b"> ",
            (true, Direction::In) => b"< ",
            (false, _) => b"",
        };
        match self.format {
            Format::Text => {
                let mut out = Vec::with_capacity(data.len() + 3);
                out.extend_from_slice(mark);
                out.extend_from_slice(data);
                if self.framed || self.show_sent {
                    out.push(b'\n');
                }
                out
            }
            Format::Hex => {
                let mut out = mark.to_vec();
                out.extend_from_slice(hex::encode(data).as_bytes());
                out.push(b'\n');
                out
            }
            Format::Json => {
                let mut line = json_record(SystemTime::now(), direction, peer, data);
                line.push('\n');
                line.into_bytes()
            }
        }
    }
}

/// One message as a JSON object: timestamp, direction, peer, length, and the
/// payload as text when it is UTF-8, else as base64.
pub(crate) fn json_record(
    time: SystemTime,
    direction: Direction,
    peer: Option<&str>,
    data: &[u8],
) -> String {
    let (payload, encoding) = match std::str::from_utf8(data) {
        Ok(text) => (text.to_owned(), "text"),
        Err(_) => (
            base64::engine::general_purpose::STANDARD.encode(data),
            "base64",
        ),
    };
    let peer = peer.map_or_else(|| "null".to_owned(), json_string);
    format!(
        "{{\"timestamp\":{},\"direction\":\"{}\",\"peer\":{peer},\"length\":{},\"encoding\":\"{encoding}\",\"payload\":{}}}",
        json_string(&humantime::format_rfc3339_micros(time).to_string()),
        direction.name(),
        data.len(),
        json_string(&payload),
    )
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// How stdin (or an --exec command's stdout) becomes messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InputFormat {
    /// Text, hex or JSON.
    pub(crate) format: Format,
    /// Whether text is split into lines (else taken as it comes).
    pub(crate) lines: bool,
}

impl InputFormat {
    /// Whether input is read line by line.
    pub(crate) fn by_line(&self) -> bool {
        self.lines || self.format != Format::Text
    }

    /// The message in input line `number` (terminator stripped), or `None`
    /// for a line that carries none (a blank JSON line).
    pub(crate) fn parse_line(&self, line: Bytes, number: u64) -> Result<Option<Bytes>, Failure> {
        match self.format {
            Format::Text => Ok(Some(line)),
            Format::Hex => {
                let digits: Vec<u8> = line
                    .iter()
                    .copied()
                    .filter(|b| !b.is_ascii_whitespace())
                    .collect();
                hex::decode(&digits)
                    .map(|data| Some(Bytes::from(data)))
                    .map_err(|e| Failure::input(format!("hex on input line {number}"), e))
            }
            Format::Json => {
                if line.iter().all(u8::is_ascii_whitespace) {
                    return Ok(None);
                }
                parse_json(&line).map(Some).map_err(|reason| {
                    Failure::input(format!("json on input line {number}"), reason)
                })
            }
        }
    }
}

/// A JSON input line: a string (the payload as text), or an object with
/// `payload` and optionally `encoding` (`text`, the default, or `base64`),
/// as `--format json` writes them.
fn parse_json(line: &[u8]) -> Result<Bytes, String> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    let (payload, encoding) = match &value {
        serde_json::Value::String(text) => (text.as_str(), "text"),
        serde_json::Value::Object(fields) => {
            let payload = fields
                .get("payload")
                .and_then(serde_json::Value::as_str)
                .ok_or("an object needs a string \"payload\"")?;
            let encoding = match fields.get("encoding") {
                None => "text",
                Some(e) => e.as_str().ok_or("\"encoding\" is \"text\" or \"base64\"")?,
            };
            (payload, encoding)
        }
        _ => return Err("expected a string or an object with \"payload\"".to_owned()),
    };
    match encoding {
        "text" => Ok(Bytes::copy_from_slice(payload.as_bytes())),
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(payload)
            .map(Bytes::from)
            .map_err(|e| format!("payload is not base64: {e}")),
        other => Err(format!(
            "unknown encoding {other:?} (\"text\" or \"base64\")"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_bytes() -> Vec<u8> {
        (0..=255).collect()
    }

    #[test]
    fn hex_output_reads_back_as_hex_input() {
        let out = OutputFormat {
            format: Format::Hex,
            framed: true,
            show_sent: false,
        };
        let line = out.render(Direction::In, None, &all_bytes());
        let input = InputFormat {
            format: Format::Hex,
            lines: true,
        };
        let text = Bytes::from(line[..line.len() - 1].to_vec());
        assert_eq!(
            input.parse_line(text, 1).unwrap().as_deref(),
            Some(&all_bytes()[..])
        );
    }

    #[test]
    fn json_output_reads_back_as_json_input() {
        let input = InputFormat {
            format: Format::Json,
            lines: true,
        };
        for data in [
            all_bytes(),
            b"caf\xc3\xa9 \"quoted\"\n".to_vec(),
            Vec::new(),
        ] {
            let line = json_record(
                SystemTime::UNIX_EPOCH,
                Direction::Out,
                Some("[::1]:5"),
                &data,
            );
            let back = input.parse_line(Bytes::from(line), 1).unwrap();
            assert_eq!(back.as_deref(), Some(&data[..]));
        }
    }

    #[test]
    fn json_records_say_text_or_base64() {
        let text = json_record(SystemTime::UNIX_EPOCH, Direction::In, None, b"hi");
        assert_eq!(
            text,
            r#"{"timestamp":"1970-01-01T00:00:00.000000Z","direction":"in","peer":null,"length":2,"encoding":"text","payload":"hi"}"#
        );
        let binary = json_record(SystemTime::UNIX_EPOCH, Direction::In, None, b"\xff");
        assert!(
            binary.contains(r#""encoding":"base64","payload":"/w==""#),
            "{binary}"
        );
    }

    #[test]
    fn bad_input_lines_name_their_line() {
        let hex = InputFormat {
            format: Format::Hex,
            lines: true,
        };
        let err = hex.parse_line(Bytes::from_static(b"abc"), 7).unwrap_err();
        assert!(err.to_string().contains("line 7"), "{err}");
        let json = InputFormat {
            format: Format::Json,
            lines: true,
        };
        assert!(json.parse_line(Bytes::from_static(b"{}"), 1).is_err());
        assert!(json
            .parse_line(Bytes::from_static(b"  "), 1)
            .unwrap()
            .is_none());
        assert_eq!(
            json.parse_line(Bytes::from_static(br#""hi""#), 1)
                .unwrap()
                .as_deref(),
            Some(&b"hi"[..])
        );
    }

    #[test]
    fn text_ends_framed_messages_with_a_newline() {
        let framed = OutputFormat {
            format: Format::Text,
            framed: true,
            show_sent: false,
        };
        assert_eq!(framed.render(Direction::In, None, b"a"), b"a\n");
        let raw = OutputFormat {
            framed: false,
            ..framed
        };
        assert_eq!(raw.render(Direction::In, None, b"a"), b"a");
    }
}
