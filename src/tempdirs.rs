//! Temporary directories that are removed on every way out: when dropped (normal return, `?` error, panic
//! unwinding) and when the process is told to stop (SIGINT, SIGTERM, SIGHUP), which would otherwise leave an
//! extracted wheel behind. They are created under `TMPDIR` (the standard temporary directory).

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

/// The live directories, for the signal handler.
static LIVE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static HANDLER: Once = Once::new();

/// A temporary directory removed on drop and on a stop signal.
#[derive(Debug)]
pub struct TempDir {
    inner: Option<tempfile::TempDir>,
}

impl TempDir {
    /// Create a new directory named `{prefix}XXXXXX` under `TMPDIR`.
    pub fn new(prefix: &str) -> std::io::Result<TempDir> {
        install_handler();
        // Created and registered under the lock the signal handler takes: a stop signal that arrives in
        // between waits for the registration instead of missing a directory that already exists.
        let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
        let inner = tempfile::Builder::new().prefix(prefix).tempdir()?;
        live.push(inner.path().to_path_buf());
        Ok(TempDir { inner: Some(inner) })
    }

    pub fn path(&self) -> &Path {
        self.inner
            .as_ref()
            .map(|d| d.path())
            .unwrap_or(Path::new(""))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(d) = self.inner.take() {
            if let Ok(mut live) = LIVE.lock() {
                live.retain(|p| p != d.path());
            }
            let _ = d.close();
        }
    }
}

/// On SIGINT, SIGTERM or SIGHUP: remove every live directory, then exit as the signal would have (128 + n).
fn install_handler() {
    HANDLER.call_once(|| {
        use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP]) else {
            return;
        };
        let _ = std::thread::Builder::new()
            .name("ffi-doctor-cleanup".into())
            .spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    // The lock is held until exit: no directory is created or registered meanwhile. Other
                    // threads may still be writing into a live directory (an extraction recreating its
                    // subdirectories), so removal is repeated until nothing is left.
                    let live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
                    for _ in 0..50 {
                        for d in live.iter() {
                            let _ = std::fs::remove_dir_all(d);
                        }
                        if live.iter().all(|d| !d.exists()) {
                            break;
                        }
                        std::thread::sleep(std::time::Duration::from_millis(2));
                    }
                    std::process::exit(128 + sig);
                }
            });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_on_drop() {
        let d = TempDir::new("ffi-doctor-test-").unwrap();
        let p = d.path().to_path_buf();
        std::fs::write(p.join("x"), b"x").unwrap();
        assert!(p.exists());
        drop(d);
        assert!(!p.exists());
        assert!(!LIVE.lock().unwrap().contains(&p));
    }
}
