//! Command-line definitions (clap) and dispatch to the commands. Global flags: `--format`, `--color`, `--quiet`.

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands;
use crate::commands::args::FormatArg;

/// Tells you why your FFI binding to a native shared library will break, before it does.
#[derive(Debug, Parser)]
#[command(name = "ffi-doctor", version, about, propagate_version = true)]
pub struct Cli {
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = FormatArg::Human)]
    pub format: FormatArg,
    /// When to colour human output (never with NO_COLOR set).
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// Print only what was asked for: no notes on stderr.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Format, architecture(s), identity, dependencies, search paths, symbol counts and debug info of each file.
    Inspect(commands::inspect::InspectArgs),
    /// The symbols the dynamic loader can bind to, demangled, with kind, binding, version, ordinal, forwarder.
    Exports(commands::symbols::SymbolArgs),
    /// The undefined symbols, with the library that must provide each where the format records it.
    Imports(commands::symbols::SymbolArgs),
    /// The dependency tree under the target's loader rules (glibc ld.so for ELF), without executing anything.
    Deps(commands::deps::DepsArgs),
    /// What ctypes.util.find_library(NAME) returns on the target OS and which file CDLL / cffi dlopen then loads.
    Resolve(commands::resolve::ResolveArgs),
    /// Declared prototypes and types (a C header or cffi cdef) against the library: exports, ABI, portability.
    Check(commands::check::CheckArgs),
    /// Load the library for real in an isolated child process (dlopen RTLD_NOW|RTLD_LOCAL, timeout, rlimits),
    /// resolve symbols and optionally call one `T f(void)`; a failed load is explained with the static model.
    Load(commands::load::LoadArgs),
    /// The layout of a struct or union from the library's DWARF debug info, printed like `pahole -C NAME`.
    Layout(commands::layout::LayoutArgs),
    /// The CI pre-release gate: every target of ffi-doctor.toml (or [tool.ffi-doctor] in pyproject.toml) —
    /// files, globs, directories, wheels — through deps, symbols, check and the release policies.
    Gate(commands::gate::GateArgs),
    /// ABI changes between two releases (libraries, wheels or directories): exports, symbol versions, identity,
    /// and the types of exported functions and variables from DWARF.
    Diff(commands::diff::DiffArgs),
    /// Internal: the child process of `load`.
    #[command(name = "__probe", hide = true)]
    Probe(commands::load::ProbeChildArgs),
}

/// Run the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    let ctx = commands::Context {
        format: cli.format.into(),
        quiet: cli.quiet,
    };
    match cli.command {
        Command::Inspect(a) => commands::inspect::run(&ctx, &a),
        Command::Exports(a) => commands::symbols::run(&ctx, &a, commands::symbols::Which::Exports),
        Command::Imports(a) => commands::symbols::run(&ctx, &a, commands::symbols::Which::Imports),
        Command::Deps(a) => commands::deps::run(&ctx, &a),
        Command::Resolve(a) => commands::resolve::run(&ctx, &a),
        Command::Check(a) => commands::check::run(&ctx, &a),
        Command::Load(a) => commands::load::run(&ctx, &a),
        Command::Layout(a) => commands::layout::run(&ctx, &a),
        Command::Gate(a) => commands::gate::run(&ctx, &a),
        Command::Diff(a) => commands::diff::run(&ctx, &a),
        Command::Probe(a) => crate::runtime::child::main(&(&a).into()),
    }
}
