//! `ffi-doctor check LIB SPEC` end to end (the real binary, JSON): zlib.h against the system libz with
//! `llvm-nm -D` as the oracle for what is exported, the cffi example, a C++ library whose header forgot
//! `extern "C"` (ELF, MinGW and MSVC PE, Mach-O), Mach-O `_` and Win32 `_f@8` decorations, exit codes, the human
//! grouping by declaration, and cross-target layout differences. Also `layout SPEC` (the ABI engine mode).

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;

use common::*;
use serde_json::Value;

const ZLIB_H: &str = "/usr/include/zlib.h";

fn require_oracles() -> bool {
    std::env::var(REQUIRE_ORACLES).as_deref() == Ok("1")
}

/// Skip (print why) or, with FFI_DOCTOR_REQUIRE_ORACLES=1, fail.
fn skip(why: &str) {
    if require_oracles() {
        panic!("{why}, and {REQUIRE_ORACLES}=1");
    }
    println!("skipped: {why}");
}

/// The system libz as `ctypes.util.find_library("z")` + `CDLL` would load it: our `resolve` (ld.so cache), else
/// a glob of the usual library directories.
fn libz() -> Option<PathBuf> {
    let out = ffi(&["resolve", "z", "--format", "json"]);
    if out.status.success() {
        if let Ok(doc) = serde_json::from_slice::<Value>(&out.stdout) {
            if let Some(p) = doc["load"]["path"].as_str() {
                let p = PathBuf::from(p);
                if p.is_file() {
                    return Some(p);
                }
            }
        }
    }
    system_lib("libz.so.1", |n| n == "libz.so.1")
}

/// zlib.h and libz, or `None` after saying why the test is skipped.
fn zlib() -> Option<PathBuf> {
    if !std::path::Path::new(ZLIB_H).is_file() {
        skip("/usr/include/zlib.h not found (apt-get install zlib1g-dev)");
        return None;
    }
    let Some(lib) = libz() else {
        skip("libz.so.1 not found");
        return None;
    };
    Some(lib)
}

/// The name between the first pair of backticks of a message.
fn quoted(msg: &str) -> &str {
    msg.split('`').nth(1).unwrap_or("")
}

fn fx(p: &str) -> String {
    testdata(p).to_string_lossy().into_owned()
}

#[test]
fn zlib_h_against_system_libz_matches_llvm_nm() {
    let Some(lib) = zlib() else { return };
    let Some(nm) = oracle("llvm-nm") else { return };
    let lib_s = lib.to_string_lossy().into_owned();
    let (code, doc) = ffi_json_code("check", &[&lib_s, ZLIB_H]);
    assert_eq!(code, 0, "zlib.h against {lib_s} must exit 0: {doc:#}");

    // What zlib.h declares, parsed the way `check` parses it for this library (the host's target).
    let target = ffi_doctor::abi::Target::host().expect("a host target the ABI engine knows");
    let opts = ffi_doctor::decl::ParseOptions {
        target_defines: target.predefined_macros(),
        ..Default::default()
    };
    let spec = ffi_doctor::decl::parse_header(ZLIB_H, &opts).expect("zlib.h parses");
    let declared: BTreeSet<String> = spec.functions.iter().map(|f| f.name.clone()).collect();
    assert!(
        declared.len() > 60,
        "zlib.h declares {} functions",
        declared.len()
    );
    assert_eq!(
        doc["images"][0]["declared_functions"].as_u64(),
        Some(spec.functions.len() as u64)
    );

    // The oracle: llvm-nm's defined dynamic symbols (version suffixes dropped).
    let exported: BTreeSet<String> = tool(&nm, &["-D", "--defined-only", &lib_s])
        .lines()
        .filter_map(|l| l.split_whitespace().nth(2))
        .map(|n| n.split('@').next().unwrap_or(n).to_string())
        .collect();
    let expected_missing: BTreeSet<String> = declared.difference(&exported).cloned().collect();
    let reported_missing: BTreeSet<String> = with_code(&doc, "FFI0101")
        .iter()
        .map(|f| quoted(f["message"].as_str().unwrap()).to_string())
        .collect();
    assert_eq!(
        reported_missing, expected_missing,
        "declared-but-not-exported functions: ours vs llvm-nm"
    );
    for f in findings(&doc) {
        assert_ne!(f["severity"], "error", "no error findings expected: {f:#}");
    }

    // The zlib `uLong` trap: `unsigned long` through a typedef, named with its chain.
    let ulong = with_code(&doc, "FFI0401");
    assert!(
        ulong.iter().any(|f| {
            let m = f["message"].as_str().unwrap();
            m.contains("total_in") && m.contains("through typedef uLong")
        }),
        "FFI0401 for z_stream_s.total_in through uLong: {ulong:#?}"
    );
    assert!(
        ulong.iter().any(|f| {
            let m = f["message"].as_str().unwrap();
            m.contains("`compress`") && m.contains("uLongf → uLong")
        }),
        "FFI0401 for compress() naming the chain uLongf → uLong: {ulong:#?}"
    );
    for f in &ulong {
        assert!(f["location"]
            .as_str()
            .unwrap()
            .starts_with("/usr/include/zlib.h:"));
    }
}

#[test]
fn zlib_h_cross_target_layout_differs_on_windows() {
    let Some(lib) = zlib() else { return };
    let lib_s = lib.to_string_lossy().into_owned();
    let (code, doc) = ffi_json_code(
        "check",
        &[
            &lib_s,
            ZLIB_H,
            "--targets",
            "linux-x86_64,windows-x86_64-msvc",
        ],
    );
    assert_eq!(code, 0, "FFI0201 is a warning: {doc:#}");
    let layout = with_code(&doc, "FFI0201");
    let z = layout
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("z_stream_s"))
        .unwrap_or_else(|| panic!("FFI0201 for z_stream_s: {layout:#?}"));
    let found = z["found"].as_str().unwrap();
    assert!(found.contains("linux-x86_64: size 112"), "{found}");
    assert!(found.contains("windows-x86_64-msvc: size 88"), "{found}");
    assert!(
        found.contains("total_in@12+4"),
        "uLong is 4 bytes on Windows: {found}"
    );
}

#[test]
fn zlib_cdef_checks_clean() {
    let Some(lib) = libz() else {
        skip("libz.so.1 not found");
        return;
    };
    let lib_s = lib.to_string_lossy().into_owned();
    let cdef = root().join("examples/zlib.cdef");
    let (code, doc) = ffi_json_code("check", &[&lib_s, cdef.to_str().unwrap()]);
    assert_eq!(code, 0, "{doc:#}");
    for f in findings(&doc) {
        assert_ne!(f["severity"], "error", "{f:#}");
    }
    assert_eq!(doc["images"][0]["declared_functions"], 8);
    // Warnings fail with --fail-on warning.
    let out = ffi(&[
        "check",
        &lib_s,
        cdef.to_str().unwrap(),
        "--fail-on",
        "warning",
    ]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn cxx_header_without_extern_c() {
    let header = fx("src/cxx_api.h");
    for (lib, demangled) in [
        ("elf/x86_64/libcxx.so", "demo::geometry::area(int, int)"),
        ("pe/mingw64/cxx.dll", "demo::geometry::area(int, int)"),
        (
            "pe/msvc64/cxx.dll",
            "int __cdecl demo::geometry::area(int, int)",
        ),
        ("macho/arm64/libcxx.dylib", "demo::geometry::area(int, int)"),
    ] {
        let (code, doc) = ffi_json_code("check", &[&fx(lib), &header]);
        assert_eq!(code, 1, "{lib}: an error finding exits 1");
        let errors: Vec<&Value> = findings(&doc)
            .into_iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        assert_eq!(errors.len(), 1, "{lib}: exactly one error: {errors:#?}");
        let f = errors[0];
        assert_eq!(f["code"], "FFI0101", "{lib}");
        assert_eq!(quoted(f["message"].as_str().unwrap()), "area", "{lib}");
        assert!(
            f["location"].as_str().unwrap().ends_with("cxx_api.h:5:5"),
            "{lib}: {}",
            f["location"]
        );
        let hint = f["hint"].as_str().unwrap();
        assert!(
            hint.contains(&format!("`{demangled}`")),
            "{lib}: the hint names the (int, int) overload: {hint}"
        );
        assert!(hint.contains("extern \"C\""), "{lib}: {hint}");
        assert!(hint.contains("2 other overloads"), "{lib}: {hint}");
        if lib.starts_with("macho") {
            assert!(
                hint.contains("`_ZN4demo8geometry4areaEii` for dlsym"),
                "{lib}: {hint}"
            );
        }
    }
}

#[test]
fn macho_underscore_and_win32_decorations_are_found() {
    let header = fx("src/demo_api.h");
    for (lib, declared) in [
        ("macho/arm64/libdemo.dylib", 2),
        ("macho/x86_64/libdemo.dylib", 2),
        ("pe/mingw32/demo.dll", 4),
        ("pe/mingw64/demo.dll", 2),
    ] {
        let (code, doc) = ffi_json_code("check", &[&fx(lib), &header]);
        assert_eq!(code, 0, "{lib}: {doc:#}");
        assert_eq!(
            doc["images"][0]["declared_functions"], declared,
            "{lib}: the header is parsed for the library's target"
        );
        let sym: Vec<&Value> = findings(&doc)
            .into_iter()
            .filter(|f| f["code"].as_str().unwrap().starts_with("FFI01"))
            .collect();
        assert!(sym.is_empty(), "{lib}: {sym:#?}");
    }
}

#[test]
fn exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.h");
    std::fs::write(&bad, "int ok(void);\nint broken(int;\n").unwrap();
    let lib = fx("elf/x86_64/libdemo.so");
    let out = ffi(&["check", &lib, bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "unparsable spec");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:2:", bad.display())),
        "file:line:col in stderr: {err}"
    );

    let out = ffi(&["check", "/nonexistent/libnothere.so", &fx("src/demo_api.h")]);
    assert_eq!(out.status.code(), Some(2), "unreadable library");
    let out = ffi(&["check", &fx("bad/notelf.so"), &fx("src/demo_api.h")]);
    assert_eq!(out.status.code(), Some(2), "not a library");

    let out = ffi(&["check", &lib, &fx("src/demo_api.h")]);
    assert_eq!(out.status.code(), Some(0), "clean");
    let out = ffi(&["check", &fx("elf/x86_64/libcxx.so"), &fx("src/cxx_api.h")]);
    assert_eq!(out.status.code(), Some(1), "error findings");
    // Only a warning (a `long` member: FFI0401), then --fail-on warning.
    let warn = dir.path().join("warn.h");
    std::fs::write(
        &warn,
        "struct warn_only { long x; };\nint demo_add(int a, int b);\n",
    )
    .unwrap();
    let out = ffi(&["check", &lib, warn.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "warnings pass by default");
    let out = ffi(&[
        "check",
        &lib,
        warn.to_str().unwrap(),
        "--fail-on",
        "warning",
    ]);
    assert_eq!(out.status.code(), Some(1), "--fail-on warning");
}

#[test]
fn human_output_groups_findings_by_declaration() {
    let header = fx("src/cxx_api.h");
    let out = ffi(&["check", &fx("elf/x86_64/libcxx.so"), &header]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("libcxx.so (x86_64, target linux-x86_64) against")
            && lines[0].contains("3 functions"),
        "{text}"
    );
    let at = lines
        .iter()
        .position(|l| *l == format!("{header}:5:5"))
        .unwrap_or_else(|| panic!("a `{header}:5:5` header line:\n{text}"));
    assert!(
        lines[at + 1].starts_with("  FFI0101 error: function `area` is not exported by libcxx.so"),
        "{text}"
    );
    assert!(
        lines[at + 1..].iter().any(|l| l
            .trim_start()
            .starts_with("hint: the library exports `demo::geometry::area(int, int)`")),
        "{text}"
    );
    assert_line(&text, &["1 errors,", "0 warnings"]);
}

// ------------------------------------------------------------------------------------------------ layout SPEC

fn layout_json(args: &[&str]) -> Value {
    let doc = ffi_json("layout", args);
    assert_eq!(doc["schema"], "ffi-doctor/layout/v1");
    doc
}

#[test]
fn layout_of_a_header_for_the_host_and_across_targets() {
    let dir = tempfile::tempdir().unwrap();
    let h = dir.path().join("api.h");
    std::fs::write(
        &h,
        "typedef unsigned long ulong_t;\n\
         struct rec { char c; ulong_t n; int i; };\n\
         typedef struct { int a; int b; } pair;\n\
         struct fixed { int a; int b; };\n",
    )
    .unwrap();
    let hs = h.to_str().unwrap();

    let doc = layout_json(&[hs, "--type", "rec", "--target", "linux-x86_64"]);
    assert_eq!(doc["mode"], "spec");
    let r = &doc["records"][0];
    assert_eq!(r["name"], "struct rec");
    assert_eq!(r["layouts"][0]["size"], 24);
    assert_eq!(r["layouts"][0]["fields"][1]["type"], "ulong_t");
    assert_eq!(r["layouts"][0]["fields"][1]["offset"], 8);

    let doc = layout_json(&[hs, "--targets", "all"]);
    let recs = doc["records"].as_array().unwrap();
    let names: Vec<&str> = recs.iter().map(|r| s(&r["name"])).collect();
    assert_eq!(names, ["struct rec", "pair", "struct fixed"]);
    let rec = &recs[0];
    assert_eq!(rec["identical"], false);
    let lp64 = rec["layouts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| strs(&l["targets"]).contains(&"linux-x86_64".to_string()))
        .unwrap();
    assert_eq!(
        strs(&lp64["targets"]),
        [
            "linux-x86_64",
            "linux-aarch64",
            "macos-x86_64",
            "macos-arm64"
        ]
    );
    assert_eq!(lp64["size"], 24);
    let n = rec["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["field"] == "n")
        .expect("a difference for field n");
    assert!(n["values"].as_array().unwrap().len() >= 2);
    assert_eq!(recs[2]["identical"], true);
    assert_eq!(recs[2]["layouts"].as_array().unwrap().len(), 1);

    // Human: one pahole block per group of identical targets, then the summary.
    let out = ffi(&[
        "layout",
        "-q",
        hs,
        "--type",
        "rec",
        "--targets",
        "linux-x86_64,windows-x86_64-msvc,macos-arm64",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_line(&text, &["/* linux-x86_64, macos-arm64 */"]);
    assert_line(&text, &["/* windows-x86_64-msvc */"]);
    assert_line(&text, &["struct rec: 2 different layouts across 3 targets"]);
    assert_line(&text, &["linux-x86_64, macos-arm64: size 24, align 8"]);
    assert_line(&text, &["windows-x86_64-msvc: size 12, align 4"]);
    assert_line(&text, &["n: offset 8, size 8, align 8 (linux-x86_64, macos-arm64); offset 4, size 4, align 4 (windows-x86_64-msvc)"]);

    // Errors: unknown type, unknown target, --target on a binary.
    let out = ffi(&["layout", hs, "--type", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ffi(&["layout", hs, "--target", "vax"]);
    assert_eq!(out.status.code(), Some(2));
    let out = ffi(&[
        "layout",
        &fx("dwarf/libshapes.dwarf5.so"),
        "--target",
        "linux-x86_64",
    ]);
    assert_eq!(out.status.code(), Some(2));
    // The DWARF mode says so in the same schema.
    let doc = layout_json(&[&fx("dwarf/libshapes.dwarf5.so")]);
    assert_eq!(doc["mode"], "dwarf");
}

#[test]
fn layout_of_zlib_h_z_stream() {
    if !std::path::Path::new(ZLIB_H).is_file() {
        skip("/usr/include/zlib.h not found");
        return;
    }
    let doc = layout_json(&[ZLIB_H, "--type", "z_stream", "--targets", "all"]);
    let r = &doc["records"][0];
    assert_eq!(r["name"], "struct z_stream_s");
    let sizes: Vec<(Vec<String>, u64)> = r["layouts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (strs(&l["targets"]), l["size"].as_u64().unwrap_or(0)))
        .collect();
    let size_of = |t: &str| {
        sizes
            .iter()
            .find(|(ts, _)| ts.iter().any(|x| x == t))
            .map(|(_, s)| *s)
    };
    assert_eq!(size_of("linux-x86_64"), Some(112));
    assert_eq!(size_of("macos-arm64"), Some(112));
    assert_eq!(size_of("windows-x86_64-msvc"), Some(88));
    assert_eq!(size_of("linux-i386"), Some(56));
    let doc = layout_json(&[
        ZLIB_H,
        "--type",
        "uLong",
        "--targets",
        "linux-x86_64,windows-x86_64-msvc",
    ]);
    assert_eq!(doc["records"][0]["kind"], "typedef");
    assert_eq!(doc["records"][0]["layouts"][1]["size"], 4);
}

#[test]
fn system_includes_give_types_but_are_not_checked_as_the_librarys() {
    let Some(lib) = zlib() else { return };
    let lib_s = lib.to_string_lossy().into_owned();
    let (code_plain, plain) = ffi_json_code("check", &[&lib_s, ZLIB_H]);
    let (code_sys, sys) = ffi_json_code("check", &[&lib_s, ZLIB_H, "--system-includes"]);
    assert_eq!((code_plain, code_sys), (0, 0), "{sys:#}");
    // The same declared functions: stdio.h's printf & co. are the C library's, not libz's.
    assert_eq!(
        plain["images"][0]["declared_functions"], sys["images"][0]["declared_functions"],
        "declarations from system headers must not be checked against libz"
    );
    for f in findings(&sys) {
        let loc = f["location"].as_str().unwrap_or("");
        assert!(
            loc.starts_with(ZLIB_H)
                || loc.contains("zconf.h")
                || loc == lib_s
                || !loc.starts_with('/'),
            "a finding about a system header: {f:#}"
        );
    }
}

/// `openssl/ssl.h` declares libcrypto's API too: against libssl those thousands of functions are one warning
/// naming libcrypto (every function and its place in `found`), and each really is a libcrypto export, as
/// `llvm-nm -D` lists them.
#[test]
fn declarations_a_dependency_exports_are_one_warning_per_dependency() {
    let header = "/usr/include/openssl/ssl.h";
    if !std::path::Path::new(header).is_file() {
        if std::env::var(REQUIRE_ORACLES).as_deref() == Ok("1") {
            panic!("{header} not found (apt-get install libssl-dev), and {REQUIRE_ORACLES}=1");
        }
        return println!("skipped: {header} not found");
    }
    let Some(ssl) = system_lib("libssl.so.3", |n| n == "libssl.so.3") else {
        return;
    };
    let Some(crypto) = system_lib("libcrypto.so.3", |n| n == "libcrypto.so.3") else {
        return;
    };
    let Some(nm) = oracle("llvm-nm") else {
        return;
    };
    // Exit 1: one function ssl.h declares is exported by neither (a true error, not this test's subject).
    let (_, doc) = ffi_json_code("check", &[&ssl.to_string_lossy(), header]);
    let grouped: Vec<&Value> = with_code(&doc, "FFI0101")
        .into_iter()
        .filter(|f| s(&f["message"]).contains("(a dependency)"))
        .collect();
    assert_eq!(grouped.len(), 1, "one finding for libcrypto: {grouped:#?}");
    let f = grouped[0];
    assert_eq!(s(&f["severity"]), "warning");
    assert!(s(&f["message"]).contains("libcrypto.so.3"), "{f:#}");
    let names: Vec<&str> = s(&f["found"])
        .lines()
        .map(|l| l.split('`').nth(1).expect("a `name`"))
        .collect();
    assert!(names.len() > 1000, "{} functions", names.len());
    let count: usize = s(&f["message"])
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("the count first");
    assert_eq!(count, names.len());
    let exported: BTreeSet<String> =
        tool(&nm, &["-D", "--defined-only", &crypto.to_string_lossy()])
            .lines()
            .filter_map(|l| l.split_whitespace().last())
            .map(|n| n.split('@').next().unwrap_or(n).to_string())
            .collect();
    let missing: Vec<&&str> = names.iter().filter(|n| !exported.contains(**n)).collect();
    assert!(missing.is_empty(), "not libcrypto exports: {missing:?}");
}
