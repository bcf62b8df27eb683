//! The Windows loader model (`deps` on PE files) against expectations written down by hand from Microsoft's
//! documented rules ("Dynamic-link library search order", `LoadLibraryExW` / `SetDefaultDllDirectories` flags)
//! on the `testdata/loader/windows/` fixtures (see testdata/README.md). No oracle: wine is not assumed.

mod common;

use common::{edge, ffi_command, root, run_json, target, target_path, with_code};
use serde_json::Value;

fn w(rel: &str) -> String {
    root()
        .join("testdata/loader/windows")
        .join(rel)
        .display()
        .to_string()
}

/// Run `ffi-doctor deps FILE --format json ARGS…`: (document, exit code).
fn deps(file: &str, args: &[&str]) -> (Value, i32) {
    let mut command = ffi_command();
    command.current_dir(root());
    let r = run_json(command, "deps", [file].iter().chain(args));
    (r.doc, r.code)
}

/// (path, rule, outcome) of each attempt, paths relative to testdata/loader/windows where they are host paths.
fn attempts(e: &Value) -> Vec<(String, String, String)> {
    let base = format!("{}/", w(""));
    let base = base.replace("//", "/");
    e["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let p = a["path"].as_str().unwrap();
            (
                p.strip_prefix(&base).unwrap_or(p).to_string(),
                a["rule"].as_str().unwrap().to_string(),
                a["outcome"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn standard_search() -> (Value, i32) {
    let path = format!("{};{}", w("path32"), w("pathdir"));
    deps(
        &w("app/search.dll"),
        &[
            "--sysroot",
            &w("sysroot"),
            "--env",
            &format!("PATH={path}"),
            "--check-symbols",
        ],
    )
}

#[test]
fn standard_order_app_dir_system_dirs_then_path() {
    let (doc, code) = standard_search();
    assert_eq!(
        code, 1,
        "indlldir.dll is only in a --dll-dir: {}",
        doc["findings"]
    );
    assert_eq!(doc["loader"], "Windows");

    // "Loaded-module list / KnownDLLs … the system uses its copy of the known DLL" — no directory search;
    // System32 of the sysroot, file looked up case-insensitively (KERNEL32.dll -> kernel32.dll).
    let e = edge(&doc, "search.dll", "KERNEL32.dll");
    assert_eq!(e["rule"], "KnownDLLs");
    assert_eq!(
        target_path(&doc, e).expect("edge resolved"),
        r"C:\Windows\System32\kernel32.dll"
    );
    assert!(target(&doc, e).unwrap()["system"] == true);
    assert_eq!(e["attempts"].as_array().unwrap().len(), 1);

    // Standard order step 1, "the folder from which the application loaded": no --executable, so the DLL's own
    // directory (LOAD_WITH_ALTERED_SEARCH_PATH semantics). Near.DLL matches near.dll ignoring case.
    let e = edge(&doc, "search.dll", "Near.DLL");
    assert!(e["rule"].as_str().unwrap().starts_with("application dir"));
    assert!(target_path(&doc, e)
        .expect("edge resolved")
        .ends_with("loader/windows/app/near.dll"));

    // Steps 1-6: app dir, System32, 16-bit System, Windows dir, (no current dir given), each PATH entry.
    let e = edge(&doc, "search.dll", "onpath.dll");
    assert_eq!(e["rule"], "PATH");
    let got: Vec<(String, String)> = attempts(e).into_iter().map(|(p, r, _)| (p, r)).collect();
    let want = vec![
        (
            "app/onpath.dll".to_string(),
            "application dir (altered search path: the DLL's own directory)".to_string(),
        ),
        (r"C:\Windows\System32\onpath.dll".into(), "System32".into()),
        (
            r"C:\Windows\System\onpath.dll".into(),
            "16-bit System dir".into(),
        ),
        (r"C:\Windows\onpath.dll".into(), "Windows dir".into()),
        ("path32/onpath.dll".into(), "PATH".into()),
        ("pathdir/onpath.dll".into(), "PATH".into()),
    ];
    assert_eq!(got, want);

    // A 32-bit wrongarch.dll earlier on PATH is skipped (LdrpMapDllSearchPath retries on
    // STATUS_IMAGE_MACHINE_TYPE_MISMATCH) and the x64 one later on PATH is loaded.
    let e = edge(&doc, "search.dll", "wrongarch.dll");
    assert!(target_path(&doc, e)
        .expect("edge resolved")
        .ends_with("pathdir/wrongarch.dll"));
    let a = attempts(e);
    assert_eq!(a[4].0, "path32/wrongarch.dll");
    assert_eq!(a[4].2, "wrong-machine");
    assert_eq!(a[5].2, "found");

    // The standard order never searches AddDllDirectory dirs: indlldir.dll is missing.
    let e = edge(&doc, "search.dll", "indlldir.dll");
    assert!(e["missing"] == true && e["target"].is_null());
    let f = with_code(&doc, "FFI0301");
    assert_eq!(f.len(), 1, "{f:?}");
    assert!(f[0]["message"].as_str().unwrap().contains("indlldir.dll"));
    // Everything else binds (GetTickCount in the fake kernel32.dll).
    assert!(with_code(&doc, "FFI0302").is_empty(), "{}", doc["findings"]);
}

#[test]
fn python_mode_does_not_search_path() {
    let path = format!("{};{}", w("path32"), w("pathdir"));
    let (doc, code) = deps(
        &w("app/search.dll"),
        &[
            "--sysroot",
            &w("sysroot"),
            "--env",
            &format!("PATH={path}"),
            "--windows-search",
            "python",
            "--dll-dir",
            &w("dlldir"),
        ],
    );
    assert_eq!(code, 1);
    // LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR: the loaded DLL's directory, first, for its dependencies.
    let e = edge(&doc, "search.dll", "Near.DLL");
    assert_eq!(e["rule"], "DLL load dir (LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR)");
    // LOAD_LIBRARY_SEARCH_USER_DIRS: os.add_dll_directory.
    let e = edge(&doc, "search.dll", "indlldir.dll");
    assert_eq!(e["rule"], "--dll-dir (os.add_dll_directory)");
    assert!(target_path(&doc, e)
        .expect("edge resolved")
        .ends_with("dlldir/indlldir.dll"));
    // DEFAULT_DIRS = DLL load dir, (application dir: no --executable), user dirs, System32. No PATH.
    let e = edge(&doc, "search.dll", "onpath.dll");
    assert!(e["missing"] == true);
    let got: Vec<(String, String)> = attempts(e).into_iter().map(|(p, r, _)| (p, r)).collect();
    assert_eq!(
        got,
        vec![
            (
                "app/onpath.dll".to_string(),
                "DLL load dir (LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR)".to_string()
            ),
            (
                "dlldir/onpath.dll".into(),
                "--dll-dir (os.add_dll_directory)".into()
            ),
            (
                r"C:\Windows\System32\onpath.dll".into(),
                "System32 (LOAD_LIBRARY_SEARCH_SYSTEM32)".into()
            ),
        ]
    );
    // The finding says where standard LoadLibrary would have found it.
    let f = with_code(&doc, "FFI0301");
    let onpath = f
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("onpath.dll"))
        .expect("FFI0301 for onpath.dll");
    let hint = onpath["hint"].as_str().unwrap();
    let at = format!("{}/onpath.dll", w("pathdir"));
    assert!(
        hint.starts_with(&format!("found on PATH at {at}, but Python >= 3.8 does not search PATH: call os.add_dll_directory(")),
        "{hint}"
    );
    assert!(
        hint.ends_with(") or ship it next to the extension"),
        "{hint}"
    );
    // KnownDLLs still apply before any directory.
    assert_eq!(
        edge(&doc, "search.dll", "KERNEL32.dll")["rule"],
        "KnownDLLs"
    );
}

#[test]
fn executable_dir_replaces_the_dll_dir_in_the_standard_order() {
    // "If a DLL has dependencies, then the system searches for the dependent DLLs as if they were loaded by
    // using only their module names" — with an application elsewhere, cyca.dll's own dir is not searched.
    let (doc, code) = deps(
        &w("app/cyca.dll"),
        &[
            "--executable",
            &w("exe/host.exe"),
            "--sysroot",
            &w("sysroot"),
        ],
    );
    assert_eq!(code, 1);
    let e = edge(&doc, "cyca.dll", "cycb.dll");
    assert!(e["missing"] == true);
    let a = attempts(e);
    assert_eq!(a[0].0, "exe/cycb.dll");
    assert_eq!(a[0].1, "application dir (directory of the executable)");
}

#[test]
fn cycle_terminates_and_is_reported() {
    // Loaded-module list: cycb.dll's import of cyca.dll matches the module being loaded (base name).
    let (doc, code) = deps(&w("app/cyca.dll"), &[]);
    assert_eq!(code, 0, "{}", doc["findings"]);
    let e = edge(&doc, "cycb.dll", "cyca.dll");
    assert_eq!(e["target"], 0);
    assert!(e["cycle"] == true);
    assert!(e["rule"].as_str().unwrap().starts_with("already loaded"));
    assert_eq!(with_code(&doc, "FFI0303").len(), 1);
}

#[test]
fn symbols_by_name_ordinal_and_through_forwarders() {
    let (doc, code) = deps(&w("app/symbols.dll"), &["--check-symbols"]);
    assert_eq!(code, 1);
    // Binding f through fwda!f -> fwdb.g -> fwdc.h loads fwdb.dll and fwdc.dll (LdrpSnapModule forwarders).
    let e = edge(&doc, "fwda.dll", "fwdb.dll");
    assert!(
        e["rule"]
            .as_str()
            .unwrap()
            .contains("forwarder fwda.dll!f -> fwdb.g"),
        "{e}"
    );
    let e = edge(&doc, "fwdb.dll", "fwdc.dll");
    assert!(target_path(&doc, e)
        .expect("edge resolved")
        .ends_with("app/fwdc.dll"));

    let f302 = with_code(&doc, "FFI0302");
    let msg = |f: &&Value| f["message"].as_str().unwrap().to_string();
    // near_missing: not exported at all.
    assert!(f302
        .iter()
        .any(|f| msg(f).contains("imports near_missing from Near.DLL")));
    // Near_Upper: exported only as near_upper; names match exactly, the hint says so.
    let upper = f302
        .iter()
        .find(|f| msg(f).contains("imports Near_Upper"))
        .expect("Near_Upper finding");
    assert!(upper["hint"]
        .as_str()
        .unwrap()
        .contains("exports near_upper"));
    // loop1 -> fwdb.loop2 -> fwda.loop1: the forwarder cycle terminates and is reported.
    let lp = f302
        .iter()
        .find(|f| msg(f).contains("imports loop1"))
        .expect("loop1 finding");
    assert!(lp["found"].as_str().unwrap().starts_with("forwarder cycle"));
    // f resolves through the chain: no finding.
    assert!(!f302.iter().any(|f| msg(f).contains("imports f from")));
    assert_eq!(f302.len(), 3, "{f302:?}");
    // Ordinal 5 is exported (NONAME), ordinal 9 is not.
    let f307 = with_code(&doc, "FFI0307");
    assert_eq!(f307.len(), 1);
    assert!(f307[0]["message"].as_str().unwrap().contains("ordinal 9"));
}

#[test]
fn api_sets_delay_load_and_assumed_system_dlls() {
    let (doc, code) = deps(
        &root()
            .join("testdata/pe/msvc64/demo.dll")
            .display()
            .to_string(),
        &["--check-symbols"],
    );
    assert_eq!(code, 1, "ext.dll is missing");
    // API sets are resolved by the OS: no file search at all.
    let e = edge(&doc, "demo.dll", "api-ms-win-crt-stdio-l1-1-0.dll");
    assert!(e["rule"].as_str().unwrap().starts_with("API set"));
    assert!(e["attempts"].as_array().unwrap().is_empty());
    assert!(target(&doc, e).unwrap()["system"] == true);
    // A missing delay-load DLL is a warning (the load succeeds; the first call fails).
    let e = edge(&doc, "demo.dll", "delayed.dll");
    assert!(e["missing"] == true);
    assert!(e["rule"].as_str().unwrap().contains("(delay-load)"));
    let f306 = with_code(&doc, "FFI0306");
    assert_eq!(f306.len(), 1);
    assert_eq!(f306[0]["severity"], "warning");
    let f301 = with_code(&doc, "FFI0301");
    assert_eq!(f301.len(), 1);
    assert!(f301[0]["message"].as_str().unwrap().contains("ext.dll"));
    // The API set's imports (puts) cannot be checked: said once.
    let f308 = with_code(&doc, "FFI0308");
    assert_eq!(f308.len(), 1);
    assert!(f308[0]["message"]
        .as_str()
        .unwrap()
        .contains("api-ms-win-crt-stdio-l1-1-0.dll"));

    // Without a sysroot, KnownDLLs are assumed in System32; a 32-bit DLL gets SysWOW64 (WOW64 redirection).
    let (doc, _) = deps(
        &root()
            .join("testdata/pe/mingw32/demo.dll")
            .display()
            .to_string(),
        &[],
    );
    let e = edge(&doc, "demo.dll", "KERNEL32.dll");
    assert_eq!(
        target_path(&doc, e).expect("edge resolved"),
        r"C:\Windows\SysWOW64\kernel32.dll"
    );
    assert!(e["rule"].as_str().unwrap().starts_with("KnownDLLs"));
}
