//! Portability rules of `check`: declarations that mean different things on different targets, or that ctypes
//! and cffi's ABI mode cannot call reliably. Each finding names the declaration (file:line:col), the type as
//! written and what it resolves to, and the targets where it bites.

use crate::report::codes::{Code, PortabilityCode};
use std::collections::HashSet;

use crate::decl::{FnSig, Loc, Prim, QualType, Spec, Type};
use crate::report::{Finding, Severity};

/// One portability trap found in a type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Trap {
    Long,
    WChar,
    LongDouble,
    PlainChar,
    Enum,
}

impl Trap {
    fn code(self) -> Code {
        match self {
            Trap::Long => Code::Portability(PortabilityCode::Long),
            Trap::WChar => Code::Portability(PortabilityCode::WChar),
            Trap::LongDouble => Code::Portability(PortabilityCode::LongDouble),
            Trap::PlainChar => Code::Portability(PortabilityCode::PlainChar),
            Trap::Enum => Code::Portability(PortabilityCode::EnumByValue),
        }
    }

    fn explain(self) -> (&'static str, &'static str) {
        match self {
            Trap::Long => (
                "`long` is 8 bytes on 64-bit Linux and macOS but 4 bytes on Windows (x86 and x64) and on 32-bit targets",
                "use a fixed-width type (int64_t/uint64_t or int32_t) in the API, or ctypes.c_long / cffi `long` \
                 which follow the platform — never c_int64 for a `long`",
            ),
            Trap::WChar => (
                "`wchar_t` is 2 bytes (UTF-16) on Windows and 4 bytes (UTF-32) on Linux and macOS",
                "use ctypes.c_wchar / cffi `wchar_t` (never a fixed-size integer), or change the API to UTF-8 char*",
            ),
            Trap::LongDouble => (
                "`long double` is 16 bytes on x86_64 Linux/macOS and aarch64 Linux (x87 80-bit or IEEE quad), 12 on \
                 i386 Linux, and 8 (plain double) on Windows and Apple arm64",
                "avoid long double at an FFI boundary; ctypes.c_longdouble only matches the host's compiler",
            ),
            Trap::PlainChar => (
                "plain `char` is signed on x86 and Apple arm64 but unsigned on Linux aarch64 and ARM",
                "use `signed char`/`unsigned char` (or int8_t/uint8_t) for small integers",
            ),
            Trap::Enum => (
                "the size of an enum type is chosen by the compiler (int on MSVC; GCC uses unsigned int or a 64-bit \
                 type when values need it, and smaller types with -fshort-enums)",
                "ctypes and cffi ABI mode assume int: use an explicit fixed-width integer type in structs and \
                 prototypes",
            ),
        }
    }
}

struct Walker<'s> {
    spec: &'s Spec,
    seen_typedefs: Vec<String>,
}

impl Walker<'_> {
    /// Traps reachable from a type without crossing a pointer to a record (records are checked on their own).
    fn traps(&mut self, q: &QualType, found: &mut Vec<(Trap, String)>, through_pointer: bool) {
        match &q.ty {
            Type::Prim { prim } => {
                let t = match prim {
                    Prim::Long | Prim::ULong => Some(Trap::Long),
                    Prim::WChar => Some(Trap::WChar),
                    Prim::LongDouble => Some(Trap::LongDouble),
                    Prim::Char if !through_pointer => Some(Trap::PlainChar),
                    _ => None,
                };
                if let Some(t) = t {
                    found.push((t, self.via()));
                }
            }
            Type::Named { name } => {
                if self.seen_typedefs.contains(name) || self.seen_typedefs.len() > 32 {
                    return;
                }
                if name == "wchar_t" {
                    found.push((Trap::WChar, self.via()));
                    return;
                }
                if let Some(td) = self.spec.typedef(name) {
                    self.seen_typedefs.push(name.clone());
                    let ty = td.ty.clone();
                    self.traps(&ty, found, through_pointer);
                    self.seen_typedefs.pop();
                }
            }
            Type::Pointer { pointee } => self.traps(pointee, found, true),
            Type::Array { elem, .. } => self.traps(elem, found, through_pointer),
            Type::Function { .. } | Type::Record { .. } => {}
            Type::Enum { .. } => {
                if !through_pointer {
                    found.push((Trap::Enum, self.via()));
                }
            }
        }
    }

    fn via(&self) -> String {
        if self.seen_typedefs.is_empty() {
            String::new()
        } else {
            format!(" (through typedef {})", self.seen_typedefs.join(" → "))
        }
    }
}

fn push(
    out: &mut Vec<Finding>,
    seen: &mut HashSet<(String, Code)>,
    loc: &Loc,
    what: &str,
    t: Trap,
    via: &str,
) {
    let key = (loc.to_string(), t.code());
    if !seen.insert(key) {
        return;
    }
    let (why, hint) = t.explain();
    out.push(Finding {
        code: t.code(),
        severity: Severity::Warning,
        location: loc.location(),
        message: format!("{what}{via}: {why}"),
        expected: "a type with the same size and signedness on every target".into(),
        found: why.into(),
        hint: hint.into(),
    });
}

fn is_record_by_value(spec: &Spec, q: &QualType, depth: usize) -> bool {
    match &q.ty {
        Type::Record { .. } => true,
        Type::Named { name } if depth < 32 => spec
            .typedef(name)
            .is_some_and(|td| is_record_by_value(spec, &td.ty, depth + 1)),
        _ => false,
    }
}

fn has_callback(spec: &Spec, q: &QualType, depth: usize) -> bool {
    match &q.ty {
        Type::Pointer { pointee } => {
            matches!(pointee.ty, Type::Function { .. }) || has_callback(spec, pointee, depth)
        }
        Type::Function { .. } => true,
        Type::Named { name } if depth < 32 => spec
            .typedef(name)
            .is_some_and(|td| has_callback(spec, &td.ty, depth + 1)),
        _ => false,
    }
}

/// All portability findings of a spec.
pub fn check(spec: &Spec) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    let mut w = Walker {
        spec,
        seen_typedefs: Vec::new(),
    };
    let mut fn_sig = |name: &str,
                      sig: &FnSig,
                      loc: &Loc,
                      out: &mut Vec<Finding>,
                      seen: &mut HashSet<_>| {
        let mut found = Vec::new();
        w.traps(&sig.ret, &mut found, false);
        for p in &sig.params {
            w.traps(&p.ty, &mut found, false);
        }
        for (t, via) in found {
            push(
                out,
                seen,
                loc,
                &format!("function `{name}` uses a non-portable type"),
                t,
                &via,
            );
        }
        if sig.variadic {
            out.push(Finding {
                code: Code::Portability(PortabilityCode::Variadic),
                severity: Severity::Warning,
                location: loc.location(),
                message: format!("function `{name}` is variadic"),
                expected: "a fixed parameter list".into(),
                found: "`...`".into(),
                hint: "variadic calls are not portable through ctypes or cffi ABI mode (arm64 macOS passes variadic \
                       arguments on the stack, unlike fixed ones): write a small C shim with fixed parameters, or \
                       use cffi API mode"
                    .into(),
            });
        }
        let by_value = is_record_by_value(spec, &sig.ret, 0)
            || sig
                .params
                .iter()
                .any(|p| is_record_by_value(spec, &p.ty, 0));
        if by_value {
            out.push(Finding {
                code: Code::Portability(PortabilityCode::RecordByValue),
                severity: Severity::Warning,
                location: loc.location(),
                message: format!("function `{name}` passes or returns a struct/union by value"),
                expected: "structs passed by pointer".into(),
                found: "a struct or union by value".into(),
                hint: "by-value aggregates follow intricate per-ABI rules (registers vs memory); ctypes has had bugs \
                       here and unions by value are unsupported: prefer pointers"
                    .into(),
            });
        }
        if sig.params.iter().any(|p| has_callback(spec, &p.ty, 0)) {
            out.push(Finding {
                code: Code::Portability(PortabilityCode::Callback),
                severity: Severity::Info,
                location: loc.location(),
                message: format!("function `{name}` takes a callback"),
                expected: String::new(),
                found: "a function-pointer parameter".into(),
                hint: "keep a reference to the ctypes CFUNCTYPE / cffi callback object for as long as C may call it, \
                       and never let a Python exception propagate through C"
                    .into(),
            });
        }
    };
    for f in &spec.functions {
        fn_sig(&f.name, &f.sig, &f.loc, &mut out, &mut seen);
    }
    let mut w = Walker {
        spec,
        seen_typedefs: Vec::new(),
    };
    for v in &spec.variables {
        let mut found = Vec::new();
        w.traps(&v.ty, &mut found, false);
        for (t, via) in found {
            push(
                &mut out,
                &mut seen,
                &v.loc,
                &format!("variable `{}` has a non-portable type", v.name),
                t,
                &via,
            );
        }
    }
    for r in spec.records.iter().filter(|r| r.complete) {
        let rname = match &r.tag {
            Some(t) => format!(
                "{} {t}",
                if r.kind == crate::decl::RecordKind::Struct {
                    "struct"
                } else {
                    "union"
                }
            ),
            None => "an anonymous record".into(),
        };
        for fld in &r.fields {
            let mut found = Vec::new();
            w.traps(&fld.ty, &mut found, false);
            let fname = fld.name.as_deref().unwrap_or("(anonymous)");
            for (t, via) in found {
                push(
                    &mut out,
                    &mut seen,
                    &fld.loc,
                    &format!("field `{fname}` of {rname}"),
                    t,
                    &via,
                );
            }
            if fld.bits.is_some() {
                let key = (
                    r.loc.to_string(),
                    Code::Portability(PortabilityCode::Bitfields),
                );
                if seen.insert(key) {
                    out.push(Finding {
                        code: Code::Portability(PortabilityCode::Bitfields),
                        severity: Severity::Warning,
                        location: fld.loc.location(),
                        message: format!("{rname} has bitfields"),
                        expected: "plain integer fields".into(),
                        found: format!("bitfield `{fname}`"),
                        hint: "bitfield layout differs between GCC/Clang (SysV) and MSVC/mingw (a new unit when the \
                               declared type changes): compare `ffi-doctor layout --targets all`"
                            .into(),
                    });
                }
            }
        }
        if r.packed || r.pack.is_some() {
            out.push(Finding {
                code: Code::Portability(PortabilityCode::Packed),
                severity: Severity::Warning,
                location: r.loc.location(),
                message: format!(
                    "{rname} is packed ({})",
                    if r.packed { "__attribute__((packed))".to_string() } else { format!("#pragma pack({})", r.pack.unwrap_or(0)) }
                ),
                expected: "natural alignment".into(),
                found: "packed layout".into(),
                hint: "declare the same packing on the Python side (ctypes `_pack_`, cffi `packed=True`), and never \
                       take the address of a misaligned member"
                    .into(),
            });
        }
    }
    out
}
