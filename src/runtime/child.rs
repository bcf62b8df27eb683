//! The hidden `ffi-doctor __probe` subcommand: the only code in ffi-doctor that loads a library. It runs in the
//! child process [`super::probe`] starts: reads the request from stdin, points stdin at `/dev/null`, `dlopen`s
//! the library with `RTLD_NOW | RTLD_LOCAL`, resolves and (for the few safe signatures) calls symbols, and writes
//! one JSON [`Event`] per line to the result descriptor, announcing each stage first so the parent can tell
//! where a crash, hang or `exit()` happened.

use serde::{Deserialize, Serialize};

#[cfg(target_os = "linux")]
use super::{CallResult, CallSpec, ReturnType, Stage, SymbolResult};
use super::{Event, ProbeRequest};

/// What the parent sends on the child's stdin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireRequest {
    /// The path passed to dlopen (always contains a `/`).
    pub path: String,
    /// The library's path with symlinks resolved, to tell its own symbols from others'.
    pub resolved_path: String,
    pub request: ProbeRequest,
}

/// Arguments of `ffi-doctor __probe` (internal: started by `ffi-doctor load`, never by people).
#[derive(Debug, clap::Args)]
pub struct ProbeChildArgs {
    /// The inherited file descriptor to write result events to.
    #[arg(long, default_value_t = 3)]
    pub result_fd: i32,
}

/// Longest string a `str` call renders.
#[cfg(target_os = "linux")]
const MAX_STR: usize = 4096;

fn line(ev: &Event) -> Vec<u8> {
    let mut v = serde_json::to_vec(ev).unwrap_or_else(|_| b"{}".to_vec());
    v.push(b'\n');
    v
}

/// Run the probe; returns the process exit code (0 when the result stream was written to the end).
#[cfg(target_os = "linux")]
pub fn main(args: &ProbeChildArgs) -> i32 {
    use std::io::{Read, Write};
    use std::os::fd::{AsRawFd, FromRawFd};

    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};

    // SAFETY: plain syscalls on values we own.
    unsafe {
        // No core dumps even where core_pattern pipes to a helper (RLIMIT_CORE is set by the parent too).
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        if libc::fcntl(args.result_fd, libc::F_GETFD) < 0 {
            eprintln!("ffi-doctor __probe is internal; use `ffi-doctor load LIB`");
            return crate::report::EXIT_INPUT;
        }
    }
    // SAFETY: the parent handed this descriptor to us for exactly this purpose and nothing else uses it.
    let mut out = unsafe { std::fs::File::from_raw_fd(args.result_fd) };
    let mut emit = |ev: Event| {
        let _ = out.write_all(&line(&ev));
    };
    emit(Event::Stage {
        stage: Stage::Starting,
    });
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut input) {
        emit(Event::Internal {
            error: format!("reading the request: {e}"),
        });
        return 125;
    }
    let wire: WireRequest = match serde_json::from_slice(&input) {
        Ok(w) => w,
        Err(e) => {
            emit(Event::Internal {
                error: format!("bad request: {e}"),
            });
            return 125;
        }
    };
    // The library gets /dev/null as stdin, never the request pipe.
    if let Ok(null) = std::fs::File::open("/dev/null") {
        // SAFETY: dup2 onto fd 0, which we own.
        unsafe {
            libc::dup2(null.as_raw_fd(), 0);
        }
    }
    emit(Event::Stage {
        stage: Stage::Loading,
    });
    // SAFETY: this is the point of the child process: it exists to run the library's initialisers, isolated.
    let lib = match unsafe { Library::open(Some(&wire.path), RTLD_NOW | RTLD_LOCAL) } {
        Ok(l) => l,
        Err(e) => {
            emit(Event::LoadFailed {
                error: e.to_string(),
            });
            emit(Event::Done);
            return 0;
        }
    };
    emit(Event::Loaded);
    emit(Event::Stage {
        stage: Stage::Resolving,
    });
    let own = std::fs::canonicalize(&wire.resolved_path).ok();
    for name in &wire.request.symbols {
        emit(Event::Symbol(resolve(&lib, name, own.as_deref())));
    }
    for call in &wire.request.calls {
        emit(Event::Stage {
            stage: Stage::Calling(call.name.clone()),
        });
        emit(Event::Call(call_one(&lib, call)));
    }
    emit(Event::Stage {
        stage: Stage::Exiting,
    });
    emit(Event::Done);
    // Never dlclose (ctypes does not either); destructors run at exit, still inside this child.
    std::mem::forget(lib);
    0
}

#[cfg(not(target_os = "linux"))]
pub fn main(_args: &ProbeChildArgs) -> i32 {
    let _ = line(&Event::Internal {
        error: "runtime probing is implemented on Linux only".into(),
    });
    eprintln!("ffi-doctor __probe: runtime probing is implemented on Linux only");
    crate::report::EXIT_INPUT
}

#[cfg(target_os = "linux")]
fn symbol_address(
    lib: &libloading::os::unix::Library,
    name: &str,
) -> Result<*mut std::ffi::c_void, String> {
    // SAFETY: we only take the symbol's address; nothing is read or called here.
    unsafe {
        lib.get::<*mut std::ffi::c_void>(name.as_bytes())
            .map(|s| *s)
            .map_err(|e| e.to_string())
    }
}

#[cfg(target_os = "linux")]
fn resolve(
    lib: &libloading::os::unix::Library,
    name: &str,
    own: Option<&std::path::Path>,
) -> SymbolResult {
    let mut r = SymbolResult {
        name: name.to_string(),
        found: false,
        address: None,
        object: None,
        object_resolved: None,
        object_symbol: None,
        from_other_object: false,
        kind: None,
        error: None,
    };
    let addr = match symbol_address(lib, name) {
        Ok(a) => a,
        Err(e) => {
            r.error = Some(e);
            return r;
        }
    };
    r.found = true;
    r.address = Some(format!("{:#x}", addr as usize));
    if addr.is_null() {
        return r;
    }
    // SAFETY: dladdr only inspects the loader's tables; a zeroed Dl_info is a valid out-parameter.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(addr as *const std::ffi::c_void, &mut info) != 0 {
            if !info.dli_fname.is_null() {
                let f = std::ffi::CStr::from_ptr(info.dli_fname)
                    .to_string_lossy()
                    .into_owned();
                r.object_resolved = std::fs::canonicalize(&f)
                    .ok()
                    .map(|p| p.display().to_string());
                r.object = Some(f);
            }
            if !info.dli_sname.is_null() {
                r.object_symbol = Some(
                    std::ffi::CStr::from_ptr(info.dli_sname)
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    if let (Some(own), Some(obj)) = (own, &r.object_resolved) {
        r.from_other_object = std::path::Path::new(obj) != own;
    }
    r
}

/// Call one zero-argument function with a declared safe return type and render the value.
#[cfg(target_os = "linux")]
fn call_one(lib: &libloading::os::unix::Library, c: &CallSpec) -> CallResult {
    use std::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
    let mut r = CallResult {
        name: c.name.clone(),
        returns: c.returns,
        value: None,
        expect: c.expect.clone(),
        matched: None,
        error: None,
    };
    let p = match symbol_address(lib, &c.name) {
        Ok(p) if p.is_null() => {
            r.error = Some(format!("{}: the symbol's address is NULL", c.name));
            return r;
        }
        Ok(p) => p,
        Err(e) => {
            r.error = Some(e);
            return r;
        }
    };
    // SAFETY: the user declared the function as `T name(void)` for one of these T; a wrong declaration can crash
    // or misbehave, which is exactly what this isolated child is for. No arguments are passed, so nothing the
    // callee could write through exists.
    let value = unsafe {
        match c.returns {
            ReturnType::Str => {
                let f: extern "C" fn() -> *const c_char = std::mem::transmute::<*mut c_void, _>(p);
                render_c_str(f())
            }
            ReturnType::Int => {
                let f: extern "C" fn() -> c_int = std::mem::transmute::<*mut c_void, _>(p);
                f().to_string()
            }
            ReturnType::Uint => {
                let f: extern "C" fn() -> c_uint = std::mem::transmute::<*mut c_void, _>(p);
                f().to_string()
            }
            ReturnType::Long => {
                let f: extern "C" fn() -> c_long = std::mem::transmute::<*mut c_void, _>(p);
                f().to_string()
            }
            ReturnType::Ulong => {
                let f: extern "C" fn() -> c_ulong = std::mem::transmute::<*mut c_void, _>(p);
                f().to_string()
            }
            ReturnType::SizeT => {
                let f: extern "C" fn() -> usize = std::mem::transmute::<*mut c_void, _>(p);
                f().to_string()
            }
        }
    };
    if let Some(g) = &c.expect {
        r.matched = Some(
            glob::Pattern::new(g)
                .map(|p| p.matches(&value))
                .unwrap_or(false),
        );
    }
    r.value = Some(value);
    r
}

/// A returned `const char *`: `NULL`, or its bytes up to the NUL (at most [`MAX_STR`]), invalid UTF-8 replaced.
///
/// # Safety
/// `s` must be null or point to readable bytes up to a NUL or [`MAX_STR`] bytes.
#[cfg(target_os = "linux")]
unsafe fn render_c_str(s: *const std::ffi::c_char) -> String {
    if s.is_null() {
        return "NULL".into();
    }
    let mut bytes = Vec::new();
    let mut i = 0;
    while i < MAX_STR {
        let b = *s.add(i) as u8;
        if b == 0 {
            break;
        }
        bytes.push(b);
        i += 1;
    }
    let mut out = String::from_utf8_lossy(&bytes).into_owned();
    if i == MAX_STR {
        out.push('…');
    }
    out
}
