//! The shape of the code, checked: modules only use modules below them, a
//! feature's SQL stays in the feature, and no operation id is spelled out as
//! a string (the spec's facts come from types, not from patches by name).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every module of `src/`, from the bottom up: each may use only those before it.
const LAYERS: &[&str] = &[
    "telemetry",
    "config",
    "db",
    "error",
    "spec",
    "domain",
    "http",
    "idempotency",
    "ledger",
    "auth",
    "health",
    "metrics",
    "accounts",
    "movements",
    "transfers",
    "overview",
    "profile",
    "docs",
    "maintenance",
    "lambda",
];

/// The features: folders with one door, `mod.rs`.
const FEATURES: &[&str] = &[
    "auth",
    "health",
    "metrics",
    "accounts",
    "movements",
    "transfers",
    "overview",
    "profile",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for `lib.rs` and `main.rs`).
fn module_of(file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src()).unwrap();
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.trim_end_matches(".rs");
    (name != "lib" && name != "main").then(|| name.to_owned())
}

/// The top-level modules a file names through `crate::…`, grouped imports included.
fn uses(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // The heads of a group, nested groups skipped over by depth.
            let (mut depth, mut head, mut at_head) = (0, String::new(), true);
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => at_head = true,
                    c if at_head && (c.is_alphanumeric() || c == '_') => head.push(c),
                    _ if at_head && !head.is_empty() => {
                        found.insert(std::mem::take(&mut head));
                        at_head = false;
                    }
                    _ => {}
                }
            }
            if !head.is_empty() {
                found.insert(head);
            }
        } else {
            let head: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(head);
        }
    }
    found
}

fn files() -> Vec<(PathBuf, String)> {
    let mut paths = Vec::new();
    rust_files(&src(), &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            (p, text)
        })
        .collect()
}

#[test]
fn every_module_uses_only_modules_below_it() {
    let rank = |m: &str| LAYERS.iter().position(|l| *l == m);
    let mut wrong = Vec::new();
    for (path, text) in files() {
        let Some(module) = module_of(&path) else {
            continue;
        };
        let own = rank(&module).unwrap_or_else(|| panic!("{module} is not in LAYERS"));
        for used in uses(&text) {
            if used == module {
                continue;
            }
            match rank(&used) {
                Some(r) if r < own => {}
                Some(_) => wrong.push(format!(
                    "{}: {module} uses {used}, above it",
                    path.display()
                )),
                None => wrong.push(format!(
                    "{}: uses crate::{used}, not a module of LAYERS (the root?)",
                    path.display()
                )),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "arrows running back up:\n{}",
        wrong.join("\n")
    );
}

/// Whether a `prefix{…}` group in `text` names `name` at its top level.
fn group_names(text: &str, prefix: &str, name: &str) -> bool {
    text.match_indices(&format!("{prefix}{{"))
        .any(|(at, matched)| {
            let group = &text[at + matched.len()..];
            let end = group.find('}').unwrap_or(group.len());
            group[..end]
                .split(',')
                .any(|item| item.trim().split("::").next() == Some(name))
        })
}

/// Within a module's folder, the files that use each other (`super::x`,
/// `crate::module::x`) form no loop: each file can be read after the
/// siblings it uses.
#[test]
fn the_files_of_a_module_use_each_other_without_a_loop() {
    use std::collections::BTreeMap;
    let mut folders: BTreeMap<PathBuf, BTreeMap<String, String>> = BTreeMap::new();
    for (path, text) in files() {
        let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
        if stem != "mod" && path.parent() != Some(src().as_path()) {
            folders
                .entry(path.parent().unwrap().to_owned())
                .or_default()
                .insert(stem, text);
        }
    }
    assert!(folders.len() >= 8, "found the folders: {folders:?}");
    for (folder, siblings) in &folders {
        let module = folder.file_name().unwrap().to_str().unwrap();
        let edges: BTreeMap<&str, BTreeSet<&str>> = siblings
            .iter()
            .map(|(name, text)| {
                let used = siblings
                    .keys()
                    .filter(|other| *other != name)
                    .filter(|other| {
                        ["super::", &format!("crate::{module}::")]
                            .iter()
                            .any(|prefix| {
                                let path = format!("{prefix}{other}");
                                text.match_indices(&path).any(|(at, _)| {
                                    // `super::link::x`, `use super::link;`, `super::{link, …}` too.
                                    let next = text[at + path.len()..].chars().next();
                                    !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
                                }) || text.contains(&format!("{prefix}{{"))
                                    && group_names(text, prefix, other)
                            })
                    })
                    .map(String::as_str)
                    .collect();
                (name.as_str(), used)
            })
            .collect();
        // Kahn's algorithm: whatever cannot be ordered sits on a loop.
        let mut left = edges.clone();
        while let Some(free) = left
            .iter()
            .find(|(_, used)| used.iter().all(|u| !left.contains_key(u)))
            .map(|(name, _)| *name)
        {
            left.remove(free);
        }
        assert!(
            left.is_empty(),
            "{}: these files use each other in a loop: {left:?}",
            folder.display()
        );
    }
}

#[test]
fn no_feature_reaches_into_another_features_store() {
    let mut wrong = Vec::new();
    for (path, text) in files() {
        let module = module_of(&path).unwrap_or_default();
        for feature in FEATURES.iter().filter(|f| **f != module) {
            for needle in [format!("{feature}::store"), format!("{feature}::{{store")] {
                if text.contains(&needle) {
                    wrong.push(format!("{} uses {needle}", path.display()));
                }
            }
        }
        if FEATURES.contains(&module.as_str()) && path.ends_with("mod.rs") {
            assert!(
                !text.contains("pub mod store") && !text.contains("pub(crate) mod store"),
                "{}: a feature's store is private",
                path.display()
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_operation_id_is_spelled_out_in_src() {
    let files = files();
    let mut handlers = Vec::new();
    for (_, text) in &files {
        let mut rest = text.as_str();
        while let Some(i) = rest.find("#[openapi") {
            rest = &rest[i..];
            let f = rest.find("fn ").unwrap();
            let name: String = rest[f + 3..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            handlers.push(name);
            rest = &rest[f..];
        }
    }
    assert!(handlers.len() >= 16, "found the handlers: {handlers:?}");
    for name in &handlers {
        assert!(
            name.contains('_') && name == &name.to_lowercase(),
            "{name}: resource_action"
        );
        let quoted = format!("\"{name}\"");
        for (path, text) in &files {
            assert!(
                !text.contains(&quoted),
                "{} spells out the operation id {quoted}",
                path.display()
            );
        }
    }
}

#[test]
fn there_is_no_macro_export() {
    for (path, text) in files() {
        assert!(
            !text.contains("#[macro_export]"),
            "{}: exported macros live at the crate root, above everything",
            path.display()
        );
    }
}
