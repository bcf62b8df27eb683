//! `ffi-doctor check LIB BINDING.py [HEADER…]` end to end (the real binary, JSON): the fixtures modelled on the
//! field guide's two examples (a ctypes zlib binding, a cffi qsort binding) and a ctypes qsort binding with a
//! callback check clean against the installed libz and libc with their headers on every target; each broken
//! variant (one mistake, made by editing the clean fixture) gives exactly one finding at or above warning, with
//! the expected code at the expected line.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

const ZLIB_H: &str = "/usr/include/zlib.h";
const STDLIB_H: &str = "/usr/include/stdlib.h";

fn require_oracles() -> bool {
    std::env::var(REQUIRE_ORACLES).as_deref() == Ok("1")
}

fn skip(why: &str) {
    if require_oracles() {
        panic!("{why}, and {REQUIRE_ORACLES}=1");
    }
    println!("skipped: {why}");
}

/// The installed library `soname` (e.g. `libz.so.1`) and `header`, or `None` after saying why not.
fn installed(soname: &str, header: &str, package: &str) -> Option<(PathBuf, String)> {
    if !Path::new(header).is_file() {
        skip(&format!("{header} not found (apt-get install {package})"));
        return None;
    }
    let Some(lib) = system_lib(soname, |n| n == soname) else {
        skip(&format!("{soname} not found"));
        return None;
    };
    Some((lib, header.to_string()))
}

/// Run `check` on `py` and return the findings at or above warning, as (code, line) pairs, with the document.
fn check(lib: &Path, py: &Path, header: &str, extra: &[&str]) -> (i32, Vec<(String, u64)>, Value) {
    let lib_s = lib.to_string_lossy().into_owned();
    let py_s = py.to_string_lossy().into_owned();
    let mut args = vec![lib_s.as_str(), py_s.as_str(), header, "--targets", "all"];
    args.extend_from_slice(extra);
    let (code, doc) = ffi_json_code("check", &args);
    let serious = findings(&doc)
        .into_iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| {
            let loc = f["location"].as_str().unwrap_or("");
            let line = loc
                .rsplit(':')
                .nth(1)
                .and_then(|l| l.parse().ok())
                .unwrap_or(0);
            (f["code"].as_str().unwrap_or("").to_string(), line)
        })
        .collect();
    (code, serious, doc)
}

/// The clean fixture with `edits` applied (each `from` must occur), written next to nothing else.
fn variant(dir: &Path, fixture: &str, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let clean = std::fs::read_to_string(testdata("bindings").join(fixture)).expect("fixture");
    let mut text = clean.clone();
    for (from, to) in edits {
        assert!(text.contains(from), "{name}: `{from}` is not in {fixture}");
        text = text.replacen(from, to, 1);
    }
    let p = dir.join(format!("{name}.py"));
    std::fs::write(&p, text).expect("write variant");
    p
}

/// The 1-based line of the first occurrence of `needle` in `path`.
fn line_of(path: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(path).expect("read");
    text.lines()
        .position(|l| l.contains(needle))
        .expect("needle") as u64
        + 1
}

/// Each case: name, edits, expected code, a text on the line the finding must point at.
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str, &'a str);

fn run_cases(lib: &Path, header: &str, fixture: &str, extra: &[&str], cases: &[Case<'_>]) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    for (name, edits, code, at) in cases {
        let p = variant(dir.path(), fixture, name, edits);
        let (exit, serious, doc) = check(lib, &p, header, extra);
        let want_line = line_of(&p, at);
        let ok = serious.len() == 1 && serious[0].0 == *code && serious[0].1 == want_line;
        println!("{name}: {serious:?} (want {code} at line {want_line}), exit {exit}");
        if !ok {
            failures.push(format!(
                "{name}: want exactly [{code} at line {want_line}], got {serious:?}\n{doc:#}"
            ));
        }
        let want_exit = if code_is_error(&doc, code) { 1 } else { 0 };
        if ok && exit != want_exit {
            failures.push(format!("{name}: exit {exit}, want {want_exit}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn code_is_error(doc: &Value, code: &str) -> bool {
    with_code(doc, code)
        .iter()
        .any(|f| f["severity"] == "error")
}

#[test]
fn field_guide_zlib_ctypes_binding_checks_clean_on_every_target() {
    let Some((lib, h)) = installed("libz.so.1", ZLIB_H, "zlib1g-dev") else {
        return;
    };
    let py = testdata("bindings").join("zlib_ctypes.py");
    let (code, serious, doc) = check(&lib, &py, &h, &[]);
    assert_eq!((code, serious.len()), (0, 0), "{doc:#}");
    let summary = &with_code(&doc, "FFI0700")[0];
    assert!(
        s(&summary["message"]).contains("4 functions checked"),
        "{summary:#}"
    );
}

#[test]
fn field_guide_zlib_ctypes_mistakes_give_one_finding_each() {
    let Some((lib, h)) = installed("libz.so.1", ZLIB_H, "zlib1g-dev") else {
        return;
    };
    let cases: &[Case<'_>] = &[
        (
            "not_exported",
            &[("_z.zlibVersion.argtypes = []", "_z.zlibVersion.argtypes = []\n_z.zlibVersionX.restype = ctypes.c_char_p")],
            "FFI0701",
            "zlibVersionX",
        ),
        (
            "missing_restype",
            &[("_z.zlibVersion.restype = ctypes.c_char_p", "")],
            "FFI0702",
            "_z.zlibVersion.argtypes",
        ),
        (
            "missing_argtypes",
            &[("_z.compressBound.argtypes = [uLong]\n", "")],
            "FFI0703",
            "_z.compressBound.restype",
        ),
        (
            "argtypes_count",
            &[("[Bytef_p, uLongf_p, Bytef_p, uLong, ctypes.c_int]", "[Bytef_p, uLongf_p, Bytef_p, uLong]")],
            "FFI0704",
            "_z.compress2.argtypes",
        ),
        (
            "call_count",
            &[("_z.uncompress(out, ctypes.byref(out_len), src, len(blob))", "_z.uncompress(out, ctypes.byref(out_len), src)")],
            "FFI0704",
            "rc = _z.uncompress(",
        ),
        (
            "uint32_for_unsigned_long",
            &[("_z.compressBound.argtypes = [uLong]", "_z.compressBound.argtypes = [ctypes.c_uint32]")],
            "FFI0705",
            "_z.compressBound.argtypes",
        ),
        (
            "pointer_to_uint_for_uLongf_p",
            &[("uLongf_p = ctypes.POINTER(uLong)", "uLongf_p = ctypes.POINTER(ctypes.c_uint)")],
            // compress2 and uncompress both take uLongf *: one finding each would be two; only compress2 changes.
            "FFI0705",
            "_z.compress2.argtypes",
        ),
        (
            "restype_too_small",
            &[("_z.compressBound.restype = uLong", "_z.compressBound.restype = ctypes.c_uint")],
            "FFI0706",
            "_z.compressBound.restype",
        ),
        (
            "signedness",
            &[("_z.compressBound.argtypes = [uLong]", "_z.compressBound.argtypes = [ctypes.c_long]")],
            "FFI0707",
            "_z.compressBound.argtypes",
        ),
        (
            "char_p_output_buffer",
            &[(
                "_z.zlibVersion.argtypes = []",
                "_z.zlibVersion.argtypes = []\n_z.gzgets.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]\n_z.gzgets.restype = ctypes.c_void_p",
            )],
            "FFI0708",
            "_z.gzgets.argtypes",
        ),
        (
            "unchecked_find_library",
            &[("_z = _open_zlib()", "_z = ctypes.CDLL(ctypes.util.find_library(\"z\"))")],
            "FFI0712",
            "_z = ctypes.CDLL(",
        ),
    ];
    // The pointer case edits the shared alias: make it apply to compress2 only.
    let mut cases = cases.to_vec();
    let ptr_edit: &[(&str, &str)] = &[(
        "[Bytef_p, uLongf_p, Bytef_p, uLong, ctypes.c_int]",
        "[Bytef_p, ctypes.POINTER(ctypes.c_uint), Bytef_p, uLong, ctypes.c_int]",
    )];
    for c in cases.iter_mut() {
        if c.0 == "pointer_to_uint_for_uLongf_p" {
            c.1 = ptr_edit;
        }
    }
    run_cases(&lib, &h, "zlib_ctypes.py", &[], &cases);
}

#[test]
fn field_guide_cffi_qsort_binding_checks_clean_and_its_mistakes_give_one_finding_each() {
    let Some((lib, h)) = installed("libc.so.6", STDLIB_H, "libc6-dev") else {
        return;
    };
    let py = testdata("bindings").join("qsort_cffi.py");
    let (code, serious, doc) = check(&lib, &py, &h, &["--system-includes"]);
    assert_eq!((code, serious.len()), (0, 0), "{doc:#}");
    let cases: &[Case<'_>] = &[
        (
            "cdef_param_type",
            &[(
                "void qsort(void *base, size_t count,",
                "void qsort(void *base, int count,",
            )],
            "FFI0705",
            "void qsort(",
        ),
        (
            "cdef_not_exported",
            &[
                (
                    "void free(void *p);",
                    "void free(void *p);\n    void *malloc_x(size_t n);",
                ),
                ("libc.malloc(n)", "libc.malloc_x(n)"),
            ],
            "FFI0701",
            "malloc_x(size_t n)",
        ),
        (
            "variadic_abi_mode",
            &[
                (
                    "void free(void *p);",
                    "void free(void *p);\n    int printf(const char *fmt, ...);",
                ),
                (
                    "return list(arr)",
                    "libc.printf(b\"%d\\n\", ffi.cast(\"int\", 1))\n    return list(arr)",
                ),
            ],
            "FFI0711",
            "int printf(",
        ),
    ];
    run_cases(&lib, &h, "qsort_cffi.py", &["--system-includes"], cases);
}

#[test]
fn ctypes_callbacks_are_checked_against_the_function_pointer_type() {
    let Some((lib, h)) = installed("libc.so.6", STDLIB_H, "libc6-dev") else {
        return;
    };
    let py = testdata("bindings").join("qsort_ctypes.py");
    let (code, serious, doc) = check(&lib, &py, &h, &["--system-includes"]);
    assert_eq!((code, serious.len()), (0, 0), "{doc:#}");
    let cases: &[Case<'_>] = &[
        (
            "callback_prototype",
            &[(
                "CompareFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)",
                "CompareFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_int)",
            )],
            "FFI0709",
            "libc.qsort.argtypes",
        ),
        (
            "inline_callback",
            &[(
                "ctypes.sizeof(ctypes.c_int), _cmp_c)",
                "ctypes.sizeof(ctypes.c_int), CompareFn(_cmp))",
            )],
            "FFI0710",
            "libc.qsort(arr",
        ),
    ];
    run_cases(&lib, &h, "qsort_ctypes.py", &["--system-includes"], cases);
}

#[test]
fn a_py_spec_that_cannot_be_read_is_an_input_error() {
    let Some((lib, _)) = installed("libz.so.1", ZLIB_H, "zlib1g-dev") else {
        return;
    };
    let lib_s = lib.to_string_lossy().into_owned();
    let out = ffi(&["check", &lib_s, "/nonexistent/binding.py"]);
    assert_eq!(out.status.code(), Some(2));
    // A binary named like a binding (the library itself as SPEC): not Python source, as CPython says.
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = dir.path().join("lib.py");
    std::fs::copy(&lib, &fake).expect("copy");
    let out = ffi(&["check", &lib_s, &fake.to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("NUL byte") && err.contains("lib.py"), "{err}");
    // Header arguments only follow a Python binding.
    let out = ffi(&["check", &lib_s, ZLIB_H, ZLIB_H]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn without_a_header_types_come_from_the_librarys_dwarf() {
    let lib = testdata("dwarf").join("libshapes.dwarf5.so");
    let dir = tempfile::tempdir().expect("tempdir");
    let py = dir.path().join("shapes.py");
    std::fs::write(
        &py,
        "import ctypes\n\
         lib = ctypes.CDLL(\"libshapes.dwarf5.so\")\n\
         lib.shape_area.argtypes = [ctypes.c_void_p, ctypes.c_double]\n\
         lib.node_len.argtypes = [ctypes.c_void_p] * 4\n\
         lib.node_len.restype = ctypes.c_int\n\
         lib.classify.argtypes = [ctypes.c_char_p, ctypes.c_ubyte, ctypes.c_byte, ctypes.POINTER(ctypes.c_int)]\n",
    )
    .unwrap();
    let (lib_s, py_s) = (
        lib.to_string_lossy().into_owned(),
        py.to_string_lossy().into_owned(),
    );
    let (code, doc) = ffi_json_code("check", &[&lib_s, &py_s]);
    let serious: Vec<String> = findings(&doc)
        .into_iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| format!("{} {}", s(&f["code"]), s(&f["location"])))
        .collect();
    // node_len returns size_t (8 bytes on x86_64): the one mistake.
    assert_eq!(serious, [format!("FFI0706 {py_s}:5:1")], "{doc:#}");
    assert_eq!(code, 1);
    let summary = s(&with_code(&doc, "FFI0700")[0]["message"]).to_string();
    assert!(summary.contains("the library's DWARF"), "{summary}");
}

/// The record classes of `testdata/bindings-layout/records.py` through `check`: against the header on three
/// targets, and against the DWARF of the library gcc builds from `records.c` (its README lists the mistakes).
#[test]
fn record_classes_are_checked_against_the_header_and_the_dwarf() {
    let Some(gcc) = oracle("gcc") else {
        return;
    };
    let src = testdata("bindings-layout");
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = dir.path().join("librecords.so");
    let ok = std::process::Command::new(gcc)
        .args(["-g", "-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(src.join("records.c"))
        .status()
        .expect("run gcc")
        .success();
    assert!(ok, "gcc failed");
    let (lib_s, py_s, h_s) = (
        lib.to_string_lossy().into_owned(),
        src.join("records.py").to_string_lossy().into_owned(),
        src.join("records.h").to_string_lossy().into_owned(),
    );
    let serious = |doc: &Value| -> Vec<String> {
        let mut v: Vec<String> = findings(doc)
            .into_iter()
            .filter(|f| f["severity"] != "info")
            .map(|f| {
                let loc = s(&f["location"]);
                let line = loc.rsplit(':').nth(1).unwrap_or("?");
                format!("{} {line}", s(&f["code"]))
            })
            .collect();
        v.sort();
        v
    };
    let targets = "linux-x86_64,linux-i386,windows-x86_64-msvc";
    let (code, doc) = ffi_json_code("check", &[&lib_s, &py_s, &h_s, "--targets", targets]);
    // flags: ctypes' bitfields before 3.14 (Linux targets); wire_header: no `_pack_ = 1`; stats_t: `c_long` for
    // `int64_t` on linux-i386 and Windows (one field, so one size difference).
    assert_eq!(
        serious(&doc),
        ["FFI0753 18", "FFI0756 19", "FFI0759 14", "FFI0761 10"],
        "{doc:#}"
    );
    assert_eq!(code, 1);
    // 3.14's gcc-sysv bitfields agree with the compilers: flags is right there.
    let (_, doc) = ffi_json_code(
        "check",
        &[
            &lib_s,
            &py_s,
            &h_s,
            "--targets",
            targets,
            "--python-version",
            "3.14",
        ],
    );
    assert!(
        !serious(&doc).iter().any(|f| f.starts_with("FFI0761")),
        "{doc:#}"
    );
    // Without a header: the library's DWARF, on its own target (x86_64, where c_long is int64_t's size).
    let (code, doc) = ffi_json_code("check", &[&lib_s, &py_s]);
    assert_eq!(serious(&doc), ["FFI0759 14", "FFI0761 10"], "{doc:#}");
    assert_eq!(code, 1);
}
