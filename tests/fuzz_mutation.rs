//! A deterministic mutation fuzzer on stable Rust over every input ffi-doctor reads: wheels (zip), the gate config
//! (TOML), declarations (C headers and cffi cdefs) and binaries (ELF, Mach-O, PE). See `docs/robustness.md`.
//!
//! Each target is one `#[test]` (so `cargo test` runs them in parallel). A seed corpus (fixtures, wheels built
//! here with the `zip` crate, configs, headers) is mutated by a small reusable mutator driven by a xorshift RNG with
//! a fixed seed: byte flips, random bytes, interesting integers (0, 0xff…, 0x7fffffff, 2^31, 2^32-1, 2^63, …) in
//! either byte order, truncation, chunk duplication/deletion, splicing between corpus files; text inputs also get
//! line- and token-level mutations (delete/duplicate/swap lines, `#if`/`#define`/`(`/`{`/`...`/`__attribute__((`,
//! very long identifiers, huge numbers, deep nesting).
//!
//! Every input is run through the library API in-process on a worker thread, inside `catch_unwind`, under an
//! allocator guard. A failure is a panic, a library result that breaks its contract, one allocation far larger than
//! the input, or one input taking more than [`SLOW_CPU`] of thread CPU time (a watchdog gives up on a worker stuck
//! for [`HANG_WALL`]). Failing inputs are written to `target/fuzz-failures/<target>/` and their paths printed.
//! The input being run is always in `target/fuzz-failures/<target>/in-progress.bin` (removed after a clean run), so
//! an abort (stack overflow) leaves its reproducer behind.
//!
//! A last test runs a sample of mutated inputs of every target through the built binary, with an address-space
//! limit, a timeout and the child's peak RSS measured: exit codes must be 0, 1 or 2.
//!
//! Knobs: `FFI_DOCTOR_FUZZ_ITERS=<n>` mutants per target (default [`DEFAULT_ITERS`], [`DEFAULT_ITERS_BINARY`] for
//! the binary readers),
//! `FFI_DOCTOR_FUZZ_SEED=<n>` another RNG seed, `FFI_DOCTOR_FUZZ_CLI=<n>` CLI runs per target.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ffi_doctor::binary::{read_images, ReadOptions};

/// The fixed RNG seed (each target mixes in its name).
const DEFAULT_SEED: u64 = 0x5eed_f022_2026_1203;
/// Mutated inputs per target in the default run (the binary readers are ~4x faster per input, so they get more).
const DEFAULT_ITERS: usize = 4000;
const DEFAULT_ITERS_BINARY: usize = 10_000;
/// CLI runs per target in the default run.
const DEFAULT_CLI: usize = 12;
/// An input that takes more thread CPU time than this is a failure.
const SLOW_CPU: Duration = Duration::from_secs(2);
/// A worker stuck this long (wall) on one input is a hang: the test stops there.
const HANG_WALL: Duration = Duration::from_secs(60);
/// Mutated binary inputs are capped at this size.
const MAX_LEN: usize = 4 << 20;
/// Mutated text inputs are capped at this size: the preprocessor's cost is linear (about 1 µs and 110 bytes per
/// token in a debug build), so a 4 MiB line of punctuation alone takes more than the time bound; the bound is
/// there to catch superlinear behaviour, which shows well below 1 MiB.
const MAX_TEXT_LEN: usize = 1 << 20;
/// Seed files larger than this are left out of the binary corpus (the debug-info fixtures), to keep runs fast.
const MAX_SEED: usize = 1 << 20;
/// The CLI child's address-space limit and its allowed peak RSS.
const CLI_AS_LIMIT: u64 = 4 << 30;
const CLI_RSS_LIMIT_KIB: i64 = 1 << 20;
const CLI_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------------------------------------------
// Allocation guard: while a worker runs an input, a single allocation above its limit is recorded.

thread_local! {
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
}

#[path = "common/alloc_guard.rs"]
mod alloc_guard;
use alloc_guard::{Guarded, ALLOC_LIMIT, ALLOC_WORST};

#[global_allocator]
static GLOBAL: Guarded = Guarded;

/// The largest single allocation one input may cause: generous, far below a size taken from a corrupt header.
fn alloc_limit(len: usize) -> usize {
    (len * 64).max(64 << 20)
}

/// Panics inside inputs are caught and reported as failures, not printed.
fn quiet_panics_in_cases() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !IN_CASE.with(|f| f.get()) {
                previous(info);
            }
        }));
    });
}

// ---------------------------------------------------------------------------------------------------------------
// Random numbers (xorshift64*) and the mutator.

#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Integers that sit on edges: sign bits, all-ones, 2^31, 2^32-1, 2^63.
const INTERESTING: &[u64] = &[
    0,
    1,
    0x7f,
    0x80,
    0xff,
    0x100,
    0x7fff,
    0x8000,
    0xffff,
    0x1_0000,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x1_0000_0000,
    0x7fff_ffff_ffff_ffff,
    0x8000_0000_0000_0000,
    u64::MAX,
    u64::MAX - 1,
];

/// Numbers spelled as text.
const INTERESTING_TEXT: &[&str] = &[
    "0",
    "-1",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "0xffffffffffffffffffff",
    "0x8000000000000000",
    "1e309",
    "-0",
    "0777777777777777777777777",
    "1.",
    "0x",
    "0b",
    "1ULL",
    "1 << 63",
    "-9223372036854775808",
];

/// An offset biased towards the ends, where headers, tables and zip directories live.
fn offset(rng: &mut Rng, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    match rng.below(4) {
        0 => rng.below(len.min(512)),
        1 => len - 1 - rng.below(len.min(512)),
        _ => rng.below(len),
    }
}

fn chunk_len(rng: &mut Rng, len: usize) -> usize {
    let max = match rng.below(3) {
        0 => 8,
        1 => 64,
        _ => 4096,
    };
    1 + rng.below(max.min(len.max(1)))
}

/// One byte-level mutation of `d` in place; `other` is another corpus member for splicing.
pub fn mutate_bytes(rng: &mut Rng, d: &mut Vec<u8>, other: &[u8]) {
    let len = d.len();
    match rng.below(11) {
        0 if len > 0 => {
            let o = offset(rng, len);
            d[o] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let o = offset(rng, len);
            d[o] = rng.next_u64() as u8;
        }
        2 | 3 if len > 0 => {
            let v = *rng.pick(INTERESTING);
            let v = if rng.chance(4) { v.wrapping_neg() } else { v };
            let width = *rng.pick(&[1usize, 2, 4, 8]);
            let bytes = if rng.chance(2) {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            };
            let bytes = if bytes[0] == (v as u8) {
                &bytes[..width]
            } else {
                &bytes[8 - width..]
            };
            let o = offset(rng, len);
            for (i, b) in bytes.iter().enumerate() {
                if let Some(x) = d.get_mut(o + i) {
                    *x = *b;
                }
            }
        }
        4 => {
            let l = if rng.chance(2) {
                rng.below(len + 1)
            } else {
                len.saturating_sub(chunk_len(rng, len))
            };
            d.truncate(l);
        }
        5 if len > 0 => {
            // Duplicate a chunk somewhere else.
            let n = chunk_len(rng, len);
            let from = rng.below(len);
            let chunk: Vec<u8> = d[from..(from + n).min(len)].to_vec();
            let at = offset(rng, len);
            d.splice(at..at, chunk);
        }
        6 if len > 0 => {
            let n = chunk_len(rng, len);
            let from = offset(rng, len);
            d.drain(from..(from + n).min(len));
        }
        7 => {
            let n = chunk_len(rng, 64);
            let at = offset(rng, len + 1).min(len);
            let fill: Vec<u8> = match rng.below(3) {
                0 => vec![0; n],
                1 => vec![0xff; n],
                _ => (0..n).map(|_| rng.next_u64() as u8).collect(),
            };
            d.splice(at..at, fill);
        }
        8 if !other.is_empty() => {
            // Splice: our prefix, their suffix.
            let cut = rng.below(len + 1);
            let theirs = rng.below(other.len());
            d.truncate(cut);
            d.extend_from_slice(&other[theirs..]);
        }
        9 if !other.is_empty() && len > 0 => {
            // Overwrite a chunk with theirs at the same offset (same-format files share their structure).
            let n = chunk_len(rng, len);
            let at = offset(rng, len);
            for i in 0..n {
                match (d.get_mut(at + i), other.get(at + i)) {
                    (Some(x), Some(y)) => *x = *y,
                    _ => break,
                }
            }
        }
        _ => {
            // Repeat a byte run (long runs of a length or count field's bytes).
            if len > 0 {
                let at = offset(rng, len);
                let b = d[at];
                let n = 1 + rng.below(256);
                d.splice(at..at, std::iter::repeat_n(b, n));
            }
        }
    }
}

/// Snippets a text mutation inserts; `dict` adds the target's own.
fn nesting(rng: &mut Rng, open: &str, close: &str) -> String {
    let n = *rng.pick(&[8usize, 50, 101, 200, 400, 1000, 5000]);
    let closed = rng.chance(2);
    let mut s = open.repeat(n);
    if closed {
        s.push_str(&close.repeat(n));
    }
    s
}

fn long_ident(rng: &mut Rng) -> String {
    let n = *rng.pick(&[256usize, 4096, 65536, 1 << 20]);
    let mut s = String::with_capacity(n);
    s.push('x');
    while s.len() < n {
        s.push((b'a' + (rng.below(26) as u8)) as char);
    }
    s
}

/// Split text into tokens: identifier/number runs, whitespace runs, single punctuation characters.
fn tokens(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let class = |c: u8| {
            if c.is_ascii_alphanumeric() || c == b'_' {
                0
            } else if c.is_ascii_whitespace() {
                1
            } else {
                2
            }
        };
        let k = class(b[i]);
        i += 1;
        if k != 2 {
            while i < b.len() && class(b[i]) == k {
                i += 1;
            }
        } else {
            while i < b.len() && !text.is_char_boundary(i) {
                i += 1;
            }
        }
        out.push(&text[start..i]);
    }
    out
}

/// One text-level mutation (line or token level), falling back to bytes for non-UTF-8 input.
pub fn mutate_text(rng: &mut Rng, d: &mut Vec<u8>, other: &[u8], dict: &[&str]) {
    let Ok(text) = std::str::from_utf8(d) else {
        mutate_bytes(rng, d, other);
        return;
    };
    let mut lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
    let line = |rng: &mut Rng, lines: &Vec<String>| rng.below(lines.len() + 1);
    match rng.below(10) {
        0 if !lines.is_empty() => {
            let i = rng.below(lines.len());
            let n = 1 + rng.below(4);
            lines.drain(i..(i + n).min(lines.len()));
        }
        1 if !lines.is_empty() => {
            let i = rng.below(lines.len());
            // Sometimes a thousand times (short lines only: the result is capped anyway).
            let times = if rng.chance(8) && lines[i].len() < 1024 {
                1000
            } else {
                1
            };
            let l = lines[i].clone();
            for _ in 0..times {
                lines.insert(i, l.clone());
            }
        }
        2 if lines.len() > 1 => {
            let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
            lines.swap(a, b);
        }
        3 => {
            // Lines from another corpus member.
            let theirs: Vec<&str> = std::str::from_utf8(other)
                .unwrap_or("")
                .split_inclusive('\n')
                .collect();
            if !theirs.is_empty() {
                let from = rng.below(theirs.len());
                let n = 1 + rng.below(20);
                let at = line(rng, &lines);
                let add: Vec<String> = theirs[from..(from + n).min(theirs.len())]
                    .iter()
                    .map(|s| s.to_string())
                    .collect();
                lines.splice(at..at, add);
            }
        }
        4..=7 => {
            // A snippet at a token boundary.
            let snippet = match rng.below(8) {
                0 => nesting(rng, "(", ")"),
                1 => nesting(rng, "{", "}"),
                2 => nesting(rng, "[", "]"),
                3 => long_ident(rng),
                4 => INTERESTING_TEXT[rng.below(INTERESTING_TEXT.len())].to_string(),
                _ => dict[rng.below(dict.len())].to_string(),
            };
            let joined = lines.concat();
            let toks = tokens(&joined);
            let at = rng.below(toks.len() + 1);
            let replace = rng.chance(3) && at < toks.len();
            let mut out = String::with_capacity(joined.len() + snippet.len());
            for (i, t) in toks.iter().enumerate() {
                if i == at {
                    out.push_str(&snippet);
                    if replace {
                        continue;
                    }
                }
                out.push_str(t);
            }
            if at == toks.len() {
                out.push_str(&snippet);
            }
            *d = out.into_bytes();
            return;
        }
        8 => {
            // Swap or delete a token.
            let joined = lines.concat();
            let mut toks = tokens(&joined);
            if toks.len() > 1 {
                let (a, b) = (rng.below(toks.len()), rng.below(toks.len()));
                if rng.chance(2) {
                    toks.swap(a, b);
                } else {
                    toks.remove(a);
                }
            }
            *d = toks.concat().into_bytes();
            return;
        }
        _ => {
            mutate_bytes(rng, d, other);
            return;
        }
    }
    *d = lines.concat().into_bytes();
}

/// A mutated copy of a random corpus member: 1 to 8 stacked mutations.
pub fn mutant(rng: &mut Rng, corpus: &[(String, Vec<u8>)], text_dict: Option<&[&str]>) -> Vec<u8> {
    let base = &corpus[rng.below(corpus.len())].1;
    let other = &corpus[rng.below(corpus.len())].1;
    let mut d = base.clone();
    let most = if rng.chance(4) { 8 } else { 3 };
    let n = 1 + rng.below(most);
    for _ in 0..n {
        match text_dict {
            Some(dict) if !rng.chance(6) => mutate_text(rng, &mut d, other, dict),
            _ => mutate_bytes(rng, &mut d, other),
        }
        let cap = if text_dict.is_some() {
            MAX_TEXT_LEN
        } else {
            MAX_LEN
        };
        if d.len() > cap {
            d.truncate(cap);
            // Keep text valid UTF-8 so the text mutators stay on it.
            while text_dict.is_some() && !d.is_empty() && std::str::from_utf8(&d).is_err() {
                d.pop();
            }
        }
    }
    d
}

// ---------------------------------------------------------------------------------------------------------------
// Seed corpora.

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else if p.is_file() {
            out.push(p);
        }
    }
}

fn read_seeds(paths: &[PathBuf]) -> Vec<(String, Vec<u8>)> {
    paths
        .iter()
        .filter_map(|p| {
            let d = std::fs::read(p).ok()?;
            (d.len() <= MAX_SEED).then(|| (p.display().to_string(), d))
        })
        .collect()
}

fn binary_seeds() -> Vec<(String, Vec<u8>)> {
    let mut paths = Vec::new();
    for sub in ["elf", "macho", "pe"] {
        files_under(&root().join("testdata").join(sub), &mut paths);
    }
    let seeds = read_seeds(&paths);
    assert!(seeds.len() >= 10, "expected fixtures under testdata/");
    seeds
}

/// Small wheels built here (stored and deflated members, a binary, WHEEL tags, Python, a directory entry, an
/// escaping name), plus the committed fixture wheels.
fn wheel_seeds() -> Vec<(String, Vec<u8>)> {
    use std::io::Write;
    use zip::write::SimpleFileOptions;
    let elf = std::fs::read(root().join("testdata/elf/x86_64/libext.so.1")).unwrap_or_default();
    let pe_head = b"MZ\x90\x00\x03\x00\x00\x00".to_vec();
    let build = |members: &[(&str, &[u8], bool)]| -> Vec<u8> {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        for (name, data, deflate) in members {
            let method = if *deflate {
                zip::CompressionMethod::Deflated
            } else {
                zip::CompressionMethod::Stored
            };
            let opts = SimpleFileOptions::default().compression_method(method);
            if name.ends_with('/') {
                w.add_directory(*name, opts).expect("zip dir");
            } else {
                w.start_file(*name, opts).expect("zip member");
                w.write_all(data).expect("zip write");
            }
        }
        w.finish().expect("zip finish").into_inner()
    };
    let wheel_meta: &[u8] =
        b"Wheel-Version: 1.0\nGenerator: fuzz\nRoot-Is-Purelib: false\nTag: cp311-cp311-manylinux_2_17_x86_64\n";
    let py: &[u8] = b"import ctypes\nlib = ctypes.CDLL('libext.so.1')\n";
    let mut out = vec![
        (
            "built: stored".to_string(),
            build(&[
                ("pkg/__init__.py", py, false),
                ("pkg/_ext.so", &elf, false),
                ("pkg-1.0.dist-info/WHEEL", wheel_meta, false),
            ]),
        ),
        (
            "built: deflated".to_string(),
            build(&[
                ("pkg/", b"", false),
                ("pkg/__init__.py", py, true),
                ("pkg.libs/libext.so.1", &elf, true),
                ("pkg-1.0.dist-info/WHEEL", wheel_meta, true),
            ]),
        ),
        (
            "built: small members".to_string(),
            build(&[
                ("a.pyd", &pe_head, false),
                ("b/c.dylib", b"\xcf\xfa\xed\xfe\x07\x00\x00\x01", false),
                ("d.so", b"\x7fELF\x02\x01\x01", true),
                ("e-1.dist-info/WHEEL", b"Tag: py3-none-any\n", false),
            ]),
        ),
        (
            "built: escaping and duplicate names".to_string(),
            build(&[
                ("../evil.so", b"\x7fELF", false),
                ("x/../y.so", b"\x7fELF", false),
                ("/abs.so", b"MZ", false),
            ]),
        ),
        ("built: empty".to_string(), build(&[])),
    ];
    let mut paths = Vec::new();
    files_under(&root().join("testdata/wheels"), &mut paths);
    paths.retain(|p| p.extension().is_some_and(|e| e == "whl"));
    out.extend(read_seeds(&paths));
    out
}

const CONFIG_SEEDS: &[&str] = &[
    r#"[[target]]
path = "dist/*.whl"
spec = "include/mylib.h"
defines = ["MYLIB_API=", "NDEBUG"]
include = ["include"]
runtime = false
platform = { sysroot = "sysroots/manylinux2014", env = { LD_LIBRARY_PATH = "/opt/x/lib" }, executable = "bin/python3", windows-search = "python", dll-dirs = ["vendor/bin"] }

[policy]
allowed-external = ["manylinux_2_17", "libfoo.so.1"]
max-glibc = "2.17"
max-glibcxx = "3.4.19"
max-cxxabi = "1.3.7"
relative-rpath = true
export-prefix = "mylib_"
forbid-cxx-exports = true
forbid-rust-exports = true
forbid-libc-clash = true
require-archs = ["x86_64", "arm64"]
max-macos = "11.0"
hardening = "info"

[severity]
FFI0401 = "error"
FFI0605 = "warning"

[[baseline]]
code = "FFI0605"
location-glob = "*libmylib.so (legacy_*)"
reason = "kept for ABI compatibility until 2.0"
"#,
    "[policy]\nallowed-external = \"manylinux_2_28\"\nmax-glibc = \"2.17\"\nmax-glib = \"2.17\"\n",
    "[[target]]\npath = \"libdemo.so\"\nspec = \"demo_api.h\"\n\n[[target]]\npath = \"*.whl\"\n",
    "[[target]]\npath = \"libdemo.so\"\nspec = \"demo_api.h\"\n\n[policy]\nmax-glibc = \"2.17\"\nexport-prefix = \"demo_\"\n\n[severity]\nFFI0605 = \"warning\"\n",
    "[[baseline]]\ncode = \"FFI0601\"\nlocation-glob = \"[\"\nreason = \"x\"\n",
    "[severity]\nFFI9999 = \"error\"\n",
    "[tool.ffi-doctor]\n[[tool.ffi-doctor.target]]\npath = \"x\"\n[tool.ffi-doctor.policy]\nmax-macos = \"10.9\"\n",
];

const CONFIG_DICT: &[&str] = &[
    "[policy]\n",
    "[[target]]\n",
    "[[baseline]]\n",
    "[severity]\n",
    "[tool.ffi-doctor]\n",
    "[tool.ffi-doctor.policy]\n",
    "[[tool.ffi-doctor.baseline]]\n",
    "path = \"libdemo.so\"\n",
    "spec = \"demo_api.h\"\n",
    "runtime = true\n",
    "max-glibc = \"2.17\"\n",
    "max-glibc = \"\"\n",
    "max-macos = \"99999999999999999999999.1\"\n",
    "max-cxxabi = \"1..3\"\n",
    "allowed-external = [\"manylinux_2_17\", \"musllinux_1_2\", \"manylinux1\"]\n",
    "hardening = \"error\"\n",
    "code = \"FFI0605\"\n",
    "location-glob = \"[!\"\n",
    "location-glob = \"**/***\"\n",
    "reason = \"\"\n",
    "reason = \"because\"\n",
    "FFI0401 = \"error\"\n",
    "platform = { env = { A = \"b\" }, windows-search = \"python\" }\n",
    "\"\"\"",
    "'''",
    "\\u",
    "\\U0010ffff",
    "= ",
    " = ",
    "=",
    ".",
    ",",
    "[",
    "]",
    "{",
    "}",
    "#",
    "\"",
    "'",
    "inf",
    "-nan",
    "1979-05-27T07:32:00Z",
    "true",
    "\r\n",
    "\t",
    "\u{feff}",
];

fn config_seeds() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = CONFIG_SEEDS
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("config seed {i}"), s.as_bytes().to_vec()))
        .collect();
    for p in ["pyproject.toml", "fuzz/Cargo.toml"] {
        if let Ok(d) = std::fs::read(root().join(p)) {
            out.push((p.to_string(), d));
        }
    }
    out
}

const DECL_DICT: &[&str] = &[
    "#if ",
    "#if 1\n",
    "#if 0\n",
    "#ifdef X\n",
    "#ifndef X\n",
    "#elif ",
    "#else\n",
    "#endif\n",
    "\n#define ",
    "\n#define X X\n",
    "\n#define F(x, ...) F(x) __VA_ARGS__ #x a##x\n",
    "\n#define A B\n#define B A\n",
    "\n#undef ",
    "\n#include \"",
    "\n#include <stdio.h>\n",
    "\n#include __FILE__\n",
    "\n#pragma pack(",
    "\n#pragma pack(push, 1)\n",
    "\n#pragma pack(pop)\n",
    "\n#line 4294967295\n",
    "\n#error x\n",
    "\n# 1 \"x.h\" 3\n",
    "defined(",
    "__VA_ARGS__",
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    "[]",
    "...",
    "...;",
    "[...]",
    "enum { A = ... };",
    "__attribute__((",
    "__attribute__((aligned(",
    "__attribute__((packed))",
    "__attribute__((aligned(4294967296)))",
    "__declspec(",
    "_Alignas(",
    "alignas(",
    "struct ",
    "union ",
    "enum ",
    "typedef ",
    "int ",
    "unsigned long long ",
    "long double ",
    "__int128 ",
    "_Bool ",
    "char32_t ",
    "void (*)(void)",
    "const ",
    "volatile ",
    "*",
    ";",
    ",",
    ":",
    " : 65",
    " : 0",
    "= 1 << 63",
    "= -1",
    "sizeof(",
    "#",
    "##",
    "\\\n",
    "/*",
    "*/",
    "//",
    "\"",
    "'",
    "L'x'",
    "u8\"",
    "0x",
    "1e",
    "?",
    ":",
    "...)",
    "struct s { int a[2147483648]; };\n",
    "struct s { char a[4294967295][4294967295]; };\n",
    "typedef int T[sizeof(int) * 1000000000000];\n",
    "enum e { E = 9223372036854775807, F };\n",
    "\x00",
    "\u{fffd}",
];

fn decl_seeds() -> Vec<(String, Vec<u8>)> {
    let mut paths = Vec::new();
    files_under(&root().join("testdata/src"), &mut paths);
    paths.retain(|p| {
        p.extension()
            .is_some_and(|e| e == "h" || e == "cdef" || e == "c")
    });
    files_under(&root().join("examples"), &mut paths);
    paths.retain(|p| {
        p.extension()
            .is_some_and(|e| e == "h" || e == "cdef" || e == "c")
    });
    for p in [
        "testdata/wheels/zlib.cdef",
        "/usr/include/zlib.h",
        "/usr/include/zconf.h",
    ] {
        let p = root().join(p);
        if p.is_file() {
            paths.push(p);
        }
    }
    let mut out = read_seeds(&paths);
    out.push((
        "snippet".into(),
        b"#define N 4\ntypedef struct { int a : 3; unsigned b : 5; char c[N]; } s_t;\nint f(s_t *, ...);\n"
            .to_vec(),
    ));
    out.push((
        "cffi snippet".into(),
        b"typedef int... foo_t;\nstruct s { int a; ...; };\n#define X ...\nint g(foo_t);\n"
            .to_vec(),
    ));
    out
}

// ---------------------------------------------------------------------------------------------------------------
// The in-process targets. Each returns Err(message) when the library breaks its contract; a library `Err` for
// malformed input is fine.

fn run_binary(_scratch: &Path, i: usize, data: &[u8]) -> Result<bool, String> {
    let path = "fuzz-input";
    match read_images(
        path,
        data,
        None,
        ReadOptions {
            demangle: i % 2 == 0,
        },
    ) {
        Ok(images) => {
            serde_json::to_vec(&images).map_err(|e| format!("serialising: {e}"))?;
            for img in &images {
                let s = ffi_doctor::binary::summary::summarize(img);
                serde_json::to_vec(&s).map_err(|e| format!("summary: {e}"))?;
            }
            Ok(true)
        }
        Err(e) => {
            if e.path != path || e.expected.is_empty() || e.found.is_empty() {
                return Err(format!("malformed error: {e}"));
            }
            Ok(false)
        }
    }
}

fn run_wheel(scratch: &Path, _i: usize, data: &[u8]) -> Result<bool, String> {
    let p = scratch.join("fuzz-1.0-cp311-cp311-manylinux_2_17_x86_64.whl");
    std::fs::write(&p, data).map_err(|e| format!("writing the input: {e}"))?;
    let path = p.display().to_string();
    match ffi_doctor::gate::wheel::extract(&path) {
        Ok(x) => {
            // The extracted binaries are read as gate reads them; the temporary directory goes on drop.
            for b in &x.info.binaries {
                let f = x.dir.path().join(b);
                if !f.is_file() {
                    return Err(format!("listed binary {b} was not extracted"));
                }
                if !f.starts_with(x.dir.path()) {
                    return Err(format!("binary {b} extracted outside the directory"));
                }
                if let Ok(m) = ffi_doctor::binary::Mapped::open(&f.display().to_string()) {
                    let _ = ffi_doctor::binary::read_guarded(&m, None, ReadOptions::default());
                }
            }
            serde_json::to_vec(&x.info).map_err(|e| format!("serialising: {e}"))?;
            Ok(true)
        }
        Err(e) => {
            if e.expected.is_empty() {
                return Err(format!("malformed error: {e}"));
            }
            Ok(false)
        }
    }
}

fn run_config(scratch: &Path, i: usize, data: &[u8]) -> Result<bool, String> {
    let name = if i % 4 == 3 {
        "pyproject.toml"
    } else {
        "ffi-doctor.toml"
    };
    let p = scratch.join(name);
    std::fs::write(&p, data).map_err(|e| format!("writing the input: {e}"))?;
    match ffi_doctor::gate::config::load(&p) {
        Ok(l) => {
            std::hint::black_box(format!("{:?}", l.config));
            Ok(true)
        }
        Err(e) => {
            if e.message.is_empty() {
                return Err("error without a message".into());
            }
            let _ = e.to_string();
            Ok(false)
        }
    }
}

fn run_decl(cffi: bool) -> impl Fn(&Path, usize, &[u8]) -> Result<bool, String> {
    move |_scratch, i, data| {
        let text = String::from_utf8_lossy(data);
        // The seeds' directory is kept for `#include "x"` (zlib.h includes zconf.h).
        let name = if i % 2 == 0 {
            "/usr/include/fuzz.h"
        } else {
            concat!(env!("CARGO_MANIFEST_DIR"), "/testdata/src/fuzz.h")
        };
        let opts = ffi_doctor::decl::ParseOptions {
            cffi,
            defines: vec![
                ("FUZZ".into(), None),
                ("ZEXTERN".into(), Some("extern".into())),
            ],
            ..Default::default()
        };
        match ffi_doctor::decl::parse_str(name, &text, &opts) {
            Ok(spec) => {
                serde_json::to_vec(&spec).map_err(|e| format!("serialising: {e}"))?;
                Ok(true)
            }
            Err(e) => {
                if e.expected.is_empty() {
                    return Err(format!("malformed error: {e}"));
                }
                Ok(false)
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// The driver.

fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("{name}={s} is not a number"))
        }
        Err(_) => default,
    }
}

fn seed() -> u64 {
    env_num("FFI_DOCTOR_FUZZ_SEED", DEFAULT_SEED)
}

/// `FFI_DOCTOR_FUZZ_ITERS` for every target, else the target's default.
fn iters(default: usize) -> usize {
    env_num("FFI_DOCTOR_FUZZ_ITERS", default as u64) as usize
}

fn failures_dir(target: &str) -> PathBuf {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target_dir.join("fuzz-failures").join(target)
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid out-pointer for clock_gettime.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn peak_rss_kib() -> i64 {
    // SAFETY: a zeroed rusage is a valid out-parameter.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    ru.ru_maxrss
}

type Corpus = Vec<(String, Vec<u8>)>;
type Dict = Option<&'static [&'static str]>;

/// Ok(true): the library accepted the input; Ok(false): it returned an error as it should.
type RunFn = Arc<dyn Fn(&Path, usize, &[u8]) -> Result<bool, String> + Send + Sync>;

struct Outcome {
    inputs: usize,
    /// Inputs the library accepted (the rest were input errors).
    accepted: usize,
    failures: Vec<String>,
    slowest_cpu: Duration,
    slowest_wall: Duration,
}

/// Fuzz one target: `iters` mutants of `corpus` (and each seed once, unmutated), on a worker thread with
/// `stack` bytes of stack, watched for hangs.
fn fuzz(
    target: &'static str,
    corpus: Vec<(String, Vec<u8>)>,
    dict: Option<&'static [&'static str]>,
    default_iters: usize,
    run: RunFn,
) {
    let stack = WORKER_STACK;
    quiet_panics_in_cases();
    let seed = seed() ^ fnv(target);
    let n = iters(default_iters);
    let started = Instant::now();
    let dir = failures_dir(target);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("failures dir");
    let in_progress = dir.join("in-progress.bin");
    // Wall-clock start (ms since `started`) of the input in progress, u64::MAX when idle.
    let current = Arc::new(AtomicU64::new(u64::MAX));
    let done = Arc::new(AtomicBool::new(false));
    let worker = {
        let (current, done, dir, in_progress) = (
            current.clone(),
            done.clone(),
            dir.clone(),
            in_progress.clone(),
        );
        std::thread::Builder::new()
            .name(format!("fuzz-{target}"))
            .stack_size(stack)
            .spawn(move || {
                let scratch = tempfile::tempdir().expect("scratch dir");
                let mut rng = Rng::new(seed);
                let mut out = Outcome {
                    inputs: 0,
                    accepted: 0,
                    failures: Vec::new(),
                    slowest_cpu: Duration::ZERO,
                    slowest_wall: Duration::ZERO,
                };
                for i in 0..corpus.len() + n {
                    let data = match corpus.get(i) {
                        Some((_, d)) => d.clone(),
                        None => mutant(&mut rng, &corpus, dict),
                    };
                    std::fs::write(&in_progress, &data).expect("writing in-progress input");
                    current.store(started.elapsed().as_millis() as u64, Ordering::SeqCst);
                    let (cpu0, wall0) = (thread_cpu(), Instant::now());
                    ALLOC_WORST.with(|w| w.set(0));
                    ALLOC_LIMIT.with(|l| l.set(alloc_limit(data.len())));
                    IN_CASE.with(|f| f.set(true));
                    let r = catch_unwind(AssertUnwindSafe(|| run(scratch.path(), i, &data)));
                    IN_CASE.with(|f| f.set(false));
                    ALLOC_LIMIT.with(|l| l.set(0));
                    let (cpu, wall) = (thread_cpu() - cpu0, wall0.elapsed());
                    current.store(u64::MAX, Ordering::SeqCst);
                    out.inputs += 1;
                    out.slowest_cpu = out.slowest_cpu.max(cpu);
                    out.slowest_wall = out.slowest_wall.max(wall);
                    let mut problems = Vec::new();
                    match r {
                        Ok(Ok(true)) => out.accepted += 1,
                        Ok(Ok(false)) => {}
                        Ok(Err(m)) => problems.push(m),
                        Err(p) => {
                            let msg = p
                                .downcast_ref::<&str>()
                                .map(|s| s.to_string())
                                .or_else(|| p.downcast_ref::<String>().cloned())
                                .unwrap_or_else(|| "non-string payload".into());
                            problems.push(format!("panicked: {msg}"));
                        }
                    }
                    let worst = ALLOC_WORST.with(|w| w.get());
                    if worst != 0 {
                        problems.push(format!(
                            "allocated {worst} bytes at once for a {}-byte input",
                            data.len()
                        ));
                    }
                    if cpu > SLOW_CPU {
                        problems.push(format!("took {cpu:.2?} of CPU (limit {SLOW_CPU:?})"));
                    }
                    if !problems.is_empty() {
                        let f = dir.join(format!("input-{i}.bin"));
                        std::fs::write(&f, &data).expect("writing a failing input");
                        out.failures
                            .push(format!("{}: {}", f.display(), problems.join("; ")));
                    }
                }
                let _ = std::fs::remove_file(&in_progress);
                done.store(true, Ordering::SeqCst);
                out
            })
            .expect("spawning the worker")
    };
    while !done.load(Ordering::SeqCst) && !worker.is_finished() {
        let since = current.load(Ordering::SeqCst);
        if since != u64::MAX {
            let now = started.elapsed().as_millis() as u64;
            if now.saturating_sub(since) > HANG_WALL.as_millis() as u64 {
                panic!(
                    "fuzz {target}: one input has run for more than {HANG_WALL:?} (hang): {} (seed {seed:#x})",
                    in_progress.display()
                );
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = match worker.join() {
        Ok(o) => o,
        Err(_) => panic!(
            "fuzz {target}: the worker died; its input: {}",
            in_progress.display()
        ),
    };
    println!(
        "fuzz {target}: {} inputs ({} seeds, {} accepted) in {:.1?}, {} failures, slowest input {:.1?} CPU / {:.1?} wall, \
         process peak RSS {} MiB, seed {seed:#x}",
        out.inputs,
        corpus_len_hint(out.inputs, n),
        out.accepted,
        started.elapsed(),
        out.failures.len(),
        out.slowest_cpu,
        out.slowest_wall,
        peak_rss_kib() / 1024,
    );
    if !out.failures.is_empty() {
        let shown: Vec<&str> = out.failures.iter().take(30).map(String::as_str).collect();
        panic!(
            "fuzz {target}: {} of {} inputs failed (seed {seed:#x}):\n{}",
            out.failures.len(),
            out.inputs,
            shown.join("\n")
        );
    }
}

fn corpus_len_hint(inputs: usize, mutants: usize) -> usize {
    inputs.saturating_sub(mutants)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The smallest stack the library runs these on: rayon's workers (gate) get the default 2 MiB.
const WORKER_STACK: usize = 2 << 20;

#[test]
fn fuzz_binary_readers() {
    fuzz(
        "binary",
        binary_seeds(),
        None,
        DEFAULT_ITERS_BINARY,
        Arc::new(run_binary),
    );
}

#[test]
fn fuzz_wheel_reader() {
    fuzz(
        "wheel",
        wheel_seeds(),
        None,
        DEFAULT_ITERS,
        Arc::new(run_wheel),
    );
}

#[test]
fn fuzz_config_parser() {
    fuzz(
        "config",
        config_seeds(),
        Some(CONFIG_DICT),
        DEFAULT_ITERS,
        Arc::new(run_config),
    );
}

#[test]
fn fuzz_c_declarations() {
    fuzz(
        "decl-c",
        decl_seeds(),
        Some(DECL_DICT),
        DEFAULT_ITERS,
        Arc::new(run_decl(false)),
    );
}

#[test]
fn fuzz_cffi_declarations() {
    fuzz(
        "decl-cffi",
        decl_seeds(),
        Some(DECL_DICT),
        DEFAULT_ITERS,
        Arc::new(run_decl(true)),
    );
}

// ---------------------------------------------------------------------------------------------------------------
// Process level: the built binary on a sample of mutants of every target.

struct Child {
    code: Option<i32>,
    signal: Option<i32>,
    timed_out: bool,
    maxrss_kib: i64,
    wall: Duration,
    stderr: String,
}

fn run_cli(args: &[&str], cwd: &Path) -> Child {
    use std::os::unix::process::CommandExt;
    let err_path = cwd.join("stderr.txt");
    let err = std::fs::File::create(&err_path).expect("stderr file");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"));
    cmd.args(args)
        .current_dir(cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE");
    // SAFETY: only async-signal-safe setrlimit between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: CLI_AS_LIMIT as libc::rlim_t,
                rlim_max: CLI_AS_LIMIT as libc::rlim_t,
            };
            libc::setrlimit(libc::RLIMIT_AS, &lim);
            Ok(())
        });
    }
    let start = Instant::now();
    // Reaped below with wait4 (for its rusage), not Child::wait.
    #[allow(clippy::zombie_processes)]
    let child = cmd.spawn().expect("spawning ffi-doctor");
    let pid = child.id() as libc::pid_t;
    let mut timed_out = false;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid out-parameter; wait4 on our own child.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if r == pid {
            break;
        }
        if start.elapsed() > CLI_TIMEOUT && !timed_out {
            timed_out = true;
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let wall = start.elapsed();
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    };
    Child {
        code,
        signal,
        timed_out,
        maxrss_kib: ru.ru_maxrss,
        wall,
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

#[test]
fn cli_exits_0_1_or_2_on_mutants_with_bounded_memory() {
    let per_target = env_num("FFI_DOCTOR_FUZZ_CLI", DEFAULT_CLI as u64) as usize;
    let seed = seed() ^ fnv("cli");
    let mut rng = Rng::new(seed);
    let dir = failures_dir("cli");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("failures dir");
    let scratch = tempfile::tempdir().expect("scratch");
    let s = scratch.path();
    let lib = root().join("testdata/elf/x86_64/libdemo.so");
    let header = root().join("testdata/src/demo_api.h");
    std::fs::copy(&lib, s.join("libdemo.so")).expect("copy lib");
    std::fs::copy(&header, s.join("demo_api.h")).expect("copy header");
    let lib_s = s.join("libdemo.so").display().to_string();
    let corpora: [(&str, Corpus, Dict); 4] = [
        ("binary", binary_seeds(), None),
        ("wheel", wheel_seeds(), None),
        ("config", config_seeds(), Some(CONFIG_DICT)),
        ("decl", decl_seeds(), Some(DECL_DICT)),
    ];
    let mut failures = Vec::new();
    let (mut runs, mut worst_rss, mut slowest) = (0usize, 0i64, Duration::ZERO);
    let mut codes = std::collections::BTreeMap::<String, usize>::new();
    for (target, corpus, dict) in &corpora {
        for k in 0..per_target {
            let data = mutant(&mut rng, corpus, *dict);
            let (file, args): (PathBuf, Vec<String>) = match *target {
                "binary" => {
                    let f = s.join("input.bin");
                    (f.clone(), vec!["inspect".into(), f.display().to_string()])
                }
                "wheel" => {
                    let f = s.join("fuzz-1.0-cp311-cp311-manylinux_2_17_x86_64.whl");
                    (
                        f.clone(),
                        vec![
                            "gate".into(),
                            "--format".into(),
                            "json".into(),
                            f.display().to_string(),
                        ],
                    )
                }
                "config" => {
                    let f = s.join("ffi-doctor.toml");
                    (
                        f.clone(),
                        vec!["gate".into(), "--config".into(), f.display().to_string()],
                    )
                }
                _ => {
                    let f = s.join(if k % 2 == 0 { "input.h" } else { "input.cdef" });
                    (
                        f.clone(),
                        vec![
                            "check".into(),
                            "--no-dwarf".into(),
                            "--targets".into(),
                            "all".into(),
                            lib_s.clone(),
                            f.display().to_string(),
                        ],
                    )
                }
            };
            std::fs::write(&file, &data).expect("writing a CLI input");
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let c = run_cli(&args, s);
            let _ = std::fs::remove_file(&file);
            runs += 1;
            *codes
                .entry(format!(
                    "{target}:{}",
                    c.code.map_or("-".into(), |c| c.to_string())
                ))
                .or_default() += 1;
            worst_rss = worst_rss.max(c.maxrss_kib);
            slowest = slowest.max(c.wall);
            let mut problems = Vec::new();
            if c.timed_out {
                problems.push(format!("still running after {CLI_TIMEOUT:?}"));
            } else if let Some(sig) = c.signal {
                problems.push(format!("killed by signal {sig}"));
            }
            if let Some(code) = c.code {
                if code > 2 {
                    problems.push(format!("exit code {code}"));
                }
            }
            if c.maxrss_kib > CLI_RSS_LIMIT_KIB {
                problems.push(format!("peak RSS {} MiB", c.maxrss_kib / 1024));
            }
            if c.stderr.contains("panicked") || c.stderr.contains("reader bug") {
                problems.push("a panic on stderr".into());
            }
            if !problems.is_empty() {
                let f = dir.join(format!(
                    "{target}-{k}-{}",
                    file.file_name().unwrap().to_string_lossy()
                ));
                std::fs::write(&f, &data).expect("writing a failing input");
                failures.push(format!(
                    "ffi-doctor {} on {}: {} — stderr: {}",
                    args[0],
                    f.display(),
                    problems.join("; "),
                    c.stderr.lines().take(5).collect::<Vec<_>>().join(" | ")
                ));
            }
        }
    }
    println!(
        "fuzz cli: {runs} runs (exit codes {codes:?}), {} failures, slowest {slowest:.1?}, worst child peak RSS {} MiB, \
         seed {seed:#x}",
        failures.len(),
        worst_rss / 1024
    );
    assert!(
        failures.is_empty(),
        "{} CLI runs misbehaved:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
