//! The reader's state: what a Python name or expression denotes (`Val`), the flat table of names, the binding
//! being built, source positions as `file:line:col`, and what could not be resolved.

use std::collections::{HashMap, HashSet};

use tree_sitter::Node;

use super::MAX_DEPTH;
use crate::bindings::model::{Binding, CType, CallConv, Endian, LibName, Loader, Unresolved};
use crate::decl::Loc;

#[derive(Debug, Clone)]
pub(super) enum Val {
    /// The `ctypes` module (or `ctypes.wintypes`, `ctypes.util`: attributes are looked up by name either way).
    Ctypes,
    /// `ctypes.cdll` and friends: attribute access loads a library (`ctypes.cdll.msvcrt`).
    LoaderObj(Loader),
    /// A loader callable: `CDLL`, `cdll.LoadLibrary`.
    LoaderFn(Loader),
    FindLibraryFn,
    /// `ctypes.get_errno` (false) or `ctypes.get_last_error` (true).
    ErrnoFn(bool),
    /// `from cffi import FFI` / `cffi.FFI`.
    FfiClass,
    Cffi,
    /// An `FFI()` instance.
    Ffi,
    Lib(usize),
    /// A foreign function: index into the binding's functions.
    Func(usize),
    Type(CType),
    /// `CFUNCTYPE` and friends.
    ProtoFactory(CallConv),
    /// `POINTER`.
    PointerFn,
    /// `Structure`, `Union`, `BigEndianStructure`, …
    RecordBase(bool, Endian),
    Str(String),
    Int(i64),
    None,
    /// The result of `find_library(name)`.
    Found(String),
    /// `os.path.dirname(__file__)` and paths under it.
    ModuleDir(String),
    DunderFile,
    /// A function of the module whose `return` statements give these libraries.
    LibFactory(Vec<usize>),
    /// `os`, `os.path` and their `join`/`dirname`/`abspath`/`realpath`.
    OsPath,
    PathJoin,
    PathDirname,
    PathIdentity,
    List(Vec<Val>),
    /// One of several library names: a loop variable over a literal list of strings, a name assigned different
    /// names in different branches, `"a" if c else "b"`.
    Candidates(Vec<LibName>),
    /// An element of a literal list the reader cannot evaluate (keeps positions aligned).
    Opaque,
}

/// The walk over one source file: the text, the binding built so far and the table of names.
pub(super) struct Reader<'s> {
    pub(super) src: &'s [u8],
    pub(super) file: String,
    pub(super) b: Binding,
    pub(super) env: HashMap<String, Val>,
    pub(super) functions_by_key: HashMap<(usize, String), usize>,
    /// Names tested against `None` or for truth anywhere (`if not name:`, `name is None`, `assert name`).
    pub(super) tested_names: HashSet<String>,
    /// Libraries loaded from a `find_library` result held in a name: (library, name), judged at the end.
    pub(super) pending_find_library: Vec<(usize, String)>,
    /// Inside an `if`/`try`/loop body: assignments may or may not happen.
    pub(super) branch: u32,
    /// Inside code that runs only where a function may be missing: under an `if` on a version, a platform or
    /// `hasattr`, in a `try` that catches `AttributeError`, in a function decorated with a version check.
    pub(super) guard: u32,
    /// While above 0, nothing is recorded as unresolved (a function body read early, to learn what it returns).
    pub(super) quiet: u32,
    /// Function definitions (byte ranges), read again after the module with every module-level name bound, the
    /// way Python runs a function body: at call time, after the import.
    pub(super) deferred: Vec<(usize, usize)>,
    pub(super) deferred_seen: HashSet<usize>,
    /// Module functions called with a library argument: (function name, parameter index) → library.
    pub(super) lib_args: HashMap<(String, usize), usize>,
}

impl<'s> Reader<'s> {
    /// A reader of `src`, named `file` in locations, with nothing bound yet.
    pub(super) fn new(src: &'s [u8], file: &str) -> Self {
        Reader {
            src,
            file: file.to_string(),
            b: Binding {
                file: file.to_string(),
                ..Default::default()
            },
            env: HashMap::new(),
            functions_by_key: HashMap::new(),
            tested_names: HashSet::new(),
            pending_find_library: Vec::new(),
            quiet: 0,
            branch: 0,
            guard: 0,
            deferred: Vec::new(),
            deferred_seen: HashSet::new(),
            lib_args: HashMap::new(),
        }
    }

    pub(super) fn text(&self, n: Node<'_>) -> &'s str {
        std::str::from_utf8(&self.src[n.byte_range()]).unwrap_or("")
    }

    pub(super) fn short(&self, n: Node<'_>) -> String {
        let t = self.text(n);
        let line = t.lines().next().unwrap_or("");
        if line.chars().count() > 80 || line.len() < t.len() {
            format!("{}…", line.chars().take(80).collect::<String>())
        } else {
            line.to_string()
        }
    }

    pub(super) fn loc(&self, n: Node<'_>) -> Loc {
        let p = n.start_position();
        // tree-sitter columns are bytes; report characters like an editor does.
        let line_start = n.start_byte() - p.column;
        let col = String::from_utf8_lossy(&self.src[line_start..n.start_byte()])
            .chars()
            .count();
        Loc {
            file: self.file.clone(),
            line: p.row as u32 + 1,
            col: col as u32 + 1,
        }
    }

    pub(super) fn unresolved(&mut self, what: impl Into<String>, n: Node<'_>) {
        if self.quiet > 0 {
            return;
        }
        let u = Unresolved {
            what: what.into(),
            text: self.short(n),
            loc: self.loc(n),
        };
        self.b.unresolved.push(u);
    }

    pub(super) fn collect_errors(&mut self, n: Node<'_>, depth: u32) {
        if !n.has_error() || depth > MAX_DEPTH {
            return;
        }
        if n.is_error() || n.is_missing() {
            let l = self.loc(n);
            self.b.syntax_errors.push(l);
            return;
        }
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            self.collect_errors(ch, depth + 1);
        }
    }

    pub(super) fn args<'t>(
        &self,
        call: Node<'t>,
    ) -> (Vec<Node<'t>>, Vec<(String, Node<'t>)>, bool) {
        let mut pos = Vec::new();
        let mut kw = Vec::new();
        let mut splat = false;
        if let Some(a) = call.child_by_field_name("arguments") {
            let mut c = a.walk();
            for k in a.named_children(&mut c) {
                match k.kind() {
                    "keyword_argument" => {
                        if let (Some(nm), Some(v)) = (
                            k.child_by_field_name("name"),
                            k.child_by_field_name("value"),
                        ) {
                            kw.push((self.text(nm).to_string(), v));
                        }
                    }
                    "list_splat" => splat = true,
                    // Kept as the keyword `**`: what it holds is not known (it may set any keyword).
                    "dictionary_splat" => {
                        splat = true;
                        kw.push(("**".to_string(), k));
                    }
                    "comment" => {}
                    _ => pos.push(k),
                }
            }
        }
        (pos, kw, splat)
    }
}
