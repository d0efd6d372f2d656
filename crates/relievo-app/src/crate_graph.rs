//! A test that the app reaches no burn: it walks the app's manifest (dependencies and
//! dev-dependencies, what `cargo tree -p relievo-app` lists) and, through every workspace
//! crate it names, their dependencies, and fails if burn or a crate built on it (the network,
//! training) is among them. The app talks to the network only through `relievo-engine`'s
//! `Engine` trait, which the binary and the tests fill with burn's.

use std::collections::BTreeSet;
use std::path::Path;

/// Crates the app must not depend on, directly or through a workspace crate.
const FORBIDDEN: [&str; 3] = ["burn", "relievo-net", "relievo-train"];

/// Names of the dependencies in the `[dependencies]` (and, with `dev`, `[dev-dependencies]`)
/// tables of a Cargo manifest: the key before `=` or `.workspace`.
fn dependency_names(manifest: &str, dev: bool) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_table = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_table = line == "[dependencies]" || (dev && line == "[dev-dependencies]");
            continue;
        }
        if in_table && !line.is_empty() && !line.starts_with('#') {
            let key = line.split(['=', '.']).next().unwrap_or_default().trim();
            names.push(key.trim_matches('"').to_string());
        }
    }
    names
}

/// Every crate reachable from the app's manifest through workspace crates (`crates/<name>`).
fn reachable() -> BTreeSet<String> {
    let crates = Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo")).join("..");
    let read = |name: &str| std::fs::read_to_string(crates.join(name).join("Cargo.toml")).ok();
    let mut seen = BTreeSet::new();
    let mut todo = dependency_names(&read("relievo-app").expect("the app's manifest"), true);
    while let Some(name) = todo.pop() {
        if seen.insert(name.clone())
            && let Some(manifest) = read(&name)
        {
            todo.extend(dependency_names(&manifest, false));
        }
    }
    seen
}

#[test]
fn the_manifest_reader_finds_burn_where_it_is() {
    // The walk must be able to fail: the network's own manifest names burn.
    let net = std::fs::read_to_string(
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo")).join("../relievo-net/Cargo.toml"),
    )
    .expect("the network's manifest");
    assert!(dependency_names(&net, false).iter().any(|d| d == "burn"));
    let sample = "[package]\nname = \"x\"\n[dependencies]\nburn = { version = \"1\" }\nserde.workspace = true\n[dev-dependencies]\nrelievo-train.workspace = true\n";
    assert_eq!(dependency_names(sample, false), ["burn", "serde"]);
    assert_eq!(dependency_names(sample, true), ["burn", "serde", "relievo-train"]);
}

#[test]
fn the_app_reaches_no_burn() {
    let reachable = reachable();
    assert!(
        reachable.contains("relievo-engine") && reachable.contains("egui"),
        "{reachable:?}"
    );
    let found: Vec<&str> = FORBIDDEN.into_iter().filter(|f| reachable.contains(*f)).collect();
    assert!(
        found.is_empty(),
        "the app depends on {found:?} (all it reaches: {reachable:?})"
    );
}
