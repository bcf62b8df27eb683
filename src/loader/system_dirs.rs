//! The default directories of a glibc `ld.so` (its compiled-in `system_dirs`, `elf/dl-load.c`), read from the
//! loader binary when it is present under the sysroot, else the documented defaults of the distribution family
//! the sysroot looks like. Each answer says where it came from, for `--explain`.
//!
//! glibc builds `system_dirs` as one string of NUL-terminated directories, each ending in `/`
//! (`"/lib/x86_64-linux-gnu/\0/usr/lib/x86_64-linux-gnu/\0/lib/\0/usr/lib/\0"`), and `system_dirs_len` as an array
//! of `size_t` lengths; the compiler places the array directly before the string. A run of such directories
//! preceded by exactly their lengths, in the loader's class and byte order, is that string.

use std::path::Path;

use serde::Serialize;

/// The directories a glibc loader searches last (and compares cache entries with under `DF_1_NODEFLIB`), without
/// the trailing `/`, and where they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DefaultDirs {
    pub dirs: Vec<String>,
    /// Where the list came from, as people read it (`system_dirs of /lib/ld-linux.so.2`, …).
    pub source: String,
}

/// The most bytes of a loader binary read (real ones are ~250 KiB).
const LOADER_LIMIT: u64 = 16 << 20;

/// The most directories in `system_dirs` (glibc has 1–4).
const MAX_DIRS: usize = 16;

/// Read `system_dirs` from the loader binary at `host` (a host path), shown as `shown`; `None` when the file is
/// absent, not an ELF loader, or holds no recognisable `system_dirs`.
pub fn from_loader(host: &Path, shown: &str) -> Option<DefaultDirs> {
    let data = crate::input::read_regular(host, "a dynamic loader", LOADER_LIMIT).ok()?;
    let dirs = parse_system_dirs(&data)?;
    Some(DefaultDirs {
        dirs,
        source: format!("the system_dirs compiled into {shown}"),
    })
}

/// The `system_dirs` of a loader image (its bytes), without trailing slashes.
pub fn parse_system_dirs(data: &[u8]) -> Option<Vec<String>> {
    if data.len() < 20 || data[..4] != [0x7f, b'E', b'L', b'F'] {
        return None;
    }
    let word = match data[4] {
        1 => 4,
        2 => 8,
        _ => return None,
    };
    let little = match data[5] {
        1 => true,
        2 => false,
        _ => return None,
    };
    let read_word = |at: usize| -> Option<u64> {
        let b = data.get(at..at + word)?;
        let mut v = 0u64;
        for i in 0..word {
            let byte = if little { b[word - 1 - i] } else { b[i] };
            v = (v << 8) | u64::from(byte);
        }
        Some(v)
    };
    let mut from = 0;
    while let Some(rel) = data[from..].iter().position(|&b| b == b'/') {
        let start = from + rel;
        from = start + 1;
        let dirs = dir_run(&data[start..]);
        if dirs.is_empty() || start < word * dirs.len() {
            continue;
        }
        // The longest prefix of the run whose lengths stand right before it: trailing strings that merely look
        // like directories are not part of system_dirs.
        for n in (1..=dirs.len()).rev() {
            let table = start - word * n;
            let matches = (0..n).all(|i| read_word(table + i * word) == Some(dirs[i].len() as u64));
            if matches {
                let out = dirs[..n]
                    .iter()
                    .map(|d| {
                        let d = std::str::from_utf8(d).unwrap_or("/");
                        if d.len() > 1 {
                            d.trim_end_matches('/').to_string()
                        } else {
                            d.to_string()
                        }
                    })
                    .collect();
                return Some(out);
            }
        }
    }
    None
}

/// The NUL-terminated absolute directories (`/…/`, printable ASCII) at the start of `data`, with their slashes.
fn dir_run(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut at = 0;
    while out.len() < MAX_DIRS {
        let Some(len) = data[at..].iter().take(4096).position(|&b| b == 0) else {
            break;
        };
        let s = &data[at..at + len];
        let ok = s.len() >= 2
            && s[0] == b'/'
            && s[s.len() - 1] == b'/'
            && s.iter().all(|&b| b.is_ascii_graphic())
            && !s.windows(2).any(|w| w == b"//");
        if !ok {
            break;
        }
        out.push(s);
        at += len + 1;
    }
    out
}

/// The documented defaults of the distribution family the sysroot looks like, for a target with Debian
/// multiarch `triplet`; `is_dir` answers for target paths.
pub fn documented(
    triplet: &str,
    is_64: bool,
    is_x86: bool,
    is_dir: impl Fn(&str) -> bool,
) -> DefaultDirs {
    let multiarch = is_dir(&format!("/lib/{triplet}")) || is_dir(&format!("/usr/lib/{triplet}"));
    let (dirs, family): (Vec<String>, &str) = if multiarch {
        (
            vec![
                format!("/lib/{triplet}"),
                format!("/usr/lib/{triplet}"),
                "/lib".into(),
                "/usr/lib".into(),
            ],
            "Debian multiarch",
        )
    } else if !is_64 && is_x86 && (is_dir("/lib32") || is_dir("/usr/lib32")) {
        (
            vec![
                "/lib32".into(),
                "/usr/lib32".into(),
                "/lib".into(),
                "/usr/lib".into(),
            ],
            "Debian biarch (libc6-i386)",
        )
    } else if is_64 && is_dir("/lib64") {
        (
            vec!["/lib64".into(), "/usr/lib64".into()],
            "lib64 (Red Hat, SUSE)",
        )
    } else {
        (vec!["/lib".into(), "/usr/lib".into()], "glibc's plain")
    };
    DefaultDirs {
        dirs,
        source: format!("{family} defaults"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF header of the class and byte order, then `table` (lengths) and `strings`.
    fn image(word: usize, little: bool, lens: &[u64], strings: &str) -> Vec<u8> {
        let mut d = vec![0x7f, b'E', b'L', b'F', if word == 8 { 2 } else { 1 }];
        d.push(if little { 1 } else { 2 });
        d.resize(64, 0);
        d.extend_from_slice(b"/not/a/dir\0/lib/\0xx\0");
        for &l in lens {
            let b = l.to_be_bytes();
            let b = &b[8 - word..];
            if little {
                d.extend(b.iter().rev());
            } else {
                d.extend_from_slice(b);
            }
        }
        d.extend_from_slice(strings.as_bytes());
        d.extend_from_slice(b"/trailing/\0");
        d
    }

    #[test]
    fn reads_the_string_its_lengths_precede() {
        let s = "/lib32/\0/usr/lib32/\0/lib/\0/usr/lib/\0";
        let d = image(4, true, &[7, 11, 5, 9], s);
        assert_eq!(
            parse_system_dirs(&d).unwrap(),
            ["/lib32", "/usr/lib32", "/lib", "/usr/lib"]
        );
        let s = "/lib64/\0/usr/lib64/\0";
        let d = image(8, false, &[7, 11], s);
        assert_eq!(parse_system_dirs(&d).unwrap(), ["/lib64", "/usr/lib64"]);
    }

    #[test]
    fn strings_without_their_lengths_are_not_taken() {
        let d = image(8, true, &[3, 3], "/lib64/\0/usr/lib64/\0");
        assert_eq!(parse_system_dirs(&d), None);
        assert_eq!(parse_system_dirs(b"\x7fELF"), None);
        assert_eq!(parse_system_dirs(&[]), None);
    }

    #[test]
    fn documented_families() {
        let debian = |p: &str| matches!(p, "/lib/x86_64-linux-gnu" | "/lib32" | "/lib64");
        assert_eq!(
            documented("x86_64-linux-gnu", true, true, debian).dirs,
            [
                "/lib/x86_64-linux-gnu",
                "/usr/lib/x86_64-linux-gnu",
                "/lib",
                "/usr/lib"
            ]
        );
        let i386 = documented("i386-linux-gnu", false, true, debian);
        assert_eq!(i386.dirs, ["/lib32", "/usr/lib32", "/lib", "/usr/lib"]);
        assert!(i386.source.contains("biarch"));
        let fedora = |p: &str| matches!(p, "/lib64" | "/usr/lib64");
        assert_eq!(
            documented("x86_64-linux-gnu", true, true, fedora).dirs,
            ["/lib64", "/usr/lib64"]
        );
        assert_eq!(
            documented("i386-linux-gnu", false, true, fedora).dirs,
            ["/lib", "/usr/lib"]
        );
    }
}
