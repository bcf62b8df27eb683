//! Runtime probing: load a library for real, in a child process, and say what happened.
//!
//! The calling process never loads the library, and never believes it. [`probe`] re-executes the `ffi-doctor`
//! binary as a supervisor (`ffi-doctor __probe --supervise`, [`supervise`]) in its own process group; the
//! supervisor starts a keeper (the init of a new PID namespace where the system allows one) which starts the probe
//! proper (`ffi-doctor __probe`, [`child`]) in its own session, in an empty temporary directory, with `RLIMIT_AS`
//! and `RLIMIT_CORE = 0`. The request and a per-run random nonce go to the probe on its stdin (then replaced with
//! `/dev/null`); the probe writes framed records (`NONCE SEQ JSON`) to a private duplicate of fd 3 — never stdout,
//! which belongs to the library's constructors. The parent validates them as they stream in (framing, sequence,
//! the probe's fixed order of phases, size limits; `spawn::RecordReader`). The probe's exit status, signal or
//! timeout is observed by the keeper and the supervisor, which never run library code, and reaches the parent on
//! the supervisor's own descriptor (fd 4). The parent waits on the supervisor's pid with its own deadline; the
//! supervisor kills every descendant at the end. What the library did to the probe itself (wrote into or closed
//! the channel, stopped or killed its parent, left processes running) is reported as FFI0512. The child opens
//! the library with `dlopen(RTLD_NOW | RTLD_LOCAL)`, resolves each requested symbol (`dlsym` + `dladdr`) and
//! calls only zero-argument functions returning `const char *` or an integer.
//!
//! Findings: FFI0500 skipped (not loadable on this host), FFI0501 load failed (with the static explanation),
//! FFI0502 symbol missing, FFI0503 symbol provided by another object, FFI0504 call result mismatch, FFI0505
//! killed by a signal, FFI0506 timeout, FFI0507 the library exited the process, FFI0508 output while loading,
//! FFI0509 the probe itself could not run, FFI0512 the library interfered with the probe.

pub mod child;
#[cfg(target_os = "linux")]
mod spawn;
#[cfg(target_os = "linux")]
pub(crate) mod supervise;

use crate::report::codes::{Code, LoadCode, RuntimeCode};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::binary::{self, Format, Mapped, ReadOptions};
use crate::error::InputError;
use crate::loader::{self, LoaderEnv};
use crate::report::{Finding, Severity};

/// The JSON schema of `ffi-doctor load --format json`.
pub const SCHEMA: &str = "ffi-doctor/load/v1";

/// What to do once the library is loaded.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProbeRequest {
    /// Symbols to resolve with `dlsym` (and locate with `dladdr`).
    pub symbols: Vec<String>,
    /// Zero-argument functions to call; only the signatures in [`ReturnType`] are ever called.
    pub calls: Vec<CallSpec>,
}

/// A zero-argument function to call, its declared return type and the glob its rendered value must match.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallSpec {
    pub name: String,
    pub returns: ReturnType,
    /// A glob (`glob::Pattern` syntax) the rendered value must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expect: Option<String>,
}

/// The declared return type of a called function. Nothing else is ever called.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReturnType {
    /// `const char *` (rendered as the string, `NULL` for a null pointer).
    Str,
    /// `int`
    Int,
    /// `unsigned int`
    Uint,
    /// `long`
    Long,
    /// `unsigned long`
    Ulong,
    /// `size_t`
    SizeT,
}

impl ReturnType {
    /// The C spelling.
    pub fn c_type(self) -> &'static str {
        match self {
            ReturnType::Str => "const char *",
            ReturnType::Int => "int",
            ReturnType::Uint => "unsigned int",
            ReturnType::Long => "long",
            ReturnType::Ulong => "unsigned long",
            ReturnType::SizeT => "size_t",
        }
    }
}

/// How the child runs.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// Wall-clock limit for the whole child run; on expiry its process group is killed.
    pub timeout: Duration,
    /// `RLIMIT_AS` of the child in bytes (`None`: inherit).
    pub address_space_limit: Option<u64>,
    /// Bytes of the child's stdout and of its stderr kept (the rest is read and counted, not kept).
    pub output_limit: usize,
    /// The `ffi-doctor` binary to run as `__probe` (default: `$FFI_DOCTOR_EXE`, else the current executable).
    pub exe: Option<PathBuf>,
    /// Extra environment variables for the child (it inherits this process's environment).
    pub env: Vec<(String, String)>,
    /// The loader environment for the static explanation of a failed load (default: this process's
    /// `LD_LIBRARY_PATH`, the host's ld.so cache and default directories — what the child's loader sees).
    pub loader_env: Option<LoaderEnv>,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            timeout: Duration::from_secs(10),
            address_space_limit: Some(4 << 30),
            output_limit: 64 << 10,
            exe: None,
            env: Vec::new(),
            loader_env: None,
        }
    }
}

/// One symbol as the child's loader resolved it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SymbolResult {
    pub name: String,
    pub found: bool,
    /// The address `dlsym` returned (hex).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// The object `dladdr` says contains that address, as the loader named it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// That object's path with symlinks resolved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_resolved: Option<String>,
    /// The symbol the address belongs to, per `dladdr`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_symbol: Option<String>,
    /// The symbol came from another object than the library (interposition or a dependency's definition).
    #[serde(default)]
    pub from_other_object: bool,
    /// The kind in the library's own export table (function, data, …), when it exports the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `dlerror()` text when not found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One call's outcome.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallResult {
    pub name: String,
    pub returns: ReturnType,
    /// The rendered return value.
    pub value: Option<String>,
    pub expect: Option<String>,
    /// Whether the value matched the glob (absent without `expect`).
    pub matched: Option<bool>,
    /// Why the function was not called (`dlsym` error).
    pub error: Option<String>,
}

/// What the child was doing (the last stage it announced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Started, request not yet read.
    Starting,
    /// Inside `dlopen`: the library's and its dependencies' constructors run here.
    Loading,
    /// Resolving symbols.
    Resolving,
    /// Calling this function.
    Calling(String),
    /// Finished and exiting: destructors and `atexit` handlers run here.
    Exiting,
}

impl Stage {
    /// A phrase for messages: "while …".
    pub fn describe(&self) -> String {
        match self {
            Stage::Starting => "before loading the library".into(),
            Stage::Loading => "during load (dlopen, running constructors)".into(),
            Stage::Resolving => "while resolving symbols".into(),
            Stage::Calling(n) => format!("while calling {n}()"),
            Stage::Exiting => "while exiting (destructors, atexit handlers)".into(),
        }
    }
}

/// A message from the child, one JSON object per line on the result pipe.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Stage {
        stage: Stage,
    },
    Loaded,
    LoadFailed {
        error: String,
    },
    Symbol(SymbolResult),
    Call(CallResult),
    /// The child could not do its job (bad request, …).
    Internal {
        error: String,
    },
    /// The probe found its descriptor 3 closed or replaced after the library's code ran.
    Tampered {
        what: String,
    },
    Done,
}

/// One captured output stream of the child.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Captured {
    /// The kept bytes, as text (invalid UTF-8 replaced).
    pub text: String,
    /// All bytes written, kept or not.
    pub bytes: u64,
    /// More was written than kept.
    pub truncated: bool,
}

/// How the child ended.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
pub struct ProcessReport {
    /// `exited`, `signaled` or `timed_out`.
    pub outcome: &'static str,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub signal_name: Option<&'static str>,
    /// The last stage the child announced: `loading`, `resolving`, `{"calling": NAME}`, `exiting`, ….
    pub stage: Stage,
    pub elapsed_ms: u64,
    pub timeout_s: f64,
    pub address_space_limit: Option<u64>,
    /// How the probe's processes were contained: `pid_namespace` or `subreaper`.
    pub containment: Option<&'static str>,
    /// Processes still running when the probe ended (the probe itself on a timeout, and whatever the library
    /// started), all killed.
    pub processes_killed: Option<u32>,
}

/// What became of a probe, as the parent observed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    Crashed,
    Error,
    Exited,
    Interfered,
    LoadFailed,
    Loaded,
    Skipped,
    TimedOut,
    Unreadable,
}

impl ProbeStatus {
    /// The name used in reports (`loaded`, `timed_out`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeStatus::Crashed => "crashed",
            ProbeStatus::Error => "error",
            ProbeStatus::Exited => "exited",
            ProbeStatus::Interfered => "interfered",
            ProbeStatus::LoadFailed => "load_failed",
            ProbeStatus::Loaded => "loaded",
            ProbeStatus::Skipped => "skipped",
            ProbeStatus::TimedOut => "timed_out",
            ProbeStatus::Unreadable => "unreadable",
        }
    }
}

impl PartialEq<&str> for ProbeStatus {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Everything a probe found out.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    pub path: String,
    pub resolved_path: String,
    /// What became of the probe.
    pub status: ProbeStatus,
    /// Why runtime checks did not run (format or architecture of another host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// The loader's message, verbatim, when `dlopen` failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub load_error: Option<String>,
    pub symbols: Vec<SymbolResult>,
    pub calls: Vec<CallResult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub process: Option<ProcessReport>,
    pub stdout: Captured,
    pub stderr: Captured,
    /// Static findings (loader model, symbol binding) that explain a failed load.
    pub explanation: Vec<Finding>,
    pub findings: Vec<Finding>,
    /// The input could not be used at all (exit 2).
    #[serde(skip)]
    pub input_error: Option<InputError>,
}

impl ProbeReport {
    fn new(lib: &str) -> Self {
        ProbeReport {
            path: lib.to_string(),
            resolved_path: std::fs::canonicalize(lib)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| lib.to_string()),
            status: ProbeStatus::Error,
            skipped: None,
            load_error: None,
            symbols: Vec::new(),
            calls: Vec::new(),
            process: None,
            stdout: Captured::default(),
            stderr: Captured::default(),
            explanation: Vec::new(),
            findings: Vec::new(),
            input_error: None,
        }
    }
}

/// The object format this host's dynamic loader loads.
fn host_format() -> Option<Format> {
    if cfg!(target_os = "linux") {
        Some(Format::Elf)
    } else if cfg!(target_vendor = "apple") {
        Some(Format::Macho)
    } else if cfg!(windows) {
        Some(Format::Pe)
    } else {
        None
    }
}

fn format_name(f: Format) -> &'static str {
    match f {
        Format::Elf => "an ELF",
        Format::Macho => "a Mach-O",
        Format::Pe => "a PE",
    }
}

fn host_os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        other => other,
    }
}

/// Load `lib` in an isolated child process and report what happened. Never loads anything into this process.
/// A library for another OS or architecture is not run: the report says why (FFI0500, status `skipped`).
/// An unreadable input gives status `unreadable` and [`ProbeReport::input_error`].
pub fn probe(lib: &str, request: &ProbeRequest, opts: &ProbeOptions) -> ProbeReport {
    let mut report = ProbeReport::new(lib);
    // What the file is: only a library of this host's format and architecture is run.
    let mapped = match Mapped::open(lib) {
        Ok(m) => m,
        Err(e) => {
            report.status = ProbeStatus::Unreadable;
            report.input_error = Some(e);
            return report;
        }
    };
    let images =
        match binary::read_images(lib, mapped.bytes(), None, ReadOptions { demangle: false }) {
            Ok(i) => i,
            Err(e) => {
                report.status = ProbeStatus::Unreadable;
                report.input_error = Some(e);
                return report;
            }
        };
    let host_arch = std::env::consts::ARCH;
    let host_fmt = host_format();
    let usable = images
        .iter()
        .find(|i| Some(i.format) == host_fmt && binary::arch_matches(&i.arch, host_arch));
    let Some(image) = usable else {
        let first = &images[0];
        let why = if Some(first.format) != host_fmt {
            format!(
                "{} file cannot be loaded on {}; checked statically only",
                format_name(first.format),
                host_os_name()
            )
        } else {
            let archs: Vec<&str> = images.iter().map(|i| i.arch.as_str()).collect();
            format!(
                "{} file for {} cannot be loaded on this {host_arch} host; checked statically only",
                format_name(first.format),
                archs.join(" + ")
            )
        };
        return skipped(report, why);
    };
    if !cfg!(target_os = "linux") {
        return skipped(
            report,
            format!(
                "runtime probing is implemented on Linux only (this host runs {}); checked statically only",
                host_os_name()
            ),
        );
    }
    let kinds: BTreeMap<String, String> = image
        .exports
        .iter()
        .filter(|e| request.symbols.iter().any(|s| s == e.name.as_ref()))
        .map(|e| (e.name.to_string(), e.kind.as_str().to_string()))
        .collect();
    drop(images);
    drop(mapped);
    run_child(report, lib, request, opts, &kinds)
}

fn skipped(mut report: ProbeReport, why: String) -> ProbeReport {
    report.status = ProbeStatus::Skipped;
    report.findings.push(Finding {
        code: Code::Runtime(RuntimeCode::Skipped),
        severity: Severity::Info,
        location: report.path.clone().into(),
        message: format!("runtime checks skipped: {why}"),
        expected: format!(
            "a library for this host ({} {})",
            host_os_name(),
            std::env::consts::ARCH
        ),
        found: why,
        hint: "run `ffi-doctor load` on the target system to load it for real".into(),
    });
    report.skipped = report.findings.last().map(|f| f.found.clone());
    report
}

#[cfg(not(target_os = "linux"))]
fn run_child(
    report: ProbeReport,
    _lib: &str,
    _request: &ProbeRequest,
    _opts: &ProbeOptions,
    _kinds: &BTreeMap<String, String>,
) -> ProbeReport {
    report
}

#[cfg(target_os = "linux")]
fn run_child(
    mut report: ProbeReport,
    lib: &str,
    request: &ProbeRequest,
    opts: &ProbeOptions,
    kinds: &BTreeMap<String, String>,
) -> ProbeReport {
    // dlopen treats a name without `/` as a name to search for: always pass a path.
    let load_path = if lib.contains('/') {
        lib.to_string()
    } else {
        format!("./{lib}")
    };
    let exe = opts
        .exe
        .clone()
        .or_else(|| std::env::var_os("FFI_DOCTOR_EXE").map(PathBuf::from))
        .map(Ok)
        .unwrap_or_else(std::env::current_exe);
    let exe = match exe {
        Ok(e) => e,
        Err(e) => {
            return internal(
                report,
                format!("cannot find the ffi-doctor executable: {e}"),
            )
        }
    };
    // The probe runs in an empty directory of its own: make the path absolute first.
    let load_path = match std::path::Path::new(&load_path).is_absolute() {
        true => load_path,
        false => std::env::current_dir()
            .map(|d| d.join(&load_path).display().to_string())
            .unwrap_or(load_path),
    };
    let resolved = report.resolved_path.clone();
    let run = match spawn::run(&exe, load_path, resolved, request, opts) {
        Ok(r) => r,
        Err(e) => return internal(report, format!("cannot run {} __probe: {e}", exe.display())),
    };
    report.stdout = run.stdout;
    report.stderr = run.stderr;
    let mut interference = run.interference;
    let mut stage = Stage::Starting;
    let mut done = false;
    let mut loaded = false;
    let mut internal_error = None;
    for ev in run.events {
        match ev {
            Event::Stage { stage: s } => stage = s,
            Event::Loaded => loaded = true,
            Event::LoadFailed { error } => report.load_error = Some(error),
            Event::Symbol(mut s) => {
                s.kind = kinds.get(&s.name).cloned();
                report.symbols.push(s);
            }
            Event::Call(c) => report.calls.push(c),
            Event::Internal { error } => internal_error = Some(error),
            Event::Tampered { what } => interference.push(spawn::Interference::Descriptor(what)),
            Event::Done => done = true,
        }
    }
    let (outcome, exit_code, signal) = match run.status {
        spawn_status::Status::Exited(c) => ("exited", Some(c), None),
        spawn_status::Status::Signaled(s) => ("signaled", None, Some(s)),
        spawn_status::Status::TimedOut => ("timed_out", None, None),
        spawn_status::Status::Interfered => ("interfered", None, None),
    };
    if stage == Stage::Starting && !done && matches!(run.status, spawn_status::Status::Exited(_)) {
        // No library code runs before the probe announces `loading`: this is the probe's own failure.
        internal_error.get_or_insert_with(|| {
            format!(
                "the probe exited with status {} before loading the library: {}",
                exit_code.unwrap_or(-1),
                tail(&report.stderr, 500)
            )
        });
    }
    report.process = Some(ProcessReport {
        outcome,
        exit_code,
        signal,
        signal_name: signal.map(signal_name),
        stage: stage.clone(),
        elapsed_ms: run.elapsed.as_millis() as u64,
        timeout_s: opts.timeout.as_secs_f64(),
        address_space_limit: opts.address_space_limit,
        containment: run.supervisor.as_ref().map(|s| {
            if s.pid_namespace {
                "pid_namespace"
            } else {
                "subreaper"
            }
        }),
        processes_killed: run.supervisor.as_ref().map(|s| s.killed),
    });
    let channel_lost = interference.iter().any(|i| {
        matches!(
            i,
            spawn::Interference::ChannelLost | spawn::Interference::Flooded(_)
        )
    });
    findings_for(
        &mut report,
        lib,
        opts,
        &stage,
        done,
        loaded,
        &run.status,
        internal_error,
        channel_lost,
    );
    interference_findings(&mut report, &interference);
    report
}

/// FFI0512 for each way the library interfered with the probe.
#[cfg(target_os = "linux")]
fn interference_findings(report: &mut ProbeReport, list: &[spawn::Interference]) {
    use spawn::Interference as I;
    for i in list {
        let (message, found) = match i {
            I::Foreign {
                bytes,
                lines,
                sample,
            } => (
                format!(
                    "the library wrote into the probe's result channel ({bytes} bytes in {lines} lines that are not the \
                     probe's records; ignored)"
                ),
                if sample.is_empty() {
                    "unframed bytes on the result channel".to_string()
                } else {
                    format!("first foreign line: {sample}")
                },
            ),
            I::BadRecord(why) => (
                "the probe's result channel carried a record the probe did not write in that order; it and \
                 everything after it were ignored"
                    .into(),
                why.clone(),
            ),
            I::Flooded(limit) => (
                format!("the library flooded the probe's result channel; reading stopped after {limit} bytes"),
                format!("more than {limit} bytes on the result channel"),
            ),
            I::Descriptor(what) => (format!("the library {what}"), what.clone()),
            I::ChannelLost => (
                "the library closed the probe's result descriptor (or replaced it); the probe stopped reporting"
                    .into(),
                format!(
                    "the probe exited with status {} when its result descriptor was no longer the pipe it was",
                    child::CHANNEL_LOST_EXIT
                ),
            ),
            I::ParentStopped => (
                "the library stopped the probe's parent process (it was resumed)".into(),
                "the probe's parent was stopped".into(),
            ),
            I::ParentKilled(sig) => (
                "the library killed the probe's parent process; what the library did after that is unknown".into(),
                match sig {
                    Some(s) => format!("the probe's parent was killed by signal {s} ({})", signal_name(*s)),
                    None => "the probe's parent exited".into(),
                },
            ),
            I::SupervisorLost(how) => (
                "the library interfered with the probe's supervisor; the probe's outcome is unknown".into(),
                how.clone(),
            ),
            I::Leftover(n) => (
                format!(
                    "the library left {n} process{} running after the probe ended; killed",
                    if *n == 1 { "" } else { "es" }
                ),
                format!("{n} descendant process{} still alive", if *n == 1 { "" } else { "es" }),
            ),
        };
        report.findings.push(Finding {
            code: Code::Runtime(RuntimeCode::Interfered),
            severity: Severity::Error,
            location: report.path.clone().into(),
            message,
            expected: "a library that leaves the probe's result channel, descriptors and processes alone".into(),
            found,
            hint: "the probe's verdict rests on what its parent observed (exit status, signal, time); a library \
                   that touches descriptors, signals or processes it does not own breaks its host program the \
                   same way"
                .into(),
        });
    }
    let unobserved = |i: &&I| {
        matches!(
            i,
            I::ParentKilled(_) | I::SupervisorLost(_) | I::ChannelLost
        )
    };
    let flooded_and_lost = list.iter().any(|i| matches!(i, I::Flooded(_)))
        && matches!(
            report.process.as_ref().and_then(|p| p.exit_code),
            Some(child::CHANNEL_LOST_EXIT)
        );
    if list.iter().any(|i| unobserved(&i)) || flooded_and_lost {
        report.status = ProbeStatus::Interfered;
    }
}

fn internal(mut report: ProbeReport, why: String) -> ProbeReport {
    push_internal(&mut report, why);
    report
}

fn push_internal(report: &mut ProbeReport, why: String) {
    report.status = ProbeStatus::Error;
    report.findings.push(Finding {
        code: Code::Runtime(RuntimeCode::ProbeFailed),
        severity: Severity::Error,
        location: report.path.clone().into(),
        message: "the runtime probe could not run".into(),
        expected: "a probe child process that reports back".into(),
        found: why,
        hint: "this is an ffi-doctor or environment problem, not the library's: please report it"
            .into(),
    });
}

/// The last `max` bytes of a captured stream, for a message.
fn tail(c: &Captured, max: usize) -> String {
    let t = c.text.trim_end();
    if t.len() <= max {
        return t.to_string();
    }
    let mut start = t.len() - max;
    while !t.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", &t[start..])
}

fn output_note(report: &ProbeReport) -> String {
    let mut parts = Vec::new();
    for (name, c) in [("stdout", &report.stdout), ("stderr", &report.stderr)] {
        if c.bytes > 0 {
            let t = tail(c, 500);
            parts.push(format!(
                "{name} ({} bytes{}):\n  {}",
                c.bytes,
                if c.truncated { ", truncated" } else { "" },
                t.replace('\n', "\n  ")
            ));
        }
    }
    if parts.is_empty() {
        "no output on stdout or stderr".into()
    } else {
        parts.join("\n")
    }
}

#[allow(clippy::too_many_arguments)]
fn findings_for(
    report: &mut ProbeReport,
    lib: &str,
    opts: &ProbeOptions,
    stage: &Stage,
    done: bool,
    loaded: bool,
    status: &spawn_status::Status,
    internal_error: Option<String>,
    channel_lost: bool,
) {
    let loc = report.path.clone();
    let secs = opts.timeout.as_secs_f64();
    let mut abnormal = true;
    match status {
        spawn_status::Status::TimedOut => {
            report.status = ProbeStatus::TimedOut;
            report.findings.push(Finding {
                code: Code::Runtime(RuntimeCode::TimedOut),
                severity: Severity::Error,
                location: loc.clone().into(),
                message: format!(
                    "no result after {secs} s: the library hung {}; its process group was killed (with every \
                     process it started)",
                    stage.describe()
                ),
                expected: format!("the probe to finish within {secs} s (--timeout)"),
                found: output_note(report),
                hint: match stage {
                    Stage::Loading => "a constructor blocks (waiting on a lock, a network service, stdin, a child process); \
                         every FFI user of this library will hang at import"
                        .into(),
                    _ => "raise --timeout if the library is just slow; otherwise find what it waits for".into(),
                },
            });
        }
        spawn_status::Status::Signaled(sig) => {
            report.status = ProbeStatus::Crashed;
            report.findings.push(Finding {
                code: Code::Runtime(RuntimeCode::Crashed),
                severity: Severity::Error,
                location: loc.clone().into(),
                message: format!(
                    "the probe process was killed by signal {sig} ({}) {}",
                    signal_name(*sig),
                    stage.describe()
                ),
                expected: "the library to load and run without crashing".into(),
                found: output_note(report),
                hint: match (stage, *sig) {
                    (_, 6) => "the library called abort() (a failed assertion or a fatal error it detected); the \
                               captured stderr usually says why"
                        .into(),
                    (Stage::Loading, _) => "a constructor crashes: any process that loads this library (python \
                                             import, ctypes.CDLL) dies the same way"
                        .into(),
                    _ => "run it under a debugger on the target system (gdb --args python -c 'import ...')".into(),
                },
            });
        }
        spawn_status::Status::Interfered => {}
        spawn_status::Status::Exited(_) if !done && channel_lost => {}
        spawn_status::Status::Exited(code) if !done && internal_error.is_none() => {
            report.status = ProbeStatus::Exited;
            report.findings.push(Finding {
                code: Code::Runtime(RuntimeCode::Exited),
                severity: Severity::Error,
                location: loc.clone().into(),
                message: format!(
                    "the library exited the process {} (status {code})",
                    stage.describe()
                ),
                expected: "the library to return control to its caller".into(),
                found: output_note(report),
                hint: "the library calls exit() (often a failed license, environment or CPU-feature check); \
                       a Python process loading it ends silently with this status"
                    .into(),
            });
        }
        spawn_status::Status::Exited(_) => abnormal = false,
    }
    if let Some(e) = internal_error {
        if !abnormal {
            push_internal(report, e);
            return;
        }
    }
    if let Some(err) = report.load_error.clone() {
        report.status = ProbeStatus::LoadFailed;
        let explanation = explain_load_failure(lib, &err, opts);
        let hint = if explanation.is_empty() {
            "the static model finds nothing wrong here: the cause is in this environment (LD_LIBRARY_PATH, \
             ld.so.cache, LD_PRELOAD) or in a constructor; run `ffi-doctor deps --explain --check-symbols`"
                .to_string()
        } else {
            let lines: Vec<String> = explanation
                .iter()
                .map(|f| format!("{} {}", f.code, f.message))
                .collect();
            format!("explained statically:\n  {}", lines.join("\n  "))
        };
        report.findings.push(Finding {
            code: Code::Runtime(RuntimeCode::LoadFailed),
            severity: Severity::Error,
            location: loc.clone().into(),
            message:
                "the dynamic loader cannot load the library (dlopen RTLD_NOW | RTLD_LOCAL failed)"
                    .into(),
            expected: "dlopen to succeed".into(),
            found: err,
            hint,
        });
        report.explanation = explanation;
    } else if !abnormal && loaded {
        report.status = ProbeStatus::Loaded;
    }
    for s in &report.symbols {
        if !s.found {
            report.findings.push(Finding {
                code: Code::Runtime(RuntimeCode::Unresolved),
                severity: Severity::Error,
                location: crate::report::Location::symbol(loc.clone(), s.name.clone()),
                message: format!("symbol {} cannot be resolved (dlsym)", s.name),
                expected: format!("{} exported by the library or one of its dependencies", s.name),
                found: s.error.clone().unwrap_or_else(|| "not found".into()),
                hint: "check the name (C++ and Rust names are mangled; Windows stdcall names are decorated) and \
                       that it is exported with default visibility"
                    .into(),
            });
        } else if s.from_other_object {
            let other = s
                .object
                .clone()
                .unwrap_or_else(|| "an unknown object".into());
            report.findings.push(Finding {
                code: Code::Runtime(RuntimeCode::Interposed),
                severity: Severity::Warning,
                location: crate::report::Location::symbol(loc.clone(), s.name.clone()),
                message: format!(
                    "{} resolves to {other}, not to {}",
                    s.name, report.resolved_path
                ),
                expected: format!("{} defined by {}", s.name, report.resolved_path),
                found: format!(
                    "dlsym returned {} inside {other}",
                    s.address.as_deref().unwrap_or("?")
                ),
                hint: "the library does not define this symbol itself: a dependency does, and a binding that \
                       expects the library's own version gets another one (vendored vs system copies)"
                    .into(),
            });
        }
    }
    for c in &report.calls {
        if let Some(err) = &c.error {
            if !report.symbols.iter().any(|s| s.name == c.name && !s.found) {
                report.findings.push(Finding {
                    code: Code::Runtime(RuntimeCode::Unresolved),
                    severity: Severity::Error,
                    location: crate::report::Location::symbol(loc.clone(), c.name.clone()),
                    message: format!(
                        "function {} cannot be resolved (dlsym), so it was not called",
                        c.name
                    ),
                    expected: format!("{} exported by the library", c.name),
                    found: err.clone(),
                    hint: "check the name and that it is exported".into(),
                });
            }
        } else if c.matched == Some(false) {
            report.findings.push(Finding {
                code: Code::Runtime(RuntimeCode::UnexpectedValue),
                severity: Severity::Error,
                location: crate::report::Location::symbol(loc.clone(), c.name.clone()),
                message: format!(
                    "{}() returned {}, which does not match `{}`",
                    c.name,
                    c.value.as_deref().unwrap_or("?"),
                    c.expect.as_deref().unwrap_or("")
                ),
                expected: format!(
                    "{} {}(void) returning a value matching `{}`",
                    c.returns.c_type(),
                    c.name,
                    c.expect.as_deref().unwrap_or("")
                ),
                found: c.value.clone().unwrap_or_default(),
                hint: "a different build or version of the library is being loaded than the binding expects".into(),
            });
        }
    }
    if !abnormal && (report.stdout.bytes > 0 || report.stderr.bytes > 0) {
        let mut what = Vec::new();
        for (n, c) in [("stdout", &report.stdout), ("stderr", &report.stderr)] {
            if c.bytes > 0 {
                what.push(format!(
                    "{} bytes on {n}{}",
                    c.bytes,
                    if c.truncated {
                        format!(" (first {} kept)", c.text.len())
                    } else {
                        String::new()
                    }
                ));
            }
        }
        report.findings.push(Finding {
            code: Code::Runtime(RuntimeCode::Output),
            severity: Severity::Info,
            location: loc.into(),
            message: format!("the library wrote {} while being probed", what.join(" and ")),
            expected: "no output from loading a library".into(),
            found: output_note(report),
            hint: "output from constructors mixes into the host program's own stdout (a CLI printing JSON, a \
                   Jupyter kernel); it is not an error by itself"
                .into(),
        });
    }
}

/// The static findings that explain a failed `dlopen`: resolve the tree with the glibc model and check symbol
/// binding, then keep what the loader's message is about (or every error when it names nothing we recognise).
pub fn explain_load_failure(lib: &str, dlerror: &str, opts: &ProbeOptions) -> Vec<Finding> {
    let env = opts.loader_env.clone().unwrap_or_else(|| {
        let mut env = LoaderEnv::default();
        if let Ok(v) = std::env::var("LD_LIBRARY_PATH") {
            env.env.insert("LD_LIBRARY_PATH".into(), v);
        }
        for (k, v) in &opts.env {
            if k == "LD_LIBRARY_PATH" {
                env.env.insert(k.clone(), v.clone());
            }
        }
        env
    });
    let Ok(mut graph) = loader::glibc::resolve(lib, &env) else {
        return Vec::new();
    };
    let mut all = std::mem::take(&mut graph.findings);
    all.extend(loader::check_symbols(&graph, loader::LoaderKind::Glibc));
    let errors: Vec<Finding> = all
        .into_iter()
        .filter(|f| f.severity >= Severity::Warning)
        .collect();
    // What the loader's message names.
    let key: Option<(Code, String)> =
        if let Some(i) = dlerror.find(": cannot open shared object file") {
            let name = dlerror[..i].rsplit(": ").next().unwrap_or("").trim();
            Some((Code::Load(LoadCode::NotFound), name.to_string()))
        } else if let Some(rest) = dlerror.split("version `").nth(1) {
            Some((
                Code::Load(LoadCode::MissingVersion),
                rest.split('\'').next().unwrap_or("").to_string(),
            ))
        } else if let Some(rest) = dlerror.split("undefined symbol: ").nth(1) {
            let sym = rest.split([',', ' ']).next().unwrap_or("").trim();
            Some((Code::Load(LoadCode::UndefinedSymbol), sym.to_string()))
        } else {
            None
        };
    if let Some((code, what)) = key {
        let hit: Vec<Finding> = errors
            .iter()
            .filter(|f| {
                // The findings say what they are about: the needed entry, the symbol, the version.
                let about = match f.code {
                    Code::Load(LoadCode::NotFound) => &f.location.entry,
                    Code::Load(LoadCode::UndefinedSymbol) => &f.location.symbol,
                    _ => &f.location.version,
                };
                f.code == code && !what.is_empty() && about.as_deref() == Some(what.as_str())
            })
            .cloned()
            .collect();
        if !hit.is_empty() {
            return hit;
        }
    }
    errors
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect()
}

/// `SIGSEGV` etc. for a signal number (Linux numbering).
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        31 => "SIGSYS",
        _ => "signal",
    }
}

/// The child's end state as the parent saw it (shared by the Linux spawner and the report logic).
pub(crate) mod spawn_status {
    /// How the child ended.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Status {
        Exited(i32),
        Signaled(i32),
        TimedOut,
        /// The library killed the probe's parent or supervisor: the probe's own end was not observed.
        Interfered,
    }
}
