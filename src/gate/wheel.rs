//! Wheels: the filename and `*.dist-info/WHEEL` tags, and extraction of the binaries into a temporary directory
//! with their paths kept, so the loader models resolve `$ORIGIN` / `@loader_path` / the DLL load directory inside
//! the wheel as if it were installed into site-packages.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::InputError;

/// What a wheel says about itself.
#[derive(Debug, Clone, Serialize)]
pub struct WheelInfo {
    pub filename: String,
    pub name: String,
    pub version: String,
    /// Platform tags from the filename (a dotted compressed tag set is split).
    pub platform_tags: Vec<String>,
    /// `Tag:` lines of `*.dist-info/WHEEL`.
    pub wheel_tags: Vec<String>,
    /// Python tags of the filename (`cp312`, `cp39`, `py3`; a compressed set is split).
    pub python_tags: Vec<String>,
    /// ABI tags of the filename (`cp312`, `abi3`, `none`).
    pub abi_tags: Vec<String>,
    /// Paths of the binaries inside the wheel (ELF, Mach-O, PE by magic), sorted.
    pub binaries: Vec<String>,
}

/// An extracted wheel; the directory is removed on drop.
pub struct Extracted {
    pub info: WheelInfo,
    pub dir: crate::tempdirs::TempDir,
    /// `(path, text)` of the wheel's `.py` files: which shipped libraries Python code names (ctypes, cffi).
    pub python_sources: Vec<(String, String)>,
}

/// The most one binary member may inflate to: the largest real wheels' biggest libraries are a few hundred MiB.
const MEMBER_LIMIT: u64 = 4 << 30;
/// The most all binary members of one wheel may inflate to, unless `FFI_DOCTOR_WHEEL_LIMIT_MIB` says otherwise.
const TOTAL_LIMIT: u64 = 8 << 30;

/// (per member, in all) extraction limits in bytes.
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

/// Whether bytes start like a binary ffi-doctor reads.
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

/// The python and ABI tags of `{name}-{ver}(-{build})?-{py}-{abi}-{platform}.whl`, compressed sets split.
pub fn python_abi_tags(filename: &str) -> (Vec<String>, Vec<String>) {
    let stem = filename.strip_suffix(".whl").unwrap_or(filename);
    let parts: Vec<&str> = stem.split('-').collect();
    if parts.len() != 5 && parts.len() != 6 {
        return (Vec::new(), Vec::new());
    }
    let split = |s: &str| s.split('.').map(str::to_string).collect();
    (split(parts[parts.len() - 3]), split(parts[parts.len() - 2]))
}

/// Split `{name}-{ver}(-{build})?-{py}-{abi}-{platform}.whl`.
pub fn parse_filename(filename: &str) -> Option<(String, String, Vec<String>)> {
    let stem = filename.strip_suffix(".whl")?;
    let parts: Vec<&str> = stem.split('-').collect();
    if parts.len() != 5 && parts.len() != 6 {
        return None;
    }
    let plat = parts[parts.len() - 1];
    Some((
        parts[0].to_string(),
        parts[1].to_string(),
        plat.split('.').map(str::to_string).collect(),
    ))
}

/// Open `path`, read its tags and extract every binary (and nothing else) into a new temporary directory.
pub fn extract(path: &str) -> Result<Extracted, InputError> {
    let filename = Path::new(path)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (name, version, platform_tags) = parse_filename(&filename).ok_or_else(|| {
        InputError::new(
            path,
            "a wheel file name {name}-{version}-{python tag}-{abi tag}-{platform tag}.whl",
            filename.clone(),
        )
    })?;
    let (file, _) = crate::input::open_regular(Path::new(path), "a wheel (zip archive)")?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| InputError::new(path, "a zip archive (wheel)", e.to_string()))?;
    let dir = crate::tempdirs::TempDir::new("ffi-doctor-wheel-")
        .map_err(|e| InputError::new(path, "a temporary directory", e.to_string()))?;
    let mut wheel_tags = Vec::new();
    let mut binaries = Vec::new();
    let mut python_sources = Vec::new();
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
        let is_wheel_meta =
            name_in_zip.ends_with(".dist-info/WHEEL") && name_in_zip.matches('/').count() == 1;
        if is_wheel_meta || name_in_zip.ends_with(".py") {
            // Text members are read into memory, never more than the text limit whatever size they declare.
            let mut data = Vec::new();
            (&mut entry)
                .take(crate::input::TEXT_LIMIT)
                .read_to_end(&mut data)
                .map_err(unreadable)?;
            let text = String::from_utf8_lossy(&data);
            if is_wheel_meta {
                for line in text.lines() {
                    if let Some(t) = line.strip_prefix("Tag:") {
                        wheel_tags.push(t.trim().to_string());
                    }
                }
            } else {
                python_sources.push((name_in_zip, text.into_owned()));
            }
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
        // Streamed to disk under a cap per member and for the whole wheel: a member's declared size is never
        // allocated, and a zip bomb stops at the cap with an error that says so.
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
    let (python_tags, abi_tags) = python_abi_tags(&filename);
    Ok(Extracted {
        info: WheelInfo {
            filename,
            name,
            version,
            platform_tags,
            wheel_tags,
            python_tags,
            abi_tags,
            binaries,
        },
        dir,
        python_sources,
    })
}

/// What a platform tag requires of a binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRequirement {
    pub tag: String,
    pub format: crate::binary::Format,
    /// Architectures every binary must contain.
    pub archs: Vec<&'static str>,
    /// manylinux_X_Y: the highest GLIBC version.
    pub max_glibc: Option<String>,
    /// The auditwheel policy of the tag, when vendored.
    pub manylinux: Option<&'static super::data::ManylinuxPolicy>,
    /// macosx_A_B: the highest minimum macOS version.
    pub max_macos: Option<String>,
}

fn norm_arch(a: &str) -> Option<&'static str> {
    Some(match a {
        "x86_64" | "amd64" => "x86_64",
        "aarch64" | "arm64" => "aarch64",
        "i686" | "i386" | "x86" | "win32" => "i386",
        "armv7l" => "arm",
        "ppc64le" => "ppc64le",
        "s390x" => "s390x",
        _ => return None,
    })
}

/// The requirement of one platform tag (`None` for `any` and tags this model does not know).
pub fn tag_requirement(tag: &str) -> Option<TagRequirement> {
    use crate::binary::Format;
    let req = |format, archs: Vec<&'static str>| TagRequirement {
        tag: tag.to_string(),
        format,
        archs,
        max_glibc: None,
        manylinux: None,
        max_macos: None,
    };
    if let Some(rest) = tag.strip_prefix("manylinux_") {
        // manylinux_X_Y_ARCH
        let mut it = rest.splitn(3, '_');
        let (x, y, arch) = (it.next()?, it.next()?, it.next()?);
        let mut r = req(Format::Elf, vec![norm_arch(arch)?]);
        r.max_glibc = Some(format!("{x}.{y}"));
        r.manylinux = super::data::manylinux(&format!("manylinux_{x}_{y}"));
        return Some(r);
    }
    for (legacy, glibc) in [
        ("manylinux2014_", "2.17"),
        ("manylinux2010_", "2.12"),
        ("manylinux1_", "2.5"),
    ] {
        if let Some(arch) = tag.strip_prefix(legacy) {
            let mut r = req(Format::Elf, vec![norm_arch(arch)?]);
            r.max_glibc = Some(glibc.into());
            r.manylinux = super::data::manylinux(legacy.trim_end_matches('_'));
            return Some(r);
        }
    }
    if let Some(rest) = tag.strip_prefix("musllinux_") {
        // musllinux_X_Y_ARCH: auditwheel's musl policy (allowed libraries; musl has no symbol versions).
        let mut it = rest.splitn(3, '_');
        let (x, y, arch) = (it.next()?, it.next()?, it.next()?);
        let mut r = req(Format::Elf, vec![norm_arch(arch)?]);
        r.manylinux = super::data::manylinux(&format!("musllinux_{x}_{y}"));
        return Some(r);
    }
    if let Some(arch) = tag.strip_prefix("linux_") {
        return Some(req(Format::Elf, vec![norm_arch(arch)?]));
    }
    if let Some(rest) = tag.strip_prefix("macosx_") {
        let mut it = rest.splitn(3, '_');
        let (a, b, arch) = (it.next()?, it.next()?, it.next()?);
        let archs = match arch {
            "universal2" => vec!["x86_64", "aarch64"],
            "intel" => vec!["x86_64", "i386"],
            "universal" => vec!["x86_64", "i386"],
            other => vec![norm_arch(other)?],
        };
        let mut r = req(Format::Macho, archs);
        r.max_macos = Some(format!("{a}.{b}"));
        return Some(r);
    }
    match tag {
        "win_amd64" => Some(req(Format::Pe, vec!["x86_64"])),
        "win32" => Some(req(Format::Pe, vec!["i386"])),
        "win_arm64" => Some(req(Format::Pe, vec!["aarch64"])),
        _ => None,
    }
}

/// Normalised architecture name of an image arch (`arm64` → `aarch64`).
pub fn image_arch(arch: &str) -> String {
    norm_arch(&arch.to_ascii_lowercase())
        .map(str::to_string)
        .unwrap_or_else(|| arch.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn musllinux_and_legacy_tags_map_to_auditwheel_policies() {
        let m = tag_requirement("musllinux_1_2_x86_64").unwrap();
        assert_eq!(m.manylinux.unwrap().name, "musllinux_1_2");
        assert!(m.manylinux.unwrap().libs.contains(&"libc.so"));
        assert_eq!(m.max_glibc, None);
        let l = tag_requirement("manylinux2010_x86_64").unwrap();
        assert_eq!(l.manylinux.unwrap().name, "manylinux_2_12");
        assert_eq!(
            tag_requirement("manylinux1_x86_64")
                .unwrap()
                .manylinux
                .unwrap()
                .name,
            "manylinux_2_5"
        );
        assert_eq!(
            python_abi_tags("x-1.0-cp39-abi3-manylinux_2_28_x86_64.whl"),
            (vec!["cp39".to_string()], vec!["abi3".to_string()])
        );
    }
}
