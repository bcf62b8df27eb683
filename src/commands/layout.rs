//! `ffi-doctor layout FILE [--type NAME]`: the layout of a struct or union, printed like `pahole -C NAME` (offsets,
//! sizes, bitfield positions, holes, padding), or as JSON (`ffi-doctor/layout/v1`, `mode` `dwarf` or `spec`).
//!
//! Two sources: for a binary FILE, the library's DWARF debug info (what the compiler really did); for a header or
//! cffi cdef FILE, the ABI engine's layout for one or more targets (`--target`, `--targets all|t1,t2`), the spec
//! parsed once per target with that target's predefined macros, identical layouts grouped and the differences
//! between targets summarised field by field.

use std::path::PathBuf;

use serde::Serialize;

use super::args::{SpecArgs, TargetsArgs};
use super::Context;
use crate::dwarf::{self, DebugOptions, LayoutStats, Record};
use crate::error::InputError;
use crate::layout;
use crate::report::{self, OutputFormat, EXIT_INPUT};

#[derive(Debug, clap::Args)]
pub struct LayoutArgs {
    /// A shared library built with -g (or whose separate debug file can be found), or a debug file itself.
    pub file: String,
    /// The struct or union to show: its tag or the typedef naming it (`struct NAME` / `union NAME` accepted).
    /// Without it, every named struct and union is shown.
    #[arg(long = "type", value_name = "NAME")]
    pub type_name: Option<String>,
    /// Read the layout from the DWARF debug info of FILE (the only mode for a binary FILE).
    #[arg(long)]
    pub dwarf: bool,
    /// Read DWARF from this file instead of searching (a `--only-keep-debug` file, a dSYM's DWARF file).
    #[arg(long, value_name = "PATH")]
    pub debug_file: Option<PathBuf>,
    /// A global debug directory (`.build-id/` and debuglink lookups); repeatable; default /usr/lib/debug.
    #[arg(long, value_name = "DIR")]
    pub debug_dir: Vec<PathBuf>,
    /// The architecture slice of a universal Mach-O file.
    #[arg(long)]
    pub arch: Option<String>,
    /// Treat FILE as a C header or cffi cdef (default: detected from the extension or a text file).
    #[arg(long, conflicts_with = "dwarf")]
    pub spec: bool,
    /// Spec mode: the target whose ABI lays the types out (default: this host's, e.g. linux-x86_64).
    #[arg(long, conflicts_with = "targets")]
    pub target: Option<String>,
    /// Spec mode: lay the types out for several targets (`--targets`; default: this host's) and summarise where
    /// they disagree.
    #[command(flatten)]
    pub targets: TargetsArgs,
    /// Spec mode: how the header is preprocessed.
    #[command(flatten)]
    pub spec_args: SpecArgs,
}

#[derive(Serialize)]
struct Source<'a> {
    source: &'static str,
    path: &'a std::path::Path,
    dwarf_versions: &'a [u16],
    units: usize,
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(flatten)]
    record: &'a Record,
    stats: LayoutStats,
}

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    mode: &'static str,
    file: &'a str,
    resolved: String,
    debug: Source<'a>,
    notes: &'a [String],
    records: Vec<Entry<'a>>,
}

pub fn run(ctx: &Context, a: &LayoutArgs) -> i32 {
    if !a.dwarf && (a.spec || layout::is_spec_file(&a.file)) {
        return spec_mode::run(ctx, a);
    }
    if a.target.is_some() || !a.targets.targets.is_empty() {
        let e = InputError::new(
            &a.file,
            "a C header or cffi cdef (--target/--targets lay out declared types)",
            "a binary, whose layouts come from its DWARF for its own target",
        )
        .hint("drop --target/--targets, or pass the header (add --spec if it has no .h/.cdef extension)");
        report::report_input_errors(ctx.format, "layout", &[e]);
        return EXIT_INPUT;
    }
    let mut opts = DebugOptions {
        debug_file: a.debug_file.clone(),
        sysroot: a.spec_args.sysroot.clone(),
        arch: a.arch.clone(),
        ..DebugOptions::default()
    };
    if !a.debug_dir.is_empty() {
        opts.debug_dirs = a.debug_dir.clone();
    }
    let fail = |e: InputError| {
        report::report_input_errors(ctx.format, "layout", &[e]);
        EXIT_INPUT
    };
    let search = match dwarf::search(&a.file, &opts) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let Some(info) = search.info else {
        let why = if search.notes.is_empty() {
            "no DWARF debug info".to_string()
        } else {
            search.notes.join("; ")
        };
        return fail(
            InputError::new(&a.file, "DWARF debug info (a library built with -g)", why).hint(
                "rebuild with -g, install the -dbg/-dbgsym package, or pass --debug-file / --debug-dir",
            ),
        );
    };
    let chosen = match layout::dwarf_records(&a.file, &info, a.type_name.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    if !ctx.quiet && ctx.format == OutputFormat::Human {
        eprintln!(
            "note: DWARF {} from {} ({})",
            info.dwarf_versions
                .iter()
                .map(u16::to_string)
                .collect::<Vec<_>>()
                .join(", "),
            info.path.display(),
            info.source.as_str()
        );
        for n in &info.notes {
            eprintln!("note: {n}");
        }
    }
    let r = match ctx.format {
        OutputFormat::Json => report::write_json(&Doc {
            schema: "ffi-doctor/layout/v1",
            mode: "dwarf",
            file: &a.file,
            resolved: std::fs::canonicalize(&a.file)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| a.file.clone()),
            debug: Source {
                source: info.source.as_str(),
                path: &info.path,
                dwarf_versions: &info.dwarf_versions,
                units: info.units,
            },
            notes: &info.notes,
            records: chosen
                .iter()
                .map(|r| Entry {
                    record: r,
                    stats: dwarf::layout_stats(r),
                })
                .collect(),
        }),
        _ => {
            use std::io::Write;
            let mut text = String::new();
            for r in &chosen {
                text.push_str(&dwarf::render_layout(r));
            }
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(text.as_bytes()).and_then(|_| out.flush())
        }
    };
    report::finish_output(r)
}

mod spec_mode;
