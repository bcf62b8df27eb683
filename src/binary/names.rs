//! Symbol names: the C name behind platform decorations, which mangling scheme a name uses, and demangling:
//! C++ (Itanium and MSVC) by LLVM's own demanglers (the `demangle` submodule), Rust by rustc-demangle.

use serde::Serialize;

#[path = "demangle/mod.rs"]
pub mod demangle;

use crate::binary::Format;

/// The mangling scheme of a symbol name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mangling {
    /// A plain C name.
    C,
    /// Itanium C++ ABI (`_Z…`), used by GCC and Clang everywhere but MSVC.
    Itanium,
    /// Microsoft Visual C++ (`?…`).
    Msvc,
    /// Rust legacy mangling (`_ZN…17h<hash>E`).
    RustLegacy,
    /// Rust v0 mangling (`_R…`).
    RustV0,
    /// Swift (`$s…`, `_T0…`).
    Swift,
}

impl Mangling {
    pub const ALL: [Mangling; 6] = [
        Mangling::C,
        Mangling::Itanium,
        Mangling::Msvc,
        Mangling::RustLegacy,
        Mangling::RustV0,
        Mangling::Swift,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Mangling::C => "c",
            Mangling::Itanium => "itanium",
            Mangling::Msvc => "msvc",
            Mangling::RustLegacy => "rust-legacy",
            Mangling::RustV0 => "rust-v0",
            Mangling::Swift => "swift",
        }
    }

    pub fn is_mangled(self) -> bool {
        self != Mangling::C
    }

    /// Whether [`demangle`] has a demangler for this scheme (every mangled one but Swift).
    pub fn has_demangler(self) -> bool {
        !matches!(self, Mangling::C | Mangling::Swift)
    }
}

/// A 32-bit Windows calling-convention decoration found on a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CallingConvention {
    /// `_f@12` or `f@12`.
    Stdcall,
    /// `@f@8`.
    Fastcall,
    /// `f@@8`.
    Vectorcall,
}

impl CallingConvention {
    /// The name the JSON documents use.
    pub fn as_str(self) -> &'static str {
        match self {
            CallingConvention::Stdcall => "stdcall",
            CallingConvention::Fastcall => "fastcall",
            CallingConvention::Vectorcall => "vectorcall",
        }
    }
}

/// The name C code declares for a raw symbol name: Mach-O drops one leading `_`; 32-bit PE drops
/// `__stdcall`/`__fastcall`/`__vectorcall` decorations (with the convention returned).
pub fn c_name(raw: &str, format: Format, bits: u8) -> (&str, Option<CallingConvention>) {
    match format {
        Format::Macho => (raw.strip_prefix('_').unwrap_or(raw), None),
        Format::Pe if bits == 32 => undecorate_win32(raw),
        _ => (raw, None),
    }
}

fn undecorate_win32(raw: &str) -> (&str, Option<CallingConvention>) {
    if raw.starts_with('?') {
        return (raw, None);
    }
    let Some(at) = raw.rfind('@') else {
        return (raw, None);
    };
    let digits = &raw[at + 1..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || at == 0 {
        return (raw, None);
    }
    let head = &raw[..at];
    if let Some(name) = head.strip_suffix('@') {
        if !name.is_empty() {
            return (name, Some(CallingConvention::Vectorcall));
        }
    }
    if let Some(name) = head.strip_prefix('@') {
        if !name.is_empty() && !name.contains('@') {
            return (name, Some(CallingConvention::Fastcall));
        }
        return (raw, None);
    }
    if head.contains('@') {
        return (raw, None);
    }
    let name = head
        .strip_prefix('_')
        .filter(|n| !n.is_empty())
        .unwrap_or(head);
    (name, Some(CallingConvention::Stdcall))
}

/// Which mangling scheme `name` (already stripped of platform decorations) uses.
pub fn mangling_kind(name: &str) -> Mangling {
    let b = name.as_bytes();
    if b.len() < 3 {
        return Mangling::C;
    }
    if name.starts_with("_ZN") && is_rust_legacy(name) {
        return Mangling::RustLegacy;
    }
    if name.starts_with("_Z") {
        return Mangling::Itanium;
    }
    if name.starts_with("_R") && (b[2].is_ascii_uppercase() || b[2].is_ascii_digit()) {
        return Mangling::RustV0;
    }
    if b[0] == b'?' {
        return Mangling::Msvc;
    }
    if name.starts_with("$s")
        || name.starts_with("$S")
        || name.starts_with("$e")
        || name.starts_with("_T0")
    {
        return Mangling::Swift;
    }
    Mangling::C
}

/// `_ZN…17h<16 hex digits>E`, optionally followed by a `.suffix` (LLVM adds `.llvm.NNN`).
fn is_rust_legacy(name: &str) -> bool {
    /// Whether `core` ends in the hash element.
    fn hashed(core: &[u8]) -> bool {
        let Some(body) = core.strip_suffix(b"E") else {
            return false;
        };
        // Bytes, not `str` slicing: the cut may fall inside a multi-byte character of a non-ASCII (or lossily
        // decoded) name, where `split_at` would panic.
        let Some(hash) = body.len().checked_sub(19).map(|at| &body[at..]) else {
            return false;
        };
        hash.starts_with(b"17h") && hash[3..].iter().all(|c| c.is_ascii_hexdigit())
    }
    let b = name.as_bytes();
    match memchr::memchr(b'.', b) {
        Some(dot) => hashed(&b[..dot]),
        None => hashed(b),
    }
}

/// Demangle `name` under `kind`; `None` for C names, Swift (no demangler) and names the demangler rejects.
pub fn demangle(name: &str, kind: Mangling) -> Option<String> {
    match kind {
        Mangling::C | Mangling::Swift => None,
        Mangling::Itanium => demangle::itanium(name),
        Mangling::Msvc => demangle::msvc(name),
        Mangling::RustLegacy | Mangling::RustV0 => rustc_demangle::try_demangle(name)
            .ok()
            .map(|d| format!("{d:#}")),
    }
}

/// Demangle many names, spreading the work over the machine's cores when there are enough of them to pay off.
/// `items` yields (name, kind) and `store` receives each result at the same index.
pub fn demangle_many<T: Send>(
    items: &mut [T],
    get: fn(&T) -> Option<(&str, Mangling)>,
    set: fn(&mut T, String),
) {
    const PER_THREAD_MIN: usize = 4096;
    /// Items handed out at a time: small enough to balance uneven costs (C names are free, long C++ templates are
    /// not), large enough that the shared counter is no contention.
    const BLOCK: usize = 256;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let work = |chunk: &mut [T]| {
        for it in chunk.iter_mut() {
            if let Some((name, kind)) = get(it) {
                if kind.is_mangled() {
                    if let Some(d) = demangle(name, kind) {
                        set(it, d);
                    }
                }
            }
        }
    };
    if threads < 2 || items.len() < 2 * PER_THREAD_MIN {
        work(items);
        return;
    }
    // Blocks are claimed from a shared queue rather than split in equal halves up front, so a thread that drew
    // cheap names keeps going instead of idling while the other finishes. The calling thread works too.
    let threads = threads.min(items.len().div_ceil(PER_THREAD_MIN));
    let blocks = std::sync::Mutex::new(items.chunks_mut(BLOCK));
    let next = || blocks.lock().map(|mut it| it.next()).unwrap_or(None);
    let run = || {
        while let Some(block) = next() {
            work(block);
        }
    };
    std::thread::scope(|s| {
        for _ in 1..threads {
            s.spawn(run);
        }
        run();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn win32_decorations() {
        assert_eq!(
            undecorate_win32("_f@12"),
            ("f", Some(CallingConvention::Stdcall))
        );
        assert_eq!(
            undecorate_win32("f@12"),
            ("f", Some(CallingConvention::Stdcall))
        );
        assert_eq!(
            undecorate_win32("@f@8"),
            ("f", Some(CallingConvention::Fastcall))
        );
        assert_eq!(
            undecorate_win32("f@@8"),
            ("f", Some(CallingConvention::Vectorcall))
        );
        assert_eq!(undecorate_win32("?f@@YAHH@Z"), ("?f@@YAHH@Z", None));
        assert_eq!(undecorate_win32("plain"), ("plain", None));
        assert_eq!(undecorate_win32("a@b"), ("a@b", None));
        assert_eq!(undecorate_win32("@12"), ("@12", None));
    }

    #[test]
    fn mangling_kinds() {
        assert_eq!(mangling_kind("compress2"), Mangling::C);
        assert_eq!(mangling_kind("_ZN2ns8compressEPcm"), Mangling::Itanium);
        assert_eq!(
            mangling_kind("_ZN4demo3foo17h0123456789abcdefE"),
            Mangling::RustLegacy
        );
        assert_eq!(mangling_kind("_RNvCs1234_4demo3foo"), Mangling::RustV0);
        assert_eq!(mangling_kind("?f@@YAHH@Z"), Mangling::Msvc);
        assert_eq!(mangling_kind("$s4main3fooyyF"), Mangling::Swift);
        assert_eq!(mangling_kind("_R"), Mangling::C);
        // A multi-byte character where the 19-byte hash suffix would start must not panic.
        assert_eq!(
            mangling_kind("_ZN3foo\u{fffd}h0123456789abcdefE"),
            Mangling::Itanium
        );
    }

    #[test]
    fn demangles_each_kind() {
        assert_eq!(
            demangle("_ZN2ns8compressEPcm", Mangling::Itanium).unwrap(),
            "ns::compress(char*, unsigned long)"
        );
        assert_eq!(
            demangle("_ZN4demo3foo17h0123456789abcdefE", Mangling::RustLegacy).unwrap(),
            "demo::foo"
        );
        assert_eq!(
            demangle("?f@@YAHH@Z", Mangling::Msvc).unwrap(),
            "int __cdecl f(int)"
        );
    }

    #[test]
    fn special_names_read_like_cxxfilt() {
        let d = |n| demangle(n, Mangling::Itanium).unwrap();
        assert_eq!(
            d("_ZTVN4demo8geometry5ShapeE"),
            "vtable for demo::geometry::Shape"
        );
        // llvm-cxxfilt abbreviates a standard stream typedef standing alone where c++filt spells out the template.
        let iostream = if demangle::ENGINE == "llvm" {
            "std::iostream"
        } else {
            "std::basic_iostream<char, std::char_traits<char> >"
        };
        assert_eq!(d("_ZTTSd"), format!("VTT for {iostream}"));
        assert_eq!(
            d("_ZThn16_NSdD0Ev"),
            "non-virtual thunk to std::basic_iostream<char, std::char_traits<char> >::~basic_iostream()"
        );
        assert_eq!(
            d("_ZTv0_n24_NSdD0Ev"),
            "virtual thunk to std::basic_iostream<char, std::char_traits<char> >::~basic_iostream()"
        );
        assert_eq!(
            d("_ZTIN4demo8geometry5ShapeE"),
            "typeinfo for demo::geometry::Shape"
        );
    }
}
