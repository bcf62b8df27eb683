//! `gate` over a wheel whose Python code loads libraries at run time (ctypes, cffi): a library shipped next to the
//! module is a root of the load graph (not dead weight, FFI0613) and the binding is checked against it (FFI0701);
//! a library neither shipped nor provided by the manylinux policy is FFI0717 at the `.py` line; `find_library("c")`
//! (the policy provides libc) and names for another platform's loader are fine. The shipped library is the
//! system's libz (a real ELF file).

mod common;

use std::io::Write;
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::Value;

const NATIVE_PY: &str = r#"import ctypes
import ctypes.util
import os
import sys

_here = os.path.dirname(os.path.abspath(__file__))
if sys.platform == "win32":
    _z = ctypes.CDLL(os.path.join(_here, "zlib1.dll"))
else:
    _z = ctypes.CDLL(os.path.join(_here, "libz.so.1"))
_z.compressBound.argtypes = [ctypes.c_ulong]
_z.compressBound.restype = ctypes.c_ulong
_z.compressBoundX.restype = ctypes.c_ulong

_c = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
_c.free.argtypes = [ctypes.c_void_p]
_c.free.restype = None
"#;

const EXTRA_PY: &str = r#"import ctypes
_other = ctypes.CDLL("libnotshipped.so.3")
"#;

fn make_wheel(dir: &Path, libz: &Path) -> std::path::PathBuf {
    let path = dir.join("zpkg-1.0-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
    let f = std::fs::File::create(&path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let o: zip::write::SimpleFileOptions = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    z.start_file("zpkg/__init__.py", o).unwrap();
    z.write_all(b"").unwrap();
    z.start_file("zpkg/_native.py", o).unwrap();
    z.write_all(NATIVE_PY.as_bytes()).unwrap();
    z.start_file("zpkg/_extra.py", o).unwrap();
    z.write_all(EXTRA_PY.as_bytes()).unwrap();
    z.start_file("zpkg/libz.so.1", o).unwrap();
    z.write_all(&std::fs::read(libz).unwrap()).unwrap();
    z.start_file("zpkg-1.0.dist-info/WHEEL", o).unwrap();
    z.write_all(
        b"Wheel-Version: 1.0\nRoot-Is-Purelib: false\nTag: py3-none-manylinux_2_17_x86_64\nTag: py3-none-manylinux2014_x86_64\n",
    )
    .unwrap();
    z.finish().unwrap();
    path
}

#[test]
fn python_code_that_loads_libraries_is_part_of_the_gate() {
    let Some(libz) = system_lib("libz.so.1", |n| n == "libz.so.1") else {
        if std::env::var(REQUIRE_ORACLES).as_deref() == Ok("1") {
            panic!("libz.so.1 not found, and {REQUIRE_ORACLES}=1");
        }
        println!("skipped: libz.so.1 not found");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wheel = make_wheel(dir.path(), &libz);
    let out = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"))
        .args(["gate", "--format", "json"])
        .arg(&wheel)
        .current_dir(dir.path())
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let serious: Vec<(String, String)> = findings(&doc)
        .into_iter()
        .filter(|f| f["severity"] != "info")
        .map(|f| (s(&f["code"]).to_string(), s(&f["location"]).to_string()))
        .collect();
    let name = wheel.display().to_string();
    assert_eq!(
        serious,
        vec![
            ("FFI0717".to_string(), format!("{name}!zpkg/_extra.py:2:10")),
            (
                "FFI0701".to_string(),
                format!("{name}!zpkg/_native.py:13:1")
            ),
        ],
        "{doc:#}"
    );
    assert_eq!(out.status.code(), Some(1));
    // The shipped libz is loaded by Python code: no dead-weight warning for it.
    assert!(with_code(&doc, "FFI0613").is_empty(), "{doc:#}");
}
