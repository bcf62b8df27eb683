//! Calling conventions on 32-bit Windows (FFI0719, and FFI0709 for callbacks): ctypes bindings of
//! `pe/callconv/*/callconv.dll` (testdata/src/build-callconv.sh: a `__stdcall` and a cdecl function, and a function
//! taking a callback of each convention) that call them through `CDLL`/`WinDLL` and pass `CFUNCTYPE`/`WINFUNCTYPE`
//! callbacks, checked with the library's header. The conventions the header gives are held to the compiler: the
//! build script checks that i686 mingw-gcc decorated `cc_std_add` as `__stdcall` (`_cc_std_add@8`) and nothing
//! else, and this test asks the compiler again through `#if` probes of the header's macros. ctypes' side is
//! CPython's documented rule: `CDLL` and `CFUNCTYPE` call cdecl, `WinDLL` and `WINFUNCTYPE` `__stdcall`, and on
//! 64-bit Windows they are the same.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{ffi_command, findings, oracle, run_json, testdata};

/// The binding with its four choices: (`std` loader, `c` loader, factory of the `__stdcall` callback, of the
/// cdecl one).
fn binding(std_loader: &str, c_loader: &str, std_cb: &str, c_cb: &str) -> String {
    format!(
        "import ctypes\n\
         import os\n\
         \n\
         _path = os.path.join(os.path.dirname(__file__), \"callconv.dll\")\n\
         std = ctypes.{std_loader}(_path)\n\
         c = ctypes.{c_loader}(_path)\n\
         STD_CB = ctypes.{std_cb}(ctypes.c_int, ctypes.c_int)\n\
         C_CB = ctypes.{c_cb}(ctypes.c_int, ctypes.c_int)\n\
         \n\
         std.cc_std_add.argtypes = [ctypes.c_int, ctypes.c_int]\n\
         std.cc_std_add.restype = ctypes.c_int\n\
         c.cc_c_add.argtypes = [ctypes.c_int, ctypes.c_int]\n\
         c.cc_c_add.restype = ctypes.c_int\n\
         c.cc_apply_std.argtypes = [STD_CB, ctypes.c_int]\n\
         c.cc_apply_std.restype = ctypes.c_int\n\
         c.cc_apply_c.argtypes = [C_CB, ctypes.c_int]\n\
         c.cc_apply_c.restype = ctypes.c_int\n"
    )
}

/// (variant, choices, the FFI0719 / FFI0709 findings expected on the 32-bit DLL as `code function`).
const VARIANTS: &[(&str, [&str; 4], &[&str])] = &[
    ("right", ["WinDLL", "CDLL", "WINFUNCTYPE", "CFUNCTYPE"], &[]),
    (
        "stdcall_through_cdll",
        ["CDLL", "CDLL", "WINFUNCTYPE", "CFUNCTYPE"],
        &["FFI0719 cc_std_add"],
    ),
    (
        "cdecl_through_windll",
        ["WinDLL", "WinDLL", "WINFUNCTYPE", "CFUNCTYPE"],
        &[
            "FFI0719 cc_c_add",
            "FFI0719 cc_apply_std",
            "FFI0719 cc_apply_c",
        ],
    ),
    (
        "cdecl_callback_for_stdcall",
        ["WinDLL", "CDLL", "CFUNCTYPE", "CFUNCTYPE"],
        &["FFI0709 cc_apply_std"],
    ),
    (
        "stdcall_callback_for_cdecl",
        ["WinDLL", "CDLL", "WINFUNCTYPE", "WINFUNCTYPE"],
        &["FFI0709 cc_apply_c"],
    ),
];

/// The FFI0719 and FFI0709 findings of a check, as `code function`.
fn convention_findings(dll: &Path, py: &Path) -> BTreeSet<String> {
    let header = testdata("src/callconv.h");
    let run = run_json(
        ffi_command(),
        "check",
        [dll.as_os_str(), py.as_os_str(), header.as_os_str()],
    );
    assert!(run.code == 0 || run.code == 1, "{}", run.stderr);
    findings(&run.doc)
        .into_iter()
        .filter(|f| f["code"] == "FFI0719" || f["code"] == "FFI0709")
        .map(|f| {
            let m = f["message"].as_str().unwrap_or_default();
            let func = ["cc_std_add", "cc_c_add", "cc_apply_std", "cc_apply_c"]
                .into_iter()
                .find(|n| m.contains(n))
                .unwrap_or("?");
            format!("{} {func}", f["code"].as_str().unwrap_or_default())
        })
        .collect()
}

#[test]
fn a_convention_that_differs_is_reported_on_32_bit_windows_only() {
    let dir = tempfile::tempdir().unwrap();
    for (bits, dll) in [
        (32, testdata("pe/callconv/mingw32/callconv.dll")),
        (64, testdata("pe/callconv/mingw64/callconv.dll")),
    ] {
        for (name, [a, b, c, d], expected) in VARIANTS {
            let py = dir.path().join(format!("{name}.py"));
            std::fs::write(&py, binding(a, b, c, d)).unwrap();
            let found = convention_findings(&dll, &py);
            let expected: BTreeSet<String> = if bits == 32 {
                expected.iter().map(|s| s.to_string()).collect()
            } else {
                BTreeSet::new()
            };
            assert_eq!(found, expected, "{name} on the {bits}-bit DLL");
        }
    }
}

/// The header's conventions as the compiler sees them, per target: `__stdcall` on i686 only.
#[test]
fn the_header_conventions_are_the_compilers() {
    for (cc, stdcall) in [
        ("i686-w64-mingw32-gcc", true),
        ("x86_64-w64-mingw32-gcc", false),
    ] {
        let Some(cc) = oracle(cc) else { continue };
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("probe.c");
        std::fs::write(
            &src,
            format!(
                "#include \"{}\"\nint probe(int a, int b) {{ return cc_std_add(a, b); }}\n",
                testdata("src/callconv.h").display()
            ),
        )
        .unwrap();
        let asm = dir.path().join("probe.s");
        let out = std::process::Command::new(&cc)
            .args(["-O2", "-S", "-o"])
            .arg(&asm)
            .arg(&src)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let text = std::fs::read_to_string(&asm).unwrap();
        // A __stdcall callee is referenced with its argument bytes; a cdecl one without.
        assert_eq!(
            text.contains("_cc_std_add@8"),
            stdcall,
            "{}: {text}",
            cc.display()
        );
    }
}

/// The same through cffi's ABI mode: the cdef's own `WINAPI` decides the convention cffi calls with.
#[test]
fn a_cdef_convention_that_differs_is_reported_on_32_bit_windows_only() {
    let dir = tempfile::tempdir().unwrap();
    for (name, decl, expected) in [
        ("cdef_right", "int WINAPI cc_std_add(int a, int b);", false),
        ("cdef_no_winapi", "int cc_std_add(int a, int b);", true),
    ] {
        let py = dir.path().join(format!("{name}.py"));
        std::fs::write(
            &py,
            format!(
                "from cffi import FFI\n\
                 ffi = FFI()\n\
                 ffi.cdef(\"\"\"\n\
                 {decl}\n\
                 int cc_c_add(int a, int b);\n\
                 \"\"\")\n\
                 lib = ffi.dlopen(\"callconv.dll\")\n"
            ),
        )
        .unwrap();
        for (bits, dll) in [
            (32, testdata("pe/callconv/mingw32/callconv.dll")),
            (64, testdata("pe/callconv/mingw64/callconv.dll")),
        ] {
            let found = convention_findings(&dll, &py);
            let want: BTreeSet<String> = if expected && bits == 32 {
                ["FFI0719 cc_std_add".to_string()].into()
            } else {
                BTreeSet::new()
            };
            assert_eq!(found, want, "{name} on the {bits}-bit DLL");
        }
    }
}
