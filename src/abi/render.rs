//! pahole-style text rendering of a record layout.

use std::fmt::Write as _;

use super::RecordLayout;
use crate::spec::c_spelling::{record_name, type_name};
use crate::spec::{RecordKind, Spec, Type};

/// Renders `layout` (the layout of `spec.records[id]`) the way `pahole` prints a struct: each member with
/// `/* offset size */` (bitfields `/* byte:bit size */`), `/* XXX n bytes hole, try to pack */` between members,
/// and a summary with size, member count, holes and tail padding.
pub fn render_pahole(spec: &Spec, id: usize, layout: &RecordLayout) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {{", record_name(spec, id));
    render_body(spec, Some(id), layout, 0, 1, &mut out);
    let members = layout
        .fields
        .iter()
        .filter(|f| f.bit_width != Some(0))
        .count();
    let sum_holes: u64 = layout.holes.iter().map(|h| h.1).sum();
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "\t/* size: {}, cachelines: {}, members: {} */",
        layout.size,
        layout.size.div_ceil(64),
        members
    );
    if !layout.holes.is_empty() {
        let _ = writeln!(
            out,
            "\t/* sum members: {}, holes: {}, sum holes: {} */",
            layout.size - sum_holes - layout.tail_padding,
            layout.holes.len(),
            sum_holes
        );
    }
    if layout.tail_padding > 0 {
        let _ = writeln!(out, "\t/* padding: {} */", layout.tail_padding);
    }
    let _ = writeln!(out, "\t/* alignment: {} */", layout.align);
    let last = layout.size % 64;
    if layout.size > 0 && last != 0 {
        let _ = writeln!(out, "\t/* last cacheline: {last} bytes */");
    }
    out.push_str("};\n");
    out
}

fn render_body(
    spec: &Spec,
    id: Option<usize>,
    layout: &RecordLayout,
    base: u64,
    indent: usize,
    out: &mut String,
) {
    let rec = id.and_then(|i| spec.records.get(i));
    let is_union = rec.map(|r| r.kind == RecordKind::Union).unwrap_or(false);
    let tabs = "\t".repeat(indent);
    let mut holes = layout.holes.iter().peekable();
    for (i, f) in layout.fields.iter().enumerate() {
        let start = f.bit_offset.map(|b| b / 8).unwrap_or(f.offset);
        if !is_union {
            while let Some(&&(off, n)) = holes.peek() {
                if off + n <= start {
                    let _ = writeln!(
                        out,
                        "\n{tabs}/* XXX {n} byte{} hole, try to pack */\n",
                        if n == 1 { "" } else { "s" }
                    );
                    holes.next();
                } else {
                    break;
                }
            }
        }
        let decl = rec.and_then(|r| r.fields.get(i));
        let ty = decl.map(|d| &d.ty.ty);
        if let (Some(nested), Some(Type::Record { id: nid })) = (&f.nested, ty) {
            let kw = match spec.records.get(*nid).map(|r| r.kind) {
                Some(RecordKind::Union) => "union",
                _ => "struct",
            };
            let _ = writeln!(out, "{tabs}{kw} {{");
            render_body(spec, Some(*nid), nested, base + f.offset, indent + 1, out);
            let _ = writeln!(
                out,
                "{tabs}}};{:>w$}/* {:>5} {:>5} */",
                "",
                base + f.offset,
                f.size,
                w = 1
            );
            continue;
        }
        let tname = ty.map(|t| type_name(spec, t)).unwrap_or_else(|| "?".into());
        let mut name = f.name.clone().unwrap_or_default();
        if let Some(w) = f.bit_width {
            name = format!("{name}:{w}");
        }
        let left = format!("{tabs}{tname:<26} {name};");
        match (f.bit_offset, f.bit_width) {
            (Some(b), Some(_)) => {
                let abs = base * 8 + b;
                let _ = writeln!(
                    out,
                    "{left:<50} /* {:>5}:{:>2} {:>3} */",
                    abs / 8,
                    abs % 8,
                    f.size
                );
            }
            _ => {
                let _ = writeln!(out, "{left:<50} /* {:>5} {:>5} */", base + f.offset, f.size);
            }
        }
    }
    for &(_, n) in holes {
        let _ = writeln!(
            out,
            "\n{tabs}/* XXX {n} byte{} hole, try to pack */",
            if n == 1 { "" } else { "s" }
        );
    }
}
