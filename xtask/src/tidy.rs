//! Tidy checks, run as tests by `cargo test` (so by `cargo xtask test`): the
//! house rules that would otherwise hold by discipline alone.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::project_root;

/// The Rust files git tracks (or would: untracked but not ignored).
fn rust_files() -> Vec<PathBuf> {
    let root = project_root();
    let out = Command::new("git")
        .args([
            "ls-files",
            "--cached",
            "--others",
            "--exclude-standard",
            "*.rs",
        ])
        .current_dir(&root)
        .output()
        .expect("git runs");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| root.join(l))
        .filter(|p| p.is_file())
        .collect()
}

/// The Rust files whose text the content checks read: all but this one,
/// which names the patterns it looks for.
fn files_to_scan() -> Vec<PathBuf> {
    let this = project_root().join("xtask/src/tidy.rs");
    rust_files().into_iter().filter(|f| *f != this).collect()
}

fn relative(path: &Path) -> String {
    path.strip_prefix(project_root())
        .unwrap_or(path)
        .display()
        .to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Fails listing `problems`, if any.
fn report(rule: &str, problems: &[String]) {
    assert!(problems.is_empty(), "{rule}:\n  {}", problems.join("\n  "));
}

#[test]
fn every_file_opens_with_a_module_doc() {
    let files = rust_files();
    assert!(files.len() > 50, "only {} Rust files found", files.len());
    let problems: Vec<String> = files
        .iter()
        .filter(|f| {
            let text = read(f);
            let first = text.lines().find(|l| !l.trim().is_empty());
            !first.is_some_and(|l| l.starts_with("//!"))
        })
        .map(|f| relative(f))
        .collect();
    report("files that do not open with a `//!` module doc", &problems);
}

#[test]
fn every_unsafe_block_and_impl_says_why_it_is_sound() {
    let mut problems = Vec::new();
    for file in files_to_scan() {
        let text = read(&file);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") || !code.contains("unsafe") {
                continue;
            }
            let before = lines[i.saturating_sub(8)..i].join("\n");
            let unsafe_fn = code.contains("unsafe fn ");
            let block_or_impl = code.contains("unsafe {") || code.contains("unsafe impl");
            let explained = if unsafe_fn {
                before.contains("# Safety")
            } else {
                before.contains("SAFETY") || line.contains("SAFETY")
            };
            if (unsafe_fn || block_or_impl) && !explained {
                problems.push(format!("{}:{}: {}", relative(&file), i + 1, code));
            }
        }
    }
    report(
        "`unsafe` without a `// SAFETY:` comment (blocks, impls) or a `# Safety` doc (fns) just above",
        &problems,
    );
}

#[test]
fn docs_cite_only_files_in_the_repository() {
    // Files of the project's design notes, which live outside the
    // repository, and the internal word for the guide the project follows
    // (public text names it: UWP's sockets guide).
    const OUTSIDE: &[&str] = &[
        "DESIGN.md",
        "uwp-api.md",
        "user-asks.md",
        "style-anchors.md",
        "the seed",
        "seed's",
    ];
    let mut problems = Vec::new();
    let mut files = files_to_scan();
    files.push(project_root().join("README.md"));
    files.push(project_root().join("ARCHITECTURE.md"));
    files.push(project_root().join("crates/sock/QUICKSTART.md"));
    for file in files {
        for (i, line) in read(&file).lines().enumerate() {
            let lower = line.to_lowercase();
            if let Some(name) = OUTSIDE
                .iter()
                .find(|name| lower.contains(&name.to_lowercase()))
            {
                problems.push(format!("{}:{}: cites {name}", relative(&file), i + 1));
            }
        }
    }
    report(
        "docs citing files outside the repository, or internal words",
        &problems,
    );
}

#[test]
fn platform_conditions_in_library_code_live_in_sys() {
    let problems: Vec<String> = rust_files()
        .iter()
        .filter(|f| {
            let rel = relative(f);
            rel.starts_with("crates/")
                && rel.contains("/src/")
                && !rel.contains("/sys/")
                && !rel.ends_with("/sys.rs")
        })
        .flat_map(|f| {
            read(f)
                .lines()
                .enumerate()
                .filter(|(_, l)| l.contains("cfg(target_os") || l.contains("cfg(not(target_os"))
                .map(|(i, l)| format!("{}:{}: {}", relative(f), i + 1, l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    report("`target_os` conditions outside `sys/`", &problems);
}

#[test]
fn every_public_async_fn_documents_its_cancel_safety() {
    let mut problems = Vec::new();
    for file in files_to_scan() {
        let rel = relative(&file);
        if !(rel.starts_with("crates/") && rel.contains("/src/")) {
            continue;
        }
        let text = read(&file);
        let lines: Vec<&str> = text.lines().collect();
        for (i, line) in lines.iter().enumerate() {
            let code = line.trim_start();
            let returns_future =
                code.starts_with("pub fn ") && code.contains("-> impl") && code.contains("Future");
            if !(code.starts_with("pub async fn ") || returns_future) {
                continue;
            }
            let doc = lines[..i]
                .iter()
                .rev()
                .take_while(|l| {
                    let l = l.trim_start();
                    l.starts_with("///") || l.starts_with("#[")
                })
                .any(|l| l.contains("# Cancel safety"));
            if !doc {
                problems.push(format!("{rel}:{}: {code}", i + 1));
            }
        }
    }
    report(
        "public async fns (or fns returning a future) without a `# Cancel safety` doc section",
        &problems,
    );
}

#[test]
fn no_files_of_a_crate_import_each_other_in_a_cycle() {
    let mut problems = Vec::new();
    let crates = std::fs::read_dir(project_root().join("crates")).expect("crates/ exists");
    for dir in crates.flatten() {
        let graph = crate::module_graph::crate_graph(&dir.path().join("src"));
        for cycle in crate::module_graph::cycles(&graph) {
            let edges: Vec<String> = cycle
                .iter()
                .map(|m| {
                    let inside: Vec<&str> = graph[m]
                        .iter()
                        .filter(|t| cycle.contains(t))
                        .map(String::as_str)
                        .collect();
                    format!("{m} -> {}", inside.join(", "))
                })
                .collect();
            problems.push(format!(
                "{}: {}",
                dir.file_name().to_string_lossy(),
                edges.join("; ")
            ));
        }
    }
    report("modules that import each other in a cycle", &problems);
}

#[test]
fn every_workspace_dependency_is_used_by_a_member() {
    let root = read(&project_root().join("Cargo.toml"));
    let section = root
        .split("[workspace.dependencies]")
        .nth(1)
        .expect("the root manifest has [workspace.dependencies]");
    let section = section.split("\n[").next().unwrap_or(section);
    let declared: Vec<&str> = section
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split([' ', '=']).next())
        .collect();
    let manifests: Vec<String> = rust_files()
        .iter()
        .filter_map(|f| f.parent())
        .flat_map(|dir| dir.ancestors())
        .map(|dir| dir.join("Cargo.toml"))
        .filter(|m| m.is_file() && *m != project_root().join("Cargo.toml"))
        .map(|m| read(&m))
        .collect();
    let problems: Vec<String> = declared
        .into_iter()
        .filter(|dep| {
            !manifests.iter().any(|m| {
                m.lines().any(|l| {
                    let l = l.trim_start();
                    l.starts_with(&format!("{dep}.workspace"))
                        || l.starts_with(&format!("{dep} = {{ workspace"))
                })
            })
        })
        .map(str::to_owned)
        .collect();
    report(
        "workspace dependencies that no member uses (drop them from the root Cargo.toml)",
        &problems,
    );
}
