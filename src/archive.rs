//! A wheel (zip archive) unpacked safely: every member that starts like a binary is streamed into a new temporary
//! directory under its path in the archive, under a cap per member and for the whole archive (a member's declared
//! size is never allocated, and a zip bomb stops at the cap with an error that says so); the text members a
//! caller asks for are read into memory under the text limit; nothing else is written. Names that escape the
//! archive and members named twice are refused. `gate` and `diff` read wheels through this.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::InputError;
use crate::tempdirs::TempDir;

/// The most one wheel member is inflated to.
const MEMBER_LIMIT: u64 = 4 << 30;
/// The most all binary members of one wheel may inflate to, unless `FFI_DOCTOR_WHEEL_LIMIT_MIB` says otherwise.
const TOTAL_LIMIT: u64 = 8 << 30;

/// The caps per member and in all.
fn limits() -> (u64, u64) {
    let total = std::env::var("FFI_DOCTOR_WHEEL_LIMIT_MIB")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(TOTAL_LIMIT, |m| m.saturating_mul(1 << 20));
    (MEMBER_LIMIT.min(total), total)
}

fn size_text(n: u64) -> String {
    if n >= 1 << 30 {
        format!("{} GiB", n >> 30)
    } else {
        format!("{} MiB", n >> 20)
    }
}

/// Whether bytes start like a binary ffi-doctor reads (ELF, Mach-O thin or universal, PE).
pub fn is_binary_magic(head: &[u8]) -> bool {
    matches!(
        head.get(..4),
        Some([0x7f, b'E', b'L', b'F'])
            | Some([0xca, 0xfe, 0xba, 0xbe])
            | Some([0xbe, 0xba, 0xfe, 0xca])
            | Some([0xfe, 0xed, 0xfa, 0xce])
            | Some([0xfe, 0xed, 0xfa, 0xcf])
            | Some([0xce, 0xfa, 0xed, 0xfe])
            | Some([0xcf, 0xfa, 0xed, 0xfe])
    ) || head.starts_with(b"MZ")
}

/// An unpacked wheel: the binaries on disk (for as long as this lives) and the text members asked for.
pub struct Unpacked {
    pub dir: TempDir,
    /// The binary members' paths inside the archive (`/`-separated), sorted; each is at `dir/<path>`.
    pub binaries: Vec<String>,
    /// `(name in the archive, text)` of the members `want_text` chose, in archive order.
    pub texts: Vec<(String, String)>,
}

impl Unpacked {
    /// Where a binary member was written.
    pub fn path_of(&self, member: &str) -> PathBuf {
        self.dir.path().join(member)
    }
}

/// Unpack the wheel at `path` into a new temporary directory named with `prefix`.
pub fn unpack(
    path: &str,
    prefix: &str,
    want_text: impl Fn(&str) -> bool,
) -> Result<Unpacked, InputError> {
    let (file, _) = crate::input::open_regular(Path::new(path), "a wheel (zip archive)")?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| InputError::new(path, "a zip archive (wheel)", e.to_string()))?;
    let dir = TempDir::new(prefix)
        .map_err(|e| InputError::new(path, "a temporary directory", e.to_string()))?;
    let mut binaries = Vec::new();
    let mut texts = Vec::new();
    let mut total = 0u64;
    let (member_limit, total_limit) = limits();
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
        let name_in_zip = entry.name().to_string();
        let unreadable = |e: std::io::Error| {
            InputError::new(
                path,
                format!("a readable entry {name_in_zip}"),
                e.to_string(),
            )
        };
        if want_text(&name_in_zip) {
            // Text members are read into memory, never more than the text limit whatever size they declare.
            let mut data = Vec::new();
            (&mut entry)
                .take(crate::input::TEXT_LIMIT)
                .read_to_end(&mut data)
                .map_err(unreadable)?;
            texts.push((name_in_zip, String::from_utf8_lossy(&data).into_owned()));
            continue;
        }
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
        let out: PathBuf = dir.path().join(&rel);
        if out.exists() {
            return Err(InputError::new(
                path,
                "each member name once in the wheel",
                format!("{name_in_zip} twice"),
            ));
        }
        let write_err = |e: std::io::Error| {
            InputError::new(path, "a writable temporary directory", e.to_string())
        };
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent).map_err(write_err)?;
        }
        let mut file = std::fs::File::create(&out).map_err(write_err)?;
        std::io::Write::write_all(&mut file, &head[..got]).map_err(write_err)?;
        let cap = member_limit.min(total_limit.saturating_sub(total));
        let n = std::io::copy(&mut (&mut entry).take(cap), &mut file).map_err(|e| {
            if e.kind() == std::io::ErrorKind::InvalidData || e.kind() == std::io::ErrorKind::Other
            {
                unreadable(e)
            } else {
                write_err(e)
            }
        })? + got as u64;
        // One more byte read proves the member is larger than the cap.
        let mut probe = [0u8; 1];
        if n >= cap && entry.read(&mut probe).map_err(unreadable)? > 0 {
            return Err(InputError::new(
                path,
                format!(
                    "binary members of at most {} each and {} in all (FFI_DOCTOR_WHEEL_LIMIT_MIB)",
                    size_text(member_limit),
                    size_text(total_limit)
                ),
                format!("{name_in_zip} inflating past {} bytes", total + n),
            )
            .hint("this looks like a zip bomb; nothing more was extracted"));
        }
        total += n;
        binaries.push(rel.to_string_lossy().replace('\\', "/"));
    }
    binaries.sort();
    Ok(Unpacked {
        dir,
        binaries,
        texts,
    })
}
