//! Layouts of declared types as a library: the cross-target comparison that `layout SPEC --targets` renders and
//! `check --targets` reports on.

pub mod compare;

pub use compare::{
    all_records, compare, find, not_found, parse_for, parse_per_target, Comparison, PerTarget,
    TypeDoc,
};

pub mod view;

pub use view::{write_pahole, LayoutView, MemberView};
