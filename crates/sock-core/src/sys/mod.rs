//! Platform tables: errno and resolver codes to `SocketErrorStatus`.
//!
//! One module per platform family behind the same four functions; nothing else in
//! the crate uses `cfg` for the platform.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub(crate) use unix::*;

#[cfg(not(unix))]
mod fallback;
#[cfg(not(unix))]
pub(crate) use fallback::*;

/// The text std puts before a resolver failure's description.
pub(crate) const RESOLVER_PREFIX: &str = "failed to lookup address information: ";
