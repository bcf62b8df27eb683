//! Real-header oracle: the installed `-dev` headers of widely used C libraries are parsed by `ffi_doctor::decl`
//! (with the target's predefined macros and the compiler's include directories) and every complete record
//! that C can name is laid out by `ffi_doctor::abi`; the same records are compiled by the target's real
//! compilers into one object file per header and target (`sizeof`, `_Alignof`, `offsetof` of every named
//! member, and every bitfield's position read from an object with that bitfield set to all ones), and the
//! values must agree exactly.
//!
//! Targets: linux-x86_64 (gcc, clang), linux-i386 (gcc -m32, clang), linux-aarch64 (clang with the
//! `libc6-dev-arm64-cross` headers), windows-x86_64-mingw and windows-i686-mingw (x86_64-/i686-w64-mingw32-gcc;
//! only libraries whose headers build for Windows). A library's own headers are offered to the cross targets through a directory
//! of links, so the host's C library never leaks into a cross build; libraries whose configuration header is
//! architecture-specific are compared on the x86 Linux targets only.
//!
//! Missing compilers or headers print `skipped: …` unless `FFI_DOCTOR_REQUIRE_ORACLES=1`, where a missing
//! compiler, sysroot or library header fails the test. `FFI_DOCTOR_ORACLE_TIMES=1` prints the time per library
//! and target (parse and layout, then the whole round).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use ffi_doctor::abi::{record_layouts, type_layout, RecordLayout, Target};
use ffi_doctor::decl::{parse_header, ParseOptions, Spec, Type};
use object::{Object, ObjectSection, ObjectSymbol};

fn required() -> bool {
    std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").is_ok_and(|v| v == "1")
}

/// A library: name, the lines of the wrapper header, the entries of /usr/include (or its multiarch
/// directory) that make up its headers, whether its headers are architecture-specific (x86 Linux only), and
/// whether they build for Windows.
struct Lib {
    name: &'static str,
    wrapper: &'static str,
    entries: &'static [&'static str],
    arch_specific: bool,
    windows: bool,
}

const LIBS: &[Lib] = &[
    Lib {
        name: "zlib",
        wrapper: "#include <zlib.h>",
        entries: &["zlib.h", "zconf.h"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "libpng",
        wrapper: "#include <png.h>",
        entries: &["png.h", "pngconf.h", "pnglibconf.h", "zlib.h", "zconf.h"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "libffi",
        wrapper: "#include <ffi.h>",
        entries: &["ffi.h", "ffitarget.h"],
        arch_specific: true,
        windows: false,
    },
    Lib {
        name: "libxml2",
        wrapper: "#include <libxml/tree.h>\n#include <libxml/parser.h>\n#include <libxml/xpath.h>",
        entries: &["libxml2/libxml", "unicode"],
        arch_specific: false,
        windows: false,
    },
    Lib {
        name: "libcurl",
        wrapper: "#include <curl/curl.h>",
        entries: &["curl"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "openssl",
        wrapper: "#include <openssl/ssl.h>\n#include <openssl/evp.h>",
        entries: &["openssl"],
        arch_specific: true,
        windows: false,
    },
    Lib {
        name: "libuv",
        wrapper: "#include <uv.h>",
        entries: &["uv.h", "uv"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "sqlite3",
        wrapper: "#include <sqlite3.h>",
        entries: &["sqlite3.h"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "libyaml",
        wrapper: "#include <yaml.h>",
        entries: &["yaml.h"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "expat",
        wrapper: "#include <expat.h>",
        entries: &["expat.h", "expat_external.h"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "libjpeg",
        wrapper: "#include <stdio.h>\n#include <jpeglib.h>",
        entries: &["jpeglib.h", "jmorecfg.h", "jerror.h", "jconfig.h"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "libwebp",
        wrapper: "#include <webp/decode.h>\n#include <webp/encode.h>\n#include <webp/demux.h>",
        entries: &["webp"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "libzstd",
        wrapper: "#include <zstd.h>\n#include <zstd_errors.h>",
        entries: &["zstd.h", "zstd_errors.h"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "liblzma",
        wrapper: "#include <lzma.h>",
        entries: &["lzma.h", "lzma"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "libbz2",
        wrapper: "#include <stdio.h>\n#include <bzlib.h>",
        entries: &["bzlib.h"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "libarchive",
        wrapper: "#include <archive.h>\n#include <archive_entry.h>",
        entries: &["archive.h", "archive_entry.h"],
        arch_specific: false,
        windows: true,
    },
    Lib {
        name: "libsodium",
        wrapper: "#include <sodium.h>",
        entries: &["sodium.h", "sodium"],
        arch_specific: false,
        windows: true,
    },
];

fn host_multiarch() -> PathBuf {
    PathBuf::from("/usr/include/x86_64-linux-gnu")
}

/// Where an entry of a library lives on this machine.
fn find_entry(e: &str) -> Option<PathBuf> {
    [host_multiarch(), PathBuf::from("/usr/include")]
        .into_iter()
        .map(|d| d.join(e))
        .find(|p| p.exists())
}

fn output(cmd: &str, args: &[&str]) -> Option<String> {
    let o = Command::new(cmd).args(args).output().ok()?;
    o.status
        .success()
        .then(|| String::from_utf8_lossy(&o.stdout).trim().to_string())
}

/// A compiler of a target: program, its target arguments, and its builtin include directories.
struct Cc {
    label: &'static str,
    prog: &'static str,
    args: Vec<String>,
    builtin: Vec<PathBuf>,
}

fn cc(label: &'static str, prog: &'static str, args: &[&str]) -> Result<Cc, String> {
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let mut q = args.clone();
    q.push("-print-file-name=include".into());
    let qa: Vec<&str> = q.iter().map(String::as_str).collect();
    let inc = output(prog, &qa).ok_or(format!("{prog} not found"))?;
    let mut builtin = vec![PathBuf::from(&inc)];
    let fixed = PathBuf::from(format!("{inc}-fixed"));
    if prog.contains("mingw") && fixed.is_dir() {
        builtin.push(fixed);
    }
    if !builtin[0].is_dir() {
        return Err(format!("{prog}: no builtin include directory"));
    }
    Ok(Cc {
        label,
        prog,
        args,
        builtin,
    })
}

/// A target: its compilers (the first one's builtin headers are the ones parsed, matching the predefined
/// macros of `src/abi/predefined/`), its C library directories, and whether library headers come through
/// a link directory.
struct Setup {
    target: Target,
    ccs: Vec<Cc>,
    libc_dirs: Vec<PathBuf>,
    link_dir: bool,
}

fn setups() -> Vec<Result<Setup, String>> {
    let host = vec![host_multiarch(), PathBuf::from("/usr/include")];
    let mut v = Vec::new();
    let mk = |target, ccs: Vec<Result<Cc, String>>, libc_dirs: Vec<PathBuf>, link_dir| {
        let ccs: Result<Vec<Cc>, String> = ccs.into_iter().collect();
        let ccs = ccs.map_err(|e| format!("{target}: {e}"))?;
        if !libc_dirs.iter().any(|d| d.join("stdio.h").is_file()) {
            return Err(format!("{target}: no C library headers in {libc_dirs:?}"));
        }
        Ok(Setup {
            target,
            ccs,
            libc_dirs,
            link_dir,
        })
    };
    v.push(mk(
        Target::LinuxX86_64,
        vec![cc("gcc", "gcc", &[]), cc("clang", "clang", &[])],
        host.clone(),
        false,
    ));
    let i386 = if host_multiarch().join("gnu/stubs-32.h").is_file() {
        vec![
            cc("gcc -m32", "gcc", &["-m32"]),
            cc("clang", "clang", &["--target=i686-linux-gnu"]),
        ]
    } else {
        vec![Err("no 32-bit glibc headers (libc6-dev-i386)".into())]
    };
    v.push(mk(Target::LinuxI386, i386, host.clone(), false));
    v.push(mk(
        Target::LinuxAarch64,
        vec![cc("clang", "clang", &["--target=aarch64-linux-gnu"])],
        vec![PathBuf::from("/usr/aarch64-linux-gnu/include")],
        true,
    ));
    v.push(mk(
        Target::MingwX64,
        vec![cc("x86_64-w64-mingw32-gcc", "x86_64-w64-mingw32-gcc", &[])],
        vec![PathBuf::from("/usr/x86_64-w64-mingw32/include")],
        true,
    ));
    v.push(mk(
        Target::MingwX86,
        vec![cc("i686-w64-mingw32-gcc", "i686-w64-mingw32-gcc", &[])],
        vec![PathBuf::from("/usr/i686-w64-mingw32/include")],
        true,
    ));
    v
}

/// The C spelling of record `id`, if C can name it (a tag, or a typedef of the bare record, from
/// `typedef_of`: record id → first typedef naming it).
fn record_spelling(
    spec: &Spec,
    id: usize,
    typedef_of: &std::collections::HashMap<usize, &str>,
) -> Option<String> {
    let r = &spec.records[id];
    if let Some(tag) = &r.tag {
        let kw = match r.kind {
            ffi_doctor::decl::RecordKind::Struct => "struct",
            ffi_doctor::decl::RecordKind::Union => "union",
        };
        return Some(format!("{kw} {tag}"));
    }
    typedef_of.get(&id).map(|n| n.to_string())
}

/// Named members reachable from record `id` (through anonymous members): (path, name, is_bitfield).
fn members(
    spec: &Spec,
    id: usize,
    prefix: &mut Vec<usize>,
    out: &mut Vec<(Vec<usize>, String, bool)>,
) {
    for (i, f) in spec.records[id].fields.iter().enumerate() {
        prefix.push(i);
        match (&f.name, f.bits, &f.ty.ty) {
            (None, None, Type::Record { id: nid }) => members(spec, *nid, prefix, out),
            (Some(n), Some(w), _) if w > 0 => out.push((prefix.clone(), n.clone(), true)),
            (Some(n), None, _) => out.push((prefix.clone(), n.clone(), false)),
            _ => {}
        }
        prefix.pop();
    }
}

/// (absolute byte offset, absolute bit offset for a bitfield, bit width) of the member at `path`.
fn follow(l: &RecordLayout, path: &[usize]) -> (u64, Option<u64>, Option<u32>) {
    let f = &l.fields[path[0]];
    if path.len() == 1 {
        return (f.offset, f.bit_offset, f.bit_width);
    }
    let nested = f
        .nested
        .as_ref()
        .expect("anonymous member has a nested layout");
    let (o, b, w) = follow(nested, &path[1..]);
    (f.offset + o, b.map(|b| b + f.offset * 8), w)
}

fn symbol_bytes<'d>(file: &object::File<'d>, name: &str, len: usize) -> Option<&'d [u8]> {
    for s in file.symbols() {
        let n = s.name().unwrap_or("");
        if n == name || n.strip_prefix('_') == Some(name) {
            let sec = file.section_by_index(s.section_index()?).ok()?;
            let data = sec.data().ok()?;
            let off = (s.address() - sec.address()) as usize;
            return data.get(off..off + len);
        }
    }
    None
}

#[derive(Default)]
struct Tally {
    headers: usize,
    compiled: usize,
    records: usize,
    values: usize,
    unlaid: Vec<String>,
    mismatches: Vec<String>,
    skipped: Vec<String>,
}

/// One library on one target: parse, lay out, compile with each compiler, compare.
fn run(lib: &Lib, s: &Setup, dir: &Path, tally: &mut Tally) {
    let t = s.target;
    if lib.arch_specific && !matches!(t, Target::LinuxX86_64 | Target::LinuxI386) {
        return;
    }
    if t.is_windows() && !lib.windows {
        return;
    }
    let mut entries = Vec::new();
    for e in lib.entries {
        match find_entry(e) {
            Some(p) => entries.push((e, p)),
            None => {
                tally
                    .skipped
                    .push(format!("{}: header {e} not installed", lib.name));
                return;
            }
        }
    }
    let work = dir.join(format!("{}-{}", lib.name, t.name()));
    std::fs::create_dir_all(&work).unwrap();
    let mut lib_dirs: Vec<PathBuf> = Vec::new();
    if s.link_dir {
        let links = work.join("inc");
        std::fs::create_dir_all(&links).unwrap();
        for (e, p) in &entries {
            let base = Path::new(e).file_name().unwrap();
            let _ = std::os::unix::fs::symlink(p, links.join(base));
        }
        lib_dirs.push(links);
    } else if lib.name == "libxml2" {
        lib_dirs.push(PathBuf::from("/usr/include/libxml2"));
    }
    let wrapper = work.join("wrapper.h");
    std::fs::write(&wrapper, format!("{}\n", lib.wrapper)).unwrap();
    let first = &s.ccs[0];
    let mut sys: Vec<PathBuf> = first.builtin.clone();
    sys.extend(lib_dirs.iter().cloned());
    sys.extend(s.libc_dirs.iter().cloned());
    let opts = ParseOptions {
        system_include_dirs: sys,
        target_defines: t.predefined_macros(),
        ..Default::default()
    };
    tally.headers += 1;
    let t0 = std::time::Instant::now();
    let spec = match parse_header(wrapper.to_str().unwrap(), &opts) {
        Ok(s) => s,
        Err(e) => {
            tally
                .mismatches
                .push(format!("{} on {t}: header does not parse: {e}", lib.name));
            return;
        }
    };
    // Probe program and the engine's expected values.
    // The wrapper first, then <stddef.h> for offsetof: including stddef.h first would change which of the C
    // library's and the compiler's definitions of max_align_t wins (mingw's stddef.h has one without
    // __float128), and the compiler must see what the engine parsed, the header on its own.
    let mut c = format!("#include \"{}\"\n#include <stddef.h>\n", wrapper.display());
    // (label, value, only for the first compiler)
    let mut vals: Vec<(String, u64, bool)> = Vec::new();
    // (only for the first compiler, label, symbol, size, bit offset, width)
    let mut bits: Vec<(bool, String, String, usize, u64, u32)> = Vec::new();
    let mut exprs = String::new();
    let mut typedef_of = std::collections::HashMap::new();
    for td in &spec.typedefs {
        if let Type::Record { id } = td.ty.ty {
            typedef_of.entry(id).or_insert(td.name.as_str());
        }
    }
    let layouts = record_layouts(&spec, t);
    for (id, layout) in layouts.iter().enumerate() {
        let r = &spec.records[id];
        if !r.complete || r.partial {
            continue;
        }
        let Some(name) = record_spelling(&spec, id, &typedef_of) else {
            continue;
        };
        let l = match layout.clone() {
            Ok(l) => l,
            Err(e) => {
                tally
                    .unlaid
                    .push(format!("{} on {t}: {name}: {e}", lib.name));
                continue;
            }
        };
        // Spelled through a typedef: the typedef's own alignment attribute counts.
        let (size, align) = if r.tag.is_none() {
            match type_layout(&spec, &Type::Named { name: name.clone() }, t) {
                Ok(tl) => (tl.size, tl.align),
                Err(e) => {
                    tally
                        .unlaid
                        .push(format!("{} on {t}: {name}: {e}", lib.name));
                    continue;
                }
            }
        } else {
            (l.size, l.align)
        };
        tally.records += 1;
        // Records of the first compiler's own headers (stddef.h's max_align_t) only for that compiler.
        let builtin = first
            .builtin
            .iter()
            .any(|d| Path::new(&r.loc.file).starts_with(d));
        let (cond, end) = if builtin {
            ("#ifdef FFI_FIRST_CC\n", "#endif\n")
        } else {
            ("", "")
        };
        let _ = writeln!(exprs, "{cond}sizeof({name}), _Alignof({name}),");
        vals.push((format!("sizeof({name})"), size, builtin));
        vals.push((format!("_Alignof({name})"), align, builtin));
        let mut ms = Vec::new();
        members(&spec, id, &mut Vec::new(), &mut ms);
        for (path, m, is_bits) in ms {
            let (off, bo, w) = follow(&l, &path);
            if is_bits {
                let sym = format!("ffi_bf_{}", bits.len());
                // A member named like a macro (`SetPort` → `SetPortA`) cannot be designated: no object.
                let _ = writeln!(
                    c,
                    "{cond}#ifndef {m}\nconst {name} {sym} = {{ .{m} = -1 }};\n#endif\n{end}"
                );
                bits.push((
                    builtin,
                    format!("{name}.{m} bits"),
                    sym,
                    l.size as usize,
                    bo.unwrap_or(u64::MAX),
                    w.unwrap_or(0),
                ));
            } else {
                let _ = writeln!(
                    exprs,
                    "#ifdef {m}\n~0ULL,\n#else\noffsetof({name}, {m}),\n#endif"
                );
                vals.push((format!("offsetof({name}, {m})"), off, builtin));
            }
        }
        exprs.push_str(end);
    }
    let _ = writeln!(c, "const unsigned long long ffi_vals[] = {{\n{exprs}0 }};");
    if std::env::var_os("FFI_DOCTOR_ORACLE_TIMES").is_some() {
        println!("{} on {t}: parse+layout {:?}", lib.name, t0.elapsed());
    }
    let src = work.join("probe.c");
    std::fs::write(&src, &c).unwrap();
    for (ci, cc) in s.ccs.iter().enumerate() {
        let vals: Vec<&(String, u64, bool)> = vals.iter().filter(|v| ci == 0 || !v.2).collect();
        let obj = work.join(format!("probe-{}.o", cc.label.replace(' ', "_")));
        let mut cmd = Command::new(cc.prog);
        cmd.args(&cc.args)
            .args(["-std=gnu11", "-w", "-O0", "-c", "-nostdinc"]);
        if ci == 0 {
            cmd.arg("-DFFI_FIRST_CC");
        }
        for d in cc.builtin.iter().chain(&lib_dirs).chain(&s.libc_dirs) {
            cmd.arg("-isystem").arg(d);
        }
        let out = cmd.arg(&src).arg("-o").arg(&obj).output().unwrap();
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let err: String = err.lines().take(8).collect::<Vec<_>>().join("\n");
            if s.link_dir && !spec.records.is_empty() && err.contains("file not found")
                || err.contains("No such file")
            {
                tally.skipped.push(format!(
                    "{} on {t} ({}): headers do not build for this target: {err}",
                    lib.name, cc.label
                ));
            } else {
                tally.mismatches.push(format!(
                    "{} on {t} ({}): probe does not compile:\n{err}",
                    lib.name, cc.label
                ));
            }
            continue;
        }
        tally.compiled += 1;
        let data = std::fs::read(&obj).unwrap();
        let file = object::File::parse(&*data).unwrap();
        let raw = symbol_bytes(&file, "ffi_vals", 8 * vals.len()).expect("ffi_vals in the object");
        for (i, (label, want, _)) in vals.iter().enumerate() {
            let got = u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap());
            if got == u64::MAX && label.starts_with("offsetof") {
                continue; // the member's name is a macro
            }
            tally.values += 1;
            if got != *want {
                tally.mismatches.push(format!(
                    "{} on {t} ({}): {label}: compiler {got}, ffi-doctor {want}",
                    lib.name, cc.label
                ));
            }
        }
        for (first_only, label, sym, size, bo, w) in &bits {
            if *first_only && ci > 0 {
                continue;
            }
            let Some(b) = symbol_bytes(&file, sym, *size) else {
                continue; // the member's name is a macro
            };
            let set: Vec<u64> = (0..*size as u64 * 8)
                .filter(|i| b[(*i / 8) as usize] >> (i % 8) & 1 == 1)
                .collect();
            let got = (set.first().copied().unwrap_or(u64::MAX), set.len() as u32);
            tally.values += 2;
            if got != (*bo, *w) {
                tally.mismatches.push(format!(
                    "{} on {t} ({}): {label}: compiler bit {} width {}, ffi-doctor bit {bo} width {w}",
                    lib.name, cc.label, got.0, got.1
                ));
            }
        }
    }
}

#[test]
fn real_headers_match_the_compilers() {
    let dir =
        std::env::temp_dir().join(format!("ffi-doctor-oracle-headers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut tally = Tally::default();
    let mut ready = Vec::new();
    for s in setups() {
        match s {
            Ok(s) => ready.push(s),
            Err(e) => {
                assert!(!required(), "FFI_DOCTOR_REQUIRE_ORACLES=1 but {e}");
                println!("skipped: {e}");
            }
        }
    }
    let targets = ready.len();
    // One thread per target: the work is mostly waiting for compilers.
    let tallies: Vec<Tally> = std::thread::scope(|scope| {
        let handles: Vec<_> = ready
            .iter()
            .map(|s| {
                let dir = &dir;
                scope.spawn(move || {
                    let mut t = Tally::default();
                    for lib in LIBS {
                        let start = std::time::Instant::now();
                        run(lib, s, dir, &mut t);
                        if std::env::var_os("FFI_DOCTOR_ORACLE_TIMES").is_some() {
                            println!("{} on {}: {:?}", lib.name, s.target, start.elapsed());
                        }
                    }
                    t
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for t in tallies {
        tally.headers += t.headers;
        tally.compiled += t.compiled;
        tally.records += t.records;
        tally.values += t.values;
        tally.unlaid.extend(t.unlaid);
        tally.mismatches.extend(t.mismatches);
        tally.skipped.extend(t.skipped);
    }
    let _ = std::fs::remove_dir_all(&dir);
    for s in &tally.skipped {
        println!("skipped: {s}");
    }
    for u in &tally.unlaid {
        println!("not laid out: {u}");
    }
    println!(
        "{} library headers on {targets} targets: {} parsed header×target pairs, {} probes compiled, \
         {} records, {} values compared, {} mismatches",
        LIBS.len(),
        tally.headers,
        tally.compiled,
        tally.records,
        tally.values,
        tally.mismatches.len()
    );
    if required() {
        let missing: Vec<&String> = tally
            .skipped
            .iter()
            .filter(|s| s.contains("not installed"))
            .collect();
        assert!(
            missing.is_empty(),
            "FFI_DOCTOR_REQUIRE_ORACLES=1 but {missing:?}"
        );
    }
    assert!(
        tally.mismatches.is_empty(),
        "{} mismatches:\n{}",
        tally.mismatches.len(),
        tally.mismatches.join("\n")
    );
}

/// The committed predefined-macro tables are what the installed compilers print
/// (`scripts/gen-predefined.sh --check`), so a compiler upgrade that changes them is noticed.
#[test]
fn predefined_macros_match_the_compilers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (name, cc) in [
        ("linux-x86_64", "gcc"),
        ("linux-i386", "gcc"),
        ("linux-aarch64", "clang"),
        ("windows-x86_64-mingw", "x86_64-w64-mingw32-gcc"),
        ("windows-i686-mingw", "i686-w64-mingw32-gcc"),
    ] {
        let Some(version) = output(cc, &["--version"]) else {
            assert!(
                !required(),
                "FFI_DOCTOR_REQUIRE_ORACLES=1 but {cc} not found"
            );
            println!("skipped: {cc} not found");
            continue;
        };
        let file =
            std::fs::read_to_string(root.join(format!("src/abi/predefined/{name}.txt"))).unwrap();
        let first = version.lines().next().unwrap_or("");
        if !file.contains(&format!("// compiler: {first}\n")) {
            // Another compiler version predefines other numbers (__GNUC_MINOR__, …): nothing to compare.
            println!("skipped: {name}: installed {cc} is `{first}`, the table was generated by another version");
            continue;
        }
    }
    let out = Command::new("bash")
        .arg(root.join("scripts/gen-predefined.sh"))
        .arg("--check")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        // Only a difference for a compiler of the recorded version is a failure.
        let versions_match = [
            "gcc",
            "clang",
            "x86_64-w64-mingw32-gcc",
            "i686-w64-mingw32-gcc",
        ]
        .iter()
        .all(|cc| {
            output(cc, &["--version"]).is_none_or(|v| {
                let first = v.lines().next().unwrap_or("").to_string();
                std::fs::read_dir(root.join("src/abi/predefined"))
                    .unwrap()
                    .flatten()
                    .any(|f| {
                        std::fs::read_to_string(f.path())
                            .unwrap_or_default()
                            .contains(&format!("// compiler: {first}\n"))
                    })
            })
        });
        assert!(
            !versions_match,
            "src/abi/predefined differs from the compilers; run scripts/gen-predefined.sh:\n{err}"
        );
        println!("skipped: compiler versions differ from the recorded ones:\n{err}");
    }
    // The tables themselves predefine what the headers need.
    for t in Target::ALL {
        let m = t.predefined_macros();
        let has = |k: &str| m.iter().any(|(n, _)| n == k);
        assert!(
            has("__SCHAR_MAX__") && has("__INT_MAX__") && has("__SIZE_MAX__"),
            "{t}"
        );
    }
    let has = |t: Target, k: &str| t.predefined_macros().iter().any(|(n, _)| n == k);
    assert!(has(Target::MingwX64, "__SSE2__") && has(Target::LinuxX86_64, "__SSE2__"));
}

/// The package that installed `path` (`dpkg -S`), and every file it installed (`dpkg -L`), canonicalized.
fn package_files(path: &Path) -> Option<(String, std::collections::HashSet<PathBuf>)> {
    let owner = output("dpkg", &["-S", path.to_str()?])?;
    let pkg = owner.lines().next()?.split(": ").next()?.to_string();
    let list = output("dpkg", &["-L", &pkg])?;
    let files = list
        .lines()
        .map(|l| {
            let p = PathBuf::from(l);
            std::fs::canonicalize(&p).unwrap_or(p)
        })
        .collect();
    Some((pkg, files))
}

/// The functions clang declares at file scope in `header` (not `static`, not implicit), with the file each is
/// declared in: read from `-ast-dump=json` line by line (clang writes a location's file only when it changes,
/// so every location in document order is followed; `includedFrom` names the includer, not a location).
fn clang_declared_functions(
    header: &Path,
    include: &[PathBuf],
) -> Result<Vec<(String, PathBuf)>, String> {
    let mut cmd = Command::new("clang");
    cmd.args(["-fsyntax-only", "-Xclang", "-ast-dump=json", "-x", "c"]);
    for d in include {
        cmd.arg(format!("-I{}", d.display()));
    }
    cmd.arg(header);
    let out = cmd.output().map_err(|e| format!("clang: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "clang failed on {}: {}",
            header.display(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut cur = PathBuf::new();
    let mut prev_included_from = false;
    // The top-level node being read: kind, name, static, implicit, its file (once its `loc` is read).
    let mut node: Option<(String, String, bool, bool, Option<PathBuf>)> = None;
    let mut in_loc = false;
    let mut out_fns = Vec::new();
    let flush = |n: Option<(String, String, bool, bool, Option<PathBuf>)>,
                 out: &mut Vec<(String, PathBuf)>| {
        if let Some((kind, name, stat, implicit, Some(file))) = n {
            if kind == "FunctionDecl" && !stat && !implicit && !name.is_empty() {
                out.push((name, file));
            }
        }
    };
    let value = |l: &str| -> String {
        l.split_once(": ")
            .map(|(_, v)| v.trim_end_matches(',').trim_matches('"').to_string())
            .unwrap_or_default()
    };
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        if t.starts_with("\"file\": ") && !prev_included_from {
            cur = PathBuf::from(value(t));
        }
        prev_included_from = t.starts_with("\"includedFrom\": {");
        if indent != 6 {
            continue;
        }
        if t.starts_with("\"kind\": ") {
            flush(node.take(), &mut out_fns);
            node = Some((value(t), String::new(), false, false, None));
        } else if let Some(n) = node.as_mut() {
            if t.starts_with("\"loc\": {") {
                in_loc = true;
            } else if in_loc && (t.starts_with('}') || t.starts_with("\"range\"")) {
                in_loc = false;
                n.4 = Some(std::fs::canonicalize(&cur).unwrap_or(cur.clone()));
            } else if t.starts_with("\"name\": ") {
                n.1 = value(t);
            } else if t.starts_with("\"storageClass\": \"static\"") {
                n.2 = true;
            } else if t.starts_with("\"isImplicit\": true") {
                n.3 = true;
            }
        }
    }
    flush(node.take(), &mut out_fns);
    Ok(out_fns)
}

/// The set of functions `check` takes from a library's header (the header named as a person names it, the
/// host's system headers read by default, and the declarations of other libraries' headers left out) is the
/// set clang declares in the files of the library's Debian -dev package.
#[test]
fn check_takes_the_functions_the_compiler_declares() {
    use std::collections::BTreeSet;
    let (Some(_), Some(_)) = (
        output("clang", &["--version"]),
        output("dpkg", &["--version"]),
    ) else {
        assert!(
            !required(),
            "FFI_DOCTOR_REQUIRE_ORACLES=1 but clang or dpkg is missing"
        );
        println!("skipped: clang or dpkg not found");
        return;
    };
    let host = Target::LinuxX86_64;
    let mut compared = 0;
    let mut total = 0;
    let mut problems = Vec::new();
    for lib in LIBS {
        if lib.wrapper.starts_with("#include <stdio.h>") {
            // Not self-contained (jpeglib.h, bzlib.h use FILE without including <stdio.h>): a person names a
            // wrapper, whose own declarations are the point of the comparison above.
            println!("skipped: {}: its header needs <stdio.h> first", lib.name);
            continue;
        }
        let Some(first) = lib.wrapper.lines().find_map(|l| {
            l.strip_prefix("#include <")
                .and_then(|r| r.strip_suffix('>'))
        }) else {
            continue;
        };
        let include: Vec<PathBuf> = if lib.name == "libxml2" {
            vec![PathBuf::from("/usr/include/libxml2")]
        } else {
            Vec::new()
        };
        let header = include
            .iter()
            .map(|d| d.join(first))
            .find(|p| p.is_file())
            .or_else(|| find_entry(first).filter(|p| p.is_file()));
        let Some(header) = header else {
            assert!(
                !required(),
                "FFI_DOCTOR_REQUIRE_ORACLES=1 but {first} is not installed"
            );
            println!("skipped: {}: {first} not installed", lib.name);
            continue;
        };
        let Some((pkg, files)) = package_files(&header) else {
            println!(
                "skipped: {}: no Debian package owns {}",
                lib.name,
                header.display()
            );
            continue;
        };
        let clang: BTreeSet<String> = match clang_declared_functions(&header, &include) {
            Ok(v) => v
                .into_iter()
                .filter(|(_, f)| files.contains(f))
                .map(|(n, _)| n)
                .collect(),
            Err(e) => {
                problems.push(format!("{}: {e}", lib.name));
                continue;
            }
        };
        let opts = ParseOptions {
            include_dirs: include.clone(),
            target_system_includes: true,
            target_defines: host.predefined_macros(),
            ..Default::default()
        };
        let mut spec = match parse_header(header.to_str().unwrap(), &opts) {
            Ok(s) => s,
            Err(e) => {
                problems.push(format!(
                    "{}: {} does not parse: {e}",
                    lib.name,
                    header.display()
                ));
                continue;
            }
        };
        spec.take_foreign();
        let ours: BTreeSet<String> = spec.functions.iter().map(|f| f.name.clone()).collect();
        compared += 1;
        total += clang.len();
        if ours != clang {
            let missing: Vec<&String> = clang.difference(&ours).take(10).collect();
            let extra: Vec<&String> = ours.difference(&clang).take(10).collect();
            problems.push(format!(
                "{} ({}, {pkg}): clang declares {} functions in the package's files, check takes {}; \
                 missing {missing:?}, extra {extra:?}",
                lib.name,
                header.display(),
                clang.len(),
                ours.len()
            ));
        }
    }
    println!("{compared} headers compared with clang's declared functions ({total} functions)");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
