use super::*;
use crate::bindings::model::*;

fn read(src: &str) -> Binding {
    parse_binding("t.py", src).expect("parses")
}

#[test]
fn ctypes_zlib_style() {
    let b = read(
        r#"
import ctypes
import ctypes.util
def load():
    name = ctypes.util.find_library("z") or ctypes.util.find_library("zlib")
    if not name:
        return ctypes.CDLL("libz.so.1")
    return ctypes.CDLL(name, use_errno=True)
z = load()
c_uLong = ctypes.c_ulong
c_uLong_p = ctypes.POINTER(c_uLong)
z.compressBound.argtypes = [c_uLong]
z.compressBound.restype = c_uLong
n = z.compressBound(10)
"#,
    );
    // The two `CDLL` calls in the function, and the one library `load()` gives (either of them).
    assert_eq!(b.libraries.len(), 3, "{:#?}", b.libraries);
    assert!(b.libraries.iter().all(|l| !l.unchecked_find_library));
    assert_eq!(b.libraries[2].bound_to, ["z"]);
    assert_eq!(
        b.libraries[2].names,
        vec![
            LibName::Literal {
                name: "libz.so.1".into()
            },
            LibName::FindLibrary { name: "z".into() },
            LibName::FindLibrary {
                name: "zlib".into()
            }
        ]
    );
    assert_eq!(b.functions.len(), 1);
    let f = &b.functions[0];
    assert_eq!(f.name, "compressBound");
    assert_eq!(f.library, 2);
    assert_eq!(
        f.argtypes.as_ref().unwrap().value,
        vec![CType::Simple {
            simple: Simple::ULong
        }]
    );
    assert_eq!((f.loc.line, f.loc.col), (12, 1));
    assert_eq!(f.calls.len(), 1);
    assert_eq!(f.calls[0].args, Some(1));
    assert!(b.unresolved.is_empty(), "{:?}", b.unresolved);
}

#[test]
fn records_prototypes_and_lookups() {
    let b = read(
        r#"
from ctypes import *
from ctypes import wintypes
import os
lib = CDLL(os.path.join(os.path.dirname(__file__), "libs", "libdemo.so"))
class Node(Structure):
    _pack_ = 1
class Pair(BigEndianStructure):
    _fields_ = [("a", c_int, 3), ("b", wintypes.DWORD * 4)]
Node._fields_ = [("next", POINTER(Node)), ("v", c_double)]
CB = CFUNCTYPE(c_int, c_void_p, c_void_p)
f = CB(("demo_f", lib), ((1, "a"),))
g = lib["demo_g"]
h = getattr(lib, "demo_h")
lib.demo_sort(None, 3, CB(py_cmp))
bad = CDLL(find_library("m"))
"#,
    );
    assert_eq!(
        b.libraries[0].names,
        vec![LibName::ModuleRelative {
            path: "libs/libdemo.so".into()
        }]
    );
    assert!(b.libraries[1].unchecked_find_library);
    assert_eq!(b.records.len(), 2);
    assert_eq!(b.records[0].pack, Some(1));
    assert_eq!(b.records[0].fields.as_ref().unwrap().len(), 2);
    assert_eq!(b.records[1].endian, Endian::Big);
    let pf = b.records[1].fields.as_ref().unwrap();
    assert_eq!(pf[0].bits, Some(3));
    assert_eq!(
        pf[1].ty,
        CType::Array {
            elem: Box::new(CType::Simple {
                simple: Simple::ULong
            }),
            len: 4
        }
    );
    let names: Vec<&str> = b.functions.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["demo_f", "demo_g", "demo_h", "demo_sort"]);
    assert_eq!(b.functions[0].prototype, Some(0));
    assert_eq!(b.functions[3].calls[0].inline_callbacks, vec![(2, 0)]);
}

#[test]
fn cffi_blocks_keep_positions() {
    let b = read("from cffi import FFI\nffi = FFI()\nffi.cdef(\"\"\"\n    int f(int);\n\"\"\")\nlib = ffi.dlopen(\"libc.so.6\")\n");
    assert_eq!(b.cdefs.len(), 1);
    let line4 = b.cdefs[0].text.lines().nth(3).unwrap();
    assert_eq!(line4, "    int f(int);");
    assert_eq!(b.libraries[0].loader, Loader::CffiDlopen);
}

#[test]
fn unresolvable_things_are_listed_not_guessed() {
    let b = read("import ctypes\nlib = ctypes.CDLL(get_name())\nclass S(ctypes.Structure):\n    _fields_ = make()\n");
    let what: Vec<&str> = b.unresolved.iter().map(|u| u.what.as_str()).collect();
    assert_eq!(what, ["library name", "_fields_ of S"]);
    assert_eq!(b.records[0].fields, None);
}

#[test]
fn syntax_errors_are_recovered_and_modern_syntax_parses() {
    let b = read("import ctypes\ntype X = int\nmatch x:\n    case 1: pass\nlib = ctypes.CDLL('libz.so.1')\ndef (:\n");
    assert_eq!(b.libraries.len(), 1);
    assert!(!b.syntax_errors.is_empty());
}

#[test]
fn guarded_lookups_and_library_parameters() {
    let b = read(
        r#"
import ctypes, sys
def _setup(lib):
    lib.always.restype = ctypes.c_int
    if sys.platform == "darwin":
        lib.mac_only.restype = ctypes.c_int
    try:
        lib.maybe.restype = ctypes.c_int
    except AttributeError:
        pass
    f = getattr(lib, "probe", None)
suffix = ".dylib" if sys.platform == "darwin" else ".so"
_lib = ctypes.CDLL("libdemo" + suffix)
_setup(_lib)
"#,
    );
    assert_eq!(
        b.libraries[0].names,
        vec![
            LibName::Literal {
                name: "libdemo.dylib".into()
            },
            LibName::Literal {
                name: "libdemo.so".into()
            }
        ]
    );
    let g: Vec<(&str, bool, usize)> = b
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.guarded, f.library))
        .collect();
    assert_eq!(
        g,
        [
            ("always", false, 0),
            ("mac_only", true, 0),
            ("maybe", true, 0),
            ("probe", true, 0)
        ]
    );
}

#[test]
fn optional_imports_self_attributes_and_lazy_libraries() {
    let b = read(
        r#"
try:
    import ctypes
except ImportError:
    ctypes = None
_libc = None
class W:
    def init(self):
        self._lib = ctypes.CDLL("libfoo.so.1")
        self._lib.foo_init.argtypes = []
def call():
    global _libc
    _libc = _libc or ctypes.CDLL("libc.so.6")
    _libc.free(None)
"#,
    );
    let names: Vec<(&str, usize)> = b
        .functions
        .iter()
        .map(|f| (f.name.as_str(), f.library))
        .collect();
    assert_eq!(names, [("foo_init", 0), ("free", 1)]);
    assert_eq!(b.libraries[0].bound_to, ["self._lib"]);
}

#[test]
fn hostile_sources_are_read_without_panics() {
    let deep_parens = format!("x = {}1{}\n", "(".repeat(20_000), ")".repeat(20_000));
    let deep_blocks: String = (0..400)
        .map(|i| format!("{}if x:\n", "    ".repeat(i)))
        .collect::<String>()
        + &"    ".repeat(400)
        + "lib.f.argtypes = [c_int]\n";
    let deep_types = format!(
        "import ctypes\nl = ctypes.CDLL('libz.so.1')\nl.f.argtypes = [{}c_int{}]\n",
        "POINTER(".repeat(5_000),
        ")".repeat(5_000)
    );
    let garbage: String = (0..20_000u32)
        .map(|i| char::from_u32(i % 0x2ff + 1).unwrap_or('?'))
        .collect();
    let unterminated = "ffi.cdef(\"\"\"\nint f(void);\n".to_string();
    for src in [deep_parens, deep_blocks, deep_types, garbage, unterminated] {
        let b = parse_binding("h.py", &src).expect("read");
        assert!(b.functions.len() <= 1);
    }
}
