//! CPython ctypes' own layout of `Structure`/`Union` classes: size, alignment and every field's offset, size and
//! bit position exactly as `ctypes.sizeof`, `ctypes.alignment`, `Cls.f.offset` and `Cls.f.size` report them for a
//! given Python minor version on a given target. ctypes does not ask the C compiler: it has its own rules, and
//! they are not always the compiler's (see `docs/ctypes-layout.md`).
//!
//! Two rule sets, transcribed from CPython's sources:
//! - **3.13 and older** (`Modules/_ctypes/cfield.c` `PyCField_FromDesc` with `stgdict.c`): fields one after the
//!   other, each aligned to its type's alignment (capped by `_pack_`); a bitfield continues the open bitfield
//!   when it fits (on Windows only when its type has the same size, elsewhere when the type is not bigger, or the
//!   open unit is *expanded* to the bigger type). The non-Windows rules are not GCC's: a bitfield never shares a
//!   unit with a preceding non-bitfield member, and a continued bitfield is read at `unit end - sizeof(type)`.
//!   Union members keep the open bitfield of the previous member, so a second bitfield gets a negative offset.
//!   `_align_` (3.13) raises the alignment.
//! - **3.14 and newer** (`Lib/ctypes/_layout.py`): `_layout_ = "gcc-sysv"` places fields bit by bit like GCC
//!   (a bitfield that would cross a unit of its type starts at the next unit), `"ms"` follows MSVC; the default is
//!   `"ms"` on Windows and when `_pack_` is set (with a `DeprecationWarning` outside Windows), `"gcc-sysv"`
//!   otherwise; `_pack_` with `"gcc-sysv"` raises.
//!
//! Fundamental types take their size and alignment from the ABI engine through [`Simple::c_type`] (the C type
//! CPython binds them to), so a target's data model comes from the place the compiler oracles check.

use std::cell::RefCell;
use std::collections::HashMap;

use serde::Serialize;

use super::model::{CRecord, CType, Endian, LayoutRule, Prototype, Simple};
use crate::abi::{type_layout, Target};
use crate::decl::Spec;

/// A CPython minor version (`3.minor`): the layout rules changed in 3.13 (`_align_`) and 3.14 (bitfields,
/// `_layout_`, `_pack_` without `_layout_` warns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PyVersion {
    pub minor: u8,
}

impl PyVersion {
    /// The default: 3.13, the newest version with the rules every interpreter before 3.14 follows (the ones
    /// most deployed bindings run on). Pass 3.14 to see the new bitfield rules.
    pub const DEFAULT: PyVersion = PyVersion { minor: 13 };

    pub const fn new(minor: u8) -> PyVersion {
        PyVersion { minor }
    }

    /// Parses `3.11` (or `311`, `3.11.4`); only Python 3 versions from 3.6 on.
    pub fn parse(s: &str) -> Option<PyVersion> {
        let s = s.trim();
        let minor = if let Some(rest) = s.strip_prefix("3.") {
            rest.split('.').next()?.parse::<u8>().ok()?
        } else if let Some(rest) = s.strip_prefix('3') {
            rest.parse::<u8>().ok()?
        } else {
            return None;
        };
        (6..=99).contains(&minor).then_some(PyVersion { minor })
    }

    /// `_layout_` exists and bitfields follow the compilers (3.14+).
    pub fn has_layout_attr(self) -> bool {
        self.minor >= 14
    }

    /// `_align_` exists (3.13+).
    pub fn has_align_attr(self) -> bool {
        self.minor >= 13
    }
}

impl Default for PyVersion {
    fn default() -> Self {
        PyVersion::DEFAULT
    }
}

impl std::fmt::Display for PyVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "3.{}", self.minor)
    }
}

/// Which placement rules ctypes used for a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rules {
    /// Before 3.14, on Windows (`MS_WIN32` in `cfield.c`).
    LegacyWindows,
    /// Before 3.14, elsewhere: ctypes' own bitfield rules, which are not GCC's.
    LegacyOther,
    /// 3.14+, `_layout_ = "ms"` (explicit or by default).
    Ms,
    /// 3.14+, `_layout_ = "gcc-sysv"` (explicit or by default).
    GccSysv,
}

/// Something ctypes says (a warning) when it creates the class, without refusing it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LayoutNote {
    /// 3.14+: `_pack_` without `_layout_` outside Windows: `DeprecationWarning`, MSVC layout.
    PackWithoutLayout,
    /// `_layout_` set, but the version ignores it (before 3.14).
    LayoutIgnored,
    /// `_align_` set, but the version ignores it (before 3.13).
    AlignIgnored,
}

/// One field as ctypes placed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CtypesField {
    pub name: String,
    /// `Cls.f.offset`. Signed: before 3.14 a union's second bitfield gets a negative offset.
    pub offset: i64,
    /// `Cls.f.size`: the type's size, or for a bitfield `(width << 16) | bit_offset`.
    pub size: i64,
    /// Size of the field's type in bytes.
    pub type_size: u64,
    /// For bitfields: the bit offset inside the `type_size` bytes at `offset` (counted from the least
    /// significant bit in the class's byte order), and the width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_offset: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_width: Option<u32>,
}

/// A record class as ctypes lays it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CtypesLayout {
    /// `ctypes.sizeof(Cls)`.
    pub size: u64,
    /// `ctypes.alignment(Cls)`.
    pub align: u64,
    /// Own fields (`_fields_`), in order; a base class's fields are in the base's layout.
    pub fields: Vec<CtypesField>,
    pub rules: Rules,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<LayoutNote>,
}

/// Why ctypes cannot lay a class out (it raises, or the type is not known statically).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CtypesLayoutError {
    pub message: String,
    /// True when CPython itself raises for this class (as opposed to a type the model cannot know).
    pub ctypes_raises: bool,
}

impl CtypesLayoutError {
    fn raises(message: impl Into<String>) -> Self {
        CtypesLayoutError {
            message: message.into(),
            ctypes_raises: true,
        }
    }
    fn unknown(message: impl Into<String>) -> Self {
        CtypesLayoutError {
            message: message.into(),
            ctypes_raises: false,
        }
    }
}

/// The layout of `records[id]` as ctypes computes it for `py` on `target`.
pub fn layout(
    records: &[CRecord],
    prototypes: &[Prototype],
    id: usize,
    target: Target,
    py: PyVersion,
) -> Result<CtypesLayout, CtypesLayoutError> {
    Cx::new(records, prototypes, target, py).record(id, 0)
}

/// The layouts of every record (by index), sharing the work between records.
pub fn layouts(
    records: &[CRecord],
    prototypes: &[Prototype],
    target: Target,
    py: PyVersion,
) -> Vec<Result<CtypesLayout, CtypesLayoutError>> {
    let cx = Cx::new(records, prototypes, target, py);
    (0..records.len()).map(|id| cx.record(id, 0)).collect()
}

/// `(sizeof, alignment)` of a ctypes type expression as ctypes computes it.
pub fn type_size_align(
    records: &[CRecord],
    prototypes: &[Prototype],
    ty: &CType,
    target: Target,
    py: PyVersion,
) -> Result<(u64, u64), CtypesLayoutError> {
    Cx::new(records, prototypes, target, py).size_align(ty, 0)
}

/// `(size, alignment)` of a fundamental type on `target`, from the ABI engine; `None` where the target's
/// compiler has no such type.
pub fn simple_size_align(simple: Simple, target: Target) -> Option<(u64, u64)> {
    type_layout(&Spec::default(), &simple.c_type().ty, target)
        .ok()
        .map(|l| (l.size, l.align))
}

/// The largest type size the model lays out (1 TiB): sums of offsets stay far from overflowing.
const MAX_TYPE_SIZE: u64 = 1 << 40;

/// Whether ctypes accepts a bitfield of this type: the integer types and `c_bool` (not `c_char`/`c_wchar`).
pub fn bitfield_allowed(simple: Simple) -> bool {
    use Simple::*;
    matches!(
        simple,
        Bool | Byte
            | UByte
            | Short
            | UShort
            | Int
            | UInt
            | Long
            | ULong
            | LongLong
            | ULongLong
            | Int8
            | UInt8
            | Int16
            | UInt16
            | Int32
            | UInt32
            | Int64
            | UInt64
            | Size
            | SSize
            | Time
            | HResult
            | VariantBool
    )
}

/// Whether a non-native byte order class accepts a field of this type (`ctypes/_endian.py`: the simple types
/// with a swapped twin, arrays of them, and record classes).
fn swappable(ty: &CType) -> bool {
    use Simple::*;
    match ty {
        CType::Simple { simple } => !matches!(
            simple,
            Bool | WChar
                | LongDouble
                | CharP
                | WCharP
                | VoidP
                | PyObject
                | FloatComplex
                | DoubleComplex
                | LongDoubleComplex
        ),
        CType::Array { elem, .. } => swappable(elem),
        CType::Record { .. } => true,
        _ => false,
    }
}

const MAX_DEPTH: u32 = 64;

type Memo = HashMap<usize, Result<(u64, u64), CtypesLayoutError>>;

struct Cx<'a> {
    records: &'a [CRecord],
    prototypes: &'a [Prototype],
    target: Target,
    py: PyVersion,
    memo: RefCell<Memo>,
}

/// A field's type as the placement needs it.
struct Item<'r> {
    name: &'r str,
    size: u64,
    align: u64,
    bits: Option<u32>,
}

impl<'a> Cx<'a> {
    fn new(
        records: &'a [CRecord],
        prototypes: &'a [Prototype],
        target: Target,
        py: PyVersion,
    ) -> Self {
        Cx {
            records,
            prototypes,
            target,
            py,
            memo: RefCell::new(HashMap::new()),
        }
    }

    fn size_align(&self, ty: &CType, depth: u32) -> Result<(u64, u64), CtypesLayoutError> {
        if depth > MAX_DEPTH {
            return Err(CtypesLayoutError::unknown(
                "types nested too deeply (a record containing itself?)",
            ));
        }
        match ty {
            CType::Simple { simple } => simple_size_align(*simple, self.target).ok_or_else(|| {
                CtypesLayoutError::unknown(format!(
                    "`{}` has no C equivalent on {}",
                    simple.name(),
                    self.target.name()
                ))
            }),
            CType::FuncPtr { id } if *id >= self.prototypes.len() => {
                Err(CtypesLayoutError::unknown(format!("no prototype #{id}")))
            }
            CType::Pointer { .. } | CType::FuncPtr { .. } => {
                let p = self.target.pointer_size();
                Ok((p, p))
            }
            CType::Array { elem, len } => {
                let (s, a) = self.size_align(elem, depth + 1)?;
                match s.checked_mul(*len) {
                    Some(size) if size <= MAX_TYPE_SIZE => Ok((size, a)),
                    _ => Err(CtypesLayoutError::unknown(format!(
                        "array of {len} elements is too large to lay out"
                    ))),
                }
            }
            CType::Record { id } => {
                if let Some(r) = self.memo.borrow().get(id) {
                    return r.clone();
                }
                let r = self.record(*id, depth + 1).and_then(|l| match l.size {
                    s if s > MAX_TYPE_SIZE => {
                        Err(CtypesLayoutError::unknown("record too large to lay out"))
                    }
                    _ => Ok((l.size, l.align)),
                });
                self.memo.borrow_mut().insert(*id, r.clone());
                r
            }
            CType::Void => Err(CtypesLayoutError::raises("`None` is not a ctypes type")),
            CType::Unknown { text } => Err(CtypesLayoutError::unknown(format!(
                "type `{text}` is not known statically"
            ))),
        }
    }

    fn record(&self, id: usize, depth: u32) -> Result<CtypesLayout, CtypesLayoutError> {
        if depth > MAX_DEPTH {
            return Err(CtypesLayoutError::unknown(
                "records nested too deeply (a record containing itself?)",
            ));
        }
        let rec = self
            .records
            .get(id)
            .ok_or_else(|| CtypesLayoutError::unknown(format!("no record class #{id}")))?;
        let Some(fields) = &rec.fields else {
            return Err(CtypesLayoutError::unknown(format!(
                "class {} has no `_fields_` (an incomplete type)",
                rec.name
            )));
        };
        let base = match rec.base {
            Some(b) if b == id => {
                return Err(CtypesLayoutError::raises(format!(
                    "class {} derives from itself",
                    rec.name
                )))
            }
            Some(b) => {
                let l = self.record(b, depth + 1)?;
                Some((l.size, l.align))
            }
            None => None,
        };
        let mut items = Vec::with_capacity(fields.len());
        for f in fields {
            if let CType::Record { id: fid } = f.ty {
                if fid == id {
                    return Err(CtypesLayoutError::raises(format!(
                        "field `{}` of {} has the class's own type (ctypes: \"Structure or union cannot contain itself\")",
                        f.name, rec.name
                    )));
                }
            }
            let (size, align) =
                self.size_align(&f.ty, depth + 1)
                    .map_err(|e| CtypesLayoutError {
                        message: format!("field `{}` of {}: {}", f.name, rec.name, e.message),
                        ctypes_raises: e.ctypes_raises,
                    })?;
            if let Some(bits) = f.bits {
                match &f.ty {
                    CType::Simple { simple } if bitfield_allowed(*simple) => {}
                    _ => {
                        return Err(CtypesLayoutError::raises(format!(
                            "field `{}` of {}: bit fields not allowed for this type",
                            f.name, rec.name
                        )))
                    }
                }
                if bits == 0 || u64::from(bits) > size * 8 {
                    return Err(CtypesLayoutError::raises(format!(
                        "field `{}` of {}: number of bits invalid for bit field",
                        f.name, rec.name
                    )));
                }
            }
            if rec.endian == Endian::Big && !swappable(&f.ty) {
                return Err(CtypesLayoutError::raises(format!(
                    "field `{}` of {}: this type does not support other endian",
                    f.name, rec.name
                )));
            }
            items.push(Item {
                name: &f.name,
                size,
                align,
                bits: f.bits,
            });
        }
        for a in &rec.anonymous {
            if !fields.iter().any(|f| &f.name == a) {
                return Err(CtypesLayoutError::raises(format!(
                    "'{a}' is specified in _anonymous_ but not in _fields_ of {}",
                    rec.name
                )));
            }
        }
        // Every supported target is little-endian: a big-endian class is the swapped one.
        let big_endian = rec.endian == Endian::Big;
        let mut notes = Vec::new();
        // `_pack_`, `_align_` and `_layout_` are read with `getattr`: a subclass inherits its base's.
        let inherited = |get: &dyn Fn(&CRecord) -> bool| -> &CRecord {
            let mut r = rec;
            for _ in 0..MAX_DEPTH {
                if get(r) {
                    break;
                }
                match r.base.and_then(|b| self.records.get(b)) {
                    Some(b) => r = b,
                    None => break,
                }
            }
            r
        };
        let rec_pack = inherited(&|r| r.pack.is_some()).pack;
        let rec_align = inherited(&|r| r.align.is_some()).align;
        let rec_layout = &inherited(&|r| r.layout.is_some()).layout;
        if rec_pack.is_some_and(|p| p > i32::MAX as u64) {
            return Err(CtypesLayoutError::raises(format!(
                "_pack_ of {} is too big",
                rec.name
            )));
        }
        if self.py.has_align_attr() && rec_align.is_some_and(|a| a > MAX_TYPE_SIZE) {
            return Err(CtypesLayoutError::unknown(format!(
                "_align_ of {} is too big to lay out",
                rec.name
            )));
        }
        let align_attr = match rec_align {
            Some(a) if self.py.has_align_attr() => a.max(1),
            Some(_) => {
                notes.push(LayoutNote::AlignIgnored);
                1
            }
            None => 1,
        };
        let pack = rec_pack.unwrap_or(0);
        if self.py.has_layout_attr() {
            let gcc = match rec_layout {
                None if self.target.is_windows() => false,
                None if pack != 0 => {
                    notes.push(LayoutNote::PackWithoutLayout);
                    false
                }
                None => true,
                Some(LayoutRule::Ms) => false,
                Some(LayoutRule::GccSysv) => true,
                Some(LayoutRule::Other(s)) => {
                    return Err(CtypesLayoutError::raises(format!(
                        "unknown _layout_: '{s}'"
                    )))
                }
            };
            if gcc && rec_pack.is_some() {
                return Err(CtypesLayoutError::raises(
                    "_pack_ is not compatible with gcc-sysv layout",
                ));
            }
            let (size, align, fields) = modern(
                &items,
                rec.is_union,
                gcc,
                pack,
                align_attr,
                base,
                big_endian,
            );
            Ok(CtypesLayout {
                size,
                align,
                fields,
                rules: if gcc { Rules::GccSysv } else { Rules::Ms },
                notes,
            })
        } else {
            if rec_layout.is_some() {
                notes.push(LayoutNote::LayoutIgnored);
            }
            let ms = self.target.is_windows();
            let (size, align, fields) =
                legacy(&items, rec.is_union, ms, pack, align_attr, base, big_endian);
            Ok(CtypesLayout {
                size,
                align,
                fields,
                rules: if ms {
                    Rules::LegacyWindows
                } else {
                    Rules::LegacyOther
                },
                notes,
            })
        }
    }
}

fn round_up(n: i64, m: i64) -> i64 {
    if m <= 0 {
        n
    } else {
        n.div_euclid(m) * m + if n.rem_euclid(m) == 0 { 0 } else { m }
    }
}

fn round_down(n: i64, m: i64) -> i64 {
    if m <= 0 {
        n
    } else {
        n.div_euclid(m) * m
    }
}

fn field(it: &Item<'_>, offset: i64, bit: Option<(i64, u32)>) -> CtypesField {
    let (size, bit_offset, bit_width) = match bit {
        Some((ofs, w)) => ((i64::from(w) << 16) + ofs, Some(ofs as u32), Some(w)),
        None => (it.size as i64, None, None),
    };
    CtypesField {
        name: it.name.to_string(),
        offset,
        size,
        type_size: it.size,
        bit_offset,
        bit_width,
    }
}

/// `PyCStructUnionType_update_stgdict` with `PyCField_FromDesc`, CPython 3.6–3.13.
fn legacy(
    items: &[Item<'_>],
    is_union: bool,
    ms: bool,
    pack: u64,
    align_attr: u64,
    base: Option<(u64, u64)>,
    big_endian: bool,
) -> (u64, u64, Vec<CtypesField>) {
    let pack = pack as i64;
    let (mut size, mut offset, mut align, mut total_align) = match base {
        Some((s, a)) => (s as i64, s as i64, a as i64, (a as i64).max(1)),
        None => (0, 0, 0, 1),
    };
    total_align = total_align.max(align_attr as i64);
    let mut union_size = 0i64;
    let mut field_size = 0i64;
    let mut bitofs = 0i64;
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        if is_union {
            size = 0;
            offset = 0;
            align = 0;
        }
        let dsize = it.size as i64;
        let bits = i64::from(it.bits.unwrap_or(0));
        enum Kind {
            New,
            No,
            Expand,
            Cont,
        }
        let kind = if bits > 0
            && field_size > 0
            && (if ms {
                dsize * 8 == field_size
            } else {
                dsize * 8 <= field_size
            })
            && bitofs + bits <= field_size
        {
            Kind::Cont
        } else if !ms
            && bits > 0
            && field_size > 0
            && dsize * 8 >= field_size
            && bitofs + bits <= dsize * 8
        {
            Kind::Expand
        } else if bits > 0 {
            bitofs = 0;
            field_size = dsize * 8;
            Kind::New
        } else {
            bitofs = 0;
            field_size = 0;
            Kind::No
        };
        let low = |field_size: i64, bitofs: i64| {
            if big_endian {
                field_size - bitofs - bits
            } else {
                bitofs
            }
        };
        let placed = match kind {
            Kind::New | Kind::No => {
                let bit = matches!(kind, Kind::New).then(|| {
                    let b = low(field_size, bitofs);
                    bitofs = bits;
                    b
                });
                let a = if pack != 0 {
                    pack.min(it.align as i64)
                } else {
                    it.align as i64
                };
                if a != 0 && offset % a != 0 {
                    let delta = a - offset % a;
                    size += delta;
                    offset += delta;
                }
                size += dsize;
                let at = offset;
                offset += dsize;
                align = a;
                (at, bit)
            }
            Kind::Expand => {
                offset += dsize - field_size / 8;
                size += dsize - field_size / 8;
                field_size = dsize * 8;
                let b = low(field_size, bitofs);
                bitofs += bits;
                (offset - dsize, Some(b))
            }
            Kind::Cont => {
                let b = low(field_size, bitofs);
                bitofs += bits;
                (offset - dsize, Some(b))
            }
        };
        out.push(field(it, placed.0, placed.1.map(|b| (b, bits as u32))));
        if is_union {
            union_size = union_size.max(size);
        }
        total_align = total_align.max(align);
    }
    if is_union {
        size = union_size;
    }
    let size = round_up(size, total_align);
    (size.max(0) as u64, total_align as u64, out)
}

/// `Lib/ctypes/_layout.py` `get_layout`, CPython 3.14+.
fn modern(
    items: &[Item<'_>],
    is_union: bool,
    gcc: bool,
    pack: u64,
    align_attr: u64,
    base: Option<(u64, u64)>,
    big_endian: bool,
) -> (u64, u64, Vec<CtypesField>) {
    let pack = pack as i64;
    let mut align = align_attr as i64;
    let mut last_field_bit_size = 0i64;
    let mut next_bit_offset = 0i64;
    let mut next_byte_offset = 0i64;
    let mut struct_size = 0i64;
    let mut union_size = 0i64;
    if let Some((s, a)) = base {
        align = align.max(a as i64);
        struct_size = s as i64;
        if gcc {
            next_bit_offset = struct_size * 8;
        } else {
            next_byte_offset = struct_size;
        }
    }
    let mut out = Vec::with_capacity(items.len());
    for it in items {
        if is_union {
            last_field_bit_size = 0;
            next_bit_offset = 0;
            next_byte_offset = 0;
        }
        let type_size = it.size as i64;
        let is_bitfield = it.bits.is_some();
        let bit_size = match it.bits {
            Some(b) => i64::from(b),
            None => type_size * 8,
        };
        let type_bit_size = type_size * 8;
        let mut type_align = (it.align as i64).max(1);
        let type_bit_align = type_align * 8;
        let offset;
        let mut bit_offset = 0i64;
        if gcc {
            let slot_start_bit = round_down(next_bit_offset, type_bit_align);
            let slot_end_bit = slot_start_bit + type_bit_size;
            let field_end_bit = next_bit_offset + bit_size;
            if field_end_bit > slot_end_bit {
                next_bit_offset = round_up(next_bit_offset, type_bit_align);
            }
            offset = round_down(next_bit_offset, type_bit_align) / 8;
            if is_bitfield {
                bit_offset = next_bit_offset - 8 * offset;
            }
            next_bit_offset += bit_size;
            struct_size = round_up(next_bit_offset, 8) / 8;
        } else {
            if pack != 0 {
                type_align = pack.min(type_align);
            }
            if 0 < next_bit_offset + bit_size || type_bit_size != last_field_bit_size {
                next_byte_offset = round_up(next_byte_offset, type_align);
                next_byte_offset += type_size;
                last_field_bit_size = type_bit_size;
                next_bit_offset = -last_field_bit_size;
            }
            offset = next_byte_offset - last_field_bit_size / 8;
            if is_bitfield {
                bit_offset = last_field_bit_size + next_bit_offset;
            }
            next_bit_offset += bit_size;
            struct_size = next_byte_offset;
        }
        if is_bitfield && big_endian {
            bit_offset = type_bit_size - bit_size - bit_offset;
        }
        out.push(field(
            it,
            offset,
            is_bitfield.then_some((bit_offset, bit_size as u32)),
        ));
        align = align.max(type_align);
        if is_union {
            union_size = union_size.max(struct_size);
        }
    }
    let total = if is_union { union_size } else { struct_size };
    let align = align.max(1);
    (round_up(total, align) as u64, align as u64, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::model::CField;
    use crate::decl::Loc;

    fn simple(s: Simple) -> CType {
        CType::Simple { simple: s }
    }

    fn rec(name: &str, fields: Vec<(&str, CType, Option<u32>)>) -> CRecord {
        CRecord {
            name: name.into(),
            is_union: false,
            endian: Endian::Native,
            fields: Some(
                fields
                    .into_iter()
                    .map(|(n, ty, bits)| CField {
                        name: n.into(),
                        ty,
                        bits,
                        loc: Loc::default(),
                    })
                    .collect(),
            ),
            pack: None,
            align: None,
            layout: None,
            anonymous: vec![],
            base: None,
            loc: Loc::default(),
        }
    }

    fn offs(l: &CtypesLayout) -> Vec<(i64, i64)> {
        l.fields.iter().map(|f| (f.offset, f.size)).collect()
    }

    // Values read from CPython 3.8–3.13 and the 3.14 rules on x86_64 Linux.
    #[test]
    fn legacy_bitfields_are_not_gccs() {
        let r = rec(
            "S",
            vec![
                ("a", simple(Simple::Char), None),
                ("b", simple(Simple::Int), Some(3)),
                ("c", simple(Simple::Short), Some(9)),
            ],
        );
        let old = layout(
            std::slice::from_ref(&r),
            &[],
            0,
            Target::LinuxX86_64,
            PyVersion::new(11),
        )
        .unwrap();
        assert_eq!((old.size, old.align), (8, 4));
        assert_eq!(offs(&old), vec![(0, 1), (4, 3 << 16), (6, (9 << 16) + 3)]);
        let new = layout(&[r], &[], 0, Target::LinuxX86_64, PyVersion::new(14)).unwrap();
        assert_eq!((new.size, new.align), (4, 4));
        assert_eq!(offs(&new), vec![(0, 1), (0, (3 << 16) + 8), (2, 9 << 16)]);
    }

    #[test]
    fn legacy_union_bitfields_go_negative() {
        let mut r = rec(
            "U",
            vec![
                ("a", simple(Simple::Int), Some(3)),
                ("b", simple(Simple::Int), Some(5)),
                ("c", simple(Simple::Short), None),
            ],
        );
        r.is_union = true;
        let l = layout(&[r], &[], 0, Target::LinuxX86_64, PyVersion::new(12)).unwrap();
        assert_eq!((l.size, l.align), (4, 4));
        assert_eq!(offs(&l), vec![(0, 3 << 16), (-4, (5 << 16) + 3), (0, 2)]);
    }

    #[test]
    fn pack_and_layout_rules_of_3_14() {
        let mut r = rec(
            "P",
            vec![
                ("a", simple(Simple::Char), None),
                ("b", simple(Simple::Int), None),
            ],
        );
        r.pack = Some(1);
        let l = layout(
            std::slice::from_ref(&r),
            &[],
            0,
            Target::LinuxX86_64,
            PyVersion::new(14),
        )
        .unwrap();
        assert_eq!(l.size, 5);
        assert_eq!(l.notes, vec![LayoutNote::PackWithoutLayout]);
        r.layout = Some(LayoutRule::GccSysv);
        let e = layout(&[r], &[], 0, Target::LinuxX86_64, PyVersion::new(14)).unwrap_err();
        assert!(e.ctypes_raises, "{e}");
    }

    #[test]
    fn align_attr_from_3_13() {
        let mut r = rec("A", vec![("x", simple(Simple::Int), None)]);
        r.align = Some(16);
        let l = layout(
            std::slice::from_ref(&r),
            &[],
            0,
            Target::LinuxX86_64,
            PyVersion::new(13),
        )
        .unwrap();
        assert_eq!((l.size, l.align), (16, 16));
        let l = layout(&[r], &[], 0, Target::LinuxX86_64, PyVersion::new(12)).unwrap();
        assert_eq!((l.size, l.align), (4, 4));
        assert_eq!(l.notes, vec![LayoutNote::AlignIgnored]);
    }

    #[test]
    fn hostile_models_give_errors_not_panics() {
        let huge = CType::Array {
            elem: Box::new(simple(Simple::LongDouble)),
            len: u64::MAX / 3,
        };
        let big = CType::Array {
            elem: Box::new(simple(Simple::Char)),
            len: 1 << 40,
        };
        let mut recs = vec![
            rec("Huge", vec![("a", huge, None)]),
            rec("Big", vec![("a", big.clone(), None), ("b", big, None)]),
            rec(
                "Many",
                (0..64)
                    .map(|_| ("x", CType::Record { id: 1 }, None))
                    .collect(),
            ),
            rec(
                "Dangling",
                vec![
                    ("r", CType::Record { id: 999 }, None),
                    ("f", CType::FuncPtr { id: 7 }, None),
                ],
            ),
            rec("A", vec![("b", CType::Record { id: 5 }, None)]),
            rec("B", vec![("a", CType::Record { id: 4 }, None)]),
            rec("Wide", vec![("w", simple(Simple::Int), Some(u32::MAX))]),
            rec("Packed", vec![("w", simple(Simple::Int), None)]),
            rec("Aligned", vec![("w", simple(Simple::Int), None)]),
        ];
        recs[7].pack = Some(u64::MAX);
        recs[8].align = Some(u64::MAX);
        recs[4].base = Some(5);
        recs[5].base = Some(4);
        recs[6].pack = Some(u64::MAX);
        recs[6].align = Some(u64::MAX);
        for t in Target::ALL {
            for py in [6, 11, 13, 14, 99] {
                for (id, r) in layouts(&recs, &[], t, PyVersion::new(py))
                    .iter()
                    .enumerate()
                {
                    if id == 8 && py < 13 {
                        assert!(r.is_ok(), "`_align_` is ignored before 3.13: {r:?}");
                    } else if id != 1 {
                        assert!(r.is_err(), "{}: {r:?}", recs[id].name);
                    }
                }
            }
        }
    }

    #[test]
    fn data_models_come_from_the_abi_engine() {
        assert_eq!(
            simple_size_align(Simple::Long, Target::WindowsX64Msvc),
            Some((4, 4))
        );
        assert_eq!(
            simple_size_align(Simple::Long, Target::LinuxX86_64),
            Some((8, 8))
        );
        assert_eq!(
            simple_size_align(Simple::Double, Target::LinuxI386),
            Some((8, 4))
        );
        assert_eq!(
            simple_size_align(Simple::WChar, Target::MingwX64),
            Some((2, 2))
        );
    }

    #[test]
    fn refusals_name_the_field() {
        let r = rec("B", vec![("p", simple(Simple::CharP), Some(3))]);
        let e = layout(&[r], &[], 0, Target::LinuxX86_64, PyVersion::DEFAULT).unwrap_err();
        assert!(e.message.contains("`p`") && e.ctypes_raises, "{e}");
        let r = rec("S", vec![("s", CType::Record { id: 0 }, None)]);
        assert!(layout(&[r], &[], 0, Target::LinuxX86_64, PyVersion::DEFAULT).is_err());
        assert_eq!(PyVersion::parse("3.11.4"), Some(PyVersion::new(11)));
        assert_eq!(PyVersion::parse("314"), Some(PyVersion::new(14)));
        assert_eq!(PyVersion::parse("2.7"), None);
    }
}
