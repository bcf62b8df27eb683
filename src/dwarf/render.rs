//! Hole arithmetic of a DWARF [`Record`] the way pahole counts it ([`layout_stats`]), and the record in the one
//! layout view ([`layout_view`]) that [`crate::report::pahole::write_pahole`] prints like `pahole -C NAME`.

use serde::Serialize;

use super::{Record, RecordKind};
use crate::report::pahole::{
    write_pahole, BitSummary, HoleView, LayoutView, MemberView, Nested, Summary,
};

/// A gap in a struct, after member `after` (index into `members`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hole {
    pub after: usize,
    /// Whole bytes of the gap.
    pub bytes: u64,
    /// Remaining bits (only next to bitfields).
    pub bits: u64,
}

/// pahole's summary numbers for one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LayoutStats {
    pub size: u64,
    pub cachelines: u64,
    pub members: usize,
    /// Sum of the sizes of the non-bitfield members.
    pub sum_members: u64,
    pub holes: Vec<Hole>,
    /// Number of byte holes and their sum.
    pub byte_holes: usize,
    pub sum_byte_holes: u64,
    /// Sum of bitfield widths; number of bit holes and their sum.
    pub sum_bitfield_bits: u64,
    pub bit_holes: usize,
    pub sum_bit_holes: u64,
    /// Tail padding in bytes (when the last member is not a bitfield).
    pub padding: u64,
    /// Tail padding in bits (when the last member is a bitfield).
    pub bit_padding: u64,
}

/// Holes and padding the way pahole counts them. Unions have no holes.
pub fn layout_stats(r: &Record) -> LayoutStats {
    let mut holes = Vec::new();
    let mut end = 0u64;
    let mut last_bitfield = false;
    for (i, m) in r.members.iter().enumerate() {
        if r.kind == RecordKind::Struct && i > 0 {
            let start = m.start_bit();
            let prev = &r.members[i - 1];
            if start > end {
                let (bytes, bits) = if prev.bit_size.is_some() {
                    // pahole: the bits left in the previous bitfield's storage unit, then the bytes between
                    // that unit and this member's (unit) offset.
                    let unit_end = prev.offset + prev.size;
                    (
                        m.offset.saturating_sub(unit_end),
                        start.min(unit_end * 8).saturating_sub(end),
                    )
                } else {
                    ((start - end) / 8, (start - end) % 8)
                };
                if bytes > 0 || bits > 0 {
                    holes.push(Hole {
                        after: i - 1,
                        bytes,
                        bits,
                    });
                }
            }
        }
        end = end.max(m.end_bit());
        last_bitfield = m.bit_size.is_some();
    }
    let tail = (r.byte_size * 8).saturating_sub(end);
    let (padding, bit_padding) = if r.kind == RecordKind::Union {
        (0, 0)
    } else if last_bitfield {
        (0, tail)
    } else {
        (tail / 8, 0)
    };
    LayoutStats {
        size: r.byte_size,
        cachelines: r.byte_size.div_ceil(64),
        members: r.members.len(),
        sum_members: r
            .members
            .iter()
            .filter(|m| m.bit_size.is_none())
            .map(|m| m.size)
            .sum(),
        byte_holes: holes.iter().filter(|h| h.bytes > 0).count(),
        sum_byte_holes: holes.iter().map(|h| h.bytes).sum(),
        sum_bitfield_bits: r.members.iter().filter_map(|m| m.bit_size).sum(),
        bit_holes: holes.iter().filter(|h| h.bits > 0).count(),
        sum_bit_holes: holes.iter().map(|h| h.bits).sum(),
        holes,
        padding,
        bit_padding,
    }
}

fn kw(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Struct => "struct",
        RecordKind::Union => "union",
    }
}

/// The members of `r` (at absolute offset `base`) in the one layout view, with pahole's holes.
fn members(r: &Record, base: u64) -> Vec<MemberView> {
    let holes = layout_stats(r).holes;
    r.members
        .iter()
        .enumerate()
        .map(|(i, m)| MemberView {
            ty: m.decl_type.clone(),
            name: match &m.anon {
                Some(_) => m.name.clone().unwrap_or_default(),
                None => m.decl_name.clone(),
            },
            offset: base + m.offset,
            size: m.size,
            bit: m.bit_in_unit(),
            width: m.bit_size,
            nested: m.anon.as_ref().map(|inner| Nested {
                keyword: kw(inner.kind),
                members: members(inner, base + m.offset),
            }),
            holes_after: holes
                .iter()
                .find(|h| h.after == i)
                .map(|h| HoleView {
                    bytes: h.bytes,
                    bits: h.bits,
                })
                .into_iter()
                .collect(),
        })
        .collect()
}

/// `r` in the one layout view (what `pahole -C NAME` shows of it).
pub fn layout_view(r: &Record) -> LayoutView {
    let head = match (&r.tag, &r.typedef_name) {
        (Some(t), _) => format!("{} {t}", kw(r.kind)),
        (None, Some(_)) => format!("typedef {}", kw(r.kind)),
        (None, None) => kw(r.kind).to_string(),
    };
    let st = layout_stats(r);
    LayoutView {
        head,
        members: members(r, 0),
        summary: Summary {
            size: st.size,
            members: st.members,
            sum_members: st.sum_members,
            byte_holes: st.byte_holes,
            sum_byte_holes: st.sum_byte_holes,
            bitfields: Some(BitSummary {
                bits: st.sum_bitfield_bits,
                bit_holes: st.bit_holes,
                sum_bit_holes: st.sum_bit_holes,
            }),
            padding: st.padding,
            bit_padding: st.bit_padding,
            alignment: None,
            close_name: match (&r.tag, &r.typedef_name) {
                (None, Some(t)) => Some(t.clone()),
                _ => None,
            },
            aligned_attr: r.alignment,
        },
    }
}

/// The layout of `r` as `pahole -C NAME` prints it.
pub fn render_layout(r: &Record) -> String {
    write_pahole(&layout_view(r))
}
