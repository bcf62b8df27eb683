//! The gate's view of a target's Python code: the libraries its `.py` files load at run time (ctypes, cffi), read
//! statically by [`crate::bindings::python`] and resolved as installed for the wheel's platform. A library next to
//! the module (`os.path.join(os.path.dirname(__file__), …)`) or named like a shipped one is shipped: it becomes a
//! root of the load graph, and the binding's declarations are checked against it. A name the platform policy
//! provides (`find_library("c")`, `libm.so.6`, a Windows system DLL) is fine. Anything else cannot load where the
//! wheel is installed: FFI0717 at the `.py` file's line. Names for another platform's loader (`foo.dll` in a
//! manylinux wheel) are not judged.

use std::path::{Component, Path, PathBuf};

use crate::binary::Format;
use crate::bindings::model::{Binding, LibName, Loader};
use crate::check::binding::{base, short_name};
use crate::report::codes::{BindingCode, Code};
use crate::report::{Finding, Severity};

/// What the scan found.
#[derive(Default)]
pub struct PyLoads {
    /// Indices of shipped binaries that Python code loads: roots of the load graph.
    pub roots: Vec<usize>,
    /// (binding, index of the shipped binary it loads): its declarations are checked against that library.
    pub checks: Vec<(Binding, usize)>,
    /// FFI0717 findings.
    pub findings: Vec<Finding>,
}

/// Whether a library name is meant for `format`'s loader (`foo.dll` is not, in an ELF wheel).
fn for_platform(name: &str, format: Option<Format>) -> bool {
    let l = base(name).to_ascii_lowercase();
    let dll = l.ends_with(".dll") || l.ends_with(".pyd");
    let dylib = l.contains(".dylib") || l.ends_with(".framework");
    let so = l.ends_with(".so") || l.contains(".so.");
    match format {
        Some(Format::Elf) => !dll && !dylib,
        Some(Format::Macho) => !dll && !so,
        Some(Format::Pe) => !so && !dylib,
        _ => true,
    }
}

/// `a/b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// The shipped binary a file name denotes (by file name, or a soname-like prefix: `libfoo.so` for
/// `libfoo.so.1`).
fn shipped_by_name(name: &str, bins: &[(PathBuf, String)]) -> Option<usize> {
    let n = base(name);
    bins.iter().position(|(h, _)| {
        let b = h
            .file_name()
            .map(|f| f.to_string_lossy())
            .unwrap_or_default();
        b == n || (b.starts_with(n) && b[n.len()..].starts_with('.'))
    })
}

/// Scan `sources` (path, text). `host_of` maps a source path to where it is on disk (its directory is the
/// module's `__file__` directory), `display_of` to how reports name it; `provides` says whether the platform
/// policy provides a library file name.
pub fn scan(
    sources: &[(String, String)],
    host_of: impl Fn(&str) -> PathBuf,
    display_of: impl Fn(&str) -> String,
    bins: &[(PathBuf, String)],
    format: Option<Format>,
    provides: impl Fn(&str) -> bool,
) -> PyLoads {
    let mut out = PyLoads::default();
    let canon_bins: Vec<PathBuf> = bins
        .iter()
        .map(|(h, _)| std::fs::canonicalize(h).unwrap_or_else(|_| normalize(h)))
        .collect();
    for (path, text) in sources {
        // Only files that load something natively are read in full.
        if ![
            "CDLL",
            "cdll",
            "WinDLL",
            "windll",
            "OleDLL",
            "PyDLL",
            "dlopen",
            "LoadLibrary",
        ]
        .iter()
        .any(|k| text.contains(k))
        {
            continue;
        }
        // Tests and examples are not run when the package is imported.
        let lower = path.replace('\\', "/").to_ascii_lowercase();
        let file = base(&lower);
        if [
            "/tests/",
            "/test/",
            "/testing/",
            "/examples/",
            "/_examples/",
            "/example/",
        ]
        .iter()
        .any(|d| lower.contains(d) || lower.starts_with(&d[1..]))
            || file.starts_with("test_")
            || file == "conftest.py"
        {
            continue;
        }
        let display = display_of(path);
        let Ok(binding) = crate::bindings::python::parse_binding(&display, text) else {
            continue;
        };
        let dir = host_of(path)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let mut checked: Vec<usize> = Vec::new();
        for lib in &binding.libraries {
            // `windll` / `WinDLL` exist only on Windows.
            if matches!(lib.loader, Loader::WinDll | Loader::OleDll)
                && format.is_some_and(|f| f != Format::Pe)
            {
                continue;
            }
            let mut relevant = false;
            let mut ok = false;
            let mut shipped = Vec::new();
            let mut tried = Vec::new();
            for n in &lib.names {
                match n {
                    LibName::ModuleRelative { path } => {
                        if !for_platform(path, format) {
                            continue;
                        }
                        relevant = true;
                        let p = normalize(&dir.join(path));
                        let c = std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone());
                        match canon_bins.iter().position(|b| *b == c) {
                            Some(i) => {
                                ok = true;
                                shipped.push(i);
                            }
                            None => tried.push(format!("{path} next to the module")),
                        }
                    }
                    LibName::Literal { name } => {
                        if !for_platform(name, format) {
                            continue;
                        }
                        relevant = true;
                        if let Some(i) = shipped_by_name(name, bins) {
                            ok = true;
                            shipped.push(i);
                            continue;
                        }
                        let with_ext = if format == Some(Format::Pe) && !base(name).contains('.') {
                            format!("{name}.dll")
                        } else {
                            name.clone()
                        };
                        if provides(&with_ext) || provides(base(name)) {
                            ok = true;
                        } else {
                            tried.push(name.clone());
                        }
                    }
                    LibName::FindLibrary { name } => {
                        relevant = true;
                        if let Some(i) = bins.iter().position(|(h, _)| {
                            short_name(
                                &h.file_name()
                                    .map(|f| f.to_string_lossy())
                                    .unwrap_or_default(),
                            ) == name
                        }) {
                            ok = true;
                            shipped.push(i);
                            continue;
                        }
                        let candidates = [
                            format!("lib{name}.so"),
                            format!("{name}.dll"),
                            format!("lib{name}.dylib"),
                        ];
                        if candidates.iter().any(|c| provides(c)) || provides_short(&provides, name)
                        {
                            ok = true;
                        } else {
                            tried.push(format!("find_library({name:?})"));
                        }
                    }
                    LibName::MainProgram | LibName::Unknown { .. } => {}
                }
            }
            for i in shipped {
                if !out.roots.contains(&i) {
                    out.roots.push(i);
                }
                if !checked.contains(&i) {
                    checked.push(i);
                }
            }
            if relevant && !ok {
                out.findings.push(Finding {
                    code: Code::Binding(BindingCode::RuntimeLibrary),
                    // A load under a platform/version/exists check or in a try: expected to fail somewhere.
                    severity: if lib.guarded { Severity::Info } else { Severity::Error },
                    location: lib.loc.location(),
                    message: format!(
                        "{} loads {} at run time, which the target does not ship and the platform does not provide",
                        display,
                        tried.join(" or ")
                    ),
                    expected: "a library shipped in the target (next to the module) or allowed by the platform \
                               policy"
                        .into(),
                    found: format!("{}({})", lib.loader.spelling(), tried.join(", ")),
                    hint: "ship the library in the wheel and load it by a path relative to the module \
                           (os.path.join(os.path.dirname(__file__), NAME)), or declare it in [policy] \
                           allowed-external if the platform really provides it"
                        .into(),
                });
            }
        }
        for i in checked {
            out.checks.push((binding.clone(), i));
        }
    }
    out
}

/// Whether a provided library has this `find_library` short name (`c` → `libc.so.6`).
fn provides_short(provides: &impl Fn(&str) -> bool, name: &str) -> bool {
    [
        format!("lib{name}.so.6"),
        format!("lib{name}.so.1"),
        format!("lib{name}.so.2"),
        format!("lib{name}.so.0"),
    ]
    .iter()
    .any(|c| provides(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_names() {
        assert!(for_platform("libz.so.1", Some(Format::Elf)));
        assert!(!for_platform("zlib1.dll", Some(Format::Elf)));
        assert!(!for_platform("libz.dylib", Some(Format::Pe)));
        assert!(for_platform("libz.1.dylib", Some(Format::Macho)));
        assert_eq!(normalize(Path::new("a/b/../c")), PathBuf::from("a/c"));
    }
}
