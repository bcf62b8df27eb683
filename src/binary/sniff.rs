//! Recognise what a file is from its first bytes, and turn everything that is not a loadable image (empty file,
//! static archive, GNU ld script, TAPI `.tbd` stub, other data) into an [`InputError`] that says what it is.

use crate::error::InputError;

const EXPECTED: &str = "a shared library or executable (ELF, Mach-O or PE)";

/// A loadable image format recognised by its magic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    Elf,
    Macho,
    /// Universal (fat) Mach-O.
    Fat,
    Pe,
}

/// Classify `data`; anything but a loadable image is an error naming what was found.
pub fn classify(path: &str, data: &[u8]) -> Result<Detected, InputError> {
    if data.is_empty() {
        return Err(InputError::new(path, EXPECTED, "an empty file (0 bytes)").at(0));
    }
    let m4: Option<[u8; 4]> = data.get(..4).and_then(|s| s.try_into().ok());
    if let Some(m) = m4 {
        match m {
            [0x7f, b'E', b'L', b'F'] => return Ok(Detected::Elf),
            [0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe] => {
                return Ok(Detected::Macho)
            }
            [0xca, 0xfe, 0xba, 0xbe | 0xbf] => {
                // Java class files share this magic; a fat header has a small architecture count.
                let n = data
                    .get(4..8)
                    .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                    .unwrap_or(0);
                if n == 0 || n >= 30 {
                    return Err(InputError::new(
                        path,
                        EXPECTED,
                        "a Java class file (magic 0xcafebabe)",
                    )
                    .at(0));
                }
                return Ok(Detected::Fat);
            }
            _ => {}
        }
    }
    if data.starts_with(b"MZ") {
        return Ok(Detected::Pe);
    }
    if data.starts_with(b"!<arch>\n") || data.starts_with(b"!<thin>\n") {
        return Err(archive_error(path, data));
    }
    if data.starts_with(b"\0asm") {
        return Err(InputError::new(path, EXPECTED, "a WebAssembly module").at(0));
    }
    let head = &data[..data.len().min(64 * 1024)];
    if let Ok(text) = std::str::from_utf8(head) {
        return Err(text_error(path, text));
    }
    if let Ok(kind) = object::FileKind::parse(data) {
        return Err(
            InputError::new(path, EXPECTED, format!("an object file of kind {kind:?}")).at(0),
        );
    }
    let shown: Vec<String> = data.iter().take(4).map(|b| format!("{b:02x}")).collect();
    Err(InputError::new(
        path,
        EXPECTED,
        format!("unrecognised data beginning with bytes {}", shown.join(" ")),
    )
    .at(0))
}

fn archive_error(path: &str, data: &[u8]) -> InputError {
    let Ok(archive) = object::read::archive::ArchiveFile::parse(data) else {
        return InputError::new(path, EXPECTED, "a damaged static archive (ar)").at(0);
    };
    let mut members = 0usize;
    let mut import_dll: Option<String> = None;
    for member in archive.members() {
        let Ok(member) = member else { break };
        members += 1;
        if import_dll.is_none() {
            if let Ok(bytes) = member.data(data) {
                import_dll = short_import_dll(bytes);
            }
        }
    }
    if let Some(dll) = import_dll {
        return InputError::new(
            path,
            EXPECTED,
            format!("a Windows import library for {dll} ({members} members)"),
        )
        .at(0)
        .hint(format!(
            "an import library only tells the linker about {dll}: inspect {dll} itself"
        ));
    }
    InputError::new(path, EXPECTED, format!("a static archive (ar) with {members} members"))
        .at(0)
        .hint("a static library cannot be loaded at run time; build a shared library or point at the .so/.dylib/.dll")
}

/// The DLL name of a COFF short import object (`IMPORT_OBJECT_HEADER`, signature 0x0000 0xFFFF).
fn short_import_dll(b: &[u8]) -> Option<String> {
    if b.len() < 20 || b[0..4] != [0, 0, 0xff, 0xff] {
        return None;
    }
    // header is 20 bytes, then the symbol name, NUL, then the DLL name, NUL.
    let rest = &b[20..];
    let sym_end = rest.iter().position(|&c| c == 0)?;
    let dll = super::cstr_at(rest, sym_end + 1)?;
    Some(dll.to_string())
}

fn text_error(path: &str, text: &str) -> InputError {
    let trimmed = text.trim_start();
    if let Some(real) = ld_script_target(text) {
        return InputError::new(
            path,
            EXPECTED,
            "a GNU ld script (a text file for the static linker)",
        )
        .at(0)
        .hint(format!(
            "the library it points to is {real}: inspect that file"
        ));
    }
    if text.contains("GROUP") || text.contains("INPUT") && text.contains('(') {
        return InputError::new(
            path,
            EXPECTED,
            "a GNU ld script (a text file for the static linker)",
        )
        .at(0);
    }
    if trimmed.starts_with("--- !tapi")
        || (trimmed.starts_with("---") && text.contains("install-name:"))
    {
        let name = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("install-name:"))
            .map(|s| s.trim().trim_matches(|c| c == '\'' || c == '"').to_string());
        let found = match name {
            Some(n) => format!("a TAPI text stub (.tbd) for {n}"),
            None => "a TAPI text stub (.tbd)".to_string(),
        };
        return InputError::new(path, EXPECTED, found).at(0).hint(
            "a .tbd only lists symbols for the linker; since macOS 11 the real library lives in the dyld shared \
             cache: inspect it on a macOS machine or extract it from the cache",
        );
    }
    InputError::new(path, EXPECTED, "a text file").at(0)
}

/// In a GNU ld script (`GROUP ( /lib/x86_64-linux-gnu/libc.so.6 … )`), the first shared object named.
fn ld_script_target(text: &str) -> Option<String> {
    let looks_like =
        text.contains("GNU ld script") || text.contains("GROUP") || text.contains("INPUT");
    if !looks_like {
        return None;
    }
    let body = strip_c_comments(text);
    let mut rest = body.as_str();
    while let Some(pos) = rest.find(['G', 'I']) {
        let tail = &rest[pos..];
        let after = tail
            .strip_prefix("GROUP")
            .or_else(|| tail.strip_prefix("INPUT"));
        if let Some(after) = after {
            let after = after.trim_start();
            if let Some(inner) = after.strip_prefix('(') {
                for tok in
                    inner.split(|c: char| c.is_whitespace() || c == '(' || c == ')' || c == ',')
                {
                    if tok.contains(".so") && !tok.ends_with(".a") {
                        return Some(tok.to_string());
                    }
                    if let Some(lib) = tok.strip_prefix("-l") {
                        return Some(format!("lib{lib}.so"));
                    }
                }
            }
        }
        rest = &tail[1..];
    }
    None
}

fn strip_c_comments(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find("/*") {
        out.push_str(&rest[..start]);
        match rest[start + 2..].find("*/") {
            Some(end) => rest = &rest[start + 2 + end + 2..],
            None => return out,
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_libc_ld_script_names_the_real_library() {
        let script = "/* GNU ld script\n   Use the shared library, but some functions are only in\n   the static \
                      library, so try that secondarily.  */\nOUTPUT_FORMAT(elf64-x86-64)\nGROUP ( \
                      /lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libc_nonshared.a  AS_NEEDED ( \
                      /lib64/ld-linux-x86-64.so.2 ) )\n";
        assert_eq!(
            ld_script_target(script).as_deref(),
            Some("/lib/x86_64-linux-gnu/libc.so.6")
        );
    }

    #[test]
    fn java_class_is_not_fat_macho() {
        let class = [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 61];
        assert!(classify("A.class", &class)
            .unwrap_err()
            .found
            .contains("Java"));
    }
}
