//! `ffi-doctor deps FILE`: the dependency tree under the target's loader rules, as a tree or a JSON graph, with a
//! finding (and every searched path) for each library that cannot be loaded.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::Context;
use crate::commands::args::LoaderArgs;
use crate::error::InputError;
use crate::loader::{self, Graph, LoaderEnv, LoaderOptions, Outcome, WindowsSearch};
use crate::report::{self, OutputFormat, EXIT_INPUT};

/// The Windows search order as the command line names it (`--windows-search`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WindowsSearchArg {
    /// `LoadLibrary` with the standard search order.
    #[default]
    Standard,
    /// `LOAD_LIBRARY_SEARCH_DEFAULT_DIRS`, as CPython >= 3.8 does: PATH is not searched.
    Python,
}

/// The one conversion from the command line to the library's loader options.
pub fn options(args: &LoaderArgs) -> LoaderOptions {
    LoaderOptions {
        arch: args.arch.clone(),
        sysroot: args.sysroot.clone(),
        ld_so_cache: args.ld_so_cache.clone(),
        env: args.env.clone(),
        inherit_env: args.inherit_env,
        executable: args.executable.clone(),
        default_dirs: args.default_dirs.clone(),
        hwcap_subdirs: args.hwcap_subdirs.clone(),
        windows_search: match args.windows_search {
            WindowsSearchArg::Standard => WindowsSearch::Standard,
            WindowsSearchArg::Python => WindowsSearch::Python,
        },
        dll_dirs: args.dll_dir.clone(),
    }
}

/// Build the loader environment from the arguments (nothing from the process environment unless asked).
pub fn env_from_args(args: &LoaderArgs) -> Result<LoaderEnv, InputError> {
    LoaderEnv::from_options(&options(args))
}

pub fn run(ctx: &Context, args: &DepsArgs) -> i32 {
    let graph = env_from_args(&args.loader).and_then(|env| loader::resolve(&args.file, &env));
    let (mut graph, kind) = match graph {
        Ok(g) => g,
        Err(e) => {
            report::report_input_errors(ctx.format, "deps", &[e]);
            return EXIT_INPUT;
        }
    };
    if args.check_symbols {
        let more = loader::check_symbols(&graph, kind);
        graph.findings.extend(more);
    }
    let written = match ctx.format {
        OutputFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                schema: &'static str,
                path: &'a str,
                resolved_path: String,
                #[serde(flatten)]
                graph: &'a Graph,
            }
            report::write_json(&Doc {
                schema: "ffi-doctor/deps/v1",
                path: &args.file,
                resolved_path: std::fs::canonicalize(&args.file)
                    .unwrap_or_else(|_| PathBuf::from(&args.file))
                    .display()
                    .to_string(),
                graph: &graph,
            })
        }
        OutputFormat::Human => write_tree(&graph, args.no_system, args.explain),
    };
    let code = report::finish_output(written);
    if code != 0 {
        return code;
    }
    report::exit_code_for(&graph.findings, args.fail_on)
}

fn write_tree(g: &Graph, no_system: bool, explain: bool) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let Some(root) = g.nodes.first() else {
        return Ok(());
    };
    writeln!(out, "{}  [{}]", root.path, g.loader)?;
    if explain {
        if let Some(d) = &g.default_dirs {
            writeln!(
                out,
                "  (default directories {}: {})",
                d.dirs.join(":"),
                d.source
            )?;
        }
    }
    let mut expanded = vec![false; g.nodes.len()];
    expanded[0] = true;
    let mut folded = Vec::new();
    tree(
        g,
        0,
        "",
        &mut expanded,
        no_system,
        explain,
        &mut folded,
        &mut out,
    )?;
    if !folded.is_empty() {
        folded.sort();
        folded.dedup();
        writeln!(out, "(folded system libraries: {})", folded.join(", "))?;
    }
    for f in &g.findings {
        let block = crate::report::human::Block {
            indent: "",
            lead: "",
            hint: true,
        };
        crate::report::human::write_block(&mut out, f, block)?;
    }
    out.flush()
}

#[allow(clippy::too_many_arguments)]
fn tree(
    g: &Graph,
    node: usize,
    prefix: &str,
    expanded: &mut Vec<bool>,
    no_system: bool,
    explain: bool,
    folded: &mut Vec<String>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let edges: Vec<_> = g.nodes[node]
        .edges
        .iter()
        .filter(|e| {
            let sys = e.target.is_some_and(|t| g.nodes[t].system);
            if no_system && sys {
                folded.push(e.name.clone());
            }
            !(no_system && sys)
        })
        .collect();
    for (i, e) in edges.iter().enumerate() {
        let last = i + 1 == edges.len();
        let (branch, cont) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        let rule = e.rule.as_ref().map(|r| r.to_string()).unwrap_or_default();
        match e.target {
            Some(t) => {
                let again = expanded[t];
                let note = if e.cycle {
                    " (cycle)"
                } else if again && !g.nodes[t].edges.is_empty() {
                    " (see above)"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "{prefix}{branch}{} => {}  [{rule}]{note}",
                    e.name, g.nodes[t].path
                )?;
            }
            None if e.missing => writeln!(out, "{prefix}{branch}{} => NOT FOUND", e.name)?,
            None => writeln!(out, "{prefix}{branch}{} => -  [{rule}]", e.name)?,
        }
        let child_prefix = format!("{prefix}{cont}");
        if explain {
            for a in &e.attempts {
                if a.outcome != Outcome::DirKnownAbsent {
                    writeln!(
                        out,
                        "{child_prefix}    · {} ({}): {}",
                        a.path,
                        a.rule,
                        loader::outcome_text(&a.outcome)
                    )?;
                }
            }
        }
        if let Some(t) = e.target {
            if !expanded[t] && !e.cycle {
                expanded[t] = true;
                tree(
                    g,
                    t,
                    &child_prefix,
                    expanded,
                    no_system,
                    explain,
                    folded,
                    out,
                )?;
            }
        }
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct DepsArgs {
    /// A shared library or executable.
    pub file: String,
    #[command(flatten)]
    pub loader: crate::commands::args::LoaderArgs,
    /// Also check that every undefined symbol and required symbol version binds (like `ldd -r`, nothing executed).
    #[arg(long)]
    pub check_symbols: bool,
    /// Fold glibc's own libraries in the tree.
    #[arg(long)]
    pub no_system: bool,
    /// Show every candidate tried for every entry, not only for missing ones.
    #[arg(long)]
    pub explain: bool,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, value_enum, default_value_t = crate::commands::args::SeverityArg::Error)]
    pub fail_on: crate::commands::args::SeverityArg,
}
