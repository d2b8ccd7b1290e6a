//! `CertificateInfo`: the names and dates of a certificate, read from its DER
//! encoding, to show to people and to identify a peer.
//!
//! The reader is small and defensive: it reads only what it shows (serial,
//! issuer, validity, subject, subject alternative names) and never panics on
//! malformed input, since certificates come from peers.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::pki_types::CertificateDer;

/// The names and dates of one certificate.
///
/// Made with [`CertificateInfo::parse`], or obtained from
/// [`TlsConnectionInfo::peer_certificate`](crate::TlsConnectionInfo::peer_certificate).
/// Distinguished names are shown as `CN=example, O=Example Ltd` in the order the
/// certificate lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateInfo {
    serial_number: Vec<u8>,
    issuer: String,
    subject: String,
    common_name: Option<String>,
    self_issued: bool,
    not_before: SystemTime,
    not_after: SystemTime,
    dns_names: Vec<String>,
    ip_addresses: Vec<IpAddr>,
    email_addresses: Vec<String>,
    uris: Vec<String>,
}

/// Why a certificate could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateParseError(&'static str);

impl fmt::Display for CertificateParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "malformed certificate: {}", self.0)
    }
}

impl std::error::Error for CertificateParseError {}

type Parse<T> = Result<T, CertificateParseError>;

impl CertificateInfo {
    /// Reads the names and dates of a DER-encoded X.509 certificate.
    ///
    /// # Errors
    ///
    /// [`CertificateParseError`] when the encoding is not a certificate.
    pub fn parse(der: &CertificateDer<'_>) -> Result<Self, CertificateParseError> {
        parse_certificate(der.as_ref())
    }

    /// The serial number, big-endian, as encoded (a leading zero byte removed).
    pub fn serial_number(&self) -> &[u8] {
        &self.serial_number
    }

    /// The serial number in colon-separated hexadecimal (`01:ab:…`).
    pub fn serial_number_hex(&self) -> String {
        hex(&self.serial_number, ":")
    }

    /// The issuer's distinguished name.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The subject's distinguished name.
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The subject's common name (`CN`), if it has one.
    pub fn common_name(&self) -> Option<&str> {
        self.common_name.as_deref()
    }

    /// Whether issuer and subject are the same name (a self-signed or root certificate).
    pub fn is_self_issued(&self) -> bool {
        self.self_issued
    }

    /// The start of the validity period.
    pub fn not_before(&self) -> SystemTime {
        self.not_before
    }

    /// The end of the validity period.
    pub fn not_after(&self) -> SystemTime {
        self.not_after
    }

    /// Whether `time` falls within the validity period.
    pub fn is_valid_at(&self, time: SystemTime) -> bool {
        self.not_before <= time && time <= self.not_after
    }

    /// The DNS names of the subject alternative name extension.
    pub fn dns_names(&self) -> &[String] {
        &self.dns_names
    }

    /// The IP addresses of the subject alternative name extension.
    pub fn ip_addresses(&self) -> &[IpAddr] {
        &self.ip_addresses
    }

    /// The e-mail addresses (`rfc822Name`) of the subject alternative name extension.
    pub fn email_addresses(&self) -> &[String] {
        &self.email_addresses
    }

    /// The URIs of the subject alternative name extension (SPIFFE IDs, for example).
    pub fn uris(&self) -> &[String] {
        &self.uris
    }

    /// Every subject alternative name as text: DNS names, IP addresses, e-mail
    /// addresses and URIs, in that order.
    pub fn subject_alternative_names(&self) -> Vec<String> {
        self.dns_names
            .iter()
            .cloned()
            .chain(self.ip_addresses.iter().map(IpAddr::to_string))
            .chain(self.email_addresses.iter().cloned())
            .chain(self.uris.iter().cloned())
            .collect()
    }
}

impl fmt::Display for CertificateInfo {
    /// `subject (issued by issuer, valid from … to …)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (issued by {}, valid from {} to {})",
            self.subject,
            self.issuer,
            format_time(self.not_before),
            format_time(self.not_after)
        )
    }
}

/// Formats a time as `2024-05-01 12:00:00 UTC`.
pub(crate) fn format_time(time: SystemTime) -> String {
    let secs = match time.duration_since(UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    format_unix(secs)
}

/// Formats seconds since the Unix epoch as `2024-05-01 12:00:00 UTC`.
pub(crate) fn format_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

// Howard Hinnant's days-from-civil and its inverse (proleptic Gregorian).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

pub(crate) fn hex(bytes: &[u8], sep: &str) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(sep)
}

// ---- DER reading -------------------------------------------------------------

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const INTEGER: u8 = 0x02;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const UTC_TIME: u8 = 0x17;
const GENERALIZED_TIME: u8 = 0x18;

/// A cursor over DER bytes.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn peek_tag(&self) -> Option<u8> {
        self.0.first().copied()
    }

    /// Reads one element: its tag and contents.
    fn any(&mut self) -> Parse<(u8, &'a [u8])> {
        let err = CertificateParseError("truncated or invalid DER length");
        let (&tag, rest) = self.0.split_first().ok_or(err.clone())?;
        if tag & 0x1f == 0x1f {
            return Err(CertificateParseError(
                "multi-byte DER tags are not used here",
            ));
        }
        let (&first, rest) = rest.split_first().ok_or(err.clone())?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err(err);
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            (len, &rest[n..])
        };
        if rest.len() < len {
            return Err(err);
        }
        let (contents, rest) = rest.split_at(len);
        self.0 = rest;
        Ok((tag, contents))
    }

    /// Reads one element: its tag, its contents, and the whole encoding.
    fn element(&mut self) -> Parse<(u8, &'a [u8], &'a [u8])> {
        let before = self.0;
        let (tag, contents) = self.any()?;
        Ok((tag, contents, &before[..before.len() - self.0.len()]))
    }

    fn expect(&mut self, want: u8, what: &'static str) -> Parse<&'a [u8]> {
        match self.any()? {
            (tag, contents) if tag == want => Ok(contents),
            _ => Err(CertificateParseError(what)),
        }
    }
}

/// A certificate's fields as it encodes them, read once: what
/// [`CertificateInfo`] shows, and what checking a certificate by hand needs
/// (a self-signed certificate that webpki cannot take as an end entity
/// because it says it is a CA).
pub(crate) struct RawCertificate<'a> {
    /// The whole DER `tbsCertificate`: what the signature signs.
    pub(crate) tbs: &'a [u8],
    /// The contents of the signature's `AlgorithmIdentifier`, and the
    /// signature; `None` when they cannot be read.
    pub(crate) signature: Option<(&'a [u8], &'a [u8])>,
    serial: &'a [u8],
    /// The contents of the issuer's name.
    pub(crate) issuer: &'a [u8],
    /// The contents of the subject's name (as a trust anchor keeps it).
    pub(crate) subject: &'a [u8],
    pub(crate) not_before: SystemTime,
    pub(crate) not_after: SystemTime,
    /// The contents of the `SubjectPublicKeyInfo` (as a trust anchor keeps it).
    pub(crate) spki: &'a [u8],
    /// Each extension's id and value.
    extensions: Vec<(&'a [u8], &'a [u8])>,
}

const BIT_STRING: u8 = 0x03;
const SUBJECT_ALT_NAME: &[u8] = &[0x55, 0x1d, 0x11];
const BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const EXTENDED_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x25];

impl<'a> RawCertificate<'a> {
    /// Reads the fields of a DER-encoded X.509 certificate.
    pub(crate) fn read(der: &'a [u8]) -> Parse<Self> {
        let mut outer = Der(der);
        let mut cert = Der(outer.expect(SEQUENCE, "not a DER SEQUENCE")?);
        let (tag, tbs_contents, tbs) = cert.element()?;
        if tag != SEQUENCE {
            return Err(CertificateParseError("no tbsCertificate"));
        }
        let signature = (|| {
            let algorithm = cert.expect(SEQUENCE, "no signature algorithm")?;
            match cert.expect(BIT_STRING, "no signature")?.split_first() {
                Some((0, signature)) => Ok((algorithm, signature)),
                _ => Err(CertificateParseError("bad signature")),
            }
        })()
        .ok();
        let mut tbs_fields = Der(tbs_contents);
        if tbs_fields.peek_tag() == Some(0xa0) {
            tbs_fields.any()?; // [0] EXPLICIT version
        }
        let serial = tbs_fields.expect(INTEGER, "no serial number")?;
        tbs_fields.expect(SEQUENCE, "no signature algorithm")?;
        let issuer = tbs_fields.expect(SEQUENCE, "no issuer name")?;
        let mut validity = Der(tbs_fields.expect(SEQUENCE, "no validity")?);
        let not_before = parse_time(&mut validity)?;
        let not_after = parse_time(&mut validity)?;
        let subject = tbs_fields.expect(SEQUENCE, "no subject name")?;
        let spki = tbs_fields.expect(SEQUENCE, "no subject public key")?;
        let mut extensions = Vec::new();
        while !tbs_fields.is_empty() {
            let (tag, contents) = tbs_fields.any()?;
            if tag != 0xa3 {
                continue; // issuerUniqueID, subjectUniqueID
            }
            let mut exts = Der(Der(contents).expect(SEQUENCE, "bad extensions")?);
            while !exts.is_empty() {
                let mut ext = Der(exts.expect(SEQUENCE, "bad extension")?);
                let oid = ext.expect(OID, "bad extension id")?;
                if ext.peek_tag() == Some(BOOLEAN) {
                    ext.any()?;
                }
                extensions.push((oid, ext.expect(OCTET_STRING, "bad extension value")?));
            }
        }
        Ok(Self {
            tbs,
            signature,
            serial,
            issuer,
            subject,
            not_before,
            not_after,
            spki,
            extensions,
        })
    }

    fn extension(&self, id: &[u8]) -> Option<&'a [u8]> {
        self.extensions
            .iter()
            .find(|(oid, _)| *oid == id)
            .map(|(_, value)| *value)
    }

    /// Whether issuer and subject are the same name.
    pub(crate) fn is_self_issued(&self) -> bool {
        self.issuer == self.subject
    }

    /// Whether its basic constraints say it is a CA (`CA:TRUE`).
    pub(crate) fn is_ca(&self) -> bool {
        let Some(value) = self.extension(BASIC_CONSTRAINTS) else {
            return false;
        };
        let Ok(constraints) = Der(value).expect(SEQUENCE, "bad basicConstraints") else {
            return false;
        };
        matches!(Der(constraints).any(), Ok((BOOLEAN, [flag])) if *flag != 0)
    }

    /// The key purposes (OIDs) of its extended key usage; `None` without
    /// that extension (any purpose).
    pub(crate) fn extended_key_usage(&self) -> Parse<Option<Vec<&'a [u8]>>> {
        let Some(value) = self.extension(EXTENDED_KEY_USAGE) else {
            return Ok(None);
        };
        let mut purposes = Der(Der(value).expect(SEQUENCE, "bad extendedKeyUsage")?);
        let mut all = Vec::new();
        while !purposes.is_empty() {
            all.push(purposes.expect(OID, "bad key purpose")?);
        }
        Ok(Some(all))
    }

    /// The contents of the key's `AlgorithmIdentifier`, and the key.
    pub(crate) fn public_key(&self) -> Parse<(&'a [u8], &'a [u8])> {
        let mut spki = Der(self.spki);
        let algorithm = spki.expect(SEQUENCE, "no key algorithm")?;
        match spki.expect(BIT_STRING, "no public key")?.split_first() {
            Some((0, key)) => Ok((algorithm, key)),
            _ => Err(CertificateParseError("bad public key")),
        }
    }
}

fn parse_certificate(der: &[u8]) -> Parse<CertificateInfo> {
    let raw = RawCertificate::read(der)?;
    let serial_number = match raw.serial {
        [0, rest @ ..] if !rest.is_empty() => rest.to_vec(),
        other => other.to_vec(),
    };
    let mut info = CertificateInfo {
        serial_number,
        issuer: name_to_string(raw.issuer)?.0,
        subject: String::new(),
        common_name: None,
        self_issued: raw.is_self_issued(),
        not_before: raw.not_before,
        not_after: raw.not_after,
        dns_names: Vec::new(),
        ip_addresses: Vec::new(),
        email_addresses: Vec::new(),
        uris: Vec::new(),
    };
    (info.subject, info.common_name) = name_to_string(raw.subject)?;
    if let Some(names) = raw.extension(SUBJECT_ALT_NAME) {
        read_subject_alt_names(names, &mut info)?;
    }
    Ok(info)
}

fn read_subject_alt_names(value: &[u8], info: &mut CertificateInfo) -> Parse<()> {
    let mut names = Der(Der(value).expect(SEQUENCE, "bad subjectAltName")?);
    while !names.is_empty() {
        let (tag, contents) = names.any()?;
        let text = || String::from_utf8_lossy(contents).into_owned();
        match tag {
            0x81 => info.email_addresses.push(text()),
            0x82 => info.dns_names.push(text()),
            0x86 => info.uris.push(text()),
            0x87 => match contents.len() {
                4 => {
                    let octets: [u8; 4] = contents.try_into().unwrap_or_default();
                    info.ip_addresses.push(IpAddr::V4(Ipv4Addr::from(octets)));
                }
                16 => {
                    let octets: [u8; 16] = contents.try_into().unwrap_or_default();
                    info.ip_addresses.push(IpAddr::V6(Ipv6Addr::from(octets)));
                }
                _ => {}
            },
            _ => {} // otherName, x400Address, directoryName, …
        }
    }
    Ok(())
}

fn parse_time(der: &mut Der<'_>) -> Parse<SystemTime> {
    let bad = CertificateParseError("bad validity time");
    let (tag, contents) = der.any()?;
    let text = std::str::from_utf8(contents)
        .ok()
        .filter(|t| t.is_ascii())
        .ok_or(bad.clone())?;
    let (year, rest) = match tag {
        UTC_TIME if text.len() == 13 => {
            let yy: i64 = text[..2].parse().map_err(|_| bad.clone())?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &text[2..])
        }
        GENERALIZED_TIME if text.len() == 15 => {
            (text[..4].parse().map_err(|_| bad.clone())?, &text[4..])
        }
        _ => return Err(bad),
    };
    if !rest.ends_with('Z') {
        return Err(bad);
    }
    let field = |i: usize| -> Parse<i64> {
        rest.get(i..i + 2)
            .filter(|s| s.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|s| s.parse().ok())
            .ok_or(CertificateParseError("bad validity time"))
    };
    let (month, day, hour, min, sec) = (field(0)?, field(2)?, field(4)?, field(6)?, field(8)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
        return Err(bad);
    }
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec;
    Ok(if secs >= 0 {
        UNIX_EPOCH + Duration::from_secs(secs as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(secs.unsigned_abs())
    })
}

/// Renders a Name (`SEQUENCE OF SET OF AttributeTypeAndValue`); also returns the CN.
fn name_to_string(name: &[u8]) -> Parse<(String, Option<String>)> {
    let mut rdns = Der(name);
    let mut parts = Vec::new();
    let mut common_name = None;
    while !rdns.is_empty() {
        let mut set = Der(rdns.expect(SET, "bad relative distinguished name")?);
        while !set.is_empty() {
            let mut atv = Der(set.expect(SEQUENCE, "bad attribute")?);
            let oid = atv.expect(OID, "bad attribute type")?;
            let (tag, value) = atv.any()?;
            let value = decode_string(tag, value);
            let label = match oid {
                [0x55, 0x04, 0x03] => "CN",
                [0x55, 0x04, 0x06] => "C",
                [0x55, 0x04, 0x07] => "L",
                [0x55, 0x04, 0x08] => "ST",
                [0x55, 0x04, 0x09] => "STREET",
                [0x55, 0x04, 0x0a] => "O",
                [0x55, 0x04, 0x0b] => "OU",
                [0x55, 0x04, 0x05] => "SERIALNUMBER",
                [0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19] => "DC",
                [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01] => "emailAddress",
                other => {
                    parts.push(format!("{}={value}", oid_to_string(other)));
                    continue;
                }
            };
            if label == "CN" && common_name.is_none() {
                common_name = Some(value.clone());
            }
            parts.push(format!("{label}={value}"));
        }
    }
    Ok((parts.join(", "), common_name))
}

fn decode_string(tag: u8, bytes: &[u8]) -> String {
    match tag {
        // UTF8String, PrintableString, IA5String, NumericString, VisibleString
        0x0c | 0x13 | 0x16 | 0x12 | 0x1a => String::from_utf8_lossy(bytes).into_owned(),
        // TeletexString: treat as Latin-1, as most software does.
        0x14 => bytes.iter().map(|&b| char::from(b)).collect(),
        // BMPString: UTF-16BE.
        0x1e => {
            let units: Vec<u16> = bytes
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        }
        // UniversalString: UTF-32BE.
        0x1c => bytes
            .chunks_exact(4)
            .map(|c| {
                char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        _ => format!("#{}", hex(bytes, "")),
    }
}

fn oid_to_string(oid: &[u8]) -> String {
    let mut arcs = Vec::new();
    let mut value: u64 = 0;
    for (i, &b) in oid.iter().enumerate() {
        value = (value << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if arcs.is_empty() && i < 9 {
                let first = (value / 40).min(2);
                arcs.push(first);
                arcs.push(value - first * 40);
            } else {
                arcs.push(value);
            }
            value = 0;
        } else if value > u64::MAX >> 7 {
            return format!("#{}", hex(oid, ""));
        }
    }
    arcs.iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_through_the_civil_calendar() {
        assert_eq!(format_unix(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_unix(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_unix(4_102_444_799), "2099-12-31 23:59:59 UTC");
        assert_eq!(format_unix(-86_400), "1969-12-31 00:00:00 UTC");
        for days in [-1000, 0, 11_016, 20_000, 47_482] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn an_rcgen_certificate_reads_back() {
        use rcgen::{CertificateParams, DnType, KeyPair, SanType, SerialNumber};

        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params.distinguished_name.push(DnType::CountryName, "NZ");
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Bücher GmbH");
        params
            .distinguished_name
            .push(DnType::CommonName, "device-7");
        params.subject_alt_names = vec![
            SanType::DnsName("device-7.example".try_into().unwrap()),
            SanType::IpAddress("192.0.2.7".parse().unwrap()),
            SanType::IpAddress("2001:db8::7".parse().unwrap()),
            SanType::Rfc822Name("ops@example.test".try_into().unwrap()),
            SanType::URI("spiffe://example/device-7".try_into().unwrap()),
        ];
        params.not_before = rcgen::date_time_ymd(2024, 2, 29);
        params.not_after = rcgen::date_time_ymd(2051, 12, 31);
        params.serial_number = Some(SerialNumber::from(vec![0x80, 0x01]));
        let cert = params.self_signed(&key).unwrap();

        let info = CertificateInfo::parse(cert.der()).unwrap();
        assert_eq!(info.subject(), "C=NZ, O=Bücher GmbH, CN=device-7");
        assert_eq!(info.issuer(), info.subject());
        assert!(info.is_self_issued());
        assert_eq!(info.common_name(), Some("device-7"));
        assert_eq!(info.dns_names(), ["device-7.example"]);
        assert_eq!(
            info.ip_addresses(),
            [
                "192.0.2.7".parse::<IpAddr>().unwrap(),
                "2001:db8::7".parse().unwrap()
            ]
        );
        assert_eq!(info.email_addresses(), ["ops@example.test"]);
        assert_eq!(info.uris(), ["spiffe://example/device-7"]);
        assert_eq!(format_time(info.not_before()), "2024-02-29 00:00:00 UTC");
        assert_eq!(format_time(info.not_after()), "2051-12-31 00:00:00 UTC");
        assert_eq!(info.serial_number_hex(), "80:01");
        assert!(info.is_valid_at(UNIX_EPOCH + Duration::from_secs(1_800_000_000)));
        assert!(!info.is_valid_at(UNIX_EPOCH));
        assert_eq!(info.subject_alternative_names().len(), 5);
        assert!(info
            .to_string()
            .starts_with("C=NZ, O=Bücher GmbH, CN=device-7 (issued by"));

        // Every truncation of a real certificate fails cleanly.
        let der = cert.der().as_ref();
        for end in 0..der.len() {
            assert!(CertificateInfo::parse(&CertificateDer::from(&der[..end])).is_err());
        }
    }

    #[test]
    fn oids_render_dotted() {
        assert_eq!(oid_to_string(&[0x55, 0x04, 0x03]), "2.5.4.3");
        assert_eq!(
            oid_to_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d]),
            "1.2.840.113549"
        );
    }

    #[test]
    fn garbage_is_an_error_never_a_panic() {
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            vec![0x30],
            vec![0x30, 0x85, 1, 2, 3, 4, 5],
            vec![0x30, 0x82, 0xff, 0xff],
            vec![0x30, 0x03, 0x30, 0x01],
            vec![0x1f, 0x00],
            b"-----BEGIN CERTIFICATE-----".to_vec(),
        ];
        for input in inputs {
            assert!(
                CertificateInfo::parse(&CertificateDer::from(input.clone())).is_err(),
                "{input:?}"
            );
        }
        // Every truncation of a structurally valid prefix fails cleanly too.
        let mut der = vec![
            0x30, 0x10, 0x30, 0x0e, 0x02, 0x01, 0x01, 0x30, 0x00, 0x30, 0x00,
        ];
        der.extend([0x30, 0x04, 0x17, 0x02, b'9', b'9', 0x30, 0x00]);
        for end in 0..der.len() {
            let _ = CertificateInfo::parse(&CertificateDer::from(der[..end].to_vec()));
        }
    }
}
