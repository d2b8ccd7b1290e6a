//! Adopting sockets a service manager passed (`LISTEN_FDS`, `LISTEN_PID`,
//! `LISTEN_FDNAMES`, as systemd's socket activation and `systemfd` set them).

use std::collections::HashSet;
use std::io;
use std::os::fd::{OwnedFd, RawFd};
use std::sync::{Mutex, PoisonError};

use sock_core::Error;

use crate::info::check_and_prepare;
use crate::sys;
use crate::SocketActivityKind;

/// The first descriptor a service manager passes (`SD_LISTEN_FDS_START`).
pub const LISTEN_FDS_START: RawFd = 3;

/// The most descriptors accepted from `LISTEN_FDS`.
pub const MAX_LISTEN_FDS: usize = 4096;

/// The name of a descriptor when `LISTEN_FDNAMES` is not set (systemd's).
pub const DEFAULT_FD_NAME: &str = "unknown";

/// Descriptors already adopted in this process, so none is owned twice.
static TAKEN: Mutex<Option<HashSet<RawFd>>> = Mutex::new(None);

/// One descriptor a service manager passed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListenFd {
    /// The descriptor number (3, 4, …).
    pub fd: RawFd,
    /// Its name from `LISTEN_FDNAMES`, or [`DEFAULT_FD_NAME`].
    pub name: String,
}

fn not_activated(detail: String) -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::NotFound,
        format!("socket activation: {detail}"),
    ))
}

fn bad_var(detail: String) -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("socket activation: {detail}"),
    ))
}

/// Parses the activation variables for the process `our_pid`.
///
/// Pure: it reads no environment and touches no descriptor, so it can be
/// tested with any values.
///
/// # Errors
///
/// A `NotFound` I/O error when `LISTEN_PID` or `LISTEN_FDS` is absent, or
/// `LISTEN_PID` names another process; an `InvalidInput` one when a value is
/// malformed, `LISTEN_FDS` is more than [`MAX_LISTEN_FDS`], or
/// `LISTEN_FDNAMES` has a different number of names.
pub fn parse_listen_vars(
    listen_pid: Option<&str>,
    listen_fds: Option<&str>,
    listen_fdnames: Option<&str>,
    our_pid: u32,
) -> Result<Vec<ListenFd>, Error> {
    let Some(pid) = listen_pid else {
        return Err(not_activated(
            "LISTEN_PID is not set (the process was not started by a service manager)".into(),
        ));
    };
    let pid: u32 = pid
        .trim()
        .parse()
        .map_err(|_| bad_var(format!("LISTEN_PID {pid:?} is not a process id")))?;
    if pid != our_pid {
        return Err(not_activated(format!(
            "LISTEN_PID is {pid} but this process is {our_pid} (the variables were meant for another process)"
        )));
    }
    let Some(count) = listen_fds else {
        return Err(not_activated("LISTEN_FDS is not set".into()));
    };
    let count: usize = count
        .trim()
        .parse()
        .map_err(|_| bad_var(format!("LISTEN_FDS {count:?} is not a number")))?;
    if count > MAX_LISTEN_FDS {
        return Err(bad_var(format!(
            "LISTEN_FDS is {count}, more than the maximum of {MAX_LISTEN_FDS}"
        )));
    }
    let names: Vec<String> = match listen_fdnames {
        None => vec![DEFAULT_FD_NAME.to_owned(); count],
        Some(names) => {
            let names: Vec<String> = if names.is_empty() && count == 0 {
                Vec::new()
            } else {
                names.split(':').map(str::to_owned).collect()
            };
            if names.len() != count {
                return Err(bad_var(format!(
                    "LISTEN_FDNAMES has {} names but LISTEN_FDS is {count}",
                    names.len()
                )));
            }
            names
        }
    };
    Ok(names
        .into_iter()
        .enumerate()
        .map(|(i, name)| ListenFd {
            fd: LISTEN_FDS_START + i as RawFd,
            name,
        })
        .collect())
}

/// The sockets a service manager passed to this process.
///
/// ```no_run
/// use sock_handoff::Activation;
///
/// # fn main() -> sock_core::Result<()> {
/// let mut activation = Activation::from_env(true)?;
/// let web = activation.take_tcp_listener("web")?;
/// // With tokio: tokio::net::TcpListener::from_std(web)?
/// # drop(web); Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Activation {
    fds: Vec<ListenFd>,
}

impl Activation {
    /// Reads `LISTEN_PID`, `LISTEN_FDS` and `LISTEN_FDNAMES`; with
    /// `unset_env`, removes them from the environment afterwards (so child
    /// processes do not see them), whether or not they were valid.
    ///
    /// Removing environment variables is not thread safe on most systems:
    /// ask for it early, before other threads run.
    ///
    /// # Errors
    ///
    /// As [`parse_listen_vars`]; on other systems than Linux, `Unsupported`.
    pub fn from_env(unset_env: bool) -> Result<Self, Error> {
        let var = |name| std::env::var(name).ok();
        let (pid, fds, names) = (var("LISTEN_PID"), var("LISTEN_FDS"), var("LISTEN_FDNAMES"));
        if unset_env {
            for name in ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"] {
                std::env::remove_var(name);
            }
        }
        if !sys::SUPPORTED {
            return Err(Error::unsupported(
                "socket activation",
                "only linux passes sockets this way here",
            ));
        }
        let fds = parse_listen_vars(
            pid.as_deref(),
            fds.as_deref(),
            names.as_deref(),
            std::process::id(),
        )?;
        crate::log::activated(fds.len());
        Ok(Self { fds })
    }

    /// The descriptors passed, with their names.
    pub fn fds(&self) -> &[ListenFd] {
        &self.fds
    }

    /// Takes the descriptor named `name` as a TCP listener, non-blocking and
    /// close-on-exec.
    ///
    /// # Errors
    ///
    /// When no descriptor has that name (the error lists those there are),
    /// it was already taken, it is closed, or it is not a listening TCP
    /// socket (the error names the descriptor and what it is).
    pub fn take_tcp_listener(&mut self, name: &str) -> Result<std::net::TcpListener, Error> {
        Ok(self
            .take(name, SocketActivityKind::StreamSocketListener)?
            .into())
    }

    /// Takes the descriptor named `name` as a UDP socket, non-blocking and
    /// close-on-exec.
    ///
    /// # Errors
    ///
    /// As [`take_tcp_listener`](Self::take_tcp_listener), for a UDP socket.
    pub fn take_udp_socket(&mut self, name: &str) -> Result<std::net::UdpSocket, Error> {
        Ok(self.take(name, SocketActivityKind::DatagramSocket)?.into())
    }

    /// Takes the descriptor named `name` as a connected TCP socket (as
    /// `Accept=yes` services get), non-blocking and close-on-exec.
    ///
    /// # Errors
    ///
    /// As [`take_tcp_listener`](Self::take_tcp_listener), for a connected TCP socket.
    pub fn take_tcp_stream(&mut self, name: &str) -> Result<std::net::TcpStream, Error> {
        Ok(self.take(name, SocketActivityKind::StreamSocket)?.into())
    }

    /// Takes the first descriptor named `name` that was not taken yet.
    fn take(&mut self, name: &str, kind: SocketActivityKind) -> Result<OwnedFd, Error> {
        let mut taken = TAKEN.lock().unwrap_or_else(PoisonError::into_inner);
        let taken = taken.get_or_insert_with(HashSet::new);
        let named: Vec<&ListenFd> = self.fds.iter().filter(|f| f.name == name).collect();
        let Some(found) = named.iter().find(|f| !taken.contains(&f.fd)) else {
            if let Some(first) = named.first() {
                return Err(bad_var(format!(
                    "fd {} ({name:?}) was already adopted",
                    first.fd
                )));
            }
            let there: Vec<String> = self
                .fds
                .iter()
                .map(|f| format!("{:?} (fd {})", f.name, f.fd))
                .collect();
            return Err(not_activated(format!(
                "no descriptor named {name:?} (passed: {})",
                if there.is_empty() {
                    "none".to_owned()
                } else {
                    there.join(", ")
                }
            )));
        };
        let fd = found.fd;
        let what = format!("fd {fd} ({name:?})");
        sys::adopt_inherited(
            fd,
            taken,
            || bad_var(format!("{what} is not open")),
            |borrowed| check_and_prepare(borrowed, &what, kind),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(e: Error) -> String {
        e.to_string()
    }

    #[test]
    fn names_and_numbers_come_from_the_variables() {
        let fds = parse_listen_vars(Some("42"), Some("3"), Some("web:dns:web"), 42).unwrap();
        let got: Vec<(RawFd, &str)> = fds.iter().map(|f| (f.fd, f.name.as_str())).collect();
        assert_eq!(got, [(3, "web"), (4, "dns"), (5, "web")]);
        let fds = parse_listen_vars(Some("42"), Some("2"), None, 42).unwrap();
        assert!(fds.iter().all(|f| f.name == DEFAULT_FD_NAME));
        assert!(parse_listen_vars(Some("42"), Some("0"), Some(""), 42)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn absent_variables_say_so() {
        let e = msg(parse_listen_vars(None, Some("1"), None, 1).unwrap_err());
        assert_eq!(
            e,
            "socket activation: LISTEN_PID is not set (the process was not started by a service manager)"
        );
        let e = msg(parse_listen_vars(Some("1"), None, None, 1).unwrap_err());
        assert_eq!(e, "socket activation: LISTEN_FDS is not set");
    }

    #[test]
    fn variables_for_another_process_are_refused() {
        let e = parse_listen_vars(Some("41"), Some("1"), None, 42).unwrap_err();
        assert_eq!(e.io_kind(), io::ErrorKind::NotFound);
        assert_eq!(
            msg(e),
            "socket activation: LISTEN_PID is 41 but this process is 42 (the variables were meant for another process)"
        );
    }

    #[test]
    fn malformed_values_are_named() {
        let e = msg(parse_listen_vars(Some("x"), Some("1"), None, 1).unwrap_err());
        assert!(e.contains("LISTEN_PID \"x\" is not a process id"), "{e}");
        let e = msg(parse_listen_vars(Some("1"), Some("-1"), None, 1).unwrap_err());
        assert!(e.contains("LISTEN_FDS \"-1\" is not a number"), "{e}");
        let e = msg(parse_listen_vars(Some("1"), Some("99999"), None, 1).unwrap_err());
        assert!(e.contains("more than the maximum of 4096"), "{e}");
        let e = msg(parse_listen_vars(Some("1"), Some("2"), Some("a"), 1).unwrap_err());
        assert!(
            e.contains("LISTEN_FDNAMES has 1 names but LISTEN_FDS is 2"),
            "{e}"
        );
    }

    #[test]
    fn a_missing_name_lists_what_was_passed() {
        let mut a = Activation {
            fds: parse_listen_vars(Some("1"), Some("2"), Some("web:dns"), 1).unwrap(),
        };
        let e = msg(a.take_tcp_listener("api").unwrap_err());
        assert_eq!(
            e,
            "socket activation: no descriptor named \"api\" (passed: \"web\" (fd 3), \"dns\" (fd 4))"
        );
    }
}
