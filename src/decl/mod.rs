//! The declared interface of a library: functions, variables, structs/unions, enums, typedefs and integer
//! constants as a C header or a cffi `cdef` declares them, each with its `file:line:col`. Parsing lives in
//! submodules; this file is the model every analysis (ABI layout, checks) reads.

use serde::Serialize;

/// A source position (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Default)]
pub struct Loc {
    pub file: String,
    pub line: u32,
    pub col: u32,
}

impl std::fmt::Display for Loc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.col)
    }
}

/// C's built-in arithmetic and character types. Their size and alignment depend on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prim {
    Void,
    /// `_Bool` / `bool`.
    Bool,
    /// Plain `char`: signedness depends on the target (unsigned on Linux aarch64).
    Char,
    SChar,
    UChar,
    Short,
    UShort,
    Int,
    UInt,
    Long,
    ULong,
    LongLong,
    ULongLong,
    Int128,
    UInt128,
    Float,
    Double,
    LongDouble,
    /// `wchar_t`: 4 bytes on Linux/macOS, 2 on Windows.
    WChar,
    Char16,
    Char32,
}

/// Type qualifiers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Quals {
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_const: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_volatile: bool,
}

/// A C type as declared (typedef names are kept, so diagnostics can say `uLong` rather than `unsigned long`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Type {
    Prim {
        prim: Prim,
    },
    /// A typedef name: a user typedef of the spec, or a standard one (`size_t`, `int32_t`, …) the ABI knows.
    Named {
        name: String,
    },
    Pointer {
        pointee: Box<QualType>,
    },
    /// `len` is `None` for a flexible array member or an incomplete array parameter.
    Array {
        elem: Box<QualType>,
        len: Option<u64>,
    },
    Function {
        sig: Box<FnSig>,
    },
    /// A struct or union: index into [`Spec::records`].
    Record {
        id: usize,
    },
    /// An enum: index into [`Spec::enums`].
    Enum {
        id: usize,
    },
}

/// A type with its qualifiers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct QualType {
    #[serde(flatten)]
    pub ty: Type,
    #[serde(flatten)]
    pub quals: Quals,
}

impl QualType {
    pub fn new(ty: Type) -> Self {
        QualType {
            ty,
            quals: Quals::default(),
        }
    }
}

/// A function signature.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FnSig {
    pub ret: QualType,
    pub params: Vec<Param>,
    /// `...` at the end.
    pub variadic: bool,
    /// `f()` in C (not C++): parameters unspecified.
    pub unprototyped: bool,
    /// An explicit calling convention (`__stdcall`, `__cdecl`, `__fastcall`, `__vectorcall`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callconv: Option<String>,
}

/// A function parameter.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Param {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub ty: QualType,
}

/// `struct` or `union`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Struct,
    Union,
}

/// A struct or union definition (or a forward declaration when `complete` is false).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub kind: RecordKind,
    /// The tag; `None` for an anonymous record (named through a typedef or a field).
    pub tag: Option<String>,
    pub fields: Vec<Field>,
    /// A definition was seen (not only `struct s;`).
    pub complete: bool,
    /// cffi `...;` inside the body: only the listed fields are declared, the real layout has more.
    pub partial: bool,
    /// `__attribute__((packed))` on the record.
    pub packed: bool,
    /// `#pragma pack(n)` in force at the definition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pack: Option<u32>,
    /// `__attribute__((aligned(n)))` / `__declspec(align(n))` on the record. `Some(0)` is a bare
    /// `__attribute__((aligned))`: the target's largest useful alignment (16 on x86_64/AArch64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aligned: Option<u32>,
    pub loc: Loc,
}

/// A member of a struct or union.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    /// `None` for an anonymous struct/union member or an unnamed bitfield.
    pub name: Option<String>,
    pub ty: QualType,
    /// Bitfield width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bits: Option<u32>,
    /// `__attribute__((aligned(n)))` / `_Alignas(n)` on the member (`Some(0)`: bare `aligned`, as for records).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aligned: Option<u32>,
    /// `__attribute__((packed))` on the member.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub packed: bool,
    pub loc: Loc,
}

/// An enum definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enum {
    pub tag: Option<String>,
    /// Enumerators with their values (`None` for cffi `...` values, only known from the library).
    pub variants: Vec<(String, Option<i128>)>,
    pub complete: bool,
    /// cffi `...` among the enumerators.
    pub partial: bool,
    pub loc: Loc,
}

/// A function declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Function {
    pub name: String,
    pub sig: FnSig,
    pub loc: Loc,
}

/// A global variable (`extern int x;`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Variable {
    pub name: String,
    pub ty: QualType,
    pub loc: Loc,
}

/// A typedef.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Typedef {
    pub name: String,
    pub ty: QualType,
    /// cffi `typedef int... t;` (an integer type of unknown size) or `typedef ... t;` (opaque).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cffi_unknown: Option<String>,
    /// `__attribute__((aligned(n)))` on the typedef (after its name, or before `struct` in
    /// `typedef __attribute__((aligned(n))) struct …`): the typedef's alignment is exactly `n` (GCC also lets it
    /// lower the alignment); its size is unchanged. Resolved to the target's biggest alignment when bare.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aligned: Option<u32>,
    pub loc: Loc,
}

/// An integer object-like macro (`#define Z_OK 0`) or cffi `#define X ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Constant {
    pub name: String,
    /// `None` for cffi `...` (value taken from the library).
    pub value: Option<i128>,
    pub loc: Loc,
}

/// Everything a spec declares, in declaration order.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Spec {
    pub functions: Vec<Function>,
    pub variables: Vec<Variable>,
    pub records: Vec<Record>,
    pub enums: Vec<Enum>,
    pub typedefs: Vec<Typedef>,
    pub constants: Vec<Constant>,
    /// Non-fatal notes from parsing (skipped includes, unsupported extensions), with locations.
    pub notes: Vec<(Loc, String)>,
    /// Files that are not the spec's own (found through a system include directory outside the named file's
    /// own include directory): they give the spec types, but their declarations are another library's (the C
    /// library's), not the checked library's.
    #[serde(skip)]
    pub system_files: Vec<String>,
    /// Declarations that an `#include` which was not read may change: each is inside a conditional decided by
    /// macros nothing defined, after that include was skipped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unsure: Vec<Unsure>,
}

/// A declaration that a header which was not read may change (see [`Spec::unsure`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unsure {
    /// What is declared: `function f`, `struct s`, `typedef t`, `variable v`, `enum e`.
    pub declaration: String,
    pub loc: Loc,
    /// Where the `#if` chain that decided it starts.
    pub condition: Loc,
    /// The macros it tested that nothing defined.
    pub macros: Vec<String>,
    /// The include that was not read, as written (`<pthread.h>`), and where.
    pub include: String,
    pub include_loc: Loc,
}

/// Declarations of files that are not the spec's own, taken out of a spec (see [`Spec::take_foreign`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Foreign {
    pub functions: usize,
    pub variables: usize,
    /// Per file, in order of the most functions: file, functions, variables.
    pub files: Vec<ForeignFile>,
}

/// One file's declarations that were not taken as the spec's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ForeignFile {
    pub file: String,
    pub functions: usize,
    pub variables: usize,
}

impl Spec {
    /// The record with this tag.
    pub fn record_by_tag(&self, kind: RecordKind, tag: &str) -> Option<usize> {
        self.records
            .iter()
            .position(|r| r.kind == kind && r.tag.as_deref() == Some(tag))
    }

    /// A user typedef by name.
    pub fn typedef(&self, name: &str) -> Option<&Typedef> {
        self.typedefs.iter().find(|t| t.name == name)
    }

    /// Take out the functions and variables declared by files that are not the spec's own (another library's,
    /// such as the C library's): they give the spec types but are not the library's interface. Says what was
    /// taken out, per file.
    pub fn take_foreign(&mut self) -> Foreign {
        let system = std::mem::take(&mut self.system_files);
        let mut out = Foreign::default();
        if system.is_empty() {
            return out;
        }
        let set: std::collections::HashSet<&str> = system.iter().map(String::as_str).collect();
        let mut per: std::collections::HashMap<String, (usize, usize)> = Default::default();
        self.functions.retain(|f| {
            let foreign = set.contains(f.loc.file.as_str());
            if foreign {
                per.entry(f.loc.file.clone()).or_default().0 += 1;
            }
            !foreign
        });
        self.variables.retain(|v| {
            let foreign = set.contains(v.loc.file.as_str());
            if foreign {
                per.entry(v.loc.file.clone()).or_default().1 += 1;
            }
            !foreign
        });
        let mut files: Vec<ForeignFile> = per
            .into_iter()
            .map(|(file, (functions, variables))| ForeignFile {
                file,
                functions,
                variables,
            })
            .collect();
        files.sort_by(|a, b| {
            (b.functions + b.variables)
                .cmp(&(a.functions + a.variables))
                .then_with(|| a.file.cmp(&b.file))
        });
        out.functions = files.iter().map(|f| f.functions).sum();
        out.variables = files.iter().map(|f| f.variables).sum();
        out.files = files;
        self.system_files = system;
        out
    }

    /// Whether `file` is not the spec's own (see [`Spec::system_files`]).
    pub fn is_foreign_file(&self, file: &str) -> bool {
        self.system_files.iter().any(|s| s == file)
    }
}

// ------------------------------------------------------------------------------------------------ parsing

pub mod c_spelling;
pub mod cffi;
pub mod expr;
pub mod lex;
pub mod parse;
pub mod pkg_config;
pub mod preprocess;
pub mod system_dirs;
mod unsure;

use std::path::PathBuf;

/// Typedef names every parse knows without any `#include` (stdint.h, stddef.h, stdbool.h, stdarg.h, wchar.h,
/// uchar.h, stdio.h's `FILE`, sys/types.h's `off_t`/`ssize_t`, time.h's `time_t`, and GCC's
/// `__builtin_va_list`). They appear as [`Type::Named`]; the ABI engine maps them per target. When a header in
/// scope typedefs one of them itself, that typedef is in [`Spec::typedefs`] and wins (look it up there first).
pub const STANDARD_TYPEDEFS: &[&str] = &[
    "int8_t",
    "int16_t",
    "int32_t",
    "int64_t",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "int_least8_t",
    "int_least16_t",
    "int_least32_t",
    "int_least64_t",
    "uint_least8_t",
    "uint_least16_t",
    "uint_least32_t",
    "uint_least64_t",
    "int_fast8_t",
    "int_fast16_t",
    "int_fast32_t",
    "int_fast64_t",
    "uint_fast8_t",
    "uint_fast16_t",
    "uint_fast32_t",
    "uint_fast64_t",
    "intmax_t",
    "uintmax_t",
    "intptr_t",
    "uintptr_t",
    "size_t",
    "ssize_t",
    "ptrdiff_t",
    "max_align_t",
    "wchar_t",
    "wint_t",
    "char16_t",
    "char32_t",
    "bool",
    "va_list",
    "__builtin_va_list",
    "FILE",
    "off_t",
    "time_t",
];

/// What [`parse_header`] / [`parse_str`] need besides the text.
#[derive(Debug, Clone, Default)]
pub struct ParseOptions {
    /// `-D NAME[=VALUE]`; a `None` value defines the macro as `1`.
    pub defines: Vec<(String, Option<String>)>,
    /// `-I` directories, searched for `#include "x"` (after the including file's directory) and `<x>`.
    pub include_dirs: Vec<PathBuf>,
    /// System directories searched after `include_dirs` (default none: a system include is then skipped with a
    /// note, and the standard typedefs of [`STANDARD_TYPEDEFS`] stand in). `-isystem` directories go here.
    pub system_include_dirs: Vec<PathBuf>,
    /// Also search the target's own system include directories after `system_include_dirs`, as its compiler
    /// does ([`system_dirs::target_system_dirs`]: the host's for the host target, a cross target's installed
    /// headers, or those under `sysroot`). What the command line asks for by default.
    pub target_system_includes: bool,
    /// The target system's root: its `usr/include` stands for the target's system headers.
    pub sysroot: Option<PathBuf>,
    /// Accept cffi `cdef` forms. Also switched on automatically for a `.cdef` file or text containing `...;`.
    pub cffi: bool,
    /// Predefined macros of the target (`__x86_64__`, `_WIN32`, `__SIZEOF_LONG__`, …), supplied by the caller,
    /// normally [`crate::abi::Target::predefined_macros`]: what the target's compiler predefines, ending with
    /// [`crate::abi::TARGET_MARKER`], which names the target so that `__has_attribute`/`__has_builtin`/
    /// `__has_feature` are answered as that compiler does and `sizeof`/`_Alignof`/`offsetof` of records in
    /// constant expressions are laid out with its ABI (without the marker they are 0 and refused).
    /// `__STDC__` (1), `__STDC_VERSION__` (201710L) and `__STDC_HOSTED__` (1) are always predefined before these.
    pub target_defines: Vec<(String, String)>,
}

/// A header that cannot be parsed: where, what was expected there, what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParseError {
    pub loc: Loc,
    pub expected: String,
    pub found: String,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: expected {}, found {}",
            self.loc, self.expected, self.found
        )
    }
}

impl std::error::Error for ParseError {}

/// The largest header or cdef file read (per file): real ones are well under 1 MiB, and the preprocessor keeps
/// about 110 bytes per token, so this bounds its memory to a few hundred MiB.
pub const HEADER_LIMIT: u64 = 8 << 20;

/// Parse a header (or a cffi `cdef` file) from disk.
pub fn parse_header(path: &str, opts: &ParseOptions) -> Result<Spec, ParseError> {
    let bytes = crate::input::read_regular(
        std::path::Path::new(path),
        "a C header or cffi cdef",
        HEADER_LIMIT,
    )
    .map_err(|e| ParseError {
        loc: Loc {
            file: path.to_string(),
            line: 0,
            col: 0,
        },
        expected: e.expected,
        found: e.found,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    parse_str(path, &text, opts)
}

/// Parse header text; `name` is used in locations and its directory for `#include "x"`.
pub fn parse_str(name: &str, text: &str, opts: &ParseOptions) -> Result<Spec, ParseError> {
    let cffi = opts.cffi || cffi::looks_like_cdef(name, text);
    let dir = std::path::Path::new(name).parent().map(|p| p.to_path_buf());
    let (effective, mut notes) = search_path(opts, cffi);
    let opts = &effective;
    let out = preprocess::preprocess(name, text, dir, opts, cffi).map_err(|e| ParseError {
        loc: Loc {
            file: e.file,
            line: e.loc.line,
            col: e.loc.col,
        },
        expected: e.expected,
        found: e.found,
    })?;
    let system_files = out.system_files.clone();
    let unread = out.unread.clone();
    let regions = out.unsure.clone();
    let files = out.files.clone();
    let mut spec = parse::parse(
        out,
        cffi,
        preprocess::target_sizes(opts),
        crate::abi::Target::from_defines(&opts.target_defines),
    )?;
    spec.system_files = system_files;
    notes.append(&mut spec.notes);
    spec.notes = notes;
    spec.unsure = unsure::declarations(&spec, &files, &unread, &regions);
    Ok(spec)
}

/// The include search path a parse uses: `-I` directories that name a system directory keep their system
/// meaning (as with GCC and Clang: they move behind the `-I` list, into the system list), and the target's
/// own system directories follow when asked for. Notes say what was moved or is missing.
fn search_path(opts: &ParseOptions, cffi: bool) -> (ParseOptions, Vec<(Loc, String)>) {
    let mut p = opts.clone();
    let mut notes = Vec::new();
    let builtin = Loc {
        file: "<built-in>".into(),
        line: 0,
        col: 0,
    };
    let target = crate::abi::Target::from_defines(&opts.target_defines);
    let mut system_from_i = Vec::new();
    p.include_dirs.retain(|d| {
        let sys = system_dirs::is_machine_system_dir(d);
        if sys {
            system_from_i.push(d.clone());
        }
        !sys
    });
    if opts.target_system_includes && !cffi {
        let dirs = system_dirs::target_system_dirs(target, opts.sysroot.as_deref());
        if dirs.is_empty() {
            let t = target.or(crate::abi::Target::host());
            notes.push((
                builtin.clone(),
                format!(
                    "no system headers for {} on this machine (pass --sysroot, or -isystem DIR): system \
                     includes are skipped",
                    t.map_or("this target", |t| t.name())
                ),
            ));
        }
        p.system_include_dirs.extend(dirs);
    }
    let canon = |d: &PathBuf| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone());
    for d in system_from_i {
        let c = canon(&d);
        if !p.system_include_dirs.iter().any(|s| canon(s) == c) {
            // Another target's system directory (pkg-config's -I/usr/include/x86_64-linux-gnu for a cross
            // target): searched last, so the target's own C library headers win.
            p.system_include_dirs.push(d);
        }
    }
    (p, notes)
}

impl ParseOptions {
    /// Options from command-line inputs: `-D NAME[=VALUE]`, `-I DIR`, cffi mode, and (when asked) the host's
    /// system include directories.
    pub fn from_args(
        defines: &[String],
        include_dirs: Vec<PathBuf>,
        cffi: bool,
        system_includes: bool,
    ) -> Self {
        ParseOptions {
            defines: defines
                .iter()
                .map(|d| match d.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (d.clone(), None),
                })
                .collect(),
            include_dirs,
            system_include_dirs: if system_includes {
                host_system_include_dirs()
            } else {
                Vec::new()
            },
            cffi,
            ..Default::default()
        }
    }
}

/// The host C compiler's include search list, as `gcc -xc -E -v` prints it on Debian-like systems: local,
/// the GCC builtin directory (stddef.h, stdarg.h), the multiarch directory, then /usr/include.
pub fn host_system_include_dirs() -> Vec<PathBuf> {
    let mut dirs = vec![PathBuf::from("/usr/local/include")];
    let triplet = format!("{}-linux-gnu", std::env::consts::ARCH);
    let mut gcc: Vec<PathBuf> = glob::glob(&format!("/usr/lib/gcc/{triplet}/*/include"))
        .map(|g| g.flatten().collect())
        .unwrap_or_default();
    gcc.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.split('.').next())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    dirs.extend(gcc.pop());
    let multiarch = PathBuf::from(format!("/usr/include/{triplet}"));
    if multiarch.is_dir() {
        dirs.push(multiarch);
    }
    dirs.push(PathBuf::from("/usr/include"));
    dirs.retain(|d| d.is_dir());
    dirs
}

impl Loc {
    /// This position as a finding's location.
    pub fn location(&self) -> crate::report::Location {
        crate::report::Location::at(self.file.as_str(), self.line, self.col)
    }
}

/// A declaration that cannot be parsed is an unusable input: exit 2 with where, what was expected and found.
impl From<ParseError> for crate::error::InputError {
    fn from(e: ParseError) -> crate::error::InputError {
        let at = if e.loc.line > 0 {
            e.loc.to_string()
        } else {
            e.loc.file.clone()
        };
        crate::error::InputError::new(&at, e.expected, e.found).hint(
            "fix the declaration, or pass -D/-I so the preprocessor sees what the compiler sees",
        )
    }
}
