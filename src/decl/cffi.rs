//! cffi `cdef` support: detection. The forms themselves (`...;` in a struct, `#define X ...`,
//! `typedef int... t;`, `typedef ... t;`, `...` among enumerators, `static const int X;`, `int a[...]`) are
//! accepted by [`super::parse`] and [`super::preprocess`] when cffi mode is on, and so is what cffi accepts
//! beyond C (`WINAPI` read as `__stdcall`, `float _Complex`). What cffi rejects is an error there too, with its
//! location (after `#line` markers): a `#define` whose value is not `...` or one integer literal (strings,
//! floats, expressions, function-like macros), `typedef T... t` other than integer words, `float` or `double`,
//! `f(...)` without a named parameter, function bodies, and type names neither the cdef nor cffi declares.
//! Oracle: cffi itself, on these rules and on every cdef of its own test suite (`tests/spec_cffi.rs`).

/// Whether text should be read as a cffi `cdef`: the name ends in `.cdef`, or the text has `...` followed
/// (after optional blanks) by `;`.
pub fn looks_like_cdef(name: &str, text: &str) -> bool {
    if name.ends_with(".cdef") {
        return true;
    }
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(off) = text.get(i..).and_then(|s| s.find("...")) {
        let mut j = i + off + 3;
        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        }
        if b.get(j) == Some(&b';') {
            return true;
        }
        i += off + 3;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection() {
        assert!(looks_like_cdef("x.cdef", ""));
        assert!(looks_like_cdef("x.h", "struct s { int a; ...; };"));
        assert!(looks_like_cdef("x.h", "#define X ... ;"));
        assert!(!looks_like_cdef("x.h", "int printf(const char *, ...);"));
        assert!(!looks_like_cdef("x.h", ""));
    }
}
