//! `ffi-doctor deps FILE`: the dependency tree under the target's loader rules, as a tree or a JSON graph, with a
//! finding (and every searched path) for each library that cannot be loaded.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use super::Context;
use crate::binary::sniff::{self, Detected};
use crate::binary::Mapped;
use crate::cli::{DepsArgs, LoaderArgs};
use crate::error::InputError;
use crate::loader::{self, Graph, LoaderEnv, Outcome};
use crate::report::{self, OutputFormat, EXIT_INPUT};

/// Build the loader environment from the arguments (nothing from the process environment unless asked).
pub fn env_from_args(args: &LoaderArgs) -> Result<LoaderEnv, InputError> {
    let mut env = BTreeMap::new();
    if args.inherit_env {
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
    for kv in &args.env {
        let (k, v) = kv.split_once('=').ok_or_else(|| {
            InputError::new(kv, "--env NAME=VALUE", format!("`{kv}` without `=`"))
        })?;
        env.insert(k.to_string(), v.to_string());
    }
    Ok(LoaderEnv {
        sysroot: args.sysroot.clone(),
        ld_so_cache: args.ld_so_cache.clone(),
        env,
        executable: args.executable.clone(),
        default_dirs: args
            .default_dirs
            .as_ref()
            .map(|s| s.split(':').map(str::to_string).collect()),
        hwcap_subdirs: args
            .hwcap_subdirs
            .as_ref()
            .map(|s| {
                s.split(',')
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        windows_search: args.windows_search,
        dll_dirs: args.dll_dir.clone(),
        arch: args.arch.clone(),
    })
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
    let mapped = Mapped::open(file)?;
    match sniff::classify(file, mapped.bytes())? {
        Detected::Elf => Ok((loader::glibc::resolve(file, env)?, LoaderKind::Glibc)),
        Detected::Macho | Detected::Fat => {
            Ok((loader::dyld::resolve(file, env)?, LoaderKind::Dyld))
        }
        Detected::Pe => Ok((loader::windows::resolve(file, env)?, LoaderKind::Windows)),
    }
}

/// Missing symbols across the tree, with the binding rules of the loader that resolved it.
pub fn check_symbols(graph: &Graph, kind: LoaderKind) -> Vec<crate::report::Finding> {
    match kind {
        LoaderKind::Glibc => loader::bind::check_symbols(graph),
        LoaderKind::Dyld => loader::dyld::check_symbols(graph),
        LoaderKind::Windows => loader::windows::check_symbols(graph),
    }
}

pub fn run(ctx: &Context, args: &DepsArgs) -> i32 {
    let graph = env_from_args(&args.loader).and_then(|env| resolve(&args.file, &env));
    let (mut graph, kind) = match graph {
        Ok(g) => g,
        Err(e) => {
            report::report_input_errors(ctx.format, "deps", &[e]);
            return EXIT_INPUT;
        }
    };
    if args.check_symbols {
        let more = check_symbols(&graph, kind);
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
        writeln!(
            out,
            "\n{} {:?}: {}\n  {}",
            f.code,
            f.severity,
            f.message,
            f.found.replace('\n', "\n  ")
        )?;
        writeln!(out, "  hint: {}", f.hint)?;
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
        let rule = e.rule.as_deref().unwrap_or("");
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
