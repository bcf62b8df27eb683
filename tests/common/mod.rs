//! The one helper surface of the integration tests: run our binary (`ffi`, `ffi_json` asserting exit 0,
//! `ffi_json_code`/`run_json` returning the exit code), read its JSON documents (`findings`, `with_code`, `codes`,
//! `edge`, `edge_names`, `target_path`, `attempts`, `assert_edge`), find and run the oracle tools (llvm-nm,
//! llvm-readobj, readelf, llvm-otool, llvm-objdump, llvm-cxxfilt, llvm-undname), find fixtures and system libraries,
//! and compare what we say with what the oracle says as multisets, with a readable diff.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The crate root (where `testdata/` lives).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `testdata/<sub>`.
pub fn testdata(sub: &str) -> PathBuf {
    root().join("testdata").join(sub)
}

/// Every regular file under `testdata/<sub>`, recursively, sorted.
pub fn fixtures(sub: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&testdata(sub), &mut out);
    out.sort();
    assert!(!out.is_empty(), "no fixtures under testdata/{sub}");
    out
}

/// A path relative to the crate root, for messages.
pub fn rel(p: &Path) -> String {
    p.strip_prefix(root())
        .unwrap_or(p)
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------------------------------
// Our binary
// ---------------------------------------------------------------------------------------------------------------

/// `ffi-doctor` as a [`Command`]: no colour, stdin closed. A test adds a working directory or environment changes
/// before handing it to [`run_json`].
pub fn ffi_command() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"));
    c.env("NO_COLOR", "1").stdin(Stdio::null());
    c
}

/// Run `ffi-doctor` with `args` (no colour).
pub fn ffi(args: &[&str]) -> Output {
    ffi_command().args(args).output().expect("run ffi-doctor")
}

/// What one `ffi-doctor <cmd> --format json …` run gave.
pub struct JsonRun {
    /// The exit code (-1 when killed by a signal).
    pub code: i32,
    /// stdout, parsed.
    pub doc: Value,
    pub stderr: String,
}

/// Run `ffi-doctor <cmd> --format json <args>` through `command` (from [`ffi_command`]) and parse what it printed.
/// The exit code is returned, not asserted; asserted are: stdout is JSON with the schema `ffi-doctor/<cmd>/v1`, and
/// stderr shows no panic.
pub fn run_json<I, S>(mut command: Command, cmd: &str, args: I) -> JsonRun
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<OsString> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let shown = format!(
        "ffi-doctor {cmd} --format json {}",
        args.iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let out = command
        .arg(cmd)
        .args(["--format", "json"])
        .args(&args)
        .output()
        .expect("run ffi-doctor");
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("panicked") && !stderr.contains("internal error"),
        "{shown} wrote a panic to stderr:\n{stderr}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{shown} printed invalid JSON ({e}), exit {code}\nstdout: {}\nstderr: {stderr}",
            String::from_utf8_lossy(&out.stdout[..out.stdout.len().min(2000)])
        )
    });
    assert_eq!(
        doc["schema"].as_str(),
        Some(format!("ffi-doctor/{cmd}/v1").as_str()),
        "schema of {shown}"
    );
    JsonRun { code, doc, stderr }
}

/// Run `ffi-doctor <cmd> --format json <args>`: (exit code, document). See [`run_json`] for what is asserted; the
/// exit code is not.
pub fn ffi_json_code(cmd: &str, args: &[&str]) -> (i32, Value) {
    let r = run_json(ffi_command(), cmd, args);
    (r.code, r.doc)
}

/// Run `ffi-doctor <cmd> --format json <args>`; it must exit 0 and print a document with the right schema.
pub fn ffi_json(cmd: &str, args: &[&str]) -> Value {
    let r = run_json(ffi_command(), cmd, args);
    assert_eq!(
        r.code,
        0,
        "ffi-doctor {cmd} --format json {} failed:\n{}",
        args.join(" "),
        r.stderr
    );
    r.doc
}

/// The images of an `exports`/`imports` JSON document (exactly one per slice).
pub fn images(doc: &Value) -> &Vec<Value> {
    doc["images"].as_array().expect("images array")
}

/// The symbols of one image of an `exports`/`imports` document; checks `count`.
pub fn symbols(image: &Value) -> &Vec<Value> {
    let syms = image["symbols"].as_array().expect("symbols array");
    assert_eq!(image["count"].as_u64(), Some(syms.len() as u64), "count");
    syms
}

/// `ffi-doctor inspect --format json FILE`: the one file's images (summaries).
pub fn inspect_images(path: &Path) -> Vec<Value> {
    let p = path.to_str().unwrap();
    let doc = ffi_json("inspect", &[p]);
    assert_eq!(doc["errors"].as_array().map(Vec::len), Some(0), "{p}");
    let files = doc["files"].as_array().expect("files");
    assert_eq!(files.len(), 1);
    files[0]["images"].as_array().expect("images").clone()
}

pub fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

pub fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|x| s(x).to_string()).collect())
        .unwrap_or_default()
}

/// `name`, `name@@VER` or `name@VER`, as readelf and llvm-nm print versioned ELF symbols.
pub fn versioned_name(sym: &Value) -> String {
    let name = s(&sym["name"]);
    match sym.get("version") {
        Some(v) if v.is_object() => {
            let sep = if v["default"].as_bool() == Some(true) {
                "@@"
            } else {
                "@"
            };
            format!("{name}{sep}{}", s(&v["name"]))
        }
        _ => name.to_string(),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Findings and dependency graphs in JSON documents
// ---------------------------------------------------------------------------------------------------------------

/// Every finding of a document, in order, wherever its command puts them: per image (`check`), per target (`gate`),
/// or top-level (`deps`, `load`, …).
pub fn findings(doc: &Value) -> Vec<&Value> {
    let nested = |key: &str| -> Vec<&Value> {
        doc[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key} array in {doc:#}"))
            .iter()
            .flat_map(|x| x["findings"].as_array().expect("findings").iter())
            .collect()
    };
    match doc["schema"].as_str() {
        Some("ffi-doctor/check/v1") => nested("images"),
        Some("ffi-doctor/gate/v1") => nested("targets"),
        _ => doc["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .collect(),
    }
}

/// The findings with code `code`.
pub fn with_code<'a>(doc: &'a Value, code: &str) -> Vec<&'a Value> {
    findings(doc)
        .into_iter()
        .filter(|f| f["code"] == code)
        .collect()
}

/// The codes of every finding, in order.
pub fn codes(doc: &Value) -> Vec<String> {
    findings(doc)
        .iter()
        .map(|f| f["code"].as_str().expect("code").to_string())
        .collect()
}

/// The nodes of a `deps` document.
pub fn nodes(doc: &Value) -> &Vec<Value> {
    doc["nodes"].as_array().expect("nodes")
}

/// Whether a node path is `from`, or ends with `from` after a `/` or `\`.
fn node_is(path: &str, from: &str) -> bool {
    path == from
        || path
            .strip_suffix(from)
            .is_some_and(|head| head.ends_with('/') || head.ends_with('\\'))
}

/// The nodes whose path is `from` or ends with `/from`; at least one.
fn nodes_at<'a>(doc: &'a Value, from: &str) -> Vec<&'a Value> {
    let found: Vec<&Value> = nodes(doc)
        .iter()
        .filter(|n| node_is(n["path"].as_str().expect("node path"), from))
        .collect();
    assert!(!found.is_empty(), "no node {from} in {doc:#}");
    found
}

/// The edge `name` of the node at `from` (its path, or a trailing part of it from a `/`).
pub fn edge<'a>(doc: &'a Value, from: &str, name: &str) -> &'a Value {
    let at = nodes_at(doc, from);
    at.iter()
        .flat_map(|n| n["edges"].as_array().expect("edges"))
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no edge {from} -> {name}: {at:#?}"))
}

/// The names of the edges of the node at `from`, in load order.
pub fn edge_names(doc: &Value, from: &str) -> Vec<String> {
    nodes_at(doc, from)
        .iter()
        .flat_map(|n| n["edges"].as_array().expect("edges"))
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

/// The node an edge resolved to, or None.
pub fn target<'a>(doc: &'a Value, e: &Value) -> Option<&'a Value> {
    e["target"].as_u64().map(|t| &nodes(doc)[t as usize])
}

/// The path of the node an edge resolved to, or None.
pub fn target_path<'a>(doc: &'a Value, e: &Value) -> Option<&'a str> {
    target(doc, e).map(|n| n["path"].as_str().unwrap())
}

/// An edge's attempts as `(path, rule, outcome)`; the outcome carries its detail, if any, after `": "`.
pub fn attempts(e: &Value) -> Vec<(String, String, String)> {
    e["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut o = a["outcome"].as_str().unwrap().to_string();
            if let Some(d) = a["detail"].as_str() {
                o = format!("{o}: {d}");
            }
            (
                a["path"].as_str().unwrap().to_string(),
                a["rule"].as_str().unwrap().to_string(),
                o,
            )
        })
        .collect()
}

/// One expected attempt, for [`assert_edge`].
pub fn att(path: &str, rule: &str, outcome: &str) -> (String, String, String) {
    (path.into(), rule.into(), outcome.into())
}

/// Assert one edge completely: where it went, the rule, every candidate in order (as [`attempts`] gives them), and
/// the missing flag (set when nothing was found, unless the rule says the dependency is weak).
#[track_caller]
pub fn assert_edge(
    doc: &Value,
    from: &str,
    name: &str,
    to: Option<&str>,
    rule: Option<&str>,
    tried: &[(String, String, String)],
) {
    let e = edge(doc, from, name);
    assert_eq!(target_path(doc, e), to, "{from} -> {name}: target\n{e:#}");
    assert_eq!(e["rule"].as_str(), rule, "{from} -> {name}: rule\n{e:#}");
    assert_eq!(attempts(e), tried, "{from} -> {name}: attempts\n{e:#}");
    assert_eq!(
        e["missing"].as_bool(),
        Some(to.is_none() && !rule.is_some_and(|r| r.contains("weak"))),
        "{from} -> {name}: missing flag\n{e:#}"
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Oracle tools
// ---------------------------------------------------------------------------------------------------------------

/// Environment variable that turns a missing oracle tool from a skip into a failure.
pub const REQUIRE_ORACLES: &str = "FFI_DOCTOR_REQUIRE_ORACLES";

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// `/usr/lib/llvm-*/bin`, newest version first.
fn llvm_bin_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<(Vec<u64>, PathBuf)> = std::fs::read_dir("/usr/lib")
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    let ver = name.strip_prefix("llvm-")?;
                    let key = ver
                        .split('.')
                        .map(|p| p.parse::<u64>().unwrap_or(0))
                        .collect();
                    Some((key, e.path().join("bin")))
                })
                .filter(|(_, p)| p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    dirs.sort_by(|a, b| b.0.cmp(&a.0));
    dirs.into_iter().map(|(_, p)| p).collect()
}

/// Look for `name` on PATH, then in `/usr/lib/llvm-*/bin`.
pub fn find_tool(name: &str) -> Option<PathBuf> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .into_iter()
        .chain(llvm_bin_dirs())
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// An oracle tool, or `None` after printing `skipped: <tool> not found` — unless `FFI_DOCTOR_REQUIRE_ORACLES=1`,
/// in which case a missing tool is a test failure.
pub fn oracle(name: &str) -> Option<PathBuf> {
    if let Some(p) = find_tool(name) {
        return Some(p);
    }
    if std::env::var(REQUIRE_ORACLES).as_deref() == Ok("1") {
        panic!("{name} not found on PATH or in /usr/lib/llvm-*/bin, and {REQUIRE_ORACLES}=1");
    }
    println!("skipped: {name} not found");
    None
}

/// Several oracles at once; `None` (after printing which are missing) unless all are present.
pub fn oracles<const N: usize>(names: [&str; N]) -> Option<[PathBuf; N]> {
    let found: Vec<Option<PathBuf>> = names.iter().map(|n| oracle(n)).collect();
    if found.iter().any(Option::is_none) {
        return None;
    }
    let v: Vec<PathBuf> = found.into_iter().map(Option::unwrap).collect();
    v.try_into().ok()
}

/// Run a tool; it must succeed. Returns stdout.
pub fn tool(exe: &Path, args: &[&str]) -> String {
    let out = Command::new(exe)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
    assert!(
        out.status.success(),
        "{} {} failed ({:?}):\n{}",
        exe.display(),
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Run a filter tool (llvm-cxxfilt, llvm-undname) over `lines` on stdin; one output line per input line.
pub fn tool_filter(exe: &Path, args: &[&str], lines: &[&str]) -> Vec<String> {
    use std::io::Write;
    let mut child = Command::new(exe)
        .args(args)
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("run {}: {e}", exe.display()));
    let mut input = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum());
    for l in lines {
        input.push_str(l);
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for filter");
    writer.join().unwrap();
    assert!(
        out.status.success(),
        "{} failed: {}",
        exe.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

// ---------------------------------------------------------------------------------------------------------------
// System libraries
// ---------------------------------------------------------------------------------------------------------------

/// Shared libraries of this machine whose file name satisfies `want`, found through `ldconfig -p` (entries for the
/// host architecture) and by listing the usual library directories; canonical paths, deduplicated.
pub fn system_libs(want: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = Vec::new();
    let host_tag = match std::env::consts::ARCH {
        "x86_64" => Some("x86-64"),
        "aarch64" => Some("AArch64"),
        _ => None,
    };
    for ldconfig in ["ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"] {
        let Ok(out) = Command::new(ldconfig).arg("-p").output() else {
            continue;
        };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let Some((lhs, path)) = line.split_once(" => ") else {
                continue;
            };
            let name = lhs.split_whitespace().next().unwrap_or("");
            if !want(name) {
                continue;
            }
            if let Some(tag) = host_tag {
                if !lhs.contains(tag) {
                    continue;
                }
            }
            found.push(PathBuf::from(path.trim()));
        }
        break;
    }
    let triple = format!("{}-linux-gnu", std::env::consts::ARCH);
    let dirs = [
        format!("/usr/lib/{triple}"),
        format!("/lib/{triple}"),
        "/usr/lib64".to_string(),
        "/lib64".to_string(),
        "/usr/lib".to_string(),
    ];
    for d in dirs {
        if let Ok(rd) = std::fs::read_dir(&d) {
            for e in rd.flatten() {
                if want(&e.file_name().to_string_lossy()) {
                    found.push(e.path());
                }
            }
        }
    }
    let mut out: Vec<PathBuf> = found
        .into_iter()
        .filter_map(|p| std::fs::canonicalize(p).ok())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The first system library matching `want`, or `None` after printing why the test is skipped.
pub fn system_lib(what: &str, want: impl Fn(&str) -> bool) -> Option<PathBuf> {
    let libs = system_libs(want);
    match libs.into_iter().next() {
        Some(p) => Some(p),
        None => {
            println!("skipped: {what} not found on this system");
            None
        }
    }
}

/// The largest `libLLVM*.so*` on this system.
pub fn largest_libllvm() -> Option<PathBuf> {
    let libs = system_libs(|n| n.starts_with("libLLVM") && n.contains(".so"));
    let best = libs
        .into_iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0));
    if best.is_none() {
        println!("skipped: no libLLVM*.so* found on this system");
    }
    best
}

pub fn is_libpython(n: &str) -> bool {
    n.starts_with("libpython3") && n.ends_with(".so.1.0")
}

// ---------------------------------------------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------------------------------------------

/// Collects disagreements over a whole test so one run shows all of them; panics in [`Failures::finish`].
#[derive(Default)]
pub struct Failures {
    list: Vec<String>,
    checks: usize,
}

impl Failures {
    pub fn new() -> Self {
        Self::default()
    }

    /// Exact multiset equality of `ours` and `oracle`, with a diff of what only one side has.
    pub fn same<A, B>(&mut self, what: &str, ours: A, oracle: B)
    where
        A: IntoIterator,
        A::Item: Into<String>,
        B: IntoIterator,
        B::Item: Into<String>,
    {
        self.checks += 1;
        if let Some(diff) = diff_multisets(ours, oracle) {
            self.list.push(format!("{what}:\n{diff}"));
        }
    }

    /// Equality of two single values.
    pub fn eq<T: PartialEq + std::fmt::Debug>(&mut self, what: &str, ours: T, oracle: T) {
        self.checks += 1;
        if ours != oracle {
            self.list
                .push(format!("{what}:\n  ours:   {ours:?}\n  oracle: {oracle:?}"));
        }
    }

    /// A failure found by hand.
    pub fn fail(&mut self, msg: String) {
        self.checks += 1;
        self.list.push(msg);
    }

    pub fn checks(&self) -> usize {
        self.checks
    }

    /// Panic with every disagreement if there was any.
    pub fn finish(self, test: &str) {
        println!("{test}: {} comparisons", self.checks);
        if !self.list.is_empty() {
            panic!(
                "{test}: {} of {} comparisons disagree with the oracle\n\n{}",
                self.list.len(),
                self.checks,
                self.list.join("\n\n")
            );
        }
    }
}

/// `None` when the two multisets are equal, else a readable diff (at most 40 lines per side).
pub fn diff_multisets<A, B>(ours: A, oracle: B) -> Option<String>
where
    A: IntoIterator,
    A::Item: Into<String>,
    B: IntoIterator,
    B::Item: Into<String>,
{
    let mut count: BTreeMap<String, i64> = BTreeMap::new();
    let mut n_ours = 0;
    let mut n_oracle = 0;
    for x in ours {
        *count.entry(x.into()).or_default() += 1;
        n_ours += 1;
    }
    for x in oracle {
        *count.entry(x.into()).or_default() -= 1;
        n_oracle += 1;
    }
    let only_ours: Vec<String> = count
        .iter()
        .filter(|(_, &c)| c > 0)
        .map(|(k, &c)| {
            if c > 1 {
                format!("{k} (x{c})")
            } else {
                k.clone()
            }
        })
        .collect();
    let only_oracle: Vec<String> = count
        .iter()
        .filter(|(_, &c)| c < 0)
        .map(|(k, &c)| {
            if c < -1 {
                format!("{k} (x{})", -c)
            } else {
                k.clone()
            }
        })
        .collect();
    if only_ours.is_empty() && only_oracle.is_empty() {
        return None;
    }
    let show = |v: &[String]| -> String {
        let mut s: String = v.iter().take(40).map(|x| format!("    {x}\n")).collect();
        if v.len() > 40 {
            s.push_str(&format!("    … and {} more\n", v.len() - 40));
        }
        s
    };
    Some(format!(
        "  ours has {n_ours}, oracle has {n_oracle}\n  only in ours ({}):\n{}  only in oracle ({}):\n{}",
        only_ours.len(),
        show(&only_ours),
        only_oracle.len(),
        show(&only_oracle)
    ))
}

/// Parse a number printed as decimal or `0x…` hex.
pub fn num(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

/// Parse a hex number with or without `0x`.
pub fn hexnum(s: &str) -> Option<u64> {
    let s = s.trim();
    let h = s
        .strip_prefix("0x")
        .or_else(|| s.strip_prefix("0X"))
        .unwrap_or(s);
    u64::from_str_radix(h, 16).ok()
}

// ---------------------------------------------------------------------------------------------------------------
// Unusable inputs (testdata/bad) and human output
// ---------------------------------------------------------------------------------------------------------------

/// Every file in testdata/bad with what its error message must say (besides naming the file).
pub const BAD_INPUTS: &[(&str, &[&str])] = &[
    ("empty.so", &["empty file"]),
    ("truncated.so", &["program headers", "truncated"]),
    ("notelf.so", &["text file"]),
    (
        "libc_ldscript.so",
        &["GNU ld script", "/lib/x86_64-linux-gnu/libc.so.6"],
    ),
    ("libstatic.a", &["static archive", "2 members"]),
    (
        "libSystem.tbd",
        &["TAPI text stub", "/usr/lib/libSystem.B.dylib"],
    ),
    ("badmagic.dylib", &["load commands"]),
    ("truncated.dll", &["PE"]),
];

/// `testdata/bad/<file>` must make every command exit 2 with a message on stderr naming the file and saying what it
/// is, never a panic; in JSON mode the error document carries the schema and the path.
pub fn check_bad_input(file: &str) {
    let (_, wants) = BAD_INPUTS
        .iter()
        .find(|(n, _)| *n == file)
        .unwrap_or_else(|| panic!("{file} is not listed in BAD_INPUTS"));
    let path = testdata("bad").join(file);
    let p = path.to_str().unwrap();
    for cmd in ["inspect", "exports", "imports"] {
        for json in [false, true] {
            let mut args = vec![cmd, p];
            if json {
                args.extend(["--format", "json"]);
            }
            let out = ffi(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let what = format!("ffi-doctor {}", args.join(" "));
            assert_eq!(out.status.code(), Some(2), "{what}: exit code\n{stderr}");
            for bad in ["panicked", "internal error", "reader bug"] {
                assert!(
                    !stderr.contains(bad),
                    "{what}: stderr has {bad:?}:\n{stderr}"
                );
            }
            assert!(
                stderr.contains(p),
                "{what}: stderr does not name the file:\n{stderr}"
            );
            for w in *wants {
                assert!(
                    stderr.contains(w),
                    "{what}: stderr does not say {w:?}:\n{stderr}"
                );
            }
            if json {
                let doc: Value = serde_json::from_slice(&out.stdout)
                    .unwrap_or_else(|e| panic!("{what}: stdout is not JSON ({e})"));
                assert_eq!(doc["schema"], format!("ffi-doctor/{cmd}/v1"), "{what}");
                let errors = doc["errors"].as_array().expect("errors");
                assert_eq!(errors.len(), 1, "{what}");
                assert_eq!(errors[0]["path"], p, "{what}");
            }
        }
    }
}

/// `ffi-doctor inspect FILE` in human form; must succeed. Returns stdout.
pub fn inspect_human(path: &Path) -> String {
    let out = ffi(&["inspect", path.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "inspect {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Assert that some line of `text` contains every one of `parts`.
pub fn assert_line(text: &str, parts: &[&str]) {
    assert!(
        text.lines().any(|l| parts.iter().all(|p| l.contains(p))),
        "no line contains all of {parts:?} in:\n{text}"
    );
}

/// The `kind toolchain old new` lines of a diff fixture MANIFEST (testdata/diff/*/MANIFEST, written by
/// testdata/src/build-diff.sh).
pub fn diff_manifest(dir: &Path) -> Vec<[String; 4]> {
    std::fs::read_to_string(dir.join("MANIFEST"))
        .expect("MANIFEST (run testdata/src/build-diff.sh)")
        .lines()
        .filter_map(|l| {
            let v: Vec<String> = l.split_whitespace().map(String::from).collect();
            v.try_into().ok()
        })
        .collect()
}
