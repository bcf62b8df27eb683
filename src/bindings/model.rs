//! The declarations of a Python binding, as read statically from its source (never imported, never executed):
//! the libraries it loads, the functions it declares on them (ctypes `argtypes`/`restype`, prototypes), its
//! ctypes `Structure`/`Union` classes, its cffi `cdef` strings, and what could not be resolved. The reader
//! (`bindings::python`) produces a [`Binding`]; the checks and the ctypes layout model read it.
//!
//! ctypes' fundamental types are kept as the ctypes name resolved through aliases ([`Simple`]); each has one C
//! equivalent ([`Simple::c_type`]) so sizes and alignments per target come from the ABI engine, which the
//! compiler oracles already hold to the real compilers.

use serde::Serialize;

use crate::decl::{Loc, Prim, QualType, Type};

/// A ctypes fundamental type, after resolving aliases (`c_int64` stays `Int64`: which C type CPython binds it to
/// depends on the platform, and the C equivalent `int64_t` is right on every target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Simple {
    Bool,
    /// `c_char`: one byte, used as `char`.
    Char,
    WChar,
    Byte,
    UByte,
    Short,
    UShort,
    Int,
    UInt,
    Long,
    ULong,
    LongLong,
    ULongLong,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Size,
    SSize,
    /// `c_time_t` (3.12+).
    Time,
    Float,
    Double,
    LongDouble,
    /// `c_float_complex`, `c_double_complex`, `c_longdouble_complex` (3.14).
    FloatComplex,
    DoubleComplex,
    LongDoubleComplex,
    /// `c_char_p`: a `char *` that ctypes converts from and to immutable `bytes`.
    CharP,
    /// `c_wchar_p`.
    WCharP,
    /// `c_void_p`.
    VoidP,
    /// `py_object`: a `PyObject *`.
    PyObject,
    /// `HRESULT` (Windows, a `long` with an error check).
    HResult,
    /// `wintypes.VARIANT_BOOL` (a `short`).
    VariantBool,
}

impl Simple {
    /// Every fundamental type with its ctypes spelling, for readers and messages.
    pub const NAMES: &'static [(&'static str, Simple)] = &[
        ("c_bool", Simple::Bool),
        ("c_char", Simple::Char),
        ("c_wchar", Simple::WChar),
        ("c_byte", Simple::Byte),
        ("c_ubyte", Simple::UByte),
        ("c_short", Simple::Short),
        ("c_ushort", Simple::UShort),
        ("c_int", Simple::Int),
        ("c_uint", Simple::UInt),
        ("c_long", Simple::Long),
        ("c_ulong", Simple::ULong),
        ("c_longlong", Simple::LongLong),
        ("c_ulonglong", Simple::ULongLong),
        ("c_int8", Simple::Int8),
        ("c_uint8", Simple::UInt8),
        ("c_int16", Simple::Int16),
        ("c_uint16", Simple::UInt16),
        ("c_int32", Simple::Int32),
        ("c_uint32", Simple::UInt32),
        ("c_int64", Simple::Int64),
        ("c_uint64", Simple::UInt64),
        ("c_size_t", Simple::Size),
        ("c_ssize_t", Simple::SSize),
        ("c_time_t", Simple::Time),
        ("c_float", Simple::Float),
        ("c_double", Simple::Double),
        ("c_longdouble", Simple::LongDouble),
        ("c_float_complex", Simple::FloatComplex),
        ("c_double_complex", Simple::DoubleComplex),
        ("c_longdouble_complex", Simple::LongDoubleComplex),
        ("c_char_p", Simple::CharP),
        ("c_wchar_p", Simple::WCharP),
        ("c_void_p", Simple::VoidP),
        ("py_object", Simple::PyObject),
        ("HRESULT", Simple::HResult),
        ("VARIANT_BOOL", Simple::VariantBool),
    ];

    /// The ctypes spelling (`c_ulong`).
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(_, s)| *s == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }

    /// The fundamental type a ctypes name denotes (`c_ulong` → `ULong`); `None` for anything else.
    pub fn from_name(name: &str) -> Option<Simple> {
        Self::NAMES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, s)| *s)
    }

    /// The C type this ctypes type is on every target (`c_long` → `long`, `c_int64` → `int64_t`,
    /// `c_char_p` → `char *`). Complex types map to their real part's type as a two-element array, which is how
    /// every supported ABI lays them out.
    pub fn c_type(self) -> QualType {
        let prim = |p| QualType::new(Type::Prim { prim: p });
        let named = |n: &str| {
            QualType::new(Type::Named {
                name: n.to_string(),
            })
        };
        let ptr = |t: QualType| {
            QualType::new(Type::Pointer {
                pointee: Box::new(t),
            })
        };
        let complex = |p| {
            QualType::new(Type::Array {
                elem: Box::new(prim(p)),
                len: Some(2),
            })
        };
        match self {
            Simple::Bool => prim(Prim::Bool),
            Simple::Char => prim(Prim::Char),
            Simple::WChar => prim(Prim::WChar),
            Simple::Byte => prim(Prim::SChar),
            Simple::UByte => prim(Prim::UChar),
            Simple::Short | Simple::VariantBool => prim(Prim::Short),
            Simple::UShort => prim(Prim::UShort),
            Simple::Int => prim(Prim::Int),
            Simple::UInt => prim(Prim::UInt),
            Simple::Long | Simple::HResult => prim(Prim::Long),
            Simple::ULong => prim(Prim::ULong),
            Simple::LongLong => prim(Prim::LongLong),
            Simple::ULongLong => prim(Prim::ULongLong),
            Simple::Int8 => named("int8_t"),
            Simple::UInt8 => named("uint8_t"),
            Simple::Int16 => named("int16_t"),
            Simple::UInt16 => named("uint16_t"),
            Simple::Int32 => named("int32_t"),
            Simple::UInt32 => named("uint32_t"),
            Simple::Int64 => named("int64_t"),
            Simple::UInt64 => named("uint64_t"),
            Simple::Size => named("size_t"),
            Simple::SSize => named("ssize_t"),
            Simple::Time => named("time_t"),
            Simple::Float => prim(Prim::Float),
            Simple::Double => prim(Prim::Double),
            Simple::LongDouble => prim(Prim::LongDouble),
            Simple::FloatComplex => complex(Prim::Float),
            Simple::DoubleComplex => complex(Prim::Double),
            Simple::LongDoubleComplex => complex(Prim::LongDouble),
            Simple::CharP => ptr(prim(Prim::Char)),
            Simple::WCharP => ptr(prim(Prim::WChar)),
            Simple::VoidP | Simple::PyObject => ptr(prim(Prim::Void)),
        }
    }
}

/// A ctypes type expression, resolved statically.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum CType {
    Simple {
        simple: Simple,
    },
    /// `POINTER(T)` (also `ctypes.pointer`'s type).
    Pointer {
        pointee: Box<CType>,
    },
    /// `T * n`.
    Array {
        elem: Box<CType>,
        len: u64,
    },
    /// A `Structure`/`Union` class: index into [`Binding::records`].
    Record {
        id: usize,
    },
    /// A `CFUNCTYPE`/`WINFUNCTYPE`/`PYFUNCTYPE` prototype, a function pointer: index into
    /// [`Binding::prototypes`].
    FuncPtr {
        id: usize,
    },
    /// `None` as a restype: `void`.
    Void,
    /// What the reader could not resolve: the expression's source text. Never guessed; the checks skip it and
    /// the reader lists it as unresolved.
    Unknown {
        text: String,
    },
}

/// One `_fields_` entry: `(name, type)` or `(name, type, bits)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CField {
    pub name: String,
    pub ty: CType,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    pub loc: Loc,
}

/// Byte order of a record class (`BigEndianStructure`, `LittleEndianUnion`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Endian {
    #[default]
    Native,
    Big,
    Little,
}

/// `_layout_` (3.14): which compiler's rules ctypes follows.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayoutRule {
    /// `"ms"`.
    Ms,
    /// `"gcc-sysv"`.
    GccSysv,
    /// Any other string (ctypes raises).
    Other(String),
}

/// A `Structure` or `Union` subclass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CRecord {
    /// The Python class name.
    pub name: String,
    pub is_union: bool,
    pub endian: Endian,
    /// `_fields_`, or `None` when it is never assigned (an incomplete type: only usable through pointers) or is
    /// computed (then the reader also lists it as unresolved).
    pub fields: Option<Vec<CField>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub align: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layout: Option<LayoutRule>,
    /// `_anonymous_`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub anonymous: Vec<String>,
    /// A record class deriving from another record class: the base's index (its fields come first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<usize>,
    /// The `class` statement.
    pub loc: Loc,
}

/// How a foreign function is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallConv {
    /// `CDLL`, `CFUNCTYPE`, cffi.
    #[default]
    Cdecl,
    /// `WinDLL`/`OleDLL`, `WINFUNCTYPE` (`__stdcall` on 32-bit Windows, the one convention elsewhere).
    Stdcall,
    /// `PyDLL`, `PYFUNCTYPE`: cdecl, the GIL is held.
    Python,
}

/// A `CFUNCTYPE(restype, *argtypes)` prototype.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prototype {
    /// The Python name it is bound to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub restype: CType,
    pub argtypes: Vec<CType>,
    pub conv: CallConv,
    pub loc: Loc,
}

/// How a library is loaded: the ctypes loader class or cffi's `ffi.dlopen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Loader {
    /// `CDLL`, `cdll.LoadLibrary`, `cdll.NAME`.
    Cdll,
    /// `WinDLL`, `windll`.
    WinDll,
    /// `OleDLL`, `oledll`.
    OleDll,
    /// `PyDLL`, `pydll`.
    PyDll,
    /// cffi `ffi.dlopen`.
    CffiDlopen,
}

impl Loader {
    /// The calling convention functions found through this loader use.
    pub fn conv(self) -> CallConv {
        match self {
            Loader::WinDll | Loader::OleDll => CallConv::Stdcall,
            Loader::PyDll => CallConv::Python,
            Loader::Cdll | Loader::CffiDlopen => CallConv::Cdecl,
        }
    }

    /// The Python spelling, for messages.
    pub fn spelling(self) -> &'static str {
        match self {
            Loader::Cdll => "CDLL",
            Loader::WinDll => "WinDLL",
            Loader::OleDll => "OleDLL",
            Loader::PyDll => "PyDLL",
            Loader::CffiDlopen => "ffi.dlopen",
        }
    }
}

/// What name or path a library is loaded by, resolved statically.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum LibName {
    /// A literal file name or path (`"libz.so.1"`, `"msvcrt"`), searched by the platform's loader.
    Literal { name: String },
    /// `ctypes.util.find_library("z")`: the platform's rules turn the short name into a file name, or `None`.
    FindLibrary { name: String },
    /// `os.path.join(os.path.dirname(__file__), "x", "y")`: a path relative to the module's directory.
    ModuleRelative { path: String },
    /// `CDLL(None)` / `ffi.dlopen(None)`: the main program and what it has loaded.
    MainProgram,
    /// Anything else: the expression's source text.
    Unknown { text: String },
}

/// One library the binding loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Library {
    /// The Python names bound to it (`z`, `_lib`).
    pub bound_to: Vec<String>,
    pub loader: Loader,
    /// Every name the binding tries, in order (a fallback list counts each candidate).
    pub names: Vec<LibName>,
    /// `CDLL(find_library(...))` whose `None` result is never tested: `CDLL(None)` is the main program.
    pub unchecked_find_library: bool,
    /// Loaded only under a version/platform/`os.path.exists` check or in a `try` that catches the failure: the
    /// binding expects it to be missing somewhere.
    pub guarded: bool,
    /// Loaded with `use_errno=True` / `use_last_error=True` (ctypes then swaps its private copy of `errno` / the
    /// Windows last error around every call of the library's functions), or with keyword arguments it cannot see
    /// (`**kw`), which may set them.
    pub use_errno: Flag,
    pub use_last_error: Flag,
    pub loc: Loc,
}

/// A keyword flag of a call, as far as the source shows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    #[default]
    Absent,
    Set,
    /// Computed, or possibly in a `**kwargs`.
    Unknown,
}

/// A read of ctypes' private copy of `errno` (`ctypes.get_errno()`) or of the Windows last error
/// (`ctypes.get_last_error()`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrnoRead {
    /// `get_last_error` rather than `get_errno`.
    pub last_error: bool,
    pub loc: Loc,
}

/// A type set on a foreign function, with where it was set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Typed<T> {
    pub value: T,
    pub loc: Loc,
}

/// One call of a foreign function in the binding's code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallSite {
    /// Positional arguments (`None` when a `*args` makes the count unknown).
    pub args: Option<usize>,
    /// Arguments that create a callback object inline (`PROTO(pyfunc)`): (argument index, prototype id).
    pub inline_callbacks: Vec<(usize, usize)>,
    pub loc: Loc,
}

/// A foreign function the binding looks up on a library (`lib.f`, `lib["f"]`, `getattr(lib, "f")`,
/// `PROTO(("f", lib))`), with what it declares about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionDecl {
    /// The exported name looked up.
    pub name: String,
    /// Index into [`Binding::libraries`].
    pub library: usize,
    /// The first mention.
    pub loc: Loc,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub argtypes: Option<Typed<Vec<CType>>>,
    /// `argtypes` is assigned something the reader cannot resolve: it is set, but to what is unknown.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub argtypes_unresolved: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub restype: Option<Typed<CType>>,
    /// `errcheck` is set (it may turn the raw result into anything).
    pub errcheck: bool,
    /// Instantiated from a prototype (`PROTO(("f", lib), paramflags)`): its index into [`Binding::prototypes`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prototype: Option<usize>,
    pub calls: Vec<CallSite>,
    /// Every lookup is guarded: under an `if` on a version, a platform or `hasattr`, in a `try` that catches
    /// `AttributeError`, or through `getattr(lib, "f", default)`. A missing export is then expected somewhere.
    pub guarded: bool,
}

/// One `ffi.cdef(...)` call: its text laid out at the same lines and columns as in the `.py` file (everything
/// else blanked), so positions the cdef parser reports are positions in the `.py` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CdefBlock {
    #[serde(skip)]
    pub text: String,
    pub loc: Loc,
}

/// Something the reader saw but cannot resolve statically (a computed name, dynamic `_fields_`): listed, never
/// guessed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unresolved {
    /// What it is (`library name`, `_fields_ of Point`, `argtypes of f`).
    pub what: String,
    /// The expression's source text (shortened).
    pub text: String,
    pub loc: Loc,
}

/// Everything a Python binding declares.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// The `.py` file.
    pub file: String,
    pub libraries: Vec<Library>,
    pub functions: Vec<FunctionDecl>,
    pub records: Vec<CRecord>,
    pub prototypes: Vec<Prototype>,
    /// Every `ffi.cdef(...)`, in order.
    pub cdefs: Vec<CdefBlock>,
    /// `ffi.set_source(...)` calls: cffi API mode, where the C compiler checks the declarations.
    pub set_source: Vec<Loc>,
    pub unresolved: Vec<Unresolved>,
    /// Syntax errors the parser recovered from (the rest of the file was read).
    pub syntax_errors: Vec<Loc>,
    /// Every `ctypes.get_errno()` / `ctypes.get_last_error()` call.
    pub errno_reads: Vec<ErrnoRead>,
}

impl Binding {
    /// Every cdef block as one text for the cdef parser, each block at its own lines (and columns) of the `.py`
    /// file, so positions in the parsed declarations are positions in the binding.
    pub fn cdef_text(&self) -> String {
        let mut text = String::new();
        for c in &self.cdefs {
            let have = text.matches('\n').count();
            let lead = c.text.bytes().take_while(|&x| x == b'\n').count();
            if lead >= have {
                text.push_str(&c.text[have..]);
            } else {
                text.push('\n');
                text.push_str(&c.text[lead..]);
            }
        }
        text
    }

    /// The C names of the functions the binding looks up on a library (ctypes declarations and named
    /// prototypes), in source order, repeated where declared twice.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.functions
            .iter()
            .map(|f| f.name.as_str())
            .chain(self.prototypes.iter().filter_map(|p| p.name.as_deref()))
    }
}
