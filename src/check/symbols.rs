//! Symbol rules of `check`: every declared function and variable must be exported by the library under its plain
//! C name, as what it is declared to be, at the default version. Near misses are named in the hint: a C++-mangled
//! export of the same name (`extern "C"` forgotten), another case, a prefix/suffix, a 32-bit Windows decoration,
//! or a definition in a dependency.

use crate::report::codes::{Code, SymbolCode};
use std::collections::HashMap;

use crate::binary::{Export, Format, Image, SymbolKind};
use crate::decl::{Loc, Spec};
use crate::report::{Finding, Severity};

/// An export found in a dependency of the library (for the "found in a dependency" hint).
pub struct DepExport {
    pub library: String,
    pub name: String,
}

/// The base name of a demangled C++ function: `ns::compress(char*, unsigned long)` → `compress`.
fn cxx_base_name(demangled: &str) -> &str {
    let head = demangled.split('(').next().unwrap_or(demangled);
    let head = head.rsplit("::").next().unwrap_or(head);
    // Drop template arguments and a return type before the name.
    let head = head.split('<').next().unwrap_or(head);
    head.rsplit(' ').next().unwrap_or(head).trim()
}

fn finding(code: Code, severity: Severity, loc: &Loc, message: String) -> Finding {
    Finding {
        code,
        severity,
        location: loc.location(),
        message,
        expected: String::new(),
        found: String::new(),
        hint: String::new(),
    }
}

/// Check the declared functions and variables of `spec` against `img`'s exports.
pub fn check(spec: &Spec, img: &Image<'_>, lib: &str, deps: &[DepExport]) -> Vec<Finding> {
    let mut by_c_name: HashMap<&str, Vec<&Export<'_>>> = HashMap::with_capacity(img.exports.len());
    let mut by_lower: HashMap<String, Vec<&Export<'_>>> = HashMap::new();
    let mut by_cxx_base: HashMap<&str, Vec<&Export<'_>>> = HashMap::new();
    for e in &img.exports {
        by_c_name.entry(e.c_name.as_ref()).or_default().push(e);
        by_lower.entry(e.c_name.to_lowercase()).or_default().push(e);
        if let Some(d) = &e.demangled {
            if e.mangling.is_mangled() {
                by_cxx_base.entry(cxx_base_name(d)).or_default().push(e);
            }
        }
    }
    let decls = spec
        .functions
        .iter()
        .map(|f| (f.name.as_str(), &f.loc, true, Some(&f.sig)))
        .chain(
            spec.variables
                .iter()
                .map(|v| (v.name.as_str(), &v.loc, false, None)),
        );
    let mut out = Vec::new();
    let mut by_dependency: std::collections::BTreeMap<&str, Vec<(Finding, &str, &str)>> =
        std::collections::BTreeMap::new();
    for (name, loc, is_fn, sig) in decls {
        let what = if is_fn { "function" } else { "variable" };
        let hits = by_c_name.get(name).map(Vec::as_slice).unwrap_or(&[]);
        let default_hits: Vec<&&Export<'_>> = hits
            .iter()
            .filter(|e| e.version.as_ref().is_none_or(|v| v.default))
            .collect();
        if let Some(e) = default_hits.first() {
            let wrong_kind = match e.kind {
                SymbolKind::Function if !is_fn => Some("a function"),
                SymbolKind::Data | SymbolKind::Tls if is_fn => Some("data"),
                _ => None,
            };
            if let Some(actual) = wrong_kind {
                let mut f = finding(
                    Code::Symbol(SymbolCode::KindMismatch),
                    Severity::Error,
                    loc,
                    format!("`{name}` is declared as a {what} but {lib} exports it as {actual}"),
                );
                f.expected = format!("a {what} `{name}`");
                f.found = format!("{} `{}` at {:#x}", e.kind.as_str(), e.name, e.address);
                f.hint = if is_fn {
                    "declare it as a variable (cffi: `extern TYPE name;`, ctypes: `TYPE.in_dll(lib, name)`)".into()
                } else {
                    "declare it as a function prototype".into()
                };
                out.push(f);
            }
            continue;
        }
        if let Some(e) = hits.first() {
            // Only at a non-default version: dlsym/GetProcAddress by plain name does not find it.
            let v = e.version.as_ref().map(|v| v.name.as_ref()).unwrap_or("");
            let mut f = finding(
                Code::Symbol(SymbolCode::HiddenVersion),
                Severity::Error,
                loc,
                format!("`{name}` is exported by {lib} only at the non-default version {name}@{v}"),
            );
            f.expected =
                format!("`{name}@@VERSION` (a default version) or an unversioned `{name}`");
            f.found = format!("`{name}@{v}` (hidden: dlsym(\"{name}\") does not return it)");
            f.hint = format!(
                "bind it with dlvsym(handle, \"{name}\", \"{v}\") or use the symbol's current API"
            );
            out.push(f);
            continue;
        }
        // Not exported: find the nearest miss.
        let code = if is_fn {
            Code::Symbol(SymbolCode::NotExported)
        } else {
            Code::Symbol(SymbolCode::VariableNotExported)
        };
        let mut f = finding(
            code,
            Severity::Error,
            loc,
            format!("{what} `{name}` is not exported by {lib}"),
        );
        f.expected = format!(
            "an exported symbol `{name}`{}",
            platform_spelling(img, name)
        );
        f.found = "no such export".into();
        f.hint = if let Some(overloads) = by_cxx_base.get(name) {
            // Prefer the overload whose parameter types match the declaration's, then one with as many
            // parameters.
            let cxx = sig
                .and_then(|sig| best_overload(spec, sig, overloads))
                .unwrap_or(overloads[0]);
            let more = if overloads.len() > 1 {
                format!(" (and {} other overloads)", overloads.len() - 1)
            } else {
                String::new()
            };
            // dlsym() on Mach-O takes the name without the symbol table's extra `_`.
            let bind = if img.format == Format::Macho && cxx.c_name != cxx.name {
                format!(" (`{}` for dlsym)", cxx.c_name)
            } else {
                String::new()
            };
            format!(
                "the library exports `{}` as C++ (mangled `{}`{bind}){more}: declare it `extern \"C\"` in the \
                 library, or bind the mangled name",
                cxx.demangled.as_deref().unwrap_or(""),
                cxx.name
            )
        } else if let Some(other) = by_lower.get(&name.to_lowercase()).and_then(|v| v.first()) {
            format!(
                "the library exports `{}`: names are case-sensitive",
                other.name
            )
        } else if let Some(near) = prefix_suffix_match(img, name) {
            format!(
                "the library exports `{}`: a different name (prefix/suffix)",
                near.name
            )
        } else if let Some(d) = deps.iter().find(|d| d.name == name) {
            match img.format {
                Format::Pe => format!(
                    "`{name}` is exported by {} (a dependency), not by {lib}: GetProcAddress on {lib} will not \
                     find it; load {} instead",
                    d.library, d.library
                ),
                _ => format!(
                    "`{name}` is exported by {} (a dependency), not by {lib}: dlsym on {lib}'s handle finds it \
                     through the dependency, but only while that dependency is what gets loaded",
                    d.library
                ),
            }
        } else {
            "check the spelling, the library version, and whether the symbol is hidden (visibility or a \
             version script)"
                .into()
        };
        if img.format != Format::Pe {
            if let Some(d) = deps.iter().find(|d| d.name == name) {
                f.severity = Severity::Warning;
                by_dependency
                    .entry(d.library.as_str())
                    .or_default()
                    .push((f, what, name));
                continue;
            }
        }
        out.push(f);
    }
    for (dep, found) in by_dependency {
        out.extend(group_by_dependency(lib, dep, found));
    }
    out
}

/// Declarations a dependency exports rather than the library (a header that also declares its dependency's
/// API, as `openssl/ssl.h` declares libcrypto's): a few are reported one by one; more become one warning per
/// dependency, with every declaration and its place in `found`.
fn group_by_dependency(lib: &str, dep: &str, found: Vec<(Finding, &str, &str)>) -> Vec<Finding> {
    const ONE_BY_ONE: usize = 3;
    if found.len() <= ONE_BY_ONE {
        return found.into_iter().map(|(f, _, _)| f).collect();
    }
    let shown: Vec<String> = found
        .iter()
        .take(6)
        .map(|(_, _, n)| format!("`{n}`"))
        .collect();
    let more = found.len() - shown.len();
    let functions = found.iter().filter(|(_, w, _)| *w == "function").count();
    let what = match (functions, found.len() - functions) {
        (_, 0) => "functions",
        (0, _) => "variables",
        _ => "functions and variables",
    };
    let (first, _, _) = &found[0];
    let mut f = first.clone();
    f.message = format!(
        "{} declared {what} are not exported by {lib} but by {dep} (a dependency): {}{}",
        found.len(),
        shown.join(", "),
        if more > 0 {
            format!(", and {more} more")
        } else {
            String::new()
        }
    );
    f.expected = format!("{lib} exports what its header declares");
    f.found = found
        .iter()
        .map(|(g, w, n)| format!("{w} `{n}` at {}", g.location))
        .collect::<Vec<_>>()
        .join("\n");
    f.hint = format!(
        "dlsym on {lib}'s handle finds them through {dep}, but only while that dependency is what gets loaded; \
         bind them on {dep}'s own handle, or check {dep} against the same header"
    );
    vec![f]
}

/// The overload that matches `sig` best: every parameter type equal (as far as the declaration pins it down),
/// else the same number of parameters, else none.
fn best_overload<'a, 'd>(
    spec: &Spec,
    sig: &crate::decl::FnSig,
    overloads: &[&'a Export<'d>],
) -> Option<&'a Export<'d>> {
    let arity = declared_arity(sig);
    let declared: Vec<Option<String>> = if arity == 0 {
        Vec::new()
    } else {
        sig.params
            .iter()
            .map(|p| cxx_spelling(spec, &p.ty.ty, 0))
            .collect()
    };
    let mut by_arity = None;
    for e in overloads {
        let d = e.demangled.as_deref().unwrap_or("");
        if demangled_arity(d) != Some(arity) {
            continue;
        }
        by_arity.get_or_insert(*e);
        let Some(params) = demangled_params(d) else {
            continue;
        };
        let all = params.len() == declared.len()
            && params
                .iter()
                .zip(&declared)
                .all(|(have, want)| want.as_ref().is_none_or(|w| *w == canonical_cxx_type(have)));
        if all {
            return Some(e);
        }
    }
    by_arity
}

/// A declared C type as a demangler spells it, canonicalised like [`canonical_cxx_type`]; `None` when the
/// spelling depends on the target (a standard typedef such as `size_t`) and so matches anything.
fn cxx_spelling(spec: &Spec, ty: &crate::decl::Type, depth: u32) -> Option<String> {
    use crate::decl::{Prim, Type};
    if depth > 32 {
        return None;
    }
    Some(match ty {
        Type::Prim { prim } => match prim {
            Prim::Void => "void",
            Prim::Bool => "bool",
            Prim::Char => "char",
            Prim::SChar => "signedchar",
            Prim::UChar => "unsignedchar",
            Prim::Short => "short",
            Prim::UShort => "unsignedshort",
            Prim::Int => "int",
            Prim::UInt => "unsignedint",
            Prim::Long => "long",
            Prim::ULong => "unsignedlong",
            Prim::LongLong => "longlong",
            Prim::ULongLong => "unsignedlonglong",
            Prim::Int128 => "__int128",
            Prim::UInt128 => "unsigned__int128",
            Prim::Float => "float",
            Prim::Double => "double",
            Prim::LongDouble => "longdouble",
            Prim::WChar => "wchar_t",
            Prim::Char16 => "char16_t",
            Prim::Char32 => "char32_t",
        }
        .to_string(),
        Type::Named { name } => match spec.typedef(name) {
            Some(td) => return cxx_spelling(spec, &td.ty.ty, depth + 1),
            None => return None,
        },
        Type::Pointer { pointee } => format!("{}*", cxx_spelling(spec, &pointee.ty, depth + 1)?),
        Type::Array { elem, .. } => format!("{}*", cxx_spelling(spec, &elem.ty, depth + 1)?),
        Type::Record { id } => spec.records.get(*id)?.tag.clone()?,
        Type::Enum { id } => spec.enums.get(*id)?.tag.clone()?,
        Type::Function { .. } => return None,
    })
}

/// A demangled parameter type without qualifiers, elaborated-type keywords, namespaces and spaces, with MSVC's
/// sized integers spelled the C way: `struct demo::Point const &` → `Point&`, `unsigned __int64` →
/// `unsignedlonglong`.
fn canonical_cxx_type(t: &str) -> String {
    let spaced = t.replace('*', " * ").replace('&', " & ");
    let mut out = String::new();
    for w in spaced.split_whitespace() {
        match w {
            "const" | "volatile" | "struct" | "class" | "union" | "enum" | "__ptr64"
            | "__ptr32" | "__restrict" | "restrict" => {}
            "__int64" => out.push_str("longlong"),
            "__int32" => out.push_str("int"),
            "__int16" => out.push_str("short"),
            "__int8" => out.push_str("char"),
            w => out.push_str(w.rsplit("::").next().unwrap_or(w)),
        }
    }
    // C has no references: a `T const&` parameter is what a C `T *` binding would pass.
    out.replace('&', "*")
}

/// The parameter types of a demangled signature, split at top-level commas.
fn demangled_params(d: &str) -> Option<Vec<String>> {
    let open = d.find('(')?;
    let mut depth = 0i32;
    let mut cur = String::new();
    let mut out = Vec::new();
    for c in d[open + 1..].chars() {
        match c {
            '(' | '<' => {
                depth += 1;
                cur.push(c);
            }
            ')' if depth == 0 => break,
            ')' | '>' => {
                depth -= 1;
                cur.push(c);
            }
            ',' if depth == 0 => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur);
    }
    let out: Vec<String> = out.into_iter().map(|p| p.trim().to_string()).collect();
    if out.len() == 1 && out[0] == "void" {
        return Some(Vec::new());
    }
    Some(out)
}

/// Number of declared parameters (`f(void)` has none).
pub fn declared_arity(sig: &crate::decl::FnSig) -> usize {
    use crate::decl::{Prim, Type};
    match sig.params.as_slice() {
        [p] if matches!(p.ty.ty, Type::Prim { prim: Prim::Void }) => 0,
        ps => ps.len(),
    }
}

/// Number of parameters in a demangled C++ signature (`f(int, char const*)` → 2), ignoring nested commas.
fn demangled_arity(d: &str) -> Option<usize> {
    let open = d.find('(')?;
    let mut depth = 0i32;
    let mut count = 0usize;
    let mut any = false;
    for c in d[open + 1..].chars() {
        match c {
            '(' | '<' => depth += 1,
            ')' if depth == 0 => break,
            ')' | '>' => depth -= 1,
            ',' if depth == 0 => count += 1,
            c if !c.is_whitespace() => any = true,
            _ => {}
        }
    }
    let inner = &d[open + 1..];
    if inner.starts_with(')') || inner.starts_with("void)") {
        return Some(0);
    }
    Some(if any { count + 1 } else { 0 })
}

/// How the platform spells the symbol in the file (`_name` on Mach-O).
fn platform_spelling(img: &Image<'_>, name: &str) -> String {
    match img.format {
        Format::Macho => format!(" (spelled `_{name}` in the Mach-O symbol table)"),
        Format::Pe if img.bits == 32 => format!(" (or `{name}@N` / `_{name}@N` for __stdcall)"),
        _ => String::new(),
    }
}

/// An export whose C name contains `name` with a short prefix or suffix (`name_v2`, `my_name`, `name64`).
fn prefix_suffix_match<'a, 'd>(img: &'a Image<'d>, name: &str) -> Option<&'a Export<'d>> {
    if name.len() < 3 {
        return None;
    }
    img.exports
        .iter()
        .filter(|e| !e.mangling.is_mangled())
        .filter(|e| e.c_name.len() <= name.len() + 8 && e.c_name.contains(name) && e.c_name != name)
        .min_by_key(|e| e.c_name.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cxx_base_names() {
        assert_eq!(
            cxx_base_name("ns::compress(char*, unsigned long)"),
            "compress"
        );
        assert_eq!(cxx_base_name("demo::clamp<int>(int, int, int)"), "clamp");
        assert_eq!(cxx_base_name("area(int, int)"), "area");
    }

    #[test]
    fn canonical_types() {
        assert_eq!(canonical_cxx_type("int"), "int");
        assert_eq!(canonical_cxx_type("char const*"), "char*");
        assert_eq!(
            canonical_cxx_type("struct demo::geometry::Point const & __ptr64"),
            "Point*"
        );
        assert_eq!(canonical_cxx_type("unsigned __int64"), "unsignedlonglong");
        assert_eq!(
            demangled_params("int __cdecl demo::geometry::area(int, int)"),
            Some(vec!["int".to_string(), "int".to_string()])
        );
        assert_eq!(demangled_params("f(void)"), Some(vec![]));
    }

    #[test]
    fn demangled_arities() {
        assert_eq!(demangled_arity("ns::f()"), Some(0));
        assert_eq!(demangled_arity("ns::f(int, std::map<int, int>)"), Some(2));
        assert_eq!(
            demangled_arity("area(demo::geometry::Point const&)"),
            Some(1)
        );
    }
}
