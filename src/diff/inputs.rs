//! The two sides of a diff as lists of binaries: a library file is one binary; a directory is every binary under
//! it (by magic), keyed by its path inside the directory; a wheel is every binary member, keyed by its path inside
//! the wheel (written to a temporary directory so it is mapped and read like any file). [`pair`] matches OLD's
//! binaries with NEW's: by key, then by a name with versions and build hashes taken out.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::tempdirs::TempDir;

/// The most one wheel member is inflated to, and the most all of one wheel's binaries are.
const MEMBER_LIMIT: u64 = 4 << 30;
const TOTAL_LIMIT: u64 = 8 << 30;

/// What an input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InputKind {
    File,
    Directory,
    Wheel,
}

/// One binary of a side.
#[derive(Debug, Clone)]
pub struct Binary {
    /// The path to map.
    pub path: PathBuf,
    /// The key it is paired by (empty for a lone file).
    pub key: String,
    /// How it is shown in findings: the file, `dir/key` or `wheel!key`.
    pub display: String,
}

/// One side of the diff.
pub struct Side {
    pub kind: InputKind,
    pub binaries: Vec<Binary>,
    /// Holds extracted wheel members for as long as the side lives.
    _temp: Option<TempDir>,
}

/// Whether bytes start like a binary ffi-doctor reads.
fn is_binary_magic(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some([0x7f, b'E', b'L', b'F'])
            | Some([0xca, 0xfe, 0xba, 0xbe])
            | Some([0xfe, 0xed, 0xfa, 0xce])
            | Some([0xfe, 0xed, 0xfa, 0xcf])
            | Some([0xce, 0xfa, 0xed, 0xfe])
            | Some([0xcf, 0xfa, 0xed, 0xfe])
    ) || head.starts_with(b"MZ")
}

fn file_magic(p: &Path) -> bool {
    let Ok((mut f, len)) = crate::input::open_regular(p, "a file") else {
        return false;
    };
    if len < 4 {
        return false;
    }
    let mut head = [0u8; 4];
    f.read_exact(&mut head).is_ok() && is_binary_magic(&head)
}

/// Read one side: a library, a directory or a wheel.
pub fn open(path: &str) -> Result<Side, InputError> {
    let p = Path::new(path);
    let meta = std::fs::metadata(p).map_err(|e| {
        InputError::new(
            path,
            "a library, a directory or a wheel",
            format!("an error: {e}"),
        )
    })?;
    if meta.is_dir() {
        let mut binaries = Vec::new();
        for e in walkdir::WalkDir::new(p)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            if !file_magic(e.path()) {
                continue;
            }
            let key = e
                .path()
                .strip_prefix(p)
                .unwrap_or(e.path())
                .to_string_lossy()
                .into_owned();
            binaries.push(Binary {
                display: e.path().display().to_string(),
                path: e.into_path(),
                key,
            });
        }
        return Ok(Side {
            kind: InputKind::Directory,
            binaries,
            _temp: None,
        });
    }
    if path.ends_with(".whl") {
        return wheel(path);
    }
    Ok(Side {
        kind: InputKind::File,
        binaries: vec![Binary {
            path: p.to_path_buf(),
            key: String::new(),
            display: path.to_string(),
        }],
        _temp: None,
    })
}

/// The binary members of a wheel, extracted with their paths kept under size caps.
fn wheel(path: &str) -> Result<Side, InputError> {
    let (file, _) = crate::input::open_regular(Path::new(path), "a wheel (zip archive)")?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| InputError::new(path, "a zip archive (wheel)", e.to_string()))?;
    let dir = TempDir::new("ffi-doctor-diff-")
        .map_err(|e| InputError::new(path, "a temporary directory", e.to_string()))?;
    let mut binaries = Vec::new();
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| InputError::new(path, "a readable zip entry", e.to_string()))?;
        if entry.is_dir() {
            continue;
        }
        let Some(rel) = entry.enclosed_name() else {
            return Err(InputError::new(
                path,
                "entry names inside the wheel",
                format!("an entry escaping the archive: {}", entry.name()),
            ));
        };
        let name = entry.name().to_string();
        let unreadable = |e: std::io::Error| {
            InputError::new(path, format!("a readable entry {name}"), e.to_string())
        };
        let mut head = [0u8; 4];
        let mut got = 0;
        while got < head.len() {
            match entry.read(&mut head[got..]).map_err(unreadable)? {
                0 => break,
                n => got += n,
            }
        }
        if !is_binary_magic(&head[..got]) {
            continue;
        }
        let out = dir.path().join(&rel);
        let write_err = |e: std::io::Error| {
            InputError::new(path, "a writable temporary directory", e.to_string())
        };
        if out.exists() {
            return Err(InputError::new(
                path,
                "each member name once in the wheel",
                format!("{name} twice"),
            ));
        }
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(write_err)?;
        }
        let mut f = std::fs::File::create(&out).map_err(write_err)?;
        std::io::Write::write_all(&mut f, &head[..got]).map_err(write_err)?;
        let cap = MEMBER_LIMIT.min(TOTAL_LIMIT.saturating_sub(total));
        let n = std::io::copy(&mut (&mut entry).take(cap), &mut f).map_err(unreadable)?;
        total += n + got as u64;
        if n == cap && entry.read(&mut [0u8; 1]).map_err(unreadable)? > 0 {
            return Err(InputError::new(
                path,
                "wheel members that inflate to at most 4 GiB each and 8 GiB in all",
                format!("{name} inflating beyond that"),
            ));
        }
        binaries.push(Binary {
            path: out,
            display: format!("{path}!{name}"),
            key: name,
        });
    }
    binaries.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(Side {
        kind: InputKind::Wheel,
        binaries,
        _temp: Some(dir),
    })
}

/// The name a binary keeps across releases: its directory and its file name without version numbers, an
/// auditwheel/delocate build hash (`-1a2b3c4d`) or a Python extension tag (`.cpython-312-x86_64-linux-gnu`).
pub fn stable_name(key: &str) -> String {
    let (dir, file) = match key.rfind('/') {
        Some(i) => (&key[..=i], &key[i + 1..]),
        None => ("", key),
    };
    let stem = file.split('.').next().unwrap_or(file);
    let stem = match stem.rfind('-') {
        Some(i)
            if stem.len() - i - 1 == 8 && stem[i + 1..].bytes().all(|b| b.is_ascii_hexdigit()) =>
        {
            &stem[..i]
        }
        _ => stem,
    };
    // `libfoo-1.2` style version suffixes (mingw DLLs: libfoo-3.dll).
    let stem = stem.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-' || c == '_');
    let ext = [".so", ".dylib", ".dll", ".pyd"]
        .iter()
        .find(|e| file.contains(*e))
        .copied()
        .unwrap_or("");
    format!("{dir}{}{ext}", stem.to_ascii_lowercase())
}

/// OLD's and NEW's binaries matched: pairs (old index, new index), then OLD's unmatched, then NEW's unmatched.
pub fn pair(old: &[Binary], new: &[Binary]) -> (Vec<(usize, usize)>, Vec<usize>, Vec<usize>) {
    if old.len() == 1 && new.len() == 1 {
        return (vec![(0, 0)], Vec::new(), Vec::new());
    }
    let mut pairs = Vec::new();
    let mut new_used = vec![false; new.len()];
    let mut old_left = Vec::new();
    for (i, o) in old.iter().enumerate() {
        match new.iter().position(|n| n.key == o.key) {
            Some(j) => {
                new_used[j] = true;
                pairs.push((i, j));
            }
            None => old_left.push(i),
        }
    }
    let mut old_unmatched = Vec::new();
    for i in old_left {
        let want = stable_name(&old[i].key);
        let cands: Vec<usize> = (0..new.len())
            .filter(|&j| !new_used[j] && stable_name(&new[j].key) == want)
            .collect();
        if let [j] = cands[..] {
            new_used[j] = true;
            pairs.push((i, j));
        } else {
            old_unmatched.push(i);
        }
    }
    pairs.sort();
    let new_unmatched = (0..new.len()).filter(|&j| !new_used[j]).collect();
    (pairs, old_unmatched, new_unmatched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_names_drop_versions_hashes_and_tags() {
        assert_eq!(stable_name("libz.so.1.2.13"), "libz.so");
        assert_eq!(stable_name("libz.so.1.3"), "libz.so");
        assert_eq!(
            stable_name("pkg.libs/libpng16-1a2b3c4d.so.16.40.0"),
            "pkg.libs/libpng.so"
        );
        assert_eq!(
            stable_name("pkg/_ext.cpython-312-x86_64-linux-gnu.so"),
            "pkg/_ext.so"
        );
        assert_eq!(stable_name("bin/libfoo-3.dll"), "bin/libfoo.dll");
    }
}
