//! The certificate vocabulary that verification and errors share: UWP's
//! certificate statuses of rustls and webpki errors ([`status_of`]), the
//! problems a client may tolerate ([`IgnorableCertificateError`]), the problems
//! found ([`CertificateProblem`]), and the words that describe them.
//!
//! A leaf: it uses no other module of this crate but `x509`.

use std::fmt;

use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::CertificateError;
use sock_core::SocketErrorStatus;

use crate::x509::{format_unix, CertificateInfo};

/// The UWP certificate status (23–30) of a rustls error, or
/// [`SocketErrorStatus::Unknown`] when it is not a certificate problem.
///
/// | rustls [`CertificateError`] | status |
/// |---|---|
/// | `Expired`, `ExpiredContext`, `NotValidYet`, `NotValidYetContext` | 23 `CertificateExpired` |
/// | `UnknownIssuer` | 24 `CertificateUntrustedRoot` |
/// | `NotValidForName`, `NotValidForNameContext` | 25 `CertificateCommonNameIsIncorrect` |
/// | `InvalidPurpose`, `InvalidPurposeContext` | 26 `CertificateWrongUsage` |
/// | `Revoked` | 27 `CertificateRevoked` |
/// | `UnknownRevocationStatus`, and an unusable revocation list | 28 `CertificateNoRevocationCheck` |
/// | `ExpiredRevocationList`, `ExpiredRevocationListContext` | 29 `CertificateRevocationServerOffline` |
/// | `BadSignature`, `BadEncoding`, `UnhandledCriticalExtension`, unsupported signature algorithms, `Other`, … | 30 `CertificateIsInvalid` |
///
/// Alerts received from the peer (the peer rejecting *our* certificate) and
/// every other TLS failure are `Unknown`: the statuses describe the peer's
/// certificate as this side judged it.
pub fn status_of(error: &rustls::Error) -> SocketErrorStatus {
    match error {
        rustls::Error::InvalidCertificate(e) => status_of_certificate_error(e),
        rustls::Error::InvalidCertRevocationList(_) => {
            SocketErrorStatus::CertificateNoRevocationCheck
        }
        _ => SocketErrorStatus::Unknown,
    }
}

/// The UWP certificate status of a rustls [`CertificateError`] (see [`status_of`]).
pub fn status_of_certificate_error(error: &CertificateError) -> SocketErrorStatus {
    use CertificateError as C;
    use SocketErrorStatus as S;
    match error {
        C::Expired | C::ExpiredContext { .. } | C::NotValidYet | C::NotValidYetContext { .. } => {
            S::CertificateExpired
        }
        C::UnknownIssuer => S::CertificateUntrustedRoot,
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            S::CertificateCommonNameIsIncorrect
        }
        C::InvalidPurpose | C::InvalidPurposeContext { .. } => S::CertificateWrongUsage,
        C::Revoked => S::CertificateRevoked,
        C::UnknownRevocationStatus => S::CertificateNoRevocationCheck,
        C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
            S::CertificateRevocationServerOffline
        }
        _ => S::CertificateIsInvalid,
    }
}

/// One problem found with the peer's certificate chain, as UWP's
/// `ServerCertificateErrors` lists them.
///
/// A problem is either *waived* (it is of a kind the configuration tolerates,
/// see [`IgnorableCertificateError`]) or it failed the handshake.
#[derive(Debug, Clone)]
pub struct CertificateProblem {
    pub(crate) error: CertificateError,
    pub(crate) detail: String,
    pub(crate) ignorable_as: Option<IgnorableCertificateError>,
    pub(crate) waived: bool,
    /// Whether this is the problem that failed the handshake.
    pub(crate) decisive: bool,
}

impl CertificateProblem {
    /// The certificate status (23–30).
    pub fn status(&self) -> SocketErrorStatus {
        status_of_certificate_error(&self.error)
    }

    /// The rustls error, with the names and dates it carries.
    pub fn error(&self) -> &CertificateError {
        &self.error
    }

    /// What is wrong, for people: the certificate, the names or dates involved.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// The ignorable kind this problem belongs to, if it can be waived at all.
    ///
    /// `None` for problems that can never be waived (bad signatures, revocation,
    /// wrong usage, an incomplete chain, …).
    pub fn ignorable_as(&self) -> Option<IgnorableCertificateError> {
        self.ignorable_as
    }

    /// Whether the configuration tolerated this problem.
    pub fn is_waived(&self) -> bool {
        self.waived
    }
}

impl fmt::Display for CertificateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)?;
        if self.waived {
            f.write_str(" (waived)")?;
        }
        Ok(())
    }
}

fn unix(t: &UnixTime) -> String {
    format_unix(i64::try_from(t.as_secs()).unwrap_or(i64::MAX))
}

/// The phrase that follows "certificate …" for a certificate error.
pub(crate) fn describe_certificate_error(error: &CertificateError) -> String {
    use CertificateError as C;
    match error {
        C::ExpiredContext { time, not_after } => {
            format!("expired at {} (checked at {})", unix(not_after), unix(time))
        }
        C::Expired => "has expired or has an invalid validity period".to_owned(),
        C::NotValidYetContext { time, not_before } => format!(
            "is not valid before {} (checked at {})",
            unix(not_before),
            unix(time)
        ),
        C::NotValidYet => "is not valid yet".to_owned(),
        C::UnknownIssuer => "chain does not end in a trusted root".to_owned(),
        C::NotValidForNameContext {
            expected,
            presented,
        } => {
            let valid_for = listed(presented.iter().map(|p| presented_name(p)), "no names");
            format!(
                "is not valid for {:?}; it is valid for {valid_for}",
                expected.to_str()
            )
        }
        C::NotValidForName => "is not valid for the requested name".to_owned(),
        C::InvalidPurposeContext {
            required,
            presented,
        } => {
            let allows = listed(presented.iter().map(ToString::to_string), "nothing");
            format!("is not valid for {required}; its extended key usage allows {allows}")
        }
        C::InvalidPurpose => "is not valid for this usage (extended key usage)".to_owned(),
        C::Revoked => "has been revoked".to_owned(),
        C::UnknownRevocationStatus => {
            "has an unknown revocation status: no revocation list covers its issuer".to_owned()
        }
        C::ExpiredRevocationListContext { time, next_update } => format!(
            "cannot be checked for revocation: the revocation list expired at {} (checked at {})",
            unix(next_update),
            unix(time)
        ),
        C::ExpiredRevocationList => {
            "cannot be checked for revocation: the revocation list has expired".to_owned()
        }
        C::BadSignature => "has an invalid signature".to_owned(),
        C::BadEncoding => "is not correctly encoded".to_owned(),
        C::UnhandledCriticalExtension => {
            "has a critical extension that is not understood".to_owned()
        }
        C::UnsupportedSignatureAlgorithmContext { .. }
        | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
            "is signed with an unsupported signature algorithm".to_owned()
        }
        C::Other(e) => match e.0.downcast_ref::<webpki::Error>() {
            Some(e) => describe_webpki_error(e),
            None => format!("is invalid: {e}"),
        },
        other => format!("is invalid: {other}"),
    }
}

/// `items` joined with commas, or `none` when there are none.
fn listed<T: AsRef<str>>(items: impl Iterator<Item = T>, none: &str) -> String {
    let items: Vec<T> = items.collect();
    if items.is_empty() {
        return none.to_owned();
    }
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The phrase for a webpki error that rustls passes on as it is.
fn describe_webpki_error(error: &webpki::Error) -> String {
    use webpki::Error as W;
    match error {
        W::CaUsedAsEndEntity => "is a CA certificate (basic constraints CA:TRUE) presented as \
                                 an end-entity certificate"
            .to_owned(),
        W::EndEntityUsedAsCa => "chain has an end-entity certificate (basic constraints \
                                 CA:FALSE) in the place of a CA"
            .to_owned(),
        W::PathLenConstraintViolated => {
            "chain is longer than a CA's path length constraint allows".to_owned()
        }
        W::NameConstraintViolation => {
            "has a name that its issuer's name constraints forbid".to_owned()
        }
        W::MaximumPathDepthExceeded
        | W::MaximumPathBuildCallsExceeded
        | W::MaximumSignatureChecksExceeded => {
            "chain is too long or too tangled to verify".to_owned()
        }
        other => format!("is invalid: {other:?}"),
    }
}

/// A name as webpki presents it (`DnsName("a.example")`, `IpAddress(192.0.2.1)`),
/// without the wrapping.
fn presented_name(presented: &str) -> &str {
    for (open, close) in [
        ("DnsName(\"", "\")"),
        ("IpAddress(", ")"),
        ("UriName(\"", "\")"),
    ] {
        if let Some(inner) = presented
            .strip_prefix(open)
            .and_then(|rest| rest.strip_suffix(close))
        {
            return inner;
        }
    }
    presented
}

/// A server certificate problem that a client may choose to tolerate, as UWP's
/// `IgnorableServerCertificateErrors` (named after `ChainValidationResult`).
///
/// **Each one removes a protection.** Tolerate one only for a server you
/// identify some other way, for example a test server or a device on your own
/// network whose certificate you cannot change, and prefer adding the server's
/// own CA as a trust root, which removes nothing. Whatever is tolerated:
///
/// * the signatures of the presented chain are still verified, up to its last
///   certificate;
/// * the server still proves it holds the certificate's private key;
/// * every other problem (revocation, wrong usage, bad signatures or encodings,
///   a chain with missing links) still fails the handshake;
/// * each problem found, waived or not, is listed in
///   [`TlsConnectionInfo::certificate_errors`](crate::TlsConnectionInfo::certificate_errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IgnorableCertificateError {
    /// Accept a certificate outside its validity period (expired or not yet
    /// valid): the chain is checked as of a time inside the certificates' own
    /// validity periods.
    ///
    /// Risk: an expired certificate is no longer covered by its issuer's
    /// revocation service, so a leaked key stays usable by whoever has it.
    Expired,
    /// Accept a chain that does not end in a trusted root (a self-signed
    /// certificate, or a private CA not in the trust store): the chain is checked
    /// up to its last presented certificate, whose own signature (for a
    /// self-signed certificate, the signature by its own key) is verified too.
    ///
    /// A self-signed server certificate is this problem whether or not it says
    /// it is a CA (`openssl req -x509` makes it say so by default), and also
    /// when a trusted root has its name with another key. Adding the
    /// certificate itself as a root (`add_root_certificates_pem`) trusts it
    /// instead, which removes nothing.
    ///
    /// Risk: anyone can make such a certificate for any name, so this alone
    /// gives no assurance of who the server is; anyone on the network path can
    /// impersonate it. A chain whose issuer is missing is still refused, since its
    /// signatures cannot be checked.
    UntrustedRoot,
    /// Accept a certificate that is not valid for the host name connected to.
    ///
    /// Risk: any server holding any certificate from a trusted CA, for any
    /// name, can impersonate this one.
    InvalidName,
}

impl fmt::Display for IgnorableCertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// How serious the problems with a server's certificate are, as UWP's
/// `SocketSslErrorSeverity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServerCertificateErrorSeverity {
    /// No problem.
    None,
    /// Every problem is of a kind that can be made ignorable
    /// ([`IgnorableCertificateError`]).
    Ignorable,
    /// At least one problem can never be ignored (revoked, bad signature, …).
    Fatal,
}

impl ServerCertificateErrorSeverity {
    /// The severity of a list of problems.
    pub fn of(problems: &[CertificateProblem]) -> Self {
        if problems.is_empty() {
            Self::None
        } else if problems.iter().all(|p| p.ignorable_as().is_some()) {
            Self::Ignorable
        } else {
            Self::Fatal
        }
    }
}

/// The parsed names and dates of a presented chain, for error details.
pub(crate) struct ChainNames {
    role: &'static str,
    certs: Vec<Option<CertificateInfo>>,
}

impl ChainNames {
    pub(crate) fn new(
        role: &'static str,
        ee: &CertificateDer<'_>,
        rest: &[CertificateDer<'_>],
    ) -> Self {
        let certs = std::iter::once(ee)
            .chain(rest)
            .map(|c| CertificateInfo::parse(c).ok())
            .collect();
        Self { role, certs }
    }

    fn subject(&self, i: usize) -> Option<&str> {
        self.certs.get(i)?.as_ref().map(CertificateInfo::subject)
    }

    fn leaf_common_name(&self) -> Option<&str> {
        self.certs.first()?.as_ref()?.common_name()
    }

    fn leaf_label(&self) -> String {
        match self.subject(0) {
            Some(s) => format!("{} certificate {s:?}", self.role),
            None => format!("{} certificate", self.role),
        }
    }

    /// The label of the certificate whose validity ends (or starts) at `secs`.
    fn label_for_time(&self, secs: u64, end: bool) -> String {
        let index = self.certs.iter().position(|info| {
            info.as_ref().is_some_and(|info| {
                let t = if end {
                    info.not_after()
                } else {
                    info.not_before()
                };
                t.duration_since(std::time::UNIX_EPOCH)
                    .is_ok_and(|d| d.as_secs() == secs)
            })
        });
        match index.and_then(|i| Some((i, self.subject(i)?))) {
            Some((i, subject)) if i > 0 => {
                format!("{} chain: certificate {subject:?}", self.role)
            }
            _ => self.leaf_label(),
        }
    }

    pub(crate) fn problem(
        &self,
        error: CertificateError,
        ignorable_as: Option<IgnorableCertificateError>,
    ) -> CertificateProblem {
        let detail = match &error {
            CertificateError::UnknownIssuer => self.untrusted_detail(false),
            CertificateError::NotValidForNameContext {
                expected,
                presented,
            } if presented.is_empty() && self.leaf_common_name().is_some() => format!(
                "{} is not valid for {:?}: it has no subject alternative name, and its common \
                 name {:?} is not checked; give it a subjectAltName (openssl req -addext \
                 subjectAltName=DNS:name) or ignore InvalidName",
                self.leaf_label(),
                expected.to_str(),
                self.leaf_common_name().unwrap_or_default()
            ),
            CertificateError::ExpiredContext { not_after, .. } => format!(
                "{} {}",
                self.label_for_time(not_after.as_secs(), true),
                describe_certificate_error(&error)
            ),
            CertificateError::NotValidYetContext { not_before, .. } => format!(
                "{} {}",
                self.label_for_time(not_before.as_secs(), false),
                describe_certificate_error(&error)
            ),
            _ => format!(
                "{} {}",
                self.leaf_label(),
                describe_certificate_error(&error)
            ),
        };
        CertificateProblem {
            error,
            detail,
            ignorable_as,
            waived: false,
            decisive: false,
        }
    }

    /// The chain does not end in a trusted root (ignorable as
    /// [`IgnorableCertificateError::UntrustedRoot`]). `other_key` says a
    /// trusted root has the name of the chain's issuer but did not sign it.
    pub(crate) fn untrusted(&self, other_key: bool) -> CertificateProblem {
        let mut problem = self.problem(
            CertificateError::UnknownIssuer,
            Some(IgnorableCertificateError::UntrustedRoot),
        );
        problem.detail = self.untrusted_detail(other_key);
        problem
    }

    /// What ends the chain and why it is not trusted, and, for a server's
    /// chain, what to do about it.
    fn untrusted_detail(&self, other_key: bool) -> String {
        let role = self.role;
        // A self-signed certificate ends the chain, whatever follows it.
        let end = self
            .certs
            .iter()
            .position(|c| c.as_ref().is_some_and(CertificateInfo::is_self_issued))
            .unwrap_or(self.certs.len().saturating_sub(1));
        let other_key = if other_key {
            ", and the trusted root of that name has another key"
        } else {
            ""
        };
        let (what, fix) = match self.certs.get(end).and_then(Option::as_ref) {
            Some(top) if top.is_self_issued() && end == 0 => (
                format!(
                    "{role} certificate {:?} is self-signed{other_key}",
                    top.subject()
                ),
                "trust it with add_root_certificates_pem or ignore UntrustedRoot",
            ),
            Some(top) if top.is_self_issued() => (
                format!(
                    "{role} certificate chain does not end in a trusted root: it ends at the \
                     self-signed {:?}{other_key}",
                    top.subject()
                ),
                "trust that root with add_root_certificates_pem or ignore UntrustedRoot",
            ),
            Some(top) => (
                format!(
                    "{role} certificate chain does not end in a trusted root: it ends at {:?}, \
                     whose issuer {:?} is not trusted{other_key}",
                    top.subject(),
                    top.issuer()
                ),
                // Without a presented issuer, the end of the chain is the end
                // entity itself and nothing can check its signature.
                if end == 0 {
                    "trust that issuer with add_root_certificates_pem"
                } else {
                    "trust that issuer with add_root_certificates_pem or ignore UntrustedRoot"
                },
            ),
            None => (
                format!("{role} certificate chain does not end in a trusted root"),
                "trust its root with add_root_certificates_pem or ignore UntrustedRoot",
            ),
        };
        // A server judging clients has its own roots: the caller says so.
        if role == "server" {
            format!("{what}; {fix}")
        } else {
            what
        }
    }

    pub(crate) fn no_common_validity(&self) -> CertificateProblem {
        CertificateProblem {
            error: CertificateError::Expired,
            detail: format!(
                "{} certificate chain has no time at which all its certificates are valid",
                self.role
            ),
            ignorable_as: None,
            waived: false,
            decisive: false,
        }
    }

    pub(crate) fn incomplete_chain(&self) -> CertificateProblem {
        let role = self.role;
        let last = self.certs.len().saturating_sub(1);
        let detail = match self.certs.get(last).and_then(Option::as_ref) {
            Some(top) => format!(
                "{role} certificate chain is incomplete: the issuer {:?} of {:?} was not \
                 presented, so the chain's signatures cannot be checked (an untrusted root can \
                 be waived, a missing link cannot)",
                top.issuer(),
                top.subject()
            ),
            None => {
                format!("{role} certificate chain is incomplete: its signatures cannot be checked")
            }
        };
        CertificateProblem {
            error: CertificateError::UnknownIssuer,
            detail,
            ignorable_as: None,
            waived: false,
            decisive: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::ServerName;
    use std::time::Duration;
    use SocketErrorStatus as S;

    #[test]
    fn certificate_errors_map_to_uwp_statuses() {
        let t = UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000));
        let cases = [
            (CertificateError::Expired, S::CertificateExpired),
            (
                CertificateError::ExpiredContext {
                    time: t,
                    not_after: t,
                },
                S::CertificateExpired,
            ),
            (CertificateError::NotValidYet, S::CertificateExpired),
            (CertificateError::UnknownIssuer, S::CertificateUntrustedRoot),
            (
                CertificateError::NotValidForName,
                S::CertificateCommonNameIsIncorrect,
            ),
            (
                CertificateError::NotValidForNameContext {
                    expected: ServerName::try_from("a.example").unwrap(),
                    presented: vec![],
                },
                S::CertificateCommonNameIsIncorrect,
            ),
            (CertificateError::InvalidPurpose, S::CertificateWrongUsage),
            (CertificateError::Revoked, S::CertificateRevoked),
            (
                CertificateError::UnknownRevocationStatus,
                S::CertificateNoRevocationCheck,
            ),
            (
                CertificateError::ExpiredRevocationList,
                S::CertificateRevocationServerOffline,
            ),
            (CertificateError::BadSignature, S::CertificateIsInvalid),
            (CertificateError::BadEncoding, S::CertificateIsInvalid),
            (
                CertificateError::UnhandledCriticalExtension,
                S::CertificateIsInvalid,
            ),
        ];
        for (err, status) in cases {
            assert_eq!(
                status_of(&rustls::Error::from(err.clone())),
                status,
                "{err:?}"
            );
        }
        assert_eq!(status_of(&rustls::Error::DecryptError), S::Unknown);
        assert_eq!(
            status_of(&rustls::Error::AlertReceived(
                rustls::AlertDescription::BadCertificate
            )),
            S::Unknown
        );
    }

    #[test]
    fn details_carry_names_and_dates() {
        let err = CertificateError::ExpiredContext {
            time: UnixTime::since_unix_epoch(Duration::from_secs(1_700_000_000)),
            not_after: UnixTime::since_unix_epoch(Duration::from_secs(1_600_000_000)),
        };
        assert_eq!(
            describe_certificate_error(&err),
            "expired at 2020-09-13 12:26:40 UTC (checked at 2023-11-14 22:13:20 UTC)"
        );
        let err = CertificateError::NotValidForNameContext {
            expected: ServerName::try_from("wrong.example").unwrap(),
            presented: vec!["localhost".into(), "127.0.0.1".into()],
        };
        assert_eq!(
            describe_certificate_error(&err),
            "is not valid for \"wrong.example\"; it is valid for localhost, 127.0.0.1"
        );
    }
}
