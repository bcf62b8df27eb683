//! Output: findings and their exit codes, the output formats, JSON document writing (every document carries `"schema"`), error reporting for
//! unusable inputs, exit codes, and a fast column aligner for long human listings.

use std::fmt;
use std::io::{self, Write};

use serde::Serialize;

use crate::error::InputError;

pub mod ci;
pub mod codes;
pub mod human;
pub mod json_stream;
pub mod ordered;
pub mod pahole;
pub use codes::{CheckKind, Code};
pub use human::{location_key, severity_label};

/// Exit code: nothing at or above the failure threshold.
pub const EXIT_OK: i32 = 0;
/// Exit code: findings at or above the failure threshold.
pub const EXIT_FINDINGS: i32 = 1;
/// Exit code: usage error, or an input that cannot be read or parsed.
pub const EXIT_INPUT: i32 = 2;

/// How results are rendered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Human,
    Json,
}

/// Write `doc` as pretty JSON to stdout. A closed pipe is not an error.
pub fn write_json<T: Serialize>(doc: &T) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    serde_json::to_writer_pretty(&mut out, doc).map_err(io::Error::other)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Report unusable inputs: a message per file on stderr, and in JSON mode an error document on stdout.
pub fn report_input_errors(format: OutputFormat, command: &str, errors: &[InputError]) {
    for e in errors {
        eprintln!("error: {e}");
    }
    if format == OutputFormat::Json {
        #[derive(Serialize)]
        struct Doc<'a> {
            schema: String,
            errors: &'a [InputError],
        }
        let _ = write_json(&Doc {
            schema: format!("ffi-doctor/{command}/v1"),
            errors,
        });
    }
}

/// Treat a closed stdout (`| head`) as success, other write errors as failures.
pub fn finish_output(r: io::Result<()>) -> i32 {
    match r {
        Ok(()) => EXIT_OK,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => EXIT_OK,
        Err(e) => {
            eprintln!("error: writing output: {e}");
            EXIT_INPUT
        }
    }
}

/// Write `n` spaces: whole slices of a static buffer, not `write!("{:n$}", "")`, which pads one `write_char` at a
/// time (a wide NAME column made that the biggest cost of a long listing).
fn write_spaces(out: &mut dyn Write, mut n: usize) -> io::Result<()> {
    const SPACES: &[u8; 256] = &[b' '; 256];
    while n > 0 {
        let k = n.min(SPACES.len());
        out.write_all(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

/// Columns for long listings, aligned in two passes without a table library's per-cell overhead.
pub struct Columns<'a> {
    headers: Vec<&'a str>,
    rows: Vec<Vec<std::borrow::Cow<'a, str>>>,
}

impl<'a> Columns<'a> {
    pub fn new(headers: Vec<&'a str>) -> Self {
        Columns {
            headers,
            rows: Vec::new(),
        }
    }

    pub fn push(&mut self, row: Vec<std::borrow::Cow<'a, str>>) {
        self.rows.push(row);
    }

    /// Write the listing, dropping columns that are empty in every row; the last column is not padded.
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let n = self.headers.len();
        let mut width = vec![0usize; n];
        let mut used = vec![false; n];
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate().take(n) {
                if !cell.is_empty() {
                    used[i] = true;
                    width[i] = width[i].max(cell.chars().count());
                }
            }
        }
        let cols: Vec<usize> = (0..n).filter(|&i| used[i]).collect();
        for &i in &cols {
            width[i] = width[i].max(self.headers[i].len());
        }
        let line = |out: &mut dyn Write,
                    cells: &mut dyn Iterator<Item = (usize, &str)>|
         -> io::Result<()> {
            let mut first = true;
            let mut pending = 0usize;
            let cells: Vec<(usize, &str)> = cells.collect();
            let last = cells
                .iter()
                .rposition(|(_, c)| !c.is_empty())
                .map_or(0, |p| p + 1);
            for &(i, cell) in &cells[..last] {
                if !first {
                    write_spaces(out, pending + 2)?;
                }
                first = false;
                out.write_all(cell.as_bytes())?;
                pending = width[i].saturating_sub(cell.chars().count());
            }
            out.write_all(b"\n")
        };
        line(out, &mut cols.iter().map(|&i| (i, self.headers[i])))?;
        for row in &self.rows {
            line(
                out,
                &mut cols
                    .iter()
                    .map(|&i| (i, row.get(i).map(|c| c.as_ref()).unwrap_or(""))),
            )?;
        }
        Ok(())
    }
}

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// One thing ffi-doctor has to tell: a stable code, a severity, where, what was expected and found, and a hint.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable registered code, e.g. `FFI0301` (serialized as that id).
    pub code: Code,
    pub severity: Severity,
    /// Where: a file, with a line and column in a source file, or a symbol or ordinal in a binary.
    pub location: Location,
    pub message: String,
    pub expected: String,
    pub found: String,
    pub hint: String,
}

/// Where a finding is. Its text (`Display`, and the JSON string) is `file`, `file:line:col`, `file (symbol S)` or
/// `file (ordinal N)`; the parts stay apart so that a caller can rewrite the file alone (the gate shows a wheel
/// member instead of its extracted path) or ask which symbol or needed entry a finding is about.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    /// A library or a source file, as the user sees it.
    pub file: String,
    /// 1-based line and column in a source file.
    pub line: Option<u32>,
    pub column: Option<u32>,
    /// The symbol in a binary the finding is about.
    pub symbol: Option<String>,
    /// The import ordinal the finding is about (PE).
    pub ordinal: Option<u32>,
    /// The needed entry (`DT_NEEDED`, `LC_LOAD_DYLIB`, imported DLL) the finding is about; not part of the text.
    pub entry: Option<String>,
    /// The symbol version (`GLIBC_2.34`) the finding is about; not part of the text.
    pub version: Option<String>,
}

impl Location {
    /// A whole file.
    pub fn file(file: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            ..Location::default()
        }
    }

    /// A position in a source file.
    pub fn at(file: impl Into<String>, line: u32, column: u32) -> Location {
        Location {
            file: file.into(),
            line: Some(line),
            column: Some(column),
            ..Location::default()
        }
    }

    /// A symbol of a binary.
    pub fn symbol(file: impl Into<String>, symbol: impl Into<String>) -> Location {
        Location {
            file: file.into(),
            symbol: Some(symbol.into()),
            ..Location::default()
        }
    }

    /// An import by ordinal of a binary.
    pub fn ordinal(file: impl Into<String>, ordinal: u32) -> Location {
        Location {
            file: file.into(),
            ordinal: Some(ordinal),
            ..Location::default()
        }
    }

    /// The same location, about the symbol version `version`.
    pub fn version(mut self, version: impl Into<String>) -> Location {
        self.version = Some(version.into());
        self
    }

    /// The same location, about the needed entry `entry`.
    pub fn entry(mut self, entry: impl Into<String>) -> Location {
        self.entry = Some(entry.into());
        self
    }
}

impl From<String> for Location {
    fn from(file: String) -> Location {
        Location::file(file)
    }
}

impl From<&str> for Location {
    fn from(file: &str) -> Location {
        Location::file(file)
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}:{}", self.column.unwrap_or(0))?;
        }
        if let Some(s) = &self.symbol {
            write!(f, " (symbol {s})")?;
        }
        if let Some(o) = self.ordinal {
            write!(f, " (ordinal {o})")?;
        }
        Ok(())
    }
}

impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Exit code for a set of findings against the `--fail-on` threshold.
pub fn exit_code_for(findings: &[Finding], fail_on: impl Into<Severity>) -> i32 {
    let fail_on = fail_on.into();
    if findings.iter().any(|f| f.severity >= fail_on) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
