//! The integration tests of sock-tls, linked as one binary: each module is
//! one area, and `support` holds what they share.

mod support;

mod certificate_stores;
mod security_client_certificates;
mod tls_bad_peers;
mod tls_certificate_errors;
mod tls_key_log;
mod tls_mutual;
mod tls_openssl_client_certificates;
mod tls_pkcs11;
mod tls_pkcs12;
mod tls_self_signed;
mod tls_starttls;
mod tls_streams;
mod tls_timeouts;
mod tls_versions;
