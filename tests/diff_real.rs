//! `ffi-doctor diff` on real releases of real C libraries built with -g, held to libabigail's abidiff on the same
//! pairs and to what the projects' headers say changed.
//!
//! Mandatory part (needs only PyPI): LZ4 1.9.3 → 1.9.4 and Brotli 1.0.9 → 1.1.0, from the PyPI sdists that vendor
//! them (lz4 3.1.10 / 4.3.3, Brotli 1.0.9 / 1.1.0), built by scripts/diff-pypi-pairs.sh into target/diff-real (or
//! $FFI_DOCTOR_DIFF_REAL). Both releases keep their SONAME and only add functions (LZ4: one; Brotli: a shared
//! dictionary API in each of its three libraries): binary compatible for every caller of the old release.
//!
//! Optional part (needs github.com or FFI_DOCTOR_GIT_MIRRORS): zlib 1.2.13 → 1.3.1 and libpng 1.6.40 → 1.6.43,
//! built from their release tags by scripts/diff-real-pairs.sh. Both projects promise binary compatibility within
//! a series; abidiff agrees (exit 0), and so must we. libpng 1.6 broke the ABI of 1.5 and said so with a new
//! SONAME: the same 36 removed functions abidiff lists, and with the public header as the interest, only the two
//! return types 1.6 really changed.
//!
//! Everything is skipped with a printed reason when the builds are absent, unless FFI_DOCTOR_REQUIRE_ORACLES=1: then
//! the scripts fetch and build them; the PyPI pairs must build, the git ones must too when FFI_DOCTOR_GIT_MIRRORS is
//! set (without it, github.com may be unreachable and they are skipped with the reason).

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

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

fn require_oracles() -> bool {
    std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").as_deref() == Ok("1")
}

/// Runs scripts/SCRIPT into dir() once per process (the tests share the outputs) and says whether it succeeded.
fn build_once(script: &'static str) -> bool {
    static RUNS: OnceLock<Mutex<Vec<(&'static str, bool)>>> = OnceLock::new();
    let mut runs = RUNS.get_or_init(Default::default).lock().unwrap();
    if let Some(&(_, ok)) = runs.iter().find(|r| r.0 == script) {
        return ok;
    }
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("scripts")
        .join(script);
    let ok = Command::new("bash")
        .arg(&path)
        .arg(dir())
        .status()
        .is_ok_and(|s| s.success());
    runs.push((script, ok));
    ok
}

/// The zlib and libpng pairs, from git tags.
fn built() -> bool {
    let d = dir();
    let have = || {
        PAIRS
            .iter()
            .all(|p| d.join(p.1).exists() && d.join(p.2).exists())
            && d.join(PNG15).exists()
    };
    if have() {
        return true;
    }
    if require_oracles() {
        let ok = build_once("diff-real-pairs.sh");
        if std::env::var_os("FFI_DOCTOR_GIT_MIRRORS").is_some() {
            assert!(
                ok && have(),
                "scripts/diff-real-pairs.sh failed with FFI_DOCTOR_GIT_MIRRORS set (FFI_DOCTOR_REQUIRE_ORACLES=1)"
            );
        }
        if ok && have() {
            return true;
        }
        println!(
            "skipped: scripts/diff-real-pairs.sh could not fetch the zlib/libpng tags (github.com unreachable and no \
             FFI_DOCTOR_GIT_MIRRORS); the PyPI pairs stand in for them"
        );
        return false;
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

/// A release pair built from PyPI sdists by scripts/diff-pypi-pairs.sh. The truth, read from the two releases'
/// headers: same SONAME, only functions added, nothing a caller of OLD can see changed in size or meaning.
struct PypiPair {
    lib: &'static str,
    old: &'static str,
    new: &'static str,
    /// NEW's header including its whole public API, and the directory its `#include <…>`s need.
    spec: &'static str,
    include: &'static str,
    /// The functions NEW's headers add (abidiff's "Added functions" are the same).
    added: &'static [&'static str],
    /// The other compatible changes the headers show, by the code we must report them with.
    header_codes: &'static [&'static str],
    /// With DWARF only, the records we warn about (never errors, exit 0): DWARF has no notion of a public
    /// header, and these changed records are reached only through pointers, so the warning says they matter only
    /// if the header defines them. Here it does not: the header leaves them opaque (callers hold pointers only),
    /// or they are the LZ4 unions and their members below. abidiff reports the same records, but as an ABI
    /// change (bit 4), not as an incompatible one (bit 8).
    dwarf_warning_records: &'static [&'static str],
    /// With the public header as the interest: the records we warn about (never errors, exit 0), each with why
    /// it is only a warning and why it is compatible here.
    header_warnings: &'static [(&'static str, &'static str)],
    /// abidiff's exit on the bare pair (bits: 1 error, 2 usage, 4 ABI change, 8 incompatible change).
    abidiff: i32,
}

/// Why the LZ4 unions are warnings: a union whose size and alignment are unchanged is allocated, copied and
/// placed as before (libabigail's harmless union change); only code that uses its members itself could notice.
const LZ4_SIZER: &str =
    "a union with the same size and alignment: `table` only gave it its size; minStateSize does now, with the \
    same size, and callers never touch either";
/// Why the `*_internal` structs are warnings: reached only as a member of such a union.
const LZ4_DONOTUSE: &str =
    "reached only as the type of the union's `internal_donotuse` member (the union keeps its size and \
    alignment): state only the library writes (LZ4_initStream, LZ4_setStreamDecode) and reads";

const PYPI_PAIRS: &[PypiPair] = &[
    PypiPair {
        lib: "LZ4 1.9.3 → 1.9.4 (liblz4.so.1)",
        old: "lz4-1.9.3/liblz4.so",
        new: "lz4-1.9.4/liblz4.so",
        spec: "lz4-1.9.4/lz4-all.h",
        include: "lz4-1.9.4",
        added: &["LZ4_decompress_safe_partial_usingDict"],
        // 1.9.3's `unsigned reserved[3]` in LZ4F_decompressOptions_t (documented "must be set to zero")
        // became skipChecksums, reserved1, reserved0: the same unsigned ints at the same offsets, so a
        // regrouping (FFI0844, info), with or without the header.
        header_codes: &["FFI0844"],
        dwarf_warning_records: &[
            // opaque in lz4frame.h (`typedef struct LZ4F_cctx_s LZ4F_cctx;`): 1.9.4 added a custom allocator
            "struct LZ4F_CDict_s",
            "struct LZ4F_cctx_s",
            "struct LZ4F_dctx_s",
            // and the header's warnings, below
            "struct LZ4_streamDecode_t_internal",
            "struct LZ4_stream_t_internal",
            "union LZ4_streamDecode_u",
            "union LZ4_streamHC_u",
            "union LZ4_stream_u",
        ],
        header_warnings: &[
            ("union LZ4_stream_u", LZ4_SIZER),
            ("union LZ4_streamDecode_u", LZ4_SIZER),
            ("union LZ4_streamHC_u", LZ4_SIZER),
            ("struct LZ4_stream_t_internal", LZ4_DONOTUSE),
            ("struct LZ4_streamDecode_t_internal", LZ4_DONOTUSE),
        ],
        abidiff: 4,
    },
    PypiPair {
        lib: "Brotli 1.0.9 → 1.1.0 (libbrotlicommon.so.1)",
        old: "brotli-1.0.9/libbrotlicommon.so",
        new: "brotli-1.1.0/libbrotlicommon.so",
        spec: "brotli-1.1.0/brotli-all.h",
        include: "brotli-1.1.0",
        added: &[
            "BrotliSharedDictionaryAttach",
            "BrotliSharedDictionaryCreateInstance",
            "BrotliSharedDictionaryDestroyInstance",
        ],
        header_codes: &[],
        dwarf_warning_records: &[],
        header_warnings: &[],
        abidiff: 4,
    },
    PypiPair {
        lib: "Brotli 1.0.9 → 1.1.0 (libbrotlidec.so.1)",
        old: "brotli-1.0.9/libbrotlidec.so",
        new: "brotli-1.1.0/libbrotlidec.so",
        spec: "brotli-1.1.0/brotli-all.h",
        include: "brotli-1.1.0",
        added: &[
            "BrotliDecoderAttachDictionary",
            "BrotliDecoderSetMetadataCallbacks",
        ],
        // BROTLI_DECODER_ERROR_COMPOUND_DICTIONARY = -18 takes a code 1.0.9 marked reserved
        header_codes: &["FFI0845"],
        // opaque in decode.h (`typedef struct BrotliDecoderStateStruct BrotliDecoderState;`), and a member of it
        dwarf_warning_records: &["struct BrotliBitReader", "struct BrotliDecoderStateStruct"],
        header_warnings: &[],
        abidiff: 4,
    },
    PypiPair {
        lib: "Brotli 1.0.9 → 1.1.0 (libbrotlienc.so.1)",
        old: "brotli-1.0.9/libbrotlienc.so",
        new: "brotli-1.1.0/libbrotlienc.so",
        spec: "brotli-1.1.0/brotli-all.h",
        include: "brotli-1.1.0",
        added: &[
            "BrotliEncoderAttachPreparedDictionary",
            "BrotliEncoderDestroyPreparedDictionary",
            "BrotliEncoderPrepareDictionary",
        ],
        // BrotliEncoderState names the same struct through another typedef in 1.1.0's sources
        header_codes: &["FFI0848"],
        // opaque in encode.h (`typedef struct BrotliEncoderStateStruct BrotliEncoderState;`), and its members
        dwarf_warning_records: &[
            "struct BrotliEncoderDictionary",
            "struct BrotliEncoderParams",
            "struct BrotliEncoderStateStruct",
            "struct BrotliHasherParams",
            "struct Hasher",
            "struct HasherCommon",
        ],
        header_warnings: &[],
        abidiff: 4,
    },
];

/// The LZ4 and Brotli pairs, from PyPI sdists: mandatory with FFI_DOCTOR_REQUIRE_ORACLES=1.
fn pypi_built() -> bool {
    let d = dir();
    let have = || {
        PYPI_PAIRS
            .iter()
            .all(|p| d.join(p.old).exists() && d.join(p.new).exists() && d.join(p.spec).exists())
    };
    if have() {
        return true;
    }
    if require_oracles() {
        let ok = build_once("diff-pypi-pairs.sh");
        assert!(
            ok && have(),
            "scripts/diff-pypi-pairs.sh failed (FFI_DOCTOR_REQUIRE_ORACLES=1)"
        );
        return true;
    }
    println!(
        "skipped: no PyPI release pairs in {} (run scripts/diff-pypi-pairs.sh {0}, or set FFI_DOCTOR_REQUIRE_ORACLES=1)",
        d.display()
    );
    false
}

/// The record an error is about: `struct X` / `union X` from a location `FILE (symbol struct X)`.
fn record(location: &str) -> String {
    location
        .split_once("(symbol ")
        .map(|(_, r)| r.trim_end_matches(')').to_string())
        .unwrap_or_default()
}

/// (code, severity, record, message) of every finding.
fn findings(doc: &Value) -> Vec<(String, String, String, String)> {
    doc["pairs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                record(f["location"].as_str().unwrap_or("")),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// The hint of the finding whose message is `message`.
fn warning_hint(doc: &Value, message: &str) -> String {
    doc["pairs"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["message"] == message)
        .and_then(|f| f["hint"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// The names in FFI0802's "N symbols were added: A, B" findings, sorted.
fn added(fs: &[(String, String, String, String)]) -> Vec<String> {
    let mut names: Vec<String> = fs
        .iter()
        .filter(|f| f.0 == "FFI0802")
        .flat_map(|f| {
            f.3.split_once(": ")
                .map(|(_, list)| list.split(", ").map(str::to_string).collect::<Vec<_>>())
                .unwrap_or_default()
        })
        .collect();
    names.sort();
    names
}

/// The records of the findings of severity `sev`, sorted, once each.
fn records_at(fs: &[(String, String, String, String)], sev: &str) -> Vec<String> {
    let mut rs: Vec<String> = fs
        .iter()
        .filter(|f| f.1 == sev)
        .map(|f| f.2.clone())
        .collect();
    rs.sort();
    rs.dedup();
    rs
}

#[test]
fn pypi_releases_that_only_add_functions() {
    if !pypi_built() {
        return;
    }
    let d = dir();
    let abidiff = oracle("abidiff");
    for p in PYPI_PAIRS {
        let (old, new) = (d.join(p.old), d.join(p.new));
        let mut want_added: Vec<String> = p.added.iter().map(|s| s.to_string()).collect();
        want_added.sort();

        // DWARF only: the additions, no errors, and warnings only in records reached through pointers.
        let r = run_json(ffi_command(), "diff", [old.clone(), new.clone()]);
        let fs = findings(&r.doc);
        let warned = records_at(&fs, "warning");
        println!(
            "{}: DWARF only: exit {}, warnings in {warned:?}",
            p.lib, r.code
        );
        assert_eq!(added(&fs), want_added, "{}: added functions", p.lib);
        assert!(
            fs.iter().all(|f| f.0 != "FFI0801"),
            "{}: nothing was removed: {fs:?}",
            p.lib
        );
        assert_eq!(
            records_at(&fs, "error"),
            Vec::<String>::new(),
            "{}: errors with DWARF only",
            p.lib
        );
        let mut want_records: Vec<String> = p
            .dwarf_warning_records
            .iter()
            .map(|s| s.to_string())
            .collect();
        want_records.sort();
        assert_eq!(warned, want_records, "{}: records with warnings", p.lib);
        for f in fs.iter().filter(|f| f.1 == "warning") {
            let hint = warning_hint(&r.doc, &f.3);
            assert!(
                hint.contains("--spec HEADER"),
                "{}: a DWARF-only warning without the way to decide it: {f:?}: {hint}",
                p.lib
            );
        }
        for code in p.header_codes {
            assert!(
                fs.iter().any(|f| f.0 == *code && f.1 == "info"),
                "{}: no {code} note (DWARF only): {fs:?}",
                p.lib
            );
        }
        assert_eq!(r.code, 0, "{}: DWARF-only exit", p.lib);
        let functions = r.doc["pairs"][0]["types"]["functions"].as_u64().unwrap();
        assert!(
            functions >= p.added.len() as u64,
            "{}: {functions} functions compared",
            p.lib
        );

        // With the public header: compatible; warnings only in the named records.
        let r = run_json(
            ffi_command(),
            "diff",
            [
                "--system-includes".into(),
                "-I".into(),
                d.join(p.include).into_os_string(),
                "--spec".into(),
                d.join(p.spec).into_os_string(),
                old.clone().into_os_string(),
                new.clone().into_os_string(),
            ],
        );
        let fs = findings(&r.doc);
        let mut want_warned: Vec<String> =
            p.header_warnings.iter().map(|a| a.0.to_string()).collect();
        want_warned.sort();
        for (rec, why) in p.header_warnings {
            println!("{}: with the header, a warning in {rec}: {why}", p.lib);
        }
        assert_eq!(
            added(&fs),
            want_added,
            "{}: added functions (header)",
            p.lib
        );
        assert_eq!(
            records_at(&fs, "error"),
            Vec::<String>::new(),
            "{}: errors with the public header",
            p.lib
        );
        assert_eq!(
            records_at(&fs, "warning"),
            want_warned,
            "{}: warnings with the public header",
            p.lib
        );
        for code in p.header_codes {
            assert!(
                fs.iter().any(|f| f.0 == *code && f.1 == "info"),
                "{}: no {code} note: {fs:?}",
                p.lib
            );
        }
        assert_eq!(r.code, 0, "{}: header exit", p.lib);
        println!(
            "{}: with the header: exit {} (truth: compatible)",
            p.lib, r.code
        );

        // abidiff: an ABI change (functions added), never an incompatible one, and the same additions.
        if let Some(a) = &abidiff {
            let out = Command::new(a).arg(&old).arg(&new).output().unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert_eq!(
                out.status.code(),
                Some(p.abidiff),
                "{}: abidiff\n{text}",
                p.lib
            );
            assert!(
                text.contains("0 Removed, ")
                    && text.contains(&format!("{} Added function", p.added.len())),
                "{}: abidiff's summary\n{text}",
                p.lib
            );
            for f in p.added {
                assert!(
                    text.contains(&format!("{{{f}}}")),
                    "{}: abidiff misses {f}",
                    p.lib
                );
            }
            println!(
                "{}: abidiff: exit {} (ABI change, not incompatible)",
                p.lib, p.abidiff
            );
        }
    }
}
