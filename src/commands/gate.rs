//! `ffi-doctor gate [PATH...] [--config FILE]`: the CI pre-release gate. Finds the config (optional: without one,
//! the policies come from each wheel's tags and the defaults), runs [`crate::gate::run`] and renders the report to
//! stdout (human or JSON) and, at once, to the `--sarif`, `--junit` and `--json` files.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use super::args::{ReportFiles, SeverityArg};
use super::Context;
use crate::gate::{self, config, GateOptions};
use crate::report::{self, OutputFormat, EXIT_INPUT};

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// Wheels, files, directories or globs to check (like --target). Without a config file the policies come from
    /// each wheel's tags (manylinux/musllinux/macosx/win) and the defaults.
    #[arg(value_name = "PATH")]
    pub paths: Vec<String>,
    /// The config file (default: ffi-doctor.toml, or pyproject.toml with [tool.ffi-doctor], from the current
    /// directory upwards).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Exit 1 when an unsuppressed finding has at least this severity (after [severity] overrides).
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
    #[command(flatten)]
    pub files: ReportFiles,
    /// Check this file, glob, directory or wheel instead of the config's [[target]] entries (the policies still
    /// apply); repeatable. Relative to the current directory.
    #[arg(long, value_name = "PATH")]
    pub target: Vec<String>,
    /// Do not infer policies from wheel tags (platform, allowed libraries, version ceilings, the interpreter's
    /// C API): only the config's policies apply.
    #[arg(long)]
    pub no_default_policies: bool,
    /// A real Python interpreter: extension modules' undefined symbols bind against its executable and its
    /// libpython instead of the committed CPython export lists.
    #[arg(long, value_name = "PATH")]
    pub python: Option<PathBuf>,
    /// The previous release (wheels, libraries or a directory; a glob is expanded): every target is diffed
    /// against its counterpart and breaking ABI changes are errors (overrides `[policy] abi-baseline`).
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<String>,
}

fn fail(msg: &str) -> i32 {
    eprintln!("error: {msg}");
    EXIT_INPUT
}

pub fn run(ctx: &Context, a: &GateArgs) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    let targets: Vec<&String> = a.paths.iter().chain(&a.target).collect();
    let path = match &a.config {
        Some(p) => Some(p.clone()),
        None => config::discover(&cwd),
    };
    let mut loaded = match path {
        None if targets.is_empty() => {
            return fail(&format!(
                "nothing to check: pass wheels, files or directories (ffi-doctor gate dist/*.whl), or put an \
                 ffi-doctor.toml or a pyproject.toml with [tool.ffi-doctor] in {} or above (or pass --config FILE)",
                cwd.display()
            ))
        }
        None => config::Loaded::zero_config(&cwd),
        Some(path) => match config::load(&path) {
            Ok(l) => l,
            Err(e) => {
                if ctx.format == OutputFormat::Json {
                    let _ = report::write_json(&serde_json::json!({
                        "schema": gate::SCHEMA,
                        "errors": [{
                            "path": e.file,
                            "line": e.line.map(|l| l.0),
                            "column": e.line.map(|l| l.1),
                            "message": e.message,
                        }],
                        "exit_code": EXIT_INPUT,
                    }));
                }
                return fail(&format!("config: {e}"));
            }
        },
    };
    if !targets.is_empty() {
        loaded.config.targets = targets
            .iter()
            .map(|t| config::TargetConfig {
                path: match t.as_str() {
                    "." | "./" => cwd.display().to_string(),
                    t => cwd
                        .join(t.strip_prefix("./").unwrap_or(t))
                        .display()
                        .to_string(),
                },
                spec: None,
                defines: Vec::new(),
                include: Vec::new(),
                platform: config::Platform::default(),
                runtime: false,
            })
            .collect();
    }
    let python_exports = match &a.python {
        Some(p) => match gate::python::from_interpreter(p) {
            Ok(e) => Some(e),
            Err(e) => {
                report::report_input_errors(ctx.format, "gate", &[e]);
                return EXIT_INPUT;
            }
        },
        None => None,
    };
    let opts = GateOptions {
        fail_on: a.fail_on.into(),
        progress: !ctx.quiet && std::io::stderr().is_terminal(),
        default_policies: !a.no_default_policies,
        python_exports,
        abi_baseline: a.baseline.as_ref().map(|b| {
            cwd.join(b.strip_prefix("./").unwrap_or(b))
                .display()
                .to_string()
        }),
    };
    let rep = match gate::run(&loaded, &opts) {
        Ok(r) => r,
        Err(e) => {
            report::report_input_errors(ctx.format, "gate", &[e]);
            return EXIT_INPUT;
        }
    };
    for e in rep.targets.iter().flat_map(|t| &t.errors) {
        eprintln!("error: {e}");
    }
    if let Err(e) = a.files.write_gate(Some(&rep), || {
        serde_json::to_string_pretty(&rep).unwrap_or_default() + "\n"
    }) {
        return fail(&e);
    }
    let written = match ctx.format {
        OutputFormat::Json => report::write_json(&rep),
        OutputFormat::Human => {
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(gate::render::human(&rep).as_bytes())
                .and_then(|_| out.flush())
        }
    };
    let code = report::finish_output(written);
    if code != 0 {
        return code;
    }
    rep.exit_code
}
