//! The glibc ld.so loader model (`ffi-doctor deps` on ELF files) against real oracles, on system binaries and the
//! `testdata/loader/glibc/` fixtures: the resolved dependency set is compared with `ldd`, and the order of
//! candidates tried with the `trying file=` and `search cache=` lines of `LD_DEBUG=libs` from glibc's own `ld.so`.
//! DF_1_NODEFLIB and the 32-bit default directories are also checked by running the fixture programs for real,
//! with and without ld.so.cache (`ld.so --inhibit-cache`), and the default directories against the loader's
//! `(system search path)`.
//!
//! Oracle tools missing → `skipped: <tool> not found`, unless `FFI_DOCTOR_REQUIRE_ORACLES=1` (then a failure).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::{edge, ffi_command, root, run_json, target_path, with_code};
use serde_json::Value;

const LD_SO: &str = "/lib64/ld-linux-x86-64.so.2";

fn loader_fixture(rel: &str) -> PathBuf {
    root().join("testdata/loader/glibc").join(rel)
}

fn require_oracles() -> bool {
    std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").is_ok_and(|v| v == "1")
}

/// `true` when the oracle tool is usable; otherwise prints the skip line (or panics when oracles are required).
fn have(tool: &str) -> bool {
    let found = if tool.starts_with('/') {
        Path::new(tool).exists()
    } else {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
    };
    if !found {
        if require_oracles() {
            panic!("{tool} not found and FFI_DOCTOR_REQUIRE_ORACLES=1");
        }
        println!("skipped: {tool} not found");
    }
    found
}

fn oracles() -> bool {
    have("ldd") && have(LD_SO) && cfg!(all(target_os = "linux", target_arch = "x86_64"))
}

/// An oracle command with a clean loader environment plus `env`.
fn oracle_cmd(program: &str, env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(program);
    for k in [
        "LD_LIBRARY_PATH",
        "LD_PRELOAD",
        "LD_DEBUG",
        "LD_BIND_NOW",
        "LD_AUDIT",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Run `ffi-doctor deps FILE --format json ARGS…`: (document, exit code).
fn deps(file: &Path, args: &[String]) -> (Value, i32) {
    deps_in(file, args, &root())
}

fn deps_in(file: &Path, args: &[String], cwd: &Path) -> (Value, i32) {
    let mut command = ffi_command();
    command.current_dir(cwd).env_remove("LD_LIBRARY_PATH");
    let all = std::iter::once(file.as_os_str()).chain(args.iter().map(OsStr::new));
    let r = run_json(command, "deps", all);
    (r.doc, r.code)
}

fn canon(p: &str) -> String {
    std::fs::canonicalize(p)
        .map(|c| c.display().to_string())
        .unwrap_or_else(|_| p.to_string())
}

/// What one side says was loaded: name → canonical path (None = not found), plus the set of loaded paths.
#[derive(Debug, Default, PartialEq)]
struct Resolution {
    by_name: BTreeMap<String, Option<String>>,
    loaded: BTreeSet<String>,
}

/// `ldd FILE`: `name => path (addr)`, `name => not found`, and the interpreter line `path (addr)`.
fn ldd(file: &Path, env: &[(&str, &str)]) -> Resolution {
    let out = oracle_cmd("ldd", env).arg(file).output().expect("run ldd");
    let r = parse_ldd(&String::from_utf8_lossy(&out.stdout), file);
    assert!(
        out.status.success() || !r.by_name.is_empty(),
        "ldd {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    r
}

/// The lines ldd (and `ld.so` in trace mode) prints.
fn parse_ldd(text: &str, file: &Path) -> Resolution {
    let mut r = Resolution::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if line.starts_with("linux-vdso") || line.starts_with("linux-gate") {
            continue;
        }
        match line.split_once(" => ") {
            Some((name, rest)) => {
                if rest.trim() == "not found" {
                    r.by_name.insert(name.to_string(), None);
                } else {
                    let path = rest.split(" (").next().unwrap().trim();
                    r.by_name.insert(name.to_string(), Some(canon(path)));
                    r.loaded.insert(canon(path));
                }
            }
            None => {
                let path = line.split(" (").next().unwrap().trim();
                assert!(
                    path.starts_with('/'),
                    "unexpected ldd line for {}: {line}",
                    file.display()
                );
                r.loaded.insert(canon(path));
            }
        }
    }
    r
}

/// Our resolution in ldd's terms: every edge `name → node path`, every loaded node except the root.
fn ours(doc: &Value) -> Resolution {
    let nodes = doc["nodes"].as_array().expect("nodes");
    let mut r = Resolution::default();
    for n in nodes {
        for e in n["edges"].as_array().unwrap() {
            let name = e["name"].as_str().unwrap().to_string();
            let target = e["target"]
                .as_u64()
                .map(|t| canon(nodes[t as usize]["path"].as_str().unwrap()));
            if let Some(prev) = r.by_name.get(&name) {
                assert_eq!(prev, &target, "{name} resolves to two different objects");
            }
            r.by_name.insert(name, target);
        }
    }
    for n in nodes.iter().skip(1) {
        r.loaded.insert(canon(n["path"].as_str().unwrap()));
    }
    r
}

/// Compare with ldd: every `name => …` of ldd agrees with our edge of that name, and the loaded sets are equal.
fn check_against_ldd(file: &Path, doc: &Value, env: &[(&str, &str)]) {
    compare_resolution(file, doc, ldd(file, env));
}

/// Compare our resolution with the oracle's (ldd, or ld.so in trace mode).
fn compare_resolution(file: &Path, doc: &Value, want: Resolution) {
    let got = ours(doc);
    let mut problems = Vec::new();
    for (name, path) in &want.by_name {
        match got.by_name.get(name) {
            Some(p) if p == path => {}
            other => problems.push(format!("{name}: ldd {path:?}, ours {other:?}")),
        }
    }
    // Names only we report (ldd prints each object once, under its first name) must agree with ldd's objects;
    // ldd never lists the file itself, so an edge back to the root (a cycle) is checked against the root.
    let root = canon(&file.display().to_string());
    for (name, path) in &got.by_name {
        if !want.by_name.contains_key(name) && path.as_ref() != Some(&root) {
            match path {
                Some(p) if want.loaded.contains(p) => {}
                _ => problems.push(format!("{name}: ours {path:?}, not among ldd's objects")),
            }
        }
    }
    let only_ldd: Vec<_> = want.loaded.difference(&got.loaded).collect();
    let only_ours: Vec<_> = got.loaded.difference(&want.loaded).collect();
    if !only_ldd.is_empty() || !only_ours.is_empty() {
        problems.push(format!(
            "loaded objects: only ldd {only_ldd:?}, only ours {only_ours:?}"
        ));
    }
    assert!(
        problems.is_empty(),
        "{} disagrees with the loader:\n  {}",
        file.display(),
        problems.join("\n  ")
    );
}

/// A `search cache=` line of `LD_DEBUG=libs`: ld.so looked the name up in ld.so.cache here.
const CACHE_LOOKUP: &str = "<ld.so.cache lookup>";

/// What `LD_DEBUG=libs LD_TRACE_LOADED_OBJECTS=1 ld.so [ARGS] FILE` says.
struct Trace {
    /// The `trying file=` paths in order, with [`CACHE_LOOKUP`] where a `search cache=` line stands.
    trying: Vec<String>,
    /// The first `search path=` line.
    first_search: Option<String>,
    /// The first `(system search path)` line: the default directories with their hwcap subdirectories.
    system_search: Option<String>,
    /// The trace on stdout, in ldd's terms.
    resolution: Resolution,
}

/// `LD_DEBUG=libs LD_TRACE_LOADED_OBJECTS=1 ld.so FILE` (what ldd runs): the `trying file=` paths in order, and
/// the first `search path=` line. (`ld.so --list` would stop at the first missing library; trace mode goes on.)
fn ld_debug(file: &Path, env: &[(&str, &str)]) -> (Vec<String>, Option<String>) {
    let t = trace(LD_SO, &[], file, env);
    (t.trying, t.first_search)
}

fn trace(ld_so: &str, args: &[&str], file: &Path, env: &[(&str, &str)]) -> Trace {
    let out = oracle_cmd(ld_so, env)
        .env("LD_DEBUG", "libs")
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .args(args)
        .arg(file)
        .output()
        .expect("run ld.so");
    let text = String::from_utf8_lossy(&out.stderr);
    let mut t = Trace {
        trying: Vec::new(),
        first_search: None,
        system_search: None,
        resolution: parse_ldd(&String::from_utf8_lossy(&out.stdout), file),
    };
    for line in text.lines() {
        if let Some((_, p)) = line.split_once("trying file=") {
            t.trying.push(p.trim().to_string());
        } else if line.contains("search cache=") {
            t.trying.push(CACHE_LOOKUP.to_string());
        } else if let Some((_, p)) = line.split_once("search path=") {
            let (dirs, why) = p.split_once('\t').unwrap_or((p, ""));
            if t.first_search.is_none() {
                t.first_search = Some(dirs.trim().to_string());
            }
            if why.contains("system search path") && t.system_search.is_none() {
                t.system_search = Some(dirs.trim().to_string());
            }
        }
    }
    t
}

/// Our candidates in load order, as glibc prints them: no skipped (known-absent) directories, no default
/// directories DF_1_NODEFLIB excludes, and [`CACHE_LOOKUP`] for each ld.so.cache lookup (glibc 2.36 prints
/// `search cache=`, then `trying file=<cached path>` for any entry found, in `_dl_load_cache_lookup`, before
/// `_dl_map_object` drops an entry under DF_1_NODEFLIB); `cache: false` drops the lookups (the oracle runs with
/// `--inhibit-cache`).
fn our_trying(doc: &Value) -> Vec<String> {
    our_trying_with(doc, true)
}

fn our_trying_with(doc: &Value, cache: bool) -> Vec<String> {
    let mut out = Vec::new();
    for n in doc["nodes"].as_array().unwrap() {
        for e in n["edges"].as_array().unwrap() {
            for a in e["attempts"].as_array().unwrap() {
                if a["kind"] == "ld_so_cache" && cache {
                    out.push(CACHE_LOOKUP.to_string());
                }
                let tried = match a["outcome"].as_str() {
                    Some("dir-known-absent" | "not-in-cache") => false,
                    Some("not-considered") => a["kind"] == "ld_so_cache",
                    _ => true,
                };
                if tried {
                    out.push(a["path"].as_str().unwrap().to_string());
                }
            }
        }
    }
    out
}

/// The hwcap subdirectories glibc tries inside each search directory, from the first `search path=` line:
/// the elements before the first plain directory, with that directory's prefix stripped.
fn hwcap_subdirs() -> &'static str {
    static SUBDIRS: OnceLock<String> = OnceLock::new();
    SUBDIRS.get_or_init(|| {
        let (_, search) = ld_debug(&loader_fixture("rpath_vs_runpath/libtop_rpath.so"), &[]);
        let search = search.expect("LD_DEBUG printed no search path");
        let elems: Vec<&str> = search.split(':').collect();
        let base = elems
            .iter()
            .position(|d| elems[0].starts_with(&format!("{d}/")))
            .unwrap_or(0);
        let subs: Vec<&str> = elems[..base]
            .iter()
            .map(|e| e.strip_prefix(elems[base]).unwrap().trim_start_matches('/'))
            .collect();
        subs.join(",")
    })
}

// -------------------------------------------------------------------------------------------------------------
// Real programs and libraries on this machine
// -------------------------------------------------------------------------------------------------------------

fn system_targets() -> Vec<PathBuf> {
    let dir = Path::new("/usr/lib/x86_64-linux-gnu");
    let mut out = vec![PathBuf::from("/usr/bin/python3")];
    let names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if let Some(py) = names
        .iter()
        .filter(|n| n.starts_with("libpython3") && n.ends_with(".so.1.0"))
        .max()
    {
        out.push(dir.join(py));
    }
    let llvm = names
        .iter()
        .filter(|n| n.starts_with("libLLVM") && n.contains(".so"))
        .map(|n| dir.join(n))
        .filter(|p| p.symlink_metadata().is_ok_and(|m| m.is_file()))
        .max_by_key(|p| p.metadata().map(|m| m.len()).unwrap_or(0));
    out.extend(llvm);
    // Libraries with several DT_NEEDED entries each (sonames, present on Debian 12 desktops/builders).
    let many = [
        "libstdc++.so.6",
        "libGLX_mesa.so.0",
        "libgdk-x11-2.0.so.0",
        "libEGL_mesa.so.0",
        "libgtk-x11-2.0.so.0",
        "libcurl.so.4",
        "libcurl-gnutls.so.4",
        "libapt-pkg.so.6.0",
        "librsvg-2.so.2",
        "libcairo.so.2",
        "libgd.so.3",
        "libtiff.so.6",
        "libheif.so.1",
        "libgnutls.so.30",
        "libpangocairo-1.0.so.0",
        "libabsl_flags_parse.so.20220623",
    ];
    out.extend(many.iter().map(|n| dir.join(n)).filter(|p| p.exists()));
    out.retain(|p| p.exists());
    out
}

#[test]
fn system_binaries_match_ldd() {
    if !oracles() {
        return;
    }
    let targets = system_targets();
    if targets.len() < 14 {
        let msg = format!(
            "only {} of the system targets exist: {targets:?}",
            targets.len()
        );
        assert!(!require_oracles(), "{msg}");
        println!("note: {msg}");
    }
    for t in &targets {
        let (doc, code) = deps(t, &[]);
        assert_eq!(
            code,
            0,
            "{}: exit {code}, findings {}",
            t.display(),
            doc["findings"]
        );
        check_against_ldd(t, &doc, &[]);
    }
}

// -------------------------------------------------------------------------------------------------------------
// Loader fixtures: resolution (ldd) and candidate order (LD_DEBUG=libs)
// -------------------------------------------------------------------------------------------------------------

/// Resolve a fixture with the same environment on both sides and compare with ldd and LD_DEBUG.
fn check_fixture(rel: &str, env: &[(&str, &str)], want_exit: i32) -> Value {
    let file = loader_fixture(rel);
    assert!(
        file.exists(),
        "missing fixture {} (run testdata/build.sh)",
        file.display()
    );
    let mut args = vec!["--hwcap-subdirs".to_string(), hwcap_subdirs().to_string()];
    for (k, v) in env {
        args.push("--env".into());
        args.push(format!("{k}={v}"));
    }
    let (doc, code) = deps(&file, &args);
    assert_eq!(
        code, want_exit,
        "{rel}: exit code; findings {}",
        doc["findings"]
    );
    check_against_ldd(&file, &doc, env);
    let (want, _) = ld_debug(&file, env);
    let got = our_trying(&doc);
    if want != got {
        let n = want.iter().zip(&got).take_while(|(a, b)| a == b).count();
        panic!(
            "{rel}: candidate order differs from LD_DEBUG=libs at #{n}\n  glibc: {:?}\n  ours:  {:?}\n\
             (glibc {} candidates, ours {})",
            want.get(n..(n + 4).min(want.len())),
            got.get(n..(n + 4).min(got.len())),
            want.len(),
            got.len()
        );
    }
    doc
}

#[test]
fn rpath_vs_runpath() {
    if !oracles() {
        return;
    }
    let doc = check_fixture("rpath_vs_runpath/libtop_rpath.so", &[], 0);
    let e = edge(&doc, "libtop_rpath.so", "libleaf.so");
    assert!(target_path(&doc, e)
        .unwrap()
        .ends_with("rpath_vs_runpath/a/libleaf.so"));
    assert!(e["rule"].as_str().unwrap().starts_with("DT_RPATH"));
    let doc = check_fixture("rpath_vs_runpath/libtop_runpath.so", &[], 0);
    let e = edge(&doc, "libtop_runpath.so", "libleaf.so");
    assert!(target_path(&doc, e)
        .unwrap()
        .ends_with("rpath_vs_runpath/b/libleaf.so"));
    assert!(e["rule"].as_str().unwrap().starts_with("DT_RUNPATH"));
}

#[test]
fn executable_rpath_is_inherited_runpath_is_not() {
    if !oracles() {
        return;
    }
    let doc = check_fixture("inherit/app_rpath", &[], 0);
    let e = edge(&doc, "deep/libmid.so", "libdeep.so");
    assert!(target_path(&doc, e)
        .unwrap()
        .ends_with("inherit/deep/libdeep.so"));
    let rule = e["rule"].as_str().unwrap();
    assert!(
        rule.starts_with("DT_RPATH") && rule.contains("app_rpath"),
        "rule {rule}"
    );

    let doc = check_fixture("inherit/app_runpath", &[], 1);
    let e = edge(&doc, "deep/libmid.so", "libdeep.so");
    assert!(e["missing"] == true && e["target"].is_null());
    assert!(!with_code(&doc, "FFI0301").is_empty());
    // libmid.so itself is found through the executable's own DT_RUNPATH.
    let e = edge(&doc, "inherit/app_runpath", "libmid.so");
    assert!(e["rule"].as_str().unwrap().starts_with("DT_RUNPATH"));
}

#[test]
fn wrong_class_candidate_is_skipped() {
    if !oracles() {
        return;
    }
    let doc = check_fixture("wrong_class/libwc.so", &[], 0);
    let e = edge(&doc, "libwc.so", "libleaf.so");
    assert!(target_path(&doc, e)
        .unwrap()
        .ends_with("wrong_class/w64/libleaf.so"));
    let attempts = e["attempts"].as_array().unwrap();
    assert!(attempts.iter().any(|a| a["outcome"] == "wrong-class"
        && a["path"].as_str().unwrap().ends_with("w32/libleaf.so")));
}

#[test]
fn missing_library() {
    if !oracles() {
        return;
    }
    let doc = check_fixture("missing/libmissing.so", &[], 1);
    let e = edge(&doc, "libmissing.so", "libnothere.so");
    assert!(e["missing"] == true);
    assert!(!with_code(&doc, "FFI0301").is_empty());
    let e = edge(&doc, "libmissing.so", "libleaf.so");
    assert!(target_path(&doc, e)
        .unwrap()
        .ends_with("missing/libleaf.so"));
}

#[test]
fn ld_library_path() {
    if !oracles() {
        return;
    }
    let dir = loader_fixture("llp/dir").display().to_string();
    let doc = check_fixture("llp/libllp.so", &[("LD_LIBRARY_PATH", &dir)], 0);
    let e = edge(&doc, "libllp.so", "libllpdep.so");
    assert_eq!(e["rule"], "LD_LIBRARY_PATH");
    // Without it: not found, on both sides.
    check_fixture("llp/libllp.so", &[], 1);
    // Empty elements and a missing directory first (empty = the current directory for glibc).
    let odd = format!("/nonexistent/ffi-doctor:{dir}");
    check_fixture("llp/libllp.so", &[("LD_LIBRARY_PATH", &odd)], 0);
}

#[test]
fn cycle_terminates_and_is_reported() {
    if !oracles() {
        return;
    }
    let doc = check_fixture("cycle/libcyca.so", &[], 0);
    let e = edge(&doc, "libcycb.so", "libcyca.so");
    assert!(
        e["target"] == 0,
        "libcycb.so -> libcyca.so should be the root: {e}"
    );
    assert!(
        e["cycle"] == true || !with_code(&doc, "FFI0303").is_empty(),
        "cycle not reported: {}",
        doc["findings"]
    );
}

// -------------------------------------------------------------------------------------------------------------
// Where ld.so looks last: DF_1_NODEFLIB and the default directories per class (LD_DEBUG=libs and real runs)
// -------------------------------------------------------------------------------------------------------------

const LD_SO_32: &str = "/lib/ld-linux.so.2";

/// Run a fixture program for real: (exit code, stderr).
fn run_for_real(program: &Path, args: &[&str]) -> (i32, String) {
    let out = oracle_cmd(program.to_str().unwrap(), &[])
        .args(args)
        .output()
        .expect("run the fixture program");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The default directories of a `(system search path)` line: the elements that are not a hwcap subdirectory
/// (`hwcaps`, comma-separated, as `--hwcap-subdirs` takes them).
fn system_dirs_of(search: &str, hwcaps: &str) -> Vec<String> {
    let subs: Vec<String> = hwcaps
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| format!("/{s}"))
        .collect();
    search
        .split(':')
        .filter(|e| !subs.iter().any(|s| e.ends_with(s.as_str())))
        .map(str::to_string)
        .collect()
}

/// `true` when this machine's ld.so.cache has the entry the NODEFLIB fixture relies on (the fakeroot package's
/// library, in a subdirectory of a system directory).
fn fakeroot_in_cache() -> bool {
    let out = Command::new("/sbin/ldconfig").arg("-p").output();
    let ok = out.is_ok_and(|o| {
        String::from_utf8_lossy(&o.stdout)
            .contains("=> /usr/lib/x86_64-linux-gnu/libfakeroot/libfakeroot-0.so")
    });
    if !ok {
        assert!(
            !require_oracles(),
            "libfakeroot-0.so not in ld.so.cache (install fakeroot) and FFI_DOCTOR_REQUIRE_ORACLES=1"
        );
        println!("skipped: libfakeroot-0.so is not in /etc/ld.so.cache (install fakeroot)");
    }
    ok
}

#[test]
fn nodeflib_drops_cache_entries_under_system_dirs() {
    if !oracles() || !have("/sbin/ldconfig") || !fakeroot_in_cache() {
        return;
    }
    // The loader with DF_1_NODEFLIB: the cache entry is in a subdirectory of a system directory and is dropped.
    let doc = check_fixture("nodeflib/app_nodeflib", &[], 1);
    let e = edge(&doc, "nodeflib/libnodeflib.so", "libfakeroot-0.so");
    assert!(e["missing"] == true, "{e:#}");
    let attempts = e["attempts"].as_array().unwrap();
    assert_eq!(attempts[0]["kind"], "ld_so_cache", "{e:#}");
    assert_eq!(
        attempts[0]["path"],
        "/usr/lib/x86_64-linux-gnu/libfakeroot/libfakeroot-0.so"
    );
    assert_eq!(attempts[0]["outcome"], "not-considered");
    assert!(attempts[0]["detail"]
        .as_str()
        .unwrap()
        .contains("DF_1_NODEFLIB"));
    let defaults: Vec<_> = attempts.iter().skip(1).collect();
    assert!(
        !defaults.is_empty()
            && defaults
                .iter()
                .all(|a| a["kind"] == "default_dir" && a["outcome"] == "not-considered"),
        "{e:#}"
    );
    let f = with_code(&doc, "FFI0301");
    let f = f.first().expect("a missing-library finding");
    let found = f["found"].as_str().unwrap();
    let hint = f["hint"].as_str().unwrap();
    assert!(
        found.contains("(ld.so.cache): not considered (DF_1_NODEFLIB"),
        "{found}"
    );
    assert!(
        hint.contains("-z nodefaultlib") && hint.contains("libfakeroot/libfakeroot-0.so"),
        "{hint}"
    );
    let (code, stderr) = run_for_real(&loader_fixture("nodeflib/app_nodeflib"), &[]);
    assert!(
        code != 0 && stderr.contains("libfakeroot-0.so"),
        "the real run: exit {code}, {stderr}"
    );

    // The same library without the flag: the cache entry is used, and the program runs.
    let doc = check_fixture("nodeflib/app_deflib", &[], 0);
    let e = edge(&doc, "nodeflib/libdeflib.so", "libfakeroot-0.so");
    assert_eq!(e["kind"], "ld_so_cache", "{e:#}");
    let (code, stderr) = run_for_real(&loader_fixture("nodeflib/app_deflib"), &[]);
    assert_eq!(code, 0, "the real run: {stderr}");

    // As the root, NODEFLIB also drops libc.so.6's entry (in a system directory itself).
    let doc = check_fixture("nodeflib/libnodeflib.so", &[], 1);
    assert!(edge(&doc, "nodeflib/libnodeflib.so", "libc.so.6")["missing"] == true);
}

/// The 32-bit fixture against the 32-bit loader: LD_DEBUG's candidates, the trace's resolution, the default
/// directories (ours vs the `(system search path)` line), with ld.so.cache and without (`--inhibit-cache`, ours
/// with an empty cache), and the program run for real both ways.
#[test]
fn multiarch32_default_dirs_are_the_loaders() {
    if !oracles() || !have(LD_SO_32) {
        return;
    }
    let file = loader_fixture("multiarch32/app32");
    let first = trace(LD_SO_32, &["--inhibit-cache"], &file, &[]);
    let search = first.first_search.clone().expect("a search path");
    let elems: Vec<&str> = search.split(':').collect();
    let base = *elems.last().unwrap();
    let subs: Vec<&str> = elems[..elems.len() - 1]
        .iter()
        .map(|e| e.strip_prefix(base).unwrap().trim_start_matches('/'))
        .collect();
    let hwcaps = subs.join(",");
    let system = system_dirs_of(
        &first.system_search.clone().expect("a system search path"),
        &hwcaps,
    );

    for inhibit in [false, true] {
        let mut args = vec!["--hwcap-subdirs".to_string(), hwcaps.clone()];
        if inhibit {
            args.push("--ld-so-cache".into());
            args.push(
                loader_fixture("multiarch32/empty.ld.so.cache")
                    .display()
                    .to_string(),
            );
        }
        let (doc, code) = deps(&file, &args);
        assert_eq!(code, 0, "inhibit {inhibit}: {}", doc["findings"]);
        let dirs: Vec<String> = doc["default_dirs"]["dirs"]
            .as_array()
            .expect("default_dirs")
            .iter()
            .map(|d| d.as_str().unwrap().to_string())
            .collect();
        assert_eq!(dirs, system, "default dirs vs ld.so's system search path");
        let source = doc["default_dirs"]["source"].as_str().unwrap();
        assert!(source.contains(LD_SO_32), "{source}");
        let t = if inhibit {
            trace(LD_SO_32, &["--inhibit-cache"], &file, &[])
        } else {
            trace(LD_SO_32, &[], &file, &[])
        };
        compare_resolution(&file, &doc, t.resolution);
        let got = our_trying_with(&doc, !inhibit);
        assert_eq!(
            got, t.trying,
            "inhibit {inhibit}: candidates vs LD_DEBUG=libs"
        );
        if inhibit {
            let e = edge(&doc, "multiarch32/app32", "libm.so.6");
            assert_eq!(e["kind"], "default_dir", "{e:#}");
        }
    }
    check_against_ldd(&file, &deps(&file, &[]).0, &[]);
    let (code, stderr) = run_for_real(&file, &[]);
    assert_eq!(code, 0, "the real run: {stderr}");
    let (code, stderr) = run_for_real(
        Path::new(LD_SO_32),
        &["--inhibit-cache", file.to_str().unwrap()],
    );
    assert_eq!(code, 0, "the real run without the cache: {stderr}");
}

/// The 64-bit loader's default directories are its `(system search path)`, and `--explain` says where they came
/// from; a missing library's search shows the ld.so.cache lookup where glibc makes it.
#[test]
fn default_dirs_64_and_cache_lookup_of_a_missing_library() {
    if !oracles() {
        return;
    }
    let file = loader_fixture("missing/libmissing.so");
    let t = trace(LD_SO, &["--inhibit-cache"], &file, &[]);
    let system = system_dirs_of(
        &t.system_search.expect("a system search path"),
        hwcap_subdirs(),
    );
    let (doc, _) = deps(&file, &[]);
    let dirs: Vec<String> = doc["default_dirs"]["dirs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().to_string())
        .collect();
    assert_eq!(dirs, system);
    let f = with_code(&doc, "FFI0301");
    let found = f.first().expect("missing")["found"].as_str().unwrap();
    assert!(
        found.contains("/etc/ld.so.cache (ld.so.cache): no entry for libnothere.so"),
        "{found}"
    );
    let out = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"))
        .args(["deps", "--explain"])
        .arg(&file)
        .output()
        .expect("run ffi-doctor");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!(
            "(default directories {}: the system_dirs compiled into {LD_SO})",
            system.join(":")
        )),
        "{text}"
    );
}

/// Without a loader under the sysroot, the documented defaults of the family the sysroot looks like, and
/// `--explain` says so.
#[test]
fn default_dirs_without_a_loader_are_the_documented_ones() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("usr/lib32")).unwrap();
    std::fs::create_dir_all(root.path().join("app")).unwrap();
    let app = root.path().join("app/app32");
    std::fs::copy(loader_fixture("multiarch32/app32"), &app).unwrap();
    let args = ["--sysroot".to_string(), root.path().display().to_string()];
    let (doc, code) = deps(&app, &args);
    assert_eq!(code, 1, "nothing to load in an empty sysroot");
    assert_eq!(
        doc["default_dirs"]["dirs"],
        serde_json::json!(["/lib32", "/usr/lib32", "/lib", "/usr/lib"])
    );
    let source = doc["default_dirs"]["source"].as_str().unwrap();
    assert!(
        source.contains("Debian biarch")
            && source.contains("no readable loader at /lib/ld-linux.so.2"),
        "{source}"
    );
    let e = edge(&doc, "app/app32", "libm.so.6");
    let tried: Vec<&str> = e["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["path"].as_str().unwrap())
        .collect();
    assert!(tried.contains(&"/usr/lib32/libm.so.6"), "{tried:?}");
}

// -------------------------------------------------------------------------------------------------------------
// Robustness of the search (no oracle needed)
// -------------------------------------------------------------------------------------------------------------

#[test]
fn symlink_loop_in_ld_library_path_terminates() {
    let tmp = tempfile::tempdir().unwrap();
    let lp = tmp.path().join("loop");
    std::os::unix::fs::symlink(&lp, &lp).unwrap();
    let ab = tmp.path().join("a");
    let ba = tmp.path().join("b");
    std::os::unix::fs::symlink(&ba, &ab).unwrap();
    std::os::unix::fs::symlink(&ab, &ba).unwrap();
    let dir = loader_fixture("llp/dir");
    let llp = format!(
        "{}:{}/sub:{}:{}",
        lp.display(),
        lp.display(),
        ab.display(),
        dir.display()
    );
    let start = Instant::now();
    let (doc, code) = deps(
        &loader_fixture("llp/libllp.so"),
        &[format!("--env=LD_LIBRARY_PATH={llp}")],
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(code, 0, "findings {}", doc["findings"]);
    let e = edge(&doc, "libllp.so", "libllpdep.so");
    assert!(target_path(&doc, e)
        .unwrap()
        .ends_with("llp/dir/libllpdep.so"));
    if oracles() {
        check_against_ldd(
            &loader_fixture("llp/libllp.so"),
            &doc,
            &[("LD_LIBRARY_PATH", &llp)],
        );
    }
}

#[test]
fn ten_thousand_search_dirs_terminate_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut dirs = Vec::with_capacity(10_001);
    for i in 0..10_000 {
        // Relative names (resolved against the working directory): one argument must stay under 128 KiB.
        let d = format!("d{i}");
        if i % 2 == 0 {
            std::fs::create_dir(tmp.path().join(&d)).unwrap();
        }
        dirs.push(d);
    }
    dirs.push(loader_fixture("llp/dir").display().to_string());
    let llp = dirs.join(":");
    let start = Instant::now();
    let args = [format!("--env=LD_LIBRARY_PATH={llp}")];
    let (doc, code) = deps_in(&loader_fixture("llp/libllp.so"), &args, tmp.path());
    let took = start.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    assert_eq!(code, 0, "findings {}", doc["findings"]);
    let e = edge(&doc, "libllp.so", "libllpdep.so");
    assert!(target_path(&doc, e)
        .unwrap()
        .ends_with("llp/dir/libllpdep.so"));
    assert_eq!(e["attempts"].as_array().unwrap().len(), 10_001);
    // The missing directories are remembered: libc.so.6 does not stat them again.
    let libc = edge(&doc, "libllp.so", "libc.so.6");
    let skipped = libc["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["outcome"] == "dir-known-absent")
        .count();
    assert_eq!(skipped, 5_000);
}

/// What `ldd -r FILE` reports: undefined symbols (`name` or `name@VERSION`) and missing versions.
fn ldd_r(file: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = file.parent().expect("fixture dir");
    let name = format!("./{}", file.file_name().expect("name").to_string_lossy());
    let out = oracle_cmd("ldd", &[])
        .current_dir(dir)
        .args(["-r", &name])
        .output()
        .expect("run ldd -r");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut undefined = BTreeSet::new();
    let mut versions = BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix("undefined symbol: ") {
            let sym = rest.split('\t').next().unwrap_or("").trim();
            let sym = match sym.split_once(", version ") {
                Some((s, v)) => format!("{s}@{v}"),
                None => sym.to_string(),
            };
            undefined.insert(sym);
        }
        if let Some(pos) = line.find("version `") {
            let v = &line[pos + 9..];
            if let Some(end) = v.find('\'') {
                versions.insert(v[..end].to_string());
            }
        }
    }
    (undefined, versions)
}

/// Our `deps --check-symbols` errors in the same terms.
fn our_binding_errors(doc: &Value) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut undefined = BTreeSet::new();
    let mut versions = BTreeSet::new();
    for f in doc["findings"].as_array().into_iter().flatten() {
        let msg = f["message"].as_str().unwrap_or("");
        match f["code"].as_str() {
            Some("FFI0302") if f["severity"] == "error" => {
                let sym = msg.trim_start_matches("undefined symbol: ");
                let sym = sym.split(" (expected in").next().unwrap_or(sym);
                undefined.insert(sym.to_string());
            }
            Some("FFI0304") => {
                if let Some(v) = msg
                    .strip_prefix("version `")
                    .and_then(|r| r.split('\'').next())
                {
                    versions.insert(v.to_string());
                }
            }
            _ => {}
        }
    }
    (undefined, versions)
}

#[test]
fn check_symbols_agrees_with_ldd_r() {
    if !oracles() {
        return;
    }
    let mut files: Vec<PathBuf> = [
        "symbols/libneedsver.so",
        "symbols/libundef.so",
        "symbols/libprov.so",
        "missing/libmissing.so",
    ]
    .iter()
    .map(|r| loader_fixture(r))
    .collect();
    files.extend(
        system_targets()
            .into_iter()
            .filter(|p| p.to_string_lossy().ends_with(".so.6")),
    );
    let mut with_errors = 0;
    for file in files {
        let want = ldd_r(&file);
        let (doc, code) = deps(&file, &["--check-symbols".to_string()]);
        let got = our_binding_errors(&doc);
        assert_eq!(
            got.0,
            want.0,
            "{}: undefined symbols (ours vs ldd -r)",
            file.display()
        );
        assert_eq!(
            got.1,
            want.1,
            "{}: missing versions (ours vs ldd -r)",
            file.display()
        );
        if !want.0.is_empty() || !want.1.is_empty() {
            with_errors += 1;
            assert_eq!(code, 1, "{}: binding errors must exit 1", file.display());
        }
    }
    assert!(
        with_errors >= 2,
        "the fixtures must exercise undefined symbols and versions"
    );
}

#[test]
fn runpath_not_inherited_is_explained() {
    let (doc, code) = deps(&loader_fixture("inherit/app_runpath"), &[]);
    assert_eq!(code, 1);
    let f = doc["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["code"] == "FFI0301"))
        .expect("a missing-library finding");
    let hint = f["hint"].as_str().unwrap_or("");
    assert!(
        hint.contains("deep/libdeep.so") && hint.contains("DT_RUNPATH only"),
        "hint: {hint}"
    );
}

#[test]
fn non_utf8_needed_entry_is_refused_not_dropped() {
    // A copy of libdemo.so whose DT_NEEDED "libext.so.1" has a byte that is not UTF-8: the file must not be
    // shown with that dependency silently missing.
    let src = root().join("testdata/elf/x86_64/libdemo.so");
    let mut bytes = std::fs::read(&src).expect("fixture");
    let at = bytes
        .windows(12)
        .position(|w| w == b"libext.so.1\0")
        .expect("libext.so.1 in .dynstr");
    bytes[at + 3] = 0xff;
    let dir = tempfile::tempdir().expect("tempdir");
    let lib = dir.path().join("libdemo.so");
    std::fs::write(&lib, &bytes).expect("write");
    for cmd in ["deps", "inspect"] {
        let out = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"))
            .arg(cmd)
            .arg(&lib)
            .output()
            .expect("run ffi-doctor");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {stderr}");
        assert!(
            stderr.contains("not valid UTF-8") && stderr.contains("libdemo.so"),
            "{cmd}: {stderr}"
        );
    }
}
