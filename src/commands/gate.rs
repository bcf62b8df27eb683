//! `ffi-doctor gate [--config FILE]`: the CI pre-release gate. Finds the config, runs [`crate::gate::run`] and
//! renders the report to stdout (human or JSON) and, at once, to the `--sarif`, `--junit` and `--json` files.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use super::args::SeverityArg;
use super::Context;
use crate::gate::{self, config, GateOptions};
use crate::report::{self, OutputFormat, EXIT_INPUT};

#[derive(Debug, clap::Args)]
pub struct GateArgs {
    /// The config file (default: ffi-doctor.toml, or pyproject.toml with [tool.ffi-doctor], from the current
    /// directory upwards).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Exit 1 when an unsuppressed finding has at least this severity (after [severity] overrides).
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
    /// Also write a SARIF 2.1.0 log to this file.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write the JSON report (schema ffi-doctor/gate/v1) to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Check this file, glob, directory or wheel instead of the config's [[target]] entries (the policies still
    /// apply); repeatable. Relative to the current directory.
    #[arg(long, value_name = "PATH")]
    pub target: Vec<String>,
}

fn fail(msg: &str) -> i32 {
    eprintln!("error: {msg}");
    EXIT_INPUT
}

pub fn run(ctx: &Context, a: &GateArgs) -> i32 {
    let path = match &a.config {
        Some(p) => p.clone(),
        None => {
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
            match config::discover(&cwd) {
                Some(p) => p,
                None => {
                    return fail(&format!(
                    "no ffi-doctor.toml or pyproject.toml with [tool.ffi-doctor] in {} or above \
                         (pass --config FILE)",
                    cwd.display()
                ))
                }
            }
        }
    };
    let mut loaded = match config::load(&path) {
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
    };
    if !a.target.is_empty() {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        loaded.config.targets = a
            .target
            .iter()
            .map(|t| config::TargetConfig {
                path: cwd.join(t).display().to_string(),
                spec: None,
                defines: Vec::new(),
                include: Vec::new(),
                platform: config::Platform::default(),
                runtime: false,
            })
            .collect();
    }
    let opts = GateOptions {
        fail_on: a.fail_on.into(),
        progress: !ctx.quiet && std::io::stderr().is_terminal(),
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
    let write_file = |p: &PathBuf, text: String| -> Result<(), String> {
        std::fs::write(p, text).map_err(|e| format!("writing {}: {e}", p.display()))
    };
    let json = || serde_json::to_string_pretty(&rep).unwrap_or_default() + "\n";
    let mut files = Vec::new();
    if let Some(p) = &a.sarif {
        files.push((
            p,
            serde_json::to_string_pretty(&gate::render::sarif(&rep)).unwrap_or_default() + "\n",
        ));
    }
    if let Some(p) = &a.junit {
        files.push((p, gate::render::junit(&rep)));
    }
    if let Some(p) = &a.json {
        files.push((p, json()));
    }
    for (p, text) in files {
        if let Err(e) = write_file(p, text) {
            return fail(&e);
        }
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
