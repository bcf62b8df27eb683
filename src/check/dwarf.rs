//! DWARF rules of `check`: the declared interface (spec, laid out by the ABI engine for the library's target)
//! against what the library was really compiled with (its DWARF). Records by tag or by the typedef naming an
//! anonymous one, enums, external functions and variables are matched by name; each difference is a finding with
//! the declaration's `file:line:col`, what the spec says and what the DWARF says (naming the compilation unit).
//!
//! Codes: FFI0202 record size, FFI0203 member missing/extra, FFI0204 members reordered, FFI0205 member offset,
//! FFI0206 member type, FFI0207 bitfield, FFI0208 enumerator, FFI0209 enum size, FFI0210 parameter count, FFI0211
//! parameter type, FFI0212 parameter signedness, FFI0213 return type, FFI0214 variadic, FFI0215 variable type,
//! FFI0216 unprototyped definition (skipped), FFI0217 summary, FFI0218 record compared without layout, FFI0219
//! const-ness. FFI0220 (no DWARF) and FFI0221 (PDB only) are emitted by the caller, see [`not_found`].

use crate::abi::{self, FieldLayout, Target};
use crate::decl::c_spelling::{spell, typedef_naming};
use crate::decl::{Field, Loc, Prim, QualType, Spec, Type};
use crate::dwarf::{
    DebugInfo, DebugSearch, EnumDef, Member, Record, RecordKind, TypeDesc, TypeKind,
};
use crate::report::codes::{Code, LayoutCode};
use crate::report::{Finding, Severity};

/// The comparable shape of a type: size, kind and signedness, typedefs resolved away.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Void,
    /// Integer, character and boolean types.
    Int {
        size: u64,
        signed: bool,
    },
    Float {
        size: u64,
    },
    Complex {
        size: u64,
    },
    Pointer {
        pointee: Box<Shape>,
    },
    Record {
        union: bool,
        name: Option<String>,
        size: Option<u64>,
    },
    Enum {
        size: u64,
    },
    Array {
        elem: Box<Shape>,
        len: Option<u64>,
    },
    Function,
    /// Something this comparison does not describe (va_list, FILE, C++ types): never reported.
    Unknown,
}

impl Shape {
    fn size(&self, ptr: u64) -> Option<u64> {
        match self {
            Shape::Int { size, .. }
            | Shape::Float { size }
            | Shape::Complex { size }
            | Shape::Enum { size } => Some(*size),
            Shape::Pointer { .. } => Some(ptr),
            Shape::Record { size, .. } => *size,
            Shape::Array { elem, len } => Some(elem.size(ptr)? * (*len)?),
            _ => None,
        }
    }

    fn kind_word(&self) -> &'static str {
        match self {
            Shape::Void => "void",
            Shape::Int { .. } => "integer",
            Shape::Float { .. } => "floating-point",
            Shape::Complex { .. } => "complex",
            Shape::Pointer { .. } => "pointer",
            Shape::Record { union: true, .. } => "union",
            Shape::Record { .. } => "struct",
            Shape::Enum { .. } => "enum",
            Shape::Array { .. } => "array",
            Shape::Function => "function",
            Shape::Unknown => "type",
        }
    }

    /// "8-byte unsigned integer", "pointer", "16-byte struct".
    fn describe(&self, ptr: u64) -> String {
        let sign = match self {
            Shape::Int { signed: true, .. } => "signed ",
            Shape::Int { signed: false, .. } => "unsigned ",
            _ => "",
        };
        match self.size(ptr) {
            Some(s) if !matches!(self, Shape::Void | Shape::Function) => {
                format!("{s}-byte {sign}{}", self.kind_word())
            }
            _ => format!("{sign}{}", self.kind_word()),
        }
    }
}

fn from_kind(k: &TypeKind, depth: usize) -> Shape {
    if depth > 8 {
        return Shape::Unknown;
    }
    match k {
        TypeKind::Void => Shape::Void,
        TypeKind::Bool { size } => Shape::Int {
            size: *size,
            signed: false,
        },
        TypeKind::Int { signed, size } | TypeKind::Char { signed, size } => Shape::Int {
            size: *size,
            signed: *signed,
        },
        TypeKind::Float { size } => Shape::Float { size: *size },
        TypeKind::Complex { size } => Shape::Complex { size: *size },
        TypeKind::Pointer { pointee } => Shape::Pointer {
            pointee: Box::new(from_kind(pointee, depth + 1)),
        },
        TypeKind::Record { record, name, size } => Shape::Record {
            union: *record == RecordKind::Union,
            name: name.clone(),
            size: *size,
        },
        TypeKind::Enum { size, .. } => Shape::Enum { size: *size },
        TypeKind::Array { elem, len } => Shape::Array {
            elem: Box::new(from_kind(elem, depth + 1)),
            len: *len,
        },
        TypeKind::Function { .. } => Shape::Function,
        TypeKind::Other { .. } => Shape::Unknown,
    }
}

/// What is compared, and how much it matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Diff {
    /// ABI-compatible but not the same (an enum declared as an integer of its size).
    Note,
    /// Same size and kind, another signedness; or pointers to different things.
    Warn,
    /// Different size or kind: values are passed or stored differently.
    Error,
}

impl Diff {
    fn severity(self) -> Severity {
        match self {
            Diff::Note => Severity::Info,
            Diff::Warn => Severity::Warning,
            Diff::Error => Severity::Error,
        }
    }
}

/// Where a compared type is used: picks the finding codes (error, sign-only warning) and array decay.
#[derive(Debug, Clone, Copy)]
enum Role {
    Member,
    Param,
    Return,
    Variable,
}

impl Role {
    fn codes(self) -> ((Code, Code), bool) {
        match self {
            Role::Member => (
                (
                    Code::Layout(LayoutCode::MemberType),
                    Code::Layout(LayoutCode::MemberType),
                ),
                false,
            ),
            Role::Param => (
                (
                    Code::Layout(LayoutCode::ParamType),
                    Code::Layout(LayoutCode::ParamSignedness),
                ),
                true,
            ),
            Role::Return => (
                (
                    Code::Layout(LayoutCode::ReturnType),
                    Code::Layout(LayoutCode::ReturnType),
                ),
                false,
            ),
            Role::Variable => (
                (
                    Code::Layout(LayoutCode::VariableType),
                    Code::Layout(LayoutCode::VariableType),
                ),
                false,
            ),
        }
    }
}

struct Cx<'a> {
    spec: &'a Spec,
    target: Target,
    debug: &'a DebugInfo,
    out: Vec<Finding>,
}

impl<'a> Cx<'a> {
    fn ptr(&self) -> u64 {
        self.target.pointer_size()
    }

    fn size_of(&self, ty: &Type) -> Option<u64> {
        abi::type_layout(self.spec, ty, self.target)
            .ok()
            .map(|l| l.size)
    }

    /// The shape of a declared type; arrays and functions decay to pointers when `decay` (parameters).
    fn shape(&self, ty: &Type, decay: bool, depth: usize) -> Shape {
        if depth > 24 {
            return Shape::Unknown;
        }
        match ty {
            Type::Prim { prim } => self.prim_shape(*prim),
            Type::Named { name } => {
                if let Some(td) = self.spec.typedef(name) {
                    if td.cffi_unknown.is_some() {
                        return Shape::Unknown;
                    }
                    return self.shape(&td.ty.ty, decay, depth + 1);
                }
                self.standard_shape(name)
            }
            Type::Pointer { pointee } => Shape::Pointer {
                pointee: Box::new(self.shape(&pointee.ty, false, depth + 1)),
            },
            Type::Array { elem, len } => {
                let e = self.shape(&elem.ty, false, depth + 1);
                if decay {
                    Shape::Pointer {
                        pointee: Box::new(e),
                    }
                } else {
                    Shape::Array {
                        elem: Box::new(e),
                        len: *len,
                    }
                }
            }
            Type::Function { .. } => {
                if decay {
                    Shape::Pointer {
                        pointee: Box::new(Shape::Function),
                    }
                } else {
                    Shape::Function
                }
            }
            Type::Record { id } => {
                let r = &self.spec.records[*id];
                Shape::Record {
                    union: r.kind == RecordKind::Union,
                    name: r.tag.clone().or_else(|| typedef_naming(self.spec, ty)),
                    size: if r.complete { self.size_of(ty) } else { None },
                }
            }
            Type::Enum { .. } => match self.size_of(ty) {
                Some(size) => Shape::Enum { size },
                None => Shape::Unknown,
            },
        }
    }

    fn prim_shape(&self, p: Prim) -> Shape {
        let t = self.target;
        let size = match self.size_of(&Type::Prim { prim: p }) {
            Some(s) => s,
            None => return Shape::Void,
        };
        let signed = match p {
            Prim::Void => return Shape::Void,
            Prim::Float | Prim::Double | Prim::LongDouble => return Shape::Float { size },
            Prim::Char => !t.char_is_unsigned(),
            Prim::WChar => !t.is_windows(),
            Prim::SChar | Prim::Short | Prim::Int | Prim::Long | Prim::LongLong | Prim::Int128 => {
                true
            }
            Prim::Bool
            | Prim::UChar
            | Prim::UShort
            | Prim::UInt
            | Prim::ULong
            | Prim::ULongLong
            | Prim::UInt128
            | Prim::Char16
            | Prim::Char32 => false,
        };
        Shape::Int { size, signed }
    }

    /// Standard typedef names (`size_t`, `int32_t`, …) the ABI engine knows.
    fn standard_shape(&self, name: &str) -> Shape {
        match name {
            "va_list" | "__builtin_va_list" | "FILE" | "max_align_t" => return Shape::Unknown,
            _ => {}
        }
        let Some(size) = self.size_of(&Type::Named { name: name.into() }) else {
            return Shape::Unknown;
        };
        let signed = match name {
            "size_t" | "rsize_t" | "bool" | "_Bool" | "char16_t" | "char32_t" | "wint_t" => false,
            "wchar_t" => !self.target.is_windows(),
            n => !n.starts_with('u'),
        };
        Shape::Int { size, signed }
    }

    /// Compare a declared type with the DWARF's; `None` when they agree. `decay`: parameter context.
    fn compare(&self, declared: &Shape, dwarf: &Shape) -> Option<(Diff, String)> {
        let ptr = self.ptr();
        use Shape as S;
        match (declared, dwarf) {
            (S::Unknown, _) | (_, S::Unknown) => None,
            (S::Void, S::Void) | (S::Function, S::Function) => None,
            (
                S::Int {
                    size: a,
                    signed: sa,
                },
                S::Int {
                    size: b,
                    signed: sb,
                },
            ) => {
                if a != b {
                    let sign = if sa != sb {
                        "; signed vs unsigned too"
                    } else {
                        ""
                    };
                    Some((
                        Diff::Error,
                        format!("{a} bytes declared, {b} bytes in the library{sign}"),
                    ))
                } else if sa != sb {
                    Some((Diff::Warn, "signedness differs".into()))
                } else {
                    None
                }
            }
            (S::Int { size: a, .. }, S::Enum { size: b })
            | (S::Enum { size: a }, S::Int { size: b, .. }) => {
                if a != b {
                    Some((
                        Diff::Error,
                        format!("{a} bytes declared, {b} bytes in the library"),
                    ))
                } else {
                    Some((
                        Diff::Note,
                        "an enum and an integer of the same size (ABI-compatible)".into(),
                    ))
                }
            }
            (S::Enum { size: a }, S::Enum { size: b })
            | (S::Float { size: a }, S::Float { size: b })
            | (S::Complex { size: a }, S::Complex { size: b }) => (a != b).then(|| {
                (
                    Diff::Error,
                    format!("{a} bytes declared, {b} bytes in the library"),
                )
            }),
            (S::Pointer { pointee: a }, S::Pointer { pointee: b }) => {
                let a = a.as_ref();
                let b = b.as_ref();
                if matches!(a, S::Void | S::Unknown) || matches!(b, S::Void | S::Unknown) {
                    return None;
                }
                match self.compare(a, b) {
                    None => None,
                    Some((Diff::Note, _)) => None,
                    Some((_, why)) => Some((
                        Diff::Warn,
                        format!("both are pointers, but to different types ({why})"),
                    )),
                }
            }
            (
                S::Record {
                    union: ua,
                    name: na,
                    size: sa,
                },
                S::Record {
                    union: ub,
                    name: nb,
                    size: sb,
                },
            ) => {
                if let (Some(a), Some(b)) = (sa, sb) {
                    if a != b {
                        return Some((
                            Diff::Error,
                            format!("{a} bytes declared, {b} bytes in the library"),
                        ));
                    }
                }
                if ua != ub {
                    return Some((Diff::Error, "struct vs union".into()));
                }
                match (na, nb) {
                    (Some(a), Some(b)) if a != b => {
                        Some((Diff::Warn, format!("`{a}` declared, `{b}` in the library")))
                    }
                    _ => None,
                }
            }
            (S::Array { elem: ea, len: la }, S::Array { elem: eb, len: lb }) => {
                if la.is_some() && lb.is_some() && la != lb {
                    return Some((
                        Diff::Error,
                        format!(
                            "{} elements declared, {} in the library",
                            la.unwrap_or(0),
                            lb.unwrap_or(0)
                        ),
                    ));
                }
                self.compare(ea, eb)
                    .map(|(d, why)| (d, format!("element type: {why}")))
            }
            (a, b) => Some((
                Diff::Error,
                format!(
                    "{} declared, {} in the library",
                    a.describe(ptr),
                    b.describe(ptr)
                ),
            )),
        }
    }

    /// Pointee const-ness of a declared pointer type (typedefs followed); `None` if not a pointer.
    fn declared_pointee_const(&self, qt: &QualType) -> Option<bool> {
        let mut ty = &qt.ty;
        for _ in 0..16 {
            match ty {
                Type::Named { name } => ty = &self.spec.typedef(name)?.ty.ty,
                Type::Pointer { pointee } => {
                    if pointee.quals.is_const {
                        return Some(true);
                    }
                    // `const Bytef *` vs a typedef of a const type: follow one typedef for its qualifiers.
                    if let Type::Named { name } = &pointee.ty {
                        if let Some(td) = self.spec.typedef(name) {
                            return Some(td.ty.quals.is_const);
                        }
                    }
                    return Some(false);
                }
                _ => return None,
            }
        }
        None
    }

    fn type_finding(
        &mut self,
        role: Role,
        what: String,
        loc: &Loc,
        qt: &QualType,
        d: &TypeDesc,
        cu: &str,
    ) {
        let (codes, decay) = role.codes();
        let declared = self.shape(&qt.ty, decay, 0);
        let lib = from_kind(&d.kind, 0);
        let lib = if decay {
            match lib {
                Shape::Array { elem, .. } => Shape::Pointer { pointee: elem },
                Shape::Function => Shape::Pointer {
                    pointee: Box::new(Shape::Function),
                },
                s => s,
            }
        } else {
            lib
        };
        let written = spell(self.spec, qt);
        if let Some((diff, why)) = self.compare(&declared, &lib) {
            let code = if diff == Diff::Warn { codes.1 } else { codes.0 };
            let ptr = self.ptr();
            self.out.push(Finding {
                code,
                severity: diff.severity(),
                location: loc.location(),
                message: format!(
                    "{what}: declared `{written}`, but the library was compiled with `{}` ({why})",
                    d.c
                ),
                expected: format!("`{written}` ({})", declared.describe(ptr)),
                found: format!(
                    "`{}` ({}{}) in the library's DWARF (CU {cu})",
                    d.c,
                    lib.describe(ptr),
                    if d.typedefs.is_empty() || d.typedefs == [d.c.clone()] {
                        String::new()
                    } else {
                        format!(", typedef {}", d.typedefs.join(" → "))
                    }
                ),
                hint: match diff {
                    Diff::Error => format!(
                        "declare it as `{}` (or a type of the same size and kind) — a wrong size corrupts \
                         arguments, return values and struct contents",
                        d.c
                    ),
                    Diff::Warn => format!(
                        "declare it as `{}`: values beyond the common range are misread",
                        d.c
                    ),
                    Diff::Note => "no ABI difference; the declaration only documents another type".into(),
                },
            });
            return;
        }
        if let (Some(decl), Some(libc)) = (self.declared_pointee_const(qt), dwarf_pointee_const(d))
        {
            if decl != libc {
                self.out.push(Finding {
                    code: Code::Layout(LayoutCode::Constness),
                    severity: Severity::Info,
                    location: loc.location(),
                    message: format!(
                        "{what}: const-ness differs: declared `{written}`, the library has `{}`",
                        d.c
                    ),
                    expected: format!("`{written}`"),
                    found: format!("`{}` in the library's DWARF (CU {cu})", d.c),
                    hint: if libc {
                        "the library promises not to modify the pointee; declaring it const too lets bindings \
                         pass read-only buffers"
                            .into()
                    } else {
                        "the library may write through this pointer although the declaration says const: do \
                         not pass read-only or shared buffers"
                            .into()
                    },
                });
            }
        }
    }
}

/// Pointee const-ness of a DWARF pointer type, when it can be read off its spelling (no typedef in the way).
fn dwarf_pointee_const(d: &TypeDesc) -> Option<bool> {
    if !d.typedefs.is_empty() || !matches!(d.kind, TypeKind::Pointer { .. }) || d.c.contains('(') {
        return None;
    }
    let s = d.c.trim_end();
    let s = s.strip_suffix("const").unwrap_or(s).trim_end();
    let s = s.strip_suffix('*')?;
    // The pointee's own declaration: after the previous `*` if any.
    let seg = s.rsplit('*').next().unwrap_or(s);
    Some(seg.split_whitespace().any(|w| w == "const"))
}

/// A declared member, flattened through anonymous struct/union members.
struct DeclMember<'s> {
    name: String,
    /// `None` when the ABI engine could not lay the record out.
    offset: Option<u64>,
    bit: Option<(u64, u32)>,
    field: &'s Field,
}

/// A DWARF member, flattened the same way.
struct LibMember<'d> {
    name: String,
    offset: u64,
    bit: Option<(u64, u64)>,
    member: &'d Member,
}

fn flatten_decl<'s>(
    spec: &'s Spec,
    fields: &'s [Field],
    layout: Option<&[FieldLayout]>,
    base: Option<u64>,
    out: &mut Vec<DeclMember<'s>>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    for (i, f) in fields.iter().enumerate() {
        let fl = layout.and_then(|l| l.get(i));
        let off = match (base, fl) {
            (Some(b), Some(fl)) => Some(b + fl.offset),
            _ => None,
        };
        match &f.name {
            Some(n) => out.push(DeclMember {
                name: n.clone(),
                offset: off,
                bit: match (base, fl) {
                    (
                        Some(b),
                        Some(FieldLayout {
                            bit_offset: Some(bo),
                            bit_width: Some(w),
                            ..
                        }),
                    ) => Some((b * 8 + bo, *w)),
                    _ => f.bits.map(|w| (u64::MAX, w)),
                },
                field: f,
            }),
            None => {
                if let Type::Record { id } = &f.ty.ty {
                    if f.bits.is_none() {
                        let nested = fl.and_then(|fl| fl.nested.as_deref());
                        flatten_decl(
                            spec,
                            &spec.records[*id].fields,
                            nested.map(|n| n.fields.as_slice()),
                            off.filter(|_| nested.is_some()),
                            out,
                            depth + 1,
                        );
                    }
                }
            }
        }
    }
}

fn flatten_lib<'d>(members: &'d [Member], base: u64, out: &mut Vec<LibMember<'d>>, depth: usize) {
    if depth > 16 {
        return;
    }
    for m in members {
        match (&m.name, &m.anon) {
            (Some(n), _) => out.push(LibMember {
                name: n.clone(),
                offset: base + m.offset,
                bit: match (m.bit_offset, m.bit_size) {
                    (Some(o), Some(s)) => Some((base * 8 + o, s)),
                    (None, Some(s)) => Some((base * 8 + m.offset * 8, s)),
                    _ => None,
                },
                member: m,
            }),
            (None, Some(r)) => flatten_lib(&r.members, base + m.offset, out, depth + 1),
            _ => {}
        }
    }
}

fn record_where(r: &Record) -> String {
    match r.decl_line {
        Some(l) => format!("CU {}, line {l}", r.cu),
        None => format!("CU {}", r.cu),
    }
}

impl<'a> Cx<'a> {
    fn record(&mut self, id: usize, missing: &mut Vec<String>) -> bool {
        let spec = self.spec;
        let r = &spec.records[id];
        if !r.complete {
            return false;
        }
        let kw = match r.kind {
            RecordKind::Struct => "struct",
            RecordKind::Union => "union",
        };
        let (display, lib) = match &r.tag {
            Some(t) => (format!("{kw} {t}"), self.debug.record(&format!("{kw} {t}"))),
            None => match typedef_naming(spec, &Type::Record { id }) {
                Some(n) => (
                    n.clone(),
                    self.debug.record(&n).filter(|d| d.kind == r.kind),
                ),
                None => return false, // an anonymous member type: compared inside its parent
            },
        };
        let Some(lib) = lib else {
            missing.push(display);
            return false;
        };
        let wherel = record_where(lib);
        // A cffi partial record: lay out the listed fields as if complete; the offsets hold for the listed fields
        // that are exactly the library's leading members (checked below), the rest is the compiler's business.
        let partial_spec;
        let layout = if r.partial {
            let mut c = spec.clone();
            c.records[id].partial = false;
            partial_spec = c;
            abi::record_layout(&partial_spec, id, self.target)
        } else {
            abi::record_layout(spec, id, self.target)
        };
        if let Ok(l) = &layout {
            if !r.partial && l.size != lib.byte_size {
                self.out.push(Finding {
                    code: Code::Layout(LayoutCode::SizeDiffers),
                    severity: Severity::Error,
                    location: r.loc.location(),
                    message: format!(
                        "{display} is {} bytes as declared but {} bytes in the library",
                        l.size, lib.byte_size
                    ),
                    expected: format!(
                        "{} bytes ({} layout of the declaration)",
                        l.size,
                        self.target.name()
                    ),
                    found: format!("{} bytes in the library's DWARF ({wherel})", lib.byte_size),
                    hint:
                        "arrays of it, and every member after the first difference, are misplaced: \
                           declare the record exactly as the library's header does"
                            .into(),
                });
            }
        } else if !r.partial {
            self.out.push(Finding {
                code: Code::Layout(LayoutCode::DeclaredUncomputable),
                severity: Severity::Info,
                location: r.loc.location(),
                message: format!(
                    "{display}: the declared layout cannot be computed, so only member names and types are compared with the DWARF"
                ),
                expected: "a record whose member types are all known".into(),
                found: layout.as_ref().err().map(|e| e.message.clone()).unwrap_or_default(),
                hint: "declare the missing types so offsets can be checked too".into(),
            });
        }
        let mut decl = Vec::new();
        let lay = layout.as_ref().ok();
        flatten_decl(
            spec,
            &r.fields,
            lay.map(|l| l.fields.as_slice()),
            lay.map(|_| 0),
            &mut decl,
            0,
        );
        let mut have = Vec::new();
        flatten_lib(&lib.members, 0, &mut have, 0);

        // Missing / extra members.
        let missing_m: Vec<&str> = decl
            .iter()
            .filter(|d| !have.iter().any(|h| h.name == d.name))
            .map(|d| d.name.as_str())
            .collect();
        let extra: Vec<&str> = if r.partial {
            Vec::new()
        } else {
            have.iter()
                .filter(|h| !decl.iter().any(|d| d.name == h.name))
                .map(|h| h.name.as_str())
                .collect()
        };
        if !missing_m.is_empty() || !extra.is_empty() {
            let mut parts = Vec::new();
            if !missing_m.is_empty() {
                parts.push(format!(
                    "declared but not in the library: {}",
                    missing_m.join(", ")
                ));
            }
            if !extra.is_empty() {
                parts.push(format!(
                    "in the library but not declared: {}",
                    extra.join(", ")
                ));
            }
            let names = |v: &[String]| v.join(", ");
            let decl_names: Vec<String> = decl.iter().map(|d| d.name.clone()).collect();
            let lib_names: Vec<String> = have.iter().map(|h| h.name.clone()).collect();
            let loc = decl
                .iter()
                .find(|d| missing_m.contains(&d.name.as_str()))
                .map(|d| d.field.loc.location())
                .unwrap_or_else(|| r.loc.location());
            self.out.push(Finding {
                code: Code::Layout(LayoutCode::MembersDiffer),
                severity: Severity::Error,
                location: loc,
                message: format!("{display}: members differ ({})", parts.join("; ")),
                expected: format!("declared members: {}", names(&decl_names)),
                found: format!(
                    "members in the library's DWARF ({wherel}): {}",
                    names(&lib_names)
                ),
                hint: if r.partial {
                    "a member listed in the cdef must exist in the library: check its name and the library version"
                        .into()
                } else {
                    "declare exactly the library's members (with cffi, `...;` declares a partial struct)".into()
                },
            });
        }

        // Order of the common members.
        let common_decl: Vec<&str> = decl
            .iter()
            .filter(|d| have.iter().any(|h| h.name == d.name))
            .map(|d| d.name.as_str())
            .collect();
        let common_lib: Vec<&str> = have
            .iter()
            .filter(|h| decl.iter().any(|d| d.name == h.name))
            .map(|h| h.name.as_str())
            .collect();
        let reordered = !r.partial && common_decl != common_lib;
        if reordered {
            self.out.push(Finding {
                code: Code::Layout(LayoutCode::MemberOrder),
                severity: Severity::Error,
                location: r.loc.location(),
                message: format!(
                    "{display}: members are declared in another order than in the library"
                ),
                expected: format!("declared order: {}", common_decl.join(", ")),
                found: format!(
                    "library order ({wherel}): {}",
                    have.iter()
                        .map(|h| format!("{}@{}", h.name, h.offset))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                hint:
                    "C lays members out in declaration order: declare them in the library's order"
                        .into(),
            });
        }

        // In a partial record only the leading listed fields that are also the library's leading members have
        // a known declared offset.
        let known_prefix = if r.partial {
            decl.iter()
                .zip(have.iter())
                .take_while(|(d, h)| d.name == h.name)
                .count()
        } else {
            decl.len()
        };
        for (i, d) in decl.iter().enumerate() {
            let Some(h) = have.iter().find(|h| h.name == d.name) else {
                continue;
            };
            let (d_offset, d_bit) = if i < known_prefix {
                (d.offset, d.bit)
            } else {
                (None, d.field.bits.map(|w| (u64::MAX, w)))
            };
            let what = format!("member `{}` of {display}", d.name);
            let loc = &d.field.loc;
            match (d_bit, h.bit) {
                (None, None) => {
                    if let Some(off) = d_offset {
                        if off != h.offset && !reordered {
                            self.out.push(Finding {
                                code: Code::Layout(LayoutCode::MemberOffset),
                                severity: Severity::Error,
                                location: loc.location(),
                                message: format!(
                                    "{what} is at offset {off} as declared but at {} in the library",
                                    h.offset
                                ),
                                expected: format!("offset {off} ({} layout of the declaration)", self.target.name()),
                                found: format!("offset {} in the library's DWARF ({wherel})", h.offset),
                                hint: "a member before it differs in size or alignment, or packing/alignment \
                                       attributes differ: compare `ffi-doctor layout` of both"
                                    .into(),
                            });
                        }
                    }
                }
                (db, hb) => {
                    let show_d = match db {
                        Some((o, w)) if o != u64::MAX => format!("bit offset {o}, width {w}"),
                        Some((_, w)) => format!("width {w}"),
                        None => "not a bitfield".into(),
                    };
                    let show_h = match hb {
                        Some((o, w)) => format!("bit offset {o}, width {w}"),
                        None => "not a bitfield".into(),
                    };
                    let differs = match (db, hb) {
                        (Some((o, w)), Some((ho, hw))) => {
                            w as u64 != hw || (o != u64::MAX && o != ho && !reordered)
                        }
                        _ => true,
                    };
                    if differs {
                        self.out.push(Finding {
                            code: Code::Layout(LayoutCode::Bitfield),
                            severity: Severity::Error,
                            location: loc.location(),
                            message: format!("bitfield {what}: {show_d} as declared, {show_h} in the library"),
                            expected: show_d.clone(),
                            found: format!("{show_h} in the library's DWARF ({wherel})"),
                            hint: "bitfield widths and order must match the library exactly; every later \
                                   bitfield of the same unit moves too"
                                .into(),
                        });
                    }
                }
            }
            let lib_ty = h.member.ty.clone();
            self.type_finding(Role::Member, what, loc, &d.field.ty, &lib_ty, &lib.cu);
        }
        true
    }

    fn enum_(&mut self, id: usize, missing: &mut Vec<String>) -> bool {
        let spec = self.spec;
        let e = &spec.enums[id];
        if !e.complete {
            return false;
        }
        let name = match &e.tag {
            Some(t) => t.clone(),
            None => match typedef_naming(spec, &Type::Enum { id }) {
                Some(n) => n,
                None => return false,
            },
        };
        let display = if e.tag.is_some() {
            format!("enum {name}")
        } else {
            name.clone()
        };
        let lib: Option<&EnumDef> =
            self.debug
                .enums()
                .iter()
                .find(|d| d.tag.as_deref() == Some(name.as_str()))
                .or_else(|| {
                    self.debug.enums().iter().find(|d| {
                        d.typedef_name.as_deref() == Some(name.as_str()) || d.name == name
                    })
                });
        let Some(lib) = lib else {
            missing.push(display);
            return false;
        };
        let listed = |v: &[(String, i128)]| {
            v.iter()
                .map(|(n, x)| format!("{n} = {x}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for (n, v) in &e.variants {
            let have = lib.enumerators.iter().find(|(ln, _)| ln == n);
            let (msg, expected, found) = match (v, have) {
                (_, None) => (
                    format!("{display}: enumerator {n} is not in the library"),
                    match v {
                        Some(v) => format!("{n} = {v}"),
                        None => n.clone(),
                    },
                    format!(
                        "enumerators in the library's DWARF (CU {}): {}",
                        lib.cu,
                        listed(&lib.enumerators)
                    ),
                ),
                (Some(v), Some((_, lv))) if v != lv => (
                    format!("{display}: {n} is {v} as declared but {lv} in the library"),
                    format!("{n} = {v}"),
                    format!("{n} = {lv} in the library's DWARF (CU {})", lib.cu),
                ),
                _ => continue,
            };
            self.out.push(Finding {
                code: Code::Layout(LayoutCode::EnumeratorValue),
                severity: Severity::Error,
                location: e.loc.location(),
                message: msg,
                expected,
                found,
                hint: "use the library's values (with cffi, `NAME = ...` takes the value from the compiled library)"
                    .into(),
            });
        }
        if !e.partial {
            let extra: Vec<&(String, i128)> = lib
                .enumerators
                .iter()
                .filter(|(n, _)| !e.variants.iter().any(|(d, _)| d == n))
                .collect();
            if !extra.is_empty() {
                self.out.push(Finding {
                    code: Code::Layout(LayoutCode::EnumeratorValue),
                    severity: Severity::Error,
                    location: e.loc.location(),
                    message: format!(
                        "{display}: the library has enumerators that are not declared: {}",
                        extra.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    expected: format!(
                        "declared: {}",
                        e.variants.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                    found: format!("in the library's DWARF (CU {}): {}", lib.cu, listed(&lib.enumerators)),
                    hint: "the library can return values the binding does not know: declare them (or use cffi's `...`)"
                        .into(),
                });
            }
        }
        if let Ok(l) = abi::type_layout(spec, &Type::Enum { id }, self.target) {
            if l.size != lib.byte_size {
                self.out.push(Finding {
                    code: Code::Layout(LayoutCode::EnumSize),
                    severity: Severity::Warning,
                    location: e.loc.location(),
                    message: format!(
                        "{display} is {} bytes as declared but {} bytes in the library",
                        l.size, lib.byte_size
                    ),
                    expected: format!("{} bytes", l.size),
                    found: format!("{} bytes in the library's DWARF (CU {})", lib.byte_size, lib.cu),
                    hint: "the library was built with other enum sizing (-fshort-enums?) or values: use a \
                           fixed-width integer type at the boundary"
                        .into(),
                });
            }
        }
        true
    }

    fn function(&mut self, f: &'a crate::decl::Function, missing: &mut Vec<String>) -> bool {
        let Some(lib) = self.debug.functions().iter().find(|d| d.name == f.name) else {
            missing.push(format!("{}()", f.name));
            return false;
        };
        if !lib.prototyped {
            self.out.push(Finding {
                code: Code::Layout(LayoutCode::NoPrototype),
                severity: Severity::Info,
                location: f.loc.location(),
                message: format!(
                    "{}() is defined without a prototype in the library (K&R style), so its parameters are not compared",
                    f.name
                ),
                expected: "a prototyped definition".into(),
                found: format!("no DW_AT_prototyped (CU {})", lib.cu),
                hint: "unprototyped functions get default argument promotions: float is passed as double, \
                       small integers as int"
                    .into(),
            });
            return true;
        }
        let sig = &f.sig;
        let decl_params: Vec<&crate::decl::Param> = match sig.params.as_slice() {
            [p] if matches!(p.ty.ty, Type::Prim { prim: Prim::Void }) => Vec::new(),
            ps => ps.iter().collect(),
        };
        let show_decl = |spec: &Spec| {
            let mut v: Vec<String> = decl_params
                .iter()
                .map(|p| match &p.name {
                    Some(n) => format!("{} {n}", spell(spec, &p.ty)),
                    None => spell(spec, &p.ty),
                })
                .collect();
            if sig.variadic {
                v.push("...".into());
            }
            if v.is_empty() {
                "void".to_string()
            } else {
                v.join(", ")
            }
        };
        let show_lib = || {
            let mut v: Vec<String> = lib
                .params
                .iter()
                .map(|p| match &p.name {
                    Some(n) => format!("{} {n}", p.ty.c),
                    None => p.ty.c.clone(),
                })
                .collect();
            if lib.variadic {
                v.push("...".into());
            }
            if v.is_empty() {
                "void".to_string()
            } else {
                v.join(", ")
            }
        };
        let lib_sig = format!("{} {}({})", lib.ret.c, lib.name, show_lib());
        let decl_sig = format!(
            "{} {}({})",
            spell(self.spec, &sig.ret),
            f.name,
            show_decl(self.spec)
        );
        if !sig.unprototyped && decl_params.len() != lib.params.len() {
            self.out.push(Finding {
                code: Code::Layout(LayoutCode::ParamCount),
                severity: Severity::Error,
                location: f.loc.location(),
                message: format!(
                    "{}() is declared with {} parameter{} but the library's definition has {}",
                    f.name,
                    decl_params.len(),
                    if decl_params.len() == 1 { "" } else { "s" },
                    lib.params.len()
                ),
                expected: decl_sig.clone(),
                found: format!("{lib_sig} in the library's DWARF (CU {})", lib.cu),
                hint: "missing arguments are read from whatever is in the registers or on the stack: declare the \
                       library's parameters"
                    .into(),
            });
        } else if !sig.unprototyped {
            for (i, (p, lp)) in decl_params.iter().zip(lib.params.iter()).enumerate() {
                let pname = p
                    .name
                    .clone()
                    .or_else(|| lp.name.clone())
                    .map(|n| format!(" `{n}`"))
                    .unwrap_or_default();
                self.type_finding(
                    Role::Param,
                    format!("parameter {}{pname} of {}()", i + 1, f.name),
                    &f.loc,
                    &p.ty,
                    &lp.ty,
                    &lib.cu,
                );
            }
        }
        self.type_finding(
            Role::Return,
            format!("the return type of {}()", f.name),
            &f.loc,
            &sig.ret,
            &lib.ret,
            &lib.cu,
        );
        if sig.variadic != lib.variadic && !sig.unprototyped {
            self.out.push(Finding {
                code: Code::Layout(LayoutCode::Variadic),
                severity: Severity::Error,
                location: f.loc.location(),
                message: format!(
                    "{}() is declared {}variadic but the library's definition is {}variadic",
                    f.name,
                    if sig.variadic { "" } else { "not " },
                    if lib.variadic { "" } else { "not " }
                ),
                expected: decl_sig,
                found: format!("{lib_sig} in the library's DWARF (CU {})", lib.cu),
                hint: "variadic and fixed arguments are passed differently on some ABIs (Apple arm64, x86_64 %al): \
                       declare `...` exactly as the library does"
                    .into(),
            });
        }
        true
    }

    fn variable(&mut self, v: &'a crate::decl::Variable, missing: &mut Vec<String>) -> bool {
        let Some(lib) = self.debug.variables().iter().find(|d| d.name == v.name) else {
            missing.push(v.name.clone());
            return false;
        };
        let ty = lib.ty.clone();
        self.type_finding(
            Role::Variable,
            format!("variable {}", v.name),
            &v.loc,
            &v.ty,
            &ty,
            &lib.cu,
        );
        true
    }
}

/// Compare `spec` (laid out for `target`) with the library's DWARF.
pub fn compare(spec: &Spec, target: Target, debug: &DebugInfo) -> Vec<Finding> {
    let mut cx = Cx {
        spec,
        target,
        debug,
        out: Vec::new(),
    };
    let mut missing = Vec::new();
    let (mut nr, mut ne, mut nf, mut nv) = (0, 0, 0, 0);
    // Records and enums of other libraries' headers (the C library's) are not this library's to describe.
    for id in 0..spec.records.len() {
        if !spec.is_foreign_file(&spec.records[id].loc.file) {
            nr += cx.record(id, &mut missing) as usize;
        }
    }
    for id in 0..spec.enums.len() {
        if !spec.is_foreign_file(&spec.enums[id].loc.file) {
            ne += cx.enum_(id, &mut missing) as usize;
        }
    }
    for f in &spec.functions {
        nf += cx.function(f, &mut missing) as usize;
    }
    for v in &spec.variables {
        nv += cx.variable(v, &mut missing) as usize;
    }
    let mut out = cx.out;
    let versions: Vec<String> = debug.dwarf_versions.iter().map(|v| v.to_string()).collect();
    let spec_file = spec
        .functions
        .iter()
        .map(|f| &f.loc)
        .chain(spec.records.iter().map(|r| &r.loc))
        .chain(spec.enums.iter().map(|e| &e.loc))
        .chain(spec.variables.iter().map(|v| &v.loc))
        .map(|l| l.file.clone())
        .next()
        .unwrap_or_default();
    out.push(Finding {
        code: Code::Layout(LayoutCode::DwarfSummary),
        severity: Severity::Info,
        location: spec_file.into(),
        message: format!(
            "compared with the library's DWARF ({}, {}, DWARF {}): {nr} records, {ne} enums, {nf} functions, {nv} variables",
            debug.path.display(),
            debug.source.as_str(),
            versions.join("/")
        ),
        expected: "every declaration described by the library's DWARF".into(),
        found: if missing.is_empty() {
            "all declarations found".into()
        } else {
            format!("not described by the DWARF (not compared): {}", missing.join(", "))
        },
        hint: if missing.is_empty() {
            String::new()
        } else {
            "DWARF only describes the types a compilation unit used and the functions it defined; declarations \
             defined elsewhere (another library, a unit built without -g) cannot be compared"
                .into()
        },
    });
    out
}

/// The info finding that says the DWARF comparison did not happen, and why (FFI0220; FFI0221 for a PDB).
pub fn not_found(lib: &str, search: &DebugSearch) -> Finding {
    let pdb = search.notes.iter().find_map(|n| {
        let rest = n.split_once("PDB not read (PDB path ")?.1;
        Some(rest.split(')').next().unwrap_or(rest).to_string())
    });
    let mut tried: Vec<String> = search
        .tried
        .iter()
        .map(|t| format!("{} ({}): {}", t.path.display(), t.rule, t.outcome))
        .collect();
    tried.extend(search.notes.iter().cloned());
    if let Some(p) = &pdb {
        return Finding {
            code: Code::Layout(LayoutCode::PdbNotRead),
            severity: Severity::Info,
            location: lib.to_string().into(),
            message: format!(
                "the library's debug info is a PDB ({p}); PDB is not read, so declarations were not compared with it"
            ),
            expected: "DWARF debug info (in the library or a separate debug file)".into(),
            found: format!("a CodeView/PDB reference to {p}"),
            hint: "build with mingw (-g) or clang -gdwarf to get DWARF; the symbol and ABI checks still ran".into(),
        };
    }
    Finding {
        code: Code::Layout(LayoutCode::NoDwarf),
        severity: Severity::Info,
        location: lib.to_string().into(),
        message: "no DWARF debug info found for the library, so declarations were not compared with what it was \
                  compiled with"
            .into(),
        expected: "DWARF in the library, a build-id or .gnu_debuglink debug file, or --debug-file".into(),
        found: if tried.is_empty() {
            "no debug sections, no build-id or debuglink candidates".into()
        } else {
            format!("searched: {}", tried.join("; "))
        },
        hint: "install the library's debug package (…-dbg / …-debuginfo), or pass --debug-file PATH or \
               --debug-dir DIR"
            .into(),
    }
}
