//! Fuzz `ffi_doctor::decl::parse_str` (the C preprocessor and declaration parser, C and cffi modes): any text must
//! parse or give a parse error saying what was expected — never a panic, a stack overflow or a hang. The first
//! byte picks cffi mode; the rest is the header text.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    let opts = ffi_doctor::decl::ParseOptions {
        cffi: mode & 1 == 1,
        ..Default::default()
    };
    // A name outside any real directory: `#include "x"` finds nothing instead of reading the host's files.
    match ffi_doctor::decl::parse_str("/nonexistent-fuzz-dir/fuzz.h", &text, &opts) {
        Ok(spec) => {
            std::hint::black_box(serde_json::to_vec(&spec).expect("a spec serialises").len());
        }
        Err(e) => assert!(
            !e.expected.is_empty(),
            "the error says what was expected: {e}"
        ),
    }
});
