//! `Pkcs11Uri`: which module, token and object to use, from an RFC 7512
//! `pkcs11:` URI or set piece by piece, with the PIN.
//!
//! The parser is strict where a mistake would pick the wrong key: a
//! malformed percent escape, an attribute given twice, an attribute this
//! crate does not know (it could narrow the match in a way we would ignore)
//! and a non-numeric slot id are errors, each naming the attribute.

use std::fmt;
use std::path::{Path, PathBuf};

use sock_core::{Error, Result};

/// Names a private key (and its certificate) on a PKCS#11 token: the module
/// to load, the token, the object, and the PIN. Written as an RFC 7512 URI
/// (`pkcs11:token=My%20Card;object=alice?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234`)
/// or built with the setters.
///
/// Path attributes understood: `token`, `manufacturer`, `serial`, `model`
/// (the token's), `slot-id`, `slot-description`, `slot-manufacturer`,
/// `object` (the key's and certificate's label), `id` (their `CKA_ID`,
/// percent-encoded bytes), `type` (`private`, `cert`, `public`), and the
/// `library-*` ones (checked against the module's information). Query
/// attributes: `module-path`, `module-name`, `pin-value`, `pin-source` (a
/// file holding the PIN).
///
/// The PIN is kept out of [`Display`](fmt::Display) and [`Debug`], so a
/// URI can be shown or logged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Pkcs11Uri {
    pub(crate) token: Option<String>,
    pub(crate) manufacturer: Option<String>,
    pub(crate) serial: Option<String>,
    pub(crate) model: Option<String>,
    pub(crate) slot_id: Option<u64>,
    pub(crate) slot_description: Option<String>,
    pub(crate) slot_manufacturer: Option<String>,
    pub(crate) library_manufacturer: Option<String>,
    pub(crate) library_description: Option<String>,
    pub(crate) library_version: Option<String>,
    pub(crate) object: Option<String>,
    pub(crate) id: Option<Vec<u8>>,
    pub(crate) object_type: Option<String>,
    pub(crate) module_path: Option<PathBuf>,
    pub(crate) module_name: Option<String>,
    pub(crate) pin_value: Option<String>,
    pub(crate) pin_source: Option<String>,
}

impl fmt::Debug for Pkcs11Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pkcs11Uri")
            .field(&self.to_string())
            .field(&format_args!(
                "pin: {}",
                if self.pin_value.is_some() {
                    "set"
                } else {
                    "none"
                }
            ))
            .finish()
    }
}

fn bad(input: &str, reason: impl Into<String>) -> Error {
    Error::InvalidArgument {
        setting: "pkcs11_uri",
        reason: format!("{:?}: {}", redact(input), reason.into()),
    }
}

/// The URI with any `pin-value` hidden, for error messages.
fn redact(input: &str) -> String {
    let Some((path, query)) = input.split_once('?') else {
        return input.to_owned();
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| {
            if pair.starts_with("pin-value=") {
                "pin-value=…".to_owned()
            } else {
                pair.to_owned()
            }
        })
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// Percent-decodes `value` into bytes.
fn decode(value: &str, input: &str, name: &str) -> Result<Vec<u8>> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            let Some(byte) = hex else {
                return Err(bad(
                    input,
                    format!("a malformed percent escape in {name} (want %XX with two hex digits)"),
                ));
            };
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(out)
}

fn decode_text(value: &str, input: &str, name: &str) -> Result<String> {
    String::from_utf8(decode(value, input, name)?)
        .map_err(|_| bad(input, format!("{name} is not UTF-8 once decoded")))
}

/// Percent-encodes everything but RFC 3986's unreserved characters and
/// `also` (RFC 7512 lets query values keep their `/`, as in paths).
fn encode(bytes: &[u8], also: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') || also.contains(&b)
        {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn set_once<T>(slot: &mut Option<T>, value: T, input: &str, name: &str) -> Result<()> {
    if slot.is_some() {
        return Err(bad(input, format!("{name} is given twice")));
    }
    *slot = Some(value);
    Ok(())
}

impl Pkcs11Uri {
    /// An empty selection: set at least the module with
    /// [`module_path`](Self::module_path).
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses an RFC 7512 `pkcs11:` URI.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`pkcs11_uri`) naming what is wrong: not a
    /// `pkcs11:` URI, a malformed percent escape, an unknown or repeated
    /// attribute, a slot id that is not a number, a `type` that is not one
    /// of `private`, `cert`, `public`. The message never shows the PIN.
    pub fn parse(input: &str) -> Result<Self> {
        let Some(rest) = input
            .get(..7)
            .filter(|scheme| scheme.eq_ignore_ascii_case("pkcs11:"))
            .map(|_| &input[7..])
        else {
            return Err(bad(input, "does not start with \"pkcs11:\""));
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut uri = Self::default();
        for pair in path.split(';').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or_else(|| bad(input, format!("{pair:?} has no '='")))?;
            let text = || decode_text(value, input, name);
            match name {
                "token" => set_once(&mut uri.token, text()?, input, name)?,
                "manufacturer" => set_once(&mut uri.manufacturer, text()?, input, name)?,
                "serial" => set_once(&mut uri.serial, text()?, input, name)?,
                "model" => set_once(&mut uri.model, text()?, input, name)?,
                "slot-description" => set_once(&mut uri.slot_description, text()?, input, name)?,
                "slot-manufacturer" => {
                    set_once(&mut uri.slot_manufacturer, text()?, input, name)?;
                }
                "library-manufacturer" => {
                    set_once(&mut uri.library_manufacturer, text()?, input, name)?;
                }
                "library-description" => {
                    set_once(&mut uri.library_description, text()?, input, name)?;
                }
                "library-version" => set_once(&mut uri.library_version, text()?, input, name)?,
                "object" => set_once(&mut uri.object, text()?, input, name)?,
                "id" => set_once(&mut uri.id, decode(value, input, name)?, input, name)?,
                "slot-id" => {
                    let id = text()?
                        .parse()
                        .map_err(|_| bad(input, "slot-id is not a number"))?;
                    set_once(&mut uri.slot_id, id, input, name)?;
                }
                "type" => {
                    let kind = text()?;
                    if !matches!(kind.as_str(), "private" | "cert" | "public") {
                        return Err(bad(
                            input,
                            format!(
                                "type {kind:?} names no key or certificate (private, cert, public)"
                            ),
                        ));
                    }
                    set_once(&mut uri.object_type, kind, input, name)?;
                }
                _ => {
                    return Err(bad(
                        input,
                        format!("the attribute {name:?} is not one this crate understands"),
                    ))
                }
            }
        }
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                bad(
                    input,
                    format!("query attribute {:?} has no '='", redact(pair)),
                )
            })?;
            let text = || decode_text(value, input, name);
            match name {
                "module-path" => {
                    set_once(&mut uri.module_path, PathBuf::from(text()?), input, name)?;
                }
                "module-name" => set_once(&mut uri.module_name, text()?, input, name)?,
                "pin-value" => set_once(&mut uri.pin_value, text()?, input, name)?,
                "pin-source" => set_once(&mut uri.pin_source, text()?, input, name)?,
                // Vendor query attributes may be ignored (RFC 7512, 2.3).
                _ if name.starts_with("x-") => {}
                _ => {
                    return Err(bad(
                        input,
                        format!("the query attribute {name:?} is not one this crate understands"),
                    ))
                }
            }
        }
        Ok(uri)
    }

    /// The PKCS#11 module (shared library) to load, for example
    /// `/usr/lib/softhsm/libsofthsm2.so` (the URI's `module-path`).
    pub fn module_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.module_path = Some(path.into());
        self
    }

    /// The token, by its label (the URI's `token`).
    pub fn token_label(mut self, label: impl Into<String>) -> Self {
        self.token = Some(label.into());
        self
    }

    /// The key and its certificate, by their label (the URI's `object`).
    pub fn object_label(mut self, label: impl Into<String>) -> Self {
        self.object = Some(label.into());
        self
    }

    /// The key and its certificate, by their `CKA_ID` (the URI's `id`).
    pub fn object_id(mut self, id: impl Into<Vec<u8>>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// The user PIN to log in with (instead of any `pin-value` in the URI).
    pub fn pin(mut self, pin: impl Into<String>) -> Self {
        self.pin_value = Some(pin.into());
        self
    }

    /// The module path: `module-path`, or `module-name` looked up in the
    /// usual module directories (p11-kit's and the system library ones).
    pub(crate) fn module(&self) -> Option<PathBuf> {
        if let Some(path) = &self.module_path {
            return Some(path.clone());
        }
        let name = self.module_name.as_deref()?;
        let files = [format!("{name}.so"), format!("lib{name}.so")];
        let dirs = [
            "/usr/lib/x86_64-linux-gnu/pkcs11",
            "/usr/lib/aarch64-linux-gnu/pkcs11",
            "/usr/lib64/pkcs11",
            "/usr/lib/pkcs11",
            "/usr/lib/softhsm",
            "/usr/lib/x86_64-linux-gnu",
            "/usr/lib/aarch64-linux-gnu",
            "/usr/lib64",
            "/usr/lib",
            "/usr/local/lib",
        ];
        dirs.iter()
            .flat_map(|dir| files.iter().map(move |file| Path::new(dir).join(file)))
            .find(|path| path.is_file())
            .or_else(|| Some(PathBuf::from(&files[1])))
    }

    /// The PIN: the one set or in the URI, else the first line of the
    /// `pin-source` file.
    pub(crate) fn resolved_pin(&self) -> Result<Option<String>> {
        if let Some(pin) = &self.pin_value {
            return Ok(Some(pin.clone()));
        }
        let Some(source) = &self.pin_source else {
            return Ok(None);
        };
        let path = source.strip_prefix("file:").unwrap_or(source);
        let text = std::fs::read_to_string(path).map_err(|e| Error::InvalidCertificateInput {
            what: format!("pkcs#11 pin-source {path:?}"),
            reason: "could not read the file".to_owned(),
            source: Some(Box::new(e)),
        })?;
        Ok(Some(text.lines().next().unwrap_or("").to_owned()))
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The URI, without the PIN.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |name: &str, value: &Option<String>| {
            value
                .as_ref()
                .map(|v| format!("{name}={}", encode(v.as_bytes(), &[])))
        };
        let path: Vec<String> = [
            text("token", &self.token),
            text("manufacturer", &self.manufacturer),
            text("serial", &self.serial),
            text("model", &self.model),
            self.slot_id.map(|id| format!("slot-id={id}")),
            text("slot-description", &self.slot_description),
            text("slot-manufacturer", &self.slot_manufacturer),
            text("library-manufacturer", &self.library_manufacturer),
            text("library-description", &self.library_description),
            text("library-version", &self.library_version),
            text("object", &self.object),
            self.id.as_ref().map(|id| {
                let hex: String = id.iter().map(|b| format!("%{b:02X}")).collect();
                format!("id={hex}")
            }),
            text("type", &self.object_type),
        ]
        .into_iter()
        .flatten()
        .collect();
        let query: Vec<String> = [
            self.module_path.as_ref().map(|p| {
                format!(
                    "module-path={}",
                    encode(p.to_string_lossy().as_bytes(), b"/")
                )
            }),
            text("module-name", &self.module_name),
            self.pin_source
                .as_ref()
                .map(|s| format!("pin-source={}", encode(s.as_bytes(), b"/:"))),
        ]
        .into_iter()
        .flatten()
        .collect();
        write!(f, "pkcs11:{}", path.join(";"))?;
        if !query.is_empty() {
            write!(f, "?{}", query.join("&"))?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Pkcs11Uri {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rfc_examples_parse() {
        let uri = Pkcs11Uri::parse(
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;\
             manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;\
             type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=\
             ?pin-source=file:/etc/token_pin",
        )
        .unwrap();
        assert_eq!(uri.token.as_deref(), Some("The Software PKCS#11 Softtoken"));
        assert_eq!(uri.manufacturer.as_deref(), Some("Snake Oil, Inc."));
        assert_eq!(uri.object.as_deref(), Some("my-certificate"));
        assert_eq!(uri.object_type.as_deref(), Some("cert"));
        assert_eq!(
            uri.id.as_deref(),
            Some(&[0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91][..])
        );
        assert_eq!(uri.serial.as_deref(), Some(""));
        assert_eq!(uri.pin_source.as_deref(), Some("file:/etc/token_pin"));

        let uri = Pkcs11Uri::parse(
            "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11&pin-value=1%202",
        )
        .unwrap();
        assert_eq!(uri.module_name.as_deref(), Some("mypkcs11"));
        assert_eq!(uri.resolved_pin().unwrap().as_deref(), Some("1 2"));
        assert_eq!(Pkcs11Uri::parse("pkcs11:").unwrap(), Pkcs11Uri::new());
    }

    #[test]
    fn display_round_trips_without_the_pin() {
        let uri = Pkcs11Uri::new()
            .module_path("/usr/lib/softhsm/libsofthsm2.so")
            .token_label("My Card;1")
            .object_label("alice?")
            .object_id([0, 0xff])
            .pin("secret");
        let shown = uri.to_string();
        assert_eq!(
            shown,
            "pkcs11:token=My%20Card%3B1;object=alice%3F;id=%00%FF\
             ?module-path=/usr/lib/softhsm/libsofthsm2.so"
        );
        assert!(!format!("{uri:?}").contains("secret"));
        let back = Pkcs11Uri::parse(&shown).unwrap();
        assert_eq!(
            back,
            Pkcs11Uri {
                pin_value: None,
                ..uri
            }
        );
    }

    #[test]
    fn mistakes_are_named_and_the_pin_is_never_shown() {
        let cases = [
            ("pkcs12:token=a", "does not start"),
            ("pkcs11:token=a%2", "malformed percent escape in token"),
            ("pkcs11:object=%zz", "malformed percent escape in object"),
            ("pkcs11:token=a;token=b", "token is given twice"),
            ("pkcs11:color=red", "\"color\" is not one"),
            ("pkcs11:slot-id=x", "slot-id is not a number"),
            ("pkcs11:type=secret-key", "names no key"),
            ("pkcs11:object=%FF", "not UTF-8"),
            ("pkcs11:token?pin-value=hunter2", "has no '='"),
            ("pkcs11:?pin-value=hunter2&module-size=3", "\"module-size\""),
        ];
        for (input, expected) in cases {
            let err = Pkcs11Uri::parse(input).unwrap_err();
            let text = err.to_string();
            assert!(text.contains(expected), "{input}: {text}");
            assert!(!text.contains("hunter2"), "{input}: {text}");
            assert!(err.is_invalid_input());
        }
        // Vendor query attributes are ignored, as the RFC allows.
        Pkcs11Uri::parse("pkcs11:token=a?x-vendor=1").unwrap();
    }

    #[test]
    fn module_names_fall_back_to_a_library_name() {
        let uri = Pkcs11Uri::parse("pkcs11:?module-name=surely-not-installed").unwrap();
        assert_eq!(
            uri.module().unwrap(),
            PathBuf::from("libsurely-not-installed.so")
        );
        assert_eq!(Pkcs11Uri::new().module(), None);
    }
}
