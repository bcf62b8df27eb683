//! Dependency resolution with the target's own loader rules, without executing anything. Each needed entry
//! records every candidate tried in the loader's order with its outcome, and the rule that found it.
//! The graph is a DAG: a library is loaded once; cycles terminate (the loader's "already loaded" rule).

pub mod bind;
pub mod dyld;
pub mod find_library;
pub mod glibc;
pub mod ldcache;
pub mod rule;
pub mod system_dirs;
pub(crate) mod walk;
pub mod windows;

pub use rule::{How, Note, Rule};

use crate::report::codes::{Code, LoadCode};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::binary::sniff::{self, Detected};
use crate::binary::Mapped;
use crate::error::InputError;
use crate::report::{Finding, Location, Severity};

/// Everything about the target system a resolution depends on. Nothing is read from the current process unless
/// the caller puts it here.
#[derive(Debug, Clone, Default)]
pub struct LoaderEnv {
    /// Resolve absolute paths and default directories inside this root.
    pub sysroot: Option<PathBuf>,
    /// Host path of the ld.so cache (default: `<sysroot>/etc/ld.so.cache`).
    pub ld_so_cache: Option<PathBuf>,
    /// Environment of the target process: `LD_LIBRARY_PATH`, `DYLD_LIBRARY_PATH`, `PATH`, …
    pub env: BTreeMap<String, String>,
    /// The main program (for the ELF RPATH chain, `@executable_path`, the Windows application dir).
    pub executable: Option<PathBuf>,
    /// Override the loader's default directories.
    pub default_dirs: Option<Vec<String>>,
    /// Subdirectories tried inside each search directory before the directory itself, in order
    /// (glibc-hwcaps and legacy hwcaps subdirectories, e.g. `glibc-hwcaps/x86-64-v3`, `tls/x86_64`).
    pub hwcap_subdirs: Vec<String>,
    /// Windows: which search order `LoadLibrary` uses.
    pub windows_search: WindowsSearch,
    /// Windows: directories added with `os.add_dll_directory` / `AddDllDirectory`, in order.
    pub dll_dirs: Vec<String>,
    /// The architecture slice of a universal Mach-O root to resolve (default: the first).
    pub arch: Option<String>,
}

/// The Windows DLL search order to model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowsSearch {
    /// `LoadLibrary` with the standard search order (SafeDllSearchMode on): application dir, System32, System,
    /// Windows dir, current dir, PATH.
    #[default]
    Standard,
    /// `LoadLibraryExW(…, LOAD_LIBRARY_SEARCH_DEFAULT_DIRS)` as CPython ≥ 3.8 ctypes does: application dir,
    /// `add_dll_directory` dirs, System32 — PATH is not searched.
    Python,
}

impl LoaderEnv {
    /// The path the target sees for a host file: inside `--sysroot` the root is stripped (`/opt/x/lib/a.so`
    /// with root `/opt/x` → `/lib/a.so`); otherwise the absolute host path.
    pub fn target_path(&self, host: &Path) -> String {
        let abs = std::path::absolute(host).unwrap_or(host.to_path_buf());
        match &self.sysroot {
            Some(root) => {
                let root = std::path::absolute(root).unwrap_or(root.clone());
                abs.strip_prefix(&root)
                    .map(|r| format!("/{}", r.display()))
                    .unwrap_or(abs.display().to_string())
            }
            None => abs.display().to_string(),
        }
    }

    /// Where a target path lives on this host.
    pub fn host_path(&self, target: &str) -> PathBuf {
        match &self.sysroot {
            Some(root) if target.starts_with('/') => root.join(target.trim_start_matches('/')),
            _ => PathBuf::from(target),
        }
    }
}

/// Why a candidate was not taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome", content = "detail")]
pub enum Outcome {
    /// This candidate was loaded.
    Found,
    /// No such file.
    Absent,
    /// Skipped without trying: the directory is known not to exist (the loader remembers this).
    DirKnownAbsent,
    /// An ELF file of the other class (32/64-bit): skipped, search goes on.
    WrongClass(String),
    /// An object for another machine: skipped, search goes on.
    WrongMachine(String),
    /// Not a loadable library: the load fails here.
    NotALibrary(String),
    /// Could not be read (permissions, …).
    Unreadable(String),
    /// A candidate the loader's rules exclude without opening it (e.g. `DF_1_NODEFLIB`), and why.
    NotConsidered(String),
    /// A cache the loader looked the name up in has no usable entry for it (or there is no cache).
    NotInCache(String),
}

/// One candidate path the loader tried.
#[derive(Debug, Clone, Serialize)]
pub struct Attempt {
    /// Serialized as `rule` (text) and `kind` (the variant).
    #[serde(flatten)]
    pub rule: Rule,
    /// The path as the target loader sees it.
    pub path: String,
    #[serde(flatten)]
    pub outcome: Outcome,
}

/// One needed entry of one node and how it resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Edge {
    /// The name as written in the file.
    pub name: String,
    /// Node index it resolved to.
    pub target: Option<usize>,
    /// The rule that found it (`DT_RUNPATH of libfoo.so`, `ld.so.cache`, `already loaded (soname match)`, …),
    /// serialized as `rule` (text) and `kind` (the variant).
    #[serde(flatten, serialize_with = "rule::serialize_opt")]
    pub rule: Option<Rule>,
    /// Every candidate tried, in the loader's order.
    pub attempts: Vec<Attempt>,
    /// The load failed at this entry (absent everywhere, or a fatal candidate).
    pub missing: bool,
    /// The edge closes a cycle (it points at a node on the path from the root).
    pub cycle: bool,
    /// Why a missing entry is missing, when the loader model can tell more than "absent" (e.g. a DT_RUNPATH
    /// that would have found it does not apply here); becomes the finding's hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One loaded object.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    pub id: usize,
    /// The path as the target loader sees it.
    pub path: String,
    /// Where it is on this host (differs with `--sysroot`).
    pub host_path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub soname: Option<String>,
    /// Breadth-first load order (0 = root).
    pub depth: usize,
    /// A system library (glibc, libSystem, Windows system DLL), folded by `--no-system`.
    pub system: bool,
    pub edges: Vec<Edge>,
    /// What the symbol binder needs of this object, kept by the walk (read then, or on first use from the
    /// mapping the walk kept); None: no file, e.g. an API set or a shared-cache library.
    #[serde(skip)]
    pub facts: Option<std::sync::Arc<bind::Facts>>,
}

impl Node {
    /// The binder's facts of this object (read now if the walk did not need them).
    pub fn bind_facts(&self) -> Option<&bind::NodeFacts> {
        self.facts.as_deref()?.get()
    }
}

/// The resolved dependency graph.
#[derive(Debug, Clone, Serialize)]
pub struct Graph {
    pub loader: &'static str,
    /// The root's architecture; every node must have it.
    pub arch: String,
    pub nodes: Vec<Node>,
    pub findings: Vec<Finding>,
    /// The loader's default directories and where they came from (glibc).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_dirs: Option<system_dirs::DefaultDirs>,
}

impl Graph {
    /// Add findings for missing libraries and cycles.
    pub fn add_findings(&mut self) {
        let mut findings = Vec::new();
        for n in &self.nodes {
            for e in &n.edges {
                if e.missing {
                    let tried: Vec<String> = e
                        .attempts
                        .iter()
                        .map(|a| format!("{} ({}): {}", a.path, a.rule, outcome_text(&a.outcome)))
                        .collect();
                    let fatal = e
                        .attempts
                        .iter()
                        .rev()
                        .find(|a| matches!(a.outcome, Outcome::NotALibrary(_)));
                    findings.push(Finding {
                        code: Code::Load(LoadCode::NotFound),
                        severity: Severity::Error,
                        location: Location::file(n.path.clone()).entry(e.name.clone()),
                        message: format!(
                            "{} needs {}, which the {} loader cannot load",
                            n.path, e.name, self.loader
                        ),
                        expected: format!("{} found by the loader's search", e.name),
                        found: match fatal {
                            Some(a) => format!("{}: {}", a.path, outcome_text(&a.outcome)),
                            None if tried.is_empty() => "no search path applies".into(),
                            None => {
                                format!("not found; searched, in order:\n  {}", tried.join("\n  "))
                            }
                        },
                        hint: e
                            .note
                            .clone()
                            .unwrap_or_else(|| missing_hint(self.loader).into()),
                    });
                }
                if e.cycle {
                    findings.push(Finding {
                        code: Code::Load(LoadCode::Cycle),
                        severity: Severity::Info,
                        location: n.path.clone().into(),
                        message: format!("dependency cycle: {} needs {}, which is already being loaded", n.path, e.name),
                        expected: "an acyclic dependency graph".into(),
                        found: "a cycle (the loader tolerates it; initialisation order is then unspecified)".into(),
                        hint: "break the cycle if constructors depend on each other".into(),
                    });
                }
            }
        }
        self.findings = findings;
    }
}

/// What to do about a library the loader cannot find, in the loader's own terms.
fn missing_hint(loader: &str) -> &'static str {
    match loader {
        "dyld" => {
            "ship it with the library and load it as @rpath/NAME with an LC_RPATH of @loader_path (delocate does \
             this), or set DYLD_LIBRARY_PATH (--env) for a check that matches your deployment"
        }
        "Windows" => {
            "ship it next to the DLL that needs it, or add its directory with os.add_dll_directory (--dll-dir)"
        }
        _ => {
            "ship it next to the library and point DT_RUNPATH at $ORIGIN (auditwheel repair does this), install \
             it system-wide, or set LD_LIBRARY_PATH (--env) for a check that matches your deployment"
        }
    }
}

/// A short text for an outcome.
pub fn outcome_text(o: &Outcome) -> String {
    match o {
        Outcome::Found => "found".into(),
        Outcome::Absent => "absent".into(),
        Outcome::DirKnownAbsent => "directory absent (skipped)".into(),
        Outcome::WrongClass(s) => format!("wrong ELF class ({s})"),
        Outcome::WrongMachine(s) => format!("wrong machine ({s})"),
        Outcome::NotALibrary(s) => format!("not a loadable library ({s})"),
        Outcome::Unreadable(s) => format!("unreadable ({s})"),
        Outcome::NotConsidered(s) => format!("not considered ({s})"),
        Outcome::NotInCache(s) => s.clone(),
    }
}

/// The loader chain from object `start` up to the object nothing loaded (`start` first); a cycle in the
/// loader links ends the walk.
pub(crate) fn loader_chain(start: usize, loader_of: impl Fn(usize) -> Option<usize>) -> Vec<usize> {
    let mut out = vec![start];
    let mut o = start;
    while let Some(l) = loader_of(o) {
        if out.contains(&l) {
            break;
        }
        out.push(l);
        o = l;
    }
    out
}

/// The parent directory of a target path, as a string.
pub fn dirname(path: &str) -> String {
    match Path::new(path).parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_string_lossy().into_owned(),
        _ => ".".into(),
    }
}

/// Which loader a file's format implies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoaderKind {
    Glibc,
    Dyld,
    Windows,
}

/// Resolve `file` with the loader of its own format.
pub fn resolve(file: &str, env: &LoaderEnv) -> Result<(Graph, LoaderKind), InputError> {
    // The root is mapped once: sniffed here, read by its loader (the ELF mapping is kept for the binder).
    let mapped = Mapped::open(file)?;
    match sniff::classify(file, mapped.bytes())? {
        Detected::Elf => Ok((glibc::resolve_mapped(file, mapped, env)?, LoaderKind::Glibc)),
        Detected::Macho | Detected::Fat => {
            Ok((dyld::resolve_mapped(file, &mapped, env)?, LoaderKind::Dyld))
        }
        Detected::Pe => Ok((
            windows::resolve_mapped(file, &mapped, env)?,
            LoaderKind::Windows,
        )),
    }
}

/// Missing symbols across the tree, with the binding rules of the loader that resolved it.
pub fn check_symbols(graph: &Graph, kind: LoaderKind) -> Vec<Finding> {
    match kind {
        LoaderKind::Glibc => bind::glibc::check_symbols(graph),
        LoaderKind::Dyld => bind::dyld::check_symbols(graph),
        LoaderKind::Windows => bind::windows::check_symbols(graph),
    }
}

/// What describes the target system, as a caller states it (the command line, a gate configuration): the
/// plain form [`LoaderEnv::from_options`] turns into a [`LoaderEnv`].
#[derive(Debug, Clone, Default)]
pub struct LoaderOptions {
    pub arch: Option<String>,
    pub sysroot: Option<PathBuf>,
    pub ld_so_cache: Option<PathBuf>,
    /// `NAME=VALUE` entries of the target process's environment.
    pub env: Vec<String>,
    /// Take `LD_LIBRARY_PATH`, `DYLD_LIBRARY_PATH`, `DYLD_FALLBACK_LIBRARY_PATH` and `PATH` from this process.
    pub inherit_env: bool,
    pub executable: Option<PathBuf>,
    /// Colon-separated default directories.
    pub default_dirs: Option<String>,
    /// Comma-separated hwcap subdirectories.
    pub hwcap_subdirs: Option<String>,
    pub windows_search: WindowsSearch,
    pub dll_dirs: Vec<String>,
}

impl LoaderEnv {
    /// The loader environment the options describe (nothing from the process environment unless asked).
    pub fn from_options(o: &LoaderOptions) -> Result<LoaderEnv, InputError> {
        let mut env = BTreeMap::new();
        if o.inherit_env {
            for k in [
                "LD_LIBRARY_PATH",
                "DYLD_LIBRARY_PATH",
                "DYLD_FALLBACK_LIBRARY_PATH",
                "PATH",
            ] {
                if let Ok(v) = std::env::var(k) {
                    env.insert(k.to_string(), v);
                }
            }
        }
        for kv in &o.env {
            let (k, v) = kv.split_once('=').ok_or_else(|| {
                InputError::new(kv, "--env NAME=VALUE", format!("`{kv}` without `=`"))
            })?;
            env.insert(k.to_string(), v.to_string());
        }
        // A cache the user names must be usable: silently searching without it would answer another question.
        if let Some(c) = &o.ld_so_cache {
            ldcache::LdCache::load_checked(c)?;
        }
        Ok(LoaderEnv {
            sysroot: o.sysroot.clone(),
            ld_so_cache: o.ld_so_cache.clone(),
            env,
            executable: o.executable.clone(),
            default_dirs: o
                .default_dirs
                .as_ref()
                .map(|s| s.split(':').map(str::to_string).collect()),
            hwcap_subdirs: o
                .hwcap_subdirs
                .as_ref()
                .map(|s| {
                    s.split(',')
                        .filter(|p| !p.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            windows_search: o.windows_search,
            dll_dirs: o.dll_dirs.clone(),
            arch: o.arch.clone(),
        })
    }
}
