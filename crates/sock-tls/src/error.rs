//! Handshake failures: [`HandshakeError`], and the translation of rustls's
//! errors into [`sock_core::Error`] (certificate errors in the words of the
//! `certificate` module).

use std::error::Error as StdError;
use std::fmt;
use std::io;

use rustls::{AlertDescription, PeerIncompatible, Side};
use sock_core::{Error, SocketErrorStatus};

use crate::problem::{
    describe_certificate_error, status_of_certificate_error, CertificateProblem,
    IgnorableCertificateError, ServerCertificateErrorSeverity,
};
use crate::verify::{CertificateRequestAnswer, Findings};
use crate::TlsConnectionInfo;

/// A failed TLS handshake, or a failed connect that was to run one: the
/// error, and what the handshake learned before it failed.
///
/// The [`info`](Self::info) keeps the peer's certificate chain and the
/// certificate problems found, so a program can show them to a user (as UWP's
/// `ServerCertificate` and `ServerCertificateErrors` are available after a failed
/// `ConnectAsync`) and retry with the problems made ignorable. A failure before
/// TLS started (name resolution, TCP, a refused setting) converts from
/// [`Error`] and has no [`tls_info`](Self::tls_info).
///
/// It shows as its error does, and its [`source`](StdError::source) is the
/// error's source, so a chain of causes never repeats a message. Converts into
/// [`sock_core::Error`] and [`io::Error`].
#[derive(Debug)]
pub struct HandshakeError {
    error: Error,
    /// `None` when TLS never started.
    info: Option<Box<TlsConnectionInfo>>,
}

/// The information of a handshake that never started: nothing learned.
static NOT_STARTED: TlsConnectionInfo = TlsConnectionInfo::not_started();

impl HandshakeError {
    pub(crate) fn new(error: Error, info: TlsConnectionInfo) -> Self {
        Self {
            error,
            info: Some(Box::new(info)),
        }
    }

    /// A handshake that failed with `error`, `info` keeping what the
    /// verifiers found: the peer's chain (when a problem was found) and the
    /// problems.
    pub(crate) fn with_findings(
        error: Error,
        mut info: TlsConnectionInfo,
        findings: Findings,
    ) -> Self {
        info.peer_certificates = findings.chain;
        info.certificate_errors = findings.problems;
        Self::new(error, info)
    }

    /// The error: [`Error::Certificate`] for certificate problems,
    /// [`Error::TimedOut`] when the handshake (or connect) timeout passed,
    /// [`Error::Tls`] for other TLS failures, [`Error::Io`] for transport
    /// failures, or the error of a connect that failed before TLS started.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// What was learned before the failure: the peer's certificate chain and
    /// the certificate problems found, when the handshake got that far; empty
    /// when TLS never started (see [`tls_info`](Self::tls_info)).
    pub fn info(&self) -> &TlsConnectionInfo {
        self.info.as_deref().unwrap_or(&NOT_STARTED)
    }

    /// What the handshake learned before it failed (the peer's chain, the
    /// certificate problems found); `None` when the failure came before TLS
    /// started (name resolution, TCP).
    pub fn tls_info(&self) -> Option<&TlsConnectionInfo> {
        self.info.as_deref()
    }

    /// The status of the error (23–30 for certificate problems).
    pub fn status(&self) -> SocketErrorStatus {
        self.error.status()
    }

    /// The problems found with the peer's certificate (for a client, UWP's
    /// `ServerCertificateErrors`); empty when there were none or TLS never
    /// started.
    pub fn server_certificate_errors(&self) -> &[CertificateProblem] {
        self.info().certificate_errors()
    }

    /// How bad those problems are (UWP's `ServerCertificateErrorSeverity`):
    /// `Ignorable` means a retry with them made ignorable
    /// ([`ignorable_server_certificate_errors`](Self::ignorable_server_certificate_errors))
    /// can succeed.
    pub fn server_certificate_error_severity(&self) -> ServerCertificateErrorSeverity {
        ServerCertificateErrorSeverity::of(self.server_certificate_errors())
    }

    /// The kinds of the problems found, to make ignorable for a retry; `None`
    /// when some problem can never be ignored (or there was none).
    pub fn ignorable_server_certificate_errors(&self) -> Option<Vec<IgnorableCertificateError>> {
        let errors = self.server_certificate_errors();
        if errors.is_empty() {
            return None;
        }
        let mut kinds = Vec::new();
        for problem in errors {
            let kind = problem.ignorable_as()?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Some(kinds)
    }

    /// The error, dropping the information.
    pub fn into_error(self) -> Error {
        self.error
    }

    /// The error and the information (empty when TLS never started).
    pub fn into_parts(self) -> (Error, TlsConnectionInfo) {
        let info = self
            .info
            .map_or_else(TlsConnectionInfo::not_started, |info| *info);
        (self.error, info)
    }
}

impl From<Error> for HandshakeError {
    /// A failure before TLS started: nothing learned.
    fn from(error: Error) -> Self {
        Self { error, info: None }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl StdError for HandshakeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.error.source()
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
/// recorded, which names the certificate and the dates or names involved; a
/// refusal after the server asked for a client certificate and got none says so.
pub(crate) fn handshake_error(err: io::Error, side: Side, findings: &Findings) -> Error {
    match take_rustls(err) {
        Ok(tls) => from_rustls(tls, side, findings),
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
        Ok(tls) => from_rustls(tls, side, &Findings::default()).into(),
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

/// Translates a rustls error, using what the handshake recorded.
pub(crate) fn from_rustls(err: rustls::Error, side: Side, findings: &Findings) -> Error {
    let problems = &findings.problems;
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
        rustls::Error::AlertReceived(alert) => match (side, findings.certificate_request) {
            (Side::Client, Some(answer)) if refuses_a_client_certificate(*alert) => {
                describe_refused_request(*alert, answer)
            }
            _ => describe_alert(*alert, side),
        },
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

/// Whether a server may refuse a client's certificate, or its lack of one,
/// with `alert`: TLS 1.2 has no alert of its own for a missing certificate, so
/// servers send `handshake_failure` (OpenSSL) or a certificate alert.
fn refuses_a_client_certificate(alert: AlertDescription) -> bool {
    use AlertDescription as A;
    matches!(
        alert,
        A::HandshakeFailure
            | A::CertificateRequired
            | A::BadCertificate
            | A::UnsupportedCertificate
            | A::CertificateUnknown
            | A::AccessDenied
    )
}

/// A refusal after the server asked for a client certificate: what this
/// client answered says what the alert means.
fn describe_refused_request(alert: AlertDescription, answer: CertificateRequestAnswer) -> String {
    let why = match answer {
        CertificateRequestAnswer::Sent if alert == AlertDescription::HandshakeFailure => {
            return format!(
                "the server refused the handshake after this client sent the certificate it \
                 asked for: it does not accept that certificate (alert {alert:?})"
            );
        }
        CertificateRequestAnswer::Sent => return describe_alert(alert, Side::Client),
        CertificateRequestAnswer::NoneConfigured => {
            "this client has none configured (client_certificate_pem)"
        }
        CertificateRequestAnswer::NoneSuitable => {
            "no configured certificate suits its request (its signature schemes or the \
             issuers it accepts)"
        }
    };
    format!(
        "the server requires a client certificate and none was sent: it asked for one, and \
         {why} (alert {alert:?})"
    )
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
    use rustls::CertificateError;
    use SocketErrorStatus as S;

    /// A client's handshake that failed on an untrusted root, as tokio-rustls
    /// reports it, translated.
    fn untrusted_root() -> Error {
        let io_err = io::Error::new(
            io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        handshake_error(io_err, Side::Client, &Findings::default())
    }

    #[test]
    fn rustls_errors_in_io_errors_become_ours() {
        let err = untrusted_root();
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
        let err = handshake_error(eof, Side::Server, &Findings::default());
        assert!(matches!(err, Error::Tls { .. }), "{err:?}");

        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        let err = handshake_error(reset, Side::Server, &Findings::default());
        assert_eq!(err.status(), S::ConnectionResetByPeer);
    }

    #[test]
    fn a_handshake_error_tells_its_message_once_in_a_chain_of_causes() {
        let err = HandshakeError::new(untrusted_root(), TlsConnectionInfo::new(Side::Client, None));
        assert_eq!(err.to_string(), err.error().to_string());
        let source = err.source().expect("the rustls error");
        assert!(source.is::<rustls::Error>(), "{source:?}");
        let mut messages = vec![err.to_string()];
        let mut next = err.source();
        while let Some(cause) = next {
            assert!(!messages.contains(&cause.to_string()), "{messages:?}");
            messages.push(cause.to_string());
            next = cause.source();
        }
    }

    #[test]
    fn a_failure_before_tls_learned_nothing() {
        let err = HandshakeError::from(Error::TimedOut {
            operation: "connect",
            after: std::time::Duration::from_secs(1),
        });
        assert!(err.tls_info().is_none());
        assert!(err.info().peer_certificates().is_empty());
        assert!(!err.info().is_handshake_complete());
        assert!(err.server_certificate_errors().is_empty());
        assert_eq!(
            err.server_certificate_error_severity(),
            ServerCertificateErrorSeverity::None
        );
        assert_eq!(err.ignorable_server_certificate_errors(), None);
        assert_eq!(err.status(), S::ConnectionTimedOut);
        let (error, info) = err.into_parts();
        assert!(matches!(error, Error::TimedOut { .. }), "{error:?}");
        assert!(info.certificate_errors().is_empty());
    }

    #[test]
    fn a_refusal_after_a_certificate_request_this_client_could_not_answer_says_so() {
        use AlertDescription as A;
        use CertificateRequestAnswer as Answer;
        let refused = |alert, answer| {
            let findings = Findings {
                certificate_request: answer,
                ..Findings::default()
            };
            from_rustls(rustls::Error::AlertReceived(alert), Side::Client, &findings)
        };
        // OpenSSL at TLS 1.2: handshake_failure, after a CertificateRequest.
        let err = refused(A::HandshakeFailure, Some(Answer::NoneConfigured));
        assert_eq!(
            err.to_string(),
            "tls error: the server requires a client certificate and none was sent: it asked \
             for one, and this client has none configured (client_certificate_pem) (alert \
             HandshakeFailure)"
        );
        assert_eq!(err.status(), S::Unknown);
        for (alert, answer, says) in [
            (
                A::HandshakeFailure,
                Some(Answer::NoneSuitable),
                "no configured certificate suits",
            ),
            (
                A::HandshakeFailure,
                Some(Answer::Sent),
                "does not accept that certificate",
            ),
            (
                A::UnknownCA,
                Some(Answer::Sent),
                "rejected our client certificate",
            ),
            // Without a request, handshake_failure is about what both sides support.
            (A::HandshakeFailure, None, "no cipher suite"),
        ] {
            let err = refused(alert, answer);
            assert!(err.to_string().contains(says), "{answer:?}: {err}");
        }
    }
}
