//! Integration tests for the header / cffi cdef parser (`ffi_doctor::decl`): real zlib.h, the zlib cdef example,
//! a header with every supported construct, malformed input with exact locations, and a deterministic
//! mutation test (no panic, bounded time).

use ffi_doctor::decl::{
    parse_header, parse_str, FnSig, ParseError, ParseOptions, Prim, QualType, RecordKind, Spec,
    Type, STANDARD_TYPEDEFS,
};
use std::time::{Duration, Instant};

fn find_zlib() -> Option<String> {
    let mut cands = Vec::new();
    if let Ok(dir) = std::env::var("ZLIB_INCLUDE_DIR") {
        cands.push(format!("{dir}/zlib.h"));
    }
    cands.extend(
        [
            "/usr/include/zlib.h",
            "/usr/local/include/zlib.h",
            "/opt/homebrew/include/zlib.h",
        ]
        .map(String::from),
    );
    cands
        .into_iter()
        .find(|p| std::path::Path::new(p).is_file())
}

fn linux_x86_64() -> ParseOptions {
    let defs = [
        ("__x86_64__", "1"),
        ("__linux__", "1"),
        ("__GNUC__", "12"),
        ("__LP64__", "1"),
        ("__SIZEOF_INT__", "4"),
        ("__SIZEOF_LONG__", "8"),
        ("__SIZEOF_LONG_LONG__", "8"),
        ("__SIZEOF_SHORT__", "2"),
        ("__SIZEOF_POINTER__", "8"),
        ("__SIZEOF_SIZE_T__", "8"),
        ("__SIZEOF_FLOAT__", "4"),
        ("__SIZEOF_DOUBLE__", "8"),
        ("__SIZEOF_LONG_DOUBLE__", "16"),
        ("__SIZEOF_WCHAR_T__", "4"),
    ];
    ParseOptions {
        target_defines: defs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect(),
        ..Default::default()
    }
}

fn func<'a>(spec: &'a Spec, name: &str) -> &'a FnSig {
    &spec
        .functions
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("function {name} missing"))
        .sig
}

fn constant(spec: &Spec, name: &str) -> Option<i128> {
    spec.constants
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("constant {name} missing"))
        .value
}

fn prim(p: Prim) -> Type {
    Type::Prim { prim: p }
}

fn named(n: &str) -> Type {
    Type::Named { name: n.into() }
}

fn ptr(t: Type) -> Type {
    Type::Pointer {
        pointee: Box::new(QualType::new(t)),
    }
}

fn record_fields(spec: &Spec, kind: RecordKind, tag: &str) -> Vec<String> {
    let id = spec
        .record_by_tag(kind, tag)
        .unwrap_or_else(|| panic!("record {tag} missing"));
    spec.records[id]
        .fields
        .iter()
        .map(|f| f.name.clone().unwrap_or_default())
        .collect()
}

#[test]
fn zlib_h_parses_as_is() {
    let Some(path) = find_zlib() else {
        eprintln!("skipped: zlib.h not found (install zlib1g-dev, or set ZLIB_INCLUDE_DIR)");
        return;
    };
    let spec = parse_header(&path, &linux_x86_64()).unwrap_or_else(|e| panic!("{e}"));
    for f in [
        "compress2",
        "uncompress",
        "zlibVersion",
        "deflateInit_",
        "inflate",
        "crc32",
        "gzopen",
    ] {
        func(&spec, f);
    }
    // ZEXTERN/ZEXPORT/OF() expanded into real prototypes
    let c2 = func(&spec, "compress2");
    assert_eq!(c2.params.len(), 5);
    assert_eq!(c2.params[0].name.as_deref(), Some("dest"));
    assert_eq!(c2.params[0].ty.ty, ptr(named("Bytef")));
    assert_eq!(c2.ret.ty, prim(Prim::Int));
    assert!(!c2.unprototyped && !c2.variadic);
    assert!(func(&spec, "gzprintf").variadic);
    assert!(func(&spec, "zlibVersion").params.is_empty());

    let fields = record_fields(&spec, RecordKind::Struct, "z_stream_s");
    assert_eq!(
        fields,
        [
            "next_in",
            "avail_in",
            "total_in",
            "next_out",
            "avail_out",
            "total_out",
            "msg",
            "state",
            "zalloc",
            "zfree",
            "opaque",
            "data_type",
            "adler",
            "reserved"
        ]
    );
    let id = spec
        .record_by_tag(RecordKind::Struct, "z_stream_s")
        .unwrap();
    assert!(spec.records[id].complete);
    assert!(spec.records[id].loc.file.ends_with("zlib.h"));

    assert_eq!(constant(&spec, "Z_OK"), Some(0));
    assert_eq!(constant(&spec, "Z_STREAM_END"), Some(1));
    assert_eq!(constant(&spec, "Z_ERRNO"), Some(-1));
    assert_eq!(constant(&spec, "Z_ASCII"), Some(1));
    assert!(spec
        .constants
        .iter()
        .all(|c| c.name != "ZLIB_VERSION" && c.name != "deflateInit"));

    assert_eq!(spec.typedef("uLong").unwrap().ty.ty, prim(Prim::ULong));
    assert_eq!(
        spec.typedef("z_streamp").unwrap().ty.ty,
        ptr(named("z_stream"))
    );
    let alloc = &spec.typedef("alloc_func").unwrap().ty.ty;
    assert!(
        matches!(alloc, Type::Pointer { pointee } if matches!(pointee.ty, Type::Function { .. }))
    );
    // system includes are not searched by default: skipped with notes
    assert!(spec.notes.iter().any(|(_, n)| n.contains("not found")));
}

#[test]
fn zlib_h_with_system_headers() {
    let Some(path) = find_zlib() else {
        eprintln!("skipped: zlib.h not found");
        return;
    };
    let mut o = linux_x86_64();
    let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir("/usr/lib/gcc/x86_64-linux-gnu")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("include"))
        .filter(|p| p.join("stddef.h").is_file())
        .collect();
    dirs.sort();
    dirs.truncate(1);
    dirs.extend(["/usr/include/x86_64-linux-gnu", "/usr/include"].map(Into::into));
    o.system_include_dirs = dirs.into_iter().filter(|d| d.is_dir()).collect();
    match parse_header(&path, &o) {
        Ok(spec) => {
            func(&spec, "compress2");
            assert_eq!(constant(&spec, "Z_OK"), Some(0));
        }
        // glibc headers vary; this test only guards against regressions on the machine's own headers
        Err(e) => panic!("zlib.h with system headers: {e}"),
    }
}

#[test]
fn zlib_cdef_example_parses() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/zlib.cdef");
    let spec = parse_header(path, &ParseOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    for f in ["compress2", "uncompress", "zlibVersion", "deflateInit_"] {
        func(&spec, f);
    }
    assert!(func(&spec, "gzprintf").variadic);
    assert_eq!(constant(&spec, "Z_OK"), None);
    assert_eq!(constant(&spec, "MAX_WBITS"), Some(15));
    assert_eq!(constant(&spec, "ZLIB_VERNUM"), None);
    let id = spec
        .record_by_tag(RecordKind::Struct, "z_stream_s")
        .unwrap();
    assert!(spec.records[id].partial && spec.records[id].complete);
    assert_eq!(spec.records[id].fields.len(), 7);
    let t = spec.typedef("z_off_t").unwrap();
    assert_eq!(t.cffi_unknown.as_deref(), Some("int..."));
    let t = spec.typedef("gzFile_s").unwrap();
    assert_eq!(t.cffi_unknown.as_deref(), Some("..."));
    let Type::Record { id } = t.ty.ty else {
        panic!("opaque typedef is an incomplete record")
    };
    assert!(!spec.records[id].complete);
    let e = spec
        .enums
        .iter()
        .find(|e| e.tag.as_deref() == Some("z_flush"))
        .unwrap();
    assert!(e.partial);
    assert_eq!(
        e.variants,
        [
            ("Z_NO_FLUSH".to_string(), Some(0)),
            ("Z_FINISH".to_string(), Some(4))
        ]
    );
}

const SUB_H: &str = "#pragma once\ntypedef int sub_t;\n#define SUB_VAL 7\n";

const ALL_H: &str = r#"#ifndef ALL_H
#define ALL_H
#include "sub.h"
#include "sub.h"
#include <missing_sys.h>
#ifdef __cplusplus
extern "C" {
#endif
#define WINAPI __stdcall
#define API __declspec(dllimport)
#define VIS __attribute__((visibility("default")))
#define STR(x) #x
#define CAT(a, b) a##b
#define DECL(name) int CAT(my_, name)(void)
#define ANSWER 42
#define FLAGS (1u << 3 | 0x10)
#define NEG (-ANSWER)
#define CH 'A'
#define NOTINT "str"
#define FNLIKE(x) x
#define SIZED (sizeof(long) * 2)
#if defined(ANSWER) && ANSWER > 40 && !defined(NOPE) && (ANSWER ? 1 : 0) && 'a' == 97 && defined SUB_VAL
#define OK_BRANCH 1
#elif 1
#error not reached
#else
#error nor this
#endif
#warning ignored
#line 100
typedef int a_t, *a_ptr_t;
typedef struct s s;
struct s { int x; struct s *next; };
typedef void (*cb_t)(int, void*);
typedef int fn_t(int);
fn_t declared_via_typedef;
void f0(void);
int f1();
void f2(int, char *);
void f3(int arr[], int m[3][4]);
void f4(void (*cb)(int), cb_t cb2);
int (*get_handler(int sig))(int);
int printf_like(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int WINAPI win_fn(int a);
int __cdecl cdecl_fn(int);
int __fastcall fast_fn(int);
void (__stdcall *stdcall_ptr)(int);
API int imported(void);
VIS int visible(void);
__attribute__((deprecated)) int old_fn(void);
DECL(thing);
const char *str_of(void) { return STR(hello); }
extern int global_var;
extern const char *const names[];
extern volatile unsigned long counter;
int restrict_fn(char *restrict a, char *__restrict b);
struct outer {
    int a;
    struct inner { char c; } in;
    union { int i; float f; };
    struct { int x, y; } pt;
    int grid[2][3];
    unsigned flag : 1;
    unsigned : 3;
    unsigned : 0;
    signed int wide : 12;
    char buf[ANSWER + 1];
    int tail[];
};
struct __attribute__((packed)) packed_s { char c; int i; };
struct aligned_s { int x; } __attribute__((aligned(16)));
struct max_aligned { int x; } __attribute__((aligned));
struct __declspec(align(8)) ms_aligned { int x; };
struct fld_attr { char c; int x __attribute__((aligned(8))); char p __attribute__((packed)); };
#pragma pack(push, 1)
struct packed1 { char c; int i; };
#pragma pack(push, 4)
struct packed4 { char c; double d; };
#pragma pack(pop)
struct still1 { char c; int i; };
#pragma pack(pop)
#pragma pack(2)
struct p2 { char c; int i; };
#pragma pack()
struct nopack { char c; int i; };
enum color { RED, GREEN = 5, BLUE, ALIAS = GREEN + BLUE, SHIFTED = 1 << 4, CHARV = 'x' };
enum { ANON_A = -1, ANON_B };
typedef enum { E0, E1 } e_t;
static inline int helper(int x) { return x + 1; }
static int hidden_fn(int);
_Static_assert(sizeof(int) == 4, "int");
__extension__ typedef long long ll_t;
__inline int inl(void);
typedef __builtin_va_list my_va;
void takes_std(size_t n, uint32_t u, int64_t i, ptrdiff_t p, wchar_t w, bool b, va_list ap, FILE *fp,
               off_t o, time_t t, intptr_t ip, uintmax_t um, char16_t c16, char32_t c32, int_least8_t l8,
               uint_fast64_t f64, ssize_t ss);
typedef unsigned long size_t;
const volatile int cv_var;
long double ld_fn(long double);
unsigned long long ull_fn(signed char, unsigned short, short int, long int, unsigned, _Bool);
sub_t from_sub(void);
struct fwd;
struct fwd *use_fwd(struct fwd *);
#ifdef __cplusplus
}
#endif
#endif
"#;

fn parse_all() -> Spec {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("sub.h"), SUB_H).unwrap();
    let path = dir.path().join("all.h");
    std::fs::write(&path, ALL_H).unwrap();
    parse_header(path.to_str().unwrap(), &linux_x86_64()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_construct() {
    let spec = parse_all();
    // preprocessor
    assert_eq!(constant(&spec, "ANSWER"), Some(42));
    assert_eq!(constant(&spec, "FLAGS"), Some(0x18));
    assert_eq!(constant(&spec, "NEG"), Some(-42));
    assert_eq!(constant(&spec, "CH"), Some(65));
    assert_eq!(constant(&spec, "OK_BRANCH"), Some(1));
    assert_eq!(constant(&spec, "SUB_VAL"), Some(7));
    assert_eq!(constant(&spec, "SIZED"), Some(16));
    assert!(spec
        .constants
        .iter()
        .all(|c| !["NOTINT", "FNLIKE", "WINAPI", "ALL_H"].contains(&c.name.as_str())));
    assert!(spec
        .notes
        .iter()
        .any(|(l, n)| n.contains("<missing_sys.h>") && l.line == 5 && l.col == 1));
    assert_eq!(
        spec.typedefs.iter().filter(|t| t.name == "sub_t").count(),
        1,
        "#pragma once"
    );

    // typedefs
    assert_eq!(spec.typedef("a_t").unwrap().ty.ty, prim(Prim::Int));
    assert_eq!(spec.typedef("a_ptr_t").unwrap().ty.ty, ptr(prim(Prim::Int)));
    let s_id = spec.record_by_tag(RecordKind::Struct, "s").unwrap();
    assert_eq!(spec.typedef("s").unwrap().ty.ty, Type::Record { id: s_id });
    assert!(spec.records[s_id].complete);
    assert_eq!(
        spec.records[s_id].fields[1].ty.ty,
        ptr(Type::Record { id: s_id })
    );
    let Type::Pointer { pointee } = &spec.typedef("cb_t").unwrap().ty.ty else {
        panic!()
    };
    let Type::Function { sig } = &pointee.ty else {
        panic!()
    };
    assert_eq!(sig.params.len(), 2);
    assert_eq!(sig.params[1].ty.ty, ptr(prim(Prim::Void)));
    assert_eq!(spec.typedef("ll_t").unwrap().ty.ty, prim(Prim::LongLong));
    assert_eq!(
        spec.typedef("my_va").unwrap().ty.ty,
        named("__builtin_va_list")
    );
    assert_eq!(
        spec.typedef("size_t").unwrap().ty.ty,
        prim(Prim::ULong),
        "a header's own typedef is recorded"
    );

    // functions
    assert_eq!(func(&spec, "declared_via_typedef").params.len(), 1);
    assert!(func(&spec, "f0").params.is_empty() && !func(&spec, "f0").unprototyped);
    assert!(func(&spec, "f1").unprototyped);
    let f2 = func(&spec, "f2");
    assert_eq!(
        (f2.params[0].name.clone(), f2.params[1].ty.ty.clone()),
        (None, ptr(prim(Prim::Char)))
    );
    let f3 = func(&spec, "f3");
    assert!(matches!(f3.params[0].ty.ty, Type::Array { len: None, .. }));
    let Type::Array { elem, len: Some(3) } = &f3.params[1].ty.ty else {
        panic!("{:?}", f3.params[1])
    };
    assert!(matches!(elem.ty, Type::Array { len: Some(4), .. }));
    assert_eq!(func(&spec, "f4").params[1].ty.ty, named("cb_t"));
    let gh = func(&spec, "get_handler");
    assert_eq!(gh.params[0].name.as_deref(), Some("sig"));
    assert!(
        matches!(&gh.ret.ty, Type::Pointer { pointee } if matches!(pointee.ty, Type::Function { .. }))
    );
    assert!(func(&spec, "printf_like").variadic);
    assert_eq!(func(&spec, "win_fn").callconv.as_deref(), Some("__stdcall"));
    assert_eq!(func(&spec, "cdecl_fn").callconv.as_deref(), Some("__cdecl"));
    assert_eq!(
        func(&spec, "fast_fn").callconv.as_deref(),
        Some("__fastcall")
    );
    for f in [
        "imported",
        "visible",
        "old_fn",
        "my_thing",
        "inl",
        "restrict_fn",
        "from_sub",
        "use_fwd",
    ] {
        func(&spec, f);
    }
    assert_eq!(
        func(&spec, "str_of").params.len(),
        0,
        "a non-static definition is a declaration too"
    );
    assert!(spec
        .functions
        .iter()
        .all(|f| f.name != "helper" && f.name != "hidden_fn"));
    let std_params: Vec<Type> = func(&spec, "takes_std")
        .params
        .iter()
        .map(|p| p.ty.ty.clone())
        .collect();
    assert_eq!(std_params[0], named("size_t"));
    assert_eq!(std_params[7], ptr(named("FILE")));
    for p in &std_params {
        let n = match p {
            Type::Named { name } => name.clone(),
            Type::Pointer { pointee } => match &pointee.ty {
                Type::Named { name } => name.clone(),
                _ => panic!(),
            },
            _ => panic!("{p:?}"),
        };
        assert!(STANDARD_TYPEDEFS.contains(&n.as_str()), "{n}");
    }
    let u = func(&spec, "ull_fn");
    assert_eq!(u.ret.ty, prim(Prim::ULongLong));
    let ps: Vec<Type> = u.params.iter().map(|p| p.ty.ty.clone()).collect();
    assert_eq!(
        ps,
        [
            Prim::SChar,
            Prim::UShort,
            Prim::Short,
            Prim::Long,
            Prim::UInt,
            Prim::Bool
        ]
        .map(prim)
        .to_vec()
    );
    assert_eq!(func(&spec, "ld_fn").ret.ty, prim(Prim::LongDouble));

    // variables
    let var = |n: &str| {
        spec.variables
            .iter()
            .find(|v| v.name == n)
            .unwrap_or_else(|| panic!("{n}"))
    };
    assert_eq!(var("global_var").ty.ty, prim(Prim::Int));
    let Type::Array { elem, len: None } = &var("names").ty.ty else {
        panic!()
    };
    assert!(elem.quals.is_const);
    assert!(var("counter").ty.quals.is_volatile);
    assert!(var("cv_var").ty.quals.is_const && var("cv_var").ty.quals.is_volatile);
    let sp = var("stdcall_ptr");
    let Type::Pointer { pointee } = &sp.ty.ty else {
        panic!()
    };
    let Type::Function { sig } = &pointee.ty else {
        panic!()
    };
    assert_eq!(sig.callconv.as_deref(), Some("__stdcall"));

    // records
    let oid = spec.record_by_tag(RecordKind::Struct, "outer").unwrap();
    let outer = &spec.records[oid];
    let names: Vec<Option<&str>> = outer.fields.iter().map(|f| f.name.as_deref()).collect();
    assert_eq!(
        names,
        [
            Some("a"),
            Some("in"),
            None,
            Some("pt"),
            Some("grid"),
            Some("flag"),
            None,
            None,
            Some("wide"),
            Some("buf"),
            Some("tail")
        ]
    );
    let bits: Vec<Option<u32>> = outer.fields.iter().map(|f| f.bits).collect();
    assert_eq!(bits[5..9], [Some(1), Some(3), Some(0), Some(12)]);
    assert!(
        matches!(outer.fields[2].ty.ty, Type::Record { id } if spec.records[id].kind == RecordKind::Union)
    );
    assert!(matches!(
        outer.fields[9].ty.ty,
        Type::Array { len: Some(43), .. }
    ));
    assert!(matches!(
        outer.fields[10].ty.ty,
        Type::Array { len: None, .. }
    ));
    assert!(spec.record_by_tag(RecordKind::Struct, "inner").is_some());
    // `#line 100` on physical line 30: physical line 57 is line 126, as a compiler reports it.
    assert_eq!(outer.loc.line, 126, "#line is honoured");

    let rec = |t: &str| &spec.records[spec.record_by_tag(RecordKind::Struct, t).unwrap()];
    assert!(rec("packed_s").packed);
    assert_eq!(rec("aligned_s").aligned, Some(16));
    assert_eq!(rec("max_aligned").aligned, Some(0));
    assert_eq!(rec("ms_aligned").aligned, Some(8));
    assert_eq!(rec("fld_attr").fields[1].aligned, Some(8));
    assert!(rec("fld_attr").fields[2].packed);
    assert_eq!(rec("packed1").pack, Some(1));
    assert_eq!(rec("packed4").pack, Some(4));
    assert_eq!(rec("still1").pack, Some(1));
    assert_eq!(rec("p2").pack, Some(2));
    assert_eq!(rec("nopack").pack, None);
    assert!(!rec("fwd").complete);

    // enums
    let color = spec
        .enums
        .iter()
        .find(|e| e.tag.as_deref() == Some("color"))
        .unwrap();
    let vals: Vec<i128> = color.variants.iter().map(|v| v.1.unwrap()).collect();
    assert_eq!(vals, [0, 5, 6, 11, 16, 120]);
    let anon = spec
        .enums
        .iter()
        .find(|e| e.variants.first().map(|v| v.0.as_str()) == Some("ANON_A"))
        .unwrap();
    assert_eq!(anon.variants[1].1, Some(0));
    assert!(matches!(
        spec.typedef("e_t").unwrap().ty.ty,
        Type::Enum { .. }
    ));
}

#[test]
fn cdef_forms() {
    let text = "typedef struct { int a; ...; } opaque_t;\nstruct s { int x; ...; };\n#define X ...\n\
                typedef int... ioff_t;\ntypedef ... handle_t;\nenum e { A, B, ... };\nint f(int, ...);\n\
                static const int K;\nint counter;\nint arr[...];\nint g();\n";
    let spec = parse_str("x.h", text, &ParseOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    assert!(spec.records.iter().filter(|r| r.partial).count() == 2);
    assert_eq!(constant(&spec, "X"), None);
    assert_eq!(constant(&spec, "K"), None);
    assert_eq!(
        spec.typedef("ioff_t").unwrap().cffi_unknown.as_deref(),
        Some("int...")
    );
    assert_eq!(
        spec.typedef("handle_t").unwrap().cffi_unknown.as_deref(),
        Some("...")
    );
    assert!(spec.enums[0].partial);
    assert!(func(&spec, "f").variadic);
    assert!(!func(&spec, "g").unprototyped, "cffi reads f() as f(void)");
    assert!(spec.variables.iter().any(|v| v.name == "counter"));
    assert!(spec
        .variables
        .iter()
        .any(|v| v.name == "arr" && matches!(v.ty.ty, Type::Array { len: None, .. })));

    // without cffi mode (no `...;` in the text) the same forms are errors
    let e = parse_str("y.h", "typedef ... t;", &ParseOptions::default()).unwrap_err();
    assert_eq!((e.loc.line, e.loc.col), (1, 9));
    let spec = parse_str(
        "y.h",
        "typedef ... t;",
        &ParseOptions {
            cffi: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(spec.typedef("t").is_some());
}

fn err(text: &str) -> ParseError {
    match parse_str("bad.h", text, &ParseOptions::default()) {
        Ok(_) => panic!("expected an error for {text:?}"),
        Err(e) => e,
    }
}

#[test]
fn malformed_input_locations() {
    let e = err("int f(int;\n");
    assert_eq!(e.to_string(), "bad.h:1:10: expected `)`, found `;`");
    let e = err("struct s {\n  int x\n};\n");
    assert_eq!(e.to_string(), "bad.h:3:1: expected `;`, found `}`");
    let e = err("int a;\n#if 1 +\n#endif\n");
    assert_eq!((e.loc.line, e.loc.col), (2, 8));
    let e = err("\n\n#error boom\n");
    assert_eq!((e.loc.line, e.loc.col), (3, 1));
    assert!(e.to_string().contains("found `#error boom`"), "{e}");
    let e = err("int x; /* open");
    assert_eq!((e.loc.line, e.loc.col), (1, 8));
    let e = err("foo bar baz;");
    assert_eq!(e.to_string(), "bad.h:1:9: expected `;`, found `baz`");
    let e = err("enum { A = };");
    assert_eq!((e.loc.line, e.loc.col), (1, 12));
    let e = err("int a[-1];");
    assert_eq!((e.loc.line, e.loc.col), (1, 7));
    let e = err("struct s { int x;");
    assert_eq!(
        e.to_string(),
        "bad.h:1:18: expected `}` to end the member list, found end of input"
    );
    let e = err("#if 1\nint x;\n");
    assert_eq!(
        (e.loc.line, e.loc.col, e.expected.contains("#endif")),
        (1, 1, true)
    );
    let e = err("#define F(a) a\nint F(1, 2);");
    assert_eq!((e.loc.line, e.loc.col), (2, 5));
    let e = err("int int x;");
    assert_eq!((e.loc.line, e.loc.col), (1, 9));
    let e = err("3;");
    assert_eq!(
        e.to_string(),
        "bad.h:1:1: expected a declaration, found `3`"
    );
    // a macro-expanded error points at the macro use
    let e = err("#define BAD ( 3\n\nint BAD;");
    assert_eq!((e.loc.line, e.loc.col), (3, 5));
    assert_eq!(e.found, "`3`");
    let e = parse_header("/nonexistent/x.h", &ParseOptions::default()).unwrap_err();
    assert_eq!(e.expected, "a readable file");
}

// ------------------------------------------------------------------------------------------------ mutation test

/// Deterministic xorshift generator.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

const INSERTS: &[&str] = &[
    "(",
    ")",
    "{",
    "}",
    "[",
    "]",
    ";",
    ",",
    "*",
    "...",
    "#",
    "##",
    "\n#if 1\n",
    "\n#endif\n",
    "\n#else\n",
    "\n#define X X X\n",
    "\n#define F(a) F(a a)\n",
    "__attribute__((",
    "struct",
    "enum",
    "typedef",
    ":",
    "=",
    "'",
    "\"",
    "/*",
    "\\\n",
    "0x",
    "9999999999999999999999",
    "\n#include \"self.h\"\n",
    "\n#pragma pack(push,3)\n",
    "\n#pragma pack(pop)\n",
    "\n#elif\n",
    "\n#undef\n",
    "sizeof(",
    "-",
    "<<",
    "extern \"C\" {",
];

fn mutate(rng: &mut Rng, text: &str) -> String {
    // work on char boundaries; "tokens" are whitespace-separated words
    let mut words: Vec<String> = text
        .split_inclusive(char::is_whitespace)
        .map(String::from)
        .collect();
    for _ in 0..1 + rng.below(6) {
        if words.is_empty() {
            break;
        }
        let i = rng.below(words.len());
        match rng.below(6) {
            0 => words.truncate(i),
            1 => {
                words.remove(i);
            }
            2 => {
                let j = rng.below(words.len());
                words.swap(i, j);
            }
            3 => words.insert(i, format!("{} ", INSERTS[rng.below(INSERTS.len())])),
            4 => {
                let end = (i + rng.below(40)).min(words.len());
                let dup: Vec<String> = words[i..end].to_vec();
                let at = rng.below(words.len());
                words.splice(at..at, dup);
            }
            _ => {
                // flip a character inside a word
                let w: Vec<char> = words[i].chars().collect();
                if !w.is_empty() {
                    let k = rng.below(w.len());
                    let repl =
                        ['(', ')', '{', '}', ';', '*', '#', 'x', '0', '.', ','][rng.below(11)];
                    words[i] = w
                        .iter()
                        .enumerate()
                        .map(|(n, c)| if n == k { repl } else { *c })
                        .collect();
                }
            }
        }
    }
    words.concat()
}

#[test]
fn mutated_headers_never_panic_or_hang() {
    let mut corpus: Vec<(String, String)> = vec![
        ("all.h".into(), ALL_H.into()),
        (
            "x.cdef".into(),
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/zlib.cdef"))
                .unwrap(),
        ),
    ];
    if let Some(z) = find_zlib() {
        corpus.push((z.clone(), std::fs::read_to_string(&z).unwrap()));
    }
    // pathological inputs
    corpus.push((
        "deep.h".into(),
        "int ".to_string() + &"(".repeat(20000) + "x" + &")".repeat(20000) + ";",
    ));
    corpus.push(("deep2.h".into(), "struct a { ".repeat(5000)));
    corpus.push((
        "deep3.h".into(),
        "enum { A = ".to_string() + &"(".repeat(20000) + "1",
    ));
    corpus.push((
        "deep4.h".into(),
        "#if ".to_string() + &"(".repeat(20000) + "1\n#endif",
    ));
    corpus.push(("self.h".into(), "#include \"self.h\"\n".into()));
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut cases: Vec<(String, String)> = corpus.clone();
    for round in 0..400 {
        let (name, text) = &corpus[round % corpus.len()];
        cases.push((name.clone(), mutate(&mut rng, text)));
    }
    let opts = linux_x86_64();
    let start = Instant::now();
    // run on a thread with a modest stack (as a rayon worker would) to catch deep recursion
    let handle = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let mut slowest = Duration::ZERO;
            for (name, text) in &cases {
                let t = Instant::now();
                let r = std::panic::catch_unwind(|| parse_str(name, text, &opts));
                assert!(r.is_ok(), "panic on a mutation of {name}:\n{text}");
                slowest = slowest.max(t.elapsed());
                if let Ok(Err(e)) = r {
                    assert!(e.loc.line >= 1 || e.expected == "a readable file", "{e}");
                }
            }
            slowest
        })
        .unwrap();
    let slowest = handle
        .join()
        .expect("parser thread panicked (stack overflow?)");
    assert!(
        slowest < Duration::from_secs(10),
        "slowest single parse took {slowest:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(120),
        "mutation test took {:?}",
        start.elapsed()
    );
}

// ---------------------------------------------------------------- real-header reproductions (h-hdr)

/// `(sizeof, _Alignof)` of each type of a fixture.
type SizesAligns = Vec<(u64, u64)>;

/// Parses `src` for `target` and returns `(sizeof, _Alignof)` of each of `types` by the ABI engine, and, when
/// `cc` (e.g. `gcc -m32`) is installed, the same values compiled by it: `(ours, compiler or None)`.
fn fixture_layouts(
    src: &str,
    target: ffi_doctor::abi::Target,
    cc: &[&str],
    types: &[&str],
) -> (SizesAligns, Option<SizesAligns>) {
    use ffi_doctor::abi::type_layout;
    let dir = std::env::temp_dir().join(format!(
        "ffi-doctor-fixture-{}-{}",
        std::process::id(),
        types
            .join("_")
            .replace(|c: char| !c.is_ascii_alphanumeric(), "")
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let h = dir.join("f.h");
    std::fs::write(&h, src).unwrap();
    let opts = ParseOptions {
        target_defines: target.predefined_macros(),
        ..Default::default()
    };
    let spec = ffi_doctor::decl::parse_header(h.to_str().unwrap(), &opts).expect("fixture parses");
    let ours: Vec<(u64, u64)> = types
        .iter()
        .map(|t| {
            let ty = match t.strip_prefix("struct ") {
                Some(tag) => ffi_doctor::decl::Type::Record {
                    id: spec
                        .records
                        .iter()
                        .position(|r| r.tag.as_deref() == Some(tag))
                        .unwrap(),
                },
                None => ffi_doctor::decl::Type::Named {
                    name: t.to_string(),
                },
            };
            let l = type_layout(&spec, &ty, target).unwrap();
            (l.size, l.align)
        })
        .collect();
    if cc.is_empty() {
        let _ = std::fs::remove_dir_all(&dir);
        return (ours, None);
    }
    let c = dir.join("p.c");
    let mut body = format!("#include \"{}\"\n", h.display());
    for (i, t) in types.iter().enumerate() {
        body.push_str(&format!(
            "char s{i}[sizeof({t})]; char a{i}[_Alignof({t})];\n"
        ));
    }
    std::fs::write(&c, body).unwrap();
    let out = std::process::Command::new(cc[0])
        .args(&cc[1..])
        .args(["-w", "-S", "-o", "-"])
        .arg(&c)
        .output();
    let theirs = match out {
        Ok(o) if o.status.success() => {
            // `.comm s0,SIZE,ALIGN` / `.zero SIZE`: read the sizes of s<i>/a<i> from the assembly
            let asm = String::from_utf8_lossy(&o.stdout).to_string();
            let size_of = |sym: &str| -> u64 {
                for l in asm.lines() {
                    let l = l.trim();
                    if let Some(r) = l.strip_prefix(&format!(".comm\t{sym},")) {
                        return r.split(',').next().unwrap().trim().parse().unwrap();
                    }
                    if let Some(r) = l.strip_prefix(&format!(".size\t{sym}, ")) {
                        return r.trim().parse().unwrap();
                    }
                }
                panic!("{sym} not in the assembly:\n{asm}")
            };
            Some(
                (0..types.len())
                    .map(|i| (size_of(&format!("s{i}")), size_of(&format!("a{i}"))))
                    .collect(),
            )
        }
        Ok(o) => panic!("{cc:?} failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(_) => {
            assert!(
                std::env::var("FFI_DOCTOR_REQUIRE_ORACLES").as_deref() != Ok("1"),
                "FFI_DOCTOR_REQUIRE_ORACLES=1 but {} not found",
                cc[0]
            );
            println!("skipped: {} not found", cc[0]);
            None
        }
    };
    let _ = std::fs::remove_dir_all(&dir);
    (ours, theirs)
}

#[test]
fn limits_from_the_compilers_predefined_macros() {
    use ffi_doctor::abi::Target;
    // GCC's limits.h: SCHAR_MAX is __SCHAR_MAX__; libpng/libffi stop at `#error` when UCHAR_MAX is not 255.
    let src = "#define UCHAR_MAX (__SCHAR_MAX__ * 2 + 1)\n#if UCHAR_MAX != 255\n#error \"requires 8-bit bytes\"\n#endif\n\
               #if __INT_MAX__ != 2147483647 || !defined(__SIZE_MAX__) || !defined(__INT64_TYPE__)\n#error limits\n#endif\n\
               #ifndef __SSE2__\nunion fallback { int i; };\n#endif\nstruct ok { int x; };\n";
    for t in [
        Target::LinuxX86_64,
        Target::LinuxI386,
        Target::MingwX64,
        Target::LinuxAarch64,
    ] {
        let (ours, _) = fixture_layouts(src, t, &[], &["struct ok"]);
        assert_eq!(ours, vec![(4, 4)], "{t}");
    }
    let spec = parse(src, Target::MingwX64);
    assert!(spec
        .records
        .iter()
        .all(|r| r.tag.as_deref() != Some("fallback")));
}

fn parse(src: &str, t: ffi_doctor::abi::Target) -> ffi_doctor::decl::Spec {
    let dir = std::env::temp_dir().join(format!("ffi-doctor-fixture-p-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let h = dir.join(format!("{}.h", t.name()));
    std::fs::write(&h, src).unwrap();
    let opts = ParseOptions {
        target_defines: t.predefined_macros(),
        ..Default::default()
    };
    ffi_doctor::decl::parse_header(h.to_str().unwrap(), &opts).expect("fixture parses")
}

#[test]
fn sizeof_alignof_offsetof_of_records_in_constant_expressions() {
    use ffi_doctor::abi::Target;
    // glibc netinet/in.h: `sin_zero[sizeof (struct sockaddr) - …]`
    let src = "typedef unsigned short sa_family_t;\nstruct sockaddr { sa_family_t sa_family; char sa_data[14]; };\n\
               struct sockaddr_in { sa_family_t sin_family; unsigned short sin_port; unsigned int sin_addr;\n\
               unsigned char sin_zero[sizeof (struct sockaddr) - sizeof (sa_family_t) - sizeof (unsigned short) - sizeof (unsigned int)]; };\n\
               struct al { char c[_Alignof(struct sockaddr_in) + __alignof__(long long)]; };\n\
               struct off { char c[__builtin_offsetof(struct sockaddr_in, sin_addr)]; };\n";
    for (t, cc) in [
        (Target::LinuxX86_64, vec!["gcc"]),
        (Target::LinuxI386, vec!["gcc", "-m32"]),
    ] {
        let types = ["struct sockaddr_in", "struct al", "struct off"];
        let (ours, theirs) = fixture_layouts(src, t, &cc, &types);
        assert_eq!(ours[0], (16, 4), "{t}");
        if let Some(theirs) = theirs {
            assert_eq!(ours, theirs, "{t}");
        }
    }
}

#[test]
fn defined_produced_by_a_macro_expansion() {
    use ffi_doctor::abi::Target;
    let src = "#define E 1\n#define P (defined(E) && !defined(NOPE))\n#if P\nstruct yes { int a; };\n#endif\n\
               #if __has_attribute(packed) && __has_builtin(__builtin_offsetof) && !__building_module(x)\nstruct attrs { int a; };\n#endif\n";
    for t in [Target::LinuxX86_64, Target::MacosArm64, Target::MingwX64] {
        let spec = parse(src, t);
        let tags: Vec<_> = spec.records.iter().filter_map(|r| r.tag.clone()).collect();
        assert_eq!(tags, vec!["yes", "attrs"], "{t}");
    }
}

#[test]
fn alignment_attributes_on_typedefs() {
    use ffi_doctor::abi::Target;
    let src = "typedef struct { long long a[13]; } U __attribute__((__aligned__));\n\
               typedef struct { long long __ll __attribute__((__aligned__(__alignof__(long long))));\n\
               long double __ld __attribute__((__aligned__(__alignof__(long double)))); } M;\n\
               typedef __attribute__((aligned(16))) struct F { long long p[2]; } F_t;\n";
    for (t, cc) in [
        (Target::LinuxX86_64, vec!["gcc"]),
        (Target::LinuxI386, vec!["gcc", "-m32"]),
    ] {
        let types = ["U", "M", "struct F", "F_t"];
        let (ours, theirs) = fixture_layouts(src, t, &cc, &types);
        if t == Target::LinuxI386 {
            assert_eq!(ours[1], (24, 8), "max_align_t on i686");
        }
        assert_eq!(ours[3].1, 16);
        if let Some(theirs) = theirs {
            assert_eq!(ours, theirs, "{t}");
        }
    }
}

#[test]
fn extended_floating_types_per_target() {
    use ffi_doctor::abi::Target;
    let src = "struct q { char c; __float128 f; };\nstruct z { char c; _Complex double d; _Float16 h; };\n\
               struct i { char c; __int128 v; };\n";
    let types = ["struct q", "struct z", "struct i"];
    let (ours, theirs) = fixture_layouts(src, Target::LinuxX86_64, &["gcc"], &types);
    assert_eq!(ours, vec![(32, 16), (32, 8), (32, 16)]);
    if let Some(theirs) = theirs {
        assert_eq!(ours, theirs);
    }
    // AArch64 has no __float128: a layout error naming the type, not a silent guess.
    let spec = parse(src, Target::LinuxAarch64);
    let q = spec
        .records
        .iter()
        .position(|r| r.tag.as_deref() == Some("q"))
        .unwrap();
    let e = ffi_doctor::abi::record_layout(&spec, q, Target::LinuxAarch64).unwrap_err();
    assert!(e.message.contains("__float128"), "{e}");
}

#[test]
fn main_header_in_a_system_directory_stays_the_librarys() {
    // openssl/ssl.h includes openssl/srtp.h, which includes <openssl/ssl.h> again (guarded): the main
    // header must not be counted among the system's files, or `check` drops all its functions. Its siblings
    // found as <lib/x.h> through the system directory are the library's too (the library's own include
    // directory is lib/, wherever it is installed); a header beside lib/ is another library's.
    let dir = std::env::temp_dir().join(format!("ffi-doctor-sysmain-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(
        dir.join("lib/main.h"),
        "#ifndef MAIN_H\n#define MAIN_H\n#include <lib/other.h>\nint lib_fn(void);\n#endif\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("lib/other.h"),
        "#include <lib/main.h>\n#include <sys.h>\nint other_fn(void);\n",
    )
    .unwrap();
    std::fs::write(dir.join("sys.h"), "int sys_fn(void);\n").unwrap();
    let opts = ParseOptions {
        system_include_dirs: vec![dir.clone()],
        ..Default::default()
    };
    let main = dir.join("lib/main.h");
    let mut spec = ffi_doctor::decl::parse_header(main.to_str().unwrap(), &opts).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(
        spec.system_files,
        vec![dir.join("sys.h").display().to_string()],
        "only the header outside lib/ is another library's"
    );
    let foreign = spec.take_foreign();
    let names: Vec<&str> = spec.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["other_fn", "lib_fn"]);
    assert_eq!((foreign.functions, foreign.files.len()), (1, 1));
}

#[test]
fn glibc_nonnull_parses_for_apple_targets() {
    // Apple Clang predefines `__nonnull` as `_Nonnull`; glibc only defines its own `__nonnull(params)` when
    // it is not defined, so `--system-includes --targets all` on Linux reads `_Nonnull ((1))`.
    let src = "#ifndef __nonnull\n#define __nonnull(p) __attribute__((__nonnull__ p))\n#endif\n\
               extern double atof (const char *__nptr) __nonnull ((1));\n";
    for t in [
        ffi_doctor::abi::Target::MacosX86_64,
        ffi_doctor::abi::Target::LinuxX86_64,
    ] {
        let spec = parse(src, t);
        assert_eq!(spec.functions.len(), 1, "{t}");
    }
}
