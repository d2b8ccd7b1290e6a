//! `ProtectionLevel`: UWP's `SocketProtectionLevel`, and what each level means here.

use std::fmt;

use crate::{Error, Result};

/// A TLS protocol version this library will negotiate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246).
    Tls12,
    /// TLS 1.3 (RFC 8446).
    Tls13,
}

impl fmt::Display for TlsVersion {
    /// `TLS 1.2`, `TLS 1.3`, as protocol tools print them.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Tls12 => "TLS 1.2",
            Self::Tls13 => "TLS 1.3",
        })
    }
}

/// How a stream socket is protected, as UWP's `SocketProtectionLevel` plus
/// [`Tls13`](Self::Tls13).
///
/// What each level means here:
///
/// | level | negotiates |
/// |---|---|
/// | `PlainSocket` | no TLS |
/// | `Tls12` | TLS 1.2 only |
/// | `Tls13` | TLS 1.3 only |
/// | `Ssl`, `Unspecified` | the best available: TLS 1.3 or TLS 1.2 |
/// | `SslAllowNullEncryption`, `Ssl3AllowWeakEncryption`, `Tls10`, `Tls11` | refused: [`Error::Unsupported`] |
/// | `BluetoothEncryptionAllowNullAuthentication`, `BluetoothEncryptionWithAuthentication` | refused: [`Error::Unsupported`] |
///
/// UWP's `TlsNN` values are ceilings that still allow TLS 1.0; here a level never
/// allows anything older than TLS 1.2 and is never silently raised or lowered: a
/// level that would need SSL 3, TLS 1.0/1.1 or a NULL cipher is an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProtectionLevel {
    /// No encryption.
    #[default]
    PlainSocket = 0,
    /// In UWP, SSL 3.0/TLS 1.0; here, the best available TLS (1.3 or 1.2).
    Ssl = 1,
    /// SSL 3.0/TLS 1.0 allowing NULL ciphers: refused.
    SslAllowNullEncryption = 2,
    /// Bluetooth RFCOMM, NULL authentication allowed: refused (no Bluetooth here).
    BluetoothEncryptionAllowNullAuthentication = 3,
    /// Bluetooth RFCOMM with authentication: refused (no Bluetooth here).
    BluetoothEncryptionWithAuthentication = 4,
    /// SSL 3.0 with weak ciphers: refused.
    Ssl3AllowWeakEncryption = 5,
    /// TLS 1.0: refused.
    Tls10 = 6,
    /// TLS 1.1: refused.
    Tls11 = 7,
    /// TLS 1.2 only.
    Tls12 = 8,
    /// No constraint: the best available TLS (1.3 or 1.2).
    Unspecified = 9,
    /// TLS 1.3 only (not in UWP).
    Tls13 = 10,
}

impl ProtectionLevel {
    /// The TLS versions this level allows, best first; empty for `PlainSocket`.
    ///
    /// # Errors
    ///
    /// [`Error::Unsupported`] for the levels that need SSL 3, TLS 1.0/1.1, a NULL
    /// cipher or Bluetooth, saying why.
    pub fn tls_versions(self) -> Result<&'static [TlsVersion]> {
        const BEST: &[TlsVersion] = &[TlsVersion::Tls13, TlsVersion::Tls12];
        match self {
            Self::PlainSocket => Ok(&[]),
            Self::Tls12 => Ok(&[TlsVersion::Tls12]),
            Self::Tls13 => Ok(&[TlsVersion::Tls13]),
            Self::Ssl | Self::Unspecified => Ok(BEST),
            Self::SslAllowNullEncryption => Err(self.refuse(
                "it allows SSL 3.0 and NULL (unencrypted) ciphers; use Tls12, Tls13 or Ssl (best available)",
            )),
            Self::Ssl3AllowWeakEncryption => Err(self.refuse(
                "SSL 3.0 and weak ciphers are broken; use Tls12, Tls13 or Ssl (best available)",
            )),
            Self::Tls10 | Self::Tls11 => Err(self.refuse(
                "TLS 1.0 and 1.1 are deprecated (RFC 8996); use Tls12, Tls13 or Ssl (best available)",
            )),
            Self::BluetoothEncryptionAllowNullAuthentication
            | Self::BluetoothEncryptionWithAuthentication => Err(self.refuse(
                "Bluetooth RFCOMM sockets are not provided by this library",
            )),
        }
    }

    /// Whether this level asks for TLS (true for every level but `PlainSocket`,
    /// including the refused ones).
    pub fn is_encrypted(self) -> bool {
        self != Self::PlainSocket
    }

    /// The UWP number of this level (`Tls13` is 10, which UWP does not have).
    pub const fn code(self) -> u8 {
        self as u8
    }

    fn refuse(self, reason: &str) -> Error {
        Error::unsupported(format!("protection level {self}"), reason)
    }
}

impl fmt::Display for ProtectionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SocketErrorStatus;

    #[test]
    fn supported_levels_map_to_versions() {
        assert_eq!(ProtectionLevel::PlainSocket.tls_versions().unwrap(), &[]);
        assert_eq!(
            ProtectionLevel::Tls12.tls_versions().unwrap(),
            &[TlsVersion::Tls12]
        );
        assert_eq!(
            ProtectionLevel::Tls13.tls_versions().unwrap(),
            &[TlsVersion::Tls13]
        );
        for best in [ProtectionLevel::Ssl, ProtectionLevel::Unspecified] {
            assert_eq!(
                best.tls_versions().unwrap(),
                &[TlsVersion::Tls13, TlsVersion::Tls12]
            );
        }
    }

    #[test]
    fn weak_and_bluetooth_levels_are_unsupported_with_a_reason() {
        for level in [
            ProtectionLevel::SslAllowNullEncryption,
            ProtectionLevel::Ssl3AllowWeakEncryption,
            ProtectionLevel::Tls10,
            ProtectionLevel::Tls11,
            ProtectionLevel::BluetoothEncryptionAllowNullAuthentication,
            ProtectionLevel::BluetoothEncryptionWithAuthentication,
        ] {
            let err = level.tls_versions().unwrap_err();
            assert!(matches!(err, Error::Unsupported { .. }), "{level}");
            assert!(err.to_string().contains(&level.to_string()), "{err}");
            assert!(err.is_invalid_input());
            assert_eq!(err.status(), SocketErrorStatus::Unknown);
        }
    }

    #[test]
    fn codes_are_uwp_numbers() {
        assert_eq!(ProtectionLevel::PlainSocket.code(), 0);
        assert_eq!(ProtectionLevel::Tls12.code(), 8);
        assert_eq!(ProtectionLevel::Unspecified.code(), 9);
    }
}
