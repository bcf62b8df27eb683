//! ctypes record classes checked against the truth: the C header's struct/union (per target, laid out by the ABI
//! engine) and/or the library's DWARF. A class is laid out with ctypes' own rules ([`super::ctypes_layout`]) for
//! the Python version, so the check finds both kinds of bug: a class that does not declare what C declares
//! (members, order, types, bit widths, `_pack_`, alignment), and a class that declares exactly what C declares
//! but that ctypes places differently from the compiler (bitfields before 3.14, `_pack_` selecting the MSVC rules
//! in 3.14).
//!
//! **Matching.** A class is compared with the complete C struct or union whose tag or typedef name equals the
//! class name; failing that, equal after removing leading underscores on both sides (class `_node` matches
//! `struct node`; case matters, so `Node` does not). [`RecordTruth::pairs`] names pairs explicitly and wins. A
//! class used as the type of an `_anonymous_` field mirrors a C anonymous member and needs no match. A base
//! class's fields come first, as in C with the base as the first members. A C anonymous struct/union member pairs
//! with the class's next field listed in `_anonymous_`; an unnamed C bitfield is padding and pairs with a
//! bitfield the class names and C does not (`("_pad", c_uint, 3)`), or with nothing.
//!
//! Findings that repeat on several targets are one finding naming the targets (with per-target values where
//! they differ). Expected is C, found is ctypes. A class ctypes refuses is reported for itself, C or not.
use std::cell::OnceCell;
use std::collections::HashMap;

use super::ctypes_layout::{self, CtypesField, CtypesLayout, PyVersion, Rules};
use super::model::{CField, CRecord, CType, Endian, Prototype, Simple};
use super::spelling::{ctypes_spelling, record_name, Ctypes, Place, NO_SPELLING};
use crate::abi::{self, RecordLayout, Target};
use crate::decl::c_spelling::type_name;
use crate::decl::{Loc, Prim, RecordKind, Spec, Type};
use crate::dwarf::{self, DebugInfo, TypeKind};
use crate::report::codes::{BindingLayoutCode as K, Code};
use crate::report::{Finding, Location};

/// What the record classes are checked against.
#[derive(Debug, Clone, Default)]
pub struct RecordTruth<'a> {
    /// The header(s) as parsed for each target (`crate::layout::parse_per_target`).
    pub headers: Vec<(Target, &'a Spec)>,
    /// The library's DWARF and the target the library was built for.
    pub dwarf: Option<(Target, &'a DebugInfo)>,
    /// Explicit pairs: Python class name → C struct/union tag or typedef name. They win over matching by name.
    pub pairs: Vec<(String, String)>,
}

/// Checks every record class against the truth on every requested target (headers) and on the DWARF's target.
pub fn check_records(
    records: &[CRecord],
    prototypes: &[Prototype],
    truth: &RecordTruth<'_>,
    targets: &[Target],
    py: PyVersion,
) -> Vec<Finding> {
    let mut out = Out::default();
    for rec in records {
        attribute_findings(records, rec, targets, py, &mut out);
    }
    let sources: Vec<Source<'_>> = truth
        .headers
        .iter()
        .filter(|(t, _)| targets.is_empty() || targets.contains(t))
        .map(|(t, s)| Source::Header(*t, s, OnceCell::new()))
        .chain(truth.dwarf.map(|(t, d)| Source::Dwarf(t, d)))
        .collect();
    let mut unmatched: Vec<&CRecord> = Vec::new();
    // ctypes' layouts, once per target (the requested ones, else those of the truth), shared by every
    // comparison on it. A class ctypes refuses is reported whether or not C has its record.
    let mut lays: Vec<(Target, Lays)> = Vec::new();
    let mut layout_targets: Vec<Target> = targets.to_vec();
    for src in &sources {
        if !layout_targets.contains(&src.target()) {
            layout_targets.push(src.target());
        }
    }
    for t in layout_targets {
        let l = ctypes_layout::layouts(records, prototypes, t, py);
        for (rec, r) in records.iter().zip(&l) {
            if let (Some(_), Err(e)) = (&rec.fields, r) {
                if e.ctypes_raises {
                    out.push(
                        K::CtypesRaises,
                        at(&rec.loc),
                        format!("ctypes refuses class {}: {}", rec.name, e.message),
                        "a class ctypes can create".into(),
                        e.message.clone(),
                        "ctypes raises TypeError/ValueError when `_fields_` is assigned: fix the declaration"
                            .into(),
                        &[t],
                    );
                }
            }
        }
        lays.push((t, l));
    }
    for (id, rec) in records.iter().enumerate() {
        if rec.fields.is_none() {
            continue;
        }
        let c_name = truth
            .pairs
            .iter()
            .find(|(p, _)| *p == rec.name)
            .map(|(_, c)| c.as_str());
        let mut matched = false;
        for src in &sources {
            let target = src.target();
            let Some(view) = src.view(c_name.unwrap_or(&rec.name), c_name.is_some(), py) else {
                continue;
            };
            matched = true;
            let at_target = match lays.iter().position(|(t, _)| *t == target) {
                Some(i) => i,
                None => {
                    lays.push((
                        target,
                        ctypes_layout::layouts(records, prototypes, target, py),
                    ));
                    lays.len() - 1
                }
            };
            let cx = Cx {
                records,
                prototypes,
                lays: &lays[at_target].1,
                target,
                py,
                pairs: &truth.pairs,
            };
            compare(&cx, id, &view, &mut out);
        }
        if !matched && !sources.is_empty() && !is_anonymous_member_type(records, id) {
            unmatched.push(rec);
        }
    }
    let mut findings = out.finish();
    if let Some(first) = unmatched.first() {
        let names: Vec<&str> = unmatched.iter().map(|r| r.name.as_str()).collect();
        findings.push(Finding {
            code: Code::BindingLayout(K::NoCounterpart),
            severity: K::NoCounterpart.info().severity,
            location: at(&first.loc),
            message: format!(
                "{} record class{} no C struct or union of the same name: {}",
                names.len(),
                if names.len() == 1 { " has" } else { "es have" },
                names.join(", ")
            ),
            expected: "a struct/union tag or typedef name equal to the class name".into(),
            found: "none in the header(s) or the library's DWARF".into(),
            hint: "rename the class after the C record, or pair them explicitly".into(),
        });
    }
    findings
}

/// Whether class `id` is the type of a field some class lists in `_anonymous_`: it mirrors a C anonymous
/// struct/union member, which has no name of its own to match.
fn is_anonymous_member_type(records: &[CRecord], id: usize) -> bool {
    records.iter().any(|r| {
        r.fields.iter().flatten().any(|f| {
            matches!(f.ty, CType::Record { id: t } if t == id) && r.anonymous.contains(&f.name)
        })
    })
}

fn at(loc: &Loc) -> Location {
    Location::at(loc.file.clone(), loc.line, loc.col)
}

/// `_pack_` without `_layout_` (3.14+) and attributes the version ignores: about the class alone.
fn attribute_findings(
    records: &[CRecord],
    rec: &CRecord,
    targets: &[Target],
    py: PyVersion,
    out: &mut Out,
) {
    if rec.fields.is_none() {
        return;
    }
    let non_windows: Vec<Target> = targets
        .iter()
        .copied()
        .filter(|t| !t.is_windows())
        .collect();
    let layout_set = inherited(records, rec, |r| r.layout.is_some());
    if py.has_layout_attr()
        && rec.pack.is_some_and(|p| p != 0)
        && !layout_set
        && (targets.is_empty() || !non_windows.is_empty())
    {
        out.push(
            K::PackWithoutLayout,
            at(&rec.loc),
            format!(
                "{} sets `_pack_` without `_layout_`: Python {py} uses the MSVC layout and warns (DeprecationWarning, an error in a later Python)",
                rec.name
            ),
            "`_layout_` set next to `_pack_`".into(),
            "`_pack_` alone".into(),
            "add `_layout_ = \"ms\"` (what `_pack_` means today) to the class".into(),
            &non_windows,
        );
    }
    if rec.align.is_some() && !py.has_align_attr() {
        out.push(
            K::AttributeIgnored,
            at(&rec.loc),
            format!(
                "{} sets `_align_`, which Python {py} ignores (it exists from 3.13)",
                rec.name
            ),
            "an attribute the Python version reads".into(),
            "`_align_`".into(),
            "require Python 3.13+, or add explicit padding fields".into(),
            &[],
        );
    }
    if rec.layout.is_some() && !py.has_layout_attr() {
        out.push(
            K::AttributeIgnored,
            at(&rec.loc),
            format!(
                "{} sets `_layout_`, which Python {py} ignores (it exists from 3.14)",
                rec.name
            ),
            "an attribute the Python version reads".into(),
            "`_layout_`".into(),
            "before 3.14 ctypes has one rule set per platform; check the layout on the Python versions you support"
                .into(),
            &[],
        );
    }
}

fn inherited(records: &[CRecord], rec: &CRecord, get: impl Fn(&CRecord) -> bool) -> bool {
    let mut r = rec;
    for _ in 0..64 {
        if get(r) {
            return true;
        }
        match r.base.and_then(|b| records.get(b)) {
            Some(b) => r = b,
            None => return false,
        }
    }
    false
}

fn inherited_pack(records: &[CRecord], rec: &CRecord) -> Option<u64> {
    let mut r = rec;
    for _ in 0..64 {
        if r.pack.is_some() {
            return r.pack.filter(|p| *p != 0);
        }
        r = r.base.and_then(|b| records.get(b))?;
    }
    None
}

// ----------------------------------------------------------------------------------------------------------
// The C side, from a header or from DWARF.

enum Source<'a> {
    /// A header parsed for the target, with the ABI engine's layouts of all its records (computed once, on first
    /// use).
    Header(Target, &'a Spec, OnceCell<(Names, CLays)>),
    Dwarf(Target, &'a DebugInfo),
}

type CLays = Vec<Result<RecordLayout, abi::LayoutError>>;

impl<'a> Source<'a> {
    fn target(&self) -> Target {
        match self {
            Source::Header(t, _, _) | Source::Dwarf(t, _) => *t,
        }
    }

    fn view(&self, name: &str, exact: bool, py: PyVersion) -> Option<CView> {
        match self {
            Source::Header(t, spec, cache) => {
                let (names, lays) =
                    cache.get_or_init(|| (Names::new(spec), abi::record_layouts(spec, *t)));
                let id = names.find(name, exact)?;
                Some(header_view(
                    spec,
                    id,
                    *t,
                    lays,
                    Ctypes::of_python_minor(py.minor),
                ))
            }
            Source::Dwarf(_, d) => {
                let r = d.record(name).or_else(|| {
                    if exact {
                        return None;
                    }
                    let want = name.trim_start_matches('_');
                    d.records()
                        .iter()
                        .find(|r| r.name.trim_start_matches('_') == want && !r.members.is_empty())
                })?;
                Some(dwarf_view(r))
            }
        }
    }
}

/// The C shape of a type, enough to compare it with a ctypes type on one target.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Int {
        size: u64,
        signed: Option<bool>,
    },
    Bool {
        size: u64,
    },
    Float {
        size: u64,
    },
    Complex {
        size: u64,
    },
    Pointer,
    Array {
        elem: Box<Shape>,
        len: u64,
    },
    /// `name`: the C record's tag or typedef name, or the class name.
    Record {
        size: u64,
        name: Option<String>,
    },
    Unknown,
}

struct CMember {
    name: Option<String>,
    shape: Shape,
    /// The C spelling (`uLong`, `struct point`).
    c_type: String,
    /// The ctypes spelling that declares it on every target, when there is one.
    suggest: Option<String>,
    offset: u64,
    bit_offset: Option<u64>,
    bit_width: Option<u32>,
    aligned_attr: bool,
}

struct CView {
    /// `struct point`, `union value`, or the typedef name.
    display: String,
    is_union: bool,
    from_dwarf: bool,
    size: u64,
    align: Option<u64>,
    /// `#pragma pack(n)` / `packed` (1); `None` when unknown (DWARF).
    pack: Option<Option<u64>>,
    aligned_attr: Option<u64>,
    error: Option<String>,
    members: Vec<CMember>,
}

/// The complete records of a header by tag and typedef name (tags first; the first definition wins), and by
/// those names without leading underscores.
#[derive(Default)]
struct Names {
    exact: HashMap<String, usize>,
    stripped: HashMap<String, usize>,
}

impl Names {
    fn new(spec: &Spec) -> Names {
        let mut n = Names::default();
        let mut add = |name: &str, id: usize| {
            n.exact.entry(name.to_string()).or_insert(id);
            n.stripped
                .entry(name.trim_start_matches('_').to_string())
                .or_insert(id);
        };
        for (id, r) in spec.records.iter().enumerate() {
            if let (true, Some(tag)) = (r.complete, &r.tag) {
                add(tag, id);
            }
        }
        for t in &spec.typedefs {
            if let Some(id) = typedef_record(spec, &t.ty.ty) {
                add(&t.name, id);
            }
        }
        n
    }

    fn find(&self, name: &str, exact: bool) -> Option<usize> {
        self.exact.get(name).copied().or_else(|| {
            (!exact)
                .then(|| self.stripped.get(name.trim_start_matches('_')).copied())
                .flatten()
        })
    }
}

/// The complete record a typedef names (through typedef chains and forward declarations of the tag).
fn typedef_record<'s>(spec: &'s Spec, mut ty: &'s Type) -> Option<usize> {
    for _ in 0..32 {
        match ty {
            Type::Record { id } => {
                let r = spec.records.get(*id)?;
                if r.complete {
                    return Some(*id);
                }
                return r
                    .tag
                    .as_deref()
                    .and_then(|tag| spec.record_by_tag(r.kind, tag))
                    .filter(|i| spec.records[*i].complete);
            }
            Type::Named { name } => ty = &spec.typedef(name)?.ty.ty,
            _ => return None,
        }
    }
    None
}

fn header_view(
    spec: &Spec,
    id: usize,
    target: Target,
    lays: &[Result<RecordLayout, abi::LayoutError>],
    ctypes: Ctypes,
) -> CView {
    let rec = &spec.records[id];
    let display = match &rec.tag {
        Some(t) => format!(
            "{} {t}",
            if rec.kind == RecordKind::Union {
                "union"
            } else {
                "struct"
            }
        ),
        None => crate::decl::c_spelling::record_name(spec, id),
    };
    let pack = if rec.packed {
        Some(1)
    } else {
        rec.pack.map(u64::from)
    };
    let mut view = CView {
        display,
        is_union: rec.kind == RecordKind::Union,
        from_dwarf: false,
        size: 0,
        align: None,
        pack: Some(pack),
        aligned_attr: rec.aligned.map(u64::from),
        error: None,
        members: Vec::new(),
    };
    let layout: &RecordLayout = match &lays[id] {
        Ok(l) => l,
        Err(e) => {
            view.error = Some(e.message.clone());
            return view;
        }
    };
    view.size = layout.size;
    view.align = Some(layout.align);
    for (f, l) in rec.fields.iter().zip(&layout.fields) {
        view.members.push(CMember {
            name: f.name.clone(),
            shape: decl_shape(spec, lays, &f.ty.ty, target, 0),
            c_type: type_name(spec, &f.ty.ty),
            suggest: ctypes_spelling(spec, &f.ty, Place::Member, ctypes, 0),
            offset: l.offset,
            bit_offset: l.bit_offset,
            bit_width: l.bit_width,
            aligned_attr: f.aligned.is_some(),
        });
    }
    view
}

fn size_of(spec: &Spec, ty: &Type, target: Target) -> Option<u64> {
    abi::type_layout(spec, ty, target).ok().map(|l| l.size)
}

fn decl_shape(
    spec: &Spec,
    lays: &[Result<RecordLayout, abi::LayoutError>],
    ty: &Type,
    target: Target,
    depth: u32,
) -> Shape {
    if depth > 32 {
        return Shape::Unknown;
    }
    let size = || size_of(spec, ty, target);
    match ty {
        Type::Prim { prim } => {
            let Some(size) = size() else {
                return Shape::Unknown;
            };
            match prim {
                Prim::Void => Shape::Unknown,
                Prim::Bool => Shape::Bool { size },
                Prim::Float | Prim::Double | Prim::LongDouble => Shape::Float { size },
                Prim::Char | Prim::WChar => Shape::Int { size, signed: None },
                Prim::UChar
                | Prim::UShort
                | Prim::UInt
                | Prim::ULong
                | Prim::ULongLong
                | Prim::UInt128
                | Prim::Char16
                | Prim::Char32 => Shape::Int {
                    size,
                    signed: Some(false),
                },
                _ => Shape::Int {
                    size,
                    signed: Some(true),
                },
            }
        }
        Type::Named { name } => {
            if let Some(t) = spec.typedef(name) {
                return decl_shape(spec, lays, &t.ty.ty, target, depth + 1);
            }
            let Some(size) = size() else {
                return Shape::Unknown;
            };
            if !name.ends_with("_t") || name.contains("va_list") || name == "max_align_t" {
                return Shape::Unknown;
            }
            if name == "wchar_t" {
                return Shape::Int { size, signed: None };
            }
            let unsigned = name.starts_with('u') || name == "size_t" || name == "rsize_t";
            Shape::Int {
                size,
                signed: Some(!unsigned),
            }
        }
        Type::Pointer { .. } => Shape::Pointer,
        Type::Array { elem, len } => Shape::Array {
            elem: Box::new(decl_shape(spec, lays, &elem.ty, target, depth + 1)),
            len: len.unwrap_or(0),
        },
        Type::Record { id } => match lays.get(*id).and_then(|l| l.as_ref().ok()).map(|l| l.size) {
            Some(size) => Shape::Record {
                size,
                name: record_name(spec, *id),
            },
            None => Shape::Unknown,
        },
        Type::Enum { .. } => match size() {
            Some(size) => Shape::Int { size, signed: None },
            None => Shape::Unknown,
        },
        Type::Function { .. } => Shape::Unknown,
    }
}

fn dwarf_view(r: &dwarf::Record) -> CView {
    let members = r
        .members
        .iter()
        .map(|m| CMember {
            name: m.name.clone(),
            shape: dwarf_shape(&m.ty.kind, Some(m.size), 0),
            c_type: m.ty.c.clone(),
            suggest: dwarf_suggest(&m.ty.kind),
            offset: m.offset,
            bit_offset: m.bit_offset,
            bit_width: m.bit_size.map(|b| b as u32),
            aligned_attr: m.alignment.is_some(),
        })
        .collect();
    CView {
        display: format!(
            "{} {}",
            if r.kind == RecordKind::Union {
                "union"
            } else {
                "struct"
            },
            r.name
        ),
        is_union: r.kind == RecordKind::Union,
        from_dwarf: true,
        size: r.byte_size,
        align: None,
        pack: None,
        aligned_attr: r.alignment,
        error: None,
        members,
    }
}

fn dwarf_shape(k: &TypeKind, size: Option<u64>, depth: u32) -> Shape {
    if depth > 32 {
        return Shape::Unknown;
    }
    match k {
        TypeKind::Bool { size } => Shape::Bool { size: *size },
        TypeKind::Int { signed, size } => Shape::Int {
            size: *size,
            signed: Some(*signed),
        },
        TypeKind::Char { size, .. } => Shape::Int {
            size: *size,
            signed: None,
        },
        TypeKind::Float { size } => Shape::Float { size: *size },
        TypeKind::Complex { size } => Shape::Complex { size: *size },
        TypeKind::Pointer { .. } => Shape::Pointer,
        TypeKind::Record {
            size: Some(s),
            name,
            ..
        } => Shape::Record {
            size: *s,
            name: name.clone(),
        },
        TypeKind::Enum { size, .. } => Shape::Int {
            size: *size,
            signed: None,
        },
        TypeKind::Array { elem, len } => {
            let len = len.unwrap_or(0);
            let esize = size.and_then(|s| s.checked_div(len));
            Shape::Array {
                elem: Box::new(dwarf_shape(elem, esize, depth + 1)),
                len,
            }
        }
        _ => Shape::Unknown,
    }
}

fn fixed_width(size: u64, signed: bool) -> Option<&'static str> {
    Some(match (size, signed) {
        (1, true) => "c_int8",
        (1, false) => "c_uint8",
        (2, true) => "c_int16",
        (2, false) => "c_uint16",
        (4, true) => "c_int32",
        (4, false) => "c_uint32",
        (8, true) => "c_int64",
        (8, false) => "c_uint64",
        _ => return None,
    })
}

fn dwarf_suggest(k: &TypeKind) -> Option<String> {
    Some(match k {
        TypeKind::Bool { .. } => "c_bool".into(),
        TypeKind::Int { signed, size } => fixed_width(*size, *signed)?.into(),
        TypeKind::Char { .. } => "c_char".into(),
        TypeKind::Float { size: 4 } => "c_float".into(),
        TypeKind::Float { size: 8 } => "c_double".into(),
        TypeKind::Float { .. } => "c_longdouble".into(),
        TypeKind::Pointer { .. } => "c_void_p".into(),
        TypeKind::Record { name: Some(n), .. } => n.clone(),
        TypeKind::Array {
            elem,
            len: Some(len),
        } => format!("{} * {len}", dwarf_suggest(elem)?),
        _ => return None,
    })
}

// ----------------------------------------------------------------------------------------------------------
// The ctypes side.

type Lays = Vec<Result<CtypesLayout, ctypes_layout::CtypesLayoutError>>;

/// What one comparison on one target reads.
struct Cx<'a> {
    records: &'a [CRecord],
    prototypes: &'a [Prototype],
    /// ctypes' layout of every class on `target`.
    lays: &'a [Result<CtypesLayout, ctypes_layout::CtypesLayoutError>],
    target: Target,
    py: PyVersion,
    pairs: &'a [(String, String)],
}

fn ctypes_shape(cx: &Cx<'_>, ty: &CType, depth: u32) -> Shape {
    if depth > 32 {
        return Shape::Unknown;
    }
    match ty {
        CType::Simple { simple } => {
            let Some((size, _)) = ctypes_layout::simple_size_align(*simple, cx.target) else {
                return Shape::Unknown;
            };
            use Simple::*;
            match simple {
                Bool => Shape::Bool { size },
                Char | WChar => Shape::Int { size, signed: None },
                Float | Double | LongDouble => Shape::Float { size },
                FloatComplex | DoubleComplex | LongDoubleComplex => Shape::Complex { size },
                CharP | WCharP | VoidP | PyObject => Shape::Pointer,
                UByte | UShort | UInt | ULong | ULongLong | UInt8 | UInt16 | UInt32 | UInt64
                | Size => Shape::Int {
                    size,
                    signed: Some(false),
                },
                _ => Shape::Int {
                    size,
                    signed: Some(true),
                },
            }
        }
        CType::Pointer { .. } | CType::FuncPtr { .. } => Shape::Pointer,
        CType::Array { elem, len } => Shape::Array {
            elem: Box::new(ctypes_shape(cx, elem, depth + 1)),
            len: *len,
        },
        CType::Record { id } => match cx.lays.get(*id) {
            Some(Ok(l)) => Shape::Record {
                size: l.size,
                name: cx.records.get(*id).map(|r| r.name.clone()),
            },
            _ => Shape::Unknown,
        },
        CType::Void | CType::Unknown { .. } => Shape::Unknown,
    }
}

/// The ctypes spelling of a type expression.
pub fn spelling(records: &[CRecord], prototypes: &[Prototype], ty: &CType) -> String {
    fn go(records: &[CRecord], prototypes: &[Prototype], ty: &CType, depth: u32) -> String {
        if depth > 32 {
            return "...".into();
        }
        match ty {
            CType::Simple { simple } => simple.name().into(),
            CType::Pointer { pointee } => {
                format!("POINTER({})", go(records, prototypes, pointee, depth + 1))
            }
            CType::Array { elem, len } => {
                format!("{} * {len}", go(records, prototypes, elem, depth + 1))
            }
            CType::Record { id } => records
                .get(*id)
                .map_or_else(|| "?".into(), |r| r.name.clone()),
            CType::FuncPtr { id } => prototypes
                .get(*id)
                .and_then(|p| p.name.clone())
                .unwrap_or_else(|| "CFUNCTYPE(...)".into()),
            CType::Void => "None".into(),
            CType::Unknown { text } => text.clone(),
        }
    }
    go(records, prototypes, ty, 0)
}

/// A field of the class or of one of its bases, as ctypes placed it (offsets from the start of the class).
struct Placed<'r> {
    field: &'r CField,
    placed: CtypesField,
    anonymous: bool,
}

fn flatten<'r>(
    cx: &Cx<'r>,
    id: usize,
    depth: u32,
) -> Result<Vec<Placed<'r>>, ctypes_layout::CtypesLayoutError> {
    let (Some(rec), Some(own)) = (cx.records.get(id), cx.lays.get(id)) else {
        return Err(ctypes_layout::CtypesLayoutError {
            message: format!("no record class #{id}"),
            ctypes_raises: false,
        });
    };
    let own = own.as_ref().map_err(Clone::clone)?;
    let mut out = match rec.base {
        Some(b) if depth < 64 && b != id => flatten(cx, b, depth + 1)?,
        _ => Vec::new(),
    };
    for (f, p) in rec.fields.iter().flatten().zip(&own.fields) {
        out.push(Placed {
            field: f,
            placed: p.clone(),
            anonymous: rec.anonymous.contains(&f.name),
        });
    }
    Ok(out)
}

// ----------------------------------------------------------------------------------------------------------
// The comparison.

/// One finding before grouping across targets.
struct Pending {
    code: K,
    location: Location,
    message: String,
    hint: String,
    /// Expected and found per target (one entry with no target for findings about the class alone).
    values: Vec<(Option<Target>, String, String)>,
}

/// Findings grouped across targets: one per (code, location, message), in first-seen order. When expected and
/// found are the same on every target they are said once, else per target.
#[derive(Default)]
struct Out {
    pending: Vec<Pending>,
    /// (code, location, message) → index in `pending`.
    index: HashMap<(K, Location, String), usize>,
}

impl Out {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        code: K,
        location: Location,
        message: String,
        expected: String,
        found: String,
        hint: String,
        targets: &[Target],
    ) {
        let values: Vec<(Option<Target>, String, String)> = if targets.is_empty() {
            vec![(None, expected, found)]
        } else {
            targets
                .iter()
                .map(|t| (Some(*t), expected.clone(), found.clone()))
                .collect()
        };
        let key = (code, location, message);
        if let Some(&i) = self.index.get(&key) {
            let p = &mut self.pending[i];
            for v in values {
                if !p.values.iter().any(|w| w.0 == v.0) {
                    p.values.push(v);
                }
            }
            return;
        }
        self.index.insert(key.clone(), self.pending.len());
        let (code, location, message) = key;
        self.pending.push(Pending {
            code,
            location,
            message,
            hint,
            values,
        });
    }

    fn finish(self) -> Vec<Finding> {
        self.pending
            .into_iter()
            .map(|p| {
                let targets: Vec<&str> = p
                    .values
                    .iter()
                    .filter_map(|v| v.0.map(Target::name))
                    .collect();
                let message = if targets.is_empty() {
                    p.message
                } else {
                    format!("{} (on {})", p.message, targets.join(", "))
                };
                let same = p
                    .values
                    .iter()
                    .all(|v| v.1 == p.values[0].1 && v.2 == p.values[0].2);
                let (expected, found) = if same {
                    (p.values[0].1.clone(), p.values[0].2.clone())
                } else {
                    let per = |pick: fn(&(Option<Target>, String, String)) -> &String| {
                        p.values
                            .iter()
                            .map(|v| format!("{}: {}", v.0.map_or("", Target::name), pick(v)))
                            .collect::<Vec<_>>()
                            .join("; ")
                    };
                    (per(|v| &v.1), per(|v| &v.2))
                };
                Finding {
                    code: Code::BindingLayout(p.code),
                    severity: p.code.info().severity,
                    location: p.location,
                    message,
                    expected,
                    found,
                    hint: p.hint,
                }
            })
            .collect()
    }
}

enum ShapeDiff {
    Same,
    Signedness,
    Type,
}

/// Whether a C record name and a class name denote the same record (the matching rule of the module doc).
fn names_match(c: &str, class: &str, pairs: &[(String, String)]) -> bool {
    if let Some((_, paired)) = pairs.iter().find(|(p, _)| p == class) {
        return paired == c;
    }
    c == class || c.trim_start_matches('_') == class.trim_start_matches('_')
}

fn shape_diff(c: &Shape, p: &Shape, pairs: &[(String, String)]) -> ShapeDiff {
    use Shape::*;
    match (c, p) {
        (Unknown, _) | (_, Unknown) => ShapeDiff::Same,
        // The nested class is checked against that C record on its own: its differences are reported there.
        (Record { name: Some(cn), .. }, Record { name: Some(pn), .. })
            if names_match(cn, pn, pairs) =>
        {
            ShapeDiff::Same
        }
        (Record { size: a, .. }, Record { size: b, .. }) => {
            if a == b {
                ShapeDiff::Same
            } else {
                ShapeDiff::Type
            }
        }
        (
            Int {
                size: a,
                signed: sa,
            },
            Int {
                size: b,
                signed: sb,
            },
        ) => {
            if a != b {
                ShapeDiff::Type
            } else if sa.is_some() && sb.is_some() && sa != sb {
                ShapeDiff::Signedness
            } else {
                ShapeDiff::Same
            }
        }
        (Bool { size: a }, Bool { size: b })
        | (Bool { size: a }, Int { size: b, .. })
        | (Int { size: a, .. }, Bool { size: b })
        | (Float { size: a }, Float { size: b })
        | (Complex { size: a }, Complex { size: b }) => {
            if a == b {
                ShapeDiff::Same
            } else {
                ShapeDiff::Type
            }
        }
        (Pointer, Pointer) => ShapeDiff::Same,
        (Array { elem: e1, len: l1 }, Array { elem: e2, len: l2 }) => {
            if l1 != l2 {
                ShapeDiff::Type
            } else {
                shape_diff(e1, e2, pairs)
            }
        }
        _ => ShapeDiff::Type,
    }
}

fn shape_text(s: &Shape) -> String {
    match s {
        Shape::Int { size, signed } => format!(
            "{}{size}-byte integer",
            match signed {
                Some(true) => "signed ",
                Some(false) => "unsigned ",
                None => "",
            }
        ),
        Shape::Bool { size } => format!("{size}-byte bool"),
        Shape::Float { size } => format!("{size}-byte floating point"),
        Shape::Complex { size } => format!("{size}-byte complex"),
        Shape::Pointer => "pointer".into(),
        Shape::Array { elem, len } => format!("array of {len} × {}", shape_text(elem)),
        Shape::Record { size, .. } => format!("{size}-byte record"),
        Shape::Unknown => "unknown".into(),
    }
}

/// Where a member starts, in bits from the start of the record.
fn c_pos(m: &CMember) -> u64 {
    m.bit_offset.unwrap_or(m.offset * 8)
}

fn py_pos(p: &CtypesField) -> i64 {
    p.offset * 8 + i64::from(p.bit_offset.unwrap_or(0))
}

fn pos_text(bits: i64, bitfield: bool) -> String {
    if bitfield {
        format!(
            "bit {bits} (byte {}, bit {})",
            bits.div_euclid(8),
            bits.rem_euclid(8)
        )
    } else {
        format!("offset {}", bits.div_euclid(8))
    }
}

fn compare(cx: &Cx<'_>, id: usize, view: &CView, out: &mut Out) {
    let (records, prototypes, target, py, pairs) =
        (cx.records, cx.prototypes, cx.target, cx.py, cx.pairs);
    let rec = &records[id];
    let tg = [target];
    let class_loc = at(&rec.loc);
    let not_compared = |out: &mut Out, why: String| {
        out.push(
            K::NotCompared,
            class_loc.clone(),
            format!("{} was not compared with {}: {why}", rec.name, view.display),
            "a layout for both".into(),
            why.clone(),
            "declare every field with a type ffi-doctor can resolve statically".into(),
            &tg,
        );
    };
    if let Some(e) = &view.error {
        not_compared(out, format!("the C layout cannot be computed: {e}"));
        return;
    }
    let lay = match &cx.lays[id] {
        Ok(l) => l,
        // Reported for the class alone (`check_records`).
        Err(e) if e.ctypes_raises => return,
        Err(e) => {
            not_compared(out, e.message.clone());
            return;
        }
    };
    let placed = match flatten(cx, id, 0) {
        Ok(p) => p,
        Err(e) => {
            not_compared(out, e.message);
            return;
        }
    };
    let big = rec.endian == Endian::Big;
    let size_finding = |out: &mut Out| {
        if view.size != lay.size {
            out.push(
                K::SizeDiffers,
                class_loc.clone(),
                format!(
                    "sizeof({}) differs from sizeof({}) in C",
                    rec.name, view.display
                ),
                format!("{} bytes", view.size),
                format!("{} bytes", lay.size),
                "declare the fields C declares, with the same types, in the same order".into(),
                &tg,
            );
        }
    };

    if view.is_union != rec.is_union {
        let kind = |u: bool| if u { "a union" } else { "a struct" };
        out.push(
            K::MemberType,
            class_loc.clone(),
            format!(
                "{} is {}, C's {} is {}",
                rec.name,
                kind(rec.is_union),
                view.display,
                kind(view.is_union)
            ),
            kind(view.is_union).into(),
            kind(rec.is_union).into(),
            format!(
                "derive the class from `{}`",
                if view.is_union { "Union" } else { "Structure" }
            ),
            &tg,
        );
        size_finding(out);
        return;
    }

    // 1. Pair the members. An unnamed C bitfield is padding; a ctypes bitfield at its place that C does not
    // name (`("_pad", c_uint, 4)`) is that padding spelled out, and pairs with it.
    let c_named: Vec<&str> = view
        .members
        .iter()
        .filter_map(|m| m.name.as_deref())
        .collect();
    let mut c_members: Vec<&CMember> = Vec::new();
    let mut c_keys: Vec<String> = Vec::new();
    let anon_names: Vec<&str> = placed
        .iter()
        .filter(|p| p.anonymous)
        .map(|p| p.field.name.as_str())
        .collect();
    let mut anon_i = 0;
    // Unnamed C bitfields the class does not spell out: (width, the next named member).
    let mut padding: Vec<(u32, Option<String>)> = Vec::new();
    for (mi, m) in view.members.iter().enumerate() {
        let key = match (&m.name, m.bit_width) {
            (Some(n), _) => n.clone(),
            (None, Some(w)) => match placed.get(c_members.len()) {
                Some(p)
                    if w > 0
                        && p.field.bits.is_some()
                        && !p.anonymous
                        && !c_named.contains(&p.field.name.as_str()) =>
                {
                    p.field.name.clone()
                }
                _ => {
                    if w > 0 {
                        let next = view.members[mi + 1..].iter().find_map(|n| n.name.clone());
                        padding.push((w, next));
                    }
                    continue;
                }
            },
            (None, None) => {
                let k = anon_names
                    .get(anon_i)
                    .map_or_else(|| "<anonymous member>".to_string(), |s| s.to_string());
                anon_i += 1;
                k
            }
        };
        c_members.push(m);
        c_keys.push(key);
    }
    let py_keys: Vec<&str> = placed.iter().map(|p| p.field.name.as_str()).collect();
    if c_keys
        .iter()
        .map(String::as_str)
        .ne(py_keys.iter().copied())
    {
        let missing: Vec<&str> = c_keys
            .iter()
            .map(String::as_str)
            .filter(|k| !py_keys.contains(k))
            .collect();
        let extra: Vec<&str> = py_keys
            .iter()
            .copied()
            .filter(|k| !c_keys.iter().any(|c| c == k))
            .collect();
        if missing.is_empty() && extra.is_empty() && c_keys.len() == py_keys.len() {
            out.push(
                K::MemberOrder,
                class_loc.clone(),
                format!(
                    "the fields of {} are in another order than in {}",
                    rec.name, view.display
                ),
                c_keys.join(", "),
                py_keys.join(", "),
                "list `_fields_` in the order C declares the members".into(),
                &tg,
            );
            return;
        } else {
            let mut parts = Vec::new();
            if !missing.is_empty() {
                parts.push(format!(
                    "lacks C member{} {}",
                    plural(missing.len()),
                    missing.join(", ")
                ));
            }
            if !extra.is_empty() {
                parts.push(format!(
                    "has field{} {} that C does not",
                    plural(extra.len()),
                    extra.join(", ")
                ));
            }
            if parts.is_empty() {
                parts.push("declares a field twice".into());
            }
            out.push(
                K::MembersDiffer,
                class_loc.clone(),
                format!("{} {} ({})", rec.name, parts.join(" and "), view.display),
                c_keys.join(", "),
                py_keys.join(", "),
                "make `_fields_` list exactly the members of the C record (a C anonymous struct/union member is a field listed in `_anonymous_`)".into(),
                &tg,
            );
        }
        size_finding(out);
        return;
    }

    // 2. Types and bit widths.
    let mut structural = false;
    let mut has_bitfields = false;
    let mut nested_differs: Option<String> = None;
    for (m, p) in c_members.iter().zip(&placed) {
        let f = p.field;
        let floc = at(&f.loc);
        let py_shape = ctypes_shape(cx, &f.ty, 0);
        let spelled = spelling(records, prototypes, &f.ty);
        let suggest = m
            .suggest
            .as_ref()
            .map_or_else(|| NO_SPELLING.to_string(), |s| format!("`{s}`"));
        if let (Shape::Record { size: a, .. }, Shape::Record { size: b, .. }) =
            (&m.shape, &py_shape)
        {
            if a != b {
                nested_differs.get_or_insert_with(|| f.name.clone());
            }
        }
        match shape_diff(&m.shape, &py_shape, pairs) {
            ShapeDiff::Same => {}
            ShapeDiff::Signedness => out.push(
                K::MemberSignedness,
                floc.clone(),
                format!(
                    "field `{}` of {}: `{spelled}` and C `{}` differ in signedness",
                    f.name, rec.name, m.c_type
                ),
                format!("{} (`{}`)", shape_text(&m.shape), m.c_type),
                format!("{} (`{spelled}`)", shape_text(&py_shape)),
                format!("declare it as {suggest}"),
                &tg,
            ),
            ShapeDiff::Type => {
                structural = true;
                out.push(
                    K::MemberType,
                    floc.clone(),
                    format!(
                        "field `{}` of {}: `{spelled}` is a {}, C `{}` is a {}",
                        f.name,
                        rec.name,
                        shape_text(&py_shape),
                        m.c_type,
                        shape_text(&m.shape)
                    ),
                    format!("{} (`{}`)", shape_text(&m.shape), m.c_type),
                    format!("{} (`{spelled}`)", shape_text(&py_shape)),
                    format!("declare it as {suggest}"),
                    &tg,
                );
            }
        }
        if m.bit_width != f.bits {
            structural = true;
            let w = |b: Option<u32>| {
                b.map_or_else(|| "not a bitfield".to_string(), |b| format!("{b} bits"))
            };
            out.push(
                K::Bitfield,
                floc,
                format!(
                    "field `{}` of {}: {} in C, {} in ctypes",
                    f.name,
                    rec.name,
                    w(m.bit_width),
                    w(f.bits)
                ),
                w(m.bit_width),
                w(f.bits),
                match m.bit_width {
                    Some(b) => format!("declare it as `(\"{}\", {}, {b})`", f.name, spelled),
                    None => format!("declare it as `(\"{}\", {})`", f.name, spelled),
                },
                &tg,
            );
        }
        has_bitfields |= f.bits.is_some();
    }
    if structural {
        size_finding(out);
        return;
    }

    // 3. Positions, size and alignment.
    let mut diffs: Vec<(String, String, String)> = Vec::new();
    for (m, p) in c_members.iter().zip(&placed) {
        let bitfield = m.bit_width.is_some();
        if bitfield && big {
            // A big-endian class numbers bits from the other end; only the storage unit is comparable.
            continue;
        }
        let c = c_pos(m) as i64;
        let q = if bitfield {
            py_pos(&p.placed)
        } else {
            p.placed.offset * 8
        };
        if c != q {
            diffs.push((
                format!("`{}`", p.field.name),
                pos_text(c, bitfield),
                pos_text(q, bitfield),
            ));
        }
    }
    if view.size != lay.size {
        diffs.push(("sizeof".into(), view.size.to_string(), lay.size.to_string()));
    }
    let align_differs = view.align.is_some_and(|a| a != lay.align);
    if diffs.is_empty() && !align_differs {
        return;
    }
    if let Some((w, next)) = padding.first() {
        let place = next
            .as_ref()
            .map_or_else(|| "at the end".to_string(), |n| format!("before `{n}`"));
        out.push(
            K::Bitfield,
            class_loc.clone(),
            format!(
                "{}: C has an unnamed {w}-bit bitfield (padding) {place} that the class does not declare",
                rec.name
            ),
            format!("{} unnamed bitfield{} of padding", padding.len(), plural(padding.len())),
            "none".into(),
            format!("declare the padding as a field, e.g. `(\"_pad\", c_uint, {w})`, at its place in `_fields_`"),
            &tg,
        );
        return;
    }
    let expected = diffs
        .iter()
        .map(|(w, c, _)| format!("{w}: {c}"))
        .chain(
            view.align
                .filter(|_| align_differs)
                .map(|a| format!("alignment {a}")),
        )
        .collect::<Vec<_>>()
        .join("; ");
    let found = diffs
        .iter()
        .map(|(w, _, q)| format!("{w}: {q}"))
        .chain(align_differs.then(|| format!("alignment {}", lay.align)))
        .collect::<Vec<_>>()
        .join("; ");
    let first = diffs
        .first()
        .map(|(w, c, q)| format!("{w} is at {q} in ctypes, {c} in C"))
        .unwrap_or_else(|| {
            format!(
                "alignment is {} in ctypes, {} in C",
                lay.align,
                view.align.unwrap_or(0)
            )
        });
    let first = first.replace("sizeof is at ", "sizeof is ");

    // Packing declared differently.
    let py_pack = inherited_pack(records, rec);
    if let Some(c_pack) = view.pack {
        if c_pack != py_pack {
            let c_text = c_pack.map_or_else(
                || "not packed".to_string(),
                |p| format!("packed to {p} (`#pragma pack({p})` / `packed`)"),
            );
            let py_text =
                py_pack.map_or_else(|| "no `_pack_`".to_string(), |p| format!("`_pack_ = {p}`"));
            out.push(
                K::Pack,
                class_loc.clone(),
                format!("{} is {c_text} in C, the class has {py_text}: {first}", rec.name),
                expected,
                found,
                match c_pack {
                    Some(p) => format!("set `_pack_ = {p}` (with `_layout_ = \"ms\"` on Python 3.14+) before `_fields_`"),
                    None => "remove `_pack_`".into(),
                },
                &tg,
            );
            return;
        }
    }
    // An alignment C asks for and the class does not express.
    let c_aligned = view.aligned_attr.is_some() || c_members.iter().any(|m| m.aligned_attr);
    let own_align = rec.align.filter(|_| py.has_align_attr());
    if c_aligned && view.aligned_attr != own_align {
        out.push(
            K::Alignment,
            class_loc.clone(),
            format!(
                "{}: the C record has an alignment the class does not express: {first}",
                rec.name
            ),
            expected,
            found,
            match view.aligned_attr {
                Some(a) => format!("set `_align_ = {a}` (Python 3.13+) or add padding fields"),
                None => {
                    "a C member has an alignment attribute: add an explicit padding field before it"
                        .into()
                }
            },
            &tg,
        );
        return;
    }
    if view.from_dwarf && !has_bitfields {
        // DWARF does not say whether the record was packed: the likely cause is packing or alignment.
        let packed_in_c = view.size < lay.size;
        out.push(
            if packed_in_c { K::Pack } else { K::Alignment },
            class_loc.clone(),
            format!(
                "{} is laid out differently in the library's DWARF ({}): {first}",
                rec.name, view.display
            ),
            expected,
            found,
            if packed_in_c {
                "the library packs this record (`#pragma pack`): set `_pack_` to its packing".into()
            } else {
                "the library aligns this record or a member more strictly: set `_align_` (3.13+) or add padding".into()
            },
            &tg,
        );
        return;
    }
    // Same declaration, different placement: ctypes' own rules.
    let hint = match lay.rules {
        _ if nested_differs.is_some() => format!(
            "field `{}` has a record class that ctypes lays out differently from its C record (see the finding on that \
             class): fixing it fixes this one",
            nested_differs.as_deref().unwrap_or_default()
        ),
        Rules::LegacyOther | Rules::LegacyWindows if has_bitfields => {
            "ctypes before 3.14 does not place bitfields like the C compiler: declare one integer field of the storage \
             unit (e.g. `c_uint32`) and extract the bits in Python, or require Python 3.14+ and set `_layout_ = \"gcc-sysv\"` \
             (`\"ms\"` on Windows)"
                .to_string()
        }
        Rules::Ms if !target.is_windows() => {
            "`_pack_` makes Python 3.14+ use the MSVC rules, which place bitfields unlike GCC/Clang: declare the bitfields' \
             storage unit as one integer field and extract the bits in Python"
                .to_string()
        }
        _ => "declare the storage with plain integer fields and explicit padding that reproduce the C offsets".to_string(),
    };
    let rules = match lay.rules {
        Rules::LegacyOther | Rules::LegacyWindows => format!("ctypes {py}"),
        Rules::Ms => format!("ctypes {py} (`_layout_ = \"ms\"`)"),
        Rules::GccSysv => format!("ctypes {py} (`_layout_ = \"gcc-sysv\"`)"),
    };
    out.push(
        K::CtypesRules,
        class_loc,
        format!(
            "{} matches {} field for field, but {rules} lays it out differently from the C compiler: {first}",
            rec.name, view.display
        ),
        expected,
        found,
        hint,
        &tg,
    );
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::model::LayoutRule;
    use crate::decl::{parse_str, ParseOptions};

    fn spec(c: &str) -> Spec {
        parse_str("t.h", c, &ParseOptions::default()).expect("header parses")
    }

    fn s(simple: Simple) -> CType {
        CType::Simple { simple }
    }

    fn class(name: &str, line: u32, fields: Vec<(&str, CType, Option<u32>)>) -> CRecord {
        CRecord {
            name: name.into(),
            is_union: false,
            endian: Endian::Native,
            fields: Some(
                fields
                    .into_iter()
                    .enumerate()
                    .map(|(i, (n, ty, bits))| CField {
                        name: n.into(),
                        ty,
                        bits,
                        loc: Loc {
                            file: "b.py".into(),
                            line: line + 1 + i as u32,
                            col: 9,
                        },
                    })
                    .collect(),
            ),
            pack: None,
            align: None,
            layout: None,
            anonymous: vec![],
            base: None,
            loc: Loc {
                file: "b.py".into(),
                line,
                col: 1,
            },
        }
    }

    fn run(c: &str, recs: &[CRecord], targets: &[Target], py: u8) -> Vec<Finding> {
        let sp = spec(c);
        let truth = RecordTruth {
            headers: targets.iter().map(|t| (*t, &sp)).collect(),
            ..Default::default()
        };
        check_records(recs, &[], &truth, targets, PyVersion::new(py))
    }

    fn ids(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.code.id()).collect()
    }

    const ALL3: [Target; 3] = [
        Target::LinuxX86_64,
        Target::LinuxI386,
        Target::WindowsX64Msvc,
    ];

    #[test]
    fn a_faithful_class_is_clean_everywhere() {
        let c = "#include <stdint.h>\nstruct point { int32_t x; double y; const char *name; unsigned char tag[3]; long n; };";
        let r = class(
            "point",
            3,
            vec![
                ("x", s(Simple::Int32), None),
                ("y", s(Simple::Double), None),
                ("name", s(Simple::CharP), None),
                (
                    "tag",
                    CType::Array {
                        elem: Box::new(s(Simple::UByte)),
                        len: 3,
                    },
                    None,
                ),
                ("n", s(Simple::Long), None),
            ],
        );
        for py in [11, 13, 14] {
            let f = run(c, std::slice::from_ref(&r), &Target::ALL, py);
            assert!(f.is_empty(), "{f:#?}");
        }
    }

    #[test]
    fn c_long_for_int64_is_wrong_on_llp64_and_ilp32_only() {
        let c = "#include <stdint.h>\ntypedef struct { int64_t total; int32_t n; } stats_t;";
        let r = class(
            "stats_t",
            1,
            vec![
                ("total", s(Simple::Long), None),
                ("n", s(Simple::Int), None),
            ],
        );
        let f = run(c, &[r], &ALL3, 13);
        // One finding each for both targets; the sizes are given per target.
        assert_eq!(ids(&f), vec!["FFI0756", "FFI0753"], "{f:#?}");
        assert_eq!(
            f[1].expected,
            "linux-i386: 12 bytes; windows-x86_64-msvc: 16 bytes"
        );
        assert_eq!(
            f[1].found,
            "linux-i386: 8 bytes; windows-x86_64-msvc: 8 bytes"
        );
        assert!(
            f[0].message.contains("linux-i386, windows-x86_64-msvc"),
            "{}",
            f[0].message
        );
        assert!(!f[0].message.contains("linux-x86_64"), "{}", f[0].message);
        assert_eq!(f[0].location.to_string(), "b.py:2:9");
        assert!(f[0].hint.contains("`c_int64`"), "{}", f[0].hint);
    }

    #[test]
    fn members_order_and_signedness() {
        let c = "struct buf { unsigned int len; char *data; int flags; };";
        let order = class(
            "buf",
            1,
            vec![
                ("data", s(Simple::CharP), None),
                ("len", s(Simple::UInt), None),
                ("flags", s(Simple::Int), None),
            ],
        );
        assert_eq!(ids(&run(c, &[order], &ALL3, 13)), vec!["FFI0755"]);
        let missing = class("buf", 1, vec![("len", s(Simple::UInt), None)]);
        let f = run(
            c,
            &[missing],
            &[Target::LinuxX86_64, Target::WindowsX64Msvc],
            13,
        );
        assert_eq!(ids(&f), vec!["FFI0754", "FFI0753"], "{f:#?}");
        assert!(
            f[1].message.contains("linux-x86_64, windows-x86_64-msvc"),
            "{}",
            f[1].message
        );
        assert!(f[0].message.contains("data, flags"), "{}", f[0].message);
        let sign = class(
            "buf",
            1,
            vec![
                ("len", s(Simple::Int), None),
                ("data", s(Simple::VoidP), None),
                ("flags", s(Simple::Int), None),
            ],
        );
        assert_eq!(ids(&run(c, &[sign], &ALL3, 13)), vec!["FFI0757"]);
    }

    #[test]
    fn bitfields_ctypes_places_unlike_gcc_before_3_14() {
        let c = "struct flags { char a; int b : 3; short c : 9; };";
        let r = class(
            "flags",
            1,
            vec![
                ("a", s(Simple::Char), None),
                ("b", s(Simple::Int), Some(3)),
                ("c", s(Simple::Short), Some(9)),
            ],
        );
        let f = run(c, std::slice::from_ref(&r), &ALL3, 13);
        assert_eq!(ids(&f), vec!["FFI0761"], "{f:#?}");
        assert!(
            f[0].message.contains("linux-x86_64, linux-i386"),
            "{}",
            f[0].message
        );
        assert!(!f[0].message.contains("windows"), "{}", f[0].message);
        assert!(f[0].hint.contains("gcc-sysv"), "{}", f[0].hint);
        // 3.14 follows GCC by default outside Windows and MSVC on Windows.
        assert!(run(c, std::slice::from_ref(&r), &ALL3, 14).is_empty());
        // … unless `_pack_` selects the MSVC rules.
        let mut packed = r.clone();
        packed.pack = Some(8);
        packed.layout = Some(LayoutRule::Ms);
        let f = run(c, &[packed], &[Target::LinuxX86_64], 14);
        assert_eq!(ids(&f), vec!["FFI0759"], "{f:#?}");
    }

    #[test]
    fn pack_alignment_and_class_attributes() {
        let c = "#pragma pack(push, 1)\nstruct hdr { char kind; int len; };\n#pragma pack(pop)\n\
                 struct vec4 { float v[4]; } __attribute__((aligned(16)));";
        let hdr = class(
            "hdr",
            1,
            vec![
                ("kind", s(Simple::Char), None),
                ("len", s(Simple::Int), None),
            ],
        );
        let vec4 = class(
            "vec4",
            5,
            vec![(
                "v",
                CType::Array {
                    elem: Box::new(s(Simple::Float)),
                    len: 4,
                },
                None,
            )],
        );
        let f = run(c, &[hdr.clone(), vec4.clone()], &[Target::LinuxX86_64], 13);
        assert_eq!(ids(&f), vec!["FFI0759", "FFI0760"], "{f:#?}");
        assert!(f[0].hint.contains("_pack_ = 1"), "{}", f[0].hint);
        assert!(f[1].hint.contains("_align_ = 16"), "{}", f[1].hint);
        let mut hdr_ok = hdr;
        hdr_ok.pack = Some(1);
        let mut vec4_ok = vec4;
        vec4_ok.align = Some(16);
        let targets = [Target::LinuxX86_64];
        assert!(run(c, &[hdr_ok.clone(), vec4_ok.clone()], &targets, 13).is_empty());
        // 3.14 warns about `_pack_` without `_layout_`; 3.12 ignores `_align_`.
        let f = run(c, &[hdr_ok.clone(), vec4_ok.clone()], &targets, 14);
        assert_eq!(ids(&f), vec!["FFI0762"], "{f:#?}");
        let f = run(c, &[hdr_ok, vec4_ok], &targets, 12);
        assert_eq!(ids(&f), vec!["FFI0763", "FFI0760"], "{f:#?}");
    }

    #[test]
    fn refusals_unmatched_and_underscore_names() {
        let c = "typedef struct _node { double w; } node;";
        let bad = class("node", 1, vec![("w", s(Simple::Double), Some(3))]);
        let f = run(c, &[bad], &[Target::LinuxX86_64], 13);
        assert_eq!(ids(&f), vec!["FFI0752"], "{f:#?}");
        // Refused with no C record of its name, or with no truth at all.
        let lonely = class("Lonely", 1, vec![("w", s(Simple::Char), Some(3))]);
        let f = check_records(
            std::slice::from_ref(&lonely),
            &[],
            &RecordTruth::default(),
            &[Target::LinuxX86_64, Target::WindowsX64Msvc],
            PyVersion::DEFAULT,
        );
        assert_eq!(ids(&f), vec!["FFI0752"], "{f:#?}");
        assert!(
            f[0].message.contains("linux-x86_64, windows-x86_64-msvc"),
            "{}",
            f[0].message
        );
        let other = class("Helper", 1, vec![("x", s(Simple::Int), None)]);
        let under = class("_node", 4, vec![("w", s(Simple::Double), None)]);
        let f = run(c, &[other, under], &[Target::LinuxX86_64], 13);
        assert_eq!(ids(&f), vec!["FFI0750"], "{f:#?}");
        assert!(f[0].message.contains("Helper"), "{}", f[0].message);
    }

    #[test]
    fn unnamed_bitfields_are_padding_or_pair_with_a_named_pad() {
        let c = "struct reg { unsigned int en : 1; unsigned int : 3; unsigned int mode : 4; };";
        let spelled = class(
            "reg",
            1,
            vec![
                ("en", s(Simple::UInt), Some(1)),
                ("_pad", s(Simple::UInt), Some(3)),
                ("mode", s(Simple::UInt), Some(4)),
            ],
        );
        assert!(run(c, &[spelled], &ALL3, 14).is_empty());
        // Without the padding field `mode` moves: ctypes and C differ on every target.
        let skipped = class(
            "reg",
            1,
            vec![
                ("en", s(Simple::UInt), Some(1)),
                ("mode", s(Simple::UInt), Some(4)),
            ],
        );
        let f = run(c, &[skipped], &ALL3, 14);
        assert_eq!(ids(&f), vec!["FFI0758"], "{f:#?}");
        assert!(f[0].message.contains("before `mode`"), "{}", f[0].message);
    }

    #[test]
    fn hostile_classes_are_not_compared_rather_than_panicking() {
        let c = "struct a { int x; };\nstruct b { int y; };\nstruct c;";
        let mut dangling = class("a", 1, vec![("x", CType::Record { id: 99 }, None)]);
        dangling.base = Some(77);
        let unknown = class(
            "b",
            3,
            vec![(
                "y",
                CType::Unknown {
                    text: "make()".into(),
                },
                None,
            )],
        );
        let incomplete = CRecord {
            fields: None,
            ..class("c", 5, vec![])
        };
        let f = run(c, &[dangling, unknown, incomplete], &Target::ALL, 13);
        assert_eq!(ids(&f), vec!["FFI0751", "FFI0751"], "{f:#?}");
    }

    #[test]
    fn explicit_pairs_win_over_names() {
        let c = "struct pt { int x; int y; };\nstruct line { struct pt a; struct pt b; };\nstruct Point { char z; };";
        let point = class(
            "Point",
            1,
            vec![("x", s(Simple::Int), None), ("y", s(Simple::Int), None)],
        );
        let line = class(
            "line",
            4,
            vec![
                ("a", CType::Record { id: 0 }, None),
                ("b", CType::Record { id: 0 }, None),
            ],
        );
        let sp = spec(c);
        let mut truth = RecordTruth {
            headers: vec![(Target::LinuxX86_64, &sp)],
            ..Default::default()
        };
        // By name, `Point` is compared with `struct Point`, and `line`'s fields with a class of another name.
        let by_name = check_records(
            &[point.clone(), line.clone()],
            &[],
            &truth,
            &[],
            PyVersion::DEFAULT,
        );
        assert_eq!(ids(&by_name), vec!["FFI0754", "FFI0753"], "{by_name:#?}");
        truth.pairs = vec![("Point".into(), "pt".into())];
        let paired = check_records(&[point, line], &[], &truth, &[], PyVersion::DEFAULT);
        assert!(paired.is_empty(), "{paired:#?}");
    }

    #[test]
    fn anonymous_members_and_base_classes() {
        let c =
            "struct base { int kind; };\nstruct value { int kind; union { int i; double d; }; };";
        let mut u = class(
            "_U",
            1,
            vec![("i", s(Simple::Int), None), ("d", s(Simple::Double), None)],
        );
        u.is_union = true;
        let base = class("base", 4, vec![("kind", s(Simple::Int), None)]);
        let mut value = class("value", 6, vec![("u", CType::Record { id: 0 }, None)]);
        value.anonymous = vec!["u".into()];
        value.base = Some(1);
        let f = run(c, &[u, base, value], &ALL3, 13);
        // `_U` mirrors the anonymous union: it needs no C counterpart of its own.
        assert!(f.is_empty(), "{f:#?}");
        let not_a_union = class(
            "value",
            1,
            vec![("i", s(Simple::Int), None), ("d", s(Simple::Double), None)],
        );
        let c = "union value { int i; double d; };";
        let f = run(c, &[not_a_union], &[Target::LinuxX86_64], 13);
        assert_eq!(ids(&f), vec!["FFI0756", "FFI0753"], "{f:#?}");
        assert!(f[0].hint.contains("`Union`"), "{}", f[0].hint);
    }
}
