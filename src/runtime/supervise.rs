//! The supervisor (`ffi-doctor __probe --supervise`): the process between `ffi-doctor` and the probe.
//!
//! ```text
//! ffi-doctor ──▶ supervisor (own process group; child subreaper; reports on its status fd)
//!                  └─▶ keeper (pid 1 of a new PID namespace when one can be created)
//!                        └─▶ probe (`__probe`: own session, RLIMIT_AS, no core, empty cwd; loads the library)
//! ```
//!
//! The supervisor tries `unshare(CLONE_NEWPID)` (then `CLONE_NEWUSER | CLONE_NEWPID`); its first child, the
//! keeper, is then init of a PID namespace that contains the probe and everything the library starts: nothing
//! inside can name (so signal or stop) the keeper's ancestors, the keeper ignores signals from inside (init), and
//! when it exits the kernel kills the whole namespace. Without a namespace the supervisor is still a child
//! subreaper, so processes that `setsid()` and double-fork stay its descendants and are killed at the end.
//!
//! The keeper waits for the probe and passes its raw wait status to the supervisor over a pipe the probe never
//! holds. The supervisor enforces the timeout, resumes a keeper the library stopped, kills every descendant at the
//! end, and writes one JSON [`SupervisorReport`] line on its status descriptor, which neither the keeper nor the
//! probe inherits: what the parent reads there is what a process the library never ran in observed.

use std::os::unix::process::CommandExt;
use std::process::Command;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::child::ProbeChildArgs;

/// How the probe ended, as its supervisor observed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    Exited {
        code: i32,
    },
    Signaled {
        signal: i32,
    },
    TimedOut,
    /// The keeper between supervisor and probe died before reporting (the library killed its parent).
    KeeperKilled {
        signal: Option<i32>,
    },
    /// The probe could not be started.
    SpawnFailed {
        error: String,
    },
}

/// The supervisor's one-line report.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SupervisorReport {
    pub outcome: Outcome,
    /// The probe ran in its own PID namespace.
    pub pid_namespace: bool,
    /// Processes still alive (or unreaped) when the probe ended and killed then.
    pub killed: u32,
    /// The library stopped the probe's parent (the keeper) at least once; it was resumed.
    pub parent_stopped: bool,
    pub elapsed_ms: u64,
}

fn errno() -> i32 {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// Enter a new PID namespace for our next child, if this system allows it.
fn try_pid_namespace() -> bool {
    if std::env::var_os("FFI_DOCTOR_PROBE_PIDNS").is_some_and(|v| v == "0") {
        return false;
    }
    // SAFETY: unshare and writes to our own /proc files.
    unsafe {
        if libc::unshare(libc::CLONE_NEWPID) == 0 {
            return true;
        }
        let (uid, gid) = (libc::getuid(), libc::getgid());
        if libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWPID) != 0 {
            return false;
        }
        // Map the caller's ids onto themselves (without a map they show as the overflow ids; the namespace
        // exists either way).
        let _ = std::fs::write("/proc/self/setgroups", "deny");
        let _ = std::fs::write("/proc/self/uid_map", format!("{uid} {uid} 1"));
        let _ = std::fs::write("/proc/self/gid_map", format!("{gid} {gid} 1"));
        true
    }
}

pub fn main(args: &ProbeChildArgs) -> i32 {
    let Some(status_fd) = args.status_fd else {
        eprintln!("ffi-doctor __probe is internal; use `ffi-doctor load LIB`");
        return crate::report::EXIT_INPUT;
    };
    // SAFETY: fcntl probes of inherited descriptors.
    unsafe {
        if libc::fcntl(args.result_fd, libc::F_GETFD) < 0
            || libc::fcntl(status_fd, libc::F_GETFD) < 0
        {
            eprintln!("ffi-doctor __probe is internal; use `ffi-doctor load LIB`");
            return crate::report::EXIT_INPUT;
        }
        libc::fcntl(status_fd, libc::F_SETFD, libc::FD_CLOEXEC);
    }
    let start = Instant::now();
    let deadline = start + Duration::from_millis(args.timeout_ms.unwrap_or(10_000));
    // Before PR_SET_DUMPABLE: a non-dumpable process cannot write its own uid_map.
    let pid_namespace = try_pid_namespace();
    // SAFETY: plain prctl on ourselves.
    unsafe {
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    let mut pipe = [0; 2];
    // SAFETY: plain syscalls; after fork the child only runs `keeper` and exits.
    let keeper = unsafe {
        libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
        if libc::pipe2(pipe.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            eprintln!(
                "ffi-doctor __probe: pipe: {}",
                std::io::Error::last_os_error()
            );
            return 125;
        }
        let pid = libc::fork();
        if pid == 0 {
            libc::close(pipe[0]);
            libc::close(status_fd);
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            let code = keep(args, &exe, pipe[1]);
            libc::_exit(code);
        }
        libc::close(pipe[1]);
        // The supervisor writes no records: only the probe holds the result pipe from here on.
        libc::close(args.result_fd);
        pid
    };
    let mut parent_stopped = false;
    let outcome = if keeper < 0 {
        Outcome::SpawnFailed {
            error: format!("fork: {}", std::io::Error::last_os_error()),
        }
    } else {
        watch(keeper, pipe[0], deadline, &mut parent_stopped)
    };
    let killed = kill_descendants(keeper);
    let report = SupervisorReport {
        outcome,
        pid_namespace,
        killed,
        parent_stopped,
        elapsed_ms: start.elapsed().as_millis() as u64,
    };
    let mut line = serde_json::to_vec(&report).unwrap_or_default();
    line.push(b'\n');
    // SAFETY: writing a local buffer to our status descriptor.
    unsafe {
        libc::write(status_fd, line.as_ptr().cast(), line.len());
    }
    0
}

/// Wait for the keeper's message, the keeper's death or the deadline.
fn watch(keeper: libc::pid_t, from_keeper: i32, deadline: Instant, stopped: &mut bool) -> Outcome {
    let mut msg = [0u8; 8];
    let mut got = 0usize;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Outcome::TimedOut;
        }
        let mut pfd = libc::pollfd {
            fd: from_keeper,
            events: libc::POLLIN,
            revents: 0,
        };
        let wait_ms = (deadline - now).as_millis().clamp(1, 20) as i32;
        // SAFETY: poll/read on our pipe, waitpid on our child.
        unsafe {
            libc::poll(&mut pfd, 1, wait_ms);
            if pfd.revents & (libc::POLLIN | libc::POLLHUP) != 0 && got < msg.len() {
                let n = libc::read(from_keeper, msg[got..].as_mut_ptr().cast(), msg.len() - got);
                if n > 0 {
                    got += n as usize;
                }
            }
            if got == msg.len() {
                let kind = i32::from_ne_bytes(msg[..4].try_into().unwrap());
                let value = i32::from_ne_bytes(msg[4..].try_into().unwrap());
                return if kind == 1 {
                    Outcome::SpawnFailed {
                        error: std::io::Error::from_raw_os_error(value).to_string(),
                    }
                } else if libc::WIFSIGNALED(value) {
                    Outcome::Signaled {
                        signal: libc::WTERMSIG(value),
                    }
                } else {
                    Outcome::Exited {
                        code: libc::WEXITSTATUS(value),
                    }
                };
            }
            let mut st = 0;
            let r = libc::waitpid(keeper, &mut st, libc::WNOHANG | libc::WUNTRACED);
            if r == keeper {
                if libc::WIFSTOPPED(st) {
                    *stopped = true;
                    libc::kill(keeper, libc::SIGCONT);
                } else {
                    // Gone: a last look for a message it wrote just before.
                    let n =
                        libc::read(from_keeper, msg[got..].as_mut_ptr().cast(), msg.len() - got);
                    if n > 0 && got + n as usize == msg.len() {
                        continue;
                    }
                    return Outcome::KeeperKilled {
                        signal: libc::WIFSIGNALED(st).then(|| libc::WTERMSIG(st)),
                    };
                }
            }
        }
    }
}

/// The keeper: start the probe, reap everything, pass the probe's wait status up, exit (which, as the init of a
/// PID namespace, kills everything left in it).
fn keep(args: &ProbeChildArgs, exe: &std::path::Path, to_supervisor: i32) -> i32 {
    let send = |kind: i32, value: i32| {
        let mut m = [0u8; 8];
        m[..4].copy_from_slice(&kind.to_ne_bytes());
        m[4..].copy_from_slice(&value.to_ne_bytes());
        // SAFETY: writing a local buffer to our pipe.
        unsafe {
            libc::write(to_supervisor, m.as_ptr().cast(), m.len());
        }
    };
    let mut cmd = Command::new(exe);
    cmd.arg("__probe")
        .arg("--result-fd")
        .arg(args.result_fd.to_string());
    if let Some(dir) = &args.workdir {
        cmd.current_dir(dir);
    }
    let as_limit = args.as_limit;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // Its own session and group: kill(0, …) or a signal to its group reaches only the probe's side.
            libc::setsid();
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
            let core = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            libc::setrlimit(libc::RLIMIT_CORE, &core);
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
    let probe = match cmd.spawn() {
        Ok(c) => c.id() as libc::pid_t,
        Err(e) => {
            send(1, e.raw_os_error().unwrap_or(0));
            return 1;
        }
    };
    // SAFETY: closing our copy of the result pipe; reaping children.
    unsafe {
        libc::close(args.result_fd);
        loop {
            let mut st = 0;
            let r = libc::waitpid(-1, &mut st, 0);
            if r == probe {
                send(0, st);
                // Stay until the supervisor has counted what is left and kills us (and, as a namespace's
                // init, everything in it).
                loop {
                    libc::pause();
                }
            }
            if r < 0 && errno() != libc::EINTR {
                return 1;
            }
        }
    }
}

/// This process's descendants, from `/proc`, and whether each is a zombie.
fn descendants() -> Vec<(libc::pid_t, bool)> {
    let me = std::process::id() as libc::pid_t;
    let mut parent_of = Vec::new();
    if let Ok(rd) = std::fs::read_dir("/proc") {
        for e in rd.flatten() {
            let Some(pid) = e
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<libc::pid_t>().ok())
            else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // pid (comm) state ppid …; comm may hold spaces and parentheses.
            let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            let mut f = after.split_whitespace();
            let zombie = f.next() == Some("Z");
            if let Some(ppid) = f.next().and_then(|p| p.parse::<libc::pid_t>().ok()) {
                parent_of.push((pid, ppid, zombie));
            }
        }
    }
    let mut out = vec![(me, false)];
    let mut i = 0;
    while i < out.len() {
        let p = out[i].0;
        out.extend(
            parent_of
                .iter()
                .filter(|(_, pp, _)| *pp == p)
                .map(|(c, _, z)| (*c, *z)),
        );
        i += 1;
    }
    out.remove(0);
    out
}

/// Kill and reap every descendant (a child subreaper inherits orphans, so the loop converges). Returns how many
/// live processes other than the keeper there were.
fn kill_descendants(keeper: libc::pid_t) -> u32 {
    let mut killed = std::collections::BTreeSet::new();
    let give_up = Instant::now() + Duration::from_secs(2);
    loop {
        let d = descendants();
        for &(p, zombie) in &d {
            // SAFETY: signalling our own descendants.
            unsafe {
                libc::kill(p, libc::SIGKILL);
            }
            if !zombie && p != keeper {
                killed.insert(p);
            }
        }
        let reaped_all;
        loop {
            let mut st = 0;
            // SAFETY: reaping our children.
            let r = unsafe { libc::waitpid(-1, &mut st, libc::WNOHANG) };
            if r > 0 {
                continue;
            }
            reaped_all = r < 0 && errno() == libc::ECHILD;
            break;
        }
        if (d.is_empty() && reaped_all) || Instant::now() >= give_up {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    killed.len() as u32
}
