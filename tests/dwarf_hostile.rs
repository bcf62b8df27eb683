//! Corrupt and hostile DWARF: `layout` and `check` on a library whose debug info is damaged must stop with a
//! message naming the file, the section and the offset in it (exit 2 for `layout`; the DWARF-unreadable info
//! finding for `check`), never panic, hang or run out of memory. The variants are made here from the committed
//! fixture testdata/dwarf/libshapes.dwarf{4,5}.so by patching bytes found with `object` and `gimli`.

mod common;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::testdata;
use gimli::constants as dw;
use object::{Object, ObjectSection};

/// Every run must end within this time …
const DEADLINE: Duration = Duration::from_secs(60);
/// … and this much address space (KiB, `ulimit -v`).
const MEMORY_KIB: u64 = 4 << 20;

/// One attribute of a DIE: name, form, the `.debug_info` offset of its value and the value when it is a reference
/// or a string offset.
#[derive(Debug, Clone)]
struct Attr {
    name: dw::DwAt,
    form: dw::DwForm,
    at: u64,
    refr: Option<u64>,
}

#[derive(Debug, Clone)]
struct Die {
    /// Offset in `.debug_info`.
    off: u64,
    unit: u64,
    tag: dw::DwTag,
    name: Option<String>,
    attrs: Vec<Attr>,
}

impl Die {
    fn attr(&self, name: dw::DwAt) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }
}

/// The fixture's DIEs and the file offsets of its sections.
struct Scan {
    dies: Vec<Die>,
    /// File offset of `.debug_info`, `.debug_abbrev`.
    info: u64,
    abbrev: u64,
}

impl Scan {
    fn named(&self, tag: dw::DwTag, name: &str) -> &Die {
        self.dies
            .iter()
            .find(|d| d.tag == tag && d.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("no {tag} {name} in the fixture"))
    }

    fn at(&self, off: u64) -> &Die {
        self.dies.iter().find(|d| d.off == off).unwrap()
    }
}

fn scan(data: &[u8]) -> Scan {
    let obj = object::File::parse(data).unwrap();
    let file_off = |name: &str| {
        let s = obj.section_by_name(name).unwrap();
        let c = s.compressed_file_range().unwrap();
        assert_eq!(c.format, object::CompressionFormat::None, "{name}");
        c.offset
    };
    let load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, gimli::Error> {
        Ok(obj
            .section_by_name(id.name())
            .map(|s| s.uncompressed_data().unwrap())
            .unwrap_or_default())
    };
    let sections = gimli::DwarfSections::load(load).unwrap();
    let dwarf = sections.borrow(|s| gimli::EndianSlice::new(s, gimli::LittleEndian));
    let mut dies = Vec::new();
    let mut units = dwarf.units();
    while let Some(header) = units.next().unwrap() {
        let unit = dwarf.unit(header).unwrap();
        let base = header.offset().as_debug_info_offset().unwrap().0 as u64;
        let mut raw = unit.entries_raw(None).unwrap();
        while !raw.is_empty() {
            let off = base + raw.next_offset().0 as u64;
            let Some(abbrev) = raw.read_abbreviation().unwrap() else {
                continue;
            };
            let mut die = Die {
                off,
                unit: base,
                tag: abbrev.tag(),
                name: None,
                attrs: Vec::new(),
            };
            for spec in abbrev.attributes() {
                let at = base + raw.next_offset().0 as u64;
                let a = raw.read_attribute(*spec).unwrap();
                let refr = match a.value() {
                    gimli::AttributeValue::UnitRef(o) => Some(base + o.0 as u64),
                    gimli::AttributeValue::DebugStrRef(o) => Some(o.0 as u64),
                    _ => None,
                };
                if a.name() == dw::DW_AT_name {
                    die.name = dwarf
                        .attr_string(&unit, a.value())
                        .ok()
                        .map(|s| s.to_string_lossy().into_owned());
                }
                die.attrs.push(Attr {
                    name: a.name(),
                    form: spec.form(),
                    at,
                    refr,
                });
            }
            dies.push(die);
        }
    }
    Scan {
        dies,
        info: file_off(".debug_info"),
        abbrev: file_off(".debug_abbrev"),
    }
}

/// A copy of `fixture` with `edits` (file offset, bytes) applied, in a per-test directory.
fn variant(test: &str, fixture: &Path, edits: &[(u64, Vec<u8>)]) -> PathBuf {
    let mut data = std::fs::read(fixture).unwrap();
    for (off, bytes) in edits {
        let o = *off as usize;
        data[o..o + bytes.len()].copy_from_slice(bytes);
    }
    let dir = std::env::temp_dir().join(format!(
        "ffi-doctor-dwarf-hostile-{}-{test}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("libshapes.so");
    std::fs::write(&p, data).unwrap();
    p
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Run ffi-doctor under an address-space limit and a deadline; a hang is killed and fails the test.
fn run_bounded(args: &[&str]) -> Run {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -v {MEMORY_KIB} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_ffi-doctor"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("run ffi-doctor");
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("ffi-doctor {args:?} still running after {DEADLINE:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let r = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !r.stderr.contains("panicked") && !r.stderr.contains("internal error"),
        "ffi-doctor {args:?} panicked:\n{}",
        r.stderr
    );
    r
}

/// `layout LIB --type point` exits 2 with a message naming the file and each of `needles`; `check` gives the
/// DWARF-unreadable info finding carrying the same message.
fn assert_refused(lib: &Path, needles: &[&str]) -> String {
    let lib_s = lib.to_str().unwrap();
    let r = run_bounded(&["layout", lib_s, "--type", "point"]);
    assert_eq!(r.code, 2, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains(lib_s), "no file name in:\n{}", r.stderr);
    for n in needles {
        assert!(r.stderr.contains(n), "no {n:?} in:\n{}", r.stderr);
    }

    let spec = lib.with_file_name("point.h");
    std::fs::write(&spec, "struct point { double x, y; };\n").unwrap();
    let c = run_bounded(&["check", lib_s, spec.to_str().unwrap(), "--format", "json"]);
    assert!(
        c.code == 0 || c.code == 1,
        "check: {}\n{}",
        c.code,
        c.stderr
    );
    let doc: serde_json::Value = serde_json::from_str(&c.stdout).unwrap();
    let f = common::findings(&doc)
        .into_iter()
        .find(|f| {
            f["message"]
                .as_str()
                .is_some_and(|m| m.contains("DWARF debug info could not be read"))
        })
        .unwrap_or_else(|| panic!("no DWARF-unreadable finding in {doc:#}"));
    let found = f["found"].as_str().unwrap();
    for n in needles {
        assert!(found.contains(n), "check finding lacks {n:?}: {found}");
    }
    r.stderr
}

fn dwarf4() -> PathBuf {
    testdata("dwarf/libshapes.dwarf4.so")
}

fn dwarf5() -> PathBuf {
    testdata("dwarf/libshapes.dwarf5.so")
}

#[test]
fn pristine_fixture_reads() {
    let r = run_bounded(&["layout", dwarf4().to_str().unwrap(), "--type", "point"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("struct point {"), "{}", r.stdout);
}

#[test]
fn unknown_abbreviation_code_names_the_die() {
    for fx in [dwarf4(), dwarf5()] {
        let data = std::fs::read(&fx).unwrap();
        let s = scan(&data);
        // The first DIE under the first unit's root: its abbreviation code becomes one the table lacks.
        let die = &s.dies[1];
        let lib = variant("abbrev-code", &fx, &[(s.info + die.off, vec![0x7e])]);
        let msg = assert_refused(
            &lib,
            &[
                ".debug_info",
                &format!("offset {:#x}", die.off),
                "abbreviation code",
                "gimli UnknownAbbreviation(126)",
            ],
        );
        assert!(
            msg.contains(&format!("at byte offset {:#x}", s.info + die.off)),
            "{msg}"
        );
    }
}

#[test]
fn corrupt_abbreviation_table_names_debug_abbrev() {
    let fx = dwarf4();
    let data = std::fs::read(&fx).unwrap();
    let s = scan(&data);
    // Table at .debug_abbrev+0: code 1, tag DW_TAG_compile_unit, then the has-children byte (0 or 1).
    let lib = variant("abbrev-table", &fx, &[(s.abbrev + 2, vec![0x07])]);
    assert_refused(
        &lib,
        &[
            ".debug_abbrev",
            "offset 0x0",
            "abbreviation table",
            "gimli BadHasChildren",
        ],
    );
}

#[test]
fn unit_header_version_names_the_unit() {
    let fx = dwarf5();
    let data = std::fs::read(&fx).unwrap();
    let s = scan(&data);
    // 32-bit DWARF: unit_length (4), version (2).
    let lib = variant("version", &fx, &[(s.info + 4, vec![0x63, 0x00])]);
    assert_refused(
        &lib,
        &[
            ".debug_info",
            "offset 0x0",
            "unit header",
            "gimli UnknownVersion(99)",
        ],
    );
}

#[test]
fn attribute_value_past_the_unit_names_its_offset() {
    // The last DIE of the first unit gets a DW_FORM_string name with no terminator before the unit ends … not
    // portable; instead make a unit's length end in the middle of a DIE's attributes.
    let fx = dwarf4();
    let data = std::fs::read(&fx).unwrap();
    let s = scan(&data);
    let die = s
        .dies
        .iter()
        .find(|d| d.tag == dw::DW_TAG_structure_type && d.name.as_deref() == Some("point"))
        .unwrap();
    let attr = die.attrs.last().unwrap();
    // unit_length counts from after its own 4 bytes: end the unit right at this attribute.
    let len = (attr.at - die.unit - 4) as u32;
    let lib = variant(
        "short-unit",
        &fx,
        &[(s.info + die.unit, len.to_le_bytes().to_vec())],
    );
    assert_refused(
        &lib,
        &[
            ".debug_info",
            &format!("offset {:#x}", attr.at),
            &format!("of the DW_TAG_structure_type DIE at {:#x}", die.off),
        ],
    );
}

#[test]
fn string_offset_past_debug_str_names_debug_str() {
    let fx = dwarf4();
    let data = std::fs::read(&fx).unwrap();
    let s = scan(&data);
    let a = s
        .dies
        .iter()
        .flat_map(|d| d.attrs.iter().map(move |a| (d, a)))
        .find(|(_, a)| a.name == dw::DW_AT_name && a.form == dw::DW_FORM_strp)
        .expect("a DW_FORM_strp name");
    let lib = variant(
        "strp",
        &fx,
        &[(s.info + a.1.at, 0x00ff_fff0u32.to_le_bytes().to_vec())],
    );
    assert_refused(
        &lib,
        &[
            ".debug_str",
            "offset 0xfffff0",
            &format!("DIE at .debug_info+{:#x}", a.0.off),
        ],
    );
}

/// Point the `DW_FORM_ref4` `DW_AT_type` of `from` at `to`.
fn retype(s: &Scan, from: &Die, to: u64) -> (u64, Vec<u8>) {
    let a = from.attr(dw::DW_AT_type).expect("DW_AT_type");
    assert_eq!(a.form, dw::DW_FORM_ref4);
    (
        s.info + a.at,
        ((to - from.unit) as u32).to_le_bytes().to_vec(),
    )
}

#[test]
fn dangling_type_reference_names_the_referring_die() {
    let fx = dwarf4();
    let data = std::fs::read(&fx).unwrap();
    let s = scan(&data);
    let td = s.named(dw::DW_TAG_typedef, "compare_fn");
    // One byte into the typedef itself: inside the unit, but no DIE starts there.
    let lib = variant("dangling", &fx, &[retype(&s, td, td.off + 1)]);
    assert_refused(
        &lib,
        &[
            ".debug_info",
            &format!("offset {:#x}", td.off),
            &format!("{:#x}, where no DIE starts", td.off + 1),
        ],
    );
}

#[test]
fn typedef_naming_itself_is_a_reported_cycle() {
    for fx in [dwarf4(), dwarf5()] {
        let data = std::fs::read(&fx).unwrap();
        let s = scan(&data);
        let td = s.named(dw::DW_TAG_typedef, "compare_fn");
        let lib = variant("self-cycle", &fx, &[retype(&s, td, td.off)]);
        assert_refused(
            &lib,
            &[
                ".debug_info",
                &format!("offset {:#x}", td.off),
                "reference cycle",
                &format!("{:#x} DW_TAG_typedef compare_fn → {:#x}", td.off, td.off),
            ],
        );
    }
}

#[test]
fn typedef_pointer_cycle_is_reported() {
    let fx = dwarf4();
    let data = std::fs::read(&fx).unwrap();
    let s = scan(&data);
    let td = s.named(dw::DW_TAG_typedef, "compare_fn");
    let ptr = s.at(td.attr(dw::DW_AT_type).unwrap().refr.unwrap());
    assert_eq!(ptr.tag, dw::DW_TAG_pointer_type);
    // compare_fn → pointer → compare_fn.
    let lib = variant("two-cycle", &fx, &[retype(&s, ptr, td.off)]);
    let msg = assert_refused(&lib, &[".debug_info", "reference cycle"]);
    assert!(
        msg.contains(&format!("{:#x} DW_TAG_typedef compare_fn", td.off))
            && msg.contains(&format!("{:#x} DW_TAG_pointer_type", ptr.off)),
        "{msg}"
    );
}

/// Bytes of `.debug_info` and `.debug_abbrev` flipped one at a time across the sections: every variant is read
/// or refused with a located message, in bounded time, without a panic (the library call, in process).
#[test]
fn flipped_bytes_never_panic_or_hang() {
    let fx = dwarf4();
    let data = std::fs::read(&fx).unwrap();
    let obj = object::File::parse(&*data).unwrap();
    let mut spots = Vec::new();
    for name in [".debug_info", ".debug_abbrev", ".debug_str", ".debug_line"] {
        let sec = obj.section_by_name(name).unwrap();
        let (start, size) = sec.file_range().unwrap();
        let step = (size / 40).max(1);
        spots.extend((0..size).step_by(step as usize).map(|o| (name, start + o)));
    }
    drop(obj);
    let start = Instant::now();
    for (i, (name, off)) in spots.iter().enumerate() {
        for flip in [0xffu8, 0x80] {
            let mut d = data.clone();
            d[*off as usize] ^= flip;
            let lib = variant(&format!("flip-{i}-{flip}"), &fx, &[]);
            std::fs::write(&lib, &d).unwrap();
            let t = Instant::now();
            let r = std::panic::catch_unwind(|| {
                ffi_doctor::dwarf::search(lib.to_str().unwrap(), &Default::default())
            });
            let r = r.unwrap_or_else(|_| panic!("panic on {name} byte {off:#x} ^ {flip:#x}"));
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "{name} byte {off:#x} ^ {flip:#x} took {:?}",
                t.elapsed()
            );
            if let Err(e) = r {
                let m = e.to_string();
                assert!(
                    m.contains(lib.to_str().unwrap()) && m.contains(" at offset 0x")
                        || m.contains("section"),
                    "{name} byte {off:#x} ^ {flip:#x}: unlocated error {m}"
                );
            }
            let _ = std::fs::remove_dir_all(lib.parent().unwrap());
        }
    }
    assert!(start.elapsed() < DEADLINE, "{:?}", start.elapsed());
}
