//! Hole arithmetic and the pahole-like layout text of a [`Record`]: one line per member with `/* offset size */`
//! (bitfields `/* offset:bit size */`), `XXX N bytes hole` / `XXX N bits hole` markers, cacheline boundaries, and
//! the closing `size / sum members / padding` summary, as `pahole -C NAME` prints them.

use std::fmt::Write;

use serde::Serialize;

use super::{Member, Record, RecordKind};

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

fn member_line(out: &mut String, indent: usize, m: &Member, base: u64) {
    let tabs = "\t".repeat(indent);
    let off = base + m.offset;
    let comment = match (m.bit_size, m.bit_in_unit()) {
        (Some(_), Some(b)) => format!("/* {off:5}:{b:2} {:2} */", m.size),
        _ => format!("/* {off:5} {:5} */", m.size),
    };
    let name = match m.bit_size {
        Some(w) => format!("{}:{w};", m.decl_name),
        None => format!("{};", m.decl_name),
    };
    let ty_w = 27usize.saturating_sub(8 * (indent - 1));
    let _ = writeln!(
        out,
        "{tabs}{:<ty_w$}{:<21} {comment}",
        format!("{} ", m.decl_type),
        name
    );
}

fn body(out: &mut String, r: &Record, indent: usize, base: u64, top: bool) {
    let tabs = "\t".repeat(indent);
    let holes = layout_stats(r).holes;
    let mut last_line = 0u64;
    for (i, m) in r.members.iter().enumerate() {
        if top && i > 0 {
            let line = (base + m.offset) / 64;
            if line > last_line {
                let ago = base + m.offset - line * 64;
                if ago == 0 {
                    let _ = writeln!(
                        out,
                        "{tabs}/* --- cacheline {line} boundary ({} bytes) --- */",
                        line * 64
                    );
                } else {
                    let _ = writeln!(
                        out,
                        "{tabs}/* --- cacheline {line} boundary ({} bytes) was {ago} bytes ago --- */",
                        line * 64
                    );
                }
                last_line = line;
            }
        }
        match &m.anon {
            Some(inner) => {
                let _ = writeln!(out, "{tabs}{} {{", kw(inner.kind));
                body(out, inner, indent + 1, base + m.offset, false);
                let close = match &m.name {
                    Some(n) => format!("}} {n};"),
                    None => "};".to_string(),
                };
                let pad = 49usize.saturating_sub(8 * (indent - 1));
                let _ = writeln!(
                    out,
                    "{tabs}{close:<pad$}/* {:5} {:5} */",
                    base + m.offset,
                    m.size
                );
            }
            None => member_line(out, indent, m, base),
        }
        if let Some(h) = holes.iter().find(|h| h.after == i) {
            out.push('\n');
            if h.bits > 0 {
                let s = if h.bits == 1 { "" } else { "s" };
                let _ = writeln!(out, "{tabs}/* XXX {} bit{s} hole, try to pack */", h.bits);
            }
            if h.bytes > 0 {
                let s = if h.bytes == 1 { "" } else { "s" };
                let _ = writeln!(out, "{tabs}/* XXX {} byte{s} hole, try to pack */", h.bytes);
            }
            out.push('\n');
        }
    }
}

/// The layout of `r` as `pahole -C NAME` prints it.
pub fn render_layout(r: &Record) -> String {
    let mut out = String::new();
    let head = match (&r.tag, &r.typedef_name) {
        (Some(t), _) => format!("{} {t} {{", kw(r.kind)),
        (None, Some(_)) => format!("typedef {} {{", kw(r.kind)),
        (None, None) => format!("{} {{", kw(r.kind)),
    };
    let _ = writeln!(out, "{head}");
    body(&mut out, r, 1, 0, true);
    let st = layout_stats(r);
    if !r.members.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\t/* size: {}, cachelines: {}, members: {} */",
        st.size, st.cachelines, st.members
    );
    let has_bits = st.sum_bitfield_bits > 0;
    if st.byte_holes > 0 {
        let _ = writeln!(
            out,
            "\t/* sum members: {}, holes: {}, sum holes: {} */",
            st.sum_members, st.byte_holes, st.sum_byte_holes
        );
    } else if has_bits {
        let _ = writeln!(out, "\t/* sum members: {} */", st.sum_members);
    }
    if has_bits {
        if st.bit_holes > 0 {
            let _ = writeln!(
                out,
                "\t/* sum bitfield members: {} bits, bit holes: {}, sum bit holes: {} bits */",
                st.sum_bitfield_bits, st.bit_holes, st.sum_bit_holes
            );
        } else {
            let _ = writeln!(
                out,
                "\t/* sum bitfield members: {} bits */",
                st.sum_bitfield_bits
            );
        }
    }
    if st.padding > 0 {
        let _ = writeln!(out, "\t/* padding: {} */", st.padding);
    }
    if st.bit_padding > 0 {
        let _ = writeln!(out, "\t/* bit_padding: {} bits */", st.bit_padding);
    }
    if st.size % 64 != 0 {
        let _ = writeln!(out, "\t/* last cacheline: {} bytes */", st.size % 64);
    }
    let tail = match (&r.tag, &r.typedef_name) {
        (None, Some(t)) => format!(" {t}"),
        _ => String::new(),
    };
    match r.alignment {
        Some(a) => {
            let _ = writeln!(out, "}}{tail} __attribute__((__aligned__({a})));");
        }
        None => {
            let _ = writeln!(out, "}}{tail};");
        }
    }
    out
}
