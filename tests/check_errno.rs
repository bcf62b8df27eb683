//! FFI0718: `ctypes.get_errno()` read where no library is loaded with `use_errno=True`. Oracle: CPython's own ctypes
//! runs each binding (written here, calling `close(-1)` on libc, which fails with EBADF) and prints what
//! `get_errno()` returned: the finding must be reported exactly for the bindings that read 0. `get_last_error()`
//! exists only on Windows, so its variants are checked statically only.

mod common;

use std::path::Path;

use common::{ffi_command, findings, oracle, run_json, system_lib};

/// (name, the loading line, the read, whether FFI0718 is expected).
const VARIANTS: &[(&str, &str, &str, bool)] = &[
    (
        "plain",
        "libc = ctypes.CDLL(LIBC)",
        "ctypes.get_errno()",
        true,
    ),
    (
        "use_errno",
        "libc = ctypes.CDLL(LIBC, use_errno=True)",
        "ctypes.get_errno()",
        false,
    ),
    (
        "use_errno_false",
        "libc = ctypes.CDLL(LIBC, use_errno=False)",
        "ctypes.get_errno()",
        true,
    ),
    (
        "kwargs",
        "opts = {\"use_errno\": True}\nlibc = ctypes.CDLL(LIBC, **opts)",
        "ctypes.get_errno()",
        false,
    ),
    (
        "star_import",
        "from ctypes import *\nlibc = CDLL(LIBC)",
        "get_errno()",
        true,
    ),
    (
        "imported_name",
        "from ctypes import get_errno\nlibc = ctypes.CDLL(LIBC)",
        "get_errno()",
        true,
    ),
];

fn binding(load: &str, read: &str) -> String {
    format!(
        "import ctypes\n\
         LIBC = \"libc.so.6\"\n\
         {load}\n\
         libc.close.argtypes = [ctypes.c_int]\n\
         libc.close.restype = ctypes.c_int\n\
         \n\
         def close_bad():\n\
         \x20   if libc.close(-1) != 0:\n\
         \x20       return {read}\n\
         \x20   return None\n\
         \n\
         if __name__ == \"__main__\":\n\
         \x20   print(close_bad())\n"
    )
}

fn codes(lib: &Path, py: &Path) -> Vec<(String, String)> {
    let run = run_json(ffi_command(), "check", [lib.as_os_str(), py.as_os_str()]);
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    findings(&run.doc)
        .into_iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap_or_default().to_string(),
                f["location"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn get_errno_without_use_errno_is_reported_exactly_where_cpython_reads_zero() {
    let Some(libc) = system_lib("libc.so.6", |n| n == "libc.so.6") else {
        return;
    };
    let python = oracle("python3");
    let dir = tempfile::tempdir().unwrap();
    for &(name, load, read, expected) in VARIANTS {
        let py = dir.path().join(format!("{name}.py"));
        std::fs::write(&py, binding(load, read)).unwrap();
        let found: Vec<_> = codes(&libc, &py)
            .into_iter()
            .filter(|(c, _)| c == "FFI0718")
            .collect();
        assert_eq!(!found.is_empty(), expected, "{name}: {found:?}");
        if let Some((_, loc)) = found.first() {
            // At the read: the `return` line of close_bad.
            let line = binding(load, read)
                .lines()
                .position(|l| l.contains(read) && l.contains("return"))
                .unwrap()
                + 1;
            assert!(loc.contains(&format!("{name}.py:{line}:")), "{name}: {loc}");
        }
        if let Some(python) = &python {
            let out = std::process::Command::new(python)
                .arg(&py)
                .output()
                .expect("run python3");
            assert!(out.status.success(), "{name}: {:?}", out);
            let printed = String::from_utf8_lossy(&out.stdout).trim().to_string();
            assert_eq!(
                printed == "0",
                expected,
                "{name}: CPython's get_errno() gave {printed}"
            );
        }
    }
}

#[test]
fn get_last_error_without_use_last_error_is_reported() {
    let Some(libc) = system_lib("libc.so.6", |n| n == "libc.so.6") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (load, expected) in [
        ("libc = ctypes.WinDLL(LIBC)", true),
        ("libc = ctypes.WinDLL(LIBC, use_last_error=True)", false),
        // use_errno does not save the last error.
        ("libc = ctypes.WinDLL(LIBC, use_errno=True)", true),
    ] {
        let py = dir.path().join("last_error.py");
        std::fs::write(&py, binding(load, "ctypes.get_last_error()")).unwrap();
        let found = codes(&libc, &py).iter().any(|(c, _)| c == "FFI0718");
        assert_eq!(found, expected, "{load}");
    }
}

#[test]
fn a_file_that_loads_no_library_is_not_judged() {
    let Some(libc) = system_lib("libc.so.6", |n| n == "libc.so.6") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let py = dir.path().join("errors.py");
    std::fs::write(
        &py,
        "import ctypes\n\ndef last_error():\n    return ctypes.get_errno()\n",
    )
    .unwrap();
    assert!(!codes(&libc, &py).iter().any(|(c, _)| c == "FFI0718"));
}
