//! DWARF oracle tests: our struct/union layouts (member offsets, sizes, bitfield positions, byte and bit holes,
//! padding, total size) against `pahole -C NAME FILE` (Debian `dwarves`) on every fixture under testdata/dwarf —
//! clang DWARF 4 and 5, gcc strict DWARF 2, zlib / .zdebug / zstd compressed sections, a split debug file found
//! through .gnu_debuglink, a mingw DLL (converted to ELF for pahole) — and on glibc's separate debug file when
//! libc6-dbg is installed. Also: build-id lookup under a temporary debug dir, CRC mismatch, DWARF 4 = 5, and the
//! "PDB not read" note for a PE with only a CodeView record.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use ffi_doctor::dwarf::{self, DebugOptions, DebugSource, Record};

/// One member line of pahole's output (top level only).
#[derive(Debug, PartialEq)]
struct PMember {
    offset: u64,
    size: u64,
    /// `offset:bit` for bitfields, with the width from `name:W`.
    bit: Option<(u64, u64)>,
}

#[derive(Debug, Default)]
struct PRecord {
    size: Option<u64>,
    members_count: Option<usize>,
    members: Vec<PMember>,
    byte_holes: Vec<u64>,
    bit_holes: Vec<u64>,
    padding: Option<u64>,
    bit_padding: Option<u64>,
}

fn num_after(s: &str, key: &str) -> Option<u64> {
    let i = s.find(key)? + key.len();
    s[i..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

fn parse_pahole(text: &str) -> PRecord {
    let mut r = PRecord::default();
    let mut depth = 0usize;
    for line in text.lines() {
        let t = line.trim();
        if depth == 0 {
            if t.ends_with('{') {
                depth = 1;
            }
            continue;
        }
        if t.ends_with('{') && !t.starts_with("/*") {
            depth += 1;
            continue;
        }
        let comment = t
            .rfind("/*")
            .and_then(|i| t[i + 2..].strip_suffix("*/"))
            .map(str::trim);
        if t.starts_with('}') {
            depth -= 1;
            if depth == 0 {
                break;
            }
            if depth == 1 {
                if let Some(c) = comment {
                    r.members.push(member(t, c));
                }
            }
            continue;
        }
        if depth != 1 {
            continue;
        }
        if t.starts_with("/*") {
            let c = comment.unwrap_or("");
            if c.starts_with("XXX") && c.contains("hole") {
                let n = num_after(c, "XXX").unwrap();
                if c.contains(" bit") {
                    r.bit_holes.push(n);
                } else {
                    r.byte_holes.push(n);
                }
            } else if c.starts_with("size:") {
                r.size = num_after(c, "size:");
                r.members_count = num_after(c, "members:").map(|n| n as usize);
            } else if c.starts_with("padding:") {
                r.padding = num_after(c, "padding:");
            } else if c.starts_with("bit_padding:") {
                r.bit_padding = num_after(c, "bit_padding:");
            }
            continue;
        }
        // A member: `TYPE NAME;  /* off size */` or a bitfield `TYPE NAME:W; /* off:bit size */`.
        if let Some(c) = comment {
            r.members.push(member(t, c));
        }
    }
    r
}

/// One member from its declaration text and its `off size` / `off:bit size` comment.
fn member(t: &str, c: &str) -> PMember {
    let decl = &t[..t.rfind("/*").unwrap()];
    let width = decl
        .trim_end()
        .strip_suffix(';')
        .and_then(|d| d.rsplit_once(':'))
        .filter(|(_, w)| !w.is_empty() && w.chars().all(|ch| ch.is_ascii_digit()))
        .map(|(_, w)| w.parse::<u64>().unwrap());
    let n = |s: Option<&str>| s.and_then(|s| s.trim().parse().ok()).unwrap_or(u64::MAX);
    if let Some((off, rest)) = c.split_once(':') {
        let mut it = rest.split_whitespace();
        let bit = n(it.next());
        PMember {
            offset: n(Some(off)),
            size: n(it.next()),
            bit: Some((bit, width.unwrap_or(u64::MAX))),
        }
    } else {
        let mut it = c.split_whitespace();
        PMember {
            offset: n(it.next()),
            size: n(it.next()),
            bit: None,
        }
    }
}

/// Compare one of our records with pahole's; returns the differences.
fn compare(ours: &Record, p: &PRecord) -> Vec<String> {
    let mut diffs = Vec::new();
    if let Some(s) = p.size {
        if s != ours.byte_size {
            diffs.push(format!("size: ours {} pahole {s}", ours.byte_size));
        }
    }
    if let Some(n) = p.members_count {
        if n != ours.members.len() {
            diffs.push(format!("members: ours {} pahole {n}", ours.members.len()));
        }
    }
    let mine: Vec<PMember> = ours
        .members
        .iter()
        .map(|m| PMember {
            offset: m.offset,
            size: m.size,
            bit: m.bit_size.map(|w| (m.bit_in_unit().unwrap(), w)),
        })
        .collect();
    if mine != p.members {
        diffs.push(format!(
            "members differ:\n  ours:   {mine:?}\n  pahole: {:?}",
            p.members
        ));
    }
    let st = dwarf::layout_stats(ours);
    let bytes: Vec<u64> = st
        .holes
        .iter()
        .map(|h| h.bytes)
        .filter(|&b| b > 0)
        .collect();
    let bits: Vec<u64> = st.holes.iter().map(|h| h.bits).filter(|&b| b > 0).collect();
    if bytes != p.byte_holes {
        diffs.push(format!(
            "byte holes: ours {bytes:?} pahole {:?}",
            p.byte_holes
        ));
    }
    if bits != p.bit_holes {
        diffs.push(format!("bit holes: ours {bits:?} pahole {:?}", p.bit_holes));
    }
    if p.size.is_some() && st.padding != p.padding.unwrap_or(0) {
        diffs.push(format!(
            "padding: ours {} pahole {:?}",
            st.padding, p.padding
        ));
    }
    if p.size.is_some() && st.bit_padding != p.bit_padding.unwrap_or(0) {
        diffs.push(format!(
            "bit_padding: ours {} pahole {:?}",
            st.bit_padding, p.bit_padding
        ));
    }
    diffs
}

fn pahole() -> Option<PathBuf> {
    oracle("pahole")
}

fn run_pahole(pahole: &Path, name: &str, file: &Path) -> Option<String> {
    let out = Command::new(pahole)
        .args(["-C", name])
        .arg(file)
        .output()
        .expect("run pahole");
    let s = String::from_utf8_lossy(&out.stdout).into_owned();
    (out.status.success() && s.contains('{')).then_some(s)
}

fn load(p: &Path, opts: &DebugOptions) -> dwarf::DebugInfo {
    dwarf::load(p.to_str().unwrap(), opts)
        .unwrap_or_else(|e| panic!("{}: {e}", rel(p)))
        .unwrap_or_else(|| panic!("{}: no DWARF found", rel(p)))
}

/// Check every named record of `info` (or the first `limit`) against pahole run on `dwarf_file`.
fn check_all(pahole: &Path, info: &dwarf::DebugInfo, dwarf_file: &Path, limit: usize) -> usize {
    let mut failures = Vec::new();
    let mut checked = 0;
    let differing: Vec<&String> = info.notes.iter().collect();
    for r in info.records().iter() {
        if checked >= limit {
            break;
        }
        // Types defined differently in several units: pahole and we may legitimately pick different ones.
        if differing
            .iter()
            .any(|n| n.contains(&format!(" {} is defined differently", r.name)))
        {
            continue;
        }
        let Some(text) = run_pahole(pahole, &r.name, dwarf_file) else {
            if r.tag.is_none() {
                // pahole 1.24 does not find some typedef-named anonymous unions (pthread_mutex_t).
                println!("note: pahole -C {} printed nothing (typedef-named)", r.name);
                continue;
            }
            failures.push(format!(
                "{}: pahole -C {} printed nothing",
                rel(dwarf_file),
                r.name
            ));
            continue;
        };
        let p = parse_pahole(&text);
        let d = compare(r, &p);
        if !d.is_empty() {
            failures.push(format!(
                "{} {}:\n{}\n--- pahole:\n{text}--- ours:\n{}",
                rel(dwarf_file),
                r.name,
                d.join("\n"),
                dwarf::render_layout(r)
            ));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    checked
}

const SHAPES: &[&str] = &[
    "point",
    "rect",
    "padded_t",
    "bits",
    "packed_hdr",
    "value",
    "shape",
    "aligned_box",
    "mixed_bits",
    "node",
    "flex",
];

#[test]
fn pahole_agrees_on_every_fixture_struct() {
    let Some(pahole) = pahole() else { return };
    let dir = testdata("dwarf");
    let mut files = vec![
        ("libshapes.dwarf4.so", None),
        ("libshapes.dwarf5.so", None),
        ("libshapes.gcc-dwarf2.so", None),
        ("libshapes.zlib.so", None),
        ("libshapes.zdebug.so", None),
        ("split/libshapes.so", Some("split/libshapes.so.debug")),
    ];
    // elfutils before 0.189 (Debian 12) cannot read zstd sections: pahole is only asked when it can.
    let zstd = dir.join("libshapes.zstd.so");
    if zstd.exists() && run_pahole(&pahole, "point", &zstd).is_some() {
        files.push(("libshapes.zstd.so", None));
    } else if zstd.exists() {
        println!("note: pahole cannot read zstd sections here; zstd checked against the uncompressed file");
    }
    for (lib, debug) in files {
        let lib = dir.join(lib);
        let info = load(&lib, &DebugOptions::default());
        for want in SHAPES {
            assert!(info.record(want).is_some(), "{}: {want} missing", rel(&lib));
        }
        let dwarf_file = debug.map(|d| dir.join(d)).unwrap_or(lib.clone());
        let n = check_all(&pahole, &info, &dwarf_file, usize::MAX);
        println!("{}: {n} records agree with pahole", rel(&lib));
        assert!(n >= SHAPES.len());
    }
}

#[test]
fn pahole_agrees_on_mingw_dll() {
    let Some(pahole) = pahole() else { return };
    let Some(objcopy) = oracle("x86_64-w64-mingw32-objcopy") else {
        return;
    };
    let dll = testdata("dwarf/pe/shapes.dll");
    let info = load(&dll, &DebugOptions::default());
    assert_eq!(info.source, DebugSource::Embedded);
    // pahole reads ELF only: the same DWARF sections, moved into an ELF container by binutils.
    let tmp = tempfile::tempdir().unwrap();
    let elf = tmp.path().join("shapes.elf");
    let st = Command::new(objcopy)
        .args(["-O", "elf64-x86-64"])
        .arg(&dll)
        .arg(&elf)
        .status()
        .unwrap();
    assert!(st.success());
    let n = check_all(&pahole, &info, &elf, usize::MAX);
    assert!(n >= SHAPES.len());
    // LLP64: long is 4 bytes, so mixed_bits differs from the ELF build.
    let mb = info.record("mixed_bits").unwrap();
    assert_eq!(mb.byte_size, 16);
}

#[test]
fn pahole_agrees_on_glibc_debug_file() {
    let Some(pahole) = pahole() else { return };
    let libc = Path::new("/lib/x86_64-linux-gnu/libc.so.6");
    if !libc.exists() {
        println!("skipped: no /lib/x86_64-linux-gnu/libc.so.6");
        return;
    }
    let search = dwarf::search(libc.to_str().unwrap(), &DebugOptions::default()).unwrap();
    let Some(info) = search.info else {
        if std::env::var(REQUIRE_ORACLES).as_deref() == Ok("1") {
            panic!(
                "libc6-dbg not installed (no DWARF for libc.so.6): {:?}",
                search.notes
            );
        }
        println!("skipped: libc6-dbg not installed");
        return;
    };
    assert_eq!(info.source, DebugSource::BuildId);
    let n = check_all(&pahole, &info, &info.path.clone(), 60);
    println!("glibc: {n} records agree with pahole");
    assert!(n >= 40, "only {n} glibc records checked");
    let f = info.record("_IO_FILE").expect("_IO_FILE");
    assert_eq!(f.byte_size, 216);
    assert!(info
        .functions()
        .iter()
        .any(|f| f.name == "malloc" || f.name == "__libc_malloc"));
}

#[test]
fn dwarf4_and_dwarf5_and_compressed_agree() {
    let dir = testdata("dwarf");
    let key = |p: &str| {
        let info = load(&dir.join(p), &DebugOptions::default());
        let recs: Vec<String> = info
            .records()
            .iter()
            .map(|r| {
                let mut r = r.clone();
                r.cu.clear();
                serde_json::to_string(&r).unwrap()
            })
            .collect();
        let fns = serde_json::to_string(info.functions())
            .unwrap()
            .replace("\"cu\"", "");
        (
            recs,
            serde_json::to_string(info.enums()).unwrap(),
            fns,
            info.dwarf_versions.clone(),
        )
    };
    let d4 = key("libshapes.dwarf4.so");
    let d5 = key("libshapes.dwarf5.so");
    assert_eq!(d4.3, vec![4]);
    assert_eq!(d5.3, vec![5]);
    assert_eq!(d4.0, d5.0, "records differ between DWARF 4 and 5");
    assert_eq!(d4.1, d5.1, "enums differ between DWARF 4 and 5");
    assert_eq!(d4.2, d5.2, "functions differ between DWARF 4 and 5");
    for (c, base) in [
        ("libshapes.zlib.so", &d5),
        ("libshapes.zdebug.so", &d4),
        ("libshapes.zstd.so", &d5),
    ] {
        if !dir.join(c).exists() {
            println!("skipped: {c} not built");
            continue;
        }
        let k = key(c);
        assert_eq!(&k.0, &base.0, "{c}: records");
        assert_eq!(&k.2, &base.2, "{c}: functions");
    }
}

#[test]
fn functions_enums_and_variables() {
    let info = load(
        &testdata("dwarf/libshapes.dwarf5.so"),
        &DebugOptions::default(),
    );
    let f = |n: &str| {
        info.functions()
            .iter()
            .find(|f| f.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    let draw = f("shape_draw");
    assert!(draw.variadic);
    assert_eq!(draw.params.len(), 2);
    assert_eq!(draw.params[0].ty.c, "struct shape *");
    let area = f("shape_area");
    assert_eq!(area.ret.c, "int");
    assert_eq!(area.params[0].ty.c, "const struct shape *");
    assert_eq!(area.params[1].ty.size, Some(8));
    let cl = f("classify");
    assert_eq!(cl.ret.typedefs, vec!["small_e".to_string()]);
    assert_eq!(cl.params[1].ty.kind.signed(), Some(false));
    assert_eq!(cl.params[2].ty.kind.signed(), Some(true));
    assert!(cl.params[3].ty.is_const);
    assert!(!f("shape_area").variadic);
    assert!(info
        .functions()
        .iter()
        .all(|f| f.name != "use_hidden" || f.params.is_empty()));
    let color = info.enums().iter().find(|e| e.name == "color").unwrap();
    assert!(color.signed);
    assert!(color.enumerators.contains(&("ALPHA".to_string(), -1)));
    let big = info.enums().iter().find(|e| e.name == "big_flags").unwrap();
    assert_eq!(big.byte_size, 8);
    assert!(big
        .enumerators
        .contains(&("BF_HIGH".to_string(), 0x1_0000_0000)));
    let vars: Vec<&str> = info.variables().iter().map(|v| v.name.as_str()).collect();
    assert!(
        vars.contains(&"shape_count")
            && vars.contains(&"shape_names")
            && vars.contains(&"shape_origin")
    );
    assert!(!vars.contains(&"hidden_static"));
    let names = info
        .variables()
        .iter()
        .find(|v| v.name == "shape_names")
        .unwrap();
    assert_eq!(names.ty.c, "const char *[4]");
    assert_eq!(names.ty.size, Some(32));
    let shape = info.record("struct shape").unwrap();
    let on_draw = shape
        .members
        .iter()
        .find(|m| m.name.as_deref() == Some("on_draw"))
        .unwrap();
    assert_eq!(on_draw.decl, "void (*on_draw)(struct shape *, int, ...)");
    let matrix = shape
        .members
        .iter()
        .find(|m| m.name.as_deref() == Some("matrix"))
        .unwrap();
    assert_eq!(matrix.ty.c, "int [3][2]");
    let aligned = info.record("aligned_box").unwrap();
    assert_eq!(aligned.alignment, Some(32));
}

#[test]
fn separate_debug_file_by_build_id_and_debuglink() {
    let dir = testdata("dwarf/split");
    let lib = dir.join("libshapes.so");
    // debuglink: next to the library
    let info = load(&lib, &DebugOptions::default());
    assert_eq!(info.source, DebugSource::Debuglink);
    assert!(info.path.ends_with("libshapes.so.debug"));
    assert!(info.record("shape").is_some());

    // build-id: a temporary global debug dir, library copied alone
    let tmp = tempfile::tempdir().unwrap();
    let lone = tmp.path().join("lib").join("libshapes.so");
    std::fs::create_dir_all(lone.parent().unwrap()).unwrap();
    std::fs::copy(&lib, &lone).unwrap();
    let data = std::fs::read(&lib).unwrap();
    let obj = object::File::parse(&*data).unwrap();
    use object::Object;
    let id = obj.build_id().unwrap().unwrap();
    let hex: String = id.iter().map(|b| format!("{b:02x}")).collect();
    let dbg = tmp
        .path()
        .join("debug/.build-id")
        .join(&hex[..2])
        .join(format!("{}.debug", &hex[2..]));
    std::fs::create_dir_all(dbg.parent().unwrap()).unwrap();
    std::fs::copy(dir.join("libshapes.so.debug"), &dbg).unwrap();
    let opts = DebugOptions {
        debug_dirs: vec![tmp.path().join("debug")],
        ..DebugOptions::default()
    };
    let info = load(&lone, &opts);
    assert_eq!(info.source, DebugSource::BuildId);
    assert_eq!(info.path, dbg);
    assert_eq!(info.record("bits").unwrap().byte_size, 24);

    // --debug-file
    let opts = DebugOptions {
        debug_file: Some(dir.join("libshapes.so.debug")),
        ..DebugOptions::default()
    };
    assert_eq!(load(&lone, &opts).source, DebugSource::DebugFile);

    // CRC mismatch: a different file under the debuglink name next to the library is reported, not used
    std::fs::copy(
        testdata("dwarf/libshapes.dwarf4.so"),
        lone.with_file_name("libshapes.so.debug"),
    )
    .unwrap();
    let s = dwarf::search(
        lone.to_str().unwrap(),
        &DebugOptions {
            debug_dirs: vec![],
            ..DebugOptions::default()
        },
    )
    .unwrap();
    assert!(s.info.is_none());
    assert!(
        s.notes.iter().any(|n| n.contains("crc mismatch")),
        "{:?}",
        s.notes
    );
    assert!(s
        .tried
        .iter()
        .any(|t| t.rule == "debuglink" && t.outcome.starts_with("crc mismatch")));
    // ... and the build-id file still wins when the debug dir is given
    let s = dwarf::search(
        lone.to_str().unwrap(),
        &DebugOptions {
            debug_dirs: vec![tmp.path().join("debug")],
            ..DebugOptions::default()
        },
    )
    .unwrap();
    assert_eq!(s.info.unwrap().source, DebugSource::BuildId);
}

#[test]
fn pdb_only_pe_is_noted() {
    let dll = testdata("dwarf/pe/pdbonly.dll");
    let s = dwarf::search(dll.to_str().unwrap(), &DebugOptions::default()).unwrap();
    assert!(s.info.is_none());
    assert!(
        s.notes
            .iter()
            .any(|n| n.starts_with("PDB not read (PDB path pdbonly.pdb)")),
        "{:?}",
        s.notes
    );
    let out = ffi(&["layout", dll.to_str().unwrap(), "--type", "x"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PDB not read"));
}

#[test]
fn layout_command_prints_like_pahole() {
    let lib = testdata("dwarf/libshapes.dwarf5.so");
    let out = ffi(&["layout", lib.to_str().unwrap(), "--type", "padded_t"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("typedef struct {\n"), "{text}");
    assert!(
        text.contains("/* XXX 7 bytes hole, try to pack */"),
        "{text}"
    );
    assert!(
        text.contains("/* size: 40, cachelines: 1, members: 5 */"),
        "{text}"
    );
    assert!(
        text.contains("/* sum members: 28, holes: 2, sum holes: 9 */"),
        "{text}"
    );
    assert!(text.contains("/* padding: 3 */"), "{text}");
    assert!(text.trim_end().ends_with("} padded_t;"), "{text}");
    if let Some(pahole) = pahole() {
        let p = parse_pahole(&run_pahole(&pahole, "padded_t", &lib).unwrap());
        let mine = parse_pahole(&text);
        assert_eq!(mine.members, p.members);
        assert_eq!(mine.byte_holes, p.byte_holes);
        assert_eq!(mine.size, p.size);
    }
    let doc = ffi_json("layout", &[lib.to_str().unwrap(), "--type", "bits"]);
    assert_eq!(doc["debug"]["source"], "embedded");
    let rec = &doc["records"][0];
    assert_eq!(rec["byte_size"], 24);
    assert_eq!(rec["members"][5]["bit_offset"], 27);
    assert_eq!(rec["stats"]["bit_holes"], 3);
    let out = ffi(&["layout", lib.to_str().unwrap(), "--type", "nosuch"]);
    assert_eq!(out.status.code(), Some(2));
}
