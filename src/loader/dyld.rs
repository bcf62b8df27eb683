//! The dyld search (macOS 11+, as `man dyld` and dyld4's `Loader::forEachPath` describe it): for each
//! `LC_LOAD_*DYLIB` install name, `DYLD_LIBRARY_PATH` (leaf name) first, then the path itself with
//! `@executable_path`, `@loader_path` and `@rpath` expanded (`@rpath` tries each `LC_RPATH` of the loading image,
//! then of the image that loaded it, up to the executable), then `DYLD_FALLBACK_LIBRARY_PATH` (leaf name; default
//! `/usr/local/lib:/usr/lib`). System libraries live in the dyld shared cache and are absent on disk since macOS 11:
//! `/usr/lib/…` and `/System/Library/…` paths are taken as present when no file is there. A candidate without a
//! slice for the root's architecture is skipped and the search goes on, as dyld does.

use std::path::PathBuf;
use std::sync::Arc;

use super::bind::{self, NodeFacts};
use super::rule::{How, Note, Reuse, RpathVia, Rule};
use super::walk::{self, Candidate, Linked, Need, NeedKind, SameFile, Walk};
use super::{Attempt, Edge, Graph, LoaderEnv, Outcome};
use crate::binary::{self, Format, Image, Mapped, NeededKind, ReadOptions};
use crate::error::InputError;
use crate::report::codes::{Code, LoadCode};
use crate::report::{Finding, Severity};

/// What the search needs from one image.
#[derive(Debug, Clone, Default)]
pub(crate) struct Facts {
    install_name: Option<String>,
    needed: Vec<(String, NeededKind)>,
    rpaths: Vec<String>,
    /// What the binder needs (None: in the shared cache, no file).
    bind: Option<Arc<bind::Facts>>,
}

fn facts_of(img: &Image<'_>) -> Facts {
    Facts {
        install_name: img.identity.as_ref().map(|i| i.name.clone()),
        needed: img
            .needed
            .iter()
            .map(|n| (n.name.clone(), n.kind))
            .collect(),
        rpaths: img.rpath.clone(),
        bind: Some(Arc::new(bind::Facts::ready(NodeFacts::Macho(
            bind::dyld::facts(img),
        )))),
    }
}

/// True for paths that live in the dyld shared cache on macOS 11 and later.
pub fn in_shared_cache(path: &str) -> bool {
    (path.starts_with("/usr/lib/") && !path.starts_with("/usr/lib/local"))
        || path.starts_with("/System/Library/")
        || path.starts_with("/System/iOSSupport/")
}

/// Read the image of `host` for architecture `arch`: Ok(Some) found, Ok(None) wrong architecture (with the
/// architectures present), Err for a file that is not a usable Mach-O image.
fn read_slice(host: &std::path::Path, arch: &str) -> Result<Facts, Outcome> {
    if !host.is_file() {
        return Err(Outcome::Absent);
    }
    let shown = host.to_string_lossy().into_owned();
    let mapped = Mapped::open(&shown).map_err(|e| Outcome::Unreadable(e.found))?;
    let images = binary::read_images(
        &shown,
        mapped.bytes(),
        None,
        ReadOptions { demangle: false },
    )
    .map_err(|e| Outcome::NotALibrary(e.found))?;
    if images.iter().any(|i| i.format != Format::Macho) {
        return Err(Outcome::NotALibrary("not a Mach-O file".into()));
    }
    match images.iter().find(|i| binary::arch_matches(&i.arch, arch)) {
        Some(img) => Ok(facts_of(img)),
        None => {
            let have: Vec<&str> = images.iter().map(|i| i.arch.as_str()).collect();
            Err(Outcome::WrongMachine(format!(
                "have '{}', need '{arch}'",
                have.join(", ")
            )))
        }
    }
}

fn leaf(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// dyld over one tree: the walk's hooks.
struct Dyld<'e> {
    env: &'e LoaderEnv,
    arch: String,
    /// The main executable's directory (for `@executable_path`), if known.
    exe_dir: Option<String>,
}

impl Dyld<'_> {
    /// Try one candidate path; returns the facts when it is loadable.
    fn try_path(&self, path: &str, rule: &How, attempts: &mut Vec<Attempt>) -> Option<Facts> {
        let host = self.env.host_path(path);
        match read_slice(&host, &self.arch) {
            Ok(f) => {
                attempts.push(Attempt {
                    rule: rule.clone().into(),
                    path: path.into(),
                    outcome: Outcome::Found,
                });
                Some(f)
            }
            Err(Outcome::Absent) if in_shared_cache(path) => {
                attempts.push(Attempt {
                    rule: How::SharedCache(Box::new(rule.clone())).into(),
                    path: path.into(),
                    outcome: Outcome::Found,
                });
                Some(Facts {
                    install_name: Some(path.to_string()),
                    ..Default::default()
                })
            }
            Err(o) => {
                attempts.push(Attempt {
                    rule: rule.clone().into(),
                    path: path.into(),
                    outcome: o,
                });
                None
            }
        }
    }

    /// Expand `@loader_path` (the directory of the image at `loader_path`) and `@executable_path`.
    fn expand(&self, path: &str, loader_path: &str) -> Result<String, String> {
        if let Some(rest) = path.strip_prefix("@loader_path") {
            return Ok(format!("{}{rest}", super::dirname(loader_path)));
        }
        if let Some(rest) = path.strip_prefix("@executable_path") {
            return match &self.exe_dir {
                Some(d) => Ok(format!("{d}{rest}")),
                None => Err("@executable_path is unknown: pass --executable".into()),
            };
        }
        Ok(path.to_string())
    }

    /// Resolve one install name needed by `loader`.
    fn find(
        &self,
        w: &Walk<Facts>,
        name: &str,
        loader: usize,
        attempts: &mut Vec<Attempt>,
    ) -> Option<(String, Rule, Facts)> {
        let env_dirs = |var: &str| -> Vec<String> {
            self.env
                .env
                .get(var)
                .map(|v| {
                    v.split(':')
                        .filter(|d| !d.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default()
        };
        for dir in env_dirs("DYLD_LIBRARY_PATH") {
            let p = format!("{dir}/{}", leaf(name));
            if let Some(f) = self.try_path(&p, &How::DyldLibraryPath, attempts) {
                return Some((p, How::DyldLibraryPath.into(), f));
            }
        }
        if let Some(rest) = name.strip_prefix("@rpath/") {
            // Each LC_RPATH of the loading image, then of the image that loaded it, up to the executable.
            for i in w.chain(loader) {
                let obj = &w.objs[i];
                for rp in &obj.facts.rpaths {
                    let base = match self.expand(rp, &obj.path) {
                        Ok(b) => b,
                        Err(why) => {
                            attempts.push(Attempt {
                                rule: How::AtRpathUnexpanded {
                                    entry: rp.clone(),
                                    of: obj.path.clone(),
                                }
                                .into(),
                                path: format!("{rp}/{rest}"),
                                outcome: Outcome::Unreadable(why),
                            });
                            continue;
                        }
                    };
                    let via = if rp.starts_with("@loader_path") {
                        RpathVia::LoaderPath
                    } else if rp.starts_with("@executable_path") {
                        RpathVia::ExecutablePath
                    } else {
                        RpathVia::Plain
                    };
                    let rule = How::AtRpath {
                        of: obj.path.clone(),
                        via,
                    };
                    let p = format!("{base}/{rest}");
                    if let Some(f) = self.try_path(&p, &rule, attempts) {
                        return Some((p, rule.into(), f));
                    }
                }
            }
        } else {
            let rule = if name.starts_with("@loader_path") {
                How::LoaderPath
            } else if name.starts_with("@executable_path") {
                How::ExecutablePath
            } else {
                How::InstallName
            };
            match self.expand(name, &w.objs[loader].path) {
                Ok(p) => {
                    if let Some(f) = self.try_path(&p, &rule, attempts) {
                        return Some((p, rule.into(), f));
                    }
                }
                Err(why) => attempts.push(Attempt {
                    rule: rule.into(),
                    path: name.into(),
                    outcome: Outcome::Unreadable(why),
                }),
            }
        }
        let mut fallback = env_dirs("DYLD_FALLBACK_LIBRARY_PATH");
        if !self.env.env.contains_key("DYLD_FALLBACK_LIBRARY_PATH") {
            fallback = vec!["/usr/local/lib".into(), "/usr/lib".into()];
        }
        for dir in fallback {
            let p = format!("{dir}/{}", leaf(name));
            // dyld's forEachPathVariant: a fallback candidate equal to the install name is not tried again.
            if p == name {
                continue;
            }
            // The shared cache is keyed by install name; a fallback leaf match is only real on disk.
            let host = self.env.host_path(&p);
            match read_slice(&host, &self.arch) {
                Ok(f) => {
                    attempts.push(Attempt {
                        rule: How::DyldFallback.into(),
                        path: p.clone(),
                        outcome: Outcome::Found,
                    });
                    return Some((p, How::DyldFallback.into(), f));
                }
                Err(o) => attempts.push(Attempt {
                    rule: How::DyldFallback.into(),
                    path: p,
                    outcome: o,
                }),
            }
        }
        None
    }
}

impl walk::Loader for Dyld<'_> {
    type Facts = Facts;

    fn needed(&self, f: &Facts) -> Vec<Need> {
        f.needed
            .iter()
            .map(|(n, k)| match k {
                NeededKind::Weak => Need::new(n, NeedKind::Weak),
                _ => Need::new(n, NeedKind::Needed),
            })
            .collect()
    }

    fn soname(&self, f: &Facts) -> Option<String> {
        f.install_name.clone()
    }

    fn bind(&self, f: &Facts) -> Option<Arc<bind::Facts>> {
        f.bind.clone()
    }

    /// An image already loaded under this install name is reused.
    fn loaded(&self, w: &Walk<Facts>, name: &str, _from: usize) -> Option<(usize, Reuse)> {
        let hit = w
            .objs
            .iter()
            .position(|x| x.facts.install_name.as_deref() == Some(name) || x.path == name)?;
        Some((hit, Reuse::InstallNameMatch))
    }

    fn search(
        &mut self,
        w: &Walk<Facts>,
        need: &Need,
        from: usize,
        attempts: &mut Vec<Attempt>,
    ) -> Option<Candidate<Facts>> {
        let (path, rule, facts) = self.find(w, &need.name, from, attempts)?;
        Some(Candidate {
            host: Some(self.env.host_path(&path)),
            system: in_shared_cache(&path),
            path,
            rule,
            facts: Ok(facts),
        })
    }

    fn same_file(&self) -> Option<SameFile> {
        Some(SameFile {
            note: Note::SameFile { image: true },
            cycle: true,
        })
    }

    /// A weak dylib says so; a missing one is not an error: dyld skips it and its weak imports bind to NULL.
    fn after_edge(
        &mut self,
        _w: &mut Walk<Facts>,
        _from: usize,
        edge: &mut Edge,
        need: &Need,
        linked: Linked,
    ) {
        if need.kind == NeedKind::Weak {
            edge.rule = edge.rule.take().map(|r| r.with(Note::Weak));
            if linked == Linked::Missing {
                edge.missing = false;
                edge.rule = Some(How::WeakAbsent.into());
            }
        }
    }
}

/// Resolve the dependency tree of a Mach-O `file` (one architecture: `arch`, or the first slice).
pub fn resolve(file: &str, env: &LoaderEnv) -> Result<Graph, InputError> {
    resolve_mapped(file, &Mapped::open(file)?, env)
}

/// [`resolve`] for a file already mapped.
pub(crate) fn resolve_mapped(
    file: &str,
    mapped: &Mapped,
    env: &LoaderEnv,
) -> Result<Graph, InputError> {
    let arch = env.arch.as_deref();
    let images = binary::read_images(file, mapped.bytes(), arch, ReadOptions { demangle: false })?;
    let root_img = images
        .first()
        .ok_or_else(|| InputError::new(file, "a Mach-O image", "no slices"))?;
    let arch = root_img.arch.clone();
    let root_facts = facts_of(root_img);
    let is_exe = matches!(
        root_img.kind,
        binary::Kind::Executable | binary::Kind::PieExecutable
    );
    let host = PathBuf::from(file);
    let target_path = env.target_path(&host);
    let mut d = Dyld {
        env,
        arch: arch.clone(),
        exe_dir: None,
    };
    let mut w = Walk::new("dyld", arch.clone());
    let exe = match &env.executable {
        Some(e) => {
            let shown = e.display().to_string();
            let facts = read_slice(e, &arch).map_err(|o| {
                InputError::new(
                    &shown,
                    format!("a Mach-O executable with an {arch} slice"),
                    super::outcome_text(&o),
                )
            })?;
            // `@executable_path` is the executable's directory as the target sees it (inside --sysroot).
            let target = env.target_path(e);
            d.exe_dir = Some(super::dirname(&target));
            let system = in_shared_cache(&target);
            Some(w.add(
                &d,
                target.clone(),
                Some(e.clone()),
                target,
                facts,
                None,
                system,
            ))
        }
        None => None,
    };
    if exe.is_none() && is_exe {
        d.exe_dir = Some(super::dirname(&target_path));
    }
    let system = in_shared_cache(&target_path);
    let root = w.add(
        &d,
        target_path.clone(),
        Some(host),
        target_path,
        root_facts,
        exe,
        system,
    );
    w.node_for(&d, root, 0);
    w.run(&mut d, root);
    let mut g = w.graph;
    g.add_findings();
    for n in &g.nodes {
        for e in &n.edges {
            if e.target.is_none() && !e.missing {
                g.findings.push(Finding {
                    code: Code::Load(LoadCode::WeakAbsent),
                    severity: Severity::Info,
                    location: n.path.clone().into(),
                    message: format!("weak dylib {} is absent; its symbols will be NULL", e.name),
                    expected: format!("{} (LC_LOAD_WEAK_DYLIB)", e.name),
                    found: "absent".into(),
                    hint: "check for NULL before calling its weak imports".into(),
                });
            }
        }
    }
    Ok(g)
}
