//! rust_demo.rs - Rust `dylib` (not cdylib: a dylib keeps Rust-mangled
//! symbols exported).  Built twice: legacy mangling (the stable default)
//! and v0 mangling (-C symbol-mangling-version=v0).

#[inline(never)]
pub fn add(a: i32, b: i32) -> i32 {
    a.wrapping_add(b)
}

pub mod inner {
    use core::fmt;

    #[inline(never)]
    pub fn greet() -> &'static str {
        "hello from rust"
    }

    pub struct Thing(pub u32);

    impl Thing {
        #[inline(never)]
        pub fn value(&self) -> u32 {
            self.0.rotate_left(3)
        }
    }

    // Trait impl: <Thing as core::fmt::Display>::fmt
    impl fmt::Display for Thing {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "Thing({})", self.0)
        }
    }
}

/// C ABI export (unmangled) alongside the mangled ones.
#[no_mangle]
pub extern "C" fn rust_c_abi(x: u32) -> u32 {
    inner::Thing(x).value()
}
