//! `ffi-doctor diff` against libabigail's `abidiff` on pairs of releases of one small C library, one change per
//! pair (testdata/diff/, built by testdata/src/build-diff.sh with gcc and clang, DWARF 4 and 5), plus mingw PE
//! (DWARF) and Mach-O (exports only) pairs. For every ELF pair the table gives our verdict, the codes that must
//! be reported, and abidiff's exit bits (4: ABI change, 8: incompatible change) as the oracle gives them today;
//! where our verdict and abidiff's differ, the row names the reason.

mod common;

use std::path::{Path, PathBuf};

use common::{diff_manifest as manifest, ffi_command, oracle, run_json, testdata};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Nothing at warning or above.
    Compatible,
    /// Warnings, no errors.
    Warning,
    /// Errors: callers of OLD break.
    Breaking,
}
use Verdict::*;

/// (kind, our verdict, codes that must be reported, abidiff's exit code, why the verdicts differ).
const ELF: &[(&str, Verdict, &[&str], i32, &str)] = &[
    ("nochange", Compatible, &[], 0, ""),
    ("export_removed", Breaking, &["FFI0801"], 12, ""),
    ("export_added", Compatible, &["FFI0802"], 4,
     "abidiff calls a new function an ABI change; no caller of OLD uses it"),
    ("kind_changed", Breaking, &["FFI0803"], 12, ""),
    ("data_size", Breaking, &["FFI0804", "FFI0835"], 4, ""),
    ("default_moved", Warning, &["FFI0805"], 0,
     "abidiff sees dl_ver@DL_1.0 kept for linked binaries; dlsym by plain name (ctypes, cffi) now binds DL_2.0"),
    ("version_removed", Breaking, &["FFI0806", "FFI0805"], 12, ""),
    ("version_added", Compatible, &["FFI0807"], 4,
     "a new version node (with a new function) is compatible for every caller of OLD"),
    ("soname_changed", Compatible, &["FFI0811"], 12,
     "a new SONAME is the intended way to break: binaries linked against OLD keep loading OLD"),
    ("needed_added", Warning, &["FFI0813"], 4, ""),
    ("needed_removed", Compatible, &["FFI0814"], 0, ""),
    ("glibc_raised", Warning, &["FFI0815"], 4, ""),
    ("param_count", Breaking, &["FFI0830"], 4, ""),
    ("param_type", Breaking, &["FFI0831"], 4, ""),
    ("param_sign", Warning, &["FFI0832"], 4, ""),
    ("return_type", Breaking, &["FFI0833"], 4, ""),
    ("variadic", Breaking, &["FFI0834"], 4, ""),
    ("pointee", Warning, &["FFI0831"], 4, ""),
    ("cv_changed", Compatible, &["FFI0848"], 0, ""),
    ("typedef_name", Compatible, &["FFI0848"], 0, ""),
    ("variable_type", Breaking, &["FFI0835", "FFI0804"], 4, ""),
    ("const_var", Warning, &["FFI0848"], 4, ""),
    ("member_added", Breaking, &["FFI0838", "FFI0836"], 4, ""),
    ("member_removed", Breaking, &["FFI0839", "FFI0836"], 4, ""),
    ("member_order", Breaking, &["FFI0840"], 4, ""),
    ("member_offset", Warning, &["FFI0841", "FFI0836"], 4, ""),
    ("member_type", Warning, &["FFI0842", "FFI0841"], 4, ""),
    ("member_sign", Warning, &["FFI0842"], 4, ""),
    ("member_renamed", Compatible, &["FFI0844"], 0, ""),
    ("array_len", Warning, &["FFI0842", "FFI0836"], 4, ""),
    ("fnptr", Warning, &["FFI0842"], 4, ""),
    ("bitfield_width", Breaking, &["FFI0843"], 4, ""),
    ("bitfield_pos", Breaking, &["FFI0843"], 4, ""),
    ("record_kind", Breaking, &["FFI0849"], 4, ""),
    ("nested", Warning, &["FFI0836", "FFI0842"], 4, ""),
    ("anon_union", Warning, &["FFI0836"], 4, ""),
    ("record_align", Warning, &["FFI0837", "FFI0836"], 4, ""),
    ("pointed_record", Warning, &["FFI0842"], 4, ""),
    ("enum_appended", Compatible, &["FFI0845"], 0, ""),
    ("enum_renumber", Breaking, &["FFI0846"], 4, ""),
    ("enum_removed", Breaking, &["FFI0846"], 4, ""),
    ("enum_size", Breaking, &["FFI0847"], 4, ""),
    ("return_record", Breaking, &["FFI0836", "FFI0838"], 4, ""),
    ("opaque_internal", Warning, &["FFI0836"], 4, ""),
    ("static_added", Compatible, &[], 0, ""),
    // Both at once: the gate calls the removal an intended break (tests/gate_abi_baseline.rs).
    ("soname_break", Breaking, &["FFI0811", "FFI0801"], 12, ""),
];

/// The kinds whose changed record callers reach only through pointers (`const struct dl_buf *`, `struct dl_handle
/// *`): from DWARF alone they are warnings, since only the public header can say whether callers see the record's
/// layout. With difflib.h as the interest, the records it defines completely are errors again; `dl_handle`, which
/// it leaves opaque, is out of the ABI.
const POINTER_ONLY: &[(&str, Verdict)] = &[
    ("member_offset", Breaking),
    ("member_type", Breaking),
    ("array_len", Breaking),
    ("nested", Breaking),
    ("anon_union", Breaking),
    ("record_align", Breaking),
    ("pointed_record", Breaking),
    ("opaque_internal", Compatible),
];

fn all_findings(doc: &Value) -> Vec<&Value> {
    let mut out: Vec<&Value> = doc["pairs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["findings"].as_array().into_iter().flatten())
        .collect();
    out.extend(doc["unpaired"].as_array().into_iter().flatten());
    out
}

fn verdict_of(doc: &Value) -> Verdict {
    let sev: Vec<&str> = all_findings(doc)
        .iter()
        .filter_map(|f| f["severity"].as_str())
        .collect();
    if sev.contains(&"error") {
        Breaking
    } else if sev.contains(&"warning") {
        Warning
    } else {
        Compatible
    }
}

fn codes_of(doc: &Value) -> Vec<String> {
    let mut c: Vec<String> = all_findings(doc)
        .iter()
        .filter_map(|f| f["code"].as_str().map(String::from))
        .collect();
    c.sort();
    c.dedup();
    c
}

fn diff(args: &[&Path], extra: &[&str]) -> (i32, Value) {
    let mut a: Vec<std::ffi::OsString> = args.iter().map(|p| p.as_os_str().to_owned()).collect();
    a.extend(extra.iter().map(Into::into));
    let r = run_json(ffi_command(), "diff", a);
    (r.code, r.doc)
}

fn check_pair(kind: &str, old: &Path, new: &Path, want: Verdict, codes: &[&str]) -> Value {
    let (code, doc) = diff(&[old, new], &[]);
    let got = verdict_of(&doc);
    let have = codes_of(&doc);
    assert_eq!(got, want, "{kind}: verdict; findings: {have:?}");
    assert_eq!(code, i32::from(want == Breaking), "{kind}: exit code");
    assert_eq!(
        doc["summary"]["breaking"],
        want == Breaking,
        "{kind}: summary"
    );
    for c in codes {
        assert!(
            have.iter().any(|h| h == c),
            "{kind}: {c} not reported; got {have:?}"
        );
    }
    doc
}

#[test]
fn elf_pairs_against_abidiff() {
    let dir = testdata("diff/elf");
    let rows = manifest(&dir);
    assert!(rows.len() >= 40, "at least 40 change kinds");
    let abidiff = oracle("abidiff");
    let mut table = Vec::new();
    for [kind, tc, old, new] in &rows {
        let Some(&(_, want, codes, abi_want, reason)) = ELF.iter().find(|r| r.0 == kind) else {
            panic!("{kind}: no expectation in the table");
        };
        let doc = check_pair(kind, &dir.join(old), &dir.join(new), want, codes);
        // Every pair with DWARF on both sides had its types compared.
        assert!(
            codes_of(&doc).iter().any(|c| c == "FFI0851"),
            "{kind}: types compared"
        );
        let abi = abidiff.as_ref().map(|a| {
            let st = std::process::Command::new(a)
                .arg(dir.join(old))
                .arg(dir.join(new))
                .output()
                .expect("run abidiff");
            st.status.code().unwrap_or(-1)
        });
        if let Some(bits) = abi {
            assert_eq!(bits, abi_want, "{kind}: abidiff's exit bits changed");
            let abi_change = bits & 4 != 0;
            let ours_change = want != Compatible;
            assert!(
                abi_change == ours_change || !reason.is_empty(),
                "{kind}: abidiff says {bits}, we say {want:?}, and the table gives no reason"
            );
            assert!(
                abi_change != ours_change || reason.is_empty(),
                "{kind}: verdicts agree, the reason is stale"
            );
        }
        table.push(format!(
            "{kind:16} {tc:7} ours {want:?}{:>4} abidiff {}{}",
            "",
            abi.map_or("skipped".to_string(), |b| b.to_string()),
            if reason.is_empty() {
                String::new()
            } else {
                format!("  — {reason}")
            }
        ));
    }
    println!("{}", table.join("\n"));
}

#[test]
fn a_spec_that_leaves_a_record_opaque_takes_it_out_of_the_abi() {
    let dir = testdata("diff/elf");
    let row = manifest(&dir)
        .into_iter()
        .find(|r| r[0] == "opaque_internal")
        .unwrap();
    let header = testdata("src/diff/difflib.h");
    let (code, doc) = diff(
        &[&dir.join(&row[2]), &dir.join(&row[3])],
        &["--spec", header.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{:?}", codes_of(&doc));
    assert_eq!(verdict_of(&doc), Compatible, "{:?}", codes_of(&doc));
    // abidiff agrees once it is told which headers are public.
    if let Some(a) = oracle("abidiff") {
        let h = testdata("src/diff");
        let st = std::process::Command::new(a)
            .arg("--headers-dir1")
            .arg(&h)
            .arg("--headers-dir2")
            .arg(&h)
            .arg(dir.join(&row[2]))
            .arg(dir.join(&row[3]))
            .output()
            .unwrap();
        println!("abidiff --headers-dir: exit {:?}", st.status.code());
    }
}

#[test]
fn a_spec_decides_records_reached_only_through_pointers() {
    let dir = testdata("diff/elf");
    let rows = manifest(&dir);
    let header = testdata("src/diff/difflib.h");
    for &(kind, with_spec) in POINTER_ONLY {
        let (want, codes) = ELF
            .iter()
            .find(|r| r.0 == kind)
            .map(|r| (r.1, r.2))
            .unwrap();
        assert_eq!(want, Warning, "{kind}: DWARF only");
        for row in rows.iter().filter(|r| r[0] == kind) {
            let (old, new) = (dir.join(&row[2]), dir.join(&row[3]));
            // DWARF only: every finding about the record is at most a warning, and says how to decide.
            let (_, doc) = diff(&[&old, &new], &[]);
            let hints: Vec<&str> = all_findings(&doc)
                .iter()
                .filter(|f| f["severity"] == "warning")
                .filter_map(|f| f["hint"].as_str())
                .collect();
            assert!(
                !hints.is_empty() && hints.iter().all(|h| h.contains("--spec HEADER")),
                "{kind}: {hints:?}"
            );
            let (code, doc) = diff(&[&old, &new], &["--spec", header.to_str().unwrap()]);
            assert_eq!(
                verdict_of(&doc),
                with_spec,
                "{kind} {}: with the header",
                row[1]
            );
            assert_eq!(code, i32::from(with_spec == Breaking), "{kind}: exit");
            if with_spec == Breaking {
                let have = codes_of(&doc);
                for c in codes {
                    assert!(have.iter().any(|h| h == c), "{kind}: {c}; {have:?}");
                }
            }
        }
    }
}

#[test]
fn a_baseline_entry_suppresses_a_reported_change() {
    let dir = testdata("diff/elf");
    let row = manifest(&dir)
        .into_iter()
        .find(|r| r[0] == "export_removed")
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("ffi-doctor.toml");
    std::fs::write(
        &cfg,
        "[[baseline]]\ncode = \"FFI0801\"\nlocation-glob = \"*export_removed.so (symbol dl_gone)\"\n\
         reason = \"dl_gone was deprecated for two releases\"\n",
    )
    .unwrap();
    let (code, doc) = diff(
        &[&dir.join(&row[2]), &dir.join(&row[3])],
        &["--suppressions", cfg.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    let sup = doc["suppressed"].as_array().expect("suppressed");
    assert_eq!(sup.len(), 1);
    assert_eq!(sup[0]["code"], "FFI0801");
    assert_eq!(sup[0]["reason"], "dl_gone was deprecated for two releases");
    // A baseline without a reason is refused.
    std::fs::write(
        &cfg,
        "[[baseline]]\ncode = \"FFI0801\"\nlocation-glob = \"*\"\n",
    )
    .unwrap();
    let out = common::ffi(&[
        "diff",
        dir.join(&row[2]).to_str().unwrap(),
        dir.join(&row[3]).to_str().unwrap(),
        "--suppressions",
        cfg.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn pe_pairs_with_dwarf() {
    let dir = testdata("diff/pe");
    let want: &[(&str, Verdict, &[&str])] = &[
        ("export_removed", Breaking, &["FFI0801", "FFI0808"]),
        // Every name after dl_new moved one ordinal up: importers by ordinal break.
        ("export_added", Breaking, &["FFI0802", "FFI0808"]),
        ("return_type", Breaking, &["FFI0833"]),
        ("member_added", Breaking, &["FFI0838", "FFI0836"]),
        ("nochange", Compatible, &[]),
        ("forwarder", Warning, &["FFI0809"]),
    ];
    let rows = manifest(&dir);
    assert_eq!(rows.len(), want.len());
    for [kind, _, old, new] in &rows {
        let &(_, v, codes) = want.iter().find(|w| w.0 == kind).unwrap();
        let doc = check_pair(kind, &dir.join(old), &dir.join(new), v, codes);
        assert!(
            codes_of(&doc).iter().any(|c| c == "FFI0851"),
            "{kind}: mingw DWARF read"
        );
    }
}

#[test]
fn macho_pairs_exports_only() {
    let dir = testdata("diff/macho");
    let want: &[(&str, Verdict, &[&str])] = &[
        ("export_removed", Breaking, &["FFI0801", "FFI0850"]),
        ("install_name", Compatible, &["FFI0811", "FFI0812"]),
        ("version_lowered", Breaking, &["FFI0812"]),
        ("minos_raised", Warning, &["FFI0816"]),
        ("fat_export_added", Compatible, &["FFI0802"]),
        ("arch_removed", Breaking, &["FFI0819"]),
        ("reexport_added", Warning, &["FFI0810"]),
    ];
    for [kind, _, old, new] in &manifest(&dir) {
        let &(_, v, codes) = want.iter().find(|w| w.0 == kind).unwrap();
        let doc = check_pair(kind, &dir.join(old), &dir.join(new), v, codes);
        if kind == "fat_export_added" {
            assert_eq!(
                doc["pairs"].as_array().unwrap().len(),
                2,
                "one pair per slice"
            );
        }
    }
}

#[test]
fn directories_pair_by_name_and_renders_sarif_and_junit() {
    let dir = testdata("diff/elf");
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
    std::fs::create_dir_all(old.join("lib")).unwrap();
    std::fs::create_dir_all(new.join("lib")).unwrap();
    let row = manifest(&dir)
        .into_iter()
        .find(|r| r[0] == "param_type")
        .unwrap();
    std::fs::copy(dir.join(&row[2]), old.join("lib/libdifflib.so.1.0")).unwrap();
    std::fs::copy(dir.join(&row[3]), new.join("lib/libdifflib.so.1.1")).unwrap();
    std::fs::copy(dir.join(&row[2]), old.join("lib/libgone.so")).unwrap();
    let sarif = tmp.path().join("d.sarif");
    let junit = tmp.path().join("d.xml");
    let (code, doc) = diff(
        &[&old, &new],
        &[
            "--sarif",
            sarif.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 1);
    let codes = codes_of(&doc);
    assert!(codes.contains(&"FFI0831".to_string()), "{codes:?}");
    assert!(codes.contains(&"FFI0817".to_string()), "{codes:?}");
    let s: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(s["version"], "2.1.0");
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata("sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&s)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "SARIF against the official schema: {errors:?}"
    );
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert!(results.iter().any(|r| r["ruleId"] == "FFI0831"));
    let x = std::fs::read_to_string(&junit).unwrap();
    assert!(x.contains("<failure") && x.contains("FFI0831"), "{x}");
    // Well-formed XML.
    let mut reader = quick_xml::Reader::from_str(&x);
    let mut depth = 0i32;
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            quick_xml::events::Event::Start(_) => depth += 1,
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
}

#[test]
fn unusable_inputs_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.so");
    std::fs::write(&bad, b"\x7fELF\x02\x01\x01garbage").unwrap();
    let good: PathBuf = testdata("diff/elf/base-gcc4.so");
    let out = common::ffi(&["diff", good.to_str().unwrap(), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.so"));
    let out = common::ffi(&["diff", good.to_str().unwrap(), "/nonexistent/x.so"]);
    assert_eq!(out.status.code(), Some(2));
    // A library against a directory: two kinds of input, not two releases.
    let dir = testdata("diff/elf");
    let out = common::ffi(&["diff", good.to_str().unwrap(), dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a library file") && err.contains("a directory"),
        "{err}"
    );
    // The corpus of broken files (testdata/bad/), on either side: an answer or exit 2 naming the file, never a
    // panic.
    for bad in common::fixtures("bad") {
        let b = bad.to_str().unwrap();
        for args in [["diff", good.to_str().unwrap(), b], ["diff", b, b]] {
            let out = common::ffi(&args);
            let code = out.status.code();
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(matches!(code, Some(0..=2)), "{args:?}: {code:?}\n{err}");
            assert!(
                !err.contains("panicked") && !err.contains("internal error"),
                "{args:?}: {err}"
            );
            if code == Some(2) {
                assert!(
                    err.contains(b),
                    "{args:?}: the message names the file: {err}"
                );
            }
        }
    }
}

/// The types two headers declare, laid out by the ABI engine, give the verdict the compilers' DWARF gives: the
/// same header with and without the change's macro, against the same library pair.
#[test]
fn declared_types_from_two_headers_agree_with_the_dwarf() {
    let dir = testdata("diff/elf");
    let header = testdata("src/diff/difflib.h");
    let tmp = tempfile::tempdir().unwrap();
    let rows = manifest(&dir);
    let mut checked = 0;
    for &(kind, want, codes, _, _) in ELF {
        let Some(macro_name) = rows
            .iter()
            .find(|r| r[0] == kind)
            .map(|_| format!("K_{}", kind.to_ascii_uppercase()))
        else {
            continue;
        };
        // Only the changes a header can show: types, not exports, versions or link flags.
        let type_codes: Vec<&str> = codes
            .iter()
            .copied()
            .filter(|c| c.as_bytes()[5] >= b'3' && *c != "FFI0804")
            .collect();
        let src = std::fs::read_to_string(testdata("src/diff/difflib.c")).unwrap();
        let header_text = std::fs::read_to_string(&header).unwrap();
        if type_codes.is_empty()
            || !header_text.contains(&macro_name)
            || src.contains(&format!("ifdef {macro_name}\nAPI const"))
        {
            continue;
        }
        // Where the header path knows less than the compiler, the reason.
        const NOT_FROM_HEADERS: &[(&str, &str)] = &[(
            "enum_size",
            "the declared enum stays 4 bytes: its `__attribute__((packed))` after the closing brace is not applied",
        )];
        if let Some((_, why)) = NOT_FROM_HEADERS.iter().find(|x| x.0 == kind) {
            println!("{kind}: not compared from headers: {why}");
            continue;
        }
        let row = rows.iter().find(|r| r[0] == kind).unwrap();
        let new_h = tmp.path().join(format!("{kind}.h"));
        std::fs::write(
            &new_h,
            format!("#define {macro_name}\n#include \"{}\"\n", header.display()),
        )
        .unwrap();
        let (_, doc) = diff(
            &[&dir.join(&row[2]), &dir.join(&row[3])],
            &[
                "--old-spec",
                header.to_str().unwrap(),
                "--new-spec",
                new_h.to_str().unwrap(),
            ],
        );
        let have = codes_of(&doc);
        let got = verdict_of(&doc);
        // Two headers say which records are complete: a pointer-only record they define is part of the ABI.
        let want = POINTER_ONLY
            .iter()
            .find(|p| p.0 == kind)
            .map_or(want, |p| p.1);
        assert_eq!(got, want, "{kind}: declared verdict; {have:?}");
        for c in &type_codes {
            assert!(
                have.iter().any(|h| h == c),
                "{kind}: {c} not from the headers; {have:?}"
            );
        }
        assert_eq!(doc["pairs"][0]["new_debug"]["source"], "spec", "{kind}");
        checked += 1;
    }
    assert!(checked >= 25, "{checked} kinds checked from headers");
}
