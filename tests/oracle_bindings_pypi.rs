//! Real Python bindings from PyPI (ctypes modules and cffi ABI-mode code) against the C libraries Debian packages:
//! each binding module is read without a refusal, `check LIB BINDING.py` runs against the installed library (or the
//! one the wheel ships), and every error and warning it reports is printed and compared with the judged list
//! below (each judged true by reading the binding's code). Pinned versions are downloaded with pip into
//! `target/bindings-corpus` once; mandatory with FFI_DOCTOR_REQUIRE_ORACLES=1, skipped with a reason otherwise.
//!
//! Debian packages: libusb-1.0-0 libmagic1 libsodium23 libarchive13 libzbar0 libfuse2 libhidapi-hidraw0
//! libsdl2-2.0-0 libcairo2 (and libc6).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

fn require() -> bool {
    std::env::var(REQUIRE_ORACLES).as_deref() == Ok("1")
}

fn skip(why: &str) {
    if require() {
        panic!("{why}, and {REQUIRE_ORACLES}=1");
    }
    println!("skipped: {why}");
}

fn corpus_dir() -> PathBuf {
    root().join("target/bindings-corpus")
}

/// One binding: the pinned distribution, the module inside it, the library (an installed soname searched in the
/// system library directories, or a path inside the distribution), the minimum number of functions the reader
/// must find, and the judged findings at or above warning (code, a text of the message).
struct Case {
    dist: &'static str,
    module: &'static str,
    lib: Lib,
    min_functions: usize,
    judged: &'static [(&'static str, &'static str)],
}

enum Lib {
    System(&'static str),
    Shipped(&'static str),
}

const CASES: &[Case] = &[
    Case {
        dist: "pyusb==1.2.1",
        module: "usb/backend/libusb1.py",
        lib: Lib::System("libusb-1.0.so.0"),
        min_functions: 38,
        judged: &[],
    },
    Case {
        dist: "libusb1==3.1.0",
        module: "usb1/_libusb1.py",
        lib: Lib::System("libusb-1.0.so.0"),
        min_functions: 67,
        judged: &[],
    },
    Case {
        dist: "python-magic==0.4.27",
        module: "magic/loader.py",
        lib: Lib::System("libmagic.so.1"),
        min_functions: 0,
        judged: &[],
    },
    Case {
        dist: "python-magic==0.4.27",
        module: "magic/compat.py",
        lib: Lib::System("libmagic.so.1"),
        min_functions: 0,
        judged: &[],
    },
    Case {
        dist: "libnacl==2.1.0",
        module: "libnacl/__init__.py",
        lib: Lib::System("libsodium.so.23"),
        min_functions: 123,
        judged: &[],
    },
    Case {
        dist: "pysodium==0.7.18",
        module: "pysodium/__init__.py",
        lib: Lib::System("libsodium.so.23"),
        min_functions: 272,
        // `cdll.LoadLibrary(find_library('sodium') or find_library('libsodium'))`: None loads the main program.
        judged: &[("FFI0712", "find_library(\"sodium\")")],
    },
    Case {
        dist: "pyinotify==0.9.6",
        module: "python3/pyinotify.py",
        lib: Lib::System("libc.so.6"),
        min_functions: 3,
        judged: &[],
    },
    Case {
        dist: "inotify_simple==1.3.5",
        module: "inotify_simple.py",
        lib: Lib::System("libc.so.6"),
        min_functions: 3,
        judged: &[],
    },
    Case {
        dist: "libarchive-c==5.1",
        module: "libarchive/ffi.py",
        lib: Lib::System("libarchive.so.13"),
        min_functions: 0,
        // `os.environ.get('LIBARCHIVE') or find_library('archive')` is loaded without a None check.
        judged: &[("FFI0712", "find_library(\"archive\")")],
    },
    Case {
        dist: "pyzbar==0.1.9",
        module: "pyzbar/wrapper.py",
        lib: Lib::System("libzbar.so.0"),
        min_functions: 0,
        judged: &[],
    },
    Case {
        dist: "fusepy==3.0.1",
        module: "fuse.py",
        lib: Lib::System("libfuse.so.2"),
        min_functions: 3,
        // The macOS branch loads `CDLL(find_library('iconv'), RTLD_GLOBAL)` without a None check.
        judged: &[("FFI0712", "find_library(\"iconv\")")],
    },
    Case {
        dist: "hid==1.0.6",
        module: "hid/__init__.py",
        lib: Lib::System("libhidapi-hidraw.so.0"),
        min_functions: 20,
        judged: &[],
    },
    Case {
        dist: "pysdl2==0.9.16",
        module: "sdl2/video.py",
        lib: Lib::System("libSDL2-2.0.so.0"),
        min_functions: 0,
        judged: &[],
    },
    Case {
        dist: "libclang==18.1.1",
        module: "clang/cindex.py",
        lib: Lib::Shipped("clang/native/libclang.so"),
        min_functions: 0,
        judged: &[],
    },
    Case {
        dist: "soundfile==0.12.1",
        module: "soundfile.py",
        lib: Lib::Shipped("_soundfile_data/libsndfile_x86_64.so"),
        min_functions: 0,
        judged: &[],
    },
    Case {
        dist: "cairocffi==1.7.1",
        module: "cairocffi/__init__.py",
        lib: Lib::System("libcairo.so.2"),
        min_functions: 0,
        judged: &[],
    },
];

/// The unpacked distribution (downloaded and unpacked once), or `None` after saying why.
fn unpacked(dist: &str) -> Option<PathBuf> {
    let dir = corpus_dir();
    let name = dist.replace("==", "-");
    let out = dir.join("unpacked").join(&name);
    if out.join(".done").is_file() {
        return Some(out);
    }
    let dl = dir.join("dl").join(&name);
    std::fs::create_dir_all(&dl).ok()?;
    let got = Command::new("python3")
        .args(["-m", "pip", "download", "--no-deps", "-q", "-d"])
        .arg(&dl)
        .arg(dist)
        .status()
        .is_ok_and(|s| s.success());
    if !got {
        skip(&format!(
            "pip download {dist} failed (network or pip missing)"
        ));
        return None;
    }
    let script = "import sys, os, zipfile, tarfile\n\
                  src, dst = sys.argv[1], sys.argv[2]\n\
                  for f in os.listdir(src):\n\
                  \x20   p = os.path.join(src, f)\n\
                  \x20   if f.endswith('.whl'): zipfile.ZipFile(p).extractall(dst)\n\
                  \x20   elif f.endswith(('.tar.gz', '.tgz')):\n\
                  \x20       t = tarfile.open(p)\n\
                  \x20       try: t.extractall(dst, filter='data')\n\
                  \x20       except TypeError: t.extractall(dst)\n";
    let ok = Command::new("python3")
        .args(["-c", script])
        .arg(&dl)
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip(&format!("unpacking {dist} failed"));
        return None;
    }
    std::fs::write(out.join(".done"), "").ok()?;
    Some(out)
}

/// The file under `root` whose path ends with `tail`.
fn find_under(root: &Path, tail: &str) -> Option<PathBuf> {
    walkdir(root)
        .into_iter()
        .find(|p| p.to_string_lossy().replace('\\', "/").ends_with(tail))
}

fn walkdir(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn real_pypi_bindings_parse_and_every_finding_is_judged() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in CASES {
        let Some(dir) = unpacked(case.dist) else {
            continue;
        };
        let Some(py) = find_under(&dir, case.module) else {
            failures.push(format!(
                "{}: no {} in the distribution",
                case.dist, case.module
            ));
            continue;
        };
        let lib = match case.lib {
            Lib::System(soname) => match system_lib(soname, |n| n == soname) {
                Some(l) => l,
                None => {
                    skip(&format!("{soname} is not installed (for {})", case.dist));
                    continue;
                }
            },
            Lib::Shipped(tail) => match find_under(&dir, tail) {
                Some(l) => l,
                None => {
                    failures.push(format!("{}: no {tail} in the wheel", case.dist));
                    continue;
                }
            },
        };
        let (lib_s, py_s) = (
            lib.to_string_lossy().into_owned(),
            py.to_string_lossy().into_owned(),
        );
        let (code, doc) = ffi_json_code("check", &[&lib_s, &py_s]);
        checked += 1;
        if code == 2 {
            failures.push(format!("{}: refused: {doc:#}", case.dist));
            continue;
        }
        let summary = with_code(&doc, "FFI0700");
        let read = summary
            .first()
            .and_then(|f| f["message"].as_str())
            .and_then(|m| m.split(" libraries, ").nth(1))
            .and_then(|m| m.split(' ').next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        let serious: Vec<(String, String)> = findings(&doc)
            .into_iter()
            .filter(|f| f["severity"] != "info")
            .map(|f| (s(&f["code"]).to_string(), s(&f["message"]).to_string()))
            .collect();
        println!(
            "{} {}: {read} functions read, exit {code}, {} errors/warnings",
            case.dist,
            case.module,
            serious.len()
        );
        for (c, m) in &serious {
            println!("    {c} {m}");
        }
        if read < case.min_functions {
            failures.push(format!(
                "{}: {read} functions read, expected at least {}",
                case.dist, case.min_functions
            ));
        }
        let unjudged: Vec<&(String, String)> = serious
            .iter()
            .filter(|(c, m)| !case.judged.iter().any(|(jc, jm)| c == jc && m.contains(jm)))
            .collect();
        let missing: Vec<&(&str, &str)> = case
            .judged
            .iter()
            .filter(|(jc, jm)| !serious.iter().any(|(c, m)| c == jc && m.contains(jm)))
            .collect();
        if !unjudged.is_empty() || !missing.is_empty() {
            failures.push(format!(
                "{}: findings not judged: {unjudged:?}; judged but not reported: {missing:?}",
                case.dist
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if checked < 10 && require() {
        panic!("only {checked} real bindings were checked");
    }
}
