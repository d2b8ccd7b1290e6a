//! Certificate verification: the client's verifier, which tolerates UWP's
//! ignorable server certificate errors, the server's recording verifier, and
//! the record of what was found during one handshake (with whether the server
//! asked for a client certificate and got one).
//!
//! Verifiers are shared by every connection of a configuration (rustls only
//! resumes sessions with the verifier that verified them), so what one handshake
//! finds is recorded in a per-thread slot that the handshake future fills in
//! around each poll ([`recording`]). Verification runs synchronously inside that
//! poll, so the slot always belongs to the handshake being driven.

use std::cell::RefCell;
use std::mem;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_name, ResolvesClientCert, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::ParsedCertificate;
use rustls::sign::CertifiedKey;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme,
};

use crate::problem::{CertificateProblem, ChainNames, IgnorableCertificateError};
use crate::x509::RawCertificate;

/// What the verifiers found during one handshake.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// The peer's chain, kept when verification failed (on success the
    /// connection has it).
    pub(crate) chain: Vec<CertificateDer<'static>>,
    /// Every problem found, waived or not.
    pub(crate) problems: Vec<CertificateProblem>,
    /// What the client answered when the server asked for its certificate;
    /// `None` when the server did not ask.
    pub(crate) certificate_request: Option<CertificateRequestAnswer>,
}

/// What a client answered a server's request for its certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CertificateRequestAnswer {
    /// It sent one.
    Sent,
    /// None was sent: none is configured.
    NoneConfigured,
    /// None was sent: none configured suits the request (the server's
    /// signature schemes or accepted issuers).
    NoneSuitable,
}

thread_local! {
    static CURRENT: RefCell<Option<Findings>> = const { RefCell::new(None) };
}

/// Runs `f` (one poll of a handshake) with `findings` as the place verifiers on
/// this thread record into; nested calls each get their own.
pub(crate) fn recording<R>(findings: &mut Findings, f: impl FnOnce() -> R) -> R {
    struct Restore<'a> {
        findings: &'a mut Findings,
        previous: Option<Findings>,
    }
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let previous = self.previous.take();
            if let Some(mine) = CURRENT.with(|c| c.replace(previous)) {
                *self.findings = mine;
            }
        }
    }
    let previous = CURRENT.with(|c| c.replace(Some(mem::take(findings))));
    let _restore = Restore { findings, previous };
    f()
}

fn record(
    end_entity: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    problems: Vec<CertificateProblem>,
) {
    CURRENT.with(|c| {
        if let Some(findings) = c.borrow_mut().as_mut() {
            findings.chain = std::iter::once(end_entity)
                .chain(intermediates)
                .map(|c| c.clone().into_owned())
                .collect();
            findings.problems.extend(problems);
        }
    });
}

/// How many times a chain is re-checked to step past validity periods.
const MAX_STEPS: usize = 6;
/// How many presented certificates are tried as the end of an untrusted chain.
const MAX_CANDIDATES: usize = 8;

/// The client's server-certificate verifier: webpki verification, with the
/// configured [`IgnorableCertificateError`]s tolerated and every problem recorded.
#[derive(Debug)]
pub(crate) struct PolicyVerifier {
    /// Verification against the trust roots; `None` when there are none.
    trusted: Option<Arc<WebPkiServerVerifier>>,
    /// The trust roots themselves, for a self-signed certificate that webpki
    /// cannot take as an end entity.
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    ignorable: Vec<IgnorableCertificateError>,
}

impl PolicyVerifier {
    pub(crate) fn new(
        roots: RootCertStore,
        crls: Vec<CertificateRevocationListDer<'static>>,
        provider: Arc<CryptoProvider>,
        ignorable: Vec<IgnorableCertificateError>,
    ) -> Result<Self, rustls::Error> {
        let roots = Arc::new(roots);
        let trusted = if roots.is_empty() {
            None
        } else {
            Some(Self::webpki(roots.clone(), &crls, &provider)?)
        };
        Ok(Self {
            trusted,
            roots,
            provider,
            ignorable,
        })
    }

    fn webpki(
        roots: Arc<RootCertStore>,
        crls: &[CertificateRevocationListDer<'static>],
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<WebPkiServerVerifier>, rustls::Error> {
        WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .with_crls(crls.iter().cloned())
            .allow_unknown_revocation_status()
            .build()
            .map_err(|e| rustls::Error::General(e.to_string()))
    }

    /// Checks the chain (not the name) against `verifier`.
    fn check_chain(
        verifier: &WebPkiServerVerifier,
        ee: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        time: UnixTime,
    ) -> Result<(), rustls::Error> {
        match verifier.verify_server_cert(ee, intermediates, name, &[], time) {
            Ok(_) => Ok(()),
            // The name is checked after the chain: the chain is fine.
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Checks the chain up to one of its own certificates, trying the last first.
    fn check_presented_chain(
        &self,
        ee: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        time: UnixTime,
    ) -> Result<(), rustls::Error> {
        let candidates = intermediates
            .iter()
            .rev()
            .chain(std::iter::once(ee))
            .take(MAX_CANDIDATES);
        for candidate in candidates {
            let mut roots = RootCertStore::empty();
            if roots.add(candidate.clone().into_owned()).is_err() {
                continue;
            }
            // Revocation lists are for chains that end in a trusted root; none
            // covers an untrusted one, and parsing them again per candidate would
            // let a server make us work hard.
            let verifier = Self::webpki(Arc::new(roots), &[], &self.provider)?;
            match Self::check_chain(&verifier, ee, intermediates, name, time) {
                Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {}
                other => return other,
            }
        }
        Err(CertificateError::UnknownIssuer.into())
    }

    /// Finds every problem with the chain, then decides.
    fn verify_slowly(
        &self,
        ee: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        name: &ServerName<'_>,
        now: UnixTime,
        first_error: rustls::Error,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let (names, mut problems) = check_name(ee, intermediates, name)?;

        let mut time = now;
        let mut visited = vec![now];
        let mut presented = false;
        let mut chain_ok = false;
        for _ in 0..MAX_STEPS {
            let result = match (&self.trusted, presented) {
                (Some(trusted), false) => Self::check_chain(trusted, ee, intermediates, name, time),
                (None, false) => Err(CertificateError::UnknownIssuer.into()),
                (_, true) => self.check_presented_chain(ee, intermediates, name, time),
            };
            let error = match result {
                Ok(()) => {
                    chain_ok = true;
                    break;
                }
                Err(rustls::Error::InvalidCertificate(e)) => e,
                Err(other) => {
                    record(ee, intermediates, problems);
                    return Err(other);
                }
            };
            let step_to = match &error {
                CertificateError::ExpiredContext { not_after, .. } => Some(*not_after),
                CertificateError::NotValidYetContext { not_before, .. } => Some(*not_before),
                _ => None,
            };
            match (&error, step_to) {
                (_, Some(t)) if visited.contains(&t) => {
                    problems.push(names.no_common_validity());
                    break;
                }
                (_, Some(t)) => {
                    problems.push(names.problem(error, Some(IgnorableCertificateError::Expired)));
                    visited.push(t);
                    time = t;
                }
                (CertificateError::UnknownIssuer, _) if !presented => {
                    problems.push(names.untrusted(false));
                    presented = true;
                }
                // Every trusted root that has the issuer's name failed to
                // verify the signature, but the chain as presented holds
                // together: it is an untrusted chain (a self-signed
                // certificate named as a trusted root is, for example), not a
                // forged one.
                (CertificateError::BadSignature, _)
                    if !presented
                        && self
                            .check_presented_chain(ee, intermediates, name, time)
                            .is_ok() =>
                {
                    problems.push(names.untrusted(true));
                    presented = true;
                }
                (CertificateError::UnknownIssuer, _) => {
                    problems.push(names.incomplete_chain());
                    break;
                }
                _ => {
                    problems.push(names.problem(error, None));
                    break;
                }
            }
        }

        self.decide(ee, intermediates, problems, chain_ok, Some(first_error))
    }

    /// Verifies a self-signed certificate that says it is a CA (as `openssl
    /// req -x509` makes them by default). webpki refuses every CA certificate
    /// as an end entity, but a self-signed one is its own root: it is trusted
    /// when a trust root has its name and key; its signature is checked with
    /// its own key, and its name, dates and usage as webpki checks an end
    /// entity's.
    fn verify_self_signed_ca(
        &self,
        ee: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        cert: &RawCertificate<'_>,
        name: &ServerName<'_>,
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let (names, mut problems) = check_name(ee, intermediates, name)?;
        match check_own_signature(cert, &self.provider) {
            Err(error) => problems.push(names.problem(error, None)),
            Ok(()) => {
                problems.extend(date_problem(cert, now, &names));
                if !serves_servers(cert) {
                    problems.push(names.problem(CertificateError::InvalidPurpose, None));
                }
                // Trusted when a root has its name and key.
                let (mut trusted, mut other_key) = (false, false);
                for root in &self.roots.roots {
                    if root.subject.as_ref() == cert.subject {
                        let same_key = root.subject_public_key_info.as_ref() == cert.spki;
                        trusted |= same_key;
                        other_key |= !same_key;
                    }
                }
                if !trusted {
                    problems.push(names.untrusted(other_key));
                }
            }
        }
        self.decide(ee, intermediates, problems, true, None)
    }

    /// Decides on the problems found, and records them: the first one not
    /// tolerated fails the handshake; when all are tolerated and the chain's
    /// signatures were checked (`chain_ok`), it passes with them waived.
    /// `unexplained` is webpki's refusal, kept when the problems found do not
    /// account for it.
    fn decide(
        &self,
        ee: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        mut problems: Vec<CertificateProblem>,
        chain_ok: bool,
        unexplained: Option<rustls::Error>,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let tolerated = |p: &CertificateProblem| {
            p.ignorable_as
                .is_some_and(|kind| self.ignorable.contains(&kind))
        };
        let failing = problems.iter().position(|p| !tolerated(p));
        let outcome = match (failing, unexplained) {
            (Some(i), _) => {
                problems[i].decisive = true;
                Err(rustls::Error::InvalidCertificate(problems[i].error.clone()))
            }
            (None, Some(first)) if problems.is_empty() || !chain_ok => Err(first),
            (None, _) => {
                for p in &mut problems {
                    p.waived = true;
                }
                Ok(ServerCertVerified::assertion())
            }
        };
        record(ee, intermediates, problems);
        outcome
    }
}

/// Starts a slow verification: the chain's names for details, and the name
/// problem if the end entity is not valid for `name`. An end entity that
/// cannot be parsed ends verification with its error, recorded.
fn check_name(
    ee: &CertificateDer<'_>,
    intermediates: &[CertificateDer<'_>],
    name: &ServerName<'_>,
) -> Result<(ChainNames, Vec<CertificateProblem>), rustls::Error> {
    let names = ChainNames::new("server", ee, intermediates);
    let mut problems = Vec::new();
    let checked = ParsedCertificate::try_from(ee).and_then(|parsed| {
        match verify_server_name(&parsed, name) {
            Err(rustls::Error::InvalidCertificate(e)) => {
                problems.push(names.problem(e, Some(IgnorableCertificateError::InvalidName)));
                Ok(())
            }
            other => other,
        }
    });
    match checked {
        Ok(()) => Ok((names, problems)),
        Err(e) => {
            if let rustls::Error::InvalidCertificate(ce) = &e {
                problems.push(names.problem(ce.clone(), None));
            }
            record(ee, intermediates, problems);
            Err(e)
        }
    }
}

/// Checks that `cert` is signed by its own key, as webpki checks a
/// signature: with the provider's algorithm for both the certificate's
/// signature algorithm and its key's algorithm.
fn check_own_signature(
    cert: &RawCertificate<'_>,
    provider: &CryptoProvider,
) -> Result<(), CertificateError> {
    let (Some((algorithm, signature)), Ok((key_algorithm, key))) =
        (cert.signature, cert.public_key())
    else {
        return Err(CertificateError::BadEncoding);
    };
    let all = provider.signature_verification_algorithms.all;
    let for_signature: Vec<_> = all
        .iter()
        .filter(|alg| *alg.signature_alg_id() == *algorithm)
        .collect();
    if for_signature.is_empty() {
        return Err(CertificateError::UnsupportedSignatureAlgorithmContext {
            signature_algorithm_id: algorithm.to_vec(),
            supported_algorithms: all.iter().map(|alg| alg.signature_alg_id()).collect(),
        });
    }
    let mut for_key = for_signature
        .into_iter()
        .filter(|alg| *alg.public_key_alg_id() == *key_algorithm)
        .peekable();
    if for_key.peek().is_none() {
        return Err(
            CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext {
                signature_algorithm_id: algorithm.to_vec(),
                public_key_algorithm_id: key_algorithm.to_vec(),
            },
        );
    }
    if for_key.any(|alg| alg.verify_signature(key, cert.tbs, signature).is_ok()) {
        Ok(())
    } else {
        Err(CertificateError::BadSignature)
    }
}

/// The problem with `cert`'s validity period at `now`, if any.
fn date_problem(
    cert: &RawCertificate<'_>,
    now: UnixTime,
    names: &ChainNames,
) -> Option<CertificateProblem> {
    let at = |t: SystemTime| {
        UnixTime::since_unix_epoch(t.duration_since(UNIX_EPOCH).unwrap_or_default())
    };
    let (not_before, not_after) = (at(cert.not_before), at(cert.not_after));
    let error = if now < not_before {
        CertificateError::NotValidYetContext {
            time: now,
            not_before,
        }
    } else if now > not_after {
        CertificateError::ExpiredContext {
            time: now,
            not_after,
        }
    } else {
        return None;
    };
    Some(names.problem(error, Some(IgnorableCertificateError::Expired)))
}

/// Whether `cert` may serve TLS servers: webpki's rule for an end entity (no
/// extended key usage, or one that lists server authentication).
fn serves_servers(cert: &RawCertificate<'_>) -> bool {
    /// id-kp-serverAuth, 1.3.6.1.5.5.7.3.1.
    const SERVER_AUTH: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01];
    match cert.extended_key_usage() {
        Ok(None) => true,
        Ok(Some(purposes)) => purposes.contains(&SERVER_AUTH),
        Err(_) => false,
    }
}

impl ServerCertVerifier for PolicyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(cert) = RawCertificate::read(end_entity) {
            if cert.is_self_issued() && cert.is_ca() {
                return self.verify_self_signed_ca(
                    end_entity,
                    intermediates,
                    &cert,
                    server_name,
                    now,
                );
            }
        }
        let first = match &self.trusted {
            Some(trusted) => trusted.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            ),
            None => Err(CertificateError::UnknownIssuer.into()),
        };
        match first {
            Ok(verified) => Ok(verified),
            Err(e @ rustls::Error::InvalidCertificate(_)) => {
                self.verify_slowly(end_entity, intermediates, server_name, now, e)
            }
            Err(e) => {
                record(end_entity, intermediates, Vec::new());
                Err(e)
            }
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The client's certificate resolver: the configured one, with what it
/// answered recorded when a server asks for a certificate (at TLS 1.2 a
/// server that then refuses the handshake says only `handshake_failure`).
#[derive(Debug)]
pub(crate) struct RecordingCertResolver {
    pub(crate) inner: Arc<dyn ResolvesClientCert>,
}

impl ResolvesClientCert for RecordingCertResolver {
    fn resolve(
        &self,
        root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let chosen = self.inner.resolve(root_hint_subjects, sigschemes);
        let answer = match &chosen {
            // rustls sends nothing when the key cannot sign with any of the
            // server's schemes.
            Some(certified) if certified.key.choose_scheme(sigschemes).is_some() => {
                CertificateRequestAnswer::Sent
            }
            Some(_) => CertificateRequestAnswer::NoneSuitable,
            None if self.inner.has_certs() => CertificateRequestAnswer::NoneSuitable,
            None => CertificateRequestAnswer::NoneConfigured,
        };
        CURRENT.with(|c| {
            if let Some(findings) = c.borrow_mut().as_mut() {
                findings.certificate_request = Some(answer);
            }
        });
        chosen
    }

    fn only_raw_public_keys(&self) -> bool {
        self.inner.only_raw_public_keys()
    }

    fn has_certs(&self) -> bool {
        self.inner.has_certs()
    }
}

/// The server's client-certificate verifier: rustls's, with the client's chain
/// and the problem recorded when verification fails.
#[derive(Debug)]
pub(crate) struct RecordingClientVerifier {
    pub(crate) inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for RecordingClientVerifier {
    fn offer_client_auth(&self) -> bool {
        self.inner.offer_client_auth()
    }

    fn client_auth_mandatory(&self) -> bool {
        self.inner.client_auth_mandatory()
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        let result = self
            .inner
            .verify_client_cert(end_entity, intermediates, now);
        if let Err(e) = &result {
            let mut problems = Vec::new();
            if let rustls::Error::InvalidCertificate(ce) = e {
                let names = ChainNames::new("client", end_entity, intermediates);
                let mut problem = names.problem(ce.clone(), None);
                problem.decisive = true;
                if matches!(ce, CertificateError::UnknownIssuer) {
                    problem.detail = format!(
                        "{}; this server's client authentication roots do not include it",
                        problem.detail
                    );
                }
                problems.push(problem);
            }
            record(end_entity, intermediates, problems);
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
