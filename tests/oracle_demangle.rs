//! Demangling oracle tests: the `demangled` field of our `exports`/`imports` JSON against `llvm-cxxfilt` (Itanium,
//! Rust legacy, Rust v0) and `llvm-undname` (MSVC; llvm-cxxfilt 14 leaves `?` names alone), on every fixture and on
//! every mangled export and import of big real C++ libraries: libstdc++, the largest libLLVM, libpython3, Qt 5 and
//! Qt 6 Core, five Boost libraries, ICU, the mingw-w64 libstdc++-6.dll, and the MSVC-built C++ runtime and Qt DLLs
//! of a pinned Windows wheel (PyQt5-Qt5 5.15.2 win_amd64, downloaded into target/demangle-corpus), and pyarrow
//! 18.1.0's libarrow (Mach-O) and MSVC-built arrow.dll (scripts/bench-corpus.sh, into target/bench-corpus).
//!
//! One normalisation, applied to the oracle's side and documented here: llvm-cxxfilt demangles Rust legacy names as
//! plain Itanium (`demo::add::h0123456789abcdef`, `$LT$` escapes left in); its output is turned into rustc-demangle's
//! alternate form by the Rust legacy rules (drop the trailing `::h<16 hex>` element, decode the `$…$` / `..`
//! escapes). Everything else must be identical, byte for byte, on every name.
//!
//! The libraries come from Debian packages (libstdc++6, libllvm15, libpython3.11, libqt5core5a, libqt6core6,
//! libboost-{program-options,regex,filesystem,locale,log}1.74.0, libicu72, gcc-mingw-w64) and PyPI; the exact
//! demanglers need LLVM's development files at build time (llvm-14-dev, whose llvm-cxxfilt and llvm-undname are the
//! oracles). A missing library or tool is a printed skip, and a failure with `FFI_DOCTOR_REQUIRE_ORACLES=1`.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;

/// One mangled name as we report it.
#[derive(Debug, Clone)]
struct Named {
    mangling: String,
    c_name: String,
    ours: Option<String>,
}

/// Every mangled export and import of every image of `path`, with our demangling.
fn collect(path: &Path) -> Vec<Named> {
    let p = path.to_str().unwrap();
    let mut out = Vec::new();
    for cmd in ["exports", "imports"] {
        let doc = ffi_json(cmd, &[p]);
        for img in images(&doc) {
            for sym in symbols(img) {
                let mangling = s(&sym["mangling"]);
                if mangling == "c" {
                    continue;
                }
                let Some(c_name) = sym["c_name"].as_str() else {
                    continue;
                };
                out.push(Named {
                    mangling: mangling.to_string(),
                    c_name: c_name.to_string(),
                    ours: sym["demangled"].as_str().map(str::to_string),
                });
            }
        }
    }
    out
}

/// llvm-cxxfilt's Itanium reading of a Rust legacy name → rustc-demangle's alternate form (see the module docs).
fn rust_legacy_from_itanium(s: &str) -> String {
    let mut s = s.to_string();
    if let Some(pos) = s.rfind("::h") {
        let hash = &s[pos + 3..];
        if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            s.truncate(pos);
        }
    }
    // Path elements starting with `_$` have the `_` only to make them identifiers.
    let s = s.replace("::_$", "::$");
    let s = s.strip_prefix("_$").map(|r| format!("${r}")).unwrap_or(s);
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(c) = rest.chars().next() {
        if c == '$' {
            if let Some(end) = rest[1..].find('$') {
                let code = &rest[1..1 + end];
                let rep = match code {
                    "SP" => Some("@".to_string()),
                    "BP" => Some("*".into()),
                    "RF" => Some("&".into()),
                    "LT" => Some("<".into()),
                    "GT" => Some(">".into()),
                    "LP" => Some("(".into()),
                    "RP" => Some(")".into()),
                    "C" => Some(",".into()),
                    _ => code
                        .strip_prefix('u')
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .map(|c| c.to_string()),
                };
                if let Some(rep) = rep {
                    out.push_str(&rep);
                    rest = &rest[end + 2..];
                    continue;
                }
            }
        }
        if rest.starts_with("..") {
            out.push_str("::");
            rest = &rest[2..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// What kind of disagreement a pair is, for the report.
fn category(name: &str, ours: Option<&str>, oracle: &str) -> &'static str {
    match ours {
        None => "we do not demangle a name llvm-cxxfilt demangles",
        Some(_) if oracle == name => "we demangle a name llvm-cxxfilt leaves alone",
        Some(_) => "the demangled names differ",
    }
}

#[derive(Default)]
struct Report {
    compared: usize,
    /// category → (name, ours, oracle)
    diffs: BTreeMap<&'static str, Vec<(String, String, String)>>,
}

impl Report {
    fn total(&self) -> usize {
        self.diffs.values().map(Vec::len).sum()
    }

    fn text(&self, what: &str, max_per_category: usize) -> String {
        let mut s = format!(
            "{what}: {} mangled names compared, {} disagree\n",
            self.compared,
            self.total()
        );
        for (cat, pairs) in &self.diffs {
            s.push_str(&format!("  [{}] {cat}\n", pairs.len()));
            for (n, ours, oracle) in pairs.iter().take(max_per_category) {
                s.push_str(&format!(
                    "      {n}\n        ours:   {ours}\n        oracle: {oracle}\n"
                ));
            }
            if pairs.len() > max_per_category {
                s.push_str(&format!(
                    "      … and {} more\n",
                    pairs.len() - max_per_category
                ));
            }
        }
        s
    }
}

/// Compare every mangled name of `names` with the oracles. Swift names: we have no Swift demangler and must say so
/// (no `demangled`); they are not compared.
fn compare(names: &[Named], cxxfilt: &Path, undname: Option<&Path>) -> Report {
    let mut r = Report::default();
    let mut by_name: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::new();
    for n in names {
        by_name.insert(&n.c_name, (&n.mangling, n.ours.as_deref()));
    }
    let itanium_like: Vec<&str> = by_name
        .iter()
        .filter(|(_, (m, _))| matches!(*m, "itanium" | "rust-legacy" | "rust-v0"))
        .map(|(n, _)| *n)
        .collect();
    let out = tool_filter(cxxfilt, &["-n"], &itanium_like);
    assert_eq!(out.len(), itanium_like.len(), "llvm-cxxfilt output lines");
    for (name, oracle) in itanium_like.iter().zip(&out) {
        let (mangling, ours) = by_name[name];
        r.compared += 1;
        let (ours_cmp, oracle_cmp) = match mangling {
            "rust-legacy" => (ours.map(str::to_string), rust_legacy_from_itanium(oracle)),
            _ => (ours.map(str::to_string), oracle.clone()),
        };
        let agree = match &ours_cmp {
            Some(o) => *o == oracle_cmp,
            // Neither side demangles it.
            None => oracle == name,
        };
        if !agree {
            let cat = category(name, ours_cmp.as_deref(), &oracle_cmp);
            r.diffs.entry(cat).or_default().push((
                name.to_string(),
                ours.unwrap_or("(not demangled)").to_string(),
                oracle.clone(),
            ));
        }
    }
    let msvc: Vec<&str> = by_name
        .iter()
        .filter(|(_, (m, _))| *m == "msvc")
        .map(|(n, _)| *n)
        .collect();
    if !msvc.is_empty() {
        match undname {
            None => println!(
                "{} MSVC names not compared: llvm-undname not found",
                msvc.len()
            ),
            Some(undname) => {
                // llvm-undname echoes each name, prints the demangling on the next line, then a blank line.
                let lines = tool_filter(undname, &[], &msvc);
                let mut it = lines.iter();
                for name in &msvc {
                    let oracle = loop {
                        match it.next() {
                            Some(l) if l == name => break it.next().cloned().unwrap_or_default(),
                            Some(_) => continue,
                            None => break String::from("(no output)"),
                        }
                    };
                    let (_, ours) = by_name[name];
                    r.compared += 1;
                    if ours != Some(oracle.as_str()) {
                        let cat = if ours.is_none() {
                            "we do not demangle a name llvm-undname demangles"
                        } else {
                            "MSVC: differs from llvm-undname"
                        };
                        r.diffs.entry(cat).or_default().push((
                            name.to_string(),
                            ours.unwrap_or("(not demangled)").to_string(),
                            oracle,
                        ));
                    }
                }
            }
        }
    }
    for n in names.iter().filter(|n| n.mangling == "swift") {
        assert!(
            n.ours.is_none(),
            "{}: a Swift name got a demangling although we have no Swift demangler",
            n.c_name
        );
    }
    r
}

fn tools() -> Option<(PathBuf, Option<PathBuf>)> {
    // Exact agreement is the promise of the build that compiles LLVM's own demangler (see build.rs); the
    // cpp_demangle stand-in of a build without LLVM's headers is known to differ.
    use ffi_doctor::binary::names::demangle::{ENGINE, MSVC_ENGINE};
    let engine = [ENGINE, MSVC_ENGINE].into_iter().find(|e| *e != "llvm");
    if let Some(engine) = engine {
        assert!(
            !require(),
            "built with the {engine} stand-in: LLVM's demangler headers or library were not found \
             (FFI_DOCTOR_REQUIRE_ORACLES=1)"
        );
        println!(
            "skipped: built with the {engine} stand-in, not LLVM's demangler (install llvm-14-dev)"
        );
        return None;
    }
    let cxxfilt = oracle("llvm-cxxfilt")?;
    // llvm-undname is only needed for MSVC names (the msvc64 fixtures).
    let undname = oracle("llvm-undname");
    Some((cxxfilt, undname))
}

#[test]
fn fixture_demangling_agrees_with_llvm_cxxfilt_and_undname() {
    let Some((cxxfilt, undname)) = tools() else {
        return;
    };
    let mut names = Vec::new();
    for dir in ["elf", "macho", "pe"] {
        for p in fixtures(dir) {
            names.extend(collect(&p));
        }
    }
    // The fixtures cover every scheme we demangle.
    for m in ["itanium", "rust-legacy", "rust-v0", "msvc", "swift"] {
        assert!(
            names.iter().any(|n| n.mangling == m),
            "no {m} name among the fixtures"
        );
    }
    let r = compare(&names, &cxxfilt, undname.as_deref());
    println!("{}", r.text("fixtures", usize::MAX));
    assert!(r.compared > 40, "only {} names compared", r.compared);
    assert_eq!(r.total(), 0, "{}", r.text("fixtures", usize::MAX));
}

fn require() -> bool {
    std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").as_deref() == Ok("1")
}

/// A library the test wants but this machine lacks: a printed skip, or a failure when oracles are required.
fn missing(what: &str) {
    assert!(
        !require(),
        "{what} not found (FFI_DOCTOR_REQUIRE_ORACLES=1; see the module docs for the packages)"
    );
    println!("skipped: {what} not found on this system");
}

/// The first system library whose file name satisfies `want`.
fn lib(what: &str, libs: &mut Vec<PathBuf>, want: impl Fn(&str) -> bool) {
    match system_libs(want).into_iter().next() {
        Some(p) => libs.push(p),
        None => missing(what),
    }
}

/// The pinned Windows wheel whose MSVC-built DLLs (the C++ runtime and Qt) are compared with llvm-undname.
const MSVC_WHEEL: &str = "PyQt5_Qt5-5.15.2-py3-none-win_amd64.whl";
const MSVC_DLLS: [&str; 5] = [
    "PyQt5/Qt5/bin/msvcp140.dll",
    "PyQt5/Qt5/bin/concrt140.dll",
    "PyQt5/Qt5/bin/Qt5Core.dll",
    "PyQt5/Qt5/bin/Qt5Gui.dll",
    "PyQt5/Qt5/bin/Qt5Widgets.dll",
];

/// The MSVC DLLs, extracted from the cached wheel (downloaded with pip when oracles are required).
fn msvc_dlls() -> Vec<PathBuf> {
    let dir = root().join("target/demangle-corpus");
    let wheel = dir.join(MSVC_WHEEL);
    if !wheel.is_file() && require() {
        let _ = std::fs::create_dir_all(&dir);
        let ok = std::process::Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--platform",
                "win_amd64",
                "--python-version",
                "3.12",
                "pyqt5-qt5==5.15.2",
                "-d",
            ])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "pip download pyqt5-qt5==5.15.2 failed");
    }
    if !wheel.is_file() {
        missing(&format!(
            "{} (python3 -m pip download --no-deps --only-binary=:all: --platform win_amd64 --python-version 3.12 \
             pyqt5-qt5==5.15.2 -d target/demangle-corpus)",
            wheel.display()
        ));
        return Vec::new();
    }
    let file = std::fs::File::open(&wheel).expect("open wheel");
    let mut zip = zip::ZipArchive::new(file).expect("read wheel");
    let out = dir.join("msvc");
    std::fs::create_dir_all(&out).expect("create extraction dir");
    let mut dlls = Vec::new();
    for member in MSVC_DLLS {
        let path = out.join(member.rsplit('/').next().unwrap());
        if !path.is_file() {
            let mut entry = zip.by_name(member).expect("DLL in the wheel");
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).expect("inflate DLL");
            std::fs::write(&path, bytes).expect("write DLL");
        }
        dlls.push(path);
    }
    dlls
}

fn system_targets() -> Vec<PathBuf> {
    let mut libs = Vec::new();
    lib("libstdc++.so.6", &mut libs, |n| n == "libstdc++.so.6");
    lib("libpython3*.so.1.0", &mut libs, is_libpython);
    match largest_libllvm() {
        Some(p) => libs.push(p),
        None => missing("libLLVM*.so*"),
    }
    lib("libQt5Core.so.5", &mut libs, |n| n == "libQt5Core.so.5");
    lib("libQt6Core.so.6", &mut libs, |n| n == "libQt6Core.so.6");
    for b in ["program_options", "regex", "filesystem", "locale", "log"] {
        let name = format!("libboost_{b}.so.");
        lib(&format!("{name}*"), &mut libs, |n| {
            n.starts_with(&name)
                && n[name.len()..]
                    .bytes()
                    .all(|c| c.is_ascii_digit() || c == b'.')
        });
    }
    lib("libicuuc.so.*", &mut libs, |n| {
        n.starts_with("libicuuc.so.") && n.matches('.').count() == 2
    });
    lib("libicui18n.so.*", &mut libs, |n| {
        n.starts_with("libicui18n.so.") && n.matches('.').count() == 2
    });
    let mingw: Vec<PathBuf> = std::fs::read_dir("/usr/lib/gcc/x86_64-w64-mingw32")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("libstdc++-6.dll"))
        .filter(|p| p.is_file())
        .collect();
    match mingw.into_iter().min() {
        Some(p) => libs.push(p),
        None => missing("mingw-w64 libstdc++-6.dll"),
    }
    libs.extend(msvc_dlls());
    libs.extend(pyarrow_libs());
    libs
}

/// pyarrow 18.1.0's libarrow (Mach-O, 20 k Itanium C++ exports) and arrow.dll (MSVC-built, 8.5 k MSVC C++ exports),
/// from the wheels `scripts/bench-corpus.sh` pins by sha256 (fetched when oracles are required).
fn pyarrow_libs() -> Vec<PathBuf> {
    let dir = root().join("target/bench-corpus");
    let want = ["libarrow.1801.dylib", "arrow.dll"];
    let have = |n: &&str| dir.join(n).is_file();
    if !want.iter().all(have) && require() {
        let ok = std::process::Command::new("bash")
            .arg(root().join("scripts/bench-corpus.sh"))
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "scripts/bench-corpus.sh failed");
    }
    let mut out = Vec::new();
    for n in want {
        if have(&n) {
            out.push(dir.join(n));
        } else {
            missing(&format!("{n} (scripts/bench-corpus.sh)"));
        }
    }
    out
}

/// Every mangled export and import of every library agrees with llvm-cxxfilt / llvm-undname. Each disagreement is
/// printed (counts per category and samples) and all are written to the target tmp dir.
#[test]
fn system_library_demangling_agrees_with_llvm_cxxfilt_and_undname() {
    let Some((cxxfilt, undname)) = tools() else {
        return;
    };
    let undname = match undname {
        Some(u) => Some(u),
        None => oracle("llvm-undname"),
    };
    let mut bad = Vec::new();
    let mut total = 0;
    for lib in system_targets() {
        let names = collect(&lib);
        let r = compare(&names, &cxxfilt, undname.as_deref());
        let label = lib.display().to_string();
        let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "demangle-disagreements-{}.txt",
            lib.file_name().unwrap().to_string_lossy()
        ));
        let _ = std::fs::write(&file, r.text(&label, usize::MAX));
        println!("{}", r.text(&label, 5));
        total += r.compared;
        if r.total() > 0 {
            println!("  all {} pairs: {}", r.total(), file.display());
            bad.push(r.text(&label, 3));
        }
    }
    println!("{total} mangled names compared in all");
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn normalisations_do_what_the_docs_say() {
    assert_eq!(
        rust_legacy_from_itanium("demo_rust::add::h0123456789abcdef"),
        "demo_rust::add"
    );
    assert_eq!(
        rust_legacy_from_itanium(
            "_$LT$rust_legacy..inner..Thing$u20$as$u20$core..fmt..Display$GT$::fmt::h0123456789abcdef"
        ),
        "<rust_legacy::inner::Thing as core::fmt::Display>::fmt"
    );
}
