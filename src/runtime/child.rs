//! The hidden `ffi-doctor __probe` subcommand: the only code in ffi-doctor that loads a library.
//!
//! `__probe --supervise` is the supervisor ([`super::supervise`]); without it, this is the probe proper, started
//! by the supervisor: it reads the request (with the per-run nonce) from stdin, points stdin at `/dev/null`,
//! `dlopen`s the library with `RTLD_NOW | RTLD_LOCAL`, resolves and (for the few safe signatures) calls symbols,
//! and writes one framed record per line — `NONCE SEQ JSON` — announcing each stage first so the parent can tell
//! where a crash, hang or `exit()` happened.
//!
//! The records do not go to descriptor 3 itself but to a private duplicate at a high descriptor number taken
//! before the library is loaded; descriptor 3 stays open as a tripwire (whatever a library writes there reaches
//! the parent unframed and is reported, not believed). Before each record the probe checks that its descriptor
//! is still the pipe it was (same device and inode); if the library closed or replaced it, the probe exits at
//! once with [`CHANNEL_LOST_EXIT`] — nothing more it could say would be trustworthy.

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
    /// The per-run random nonce every record must carry (hex).
    pub nonce: String,
}

/// The probe's exit status when its result descriptor was closed or replaced under it (by the library).
pub const CHANNEL_LOST_EXIT: i32 = 86;

/// Options of `ffi-doctor __probe` (internal: started by `ffi-doctor load`, never by people); the command line
/// that carries them is `commands::load::ProbeChildArgs`.
#[derive(Debug, Clone, Default)]
pub struct ProbeChildArgs {
    /// The inherited file descriptor to write result events to.
    pub result_fd: i32,
    /// Run as the supervisor between `ffi-doctor` and the probe (see `runtime::supervise`).
    pub supervise: bool,
    /// Supervisor: the descriptor its own report goes to (never inherited by the probe).
    pub status_fd: Option<i32>,
    /// Supervisor: wall-clock limit of the probe in milliseconds.
    pub timeout_ms: Option<u64>,
    /// Supervisor: the empty directory the probe runs in.
    pub workdir: Option<std::path::PathBuf>,
    /// Supervisor: `RLIMIT_AS` of the probe in bytes.
    pub as_limit: Option<u64>,
}

/// Longest string a `str` call renders.
#[cfg(target_os = "linux")]
const MAX_STR: usize = 4096;

/// One framed record: `NONCE SEQ JSON\n` (the JSON is compact, so it holds no raw newline).
pub fn frame(nonce: &str, seq: u64, ev: &Event) -> Vec<u8> {
    let mut v = format!("{nonce} {seq} ").into_bytes();
    v.extend(serde_json::to_vec(ev).unwrap_or_else(|_| b"{}".to_vec()));
    v.push(b'\n');
    v
}

/// The probe's private result descriptor and what it must still be.
#[cfg(target_os = "linux")]
struct Channel {
    fd: i32,
    ident: (u64, u64),
    nonce: String,
    seq: u64,
}

#[cfg(target_os = "linux")]
fn fd_ident(fd: i32) -> Option<(u64, u64)> {
    // SAFETY: fstat into a zeroed struct.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        (libc::fstat(fd, &mut st) == 0).then_some((st.st_dev as u64, st.st_ino as u64))
    }
}

#[cfg(target_os = "linux")]
impl Channel {
    fn emit(&mut self, ev: &Event) {
        if fd_ident(self.fd) != Some(self.ident) {
            // SAFETY: leaving at once; nothing of ours needs cleaning up.
            unsafe { libc::_exit(CHANNEL_LOST_EXIT) }
        }
        let rec = frame(&self.nonce, self.seq, ev);
        self.seq += 1;
        let mut off = 0;
        while off < rec.len() {
            // SAFETY: writing from a live buffer to our descriptor.
            let n = unsafe { libc::write(self.fd, rec[off..].as_ptr().cast(), rec.len() - off) };
            if n > 0 {
                off += n as usize;
            } else if n < 0
                && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
            {
                continue;
            } else {
                // SAFETY: as above.
                unsafe { libc::_exit(CHANNEL_LOST_EXIT) }
            }
        }
    }

    /// Is descriptor `tripwire` (3) still the same pipe? Say so once if not.
    fn check_tripwire(&mut self, tripwire: i32, reported: &mut bool) {
        if *reported {
            return;
        }
        let what = match fd_ident(tripwire) {
            None => format!("closed the probe's result descriptor (fd {tripwire})"),
            Some(id) if id != self.ident => {
                format!("replaced the probe's result descriptor (fd {tripwire}) with another file")
            }
            Some(_) => return,
        };
        *reported = true;
        self.emit(&Event::Tampered { what });
    }
}

/// Run the probe; returns the process exit code (0 when the result stream was written to the end).
#[cfg(target_os = "linux")]
pub fn main(args: &ProbeChildArgs) -> i32 {
    use std::io::Read;
    use std::os::fd::AsRawFd;

    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};

    if args.supervise {
        return super::supervise::main(args);
    }
    // SAFETY: plain syscalls on values we own.
    let private = unsafe {
        // No core dumps even where core_pattern pipes to a helper (RLIMIT_CORE is set by the parent too).
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        if libc::fcntl(args.result_fd, libc::F_GETFD) < 0 {
            eprintln!("ffi-doctor __probe is internal; use `ffi-doctor load LIB`");
            return crate::report::EXIT_INPUT;
        }
        // A private copy at a high number that varies per run: a library writing to or closing "fd 3" (or fds
        // 3–20) does not reach it.
        let base = 300 + (libc::getpid() as i32).rem_euclid(600);
        libc::fcntl(args.result_fd, libc::F_DUPFD_CLOEXEC, base)
    };
    let Some(ident) = (private >= 0).then(|| fd_ident(private)).flatten() else {
        eprintln!("ffi-doctor __probe: cannot duplicate the result descriptor");
        return 125;
    };
    let mut input = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut input) {
        eprintln!("ffi-doctor __probe: reading the request: {e}");
        return 125;
    }
    let wire: WireRequest = match serde_json::from_slice(&input) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("ffi-doctor __probe: bad request: {e}");
            return 125;
        }
    };
    let mut ch = Channel {
        fd: private,
        ident,
        nonce: wire.nonce.clone(),
        seq: 0,
    };
    let tripwire = args.result_fd;
    let mut tampered = false;
    ch.emit(&Event::Stage {
        stage: Stage::Starting,
    });
    // The library gets /dev/null as stdin, never the request pipe.
    if let Ok(null) = std::fs::File::open("/dev/null") {
        // SAFETY: dup2 onto fd 0, which we own.
        unsafe {
            libc::dup2(null.as_raw_fd(), 0);
        }
    }
    ch.emit(&Event::Stage {
        stage: Stage::Loading,
    });
    // SAFETY: this is the point of the child process: it exists to run the library's initialisers, isolated.
    let lib = match unsafe { Library::open(Some(&wire.path), RTLD_NOW | RTLD_LOCAL) } {
        Ok(l) => l,
        Err(e) => {
            ch.emit(&Event::LoadFailed {
                error: e.to_string(),
            });
            ch.check_tripwire(tripwire, &mut tampered);
            ch.emit(&Event::Done);
            return 0;
        }
    };
    ch.emit(&Event::Loaded);
    ch.check_tripwire(tripwire, &mut tampered);
    ch.emit(&Event::Stage {
        stage: Stage::Resolving,
    });
    let own = std::fs::canonicalize(&wire.resolved_path).ok();
    for name in &wire.request.symbols {
        ch.emit(&Event::Symbol(resolve(&lib, name, own.as_deref())));
    }
    for call in &wire.request.calls {
        ch.emit(&Event::Stage {
            stage: Stage::Calling(call.name.clone()),
        });
        ch.emit(&Event::Call(call_one(&lib, call)));
    }
    ch.emit(&Event::Stage {
        stage: Stage::Exiting,
    });
    ch.check_tripwire(tripwire, &mut tampered);
    ch.emit(&Event::Done);
    // Never dlclose (ctypes does not either); destructors run at exit, still inside this child.
    std::mem::forget(lib);
    0
}

#[cfg(not(target_os = "linux"))]
pub fn main(_args: &ProbeChildArgs) -> i32 {
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
