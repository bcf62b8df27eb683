//! The pure-Rust stand-in for builds without LLVM's demangler headers: cpp_demangle's whole-name special forms
//! rewritten to the wording c++filt and llvm-cxxfilt use.

/// cpp_demangle renders a few Itanium special names in its own debug-like form (`{vtable(T)}`, `{vtt(T)}`,
/// `{virtual override thunk({offset(-16)}, f)}`); c++filt and llvm-cxxfilt print `vtable for T`, `VTT for T`,
/// `non-virtual thunk to f`, `virtual thunk to f`, `covariant return thunk to f`. Rewrite the whole-name forms.
pub(super) fn conventional_special_name(d: String) -> String {
    let wrapped = |prefix: &str| {
        d.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(")}"))
            .map(str::to_string)
    };
    if let Some(t) = wrapped("{vtable(") {
        return format!("vtable for {t}");
    }
    if let Some(t) = wrapped("{vtt(") {
        return format!("VTT for {t}");
    }
    if let Some(rest) = wrapped("{virtual override thunk(") {
        // One call offset (`{offset(n)}` or `{virtual offset(a, b)}`), or two for a covariant-return thunk.
        fn call_offset(s: &str) -> Option<(bool, &str)> {
            let (is_virtual, body) = if let Some(b) = s.strip_prefix("{offset(") {
                (false, b)
            } else {
                (true, s.strip_prefix("{virtual offset(")?)
            };
            let end = body.find(")}")?;
            let tail = body[end + 2..].strip_prefix(", ")?;
            Some((is_virtual, tail))
        }
        if let Some((is_virtual, tail)) = call_offset(&rest) {
            if let Some((_, target)) = call_offset(tail) {
                return format!("covariant return thunk to {target}");
            }
            let kind = if is_virtual { "virtual" } else { "non-virtual" };
            return format!("{kind} thunk to {tail}");
        }
    }
    d
}
