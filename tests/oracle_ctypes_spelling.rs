//! The ctypes spelling of C types given in hints (`bindings::spelling`) against the real thing on the host: a
//! table of C types is parsed with the host's own system headers (glibc's `<stdint.h>`, `<stddef.h>`,
//! `<wchar.h>`, …), each type's member spelling is evaluated by CPython's ctypes (`ctypes.sizeof`,
//! `ctypes.alignment`, whether `T(-1)` is negative) and compared with what gcc says of the C type (`sizeof`,
//! `_Alignof`, `(T)-1 < 0`). Types are spelled for the ctypes of that Python (`time_t` follows its typedef before
//! 3.12, where ctypes has no `c_time_t`); a spelling it still does not have is skipped with a printed reason.

mod common;

use std::fmt::Write as _;
use std::process::Command;

use common::*;
use ffi_doctor::abi::Target;
use ffi_doctor::bindings::spelling::{ctypes_spelling, Ctypes, Place};
use ffi_doctor::decl::{parse_header, ParseOptions};

const HEADERS: &str = "#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <wchar.h>
#include <uchar.h>
#include <time.h>
#include <sys/types.h>
typedef uint64_t my_u64;
typedef long my_long;
typedef char gchar;
typedef const char *cstr_t;
enum color { RED, GREEN };
struct point { int x; char c; double d; };
typedef struct point point_t;
typedef struct { short a; long long b; } anon_t;
";

/// The Python classes of the table's records, as a binding declares them.
const CLASSES: &str = "
class point(Structure):
    _fields_ = [('x', c_int), ('c', c_char), ('d', c_double)]
class anon_t(Structure):
    _fields_ = [('a', c_short), ('b', c_longlong)]
";

/// (declarator with `X` for the name, is an integer whose signedness ctypes keeps).
const TABLE: &[(&str, bool)] = &[
    ("int X", true),
    ("unsigned int X", true),
    ("long X", true),
    ("unsigned long X", true),
    ("long long X", true),
    ("unsigned long long X", true),
    ("short X", true),
    ("unsigned short X", true),
    ("signed char X", true),
    ("unsigned char X", true),
    ("char X", false),
    ("bool X", false),
    ("float X", false),
    ("double X", false),
    ("long double X", false),
    ("int8_t X", true),
    ("uint8_t X", true),
    ("int16_t X", true),
    ("uint16_t X", true),
    ("int32_t X", true),
    ("uint32_t X", true),
    ("int64_t X", true),
    ("uint64_t X", true),
    ("size_t X", true),
    ("ssize_t X", true),
    ("uintptr_t X", true),
    ("intptr_t X", true),
    ("ptrdiff_t X", true),
    ("time_t X", true),
    ("wchar_t X", false),
    ("char16_t X", true),
    ("char32_t X", true),
    ("my_u64 X", true),
    ("my_long X", true),
    // gcc makes an enum without negative enumerators `unsigned int`, MSVC `int`: the signedness is the
    // compiler's choice, and the binding checks do not compare it.
    ("enum color X", false),
    ("struct point X", false),
    ("point_t X", false),
    ("anon_t X", false),
    ("void *X", false),
    ("const char *X", false),
    ("char *X", false),
    ("cstr_t X", false),
    ("const gchar *X", false),
    ("const wchar_t *X", false),
    ("int64_t *X", false),
    ("const char **X", false),
    ("struct point *X", false),
    ("int X[4]", false),
    ("uint16_t X[3]", false),
    ("double X[2][3]", false),
    ("struct point X[2]", false),
    ("anon_t X[3]", false),
];

#[test]
fn member_spellings_have_the_c_types_size_alignment_and_signedness() {
    let Some([gcc, python]) = oracles(["gcc", "python3"]) else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let mut header = HEADERS.to_string();
    for (i, (decl, _)) in TABLE.iter().enumerate() {
        writeln!(header, "typedef {};", decl.replace('X', &format!("row{i}"))).unwrap();
    }
    let h = dir.path().join("table.h");
    std::fs::write(&h, &header).expect("write header");

    // Ours: the header parsed with the host's system headers, each row spelled as a member.
    let host = Target::LinuxX86_64;
    let opts = ParseOptions {
        target_system_includes: true,
        target_defines: host.predefined_macros(),
        ..Default::default()
    };
    let spec = parse_header(h.to_str().unwrap(), &opts).expect("table parses");
    // Spelled for the ctypes of the Python that checks them (`c_time_t` only from 3.12).
    let minor: u8 = Command::new(&python)
        .args(["-c", "import sys; print(sys.version_info[1])"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .expect("python3's minor version");
    let ctypes = Ctypes::of_python_minor(minor);
    let spelled: Vec<String> = (0..TABLE.len())
        .map(|i| {
            let td = spec.typedef(&format!("row{i}")).expect("row declared");
            ctypes_spelling(&spec, &td.ty, Place::Member, ctypes, 0)
                .unwrap_or_else(|| panic!("{}: no spelling", TABLE[i].0))
        })
        .collect();

    // The compiler: size, alignment and signedness of each row.
    let mut c = format!(
        "#include \"{}\"\n#include <stdio.h>\nint main(void) {{\n",
        h.display()
    );
    for (i, (_, int)) in TABLE.iter().enumerate() {
        let sign = if *int {
            format!("((row{i})-1 < 0)")
        } else {
            "-1".into()
        };
        writeln!(
            c,
            "printf(\"%zu %zu %d\\n\", sizeof(row{i}), _Alignof(row{i}), {sign});"
        )
        .unwrap();
    }
    c.push_str("return 0;\n}\n");
    let src = dir.path().join("probe.c");
    let exe = dir.path().join("probe");
    std::fs::write(&src, c).expect("write probe");
    tool(
        &gcc,
        &[
            "-std=gnu11",
            "-w",
            "-o",
            exe.to_str().unwrap(),
            src.to_str().unwrap(),
        ],
    );
    let truth = tool(&exe, &[]);

    // CPython: the same of each spelling; "missing" for a name this ctypes does not have.
    let mut py = format!("import ctypes\nfrom ctypes import *\n{CLASSES}\n");
    py.push_str(
        "def row(text, is_int):
    try:
        t = eval(text)
    except (NameError, AttributeError):
        print('missing')
        return
    sign = int(t(-1).value < 0) if is_int else -1
    print(ctypes.sizeof(t), ctypes.alignment(t), sign)
",
    );
    for (i, (_, int)) in TABLE.iter().enumerate() {
        writeln!(
            py,
            "row({:?}, {})",
            spelled[i],
            if *int { "True" } else { "False" }
        )
        .unwrap();
    }
    let out = Command::new(&python)
        .args(["-I", "-c", &py])
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python3: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ctypes_says = String::from_utf8_lossy(&out.stdout).into_owned();

    let mut wrong = Vec::new();
    let mut checked = 0;
    for (i, (c_line, py_line)) in truth.lines().zip(ctypes_says.lines()).enumerate() {
        if py_line == "missing" {
            println!(
                "skipped: {} is spelled {}, which this Python's ctypes does not have",
                TABLE[i].0, spelled[i]
            );
            continue;
        }
        checked += 1;
        if c_line != py_line {
            wrong.push(format!(
                "{} spelled {}: C (size align signed) {c_line}, ctypes {py_line}",
                TABLE[i].0, spelled[i]
            ));
        }
    }
    assert_eq!(truth.lines().count(), TABLE.len(), "{truth}");
    assert_eq!(ctypes_says.lines().count(), TABLE.len(), "{ctypes_says}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert!(checked >= TABLE.len() - 2, "only {checked} rows checked");
}
