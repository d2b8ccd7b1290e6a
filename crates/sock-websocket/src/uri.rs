//! WebSocket URIs (RFC 6455 section 3): `ws://` and `wss://`, their host,
//! port and resource, and the `Host` header they make.

use sock_core::HostName;

use crate::{Result, WebSocketError};

/// A parsed `ws://` or `wss://` URI.
#[derive(Debug, Clone)]
pub(crate) struct WsUri {
    /// `wss://`.
    pub(crate) secure: bool,
    /// The host to connect to.
    pub(crate) host: HostName,
    /// The port: the URI's, or 80 / 443.
    pub(crate) port: u16,
    /// The path and query to request (`/` when the URI has no path).
    pub(crate) resource: String,
    /// The `Host` header: the host as written, and the port when it is not
    /// the scheme's default.
    pub(crate) host_header: String,
}

impl WsUri {
    /// Parses `uri`; the scheme is case-insensitive, a fragment is refused
    /// (section 3), and so is user information (credentials go in
    /// `server_credential`, never in the URI).
    pub(crate) fn parse(uri: &str) -> Result<Self> {
        let bad = |reason: &str| WebSocketError::InvalidUri {
            uri: uri.to_owned(),
            reason: reason.to_owned(),
        };
        let (scheme, rest) = uri
            .split_once("://")
            .ok_or_else(|| bad("no scheme: it starts with ws:// or wss://"))?;
        let secure = if scheme.eq_ignore_ascii_case("ws") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") {
            true
        } else {
            return Err(bad("the scheme is neither ws nor wss"));
        };
        if rest.contains('#') {
            return Err(bad("a websocket uri has no fragment (rfc 6455 3)"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if authority.contains('@') {
            return Err(bad(
                "user information in the uri: set server_credential instead",
            ));
        }
        let (host_text, port_text) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("an IPv6 address without its closing ']'"))?;
            let port = match after {
                "" => None,
                p => Some(
                    p.strip_prefix(':')
                        .ok_or_else(|| bad("text after the IPv6 address"))?,
                ),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host_text.is_empty() {
            return Err(bad("no host"));
        }
        let default_port = if secure { 443 } else { 80 };
        let port = match port_text {
            None | Some("") => default_port,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
        };
        let host = HostName::new(host_text).map_err(|e| bad(&e.to_string()))?;
        let shown_host = if host_text.contains(':') {
            format!("[{host_text}]")
        } else {
            host_text.to_owned()
        };
        let host_header = if port == default_port {
            shown_host
        } else {
            format!("{shown_host}:{port}")
        };
        let resource = match resource {
            "" => "/".to_owned(),
            r if r.starts_with('?') => format!("/{r}"),
            r => r.to_owned(),
        };
        if resource.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(bad("spaces or control characters in the path"));
        }
        Ok(Self {
            secure,
            host,
            port,
            resource,
            host_header,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_give_host_port_resource_and_host_header() {
        let u = WsUri::parse("ws://example.com/chat?x=1").unwrap();
        assert!(!u.secure);
        assert_eq!((u.port, u.resource.as_str()), (80, "/chat?x=1"));
        assert_eq!(u.host_header, "example.com");

        let u = WsUri::parse("WSS://[::1]:8443").unwrap();
        assert!(u.secure);
        assert_eq!((u.port, u.resource.as_str()), (8443, "/"));
        assert_eq!(u.host_header, "[::1]:8443");

        let u = WsUri::parse("ws://127.0.0.1:9000?q").unwrap();
        assert_eq!(u.resource, "/?q");
        assert_eq!(u.host_header, "127.0.0.1:9000");
    }

    #[test]
    fn unusable_uris_say_why() {
        for (uri, reason) in [
            ("http://example.com/", "neither ws nor wss"),
            ("example.com", "no scheme"),
            ("ws://example.com/#top", "fragment"),
            ("ws://user:pw@example.com/", "server_credential"),
            ("ws://example.com:0/", "port"),
            ("ws://example.com:99999/", "port"),
            ("ws:///path", "no host"),
            ("ws://[::1/", "closing"),
        ] {
            let err = WsUri::parse(uri).unwrap_err();
            assert!(err.to_string().contains(reason), "{uri}: {err}");
        }
    }
}
