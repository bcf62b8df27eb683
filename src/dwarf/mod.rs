//! Struct layouts, enums, function prototypes and globals from the DWARF debug info of a library, found in the
//! library itself or in its separate debug file (build-id, `.gnu_debuglink`, `--debug-file`, a `.dSYM` bundle).
//! The model ([`DebugInfo`]) is what the checks compare a declared interface ([`crate::decl`]) with.
//!
//! - [`locate`]: where the DWARF is (and why a candidate was rejected): [`search_image`] takes the already parsed
//!   [`crate::binary::Image`] (its ids and bytes), [`search`] a path for callers that have nothing parsed;
//! - [`model`]: DWARF 2–5 DIEs → [`Record`], [`EnumDef`], [`FunctionDef`], [`VariableDef`]; corrupt DWARF is an
//!   [`InputError`] naming the section and the offset in it, reference cycles and runaway type graphs included;
//! - [`render`]: the pahole-like layout text and hole arithmetic.

pub mod locate;
pub mod model;
pub mod render;

use std::path::PathBuf;

use serde::Serialize;

pub use crate::decl::RecordKind;
use crate::error::InputError;

pub use locate::{search, search_image, DebugSearch, Tried};
pub use render::{layout_stats, layout_view, render_layout, Hole, LayoutStats};

/// Where to look for separate debug files.
#[derive(Debug, Clone)]
pub struct DebugOptions {
    /// Use this file's DWARF (`--debug-file PATH`) instead of searching.
    pub debug_file: Option<PathBuf>,
    /// Look for the global debug directories inside this root (an extracted image of the target).
    pub sysroot: Option<PathBuf>,
    /// Global debug directories (default `/usr/lib/debug`): `.build-id/ab/cdef….debug` and `<dir>/<libdir>/<link>`.
    pub debug_dirs: Vec<PathBuf>,
    /// The architecture slice of a universal Mach-O file (default: the first).
    pub arch: Option<String>,
}

impl Default for DebugOptions {
    fn default() -> Self {
        DebugOptions {
            debug_file: None,
            sysroot: None,
            debug_dirs: vec![PathBuf::from("/usr/lib/debug")],
            arch: None,
        }
    }
}

/// Where the DWARF was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DebugSource {
    /// In the library itself (ELF `.debug_*`/`.zdebug_*`, Mach-O `__DWARF`, mingw PE `.debug_*`).
    Embedded,
    /// `<debug-dir>/.build-id/ab/cdef….debug`.
    BuildId,
    /// The file named by `.gnu_debuglink` (CRC32 checked).
    Debuglink,
    /// `--debug-file PATH`.
    DebugFile,
    /// `libx.dylib.dSYM/Contents/Resources/DWARF/libx.dylib` with the same UUID.
    Dsym,
}

impl DebugSource {
    pub fn as_str(self) -> &'static str {
        match self {
            DebugSource::Embedded => "embedded",
            DebugSource::BuildId => "build-id",
            DebugSource::Debuglink => "debuglink",
            DebugSource::DebugFile => "debug-file",
            DebugSource::Dsym => "dsym",
        }
    }
}

/// The structured kind of a type, typedefs and qualifiers resolved away. Records and enums are referred to by
/// name (not expanded), so the description is finite for self-referential types.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TypeKind {
    Void,
    Bool {
        size: u64,
    },
    /// An integer type other than a character type.
    Int {
        signed: bool,
        size: u64,
    },
    /// `char`, `signed char`, `unsigned char` (DW_ATE_signed_char / DW_ATE_unsigned_char), `char16_t`, ….
    Char {
        signed: bool,
        size: u64,
    },
    Float {
        size: u64,
    },
    Complex {
        size: u64,
    },
    Pointer {
        pointee: Box<TypeKind>,
    },
    Record {
        record: RecordKind,
        /// Tag, or the typedef naming an anonymous record; `None` for an anonymous member type.
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        size: Option<u64>,
    },
    Enum {
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        size: u64,
        signed: bool,
    },
    /// One dimension; `int m[3][2]` is an array of 3 arrays of 2. `len` is `None` for a flexible array member.
    Array {
        elem: Box<TypeKind>,
        len: Option<u64>,
    },
    Function {
        ret: Box<TypeKind>,
        params: Vec<TypeKind>,
        variadic: bool,
    },
    /// A DWARF type this model does not describe (C++ reference, pointer to member, …).
    Other {
        tag: String,
    },
}

impl TypeKind {
    /// Is this an integer (or char/bool/enum) kind with a sign?
    pub fn signed(&self) -> Option<bool> {
        match self {
            TypeKind::Int { signed, .. }
            | TypeKind::Char { signed, .. }
            | TypeKind::Enum { signed, .. } => Some(*signed),
            TypeKind::Bool { .. } => Some(false),
            _ => None,
        }
    }
}

/// A type as written in C plus its structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeDesc {
    /// Readable C spelling with typedef names kept (`const char *`, `uLong`, `int [3][2]`, `void (*)(int)`).
    pub c: String,
    /// `sizeof`, when known (`None` for `void`, functions, incomplete types).
    pub size: Option<u64>,
    #[serde(flatten)]
    pub kind: TypeKind,
    /// The typedef names crossed to reach `kind`, outermost first (`uLongf` → `uLong`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub typedefs: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_const: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub is_volatile: bool,
}

/// A struct or union member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    /// `None` for an anonymous struct/union member.
    pub name: Option<String>,
    /// Byte offset from the start of the record. For a bitfield: the offset of its storage unit as pahole shows
    /// it (the type-size-aligned unit holding its first bit).
    pub offset: u64,
    /// Byte size of the member's type.
    pub size: u64,
    #[serde(rename = "type")]
    pub ty: TypeDesc,
    /// Bitfield width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_size: Option<u64>,
    /// Bitfield: absolute offset of its least significant bit position in memory order from the record start,
    /// in bits (`DW_AT_data_bit_offset`, or converted from DWARF 2/3 `DW_AT_bit_offset`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_offset: Option<u64>,
    /// DW_AT_alignment on the member.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alignment: Option<u64>,
    /// The layout of a member whose type is an unnamed struct/union (offsets relative to that record).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anon: Option<Box<Record>>,
    /// The full C declaration (`void (*on_draw)(struct shape *, int, ...)`, `char name[13]`).
    pub decl: String,
    /// The declaration split the way pahole prints it: type column (`struct node *`, `void`) …
    #[serde(skip)]
    pub decl_type: String,
    /// … and declarator column (`left`, `(*on_draw)(struct shape *, int, ...)`, `name[13]`).
    #[serde(skip)]
    pub decl_name: String,
}

impl Member {
    /// Bit position inside the storage unit at [`Member::offset`] (pahole's `offset:bit`).
    pub fn bit_in_unit(&self) -> Option<u64> {
        self.bit_offset.map(|b| b - self.offset * 8)
    }

    /// Start of the member in bits from the record start.
    pub fn start_bit(&self) -> u64 {
        self.bit_offset.unwrap_or(self.offset * 8)
    }

    /// End of the member in bits from the record start.
    pub fn end_bit(&self) -> u64 {
        match (self.bit_offset, self.bit_size) {
            (Some(o), Some(s)) => o + s,
            _ => (self.offset + self.size) * 8,
        }
    }
}

/// A struct or union definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub kind: RecordKind,
    /// The tag, else the typedef naming the anonymous record, else empty (anonymous member types only).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// The first typedef that names this record (`typedef struct {…} padded_t;` → `padded_t`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typedef_name: Option<String>,
    pub byte_size: u64,
    /// DW_AT_alignment (only when the source asked for an alignment).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alignment: Option<u64>,
    pub members: Vec<Member>,
    /// The compilation unit that defined it first.
    pub cu: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decl_line: Option<u64>,
}

/// An enum definition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EnumDef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub typedef_name: Option<String>,
    /// Size of the underlying integer type.
    pub byte_size: u64,
    /// Signedness of the underlying type (from DW_AT_type, else from negative enumerators).
    pub signed: bool,
    pub enumerators: Vec<(String, i128)>,
    pub cu: String,
}

/// A function parameter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ParamDef {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub ty: TypeDesc,
}

/// An external function defined in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunctionDef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linkage_name: Option<String>,
    #[serde(rename = "return")]
    pub ret: TypeDesc,
    pub params: Vec<ParamDef>,
    /// Ends in `...` (DW_TAG_unspecified_parameters).
    pub variadic: bool,
    /// DW_AT_prototyped (false for a K&R definition `f()`).
    pub prototyped: bool,
    pub cu: String,
}

/// An external global variable defined in the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VariableDef {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linkage_name: Option<String>,
    #[serde(rename = "type")]
    pub ty: TypeDesc,
    pub cu: String,
}

/// The DWARF of one library, read into owned data.
#[derive(Debug, Clone, Serialize)]
pub struct DebugInfo {
    pub source: DebugSource,
    /// The file the DWARF was read from (the library itself when embedded).
    pub path: PathBuf,
    /// DWARF versions of the compilation units, sorted, deduplicated.
    pub dwarf_versions: Vec<u16>,
    /// Number of compilation units read.
    pub units: usize,
    /// What was odd along the way (rejected candidates, differing redefinitions, skipped units).
    pub notes: Vec<String>,
    pub(crate) records: Vec<Record>,
    pub(crate) enums: Vec<EnumDef>,
    pub(crate) functions: Vec<FunctionDef>,
    pub(crate) variables: Vec<VariableDef>,
}

impl DebugInfo {
    /// Named structs and unions, first definition per name, in DWARF order.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The struct or union called `name` (its tag or the typedef naming it); a `struct `/`union ` prefix is
    /// accepted.
    pub fn record(&self, name: &str) -> Option<&Record> {
        let (kind, bare) = if let Some(n) = name.strip_prefix("struct ") {
            (Some(RecordKind::Struct), n.trim())
        } else if let Some(n) = name.strip_prefix("union ") {
            (Some(RecordKind::Union), n.trim())
        } else {
            (None, name.trim())
        };
        let ok = |r: &&Record| kind.is_none_or(|k| r.kind == k);
        self.records
            .iter()
            .filter(ok)
            .find(|r| r.tag.as_deref() == Some(bare))
            .or_else(|| {
                self.records
                    .iter()
                    .filter(ok)
                    .find(|r| r.typedef_name.as_deref() == Some(bare) || r.name == bare)
            })
    }

    /// Named enums, first definition per name.
    pub fn enums(&self) -> &[EnumDef] {
        &self.enums
    }

    /// External functions defined here (DW_TAG_subprogram with DW_AT_external), first per name.
    pub fn functions(&self) -> &[FunctionDef] {
        &self.functions
    }

    /// External global variables defined here, first per name.
    pub fn variables(&self) -> &[VariableDef] {
        &self.variables
    }
}

/// Find and read the DWARF describing `lib_path`. `Ok(None)` when there is none (see [`search`] for the notes
/// saying where it looked and why candidates were rejected, e.g. "PDB not read").
pub fn load(lib_path: &str, opts: &DebugOptions) -> Result<Option<DebugInfo>, InputError> {
    Ok(search(lib_path, opts)?.info)
}
