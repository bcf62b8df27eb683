//! Fuzz `ffi_doctor::binary::read_images`: any bytes must give images or an input error naming the file, what was
//! expected and the offset — never a panic, a hang or a huge allocation (run with `-rss_limit_mb`/`-timeout`).
//! Every field of every image is touched (JSON serialisation and the `inspect` summary), so lazily computed or
//! borrowed data is exercised too.

#![no_main]

use ffi_doctor::binary::{read_images, ReadOptions};
use libfuzzer_sys::fuzz_target;

const PATH: &str = "fuzz-input";

fuzz_target!(|data: &[u8]| {
    // The first byte picks the options so both the demangling and the raw-name paths are fuzzed; the whole input
    // is still what is parsed (the readers must cope with any prefix).
    let demangle = data.first().is_none_or(|b| b & 1 == 0);
    let opts = ReadOptions { demangle };
    match read_images(PATH, data, None, opts) {
        Ok(images) => {
            let json = serde_json::to_vec(&images).expect("an image model always serialises");
            std::hint::black_box(json.len());
            let mut n = 0usize;
            for img in &images {
                let summary = ffi_doctor::binary::summary::summarize(img);
                n += serde_json::to_vec(&summary)
                    .expect("summary serialises")
                    .len();
                for e in &img.exports {
                    n += e.name.len() + e.c_name.len();
                    n += e.demangled.as_ref().map_or(0, String::len);
                    n += e.forwarder.as_ref().map_or(0, String::len);
                    n += e.version.as_ref().map_or(0, |v| v.name.len());
                    n += e.address as usize
                        ^ e.size.unwrap_or(0) as usize
                        ^ e.ordinal.unwrap_or(0) as usize;
                }
                for i in &img.imports {
                    n += i.name.as_ref().map_or(0, |s| s.len());
                    n += i.c_name.as_ref().map_or(0, |s| s.len());
                    n += i.demangled.as_ref().map_or(0, String::len);
                    n += i.ordinal.unwrap_or(0) as usize + usize::from(i.hint.unwrap_or(0));
                }
                n += img.needed.iter().map(|d| d.name.len()).sum::<usize>();
                n += img
                    .rpath
                    .iter()
                    .chain(&img.runpath)
                    .map(String::len)
                    .sum::<usize>();
                // Debug formatting walks every field, including the format-specific ones.
                n += format!("{img:?}").len();
            }
            std::hint::black_box(n);
        }
        Err(e) => {
            assert_eq!(e.path, PATH, "the error names the file");
            assert!(
                !e.expected.is_empty(),
                "the error says what was expected: {e}"
            );
            assert!(!e.found.is_empty(), "the error says what was found: {e}");
            assert!(e.offset.is_some(), "the error gives the offset: {e}");
            std::hint::black_box(e.to_string());
        }
    }
});
