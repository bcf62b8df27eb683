//! Real-world headers as a person names them: the target's system headers are read by default (the host's for
//! the host, a cross target's installed headers), an `#include` that was not read is reported on the
//! declarations it may change (FFI0411), the spec's own files are told from other libraries' by the named
//! file's include directory (and the others are counted, not dropped silently), `-I` of a system directory
//! keeps its system meaning, `--pkg-config` reaches the preprocessor, and `long` / enum / callback findings are
//! grouped with a summary for the requested targets (FFI0412).
//!
//! The oracles: gcc compiling the same text (what the header means with and without the missing include), and
//! the Debian packages' headers (skipped with a reason when not installed, mandatory with
//! `FFI_DOCTOR_REQUIRE_ORACLES=1`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use ffi_doctor::abi::Target;
use ffi_doctor::decl::{parse_header, ParseOptions};

fn skip(why: &str) {
    if std::env::var(REQUIRE_ORACLES).as_deref() == Ok("1") {
        panic!("{why}, and {REQUIRE_ORACLES}=1");
    }
    println!("skipped: {why}");
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ffi-doctor-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn system_lib(name: &str) -> Option<PathBuf> {
    [
        "/usr/lib/x86_64-linux-gnu",
        "/lib/x86_64-linux-gnu",
        "/usr/lib64",
        "/usr/lib",
    ]
    .iter()
    .map(|d| Path::new(d).join(name))
    .find(|p| p.exists())
}

fn host_opts() -> ParseOptions {
    ParseOptions {
        target_system_includes: true,
        target_defines: Target::LinuxX86_64.predefined_macros(),
        ..Default::default()
    }
}

/// `sizeof(T)` as gcc computes it for `header` (with `-I inc` when given).
fn gcc_sizeof(header: &Path, ty: &str, inc: Option<&Path>) -> Option<u64> {
    let dir = header.parent()?;
    let src = dir.join("probe.c");
    std::fs::write(
        &src,
        format!(
            "#include \"{}\"\nchar probe[sizeof({ty})];\n",
            header.display()
        ),
    )
    .ok()?;
    let obj = dir.join("probe.o");
    let mut c = Command::new("gcc");
    c.args(["-c", "-o"]).arg(&obj);
    if let Some(p) = inc {
        c.arg("-I").arg(p);
    }
    c.arg(&src);
    if !c.status().ok()?.success() {
        return None;
    }
    let nm = Command::new("nm").args(["-S"]).arg(&obj).output().ok()?;
    let text = String::from_utf8_lossy(&nm.stdout);
    text.lines()
        .find(|l| l.ends_with(" probe"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| u64::from_str_radix(s, 16).ok())
}

#[test]
fn png_h_parses_on_the_host_without_flags() {
    let png = Path::new("/usr/include/png.h");
    let Some(lib) = system_lib("libpng16.so.16") else {
        return skip("libpng16.so.16 not found (apt-get install libpng-dev)");
    };
    if !png.is_file() {
        return skip("/usr/include/png.h not found (apt-get install libpng-dev)");
    }
    let lib = lib.to_string_lossy().into_owned();
    // The host compiler reads <limits.h> and accepts the header, so must check.
    let gcc = Command::new("gcc")
        .args(["-fsyntax-only", "-x", "c", "/usr/include/png.h"])
        .status();
    if !gcc.is_ok_and(|s| s.success()) {
        return skip("gcc cannot compile /usr/include/png.h");
    }
    let (code, doc) = ffi_json_code("check", &[&lib, "/usr/include/png.h", "--no-dwarf"]);
    assert_eq!(code, 0, "{doc:#}");
    let img = &doc["images"][0];
    assert!(img["declared_functions"].as_u64().unwrap() > 200, "{img:#}");
    // The C library's functions are counted as not checked, not silently dropped.
    let files: Vec<&str> = img["not_checked"]["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert!(files.iter().any(|f| f.ends_with("/stdio.h")), "{files:?}");
    assert!(img["not_checked"]["functions"].as_u64().unwrap() > 50);
    // Without the system headers, png's own `#error "libpng requires 8-bit bytes"` stops the parse, as
    // it would stop a compiler without <limits.h>.
    let (code, _) = ffi_json_code(
        "check",
        &[
            &lib,
            "/usr/include/png.h",
            "--no-dwarf",
            "--no-system-includes",
        ],
    );
    assert_eq!(code, 2);
}

#[test]
fn an_unread_include_is_reported_on_the_declarations_it_changes() {
    let dir = tmpdir("unread");
    let h = dir.join("barrier.h");
    std::fs::write(
        &h,
        "#include <ffi_doctor_absent_config.h>\n\
         #ifndef BARRIER_H\n#define BARRIER_H\n\
         #ifdef __cplusplus\nextern \"C\" {\n#endif\n\
         #if defined(HAVE_BARRIER)\n\
         typedef struct { long pad[4]; } barrier_t;\n\
         #else\n\
         typedef struct { int n; } barrier_t;\n\
         #endif\n\
         int barrier_wait(barrier_t *b);\n\
         #ifdef _WIN32\nint win_only(void);\n#endif\n\
         #ifdef __cplusplus\n}\n#endif\n#endif\n",
    )
    .unwrap();
    // The compiler's view: the missing header decides the layout (HAVE_BARRIER there: 32 bytes, else 4).
    let cfg = dir.join("ffi_doctor_absent_config.h");
    std::fs::write(&cfg, "#define HAVE_BARRIER 1\n").unwrap();
    let with = gcc_sizeof(&h, "barrier_t", Some(&dir));
    std::fs::remove_file(&cfg).unwrap();
    let hb = dir.join("barrier_blank.h");
    std::fs::write(
        &hb,
        std::fs::read_to_string(&h)
            .unwrap()
            .replace("#include <ffi_doctor_absent_config.h>", ""),
    )
    .unwrap();
    let without = gcc_sizeof(&hb, "barrier_t", None);
    match (with, without) {
        (Some(a), Some(b)) => assert_ne!(a, b, "the fixture must depend on the missing header"),
        _ => skip("gcc/nm not available for the probe"),
    }

    let spec = parse_header(h.to_str().unwrap(), &host_opts()).unwrap();
    let decls: Vec<&str> = spec.unsure.iter().map(|u| u.declaration.as_str()).collect();
    // The typedef and its record; neither the guard, `__cplusplus`, `_WIN32` (the compiler's) nor the
    // declarations outside the conditional.
    assert!(decls.contains(&"typedef barrier_t"), "{decls:?}");
    assert!(decls
        .iter()
        .all(|d| d.contains("barrier_t") || d.starts_with("struct (anonymous")));
    let u = spec
        .unsure
        .iter()
        .find(|u| u.declaration == "typedef barrier_t")
        .unwrap();
    assert_eq!(u.macros, ["HAVE_BARRIER"]);
    assert_eq!(u.include, "<ffi_doctor_absent_config.h>");
    assert_eq!(
        (u.loc.line, u.condition.line, u.include_loc.line),
        (10, 7, 1)
    );

    // Through `check`: a warning on the declaration.
    let lib = testdata("elf/x86_64/libdemo.so");
    let (_, doc) = ffi_json_code(
        "check",
        &[lib.to_str().unwrap(), h.to_str().unwrap(), "--no-dwarf"],
    );
    let f = with_code(&doc, "FFI0411");
    assert!(
        f.iter().any(|f| f["severity"] == "warning"
            && f["location"] == format!("{}:10:27", h.display())
            && f["message"].as_str().unwrap().contains("HAVE_BARRIER")),
        "{f:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_cross_target_reads_its_own_system_headers() {
    let aarch64 = Path::new("/usr/aarch64-linux-gnu/include/stdio.h");
    if !aarch64.is_file() {
        return skip("no aarch64 C library headers (apt-get install libc6-dev-arm64-cross)");
    }
    let dir = tmpdir("cross");
    let h = dir.join("cross.h");
    std::fs::write(&h, "#include <sys/types.h>\nstruct s { off_t o; };\n").unwrap();
    let opts = ParseOptions {
        target_system_includes: true,
        target_defines: Target::LinuxAarch64.predefined_macros(),
        ..Default::default()
    };
    let spec = parse_header(h.to_str().unwrap(), &opts).unwrap();
    assert!(
        !spec.notes.iter().any(|(_, n)| n.contains("not found")),
        "{:?}",
        spec.notes
    );
    let from = |name: &str| {
        spec.typedef(name)
            .map(|t| t.loc.file.clone())
            .unwrap_or_default()
    };
    assert!(
        from("__off_t").starts_with("/usr/aarch64-linux-gnu/include/"),
        "{}",
        from("__off_t")
    );
    // A host system directory named with -I (pkg-config's -I/usr/include/x86_64-linux-gnu) stays behind the
    // target's own: the aarch64 bits/ headers still win.
    let mut o = opts.clone();
    o.include_dirs.push("/usr/include/x86_64-linux-gnu".into());
    let spec = parse_header(h.to_str().unwrap(), &o).unwrap();
    let f = spec.typedef("__off_t").map(|t| t.loc.file.clone());
    assert!(
        f.as_deref()
            .is_some_and(|f| f.starts_with("/usr/aarch64-linux-gnu/include/")),
        "{f:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_system_directory_named_with_i_keeps_its_system_meaning() {
    let curl_h = Path::new("/usr/include/x86_64-linux-gnu/curl/curl.h");
    let Some(lib) = system_lib("libcurl.so.4") else {
        return skip("libcurl.so.4 not found (apt-get install libcurl4-openssl-dev)");
    };
    if !curl_h.is_file() {
        return skip("curl/curl.h not found (apt-get install libcurl4-openssl-dev)");
    }
    let lib = lib.to_string_lossy().into_owned();
    let h = curl_h.to_str().unwrap();
    let mut runs = vec![vec![
        lib.clone(),
        h.to_string(),
        "-I/usr/include/x86_64-linux-gnu".into(),
        "--no-dwarf".into(),
    ]];
    if find_tool("pkg-config").is_some() {
        runs.push(vec![
            lib.clone(),
            h.to_string(),
            "--pkg-config".into(),
            "libcurl".into(),
            "--no-dwarf".into(),
        ]);
    } else {
        skip("pkg-config not found (apt-get install pkg-config)");
    }
    for args in runs {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, doc) = ffi_json_code("check", &a);
        // libc's select/accept/bind are the C library's, not curl's: no FFI0101 about them.
        let missing: Vec<&str> = with_code(&doc, "FFI0101")
            .iter()
            .map(|f| f["message"].as_str().unwrap())
            .collect();
        assert!(missing.is_empty(), "{args:?}: {missing:?}");
        assert_eq!(code, 0, "{args:?}");
        let files = doc["images"][0]["not_checked"]["files"].to_string();
        assert!(files.contains("sys/select.h"), "{files}");
    }
}

#[test]
fn pkg_config_flags_reach_the_preprocessor() {
    let dir = tmpdir("pkgconfig");
    let inc = dir.join("my lib");
    std::fs::create_dir_all(&inc).unwrap();
    std::fs::write(inc.join("mycfg.h"), "#define MY_WIDTH 3\n").unwrap();
    let h = dir.join("api.h");
    std::fs::write(
        &h,
        "#include <mycfg.h>\nstruct pair { int v[MY_WIDTH]; int extra[MY_EXTRA]; };\n",
    )
    .unwrap();
    // A stand-in pkg-config (PKG_CONFIG is how pkg-config users name another one).
    let fake = dir.join("fake-pkg-config");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\n[ \"$3\" = mylib ] || {{ echo \"Package $3 was not found\" >&2; exit 1; }}\n\
             echo '-I{} -DMY_EXTRA=2 -pthread'\n",
            inc.display().to_string().replace(' ', "\\ ")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut cmd = ffi_command();
    cmd.env("PKG_CONFIG", &fake)
        .args(["layout", "--format", "json"])
        .arg(&h)
        .args(["--type", "pair", "--pkg-config", "mylib"]);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["records"][0]["layouts"][0]["size"], 20, "{doc:#}");
    // An unknown package is an input error naming it.
    let mut cmd = ffi_command();
    cmd.env("PKG_CONFIG", &fake)
        .arg("layout")
        .arg(&h)
        .args(["--pkg-config", "nosuchlib"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("nosuchlib") && err.contains("was not found"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn long_enum_and_callback_findings_are_grouped() {
    let dir = tmpdir("grouped");
    let h = dir.join("grouped.h");
    std::fs::write(
        &h,
        "typedef unsigned long ulen;\n\
         enum mode { M_A, M_B };\n\
         typedef void (*cb_t)(int);\n\
         struct buf { ulen len; ulen cap; enum mode m; };\n\
         ulen buf_len(struct buf *b);\n\
         ulen buf_cap(struct buf *b);\n\
         void buf_set(struct buf *b, enum mode m, cb_t done);\n\
         void buf_on(struct buf *b, cb_t done);\n\
         long raw(void);\n",
    )
    .unwrap();
    let lib = testdata("elf/x86_64/libdemo.so");
    let l = lib.to_str().unwrap();
    let hs = h.to_str().unwrap();
    let (_, doc) = ffi_json_code(
        "check",
        &[
            l,
            hs,
            "--no-dwarf",
            "--targets",
            "linux-x86_64,windows-x86_64-msvc",
        ],
    );
    let long = with_code(&doc, "FFI0401");
    assert_eq!(long.len(), 2, "one per typedef or type: {long:#?}");
    let ulen = long
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("`ulen`"))
        .unwrap();
    assert!(ulen["message"]
        .as_str()
        .unwrap()
        .starts_with("4 declarations use `ulen`"));
    // Every use in `found`, in source order, with its location.
    let uses: Vec<&str> = ulen["found"].as_str().unwrap().lines().collect();
    assert_eq!(uses.len(), 4);
    assert!(
        uses[0].starts_with("field `len` of struct buf at ") && uses[0].ends_with(":4:19"),
        "{uses:?}"
    );
    assert_eq!(with_code(&doc, "FFI0405").len(), 1);
    let cb = with_code(&doc, "FFI0410");
    assert_eq!(cb.len(), 1, "{cb:#?}");
    assert!(cb[0]["message"]
        .as_str()
        .unwrap()
        .starts_with("2 functions take a callback of type `cb_t`"));
    // The summary: `long` matters between Linux and Windows x64, the enum (int everywhere) does not.
    let sum = with_code(&doc, "FFI0412");
    assert_eq!(sum.len(), 1);
    let m = sum[0]["message"].as_str().unwrap();
    let (matter, other) = m.split_once("only on other targets").unwrap();
    assert!(
        matter.contains("FFI0401 `ulen`") && other.contains("FFI0405 `enum mode`"),
        "{m}"
    );
    // For the library's own target alone, `long` is the same everywhere asked for.
    let (_, doc) = ffi_json_code("check", &[l, hs, "--no-dwarf"]);
    let m = with_code(&doc, "FFI0412")[0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, other) = m.split_once("only on other targets").unwrap();
    assert!(other.contains("FFI0401 `ulen`"), "{m}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pragma_operator_is_a_pragma() {
    // `_Pragma ("…")`, as macros write it (GLib's G_GNUC_BEGIN_IGNORE_DEPRECATIONS), is the #pragma it spells:
    // `pack` applies, the others are dropped from the declarations. Oracle: gcc's sizeof.
    let dir = tmpdir("pragma");
    let h = dir.join("pragma.h");
    std::fs::write(
        &h,
        "#define PACKED_BEGIN _Pragma(\"pack(push, 1)\")\n#define PACKED_END _Pragma(\"pack(pop)\")\n\
         _Pragma(\"GCC diagnostic push\")\nPACKED_BEGIN\nstruct p { char c; int i; };\nPACKED_END\n\
         struct q { char c; int i; };\n_Pragma(\"GCC diagnostic pop\")\n",
    )
    .unwrap();
    let spec = parse_header(h.to_str().unwrap(), &host_opts()).unwrap();
    for (tag, ty) in [("p", "struct p"), ("q", "struct q")] {
        let id = spec
            .record_by_tag(ffi_doctor::decl::RecordKind::Struct, tag)
            .unwrap();
        let ours = ffi_doctor::abi::record_layout(&spec, id, Target::LinuxX86_64)
            .unwrap()
            .size;
        match gcc_sizeof(&h, ty, None) {
            Some(gcc) => assert_eq!(ours, gcc, "{ty}"),
            None => skip("gcc/nm not available for the probe"),
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn glib_h_parses_with_its_pkg_config_flags() {
    let glib = Path::new("/usr/include/glib-2.0/glib.h");
    let Some(lib) = system_lib("libglib-2.0.so.0") else {
        return skip("libglib-2.0.so.0 not found (apt-get install libglib2.0-dev)");
    };
    if !glib.is_file() || find_tool("pkg-config").is_none() {
        return skip("glib.h or pkg-config not found (apt-get install libglib2.0-dev pkg-config)");
    }
    let lib = lib.to_string_lossy().into_owned();
    let (code, doc) = ffi_json_code(
        "check",
        &[
            &lib,
            glib.to_str().unwrap(),
            "--pkg-config",
            "glib-2.0",
            "--no-dwarf",
        ],
    );
    assert_ne!(code, 2, "{doc:#}");
    assert!(doc["images"][0]["declared_functions"].as_u64().unwrap() > 1000);
}
