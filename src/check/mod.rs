//! `check LIB SPEC` and `check LIB BINDING.py`: rules that compare a declared interface (a C header or a cffi cdef) with the library's
//! exports, the target ABI and portability traps, and emit findings with stable codes; [`run`] orchestrates them
//! for one library ([`check_library`]).

pub mod binding;
pub mod binding_types;
pub mod dwarf;
pub mod portability;
pub mod run;
pub mod symbols;

pub use binding::{check_binding, check_read_binding};
pub use run::{check_library, CheckOptions, CheckReport, ImageCheck};
