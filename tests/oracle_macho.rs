//! Mach-O oracle tests: our `exports`, `imports` and `inspect` output against `llvm-nm`, `llvm-objdump --macho` and
//! `llvm-otool`, per slice (the universal fixture is checked slice by slice with `--arch`), on every fixture under
//! testdata/macho.
//!
//! What is compared, exactly (multiset equality, diff on failure):
//! - exports: `llvm-nm --extern-only --defined-only` names and letter class (the `S` letter resolved through the
//!   section `llvm-nm -m` names); `llvm-objdump --macho --exports-trie`: name, address, `[weak_def]`.
//! - imports: `llvm-nm --undefined-only -m`: name, weak, and the two-level library (`(from libSystem)`) or
//!   `(dynamically looked up)`; `llvm-objdump --macho --bind --lazy-bind`: the library of each bound import and
//!   which imports are lazily bound.
//! - `llvm-otool -L`: install name and dependent libraries with versions and kind (weak, reexport, upward).
//! - `llvm-otool -l`: LC_ID_DYLIB, every LC_*_DYLIB (kind and order), LC_RPATH, LC_BUILD_VERSION / LC_VERSION_MIN_*
//!   (platform, minos, sdk), LC_UUID, where exports come from, LC_DYLD_CHAINED_FIXUPS.
//! - `llvm-otool -hv`: file type, header flags, CPU type.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use serde_json::Value;

struct Tools {
    nm: PathBuf,
    objdump: PathBuf,
    otool: PathBuf,
}

fn tools() -> Option<Tools> {
    let [nm, objdump, otool] = oracles(["llvm-nm", "llvm-objdump", "llvm-otool"])?;
    Some(Tools { nm, objdump, otool })
}

/// llvm's short name for a dylib (`/usr/lib/libSystem.B.dylib` → `libSystem`, `@rpath/libdemo.dylib` → `libdemo`,
/// `…/Foo.framework/Versions/A/Foo` → `Foo`), as `llvm-nm -m` and `llvm-objdump --bind` print it.
fn short_name(install: &str) -> String {
    let base = install.rsplit('/').next().unwrap_or(install);
    let mut b = base;
    if !install.contains(".framework/") {
        b = b.strip_suffix(".dylib").unwrap_or(b);
    }
    for suffix in ["_debug", "_profile"] {
        b = b.strip_suffix(suffix).unwrap_or(b);
    }
    if let Some((head, tail)) = b.rsplit_once('.') {
        if tail.len() == 1 && !head.is_empty() {
            b = head;
        }
    }
    b.to_string()
}

/// Kind from the `(segment,section)` llvm-nm -m prints.
fn kind_of_section(sect: &str) -> &'static str {
    let name = sect
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .nth(1)
        .unwrap_or("");
    match name {
        "__text" | "__stubs" | "__stub_helper" | "__symbol_stub" | "__symbol_stub1"
        | "__picsymbolstub4" | "__StaticInit" | "__textcoal_nt" => "function",
        "__thread_vars" | "__thread_data" | "__thread_bss" => "tls",
        _ => "data",
    }
}

/// `llvm-nm -m` line of a defined symbol: (name, kind, weak).
fn parse_nm_m_defined(line: &str) -> Option<(String, String, bool)> {
    let mut toks = line.split_whitespace();
    let _addr = toks.next()?;
    let sect = toks.next()?;
    let rest: Vec<&str> = toks.collect();
    let (weak, rest) = match rest.first() {
        Some(&"weak") => (true, &rest[1..]),
        _ => (false, &rest[..]),
    };
    let rest = match rest.first() {
        Some(&"external") => &rest[1..],
        _ => rest,
    };
    let name = rest.join(" ");
    let kind = match sect {
        "(absolute)" => "absolute",
        "(indirect)" => "indirect",
        s => kind_of_section(s),
    };
    Some((name, kind.to_string(), weak))
}

/// `llvm-nm --undefined-only -m` line: "name from=<lib|dynamically looked up> weak=<bool>".
fn parse_nm_m_undefined(line: &str) -> Option<String> {
    let rest = line.trim().strip_prefix("(undefined)")?.trim();
    let (weak, rest) = match rest.strip_prefix("weak ") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let rest = rest.strip_prefix("external ").unwrap_or(rest);
    let (name, from) = if let Some((n, lib)) = rest.split_once(" (from ") {
        (n, lib.trim_end_matches(')').to_string())
    } else if let Some(n) = rest.strip_suffix(" (dynamically looked up)") {
        (n, "dynamically looked up".to_string())
    } else {
        (rest, "?".to_string())
    };
    Some(format!("{name} from={from} weak={weak}"))
}

/// The `llvm-otool -l` load commands: (cmd, key/value lines).
fn parse_load_commands(text: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut out: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut in_cmd = false;
    for line in text.lines() {
        let t = line.trim();
        if t.starts_with("Load command ") {
            in_cmd = true;
            continue;
        }
        if t == "Section" {
            in_cmd = false;
            continue;
        }
        if !in_cmd {
            continue;
        }
        let Some((k, v)) = t.split_once(' ') else {
            continue;
        };
        let (k, v) = (k.trim(), v.trim());
        if k == "cmd" {
            out.push((v.to_string(), Vec::new()));
        } else if let Some(last) = out.last_mut() {
            // `current version 2.1.0`, `compatibility version 2.0.0`: two-word keys.
            let (k, v) = match (k, v.strip_prefix("version ")) {
                ("current", Some(v)) => ("current_version", v),
                ("compatibility", Some(v)) => ("compatibility_version", v),
                _ => (k, v),
            };
            last.1.push((k.to_string(), v.to_string()));
        }
    }
    out
}

fn get<'a>(fields: &'a [(String, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

/// `name (offset 24)` → `name`.
fn strip_offset(v: &str) -> &str {
    match v.rfind(" (offset ") {
        Some(i) => &v[..i],
        None => v,
    }
}

fn check_slice(t: &Tools, path: &Path, universal: bool, img: &Value, f: &mut Failures) {
    let p = path.to_str().unwrap();
    let arch = s(&img["arch"]).to_string();
    let name = format!("{} [{arch}]", rel(path));
    let nm_arch = format!("--arch={arch}");
    let nm_args = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = extra.iter().map(|x| x.to_string()).collect();
        if universal {
            v.push(nm_arch.clone());
        }
        v.push(p.to_string());
        v
    };
    let run = |exe: &Path, args: Vec<String>| -> String {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        tool(exe, &a)
    };
    // llvm-otool 14 accepts `-arch NAME` but ignores it (it always dumps the host's slice of a universal file). When
    // it does, take the same dump from llvm-objdump, whose `--arch` works: `-l` = `--macho --private-headers`,
    // `-L` = `--macho --dylibs-used`, `-hv` = `--macho --private-header`.
    let otool_arch_ok = !universal || {
        let hv = run(
            &t.otool,
            vec!["-arch".into(), arch.clone(), "-hv".into(), p.to_string()],
        );
        hv.lines()
            .find(|l| l.trim_start().starts_with("MH_MAGIC"))
            .and_then(|l| l.split_whitespace().nth(1))
            .is_some_and(|c| c.eq_ignore_ascii_case(&arch))
    };
    if !otool_arch_ok {
        println!("{name}: llvm-otool ignores -arch {arch}; using llvm-objdump --macho --arch={arch} for -l/-L/-hv");
    }
    let otool = |flag: &str| -> String {
        if otool_arch_ok {
            let mut v = Vec::new();
            if universal {
                v.push("-arch".to_string());
                v.push(arch.clone());
            }
            v.push(flag.to_string());
            v.push(p.to_string());
            run(&t.otool, v)
        } else {
            let long = match flag {
                "-l" => "--private-headers",
                "-L" => "--dylibs-used",
                "-hv" => "--private-header",
                other => panic!("no llvm-objdump equivalent for llvm-otool {other}"),
            };
            run(&t.objdump, nm_args(&["--macho", long]))
        }
    };

    let ours_args = ["--no-demangle", "--arch", arch.as_str()];
    let mut a = vec![p];
    a.extend_from_slice(&ours_args);
    let ex_doc = ffi_json("exports", &a);
    let im_doc = ffi_json("imports", &a);
    assert_eq!(images(&ex_doc).len(), 1, "{name}: --arch picks one slice");
    let ex_img = &images(&ex_doc)[0];
    assert_eq!(s(&ex_img["arch"]), arch);
    assert_eq!(ex_img["file_offset"], img["file_offset"], "{name}");
    let exports = symbols(ex_img);
    let imports = symbols(&images(&im_doc)[0]);
    let macho = &img["macho"];

    // --- exports vs llvm-nm --extern-only --defined-only (+ -m for sections) ------------------------------------
    let nm_plain = run(&t.nm, nm_args(&["--extern-only", "--defined-only"]));
    let nm_m = run(&t.nm, nm_args(&["--extern-only", "--defined-only", "-m"]));
    let sections: std::collections::BTreeMap<String, (String, bool)> = nm_m
        .lines()
        .filter_map(parse_nm_m_defined)
        .map(|(n, k, w)| (n, (k, w)))
        .collect();
    let nm_exports: Vec<String> = nm_plain
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let _addr = it.next()?;
            let letter = it.next()?;
            let n = it.collect::<Vec<_>>().join(" ");
            let class = match letter {
                "T" => "function".to_string(),
                "D" | "B" => "data".to_string(),
                "A" => "absolute".to_string(),
                "I" => "indirect".to_string(),
                // Any other section: the section name says what it holds.
                "S" => sections
                    .get(&n)
                    .map(|(k, _)| k.clone())
                    .unwrap_or_else(|| "S?".into()),
                other => format!("nm-letter-{other}"),
            };
            Some(format!("{n} {class}"))
        })
        .collect();
    let our_nm: Vec<String> = exports
        .iter()
        // TLV descriptors live in __thread_vars (letter S, resolved to tls through the section name).
        .map(|e| format!("{} {}", s(&e["name"]), s(&e["kind"])))
        .collect();
    f.same(
        &format!("{name}: exports (name + kind) vs llvm-nm --extern-only --defined-only"),
        our_nm,
        nm_exports,
    );
    let nm_weak: Vec<String> = sections
        .iter()
        .filter(|(_, (_, w))| *w)
        .map(|(n, _)| n.clone())
        .collect();
    let our_weak: Vec<String> = exports
        .iter()
        .filter(|e| e["weak_definition"].as_bool() == Some(true))
        .map(|e| s(&e["name"]).to_string())
        .collect();
    f.same(
        &format!("{name}: weak definitions vs llvm-nm -m (weak external)"),
        our_weak,
        nm_weak,
    );

    // --- exports vs llvm-objdump --macho --exports-trie --------------------------------------------------------
    let trie = run(&t.objdump, nm_args(&["--macho", "--exports-trie"]));
    let trie_exports: Vec<String> = trie
        .lines()
        .filter(|l| l.starts_with("0x"))
        .map(|l| {
            let toks: Vec<&str> = l.split_whitespace().collect();
            let addr = hexnum(toks[0]).unwrap_or(u64::MAX);
            let flags = toks[2..].join(" ");
            format!(
                "{} addr={addr:#x} weak_def={} resolver={}",
                toks[1],
                flags.contains("[weak_def]"),
                flags.contains("[resolver")
            )
        })
        .collect();
    if s(&macho["exports_source"]) != "symtab" {
        let ours_trie: Vec<String> = exports
            .iter()
            .map(|e| {
                format!(
                    "{} addr={:#x} weak_def={} resolver={}",
                    s(&e["name"]),
                    e["address"].as_u64().unwrap(),
                    e["weak_definition"].as_bool() == Some(true),
                    e["resolver"].as_bool() == Some(true)
                )
            })
            .collect();
        f.same(
            &format!(
                "{name}: exports (name, address, flags) vs llvm-objdump --macho --exports-trie"
            ),
            ours_trie,
            trie_exports,
        );
    }

    // --- imports vs llvm-nm --undefined-only -m ----------------------------------------------------------------
    let nm_undef = run(&t.nm, nm_args(&["--undefined-only", "-m"]));
    let oracle_imports: Vec<String> = nm_undef.lines().filter_map(parse_nm_m_undefined).collect();
    let lib_of = |i: &Value| -> String {
        match s(&i["lookup"]) {
            "library" => short_name(s(&i["library"])),
            "flat" => "dynamically looked up".into(),
            "self-image" => "self".into(),
            "executable" => "executable".into(),
            other => format!("lookup {other}"),
        }
    };
    let our_imports: Vec<String> = imports
        .iter()
        .map(|i| {
            format!(
                "{} from={} weak={}",
                s(&i["name"]),
                lib_of(i),
                i["weak"].as_bool() == Some(true)
            )
        })
        .collect();
    f.same(
        &format!("{name}: imports (name, library, weak) vs llvm-nm --undefined-only -m"),
        our_imports,
        oracle_imports,
    );

    // --- imports vs llvm-objdump --macho --bind --lazy-bind ----------------------------------------------------
    let binds = run(
        &t.objdump,
        nm_args(&["--macho", "--bind", "--lazy-bind", "--weak-bind"]),
    );
    let mut table = "";
    let mut bound: Vec<String> = Vec::new();
    let mut lazy: Vec<String> = Vec::new();
    for line in binds.lines() {
        match line.trim() {
            "Bind table:" => table = "bind",
            "Lazy bind table:" => table = "lazy",
            "Weak bind table:" => table = "weak",
            _ => {}
        }
        let toks: Vec<&str> = line.split_whitespace().collect();
        if toks.first().is_some_and(|t| t.starts_with("segment")) {
            continue;
        }
        match table {
            // segment section address type addend dylib symbol [flags]
            "bind" if toks.len() >= 7 => {
                bound.push(format!("{} from={}", toks[6], toks[5]));
            }
            // segment section address dylib symbol
            "lazy" if toks.len() >= 5 => {
                bound.push(format!("{} from={}", toks[4], toks[3]));
                lazy.push(toks[4].to_string());
            }
            _ => {}
        }
    }
    bound.sort();
    bound.dedup();
    // The bind tables list only what is really bound (an undefined `dyld_stub_binder` nothing refers to is in the
    // symbol table but in no table): compare the library of every import the tables name.
    let in_tables: std::collections::BTreeSet<&str> = bound
        .iter()
        .filter_map(|b| b.split(" from=").next())
        .collect();
    let mut our_bound: Vec<String> = imports
        .iter()
        .filter(|i| in_tables.contains(s(&i["name"])))
        .map(|i| {
            let lib = match lib_of(i).as_str() {
                "dynamically looked up" => "flat-namespace".to_string(),
                other => other.to_string(),
            };
            format!("{} from={lib}", s(&i["name"]))
        })
        .collect();
    our_bound.sort();
    our_bound.dedup();
    f.same(
        &format!("{name}: import libraries vs llvm-objdump --macho --bind --lazy-bind"),
        our_bound,
        bound,
    );
    // With chained fixups there are no lazy-bind opcodes and we record no laziness.
    if macho["chained_fixups"].as_bool() != Some(true) {
        let our_lazy: Vec<String> = imports
            .iter()
            .filter(|i| i["lazy"].as_bool() == Some(true))
            .map(|i| s(&i["name"]).to_string())
            .collect();
        lazy.sort();
        lazy.dedup();
        f.same(
            &format!("{name}: lazily bound imports vs llvm-objdump --macho --lazy-bind"),
            our_lazy,
            lazy,
        );
    }

    // --- llvm-otool -L -----------------------------------------------------------------------------------------
    let dash_l = otool("-L");
    let oracle_deps: Vec<String> = dash_l
        .lines()
        .filter(|l| l.starts_with('\t'))
        .map(|l| l.trim().to_string())
        .collect();
    let mut our_deps = Vec::new();
    if let Some(id) = img["identity"].as_object() {
        our_deps.push(format!(
            "{} (compatibility version {}, current version {})",
            s(&id["name"]),
            s(&id["compatibility_version"]),
            s(&id["current_version"])
        ));
    }
    for n in img["needed"].as_array().unwrap() {
        let kind = match s(&n["kind"]) {
            "load" => "",
            "weak" => ", weak",
            "reexport" => ", reexport",
            "upward" => ", upward",
            "lazy" => ", lazy",
            other => other,
        };
        our_deps.push(format!(
            "{} (compatibility version {}, current version {}{kind})",
            s(&n["name"]),
            s(&n["compatibility_version"]),
            s(&n["current_version"])
        ));
    }
    f.eq(
        &format!("{name}: install name + dependencies vs llvm-otool -L"),
        our_deps,
        oracle_deps,
    );

    // --- llvm-otool -l -----------------------------------------------------------------------------------------
    let cmds = parse_load_commands(&otool("-l"));
    let mut id = None;
    let mut deps = Vec::new();
    let mut rpaths = Vec::new();
    let mut platforms = Vec::new();
    let mut uuid = None;
    let mut exports_source = "symtab".to_string();
    let mut chained = false;
    for (cmd, fields) in &cmds {
        match cmd.as_str() {
            "LC_ID_DYLIB" => {
                id = Some(format!(
                    "{} current {} compatibility {}",
                    strip_offset(get(fields, "name")),
                    get(fields, "current_version"),
                    get(fields, "compatibility_version")
                ))
            }
            "LC_LOAD_DYLIB"
            | "LC_LOAD_WEAK_DYLIB"
            | "LC_REEXPORT_DYLIB"
            | "LC_LOAD_UPWARD_DYLIB"
            | "LC_LAZY_LOAD_DYLIB" => {
                let kind = match cmd.as_str() {
                    "LC_LOAD_DYLIB" => "load",
                    "LC_LOAD_WEAK_DYLIB" => "weak",
                    "LC_REEXPORT_DYLIB" => "reexport",
                    "LC_LOAD_UPWARD_DYLIB" => "upward",
                    _ => "lazy",
                };
                deps.push(format!(
                    "{} [{kind}] current {} compatibility {}",
                    strip_offset(get(fields, "name")),
                    get(fields, "current_version"),
                    get(fields, "compatibility_version")
                ));
            }
            "LC_RPATH" => rpaths.push(strip_offset(get(fields, "path")).to_string()),
            "LC_BUILD_VERSION" => platforms.push(format!(
                "{} min {} sdk {} (LC_BUILD_VERSION)",
                get(fields, "platform"),
                get(fields, "minos"),
                get(fields, "sdk")
            )),
            "LC_VERSION_MIN_MACOSX"
            | "LC_VERSION_MIN_IPHONEOS"
            | "LC_VERSION_MIN_TVOS"
            | "LC_VERSION_MIN_WATCHOS" => {
                let plat = match cmd.as_str() {
                    "LC_VERSION_MIN_MACOSX" => "macos",
                    "LC_VERSION_MIN_IPHONEOS" => "ios",
                    "LC_VERSION_MIN_TVOS" => "tvos",
                    _ => "watchos",
                };
                platforms.push(format!(
                    "{plat} min {} sdk {} ({cmd})",
                    get(fields, "version"),
                    get(fields, "sdk")
                ));
            }
            "LC_UUID" => uuid = Some(get(fields, "uuid").to_string()),
            "LC_DYLD_INFO" | "LC_DYLD_INFO_ONLY" | "LC_DYLD_EXPORTS_TRIE" => {
                exports_source = cmd.clone()
            }
            "LC_DYLD_CHAINED_FIXUPS" => chained = true,
            _ => {}
        }
    }
    assert!(
        !cmds.is_empty(),
        "{name}: llvm-otool -l printed no load commands"
    );
    let our_id = img["identity"].as_object().map(|i| {
        format!(
            "{} current {} compatibility {}",
            s(&i["name"]),
            s(&i["current_version"]),
            s(&i["compatibility_version"])
        )
    });
    f.eq(&format!("{name}: LC_ID_DYLIB vs llvm-otool -l"), our_id, id);
    let our_needed: Vec<String> = img["needed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            format!(
                "{} [{}] current {} compatibility {}",
                s(&n["name"]),
                s(&n["kind"]),
                s(&n["current_version"]),
                s(&n["compatibility_version"])
            )
        })
        .collect();
    f.eq(
        &format!("{name}: LC_*_DYLIB vs llvm-otool -l"),
        our_needed,
        deps,
    );
    f.eq(
        &format!("{name}: LC_RPATH vs llvm-otool -l"),
        strs(&img["rpath"]),
        rpaths,
    );
    let our_platforms: Vec<String> = macho["platforms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            format!(
                "{} min {} sdk {} ({})",
                s(&p["platform"]),
                s(&p["minos"]),
                s(&p["sdk"]),
                s(&p["source"])
            )
        })
        .collect();
    f.eq(
        &format!("{name}: LC_BUILD_VERSION / LC_VERSION_MIN_* vs llvm-otool -l"),
        our_platforms,
        platforms,
    );
    f.eq(
        &format!("{name}: LC_UUID vs llvm-otool -l"),
        macho["uuid"].as_str().map(str::to_string),
        uuid,
    );
    f.eq(
        &format!("{name}: export source vs llvm-otool -l"),
        s(&macho["exports_source"]).to_string(),
        exports_source,
    );
    f.eq(
        &format!("{name}: LC_DYLD_CHAINED_FIXUPS vs llvm-otool -l"),
        macho["chained_fixups"].as_bool(),
        Some(chained),
    );

    // --- llvm-otool -hv ----------------------------------------------------------------------------------------
    let hv = otool("-hv");
    let hline = hv
        .lines()
        .find(|l| l.trim_start().starts_with("MH_MAGIC"))
        .unwrap_or_else(|| panic!("{name}: no header line in llvm-otool -hv:\n{hv}"));
    let toks: Vec<&str> = hline.split_whitespace().collect();
    // magic cputype cpusubtype caps filetype ncmds sizeofcmds flags...
    f.eq(
        &format!("{name}: cputype vs llvm-otool -hv"),
        arch.to_ascii_uppercase(),
        toks[1].to_string(),
    );
    f.eq(
        &format!("{name}: filetype vs llvm-otool -hv"),
        s(&macho["filetype"]).to_string(),
        format!("MH_{}", toks[4]),
    );
    f.same(
        &format!("{name}: header flags vs llvm-otool -hv"),
        strs(&macho["flags"]),
        toks[7..].iter().map(|x| x.to_string()),
    );
    f.eq(
        &format!("{name}: two-level namespace vs llvm-otool -hv"),
        macho["two_level_namespace"].as_bool(),
        Some(toks[7..].contains(&"TWOLEVEL")),
    );
}

fn check_file(t: &Tools, path: &Path, f: &mut Failures) {
    let p = path.to_str().unwrap();
    let doc = ffi_json("inspect", &[p]);
    let file = &doc["files"][0];
    let universal = file["universal"].as_bool() == Some(true);
    let imgs = file["images"].as_array().expect("images");
    if universal {
        // The slice list itself: llvm-otool -f names the architectures and offsets of the fat header.
        let fat = tool(&t.otool, &["-f", p]);
        let mut oracle_slices = Vec::new();
        let mut cur_arch = String::new();
        for l in fat.lines() {
            let l = l.trim();
            if let Some(c) = l.strip_prefix("cputype ") {
                cur_arch = match c.trim() {
                    "16777223" => "x86_64".into(),
                    "16777228" => "arm64".into(),
                    "7" => "i386".into(),
                    other => format!("cputype {other}"),
                };
            } else if let Some(o) = l.strip_prefix("offset ") {
                oracle_slices.push(format!("{cur_arch}@{}", o.trim()));
            }
        }
        let ours: Vec<String> = imgs
            .iter()
            .map(|i| format!("{}@{}", s(&i["arch"]), i["file_offset"]))
            .collect();
        f.same(
            &format!("{}: universal slices vs llvm-otool -f", rel(path)),
            ours,
            oracle_slices,
        );
    } else {
        assert_eq!(imgs.len(), 1);
    }
    for img in imgs {
        check_slice(t, path, universal, img, f);
    }
}

#[test]
fn macho_fixtures_agree_with_llvm_nm_objdump_and_otool() {
    let Some(t) = tools() else { return };
    let mut f = Failures::new();
    for p in fixtures("macho") {
        check_file(&t, &p, &mut f);
    }
    f.finish("macho fixtures");
}

#[test]
fn short_names_follow_llvm() {
    assert_eq!(short_name("/usr/lib/libSystem.B.dylib"), "libSystem");
    assert_eq!(short_name("@rpath/libdemo.dylib"), "libdemo");
    assert_eq!(
        short_name("/System/Library/Frameworks/Foo.framework/Versions/A/Foo"),
        "Foo"
    );
}

/// The README's promises about the Mach-O fixtures, checked through the oracle too, so a wrongly rebuilt fixture
/// is caught rather than silently agreed with.
#[test]
fn macho_fixture_readme_facts_hold_in_otool() {
    let Some(t) = tools() else { return };
    let rp = testdata("macho/arm64/librpath.dylib");
    let l = tool(&t.otool, &["-l", rp.to_str().unwrap()]);
    for want in [
        "LC_LOAD_WEAK_DYLIB",
        "LC_REEXPORT_DYLIB",
        "@loader_path/../lib",
        "/opt/demo/lib",
    ] {
        assert!(l.contains(want), "llvm-otool -l lacks {want}");
    }
    let demo = testdata("macho/x86_64/libdemo.dylib");
    let im = ffi_json("imports", &[demo.to_str().unwrap()]);
    let syms = symbols(&images(&im)[0]);
    let ext = syms
        .iter()
        .find(|i| s(&i["name"]) == "_ext_helper")
        .expect("_ext_helper import");
    assert_eq!(s(&ext["lookup"]), "flat");
    let puts = syms
        .iter()
        .find(|i| s(&i["name"]) == "_puts")
        .expect("_puts import");
    assert_eq!(s(&puts["library"]), "/usr/lib/libSystem.B.dylib");
}

#[test]
fn bad_macho_like_inputs_exit_2_and_say_what_they_are() {
    for f in ["badmagic.dylib", "libSystem.tbd"] {
        check_bad_input(f);
    }
}

/// Human `inspect` output of the universal fixture: one table per slice with the key lines.
#[test]
fn human_inspect_of_universal_macho_shows_key_lines() {
    let out = inspect_human(&testdata("macho/fat/libdemo.dylib"));
    assert_line(&out, &["libdemo.dylib", "universal: 2 slices"]);
    assert_line(&out, &["format", "macho x86_64 64-bit little-endian"]);
    assert_line(&out, &["format", "macho arm64 64-bit little-endian"]);
    assert_line(&out, &["slice offset", "0x1000"]);
    assert_line(&out, &["slice offset", "0x8000"]);
    assert_line(
        &out,
        &[
            "install name",
            "@rpath/libdemo.dylib (current 2.1.0, compatibility 2.0.0)",
        ],
    );
    assert_line(&out, &["needed", "/usr/lib/libSystem.B.dylib [load]"]);
    assert_line(
        &out,
        &["platform", "macos min 11.0 sdk 11.0 (LC_BUILD_VERSION)"],
    );
    assert_line(&out, &["(flat namespace): 1"]);
    assert_eq!(out.matches("install name").count(), 2, "{out}");
    let rp = inspect_human(&testdata("macho/arm64/librpath.dylib"));
    assert_line(&rp, &["@rpath/libext.dylib [weak]"]);
    assert_line(&rp, &["/usr/lib/libreexp.dylib [reexport]"]);
    assert_line(&rp, &["LC_RPATH", "@loader_path/../lib"]);
}
