//! Which declarations an `#include` that was not read may change: those inside a conditional (`#if` … `#endif`)
//! that tested macros nothing defined after that include was skipped ([`super::preprocess::UnsureRegion`]). A
//! record counts when one of its members is inside such a conditional too (libuv's platform fields).

use std::collections::HashMap;

use super::lex::TokLoc;
use super::preprocess::UnsureRegion;
use super::{Loc, RecordKind, Spec, Unsure};

/// The declarations of `spec` inside the unsure regions, in declaration order (one entry per declaration).
pub fn declarations(
    spec: &Spec,
    files: &[String],
    unread: &[(TokLoc, String)],
    regions: &[UnsureRegion],
) -> Vec<Unsure> {
    if regions.is_empty() {
        return Vec::new();
    }
    // A macro named like the library's own constants (zlib's `Z_SOLO` beside `Z_OK`) is the library's own
    // configuration, which no system header defines: it does not make a conditional unsure.
    let own_prefixes: std::collections::HashSet<&str> = spec
        .constants
        .iter()
        .filter(|c| !spec.is_foreign_file(&c.loc.file))
        .filter_map(|c| prefix(&c.name))
        .collect();
    let regions: Vec<UnsureRegion> = regions
        .iter()
        .map(|r| {
            let mut r = r.clone();
            r.macros
                .retain(|m| prefix(m).is_none_or(|p| !own_prefixes.contains(p)));
            r
        })
        .collect();
    let regions = &regions[..];
    // file name → (start line, end line, region index)
    let mut by_file: HashMap<&str, Vec<(u32, u32, usize)>> = HashMap::new();
    for (i, r) in regions
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.macros.is_empty())
    {
        if let Some(f) = files.get(r.start.file as usize) {
            by_file.entry(f.as_str()).or_default().push((
                r.start.line,
                r.end_line.max(r.start.line),
                i,
            ));
        }
    }
    // The innermost region holding a location: the one that starts last.
    let find = |l: &Loc| -> Option<usize> {
        by_file.get(l.file.as_str()).and_then(|v| {
            v.iter()
                .filter(|(s, e, _)| *s <= l.line && l.line <= *e)
                .max_by_key(|(s, _, _)| *s)
                .map(|(_, _, i)| *i)
        })
    };
    let loc_of = |t: &TokLoc| Loc {
        file: files.get(t.file as usize).cloned().unwrap_or_default(),
        line: t.line,
        col: t.col,
    };
    let mut out = Vec::new();
    let mut push = |what: String, loc: &Loc, region: usize| {
        let r = &regions[region];
        let (inc_loc, include) = unread
            .get(r.unread)
            .map(|(l, s)| (loc_of(l), s.clone()))
            .unwrap_or_default();
        out.push(Unsure {
            declaration: what,
            loc: loc.clone(),
            condition: loc_of(&r.start),
            macros: r.macros.clone(),
            include,
            include_loc: inc_loc,
        });
    };
    for f in &spec.functions {
        if let Some(r) = find(&f.loc) {
            push(format!("function {}", f.name), &f.loc, r);
        }
    }
    for v in &spec.variables {
        if let Some(r) = find(&v.loc) {
            push(format!("variable {}", v.name), &v.loc, r);
        }
    }
    for rec in spec.records.iter().filter(|r| r.complete) {
        let region = find(&rec.loc).or_else(|| rec.fields.iter().find_map(|f| find(&f.loc)));
        if let Some(r) = region {
            let kw = match rec.kind {
                RecordKind::Struct => "struct",
                RecordKind::Union => "union",
            };
            let name = rec
                .tag
                .clone()
                .unwrap_or_else(|| format!("(anonymous at {})", rec.loc));
            push(format!("{kw} {name}"), &rec.loc, r);
        }
    }
    for t in &spec.typedefs {
        if let Some(r) = find(&t.loc) {
            push(format!("typedef {}", t.name), &t.loc, r);
        }
    }
    for e in spec.enums.iter().filter(|e| e.complete) {
        if let Some(r) = find(&e.loc) {
            let name = e
                .tag
                .clone()
                .unwrap_or_else(|| format!("(anonymous at {})", e.loc));
            push(format!("enum {name}"), &e.loc, r);
        }
    }
    out
}

/// The word of a macro name before its first `_` (leading underscores skipped): `Z` of `Z_SOLO`, `PNG` of
/// `PNG_USER_CONFIG`; `None` for a name without one.
fn prefix(name: &str) -> Option<&str> {
    let n = name.trim_start_matches('_');
    let (p, rest) = n.split_once('_')?;
    (!p.is_empty() && !rest.is_empty()).then_some(p)
}
