//! `ffi-doctor gate` on real PyPI wheels (the pinned corpus of scripts/wheel-corpus.sh, verdicts of
//! scripts/wheel-oracles.sh), with no config: every wheel the oracles (auditwheel show, delocate-listdeps,
//! delvewheel show) accept has no error finding except the known true positives listed below; every warning is
//! printed; broken variants made here from real wheels fail with exactly the expected code; the SARIF log of the
//! whole run validates against the official schema.
//!
//! The corpus lives in target/wheel-corpus (or $FFI_DOCTOR_WHEEL_CORPUS). Without it the test is skipped with a
//! printed reason, unless FFI_DOCTOR_REQUIRE_ORACLES=1: then the scripts download it and run the oracles.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn require() -> bool {
    std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").as_deref() == Ok("1")
}

fn corpus_dir() -> PathBuf {
    std::env::var_os("FFI_DOCTOR_WHEEL_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/wheel-corpus"))
}

fn list_wheels(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .collect();
    v.sort();
    v
}

/// The corpus's wheels, downloading them when required; None (skip) otherwise.
fn corpus() -> Option<Vec<PathBuf>> {
    let dir = corpus_dir();
    let mut wheels = list_wheels(&dir.join("wheels"));
    if wheels.is_empty() && require() {
        let script = root().join("scripts/wheel-corpus.sh");
        let ok = Command::new("bash")
            .arg(&script)
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "{} failed (FFI_DOCTOR_REQUIRE_ORACLES=1)",
            script.display()
        );
        wheels = list_wheels(&dir.join("wheels"));
    }
    if wheels.is_empty() {
        eprintln!(
            "skipped: no wheel corpus in {} (run scripts/wheel-corpus.sh, or set FFI_DOCTOR_REQUIRE_ORACLES=1)",
            dir.display()
        );
        return None;
    }
    Some(wheels)
}

/// Wheel file name → accepted by its platform's oracle. From oracle.tsv (scripts/wheel-oracles.sh: wheel, tool,
/// accepted yes/no, summary); when there is none (and oracles are not required), every published wheel of the corpus
/// counts as accepted — installers and repair tools accepted them to publish them.
fn oracle_verdicts(wheels: &[PathBuf]) -> BTreeMap<String, bool> {
    let dir = corpus_dir();
    let tsv = dir.join("oracle.tsv");
    if !tsv.exists() && require() {
        let script = root().join("scripts/wheel-oracles.sh");
        if script.exists() {
            let ok = Command::new("bash")
                .arg(&script)
                .arg(&dir)
                .status()
                .is_ok_and(|s| s.success());
            assert!(
                ok,
                "{} failed (FFI_DOCTOR_REQUIRE_ORACLES=1)",
                script.display()
            );
        }
    }
    let names: Vec<String> = wheels.iter().map(|w| file_name(w)).collect();
    let mut out: BTreeMap<String, bool> = BTreeMap::new();
    match std::fs::read_to_string(&tsv) {
        Ok(text) => {
            // `wheel <TAB> tool <TAB> accepted (yes/no) <TAB> summary`, a header line first.
            for line in text
                .lines()
                .filter(|l| !l.starts_with('#') && !l.starts_with("wheel\t"))
            {
                let cols: Vec<&str> = line.split('\t').map(str::trim).collect();
                let (Some(name), Some(verdict)) = (cols.first(), cols.get(2)) else {
                    continue;
                };
                let name = name.rsplit('/').next().unwrap_or(name);
                let accepted = matches!(
                    verdict.to_ascii_lowercase().as_str(),
                    "yes" | "accepted" | "ok"
                );
                let e = out.entry(name.to_string()).or_insert(true);
                *e = *e && accepted;
            }
            eprintln!("oracle verdicts from {}", tsv.display());
        }
        Err(_) => {
            eprintln!(
                "note: no {} (scripts/wheel-oracles.sh); every published wheel of the corpus counts as accepted",
                tsv.display()
            );
            for n in &names {
                out.insert(n.clone(), true);
            }
        }
    }
    out
}

/// Error findings that are real problems of the published wheel, which the oracles do not look at.
fn known_true_positives() -> BTreeMap<&'static str, Vec<&'static str>> {
    BTreeMap::from([(
        // The x86_64 slice of _rust.abi3.so has LC_VERSION_MIN_MACOSX 10.13, above the macosx_10_9 tag: pip
        // installs it on macOS 10.9-10.12, where it cannot load. delocate >= 0.11 `delocate-wheel` rejects (or
        // retags) such wheels; `delocate-listdeps` does not check minimum versions.
        "cryptography-44.0.0-cp39-abi3-macosx_10_9_universal2.whl",
        vec!["FFI0608"],
    )])
}

fn file_name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

fn gate(args: &[&str]) -> Output {
    let empty = tempfile::tempdir().unwrap();
    Command::new(env!("CARGO_BIN_EXE_ffi-doctor"))
        .arg("gate")
        .args(args)
        .current_dir(empty.path())
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap()
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

/// Copy a wheel, letting `edit` drop (None) or change each entry.
fn rewrite_wheel(src: &Path, dst: &Path, mut edit: impl FnMut(&str, Vec<u8>) -> Option<Vec<u8>>) {
    let mut zin = zip::ZipArchive::new(std::fs::File::open(src).unwrap()).unwrap();
    let mut zout = zip::ZipWriter::new(std::fs::File::create(dst).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    for i in 0..zin.len() {
        let mut e = zin.by_index(i).unwrap();
        if e.is_dir() {
            continue;
        }
        let name = e.name().to_string();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        if let Some(d) = edit(&name, data) {
            zout.start_file(name, opts).unwrap();
            zout.write_all(&d).unwrap();
        }
    }
    zout.finish().unwrap();
}

fn read_member(wheel: &Path, pred: impl Fn(&str) -> bool) -> (String, Vec<u8>) {
    let mut z = zip::ZipArchive::new(std::fs::File::open(wheel).unwrap()).unwrap();
    for i in 0..z.len() {
        let mut e = z.by_index(i).unwrap();
        if pred(e.name()) {
            let name = e.name().to_string();
            let mut d = Vec::new();
            e.read_to_end(&mut d).unwrap();
            return (name, d);
        }
    }
    panic!("no matching member in {}", wheel.display());
}

/// Replace the NUL-delimited string `from` by `to` (same length) once.
fn patch_string(data: &mut [u8], from: &[u8], to: &[u8]) -> bool {
    assert_eq!(from.len(), to.len());
    let mut pat = vec![0u8];
    pat.extend_from_slice(from);
    pat.push(0);
    match data.windows(pat.len()).position(|w| w == pat.as_slice()) {
        Some(i) => {
            data[i + 1..i + 1 + to.len()].copy_from_slice(to);
            true
        }
        None => false,
    }
}

/// The error codes of a gate JSON report, sorted and deduplicated.
fn error_codes(doc: &Value) -> BTreeSet<String> {
    doc["targets"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t["findings"].as_array().unwrap())
        .filter(|f| f["severity"] == "error")
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

fn find_wheel<'a>(wheels: &'a [PathBuf], prefix: &str, suffix: &str) -> Option<&'a PathBuf> {
    wheels.iter().find(|w| {
        let n = file_name(w);
        n.starts_with(prefix) && n.ends_with(suffix)
    })
}

#[test]
fn accepted_wheels_pass_with_no_config_and_broken_variants_fail() {
    let Some(wheels) = corpus() else { return };
    let verdicts = oracle_verdicts(&wheels);
    let args: Vec<String> = wheels.iter().map(|w| w.display().to_string()).collect();
    let mut a: Vec<&str> = vec!["--format", "json"];
    a.extend(args.iter().map(String::as_str));
    let start = std::time::Instant::now();
    let o = gate(&a);
    let elapsed = start.elapsed();
    let doc = json(&o);
    let known = known_true_positives();
    let mut failures = Vec::new();
    let mut warnings = 0;
    for t in doc["targets"].as_array().unwrap() {
        let name = t["path"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        assert!(
            t["errors"].as_array().unwrap().is_empty(),
            "{name}: {}",
            t["errors"]
        );
        let mut errors: Vec<String> = Vec::new();
        for f in t["findings"].as_array().unwrap() {
            match f["severity"].as_str().unwrap() {
                "error" => errors.push(f["code"].as_str().unwrap().to_string()),
                "warning" => {
                    warnings += 1;
                    println!(
                        "warning {} {}: {} | {}",
                        f["code"].as_str().unwrap(),
                        f["location"].as_str().unwrap(),
                        f["message"].as_str().unwrap(),
                        f["found"].as_str().unwrap()
                    );
                }
                _ => {}
            }
        }
        errors.sort();
        let accepted = verdicts.get(&name).copied().unwrap_or(false);
        let expected: Vec<String> = known
            .get(name.as_str())
            .map(|v| v.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default();
        if accepted && errors != expected {
            let details: Vec<String> = t["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["severity"] == "error")
                .take(5)
                .map(|f| format!("  {} {}: {}", f["code"], f["location"], f["message"]))
                .collect();
            failures.push(format!(
                "{name}: errors {errors:?}, expected {expected:?}\n{}",
                details.join("\n")
            ));
        }
    }
    println!(
        "{} wheels, {} binaries, {warnings} warning(s), gate took {:.1}s",
        wheels.len(),
        doc["summary"]["binaries"],
        elapsed.as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "false errors on accepted wheels:\n{}",
        failures.join("\n")
    );

    // Broken variants of real wheels: exactly the expected error code each.
    let work = tempfile::tempdir().unwrap();
    let mut variants: Vec<(PathBuf, &str)> = Vec::new();
    if let Some(pillow) = find_wheel(&wheels, "pillow-", "manylinux_2_28_x86_64.whl") {
        // A vendored library removed: its dependent cannot load.
        let dst = work.path().join(file_name(pillow));
        let mut removed = false;
        rewrite_wheel(pillow, &dst, |name, d| {
            if !removed && name.starts_with("pillow.libs/libXau") {
                removed = true;
                return None;
            }
            Some(d)
        });
        assert!(removed);
        std::fs::create_dir_all(work.path().join("missing")).unwrap();
        let moved = work.path().join("missing").join(file_name(pillow));
        std::fs::rename(&dst, &moved).unwrap();
        variants.push((moved, "FFI0301"));
        // A vendored library's $ORIGIN rpath turned into /tmp/ab: a world-writable search path.
        let dst = work.path().join("tmprpath");
        std::fs::create_dir_all(&dst).unwrap();
        let dst = dst.join(file_name(pillow));
        let mut patched = false;
        rewrite_wheel(pillow, &dst, |name, mut d| {
            if !patched && name.starts_with("pillow.libs/libjpeg") {
                patched = patch_string(&mut d, b"$ORIGIN", b"/tmp/ab");
            }
            Some(d)
        });
        assert!(patched, "libjpeg has a $ORIGIN rpath");
        variants.push((dst, "FFI0603"));
    }
    if let Some(ms) = find_wheel(
        &wheels,
        "MarkupSafe-3.0.2-cp312",
        "manylinux2014_x86_64.whl",
    ) {
        // A CPython private API that 3.12 no longer exports (_PyUnicode_Ready, removed in 3.12), by renaming one
        // of the extension module's imported C API names of the same length.
        let dst = work.path().join("private");
        std::fs::create_dir_all(&dst).unwrap();
        let dst = dst.join(file_name(ms));
        let mut patched = false;
        rewrite_wheel(ms, &dst, |name, mut d| {
            if name.ends_with(".so") && !patched {
                let target = b"_PyUnicode_Ready";
                let candidate = d
                    .split(|b| *b == 0)
                    .find(|s| {
                        s.len() == target.len()
                            && s.starts_with(b"Py")
                            && !s.starts_with(b"PyInit_")
                    })
                    .map(<[u8]>::to_vec);
                if let Some(c) = candidate {
                    patched = patch_string(&mut d, &c, target);
                }
            }
            Some(d)
        });
        assert!(
            patched,
            "an imported C API name of 16 characters in {}",
            file_name(ms)
        );
        variants.push((dst, "FFI0302"));
        // An aarch64 extension module in an x86_64-tagged wheel.
        if let Some(arm) = find_wheel(
            &wheels,
            "MarkupSafe-3.0.2-cp312",
            "manylinux2014_aarch64.whl",
        ) {
            let (_, bytes) = read_member(arm, |n| n.ends_with(".so"));
            let dst = work.path().join("wrongarch");
            std::fs::create_dir_all(&dst).unwrap();
            let dst = dst.join(file_name(ms));
            // The x86_64 module's bytes replaced by the aarch64 build (the member keeps its x86_64 name).
            rewrite_wheel(ms, &dst, |name, d| {
                Some(if name.ends_with(".so") {
                    bytes.clone()
                } else {
                    d
                })
            });
            variants.push((dst, "FFI0609"));
        }
    }
    if let Some(ms) = find_wheel(
        &wheels,
        "MarkupSafe-3.0.2-cp312",
        "manylinux2014_x86_64.whl",
    ) {
        // A member linked against a newer GLIBC than the manylinux2014 tag allows (2.17): built here against
        // arc4random, which glibc has versioned GLIBC_2.36 since it added it.
        let src = work.path().join("newglibc.c");
        std::fs::write(
            &src,
            "#include <stdlib.h>\nunsigned markupsafe_newer(void) { return arc4random(); }\n",
        )
        .unwrap();
        let so = work.path().join("libnewglibc.so");
        let built = std::process::Command::new("cc")
            .args(["-shared", "-fPIC", "-o"])
            .arg(&so)
            .arg(&src)
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            built || !require(),
            "cc could not build a library using arc4random (GLIBC_2.36)"
        );
        if built {
            let bytes = std::fs::read(&so).unwrap();
            let dst = work.path().join("newglibc");
            std::fs::create_dir_all(&dst).unwrap();
            let dst = dst.join(file_name(ms));
            let mut zin = zip::ZipArchive::new(std::fs::File::open(ms).unwrap()).unwrap();
            let mut zout = zip::ZipWriter::new(std::fs::File::create(&dst).unwrap());
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            for i in 0..zin.len() {
                zout.raw_copy_file(zin.by_index(i).unwrap()).unwrap();
            }
            zout.start_file("markupsafe/_newer.so", opts).unwrap();
            std::io::Write::write_all(&mut zout, &bytes).unwrap();
            zout.finish().unwrap();
            variants.push((dst, "FFI0602"));
        }
    }
    assert!(
        variants.len() == 5 || !require(),
        "the corpus lacks the wheels the broken variants are made from"
    );
    for (w, code) in &variants {
        let o = gate(&["--format", "json", w.to_str().unwrap()]);
        assert_eq!(
            o.status.code(),
            Some(1),
            "{}: {}",
            w.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let d = json(&o);
        let got = error_codes(&d);
        assert_eq!(
            got,
            BTreeSet::from([code.to_string()]),
            "{} must fail with exactly {code}:\n{}",
            w.display(),
            serde_json::to_string_pretty(&d["targets"][0]["findings"]).unwrap()
        );
        if *code == "FFI0302" {
            let f = d["targets"][0]["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["code"] == "FFI0302")
                .unwrap();
            let m = f["message"].as_str().unwrap();
            assert!(
                m.contains("_PyUnicode_Ready") && m.contains("CPython 3.12"),
                "{f}"
            );
        }
        eprintln!("{code}: {}", w.display());
    }

    // SARIF of everything (accepted and broken) validates against the official schema.
    let sarif_path = work.path().join("out.sarif");
    let mut a: Vec<String> = vec!["--sarif".into(), sarif_path.display().to_string()];
    a.extend(args.iter().cloned());
    a.extend(variants.iter().map(|(w, _)| w.display().to_string()));
    let o = gate(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.code().is_some_and(|c| c <= 1));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("testdata/sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(&sarif_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF does not validate: {errors:#?}");
    // The human summary names the policies and their sources.
    let o = gate(&[args[0].as_str()]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.contains("policy ") && text.contains("[tag]") && text.contains("[default]"),
        "{text}"
    );
}
