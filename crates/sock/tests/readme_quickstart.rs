//! The README's quickstart and WebSocket section are the crate
//! documentation's, which run as doc tests: one source, checked here so the
//! two cannot drift apart.

#[test]
fn readme_contains_the_tested_quickstart() {
    readme_contains("QUICKSTART.md");
}

#[test]
fn readme_contains_the_tested_websocket_section() {
    readme_contains("WEBSOCKET.md");
}

/// Checks that the README holds `file` (beside the facade's manifest).
fn readme_contains(file: &str) {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let quickstart = std::fs::read_to_string(dir.join(file)).expect("read the tested section");
    let readme = std::fs::read_to_string(dir.join("../../README.md")).expect("read README.md");
    // Doc-test-only lines (`# ...`) are hidden in rustdoc and left out of the README.
    let shown: String = quickstart
        .lines()
        .filter(|line| !line.starts_with("# ") && *line != "#")
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(
        readme.contains(shown.trim()),
        "README.md must contain crates/sock/{file} (without its `# ` lines) verbatim:\n{shown}"
    );
}
