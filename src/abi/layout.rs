//! Type sizes and record layout. Three algorithms, as the compilers implement them:
//! - Itanium/System V (GCC, Clang on Linux and macOS): `itanium_layout`;
//! - Microsoft (MSVC, and Clang targeting `*-windows-msvc`): `msvc_layout`;
//! - GCC's `ms_struct` (MinGW's default `-mms-bitfields`): `gcc_ms_layout`, a transcription of `place_field`.

use std::cell::RefCell;
use std::collections::HashMap;

use super::target::long_double;
use super::{FieldLayout, Layout, LayoutError, RecordLayout, Target};
use crate::decl::c_spelling::{record_name, type_name};
use crate::decl::{Prim, Record, RecordKind, Spec, Type};

/// Size and alignment of `ty` on `target`.
pub fn type_layout(spec: &Spec, ty: &Type, target: Target) -> Result<Layout, LayoutError> {
    let cx = Cx::new(spec, target);
    let i = cx.info(ty, 0)?;
    if i.flexible {
        return Err(LayoutError::new(format!(
            "`{}` is an array of unknown size (incomplete type)",
            type_name(spec, ty)
        )));
    }
    Ok(Layout {
        size: i.size,
        align: i.align,
    })
}

/// The layout of `spec.records[id]` on `target`.
pub fn record_layout(spec: &Spec, id: usize, target: Target) -> Result<RecordLayout, LayoutError> {
    let cx = Cx::new(spec, target);
    cx.record(id, 0).map(|r| r.layout)
}

/// The layouts of all records of `spec` on `target` (by record id), sharing the work between records: much
/// faster than [`record_layout`] per record on headers with thousands of records (windows.h).
pub fn record_layouts(spec: &Spec, target: Target) -> Vec<Result<RecordLayout, LayoutError>> {
    let cx = Cx::new(spec, target);
    (0..spec.records.len())
        .map(|id| cx.record(id, 0).map(|r| r.layout))
        .collect()
}

const MAX_DEPTH: u32 = 64;

/// The [`Prim`] spelled `name` the way [`type_name`] prints it (for `_Complex <prim>`).
fn prim_named(name: &str) -> Option<Prim> {
    use Prim::*;
    [
        Bool, Char, SChar, UChar, Short, UShort, Int, UInt, Long, ULong, LongLong, ULongLong,
        Int128, UInt128, Float, Double, LongDouble,
    ]
    .into_iter()
    .find(|p| crate::decl::c_spelling::prim_name(*p) == name)
}

struct Cx<'a> {
    spec: &'a Spec,
    /// Typedef index by name (the first definition wins, as in [`Spec::typedef`]), built once a few linear
    /// look-ups have been made (a single small layout never pays for it); with the look-up count.
    typedefs: RefCell<(u32, Option<HashMap<&'a str, usize>>)>,
    t: Target,
    cache: RefCell<HashMap<usize, Computed>>,
}

#[derive(Clone)]
struct Computed {
    layout: RecordLayout,
    /// MSVC "required alignment" (from `__declspec(align)` on the record, its members, or nested records).
    required: u64,
}

/// What the layout rules need to know about a member's type.
#[derive(Debug, Clone, Copy)]
struct Info {
    size: u64,
    align: u64,
    /// The (array base) element type is a builtin arithmetic type (not a pointer, enum or record).
    builtin: bool,
    /// Size of the array base element type (the type's own size when not an array).
    elem_size: u64,
    /// An integer type usable as a bitfield's declared type.
    integral: bool,
    /// The array base element type is this record.
    record: Option<usize>,
    /// An array of unknown length (a flexible array member if last in a struct): size 0.
    flexible: bool,
}

impl Info {
    fn scalar(size: u64, align: u64, builtin: bool, integral: bool) -> Info {
        Info {
            size,
            align,
            builtin,
            integral,
            elem_size: size,
            record: None,
            flexible: false,
        }
    }
}

impl<'a> Cx<'a> {
    fn new(spec: &'a Spec, t: Target) -> Self {
        Cx {
            spec,
            typedefs: RefCell::new((0, None)),
            t,
            cache: RefCell::new(HashMap::new()),
        }
    }

    fn typedef(&self, name: &str) -> Option<&'a crate::decl::Typedef> {
        let spec = self.spec;
        let mut ix = self.typedefs.borrow_mut();
        if ix.1.is_none() {
            ix.0 += 1;
            if ix.0 <= 16 || spec.typedefs.len() < 64 {
                return spec.typedef(name);
            }
            let mut m = HashMap::with_capacity(spec.typedefs.len());
            for (i, td) in spec.typedefs.iter().enumerate() {
                m.entry(td.name.as_str()).or_insert(i);
            }
            ix.1 = Some(m);
        }
        ix.1.as_ref()
            .and_then(|m| m.get(name))
            .map(|i| &spec.typedefs[*i])
    }

    fn prim(&self, p: Prim) -> Result<Info, LayoutError> {
        let t = self.t;
        let ptr = t.pointer_size();
        // 8-byte scalars are 4-aligned inside structs on i386 SysV only.
        let a8 = if t == Target::LinuxI386 { 4 } else { 8 };
        let int = |s: u64, a: u64| Ok(Info::scalar(s, a, true, true));
        let flt = |s: u64, a: u64| Ok(Info::scalar(s, a, true, false));
        match p {
            Prim::Void => Err(LayoutError::new("`void` has no size")),
            Prim::Bool | Prim::Char | Prim::SChar | Prim::UChar => int(1, 1),
            Prim::Short | Prim::UShort | Prim::Char16 => int(2, 2),
            Prim::Int | Prim::UInt | Prim::Char32 => int(4, 4),
            Prim::Long | Prim::ULong => {
                if t.is_lp64() {
                    int(8, 8)
                } else {
                    int(4, 4)
                }
            }
            Prim::LongLong | Prim::ULongLong => int(8, a8),
            Prim::Int128 | Prim::UInt128 => {
                if ptr == 8 {
                    int(16, 16)
                } else {
                    Err(LayoutError::new(format!(
                        "`__int128` is not supported on {t} (32-bit)"
                    )))
                }
            }
            Prim::Float => flt(4, 4),
            Prim::Double => flt(8, a8),
            Prim::LongDouble => {
                let (s, a) = long_double(t);
                flt(s, a)
            }
            Prim::WChar => {
                if t.is_windows() {
                    int(2, 2)
                } else {
                    int(4, 4)
                }
            }
        }
    }

    /// Standard typedef names the ABI knows without a header.
    fn standard_typedef(&self, name: &str) -> Option<Result<Info, LayoutError>> {
        let t = self.t;
        let ptr_int = if t.is_lp64() {
            Prim::Long
        } else if t.is_64bit() {
            Prim::LongLong
        } else {
            Prim::Int
        };
        let i64p = if t.is_lp64() {
            Prim::Long
        } else {
            Prim::LongLong
        };
        if let Some(r) = self.extended_float(name) {
            return Some(r);
        }
        if let Some(elem) = name.strip_prefix("_Complex ") {
            // A complex type is two elements: size doubled, the element's alignment.
            let e = match self.extended_float(elem) {
                Some(r) => r,
                None => self.prim(prim_named(elem)?),
            };
            return Some(e.map(|e| Info::scalar(e.size * 2, e.align, true, false)));
        }
        let p = match name {
            "size_t" | "ssize_t" | "ptrdiff_t" | "intptr_t" | "uintptr_t" | "rsize_t" => ptr_int,
            "int8_t" | "uint8_t" | "int_least8_t" | "uint_least8_t" | "int_fast8_t" | "uint_fast8_t" => Prim::SChar,
            "int16_t" | "uint16_t" | "int_least16_t" | "uint_least16_t" => Prim::Short,
            "int32_t" | "uint32_t" | "int_least32_t" | "uint_least32_t" => Prim::Int,
            "int64_t" | "uint64_t" | "int_least64_t" | "uint_least64_t" | "intmax_t" | "uintmax_t" => i64p,
            "int_fast16_t" | "uint_fast16_t" | "int_fast32_t" | "uint_fast32_t" => {
                let is32 = name.contains("32");
                match t {
                    // glibc: `long` on 64-bit, `int` on 32-bit.
                    Target::LinuxX86_64 | Target::LinuxAarch64 => Prim::Long,
                    Target::LinuxI386 => Prim::Int,
                    // Apple and MinGW-w64: exact-width types.
                    Target::MacosX86_64 | Target::MacosArm64 | Target::MingwX64 | Target::MingwX86 => {
                        if is32 {
                            Prim::Int
                        } else {
                            Prim::Short
                        }
                    }
                    // MSVC <stdint.h>: `int` for both.
                    Target::WindowsX64Msvc | Target::WindowsX86Msvc => Prim::Int,
                }
            }
            "int_fast64_t" | "uint_fast64_t" => i64p,
            "wchar_t" => Prim::WChar,
            "wint_t" => {
                if t.is_windows() {
                    Prim::UShort
                } else {
                    Prim::UInt
                }
            }
            "char16_t" => Prim::Char16,
            "char32_t" => Prim::Char32,
            "bool" | "_Bool" => Prim::Bool,
            "off_t" | "_off_t" => {
                if t.is_windows() {
                    Prim::Long
                } else if t.is_apple() {
                    Prim::LongLong
                } else {
                    Prim::Long
                }
            }
            "off64_t" | "_off64_t" => Prim::LongLong,
            "time_t" => {
                if t.is_windows() {
                    Prim::LongLong
                } else {
                    Prim::Long
                }
            }
            "pid_t" | "uid_t" | "gid_t" => Prim::Int,
            "float_t" => Prim::Float,
            "double_t" => Prim::Double,
            "va_list" | "__builtin_va_list" | "__gnuc_va_list" => {
                return Some(Ok(match t {
                    Target::LinuxX86_64 | Target::MacosX86_64 => Info::scalar(24, 8, false, false),
                    Target::LinuxAarch64 => Info::scalar(32, 8, false, false),
                    _ => Info::scalar(t.pointer_size(), t.pointer_size(), false, false),
                }));
            }
            "FILE" | "DIR" | "fpos_t" | "jmp_buf" | "pthread_t" | "pthread_mutex_t" => {
                return Some(Err(LayoutError::new(format!(
                    "`{name}` is an opaque or platform-specific library type; its layout is not known to the ABI engine"
                ))))
            }
            _ => return None,
        };
        Some(self.prim(p))
    }

    /// `_Float16`, `__float128`, `_Float128`, `__bf16`, … as the target's compiler (GCC on Linux and MinGW,
    /// Clang on macOS, MSVC) lays them out; an error naming the target where the compiler lacks the type.
    fn extended_float(&self, name: &str) -> Option<Result<Info, LayoutError>> {
        let t = self.t;
        let x86 = !t.is_aarch64();
        let lacks = || {
            Some(Err(LayoutError::new(format!(
                "`{name}` is not supported by the compiler of {t}"
            ))))
        };
        let flt = |s: u64, a: u64| Some(Ok(Info::scalar(s, a, true, false)));
        match name {
            "_Float32" => Some(self.prim(Prim::Float)),
            "_Float64" | "_Float32x" => Some(self.prim(Prim::Double)),
            "_Float16" | "__bf16" | "__fp16" if t.is_msvc() => lacks(),
            "_Float16" | "__bf16" | "__fp16" => flt(2, 2),
            // GCC: x86 (i386 too, 16-aligned) and MinGW; Clang also on x86_64 Darwin. Not on AArch64.
            "__float128" if x86 && !t.is_msvc() && t != Target::WindowsX86Msvc => flt(16, 16),
            "_Float128" if t.is_linux() || t.is_mingw() => flt(16, 16),
            "_Float64x" | "__float80" if x86 && !t.is_msvc() && !t.is_apple() => {
                let (s, a) = long_double(t);
                flt(s, a)
            }
            "_Float64x" if t == Target::LinuxAarch64 => Some(self.prim(Prim::LongDouble)),
            "__float128" | "_Float128" | "_Float64x" | "__float80" | "_Float128x" | "__ibm128" => {
                lacks()
            }
            _ => None,
        }
    }

    fn info(&self, ty: &Type, depth: u32) -> Result<Info, LayoutError> {
        if depth > MAX_DEPTH {
            return Err(LayoutError::new(format!(
                "`{}` nests too deeply (recursive type?)",
                type_name(self.spec, ty)
            )));
        }
        match ty {
            Type::Prim { prim } => self.prim(*prim),
            Type::Named { name } => {
                if let Some(td) = self.typedef(name) {
                    if let Some(u) = &td.cffi_unknown {
                        return Err(LayoutError::new(format!(
                            "typedef `{name}` has an unknown layout (cffi `{u}`): only the compiled library knows it"
                        )));
                    }
                    let mut i = self.info(&td.ty.ty, depth + 1).map_err(|e| {
                        if e.message.contains(&format!("`{name}`")) {
                            e
                        } else {
                            LayoutError::new(format!("typedef `{name}`: {}", e.message))
                        }
                    })?;
                    if let Some(a) = td.aligned.filter(|a| *a > 0) {
                        i.align = u64::from(a);
                    }
                    return Ok(i);
                }
                match self.standard_typedef(name) {
                    Some(r) => r,
                    None => Err(LayoutError::new(format!(
                        "unknown type name `{name}` (no typedef in the spec)"
                    ))),
                }
            }
            Type::Pointer { .. } => {
                let p = self.t.pointer_size();
                Ok(Info::scalar(p, p, false, false))
            }
            Type::Array { elem, len } => {
                let e = self.info(&elem.ty, depth + 1)?;
                if e.flexible {
                    return Err(LayoutError::new(format!(
                        "`{}`: array element has unknown size",
                        type_name(self.spec, ty)
                    )));
                }
                match len {
                    Some(n) => Ok(Info {
                        size: e.size * n,
                        integral: false,
                        ..e
                    }),
                    None => Ok(Info {
                        size: 0,
                        integral: false,
                        flexible: true,
                        ..e
                    }),
                }
            }
            Type::Function { .. } => Err(LayoutError::new(format!(
                "`{}` is a function type, which has no size",
                type_name(self.spec, ty)
            ))),
            Type::Record { id } => {
                let c = self.record(*id, depth + 1)?;
                Ok(Info {
                    size: c.layout.size,
                    align: c.layout.align,
                    builtin: false,
                    integral: false,
                    elem_size: c.layout.size,
                    record: Some(*id),
                    flexible: false,
                })
            }
            Type::Enum { id } => {
                let (s, a) = self.enum_layout(*id)?;
                Ok(Info::scalar(s, a, false, true))
            }
        }
    }

    fn enum_layout(&self, id: usize) -> Result<(u64, u64), LayoutError> {
        let e =
            self.spec.enums.get(id).ok_or_else(|| {
                LayoutError::new(format!("enum #{id} does not exist in the spec"))
            })?;
        let name = || match &e.tag {
            Some(t) => format!("enum {t}"),
            None => "anonymous enum".to_string(),
        };
        if !e.complete {
            return Err(LayoutError::new(format!(
                "`{}` is incomplete (declared but never defined)",
                name()
            )));
        }
        if self.t.is_msvc() {
            // MSVC: the underlying type of a C enum is always `int`.
            return Ok((4, 4));
        }
        let vals: Vec<i128> = e.variants.iter().filter_map(|(_, v)| *v).collect();
        let min = vals.iter().copied().min().unwrap_or(0);
        let max = vals.iter().copied().max().unwrap_or(0);
        let fits32 = (min >= i32::MIN as i128 && max <= i32::MAX as i128)
            || (min >= 0 && max <= u32::MAX as i128);
        if fits32 {
            return Ok((4, 4));
        }
        let fits64 = (min >= i64::MIN as i128 && max <= i64::MAX as i128)
            || (min >= 0 && max <= u64::MAX as i128);
        if !fits64 {
            return Err(LayoutError::new(format!(
                "`{}` has values that do not fit in 64 bits",
                name()
            )));
        }
        let i = self.prim(Prim::LongLong)?;
        Ok((i.size, i.align))
    }

    fn record(&self, id: usize, depth: u32) -> Result<Computed, LayoutError> {
        if let Some(c) = self.cache.borrow().get(&id) {
            return Ok(c.clone());
        }
        if depth > MAX_DEPTH {
            return Err(LayoutError::new(format!(
                "{} nests too deeply (does it contain itself?)",
                record_name(self.spec, id)
            )));
        }
        let r =
            self.spec.records.get(id).ok_or_else(|| {
                LayoutError::new(format!("record #{id} does not exist in the spec"))
            })?;
        if !r.complete {
            return Err(LayoutError::new(format!(
                "`{}` is incomplete (declared but never defined)",
                record_name(self.spec, id)
            )));
        }
        if r.partial {
            return Err(LayoutError::new(format!(
                "`{}` is declared with `...` (cffi partial struct): its real layout is only known to the compiler",
                record_name(self.spec, id)
            )));
        }
        let c = if self.t.is_msvc() {
            self.msvc_layout(id, r, depth)?
        } else {
            self.itanium_layout(id, r, depth)?
        };
        self.cache.borrow_mut().insert(id, c.clone());
        Ok(c)
    }

    fn field_info(
        &self,
        id: usize,
        idx: usize,
        r: &Record,
        depth: u32,
    ) -> Result<Info, LayoutError> {
        let f = &r.fields[idx];
        let i = self.info(&f.ty.ty, depth + 1).map_err(|e| {
            LayoutError::new(format!(
                "{}, member `{}`: {}",
                record_name(self.spec, id),
                f.name.as_deref().unwrap_or("<anonymous>"),
                e.message
            ))
        })?;
        if i.flexible && !(r.kind == RecordKind::Struct && idx + 1 == r.fields.len() && idx > 0) {
            return Err(LayoutError::new(format!(
                "{}, member `{}`: an array of unknown size is only allowed as the last member of a struct",
                record_name(self.spec, id),
                f.name.as_deref().unwrap_or("<anonymous>")
            )));
        }
        if let Some(w) = f.bits {
            if !i.integral {
                return Err(LayoutError::new(format!(
                    "{}, bitfield `{}`: declared type `{}` is not an integer type",
                    record_name(self.spec, id),
                    f.name.as_deref().unwrap_or("<unnamed>"),
                    type_name(self.spec, &f.ty.ty)
                )));
            }
            if u64::from(w) > i.size * 8 {
                return Err(LayoutError::new(format!(
                    "{}, bitfield `{}`: width {w} exceeds its type `{}` ({} bits)",
                    record_name(self.spec, id),
                    f.name.as_deref().unwrap_or("<unnamed>"),
                    type_name(self.spec, &f.ty.ty),
                    i.size * 8
                )));
            }
        }
        Ok(i)
    }

    fn nested(
        &self,
        r: &Record,
        idx: usize,
        depth: u32,
    ) -> Result<Option<Box<RecordLayout>>, LayoutError> {
        let f = &r.fields[idx];
        if f.name.is_some() || f.bits.is_some() {
            return Ok(None);
        }
        match &f.ty.ty {
            Type::Record { id } => Ok(Some(Box::new(self.record(*id, depth + 1)?.layout))),
            _ => Ok(None),
        }
    }

    /// Itanium / System V layout (GCC and Clang); GCC's `ms_struct` targets go to `gcc_ms_layout`.
    fn itanium_layout(&self, id: usize, r: &Record, depth: u32) -> Result<Computed, LayoutError> {
        if self.t.ms_bitfields() {
            return self.gcc_ms_layout(id, r, depth);
        }
        let is_union = r.kind == RecordKind::Union;
        let max_field_align: u64 = r.pack.map(u64::from).unwrap_or(0); // bytes; 0 = none
        let mut align: u64 = 1;
        if let Some(a) = r.aligned {
            align = align.max(u64::from(a));
        }
        let mut data_bits: u64 = 0; // always a multiple of 8
        let mut size_bits: u64 = 0;
        let mut unfilled: u64 = 0;
        let mut fields = Vec::with_capacity(r.fields.len());

        for (idx, f) in r.fields.iter().enumerate() {
            let info = self.field_info(id, idx, r, depth)?;
            let packed = r.packed || f.packed;
            let explicit = f.aligned.map(u64::from).unwrap_or(0);
            if let Some(w) = f.bits {
                let w = u64::from(w);
                let storage = info.size * 8;
                let mut field_align = info.align * 8;
                let mut offset = if is_union { 0 } else { data_bits - unfilled };
                let mut unpacked_align = field_align;
                if packed && w != 0 {
                    // A packed bitfield goes at the next free bit.
                    field_align = 1;
                }
                if explicit != 0 {
                    field_align = field_align.max(explicit * 8);
                    unpacked_align = unpacked_align.max(explicit * 8);
                }
                if max_field_align != 0 && w != 0 {
                    unpacked_align = unpacked_align.min(max_field_align * 8);
                    if packed {
                        field_align = unpacked_align;
                    } else {
                        field_align = field_align.min(max_field_align * 8);
                    }
                }
                let allow_padding = max_field_align == 0;
                if w == 0 || (allow_padding && (offset & (field_align - 1)) + w > storage) {
                    offset = align_to(offset, field_align);
                } else if explicit != 0 && (max_field_align == 0 || explicit <= max_field_align) {
                    offset = align_to(offset, explicit * 8);
                }
                if !self.t.unnamed_bitfield_affects_align() && f.name.is_none() {
                    field_align = 8;
                }
                if is_union {
                    data_bits = data_bits.max(align_to(w, 8));
                } else {
                    let end = offset + w;
                    data_bits = align_to(end, 8);
                    unfilled = data_bits - end;
                }
                size_bits = size_bits.max(data_bits);
                align = align.max(field_align / 8);
                fields.push(FieldLayout {
                    name: f.name.clone(),
                    offset: offset / 8,
                    size: info.size,
                    align: (field_align / 8).max(1),
                    bit_offset: Some(offset),
                    bit_width: Some(w as u32),
                    nested: None,
                });
            } else {
                unfilled = 0;
                let type_align = info.align;
                let mut packed_align = 1u64.max(explicit);
                let mut unpacked_align = type_align.max(explicit);
                if max_field_align != 0 {
                    packed_align = packed_align.min(max_field_align);
                    unpacked_align = unpacked_align.min(max_field_align);
                }
                let field_align = if packed { packed_align } else { unpacked_align };
                let offset = if is_union {
                    0
                } else {
                    align_to(data_bits / 8, field_align)
                };
                let end = offset + info.size;
                data_bits = if is_union {
                    data_bits.max(end * 8)
                } else {
                    end * 8
                };
                size_bits = size_bits.max(data_bits);
                align = align.max(field_align);
                fields.push(FieldLayout {
                    name: f.name.clone(),
                    offset,
                    size: info.size,
                    align: field_align,
                    bit_offset: None,
                    bit_width: None,
                    nested: self.nested(r, idx, depth)?,
                });
            }
        }
        let size = align_to(align_to(size_bits, 8) / 8, align);
        Ok(Computed {
            layout: finish(size, align, fields, is_union),
            required: 0,
        })
    }

    /// GCC's `ms_struct` layout (MinGW's default `-mms-bitfields`): a transcription of `place_field`,
    /// `place_union_field`, `update_alignment_for_field` and `layout_decl` (gcc/stor-layout.cc) for a target
    /// where `targetm.ms_bitfield_layout_p` holds. All quantities in bits. Quirks kept on purpose:
    /// - a `:0` bitfield has no alignment of its own: it ends the run (using up the rest of the unit) and only
    ///   realigns when its type size differs from the run's, but it still raises the record's alignment when it
    ///   follows a non-zero bitfield;
    /// - `realign_p` is decided on the position *before* the rest of the previous unit is used up;
    /// - a new unit of the same type size as the run in progress is not realigned to its type (only to the
    ///   field's `DECL_ALIGN`), so a packed run runs on unaligned;
    /// - a bitfield whose width is 8/16/32/64 gets that mode's alignment as `DECL_ALIGN` when the position
    ///   already has it (and it is not packed);
    /// - a packed non-zero bitfield adds nothing to the record's alignment, not even its `aligned` attribute.
    fn gcc_ms_layout(&self, id: usize, r: &Record, depth: u32) -> Result<Computed, LayoutError> {
        #[derive(Clone, Copy)]
        struct Prev {
            width: u64,
            type_size: u64,
        }
        let is_union = r.kind == RecordKind::Union;
        let mfa: u64 = r.pack.map(|p| u64::from(p) * 8).unwrap_or(0);
        let cap = |a: u64| if mfa != 0 { a.min(mfa) } else { a };
        let mut record_align: u64 = 8u64.max(r.aligned.map(|a| u64::from(a) * 8).unwrap_or(0));
        let mut pos: u64 = 0;
        let mut union_size: u64 = 0; // bytes
        let mut prev: Option<Prev> = None;
        let mut remaining: u64 = 0;
        let n = r.fields.len();
        let mut fields = Vec::with_capacity(n);
        let max_mode = if self.t.is_64bit() { 128 } else { 64 };

        for (idx, f) in r.fields.iter().enumerate() {
            let info = self.field_info(id, idx, r, depth)?;
            let packed = r.packed || f.packed;
            let user = f.aligned.map(|a| u64::from(a) * 8).unwrap_or(0);
            let type_size = info.size * 8;
            let known_align = if is_union || pos == 0 {
                0
            } else {
                pos & pos.wrapping_neg()
            };
            // layout_decl: DECL_ALIGN. update_alignment_for_field: the record's alignment.
            let (desired, type_align, decl_size) = match f.bits {
                Some(w) => {
                    let w = u64::from(w);
                    let mut a = user.max(1);
                    if w != 0
                        && w.is_power_of_two()
                        && (8..=max_mode).contains(&w)
                        && !(w > 8 && packed)
                        && (known_align == 0 || known_align >= w)
                    {
                        a = a.max(w);
                    }
                    if packed && user == 0 {
                        a = a.min(8);
                    }
                    let a = cap(a);
                    let contributes = if w != 0 {
                        !packed
                    } else {
                        matches!(prev, Some(p) if p.width != 0)
                    };
                    if contributes {
                        record_align = record_align.max(cap((info.align * 8).max(a)));
                    }
                    let ta = if packed { 8 } else { cap(info.align * 8) };
                    (a, ta, w)
                }
                None => {
                    let mut type_align = info.align;
                    if info.builtin
                        && info.elem_size.is_power_of_two()
                        && info.elem_size > type_align
                    {
                        type_align = info.elem_size;
                    }
                    let explicit = user / 8;
                    let mut packed_align = 1u64.max(explicit);
                    let mut unpacked_align = type_align.max(explicit);
                    if mfa != 0 {
                        packed_align = packed_align.min(mfa / 8);
                        unpacked_align = unpacked_align.min(mfa / 8);
                    }
                    let a = if packed { packed_align } else { unpacked_align } * 8;
                    record_align = record_align.max(a);
                    let ta = if packed { 8 } else { cap(type_align * 8) };
                    (a, ta, type_size)
                }
            };
            let is_bf = f.bits.is_some();
            let w = f.bits.map(u64::from).unwrap_or(0);

            if is_union {
                let bytes = if is_bf { w.div_ceil(8) } else { info.size };
                union_size = union_size.max(bytes);
                fields.push(FieldLayout {
                    name: f.name.clone(),
                    offset: 0,
                    size: info.size,
                    align: (desired / 8).max(1),
                    bit_offset: is_bf.then_some(0),
                    bit_width: f.bits,
                    nested: if is_bf {
                        None
                    } else {
                        self.nested(r, idx, depth)?
                    },
                });
                continue;
            }

            let known = if known_align == 0 {
                u64::MAX
            } else {
                known_align
            };
            if known < desired && prev.is_none() {
                pos = align_to(pos, desired);
            }
            let mut prev_saved = prev;
            if let Some(p) = prev {
                let mut realign = known < desired;
                if is_bf && w != 0 && p.width != 0 && type_size == p.type_size {
                    if remaining < w {
                        pos += remaining;
                        prev = Some(Prev {
                            width: w,
                            type_size,
                        });
                        remaining = type_size.saturating_sub(w);
                    } else {
                        remaining -= w;
                        realign = false;
                    }
                } else {
                    if p.width != 0 {
                        pos += remaining;
                    } else {
                        prev_saved = None;
                    }
                    if !is_bf || w == 0 {
                        prev = None;
                    }
                }
                if realign {
                    pos = align_to(pos, desired);
                }
            }
            let new_run = !is_bf
                || match prev_saved {
                    Some(p) => type_size != p.type_size,
                    None => w != 0,
                };
            if new_run {
                if !info.flexible {
                    remaining = type_size.saturating_sub(decl_size);
                }
                pos = align_to(pos, type_align);
                prev = None;
            }
            let offset = pos;
            if prev.is_none() && is_bf {
                prev = Some(Prev {
                    width: w,
                    type_size,
                });
            }
            if !info.flexible {
                pos += decl_size;
            }
            if is_bf && w != 0 && idx + 1 == n {
                pos += remaining;
            }
            fields.push(FieldLayout {
                name: f.name.clone(),
                offset: offset / 8,
                size: info.size,
                align: if is_bf {
                    (type_align.max(desired) / 8).max(1)
                } else {
                    desired / 8
                },
                bit_offset: is_bf.then_some(offset),
                bit_width: f.bits,
                nested: if is_bf {
                    None
                } else {
                    self.nested(r, idx, depth)?
                },
            });
        }
        let align = record_align / 8;
        let unpadded = if is_union {
            union_size
        } else {
            pos.div_ceil(8)
        };
        let size = align_to(unpadded, align);
        Ok(Computed {
            layout: finish(size, align, fields, is_union),
            required: 0,
        })
    }

    /// The Microsoft layout, as Clang's `MicrosoftRecordLayoutBuilder` implements it for C.
    fn msvc_layout(&self, id: usize, r: &Record, depth: u32) -> Result<Computed, LayoutError> {
        let is_union = r.kind == RecordKind::Union;
        let ptr_bits = self.t.pointer_size() * 8;
        let mut max_field_align: u64 = 0;
        if let Some(p) = r.pack {
            // MSVC ignores `#pragma pack(n)` with n larger than the pointer size.
            if u64::from(p) * 8 <= ptr_bits {
                max_field_align = u64::from(p);
            }
        }
        if r.packed {
            max_field_align = 1;
        }
        let mut size: u64 = 0;
        let mut align: u64 = 1;
        let mut required: u64 = if self.t.is_64bit() { 1 } else { 0 };
        let mut last_nonzero_bitfield = false;
        let mut cur_bf_size: u64 = 0;
        let mut remaining: u64 = 0;
        let mut fields = Vec::with_capacity(r.fields.len());

        for (idx, f) in r.fields.iter().enumerate() {
            let info = self.field_info(id, idx, r, depth)?;
            // getAdjustedElementInfo(FieldDecl)
            let mut el_align = info.align;
            let mut field_required = f.aligned.map(u64::from).unwrap_or(0);
            if let Some(rid) = info.record {
                if self.spec.records[rid].aligned.is_some() {
                    field_required = field_required.max(info.align);
                }
            }
            if f.bits.is_some() {
                el_align = el_align.max(field_required);
            } else {
                if let Some(rid) = info.record {
                    field_required = field_required.max(self.record(rid, depth + 1)?.required);
                }
                required = required.max(field_required);
            }
            if max_field_align != 0 {
                el_align = el_align.min(max_field_align);
            }
            if f.packed {
                el_align = 1;
            }
            el_align = el_align.max(field_required).max(1);

            let mut fl = FieldLayout {
                name: f.name.clone(),
                offset: 0,
                size: info.size,
                align: el_align,
                bit_offset: None,
                bit_width: None,
                nested: None,
            };
            match f.bits {
                Some(0) => {
                    fl.bit_width = Some(0);
                    if !last_nonzero_bitfield {
                        let off = if is_union { 0 } else { size };
                        fl.offset = off;
                        fl.bit_offset = Some(off * 8);
                    } else {
                        last_nonzero_bitfield = false;
                        if is_union {
                            size = size.max(info.size);
                        } else {
                            let off = align_to(size, el_align);
                            fl.offset = off;
                            fl.bit_offset = Some(off * 8);
                            size = off;
                            align = align.max(el_align);
                        }
                    }
                }
                Some(w) => {
                    let w = u64::from(w);
                    fl.bit_width = Some(w as u32);
                    if !is_union
                        && last_nonzero_bitfield
                        && cur_bf_size == info.size
                        && w <= remaining
                    {
                        let bit = size * 8 - remaining;
                        fl.offset = bit / 8;
                        fl.bit_offset = Some(bit);
                        remaining -= w;
                    } else {
                        last_nonzero_bitfield = true;
                        cur_bf_size = info.size;
                        if is_union {
                            fl.bit_offset = Some(0);
                            size = size.max(info.size);
                        } else {
                            let off = align_to(size, el_align);
                            fl.offset = off;
                            fl.bit_offset = Some(off * 8);
                            size = off + info.size;
                            align = align.max(el_align);
                            remaining = info.size * 8 - w;
                        }
                    }
                }
                None => {
                    last_nonzero_bitfield = false;
                    align = align.max(el_align);
                    let off = if is_union {
                        0
                    } else {
                        align_to(size, el_align)
                    };
                    fl.offset = off;
                    size = size.max(off + info.size);
                    fl.nested = self.nested(r, idx, depth)?;
                }
            }
            fields.push(fl);
        }
        size = align_to(size, align);
        if let Some(a) = r.aligned {
            required = required.max(u64::from(a));
        }
        if required != 0 {
            align = align.max(required);
            let mut rounding = align;
            if max_field_align != 0 {
                rounding = rounding.min(max_field_align);
            }
            rounding = rounding.max(required);
            size = align_to(size, rounding);
        }
        if size == 0 {
            size = if required >= 4 { align } else { 4 };
        }
        Ok(Computed {
            layout: finish(size, align, fields, is_union),
            required,
        })
    }
}

fn align_to(v: u64, a: u64) -> u64 {
    if a <= 1 {
        v
    } else {
        v.div_ceil(a) * a
    }
}

/// Computes holes and tail padding from the placed members.
fn finish(size: u64, align: u64, fields: Vec<FieldLayout>, is_union: bool) -> RecordLayout {
    // Byte ranges each member covers.
    let mut ranges: Vec<(u64, u64)> = fields
        .iter()
        .filter_map(|f| match (f.bit_offset, f.bit_width) {
            (Some(b), Some(w)) if w > 0 => Some((b / 8, (b + u64::from(w)).div_ceil(8))),
            (Some(_), Some(_)) => None,
            _ if f.size == 0 => None,
            _ => Some((f.offset, f.offset + f.size)),
        })
        .collect();
    let mut holes = Vec::new();
    let end;
    if is_union {
        end = ranges.iter().map(|r| r.1).max().unwrap_or(0);
    } else {
        ranges.sort();
        let mut cur = 0u64;
        for (s, e) in ranges {
            if s > cur {
                holes.push((cur, s - cur));
            }
            cur = cur.max(e);
        }
        end = cur;
    }
    RecordLayout {
        size,
        align,
        fields,
        holes,
        tail_padding: size.saturating_sub(end),
    }
}
