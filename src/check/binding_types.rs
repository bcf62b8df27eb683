//! What a ctypes type and a C type are at the call boundary on one target: a class (integer of a size and
//! signedness, floating point, pointer with what it points to, record, function pointer, void), computed with the
//! ABI engine, so that a binding's `argtypes`/`restype`/cffi declarations can be compared with the header's types
//! target by target. Hints spell a C type in ctypes with the one rule of [`crate::bindings::spelling`].

use crate::abi::{type_layout, Target};
use crate::bindings::model::{Binding, CType, Simple};
use crate::bindings::spelling::{self, Ctypes, Place, NO_SPELLING};
use crate::decl::{FnSig, Prim, QualType, Spec, Type};

/// The kind of a value as the calling convention sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Void,
    /// An integer; `None` signedness when it depends on the target or does not matter (`char`, `wchar_t`, enums).
    Int(Option<bool>),
    Float,
    /// A data pointer; the pointee's class when it is a scalar (integer or floating point).
    Pointer(Option<Box<Class>>),
    Record,
    /// A function pointer, with its signature when the C side declares one.
    FuncPtr,
    /// Not known (an unresolved ctypes expression, an opaque cffi type).
    Unknown,
}

/// A kind with its size in bytes on one target (0 when unknown or irrelevant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Class {
    pub kind: Kind,
    pub size: u64,
}

impl Class {
    fn unknown() -> Class {
        Class {
            kind: Kind::Unknown,
            size: 0,
        }
    }

    /// Whether ctypes' default `int` result holds this return type on the target (no restype needed).
    pub fn int_compatible(&self) -> bool {
        match self.kind {
            Kind::Void | Kind::Unknown => true,
            Kind::Int(_) => self.size <= 4,
            // A pointer fits in an `int` only where pointers are 4 bytes.
            Kind::Pointer(_) | Kind::FuncPtr => self.size <= 4,
            Kind::Float | Kind::Record => false,
        }
    }

    /// Whether a Python int passed as C `int` (no argtypes) is wrong for this parameter on the target.
    pub fn needs_argtypes(&self) -> bool {
        match self.kind {
            Kind::Void | Kind::Unknown => false,
            Kind::Int(_) => self.size > 4,
            Kind::Pointer(_) | Kind::FuncPtr => self.size > 4,
            Kind::Float | Kind::Record => true,
        }
    }

    /// Words for messages: `4-byte unsigned integer`, `8-byte pointer`.
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Void => "void".into(),
            Kind::Int(Some(true)) => format!("{}-byte signed integer", self.size),
            Kind::Int(Some(false)) => format!("{}-byte unsigned integer", self.size),
            Kind::Int(None) => format!("{}-byte integer", self.size),
            Kind::Float => format!("{}-byte floating point", self.size),
            Kind::Pointer(Some(p)) => format!("pointer to {}", p.describe()),
            Kind::Pointer(None) => "pointer".into(),
            Kind::Record => "struct/union by value".into(),
            Kind::FuncPtr => "function pointer".into(),
            Kind::Unknown => "unknown".into(),
        }
    }
}

/// How two classes differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Same,
    /// Same size and kind, other signedness.
    Signedness,
    /// Size or kind differ: the call passes or reads the wrong bits.
    Differs,
}

/// Compare what the binding declares (`decl`) with the C type (`c`).
pub fn compare(decl: &Class, c: &Class) -> Verdict {
    use Kind::*;
    match (&decl.kind, &c.kind) {
        (Unknown, _) | (_, Unknown) => Verdict::Same,
        (Void, Void) => Verdict::Same,
        (Int(a), Int(b)) => {
            if decl.size != c.size {
                Verdict::Differs
            } else if matches!((a, b), (Some(x), Some(y)) if x != y) {
                Verdict::Signedness
            } else {
                Verdict::Same
            }
        }
        (Float, Float) => {
            if decl.size != c.size {
                Verdict::Differs
            } else {
                Verdict::Same
            }
        }
        (Pointer(a), Pointer(b)) => match (a, b) {
            (Some(a), Some(b)) => match compare(a, b) {
                // `POINTER(c_ubyte)` for `char *` is fine; a pointee of another size is not.
                Verdict::Signedness => Verdict::Same,
                v => v,
            },
            _ => Verdict::Same,
        },
        // `c_void_p` for a callback, a prototype for `void *`.
        (Pointer(None), FuncPtr) | (FuncPtr, Pointer(None)) | (FuncPtr, FuncPtr) => Verdict::Same,
        (Record, Record) => Verdict::Same,
        // A pointer-sized integer for a pointer (`c_void_p` vs `uintptr_t`, `c_size_t` for a handle) travels in
        // the same register on every supported ABI.
        (Pointer(_) | FuncPtr, Int(_)) | (Int(_), Pointer(_) | FuncPtr) => {
            if decl.size == c.size {
                Verdict::Same
            } else {
                Verdict::Differs
            }
        }
        _ => Verdict::Differs,
    }
}

/// Signedness of a standard typedef name (`uint32_t` unsigned, `ssize_t` signed); `None` when it varies.
fn standard_signed(name: &str) -> Option<bool> {
    match name {
        "size_t" | "uintptr_t" | "uintmax_t" | "char16_t" | "char32_t" | "bool" => Some(false),
        "ssize_t" | "ptrdiff_t" | "intptr_t" | "intmax_t" | "off_t" | "time_t" => Some(true),
        "wchar_t" | "wint_t" => None,
        n if n.starts_with("uint") => Some(false),
        n if n.starts_with("int") => Some(true),
        _ => None,
    }
}

fn prim_kind(p: Prim) -> Kind {
    match p {
        Prim::Void => Kind::Void,
        Prim::Bool
        | Prim::UChar
        | Prim::UShort
        | Prim::UInt
        | Prim::ULong
        | Prim::ULongLong
        | Prim::UInt128 => Kind::Int(Some(false)),
        Prim::Char16 | Prim::Char32 => Kind::Int(Some(false)),
        Prim::SChar | Prim::Short | Prim::Int | Prim::Long | Prim::LongLong | Prim::Int128 => {
            Kind::Int(Some(true))
        }
        Prim::Char | Prim::WChar => Kind::Int(None),
        Prim::Float | Prim::Double | Prim::LongDouble => Kind::Float,
    }
}

/// Follow the spec's typedefs to the type that is not a user typedef (a standard name stays).
pub fn resolve<'a>(spec: &'a Spec, mut qt: &'a QualType) -> &'a QualType {
    for _ in 0..64 {
        match &qt.ty {
            Type::Named { name } => match spec.typedef(name) {
                Some(td) if td.cffi_unknown.is_none() => qt = &td.ty,
                _ => return qt,
            },
            _ => return qt,
        }
    }
    qt
}

/// The class of a C type declared in `spec`, on `target`. `as_param`: arrays decay to pointers.
pub fn c_class(spec: &Spec, qt: &QualType, target: Target, as_param: bool, depth: u32) -> Class {
    if depth > 8 {
        return Class::unknown();
    }
    let qt = resolve(spec, qt);
    let size = || {
        type_layout(spec, &qt.ty, target)
            .map(|l| l.size)
            .unwrap_or(0)
    };
    match &qt.ty {
        Type::Prim { prim: Prim::Void } => Class {
            kind: Kind::Void,
            size: 0,
        },
        Type::Prim { prim } => Class {
            kind: prim_kind(*prim),
            size: size(),
        },
        Type::Named { name } => {
            if spec.typedef(name).is_some_and(|t| t.cffi_unknown.is_some()) {
                return Class::unknown();
            }
            match name.as_str() {
                "FILE" | "va_list" | "__builtin_va_list" | "max_align_t" => Class::unknown(),
                n if crate::decl::STANDARD_TYPEDEFS.contains(&n) => {
                    let s = size();
                    if s == 0 {
                        Class::unknown()
                    } else {
                        Class {
                            kind: Kind::Int(standard_signed(n)),
                            size: s,
                        }
                    }
                }
                _ => Class::unknown(),
            }
        }
        Type::Enum { .. } => Class {
            kind: Kind::Int(None),
            size: size(),
        },
        Type::Record { .. } => Class {
            kind: Kind::Record,
            size: 0,
        },
        Type::Function { .. } => Class {
            kind: Kind::FuncPtr,
            size: target.pointer_size(),
        },
        Type::Pointer { pointee } => {
            let p = resolve(spec, pointee);
            if matches!(p.ty, Type::Function { .. }) {
                return Class {
                    kind: Kind::FuncPtr,
                    size: target.pointer_size(),
                };
            }
            let inner = c_class(spec, p, target, false, depth + 1);
            Class {
                kind: Kind::Pointer(scalar(inner)),
                size: target.pointer_size(),
            }
        }
        Type::Array { elem, .. } if as_param => {
            let inner = c_class(spec, elem, target, false, depth + 1);
            Class {
                kind: Kind::Pointer(scalar(inner)),
                size: target.pointer_size(),
            }
        }
        Type::Array { .. } => Class {
            kind: Kind::Record,
            size: 0,
        },
    }
}

fn scalar(c: Class) -> Option<Box<Class>> {
    matches!(c.kind, Kind::Int(_) | Kind::Float).then(|| Box::new(c))
}

/// The class of a ctypes type on `target` (`empty` is an empty spec: the standard typedefs need no header).
pub fn ctype_class(ty: &CType, target: Target, empty: &Spec, as_param: bool, depth: u32) -> Class {
    if depth > 8 {
        return Class::unknown();
    }
    match ty {
        CType::Simple { simple } => match simple {
            Simple::Char => Class {
                kind: Kind::Int(None),
                size: 1,
            },
            Simple::FloatComplex | Simple::DoubleComplex | Simple::LongDoubleComplex => {
                Class::unknown()
            }
            Simple::CharP => Class {
                kind: Kind::Pointer(Some(Box::new(Class {
                    kind: Kind::Int(None),
                    size: 1,
                }))),
                size: target.pointer_size(),
            },
            Simple::WCharP => Class {
                kind: Kind::Pointer(Some(Box::new(c_class(
                    empty,
                    &QualType::new(Type::Prim { prim: Prim::WChar }),
                    target,
                    false,
                    depth + 1,
                )))),
                size: target.pointer_size(),
            },
            Simple::VoidP | Simple::PyObject => Class {
                kind: Kind::Pointer(None),
                size: target.pointer_size(),
            },
            s => c_class(empty, &s.c_type(), target, false, depth + 1),
        },
        CType::Pointer { pointee } => {
            let inner = ctype_class(pointee, target, empty, false, depth + 1);
            Class {
                kind: Kind::Pointer(scalar(inner)),
                size: target.pointer_size(),
            }
        }
        CType::Array { elem, .. } if as_param => {
            let inner = ctype_class(elem, target, empty, false, depth + 1);
            Class {
                kind: Kind::Pointer(scalar(inner)),
                size: target.pointer_size(),
            }
        }
        CType::Array { .. } | CType::Record { .. } => Class {
            kind: Kind::Record,
            size: 0,
        },
        CType::FuncPtr { .. } => Class {
            kind: Kind::FuncPtr,
            size: target.pointer_size(),
        },
        CType::Void => Class {
            kind: Kind::Void,
            size: 0,
        },
        CType::Unknown { .. } => Class::unknown(),
    }
}

/// The function signature a C parameter's type points to, if it is a function pointer.
pub fn fn_pointer_sig<'a>(spec: &'a Spec, qt: &'a QualType) -> Option<&'a FnSig> {
    let qt = resolve(spec, qt);
    match &qt.ty {
        Type::Pointer { pointee } => match &resolve(spec, pointee).ty {
            Type::Function { sig } => Some(sig),
            _ => None,
        },
        Type::Function { sig } => Some(sig),
        _ => None,
    }
}

/// A non-const plain `char *` (an output buffer the C function may write into).
pub fn is_mutable_char_ptr(spec: &Spec, qt: &QualType) -> bool {
    let qt = resolve(spec, qt);
    match &qt.ty {
        Type::Pointer { pointee } => {
            let p = resolve(spec, pointee);
            !p.quals.is_const
                && !pointee.quals.is_const
                && matches!(p.ty, Type::Prim { prim: Prim::Char })
        }
        _ => false,
    }
}

/// How a C parameter or return type is spelled in ctypes for hints (`c_ulong`, `POINTER(c_uint32)`,
/// `c_char_p`): the one rule of [`crate::bindings::spelling`], or what to use where no ctypes type is right on
/// every target.
pub fn ctypes_spelling(spec: &Spec, qt: &QualType, ctypes: Ctypes, depth: u32) -> String {
    spelling::ctypes_spelling(spec, qt, Place::Boundary, ctypes, depth)
        .unwrap_or_else(|| NO_SPELLING.into())
}

/// How a ctypes type is spelled, for messages (`POINTER(c_uint)`, `c_ubyte * 16`, `Point`).
pub fn ctype_spelling(b: &Binding, t: &CType, depth: u32) -> String {
    if depth > 8 {
        return "…".into();
    }
    match t {
        CType::Simple { simple } => simple.name().into(),
        CType::Pointer { pointee } => format!("POINTER({})", ctype_spelling(b, pointee, depth + 1)),
        CType::Array { elem, len } => format!("{} * {len}", ctype_spelling(b, elem, depth + 1)),
        CType::Record { id } => b
            .records
            .get(*id)
            .map(|r| r.name.clone())
            .unwrap_or_default(),
        CType::FuncPtr { id } => b
            .prototypes
            .get(*id)
            .and_then(|p| p.name.clone())
            .unwrap_or_else(|| "CFUNCTYPE(...)".into()),
        CType::Void => "None".into(),
        CType::Unknown { text } => text.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class_of_c(name: &str, t: Target) -> Class {
        c_class(
            &Spec::default(),
            &QualType::new(Type::Named { name: name.into() }),
            t,
            true,
            0,
        )
    }

    fn class_of(s: Simple, t: Target) -> Class {
        ctype_class(&CType::Simple { simple: s }, t, &Spec::default(), true, 0)
    }

    #[test]
    fn c_long_for_int64_t_differs_only_where_long_is_4_bytes() {
        for t in [
            Target::LinuxX86_64,
            Target::LinuxAarch64,
            Target::MacosArm64,
        ] {
            assert_eq!(
                compare(&class_of(Simple::Long, t), &class_of_c("int64_t", t)),
                Verdict::Same,
                "{t:?}"
            );
        }
        for t in [Target::WindowsX64Msvc, Target::LinuxI386, Target::MingwX86] {
            assert_eq!(
                compare(&class_of(Simple::Long, t), &class_of_c("int64_t", t)),
                Verdict::Differs,
                "{t:?}"
            );
        }
        // c_int64 is right everywhere; c_size_t for ssize_t differs in signedness only.
        for t in [
            Target::LinuxX86_64,
            Target::WindowsX64Msvc,
            Target::LinuxI386,
        ] {
            assert_eq!(
                compare(&class_of(Simple::Int64, t), &class_of_c("int64_t", t)),
                Verdict::Same
            );
            assert_eq!(
                compare(&class_of(Simple::Size, t), &class_of_c("ssize_t", t)),
                Verdict::Signedness
            );
        }
    }

    #[test]
    fn missing_restype_and_argtypes_rules() {
        let ptr = Class {
            kind: Kind::Pointer(None),
            size: 8,
        };
        assert!(!ptr.int_compatible() && ptr.needs_argtypes());
        let ptr32 = Class {
            kind: Kind::Pointer(None),
            size: 4,
        };
        assert!(ptr32.int_compatible() && !ptr32.needs_argtypes());
        let dbl = class_of(Simple::Double, Target::LinuxX86_64);
        assert!(!dbl.int_compatible() && dbl.needs_argtypes());
    }
}
