//! Where a library's DWARF lives: in the file itself, or in a separate debug file found the way gdb finds it
//! (`.build-id/ab/cdef….debug` under the global debug directories, then `.gnu_debuglink` next to the file, in
//! its `.debug/` subdirectory and under `<debug-dir>/<library dir>/`), an explicit `--debug-file`, or a `.dSYM`
//! bundle next to a Mach-O dylib. Every candidate tried is recorded with its outcome.

use std::path::{Path, PathBuf};

use object::{Object, ObjectSection};
use serde::Serialize;

use super::{model, DebugInfo, DebugOptions, DebugSource};
use crate::binary::{self, sniff, Image, Mapped};
use crate::error::InputError;

/// One candidate debug file and what became of it.
#[derive(Debug, Clone, Serialize)]
pub struct Tried {
    pub path: PathBuf,
    /// `debug-file`, `build-id`, `debuglink`, `dsym`.
    pub rule: String,
    /// `used`, `absent`, `crc mismatch (…)`, `build-id mismatch`, `no DWARF`, `unreadable: …`.
    pub outcome: String,
}

/// The result of looking for DWARF.
#[derive(Debug, Clone, Serialize)]
pub struct DebugSearch {
    pub info: Option<DebugInfo>,
    /// Human-readable notes: rejected candidates, a PDB that is not read, no debug info at all.
    pub notes: Vec<String>,
    pub tried: Vec<Tried>,
}

/// Facts about the library that pick its debug file: read from its [`Image`], never from the file again.
struct Ids {
    build_id: Option<Vec<u8>>,
    debuglink: Option<(String, u32)>,
    uuid: Option<[u8; 16]>,
    pdb: Option<String>,
    /// The image says it has DWARF sections of its own.
    dwarf: bool,
    /// The image's architecture name (`x86_64`, `arm64`, …), to pick a slice of a universal debug file.
    arch: String,
}

/// Look for the DWARF of the library at `lib_path`, for callers that hold only a path: the file is mapped and
/// read into its [`Image`] once (the `opts.arch` slice of a universal file, else the first), then
/// [`search_image`] does the rest.
pub fn search(lib_path: &str, opts: &DebugOptions) -> Result<DebugSearch, InputError> {
    let mapped = Mapped::open(lib_path)?;
    let images = binary::read_guarded(
        &mapped,
        opts.arch.as_deref(),
        binary::ReadOptions { demangle: false },
    )?;
    let img = images.first().ok_or_else(|| {
        InputError::new(
            lib_path,
            "an ELF, Mach-O or PE image",
            "a universal file with no slices",
        )
    })?;
    search_image(lib_path, img, opts)
}

/// Look for the DWARF of `image` (read from `lib_path`; see the module docs for the order). The build-id,
/// `.gnu_debuglink`, UUID and PDB path come from the image; only DWARF sections are parsed here (the image's
/// own bytes, [`Image::data`], when it has DWARF, and each candidate debug file).
pub fn search_image(
    lib_path: &str,
    image: &Image<'_>,
    opts: &DebugOptions,
) -> Result<DebugSearch, InputError> {
    let d = image.debug_ids();
    let ids = Ids {
        build_id: d.build_id,
        debuglink: d.debuglink,
        uuid: d.uuid,
        pdb: d.pdb,
        dwarf: d.dwarf,
        arch: image.arch.clone(),
    };
    let mut s = DebugSearch {
        info: None,
        notes: Vec::new(),
        tried: Vec::new(),
    };

    // 1. An explicit debug file wins.
    if let Some(df) = &opts.debug_file {
        let df_str = df.to_string_lossy().into_owned();
        let m = Mapped::open(&df_str)?;
        let bytes = dsym_or_slice(&df_str, m.bytes(), &ids, opts.arch.as_deref())?;
        let dfile = parse_object(&df_str, bytes)?;
        if let (Some(want), Ok(Some(have))) = (&ids.build_id, dfile.build_id()) {
            if want.as_slice() != have {
                s.notes.push(format!(
                    "{df_str}: build-id {} differs from the library's {}: it describes another build",
                    binary::hex(have),
                    binary::hex(want)
                ));
            }
        }
        if !has_dwarf(&dfile) {
            return Err(InputError::new(
                &df_str,
                "a file with DWARF debug info (.debug_info)",
                "no .debug_info section",
            ));
        }
        let info = model::read(&df_str, &dfile, DebugSource::DebugFile, df)?;
        s.tried.push(tried(df, "debug-file", "used"));
        s.info = Some(info);
        return Ok(finish(s));
    }

    // 2. The library itself (parsed here only for its DWARF sections).
    if ids.dwarf {
        let file = parse_object(lib_path, image.data.0)?;
        if has_dwarf(&file) {
            let info = model::read(lib_path, &file, DebugSource::Embedded, Path::new(lib_path))?;
            s.info = Some(info);
            return Ok(finish(s));
        }
    }

    let lib = Path::new(lib_path);
    let resolved = std::fs::canonicalize(lib).unwrap_or_else(|_| lib.to_path_buf());
    let debug_dirs: Vec<PathBuf> = opts
        .debug_dirs
        .iter()
        .map(|d| match &opts.sysroot {
            Some(root) => root.join(d.strip_prefix("/").unwrap_or(d)),
            None => d.clone(),
        })
        .collect();

    // 3. ELF build-id.
    if let Some(id) = ids.build_id.as_ref().filter(|id| id.len() >= 2) {
        let hex = binary::hex(id);
        for dir in &debug_dirs {
            let cand = dir
                .join(".build-id")
                .join(&hex[..2])
                .join(format!("{}.debug", &hex[2..]));
            if let Some(info) =
                try_candidate(&cand, "build-id", DebugSource::BuildId, &mut s, |f| match f
                    .build_id()
                {
                    Ok(Some(b)) if b == id.as_slice() => Ok(()),
                    Ok(Some(b)) => Err(format!("build-id mismatch ({})", binary::hex(b))),
                    _ => Err("no build-id note".into()),
                })?
            {
                s.info = Some(info);
                return Ok(finish(s));
            }
        }
    }

    // 4. .gnu_debuglink, CRC32 checked.
    if let Some((name, crc)) = &ids.debuglink {
        let dir = resolved.parent().unwrap_or(Path::new("/")).to_path_buf();
        let mut cands = vec![dir.join(name), dir.join(".debug").join(name)];
        for d in &debug_dirs {
            cands.push(d.join(dir.strip_prefix("/").unwrap_or(&dir)).join(name));
        }
        for cand in cands {
            if cand == resolved {
                continue;
            }
            let want = *crc;
            let check = |path: &Path| -> Result<(), String> {
                let got = crc32_file(path).map_err(|e| format!("unreadable: {e}"))?;
                if got == want {
                    Ok(())
                } else {
                    Err(format!(
                        "crc mismatch (.gnu_debuglink says {want:08x}, file has {got:08x})"
                    ))
                }
            };
            if !cand.is_file() {
                s.tried.push(tried(&cand, "debuglink", "absent"));
                continue;
            }
            if let Err(why) = check(&cand) {
                s.notes.push(format!(
                    "{}: {why}: not used (it belongs to another build of {})",
                    cand.display(),
                    lib.display()
                ));
                s.tried.push(tried(&cand, "debuglink", &why));
                continue;
            }
            if let Some(info) =
                try_candidate(&cand, "debuglink", DebugSource::Debuglink, &mut s, |_| {
                    Ok(())
                })?
            {
                s.info = Some(info);
                return Ok(finish(s));
            }
        }
    }

    // 5. Mach-O .dSYM bundle.
    if ids.uuid.is_some() {
        let base = lib
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_default();
        let mut bundle = lib.as_os_str().to_os_string();
        bundle.push(".dSYM");
        let cand = PathBuf::from(bundle)
            .join("Contents/Resources/DWARF")
            .join(base);
        if let Some(info) = try_dsym(&cand, &ids, opts.arch.as_deref(), &mut s)? {
            s.info = Some(info);
            return Ok(finish(s));
        }
    }

    // 6. PE with a CodeView record only.
    if let Some(pdb) = &ids.pdb {
        s.notes.push(format!(
            "PDB not read (PDB path {pdb}): ffi-doctor reads DWARF only; build with mingw -g or clang -gdwarf for layouts"
        ));
    } else {
        s.notes.push(format!(
            "no debug info found for {lib_path} (no DWARF sections{})",
            match (&ids.build_id, &ids.debuglink) {
                (Some(_), Some(_)) => ", no separate file by build-id or .gnu_debuglink",
                (Some(_), None) => ", no separate file by build-id",
                (None, Some(_)) => ", no separate file by .gnu_debuglink",
                _ => "",
            }
        ));
    }
    Ok(finish(s))
}

fn finish(mut s: DebugSearch) -> DebugSearch {
    if let Some(info) = &mut s.info {
        let mut notes = s.notes.clone();
        notes.append(&mut info.notes);
        info.notes = notes;
    }
    s
}

fn tried(path: &Path, rule: &str, outcome: &str) -> Tried {
    Tried {
        path: path.to_path_buf(),
        rule: rule.into(),
        outcome: outcome.into(),
    }
}

/// Open a candidate; `check` may reject it (recorded in `tried` and the notes). Unreadable DWARF in an accepted
/// candidate is an input error.
fn try_candidate(
    cand: &Path,
    rule: &str,
    source: DebugSource,
    s: &mut DebugSearch,
    check: impl Fn(&object::File<'_>) -> Result<(), String>,
) -> Result<Option<DebugInfo>, InputError> {
    if !cand.is_file() {
        s.tried.push(tried(cand, rule, "absent"));
        return Ok(None);
    }
    let p = cand.to_string_lossy().into_owned();
    let m = match Mapped::open(&p) {
        Ok(m) => m,
        Err(e) => {
            s.tried
                .push(tried(cand, rule, &format!("unreadable: {}", e.found)));
            return Ok(None);
        }
    };
    let f = match object::File::parse(m.bytes()) {
        Ok(f) => f,
        Err(e) => {
            s.tried
                .push(tried(cand, rule, &format!("not an object file: {e}")));
            return Ok(None);
        }
    };
    if let Err(why) = check(&f) {
        s.notes.push(format!("{}: {why}: not used", cand.display()));
        s.tried.push(tried(cand, rule, &why));
        return Ok(None);
    }
    if !has_dwarf(&f) {
        s.tried.push(tried(cand, rule, "no DWARF"));
        return Ok(None);
    }
    let info = model::read(&p, &f, source, cand)?;
    s.tried.push(tried(cand, rule, "used"));
    Ok(Some(info))
}

fn try_dsym(
    cand: &Path,
    ids: &Ids,
    arch: Option<&str>,
    s: &mut DebugSearch,
) -> Result<Option<DebugInfo>, InputError> {
    if !cand.is_file() {
        s.tried.push(tried(cand, "dsym", "absent"));
        return Ok(None);
    }
    let p = cand.to_string_lossy().into_owned();
    let m = Mapped::open(&p)?;
    let bytes = dsym_or_slice(&p, m.bytes(), ids, arch)?;
    let f = parse_object(&p, bytes)?;
    match f.mach_uuid() {
        Ok(Some(u)) if Some(u) == ids.uuid => {}
        _ => {
            let why = "UUID mismatch";
            s.notes.push(format!("{}: {why}: not used", cand.display()));
            s.tried.push(tried(cand, "dsym", why));
            return Ok(None);
        }
    }
    if !has_dwarf(&f) {
        s.tried.push(tried(cand, "dsym", "no DWARF"));
        return Ok(None);
    }
    let info = model::read(&p, &f, DebugSource::Dsym, cand)?;
    s.tried.push(tried(cand, "dsym", "used"));
    Ok(Some(info))
}

fn parse_object<'d>(path: &str, data: &'d [u8]) -> Result<object::File<'d>, InputError> {
    object::File::parse(data).map_err(|e| {
        InputError::new(
            path,
            "an ELF, Mach-O or PE file",
            format!("data object cannot parse ({e})"),
        )
    })
}

/// The bytes of the wanted slice of a (possibly universal) Mach-O file; the whole file otherwise.
fn pick_slice<'d>(path: &str, data: &'d [u8], arch: Option<&str>) -> Result<&'d [u8], InputError> {
    if !matches!(sniff::classify(path, data)?, sniff::Detected::Fat) {
        return Ok(data);
    }
    let slices = binary::macho::fat_slices(path, data)?;
    let chosen = match arch {
        Some(want) => slices
            .iter()
            .find(|s| s.fat_arch.is_some_and(|a| binary::arch_matches(a, want))),
        None => slices.first(),
    };
    chosen.map(|s| s.data).ok_or_else(|| {
        InputError::new(
            path,
            format!("a slice for architecture {}", arch.unwrap_or("any")),
            "no such slice",
        )
    })
}

/// For a universal dSYM or debug file: the slice whose UUID (else architecture) matches the library.
fn dsym_or_slice<'d>(
    path: &str,
    data: &'d [u8],
    ids: &Ids,
    arch: Option<&str>,
) -> Result<&'d [u8], InputError> {
    if !matches!(sniff::classify(path, data)?, sniff::Detected::Fat) {
        return Ok(data);
    }
    let slices = binary::macho::fat_slices(path, data)?;
    for sl in &slices {
        if let Ok(f) = object::File::parse(sl.data) {
            if ids.uuid.is_some() && f.mach_uuid().ok().flatten() == ids.uuid {
                return Ok(sl.data);
            }
        }
    }
    if let Some(sl) = slices.iter().find(|s| {
        s.fat_arch
            .is_some_and(|a| binary::arch_matches(a, &ids.arch))
    }) {
        return Ok(sl.data);
    }
    pick_slice(path, data, arch)
}

/// Does the file carry a non-empty `.debug_info` (or `.zdebug_info`, `__debug_info`)?
pub(crate) fn has_dwarf(f: &object::File<'_>) -> bool {
    f.section_by_name(".debug_info")
        .is_some_and(|s| s.size() > 0 && s.kind() != object::SectionKind::UninitializedData)
}

/// CRC-32 (IEEE, reflected, as zlib's `crc32` and `.gnu_debuglink` use) of a whole file.
pub fn crc32_file(path: &Path) -> std::io::Result<u32> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 16];
    let mut crc = !0u32;
    let table = crc_table();
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            crc = table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8);
        }
    }
    Ok(!crc)
}

/// CRC-32 of a byte string.
pub fn crc32(data: &[u8]) -> u32 {
    let table = crc_table();
    !data.iter().fold(!0u32, |crc, &b| {
        table[((crc ^ b as u32) & 0xff) as usize] ^ (crc >> 8)
    })
}

fn crc_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    for (i, e) in t.iter_mut().enumerate() {
        let mut c = i as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
        }
        *e = c;
    }
    t
}

#[cfg(test)]
mod tests {
    #[test]
    fn crc32_check_value() {
        assert_eq!(super::crc32(b"123456789"), 0xCBF4_3926);
    }
}
