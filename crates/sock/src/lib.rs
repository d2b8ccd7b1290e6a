//! Async sockets with the whole UWP `Windows.Networking.Sockets` feature set, on tokio.
//!
//! Today this facade re-exports [`sock_core`]; the transport crates join it as
//! they land.

pub use sock_core as core;
pub use sock_core::{
    ByteOrder, EndpointPair, Error, HostName, HostNameType, ProtectionLevel, QualityOfService,
    Result, ServiceName, SocketErrorStatus, UnicodeEncoding,
};
