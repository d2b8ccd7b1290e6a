//! The UWP names of the broker's world: [`SocketActivityKind`],
//! [`SocketActivityTriggerReason`], [`SocketActivityInformation`] (with the
//! [`SocketSettings`] that travel beside the descriptor), and the
//! [`TransferError`] that gives a socket back when a hand-off fails.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::os::fd::{AsFd, OwnedFd};

use sock_core::Error;

use crate::sys;

/// What kind of socket travels in a hand-off (UWP's `SocketActivityKind`,
/// same numbers; they are also the wire values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SocketActivityKind {
    /// No socket (never sent on the wire).
    None = 0,
    /// A TCP listener (`StreamSocketListener`).
    StreamSocketListener = 1,
    /// A UDP socket (`DatagramSocket`).
    DatagramSocket = 2,
    /// A connected TCP socket (`StreamSocket`).
    StreamSocket = 3,
}

impl SocketActivityKind {
    /// The kind with this UWP / wire number.
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0 => Self::None,
            1 => Self::StreamSocketListener,
            2 => Self::DatagramSocket,
            3 => Self::StreamSocket,
            _ => return None,
        })
    }

    /// The UWP type name.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::StreamSocketListener => "StreamSocketListener",
            Self::DatagramSocket => "DatagramSocket",
            Self::StreamSocket => "StreamSocket",
        }
    }

    /// What a socket of this kind is, in the words of error messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::None => "no socket",
            Self::StreamSocketListener => "a listening tcp socket",
            Self::DatagramSocket => "a udp socket",
            Self::StreamSocket => "a connected tcp socket",
        }
    }
}

impl fmt::Display for SocketActivityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the broker woke an app (UWP's `SocketActivityTriggerReason`, same
/// numbers). The woken command finds it in the `SOCK_BROKER_REASON`
/// environment variable, by [`name`](Self::name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SocketActivityTriggerReason {
    /// No reason.
    None = 0,
    /// A held datagram socket received a datagram.
    SocketActivity = 1,
    /// A held listener has a connection waiting to be accepted.
    ConnectionAccepted = 2,
    /// A keep-alive timer expired (UWP only; the broker never reports it).
    KeepAliveTimerExpired = 3,
    /// A held socket was closed (UWP only; the broker never reports it).
    SocketClosed = 4,
}

impl SocketActivityTriggerReason {
    /// The UWP name, as put in `SOCK_BROKER_REASON`.
    pub fn name(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::SocketActivity => "SocketActivity",
            Self::ConnectionAccepted => "ConnectionAccepted",
            Self::KeepAliveTimerExpired => "KeepAliveTimerExpired",
            Self::SocketClosed => "SocketClosed",
        }
    }

    /// The reason with this UWP name (as read back from `SOCK_BROKER_REASON`).
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::None,
            Self::SocketActivity,
            Self::ConnectionAccepted,
            Self::KeepAliveTimerExpired,
            Self::SocketClosed,
        ]
        .into_iter()
        .find(|r| r.name() == name)
    }
}

impl fmt::Display for SocketActivityTriggerReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Control settings that live in the sending process, not in the kernel,
/// and so travel in the hand-off message beside the descriptor (UWP keeps a
/// socket's control settings across `TransferOwnership`).
///
/// Options the kernel holds (buffer sizes, port sharing, multicast
/// memberships, hop limits) travel with the descriptor itself and need no
/// help. Today one setting needs it: sock-udp's `multicast_only` (UWP's
/// `DatagramSocketControl.MulticastOnly`), which only a
/// [`SocketActivityKind::DatagramSocket`] can have. The default is "none
/// set", which is what [`HandoffChannel::send`](crate::HandoffChannel::send)
/// sends; [`HandoffChannel::send_with`](crate::HandoffChannel::send_with)
/// sends others, and `transfer_ownership` in sock-udp fills them in from the
/// socket.
///
/// ```
/// use sock_handoff::SocketSettings;
///
/// let settings = SocketSettings::new().multicast_only(true);
/// assert!(settings.is_multicast_only());
/// assert!(!SocketSettings::default().is_multicast_only());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct SocketSettings {
    multicast_only: bool,
}

impl SocketSettings {
    /// No setting set (the same as `default()`).
    pub const fn new() -> Self {
        Self {
            multicast_only: false,
        }
    }

    /// Whether the adopted datagram socket is for multicast only (sock-udp's
    /// `DatagramSocketControl::multicast_only`: unicast and broadcast sends
    /// are refused, unicast datagrams arriving are dropped and counted).
    /// Only a [`SocketActivityKind::DatagramSocket`] may carry it: sending it
    /// with another kind is refused, and so is receiving it.
    pub const fn multicast_only(mut self, on: bool) -> Self {
        self.multicast_only = on;
        self
    }

    /// Whether [`multicast_only`](Self::multicast_only) is set.
    pub const fn is_multicast_only(&self) -> bool {
        self.multicast_only
    }
}

/// A socket that was handed over, with its id and context (UWP's
/// `SocketActivityInformation`).
///
/// The socket is a bare descriptor, already close-on-exec; adopt it as the
/// right type with `StreamSocketListener::from_socket_activity`,
/// `StreamSocket::from_socket_activity` or `DatagramSocket::from_socket_activity`
/// (in sock-tcp and sock-udp), or as a std type with
/// [`into_tcp_listener`](Self::into_tcp_listener),
/// [`into_tcp_stream`](Self::into_tcp_stream) and
/// [`into_udp_socket`](Self::into_udp_socket). Each checks that the
/// descriptor really is that kind of socket and makes it non-blocking.
/// Dropping it closes the socket.
#[derive(Debug)]
pub struct SocketActivityInformation {
    /// The id the sender gave (UWP's `Id`), at most [`MAX_ID_LEN`](crate::MAX_ID_LEN) bytes.
    pub id: String,
    /// The kind of socket, as the sender said and the receiver checked.
    pub kind: SocketActivityKind,
    /// The sender's opaque context (UWP's `Context.Data`).
    pub context: Vec<u8>,
    /// The control settings the sender's socket had that live outside the
    /// kernel (such as `multicast_only`); the adopting type applies them
    /// (`DatagramSocket::from_socket_activity` does). The std conversions
    /// below ignore them: read them first if you adopt that way.
    pub settings: SocketSettings,
    /// The socket itself.
    pub socket: OwnedFd,
}

impl SocketActivityInformation {
    /// Checks that the socket is `want` and makes it ready for tokio.
    fn adopt(self, want: SocketActivityKind) -> Result<OwnedFd, Error> {
        let what = format!("handed-over socket {:?}", self.id);
        if self.kind != want {
            return Err(wrong_kind(&what, &format!("a {}", self.kind.name()), want));
        }
        check_and_prepare(self.socket.as_fd(), &what, want)?;
        Ok(self.socket)
    }

    /// The socket as a std `TcpListener`, non-blocking, ready for
    /// `tokio::net::TcpListener::from_std`.
    ///
    /// # Errors
    ///
    /// When the kind is not [`SocketActivityKind::StreamSocketListener`], or
    /// the descriptor is not a listening TCP socket (the message names what it is).
    pub fn into_tcp_listener(self) -> Result<std::net::TcpListener, Error> {
        Ok(self.adopt(SocketActivityKind::StreamSocketListener)?.into())
    }

    /// The socket as a std `TcpStream`, non-blocking.
    ///
    /// # Errors
    ///
    /// When the kind is not [`SocketActivityKind::StreamSocket`] or the
    /// descriptor is not a connected TCP socket.
    pub fn into_tcp_stream(self) -> Result<std::net::TcpStream, Error> {
        Ok(self.adopt(SocketActivityKind::StreamSocket)?.into())
    }

    /// The socket as a std `UdpSocket`, non-blocking.
    ///
    /// # Errors
    ///
    /// When the kind is not [`SocketActivityKind::DatagramSocket`] or the
    /// descriptor is not a UDP socket.
    pub fn into_udp_socket(self) -> Result<std::net::UdpSocket, Error> {
        Ok(self.adopt(SocketActivityKind::DatagramSocket)?.into())
    }
}

/// The error for a descriptor that is not the kind asked for.
pub(crate) fn wrong_kind(what: &str, is: &str, want: SocketActivityKind) -> Error {
    Error::Io(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{what} is {is}, not {} as a {} needs",
            want.describe(),
            want.name()
        ),
    ))
}

/// Checks that `fd` is a socket of kind `want` (naming it `what` in the
/// error), then makes it non-blocking and close-on-exec.
pub(crate) fn check_and_prepare(
    fd: std::os::fd::BorrowedFd<'_>,
    what: &str,
    want: SocketActivityKind,
) -> Result<(), Error> {
    check_shape(fd, what, want)?;
    sys::prepare_for_adoption(fd)?;
    Ok(())
}

/// Checks that `fd` is a socket of kind `want`.
pub(crate) fn check_shape(
    fd: std::os::fd::BorrowedFd<'_>,
    what: &str,
    want: SocketActivityKind,
) -> Result<(), Error> {
    let shape = sys::shape(fd)?;
    let ok = match want {
        SocketActivityKind::StreamSocketListener => shape.is_tcp_listener(),
        SocketActivityKind::StreamSocket => shape.is_tcp_stream(),
        SocketActivityKind::DatagramSocket => shape.is_udp(),
        SocketActivityKind::None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(wrong_kind(what, &shape.to_string(), want))
    }
}

/// A hand-off that failed, with the socket given back.
///
/// `transfer_ownership` takes the socket by value; when the hand-off fails
/// (the peer went away, the context is too long, the socket cannot travel)
/// the socket is still open and yours: take it back with
/// [`into_socket`](Self::into_socket). It converts into
/// [`sock_core::Error`] (dropping, which closes, the socket) so `?` works.
pub struct TransferError<T> {
    error: Error,
    socket: T,
}

impl<T> TransferError<T> {
    /// A failed hand-off of `socket`.
    pub fn new(error: Error, socket: T) -> Self {
        Self { error, socket }
    }

    /// Why the hand-off failed.
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// The socket, still open and usable.
    pub fn into_socket(self) -> T {
        self.socket
    }

    /// The error and the socket.
    pub fn into_parts(self) -> (Error, T) {
        (self.error, self.socket)
    }
}

impl<T> fmt::Debug for TransferError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransferError")
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for TransferError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "transfer_ownership failed: {}", self.error)
    }
}

impl<T> StdError for TransferError<T> {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        Some(&self.error)
    }
}

impl<T> From<TransferError<T>> for Error {
    fn from(e: TransferError<T>) -> Self {
        e.error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_reasons_keep_their_uwp_numbers() {
        for (n, kind) in [
            (0, SocketActivityKind::None),
            (1, SocketActivityKind::StreamSocketListener),
            (2, SocketActivityKind::DatagramSocket),
            (3, SocketActivityKind::StreamSocket),
        ] {
            assert_eq!(kind as u8, n);
            assert_eq!(SocketActivityKind::from_u8(n), Some(kind));
        }
        assert_eq!(SocketActivityKind::from_u8(4), None);
        assert_eq!(SocketActivityTriggerReason::ConnectionAccepted as u8, 2);
        assert_eq!(SocketActivityTriggerReason::SocketClosed as u8, 4);
        assert_eq!(
            SocketActivityTriggerReason::from_name("SocketActivity"),
            Some(SocketActivityTriggerReason::SocketActivity)
        );
        assert_eq!(SocketActivityTriggerReason::from_name("nope"), None);
    }

    #[test]
    fn a_udp_socket_is_refused_as_a_listener_with_both_named() {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let info = SocketActivityInformation {
            id: "web".into(),
            kind: SocketActivityKind::StreamSocketListener,
            context: Vec::new(),
            settings: SocketSettings::default(),
            socket: OwnedFd::from(udp),
        };
        let err = info.into_tcp_listener().unwrap_err();
        assert_eq!(
            err.to_string(),
            "handed-over socket \"web\" is a udp socket (ipv4), not a listening tcp socket as a StreamSocketListener needs"
        );
        assert_eq!(err.io_kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_kind_mismatch_is_refused_before_looking_at_the_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let info = SocketActivityInformation {
            id: "x".into(),
            kind: SocketActivityKind::StreamSocketListener,
            context: Vec::new(),
            settings: SocketSettings::default(),
            socket: OwnedFd::from(listener),
        };
        let err = info.into_udp_socket().unwrap_err();
        assert!(
            err.to_string()
                .contains("is a StreamSocketListener, not a udp socket"),
            "{err}"
        );
    }

    #[test]
    fn adopted_sockets_are_non_blocking() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let info = SocketActivityInformation {
            id: "x".into(),
            kind: SocketActivityKind::StreamSocketListener,
            context: Vec::new(),
            settings: SocketSettings::default(),
            socket: OwnedFd::from(listener),
        };
        let listener = info.into_tcp_listener().unwrap();
        let err = listener.accept().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }

    #[test]
    fn transfer_error_gives_the_socket_back() {
        let e = TransferError::new(Error::invalid_data("x"), 7u8);
        assert_eq!(e.to_string(), "transfer_ownership failed: invalid data: x");
        assert_eq!(e.into_socket(), 7);
    }
}
