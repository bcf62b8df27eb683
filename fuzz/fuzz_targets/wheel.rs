//! Fuzz `ffi_doctor::gate::wheel::extract`: any bytes as a `.whl` must extract (every listed binary inside the
//! temporary directory) or give an input error — never a panic, a hang, or an unbounded allocation or write.

#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;

fn scratch() -> &'static std::path::Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().expect("scratch dir"))
        .path()
}

fuzz_target!(|data: &[u8]| {
    let p = scratch().join("fuzz-1.0-cp311-cp311-manylinux_2_17_x86_64.whl");
    std::fs::write(&p, data).expect("writing the input");
    match ffi_doctor::gate::wheel::extract(&p.display().to_string()) {
        Ok(x) => {
            for b in &x.info.binaries {
                let f = x.dir.path().join(b);
                assert!(f.is_file(), "listed binary {b} was extracted");
            }
            std::hint::black_box(serde_json::to_vec(&x.info).expect("wheel info serialises"));
        }
        Err(e) => assert!(
            !e.expected.is_empty(),
            "the error says what was expected: {e}"
        ),
    }
});
