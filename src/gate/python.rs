//! The interpreter provides the C API: undefined symbols of a Python extension module bind to the interpreter that
//! imports it (the `python` executable or its `libpython` are in the loader's global scope on Linux; macOS
//! extension modules are linked with `-undefined dynamic_lookup`; a `.pyd` imports from `python3X.dll`, which
//! `python.exe` has already loaded). Which names each CPython version exports is committed data
//! (`data/python-exports/cp3XY.txt`: one name a line; `abi3.txt`: `MIN_VERSION NAME`, the stable ABI), or, with
//! `--python PATH`, read from a real interpreter's executable and its libpython.

use std::collections::HashSet;

use serde::Serialize;

/// One line-per-name export list per CPython minor version.
const VERSIONS: &[(u32, &str)] = &[
    (8, include_str!("../../data/python-exports/cp38.txt")),
    (9, include_str!("../../data/python-exports/cp39.txt")),
    (10, include_str!("../../data/python-exports/cp310.txt")),
    (11, include_str!("../../data/python-exports/cp311.txt")),
    (12, include_str!("../../data/python-exports/cp312.txt")),
    (13, include_str!("../../data/python-exports/cp313.txt")),
    (14, include_str!("../../data/python-exports/cp314.txt")),
];

/// The stable ABI: `3.2 PyArg_Parse` = the first version that has the name, then the name.
const ABI3: &str = include_str!("../../data/python-exports/abi3.txt");

/// Which interpreter an extension module is built for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum PythonAbi {
    /// `cp3XY`: the full C API of CPython 3.XY.
    Cpython { minor: u32 },
    /// `abi3`: the stable ABI as of CPython 3.`min_minor` (the wheel's `cp3X` python tag).
    Abi3 { min_minor: u32 },
}

impl PythonAbi {
    /// `CPython 3.12`, `the stable ABI (abi3) of CPython 3.9`.
    pub fn describe(&self) -> String {
        match self {
            PythonAbi::Cpython { minor } => format!("CPython 3.{minor}"),
            PythonAbi::Abi3 { min_minor } => {
                format!("the stable ABI (abi3) of CPython 3.{min_minor}")
            }
        }
    }
}

/// `cp312` → 12.
fn cp_minor(tag: &str) -> Option<u32> {
    tag.strip_prefix("cp3")?.parse().ok()
}

/// The interpreter ABI of a wheel from its python and ABI tags: `cp312-cp312` → CPython 3.12; `cp39-abi3` → the
/// stable ABI of 3.9; `cp312-none` → CPython 3.12.
pub fn from_wheel_tags(python_tags: &[String], abi_tags: &[String]) -> Option<PythonAbi> {
    if abi_tags.iter().any(|a| a == "abi3") {
        let min = python_tags
            .iter()
            .filter_map(|t| cp_minor(t))
            .min()
            .unwrap_or(2);
        return Some(PythonAbi::Abi3 { min_minor: min });
    }
    let minor = abi_tags
        .iter()
        .filter_map(|t| cp_minor(t.trim_end_matches(['d', 'm', 'u', 't'])))
        .chain(python_tags.iter().filter_map(|t| cp_minor(t)))
        .max()?;
    Some(PythonAbi::Cpython { minor })
}

/// The interpreter ABI from an extension module's file name: `x.cpython-312-x86_64-linux-gnu.so`, `x.cp312-win_amd64.pyd`
/// → CPython 3.12; `x.abi3.so` → the stable ABI (version unknown: 3.2).
pub fn from_filename(name: &str) -> Option<PythonAbi> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    if base.contains(".abi3.") {
        return Some(PythonAbi::Abi3 { min_minor: 2 });
    }
    let tail = match base.split_once(".cpython-") {
        Some((_, t)) => t,
        None => base.split_once(".cp")?.1,
    };
    let digits: String = tail.chars().take_while(char::is_ascii_digit).collect();
    cp_minor(&format!("cp{digits}")).map(|minor| PythonAbi::Cpython { minor })
}

/// The names an interpreter exports.
#[derive(Debug, Clone)]
pub struct Exports {
    pub names: HashSet<String>,
    /// Where the list comes from (`committed data for CPython 3.12`, `/usr/bin/python3.12`).
    pub source: String,
}

impl Exports {
    /// Whether the interpreter defines `name` (a Mach-O leading underscore is dropped).
    pub fn has(&self, name: &str) -> bool {
        self.names.contains(name)
            || name
                .strip_prefix('_')
                .is_some_and(|n| self.names.contains(n))
    }
}

fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
}

/// Stable-ABI names up to CPython 3.`max_minor`; `windows`: with the `MS_WINDOWS`-only ones (a third column names
/// the condition under which CPython defines the name).
fn abi3_names(max_minor: u32, windows: bool) -> impl Iterator<Item = String> {
    lines(ABI3).filter_map(move |l| {
        let mut it = l.split_whitespace();
        let minor: u32 = it.next()?.strip_prefix("3.")?.parse().ok()?;
        let name = it.next()?;
        let windows_only = it.next().is_some_and(|c| c == "MS_WINDOWS");
        (minor <= max_minor && (windows || !windows_only)).then(|| name.to_string())
    })
}

/// The committed export list for an ABI (`None` for a CPython version without data). `windows`: the interpreter
/// runs on Windows (the lists come from Linux builds; the stable ABI's `MS_WINDOWS` names are added).
pub fn committed(abi: &PythonAbi, windows: bool) -> Option<Exports> {
    match abi {
        PythonAbi::Cpython { minor } => {
            let text = VERSIONS.iter().find(|(m, _)| m == minor)?.1;
            let mut names: HashSet<String> = lines(text).map(str::to_string).collect();
            if windows {
                names.extend(abi3_names(*minor, true));
            }
            Some(Exports {
                names,
                source: format!("committed export list of CPython 3.{minor}"),
            })
        }
        PythonAbi::Abi3 { min_minor } => {
            let names = abi3_names(*min_minor, windows).collect();
            Some(Exports {
                names,
                source: format!("committed stable ABI list (abi3) up to CPython 3.{min_minor}"),
            })
        }
    }
}

/// The names a real interpreter provides: its executable's exports and those of the libpython it loads.
pub fn from_interpreter(path: &std::path::Path) -> Result<Exports, crate::error::InputError> {
    let shown = path.display().to_string();
    let mut names = HashSet::new();
    let mut files = vec![shown.clone()];
    if let Ok((g, _)) = crate::loader::resolve(&shown, &crate::loader::LoaderEnv::default()) {
        for n in &g.nodes {
            let base = n
                .path
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or(&n.path)
                .to_ascii_lowercase();
            if base.starts_with("libpython")
                || (base.starts_with("python3") && base.ends_with(".dll"))
            {
                files.push(n.host_path.clone());
            }
        }
    }
    for f in &files {
        let m = crate::binary::Mapped::open(f)?;
        let imgs = crate::binary::read_images(
            f,
            m.bytes(),
            None,
            crate::binary::ReadOptions { demangle: false },
        )?;
        for img in &imgs {
            names.extend(img.exports.iter().map(|e| e.name.to_string()));
        }
    }
    Ok(Exports {
        names,
        source: files.join(" + "),
    })
}

/// Whether a name belongs to the CPython C API namespace (`Py*`, `_Py*`, `PyExc_*`; Mach-O with a leading `_`).
pub fn is_python_api(name: &str) -> bool {
    let n = name
        .strip_prefix('_')
        .filter(|n| n.starts_with("Py") || n.starts_with("_Py"))
        .unwrap_or(name);
    n.starts_with("Py") || n.starts_with("_Py")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_from_tags_and_names() {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            from_wheel_tags(&s(&["cp312"]), &s(&["cp312"])),
            Some(PythonAbi::Cpython { minor: 12 })
        );
        assert_eq!(
            from_wheel_tags(&s(&["cp39"]), &s(&["abi3"])),
            Some(PythonAbi::Abi3 { min_minor: 9 })
        );
        assert_eq!(
            from_wheel_tags(&s(&["cp312"]), &s(&["none"])),
            Some(PythonAbi::Cpython { minor: 12 })
        );
        assert_eq!(from_wheel_tags(&s(&["py3"]), &s(&["none"])), None);
        assert_eq!(
            from_filename("pkg/_x.cpython-313-x86_64-linux-gnu.so"),
            Some(PythonAbi::Cpython { minor: 13 })
        );
        assert_eq!(
            from_filename("pkg/_x.cp310-win_amd64.pyd"),
            Some(PythonAbi::Cpython { minor: 10 })
        );
        assert_eq!(
            from_filename("pkg/_x.abi3.so"),
            Some(PythonAbi::Abi3 { min_minor: 2 })
        );
        assert_eq!(from_filename("pkg/_x.so"), None);
    }

    #[test]
    fn committed_lists_load() {
        let e = committed(&PythonAbi::Cpython { minor: 12 }, false).unwrap();
        assert!(
            e.has("PyLong_FromLong")
                && e.has("_PyLong_FromLong") == e.names.contains("PyLong_FromLong")
        );
        let a = committed(&PythonAbi::Abi3 { min_minor: 9 }, false).unwrap();
        assert!(a.has("PyArg_ParseTuple") && !a.has("PyExc_WindowsError"));
        let w = committed(&PythonAbi::Cpython { minor: 8 }, true).unwrap();
        assert!(w.has("PyExc_WindowsError") && w.has("PyErr_SetFromWindowsErr"));
        assert!(
            is_python_api("_PyExc_OSError")
                && is_python_api("PyExc_OSError")
                && !is_python_api("memcpy")
        );
    }
}
