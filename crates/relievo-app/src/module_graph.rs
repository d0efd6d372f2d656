//! The app's modules import each other one way only: this test reads `src/*.rs`, builds
//! the graph of `super::…` / `crate::…` imports between them (the crate root, `lib.rs`,
//! is one node; its `mod` lines are not imports) and fails on any cycle, naming it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const ROOT: &str = "lib";

/// The source without comments and without the trailing `#[cfg(test)]` module (whose
/// `use super::*` means its own file).
fn code(source: &str) -> String {
    let source = source.split("\n#[cfg(test)]").next().unwrap_or_default();
    source
        .lines()
        .map(|line| match line.find("//") {
            Some(i) if !line[..i].contains('"') => &line[..i],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// First path segments after each `prefix` (`super::a`, `super::{a, b::c}`).
fn first_segments(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(group.split(',').filter_map(|part| {
                let name = part.trim().split("::").next()?.trim();
                (!name.is_empty()).then(|| name.to_string())
            }));
        } else {
            let name: String = rest.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

/// Edges module → modules it imports.
fn graph(dir: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut sources = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "rs") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            if name != "module_graph" {
                sources.insert(name, code(&std::fs::read_to_string(&path).expect("readable")));
            }
        }
    }
    let modules: BTreeSet<String> = sources.keys().filter(|m| *m != ROOT).cloned().collect();
    // Names the root imports from other crates (`crate::grid`, `crate::engine`, …).
    let root = &sources[ROOT];
    let foreign: BTreeSet<String> = first_segments(root, "relievo_core::")
        .into_iter()
        .chain(["engine".to_string()])
        .collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, code) in &sources {
        let targets = edges.entry(name.clone()).or_default();
        if name == ROOT {
            for module in &modules {
                let mentions = code
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("mod ") && !l.trim_start().starts_with("pub mod "))
                    .any(|l| {
                        l.match_indices(&format!("{module}::"))
                            .any(|(i, _)| !l[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_' || c == ':'))
                    });
                if mentions {
                    targets.insert(module.clone());
                }
            }
            continue;
        }
        for segment in first_segments(code, "super::")
            .into_iter()
            .chain(first_segments(code, "crate::"))
        {
            if modules.contains(&segment) {
                targets.insert(segment);
            } else if !foreign.contains(&segment) && segment != "self" {
                targets.insert(ROOT.to_string());
            }
        }
        targets.remove(name);
    }
    edges
}

/// A cycle through the graph, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in edges.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = stack.iter().position(|n| n == next).unwrap();
                    let mut cycle = stack[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, edges, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in edges.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0
            && let Some(c) = visit(node, edges, &mut state, &mut Vec::new())
        {
            return Some(c);
        }
    }
    None
}

#[test]
fn the_checker_finds_a_planted_cycle_and_reads_groups() {
    assert_eq!(
        first_segments("use super::{a, b::c, D};\nlet x = super::e::f();", "super::"),
        ["a", "b", "D", "e"]
    );
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&edges), None);
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(find_cycle(&edges).unwrap(), ["a", "b", "c", "a"]);
}

#[test]
fn module_imports_have_no_cycle() {
    let edges = graph(&Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo")).join("src"));
    assert!(edges.len() > 10, "the app's modules were not found: {edges:?}");
    // The panels draw from what they are given, not from the app struct.
    for panel in ["inspector", "training", "state", "settings", "commands"] {
        assert!(
            !edges[panel].contains(ROOT),
            "{panel} imports the app struct: {:?}",
            edges[panel]
        );
    }
    if let Some(cycle) = find_cycle(&edges) {
        panic!(
            "import cycle between the app's modules: {}\n{edges:#?}",
            cycle.join(" → ")
        );
    }
}
