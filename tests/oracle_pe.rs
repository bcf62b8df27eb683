//! PE oracle tests: our `exports`, `imports` and `inspect` output against `llvm-readobj` (and `llvm-objdump -p`
//! for forwarder targets, which llvm-readobj 14 does not print), on every fixture under testdata/pe and on the
//! mingw-w64 runtime DLLs shipped with this machine's cross compilers when present.
//!
//! What is compared, exactly (multiset equality, diff on failure):
//! - exports: `llvm-readobj --coff-exports` ordinal, name, RVA; for forwarded entries the target from
//!   `llvm-objdump -p` (and llvm-readobj's RVA must lie inside the export directory); the kind (function when the
//!   RVA is in an executable section per `llvm-readobj --sections`, else data). Unused export-address-table slots
//!   (RVA 0, no name: lld writes ordinals 0..41 that way) are not exports: we skip them, and so does the comparison.
//! - imports: `llvm-readobj --coff-imports` per DLL, regular and delay-load, by name (with hint) or by ordinal;
//!   the DLL order.
//! - headers: `llvm-readobj --file-headers` machine, timestamp, characteristics, subsystem, DLL characteristics,
//!   image base; export DLL name from `llvm-objdump -p`.
//! - PDB reference: `llvm-readobj --coff-debug-directory` CodeView path, GUID, age.

mod common;

use std::path::{Path, PathBuf};

use common::*;

struct Tools {
    readobj: PathBuf,
    objdump: PathBuf,
}

fn tools() -> Option<Tools> {
    let [readobj, objdump] = oracles(["llvm-readobj", "llvm-objdump"])?;
    Some(Tools { readobj, objdump })
}

/// `Key: value` lines of llvm-readobj blocks, flattened with their block path: ("Export/Name", "demo_add").
fn readobj_blocks(text: &str) -> Vec<(String, String)> {
    let mut path: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        // `Export {`, `DebugDirectory [`, `Characteristics [ (0x2022)`.
        let block = t
            .strip_suffix(" {")
            .or_else(|| t.strip_suffix(" ["))
            .or_else(|| t.split_once(" [ (").map(|(b, _)| b));
        if let Some(block) = block {
            path.push(block.to_string());
            out.push((path.join("/"), "{".to_string()));
            continue;
        }
        if t == "}" || t == "]" {
            let key = path.join("/");
            if path.pop().is_some() {
                out.push((key, "}".to_string()));
            }
            continue;
        }
        if let Some((k, v)) = t.split_once(':') {
            let mut key = path.clone();
            key.push(k.trim().to_string());
            out.push((key.join("/"), v.trim().to_string()));
        } else if !t.is_empty() {
            // A flag inside `Characteristics [ … ]`.
            let mut key = path.clone();
            key.push("-".into());
            out.push((key.join("/"), t.to_string()));
        }
    }
    out
}

/// `NAME (0x1234)` → (`NAME`, 0x1234).
fn name_and_hex(v: &str) -> (String, Option<u64>) {
    match v.rsplit_once(" (") {
        Some((n, h)) => (n.trim().to_string(), hexnum(h.trim_end_matches(')'))),
        None => (v.to_string(), None),
    }
}

struct Section {
    va: u64,
    size: u64,
    exec: bool,
}

fn check_file(t: &Tools, path: &Path, f: &mut Failures) {
    let p = path.to_str().unwrap();
    let name = rel(path);
    let summary = inspect_images(path).remove(0);
    let pe = &summary["pe"];
    let ex_doc = ffi_json("exports", &[p, "--no-demangle"]);
    let im_doc = ffi_json("imports", &[p, "--no-demangle"]);
    let exports = symbols(&images(&ex_doc)[0]);
    let imports = symbols(&images(&im_doc)[0]);

    // --- headers and sections ----------------------------------------------------------------------------------
    let hdr = readobj_blocks(&tool(&t.readobj, &["--file-headers", p]));
    let hget = |k: &str| -> String {
        hdr.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let (machine, machine_raw) = name_and_hex(&hget("ImageFileHeader/Machine"));
    f.eq(
        &format!("{name}: machine vs llvm-readobj --file-headers"),
        (s(&pe["machine"]).to_string(), pe["machine_raw"].as_u64()),
        (machine, machine_raw),
    );
    let (_, stamp) = name_and_hex(&hget("ImageFileHeader/TimeDateStamp"));
    f.eq(
        &format!("{name}: timestamp vs llvm-readobj --file-headers"),
        pe["timestamp"].as_u64(),
        stamp,
    );
    let flags = |block: &str, prefix: &str| -> Vec<String> {
        hdr.iter()
            .filter(|(k, _)| k == &format!("{block}/Characteristics/-"))
            .map(|(_, v)| {
                let (n, _) = name_and_hex(v);
                n.strip_prefix(prefix).unwrap_or(&n).to_string()
            })
            .collect()
    };
    f.same(
        &format!("{name}: characteristics vs llvm-readobj --file-headers"),
        strs(&pe["characteristics"]),
        flags("ImageFileHeader", "IMAGE_FILE_"),
    );
    f.same(
        &format!("{name}: DLL characteristics vs llvm-readobj --file-headers"),
        strs(&pe["dll_characteristics"]),
        flags("ImageOptionalHeader", "IMAGE_DLL_CHARACTERISTICS_"),
    );
    let (subsystem, _) = name_and_hex(&hget("ImageOptionalHeader/Subsystem"));
    f.eq(
        &format!("{name}: subsystem vs llvm-readobj --file-headers"),
        s(&pe["subsystem"]).to_string(),
        subsystem
            .strip_prefix("IMAGE_SUBSYSTEM_")
            .unwrap_or(&subsystem)
            .to_string(),
    );
    f.eq(
        &format!("{name}: image base vs llvm-readobj --file-headers"),
        pe["image_base"].as_u64(),
        num(&hget("ImageOptionalHeader/ImageBase")),
    );
    let bits = match hget("AddressSize").as_str() {
        "64bit" => 64,
        "32bit" => 32,
        _ => 0,
    };
    f.eq(
        &format!("{name}: address size vs llvm-readobj"),
        summary["bits"].as_u64(),
        Some(bits),
    );
    let export_dir = (
        num(&hget("ImageOptionalHeader/DataDirectory/ExportTableRVA")).unwrap_or(0),
        num(&hget("ImageOptionalHeader/DataDirectory/ExportTableSize")).unwrap_or(0),
    );
    let sec_lines = readobj_blocks(&tool(&t.readobj, &["--sections", p]));
    let mut sections: Vec<Section> = Vec::new();
    let mut cur: Option<(u64, u64, u64, bool)> = None;
    for (k, v) in &sec_lines {
        match k.as_str() {
            "Sections/Section" if v == "{" => cur = Some((0, 0, 0, false)),
            "Sections/Section/VirtualAddress" => cur.as_mut().unwrap().0 = num(v).unwrap_or(0),
            "Sections/Section/VirtualSize" => cur.as_mut().unwrap().1 = num(v).unwrap_or(0),
            "Sections/Section/RawDataSize" => cur.as_mut().unwrap().2 = num(v).unwrap_or(0),
            "Sections/Section/Characteristics/-"
                if v.starts_with("IMAGE_SCN_MEM_EXECUTE")
                    || v.starts_with("IMAGE_SCN_CNT_CODE") =>
            {
                cur.as_mut().unwrap().3 = true
            }
            "Sections/Section" if v == "}" => {
                let (va, vs, raw, exec) = cur.take().unwrap();
                sections.push(Section {
                    va,
                    size: vs.max(raw),
                    exec,
                });
            }
            _ => {}
        }
    }
    assert!(
        !sections.is_empty(),
        "{name}: no sections from llvm-readobj"
    );
    let kind_at = |rva: u64| -> &'static str {
        if sections
            .iter()
            .any(|s| s.exec && rva >= s.va && rva < s.va + s.size)
        {
            "function"
        } else {
            "data"
        }
    };

    // --- exports -----------------------------------------------------------------------------------------------
    let objdump_p = tool(&t.objdump, &["-p", p]);
    let mut forwards: std::collections::BTreeMap<u64, String> = Default::default();
    let mut dll_name = None;
    let mut in_exports = false;
    for l in objdump_p.lines() {
        if l.starts_with("Export Table:") {
            in_exports = true;
            continue;
        }
        if !in_exports {
            continue;
        }
        if let Some(n) = l.trim().strip_prefix("DLL name:") {
            dll_name = Some(n.trim().to_string());
            continue;
        }
        if let Some((head, fwd)) = l.split_once("(forwarded to ") {
            if let Some(ord) = head.split_whitespace().next().and_then(|o| o.parse().ok()) {
                forwards.insert(ord, fwd.trim_end_matches(')').to_string());
            }
        }
        if l.trim().is_empty() {
            in_exports = false;
        }
    }
    f.eq(
        &format!("{name}: export DLL name vs llvm-objdump -p"),
        summary["identity"]["name"].as_str().map(str::to_string),
        dll_name,
    );
    let ex = readobj_blocks(&tool(&t.readobj, &["--coff-exports", p]));
    let mut oracle_exports = Vec::new();
    let mut skipped_slots = 0;
    let mut entry: (Option<u64>, String, Option<u64>) = (None, String::new(), None);
    for (k, v) in &ex {
        match k.as_str() {
            "Export" if v == "{" => entry = (None, String::new(), None),
            "Export/Ordinal" => entry.0 = num(v),
            "Export/Name" => entry.1 = v.clone(),
            "Export/RVA" => entry.2 = num(v),
            "Export" if v == "}" => {
                let (ord, n, rva) = (entry.0.unwrap(), entry.1.clone(), entry.2.unwrap_or(0));
                if n.is_empty() && rva == 0 {
                    skipped_slots += 1;
                    continue;
                }
                let shown = if n.is_empty() {
                    "(no name)".to_string()
                } else {
                    n
                };
                match forwards.get(&ord) {
                    Some(fwd) => {
                        if !(rva >= export_dir.0 && rva < export_dir.0 + export_dir.1) {
                            f.fail(format!(
                                "{name}: forwarder @{ord} has RVA {rva:#x} outside the export directory {:#x}+{:#x}",
                                export_dir.0, export_dir.1
                            ));
                        }
                        oracle_exports.push(format!("@{ord} {shown} -> {fwd} kind=indirect"));
                    }
                    None => oracle_exports
                        .push(format!("@{ord} {shown} rva={rva:#x} kind={}", kind_at(rva))),
                }
            }
            _ => {}
        }
    }
    if skipped_slots > 0 {
        println!("{name}: {skipped_slots} unused export slots (RVA 0, no name) in llvm-readobj's list, not exports");
    }
    let our_exports: Vec<String> = exports
        .iter()
        .map(|e| {
            let ord = e["ordinal"].as_u64().unwrap();
            let n = match s(&e["name"]) {
                "" => "(no name)",
                n => n,
            };
            match e["forwarder"].as_str() {
                Some(fwd) => format!("@{ord} {n} -> {fwd} kind={}", s(&e["kind"])),
                None => format!(
                    "@{ord} {n} rva={:#x} kind={}",
                    e["address"].as_u64().unwrap(),
                    s(&e["kind"])
                ),
            }
        })
        .collect();
    f.same(
        &format!("{name}: exports vs llvm-readobj --coff-exports (+ llvm-objdump -p forwarders)"),
        our_exports,
        oracle_exports,
    );

    // --- imports -----------------------------------------------------------------------------------------------
    let im = readobj_blocks(&tool(&t.readobj, &["--coff-imports", p]));
    let mut oracle_imports = Vec::new();
    let mut oracle_dlls = Vec::new();
    let mut dll = String::new();
    for (k, v) in &im {
        let (delay, field) = match k.split_once('/') {
            Some(("Import", f)) => (false, f),
            Some(("DelayImport", f)) => (true, f.trim_start_matches("Import/")),
            _ => continue,
        };
        match field {
            "Name" => {
                dll = v.clone();
                oracle_dlls.push(format!(
                    "{dll} [{}]",
                    if delay { "delay-import" } else { "import" }
                ));
            }
            "Symbol" => {
                // `name (hint)` or ` (ordinal)`.
                let (n, number) = name_and_hex_dec(v);
                let what = if n.is_empty() {
                    format!("#{number}")
                } else {
                    format!("{n} hint={number}")
                };
                oracle_imports.push(format!("{dll} delay={delay} {what}"));
            }
            _ => {}
        }
    }
    let our_imports: Vec<String> = imports
        .iter()
        .map(|i| {
            let what = match (i["name"].as_str(), i["ordinal"].as_u64()) {
                (Some(n), _) => format!("{n} hint={}", i["hint"].as_u64().unwrap_or(u64::MAX)),
                (None, Some(o)) => format!("#{o}"),
                (None, None) => "?".into(),
            };
            format!(
                "{} delay={} {what}",
                s(&i["library"]),
                i["delay_load"].as_bool() == Some(true)
            )
        })
        .collect();
    f.same(
        &format!("{name}: imports vs llvm-readobj --coff-imports"),
        our_imports,
        oracle_imports,
    );
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

    // --- debug directory ---------------------------------------------------------------------------------------
    let dbg = readobj_blocks(&tool(&t.readobj, &["--coff-debug-directory", p]));
    let dget = |k: &str| {
        dbg.iter()
            .find(|(key, _)| key.ends_with(k))
            .map(|(_, v)| v.clone())
    };
    let oracle_pdb = dget("PDBInfo/PDBFileName").map(|path| {
        let guid_bytes: Vec<u8> = dget("PDBInfo/PDBGUID")
            .unwrap_or_default()
            .trim_matches(|c| c == '(' || c == ')')
            .split_whitespace()
            .filter_map(|b| u8::from_str_radix(b, 16).ok())
            .collect();
        (
            path,
            guid_from_bytes(&guid_bytes),
            dget("PDBInfo/PDBAge").and_then(|a| num(&a)),
        )
    });
    let our_pdb = pe["pdb"].as_object().map(|d| {
        (
            s(&d["path"]).to_string(),
            s(&d["guid"]).to_string(),
            d["age"].as_u64(),
        )
    });
    f.eq(
        &format!("{name}: CodeView PDB vs llvm-readobj --coff-debug-directory"),
        our_pdb,
        oracle_pdb,
    );
}

/// `name (123)` → (`name`, 123); ` (7)` → (``, 7). llvm-readobj prints hints and ordinals in decimal.
fn name_and_hex_dec(v: &str) -> (String, u64) {
    match v.rsplit_once('(') {
        Some((n, d)) => (
            n.trim().to_string(),
            d.trim_end_matches(')').trim().parse().unwrap_or(u64::MAX),
        ),
        None => (v.trim().to_string(), u64::MAX),
    }
}

/// The registry form of a GUID from its 16 bytes as stored (first three fields little-endian).
fn guid_from_bytes(g: &[u8]) -> String {
    if g.len() != 16 {
        return format!("<{} GUID bytes>", g.len());
    }
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02X}")).collect::<String>();
    let rev = |b: &[u8]| {
        let mut v = b.to_vec();
        v.reverse();
        hex(&v)
    };
    format!(
        "{}-{}-{}-{}-{}",
        rev(&g[0..4]),
        rev(&g[4..6]),
        rev(&g[6..8]),
        hex(&g[8..10]),
        hex(&g[10..16])
    )
}

#[test]
fn pe_fixtures_agree_with_llvm_readobj() {
    let Some(t) = tools() else { return };
    let mut f = Failures::new();
    for p in fixtures("pe") {
        check_file(&t, &p, &mut f);
    }
    f.finish("pe fixtures");
}

/// Real-world PE files: the mingw-w64 runtime DLLs this machine's cross compilers ship (libstdc++-6.dll has
/// thousands of Itanium-mangled exports), when present.
#[test]
fn mingw_runtime_dlls_agree_with_llvm_readobj() {
    let Some(t) = tools() else { return };
    let mut dlls: Vec<PathBuf> = Vec::new();
    for triple in ["x86_64-w64-mingw32", "i686-w64-mingw32"] {
        let mut stdcxx: Vec<PathBuf> = std::fs::read_dir(format!("/usr/lib/gcc/{triple}"))
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path().join("libstdc++-6.dll"))
            .filter(|p| p.is_file())
            .collect();
        stdcxx.sort();
        dlls.extend(stdcxx.into_iter().take(1));
        let pthread = PathBuf::from(format!("/usr/{triple}/lib/libwinpthread-1.dll"));
        if pthread.is_file() {
            dlls.push(pthread);
        }
    }
    if dlls.is_empty() {
        println!("skipped: no mingw-w64 runtime DLLs on this system");
        return;
    }
    let mut f = Failures::new();
    for p in &dlls {
        check_file(&t, p, &mut f);
    }
    f.finish("mingw runtime DLLs");
}

/// No fixture carries a CodeView record (the msvc64 ones are linked with /Brepro and no /debug), so build a tiny
/// DLL with one when clang and lld-link are available, and compare the PDB path, GUID and age with llvm-readobj.
#[test]
fn codeview_pdb_reference_agrees_with_llvm_readobj() {
    let Some(t) = tools() else { return };
    let (Some(clang), Some(lld_link)) = (find_tool("clang"), find_tool("lld-link")) else {
        println!(
            "skipped: clang or lld-link not found (needed to build a DLL with a CodeView record)"
        );
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("cv.c");
    std::fs::write(
        &src,
        "__declspec(dllexport) int cv_entry(int x) { return x + 1; }\n",
    )
    .unwrap();
    let obj = dir.path().join("cv.obj");
    let dll = dir.path().join("cv.dll");
    let st = std::process::Command::new(&clang)
        .args(["--target=x86_64-pc-windows-msvc", "-c"])
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .status()
        .unwrap();
    if !st.success() {
        println!("skipped: clang could not compile for x86_64-pc-windows-msvc");
        return;
    }
    let pdb = dir.path().join("cv.pdb");
    let st = std::process::Command::new(&lld_link)
        .args(["/dll", "/noentry", "/debug"])
        .arg(format!("/pdb:{}", pdb.display()))
        .arg(r"/pdbaltpath:C:\build\cv.pdb")
        .arg(format!("/out:{}", dll.display()))
        .arg(&obj)
        .status()
        .unwrap();
    assert!(st.success(), "lld-link failed");
    let mut f = Failures::new();
    check_file(&t, &dll, &mut f);
    let summary = inspect_images(&dll).remove(0);
    f.eq(
        "cv.dll: PDB path",
        summary["pe"]["pdb"]["path"].as_str(),
        Some(r"C:\build\cv.pdb"),
    );
    f.finish("CodeView DLL");
}

/// The README's promises about the PE fixtures, through the oracle too.
#[test]
fn pe_fixture_readme_facts_hold_in_llvm_readobj() {
    let Some(t) = tools() else { return };
    for fx in ["pe/msvc64/demo.dll", "pe/mingw64/demo_lld.dll"] {
        let p = testdata(fx);
        let imports = tool(&t.readobj, &["--coff-imports", p.to_str().unwrap()]);
        assert!(imports.contains("DelayImport {"), "{fx}: no delay import");
        assert!(
            imports.contains("Symbol:  (7)"),
            "{fx}: no import by ordinal 7"
        );
        let ours = ffi_json("imports", &[p.to_str().unwrap()]);
        let syms = symbols(&images(&ours)[0]);
        assert!(syms.iter().any(|i| i["delay_load"].as_bool() == Some(true)
            && s(&i["library"]) == "delayed.dll"
            && s(&i["name"]) == "delayed_func"));
        assert!(syms
            .iter()
            .any(|i| i["ordinal"].as_u64() == Some(7) && s(&i["library"]) == "ext.dll"));
    }
    let p = testdata("pe/mingw64/demo.dll");
    let ours = ffi_json("exports", &[p.to_str().unwrap()]);
    let syms = symbols(&images(&ours)[0]);
    let fwd: Vec<(&str, &str)> = syms
        .iter()
        .filter_map(|e| Some((s(&e["name"]), e["forwarder"].as_str()?)))
        .collect();
    assert!(fwd.contains(&("demo_alloc", "NTDLL.RtlAllocateHeap")));
    assert!(fwd.contains(&("demo_sleep", "KERNEL32.Sleep")));
    let secret = syms
        .iter()
        .find(|e| e["ordinal"].as_u64() == Some(42))
        .expect("@42");
    assert_eq!(s(&secret["name"]), "");
    // The lld-linked DLLs have ordinal base 0 with unused slots 0..41: those are not exports.
    let msvc = testdata("pe/msvc64/demo.dll");
    let ours = ffi_json("exports", &[msvc.to_str().unwrap()]);
    let syms = symbols(&images(&ours)[0]);
    assert!(syms.iter().all(|e| e["ordinal"].as_u64() >= Some(42)));
}

#[test]
fn bad_pe_inputs_exit_2_and_say_what_they_are() {
    check_bad_input("truncated.dll");
}

/// Human `inspect` output of a PE fixture: the key lines, machine and timestamp as llvm-readobj prints them.
#[test]
fn human_inspect_of_pe_shows_key_lines() {
    let dll = testdata("pe/msvc64/demo.dll");
    let out = inspect_human(&dll);
    assert_line(&out, &["format", "pe x86_64 64-bit little-endian"]);
    assert_line(&out, &["dll name", "demo.dll"]);
    assert_line(&out, &["needed", "ext.dll [import]"]);
    assert_line(&out, &["delayed.dll [delay-import]"]);
    assert_line(&out, &["api-ms-win-crt-stdio-l1-1-0.dll [import]"]);
    assert_line(&out, &["subsystem", "WINDOWS_GUI"]);
    let Some(t) = tools() else { return };
    let hdr = tool(&t.readobj, &["--file-headers", dll.to_str().unwrap()]);
    assert!(hdr.contains("IMAGE_FILE_MACHINE_AMD64 (0x8664)"));
    assert_line(&out, &["machine", "IMAGE_FILE_MACHINE_AMD64 (0x8664)"]);
    assert!(hdr.contains("(0x4B0F4FAB)"));
    assert_line(&out, &["timestamp", "0x4b0f4fab"]);
}
