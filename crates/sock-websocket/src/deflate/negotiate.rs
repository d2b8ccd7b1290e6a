//! The `Sec-WebSocket-Extensions` header for permessage-deflate (RFC 7692
//! sections 5 and 7.1): the client's offer, the server's choice among the
//! offers and its answer, and the client's checks on that answer.

use std::fmt::Write as _;

use super::{DeflateConfig, DeflateParameters, MAX_WINDOW_BITS, MIN_WINDOW_BITS};

/// The extension's registered name.
pub(crate) const NAME: &str = "permessage-deflate";

/// The most elements one extension list may hold: more is no honest offer.
const MAX_ELEMENTS: usize = 32;

/// One element of an extension list: its name, and its parameters with
/// their values unquoted.
#[derive(Debug, PartialEq, Eq)]
struct Element {
    name: String,
    params: Vec<(String, Option<String>)>,
}

/// The parameters of one permessage-deflate element (RFC 7692 section 7.1).
#[derive(Debug, Default, PartialEq, Eq)]
struct Params {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: present without a value (only in an offer).
    client_max_window_bits: Option<Option<u8>>,
}

/// The client's offer: `permessage-deflate` with the parameters `config`
/// asks for, and always `client_max_window_bits`, which tells the server
/// that this client can honour a limit on its window.
pub(crate) fn offer(config: &DeflateConfig) -> String {
    let mut out = String::from(NAME);
    if config.server_no_context_takeover {
        out.push_str("; server_no_context_takeover");
    }
    if config.client_no_context_takeover {
        out.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = config.server_max_window_bits {
        let _ = write!(out, "; server_max_window_bits={bits}");
    }
    match config.client_max_window_bits {
        Some(bits) => {
            let _ = write!(out, "; client_max_window_bits={bits}");
        }
        None => out.push_str("; client_max_window_bits"),
    }
    out
}

/// The server's choice: the first permessage-deflate offer among the
/// `Sec-WebSocket-Extensions` values it can accept, with the answer to
/// send and what it agrees. `None` declines them all (no offer, or none
/// valid: RFC 7692 section 5 has a server decline an offer with an unknown
/// or repeated parameter or an invalid value).
pub(crate) fn answer<'a>(
    values: impl IntoIterator<Item = &'a str>,
    config: &DeflateConfig,
) -> Option<(String, DeflateParameters)> {
    values
        .into_iter()
        .filter_map(|value| parse_list(value).ok())
        .flatten()
        .filter(|element| element.name.eq_ignore_ascii_case(NAME))
        .find_map(|element| read_params(&element.params, false).ok())
        .map(|offered| accept(&offered, config))
}

/// The answer to an offer the server can honour: every parameter of
/// section 7.1 can be, so only the config tightens what the client asked.
fn accept(offered: &Params, config: &DeflateConfig) -> (String, DeflateParameters) {
    let server_no_context_takeover =
        offered.server_no_context_takeover || config.server_no_context_takeover;
    // Agreeing to what the client offers lets the server drop its
    // decompressor between messages.
    let client_no_context_takeover =
        offered.client_no_context_takeover || config.client_no_context_takeover;
    let server_max_window_bits = match (
        offered.server_max_window_bits,
        config.server_max_window_bits,
    ) {
        (Some(asked), Some(ours)) => Some(asked.min(ours)),
        (asked, ours) => asked.or(ours),
    };
    // The client's window can be limited only if it said it can honour a
    // limit (section 7.1.2.2); a value it offered binds it either way, so
    // the answer repeats it.
    let client_max_window_bits = match offered.client_max_window_bits {
        None => None,
        Some(None) => config.client_max_window_bits,
        Some(Some(offered)) => Some(
            config
                .client_max_window_bits
                .map_or(offered, |ours| ours.min(offered)),
        ),
    };
    let mut out = String::from(NAME);
    if server_no_context_takeover {
        out.push_str("; server_no_context_takeover");
    }
    if client_no_context_takeover {
        out.push_str("; client_no_context_takeover");
    }
    if let Some(bits) = server_max_window_bits {
        let _ = write!(out, "; server_max_window_bits={bits}");
    }
    if let Some(bits) = client_max_window_bits {
        let _ = write!(out, "; client_max_window_bits={bits}");
    }
    let agreed = DeflateParameters {
        server_no_context_takeover,
        client_no_context_takeover,
        server_max_window_bits: server_max_window_bits.unwrap_or(MAX_WINDOW_BITS),
        client_max_window_bits: client_max_window_bits.unwrap_or(MAX_WINDOW_BITS),
    };
    (out, agreed)
}

/// Checks the server's answer to our offer (section 7.1 from the client's
/// side): one permessage-deflate element whose parameters are valid, were
/// allowed by the offer, and include those the offer required. Gives what
/// was agreed, or why the connection must fail.
pub(crate) fn check_answer(
    value: &str,
    config: &DeflateConfig,
) -> Result<DeflateParameters, String> {
    let elements = parse_list(value)?;
    let [element] = elements.as_slice() else {
        return Err(format!(
            "the server answered with {} extensions; one, {NAME}, was offered (rfc 6455 9.1)",
            elements.len()
        ));
    };
    if !element.name.eq_ignore_ascii_case(NAME) {
        return Err(format!(
            "the server chose extension {:?}, which was not offered (rfc 6455 9.1)",
            element.name
        ));
    }
    let answer = read_params(&element.params, true)?;
    if config.server_no_context_takeover && !answer.server_no_context_takeover {
        return Err(
            "the server's answer lacks server_no_context_takeover, which was asked for (rfc 7692 7.1.1.1)"
                .to_owned(),
        );
    }
    if let Some(asked) = config.server_max_window_bits {
        match answer.server_max_window_bits {
            Some(bits) if bits <= asked => {}
            Some(bits) => {
                return Err(format!(
                    "the server's answer has server_max_window_bits={bits}, more than the {asked} asked for (rfc 7692 7.1.2.1)"
                ))
            }
            None => {
                return Err(format!(
                    "the server's answer lacks server_max_window_bits, {asked} was asked for (rfc 7692 7.1.2.1)"
                ))
            }
        }
    }
    let client_max_window_bits = match (answer.client_max_window_bits.flatten(), config.client_max_window_bits) {
        (Some(bits), Some(offered)) if bits > offered => {
            return Err(format!(
                "the server's answer has client_max_window_bits={bits}, more than the {offered} offered (rfc 7692 7.1.2.2)"
            ))
        }
        (bits, offered) => bits.or(offered),
    };
    Ok(DeflateParameters {
        server_no_context_takeover: answer.server_no_context_takeover,
        client_no_context_takeover: answer.client_no_context_takeover
            || config.client_no_context_takeover,
        server_max_window_bits: answer.server_max_window_bits.unwrap_or(MAX_WINDOW_BITS),
        client_max_window_bits: client_max_window_bits.unwrap_or(MAX_WINDOW_BITS),
    })
}

/// Reads the parameters of a permessage-deflate element; `answer` for a
/// server's answer, where `client_max_window_bits` needs a value.
fn read_params(params: &[(String, Option<String>)], answer: bool) -> Result<Params, String> {
    let mut out = Params::default();
    for (name, value) in params {
        let name = name.to_ascii_lowercase();
        let repeated = match name.as_str() {
            "server_no_context_takeover" => {
                no_value(&name, value.as_deref())?;
                std::mem::replace(&mut out.server_no_context_takeover, true)
            }
            "client_no_context_takeover" => {
                no_value(&name, value.as_deref())?;
                std::mem::replace(&mut out.client_no_context_takeover, true)
            }
            "server_max_window_bits" => {
                let Some(value) = value.as_deref() else {
                    return Err(
                        "server_max_window_bits without a value (rfc 7692 7.1.2.1)".to_owned()
                    );
                };
                out.server_max_window_bits
                    .replace(window_bits(&name, value)?)
                    .is_some()
            }
            "client_max_window_bits" => {
                let bits = match value.as_deref() {
                    Some(value) => Some(window_bits(&name, value)?),
                    None if answer => {
                        return Err(
                            "client_max_window_bits without a value in the server's answer (rfc 7692 7.1.2.2)"
                                .to_owned(),
                        )
                    }
                    None => None,
                };
                out.client_max_window_bits.replace(bits).is_some()
            }
            _ => return Err(format!("unknown {NAME} parameter {name:?} (rfc 7692 7.1)")),
        };
        if repeated {
            return Err(format!(
                "{NAME} parameter {name} given twice (rfc 7692 7.1)"
            ));
        }
    }
    Ok(out)
}

fn no_value(name: &str, value: Option<&str>) -> Result<(), String> {
    match value {
        None => Ok(()),
        Some(value) => Err(format!(
            "{name} takes no value, {value:?} was given (rfc 7692 7.1.1)"
        )),
    }
}

/// A window size: a decimal from 8 to 15 without leading zeros.
fn window_bits(name: &str, value: &str) -> Result<u8, String> {
    value
        .parse::<u8>()
        .ok()
        .filter(|bits| {
            (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(bits)
                && !value.starts_with('0')
                && !value.starts_with('+')
        })
        .ok_or_else(|| {
            format!("{name}={value:?} is not a window size from 8 to 15 (rfc 7692 7.1.2)")
        })
}

/// Parses an extension list (RFC 6455 section 9.1): elements separated by
/// commas, each a token with `; name[=value]` parameters whose values are
/// tokens or quoted strings.
fn parse_list(value: &str) -> Result<Vec<Element>, String> {
    let mut cursor = Cursor {
        bytes: value.as_bytes(),
        at: 0,
    };
    let mut elements = Vec::new();
    loop {
        cursor.skip_spaces();
        match cursor.peek() {
            None => return Ok(elements),
            // Empty list elements are allowed (RFC 9110 section 5.6.1).
            Some(b',') => {
                cursor.at += 1;
                continue;
            }
            Some(_) => {}
        }
        if elements.len() == MAX_ELEMENTS {
            return Err(format!("more than {MAX_ELEMENTS} extensions"));
        }
        let name = cursor.token("extension name")?;
        let mut params = Vec::new();
        loop {
            cursor.skip_spaces();
            match cursor.peek() {
                None => break,
                Some(b',') => {
                    cursor.at += 1;
                    break;
                }
                Some(b';') => {
                    cursor.at += 1;
                    cursor.skip_spaces();
                    let name = cursor.token("extension parameter")?;
                    cursor.skip_spaces();
                    let value = if cursor.peek() == Some(b'=') {
                        cursor.at += 1;
                        cursor.skip_spaces();
                        Some(if cursor.peek() == Some(b'"') {
                            cursor.quoted()?
                        } else {
                            cursor.token("extension parameter value")?
                        })
                    } else {
                        None
                    };
                    params.push((name, value));
                }
                Some(other) => {
                    return Err(format!(
                        "unexpected {:?} in the extension list {value:?}",
                        char::from(other)
                    ))
                }
            }
        }
        elements.push(Element { name, params });
    }
}

/// A position in a header value being parsed.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    /// An HTTP token (RFC 9110 section 5.6.2).
    fn token(&mut self, what: &str) -> Result<String, String> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        if self.at == start {
            return Err(format!("expected an {what} (a token)"));
        }
        Ok(String::from_utf8_lossy(&self.bytes[start..self.at]).into_owned())
    }

    /// A quoted string, unescaped (RFC 9110 section 5.6.4).
    fn quoted(&mut self) -> Result<String, String> {
        self.at += 1;
        let mut out = Vec::new();
        loop {
            match self.peek() {
                None => return Err("a quoted string does not end".to_owned()),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(String::from_utf8_lossy(&out).into_owned());
                }
                Some(b'\\') => {
                    self.at += 1;
                    let Some(escaped) = self.peek() else {
                        return Err("a quoted string does not end".to_owned());
                    };
                    out.push(escaped);
                    self.at += 1;
                }
                Some(byte) => {
                    out.push(byte);
                    self.at += 1;
                }
            }
        }
    }
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Parses `value` as a server would an offer and a client an answer (for
/// the fuzz bodies): what is agreed stays within the RFC's windows, and
/// never a panic.
#[cfg(feature = "fuzzing")]
pub(crate) fn check_both_ways(value: &str) {
    let config = DeflateConfig::default();
    let in_range = |p: &DeflateParameters| {
        (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&p.server_max_window_bits)
            && (MIN_WINDOW_BITS..=MAX_WINDOW_BITS).contains(&p.client_max_window_bits)
    };
    if let Some((answer, agreed)) = answer([value], &config) {
        assert!(in_range(&agreed), "agreed {agreed:?}");
        // Our own answer passes our own client's checks when the offer
        // was ours.
        let again = check_answer(&answer, &config);
        assert!(again.is_ok_and(|p| in_range(&p)), "answer {answer:?}");
    }
    if let Ok(agreed) = check_answer(value, &config) {
        assert!(in_range(&agreed), "agreed {agreed:?}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits(
        config: DeflateConfig,
        f: fn(DeflateConfig, u8) -> crate::Result<DeflateConfig>,
        n: u8,
    ) -> DeflateConfig {
        f(config, n).unwrap()
    }

    #[test]
    fn lists_parse_with_quoted_values_and_empty_elements() {
        let list = parse_list(
            r#"permessage-deflate; client_max_window_bits="10" ,, x-webkit-deflate-frame;no_context_takeover, permessage-deflate"#,
        )
        .unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(
            list[0].params,
            [("client_max_window_bits".to_owned(), Some("10".to_owned()))]
        );
        assert_eq!(list[1].name, "x-webkit-deflate-frame");
        assert!(list[2].params.is_empty());
        for bad in [
            "permessage-deflate; a=\"x",
            "permessage-deflate;",
            "a b",
            "; x",
        ] {
            assert!(parse_list(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_offer_says_what_the_config_asks_for() {
        assert_eq!(
            offer(&DeflateConfig::new()),
            "permessage-deflate; client_max_window_bits"
        );
        let config = bits(
            bits(
                DeflateConfig::new(),
                DeflateConfig::server_max_window_bits,
                10,
            ),
            DeflateConfig::client_max_window_bits,
            9,
        )
        .server_no_context_takeover(true)
        .client_no_context_takeover(true);
        assert_eq!(
            offer(&config),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=10; client_max_window_bits=9"
        );
    }

    #[test]
    fn the_server_takes_the_first_offer_it_can_honour() {
        let config = DeflateConfig::new();
        // The first offer repeats a parameter, the second has an unknown one:
        // both declined; the third is taken.
        let (answer, agreed) = answer(
            [
                "x-other, permessage-deflate; server_no_context_takeover; server_no_context_takeover",
                "permessage-deflate; mystery=1, permessage-deflate; server_max_window_bits=9; client_max_window_bits",
            ],
            &config,
        )
        .unwrap();
        assert_eq!(answer, "permessage-deflate; server_max_window_bits=9");
        assert_eq!(agreed.server_max_window_bits, 9);
        assert_eq!(agreed.client_max_window_bits, 15);
        assert!(super::answer(
            ["x-other", "permessage-deflate; server_max_window_bits=16"],
            &config
        )
        .is_none());
        assert!(
            super::answer(["permessage-deflate; server_max_window_bits=09"], &config).is_none()
        );
        assert!(super::answer(
            ["permessage-deflate; client_no_context_takeover=1"],
            &config
        )
        .is_none());
    }

    #[test]
    fn the_server_config_tightens_what_the_client_asked() {
        let config = bits(
            bits(
                DeflateConfig::new(),
                DeflateConfig::server_max_window_bits,
                11,
            ),
            DeflateConfig::client_max_window_bits,
            10,
        )
        .client_no_context_takeover(true)
        .server_no_context_takeover(true);
        let (text, agreed) = answer(
            ["permessage-deflate; server_max_window_bits=13; client_max_window_bits"],
            &config,
        )
        .unwrap();
        assert_eq!(
            text,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
             server_max_window_bits=11; client_max_window_bits=10"
        );
        assert_eq!(check_answer(&text, &DeflateConfig::new()), Ok(agreed));
        // A client that cannot honour a window limit keeps its 2^15.
        let (text, agreed) = answer(["permessage-deflate"], &config).unwrap();
        assert!(!text.contains("client_max_window_bits"));
        assert_eq!(agreed.client_max_window_bits, 15);
        // A value the client offered binds it, and is repeated.
        let (text, agreed) = answer(
            ["permessage-deflate; client_max_window_bits=8"],
            &DeflateConfig::new(),
        )
        .unwrap();
        assert_eq!(text, "permessage-deflate; client_max_window_bits=8");
        assert_eq!(agreed.client_max_window_bits, 8);
    }

    #[test]
    fn the_client_fails_answers_it_did_not_allow() {
        let asked = bits(
            DeflateConfig::new(),
            DeflateConfig::server_max_window_bits,
            10,
        )
        .server_no_context_takeover(true);
        let offered_9 = bits(
            DeflateConfig::new(),
            DeflateConfig::client_max_window_bits,
            9,
        );
        let cases: &[(&str, &DeflateConfig, &str)] = &[
            (
                "permessage-deflate, permessage-deflate",
                &DeflateConfig::new(),
                "2 extensions",
            ),
            (
                "x-webkit-deflate-frame",
                &DeflateConfig::new(),
                "not offered",
            ),
            ("permessage-deflate; foo", &DeflateConfig::new(), "unknown"),
            (
                "permessage-deflate; client_max_window_bits",
                &DeflateConfig::new(),
                "without a value",
            ),
            (
                "permessage-deflate; server_max_window_bits=7",
                &DeflateConfig::new(),
                "not a window size",
            ),
            (
                "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
                &DeflateConfig::new(),
                "twice",
            ),
            (
                "permessage-deflate; server_max_window_bits=10",
                &asked,
                "lacks server_no_context_takeover",
            ),
            (
                "permessage-deflate; server_no_context_takeover",
                &asked,
                "lacks server_max_window_bits",
            ),
            (
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=11",
                &asked,
                "more than the 10",
            ),
            (
                "permessage-deflate; client_max_window_bits=10",
                &offered_9,
                "more than the 9",
            ),
        ];
        for (answer, config, expected) in cases {
            let err = check_answer(answer, config).unwrap_err();
            assert!(err.contains(expected), "{answer}: {err}");
        }
        let agreed = check_answer(
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=8",
            &asked,
        )
        .unwrap();
        assert_eq!(
            agreed,
            DeflateParameters {
                server_no_context_takeover: true,
                client_no_context_takeover: false,
                server_max_window_bits: 8,
                client_max_window_bits: 15,
            }
        );
        // A value this client offered binds it even when the answer is silent.
        assert_eq!(
            check_answer("permessage-deflate", &offered_9)
                .unwrap()
                .client_max_window_bits,
            9
        );
    }
}
