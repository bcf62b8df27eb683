//! Start `ffi-doctor __probe` in its own process group with rlimits, feed it the request, collect its result
//! events (fd 3), its stdout and stderr (bounded), and enforce the wall-clock timeout by killing the whole group.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::child::WireRequest;
use super::spawn_status::Status;
use super::{Captured, Event, ProbeOptions};

/// The descriptor number the child writes its events to.
const RESULT_FD: RawFd = 3;
/// The most result bytes kept (a well-behaved child writes a few KiB).
const RESULT_LIMIT: usize = 16 << 20;
/// How long to keep draining pipes after the child is gone (a descendant that escaped the group may hold them).
const DRAIN_GRACE: Duration = Duration::from_millis(500);

/// What came back from one child run.
pub struct Run {
    pub events: Vec<Event>,
    pub status: Status,
    pub stdout: Captured,
    pub stderr: Captured,
    pub elapsed: Duration,
    /// A result line that was not a valid event.
    pub protocol_error: Option<String>,
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

    /// Read what is available now.
    fn pump(&mut self) {
        let mut buf = [0u8; 65536];
        loop {
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

/// Has the child exited? Checked without reaping it, so its pid (= its process group id) cannot be reused before
/// the group is killed.
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
    // SAFETY: signalling our own child's process group.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// Run the child to completion (or the timeout) and collect everything it said.
pub fn run(exe: &Path, wire: &WireRequest, opts: &ProbeOptions) -> std::io::Result<Run> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 fills two descriptors we then own.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: fresh descriptors from pipe2.
    let (result_r, result_w) =
        unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let write_fd = result_w.as_raw_fd();
    let as_limit = opts.address_space_limit;

    let mut cmd = Command::new(exe);
    cmd.arg("__probe")
        .arg("--result-fd")
        .arg(RESULT_FD.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in &opts.env {
        cmd.env(k, v);
    }
    // SAFETY: the closure runs between fork and exec and only makes async-signal-safe calls (dup2, fcntl,
    // setrlimit) on values captured by copy.
    unsafe {
        cmd.pre_exec(move || {
            if write_fd == RESULT_FD {
                // Already in place: just let it survive exec.
                let fl = libc::fcntl(RESULT_FD, libc::F_GETFD);
                if fl < 0 || libc::fcntl(RESULT_FD, libc::F_SETFD, fl & !libc::FD_CLOEXEC) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            } else if libc::dup2(write_fd, RESULT_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            let core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::setrlimit(libc::RLIMIT_CORE, &core) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if let Some(bytes) = as_limit {
                let lim = libc::rlimit {
                    rlim_cur: bytes as libc::rlim_t,
                    rlim_max: bytes as libc::rlim_t,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    drop(result_w);
    let pid = child.id() as libc::pid_t;

    // The request goes in from a thread: a child that never reads must not block us.
    let request = serde_json::to_vec(wire).map_err(std::io::Error::other)?;
    let stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        if let Some(mut s) = stdin {
            let _ = s.write_all(&request);
        }
    });

    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let mut out = Sink::new(stdout.as_raw_fd(), opts.output_limit);
    let mut err = Sink::new(stderr.as_raw_fd(), opts.output_limit);
    let mut res = Sink::new(result_r.as_raw_fd(), RESULT_LIMIT);

    let deadline = start + opts.timeout;
    let mut timed_out = false;
    loop {
        let now = Instant::now();
        if now >= deadline {
            timed_out = true;
            kill_group(pid);
            break;
        }
        poll(
            &[&out, &err, &res],
            (deadline - now).min(Duration::from_millis(50)),
        );
        out.pump();
        err.pump();
        res.pump();
        if exited_unreaped(pid) {
            // Descendants the library started die with the group.
            kill_group(pid);
            break;
        }
    }
    let status = child.wait()?;
    let elapsed = start.elapsed();
    let grace = Instant::now() + DRAIN_GRACE;
    while !(out.eof && err.eof && res.eof) && Instant::now() < grace {
        poll(&[&out, &err, &res], Duration::from_millis(20));
        out.pump();
        err.pump();
        res.pump();
    }
    let _ = writer.join();
    drop((stdout, stderr, result_r));

    let status = if timed_out {
        Status::TimedOut
    } else if let Some(sig) = status.signal() {
        Status::Signaled(sig)
    } else {
        Status::Exited(status.code().unwrap_or(-1))
    };
    let mut events = Vec::new();
    let mut protocol_error = None;
    let text = String::from_utf8_lossy(&res.kept);
    let complete_lines = if res.kept.ends_with(b"\n") {
        text.lines().count()
    } else {
        text.lines().count().saturating_sub(1)
    };
    for l in text.lines().take(complete_lines) {
        if l.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Event>(l) {
            Ok(ev) => events.push(ev),
            Err(e) => {
                protocol_error
                    .get_or_insert(format!("unreadable result line from the probe: {e}: {l}"));
            }
        }
    }
    Ok(Run {
        events,
        status,
        stdout: out.captured(),
        stderr: err.captured(),
        elapsed,
        protocol_error,
    })
}
