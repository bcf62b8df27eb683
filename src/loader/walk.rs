//! The one breadth-first walk every loader shares: the table of loaded objects, "already loaded", file identity,
//! cycles, the graph's nodes and edges. What differs between ld.so, dyld and the Windows loader is a [`Loader`]:
//! the facts it reads of an object, its needed entries, how it finds an object already loaded, its search order
//! (candidates with the rule that produced them) and what happens after an edge or a node (weak dylibs, delay
//! loads, forwarders). The executable's own tree, loaded before the root (glibc, Windows), is the same walk with
//! nothing recorded.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use super::bind;
use super::rule::{How, Note, Reuse, Rule};
use super::{Attempt, Edge, Graph, Node, Outcome};

/// How an entry is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NeedKind {
    Needed,
    /// `LC_LOAD_WEAK_DYLIB`.
    Weak,
    /// A PE delay-load import.
    Delay,
}

/// One needed entry of an object.
#[derive(Debug, Clone)]
pub(crate) struct Need {
    pub name: String,
    pub kind: NeedKind,
    /// Loaded to bind a forwarded export (`A!f -> B.g`).
    pub via: Option<String>,
}

impl Need {
    pub fn new(name: impl Into<String>, kind: NeedKind) -> Need {
        Need {
            name: name.into(),
            kind,
            via: None,
        }
    }
}

/// One loaded object.
pub(crate) struct Obj<F> {
    /// The path as the target loader sees it.
    pub path: String,
    /// Where it is on this host (None: no file, e.g. an API set).
    pub host: Option<PathBuf>,
    /// The names it was requested by.
    pub names: Vec<String>,
    pub soname: Option<String>,
    /// What the search needs of it.
    pub facts: F,
    /// The object whose needed entry loaded this one.
    pub loader: Option<usize>,
    /// Its node, once shown.
    pub node: Option<usize>,
    /// Identity for reuse (the canonical host path).
    pub identity: PathBuf,
    pub system: bool,
    /// Loaded with the executable, before the root.
    pub preloaded: bool,
}

impl<F> Obj<F> {
    /// Loaded by the executable at process start and not shown yet: reusing it is the executable's doing.
    pub fn startup_only(&self) -> bool {
        self.preloaded && self.node.is_none()
    }
}

/// A candidate the search took, opened once: its facts read from the same mapping its header was checked in.
pub(crate) struct Candidate<F> {
    pub path: String,
    pub host: Option<PathBuf>,
    pub rule: Rule,
    pub system: bool,
    /// Err: the header was right but the file could not be read (the load fails there).
    pub facts: Result<F, String>,
}

/// How an edge was linked, for [`Loader::after_edge`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Linked {
    Reused,
    New,
    /// The candidate the search took could not be read.
    Unreadable,
    /// The search found nothing.
    Missing,
}

/// How a candidate that is a file already loaded is reused.
pub(crate) struct SameFile {
    pub note: Note,
    /// Whether such an edge can close a cycle.
    pub cycle: bool,
}

/// The per-loader hooks of the walk.
pub(crate) trait Loader {
    /// What the search needs of one object.
    type Facts;
    /// The needed entries of an object, in the loader's order.
    fn needed(&self, facts: &Self::Facts) -> Vec<Need>;
    /// The name the object answers to (shown as the node's soname).
    fn soname(&self, facts: &Self::Facts) -> Option<String>;
    /// What the binder will need of it.
    fn bind(&self, facts: &Self::Facts) -> Option<Arc<bind::Facts>>;
    /// An object already loaded that satisfies `name`, needed by `from`, and why it is reused.
    fn loaded(&self, w: &Walk<Self::Facts>, name: &str, from: usize) -> Option<(usize, Reuse)>;
    /// The loader's search order for `need` of object `from`: every candidate tried goes to `attempts`.
    fn search(
        &mut self,
        w: &Walk<Self::Facts>,
        need: &Need,
        from: usize,
        attempts: &mut Vec<Attempt>,
    ) -> Option<Candidate<Self::Facts>>;
    /// How a candidate that is the same file as a loaded object is reused (None: matched by name only).
    fn same_file(&self) -> Option<SameFile> {
        None
    }
    /// An entry the executable's startup does not load (e.g. a delay-load).
    fn skip_at_startup(&self, _need: &Need) -> bool {
        false
    }
    /// The facts of a module the executable's startup could not read, if the loader keeps it loaded anyway.
    fn unreadable_at_startup(&self) -> Option<Self::Facts> {
        None
    }
    /// Why a missing entry is missing, when the loader can tell more than "absent".
    fn missing_note(&self, _w: &Walk<Self::Facts>, _name: &str, _from: usize) -> Option<String> {
        None
    }
    /// After an edge of node `from` is linked, before it is recorded.
    fn after_edge(
        &mut self,
        _w: &mut Walk<Self::Facts>,
        _from: usize,
        _edge: &mut Edge,
        _need: &Need,
        _linked: Linked,
    ) {
    }
    /// After every needed entry of object `obj` is linked.
    fn after_node(&mut self, _w: &mut Walk<Self::Facts>, _obj: usize) {}
}

/// The walk's state: the loaded objects, the graph, the queue.
pub(crate) struct Walk<F> {
    pub objs: Vec<Obj<F>>,
    pub graph: Graph,
    queue: VecDeque<usize>,
    /// Loading the executable's tree at process start: nothing is recorded.
    pub startup: bool,
}

impl<F> Walk<F> {
    pub fn new(loader: &'static str, arch: String) -> Walk<F> {
        Walk {
            objs: Vec::new(),
            graph: Graph {
                loader,
                arch,
                nodes: Vec::new(),
                findings: Vec::new(),
                default_dirs: None,
            },
            queue: VecDeque::new(),
            startup: false,
        }
    }

    /// Add a loaded object.
    #[allow(clippy::too_many_arguments)]
    pub fn add<L: Loader<Facts = F>>(
        &mut self,
        l: &L,
        path: String,
        host: Option<PathBuf>,
        name: String,
        facts: F,
        loader: Option<usize>,
        system: bool,
    ) -> usize {
        let identity = identity(host.as_deref(), &path);
        self.objs.push(Obj {
            soname: l.soname(&facts),
            path,
            host,
            names: vec![name],
            facts,
            loader,
            node: None,
            identity,
            system,
            preloaded: self.startup,
        });
        self.objs.len() - 1
    }

    /// The node of object `obj`, shown now at `depth` if it was not yet.
    pub fn node_for<L: Loader<Facts = F>>(&mut self, l: &L, obj: usize, depth: usize) -> usize {
        if let Some(n) = self.objs[obj].node {
            return n;
        }
        let o = &self.objs[obj];
        let id = self.graph.nodes.len();
        self.graph.nodes.push(Node {
            id,
            path: o.path.clone(),
            host_path: o
                .host
                .as_ref()
                .map(|h| h.display().to_string())
                .unwrap_or_default(),
            soname: o.soname.clone(),
            depth,
            system: o.system,
            edges: Vec::new(),
            facts: l.bind(&o.facts),
        });
        self.objs[obj].node = Some(id);
        id
    }

    /// The loader chain from object `o` up (`o` first).
    pub fn chain(&self, o: usize) -> Vec<usize> {
        super::loader_chain(o, |i| self.objs[i].loader)
    }

    /// Load everything reachable from `start`, breadth first.
    pub fn run<L: Loader<Facts = F>>(&mut self, l: &mut L, start: usize) {
        self.queue.push_back(start);
        while let Some(o) = self.queue.pop_front() {
            for need in l.needed(&self.objs[o].facts) {
                if self.startup && l.skip_at_startup(&need) {
                    continue;
                }
                self.link(l, o, &need);
            }
            if !self.startup {
                l.after_node(self, o);
            }
        }
    }

    /// Load the executable's tree before the root, as the loader does at process start: objects, no nodes.
    pub fn preload<L: Loader<Facts = F>>(&mut self, l: &mut L, exe: usize) {
        self.startup = true;
        self.run(l, exe);
        self.startup = false;
    }

    /// Resolve one needed entry of object `o` and record the edge. Returns the object it resolved to.
    pub fn link<L: Loader<Facts = F>>(
        &mut self,
        l: &mut L,
        o: usize,
        need: &Need,
    ) -> Option<usize> {
        let name = need.name.clone();
        let from = self.objs[o].node;
        let depth = from.map(|n| self.graph.nodes[n].depth + 1).unwrap_or(0);
        let mut edge = Edge {
            name: name.clone(),
            target: None,
            rule: None,
            attempts: Vec::new(),
            missing: false,
            cycle: false,
            note: None,
        };
        let mut hit = None;
        let linked;
        if let Some((t, reuse)) = l.loaded(self, &name, o) {
            if self.startup {
                return None;
            }
            edge.rule = Some(How::AlreadyLoaded(reuse).into());
            edge.cycle = self.chain(o).contains(&t);
            edge.target = Some(self.node_for(l, t, depth));
            hit = Some(t);
            linked = Linked::Reused;
        } else {
            let mut attempts = Vec::new();
            match l.search(self, need, o, &mut attempts) {
                Some(c) => {
                    let same = l.same_file().and_then(|sf| {
                        let h = c.host.as_ref()?;
                        let id = identity(Some(h), &c.path);
                        Some((sf, self.objs.iter().position(|x| x.identity == id)?))
                    });
                    match (same, c.facts) {
                        (Some(_), _) if self.startup => return None,
                        (Some((sf, existing)), _) => {
                            self.objs[existing].names.push(name.clone());
                            edge.target = Some(self.node_for(l, existing, depth));
                            edge.rule = Some(c.rule.with(sf.note));
                            edge.cycle = sf.cycle && self.chain(o).contains(&existing);
                            hit = Some(existing);
                            linked = Linked::Reused;
                        }
                        (None, Ok(facts)) => {
                            let n = self.add(l, c.path, c.host, name, facts, Some(o), c.system);
                            self.queue.push_back(n);
                            if self.startup {
                                return None;
                            }
                            edge.target = Some(self.node_for(l, n, depth));
                            edge.rule = Some(c.rule);
                            hit = Some(n);
                            linked = Linked::New;
                        }
                        (None, Err(_)) if self.startup => {
                            if let Some(f) = l.unreadable_at_startup() {
                                self.add(l, c.path, c.host, name, f, Some(o), c.system);
                            }
                            return None;
                        }
                        (None, Err(why)) => {
                            attempts.push(Attempt {
                                rule: c.rule,
                                path: c.path,
                                outcome: Outcome::NotALibrary(why),
                            });
                            edge.missing = true;
                            linked = Linked::Unreadable;
                        }
                    }
                }
                None if self.startup => return None,
                None => {
                    edge.missing = true;
                    edge.note = l.missing_note(self, &name, o);
                    linked = Linked::Missing;
                }
            }
            edge.attempts = attempts;
        }
        let from = from.expect("objects walked after startup have nodes");
        l.after_edge(self, from, &mut edge, need, linked);
        self.graph.nodes[from].edges.push(edge);
        hit
    }
}

/// What makes two loaded objects the same: the canonical host path, or the target path when there is no file.
fn identity(host: Option<&std::path::Path>, path: &str) -> PathBuf {
    host.and_then(|h| std::fs::canonicalize(h).ok())
        .unwrap_or_else(|| PathBuf::from(path))
}
