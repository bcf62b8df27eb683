//! `check LIB SPEC`: rules that compare a declared interface (a C header or a cffi cdef) with the library's
//! exports, the target ABI and portability traps, and emit findings with stable codes.

pub mod dwarf;
pub mod portability;
pub mod symbols;
