//! Wheels: the filename and `*.dist-info/WHEEL` tags, and extraction of the binaries into a temporary directory
//! with their paths kept, so the loader models resolve `$ORIGIN` / `@loader_path` / the DLL load directory inside
//! the wheel as if it were installed into site-packages.

use std::path::Path;

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

pub use crate::archive::is_binary_magic;

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
    let is_wheel_meta = |n: &str| n.ends_with(".dist-info/WHEEL") && n.matches('/').count() == 1;
    let unpacked = crate::archive::unpack(path, "ffi-doctor-wheel-", |n| {
        is_wheel_meta(n) || n.ends_with(".py")
    })?;
    let mut wheel_tags = Vec::new();
    let mut python_sources = Vec::new();
    for (name_in_zip, text) in unpacked.texts {
        if is_wheel_meta(&name_in_zip) {
            for line in text.lines() {
                if let Some(t) = line.strip_prefix("Tag:") {
                    wheel_tags.push(t.trim().to_string());
                }
            }
        } else {
            python_sources.push((name_in_zip, text));
        }
    }
    let binaries = unpacked.binaries;
    let dir = unpacked.dir;
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
