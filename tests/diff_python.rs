//! `ffi-doctor diff --python BINDING.py`: the verdicts restricted to what a Python binding uses, on every ELF pair
//! of the diff fixture library (testdata/src/build-diff.sh), for a ctypes binding and a cffi binding
//! (testdata/bindings-diff/) that both use `dl_add` and `dl_buf_len` and define `struct dl_buf` completely.
//!
//! Oracle: libabigail's `abidiff` with a suppression file that keeps only the binding's functions (every other
//! exported function, and every exported variable, as `nm -D` lists them, suppressed). A pair is a change for the
//! binding exactly when abidiff reports one, except where the reason is named below. Also: both bindings give the
//! same findings, and what `--python` reports is what the unrestricted diff reports about the same entities.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{diff_manifest as manifest, ffi_command, oracle, run_json, testdata};
use serde_json::Value;

/// The functions both bindings use.
const USED: &[&str] = &["dl_add", "dl_buf_len"];

/// Pairs where our verdict for the binding differs from abidiff's on purpose: (kind, why).
const DIFFERENT: &[(&str, &str)] = &[
    (
        "soname_changed",
        "a new SONAME is the intended way to break (info); abidiff flags every SONAME change",
    ),
    (
        "soname_break",
        "the removed function is not one the binding uses, and the SONAME change is the intended break",
    ),
    (
        "needed_added",
        "a new needed library is loaded for every caller, whatever it calls (identity, warning); abidiff ties it to \
         the added function the suppressions remove",
    ),
    (
        "glibc_raised",
        "a raised GLIBC requirement stops the library loading on older systems for every caller (identity, \
         warning); abidiff ties it to the added function the suppressions remove",
    ),
];

/// (code, severity, location, message) of every finding but the FFI0851 summary.
fn findings(doc: &Value) -> BTreeSet<(String, String, String, String)> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    doc["pairs"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|p| p["findings"].as_array().into_iter().flatten())
        .filter(|f| f["code"] != "FFI0851")
        .map(|f| {
            (
                s(&f["code"]),
                s(&f["severity"]),
                s(&f["location"]),
                s(&f["message"]),
            )
        })
        .collect()
}

fn diff(old: &Path, new: &Path, extra: &[&str]) -> (i32, Value) {
    let mut args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    args.push(old.display().to_string());
    args.push(new.display().to_string());
    let run = run_json(ffi_command(), "diff", &args);
    (run.code, run.doc)
}

/// An abidiff suppression file that keeps only `USED` of the functions, and no variable of either release.
fn suppressions(dir: &Path, old: &Path, new: &Path, nm: &Path) -> PathBuf {
    let mut vars = BTreeSet::new();
    for lib in [old, new] {
        let out = std::process::Command::new(nm)
            .args(["-D", "--defined-only"])
            .arg(lib)
            .output()
            .expect("run nm");
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if let [_, kind, name] = f[..] {
                if matches!(kind, "D" | "B" | "R" | "V" | "G") {
                    vars.insert(name.split('@').next().unwrap_or(name).to_string());
                }
            }
        }
    }
    let mut text = format!(
        "[suppress_function]\n  name_not_regexp = ^({})$\n",
        USED.join("|")
    );
    // Each variable by its exact name: a pattern such as `^dl_` would also match the qualified names of data
    // members (`dl_buf::len`) and suppress the record changes under test.
    if !vars.is_empty() {
        let names: Vec<&str> = vars.iter().map(String::as_str).collect();
        text += &format!(
            "[suppress_variable]\n  name_regexp = ^({})$\n",
            names.join("|")
        );
    }
    let path = dir.join(format!(
        "{}-{}.supp",
        old.file_stem().unwrap().to_string_lossy(),
        new.file_stem().unwrap().to_string_lossy()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_binding_sees_exactly_the_changes_of_what_it_uses() {
    let dir = testdata("diff/elf");
    let ctypes = testdata("bindings-diff/uses_add.py");
    let cffi = testdata("bindings-diff/uses_add_cffi.py");
    let tmp = tempfile::tempdir().unwrap();
    let abidiff = oracle("abidiff");
    let nm = oracle("nm");
    let mut table = Vec::new();
    for [kind, _, old, new] in manifest(&dir) {
        let (old, new) = (dir.join(&old), dir.join(&new));
        let (all_code, all_doc) = diff(&old, &new, &[]);
        let (code, doc) = diff(&old, &new, &["--python", ctypes.to_str().unwrap()]);
        let (cffi_code, cffi_doc) = diff(&old, &new, &["--python", cffi.to_str().unwrap()]);
        let ours = findings(&doc);
        assert_eq!(
            (code, &ours),
            (cffi_code, &findings(&cffi_doc)),
            "{kind}: the ctypes and the cffi binding use the same things"
        );
        // What the binding sees is what the whole diff says about the same entity (a record reached only through
        // pointers is an error once the binding defines it: the severity may rise; a grouped finding counts only
        // the binding's symbols: its message may differ).
        let all: BTreeSet<_> = findings(&all_doc)
            .into_iter()
            .map(|(c, _, l, _)| (c, l))
            .collect();
        for (c, sev, l, m) in &ours {
            assert!(
                all.contains(&(c.clone(), l.clone())),
                "{kind}: {c} {sev} {l}: {m} is not in the unrestricted diff"
            );
        }
        // Nothing about a function the binding does not use.
        for (c, _, l, m) in &ours {
            let about_other = [
                "dl_gone",
                "dl_ret",
                "dl_scale",
                "dl_cfg_get",
                "dl_counter",
                "dl_table",
            ]
            .iter()
            .any(|n| l.contains(&format!("symbol {n}")) || m.contains(&format!("{n}(")));
            assert!(!about_other, "{kind}: {c} {l}: {m}");
        }
        let changed = ours
            .iter()
            .any(|(_, s, _, _)| s == "error" || s == "warning");
        assert_eq!(
            code,
            i32::from(ours.iter().any(|(_, s, _, _)| s == "error")),
            "{kind}: exit"
        );
        let theirs = match (&abidiff, &nm) {
            (Some(a), Some(nm)) => {
                let supp = suppressions(tmp.path(), &old, &new, nm);
                let st = std::process::Command::new(a)
                    .arg("--suppressions")
                    .arg(&supp)
                    .arg(&old)
                    .arg(&new)
                    .output()
                    .expect("run abidiff");
                st.status.code()
            }
            _ => None,
        };
        if let Some(t) = theirs {
            let why = DIFFERENT.iter().find(|(k, _)| *k == kind).map(|(_, w)| *w);
            match why {
                Some(w) => println!("{kind}: ours changed={changed}, abidiff exit {t}: {w}"),
                None => assert_eq!(
                    changed,
                    t != 0,
                    "{kind}: ours {ours:?} (exit {code}), abidiff exit {t} with the binding's suppressions"
                ),
            }
        }
        table.push(format!(
            "{kind:16} all: exit {all_code}  binding: exit {code} {:?}  abidiff: {theirs:?}",
            ours.iter().map(|f| f.0.as_str()).collect::<BTreeSet<_>>()
        ));
    }
    println!("{}", table.join("\n"));
}

#[test]
fn a_record_the_binding_defines_is_in_the_abi_even_through_pointers() {
    let dir = testdata("diff/elf");
    let row = manifest(&dir)
        .into_iter()
        .find(|r| r[0] == "member_type")
        .unwrap();
    let (old, new) = (dir.join(&row[2]), dir.join(&row[3]));
    let (code, doc) = diff(&old, &new, &[]);
    assert_eq!(
        code, 0,
        "from DWARF alone a pointer-only record is a warning"
    );
    assert!(findings(&doc).iter().all(|f| f.1 == "warning"));
    let binding = testdata("bindings-diff/uses_add.py");
    let (code, doc) = diff(&old, &new, &["--python", binding.to_str().unwrap()]);
    assert_eq!(code, 1, "{:?}", findings(&doc));
    assert!(findings(&doc).iter().any(|f| f.0 == "FFI0842"
        && f.1 == "error"
        && f.3.contains("member len of struct dl_buf")));
}

#[test]
fn a_binding_that_is_not_python_is_an_input_error() {
    let dir = testdata("diff/elf");
    let lib = dir.join("base-gcc4.so");
    let out = ffi_command()
        .args(["diff", "--python"])
        .arg(&lib)
        .arg(&lib)
        .arg(&lib)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("base-gcc4.so") && err.contains("NUL"), "{err}");
}
