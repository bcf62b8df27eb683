//! C++ demangling exactly as the LLVM tools print it. Itanium, as llvm-cxxfilt and `llvm-nm -C`: LLVM's own
//! parser and printer (`llvm/Demangle/ItaniumDemangle.h`, header-only) driven by `itanium.cpp` and compiled by
//! build.rs, with an arena reused across names and limits on parse depth, tree depth and printed length so hostile
//! names stay bounded. MSVC, as llvm-undname: LLVM's Microsoft demangler from the same installation's
//! `libLLVMDemangle.a`, called by `msvc.cpp`. When LLVM's development files are not available at build time,
//! cpp_demangle and msvc-demangler stand in (see [`ENGINE`] and [`MSVC_ENGINE`]).

/// Which Itanium demangler this build uses: `"llvm"` or `"cpp_demangle"`.
#[cfg(llvm_itanium_demangle)]
pub const ENGINE: &str = "llvm";
/// Which Itanium demangler this build uses: `"llvm"` or `"cpp_demangle"`.
#[cfg(not(llvm_itanium_demangle))]
pub const ENGINE: &str = "cpp_demangle";

/// Which MSVC demangler this build uses: `"llvm"` or `"msvc-demangler"`.
#[cfg(llvm_msvc_demangle)]
pub const MSVC_ENGINE: &str = "llvm";
/// Which MSVC demangler this build uses: `"llvm"` or `"msvc-demangler"`.
#[cfg(not(llvm_msvc_demangle))]
pub const MSVC_ENGINE: &str = "msvc-demangler";

/// MSVC truncates decorated names at 4096 bytes (warning C4503) and hashes longer ones (`??@…@`): anything longer is
/// not a name a compiler wrote, and bounding it bounds the recursion of the demangler, which has no depth limit.
pub const MSVC_MAX_NAME: usize = 4096;

#[cfg(llvm_msvc_demangle)]
mod ffi_msvc {
    use std::ffi::c_char;

    extern "C" {
        /// See msvc.cpp: a malloc'd NUL-terminated result, or null.
        pub fn ffi_doctor_msvc_demangle(name: *const c_char) -> *mut c_char;
        pub fn ffi_doctor_free(p: *mut c_char);
    }
}

/// The demangling of the MSVC name `name` (`?…`), or `None` when it is not a valid mangling or is longer than
/// [`MSVC_MAX_NAME`].
#[cfg(llvm_msvc_demangle)]
pub fn msvc(name: &str) -> Option<String> {
    use std::cell::RefCell;
    use std::ffi::CStr;
    thread_local! {
        /// The NUL-terminated copy the C interface needs, reused across names.
        static BUF: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    if name.len() > MSVC_MAX_NAME || name.as_bytes().contains(&0) {
        return None;
    }
    BUF.with(|buf| {
        let mut buf = buf.borrow_mut();
        buf.clear();
        buf.extend_from_slice(name.as_bytes());
        buf.push(0);
        // SAFETY: `buf` is NUL-terminated and outlives the call; a non-null result is a NUL-terminated malloc'd
        // string that we copy and then free exactly once.
        unsafe {
            let out = ffi_msvc::ffi_doctor_msvc_demangle(buf.as_ptr().cast());
            if out.is_null() {
                return None;
            }
            let s = CStr::from_ptr(out).to_string_lossy().into_owned();
            ffi_msvc::ffi_doctor_free(out);
            Some(s)
        }
    })
}

/// The demangling of the MSVC name `name`, or `None` when msvc-demangler rejects it or it is longer than
/// [`MSVC_MAX_NAME`].
#[cfg(not(llvm_msvc_demangle))]
pub fn msvc(name: &str) -> Option<String> {
    if name.len() > MSVC_MAX_NAME {
        return None;
    }
    msvc_demangler::demangle(name, msvc_demangler::DemangleFlags::llvm()).ok()
}

#[cfg(llvm_itanium_demangle)]
mod ffi {
    use std::ffi::c_int;

    extern "C" {
        /// See itanium.cpp: 1 and the result (valid until the next call on this thread), or 0.
        pub fn ffi_doctor_itanium_demangle(
            name: *const u8,
            len: usize,
            out: *mut *const u8,
            out_len: *mut usize,
        ) -> c_int;
    }
}

/// Longest Itanium name demangled (the longest export of libLLVM is 613 bytes). LLVM's parser recurses in a few
/// productions that the depth limit cannot reach (e.g. `Tp` nests lambda template parameter packs, two bytes and
/// about 230 bytes of stack a level): bounding the length bounds that recursion.
pub const ITANIUM_MAX_NAME: usize = 64 * 1024;

/// Names up to this length are demangled on the calling thread (their worst case needs well under 1 MiB of stack);
/// longer ones on a thread of its own with [`LONG_NAME_STACK`].
const INLINE_MAX_NAME: usize = 4096;

/// Stack of the thread that demangles a long name: four times the worst case of [`ITANIUM_MAX_NAME`].
const LONG_NAME_STACK: usize = 32 << 20;

/// The demangling of the Itanium name `name` (`_Z…`, including `.suffix` clones and `___Z…_block_invoke`), or
/// `None` when it is not a valid mangling, is longer than [`ITANIUM_MAX_NAME`] or exceeds the depth and output
/// limits.
pub fn itanium(name: &str) -> Option<String> {
    if name.len() > ITANIUM_MAX_NAME {
        return None;
    }
    if name.len() <= INLINE_MAX_NAME {
        return itanium_here(name);
    }
    std::thread::scope(|s| {
        std::thread::Builder::new()
            .name("demangle".into())
            .stack_size(LONG_NAME_STACK)
            .spawn_scoped(s, || itanium_here(name))
            .ok()?
            .join()
            .ok()
            .flatten()
    })
}

#[cfg(llvm_itanium_demangle)]
fn itanium_here(name: &str) -> Option<String> {
    let mut out: *const u8 = std::ptr::null();
    let mut out_len = 0usize;
    // SAFETY: `name` is valid for `len` bytes (no terminator is read); on success the shim points `out` at
    // `out_len` initialised bytes of a per-thread buffer that stays valid until this thread calls it again, and we
    // copy them out before returning.
    let ok = unsafe {
        ffi::ffi_doctor_itanium_demangle(name.as_ptr(), name.len(), &mut out, &mut out_len)
    };
    if ok == 0 || out.is_null() {
        return None;
    }
    // SAFETY: see above.
    let bytes = unsafe { std::slice::from_raw_parts(out, out_len) };
    // A source name's length prefix may cut a multi-byte character of a non-ASCII name.
    Some(match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    })
}

#[cfg(not(llvm_itanium_demangle))]
fn itanium_here(name: &str) -> Option<String> {
    let sym = cpp_demangle::Symbol::new(name).ok()?;
    let opts = cpp_demangle::DemangleOptions::default();
    sym.demangle_with_options(&opts)
        .ok()
        .map(fallback::conventional_special_name)
}

#[cfg(not(llvm_itanium_demangle))]
mod fallback;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_llvm_cxxfilt() {
        let d = |n: &str| itanium(n).unwrap();
        assert_eq!(
            d("_ZN2ns8compressEPcm"),
            "ns::compress(char*, unsigned long)"
        );
        assert_eq!(
            d("_ZTVN4demo8geometry5ShapeE"),
            "vtable for demo::geometry::Shape"
        );
        assert_eq!(d("_ZThn16_NSdD0Ev"), "non-virtual thunk to std::basic_iostream<char, std::char_traits<char> >::~basic_iostream()");
        assert!(itanium("_Z").is_none());
        assert!(itanium("_ZN3foo").is_none());
    }

    #[cfg(llvm_itanium_demangle)]
    #[test]
    fn llvm_spellings() {
        let d = |n: &str| itanium(n).unwrap();
        // Integer template arguments with a literal suffix, empty packs, forwarding references in packs.
        assert_eq!(d("_Z1fILj1EEvv"), "void f<1u>()");
        assert_eq!(d("_Z1fIJEEvDpT_"), "void f<>()");
        assert_eq!(d("_Z1fIJiEEvDpOT_"), "void f<int>(int&&)");
        assert_eq!(d("_Z3foov.cold"), "foo() (.cold)");
    }

    #[cfg(llvm_itanium_demangle)]
    #[test]
    fn hostile_names_stay_bounded() {
        // Deep nesting: refused by the parse depth limit, not a stack overflow.
        let deep = format!("_Z1f{}iE", "P".repeat(200_000));
        assert!(itanium(&deep).is_none());
        let deep_args = format!("_Z1f{}i{}v", "I1a".repeat(50_000), "E".repeat(50_000));
        assert!(itanium(&deep_args).is_none());
        // Each level references the one before twice (`S2_`, `S3_`, …): 2^60 copies of `A` from a short name.
        let mut s = String::from("_Z1fI1A1BIS0_S0_E");
        for k in 1..60 {
            let r = format!("S{}_", base36(k));
            s.push_str(&format!("S1_I{r}{r}E"));
        }
        s.push_str("Evv");
        let small = "_Z1fI1A1BIS0_S0_ES1_IS2_S2_EEvv";
        assert_eq!(
            itanium(small).unwrap(),
            "void f<A, B<A, A>, B<B<A, A>, B<A, A> > >()"
        );
        let started = std::time::Instant::now();
        assert!(itanium(&s).is_none(), "{s}");
        assert!(started.elapsed().as_secs() < 10);
        // A long chain of nested-name components (iterative in the parser, recursive in the printer).
        let chain = format!("_ZN{}E", "1a".repeat(30_000));
        assert!(itanium(&chain).is_none());
        // Recursion the depth limit does not see (lambda template parameter packs, vendor qualifiers, braced
        // designators): long names run on a thread with room for it, longer ones are refused.
        for n in [2_000, 30_000, 100_000] {
            let _ = itanium(&format!("_ZZ1fvENKUl{}TyEvE_clEv", "Tp".repeat(n)));
            let _ = itanium(&format!("_Z1f{}iv", "U1a".repeat(n)));
            let _ = itanium(&format!("_Z1fIXtl1A{}LUi1EEEEvv", "di1a".repeat(n)));
        }
        let tp = |n: usize| format!("_ZZ1fvENKUl{}Ty{}vE_clEv", "Tt".repeat(n), "E".repeat(n));
        assert!(itanium(&tp(3))
            .unwrap()
            .contains("template<template<template<"));
        assert!(itanium(&tp(500)).is_some());
        // Parsed on the long-name thread, then refused by the tree depth limit; then refused by length.
        assert!(itanium(&tp(20_000)).is_none());
        assert!(itanium(&tp(40_000)).is_none());
    }

    #[test]
    fn msvc_reads_like_llvm_undname() {
        assert_eq!(msvc("?f@@YAHH@Z").unwrap(), "int __cdecl f(int)");
        assert!(msvc("?").is_none());
        assert!(msvc(&format!("?f@@YAX{}H@Z", "PEA".repeat(2000))).is_none());
    }

    #[cfg(llvm_msvc_demangle)]
    #[test]
    fn msvc_llvm_spellings() {
        assert_eq!(
            msvc("??4QMatrix4x4@@QEAAAEAV0@$$QEAV0@@Z").unwrap(),
            "public: class QMatrix4x4 & __cdecl QMatrix4x4::operator=(class QMatrix4x4 &&)"
        );
        // Deep but within the length MSVC allows: bounded recursion, no stack overflow.
        let deep = format!("?f@@YAX{}H@Z", "PEA".repeat(1300));
        let _ = msvc(&deep);
    }

    #[cfg(llvm_itanium_demangle)]
    fn base36(mut n: usize) -> String {
        const D: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        let mut v = Vec::new();
        loop {
            v.push(D[n % 36]);
            n /= 36;
            if n == 0 {
                break;
            }
        }
        v.reverse();
        String::from_utf8(v).unwrap()
    }
}
