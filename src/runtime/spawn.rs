//! Start the supervisor (`ffi-doctor __probe --supervise`, see [`super::supervise`]) in its own process group in
//! a fresh empty directory, feed the probe its request and the run's nonce, collect the probe's framed records
//! (fd 3), its stdout and stderr (bounded), and the supervisor's report (fd 4). The parent waits on the
//! supervisor's pid — never a group — with its own deadline (`--timeout` plus a short grace for the supervisor's
//! cleanup); past it, the supervisor's group is killed and the run counts as timed out.
//!
//! Records are validated as they stream in ([`RecordReader`]): nonce, consecutive sequence numbers, one JSON
//! event per line, the order of phases the probe follows for this request (so at most one record per phase and
//! symbol), a line-length limit and a limit on the bytes read from the pipe at all. Anything else on the channel
//! was written by the library and is reported as such, never believed.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::child::{WireRequest, CHANNEL_LOST_EXIT};
use super::spawn_status::Status;
use super::supervise::{Outcome, SupervisorReport};
use super::{Captured, Event, ProbeOptions, ProbeRequest, Stage};

/// The descriptor number the probe's result pipe has in the supervisor and the probe.
const RESULT_FD: RawFd = 3;
/// The descriptor number of the supervisor's own report pipe.
const STATUS_FD: RawFd = 4;
/// The longest record line accepted (a symbol or call record is well under 64 KiB).
const LINE_LIMIT: usize = 256 << 10;
/// How long to keep draining pipes after the supervisor is gone (it killed every descendant, so they close fast).
const DRAIN_GRACE: Duration = Duration::from_millis(300);
/// The longest timeout honoured (about a year; more would overflow clock arithmetic).
const MAX_TIMEOUT_MS: u64 = 365 * 24 * 3600 * 1000;
/// Extra time the supervisor gets past `--timeout` to kill, reap and report before it is killed itself.
const SUPERVISOR_GRACE: Duration = Duration::from_millis(600);

/// Something the library did to the probe rather than what the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Interference {
    /// Bytes on the result channel that are not records of this run.
    Foreign {
        bytes: u64,
        lines: u64,
        sample: String,
    },
    /// A record carrying the nonce but out of sequence, out of order or unreadable.
    BadRecord(String),
    /// More than the limit was written on the result channel; reading stopped.
    Flooded(u64),
    /// The probe says its descriptor 3 was closed or replaced.
    Descriptor(String),
    /// The probe's private result descriptor was closed or replaced under it (it exited with
    /// [`CHANNEL_LOST_EXIT`]).
    ChannelLost,
    /// The library stopped the probe's parent process (it was resumed).
    ParentStopped,
    /// The library killed the probe's parent process; the probe's own outcome is unknown.
    ParentKilled(Option<i32>),
    /// The supervisor died or stopped answering (killed by the library where it could reach it).
    SupervisorLost(String),
    /// Processes the library started were still running when the probe ended (killed then).
    Leftover(u32),
}

/// What came back from one child run.
pub struct Run {
    pub events: Vec<Event>,
    pub status: Status,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
    pub interference: Vec<Interference>,
    /// The supervisor's report, when it gave one.
    pub supervisor: Option<SupervisorReport>,
}

/// Which phase of the probe's fixed script the records have reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Begin,
    Started,
    Loading,
    LoadFailed,
    Loaded,
    Resolving(usize),
    Calling(usize),
    Called(usize),
    Exiting,
    Done,
}

/// Streams the result pipe: accepts the probe's records in the only order the probe writes them.
pub struct RecordReader<'a> {
    nonce: String,
    request: &'a ProbeRequest,
    line: Vec<u8>,
    overlong: bool,
    next_seq: u64,
    phase: Phase,
    pub events: Vec<Event>,
    pub total: u64,
    foreign_bytes: u64,
    foreign_lines: u64,
    sample: String,
    bad: Option<String>,
}

impl<'a> RecordReader<'a> {
    pub fn new(nonce: &str, request: &'a ProbeRequest) -> Self {
        RecordReader {
            nonce: nonce.to_string(),
            request,
            line: Vec::new(),
            overlong: false,
            next_seq: 0,
            phase: Phase::Begin,
            events: Vec::new(),
            total: 0,
            foreign_bytes: 0,
            foreign_lines: 0,
            sample: String::new(),
            bad: None,
        }
    }

    pub fn feed(&mut self, mut data: &[u8]) {
        self.total += data.len() as u64;
        while !data.is_empty() {
            let (part, rest, end) = match data.iter().position(|&b| b == b'\n') {
                Some(i) => (&data[..i], &data[i + 1..], true),
                None => (data, &data[data.len()..], false),
            };
            if !self.overlong {
                if self.line.len() + part.len() > LINE_LIMIT {
                    self.overlong = true;
                    self.foreign_bytes += self.line.len() as u64;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(part);
                }
            }
            if self.overlong {
                self.foreign_bytes += part.len() as u64;
            }
            if end {
                if self.overlong {
                    self.overlong = false;
                    self.foreign_lines += 1;
                    self.foreign_bytes += 1;
                } else {
                    let line = std::mem::take(&mut self.line);
                    self.line_done(&line);
                }
            }
            data = rest;
        }
    }

    /// End of stream: a partial last line is foreign (or a torn record).
    pub fn finish(mut self) -> (Vec<Event>, Vec<Interference>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            if line.starts_with(self.nonce.as_bytes()) {
                self.bad
                    .get_or_insert_with(|| "a record was cut off before its end".into());
            } else {
                self.foreign(line.len() as u64, Some(&line));
            }
        }
        let mut out = Vec::new();
        if self.foreign_bytes > 0 {
            out.push(Interference::Foreign {
                bytes: self.foreign_bytes,
                lines: self.foreign_lines,
                sample: self.sample,
            });
        }
        if let Some(b) = self.bad {
            out.push(Interference::BadRecord(b));
        }
        (self.events, out)
    }

    fn foreign(&mut self, bytes: u64, line: Option<&[u8]>) {
        self.foreign_bytes += bytes;
        self.foreign_lines += 1;
        if let (true, Some(l)) = (self.sample.is_empty(), line) {
            let l = &l[..l.len().min(120)];
            self.sample = String::from_utf8_lossy(l).into_owned();
        }
    }

    fn line_done(&mut self, line: &[u8]) {
        let prefix = format!("{} ", self.nonce);
        // Bytes the library wrote without a newline run into the probe's next record: resynchronise on the
        // nonce (128 random bits do not occur in foreign bytes by chance).
        let at = line
            .windows(prefix.len())
            .position(|w| w == prefix.as_bytes());
        let Some(at) = at else {
            self.foreign(line.len() as u64 + 1, Some(line));
            return;
        };
        if at > 0 {
            self.foreign(at as u64, Some(&line[..at]));
        }
        let rest = &line[at + prefix.len()..];
        if self.bad.is_some() {
            return;
        }
        let text = String::from_utf8_lossy(rest);
        let Some((seq, json)) = text.split_once(' ') else {
            self.bad = Some("a record without a sequence number".into());
            return;
        };
        if seq.parse::<u64>().ok() != Some(self.next_seq) {
            self.bad = Some(format!(
                "record number {seq} where number {} was due",
                self.next_seq
            ));
            return;
        }
        let ev: Event = match serde_json::from_str(json) {
            Ok(e) => e,
            Err(e) => {
                self.bad = Some(format!("record {seq} is not a valid event: {e}"));
                return;
            }
        };
        match self.advance(&ev) {
            Some(p) => {
                self.phase = p;
                self.next_seq += 1;
                self.events.push(ev);
            }
            None => {
                self.bad = Some(format!(
                    "record {seq} ({}) does not fit the probe's order after {:?}",
                    event_kind(&ev),
                    self.phase
                ))
            }
        }
    }

    /// The phase after `ev`, or `None` when the probe never writes `ev` at this point.
    fn advance(&self, ev: &Event) -> Option<Phase> {
        let syms = &self.request.symbols;
        let calls = &self.request.calls;
        let after_symbols = |n: usize, ev: &Event| -> Option<Phase> {
            match ev {
                Event::Symbol(s) if n < syms.len() && s.name == syms[n] => {
                    Some(Phase::Resolving(n + 1))
                }
                Event::Stage {
                    stage: Stage::Calling(c),
                } if n == syms.len() && calls.first().is_some_and(|x| &x.name == c) => {
                    Some(Phase::Calling(0))
                }
                Event::Stage {
                    stage: Stage::Exiting,
                } if n == syms.len() && calls.is_empty() => Some(Phase::Exiting),
                _ => None,
            }
        };
        match (self.phase, ev) {
            (
                Phase::Begin,
                Event::Stage {
                    stage: Stage::Starting,
                },
            ) => Some(Phase::Started),
            (
                Phase::Started,
                Event::Stage {
                    stage: Stage::Loading,
                },
            ) => Some(Phase::Loading),
            (Phase::Loading, Event::Loaded) => Some(Phase::Loaded),
            (Phase::Loading, Event::LoadFailed { .. }) => Some(Phase::LoadFailed),
            (Phase::LoadFailed | Phase::Loaded | Phase::Exiting, Event::Tampered { .. })
                if !self
                    .events
                    .iter()
                    .any(|e| matches!(e, Event::Tampered { .. })) =>
            {
                Some(self.phase)
            }
            (Phase::LoadFailed | Phase::Exiting, Event::Done) => Some(Phase::Done),
            (
                Phase::Loaded,
                Event::Stage {
                    stage: Stage::Resolving,
                },
            ) => Some(Phase::Resolving(0)),
            (Phase::Resolving(n), ev) => after_symbols(n, ev),
            (Phase::Calling(j), Event::Call(c)) if c.name == calls[j].name => {
                Some(Phase::Called(j))
            }
            (
                Phase::Called(j),
                Event::Stage {
                    stage: Stage::Calling(c),
                },
            ) if calls.get(j + 1).is_some_and(|x| &x.name == c) => Some(Phase::Calling(j + 1)),
            (
                Phase::Called(j),
                Event::Stage {
                    stage: Stage::Exiting,
                },
            ) if j + 1 == calls.len() => Some(Phase::Exiting),
            _ => None,
        }
    }
}

fn event_kind(ev: &Event) -> &'static str {
    match ev {
        Event::Stage { .. } => "stage",
        Event::Loaded => "loaded",
        Event::LoadFailed { .. } => "load_failed",
        Event::Symbol(_) => "symbol",
        Event::Call(_) => "call",
        Event::Internal { .. } => "internal",
        Event::Tampered { .. } => "tampered",
        Event::Done => "done",
    }
}

/// The most bytes read from the result pipe for `request`: generous for real records, small against floods.
fn read_limit(request: &ProbeRequest) -> u64 {
    let items = (request.symbols.len() + 2 * request.calls.len()) as u64;
    (1 << 20) + items * (16 << 10)
}

/// A random nonce (hex) from the kernel.
fn nonce() -> std::io::Result<String> {
    let mut b = [0u8; 16];
    let mut got = 0;
    while got < b.len() {
        // SAFETY: getrandom into a local buffer.
        let n = unsafe { libc::getrandom(b[got..].as_mut_ptr().cast(), b.len() - got, 0) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        got += n as usize;
    }
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// A pipe being read: kept bytes up to a limit, total count, end of file.
struct Sink {
    fd: RawFd,
    kept: Vec<u8>,
    limit: usize,
    total: u64,
    eof: bool,
}

impl Sink {
    fn new(fd: RawFd, limit: usize) -> Self {
        set_nonblocking(fd);
        Sink {
            fd,
            kept: Vec::new(),
            limit,
            total: 0,
            eof: false,
        }
    }

    /// Read what is available now (a bounded amount per call, so a flooding writer cannot keep us here).
    fn pump(&mut self) {
        let mut buf = [0u8; 65536];
        for _ in 0..64 {
            // SAFETY: reading into a local buffer from a descriptor we own.
            let n = unsafe { libc::read(self.fd, buf.as_mut_ptr().cast(), buf.len()) };
            if n > 0 {
                let n = n as usize;
                self.total += n as u64;
                let room = self.limit.saturating_sub(self.kept.len());
                self.kept.extend_from_slice(&buf[..n.min(room)]);
            } else if n == 0 {
                self.eof = true;
                return;
            } else {
                let e = std::io::Error::last_os_error();
                match e.kind() {
                    std::io::ErrorKind::Interrupted => continue,
                    std::io::ErrorKind::WouldBlock => return,
                    _ => {
                        self.eof = true;
                        return;
                    }
                }
            }
        }
    }

    fn captured(&self) -> Captured {
        Captured {
            text: String::from_utf8_lossy(&self.kept).into_owned(),
            bytes: self.total,
            truncated: self.total > self.kept.len() as u64,
        }
    }
}

fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl >= 0 {
            libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
    }
}

/// Wait up to `timeout` for any of the open sinks to become readable.
fn poll(sinks: &[&Sink], timeout: Duration) {
    let mut fds: Vec<libc::pollfd> = sinks
        .iter()
        .filter(|s| !s.eof)
        .map(|s| libc::pollfd {
            fd: s.fd,
            events: libc::POLLIN,
            revents: 0,
        })
        .collect();
    if fds.is_empty() {
        std::thread::sleep(timeout);
        return;
    }
    // SAFETY: fds is a valid array of pollfd for the duration of the call.
    unsafe {
        libc::poll(
            fds.as_mut_ptr(),
            fds.len() as libc::nfds_t,
            timeout.as_millis().clamp(1, i32::MAX as u128) as i32,
        );
    }
}

/// Has the supervisor exited? Checked without reaping it, so its pid (= its process group id) cannot be reused
/// before its group is killed.
fn exited_unreaped(pid: libc::pid_t) -> bool {
    // SAFETY: waitid with a zeroed siginfo out-parameter.
    unsafe {
        let mut info: libc::siginfo_t = std::mem::zeroed();
        let r = libc::waitid(
            libc::P_PID,
            pid as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
        );
        r == 0 && info.si_pid() != 0
    }
}

fn kill_group(pgid: libc::pid_t) {
    // SAFETY: signalling our own child's process group (the supervisor and the keeper, never the probe's session).
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Make `fd` a high descriptor (so placing the pipes at 3 and 4 cannot clobber one with the other).
fn dup_high(fd: RawFd) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor we then own.
    let n = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) };
    if n < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh descriptor.
    Ok(unsafe { OwnedFd::from_raw_fd(n) })
}

fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 fills two descriptors we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors from pipe2.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((r, dup_high(w.as_raw_fd())?))
}

/// Remove the probe's directory even if the library made parts of it unwritable.
fn remove_workdir(dir: tempfile::TempDir) {
    let path = dir.path().to_path_buf();
    if dir.close().is_ok() {
        return;
    }
    for e in walkdir::WalkDir::new(&path).into_iter().flatten() {
        use std::os::unix::fs::PermissionsExt;
        if e.file_type().is_dir() {
            let _ = std::fs::set_permissions(e.path(), std::fs::Permissions::from_mode(0o700));
        }
    }
    let _ = std::fs::remove_dir_all(&path);
}

/// Run the probe to completion (or the timeout) under its supervisor and collect everything it said.
pub fn run(
    exe: &Path,
    path: String,
    resolved_path: String,
    request: &ProbeRequest,
    opts: &ProbeOptions,
) -> std::io::Result<Run> {
    let nonce = nonce()?;
    let wire = WireRequest {
        path,
        resolved_path,
        request: request.clone(),
        nonce: nonce.clone(),
    };
    let workdir = tempfile::Builder::new()
        .prefix("ffi-doctor-probe-")
        .tempdir()?;
    let (result_r, result_w) = pipe()?;
    let (status_r, status_w) = pipe()?;
    let (rw, sw) = (result_w.as_raw_fd(), status_w.as_raw_fd());

    let mut cmd = Command::new(exe);
    cmd.arg("__probe")
        .arg("--supervise")
        .arg("--result-fd")
        .arg(RESULT_FD.to_string())
        .arg("--status-fd")
        .arg(STATUS_FD.to_string())
        .arg("--timeout-ms")
        .arg(
            opts.timeout
                .as_millis()
                .clamp(1, MAX_TIMEOUT_MS as u128)
                .to_string(),
        )
        .arg("--workdir")
        .arg(workdir.path());
    if let Some(b) = opts.address_space_limit {
        cmd.arg("--as-limit").arg(b.to_string());
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe calls (dup2, setrlimit) on
    // values captured by copy. Both sources are >= 10, so neither dup2 clobbers the other.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(rw, RESULT_FD) < 0 || libc::dup2(sw, STATUS_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::setrlimit(libc::RLIMIT_CORE, &core) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    drop((result_w, status_w));
    let pid = child.id() as libc::pid_t;

    // The request goes in from a thread: a probe that never reads must not block us.
    let request_bytes = serde_json::to_vec(&wire).map_err(std::io::Error::other)?;
    let stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(mut s) = stdin {
            let _ = s.write_all(&request_bytes);
        }
    });

    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut out = Sink::new(stdout.as_raw_fd(), opts.output_limit);
    let mut err = Sink::new(stderr.as_raw_fd(), opts.output_limit);
    let mut result_r = Some(result_r);
    let mut res = Sink::new(result_r.as_ref().unwrap().as_raw_fd(), usize::MAX);
    let mut sup = Sink::new(status_r.as_raw_fd(), 64 << 10);
    let mut reader = RecordReader::new(&nonce, request);
    let limit = read_limit(request);
    let mut flooded = false;

    let hard_deadline = start
        + opts
            .timeout
            .min(Duration::from_millis(MAX_TIMEOUT_MS))
            .saturating_add(SUPERVISOR_GRACE);
    let mut hard_killed = false;
    let mut pump_all = |out: &mut Sink, err: &mut Sink, res: &mut Sink, sup: &mut Sink| {
        out.pump();
        err.pump();
        sup.pump();
        if !res.eof {
            res.pump();
            reader.feed(&std::mem::take(&mut res.kept));
            if reader.total > limit {
                // Stop reading: the probe's further writes fail, and it says nothing more.
                flooded = true;
                res.eof = true;
                result_r = None;
            }
        }
    };
    loop {
        let now = Instant::now();
        if now >= hard_deadline {
            hard_killed = true;
            kill_group(pid);
            break;
        }
        poll(
            &[&out, &err, &res, &sup],
            (hard_deadline - now).min(Duration::from_millis(50)),
        );
        pump_all(&mut out, &mut err, &mut res, &mut sup);
        if exited_unreaped(pid) {
            // The supervisor is gone; its group (the keeper, if the library left it behind) goes with it.
            kill_group(pid);
            break;
        }
    }
    let sup_status = child.wait()?;
    let grace = Instant::now()
        + if hard_killed {
            Duration::from_millis(100)
        } else {
            DRAIN_GRACE
        };
    while !(out.eof && err.eof && res.eof && sup.eof) && Instant::now() < grace {
        poll(&[&out, &err, &res, &sup], Duration::from_millis(20));
        pump_all(&mut out, &mut err, &mut res, &mut sup);
    }
    let elapsed = start.elapsed();
    let (events, mut interference) = reader.finish();
    if flooded {
        interference.push(Interference::Flooded(limit));
    }
    drop((stdout, stderr, result_r, status_r));
    remove_workdir(workdir);
    let _ = writer.join();

    let report: Option<SupervisorReport> = String::from_utf8_lossy(&sup.kept)
        .lines()
        .next()
        .and_then(|l| serde_json::from_str(l).ok());
    let done = events.iter().any(|e| matches!(e, Event::Done));
    let status = match &report {
        Some(r) => {
            if r.parent_stopped {
                interference.push(Interference::ParentStopped);
            }
            match &r.outcome {
                Outcome::Exited { code } => {
                    if *code == CHANNEL_LOST_EXIT && !done && !flooded {
                        interference.push(Interference::ChannelLost);
                    } else if r.killed > 0 {
                        interference.push(Interference::Leftover(r.killed));
                    }
                    Status::Exited(*code)
                }
                Outcome::Signaled { signal } => Status::Signaled(*signal),
                Outcome::TimedOut => Status::TimedOut,
                Outcome::KeeperKilled { signal } => {
                    interference.push(Interference::ParentKilled(*signal));
                    Status::Interfered
                }
                Outcome::SpawnFailed { error } => {
                    return Err(std::io::Error::other(format!(
                        "the supervisor cannot start the probe: {error}"
                    )))
                }
            }
        }
        None if hard_killed => {
            interference.push(Interference::SupervisorLost(
                "the probe's supervisor did not report by the deadline (stopped or hung) and was killed"
                    .into(),
            ));
            Status::TimedOut
        }
        None => {
            let how = match sup_status.signal() {
                Some(sig) => format!(
                    "the probe's supervisor was killed by signal {sig} ({})",
                    super::signal_name(sig)
                ),
                None => format!(
                    "the probe's supervisor exited with status {} without a report",
                    sup_status.code().unwrap_or(-1)
                ),
            };
            if sup_status.code() == Some(crate::report::EXIT_INPUT) {
                return Err(std::io::Error::other(format!(
                    "{how}: {}",
                    String::from_utf8_lossy(&err.kept).trim()
                )));
            }
            interference.push(Interference::SupervisorLost(how));
            Status::Interfered
        }
    };
    Ok(Run {
        events,
        status,
        stdout: out.captured(),
        stderr: err.captured(),
        elapsed,
        interference,
        supervisor: report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::child::frame;

    const N: &str = "00112233445566778899aabbccddeeff";

    fn req() -> ProbeRequest {
        ProbeRequest {
            symbols: vec!["a".into()],
            calls: Vec::new(),
        }
    }

    fn script() -> Vec<Event> {
        vec![
            Event::Stage {
                stage: Stage::Starting,
            },
            Event::Stage {
                stage: Stage::Loading,
            },
            Event::Loaded,
            Event::Stage {
                stage: Stage::Resolving,
            },
            Event::Symbol(crate::runtime::SymbolResult {
                name: "a".into(),
                found: true,
                address: Some("0x1".into()),
                object: None,
                object_resolved: None,
                object_symbol: None,
                from_other_object: false,
                kind: None,
                error: None,
            }),
            Event::Stage {
                stage: Stage::Exiting,
            },
            Event::Done,
        ]
    }

    fn bytes(evs: &[Event]) -> Vec<u8> {
        evs.iter()
            .enumerate()
            .flat_map(|(i, e)| frame(N, i as u64, e))
            .collect()
    }

    #[test]
    fn the_probe_script_is_accepted_in_any_chunking() {
        let all = bytes(&script());
        for chunk in [1, 7, all.len()] {
            let r = req();
            let mut rd = RecordReader::new(N, &r);
            for c in all.chunks(chunk) {
                rd.feed(c);
            }
            let (evs, bad) = rd.finish();
            assert_eq!(evs.len(), 7);
            assert!(bad.is_empty(), "{bad:?}");
        }
    }

    #[test]
    fn unframed_bytes_are_foreign_and_resynchronised() {
        let mut all = b"{\"event\":\"load_failed\",\"error\":\"x\"}\n\x01\x02garbage".to_vec();
        all.extend(bytes(&script()));
        let r = req();
        let mut rd = RecordReader::new(N, &r);
        rd.feed(&all);
        let (evs, bad) = rd.finish();
        assert_eq!(evs.len(), 7, "the probe's records all survive");
        assert!(
            matches!(&bad[..], [Interference::Foreign { lines: 2, .. }]),
            "{bad:?}"
        );
    }

    #[test]
    fn out_of_order_wrong_name_and_duplicate_records_are_rejected() {
        let mut evs = script();
        evs.insert(5, evs[4].clone()); // a second record for the same symbol
        let r = req();
        let mut rd = RecordReader::new(N, &r);
        rd.feed(&bytes(&evs));
        let (got, bad) = rd.finish();
        assert_eq!(got.len(), 5, "accepted up to the duplicate");
        assert!(matches!(&bad[..], [Interference::BadRecord(_)]), "{bad:?}");

        let mut rd = RecordReader::new(N, &r);
        let mut wrong = bytes(&script()[..2]);
        wrong.extend(frame(N, 7, &Event::Loaded));
        rd.feed(&wrong);
        let (got, bad) = rd.finish();
        assert_eq!(got.len(), 2);
        assert!(matches!(&bad[..], [Interference::BadRecord(w)] if w.contains("number 7")));
    }

    #[test]
    fn overlong_lines_are_dropped_without_keeping_them() {
        let r = req();
        let mut rd = RecordReader::new(N, &r);
        let big = vec![b'x'; LINE_LIMIT * 3];
        rd.feed(&big);
        assert!(rd.line.len() <= LINE_LIMIT);
        rd.feed(b"\n");
        rd.feed(&bytes(&script()));
        let (evs, bad) = rd.finish();
        assert_eq!(evs.len(), 7);
        assert!(
            matches!(&bad[..], [Interference::Foreign { lines: 1, .. }]),
            "{bad:?}"
        );
    }
}
