//! `ffi-doctor check` against the library's DWARF (FFI02xx) and the `--runtime` summary (FFI0511).
//! Fixture: testdata/dwarfcheck/libmismatch.so (gcc -g of testdata/src/mismatch.c, built by testdata/build.sh)
//! with testdata/src/mismatch_good.h (exact), mismatch_bad.h (one mismatch per rule) and mismatch.cdef (cffi).

mod common;

use std::path::{Path, PathBuf};

use common::{ffi_json_code, findings, testdata, with_code};
use serde_json::Value;

fn lib() -> String {
    let p = testdata("dwarfcheck/libmismatch.so");
    assert!(
        p.exists(),
        "missing fixture {} (run testdata/build.sh)",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

fn src(name: &str) -> String {
    testdata("src").join(name).to_string_lossy().into_owned()
}

fn errors(doc: &Value) -> Vec<&Value> {
    findings(doc)
        .into_iter()
        .filter(|f| f["severity"] == "error")
        .collect()
}

fn show(fs: &[&Value]) -> String {
    fs.iter()
        .map(|f| {
            format!(
                "{} {} {}: {}",
                f["code"].as_str().unwrap_or(""),
                f["severity"].as_str().unwrap_or(""),
                f["location"].as_str().unwrap_or(""),
                f["message"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A spec file in a per-test temporary directory.
fn temp_spec(test: &str, name: &str, text: &str) -> String {
    let dir: PathBuf = std::env::temp_dir().join(format!(
        "ffi-doctor-check-dwarf-{}-{test}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

#[test]
fn good_header_is_clean() {
    let (code, doc) = ffi_json_code("check", &[&lib(), &src("mismatch_good.h")]);
    let errs = errors(&doc);
    assert!(errs.is_empty(), "errors:\n{}", show(&errs));
    assert_eq!(code, 0);
    let ffi02: Vec<&Value> = findings(&doc)
        .into_iter()
        .filter(|f| f["code"].as_str().unwrap().starts_with("FFI02") && f["severity"] != "info")
        .collect();
    assert!(ffi02.is_empty(), "FFI02xx:\n{}", show(&ffi02));
    let summary = with_code(&doc, "FFI0217");
    assert_eq!(summary.len(), 1, "{}", show(&findings(&doc)));
    let m = summary[0]["message"].as_str().unwrap();
    assert!(
        m.contains("6 records, 2 enums, 12 functions, 2 variables"),
        "{m}"
    );
    assert_eq!(summary[0]["found"], "all declarations found");
}

#[test]
fn bad_header_has_exactly_one_finding_per_mismatch() {
    let (code, doc) = ffi_json_code("check", &[&lib(), &src("mismatch_bad.h")]);
    assert_eq!(code, 1);
    let errs = errors(&doc);
    let mut codes: Vec<&str> = errs.iter().map(|f| f["code"].as_str().unwrap()).collect();
    codes.sort();
    assert_eq!(
        codes,
        ["FFI0203", "FFI0206", "FFI0207", "FFI0208", "FFI0210", "FFI0211", "FFI0213"],
        "errors:\n{}",
        show(&errs)
    );
    let bad = src("mismatch_bad.h");
    let one = |c: &str| -> &Value {
        let v = with_code(&doc, c);
        assert_eq!(v.len(), 1, "{c}:\n{}", show(&v));
        v[0]
    };
    let line = |f: &Value| -> u32 {
        let loc = f["location"].as_str().unwrap();
        assert!(loc.starts_with(&bad), "{loc}");
        loc.rsplit(':').nth(1).unwrap().parse().unwrap()
    };
    // int -> long member
    let f = one("FFI0206");
    assert_eq!(line(f), 6);
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("member `count` of struct stats"));
    assert!(f["expected"].as_str().unwrap().contains("long"));
    assert!(f["found"].as_str().unwrap().contains("`int`"));
    assert!(f["found"].as_str().unwrap().contains("CU src/mismatch.c"));
    // added member: both lists named
    let f = one("FFI0203");
    assert_eq!(line(f), 12);
    assert!(f["message"].as_str().unwrap().contains("flags"));
    assert_eq!(f["expected"], "declared members: magic, version, flags");
    assert!(f["found"].as_str().unwrap().ends_with(": magic, version"));
    // bitfield width
    let f = one("FFI0207");
    assert_eq!(line(f), 18);
    assert!(f["message"].as_str().unwrap().contains("width 2"));
    assert!(f["found"].as_str().unwrap().contains("width 1"));
    // enum value
    let f = one("FFI0208");
    assert_eq!(f["expected"], "GREEN = 6");
    assert!(f["found"].as_str().unwrap().starts_with("GREEN = 5"));
    // int vs size_t: both spellings, size and signedness
    let f = one("FFI0211");
    assert_eq!(line(f), 57);
    let m = f["message"].as_str().unwrap();
    assert!(m.contains("`int`") && m.contains("`size_t`"), "{m}");
    assert!(m.contains("signed vs unsigned"), "{m}");
    assert!(f["found"]
        .as_str()
        .unwrap()
        .contains("8-byte unsigned integer"));
    // parameter count: both signatures
    let f = one("FFI0210");
    assert_eq!(f["expected"], "int add3(int a, int b)");
    assert!(f["found"]
        .as_str()
        .unwrap()
        .starts_with("int add3(int a, int b, int c)"));
    // return type
    let f = one("FFI0213");
    assert!(f["message"].as_str().unwrap().contains("total()"));
    assert!(f["found"].as_str().unwrap().contains("long"));
    // nothing about the other declarations
    assert!(with_code(&doc, "FFI0202").is_empty());
    assert!(with_code(&doc, "FFI0205").is_empty());
}

#[test]
fn cffi_partial_cdef_is_clean() {
    let (code, doc) = ffi_json_code("check", &[&lib(), &src("mismatch.cdef")]);
    let errs = errors(&doc);
    assert!(errs.is_empty(), "errors:\n{}", show(&errs));
    assert_eq!(code, 0);
    for c in ["FFI0203", "FFI0208", "FFI0218"] {
        assert!(
            with_code(&doc, c).is_empty(),
            "{c}: {}",
            show(&findings(&doc))
        );
    }
    assert_eq!(with_code(&doc, "FFI0217").len(), 1);
}

#[test]
fn cffi_partial_struct_listed_fields_are_checked() {
    let spec = temp_spec(
        "partial",
        "p.cdef",
        "struct header {\n    int magic;\n    short version;\n    int missing;\n    ...;\n};\n\
         enum color { GREEN = 7, ... };\n",
    );
    let (code, doc) = ffi_json_code("check", &[&lib(), &spec]);
    assert_eq!(code, 1);
    let f = with_code(&doc, "FFI0206");
    assert_eq!(f.len(), 1, "{}", show(&findings(&doc)));
    assert!(f[0]["message"].as_str().unwrap().contains("`version`"));
    let f = with_code(&doc, "FFI0203");
    assert_eq!(f.len(), 1, "{}", show(&findings(&doc)));
    assert!(f[0]["message"]
        .as_str()
        .unwrap()
        .contains("declared but not in the library: missing"));
    assert!(!f[0]["message"].as_str().unwrap().contains("not declared"));
    let f = with_code(&doc, "FFI0208");
    assert_eq!(f.len(), 1, "{}", show(&findings(&doc)));
}

#[test]
fn other_rules() {
    let spec = temp_spec(
        "other",
        "o.h",
        r#"#include <stddef.h>
struct stats { int count; double mean; };
struct header { char version; int magic; };
union value { long i; double d; char *s; };
enum color { RED = 0, GREEN = 5 };
extern long mm_counter;
extern char *mm_name;
double stats_mean(struct stats *s);
int header_magic(struct header h);
unsigned packet_kind(unsigned p);
int fill(char *buf, long len, int byte);
int add3(int a, int b, unsigned c);
int log_msg(int level, const char *fmt);
"#,
    );
    let (code, doc) = ffi_json_code("check", &[&lib(), &spec]);
    assert_eq!(code, 1);
    let all = findings(&doc);
    let has = |code: &str, sev: &str, needle: &str| {
        assert!(
            all.iter().any(|f| f["code"] == code
                && f["severity"] == sev
                && f["message"].as_str().unwrap().contains(needle)),
            "no {code} {sev} containing {needle:?}:\n{}",
            show(&all)
        );
    };
    has("FFI0204", "error", "struct stats");
    has("FFI0204", "error", "struct header");
    has("FFI0208", "error", "BLUE");
    has("FFI0215", "error", "variable mm_counter");
    has("FFI0219", "info", "variable mm_name");
    has("FFI0219", "info", "parameter 1 `s` of stats_mean()");
    has("FFI0211", "error", "parameter 1 `h` of header_magic()");
    has("FFI0211", "error", "parameter 1 `p` of packet_kind()");
    has("FFI0212", "warning", "parameter 2 `len` of fill()");
    has("FFI0212", "warning", "parameter 3 `c` of add3()");
    has("FFI0214", "error", "log_msg()");
    // reordered records report the order, not every shifted offset
    assert!(with_code(&doc, "FFI0205").is_empty(), "{}", show(&all));
    // union value matches (char * vs const char *: a const note only)
    assert!(!all.iter().any(
        |f| f["severity"] == "error" && f["message"].as_str().unwrap().contains("union value")
    ));
}

#[test]
fn size_and_offset_rules() {
    let spec = temp_spec(
        "size",
        "s.h",
        "struct stats { float mean; int count; };\nstruct header { long magic; char version; };\n",
    );
    let (_, doc) = ffi_json_code("check", &[&lib(), &spec]);
    let all = findings(&doc);
    let f = with_code(&doc, "FFI0202");
    assert_eq!(f.len(), 2, "{}", show(&all));
    assert!(f.iter().any(|f| f["message"]
        .as_str()
        .unwrap()
        .contains("struct stats is 8 bytes as declared but 16 bytes")));
    let f = with_code(&doc, "FFI0205");
    assert!(f.iter().any(|f| f["message"]
        .as_str()
        .unwrap()
        .contains("member `count` of struct stats is at offset 4 as declared but at 8")));
    assert!(f.iter().any(|f| f["message"]
        .as_str()
        .unwrap()
        .contains("member `version` of struct header is at offset 8 as declared but at 4")));
}

#[test]
fn no_dwarf_option_skips_the_comparison() {
    let (_, doc) = ffi_json_code("check", &["--no-dwarf", &lib(), &src("mismatch_bad.h")]);
    assert!(
        findings(&doc)
            .iter()
            .all(|f| !f["code"].as_str().unwrap().starts_with("FFI02") || f["code"] == "FFI0201"),
        "{}",
        show(&findings(&doc))
    );
}

#[test]
fn without_dwarf_says_what_was_searched() {
    let p = testdata("elf/x86_64/libext.so.1");
    let (_, doc) = ffi_json_code("check", &[p.to_str().unwrap(), &src("mismatch.cdef")]);
    let f = with_code(&doc, "FFI0220");
    assert_eq!(f.len(), 1, "{}", show(&findings(&doc)));
    assert_eq!(f[0]["severity"], "info");
    let found = f[0]["found"].as_str().unwrap();
    assert!(found.contains(".build-id"), "{found}");
    assert!(with_code(&doc, "FFI0217").is_empty());

    let empty = std::env::temp_dir().join(format!("ffi-doctor-empty-debug-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let (_, doc) = ffi_json_code(
        "check",
        &[
            "--debug-dir",
            empty.to_str().unwrap(),
            p.to_str().unwrap(),
            &src("mismatch.cdef"),
        ],
    );
    let f = with_code(&doc, "FFI0220");
    assert_eq!(f.len(), 1);
    assert!(f[0]["found"]
        .as_str()
        .unwrap()
        .contains(empty.to_str().unwrap()));
}

#[test]
fn pdb_only_dll_is_a_note() {
    let p = testdata("dwarf/pe/pdbonly.dll");
    let (_, doc) = ffi_json_code("check", &[p.to_str().unwrap(), &src("mismatch.cdef")]);
    let f = with_code(&doc, "FFI0221");
    assert_eq!(f.len(), 1, "{}", show(&findings(&doc)));
    assert!(f[0]["message"].as_str().unwrap().contains("PDB"));
    assert!(with_code(&doc, "FFI0220").is_empty());
}

#[test]
fn separate_debug_file() {
    let lib = testdata("dwarf/split/libshapes.so");
    let dbg = testdata("dwarf/split/libshapes.so.debug");
    let spec = temp_spec("split", "e.h", "enum nothing_here { NOTHING = 1 };\n");
    for extra in [vec![], vec!["--debug-file", dbg.to_str().unwrap()]] {
        let mut args = extra.clone();
        args.push(lib.to_str().unwrap());
        args.push(&spec);
        let (_, doc) = ffi_json_code("check", &args);
        let f = with_code(&doc, "FFI0217");
        assert_eq!(f.len(), 1, "{:?}: {}", extra, show(&findings(&doc)));
        let m = f[0]["message"].as_str().unwrap();
        let want = if extra.is_empty() {
            "debuglink"
        } else {
            "debug-file"
        };
        assert!(m.contains(want), "{m}");
        assert!(f[0]["found"]
            .as_str()
            .unwrap()
            .contains("enum nothing_here"));
    }
    // An unusable --debug-file is an input error.
    let (code, _) = ffi_json_code(
        "check",
        &[
            "--debug-file",
            testdata("src/mismatch.c").to_str().unwrap(),
            lib.to_str().unwrap(),
            &spec,
        ],
    );
    assert_eq!(code, 2);
}

#[test]
fn human_output_shows_expected_and_found() {
    let out = common::ffi(&["check", &lib(), &src("mismatch_bad.h")]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FFI0211 error"), "{text}");
    assert!(
        text.contains("expected: `int` (4-byte signed integer)"),
        "{text}"
    );
    assert!(
        text.contains("found:    `size_t` (8-byte unsigned integer)"),
        "{text}"
    );
}

const LIBZ: &str = "/lib/x86_64-linux-gnu/libz.so.1";
const ZLIB_H: &str = "/usr/include/zlib.h";

fn have_zlib() -> bool {
    if cfg!(all(target_os = "linux", target_arch = "x86_64"))
        && Path::new(LIBZ).exists()
        && Path::new(ZLIB_H).exists()
    {
        return true;
    }
    eprintln!("skipped: needs {LIBZ} and {ZLIB_H} on x86_64 Linux");
    false
}

#[test]
fn runtime_summary_with_zlib() {
    if !have_zlib() {
        return;
    }
    let (code, doc) = ffi_json_code(
        "check",
        &[
            "--runtime",
            "--call",
            "zlibVersion",
            "--expect",
            "1.*",
            LIBZ,
            ZLIB_H,
        ],
    );
    assert_eq!(code, 0, "{}", show(&findings(&doc)));
    let f = with_code(&doc, "FFI0511");
    assert_eq!(f.len(), 1, "{}", show(&findings(&doc)));
    assert_eq!(f[0]["severity"], "info");
    let m = f[0]["message"].as_str().unwrap();
    assert!(m.starts_with("loaded in an isolated child: "), "{m}");
    assert!(
        m.contains("declared symbols resolved; zlibVersion() = \"1."),
        "{m}"
    );
    assert!(m.ends_with("matches '1.*'"), "{m}");

    let (code, doc) = ffi_json_code(
        "check",
        &[
            "--runtime",
            "--call",
            "zlibVersion",
            "--expect",
            "0.*",
            LIBZ,
            ZLIB_H,
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(
        with_code(&doc, "FFI0504").len(),
        1,
        "{}",
        show(&findings(&doc))
    );
}
