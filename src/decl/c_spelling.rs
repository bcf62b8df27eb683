//! How a declared type is spelled in C, in one place: record and type names for layouts and messages
//! ([`record_name`], [`type_name`]), and the qualified spelling of a declaration ([`spell`]).

use super::{Prim, QualType, RecordKind, Spec, Type};

/// `struct tag` / `union tag` / `anonymous struct #id`.
pub fn record_name(spec: &Spec, id: usize) -> String {
    match spec.records.get(id) {
        Some(r) => {
            let kw = match r.kind {
                RecordKind::Struct => "struct",
                RecordKind::Union => "union",
            };
            match &r.tag {
                Some(t) => format!("{kw} {t}"),
                None => {
                    // Named through a typedef?
                    let td = spec
                        .typedefs
                        .iter()
                        .find(|t| t.ty.ty == Type::Record { id });
                    match td {
                        Some(td) => td.name.clone(),
                        None => format!("anonymous {kw} (#{id})"),
                    }
                }
            }
        }
        None => format!("record #{id}"),
    }
}

/// A short C spelling of a type for messages.
pub fn type_name(spec: &Spec, ty: &Type) -> String {
    match ty {
        Type::Prim { prim } => prim_name(*prim).to_string(),
        Type::Named { name } => name.clone(),
        Type::Pointer { pointee } => format!("{} *", type_name(spec, &pointee.ty)),
        Type::Array { elem, len } => match len {
            Some(n) => format!("{}[{n}]", type_name(spec, &elem.ty)),
            None => format!("{}[]", type_name(spec, &elem.ty)),
        },
        Type::Function { sig } => format!("{} (...)", type_name(spec, &sig.ret.ty)),
        Type::Record { id } => record_name(spec, *id),
        Type::Enum { id } => match spec.enums.get(*id).and_then(|e| e.tag.clone()) {
            Some(t) => format!("enum {t}"),
            None => format!("anonymous enum (#{id})"),
        },
    }
}

pub fn prim_name(p: Prim) -> &'static str {
    match p {
        Prim::Void => "void",
        Prim::Bool => "_Bool",
        Prim::Char => "char",
        Prim::SChar => "signed char",
        Prim::UChar => "unsigned char",
        Prim::Short => "short",
        Prim::UShort => "unsigned short",
        Prim::Int => "int",
        Prim::UInt => "unsigned int",
        Prim::Long => "long",
        Prim::ULong => "unsigned long",
        Prim::LongLong => "long long",
        Prim::ULongLong => "unsigned long long",
        Prim::Int128 => "__int128",
        Prim::UInt128 => "unsigned __int128",
        Prim::Float => "float",
        Prim::Double => "double",
        Prim::LongDouble => "long double",
        Prim::WChar => "wchar_t",
        Prim::Char16 => "char16_t",
        Prim::Char32 => "char32_t",
    }
}

/// The typedef that names record (or enum) `want` in the spec, for anonymous ones.
pub fn typedef_naming(spec: &Spec, want: &Type) -> Option<String> {
    spec.typedefs
        .iter()
        .find(|t| &t.ty.ty == want)
        .map(|t| t.name.clone())
}

/// A C spelling of a declared type with its qualifiers (`const char *`, `size_t`, `struct stats`); an anonymous
/// record or enum is spelled by the typedef naming it.
pub fn spell(spec: &Spec, qt: &QualType) -> String {
    let c = if qt.quals.is_const { "const " } else { "" };
    match &qt.ty {
        Type::Pointer { pointee } => {
            let inner = spell(spec, pointee);
            let sep = if inner.ends_with('*') { "" } else { " " };
            if qt.quals.is_const {
                format!("{inner}{sep}* const")
            } else {
                format!("{inner}{sep}*")
            }
        }
        Type::Record { id } if spec.records.get(*id).is_some_and(|r| r.tag.is_none()) => {
            match typedef_naming(spec, &qt.ty) {
                Some(n) => format!("{c}{n}"),
                None => format!("{c}{}", type_name(spec, &qt.ty)),
            }
        }
        Type::Enum { id } if spec.enums.get(*id).is_some_and(|e| e.tag.is_none()) => {
            match typedef_naming(spec, &qt.ty) {
                Some(n) => format!("{c}{n}"),
                None => format!("{c}{}", type_name(spec, &qt.ty)),
            }
        }
        t => format!("{c}{}", type_name(spec, t)),
    }
}
