//! Certificate statuses and handshake failures: [`status_of`], [`CertificateProblem`],
//! [`HandshakeError`], and the translation of rustls's errors into [`sock_core::Error`].

use std::error::Error as StdError;
use std::fmt;
use std::io;

use rustls::pki_types::UnixTime;
use rustls::{AlertDescription, CertificateError, PeerIncompatible, Side};
use sock_core::{Error, SocketErrorStatus};

use crate::verify::IgnorableCertificateError;
use crate::x509::format_unix;
use crate::TlsConnectionInfo;

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
            let valid_for = if presented.is_empty() {
                "no names".to_owned()
            } else {
                presented
                    .iter()
                    .map(|p| presented_name(p))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
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
            let allows = if presented.is_empty() {
                "nothing".to_owned()
            } else {
                presented
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
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
        C::Other(e) => format!("is invalid: {e}"),
        other => format!("is invalid: {other}"),
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

/// A failed TLS handshake: the error, and what was learned before it failed.
///
/// The [`info`](Self::info) keeps the peer's certificate chain and the
/// certificate problems found, so a program can show them to a user (as UWP's
/// `ServerCertificate` and `ServerCertificateErrors` are available after a failed
/// `ConnectAsync`). Converts into [`sock_core::Error`] and [`io::Error`].
#[derive(Debug)]
pub struct HandshakeError {
    error: Error,
    info: Box<TlsConnectionInfo>,
}

impl HandshakeError {
    pub(crate) fn new(error: Error, info: TlsConnectionInfo) -> Self {
        Self {
            error,
            info: Box::new(info),
        }
    }

    /// The error: [`Error::Certificate`] for certificate problems,
    /// [`Error::TimedOut`] when the handshake timeout passed, [`Error::Tls`] for
    /// other TLS failures, [`Error::Io`] for transport failures.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// What was learned before the failure: the peer's certificate chain and
    /// the certificate problems found, when the handshake got that far.
    pub fn info(&self) -> &TlsConnectionInfo {
        &self.info
    }

    /// The status of the error (23–30 for certificate problems).
    pub fn status(&self) -> SocketErrorStatus {
        self.error.status()
    }

    /// The error, dropping the information.
    pub fn into_error(self) -> Error {
        self.error
    }

    /// The error and the information.
    pub fn into_parts(self) -> (Error, TlsConnectionInfo) {
        (self.error, *self.info)
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl StdError for HandshakeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.error)
    }
}

impl From<HandshakeError> for Error {
    fn from(err: HandshakeError) -> Self {
        err.error
    }
}

impl From<HandshakeError> for io::Error {
    fn from(err: HandshakeError) -> Self {
        err.error.into()
    }
}

/// The rustls error inside an `io::Error` from tokio-rustls, if there is one.
fn take_rustls(err: io::Error) -> Result<rustls::Error, io::Error> {
    if !err.get_ref().is_some_and(|e| e.is::<rustls::Error>()) {
        return Err(err);
    }
    let kind = err.kind();
    match err
        .into_inner()
        .map(|inner| inner.downcast::<rustls::Error>())
    {
        Some(Ok(tls)) => Ok(*tls),
        Some(Err(other)) => Err(io::Error::new(kind, other)),
        None => Err(io::Error::from(kind)),
    }
}

/// Translates a failure of the handshake (as tokio-rustls reports it).
///
/// Certificate errors take the detail of the matching problem the verifier
/// recorded, which names the certificate and the dates or names involved.
pub(crate) fn handshake_error(
    err: io::Error,
    side: Side,
    problems: &[CertificateProblem],
) -> Error {
    match take_rustls(err) {
        Ok(tls) => from_rustls(tls, side, problems),
        Err(io_err) if io_err.kind() == io::ErrorKind::UnexpectedEof => Error::Tls {
            detail: "the peer closed the connection during the tls handshake".to_owned(),
            source: Some(Box::new(io_err)),
        },
        Err(io_err) => Error::from(io_err),
    }
}

/// Translates an error of an established stream, keeping transport errors as
/// they are.
pub(crate) fn stream_error(err: io::Error, side: Side) -> io::Error {
    match take_rustls(err) {
        Ok(tls) => from_rustls(tls, side, &[]).into(),
        Err(io_err)
            if io_err.kind() == io::ErrorKind::UnexpectedEof
                && io_err.to_string().contains("close_notify") =>
        {
            Error::UnexpectedEof {
                context: "in the tls stream: the peer closed the connection without \
                          sending close_notify, so the data may be truncated"
                    .to_owned(),
            }
            .into()
        }
        Err(io_err) => io_err,
    }
}

/// Translates a rustls error, using the recorded problems for certificate errors.
pub(crate) fn from_rustls(
    err: rustls::Error,
    side: Side,
    problems: &[CertificateProblem],
) -> Error {
    let peer = match side {
        Side::Client => "server",
        Side::Server => "client",
    };
    let detail = match &err {
        rustls::Error::InvalidCertificate(cert_err) => {
            let recorded = problems
                .iter()
                .find(|p| p.decisive)
                .or_else(|| problems.iter().find(|p| !p.waived && &p.error == cert_err))
                .or_else(|| problems.iter().find(|p| !p.waived));
            let detail = match recorded {
                Some(p) => p.detail.clone(),
                None => format!(
                    "{peer} certificate {}",
                    describe_certificate_error(cert_err)
                ),
            };
            return Error::Certificate {
                status: status_of_certificate_error(cert_err),
                detail,
                source: Some(Box::new(err)),
            };
        }
        rustls::Error::InvalidCertRevocationList(crl_err) => {
            return Error::Certificate {
                status: SocketErrorStatus::CertificateNoRevocationCheck,
                detail: format!(
                    "{peer} certificate cannot be checked for revocation: unusable revocation list ({crl_err:?})"
                ),
                source: Some(Box::new(err)),
            };
        }
        rustls::Error::NoCertificatesPresented => match side {
            Side::Server => {
                "the client presented no certificate, and this server requires one".to_owned()
            }
            Side::Client => "the server presented no certificate".to_owned(),
        },
        rustls::Error::AlertReceived(alert) => describe_alert(*alert, side),
        rustls::Error::PeerIncompatible(why) => describe_incompatible(why),
        rustls::Error::NoApplicationProtocol => {
            "no application protocol (alpn) in common with the peer".to_owned()
        }
        rustls::Error::InvalidMessage(why) => format!(
            "the peer sent data that is not valid tls ({why:?}); is it speaking plain text?"
        ),
        rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. } => {
            format!("the peer broke the tls protocol: {err}")
        }
        rustls::Error::DecryptError => {
            "a tls record could not be decrypted (corrupted or forged data)".to_owned()
        }
        rustls::Error::PeerMisbehaved(why) => {
            format!("the peer broke the tls protocol: {why:?}")
        }
        other => other.to_string(),
    };
    Error::Tls {
        detail,
        source: Some(Box::new(err)),
    }
}

fn describe_alert(alert: AlertDescription, side: Side) -> String {
    use AlertDescription as A;
    let name = format!("{alert:?}");
    match alert {
        A::CertificateRequired => {
            "the server requires a client certificate and none was sent (alert CertificateRequired)"
                .to_owned()
        }
        A::BadCertificate
        | A::UnsupportedCertificate
        | A::CertificateRevoked
        | A::CertificateExpired
        | A::CertificateUnknown
        | A::UnknownCA
        | A::AccessDenied => match side {
            Side::Client => format!("the server rejected our client certificate (alert {name})"),
            Side::Server => {
                format!("the client rejected this server's certificate (alert {name})")
            }
        },
        A::ProtocolVersion => format!("no tls version in common with the peer (alert {name})"),
        A::HandshakeFailure | A::InsufficientSecurity => format!(
            "the peer refused the handshake: no cipher suite, key exchange group or \
             signature scheme in common (alert {name})"
        ),
        A::NoApplicationProtocol => {
            format!("no application protocol (alpn) in common with the peer (alert {name})")
        }
        A::UnrecognisedName => {
            format!("the server does not serve the requested name (alert {name})")
        }
        A::DecodeError | A::IllegalParameter | A::UnexpectedMessage => {
            format!("the peer could not understand our tls messages (alert {name})")
        }
        _ => format!("the peer sent a fatal alert: {name}"),
    }
}

fn describe_incompatible(why: &PeerIncompatible) -> String {
    use PeerIncompatible as P;
    match why {
        P::ServerDoesNotSupportTls12Or13
        | P::ServerTlsVersionIsDisabledByOurConfig
        | P::SupportedVersionsExtensionRequired
        | P::Tls12NotOffered
        | P::Tls12NotOfferedOrEnabled => {
            format!("no tls version in common with the peer ({why:?})")
        }
        P::NoCipherSuitesInCommon => "no cipher suite in common with the peer".to_owned(),
        P::NoKxGroupsInCommon => "no key exchange group in common with the peer".to_owned(),
        P::NoSignatureSchemesInCommon | P::NoCertificateRequestSignatureSchemesInCommon => {
            "no signature scheme in common with the peer".to_owned()
        }
        other => format!("the peer is incompatible: {other:?}"),
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
                AlertDescription::BadCertificate
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

    #[test]
    fn rustls_errors_in_io_errors_become_ours() {
        let io_err = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let err = handshake_error(io_err, Side::Client, &[]);
        assert_eq!(err.status(), S::CertificateUntrustedRoot);
        assert_eq!(
            err.to_string(),
            "certificate error (CertificateUntrustedRoot): server certificate chain does not end in a trusted root"
        );

        let io_err = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::AlertReceived(AlertDescription::CertificateRequired),
        );
        let err = stream_error(io_err, Side::Client);
        assert!(
            err.to_string().contains("requires a client certificate"),
            "{err}"
        );

        let eof = io::Error::new(io::ErrorKind::UnexpectedEof, "tls handshake eof");
        let err = handshake_error(eof, Side::Server, &[]);
        assert!(matches!(err, Error::Tls { .. }), "{err:?}");

        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        let err = handshake_error(reset, Side::Server, &[]);
        assert_eq!(err.status(), S::ConnectionResetByPeer);
    }
}
