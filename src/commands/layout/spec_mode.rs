//! `layout` on a header or cdef: the ABI engine's layouts of the declared types for one or more targets.

use std::collections::BTreeMap;
use std::io::Write;

use serde::Serialize;

use super::LayoutArgs;
use crate::abi::{self, FieldLayout, RecordLayout, Target};
use crate::commands::args::target_named;
use crate::commands::Context;
use crate::error::InputError;
use crate::report::{self, OutputFormat, EXIT_INPUT};
use crate::spec::{self, RecordKind, Spec, Type};

/// What a requested name denotes in one target's parse.
#[derive(Debug, Clone)]
enum Found {
    Record(usize),
    /// A typedef of a non-record type, an enum, or a standard typedef: size and alignment only.
    Scalar(Type),
}

/// A group of targets sharing one layout, with its rendered text (human output).
type Group = (Vec<&'static str>, String);

/// A component of a member's placement, by name.
type Component<'f> = (&'static str, &'f dyn Fn(&FieldLayout) -> Option<u64>);

/// One type to show, identified by the query that finds it in every target's parse.
struct Chosen {
    query: String,
}

/// The layout of one type on one target.
enum PerTarget {
    Record {
        layout: RecordLayout,
        text: String,
        id: usize,
    },
    Scalar {
        size: u64,
        align: u64,
        resolved: String,
    },
    Error(String),
}

impl PerTarget {
    /// Identical keys ⇔ identical layouts (the rendered text holds every offset, size and type).
    fn key(&self) -> String {
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
struct Doc<'a> {
    schema: &'static str,
    mode: &'static str,
    file: &'a str,
    resolved: String,
    targets: Vec<&'static str>,
    notes: Vec<String>,
    records: Vec<TypeDoc>,
}

#[derive(Serialize)]
struct TypeDoc {
    name: String,
    /// `struct`, `union`, `typedef`, `enum` or `type`.
    kind: &'static str,
    location: Option<String>,
    /// One layout for every target.
    identical: bool,
    /// Distinct layouts, each with the targets that have it (in the order of `targets`).
    layouts: Vec<LayoutDoc>,
    /// Where the layouts disagree: total size, alignment, and each member whose offset/size/alignment/bit
    /// position differs.
    differences: Vec<Difference>,
}

#[derive(Serialize)]
struct LayoutDoc {
    targets: Vec<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    align: Option<u64>,
    /// What a typedef/enum resolves to on these targets.
    #[serde(skip_serializing_if = "Option::is_none")]
    resolved: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    fields: Vec<FieldDoc>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    holes: Vec<HoleDoc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tail_padding: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct FieldDoc {
    name: Option<String>,
    #[serde(rename = "type")]
    ty: String,
    offset: u64,
    size: u64,
    align: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    bit_offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bit_width: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nested: Option<Box<RecordLayout>>,
}

#[derive(Serialize)]
struct HoleDoc {
    offset: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct Difference {
    /// `size`, `align`, `members` (the member count) or `field`.
    what: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
    values: Vec<DiffValue>,
}

#[derive(Serialize)]
struct DiffValue {
    targets: Vec<&'static str>,
    /// The differing values, e.g. `offset 16, size 8`.
    value: String,
}

// ------------------------------------------------------------------------------------------------ running

pub fn run(ctx: &Context, a: &LayoutArgs) -> i32 {
    let fail = |e: InputError| {
        report::report_input_errors(ctx.format, "layout", &[e]);
        EXIT_INPUT
    };
    let targets = match targets_of(a) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    let parse = a.spec_args.parse_options();
    // Parse once per target: the target's predefined macros select its branch of every #if.
    let mut specs = Vec::with_capacity(targets.len());
    for t in &targets {
        let mut p = parse.clone();
        p.target_defines = t.predefined_macros();
        match spec::parse_header(&a.file, &p) {
            Ok(s) => specs.push(s),
            Err(e) => {
                let path = if e.loc.line > 0 {
                    e.loc.to_string()
                } else {
                    e.loc.file.clone()
                };
                return fail(InputError::new(&path, e.expected.clone(), e.found.clone()).hint(
                    "fix the declaration, or pass -D/-I so the preprocessor sees what the compiler sees",
                ));
            }
        }
    }
    let notes: Vec<String> = specs[0]
        .notes
        .iter()
        .map(|(l, n)| format!("{l}: {n}"))
        .collect();
    let chosen = match &a.type_name {
        Some(t) => {
            if specs.iter().all(|s| find(s, t).is_none()) {
                return fail(not_found(&a.file, t, &specs[0]));
            }
            vec![Chosen { query: t.clone() }]
        }
        None => all_records(&specs[0]),
    };
    if !ctx.quiet && ctx.format == OutputFormat::Human {
        eprintln!(
            "note: layouts from the ABI engine for {} (declarations of {}, not a compiled library)",
            targets
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join(", "),
            a.file
        );
        for n in &notes {
            eprintln!("note: {n}");
        }
    }
    let docs: Vec<(TypeDoc, Vec<Group>)> = chosen
        .iter()
        .map(|c| describe(&c.query, &targets, &specs))
        .collect();
    let written = match ctx.format {
        OutputFormat::Json => report::write_json(&Doc {
            schema: "ffi-doctor/layout/v1",
            mode: "spec",
            file: &a.file,
            resolved: std::fs::canonicalize(&a.file)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| a.file.clone()),
            targets: targets.iter().map(|t| t.name()).collect(),
            notes,
            records: docs.into_iter().map(|(d, _)| d).collect(),
        }),
        _ => {
            let mut text = String::new();
            for (i, (doc, groups)) in docs.iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                human(&mut text, doc, groups, targets.len());
            }
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(text.as_bytes()).and_then(|_| out.flush())
        }
    };
    report::finish_output(written)
}

fn targets_of(a: &LayoutArgs) -> Result<Vec<Target>, InputError> {
    if let Some(t) = &a.target {
        return target_named(t).map(|t| vec![t]);
    }
    let mut out = a.targets.resolve()?;
    if out.is_empty() {
        out.push(Target::host().unwrap_or(Target::LinuxX86_64));
    }
    Ok(out)
}

/// What `query` names in `spec`: `struct T` / `union T` / `enum T`, a tag, a typedef, or a standard type.
fn find(spec: &Spec, query: &str) -> Option<Found> {
    let q = query.trim();
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
    if spec::STANDARD_TYPEDEFS.contains(&q) {
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
fn all_records(spec: &Spec) -> Vec<Chosen> {
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
        out.push(Chosen { query });
    }
    out
}

fn not_found(file: &str, t: &str, spec: &Spec) -> InputError {
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

/// The layouts of `query` on every target, grouped; returns the JSON description and, for human output, the
/// groups with their rendered text.
fn describe(query: &str, targets: &[Target], specs: &[Spec]) -> (TypeDoc, Vec<Group>) {
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
                    name = abi::record_name(spec, id);
                    kind = match r.kind {
                        RecordKind::Struct => "struct",
                        RecordKind::Union => "union",
                    };
                    location = Some(r.loc.to_string());
                }
                if !r.complete {
                    PerTarget::Error(format!(
                        "{} is only forward-declared (an opaque type: use it through pointers)",
                        abi::record_name(spec, id)
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
                    name = abi::type_name(spec, &ty);
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
    let mut human_groups = Vec::new();
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
        let text = match p {
            PerTarget::Record { text, .. } => text.clone(),
            PerTarget::Scalar {
                size,
                align,
                resolved,
            } => format!("{name} ({resolved}): size {size}, align {align}\n"),
            PerTarget::Error(e) => format!("{name}: cannot lay out: {e}\n"),
        };
        human_groups.push((names, text));
    }
    let differences = differences(&per);
    (
        TypeDoc {
            name,
            kind,
            location,
            identical: order.len() == 1,
            layouts,
            differences,
        },
        human_groups,
    )
}

/// `uLongf` → `uLong → unsigned long`: the typedef chain down to the type it names.
fn resolve_chain(spec: &Spec, ty: &Type) -> String {
    let mut parts = Vec::new();
    let mut cur = ty.clone();
    for _ in 0..32 {
        match &cur {
            Type::Named { name } => match spec.typedef(name) {
                Some(td) => {
                    cur = td.ty.ty.clone();
                    parts.push(abi::type_name(spec, &cur));
                }
                None => break,
            },
            _ => break,
        }
    }
    if parts.is_empty() {
        abi::type_name(spec, ty)
    } else {
        parts.join(" → ")
    }
}

fn field_doc(spec: &Spec, id: usize, i: usize, f: &FieldLayout) -> FieldDoc {
    let ty = spec
        .records
        .get(id)
        .and_then(|r| r.fields.get(i))
        .map(|d| abi::type_name(spec, &d.ty.ty))
        .unwrap_or_default();
    FieldDoc {
        name: f.name.clone(),
        ty,
        offset: f.offset,
        size: f.size,
        align: f.align,
        bit_offset: f.bit_offset,
        bit_width: f.bit_width,
        nested: f.nested.clone(),
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

fn human(out: &mut String, doc: &TypeDoc, groups: &[(Vec<&'static str>, String)], ntargets: usize) {
    use std::fmt::Write as _;
    if ntargets == 1 {
        out.push_str(&groups[0].1);
        return;
    }
    for (i, (names, text)) in groups.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "/* {} */", names.join(", "));
        out.push_str(text);
    }
    let _ = writeln!(out);
    if doc.identical {
        let what = match doc.layouts.first() {
            Some(LayoutDoc {
                size: Some(s),
                align: Some(a),
                ..
            }) => format!(": size {s}, align {a}"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{}: identical on all {ntargets} targets{what}",
            doc.name
        );
        return;
    }
    let _ = writeln!(
        out,
        "{}: {} different layouts across {ntargets} targets",
        doc.name,
        doc.layouts.len()
    );
    for l in &doc.layouts {
        let what = match (&l.error, l.size, l.align) {
            (Some(e), _, _) => format!("cannot lay out: {e}"),
            (None, Some(s), Some(a)) => {
                let mut w = format!("size {s}, align {a}");
                if let Some(r) = &l.resolved {
                    w = format!("{r}, {w}");
                }
                w
            }
            _ => String::new(),
        };
        let _ = writeln!(out, "  {}: {what}", l.targets.join(", "));
    }
    if !doc.differences.is_empty() {
        let _ = writeln!(out, "  differences:");
        for d in &doc.differences {
            let subject = match &d.field {
                Some(f) => f.clone(),
                None => d.what.to_string(),
            };
            let vals: Vec<String> = d
                .values
                .iter()
                .map(|v| format!("{} ({})", v.value, v.targets.join(", ")))
                .collect();
            let _ = writeln!(out, "    {subject}: {}", vals.join("; "));
        }
    }
}
