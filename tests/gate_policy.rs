//! `ffi-doctor gate` on the fixtures of testdata/wheels/ (built by testdata/src/gate/build-wheels.sh): every policy
//! broken exactly once, clean fixtures clean, config errors with line:col, baselines, severity overrides, SARIF
//! checked against the official SARIF 2.1.0 schema, JUnit well-formed, and the Linux wheels' external-library and
//! symbol-version verdicts compared with `auditwheel show` (skipped when auditwheel cannot be had, unless
//! FFI_DOCTOR_REQUIRE_ORACLES=1).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{ffi_command, findings};
use serde_json::Value;

fn td() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

fn wheels() -> PathBuf {
    td().join("wheels")
}

fn gate(dir: &Path, args: &[&str]) -> Output {
    ffi_command()
        .arg("gate")
        .args(args)
        .current_dir(dir)
        .env_remove("LD_LIBRARY_PATH")
        .output()
        .unwrap()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
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

const WHEEL_LINUX: &str = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";

/// Every policy on. Hardening at warning so the test counts everything at warning or above (the info-level
/// FFI0308 "not checked without an SDK" notes of the macOS/Windows fixtures are not policy verdicts).
fn policy() -> String {
    r#"
[policy]
allowed-external = ["manylinux_2_17"]
max-glibc = "2.17"
max-glibcxx = "3.4.19"
max-cxxabi = "1.3.7"
relative-rpath = true
export-prefix = "mylib_"
forbid-cxx-exports = true
forbid-rust-exports = true
forbid-libc-clash = true
require-archs = ["x86_64", "arm64"]
max-macos = "11.0"
hardening = "warning"
"#
    .to_string()
}

fn target(path: &Path) -> String {
    format!("[[target]]\npath = {:?}\n\n", path.display().to_string())
}

/// (fixture, the codes it must yield at warning or above).
fn fixtures() -> Vec<(String, Vec<&'static str>)> {
    let w = |n: &str| format!("{n}-1.0-{WHEEL_LINUX}");
    vec![
        (w("good"), vec![]),
        (w("badrpath"), vec!["FFI0603"]),
        (w("newglibc"), vec!["FFI0602"]),
        (w("missing"), vec!["FFI0301"]),
        (
            "wrongarch-1.0-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl".into(),
            vec!["FFI0609"],
        ),
        (
            "mac-1.0-cp311-cp311-macosx_11_0_universal2.whl".into(),
            vec![],
        ),
        (
            "macnew-1.0-cp311-cp311-macosx_11_0_universal2.whl".into(),
            vec!["FFI0608"],
        ),
        ("win-1.0-cp311-cp311-win_amd64.whl".into(), vec![]),
        ("lib/libgood.so".into(), vec![]),
        ("lib/libnoprefix.so".into(), vec!["FFI0605"]),
        ("lib/libmangled.so".into(), vec!["FFI0604", "FFI0604"]),
        ("lib/libclash.so".into(), vec!["FFI0606"]),
        ("lib/libcxxnew.so".into(), vec!["FFI0602", "FFI0602"]),
        (
            "lib/libhardening.so".into(),
            vec!["FFI0610", "FFI0611", "FFI0612"],
        ),
        ("lib/libthin.dylib".into(), vec!["FFI0607"]),
    ]
}

fn full_config() -> String {
    full_config_with("")
}

/// The config of every fixture, plus `extra` targets (TOML: targets before [policy]).
fn full_config_with(extra: &str) -> String {
    let mut c = extra.to_string();
    for (f, _) in fixtures() {
        c += &target(&wheels().join(f));
    }
    // The external library resolves, through LD_LIBRARY_PATH, outside the wheel.
    c += &format!(
        "[[target]]\npath = {:?}\nplatform = {{ env = {{ LD_LIBRARY_PATH = {:?} }} }}\n\n",
        wheels()
            .join(format!("external-1.0-{WHEEL_LINUX}"))
            .display()
            .to_string(),
        td().join("elf/x86_64").display().to_string()
    );
    c + &policy()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn severe(f: &Value) -> bool {
    f["severity"] == "error" || f["severity"] == "warning"
}

#[test]
fn every_policy_broken_once_and_clean_fixtures_clean() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ffi-doctor.toml", &full_config());
    let o = gate(dir.path(), &["--format", "json"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let doc = json(&o);
    assert_eq!(doc["schema"], "ffi-doctor/gate/v1");
    let mut by_target: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for t in doc["targets"].as_array().unwrap() {
        assert!(t["errors"].as_array().unwrap().is_empty(), "{t}");
        let path = t["path"].as_str().unwrap();
        let name = path
            .strip_prefix(&format!("{}/", wheels().display()))
            .unwrap_or(path)
            .to_string();
        let mut codes: Vec<String> = Vec::new();
        for f in t["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| severe(f))
        {
            let loc = f["location"].as_str().unwrap();
            assert!(
                loc.starts_with(path),
                "location {loc} names the target {path}"
            );
            for k in ["message", "expected", "found", "hint"] {
                assert!(!f[k].as_str().unwrap().is_empty(), "{k} of {f}");
            }
            codes.push(f["code"].as_str().unwrap().to_string());
        }
        codes.sort();
        by_target.insert(name, codes);
    }
    let mut want: BTreeMap<String, Vec<String>> = fixtures()
        .into_iter()
        .map(|(f, c)| (f, c.into_iter().map(String::from).collect()))
        .collect();
    want.insert(
        format!("external-1.0-{WHEEL_LINUX}"),
        vec!["FFI0601".into()],
    );
    assert_eq!(by_target, want);

    // Locations name the offending entry; a wheel's temporary directory never leaks into the report.
    let all = findings(&doc);
    let loc = |c: &str| -> Vec<String> {
        all.iter()
            .filter(|f| f["code"] == c)
            .map(|f| f["location"].as_str().unwrap().to_string())
            .collect()
    };
    assert!(loc("FFI0603")[0].ends_with(
        "badrpath/_ext.cpython-311-x86_64-linux-gnu.so (DT_RUNPATH /home/builder/mylib/lib)"
    ));
    let v = loc("FFI0602");
    assert!(
        v.iter()
            .any(|l| l.ends_with("!newglibc/_ext.cpython-311-x86_64-linux-gnu.so (GLIBC_2.34)")),
        "{v:?}"
    );
    assert!(
        v.iter()
            .any(|l| l.ends_with("libcxxnew.so (GLIBCXX_3.4.21)")),
        "{v:?}"
    );
    assert!(
        v.iter().any(|l| l.ends_with("libcxxnew.so (CXXABI_1.3.9)")),
        "{v:?}"
    );
    assert!(loc("FFI0601")[0].ends_with("(libext.so.1)"));
    assert!(loc("FFI0605")[0].ends_with("libnoprefix.so (other_add)"));
    assert!(loc("FFI0606")[0].ends_with("libclash.so (strdup)"));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        !text.contains("ffi-doctor-wheel-"),
        "temporary paths leaked"
    );
    let glibc = all
        .iter()
        .find(|f| f["location"].as_str().unwrap().contains("newglibc"))
        .unwrap();
    assert!(
        glibc["expected"].as_str().unwrap().contains("GLIBC_2.17"),
        "{glibc}"
    );
    assert!(
        glibc["found"].as_str().unwrap().contains("dlopen"),
        "{glibc}"
    );

    // Deterministic despite the parallel run.
    let again = gate(dir.path(), &["--format", "json"]);
    assert_eq!(o.stdout, again.stdout);
}

#[test]
fn clean_targets_pass_with_spec() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = String::new();
    for f in [
        format!("good-1.0-{WHEEL_LINUX}"),
        "mac-1.0-cp311-cp311-macosx_11_0_universal2.whl".into(),
        "win-1.0-cp311-cp311-win_amd64.whl".into(),
    ] {
        c += &target(&wheels().join(f));
    }
    c += &format!(
        "[[target]]\npath = {:?}\nspec = {:?}\nruntime = true\n\n",
        wheels().join("lib/libgood.so").display().to_string(),
        td().join("src/gate/mylib.h").display().to_string()
    );
    write(dir.path(), "ffi-doctor.toml", &(c + &policy()));
    let o = gate(dir.path(), &["--format", "json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let doc = json(&o);
    let bad: Vec<_> = findings(&doc).into_iter().filter(|f| severe(f)).collect();
    assert!(bad.is_empty(), "{bad:?}");
    let checks = doc["targets"][3]["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c == "spec") && checks.iter().any(|c| c == "runtime"));
    // Human output: a summary line.
    let h = gate(dir.path(), &[]);
    assert_eq!(code(&h), 0);
    assert!(String::from_utf8_lossy(&h.stdout).contains("gate: 4 target(s)"));
}

#[test]
fn unknown_key_is_exit_2_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "{}[policy]\nmax-glibc = \"2.17\"\nmax-glib = \"2.17\"\n",
        target(&wheels().join("lib/libgood.so"))
    );
    let line = cfg
        .lines()
        .position(|l| l.starts_with("max-glib "))
        .unwrap()
        + 1;
    write(dir.path(), "ffi-doctor.toml", &cfg);
    let o = gate(dir.path(), &[]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("ffi-doctor.toml:{line}:1:")), "{err}");
    assert!(err.contains("max-glib"), "{err}");

    // The same inside pyproject.toml, found from a subdirectory; the position is in pyproject.toml.
    let dir = tempfile::tempdir().unwrap();
    let py = format!(
        "[project]\nname = \"x\"\n\n[tool.black]\nline-length = 100\n\n[tool.ffi-doctor]\n\n[[tool.ffi-doctor.target]]\npath = {:?}\nspecc = \"a.h\"\n",
        wheels().join("lib/libgood.so").display().to_string()
    );
    let line = py.lines().position(|l| l.starts_with("specc")).unwrap() + 1;
    write(dir.path(), "pyproject.toml", &py);
    let sub = dir.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let o = gate(&sub, &[]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("pyproject.toml:{line}:1:")) && err.contains("specc"),
        "{err}"
    );
}

#[test]
fn pyproject_config_is_found_upwards() {
    let dir = tempfile::tempdir().unwrap();
    let py = format!(
        "[tool.ffi-doctor]\n[[tool.ffi-doctor.target]]\npath = {:?}\n[tool.ffi-doctor.policy]\nexport-prefix = \"mylib_\"\n",
        wheels().join("lib/libnoprefix.so").display().to_string()
    );
    write(dir.path(), "pyproject.toml", &py);
    let sub = dir.path().join("src");
    std::fs::create_dir_all(&sub).unwrap();
    let o = gate(&sub, &["--format", "json"]);
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));
    let doc = json(&o);
    assert_eq!(findings(&doc).len(), 1);
    assert_eq!(findings(&doc)[0]["code"], "FFI0605");
}

fn noprefix_config(extra: &str) -> String {
    format!(
        "{}[policy]\nexport-prefix = \"mylib_\"\n{extra}",
        target(&wheels().join("lib/libnoprefix.so"))
    )
}

#[test]
fn baseline_without_reason_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = noprefix_config(
        "\n[[baseline]]\ncode = \"FFI0605\"\nlocation-glob = \"*libnoprefix.so*\"\n",
    );
    let line = cfg.lines().position(|l| l == "[[baseline]]").unwrap() + 1;
    write(dir.path(), "ffi-doctor.toml", &cfg);
    let o = gate(dir.path(), &[]);
    assert_eq!(code(&o), 2);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("reason"), "{err}");
    // The entry's span starts at its first key (toml's table spans), on the line after the header.
    assert!(
        err.contains(&format!("ffi-doctor.toml:{line}:"))
            || err.contains(&format!("ffi-doctor.toml:{}:", line + 1)),
        "{err}"
    );
}

#[test]
fn baseline_suppresses() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = noprefix_config(
        "\n[[baseline]]\ncode = \"FFI0605\"\nlocation-glob = \"*libnoprefix.so (other_add)\"\nreason = \"kept for ABI compatibility until 2.0\"\n",
    );
    write(dir.path(), "ffi-doctor.toml", &cfg);
    let o = gate(dir.path(), &["--format", "json"]);
    assert_eq!(code(&o), 0, "{}", String::from_utf8_lossy(&o.stdout));
    let doc = json(&o);
    let f = findings(&doc);
    assert_eq!(f.len(), 1);
    assert_eq!(f[0]["suppressed"], "kept for ABI compatibility until 2.0");
    assert_eq!(doc["summary"]["suppressed"], 1);
    // A glob that does not match leaves the finding in force.
    let cfg = noprefix_config(
        "\n[[baseline]]\ncode = \"FFI0605\"\nlocation-glob = \"*other.so*\"\nreason = \"x\"\n",
    );
    write(dir.path(), "ffi-doctor.toml", &cfg);
    assert_eq!(code(&gate(dir.path(), &[])), 1);
}

#[test]
fn severity_override() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ffi-doctor.toml",
        &noprefix_config("\n[severity]\nFFI0605 = \"warning\"\n"),
    );
    let o = gate(dir.path(), &["--format", "json"]);
    assert_eq!(code(&o), 0);
    assert_eq!(findings(&json(&o))[0]["severity"], "warning");
    assert_eq!(code(&gate(dir.path(), &["--fail-on", "warning"])), 1);
    // A bad code or severity is a config error.
    write(
        dir.path(),
        "ffi-doctor.toml",
        &noprefix_config("\n[severity]\nFFI0605 = \"fatal\"\n"),
    );
    assert_eq!(code(&gate(dir.path(), &[])), 2);
}

/// SARIF (validated against the vendored official schema), JUnit (well-formed, one suite per target, one case
/// per target × check kind) and the JSON file, all from one run; a spec finding gives a region.
#[test]
fn sarif_junit_json_files() {
    let dir = tempfile::tempdir().unwrap();
    let spec = write(
        dir.path(),
        "api.h",
        "int mylib_add(int a, int b);\nint mylib_missing(void);\n",
    );
    let cfg = full_config_with(&format!(
        "[[target]]\npath = {:?}\nspec = {:?}\n\n",
        wheels().join("lib/libgood.so").display().to_string(),
        spec.display().to_string()
    ));
    write(dir.path(), "ffi-doctor.toml", &cfg);
    let o = gate(
        dir.path(),
        &[
            "--sarif",
            "out.sarif",
            "--junit",
            "out.xml",
            "--json",
            "out.json",
        ],
    );
    assert_eq!(code(&o), 1, "{}", String::from_utf8_lossy(&o.stderr));

    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(td().join("sarif-schema-2.1.0.json")).unwrap(),
    )
    .unwrap();
    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.sarif")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF does not validate: {errors:#?}");
    assert_eq!(sarif["version"], "2.1.0");
    let run = &sarif["runs"][0];
    let rules: Vec<&str> = run["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    for r in results {
        let id = r["ruleId"].as_str().unwrap();
        assert_eq!(rules[r["ruleIndex"].as_u64().unwrap() as usize], id);
    }
    for c in [
        "FFI0601", "FFI0602", "FFI0603", "FFI0604", "FFI0605", "FFI0606", "FFI0607", "FFI0608",
        "FFI0609", "FFI0301",
    ] {
        assert!(rules.contains(&c), "rule {c} in {rules:?}");
    }
    // The spec finding points into api.h with line and column.
    let spec_result = results
        .iter()
        .find(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
                .ends_with("api.h")
        })
        .expect("a result located in the spec");
    let region = &spec_result["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], 2, "{spec_result}");
    assert!(region["startColumn"].as_u64().is_some());
    // A wheel member's artifact is the wheel file.
    assert!(results.iter().any(
        |r| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("badrpath-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl")
    ));

    // JUnit: well-formed XML; suites and cases as promised.
    let xml = std::fs::read_to_string(dir.path().join("out.xml")).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let (mut suites, mut cases, mut failures, mut depth) = (0, 0, 0, 0i32);
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("JUnit XML: {e}\n{xml}"))
        {
            quick_xml::events::Event::Start(e) => {
                depth += 1;
                match e.name().as_ref() {
                    b"testsuite" => suites += 1,
                    b"testcase" => cases += 1,
                    b"failure" => failures += 1,
                    _ => {}
                }
            }
            quick_xml::events::Event::End(_) => depth -= 1,
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0);
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out.json")).unwrap())
            .unwrap();
    let targets = doc["targets"].as_array().unwrap();
    assert_eq!(suites, targets.len());
    let checks: usize = targets
        .iter()
        .map(|t| t["checks"].as_array().unwrap().len())
        .sum();
    assert_eq!(cases, checks);
    // badrpath, newglibc, missing, wrongarch, macnew, noprefix, mangled (one exports case), clash, cxxnew,
    // libthin, external, spec: one failing case each (hardening is at warning, below --fail-on error).
    assert_eq!(failures, 12, "{xml}");
}

#[test]
fn unusable_inputs_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "ffi-doctor.toml",
        &target(&dir.path().join("nothing-here-*.so")),
    );
    assert_eq!(code(&gate(dir.path(), &[])), 2);
    let bad = write(dir.path(), "broken-1.0-py3-none-any.whl", "not a zip");
    write(dir.path(), "ffi-doctor.toml", &target(&bad));
    let o = gate(dir.path(), &[]);
    assert_eq!(code(&o), 2);
    assert!(String::from_utf8_lossy(&o.stderr).contains("zip"));
    // No config anywhere up from an empty directory in /tmp.
    let empty = tempfile::tempdir().unwrap();
    let o = gate(empty.path(), &[]);
    assert_eq!(code(&o), 2);
}

/// The Linux wheels' verdicts against `auditwheel show`: the external libraries it lists are exactly the ones we
/// report as not shipped (FFI0601 / FFI0301), and a GLIBC version above the tag's is reported iff auditwheel's
/// versioned-symbol set has one.
#[test]
fn linux_wheels_agree_with_auditwheel() {
    let Some(auditwheel) = auditwheel() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "ffi-doctor.toml", &full_config());
    let doc = json(&gate(dir.path(), &["--format", "json"]));
    for t in doc["targets"].as_array().unwrap() {
        let path = t["path"].as_str().unwrap();
        if !path.ends_with(WHEEL_LINUX) {
            continue;
        }
        let out = Command::new(&auditwheel)
            .arg("show")
            .arg(path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "auditwheel show {path}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8_lossy(&out.stdout).replace('\n', " ");
        let mut theirs: Vec<String> = match text.find("required by the wheel:") {
            Some(i) => {
                let obj = &text[i + "required by the wheel:".len()..];
                let end = obj.find('}').unwrap();
                let v: Value = serde_json::from_str(&obj[..=end]).unwrap();
                v.as_object().unwrap().keys().cloned().collect()
            }
            // "requires no external shared libraries", or only the symbol-version constraint is reported
            None => vec![],
        };
        theirs.sort();
        let fs = t["findings"].as_array().unwrap();
        let mut ours: Vec<String> = fs
            .iter()
            .filter(|f| f["code"] == "FFI0601" || f["code"] == "FFI0301")
            .map(|f| {
                let m = f["message"].as_str().unwrap();
                m.split(" needs ")
                    .nth(1)
                    .unwrap()
                    .split([',', ' '])
                    .next()
                    .unwrap()
                    .to_string()
            })
            .collect();
        ours.sort();
        assert_eq!(ours, theirs, "external libraries of {path}");
        // GLIBC versions: auditwheel's set, compared with the 2.17 of the tag.
        let versions = text
            .split("with versions {")
            .nth(1)
            .map(|s| s[..s.find('}').unwrap()].to_string())
            .unwrap_or_default();
        let too_new = versions.split(',').any(|v| {
            let v = v.trim().trim_matches('\'');
            v.strip_prefix("GLIBC_")
                .map(|n| {
                    n.split('.')
                        .map(|p| p.parse::<u64>().unwrap_or(0))
                        .collect::<Vec<_>>()
                        > vec![2, 17]
                })
                .unwrap_or(false)
        });
        let ours_glibc = fs
            .iter()
            .any(|f| f["code"] == "FFI0602" && f["location"].as_str().unwrap().contains("GLIBC_"));
        assert_eq!(
            ours_glibc, too_new,
            "GLIBC verdict of {path}: auditwheel saw {versions}"
        );
        eprintln!("auditwheel agrees on {}", path.rsplit('/').next().unwrap());
    }
}

/// `auditwheel` on PATH, or installed into a temporary venv with pip (quick); None (skip) when neither works,
/// unless FFI_DOCTOR_REQUIRE_ORACLES=1.
fn auditwheel() -> Option<PathBuf> {
    let require = std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").as_deref() == Ok("1");
    if let Ok(o) = Command::new("auditwheel").arg("--version").output() {
        if o.status.success() {
            return Some("auditwheel".into());
        }
    }
    let venv = std::env::temp_dir().join("ffi-doctor-auditwheel-venv");
    let exe = venv.join("bin/auditwheel");
    if !exe.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "-q", "auditwheel"])
                .status()
                .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                !require,
                "auditwheel cannot be installed (FFI_DOCTOR_REQUIRE_ORACLES=1)"
            );
            eprintln!(
                "skipped: auditwheel not on PATH and `pip install auditwheel` into a venv failed"
            );
            return None;
        }
    }
    Some(exe)
}

#[test]
fn target_option_replaces_config_targets() {
    let dir = tempfile::tempdir().unwrap();
    // The config's only target is clean; --target points at a broken library instead.
    write(
        dir.path(),
        "ffi-doctor.toml",
        &noprefix_config("").replace("libnoprefix.so", "libgood.so"),
    );
    assert_eq!(code(&gate(dir.path(), &[])), 0);
    let bad = wheels().join("lib/libnoprefix.so");
    let o = gate(
        dir.path(),
        &["--format", "json", "--target", bad.to_str().unwrap()],
    );
    assert_eq!(code(&o), 1);
    assert_eq!(findings(&json(&o))[0]["code"], "FFI0605");
}

#[test]
fn wheel_tags_and_config_positions() {
    use ffi_doctor::binary::Format;
    use ffi_doctor::gate::{config, wheel};
    let (name, ver, plats) = wheel::parse_filename(
        "good-1.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    )
    .unwrap();
    assert_eq!((name.as_str(), ver.as_str()), ("good", "1.0"));
    assert_eq!(plats, ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]);
    let r = wheel::tag_requirement("manylinux_2_28_aarch64").unwrap();
    assert_eq!(
        (r.format, r.archs.clone(), r.max_glibc.as_deref()),
        (Format::Elf, vec!["aarch64"], Some("2.28"))
    );
    assert_eq!(r.manylinux.unwrap().name, "manylinux_2_28");
    assert_eq!(
        wheel::tag_requirement("manylinux2014_x86_64")
            .unwrap()
            .max_glibc
            .as_deref(),
        Some("2.17")
    );
    let m = wheel::tag_requirement("macosx_10_9_universal2").unwrap();
    assert_eq!(
        (m.format, m.archs.clone(), m.max_macos.as_deref()),
        (Format::Macho, vec!["x86_64", "aarch64"], Some("10.9"))
    );
    assert_eq!(
        wheel::tag_requirement("win_amd64").unwrap().archs,
        ["x86_64"]
    );
    assert_eq!(wheel::tag_requirement("win32").unwrap().archs, ["i386"]);
    assert!(wheel::tag_requirement("any").is_none());
    assert_eq!(config::line_col("ab\ncd\nef", 4), (2, 2));
    assert!(ffi_doctor::gate::policy::is_relative_entry(
        "$ORIGIN/../x.libs"
    ));
    assert!(ffi_doctor::gate::policy::is_relative_entry(
        "@loader_path/.dylibs"
    ));
    assert!(!ffi_doctor::gate::policy::is_relative_entry(
        "/Users/me/lib"
    ));
    assert!(!ffi_doctor::gate::policy::is_relative_entry(
        "C:\\build\\lib"
    ));
}
