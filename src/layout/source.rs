//! Where a layout comes from: whether a file is a declaration (header/cdef) or a binary, and which DWARF records a
//! `--type` query names.

use crate::dwarf::{DebugInfo, Record};
use crate::error::InputError;

/// The records of `info` that `type_name` names (its tag or typedef, `struct NAME` / `union NAME` accepted), or
/// all of them; an unknown name is an input error listing similar names.
pub fn dwarf_records<'i>(
    file: &str,
    info: &'i DebugInfo,
    type_name: Option<&str>,
) -> Result<Vec<&'i Record>, InputError> {
    Ok(match type_name {
        Some(t) => match info.record(t) {
            Some(r) => vec![r],
            None => {
                let bare = t
                    .trim_start_matches("struct ")
                    .trim_start_matches("union ")
                    .to_ascii_lowercase();
                let mut near: Vec<&str> = info
                    .records()
                    .iter()
                    .map(|r| r.name.as_str())
                    .filter(|n| {
                        let l = n.to_ascii_lowercase();
                        l.contains(&bare) || bare.contains(&l)
                    })
                    .take(8)
                    .collect();
                near.sort_unstable();
                let hint = if near.is_empty() {
                    format!(
                        "{} structs/unions are described; run without --type to list them",
                        info.records().len()
                    )
                } else {
                    format!("similar names: {}", near.join(", "))
                };
                return Err(InputError::new(
                    file,
                    format!("a struct or union named {t} in the DWARF"),
                    "no such type",
                )
                .hint(hint));
            }
        },
        None => info.records().iter().collect(),
    })
}

/// A header or cdef rather than a binary: by extension, or a text file that is no other known text format.
pub fn is_spec_file(path: &str) -> bool {
    let ext = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if matches!(
        ext.as_deref(),
        Some("h" | "hh" | "hpp" | "hxx" | "cdef" | "i")
    ) {
        return true;
    }
    let mut head = Vec::with_capacity(64 * 1024);
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    use std::io::Read;
    if f.take(64 * 1024).read_to_end(&mut head).is_err() {
        return false;
    }
    matches!(crate::binary::sniff::classify(path, &head), Err(e) if e.found == "a text file")
}
