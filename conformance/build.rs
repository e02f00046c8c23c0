//! Collects, at build time, the names the coverage report needs from the sources it measures:
//! the `branch:` keys and the requirement IDs used in `decoder/src`, and the requirement IDs
//! defined in `spec/*.md` with their error class (Table 9-2).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest
        .parent()
        .expect("the crate lives in the workspace")
        .to_path_buf();
    let decoder_src = root.join("decoder/src");
    let spec_dir = root.join("spec");
    println!("cargo:rerun-if-changed={}", decoder_src.display());
    println!("cargo:rerun-if-changed={}", spec_dir.display());

    let mut decoder_files = Vec::new();
    collect(&decoder_src, "rs", &mut decoder_files);
    let mut branches = std::collections::BTreeSet::new();
    let mut decoder_reqs = std::collections::BTreeSet::new();
    let mut value_elements = std::collections::BTreeSet::new();
    let mut syntax_elements = std::collections::BTreeSet::new();
    for file in &decoder_files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(file).expect("readable decoder source");
        for key in quoted_with_prefix(&text, "branch:") {
            branches.insert(key);
        }
        syntax_elements.extend(syntax_fields(&text));
        for element in quoted_after(&text, "coverage::value(") {
            value_elements.insert(element);
        }
        for id in req_ids(&text) {
            decoder_reqs.insert(id);
        }
    }

    let mut spec_files = Vec::new();
    collect(&spec_dir, "md", &mut spec_files);
    // ID -> (class, file); defined in bold: **REQ-c-n** (class: x).
    let mut defined: BTreeMap<String, String> = BTreeMap::new();
    let mut duplicates = Vec::new();
    for file in &spec_files {
        println!("cargo:rerun-if-changed={}", file.display());
        let text = std::fs::read_to_string(file).expect("readable spec");
        let mut rest = text.as_str();
        while let Some(start) = rest.find("**REQ-") {
            let after = &rest[start + 2..];
            let Some(end) = after.find("**") else { break };
            let id = after[..end].to_string();
            let tail = &after[end + 2..];
            let class = tail
                .find("(class:")
                .filter(|&p| p < 40)
                .and_then(|p| {
                    let c = &tail[p + 7..];
                    c.find(')')
                        .map(|q| c[..q].trim().trim_matches('*').to_string())
                })
                .unwrap_or_default();
            if valid_id(&id) && defined.insert(id.clone(), class).is_some() {
                duplicates.push(id);
            }
            rest = &after[end + 2..];
        }
    }

    let mut out = String::new();
    let list = |name: &str, items: &mut dyn Iterator<Item = String>| {
        let mut s = format!("pub const {name}: &[&str] = &[\n");
        for item in items {
            let _ = writeln!(s, "    {item:?},");
        }
        s.push_str("];\n");
        s
    };
    out.push_str("/// `branch:` keys used in decoder/src.\n");
    out.push_str(&list("DECODER_BRANCHES", &mut branches.iter().cloned()));
    out.push_str("/// Elements whose enumerated values decoder/src records (`coverage::value(\"x\", ..)`).\n");
    out.push_str(&list(
        "DECODER_VALUE_ELEMENTS",
        &mut value_elements.iter().cloned(),
    ));
    out.push_str("/// Syntax elements of every `impl SyntaxStructure` in decoder/src: `<table>.<element>`.\n");
    out.push_str(&list(
        "DECODER_SYNTAX_ELEMENTS",
        &mut syntax_elements.iter().cloned(),
    ));
    out.push_str("/// Requirement IDs named in decoder/src.\n");
    out.push_str(&list(
        "DECODER_REQUIREMENTS",
        &mut decoder_reqs.iter().cloned(),
    ));
    out.push_str("/// Requirement IDs defined (in bold) in spec/*.md.\n");
    out.push_str(&list("SPEC_REQUIREMENTS", &mut defined.keys().cloned()));
    out.push_str("/// Error class of each requirement, as the spec states it.\n");
    out.push_str(&list("SPEC_CLASSES", &mut defined.values().cloned()));
    out.push_str("/// Requirement IDs defined more than once in the spec.\n");
    out.push_str(&list("SPEC_DUPLICATES", &mut duplicates.iter().cloned()));
    let dest = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo")).join("sources.rs");
    std::fs::write(dest, out).expect("writable OUT_DIR");
}

fn collect(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

/// String literals starting with `prefix`: `"branch:x"` gives `branch:x`.
fn quoted_with_prefix(text: &str, prefix: &str) -> Vec<String> {
    let needle = format!("\"{prefix}");
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(p) = rest.find(&needle) {
        let after = &rest[p + 1..];
        if let Some(end) = after.find('"') {
            let key = &after[..end];
            if !key.contains('{') {
                found.push(key.to_string());
            }
            rest = &after[end..];
        } else {
            break;
        }
    }
    found
}

/// `<table>.<element>` for every `v.field("element", ..)` in the `visit_fields` of every
/// `impl SyntaxStructure for` block (table: its `NAME` without the parentheses).
fn syntax_fields(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let starts: Vec<usize> = text
        .match_indices("impl SyntaxStructure for")
        .map(|(p, _)| p)
        .collect();
    for &start in &starts {
        let rest = &text[start..];
        let end = rest[1..].find("\nimpl").map_or(rest.len(), |e| e + 1);
        let block = &rest[..end];
        let Some(name) = quoted_after(block, "const NAME: &'static str = ")
            .into_iter()
            .next()
        else {
            continue;
        };
        let table = name.trim_end_matches("()");
        for field in quoted_after(block, ".field(") {
            out.push(format!("{table}.{field}"));
        }
    }
    out
}

/// The string literal right after each `call` in `text` (whitespace allowed between them):
/// `value("x", ..)` gives `x`.
fn quoted_after(text: &str, call: &str) -> Vec<String> {
    text.match_indices(call)
        .filter_map(|(p, _)| {
            let rest = text[p + call.len()..].trim_start().strip_prefix('"')?;
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect()
}

/// `REQ-c-n` identifiers in `text`, as `grep -o 'REQ-[0-9A-Z.]*-[0-9]*'` finds them.
fn req_ids(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(p) = text[i..].find("REQ-") {
        let start = i + p;
        let mut end = start + 4;
        while end < bytes.len()
            && (bytes[end].is_ascii_digit()
                || bytes[end].is_ascii_uppercase()
                || bytes[end] == b'.')
        {
            end += 1;
        }
        if end < bytes.len() && bytes[end] == b'-' {
            end += 1;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            let id = &text[start..end];
            if valid_id(id) {
                found.push(id.to_string());
            }
        }
        i = start + 4;
    }
    found
}

fn valid_id(id: &str) -> bool {
    let Some(rest) = id.strip_prefix("REQ-") else {
        return false;
    };
    let Some((clause, n)) = rest.rsplit_once('-') else {
        return false;
    };
    !clause.is_empty()
        && clause
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase() || c == '.')
        && !n.is_empty()
        && n.chars().all(|c| c.is_ascii_digit())
}
