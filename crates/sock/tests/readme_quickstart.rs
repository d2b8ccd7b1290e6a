//! The README's quickstart is the crate documentation's, which runs as a doc
//! test: one source, checked here so the two cannot drift apart.

#[test]
fn readme_contains_the_tested_quickstart() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let quickstart =
        std::fs::read_to_string(dir.join("QUICKSTART.md")).expect("read QUICKSTART.md");
    let readme = std::fs::read_to_string(dir.join("../../README.md")).expect("read README.md");
    // Doc-test-only lines (`# ...`) are hidden in rustdoc and left out of the README.
    let shown: String = quickstart
        .lines()
        .filter(|line| !line.starts_with("# ") && *line != "#")
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(
        readme.contains(shown.trim()),
        "README.md must contain crates/sock/QUICKSTART.md (without its `# ` lines) verbatim:\n{shown}"
    );
}
