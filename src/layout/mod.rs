//! Layouts as a library, whatever computed them: the one layout view and its pahole writer ([`view`]), the
//! cross-target comparison of declared types that `layout SPEC --targets` renders and `check --targets` reports on
//! ([`compare`]), and which source a `layout` input is ([`source`]).

pub mod compare;
pub mod source;
pub mod view;

pub use compare::{
    all_records, compare, find, not_found, parse_for, parse_per_target, Comparison, PerTarget,
    TypeDoc,
};
pub use source::{dwarf_records, is_spec_file};
pub use view::{write_pahole, LayoutView, MemberView};
