//! Types between two releases, from each side's DWARF ([`crate::dwarf`]): every function exported by both — its
//! parameter count, each parameter's and the return's size, kind and signedness, variadic-ness — every variable
//! exported by both, and every struct, union and enum reachable from them by value or through a pointer to a
//! complete type (with a spec, only a type the spec defines counts as complete: one it leaves opaque is not part
//! of the ABI). Records and enums are compared once each, by name: size, alignment, member order, offsets, types,
//! bitfields, enumerator values. A typedef-name or cv-qualifier change over the same underlying type is
//! compatible (info); a renamed member with the same layout, or members of a struct (same size and alignment)
//! split or merged over exactly the same bytes with the same scalars at the same offsets, is a source break only
//! (info).
//!
//! How much a record's changes weigh (docs/findings.md, "Which records count"):
//! - DWARF only (no interest, not two headers), a record reached only through pointers — never by value in a
//!   parameter, return or variable, nor as a by-value member or element of a record that is — is part of the ABI
//!   only if the public header defines it, which DWARF cannot tell: its findings are warnings that say so;
//! - a union not held by value whose size and alignment are unchanged, and a record reached only as a member of
//!   such unions, keep their findings as warnings: callers still allocate, copy and place the union right, only
//!   code that uses those members itself sees the change (libabigail's harmless union change).

use std::collections::{BTreeSet, VecDeque};

use serde::Serialize;

use super::{finding, Ctx};
use crate::dwarf::{DebugInfo, EnumDef, Member, Record, RecordKind, TypeDesc, TypeKind};
use crate::report::codes::DiffCode;
use crate::report::{Finding, Location, Severity};

/// What was compared.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TypeStats {
    pub functions: usize,
    pub variables: usize,
    pub records: usize,
    pub enums: usize,
}

/// How two types differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Same,
    /// Typedef names or cv-qualifiers only.
    Spelling,
    /// Integers of the same size whose signedness differs.
    Signedness,
    /// Two pointers to different types: the call still passes a pointer.
    Pointee,
    /// Size or kind.
    Different,
}

fn int_like(k: &TypeKind) -> Option<(u64, bool)> {
    match k {
        TypeKind::Int { signed, size } | TypeKind::Char { signed, size } => Some((*size, *signed)),
        TypeKind::Bool { size } => Some((*size, false)),
        TypeKind::Enum { size, signed, .. } => Some((*size, *signed)),
        _ => None,
    }
}

/// Structural equality where records and enums are equal by kind and name (their contents are compared on
/// their own, once).
fn kind_eq(a: &TypeKind, b: &TypeKind) -> bool {
    match (a, b) {
        (TypeKind::Pointer { pointee: p }, TypeKind::Pointer { pointee: q }) => kind_eq(p, q),
        (
            TypeKind::Record {
                record: ra,
                name: na,
                ..
            },
            TypeKind::Record {
                record: rb,
                name: nb,
                ..
            },
        ) => ra == rb && na == nb,
        (TypeKind::Enum { name: na, .. }, TypeKind::Enum { name: nb, .. }) => na == nb,
        (TypeKind::Array { elem: ea, len: la }, TypeKind::Array { elem: eb, len: lb }) => {
            la == lb && kind_eq(ea, eb)
        }
        (
            TypeKind::Function {
                ret: ra,
                params: pa,
                variadic: va,
            },
            TypeKind::Function {
                ret: rb,
                params: pb,
                variadic: vb,
            },
        ) => {
            va == vb
                && pa.len() == pb.len()
                && kind_eq(ra, rb)
                && pa.iter().zip(pb).all(|(x, y)| kind_eq(x, y))
        }
        _ => a == b,
    }
}

/// A C spelling with the integer keywords in one order (`long unsigned int` as GCC writes it and `unsigned long`
/// as Clang does are the same type).
fn canonical(c: &str) -> String {
    let mut out = String::with_capacity(c.len());
    let mut words: Vec<&str> = Vec::new();
    let flush = |words: &mut Vec<&str>, out: &mut String| {
        if words.is_empty() {
            return;
        }
        let has = |w: &str| words.contains(&w);
        let longs = words.iter().filter(|w| **w == "long").count();
        let mut parts: Vec<&str> = Vec::new();
        if has("unsigned") {
            parts.push("unsigned");
        } else if has("signed") && has("char") {
            parts.push("signed");
        }
        if has("short") {
            parts.push("short");
        }
        parts.extend(std::iter::repeat_n("long", longs));
        if has("char") {
            parts.push("char");
        } else if parts.is_empty() || parts == ["unsigned"] {
            parts.push("int");
        }
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
        out.push_str(&parts.join(" "));
        words.clear();
    };
    for tok in c.split_inclusive(|ch: char| !(ch.is_alphanumeric() || ch == '_')) {
        let (word, rest) = match tok.char_indices().last() {
            Some((i, ch)) if !(ch.is_alphanumeric() || ch == '_') => (&tok[..i], &tok[i..]),
            _ => (tok, ""),
        };
        if matches!(
            word,
            "unsigned" | "signed" | "short" | "long" | "int" | "char"
        ) {
            words.push(word);
            if rest.trim().is_empty() {
                continue;
            }
        } else {
            flush(&mut words, &mut out);
            out.push_str(word);
        }
        flush(&mut words, &mut out);
        if !rest.trim().is_empty() {
            out.push_str(rest.trim());
        }
    }
    flush(&mut words, &mut out);
    out
}

fn verdict(a: &TypeDesc, b: &TypeDesc) -> Verdict {
    if kind_eq(&a.kind, &b.kind) {
        let same = a.c == b.c || canonical(&a.c) == canonical(&b.c);
        return if same && a.is_const == b.is_const && a.is_volatile == b.is_volatile {
            Verdict::Same
        } else {
            Verdict::Spelling
        };
    }
    if let (Some((sa, ga)), Some((sb, gb))) = (int_like(&a.kind), int_like(&b.kind)) {
        if sa == sb {
            return if ga == gb {
                Verdict::Spelling
            } else {
                Verdict::Signedness
            };
        }
    }
    if matches!(
        (&a.kind, &b.kind),
        (TypeKind::Pointer { .. }, TypeKind::Pointer { .. })
    ) {
        return Verdict::Pointee;
    }
    Verdict::Different
}

fn describe(t: &TypeDesc) -> String {
    match t.size {
        Some(s) => format!("{} ({s} byte{})", t.c, if s == 1 { "" } else { "s" }),
        None => t.c.clone(),
    }
}

/// A record or enum to compare, by the name types refer to it with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Reached {
    Record(String),
    Enum(String),
}

struct Walk<'a> {
    ctx: &'a Ctx<'a>,
    seen: BTreeSet<Reached>,
    queue: VecDeque<Reached>,
    stats: TypeStats,
    /// Records reached by value: a parameter, return or variable of that type, or a by-value member or array
    /// element of such a record.
    by_value: BTreeSet<String>,
    /// Records reached without crossing a member of a union whose size and alignment did not change.
    unshielded: BTreeSet<String>,
    /// Is which records the public header defines unknown (DWARF only, no interest)?
    opacity_unknown: bool,
    /// Enums callers see without the layout of a record reached only through pointers: in a parameter, return
    /// or variable (through pointers and arrays), or in a member of a record reached by value.
    direct_enums: BTreeSet<String>,
}

impl Walk<'_> {
    /// Queue the records and enums a type reaches: by value, through arrays, and through pointers to complete
    /// records (with a spec: records the spec defines).
    fn reach(&mut self, k: &TypeKind, via_pointer: bool) {
        match k {
            TypeKind::Pointer { pointee } => self.reach(pointee, true),
            TypeKind::Array { elem, .. } => self.reach(elem, via_pointer),
            TypeKind::Record {
                name: Some(n),
                size,
                ..
            } => {
                if via_pointer && (size.is_none() || !self.ctx.public_record(n)) {
                    return;
                }
                self.push(Reached::Record(n.clone()));
            }
            TypeKind::Enum { name: Some(n), .. } => self.push(Reached::Enum(n.clone())),
            TypeKind::Function { ret, params, .. } => {
                self.reach(ret, via_pointer);
                for p in params {
                    self.reach(p, via_pointer);
                }
            }
            _ => {}
        }
    }

    fn push(&mut self, r: Reached) {
        if self.seen.insert(r.clone()) {
            self.queue.push_back(r);
        }
    }

    fn loc(&self, entity: &str) -> Location {
        Location::symbol(self.ctx.new_file, entity)
    }

    /// A changed type of a parameter, return, variable or member: the finding for its verdict.
    #[allow(clippy::too_many_arguments)]
    fn type_change(
        &self,
        code: DiffCode,
        signedness: DiffCode,
        entity: &str,
        what: &str,
        a: &TypeDesc,
        b: &TypeDesc,
        out: &mut Vec<Finding>,
    ) {
        let (code, severity, hint) = match verdict(a, b) {
            Verdict::Same => return,
            Verdict::Spelling => (
                DiffCode::Spelling,
                None,
                "compatible: the same underlying type under another typedef name or qualifier",
            ),
            Verdict::Signedness => (
                signedness,
                if signedness == code {
                    Some(Severity::Warning)
                } else {
                    None
                },
                "the same size: values above the signed maximum (or negative ones) change meaning",
            ),
            Verdict::Pointee => (
                code,
                Some(Severity::Warning),
                "still a pointer, to another type: callers pass what OLD expected",
            ),
            Verdict::Different => (
                code,
                None,
                "callers built or bound against OLD pass or read the wrong bytes: keep the old type or add a new \
                 function",
            ),
        };
        out.push(finding(
            code,
            severity,
            self.loc(entity),
            format!("{what}: {} → {}", a.c, b.c),
            describe(a),
            describe(b),
            hint.into(),
        ));
    }
}

/// Compare the types of `old` and `new` reachable from symbols both export (`exported_by_both`).
///
/// `declared`: the two sides are headers laid out by the ABI engine ([`super::spec_types`]), so every complete
/// record in them is one the header defines. Otherwise, without an interest, DWARF cannot say which records the
/// public header leaves opaque, and a record reached only through pointers is reported at most as a warning.
pub fn compare(
    ctx: &Ctx<'_>,
    old: &DebugInfo,
    new: &DebugInfo,
    exported_by_both: &dyn Fn(&str) -> bool,
    declared: bool,
    out: &mut Vec<Finding>,
) -> TypeStats {
    let roots = roots(ctx, old, new, exported_by_both);
    let by_value = reachable(ctx, old, &roots, false, &|_| false);
    let unshielded = reachable(ctx, old, &roots, true, &|n| {
        stable_union(old, new, n) && !by_value.contains(n)
    });
    let direct_enums = direct_enums(old, &roots, &by_value);
    let mut w = Walk {
        ctx,
        seen: BTreeSet::new(),
        queue: VecDeque::new(),
        stats: TypeStats::default(),
        by_value,
        unshielded,
        opacity_unknown: !declared && ctx.interest.is_none(),
        direct_enums,
    };
    // NEW's functions and variables by name: one lookup each, not a scan.
    let new_functions: std::collections::HashMap<&str, &crate::dwarf::FunctionDef> = new
        .functions()
        .iter()
        .map(|f| (f.name.as_str(), f))
        .collect();
    let new_variables: std::collections::HashMap<&str, &crate::dwarf::VariableDef> = new
        .variables()
        .iter()
        .map(|v| (v.name.as_str(), v))
        .collect();
    for fa in old.functions() {
        if !ctx.wants(&fa.name) || !exported_by_both(&fa.name) {
            continue;
        }
        let Some(&fb) = new_functions.get(fa.name.as_str()) else {
            continue;
        };
        w.stats.functions += 1;
        let name = fa.name.as_str();
        w.type_change(
            DiffCode::ReturnType,
            DiffCode::ReturnType,
            name,
            &format!("the return type of {name}()"),
            &fa.ret,
            &fb.ret,
            out,
        );
        w.reach(&fa.ret.kind, false);
        if fa.variadic != fb.variadic {
            out.push(finding(
                DiffCode::Variadic,
                None,
                w.loc(name),
                if fb.variadic {
                    format!("{name}() is variadic now")
                } else {
                    format!("{name}() is no longer variadic")
                },
                if fa.variadic { "variadic" } else { "fixed parameters" }.into(),
                if fb.variadic { "variadic" } else { "fixed parameters" }.into(),
                "variadic arguments are passed differently from fixed ones on several ABIs (arm64 macOS, \
                 x86_64 floating point): callers built for OLD break"
                    .into(),
            ));
        }
        if !fa.prototyped || !fb.prototyped {
            continue;
        }
        if fa.params.len() != fb.params.len() {
            let list = |ps: &[crate::dwarf::ParamDef]| {
                ps.iter()
                    .map(|p| p.ty.c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            out.push(finding(
                DiffCode::ParamCount,
                None,
                w.loc(name),
                format!(
                    "{name}() had {} parameter{} and has {}",
                    fa.params.len(),
                    if fa.params.len() == 1 { "" } else { "s" },
                    fb.params.len()
                ),
                format!("{} ({})", fa.params.len(), list(&fa.params)),
                format!("{} ({})", fb.params.len(), list(&fb.params)),
                "callers built or bound against OLD pass the wrong arguments: add a new function instead"
                    .into(),
            ));
        } else {
            for (i, (pa, pb)) in fa.params.iter().zip(&fb.params).enumerate() {
                let label = match &pb.name {
                    Some(n) => format!("parameter {} `{n}` of {name}()", i + 1),
                    None => format!("parameter {} of {name}()", i + 1),
                };
                w.type_change(
                    DiffCode::ParamType,
                    DiffCode::ParamSignedness,
                    name,
                    &label,
                    &pa.ty,
                    &pb.ty,
                    out,
                );
            }
        }
        for p in &fa.params {
            w.reach(&p.ty.kind, false);
        }
    }
    for va in old.variables() {
        if !ctx.wants(&va.name) || !exported_by_both(&va.name) {
            continue;
        }
        let Some(&vb) = new_variables.get(va.name.as_str()) else {
            continue;
        };
        w.stats.variables += 1;
        w.type_change(
            DiffCode::VariableType,
            DiffCode::VariableType,
            &va.name,
            &format!("the type of variable {}", va.name),
            &va.ty,
            &vb.ty,
            out,
        );
        if vb.ty.is_const && !va.ty.is_const {
            if let Some(f) = out
                .last_mut()
                .filter(|f| f.code == crate::report::Code::Diff(DiffCode::Spelling))
            {
                f.severity = Severity::Warning;
                f.hint = "the variable is read-only now (moved to .rodata): a caller of OLD that writes it (an \
                          assignment, ctypes `in_dll(...).value = …`) crashes"
                    .into();
            }
        }
        w.reach(&va.ty.kind, false);
    }
    while let Some(r) = w.queue.pop_front() {
        match r {
            Reached::Record(n) => {
                if let (Some(ra), Some(rb)) = (old.record(&n), new.record(&n)) {
                    w.stats.records += 1;
                    let label = format!("{} {}", kind_word(ra.kind), n);
                    let first = out.len();
                    records(&mut w, &label, ra, rb, out);
                    if let Some(why) = w.softened(&n, &label, ra, rb) {
                        for f in out[first..]
                            .iter_mut()
                            .filter(|f| f.severity != Severity::Info)
                        {
                            f.severity = Severity::Warning;
                            f.hint = format!("{} — {why}", f.hint);
                        }
                    }
                }
            }
            Reached::Enum(n) => {
                if let (Some(ea), Some(eb)) = (enum_named(old, &n), enum_named(new, &n)) {
                    w.stats.enums += 1;
                    let label = format!("enum {n}");
                    let first = out.len();
                    enums(&w, &label, ea, eb, out);
                    // Seen only in members of records reached through pointers: as those records' findings.
                    if w.opacity_unknown && !w.direct_enums.contains(&n) {
                        for f in out[first..]
                            .iter_mut()
                            .filter(|f| f.severity > Severity::Warning)
                        {
                            f.severity = Severity::Warning;
                            f.hint = format!(
                                "{} — {label} is used only in members of records reached through pointers: \
                                 this matters only if the public header defines them (callers read or write \
                                 those members); pass --spec HEADER (or the binding, --python BINDING.py) to \
                                 decide",
                                f.hint
                            );
                        }
                    }
                }
            }
        }
    }
    w.stats
}

impl Walk<'_> {
    /// Why the errors found in the record `n` are warnings, if they are:
    /// - DWARF only, and `n` is reached only through pointers: it is part of the ABI only if the public header
    ///   defines it, which DWARF cannot tell;
    /// - `n` is a union not held by value whose size and alignment are unchanged, or a record reached only
    ///   through the members of such unions: callers still allocate, copy and place it right, and only code
    ///   that reads or writes those members directly sees the change (libabigail's harmless union change).
    fn softened(&self, n: &str, label: &str, a: &Record, b: &Record) -> Option<String> {
        if self.opacity_unknown && !self.by_value.contains(n) {
            return Some(format!(
                "{label} is reached only through pointers: this matters only if the public header defines it \
                 (callers allocate it or read its members); pass --spec HEADER (or the binding, --python BINDING.py) to decide"
            ));
        }
        if self.by_value.contains(n) {
            return None;
        }
        if a.kind == RecordKind::Union
            && b.kind == RecordKind::Union
            && a.byte_size == b.byte_size
            && alignment(a) == alignment(b)
        {
            return Some(format!(
                "{label} keeps its size and alignment: callers still allocate, copy and place it as before; \
                 only code that reads or writes these members itself sees the change"
            ));
        }
        if !self.unshielded.contains(n) {
            return Some(format!(
                "{label} is reached only as a member of unions whose size and alignment are unchanged: \
                 callers still allocate them right; only code that reads or writes this member itself sees the \
                 change"
            ));
        }
        None
    }
}

/// The types of the functions and variables both sides export (and the caller wants), as OLD declares them.
fn roots<'a>(
    ctx: &Ctx<'_>,
    old: &'a DebugInfo,
    new: &DebugInfo,
    exported_by_both: &dyn Fn(&str) -> bool,
) -> Vec<&'a TypeKind> {
    let in_new_f: std::collections::HashSet<&str> =
        new.functions().iter().map(|f| f.name.as_str()).collect();
    let in_new_v: std::collections::HashSet<&str> =
        new.variables().iter().map(|v| v.name.as_str()).collect();
    let mut roots = Vec::new();
    for f in old.functions() {
        if ctx.wants(&f.name) && exported_by_both(&f.name) && in_new_f.contains(f.name.as_str()) {
            roots.push(&f.ret.kind);
            roots.extend(f.params.iter().map(|p| &p.ty.kind));
        }
    }
    for v in old.variables() {
        if ctx.wants(&v.name) && exported_by_both(&v.name) && in_new_v.contains(v.name.as_str()) {
            roots.push(&v.ty.kind);
        }
    }
    roots
}

/// The enums in `roots` (through pointers, arrays and function types, not into records) and in the members of the
/// records in `by_value` (likewise).
fn direct_enums(
    old: &DebugInfo,
    roots: &[&TypeKind],
    by_value: &BTreeSet<String>,
) -> BTreeSet<String> {
    fn visit(k: &TypeKind, out: &mut BTreeSet<String>, depth: usize) {
        if depth > 64 {
            return;
        }
        match k {
            TypeKind::Pointer { pointee } => visit(pointee, out, depth + 1),
            TypeKind::Array { elem, .. } => visit(elem, out, depth + 1),
            TypeKind::Enum { name: Some(n), .. } => {
                out.insert(n.clone());
            }
            TypeKind::Function { ret, params, .. } => {
                visit(ret, out, depth + 1);
                for p in params {
                    visit(p, out, depth + 1);
                }
            }
            _ => {}
        }
    }
    fn members(r: &Record, out: &mut BTreeSet<String>, depth: usize) {
        for m in &r.members {
            visit(&m.ty.kind, out, 0);
            if let Some(anon) = m.anon.as_deref().filter(|_| depth < 64) {
                members(anon, out, depth + 1);
            }
        }
    }
    let mut out = BTreeSet::new();
    for k in roots {
        visit(k, &mut out, 0);
    }
    for n in by_value {
        if let Some(r) = old.record(n) {
            members(r, &mut out, 0);
        }
    }
    out
}

/// Is `n` a union on both sides with the same size and alignment?
fn stable_union(old: &DebugInfo, new: &DebugInfo, n: &str) -> bool {
    match (old.record(n), new.record(n)) {
        (Some(a), Some(b)) => {
            a.kind == RecordKind::Union
                && b.kind == RecordKind::Union
                && a.byte_size == b.byte_size
                && alignment(a) == alignment(b)
        }
        _ => false,
    }
}

/// The named records OLD's `roots` reach: by value and through arrays, through pointers too when
/// `through_pointers` (to complete records, as [`Walk::reach`] does), into the members of every record reached
/// except those `stop` names (which are themselves reached).
fn reachable(
    ctx: &Ctx<'_>,
    old: &DebugInfo,
    roots: &[&TypeKind],
    through_pointers: bool,
    stop: &dyn Fn(&str) -> bool,
) -> BTreeSet<String> {
    fn visit(
        ctx: &Ctx<'_>,
        k: &TypeKind,
        via_pointer: bool,
        through_pointers: bool,
        seen: &mut BTreeSet<String>,
        todo: &mut Vec<String>,
    ) {
        match k {
            TypeKind::Pointer { pointee } if through_pointers => {
                visit(ctx, pointee, true, through_pointers, seen, todo)
            }
            TypeKind::Array { elem, .. } => {
                visit(ctx, elem, via_pointer, through_pointers, seen, todo)
            }
            TypeKind::Record {
                name: Some(n),
                size,
                ..
            } => {
                if via_pointer && (size.is_none() || !ctx.public_record(n)) {
                    return;
                }
                if seen.insert(n.clone()) {
                    todo.push(n.clone());
                }
            }
            TypeKind::Function { ret, params, .. } if through_pointers => {
                visit(ctx, ret, via_pointer, through_pointers, seen, todo);
                for p in params {
                    visit(ctx, p, via_pointer, through_pointers, seen, todo);
                }
            }
            _ => {}
        }
    }
    fn members(
        ctx: &Ctx<'_>,
        r: &Record,
        through_pointers: bool,
        seen: &mut BTreeSet<String>,
        todo: &mut Vec<String>,
        depth: usize,
    ) {
        for m in &r.members {
            visit(ctx, &m.ty.kind, false, through_pointers, seen, todo);
            if let Some(anon) = m.anon.as_deref().filter(|_| depth < 64) {
                members(ctx, anon, through_pointers, seen, todo, depth + 1);
            }
        }
    }
    let mut seen = BTreeSet::new();
    let mut todo = Vec::new();
    for k in roots {
        visit(ctx, k, false, through_pointers, &mut seen, &mut todo);
    }
    while let Some(n) = todo.pop() {
        if stop(&n) {
            continue;
        }
        if let Some(r) = old.record(&n) {
            members(ctx, r, through_pointers, &mut seen, &mut todo, 0);
        }
    }
    seen
}

fn kind_word(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Struct => "struct",
        RecordKind::Union => "union",
    }
}

fn enum_named<'a>(d: &'a DebugInfo, n: &str) -> Option<&'a EnumDef> {
    d.enums()
        .iter()
        .find(|e| e.tag.as_deref() == Some(n))
        .or_else(|| {
            d.enums()
                .iter()
                .find(|e| e.typedef_name.as_deref() == Some(n) || e.name == n)
        })
}

fn same_layout(a: &Member, b: &Member) -> bool {
    a.offset == b.offset
        && a.size == b.size
        && a.bit_offset == b.bit_offset
        && a.bit_size == b.bit_size
        && verdict(&a.ty, &b.ty) == Verdict::Same
}

/// A record's alignment: the explicit one (`DW_AT_alignment`), else the largest of its members' (a member's
/// explicit alignment, a scalar's size, else the largest power of two dividing its size, at most 16: never more
/// than the real one for a record of scalars, so two estimates differ only where the layouts do).
fn alignment(r: &Record) -> u64 {
    if let Some(a) = r.alignment {
        return a;
    }
    r.members
        .iter()
        .map(|m| {
            m.alignment.unwrap_or(match &m.ty.kind {
                TypeKind::Int { size, .. }
                | TypeKind::Char { size, .. }
                | TypeKind::Bool { size }
                | TypeKind::Float { size }
                | TypeKind::Enum { size, .. } => *size,
                TypeKind::Complex { size } => size / 2,
                TypeKind::Pointer { .. } => m.size,
                _ => {
                    if m.size == 0 {
                        1
                    } else {
                        (1u64 << m.size.trailing_zeros()).min(16)
                    }
                }
            })
        })
        .max()
        .unwrap_or(1)
        .max(1)
}

fn records(w: &mut Walk<'_>, label: &str, a: &Record, b: &Record, out: &mut Vec<Finding>) {
    if a.kind != b.kind {
        out.push(finding(
            DiffCode::RecordKind,
            None,
            w.loc(label),
            format!("{label} is a {} now", kind_word(b.kind)),
            kind_word(a.kind).into(),
            kind_word(b.kind).into(),
            "every member's offset and the record's size change meaning".into(),
        ));
        return;
    }
    if a.byte_size != b.byte_size {
        out.push(finding(
            DiffCode::RecordSize,
            None,
            w.loc(label),
            format!("{label}: {} bytes → {} bytes", a.byte_size, b.byte_size),
            format!("{} bytes", a.byte_size),
            format!("{} bytes", b.byte_size),
            "callers allocate, copy and index arrays of it with OLD's size".into(),
        ));
    }
    let (xa, xb) = (alignment(a), alignment(b));
    if xa != xb {
        out.push(finding(
            DiffCode::RecordAlign,
            None,
            w.loc(label),
            format!("{label}: alignment {xa} → {xb}"),
            format!("{xa}"),
            format!("{xb}"),
            "callers place it (on the stack, in their own records) at OLD's alignment".into(),
        ));
    }
    // Named members by name; a member whose name is gone but whose position, size and type are those of a new
    // name is a rename.
    let named = |r: &Record| -> Vec<usize> {
        (0..r.members.len())
            .filter(|&i| r.members[i].name.is_some())
            .collect()
    };
    let (na, nb) = (named(a), named(b));
    let find = |r: &Record, idx: &[usize], name: &Option<String>| {
        idx.iter().copied().find(|&i| r.members[i].name == *name)
    };
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut removed: Vec<usize> = Vec::new();
    for &i in &na {
        match find(b, &nb, &a.members[i].name) {
            Some(j) => pairs.push((i, j)),
            None => removed.push(i),
        }
    }
    let mut added: Vec<usize> = nb
        .iter()
        .copied()
        .filter(|&j| find(a, &na, &b.members[j].name).is_none())
        .collect();
    removed.retain(|&i| {
        let ma = &a.members[i];
        match added.iter().position(|&j| same_layout(ma, &b.members[j])) {
            Some(k) => {
                let mb = &b.members[added.remove(k)];
                let (x, y) = (ma.name.as_deref().unwrap_or(""), mb.name.as_deref().unwrap_or(""));
                out.push(finding(
                    DiffCode::MemberRenamed,
                    None,
                    w.loc(label),
                    format!("member {x} of {label} is now called {y}"),
                    x.into(),
                    y.into(),
                    "the layout is the same: a source break (code naming the member), not a binary one".into(),
                ));
                false
            }
            None => true,
        }
    });
    if a.kind == RecordKind::Struct
        && b.kind == RecordKind::Struct
        && a.byte_size == b.byte_size
        && alignment(a) == alignment(b)
    {
        regrouped(w, label, a, b, &mut removed, &mut added, out);
    }
    let name_of = |m: &Member| m.name.clone().unwrap_or_default();
    for &i in &removed {
        let m = &a.members[i];
        out.push(finding(
            DiffCode::MemberRemoved,
            None,
            w.loc(label),
            format!("member {} of {label} was removed", name_of(m)),
            m.decl.clone(),
            "no such member".into(),
            "callers that read or write it touch other bytes with NEW".into(),
        ));
    }
    for &j in &added {
        let m = &b.members[j];
        out.push(finding(
            DiffCode::MemberAdded,
            (a.byte_size == b.byte_size).then_some(Severity::Warning),
            w.loc(label),
            format!("member {} was added to {label}", name_of(m)),
            "no such member".into(),
            format!("{} at offset {}", m.decl, m.offset),
            if a.byte_size == b.byte_size {
                "the size is the same (the member took padding or a union's space): callers of OLD leave it \
                 uninitialised"
            } else {
                "callers of OLD allocate the old size and never set it: add new members only to records the \
                 library allocates"
            }
            .into(),
        ));
    }
    // Order of the members both have.
    let mut by_new = pairs.clone();
    by_new.sort_by_key(|p| p.1);
    let reordered = by_new.iter().map(|p| p.0).collect::<Vec<_>>()
        != pairs.iter().map(|p| p.0).collect::<Vec<_>>();
    if reordered {
        let names = |ms: Vec<&Member>| ms.into_iter().map(name_of).collect::<Vec<_>>().join(", ");
        out.push(finding(
            DiffCode::MemberOrder,
            None,
            w.loc(label),
            format!("members of {label} changed order"),
            names(pairs.iter().map(|p| &a.members[p.0]).collect()),
            names(by_new.iter().map(|p| &b.members[p.1]).collect()),
            "every caller that reads or writes a moved member uses OLD's offset".into(),
        ));
    }
    for &(i, j) in &pairs {
        let (ma, mb) = (&a.members[i], &b.members[j]);
        let mname = name_of(ma);
        if ma.bit_size.is_some() || mb.bit_size.is_some() {
            if (ma.start_bit(), ma.bit_size) != (mb.start_bit(), mb.bit_size) {
                let show = |m: &Member| match m.bit_size {
                    Some(s) => format!("bit {} width {s}", m.start_bit()),
                    None => format!("byte {} (not a bitfield)", m.offset),
                };
                out.push(finding(
                    DiffCode::Bitfield,
                    None,
                    w.loc(label),
                    format!("bitfield {mname} of {label}: {} → {}", show(ma), show(mb)),
                    show(ma),
                    show(mb),
                    "callers built for OLD mask and shift other bits".into(),
                ));
            }
        } else if ma.offset != mb.offset && !reordered {
            out.push(finding(
                DiffCode::MemberOffset,
                None,
                w.loc(label),
                format!(
                    "member {mname} of {label}: offset {} → {}",
                    ma.offset, mb.offset
                ),
                format!("offset {}", ma.offset),
                format!("offset {}", mb.offset),
                "callers built or bound against OLD read and write it at the old offset".into(),
            ));
        }
        w.type_change(
            DiffCode::MemberType,
            DiffCode::MemberType,
            label,
            &format!("member {mname} of {label}"),
            &ma.ty,
            &mb.ty,
            out,
        );
        w.reach(&ma.ty.kind, false);
    }
    // Anonymous struct/union members, in order.
    fn anon(r: &Record) -> Vec<&Record> {
        r.members
            .iter()
            .filter(|m| m.name.is_none())
            .filter_map(|m| m.anon.as_deref())
            .collect()
    }
    for (k, (x, y)) in anon(a).into_iter().zip(anon(b)).enumerate() {
        records(w, &format!("{label}.<anonymous {}>", k + 1), x, y, out);
    }
}

/// A scalar of a flattened member: (offset in the record, size, class, signed). Classes: 0 integer-like (char,
/// bool, enum too), 1 floating point, 2 complex, 3 pointer.
type Leaf = (u64, u64, u8, bool);

/// Flattened members larger than this are not regrouped (a reserved block is a few words).
const MAX_LEAVES: usize = 4096;

/// The scalars a member of kind `k` at `offset` with `size` bytes is made of, in order; `false` when it holds
/// something else (a record, a flexible array, a bitfield's storage) or too many.
fn leaves(k: &TypeKind, offset: u64, size: u64, out: &mut Vec<Leaf>) -> bool {
    if out.len() >= MAX_LEAVES {
        return false;
    }
    let scalar = |class: u8, s: u64, signed: bool, out: &mut Vec<Leaf>| {
        out.push((offset, s, class, signed));
        s == size
    };
    match k {
        TypeKind::Float { size: s } => scalar(1, *s, false, out),
        TypeKind::Complex { size: s } => scalar(2, *s, false, out),
        TypeKind::Pointer { .. } => scalar(3, size, false, out),
        TypeKind::Array { elem, len: Some(n) } if *n > 0 && size % n == 0 => {
            let step = size / n;
            (0..*n).all(|i| leaves(elem, offset + i * step, step, out))
        }
        _ => match int_like(k) {
            Some((s, signed)) => scalar(0, s, signed, out),
            None => false,
        },
    }
}

/// The scalars of some members of `r`, in order of offset, if they tile `[start, end)` exactly (no gap, no
/// overlap, no bitfield).
fn tiling(r: &Record, idx: &[usize], start: u64, end: u64) -> Option<Vec<Leaf>> {
    let mut idx = idx.to_vec();
    idx.sort_by_key(|&i| r.members[i].offset);
    let mut at = start;
    let mut out = Vec::new();
    for i in idx {
        let m = &r.members[i];
        if m.bit_size.is_some() || m.offset != at || m.size == 0 {
            return None;
        }
        if !leaves(&m.ty.kind, m.offset, m.size, &mut out) {
            return None;
        }
        at = m.offset + m.size;
    }
    (at == end).then_some(out)
}

/// Removed members of OLD split into added members of NEW over exactly the same bytes, or added members that
/// merge removed ones, with the same scalars at the same offsets (`unsigned reserved[3]` → three `unsigned`
/// members): a source change only, reported like a rename. Called only when the struct's size and alignment
/// are unchanged; the regrouped members leave `removed` and `added`.
fn regrouped(
    w: &Walk<'_>,
    label: &str,
    a: &Record,
    b: &Record,
    removed: &mut Vec<usize>,
    added: &mut Vec<usize>,
    out: &mut Vec<Finding>,
) {
    let inside = |m: &Member, start: u64, end: u64| m.offset >= start && m.offset + m.size <= end;
    let name = |m: &Member| m.name.clone().unwrap_or_default();
    // One removed member into several added ones (or one: a retyped member with the same scalars).
    let mut k = 0;
    while k < removed.len() {
        let ma = &a.members[removed[k]];
        let (start, end) = (ma.offset, ma.offset + ma.size);
        let parts: Vec<usize> = added
            .iter()
            .copied()
            .filter(|&j| inside(&b.members[j], start, end))
            .collect();
        let old_leaves = tiling(a, &[removed[k]], start, end);
        if !parts.is_empty() && old_leaves.is_some() && old_leaves == tiling(b, &parts, start, end)
        {
            let names: Vec<String> = parts.iter().map(|&j| name(&b.members[j])).collect();
            out.push(finding(
                DiffCode::MemberRenamed,
                None,
                w.loc(label),
                format!(
                    "member {} of {label} is now {} over the same bytes",
                    name(ma),
                    names.join(", ")
                ),
                ma.decl.clone(),
                parts
                    .iter()
                    .map(|&j| b.members[j].decl.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                "the same scalars at the same offsets: a source break (code naming the member), not a binary one"
                    .into(),
            ));
            added.retain(|j| !parts.contains(j));
            removed.remove(k);
        } else {
            k += 1;
        }
    }
    // Several removed members merged into one added member.
    let mut k = 0;
    while k < added.len() {
        let mb = &b.members[added[k]];
        let (start, end) = (mb.offset, mb.offset + mb.size);
        let parts: Vec<usize> = removed
            .iter()
            .copied()
            .filter(|&i| inside(&a.members[i], start, end))
            .collect();
        let new_leaves = tiling(b, &[added[k]], start, end);
        if parts.len() > 1 && new_leaves.is_some() && new_leaves == tiling(a, &parts, start, end) {
            let names: Vec<String> = parts.iter().map(|&i| name(&a.members[i])).collect();
            out.push(finding(
                DiffCode::MemberRenamed,
                None,
                w.loc(label),
                format!(
                    "members {} of {label} are now {} over the same bytes",
                    names.join(", "),
                    name(mb)
                ),
                parts
                    .iter()
                    .map(|&i| a.members[i].decl.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
                mb.decl.clone(),
                "the same scalars at the same offsets: a source break (code naming the member), not a binary one"
                    .into(),
            ));
            removed.retain(|i| !parts.contains(i));
            added.remove(k);
        } else {
            k += 1;
        }
    }
}

fn enums(w: &Walk<'_>, label: &str, a: &EnumDef, b: &EnumDef, out: &mut Vec<Finding>) {
    if a.byte_size != b.byte_size {
        out.push(finding(
            DiffCode::EnumSize,
            None,
            w.loc(label),
            format!("{label}: {} bytes → {} bytes", a.byte_size, b.byte_size),
            format!("{} bytes", a.byte_size),
            format!("{} bytes", b.byte_size),
            "every parameter, return and member of this type changes size".into(),
        ));
    }
    for (name, va) in &a.enumerators {
        match b.enumerators.iter().find(|(n, _)| n == name) {
            Some((_, vb)) if vb != va => out.push(finding(
                DiffCode::EnumeratorChanged,
                None,
                w.loc(label),
                format!("{name} of {label} was {va} and is {vb}"),
                format!("{name} = {va}"),
                format!("{name} = {vb}"),
                "callers built or bound against OLD pass the old value, which means something else to NEW"
                    .into(),
            )),
            Some(_) => {}
            None => out.push(finding(
                DiffCode::EnumeratorChanged,
                None,
                w.loc(label),
                format!("{name} of {label} was removed"),
                format!("{name} = {va}"),
                "no such enumerator".into(),
                "callers of OLD still pass its value".into(),
            )),
        }
    }
    let added: Vec<String> = b
        .enumerators
        .iter()
        .filter(|(n, _)| !a.enumerators.iter().any(|(m, _)| m == n))
        .map(|(n, v)| format!("{n} = {v}"))
        .collect();
    if !added.is_empty() {
        out.push(finding(
            DiffCode::EnumeratorAdded,
            None,
            w.loc(label),
            format!("{label}: {} added", added.join(", ")),
            "not defined".into(),
            added.join(", "),
            "compatible for callers of OLD; code that switches over NEW's values may meet ones it does not know"
                .into(),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::{canonical, compare};
    use crate::abi::Target;
    use crate::decl::{parse_str, ParseOptions};
    use crate::diff::{spec_types, Ctx};
    use crate::report::{Code, Finding, Severity};

    /// The findings between two headers' declarations, laid out for x86_64 Linux, as DWARF (`declared` false,
    /// no interest: opacity unknown) or as declared types.
    fn diff(old: &str, new: &str, declared: bool) -> Vec<Finding> {
        let info = |name: &str, text: &str| {
            let spec = parse_str(name, text, &ParseOptions::default()).expect("header parses");
            spec_types::debug_info(&spec, Target::LinuxX86_64, name)
        };
        let (a, b) = (info("old.h", old), info("new.h", new));
        let ctx = Ctx {
            new_file: "new.so",
            interest: None,
        };
        let mut out = Vec::new();
        compare(&ctx, &a, &b, &|_| true, declared, &mut out);
        out
    }

    fn worst(fs: &[Finding]) -> Severity {
        fs.iter()
            .map(|f| f.severity)
            .max()
            .unwrap_or(Severity::Info)
    }

    fn codes(fs: &[Finding], sev: Severity) -> Vec<String> {
        fs.iter()
            .filter(|f| f.severity == sev)
            .map(|f| format!("{} {}", f.code.id(), f.message))
            .collect()
    }

    #[test]
    fn a_record_reached_only_through_pointers_is_a_warning_until_a_header_decides() {
        let old = "struct st { int a; int b; }; int use(struct st *s);";
        let new = "struct st { int a; long b; }; int use(struct st *s);";
        let fs = diff(old, new, false);
        assert_eq!(worst(&fs), Severity::Warning, "{fs:?}");
        assert!(fs
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .all(|f| f.hint.contains("--spec HEADER")));
        assert_eq!(worst(&diff(old, new, true)), Severity::Error);
        // By value anywhere (here as a member of a record passed by value): an error without a header too.
        let old = "struct st { int a; int b; }; struct w { struct st s; }; int use(struct st *p, struct w v);";
        let new = "struct st { int a; long b; }; struct w { struct st s; }; int use(struct st *p, struct w v);";
        assert_eq!(worst(&diff(old, new, false)), Severity::Error);
    }

    #[test]
    fn an_enum_only_in_records_reached_through_pointers_is_a_warning_until_a_header_decides() {
        let old = "enum mode { M_A, M_B }; struct st { enum mode m; }; int use(struct st *s);";
        let new = "enum mode { M_B, M_A }; struct st { enum mode m; }; int use(struct st *s);";
        let fs = diff(old, new, false);
        assert_eq!(worst(&fs), Severity::Warning, "{fs:?}");
        assert!(fs
            .iter()
            .any(|f| f.code == Code::Diff(super::DiffCode::EnumeratorChanged)
                && f.hint.contains("--spec HEADER")));
        assert_eq!(worst(&diff(old, new, true)), Severity::Error);
        // Also a parameter (here through a pointer the library writes): callers see its values directly.
        for direct in [
            "int set(enum mode m);",
            "int get(enum mode *out);",
            "struct w { enum mode m; }; int take(struct w v);",
        ] {
            let with = |s: &str| format!("{s} {direct}");
            assert_eq!(
                worst(&diff(&with(old), &with(new), false)),
                Severity::Error,
                "{direct}"
            );
        }
    }

    #[test]
    fn a_union_that_keeps_its_size_and_alignment_changes_only_its_members_meaning() {
        // A sizer member replaced by another of the same size, and a struct seen only through the union.
        let old = "struct in { int a; int b; }; union u { long long table[4]; struct in in; }; int use(union u *p);";
        let new = "struct in { int b; int a; }; union u { char size[32]; struct in in; }; int use(union u *p);";
        let fs = diff(old, new, true);
        assert_eq!(worst(&fs), Severity::Warning, "{fs:?}");
        let warned = codes(&fs, Severity::Warning).join("\n");
        assert!(
            warned.contains("FFI0839 member table of union u"),
            "{warned}"
        );
        assert!(warned.contains("FFI0840 members of struct in"), "{warned}");
        // The struct is also reached directly: its reordering is an error.
        let both = |s: &str| format!("{s} int raw(struct in *q);");
        let fs = diff(&both(old), &both(new), true);
        assert_eq!(
            codes(&fs, Severity::Error),
            ["FFI0840 members of struct in changed order"],
            "{fs:?}"
        );
        // The union passed by value: its members decide how it is passed in registers.
        let old = "union v { long long l; double d; }; int take(union v x);";
        let new = "union v { long long l; float f; }; int take(union v x);";
        assert_eq!(worst(&diff(old, new, true)), Severity::Error);
        // The size changed: an error.
        let old = "union w { int a[2]; }; int use(union w *p);";
        let new = "union w { int a[4]; }; int use(union w *p);";
        assert_eq!(worst(&diff(old, new, true)), Severity::Error);
    }

    #[test]
    fn members_split_or_merged_over_the_same_scalars_are_a_source_change() {
        let old = "struct o { unsigned s; unsigned reserved[3]; }; int use(struct o *p);";
        let new =
            "struct o { unsigned s; unsigned k; unsigned r1; unsigned r0; }; int use(struct o *p);";
        let fs = diff(old, new, true);
        assert_eq!(worst(&fs), Severity::Info, "{fs:?}");
        assert!(fs
            .iter()
            .any(|f| f.code == Code::Diff(super::DiffCode::MemberRenamed)
                && f.message
                    == "member reserved of struct o is now k, r1, r0 over the same bytes"));
        // And back: merged.
        let fs = diff(new, old, true);
        assert_eq!(worst(&fs), Severity::Info, "{fs:?}");
        // Other scalars in the same bytes (how they are passed and read changes): not a regrouping.
        for other in [
            "struct o { unsigned s; float k; unsigned r1; unsigned r0; }; int use(struct o *p);",
            "struct o { unsigned s; int k; unsigned r1; unsigned r0; }; int use(struct o *p);",
            "struct o { unsigned s; unsigned long long k; unsigned r0; }; int use(struct o *p);",
            "struct o { unsigned s; unsigned k; unsigned r1; unsigned char r0[4]; }; int use(struct o *p);",
        ] {
            let fs = diff(old, other, true);
            assert!(
                !fs.iter().any(|f| f.code == Code::Diff(super::DiffCode::MemberRenamed)),
                "{other}: {fs:?}"
            );
            assert_ne!(worst(&fs), Severity::Info, "{other}");
        }
        // Not covering all the bytes (the rest became padding): not a regrouping.
        let short = "struct o { unsigned s; unsigned k; unsigned r1; }; int use(struct o *p);";
        let fs = diff(old, short, true);
        assert!(
            !fs.iter()
                .any(|f| f.code == Code::Diff(super::DiffCode::MemberRenamed)),
            "{fs:?}"
        );
    }

    #[test]
    fn integer_spellings_of_gcc_and_clang_are_one() {
        assert_eq!(canonical("long int"), canonical("long"));
        assert_eq!(canonical("long unsigned int"), canonical("unsigned long"));
        assert_eq!(
            canonical("short unsigned int *"),
            canonical("unsigned short *")
        );
        assert_eq!(canonical("long long int"), canonical("long long"));
        assert_ne!(canonical("const char *"), canonical("char *"));
        assert_ne!(canonical("int"), canonical("unsigned int"));
        assert_eq!(canonical("char"), "char");
    }
}
