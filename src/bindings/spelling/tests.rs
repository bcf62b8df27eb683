use super::*;
use crate::decl::{parse_str, ParseOptions};

/// Types of the table that need declarations of their own.
const PRELUDE: &str = "
typedef uint64_t my_u64;
typedef long my_long;
typedef char gchar;
typedef const char *cstr_t;
typedef int (*cb_t)(void *);
enum color { RED, GREEN };
struct point { int x, y; };
typedef struct point point_t;
typedef struct { int a; } anon_t;
";

/// (declarator with `X` for the name, spelled as a parameter or return type, spelled as a record member);
/// `None`: no ctypes type is right on every target.
const TABLE: &[(&str, Option<&str>, Option<&str>)] = &[
    // Fundamental types: the ctypes type of the same name.
    ("int X", Some("c_int"), Some("c_int")),
    ("unsigned int X", Some("c_uint"), Some("c_uint")),
    ("long X", Some("c_long"), Some("c_long")),
    ("unsigned long X", Some("c_ulong"), Some("c_ulong")),
    ("long long X", Some("c_longlong"), Some("c_longlong")),
    (
        "unsigned long long X",
        Some("c_ulonglong"),
        Some("c_ulonglong"),
    ),
    ("short X", Some("c_short"), Some("c_short")),
    ("signed char X", Some("c_byte"), Some("c_byte")),
    ("unsigned char X", Some("c_ubyte"), Some("c_ubyte")),
    ("char X", Some("c_char"), Some("c_char")),
    ("_Bool X", Some("c_bool"), Some("c_bool")),
    ("float X", Some("c_float"), Some("c_float")),
    ("double X", Some("c_double"), Some("c_double")),
    ("long double X", Some("c_longdouble"), Some("c_longdouble")),
    ("__int128 X", None, None),
    // Standard names before the target's typedef of them.
    ("int8_t X", Some("c_int8"), Some("c_int8")),
    ("uint8_t X", Some("c_uint8"), Some("c_uint8")),
    ("int16_t X", Some("c_int16"), Some("c_int16")),
    ("uint32_t X", Some("c_uint32"), Some("c_uint32")),
    ("int64_t X", Some("c_int64"), Some("c_int64")),
    ("uint64_t X", Some("c_uint64"), Some("c_uint64")),
    ("size_t X", Some("c_size_t"), Some("c_size_t")),
    ("uintptr_t X", Some("c_size_t"), Some("c_size_t")),
    ("ssize_t X", Some("c_ssize_t"), Some("c_ssize_t")),
    ("intptr_t X", Some("c_ssize_t"), Some("c_ssize_t")),
    ("ptrdiff_t X", Some("c_ssize_t"), Some("c_ssize_t")),
    ("time_t X", Some("c_time_t"), Some("c_time_t")),
    ("wchar_t X", Some("c_wchar"), Some("c_wchar")),
    // Typedefs followed one step at a time: a typedef of a standard name is that name.
    ("my_u64 X", Some("c_uint64"), Some("c_uint64")),
    ("my_long X", Some("c_long"), Some("c_long")),
    ("unknown_t X", None, None),
    // Enums, records.
    ("enum color X", Some("c_int"), Some("c_int")),
    ("struct point X", Some("point"), Some("point")),
    ("point_t X", Some("point"), Some("point")),
    ("anon_t X", Some("anon_t"), Some("anon_t")),
    // Pointers.
    ("void *X", Some("c_void_p"), Some("c_void_p")),
    ("const void *X", Some("c_void_p"), Some("c_void_p")),
    ("const char *X", Some("c_char_p"), Some("c_char_p")),
    ("char const *X", Some("c_char_p"), Some("c_char_p")),
    ("char *X", Some("POINTER(c_char)"), Some("POINTER(c_char)")),
    ("const gchar *X", Some("c_char_p"), Some("c_char_p")),
    ("gchar *X", Some("POINTER(c_char)"), Some("POINTER(c_char)")),
    ("cstr_t X", Some("c_char_p"), Some("c_char_p")),
    ("const wchar_t *X", Some("c_wchar_p"), Some("c_wchar_p")),
    (
        "wchar_t *X",
        Some("POINTER(c_wchar)"),
        Some("POINTER(c_wchar)"),
    ),
    (
        "unsigned char *X",
        Some("POINTER(c_ubyte)"),
        Some("POINTER(c_ubyte)"),
    ),
    ("int *X", Some("POINTER(c_int)"), Some("POINTER(c_int)")),
    (
        "const int *X",
        Some("POINTER(c_int)"),
        Some("POINTER(c_int)"),
    ),
    (
        "int64_t *X",
        Some("POINTER(c_int64)"),
        Some("POINTER(c_int64)"),
    ),
    (
        "size_t *X",
        Some("POINTER(c_size_t)"),
        Some("POINTER(c_size_t)"),
    ),
    (
        "my_u64 *X",
        Some("POINTER(c_uint64)"),
        Some("POINTER(c_uint64)"),
    ),
    (
        "const char **X",
        Some("POINTER(c_char_p)"),
        Some("POINTER(c_char_p)"),
    ),
    (
        "char **X",
        Some("POINTER(POINTER(c_char))"),
        Some("POINTER(POINTER(c_char))"),
    ),
    (
        "void **X",
        Some("POINTER(c_void_p)"),
        Some("POINTER(c_void_p)"),
    ),
    (
        "struct point *X",
        Some("POINTER(point)"),
        Some("POINTER(point)"),
    ),
    ("point_t *X", Some("POINTER(point)"), Some("POINTER(point)")),
    ("unknown_t *X", Some("c_void_p"), Some("c_void_p")),
    (
        "int (*X)(int)",
        Some("CFUNCTYPE(...)"),
        Some("CFUNCTYPE(...)"),
    ),
    ("cb_t X", Some("CFUNCTYPE(...)"), Some("CFUNCTYPE(...)")),
    // Arrays: a pointer at the call boundary, an array in a record (`* 0`: a flexible array member).
    ("int X[4]", Some("POINTER(c_int)"), Some("c_int * 4")),
    ("char X[16]", Some("POINTER(c_char)"), Some("c_char * 16")),
    ("const char X[8]", Some("c_char_p"), Some("c_char * 8")),
    (
        "uint32_t X[2]",
        Some("POINTER(c_uint32)"),
        Some("c_uint32 * 2"),
    ),
    (
        "double X[2][3]",
        Some("POINTER(c_double * 3)"),
        Some("c_double * 3 * 2"),
    ),
    ("int X[]", Some("POINTER(c_int)"), Some("c_int * 0")),
    (
        "struct point X[2]",
        Some("POINTER(point)"),
        Some("point * 2"),
    ),
];

#[test]
fn one_spelling_per_c_type() {
    let mut text = PRELUDE.to_string();
    for (i, (decl, _, _)) in TABLE.iter().enumerate() {
        text.push_str(&format!(
            "typedef {};\n",
            decl.replace('X', &format!("row{i}"))
        ));
    }
    let spec = parse_str("t.h", &text, &ParseOptions::default()).expect("table parses");
    let mut wrong = Vec::new();
    for (i, (decl, boundary, member)) in TABLE.iter().enumerate() {
        let td = spec.typedef(&format!("row{i}")).expect("row declared");
        for (place, want) in [(Place::Boundary, boundary), (Place::Member, member)] {
            let got = ctypes_spelling(&spec, &td.ty, place, Ctypes::NEWEST, 0);
            if got.as_deref() != *want {
                wrong.push(format!("{decl} ({place:?}): {got:?}, expected {want:?}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn every_spelling_is_a_ctypes_name() {
    // The fundamental names the rule gives are the reader's own (`Simple::NAMES`), so a binding that follows a
    // hint reads back as the type the hint meant.
    for (_, boundary, member) in TABLE {
        for s in [boundary, member].into_iter().flatten() {
            let base = s
                .trim_start_matches("POINTER(")
                .trim_end_matches(')')
                .split(" * ")
                .next()
                .unwrap_or("");
            if base.starts_with("c_") {
                assert!(
                    Simple::from_name(base).is_some(),
                    "{s}: {base} is not a ctypes name"
                );
            }
        }
    }
}

#[test]
fn deep_nesting_gives_up_without_overflow() {
    let mut decl = "int".to_string();
    for _ in 0..200 {
        decl.push('*');
    }
    let text = format!("typedef {decl} deep;\n");
    let spec = parse_str("t.h", &text, &ParseOptions::default()).expect("parses");
    let td = spec.typedef("deep").expect("declared");
    // Beyond the depth followed, the innermost pointer is still a pointer.
    let s = ctypes_spelling(&spec, &td.ty, Place::Boundary, Ctypes::NEWEST, 0).expect("spelled");
    assert!(s.starts_with("POINTER(POINTER("), "{s}");
}

#[test]
fn time_t_is_c_time_t_only_where_ctypes_has_it() {
    let spec = parse_str(
        "t.h",
        "typedef long __time_t; typedef __time_t time_t; typedef time_t *X;",
        &ParseOptions::default(),
    )
    .expect("parses");
    let td = spec.typedef("X").expect("declared");
    let spell = |minor| {
        ctypes_spelling(
            &spec,
            &td.ty,
            Place::Boundary,
            Ctypes::of_python_minor(minor),
            0,
        )
    };
    assert_eq!(spell(12).as_deref(), Some("POINTER(c_time_t)"));
    assert_eq!(spell(13).as_deref(), Some("POINTER(c_time_t)"));
    // Before 3.12 ctypes has no c_time_t: the typedef is followed, as for any other name.
    assert_eq!(spell(11).as_deref(), Some("POINTER(c_long)"));
}
