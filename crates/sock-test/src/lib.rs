//! Test support shared by the sock crates: scripted I/O, the fuzz targets'
//! bodies, and process limits. Not published; only tests, fuzz targets and
//! benches depend on it.

pub mod fuzz;
pub mod io;
pub mod limits;
