//! The import graph of one crate's files, for the tidy check that no two
//! files import each other in a cycle.
//!
//! It reads source text, not the compiler's view: `use` statements and
//! paths starting with `crate::`, `super::` or a child module's name, with
//! names re-exported by the crate root traced to the module that defines
//! them. Unit-test modules (`#[cfg(test)]`) are left out: a test may use
//! anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Module path (`""` for the root, `"tls::client"`) → the modules it imports.
pub(crate) type Graph = BTreeMap<String, BTreeSet<String>>;

/// The module path of `file` inside `src`: `a/b.rs` and `a/b/mod.rs` are `a::b`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

fn rust_files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The text of `source` without its `#[cfg(test)]` items (a `mod tests { … }`
/// at the end of a file, or a `#[cfg(test)] mod x;` line).
fn without_tests(source: &str) -> String {
    let mut out = String::new();
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim() == "#[cfg(test)]" {
            // Skip the item that follows: to the matching brace, or one line.
            let mut depth = 0i32;
            for next in lines.by_ref() {
                depth += next.matches('{').count() as i32 - next.matches('}').count() as i32;
                if depth <= 0 && (next.contains('}') || next.trim_end().ends_with(';')) {
                    break;
                }
            }
            continue;
        }
        // Line comments (docs included) name paths without importing them.
        let code = line.split("//").next().unwrap_or("");
        out.push_str(code);
        out.push('\n');
    }
    out
}

/// Expands `a::{b, c::{d, e as f}}` into `["a::b", "a::c::d", "a::c::e"]`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let name = tree.split(" as ").next().unwrap_or(tree).trim();
        return vec![name.to_owned()];
    };
    let prefix = &tree[..open];
    let close = tree.rfind('}').filter(|&c| c > open).unwrap_or(tree.len());
    let inner = &tree[open + 1..close];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, ch) in inner.char_indices() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(expand)
        .map(|p| {
            if p == "self" {
                prefix.trim_end_matches("::").to_owned()
            } else {
                format!("{prefix}{p}")
            }
        })
        .collect()
}

/// The paths a file names: every `use` tree expanded, and every path in the
/// code that starts with `crate::` or `super::`.
fn paths_in(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut lines = code.lines();
    while let Some(line) = lines.next() {
        let item = line.trim_start();
        let item = item
            .strip_prefix("pub(crate) ")
            .or_else(|| item.strip_prefix("pub(super) "))
            .or_else(|| item.strip_prefix("pub "))
            .unwrap_or(item);
        let Some(tree) = item.strip_prefix("use ") else {
            continue;
        };
        let mut statement = tree.to_owned();
        while !statement.contains(';') {
            match lines.next() {
                Some(more) => statement.push_str(more),
                None => break,
            }
        }
        let end = statement.find(';').unwrap_or(statement.len());
        paths.extend(expand(&statement[..end]));
    }
    let flat = code.replace('\n', " ");
    for anchor in ["crate::", "super::"] {
        let mut rest = flat.as_str();
        while let Some(at) = rest.find(anchor) {
            let tail = &rest[at..];
            let end = tail
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(tail.len());
            paths.push(tail[..end].trim_end_matches(':').to_owned());
            rest = &rest[at + anchor.len()..];
        }
    }
    paths
}

/// The graph of the crate whose sources are in `src`.
pub(crate) fn crate_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files_under(src, &mut files);
    let modules: BTreeMap<String, String> = files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            (module_of(src, f), without_tests(&text))
        })
        .collect();
    // Names each module re-exports (`pub use child::Name`), and the module
    // that defines each.
    let mut reexports: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (module, code) in &modules {
        let names = reexports.entry(module.clone()).or_default();
        for path in paths_in(code) {
            let path = path.trim_start_matches("crate::");
            let path = match path.strip_prefix("self::") {
                Some(rest) => join(module, rest),
                None if module.is_empty() => path.to_owned(),
                None => join(module, path),
            };
            if let Some((from, name)) = path.rsplit_once("::") {
                if let Some(from) = longest_module(&modules, from).filter(|m| m != module) {
                    names.insert(name.to_owned(), from);
                }
            }
        }
    }
    let resolve = |path: &str| -> Option<String> {
        let module = longest_module(&modules, path)?;
        let rest = path
            .strip_prefix(module.as_str())
            .unwrap_or("")
            .trim_start_matches("::");
        let name = rest.split("::").next().unwrap_or("");
        Some(
            reexports
                .get(&module)
                .and_then(|names| names.get(name).or_else(|| names.get("*")))
                .cloned()
                .unwrap_or(module),
        )
    };
    let mut graph = Graph::new();
    for (module, code) in &modules {
        if module.is_empty() {
            continue;
        }
        let parent = module.rsplit_once("::").map_or("", |(p, _)| p);
        let mut targets = BTreeSet::new();
        for path in paths_in(code) {
            let absolute = if let Some(rest) = path.strip_prefix("crate::") {
                rest.to_owned()
            } else if let Some(rest) = path.strip_prefix("super::") {
                join(parent, rest)
            } else if let Some(rest) = path.strip_prefix("self::") {
                join(module, rest)
            } else {
                // A child module's name, used as a relative path.
                let child = join(module, &path);
                if longest_module(&modules, &child).is_some_and(|m| m != *module) {
                    child
                } else {
                    continue;
                }
            };
            let target = resolve(&absolute);
            if let Some(target) = target {
                // A parent declaring (and re-exporting) its children is
                // structure, not an import.
                let child = target.starts_with(&format!("{module}::"));
                if target != *module && !target.is_empty() && !child {
                    targets.insert(target);
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

fn join(base: &str, rest: &str) -> String {
    if base.is_empty() {
        rest.to_owned()
    } else {
        format!("{base}::{rest}")
    }
}

/// The longest prefix of `path` that is a module of the crate.
fn longest_module(modules: &BTreeMap<String, String>, path: &str) -> Option<String> {
    let mut candidate = path.to_owned();
    loop {
        if modules.contains_key(&candidate) {
            return Some(candidate);
        }
        match candidate.rsplit_once("::") {
            Some((head, _)) => candidate = head.to_owned(),
            None if modules.contains_key("") && !candidate.is_empty() => candidate.clear(),
            None => return None,
        }
    }
}

/// The cycles of `graph`: each strongly connected set of more than one module.
pub(crate) fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    // Two modules are in one cycle when each reaches the other.
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(node) = stack.pop() {
            for next in graph.get(&node).into_iter().flatten() {
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        seen
    };
    let reachable: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|m| (m, reach(m))).collect();
    let mut done = BTreeSet::new();
    let mut found = Vec::new();
    for module in graph.keys() {
        if done.contains(module) {
            continue;
        }
        let set: Vec<String> = graph
            .keys()
            .filter(|other| {
                *other == module
                    || (reachable[module].contains(*other) && reachable[*other].contains(module))
            })
            .cloned()
            .collect();
        done.extend(set.iter().cloned());
        if set.len() > 1 {
            found.push(set);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn use_trees_expand_to_paths() {
        assert_eq!(
            expand("crate::a::{b, c::{d, e as f}, self}"),
            [
                "crate::a::b",
                "crate::a::c::d",
                "crate::a::c::e",
                "crate::a"
            ]
        );
    }

    #[test]
    fn a_cycle_is_found_and_a_chain_is_not() {
        let graph: Graph = [
            ("a", &["b"][..]),
            ("b", &["c"][..]),
            ("c", &["a"][..]),
            ("d", &["a"][..]),
        ]
        .into_iter()
        .map(|(m, t)| (m.to_owned(), t.iter().map(|s| (*s).to_owned()).collect()))
        .collect();
        assert_eq!(cycles(&graph), vec![vec!["a", "b", "c"]]);
    }
}
