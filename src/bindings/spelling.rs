//! How a C type declared in a header is spelled in ctypes, for the hints of the binding checks ("use
//! c_int64", "declare it as `POINTER(c_char)`"): one rule, used for function parameters and return types and for
//! record members alike.
//!
//! The rule, in order:
//! - a standard name is spelled by its own ctypes name before the target's typedef of it is followed:
//!   `int64_t` is `c_int64` on every target, whatever the target's `<stdint.h>` makes it (`long` or
//!   `long long`); `size_t`/`uintptr_t` are `c_size_t`, `ssize_t`/`ptrdiff_t`/`intptr_t` are `c_ssize_t`,
//!   `time_t` is `c_time_t` where the binding's Python has it (3.12+; before, its typedef is followed like any
//!   other), `wchar_t` is `c_wchar`. Other typedef names are followed one step
//!   at a time (so a typedef of `uint64_t` is `c_uint64` too); a cffi `typedef ... name;` is not followed;
//! - a C fundamental type is the ctypes type of the same name (`unsigned long` is `c_ulong`, right on every
//!   target because ctypes' `c_ulong` is the target's `long`); `char16_t`/`char32_t` are `c_uint16`/`c_uint32`;
//!   an enum is `c_int`; `void` is `None`;
//! - a pointer: `c_void_p` to `void`; `c_char_p` to `const char` and `POINTER(c_char)` to a `char` the function
//!   may write into (ctypes passes immutable `bytes` as `c_char_p`); likewise `c_wchar_p` and
//!   `POINTER(c_wchar)`; `CFUNCTYPE(...)` to a function; `POINTER(T)` to anything else spelled `T`, and
//!   `c_void_p` to what has no spelling (a pointer is a pointer on every target);
//! - an array: at the call boundary a parameter declared as an array is a pointer (C adjusts it), spelled as
//!   one; as a member it is `T * n`, and a flexible array member `T * 0`;
//! - a struct or union: its tag, or the typedef that names it (the class a binding declares for it);
//! - no ctypes type is right on every target for `__int128`, an unknown name or a record without a name:
//!   `None`, and callers say [`NO_SPELLING`].

use super::model::Simple;
use crate::decl::{Prim, QualType, Spec, Type};

/// What to say where no ctypes type is right on every target.
pub const NO_SPELLING: &str = "a ctypes type of the same size and kind";

/// Where the type is spelled: an array is a pointer at the call boundary and an array in a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A function's parameter or return type.
    Boundary,
    /// A struct or union member.
    Member,
}

/// What the ctypes of the binding's Python version has that matters for a spelling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ctypes {
    /// `c_time_t` (Python 3.12+).
    pub c_time_t: bool,
}

impl Ctypes {
    /// The newest ctypes.
    pub const NEWEST: Ctypes = Ctypes { c_time_t: true };

    /// The ctypes of Python 3.`minor`.
    pub fn of_python_minor(minor: u8) -> Ctypes {
        Ctypes {
            c_time_t: minor >= 12,
        }
    }
}

/// Nesting followed before giving up (pointers to arrays of pointers …, typedef chains).
const MAX_DEPTH: u32 = 32;

/// The ctypes spelling of `qt` that is right on every target, if there is one (see the module doc).
pub fn ctypes_spelling(
    spec: &Spec,
    qt: &QualType,
    place: Place,
    ctypes: Ctypes,
    depth: u32,
) -> Option<String> {
    if depth > MAX_DEPTH {
        return None;
    }
    let r = follow(spec, qt, ctypes)?;
    let q = match r {
        Followed::Standard(s, _) => return Some(s.name().into()),
        Followed::Type(q, _) => q,
    };
    Some(match &q.ty {
        Type::Prim { prim } => prim_spelling(*prim)?.into(),
        Type::Named { .. } => return None,
        Type::Enum { .. } => "c_int".into(),
        Type::Record { id } => record_name(spec, *id)?,
        Type::Function { .. } => "CFUNCTYPE(...)".into(),
        Type::Pointer { pointee } => pointer(spec, pointee, ctypes, depth),
        Type::Array { elem, len } => match place {
            Place::Boundary => pointer(spec, elem, ctypes, depth),
            Place::Member => format!(
                "{} * {}",
                ctypes_spelling(spec, elem, place, ctypes, depth + 1)?,
                len.unwrap_or(0)
            ),
        },
    })
}

/// The name a binding's class for C record `id` has: its tag, or the typedef that names it.
pub fn record_name(spec: &Spec, id: usize) -> Option<String> {
    if let Some(t) = &spec.records.get(id)?.tag {
        return Some(t.clone());
    }
    spec.typedefs
        .iter()
        .find(|t| matches!(t.ty.ty, Type::Record { id: r } if r == id))
        .map(|t| t.name.clone())
}

/// A pointer to `pointee`.
fn pointer(spec: &Spec, pointee: &QualType, ctypes: Ctypes, depth: u32) -> String {
    let text = match follow(spec, pointee, ctypes) {
        Some(Followed::Standard(Simple::WChar, is_const)) => Some(wide(is_const)),
        Some(Followed::Type(qt, is_const)) => match &qt.ty {
            Type::Prim { prim: Prim::Void } => Some("c_void_p".into()),
            Type::Prim { prim: Prim::Char } if is_const => Some("c_char_p".into()),
            Type::Prim { prim: Prim::Char } => Some("POINTER(c_char)".into()),
            Type::Prim { prim: Prim::WChar } => Some(wide(is_const)),
            Type::Function { .. } => Some("CFUNCTYPE(...)".into()),
            _ => None,
        },
        _ => None,
    };
    // Only a parameter itself is adjusted: an array a pointer points to stays an array.
    text.or_else(|| {
        ctypes_spelling(spec, pointee, Place::Member, ctypes, depth + 1)
            .map(|t| format!("POINTER({t})"))
    })
    .unwrap_or_else(|| "c_void_p".into())
}

fn wide(is_const: bool) -> String {
    if is_const {
        "c_wchar_p"
    } else {
        "POINTER(c_wchar)"
    }
    .into()
}

/// A type after typedef names are followed, and whether it is const anywhere on the way.
enum Followed<'a> {
    /// A standard name met on the way (`int64_t`).
    Standard(Simple, bool),
    /// The type reached: not a name, or a name without a typedef.
    Type(&'a QualType, bool),
}

/// Follow typedef names one step at a time, stopping at the first standard name.
fn follow<'a>(spec: &'a Spec, mut qt: &'a QualType, ctypes: Ctypes) -> Option<Followed<'a>> {
    let mut is_const = qt.quals.is_const;
    for _ in 0..64 {
        let Type::Named { name } = &qt.ty else {
            return Some(Followed::Type(qt, is_const));
        };
        if let Some(s) = standard(name).filter(|&s| s != Simple::Time || ctypes.c_time_t) {
            return Some(Followed::Standard(s, is_const));
        }
        match spec.typedef(name) {
            Some(td) if td.cffi_unknown.is_none() => {
                qt = &td.ty;
                is_const |= qt.quals.is_const;
            }
            _ => return Some(Followed::Type(qt, is_const)),
        }
    }
    None
}

/// The ctypes type of a standard C type name, the same size and signedness on every target.
fn standard(name: &str) -> Option<Simple> {
    Some(match name {
        "int8_t" => Simple::Int8,
        "uint8_t" => Simple::UInt8,
        "int16_t" => Simple::Int16,
        "uint16_t" => Simple::UInt16,
        "int32_t" => Simple::Int32,
        "uint32_t" => Simple::UInt32,
        "int64_t" => Simple::Int64,
        "uint64_t" => Simple::UInt64,
        "size_t" | "uintptr_t" => Simple::Size,
        "ssize_t" | "ptrdiff_t" | "intptr_t" => Simple::SSize,
        "time_t" => Simple::Time,
        "wchar_t" => Simple::WChar,
        "bool" => Simple::Bool,
        _ => return None,
    })
}

/// The ctypes type of a C fundamental type.
fn prim_spelling(p: Prim) -> Option<&'static str> {
    let s = match p {
        Prim::Void => return Some("None"),
        Prim::Bool => Simple::Bool,
        Prim::Char => Simple::Char,
        Prim::SChar => Simple::Byte,
        Prim::UChar => Simple::UByte,
        Prim::Short => Simple::Short,
        Prim::UShort => Simple::UShort,
        Prim::Int => Simple::Int,
        Prim::UInt => Simple::UInt,
        Prim::Long => Simple::Long,
        Prim::ULong => Simple::ULong,
        Prim::LongLong => Simple::LongLong,
        Prim::ULongLong => Simple::ULongLong,
        Prim::Float => Simple::Float,
        Prim::Double => Simple::Double,
        Prim::LongDouble => Simple::LongDouble,
        Prim::WChar => Simple::WChar,
        Prim::Char16 => Simple::UInt16,
        Prim::Char32 => Simple::UInt32,
        Prim::Int128 | Prim::UInt128 => return None,
    };
    Some(s.name())
}

#[cfg(test)]
mod tests;
