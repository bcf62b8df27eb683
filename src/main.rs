//! The `ffi-doctor` binary: parse the command line and hand over to the library.

use clap::Parser;

fn main() {
    ffi_doctor::binary::install_panic_hook();
    let cli = ffi_doctor::cli::Cli::parse();
    std::process::exit(ffi_doctor::cli::run(cli));
}
