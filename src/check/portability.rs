//! Portability rules of `check`: declarations that mean different things on different targets, or that ctypes
//! and cffi's ABI mode cannot call reliably. Each finding names the declaration (file:line:col), the type as
//! written and what it resolves to, and the targets where it bites. The repetitive ones are grouped: `long`
//! (FFI0401) and enums by value (FFI0405) give one finding per typedef or type, callbacks (FFI0410) one per
//! callback type, each with the count, the first uses in the message and every use in `found`. A summary
//! (FFI0412) says which of them matter for the requested targets; declarations that a header which was not
//! read may change are FFI0411.

use crate::report::codes::{Code, PortabilityCode};
use std::collections::HashSet;

use crate::abi::Target;
use crate::decl::{Loc, Prim, QualType, Spec, Type};
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

/// What a grouped finding is about: the first typedef of the chain, or the type itself.
fn group_key(spec: &Spec, q: &QualType, via: &str) -> String {
    if let Some(chain) = via.strip_prefix(" (through typedef ") {
        return chain
            .split(" → ")
            .next()
            .unwrap_or("")
            .trim_end_matches(')')
            .to_string();
    }
    let mut q = q;
    loop {
        match &q.ty {
            Type::Pointer { pointee } => q = pointee,
            Type::Array { elem, .. } => q = elem,
            Type::Prim { prim: Prim::ULong } => return "unsigned long".into(),
            Type::Prim { prim: Prim::Long } => return "long".into(),
            Type::Enum { id } => {
                return match spec.enums.get(*id).and_then(|e| e.tag.clone()) {
                    Some(t) => format!("enum {t}"),
                    None => "an anonymous enum".into(),
                }
            }
            _ => return "long".into(),
        }
    }
}

/// One use of a grouped trap: what uses it, and where.
struct Use {
    what: String,
    loc: Loc,
}

/// Uses of one trap through one typedef or type, in declaration order.
struct Group {
    trap: Trap,
    key: String,
    via: String,
    uses: Vec<Use>,
    /// Whether the enum's values need more than `int` (FFI0405 only).
    wide_enum: bool,
}

/// Grouped traps, in the order their first use was found.
#[derive(Default)]
struct Groups {
    groups: Vec<Group>,
    index: std::collections::HashMap<(Trap, String), usize>,
    seen: HashSet<(String, Trap)>,
}

impl Groups {
    fn add(&mut self, trap: Trap, key: String, via: &str, what: String, loc: &Loc, wide: bool) {
        if !self.seen.insert((loc.to_string(), trap)) {
            return;
        }
        let n = self.groups.len();
        let i = *self.index.entry((trap, key.clone())).or_insert(n);
        if i == n {
            self.groups.push(Group {
                trap,
                key,
                via: via.to_string(),
                uses: Vec::new(),
                wide_enum: wide,
            });
        }
        self.groups[i].uses.push(Use {
            what,
            loc: loc.clone(),
        });
    }

    /// Leave out uses in other libraries' headers, and order each group's uses by place.
    fn finish(&mut self, spec: &Spec) {
        for g in &mut self.groups {
            g.uses.retain(|u| !spec.is_foreign_file(&u.loc.file));
            g.uses.sort_by(|a, b| {
                (&a.loc.file, a.loc.line, a.loc.col).cmp(&(&b.loc.file, b.loc.line, b.loc.col))
            });
        }
        self.groups.retain(|g| !g.uses.is_empty());
    }

    fn findings(self, out: &mut Vec<Finding>) {
        for g in self.groups {
            out.push(g.finding());
        }
    }
}

impl Group {
    fn finding(&self) -> Finding {
        let (why, hint) = self.trap.explain();
        let first = &self.uses[0];
        let message = if self.uses.len() == 1 {
            format!("{}{}: {why}", first.what, self.via)
        } else {
            let shown: Vec<&str> = self.uses.iter().take(6).map(|u| u.what.as_str()).collect();
            let more = self.uses.len().saturating_sub(shown.len());
            format!(
                "{} declarations use `{}`{}: {}{}: {why}",
                self.uses.len(),
                self.key,
                self.via,
                shown.join(", "),
                if more > 0 {
                    format!(", and {more} more")
                } else {
                    String::new()
                }
            )
        };
        Finding {
            code: self.trap.code(),
            severity: Severity::Warning,
            location: first.loc.location(),
            message,
            expected: "a type with the same size and signedness on every target".into(),
            found: self
                .uses
                .iter()
                .map(|u| format!("{} at {}", u.what, u.loc))
                .collect::<Vec<_>>()
                .join("\n"),
            hint: hint.into(),
        }
    }

    /// Whether this trap gives different results among `targets`.
    fn matters_for(&self, targets: &[Target]) -> bool {
        trap_matters(self.trap, targets, self.wide_enum)
    }
}

/// Whether a trap gives different sizes or signedness among `targets`.
fn trap_matters(trap: Trap, targets: &[Target], wide_enum: bool) -> bool {
    let differ = |f: &dyn Fn(Target) -> u32| {
        let mut v: Vec<u32> = targets.iter().map(|t| f(*t)).collect();
        v.sort_unstable();
        v.dedup();
        v.len() > 1
    };
    match trap {
        Trap::Long => differ(&|t| if t.is_lp64() { 8 } else { 4 }),
        Trap::WChar => differ(&|t| if t.is_windows() { 2 } else { 4 }),
        Trap::LongDouble => differ(&|t| match t {
            Target::LinuxI386 | Target::MingwX86 => 12,
            Target::WindowsX64Msvc | Target::WindowsX86Msvc | Target::MacosArm64 => 8,
            _ => 16,
        }),
        Trap::PlainChar => differ(&|t| u32::from(t.char_is_unsigned())),
        Trap::Enum => wide_enum,
    }
}

/// Whether an enum type's values need more than `int` / `unsigned int` (then its size is the compiler's
/// choice: 8 bytes with GCC, `int` with MSVC).
fn is_wide_enum(spec: &Spec, q: &QualType, depth: usize) -> bool {
    match &q.ty {
        Type::Enum { id } => spec.enums.get(*id).is_some_and(|e| {
            e.variants.iter().any(|(_, v)| {
                v.is_some_and(|v| v < i128::from(i32::MIN) || v > i128::from(u32::MAX))
            })
        }),
        Type::Named { name } if depth < 32 => spec
            .typedef(name)
            .is_some_and(|td| is_wide_enum(spec, &td.ty, depth + 1)),
        Type::Array { elem, .. } => is_wide_enum(spec, elem, depth + 1),
        _ => false,
    }
}

/// Record a trap found in the type `q` of a declaration: `long` and enums are grouped, the others are one
/// finding per declaration.
#[allow(clippy::too_many_arguments)]
fn push(
    out: &mut Vec<Finding>,
    groups: &mut Groups,
    spec: &Spec,
    q: &QualType,
    loc: &Loc,
    what: &str,
    t: Trap,
    via: &str,
) {
    if matches!(t, Trap::Long | Trap::Enum) {
        let key = group_key(spec, q, via);
        let wide = t == Trap::Enum && is_wide_enum(spec, q, 0);
        groups.add(t, key, via, what.to_string(), loc, wide);
        return;
    }
    if !groups.seen.insert((loc.to_string(), t)) {
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

/// All portability findings of a spec, with no requested targets (no FFI0412 summary).
pub fn check(spec: &Spec) -> Vec<Finding> {
    check_for(spec, &[])
}

/// All portability findings of a spec, and a summary (FFI0412) of which matter for `targets` (the library's
/// own target and those asked for with `--targets`).
pub fn check_for(spec: &Spec, targets: &[Target]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut groups = Groups::default();
    let mut callbacks = Groups::default();
    let mut w = Walker {
        spec,
        seen_typedefs: Vec::new(),
    };
    for f in &spec.functions {
        let (name, sig, loc) = (&f.name, &f.sig, &f.loc);
        let what = format!("function `{name}`");
        for q in std::iter::once(&sig.ret).chain(sig.params.iter().map(|p| &p.ty)) {
            let mut found = Vec::new();
            w.traps(q, &mut found, false);
            for (t, via) in found {
                push(&mut out, &mut groups, spec, q, loc, &what, t, &via);
            }
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
        for p in sig.params.iter().filter(|p| has_callback(spec, &p.ty, 0)) {
            let key = match &p.ty.ty {
                Type::Named { name } => name.clone(),
                _ => "a function pointer".into(),
            };
            callbacks.add(Trap::Long, key, "", name.clone(), loc, false);
        }
    }
    let mut w = Walker {
        spec,
        seen_typedefs: Vec::new(),
    };
    for v in &spec.variables {
        let mut found = Vec::new();
        w.traps(&v.ty, &mut found, false);
        let what = format!("variable `{}`", v.name);
        for (t, via) in found {
            push(&mut out, &mut groups, spec, &v.ty, &v.loc, &what, t, &via);
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
            let what = format!("field `{fname}` of {rname}");
            for (t, via) in found {
                push(
                    &mut out,
                    &mut groups,
                    spec,
                    &fld.ty,
                    &fld.loc,
                    &what,
                    t,
                    &via,
                );
            }
            if fld.bits.is_some() {
                let key = (r.loc.to_string(), Trap::PlainChar);
                if groups.seen.insert((format!("bitfields {}", key.0), key.1)) {
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
    groups.finish(spec);
    callbacks.finish(spec);
    out.retain(|f| !spec.is_foreign_file(&f.location.file));
    let summary = summary(&groups, &out, targets);
    groups.findings(&mut out);
    for g in callbacks.groups {
        out.push(callback_finding(&g));
    }
    out.extend(unread_findings(spec));
    out.extend(summary);
    out
}

/// FFI0410 for the functions taking a callback of one type.
fn callback_finding(g: &Group) -> Finding {
    let names: Vec<&str> = g.uses.iter().map(|u| u.what.as_str()).collect();
    let message = if names.len() == 1 {
        format!("function `{}` takes a callback (`{}`)", names[0], g.key)
    } else {
        let more = names.len().saturating_sub(6);
        format!(
            "{} functions take a callback of type `{}`: {}{}",
            names.len(),
            g.key,
            names[..names.len().min(6)].join(", "),
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            }
        )
    };
    Finding {
        code: Code::Portability(PortabilityCode::Callback),
        severity: Severity::Info,
        location: g.uses[0].loc.location(),
        message,
        expected: String::new(),
        found: g
            .uses
            .iter()
            .map(|u| format!("function `{}` at {}", u.what, u.loc))
            .collect::<Vec<_>>()
            .join("\n"),
        hint: "keep a reference to the ctypes CFUNCTYPE / cffi callback object for as long as C may call it, \
               and never let a Python exception propagate through C"
            .into(),
    }
}

/// FFI0411: declarations that an include which was not read may change.
fn unread_findings(spec: &Spec) -> Vec<Finding> {
    spec.unsure
        .iter()
        .map(|u| {
            let macros: Vec<String> = u.macros.iter().map(|m| format!("`{m}`")).collect();
            Finding {
                code: Code::Portability(PortabilityCode::DependsOnUnread),
                severity: Severity::Warning,
                location: u.loc.location(),
                message: format!(
                    "{} may differ: it is inside a conditional on {} (at {}), which a header that was not read \
                     may define (last: {})",
                    u.declaration,
                    macros.join(", "),
                    u.condition,
                    u.include
                ),
                expected: "every #include read, as the compiler reads them".into(),
                found: format!("{} not found in the include path (at {})", u.include, u.include_loc),
                hint: "let the system headers be read (the default; --sysroot or --isystem for another target), \
                       or pass -I/-D so the conditional is decided as the compiler decides it"
                    .into(),
            }
        })
        .collect()
}

/// FFI0412: which grouped and per-declaration portability findings matter for `targets`.
fn summary(groups: &Groups, out: &[Finding], targets: &[Target]) -> Option<Finding> {
    if targets.is_empty() {
        return None;
    }
    let mut matter: Vec<String> = Vec::new();
    let mut other: Vec<String> = Vec::new();
    for g in &groups.groups {
        let n = g.uses.len();
        let label = format!(
            "{} `{}` ({n} {})",
            g.trap.code(),
            g.key,
            if n == 1 { "use" } else { "uses" }
        );
        if g.matters_for(targets) {
            matter.push(label);
        } else {
            other.push(label);
        }
    }
    let traps = [Trap::WChar, Trap::LongDouble, Trap::PlainChar];
    for t in traps {
        let n = out.iter().filter(|f| f.code == t.code()).count();
        if n == 0 {
            continue;
        }
        let label = format!("{} ({n})", t.code());
        if trap_matters(t, targets, false) {
            matter.push(label);
        } else {
            other.push(label);
        }
    }
    for c in [
        PortabilityCode::Bitfields,
        PortabilityCode::Packed,
        PortabilityCode::RecordByValue,
        PortabilityCode::Variadic,
    ] {
        let n = out
            .iter()
            .filter(|f| f.code == Code::Portability(c))
            .count();
        if n > 0 {
            matter.push(format!("{} ({n})", Code::Portability(c)));
        }
    }
    if matter.is_empty() && other.is_empty() {
        return None;
    }
    let names: Vec<&str> = targets.iter().map(|t| t.name()).collect();
    let file = out
        .first()
        .map(|f| f.location.file.clone())
        .or_else(|| groups.groups.first().map(|g| g.uses[0].loc.file.clone()))
        .unwrap_or_default();
    Some(Finding {
        code: Code::Portability(PortabilityCode::Summary),
        severity: Severity::Info,
        location: file.into(),
        message: format!(
            "portability for {}: {} matter ({}); {} only on other targets ({})",
            names.join(", "),
            matter.len(),
            if matter.is_empty() {
                "none".into()
            } else {
                matter.join(", ")
            },
            other.len(),
            if other.is_empty() {
                "none".into()
            } else {
                other.join(", ")
            }
        ),
        expected: format!("declarations that mean the same on {}", names.join(", ")),
        found: format!(
            "matter: {}\nonly on other targets: {}",
            if matter.is_empty() {
                "none".into()
            } else {
                matter.join(", ")
            },
            if other.is_empty() {
                "none".into()
            } else {
                other.join(", ")
            }
        ),
        hint: if other.is_empty() {
            String::new()
        } else {
            "the findings only on other targets matter once the binding runs there: name them with --targets".into()
        },
    })
}
