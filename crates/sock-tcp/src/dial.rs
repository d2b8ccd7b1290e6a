//! Where a connect goes: the remote port, or a service's SRV targets (RFC
//! 2782), and for each the addresses to race, resolved progressively when the
//! resolver can (RFC 8305 §3).

use std::net::SocketAddr;

use sock_core::{ConnectAttempt, Error, HostName, HostNameType, ResolverError, Result};
use sock_core::{ServiceName, SocketErrorStatus, TransportProtocol};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::connect::{connect_to_addrs, Candidates, Local, Race};
use crate::deadline::ConnectTimer;
use crate::options::SocketOptions;
use crate::resolve::{literal, resolve, service_port, Resolve};
use crate::srv::{order, ServiceRecord};

/// What a connect's service names.
pub(crate) enum Remote {
    /// A port on the host itself.
    Port(u16),
    /// SRV targets, in the order to try them.
    Services(Vec<ServiceRecord>),
}

/// The port of `service`, or, for a name that is neither a port nor in the
/// services table, the SRV targets the resolver finds for it on `host`
/// (`_service._tcp.host`).
///
/// # Errors
///
/// The service's own errors; [`Error::UnknownService`] when the resolver
/// does not look services up or finds no record; [`Error::Resolve`] naming
/// the SRV name when the lookup fails or the record says the service is not
/// available there; [`Error::TimedOut`] at `deadline`.
pub(crate) async fn remote(
    resolver: &dyn Resolve,
    host: &HostName,
    service: &ServiceName,
    deadline: Instant,
    timeout: std::time::Duration,
) -> Result<Remote> {
    let unknown = match service_port(service).await {
        Ok(port) => return Ok(Remote::Port(port)),
        Err(unknown @ Error::UnknownService { .. }) if host.kind() == HostNameType::DomainName => {
            unknown
        }
        Err(e) => return Err(e),
    };
    let name = format!("_{}._tcp.{}", service.as_str(), host.canonical_name());
    let lookup = resolver.resolve_service(service.as_str(), TransportProtocol::Tcp, host);
    let records = tokio::time::timeout_at(deadline, lookup)
        .await
        .map_err(|_| Error::TimedOut {
            operation: "service (SRV) resolution (connect_timeout)",
            after: timeout,
        })?
        .map_err(|source| Error::Resolve {
            host: name.clone(),
            source,
        })?;
    let Some(records) = records.filter(|r| !r.is_empty()) else {
        return Err(unknown);
    };
    let available: Vec<ServiceRecord> = records
        .into_iter()
        .filter(|r| !r.is_unavailable())
        .collect();
    if available.is_empty() {
        return Err(Error::Resolve {
            host: name.clone(),
            source: ResolverError::new(
                SocketErrorStatus::ClassTypeNotFound,
                format!("{name} says the service is not available there (SRV target \".\")"),
            )
            .into(),
        });
    }
    Ok(Remote::Services(order(available)))
}

/// The addresses of `host` to race: the literal, the resolver's answers as
/// they arrive, or (with a local endpoint) all answers that `local` can reach.
///
/// # Errors
///
/// Resolution errors when the answers must be known first (with a local
/// endpoint), and [`Error::Connect`] when no answer has the local family.
pub(crate) async fn candidates(
    resolver: &dyn Resolve,
    host: &HostName,
    port: u16,
    local: &Local,
    deadline: Instant,
    timeout: std::time::Duration,
    target: &str,
) -> Result<Candidates> {
    let addrs = match literal(host, port)? {
        Some(addr) => vec![addr],
        None if local.is_any() => {
            return Ok(Candidates {
                now: Vec::new(),
                later: Some(resolver.resolve_progressively(host, port)),
                host: host.raw_name().to_owned(),
            })
        }
        None => tokio::time::timeout_at(deadline, resolve(resolver, host, port))
            .await
            .map_err(|_| Error::TimedOut {
                operation: "host name resolution (connect_timeout)",
                after: timeout,
            })??,
    };
    if local.is_any() {
        return Ok(Candidates::known(addrs));
    }
    let (usable, unusable): (Vec<_>, Vec<_>) = addrs.into_iter().partition(|a| local.can_reach(*a));
    if usable.is_empty() {
        return Err(Error::Connect {
            target: target.to_owned(),
            attempts: unusable
                .into_iter()
                .map(|addr| ConnectAttempt {
                    addr,
                    error: local.family_mismatch(addr),
                })
                .collect(),
        });
    }
    Ok(Candidates::known(usable))
}

/// Connects to the first SRV target that answers, in `records`' order, each
/// target's addresses raced.
///
/// # Errors
///
/// [`Error::Connect`] with every address of every target tried; when no
/// address was tried, the first target's resolution error.
pub(crate) async fn connect_to_services(
    resolver: &dyn Resolve,
    records: Vec<ServiceRecord>,
    local: &Local,
    options: &SocketOptions,
    race: Race,
    timer: &mut ConnectTimer,
    target: &str,
) -> Result<(TcpStream, SocketAddr)> {
    let mut attempts = Vec::new();
    let mut first_error = None;
    for record in records {
        if Instant::now() >= race.deadline && (!attempts.is_empty() || first_error.is_some()) {
            break;
        }
        let outcome = async {
            let host = HostName::new(record.target.trim_end_matches('.'))?;
            let candidates = candidates(
                resolver,
                &host,
                record.port,
                local,
                race.deadline,
                race.timeout,
                target,
            )
            .await?;
            connect_to_addrs(candidates, local, options, race, timer, target).await
        }
        .await;
        match outcome {
            Ok(connected) => return Ok(connected),
            Err(Error::Connect { attempts: more, .. }) => attempts.extend(more),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    if attempts.is_empty() {
        return Err(first_error.unwrap_or_else(|| Error::NoAddresses {
            host: target.to_owned(),
        }));
    }
    Err(Error::Connect {
        target: target.to_owned(),
        attempts,
    })
}
