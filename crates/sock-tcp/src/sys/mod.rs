//! Platform code that socket2 does not cover: `TCP_INFO`, IPv6 zone lookup,
//! and which `accept` errors concern one connection only.
//!
//! One module per platform family behind the same functions; nothing else in
//! the crate uses `cfg` for the platform.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(not(unix))]
mod fallback;
#[cfg(not(unix))]
pub(crate) use fallback::*;

#[cfg(unix)]
mod reuseport;
#[cfg(unix)]
pub(crate) use reuseport::{rebalance, set_reuse_port, steer_away};

/// Whether sockets accepted by a listener start with the listener's socket
/// options (`TCP_NODELAY`, keep-alive, send buffer, TTL/hop limit, TOS/traffic
/// class). On Linux an accepted socket is a copy of the listening one, so the
/// options are set once on the listener instead of on every connection.
pub(crate) const ACCEPTED_SOCKETS_INHERIT_OPTIONS: bool = cfg!(target_os = "linux");

/// What an `accept` failure means for the accept loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AcceptError {
    /// The connection died before it was accepted: skip it and go on.
    PerConnection,
    /// The process or system ran out of something (file descriptors, memory):
    /// back off, then go on.
    Resources,
    /// Anything else: report it, back off, then go on.
    Other,
}
