//! `ffi-doctor load`: the real binary loads libraries in its isolated child (`__probe`) and reports what happened.
//! Fixtures: testdata/runtime (built by testdata/build.sh), system libz, a PE DLL.
//!
//! Every run is timed: not as a performance assertion but as a hang guard (a misbehaving library must yield a
//! finding and a prompt return).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{codes, ffi_command, run_json, s, testdata, with_code};
use serde_json::Value;

/// Generous bound for one `ffi-doctor load` run (the hang fixture runs with --timeout 3).
const HANG_GUARD: Duration = Duration::from_secs(20);

/// Run `ffi-doctor load --format json ARGS`: (exit code, document, stderr).
fn load(args: &[&str]) -> (i32, Value, String) {
    let start = Instant::now();
    let r = run_json(ffi_command(), "load", args);
    let took = start.elapsed();
    assert!(
        took < HANG_GUARD,
        "ffi-doctor load --format json {} took {took:?} (hang guard {HANG_GUARD:?})",
        args.join(" ")
    );
    (r.code, r.doc, r.stderr)
}

fn rt(name: &str) -> String {
    let p = testdata("runtime").join(name);
    assert!(
        p.exists(),
        "missing fixture {} (run testdata/build.sh)",
        p.display()
    );
    p.to_string_lossy().into_owned()
}

fn symbol<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["symbols"]
        .as_array()
        .expect("symbols")
        .iter()
        .find(|x| s(&x["name"]) == name)
        .unwrap_or_else(|| panic!("no symbol {name} in {doc:#}"))
}

/// Processes of this machine that have `file` mapped (a probe child or a descendant that escaped the kill).
fn processes_mapping(file: &str) -> Vec<String> {
    let mut found = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else {
        return found;
    };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        if let Ok(maps) = std::fs::read_to_string(e.path().join("maps")) {
            if maps.contains(file) {
                found.push(name);
            }
        }
    }
    found
}

#[test]
fn system_libz_loads_resolves_and_answers_its_version() {
    let Some(lib) = common::system_lib("libz.so.1", |n| n == "libz.so.1") else {
        return;
    };
    let lib = lib.to_string_lossy().into_owned();
    let (code, doc, err) = load(&[
        &lib,
        "--symbol",
        "zlibVersion",
        "--symbol",
        "compress2",
        "--symbol",
        "uncompress",
        "--call",
        "zlibVersion",
        "--returns",
        "str",
        "--expect",
        "1.*",
    ]);
    assert_eq!(code, 0, "{doc:#}\n{err}");
    assert_eq!(s(&doc["status"]), "loaded");
    let real = std::fs::canonicalize(&lib).unwrap();
    for name in ["zlibVersion", "compress2", "uncompress"] {
        let sym = symbol(&doc, name);
        assert_eq!(sym["found"], true, "{name}");
        assert!(s(&sym["address"]).starts_with("0x"), "{name}");
        assert_eq!(
            Path::new(s(&sym["object_resolved"])),
            real,
            "{name} comes from libz itself"
        );
        assert_eq!(sym["from_other_object"], false);
        assert_eq!(s(&sym["kind"]), "function");
    }
    let call = &doc["calls"][0];
    assert_eq!(s(&call["name"]), "zlibVersion");
    assert!(s(&call["value"]).starts_with("1."), "{call}");
    assert_eq!(call["matched"], true);
    assert!(codes(&doc).is_empty(), "{:?}", codes(&doc));
    // The process report says how it ran.
    assert_eq!(s(&doc["process"]["outcome"]), "exited");
    assert_eq!(doc["process"]["exit_code"], 0);
    assert_eq!(doc["process"]["address_space_limit"], 4u64 << 30);
}

#[test]
fn good_library_calls_and_data_symbols() {
    let lib = rt("libgood.so");
    let (code, doc, _) = load(&[
        &lib,
        "--symbol",
        "good_data",
        "--symbol",
        "good_answer",
        "--call",
        "good_version",
        "--returns",
        "str",
        "--expect",
        "1.2.3",
    ]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(s(&symbol(&doc, "good_data")["kind"]), "data");
    assert_eq!(s(&symbol(&doc, "good_answer")["kind"]), "function");
    assert_eq!(s(&doc["calls"][0]["value"]), "1.2.3");
    assert_eq!(doc["calls"][0]["matched"], true);

    let (code, doc, _) = load(&[
        &lib,
        "--call",
        "good_answer",
        "--returns",
        "int",
        "--expect",
        "42",
    ]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(s(&doc["calls"][0]["value"]), "42");

    let (code, doc, _) = load(&[&lib, "--call", "good_negative", "--returns", "long"]);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(s(&doc["calls"][0]["value"]), "-5");

    // A value that does not match the glob: FFI0504, exit 1.
    let (code, doc, _) = load(&[
        &lib,
        "--call",
        "good_version",
        "--returns",
        "str",
        "--expect",
        "2.*",
    ]);
    assert_eq!(code, 1);
    let f = with_code(&doc, "FFI0504");
    assert_eq!(f.len(), 1, "{doc:#}");
    assert_eq!(s(&f[0]["found"]), "1.2.3");

    // A symbol that does not exist: FFI0502 with the dlerror text.
    let (code, doc, _) = load(&[&lib, "--symbol", "good_missing"]);
    assert_eq!(code, 1);
    let f = with_code(&doc, "FFI0502");
    assert_eq!(f.len(), 1, "{doc:#}");
    assert!(
        s(&f[0]["found"]).contains("undefined symbol: good_missing"),
        "{}",
        f[0]
    );
    assert_eq!(symbol(&doc, "good_missing")["found"], false);
}

#[test]
fn constructor_segfault_is_reported_with_its_stderr() {
    let (code, doc, _) = load(&[&rt("libctor_segv.so")]);
    assert_eq!(code, 1);
    assert_eq!(s(&doc["status"]), "crashed");
    let f = with_code(&doc, "FFI0505");
    assert_eq!(f.len(), 1, "{doc:#}");
    assert!(
        s(&f[0]["message"]).contains("signal 11 (SIGSEGV)"),
        "{}",
        f[0]
    );
    assert!(s(&f[0]["message"]).contains("during load"), "{}", f[0]);
    assert!(
        s(&f[0]["found"]).contains("about to dereference NULL"),
        "{}",
        f[0]
    );
    assert_eq!(doc["process"]["signal"], 11);
    assert_eq!(s(&doc["process"]["stage"]), "loading");
    assert!(s(&doc["stderr"]["text"]).contains("about to dereference NULL"));
}

#[test]
fn constructor_abort_is_a_signal_finding() {
    let (code, doc, _) = load(&[&rt("libctor_abort.so")]);
    assert_eq!(code, 1);
    let f = with_code(&doc, "FFI0505");
    assert_eq!(f.len(), 1, "{doc:#}");
    assert!(
        s(&f[0]["message"]).contains("signal 6 (SIGABRT)"),
        "{}",
        f[0]
    );
    assert!(s(&f[0]["found"]).contains("invariant violated"), "{}", f[0]);
}

#[test]
fn constructor_exit_is_reported_with_its_status() {
    let (code, doc, _) = load(&[&rt("libctor_exit.so")]);
    assert_eq!(code, 1);
    assert_eq!(s(&doc["status"]), "exited");
    let f = with_code(&doc, "FFI0507");
    assert_eq!(f.len(), 1, "{doc:#}");
    assert!(
        s(&f[0]["message"]).contains("exited the process during load"),
        "{}",
        f[0]
    );
    assert!(s(&f[0]["message"]).contains("status 3"), "{}", f[0]);
    assert_eq!(doc["process"]["exit_code"], 3);
    assert!(s(&doc["stdout"]["text"]).contains("license check failed"));
}

#[test]
fn constructor_hang_times_out_and_its_process_group_is_killed() {
    let lib = rt("libctor_hang.so");
    let start = Instant::now();
    let (code, doc, _) = load(&[&lib, "--timeout", "3"]);
    let took = start.elapsed();
    assert_eq!(code, 1);
    assert_eq!(s(&doc["status"]), "timed_out");
    let f = with_code(&doc, "FFI0506");
    assert_eq!(f.len(), 1, "{doc:#}");
    assert!(s(&f[0]["message"]).contains("after 3 s"), "{}", f[0]);
    assert!(
        s(&f[0]["message"]).contains("process group was killed"),
        "{}",
        f[0]
    );
    assert!(
        took >= Duration::from_millis(2900),
        "returned before the timeout: {took:?}"
    );
    // The constructor forked a grandchild that hangs too: nothing may still have the library mapped.
    let canon = std::fs::canonicalize(&lib).unwrap();
    let mut left = processes_mapping(&canon.to_string_lossy());
    for _ in 0..20 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        left = processes_mapping(&canon.to_string_lossy());
    }
    assert!(left.is_empty(), "processes survived the timeout: {left:?}");
}

#[test]
fn constructor_spam_is_captured_up_to_the_bound() {
    let (code, doc, _) = load(&[
        &rt("libctor_spam.so"),
        "--call",
        "ctor_spam_fn",
        "--returns",
        "int",
    ]);
    assert_eq!(code, 0, "output alone is not a failure: {:?}", codes(&doc));
    assert_eq!(s(&doc["status"]), "loaded");
    assert_eq!(s(&doc["calls"][0]["value"]), "7");
    for stream in ["stdout", "stderr"] {
        let c = &doc[stream];
        assert_eq!(c["truncated"], true, "{stream}");
        assert!(
            c["bytes"].as_u64().unwrap() >= (4 << 20) - 4096,
            "{stream}: {}",
            c["bytes"]
        );
        assert_eq!(s(&c["text"]).len(), 64 << 10, "{stream} kept");
    }
    let f = with_code(&doc, "FFI0508");
    assert_eq!(f.len(), 1, "{doc:#}");
    assert_eq!(s(&f[0]["severity"]), "info");
}

#[test]
fn missing_dependency_is_explained_with_every_searched_path() {
    let lib = rt("libneedsmissing.so");
    let (code, doc, _) = load(&[&lib]);
    assert_eq!(code, 1);
    assert_eq!(s(&doc["status"]), "load_failed");
    let f = with_code(&doc, "FFI0501");
    assert_eq!(f.len(), 1, "{doc:#}");
    let dlerror = "libnotshipped.so: cannot open shared object file: No such file or directory";
    assert_eq!(s(&f[0]["found"]), dlerror, "dlerror verbatim");
    assert_eq!(s(&doc["load_error"]), dlerror);
    let why = doc["explanation"].as_array().expect("explanation");
    let missing: Vec<&Value> = why.iter().filter(|f| s(&f["code"]) == "FFI0301").collect();
    assert_eq!(missing.len(), 1, "{why:#?}");
    let found = s(&missing[0]["found"]);
    assert!(found.contains("searched, in order"), "{found}");
    let dir = std::fs::canonicalize(testdata("runtime")).unwrap();
    assert!(
        found.contains(&format!("{}/libnotshipped.so (DT_RUNPATH", dir.display())),
        "{found}"
    );
    assert!(found.contains("(default dir)"), "{found}");
    assert!(s(&f[0]["hint"]).contains("FFI0301"), "{}", f[0]);
}

#[test]
fn pe_file_is_skipped_with_an_info_finding() {
    let dll = testdata("pe/mingw64/demo.dll");
    let (code, doc, _) = load(&[dll.to_str().unwrap(), "--symbol", "demo_add"]);
    assert_eq!(code, 0);
    assert_eq!(s(&doc["status"]), "skipped");
    let f = with_code(&doc, "FFI0500");
    assert_eq!(f.len(), 1, "{doc:#}");
    assert_eq!(s(&f[0]["severity"]), "info");
    if cfg!(target_os = "linux") {
        assert!(
            s(&f[0]["message"])
                .contains("a PE file cannot be loaded on Linux; checked statically only"),
            "{}",
            f[0]
        );
    }
    assert!(doc.get("process").is_none(), "nothing was run");
}

#[test]
fn symbol_from_a_dependency_is_reported_as_interposed() {
    let (code, doc, _) = load(&[
        &rt("libinterpose.so"),
        "--symbol",
        "interpose_own",
        "--symbol",
        "interpose_both",
        "--symbol",
        "interpose_from_dep",
    ]);
    assert_eq!(code, 0, "a warning does not fail: {doc:#}");
    let f = with_code(&doc, "FFI0503");
    assert_eq!(f.len(), 1, "only interpose_from_dep: {doc:#}");
    assert!(s(&f[0]["location"]).contains("interpose_from_dep"));
    assert!(
        s(&f[0]["message"]).contains("libinterpose_dep.so"),
        "{}",
        f[0]
    );
    assert!(s(&f[0]["message"]).contains("libinterpose.so"), "{}", f[0]);
    assert_eq!(
        symbol(&doc, "interpose_from_dep")["from_other_object"],
        true
    );
    // Defined by both: dlsym on the handle finds the library's own definition first.
    let both = symbol(&doc, "interpose_both");
    assert_eq!(both["from_other_object"], false);
    assert!(
        s(&both["object_resolved"]).ends_with("/libinterpose.so"),
        "{both}"
    );
}

#[test]
fn library_api_probe_runs_the_binary_as_child() {
    let opts = ffi_doctor::runtime::ProbeOptions {
        exe: Some(env!("CARGO_BIN_EXE_ffi-doctor").into()),
        timeout: Duration::from_secs(10),
        ..Default::default()
    };
    let req = ffi_doctor::runtime::ProbeRequest {
        symbols: vec!["good_answer".into()],
        calls: vec![ffi_doctor::runtime::CallSpec {
            name: "good_answer".into(),
            returns: ffi_doctor::runtime::ReturnType::Int,
            expect: Some("4?".into()),
        }],
    };
    let r = ffi_doctor::runtime::probe(&rt("libgood.so"), &req, &opts);
    assert_eq!(r.status, "loaded", "{:?}", r.findings);
    assert!(r.findings.is_empty(), "{:?}", r.findings);
    assert_eq!(r.calls[0].value.as_deref(), Some("42"));
    assert_eq!(r.calls[0].matched, Some(true));
}

#[test]
fn human_output_and_hidden_probe_subcommand() {
    let out = common::ffi(&[
        "load",
        &rt("libgood.so"),
        "--call",
        "good_version",
        "--returns",
        "str",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("good_version()"), "{text}");
    assert!(text.contains("\"1.2.3\""), "{text}");
    let help = common::ffi(&["--help"]);
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(help.contains("load"), "{help}");
    assert!(!help.contains("__probe"), "{help}");
    // Run by hand (no result descriptor), the internal subcommand refuses instead of loading anything.
    let out = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"))
        .args(["__probe", "--result-fd", "97"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
