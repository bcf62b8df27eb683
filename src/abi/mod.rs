//! The ABI engine: sizes, alignments and struct/union layouts of the declarations in a [`Spec`] for a given
//! [`Target`], following what the target's compiler does (GCC/Clang Itanium-style layout on Linux and macOS,
//! the Microsoft layout on MSVC, and GCC's `-mms-bitfields` flavour on MinGW). Every rule here is checked
//! against the real compilers by `tests/oracle_abi.rs` (random records) and `tests/oracle_headers.rs` (the
//! installed headers of 17 C libraries, every record, on x86_64/i386/AArch64 Linux and both MinGW targets).
//!
//! Each target's predefined macros are data generated from its real compiler (`scripts/gen-predefined.sh`
//! writes `src/abi/predefined/<target>.txt`, embedded here): limits, type and ISA macros, compiler identity,
//! and the compiler's `__has_attribute`/`__has_builtin`/`__has_feature` answers. Extended floating types
//! (`__float128`, `_Float128`, `_Float16`, `__bf16`, `_Float64x`) and `_Complex T` are laid out per target or
//! refused with an error naming the type where the target's compiler lacks it.
//!
//! Offsets of the members of an anonymous struct/union member ([`FieldLayout::nested`]) are relative to the
//! start of that anonymous member, exactly like a separately laid-out record; add the member's own
//! [`FieldLayout::offset`] for the offset in the enclosing record.

mod layout;
mod render;
mod target;

pub use layout::{record_layout, record_layouts, type_layout};
pub use render::{layout_view, render_pahole};
pub use target::{for_image, parse_predefined, Target, TARGET_MARKER};

use serde::Serialize;

/// Size and alignment of a type, in bytes. The alignment is the ABI alignment the type has as a struct
/// member (what `_Alignof` reports; e.g. 4 for `double` on i386 SysV).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Layout {
    pub size: u64,
    pub align: u64,
}

/// Why a layout cannot be computed; the message names the type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct LayoutError {
    pub message: String,
}

impl LayoutError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        LayoutError {
            message: message.into(),
        }
    }
}

/// The layout of a struct or union.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordLayout {
    pub size: u64,
    pub align: u64,
    /// Members in declaration order (unnamed bitfields and anonymous members included).
    pub fields: Vec<FieldLayout>,
    /// Padding between members: `(offset, bytes)`. Bytes that hold no bit of any member.
    pub holes: Vec<(u64, u64)>,
    /// Padding after the last member up to `size`.
    pub tail_padding: u64,
}

/// One member of a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldLayout {
    /// `None` for an anonymous struct/union member or an unnamed bitfield.
    pub name: Option<String>,
    /// Byte offset; for a bitfield the byte holding its first bit (`bit_offset / 8`).
    pub offset: u64,
    /// Size in bytes of the member's type (for a bitfield: of its declared type, i.e. its storage unit; 0 for
    /// a flexible array member).
    pub size: u64,
    /// The alignment the member was placed with (after `packed`, `aligned`, `#pragma pack`).
    pub align: u64,
    /// For bitfields: offset in bits from the start of the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_offset: Option<u64>,
    /// For bitfields: the declared width.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bit_width: Option<u32>,
    /// For anonymous struct/union members: their own layout (offsets relative to this member).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nested: Option<Box<RecordLayout>>,
}

#[cfg(test)]
mod tests;
