//! dyld's two-level namespace binding over a resolved tree (`deps --check-symbols` for Mach-O).

use std::collections::HashSet;

use super::NodeFacts;
use crate::binary::{Image, ImportSource, NeededKind};
use crate::loader::Graph;
use crate::report::codes::{Code, LoadCode};
use crate::report::{Finding, Severity};

/// What binding needs of one Mach-O image, kept by the walk so binding never reopens the file.
#[derive(Debug)]
pub struct MachoFacts {
    install: Option<String>,
    exports: HashSet<String>,
    reexports: Vec<String>,
    imports: Vec<(String, ImportSource, bool)>,
}

impl MachoFacts {
    /// Every exported name, raw (with Mach-O's leading `_`).
    pub fn exported_names(&self) -> impl Iterator<Item = &str> {
        self.exports.iter().map(String::as_str)
    }
}

/// The binding facts of a Mach-O image.
pub fn facts(img: &Image<'_>) -> MachoFacts {
    MachoFacts {
        install: img.identity.as_ref().map(|i| i.name.clone()),
        exports: img.exports.iter().map(|e| e.name.to_string()).collect(),
        reexports: img
            .needed
            .iter()
            .filter(|d| d.kind == NeededKind::Reexport)
            .map(|d| d.name.clone())
            .collect(),
        imports: img
            .imports
            .iter()
            .filter_map(|i| Some((i.name.as_ref()?.to_string(), i.source.clone(), i.weak)))
            .collect(),
    }
}

/// Two-level namespace binding: every non-weak import must be exported by the library its ordinal names (or by a
/// library that library re-exports); flat-namespace imports by any loaded image. Shared-cache libraries absent on
/// disk cannot be checked and are listed once (FFI0308).
pub fn check_symbols(graph: &Graph) -> Vec<Finding> {
    struct Loaded<'g> {
        path: &'g str,
        f: &'g MachoFacts,
    }
    let mut loaded = Vec::new();
    let mut unchecked = Vec::new();
    for n in &graph.nodes {
        match n.bind_facts() {
            Some(NodeFacts::Macho(f)) => loaded.push(Loaded { path: &n.path, f }),
            _ => unchecked.push(n.path.clone()),
        }
    }
    let by_install = |name: &str| {
        loaded
            .iter()
            .position(|l| l.f.install.as_deref() == Some(name) || l.path == name)
    };
    let mut findings = Vec::new();
    for l in &loaded {
        for (sym, source, weak) in &l.f.imports {
            if *weak {
                continue;
            }
            let ok = match source {
                ImportSource::Library { library } => match by_install(library) {
                    None => continue, // shared cache or missing library: reported elsewhere
                    Some(i) => {
                        let mut stack = vec![i];
                        let mut seen = Vec::new();
                        let mut found = false;
                        while let Some(j) = stack.pop() {
                            if seen.contains(&j) {
                                continue;
                            }
                            seen.push(j);
                            if loaded[j].f.exports.contains(sym) {
                                found = true;
                                break;
                            }
                            stack
                                .extend(loaded[j].f.reexports.iter().filter_map(|r| by_install(r)));
                        }
                        found
                    }
                },
                ImportSource::Flat => {
                    if !loaded.iter().any(|o| o.f.exports.contains(sym)) {
                        // Flat lookups also see the main executable and libSystem, which every process has loaded:
                        // a miss here is a warning, not a certainty.
                        findings.push(Finding {
                            code: Code::Load(LoadCode::UndefinedSymbol),
                            severity: Severity::Warning,
                            location: crate::report::Location::symbol(l.path.to_string(), sym.to_string()),
                            message: format!(
                                "flat-namespace symbol {sym} (referenced from {}) is not exported by any library in \
                                 this tree",
                                l.path
                            ),
                            expected: format!("{sym} exported by some image loaded in the process"),
                            found: "not in the export trie of any library of this tree".into(),
                            hint: "it must come from the executable or a library loaded earlier (pass --executable); \
                                   linking with -undefined dynamic_lookup hides such problems until run time"
                                .into(),
                        });
                    }
                    true
                }
                _ => true,
            };
            if !ok {
                let lib = match source {
                    ImportSource::Library { library } => library.clone(),
                    _ => "any loaded image (flat namespace)".into(),
                };
                findings.push(Finding {
                    code: Code::Load(LoadCode::UndefinedSymbol),
                    severity: Severity::Error,
                    location: crate::report::Location::symbol(l.path.to_string(), sym.to_string()),
                    message: format!("Symbol not found: {sym} (referenced from {}, expected in {lib})", l.path),
                    expected: format!("{sym} exported by {lib} or a library it re-exports"),
                    found: "not in its export trie".into(),
                    hint: "rebuild against the library version you ship, or ship the one that exports it".into(),
                });
            }
        }
    }
    if !unchecked.is_empty() {
        findings.push(super::unchecked(
            graph,
            "symbols bound to these libraries were not checked (no file to read)".into(),
            "a readable image",
            unchecked.join(", "),
            "pass --sysroot with an extracted shared cache to check them",
        ));
    }
    findings
}
