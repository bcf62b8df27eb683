//! Flag groups shared by several commands (`#[command(flatten)]`), each with its one conversion to library
//! options, and the clap spellings of library enums (library types carry no clap derives).

use std::path::PathBuf;

use crate::abi::Target;
use crate::decl::ParseOptions;
use crate::error::InputError;
use crate::report::{OutputFormat, Severity};

/// How the spec (a C header or cffi cdef) is preprocessed: `-D`, `-I`, `--isystem`, `--pkg-config`, the system
/// headers (read by default, the target's own), `--sysroot`, `--cffi`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SpecArgs {
    /// Define a macro for the spec's preprocessor (NAME or NAME=VALUE); repeatable.
    #[arg(short = 'D', value_name = "NAME[=VALUE]")]
    pub define: Vec<String>,
    /// Add an include directory for the spec's `#include`s; repeatable. A system directory (/usr/include,
    /// /usr/include/x86_64-linux-gnu, …) keeps its system meaning, as with gcc and clang.
    #[arg(short = 'I', value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Add a system include directory (searched after -I, before the target's own; its declarations are not
    /// the library's); repeatable.
    #[arg(long, value_name = "DIR")]
    pub isystem: Vec<PathBuf>,
    /// Take -I, -isystem and -D from `pkg-config --cflags NAME` (e.g. libcurl, glib-2.0); repeatable.
    #[arg(long, value_name = "NAME")]
    pub pkg_config: Vec<String>,
    /// Read the system headers from the host's directories (/usr/include, …) whatever the target. By default
    /// the target's own system headers are read: the host's for the host, an installed cross target's
    /// (/usr/aarch64-linux-gnu/include, /usr/x86_64-w64-mingw32/include, …) or those under --sysroot.
    #[arg(long, conflicts_with = "no_system_includes")]
    pub system_includes: bool,
    /// Do not read any system header: system includes are skipped, and declarations they may change are
    /// reported (FFI0411).
    #[arg(long)]
    pub no_system_includes: bool,
    /// The target system's root (an SDK or an extracted image): its usr/include holds the system headers
    /// (`layout` of a binary: its global debug directories are looked for inside it).
    #[arg(long, value_name = "DIR")]
    pub sysroot: Option<PathBuf>,
    /// Treat the spec as a cffi cdef (default: detected from `.cdef` or cffi's `...` forms).
    #[arg(long)]
    pub cffi: bool,
}

impl SpecArgs {
    /// The parse options these flags ask for (the target's predefined macros are added per target);
    /// `--pkg-config` runs pkg-config here.
    pub fn parse_options(&self) -> Result<ParseOptions, InputError> {
        let mut defines = self.define.clone();
        let mut include = self.include.clone();
        let mut isystem = self.isystem.clone();
        for name in &self.pkg_config {
            let f = crate::decl::pkg_config::cflags(name)?;
            defines.extend(f.defines);
            include.extend(f.include_dirs);
            isystem.extend(f.system_include_dirs);
        }
        let mut p = ParseOptions::from_args(&defines, include, self.cffi, self.system_includes);
        p.system_include_dirs.splice(0..0, isystem);
        p.target_system_includes = !self.no_system_includes && !self.system_includes;
        p.sysroot = self.sysroot.clone();
        Ok(p)
    }
}

/// `--targets t1,t2|all`: the ABI targets to lay declared types out for and compare.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TargetsArgs {
    /// Lay the declared structs and unions out for these targets (comma-separated names, or `all`) and report
    /// where they disagree, e.g. linux-x86_64,windows-x86_64-msvc.
    #[arg(long, value_delimiter = ',')]
    pub targets: Vec<String>,
}

impl TargetsArgs {
    /// The named targets in order, without repeats; `all` is every target. Empty when none were named: the
    /// command decides the default (`check`: no cross-target comparison; `layout`: the host).
    pub fn resolve(&self) -> Result<Vec<Target>, InputError> {
        let mut out: Vec<Target> = Vec::new();
        for t in &self.targets {
            if t.trim() == "all" {
                return Ok(Target::ALL.to_vec());
            }
            let t = target_named(t)?;
            if !out.contains(&t) {
                out.push(t);
            }
        }
        Ok(out)
    }
}

/// The target called `name`, or an input error listing the names.
pub fn target_named(name: &str) -> Result<Target, InputError> {
    Target::from_name(name).ok_or_else(|| {
        let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
        InputError::new(
            name,
            format!("a target name ({}, or all)", names.join(", ")),
            "an unknown name",
        )
    })
}

/// `--fail-on`: the clap spelling of [`Severity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SeverityArg {
    Info,
    Warning,
    Error,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Severity {
        match s {
            SeverityArg::Info => Severity::Info,
            SeverityArg::Warning => Severity::Warning,
            SeverityArg::Error => Severity::Error,
        }
    }
}

/// `--format`: the clap spelling of [`OutputFormat`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FormatArg {
    Human,
    Json,
}

impl From<FormatArg> for OutputFormat {
    fn from(f: FormatArg) -> OutputFormat {
        match f {
            FormatArg::Human => OutputFormat::Human,
            FormatArg::Json => OutputFormat::Json,
        }
    }
}

/// Options that describe the target system for the loader models.
#[derive(Debug, clap::Args)]
pub struct LoaderArgs {
    /// The architecture slice of a universal Mach-O file to resolve (default: the first).
    #[arg(long)]
    pub arch: Option<String>,
    /// Resolve absolute paths and default directories inside this root (an extracted image of the target).
    #[arg(long)]
    pub sysroot: Option<std::path::PathBuf>,
    /// The ld.so cache to read (default: the sysroot's /etc/ld.so.cache).
    #[arg(long)]
    pub ld_so_cache: Option<std::path::PathBuf>,
    /// An environment variable of the target process (LD_LIBRARY_PATH, …); repeatable.
    #[arg(long, value_name = "NAME=VALUE")]
    pub env: Vec<String>,
    /// Take LD_LIBRARY_PATH, DYLD_LIBRARY_PATH, DYLD_FALLBACK_LIBRARY_PATH and PATH from this process.
    #[arg(long)]
    pub inherit_env: bool,
    /// The main program that loads FILE (its DT_RPATH applies; its dependencies are already loaded).
    #[arg(long)]
    pub executable: Option<std::path::PathBuf>,
    /// The loader's default directories, colon-separated (default: Debian multiarch or /lib64:/usr/lib64).
    #[arg(long, value_name = "DIRS")]
    pub default_dirs: Option<String>,
    /// Subdirectories glibc tries inside each search directory first, comma-separated, in order
    /// (e.g. glibc-hwcaps/x86-64-v3,glibc-hwcaps/x86-64-v2); default none.
    #[arg(long, value_name = "SUBDIRS")]
    pub hwcap_subdirs: Option<String>,
    /// Windows DLL search order: `standard` LoadLibrary, or `python` (LOAD_LIBRARY_SEARCH_DEFAULT_DIRS, as
    /// CPython >= 3.8 ctypes: PATH is not searched).
    #[arg(long, value_enum, default_value_t = crate::commands::deps::WindowsSearchArg::Standard)]
    pub windows_search: crate::commands::deps::WindowsSearchArg,
    /// A directory added with os.add_dll_directory (Windows); repeatable.
    #[arg(long, value_name = "DIR")]
    pub dll_dir: Vec<String>,
}

/// `--sarif`, `--junit`, `--json FILE`: the report files `gate` and `diff` also write, besides what they print.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ReportFiles {
    /// Also write a SARIF 2.1.0 log to this file.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<std::path::PathBuf>,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<std::path::PathBuf>,
    /// Also write the JSON report (the same document as `--format json`) to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<std::path::PathBuf>,
}

/// One of the report files [`ReportFiles`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFile {
    Sarif,
    Junit,
    Json,
}

impl ReportFiles {
    /// Write the files asked for, each rendered by `render` (called only for the files asked for). The message names
    /// the file that could not be written.
    pub fn write(&self, render: impl Fn(ReportFile) -> String) -> Result<(), String> {
        for (path, kind) in [
            (&self.sarif, ReportFile::Sarif),
            (&self.junit, ReportFile::Junit),
            (&self.json, ReportFile::Json),
        ] {
            if let Some(p) = path {
                std::fs::write(p, render(kind))
                    .map_err(|e| format!("writing {}: {e}", p.display()))?;
            }
        }
        Ok(())
    }

    /// [`ReportFiles::write`] for a command whose SARIF and JUnit files render a gate report (`gate`, and `diff`
    /// as one), and whose JSON file is `json`.
    pub fn write_gate(
        &self,
        gate: Option<&crate::gate::GateReport>,
        json: impl Fn() -> String,
    ) -> Result<(), String> {
        self.write(|kind| match (kind, gate) {
            (ReportFile::Sarif, Some(g)) => {
                serde_json::to_string_pretty(&crate::gate::render::sarif(g)).unwrap_or_default()
                    + "\n"
            }
            (ReportFile::Junit, Some(g)) => crate::gate::render::junit(g),
            (ReportFile::Json, _) => json(),
            (_, None) => String::new(),
        })
    }
}
