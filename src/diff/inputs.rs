//! The two sides of a diff as lists of binaries: a library file is one binary; a directory is every binary under
//! it (by magic), keyed by its path inside the directory; a wheel is every binary member, keyed by its path inside
//! the wheel (written to a temporary directory so it is mapped and read like any file). [`pair`] matches OLD's
//! binaries with NEW's: by key, then by a name with versions and build hashes taken out.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::tempdirs::TempDir;

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

use crate::archive::is_binary_magic;

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
    let unpacked = crate::archive::unpack(path, "ffi-doctor-diff-", |_| false)?;
    let mut binaries: Vec<Binary> = unpacked
        .binaries
        .iter()
        .map(|name| Binary {
            path: unpacked.path_of(name),
            display: format!("{path}!{name}"),
            key: name.clone(),
        })
        .collect();
    let dir = unpacked.dir;
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
