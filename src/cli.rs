//! Command-line definitions (clap) and dispatch to the commands. Global flags: `--format`, `--color`, `--quiet`.

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::commands;
use crate::commands::args::{FormatArg, SeverityArg};

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
    Deps(DepsArgs),
    /// What ctypes.util.find_library(NAME) returns on the target OS and which file CDLL / cffi dlopen then loads.
    Resolve(ResolveArgs),
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
    /// Internal: the child process of `load`.
    #[command(name = "__probe", hide = true)]
    Probe(commands::load::ProbeChildArgs),
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    /// The name as passed to find_library (`z`, `ssl`, `mylib`).
    pub name: String,
    /// The OS whose Python to model (default: FILE's format with --from, else this host's).
    #[arg(long, value_enum)]
    pub os: Option<crate::loader::find_library::Os>,
    /// The object that calls dlopen (an extension module): its class, machine and search paths apply.
    #[arg(long)]
    pub from: Option<String>,
    #[command(flatten)]
    pub loader: LoaderArgs,
}

#[derive(Debug, Args)]
pub struct DepsArgs {
    /// A shared library or executable.
    pub file: String,
    #[command(flatten)]
    pub loader: LoaderArgs,
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
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
}

/// Options that describe the target system for the loader models.
#[derive(Debug, Args)]
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
        Command::Probe(a) => crate::runtime::child::main(&a),
    }
}
