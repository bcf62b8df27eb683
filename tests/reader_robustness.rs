//! Robustness: every fixture under `testdata/{elf,macho,pe}`, truncated at many lengths and corrupted at many
//! offsets, must be read without a panic, a hang or a huge allocation. Malformed input is an input error (exit 2,
//! a message on stderr naming the file, what was expected and the offset), never a crash.
//!
//! Two levels:
//! * library: `ffi_doctor::binary::read_images` on every case, inside `catch_unwind`, on worker threads with a
//!   watchdog, under a counting global allocator that flags any single allocation far larger than the input;
//! * process: the built binary (`inspect`, `exports --format json`, `imports --format json`) on a deterministic
//!   sample of the same cases written to a temporary directory, each child killed after a timeout.
//!
//! The corruptions are pseudo-random but seeded: the seed is printed, and `FFI_DOCTOR_FUZZ_SEED=<n>` replays a run.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ffi_doctor::binary::{read_images, ReadOptions};

const DEFAULT_SEED: u64 = 0x00ff_1d0c_7042_2024;
/// Corrupted copies per fixture (library level).
const CORRUPTIONS_PER_FIXTURE: usize = 1000;
/// Evenly spaced truncation lengths per fixture, besides the fixed ones and the header-table boundaries.
const EVEN_TRUNCATIONS: usize = 40;
/// At most this many truncation lengths per fixture (sampled evenly if the boundaries give more).
const MAX_TRUNCATIONS: usize = 160;
/// Process-level sample: this many cases of each fixture, spread evenly over its truncations and corruptions.
const PROCESS_PER_FIXTURE: usize = 80;
const CHILD_TIMEOUT: Duration = Duration::from_secs(10);
const READ_TIMEOUT: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------------------------------------------------------
// Allocation guard: while a thread reads a case, any single allocation above its limit is recorded.

thread_local! {
    /// Set while a thread reads a case: panics there are caught and reported as failures, not printed.
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
}

/// Keep the default panic output for everything but the reads under `catch_unwind`.
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

#[path = "common/alloc_guard.rs"]
mod alloc_guard;
use alloc_guard::{Guarded, ALLOC_LIMIT, ALLOC_WORST};

#[global_allocator]
static GLOBAL: Guarded = Guarded;

/// The largest single allocation a read of `len` input bytes may make: generous (symbol vectors, demangled
/// strings, sorting scratch), but far below what a count taken from a corrupted header would ask for.
fn alloc_limit(len: usize) -> usize {
    (len * 64).max(16 << 20)
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic pseudo-random numbers (splitmix64).

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn seed() -> u64 {
    match std::env::var("FFI_DOCTOR_FUZZ_SEED") {
        Ok(s) => {
            let s = s.trim();
            let parsed = match s.strip_prefix("0x") {
                Some(h) => u64::from_str_radix(h, 16),
                None => s.parse(),
            };
            parsed.unwrap_or_else(|_| panic!("FFI_DOCTOR_FUZZ_SEED={s} is not a number"))
        }
        Err(_) => DEFAULT_SEED,
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Fixtures and the cases made from them.

fn fixtures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut out = Vec::new();
    for sub in ["elf", "macho", "pe"] {
        walk(&root.join(sub), &mut out);
    }
    assert!(
        out.len() >= 20,
        "expected the fixture corpus under {}",
        root.display()
    );
    out
}

/// One corrupted input: a label that says how to rebuild it, and the bytes.
struct Case {
    label: String,
    data: Vec<u8>,
}

/// Offsets where a header table, a load command, a segment or a section starts or ends: truncating there (and
/// one byte either side) cuts a structure exactly at its edge.
fn boundaries(d: &[u8]) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    if d.starts_with(b"\x7fELF") {
        elf_boundaries(d, &mut out);
    } else if d.starts_with(b"MZ") {
        pe_boundaries(d, &mut out);
    } else if d.starts_with(&[0xca, 0xfe, 0xba, 0xbe]) {
        let n = be32(d, 4).unwrap_or(0) as usize;
        for i in 0..n.min(16) {
            let at = 8 + i * 20;
            out.insert(at);
            let (Some(off), Some(size)) = (be32(d, at + 8), be32(d, at + 12)) else {
                break;
            };
            let (off, size) = (off as usize, size as usize);
            if let Some(slice) = d.get(off..off.saturating_add(size)) {
                out.insert(off);
                out.insert(off + size);
                for b in macho_boundaries(slice) {
                    out.insert(off + b);
                }
            }
        }
    } else {
        out.extend(macho_boundaries(d));
    }
    let mut with_neighbours = BTreeSet::new();
    for b in out {
        for x in [b.saturating_sub(1), b, b + 1] {
            if x <= d.len() {
                with_neighbours.insert(x);
            }
        }
    }
    with_neighbours
}

fn le_or_be(d: &[u8], off: usize, n: usize, little: bool) -> Option<u64> {
    let b = d.get(off..off.checked_add(n)?)?;
    let mut v = 0u64;
    for i in 0..n {
        let byte = if little { b[n - 1 - i] } else { b[i] };
        v = (v << 8) | u64::from(byte);
    }
    Some(v)
}

fn be32(d: &[u8], off: usize) -> Option<u32> {
    le_or_be(d, off, 4, false).map(|v| v as u32)
}

fn elf_boundaries(d: &[u8], out: &mut BTreeSet<usize>) {
    let is64 = d.get(4) == Some(&2);
    let little = d.get(5) != Some(&2);
    let rd = |off: usize, n: usize| le_or_be(d, off, n, little).unwrap_or(0) as usize;
    let (phoff, shoff, phentsize, phnum, shentsize, shnum) = if is64 {
        (
            rd(32, 8),
            rd(40, 8),
            rd(54, 2),
            rd(56, 2),
            rd(58, 2),
            rd(60, 2),
        )
    } else {
        (
            rd(28, 4),
            rd(32, 4),
            rd(42, 2),
            rd(44, 2),
            rd(46, 2),
            rd(48, 2),
        )
    };
    out.insert(if is64 { 64 } else { 52 });
    for i in 0..=phnum.min(64) {
        let at = phoff + i * phentsize;
        out.insert(at);
        if i < phnum {
            let (off, filesz) = if is64 {
                (rd(at + 8, 8), rd(at + 32, 8))
            } else {
                (rd(at + 4, 4), rd(at + 16, 4))
            };
            out.insert(off);
            out.insert(off.saturating_add(filesz));
        }
    }
    for i in 0..=shnum.min(128) {
        let at = shoff + i * shentsize;
        out.insert(at);
        if i < shnum {
            let (ty, off, size) = if is64 {
                (rd(at + 4, 4), rd(at + 24, 8), rd(at + 32, 8))
            } else {
                (rd(at + 4, 4), rd(at + 16, 4), rd(at + 20, 4))
            };
            out.insert(off);
            if ty != 8 {
                out.insert(off.saturating_add(size)); // not SHT_NOBITS
            }
        }
    }
}

fn macho_boundaries(d: &[u8]) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    let (little, is64) = match d.get(..4) {
        Some([0xce, 0xfa, 0xed, 0xfe]) => (true, false),
        Some([0xcf, 0xfa, 0xed, 0xfe]) => (true, true),
        Some([0xfe, 0xed, 0xfa, 0xce]) => (false, false),
        Some([0xfe, 0xed, 0xfa, 0xcf]) => (false, true),
        _ => return out,
    };
    let rd32 = |off: usize| le_or_be(d, off, 4, little).unwrap_or(0) as usize;
    let rd64 = |off: usize| le_or_be(d, off, 8, little).unwrap_or(0) as usize;
    let header = if is64 { 32 } else { 28 };
    out.insert(header);
    let ncmds = rd32(16);
    let mut at = header;
    for _ in 0..ncmds.min(256) {
        out.insert(at);
        let (cmd, size) = (rd32(at), rd32(at + 4));
        match cmd {
            0x19 => {
                // LC_SEGMENT_64
                let (off, filesz) = (rd64(at + 40), rd64(at + 48));
                out.insert(off);
                out.insert(off.saturating_add(filesz));
            }
            0x1 => {
                let (off, filesz) = (rd32(at + 32), rd32(at + 36));
                out.insert(off);
                out.insert(off.saturating_add(filesz));
            }
            0x2 => {
                // LC_SYMTAB: symoff, nsyms, stroff, strsize
                let (symoff, nsyms, stroff, strsize) =
                    (rd32(at + 8), rd32(at + 12), rd32(at + 16), rd32(at + 20));
                let entry = if is64 { 16 } else { 12 };
                out.insert(symoff);
                out.insert(symoff.saturating_add(nsyms.saturating_mul(entry)));
                out.insert(stroff);
                out.insert(stroff.saturating_add(strsize));
            }
            0x22 | 0x8000_0022 => {
                // LC_DYLD_INFO(_ONLY): rebase, bind, weak bind, lazy bind, export (off, size) pairs
                for k in 0..5 {
                    let (off, size) = (rd32(at + 8 + k * 8), rd32(at + 12 + k * 8));
                    if size != 0 {
                        out.insert(off);
                        out.insert(off.saturating_add(size));
                    }
                }
            }
            0x8000_0033 | 0x8000_0034 | 0x1d | 0x26 => {
                // linkedit_data_command: exports trie, chained fixups, code signature, function starts
                let (off, size) = (rd32(at + 8), rd32(at + 12));
                out.insert(off);
                out.insert(off.saturating_add(size));
            }
            _ => {}
        }
        if size < 8 {
            break;
        }
        at += size;
    }
    out.insert(at);
    out
}

fn pe_boundaries(d: &[u8], out: &mut BTreeSet<usize>) {
    let rd = |off: usize, n: usize| le_or_be(d, off, n, true).unwrap_or(0) as usize;
    out.insert(0x40);
    let lfanew = rd(0x3c, 4);
    out.insert(lfanew);
    out.insert(lfanew + 4);
    let coff = lfanew + 4;
    out.insert(coff + 20);
    let nsections = rd(coff + 2, 2);
    let opt_size = rd(coff + 16, 2);
    let table = coff + 20 + opt_size;
    for i in 0..=nsections.min(96) {
        let at = table + i * 40;
        out.insert(at);
        if i < nsections {
            let (raw_size, raw_ptr) = (rd(at + 16, 4), rd(at + 20, 4));
            out.insert(raw_ptr);
            out.insert(raw_ptr.saturating_add(raw_size));
        }
    }
}

fn truncations(name: &str, d: &[u8]) -> Vec<Case> {
    let len = d.len();
    let mut lens: BTreeSet<usize> = [0, 1, 2, 3, 4, 5, 7, 8, 16, 20, 24, 28, 32, 52, 60, 64, 100]
        .into_iter()
        .filter(|&l| l < len)
        .collect();
    for i in 1..EVEN_TRUNCATIONS {
        lens.insert(len * i / EVEN_TRUNCATIONS);
    }
    lens.extend(boundaries(d).into_iter().filter(|&l| l < len));
    let lens: Vec<usize> = lens.into_iter().collect();
    let picked: Vec<usize> = if lens.len() <= MAX_TRUNCATIONS {
        lens
    } else {
        (0..MAX_TRUNCATIONS)
            .map(|i| lens[i * lens.len() / MAX_TRUNCATIONS])
            .collect()
    };
    picked
        .into_iter()
        .map(|l| Case {
            label: format!("{name} truncated to {l} of {len} bytes"),
            data: d[..l].to_vec(),
        })
        .collect()
}

fn corruptions(name: &str, d: &[u8], rng: &mut Rng) -> Vec<Case> {
    if d.is_empty() {
        return Vec::new();
    }
    // Offsets worth hitting more often than chance would: the headers and the structure boundaries.
    let hot: Vec<usize> = boundaries(d).into_iter().filter(|&b| b < d.len()).collect();
    let mut cases = Vec::with_capacity(CORRUPTIONS_PER_FIXTURE);
    for n in 0..CORRUPTIONS_PER_FIXTURE {
        let mut data = d.to_vec();
        let mut what = Vec::new();
        for _ in 0..1 + rng.below(4) {
            let off = match rng.below(4) {
                0 | 1 => rng.below(d.len().min(512)),
                2 if !hot.is_empty() => {
                    (hot[rng.below(hot.len())] + rng.below(24)).min(d.len() - 1)
                }
                _ => rng.below(d.len()),
            };
            match rng.below(6) {
                0 => {
                    let bit = 1u8 << rng.below(8);
                    data[off] ^= bit;
                    what.push(format!("{off:#x}^={bit:#04x}"));
                }
                1 => {
                    data[off] = 0xff;
                    what.push(format!("{off:#x}=ff"));
                }
                2 => {
                    data[off] = 0;
                    what.push(format!("{off:#x}=00"));
                }
                3 => {
                    let v = rng.next() as u8;
                    data[off] = v;
                    what.push(format!("{off:#x}={v:02x}"));
                }
                _ => {
                    // A large 32-bit value, as a corrupted count, size or offset would be.
                    let v: u32 =
                        [0xffff_ffff, 0x7fff_ffff, 0x8000_0000, 0x0010_0000, 0xffff][rng.below(5)];
                    for (i, b) in v.to_le_bytes().iter().enumerate() {
                        if let Some(x) = data.get_mut(off + i) {
                            *x = *b;
                        }
                    }
                    what.push(format!("{off:#x}=u32:{v:#x}"));
                }
            }
        }
        cases.push(Case {
            label: format!("{name} corruption #{n}: {}", what.join(" ")),
            data,
        });
    }
    cases
}

struct Corpus {
    /// (fixture name, cases) in fixture order.
    per_fixture: Vec<(String, Vec<Case>)>,
}

fn corpus(seed: u64) -> Corpus {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    let mut rng = Rng(seed);
    let per_fixture = fixtures()
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&root).unwrap_or(&p).display().to_string();
            let d = std::fs::read(&p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            let mut cases = truncations(&name, &d);
            cases.extend(corruptions(&name, &d, &mut rng));
            (name, cases)
        })
        .collect();
    Corpus { per_fixture }
}

fn threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(2, 8)
}

// ---------------------------------------------------------------------------------------------------------------
// Library level.

/// What one read did wrong, if anything.
fn read_case(label: &str, data: &[u8], opts: ReadOptions) -> Option<String> {
    let path = format!("<{label}>");
    ALLOC_WORST.with(|w| w.set(0));
    ALLOC_LIMIT.with(|l| l.set(alloc_limit(data.len())));
    IN_CASE.with(|f| f.set(true));
    let result = catch_unwind(AssertUnwindSafe(|| {
        match read_images(&path, data, None, opts) {
            Ok(images) => {
                // Touch everything a command would: serialise the whole model.
                let json = serde_json::to_vec(&images).map_err(|e| format!("serialising: {e}"))?;
                for img in &images {
                    let summary = ffi_doctor::binary::summary::summarize(img);
                    serde_json::to_vec(&summary).map_err(|e| format!("summary: {e}"))?;
                }
                Ok(json.len())
            }
            Err(e) => {
                if e.path != path {
                    return Err(format!("error names {:?}, not the file", e.path));
                }
                if e.expected.is_empty() || e.found.is_empty() {
                    return Err(format!("error without expected/found: {e}"));
                }
                if e.offset.is_none() {
                    return Err(format!("error without an offset: {e}"));
                }
                Ok(0)
            }
        }
    }));
    IN_CASE.with(|f| f.set(false));
    ALLOC_LIMIT.with(|l| l.set(0));
    let worst = ALLOC_WORST.with(|w| w.get());
    let mut problems = Vec::new();
    match result {
        Ok(Ok(_)) => {}
        Ok(Err(msg)) => problems.push(msg),
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string payload".into());
            problems.push(format!("panicked: {msg}"));
        }
    }
    if worst != 0 {
        problems.push(format!(
            "allocated {worst} bytes at once for a {}-byte input (limit {})",
            data.len(),
            alloc_limit(data.len())
        ));
    }
    (!problems.is_empty()).then(|| format!("{label}: {}", problems.join("; ")))
}

#[test]
fn library_survives_truncation_and_corruption() {
    let seed = seed();
    println!("robustness seed: {seed:#x} (replay with FFI_DOCTOR_FUZZ_SEED={seed:#x})");
    let started = Instant::now();
    let corpus = corpus(seed);
    let cases: Vec<Case> = corpus
        .per_fixture
        .into_iter()
        .flat_map(|(_, c)| c)
        .collect();
    // FFI_DOCTOR_ROBUSTNESS_DUMP=DIR writes every case to DIR/case-N.bin (labels in DIR/index.txt) to replay it
    // with the binary or a debugger.
    if let Some(dir) = std::env::var_os("FFI_DOCTOR_ROBUSTNESS_DUMP") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("dump dir");
        let mut index = String::new();
        for (i, c) in cases.iter().enumerate() {
            std::fs::write(dir.join(format!("case-{i}.bin")), &c.data).expect("dump");
            index.push_str(&format!("case-{i}.bin\t{}\n", c.label));
        }
        std::fs::write(dir.join("index.txt"), index).expect("dump index");
    }
    let cases: Arc<Vec<Case>> = Arc::new(cases);
    let total = cases.len();
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    // Per worker: (index of the case in progress or usize::MAX, when it started).
    let progress: Arc<Vec<Mutex<(usize, Instant)>>> = Arc::new(
        (0..threads())
            .map(|_| Mutex::new((usize::MAX, Instant::now())))
            .collect(),
    );
    quiet_panics_in_cases();
    // FFI_DOCTOR_ROBUSTNESS_TRACE=1 prints each case before reading it (to find one that crashes the process).
    let trace = std::env::var_os("FFI_DOCTOR_ROBUSTNESS_TRACE").is_some();
    let mut handles = Vec::new();
    for w in 0..progress.len() {
        let (cases, next, failures, progress) = (
            cases.clone(),
            next.clone(),
            failures.clone(),
            progress.clone(),
        );
        handles.push(std::thread::spawn(move || loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(case) = cases.get(i) else {
                *progress[w].lock().unwrap() = (usize::MAX, Instant::now());
                break;
            };
            *progress[w].lock().unwrap() = (i, Instant::now());
            if trace {
                eprintln!("case {i}: {}", case.label);
            }
            // Alternate demangling on/off so both paths are covered.
            let opts = ReadOptions {
                demangle: i % 2 == 0,
            };
            if let Some(f) = read_case(&case.label, &case.data, opts) {
                failures.lock().unwrap().push(f);
            }
        }));
    }
    // Watchdog: a read that takes longer than READ_TIMEOUT is a hang.
    loop {
        if handles.iter().all(|h| h.is_finished()) {
            break;
        }
        for p in progress.iter() {
            let (i, since) = *p.lock().unwrap();
            if i != usize::MAX && since.elapsed() > READ_TIMEOUT {
                panic!(
                    "reading took more than {READ_TIMEOUT:?} (hang?): {} (seed {seed:#x})",
                    cases[i].label
                );
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    for h in handles {
        let _ = h.join();
    }
    let failures = failures.lock().unwrap();
    println!(
        "library level: {total} cases in {:.1?}, {} failures",
        started.elapsed(),
        failures.len()
    );
    if !failures.is_empty() {
        let shown: Vec<&str> = failures.iter().take(40).map(String::as_str).collect();
        panic!(
            "{} of {total} corrupted inputs were mishandled (seed {seed:#x}):\n{}",
            failures.len(),
            shown.join("\n")
        );
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Process level.

struct Outcome {
    code: Option<i32>,
    stderr: String,
    timed_out: bool,
}

fn run_child(args: &[&str], file: &Path, scratch: &Path, tag: usize) -> Outcome {
    let err_path = scratch.join(format!("stderr-{tag}"));
    let err_file = std::fs::File::create(&err_path).expect("stderr file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ffi-doctor"))
        .args(args)
        .arg(file)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .env("NO_COLOR", "1")
        .env_remove("RUST_BACKTRACE")
        .spawn()
        .expect("spawning ffi-doctor");
    let start = Instant::now();
    let (status, timed_out) = loop {
        if let Some(s) = child.try_wait().expect("waiting for ffi-doctor") {
            break (Some(s), false);
        }
        if start.elapsed() > CHILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    Outcome {
        code: status.and_then(|s| s.code()),
        stderr,
        timed_out,
    }
}

fn check_outcome(o: &Outcome, file: &Path, what: &str) -> Option<String> {
    let shown = file.display().to_string();
    let mut problems = Vec::new();
    if o.timed_out {
        problems.push(format!("still running after {CHILD_TIMEOUT:?}: killed"));
    }
    match o.code {
        Some(0) => {}
        Some(2) => {
            if o.stderr.trim().is_empty() {
                problems.push("exit 2 with empty stderr".into());
            } else if !o.stderr.contains(&shown) {
                problems.push("stderr does not name the file".into());
            }
        }
        Some(c) => problems.push(format!("exit code {c}")),
        None if !o.timed_out => problems.push("killed by a signal".into()),
        None => {}
    }
    for bad in ["panicked", "internal error", "reader bug"] {
        if o.stderr.contains(bad) {
            problems.push(format!("stderr contains {bad:?}"));
        }
    }
    (!problems.is_empty()).then(|| {
        format!(
            "{what}: {} — stderr: {}",
            problems.join("; "),
            o.stderr.trim()
        )
    })
}

#[test]
fn binary_exits_0_or_2_on_truncated_and_corrupted_files() {
    let seed = seed();
    println!("robustness seed: {seed:#x} (replay with FFI_DOCTOR_FUZZ_SEED={seed:#x})");
    let started = Instant::now();
    let corpus = corpus(seed);
    let dir = tempfile::tempdir().expect("tempdir");
    // Write the sample: PROCESS_PER_FIXTURE cases of each fixture, evenly spread (the first is the empty file).
    let mut jobs: Vec<(PathBuf, String)> = Vec::new();
    for (fi, (_, cases)) in corpus.per_fixture.iter().enumerate() {
        let picked: BTreeSet<usize> = (0..PROCESS_PER_FIXTURE)
            .map(|k| k * cases.len() / PROCESS_PER_FIXTURE)
            .collect();
        for ci in picked {
            let case = &cases[ci];
            let p = dir.path().join(format!("f{fi:02}-c{ci:04}.bin"));
            std::fs::write(&p, &case.data).expect("writing a case");
            jobs.push((p, case.label.clone()));
        }
    }
    let commands: [&[&str]; 3] = [
        &["inspect"],
        &["exports", "--format", "json"],
        &["imports", "--format", "json"],
    ];
    let runs: Vec<(usize, usize)> = (0..jobs.len())
        .flat_map(|j| (0..commands.len()).map(move |c| (j, c)))
        .collect();
    let jobs = Arc::new(jobs);
    let runs = Arc::new(runs);
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let scratch = Arc::new(dir.path().to_path_buf());
    let handles: Vec<_> = (0..threads())
        .map(|_| {
            let (jobs, runs, next, failures, scratch) = (
                jobs.clone(),
                runs.clone(),
                next.clone(),
                failures.clone(),
                scratch.clone(),
            );
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(j, c)) = runs.get(i) else { break };
                let (file, label) = &jobs[j];
                let args = commands[c];
                let o = run_child(args, file, &scratch, i);
                let what = format!(
                    "ffi-doctor {} on {label} ({})",
                    args.join(" "),
                    file.display()
                );
                if let Some(f) = check_outcome(&o, file, &what) {
                    failures.lock().unwrap().push(f);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("worker thread");
    }
    let failures = failures.lock().unwrap();
    println!(
        "process level: {} runs on {} files in {:.1?}, {} failures",
        runs.len(),
        jobs.len(),
        started.elapsed(),
        failures.len()
    );
    if !failures.is_empty() {
        let shown: Vec<&str> = failures.iter().take(30).map(String::as_str).collect();
        panic!(
            "{} of {} runs misbehaved (seed {seed:#x}):\n{}",
            failures.len(),
            runs.len(),
            shown.join("\n")
        );
    }
}

#[test]
fn unmodified_fixtures_read_cleanly_with_bounded_allocations() {
    quiet_panics_in_cases();
    for p in fixtures() {
        let d = std::fs::read(&p).expect("fixture");
        let label = p.display().to_string();
        if let Err(e) = read_images(&label, &d, None, ReadOptions::default()) {
            panic!("fixture {label} does not read: {e}");
        }
        if let Some(f) = read_case(&label, &d, ReadOptions::default()) {
            panic!("{f}");
        }
    }
}
