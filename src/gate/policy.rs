//! The gate policies (FFI06xx): each looks at one binary's images, its resolved dependency graph and, for a
//! wheel, the platform tags, and returns findings with a location, what was expected, what was found and a hint.

use crate::report::codes::{Code, PolicyCode};
use std::path::Path;

use crate::binary::{Format, Image};
use crate::loader::Graph;
use crate::report::{Finding, Severity};
use crate::symbols::Mangling;

use super::config::Policy;
use super::data::{ManylinuxPolicy, LIBC_NAMES};
use super::wheel::{image_arch, TagRequirement};

/// Everything a policy needs to know about one binary.
pub struct Subject<'a, 'd> {
    /// The binary's location as reported (`dist.whl!pkg/_ext.so`, or the path).
    pub display: &'a str,
    /// Where the binary is on this host.
    pub host: &'a Path,
    pub images: &'a [Image<'d>],
    /// The graph resolved from the binary (node 0 is the binary).
    pub graph: Option<&'a Graph>,
    /// Libraries under this directory are shipped with the target (the extracted wheel, the directory).
    pub root: &'a Path,
    /// Exempt `PyInit_*` from the export policies.
    pub extension_module: bool,
    pub tags: &'a [TagRequirement],
    /// Allowed external libraries (None: the policy is off).
    pub allowed: Option<&'a [String]>,
    pub presets: &'a [&'static ManylinuxPolicy],
}

/// A dotted version as numbers (`2.17` → [2, 17]).
pub fn parse_version(v: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = v.trim().split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

fn finding(
    code: Code,
    location: String,
    message: String,
    expected: String,
    found: String,
    hint: &str,
) -> Finding {
    Finding {
        code,
        severity: Severity::Error,
        location,
        message,
        expected,
        found,
        hint: hint.to_string(),
    }
}

/// All FFI06xx policies for one binary.
pub fn check(s: &Subject<'_, '_>, p: &Policy) -> Vec<Finding> {
    let mut out = Vec::new();
    external(s, &mut out);
    versions(s, p, &mut out);
    if p.relative_rpath {
        rpaths(s, &mut out);
    }
    exports(s, p, &mut out);
    macho(s, p, &mut out);
    tags(s, &mut out);
    if let Some(sev) = p.hardening {
        hardening(s, sev.into(), &mut out);
    }
    out
}

/// The ELF interpreter is part of glibc and never an external library to ship.
fn is_interpreter(name: &str) -> bool {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.starts_with("ld-linux") || base.starts_with("ld64.so") || base.starts_with("ld-musl")
}

/// FFI0601: a dependency resolved outside the target and not in `allowed-external`.
fn external(s: &Subject<'_, '_>, out: &mut Vec<Finding>) {
    let (Some(allowed), Some(g)) = (s.allowed, s.graph) else {
        return;
    };
    let Some(root_node) = g.nodes.first() else {
        return;
    };
    let root = std::fs::canonicalize(s.root).unwrap_or_else(|_| s.root.to_path_buf());
    let elf = s.images.first().is_some_and(|i| i.format == Format::Elf);
    for e in &root_node.edges {
        let Some(t) = e.target else { continue };
        let node = &g.nodes[t];
        let host = std::fs::canonicalize(&node.host_path)
            .unwrap_or_else(|_| node.host_path.clone().into());
        if host.starts_with(&root) {
            continue; // shipped with the target
        }
        if is_interpreter(&e.name) {
            continue;
        }
        // dyld's and Windows' own system libraries are part of the OS, not an external dependency to ship.
        if !elf && node.system {
            continue;
        }
        let base = e.name.rsplit(['/', '\\']).next().unwrap_or(&e.name);
        let soname = node.soname.as_deref().unwrap_or(base);
        let ok = allowed.iter().any(|a| {
            a.eq_ignore_ascii_case(base) || a.eq_ignore_ascii_case(soname) || a == &e.name
        });
        if !ok {
            out.push(finding(
                Code::Policy(PolicyCode::ExternalLibrary),
                format!("{} ({})", s.display, e.name),
                format!("{} needs {}, an external library the policy does not allow", s.display, e.name),
                format!("only libraries shipped with the target, or allowed-external: {}", summarize(allowed, 8)),
                format!("{} resolved outside the target, to {}", e.name, node.path),
                "vendor the library into the wheel (auditwheel repair / delocate-wheel / delvewheel repair), link it \
                 statically, or add it to [policy] allowed-external if every target system has it",
            ));
        }
    }
}

fn summarize(items: &[String], n: usize) -> String {
    if items.len() <= n {
        items.join(", ")
    } else {
        format!("{}, … ({} in all)", items[..n].join(", "), items.len())
    }
}

/// FFI0602: GLIBC / GLIBCXX / CXXABI symbol versions above the limit of the policy, the presets or the wheel tag.
fn versions(s: &Subject<'_, '_>, p: &Policy, out: &mut Vec<Finding>) {
    for img in s.images {
        let Some(elf) = &img.elf else { continue };
        let arch = image_arch(&img.arch);
        for family in ["GLIBC", "GLIBCXX", "CXXABI"] {
            // Limits and where each comes from; the lowest applies.
            let mut limits: Vec<(Vec<u64>, String)> = Vec::new();
            let own = match family {
                "GLIBC" => &p.max_glibc,
                "GLIBCXX" => &p.max_glibcxx,
                _ => &p.max_cxxabi,
            };
            if let Some(v) = own {
                if let Some(n) = parse_version(v) {
                    limits.push((
                        n,
                        format!("[policy] max-{} = \"{v}\"", family.to_ascii_lowercase()),
                    ));
                }
            }
            let preset_limit = |pol: &ManylinuxPolicy| {
                pol.max_versions
                    .iter()
                    .find(|(a, _)| *a == arch)
                    .and_then(|(_, fams)| fams.iter().find(|(f, _)| *f == family))
                    .map(|(_, v)| v.to_string())
            };
            for pol in s.presets {
                if let Some(v) = preset_limit(pol) {
                    limits.push((
                        parse_version(&v).unwrap_or_default(),
                        format!("allowed-external preset {}", pol.name),
                    ));
                }
            }
            for t in s.tags {
                if family == "GLIBC" {
                    if let Some(v) = &t.max_glibc {
                        limits.push((
                            parse_version(v).unwrap_or_default(),
                            format!("wheel tag {}", t.tag),
                        ));
                    }
                } else if let Some(v) = t.manylinux.and_then(preset_limit) {
                    limits.push((
                        parse_version(&v).unwrap_or_default(),
                        format!("wheel tag {}", t.tag),
                    ));
                }
            }
            let Some(min) = limits.iter().map(|(v, _)| v.clone()).min() else {
                continue;
            };
            let sources: Vec<&str> = limits
                .iter()
                .filter(|(v, _)| *v == min)
                .map(|(_, s)| s.as_str())
                .collect();
            // The highest required version of this family across all needed libraries.
            let mut worst: Option<(Vec<u64>, String, String)> = None;
            for need in &elf.versions_required {
                for h in need.highest.iter().chain(need.versions.iter()) {
                    let Some((fam, ver)) = h.split_once('_') else {
                        continue;
                    };
                    if fam != family {
                        continue;
                    }
                    let Some(n) = parse_version(ver) else {
                        continue;
                    };
                    if worst.as_ref().is_none_or(|(w, _, _)| n > *w) {
                        worst = Some((n, h.clone(), need.file.clone()));
                    }
                }
            }
            if let Some((n, name, file)) = worst {
                if n > min {
                    let symbols: Vec<String> = img
                        .imports
                        .iter()
                        .filter(|i| i.version.as_ref().is_some_and(|v| v.name == name))
                        .filter_map(|i| i.name.as_deref().map(str::to_string))
                        .take(5)
                        .collect();
                    let limit = min.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
                    out.push(finding(
                        Code::Policy(PolicyCode::SymbolVersion),
                        format!("{} ({name})", s.display),
                        format!("{} needs {name} from {file}, newer than {family}_{limit}", s.display),
                        format!("{family} versions up to {family}_{limit} ({})", sources.join(", ")),
                        if symbols.is_empty() {
                            format!("{name} required from {file}")
                        } else {
                            format!("{name} required from {file} by {}", symbols.join(", "))
                        },
                        "build on (or in a container of) the oldest distribution you support, e.g. the manylinux \
                         image of the tag, or avoid the newer symbols; the library will not load on older systems",
                    ));
                }
            }
        }
    }
}

/// A search-path entry relative to the binary itself.
pub fn is_relative_entry(e: &str) -> bool {
    [
        "$ORIGIN",
        "${ORIGIN}",
        "@loader_path",
        "@rpath",
        "@executable_path",
    ]
    .iter()
    .any(|p| e.starts_with(p))
}

/// FFI0603: absolute (or cwd-relative) DT_RPATH / DT_RUNPATH / LC_RPATH entries.
fn rpaths(s: &Subject<'_, '_>, out: &mut Vec<Finding>) {
    let mut seen = std::collections::BTreeSet::new();
    for img in s.images {
        let kinds: [(&str, &Vec<String>); 2] = match img.format {
            Format::Macho => [("LC_RPATH", &img.rpath), ("", &img.runpath)],
            _ => [("DT_RPATH", &img.rpath), ("DT_RUNPATH", &img.runpath)],
        };
        for (kind, list) in kinds {
            // ELF entries are colon-separated lists; an LC_RPATH is one path.
            let entries: Vec<&str> = match img.format {
                Format::Elf => list.iter().flat_map(|e| e.split(':')).collect(),
                _ => list.iter().map(String::as_str).collect(),
            };
            for entry in entries {
                if entry.is_empty()
                    || is_relative_entry(entry)
                    || !seen.insert((kind, entry.to_string()))
                {
                    continue;
                }
                out.push(finding(
                    Code::Policy(PolicyCode::Rpath),
                    format!("{} ({kind} {entry})", s.display),
                    format!("{} has an absolute {kind} entry {entry}", s.display),
                    "search paths relative to the binary only ($ORIGIN, @loader_path, @rpath, @executable_path)".into(),
                    format!("{kind} entry `{entry}`"),
                    "a build-machine path either does not exist on users' machines or, worse, loads whatever is there; \
                     link with -Wl,-rpath,'$ORIGIN/…' (ELF) or -rpath @loader_path/… (macOS), or let auditwheel / \
                     delocate rewrite it",
                ));
            }
        }
    }
}

/// Names the linker defines in every ELF shared library.
const LINKER_NAMES: &[&str] = &[
    "_init",
    "_fini",
    "_edata",
    "_end",
    "__bss_start",
    "_DYNAMIC",
    "_GLOBAL_OFFSET_TABLE_",
];

/// FFI0604 (C++ / Rust exports), FFI0605 (export prefix), FFI0606 (libc clash): one finding per file and rule,
/// each symbol counted under the most specific rule only.
fn exports(s: &Subject<'_, '_>, p: &Policy, out: &mut Vec<Finding>) {
    let mut cxx = Vec::new();
    let mut rust = Vec::new();
    let mut clash = Vec::new();
    let mut prefix = Vec::new();
    let Some(img) = s.images.first() else { return };
    for e in &img.exports {
        let name = e.c_name.as_ref();
        if LINKER_NAMES.contains(&name) || (s.extension_module && name.starts_with("PyInit_")) {
            continue;
        }
        let shown = || match &e.demangled {
            Some(d) => format!("{name} ({d})"),
            None => name.to_string(),
        };
        match e.mangling {
            Mangling::Itanium | Mangling::Msvc if p.forbid_cxx_exports => cxx.push(shown()),
            Mangling::RustLegacy | Mangling::RustV0 if p.forbid_rust_exports => rust.push(shown()),
            _ if p.forbid_libc_clash && LIBC_NAMES.contains(&name) => clash.push(name.to_string()),
            _ => {
                if let Some(pre) = &p.export_prefix {
                    if !name.starts_with(pre.as_str()) && !e.mangling.is_mangled() {
                        prefix.push(name.to_string());
                    }
                }
            }
        }
    }
    let list = |v: &[String]| summarize(v, 10);
    if !cxx.is_empty() {
        out.push(finding(
            Code::Policy(PolicyCode::MangledExports),
            format!("{} ({})", s.display, cxx[0]),
            format!("{} exports {} C++ symbol(s) from a C API library", s.display, cxx.len()),
            "only extern \"C\" names (forbid-cxx-exports)".into(),
            list(&cxx),
            "build with -fvisibility=hidden and mark only the C API visible, or export through a version script / \
             .def file; C++ names change with the compiler and its ABI",
        ));
    }
    if !rust.is_empty() {
        out.push(finding(
            Code::Policy(PolicyCode::MangledExports),
            format!("{} ({})", s.display, rust[0]),
            format!(
                "{} exports {} Rust-mangled symbol(s) from a C API library",
                s.display,
                rust.len()
            ),
            "only #[no_mangle] extern \"C\" names (forbid-rust-exports)".into(),
            list(&rust),
            "build a `cdylib` (not a `dylib`): it exports only #[no_mangle] items",
        ));
    }
    if !clash.is_empty() {
        out.push(finding(
            Code::Policy(PolicyCode::LibcClash),
            format!("{} ({})", s.display, clash[0]),
            format!("{} exports {} name(s) of the C library", s.display, clash.len()),
            "no export that clashes with libc / libSystem / the CRT (forbid-libc-clash)".into(),
            list(&clash),
            "whichever library the loader binds first wins (symbol interposition): rename or hide these functions",
        ));
    }
    if !prefix.is_empty() {
        let pre = p.export_prefix.as_deref().unwrap_or("");
        out.push(finding(
            Code::Policy(PolicyCode::ExportPrefix),
            format!("{} ({})", s.display, prefix[0]),
            format!("{} exports {} name(s) without the prefix {pre}", s.display, prefix.len()),
            format!("every exported name starts with `{pre}` (export-prefix)"),
            list(&prefix),
            "hide internal functions (-fvisibility=hidden, a version script or .def file) or rename the public ones; \
             unprefixed names collide with other libraries in the same process",
        ));
    }
}

/// FFI0607 (universal slices) and FFI0608 (minimum macOS).
fn macho(s: &Subject<'_, '_>, p: &Policy, out: &mut Vec<Finding>) {
    let slices: Vec<&Image<'_>> = s
        .images
        .iter()
        .filter(|i| i.format == Format::Macho)
        .collect();
    if slices.is_empty() {
        return;
    }
    let have: Vec<String> = slices.iter().map(|i| image_arch(&i.arch)).collect();
    if !p.require_archs.is_empty() {
        let missing: Vec<&String> = p
            .require_archs
            .iter()
            .filter(|want| !have.contains(&image_arch(want)))
            .collect();
        if !missing.is_empty() {
            out.push(finding(
                Code::Policy(PolicyCode::MissingArch),
                s.display.to_string(),
                format!("{} lacks the architecture slice(s) {}", s.display, join(&missing)),
                format!("a universal binary with {} (require-archs)", p.require_archs.join(", ")),
                format!("slices: {}", slices.iter().map(|i| i.arch.as_str()).collect::<Vec<_>>().join(", ")),
                "build every architecture and merge with `lipo -create` (or ARCHFLAGS=\"-arch x86_64 -arch arm64\", \
                 cibuildwheel archs = universal2)",
            ));
        }
    }
    let mut limits: Vec<(Vec<u64>, String)> = Vec::new();
    if let Some(v) = &p.max_macos {
        limits.push((
            parse_version(v).unwrap_or_default(),
            format!("[policy] max-macos = \"{v}\""),
        ));
    }
    for t in s.tags {
        if let Some(v) = &t.max_macos {
            limits.push((
                parse_version(v).unwrap_or_default(),
                format!("wheel tag {}", t.tag),
            ));
        }
    }
    let Some(min) = limits.iter().map(|(v, _)| v.clone()).min() else {
        return;
    };
    let sources: Vec<&str> = limits
        .iter()
        .filter(|(v, _)| *v == min)
        .map(|(_, s)| s.as_str())
        .collect();
    let mut too_new = Vec::new();
    for img in &slices {
        for pl in img.macho.iter().flat_map(|m| m.platforms.iter()) {
            if !pl.platform.to_ascii_lowercase().contains("macos") {
                continue;
            }
            if parse_version(&pl.minos).is_some_and(|v| trim(v) > trim(min.clone())) {
                too_new.push(format!("{}: minos {}", img.arch, pl.minos));
            }
        }
    }
    if !too_new.is_empty() {
        let limit = min.iter().map(u64::to_string).collect::<Vec<_>>().join(".");
        out.push(finding(
            Code::Policy(PolicyCode::MinMacos),
            s.display.to_string(),
            format!("{} needs a newer macOS than {limit}", s.display),
            format!("minimum macOS at most {limit} ({})", sources.join(", ")),
            too_new.join(", "),
            "build with MACOSX_DEPLOYMENT_TARGET (or -mmacosx-version-min) no newer than the wheel tag; dyld refuses \
             to load it on older macOS",
        ));
    }
}

fn trim(mut v: Vec<u64>) -> Vec<u64> {
    while v.len() > 1 && v.last() == Some(&0) {
        v.pop();
    }
    v
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

/// FFI0609: the binary's format or architecture does not match the wheel's platform tag(s).
fn tags(s: &Subject<'_, '_>, out: &mut Vec<Finding>) {
    if s.tags.is_empty() {
        return;
    }
    let Some(first) = s.images.first() else {
        return;
    };
    let have: Vec<String> = s.images.iter().map(|i| image_arch(&i.arch)).collect();
    let ok = s
        .tags
        .iter()
        .any(|t| t.format == first.format && t.archs.iter().all(|a| have.iter().any(|h| h == a)));
    if !ok {
        let wanted: Vec<String> = s
            .tags
            .iter()
            .map(|t| format!("{} {} ({})", t.format.as_str(), t.archs.join("+"), t.tag))
            .collect();
        out.push(finding(
            Code::Policy(PolicyCode::PlatformTag),
            s.display.to_string(),
            format!("{} does not match the wheel's platform tag", s.display),
            wanted.join(" or "),
            format!("{} {}", first.format.as_str(), have.join("+")),
            "pip installs the wheel where the tag says and the import then fails: build for the tagged platform, or \
             fix the tag (cibuildwheel/auditwheel set it from the binaries)",
        ));
    }
}

/// FFI0610 executable stack, FFI0611 text relocations, FFI0612 no build-id (ELF).
fn hardening(s: &Subject<'_, '_>, sev: Severity, out: &mut Vec<Finding>) {
    let Some(img) = s.images.first() else { return };
    let Some(elf) = &img.elf else { return };
    let mut push = |code, message: String, expected: &str, found: String, hint: &str| {
        let mut f = finding(
            code,
            s.display.to_string(),
            message,
            expected.into(),
            found,
            hint,
        );
        f.severity = sev;
        out.push(f);
    };
    match gnu_stack(s.host) {
        Some(Some(flags)) if flags & 1 != 0 => push(
            Code::Policy(PolicyCode::ExecStack),
            format!("{} asks for an executable stack", s.display),
            "PT_GNU_STACK without PF_X",
            format!("PT_GNU_STACK flags {}", pflags(flags)),
            "loading it makes every thread stack of the process executable, and glibc >= 2.41 refuses to dlopen it; \
             link with -Wl,-z,noexecstack and add `.section .note.GNU-stack,\"\",@progbits` to assembly files",
        ),
        Some(None) => push(
            Code::Policy(PolicyCode::ExecStack),
            format!("{} has no PT_GNU_STACK: the loader assumes an executable stack", s.display),
            "PT_GNU_STACK without PF_X",
            "no PT_GNU_STACK program header".into(),
            "link with -Wl,-z,noexecstack",
        ),
        _ => {}
    }
    if elf.flags.iter().any(|f| f == "TEXTREL") || has_dt_textrel(s.host) {
        push(
            Code::Policy(PolicyCode::TextRel),
            format!("{} has text relocations", s.display),
            "no DT_TEXTREL / DF_TEXTREL",
            "DT_TEXTREL / DF_TEXTREL set: the loader must write to code pages".into(),
            "compile every object with -fPIC; SELinux and hardened kernels refuse writable code",
        );
    }
    if elf.build_id.is_none() {
        push(
            Code::Policy(PolicyCode::NoBuildId),
            format!("{} has no build-id", s.display),
            "an NT_GNU_BUILD_ID note",
            "none".into(),
            "link with -Wl,--build-id so crash reports and debuginfod can find the matching debug info",
        );
    }
}

fn pflags(f: u32) -> String {
    let mut s = String::new();
    s.push(if f & 4 != 0 { 'R' } else { '-' });
    s.push(if f & 2 != 0 { 'W' } else { '-' });
    s.push(if f & 1 != 0 { 'E' } else { '-' });
    s
}

fn with_elf<T>(host: &Path, f: impl FnOnce(&goblin::elf::Elf<'_>) -> T) -> Option<T> {
    let data = std::fs::read(host).ok()?;
    let elf = goblin::elf::Elf::parse(&data).ok()?;
    Some(f(&elf))
}

/// `Some(Some(flags))` for PT_GNU_STACK, `Some(None)` when absent, `None` when unreadable.
fn gnu_stack(host: &Path) -> Option<Option<u32>> {
    with_elf(host, |elf| {
        elf.program_headers
            .iter()
            .find(|ph| ph.p_type == goblin::elf::program_header::PT_GNU_STACK)
            .map(|ph| ph.p_flags)
    })
}

fn has_dt_textrel(host: &Path) -> bool {
    with_elf(host, |elf| {
        elf.dynamic.as_ref().is_some_and(|d| {
            d.dyns.iter().any(|e| {
                e.d_tag == goblin::elf::dynamic::DT_TEXTREL
                    || (e.d_tag == goblin::elf::dynamic::DT_FLAGS
                        && e.d_val & goblin::elf::dynamic::DF_TEXTREL != 0)
            })
        })
    })
    .unwrap_or(false)
}
