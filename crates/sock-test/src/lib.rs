//! Test support shared by the sock crates: scripted I/O, the fuzz targets'
//! bodies, test certificates, a DNS server, process limits, and running a test in a child
//! process. Not published; only tests, fuzz targets and
//! benches depend on it.

pub mod certs;
pub mod child;
#[cfg(feature = "dns")]
pub mod dns;
pub mod fuzz;
pub mod io;
pub mod limits;
