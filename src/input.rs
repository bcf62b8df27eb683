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
}
