//! The architecture, checked (ARCHITECTURE.md): imports flow one way, web → workflow → store →
//! domain; no two source files import each other, directly or through a loop; the store is the
//! only place with SQL; the web layer makes no database call.
//!
//! The checks read the source as text: `use` trees and `crate::`/`super::`/child-module paths
//! are resolved to the file of the longest module prefix that exists. Test modules
//! (`#[cfg(test)]` and after) are left out: they may reach into anything.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `src`, as paths relative to it (`web/ctx.rs`).
fn files() -> BTreeSet<String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeSet<String>) {
        for e in std::fs::read_dir(dir).expect("reading src").flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, base, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let rel = p.strip_prefix(base).expect("under src");
                out.insert(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(&src(), &src(), &mut out);
    out
}

/// The code of a file without comments, string and char literals and its test module.
fn code(file: &str) -> String {
    let text = std::fs::read_to_string(src().join(file)).expect("reading a source file");
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    let b: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == '/' && b.get(i + 1) == Some(&'/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == 'r'
            && matches!(b.get(i + 1), Some('#') | Some('"'))
            && !ident(b.get(i.wrapping_sub(1)))
        {
            // Raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != '"' {
                j += if b[j] == '\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = j + 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\u{..}'); a lifetime has no closing quote nearby.
            let close = if b.get(i + 1) == Some(&'\\') {
                (i + 2..(i + 12).min(b.len())).find(|&k| b[k] == '\'')
            } else if b.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match close {
                Some(k) => {
                    out.push_str("' '");
                    i = k + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// The module path of a file: `web/ctx.rs` → [web, ctx]; `web/mod.rs` → [web]; `lib.rs` → [].
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(String::from)
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// The file that defines module `path`, if any.
fn file_of(files: &BTreeSet<String>, path: &[String]) -> Option<String> {
    if path.is_empty() {
        return Some("lib.rs".into());
    }
    let joined = path.join("/");
    [format!("{joined}.rs"), format!("{joined}/mod.rs")]
        .into_iter()
        .find(|f| files.contains(f))
}

/// The file of the longest prefix of `path` that is a module.
fn resolve(files: &BTreeSet<String>, path: &[String]) -> Option<String> {
    (0..=path.len())
        .rev()
        .find_map(|n| file_of(files, &path[..n]))
}

/// `a::b::{c, d::{e, f}}` → [a::b::c, a::b::d::e, a::b::d::f].
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.len().saturating_sub(1)];
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut cur = String::new();
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if c == ',' && depth == 0 {
            parts.push(std::mem::take(&mut cur));
        } else {
            cur.push(c);
        }
    }
    parts.push(cur);
    parts
        .into_iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| {
            expand(&p)
                .into_iter()
                .map(|e| format!("{prefix}{e}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Every path a file names: its `use` trees and the `x::y` paths in its code.
fn paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("use ") {
        let before = rest[..at].chars().last();
        let tail = &rest[at + 4..];
        if !ident(before.as_ref()) {
            if let Some(end) = tail.find(';') {
                out.extend(expand(&tail[..end]));
            }
        }
        rest = tail;
    }
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if (chars[i].is_alphabetic() || chars[i] == '_')
            && !ident(i.checked_sub(1).map(|k| &chars[k]))
        {
            let start = i;
            while i < chars.len()
                && (ident(Some(&chars[i])) || (chars[i] == ':' && chars.get(i + 1) == Some(&':')))
            {
                i += if chars[i] == ':' { 2 } else { 1 };
            }
            let p: String = chars[start..i].iter().collect();
            if p.contains("::") {
                out.push(p.trim_end_matches("::").to_string());
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The files each file imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let files = files();
    let mut g = BTreeMap::new();
    for f in &files {
        let me = module_of(f);
        let mut targets = BTreeSet::new();
        for p in paths(&code(f)) {
            let p = p.split(" as ").next().unwrap_or_default().to_string();
            let segs: Vec<String> = p.split("::").map(String::from).collect();
            let module: Vec<String> = match segs[0].as_str() {
                "crate" => segs[1..].to_vec(),
                "super" => {
                    let mut base = me.clone();
                    let mut rest = &segs[..];
                    while rest.first().is_some_and(|s| s == "super") {
                        base.pop();
                        rest = &rest[1..];
                    }
                    base.extend(rest.iter().cloned());
                    base
                }
                "self" => me.iter().chain(&segs[1..]).cloned().collect(),
                first => {
                    // A child module named without a prefix (2018 paths).
                    let mut child = me.clone();
                    child.push(first.to_string());
                    if f.ends_with("mod.rs") || f == "lib.rs" {
                        if file_of(&files, &child).is_none() {
                            continue;
                        }
                        me.iter().chain(&segs).cloned().collect()
                    } else {
                        continue;
                    }
                }
            };
            let module: Vec<String> = module.into_iter().filter(|s| s != "self").collect();
            if let Some(t) = resolve(&files, &module) {
                if &t != f {
                    targets.insert(t);
                }
            }
        }
        g.insert(f.clone(), targets);
    }
    g
}

/// Strongly connected components with more than one file (Tarjan).
fn cycles(g: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct T<'a> {
        g: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on: BTreeSet<&'a str>,
        next: usize,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(t: &mut T<'a>, v: &'a str) {
        t.index.insert(v, t.next);
        t.low.insert(v, t.next);
        t.next += 1;
        t.stack.push(v);
        t.on.insert(v);
        if let Some(ws) = t.g.get(v) {
            for w in ws {
                let w = w.as_str();
                if !t.index.contains_key(w) {
                    visit(t, w);
                    let lw = t.low[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(lw));
                } else if t.on.contains(w) {
                    let iw = t.index[w];
                    let lv = t.low[v];
                    t.low.insert(v, lv.min(iw));
                }
            }
        }
        if t.low[v] == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on.remove(w);
                comp.push(w.to_string());
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let mut t = T {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on: BTreeSet::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in g.keys() {
        if !t.index.contains_key(v.as_str()) {
            visit(&mut t, v);
        }
    }
    t.out
}

#[test]
fn no_two_files_import_each_other_directly_or_through_a_loop() {
    let g = graph();
    assert!(g.len() > 50, "the source tree was read ({} files)", g.len());
    let found = cycles(&g);
    assert!(found.is_empty(), "import loops: {found:#?}");
}

#[test]
fn the_checker_finds_a_loop() {
    let mut g = BTreeMap::new();
    g.insert("a.rs".to_string(), BTreeSet::from(["b.rs".to_string()]));
    g.insert("b.rs".to_string(), BTreeSet::from(["c.rs".to_string()]));
    g.insert("c.rs".to_string(), BTreeSet::from(["a.rs".to_string()]));
    g.insert("d.rs".to_string(), BTreeSet::from(["a.rs".to_string()]));
    assert_eq!(cycles(&g), vec![vec!["a.rs", "b.rs", "c.rs"]]);
    assert_eq!(
        expand("crate::store::{audit, units::{self, Unit}}"),
        vec![
            "crate::store::audit",
            "crate::store::units::self",
            "crate::store::units::Unit"
        ]
    );
}

/// The top-level area of a file: `web`, `workflow`, `store`, `domain`, or the file's own name.
fn area(file: &str) -> &str {
    file.split('/')
        .next()
        .unwrap_or(file)
        .trim_end_matches(".rs")
}

#[test]
fn imports_flow_one_way() {
    // What each layer may not import.
    let forbidden: &[(&str, &[&str])] = &[
        (
            "domain",
            &[
                "store", "workflow", "web", "state", "app", "jobs", "db", "files", "pdf", "sms",
                "seed", "synth",
            ],
        ),
        (
            "store",
            &[
                "workflow", "web", "state", "app", "jobs", "files", "pdf", "sms", "seed", "synth",
            ],
        ),
        ("workflow", &["web", "app", "jobs"]),
        ("web", &["app", "jobs", "seed", "synth"]),
        ("state", &["workflow", "web", "app", "jobs"]),
        ("jobs", &["web", "app"]),
    ];
    let mut wrong = Vec::new();
    for (file, targets) in graph() {
        for (layer, never) in forbidden {
            if area(&file) == *layer {
                for t in &targets {
                    if never.contains(&area(t)) {
                        wrong.push(format!("{file} → {t}"));
                    }
                }
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layers: {wrong:#?}");
}

#[test]
fn only_the_store_speaks_sql() {
    let markers = [
        "sqlx::query",
        "query_scalar",
        "query_as",
        ".fetch_one(",
        ".fetch_all(",
        ".fetch_optional(",
        ".execute(",
    ];
    let mut wrong = Vec::new();
    for f in files() {
        if area(&f) == "store" || f == "db.rs" {
            continue;
        }
        let c = code(&f);
        for m in markers {
            if c.contains(m) {
                wrong.push(format!("{f}: {m}"));
            }
        }
    }
    assert!(wrong.is_empty(), "SQL outside the store: {wrong:#?}");
}

#[test]
fn the_web_layer_makes_no_database_call() {
    let markers = [
        "sqlx",
        ".pool()",
        ".db.",
        "tx.conn()",
        "db::Tx",
        "crate::db",
    ];
    let mut wrong = Vec::new();
    for f in files().into_iter().filter(|f| area(f) == "web") {
        let c = code(&f);
        for m in markers {
            if c.contains(m) {
                wrong.push(format!("{f}: {m}"));
            }
        }
        // Store types may be shown; store functions (lower-case names) may not be called.
        for p in paths(&c) {
            let segs: Vec<&str> = p.split("::").collect();
            if segs.len() >= 2 && segs[0] == "crate" && segs[1] == "store" {
                let last = segs.last().copied().unwrap_or_default();
                if segs.len() < 3 || !last.starts_with(|c: char| c.is_uppercase()) {
                    wrong.push(format!("{f}: {p}"));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "database access from the web layer: {wrong:#?}"
    );
}
