//! House rules checked as tests: every source file says what it is for; no debug leftovers; no
//! import cycles between the top-level modules of `src/`.

use std::path::Path;

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_starts_with_a_module_doc_and_has_no_debug_leftovers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    assert!(files.len() > 20, "found only {} files", files.len());
    let debug_macro = ["dbg", "!("].concat();
    let todo_macro = ["todo", "!("].concat();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.starts_with("//!"),
            "{} must start with a //! module doc",
            file.display()
        );
        assert!(
            !text.contains(&debug_macro),
            "{} contains a debug macro",
            file.display()
        );
        assert!(!text.contains(&todo_macro), "{} contains a todo macro", file.display());
    }
}

/// The top-level modules of `src/` (folders and files, without `lib` and `main`).
fn top_level_modules(src: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(src)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter_map(|path| {
            let stem = path.file_stem()?.to_str()?.to_owned();
            (path.is_dir() || path.extension().is_some_and(|e| e == "rs")).then_some(stem)
        })
        .filter(|name| name != "lib" && name != "main")
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The top-level modules a text names through `crate::` paths (`crate::a::…`, and each name
/// of a `crate::{a, b}` group).
fn crate_paths_named(text: &str) -> Vec<&str> {
    let ident_end = |s: &str| s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    let mut names = Vec::new();
    for (at, _) in text.match_indices("crate::") {
        let rest = &text[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let item = item.trim();
                names.push(&item[..ident_end(item)]);
            }
        } else {
            names.push(&rest[..ident_end(rest)]);
        }
    }
    names
}

#[test]
fn top_level_modules_import_each_other_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let modules = top_level_modules(&src);
    assert!(modules.len() > 10, "found only {modules:?}");
    let mut edges: std::collections::BTreeMap<&str, std::collections::BTreeSet<&str>> = Default::default();
    for module in &modules {
        let mut files = Vec::new();
        let dir = src.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        let targets = edges.entry(module.as_str()).or_default();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for name in crate_paths_named(&text) {
                if let Some(target) = modules.iter().find(|m| m.as_str() == name && m.as_str() != module) {
                    targets.insert(target.as_str());
                }
            }
        }
    }
    // Depth-first search; a module met again while still on the path closes a cycle.
    fn visit<'a>(
        module: &'a str,
        edges: &std::collections::BTreeMap<&'a str, std::collections::BTreeSet<&'a str>>,
        path: &mut Vec<&'a str>,
        done: &mut std::collections::BTreeSet<&'a str>,
    ) {
        if done.contains(module) {
            return;
        }
        if let Some(start) = path.iter().position(|m| *m == module) {
            panic!("import cycle: {} -> {module}", path[start..].join(" -> "));
        }
        path.push(module);
        for target in edges.get(module).into_iter().flatten() {
            visit(target, edges, path, done);
        }
        path.pop();
        done.insert(module);
    }
    let mut done = std::collections::BTreeSet::new();
    for module in edges.keys() {
        visit(module, &edges, &mut Vec::new(), &mut done);
    }
}
