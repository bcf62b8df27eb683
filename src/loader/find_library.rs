//! What `ctypes.util.find_library(NAME)` returns on each OS, modelled on CPython's `Lib/ctypes/util.py` and
//! `Lib/ctypes/macholib/dyld.py`, without running ldconfig, gcc or ld. Every step tried is recorded.
//!
//! - Linux: `_findSoname_ldconfig` — the first `ldconfig -p` line (cache order) whose soname matches
//!   `lib{NAME}.` with the interpreter's ABI tag (`libc6,x86-64`, …); then `_findLib_gcc`/`_findLib_ld`, which ask
//!   the static linker for `lib{NAME}.so` and return its DT_SONAME — modelled as a search of `LD_LIBRARY_PATH` and
//!   the linker's default directories.
//! - macOS: `lib{NAME}.dylib`, `{NAME}.dylib`, `{NAME}.framework/{NAME}`, each through `dyld_find`:
//!   `DYLD_LIBRARY_PATH` (leaf), the name itself, `DYLD_FALLBACK_LIBRARY_PATH` (default `~/lib:/usr/local/lib:/lib:
//!   /usr/lib`), and the dyld shared cache (`/usr/lib/…` taken as present).
//! - Windows: each `PATH` directory, `NAME` then `NAME.dll`; `c` and `m` give the MSVC runtime of the Python
//!   build, which for every CPython ≥ 3.5 (UCRT) is `None`.

use serde::Serialize;

use super::ldcache::LdCache;
use super::rule::How;
use super::{Attempt, LoaderEnv, Outcome};

/// The OS whose `find_library` to model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Linux,
    Macos,
    Windows,
}

/// The result of `find_library`: the value returned and how it was found.
#[derive(Debug, Clone, Serialize)]
pub struct FindLibrary {
    pub name: String,
    pub os: Os,
    /// What `ctypes.util.find_library` returns (`None` → null).
    pub returns: Option<String>,
    /// The step that produced it.
    pub rule: Option<String>,
    pub attempts: Vec<Attempt>,
}

/// The `ldconfig -p` ABI tag of a cache entry's flags (`libc6,x86-64`, `libc6,AArch64`, …).
pub fn abi_tag(flags: u32) -> String {
    let mut s = match flags & 0xff {
        0 => "libc4".to_string(),
        1 => "ELF".to_string(),
        2 => "libc5".to_string(),
        3 => "libc6".to_string(),
        _ => "unknown".to_string(),
    };
    let arch = match flags & 0xff00 {
        0x0100 => ",IA-64",
        0x0200 => ",64bit",
        0x0300 => ",x86-64",
        0x0400 => ",64bit",
        0x0500 => ",64bit",
        0x0600 => ",N32",
        0x0700 => ",64bit",
        0x0800 => ",x32",
        0x0900 => ",hard-float",
        0x0a00 => ",AArch64",
        0x0b00 => ",soft-float",
        0x1000 => ",double-float",
        _ => "",
    };
    s.push_str(arch);
    s
}

/// CPython's `mach_map` for the interpreter's `os.uname().machine` + bitness.
pub fn python_abi_type(machine: &str, is_64: bool) -> &'static str {
    match (machine, is_64) {
        ("x86_64", true) => "libc6,x86-64",
        ("ppc64" | "sparc64" | "s390x", true) => "libc6,64bit",
        ("ia64", true) => "libc6,IA-64",
        _ => "libc6",
    }
}

/// Linux `find_library(name)` for an interpreter of `machine`/`is_64`.
pub fn linux(
    name: &str,
    env: &LoaderEnv,
    machine: &str,
    is_64: bool,
    default_dirs: &[String],
) -> FindLibrary {
    let mut out = FindLibrary {
        name: name.into(),
        os: Os::Linux,
        returns: None,
        rule: None,
        attempts: Vec::new(),
    };
    let cache_path = env
        .ld_so_cache
        .clone()
        .unwrap_or_else(|| env.host_path("/etc/ld.so.cache"));
    let abi = python_abi_type(machine, is_64);
    let prefix = format!("lib{name}.");
    match LdCache::load(&cache_path) {
        Some(cache) => {
            // `re.search` over `ldconfig -p`: the first line in cache order whose soname starts with lib{name}.
            // and whose "(abi" starts with the interpreter's tag.
            if let Some(e) = cache.entries.iter().filter(|e| e.hwcap == 0).find(|e| {
                e.key.starts_with(&prefix)
                    && !e.key[prefix.len()..].is_empty()
                    && abi_tag(e.flags).starts_with(abi)
            }) {
                out.attempts.push(Attempt {
                    rule: How::LdconfigP {
                        abi: Some(abi.to_string()),
                    }
                    .into(),
                    path: format!("{} => {}", e.key, e.value),
                    outcome: Outcome::Found,
                });
                out.returns = Some(e.key.clone());
                out.rule = Some(format!("ld.so.cache entry (ldconfig -p, {abi})"));
                return out;
            }
            out.attempts.push(Attempt {
                rule: How::LdconfigP {
                    abi: Some(abi.to_string()),
                }
                .into(),
                path: format!("{prefix}* in {}", cache_path.display()),
                outcome: Outcome::Absent,
            });
        }
        None => out.attempts.push(Attempt {
            rule: How::LdconfigP { abi: None }.into(),
            path: cache_path.display().to_string(),
            outcome: Outcome::Unreadable("no ld.so.cache".into()),
        }),
    }
    // _findLib_gcc / _findLib_ld: the static linker's search for lib{name}.so, then its DT_SONAME.
    let mut dirs: Vec<String> = env
        .env
        .get("LD_LIBRARY_PATH")
        .map(|v| {
            v.split(':')
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    dirs.extend(default_dirs.iter().cloned());
    for d in dirs {
        let p = format!("{d}/lib{name}.so");
        let host = env.host_path(&p);
        if !host.is_file() {
            out.attempts.push(Attempt {
                rule: How::LinkerSearch.into(),
                path: p,
                outcome: Outcome::Absent,
            });
            continue;
        }
        let soname = super::glibc::soname_of(&host);
        out.attempts.push(Attempt {
            rule: How::LinkerSearch.into(),
            path: p.clone(),
            outcome: Outcome::Found,
        });
        out.rule = Some(format!(
            "linker search found {p}; find_library returns its DT_SONAME"
        ));
        out.returns = soname;
        return out;
    }
    out
}

/// macOS `find_library(name)`.
pub fn macos(name: &str, env: &LoaderEnv) -> FindLibrary {
    let mut out = FindLibrary {
        name: name.into(),
        os: Os::Macos,
        returns: None,
        rule: None,
        attempts: Vec::new(),
    };
    let list = |var: &str| -> Option<Vec<String>> {
        env.env.get(var).map(|v| {
            v.split(':')
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect()
        })
    };
    let home = env.env.get("HOME").cloned().unwrap_or_else(|| "~".into());
    let fallback = list("DYLD_FALLBACK_LIBRARY_PATH").unwrap_or_else(|| {
        vec![
            format!("{home}/lib"),
            "/usr/local/lib".into(),
            "/lib".into(),
            "/usr/lib".into(),
        ]
    });
    for cand in [
        format!("lib{name}.dylib"),
        format!("{name}.dylib"),
        format!("{name}.framework/{name}"),
    ] {
        let leaf = cand.rsplit('/').next().unwrap_or(&cand).to_string();
        let mut paths: Vec<(String, How)> = Vec::new();
        for d in list("DYLD_LIBRARY_PATH").unwrap_or_default() {
            paths.push((format!("{d}/{leaf}"), How::DyldLibraryPath));
        }
        paths.push((cand.clone(), How::NameItself));
        for d in &fallback {
            paths.push((format!("{d}/{leaf}"), How::DyldFallback));
        }
        for (p, rule) in paths {
            if env.host_path(&p).is_file() {
                out.rule = Some(format!("dyld_find: {rule}"));
                out.attempts.push(Attempt {
                    rule: rule.into(),
                    path: p.clone(),
                    outcome: Outcome::Found,
                });
                out.returns = Some(p);
                return out;
            }
            if super::dyld::in_shared_cache(&p) {
                out.attempts.push(Attempt {
                    rule: How::SharedCacheContains(Box::new(rule)).into(),
                    path: p.clone(),
                    outcome: Outcome::Found,
                });
                out.rule = Some("dyld_find: _dyld_shared_cache_contains_path".into());
                out.returns = Some(p);
                return out;
            }
            out.attempts.push(Attempt {
                rule: rule.into(),
                path: p,
                outcome: Outcome::Absent,
            });
        }
    }
    out
}

/// Windows `find_library(name)`.
pub fn windows(name: &str, env: &LoaderEnv) -> FindLibrary {
    let mut out = FindLibrary {
        name: name.into(),
        os: Os::Windows,
        returns: None,
        rule: None,
        attempts: Vec::new(),
    };
    if name == "c" || name == "m" {
        out.rule = Some(
            "find_msvcrt(): None for every CPython built with the UCRT (3.5 and later)".into(),
        );
        return out;
    }
    let path = env.env.get("PATH").cloned().unwrap_or_default();
    let sep = if path.contains(';') { ';' } else { ':' };
    for dir in path.split(sep).filter(|d| !d.is_empty()) {
        let dir = dir.trim_end_matches(['\\', '/']);
        let mut names = vec![name.to_string()];
        if !name.to_ascii_lowercase().ends_with(".dll") {
            names.push(format!("{name}.dll"));
        }
        for n in names {
            let p = format!("{dir}\\{n}");
            if let Some(host) = case_insensitive_file(&env.host_path(&windows_to_host(&p, env))) {
                let _ = host;
                out.attempts.push(Attempt {
                    rule: How::Path.into(),
                    path: p.clone(),
                    outcome: Outcome::Found,
                });
                out.rule = Some(
                    "PATH (find_library searches PATH; LoadLibrary with the full path follows)"
                        .into(),
                );
                out.returns = Some(p);
                return out;
            }
            out.attempts.push(Attempt {
                rule: How::Path.into(),
                path: p,
                outcome: Outcome::Absent,
            });
        }
    }
    out
}

/// `C:\dir\x.dll` → `/dir/x.dll` (inside the sysroot when one is given); other paths unchanged.
fn windows_to_host(p: &str, _env: &LoaderEnv) -> String {
    let b = p.as_bytes();
    if b.len() >= 2 && b[1] == b':' {
        p[2..].replace('\\', "/")
    } else {
        p.replace('\\', "/")
    }
}

/// Find `path` with a case-insensitive last component (Windows file systems ignore case).
fn case_insensitive_file(path: &std::path::Path) -> Option<std::path::PathBuf> {
    if path.is_file() {
        return Some(path.to_path_buf());
    }
    let dir = path.parent()?;
    let want = path.file_name()?.to_string_lossy().to_lowercase();
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .find(|e| e.file_name().to_string_lossy().to_lowercase() == want && e.path().is_file())
        .map(|e| e.path())
}
