//! Symbol rules of `check`: every declared function and variable must be exported by the library under its plain
//! C name, as what it is declared to be, at the default version. Near misses are named in the hint: a C++-mangled
//! export of the same name (`extern "C"` forgotten), another case, a prefix/suffix, a 32-bit Windows decoration,
//! or a definition in a dependency.

use std::collections::HashMap;

use crate::binary::{Export, Format, Image, SymbolKind};
use crate::report::{Finding, Severity};
use crate::spec::{Loc, Spec};

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

fn finding(code: &'static str, severity: Severity, loc: &Loc, message: String) -> Finding {
    Finding {
        code,
        severity,
        location: loc.to_string(),
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
        .map(|f| (f.name.as_str(), &f.loc, true, Some(declared_arity(&f.sig))))
        .chain(
            spec.variables
                .iter()
                .map(|v| (v.name.as_str(), &v.loc, false, None)),
        );
    let mut out = Vec::new();
    for (name, loc, is_fn, arity) in decls {
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
                    "FFI0102",
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
            let v = e.version.as_ref().map(|v| v.name.as_str()).unwrap_or("");
            let mut f = finding(
                "FFI0103",
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
        let code = if is_fn { "FFI0101" } else { "FFI0104" };
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
            // Prefer the overload whose parameter count matches the declaration.
            let best = overloads
                .iter()
                .find(|e| {
                    arity.is_some()
                        && demangled_arity(e.demangled.as_deref().unwrap_or("")) == arity
                })
                .or_else(|| overloads.first())
                .copied();
            let cxx = best.unwrap_or(overloads[0]);
            let more = if overloads.len() > 1 {
                format!(" (and {} other overloads)", overloads.len() - 1)
            } else {
                String::new()
            };
            format!(
                "the library exports `{}` as C++ (mangled `{}`){more}: declare it `extern \"C\"` in the library, \
                 or bind the mangled name",
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
        if deps.iter().any(|d| d.name == name) && img.format != Format::Pe {
            f.severity = Severity::Warning;
        }
        out.push(f);
    }
    out
}

/// Number of declared parameters (`f(void)` has none).
pub fn declared_arity(sig: &crate::spec::FnSig) -> usize {
    use crate::spec::{Prim, Type};
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
    fn demangled_arities() {
        assert_eq!(demangled_arity("ns::f()"), Some(0));
        assert_eq!(demangled_arity("ns::f(int, std::map<int, int>)"), Some(2));
        assert_eq!(
            demangled_arity("area(demo::geometry::Point const&)"),
            Some(1)
        );
    }
}
