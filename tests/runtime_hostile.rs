//! `ffi-doctor load` against hostile libraries: shared objects whose constructor attacks the probe itself (forges
//! result records, breaks the result descriptor, escapes or signals its parent, hangs in its own process group,
//! writes into the working directory). Each library is built here, from C, into a temporary directory; without a
//! C compiler the tests are skipped with a printed reason (mandatory with `FFI_DOCTOR_REQUIRE_ORACLES=1`).
//!
//! For every case: the verdict is truthful or an explicit FFI0512 ("the library interfered with the probe"),
//! `ffi-doctor` returns within its own `--timeout` plus a second, no process the probe started is alive once it
//! has returned (every process the library runs appends its pid, as seen from outside any PID namespace, to a
//! marker file; each must be gone — this test kills nothing), the caller's working directory is untouched, no
//! temporary directory is left behind and the peak RSS of `ffi-doctor` stays bounded. Each case runs twice: with
//! the default containment (a PID namespace where the system allows one) and with `FFI_DOCTOR_PROBE_PIDNS=0` (the
//! subreaper fallback).

mod common;

use std::io::Read;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::s;
use serde_json::Value;

/// Every library starts with this: `mark()` appends the calling process's pid (from /proc, so the pid outside
/// any PID namespace) to `$HOSTILE_MARKER`.
const PRELUDE: &str = r#"
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
static void mark(void) {
    char buf[64]; ssize_t n = readlink("/proc/self", buf, sizeof buf - 2);
    const char *m = getenv("HOSTILE_MARKER");
    if (n <= 0 || !m) return;
    buf[n++] = '\n';
    int fd = open(m, O_WRONLY | O_APPEND | O_CREAT, 0600);
    if (fd >= 0) { write(fd, buf, n); close(fd); }
}
static void put(int fd, const char *s) { write(fd, s, strlen(s)); }
int hostile_fn(void) { return 42; }
"#;

const FORGED_LOADED: &str = r#"{"event":"loaded"}\n{"event":"stage","stage":"resolving"}\n{"event":"stage","stage":"exiting"}\n{"event":"done"}\n"#;

struct Case {
    name: &'static str,
    body: &'static str,
    timeout: u64,
}

const CASES: &[Case] = &[
    Case {
        name: "forge_loaded_then_exit",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); put(3, FORGED); exit(0); }"#,
        timeout: 5,
    },
    Case {
        name: "forge_every_fd_then_exit",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); for (int fd = 3; fd <= 20; fd++) put(fd, FORGED); _exit(0); }"#,
        timeout: 5,
    },
    Case {
        name: "forge_load_failed",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark();
            put(3, "{\"event\":\"load_failed\",\"error\":\"forged: cannot open shared object file\"}\n{\"event\":\"done\"}\n"); }"#,
        timeout: 5,
    },
    Case {
        name: "garbage_on_fd3",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); unsigned char g[4096]; for (int i = 0; i < 4096; i++) g[i] = (unsigned char)(i * 37 + 11);
            write(3, g, sizeof g); }"#,
        timeout: 5,
    },
    Case {
        name: "flood_forged_symbols",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark();
            static char rec[] = "{\"event\":\"symbol\",\"name\":\"forged_symbol_with_a_long_name_0000000000\",\"found\":false,\"error\":\"forged\"}\n";
            for (int i = 0; i < 270000; i++) write(3, rec, sizeof rec - 1); }"#,
        timeout: 20,
    },
    Case {
        name: "close_fd3",
        body: r#"__attribute__((constructor)) static void init(void) { mark(); close(3); }"#,
        timeout: 5,
    },
    Case {
        name: "dup2_over_fd3",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); int fd = open("/dev/null", O_WRONLY); dup2(fd, 3); close(fd); }"#,
        timeout: 5,
    },
    Case {
        name: "close_every_fd",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); for (int fd = 3; fd < 4096; fd++) close(fd); }"#,
        timeout: 5,
    },
    Case {
        name: "setsid_escape",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark();
            if (fork() == 0) { setsid(); if (fork() == 0) { mark(); for (;;) sleep(1); } _exit(0); }
            usleep(200000); }"#,
        timeout: 5,
    },
    Case {
        name: "setsid_escape_then_hang",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark();
            if (fork() == 0) { setsid(); if (fork() == 0) { mark(); for (;;) sleep(1); } _exit(0); }
            for (;;) pause(); }"#,
        timeout: 2,
    },
    Case {
        name: "setpgid_and_loop",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); setpgid(0, 0); for (;;) { } }"#,
        timeout: 2,
    },
    Case {
        name: "sigstop_parent",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); kill(getppid(), SIGSTOP); usleep(100000); }"#,
        timeout: 3,
    },
    Case {
        name: "sigkill_parent",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); kill(getppid(), SIGKILL); usleep(100000); }"#,
        timeout: 3,
    },
    Case {
        name: "sigstop_own_group_and_parent_then_loop",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); kill(getppid(), SIGSTOP); kill(-getpgid(getppid()), SIGSTOP); for (;;) { } }"#,
        timeout: 2,
    },
    Case {
        name: "sigkill_parent_group",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); pid_t g = getpgid(getppid()); if (g > 1) kill(-g, SIGKILL); usleep(100000); }"#,
        timeout: 3,
    },
    Case {
        name: "sigkill_own_group",
        body: r#"__attribute__((constructor)) static void init(void) { mark(); kill(0, SIGKILL); }"#,
        timeout: 3,
    },
    Case {
        name: "write_into_cwd",
        body: r#"__attribute__((constructor)) static void init(void) {
            mark(); int fd = open("pwned.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644); put(fd, "owned\n"); close(fd);
            unlink("keep.txt"); mkdir("subdir", 0); }"#,
        timeout: 5,
    },
];

fn compiler() -> Option<PathBuf> {
    ["cc", "clang", "gcc"]
        .iter()
        .find_map(|n| common::find_tool(n))
        .or_else(|| common::oracle("cc"))
}

/// Build every case into `dir`; returns the library paths by case name.
fn build_all(cc: &Path, dir: &Path) -> Vec<(&'static str, PathBuf)> {
    CASES
        .iter()
        .map(|c| {
            let src = dir.join(format!("{}.c", c.name));
            let forged = FORGED_LOADED.replace('"', "\\\"");
            let text = format!(
                "{PRELUDE}\nstatic const char FORGED[] = \"{forged}\";\n{}\n",
                c.body
            );
            std::fs::write(&src, text).unwrap();
            let out = dir.join(format!("libhostile_{}.so", c.name));
            let r = Command::new(cc)
                .args(["-shared", "-fPIC", "-O1", "-w", "-o"])
                .arg(&out)
                .arg(&src)
                .output()
                .expect("run the C compiler");
            assert!(
                r.status.success(),
                "{}: {}",
                c.name,
                String::from_utf8_lossy(&r.stderr)
            );
            (c.name, out)
        })
        .collect()
}

struct Outcome {
    code: i32,
    doc: Value,
    took: Duration,
    max_rss_kib: i64,
}

/// Run `ffi-doctor load --format json LIB --symbol hostile_fn --timeout T` in `cwd` with `tmp` as TMPDIR; waits
/// with wait4 to learn its peak RSS.
fn run_load(
    lib: &Path,
    timeout: u64,
    cwd: &Path,
    tmp: &Path,
    marker: &Path,
    pidns: bool,
) -> Outcome {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"));
    cmd.args(["load", "--format", "json"])
        .arg(lib)
        .args(["--symbol", "hostile_fn", "--timeout", &timeout.to_string()])
        .current_dir(cwd)
        .env("TMPDIR", tmp)
        .env("HOSTILE_MARKER", marker)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if !pidns {
        cmd.env("FFI_DOCTOR_PROBE_PIDNS", "0");
    }
    let start = Instant::now();
    // Reaped below with wait4 (for its rusage), not Child::wait.
    #[allow(clippy::zombie_processes)]
    let mut child = cmd.spawn().expect("run ffi-doctor");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stdout.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = stderr.read_to_end(&mut v);
        v
    });
    let mut status = 0;
    // SAFETY: waiting for our own child with zeroed out-parameters.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let took = start.elapsed();
    assert!(r > 0, "wait4: {}", std::io::Error::last_os_error());
    let out = t_out.join().unwrap();
    let err = String::from_utf8_lossy(&t_err.join().unwrap()).into_owned();
    let es = std::process::ExitStatus::from_raw(status);
    assert!(
        es.signal().is_none(),
        "{}: ffi-doctor itself was killed by signal {:?}; stderr: {err}",
        lib.display(),
        es.signal()
    );
    assert!(!err.contains("panicked"), "{}: {err}", lib.display());
    let doc: Value = serde_json::from_slice(&out).unwrap_or_else(|e| {
        panic!(
            "{}: invalid JSON ({e}): {}\nstderr: {err}",
            lib.display(),
            String::from_utf8_lossy(&out)
        )
    });
    Outcome {
        code: es.code().unwrap_or(-1),
        doc,
        took,
        max_rss_kib: usage.ru_maxrss,
    }
}

fn codes(doc: &Value) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| s(&f["code"]).to_string())
        .collect()
}

fn messages(doc: &Value, code: &str) -> Vec<String> {
    doc["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter(|f| s(&f["code"]) == code)
        .map(|f| s(&f["message"]).to_string())
        .collect()
}

fn interfered_with(doc: &Value, what: &str) -> bool {
    messages(doc, "FFI0512").iter().any(|m| m.contains(what))
}

/// Pids in the marker file that still run something with `lib` mapped (a reused pid does not count).
fn survivors(marker: &Path, lib: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(marker).unwrap_or_default();
    let lib = std::fs::canonicalize(lib).unwrap();
    let lib = lib.to_string_lossy();
    let alive = |pid: &str| -> bool {
        let Ok(p) = pid.trim().parse::<libc::pid_t>() else {
            return false;
        };
        // SAFETY: signal 0 only checks existence; nothing is sent.
        let exists = unsafe { libc::kill(p, 0) } == 0;
        let state = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        let zombie = state
            .rfind(')')
            .is_some_and(|i| state[i + 1..].trim_start().starts_with('Z'));
        exists
            && !zombie
            && std::fs::read_to_string(format!("/proc/{p}/maps"))
                .is_ok_and(|m| m.contains(lib.as_ref()))
    };
    let mut left: Vec<String> = text
        .lines()
        .filter(|p| alive(p))
        .map(String::from)
        .collect();
    // The kernel finishes killing a namespace asynchronously: give it a moment.
    for _ in 0..10 {
        if left.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        left.retain(|p| alive(p));
    }
    left
}

fn listing(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = walkdir(dir);
    v.sort();
    v
}

fn walkdir(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            out.push((format!("{name}/"), Vec::new()));
            out.extend(
                walkdir(&p)
                    .into_iter()
                    .map(|(n, c)| (format!("{name}/{n}"), c)),
            );
        } else {
            out.push((name, std::fs::read(&p).unwrap_or_default()));
        }
    }
    out
}

/// What each case must be reported as (besides the common checks).
fn check_verdict(name: &str, o: &Outcome, pidns: bool) {
    let d = &o.doc;
    let st = s(&d["status"]);
    let c = codes(d);
    let ctx = format!("{name} (pidns {pidns}): {d:#}");
    match name {
        "forge_loaded_then_exit" | "forge_every_fd_then_exit" => {
            assert_eq!(st, "exited", "{ctx}");
            assert!(
                messages(d, "FFI0507")
                    .iter()
                    .any(|m| m.contains("exited the process during load") && m.contains("status 0")),
                "{ctx}"
            );
            assert!(
                interfered_with(d, "wrote into the probe's result channel"),
                "{ctx}"
            );
        }
        "forge_load_failed" => {
            assert_eq!(st, "loaded", "{ctx}");
            assert!(!c.contains(&"FFI0501".to_string()), "{ctx}");
            assert!(d.get("load_error").is_none(), "{ctx}");
            assert!(
                interfered_with(d, "wrote into the probe's result channel"),
                "{ctx}"
            );
        }
        "garbage_on_fd3" => {
            assert_eq!(st, "loaded", "{ctx}");
            assert!(!c.contains(&"FFI0509".to_string()), "{ctx}");
            assert!(
                interfered_with(d, "wrote into the probe's result channel"),
                "{ctx}"
            );
        }
        "flood_forged_symbols" => {
            // Either every forged line was read and rejected, or reading stopped at the limit; never believed.
            assert!(
                interfered_with(d, "wrote into the probe's result channel")
                    || interfered_with(d, "flooded"),
                "{ctx}"
            );
            assert!(!c.contains(&"FFI0502".to_string()), "{ctx}");
            assert!(d["symbols"].as_array().unwrap().len() <= 1, "{ctx}");
            assert!(
                d["symbols"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|x| s(&x["name"]) == "hostile_fn"),
                "{ctx}"
            );
        }
        "close_fd3" => {
            assert_eq!(st, "loaded", "{ctx}");
            assert!(
                interfered_with(d, "closed the probe's result descriptor"),
                "{ctx}"
            );
            assert!(!c.contains(&"FFI0507".to_string()), "{ctx}");
        }
        "dup2_over_fd3" => {
            assert_eq!(st, "loaded", "{ctx}");
            assert!(
                interfered_with(d, "replaced the probe's result descriptor"),
                "{ctx}"
            );
            assert!(!c.contains(&"FFI0507".to_string()), "{ctx}");
        }
        "close_every_fd" => {
            assert_eq!(st, "interfered", "{ctx}");
            assert!(
                interfered_with(d, "closed the probe's result descriptor"),
                "{ctx}"
            );
            assert!(!c.contains(&"FFI0507".to_string()), "{ctx}");
        }
        "setsid_escape" => {
            assert_eq!(st, "loaded", "{ctx}");
            assert!(interfered_with(d, "left 1 process running"), "{ctx}");
        }
        "setsid_escape_then_hang" | "setpgid_and_loop" => {
            assert_eq!(st, "timed_out", "{ctx}");
            assert!(c.contains(&"FFI0506".to_string()), "{ctx}");
        }
        "sigstop_own_group_and_parent_then_loop" => {
            assert!(c.contains(&"FFI0506".to_string()), "{ctx}");
            if pidns {
                // Nothing outside the namespace can be named from inside it.
                assert_eq!(st, "timed_out", "{ctx}");
            } else {
                // Without a namespace the library can stop the supervisor's group: said so, not hidden.
                assert!(st == "timed_out" || st == "interfered", "{ctx}");
                if st == "interfered" {
                    assert!(interfered_with(d, "supervisor"), "{ctx}");
                }
            }
        }
        "sigstop_parent" => {
            assert_eq!(st, "loaded", "{ctx}");
            if !pidns {
                assert!(interfered_with(d, "stopped the probe's parent"), "{ctx}");
            }
        }
        "sigkill_parent" => {
            if st == "interfered" {
                assert!(interfered_with(d, "killed the probe's parent"), "{ctx}");
            } else {
                assert_eq!(st, "loaded", "{ctx}");
            }
        }
        "sigkill_parent_group" => {
            if pidns {
                // The parent's group has no id inside the namespace: nothing to signal.
                assert_eq!(st, "loaded", "{ctx}");
            } else {
                // The supervisor's group can be reached without a namespace: reported, never mistaken.
                assert_eq!(st, "interfered", "{ctx}");
                assert!(interfered_with(d, "supervisor"), "{ctx}");
            }
        }
        "sigkill_own_group" => {
            // The probe's own session: the signal reaches the probe, not the processes observing it.
            assert_eq!(st, "crashed", "{ctx}");
            assert!(
                messages(d, "FFI0505")
                    .iter()
                    .any(|m| m.contains("signal 9 (SIGKILL)")),
                "{ctx}"
            );
        }
        "write_into_cwd" => {
            assert_eq!(st, "loaded", "{ctx}");
        }
        other => panic!("no verdict for {other}"),
    }
    if st == "loaded" {
        assert_eq!(d["symbols"][0]["found"], true, "{ctx}");
    }
    let _ = o.code;
}

fn run_all(pidns: bool) {
    let Some(cc) = compiler() else {
        return;
    };
    let build = tempfile::tempdir().unwrap();
    let libs = build_all(&cc, build.path());
    for (name, lib) in &libs {
        let case = CASES.iter().find(|c| c.name == *name).unwrap();
        let cwd = tempfile::tempdir().unwrap();
        std::fs::write(cwd.path().join("keep.txt"), "the user's file\n").unwrap();
        let before = listing(cwd.path());
        let tmp = tempfile::tempdir().unwrap();
        let marker = build.path().join(format!("{name}.pids"));
        let o = run_load(lib, case.timeout, cwd.path(), tmp.path(), &marker, pidns);
        let limit = Duration::from_secs(case.timeout + 1);
        assert!(
            o.took < limit,
            "{name} (pidns {pidns}): ffi-doctor took {:?} with --timeout {}",
            o.took,
            case.timeout
        );
        let left = survivors(&marker, lib);
        assert!(
            left.is_empty(),
            "{name} (pidns {pidns}): processes of the probe still alive: {left:?}"
        );
        assert!(
            std::fs::read_to_string(&marker).is_ok_and(|m| !m.trim().is_empty()),
            "{name}: the constructor did not run (no marker)"
        );
        assert_eq!(
            listing(cwd.path()),
            before,
            "{name}: the caller's cwd changed"
        );
        let left_tmp: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert!(
            left_tmp.is_empty(),
            "{name}: temporary files left: {left_tmp:?}"
        );
        assert!(
            o.max_rss_kib < 200 * 1024,
            "{name} (pidns {pidns}): peak RSS {} KiB",
            o.max_rss_kib
        );
        check_verdict(name, &o, pidns);
        println!(
            "{name} (pidns {pidns}): {} in {:?}, {:?}, rss {} KiB",
            s(&o.doc["status"]),
            o.took,
            codes(&o.doc),
            o.max_rss_kib
        );
    }
}

#[test]
fn hostile_libraries_default_containment() {
    run_all(true);
}

#[test]
fn hostile_libraries_subreaper_fallback() {
    run_all(false);
}
