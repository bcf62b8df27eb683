//! One cross-target comparison of declared types: the spec parsed once per target (with that target's predefined
//! macros, as a compiler for the target would see it), each type found by name in every target's parse, laid out
//! by the ABI engine, identical layouts grouped and the differences summarised member by member. `layout SPEC
//! --targets` renders it; `check --targets` turns it into FFI0201 findings.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::abi::{self, FieldLayout, RecordLayout, Target};
use crate::decl::{self, c_spelling, ParseOptions, RecordKind, Spec, Type};
use crate::error::InputError;

/// What a requested name denotes in one target's parse.
#[derive(Debug, Clone)]
pub enum Found {
    Record(usize),
    /// A typedef of a non-record type, an enum, or a standard typedef: size and alignment only.
    Scalar(Type),
}

/// A component of a member's placement, by name.
type Component<'f> = (&'static str, &'f dyn Fn(&FieldLayout) -> Option<u64>);

/// The layout of one type on one target.
pub enum PerTarget {
    Record {
        layout: RecordLayout,
        /// The pahole text of the layout (what identical layouts are grouped by).
        text: String,
        /// The record in this target's spec.
        id: usize,
    },
    Scalar {
        size: u64,
        align: u64,
        /// The typedef chain down to the type it names.
        resolved: String,
    },
    /// Not declared for this target, only forward-declared, or not computable.
    Error(String),
}

impl PerTarget {
    /// Identical keys ⇔ identical layouts (the rendered text holds every offset, size and type).
    pub fn key(&self) -> String {
        match self {
            PerTarget::Record { text, .. } => text.clone(),
            PerTarget::Scalar {
                size,
                align,
                resolved,
            } => format!("{resolved}: size {size}, align {align}"),
            PerTarget::Error(e) => format!("error: {e}"),
        }
    }
}

// ------------------------------------------------------------------------------------------------ JSON model

#[derive(Serialize)]
pub struct TypeDoc {
    pub name: String,
    /// `struct`, `union`, `typedef`, `enum` or `type`.
    pub kind: &'static str,
    pub location: Option<String>,
    /// One layout for every target.
    pub identical: bool,
    /// Distinct layouts, each with the targets that have it (in the order of `targets`).
    pub layouts: Vec<LayoutDoc>,
    /// Where the layouts disagree: total size, alignment, and each member whose offset/size/alignment/bit
    /// position differs.
    pub differences: Vec<Difference>,
}

#[serde_with::skip_serializing_none]
#[derive(Serialize)]
pub struct LayoutDoc {
    pub targets: Vec<&'static str>,
    pub size: Option<u64>,
    pub align: Option<u64>,
    /// What a typedef/enum resolves to on these targets.
    pub resolved: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holes: Vec<HoleDoc>,
    pub tail_padding: Option<u64>,
    pub error: Option<String>,
}

/// One member as `layout --format json` shows it: the ABI engine's placement and its C type.
#[derive(Serialize)]
pub struct FieldDoc {
    #[serde(flatten)]
    pub layout: FieldLayout,
    #[serde(rename = "type")]
    pub ty: String,
}

#[derive(Serialize)]
pub struct HoleDoc {
    pub offset: u64,
    pub bytes: u64,
}

#[derive(Serialize)]
pub struct Difference {
    /// `size`, `align`, `members` (the member count) or `field`.
    pub what: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub values: Vec<DiffValue>,
}

#[derive(Serialize)]
pub struct DiffValue {
    pub targets: Vec<&'static str>,
    /// The differing values, e.g. `offset 16, size 8`.
    pub value: String,
}

// ------------------------------------------------------------------------------------------------ running

/// What `query` names in `spec`: `struct T` / `union T` / `enum T`, a tag, a typedef, or a standard type.
pub fn find(spec: &Spec, query: &str) -> Option<Found> {
    let q = query.trim();
    // An anonymous record not named by a typedef is found by where it is declared.
    if let Some(loc) = q
        .strip_prefix("(anonymous at ")
        .and_then(|r| r.strip_suffix(')'))
    {
        return spec
            .records
            .iter()
            .position(|r| r.tag.is_none() && r.loc.to_string() == loc)
            .map(Found::Record);
    }
    if let Some(t) = q.strip_prefix("struct ") {
        return spec
            .record_by_tag(RecordKind::Struct, t.trim())
            .map(Found::Record);
    }
    if let Some(t) = q.strip_prefix("union ") {
        return spec
            .record_by_tag(RecordKind::Union, t.trim())
            .map(Found::Record);
    }
    if let Some(t) = q.strip_prefix("enum ") {
        return enum_by_tag(spec, t.trim()).map(|id| Found::Scalar(Type::Enum { id }));
    }
    // A complete definition wins over a forward declaration with the same tag.
    let by_tag = spec
        .records
        .iter()
        .enumerate()
        .filter(|(_, r)| r.tag.as_deref() == Some(q))
        .max_by_key(|(_, r)| r.complete)
        .map(|(i, _)| i);
    if let Some(id) = by_tag {
        return Some(Found::Record(id));
    }
    if spec.typedef(q).is_some() {
        // Follow the typedef chain: a record behind it is shown as a record.
        let mut ty = Type::Named { name: q.into() };
        for _ in 0..32 {
            match &ty {
                Type::Named { name } => match spec.typedef(name) {
                    Some(td) => ty = td.ty.ty.clone(),
                    None => break,
                },
                _ => break,
            }
        }
        return Some(match ty {
            Type::Record { id } => Found::Record(complete_twin(spec, id)),
            _ => Found::Scalar(Type::Named { name: q.into() }),
        });
    }
    if let Some(id) = enum_by_tag(spec, q) {
        return Some(Found::Scalar(Type::Enum { id }));
    }
    if decl::STANDARD_TYPEDEFS.contains(&q) {
        return Some(Found::Scalar(Type::Named { name: q.into() }));
    }
    None
}

/// A typedef of a forward-declared `struct s` names the complete definition when one follows.
fn complete_twin(spec: &Spec, id: usize) -> usize {
    let r = &spec.records[id];
    if r.complete {
        return id;
    }
    match &r.tag {
        Some(t) => spec.record_by_tag(r.kind, t).map_or(id, |first| {
            spec.records
                .iter()
                .enumerate()
                .skip(first)
                .find(|(_, x)| x.kind == r.kind && x.tag.as_deref() == Some(t) && x.complete)
                .map_or(id, |(i, _)| i)
        }),
        None => id,
    }
}

fn enum_by_tag(spec: &Spec, tag: &str) -> Option<usize> {
    spec.enums
        .iter()
        .enumerate()
        .filter(|(_, e)| e.tag.as_deref() == Some(tag))
        .max_by_key(|(_, e)| e.complete)
        .map(|(i, _)| i)
}

/// Every complete named struct and union (by tag, or by the typedef naming an anonymous one), in declaration
/// order.
pub fn all_records(spec: &Spec) -> Vec<String> {
    let mut out = Vec::new();
    for (id, r) in spec.records.iter().enumerate() {
        if !r.complete {
            continue;
        }
        let query = match (&r.tag, r.kind) {
            (Some(t), RecordKind::Struct) => format!("struct {t}"),
            (Some(t), RecordKind::Union) => format!("union {t}"),
            (None, _) => match spec
                .typedefs
                .iter()
                .find(|t| t.ty.ty == Type::Record { id })
            {
                Some(td) => td.name.clone(),
                None => continue,
            },
        };
        out.push(query);
    }
    out
}

pub fn not_found(file: &str, t: &str, spec: &Spec) -> InputError {
    let bare = t
        .trim_start_matches("struct ")
        .trim_start_matches("union ")
        .trim_start_matches("enum ")
        .to_ascii_lowercase();
    let mut names: Vec<&str> = spec
        .records
        .iter()
        .filter_map(|r| r.tag.as_deref())
        .chain(spec.typedefs.iter().map(|t| t.name.as_str()))
        .chain(spec.enums.iter().filter_map(|e| e.tag.as_deref()))
        .filter(|n| {
            let l = n.to_ascii_lowercase();
            l.contains(&bare) || bare.contains(&l)
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names.truncate(8);
    let hint = if names.is_empty() {
        format!(
            "{} structs/unions and {} typedefs are declared; run without --type to list the records",
            spec.records.iter().filter(|r| r.complete).count(),
            spec.typedefs.len()
        )
    } else {
        format!("similar names: {}", names.join(", "))
    };
    InputError::new(
        file,
        format!("a struct, union, enum or typedef named {t}"),
        "no such declaration",
    )
    .hint(hint)
}

/// The layouts of one type on every target: per target, and grouped into identical layouts.
pub struct Comparison {
    /// The JSON description: the distinct layouts with their targets, and the differences.
    pub doc: TypeDoc,
    /// Each target's layout, in the order of the targets.
    pub per_target: Vec<(Target, PerTarget)>,
    /// Groups of identical layouts (indices into `per_target`), in the order their first target appears;
    /// parallel to `doc.layouts`.
    pub groups: Vec<Vec<usize>>,
}

/// The layouts of `query` on every target (`specs[i]` is the spec parsed for `targets[i]`), compared.
pub fn compare(query: &str, targets: &[Target], specs: &[Spec]) -> Comparison {
    let mut name = query.to_string();
    let mut kind = "type";
    let mut location = None;
    let mut per: Vec<(Target, PerTarget)> = Vec::with_capacity(targets.len());
    for (t, spec) in targets.iter().zip(specs) {
        let entry = match find(spec, query) {
            None => PerTarget::Error(format!("not declared when compiling for {}", t.name())),
            Some(Found::Record(id)) => {
                let r = &spec.records[id];
                if location.is_none() {
                    name = c_spelling::record_name(spec, id);
                    kind = match r.kind {
                        RecordKind::Struct => "struct",
                        RecordKind::Union => "union",
                    };
                    location = Some(r.loc.to_string());
                }
                if !r.complete {
                    PerTarget::Error(format!(
                        "{} is only forward-declared (an opaque type: use it through pointers)",
                        c_spelling::record_name(spec, id)
                    ))
                } else {
                    match abi::record_layout(spec, id, *t) {
                        Ok(layout) => PerTarget::Record {
                            text: abi::render_pahole(spec, id, &layout),
                            layout,
                            id,
                        },
                        Err(e) => PerTarget::Error(e.message),
                    }
                }
            }
            Some(Found::Scalar(ty)) => {
                if location.is_none() {
                    match &ty {
                        Type::Enum { id } => {
                            kind = "enum";
                            location = Some(spec.enums[*id].loc.to_string());
                        }
                        Type::Named { name: n } => {
                            if let Some(td) = spec.typedef(n) {
                                kind = "typedef";
                                location = Some(td.loc.to_string());
                            }
                        }
                        _ => {}
                    }
                    name = c_spelling::type_name(spec, &ty);
                }
                match abi::type_layout(spec, &ty, *t) {
                    Ok(l) => PerTarget::Scalar {
                        size: l.size,
                        align: l.align,
                        resolved: resolve_chain(spec, &ty),
                    },
                    Err(e) => PerTarget::Error(e.message),
                }
            }
        };
        per.push((*t, entry));
    }
    // Group identical layouts, in the order their first target appears.
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, (_, p)) in per.iter().enumerate() {
        let k = p.key();
        if !groups.contains_key(&k) {
            order.push(k.clone());
        }
        groups.entry(k).or_default().push(i);
    }
    let mut layouts = Vec::new();
    let mut groups_out = Vec::new();
    for k in &order {
        let idx = &groups[k];
        let names: Vec<&'static str> = idx.iter().map(|&i| per[i].0.name()).collect();
        let (t0, p) = &per[idx[0]];
        let spec = &specs[targets.iter().position(|t| t == t0).unwrap_or(0)];
        let doc = match p {
            PerTarget::Record { layout, id, .. } => LayoutDoc {
                targets: names.clone(),
                size: Some(layout.size),
                align: Some(layout.align),
                resolved: None,
                fields: layout
                    .fields
                    .iter()
                    .enumerate()
                    .map(|(i, f)| field_doc(spec, *id, i, f))
                    .collect(),
                holes: layout
                    .holes
                    .iter()
                    .map(|&(offset, bytes)| HoleDoc { offset, bytes })
                    .collect(),
                tail_padding: Some(layout.tail_padding),
                error: None,
            },
            PerTarget::Scalar {
                size,
                align,
                resolved,
            } => LayoutDoc {
                targets: names.clone(),
                size: Some(*size),
                align: Some(*align),
                resolved: Some(resolved.clone()),
                fields: Vec::new(),
                holes: Vec::new(),
                tail_padding: None,
                error: None,
            },
            PerTarget::Error(e) => LayoutDoc {
                targets: names.clone(),
                size: None,
                align: None,
                resolved: None,
                fields: Vec::new(),
                holes: Vec::new(),
                tail_padding: None,
                error: Some(e.clone()),
            },
        };
        layouts.push(doc);
        groups_out.push(idx.clone());
    }
    let differences = differences(&per);
    Comparison {
        doc: TypeDoc {
            name,
            kind,
            location,
            identical: order.len() == 1,
            layouts,
            differences,
        },
        per_target: per,
        groups: groups_out,
    }
}

/// `uLongf` → `uLong → unsigned long`: the typedef chain down to the type it names.
pub fn resolve_chain(spec: &Spec, ty: &Type) -> String {
    let mut parts = Vec::new();
    let mut cur = ty.clone();
    for _ in 0..32 {
        match &cur {
            Type::Named { name } => match spec.typedef(name) {
                Some(td) => {
                    cur = td.ty.ty.clone();
                    parts.push(c_spelling::type_name(spec, &cur));
                }
                None => break,
            },
            _ => break,
        }
    }
    if parts.is_empty() {
        c_spelling::type_name(spec, ty)
    } else {
        parts.join(" → ")
    }
}

fn field_doc(spec: &Spec, id: usize, i: usize, f: &FieldLayout) -> FieldDoc {
    let ty = spec
        .records
        .get(id)
        .and_then(|r| r.fields.get(i))
        .map(|d| c_spelling::type_name(spec, &d.ty.ty))
        .unwrap_or_default();
    FieldDoc {
        layout: f.clone(),
        ty,
    }
}

/// Size, alignment, member count and each member's placement, where targets disagree.
fn differences(per: &[(Target, PerTarget)]) -> Vec<Difference> {
    let mut out = Vec::new();
    let laid: Vec<(Target, &RecordLayout)> = per
        .iter()
        .filter_map(|(t, p)| match p {
            PerTarget::Record { layout, .. } => Some((*t, layout)),
            _ => None,
        })
        .collect();
    let scalar: Vec<(Target, u64, u64)> = per
        .iter()
        .filter_map(|(t, p)| match p {
            PerTarget::Scalar { size, align, .. } => Some((*t, *size, *align)),
            _ => None,
        })
        .collect();
    let mut push = |what: &'static str, field: Option<String>, vals: Vec<(Target, String)>| {
        let mut order: Vec<String> = Vec::new();
        let mut by: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        for (t, v) in vals {
            if !by.contains_key(&v) {
                order.push(v.clone());
            }
            by.entry(v).or_default().push(t.name());
        }
        if order.len() > 1 {
            out.push(Difference {
                what,
                field,
                values: order
                    .into_iter()
                    .map(|v| DiffValue {
                        targets: by[&v].clone(),
                        value: v,
                    })
                    .collect(),
            });
        }
    };
    if !scalar.is_empty() {
        push(
            "size",
            None,
            scalar.iter().map(|(t, s, _)| (*t, s.to_string())).collect(),
        );
        push(
            "align",
            None,
            scalar.iter().map(|(t, _, a)| (*t, a.to_string())).collect(),
        );
    }
    if laid.is_empty() {
        return out;
    }
    push(
        "size",
        None,
        laid.iter().map(|(t, l)| (*t, l.size.to_string())).collect(),
    );
    push(
        "align",
        None,
        laid.iter()
            .map(|(t, l)| (*t, l.align.to_string()))
            .collect(),
    );
    push(
        "members",
        None,
        laid.iter()
            .map(|(t, l)| (*t, l.fields.len().to_string()))
            .collect(),
    );
    let n = laid.iter().map(|(_, l)| l.fields.len()).max().unwrap_or(0);
    for i in 0..n {
        let label = laid
            .iter()
            .find_map(|(_, l)| l.fields.get(i).and_then(|f| f.name.clone()))
            .unwrap_or_else(|| format!("(unnamed member #{})", i + 1));
        let present: Vec<(Target, Option<&FieldLayout>)> =
            laid.iter().map(|(t, l)| (*t, l.fields.get(i))).collect();
        // Report only the components that vary.
        let varies = |get: &dyn Fn(&FieldLayout) -> Option<u64>| {
            let mut vals = present.iter().map(|(_, f)| f.and_then(get));
            let first = vals.next().flatten();
            vals.any(|v| v != first)
        };
        let parts: Vec<Component> = vec![
            ("offset", &|f: &FieldLayout| Some(f.offset)),
            ("size", &|f: &FieldLayout| Some(f.size)),
            ("align", &|f: &FieldLayout| Some(f.align)),
            ("bit offset", &|f: &FieldLayout| f.bit_offset),
            ("width", &|f: &FieldLayout| f.bit_width.map(u64::from)),
        ];
        let shown: Vec<&Component> = parts.iter().filter(|(_, g)| varies(*g)).collect();
        let absent = present.iter().any(|(_, f)| f.is_none());
        if shown.is_empty() && !absent {
            continue;
        }
        let vals = present
            .iter()
            .map(|(t, f)| {
                let v = match f {
                    None => "absent".to_string(),
                    Some(f) => shown
                        .iter()
                        .map(|(k, g)| match g(f) {
                            Some(v) => format!("{k} {v}"),
                            None => format!("{k} -"),
                        })
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                (*t, v)
            })
            .collect();
        push("field", Some(label), vals);
    }
    out
}

/// The spec parsed once per target, with that target's predefined macros: each `#if` takes the branch a compiler
/// for that target takes.
pub fn parse_per_target(
    path: &str,
    parse: &ParseOptions,
    targets: &[Target],
) -> Result<Vec<Spec>, InputError> {
    // Sequential on purpose: each parse takes ~1.5 ms on zlib.h, and rayon's pool made `layout --targets all`
    // slower (wall and CPU) on a busy 2-core machine.
    targets
        .iter()
        .map(|t| parse_for(path, parse, Some(*t)))
        .collect()
}

/// The spec parsed as `target`'s compiler sees it (its predefined macros); without a target, as given.
pub fn parse_for(
    path: &str,
    parse: &ParseOptions,
    target: Option<Target>,
) -> Result<Spec, InputError> {
    let mut p = parse.clone();
    if let Some(t) = target {
        p.target_defines = t.predefined_macros();
    }
    Ok(decl::parse_header(path, &p)?)
}
