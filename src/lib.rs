//! ffi-doctor: tells people who call native shared libraries through an FFI why their binding will break, before
//! it does. Data flows one way: bytes (mmap) → [`binary`] model → analyses → [`report`] → renderer.

pub mod binary;
pub mod cli;
pub mod commands;
pub mod error;
pub mod loader;
pub mod report;
pub mod symbols;
