//! ffi-doctor: tells people who call native shared libraries through an FFI why their binding will break, before
//! it does. Data flows one way: bytes (mmap, parsed once) → [`binary`] model → analyses ([`loader`], [`decl`] +
//! [`abi`] + [`dwarf`], [`runtime`], [`check`], [`gate`]) → findings ([`report`]) → renderers; no module imports
//! one on a higher floor (`docs/architecture.md` draws the floors).

pub mod abi;
pub mod archive;
pub mod binary;
pub mod bindings;
pub mod check;
pub mod cli;
pub mod commands;
pub mod decl;
pub mod diff;
pub mod dwarf;
pub mod error;
pub mod gate;
pub mod huge_pages;
pub mod input;
pub mod layout;
pub mod loader;
pub mod report;
pub mod runtime;
pub mod tempdirs;
