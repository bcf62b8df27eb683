//! Oracle test for the ctypes layout model (`bindings::ctypes_layout`) and the record check
//! (`bindings::records`):
//!
//! 1. CPython's ctypes: a few hundred random `Structure`/`Union` classes (every fundamental type, arrays,
//!    pointers, function pointers, nesting, base classes, `_pack_`, `_align_`, bitfields, `_anonymous_`, byte-order
//!    classes, and some classes ctypes refuses) are generated as `CRecord`s, written out as one Python module per
//!    interpreter, run once, and `sizeof`, `alignment` and every field's `offset` and `size` are compared value by
//!    value with the model for that Python version on the host. Every CPython 3 found is used: `python3` and
//!    `python3.N` on PATH, `~/.pyenv/versions/*/bin/python3`, and the paths in `FFI_DOCTOR_PYTHONS`
//!    (colon-separated).
//! 2. The C compilers: the same kind of declarations (those C can express) are compiled for all nine targets
//!    (gcc for x86_64 Linux, clang for the others, mingw-w64 gcc for MinGW) to object files whose data holds
//!    every `sizeof`, `_Alignof`, `offsetof` and bitfield position; where the compiler's layout and ctypes'
//!    differ (3.13 and 3.14 rules), the record check must report exactly FFI0761 for that class, and nothing
//!    where they agree; the 3.14 `gcc-sysv` rules must agree with GCC/Clang on every plain record.
//! 3. `testdata/bindings-layout/`: a binding with known mistakes against CPython, its header on three targets
//!    and the DWARF of the library gcc builds from it.
//!
//! Seed: 7 by default, `FFI_DOCTOR_CTYPES_SEED=<n>|random` (printed). Classes per run:
//! `FFI_DOCTOR_CTYPES_COUNT` (default 400; half of it per compiler target). `FFI_DOCTOR_CTYPES_KEEP=1` keeps
//! the generated Python and C; `FFI_DOCTOR_CTYPES_DEBUG=1` prints every class where ctypes and a compiler
//! differ. Missing tools print `skipped: …` unless `FFI_DOCTOR_REQUIRE_ORACLES=1`.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/compiler_probe.rs"]
mod compiler_probe;
#[path = "common/rng.rs"]
mod rng;
use compiler_probe::{compiler_for, symbol_bytes};
use rng::Rng;

use ffi_doctor::abi::Target;
use ffi_doctor::bindings::ctypes_layout::{bitfield_allowed, layouts, PyVersion};
use ffi_doctor::bindings::model::{
    CField, CRecord, CType, CallConv, Endian, LayoutRule, Prototype, Simple,
};
use ffi_doctor::decl::Loc;

fn loc(line: u32) -> Loc {
    Loc {
        file: "gen.py".into(),
        line,
        col: 1,
    }
}

/// What a generated set of classes may use.
#[derive(Clone, Copy)]
struct Features {
    /// Python minor version (`None`: only what C can express, for the compiler comparison).
    minor: Option<u8>,
}

impl Features {
    fn has(self, min_minor: u8) -> bool {
        self.minor.is_some_and(|m| m >= min_minor)
    }
    fn python(self) -> bool {
        self.minor.is_some()
    }
}

const INTS: &[Simple] = &[
    Simple::Byte,
    Simple::UByte,
    Simple::Short,
    Simple::UShort,
    Simple::Int,
    Simple::UInt,
    Simple::Long,
    Simple::ULong,
    Simple::LongLong,
    Simple::ULongLong,
    Simple::Int8,
    Simple::UInt8,
    Simple::Int16,
    Simple::UInt16,
    Simple::Int32,
    Simple::UInt32,
    Simple::Int64,
    Simple::UInt64,
    Simple::Size,
    Simple::SSize,
];

const OTHERS: &[Simple] = &[
    Simple::Bool,
    Simple::Char,
    Simple::WChar,
    Simple::Float,
    Simple::Double,
    Simple::LongDouble,
    Simple::CharP,
    Simple::WCharP,
    Simple::VoidP,
    Simple::PyObject,
];

struct Gen {
    rng: Rng,
    /// The target whose type sizes bound bitfield widths.
    target: Target,
    f: Features,
    recs: Vec<CRecord>,
    protos: Vec<Prototype>,
}

impl Gen {
    fn new(seed: u64, f: Features, target: Target) -> Gen {
        Gen {
            rng: Rng(seed | 1),
            target,
            f,
            recs: Vec::new(),
            protos: Vec::new(),
        }
    }

    fn simple(&mut self, big: bool) -> Simple {
        if self.rng.chance(55) || big {
            let s = *self.rng.pick(INTS);
            if big && self.rng.chance(20) {
                return *self
                    .rng
                    .pick(&[Simple::Float, Simple::Double, Simple::Char]);
            }
            return s;
        }
        if self.f.has(12) && self.rng.chance(5) {
            return Simple::Time;
        }
        *self.rng.pick(OTHERS)
    }

    /// A complete record class usable as a field of a class with this byte order.
    fn nested(&mut self, big: bool) -> Option<usize> {
        let ok: Vec<usize> = (0..self.recs.len())
            .filter(|&i| {
                let r = &self.recs[i];
                r.fields.is_some() && (!big || (!r.is_union && r.endian != Endian::Little))
            })
            .collect();
        (!ok.is_empty()).then(|| ok[self.rng.below(ok.len() as u64) as usize])
    }

    fn ty(&mut self, depth: u32, big: bool) -> CType {
        let roll = self.rng.below(100);
        if roll < 12 && depth < 2 {
            let len = self.rng.below(5);
            let elem = self.ty(depth + 1, big);
            return CType::Array {
                elem: Box::new(elem),
                len,
            };
        }
        if roll < 22 && !big {
            let pointee = match self.recs.len() {
                n if n > 0 && self.rng.chance(50) => CType::Record {
                    id: self.rng.below(n as u64) as usize,
                },
                _ => CType::Simple {
                    simple: self.simple(false),
                },
            };
            return CType::Pointer {
                pointee: Box::new(pointee),
            };
        }
        if roll < 27 && !big {
            let ret = CType::Simple {
                simple: *self.rng.pick(INTS),
            };
            let argtypes = (0..self.rng.below(3))
                .map(|_| CType::Simple {
                    simple: *self.rng.pick(INTS),
                })
                .collect();
            self.protos.push(Prototype {
                name: None,
                restype: ret,
                argtypes,
                conv: CallConv::Cdecl,
                loc: loc(0),
            });
            return CType::FuncPtr {
                id: self.protos.len() - 1,
            };
        }
        if roll < 42 {
            if let Some(id) = self.nested(big) {
                return CType::Record { id };
            }
        }
        CType::Simple {
            simple: self.simple(big),
        }
    }

    fn record(&mut self) {
        let id = self.recs.len();
        let name = format!("R{id}");
        let py = self.f.python();
        if py && self.rng.chance(3) {
            self.recs.push(CRecord {
                name,
                is_union: false,
                endian: Endian::Native,
                fields: None,
                pack: None,
                align: None,
                layout: None,
                anonymous: vec![],
                base: None,
                loc: loc(0),
            });
            return;
        }
        let mut is_union = self.rng.chance(25);
        let mut endian = Endian::Native;
        if py && self.rng.chance(15) && (!is_union || self.f.has(11)) {
            endian = if self.rng.chance(75) {
                Endian::Big
            } else {
                Endian::Little
            };
        }
        let mut base = None;
        if self.rng.chance(10) {
            let cands: Vec<usize> = (0..self.recs.len())
                .filter(|&i| self.recs[i].fields.is_some() && !self.recs[i].is_union)
                .collect();
            if !cands.is_empty() {
                let b = cands[self.rng.below(cands.len() as u64) as usize];
                base = Some(b);
                is_union = false;
                endian = self.recs[b].endian;
            }
        }
        let big = endian == Endian::Big;
        let pack = self
            .rng
            .chance(22)
            .then(|| *self.rng.pick(&[1u64, 2, 4, 8]));
        let align = (py && self.rng.chance(if self.f.has(13) { 12 } else { 4 }))
            .then(|| *self.rng.pick(&[1u64, 2, 4, 8, 16, 32]));
        let mut layout = None;
        if self.f.has(14) && self.rng.chance(15) {
            layout = Some(if pack.is_some() || self.rng.chance(50) {
                LayoutRule::Ms
            } else {
                LayoutRule::GccSysv
            });
        }
        let n = self.rng.below(9);
        let mut fields = Vec::new();
        let mut anonymous = Vec::new();
        let bitfield_heavy = self.rng.chance(35);
        for i in 0..n {
            let fname = format!("r{id}f{i}");
            let (ty, bits) = if self.rng.chance(if bitfield_heavy { 60 } else { 8 }) {
                let s = if big {
                    *self.rng.pick(INTS)
                } else if self.rng.chance(10) {
                    Simple::Bool
                } else {
                    *self.rng.pick(INTS)
                };
                let (size, _) =
                    ffi_doctor::bindings::ctypes_layout::simple_size_align(s, self.target)
                        .expect("every generated type exists on the target");
                let w = if s == Simple::Bool && !py {
                    1 // C allows no wider `_Bool` bitfield
                } else {
                    1 + self.rng.below(size * 8) as u32
                };
                (CType::Simple { simple: s }, Some(w))
            } else {
                (self.ty(0, big), None)
            };
            // A few declarations ctypes refuses.
            let (ty, bits) = if py && self.rng.chance(1) {
                match self.rng.below(2) {
                    0 => (
                        CType::Simple {
                            simple: Simple::Int,
                        },
                        Some(33),
                    ),
                    _ => (
                        CType::Simple {
                            simple: Simple::Double,
                        },
                        Some(3),
                    ),
                }
            } else {
                (ty, bits)
            };
            if bits.is_none() && self.rng.chance(8) {
                if let CType::Record { id: rid } = ty {
                    if !big || !self.recs[rid].is_union {
                        anonymous.push(fname.clone());
                    }
                }
            }
            fields.push(CField {
                name: fname,
                ty,
                bits,
                loc: loc(1_000_000 + id as u32 * 100 + i as u32),
            });
        }
        let _ = bitfield_allowed;
        self.recs.push(CRecord {
            name,
            is_union,
            endian,
            fields: Some(fields),
            pack,
            align,
            layout,
            anonymous,
            base,
            loc: loc(id as u32 + 1),
        });
    }
}

fn py_type(g: &Gen, ty: &CType) -> String {
    match ty {
        CType::Simple { simple } => simple.name().to_string(),
        CType::Pointer { pointee } => format!("POINTER({})", py_type(g, pointee)),
        CType::Array { elem, len } => format!("({} * {len})", py_type(g, elem)),
        CType::Record { id } => g.recs[*id].name.clone(),
        CType::FuncPtr { id } => {
            let p = &g.protos[*id];
            let mut s = format!("CFUNCTYPE({}", py_type(g, &p.restype));
            for a in &p.argtypes {
                let _ = write!(s, ", {}", py_type(g, a));
            }
            s.push(')');
            s
        }
        CType::Void => "None".into(),
        CType::Unknown { text } => text.clone(),
    }
}

fn python_module(g: &Gen) -> String {
    let mut s = String::from(
        "import sys, warnings\nwarnings.simplefilter('ignore')\nfrom ctypes import *\nout = []\n\
         def dump(i, C):\n    out.append('R %d %d %d' % (i, sizeof(C), alignment(C)))\n    \
         for j, f in enumerate(C.__dict__['_fields_']):\n        d = C.__dict__[f[0]]\n        \
         out.append('F %d %d %d %d' % (i, j, d.offset, d.size))\n",
    );
    for (i, r) in g.recs.iter().enumerate() {
        let parent = match (r.base, r.is_union, r.endian) {
            (Some(b), _, _) => g.recs[b].name.clone(),
            (None, false, Endian::Native) => "Structure".into(),
            (None, true, Endian::Native) => "Union".into(),
            (None, false, Endian::Big) => "BigEndianStructure".into(),
            (None, true, Endian::Big) => "BigEndianUnion".into(),
            (None, false, Endian::Little) => "LittleEndianStructure".into(),
            (None, true, Endian::Little) => "LittleEndianUnion".into(),
        };
        let _ = writeln!(s, "try:\n    class {}({parent}):", r.name);
        let Some(fields) = &r.fields else {
            let _ = writeln!(s, "        pass\nexcept Exception as e:\n    out.append('E {i} %s' % type(e).__name__)");
            continue;
        };
        if let Some(p) = r.pack {
            let _ = writeln!(s, "        _pack_ = {p}");
        }
        if let Some(a) = r.align {
            let _ = writeln!(s, "        _align_ = {a}");
        }
        match &r.layout {
            Some(LayoutRule::Ms) => s.push_str("        _layout_ = 'ms'\n"),
            Some(LayoutRule::GccSysv) => s.push_str("        _layout_ = 'gcc-sysv'\n"),
            Some(LayoutRule::Other(o)) => {
                let _ = writeln!(s, "        _layout_ = {o:?}");
            }
            None => {}
        }
        if !r.anonymous.is_empty() {
            let names: Vec<String> = r.anonymous.iter().map(|a| format!("'{a}'")).collect();
            let _ = writeln!(s, "        _anonymous_ = ({},)", names.join(", "));
        }
        s.push_str("        _fields_ = [\n");
        for f in fields {
            match f.bits {
                Some(b) => {
                    let _ = writeln!(s, "            ('{}', {}, {b}),", f.name, py_type(g, &f.ty));
                }
                None => {
                    let _ = writeln!(s, "            ('{}', {}),", f.name, py_type(g, &f.ty));
                }
            }
        }
        let _ = writeln!(
            s,
            "        ]\n    dump({i}, {})\nexcept Exception as e:\n    out.append('E {i} %s' % type(e).__name__)",
            r.name
        );
    }
    s.push_str("sys.stdout.write('\\n'.join(out) + '\\n')\n");
    s
}

/// CPython interpreters to use, by minor version (one per minor).
fn pythons() -> BTreeMap<u8, PathBuf> {
    let mut cands: Vec<PathBuf> = Vec::new();
    if let Some(p) = common::find_tool("python3") {
        cands.push(p);
    }
    for m in 6..=20 {
        if let Some(p) = common::find_tool(&format!("python3.{m}")) {
            cands.push(p);
        }
    }
    if let Some(home) = std::env::var_os("HOME") {
        let dir = Path::new(&home).join(".pyenv/versions");
        if let Ok(rd) = std::fs::read_dir(dir) {
            let mut v: Vec<PathBuf> = rd
                .flatten()
                .map(|e| e.path().join("bin/python3"))
                .filter(|p| p.exists())
                .collect();
            v.sort();
            cands.extend(v);
        }
    }
    if let Some(extra) = std::env::var_os("FFI_DOCTOR_PYTHONS") {
        cands.extend(std::env::split_paths(&extra));
    }
    let mut out = BTreeMap::new();
    for p in cands {
        let Ok(o) = Command::new(&p)
            .args([
                "-c",
                "import sys, ctypes; print(sys.version_info[0], sys.version_info[1])",
            ])
            .output()
        else {
            continue;
        };
        let v = String::from_utf8_lossy(&o.stdout);
        let mut it = v.split_whitespace();
        if o.status.success() && it.next() == Some("3") {
            if let Some(m) = it.next().and_then(|m| m.parse::<u8>().ok()) {
                out.entry(m).or_insert(p);
            }
        }
    }
    out
}

fn seed_and_count() -> (u64, usize) {
    let seed = match std::env::var("FFI_DOCTOR_CTYPES_SEED")
        .as_deref()
        .map(str::trim)
    {
        Ok("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
        Ok(s) => s
            .parse()
            .expect("FFI_DOCTOR_CTYPES_SEED must be an integer or `random`"),
        Err(_) => 7,
    };
    let count = std::env::var("FFI_DOCTOR_CTYPES_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(400);
    (seed, count)
}

/// Runs the generated module with one interpreter and compares every value with the model.
fn compare_python(
    python: &Path,
    minor: u8,
    seed: u64,
    count: usize,
    dir: &Path,
) -> (usize, Vec<String>) {
    let host = Target::host().expect("a supported host");
    let mut g = Gen::new(
        seed ^ u64::from(minor),
        Features { minor: Some(minor) },
        host,
    );
    for _ in 0..count {
        g.record();
    }
    let src = dir.join(format!("classes_3_{minor}.py"));
    std::fs::write(&src, python_module(&g)).unwrap();
    let out = Command::new(python)
        .arg("-I")
        .arg(&src)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{} {} failed:\n{}",
        python.display(),
        src.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let mut sizes: BTreeMap<usize, (u64, u64)> = BTreeMap::new();
    let mut fields: BTreeMap<(usize, usize), (i64, i64)> = BTreeMap::new();
    let mut errors: BTreeMap<usize, String> = BTreeMap::new();
    for line in text.lines() {
        let w: Vec<&str> = line.split_whitespace().collect();
        match w.as_slice() {
            ["R", i, s, a] => {
                sizes.insert(i.parse().unwrap(), (s.parse().unwrap(), a.parse().unwrap()));
            }
            ["F", i, j, o, s] => {
                fields.insert(
                    (i.parse().unwrap(), j.parse().unwrap()),
                    (o.parse().unwrap(), s.parse().unwrap()),
                );
            }
            ["E", i, e] => {
                errors.insert(i.parse().unwrap(), e.to_string());
            }
            _ => panic!("unexpected line from python: {line}"),
        }
    }
    let py = PyVersion::new(minor);
    let model = layouts(&g.recs, &g.protos, host, py);
    let mut compared = 0;
    let mut mm = Vec::new();
    let mut failed: Vec<bool> = model.iter().map(Result::is_err).collect();
    for (i, (r, m)) in g.recs.iter().zip(&model).enumerate() {
        if r.fields.is_none() {
            continue;
        }
        let name = &r.name;
        match (m, errors.get(&i), sizes.get(&i)) {
            (Err(e), Some(_), _) => {
                compared += 1;
                if !e.ctypes_raises {
                    mm.push(format!(
                        "3.{minor} {name}: ctypes raises, the model does not know: {e}"
                    ));
                }
            }
            (Err(e), None, _) => mm.push(format!(
                "3.{minor} {name}: ctypes accepts it, the model says: {e}"
            )),
            // A class naming (through `POINTER`) a class that ctypes refused fails with NameError.
            (Ok(_), Some(err), _) if err == "NameError" && names_failed(&g, &failed, i) => {
                failed[i] = true;
                compared += 1;
            }
            (Ok(_), Some(err), _) => mm.push(format!(
                "3.{minor} {name}: ctypes raises {err}, the model lays it out"
            )),
            (Ok(l), None, Some(&(size, align))) => {
                compared += 2;
                if (l.size, l.align) != (size, align) {
                    mm.push(format!(
                        "3.{minor} {name}: sizeof/alignment ctypes {size}/{align}, model {}/{}",
                        l.size, l.align
                    ));
                }
                for (j, f) in l.fields.iter().enumerate() {
                    compared += 2;
                    let want = fields.get(&(i, j)).copied();
                    if want != Some((f.offset, f.size)) {
                        mm.push(format!(
                            "3.{minor} {name}.{}: offset/size ctypes {want:?}, model ({}, {})",
                            f.name, f.offset, f.size
                        ));
                    }
                }
            }
            (Ok(_), None, None) => mm.push(format!("3.{minor} {name}: no output from python")),
        }
    }
    if !mm.is_empty() {
        mm.insert(0, format!("module: {}", src.display()));
    }
    (compared, mm)
}

/// Whether record `i` names (as its base, through `POINTER`, arrays or fields) a record that failed.
fn names_failed(g: &Gen, failed: &[bool], i: usize) -> bool {
    fn walk(failed: &[bool], ty: &CType) -> bool {
        match ty {
            CType::Record { id } => failed[*id],
            CType::Pointer { pointee } => walk(failed, pointee),
            CType::Array { elem, .. } => walk(failed, elem),
            _ => false,
        }
    }
    g.recs[i].base.is_some_and(|b| failed[b])
        || g.recs[i]
            .fields
            .iter()
            .flatten()
            .any(|f| walk(failed, &f.ty))
}

#[test]
fn ctypes_layout_matches_cpython() {
    let (seed, count) = seed_and_count();
    if Target::host().is_none() {
        println!("skipped: the host is not a supported target");
        return;
    }
    let pys = pythons();
    if pys.is_empty() {
        common::oracle("python3");
        return;
    }
    eprintln!(
        "ctypes oracle: seed {seed} (replay with FFI_DOCTOR_CTYPES_SEED={seed}), {count} classes per interpreter, \
         Python 3.{}",
        pys.keys().map(|m| m.to_string()).collect::<Vec<_>>().join(", 3.")
    );
    let keep = std::env::var_os("FFI_DOCTOR_CTYPES_KEEP").is_some();
    let tmp = tempfile::tempdir().unwrap();
    let dir = if keep {
        tmp.keep()
    } else {
        tmp.path().to_path_buf()
    };
    let mut all = Vec::new();
    for (minor, p) in &pys {
        let (n, mm) = compare_python(p, *minor, seed, count, &dir);
        eprintln!(
            "  3.{minor} ({}): {n} values compared, {} mismatches",
            p.display(),
            mm.len().saturating_sub(1)
        );
        all.extend(mm);
    }
    assert!(
        all.is_empty(),
        "{} mismatches (seed {seed}):\n{}",
        all.len(),
        all.iter().take(60).cloned().collect::<Vec<_>>().join("\n")
    );
}

// ------------------------------------------------------------------------------------------------------------
// Part 2: the same declarations as C, compiled for each target; ctypes vs the compiler.

fn c_simple(s: Simple) -> String {
    match s {
        Simple::SSize => "ssize_t".into(),
        Simple::Time => "time_t".into(),
        _ => ffi_doctor::decl::c_spelling::type_name(
            &ffi_doctor::decl::Spec::default(),
            &s.c_type().ty,
        ),
    }
}

/// `(type before the name, suffix after it)` of a C declaration of `ty`.
fn c_decl(g: &Gen, ty: &CType) -> (String, String) {
    match ty {
        CType::Simple { simple } => match simple {
            Simple::CharP => ("char *".into(), String::new()),
            Simple::WCharP => ("wchar_t *".into(), String::new()),
            Simple::VoidP | Simple::PyObject => ("void *".into(), String::new()),
            s => (c_simple(*s), String::new()),
        },
        CType::Pointer { .. } | CType::FuncPtr { .. } => ("void *".into(), String::new()),
        CType::Array { elem, len } => {
            let (t, suffix) = c_decl(g, elem);
            (t, format!("[{len}]{suffix}"))
        }
        CType::Record { id } => {
            let r = &g.recs[*id];
            (
                format!("{} {}", if r.is_union { "union" } else { "struct" }, r.name),
                String::new(),
            )
        }
        CType::Void | CType::Unknown { .. } => unreachable!("not generated"),
    }
}

/// The members C declares for record `id`: its bases' first (flattened), then its own.
fn c_members(g: &Gen, id: usize) -> Vec<&CField> {
    let r = &g.recs[id];
    let mut v = r.base.map(|b| c_members(g, b)).unwrap_or_default();
    v.extend(r.fields.iter().flatten());
    v
}

fn c_source(g: &Gen) -> String {
    let mut s = String::from(
        "#include <stddef.h>\n#include <stdint.h>\n#include <stdbool.h>\ntypedef __PTRDIFF_TYPE__ ssize_t;\n",
    );
    for (id, r) in g.recs.iter().enumerate() {
        if let Some(p) = r.pack.or_else(|| r.base.and_then(|b| inherited_pack(g, b))) {
            let _ = writeln!(s, "#pragma pack(push, {p})");
        }
        let _ = writeln!(
            s,
            "{} {} {{",
            if r.is_union { "union" } else { "struct" },
            r.name
        );
        for f in c_members(g, id) {
            let (t, suffix) = c_decl(g, &f.ty);
            match f.bits {
                Some(b) => {
                    let _ = writeln!(s, "  {t} {} : {b};", f.name);
                }
                None => {
                    let _ = writeln!(s, "  {t} {}{suffix};", f.name);
                }
            }
        }
        s.push_str("};\n");
        if r.pack.is_some() || r.base.and_then(|b| inherited_pack(g, b)).is_some() {
            s.push_str("#pragma pack(pop)\n");
        }
    }
    s
}

fn inherited_pack(g: &Gen, id: usize) -> Option<u64> {
    let r = &g.recs[id];
    r.pack.or_else(|| r.base.and_then(|b| inherited_pack(g, b)))
}

/// A record as the compiler laid it out: size, alignment, and each member's position in bits.
struct Compiled {
    size: u64,
    align: u64,
    pos: Vec<u64>,
}

fn compile(g: &Gen, t: Target, dir: &Path) -> Result<Vec<Compiled>, String> {
    let (cc, args) = compiler_for(t);
    let mut c = c_source(g);
    let mut vals = Vec::new();
    let mut bits = Vec::new();
    for (id, r) in g.recs.iter().enumerate() {
        let ty = format!("{} {}", if r.is_union { "union" } else { "struct" }, r.name);
        vals.push(format!("sizeof({ty})"));
        vals.push(format!("_Alignof({ty})"));
        for f in c_members(g, id) {
            match f.bits {
                None => vals.push(format!("__builtin_offsetof({ty}, {})", f.name)),
                Some(_) => {
                    let v = if matches!(
                        f.ty,
                        CType::Simple {
                            simple: Simple::Bool
                        }
                    ) {
                        "1"
                    } else {
                        "-1"
                    };
                    let sym = format!("ffi_bf_{}", bits.len());
                    let _ = writeln!(c, "const {ty} {sym} = {{ .{} = {v} }};", f.name);
                    bits.push(sym);
                }
            }
        }
    }
    let _ = writeln!(c, "const unsigned long long ffi_vals[] = {{");
    for v in &vals {
        let _ = writeln!(c, "  (unsigned long long)({v}),");
    }
    c.push_str("};\n");
    let src = dir.join(format!("{}.c", t.name()));
    let obj = dir.join(format!("{}.o", t.name()));
    std::fs::write(&src, &c).unwrap();
    let out = Command::new(&cc)
        .args(&args)
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output()
        .map_err(|e| format!("{cc}: {e}"))?;
    if !out.status.success() {
        panic!(
            "{t}: {cc} failed on {}:\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let data = std::fs::read(&obj).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let raw = symbol_bytes(&file, "ffi_vals", vals.len() * 8).expect("ffi_vals");
    let mut vals = raw
        .chunks(8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()));
    let mut bit_syms = bits.iter();
    let mut out = Vec::new();
    for (id, _) in g.recs.iter().enumerate() {
        let size = vals.next().unwrap();
        let align = vals.next().unwrap();
        let mut pos = Vec::new();
        for f in c_members(g, id) {
            match f.bits {
                None => pos.push(vals.next().unwrap() * 8),
                Some(_) => {
                    let sym = bit_syms.next().unwrap();
                    let bytes = symbol_bytes(&file, sym, size as usize).expect("bitfield probe");
                    let first = bytes
                        .iter()
                        .enumerate()
                        .flat_map(|(i, b)| {
                            (0..8)
                                .filter(move |k| b & (1 << k) != 0)
                                .map(move |k| (i * 8 + k) as u64)
                        })
                        .next()
                        .expect("a set bit");
                    pos.push(first);
                }
            }
        }
        out.push(Compiled { size, align, pos });
    }
    Ok(out)
}

/// A record without `_pack_`, without a base class, and whose nested records are such records too.
fn plain_c(g: &Gen, id: usize) -> bool {
    fn ty_ok(g: &Gen, ty: &CType) -> bool {
        match ty {
            CType::Record { id } => plain_c(g, *id),
            CType::Array { elem, .. } => ty_ok(g, elem),
            _ => true,
        }
    }
    let r = &g.recs[id];
    inherited_pack(g, id).is_none()
        && r.base.is_none()
        && r.fields.iter().flatten().all(|f| ty_ok(g, &f.ty))
}

/// ctypes' placement of record `id`: size, alignment, each member's position in bits (bases first).
fn ctypes_positions(
    g: &Gen,
    model: &[Result<
        ffi_doctor::bindings::ctypes_layout::CtypesLayout,
        ffi_doctor::bindings::ctypes_layout::CtypesLayoutError,
    >],
    id: usize,
) -> (u64, u64, Vec<i64>) {
    let l = model[id].as_ref().expect("C-expressible classes lay out");
    let mut pos = match g.recs[id].base {
        Some(b) => ctypes_positions(g, model, b).2,
        None => Vec::new(),
    };
    pos.extend(
        l.fields
            .iter()
            .map(|f| f.offset * 8 + i64::from(f.bit_offset.unwrap_or(0))),
    );
    (l.size, l.align, pos)
}

#[test]
fn records_check_reports_where_ctypes_and_the_compiler_disagree() {
    use ffi_doctor::bindings::records::{check_records, RecordTruth};
    let (seed, count) = seed_and_count();
    let count = count / 2;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.keep();
    let mut ran = 0;
    let mut problems = Vec::new();
    for t in Target::ALL {
        let (cc, _) = compiler_for(t);
        if common::oracle(&cc).is_none() {
            continue;
        }
        ran += 1;
        let mut g = Gen::new(
            seed ^ (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            Features { minor: None },
            t,
        );
        for _ in 0..count {
            g.record();
        }
        let compiled = compile(&g, t, &dir).unwrap();
        let c = c_source(&g);
        let opts = ffi_doctor::decl::ParseOptions {
            target_defines: t.predefined_macros(),
            ..Default::default()
        };
        let spec = ffi_doctor::decl::parse_str("gen.h", &c, &opts).expect("generated C parses");
        let mut stats = (0, 0);
        for py in [PyVersion::new(13), PyVersion::new(14)] {
            let model = layouts(&g.recs, &g.protos, t, py);
            let truth = RecordTruth {
                headers: vec![(t, &spec)],
                ..Default::default()
            };
            let findings = check_records(&g.recs, &g.protos, &truth, &[t], py);
            for (id, r) in g.recs.iter().enumerate() {
                let (size, align, pos) = ctypes_positions(&g, &model, id);
                let cc = &compiled[id];
                let agree = size == cc.size
                    && align == cc.align
                    && pos.iter().zip(&cc.pos).all(|(a, b)| *a == *b as i64);
                let mine: Vec<&str> = findings
                    .iter()
                    .filter(|f| {
                        f.location.line.is_some_and(|l| {
                            l == r.loc.line
                                || (l >= 1_000_000 && (l - 1_000_000) / 100 == id as u32)
                        })
                    })
                    .map(|f| f.code.id())
                    // `_pack_` without `_layout_` (3.14) is about the class alone.
                    .filter(|c| *c != "FFI0762")
                    .collect();
                let ok = if agree {
                    mine.is_empty()
                } else {
                    mine == ["FFI0761"]
                };
                // 3.14's "gcc-sysv" rules are GCC's: without `_pack_` (which selects the MSVC rules) and without a
                // base class (which C has no equivalent of), here or in nested records, ctypes must agree with
                // GCC/Clang.
                if py.has_layout_attr() && !t.is_windows() && !agree && plain_c(&g, id) {
                    problems.push(format!(
                        "{t} {py} {}: gcc-sysv rules disagree with the compiler: compiler {}/{} {:?}, ctypes {size}/{align} {pos:?}",
                        r.name, cc.size, cc.align, cc.pos
                    ));
                }
                if !agree && std::env::var_os("FFI_DOCTOR_CTYPES_DEBUG").is_some() {
                    eprintln!(
                        "differs: {t} {py} {} compiler {}/{} {:?} ctypes {size}/{align} {pos:?}",
                        r.name, cc.size, cc.align, cc.pos
                    );
                }
                if agree {
                    stats.0 += 1
                } else {
                    stats.1 += 1
                }
                if !ok && std::env::var_os("FFI_DOCTOR_CTYPES_DEBUG").is_some() {
                    eprintln!(
                        "{:?}\n{:?}\nbase {:?}",
                        r,
                        model[id],
                        r.base.map(|b| (&g.recs[b], &model[b]))
                    );
                }
                if !ok {
                    problems.push(format!(
                        "{t} {py} {}: compiler {}/{} {:?}, ctypes {size}/{align} {pos:?}, findings {mine:?}",
                        r.name, cc.size, cc.align, cc.pos
                    ));
                }
            }
        }
        eprintln!(
            "  {t}: {} class layouts agree with the compiler, {} differ (3.13 and 3.14 rules)",
            stats.0, stats.1
        );
    }
    if ran == 0 {
        return;
    }
    assert!(
        problems.is_empty(),
        "{} problems (seed {seed}, sources in {}):\n{}",
        problems.len(),
        dir.display(),
        problems
            .iter()
            .take(40)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    if std::env::var_os("FFI_DOCTOR_CTYPES_KEEP").is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
}

// ------------------------------------------------------------------------------------------------------------
// Part 3: testdata/bindings-layout — a binding with known mistakes, against CPython, its header and its DWARF.

/// `(line, column)` of `needle` in the first line at or after `from` (1-based) that contains it.
fn find_in(text: &str, from: u32, needle: &str) -> (u32, u32) {
    for (i, line) in text
        .lines()
        .enumerate()
        .skip(from.saturating_sub(1) as usize)
    {
        if let Some(c) = line.find(needle) {
            return (i as u32 + 1, c as u32 + 1);
        }
    }
    panic!("`{needle}` not found in records.py after line {from}");
}

/// The classes of `testdata/bindings-layout/records.py`, as the reader models them.
fn fixture_classes(py_path: &str) -> Vec<CRecord> {
    let text = std::fs::read_to_string(py_path).unwrap();
    let s = |simple| CType::Simple { simple };
    let class = |name: &str, is_union: bool, fields: Vec<(&str, CType, Option<u32>)>| {
        let (line, col) = find_in(&text, 1, &format!("class {name}("));
        CRecord {
            name: name.into(),
            is_union,
            endian: Endian::Native,
            fields: Some(
                fields
                    .into_iter()
                    .map(|(n, ty, bits)| {
                        let (l, c) = find_in(&text, line, &format!("(\"{n}\""));
                        CField {
                            name: n.into(),
                            ty,
                            bits,
                            loc: Loc {
                                file: py_path.into(),
                                line: l,
                                col: c,
                            },
                        }
                    })
                    .collect(),
            ),
            pack: None,
            align: None,
            layout: None,
            anonymous: vec![],
            base: None,
            loc: Loc {
                file: py_path.into(),
                line,
                col,
            },
        }
    };
    let mut node = class(
        "node",
        false,
        vec![
            ("where", CType::Record { id: 0 }, None),
            ("next", s(Simple::VoidP), None),
            ("u", CType::Record { id: 4 }, None),
        ],
    );
    node.anonymous = vec!["u".into()];
    vec![
        class(
            "point",
            false,
            vec![
                ("x", s(Simple::Int32), None),
                ("y", s(Simple::Int32), None),
                ("weight", s(Simple::Double), None),
                ("label", s(Simple::CharP), None),
            ],
        ),
        class(
            "flags",
            false,
            vec![
                ("kind", s(Simple::UInt8), None),
                ("mode", s(Simple::UInt32), Some(3)),
                ("level", s(Simple::UInt16), Some(9)),
                ("live", s(Simple::UInt32), Some(1)),
            ],
        ),
        class(
            "wire_header",
            false,
            vec![
                ("type", s(Simple::UInt8), None),
                ("length", s(Simple::UInt32), None),
                ("crc", s(Simple::UInt16), None),
            ],
        ),
        class(
            "stats_t",
            false,
            vec![
                ("total", s(Simple::Long), None),
                ("count", s(Simple::UInt32), None),
            ],
        ),
        class(
            "_Value",
            true,
            vec![
                ("i", s(Simple::Int32), None),
                ("d", s(Simple::Double), None),
            ],
        ),
        node,
    ]
}

/// `(class, code)` pairs of findings, with the targets each names.
fn summary(
    findings: &[ffi_doctor::report::Finding],
    recs: &[CRecord],
) -> Vec<(String, &'static str, String)> {
    findings
        .iter()
        .map(|f| {
            let class = recs
                .iter()
                .find(|r| {
                    f.location.line == Some(r.loc.line)
                        || r.fields
                            .iter()
                            .flatten()
                            .any(|x| f.location.line == Some(x.loc.line))
                })
                .map_or_else(|| "?".to_string(), |r| r.name.clone());
            let targets = f
                .message
                .rsplit_once("(on ")
                .map_or_else(String::new, |(_, t)| t.trim_end_matches(')').to_string());
            (class, f.code.id(), targets)
        })
        .collect()
}

#[test]
fn fixture_binding_against_cpython_header_and_dwarf() {
    use ffi_doctor::bindings::records::{check_records, RecordTruth};
    let dir = common::testdata("bindings-layout");
    let py_path = dir.join("records.py");
    let py_file = py_path.to_str().unwrap().to_string();
    let recs = fixture_classes(&py_file);

    // 1. CPython lays the fixture out as the model says.
    if let Some(host) = Target::host() {
        let pys = pythons();
        if pys.is_empty() {
            common::oracle("python3");
        }
        let script = "import runpy, sys\nns = runpy.run_path(sys.argv[1])\nfrom ctypes import sizeof, alignment\n\
                      for name in sys.argv[2:]:\n    C = ns[name]\n    print(name, sizeof(C), alignment(C), \
                      ' '.join('%d:%d' % (getattr(C, f[0]).offset, getattr(C, f[0]).size) for f in C._fields_))\n";
        for (minor, p) in &pys {
            let mut args = vec![
                "-I".to_string(),
                "-c".into(),
                script.into(),
                py_file.clone(),
            ];
            args.extend(recs.iter().map(|r| r.name.clone()));
            let out = Command::new(p).args(&args).output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let model = layouts(&recs, &[], host, PyVersion::new(*minor));
            for (line, l) in String::from_utf8_lossy(&out.stdout).lines().zip(&model) {
                let l = l.as_ref().unwrap();
                let want = format!(
                    "{} {} {}",
                    l.size,
                    l.align,
                    l.fields
                        .iter()
                        .map(|f| format!("{}:{}", f.offset, f.size))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                assert_eq!(line.split_once(' ').unwrap().1, want, "3.{minor}: {line}");
            }
        }
    }

    // 2. Against the header, per target.
    let targets = [
        Target::LinuxX86_64,
        Target::LinuxI386,
        Target::WindowsX64Msvc,
    ];
    let specs: Vec<ffi_doctor::decl::Spec> = targets
        .iter()
        .map(|t| {
            let opts = ffi_doctor::decl::ParseOptions {
                target_defines: t.predefined_macros(),
                ..Default::default()
            };
            ffi_doctor::decl::parse_header(dir.join("records.h").to_str().unwrap(), &opts).unwrap()
        })
        .collect();
    let truth = RecordTruth {
        headers: targets.iter().copied().zip(&specs).collect(),
        ..Default::default()
    };
    let s = |c: &str, code: &'static str, t: &str| (c.to_string(), code, t.to_string());
    let f313 = check_records(&recs, &[], &truth, &targets, PyVersion::new(13));
    for f in &f313 {
        eprintln!(
            "{} {} {}: {}\n    expected: {}\n    found: {}\n    hint: {}",
            f.code, f.severity as u8, f.location, f.message, f.expected, f.found, f.hint
        );
    }
    assert_eq!(
        summary(&f313, &recs),
        vec![
            s("flags", "FFI0761", "linux-x86_64, linux-i386"),
            s(
                "wire_header",
                "FFI0759",
                "linux-x86_64, linux-i386, windows-x86_64-msvc"
            ),
            s("stats_t", "FFI0756", "linux-i386, windows-x86_64-msvc"),
            s("stats_t", "FFI0753", "linux-i386, windows-x86_64-msvc"),
        ],
        "{f313:#?}"
    );
    let total = f313.iter().find(|f| f.code.id() == "FFI0756").unwrap();
    assert!(
        total.location.to_string().ends_with("records.py:19:17"),
        "{}",
        total.location
    );
    assert!(total.hint.contains("c_int64"), "{}", total.hint);
    let f314 = check_records(&recs, &[], &truth, &targets, PyVersion::new(14));
    let codes: Vec<_> = summary(&f314, &recs)
        .into_iter()
        .map(|(c, k, _)| (c, k))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("wire_header".to_string(), "FFI0759"),
            ("stats_t".into(), "FFI0756"),
            ("stats_t".into(), "FFI0753"),
        ],
        "{f314:#?}"
    );

    // 3. Against the DWARF of the library built by gcc.
    let Some(gcc) = common::oracle("gcc") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let lib = tmp.path().join("librecords.so");
    common::tool(
        &gcc,
        &[
            "-g",
            "-shared",
            "-fPIC",
            "-o",
            lib.to_str().unwrap(),
            dir.join("records.c").to_str().unwrap(),
        ],
    );
    let info = ffi_doctor::dwarf::load(lib.to_str().unwrap(), &Default::default())
        .unwrap()
        .expect("gcc -g leaves DWARF in the library");
    let truth = RecordTruth {
        dwarf: Some((Target::LinuxX86_64, &info)),
        ..Default::default()
    };
    let fd = check_records(
        &recs,
        &[],
        &truth,
        &[Target::LinuxX86_64],
        PyVersion::new(13),
    );
    assert_eq!(
        summary(&fd, &recs),
        vec![
            s("flags", "FFI0761", "linux-x86_64"),
            s("wire_header", "FFI0759", "linux-x86_64"),
        ],
        "{fd:#?}"
    );
}
