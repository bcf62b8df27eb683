//! ffi-doctor: tells people who call native shared libraries through an FFI why their binding will break, before
//! it does. Data flows one way: bytes (mmap) → [`binary`] model → analyses → [`report`] → renderer.

pub mod abi;
pub mod binary;
pub mod check;
pub mod cli;
pub mod commands;
pub mod decl;
pub mod dwarf;
pub mod error;
pub mod gate;
pub mod input;
pub mod layout;
pub mod loader;
pub mod report;
pub mod runtime;
pub mod tempdirs;
