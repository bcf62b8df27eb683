//! Flag groups shared by several commands (`#[command(flatten)]`), each with its one conversion to library
//! options, and the clap spellings of library enums (library types carry no clap derives).

use std::path::PathBuf;

use crate::abi::Target;
use crate::decl::ParseOptions;
use crate::error::InputError;
use crate::report::{OutputFormat, Severity};

/// How the spec (a C header or cffi cdef) is preprocessed: `-D`, `-I`, `--system-includes`, `--cffi`.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SpecArgs {
    /// Define a macro for the spec's preprocessor (NAME or NAME=VALUE); repeatable.
    #[arg(short = 'D', value_name = "NAME[=VALUE]")]
    pub define: Vec<String>,
    /// Add an include directory for the spec's `#include`s; repeatable.
    #[arg(short = 'I', value_name = "DIR")]
    pub include: Vec<PathBuf>,
    /// Also search the host's system include directories (/usr/include, …); off by default, because the
    /// target's headers may differ from the host's.
    #[arg(long)]
    pub system_includes: bool,
    /// Treat the spec as a cffi cdef (default: detected from `.cdef` or cffi's `...` forms).
    #[arg(long)]
    pub cffi: bool,
}

impl SpecArgs {
    /// The parse options these flags ask for (the target's predefined macros are added per target).
    pub fn parse_options(&self) -> ParseOptions {
        ParseOptions::from_args(
            &self.define,
            self.include.clone(),
            self.cffi,
            self.system_includes,
        )
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
