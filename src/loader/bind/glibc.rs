//! Missing symbols across a resolved tree (`deps --check-symbols`, like `ldd -r` without executing anything).
//! ELF: every undefined non-weak symbol of every node must bind to a definition in the global scope, searched in
//! load order, honouring symbol versions; every required version must be defined by the library named in
//! `verneed` (glibc's `version 'GLIBC_2.34' not found` check).

use crate::report::codes::{Code, LoadCode};
use std::collections::{HashMap, HashSet};

use super::NodeFacts;
use crate::binary::{self, Image, ImportSource};
use crate::loader::Graph;
use crate::report::{Finding, Severity};

/// What one loaded ELF object offers and asks for, kept by the walk so binding never reopens the file.
#[derive(Debug)]
pub struct ElfFacts {
    soname: Option<String>,
    /// name → versions it is defined at (None = unversioned); bool = default (`@@`).
    defs: HashMap<String, Vec<(Option<String>, bool)>>,
    versions_defined: HashSet<String>,
    has_verdef: bool,
    /// (symbol, required version, file that should provide it)
    undefined: Vec<(String, Option<(String, String)>)>,
    verneed: Vec<(String, Vec<String>)>,
}

impl ElfFacts {
    /// Every defined name, once.
    pub fn exported_names(&self) -> impl Iterator<Item = &str> {
        self.defs.keys().map(String::as_str)
    }
}

/// The binding facts of an ELF image.
pub fn facts(img: &Image<'_>) -> ElfFacts {
    let mut defs: HashMap<String, Vec<(Option<String>, bool)>> =
        HashMap::with_capacity(img.exports.len());
    for e in &img.exports {
        defs.entry(e.name.to_string()).or_default().push((
            e.version.as_ref().map(|v| v.name.to_string()),
            e.version.as_ref().is_none_or(|v| v.default),
        ));
    }
    let elf = img.elf.as_ref();
    let undefined = img
        .imports
        .iter()
        .filter(|i| !i.weak)
        .filter_map(|i| {
            let name = i.name.as_ref()?.to_string();
            let ver = match (&i.version, &i.source) {
                (Some(v), ImportSource::Library { library }) => {
                    Some((v.name.to_string(), library.clone()))
                }
                _ => None,
            };
            Some((name, ver))
        })
        .collect();
    ElfFacts {
        soname: img.identity.as_ref().map(|i| i.name.clone()),
        defs,
        versions_defined: elf
            .map(|e| e.versions_defined.iter().map(|v| v.name.clone()).collect())
            .unwrap_or_default(),
        has_verdef: elf.is_some_and(|e| !e.versions_defined.is_empty()),
        undefined,
        verneed: elf
            .map(|e| {
                e.versions_required
                    .iter()
                    .map(|v| (v.file.clone(), v.versions.clone()))
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// Check every node of an ELF graph; returns the findings (FFI0302 undefined symbol, FFI0304 missing version,
/// FFI0305 no version information).
pub fn check_symbols(graph: &Graph) -> Vec<Finding> {
    struct Obj<'g> {
        path: &'g str,
        f: &'g ElfFacts,
    }
    let all: Vec<Obj<'_>> = graph
        .nodes
        .iter()
        .filter_map(|n| match n.bind_facts() {
            Some(NodeFacts::Elf(f)) => Some(Obj { path: &n.path, f }),
            _ => None,
        })
        .collect();
    let mut findings = Vec::new();
    for obj in &all {
        // Versions required from each named library.
        for (file, versions) in &obj.f.verneed {
            let Some(provider) = all
                .iter()
                .find(|o| o.f.soname.as_deref() == Some(file.as_str()))
            else {
                continue;
            };
            if !provider.f.has_verdef {
                findings.push(Finding {
                    code: Code::Load(LoadCode::NoVersionInfo),
                    severity: Severity::Warning,
                    location: obj.path.to_string().into(),
                    message: format!("{}: no version information available (required by {})", provider.path, obj.path),
                    expected: format!("{file} defining versions {}", versions.join(", ")),
                    found: "a library without symbol versions".into(),
                    hint: "the library was built differently from the one linked against; check you ship the right one"
                        .into(),
                });
                continue;
            }
            for v in versions {
                if !provider.f.versions_defined.contains(v) {
                    let mut have: Vec<&String> = provider.f.versions_defined.iter().collect();
                    have.sort_by(|a, b| {
                        binary::elf::split_version(a)
                            .map(|x| x.1)
                            .cmp(&binary::elf::split_version(b).map(|x| x.1))
                    });
                    let family = binary::elf::split_version(v)
                        .map(|x| x.0.to_string())
                        .unwrap_or_default();
                    let highest = binary::elf::highest_versions(
                        &have.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                    )
                    .into_iter()
                    .find(|h| h.starts_with(&format!("{family}_")))
                    .unwrap_or_else(|| "none of that family".into());
                    findings.push(Finding {
                        code: Code::Load(LoadCode::MissingVersion),
                        severity: Severity::Error,
                        location: crate::report::Location::file(obj.path.to_string())
                            .entry(file.to_string())
                            .version(v.to_string()),
                        message: format!("version `{v}' not found (required by {})", obj.path),
                        expected: format!("{file} defining {v}"),
                        found: format!("{} defines versions up to {highest}", provider.path),
                        hint: "build against an older target (e.g. in a manylinux container) or ship a newer library"
                            .into(),
                    });
                }
            }
        }
        // Every strong undefined symbol must bind somewhere in the global scope (load order).
        for (name, ver) in &obj.f.undefined {
            let bound = all.iter().any(|o| {
                o.f.defs.get(name).is_some_and(|defs| {
                    defs.iter().any(|(dv, default)| match (ver, dv) {
                        (Some((want, _)), Some(have)) => want == have,
                        (Some(_), None) => true,
                        (None, Some(_)) => *default,
                        (None, None) => true,
                    })
                })
            });
            if !bound {
                let (shown, provider) = match ver {
                    Some((v, f)) => (format!("{name}@{v}"), format!(" (expected in {f})")),
                    None => (name.clone(), String::new()),
                };
                let near: Vec<String> = ver
                    .as_ref()
                    .and_then(|(_, f)| {
                        all.iter()
                            .find(|o| o.f.soname.as_deref() == Some(f.as_str()))
                    })
                    .and_then(|o| o.f.defs.get(name))
                    .map(|d| {
                        d.iter()
                            .map(|(v, _)| v.clone().unwrap_or_else(|| "(unversioned)".into()))
                            .collect()
                    })
                    .unwrap_or_default();
                findings.push(Finding {
                    code: Code::Load(LoadCode::UndefinedSymbol),
                    severity: Severity::Error,
                    location: crate::report::Location::symbol(obj.path.to_string(), name.to_string()),
                    message: format!("undefined symbol: {shown}{provider}"),
                    expected: format!("a definition of {shown} in the libraries loaded with {}", obj.path),
                    found: if near.is_empty() {
                        "no loaded library defines it".into()
                    } else {
                        format!("defined only at versions {}", near.join(", "))
                    },
                    hint: "link the library that defines it (DT_NEEDED), or ship the version that exports it".into(),
                });
            }
        }
    }
    findings
}
