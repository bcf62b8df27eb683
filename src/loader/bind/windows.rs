//! The Windows loader's import binding over a resolved tree (`deps --check-symbols` for PE): every import must be
//! in the export directory of the DLL it resolved to, following forwarders through the graph.

use std::collections::HashSet;

use super::NodeFacts;
use crate::loader::windows::{lookup_export, module_key, split_forwarder, PeFacts, Sym};
use crate::loader::Graph;
use crate::report::codes::{Code, LoadCode};
use crate::report::{Finding, Severity};

/// Strip 32-bit Windows call-convention decorations (`_f`, `_f@8`, `@f@8`) for a near-match hint.
fn undecorated(s: &str) -> &str {
    let s = s.strip_prefix(['_', '@']).unwrap_or(s);
    match s.rsplit_once('@') {
        Some((base, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => base,
        _ => s,
    }
}

/// Check every import of every node against the export directory of the DLL it resolved to, following forwarders
/// through the graph: FFI0302 (name not exported), FFI0307 (ordinal not exported), FFI0308 (DLLs without a file —
/// API sets and assumed system DLLs — were not checked).
pub fn check_symbols(graph: &Graph) -> Vec<Finding> {
    let facts: Vec<Option<&PeFacts>> = graph
        .nodes
        .iter()
        .map(|n| match n.bind_facts() {
            Some(NodeFacts::Pe(f)) => Some(&**f),
            _ => None,
        })
        .collect();
    let edge_to = |node: usize, dll: &str| -> Option<usize> {
        let key = module_key(dll);
        graph.nodes[node]
            .edges
            .iter()
            .find(|e| module_key(&e.name) == key)
            .and_then(|e| e.target)
    };
    let mut unchecked: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for n in &graph.nodes {
        let Some(f) = &facts[n.id] else { continue };
        for (dll, sym, delay) in &f.imports {
            let Some(mut t) = edge_to(n.id, dll) else {
                continue; // missing DLL: already FFI0301/FFI0306
            };
            let mut sym = sym.clone();
            let mut chain: Vec<String> = Vec::new();
            let mut seen = HashSet::new();
            let problem: Option<(usize, Sym, String)> = loop {
                if !seen.insert((t, sym.clone())) {
                    break Some((
                        t,
                        sym.clone(),
                        format!("forwarder cycle: {}", chain.join(" -> ")),
                    ));
                }
                let Some(tf) = &facts[t] else {
                    if graph.nodes[t].host_path.is_empty() {
                        unchecked.push(graph.nodes[t].path.clone());
                    }
                    break None;
                };
                match lookup_export(tf, &sym) {
                    None => break Some((t, sym.clone(), String::new())),
                    Some(None) => break None,
                    Some(Some(fwd)) => {
                        chain.push(format!("{}!{sym} -> {fwd}", graph.nodes[t].path));
                        let Some((fdll, fsym)) = split_forwarder(&fwd) else {
                            break None;
                        };
                        match edge_to(t, &fdll) {
                            Some(next) => {
                                t = next;
                                sym = fsym;
                            }
                            None => break None, // forwarded-to DLL missing: reported as a load failure
                        }
                    }
                }
            };
            let Some((t, bad, why)) = problem else {
                continue;
            };
            let tn = &graph.nodes[t];
            let via = if chain.is_empty() {
                String::new()
            } else {
                format!(" (via forwarders: {})", chain.join(", "))
            };
            let severity = if *delay {
                Severity::Warning
            } else {
                Severity::Error
            };
            let when = if *delay {
                " (delay-load: the first call fails)"
            } else {
                ""
            };
            match &bad {
                Sym::Name(name) => {
                    let tf = facts[t].as_ref();
                    let near: Vec<String> = tf
                        .map(|tf| {
                            tf.names
                                .iter()
                                .filter(|e| {
                                    *e != name
                                        && (e.eq_ignore_ascii_case(name)
                                            || undecorated(e) == undecorated(name))
                                })
                                .cloned()
                                .collect()
                        })
                        .unwrap_or_default();
                    let hint = if !why.is_empty() {
                        "the forwarders lead back to themselves, so the import can never bind: fix the .def \
                         files so the chain ends at a real export"
                            .to_string()
                    } else if near.is_empty() {
                        format!(
                            "{} does not export {name}: link against the import library of the DLL you ship, \
                             or ship the version that exports it",
                            tn.path
                        )
                    } else {
                        format!(
                            "{} exports {} — names are matched exactly (case-sensitive, decorations included): \
                             fix the declaration or the .def file",
                            tn.path,
                            near.join(", ")
                        )
                    };
                    out.push(Finding {
                        code: Code::Load(LoadCode::UndefinedSymbol),
                        severity,
                        location: crate::report::Location::symbol(
                            n.path.to_string(),
                            name.to_string(),
                        ),
                        message: format!(
                            "{} imports {name} from {dll}, which {} does not export{via}{when}",
                            n.path, tn.path
                        ),
                        expected: format!("{name} in the export directory of {}", tn.path),
                        found: if why.is_empty() {
                            "no export of that name (the load fails: ERROR_PROC_NOT_FOUND, 127)"
                                .into()
                        } else {
                            why
                        },
                        hint,
                    });
                }
                Sym::Ordinal(o) => {
                    out.push(Finding {
                        code: Code::Load(LoadCode::OrdinalMissing),
                        severity,
                        location: crate::report::Location::ordinal(n.path.to_string(), *o),
                        message: format!(
                            "{} imports ordinal {o} from {dll}, which {} does not export{via}{when}",
                            n.path, tn.path
                        ),
                        expected: format!("ordinal {o} in the export directory of {}", tn.path),
                        found: if why.is_empty() {
                            "no export with that ordinal (the load fails: ERROR_PROC_NOT_FOUND, 127)".into()
                        } else {
                            why
                        },
                        hint: "ordinals change between builds unless the .def file pins them: import by name, \
                               or ship the DLL built from the same .def"
                            .into(),
                    });
                }
            }
        }
    }
    unchecked.sort();
    unchecked.dedup();
    if !unchecked.is_empty() {
        out.push(super::unchecked(
            graph,
            format!(
                "imports from {} DLL(s) without a file were not checked: {}",
                unchecked.len(),
                unchecked.join(", ")
            ),
            "an export directory to check imports against",
            "API sets (resolved by the OS) or system DLLs assumed present without --sysroot".into(),
            "pass --sysroot with a copy of the target's C:\\Windows to check system imports too",
        ));
    }
    out
}
