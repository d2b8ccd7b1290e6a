//! `WebErrorStatus`: UWP's classification of web failures, with the HTTP
//! status of a refused upgrade.

use std::fmt;

use sock_core::SocketErrorStatus;

/// Why a WebSocket operation failed, as UWP's `Windows.Web.WebErrorStatus`
/// (same names, same numbers): the HTTP status of a refused upgrade
/// (`Unauthorized` = 401, `NotFound` = 404, …), or a connection-level
/// reason (`Timeout`, `CannotConnect`, certificate problems).
///
/// Made by [`WebSocketError::web_status`](crate::WebSocketError::web_status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u16)]
#[allow(missing_docs)] // The names are UWP's and say what they are.
pub enum WebErrorStatus {
    /// Nothing more specific is known.
    Unknown = 0,
    CertificateCommonNameIsIncorrect = 1,
    CertificateExpired = 2,
    CertificateContainsErrors = 3,
    CertificateRevoked = 4,
    CertificateIsInvalid = 5,
    ServerUnreachable = 6,
    Timeout = 7,
    ErrorHttpInvalidServerResponse = 8,
    ConnectionAborted = 9,
    ConnectionReset = 10,
    Disconnected = 11,
    HttpToHttpsOnRedirection = 12,
    HttpsToHttpOnRedirection = 13,
    CannotConnect = 14,
    HostNameNotResolved = 15,
    OperationCanceled = 16,
    RedirectFailed = 17,
    /// An HTTP status with no name of its own here.
    UnexpectedStatusCode = 18,
    UnexpectedRedirection = 19,
    UnexpectedClientError = 20,
    UnexpectedServerError = 21,
    InsufficientRangeSupport = 22,
    MissingContentLengthSupport = 23,
    MultipleChoices = 300,
    MovedPermanently = 301,
    Found = 302,
    SeeOther = 303,
    NotModified = 304,
    UseProxy = 305,
    TemporaryRedirect = 307,
    PermanentRedirect = 308,
    BadRequest = 400,
    Unauthorized = 401,
    PaymentRequired = 402,
    Forbidden = 403,
    NotFound = 404,
    MethodNotAllowed = 405,
    NotAcceptable = 406,
    ProxyAuthenticationRequired = 407,
    RequestTimeout = 408,
    Conflict = 409,
    Gone = 410,
    LengthRequired = 411,
    PreconditionFailed = 412,
    RequestEntityTooLarge = 413,
    RequestUriTooLong = 414,
    UnsupportedMediaType = 415,
    RequestedRangeNotSatisfiable = 416,
    ExpectationFailed = 417,
    InternalServerError = 500,
    NotImplemented = 501,
    BadGateway = 502,
    ServiceUnavailable = 503,
    GatewayTimeout = 504,
    HttpVersionNotSupported = 505,
}

impl WebErrorStatus {
    /// UWP's number for this status (the HTTP status for the HTTP ones).
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The status for an HTTP response status: its own name when UWP has
    /// one, else `UnexpectedRedirection` (3xx), `UnexpectedClientError`
    /// (4xx), `UnexpectedServerError` (5xx) or `UnexpectedStatusCode`.
    pub fn from_http_status(status: u16) -> Self {
        if let Some(named) = Self::HTTP.iter().find(|s| s.code() == status) {
            return *named;
        }
        match status {
            300..=399 => Self::UnexpectedRedirection,
            400..=499 => Self::UnexpectedClientError,
            500..=599 => Self::UnexpectedServerError,
            _ => Self::UnexpectedStatusCode,
        }
    }

    /// The statuses named after an HTTP status.
    const HTTP: &'static [Self] = &[
        Self::MultipleChoices,
        Self::MovedPermanently,
        Self::Found,
        Self::SeeOther,
        Self::NotModified,
        Self::UseProxy,
        Self::TemporaryRedirect,
        Self::PermanentRedirect,
        Self::BadRequest,
        Self::Unauthorized,
        Self::PaymentRequired,
        Self::Forbidden,
        Self::NotFound,
        Self::MethodNotAllowed,
        Self::NotAcceptable,
        Self::ProxyAuthenticationRequired,
        Self::RequestTimeout,
        Self::Conflict,
        Self::Gone,
        Self::LengthRequired,
        Self::PreconditionFailed,
        Self::RequestEntityTooLarge,
        Self::RequestUriTooLong,
        Self::UnsupportedMediaType,
        Self::RequestedRangeNotSatisfiable,
        Self::ExpectationFailed,
        Self::InternalServerError,
        Self::NotImplemented,
        Self::BadGateway,
        Self::ServiceUnavailable,
        Self::GatewayTimeout,
        Self::HttpVersionNotSupported,
    ];

    /// The web status of a connection-level failure, from its socket status:
    /// an unresolved name, a refused or unreachable server, a reset, a
    /// timeout, a cancellation, a certificate problem.
    pub fn from_socket_status(status: SocketErrorStatus) -> Self {
        use SocketErrorStatus as S;
        match status {
            S::HostNotFound | S::NoDataRecordOfRequestedType | S::NonAuthoritativeHostNotFound => {
                Self::HostNameNotResolved
            }
            S::NoAddressesFound => Self::HostNameNotResolved,
            S::ConnectionRefused => Self::CannotConnect,
            S::NetworkIsUnreachable | S::UnreachableHost | S::NetworkIsDown | S::HostIsDown => {
                Self::ServerUnreachable
            }
            S::ConnectionTimedOut => Self::Timeout,
            S::ConnectionResetByPeer | S::NetworkDroppedConnectionOnReset => Self::ConnectionReset,
            S::SoftwareCausedConnectionAbort => Self::ConnectionAborted,
            S::OperationAborted => Self::OperationCanceled,
            S::HttpInvalidServerResponse => Self::ErrorHttpInvalidServerResponse,
            S::CertificateExpired => Self::CertificateExpired,
            S::CertificateCommonNameIsIncorrect => Self::CertificateCommonNameIsIncorrect,
            S::CertificateRevoked => Self::CertificateRevoked,
            S::CertificateIsInvalid => Self::CertificateIsInvalid,
            s if s.is_certificate_error() => Self::CertificateContainsErrors,
            _ => Self::Unknown,
        }
    }
}

impl fmt::Display for WebErrorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?} ({})", self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_keep_their_numbers() {
        for code in [301, 401, 403, 404, 417, 500, 505] {
            assert_eq!(WebErrorStatus::from_http_status(code).code(), code);
        }
        assert_eq!(
            WebErrorStatus::from_http_status(426),
            WebErrorStatus::UnexpectedClientError
        );
        assert_eq!(
            WebErrorStatus::from_http_status(200),
            WebErrorStatus::UnexpectedStatusCode
        );
    }

    #[test]
    fn socket_statuses_map_to_their_web_meaning() {
        assert_eq!(
            WebErrorStatus::from_socket_status(SocketErrorStatus::ConnectionRefused),
            WebErrorStatus::CannotConnect
        );
        assert_eq!(
            WebErrorStatus::from_socket_status(SocketErrorStatus::CertificateUntrustedRoot),
            WebErrorStatus::CertificateContainsErrors
        );
    }
}
