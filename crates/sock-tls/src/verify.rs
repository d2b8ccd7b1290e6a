//! Certificate verification: the client's verifier, which tolerates UWP's
//! ignorable server certificate errors, the server's recording verifier, and
//! the record of what was found during one handshake.
//!
//! Verifiers are shared by every connection of a configuration (rustls only
//! resumes sessions with the verifier that verified them), so what one handshake
//! finds is recorded in a per-thread slot that the handshake future fills in
//! around each poll ([`recording`]). Verification runs synchronously inside that
//! poll, so the slot always belongs to the handshake being driven.

use std::cell::RefCell;
use std::mem;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{verify_server_name, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, CertificateRevocationListDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::ParsedCertificate;
use rustls::{
    CertificateError, DigitallySignedStruct, DistinguishedName, RootCertStore, SignatureScheme,
};

use crate::certificate::{CertificateProblem, ChainNames, IgnorableCertificateError};

/// What the verifiers found during one handshake.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    /// The peer's chain, kept when verification failed (on success the
    /// connection has it).
    pub(crate) chain: Vec<CertificateDer<'static>>,
    /// Every problem found, waived or not.
    pub(crate) problems: Vec<CertificateProblem>,
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
        let trusted = if roots.is_empty() {
            None
        } else {
            Some(Self::webpki(roots, &crls, &provider)?)
        };
        Ok(Self {
            trusted,
            provider,
            ignorable,
        })
    }

    fn webpki(
        roots: RootCertStore,
        crls: &[CertificateRevocationListDer<'static>],
        provider: &Arc<CryptoProvider>,
    ) -> Result<Arc<WebPkiServerVerifier>, rustls::Error> {
        WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
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
            let verifier = Self::webpki(roots, &[], &self.provider)?;
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
        let names = ChainNames::new("server", ee, intermediates);
        let mut problems = Vec::new();
        let parsed = match ParsedCertificate::try_from(ee) {
            Ok(parsed) => parsed,
            Err(e) => {
                if let rustls::Error::InvalidCertificate(ce) = &e {
                    problems.push(names.problem(ce.clone(), None));
                }
                record(ee, intermediates, problems);
                return Err(e);
            }
        };
        match verify_server_name(&parsed, name) {
            Ok(()) => {}
            Err(rustls::Error::InvalidCertificate(e)) => {
                problems.push(names.problem(e, Some(IgnorableCertificateError::InvalidName)));
            }
            Err(other) => {
                record(ee, intermediates, problems);
                return Err(other);
            }
        }

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
                    problems
                        .push(names.problem(error, Some(IgnorableCertificateError::UntrustedRoot)));
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

        let tolerated = |p: &CertificateProblem| {
            p.ignorable_as
                .is_some_and(|kind| self.ignorable.contains(&kind))
        };
        let failing = problems.iter().position(|p| !tolerated(p));
        let outcome = match failing {
            Some(i) => {
                problems[i].decisive = true;
                Err(rustls::Error::InvalidCertificate(problems[i].error.clone()))
            }
            None if problems.is_empty() || !chain_ok => Err(first_error),
            None => {
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

impl ServerCertVerifier for PolicyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
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
