//! `HostName`: a validated DNS name or IP literal, as UWP's `Windows.Networking.HostName`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6};
use std::str::FromStr;

use crate::{Error, Result};

/// The longest DNS name, in bytes of its ASCII form, without a trailing dot (RFC 1035).
pub const MAX_NAME_LEN: usize = 253;
/// The longest DNS label, in bytes (RFC 1035).
pub const MAX_LABEL_LEN: usize = 63;
/// The longest IPv6 zone (scope) identifier accepted after `%`.
pub const MAX_ZONE_LEN: usize = 64;

/// What a [`HostName`] holds, as UWP's `HostNameType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HostNameType {
    /// A DNS name (including `localhost` and internationalised names).
    DomainName = 0,
    /// An IPv4 literal.
    Ipv4 = 1,
    /// An IPv6 literal, possibly with a zone.
    Ipv6 = 2,
}

/// A host: a DNS name, an IPv4 literal or an IPv6 literal.
///
/// Made with [`HostName::new`], which validates the input the way UWP's constructor
/// does (so it is the place to check what a user typed). Equality, ordering and
/// hashing use [`canonical_name`](Self::canonical_name), as UWP's `IsEqual` and
/// `Compare` do.
///
/// ```
/// use sock_core::{HostName, HostNameType};
///
/// let host = HostName::new("Bücher.Example")?;
/// assert_eq!(host.kind(), HostNameType::DomainName);
/// assert_eq!(host.canonical_name(), "xn--bcher-kva.example");
/// assert_eq!(host.display_name(), "bücher.example");
/// assert_eq!(host.raw_name(), "Bücher.Example");
///
/// let v6 = HostName::new("[FE80::0001%eth0]")?;
/// assert_eq!(v6.canonical_name(), "fe80::1%eth0");
/// assert_eq!(v6.zone(), Some("eth0"));
/// # Ok::<(), sock_core::Error>(())
/// ```
#[derive(Clone)]
pub struct HostName {
    raw: String,
    canonical: String,
    display: String,
    repr: Repr,
}

#[derive(Clone, Debug)]
enum Repr {
    Domain,
    V4(Ipv4Addr),
    V6(Ipv6Addr, Option<String>),
}

impl HostName {
    /// Parses and validates `input`.
    ///
    /// Accepts DNS names (RFC 1123 labels of letters, digits and hyphens, plus
    /// underscores as hosts files use them; labels ≤ 63 bytes, the name ≤ 253; one
    /// trailing dot allowed), internationalised names (converted with IDNA/UTS #46),
    /// IPv4 dotted-quad literals, and IPv6 literals with or without brackets and
    /// with an optional zone (`fe80::1%eth0`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHostName`], quoting the input and saying what is wrong:
    /// empty input, whitespace or control characters, empty or over-long labels,
    /// an over-long name, a character not allowed in a name, or a malformed IP
    /// literal.
    pub fn new(input: &str) -> Result<Self> {
        let bad = |reason: &str| Error::invalid_host_name(input, reason);
        if input.is_empty() {
            return Err(bad("is empty"));
        }
        if input.chars().any(char::is_whitespace) {
            return Err(bad("contains a space"));
        }
        if input.chars().any(char::is_control) {
            return Err(bad("contains a control character"));
        }

        if let Some(rest) = input.strip_prefix('[') {
            let inner = rest
                .strip_suffix(']')
                .ok_or_else(|| bad("has an opening '[' without a closing ']'"))?;
            return Self::ipv6(input, inner);
        }
        if input.ends_with(']') {
            return Err(bad("has a closing ']' without an opening '['"));
        }
        if input.contains(':') {
            return Self::ipv6(input, input);
        }
        if input.bytes().any(|b| b.is_ascii_digit())
            && input.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        {
            let addr: Ipv4Addr = input.parse().map_err(|_| {
                bad("is a malformed IPv4 literal (expected four numbers 0-255 joined by dots)")
            })?;
            return Ok(Self::from_ipv4(input.to_owned(), addr));
        }
        Self::domain(input)
    }

    fn ipv6(input: &str, text: &str) -> Result<Self> {
        let bad = |reason: &str| Error::invalid_host_name(input, reason);
        let (addr_text, zone) = match text.split_once('%') {
            Some((addr, zone)) => (addr, Some(zone)),
            None => (text, None),
        };
        let addr: Ipv6Addr = addr_text
            .parse()
            .map_err(|_| bad("is a malformed IPv6 literal"))?;
        let zone = match zone {
            None => None,
            Some("") => return Err(bad("has an empty IPv6 zone after '%'")),
            Some(z) if z.len() > MAX_ZONE_LEN => {
                return Err(bad(&format!(
                    "has an IPv6 zone longer than {MAX_ZONE_LEN} bytes"
                )))
            }
            Some(z)
                if !z
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) =>
            {
                return Err(bad(
                    "has an IPv6 zone with a character other than letters, digits, '-', '_' or '.'",
                ))
            }
            Some(z) => Some(z.to_owned()),
        };
        Ok(Self::from_ipv6(input.to_owned(), addr, zone))
    }

    fn domain(input: &str) -> Result<Self> {
        let bad = |reason: &str| Error::invalid_host_name(input, reason);
        let name = input.strip_suffix('.').unwrap_or(input);
        if name.is_empty() {
            return Err(bad("has an empty label"));
        }
        // Check the labels as typed first, so the error speaks of what the user wrote.
        for label in name.split('.') {
            if label.is_empty() {
                return Err(bad("has an empty label"));
            }
        }
        let ascii = if name.is_ascii() {
            name.to_ascii_lowercase()
        } else {
            idna::domain_to_ascii(name).map_err(|_| bad("is not a valid internationalised name"))?
        };
        // IDNA folds characters such as "１" or "²" to ASCII digits; a name that ends
        // up all digits and dots is an IPv4 literal or nothing, exactly as if it had
        // been typed in ASCII, so that the canonical name parses back to this host.
        if ascii.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            let addr: Ipv4Addr = ascii.parse().map_err(|_| {
                bad("normalises to a malformed IPv4 literal (expected four numbers 0-255 joined by dots)")
            })?;
            return Ok(Self::from_ipv4(input.to_owned(), addr));
        }
        if ascii.len() > MAX_NAME_LEN {
            return Err(bad(&format!(
                "is {} bytes long; a name may have at most {MAX_NAME_LEN}",
                ascii.len()
            )));
        }
        for label in ascii.split('.') {
            if label.is_empty() {
                return Err(bad("has an empty label"));
            }
            if label.len() > MAX_LABEL_LEN {
                return Err(bad(&format!(
                    "has a label of {} bytes; a label may have at most {MAX_LABEL_LEN}",
                    label.len()
                )));
            }
            if let Some(c) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
            {
                return Err(bad(&format!(
                    "contains {c:?}, which is not allowed in a host name"
                )));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(bad("has a label that starts or ends with '-'"));
            }
        }
        let (display, checked) = idna::domain_to_unicode(&ascii);
        if checked.is_err() {
            return Err(bad("has a malformed punycode (xn--) label"));
        }
        Ok(Self {
            raw: input.to_owned(),
            canonical: ascii,
            display,
            repr: Repr::Domain,
        })
    }

    fn from_ipv4(raw: String, addr: Ipv4Addr) -> Self {
        let canonical = addr.to_string();
        Self {
            raw,
            display: canonical.clone(),
            canonical,
            repr: Repr::V4(addr),
        }
    }

    fn from_ipv6(raw: String, addr: Ipv6Addr, zone: Option<String>) -> Self {
        let canonical = match &zone {
            Some(z) => format!("{addr}%{z}"),
            None => addr.to_string(),
        };
        Self {
            raw,
            display: canonical.clone(),
            canonical,
            repr: Repr::V6(addr, zone),
        }
    }

    /// What kind of host this is.
    pub fn kind(&self) -> HostNameType {
        match self.repr {
            Repr::Domain => HostNameType::DomainName,
            Repr::V4(_) => HostNameType::Ipv4,
            Repr::V6(..) => HostNameType::Ipv6,
        }
    }

    /// The input exactly as given (UWP's `RawName`).
    pub fn raw_name(&self) -> &str {
        &self.raw
    }

    /// The normalised identity (UWP's `CanonicalName`): lowercase ASCII with
    /// punycode for names (no trailing dot), the compressed form for IPv6 (with
    /// `%zone`, without brackets), the dotted quad for IPv4.
    pub fn canonical_name(&self) -> &str {
        &self.canonical
    }

    /// The form to show people (UWP's `DisplayName`): Unicode for
    /// internationalised names, otherwise the canonical name.
    pub fn display_name(&self) -> &str {
        &self.display
    }

    /// The address, when this host is an IP literal.
    pub fn ip_addr(&self) -> Option<IpAddr> {
        match self.repr {
            Repr::Domain => None,
            Repr::V4(a) => Some(IpAddr::V4(a)),
            Repr::V6(a, _) => Some(IpAddr::V6(a)),
        }
    }

    /// The IPv6 zone (scope) given after `%`, if any.
    pub fn zone(&self) -> Option<&str> {
        match &self.repr {
            Repr::V6(_, zone) => zone.as_deref(),
            _ => None,
        }
    }

    /// The socket address of an IP-literal host at `port`, its IPv6 zone turned
    /// into the scope id (a zone is an interface index or, on Unix, an
    /// interface name); `None` for a domain name, which needs resolving.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHostName`] when the zone names no network interface here.
    pub fn socket_addr(&self, port: u16) -> Option<Result<SocketAddr>> {
        match &self.repr {
            Repr::Domain => None,
            Repr::V4(ip) => Some(Ok(SocketAddr::from((*ip, port)))),
            Repr::V6(ip, zone) => {
                let scope = match zone {
                    None => Ok(0),
                    Some(zone) => zone
                        .parse::<u32>()
                        .ok()
                        .or_else(|| crate::sys::interface_index(zone))
                        .ok_or_else(|| {
                            Error::invalid_host_name(
                                &self.raw,
                                &format!(
                                    "has the zone {zone:?}, which names no network interface here"
                                ),
                            )
                        }),
                };
                Some(scope.map(|scope| SocketAddr::V6(SocketAddrV6::new(*ip, port, 0, scope))))
            }
        }
    }

    /// Whether this is `localhost` (or a name under `.localhost`) or a loopback literal.
    pub fn is_loopback(&self) -> bool {
        match self.ip_addr() {
            Some(ip) => ip.is_loopback(),
            None => self.canonical == "localhost" || self.canonical.ends_with(".localhost"),
        }
    }

    /// Compares two host names by canonical name, as UWP's `HostName.Compare`.
    ///
    /// # Errors
    ///
    /// When either string is not a valid host name.
    pub fn compare(a: &str, b: &str) -> Result<Ordering> {
        Ok(Self::new(a)?.cmp(&Self::new(b)?))
    }
}

impl From<IpAddr> for HostName {
    fn from(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(a) => Self::from(a),
            IpAddr::V6(a) => Self::from(a),
        }
    }
}

impl From<SocketAddr> for HostName {
    /// The host of `addr`; a scoped IPv6 address (link-local) keeps its scope
    /// as a numeric zone (`fe80::1%2`), so [`socket_addr`](Self::socket_addr)
    /// gives the same address back.
    fn from(addr: SocketAddr) -> Self {
        match addr {
            SocketAddr::V6(a) if a.scope_id() != 0 => {
                let zone = a.scope_id().to_string();
                Self::from_ipv6(format!("{}%{zone}", a.ip()), *a.ip(), Some(zone))
            }
            other => Self::from(other.ip()),
        }
    }
}

impl From<Ipv4Addr> for HostName {
    fn from(addr: Ipv4Addr) -> Self {
        Self::from_ipv4(addr.to_string(), addr)
    }
}

impl From<Ipv6Addr> for HostName {
    fn from(addr: Ipv6Addr) -> Self {
        Self::from_ipv6(addr.to_string(), addr, None)
    }
}

impl FromStr for HostName {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl TryFrom<&str> for HostName {
    type Error = Error;

    fn try_from(s: &str) -> Result<Self> {
        Self::new(s)
    }
}

impl PartialEq for HostName {
    fn eq(&self, other: &Self) -> bool {
        self.canonical == other.canonical
    }
}

impl Eq for HostName {}

impl Hash for HostName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.canonical.hash(state);
    }
}

impl PartialOrd for HostName {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for HostName {
    fn cmp(&self, other: &Self) -> Ordering {
        self.canonical.cmp(&other.canonical)
    }
}

impl fmt::Debug for HostName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HostName").field(&self.canonical).finish()
    }
}

impl fmt::Display for HostName {
    /// Writes the canonical name (UWP's `ToString`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (input, kind, canonical, display)
    const VALID: &[(&str, HostNameType, &str, &str)] = &[
        (
            "localhost",
            HostNameType::DomainName,
            "localhost",
            "localhost",
        ),
        (
            "LOCALHOST",
            HostNameType::DomainName,
            "localhost",
            "localhost",
        ),
        (
            "example.test",
            HostNameType::DomainName,
            "example.test",
            "example.test",
        ),
        (
            "www.Example.TEST.",
            HostNameType::DomainName,
            "www.example.test",
            "www.example.test",
        ),
        ("a", HostNameType::DomainName, "a", "a"),
        ("a-b.c-d", HostNameType::DomainName, "a-b.c-d", "a-b.c-d"),
        (
            "_sip._tcp.example",
            HostNameType::DomainName,
            "_sip._tcp.example",
            "_sip._tcp.example",
        ),
        ("my_host", HostNameType::DomainName, "my_host", "my_host"),
        ("3com.net", HostNameType::DomainName, "3com.net", "3com.net"),
        (
            "xn--bcher-kva.example",
            HostNameType::DomainName,
            "xn--bcher-kva.example",
            "bücher.example",
        ),
        (
            "bücher.example",
            HostNameType::DomainName,
            "xn--bcher-kva.example",
            "bücher.example",
        ),
        (
            "BÜCHER.example",
            HostNameType::DomainName,
            "xn--bcher-kva.example",
            "bücher.example",
        ),
        (
            "例え.テスト",
            HostNameType::DomainName,
            "xn--r8jz45g.xn--zckzah",
            "例え.テスト",
        ),
        (
            "münchen.de",
            HostNameType::DomainName,
            "xn--mnchen-3ya.de",
            "münchen.de",
        ),
        ("127.0.0.1", HostNameType::Ipv4, "127.0.0.1", "127.0.0.1"),
        ("0.0.0.0", HostNameType::Ipv4, "0.0.0.0", "0.0.0.0"),
        (
            "255.255.255.255",
            HostNameType::Ipv4,
            "255.255.255.255",
            "255.255.255.255",
        ),
        ("::1", HostNameType::Ipv6, "::1", "::1"),
        ("[::1]", HostNameType::Ipv6, "::1", "::1"),
        ("::", HostNameType::Ipv6, "::", "::"),
        ("FE80::1", HostNameType::Ipv6, "fe80::1", "fe80::1"),
        (
            "fe80::1%eth0",
            HostNameType::Ipv6,
            "fe80::1%eth0",
            "fe80::1%eth0",
        ),
        (
            "[fe80::1%eth0]",
            HostNameType::Ipv6,
            "fe80::1%eth0",
            "fe80::1%eth0",
        ),
        ("fe80::1%2", HostNameType::Ipv6, "fe80::1%2", "fe80::1%2"),
        (
            "2001:db8:0:0:0:0:0:1",
            HostNameType::Ipv6,
            "2001:db8::1",
            "2001:db8::1",
        ),
        (
            "::ffff:192.0.2.1",
            HostNameType::Ipv6,
            "::ffff:192.0.2.1",
            "::ffff:192.0.2.1",
        ),
    ];

    /// Full-width digits fold to an IPv4 literal, as if typed in ASCII.
    #[test]
    fn names_that_fold_to_digits_are_ipv4_literals() {
        let host = HostName::new("１２７.０.０.１").unwrap();
        assert_eq!(host.kind(), HostNameType::Ipv4);
        assert_eq!(host.canonical_name(), "127.0.0.1");
        assert_eq!(HostName::new(host.canonical_name()).unwrap(), host);
    }

    /// (input, a fragment of the reason)
    const INVALID: &[(&str, &str)] = &[
        ("", "is empty"),
        (" ", "contains a space"),
        ("a b", "contains a space"),
        ("host\t", "contains a space"),
        ("a\u{7}b", "control character"),
        (".", "empty label"),
        ("a..b", "empty label"),
        (".a", "empty label"),
        ("a.b..", "empty label"),
        ("-a.com", "starts or ends with '-'"),
        ("a-.com", "starts or ends with '-'"),
        ("a!b", "not allowed"),
        ("a/b", "not allowed"),
        ("a@b.c", "not allowed"),
        ("1.2.3", "malformed IPv4"),
        ("256.1.1.1", "malformed IPv4"),
        ("1.2.3.4.5", "malformed IPv4"),
        ("01.2.3.4", "malformed IPv4"),
        ("1234", "malformed IPv4"),
        ("1.2.3.4%eth0", "not allowed"),
        (":::1", "malformed IPv6"),
        ("1::2::3", "malformed IPv6"),
        ("fe80::g", "malformed IPv6"),
        ("[::1", "without a closing"),
        ("::1]", "without an opening"),
        ("[]", "malformed IPv6"),
        ("fe80::1%", "empty IPv6 zone"),
        ("fe80::1%eth/0", "IPv6 zone with a character"),
        ("xn--a.example", "punycode"),
        ("²", "normalises to a malformed IPv4"),
        ("１.２", "normalises to a malformed IPv4"),
    ];

    #[test]
    fn valid_names_parse_to_their_canonical_and_display_forms() {
        for (input, kind, canonical, display) in VALID {
            let host = HostName::new(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(host.kind(), *kind, "{input:?}");
            assert_eq!(host.canonical_name(), *canonical, "{input:?}");
            assert_eq!(host.display_name(), *display, "{input:?}");
            assert_eq!(host.raw_name(), *input, "{input:?}");
            assert_eq!(host.to_string(), *canonical);
        }
    }

    #[test]
    fn invalid_names_are_rejected_quoting_the_input_and_the_reason() {
        for (input, reason) in INVALID {
            let err = HostName::new(input).expect_err(input);
            let msg = err.to_string();
            assert!(msg.contains(&format!("{input:?}")), "{input:?}: {msg}");
            assert!(msg.contains(reason), "{input:?}: {msg}");
            assert!(matches!(err, Error::InvalidHostName { .. }), "{input:?}");
        }
    }

    #[test]
    fn there_are_at_least_forty_cases() {
        assert!(VALID.len() + INVALID.len() + 4 >= 40);
    }

    #[test]
    fn label_and_name_lengths_are_limited() {
        let label63 = "a".repeat(63);
        assert!(HostName::new(&label63).is_ok());
        let err = HostName::new(&"a".repeat(64)).unwrap_err().to_string();
        assert!(err.contains("label of 64 bytes"), "{err}");

        // 4 labels of 63 plus 3 dots = 255 > 253; 3 of 63 + one of 61 = 253.
        let long = [label63.as_str(); 4].join(".");
        let err = HostName::new(&long).unwrap_err().to_string();
        assert!(err.contains("255 bytes long"), "{err}");
        let ok = format!("{0}.{0}.{0}.{1}", label63, "a".repeat(61));
        assert_eq!(ok.len(), 253);
        assert!(HostName::new(&ok).is_ok());
        assert!(
            HostName::new(&format!("{ok}.")).is_ok(),
            "a trailing dot does not count"
        );
    }

    #[test]
    fn equality_and_hashing_use_the_canonical_name() {
        use std::collections::HashSet;
        let a = HostName::new("Bücher.example.").unwrap();
        let b = HostName::new("xn--bcher-kva.EXAMPLE").unwrap();
        assert_eq!(a, b);
        let set: HashSet<_> = [a, b].into_iter().collect();
        assert_eq!(set.len(), 1);
        assert_eq!(
            HostName::new("[::1]").unwrap(),
            HostName::new("0:0::1").unwrap()
        );
        assert_eq!(HostName::compare("A.b", "a.B").unwrap(), Ordering::Equal);
    }

    #[test]
    fn literals_expose_their_address_and_zone() {
        let h = HostName::new("[fe80::1%eth0]").unwrap();
        assert_eq!(h.ip_addr(), Some("fe80::1".parse().unwrap()));
        assert_eq!(h.zone(), Some("eth0"));
        assert!(HostName::new("localhost").unwrap().is_loopback());
        assert!(HostName::new("127.0.0.7").unwrap().is_loopback());
        assert!(!HostName::new("example.test").unwrap().is_loopback());
        let from_ip = HostName::from(IpAddr::from([192, 0, 2, 1]));
        assert_eq!(from_ip.kind(), HostNameType::Ipv4);
    }

    #[test]
    fn literals_become_socket_addresses_with_their_zone_as_scope() {
        let v4 = HostName::new("127.0.0.1").unwrap();
        assert_eq!(
            v4.socket_addr(80).unwrap().unwrap(),
            "127.0.0.1:80".parse().unwrap()
        );
        let v6 = HostName::new("[::1]").unwrap();
        assert_eq!(
            v6.socket_addr(80).unwrap().unwrap(),
            "[::1]:80".parse().unwrap()
        );
        assert!(HostName::new("localhost")
            .unwrap()
            .socket_addr(80)
            .is_none());

        let Some(Ok(SocketAddr::V6(numeric))) = HostName::new("fe80::1%7").unwrap().socket_addr(9)
        else {
            panic!("a numeric zone is a scope id")
        };
        assert_eq!(numeric.scope_id(), 7);
        if cfg!(target_os = "linux") {
            let Some(Ok(SocketAddr::V6(lo))) = HostName::new("fe80::1%lo").unwrap().socket_addr(9)
            else {
                panic!("lo is an interface")
            };
            assert_eq!(lo.scope_id(), 1);
        }
        let err = HostName::new("fe80::1%no-such-if0")
            .unwrap()
            .socket_addr(9)
            .unwrap()
            .unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(
            err.to_string()
                .contains("\"no-such-if0\", which names no network interface"),
            "{err}"
        );
    }

    #[test]
    fn socket_addresses_become_hosts_and_back_with_their_scope() {
        for text in ["127.0.0.1:80", "[::1]:443", "[fe80::1%7]:9"] {
            let addr: SocketAddr = text.parse().unwrap();
            let host = HostName::from(addr);
            assert_eq!(host.ip_addr(), Some(addr.ip()), "{text}");
            assert_eq!(host.socket_addr(addr.port()).unwrap().unwrap(), addr);
            assert_eq!(host, HostName::new(host.raw_name()).unwrap(), "{text}");
        }
        let scoped = HostName::from("[fe80::1%7]:9".parse::<SocketAddr>().unwrap());
        assert_eq!(scoped.canonical_name(), "fe80::1%7");
        assert_eq!(scoped.zone(), Some("7"));
    }

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = HostName::new(&s);
        }

        #[test]
        fn parsing_arbitrary_unicode_never_panics(s in proptest::collection::vec(proptest::char::any(), 0..80)) {
            let s: String = s.into_iter().collect();
            if let Ok(h) = HostName::new(&s) {
                // What parses once parses again from its canonical form, to the same host.
                let again = HostName::new(h.canonical_name()).unwrap();
                proptest::prop_assert_eq!(again, h);
            }
        }
    }
}
