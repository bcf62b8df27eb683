//! Opening the files a user names — libraries, specs, configs, caches, wheels — without being stopped by one that
//! is not a file: every open is non-blocking (`O_NONBLOCK`, so a FIFO cannot hang it) and followed by `fstat` on
//! the descriptor, so the check and the read are of the same file; anything but a regular file, a symlink loop and
//! a file above the caller's size limit are [`InputError`]s naming the path, what was expected and what was found.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::InputError;

/// The most bytes read from a text input (a header, a cdef, a config, a Python module): far above any real one.
pub const TEXT_LIMIT: u64 = 64 << 20;

/// What a non-regular file is, for messages.
fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO (named pipe)"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    }
}

/// Open `path` for reading if it is a regular file. `what` says what the caller expected (e.g. "a shared
/// library file").
pub fn open_regular(path: &Path, what: &str) -> Result<(File, u64), InputError> {
    let shown = path.display().to_string();
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path).map_err(|e| {
        let found = match e.raw_os_error() {
            Some(libc::ELOOP) => "a symbolic link loop".to_string(),
            _ => format!("an error: {e}"),
        };
        InputError::new(&shown, "a readable file", found)
    })?;
    let meta = file
        .metadata()
        .map_err(|e| InputError::new(&shown, what, format!("an error: {e}")))?;
    if !meta.is_file() {
        let mut err = InputError::new(&shown, format!("{what} (a regular file)"), kind_of(&meta));
        if meta.is_dir() {
            err = err.hint("name a file inside it");
        }
        return Err(err);
    }
    Ok((file, meta.len()))
}

fn size_text(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{} MiB", n >> 20)
    } else {
        format!("{n} bytes")
    }
}

/// Read a whole regular file of at most `limit` bytes.
pub fn read_regular(path: &Path, what: &str, limit: u64) -> Result<Vec<u8>, InputError> {
    let (file, len) = open_regular(path, what)?;
    let shown = path.display().to_string();
    let too_big = |n: u64| {
        InputError::new(
            &shown,
            format!("{what} of at most {}", size_text(limit)),
            format!("{n} bytes"),
        )
    };
    if len > limit {
        return Err(too_big(len));
    }
    let mut buf = Vec::with_capacity(len as usize);
    // A file that grows while being read (or lies about its size, as /proc files do) is still capped.
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| InputError::new(&shown, what, format!("an error while reading: {e}")))?;
    if buf.len() as u64 > limit {
        return Err(too_big(buf.len() as u64));
    }
    Ok(buf)
}

/// Read a whole regular UTF-8 text file of at most [`TEXT_LIMIT`] bytes.
pub fn read_text(path: &Path, what: &str) -> Result<String, InputError> {
    let bytes = read_regular(path, what, TEXT_LIMIT)?;
    String::from_utf8(bytes).map_err(|e| {
        InputError::new(
            &path.display().to_string(),
            format!("{what} in UTF-8"),
            "bytes that are not UTF-8",
        )
        .at(e.utf8_error().valid_up_to() as u64)
    })
}

/// The most directory entries one glob may visit, and the most files it may match.
pub const GLOB_VISIT_LIMIT: usize = 1_000_000;
pub const GLOB_MATCH_LIMIT: usize = 20_000;

/// Whether a path component holds glob syntax.
fn is_glob(c: &str) -> bool {
    c.contains(['*', '?', '['])
}

/// The paths that match `pattern` (glob syntax: `*`, `?`, `[…]`, `**` for any depth), sorted. The walk follows
/// directory symlinks but enters each directory (device, inode) once, so symlink loops end; it never enters
/// `/proc`, `/sys` or `/dev` unless the pattern's fixed part is inside them; and it stops with an error naming the
/// pattern after [`GLOB_VISIT_LIMIT`] entries or [`GLOB_MATCH_LIMIT`] matches.
pub fn glob_paths(pattern: &str) -> Result<Vec<std::path::PathBuf>, InputError> {
    use std::os::unix::fs::MetadataExt;
    let bad = |found: String| InputError::new(pattern, "a file, directory, wheel or glob", found);
    let matcher = glob::Pattern::new(pattern).map_err(|e| bad(format!("a bad glob: {e}")))?;
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    // The fixed directory the pattern starts from, and how deep below it a match can be.
    let comps: Vec<&str> = pattern.split('/').collect();
    let fixed = comps.iter().take_while(|c| !is_glob(c)).count();
    let base = match comps[..fixed].join("/") {
        b if b.is_empty() && pattern.starts_with('/') => "/".to_string(),
        b if b.is_empty() => ".".to_string(),
        b => b,
    };
    if fixed == comps.len() {
        return Ok(if Path::new(pattern).exists() {
            vec![pattern.into()]
        } else {
            Vec::new()
        });
    }
    let rest = &comps[fixed..];
    let max_depth = if rest.contains(&"**") || rest.iter().any(|c| c.contains("**")) {
        usize::MAX
    } else {
        rest.len()
    };
    let pseudo = ["/proc", "/sys", "/dev"];
    let inside_pseudo = pseudo.iter().any(|p| Path::new(&base).starts_with(p));
    let mut seen_dirs = std::collections::HashSet::new();
    let mut visited = 0usize;
    let mut out = Vec::new();
    let mut walk = walkdir::WalkDir::new(&base)
        .follow_links(true)
        .max_depth(max_depth)
        .into_iter();
    while let Some(entry) = walk.next() {
        // A symlink back to an ancestor is reported as an error by walkdir: the link itself may still match,
        // but it is not entered. Other unreadable entries are passed over.
        let (entry, path) = match entry {
            Ok(e) => {
                let p = e.path().to_path_buf();
                (Some(e), p)
            }
            Err(e) if e.loop_ancestor().is_some() => match e.path() {
                Some(p) => (None, p.to_path_buf()),
                None => continue,
            },
            Err(_) => continue,
        };
        visited += 1;
        if visited > GLOB_VISIT_LIMIT {
            return Err(bad(format!(
                "more than {GLOB_VISIT_LIMIT} directory entries under {base}"
            ))
            .hint("narrow the glob (a fixed directory before the first wildcard)"));
        }
        let shown = path.to_string_lossy();
        let shown = if base == "." && !pattern.starts_with("./") {
            shown.strip_prefix("./").unwrap_or(&shown).to_string()
        } else {
            shown.into_owned()
        };
        if path != Path::new(&base) && matcher.matches_with(&shown, opts) {
            out.push(std::path::PathBuf::from(shown));
            if out.len() > GLOB_MATCH_LIMIT {
                return Err(bad(format!("more than {GLOB_MATCH_LIMIT} matching paths"))
                    .hint("narrow the glob, or name a directory as the target"));
            }
        }
        let Some(entry) = entry else { continue };
        let path = entry.path();
        if entry.file_type().is_dir() {
            if !inside_pseudo && pseudo.iter().any(|p| path == Path::new(p)) {
                walk.skip_current_dir();
                continue;
            }
            if let Ok(m) = entry.metadata() {
                if !seen_dirs.insert((m.dev(), m.ino())) {
                    walk.skip_current_dir();
                    continue;
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_device_directory_and_loop_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = open_regular(&fifo, "a header").unwrap_err();
        assert!(e.found.contains("FIFO"), "{e}");
        let e = read_regular(Path::new("/dev/zero"), "a config", 1 << 20).unwrap_err();
        assert!(e.found.contains("character device"), "{e}");
        let e = open_regular(dir.path(), "a library").unwrap_err();
        assert!(e.found.contains("directory"), "{e}");
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        std::os::unix::fs::symlink(&b, &a).unwrap();
        std::os::unix::fs::symlink(&a, &b).unwrap();
        let e = open_regular(&a, "a library").unwrap_err();
        assert!(e.found.contains("symbolic link loop"), "{e}");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'x'; 4096]).unwrap();
        let e = read_regular(&big, "a config", 1024).unwrap_err();
        assert!(e.expected.contains("at most"), "{e}");
    }

    #[test]
    fn globs_match_like_the_glob_crate_and_end_on_symlink_loops() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir_all(d.join("a/b/c")).unwrap();
        for f in ["x.so", "a/y.so", "a/b/z.so", "a/b/c/w.so", "a/b/c/w.txt"] {
            std::fs::write(d.join(f), b"").unwrap();
        }
        // a loop: a/b/c/up -> a
        std::os::unix::fs::symlink(d.join("a"), d.join("a/b/c/up")).unwrap();
        let base = d.to_str().unwrap();
        for pat in [
            "*.so",
            "a/*.so",
            "a/*/*.so",
            "**/*.so",
            "a/**/*.so",
            "a/b/c/*",
        ] {
            let full = format!("{base}/{pat}");
            let ours = glob_paths(&full).unwrap();
            let theirs: Vec<_> = glob::glob(&full).unwrap().filter_map(Result::ok).collect();
            if pat.contains("**") {
                // The glob crate follows the loop until paths are too long; ours enters `a` once.
                assert!(
                    ours.iter().all(|p| !p.to_string_lossy().contains("/up/")),
                    "{pat}: {ours:?}"
                );
                assert!(ours.len() >= 3, "{pat}: {ours:?}");
            } else {
                let mut theirs = theirs;
                theirs.sort();
                assert_eq!(ours, theirs, "{pat}");
            }
        }
    }
}
