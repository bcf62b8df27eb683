//! `check`'s report files end to end (the real binary on committed fixtures): `--sarif` validated against the
//! official SARIF 2.1.0 schema (vendored in testdata/), its results located where the fixtures' own annotations
//! say the mistakes are (a header's `/* FFI02xx: … */` comments, the record classes `bindings-layout/README.md`
//! lists, a cdef's declaration), relative to the current directory when the files are inside it; a grouped
//! finding as one result with its members; a library finding on the library file. `--junit` parsed as XML with a
//! failing test case per code at or above `--fail-on`; `--json` byte for byte what `--format json` prints; and
//! `--fail-on` deciding the exit code of a warnings-only check.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;
use serde_json::Value;

const LIB: &str = "testdata/dwarfcheck/libmismatch.so";
const BAD_H: &str = "testdata/src/mismatch_bad.h";
const GOOD_H: &str = "testdata/src/mismatch_good.h";
const CDEF: &str = "testdata/src/mismatch.cdef";

/// `ffi-doctor check ARGS…` run in `cwd`.
fn check_in(cwd: &Path, args: &[&str]) -> Output {
    ffi_command()
        .current_dir(cwd)
        .arg("check")
        .args(args)
        .output()
        .expect("run ffi-doctor check")
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// The report files of one `check` run: the run, the SARIF log, the JUnit text and the JSON file's bytes.
struct Files {
    out: Output,
    sarif: Value,
    junit: String,
    json: Vec<u8>,
}

/// `check LIB SPEC… EXTRA…` in `cwd` with `--sarif`, `--junit` and `--json` files in a temporary directory.
fn check_files(cwd: &Path, args: &[&str]) -> Files {
    let dir = tempfile::tempdir().expect("tempdir");
    let (s, j, x) = (
        dir.path().join("out.sarif"),
        dir.path().join("out.xml"),
        dir.path().join("out.json"),
    );
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "--sarif",
        s.to_str().unwrap(),
        "--junit",
        j.to_str().unwrap(),
        "--json",
        x.to_str().unwrap(),
    ]);
    let out = check_in(cwd, &all);
    assert!(
        code(&out) == 0 || code(&out) == 1,
        "check {args:?}: exit {}: {}",
        code(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let read = |p: &PathBuf| std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let sarif = serde_json::from_slice(&read(&s)).expect("the SARIF file is JSON");
    validate_sarif(&sarif);
    Files {
        out,
        sarif,
        junit: String::from_utf8(read(&j)).expect("JUnit is UTF-8"),
        json: read(&x),
    }
}

/// Fail unless `log` validates against the official SARIF 2.1.0 schema.
fn validate_sarif(log: &Value) {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(testdata("sarif-schema-2.1.0.json")).expect("the vendored schema"),
    )
    .expect("the schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF does not validate: {errors:#?}");
    assert_eq!(log["version"], "2.1.0");
    assert_eq!(log["runs"].as_array().map(Vec::len), Some(1), "one run");
    assert_eq!(log["runs"][0]["tool"]["driver"]["name"], "ffi-doctor");
}

fn results(log: &Value) -> &Vec<Value> {
    log["runs"][0]["results"].as_array().expect("results")
}

/// Every rule used once, in the order of its index, and each result's `ruleIndex` naming its rule.
fn assert_rules(log: &Value) {
    let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().expect("rule id"))
        .collect();
    let used: BTreeSet<&str> = results(log)
        .iter()
        .map(|r| r["ruleId"].as_str().expect("ruleId"))
        .collect();
    assert_eq!(
        rules.iter().copied().collect::<BTreeSet<_>>(),
        used,
        "one rule per code used"
    );
    assert_eq!(rules.len(), used.len(), "no rule twice: {rules:?}");
    for r in results(log) {
        let i = r["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[i], r["ruleId"].as_str().unwrap());
        let rule = &log["runs"][0]["tool"]["driver"]["rules"][i];
        let registered = ffi_doctor::report::Code::parse(rules[i]).expect("a registered code");
        assert_eq!(rule["shortDescription"]["text"], registered.info().short);
    }
}

/// The file a result's physical location names, resolved as a SARIF reader does: a `%SRCROOT%`-relative URI
/// against the run's `originalUriBaseIds`, a `file://` URI as it is.
fn artifact_path(log: &Value, r: &Value) -> PathBuf {
    let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
    let uri = a["uri"].as_str().expect("uri");
    match a["uriBaseId"].as_str() {
        Some(base) => {
            let root = log["runs"][0]["originalUriBaseIds"][base]["uri"]
                .as_str()
                .expect("the base id is defined in the run");
            PathBuf::from(root.strip_prefix("file://").expect("a file URI")).join(uri)
        }
        None => PathBuf::from(uri.strip_prefix("file://").expect("an absolute file URI")),
    }
}

fn start_line(r: &Value) -> Option<u64> {
    r["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64()
}

/// The 1-based line of the first line of `path` that contains `needle`.
fn line_of(path: &Path, needle: &str) -> u64 {
    let text = std::fs::read_to_string(path).expect("read fixture");
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("`{needle}` is not in {}", path.display())) as u64
        + 1
}

/// JUnit parsed with quick-xml: (test cases, failures, names of the failing cases), and the `tests` and
/// `failures` attributes of `<testsuites>`.
struct Junit {
    cases: usize,
    failing: Vec<String>,
    tests_attr: usize,
    failures_attr: usize,
}

fn parse_junit(xml: &str) -> Junit {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut j = Junit {
        cases: 0,
        failing: Vec::new(),
        tests_attr: 0,
        failures_attr: 0,
    };
    let (mut depth, mut case) = (0i32, String::new());
    let attr = |e: &quick_xml::events::BytesStart<'_>, name: &[u8]| -> String {
        e.attributes()
            .flatten()
            .find(|a| a.key.as_ref() == name)
            .map(|a| {
                a.normalized_value(quick_xml::XmlVersion::Explicit1_0)
                    .expect("attribute")
                    .into_owned()
            })
            .unwrap_or_default()
    };
    loop {
        match reader
            .read_event()
            .unwrap_or_else(|e| panic!("JUnit XML: {e}\n{xml}"))
        {
            Event::Start(e) => {
                depth += 1;
                match e.name().as_ref() {
                    b"testsuites" => {
                        j.tests_attr = attr(&e, b"tests").parse().expect("tests");
                        j.failures_attr = attr(&e, b"failures").parse().expect("failures");
                    }
                    b"testcase" => {
                        j.cases += 1;
                        case = attr(&e, b"name");
                    }
                    b"failure" => j.failing.push(case.clone()),
                    _ => {}
                }
            }
            Event::Empty(e) if e.name().as_ref() == b"testcase" => j.cases += 1,
            Event::End(_) => depth -= 1,
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "balanced elements:\n{xml}");
    j
}

/// The code a JUnit test case is named after (`FFI0203 Members missing …`).
fn case_code(name: &str) -> &str {
    name.split(' ').next().unwrap_or("")
}

/// The header's own annotations: `/* FFI02xx: … */` on the line of each mistake, code → lines.
fn annotated(path: &Path) -> BTreeMap<String, BTreeSet<u64>> {
    let text = std::fs::read_to_string(path).expect("read header");
    let mut out: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for (i, l) in text.lines().enumerate() {
        if let Some(c) = l.split("/* ").nth(1).and_then(|c| c.split(':').next()) {
            if c.starts_with("FFI") && c.len() == 7 {
                out.entry(c.to_string()).or_default().insert(i as u64 + 1);
            }
        }
    }
    out
}

/// A header checked against the DWARF of the library its mistakes are about, from the crate root with relative
/// paths: every error is a result on the annotated line of the header, relative to the current directory; the
/// `long` uses are one grouped result; JUnit fails one case per annotated code; `--json` is `--format json`.
#[test]
fn header_findings_point_at_the_annotated_lines() {
    let root = root();
    let f = check_files(&root, &[LIB, BAD_H, "--format", "json"]);
    assert_eq!(
        code(&f.out),
        1,
        "{}",
        String::from_utf8_lossy(&f.out.stderr)
    );
    assert_eq!(
        f.json, f.out.stdout,
        "--json writes exactly what --format json prints"
    );
    let doc: Value = serde_json::from_slice(&f.json).expect("JSON");
    let log = &f.sarif;
    assert_rules(log);

    // One result per finding of the JSON report, in its order, with the same code and level.
    let findings = findings(&doc);
    let res = results(log);
    assert_eq!(res.len(), findings.len(), "grouped findings stay grouped");
    for (r, j) in res.iter().zip(&findings) {
        assert_eq!(r["ruleId"], j["code"]);
        let level = match j["severity"].as_str().unwrap() {
            "error" => "error",
            "warning" => "warning",
            _ => "note",
        };
        assert_eq!(r["level"], level, "{r:#}");
        assert!(
            r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with(j["message"].as_str().unwrap()),
            "{r:#}"
        );
    }

    // Errors: on the annotated lines of the header, the file named relative to the current directory.
    let header = root.join(BAD_H);
    let want = annotated(&header);
    assert!(
        want.len() >= 7,
        "the header annotates its mistakes: {want:?}"
    );
    let mut got: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for r in res.iter().filter(|r| r["level"] == "error") {
        let a = &r["locations"][0]["physicalLocation"]["artifactLocation"];
        assert_eq!(a["uri"], BAD_H, "relative to the current directory: {r:#}");
        assert_eq!(a["uriBaseId"], "%SRCROOT%");
        assert_eq!(artifact_path(log, r), header, "{r:#}");
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(
            region["startColumn"].as_u64().is_some_and(|c| c >= 1),
            "{r:#}"
        );
        got.entry(r["ruleId"].as_str().unwrap().to_string())
            .or_default()
            .insert(start_line(r).expect("a region with a start line"));
    }
    assert_eq!(got, want, "error results against the header's annotations");

    // The three uses of `long` are one result: count and members in its properties, the first use's line.
    let long: Vec<&Value> = res.iter().filter(|r| r["ruleId"] == "FFI0401").collect();
    assert_eq!(long.len(), 1, "{long:#?}");
    let p = &long[0]["properties"];
    assert_eq!(p["count"], 3, "{p:#}");
    let members: Vec<&str> = p["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    for (what, needle) in [
        ("field `count` of struct stats", "long count;"),
        ("field `i` of union value", "long i;"),
        ("function `value_int`", "value_int("),
    ] {
        let line = line_of(&header, needle);
        assert!(
            members
                .iter()
                .any(|m| m.starts_with(what) && m.contains(&format!("{BAD_H}:{line}:"))),
            "{what} at line {line} in {members:#?}"
        );
    }
    assert_eq!(start_line(long[0]), Some(line_of(&header, "long count;")));
    // A finding about the whole header has no region; one not grouped has no members.
    for r in res.iter().filter(|r| r["ruleId"] == "FFI0412") {
        assert_eq!(start_line(r), None, "{r:#}");
        assert!(r["properties"].get("members").is_none(), "{r:#}");
    }

    // JUnit: a failing case per annotated code (--fail-on error), the others passing.
    let j = parse_junit(&f.junit);
    let failing: BTreeSet<&str> = j.failing.iter().map(|n| case_code(n)).collect();
    assert_eq!(
        failing,
        want.keys().map(String::as_str).collect::<BTreeSet<_>>(),
        "{}",
        f.junit
    );
    assert_eq!(j.failures_attr, want.len(), "{}", f.junit);
    let codes: BTreeSet<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(j.cases, codes.len(), "one case per code: {}", f.junit);
    assert_eq!(j.tests_attr, j.cases);
}

/// The same check from another directory with absolute paths: the header is outside the current directory, so
/// its URI is an absolute `file://` one without a base id, and the line is still the annotated one.
#[test]
fn files_outside_the_current_directory_are_absolute_uris() {
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let header = root().join(BAD_H);
    let lib = root().join(LIB);
    let f = check_files(
        elsewhere.path(),
        &[lib.to_str().unwrap(), header.to_str().unwrap()],
    );
    let log = &f.sarif;
    let add3 = results(log)
        .iter()
        .find(|r| r["ruleId"] == "FFI0210")
        .expect("the FFI0210 result");
    let a = &add3["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(
        a["uri"].as_str().unwrap(),
        format!("file://{}", header.display())
    );
    assert!(a.get("uriBaseId").is_none(), "{a:#}");
    assert_eq!(artifact_path(log, add3), header);
    assert_eq!(start_line(add3), Some(line_of(&header, "int add3(")));
}

/// A library finding (no DWARF in the library) is located on the library file, without a region, next to a
/// spec finding in the header (`area` declared without `extern "C"`).
#[test]
fn library_findings_are_on_the_library_file() {
    let root = root();
    let (lib, header) = ("testdata/elf/x86_64/libcxx.so", "testdata/src/cxx_api.h");
    let f = check_files(&root, &[lib, header]);
    assert_eq!(code(&f.out), 1);
    let log = &f.sarif;
    assert_rules(log);
    let res = results(log);
    let nodwarf = res
        .iter()
        .find(|r| r["ruleId"] == "FFI0220")
        .expect("FFI0220 (no DWARF) for a library built without -g");
    assert_eq!(
        nodwarf["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        lib
    );
    assert_eq!(start_line(nodwarf), None, "{nodwarf:#}");
    assert_eq!(nodwarf["level"], "note");
    let area = res
        .iter()
        .find(|r| r["ruleId"] == "FFI0101")
        .expect("FFI0101 for `area`");
    assert_eq!(artifact_path(log, area), root.join(header));
    assert_eq!(
        start_line(area),
        Some(line_of(&root.join(header), "int area(int w"))
    );
    let j = parse_junit(&f.junit);
    assert_eq!(j.failing.len(), 1, "{}", f.junit);
    assert_eq!(case_code(&j.failing[0]), "FFI0101");
}

/// A cffi cdef: its `long` return is on the line of the declaration.
#[test]
fn cdef_findings_point_at_the_declaration() {
    let root = root();
    let f = check_files(&root, &[LIB, CDEF]);
    assert_eq!(code(&f.out), 0);
    let log = &f.sarif;
    let long = results(log)
        .iter()
        .find(|r| r["ruleId"] == "FFI0401")
        .expect("FFI0401 for `long total(void)`");
    assert_eq!(artifact_path(log, long), root.join(CDEF));
    assert_eq!(
        start_line(long),
        Some(line_of(&root.join(CDEF), "long total("))
    );
    assert!(parse_junit(&f.junit).failing.is_empty(), "{}", f.junit);
}

/// A ctypes binding's record classes against its header (per target) and the DWARF of the library gcc builds
/// from `records.c`: each finding on the class `bindings-layout/README.md` says is wrong, in `records.py`.
#[test]
fn binding_findings_point_into_the_python_file() {
    let Some(gcc) = oracle("gcc") else {
        return;
    };
    let root = root();
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = dir.path().join("librecords.so");
    let ok = std::process::Command::new(gcc)
        .args(["-g", "-shared", "-fPIC", "-o"])
        .arg(&lib)
        .arg(testdata("bindings-layout").join("records.c"))
        .status()
        .expect("run gcc")
        .success();
    assert!(ok, "gcc failed");
    let (py, h) = (
        "testdata/bindings-layout/records.py",
        "testdata/bindings-layout/records.h",
    );
    let f = check_files(
        &root,
        &[
            lib.to_str().unwrap(),
            py,
            h,
            "--targets",
            "linux-x86_64,linux-i386,windows-x86_64-msvc",
        ],
    );
    assert_eq!(code(&f.out), 1);
    let log = &f.sarif;
    assert_rules(log);
    let py_path = root.join(py);
    let text = std::fs::read_to_string(&py_path).unwrap();
    // The lines of each class: from `class NAME(` to the blank line after it.
    let class_lines = |name: &str| -> std::ops::RangeInclusive<u64> {
        let first = line_of(&py_path, &format!("class {name}("));
        let len = text
            .lines()
            .skip(first as usize - 1)
            .take_while(|l| !l.trim().is_empty())
            .count() as u64;
        first..=first + len - 1
    };
    for (code, class) in [
        ("FFI0759", "wire_header"),
        ("FFI0753", "stats_t"),
        ("FFI0756", "stats_t"),
        ("FFI0761", "flags"),
    ] {
        let r = results(log)
            .iter()
            .find(|r| r["ruleId"] == code)
            .unwrap_or_else(|| panic!("a {code} result for class {class}"));
        assert_eq!(artifact_path(log, r), py_path, "{code}: {r:#}");
        assert_eq!(
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            py
        );
        let line = start_line(r).expect("a line");
        assert!(
            class_lines(class).contains(&line),
            "{code} at line {line}, not in class {class} ({:?})",
            class_lines(class)
        );
    }
}

/// A warnings-only check passes by default and with `--fail-on error`, fails with `--fail-on warning` (exit
/// and JUnit alike); info findings never fail at warning.
#[test]
fn fail_on_decides_the_exit_and_the_junit_failures() {
    let root = root();
    let doc: Value =
        serde_json::from_slice(&check_in(&root, &[LIB, GOOD_H, "--format", "json"]).stdout)
            .expect("JSON");
    let sev: BTreeMap<&str, BTreeSet<&str>> =
        findings(&doc)
            .into_iter()
            .fold(BTreeMap::new(), |mut m, f| {
                m.entry(f["severity"].as_str().unwrap())
                    .or_default()
                    .insert(f["code"].as_str().unwrap());
                m
            });
    assert!(!sev.contains_key("error"), "warnings only: {doc:#}");
    assert!(sev.contains_key("warning"), "warnings only: {doc:#}");

    assert_eq!(code(&check_in(&root, &[LIB, GOOD_H])), 0, "default");
    let f = check_files(&root, &[LIB, GOOD_H, "--fail-on", "error"]);
    assert_eq!(code(&f.out), 0, "--fail-on error");
    let j = parse_junit(&f.junit);
    assert!(j.failing.is_empty(), "{}", f.junit);
    assert_eq!(j.failures_attr, 0);

    let f = check_files(&root, &[LIB, GOOD_H, "--fail-on", "warning"]);
    assert_eq!(code(&f.out), 1, "--fail-on warning");
    let j = parse_junit(&f.junit);
    let failing: BTreeSet<&str> = j.failing.iter().map(|n| case_code(n)).collect();
    assert_eq!(&failing, &sev["warning"], "{}", f.junit);
    assert_eq!(j.failures_attr, failing.len());
    // The human run's --json file is the --format json document too.
    assert_eq!(
        serde_json::from_slice::<Value>(&f.json).unwrap(),
        doc,
        "--json with human output"
    );
}

/// A report file that cannot be written is an exit-2 error naming the file.
#[test]
fn an_unwritable_report_file_is_exit_2() {
    let root = root();
    let out = check_in(
        &root,
        &[LIB, GOOD_H, "--sarif", "/nonexistent-dir/out.sarif"],
    );
    assert_eq!(code(&out), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent-dir/out.sarif"), "{err}");
}
