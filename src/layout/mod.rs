//! Layouts as a library, whatever computed them: the cross-target comparison of declared types that `layout SPEC --targets` renders and `check --targets` reports on
//! ([`compare`]), and which source a `layout` input is ([`source`]).

pub mod compare;
pub mod source;

pub use crate::report::pahole::{write_pahole, LayoutView, MemberView};
pub use compare::{
    all_records, compare, find, not_found, parse_for, parse_per_target, Comparison, PerTarget,
    TypeDoc,
};
pub use source::{dwarf_records, is_spec_file};
