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

pub mod abi_baseline;
pub mod bindings;
pub mod config;
pub mod data;
pub mod policy;
pub mod python;
pub mod render;
pub mod wheel;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::binary::{Image, Kind, Mapped, ReadOptions};
use crate::check::{check_library, CheckOptions};
use crate::error::InputError;
use crate::loader::{LoaderEnv, WindowsSearch};
use crate::report::codes::{Code, LoadCode, PolicyCode};
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
    /// The policies applied to this target and where each comes from (tag, config, default).
    pub policies: Vec<AppliedPolicy>,
    /// The binaries checked, as reported in locations.
    pub binaries: Vec<String>,
    /// The check kinds run on this target.
    pub checks: Vec<&'static str>,
    pub findings: Vec<GateFinding>,
    /// Inputs that could not be read (exit 2).
    pub errors: Vec<InputError>,
}

/// One policy applied to a target.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedPolicy {
    pub name: String,
    /// `tag` (inferred from the wheel's tags), `config`, `option` (`--python`), or `default`.
    pub source: &'static str,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

impl AppliedPolicy {
    fn new(name: &str, source: &'static str, detail: String) -> Self {
        AppliedPolicy {
            name: name.to_string(),
            source,
            detail,
        }
    }
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
    /// Infer policies from wheel tags (platform, allowed libraries, version ceilings, the interpreter).
    pub default_policies: bool,
    /// The exports of a real interpreter (`--python`), used instead of the committed lists.
    pub python_exports: Option<python::Exports>,
    /// The previous release to diff every target against (`--baseline`; overrides `[policy] abi-baseline`).
    pub abi_baseline: Option<String>,
}

impl Default for GateOptions {
    fn default() -> Self {
        GateOptions {
            fail_on: Severity::Error,
            progress: false,
            default_policies: true,
            python_exports: None,
            abi_baseline: None,
        }
    }
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
        let matches = crate::input::glob_paths(&pattern)?;
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

/// The parse options of a configured target's spec, as `check` reads a header: its `-D`/`-I` and the target's
/// own system headers.
fn spec_parse_options(loaded: &Loaded, tcfg: &config::TargetConfig) -> crate::decl::ParseOptions {
    let mut parse = crate::decl::ParseOptions::from_args(
        &tcfg.defines,
        tcfg.include.iter().map(|i| loaded.base.join(i)).collect(),
        false,
        false,
    );
    parse.target_system_includes = true;
    parse
}

/// What a configured target's spec declares, for the ABI baseline diff; `None` without a spec.
fn spec_interest(loaded: &Loaded, cfg: usize) -> Result<Option<crate::diff::Interest>, InputError> {
    let tcfg = &loaded.config.targets[cfg];
    let Some(spec) = &tcfg.spec else {
        return Ok(None);
    };
    let path = loaded.base.join(spec).display().to_string();
    let parsed = crate::layout::parse_for(
        &path,
        &spec_parse_options(loaded, tcfg),
        crate::abi::Target::host(),
    )?;
    Ok(Some(crate::diff::Interest::from_spec(&parsed)))
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
            let r = analyze(loaded, u, opts);
            bar.inc(1);
            r
        })
        .collect();
    bar.finish_and_clear();
    let abi_base = opts
        .abi_baseline
        .as_ref()
        .or(loaded.config.policy.abi_baseline.as_ref());
    if let Some(spec) = abi_base {
        let baselines = abi_baseline::resolve(loaded, spec)?;
        // A target's header says which records callers see whole: the diff judges records reached through
        // pointers by it, as `diff --spec` does (parsed once per configured target).
        let mut interests: BTreeMap<usize, Option<crate::diff::Interest>> = BTreeMap::new();
        for (t, u) in targets.iter_mut().zip(&units) {
            let interest = match interests.get(&u.cfg) {
                Some(i) => i.clone(),
                None => {
                    let i = match spec_interest(loaded, u.cfg) {
                        Ok(i) => i,
                        Err(e) => {
                            t.errors.push(e);
                            None
                        }
                    };
                    interests.insert(u.cfg, i.clone());
                    i
                }
            };
            match abi_baseline::findings(&t.path, &baselines, interest) {
                Ok(fs) => t.findings.extend(fs),
                Err(e) => t.errors.push(e),
            }
            t.checks.push("abi");
            t.checks.sort();
            t.checks.dedup();
        }
    }
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
    // Baseline patterns compiled once, not once per finding.
    let baselines: Vec<(&str, Option<glob::Pattern>, &Option<String>)> = loaded
        .config
        .baselines
        .iter()
        .map(|b| {
            let b = b.get_ref();
            (
                b.code.as_str(),
                glob::Pattern::new(&b.location_glob).ok(),
                &b.reason,
            )
        })
        .collect();
    for t in &mut targets {
        summary.binaries += t.binaries.len();
        summary.input_errors += t.errors.len();
        for f in &mut t.findings {
            if let Some(s) = overrides.get(f.finding.code.id()) {
                f.finding.severity = *s;
            }
            for (code, pattern, reason) in &baselines {
                if f.finding.code == *code
                    && pattern
                        .as_ref()
                        .is_some_and(|p| p.matches(&f.finding.location.to_string()))
                {
                    f.suppressed = (*reason).clone();
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
    crate::input::open_regular(p, "a file").is_ok_and(|(mut f, _)| f.read_exact(&mut head).is_ok())
        && wheel::is_binary_magic(&head)
}

/// Windows DLLs every supported Windows 10/11 has in System32 beyond the loader model's own list (delvewheel does
/// not vendor them either): the platform provides them.
const WINDOWS_SYSTEM_DLLS: &[&str] = &[
    "advapi32.dll",
    "avrt.dll",
    "bcrypt.dll",
    "cfgmgr32.dll",
    "comctl32.dll",
    "comdlg32.dll",
    "crypt32.dll",
    "d2d1.dll",
    "d3d11.dll",
    "d3d12.dll",
    "d3d9.dll",
    "d3dcompiler_47.dll",
    "dbghelp.dll",
    "dnsapi.dll",
    "dwmapi.dll",
    "dwrite.dll",
    "dxgi.dll",
    "gdi32.dll",
    "gdiplus.dll",
    "glu32.dll",
    "hid.dll",
    "imm32.dll",
    "iphlpapi.dll",
    "kernel32.dll",
    "mpr.dll",
    "msimg32.dll",
    "mswsock.dll",
    "ncrypt.dll",
    "netapi32.dll",
    "ntdll.dll",
    "ole32.dll",
    "oleaut32.dll",
    "opengl32.dll",
    "pdh.dll",
    "powrprof.dll",
    "psapi.dll",
    "rpcrt4.dll",
    "secur32.dll",
    "setupapi.dll",
    "shell32.dll",
    "shlwapi.dll",
    "user32.dll",
    "userenv.dll",
    "uxtheme.dll",
    "version.dll",
    "winhttp.dll",
    "wininet.dll",
    "winmm.dll",
    "winspool.drv",
    "wldap32.dll",
    "wlanapi.dll",
    "ws2_32.dll",
    "wtsapi32.dll",
];

/// MSVC runtime DLLs: not part of Windows; present only where the Visual C++ Redistributable is installed.
pub fn is_msvc_runtime(name: &str) -> bool {
    let n = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    (n.starts_with("vcruntime1")
        || n.starts_with("msvcp1")
        || n.starts_with("concrt1")
        || n.starts_with("vcomp1"))
        && n.ends_with(".dll")
}

/// `python3.dll`, `python312.dll`: loaded by python.exe before any extension module.
pub fn is_python_dll(name: &str) -> bool {
    let n = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(name)
        .to_ascii_lowercase();
    n.starts_with("python3") && n.ends_with(".dll")
}

fn base_name(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// One binary of a target, parsed once.
struct Bin<'d> {
    host: PathBuf,
    display: String,
    images: Vec<Image<'d>>,
    extension: bool,
    root: bool,
}

/// The loader's verdicts for one root: its graph and findings, after the platform's and the interpreter's share.
struct Resolved {
    graph: crate::loader::Graph,
    findings: Vec<Finding>,
}

/// What the platform and the interpreter provide to one target.
struct Provided<'a> {
    /// Library names the platform provides (ELF policy allow-lists, Windows system DLLs), lower-case for PE.
    libs: Vec<String>,
    /// Where the names come from, for the rule text (`manylinux_2_17 policy`).
    source: String,
    /// The interpreter of the target's extension modules.
    python: Option<&'a python::Exports>,
    python_abi: Option<python::PythonAbi>,
}

impl Provided<'_> {
    fn provides(&self, name: &str) -> bool {
        let b = base_name(name);
        self.libs.iter().any(|l| l.eq_ignore_ascii_case(b))
            || base_name(b).starts_with("ld-linux")
            || b.starts_with("ld64.so")
            || b.starts_with("ld-musl")
    }
}

/// Resolve one root and apply what the platform and the interpreter provide.
fn resolve_root(
    host: &str,
    env: &LoaderEnv,
    prov: &Provided<'_>,
    ext_paths: &[String],
) -> Result<Resolved, InputError> {
    let (mut g, kind) = crate::loader::resolve(host, env)?;
    // A library the platform's policy allows is provided by the target system: never "missing" (the host may be
    // another architecture, or lack it); its symbol versions are judged by the policy's ceilings (FFI0602).
    let mut platform_libs: Vec<String> = Vec::new();
    for n in &mut g.nodes {
        for e in &mut n.edges {
            if e.missing && prov.provides(&e.name) {
                e.missing = false;
                e.rule = Some(
                    crate::loader::rule::How::ProvidedByPlatform {
                        source: prov.source.clone(),
                    }
                    .into(),
                );
                platform_libs.push(e.name.clone());
            }
        }
    }
    // The dynamic loader (and any provided library) known by name only: its file is not on this host.
    for n in &g.nodes {
        let name = n
            .soname
            .clone()
            .unwrap_or_else(|| base_name(&n.path).to_string());
        if prov.provides(&name) && !Path::new(&n.host_path).is_file() {
            platform_libs.push(name);
        }
    }
    platform_libs.sort();
    platform_libs.dedup();
    g.add_findings();
    let more = crate::loader::check_symbols(&g, kind);
    let mut findings = std::mem::take(&mut g.findings);
    let mut unchecked = 0usize;
    for mut f in more {
        if f.code != Code::Load(LoadCode::UndefinedSymbol) {
            findings.push(f);
            continue;
        }
        let symbol = f.location.symbol.clone().unwrap_or_default();
        if !ext_paths.is_empty() {
            // Everything loaded into the interpreter's process binds to its global symbols.
            if let Some(py) = prov.python {
                if py.has(&symbol) {
                    continue;
                }
                // CPython's executable links the C math library: its names are in the global scope of every
                // extension module, which need not link libm itself.
                if kind == crate::loader::LoaderKind::Glibc
                    && !f.message.contains("(expected in ")
                    && host_libm(&g.arch).is_some_and(|m| m.contains(&symbol))
                {
                    continue;
                }
                if python::is_python_api(&symbol) {
                    let abi = prov
                        .python_abi
                        .as_ref()
                        .map(|a| a.describe())
                        .unwrap_or_else(|| "the interpreter".into());
                    f.severity = Severity::Error;
                    f.message = format!("undefined symbol {symbol}: {abi} does not export it");
                    f.expected = format!("a C API name {abi} exports ({})", py.source);
                    f.found =
                        format!("{symbol} is not in it (a private or removed API, or a newer one)");
                    f.hint = "the extension module was built against another Python's headers, or uses an internal \
                              API: build it for the tagged Python (cibuildwheel does one build per version), use \
                              only the public C API, or fix the wheel's cp3XY / abi3 tag"
                        .into();
                    findings.push(f);
                    continue;
                }
            }
        }
        // The platform's libraries have no file here: their symbols cannot be checked one by one.
        if !platform_libs.is_empty() && kind == crate::loader::LoaderKind::Glibc {
            let expected_in = f
                .message
                .rsplit_once("(expected in ")
                .map(|(_, r)| r.trim_end_matches(')').to_string());
            let from_platform = match &expected_in {
                Some(lib) => platform_libs.iter().any(|p| p == lib),
                None => true,
            };
            if from_platform {
                unchecked += 1;
                continue;
            }
        }
        findings.push(f);
    }
    // ld.so stops at the first library it cannot load: the symbols that library would have defined are not a
    // second problem. One finding per missing library, with the count of unbound symbols it leaves.
    let missing = findings
        .iter()
        .filter(|f| f.code == Code::Load(LoadCode::NotFound))
        .count();
    if missing > 0 && kind == crate::loader::LoaderKind::Glibc {
        let unbound = findings
            .iter()
            .filter(|f| f.code == Code::Load(LoadCode::UndefinedSymbol))
            .count();
        if unbound > 0 {
            findings.retain(|f| f.code != Code::Load(LoadCode::UndefinedSymbol));
            for f in findings
                .iter_mut()
                .filter(|f| f.code == Code::Load(LoadCode::NotFound))
            {
                f.found.push_str(&format!(
                    "\n({unbound} undefined symbol(s) of this load tree are not reported separately: the load \
                     already fails here)"
                ));
            }
        }
    }
    if unchecked > 0 {
        findings.push(Finding {
            code: Code::Load(LoadCode::Unchecked),
            severity: Severity::Info,
            location: g.nodes.first().map(|n| n.path.clone()).unwrap_or_default().into(),
            message: format!(
                "{unchecked} undefined symbol(s) bind to libraries the platform provides, which have no file here; \
                 not checked one by one"
            ),
            expected: "a file of each library to check symbols against".into(),
            found: format!("provided by the platform ({}): {}", prov.source, platform_libs.join(", ")),
            hint: "their symbol versions are checked against the policy's ceilings (FFI0602); pass --sysroot with the \
                   target's root file system to check every symbol"
                .into(),
        });
    }
    Ok(Resolved { graph: g, findings })
}

/// The names of this host's `libm.so.6` for an architecture (None when the host has none of that architecture).
fn host_libm(arch: &str) -> Option<&'static std::collections::HashSet<String>> {
    use std::sync::OnceLock;
    type Names = Option<&'static std::collections::HashSet<String>>;
    static CACHE: OnceLock<std::sync::Mutex<BTreeMap<String, Names>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let mut c = cache.lock().ok()?;
    if let Some(v) = c.get(arch) {
        return *v;
    }
    let triplet = match arch {
        "x86_64" => "x86_64-linux-gnu",
        "aarch64" => "aarch64-linux-gnu",
        "i386" => "i386-linux-gnu",
        _ => "",
    };
    let mut found = None;
    for p in [
        format!("/lib/{triplet}/libm.so.6"),
        format!("/usr/lib/{triplet}/libm.so.6"),
        "/lib64/libm.so.6".to_string(),
        "/usr/lib64/libm.so.6".to_string(),
    ] {
        let Ok(m) = Mapped::open(&p) else { continue };
        let Ok(imgs) =
            crate::binary::read_images(&p, m.bytes(), None, ReadOptions { demangle: false })
        else {
            continue;
        };
        let Some(img) = imgs.first() else { continue };
        if wheel::image_arch(&img.arch) != arch {
            continue;
        }
        let names: std::collections::HashSet<String> =
            img.exports.iter().map(|e| e.name.to_string()).collect();
        found = Some(&*Box::leak(Box::new(names)));
        break;
    }
    c.insert(arch.to_string(), found);
    found
}

/// The interpreter's exports for a target's ABI: `--python` wins, else the committed lists.
fn python_exports(
    opts: &GateOptions,
    abi: Option<&python::PythonAbi>,
    windows: bool,
) -> Option<python::Exports> {
    if let Some(p) = &opts.python_exports {
        return Some(p.clone());
    }
    python::committed(abi?, windows)
}

fn analyze(loaded: &Loaded, u: &Unit, opts: &GateOptions) -> TargetReport {
    let tcfg = &loaded.config.targets[u.cfg];
    let mut report = TargetReport {
        path: u.display.clone(),
        kind: "file",
        wheel: None,
        policies: Vec::new(),
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
    let mut python_sources: Vec<(String, String)> = Vec::new();
    let mut wheel_abi = None;
    if u.path.is_dir() {
        report.kind = "directory";
        root = u.path.clone();
        let mut files: Vec<PathBuf> = Vec::new();
        for e in walkdir::WalkDir::new(&u.path)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            if e.path().extension().is_some_and(|x| x == "py") {
                if let Ok(t) = crate::input::read_text(e.path(), "a Python module") {
                    python_sources.push((e.path().display().to_string(), t));
                }
            } else if read_magic(e.path()) {
                files.push(e.into_path());
            }
        }
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
                if opts.default_policies {
                    tags = plats
                        .iter()
                        .filter_map(|t| wheel::tag_requirement(t))
                        .collect();
                    wheel_abi = python::from_wheel_tags(&x.info.python_tags, &x.info.abi_tags);
                }
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
                python_sources = x.python_sources.clone();
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

    // The policies that apply, and where each comes from.
    let mut allowed: Option<Vec<String>> = loaded.allowed.clone();
    let mut provided = Provided {
        libs: loaded.allowed.clone().unwrap_or_default(),
        source: "[policy] allowed-external".into(),
        python: None,
        python_abi: None,
    };
    if loaded.allowed.is_some() {
        report.policies.push(AppliedPolicy::new(
            "allowed-external",
            "config",
            format!("{} libraries", loaded.allowed.as_ref().map_or(0, Vec::len)),
        ));
    }
    for (key, set) in loaded.config.policy.set_keys() {
        if set {
            report
                .policies
                .push(AppliedPolicy::new(key, "config", String::new()));
        }
    }
    let mut tag_sources = Vec::new();
    for t in &tags {
        let mut what = vec![format!("{} {}", t.format.as_str(), t.archs.join("+"))];
        if let Some(pol) = t.manylinux {
            allowed
                .get_or_insert_with(Vec::new)
                .extend(pol.libs.iter().map(|l| l.to_string()));
            provided.libs.extend(pol.libs.iter().map(|l| l.to_string()));
            what.push(format!(
                "{} allowed libraries of auditwheel's {}",
                pol.libs.len(),
                pol.name
            ));
            tag_sources.push(format!("{} policy", pol.name));
        }
        if let Some(v) = &t.max_glibc {
            what.push(format!("GLIBC <= {v}"));
        }
        if let Some(v) = &t.max_macos {
            what.push(format!("minimum macOS <= {v} (arm64: <= max({v}, 11.0))"));
        }
        if t.format != crate::binary::Format::Elf {
            // macOS and Windows: only the OS's own libraries (and, on Windows, the interpreter's DLL and the MSVC
            // runtime, FFI0614) may come from outside the wheel.
            allowed.get_or_insert_with(Vec::new);
        }
        if t.format == crate::binary::Format::Pe {
            provided
                .libs
                .extend(WINDOWS_SYSTEM_DLLS.iter().map(|s| s.to_string()));
            tag_sources.push("Windows system DLLs".into());
        }
        report
            .policies
            .push(AppliedPolicy::new(&t.tag, "tag", what.join(", ")));
    }
    if let Some(a) = allowed.as_mut() {
        a.sort();
        a.dedup();
    }
    provided.libs.sort();
    provided.libs.dedup();
    tag_sources.sort();
    tag_sources.dedup();
    if !tag_sources.is_empty() {
        provided.source = tag_sources.join(", ");
    }
    report.policies.push(AppliedPolicy::new(
        "search paths by risk",
        "default",
        if loaded.config.policy.relative_rpath {
            "every absolute entry is an error (relative-rpath = true)".into()
        } else {
            "world-writable or cwd-relative entries: error; other absolute entries: warning".into()
        },
    ));

    // Every binary parsed once.
    let mapped: Vec<Result<Mapped, InputError>> = bins
        .par_iter()
        .map(|(h, d)| Mapped::open(&h.display().to_string()).map_err(|e| relabel(e, d)))
        .collect();
    // Read in parallel (demangling is the costly part), then gathered in the binaries' sorted order.
    let read: Vec<Result<Vec<Image<'_>>, InputError>> = mapped
        .par_iter()
        .zip(bins.par_iter())
        .map(|(m, (_, display))| match m {
            Ok(m) => crate::binary::read_guarded(m, None, ReadOptions::default())
                .map_err(|e| relabel(e, display)),
            Err(e) => Err(e.clone()),
        })
        .collect();
    let mut parsed: Vec<Bin<'_>> = Vec::new();
    for ((host, display), images) in bins.iter().zip(read) {
        let images = match images {
            Ok(i) => i,
            Err(e) => {
                report.errors.push(e);
                continue;
            }
        };
        let extension = is_extension_module(
            display,
            images.first().map(|i| i.exports.as_slice()).unwrap_or(&[]),
        );
        let exe = images
            .first()
            .is_some_and(|i| matches!(i.kind, Kind::Executable | Kind::PieExecutable));
        parsed.push(Bin {
            host: host.clone(),
            display: display.clone(),
            images,
            extension,
            root: extension || exe,
        });
    }
    report.binaries = parsed.iter().map(|b| b.display.clone()).collect();
    // Libraries the target's Python code loads at run time (ctypes, cffi): shipped ones are roots.
    let py_loads = if python_sources.is_empty() || report.kind == "file" {
        bindings::PyLoads::default()
    } else {
        let format = tags.first().map(|t| t.format).or_else(|| {
            parsed
                .iter()
                .find_map(|b| b.images.first().map(|i| i.format))
        });
        let list: Vec<(PathBuf, String)> = parsed
            .iter()
            .map(|b| (b.host.clone(), b.display.clone()))
            .collect();
        let in_wheel = report.kind == "wheel";
        bindings::scan(
            &python_sources,
            |p| {
                if in_wheel {
                    root.join(p)
                } else {
                    PathBuf::from(p)
                }
            },
            |p| {
                if in_wheel {
                    format!("{}!{p}", u.display)
                } else {
                    p.to_string()
                }
            },
            &list,
            format,
            |n| provided.provides(n),
        )
    };
    for &i in &py_loads.roots {
        parsed[i].root = true;
    }
    let has_roots = report.kind == "file" || parsed.iter().any(|b| b.root);
    if report.kind == "file" || !has_roots {
        // A single file, or a directory of libraries only: each is its own root.
        for b in &mut parsed {
            b.root = true;
        }
    }
    // The interpreter of the extension modules: the wheel's tag, else each module's file name.
    let abi = wheel_abi.clone().or_else(|| {
        parsed
            .iter()
            .filter(|b| b.extension)
            .find_map(|b| python::from_filename(&b.display))
    });
    let windows = parsed.iter().any(|b| {
        b.extension
            && b.images
                .first()
                .is_some_and(|i| i.format == crate::binary::Format::Pe)
    });
    let py = if parsed.iter().any(|b| b.extension) {
        python_exports(opts, abi.as_ref(), windows)
    } else {
        None
    };
    if let Some(p) = &py {
        report.policies.push(AppliedPolicy::new(
            "interpreter C API",
            if opts.python_exports.is_some() {
                "option"
            } else if wheel_abi.is_some() {
                "tag"
            } else {
                "default"
            },
            format!(
                "{} ({} names, {})",
                abi.as_ref()
                    .map(|a| a.describe())
                    .unwrap_or_else(|| "--python".into()),
                p.names.len(),
                p.source
            ),
        ));
    }
    provided.python = py.as_ref();
    provided.python_abi = abi.clone();
    let ext_paths: Vec<String> = parsed
        .iter()
        .filter(|b| b.extension)
        .map(|b| env.target_path(&b.host))
        .collect();

    // Roots first: what they load is analysed as loaded by them.
    let root_results: Vec<Option<Result<Resolved, InputError>>> = parsed
        .par_iter()
        .map(|b| {
            b.root
                .then(|| resolve_root(&b.host.display().to_string(), &env, &provided, &ext_paths))
        })
        .collect();
    let canon = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| PathBuf::from(p));
    let mut reached: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for r in root_results.iter().flatten().flatten() {
        for n in r.graph.nodes.iter().skip(1) {
            reached.insert(canon(&n.host_path));
        }
    }
    // Shipped libraries no root loads: resolved on their own (ctypes / dlopen load them that way), and named.
    let unreached: Vec<usize> = (0..parsed.len())
        .filter(|&i| {
            !parsed[i].root && !reached.contains(&canon(&parsed[i].host.display().to_string()))
        })
        .collect();
    let lone_results: Vec<(usize, Result<Resolved, InputError>)> = unreached
        .par_iter()
        .map(|&i| {
            (
                i,
                resolve_root(
                    &parsed[i].host.display().to_string(),
                    &env,
                    &provided,
                    &ext_paths,
                ),
            )
        })
        .collect();
    let mut lone_reached: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
    for (_, r) in &lone_results {
        if let Ok(r) = r {
            for n in r.graph.nodes.iter().skip(1) {
                lone_reached.insert(canon(&n.host_path));
            }
        }
    }
    let mut graphs: Vec<Option<Result<Resolved, InputError>>> = root_results.into_iter().collect();
    for (i, r) in lone_results {
        graphs[i] = Some(r);
    }

    let per_binary: Vec<(Vec<GateFinding>, Vec<InputError>)> = parsed
        .par_iter()
        .zip(graphs.par_iter())
        .map(|(b, resolved)| {
            let display = b.display.as_str();
            let host_s = b.host.display().to_string();
            let mut findings_out: Vec<GateFinding> = Vec::new();
            let mut errors_out: Vec<InputError> = Vec::new();
            let mut found: Vec<(Finding, Option<&'static str>)> = Vec::new();
            let mut graph = None;
            match resolved {
                Some(Ok(r)) => {
                    let loaded_by_sibling = !b.root && lone_reached.contains(&canon(&host_s));
                    if !loaded_by_sibling {
                        found.extend(r.findings.iter().cloned().map(|f| (f, None)));
                    }
                    graph = Some(&r.graph);
                }
                // The binary's own error is shown under its name in the target; an error about another file
                // (a configured executable, a cache) keeps that file's name.
                Some(Err(e)) if e.path == host_s => errors_out.push(relabel(e.clone(), display)),
                Some(Err(e)) => errors_out.push(e.clone()),
                None => {}
            }
            if !b.root && has_roots && report.kind != "file" && resolved.is_some() {
                let loaded_by_sibling = lone_reached.contains(&canon(&host_s));
                if !loaded_by_sibling {
                    found.push((unloaded_finding(b, &python_sources), None));
                }
            }
            let subject = policy::Subject {
                display,
                host: &b.host,
                images: &b.images,
                graph,
                root: &root,
                extension_module: b.extension,
                tags: &tags,
                allowed: allowed.as_deref(),
                presets: &loaded.presets,
                python: provided.python,
                python_abi: provided.python_abi.as_ref(),
            };
            found.extend(
                policy::check(&subject, &loaded.config.policy)
                    .into_iter()
                    .map(|f| (f, None)),
            );
            if let (Some(spec), false) = (&tcfg.spec, b.extension) {
                let opts = CheckOptions {
                    parse: spec_parse_options(loaded, tcfg),
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
                f.location.file = fix(&f.location.file.replace(&host_s, display));
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
    // What the Python code loads and declares: FFI0717, and the binding checked against each shipped library.
    for f in py_loads.findings {
        report.findings.push(GateFinding {
            check: f.code.info().kind.as_str(),
            finding: f,
            suppressed: None,
        });
    }
    for (binding, i) in &py_loads.checks {
        let host_s = parsed[*i].host.display().to_string();
        match crate::check::check_read_binding(&host_s, binding, &[], &CheckOptions::default()) {
            Ok(r) => {
                for mut f in r
                    .findings()
                    .filter(|f| f.code != Code::Binding(crate::report::codes::BindingCode::Summary))
                    .cloned()
                {
                    f.location.file = fix(&f.location.file.replace(&host_s, &parsed[*i].display));
                    f.message = fix(&f.message.replace(&host_s, &parsed[*i].display));
                    report.findings.push(GateFinding {
                        finding: f,
                        check: "spec",
                        suppressed: None,
                    });
                }
            }
            Err(e) => report.errors.push(e),
        }
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

/// FFI0613: a shipped library no root loads; says whether the target's Python code names it.
fn unloaded_finding(b: &Bin<'_>, sources: &[(String, String)]) -> Finding {
    let base = base_name(&b.display).to_string();
    // `libfoo-1a2b3c4d.so.1` → `libfoo`; `foo.dll` → `foo`.
    let stem: String = base.split(['.', '-']).next().unwrap_or(&base).to_string();
    let mentions: Vec<&(String, String)> = sources
        .iter()
        .filter(|(_, t)| t.contains(&base) || (stem.len() > 3 && t.contains(&stem)))
        .collect();
    let runtime = mentions.iter().any(|(_, t)| {
        [
            "ctypes",
            "CDLL",
            "cdll",
            "dlopen",
            "LoadLibrary",
            "cffi",
            "find_library",
        ]
        .iter()
        .any(|k| t.contains(k))
    });
    let (found, hint) = if mentions.is_empty() {
        (
            "no extension module or executable of the target needs it, and no .py file names it".to_string(),
            "dead weight, or loaded by name from somewhere this check cannot see: remove it from the wheel, or keep \
             it and baseline this finding with the reason",
        )
    } else {
        let files: Vec<&str> = mentions.iter().take(3).map(|(p, _)| p.as_str()).collect();
        (
            format!(
                "no extension module or executable needs it; named in {}{}",
                files.join(", "),
                if runtime { " (ctypes / cffi / dlopen: loaded at run time by Python code)" } else { "" }
            ),
            "a library loaded at run time is resolved on its own here (its own RUNPATH / $ORIGIN); baseline this \
             finding if that is intended",
        )
    };
    Finding {
        code: Code::Policy(PolicyCode::UnloadedLibrary),
        severity: Severity::Warning,
        location: b.display.clone().into(),
        message: format!(
            "{} is shipped but nothing in the target loads it",
            b.display
        ),
        expected: "every shipped library needed by an extension module or executable".into(),
        found,
        hint: hint.into(),
    }
}

fn relabel(mut e: InputError, display: &str) -> InputError {
    e.path = display.to_string();
    e
}
