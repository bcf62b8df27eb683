//! `ffi-doctor diff` on real releases of zlib (1.2.13 → 1.3.1) and libpng (1.6.40 → 1.6.43, and 1.5.30 → 1.6.43),
//! built from their release tags with -g by scripts/diff-real-pairs.sh into target/diff-real (or
//! $FFI_DOCTOR_DIFF_REAL). Both projects promise binary compatibility within a series; abidiff agrees (exit 0), and
//! so must we: no error or warning, every exported function's types compared. libpng 1.6 broke the ABI of 1.5 and
//! said so with a new SONAME: the same 36 removed functions abidiff lists, and with the public header as the
//! interest, only the two return types 1.6 really changed. Skipped with a printed reason when the builds are
//! absent, unless FFI_DOCTOR_REQUIRE_ORACLES=1 (then the script fetches and builds them).

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{ffi_command, oracle, run_json};
use serde_json::Value;

fn dir() -> PathBuf {
    std::env::var_os("FFI_DOCTOR_DIFF_REAL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/diff-real"))
}

/// (library, old, new, our verdict's worst severity, abidiff's exit code, functions compared at least).
const PAIRS: &[(&str, &str, &str, i32, usize)] = &[
    ("zlib", "zlib-v1.2.13/libz.so", "zlib-v1.3.1/libz.so", 0, 80),
    (
        "libpng",
        "libpng-v1.6.40/libpng16.so",
        "libpng-v1.6.43/libpng16.so",
        0,
        200,
    ),
];

fn built() -> bool {
    let d = dir();
    let have = || {
        PAIRS
            .iter()
            .all(|p| d.join(p.1).exists() && d.join(p.2).exists())
    };
    if have() {
        return true;
    }
    if std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").as_deref() == Ok("1") {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/diff-real-pairs.sh");
        let ok = Command::new("bash")
            .arg(&script)
            .arg(&d)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{} failed (FFI_DOCTOR_REQUIRE_ORACLES=1)",
            script.display()
        );
        return have();
    }
    println!(
        "skipped: no real release pairs in {} (run scripts/diff-real-pairs.sh {0}, or set FFI_DOCTOR_REQUIRE_ORACLES=1)",
        d.display()
    );
    false
}

const PNG15: &str = "libpng-v1.5.30/libpng15.so";

fn codes_with_severity(doc: &Value) -> Vec<(String, String, String)> {
    doc["pairs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn libpng_1_5_to_1_6_is_a_declared_break() {
    if !built() {
        return;
    }
    let d = dir();
    let new = d.join("libpng-v1.6.43/libpng16.so");
    let r = run_json(ffi_command(), "diff", [d.join(PNG15), new.clone()]);
    assert_eq!(r.code, 1);
    assert_eq!(r.doc["pairs"][0]["renamed"], true);
    let fs = codes_with_severity(&r.doc);
    let removed = fs.iter().filter(|f| f.0 == "FFI0801").count();
    assert_eq!(removed, 36, "abidiff: 36 Removed functions");
    assert!(fs.iter().any(|f| f.0 == "FFI0811"));
    if let Some(a) = oracle("abidiff") {
        let st = Command::new(a)
            .arg(d.join(PNG15))
            .arg(&new)
            .output()
            .unwrap();
        assert_eq!(
            st.status.code(),
            Some(12),
            "abidiff: SONAME changed and functions removed"
        );
        let text = String::from_utf8_lossy(&st.stdout);
        assert!(text.contains("36 Removed"), "{text}");
    }
    // With the public header, what a binding sees: the internals 1.5 exported are not part of it; two getters
    // return int instead of png_uint_32 (same size, another sign).
    let header = d.join("libpng-v1.6.43/png.h");
    let r = run_json(
        ffi_command(),
        "diff",
        [
            "--system-includes".into(),
            "--spec".into(),
            header.into_os_string(),
            d.join(PNG15).into_os_string(),
            new.into_os_string(),
        ],
    );
    let serious: Vec<(String, String, String)> = codes_with_severity(&r.doc)
        .into_iter()
        .filter(|f| f.1 != "info")
        .collect();
    let mut names: Vec<&str> = serious.iter().map(|f| f.2.as_str()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "the return type of png_get_sPLT(): png_uint_32 → int",
            "the return type of png_get_text(): png_uint_32 → int"
        ],
        "{serious:?}"
    );
    assert!(serious.iter().all(|f| f.0 == "FFI0833" && f.1 == "warning"));
    assert_eq!(r.code, 0);
}

#[test]
fn real_releases_within_a_compatible_series() {
    if !built() {
        return;
    }
    let d = dir();
    let abidiff = oracle("abidiff");
    for &(lib, old, new, abi_want, min_functions) in PAIRS {
        let r = run_json(ffi_command(), "diff", [d.join(old), d.join(new)]);
        let findings: Vec<&Value> = r.doc["pairs"][0]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .collect();
        let serious: Vec<String> = findings
            .iter()
            .filter(|f| f["severity"] != "info")
            .map(|f| format!("{} {}", f["code"], f["message"]))
            .collect();
        let notes: Vec<String> = findings
            .iter()
            .map(|f| {
                format!(
                    "{} {}",
                    f["code"].as_str().unwrap(),
                    f["message"].as_str().unwrap()
                )
            })
            .collect();
        println!(
            "{lib}: {old} → {new}: exit {}\n  {}",
            r.code,
            notes.join("\n  ")
        );
        assert!(serious.is_empty(), "{lib}: {serious:?}");
        assert_eq!(r.code, 0, "{lib}");
        let functions = r.doc["pairs"][0]["types"]["functions"].as_u64().unwrap() as usize;
        assert!(
            functions >= min_functions,
            "{lib}: {functions} functions compared"
        );
        if let Some(a) = &abidiff {
            let st = Command::new(a)
                .arg(d.join(old))
                .arg(d.join(new))
                .status()
                .unwrap();
            assert_eq!(st.code(), Some(abi_want), "{lib}: abidiff");
            println!("  abidiff: exit {abi_want}");
        }
    }
}
