//! One layout view of a struct or union, whatever it was computed from (the ABI engine for declarations, DWARF
//! for a compiled library), and the one writer that prints it the way `pahole -C NAME` does.
//!
//! A view holds what pahole shows: each member with its byte offset (and, for a bitfield, the bit inside the
//! unit at that offset and its width), its size, the holes after it (bytes and bits), the members of anonymous
//! struct/union members nested in place, and the summary (size, cachelines, members, holes, bit holes, tail
//! padding). Offsets in a view are absolute (from the start of the outermost record).

use std::fmt::Write as _;

/// A struct or union laid out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutView {
    /// The opening line without ` {`: `struct point`, `typedef struct`, `padded_t`.
    pub head: String,
    pub members: Vec<MemberView>,
    pub summary: Summary,
}

/// One member line (or an anonymous struct/union member with its own members).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    /// The type column: `int`, `struct node *`, `void`.
    pub ty: String,
    /// The declarator column without the bitfield width: `left`, `name[13]`, `(*cb)(int)`; empty for an
    /// unnamed bitfield.
    pub name: String,
    /// Absolute byte offset (for a bitfield, the unit its bit position counts from).
    pub offset: u64,
    /// Byte size of the member's type (a bitfield's storage unit).
    pub size: u64,
    /// For a bitfield: the bit inside the byte at `offset` where it starts …
    pub bit: Option<u64>,
    /// … and its declared width.
    pub width: Option<u64>,
    /// For an anonymous struct/union member: `struct` or `union`, its members, and the member name if it has
    /// one.
    pub nested: Option<Nested>,
    /// Holes between this member and the next (or the end of the members).
    pub holes_after: Vec<HoleView>,
}

/// The members of an anonymous struct/union member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Nested {
    pub keyword: &'static str,
    pub members: Vec<MemberView>,
}

/// A gap: whole bytes, and bits next to bitfields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HoleView {
    pub bytes: u64,
    pub bits: u64,
}

/// pahole's closing comment block and the closing line.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Summary {
    pub size: u64,
    pub members: usize,
    /// Sum of the members' bytes (shown with the holes, or alone when there are bitfields).
    pub sum_members: u64,
    /// Number and sum of byte holes.
    pub byte_holes: usize,
    pub sum_byte_holes: u64,
    /// Bitfield bits, bit holes and their sum, when the source counts them.
    pub bitfields: Option<BitSummary>,
    /// Tail padding in bytes and in bits.
    pub padding: u64,
    pub bit_padding: u64,
    /// The record's alignment, when the source knows it for every record (the ABI engine always does).
    pub alignment: Option<u64>,
    /// Written after `}` before `;` (the typedef name of an anonymous record).
    pub close_name: Option<String>,
    /// An explicit `__attribute__((__aligned__(N)))` on the record.
    pub aligned_attr: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BitSummary {
    pub bits: u64,
    pub bit_holes: usize,
    pub sum_bit_holes: u64,
}

/// The view as `pahole -C NAME` prints it.
pub fn write_pahole(v: &LayoutView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{} {{", v.head);
    body(&mut out, &v.members, 1, true);
    let s = &v.summary;
    if !v.members.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "\t/* size: {}, cachelines: {}, members: {} */",
        s.size,
        s.size.div_ceil(64),
        s.members
    );
    let has_bits = s.bitfields.is_some_and(|b| b.bits > 0);
    if s.byte_holes > 0 {
        let _ = writeln!(
            out,
            "\t/* sum members: {}, holes: {}, sum holes: {} */",
            s.sum_members, s.byte_holes, s.sum_byte_holes
        );
    } else if has_bits {
        let _ = writeln!(out, "\t/* sum members: {} */", s.sum_members);
    }
    if let Some(b) = s.bitfields.filter(|b| b.bits > 0) {
        if b.bit_holes > 0 {
            let _ = writeln!(
                out,
                "\t/* sum bitfield members: {} bits, bit holes: {}, sum bit holes: {} bits */",
                b.bits, b.bit_holes, b.sum_bit_holes
            );
        } else {
            let _ = writeln!(out, "\t/* sum bitfield members: {} bits */", b.bits);
        }
    }
    if s.padding > 0 {
        let _ = writeln!(out, "\t/* padding: {} */", s.padding);
    }
    if s.bit_padding > 0 {
        let _ = writeln!(out, "\t/* bit_padding: {} bits */", s.bit_padding);
    }
    if let Some(a) = s.alignment {
        let _ = writeln!(out, "\t/* alignment: {a} */");
    }
    if s.size % 64 != 0 {
        let _ = writeln!(out, "\t/* last cacheline: {} bytes */", s.size % 64);
    }
    let tail = s
        .close_name
        .as_ref()
        .map(|n| format!(" {n}"))
        .unwrap_or_default();
    match s.aligned_attr {
        Some(a) => {
            let _ = writeln!(out, "}}{tail} __attribute__((__aligned__({a})));");
        }
        None => {
            let _ = writeln!(out, "}}{tail};");
        }
    }
    out
}

fn member_line(out: &mut String, indent: usize, m: &MemberView) {
    let tabs = "\t".repeat(indent);
    let off = m.offset;
    let comment = match (m.width, m.bit) {
        (Some(_), Some(b)) => format!("/* {off:5}:{b:2} {:2} */", m.size),
        _ => format!("/* {off:5} {:5} */", m.size),
    };
    let name = match m.width {
        Some(w) => format!("{}:{w};", m.name),
        None => format!("{};", m.name),
    };
    let ty_w = 27usize.saturating_sub(8 * (indent - 1));
    let _ = writeln!(
        out,
        "{tabs}{:<ty_w$}{:<21} {comment}",
        format!("{} ", m.ty),
        name
    );
}

fn body(out: &mut String, members: &[MemberView], indent: usize, top: bool) {
    let tabs = "\t".repeat(indent);
    let mut last_line = 0u64;
    for (i, m) in members.iter().enumerate() {
        if top && i > 0 {
            let line = m.offset / 64;
            if line > last_line {
                let ago = m.offset - line * 64;
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
        match &m.nested {
            Some(inner) => {
                let _ = writeln!(out, "{tabs}{} {{", inner.keyword);
                body(out, &inner.members, indent + 1, false);
                let close = if m.name.is_empty() {
                    "};".to_string()
                } else {
                    format!("}} {};", m.name)
                };
                let pad = 49usize.saturating_sub(8 * (indent - 1));
                let _ = writeln!(out, "{tabs}{close:<pad$}/* {:5} {:5} */", m.offset, m.size);
            }
            None => member_line(out, indent, m),
        }
        for h in &m.holes_after {
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
