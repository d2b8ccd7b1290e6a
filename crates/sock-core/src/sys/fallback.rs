//! Platforms without a classification table: everything is `Unknown`, except
//! what the error kind says (handled by the caller).

use crate::SocketErrorStatus;

/// Interface names are not looked up here: only numeric zones work.
pub(crate) fn interface_index(_name: &str) -> Option<u32> {
    None
}

pub(crate) fn errno_status(_errno: i32) -> SocketErrorStatus {
    SocketErrorStatus::Unknown
}

pub(crate) fn resolver_status(_code: i32) -> SocketErrorStatus {
    SocketErrorStatus::Unknown
}

pub(crate) fn resolver_status_from_message(_message: &str) -> Option<SocketErrorStatus> {
    None
}

/// The errno for a status, where the platform has one (used by tests).
#[cfg(test)]
pub(crate) fn errno_table() -> &'static [(i32, SocketErrorStatus)] {
    &[]
}
