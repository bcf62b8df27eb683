//! The `ffi-doctor` binary: parse the command line and hand over to the library.

use clap::Parser;

#[global_allocator]
static ALLOC: ffi_doctor::huge_pages::HugePageAlloc = ffi_doctor::huge_pages::HugePageAlloc;

fn main() {
    ffi_doctor::binary::install_panic_hook();
    let cli = ffi_doctor::cli::Cli::parse();
    std::process::exit(ffi_doctor::cli::run(cli));
}
