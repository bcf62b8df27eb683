//! The compiler probes of the layout oracles (`oracle_abi`, `oracle_ctypes`): which compiler and flags build an
//! object file for a target (gcc for x86_64 Linux, mingw-w64 gcc for MinGW, clang `--target` for the others), and
//! reading a symbol's bytes back from that object file. Included with `#[path]` by the tests that use it.

use ffi_doctor::abi::Target;
use object::{Object, ObjectSection, ObjectSymbol};

/// The compiler and its arguments that compile C to an object file for `t`.
pub fn compiler_for(t: Target) -> (String, Vec<String>) {
    let common = ["-std=gnu11", "-w", "-O0", "-c"].map(String::from).to_vec();
    match t {
        Target::LinuxX86_64 => ("gcc".into(), common),
        Target::MingwX64 => ("x86_64-w64-mingw32-gcc".into(), common),
        Target::MingwX86 => ("i686-w64-mingw32-gcc".into(), common),
        _ => {
            let mut a = vec![
                format!("--target={}", t.clang_triple()),
                "-ffreestanding".into(),
            ];
            a.extend(common);
            ("clang".into(), a)
        }
    }
}

/// Bytes of symbol `name` (ignoring a leading `_`), `len` long.
pub fn symbol_bytes<'d>(file: &object::File<'d>, name: &str, len: usize) -> Option<&'d [u8]> {
    for s in file.symbols() {
        let n = s.name().unwrap_or("");
        if n == name || n.strip_prefix('_') == Some(name) {
            let sec = file.section_by_index(s.section_index()?).ok()?;
            let data = sec.data().ok()?;
            let off = (s.address() - sec.address()) as usize;
            return data.get(off..off + len);
        }
    }
    None
}
