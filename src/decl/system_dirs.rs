//! Where a target's system headers are on this machine: the include search list its compiler uses (the
//! compiler's builtin directory, then the C library's headers), so a header sees by default what that compiler
//! sees. The host target gets the host compiler's list; a cross target the headers of its Debian cross
//! packages (`libc6-dev-arm64-cross`, `mingw-w64-common`, `libc6-dev-i386`) when installed; any target the
//! directories under `--sysroot` when one is given. Which directories count as the system's also decides what
//! a `-I` naming one means (GCC and Clang keep such a directory in its system place).

use std::path::{Path, PathBuf};

use crate::abi::Target;

/// The system include directories of `target` (the host's when `None`), under `sysroot` when given; empty
/// when this machine has no headers for it.
pub fn target_system_dirs(target: Option<Target>, sysroot: Option<&Path>) -> Vec<PathBuf> {
    let host = Target::host();
    let target = target.or(host);
    let mut dirs = Vec::new();
    if let Some(root) = sysroot {
        dirs.extend(builtin_dirs(target));
        let triplet = target.map(multiarch_triplet).unwrap_or("");
        for d in [
            "usr/local/include".to_string(),
            format!("usr/include/{triplet}"),
            "usr/include".to_string(),
            "include".to_string(),
        ] {
            if !d.ends_with('/') {
                dirs.push(root.join(d));
            }
        }
        dirs.retain(|d| d.is_dir());
        dedup(&mut dirs);
        return dirs;
    }
    let Some(t) = target else {
        return Vec::new();
    };
    if Some(t) == host {
        return super::host_system_include_dirs();
    }
    match t {
        Target::LinuxI386 if host == Some(Target::LinuxX86_64) => {
            // gcc -m32 on Debian: the host's list, with the i386 multiarch directory when libc6-dev:i386 put
            // one there (libc6-dev-i386 puts the 32-bit stubs into the x86_64 directory instead).
            let native = Path::new("/usr/include/i386-linux-gnu");
            let multilib = Path::new("/usr/include/x86_64-linux-gnu/gnu/stubs-32.h");
            if native.is_dir() {
                dirs.extend(gcc_builtin("x86_64-linux-gnu", ""));
                dirs.push(PathBuf::from("/usr/local/include"));
                dirs.push(native.to_path_buf());
                dirs.push(PathBuf::from("/usr/include"));
            } else if multilib.is_file() {
                dirs = super::host_system_include_dirs();
            }
        }
        Target::LinuxAarch64 | Target::LinuxX86_64 | Target::LinuxI386 => {
            let triplet = multiarch_triplet(t);
            let cross = PathBuf::from(format!("/usr/{triplet}/include"));
            if cross.join("stdio.h").is_file() {
                dirs.extend(builtin_dirs(Some(t)));
                dirs.push(cross);
            }
        }
        Target::MingwX64 | Target::MingwX86 => {
            let triplet = multiarch_triplet(t);
            let libc = PathBuf::from(format!("/usr/{triplet}/include"));
            if libc.join("stdio.h").is_file() {
                dirs.extend(builtin_dirs(Some(t)));
                dirs.push(libc);
            }
        }
        // No standard headers of Apple SDKs or MSVC are installed on a Linux machine: `--sysroot` names them.
        _ => {}
    }
    dirs.retain(|d| d.is_dir());
    dedup(&mut dirs);
    dirs
}

/// The compiler's builtin header directory (stddef.h, stdarg.h, limits.h) of the compiler whose predefined
/// macros the target uses (`scripts/gen-predefined.sh`): GCC for Linux x86 and MinGW, Clang otherwise.
fn builtin_dirs(target: Option<Target>) -> Vec<PathBuf> {
    match target {
        Some(Target::LinuxX86_64 | Target::LinuxI386) => gcc_builtin("x86_64-linux-gnu", ""),
        Some(Target::MingwX64) => gcc_builtin("x86_64-w64-mingw32", "-win32"),
        Some(Target::MingwX86) => gcc_builtin("i686-w64-mingw32", "-win32"),
        _ => clang_builtin(),
    }
}

/// `/usr/lib/gcc/TRIPLET/VERSION/include` (and `include-fixed` when present) of the newest GCC, preferring
/// versions ending in `suffix` (Debian's MinGW default is the `-win32` thread model).
fn gcc_builtin(triplet: &str, suffix: &str) -> Vec<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir(format!("/usr/lib/gcc/{triplet}"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("include").join("stddef.h").is_file())
        .collect();
    versions.sort_by_key(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let major = name
            .split(|c: char| !c.is_ascii_digit())
            .next()
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0);
        (suffix.is_empty() || name.ends_with(suffix), major)
    });
    let Some(best) = versions.pop() else {
        return Vec::new();
    };
    let mut out = vec![best.join("include")];
    if triplet.contains("mingw") && best.join("include-fixed").is_dir() {
        out.push(best.join("include-fixed"));
    }
    out
}

/// Clang's resource include directory of the newest installed LLVM.
fn clang_builtin() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = glob::glob("/usr/lib/llvm-*/lib/clang/*/include")
        .map(|g| {
            g.flatten()
                .filter(|p| p.join("stddef.h").is_file())
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|p| {
        p.components()
            .filter_map(|c| c.as_os_str().to_str())
            .filter_map(|c| c.strip_prefix("llvm-").and_then(|v| v.parse::<u32>().ok()))
            .next()
            .unwrap_or(0)
    });
    found.pop().into_iter().collect()
}

/// The Debian multiarch (or MinGW) triplet of a target's headers.
fn multiarch_triplet(t: Target) -> &'static str {
    match t {
        Target::LinuxX86_64 => "x86_64-linux-gnu",
        Target::LinuxI386 => "i386-linux-gnu",
        Target::LinuxAarch64 => "aarch64-linux-gnu",
        Target::MingwX64 => "x86_64-w64-mingw32",
        Target::MingwX86 => "i686-w64-mingw32",
        _ => "",
    }
}

/// Whether `dir` is a system include directory of this machine, whatever the target: `/usr/include`,
/// `/usr/local/include`, a multiarch directory under `/usr/include`, a compiler's builtin directory, a cross
/// C library's headers. A `-I` naming one keeps its system meaning.
pub fn is_machine_system_dir(dir: &Path) -> bool {
    let canon = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let s = canon.to_string_lossy();
    let s = s.trim_end_matches('/');
    if s == "/usr/include" || s == "/usr/local/include" {
        return true;
    }
    if let Some(rest) = s.strip_prefix("/usr/include/") {
        return !rest.contains('/')
            && (rest.ends_with("-linux-gnu") || rest.ends_with("-linux-gnueabihf"));
    }
    if s.starts_with("/usr/lib/gcc/") || s.starts_with("/usr/lib/gcc-cross/") {
        return s.ends_with("/include") || s.ends_with("/include-fixed");
    }
    if s.starts_with("/usr/lib/llvm-") && s.ends_with("/include") && s.contains("/lib/clang/") {
        return true;
    }
    if let Some(rest) = s.strip_prefix("/usr/") {
        if let Some(triplet) = rest.strip_suffix("/include") {
            return !triplet.contains('/')
                && (triplet.ends_with("-linux-gnu") || triplet.contains("-w64-mingw32"));
        }
    }
    false
}

fn dedup(dirs: &mut Vec<PathBuf>) {
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_directories_are_recognised() {
        assert!(is_machine_system_dir(Path::new("/usr/include/")));
        assert!(is_machine_system_dir(Path::new(
            "/usr/include/x86_64-linux-gnu"
        )));
        assert!(is_machine_system_dir(Path::new(
            "/usr/aarch64-linux-gnu/include"
        )));
        assert!(!is_machine_system_dir(Path::new("/usr/include/libxml2")));
        assert!(!is_machine_system_dir(Path::new("/opt/x/include")));
    }

    #[test]
    fn the_host_list_ends_with_usr_include() {
        let dirs = target_system_dirs(None, None);
        if Path::new("/usr/include/stdio.h").is_file() {
            assert_eq!(dirs.last(), Some(&PathBuf::from("/usr/include")));
        }
    }
}
