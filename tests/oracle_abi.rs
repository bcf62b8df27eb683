//! Oracle test for the ABI engine: random struct/union declarations, compiled by each target's real compiler
//! to an object file (no linking, no execution), whose `sizeof`/`_Alignof`/`offsetof` values and bitfield
//! positions are read back from the object's data and compared with `ffi_doctor::abi`.
//!
//! Seed: 11 by default (reproducible CI), `FFI_DOCTOR_ABI_SEED=random` for a new one; printed; replay with
//! `FFI_DOCTOR_ABI_SEED=<n>`. Records per target: `FFI_DOCTOR_ABI_COUNT` (default 240).
//! A missing compiler prints `skipped: <compiler> not found` unless `FFI_DOCTOR_REQUIRE_ORACLES=1`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

#[path = "common/compiler_probe.rs"]
mod compiler_probe;
#[path = "common/rng.rs"]
mod rng;
use compiler_probe::{compiler_for, symbol_bytes};
use rng::Rng;

use ffi_doctor::abi::{record_layout, RecordLayout, Target};
use ffi_doctor::decl::{
    Enum, Field, FnSig, Loc, Prim, QualType, Record, RecordKind, Spec, Type, Typedef,
};

/// What to compare for one value of the data array.
enum Probe {
    Size(usize),
    Align(usize),
    /// Byte offset of the (non-bitfield) member reached by this path of field indices.
    Offset(usize, Vec<usize>),
}

/// A bitfield whose position is read from an initialised object.
struct BitProbe {
    sym: String,
    rec: usize,
    path: Vec<usize>,
    label: String,
}

struct Gen {
    t: Target,
    rng: Rng,
    spec: Spec,
    out: String,
    vals: Vec<(String, String, Probe)>, // (label, C expression, probe)
    bits: Vec<BitProbe>,
    helpers: Vec<usize>,
    counter: usize,
    gcc_like: bool,
}

fn loc() -> Loc {
    Loc::default()
}

fn prim(p: Prim) -> Type {
    Type::Prim { prim: p }
}

impl Gen {
    fn new(t: Target, seed: u64, gcc_like: bool) -> Gen {
        let mut g = Gen {
            t,
            rng: Rng(seed | 1),
            spec: Spec::default(),
            out: String::new(),
            vals: Vec::new(),
            bits: Vec::new(),
            helpers: Vec::new(),
            counter: 0,
            gcc_like,
        };
        // Enums.
        let mut enums: Vec<(&str, Vec<i128>)> =
            vec![("e_small", vec![0, 1, 2]), ("e_neg", vec![-1, 5])];
        if !t.is_msvc() {
            enums.push(("e_u32", vec![0, 0xffff_ffff]));
            enums.push(("e_big", vec![1, 1 << 40]));
        }
        for (tag, vals) in enums {
            let variants: Vec<(String, Option<i128>)> = vals
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("{tag}_{i}"), Some(*v)))
                .collect();
            let body: Vec<String> = variants
                .iter()
                .map(|(n, v)| format!("{n} = {}LL", v.unwrap()))
                .collect();
            let _ = writeln!(g.out, "enum {tag} {{ {} }};", body.join(", "));
            g.spec.enums.push(Enum {
                tag: Some(tag.into()),
                variants,
                complete: true,
                partial: false,
                loc: loc(),
            });
        }
        for (name, p, c) in [
            ("td_u16", Prim::UShort, "unsigned short"),
            ("td_dbl", Prim::Double, "double"),
        ] {
            let _ = writeln!(g.out, "typedef {c} {name};");
            g.spec.typedefs.push(Typedef {
                name: name.into(),
                ty: QualType::new(prim(p)),
                cffi_unknown: None,
                aligned: None,
                loc: loc(),
            });
        }
        g
    }

    fn c_base(&self, ty: &Type) -> String {
        match ty {
            Type::Prim { prim } => match prim {
                Prim::Void => "void",
                Prim::Bool => "_Bool",
                Prim::Char => "char",
                Prim::SChar => "signed char",
                Prim::UChar => "unsigned char",
                Prim::Short => "short",
                Prim::UShort => "unsigned short",
                Prim::Int => "int",
                Prim::UInt => "unsigned int",
                Prim::Long => "long",
                Prim::ULong => "unsigned long",
                Prim::LongLong => "long long",
                Prim::ULongLong => "unsigned long long",
                Prim::Int128 => "__int128",
                Prim::UInt128 => "unsigned __int128",
                Prim::Float => "float",
                Prim::Double => "double",
                Prim::LongDouble => "long double",
                Prim::WChar => "__WCHAR_TYPE__",
                Prim::Char16 => "__CHAR16_TYPE__",
                Prim::Char32 => "__CHAR32_TYPE__",
            }
            .to_string(),
            Type::Named { name } => match name.as_str() {
                "size_t" => "__SIZE_TYPE__".into(),
                "ptrdiff_t" => "__PTRDIFF_TYPE__".into(),
                "intptr_t" => "__INTPTR_TYPE__".into(),
                "uintptr_t" => "__UINTPTR_TYPE__".into(),
                "int8_t" => "__INT8_TYPE__".into(),
                "uint8_t" => "__UINT8_TYPE__".into(),
                "uint16_t" => "__UINT16_TYPE__".into(),
                "int32_t" => "__INT32_TYPE__".into(),
                "int64_t" => "__INT64_TYPE__".into(),
                "uint64_t" => "__UINT64_TYPE__".into(),
                "intmax_t" => "__INTMAX_TYPE__".into(),
                "int_least16_t" => "__INT_LEAST16_TYPE__".into(),
                "int_fast16_t" => "__INT_FAST16_TYPE__".into(),
                "int_fast32_t" => "__INT_FAST32_TYPE__".into(),
                "wchar_t" => "__WCHAR_TYPE__".into(),
                "va_list" => "__builtin_va_list".into(),
                other => other.to_string(),
            },
            Type::Record { id } => {
                let r = &self.spec.records[*id];
                let kw = if r.kind == RecordKind::Union {
                    "union"
                } else {
                    "struct"
                };
                format!("{kw} {}", r.tag.as_deref().unwrap())
            }
            Type::Enum { id } => format!("enum {}", self.spec.enums[*id].tag.as_deref().unwrap()),
            Type::Pointer { .. } | Type::Array { .. } | Type::Function { .. } => unreachable!(),
        }
    }

    fn c_decl(&self, ty: &Type, name: &str) -> String {
        match ty {
            Type::Pointer { pointee } => match &pointee.ty {
                Type::Function { .. } => format!("void (*{name})(void)"),
                other => self.c_decl(other, &format!("*{name}")),
            },
            Type::Array { elem, len } => match len {
                Some(n) => self.c_decl(&elem.ty, &format!("{name}[{n}]")),
                None => self.c_decl(&elem.ty, &format!("{name}[]")),
            },
            _ => format!("{} {name}", self.c_base(ty)),
        }
    }

    fn scalar_type(&mut self) -> Type {
        let mut prims = vec![
            Prim::Char,
            Prim::SChar,
            Prim::UChar,
            Prim::Short,
            Prim::UShort,
            Prim::Int,
            Prim::UInt,
            Prim::Long,
            Prim::ULong,
            Prim::LongLong,
            Prim::ULongLong,
            Prim::Float,
            Prim::Double,
            Prim::LongDouble,
            Prim::Bool,
            Prim::WChar,
            Prim::Char16,
            Prim::Char32,
        ];
        if self.t.is_64bit() {
            prims.push(Prim::Int128);
            prims.push(Prim::UInt128);
        }
        let mut named = vec![
            "size_t",
            "ptrdiff_t",
            "intptr_t",
            "uintptr_t",
            "int8_t",
            "uint8_t",
            "uint16_t",
            "int32_t",
            "int64_t",
            "uint64_t",
            "intmax_t",
            "int_least16_t",
            "wchar_t",
            "va_list",
            "td_u16",
            "td_dbl",
        ];
        if self.gcc_like {
            named.push("int_fast16_t");
            named.push("int_fast32_t");
        }
        match self.rng.below(10) {
            0..=5 => prim(*self.rng.pick(&prims)),
            6 | 7 => Type::Named {
                name: self.rng.pick(&named).to_string(),
            },
            8 => {
                let n = self.spec.enums.len() as u64;
                Type::Enum {
                    id: self.rng.below(n) as usize,
                }
            }
            _ => {
                let pointee = match self.rng.below(3) {
                    0 => prim(Prim::Void),
                    1 => prim(Prim::Int),
                    _ => Type::Function {
                        sig: Box::new(FnSig {
                            ret: QualType::new(prim(Prim::Void)),
                            params: vec![],
                            variadic: false,
                            unprototyped: false,
                            callconv: None,
                        }),
                    },
                };
                Type::Pointer {
                    pointee: Box::new(QualType::new(pointee)),
                }
            }
        }
    }

    fn bitfield_type(&mut self) -> (Type, u64) {
        let choices: Vec<(Type, u64)> = vec![
            (prim(Prim::Char), 8),
            (prim(Prim::SChar), 8),
            (prim(Prim::UChar), 8),
            (prim(Prim::Short), 16),
            (prim(Prim::UShort), 16),
            (prim(Prim::Int), 32),
            (prim(Prim::UInt), 32),
            (prim(Prim::Int), 32),
            (prim(Prim::UInt), 32),
            (prim(Prim::Long), if self.t.is_lp64() { 64 } else { 32 }),
            (prim(Prim::ULong), if self.t.is_lp64() { 64 } else { 32 }),
            (prim(Prim::LongLong), 64),
            (prim(Prim::ULongLong), 64),
            (prim(Prim::Bool), 1),
            (Type::Enum { id: 0 }, 32),
            (Type::Enum { id: 1 }, 32),
            (
                Type::Named {
                    name: "uint8_t".into(),
                },
                8,
            ),
            (
                Type::Named {
                    name: "uint16_t".into(),
                },
                16,
            ),
            (
                Type::Named {
                    name: "int32_t".into(),
                },
                32,
            ),
            (
                Type::Named {
                    name: "uint64_t".into(),
                },
                64,
            ),
        ];
        self.rng.pick(&choices).clone()
    }

    fn aligned_attr(&self, n: u32) -> (String, String) {
        // (prefix, suffix)
        if self.t.is_msvc() {
            (format!("__declspec(align({n})) "), String::new())
        } else {
            (String::new(), format!(" __attribute__((aligned({n})))"))
        }
    }

    /// Generates one record; returns its id and its C text (`struct ... { ... }`, no `;`).
    fn gen_record(
        &mut self,
        depth: u32,
        anon: bool,
        pack: Option<u32>,
        top: bool,
    ) -> (usize, String) {
        let kind = if self.rng.chance(22) {
            RecordKind::Union
        } else {
            RecordKind::Struct
        };
        let tag = if anon {
            None
        } else {
            self.counter += 1;
            Some(format!("R{}", self.counter))
        };
        let packed = !self.t.is_msvc() && self.rng.chance(12);
        let aligned = if self.rng.chance(10) {
            Some(*self.rng.pick(&[1u32, 2, 4, 8, 16, 32]))
        } else {
            None
        };
        let nfields = 1 + self.rng.below(8) as usize;
        let mut fields: Vec<Field> = Vec::new();
        let mut texts: Vec<String> = Vec::new();
        let mut i = 0;
        while i < nfields {
            i += 1;
            let roll = self.rng.below(100);
            if roll < 25 {
                // A run of bitfields.
                let run = 1 + self.rng.below(4);
                for _ in 0..run {
                    let (ty, maxw) = self.bitfield_type();
                    let r = self.rng.below(100);
                    let (name, w) = if r < 8 {
                        (None, 0)
                    } else if r < 18 {
                        (None, 1 + self.rng.below(maxw))
                    } else {
                        let w = match self.rng.below(4) {
                            0 => maxw,
                            1 => 1 + self.rng.below(maxw),
                            _ => 1 + self.rng.below(maxw.min(12)),
                        };
                        (Some(self.fresh_name()), w)
                    };
                    let fpacked = !self.t.is_msvc() && name.is_some() && self.rng.chance(5);
                    let mut text = format!(
                        "{} {}:{w}",
                        self.c_base(&ty),
                        name.clone().unwrap_or_default()
                    );
                    if fpacked {
                        text.push_str(" __attribute__((packed))");
                    }
                    texts.push(text);
                    fields.push(Field {
                        name,
                        ty: QualType::new(ty),
                        bits: Some(w as u32),
                        aligned: None,
                        packed: fpacked,
                        loc: loc(),
                    });
                }
                continue;
            }
            if roll < 35 && depth < 2 {
                // Anonymous struct/union member.
                let (id, text) = self.gen_record(depth + 1, true, pack, false);
                texts.push(text);
                fields.push(Field {
                    name: None,
                    ty: QualType::new(Type::Record { id }),
                    bits: None,
                    aligned: None,
                    packed: false,
                    loc: loc(),
                });
                continue;
            }
            let mut ty = if roll < 47 && depth < 2 {
                if !self.helpers.is_empty() && self.rng.chance(50) {
                    Type::Record {
                        id: *self.rng.pick(&self.helpers),
                    }
                } else {
                    let id = self.gen_named(depth + 1);
                    Type::Record { id }
                }
            } else {
                self.scalar_type()
            };
            if self.rng.chance(15) {
                ty = Type::Array {
                    elem: Box::new(QualType::new(ty)),
                    len: Some(1 + self.rng.below(4)),
                };
                if self.rng.chance(15) {
                    ty = Type::Array {
                        elem: Box::new(QualType::new(ty)),
                        len: Some(1 + self.rng.below(3)),
                    };
                }
            }
            let name = self.fresh_name();
            let faligned = if self.rng.chance(8) {
                Some(*self.rng.pick(&[1u32, 2, 4, 8, 16]))
            } else {
                None
            };
            let fpacked = !self.t.is_msvc() && self.rng.chance(6);
            let mut text = self.c_decl(&ty, &name);
            if let Some(n) = faligned {
                let (pre, suf) = self.aligned_attr(n);
                text = format!("{pre}{text}{suf}");
            }
            if fpacked {
                text.push_str(" __attribute__((packed))");
            }
            texts.push(text);
            fields.push(Field {
                name: Some(name),
                ty: QualType::new(ty),
                bits: None,
                aligned: faligned,
                packed: fpacked,
                loc: loc(),
            });
        }
        if !fields.iter().any(|f| f.name.is_some()) {
            let name = self.fresh_name();
            texts.push(format!("int {name}"));
            fields.push(Field {
                name: Some(name),
                ty: QualType::new(prim(Prim::Int)),
                bits: None,
                aligned: None,
                packed: false,
                loc: loc(),
            });
        }
        if top && kind == RecordKind::Struct && self.rng.chance(8) {
            let ty = Type::Array {
                elem: Box::new(QualType::new(self.scalar_type())),
                len: None,
            };
            if !matches!(&ty, Type::Array { elem, .. } if matches!(elem.ty, Type::Named { ref name } if name == "va_list"))
            {
                let name = self.fresh_name();
                texts.push(self.c_decl(&ty, &name));
                fields.push(Field {
                    name: Some(name),
                    ty: QualType::new(ty),
                    bits: None,
                    aligned: None,
                    packed: false,
                    loc: loc(),
                });
            }
        }
        let kw = if kind == RecordKind::Union {
            "union"
        } else {
            "struct"
        };
        let mut attrs = String::new();
        if self.t.is_msvc() {
            if let Some(n) = aligned {
                attrs = format!("__declspec(align({n})) ");
            }
        } else {
            let mut a = Vec::new();
            if packed {
                a.push("packed".to_string());
            }
            if let Some(n) = aligned {
                a.push(format!("aligned({n})"));
            }
            if !a.is_empty() {
                attrs = format!("__attribute__(({})) ", a.join(", "));
            }
        }
        let mut text = format!(
            "{kw} {attrs}{}{{ ",
            tag.as_deref().map(|t| format!("{t} ")).unwrap_or_default()
        );
        for t in &texts {
            text.push_str(t);
            text.push_str("; ");
        }
        text.push('}');
        let id = self.spec.records.len();
        self.spec.records.push(Record {
            kind,
            tag,
            fields,
            complete: true,
            partial: false,
            packed,
            pack,
            aligned,
            loc: loc(),
        });
        (id, text)
    }

    fn fresh_name(&mut self) -> String {
        self.counter += 1;
        format!("f{}", self.counter)
    }

    /// A named record, emitted (with its own `#pragma pack`) before use, plus its probes.
    fn gen_named(&mut self, depth: u32) -> usize {
        let pack = if self.rng.chance(15) {
            Some(*self.rng.pick(&[1u32, 2, 4, 8, 16]))
        } else {
            None
        };
        let top = depth == 0;
        let (id, text) = self.gen_record(depth, false, pack, top);
        if let Some(n) = pack {
            let _ = writeln!(self.out, "#pragma pack(push, {n})");
        }
        let _ = writeln!(self.out, "{text};");
        if pack.is_some() {
            let _ = writeln!(self.out, "#pragma pack(pop)");
        }
        if !top {
            self.helpers.push(id);
        }
        self.probes(id);
        id
    }

    fn probes(&mut self, id: usize) {
        let ty = self.c_base(&Type::Record { id });
        self.vals.push((
            format!("sizeof({ty})"),
            format!("sizeof({ty})"),
            Probe::Size(id),
        ));
        self.vals.push((
            format!("_Alignof({ty})"),
            format!("_Alignof({ty})"),
            Probe::Align(id),
        ));
        let mut paths = Vec::new();
        collect_members(&self.spec, id, &mut Vec::new(), &mut paths);
        for (path, name, is_bit, is_bool) in paths {
            if is_bit {
                let sym = format!("ffi_bf_{}", self.bits.len());
                let v = if is_bool { "1" } else { "-1" };
                let _ = writeln!(self.out, "const {ty} {sym} = {{ .{name} = {v} }};");
                self.bits.push(BitProbe {
                    sym,
                    rec: id,
                    path,
                    label: format!("bit offset of {ty}.{name}"),
                });
            } else {
                self.vals.push((
                    format!("offsetof({ty}, {name})"),
                    format!("__builtin_offsetof({ty}, {name})"),
                    Probe::Offset(id, path),
                ));
            }
        }
    }
}

/// Named members reachable from record `id` (through anonymous members): (path, name, is_bitfield, is_bool).
fn collect_members(
    spec: &Spec,
    id: usize,
    prefix: &mut Vec<usize>,
    out: &mut Vec<(Vec<usize>, String, bool, bool)>,
) {
    for (i, f) in spec.records[id].fields.iter().enumerate() {
        prefix.push(i);
        match (&f.name, f.bits, &f.ty.ty) {
            (None, None, Type::Record { id: nid }) => collect_members(spec, *nid, prefix, out),
            (Some(n), Some(w), ty) if w > 0 => out.push((
                prefix.clone(),
                n.clone(),
                true,
                matches!(ty, Type::Prim { prim: Prim::Bool }),
            )),
            (Some(n), None, _) => out.push((prefix.clone(), n.clone(), false, false)),
            _ => {}
        }
        prefix.pop();
    }
}

/// Follows `path` through a layout: (absolute byte offset, absolute bit offset if bitfield, bit width).
fn follow(l: &RecordLayout, path: &[usize]) -> (u64, Option<u64>, Option<u32>) {
    let f = &l.fields[path[0]];
    if path.len() == 1 {
        return (f.offset, f.bit_offset, f.bit_width);
    }
    let (o, b, w) = follow(
        f.nested
            .as_ref()
            .expect("anonymous member has a nested layout"),
        &path[1..],
    );
    (f.offset + o, b.map(|b| b + f.offset * 8), w)
}

fn have(cc: &str) -> bool {
    Command::new(cc)
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

struct Outcome {
    target: Target,
    compared: usize,
    mismatches: Vec<String>,
    skipped: Option<String>,
}

fn run_target(t: Target, seed: u64, count: usize, dir: &Path) -> Outcome {
    let (cc, args) = compiler_for(t);
    if !have(&cc) {
        return Outcome {
            target: t,
            compared: 0,
            mismatches: vec![],
            skipped: Some(format!("skipped: {cc} not found")),
        };
    }
    let gcc_like = cc.ends_with("gcc");
    let mut g = Gen::new(
        t,
        seed ^ (t as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        gcc_like,
    );
    for _ in 0..count {
        g.gen_named(0);
    }
    let mut c = std::mem::take(&mut g.out);
    let _ = writeln!(c, "const unsigned long long ffi_vals[] = {{");
    for (_, expr, _) in &g.vals {
        let _ = writeln!(c, "  (unsigned long long)({expr}),");
    }
    let _ = writeln!(c, "}};");
    let src = dir.join(format!("{}.c", t.name()));
    let obj = dir.join(format!("{}.o", t.name()));
    std::fs::write(&src, &c).unwrap();
    let out = Command::new(&cc)
        .args(&args)
        .arg(&src)
        .arg("-o")
        .arg(&obj)
        .output()
        .unwrap();
    if !out.status.success() {
        panic!(
            "{t}: {cc} failed on {} (seed {seed}):\n{}",
            src.display(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .take(30)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let data = std::fs::read(&obj).unwrap();
    let file = object::File::parse(&*data).unwrap();
    let raw = symbol_bytes(&file, "ffi_vals", g.vals.len() * 8).expect("ffi_vals in object");
    let vals: Vec<u64> = raw
        .chunks(8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .collect();

    let mut layouts: HashMap<usize, RecordLayout> = HashMap::new();
    let mut mismatches = Vec::new();
    let mut compared = 0;
    let mut lay = |id: usize, mm: &mut Vec<String>| -> Option<RecordLayout> {
        if let Some(l) = layouts.get(&id) {
            return Some(l.clone());
        }
        match record_layout(&g.spec, id, t) {
            Ok(l) => {
                layouts.insert(id, l.clone());
                Some(l)
            }
            Err(e) => {
                mm.push(format!("engine error for record #{id}: {e}"));
                None
            }
        }
    };
    let mut sizes: HashMap<usize, u64> = HashMap::new();
    for ((label, _, probe), got) in g.vals.iter().zip(&vals) {
        let id = match probe {
            Probe::Size(id) | Probe::Align(id) | Probe::Offset(id, _) => *id,
        };
        let Some(l) = lay(id, &mut mismatches) else {
            continue;
        };
        let want = match probe {
            Probe::Size(_) => {
                sizes.insert(id, *got);
                l.size
            }
            Probe::Align(_) => l.align,
            Probe::Offset(_, path) => follow(&l, path).0,
        };
        compared += 1;
        if want != *got {
            mismatches.push(format!("{label}: compiler {got}, engine {want}"));
        }
    }
    for b in &g.bits {
        let Some(l) = lay(b.rec, &mut mismatches) else {
            continue;
        };
        let size = sizes[&b.rec] as usize;
        let Some(bytes) = symbol_bytes(&file, &b.sym, size) else {
            mismatches.push(format!("{}: symbol {} not found", b.label, b.sym));
            continue;
        };
        let mut first = None;
        let mut ones = 0u32;
        for (i, byte) in bytes.iter().enumerate() {
            for bit in 0..8 {
                if byte & (1 << bit) != 0 {
                    ones += 1;
                    first.get_or_insert((i * 8 + bit) as u64);
                }
            }
        }
        let (_, bo, bw) = follow(&l, &b.path);
        compared += 1;
        if first != bo || Some(ones) != bw {
            mismatches.push(format!(
                "{}: compiler bit {:?} width {ones}, engine bit {:?} width {:?}",
                b.label, first, bo, bw
            ));
        }
    }
    if !mismatches.is_empty() {
        mismatches.insert(0, format!("source: {}", src.display()));
    }
    Outcome {
        target: t,
        compared,
        mismatches,
        skipped: None,
    }
}

#[test]
fn abi_matches_compilers() {
    // A fixed default seed keeps CI reproducible; `FFI_DOCTOR_ABI_SEED=random` explores new declarations (the seed
    // is printed so any failure can be replayed).
    let seed = match std::env::var("FFI_DOCTOR_ABI_SEED")
        .as_deref()
        .map(str::trim)
    {
        Ok("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64,
        Ok(s) => s
            .parse::<u64>()
            .expect("FFI_DOCTOR_ABI_SEED must be an integer or `random`"),
        Err(_) => 11,
    };
    let count: usize = std::env::var("FFI_DOCTOR_ABI_COUNT")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(240);
    let require = std::env::var("FFI_DOCTOR_REQUIRE_ORACLES")
        .map(|v| v == "1")
        .unwrap_or(false);
    eprintln!("abi oracle: seed {seed} (replay with FFI_DOCTOR_ABI_SEED={seed}), {count} records per target");
    let keep = std::env::var_os("FFI_DOCTOR_ABI_KEEP").is_some();
    let dir = tempfile::tempdir().unwrap();
    let dir_path = if keep {
        dir.keep()
    } else {
        dir.path().to_path_buf()
    };
    let outcomes: Vec<Outcome> = std::thread::scope(|s| {
        let handles: Vec<_> = Target::ALL
            .iter()
            .map(|&t| {
                let d = dir_path.clone();
                s.spawn(move || run_target(t, seed, count, &d))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut failed = false;
    for o in &outcomes {
        if let Some(s) = &o.skipped {
            eprintln!("{:<22} {s}", o.target.name());
            assert!(!require, "{}: {s} (FFI_DOCTOR_REQUIRE_ORACLES=1)", o.target);
            continue;
        }
        eprintln!(
            "{:<22} {} values compared, {} mismatches",
            o.target.name(),
            o.compared,
            o.mismatches.len().saturating_sub(1)
        );
        for m in o.mismatches.iter().take(25) {
            eprintln!("    {m}");
        }
        failed |= !o.mismatches.is_empty();
    }
    assert!(!failed, "ABI engine disagrees with the compilers (seed {seed}); set FFI_DOCTOR_ABI_KEEP=1 to keep the C files");
}
