//! The reader guard: a panic inside a format reader (a bug, never expected) becomes an [`InputError`] naming the
//! file, so every command still exits 2 with a message instead of a backtrace.

use super::{read_images, Image, Mapped, ReadOptions};
use crate::error::InputError;

/// Read the images of a mapped file, turning a reader panic (a bug, never expected) into an input error so the
/// process still exits 2 with a message naming the file.
pub fn read_guarded<'d>(
    mapped: &'d Mapped,
    arch: Option<&str>,
    opts: ReadOptions,
) -> Result<Vec<Image<'d>>, InputError> {
    let path = mapped.path.as_str();
    let data = mapped.bytes();
    IN_READER.with(|f| f.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        read_images(path, data, arch, opts)
    }));
    IN_READER.with(|f| f.set(false));
    match result {
        Ok(r) => r,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown".into());
            Err(InputError::new(
                path,
                "a well-formed object file",
                format!("data the reader rejected ({msg})"),
            )
            .hint("this is a reader bug: please report it with the file"))
        }
    }
}

thread_local! {
    static IN_READER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Install the panic hook: panics inside a reader are reported by [`read_guarded`]; any other panic is a bug and
/// says so.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        if !IN_READER.with(|f| f.get()) {
            eprintln!("ffi-doctor: internal error: {info}\nplease report this with the command line and input file");
        }
    }));
}
