//! The subcommands: each owns its clap arguments, turns them into library options once, makes the library call
//! and renders the result. No parsing of inputs and no analysis lives here, and no library module imports this
//! one; flag groups shared by several commands are in [`args`].

pub mod args;
pub mod check;
pub mod deps;
pub mod diff;
pub mod gate;
pub mod inspect;
pub mod layout;
pub mod load;
pub mod resolve;
pub mod symbols;

use crate::report::OutputFormat;

/// What every command needs to know about how to talk to the user.
#[derive(Debug, Clone, Copy)]
pub struct Context {
    pub format: OutputFormat,
    pub quiet: bool,
}
