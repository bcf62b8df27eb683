//! A record layout of the ABI engine in the one layout view ([`layout_view`]), printed like pahole by
//! [`crate::report::pahole::write_pahole`].

use super::RecordLayout;
use crate::decl::c_spelling::{record_name, type_name};
use crate::decl::{RecordKind, Spec, Type};
use crate::report::pahole::{write_pahole, HoleView, LayoutView, MemberView, Nested, Summary};

/// Renders `layout` (the layout of `spec.records[id]`) the way `pahole` prints a struct: each member with
/// `/* offset size */` (bitfields `/* byte:bit size */`), `/* XXX n bytes hole, try to pack */` between members,
/// and a summary with size, member count, holes, tail padding and alignment.
pub fn render_pahole(spec: &Spec, id: usize, layout: &RecordLayout) -> String {
    write_pahole(&layout_view(spec, id, layout))
}

/// `layout` (the layout of `spec.records[id]`) in the one layout view. A bitfield is shown at the byte holding
/// its first bit.
pub fn layout_view(spec: &Spec, id: usize, layout: &RecordLayout) -> LayoutView {
    let sum_holes: u64 = layout.holes.iter().map(|h| h.1).sum();
    LayoutView {
        head: record_name(spec, id),
        members: members(spec, Some(id), layout, 0),
        summary: Summary {
            size: layout.size,
            members: layout
                .fields
                .iter()
                .filter(|f| f.bit_width != Some(0))
                .count(),
            sum_members: layout.size - sum_holes - layout.tail_padding,
            byte_holes: layout.holes.len(),
            sum_byte_holes: sum_holes,
            bitfields: None,
            padding: layout.tail_padding,
            bit_padding: 0,
            alignment: Some(layout.align),
            close_name: None,
            aligned_attr: None,
        },
    }
}

fn members(spec: &Spec, id: Option<usize>, layout: &RecordLayout, base: u64) -> Vec<MemberView> {
    let rec = id.and_then(|i| spec.records.get(i));
    let is_union = rec.map(|r| r.kind == RecordKind::Union).unwrap_or(false);
    let hole = |n: u64| HoleView { bytes: n, bits: 0 };
    let mut holes = layout.holes.iter().peekable();
    let mut out: Vec<MemberView> = Vec::with_capacity(layout.fields.len());
    for (i, f) in layout.fields.iter().enumerate() {
        let start = f.bit_offset.map(|b| b / 8).unwrap_or(f.offset);
        if !is_union {
            while let Some(&&(off, n)) = holes.peek() {
                if off + n > start {
                    break;
                }
                if let Some(prev) = out.last_mut() {
                    prev.holes_after.push(hole(n));
                }
                holes.next();
            }
        }
        let ty = rec.and_then(|r| r.fields.get(i)).map(|d| &d.ty.ty);
        if let (Some(nested), Some(Type::Record { id: nid })) = (&f.nested, ty) {
            let keyword = match spec.records.get(*nid).map(|r| r.kind) {
                Some(RecordKind::Union) => "union",
                _ => "struct",
            };
            out.push(MemberView {
                ty: String::new(),
                name: String::new(),
                offset: base + f.offset,
                size: f.size,
                bit: None,
                width: None,
                nested: Some(Nested {
                    keyword,
                    members: members(spec, Some(*nid), nested, base + f.offset),
                }),
                holes_after: Vec::new(),
            });
            continue;
        }
        let (offset, bit) = match (f.bit_offset, f.bit_width) {
            (Some(b), Some(_)) => {
                let abs = base * 8 + b;
                (abs / 8, Some(abs % 8))
            }
            _ => (base + f.offset, None),
        };
        out.push(MemberView {
            ty: ty.map(|t| type_name(spec, t)).unwrap_or_else(|| "?".into()),
            name: f.name.clone().unwrap_or_default(),
            offset,
            size: f.size,
            bit,
            width: f.bit_width.map(u64::from),
            nested: None,
            holes_after: Vec::new(),
        });
    }
    if let Some(last) = out.last_mut() {
        last.holes_after.extend(holes.map(|&(_, n)| hole(n)));
    }
    out
}
