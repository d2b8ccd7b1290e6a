//! Unix: errno and `getaddrinfo` codes, from `libc`.

use std::ffi::CStr;

use super::RESOLVER_PREFIX;
use crate::SocketErrorStatus as S;

/// Every errno we classify, with its status (the Winsock errors UWP's
/// `SocketError.GetStatus` classifies, matched to their POSIX errno, plus
/// `ENFILE` beside `EMFILE` and `EPIPE` beside `ECONNRESET`).
const ERRNO: &[(i32, S)] = &[
    (libc::ECANCELED, S::OperationAborted),
    (libc::EPROTO, S::HttpInvalidServerResponse),
    (libc::ETIMEDOUT, S::ConnectionTimedOut),
    (libc::EAFNOSUPPORT, S::AddressFamilyNotSupported),
    (libc::ESOCKTNOSUPPORT, S::SocketTypeNotSupported),
    (libc::EADDRINUSE, S::AddressAlreadyInUse),
    (libc::EADDRNOTAVAIL, S::CannotAssignRequestedAddress),
    (libc::ECONNREFUSED, S::ConnectionRefused),
    (libc::ENETUNREACH, S::NetworkIsUnreachable),
    (libc::EHOSTUNREACH, S::UnreachableHost),
    (libc::ENETDOWN, S::NetworkIsDown),
    (libc::ENETRESET, S::NetworkDroppedConnectionOnReset),
    (libc::ECONNABORTED, S::SoftwareCausedConnectionAbort),
    (libc::ECONNRESET, S::ConnectionResetByPeer),
    (libc::EPIPE, S::ConnectionResetByPeer),
    (libc::EHOSTDOWN, S::HostIsDown),
    (libc::EMFILE, S::TooManyOpenFiles),
    (libc::ENFILE, S::TooManyOpenFiles),
    (libc::EMSGSIZE, S::MessageTooLong),
];

/// glibc's `EAI_NODATA` and `EAI_ADDRFAMILY` (not in POSIX, so not in every libc).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
const EAI_EXTRA: &[(i32, S)] = &[
    (-5, S::NoDataRecordOfRequestedType),
    (-9, S::NoAddressesFound),
];
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
const EAI_EXTRA: &[(i32, S)] = &[];

const EAI: &[(i32, S)] = &[
    (libc::EAI_NONAME, S::HostNotFound),
    (libc::EAI_AGAIN, S::NonAuthoritativeHostNotFound),
    (libc::EAI_SERVICE, S::ClassTypeNotFound),
    (libc::EAI_FAMILY, S::AddressFamilyNotSupported),
    (libc::EAI_SOCKTYPE, S::SocketTypeNotSupported),
];

/// The index of the network interface called `name` (`if_nametoindex(3)`).
pub(crate) fn interface_index(name: &str) -> Option<u32> {
    let name = std::ffi::CString::new(name).ok()?;
    // SAFETY: `name` is a valid NUL-terminated string that outlives the call.
    let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
    (index != 0).then_some(index)
}

pub(crate) fn errno_status(errno: i32) -> S {
    ERRNO
        .iter()
        .find(|(e, _)| *e == errno)
        .map_or(S::Unknown, |(_, s)| *s)
}

pub(crate) fn resolver_status(code: i32) -> S {
    EAI.iter()
        .chain(EAI_EXTRA)
        .find(|(c, _)| *c == code)
        .map_or(S::Unknown, |(_, s)| *s)
}

/// The C library's description of a resolver code.
fn gai_text(code: i32) -> String {
    // SAFETY: gai_strerror returns a pointer to a static, NUL-terminated string
    // for every code (unknown ones get a generic text).
    unsafe { CStr::from_ptr(libc::gai_strerror(code)) }
        .to_string_lossy()
        .into_owned()
}

/// Recognises std's resolver error text ("failed to lookup address information:
/// <gai_strerror>"), which is all std keeps of the `EAI_*` code, by asking the C
/// library for the text of each code we classify.
pub(crate) fn resolver_status_from_message(message: &str) -> Option<S> {
    let detail = message.strip_prefix(RESOLVER_PREFIX)?;
    let found = EAI
        .iter()
        .chain(EAI_EXTRA)
        .find(|(code, _)| gai_text(*code) == detail)
        .map(|(_, s)| *s);
    // A resolver failure we cannot place is still a failure to find the host.
    Some(found.unwrap_or(S::HostNotFound))
}

/// The classified errno table (used by tests).
#[cfg(test)]
pub(crate) fn errno_table() -> &'static [(i32, S)] {
    ERRNO
}

/// The classified resolver codes with their C library texts (used by tests).
#[cfg(test)]
pub(crate) fn resolver_table() -> Vec<(i32, S, String)> {
    EAI.iter()
        .chain(EAI_EXTRA)
        .map(|(c, s)| (*c, *s, gai_text(*c)))
        .collect()
}
