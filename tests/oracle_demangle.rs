//! Demangling oracle tests: the `demangled` field of our `exports`/`imports` JSON against `llvm-cxxfilt` (Itanium,
//! Rust legacy, Rust v0) and `llvm-undname` (MSVC; llvm-cxxfilt 14 leaves `?` names alone), on every fixture and on
//! real libraries (libstdc++, the largest libLLVM, libpython3, the mingw-w64 libstdc++-6.dll).
//!
//! Normalisations, all applied to our side only and all listed here:
//! - Itanium integer template arguments: cpp_demangle writes `(unsigned int)4`, llvm-cxxfilt `4u` (likewise `l`,
//!   `ul`, `ll`, `ull` for long, unsigned long, long long, unsigned long long). Same value, same type: spelling only.
//! - Rust legacy names: llvm-cxxfilt demangles them as plain Itanium (`demo::add::h0123456789abcdef`, `$LT$`
//!   escapes left in). Its output is turned into rustc-demangle's alternate form by the Rust legacy rules: drop the
//!   trailing `::h<16 hex>` element and decode the `$…$` / `..` escapes.
//!
//! Everything else must be identical. On the fixtures any disagreement fails. On the big system libraries every
//! disagreement is printed with counts per category (and all pairs written to the target tmp dir); the default
//! test fails only where llvm-cxxfilt demangles a name and we do not, and the strict test (ignored by default,
//! `cargo test -- --ignored`) fails on any disagreement: cpp_demangle 0.5.1 has known defects there (empty template
//! packs printed as `, >`, dropped or mis-qualified parameters in pack expansions, GNU-style lambda names,
//! `std::basic_istream<…>` where llvm prints `std::istream`).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::*;

/// One mangled name as we report it.
#[derive(Debug, Clone)]
struct Named {
    mangling: String,
    c_name: String,
    ours: Option<String>,
}

/// Every mangled export and import of every image of `path`, with our demangling.
fn collect(path: &Path) -> Vec<Named> {
    let p = path.to_str().unwrap();
    let mut out = Vec::new();
    for cmd in ["exports", "imports"] {
        let doc = ffi_json(cmd, &[p]);
        for img in images(&doc) {
            for sym in symbols(img) {
                let mangling = s(&sym["mangling"]);
                if mangling == "c" {
                    continue;
                }
                let Some(c_name) = sym["c_name"].as_str() else {
                    continue;
                };
                out.push(Named {
                    mangling: mangling.to_string(),
                    c_name: c_name.to_string(),
                    ours: sym["demangled"].as_str().map(str::to_string),
                });
            }
        }
    }
    out
}

/// `(unsigned int)4` → `4u` and friends (see the module docs).
fn normalise_int_literals(s: &str) -> String {
    const TYPES: [(&str, &str); 5] = [
        ("(unsigned long long)", "ull"),
        ("(unsigned long)", "ul"),
        ("(unsigned int)", "u"),
        ("(long long)", "ll"),
        ("(long)", "l"),
    ];
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    'outer: while !rest.is_empty() {
        for (ty, suffix) in TYPES {
            if let Some(after) = rest.strip_prefix(ty) {
                let digits = after
                    .char_indices()
                    .take_while(|(i, c)| c.is_ascii_digit() || (*i == 0 && *c == '-'))
                    .count();
                if digits > 0 && after[..digits].chars().any(|c| c.is_ascii_digit()) {
                    out.push_str(&after[..digits]);
                    out.push_str(suffix);
                    rest = &after[digits..];
                    continue 'outer;
                }
            }
        }
        let c = rest.chars().next().unwrap();
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// llvm-cxxfilt's Itanium reading of a Rust legacy name → rustc-demangle's alternate form (see the module docs).
fn rust_legacy_from_itanium(s: &str) -> String {
    let mut s = s.to_string();
    if let Some(pos) = s.rfind("::h") {
        let hash = &s[pos + 3..];
        if hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            s.truncate(pos);
        }
    }
    // Path elements starting with `_$` have the `_` only to make them identifiers.
    let s = s.replace("::_$", "::$");
    let s = s.strip_prefix("_$").map(|r| format!("${r}")).unwrap_or(s);
    let mut out = String::new();
    let mut rest = s.as_str();
    while let Some(c) = rest.chars().next() {
        if c == '$' {
            if let Some(end) = rest[1..].find('$') {
                let code = &rest[1..1 + end];
                let rep = match code {
                    "SP" => Some("@".to_string()),
                    "BP" => Some("*".into()),
                    "RF" => Some("&".into()),
                    "LT" => Some("<".into()),
                    "GT" => Some(">".into()),
                    "LP" => Some("(".into()),
                    "RP" => Some(")".into()),
                    "C" => Some(",".into()),
                    _ => code
                        .strip_prefix('u')
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                        .and_then(char::from_u32)
                        .map(|c| c.to_string()),
                };
                if let Some(rep) = rep {
                    out.push_str(&rep);
                    rest = &rest[end + 2..];
                    continue;
                }
            }
        }
        if rest.starts_with("..") {
            out.push_str("::");
            rest = &rest[2..];
            continue;
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// What kind of disagreement a pair is, for the report.
fn category(name: &str, ours: Option<&str>, oracle: &str) -> &'static str {
    let Some(ours) = ours else {
        return "we do not demangle a name llvm-cxxfilt demangles";
    };
    if oracle == name {
        return "llvm-cxxfilt 14 cannot demangle (e.g. _ZGTt transaction clones)";
    }
    let fix_packs = |s: &str| {
        s.replace(", >", ">")
            .replace("<, ", "<")
            .replace(", )", ")")
    };
    if fix_packs(ours) == oracle {
        return "cpp_demangle prints an empty template pack as `, >`";
    }
    if ours.contains("{lambda(") && oracle.contains("'lambda") {
        return "lambda notation: `{lambda(…)#N}` (GNU) vs `'lambda'(…)` (LLVM)";
    }
    if [
        "std::istream",
        "std::ostream",
        "std::iostream",
        "std::string",
    ]
    .iter()
    .any(|a| oracle.contains(a) && !ours.contains(a))
    {
        return "std:: abbreviation: llvm prints std::istream/ostream/iostream/string";
    }
    "other (parameters or qualifiers differ)"
}

#[derive(Default)]
struct Report {
    compared: usize,
    /// category → (name, ours, oracle)
    diffs: BTreeMap<&'static str, Vec<(String, String, String)>>,
}

impl Report {
    fn total(&self) -> usize {
        self.diffs.values().map(Vec::len).sum()
    }

    fn text(&self, what: &str, max_per_category: usize) -> String {
        let mut s = format!(
            "{what}: {} mangled names compared, {} disagree\n",
            self.compared,
            self.total()
        );
        for (cat, pairs) in &self.diffs {
            s.push_str(&format!("  [{}] {cat}\n", pairs.len()));
            for (n, ours, oracle) in pairs.iter().take(max_per_category) {
                s.push_str(&format!(
                    "      {n}\n        ours:   {ours}\n        oracle: {oracle}\n"
                ));
            }
            if pairs.len() > max_per_category {
                s.push_str(&format!(
                    "      … and {} more\n",
                    pairs.len() - max_per_category
                ));
            }
        }
        s
    }
}

/// Compare every mangled name of `names` with the oracles. Swift names: we have no Swift demangler and must say so
/// (no `demangled`); they are not compared.
fn compare(names: &[Named], cxxfilt: &Path, undname: Option<&Path>) -> Report {
    let mut r = Report::default();
    let mut by_name: BTreeMap<&str, (&str, Option<&str>)> = BTreeMap::new();
    for n in names {
        by_name.insert(&n.c_name, (&n.mangling, n.ours.as_deref()));
    }
    let itanium_like: Vec<&str> = by_name
        .iter()
        .filter(|(_, (m, _))| matches!(*m, "itanium" | "rust-legacy" | "rust-v0"))
        .map(|(n, _)| *n)
        .collect();
    let out = tool_filter(cxxfilt, &["-n"], &itanium_like);
    assert_eq!(out.len(), itanium_like.len(), "llvm-cxxfilt output lines");
    for (name, oracle) in itanium_like.iter().zip(&out) {
        let (mangling, ours) = by_name[name];
        r.compared += 1;
        let (ours_cmp, oracle_cmp) = match mangling {
            "itanium" => (ours.map(normalise_int_literals), oracle.clone()),
            "rust-legacy" => (ours.map(str::to_string), rust_legacy_from_itanium(oracle)),
            _ => (ours.map(str::to_string), oracle.clone()),
        };
        let agree = match &ours_cmp {
            Some(o) => *o == oracle_cmp,
            // Neither side demangles it.
            None => oracle == name,
        };
        if !agree {
            let cat = category(name, ours_cmp.as_deref(), &oracle_cmp);
            r.diffs.entry(cat).or_default().push((
                name.to_string(),
                ours.unwrap_or("(not demangled)").to_string(),
                oracle.clone(),
            ));
        }
    }
    let msvc: Vec<&str> = by_name
        .iter()
        .filter(|(_, (m, _))| *m == "msvc")
        .map(|(n, _)| *n)
        .collect();
    if !msvc.is_empty() {
        match undname {
            None => println!(
                "{} MSVC names not compared: llvm-undname not found",
                msvc.len()
            ),
            Some(undname) => {
                // llvm-undname echoes each name, prints the demangling on the next line, then a blank line.
                let lines = tool_filter(undname, &[], &msvc);
                let mut it = lines.iter();
                for name in &msvc {
                    let oracle = loop {
                        match it.next() {
                            Some(l) if l == name => break it.next().cloned().unwrap_or_default(),
                            Some(_) => continue,
                            None => break String::from("(no output)"),
                        }
                    };
                    let (_, ours) = by_name[name];
                    r.compared += 1;
                    if ours != Some(oracle.as_str()) {
                        let cat = if ours.is_none() {
                            "we do not demangle a name llvm-undname demangles"
                        } else {
                            "MSVC: differs from llvm-undname"
                        };
                        r.diffs.entry(cat).or_default().push((
                            name.to_string(),
                            ours.unwrap_or("(not demangled)").to_string(),
                            oracle,
                        ));
                    }
                }
            }
        }
    }
    for n in names.iter().filter(|n| n.mangling == "swift") {
        assert!(
            n.ours.is_none(),
            "{}: a Swift name got a demangling although we have no Swift demangler",
            n.c_name
        );
    }
    r
}

fn tools() -> Option<(PathBuf, Option<PathBuf>)> {
    let cxxfilt = oracle("llvm-cxxfilt")?;
    // llvm-undname is only needed for MSVC names (the msvc64 fixtures).
    let undname = oracle("llvm-undname");
    Some((cxxfilt, undname))
}

#[test]
fn fixture_demangling_agrees_with_llvm_cxxfilt_and_undname() {
    let Some((cxxfilt, undname)) = tools() else {
        return;
    };
    let mut names = Vec::new();
    for dir in ["elf", "macho", "pe"] {
        for p in fixtures(dir) {
            names.extend(collect(&p));
        }
    }
    // The fixtures cover every scheme we demangle.
    for m in ["itanium", "rust-legacy", "rust-v0", "msvc", "swift"] {
        assert!(
            names.iter().any(|n| n.mangling == m),
            "no {m} name among the fixtures"
        );
    }
    let r = compare(&names, &cxxfilt, undname.as_deref());
    println!("{}", r.text("fixtures", usize::MAX));
    assert!(r.compared > 40, "only {} names compared", r.compared);
    assert_eq!(r.total(), 0, "{}", r.text("fixtures", usize::MAX));
}

fn system_targets() -> Vec<PathBuf> {
    let mut libs = Vec::new();
    if let Some(p) = system_lib("libstdc++.so.6", |n| n == "libstdc++.so.6") {
        libs.push(p);
    }
    if let Some(p) = system_lib("libpython3*.so.1.0", is_libpython) {
        libs.push(p);
    }
    if let Some(p) = largest_libllvm() {
        libs.push(p);
    }
    let mingw: Vec<PathBuf> = std::fs::read_dir("/usr/lib/gcc/x86_64-w64-mingw32")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("libstdc++-6.dll"))
        .filter(|p| p.is_file())
        .collect();
    match mingw.into_iter().min() {
        Some(p) => libs.push(p),
        None => println!("skipped: mingw-w64 libstdc++-6.dll not found on this system"),
    }
    libs
}

/// Compare each system library; write every disagreement to the target tmp dir; return the reports.
fn system_reports() -> Option<Vec<(String, Report)>> {
    let (cxxfilt, undname) = tools()?;
    let mut reports = Vec::new();
    for lib in system_targets() {
        let names = collect(&lib);
        let r = compare(&names, &cxxfilt, undname.as_deref());
        let label = lib.display().to_string();
        let file = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "demangle-disagreements-{}.txt",
            lib.file_name().unwrap().to_string_lossy()
        ));
        let _ = std::fs::write(&file, r.text(&label, usize::MAX));
        println!("{}", r.text(&label, 5));
        if r.total() > 0 {
            println!("  all {} pairs: {}", r.total(), file.display());
        }
        reports.push((label, r));
    }
    Some(reports)
}

/// Runs by default: prints every disagreement (counts per category, samples, and the full list in a file), and
/// fails where llvm-cxxfilt/llvm-undname demangle a name we leave mangled.
#[test]
fn system_library_demangling_is_reported_against_llvm_cxxfilt() {
    let Some(reports) = system_reports() else {
        return;
    };
    let mut missing = Vec::new();
    for (label, r) in &reports {
        for (cat, pairs) in &r.diffs {
            if cat.starts_with("we do not demangle") {
                missing.push(format!("{label}: {} names: {cat}", pairs.len()));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

/// The strict version: any disagreement with llvm-cxxfilt fails. Ignored by default because cpp_demangle 0.5.1
/// (the Itanium demangler this crate uses) disagrees on real libraries in ways that are not cosmetic; run it with
/// `cargo test --test oracle_demangle -- --ignored` to see them.
#[test]
#[ignore = "cpp_demangle 0.5.1 disagrees with llvm-cxxfilt on libstdc++/libLLVM (see the printed report)"]
fn system_library_demangling_agrees_with_llvm_cxxfilt_strict() {
    let Some(reports) = system_reports() else {
        return;
    };
    let bad: Vec<String> = reports
        .iter()
        .filter(|(_, r)| r.total() > 0)
        .map(|(l, r)| r.text(l, 3))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn normalisations_do_what_the_docs_say() {
    assert_eq!(
        normalise_int_literals(
            "llvm::SmallSet<T, (unsigned int)4, (long)-2, (unsigned long long)7>"
        ),
        "llvm::SmallSet<T, 4u, -2l, 7ull>"
    );
    assert_eq!(normalise_int_literals("f(long)"), "f(long)");
    assert_eq!(
        rust_legacy_from_itanium("demo_rust::add::h0123456789abcdef"),
        "demo_rust::add"
    );
    assert_eq!(
        rust_legacy_from_itanium(
            "_$LT$rust_legacy..inner..Thing$u20$as$u20$core..fmt..Display$GT$::fmt::h0123456789abcdef"
        ),
        "<rust_legacy::inner::Thing as core::fmt::Display>::fmt"
    );
}
