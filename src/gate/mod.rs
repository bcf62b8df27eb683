//! `ffi-doctor gate`: the CI pre-release gate. A config names targets (files, globs, directories, wheels) and
//! policies; every binary of every target goes through the same library calls as `deps --check-symbols`, `check`
//! and `load`, plus the FFI06xx policies of [`policy`]. Targets run in parallel; the report's order does not
//! depend on it.
//!
//! Wheel model (as if installed): the wheel's binaries are extracted into a temporary directory with their paths
//! kept, so ELF `$ORIGIN` and Mach-O `@loader_path` / `@rpath` resolve inside the wheel; a PE extension module is
//! resolved with the CPython >= 3.8 search order (`LOAD_LIBRARY_SEARCH_DEFAULT_DIRS`: the DLL's own directory,
//! `os.add_dll_directory` directories, System32 — not PATH), where every top-level `*.libs` directory of the wheel
//! counts as added with `os.add_dll_directory`, which is what delvewheel's patched `__init__.py` does. A library
//! is "shipped" when it resolves inside the target (the extracted wheel, the directory, or a file's own
//! directory); anything else is external.

pub mod config;
pub mod data;
pub mod policy;
pub mod render;
pub mod wheel;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::binary::{Mapped, ReadOptions};
use crate::commands::check::{check_library, CheckOptions};
use crate::error::InputError;
use crate::loader::{LoaderEnv, WindowsSearch};
use crate::report::{Finding, Severity, EXIT_FINDINGS, EXIT_INPUT, EXIT_OK};

pub use config::{ConfigError, Loaded};

/// The JSON schema name of the gate report.
pub const SCHEMA: &str = "ffi-doctor/gate/v1";

/// A finding in the gate report: which target and check produced it, and whether a baseline accepts it.
#[derive(Debug, Clone, Serialize)]
pub struct GateFinding {
    #[serde(flatten)]
    pub finding: Finding,
    /// The check kind: dependencies, symbols, exports, platform, hardening, spec, runtime.
    pub check: &'static str,
    /// The baseline reason, when a `[[baseline]]` entry accepts this finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
}

/// One analysed target (a file, a directory, or a wheel; a glob expands to one target per match).
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub path: String,
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wheel: Option<wheel::WheelInfo>,
    /// The binaries checked, as reported in locations.
    pub binaries: Vec<String>,
    /// The check kinds run on this target.
    pub checks: Vec<&'static str>,
    pub findings: Vec<GateFinding>,
    /// Inputs that could not be read (exit 2).
    pub errors: Vec<InputError>,
}

/// Counts over all targets (suppressed findings counted apart).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub targets: usize,
    pub binaries: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub suppressed: usize,
    pub input_errors: usize,
}

/// The whole gate run.
#[derive(Debug, Clone, Serialize)]
pub struct GateReport {
    pub schema: &'static str,
    pub config: String,
    pub fail_on: Severity,
    pub targets: Vec<TargetReport>,
    pub summary: Summary,
    pub exit_code: i32,
}

/// How to run the gate.
#[derive(Debug, Clone)]
pub struct GateOptions {
    pub fail_on: Severity,
    /// Show a progress bar on stderr (the caller decides: only on a TTY).
    pub progress: bool,
}

/// One unit of work: a target path after glob expansion.
struct Unit {
    cfg: usize,
    path: PathBuf,
    display: String,
}

fn expand(loaded: &Loaded) -> Result<Vec<Unit>, InputError> {
    let mut units = Vec::new();
    if loaded.config.targets.is_empty() {
        return Err(InputError::new(
            &loaded.path.display().to_string(),
            "at least one [[target]] (or --target PATH)",
            "none",
        ));
    }
    for (i, t) in loaded.config.targets.iter().enumerate() {
        let joined = loaded.base.join(&t.path);
        let shown = |p: &Path| p.strip_prefix("./").unwrap_or(p).display().to_string();
        if joined.exists() {
            units.push(Unit {
                cfg: i,
                display: shown(&joined),
                path: joined,
            });
            continue;
        }
        let pattern = joined.to_string_lossy().into_owned();
        let mut matches: Vec<PathBuf> = glob::glob(&pattern)
            .map_err(|e| {
                InputError::new(
                    &t.path,
                    "a file, directory, wheel or glob",
                    format!("a bad glob: {e}"),
                )
            })?
            .filter_map(Result::ok)
            .collect();
        matches.sort();
        if matches.is_empty() {
            return Err(InputError::new(
                &pattern,
                "a file, directory, wheel or glob matching something",
                "nothing there",
            )
            .hint("paths in the config are relative to the config file's directory"));
        }
        for m in matches {
            units.push(Unit {
                cfg: i,
                display: shown(&m),
                path: m,
            });
        }
    }
    Ok(units)
}

/// Run the gate for a loaded config.
pub fn run(loaded: &Loaded, opts: &GateOptions) -> Result<GateReport, InputError> {
    let units = expand(loaded)?;
    let bar = if opts.progress {
        let b = indicatif::ProgressBar::new(units.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut targets: Vec<TargetReport> = units
        .par_iter()
        .map(|u| {
            let r = analyze(loaded, u);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    let overrides: BTreeMap<&str, Severity> = loaded
        .config
        .severity
        .iter()
        .map(|(k, v)| (k.as_str(), (*v.get_ref()).into()))
        .collect();
    let mut summary = Summary {
        targets: targets.len(),
        ..Summary::default()
    };
    for t in &mut targets {
        summary.binaries += t.binaries.len();
        summary.input_errors += t.errors.len();
        for f in &mut t.findings {
            if let Some(s) = overrides.get(f.finding.code.id()) {
                f.finding.severity = *s;
            }
            for b in &loaded.config.baselines {
                let b = b.get_ref();
                let glob_ok = glob::Pattern::new(&b.location_glob)
                    .is_ok_and(|p| p.matches(&f.finding.location));
                if f.finding.code == b.code.as_str() && glob_ok {
                    f.suppressed = b.reason.clone();
                    break;
                }
            }
            if f.suppressed.is_some() {
                summary.suppressed += 1;
                continue;
            }
            match f.finding.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
        }
    }
    let failing = targets
        .iter()
        .flat_map(|t| &t.findings)
        .any(|f| f.suppressed.is_none() && f.finding.severity >= opts.fail_on);
    let exit_code = if summary.input_errors > 0 {
        EXIT_INPUT
    } else if failing {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    Ok(GateReport {
        schema: SCHEMA,
        config: loaded.path.display().to_string(),
        fail_on: opts.fail_on,
        targets,
        summary,
        exit_code,
    })
}

fn loader_env(loaded: &Loaded, t: &config::TargetConfig) -> LoaderEnv {
    let p = &t.platform;
    let rel = |s: &str| loaded.base.join(s);
    LoaderEnv {
        sysroot: p.sysroot.as_deref().map(rel),
        env: p.env.clone(),
        executable: p.executable.as_deref().map(rel),
        windows_search: p.windows_search.map(Into::into).unwrap_or_default(),
        dll_dirs: p
            .dll_dirs
            .iter()
            .map(|d| rel(d).display().to_string())
            .collect(),
        ..LoaderEnv::default()
    }
}

/// Whether a file is a Python extension module (its `PyInit_*` export is then expected).
fn is_extension_module(path: &str, exports: &[crate::binary::Export<'_>]) -> bool {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    name.ends_with(".pyd")
        || name.contains(".cpython-")
        || name.contains(".abi3.")
        || name.contains(".pypy")
        || exports.iter().any(|e| e.c_name.starts_with("PyInit_"))
}

fn read_magic(p: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    std::fs::File::open(p)
        .and_then(|mut f| f.read_exact(&mut head))
        .is_ok()
        && wheel::is_binary_magic(&head)
}

fn analyze(loaded: &Loaded, u: &Unit) -> TargetReport {
    let tcfg = &loaded.config.targets[u.cfg];
    let mut report = TargetReport {
        path: u.display.clone(),
        kind: "file",
        wheel: None,
        binaries: Vec::new(),
        checks: vec![
            "dependencies",
            "symbols",
            "exports",
            "platform",
            "hardening",
        ],
        findings: Vec::new(),
        errors: Vec::new(),
    };
    if tcfg.spec.is_some() {
        report.checks.push("spec");
    }
    if tcfg.runtime {
        report.checks.push("runtime");
    }
    report.checks.sort();
    let mut env = loader_env(loaded, tcfg);
    // (host path, display) of each binary, the target's root, and the wheel's tag requirements.
    let mut bins: Vec<(PathBuf, String)> = Vec::new();
    let mut tags = Vec::new();
    let mut _extracted = None;
    let root: PathBuf;
    let mut rewrite: Option<(String, String)> = None;
    if u.path.is_dir() {
        report.kind = "directory";
        root = u.path.clone();
        let mut files: Vec<PathBuf> = walkdir::WalkDir::new(&u.path)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file() && read_magic(e.path()))
            .map(|e| e.into_path())
            .collect();
        files.sort();
        bins = files
            .into_iter()
            .map(|f| (f.clone(), f.display().to_string()))
            .collect();
    } else if u.path.extension().is_some_and(|e| e == "whl") {
        report.kind = "wheel";
        match wheel::extract(&u.path.display().to_string()) {
            Ok(x) => {
                root = x.dir.path().to_path_buf();
                let mut plats: Vec<String> = x.info.platform_tags.clone();
                for t in &x.info.wheel_tags {
                    if let Some(p) = t.rsplit('-').next() {
                        if !plats.iter().any(|q| q == p) {
                            plats.push(p.to_string());
                        }
                    }
                }
                tags = plats
                    .iter()
                    .filter_map(|t| wheel::tag_requirement(t))
                    .collect();
                for b in &x.info.binaries {
                    bins.push((root.join(b), format!("{}!{b}", u.display)));
                }
                // delvewheel: every top-level *.libs directory is added with os.add_dll_directory.
                let mut libs: Vec<String> = std::fs::read_dir(&root)
                    .into_iter()
                    .flatten()
                    .filter_map(Result::ok)
                    .filter(|e| {
                        e.path().is_dir() && e.file_name().to_string_lossy().ends_with(".libs")
                    })
                    .map(|e| e.path().display().to_string())
                    .collect();
                libs.sort();
                env.dll_dirs.extend(libs);
                if tcfg.platform.windows_search.is_none() {
                    env.windows_search = WindowsSearch::Python;
                }
                rewrite = Some((root.display().to_string(), format!("{}!", u.display)));
                report.wheel = Some(x.info.clone());
                _extracted = Some(x);
            }
            Err(e) => {
                report.errors.push(e);
                return report;
            }
        }
    } else {
        root = u
            .path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        bins.push((u.path.clone(), u.display.clone()));
    }
    let fix = |s: &str| -> String {
        match &rewrite {
            Some((from, to)) => {
                let canon = std::fs::canonicalize(from)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default();
                let mut out = s.replace(&format!("{from}/"), to);
                if !canon.is_empty() {
                    out = out.replace(&format!("{canon}/"), to);
                }
                out
            }
            None => s.to_string(),
        }
    };
    // Every binary of a target is independent: analyse them in parallel (a directory of 200 libraries is one
    // target), then merge in their sorted order so the report does not depend on scheduling.
    report.binaries = bins.iter().map(|(_, d)| d.clone()).collect();
    let per_binary: Vec<(Vec<GateFinding>, Vec<InputError>)> = bins
        .par_iter()
        .map(|(host, display)| {
            let mut findings_out: Vec<GateFinding> = Vec::new();
            let mut errors_out: Vec<InputError> = Vec::new();
            let host_s = host.display().to_string();
            let mapped = match Mapped::open(&host_s) {
                Ok(m) => m,
                Err(e) => {
                    errors_out.push(relabel(e, display));
                    return (findings_out, errors_out);
                }
            };
            let images = match crate::commands::read_guarded(&mapped, None, ReadOptions::default())
            {
                Ok(i) => i,
                Err(e) => {
                    errors_out.push(relabel(e, display));
                    return (findings_out, errors_out);
                }
            };
            let ext = is_extension_module(
                display,
                images.first().map(|i| i.exports.as_slice()).unwrap_or(&[]),
            );
            let mut found: Vec<(Finding, Option<&'static str>)> = Vec::new();
            let graph = match crate::loader::resolve(&host_s, &env) {
                Ok((mut g, kind)) => {
                    let more = crate::loader::check_symbols(&g, kind);
                    g.findings.extend(more);
                    found.extend(g.findings.iter().cloned().map(|f| (f, None)));
                    Some(g)
                }
                Err(e) => {
                    errors_out.push(relabel(e, display));
                    None
                }
            };
            let subject = policy::Subject {
                display,
                host,
                images: &images,
                graph: graph.as_ref(),
                root: &root,
                extension_module: ext,
                tags: &tags,
                allowed: loaded.allowed.as_deref(),
                presets: &loaded.presets,
            };
            found.extend(
                policy::check(&subject, &loaded.config.policy)
                    .into_iter()
                    .map(|f| (f, None)),
            );
            if let (Some(spec), false) = (&tcfg.spec, ext) {
                let opts = CheckOptions {
                    parse: crate::spec::ParseOptions::from_args(
                        &tcfg.defines,
                        tcfg.include.iter().map(|i| loaded.base.join(i)).collect(),
                        false,
                        false,
                    ),
                    timeout_secs: 10,
                    ..Default::default()
                };
                let spec_path = loaded.base.join(spec).display().to_string();
                match check_library(&host_s, &spec_path, &opts) {
                    Ok(r) => found.extend(r.findings().cloned().map(|f| (f, Some("spec")))),
                    Err(e) => errors_out.push(e),
                }
            }
            if tcfg.runtime {
                let popts = crate::runtime::ProbeOptions {
                    loader_env: Some(env.clone()),
                    ..Default::default()
                };
                let r = crate::runtime::probe(
                    &host_s,
                    &crate::runtime::ProbeRequest::default(),
                    &popts,
                );
                found.extend(
                    r.findings
                        .iter()
                        .chain(r.explanation.iter())
                        .cloned()
                        .map(|f| (f, Some("runtime"))),
                );
            }
            for (mut f, kind) in found {
                f.location = fix(&f.location.replace(&host_s, display));
                f.message = fix(&f.message.replace(&host_s, display));
                f.found = fix(&f.found.replace(&host_s, display));
                f.expected = fix(&f.expected.replace(&host_s, display));
                f.hint = fix(&f.hint);
                let check = kind.unwrap_or_else(|| f.code.info().kind.as_str());
                findings_out.push(GateFinding {
                    finding: f,
                    check,
                    suppressed: None,
                });
            }
            (findings_out, errors_out)
        })
        .collect();
    for (findings, errors) in per_binary {
        report.findings.extend(findings);
        report.errors.extend(errors);
    }
    report.findings.sort_by(|a, b| {
        (&a.finding.location, a.finding.code, &a.finding.message).cmp(&(
            &b.finding.location,
            b.finding.code,
            &b.finding.message,
        ))
    });
    report.findings.dedup_by(|a, b| {
        a.finding.code == b.finding.code
            && a.finding.location == b.finding.location
            && a.finding.message == b.finding.message
    });
    report
}

fn relabel(mut e: InputError, display: &str) -> InputError {
    e.path = display.to_string();
    e
}
