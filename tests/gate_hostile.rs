//! `gate` on hostile inputs: zip bombs, forged sizes, bad CRCs, duplicate and escaping member names, a FIFO
//! named like a wheel, and a stop signal during extraction. Each must end promptly with a clear exit code and
//! leave no temporary directory behind (every run gets its own TMPDIR, checked empty afterwards).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_ffi-doctor");

/// A minimal ELF header: enough for the wheel reader to take the member as a binary.
fn elf_head() -> Vec<u8> {
    let mut v = vec![0x7f, b'E', b'L', b'F', 2, 1, 1];
    v.resize(64, 0);
    v
}

/// Write a wheel with the given members (name, bytes, stored or deflated).
fn write_wheel(path: &Path, members: &[(&str, Vec<u8>)]) {
    let mut z = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, data) in members {
        z.start_file(*name, opts).unwrap();
        z.write_all(data).unwrap();
    }
    z.finish().unwrap();
}

fn wheel_members() -> Vec<(&'static str, Vec<u8>)> {
    vec![(
        "demo-1.0.dist-info/WHEEL",
        b"Wheel-Version: 1.0\nTag: cp312-cp312-manylinux_2_17_x86_64\n".to_vec(),
    )]
}

struct Run {
    out: Output,
    took: Duration,
}

/// Run `ffi-doctor gate ARGS` with a fresh TMPDIR; assert it left nothing there.
fn gate(tmp: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let tmpdir = tmp.join("tmpdir");
    std::fs::create_dir_all(&tmpdir).unwrap();
    let t = Instant::now();
    let mut cmd = Command::new(BIN);
    cmd.arg("gate")
        .args(args)
        .env("TMPDIR", &tmpdir)
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let took = t.elapsed();
    let left: Vec<_> = std::fs::read_dir(&tmpdir).unwrap().collect();
    assert!(left.is_empty(), "temporary files left behind: {left:?}");
    Run { out, took }
}

fn stderr(r: &Run) -> String {
    String::from_utf8_lossy(&r.out.stderr).into_owned() + &String::from_utf8_lossy(&r.out.stdout)
}

fn name(dir: &Path) -> PathBuf {
    dir.join("demo-1.0-cp312-cp312-manylinux_2_17_x86_64.whl")
}

#[test]
fn zip_bomb_stops_at_the_cap_with_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let w = name(dir.path());
    let mut bomb = elf_head();
    bomb.resize(64 << 20, 0);
    let mut m = wheel_members();
    m.push(("demo/bomb.so", bomb));
    write_wheel(&w, &m);
    let r = gate(
        dir.path(),
        &[w.to_str().unwrap()],
        &[("FFI_DOCTOR_WHEEL_LIMIT_MIB", "16")],
    );
    assert_eq!(r.out.status.code(), Some(2), "{}", stderr(&r));
    let e = stderr(&r);
    assert!(e.contains("zip bomb") && e.contains("demo/bomb.so"), "{e}");
}

/// Patch the uncompressed size of every entry (local header offset 22, central directory offset 24).
fn forge_sizes(path: &Path, size: u32) {
    let mut b = std::fs::read(path).unwrap();
    let mut i = 0;
    while i + 30 < b.len() {
        if b[i..i + 4] == [0x50, 0x4b, 0x03, 0x04] {
            b[i + 22..i + 26].copy_from_slice(&size.to_le_bytes());
        } else if b[i..i + 4] == [0x50, 0x4b, 0x01, 0x02] {
            b[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
        }
        i += 1;
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn forged_sizes_and_bad_crc_are_input_errors_without_huge_allocations() {
    let dir = tempfile::tempdir().unwrap();
    let w = name(dir.path());
    let mut m = wheel_members();
    m.push(("demo/lib.so", elf_head()));
    // Stored members keep their bytes in the clear, so a CRC can be broken by flipping a data byte.
    write_wheel(&w, &m);
    forge_sizes(&w, 0xffff_fff0);
    let r = gate(dir.path(), &[w.to_str().unwrap()], &[]);
    assert!(
        matches!(r.out.status.code(), Some(0..=2)),
        "a forged size must not abort the process: {:?}\n{}",
        r.out.status,
        stderr(&r)
    );

    let w2 = dir
        .path()
        .join("crc")
        .join(name(dir.path()).file_name().unwrap());
    std::fs::create_dir_all(w2.parent().unwrap()).unwrap();
    let mut z = zip::ZipWriter::new(std::fs::File::create(&w2).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("demo-1.0.dist-info/WHEEL", stored).unwrap();
    z.write_all(b"Tag: cp312-cp312-manylinux_2_17_x86_64\n")
        .unwrap();
    z.start_file("demo/lib.so", stored).unwrap();
    let mut body = elf_head();
    body.extend_from_slice(b"MARKER-MARKER");
    z.write_all(&body).unwrap();
    z.finish().unwrap();
    let mut b = std::fs::read(&w2).unwrap();
    let at = b.windows(6).position(|x| x == b"MARKER").unwrap();
    b[at] = b'X';
    std::fs::write(&w2, b).unwrap();
    let r = gate(dir.path(), &[w2.to_str().unwrap()], &[]);
    assert_eq!(r.out.status.code(), Some(2), "{}", stderr(&r));
}

/// Replace every occurrence of each `from` by the `to` of the same length.
fn patch_all(path: &Path, pairs: &[(&[u8], &[u8])]) {
    let mut b = std::fs::read(path).unwrap();
    for (from, to) in pairs {
        assert_eq!(from.len(), to.len());
        let mut i = 0;
        while let Some(p) = b[i..].windows(from.len()).position(|x| x == *from) {
            b[i + p..i + p + to.len()].copy_from_slice(to);
            i += p + 1;
        }
    }
    std::fs::write(path, b).unwrap();
}

#[test]
fn duplicate_and_escaping_members() {
    let dir = tempfile::tempdir().unwrap();
    let w = name(dir.path());
    let mut z = zip::ZipWriter::new(std::fs::File::create(&w).unwrap());
    let o = zip::write::SimpleFileOptions::default();
    z.start_file("demo-1.0.dist-info/WHEEL", o).unwrap();
    z.write_all(b"Tag: cp312-cp312-manylinux_2_17_x86_64\n")
        .unwrap();
    // The zip writer refuses duplicate names: write two and patch the second into the first.
    for n in ["demo/dup1.so", "demo/dup2.so"] {
        z.start_file(n, o).unwrap();
        z.write_all(&elf_head()).unwrap();
    }
    z.finish().unwrap();
    patch_all(&w, &[(b"demo/dup2.so", b"demo/dup1.so")]);
    let r = gate(dir.path(), &[w.to_str().unwrap()], &[]);
    assert!(matches!(r.out.status.code(), Some(0..=2)), "{}", stderr(&r));

    let outside = dir.path().join("escaped.so");
    let w2 = dir
        .path()
        .join("esc")
        .join(name(dir.path()).file_name().unwrap());
    std::fs::create_dir_all(w2.parent().unwrap()).unwrap();
    let mut z = zip::ZipWriter::new(std::fs::File::create(&w2).unwrap());
    z.start_file("demo-1.0.dist-info/WHEEL", o).unwrap();
    z.write_all(b"Tag: cp312-cp312-manylinux_2_17_x86_64\n")
        .unwrap();
    // The zip writer refuses such names: write placeholders of the same length and patch the bytes.
    let abs = outside.to_str().unwrap();
    let abs_placeholder = format!("X{}", &abs[1..]);
    z.start_file("aa/aa/escaped.so", o).unwrap();
    z.write_all(&elf_head()).unwrap();
    z.start_file(abs_placeholder.as_str(), o).unwrap();
    z.write_all(&elf_head()).unwrap();
    z.finish().unwrap();
    let mut b = std::fs::read(&w2).unwrap();
    for (from, to) in [
        (b"aa/aa/escaped.so".to_vec(), b"../../escaped.so".to_vec()),
        (abs_placeholder.as_bytes().to_vec(), abs.as_bytes().to_vec()),
    ] {
        let mut i = 0;
        while let Some(p) = b[i..]
            .windows(from.len())
            .position(|x| x == from.as_slice())
        {
            b[i + p..i + p + to.len()].copy_from_slice(&to);
            i += p + 1;
        }
    }
    std::fs::write(&w2, b).unwrap();
    let r = gate(dir.path(), &[w2.to_str().unwrap()], &[]);
    assert_eq!(r.out.status.code(), Some(2), "{}", stderr(&r));
    assert!(
        !outside.exists(),
        "a member escaped the temporary directory"
    );
    assert!(!dir.path().join("tmpdir/../escaped.so").exists());
}

#[test]
fn fifo_named_like_a_wheel_does_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let w = name(dir.path());
    let c = std::ffi::CString::new(w.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let r = gate(dir.path(), &[w.to_str().unwrap()], &[]);
    assert_eq!(r.out.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("FIFO"), "{}", stderr(&r));
    assert!(r.took < Duration::from_secs(10));
}

#[test]
fn stop_signal_during_extraction_removes_the_temporary_directory() {
    let dir = tempfile::tempdir().unwrap();
    let w = name(dir.path());
    let mut m = wheel_members();
    // Many large members: extraction takes long enough to be interrupted.
    let mut big = elf_head();
    big.resize(24 << 20, 7);
    for i in 0..8 {
        m.push((
            Box::leak(format!("demo/lib{i}.so").into_boxed_str()),
            big.clone(),
        ));
    }
    write_wheel(&w, &m);
    let tmpdir = dir.path().join("tmpdir");
    std::fs::create_dir_all(&tmpdir).unwrap();
    let mut child = Command::new(BIN)
        .args(["gate", w.to_str().unwrap()])
        .env("TMPDIR", &tmpdir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until extraction has started (the directory exists), then stop the process.
    let t = Instant::now();
    while std::fs::read_dir(&tmpdir).unwrap().next().is_none()
        && t.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let status = child.wait().unwrap();
    let left: Vec<_> = std::fs::read_dir(&tmpdir).unwrap().collect();
    assert!(
        left.is_empty(),
        "left behind after SIGTERM ({status:?}): {left:?}"
    );
}

/// A directory holding one copy of the system's libz (a real library the gate can read).
fn libz_dir(dir: &Path) -> Option<PathBuf> {
    let libz = [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
    ]
    .into_iter()
    .map(Path::new)
    .find(|p| p.exists())?;
    let d = dir.join("libs");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::copy(libz, d.join("libz.so.1")).unwrap();
    Some(d)
}

#[test]
fn big_configs_load_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let Some(libs) = libz_dir(dir.path()) else {
        eprintln!("skipped: no libz.so.1 on this host");
        return;
    };
    // 20,000 baselines (quadratic line/column lookups took seconds) and one 10 MB string value.
    let mut cfg = format!("[[target]]\npath = \"{}\"\n", libs.display());
    for i in 0..20_000 {
        cfg.push_str(&format!(
            "[[baseline]]\ncode = \"FFI0603\"\nlocation-glob = \"*lib{i}.so*\"\nreason = \"accepted {i}\"\n"
        ));
    }
    cfg.push_str(&format!(
        "[[baseline]]\ncode = \"FFI0612\"\nlocation-glob = \"*\"\nreason = \"{}\"\n",
        "x".repeat(10 << 20)
    ));
    std::fs::write(dir.path().join("ffi-doctor.toml"), cfg).unwrap();
    let conf = dir.path().join("ffi-doctor.toml");
    let r = gate(
        dir.path(),
        &["--config", conf.to_str().unwrap(), "--format", "json"],
        &[],
    );
    assert!(matches!(r.out.status.code(), Some(0 | 1)), "{}", stderr(&r));
    assert!(r.took < Duration::from_secs(20), "took {:?}", r.took);

    // An unregistered code in a baseline is refused with its line and column.
    std::fs::write(
        &conf,
        format!(
            "[[target]]\npath = \"{}\"\n[[baseline]]\ncode = \"FFI0699\"\nlocation-glob = \"*\"\nreason = \"x\"\n",
            libs.display()
        ),
    )
    .unwrap();
    let r = gate(dir.path(), &["--config", conf.to_str().unwrap()], &[]);
    assert_eq!(r.out.status.code(), Some(2), "{}", stderr(&r));
    assert!(
        stderr(&r).contains("FFI0699") && stderr(&r).contains(":3:"),
        "{}",
        stderr(&r)
    );
}

#[test]
fn a_configured_executable_that_is_a_device_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let Some(libs) = libz_dir(dir.path()) else {
        eprintln!("skipped: no libz.so.1 on this host");
        return;
    };
    let conf = dir.path().join("ffi-doctor.toml");
    std::fs::write(
        &conf,
        format!(
            "[[target]]\npath = \"{}\"\nplatform = {{ executable = \"/dev/zero\" }}\n",
            libs.join("libz.so.1").display()
        ),
    )
    .unwrap();
    let r = gate(dir.path(), &["--config", conf.to_str().unwrap()], &[]);
    assert_eq!(r.out.status.code(), Some(2), "{}", stderr(&r));
    assert!(stderr(&r).contains("/dev/zero: expected"), "{}", stderr(&r));
}

#[test]
fn globs_end_on_symlink_loops_and_keep_out_of_proc() {
    let dir = tempfile::tempdir().unwrap();
    let Some(libs) = libz_dir(dir.path()) else {
        eprintln!("skipped: no libz.so.1 on this host");
        return;
    };
    std::os::unix::fs::symlink(&libs, libs.join("loop")).unwrap();
    let pattern = format!("{}/**/*.so.1", dir.path().display());
    let r = gate(dir.path(), &[&pattern, "--format", "json"], &[]);
    assert!(matches!(r.out.status.code(), Some(0 | 1)), "{}", stderr(&r));
    let doc: serde_json::Value = serde_json::from_slice(&r.out.stdout).unwrap();
    assert_eq!(
        doc["summary"]["targets"], 1,
        "the loop adds no second match: {doc}"
    );
    assert!(r.took < Duration::from_secs(20));
    // /proc is walked only when the pattern names it; a pattern that matches nothing is an error naming it.
    let r = gate(dir.path(), &["/proc/**/*.no-such-ext"], &[]);
    assert_eq!(r.out.status.code(), Some(2), "{}", stderr(&r));
    assert!(r.took < Duration::from_secs(20), "took {:?}", r.took);
}

#[test]
fn a_huge_runpath_renders_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cc = ["cc", "gcc", "clang"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let Some(cc) = cc else {
        assert!(
            std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").as_deref() != Ok("1"),
            "no C compiler (FFI_DOCTOR_REQUIRE_ORACLES=1)"
        );
        eprintln!("skipped: no C compiler");
        return;
    };
    std::fs::write(d.join("f.c"), "int f(void) { return 0; }\n").unwrap();
    let long = format!("/opt/{}", "r".repeat(100_000));
    let ok = Command::new(cc)
        .current_dir(d)
        .args(["-shared", "-fPIC", "-o", "libbig.so", "f.c"])
        .arg(format!("-Wl,-rpath,{long}"))
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let lib = d.join("libbig.so");
    let r = gate(d, &[lib.to_str().unwrap()], &[]);
    assert!(matches!(r.out.status.code(), Some(0 | 1)), "{}", stderr(&r));
    assert!(
        r.took < Duration::from_secs(10),
        "human report took {:?}",
        r.took
    );
    assert!(
        stderr(&r).contains("more characters"),
        "the cell is clipped"
    );
}
