//! The gate policies (FFI06xx): each looks at one binary's images, its resolved dependency graph and, for a
//! wheel, the platform tags, and returns findings with a location, what was expected, what was found and a hint.

use crate::report::codes::{Code, PolicyCode};
use std::path::Path;

use crate::binary::names::Mangling;
use crate::binary::{Format, Image};
use crate::loader::Graph;
use crate::report::{Finding, Severity};

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
    /// What the interpreter of the target's extension modules exports (a `.pyd`'s imports from `python3X.dll`
    /// are checked against it).
    pub python: Option<&'a super::python::Exports>,
    pub python_abi: Option<&'a super::python::PythonAbi>,
}

/// A dotted version as numbers (`2.17` → [2, 17]).
pub fn parse_version(v: &str) -> Option<Vec<u64>> {
    let parts: Option<Vec<u64>> = v.trim().split('.').map(|p| p.parse().ok()).collect();
    parts.filter(|p| !p.is_empty())
}

fn finding(
    code: Code,
    location: impl Into<crate::report::Location>,
    message: String,
    expected: String,
    found: String,
    hint: &str,
) -> Finding {
    Finding {
        code,
        severity: Severity::Error,
        location: location.into(),
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
    msvc_runtime(s, &mut out);
    python_dll_imports(s, &mut out);
    versions(s, p, &mut out);
    rpaths(s, p.relative_rpath, &mut out);
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

/// FFI0601: a dependency resolved outside the target and not in `allowed-external` (the tag's policy, the
/// config's list), for every shipped object of the graph (a root and the vendored libraries it loads).
fn external(s: &Subject<'_, '_>, out: &mut Vec<Finding>) {
    let (Some(allowed), Some(g)) = (s.allowed, s.graph) else {
        return;
    };
    let root = std::fs::canonicalize(s.root).unwrap_or_else(|_| s.root.to_path_buf());
    let canon = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| p.into());
    let elf = s.images.first().is_some_and(|i| i.format == Format::Elf);
    for (i, from) in g.nodes.iter().enumerate() {
        let shipped = i == 0 || canon(&from.host_path).starts_with(&root);
        if !shipped {
            continue;
        }
        let who = if i == 0 {
            s.display.to_string()
        } else {
            from.path.clone()
        };
        for e in &from.edges {
            let Some(t) = e.target else { continue };
            let node = &g.nodes[t];
            if canon(&node.host_path).starts_with(&root) {
                continue; // shipped with the target
            }
            if is_interpreter(&e.name) {
                continue;
            }
            // dyld's and Windows' own system libraries are part of the OS, not an external dependency to ship;
            // python.exe has loaded its own DLL; the MSVC runtime is FFI0614.
            if !elf
                && (node.system || super::is_python_dll(&e.name) || super::is_msvc_runtime(&e.name))
            {
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
                    format!("{who} ({})", e.name),
                    format!("{who} needs {}, an external library the policy does not allow", e.name),
                    format!("only libraries shipped with the target, or allowed-external: {}", summarize(allowed, 8)),
                    format!("{} resolved outside the target, to {}", e.name, node.path),
                    "vendor the library into the wheel (auditwheel repair / delocate-wheel / delvewheel repair), link it \
                     statically, or add it to [policy] allowed-external if every target system has it",
                ));
            }
        }
    }
}

/// FFI0614: an MSVC runtime DLL needed but not shipped with the target.
fn msvc_runtime(s: &Subject<'_, '_>, out: &mut Vec<Finding>) {
    let Some(g) = s.graph else { return };
    let root = std::fs::canonicalize(s.root).unwrap_or_else(|_| s.root.to_path_buf());
    let canon = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| p.into());
    let mut missing: Vec<(String, String)> = Vec::new();
    for (i, from) in g.nodes.iter().enumerate() {
        if i != 0 && !canon(&from.host_path).starts_with(&root) {
            continue;
        }
        let who = if i == 0 {
            s.display.to_string()
        } else {
            from.path.clone()
        };
        for e in &from.edges {
            if !super::is_msvc_runtime(&e.name) {
                continue;
            }
            // python.exe (python.org's CPython >= 3.8) has already loaded VCRUNTIME140.dll and VCRUNTIME140_1.dll
            // when it imports an extension module: only the other runtime DLLs are a gap.
            let lower = e.name.to_ascii_lowercase();
            if s.python.is_some() && (lower == "vcruntime140.dll" || lower == "vcruntime140_1.dll")
            {
                continue;
            }
            let shipped = e.target.is_some_and(|t| {
                !g.nodes[t].host_path.is_empty() && canon(&g.nodes[t].host_path).starts_with(&root)
            });
            if !shipped && !missing.iter().any(|(w, n)| *w == who && *n == e.name) {
                missing.push((who.clone(), e.name.clone()));
            }
        }
    }
    for (who, name) in missing {
        let mut f = finding(
            Code::Policy(PolicyCode::MsvcRuntime),
            format!("{who} ({name})"),
            format!("{who} needs the MSVC runtime DLL {name}, which the wheel does not ship"),
            format!("{name} shipped in the wheel, or the Visual C++ Redistributable on every target machine"),
            format!("{name} not in the wheel"),
            "python.org's CPython ships VCRUNTIME140.dll (and VCRUNTIME140_1.dll since 3.8), so this mostly works; \
             MSVCP140*.dll and other interpreters (conda, embedded) may lack them: `delvewheel repair` can vendor \
             them (--include), or link the runtime statically (/MT)",
        );
        f.severity = Severity::Warning;
        out.push(f);
    }
}

/// FFI0302 for a `.pyd`: its imports from `python3X.dll` / `python3.dll` must be exported by the tagged
/// interpreter (the Windows loader model has no file of the DLL to check them against).
fn python_dll_imports(s: &Subject<'_, '_>, out: &mut Vec<Finding>) {
    let (Some(py), true) = (s.python, s.extension_module) else {
        return;
    };
    let abi = s
        .python_abi
        .map(|a| a.describe())
        .unwrap_or_else(|| "the interpreter".into());
    for img in s.images.iter().filter(|i| i.format == Format::Pe) {
        for imp in &img.imports {
            let crate::binary::ImportSource::Library { library } = &imp.source else {
                continue;
            };
            if !super::is_python_dll(library) {
                continue;
            }
            let Some(name) = imp.name.as_deref() else {
                continue;
            };
            if py.has(name) {
                continue;
            }
            out.push(finding(
                Code::Load(crate::report::codes::LoadCode::UndefinedSymbol),
                crate::report::Location::symbol(s.display.to_string(), name),
                format!("undefined symbol {name} (from {library}): {abi} does not export it"),
                format!("a C API name {abi} exports ({})", py.source),
                format!("{name} is not in it (a private or removed API, or a newer one)"),
                "build the extension module for the tagged Python, use only the public C API, or fix the wheel's \
                 cp3XY / abi3 tag",
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

/// How risky a search-path entry is: `Some(true)` anyone can write there or it depends on the current directory
/// (error), `Some(false)` another absolute path (a leaked build path: warning), `None` relative to the binary.
pub fn rpath_risk(entry: &str) -> Option<bool> {
    if entry.is_empty() {
        return Some(true);
    }
    if is_relative_entry(entry) {
        return None;
    }
    let e = entry.replace('\\', "/");
    let absolute = e.starts_with('/') || (e.len() > 2 && e.as_bytes()[1] == b':');
    if !absolute {
        return Some(true); // relative to the process's current directory
    }
    let shared = [
        "/tmp",
        "/var/tmp",
        "/dev/shm",
        "/home",
        "/Users",
        "/private/tmp",
        "/private/var/tmp",
    ];
    let risky = shared
        .iter()
        .any(|p| e == *p || e.starts_with(&format!("{p}/")))
        || e.split('/').any(|c| c == "..") && !e.starts_with("$ORIGIN");
    Some(risky)
}

/// FFI0603: DT_RPATH / DT_RUNPATH / LC_RPATH entries by risk (on by default): world-writable or cwd-relative entries
/// are errors, other absolute entries warnings (errors with `relative-rpath = true`).
fn rpaths(s: &Subject<'_, '_>, strict: bool, out: &mut Vec<Finding>) {
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
                let Some(risky) = rpath_risk(entry) else {
                    continue;
                };
                if !seen.insert((kind, entry.to_string())) {
                    continue;
                }
                let why = if entry.is_empty() {
                    "an empty entry: the loader searches the current directory"
                } else if risky && !entry.starts_with('/') && !entry.contains(':') {
                    "relative to the current directory of the process, not to the binary"
                } else if risky {
                    "a directory other users can write to: anyone there can plant a library the loader will load"
                } else {
                    "an absolute build path: absent on users' machines, or holding something else"
                };
                let mut f = finding(
                    Code::Policy(PolicyCode::Rpath),
                    format!("{} ({kind} {entry})", s.display),
                    format!("{} has the {kind} entry `{entry}`: {why}", s.display),
                    "search paths relative to the binary only ($ORIGIN, @loader_path, @rpath, @executable_path)".into(),
                    format!("{kind} entry `{entry}`"),
                    "link with -Wl,-rpath,'$ORIGIN/…' (ELF) or -rpath @loader_path/… (macOS), or let auditwheel / \
                     delocate rewrite it; Fedora's check-rpaths and Debian's lintian (custom-library-search-path) \
                     reject such entries in packages",
                );
                if !risky && !strict {
                    f.severity = Severity::Warning;
                }
                out.push(f);
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
    // arm64 macOS starts at 11.0: pip installs a `macosx_10_x_universal2` wheel there, so an arm64 slice is judged
    // against max(tag, 11.0) (a config's max-macos still applies as written).
    let tag_min = s
        .tags
        .iter()
        .filter_map(|t| t.max_macos.as_deref().and_then(parse_version))
        .min();
    let mut too_new = Vec::new();
    for img in &slices {
        let mut limit = min.clone();
        if image_arch(&img.arch) == "aarch64"
            && tag_min.as_ref() == Some(&min)
            && trim(min.clone()) < vec![11]
        {
            limit = vec![11, 0];
        }
        for pl in img.macho.iter().flat_map(|m| m.platforms.iter()) {
            if !pl.platform.to_ascii_lowercase().contains("macos") {
                continue;
            }
            if parse_version(&pl.minos).is_some_and(|v| trim(v) > trim(limit.clone())) {
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
            "build with MACOSX_DEPLOYMENT_TARGET (or -mmacosx-version-min) no newer than the wheel tag, or raise the \
             tag (delocate-wheel does that since 0.11): pip installs the wheel on every macOS the tag names, where \
             the binary may use symbols the older system lacks",
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
    match Some(elf.gnu_stack) {
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
    if elf.flags.iter().any(|f| f == "TEXTREL") || elf.dt_textrel {
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

#[cfg(test)]
mod tests {
    use super::rpath_risk;

    #[test]
    fn rpath_entries_by_risk() {
        // Relative to the binary: fine.
        assert_eq!(rpath_risk("$ORIGIN/../pkg.libs"), None);
        assert_eq!(rpath_risk("@loader_path/../.dylibs"), None);
        // World-writable, cwd-relative or empty: errors.
        for e in [
            "",
            "/tmp/build/lib",
            "/var/tmp/x",
            "/home/ci/lib",
            "/Users/me/lib",
            "lib",
            "./lib",
            "/tmp",
        ] {
            assert_eq!(rpath_risk(e), Some(true), "{e:?}");
        }
        // Other absolute paths: a leaked build path, a warning.
        assert_eq!(rpath_risk("/opt/build/lib"), Some(false));
        assert_eq!(rpath_risk("/usr/local/lib"), Some(false));
        assert_eq!(rpath_risk("C:\\build\\lib"), Some(false));
        assert_eq!(rpath_risk("/tmpfoo/lib"), Some(false));
    }
}
