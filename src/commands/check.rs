//! `ffi-doctor check LIB SPEC`: a declared interface (C header, cffi cdef, or a Python ctypes/cffi binding
//! `BINDING.py [HEADER…]`) against the library — exported
//! symbols, the target's ABI, portability traps, the library's own DWARF when present and, with `--runtime`, a real
//! load in an isolated child. Findings are grouped by declaration; exit 0 / 1 (findings at or above `--fail-on`) / 2.
//! Besides what it prints, `--sarif`, `--junit` and `--json` files: SARIF and JUnit from `report::ci` with one
//! scope per image of the library, JSON the document `--format json` prints.

use std::io::Write;
use std::path::PathBuf;

use super::args::{ReportFile, ReportFiles, SeverityArg, SpecArgs, TargetsArgs};
use super::Context;
use crate::check::{check_binding, check_library, CheckOptions, CheckReport};
use crate::dwarf::DebugOptions;
use crate::report::{self, ci, Finding, OutputFormat, Severity, EXIT_INPUT};

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The shared library (ELF, Mach-O incl. universal, PE).
    pub lib: String,
    /// The declared interface: a C header, a cffi cdef file, or a Python binding (`.py`: ctypes or cffi code,
    /// read statically, never run).
    pub spec: String,
    /// With a Python binding: the C header(s) that are the truth for its types.
    pub headers: Vec<String>,
    /// Read SPEC as a Python binding whatever its name.
    #[arg(long)]
    pub python: bool,
    /// With a Python binding: the CPython version whose ctypes rules lay out its Structure/Union classes
    /// (3.6–3.14; default 3.13, the rules of every version before 3.14).
    #[arg(long, value_name = "3.X", value_parser = parse_py_version)]
    pub python_version: Option<crate::bindings::ctypes_layout::PyVersion>,
    #[command(flatten)]
    pub spec_args: SpecArgs,
    /// Only this architecture slice of a universal Mach-O library.
    #[arg(long)]
    pub arch: Option<String>,
    /// Also compare struct layouts across targets (`--targets`; default: none).
    #[command(flatten)]
    pub targets: TargetsArgs,
    /// Load the library in an isolated child process and resolve every declared symbol for real.
    #[arg(long)]
    pub runtime: bool,
    /// With --runtime: call this zero-argument function (declared in SPEC) and compare its value with --expect.
    #[arg(long, requires = "expect")]
    pub call: Option<String>,
    /// With --call: a glob the returned value must match (e.g. '1.*').
    #[arg(long)]
    pub expect: Option<String>,
    /// With --runtime: the child's timeout in seconds.
    #[arg(long, default_value_t = 10)]
    pub timeout: u64,
    /// Read DWARF from this file instead of searching (a `--only-keep-debug` file, a dSYM's DWARF file).
    #[arg(long, value_name = "PATH")]
    pub debug_file: Option<PathBuf>,
    /// A global debug directory (`.build-id/` and debuglink lookups); repeatable; default /usr/lib/debug.
    #[arg(long, value_name = "DIR")]
    pub debug_dir: Vec<PathBuf>,
    /// Do not compare the declarations with the library's DWARF debug info.
    #[arg(long, conflicts_with_all = ["debug_file", "debug_dir"])]
    pub no_dwarf: bool,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
    #[command(flatten)]
    pub files: ReportFiles,
}

pub fn run(ctx: &Context, a: &CheckArgs) -> i32 {
    let targets = match a.targets.resolve() {
        Ok(t) => t,
        Err(e) => {
            report::report_input_errors(ctx.format, "check", &[e]);
            return EXIT_INPUT;
        }
    };
    let parse = match a.spec_args.parse_options() {
        Ok(p) => p,
        Err(e) => {
            report::report_input_errors(ctx.format, "check", &[e]);
            return EXIT_INPUT;
        }
    };
    let opts = CheckOptions {
        parse,
        arch: a.arch.clone(),
        targets,
        runtime: a.runtime,
        call: a.call.clone().zip(a.expect.clone()),
        timeout_secs: a.timeout,
        no_dwarf: a.no_dwarf,
        python_version: a.python_version,
        debug: {
            let mut d = DebugOptions {
                debug_file: a.debug_file.clone(),
                ..Default::default()
            };
            if !a.debug_dir.is_empty() {
                d.debug_dirs = a.debug_dir.clone();
            }
            d
        },
    };
    let python = a.python || a.spec.ends_with(".py") || a.spec.ends_with(".pyw");
    if !python && !a.headers.is_empty() {
        let e = crate::error::InputError::new(
            &a.headers[0],
            "no more arguments after a C header or cdef spec",
            "an extra argument",
        )
        .hint("HEADER arguments follow a Python binding (BINDING.py, or --python)");
        report::report_input_errors(ctx.format, "check", &[e]);
        return EXIT_INPUT;
    }
    let result = if python {
        check_binding(&a.lib, &a.spec, &a.headers, &opts)
    } else {
        check_library(&a.lib, &a.spec, &opts)
    };
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            report::report_input_errors(ctx.format, "check", &[e]);
            return EXIT_INPUT;
        }
    };
    if let Err(e) = write_files(&a.files, &report, a.fail_on.into()) {
        eprintln!("error: {e}");
        return EXIT_INPUT;
    }
    let written = match ctx.format {
        OutputFormat::Json => report::write_json(&report),
        OutputFormat::Human => human(&report, ctx.quiet),
    };
    let code = report::finish_output(written);
    if code != 0 {
        return code;
    }
    let all: Vec<Finding> = report.findings().cloned().collect();
    report::exit_code_for(&all, a.fail_on)
}

/// The `--sarif`, `--junit` and `--json` files asked for; the message names the file that could not be written.
fn write_files(files: &ReportFiles, r: &CheckReport, fail_on: Severity) -> Result<(), String> {
    let names: Vec<String> = r
        .images
        .iter()
        .map(|i| format!("{} ({})", r.library, i.arch))
        .collect();
    let scopes: Vec<ci::Scope<'_>> = r
        .images
        .iter()
        .zip(&names)
        .map(|(i, name)| ci::Scope {
            name,
            findings: &i.findings,
        })
        .collect();
    files.write(|kind| match kind {
        ReportFile::Sarif => {
            let cwd = std::env::current_dir().unwrap_or_default();
            serde_json::to_string_pretty(&ci::sarif(&scopes, &cwd)).unwrap_or_default() + "\n"
        }
        ReportFile::Junit => {
            let title = format!("ffi-doctor check {} {}", r.library, r.spec);
            ci::junit(&title, &scopes, fail_on)
        }
        ReportFile::Json => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
    })
}

fn human(r: &CheckReport, quiet: bool) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for img in &r.images {
        writeln!(
            out,
            "{} ({}, target {}) against {}: {} functions, {} variables, {} records declared",
            r.library,
            img.arch,
            img.target.unwrap_or("unknown"),
            r.spec,
            img.declared_functions,
            img.declared_variables,
            img.declared_records
        )?;
        let nc = &img.not_checked;
        if !quiet && nc.functions + nc.variables > 0 {
            let files: Vec<String> = nc.files.iter().take(3).map(|f| f.file.clone()).collect();
            let more = nc.files.len().saturating_sub(3);
            writeln!(
                out,
                "not checked: {} functions, {} variables declared by {} other headers ({}{})",
                nc.functions,
                nc.variables,
                nc.files.len(),
                files.join(", "),
                if more > 0 {
                    format!(", {more} more")
                } else {
                    String::new()
                }
            )?;
        }
        report::human::write_grouped(&mut out, &img.findings, quiet)?;
    }
    if !quiet && !r.notes.is_empty() {
        writeln!(out, "spec notes: {}", r.notes.len())?;
    }
    Ok(())
}

fn parse_py_version(s: &str) -> Result<crate::bindings::ctypes_layout::PyVersion, String> {
    crate::bindings::ctypes_layout::PyVersion::parse(s)
        .ok_or_else(|| format!("expected a Python 3 version such as 3.12, found `{s}`"))
}
