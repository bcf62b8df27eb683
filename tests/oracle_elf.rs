//! ELF oracle tests: our `exports`, `imports` and `inspect` output against `llvm-nm -D` and binutils `readelf`,
//! on every fixture under testdata/elf and on real libraries of this machine (libz, libstdc++, libpython3,
//! the largest libLLVM).
//!
//! What is compared, exactly (multiset equality, diff on failure):
//! - exports: `llvm-nm -D --defined-only` names (with `@@VER`/`@VER`) and letter class; `readelf --dyn-syms -W`
//!   defined global/weak/unique symbols of default or protected visibility: versioned name, value, size, type
//!   (→ kind), binding.
//! - imports: `readelf --dyn-syms -W` undefined symbols: name, required version and the `verneed` file that must
//!   provide it (from `readelf -V`), type (→ kind), weak binding.
//! - `readelf -d`: SONAME, NEEDED (in order), RPATH, RUNPATH, FLAGS, FLAGS_1.
//! - `readelf -V`: verdef (index, name, BASE flag, parents), verneed (file and versions, in order).
//! - `readelf -n`: build-id; `readelf --debug-dump=links`: .gnu_debuglink file and CRC; `readelf -S`: DWARF section
//!   names and `.symtab` presence; `readelf -h -l`: class, OS/ABI, machine, type, interpreter.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

struct Tools {
    nm: PathBuf,
    readelf: PathBuf,
}

fn tools() -> Option<Tools> {
    let [nm, readelf] = oracles(["llvm-nm", "readelf"])?;
    Some(Tools { nm, readelf })
}

/// One `.dynsym` entry as readelf prints it.
#[derive(Debug, Clone)]
struct RSym {
    /// Name with readelf's version suffix (`name@@VER`, `name@VER`).
    vname: String,
    /// The `(n)` version index readelf prints after undefined versioned symbols.
    vidx: Option<u16>,
    value: u64,
    size: u64,
    ty: String,
    bind: String,
    vis: String,
    ndx: String,
}

fn parse_dynsyms(text: &str) -> Vec<RSym> {
    let mut out = Vec::new();
    let mut in_dynsym = false;
    for line in text.lines() {
        if line.starts_with("Symbol table '") {
            in_dynsym = line.contains("'.dynsym'");
            continue;
        }
        if !in_dynsym {
            continue;
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.len() < 7 || !toks[0].ends_with(':') || toks[0] == "Num:" {
            continue;
        }
        let mut i = 6;
        // Architecture annotations after the visibility: `[VARIANT_PCS]`, `[<localentry>: 8]`.
        if toks[i].starts_with('[') {
            while i < toks.len() && !toks[i].ends_with(']') {
                i += 1;
            }
            i += 1;
        }
        let Some(&ndx) = toks.get(i) else { continue };
        let mut rest: Vec<&str> = toks[i + 1..].to_vec();
        let mut vidx = None;
        if let Some(last) = rest.last() {
            if let Some(n) = last
                .strip_prefix('(')
                .and_then(|l| l.strip_suffix(')'))
                .and_then(|n| n.parse().ok())
            {
                vidx = Some(n);
                rest.pop();
            }
        }
        out.push(RSym {
            vname: rest.join(" "),
            vidx,
            value: hexnum(toks[1]).expect("readelf value"),
            size: num(toks[2]).expect("readelf size"),
            ty: toks[3].to_string(),
            bind: toks[4].to_string(),
            vis: toks[5].to_string(),
            ndx: ndx.to_string(),
        });
    }
    out
}

/// readelf's symbol type (and section index) as our kind.
fn kind_of_readelf(ty: &str, ndx: &str) -> String {
    if ndx == "ABS" {
        return "absolute".into();
    }
    match ty {
        "FUNC" | "IFUNC" => "function",
        "OBJECT" | "COMMON" => "data",
        "TLS" => "tls",
        "NOTYPE" => "unknown",
        other => return format!("readelf-type-{other}"),
    }
    .into()
}

fn binding_of_readelf(bind: &str) -> &str {
    match bind {
        "GLOBAL" => "global",
        "WEAK" => "weak",
        "UNIQUE" => "unique",
        other => other,
    }
}

/// The class of an llvm-nm letter: what it says about kind and binding.
fn nm_class(letter: &str) -> String {
    match letter {
        "T" | "t" => "function",
        "i" => "ifunc",
        "D" | "d" | "B" | "b" | "R" | "r" => "data",
        // A symbol in a non-SHF_ALLOC section (Rust's `.rustc` metadata, an STT_OBJECT): still data.
        "N" | "n" => "data",
        "V" | "v" => "weak-object",
        "W" | "w" => "weak",
        "A" | "a" => "absolute",
        "u" => "unique",
        other => return format!("nm-letter-{other}"),
    }
    .into()
}

/// The llvm-nm letter class our kind and binding imply. llvm-nm checks binding first (weak: `V` for STT_OBJECT, else
/// `W`; `u` for STB_GNU_UNIQUE), then `i` for STT_GNU_IFUNC, `A` for SHN_ABS, and otherwise the section flags
/// (exec → `T`, else `D`/`B`/`R`). `unknown` (STT_NOTYPE) has no class of its own: it is resolved from readelf's
/// section index by the caller.
fn our_nm_class(sym: &Value) -> String {
    let kind = s(&sym["kind"]);
    match s(&sym["binding"]) {
        "weak" if kind == "data" => return "weak-object".into(),
        "weak" => return "weak".into(),
        "unique" => return "unique".into(),
        _ => {}
    }
    if sym["resolver"].as_bool() == Some(true) {
        return "ifunc".into();
    }
    match kind {
        "function" => "function",
        "data" | "tls" => "data",
        "absolute" => "absolute",
        other => return format!("ours-{other}"),
    }
    .into()
}

fn parse_nm(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let first = it.next()?;
            // Defined symbols: VALUE LETTER NAME; undefined: LETTER NAME.
            let (letter, name) = if first.len() == 1 {
                (first, it.collect::<Vec<_>>().join(" "))
            } else {
                (it.next()?, it.collect::<Vec<_>>().join(" "))
            };
            Some((name, letter.to_string()))
        })
        .collect()
}

#[derive(Default, Debug)]
struct Dynamic {
    soname: Option<String>,
    needed: Vec<String>,
    rpath: Vec<String>,
    runpath: Vec<String>,
    flags: Vec<String>,
    flags_1: Vec<String>,
}

fn bracketed(line: &str) -> String {
    let a = line.find('[').map(|i| i + 1).unwrap_or(0);
    let b = line.rfind(']').unwrap_or(line.len());
    line[a..b].to_string()
}

fn parse_dynamic(text: &str) -> Dynamic {
    let mut d = Dynamic::default();
    for line in text.lines() {
        let after = |tag: &str| line.split_once(tag).map(|(_, r)| r.trim().to_string());
        if line.contains("(SONAME)") {
            d.soname = Some(bracketed(line));
        } else if line.contains("(NEEDED)") {
            d.needed.push(bracketed(line));
        } else if line.contains("(RPATH)") {
            d.rpath
                .extend(bracketed(line).split(':').map(str::to_string));
        } else if line.contains("(RUNPATH)") {
            d.runpath
                .extend(bracketed(line).split(':').map(str::to_string));
        } else if let Some(r) = after("(FLAGS)") {
            d.flags.extend(r.split_whitespace().map(str::to_string));
        } else if let Some(r) = after("(FLAGS_1)") {
            let r = r.strip_prefix("Flags:").unwrap_or(&r).to_string();
            d.flags_1.extend(r.split_whitespace().map(str::to_string));
        }
    }
    d
}

#[derive(Default, Debug)]
struct Versions {
    /// "index name [BASE] parents…"
    defs: Vec<String>,
    /// (file, versions in file order, (index → version name))
    needs: Vec<(String, Vec<String>)>,
    need_index: BTreeMap<u16, (String, String)>,
}

fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let (_, rest) = line.split_once(key)?;
    rest.split_whitespace().next()
}

fn parse_versions(text: &str) -> Versions {
    let mut v = Versions::default();
    #[derive(PartialEq)]
    enum Sec {
        None,
        Def,
        Need,
    }
    let mut sec = Sec::None;
    for line in text.lines() {
        if line.starts_with("Version definition section") {
            sec = Sec::Def;
            continue;
        }
        if line.starts_with("Version needs section") {
            sec = Sec::Need;
            continue;
        }
        if line.starts_with("Version symbols section") {
            sec = Sec::None;
            continue;
        }
        match sec {
            Sec::Def => {
                if line.contains("Rev:") {
                    let idx = field(line, "Index:").unwrap_or("?");
                    let name = line.split_once("Name:").map(|x| x.1.trim()).unwrap_or("");
                    let base = field(line, "Flags:") == Some("BASE");
                    v.defs
                        .push(format!("{idx} {name}{}", if base { " [BASE]" } else { "" }));
                } else if let Some((_, parent)) = line.split_once("Parent ") {
                    let name = parent.split_once(':').map(|x| x.1.trim()).unwrap_or("");
                    if let Some(last) = v.defs.last_mut() {
                        last.push_str(&format!(" <- {name}"));
                    }
                }
            }
            Sec::Need => {
                if line.contains("File:") {
                    let file = line.split_once("File:").unwrap().1;
                    let file = file.split("Cnt:").next().unwrap().trim().to_string();
                    v.needs.push((file, Vec::new()));
                } else if line.contains("Name:") && line.contains("Version:") {
                    let name = field(line, "Name:").unwrap_or("").to_string();
                    let idx: u16 = field(line, "Version:")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(0);
                    let (file, list) = v.needs.last_mut().expect("verneed entry before aux");
                    list.push(name.clone());
                    v.need_index.insert(idx, (name, file.clone()));
                }
            }
            Sec::None => {}
        }
    }
    v
}

fn check_file(t: &Tools, path: &Path, f: &mut Failures) {
    let p = path.to_str().unwrap();
    let name = rel(path);

    // --- our side ---------------------------------------------------------------------------------------------
    let ex_doc = ffi_json("exports", &[p, "--no-demangle"]);
    let im_doc = ffi_json("imports", &[p, "--no-demangle"]);
    let ex_imgs = images(&ex_doc);
    let im_imgs = images(&im_doc);
    assert_eq!(ex_imgs.len(), 1, "{name}: one ELF image");
    assert_eq!(s(&ex_imgs[0]["format"]), "elf", "{name}");
    let exports = symbols(&ex_imgs[0]);
    let imports = symbols(&im_imgs[0]);
    let summary = inspect_images(path).remove(0);
    let elf = &summary["elf"];

    // --- readelf --dyn-syms ----------------------------------------------------------------------------------
    let dynsyms = parse_dynsyms(&tool(&t.readelf, &["--dyn-syms", "-W", p]));
    let versions = parse_versions(&tool(&t.readelf, &["-V", "-W", p]));
    let mut hidden_defined: Vec<String> = Vec::new();
    let mut oracle_exports = Vec::new();
    let mut oracle_imports = Vec::new();
    let mut readelf_kind: BTreeMap<String, String> = BTreeMap::new();
    for r in &dynsyms {
        if r.bind == "LOCAL" || r.vname.is_empty() {
            continue;
        }
        if r.ndx == "UND" {
            let base = r.vname.split('@').next().unwrap_or("").to_string();
            let (ver, from) = match r.vidx.and_then(|i| versions.need_index.get(&i)) {
                Some((v, file)) => (format!("@{v}"), file.clone()),
                None => (String::new(), "(global scope)".to_string()),
            };
            oracle_imports.push(format!(
                "{base}{ver} from {from} kind={} weak={}",
                kind_of_readelf(&r.ty, &r.ndx),
                r.bind == "WEAK"
            ));
            continue;
        }
        if r.vis == "HIDDEN" || r.vis == "INTERNAL" {
            hidden_defined.push(r.vname.clone());
            continue;
        }
        readelf_kind.insert(r.vname.clone(), kind_of_readelf(&r.ty, &r.ndx));
        oracle_exports.push(format!(
            "{} value={:#x} size={} kind={} bind={}",
            r.vname,
            r.value,
            r.size,
            kind_of_readelf(&r.ty, &r.ndx),
            binding_of_readelf(&r.bind)
        ));
    }
    // readelf (binutils 2.40) prints the version-definition symbols themselves (SHN_ABS `ZLIB_1.2.9` whose version
    // is `ZLIB_1.2.9`) without the `@@ZLIB_1.2.9` suffix that llvm-nm prints; compare those by plain name here (the
    // llvm-nm comparison below keeps the suffix).
    let readelf_name = |e: &Value| -> String {
        let plain = s(&e["name"]);
        if s(&e["kind"]) == "absolute" && s(&e["version"]["name"]) == plain {
            plain.to_string()
        } else {
            versioned_name(e)
        }
    };
    let our_exports: Vec<String> = exports
        .iter()
        .map(|e| {
            format!(
                "{} value={:#x} size={} kind={} bind={}",
                readelf_name(e),
                e["address"].as_u64().unwrap(),
                e["size"].as_u64().unwrap_or(0),
                s(&e["kind"]),
                s(&e["binding"])
            )
        })
        .collect();
    f.same(
        &format!(
            "{name}: exports vs readelf --dyn-syms -W (defined, default/protected visibility)"
        ),
        our_exports,
        oracle_exports,
    );
    let our_imports: Vec<String> = imports
        .iter()
        .map(|i| {
            let (ver, from) = match (i.get("version"), s(&i["lookup"])) {
                (Some(v), "library") if v.is_object() => {
                    (format!("@{}", s(&v["name"])), s(&i["library"]).to_string())
                }
                (_, "global-scope") => (String::new(), "(global scope)".to_string()),
                (_, other) => (String::new(), format!("(lookup {other})")),
            };
            format!(
                "{}{ver} from {from} kind={} weak={}",
                s(&i["name"]),
                s(&i["kind"]),
                i["weak"].as_bool().unwrap_or(false)
            )
        })
        .collect();
    f.same(
        &format!(
            "{name}: imports vs readelf --dyn-syms -W (undefined) + readelf -V (verneed files)"
        ),
        our_imports,
        oracle_imports,
    );

    // --- llvm-nm -D --defined-only ----------------------------------------------------------------------------
    let nm = parse_nm(&tool(&t.nm, &["-D", "--defined-only", p]));
    // llvm-nm 14 prints `name@@VER` / `name@VER` for versioned dynamic symbols; older llvm-nm prints bare names. Only
    // when this llvm-nm printed no version at all although readelf shows versioned exports, compare bare names.
    let nm_has_versions = nm.iter().any(|(n, _)| n.contains('@'));
    let readelf_has_versions = readelf_kind.keys().any(|n| n.contains('@'));
    let bare_names = readelf_has_versions && !nm_has_versions;
    if bare_names {
        println!("{name}: this llvm-nm prints no symbol versions; comparing bare names with it");
    }
    let nm_exports: Vec<String> = nm
        .iter()
        .filter(|(n, _)| !hidden_defined.contains(n))
        .map(|(n, l)| format!("{n} {}", nm_class(l)))
        .collect();
    // STT_NOTYPE exports: llvm-nm's letter comes from the section (T for exec, D/B/R otherwise), which says nothing
    // about the symbol's own type; take the class the nm letter has for it when readelf agrees the symbol has no type.
    let nm_letter: BTreeMap<&str, &str> =
        nm.iter().map(|(n, l)| (n.as_str(), l.as_str())).collect();
    let mut notype = 0usize;
    let our_nm: Vec<String> = exports
        .iter()
        .map(|e| {
            let vn = versioned_name(e);
            let mut class = our_nm_class(e);
            if class == "ours-unknown"
                && readelf_kind.get(&vn).map(String::as_str) == Some("unknown")
            {
                if let Some(l) = nm_letter.get(vn.as_str()) {
                    let c = nm_class(l);
                    if c == "function" || c == "data" {
                        notype += 1;
                        class = c;
                    }
                }
            }
            if bare_names {
                format!("{} {class}", s(&e["name"]))
            } else {
                format!("{vn} {class}")
            }
        })
        .collect();
    if notype > 0 {
        println!("{name}: {notype} STT_NOTYPE exports took llvm-nm's section-derived letter class");
    }
    f.same(
        &format!("{name}: exports (versioned name + letter class) vs llvm-nm -D --defined-only"),
        our_nm,
        nm_exports,
    );

    // --- readelf -d --------------------------------------------------------------------------------------------
    let d = parse_dynamic(&tool(&t.readelf, &["-d", "-W", p]));
    f.eq(
        &format!("{name}: soname vs readelf -d"),
        summary["identity"]["name"].as_str().map(str::to_string),
        d.soname.clone(),
    );
    let needed: Vec<String> = summary["needed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            assert_eq!(s(&n["kind"]), "needed");
            s(&n["name"]).to_string()
        })
        .collect();
    f.eq(
        &format!("{name}: DT_NEEDED vs readelf -d"),
        needed,
        d.needed,
    );
    f.eq(
        &format!("{name}: DT_RPATH vs readelf -d"),
        strs(&summary["rpath"]),
        d.rpath,
    );
    f.eq(
        &format!("{name}: DT_RUNPATH vs readelf -d"),
        strs(&summary["runpath"]),
        d.runpath,
    );
    f.same(
        &format!("{name}: DT_FLAGS vs readelf -d"),
        strs(&elf["flags"]),
        d.flags,
    );
    f.same(
        &format!("{name}: DT_FLAGS_1 vs readelf -d"),
        strs(&elf["flags_1"]),
        d.flags_1,
    );

    // --- readelf -V --------------------------------------------------------------------------------------------
    let our_defs: Vec<String> = elf["versions_defined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            let mut x = format!(
                "{} {}{}",
                v["index"],
                s(&v["name"]),
                if v["base"].as_bool() == Some(true) {
                    " [BASE]"
                } else {
                    ""
                }
            );
            for p in strs(&v["parents"]) {
                x.push_str(&format!(" <- {p}"));
            }
            x
        })
        .collect();
    f.eq(
        &format!("{name}: verdef vs readelf -V"),
        our_defs,
        versions.defs.clone(),
    );
    let our_needs: Vec<(String, Vec<String>)> = elf["versions_required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (s(&v["file"]).to_string(), strs(&v["versions"])))
        .collect();
    f.eq(
        &format!("{name}: verneed vs readelf -V"),
        our_needs,
        versions.needs.clone(),
    );

    // --- readelf -n, --debug-dump=links, -S, -h, -l ------------------------------------------------------------
    let notes = tool(&t.readelf, &["-n", "-W", p]);
    let build_id = notes
        .lines()
        .find_map(|l| l.split_once("Build ID:"))
        .map(|(_, id)| id.trim().to_string());
    f.eq(
        &format!("{name}: build-id vs readelf -n"),
        elf["build_id"].as_str().map(str::to_string),
        build_id,
    );
    let links = tool(&t.readelf, &["--debug-dump=links", "-W", p]);
    let link_file = links
        .lines()
        .find_map(|l| l.trim().strip_prefix("Separate debug info file:"))
        .map(|s| s.trim().to_string());
    let link_crc = links
        .lines()
        .find_map(|l| l.trim().strip_prefix("CRC value:"))
        .and_then(hexnum)
        .map(|c| format!("{c:08x}"));
    f.eq(
        &format!("{name}: .gnu_debuglink vs readelf --debug-dump=links"),
        (
            elf["debuglink"]["file"].as_str().map(str::to_string),
            elf["debuglink"]["crc32"].as_str().map(str::to_string),
        ),
        (link_file, link_crc),
    );
    let sections = tool(&t.readelf, &["-S", "-W", p]);
    let mut dwarf = Vec::new();
    let mut has_symtab = false;
    for l in sections.lines() {
        let Some((head, rest)) = l.split_once(']') else {
            continue;
        };
        if !head.trim_start().starts_with('[') || head.contains("Nr") {
            continue;
        }
        let toks: Vec<&str> = rest.split_whitespace().collect();
        if toks.len() < 2 {
            continue;
        }
        if toks[1] == "SYMTAB" {
            has_symtab = true;
        }
        if toks[0].starts_with(".debug_") || toks[0].starts_with(".zdebug_") {
            dwarf.push(toks[0].to_string());
        }
    }
    f.eq(
        &format!("{name}: DWARF sections vs readelf -S"),
        strs(&elf["dwarf_sections"]),
        dwarf,
    );
    f.eq(
        &format!("{name}: .symtab presence vs readelf -S"),
        elf["has_symtab"].as_bool(),
        Some(has_symtab),
    );
    let hdr = tool(&t.readelf, &["-h", "-l", "-W", p]);
    let hfield = |k: &str| {
        hdr.lines()
            .find_map(|l| l.trim().strip_prefix(k).map(|v| v.trim().to_string()))
            .unwrap_or_default()
    };
    let bits = match hfield("Class:").as_str() {
        "ELF64" => 64,
        "ELF32" => 32,
        _ => 0,
    };
    f.eq(
        &format!("{name}: class vs readelf -h"),
        summary["bits"].as_u64(),
        Some(bits),
    );
    let os_abi = match hfield("OS/ABI:").as_str() {
        "UNIX - System V" => "SYSV".to_string(),
        "UNIX - GNU" => "GNU".to_string(),
        other => other.to_string(),
    };
    f.eq(
        &format!("{name}: OS/ABI vs readelf -h"),
        s(&elf["os_abi"]).to_string(),
        os_abi,
    );
    let arch = match hfield("Machine:").as_str() {
        "Advanced Micro Devices X86-64" => "x86_64".to_string(),
        "Intel 80386" => "i386".to_string(),
        "AArch64" => "aarch64".to_string(),
        other => format!("readelf machine {other}"),
    };
    f.eq(
        &format!("{name}: machine vs readelf -h"),
        s(&summary["arch"]).to_string(),
        arch,
    );
    let ty = hfield("Type:");
    let kind = if ty.starts_with("DYN (Shared object") {
        "shared-library"
    } else if ty.starts_with("DYN (Position-Independent Executable") {
        "pie-executable"
    } else if ty.starts_with("EXEC") {
        "executable"
    } else {
        "other"
    };
    f.eq(
        &format!("{name}: file type vs readelf -h"),
        s(&summary["kind"]),
        kind,
    );
    let interp = hdr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("[Requesting program interpreter:")
                .and_then(|r| r.strip_suffix(']'))
        })
        .map(|s| s.trim().to_string());
    f.eq(
        &format!("{name}: PT_INTERP vs readelf -l"),
        elf["interpreter"].as_str().map(str::to_string),
        interp,
    );

    // Sanity: the summary's counts are the listings' lengths.
    f.eq(
        &format!("{name}: inspect export count = exports listing"),
        summary["exports"]["total"].as_u64(),
        Some(exports.len() as u64),
    );
    f.eq(
        &format!("{name}: inspect import count = imports listing"),
        summary["imports"]["total"].as_u64(),
        Some(imports.len() as u64),
    );
}

fn check_files(test: &str, files: &[PathBuf]) {
    let Some(t) = tools() else { return };
    let mut f = Failures::new();
    for p in files {
        check_file(&t, p, &mut f);
    }
    f.finish(test);
}

#[test]
fn elf_fixtures_x86_64_agree_with_readelf_and_llvm_nm() {
    let files: Vec<PathBuf> = fixtures("elf")
        .into_iter()
        .filter(|p| p.parent().unwrap().ends_with("x86_64"))
        .collect();
    check_files("elf fixtures (x86_64)", &files);
}

#[test]
fn elf_fixtures_other_arches_agree_with_readelf_and_llvm_nm() {
    let files: Vec<PathBuf> = fixtures("elf")
        .into_iter()
        .filter(|p| !p.parent().unwrap().ends_with("x86_64"))
        .collect();
    assert!(!files.is_empty());
    check_files("elf fixtures (i386, aarch64)", &files);
}

#[test]
fn system_libz_agrees_with_readelf_and_llvm_nm() {
    let Some(lib) = system_lib("libz.so.1", |n| n == "libz.so.1") else {
        return;
    };
    check_files("system libz.so.1", &[lib]);
}

#[test]
fn system_libstdcxx_agrees_with_readelf_and_llvm_nm() {
    let Some(lib) = system_lib("libstdc++.so.6", |n| n == "libstdc++.so.6") else {
        return;
    };
    check_files("system libstdc++.so.6", &[lib]);
}

#[test]
fn system_libpython_agrees_with_readelf_and_llvm_nm() {
    let Some(lib) = system_lib("libpython3*.so.1.0", is_libpython) else {
        return;
    };
    check_files("system libpython3", &[lib]);
}

#[test]
fn system_libllvm_agrees_with_readelf_and_llvm_nm() {
    let Some(lib) = largest_libllvm() else { return };
    check_files("system libLLVM (largest)", &[lib]);
}

/// The fixture facts the README promises, checked against readelf too (so a fixture rebuilt wrongly is caught
/// here, not silently accepted by the generic comparison).
#[test]
fn elf_fixture_readme_facts_hold_in_readelf() {
    let Some(t) = tools() else { return };
    let lib = testdata("elf/x86_64/libdemo.so");
    let p = lib.to_str().unwrap();
    let syms = tool(&t.readelf, &["--dyn-syms", "-W", p]);
    for want in [
        "demo_compat@DEMO_1.0",
        "demo_compat@@DEMO_2.0",
        "demo_new_in_2@@DEMO_2.0",
        "puts@GLIBC_2.2.5",
        "__tls_get_addr@GLIBC_2.3",
    ] {
        assert!(
            syms.split_whitespace().any(|w| w == want),
            "readelf lacks {want}"
        );
    }
    let ex = ffi_json("exports", &[p]);
    let names: Vec<String> = symbols(&images(&ex)[0])
        .iter()
        .map(versioned_name)
        .collect();
    assert!(names.contains(&"demo_compat@DEMO_1.0".to_string()));
    assert!(names.contains(&"demo_compat@@DEMO_2.0".to_string()));
    assert!(!names.iter().any(|n| n.contains("demo_internal_helper")));
    let tls = symbols(&images(&ex)[0])
        .iter()
        .find(|e| s(&e["name"]) == "demo_tls_counter")
        .expect("demo_tls_counter");
    assert_eq!(s(&tls["kind"]), "tls");
}

/// testdata/bad: every file there is listed (with what its message must say) in common::BAD_INPUTS.
#[test]
fn every_bad_input_is_covered() {
    let listed: Vec<String> = BAD_INPUTS.iter().map(|(n, _)| n.to_string()).collect();
    let present: Vec<String> = fixtures("bad")
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    if let Some(d) = diff_multisets(listed, present) {
        panic!("common::BAD_INPUTS vs the files in testdata/bad:\n{d}");
    }
}

#[test]
fn bad_elf_like_inputs_exit_2_and_say_what_they_are() {
    for f in [
        "empty.so",
        "truncated.so",
        "notelf.so",
        "libc_ldscript.so",
        "libstatic.a",
    ] {
        check_bad_input(f);
    }
}

/// Human `inspect` output: the key lines, with values taken from readelf where it has them.
#[test]
fn human_inspect_of_elf_shows_key_lines() {
    let lib = testdata("elf/x86_64/libdemo.so");
    let out = inspect_human(&lib);
    assert_line(&out, &["libdemo.so", "bytes)"]);
    assert_line(&out, &["format", "elf x86_64 64-bit little-endian"]);
    assert_line(&out, &["kind", "shared-library"]);
    assert_line(&out, &["soname", "libdemo.so"]);
    assert_line(&out, &["needed", "libext.so.1 [needed]"]);
    assert_line(
        &out,
        &[
            "versions defined",
            "libdemo.so (base)",
            "DEMO_1.0",
            "DEMO_2.0",
        ],
    );
    assert_line(&out, &["versions required", "libc.so.6"]);
    assert_line(&out, &["debug info", ".debug_info"]);
    let Some(t) = tools() else { return };
    let notes = tool(&t.readelf, &["-n", "-W", lib.to_str().unwrap()]);
    let id = notes
        .split_once("Build ID:")
        .map(|(_, r)| r.split_whitespace().next().unwrap_or("").to_string())
        .expect("readelf build id");
    assert_line(&out, &["build-id", &id]);
    let exe = inspect_human(&testdata("elf/x86_64/demo_exe"));
    assert_line(&exe, &["kind", "pie-executable"]);
    assert_line(&exe, &["DT_RUNPATH", "$ORIGIN"]);
    assert_line(&exe, &["interpreter", "/lib64/ld-linux-x86-64.so.2"]);
    assert_line(&exe, &["DT_FLAGS_1", "PIE"]);
}
