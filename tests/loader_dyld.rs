//! dyld search-order tests for `ffi-doctor deps` on the arm64 Mach-O fixtures in `testdata/loader/dyld/`
//! (built by `testdata/build.sh`, described in `testdata/README.md`).
//!
//! There is no dyld on Linux, so no oracle runs the fixtures. Instead every expected tree below (resolved path per
//! edge, the rule that found it, and the candidates tried in order with their outcomes) is written down by hand
//! from dyld's documented rules, each assertion citing the rule:
//!
//! * `man dyld`, DYLD_LIBRARY_PATH: "dyld searches each of these directories (using the leaf name of the install
//!   name) *before* it searches the path in the load command" — dyld4 `PathOverrides::forEachPathVariant`,
//!   which then tries the original path (with `@…` expanded) and then the fallbacks.
//! * `man dyld`, @rpath: "dyld searches the LC_RPATH list of the image that loaded it, then of the image that
//!   loaded that, … up to the main executable" — dyld4 `Loader::forEachResolvedAtPathVar` walks `rpathStack`
//!   from the loading image back to the executable; `@loader_path` inside an LC_RPATH is the directory of the
//!   image that *contains* the LC_RPATH.
//! * `man dyld`, @loader_path: the directory of the image with the load command; @executable_path: the directory of
//!   the main executable (both expanded textually, `..` is not normalised).
//! * `man dyld`, DYLD_FALLBACK_LIBRARY_PATH: leaf name in each directory, default `/usr/local/lib:/usr/lib`
//!   (dyld4 `forEachDylibFallback`, macOS "classic" mode); setting the variable replaces the default; a fallback
//!   candidate equal to the install name is not tried twice.
//! * LC_LOAD_WEAK_DYLIB: "a weak dylib that cannot be found is skipped" (`canBeMissing`), its symbols bind to NULL.
//! * A candidate without a slice for the process's architecture fails with "incompatible architecture" and dyld
//!   goes on to the next candidate (`tried: '…' (mach-o file, but is an incompatible architecture …)`).
//!
//! All runs use `--sysroot testdata/loader/dyld`, so target paths read `/<scenario>/…` and the default fallback
//! directories (`/usr/local/lib`, `/usr/lib` inside the sysroot) are empty and deterministic.
//!
//! The fixtures' load commands are cross-checked with `llvm-otool -l` (skipped with `skipped: llvm-otool not
//! found`, mandatory with `FFI_DOCTOR_REQUIRE_ORACLES=1`).

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{assert_edge, att, codes, edge, edge_names, ffi_command, nodes, run_json, with_code};
use serde_json::Value;

const OTOOL: &str = "/usr/lib/llvm-14/bin/llvm-otool";
const OBJDUMP: &str = "/usr/lib/llvm-14/bin/llvm-objdump";
const NM: &str = "/usr/lib/llvm-14/bin/llvm-nm";

/// The rule text of a library found in the dyld shared cache (absent on disk since macOS 11).
const SHARED_CACHE: &str =
    "install name: dyld shared cache (absent on disk since macOS 11, taken as present)";
const FALLBACK: &str = "DYLD_FALLBACK_LIBRARY_PATH";

fn sysroot() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/loader/dyld")
}

fn fixture(rel: &str) -> PathBuf {
    sysroot().join(rel)
}

fn require_oracles() -> bool {
    std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").is_ok_and(|v| v == "1")
}

/// `true` when `tool` exists; otherwise prints the skip line (or panics when oracles are required).
fn have(tool: &str) -> bool {
    let found = Path::new(tool).is_file();
    if !found {
        let name = Path::new(tool).file_name().unwrap().to_string_lossy();
        if require_oracles() {
            panic!("{name} not found and FFI_DOCTOR_REQUIRE_ORACLES=1");
        }
        println!("skipped: {name} not found");
    }
    found
}

fn tool_output(tool: &str, args: &[&str], file: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} {} failed: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The dylib-related load commands of `rel` per `llvm-otool -l` (one architecture): `"LC_ID_DYLIB …"`,
/// `"LC_LOAD_DYLIB …"`, `"LC_LOAD_WEAK_DYLIB …"` in file order, then the `"LC_RPATH …"` entries in file order
/// (ld64.lld writes the LC_RPATHs first; only their order among themselves matters to dyld).
/// `None` (after printing the skip line) when llvm-otool is missing.
fn load_commands(rel: &str, arch: Option<&str>) -> Option<Vec<String>> {
    if !have(OTOOL) {
        return None;
    }
    let mut args = Vec::new();
    if let Some(a) = arch {
        args.extend(["-arch", a]);
    }
    args.push("-l");
    let text = tool_output(OTOOL, &args, &fixture(rel));
    let mut out = Vec::new();
    let mut cmd: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if let Some(c) = line.strip_prefix("cmd ") {
            cmd = Some(c.trim().to_string());
            continue;
        }
        let Some(c) = &cmd else { continue };
        let interesting = c == "LC_RPATH" || c.contains("DYLIB") && c != "LC_ID_DYLINKER";
        let value = line
            .strip_prefix("name ")
            .or_else(|| line.strip_prefix("path "));
        if let (true, Some(v)) = (interesting, value) {
            let v = v.rsplit_once(" (offset").map_or(v, |(p, _)| p).trim();
            out.push(format!("{c} {v}"));
            cmd = None;
        }
    }
    let (rpaths, mut dylibs): (Vec<String>, Vec<String>) =
        out.into_iter().partition(|c| c.starts_with("LC_RPATH "));
    dylibs.extend(rpaths);
    Some(dylibs)
}

/// The Mach-O header of `rel` (one architecture) per `llvm-otool -h`: (cputype, filetype).
fn header(rel: &str, arch: Option<&str>) -> Option<(u64, u64)> {
    if !have(OTOOL) {
        return None;
    }
    let mut args = Vec::new();
    if let Some(a) = arch {
        args.extend(["-arch", a]);
    }
    args.push("-h");
    let text = tool_output(OTOOL, &args, &fixture(rel));
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("0xfeedfacf"))
        .unwrap_or_else(|| panic!("no 64-bit Mach-O header in llvm-otool -h {rel}:\n{text}"));
    let f: Vec<&str> = line.split_whitespace().collect();
    Some((f[1].parse().unwrap(), f[4].parse().unwrap()))
}

const CPU_TYPE_X86_64: u64 = 0x0100_0007;
const CPU_TYPE_ARM64: u64 = 0x0100_000c;
const MH_EXECUTE: u64 = 2;
const MH_DYLIB: u64 = 6;

/// Run `ffi-doctor deps FILE --format json --sysroot testdata/loader/dyld ARGS…`: (document, exit code).
fn deps(rel: &str, args: &[&str]) -> (Value, i32) {
    let mut command = ffi_command();
    command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DYLD_LIBRARY_PATH")
        .env_remove("DYLD_FALLBACK_LIBRARY_PATH");
    let mut all: Vec<OsString> = vec![fixture(rel).into(), "--sysroot".into(), sysroot().into()];
    all.extend(args.iter().map(OsString::from));
    let r = run_json(command, "deps", all);
    assert_eq!(r.doc["loader"], "dyld");
    (r.doc, r.code)
}

// ---------------------------------------------------------------------------------------------------------------
// chain: bin/app (LC_RPATH @executable_path/../lib) -> @rpath/libA -> @rpath/libB -> @rpath/libC
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn chain_fixture_load_commands() {
    let Some(app) = load_commands("chain/bin/app", None) else {
        return;
    };
    assert_eq!(
        app,
        [
            "LC_LOAD_DYLIB /usr/lib/libSystem.B.dylib",
            "LC_LOAD_DYLIB @rpath/libA.dylib",
            "LC_RPATH @executable_path/../lib",
        ]
    );
    assert_eq!(
        header("chain/bin/app", None),
        Some((CPU_TYPE_ARM64, MH_EXECUTE))
    );
    // No LC_RPATH in any of the libraries: every @rpath below must come from the executable.
    assert_eq!(
        load_commands("chain/lib/libA.dylib", None).unwrap(),
        [
            "LC_ID_DYLIB @rpath/libA.dylib",
            "LC_LOAD_DYLIB @rpath/libB.dylib"
        ]
    );
    assert_eq!(
        load_commands("chain/lib/libB.dylib", None).unwrap(),
        [
            "LC_ID_DYLIB @rpath/libB.dylib",
            "LC_LOAD_DYLIB @rpath/libC.dylib"
        ]
    );
    assert_eq!(
        load_commands("chain/lib/libC.dylib", None).unwrap(),
        ["LC_ID_DYLIB @rpath/libC.dylib"]
    );
    assert_eq!(
        header("chain/lib/libC.dylib", None),
        Some((CPU_TYPE_ARM64, MH_DYLIB))
    );
}

#[test]
fn chain_every_level_uses_the_executables_lc_rpath() {
    let (doc, code) = deps("chain/bin/app", &[]);
    // The root is an MH_EXECUTE: @executable_path is its own directory, /chain/bin.
    let rule = "@rpath → LC_RPATH of /chain/bin/app (from @executable_path)";
    assert_eq!(
        edge_names(&doc, "/chain/bin/app"),
        ["/usr/lib/libSystem.B.dylib", "@rpath/libA.dylib"]
    );
    // Since macOS 11 libSystem lives only in the dyld shared cache; its install name is an absolute path that
    // dyld finds there (DESIGN.md: taken as present).
    assert_edge(
        &doc,
        "/chain/bin/app",
        "/usr/lib/libSystem.B.dylib",
        Some("/usr/lib/libSystem.B.dylib"),
        Some("install name"),
        &[att("/usr/lib/libSystem.B.dylib", SHARED_CACHE, "found")],
    );
    // man dyld: @rpath/libA.dylib in the executable -> the executable's own LC_RPATH, @executable_path/../lib
    // expanded to /chain/bin/../lib (dyld concatenates; no `..` normalisation).
    assert_edge(
        &doc,
        "/chain/bin/app",
        "@rpath/libA.dylib",
        Some("/chain/bin/../lib/libA.dylib"),
        Some(rule),
        &[att("/chain/bin/../lib/libA.dylib", rule, "found")],
    );
    // man dyld: libA has no LC_RPATH, so @rpath/libB.dylib goes up the chain to the image that loaded libA,
    // the main executable, and uses its LC_RPATH (libA's own list is empty: no attempt for it).
    assert_edge(
        &doc,
        "/chain/bin/../lib/libA.dylib",
        "@rpath/libB.dylib",
        Some("/chain/bin/../lib/libB.dylib"),
        Some(rule),
        &[att("/chain/bin/../lib/libB.dylib", rule, "found")],
    );
    // Two levels down: libB (no LC_RPATH) -> libA (none) -> the executable's LC_RPATH.
    assert_edge(
        &doc,
        "/chain/bin/../lib/libB.dylib",
        "@rpath/libC.dylib",
        Some("/chain/bin/../lib/libC.dylib"),
        Some(rule),
        &[att("/chain/bin/../lib/libC.dylib", rule, "found")],
    );
    assert_eq!(nodes(&doc).len(), 5, "app, libSystem, libA, libB, libC");
    assert!(codes(&doc).is_empty(), "{:?}", doc["findings"]);
    assert_eq!(code, 0);
}

#[test]
fn chain_dylib_alone_cannot_expand_rpath() {
    // libA loaded on its own (no executable known): its rpath stack is just libA, which has no LC_RPATH, so
    // @rpath/libB.dylib has no candidate; only the default fallback dirs (leaf name) are tried.
    let (doc, code) = deps("chain/lib/libA.dylib", &[]);
    assert_edge(
        &doc,
        "/chain/lib/libA.dylib",
        "@rpath/libB.dylib",
        None,
        None,
        &[
            att("/usr/local/lib/libB.dylib", FALLBACK, "absent"),
            att("/usr/lib/libB.dylib", FALLBACK, "absent"),
        ],
    );
    assert_eq!(codes(&doc), ["FFI0301"]);
    assert_eq!(code, 1, "a missing non-weak dylib fails the load");
}

#[test]
fn chain_dylib_with_executable_inherits_its_rpath() {
    // The same libA loaded by bin/app (--executable): the rpath stack is libA -> app, so the executable's
    // LC_RPATH applies to libA's and (transitively) libB's @rpath loads. Relative paths for the file, the
    // sysroot and the executable must all give the same target paths.
    let rule = "@rpath → LC_RPATH of /chain/bin/app (from @executable_path)";
    for exe in [
        fixture("chain/bin/app").display().to_string(),
        "testdata/loader/dyld/chain/bin/app".to_string(),
    ] {
        let (doc, code) = deps("chain/lib/libA.dylib", &["--executable", &exe]);
        assert_edge(
            &doc,
            "/chain/lib/libA.dylib",
            "@rpath/libB.dylib",
            Some("/chain/bin/../lib/libB.dylib"),
            Some(rule),
            &[att("/chain/bin/../lib/libB.dylib", rule, "found")],
        );
        assert_edge(
            &doc,
            "/chain/bin/../lib/libB.dylib",
            "@rpath/libC.dylib",
            Some("/chain/bin/../lib/libC.dylib"),
            Some(rule),
            &[att("/chain/bin/../lib/libC.dylib", rule, "found")],
        );
        assert_eq!(code, 0, "{exe}: {:?}", doc["findings"]);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// @loader_path and @executable_path
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn loader_path_is_the_loading_images_directory() {
    if let Some(lc) = load_commands("loaderpath/bin/libtool.dylib", None) {
        assert_eq!(
            lc,
            [
                "LC_ID_DYLIB @rpath/libtool.dylib",
                "LC_LOAD_DYLIB @loader_path/../lib/libX.dylib",
            ]
        );
    }
    let (doc, code) = deps("loaderpath/bin/libtool.dylib", &[]);
    // man dyld: @loader_path is the directory of the image containing the load command (bin/).
    assert_edge(
        &doc,
        "/loaderpath/bin/libtool.dylib",
        "@loader_path/../lib/libX.dylib",
        Some("/loaderpath/bin/../lib/libX.dylib"),
        Some("@loader_path"),
        &[att(
            "/loaderpath/bin/../lib/libX.dylib",
            "@loader_path",
            "found",
        )],
    );
    assert_eq!(code, 0);
}

#[test]
fn executable_path_is_the_main_programs_directory() {
    if let Some(lc) = load_commands("exepath/plugins/libplug.dylib", None) {
        assert_eq!(
            lc,
            [
                "LC_ID_DYLIB @rpath/libplug.dylib",
                "LC_LOAD_DYLIB @executable_path/libE.dylib",
            ]
        );
        assert_eq!(
            header("exepath/bin/host", None),
            Some((CPU_TYPE_ARM64, MH_EXECUTE))
        );
    }
    let host = fixture("exepath/bin/host").display().to_string();
    let (doc, code) = deps("exepath/plugins/libplug.dylib", &["--executable", &host]);
    // man dyld: @executable_path is the main executable's directory (bin/), not the plugin's (plugins/).
    assert_edge(
        &doc,
        "/exepath/plugins/libplug.dylib",
        "@executable_path/libE.dylib",
        Some("/exepath/bin/libE.dylib"),
        Some("@executable_path"),
        &[att("/exepath/bin/libE.dylib", "@executable_path", "found")],
    );
    assert_eq!(code, 0);

    // Without an executable the path cannot be expanded; dyld would still try the fallback dirs (leaf name).
    let (doc, code) = deps("exepath/plugins/libplug.dylib", &[]);
    assert_edge(
        &doc,
        "/exepath/plugins/libplug.dylib",
        "@executable_path/libE.dylib",
        None,
        None,
        &[
            att(
                "@executable_path/libE.dylib",
                "@executable_path",
                "unreadable: @executable_path is unknown: pass --executable",
            ),
            att("/usr/local/lib/libE.dylib", FALLBACK, "absent"),
            att("/usr/lib/libE.dylib", FALLBACK, "absent"),
        ],
    );
    assert_eq!(code, 1);
}

// ---------------------------------------------------------------------------------------------------------------
// weak, missing, fallback
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn weak_missing_dylib_is_skipped() {
    if let Some(lc) = load_commands("weak/libweakuser.dylib", None) {
        assert_eq!(
            lc,
            [
                "LC_ID_DYLIB @rpath/libweakuser.dylib",
                "LC_LOAD_WEAK_DYLIB @rpath/libopt.dylib",
                "LC_RPATH @loader_path",
            ]
        );
    }
    let (doc, code) = deps("weak/libweakuser.dylib", &[]);
    // The full search still happens (own LC_RPATH @loader_path, then the default fallbacks) ...
    let rule = "@rpath → LC_RPATH of /weak/libweakuser.dylib (from @loader_path)";
    // ... and then LC_LOAD_WEAK_DYLIB lets dyld skip it (canBeMissing): not an error.
    assert_edge(
        &doc,
        "/weak/libweakuser.dylib",
        "@rpath/libopt.dylib",
        None,
        Some("absent (weak dylib: skipped by dyld)"),
        &[
            att("/weak/libopt.dylib", rule, "absent"),
            att("/usr/local/lib/libopt.dylib", FALLBACK, "absent"),
            att("/usr/lib/libopt.dylib", FALLBACK, "absent"),
        ],
    );
    assert_eq!(codes(&doc), ["FFI0309"]);
    let f = with_code(&doc, "FFI0309")[0];
    assert_eq!(f["severity"], "info");
    assert_eq!(f["location"], "/weak/libweakuser.dylib");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("@rpath/libopt.dylib"),
        "{f:#}"
    );
    assert_eq!(code, 0, "only a weak dylib is missing");
}

#[test]
fn missing_dylib_lists_every_searched_path_in_order() {
    if let Some(lc) = load_commands("missing/libneedy.dylib", None) {
        assert_eq!(
            lc,
            [
                "LC_ID_DYLIB @rpath/libneedy.dylib",
                "LC_LOAD_DYLIB @rpath/libgone.dylib",
                "LC_LOAD_DYLIB @rpath/libthere.dylib",
                "LC_LOAD_DYLIB /missing/abs/libabs.dylib",
                "LC_RPATH @loader_path",
                "LC_RPATH /opt/nowhere/lib",
            ]
        );
    }
    let (doc, code) = deps("missing/libneedy.dylib", &[]);
    let own = "@rpath → LC_RPATH of /missing/libneedy.dylib (from @loader_path)";
    let abs = "@rpath → LC_RPATH of /missing/libneedy.dylib";
    // man dyld: each LC_RPATH in order (@loader_path, then the absolute /opt/nowhere/lib), then
    // DYLD_FALLBACK_LIBRARY_PATH's default /usr/local/lib:/usr/lib with the leaf name.
    let gone = [
        att("/missing/libgone.dylib", own, "absent"),
        att("/opt/nowhere/lib/libgone.dylib", abs, "absent"),
        att("/usr/local/lib/libgone.dylib", FALLBACK, "absent"),
        att("/usr/lib/libgone.dylib", FALLBACK, "absent"),
    ];
    assert_edge(
        &doc,
        "/missing/libneedy.dylib",
        "@rpath/libgone.dylib",
        None,
        None,
        &gone,
    );
    // The first LC_RPATH finds the shipped sibling.
    assert_edge(
        &doc,
        "/missing/libneedy.dylib",
        "@rpath/libthere.dylib",
        Some("/missing/libthere.dylib"),
        Some(own),
        &[att("/missing/libthere.dylib", own, "found")],
    );
    // An absolute install name: the path itself, then the fallbacks (leaf name).
    let absent_abs = [
        att("/missing/abs/libabs.dylib", "install name", "absent"),
        att("/usr/local/lib/libabs.dylib", FALLBACK, "absent"),
        att("/usr/lib/libabs.dylib", FALLBACK, "absent"),
    ];
    assert_edge(
        &doc,
        "/missing/libneedy.dylib",
        "/missing/abs/libabs.dylib",
        None,
        None,
        &absent_abs,
    );

    // FFI0301 per missing dylib; its text lists every candidate in the order tried.
    let f301 = with_code(&doc, "FFI0301");
    assert_eq!(f301.len(), 2, "{:#}", doc["findings"]);
    for (f, name, tried) in [
        (f301[0], "@rpath/libgone.dylib", &gone[..]),
        (f301[1], "/missing/abs/libabs.dylib", &absent_abs[..]),
    ] {
        assert_eq!(f["severity"], "error");
        assert_eq!(f["location"], "/missing/libneedy.dylib");
        assert!(f["message"].as_str().unwrap().contains(name), "{f:#}");
        let lines: Vec<String> = tried
            .iter()
            .map(|(p, r, o)| format!("{p} ({r}): {o}"))
            .collect();
        assert_eq!(
            f["found"].as_str().unwrap(),
            format!("not found; searched, in order:\n  {}", lines.join("\n  "))
        );
    }
    assert_eq!(code, 1, "a missing non-weak dylib fails the load");
}

#[test]
fn fallback_library_path_replaces_the_default() {
    let env = "DYLD_FALLBACK_LIBRARY_PATH=/missing/abs:/missing/fb";
    let (doc, code) = deps("missing/libneedy.dylib", &["--env", env]);
    let own = "@rpath → LC_RPATH of /missing/libneedy.dylib (from @loader_path)";
    let abs = "@rpath → LC_RPATH of /missing/libneedy.dylib";
    // man dyld: a set DYLD_FALLBACK_LIBRARY_PATH replaces /usr/local/lib:/usr/lib; tried after the LC_RPATHs.
    assert_edge(
        &doc,
        "/missing/libneedy.dylib",
        "@rpath/libgone.dylib",
        Some("/missing/fb/libgone.dylib"),
        Some(FALLBACK),
        &[
            att("/missing/libgone.dylib", own, "absent"),
            att("/opt/nowhere/lib/libgone.dylib", abs, "absent"),
            att("/missing/abs/libgone.dylib", FALLBACK, "absent"),
            att("/missing/fb/libgone.dylib", FALLBACK, "found"),
        ],
    );
    // dyld4 forEachPathVariant: the fallback candidate /missing/abs/libabs.dylib equals the install name,
    // which was already tried, so it is not tried again.
    assert_edge(
        &doc,
        "/missing/libneedy.dylib",
        "/missing/abs/libabs.dylib",
        None,
        None,
        &[
            att("/missing/abs/libabs.dylib", "install name", "absent"),
            att("/missing/fb/libabs.dylib", FALLBACK, "absent"),
        ],
    );
    assert_eq!(codes(&doc), ["FFI0301"]);
    assert_eq!(code, 1);
}

// ---------------------------------------------------------------------------------------------------------------
// wrong architecture, DYLD_LIBRARY_PATH
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn wrongarch_fixture_slices() {
    // x86/libdual.dylib has only an x86_64 slice; arm/libdual.dylib is arm64; libwa is universal.
    let Some(x86) = header("wrongarch/x86/libdual.dylib", None) else {
        return;
    };
    assert_eq!(x86, (CPU_TYPE_X86_64, MH_DYLIB));
    assert_eq!(
        header("wrongarch/arm/libdual.dylib", None),
        Some((CPU_TYPE_ARM64, MH_DYLIB))
    );
    for arch in ["arm64", "x86_64"] {
        assert_eq!(
            load_commands("wrongarch/libwa.dylib", Some(arch)).unwrap(),
            [
                "LC_ID_DYLIB @rpath/libwa.dylib",
                "LC_LOAD_DYLIB @rpath/libdual.dylib",
                "LC_RPATH @loader_path/x86",
                "LC_RPATH @loader_path/arm",
            ],
            "{arch} slice"
        );
    }
}

#[test]
fn incompatible_architecture_is_skipped_and_search_goes_on() {
    let (doc, code) = deps("wrongarch/libwa.dylib", &["--arch", "arm64"]);
    assert_eq!(doc["arch"], "arm64");
    let rule = "@rpath → LC_RPATH of /wrongarch/libwa.dylib (from @loader_path)";
    // dyld: the first LC_RPATH candidate is a Mach-O without an arm64 slice ("incompatible architecture"):
    // recorded, skipped, and the next LC_RPATH entry is tried.
    assert_edge(
        &doc,
        "/wrongarch/libwa.dylib",
        "@rpath/libdual.dylib",
        Some("/wrongarch/arm/libdual.dylib"),
        Some(rule),
        &[
            att(
                "/wrongarch/x86/libdual.dylib",
                rule,
                "wrong-machine: have 'x86_64', need 'arm64'",
            ),
            att("/wrongarch/arm/libdual.dylib", rule, "found"),
        ],
    );
    assert_eq!(code, 0);

    // The x86_64 slice of the same universal file takes the first candidate.
    let (doc, code) = deps("wrongarch/libwa.dylib", &["--arch", "x86_64"]);
    assert_eq!(doc["arch"], "x86_64");
    assert_edge(
        &doc,
        "/wrongarch/libwa.dylib",
        "@rpath/libdual.dylib",
        Some("/wrongarch/x86/libdual.dylib"),
        Some(rule),
        &[att("/wrongarch/x86/libdual.dylib", rule, "found")],
    );
    assert_eq!(code, 0);
}

#[test]
fn dyld_library_path_leaf_name_overrides_the_install_name() {
    if let Some(lc) = load_commands("dyldlp/libapp.dylib", None) {
        assert_eq!(
            lc,
            [
                "LC_ID_DYLIB @rpath/libapp.dylib",
                "LC_LOAD_DYLIB /dyldlp/vendor/libover.dylib",
            ]
        );
        for v in ["vendor", "override"] {
            assert_eq!(
                load_commands(&format!("dyldlp/{v}/libover.dylib"), None).unwrap(),
                ["LC_ID_DYLIB /dyldlp/vendor/libover.dylib"]
            );
        }
    }
    // Without the variable the absolute install name is loaded as written.
    let (doc, code) = deps("dyldlp/libapp.dylib", &[]);
    assert_edge(
        &doc,
        "/dyldlp/libapp.dylib",
        "/dyldlp/vendor/libover.dylib",
        Some("/dyldlp/vendor/libover.dylib"),
        Some("install name"),
        &[att("/dyldlp/vendor/libover.dylib", "install name", "found")],
    );
    assert_eq!(code, 0);

    // man dyld: DYLD_LIBRARY_PATH directories are searched first, with the install name's leaf name, in order
    // (empty/ has no libover.dylib, override/ does) — the install name is never reached.
    let env = "DYLD_LIBRARY_PATH=/dyldlp/empty:/dyldlp/override";
    let (doc, code) = deps("dyldlp/libapp.dylib", &["--env", env]);
    assert_edge(
        &doc,
        "/dyldlp/libapp.dylib",
        "/dyldlp/vendor/libover.dylib",
        Some("/dyldlp/override/libover.dylib"),
        Some("DYLD_LIBRARY_PATH"),
        &[
            att("/dyldlp/empty/libover.dylib", "DYLD_LIBRARY_PATH", "absent"),
            att(
                "/dyldlp/override/libover.dylib",
                "DYLD_LIBRARY_PATH",
                "found",
            ),
        ],
    );
    assert_eq!(code, 0);
}

// ---------------------------------------------------------------------------------------------------------------
// two-level symbols, cycles
// ---------------------------------------------------------------------------------------------------------------

#[test]
fn check_symbols_reports_the_symbol_missing_from_the_two_level_library() {
    if have(OBJDUMP) && have(NM) {
        // libuser binds _zfunc and _zother two-level to libZ (the version it was linked against had both) ...
        let binds = tool_output(
            OBJDUMP,
            &["--macho", "--bind", "--lazy-bind"],
            &fixture("symbols/libuser.dylib"),
        );
        for sym in ["_zfunc", "_zother"] {
            assert!(
                binds
                    .lines()
                    .any(|l| l.split_whitespace().rev().take(2).eq([sym, "libZ"])),
                "{sym} not bound to libZ:\n{binds}"
            );
        }
        // ... and the shipped libZ exports only _zother.
        let exports = tool_output(NM, &["-gU"], &fixture("symbols/libZ.dylib"));
        assert!(exports.contains(" _zother"), "{exports}");
        assert!(!exports.contains("_zfunc"), "{exports}");
    }
    if let Some(lc) = load_commands("symbols/libuser.dylib", None) {
        assert_eq!(
            lc,
            [
                "LC_ID_DYLIB @rpath/libuser.dylib",
                "LC_LOAD_DYLIB @rpath/libZ.dylib",
                "LC_LOAD_DYLIB /usr/lib/libSystem.B.dylib",
                "LC_RPATH @loader_path",
            ]
        );
    }

    // The load itself succeeds: libZ is found next to libuser.
    let (doc, code) = deps("symbols/libuser.dylib", &[]);
    let rule = "@rpath → LC_RPATH of /symbols/libuser.dylib (from @loader_path)";
    assert_edge(
        &doc,
        "/symbols/libuser.dylib",
        "@rpath/libZ.dylib",
        Some("/symbols/libZ.dylib"),
        Some(rule),
        &[att("/symbols/libZ.dylib", rule, "found")],
    );
    assert!(codes(&doc).is_empty(), "{:#}", doc["findings"]);
    assert_eq!(code, 0);

    // Two-level namespace: _zfunc must be exported by the library its ordinal names (libZ); it is not, so dyld
    // fails with "Symbol not found: _zfunc ... Expected in: @rpath/libZ.dylib". _zother is fine.
    let (doc, code) = deps("symbols/libuser.dylib", &["--check-symbols"]);
    let f302 = with_code(&doc, "FFI0302");
    assert_eq!(f302.len(), 1, "{:#}", doc["findings"]);
    let f = f302[0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["location"], "/symbols/libuser.dylib (symbol _zfunc)");
    let msg = f["message"].as_str().unwrap();
    assert!(msg.contains("_zfunc"), "{msg}");
    assert!(msg.contains("@rpath/libZ.dylib"), "{msg}");
    // libSystem is only in the shared cache: its binds cannot be checked and are listed once (FFI0308, info).
    assert_eq!(codes(&doc), ["FFI0302", "FFI0308"]);
    assert_eq!(code, 1);
}

#[test]
fn dependency_cycle_terminates() {
    if let Some(a) = load_commands("cycle/libcyca.dylib", None) {
        assert_eq!(
            a,
            [
                "LC_ID_DYLIB @rpath/libcyca.dylib",
                "LC_LOAD_DYLIB @rpath/libcycb.dylib",
                "LC_RPATH @loader_path",
            ]
        );
        assert_eq!(
            load_commands("cycle/libcycb.dylib", None).unwrap(),
            [
                "LC_ID_DYLIB @rpath/libcycb.dylib",
                "LC_LOAD_DYLIB @rpath/libcyca.dylib",
                "LC_RPATH @loader_path",
            ]
        );
    }
    // Run with a deadline: a resolver that follows the cycle would never finish.
    let mut child = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"))
        .arg("deps")
        .arg(fixture("cycle/libcyca.dylib"))
        .args(["--format", "json", "--sysroot"])
        .arg(sysroot())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run ffi-doctor");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("deps on a dependency cycle did not terminate");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let out = child.wait_with_output().unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(nodes(&doc).len(), 2);
    let rule = "@rpath → LC_RPATH of /cycle/libcyca.dylib (from @loader_path)";
    assert_edge(
        &doc,
        "/cycle/libcyca.dylib",
        "@rpath/libcycb.dylib",
        Some("/cycle/libcycb.dylib"),
        Some(rule),
        &[att("/cycle/libcycb.dylib", rule, "found")],
    );
    // dyld reuses an image already loaded under that @rpath install name: no search, no second copy.
    assert_edge(
        &doc,
        "/cycle/libcycb.dylib",
        "@rpath/libcyca.dylib",
        Some("/cycle/libcyca.dylib"),
        Some("already loaded (install name match)"),
        &[],
    );
    assert_eq!(
        edge(&doc, "/cycle/libcycb.dylib", "@rpath/libcyca.dylib")["cycle"],
        true
    );
    assert_eq!(codes(&doc), ["FFI0303"]);
    assert_eq!(status.code(), Some(0), "a cycle is info, not an error");
}

#[test]
fn explain_prints_the_search_in_order() {
    let out = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"))
        .arg("deps")
        .arg(fixture("missing/libneedy.dylib"))
        .arg("--sysroot")
        .arg(sysroot())
        .arg("--explain")
        .env("NO_COLOR", "1")
        .output()
        .expect("run ffi-doctor");
    let text = String::from_utf8_lossy(&out.stdout);
    let order = [
        "/missing/libgone.dylib (@rpath → LC_RPATH of /missing/libneedy.dylib (from @loader_path)): absent",
        "/opt/nowhere/lib/libgone.dylib (@rpath → LC_RPATH of /missing/libneedy.dylib): absent",
        "/usr/local/lib/libgone.dylib (DYLD_FALLBACK_LIBRARY_PATH): absent",
        "/usr/lib/libgone.dylib (DYLD_FALLBACK_LIBRARY_PATH): absent",
    ];
    let mut at = 0;
    for line in order {
        let pos = text[at..]
            .find(line)
            .unwrap_or_else(|| panic!("missing or out of order: {line}\n{text}"));
        at += pos + line.len();
    }
    assert!(text.contains("@rpath/libgone.dylib => NOT FOUND"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn relative_file_sysroot_and_executable_give_target_paths() {
    // All three given relative to the working directory: target paths are still /<scenario>/… inside the
    // sysroot, and @executable_path is the executable's target directory (not its host path).
    let out = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            "deps",
            "testdata/loader/dyld/exepath/plugins/libplug.dylib",
            "--sysroot",
            "testdata/loader/dyld",
            "--executable",
            "testdata/loader/dyld/exepath/bin/host",
            "--format",
            "json",
        ])
        .output()
        .expect("run ffi-doctor");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_edge(
        &doc,
        "/exepath/plugins/libplug.dylib",
        "@executable_path/libE.dylib",
        Some("/exepath/bin/libE.dylib"),
        Some("@executable_path"),
        &[att("/exepath/bin/libE.dylib", "@executable_path", "found")],
    );
    assert_eq!(out.status.code(), Some(0));
}
