//! What sock-tcp tells `tracing` (feature `tracing`, on by default): one
//! function per event, so the rest of the crate never names `tracing` and
//! builds the same without it.
//!
//! Levels: connect attempts and their errors, TLS handshake failures and
//! connections ended by an idle timeout at `debug`; shutdown steps at
//! `info`; accept errors (with the back-off) and failed handlers at `warn`.
//! Nothing a peer sent is written unescaped: peer-controlled text goes
//! through `Debug` formatting, which escapes control characters and quotes.
//!
//! With no subscriber installed each event costs one check of a static
//! level filter.

#![cfg_attr(not(feature = "tracing"), allow(unused_variables))]

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use sock_core::{Error, ProtectionLevel, SocketErrorStatus};

/// The span a served connection's handler runs in.
#[cfg(feature = "tracing")]
pub(crate) type Span = tracing::Span;
/// The span a served connection's handler runs in (none without `tracing`).
#[cfg(not(feature = "tracing"))]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Span;

/// A span per served connection: peer, local address, protection level.
#[cfg(feature = "tracing")]
pub(crate) fn connection_span(
    peer: SocketAddr,
    local: SocketAddr,
    protection: ProtectionLevel,
) -> Span {
    tracing::debug_span!("connection", %peer, %local, ?protection)
}

/// A span per served connection (none without `tracing`).
#[cfg(not(feature = "tracing"))]
pub(crate) fn connection_span(
    peer: SocketAddr,
    local: SocketAddr,
    protection: ProtectionLevel,
) -> Span {
    Span
}

/// Runs `future` inside `span`.
#[cfg(feature = "tracing")]
pub(crate) fn instrument<F: Future>(future: F, span: Span) -> impl Future<Output = F::Output> {
    tracing::Instrument::instrument(future, span)
}

/// Runs `future` (no span without `tracing`).
#[cfg(not(feature = "tracing"))]
pub(crate) fn instrument<F: Future>(future: F, span: Span) -> F {
    future
}

/// `serve` started.
pub(crate) fn serving(local: SocketAddr, max_connections: usize) {
    #[cfg(feature = "tracing")]
    tracing::debug!(%local, max_connections, "serving");
}

/// Accepting failed for a reason that is not one connection's: the accept
/// loop pauses before it tries again.
pub(crate) fn accept_failed(error: &Error) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        status = ?error.status(),
        error = %error,
        "accept failed; pausing before accepting again"
    );
}

/// A handler returned an error or panicked.
pub(crate) fn handler_failed(
    peer: SocketAddr,
    status: SocketErrorStatus,
    panicked: bool,
    message: &str,
) {
    #[cfg(feature = "tracing")]
    tracing::warn!(
        %peer,
        ?status,
        panicked,
        // Debug-formatted: the message may quote what the peer sent.
        error = ?message,
        "connection handler failed"
    );
}

/// At the connection limit, the connection idle longest was shed to make
/// room.
pub(crate) fn shed(peer: SocketAddr, max_connections: usize) {
    #[cfg(feature = "tracing")]
    tracing::info!(%peer, max_connections, "at the connection limit: shed the connection idle longest");
}

/// At the connection limit with nothing idle enough to shed, a new
/// connection was reset.
pub(crate) fn refused_at_limit(peer: SocketAddr, max_connections: usize) {
    #[cfg(feature = "tracing")]
    tracing::warn!(%peer, max_connections, "at the connection limit: new connection refused");
}

/// Graceful shutdown began with `running` handlers still running.
pub(crate) fn shutting_down(running: usize, timeout: Duration) {
    #[cfg(feature = "tracing")]
    tracing::info!(running, ?timeout, "shutting down: no longer accepting");
}

/// Handlers still running at the shutdown deadline are being aborted.
pub(crate) fn aborting(running: usize) {
    #[cfg(feature = "tracing")]
    tracing::warn!(running, "shutdown timeout reached: aborting handlers");
}

/// A connect attempt to one address started.
pub(crate) fn connect_attempt(addr: SocketAddr, local: Option<SocketAddr>) {
    #[cfg(feature = "tracing")]
    tracing::debug!(%addr, local = ?local, "connect attempt");
}

/// A connect attempt to one address failed.
pub(crate) fn connect_attempt_failed(addr: SocketAddr, error: &std::io::Error) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        %addr,
        status = ?SocketErrorStatus::from(error),
        %error,
        "connect attempt failed"
    );
}

/// A connect reached `addr`.
pub(crate) fn connected(addr: SocketAddr) {
    #[cfg(feature = "tracing")]
    tracing::debug!(%addr, "connected");
}

/// A TLS listener's server handshake failed or timed out; the connection
/// was closed.
#[cfg(feature = "tls")]
pub(crate) fn server_handshake_failed(peer: Option<SocketAddr>, error: &dyn std::fmt::Display) {
    #[cfg(feature = "tracing")]
    tracing::debug!(peer = ?peer, error = %error, "TLS server handshake failed; connection closed");
}

/// A TLS listener at its pending-handshake limit dropped the oldest
/// handshake that had heard nothing, to take a new connection.
#[cfg(feature = "tls")]
pub(crate) fn silent_handshake_shed(max_pending: usize) {
    #[cfg(feature = "tracing")]
    tracing::debug!(
        max_pending,
        "TLS handshakes at the limit: dropped the oldest silent one"
    );
}

/// A waiting operation ended because the connection stayed idle.
pub(crate) fn idle_timed_out(peer: SocketAddr, error: &Error) {
    #[cfg(feature = "tracing")]
    tracing::debug!(%peer, %error, "idle timeout: operation ended");
}
