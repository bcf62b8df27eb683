//! The glibc `ld.so` search, modelled on `elf/dl-load.c` (`_dl_map_object`, `open_path`, `fillin_rpath`):
//! DT_RPATH of the loader and up its loader chain (only if the loader has no DT_RUNPATH), then the executable's;
//! `LD_LIBRARY_PATH`; DT_RUNPATH of the loader only; `ld.so.cache`; default directories unless `DF_1_NODEFLIB`.
//! Names containing `/` are paths. Already-loaded objects are reused by name or soname, and by file identity.
//! Candidates of the wrong class or machine are skipped; a non-ELF candidate ends the load (as ld.so does).
//! A directory found missing is remembered and not tried again, as glibc's `status[] = nonexisting` does.

use std::collections::{HashSet, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};

use std::sync::Arc;

use super::bind::{self, Facts, NodeFacts};
use crate::binary::{Image, ReadOptions};

use super::ldcache::{self, LdCache};
use super::rule::{How, Note, Reuse, Rule};
use super::{dirname, Attempt, Edge, Graph, LoaderEnv, Node, Outcome};
use crate::error::InputError;

/// What identifies the target: class and machine of the root object.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub machine: u16,
    pub is_64: bool,
    pub little: bool,
}

impl Target {
    /// The path of the dynamic loader for this target, and the soname it answers to.
    pub fn interpreter(&self) -> &'static str {
        match (self.machine, self.is_64) {
            (62, true) => "/lib64/ld-linux-x86-64.so.2",
            (3, false) => "/lib/ld-linux.so.2",
            (183, true) => "/lib/ld-linux-aarch64.so.1",
            (40, false) => "/lib/ld-linux-armhf.so.3",
            (21, true) => "/lib64/ld64.so.2",
            (22, true) => "/lib/ld64.so.1",
            (243, true) => "/lib/ld-linux-riscv64-lp64d.so.1",
            _ => "/lib/ld-linux.so",
        }
    }

    /// Debian multiarch triplet.
    pub fn triplet(&self) -> &'static str {
        match (self.machine, self.is_64) {
            (62, true) => "x86_64-linux-gnu",
            (3, false) => "i386-linux-gnu",
            (183, true) => "aarch64-linux-gnu",
            (40, false) => "arm-linux-gnueabihf",
            (21, true) => "powerpc64le-linux-gnu",
            (22, true) => "s390x-linux-gnu",
            (243, true) => "riscv64-linux-gnu",
            _ => "unknown-linux-gnu",
        }
    }

    /// `$PLATFORM` (AT_PLATFORM).
    pub fn platform(&self) -> &'static str {
        match (self.machine, self.is_64) {
            (62, true) => "x86_64",
            (3, false) => "i686",
            (183, true) => "aarch64",
            (40, false) => "v7l",
            (21, true) => "power8",
            _ => "unknown",
        }
    }
}

/// The dynamic-section facts the search needs.
#[derive(Debug, Clone, Default)]
struct DynInfo {
    soname: Option<String>,
    needed: Vec<String>,
    rpath: Vec<String>,
    runpath: Vec<String>,
    has_runpath: bool,
    nodeflib: bool,
    interpreter: Option<String>,
    /// What the binder needs (None: not read).
    bind: Option<Arc<Facts>>,
}

/// A loaded object during the walk.
struct Obj {
    /// Target path as loaded.
    path: String,
    host: PathBuf,
    /// The directory `$ORIGIN` expands to.
    origin: String,
    /// Names it was requested by (glibc's `l_libname`) plus its soname.
    names: Vec<String>,
    info: DynInfo,
    /// The object whose DT_NEEDED (or dlopen) loaded this one.
    loader: Option<usize>,
    /// Index in the graph's nodes, if shown.
    node: Option<usize>,
    /// Identity for reuse (canonical host path).
    identity: PathBuf,
}

fn read_dyn(host: &Path, shown: &str) -> Result<(DynInfo, Target), InputError> {
    let mapped = crate::binary::Mapped::open(&host.to_string_lossy())?;
    let data = mapped.bytes();
    crate::binary::sniff::classify(shown, data).and_then(|d| match d {
        crate::binary::sniff::Detected::Elf => Ok(()),
        _ => Err(InputError::new(
            shown,
            "an ELF file (the glibc loader reads only ELF)",
            "another object format",
        )),
    })?;
    // The search reads the dynamic section only; the binder's facts (symbol tables) are read from the same
    // mapping when a binder first asks.
    let img = crate::binary::elf::read_dynamic(shown, data)?;
    let (mut info, target) = dyn_info(&img);
    let mapped = Arc::new(mapped);
    let shown = shown.to_string();
    info.bind = Some(Arc::new(Facts::lazy(move || {
        let img = crate::binary::elf::read(&shown, mapped.bytes(), ReadOptions { demangle: false })
            .ok()?;
        Some(NodeFacts::Elf(bind::glibc::facts(&img)))
    })));
    Ok((info, target))
}

/// The search facts of a parsed ELF image.
fn dyn_info(img: &Image<'_>) -> (DynInfo, Target) {
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
    let target = Target {
        machine: elf.map(|e| e.machine).unwrap_or(0),
        is_64: img.bits == 64,
        little: img.endian == crate::binary::Endian::Little,
    };
    (info, target)
}

/// Check a candidate's ELF header against the target, as `open_verify` does.
fn verify(host: &Path, target: Target) -> Outcome {
    let mut f = match std::fs::File::open(host) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Outcome::Absent,
        Err(e) => return Outcome::Unreadable(e.to_string()),
    };
    if host.is_dir() {
        return Outcome::Absent;
    }
    let mut h = [0u8; 20];
    let n = f.read(&mut h).unwrap_or(0);
    if n < 20 {
        return Outcome::NotALibrary("file too short".into());
    }
    if h[..4] != [0x7f, b'E', b'L', b'F'] {
        return Outcome::NotALibrary("invalid ELF header".into());
    }
    let is_64 = h[4] == 2;
    if is_64 != target.is_64 {
        return Outcome::WrongClass(if is_64 {
            "ELFCLASS64".into()
        } else {
            "ELFCLASS32".into()
        });
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
        return Outcome::WrongMachine(crate::binary::elf::arch_name(machine, is_64, little));
    }
    let e_type = rd16([h[16], h[17]]);
    if e_type != 3 && e_type != 2 {
        return Outcome::NotALibrary("only ET_DYN and ET_EXEC can be loaded".into());
    }
    Outcome::Found
}

/// The glibc resolver over one tree.
pub struct Resolver<'e> {
    env: &'e LoaderEnv,
    target: Target,
    cache: Option<LdCache>,
    cache_flags: u32,
    default_dirs: Vec<String>,
    lib: String,
    objs: Vec<Obj>,
    /// (search directory, index of the hwcap subdirectory): glibc keeps `status[]` per directory *and* per
    /// capability string, so a subdirectory listed twice (glibc 2.36 lists `tls/x86_64` twice) is tried twice.
    absent_dirs: HashSet<(PathBuf, usize)>,
    graph: Graph,
    main: usize,
}

impl<'e> Resolver<'e> {
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

    /// Try `name` in each directory (with the hwcap subdirectories first), recording attempts.
    fn search(
        &mut self,
        name: &str,
        dirs: &[String],
        rule: &Rule,
        attempts: &mut Vec<Attempt>,
    ) -> Option<String> {
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
                let host_dir = self.env.host_path(&d);
                let key = (self.env.host_path(dir), cnt);
                if self.absent_dirs.contains(&key) {
                    attempts.push(Attempt {
                        rule: rule.clone(),
                        path,
                        outcome: Outcome::DirKnownAbsent,
                    });
                    continue;
                }
                let outcome = verify(&self.env.host_path(&path), self.target);
                if outcome == Outcome::Absent && !host_dir.is_dir() {
                    self.absent_dirs.insert(key);
                }
                let stop = matches!(outcome, Outcome::Found | Outcome::NotALibrary(_));
                attempts.push(Attempt {
                    rule: rule.clone(),
                    path: path.clone(),
                    outcome: outcome.clone(),
                });
                if stop {
                    return (outcome == Outcome::Found).then_some(path);
                }
            }
        }
        None
    }

    fn fatal(attempts: &[Attempt]) -> bool {
        attempts
            .last()
            .is_some_and(|a| matches!(a.outcome, Outcome::NotALibrary(_)))
    }

    /// `_dl_map_object` for one DT_NEEDED `name` of object `loader`: returns (path, rule) or None.
    fn find(
        &mut self,
        name: &str,
        loader: usize,
        attempts: &mut Vec<Attempt>,
    ) -> Option<(String, Rule)> {
        if name.contains('/') {
            let origin = self.objs[loader].origin.clone();
            let path = self.expand(name, &origin)?;
            let outcome = verify(&self.env.host_path(&path), self.target);
            attempts.push(Attempt {
                rule: How::PathGiven.into(),
                path: path.clone(),
                outcome: outcome.clone(),
            });
            return (outcome == Outcome::Found).then(|| (path, How::PathGiven.into()));
        }
        if !self.objs[loader].info.has_runpath {
            let mut did_main = false;
            let mut l = Some(loader);
            while let Some(i) = l {
                let obj = &self.objs[i];
                if !obj.info.rpath.is_empty() {
                    let rule: Rule = How::Rpath {
                        of: obj.path.clone(),
                    }
                    .into();
                    let origin = obj.origin.clone();
                    let dirs: Vec<String> = obj
                        .info
                        .rpath
                        .clone()
                        .iter()
                        .filter_map(|e| self.expand(e, &origin))
                        .collect();
                    if let Some(p) = self.search(name, &dirs, &rule, attempts) {
                        return Some((p, rule));
                    }
                    if Self::fatal(attempts) {
                        return None;
                    }
                    did_main |= i == self.main;
                }
                l = self.objs[i].loader;
            }
            let main = self.main;
            if !did_main && !self.objs[main].info.rpath.is_empty() {
                let obj = &self.objs[main];
                let rule: Rule = How::RpathOfExecutable {
                    of: obj.path.clone(),
                }
                .into();
                let origin = obj.origin.clone();
                let dirs: Vec<String> = obj
                    .info
                    .rpath
                    .clone()
                    .iter()
                    .filter_map(|e| self.expand(e, &origin))
                    .collect();
                if let Some(p) = self.search(name, &dirs, &rule, attempts) {
                    return Some((p, rule));
                }
                if Self::fatal(attempts) {
                    return None;
                }
            }
        }
        if let Some(llp) = self.env.env.get("LD_LIBRARY_PATH").cloned() {
            let origin = self.objs[self.main].origin.clone();
            let dirs: Vec<String> = llp
                .split([':', ';'])
                .filter_map(|e| self.expand(e, &origin))
                .collect();
            let rule: Rule = How::LdLibraryPath.into();
            if let Some(p) = self.search(name, &dirs, &rule, attempts) {
                return Some((p, rule));
            }
            if Self::fatal(attempts) {
                return None;
            }
        }
        if !self.objs[loader].info.runpath.is_empty() {
            let obj = &self.objs[loader];
            let rule: Rule = How::Runpath {
                of: obj.path.clone(),
            }
            .into();
            let origin = obj.origin.clone();
            let dirs: Vec<String> = obj
                .info
                .runpath
                .clone()
                .iter()
                .filter_map(|e| self.expand(e, &origin))
                .collect();
            if let Some(p) = self.search(name, &dirs, &rule, attempts) {
                return Some((p, rule));
            }
            if Self::fatal(attempts) {
                return None;
            }
        }
        let nodeflib = self.objs[loader].info.nodeflib;
        if let Some(hit) = self
            .cache
            .as_ref()
            .and_then(|c| c.lookup(name, self.cache_flags))
            .map(str::to_string)
        {
            let in_default = self.default_dirs.iter().any(|d| dirname(&hit) == *d);
            if !(nodeflib && in_default) {
                let outcome = verify(&self.env.host_path(&hit), self.target);
                attempts.push(Attempt {
                    rule: How::LdSoCache.into(),
                    path: hit.clone(),
                    outcome: outcome.clone(),
                });
                if outcome == Outcome::Found {
                    return Some((hit, How::LdSoCache.into()));
                }
                if Self::fatal(attempts) {
                    return None;
                }
            }
        }
        if !nodeflib {
            let dirs = self.default_dirs.clone();
            let rule: Rule = How::DefaultDir.into();
            if let Some(p) = self.search(name, &dirs, &rule, attempts) {
                return Some((p, rule));
            }
        }
        None
    }

    /// With `--executable`: load the main program and its dependency tree first (breadth-first), as ld.so does
    /// before any dlopen; it becomes the main map. Returns its object index.
    fn load_executable(&mut self) -> Result<Option<usize>, InputError> {
        let Some(exe) = self.env.executable.clone() else {
            return Ok(None);
        };
        let shown = exe.display().to_string();
        let (einfo, _) = read_dyn(&exe, &shown)?;
        let e = self.add_obj(shown.clone(), exe, einfo, None, vec![shown]);
        self.main = e;
        let mut q = VecDeque::from([e]);
        while let Some(o) = q.pop_front() {
            for name in self.objs[o].info.needed.clone() {
                if lookup_loaded(self, &name).is_some() {
                    continue;
                }
                let mut scratch = Vec::new();
                if let Some((path, _)) = self.find(&name, o, &mut scratch) {
                    let h = self.env.host_path(&path);
                    if let Ok((i, _)) = read_dyn(&h, &path) {
                        let id = std::fs::canonicalize(&h).unwrap_or(h.clone());
                        if self.objs.iter().any(|x| x.identity == id) {
                            continue;
                        }
                        let n = self.add_obj(path, h, i, Some(o), vec![name]);
                        q.push_back(n);
                    }
                }
            }
        }
        Ok(Some(e))
    }

    /// A missing `name` of object `o` that a DT_RUNPATH further up the loader chain would have found: glibc uses
    /// only the loading object's own DT_RUNPATH, so say so.
    fn runpath_note(&self, name: &str, o: usize) -> Option<String> {
        for a in super::loader_chain(o, |i| self.objs[i].loader)
            .into_iter()
            .skip(1)
        {
            let obj = &self.objs[a];
            for entry in &obj.info.runpath {
                let Some(dir) = self.expand(entry, &obj.origin) else {
                    continue;
                };
                let candidate = format!("{dir}/{name}");
                if self.env.host_path(&candidate).is_file() {
                    let loader = &self.objs[o].path;
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

    fn add_obj(
        &mut self,
        path: String,
        host: PathBuf,
        info: DynInfo,
        loader: Option<usize>,
        names: Vec<String>,
    ) -> usize {
        let identity = std::fs::canonicalize(&host).unwrap_or_else(|_| host.clone());
        let origin = dirname(&path);
        let mut names = names;
        if let Some(s) = &info.soname {
            names.push(s.clone());
        }
        self.objs.push(Obj {
            path,
            host,
            origin,
            names,
            info,
            loader,
            node: None,
            identity,
        });
        self.objs.len() - 1
    }

    fn node_for(&mut self, obj: usize, depth: usize) -> usize {
        if let Some(n) = self.objs[obj].node {
            return n;
        }
        let o = &self.objs[obj];
        let id = self.graph.nodes.len();
        let system = is_system(&o.path, o.info.soname.as_deref());
        self.graph.nodes.push(Node {
            id,
            path: o.path.clone(),
            host_path: o.host.display().to_string(),
            soname: o.info.soname.clone(),
            depth,
            system,
            edges: Vec::new(),
            facts: o.info.bind.clone(),
        });
        self.objs[obj].node = Some(id);
        id
    }
}

impl<'e> Resolver<'e> {
    /// A resolver for `target` under `env`: ld.so.cache, default directories and `$LIB` as the target has them.
    fn new(env: &'e LoaderEnv, target: Target) -> Resolver<'e> {
        let cache_path = env
            .ld_so_cache
            .clone()
            .unwrap_or_else(|| env.host_path("/etc/ld.so.cache"));
        let multiarch = env
            .host_path(&format!("/lib/{}", target.triplet()))
            .is_dir()
            || env
                .host_path(&format!("/usr/lib/{}", target.triplet()))
                .is_dir();
        let default_dirs = env.default_dirs.clone().unwrap_or_else(|| {
            if multiarch {
                let t = target.triplet();
                vec![
                    format!("/lib/{t}"),
                    format!("/usr/lib/{t}"),
                    "/lib".into(),
                    "/usr/lib".into(),
                ]
            } else if target.is_64 && env.host_path("/lib64").is_dir() {
                vec!["/lib64".into(), "/usr/lib64".into()]
            } else {
                vec!["/lib".into(), "/usr/lib".into()]
            }
        });
        let lib = if multiarch {
            format!("lib/{}", target.triplet())
        } else if target.is_64 && env.host_path("/lib64").is_dir() {
            "lib64".into()
        } else {
            "lib".into()
        };
        Resolver {
            env,
            target,
            cache: LdCache::load(&cache_path),
            cache_flags: ldcache::flags_for(target.machine, target.is_64),
            default_dirs,
            lib,
            objs: Vec::new(),
            absent_dirs: HashSet::new(),
            graph: Graph {
                loader: "glibc ld.so",
                arch: crate::binary::elf::arch_name(target.machine, target.is_64, target.little),
                nodes: Vec::new(),
                findings: Vec::new(),
            },
            main: 0,
        }
    }
}

/// The file `dlopen` opens and the rule that found it (or none), with every candidate tried.
pub type DlopenResult = (Option<(String, Rule)>, Vec<Attempt>);

/// What `dlopen(name)` called from `caller` (or from an executable without RPATH) would load, with every
/// candidate tried: the search `ctypes.CDLL(name)` triggers.
pub fn dlopen_search(
    name: &str,
    env: &LoaderEnv,
    target: Target,
    caller: Option<&str>,
) -> Result<DlopenResult, InputError> {
    let mut r = Resolver::new(env, target);
    let exe = r.load_executable()?;
    if let Some(hit) = lookup_loaded(&r, name) {
        let path = r.objs[hit].path.clone();
        return Ok((
            Some((path, How::AlreadyLoaded(Reuse::ByExecutable).into())),
            Vec::new(),
        ));
    }
    let (info, path) = match caller {
        Some(c) => (read_dyn(Path::new(c), c)?.0, c.to_string()),
        None => (DynInfo::default(), "(the calling program)".to_string()),
    };
    let me = match (caller, exe) {
        (None, Some(e)) => e,
        _ => {
            let host = PathBuf::from(&path);
            let me = r.add_obj(path.clone(), host, info, exe, vec![path]);
            if exe.is_none() {
                r.main = me;
            }
            me
        }
    };
    let mut attempts = Vec::new();
    let found = r.find(name, me, &mut attempts);
    Ok((found, attempts))
}

/// The target of an ELF file (class, machine, byte order).
pub fn target_of(file: &str) -> Result<Target, InputError> {
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
    let host = PathBuf::from(file);
    let (info, target) = read_dyn(&host, file)?;
    let target_path = env.target_path(&host);
    let mut r = Resolver::new(env, target);

    // The executable (when given) is the main map and loads its own dependencies first.
    let mut queue: VecDeque<(usize, usize)> = VecDeque::new();
    let interp = info
        .interpreter
        .clone()
        .unwrap_or_else(|| target.interpreter().to_string());
    let root_loader = r.load_executable()?;
    let root = r.add_obj(
        target_path.clone(),
        host.clone(),
        info,
        root_loader,
        vec![target_path],
    );
    if root_loader.is_none() {
        r.main = root;
    }
    // ld.so itself is loaded before anything else and answers to its soname.
    r.add_obj(
        interp.clone(),
        env.host_path(&interp),
        DynInfo {
            soname: interp.rsplit('/').next().map(str::to_string),
            // Only its symbols matter (it is never walked): the binder's global scope includes ld.so.
            bind: read_dyn(&env.host_path(&interp), &interp)
                .ok()
                .and_then(|(i, _)| i.bind),
            ..Default::default()
        },
        None,
        vec![interp.clone()],
    );
    let root_node = r.node_for(root, 0);
    queue.push_back((root, 0));
    while let Some((o, depth)) = queue.pop_front() {
        let from_node = r.objs[o].node.unwrap_or(root_node);
        for name in r.objs[o].info.needed.clone() {
            let mut edge = Edge {
                name: name.clone(),
                target: None,
                rule: None,
                attempts: Vec::new(),
                missing: false,
                cycle: false,
                note: None,
            };
            if let Some(hit) = lookup_loaded(&r, &name) {
                let reuse = if r.objs[hit].loader.is_some()
                    && r.objs[hit].node.is_none()
                    && root_loader.is_some()
                {
                    Reuse::ByExecutable
                } else if r.objs[hit].path == interp {
                    Reuse::DynamicLoader
                } else {
                    Reuse::SonameMatch
                };
                edge.rule = Some(How::AlreadyLoaded(reuse).into());
                edge.cycle = super::loader_chain(o, |i| r.objs[i].loader).contains(&hit);
                edge.target = Some(r.node_for(hit, depth + 1));
            } else {
                let mut attempts = Vec::new();
                match r.find(&name, o, &mut attempts) {
                    Some((path, rule)) => {
                        let h = env.host_path(&path);
                        let id = std::fs::canonicalize(&h).unwrap_or(h.clone());
                        if let Some(existing) = r.objs.iter().position(|x| x.identity == id) {
                            r.objs[existing].names.push(name.clone());
                            edge.target = Some(r.node_for(existing, depth + 1));
                            edge.rule = Some(rule.with(Note::SameFile { image: false }));
                        } else {
                            match read_dyn(&h, &path) {
                                Ok((i, _)) => {
                                    let n = r.add_obj(path, h, i, Some(o), vec![name.clone()]);
                                    edge.target = Some(r.node_for(n, depth + 1));
                                    edge.rule = Some(rule);
                                    queue.push_back((n, depth + 1));
                                }
                                Err(e) => {
                                    attempts.push(Attempt {
                                        rule,
                                        path,
                                        outcome: Outcome::NotALibrary(e.found.clone()),
                                    });
                                    edge.missing = true;
                                }
                            }
                        }
                    }
                    None => {
                        edge.missing = true;
                        edge.note = r.runpath_note(&name, o);
                    }
                }
                edge.attempts = attempts;
            }
            r.graph.nodes[from_node].edges.push(edge);
        }
    }
    let mut g = r.graph;
    g.add_findings();
    Ok(g)
}

fn lookup_loaded(r: &Resolver<'_>, name: &str) -> Option<usize> {
    r.objs
        .iter()
        .position(|o| o.path == name || o.names.iter().any(|n| n == name))
}

/// The default directories the loader (and the static linker) would search for `target` under `env`.
pub fn default_dirs(env: &LoaderEnv, target: Target) -> Vec<String> {
    Resolver::new(env, target).default_dirs
}

/// The DT_SONAME of an ELF file on the host, if it has one.
pub fn soname_of(host: &Path) -> Option<String> {
    read_dyn(host, &host.to_string_lossy()).ok()?.0.soname
}
