//! The glibc `ld.so` search, modelled on `elf/dl-load.c` (`_dl_map_object`, `open_path`, `fillin_rpath`):
//! DT_RPATH of the loader and up its loader chain (only if the loader has no DT_RUNPATH), then the executable's;
//! `LD_LIBRARY_PATH`; DT_RUNPATH of the loader only; `ld.so.cache`; default directories unless `DF_1_NODEFLIB`
//! (which also drops a cache entry whose path starts with a system directory). The default directories are the
//! target loader's own (`system_dirs.rs`). Every step is recorded, a cache lookup without an entry included.
//! Names containing `/` are paths. Already-loaded objects are reused by name or soname, and by file identity.
//! Candidates of the wrong class or machine are skipped; a non-ELF candidate ends the load (as ld.so does).
//! A directory found missing is remembered and not tried again, as glibc's `status[] = nonexisting` does.

use std::collections::HashSet;
use std::ops::ControlFlow::{self, Break, Continue};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::bind::{self, Facts, NodeFacts};
use super::ldcache::{self, LdCache};
use super::rule::{How, Note, Reuse, Rule};
use super::system_dirs::{self, DefaultDirs};
use super::walk::{self, Candidate, Need, NeedKind, SameFile, Walk};
use super::{dirname, Attempt, Graph, LoaderEnv, Outcome};
use crate::binary::{Image, Mapped, ReadOptions};
use crate::error::InputError;

/// What identifies the target: class and machine of the root object.
#[derive(Debug, Clone, Copy)]
pub struct ElfMachine {
    pub machine: u16,
    pub is_64: bool,
    pub little: bool,
}

/// Per target (machine, 64-bit): the dynamic loader's path, the Debian multiarch triplet, `$PLATFORM`.
const TARGETS: &[(u16, bool, &str, &str, &str)] = &[
    (
        62,
        true,
        "/lib64/ld-linux-x86-64.so.2",
        "x86_64-linux-gnu",
        "x86_64",
    ),
    (3, false, "/lib/ld-linux.so.2", "i386-linux-gnu", "i686"),
    (
        183,
        true,
        "/lib/ld-linux-aarch64.so.1",
        "aarch64-linux-gnu",
        "aarch64",
    ),
    (
        40,
        false,
        "/lib/ld-linux-armhf.so.3",
        "arm-linux-gnueabihf",
        "v7l",
    ),
    (
        21,
        true,
        "/lib64/ld64.so.2",
        "powerpc64le-linux-gnu",
        "power8",
    ),
    (22, true, "/lib/ld64.so.1", "s390x-linux-gnu", "unknown"),
    (
        243,
        true,
        "/lib/ld-linux-riscv64-lp64d.so.1",
        "riscv64-linux-gnu",
        "unknown",
    ),
];

impl ElfMachine {
    fn known(&self) -> Option<&'static (u16, bool, &'static str, &'static str, &'static str)> {
        TARGETS
            .iter()
            .find(|t| (t.0, t.1) == (self.machine, self.is_64))
    }

    /// The path of the dynamic loader for this target, and the soname it answers to.
    pub fn interpreter(&self) -> &'static str {
        self.known().map_or("/lib/ld-linux.so", |t| t.2)
    }

    /// Debian multiarch triplet.
    pub fn triplet(&self) -> &'static str {
        self.known().map_or("unknown-linux-gnu", |t| t.3)
    }

    /// `$PLATFORM` (AT_PLATFORM).
    pub fn platform(&self) -> &'static str {
        self.known().map_or("unknown", |t| t.4)
    }
}

/// The dynamic-section facts the search needs.
#[derive(Debug, Clone, Default)]
pub(crate) struct DynInfo {
    soname: Option<String>,
    needed: Vec<String>,
    rpath: Vec<String>,
    runpath: Vec<String>,
    has_runpath: bool,
    nodeflib: bool,
    interpreter: Option<String>,
    /// What the binder needs, read on first use from the kept mapping (None: not read).
    bind: Option<Arc<Facts>>,
}

fn read_dyn(host: &Path, shown: &str) -> Result<(DynInfo, ElfMachine), InputError> {
    read_mapped(Mapped::open(&host.to_string_lossy())?, shown)
}

/// The search facts of a mapped ELF file. The search reads the dynamic section only; the binder's facts (symbol
/// tables) are read from the same mapping when a binder first asks.
fn read_mapped(mapped: Mapped, shown: &str) -> Result<(DynInfo, ElfMachine), InputError> {
    // One process reads the same libraries for many roots (the gate walks every binary of a wheel or directory,
    // each reaching libc, libm, libstdc++ …): their facts are read once per file identity and shared, binder
    // facts included, so a library's symbol tables are read once per run.
    let key = file_key(&mapped.resolved);
    if let Some(hit) = key.and_then(|k| dyn_cache().lock().ok()?.get(&k).cloned()) {
        return Ok(hit);
    }
    let read = read_mapped_uncached(mapped, shown)?;
    if let (Some(k), Ok(mut cache)) = (key, dyn_cache().lock()) {
        if cache.len() < DYN_CACHE_LIMIT {
            cache.insert(k, read.clone());
        }
    }
    Ok(read)
}

/// A file's identity and version: device, inode, size and modification time.
type FileKey = (u64, u64, u64, i64, i64);

/// The most files whose facts one process keeps.
const DYN_CACHE_LIMIT: usize = 8192;

fn file_key(path: &Path) -> Option<FileKey> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino(), m.len(), m.mtime(), m.mtime_nsec()))
}

type DynCache = std::sync::Mutex<std::collections::HashMap<FileKey, (DynInfo, ElfMachine)>>;

fn dyn_cache() -> &'static DynCache {
    static CACHE: std::sync::OnceLock<DynCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn read_mapped_uncached(mapped: Mapped, shown: &str) -> Result<(DynInfo, ElfMachine), InputError> {
    let data = mapped.bytes();
    crate::binary::sniff::classify(shown, data).and_then(|d| match d {
        crate::binary::sniff::Detected::Elf => Ok(()),
        _ => Err(InputError::new(
            shown,
            "an ELF file (the glibc loader reads only ELF)",
            "another object format",
        )),
    })?;
    let img = crate::binary::elf::read_dynamic(shown, data)?;
    let (mut info, target) = dyn_info(&img);
    let mapped = Arc::new(mapped);
    let shown = shown.to_string();
    info.bind = Some(Arc::new(Facts::lazy(move || {
        let opts = ReadOptions { demangle: false };
        let img = crate::binary::elf::read(&shown, mapped.bytes(), opts).ok()?;
        Some(NodeFacts::Elf(bind::glibc::facts(&img)))
    })));
    Ok((info, target))
}

/// The search facts of a parsed ELF image.
fn dyn_info(img: &Image<'_>) -> (DynInfo, ElfMachine) {
    let elf = img.elf.as_ref();
    let info = DynInfo {
        soname: img.identity.as_ref().map(|i| i.name.clone()),
        needed: img.needed.iter().map(|n| n.name.clone()).collect(),
        rpath: img.rpath.clone(),
        runpath: img.runpath.clone(),
        // goblin lists one (possibly empty) entry per DT_RUNPATH, so a tag present means a non-empty list.
        has_runpath: !img.runpath.is_empty(),
        nodeflib: elf.is_some_and(|e| e.flags_1.iter().any(|f| f == "NODEFLIB")),
        interpreter: elf.and_then(|e| e.interpreter.clone()),
        bind: None,
    };
    let target = ElfMachine {
        machine: elf.map(|e| e.machine).unwrap_or(0),
        is_64: img.bits == 64,
        little: img.endian == crate::binary::Endian::Little,
    };
    (info, target)
}

/// Open a candidate once, as `open_verify` does: check its ELF header against the target, then read the search
/// facts from the same mapping. Err: the outcome that rejects it; Ok(Err): a right header, an unreadable file.
fn open_verify(
    host: &Path,
    shown: &str,
    target: ElfMachine,
) -> Result<Result<DynInfo, String>, Outcome> {
    match std::fs::metadata(host) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Outcome::Absent),
        Err(e) => return Err(Outcome::Unreadable(e.to_string())),
        Ok(m) if m.is_dir() => return Err(Outcome::Absent),
        Ok(_) => {}
    }
    let mapped = Mapped::open(&host.to_string_lossy())
        .map_err(|e| Outcome::Unreadable(e.found.trim_start_matches("an error: ").to_string()))?;
    let h = mapped.bytes();
    if h.len() < 20 {
        return Err(Outcome::NotALibrary("file too short".into()));
    }
    if h[..4] != [0x7f, b'E', b'L', b'F'] {
        return Err(Outcome::NotALibrary("invalid ELF header".into()));
    }
    let is_64 = h[4] == 2;
    if is_64 != target.is_64 {
        return Err(Outcome::WrongClass(if is_64 {
            "ELFCLASS64".into()
        } else {
            "ELFCLASS32".into()
        }));
    }
    let little = h[5] == 1;
    let rd16 = |b: [u8; 2]| {
        if little {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        }
    };
    let machine = rd16([h[18], h[19]]);
    if little != target.little || machine != target.machine {
        return Err(Outcome::WrongMachine(crate::binary::elf::arch_name(
            machine, is_64, little,
        )));
    }
    let e_type = rd16([h[16], h[17]]);
    if e_type != 3 && e_type != 2 {
        return Err(Outcome::NotALibrary(
            "only ET_DYN and ET_EXEC can be loaded".into(),
        ));
    }
    Ok(read_mapped(mapped, shown)
        .map(|(i, _)| i)
        .map_err(|e| e.found))
}

/// One step of the search: found (or failed for good) here, or go on.
type Step = ControlFlow<Option<Candidate<DynInfo>>>;

/// The glibc loader over one tree: the walk's hooks.
pub(crate) struct Glibc<'e> {
    env: &'e LoaderEnv,
    target: ElfMachine,
    cache: Option<LdCache>,
    /// The cache as the target sees it (`/etc/ld.so.cache`) or as the user named it.
    cache_shown: String,
    cache_flags: u32,
    /// The default directories and where they came from.
    defaults: DefaultDirs,
    lib: String,
    /// (search directory, index of the hwcap subdirectory): glibc keeps `status[]` per directory *and* per
    /// capability string, so a subdirectory listed twice (glibc 2.36 lists `tls/x86_64` twice) is tried twice.
    absent_dirs: HashSet<(PathBuf, usize)>,
    /// The main map: the executable, or the root without one.
    main: usize,
    /// The dynamic loader's path.
    interp: String,
}

impl Glibc<'_> {
    fn expand(&self, entry: &str, origin: &str) -> Option<String> {
        let mut s = entry.to_string();
        for (tok, val) in [
            ("ORIGIN", origin),
            ("LIB", self.lib.as_str()),
            ("PLATFORM", self.target.platform()),
        ] {
            s = s
                .replace(&format!("${{{tok}}}"), val)
                .replace(&format!("${tok}"), val);
        }
        if s.contains('$') {
            return None; // an unknown token: glibc drops the element
        }
        if s.is_empty() {
            s = ".".into();
        }
        while s.len() > 1 && s.ends_with('/') {
            s.pop();
        }
        Some(s)
    }

    /// The directories of a path list, expanded for an object at `path`.
    fn dirs(&self, entries: &[String], path: &str) -> Vec<String> {
        let origin = dirname(path);
        entries
            .iter()
            .filter_map(|e| self.expand(e, &origin))
            .collect()
    }

    /// Try one candidate path.
    fn candidate(&self, path: String, rule: Rule, attempts: &mut Vec<Attempt>) -> Step {
        let host = self.env.host_path(&path);
        let (outcome, facts) = match open_verify(&host, &path, self.target) {
            Ok(facts) => (Outcome::Found, Some(facts)),
            Err(o) => (o, None),
        };
        attempts.push(Attempt {
            rule: rule.clone(),
            path: path.clone(),
            outcome: outcome.clone(),
        });
        match (outcome, facts) {
            (_, Some(facts)) => Break(Some(Candidate {
                system: is_system(&path, facts.as_ref().ok().and_then(|f| f.soname.as_deref())),
                path,
                host: Some(host),
                rule,
                facts,
            })),
            (Outcome::NotALibrary(_), _) => Break(None),
            _ => Continue(()),
        }
    }

    /// Try `name` in the directories of a DT_RPATH or DT_RUNPATH of the object at `path` (none: no step).
    fn path_list(
        &mut self,
        name: &str,
        entries: &[String],
        path: &str,
        how: How,
        attempts: &mut Vec<Attempt>,
    ) -> Step {
        if entries.is_empty() {
            return Continue(());
        }
        let dirs = self.dirs(entries, path);
        self.in_dirs(name, &dirs, how.into(), attempts)
    }

    /// Try `name` in each directory (with the hwcap subdirectories first), as `open_path` does.
    fn in_dirs(
        &mut self,
        name: &str,
        dirs: &[String],
        rule: Rule,
        attempts: &mut Vec<Attempt>,
    ) -> Step {
        let mut subs: Vec<&str> = self.env.hwcap_subdirs.iter().map(String::as_str).collect();
        subs.push("");
        for dir in dirs {
            for (cnt, sub) in subs.iter().enumerate() {
                let d = if sub.is_empty() {
                    dir.clone()
                } else {
                    format!("{dir}/{sub}")
                };
                let path = format!("{d}/{name}");
                let key = (self.env.host_path(dir), cnt);
                if self.absent_dirs.contains(&key) {
                    attempts.push(Attempt {
                        rule: rule.clone(),
                        path,
                        outcome: Outcome::DirKnownAbsent,
                    });
                    continue;
                }
                self.candidate(path, rule.clone(), attempts)?;
                if attempts
                    .last()
                    .is_some_and(|a| a.outcome == Outcome::Absent)
                    && !self.env.host_path(&d).is_dir()
                {
                    self.absent_dirs.insert(key);
                }
            }
        }
        Continue(())
    }

    /// `_dl_map_object`'s search for one DT_NEEDED `name` of object `loader`, in ld.so's order.
    fn find(
        &mut self,
        w: &Walk<DynInfo>,
        name: &str,
        loader: usize,
        attempts: &mut Vec<Attempt>,
    ) -> Step {
        let me = &w.objs[loader];
        if name.contains('/') {
            let Some(path) = self.expand(name, &dirname(&me.path)) else {
                return Break(None);
            };
            return self.candidate(path, How::PathGiven.into(), attempts);
        }
        // DT_RPATH of the loader and up its loader chain, then of the executable: only without DT_RUNPATH.
        if !me.facts.has_runpath {
            let chain = w.chain(loader);
            for &i in &chain {
                let obj = &w.objs[i];
                let rule = How::Rpath {
                    of: obj.path.clone(),
                };
                self.path_list(name, &obj.facts.rpath, &obj.path, rule, attempts)?;
            }
            let main = &w.objs[self.main];
            if !chain.contains(&self.main) {
                let rule = How::RpathOfExecutable {
                    of: main.path.clone(),
                };
                self.path_list(name, &main.facts.rpath, &main.path, rule, attempts)?;
            }
        }
        if let Some(llp) = self.env.env.get("LD_LIBRARY_PATH") {
            let origin = dirname(&w.objs[self.main].path);
            let dirs: Vec<String> = llp
                .split([':', ';'])
                .filter_map(|e| self.expand(e, &origin))
                .collect();
            self.in_dirs(name, &dirs, How::LdLibraryPath.into(), attempts)?;
        }
        // DT_RUNPATH of the loading object only.
        let rule = How::Runpath {
            of: me.path.clone(),
        };
        self.path_list(name, &me.facts.runpath, &me.path, rule, attempts)?;
        // ld.so.cache: with DF_1_NODEFLIB, glibc drops an entry whose path starts with a system directory (each
        // compared with its trailing `/`, so an entry in a subdirectory of one is dropped too).
        let nodeflib = me.facts.nodeflib;
        let hit = self
            .cache
            .as_ref()
            .and_then(|c| c.lookup(name, self.cache_flags));
        match hit.map(str::to_string) {
            Some(hit) => match self.system_prefix(&hit).filter(|_| nodeflib) {
                Some(dir) => attempts.push(Attempt {
                    rule: How::LdSoCache.into(),
                    path: hit,
                    outcome: Outcome::NotConsidered(format!(
                        "DF_1_NODEFLIB of {}: the entry is under the system directory {dir}/",
                        me.path
                    )),
                }),
                None => self.candidate(hit, How::LdSoCache.into(), attempts)?,
            },
            None => attempts.push(Attempt {
                rule: How::LdSoCache.into(),
                path: self.cache_shown.clone(),
                outcome: Outcome::NotInCache(match self.cache {
                    Some(_) => format!("no entry for {name}"),
                    None => "no cache file".into(),
                }),
            }),
        }
        if nodeflib {
            for dir in &self.defaults.dirs {
                attempts.push(Attempt {
                    rule: How::DefaultDir.into(),
                    path: format!("{dir}/{name}"),
                    outcome: Outcome::NotConsidered(format!("DF_1_NODEFLIB of {}", me.path)),
                });
            }
        } else {
            let dirs = self.defaults.dirs.clone();
            self.in_dirs(name, &dirs, How::DefaultDir.into(), attempts)?;
        }
        Break(None)
    }

    /// A missing `name` of object `o` that ld.so.cache or a default directory holds but `o`'s `DF_1_NODEFLIB`
    /// excludes.
    fn nodeflib_note(&self, w: &Walk<DynInfo>, name: &str, o: usize) -> Option<String> {
        let obj = &w.objs[o];
        if !obj.facts.nodeflib || name.contains('/') {
            return None;
        }
        let cached = self
            .cache
            .as_ref()
            .and_then(|c| c.lookup(name, self.cache_flags))
            .filter(|hit| self.system_prefix(hit).is_some());
        let in_dir = self
            .defaults
            .dirs
            .iter()
            .map(|d| format!("{d}/{name}"))
            .find(|p| self.env.host_path(p).is_file());
        let at = match (cached, in_dir) {
            (Some(hit), _) => format!("its ld.so.cache entry is {hit}"),
            (None, Some(p)) => format!("it is at {p}, in a default directory"),
            (None, None) => return None,
        };
        let loader = &obj.path;
        Some(format!(
            "{name}: {at}, but {loader} is linked with -z nodefaultlib (DF_1_NODEFLIB), so glibc does not consider \
             ld.so.cache entries under the system directories ({}) nor the default directories for its DT_NEEDED \
             entries: give {loader} a DT_RUNPATH that holds {name}, or relink it without -z nodefaultlib",
            self.defaults.dirs.join(":")
        ))
    }

    /// The system directory a path lies under (compared as glibc does, with the directory's trailing `/`).
    fn system_prefix(&self, path: &str) -> Option<&str> {
        self.defaults
            .dirs
            .iter()
            .find(|d| {
                let d = d.trim_end_matches('/');
                path.strip_prefix(d).is_some_and(|r| r.starts_with('/'))
            })
            .map(|d| d.trim_end_matches('/'))
    }

    /// With `--executable`: load the main program and its dependency tree first (breadth-first), as ld.so does
    /// before any dlopen; it becomes the main map. Returns its object index.
    fn load_executable(&mut self, w: &mut Walk<DynInfo>) -> Result<Option<usize>, InputError> {
        let Some(exe) = self.env.executable.clone() else {
            return Ok(None);
        };
        let shown = exe.display().to_string();
        let (info, _) = read_dyn(&exe, &shown)?;
        let system = is_system(&shown, info.soname.as_deref());
        let e = w.add(self, shown.clone(), Some(exe), shown, info, None, system);
        self.main = e;
        w.preload(self, e);
        Ok(Some(e))
    }

    /// An object already loaded under `name` (a name it was requested by, its path or its soname).
    fn lookup(w: &Walk<DynInfo>, name: &str) -> Option<usize> {
        w.objs.iter().position(|o| {
            o.path == name || o.names.iter().any(|n| n == name) || o.soname.as_deref() == Some(name)
        })
    }
}

impl walk::Loader for Glibc<'_> {
    type Facts = DynInfo;

    fn needed(&self, f: &DynInfo) -> Vec<Need> {
        f.needed
            .iter()
            .map(|n| Need::new(n, NeedKind::Needed))
            .collect()
    }

    fn soname(&self, f: &DynInfo) -> Option<String> {
        f.soname.clone()
    }

    fn bind(&self, f: &DynInfo) -> Option<Arc<Facts>> {
        f.bind.clone()
    }

    fn loaded(&self, w: &Walk<DynInfo>, name: &str, _from: usize) -> Option<(usize, Reuse)> {
        let hit = Self::lookup(w, name)?;
        let o = &w.objs[hit];
        let reuse = match (o.startup_only(), o.path == self.interp) {
            (true, _) => Reuse::ByExecutable,
            (false, true) => Reuse::DynamicLoader,
            (false, false) => Reuse::SonameMatch,
        };
        Some((hit, reuse))
    }

    fn search(
        &mut self,
        w: &Walk<DynInfo>,
        need: &Need,
        from: usize,
        attempts: &mut Vec<Attempt>,
    ) -> Option<Candidate<DynInfo>> {
        self.find(w, &need.name, from, attempts)
            .break_value()
            .flatten()
    }

    fn same_file(&self) -> Option<SameFile> {
        Some(SameFile {
            note: Note::SameFile { image: false },
            cycle: false,
        })
    }

    /// A missing `name` of object `o` that a DT_RUNPATH further up the loader chain would have found: glibc uses
    /// only the loading object's own DT_RUNPATH, so say so.
    fn missing_note(&self, w: &Walk<DynInfo>, name: &str, o: usize) -> Option<String> {
        if let Some(note) = self.nodeflib_note(w, name, o) {
            return Some(note);
        }
        for a in w.chain(o).into_iter().skip(1) {
            let obj = &w.objs[a];
            for dir in self.dirs(&obj.facts.runpath, &obj.path) {
                let candidate = format!("{dir}/{name}");
                if self.env.host_path(&candidate).is_file() {
                    let loader = &w.objs[o].path;
                    return Some(format!(
                        "{name} is at {candidate}, in the DT_RUNPATH of {}, but glibc uses DT_RUNPATH only for the \
                         DT_NEEDED entries of the object that carries it, not for those of {loader}: give {loader} \
                         its own DT_RUNPATH (e.g. $ORIGIN), or link {} with DT_RPATH (--disable-new-dtags), which is \
                         inherited",
                        obj.path, obj.path
                    ));
                }
            }
        }
        None
    }
}

impl<'e> Glibc<'e> {
    /// The loader for `target` under `env` whose dynamic loader is `interp` (a target path): ld.so.cache,
    /// default directories and `$LIB` as that loader has them.
    fn new(env: &'e LoaderEnv, target: ElfMachine, interp: &str) -> Glibc<'e> {
        let (cache_path, cache_shown) = match &env.ld_so_cache {
            Some(p) => (p.clone(), p.display().to_string()),
            None => (env.host_path("/etc/ld.so.cache"), "/etc/ld.so.cache".into()),
        };
        let defaults = default_dirs_for(env, target, interp);
        let lib = match (&env.default_dirs, defaults.dirs.first()) {
            // `$LIB` is the loader's own library directory, the first of its system directories.
            (None, Some(first)) if first.len() > 1 => first.trim_matches('/').to_string(),
            _ => {
                let t = target.triplet();
                let multiarch = env.host_path(&format!("/lib/{t}")).is_dir()
                    || env.host_path(&format!("/usr/lib/{t}")).is_dir();
                if multiarch {
                    format!("lib/{t}")
                } else if target.is_64 && env.host_path("/lib64").is_dir() {
                    "lib64".into()
                } else {
                    "lib".into()
                }
            }
        };
        Glibc {
            env,
            target,
            cache: LdCache::load(&cache_path),
            cache_shown,
            cache_flags: ldcache::flags_for(target.machine, target.is_64),
            defaults,
            lib,
            absent_dirs: HashSet::new(),
            main: 0,
            interp: interp.to_string(),
        }
    }

    fn walk(target: ElfMachine) -> Walk<DynInfo> {
        let arch = crate::binary::elf::arch_name(target.machine, target.is_64, target.little);
        Walk::new("glibc ld.so", arch)
    }
}

/// The file `dlopen` opens and the rule that found it (or none), with every candidate tried.
pub type DlopenResult = (Option<(String, Rule)>, Vec<Attempt>);

/// What `dlopen(name)` called from `caller` (or from an executable without RPATH) would load, with every
/// candidate tried: the search `ctypes.CDLL(name)` triggers.
pub fn dlopen_search(
    name: &str,
    env: &LoaderEnv,
    target: ElfMachine,
    caller: Option<&str>,
) -> Result<DlopenResult, InputError> {
    let mut g = Glibc::new(env, target, target.interpreter());
    let mut w = Glibc::walk(target);
    let exe = g.load_executable(&mut w)?;
    if let Some(hit) = Glibc::lookup(&w, name) {
        let path = w.objs[hit].path.clone();
        return Ok((
            Some((path, How::AlreadyLoaded(Reuse::ByExecutable).into())),
            Vec::new(),
        ));
    }
    let me = match (caller, exe) {
        (None, Some(e)) => e,
        _ => {
            let (info, path) = match caller {
                Some(c) => (read_dyn(Path::new(c), c)?.0, c.to_string()),
                None => (DynInfo::default(), "(the calling program)".to_string()),
            };
            let host = PathBuf::from(&path);
            let me = w.add(&g, path.clone(), Some(host), path, info, exe, false);
            if exe.is_none() {
                g.main = me;
            }
            me
        }
    };
    let mut attempts = Vec::new();
    let found = match g.find(&w, name, me, &mut attempts) {
        Break(Some(c)) => Some((c.path, c.rule)),
        _ => None,
    };
    Ok((found, attempts))
}

/// The target of an ELF file (class, machine, byte order).
pub fn target_of(file: &str) -> Result<ElfMachine, InputError> {
    Ok(read_dyn(Path::new(file), file)?.1)
}

/// Names of the glibc family: folded by `--no-system`.
pub fn is_system(path: &str, soname: Option<&str>) -> bool {
    const GLIBC: &[&str] = &[
        "libc.so.6",
        "libm.so.6",
        "libdl.so.2",
        "libpthread.so.0",
        "librt.so.1",
        "libutil.so.1",
        "libresolv.so.2",
        "libnsl.so.1",
        "libcrypt.so.1",
        "libanl.so.1",
        "libmvec.so.1",
    ];
    let base = soname.unwrap_or_else(|| path.rsplit('/').next().unwrap_or(path));
    GLIBC.contains(&base) || base.starts_with("ld-linux") || base.starts_with("ld64.so")
}

/// Resolve the dependency tree of `file` (a host path) with glibc's rules.
pub fn resolve(file: &str, env: &LoaderEnv) -> Result<Graph, InputError> {
    resolve_mapped(file, Mapped::open(file)?, env)
}

/// [`resolve`] for a file already mapped.
pub(crate) fn resolve_mapped(
    file: &str,
    mapped: Mapped,
    env: &LoaderEnv,
) -> Result<Graph, InputError> {
    let host = PathBuf::from(file);
    let (info, target) = read_mapped(mapped, file)?;
    let target_path = env.target_path(&host);
    let interp = info
        .interpreter
        .clone()
        .unwrap_or_else(|| target.interpreter().to_string());
    let mut g = Glibc::new(env, target, &interp);
    let mut w = Glibc::walk(target);
    w.graph.default_dirs = Some(g.defaults.clone());
    // The executable (when given) is the main map and loads its own dependencies first.
    let exe = g.load_executable(&mut w)?;
    let system = is_system(&target_path, info.soname.as_deref());
    let root = w.add(
        &g,
        target_path.clone(),
        Some(host),
        target_path,
        info,
        exe,
        system,
    );
    if exe.is_none() {
        g.main = root;
    }
    // ld.so itself is loaded before anything else and answers to its soname; only its symbols matter (it is never
    // walked): the binder's global scope includes ld.so.
    let interp = g.interp.clone();
    let ld_so = DynInfo {
        soname: interp.rsplit('/').next().map(str::to_string),
        bind: read_dyn(&env.host_path(&interp), &interp)
            .ok()
            .and_then(|(i, _)| i.bind),
        ..Default::default()
    };
    let system = is_system(&interp, ld_so.soname.as_deref());
    w.add(
        &g,
        interp.clone(),
        Some(env.host_path(&interp)),
        interp,
        ld_so,
        None,
        system,
    );
    w.node_for(&g, root, 0);
    w.run(&mut g, root);
    let mut graph = w.graph;
    graph.add_findings();
    Ok(graph)
}

/// The default directories the loader (and the static linker) would search for `target` under `env`.
pub fn default_dirs(env: &LoaderEnv, target: ElfMachine) -> Vec<String> {
    default_dirs_for(env, target, target.interpreter()).dirs
}

/// The default directories of the loader `interp` (a target path) for `target` under `env`, and where they came
/// from: `--default-dirs`, else the `system_dirs` compiled into that loader when it is under the sysroot, else the
/// documented defaults of the distribution family the sysroot looks like.
pub fn default_dirs_for(env: &LoaderEnv, target: ElfMachine, interp: &str) -> DefaultDirs {
    if let Some(dirs) = &env.default_dirs {
        return DefaultDirs {
            dirs: dirs.clone(),
            source: "--default-dirs".into(),
        };
    }
    let host = host_file(env, interp);
    let key = file_key(&host);
    let cached = key.and_then(|k| {
        let c = system_dirs_cache().lock().ok()?;
        c.get(&k).cloned()
    });
    let read = match cached {
        Some(r) => r,
        None => {
            let r = system_dirs::from_loader(&host, interp);
            if let (Some(k), Ok(mut c)) = (key, system_dirs_cache().lock()) {
                if c.len() < 64 {
                    c.insert(k, r.clone());
                }
            }
            r
        }
    };
    read.unwrap_or_else(|| {
        let mut d =
            system_dirs::documented(target.triplet(), target.is_64, target.machine == 3, |p| {
                env.host_path(p).is_dir()
            });
        d.source = format!("{} (no readable loader at {interp})", d.source);
        d
    })
}

type SystemDirsCache = std::sync::Mutex<std::collections::HashMap<FileKey, Option<DefaultDirs>>>;

fn system_dirs_cache() -> &'static SystemDirsCache {
    static CACHE: std::sync::OnceLock<SystemDirsCache> = std::sync::OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// Where a target file is on this host, following symbolic links inside the sysroot (an absolute link target
/// such as `/lib/ld-linux.so.2 -> /lib32/ld-linux.so.2` names a path of the target system, not of the host).
fn host_file(env: &LoaderEnv, target: &str) -> PathBuf {
    let mut path = target.to_string();
    if env.sysroot.is_none() {
        return PathBuf::from(path);
    }
    for _ in 0..16 {
        let host = env.host_path(&path);
        match std::fs::read_link(&host) {
            Ok(link) => {
                let link = link.to_string_lossy().into_owned();
                path = if link.starts_with('/') {
                    link
                } else {
                    format!("{}/{link}", dirname(&path))
                };
            }
            Err(_) => return host,
        }
    }
    env.host_path(&path)
}

/// The DT_SONAME of an ELF file on the host, if it has one.
pub fn soname_of(host: &Path) -> Option<String> {
    read_dyn(host, &host.to_string_lossy()).ok()?.0.soname
}
