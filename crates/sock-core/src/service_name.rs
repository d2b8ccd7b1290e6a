//! `ServiceName`: a port number or a service name such as `"http"`, as UWP's
//! string `*ServiceName` parameters.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

use crate::{Error, Result, TransportProtocol};

/// The longest service name accepted.
pub const MAX_SERVICE_NAME_LEN: usize = 63;

/// A port (`"1337"`), any free port (`""`), or a named service (`"http"`).
///
/// Parsing checks the syntax only; a name is resolved to a port per protocol
/// by [`port`](Self::port), from `/etc/services` when the file exists and from a
/// built-in table of common services otherwise.
///
/// ```
/// use sock_core::{ServiceName, TransportProtocol};
///
/// assert_eq!(ServiceName::new("1337")?.port(TransportProtocol::Tcp)?, 1337);
/// assert_eq!(ServiceName::new("")?.port(TransportProtocol::Tcp)?, 0);
/// assert_eq!(ServiceName::new("https")?.port(TransportProtocol::Tcp)?, 443);
/// assert!(ServiceName::new("65536").is_err());
/// # Ok::<(), sock_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ServiceName {
    raw: String,
    repr: Repr,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Repr {
    Any,
    Port(u16),
    Name(String),
}

impl ServiceName {
    /// Parses `input`: `""` (any free port), a decimal port `0`–`65535`, or a
    /// service name (letters, digits, `-`, `_`, `.`, starting with a letter, at most
    /// [`MAX_SERVICE_NAME_LEN`] bytes; matched case-insensitively).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidServiceName`] for anything else (`"65536"`, `"-1"`, `"12ab"`, …).
    pub fn new(input: &str) -> Result<Self> {
        let bad = |reason: &str| Error::invalid_service_name(input, reason);
        let repr = if input.is_empty() {
            Repr::Any
        } else if input.bytes().all(|b| b.is_ascii_digit()) {
            let port = input
                .parse::<u32>()
                .ok()
                .and_then(|p| u16::try_from(p).ok())
                .ok_or_else(|| bad("is not a port number: ports go from 0 to 65535"))?;
            Repr::Port(port)
        } else if input.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+') {
            return Err(bad("is neither a port number (0-65535) nor a service name (which starts with a letter)"));
        } else if input.len() > MAX_SERVICE_NAME_LEN {
            return Err(bad(&format!("is longer than {MAX_SERVICE_NAME_LEN} bytes")));
        } else if let Some(c) = input
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(bad(&format!(
                "contains {c:?}, which is not allowed in a service name"
            )));
        } else {
            Repr::Name(input.to_ascii_lowercase())
        };
        Ok(Self {
            raw: input.to_owned(),
            repr,
        })
    }

    /// Any free port (`""`): the operating system chooses.
    pub fn any() -> Self {
        Self {
            raw: String::new(),
            repr: Repr::Any,
        }
    }

    /// The input as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether this means "any free port".
    pub fn is_any(&self) -> bool {
        self.repr == Repr::Any
    }

    /// The port number, when the service was given as one (`Some(0)` for `""`).
    pub fn as_port(&self) -> Option<u16> {
        match self.repr {
            Repr::Any => Some(0),
            Repr::Port(p) => Some(p),
            Repr::Name(_) => None,
        }
    }

    /// The service's name, when it was given as one (lowercase).
    pub fn as_name(&self) -> Option<&str> {
        match &self.repr {
            Repr::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The port this service means for `protocol` (0 for "any").
    ///
    /// # Errors
    ///
    /// [`Error::UnknownService`] (status `ClassTypeNotFound`) when a name is in
    /// neither `/etc/services` nor the built-in table.
    pub fn port(&self, protocol: TransportProtocol) -> Result<u16> {
        match &self.repr {
            Repr::Any => Ok(0),
            Repr::Port(p) => Ok(*p),
            Repr::Name(name) => lookup(name, protocol).ok_or_else(|| Error::UnknownService {
                name: self.raw.clone(),
                protocol,
            }),
        }
    }
}

impl From<u16> for ServiceName {
    fn from(port: u16) -> Self {
        Self {
            raw: port.to_string(),
            repr: Repr::Port(port),
        }
    }
}

impl FromStr for ServiceName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<&str> for ServiceName {
    type Error = Error;

    fn try_from(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl fmt::Debug for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ServiceName").field(&self.raw).finish()
    }
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Common services, used where `/etc/services` is absent or lacks the name.
const BUILT_IN: &[(&str, u16, &[TransportProtocol])] = {
    use TransportProtocol::{Tcp, Udp};
    const BOTH: &[TransportProtocol] = &[Tcp, Udp];
    const TCP: &[TransportProtocol] = &[Tcp];
    const UDP: &[TransportProtocol] = &[Udp];
    &[
        ("echo", 7, BOTH),
        ("discard", 9, BOTH),
        ("daytime", 13, BOTH),
        ("ftp-data", 20, TCP),
        ("ftp", 21, TCP),
        ("ssh", 22, TCP),
        ("telnet", 23, TCP),
        ("smtp", 25, TCP),
        ("domain", 53, BOTH),
        ("bootps", 67, UDP),
        ("bootpc", 68, UDP),
        ("tftp", 69, UDP),
        ("gopher", 70, TCP),
        ("finger", 79, TCP),
        ("http", 80, BOTH),
        ("www", 80, BOTH),
        ("pop3", 110, TCP),
        ("sunrpc", 111, BOTH),
        ("ntp", 123, UDP),
        ("imap", 143, TCP),
        ("imap2", 143, TCP),
        ("snmp", 161, UDP),
        ("snmp-trap", 162, UDP),
        ("bgp", 179, TCP),
        ("irc", 194, TCP),
        ("ldap", 389, BOTH),
        ("https", 443, BOTH),
        ("microsoft-ds", 445, TCP),
        ("submissions", 465, TCP),
        ("syslog", 514, UDP),
        ("rtsp", 554, BOTH),
        ("submission", 587, TCP),
        ("ipp", 631, TCP),
        ("ldaps", 636, TCP),
        ("rsync", 873, TCP),
        ("ftps", 990, TCP),
        ("imaps", 993, TCP),
        ("pop3s", 995, TCP),
        ("socks", 1080, TCP),
        ("openvpn", 1194, BOTH),
        ("ms-sql-s", 1433, TCP),
        ("mqtt", 1883, TCP),
        ("ssdp", 1900, UDP),
        ("nfs", 2049, BOTH),
        ("mysql", 3306, TCP),
        ("rdp", 3389, TCP),
        ("stun", 3478, BOTH),
        ("sip", 5060, BOTH),
        ("sips", 5061, TCP),
        ("xmpp-client", 5222, TCP),
        ("xmpp-server", 5269, TCP),
        ("mdns", 5353, UDP),
        ("postgresql", 5432, TCP),
        ("amqp", 5672, TCP),
        ("x11", 6000, TCP),
        ("redis", 6379, TCP),
        ("http-alt", 8080, TCP),
        ("mqtts", 8883, TCP),
    ]
};

type ServicesTable = HashMap<(String, TransportProtocol), u16>;

/// `/etc/services`, read once. `None` when the file cannot be read.
fn system_table() -> Option<&'static ServicesTable> {
    static TABLE: OnceLock<Option<ServicesTable>> = OnceLock::new();
    TABLE
        .get_or_init(|| {
            std::fs::read_to_string("/etc/services")
                .ok()
                .map(|text| parse_services(&text))
        })
        .as_ref()
}

/// Parses the `/etc/services` format: `name port/proto [aliases...] [# comment]`.
/// Malformed lines are skipped.
fn parse_services(text: &str) -> ServicesTable {
    let mut table = HashMap::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let mut fields = line.split_whitespace();
        let (Some(name), Some(port_proto)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some((port, proto)) = port_proto.split_once('/') else {
            continue;
        };
        let Ok(port) = port.parse::<u16>() else {
            continue;
        };
        let protocol = match proto {
            "tcp" => TransportProtocol::Tcp,
            "udp" => TransportProtocol::Udp,
            _ => continue,
        };
        for alias in std::iter::once(name).chain(fields) {
            table
                .entry((alias.to_ascii_lowercase(), protocol))
                .or_insert(port);
        }
    }
    table
}

fn lookup(name: &str, protocol: TransportProtocol) -> Option<u16> {
    system_table()
        .and_then(|t| t.get(&(name.to_owned(), protocol)).copied())
        .or_else(|| built_in(name, protocol))
}

fn built_in(name: &str, protocol: TransportProtocol) -> Option<u16> {
    BUILT_IN
        .iter()
        .find(|(n, _, protos)| *n == name && protos.contains(&protocol))
        .map(|(_, port, _)| *port)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SocketErrorStatus;
    use TransportProtocol::{Tcp, Udp};

    #[test]
    fn ports_and_empty_parse() {
        for (input, port) in [
            ("0", 0),
            ("1", 1),
            ("80", 80),
            ("1337", 1337),
            ("65535", 65535),
            ("00080", 80),
            ("", 0),
        ] {
            let s = ServiceName::new(input).unwrap();
            assert_eq!(s.port(Tcp).unwrap(), port, "{input:?}");
            assert_eq!(s.port(Udp).unwrap(), port, "{input:?}");
            assert_eq!(s.as_port(), Some(port));
            assert_eq!(s.as_str(), input);
        }
        assert!(ServiceName::new("").unwrap().is_any());
        assert_eq!(ServiceName::from(8080).as_str(), "8080");
    }

    #[test]
    fn bad_ports_and_names_are_invalid_input() {
        for (input, reason) in [
            ("65536", "0 to 65535"),
            ("99999999999", "0 to 65535"),
            ("-1", "neither a port number"),
            ("+80", "neither a port number"),
            ("12ab", "neither a port number"),
            ("ht tp", "not allowed"),
            ("http/tcp", "not allowed"),
            ("a\u{0}", "not allowed"),
        ] {
            let err = ServiceName::new(input).expect_err(input);
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("{input:?}")) && msg.contains(reason),
                "{input:?}: {msg}"
            );
            assert!(matches!(err, Error::InvalidServiceName { .. }));
        }
        let long = "a".repeat(MAX_SERVICE_NAME_LEN + 1);
        assert!(ServiceName::new(&long).is_err());
    }

    #[test]
    fn names_resolve_per_protocol() {
        assert_eq!(ServiceName::new("http").unwrap().port(Tcp).unwrap(), 80);
        assert_eq!(ServiceName::new("HTTPS").unwrap().port(Tcp).unwrap(), 443);
        assert_eq!(ServiceName::new("ssh").unwrap().port(Tcp).unwrap(), 22);
        assert_eq!(ServiceName::new("domain").unwrap().port(Udp).unwrap(), 53);
        assert_eq!(ServiceName::new("ntp").unwrap().port(Udp).unwrap(), 123);
    }

    #[test]
    fn unknown_names_are_class_type_not_found() {
        let err = ServiceName::new("no-such-service-here")
            .unwrap()
            .port(Tcp)
            .unwrap_err();
        assert_eq!(err.status(), SocketErrorStatus::ClassTypeNotFound);
        assert!(
            err.to_string().contains("\"no-such-service-here\""),
            "{err}"
        );
    }

    #[test]
    fn built_in_table_is_per_protocol() {
        assert_eq!(built_in("http", Tcp), Some(80));
        assert_eq!(built_in("mdns", Udp), Some(5353));
        assert_eq!(built_in("mdns", Tcp), None);
        assert_eq!(built_in("ssh", Udp), None);
    }

    #[test]
    fn services_file_format_is_parsed_with_aliases_and_comments() {
        let table = parse_services(
            "# comment\n\
             http\t\t80/tcp\t\twww\t# WorldWideWeb HTTP\n\
             domain 53/udp\n\
             broken 70000/tcp\n\
             odd 12/sctp\n\
             \n\
             lonely\n",
        );
        assert_eq!(table.get(&("http".into(), Tcp)), Some(&80));
        assert_eq!(table.get(&("www".into(), Tcp)), Some(&80));
        assert_eq!(table.get(&("domain".into(), Udp)), Some(&53));
        assert_eq!(table.get(&("domain".into(), Tcp)), None);
        assert_eq!(table.len(), 3);
    }
}
