//! The error type for inputs that cannot be used: it names the file, what was expected, what was found and
//! (where known) the byte offset, so a person can act on it. Every such error maps to exit code 2. Parse errors
//! of declarations convert into it (`From`); the gate's configuration has its own `gate::ConfigError`, which
//! carries a line and column and also exits 2.

use std::fmt;

/// An input file that cannot be read or is not what the command needs.
#[derive(Debug, Clone, serde::Serialize)]
pub struct InputError {
    /// The path as the user gave it.
    pub path: String,
    /// What the reader expected to find.
    pub expected: String,
    /// What it found instead.
    pub found: String,
    /// Byte offset in the file where reading failed, when known.
    pub offset: Option<u64>,
    /// Something the user can do about it.
    pub hint: Option<String>,
}

impl InputError {
    /// A new error for `path`.
    pub fn new(path: &str, expected: impl Into<String>, found: impl Into<String>) -> Self {
        InputError {
            path: path.to_string(),
            expected: expected.into(),
            found: found.into(),
            offset: None,
            hint: None,
        }
    }

    /// Attach the byte offset where reading failed.
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }

    /// Attach a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.path, self.expected, self.found
        )?;
        if let Some(off) = self.offset {
            write!(f, " (at byte offset {off:#x})")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

impl std::error::Error for InputError {}
