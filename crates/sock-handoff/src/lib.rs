//! Socket hand-off for sock: passing sockets between processes, a socket
//! broker, and adopting sockets from a service manager.
//!
//! This crate is being built; it exports nothing yet.
