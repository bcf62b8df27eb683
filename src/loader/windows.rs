//! The Windows DLL loader (`ntdll!Ldr*`), modelled on Microsoft's "Dynamic-link library search order"
//! (learn.microsoft.com/windows/win32/dlls/dynamic-link-library-search-order) and the `LoadLibraryExW` /
//! `SetDefaultDllDirectories` flag documentation. Before any directory is searched, in both modes:
//!
//! 1. **API sets** (`api-ms-*`, `ext-ms-*`) are resolved by the OS from its API set schema: no file search.
//!    `ext-ms-*` contracts are optional and may be absent on some SKUs; they are treated as present.
//! 2. **Loaded-module list**: a module with the same base name (case-insensitive) is reused wherever it was loaded
//!    from. This is how cycles terminate.
//! 3. **KnownDLLs** (`HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\KnownDLLs` on Windows 10/11, plus
//!    `ntdll.dll` and `kernelbase.dll`, which every process has) come from System32 (SysWOW64 for a 32-bit DLL
//!    when the sysroot has one).
//!
//! Then the directories, by `--windows-search`:
//!
//! - `standard` (`LoadLibrary`, SafeDllSearchMode on): the application directory, System32, the 16-bit System
//!   directory, the Windows directory, the current directory, each `PATH` entry. The application directory is the
//!   directory of `--executable`; without one, the root DLL's own directory is used, as a load with a full path and
//!   `LOAD_WITH_ALTERED_SEARCH_PATH` does (rule `application dir (altered search path)`). Microsoft: "If a DLL has
//!   dependencies, then the system searches for the dependent DLLs as if they were loaded by using only their
//!   module names" — so with `--executable`, the root DLL's directory is *not* searched for its dependencies.
//!   The current directory is `--env CD=DIR` (cmd's `%CD%`); without it that step is left out.
//! - `python` (`LoadLibraryExW(path, NULL, LOAD_LIBRARY_SEARCH_DEFAULT_DIRS | LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR)`,
//!   what CPython >= 3.8 does for extension modules (`Python/dynload_win.c`) and for `ctypes.CDLL(path)` with a
//!   `/` or `\` in the name (`Lib/ctypes/__init__.py`)): the root DLL's directory (`LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR`,
//!   documented as "temporarily added to the beginning of the list of directories that are searched for the DLL's
//!   dependencies"; the search path is computed once per `LoadLibraryExW` call, so the root DLL's directory
//!   applies to the whole dependency tree), the application directory (`--executable`, python.exe's directory;
//!   left out without one), each `--dll-dir` (`os.add_dll_directory`; Microsoft leaves their relative order
//!   unspecified: modelled in the order given), System32. **PATH is not searched.**
//!
//! A candidate for another machine is skipped and the search goes on: the Windows 10 loader's
//! `LdrpMapDllSearchPath` loops while mapping returns `STATUS_IMAGE_MACHINE_TYPE_MISMATCH` ("Repeat until exhausted
//! the whole PATH or found PE image for current machine platform", ReactOS `dll/ntdll/ldr/ldrpath.c` /
//! Win10 reconstruction), and when only wrong-machine candidates existed the load fails with
//! `STATUS_INVALID_IMAGE_FORMAT` (`ERROR_BAD_EXE_FORMAT`, 193) rather than "module not found" (126). A file that is
//! not a PE image at all ends the search (the load fails there).
//!
//! Without `--sysroot`, System32 cannot be read: well-known system DLLs ([`ASSUMED_SYSTEM`]) are treated as present
//! there (rule `System32 (assumed: Windows system DLL; no --sysroot)`), everything else as absent. Files are looked
//! up case-insensitively, as on NTFS. CoffMachine paths are shown in Windows form (`C:\Windows\System32\kernel32.dll`)
//! for files inside the sysroot; files elsewhere on this host keep their host path.
//!
//! Forwarded exports are part of loading: binding an import to `A!f` forwarded to `B.g` makes the loader load
//! `B.dll` as a dependency of `A` (`LdrpSnapModule` → forwarder). Such edges carry `(forwarder …)` in their rule.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::bind::{Facts, NodeFacts};
use super::rule::{AppDir, How, Note, Reuse, Rule};
use super::walk::{self, Candidate, Linked, Need, NeedKind, Walk};
use super::{outcome_text, Attempt, Edge, Graph, LoaderEnv, Outcome, WindowsSearch};
use crate::binary::{self, Format, Image, ImportSource, Mapped, NeededKind, ReadOptions};
use crate::error::InputError;
use crate::report::codes::{Code, LoadCode};
use crate::report::{Finding, Severity};

/// `HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\KnownDLLs` on Windows 10/11, plus the two DLLs every
/// process has mapped before anything else (`ntdll.dll`, `kernelbase.dll`).
pub const KNOWN_DLLS: &[&str] = &[
    "advapi32.dll",
    "clbcatq.dll",
    "combase.dll",
    "comdlg32.dll",
    "coml2.dll",
    "difxapi.dll",
    "gdi32.dll",
    "gdiplus.dll",
    "imagehlp.dll",
    "imm32.dll",
    "kernel32.dll",
    "msctf.dll",
    "msvcrt.dll",
    "normaliz.dll",
    "nsi.dll",
    "ole32.dll",
    "oleaut32.dll",
    "psapi.dll",
    "rpcrt4.dll",
    "sechost.dll",
    "setupapi.dll",
    "shcore.dll",
    "shell32.dll",
    "shlwapi.dll",
    "user32.dll",
    "wldap32.dll",
    "wow64.dll",
    "wow64cpu.dll",
    "wow64win.dll",
    "ws2_32.dll",
    "ntdll.dll",
    "kernelbase.dll",
];

/// DLLs that ship in System32 of every supported Windows 10/11 install (beyond [`KNOWN_DLLS`]): assumed present
/// there when no `--sysroot` lets us look. The Universal CRT (`ucrtbase.dll`) is part of the OS since Windows 10;
/// the VC++ runtime (`vcruntime140.dll`, `msvcp140.dll`) is *not* — it comes with the redistributable — so it
/// is not on this list.
pub const ASSUMED_SYSTEM: &[&str] = &[
    "ucrtbase.dll",
    "bcrypt.dll",
    "bcryptprimitives.dll",
    "cfgmgr32.dll",
    "comctl32.dll",
    "crypt32.dll",
    "cryptbase.dll",
    "d3d11.dll",
    "d3d12.dll",
    "dbghelp.dll",
    "dnsapi.dll",
    "dwmapi.dll",
    "dxgi.dll",
    "iphlpapi.dll",
    "mswsock.dll",
    "ncrypt.dll",
    "netapi32.dll",
    "ntdll.dll",
    "opengl32.dll",
    "powrprof.dll",
    "propsys.dll",
    "secur32.dll",
    "userenv.dll",
    "uxtheme.dll",
    "version.dll",
    "winhttp.dll",
    "wininet.dll",
    "winmm.dll",
    "winspool.drv",
    "wintrust.dll",
    "wtsapi32.dll",
    "dwrite.dll",
    "d2d1.dll",
    "hid.dll",
    "mscoree.dll",
    "msimg32.dll",
    "oleacc.dll",
    "urlmon.dll",
    "credui.dll",
    "mpr.dll",
];

/// An API set contract name (resolved by the OS from its schema, never searched for).
pub fn is_api_set(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.starts_with("api-ms-") || n.starts_with("ext-ms-")
}

fn is_known_dll(lower: &str) -> bool {
    KNOWN_DLLS.contains(&lower)
}

fn is_assumed_system(lower: &str) -> bool {
    is_known_dll(lower) || ASSUMED_SYSTEM.contains(&lower)
}

/// `python3.dll`, `python312.dll`, `python312_d.dll`, and the VC++ runtime python.exe ships next to itself.
fn is_python_runtime(lower: &str) -> bool {
    if matches!(lower, "vcruntime140.dll" | "vcruntime140_1.dll") {
        return true;
    }
    lower
        .strip_prefix("python3")
        .and_then(|r| r.strip_suffix(".dll"))
        .is_some_and(|r| {
            let r = r.strip_suffix("_d").unwrap_or(r);
            r.chars().all(|c| c.is_ascii_digit())
        })
}

/// The base name the loader matches modules by: lower case, `.dll` appended when there is no extension.
pub(crate) fn module_key(name: &str) -> String {
    let base = name.rsplit(['\\', '/']).next().unwrap_or(name);
    let mut b = base.to_lowercase();
    if !b.contains('.') {
        b.push_str(".dll");
    } else if b.ends_with('.') {
        b.pop();
    }
    b
}

/// One search directory: the rule that adds it, its path as the target sees it, and where it is on this host.
#[derive(Debug, Clone)]
struct Dir {
    rule: Rule,
    target: String,
    host: Option<PathBuf>,
    /// Windows-form target path (joined with `\`), or a host path (joined with `/`).
    windows: bool,
}

impl Dir {
    fn join(&self, name: &str) -> String {
        let sep = if self.windows { '\\' } else { '/' };
        if self.target.ends_with(sep) {
            format!("{}{name}", self.target)
        } else {
            format!("{}{sep}{name}", self.target)
        }
    }
}

/// Case-insensitive file lookup with a per-directory cache of the lower-cased names.
#[derive(Default)]
struct CiFs {
    dirs: HashMap<PathBuf, Option<HashMap<String, std::ffi::OsString>>>,
}

impl CiFs {
    /// The entry of `dir` whose name equals `name` ignoring case.
    fn find(&mut self, dir: &Path, name: &str) -> Option<PathBuf> {
        let listing = self.dirs.entry(dir.to_path_buf()).or_insert_with(|| {
            let rd = std::fs::read_dir(dir).ok()?;
            let mut m = HashMap::new();
            for e in rd.flatten() {
                let n = e.file_name();
                // The first spelling wins if a case-sensitive host holds two.
                m.entry(n.to_string_lossy().to_lowercase()).or_insert(n);
            }
            Some(m)
        });
        let hit = listing.as_ref()?.get(&name.to_lowercase())?;
        Some(dir.join(hit))
    }

    /// Resolve `rel` (components separated by `\` or `/`) under `root`, each component case-insensitively.
    fn resolve_under(&mut self, root: &Path, rel: &str) -> Option<PathBuf> {
        let mut p = root.to_path_buf();
        for c in rel
            .split(['\\', '/'])
            .filter(|c| !c.is_empty() && *c != ".")
        {
            p = self.find(&p, c)?;
        }
        Some(p)
    }
}

/// A Windows absolute path (`C:\…`, `C:/…`): (drive-relative rest).
fn windows_abs(p: &str) -> Option<&str> {
    let b = p.as_bytes();
    (b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && matches!(b[2], b'\\' | b'/'))
        .then(|| &p[3..])
}

/// What identifies the target: the root image's COFF machine.
#[derive(Debug, Clone, Copy)]
struct CoffMachine {
    machine: u16,
    bits: u8,
}

/// The facts of one PE image the walk needs.
#[derive(Debug, Clone, Default)]
pub struct PeFacts {
    /// (DLL name as written, delay-load)
    pub(crate) needed: Vec<(String, bool)>,
    /// (DLL name, symbol name or ordinal, delay-load)
    pub(crate) imports: Vec<(String, Sym, bool)>,
    /// name → forwarder ("DLL.name" / "DLL.#n") if forwarded; ordinal → same.
    pub(crate) by_name: HashMap<String, Option<String>>,
    pub(crate) by_ordinal: HashMap<u32, Option<String>>,
    pub(crate) names: Vec<String>,
    pub(crate) export_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Sym {
    Name(String),
    Ordinal(u32),
}

impl std::fmt::Display for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Sym::Name(n) => write!(f, "{n}"),
            Sym::Ordinal(o) => write!(f, "#{o}"),
        }
    }
}

fn facts_of(img: &Image<'_>) -> PeFacts {
    let mut f = PeFacts {
        export_name: img.identity.as_ref().map(|i| i.name.clone()),
        ..Default::default()
    };
    for n in &img.needed {
        f.needed
            .push((n.name.clone(), n.kind == NeededKind::DelayImport));
    }
    for i in &img.imports {
        let ImportSource::Library { library } = &i.source else {
            continue;
        };
        let sym = match (&i.name, i.ordinal) {
            (Some(n), _) => Sym::Name(n.to_string()),
            (None, Some(o)) => Sym::Ordinal(o),
            _ => continue,
        };
        f.imports.push((library.clone(), sym, i.delay_load));
    }
    for e in &img.exports {
        if !e.name.is_empty() {
            f.by_name.insert(e.name.to_string(), e.forwarder.clone());
            f.names.push(e.name.to_string());
        }
        if let Some(o) = e.ordinal {
            f.by_ordinal.insert(o, e.forwarder.clone());
        }
    }
    f
}

fn read_pe(host: &Path, shown: &str) -> Result<(PeFacts, CoffMachine), InputError> {
    read_mapped(&Mapped::open(&host.to_string_lossy())?, shown)
}

fn read_mapped(m: &Mapped, shown: &str) -> Result<(PeFacts, CoffMachine), InputError> {
    let imgs = binary::read_images(shown, m.bytes(), None, ReadOptions { demangle: false })?;
    let img = imgs
        .first()
        .filter(|i| i.format == Format::Pe)
        .ok_or_else(|| {
            InputError::new(
                shown,
                "a PE file (the Windows loader reads only PE)",
                "another object format",
            )
        })?;
    let machine = img.pe.as_ref().map(|p| p.machine_raw).unwrap_or(0);
    Ok((
        facts_of(img),
        CoffMachine {
            machine,
            bits: img.bits,
        },
    ))
}

/// Open a candidate once: check its headers as the loader's image mapping does (not PE → the load fails there;
/// another machine → skipped, `STATUS_IMAGE_MACHINE_TYPE_MISMATCH`, search goes on), then read its facts from the
/// same mapping. Err: the outcome that rejects it; Ok(Err): right headers, an unreadable image.
fn open_pe(
    host: &Path,
    shown: &str,
    target: CoffMachine,
) -> Result<Result<PeFacts, String>, Outcome> {
    if host.is_dir() {
        return Err(Outcome::Absent);
    }
    let m = match Mapped::open(&host.to_string_lossy()) {
        Ok(m) => m,
        Err(_) if !host.exists() => return Err(Outcome::Absent),
        Err(e) => return Err(Outcome::Unreadable(e.found)),
    };
    let d = m.bytes();
    if d.len() < 0x40 || &d[..2] != b"MZ" {
        return Err(Outcome::NotALibrary(
            "no MZ header (STATUS_INVALID_IMAGE_NOT_MZ)".into(),
        ));
    }
    let lfanew = u32::from_le_bytes([d[0x3c], d[0x3d], d[0x3e], d[0x3f]]) as usize;
    match d.get(lfanew..lfanew + 6) {
        Some(h) if &h[..4] == b"PE\0\0" => {
            let machine = u16::from_le_bytes([h[4], h[5]]);
            if machine != target.machine {
                let (arch, _) = binary::pe::machine_names(object::pe::Machine(machine));
                let (want, _) = binary::pe::machine_names(object::pe::Machine(target.machine));
                return Err(Outcome::WrongMachine(format!("{arch}, need {want}")));
            }
            Ok(read_mapped(&m, shown).map(|(f, _)| f).map_err(|e| e.found))
        }
        _ => Err(Outcome::NotALibrary(
            "no PE signature (STATUS_INVALID_IMAGE_FORMAT)".into(),
        )),
    }
}

/// What the walk keeps of a module: its facts (None: no file, e.g. an API set or an assumed system DLL).
type Module = Option<Arc<PeFacts>>;

/// The Windows loader over one tree: the walk's hooks.
struct Windows<'e> {
    env: &'e LoaderEnv,
    target: CoffMachine,
    fs: CiFs,
    /// The root DLL's directory (target form, host).
    root_dir: Dir,
    exe_dir: Option<Dir>,
    /// (node, edge index) of delay-load edges.
    delay_edges: HashSet<(usize, usize)>,
    /// Per missing edge: the hint that a standard-order PATH search would have found it.
    path_hints: HashMap<(usize, usize), String>,
}

impl Windows<'_> {
    /// CoffMachine form of a host path: `C:\…` inside the sysroot, the host path otherwise.
    fn target_of(&self, host: &Path) -> (String, bool) {
        let abs = std::path::absolute(host).unwrap_or_else(|_| host.to_path_buf());
        if let Some(root) = &self.env.sysroot {
            let root = std::path::absolute(root).unwrap_or_else(|_| root.clone());
            if let Ok(rel) = abs.strip_prefix(&root) {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                return (format!("C:\\{}", parts.join("\\")), true);
            }
        }
        (abs.display().to_string(), false)
    }

    /// A directory named by the user (`PATH`, `--dll-dir`): a Windows path (inside the sysroot) or a host path.
    fn user_dir(&mut self, rule: How, d: &str) -> Dir {
        if let Some(rest) = windows_abs(d) {
            let target = d.replace('/', "\\");
            let host = match &self.env.sysroot {
                Some(root) => {
                    let root = root.clone();
                    self.fs.resolve_under(&root, rest)
                }
                None => None,
            };
            let rule = if self.env.sysroot.is_none() {
                Rule::from(rule).with(Note::NotReadableWithoutSysroot)
            } else {
                rule.into()
            };
            return Dir {
                rule,
                target: target.trim_end_matches('\\').to_string(),
                host,
                windows: true,
            };
        }
        let host = PathBuf::from(d);
        let (target, windows) = self.target_of(&host);
        Dir {
            rule: rule.into(),
            target,
            host: Some(host),
            windows,
        }
    }

    /// A directory of the Windows tree (`Windows\System32`, …).
    fn system_dir(&mut self, rule: Rule, rel: &str) -> Dir {
        let host = match &self.env.sysroot {
            Some(root) => {
                let root = root.clone();
                self.fs.resolve_under(&root, rel)
            }
            None => None,
        };
        Dir {
            rule,
            target: format!("C:\\{rel}"),
            host,
            windows: true,
        }
    }

    /// System32 as this process sees it: SysWOW64 for a 32-bit x86 DLL when the sysroot has one (WOW64 file
    /// system redirection); without a sysroot, SysWOW64 for i386 (64-bit Windows assumed).
    fn system32(&mut self, rule: How) -> Dir {
        let wow = self.target.bits == 32 && self.target.machine == 0x14c;
        if wow {
            let has_wow = match &self.env.sysroot {
                Some(root) => {
                    let root = root.clone();
                    self.fs.resolve_under(&root, "Windows\\SysWOW64").is_some()
                }
                None => true,
            };
            if has_wow {
                return self.system_dir(Rule::from(rule).with(Note::Wow64), "Windows\\SysWOW64");
            }
        }
        self.system_dir(rule.into(), "Windows\\System32")
    }

    fn path_dirs(&mut self) -> Vec<Dir> {
        let Some(path) = self.env.env.get("PATH").cloned() else {
            return Vec::new();
        };
        let parts: Vec<&str> = if path.contains(';') {
            path.split(';').collect()
        } else if windows_abs(&path).is_some() {
            vec![path.as_str()]
        } else {
            // No `;` and not a Windows path: a POSIX-style list of host directories.
            path.split(':').collect()
        };
        parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .map(|p| self.user_dir(How::Path, p))
            .collect()
    }

    /// The directories searched for a dependency, in order, for the chosen mode (`startup`: the executable's own
    /// imports at process start, always the standard order).
    fn search_dirs(&mut self, startup: bool) -> Vec<Dir> {
        let mut dirs = Vec::new();
        let mode = if startup {
            WindowsSearch::Standard
        } else {
            self.env.windows_search
        };
        match mode {
            WindowsSearch::Standard => {
                match &self.exe_dir {
                    Some(d) => dirs.push(Dir {
                        rule: How::ApplicationDir(AppDir::Executable).into(),
                        ..d.clone()
                    }),
                    None => dirs.push(Dir {
                        rule: How::ApplicationDir(AppDir::AlteredSearchPath).into(),
                        ..self.root_dir.clone()
                    }),
                }
                let s32 = self.system32(How::System32 { python: false });
                dirs.push(s32);
                let sys = self.system_dir(How::System16.into(), "Windows\\System");
                dirs.push(sys);
                let win = self.system_dir(How::WindowsDir.into(), "Windows");
                dirs.push(win);
                if let Some(cd) = self.env.env.get("CD").cloned() {
                    let d = self.user_dir(How::CurrentDir, &cd);
                    dirs.push(d);
                }
                let p = self.path_dirs();
                dirs.extend(p);
            }
            WindowsSearch::Python => {
                dirs.push(Dir {
                    rule: How::DllLoadDir.into(),
                    ..self.root_dir.clone()
                });
                if let Some(d) = &self.exe_dir {
                    dirs.push(Dir {
                        rule: How::ApplicationDir(AppDir::Python).into(),
                        ..d.clone()
                    });
                }
                for d in self.env.dll_dirs.clone() {
                    let d = self.user_dir(How::DllDir, &d);
                    dirs.push(d);
                }
                let s32 = self.system32(How::System32 { python: true });
                dirs.push(s32);
            }
        }
        dirs
    }

    /// Try `name` in each directory, recording attempts; the file found is opened once.
    fn in_dirs(
        &mut self,
        name: &str,
        dirs: &[Dir],
        attempts: &mut Vec<Attempt>,
    ) -> Option<Candidate<Module>> {
        let lower = name.to_lowercase();
        for d in dirs {
            let is_sys = d.windows
                && (d.target.eq_ignore_ascii_case("C:\\Windows\\System32")
                    || d.target.eq_ignore_ascii_case("C:\\Windows\\SysWOW64")
                    || d.target.eq_ignore_ascii_case("C:\\Windows\\System")
                    || d.target.eq_ignore_ascii_case("C:\\Windows"));
            let is_s32 = d.target.ends_with("System32") || d.target.ends_with("SysWOW64");
            let Some(host_dir) = &d.host else {
                // Not readable: System32 without a sysroot assumes the well-known system DLLs.
                if is_sys && is_s32 && self.env.sysroot.is_none() && is_assumed_system(&lower) {
                    let rule = d.rule.clone().with(Note::AssumedSystemDll);
                    let path = d.join(&lower);
                    attempts.push(Attempt {
                        rule: rule.clone(),
                        path: path.clone(),
                        outcome: Outcome::Found,
                    });
                    return Some(no_file(path, rule, true));
                }
                attempts.push(Attempt {
                    rule: if is_sys && self.env.sysroot.is_none() {
                        d.rule.clone().with(Note::AssumedAbsentNoSysroot)
                    } else {
                        d.rule.clone()
                    },
                    path: d.join(name),
                    outcome: if is_sys || !d.windows {
                        Outcome::Absent
                    } else {
                        Outcome::DirKnownAbsent
                    },
                });
                continue;
            };
            let host_dir = host_dir.clone();
            let Some(hit) = self.fs.find(&host_dir, name) else {
                attempts.push(Attempt {
                    rule: d.rule.clone(),
                    path: d.join(name),
                    outcome: Outcome::Absent,
                });
                continue;
            };
            let file = hit
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_else(|| name.to_string());
            let path = d.join(&file);
            let (outcome, facts) = match open_pe(&hit, &path, self.target) {
                Ok(f) => (Outcome::Found, Some(f)),
                Err(o) => (o, None),
            };
            attempts.push(Attempt {
                rule: d.rule.clone(),
                path: path.clone(),
                outcome: outcome.clone(),
            });
            match (outcome, facts) {
                (_, Some(facts)) => {
                    return Some(Candidate {
                        path,
                        host: Some(hit),
                        rule: d.rule.clone(),
                        system: is_sys,
                        facts: facts.map(|f| Some(Arc::new(f))),
                    })
                }
                (Outcome::NotALibrary(_) | Outcome::Unreadable(_), _) => return None,
                _ => {}
            }
        }
        None
    }

    /// Where a standard-order PATH search would find `name` (for the Python-mode hint).
    fn on_path(&mut self, name: &str) -> Option<String> {
        let dirs = self.path_dirs();
        let mut scratch = Vec::new();
        self.in_dirs(name, &dirs, &mut scratch).map(|c| c.path)
    }

    /// The module an edge of module `o` named `dll` resolved to (case-insensitive), if any.
    fn edge_target(w: &Walk<Module>, o: usize, dll: &str) -> Option<usize> {
        let node = w.objs[o].node?;
        let key = module_key(dll);
        let e = w.graph.nodes[node]
            .edges
            .iter()
            .find(|e| module_key(&e.name) == key)?;
        let t = e.target?;
        w.objs.iter().position(|x| x.node == Some(t))
    }

    /// Walk the forwarder chain of `dll!sym` (imported by module `o`), loading each forwarded-to DLL as a
    /// dependency of the forwarding module. A chain ends at a real export, a missing export, or a repeat.
    fn follow_forwarders(
        &mut self,
        w: &mut Walk<Module>,
        o: usize,
        dll: &str,
        sym: &Sym,
        delay: bool,
    ) {
        let Some(mut m) = Self::edge_target(w, o, dll) else {
            return;
        };
        let mut sym = sym.clone();
        let mut seen = HashSet::new();
        while seen.insert((m, sym.clone())) {
            let Some(f) = w.objs[m].facts.as_ref() else {
                return;
            };
            let Some(Some(fwd)) = lookup_export(f, &sym) else {
                return;
            };
            let Some((fdll, fsym)) = split_forwarder(&fwd) else {
                return;
            };
            let next = match Self::edge_target(w, m, &fdll) {
                Some(n) => Some(n),
                None => {
                    let Some(node) = w.objs[m].node else { return };
                    let already = w.graph.nodes[node]
                        .edges
                        .iter()
                        .any(|e| module_key(&e.name) == module_key(&fdll));
                    if already {
                        None
                    } else {
                        let name = if fdll.contains('.') {
                            fdll.clone()
                        } else {
                            format!("{fdll}.dll")
                        };
                        let kind = if delay {
                            NeedKind::Delay
                        } else {
                            NeedKind::Needed
                        };
                        let need = Need {
                            via: Some(format!("{}!{sym} -> {fwd}", key_of(&w.objs[m]))),
                            ..Need::new(name, kind)
                        };
                        w.link(self, m, &need)
                    }
                }
            };
            let Some(n) = next else { return };
            m = n;
            sym = fsym;
        }
    }
}

/// A module with no file to read (an API set, an assumed system DLL, python.exe's own DLLs).
fn no_file(path: String, rule: Rule, system: bool) -> Candidate<Module> {
    Candidate {
        path,
        host: None,
        rule,
        system,
        facts: Ok(None),
    }
}

/// The base name a loaded module is matched by.
fn key_of(o: &walk::Obj<Module>) -> String {
    module_key(o.names.first().map(String::as_str).unwrap_or(&o.path))
}

impl walk::Loader for Windows<'_> {
    type Facts = Module;

    fn needed(&self, f: &Module) -> Vec<Need> {
        let Some(f) = f else { return Vec::new() };
        f.needed
            .iter()
            .map(|(n, delay)| {
                Need::new(
                    n,
                    if *delay {
                        NeedKind::Delay
                    } else {
                        NeedKind::Needed
                    },
                )
            })
            .collect()
    }

    fn soname(&self, f: &Module) -> Option<String> {
        f.as_ref()?.export_name.clone()
    }

    fn bind(&self, f: &Module) -> Option<Arc<Facts>> {
        f.clone().map(|f| Arc::new(Facts::ready(NodeFacts::Pe(f))))
    }

    /// The loaded-module list: a module with the same base name, wherever it was loaded from (API sets by name).
    fn loaded(&self, w: &Walk<Module>, name: &str, _from: usize) -> Option<(usize, Reuse)> {
        let key = module_key(name);
        let o = w.objs.iter().position(|o| key_of(o) == key)?;
        let reuse = if is_api_set(name) {
            Reuse::ApiSet
        } else if w.objs[o].startup_only() {
            Reuse::ByExecutableBaseName
        } else {
            Reuse::BaseNameMatch
        };
        Some((o, reuse))
    }

    /// The loader's lookup for one imported DLL name not already loaded: API sets, KnownDLLs, python.exe's own
    /// DLLs, then the search order (at startup: the executable's imports at process start).
    fn search(
        &mut self,
        w: &Walk<Module>,
        need: &Need,
        _from: usize,
        attempts: &mut Vec<Attempt>,
    ) -> Option<Candidate<Module>> {
        let (name, startup) = (need.name.as_str(), w.startup);
        let key = module_key(name);
        if is_api_set(name) {
            let rule = How::ApiSet {
                optional: key.starts_with("ext-ms-"),
            };
            return Some(no_file(name.to_string(), rule.into(), true));
        }
        if is_known_dll(&key) {
            let s32 = self.system32(How::KnownDlls);
            let rule = s32.rule.clone();
            if let Some(h) = &s32.host {
                let h = h.clone();
                if let Some(hit) = self.fs.find(&h, &key) {
                    let file = hit
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned())
                        .unwrap_or(key.clone());
                    let path = s32.join(&file);
                    attempts.push(Attempt {
                        rule: rule.clone(),
                        path: path.clone(),
                        outcome: Outcome::Found,
                    });
                    let facts = read_pe(&hit, &path)
                        .map(|(f, _)| Some(Arc::new(f)))
                        .map_err(|e| e.found);
                    return Some(Candidate {
                        path,
                        host: Some(hit),
                        rule,
                        system: true,
                        facts,
                    });
                }
            }
            let rule = if self.env.sysroot.is_some() {
                rule.with(Note::NotInSysrootAssumedPresent)
            } else {
                rule
            };
            let path = s32.join(&key);
            attempts.push(Attempt {
                rule: rule.clone(),
                path: path.clone(),
                outcome: Outcome::Found,
            });
            return Some(no_file(path, rule, true));
        }
        if !startup
            && self.env.windows_search == WindowsSearch::Python
            && self.exe_dir.is_none()
            && is_python_runtime(&key)
        {
            let rule = How::AlreadyLoaded(Reuse::ByPythonExe).into();
            return Some(no_file(name.to_string(), rule, false));
        }
        let dirs = self.search_dirs(startup);
        self.in_dirs(name, &dirs, attempts)
    }

    /// Delay-loads are not loaded at process start.
    fn skip_at_startup(&self, need: &Need) -> bool {
        need.kind == NeedKind::Delay
    }

    /// A module the startup could not read stays in the loaded-module list.
    fn unreadable_at_startup(&self) -> Option<Module> {
        Some(None)
    }

    /// Delay-load and forwarder qualifiers; where delay-loads are; the PATH hint for Python-mode misses.
    fn after_edge(
        &mut self,
        w: &mut Walk<Module>,
        from: usize,
        edge: &mut Edge,
        need: &Need,
        linked: Linked,
    ) {
        let delay = need.kind == NeedKind::Delay;
        let note = match (&need.via, delay) {
            (Some(v), _) => Some(Note::Forwarder {
                via: v.clone(),
                delay,
            }),
            (None, true) => Some(Note::DelayLoad),
            (None, false) => None,
        };
        match (linked, note) {
            (Linked::Reused | Linked::New, Some(n)) => {
                edge.rule = edge.rule.take().map(|r| r.with(n))
            }
            (Linked::Missing, Some(n)) if delay => {
                edge.rule = Some(Rule::from(How::NotFound).with(n))
            }
            _ => {}
        }
        let idx = w.graph.nodes[from].edges.len();
        if delay {
            self.delay_edges.insert((from, idx));
        }
        if edge.missing && self.env.windows_search == WindowsSearch::Python {
            if let Some(p) = self.on_path(&edge.name) {
                self.path_hints.insert((from, idx), p);
            }
        }
    }

    /// Forwarded exports are part of loading: follow the forwarders of this module's imports.
    fn after_node(&mut self, w: &mut Walk<Module>, o: usize) {
        let Some(facts) = w.objs[o].facts.clone() else {
            return;
        };
        for (dll, sym, delay) in &facts.imports {
            self.follow_forwarders(w, o, dll, sym, *delay);
        }
    }
}

/// Resolve the dependency tree of `file` (a host path) with the Windows loader's rules.
pub fn resolve(file: &str, env: &LoaderEnv) -> Result<Graph, InputError> {
    resolve_mapped(file, &Mapped::open(file)?, env)
}

/// [`resolve`] for a file already mapped.
pub(crate) fn resolve_mapped(
    file: &str,
    mapped: &Mapped,
    env: &LoaderEnv,
) -> Result<Graph, InputError> {
    let host = PathBuf::from(file);
    let (facts, target) = read_mapped(mapped, file)?;
    let arch = binary::pe::machine_names(object::pe::Machine(target.machine)).0;
    let mut r = Windows {
        env,
        target,
        fs: CiFs::default(),
        root_dir: Dir {
            rule: How::NotFound.into(),
            target: String::new(),
            host: None,
            windows: false,
        },
        exe_dir: None,
        delay_edges: HashSet::new(),
        path_hints: HashMap::new(),
    };
    let mut w = Walk::new("Windows", arch.to_string());
    let abs = std::path::absolute(&host).unwrap_or(host.clone());
    let (root_path, root_win) = r.target_of(&abs);
    let parent = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    let (pt, _) = r.target_of(&parent);
    r.root_dir = Dir {
        rule: How::NotFound.into(),
        target: pt,
        host: Some(parent),
        windows: root_win,
    };
    if let Some(exe) = &env.executable {
        let a = std::path::absolute(exe).unwrap_or(exe.clone());
        let parent = a.parent().map(Path::to_path_buf).unwrap_or_default();
        let (t, win) = r.target_of(&parent);
        r.exe_dir = Some(Dir {
            rule: How::NotFound.into(),
            target: t,
            host: Some(parent),
            windows: win,
        });
        // Process start: the executable's imports, standard order from its directory, not shown as nodes.
        let shown = exe.display().to_string();
        let (facts, _) = read_pe(exe, &shown)?;
        let key = module_key(&shown);
        let e = w.add(&r, key, None, shown, Some(Arc::new(facts)), None, false);
        w.objs[e].preloaded = true;
        w.preload(&mut r, e);
    }
    let root = w.add(
        &r,
        root_path,
        Some(host),
        file.to_string(),
        Some(Arc::new(facts)),
        None,
        false,
    );
    w.node_for(&r, root, 0);
    w.run(&mut r, root);
    let mut g = w.graph;
    g.findings = findings(&g, &r);
    Ok(g)
}

/// Split a forwarder string `DLL.name` / `DLL.#12` into (DLL, symbol).
pub(crate) fn split_forwarder(f: &str) -> Option<(String, Sym)> {
    let (dll, sym) = f.rsplit_once('.').or_else(|| f.split_once('.'))?;
    // `api-ms-win-core-x-l1-1-0.Func`: the DLL part is everything before the last dot.
    let sym = match sym.strip_prefix('#').and_then(|n| n.parse().ok()) {
        Some(o) => Sym::Ordinal(o),
        None => Sym::Name(sym.to_string()),
    };
    Some((dll.to_string(), sym))
}

pub(crate) fn lookup_export(f: &PeFacts, sym: &Sym) -> Option<Option<String>> {
    match sym {
        Sym::Name(n) => f.by_name.get(n).cloned(),
        Sym::Ordinal(o) => f.by_ordinal.get(o).cloned(),
    }
}

fn findings(g: &Graph, r: &Windows<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    for n in &g.nodes {
        for (i, e) in n.edges.iter().enumerate() {
            if e.missing {
                let delay = r.delay_edges.contains(&(n.id, i));
                let tried: Vec<String> = e
                    .attempts
                    .iter()
                    .map(|a| format!("{} ({}): {}", a.path, a.rule, outcome_text(&a.outcome)))
                    .collect();
                let fatal = e.attempts.iter().rev().find(|a| {
                    matches!(a.outcome, Outcome::NotALibrary(_) | Outcome::Unreadable(_))
                });
                let wrong: Vec<&Attempt> = e
                    .attempts
                    .iter()
                    .filter(|a| matches!(a.outcome, Outcome::WrongMachine(_)))
                    .collect();
                let found = match fatal {
                    Some(a) => format!("{}: {}", a.path, outcome_text(&a.outcome)),
                    None if !wrong.is_empty() => format!(
                        "only DLLs for another machine were found ({}); the load fails with \
                         ERROR_BAD_EXE_FORMAT (193); searched, in order:\n  {}",
                        wrong
                            .iter()
                            .map(|a| format!("{}: {}", a.path, outcome_text(&a.outcome)))
                            .collect::<Vec<_>>()
                            .join(", "),
                        tried.join("\n  ")
                    ),
                    None if tried.is_empty() => "no search path applies".into(),
                    None => format!(
                        "not found (ERROR_MOD_NOT_FOUND, 126); searched, in order:\n  {}",
                        tried.join("\n  ")
                    ),
                };
                let hint = match r.path_hints.get(&(n.id, i)) {
                    Some(p) => {
                        let dir = match p.rfind(['\\', '/']) {
                            Some(k) => &p[..k],
                            None => ".",
                        };
                        format!(
                            "found on PATH at {p}, but Python >= 3.8 does not search PATH: call \
                             os.add_dll_directory({dir:?}) or ship it next to the extension"
                        )
                    }
                    None if !wrong.is_empty() => format!(
                        "ship a {} build of {} (or put it before the other one in the search order)",
                        binary::pe::machine_names(object::pe::Machine(r.target.machine)).0,
                        e.name
                    ),
                    None => match r.env.windows_search {
                        WindowsSearch::Python => format!(
                            "ship {} next to the DLL that needs it, or call os.add_dll_directory() \
                             (--dll-dir) for its directory",
                            e.name
                        ),
                        WindowsSearch::Standard => format!(
                            "ship {} next to the application (or the DLL loaded with its full path), \
                             or add its directory to PATH (--env PATH=...)",
                            e.name
                        ),
                    },
                };
                if delay {
                    out.push(Finding {
                        code: Code::Load(LoadCode::DelayLoadMissing),
                        severity: Severity::Warning,
                        location: n.path.clone().into(),
                        message: format!(
                            "{} delay-loads {}, which the Windows loader cannot load: the load succeeds, \
                             the first call into it fails",
                            n.path, e.name
                        ),
                        expected: format!("{} found by the loader's search at the first call", e.name),
                        found,
                        hint,
                    });
                } else {
                    out.push(Finding {
                        code: Code::Load(LoadCode::NotFound),
                        severity: Severity::Error,
                        location: n.path.clone().into(),
                        message: format!(
                            "{} needs {}, which the Windows loader cannot load",
                            n.path, e.name
                        ),
                        expected: format!("{} found by the loader's search", e.name),
                        found,
                        hint,
                    });
                }
            }
            if e.cycle {
                out.push(Finding {
                    code: Code::Load(LoadCode::Cycle),
                    severity: Severity::Info,
                    location: n.path.clone().into(),
                    message: format!(
                        "dependency cycle: {} needs {}, which is already being loaded",
                        n.path, e.name
                    ),
                    expected: "an acyclic dependency graph".into(),
                    found: "a cycle (the loader tolerates it; DllMain order is then unspecified)"
                        .into(),
                    hint: "break the cycle if DllMain routines depend on each other".into(),
                });
            }
        }
    }
    out
}
