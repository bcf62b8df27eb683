//! The demanglers on names no compiler wrote: real mangled names of libstdc++ and of the mingw-w64 libstdc++-6.dll
//! (Itanium) and of an MSVC-built DLL fixture (MSVC), mutated by a deterministic xorshift mutator (byte changes
//! within the mangling alphabet, truncations, duplicated and deleted chunks, splices of two names, long runs of one
//! nesting production). Each mutant is demangled in-process on a thread with the default 2 MiB stack, and must give
//! exactly what llvm-cxxfilt (Itanium) or llvm-undname (MSVC) gives: the same text, or no demangling where the
//! oracle rejects the name. The mutants stay within the limits of `names::demangle` (hostile depth, exponential
//! output), which the oracles do not have; the shapes beyond them are unit tests of that module.

mod common;

use std::path::PathBuf;

use common::*;
use ffi_doctor::binary::names::demangle;

/// Mutants per scheme (`FFI_DOCTOR_DEMANGLE_MUTANTS` overrides).
const DEFAULT_MUTANTS: usize = 20_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutants(
    seeds: &[String],
    prefix: &str,
    alphabet: &[u8],
    runs: &[&str],
    count: usize,
) -> Vec<String> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut out = Vec::with_capacity(count);
    while out.len() < count {
        let mut b = seeds[rng.below(seeds.len())].as_bytes().to_vec();
        for _ in 0..1 + rng.below(3) {
            let len = b.len().max(1);
            match rng.below(6) {
                0 => {
                    let at = rng.below(len);
                    if at < b.len() {
                        b[at] = alphabet[rng.below(alphabet.len())];
                    }
                }
                1 => b.truncate(rng.below(len) + 1),
                2 => {
                    let (from, n) = (rng.below(len), 1 + rng.below(12));
                    let chunk: Vec<u8> = b.iter().skip(from).take(n).copied().collect();
                    let at = rng.below(len);
                    b.splice(at.min(b.len())..at.min(b.len()), chunk);
                }
                3 => {
                    let from = rng.below(len).min(b.len());
                    let to = (from + 1 + rng.below(8)).min(b.len());
                    b.drain(from..to);
                }
                4 => {
                    let other = seeds[rng.below(seeds.len())].as_bytes();
                    let cut = rng.below(len).min(b.len());
                    b.truncate(cut);
                    b.extend_from_slice(&other[rng.below(other.len()).min(other.len())..]);
                }
                _ => {
                    let run = runs[rng.below(runs.len())];
                    let at = rng.below(len).min(b.len());
                    let n = 1 + rng.below(40);
                    b.splice(at..at, run.repeat(n).into_bytes());
                }
            }
        }
        if !b.starts_with(prefix.as_bytes()) {
            continue;
        }
        out.push(String::from_utf8(b).expect("the mutation alphabet is ASCII"));
    }
    out.sort();
    out.dedup();
    out
}

fn mutant_count() -> usize {
    std::env::var("FFI_DOCTOR_DEMANGLE_MUTANTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_MUTANTS)
}

/// Mangled export names of a file, by scheme.
fn exported(path: &std::path::Path, scheme: &str) -> Vec<String> {
    let doc = ffi_json("exports", &["--no-demangle", path.to_str().unwrap()]);
    let mut v = Vec::new();
    for img in images(&doc) {
        for sym in symbols(img) {
            if s(&sym["mangling"]) == scheme {
                if let Some(n) = sym["c_name"].as_str() {
                    v.push(n.to_string());
                }
            }
        }
    }
    v
}

/// Ours for every name, on a thread with the default stack size of spawned threads (2 MiB).
fn ours(names: Vec<String>, f: fn(&str) -> Option<String>) -> Vec<(String, Option<String>)> {
    std::thread::spawn(move || {
        names
            .into_iter()
            .map(|n| {
                let d = f(&n);
                (n, d)
            })
            .collect()
    })
    .join()
    .expect("demangling thread")
}

fn report(what: &str, bad: &[(String, String, String)], results: &[(String, Option<String>)]) {
    let compared = results.len();
    let valid = results.iter().filter(|(_, d)| d.is_some()).count();
    println!(
        "{what}: {compared} mutants compared ({valid} still valid manglings), {} disagree",
        bad.len()
    );
    for (n, o, r) in bad.iter().take(10) {
        println!("  {n}\n    ours:   {o}\n    oracle: {r}");
    }
    assert!(
        bad.is_empty(),
        "{what}: {} of {compared} mutants disagree with the oracle",
        bad.len()
    );
}

#[test]
fn itanium_mutants_agree_with_llvm_cxxfilt() {
    if demangle::ENGINE != "llvm" {
        println!(
            "skipped: built with the {} stand-in (see tests/oracle_demangle.rs)",
            demangle::ENGINE
        );
        return;
    }
    let Some(cxxfilt) = oracle("llvm-cxxfilt") else {
        return;
    };
    let mut seeds: Vec<String> = Vec::new();
    let libs: Vec<PathBuf> = system_libs(|n| n == "libstdc++.so.6");
    match libs.first() {
        Some(p) => seeds.extend(exported(p, "itanium")),
        None => println!("skipped: libstdc++.so.6 not found; fixtures only"),
    }
    for dir in ["elf", "macho", "pe"] {
        for p in fixtures(dir) {
            seeds.extend(exported(&p, "itanium"));
        }
    }
    assert!(seeds.len() > 10, "too few Itanium seed names");
    let alphabet = b"_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.$";
    let runs = [
        "P", "I", "E", "S_", "T_", "Dp", "N1a", "1aI", "Z1fE", "St", "L", "_",
    ];
    let names = mutants(&seeds, "_Z", alphabet, &runs, mutant_count());
    let results = ours(names, demangle::itanium);
    let lines: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    let oracle = tool_filter(&cxxfilt, &["-n"], &lines);
    assert_eq!(oracle.len(), lines.len(), "llvm-cxxfilt output lines");
    let mut bad = Vec::new();
    for ((name, d), o) in results.iter().zip(&oracle) {
        let agree = match d {
            Some(d) => d == o,
            None => o == name,
        };
        if !agree {
            bad.push((
                name.clone(),
                d.clone().unwrap_or("(not demangled)".into()),
                o.clone(),
            ));
        }
    }
    report("Itanium", &bad, &results);
}

#[test]
fn msvc_mutants_agree_with_llvm_undname() {
    if demangle::MSVC_ENGINE != "llvm" {
        println!(
            "skipped: built with the {} stand-in (see tests/oracle_demangle.rs)",
            demangle::MSVC_ENGINE
        );
        return;
    }
    let Some(undname) = oracle("llvm-undname") else {
        return;
    };
    let mut seeds: Vec<String> = Vec::new();
    for dir in ["pe"] {
        for p in fixtures(dir) {
            seeds.extend(exported(&p, "msvc"));
        }
    }
    let corpus = root().join("target/demangle-corpus/msvc/msvcp140.dll");
    if corpus.is_file() {
        seeds.extend(exported(&corpus, "msvc"));
    }
    assert!(seeds.len() > 3, "too few MSVC seed names");
    let alphabet = b"?@$0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_";
    let runs = ["PEA", "?$", "@", "$$Q", "V?$A@", "0", "?1"];
    let names = mutants(&seeds, "?", alphabet, &runs, mutant_count());
    let results = ours(names, demangle::msvc);
    let lines: Vec<&str> = results.iter().map(|(n, _)| n.as_str()).collect();
    // llvm-undname echoes each name, prints the demangling (or an error on stderr) and a blank line.
    let out = tool_filter_lossy(&undname, &lines);
    let mut bad = Vec::new();
    for (name, d) in &results {
        let o = out.get(name.as_str()).cloned().flatten();
        if *d != o {
            bad.push((
                name.clone(),
                d.clone().unwrap_or("(not demangled)".into()),
                o.unwrap_or("(rejected)".into()),
            ));
        }
    }
    report("MSVC", &bad, &results);
}

/// llvm-undname over `lines` (it exits 1 when any name is invalid): name → demangling, `None` where it rejected it.
fn tool_filter_lossy(
    exe: &std::path::Path,
    lines: &[&str],
) -> std::collections::HashMap<String, Option<String>> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut child = Command::new(exe)
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run llvm-undname");
    let input: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    let out = child.wait_with_output().expect("wait for llvm-undname");
    writer.join().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // Blocks: the echoed name, then its demangling unless rejected, then a blank line.
    let mut map = std::collections::HashMap::new();
    for block in text.split("\n\n") {
        let mut it = block.lines().filter(|l| !l.is_empty());
        if let Some(name) = it.next() {
            map.insert(name.to_string(), it.next().map(str::to_string));
        }
    }
    map
}
