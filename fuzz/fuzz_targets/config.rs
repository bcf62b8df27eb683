//! Fuzz `ffi_doctor::gate::config::load`: any bytes as `ffi-doctor.toml` (or, when the first byte is odd,
//! `pyproject.toml`) must load or give a config error with a message — never a panic or a hang.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn scratch() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("scratch dir"))
        .path()
}

fuzz_target!(|data: &[u8]| {
    let name = if data.first().is_some_and(|b| b & 1 == 1) {
        "pyproject.toml"
    } else {
        "ffi-doctor.toml"
    };
    let p = scratch().join(name);
    std::fs::write(&p, data).expect("writing the input");
    match ffi_doctor::gate::config::load(&p) {
        Ok(l) => std::hint::black_box(format!("{:?}", l.config).len()),
        Err(e) => {
            assert!(!e.message.is_empty(), "a config error has a message");
            std::hint::black_box(e.to_string().len())
        }
    };
});
