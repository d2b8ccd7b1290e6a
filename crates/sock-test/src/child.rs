//! Running one test of the current test binary in a child process, for
//! tests that change process-wide state (descriptor limits, network
//! namespaces, inherited descriptors) or need a second process.

/// The name libtest gives the test `name` defined in `module` (pass
/// `module_path!()`): what a child process of this binary is asked to run
/// with `--exact`. The first segment of a module path is the crate, which
/// libtest leaves out.
pub fn test_path(module: &str, name: &str) -> String {
    match module.split_once("::") {
        Some((_, inside)) => format!("{inside}::{name}"),
        None => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crate_is_left_out_of_the_path() {
        assert_eq!(test_path("it::tcp_idle", "t"), "tcp_idle::t");
        assert_eq!(test_path("it", "t"), "t");
    }
}
