//! What sock-handoff tells `tracing` (feature `tracing`, on by default):
//! the hand-off steps at `debug`, the broker waking its program at `info`,
//! and failures at `warn`. Socket ids come from the peer process, so they
//! are written `Debug`-escaped.

#![cfg_attr(not(feature = "tracing"), allow(unused_variables))]

use crate::SocketActivityKind;

/// A socket went out on a hand-off channel.
pub(crate) fn sent(kind: SocketActivityKind, id: &str) {
    #[cfg(feature = "tracing")]
    tracing::debug!(?kind, ?id, "socket handed off");
}

/// A socket came in on a hand-off channel.
pub(crate) fn received(kind: SocketActivityKind, id: &str) {
    #[cfg(feature = "tracing")]
    tracing::debug!(?kind, ?id, "socket received");
}

/// A hand-off message was refused; its descriptors were closed.
pub(crate) fn refused(error: &dyn std::fmt::Display) {
    #[cfg(feature = "tracing")]
    tracing::warn!(%error, "hand-off message refused");
}

/// The broker now holds a socket.
pub(crate) fn held(kind: SocketActivityKind, id: &str, held: usize) {
    #[cfg(feature = "tracing")]
    tracing::debug!(?kind, ?id, held, "broker holds a socket");
}

/// The broker started its wake command because of activity on `id`.
pub(crate) fn woke(id: &str, reason: &str) {
    #[cfg(feature = "tracing")]
    tracing::info!(?id, reason, "broker woke its program");
}

/// The broker could not start its wake command.
pub(crate) fn wake_failed(error: &std::io::Error) {
    #[cfg(feature = "tracing")]
    tracing::warn!(%error, "broker could not start its wake command");
}

/// Service-manager activation found descriptors.
pub(crate) fn activated(count: usize) {
    #[cfg(feature = "tracing")]
    tracing::debug!(count, "sockets from the service manager");
}
