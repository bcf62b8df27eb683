//! `ffi-doctor resolve NAME`: what `ctypes.util.find_library(NAME)` returns on the target OS, and which file
//! `ctypes.CDLL(…)` / `cffi.FFI().dlopen(…)` then loads, with every candidate tried and the loaded file's
//! dependency tree.

use std::io::Write;

use serde::Serialize;

use super::Context;

use crate::error::InputError;
use crate::loader::find_library::{self, FindLibrary, Os};
use crate::loader::{self, glibc, Attempt, Graph, LoaderEnv};
use crate::report::{self, OutputFormat, EXIT_INPUT};

/// What `CDLL(returned)` does.
#[derive(Debug, Serialize)]
pub struct Load {
    /// The argument CDLL receives.
    pub argument: Option<String>,
    /// The file the loader opens, if any.
    pub path: Option<String>,
    pub rule: Option<String>,
    /// The loader rule's variant when the loader's search found it (`runpath`, `ld_so_cache`, …).
    pub kind: Option<&'static str>,
    pub attempts: Vec<Attempt>,
    /// A note on what happens (e.g. `CDLL(None)` opens the main program).
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
struct Doc {
    schema: &'static str,
    find_library: FindLibrary,
    load: Load,
    #[serde(skip_serializing_if = "Option::is_none")]
    dependencies: Option<Graph>,
}

fn host_os() -> Os {
    if cfg!(target_os = "macos") {
        Os::Macos
    } else if cfg!(target_os = "windows") {
        Os::Windows
    } else {
        Os::Linux
    }
}

fn host_target() -> glibc::ElfMachine {
    let machine = if cfg!(target_arch = "x86_64") {
        62
    } else if cfg!(target_arch = "aarch64") {
        183
    } else if cfg!(target_arch = "x86") {
        3
    } else {
        0
    };
    glibc::ElfMachine {
        machine,
        is_64: cfg!(target_pointer_width = "64"),
        little: cfg!(target_endian = "little"),
    }
}

/// Run the whole question for one name.
fn answer(args: &ResolveArgs, env: &LoaderEnv) -> Result<Doc, InputError> {
    let os = match (args.os, &args.from) {
        (Some(os), _) => os.into(),
        (None, Some(f)) => {
            let m = crate::binary::Mapped::open(f)?;
            match crate::binary::sniff::classify(f, m.bytes())? {
                crate::binary::sniff::Detected::Elf => Os::Linux,
                crate::binary::sniff::Detected::Pe => Os::Windows,
                _ => Os::Macos,
            }
        }
        (None, None) => host_os(),
    };
    let mut load = Load {
        argument: None,
        path: None,
        rule: None,
        kind: None,
        attempts: Vec::new(),
        note: None,
    };
    let mut dependencies = None;
    let found = match os {
        Os::Linux => {
            let target = match &args.from {
                Some(f) => glibc::target_of(f)?,
                None => host_target(),
            };
            let machine =
                crate::binary::elf::arch_name(target.machine, target.is_64, target.little);
            let dirs = glibc::default_dirs(env, target);
            let fl = find_library::linux(&args.name, env, &machine, target.is_64, &dirs);
            if let Some(soname) = &fl.returns {
                load.argument = Some(soname.clone());
                let (hit, attempts) =
                    glibc::dlopen_search(soname, env, target, args.from.as_deref())?;
                load.attempts = attempts;
                if let Some((path, rule)) = hit {
                    dependencies =
                        loader::glibc::resolve(&env.host_path(&path).to_string_lossy(), env).ok();
                    load.path = Some(path);
                    load.kind = Some(rule.kind());
                    load.rule = Some(rule.to_string());
                }
            }
            fl
        }
        Os::Macos => {
            let fl = find_library::macos(&args.name, env);
            if let Some(p) = &fl.returns {
                load.argument = Some(p.clone());
                load.path = Some(p.clone());
                load.rule = Some("dlopen of the path find_library returned".into());
                let host = env.host_path(p);
                if host.is_file() {
                    dependencies = loader::dyld::resolve(&host.to_string_lossy(), env).ok();
                }
            }
            fl
        }
        Os::Windows => {
            let fl = find_library::windows(&args.name, env);
            if let Some(p) = &fl.returns {
                load.argument = Some(p.clone());
                load.path = Some(p.clone());
                load.rule = Some("LoadLibraryExW of the full path find_library returned".into());
            }
            fl
        }
    };
    if found.returns.is_none() {
        load.note = Some(format!(
            "find_library({:?}) returns None, and CDLL(None) opens the main program instead of a library: every \
             symbol lookup then fails (\"undefined symbol\" / AttributeError). Check for None, or pass a path.",
            args.name
        ));
    }
    Ok(Doc {
        schema: "ffi-doctor/resolve/v1",
        find_library: found,
        load,
        dependencies,
    })
}

pub fn run(ctx: &Context, args: &ResolveArgs) -> i32 {
    let doc = super::deps::env_from_args(&args.loader).and_then(|env| answer(args, &env));
    let doc = match doc {
        Ok(d) => d,
        Err(e) => {
            report::report_input_errors(ctx.format, "resolve", &[e]);
            return EXIT_INPUT;
        }
    };
    let written = match ctx.format {
        OutputFormat::Json => report::write_json(&doc),
        OutputFormat::Human => human(&doc),
    };
    let code = report::finish_output(written);
    if code != 0 {
        return code;
    }
    if doc.load.path.is_none() {
        report::EXIT_FINDINGS
    } else {
        report::EXIT_OK
    }
}

fn human(d: &Doc) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let fl = &d.find_library;
    let os = serde_json::to_value(fl.os)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    match &fl.returns {
        Some(r) => writeln!(
            out,
            "ctypes.util.find_library({:?}) on {os} → {r:?}  [{}]",
            fl.name,
            fl.rule.as_deref().unwrap_or("")
        )?,
        None => writeln!(
            out,
            "ctypes.util.find_library({:?}) on {os} → None",
            fl.name
        )?,
    }
    for a in &fl.attempts {
        writeln!(
            out,
            "    · {} ({}): {}",
            a.path,
            a.rule,
            loader::outcome_text(&a.outcome)
        )?;
    }
    if let Some(arg) = &d.load.argument {
        match &d.load.path {
            Some(p) => writeln!(
                out,
                "CDLL({arg:?}) loads {p}  [{}]",
                d.load.rule.as_deref().unwrap_or("")
            )?,
            None => writeln!(out, "CDLL({arg:?}) fails: the loader finds no such library")?,
        }
        for a in d
            .load
            .attempts
            .iter()
            .filter(|a| a.outcome != loader::Outcome::DirKnownAbsent)
        {
            writeln!(
                out,
                "    · {} ({}): {}",
                a.path,
                a.rule,
                loader::outcome_text(&a.outcome)
            )?;
        }
    }
    if let Some(n) = &d.load.note {
        writeln!(out, "note: {n}")?;
    }
    if let Some(g) = &d.dependencies {
        let missing: Vec<&str> = g
            .nodes
            .iter()
            .flat_map(|n| n.edges.iter())
            .filter(|e| e.missing)
            .map(|e| e.name.as_str())
            .collect();
        writeln!(
            out,
            "dependencies: {} libraries loaded{}",
            g.nodes.len().saturating_sub(1),
            if missing.is_empty() {
                String::new()
            } else {
                format!("; MISSING: {}", missing.join(", "))
            }
        )?;
    }
    Ok(())
}

#[derive(Debug, clap::Args)]
pub struct ResolveArgs {
    /// The name as passed to find_library (`z`, `ssl`, `mylib`).
    pub name: String,
    /// The OS whose Python to model (default: FILE's format with --from, else this host's).
    #[arg(long, value_enum)]
    pub os: Option<OsArg>,
    /// The object that calls dlopen (an extension module): its class, machine and search paths apply.
    #[arg(long)]
    pub from: Option<String>,
    #[command(flatten)]
    pub loader: crate::commands::args::LoaderArgs,
}

/// `--os`: the OS whose `find_library` to model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OsArg {
    Linux,
    Macos,
    Windows,
}

impl From<OsArg> for crate::loader::find_library::Os {
    fn from(o: OsArg) -> Self {
        match o {
            OsArg::Linux => crate::loader::find_library::Os::Linux,
            OsArg::Macos => crate::loader::find_library::Os::Macos,
            OsArg::Windows => crate::loader::find_library::Os::Windows,
        }
    }
}
