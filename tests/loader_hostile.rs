//! The loader models on files that are not files: a DT_NEEDED entry, a search directory and an ld.so.cache that
//! are FIFOs, devices or symlink loops. Nothing may block: each is reported (a rejected candidate, or exit 2
//! naming the file) within a few seconds.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ffi-doctor");

fn mkfifo(p: &Path) {
    let c = std::ffi::CString::new(p.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// (exit code, stdout + stderr), asserting it ended well within the time bound.
fn deps(args: &[&str]) -> (i32, String) {
    let t = Instant::now();
    let out = Command::new(BIN)
        .arg("deps")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(10),
        "deps {args:?} took {:?}",
        t.elapsed()
    );
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code().unwrap_or(-1), text)
}

/// A library needing `libfifo.so.1`, with DT_RUNPATH `$ORIGIN` and a DT_RPATH-free link, built by the C compiler.
fn build(dir: &Path) -> Option<std::path::PathBuf> {
    let cc = ["cc", "gcc", "clang"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    let Some(cc) = cc else {
        assert!(
            std::env::var(common::REQUIRE_ORACLES).as_deref() != Ok("1"),
            "no C compiler (FFI_DOCTOR_REQUIRE_ORACLES=1)"
        );
        eprintln!("skipped: no C compiler");
        return None;
    };
    // libfifo.so.1 is first built as a real library to link against, then replaced by a FIFO.
    std::fs::write(dir.join("f.c"), "int f(void) { return 0; }\n").unwrap();
    let ok = Command::new(cc)
        .current_dir(dir)
        .args([
            "-shared",
            "-fPIC",
            "-o",
            "libfifo.so.1",
            "-Wl,-soname,libfifo.so.1",
            "f.c",
        ])
        .status()
        .unwrap()
        .success()
        && Command::new(cc)
            .current_dir(dir)
            .args([
                "-shared",
                "-fPIC",
                "-o",
                "libneed.so",
                "f.c",
                "-Wl,--no-as-needed",
                "./libfifo.so.1",
                "-Wl,--enable-new-dtags",
            ])
            .arg("-Wl,-rpath,$ORIGIN")
            .status()
            .unwrap()
            .success();
    assert!(ok, "building the fixture failed");
    std::fs::remove_file(dir.join("libfifo.so.1")).unwrap();
    mkfifo(&dir.join("libfifo.so.1"));
    Some(dir.join("libneed.so"))
}

#[test]
fn fifos_devices_and_loops_never_block_the_loader() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(lib) = build(d) else { return };
    let lib = lib.to_str().unwrap();

    // A needed library that is a FIFO in the RUNPATH directory: a rejected candidate, named as a FIFO.
    let (code, text) = deps(&["--explain", lib]);
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("libfifo.so.1") && text.contains("FIFO"),
        "{text}"
    );

    // LD_LIBRARY_PATH entries that are a FIFO and a symlink loop.
    mkfifo(&d.join("fifodir"));
    std::os::unix::fs::symlink(d.join("loopb"), d.join("loopa")).unwrap();
    std::os::unix::fs::symlink(d.join("loopa"), d.join("loopb")).unwrap();
    let env = format!(
        "LD_LIBRARY_PATH={}:{}",
        d.join("fifodir").display(),
        d.join("loopa").display()
    );
    let (code, text) = deps(&["--explain", "--env", &env, lib]);
    assert_eq!(code, 1, "{text}");

    // An ld.so.cache that is a FIFO, a device, missing, or not a cache: exit 2 naming it.
    mkfifo(&d.join("cache.fifo"));
    std::fs::write(d.join("cache.txt"), "not a cache").unwrap();
    for (cache, says) in [
        (d.join("cache.fifo"), "FIFO"),
        ("/dev/zero".into(), "character device"),
        (d.join("missing"), "No such file"),
        (d.join("cache.txt"), "ld.so.cache"),
    ] {
        let c = cache.to_str().unwrap();
        let (code, text) = deps(&["--ld-so-cache", c, lib]);
        assert_eq!(code, 2, "{c}: {text}");
        assert!(text.contains(c) && text.contains(says), "{c}: {text}");
    }

    // The library itself named through a FIFO or a symlink loop.
    let (code, text) = deps(&[d.join("libfifo.so.1").to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("FIFO"), "{text}");
    let (code, text) = deps(&[d.join("loopa").to_str().unwrap()]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("symbolic link loop"), "{text}");
}
