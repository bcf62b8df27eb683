//! `ffi-doctor resolve NAME --os linux` against CPython itself: `ctypes.util.find_library(NAME)` must return the
//! same value, and the file `ctypes.CDLL(that)` maps (read back from /proc/self/maps of the Python process) must
//! be the file we say the loader opens.

mod common;

use common::{ffi, oracle};
use serde_json::Value;

const NAMES: &[&str] = &[
    "z",
    "m",
    "c",
    "stdc++",
    "expat",
    "ffi",
    "bz2",
    "lzma",
    "python3.11",
    "crypto",
    "ssl",
    "uuid",
    "sqlite3",
    "gcc_s",
    "definitely_not_a_library_xyz",
];

/// The real interpreter binary (`python3` on PATH may be a wrapper script, e.g. a pyenv shim).
fn python_executable(python: &std::path::Path) -> String {
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import os, sys; print(os.path.realpath(sys.executable))",
        ])
        .output()
        .expect("run python3");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Ask Python: find_library's value and, when not None, the path CDLL maps.
fn python_answer(python: &std::path::Path, name: &str) -> (Option<String>, Option<String>) {
    let script = r#"
import ctypes, ctypes.util, os, sys
name = sys.argv[1]
r = ctypes.util.find_library(name)
print(r if r is not None else "<None>")
if r is not None:
    ctypes.CDLL(r)
    base = os.path.basename(r)
    for line in open("/proc/self/maps"):
        parts = line.split()
        if len(parts) >= 6 and os.path.basename(parts[5]) == base:
            print(os.path.realpath(parts[5])); break
    else:
        print("<unmapped>")
"#;
    let out = std::process::Command::new(python)
        .args(["-c", script, name])
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .expect("run python3");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let ret = lines.next().filter(|l| *l != "<None>").map(str::to_string);
    let path = lines
        .next()
        .filter(|l| !l.starts_with('<'))
        .map(str::to_string);
    (ret, path)
}

#[test]
fn find_library_and_cdll_match_cpython() {
    let Some(python) = oracle("python3") else {
        return;
    };
    let mut compared = 0;
    for name in NAMES {
        let (want_ret, want_path) = python_answer(&python, name);
        // CPython's own binary is the executable: what it already loaded (e.g. its libpython through its own
        // RUNPATH) is what dlopen returns.
        let exe = python_executable(&python);
        let out = ffi(&[
            "resolve",
            name,
            "--os",
            "linux",
            "--executable",
            &exe,
            "--format",
            "json",
        ]);
        let code = out.status.code();
        assert!(
            matches!(code, Some(0) | Some(1)),
            "resolve {name}: exit {code:?}"
        );
        let doc: Value = serde_json::from_slice(&out.stdout).expect("resolve JSON");
        assert_eq!(doc["schema"], "ffi-doctor/resolve/v1");
        let ours = doc["find_library"]["returns"].as_str().map(str::to_string);
        assert_eq!(ours, want_ret, "find_library({name:?}): ours vs CPython");
        if want_ret.is_none() {
            assert_eq!(
                code,
                Some(1),
                "a None from find_library must fail the check"
            );
            assert!(doc["load"]["note"]
                .as_str()
                .unwrap_or("")
                .contains("CDLL(None)"));
            continue;
        }
        if let Some(want) = want_path {
            let ours = doc["load"]["path"]
                .as_str()
                .unwrap_or_else(|| panic!("{name}: we load nothing"));
            let ours = std::fs::canonicalize(ours).expect("our path exists");
            assert_eq!(
                ours.to_string_lossy(),
                want,
                "CDLL({name:?}) loads a different file"
            );
            compared += 1;
        }
    }
    assert!(compared >= 5, "only {compared} names could be compared");
}
