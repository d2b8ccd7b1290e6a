//! Handing TCP sockets to another process and adopting them back.
//!
//! Being built; nothing here yet.
