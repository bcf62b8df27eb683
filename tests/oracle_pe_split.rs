//! PE files whose import names live in two sections, as delvewheel leaves the Windows wheels it repairs (it renames
//! vendored DLLs and writes the longer name into the spare bytes at the end of another section). Fixtures:
//! `testdata/pe/split/mingw{64,32}/split.dll` (built by `testdata/src/build-pe-split.sh`), each next to the vendored
//! DLL it imports under its new name, `ext-5e1f0c2a.dll`.
//!
//! What is checked:
//! - the fixtures really are split: the renamed import's name lies in another section than the import directory
//!   (sections and the directory from `llvm-readobj --file-headers --sections`, the descriptor read from the file);
//! - `imports` lists exactly what `llvm-readobj --coff-imports` lists (per DLL, by name with hint or by ordinal,
//!   regular and delay-load) and `inspect` the same DLLs in the same order;
//! - `imports`, `exports`, `inspect` and `deps` exit 0, and `deps` finds the renamed DLL next to the importer;
//! - a Name RVA that no section holds is an input error (exit 2) at the offset of the descriptor holding it.

mod common;

use std::path::{Path, PathBuf};

use common::*;

const RENAMED: &str = "ext-5e1f0c2a.dll";

fn split_fixtures() -> Vec<PathBuf> {
    ["mingw64", "mingw32"]
        .iter()
        .map(|d| testdata(&format!("pe/split/{d}/split.dll")))
        .collect()
}

/// One section as llvm-readobj prints it.
#[derive(Debug, Default, Clone)]
struct Section {
    name: String,
    va: u64,
    vsize: u64,
    raw_size: u64,
    raw_ptr: u64,
}

/// The import directory RVA and the sections, from `llvm-readobj --file-headers --sections`.
fn layout(readobj: &Path, p: &str) -> (u64, Vec<Section>) {
    let text = tool(readobj, &["--file-headers", "--sections", p]);
    let mut import_rva = None;
    let mut sections = Vec::new();
    let mut cur: Option<Section> = None;
    for line in text.lines() {
        let t = line.trim();
        if t == "Section {" {
            cur = Some(Section::default());
            continue;
        }
        let Some((k, v)) = t.split_once(':') else {
            if t == "}" {
                sections.extend(cur.take());
            }
            continue;
        };
        let v = v.trim();
        match (k, cur.as_mut()) {
            ("ImportTableRVA", None) => import_rva = num(v),
            ("Name", Some(s)) => s.name = v.split_whitespace().next().unwrap_or("").to_string(),
            ("VirtualAddress", Some(s)) => s.va = num(v).unwrap(),
            ("VirtualSize", Some(s)) => s.vsize = num(v).unwrap(),
            ("RawDataSize", Some(s)) => s.raw_size = num(v).unwrap(),
            ("PointerToRawData", Some(s)) => s.raw_ptr = num(v).unwrap(),
            _ => {}
        }
    }
    (import_rva.expect("ImportTableRVA"), sections)
}

fn section_of(sections: &[Section], rva: u64) -> Option<&Section> {
    sections
        .iter()
        .find(|s| rva >= s.va && rva < s.va + s.vsize.min(s.raw_size))
}

/// The file offset and Name RVA of each import descriptor, read from the file through llvm-readobj's sections.
fn descriptors(data: &[u8], import_rva: u64, sections: &[Section]) -> Vec<(usize, u64)> {
    let s = section_of(sections, import_rva).expect("import directory in a section");
    let mut at = (s.raw_ptr + import_rva - s.va) as usize;
    let mut out = Vec::new();
    while data[at..at + 20].iter().any(|&b| b != 0) {
        let name = u32::from_le_bytes(data[at + 12..at + 16].try_into().unwrap());
        out.push((at, u64::from(name)));
        at += 20;
    }
    out
}

fn cstr_at(data: &[u8], sections: &[Section], rva: u64) -> String {
    let s = section_of(sections, rva).expect("name in a section");
    let at = (s.raw_ptr + rva - s.va) as usize;
    let end = at + data[at..].iter().position(|&b| b == 0).unwrap();
    String::from_utf8_lossy(&data[at..end]).into_owned()
}

#[test]
fn split_import_names_agree_with_llvm_readobj() {
    let Some([readobj]) = oracles(["llvm-readobj"]) else {
        return;
    };
    let mut f = Failures::new();
    for path in split_fixtures() {
        let p = path.to_str().unwrap();
        let name = rel(&path);

        // The fixture is what it claims: the renamed DLL's name is outside the import directory's section.
        let data = std::fs::read(&path).unwrap();
        let (import_rva, sections) = layout(&readobj, p);
        let home = section_of(&sections, import_rva).unwrap().name.clone();
        let homes: Vec<(String, String)> = descriptors(&data, import_rva, &sections)
            .into_iter()
            .map(|(_, rva)| {
                (
                    cstr_at(&data, &sections, rva),
                    section_of(&sections, rva).unwrap().name.clone(),
                )
            })
            .collect();
        let renamed_home = homes.iter().find(|(n, _)| n == RENAMED);
        assert!(
            renamed_home.is_some_and(|(_, s)| *s != home),
            "{name}: the fixture should hold {RENAMED}'s name outside {home} (the import directory's section): {homes:?}"
        );
        assert!(
            homes.iter().any(|(n, s)| n != RENAMED && *s == home),
            "{name}: the other import names should stay in {home}: {homes:?}"
        );

        // Imports, entry by entry, and the DLLs in order.
        let mut oracle_imports = Vec::new();
        let mut oracle_dlls = Vec::new();
        let mut block = "";
        let mut dll = String::new();
        for line in tool(&readobj, &["--coff-imports", p]).lines() {
            let t = line.trim();
            match t {
                "Import {" => block = "import",
                "DelayImport {" => block = "delay-import",
                _ => {}
            }
            if let Some(n) = t.strip_prefix("Name:") {
                dll = n.trim().to_string();
                oracle_dlls.push(format!("{dll} [{block}]"));
            } else if let Some(sym) = t.strip_prefix("Symbol:") {
                // `name (hint)` or ` (ordinal)`, both decimal.
                let (n, number) = sym.rsplit_once('(').expect("Symbol: name (number)");
                let number = number.trim_end_matches(')');
                let what = match n.trim() {
                    "" => format!("#{number}"),
                    n => format!("{n} hint={number}"),
                };
                oracle_imports.push(format!("{dll} delay={} {what}", block == "delay-import"));
            }
        }
        let doc = ffi_json("imports", &[p, "--no-demangle"]);
        let ours: Vec<String> = symbols(&images(&doc)[0])
            .iter()
            .map(|i| {
                let what = match (i["name"].as_str(), i["ordinal"].as_u64()) {
                    (Some(n), _) => format!("{n} hint={}", i["hint"]),
                    (None, Some(o)) => format!("#{o}"),
                    _ => "?".into(),
                };
                format!(
                    "{} delay={} {what}",
                    s(&i["library"]),
                    i["delay_load"].as_bool() == Some(true)
                )
            })
            .collect();
        assert!(
            ours.iter().any(|i| i.starts_with(RENAMED)),
            "{name}: {ours:?}"
        );
        f.same(
            &format!("{name}: imports vs llvm-readobj --coff-imports"),
            ours,
            oracle_imports,
        );
        let summary = inspect_images(&path).remove(0);
        let our_dlls: Vec<String> = summary["needed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| format!("{} [{}]", s(&n["name"]), s(&n["kind"])))
            .collect();
        f.eq(
            &format!("{name}: imported DLLs (order, kind) vs llvm-readobj --coff-imports"),
            our_dlls,
            oracle_dlls,
        );
    }
    f.finish("split import names");
}

#[test]
fn split_import_names_read_by_every_command() {
    for path in split_fixtures() {
        let p = path.to_str().unwrap();
        let name = rel(&path);
        let exports = ffi_json("exports", &[p]);
        assert!(
            symbols(&images(&exports)[0])
                .iter()
                .any(|e| s(&e["name"]) == "split_entry"),
            "{name}: split_entry export"
        );
        let doc = ffi_json("deps", &[p]);
        assert_eq!(
            edge_names(&doc, "split.dll"),
            [RENAMED, "KERNEL32.dll", "msvcrt.dll"],
            "{name}: deps edges"
        );
        let vendored = path.with_file_name(RENAMED);
        let e = edge(&doc, "split.dll", RENAMED);
        assert_eq!(
            target_path(&doc, e).map(Path::new),
            Some(vendored.as_path()),
            "{name}: {RENAMED} resolves to the vendored copy next to it"
        );
        let out = ffi(&["imports", p]);
        assert_eq!(out.status.code(), Some(0), "{name}: human imports");
        assert!(String::from_utf8_lossy(&out.stdout).contains(RENAMED));
    }
}

/// A Name RVA no section holds: exit 2, and the message points at the descriptor that holds the RVA.
#[test]
fn bad_import_name_rva_is_reported_at_its_descriptor() {
    let Some([readobj]) = oracles(["llvm-readobj"]) else {
        return;
    };
    for path in split_fixtures() {
        let name = rel(&path);
        let mut data = std::fs::read(&path).unwrap();
        let (import_rva, sections) = layout(&readobj, path.to_str().unwrap());
        let (desc, _) = descriptors(&data, import_rva, &sections)
            .into_iter()
            .find(|&(_, rva)| cstr_at(&data, &sections, rva) == RENAMED)
            .unwrap();
        data[desc + 12..desc + 16].copy_from_slice(&0x7fff_0000u32.to_le_bytes());
        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("split.dll");
        std::fs::write(&bad, &data).unwrap();
        for cmd in ["imports", "inspect", "deps"] {
            let out = ffi(&[cmd, bad.to_str().unwrap()]);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{name}: {cmd}: {err}");
            assert!(
                err.contains("0x7fff0000") && err.contains(&format!("(at byte offset {desc:#x})")),
                "{name}: {cmd} should name the RVA and the descriptor at {desc:#x}: {err}"
            );
        }
    }
}
