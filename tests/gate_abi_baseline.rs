//! The gate's ABI baseline (`[policy] abi-baseline`, `gate --baseline`): every target diffed against its
//! counterpart in the previous release — wheels by distribution and platform, libraries by name without versions,
//! directories — on the release pairs of testdata/diff/ (testdata/src/build-diff.sh). Breaking changes are gate
//! errors, or info when the library's name or the wheel's major version changed too; `[[baseline]]` accepts one.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::{ffi_command, testdata};
use serde_json::Value;

fn gate(dir: &Path, args: &[&str]) -> (i32, Value) {
    let o: Output = ffi_command()
        .arg("gate")
        .args(["--format", "json"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let doc = serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    });
    (o.status.code().unwrap_or(-1), doc)
}

/// (code, severity, suppressed) of every FFI08xx finding.
fn diff_findings(doc: &Value) -> Vec<(String, String, bool)> {
    doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["findings"].as_array().unwrap())
        .filter(|f| f["code"].as_str().unwrap().starts_with("FFI08"))
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f.get("suppressed").is_some(),
            )
        })
        .collect()
}

/// The (old, new) files of a kind in testdata/diff/elf.
fn pair(kind: &str) -> (PathBuf, PathBuf) {
    let dir = testdata("diff/elf");
    let m = std::fs::read_to_string(dir.join("MANIFEST")).unwrap();
    let l: Vec<&str> = m
        .lines()
        .find(|l| l.split(' ').next() == Some(kind))
        .unwrap()
        .split(' ')
        .collect();
    (dir.join(l[2]), dir.join(l[3]))
}

fn wheel(path: &Path, members: &[(&str, &Path)]) {
    let f = std::fs::File::create(path).unwrap();
    let mut z = zip::ZipWriter::new(f);
    let opts = zip::write::SimpleFileOptions::default();
    for (name, src) in members {
        z.start_file(*name, opts).unwrap();
        z.write_all(&std::fs::read(src).unwrap()).unwrap();
    }
    z.start_file("demo-1.0.dist-info/WHEEL", opts).unwrap();
    z.write_all(b"Wheel-Version: 1.0\nTag: cp311-cp311-linux_x86_64\n")
        .unwrap();
    z.finish().unwrap();
}

#[test]
fn a_breaking_change_is_a_gate_error_and_a_baseline_entry_accepts_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = pair("param_type");
    std::fs::create_dir_all(tmp.path().join("prev")).unwrap();
    std::fs::copy(&old, tmp.path().join("prev/libdifflib.so.1.0")).unwrap();
    std::fs::copy(&new, tmp.path().join("libdifflib.so.1.1")).unwrap();
    std::fs::write(
        tmp.path().join("ffi-doctor.toml"),
        "[[target]]\npath = \"libdifflib.so.1.1\"\n[policy]\nabi-baseline = \"prev/*.so*\"\n",
    )
    .unwrap();
    let (code, doc) = gate(tmp.path(), &[]);
    assert_eq!(code, 1);
    let f = diff_findings(&doc);
    assert!(
        f.contains(&("FFI0831".into(), "error".into(), false)),
        "{f:?}"
    );
    assert!(doc["targets"][0]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c == "abi"));
    std::fs::write(
        tmp.path().join("ffi-doctor.toml"),
        "[[target]]\npath = \"libdifflib.so.1.1\"\n[policy]\nabi-baseline = \"prev/*.so*\"\n\
         [[baseline]]\ncode = \"FFI0831\"\nlocation-glob = \"*libdifflib.so.1.1 (symbol dl_scale)\"\n\
         reason = \"dl_scale takes long since 1.1; the binding was updated\"\n",
    )
    .unwrap();
    let (code, doc) = gate(tmp.path(), &[]);
    let f = diff_findings(&doc);
    assert!(
        f.contains(&("FFI0831".into(), "error".into(), true)),
        "{f:?}"
    );
    assert_eq!(code, 0, "{f:?}");
}

#[test]
fn a_new_soname_makes_the_break_intended() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = pair("soname_break");
    std::fs::copy(&old, tmp.path().join("libdifflib.so.1")).unwrap();
    std::fs::copy(&new, tmp.path().join("libdifflib.so.2")).unwrap();
    let (code, doc) = gate(
        tmp.path(),
        &["libdifflib.so.2", "--baseline", "libdifflib.so.1"],
    );
    let f = diff_findings(&doc);
    assert!(
        f.contains(&("FFI0801".into(), "info".into(), false)),
        "{f:?}"
    );
    assert!(
        f.contains(&("FFI0811".into(), "info".into(), false)),
        "{f:?}"
    );
    assert_eq!(code, 0, "{f:?}");
    // The same removal without a new SONAME is an error.
    let (old, new) = pair("export_removed");
    std::fs::copy(&old, tmp.path().join("libdifflib.so.1")).unwrap();
    std::fs::copy(&new, tmp.path().join("libdifflib.so.2")).unwrap();
    let (code, doc) = gate(
        tmp.path(),
        &["libdifflib.so.2", "--baseline", "libdifflib.so.1"],
    );
    assert!(diff_findings(&doc).contains(&("FFI0801".into(), "error".into(), false)));
    assert_eq!(code, 1);
}

#[test]
fn wheels_pair_by_distribution_and_member_path_and_a_major_version_is_intended() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = pair("member_removed");
    let dist = tmp.path().join("dist");
    let prev = tmp.path().join("prev");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::create_dir_all(&prev).unwrap();
    // auditwheel renames vendored libraries with a hash: the pairing looks through it.
    wheel(
        &prev.join("demo-1.0-cp311-cp311-linux_x86_64.whl"),
        &[("demo.libs/libdifflib-1a2b3c4d.so.1", &old)],
    );
    wheel(
        &prev.join("other-1.0-cp311-cp311-linux_x86_64.whl"),
        &[("other/libother.so", &new)],
    );
    wheel(
        &dist.join("demo-1.1-cp311-cp311-linux_x86_64.whl"),
        &[("demo.libs/libdifflib-5e6f7a8b.so.1", &new)],
    );
    let (_, doc) = gate(
        tmp.path(),
        &[
            "dist/demo-1.1-cp311-cp311-linux_x86_64.whl",
            "--baseline",
            "prev/*.whl",
            "--no-default-policies",
        ],
    );
    let f = diff_findings(&doc);
    assert!(
        f.contains(&("FFI0839".into(), "error".into(), false)),
        "{f:?}"
    );
    assert!(!f.iter().any(|x| x.0 == "FFI0817"), "paired: {f:?}");
    let loc = doc["targets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["code"] == "FFI0839")
        .unwrap()["location"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        loc.contains("demo-1.1-cp311-cp311-linux_x86_64.whl!demo.libs/libdifflib-5e6f7a8b.so.1"),
        "{loc}"
    );
    // 2.0 after 1.0: the break is the intended kind.
    std::fs::rename(
        dist.join("demo-1.1-cp311-cp311-linux_x86_64.whl"),
        dist.join("demo-2.0-cp311-cp311-linux_x86_64.whl"),
    )
    .unwrap();
    let (_, doc) = gate(
        tmp.path(),
        &[
            "dist/demo-2.0-cp311-cp311-linux_x86_64.whl",
            "--baseline",
            "prev/*.whl",
            "--no-default-policies",
        ],
    );
    let f = diff_findings(&doc);
    assert!(
        f.contains(&("FFI0839".into(), "info".into(), false)),
        "{f:?}"
    );
}

/// A record callers reach only through pointers: from DWARF alone its change is a warning (its header may keep it
/// opaque); the target's `spec` says the header defines it, and the change is then a gate error, as
/// `diff --spec` says.
#[test]
fn the_targets_spec_decides_records_reached_through_pointers() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = pair("member_offset");
    std::fs::create_dir_all(tmp.path().join("prev")).unwrap();
    std::fs::copy(&old, tmp.path().join("prev/libdifflib.so.1.0")).unwrap();
    std::fs::copy(&new, tmp.path().join("libdifflib.so.1.1")).unwrap();
    let header = testdata("src/diff/difflib.h");
    let config = |spec: bool| {
        let spec = if spec {
            format!("spec = {:?}\n", header.display().to_string())
        } else {
            String::new()
        };
        format!(
            "[[target]]\npath = \"libdifflib.so.1.1\"\n{spec}[policy]\nabi-baseline = \"prev/*.so*\"\n"
        )
    };
    std::fs::write(tmp.path().join("ffi-doctor.toml"), config(false)).unwrap();
    let (_, doc) = gate(tmp.path(), &[]);
    let f = diff_findings(&doc);
    assert!(
        f.contains(&("FFI0841".into(), "warning".into(), false)),
        "{f:?}"
    );
    std::fs::write(tmp.path().join("ffi-doctor.toml"), config(true)).unwrap();
    let (code, doc) = gate(tmp.path(), &[]);
    let f = diff_findings(&doc);
    assert!(
        f.contains(&("FFI0841".into(), "error".into(), false)),
        "{f:?}"
    );
    assert_eq!(code, 1);
}
