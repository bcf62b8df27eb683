//! The gate configuration: `ffi-doctor.toml`, or `[tool.ffi-doctor]` in `pyproject.toml`, found from a directory
//! upwards. Strict: an unknown key, a wrong type or a baseline without a reason is an error naming line:col.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::report::Severity;

/// A configuration that cannot be used: where (file:line:col when known) and what is wrong.
#[derive(Debug, Clone)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<(usize, usize)>,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some((l, c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A severity as written in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeverityName {
    Info,
    Warning,
    Error,
}

impl From<SeverityName> for Severity {
    fn from(s: SeverityName) -> Severity {
        match s {
            SeverityName::Info => Severity::Info,
            SeverityName::Warning => Severity::Warning,
            SeverityName::Error => Severity::Error,
        }
    }
}

/// `ffi-doctor.toml` / `[tool.ffi-doctor]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default, rename = "target")]
    pub targets: Vec<TargetConfig>,
    #[serde(default)]
    pub policy: Policy,
    /// Severity overrides per finding code.
    #[serde(default)]
    pub severity: BTreeMap<String, toml::Spanned<SeverityName>>,
    #[serde(default, rename = "baseline")]
    pub baselines: Vec<toml::Spanned<Baseline>>,
}

/// One `[[target]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TargetConfig {
    /// A file, a glob, a directory or a `.whl`, relative to the config file's directory.
    pub path: String,
    /// A C header or cffi cdef the libraries must implement (`ffi-doctor check`).
    pub spec: Option<String>,
    /// `NAME` or `NAME=VALUE` for the spec's preprocessor.
    #[serde(default)]
    pub defines: Vec<String>,
    /// Include directories for the spec, relative to the config file.
    #[serde(default)]
    pub include: Vec<String>,
    #[serde(default)]
    pub platform: Platform,
    /// Also load each library for real in an isolated child process.
    #[serde(default)]
    pub runtime: bool,
}

/// The target system the loader models assume for one target.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Platform {
    pub sysroot: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub executable: Option<String>,
    pub windows_search: Option<WindowsSearchName>,
    #[serde(default)]
    pub dll_dirs: Vec<String>,
}

/// `windows-search` as written in the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowsSearchName {
    Standard,
    Python,
}

impl From<WindowsSearchName> for crate::loader::WindowsSearch {
    fn from(w: WindowsSearchName) -> Self {
        match w {
            WindowsSearchName::Standard => crate::loader::WindowsSearch::Standard,
            WindowsSearchName::Python => crate::loader::WindowsSearch::Python,
        }
    }
}

/// `allowed-external`: a list of sonames / install names / DLL names, where an entry may be a preset name.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum NameList {
    One(String),
    Many(Vec<String>),
}

impl NameList {
    pub fn items(&self) -> Vec<String> {
        match self {
            NameList::One(s) => vec![s.clone()],
            NameList::Many(v) => v.clone(),
        }
    }
}

/// `[policy]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Policy {
    pub allowed_external: Option<NameList>,
    pub max_glibc: Option<String>,
    pub max_glibcxx: Option<String>,
    pub max_cxxabi: Option<String>,
    #[serde(default)]
    pub relative_rpath: bool,
    pub export_prefix: Option<String>,
    #[serde(default)]
    pub forbid_cxx_exports: bool,
    #[serde(default)]
    pub forbid_rust_exports: bool,
    #[serde(default)]
    pub forbid_libc_clash: bool,
    #[serde(default)]
    pub require_archs: Vec<String>,
    pub max_macos: Option<String>,
    /// Report hardening gaps (executable stack, text relocations, no build-id) at this severity.
    pub hardening: Option<SeverityName>,
    /// The previous release (wheels, libraries or a directory; a path or glob relative to the config): every
    /// target is diffed against its counterpart (`gate::abi_baseline`).
    pub abi_baseline: Option<String>,
}

impl Policy {
    /// `(key, set)` for each policy key a config can turn on (for the report's list of applied policies).
    pub fn set_keys(&self) -> Vec<(&'static str, bool)> {
        vec![
            ("max-glibc", self.max_glibc.is_some()),
            ("max-glibcxx", self.max_glibcxx.is_some()),
            ("max-cxxabi", self.max_cxxabi.is_some()),
            ("relative-rpath", self.relative_rpath),
            ("export-prefix", self.export_prefix.is_some()),
            ("forbid-cxx-exports", self.forbid_cxx_exports),
            ("forbid-rust-exports", self.forbid_rust_exports),
            ("forbid-libc-clash", self.forbid_libc_clash),
            ("require-archs", !self.require_archs.is_empty()),
            ("max-macos", self.max_macos.is_some()),
            ("hardening", self.hardening.is_some()),
            ("abi-baseline", self.abi_baseline.is_some()),
        ]
    }
}

/// One `[[baseline]]`: accepted findings.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Baseline {
    pub code: String,
    /// A glob matched against the finding's location (`*` also crosses `/`).
    pub location_glob: String,
    pub reason: Option<String>,
}

/// A loaded configuration and where it came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    /// Directory that relative paths in the config are relative to.
    pub base: PathBuf,
    pub config: Config,
    /// `allowed-external` with presets expanded (None: the policy is off).
    pub allowed: Option<Vec<String>>,
    /// Presets named in `allowed-external` (their symbol-version maxima apply too).
    pub presets: Vec<&'static super::data::ManylinuxPolicy>,
}

impl Loaded {
    /// No config file: the policies come from each target (wheel tags) and the defaults; paths are relative to
    /// `base` (the current directory).
    pub fn zero_config(base: &Path) -> Loaded {
        Loaded {
            path: PathBuf::from("(no config file)"),
            base: base.to_path_buf(),
            config: Config::default(),
            allowed: None,
            presets: Vec::new(),
        }
    }
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    LineIndex::new(text).line_col(text, offset)
}

/// Where each line starts, so that many offsets (one per `[[baseline]]`) are placed in linear total time.
pub struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, b)| *b == b'\n')
                .map(|(i, _)| i + 1),
        );
        LineIndex { starts }
    }

    /// 1-based line and column (in characters) of a byte offset of `text`.
    pub fn line_col(&self, text: &str, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        (line, text[start..offset].chars().count() + 1)
    }
}

/// Find the config: `ffi-doctor.toml`, or a `pyproject.toml` with `[tool.ffi-doctor]`, from `start` upwards.
pub fn discover(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        let f = d.join("ffi-doctor.toml");
        if f.is_file() {
            return Some(f);
        }
        let p = d.join("pyproject.toml");
        if p.is_file() {
            if let Ok(text) = crate::input::read_text(&p, "a pyproject.toml") {
                if let Ok(v) = text.parse::<toml::Table>() {
                    if v.get("tool").and_then(|t| t.get("ffi-doctor")).is_some() {
                        return Some(p);
                    }
                }
            }
        }
        dir = d.parent();
    }
    None
}

#[derive(Deserialize)]
struct Pyproject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    #[serde(rename = "ffi-doctor")]
    ffi_doctor: Option<Config>,
}

/// Read and validate the config at `path`.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let file = path.display().to_string();
    let err = |line: Option<(usize, usize)>, message: String| ConfigError {
        file: file.clone(),
        line,
        message,
    };
    let text = crate::input::read_text(path, "a configuration file")
        .map_err(|e| err(None, format!("expected {}, found {}", e.expected, e.found)))?;
    let lines = LineIndex::new(&text);
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let parsed = if is_pyproject {
        toml::from_str::<Pyproject>(&text).map(|p| p.tool.and_then(|t| t.ffi_doctor))
    } else {
        toml::from_str::<Config>(&text).map(Some)
    };
    let config = match parsed {
        Ok(Some(c)) => c,
        Ok(None) => return Err(err(None, "no [tool.ffi-doctor] table".into())),
        Err(e) => {
            let at = e.span().map(|s| lines.line_col(&text, s.start));
            return Err(err(at, e.message().trim().to_string()));
        }
    };
    for b in &config.baselines {
        let at = Some(lines.line_col(&text, b.span().start));
        let inner = b.get_ref();
        if inner.reason.as_deref().is_none_or(|r| r.trim().is_empty()) {
            return Err(err(
                at,
                format!(
                    "baseline entry for {} at `{}` has no `reason`: say why the finding is accepted",
                    inner.code, inner.location_glob
                ),
            ));
        }
        if !is_code(&inner.code) {
            return Err(err(
                at,
                format!(
                    "`{}` is not a registered finding code (see docs/findings.md)",
                    inner.code
                ),
            ));
        }
        if let Err(e) = glob::Pattern::new(&inner.location_glob) {
            return Err(err(
                at,
                format!("bad location-glob `{}`: {e}", inner.location_glob),
            ));
        }
    }
    for (code, sev) in &config.severity {
        if !is_code(code) {
            return Err(err(
                Some(lines.line_col(&text, sev.span().start)),
                format!("`{code}` is not a registered finding code (see docs/findings.md)"),
            ));
        }
    }
    let p = &config.policy;
    for (key, v) in [
        ("max-glibc", &p.max_glibc),
        ("max-glibcxx", &p.max_glibcxx),
        ("max-cxxabi", &p.max_cxxabi),
        ("max-macos", &p.max_macos),
    ] {
        if let Some(v) = v {
            if super::policy::parse_version(v).is_none() {
                return Err(err(
                    None,
                    format!("[policy] {key} = \"{v}\": expected a dotted version like 2.17"),
                ));
            }
        }
    }
    let mut presets = Vec::new();
    let allowed = p.allowed_external.as_ref().map(|l| {
        let mut out = Vec::new();
        for item in l.items() {
            match super::data::manylinux(&item) {
                Some(pol) => {
                    presets.push(pol);
                    out.extend(pol.libs.iter().map(|s| s.to_string()));
                }
                None => out.push(item),
            }
        }
        out.sort();
        out.dedup();
        out
    });
    let base = path
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf();
    Ok(Loaded {
        path: path.to_path_buf(),
        base,
        config,
        allowed,
        presets,
    })
}

/// A registered finding code: a typo in `[severity]` or `[[baseline]]` would otherwise silently do nothing.
fn is_code(s: &str) -> bool {
    crate::report::Code::parse(s).is_some()
}
