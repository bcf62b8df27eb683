//! The rule that found (or tried) a library: a closed enum, like libtree's `how_t`, carrying the object whose
//! search path it came through where there is one. `Display` gives the text shown to people (and matched by
//! tests); JSON carries that text as `rule` and the variant as `kind` (snake_case) next to it.

use std::fmt;

use serde::ser::{SerializeMap, Serializer};

/// How a library was found (or where a candidate came from).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum How {
    // glibc ld.so
    /// The name contains `/`: a path, no search.
    PathGiven,
    /// `DT_RPATH` of an object on the loader chain.
    Rpath {
        of: String,
    },
    /// `DT_RPATH` of the executable (the main map), tried after the loader chain.
    RpathOfExecutable {
        of: String,
    },
    LdLibraryPath,
    /// `DT_RUNPATH` of the loading object.
    Runpath {
        of: String,
    },
    LdSoCache,
    DefaultDir,
    // dyld
    DyldLibraryPath,
    /// `@rpath` through an `LC_RPATH` of `of`.
    AtRpath {
        of: String,
        via: RpathVia,
    },
    /// An `LC_RPATH` entry that cannot be expanded (e.g. `@executable_path` without an executable).
    AtRpathUnexpanded {
        entry: String,
        of: String,
    },
    LoaderPath,
    ExecutablePath,
    /// The install name as written (an absolute path).
    InstallName,
    DyldFallback,
    /// In the dyld shared cache (absent on disk), reached through another rule.
    SharedCache(Box<How>),
    // Windows
    ApiSet {
        optional: bool,
    },
    KnownDlls,
    ApplicationDir(AppDir),
    /// `LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR`.
    DllLoadDir,
    /// `os.add_dll_directory` / `AddDllDirectory`.
    DllDir,
    System32 {
        python: bool,
    },
    System16,
    WindowsDir,
    CurrentDir,
    Path,
    // every loader
    AlreadyLoaded(Reuse),
    /// A missing entry that is not an error (a delay-load, shown with its notes).
    NotFound,
    /// A weak dylib that is absent: dyld skips it.
    WeakAbsent,
    /// Not searched on this host: the target platform provides it (a library its policy allows, e.g. the
    /// manylinux allow-list when the wheel is for another architecture); `source` names the policy.
    ProvidedByPlatform {
        source: String,
    },
    // ctypes.util.find_library
    LdconfigP {
        abi: Option<String>,
    },
    LinkerSearch,
    /// `dyld_find`: the name relative to the current directory.
    NameItself,
    /// `dyld_find`: `_dyld_shared_cache_contains_path` for a candidate of another rule.
    SharedCacheContains(Box<How>),
}

/// Which `LC_RPATH` form an `@rpath` candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RpathVia {
    Plain,
    LoaderPath,
    ExecutablePath,
}

/// Which application directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppDir {
    /// The directory of `--executable`.
    Executable,
    /// No executable: the DLL's own directory (`LOAD_WITH_ALTERED_SEARCH_PATH`).
    AlteredSearchPath,
    /// `LOAD_LIBRARY_SEARCH_APPLICATION_DIR`.
    Python,
}

/// Why an already-loaded object was reused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reuse {
    SonameMatch,
    ByExecutable,
    DynamicLoader,
    InstallNameMatch,
    BaseNameMatch,
    ByExecutableBaseName,
    ApiSet,
    /// python.exe's own DLLs, assumed loaded without `--executable`.
    ByPythonExe,
}

/// A qualifier shown in parentheses after the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// The file was already loaded under another name; `image` says dyld's wording.
    SameFile {
        image: bool,
    },
    Weak,
    DelayLoad,
    /// Loaded to bind a forwarded export (`via` is `A!f -> B.g`); `delay` when the import is delay-loaded.
    Forwarder {
        via: String,
        delay: bool,
    },
    Wow64,
    NotReadableWithoutSysroot,
    AssumedSystemDll,
    AssumedAbsentNoSysroot,
    NotInSysrootAssumedPresent,
}

/// A rule with its qualifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub how: How,
    pub notes: Vec<Note>,
}

impl From<How> for Rule {
    fn from(how: How) -> Rule {
        Rule {
            how,
            notes: Vec::new(),
        }
    }
}

impl Rule {
    /// This rule with one more qualifier.
    pub fn with(mut self, note: Note) -> Rule {
        self.notes.push(note);
        self
    }

    /// The variant's name for JSON (`runpath`, `ld_so_cache`, `already_loaded`, …).
    pub fn kind(&self) -> &'static str {
        self.how.kind()
    }
}

impl How {
    pub fn kind(&self) -> &'static str {
        match self {
            How::PathGiven => "path_given",
            How::Rpath { .. } => "rpath",
            How::RpathOfExecutable { .. } => "rpath_of_executable",
            How::LdLibraryPath => "ld_library_path",
            How::Runpath { .. } => "runpath",
            How::LdSoCache => "ld_so_cache",
            How::DefaultDir => "default_dir",
            How::DyldLibraryPath => "dyld_library_path",
            How::AtRpath { .. } | How::AtRpathUnexpanded { .. } => "at_rpath",
            How::LoaderPath => "loader_path",
            How::ExecutablePath => "executable_path",
            How::InstallName => "install_name",
            How::DyldFallback => "dyld_fallback_library_path",
            How::SharedCache(_) | How::SharedCacheContains(_) => "shared_cache",
            How::ApiSet { .. } => "api_set",
            How::KnownDlls => "known_dlls",
            How::ApplicationDir(_) => "application_dir",
            How::DllLoadDir => "dll_load_dir",
            How::DllDir => "dll_dir",
            How::System32 { .. } => "system32",
            How::System16 => "system16",
            How::WindowsDir => "windows_dir",
            How::CurrentDir => "current_dir",
            How::Path => "path",
            How::AlreadyLoaded(_) => "already_loaded",
            How::NotFound => "not_found",
            How::WeakAbsent => "weak_absent",
            How::ProvidedByPlatform { .. } => "provided_by_platform",
            How::LdconfigP { .. } => "ldconfig",
            How::LinkerSearch => "linker_search",
            How::NameItself => "name_itself",
        }
    }
}

impl fmt::Display for How {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            How::PathGiven => f.write_str("path (name contains /)"),
            How::Rpath { of } => write!(f, "DT_RPATH of {of}"),
            How::RpathOfExecutable { of } => write!(f, "DT_RPATH of {of} (the executable)"),
            How::LdLibraryPath => f.write_str("LD_LIBRARY_PATH"),
            How::Runpath { of } => write!(f, "DT_RUNPATH of {of}"),
            How::LdSoCache => f.write_str("ld.so.cache"),
            How::DefaultDir => f.write_str("default dir"),
            How::DyldLibraryPath => f.write_str("DYLD_LIBRARY_PATH"),
            How::AtRpath { of, via } => {
                let from = match via {
                    RpathVia::Plain => "",
                    RpathVia::LoaderPath => " (from @loader_path)",
                    RpathVia::ExecutablePath => " (from @executable_path)",
                };
                write!(f, "@rpath → LC_RPATH of {of}{from}")
            }
            How::AtRpathUnexpanded { entry, of } => write!(f, "@rpath → LC_RPATH {entry} of {of}"),
            How::LoaderPath => f.write_str("@loader_path"),
            How::ExecutablePath => f.write_str("@executable_path"),
            How::InstallName => f.write_str("install name"),
            How::DyldFallback => f.write_str("DYLD_FALLBACK_LIBRARY_PATH"),
            How::SharedCache(through) => write!(
                f,
                "{through}: dyld shared cache (absent on disk since macOS 11, taken as present)"
            ),
            How::ApiSet { optional: true } => f.write_str(
                "API set (ext-ms-*: optional contract, may be absent on some Windows SKUs; assumed present)",
            ),
            How::ApiSet { optional: false } => {
                f.write_str("API set (resolved by the OS from its API set schema)")
            }
            How::KnownDlls => f.write_str("KnownDLLs"),
            How::ApplicationDir(AppDir::Executable) => {
                f.write_str("application dir (directory of the executable)")
            }
            How::ApplicationDir(AppDir::AlteredSearchPath) => {
                f.write_str("application dir (altered search path: the DLL's own directory)")
            }
            How::ApplicationDir(AppDir::Python) => {
                f.write_str("application dir (LOAD_LIBRARY_SEARCH_APPLICATION_DIR)")
            }
            How::DllLoadDir => f.write_str("DLL load dir (LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR)"),
            How::DllDir => f.write_str("--dll-dir (os.add_dll_directory)"),
            How::System32 { python: false } => f.write_str("System32"),
            How::System32 { python: true } => f.write_str("System32 (LOAD_LIBRARY_SEARCH_SYSTEM32)"),
            How::System16 => f.write_str("16-bit System dir"),
            How::WindowsDir => f.write_str("Windows dir"),
            How::CurrentDir => f.write_str("current dir"),
            How::Path => f.write_str("PATH"),
            How::AlreadyLoaded(r) => f.write_str(match r {
                Reuse::SonameMatch => "already loaded (soname match)",
                Reuse::ByExecutable => "already loaded (by the executable)",
                Reuse::DynamicLoader => "already loaded (the dynamic loader itself)",
                Reuse::InstallNameMatch => "already loaded (install name match)",
                Reuse::BaseNameMatch => "already loaded (base name match)",
                Reuse::ByExecutableBaseName => "already loaded (by the executable; base name match)",
                Reuse::ApiSet => "already loaded (API set)",
                Reuse::ByPythonExe => {
                    "already loaded (by python.exe: the interpreter's own DLL; assumed — give \
                     --executable python.exe to check it)"
                }
            }),
            How::NotFound => f.write_str("not found"),
            How::WeakAbsent => f.write_str("absent (weak dylib: skipped by dyld)"),
            How::ProvidedByPlatform { source } => write!(f, "provided by the platform ({source})"),
            How::LdconfigP { abi: Some(abi) } => write!(f, "ldconfig -p ({abi})"),
            How::LdconfigP { abi: None } => f.write_str("ldconfig -p"),
            How::LinkerSearch => f.write_str("linker search (gcc/ld -t)"),
            How::NameItself => f.write_str("the name itself (relative to the current directory)"),
            How::SharedCacheContains(through) => {
                write!(f, "{through}: dyld shared cache (taken as present)")
            }
        }
    }
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Note::SameFile { image: false } => f.write_str("same file as an already loaded object"),
            Note::SameFile { image: true } => f.write_str("same file as an already loaded image"),
            Note::Weak => f.write_str("weak"),
            Note::DelayLoad => f.write_str("delay-load"),
            Note::Forwarder { via, delay: false } => write!(f, "forwarder {via}"),
            Note::Forwarder { via, delay: true } => write!(f, "delay-load; forwarder {via}"),
            Note::Wow64 => f.write_str("SysWOW64: 32-bit DLL, WOW64 redirection"),
            Note::NotReadableWithoutSysroot => f.write_str("not readable without --sysroot"),
            Note::AssumedSystemDll => f.write_str("assumed: Windows system DLL; no --sysroot"),
            Note::AssumedAbsentNoSysroot => f.write_str("no --sysroot: assumed absent"),
            Note::NotInSysrootAssumedPresent => f.write_str("not in the sysroot; assumed present"),
        }
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.how)?;
        for n in &self.notes {
            write!(f, " ({n})")?;
        }
        Ok(())
    }
}

/// `"rule": <text>, "kind": <variant>` (flattened into attempts and edges).
impl serde::Serialize for Rule {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("rule", &self.to_string())?;
        m.serialize_entry("kind", self.kind())?;
        m.end()
    }
}

/// For an optional rule: `"rule": null, "kind": null` when there is none (today's `rule` field stays).
pub(crate) fn serialize_opt<S: Serializer>(r: &Option<Rule>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => serde::Serialize::serialize(r, s),
        None => {
            let mut m = s.serialize_map(Some(2))?;
            m.serialize_entry("rule", &None::<String>)?;
            m.serialize_entry("kind", &None::<String>)?;
            m.end()
        }
    }
}
