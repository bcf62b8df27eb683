//! Reading a Python binding statically: a `.py` file is parsed with tree-sitter's Python grammar (error-tolerant,
//! Python 3.8–3.14 syntax; never imported, never executed) and its statements are walked once, in source order,
//! with a flat table of what each Python name denotes (the ctypes module, a library, a ctypes type, a prototype, a
//! foreign function, a string). What cannot be resolved without running the code is listed in
//! [`Binding::unresolved`], never guessed.

use std::collections::{HashMap, HashSet};

use tree_sitter::{Node, Parser};

use super::model::{
    Binding, CField, CRecord, CType, CallConv, CallSite, CdefBlock, Endian, FunctionDecl,
    LayoutRule, LibName, Library, Loader, Prototype, Simple, Typed, Unresolved,
};
use crate::decl::Loc;
use crate::error::InputError;

/// The largest `.py` file read: real binding modules are well under 1 MiB.
pub const PY_LIMIT: u64 = 8 << 20;

/// Expressions and statements nested deeper than this are not followed (hostile input).
const MAX_DEPTH: u32 = 100;

/// Read the binding in `path`.
pub fn read_binding(path: &str) -> Result<Binding, InputError> {
    let bytes =
        crate::input::read_regular(std::path::Path::new(path), "a Python source file", PY_LIMIT)?;
    // CPython refuses source with a NUL byte ("source code cannot contain null bytes"): a binary is not a
    // binding, whatever its name.
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(
            InputError::new(path, "Python source text", "a NUL byte (binary data)")
                .at(at as u64)
                .hint("give the binding's .py file as SPEC and the library as LIB"),
        );
    }
    let text = String::from_utf8_lossy(&bytes);
    parse_binding(path, &text)
}

/// Read a binding from source text; `file` names it in locations.
pub fn parse_binding(file: &str, text: &str) -> Result<Binding, InputError> {
    // The walk recurses along the syntax tree (bounded by MAX_DEPTH); a thread of its own gives it a stack that
    // holds that bound whatever thread the caller is on (test threads and rayon workers have 2 MiB).
    let (f, t) = (file.to_string(), text.to_string());
    std::thread::Builder::new()
        .name("python-reader".into())
        .stack_size(READER_STACK)
        .spawn(move || read_on_this_thread(&f, &t))
        .map_err(|e| InputError::new(file, "a thread to read the Python source on", e.to_string()))?
        .join()
        .unwrap_or_else(|_| {
            Err(InputError::new(
                file,
                "Python source the reader can walk",
                "a syntax tree the reader failed on",
            ))
        })
}

/// The reader thread's stack: MAX_DEPTH nested expressions take well under a tenth of it in a debug build.
const READER_STACK: usize = 64 << 20;

fn read_on_this_thread(file: &str, text: &str) -> Result<Binding, InputError> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .map_err(|e| InputError::new(file, "a usable Python grammar", e.to_string()))?;
    let tree = parser
        .parse(text, None)
        .ok_or_else(|| InputError::new(file, "Python source", "text the parser gave up on"))?;
    let mut r = Reader {
        src: text.as_bytes(),
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
    };
    let root = tree.root_node();
    r.collect_tested(root, 0);
    r.collect_errors(root, 0);
    r.block(root, 0);
    // Function bodies again, now that every module-level name is bound (nested definitions join the queue).
    let mut i = 0;
    while i < r.deferred.len() {
        let (start, end) = r.deferred[i];
        i += 1;
        let mut node = root.descendant_for_byte_range(start, end);
        while let Some(n) = node {
            if n.kind() == "function_definition" {
                break;
            }
            node = n.parent();
        }
        if let Some(n) = node {
            r.function_body(n, 1);
        }
    }
    r.finish();
    Ok(r.b)
}

/// What a Python name or expression denotes, as far as the reader can tell.
#[derive(Debug, Clone)]
enum Val {
    /// The `ctypes` module (or `ctypes.wintypes`, `ctypes.util`: attributes are looked up by name either way).
    Ctypes,
    /// `ctypes.cdll` and friends: attribute access loads a library (`ctypes.cdll.msvcrt`).
    LoaderObj(Loader),
    /// A loader callable: `CDLL`, `cdll.LoadLibrary`.
    LoaderFn(Loader),
    FindLibraryFn,
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

struct Reader<'s> {
    src: &'s [u8],
    file: String,
    b: Binding,
    env: HashMap<String, Val>,
    functions_by_key: HashMap<(usize, String), usize>,
    /// Names tested against `None` or for truth anywhere (`if not name:`, `name is None`, `assert name`).
    tested_names: HashSet<String>,
    /// Libraries loaded from a `find_library` result held in a name: (library, name), judged at the end.
    pending_find_library: Vec<(usize, String)>,
    /// Inside an `if`/`try`/loop body: assignments may or may not happen.
    branch: u32,
    /// Inside code that runs only where a function may be missing: under an `if` on a version, a platform or
    /// `hasattr`, in a `try` that catches `AttributeError`, in a function decorated with a version check.
    guard: u32,
    /// While above 0, nothing is recorded as unresolved (a function body read early, to learn what it returns).
    quiet: u32,
    /// Function definitions (byte ranges), read again after the module with every module-level name bound, the
    /// way Python runs a function body: at call time, after the import.
    deferred: Vec<(usize, usize)>,
    deferred_seen: HashSet<usize>,
    /// Module functions called with a library argument: (function name, parameter index) → library.
    lib_args: HashMap<(String, usize), usize>,
}

fn ctypes_attr(name: &str) -> Option<Val> {
    if let Some(s) = Simple::from_name(name) {
        return Some(Val::Type(CType::Simple { simple: s }));
    }
    let simple = |s| Some(Val::Type(CType::Simple { simple: s }));
    Some(match name {
        "c_voidp" => return simple(Simple::VoidP),
        "CDLL" => Val::LoaderFn(Loader::Cdll),
        "WinDLL" => Val::LoaderFn(Loader::WinDll),
        "OleDLL" => Val::LoaderFn(Loader::OleDll),
        "PyDLL" => Val::LoaderFn(Loader::PyDll),
        "cdll" => Val::LoaderObj(Loader::Cdll),
        "windll" => Val::LoaderObj(Loader::WinDll),
        "oledll" => Val::LoaderObj(Loader::OleDll),
        "pydll" => Val::LoaderObj(Loader::PyDll),
        "find_library" => Val::FindLibraryFn,
        "util" | "wintypes" => Val::Ctypes,
        "CFUNCTYPE" => Val::ProtoFactory(CallConv::Cdecl),
        "WINFUNCTYPE" => Val::ProtoFactory(CallConv::Stdcall),
        "PYFUNCTYPE" => Val::ProtoFactory(CallConv::Python),
        "POINTER" => Val::PointerFn,
        "Structure" => Val::RecordBase(false, Endian::Native),
        "Union" => Val::RecordBase(true, Endian::Native),
        "BigEndianStructure" => Val::RecordBase(false, Endian::Big),
        "LittleEndianStructure" => Val::RecordBase(false, Endian::Little),
        "BigEndianUnion" => Val::RecordBase(true, Endian::Big),
        "LittleEndianUnion" => Val::RecordBase(true, Endian::Little),
        _ => return wintypes(name).map(|s| Val::Type(CType::Simple { simple: s })),
    })
}

/// `ctypes.wintypes` names that are fundamental types (pointers to them are `POINTER` of these).
fn wintypes(name: &str) -> Option<Simple> {
    Some(match name {
        "BYTE" | "BOOLEAN" => Simple::Byte,
        "WORD" | "USHORT" | "ATOM" | "LANGID" => Simple::UShort,
        "DWORD" | "ULONG" | "COLORREF" | "LGRPID" | "LCTYPE" | "LCID" => Simple::ULong,
        "CHAR" => Simple::Char,
        "WCHAR" => Simple::WChar,
        "UINT" => Simple::UInt,
        "INT" => Simple::Int,
        "DOUBLE" => Simple::Double,
        "FLOAT" => Simple::Float,
        "BOOL" | "LONG" => Simple::Long,
        "SHORT" => Simple::Short,
        "LARGE_INTEGER" => Simple::LongLong,
        "ULARGE_INTEGER" => Simple::ULongLong,
        "LPCOLESTR" | "LPOLESTR" | "OLESTR" | "LPCWSTR" | "LPWSTR" => Simple::WCharP,
        "LPCSTR" | "LPSTR" => Simple::CharP,
        "LPCVOID" | "LPVOID" => Simple::VoidP,
        "WPARAM" => Simple::Size,
        "LPARAM" => Simple::SSize,
        "VARIANT_BOOL" => Simple::VariantBool,
        n if n == "HANDLE"
            || (n.starts_with('H') && n.len() > 2 && n.bytes().all(|b| b.is_ascii_uppercase())) =>
        {
            Simple::VoidP
        }
        "SC_HANDLE" | "SERVICE_STATUS_HANDLE" => Simple::VoidP,
        _ => return None,
    })
}

impl<'s> Reader<'s> {
    fn text(&self, n: Node<'_>) -> &'s str {
        std::str::from_utf8(&self.src[n.byte_range()]).unwrap_or("")
    }

    fn short(&self, n: Node<'_>) -> String {
        let t = self.text(n);
        let line = t.lines().next().unwrap_or("");
        if line.chars().count() > 80 || line.len() < t.len() {
            format!("{}…", line.chars().take(80).collect::<String>())
        } else {
            line.to_string()
        }
    }

    fn loc(&self, n: Node<'_>) -> Loc {
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

    fn unresolved(&mut self, what: impl Into<String>, n: Node<'_>) {
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

    fn collect_errors(&mut self, n: Node<'_>, depth: u32) {
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

    /// Names that the code tests for truth or `None`: a `find_library` result held in one of them is checked.
    fn collect_tested(&mut self, n: Node<'_>, depth: u32) {
        if depth > MAX_DEPTH {
            return;
        }
        let cond = match n.kind() {
            "if_statement" | "elif_clause" | "while_statement" | "conditional_expression" => n
                .child_by_field_name("condition")
                .or_else(|| n.named_child(1)),
            "assert_statement" => n.named_child(0),
            "comparison_operator" | "boolean_operator" | "not_operator" => Some(n),
            _ => None,
        };
        if let Some(c) = cond {
            self.names_in(c, depth);
        }
        let mut c = n.walk();
        for ch in n.children(&mut c) {
            self.collect_tested(ch, depth + 1);
        }
    }

    fn names_in(&mut self, n: Node<'_>, depth: u32) {
        if depth > MAX_DEPTH {
            return;
        }
        if n.kind() == "identifier" {
            self.tested_names.insert(self.text(n).to_string());
            return;
        }
        if n.kind() == "call" || n.kind() == "lambda" {
            return;
        }
        let mut c = n.walk();
        for ch in n.named_children(&mut c) {
            self.names_in(ch, depth + 1);
        }
    }

    fn finish(&mut self) {
        for (lib, name) in std::mem::take(&mut self.pending_find_library) {
            if !self.tested_names.contains(&name) {
                self.b.libraries[lib].unchecked_find_library = true;
            }
        }
        // `CDLL(find_library("c"))`: CDLL(None) is the main program, which has the C library's symbols, so a
        // None result still works.
        for l in &mut self.b.libraries {
            let libc = l.names.iter().any(
                |n| matches!(n, LibName::FindLibrary { name } if name == "c" || name == "libc"),
            );
            if libc {
                l.unchecked_find_library = false;
            }
        }
    }

    // ------------------------------------------------------------------------------------------- statements

    fn block(&mut self, n: Node<'_>, depth: u32) {
        if depth > MAX_DEPTH {
            self.unresolved("statements nested too deeply", n);
            return;
        }
        let mut c = n.walk();
        let children: Vec<Node<'_>> = n.named_children(&mut c).collect();
        for s in children {
            self.statement(s, depth + 1);
        }
    }

    fn statement(&mut self, s: Node<'_>, depth: u32) {
        match s.kind() {
            "expression_statement" => {
                let mut c = s.walk();
                let kids: Vec<Node<'_>> = s.named_children(&mut c).collect();
                for e in kids {
                    match e.kind() {
                        "assignment" => self.assignment(e, depth),
                        _ => {
                            self.eval(e, depth);
                        }
                    }
                }
            }
            "import_statement" => self.import(s),
            "import_from_statement" => self.import_from(s),
            "class_definition" => self.class(s, depth),
            "function_definition" => self.function_def(s, depth),
            "decorated_definition" => {
                let mut c = s.walk();
                let decorators: Vec<Node<'_>> = s
                    .named_children(&mut c)
                    .filter(|d| d.kind() == "decorator")
                    .collect();
                for d in decorators {
                    if let Some(e) = d.named_child(0) {
                        self.eval(e, depth);
                    }
                }
                if let Some(d) = s.child_by_field_name("definition") {
                    self.statement(d, depth);
                }
            }
            "block" => self.block(s, depth),
            "for_statement" => {
                // `for c in ["libz.so.1", "zlib1.dll"]:` binds `c` to the candidates.
                let cands =
                    s.child_by_field_name("right")
                        .and_then(|r| match self.eval(r, depth + 1) {
                            Some(Val::List(items))
                                if !items.is_empty()
                                    && items.iter().all(|i| matches!(i, Val::Str(_))) =>
                            {
                                Some(
                                    items
                                        .into_iter()
                                        .filter_map(|i| match i {
                                            Val::Str(x) => Some(x),
                                            _ => None,
                                        })
                                        .collect::<Vec<_>>(),
                                )
                            }
                            _ => None,
                        });
                if let Some(l) = s
                    .child_by_field_name("left")
                    .filter(|l| l.kind() == "identifier")
                {
                    let name = self.text(l).to_string();
                    match cands {
                        Some(c) => self.env.insert(
                            name,
                            Val::Candidates(
                                c.into_iter()
                                    .map(|name| LibName::Literal { name })
                                    .collect(),
                            ),
                        ),
                        None => self.env.remove(&name),
                    };
                }
                self.branch += 1;
                if let Some(b) = s.child_by_field_name("body") {
                    self.block(b, depth + 1);
                }
                if let Some(b) = s.child_by_field_name("alternative") {
                    self.statement(b, depth + 1);
                }
                self.branch -= 1;
            }
            "if_statement"
            | "elif_clause"
            | "else_clause"
            | "try_statement"
            | "except_clause"
            | "finally_clause"
            | "with_statement"
            | "while_statement"
            | "match_statement"
            | "case_clause"
            | "except_group_clause" => {
                let mut c = s.walk();
                let kids: Vec<Node<'_>> = s.named_children(&mut c).collect();
                self.branch += 1;
                let guarded = self.guards(s);
                for k in kids {
                    let in_guard = match s.kind() {
                        "try_statement" => k.kind() == "block",
                        _ => matches!(k.kind(), "block" | "elif_clause" | "else_clause"),
                    };
                    let g = u32::from(guarded && in_guard);
                    self.guard += g;
                    match k.kind() {
                        "block"
                        | "elif_clause"
                        | "else_clause"
                        | "except_clause"
                        | "finally_clause"
                        | "case_clause"
                        | "except_group_clause" => self.statement(k, depth + 1),
                        _ if s.kind() == "if_statement" || s.kind() == "elif_clause" => {
                            // The condition may call things (`if lib.f(x):`).
                            self.eval(k, depth + 1);
                        }
                        _ => {}
                    }
                    self.guard -= g;
                }
                self.branch -= 1;
            }
            "return_statement" => {
                if let Some(e) = s.named_child(0) {
                    self.eval(e, depth);
                }
            }
            _ => {}
        }
    }

    fn import(&mut self, s: Node<'_>) {
        let mut c = s.walk();
        let kids: Vec<Node<'_>> = s.named_children(&mut c).collect();
        for k in kids {
            let (module, alias) = match k.kind() {
                "dotted_name" => (self.text(k), None),
                "aliased_import" => (
                    k.child_by_field_name("name")
                        .map(|n| self.text(n))
                        .unwrap_or(""),
                    k.child_by_field_name("alias").map(|n| self.text(n)),
                ),
                _ => continue,
            };
            let val = match module {
                "ctypes" | "ctypes.util" | "ctypes.wintypes" => Val::Ctypes,
                "cffi" => Val::Cffi,
                "os" | "os.path" => Val::OsPath,
                _ => continue,
            };
            let name = match alias {
                Some(a) => a.to_string(),
                None => module.split('.').next().unwrap_or(module).to_string(),
            };
            self.env.insert(name, val);
        }
    }

    fn import_from(&mut self, s: Node<'_>) {
        let Some(m) = s.child_by_field_name("module_name") else {
            return;
        };
        let module = self.text(m);
        let lookup = |name: &str| -> Option<Val> {
            match module {
                "ctypes" | "ctypes.util" | "ctypes.wintypes" => ctypes_attr(name),
                "cffi" => (name == "FFI").then_some(Val::FfiClass),
                "os" => match name {
                    "path" => Some(Val::OsPath),
                    _ => None,
                },
                "os.path" => match name {
                    "join" => Some(Val::PathJoin),
                    "dirname" => Some(Val::PathDirname),
                    "abspath" | "realpath" | "normpath" => Some(Val::PathIdentity),
                    _ => None,
                },
                _ => None,
            }
        };
        let mut c = s.walk();
        let kids: Vec<Node<'_>> = s.children_by_field_name("name", &mut c).collect();
        for k in kids {
            let (name, alias) = match k.kind() {
                "dotted_name" => (self.text(k), self.text(k)),
                "aliased_import" => (
                    k.child_by_field_name("name")
                        .map(|n| self.text(n))
                        .unwrap_or(""),
                    k.child_by_field_name("alias")
                        .map(|n| self.text(n))
                        .unwrap_or(""),
                ),
                _ => continue,
            };
            match lookup(name) {
                Some(v) => {
                    self.env.insert(alias.to_string(), v);
                }
                None => {
                    self.env.remove(alias);
                }
            }
        }
        // `from ctypes import *` needs nothing: bare ctypes names resolve when nothing shadows them.
    }

    fn assignment(&mut self, a: Node<'_>, depth: u32) {
        let Some(left) = a.child_by_field_name("left") else {
            return;
        };
        let Some(right) = a.child_by_field_name("right") else {
            return;
        };
        // Chained `a = b = expr`: the right side is itself an assignment.
        let value = if right.kind() == "assignment" {
            self.assignment(right, depth + 1);
            right
                .child_by_field_name("left")
                .and_then(|l| self.eval(l, depth + 1))
        } else {
            self.eval(right, depth + 1)
        };
        self.assign_to(left, right, value, depth);
    }

    fn assign_to(&mut self, left: Node<'_>, right: Node<'_>, value: Option<Val>, depth: u32) {
        match left.kind() {
            "identifier" => {
                let name = self.text(left).to_string();
                // In a branch, a name that held one library name and is given another may hold either.
                let value = match (value, self.env.get(&name)) {
                    // `except ImportError: ctypes = None`: in a branch, None does not hide what the name was.
                    (Some(Val::None), Some(old))
                        if self.branch > 0 && !matches!(old, Val::None) =>
                    {
                        Some(old.clone())
                    }
                    (Some(v), Some(old)) if self.branch > 0 => {
                        match (lib_names(old), lib_names(&v)) {
                            (Some(x), Some(y)) => Some(Val::Candidates(union(x, y))),
                            _ => Some(v),
                        }
                    }
                    // An unknown value in a branch: the name may still hold the library name it had.
                    (None, Some(old)) if self.branch > 0 && lib_names(old).is_some() => {
                        Some(old.clone())
                    }
                    (v, _) => v,
                };
                match value {
                    Some(v) => {
                        // `if win: lib = CDLL("a.dll") else: lib = CDLL("liba.so")`: the name denotes either
                        // library, so the later one also answers to the earlier one's names.
                        if let (Val::Lib(i), Some(Val::Lib(j))) = (&v, self.env.get(&name)) {
                            let (i, j) = (*i, *j);
                            if i != j {
                                let earlier = self.b.libraries[j].names.clone();
                                for n in earlier {
                                    if !self.b.libraries[i].names.contains(&n) {
                                        self.b.libraries[i].names.push(n);
                                    }
                                }
                            }
                        }
                        if let Val::Lib(i) = v {
                            if !self.b.libraries[i].bound_to.contains(&name) {
                                self.b.libraries[i].bound_to.push(name.clone());
                            }
                        }
                        if let Val::Type(CType::FuncPtr { id }) = v {
                            if self.b.prototypes[id].name.is_none() {
                                self.b.prototypes[id].name = Some(name.clone());
                            }
                        }
                        self.env.insert(name, v);
                    }
                    None => {
                        self.env.remove(&name);
                    }
                }
            }
            "attribute" => {
                let (Some(obj), Some(attr)) = (
                    left.child_by_field_name("object"),
                    left.child_by_field_name("attribute"),
                ) else {
                    return;
                };
                let attr = self.text(attr);
                match attr {
                    "argtypes" | "restype" | "errcheck" => {
                        let Some(Val::Func(f)) = self.eval(obj, depth + 1) else {
                            return;
                        };
                        let loc = self.loc(left);
                        match attr {
                            "argtypes" => {
                                let types = self.type_list(
                                    right,
                                    value,
                                    &format!("argtypes of {}", self.b.functions[f].name),
                                    depth,
                                );
                                match types {
                                    Some(t) => {
                                        self.b.functions[f].argtypes = Some(Typed { value: t, loc })
                                    }
                                    None => self.b.functions[f].argtypes_unresolved = true,
                                }
                            }
                            "restype" => {
                                let t = self.as_type(
                                    right,
                                    value,
                                    &format!("restype of {}", self.b.functions[f].name),
                                );
                                self.b.functions[f].restype = Some(Typed { value: t, loc });
                            }
                            _ => self.b.functions[f].errcheck = true,
                        }
                    }
                    "_fields_" | "_pack_" | "_align_" | "_anonymous_" | "_layout_" => {
                        if let Some(Val::Type(CType::Record { id })) = self.eval(obj, depth + 1) {
                            self.record_attr(id, attr, right, value, depth);
                        }
                    }
                    // `self._lib = CDLL(...)`, `Cls.lib = ...`: a name with one dot, like any other name.
                    _ if obj.kind() == "identifier" => {
                        let key = self.text(left).to_string();
                        match value {
                            Some(v) => {
                                if let Val::Lib(i) = v {
                                    if !self.b.libraries[i].bound_to.contains(&key) {
                                        self.b.libraries[i].bound_to.push(key.clone());
                                    }
                                }
                                self.env.insert(key, v);
                            }
                            None => {
                                self.env.remove(&key);
                            }
                        }
                    }
                    _ => {}
                }
            }
            "pattern_list" | "tuple_pattern" | "tuple" | "list_pattern" => {
                // `a, b = x, y`: element-wise when both sides are literal sequences of the same length.
                let mut c = left.walk();
                let lefts: Vec<Node<'_>> = left.named_children(&mut c).collect();
                let mut c2 = right.walk();
                let rights: Vec<Node<'_>> = if matches!(right.kind(), "expression_list" | "tuple") {
                    right.named_children(&mut c2).collect()
                } else {
                    Vec::new()
                };
                for (i, l) in lefts.iter().enumerate() {
                    match rights.get(i) {
                        Some(r) if rights.len() == lefts.len() => {
                            let v = self.eval(*r, depth + 1);
                            self.assign_to(*l, *r, v, depth + 1);
                        }
                        _ => {
                            if l.kind() == "identifier" {
                                self.env.remove(self.text(*l));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }

    /// A ctypes type from an evaluated expression; an unknown one is recorded as unresolved.
    fn as_type(&mut self, n: Node<'_>, v: Option<Val>, what: &str) -> CType {
        match v {
            Some(Val::Type(t)) => t,
            Some(Val::None) if n.kind() == "none" => CType::Void,
            _ => {
                self.unresolved(what, n);
                CType::Unknown {
                    text: self.short(n),
                }
            }
        }
    }

    fn type_list(
        &mut self,
        n: Node<'_>,
        v: Option<Val>,
        what: &str,
        depth: u32,
    ) -> Option<Vec<CType>> {
        let _ = depth;
        match v {
            Some(Val::List(items)) => {
                let mut c = n.walk();
                let nodes: Vec<Node<'_>> = n
                    .named_children(&mut c)
                    .filter(|x| x.kind() != "comment")
                    .collect();
                let mut out = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    let node = nodes.get(i).copied().unwrap_or(n);
                    out.push(self.as_type(node, Some(it), what));
                }
                Some(out)
            }
            _ => {
                self.unresolved(what, n);
                None
            }
        }
    }

    fn class(&mut self, s: Node<'_>, depth: u32) {
        let Some(name_node) = s.child_by_field_name("name") else {
            return;
        };
        let name = self.text(name_node).to_string();
        let mut base = None;
        let mut kind: Option<(bool, Endian)> = None;
        if let Some(sup) = s.child_by_field_name("superclasses") {
            let mut c = sup.walk();
            let kids: Vec<Node<'_>> = sup.named_children(&mut c).collect();
            for k in kids {
                match self.eval(k, depth + 1) {
                    Some(Val::RecordBase(u, e)) => kind = Some((u, e)),
                    Some(Val::Type(CType::Record { id })) => {
                        let r = &self.b.records[id];
                        kind = Some((r.is_union, r.endian));
                        base = Some(id);
                    }
                    _ => {}
                }
            }
        }
        let Some((is_union, endian)) = kind else {
            self.env.remove(&name);
            // Methods of ordinary classes may still load libraries and declare functions.
            if let Some(body) = s.child_by_field_name("body") {
                self.block(body, depth + 1);
            }
            return;
        };
        let loc = self.loc(s);
        if let Some(id) = self.b.records.iter().position(|r| r.loc == loc) {
            self.env.insert(name, Val::Type(CType::Record { id }));
            self.class_body(s, id, depth);
            return;
        }
        let id = self.b.records.len();
        self.b.records.push(CRecord {
            name: name.clone(),
            is_union,
            endian,
            fields: None,
            pack: None,
            align: None,
            layout: None,
            anonymous: Vec::new(),
            base,
            loc,
        });
        self.env.insert(name, Val::Type(CType::Record { id }));
        self.class_body(s, id, depth);
    }

    fn class_body(&mut self, s: Node<'_>, id: usize, depth: u32) {
        let Some(body) = s.child_by_field_name("body") else {
            return;
        };
        let mut c = body.walk();
        let stmts: Vec<Node<'_>> = body.named_children(&mut c).collect();
        for st in stmts {
            if st.kind() != "expression_statement" {
                continue;
            }
            let Some(a) = st.named_child(0).filter(|a| a.kind() == "assignment") else {
                continue;
            };
            let (Some(l), Some(r)) = (
                a.child_by_field_name("left"),
                a.child_by_field_name("right"),
            ) else {
                continue;
            };
            if l.kind() != "identifier" {
                continue;
            }
            let attr = self.text(l);
            if matches!(
                attr,
                "_fields_" | "_pack_" | "_align_" | "_anonymous_" | "_layout_"
            ) {
                let v = self.eval(r, depth + 1);
                self.record_attr(id, attr, r, v, depth);
            }
        }
    }

    fn record_attr(&mut self, id: usize, attr: &str, n: Node<'_>, v: Option<Val>, depth: u32) {
        let rname = self.b.records[id].name.clone();
        match attr {
            "_fields_" => {
                let items = match v {
                    Some(Val::List(items)) => items,
                    _ => {
                        self.unresolved(format!("_fields_ of {rname}"), n);
                        return;
                    }
                };
                let mut c = n.walk();
                let nodes: Vec<Node<'_>> = n
                    .named_children(&mut c)
                    .filter(|x| x.kind() != "comment")
                    .collect();
                let mut fields = Vec::with_capacity(items.len());
                for (i, it) in items.into_iter().enumerate() {
                    let node = nodes.get(i).copied().unwrap_or(n);
                    let parts = match it {
                        Val::List(p) if p.len() == 2 || p.len() == 3 => p,
                        _ => {
                            self.unresolved(format!("_fields_ of {rname}"), node);
                            return;
                        }
                    };
                    let mut pc = node.walk();
                    let pnodes: Vec<Node<'_>> = node.named_children(&mut pc).collect();
                    let fname = match &parts[0] {
                        Val::Str(s) => s.clone(),
                        _ => {
                            self.unresolved(format!("a field name of {rname}"), node);
                            return;
                        }
                    };
                    let tnode = pnodes.get(1).copied().unwrap_or(node);
                    let ty = self.as_type(
                        tnode,
                        Some(parts[1].clone()),
                        &format!("the type of {rname}.{fname}"),
                    );
                    let bits = match parts.get(2) {
                        Some(Val::Int(b)) if (0..=i64::from(u16::MAX)).contains(b) => {
                            Some(*b as u32)
                        }
                        Some(_) => {
                            self.unresolved(format!("the bit width of {rname}.{fname}"), node);
                            return;
                        }
                        None => None,
                    };
                    let loc = self.loc(node);
                    fields.push(CField {
                        name: fname,
                        ty,
                        bits,
                        loc,
                    });
                }
                self.b.records[id].fields = Some(fields);
            }
            "_pack_" | "_align_" => match v {
                Some(Val::Int(x)) if x >= 0 => {
                    if attr == "_pack_" {
                        self.b.records[id].pack = Some(x as u64);
                    } else {
                        self.b.records[id].align = Some(x as u64);
                    }
                }
                _ => self.unresolved(format!("{attr} of {rname}"), n),
            },
            "_anonymous_" => match v {
                Some(Val::List(items)) if items.iter().all(|i| matches!(i, Val::Str(_))) => {
                    self.b.records[id].anonymous = items
                        .into_iter()
                        .filter_map(|i| match i {
                            Val::Str(s) => Some(s),
                            _ => None,
                        })
                        .collect();
                }
                _ => self.unresolved(format!("_anonymous_ of {rname}"), n),
            },
            "_layout_" => match v {
                Some(Val::Str(s)) => {
                    self.b.records[id].layout = Some(match s.as_str() {
                        "ms" => LayoutRule::Ms,
                        "gcc-sysv" => LayoutRule::GccSysv,
                        _ => LayoutRule::Other(s),
                    })
                }
                _ => self.unresolved(format!("_layout_ of {rname}"), n),
            },
            _ => {}
        }
        let _ = depth;
    }

    fn function_def(&mut self, s: Node<'_>, depth: u32) {
        let Some(name) = s
            .child_by_field_name("name")
            .map(|n| self.text(n).to_string())
        else {
            return;
        };
        // Parameters shadow module names inside the body; keep it simple and flat: a parameter named like a
        // module-level library is not resolved inside (the name is removed while the body is read).
        let mut saved = Vec::new();
        if let Some(params) = s.child_by_field_name("parameters") {
            let mut c = params.walk();
            let ps: Vec<Node<'_>> = params.named_children(&mut c).collect();
            for p in ps {
                let id = if p.kind() == "identifier" {
                    Some(p)
                } else {
                    p.child_by_field_name("name").or_else(|| p.named_child(0))
                };
                if let Some(id) = id.filter(|i| i.kind() == "identifier") {
                    let n = self.text(id).to_string();
                    if let Some(v) = self.env.remove(&n) {
                        saved.push((n, v));
                    }
                }
            }
        }
        if self.deferred_seen.insert(s.start_byte()) {
            self.deferred.push((s.start_byte(), s.end_byte()));
        }
        let libs_before = self.b.libraries.len();
        if let Some(body) = s.child_by_field_name("body") {
            self.quiet += 1;
            self.block(body, depth + 1);
            self.quiet -= 1;
            // A function whose return statements give a library (directly or through a local name) is a
            // library factory: calling it gives that library.
            let mut libs = Vec::new();
            self.returned_libraries(body, depth, &mut libs);
            if !libs.is_empty() {
                libs.dedup();
                self.env.insert(name, Val::LibFactory(libs));
            } else if self.b.libraries.len() > libs_before {
                self.env.remove(&name);
            }
        }
        for (n, v) in saved {
            self.env.insert(n, v);
        }
    }

    /// Whether a compound statement's blocks run only where a function may be missing.
    fn guards(&self, s: Node<'_>) -> bool {
        match s.kind() {
            "if_statement" | "elif_clause" | "while_statement" => s
                .child_by_field_name("condition")
                .is_some_and(|c| is_guard_text(self.text(c))),
            "try_statement" => {
                let mut c = s.walk();
                let catches = s.named_children(&mut c).any(|k| {
                    k.kind() == "except_clause" && {
                        let head = self.text(k).lines().next().unwrap_or("");
                        let head = head.trim();
                        head == "except:"
                            || head.contains("AttributeError")
                            || head.contains("Exception")
                            || head.contains("OSError")
                    }
                });
                catches
            }
            _ => false,
        }
    }

    /// The final reading of a function body: parameters bound to the library the module passes them (or, when
    /// the body declares foreign functions on a parameter, `param.f.argtypes = …`, to a library known only as
    /// that parameter), every other parameter unbound.
    fn function_body(&mut self, s: Node<'_>, depth: u32) {
        let Some(name) = s
            .child_by_field_name("name")
            .map(|n| self.text(n).to_string())
        else {
            return;
        };
        let Some(body) = s.child_by_field_name("body") else {
            return;
        };
        let mut saved = Vec::new();
        if let Some(params) = s.child_by_field_name("parameters") {
            let mut c = params.walk();
            let ps: Vec<Node<'_>> = params.named_children(&mut c).collect();
            for (k, p) in ps.into_iter().enumerate() {
                let id = if p.kind() == "identifier" {
                    Some(p)
                } else {
                    p.child_by_field_name("name").or_else(|| p.named_child(0))
                };
                let Some(id) = id.filter(|i| i.kind() == "identifier") else {
                    continue;
                };
                let pname = self.text(id).to_string();
                if let Some(v) = self.env.remove(&pname) {
                    saved.push((pname.clone(), v));
                }
                let bound = match self.lib_args.get(&(name.clone(), k)) {
                    Some(&l) => Some(l),
                    None if declares_on(self, body, &pname, 0) => {
                        let text = format!("parameter `{pname}` of {name}()");
                        Some(self.library(Loader::Cdll, vec![LibName::Unknown { text }], id))
                    }
                    None => None,
                };
                if let Some(l) = bound {
                    self.env.insert(pname, Val::Lib(l));
                }
            }
        }
        let decorated = s
            .parent()
            .filter(|p| p.kind() == "decorated_definition")
            .is_some_and(|p| {
                let mut c = p.walk();
                let any = p
                    .named_children(&mut c)
                    .any(|d| d.kind() == "decorator" && is_guard_text(self.text(d)));
                any
            });
        self.guard += u32::from(decorated);
        self.block(body, depth + 1);
        self.guard -= u32::from(decorated);
        for (n, v) in saved {
            self.env.insert(n, v);
        }
    }

    fn returned_libraries(&mut self, n: Node<'_>, depth: u32, out: &mut Vec<usize>) {
        if depth > MAX_DEPTH {
            return;
        }
        if n.kind() == "function_definition"
            || n.kind() == "class_definition"
            || n.kind() == "lambda"
        {
            return;
        }
        if n.kind() == "return_statement" {
            if let Some(Val::Lib(i)) = n.named_child(0).and_then(|e| self.peek(e)) {
                out.push(i);
            }
            return;
        }
        let mut c = n.walk();
        let kids: Vec<Node<'_>> = n.named_children(&mut c).collect();
        for k in kids {
            self.returned_libraries(k, depth + 1, out);
        }
    }

    /// The value of a name or an already-evaluated library expression, without recording anything new.
    fn peek(&mut self, e: Node<'_>) -> Option<Val> {
        match e.kind() {
            "identifier" => self.env.get(self.text(e)).cloned(),
            "call" => {
                // A library created by this very call was recorded when the body was read: find it by location.
                let loc = self.loc(e);
                self.b
                    .libraries
                    .iter()
                    .position(|l| l.loc == loc)
                    .map(Val::Lib)
            }
            _ => None,
        }
    }

    // ------------------------------------------------------------------------------------------ expressions

    fn lookup(&self, name: &str) -> Option<Val> {
        if let Some(v) = self.env.get(name) {
            return Some(v.clone());
        }
        match name {
            "__file__" => Some(Val::DunderFile),
            _ => ctypes_attr(name),
        }
    }

    fn func(&mut self, lib: usize, name: &str, n: Node<'_>) -> usize {
        self.func_guarded(lib, name, n, self.guard > 0)
    }

    fn func_guarded(&mut self, lib: usize, name: &str, n: Node<'_>, guarded: bool) -> usize {
        if let Some(&f) = self.functions_by_key.get(&(lib, name.to_string())) {
            if !guarded && self.quiet == 0 {
                self.b.functions[f].guarded = false;
            }
            return f;
        }
        let f = self.b.functions.len();
        let loc = self.loc(n);
        self.b.functions.push(FunctionDecl {
            name: name.to_string(),
            library: lib,
            loc,
            argtypes: None,
            restype: None,
            errcheck: false,
            argtypes_unresolved: false,
            prototype: None,
            calls: Vec::new(),
            // A body read early is read again; that reading decides.
            guarded: guarded || self.quiet > 0,
        });
        self.functions_by_key.insert((lib, name.to_string()), f);
        f
    }

    fn string(&self, n: Node<'_>) -> Option<String> {
        match n.kind() {
            "string" => {
                let mut prefix = String::new();
                let mut out = String::new();
                let mut c = n.walk();
                for ch in n.children(&mut c) {
                    match ch.kind() {
                        "string_start" => prefix = self.text(ch).to_ascii_lowercase(),
                        "string_content" => {
                            let raw = prefix.contains('r');
                            let t = self.text(ch);
                            if raw {
                                out.push_str(t);
                            } else {
                                out.push_str(&unescape(t));
                            }
                        }
                        "interpolation" => return None,
                        _ => {}
                    }
                }
                if prefix.contains('f') || prefix.contains('t') {
                    // An f-string without interpolations is a constant.
                }
                Some(out)
            }
            "concatenated_string" => {
                let mut out = String::new();
                let mut c = n.walk();
                for ch in n.named_children(&mut c) {
                    out.push_str(&self.string(ch)?);
                }
                Some(out)
            }
            "parenthesized_expression" => n.named_child(0).and_then(|c| self.string(c)),
            _ => None,
        }
    }

    fn eval(&mut self, n: Node<'_>, depth: u32) -> Option<Val> {
        if depth > MAX_DEPTH {
            return None;
        }
        match n.kind() {
            "identifier" => self.lookup(self.text(n)),
            "string" | "concatenated_string" => self.string(n).map(Val::Str),
            "integer" => parse_int(self.text(n)).map(Val::Int),
            "none" => Some(Val::None),
            "parenthesized_expression" => n.named_child(0).and_then(|c| self.eval(c, depth + 1)),
            "list" | "tuple" | "expression_list" => {
                let mut c = n.walk();
                let kids: Vec<Node<'_>> = n
                    .named_children(&mut c)
                    .filter(|k| k.kind() != "comment")
                    .collect();
                let mut items = Vec::with_capacity(kids.len());
                let mut ok = true;
                for k in kids {
                    // A starred element makes positions unknown.
                    if k.kind() == "list_splat" {
                        ok = false;
                        continue;
                    }
                    match self.eval(k, depth + 1) {
                        Some(v) => items.push(v),
                        None => items.push(Val::Opaque),
                    }
                }
                ok.then_some(Val::List(items))
            }
            "attribute" => self.attribute(n, depth),
            "subscript" => {
                let v = n
                    .child_by_field_name("value")
                    .and_then(|x| self.eval(x, depth + 1));
                let key = n
                    .child_by_field_name("subscript")
                    .and_then(|k| self.string(k));
                match (v, key) {
                    (Some(Val::Lib(l)), Some(k)) => Some(Val::Func(self.func(l, &k, n))),
                    (Some(Val::Lib(_)), None) => {
                        self.unresolved("a function name", n);
                        None
                    }
                    _ => None,
                }
            }
            "binary_operator" => {
                let l = n
                    .child_by_field_name("left")
                    .and_then(|x| self.eval(x, depth + 1));
                let r = n
                    .child_by_field_name("right")
                    .and_then(|x| self.eval(x, depth + 1));
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                match (op, l, r) {
                    ("*", Some(Val::Type(t)), Some(Val::Int(k))) if k >= 0 => {
                        Some(Val::Type(CType::Array {
                            elem: Box::new(t),
                            len: k as u64,
                        }))
                    }
                    ("*", Some(Val::Int(a)), Some(Val::Int(b))) => a.checked_mul(b).map(Val::Int),
                    // `[c_void_p] * 4`
                    ("*", Some(Val::List(items)), Some(Val::Int(k))) if (0..=256).contains(&k) => {
                        let mut v = Vec::with_capacity(items.len() * k as usize);
                        for _ in 0..k {
                            v.extend(items.iter().cloned());
                        }
                        Some(Val::List(v))
                    }
                    ("+", Some(Val::Int(a)), Some(Val::Int(b))) => a.checked_add(b).map(Val::Int),
                    ("-", Some(Val::Int(a)), Some(Val::Int(b))) => a.checked_sub(b).map(Val::Int),
                    ("<<", Some(Val::Int(a)), Some(Val::Int(b))) if (0..63).contains(&b) => {
                        a.checked_shl(b as u32).map(Val::Int)
                    }
                    ("+", Some(Val::Str(a)), Some(Val::Str(b))) => Some(Val::Str(a + &b)),
                    ("+", Some(Val::Str(a)), Some(Val::Candidates(c))) => Some(Val::Candidates(
                        c.into_iter()
                            .filter_map(|n| match n {
                                LibName::Literal { name } => Some(LibName::Literal {
                                    name: a.clone() + &name,
                                }),
                                _ => None,
                            })
                            .collect(),
                    )),
                    ("+", Some(Val::Candidates(c)), Some(Val::Str(b))) => Some(Val::Candidates(
                        c.into_iter()
                            .filter_map(|n| match n {
                                LibName::Literal { name } => {
                                    Some(LibName::Literal { name: name + &b })
                                }
                                _ => None,
                            })
                            .collect(),
                    )),
                    ("+", Some(Val::ModuleDir(a)), Some(Val::Str(b))) => {
                        Some(Val::ModuleDir(a + &b))
                    }
                    _ => None,
                }
            }
            "unary_operator" => {
                let v = n
                    .child_by_field_name("argument")
                    .and_then(|x| self.eval(x, depth + 1));
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                match (op, v) {
                    ("-", Some(Val::Int(a))) => a.checked_neg().map(Val::Int),
                    ("+", Some(Val::Int(a))) => Some(Val::Int(a)),
                    _ => None,
                }
            }
            "boolean_operator" => {
                // `find_library("z") or find_library("zlib")`, `x or "libz.so.1"`: the first operand that
                // evaluates; both are read for their effects.
                let l = n
                    .child_by_field_name("left")
                    .and_then(|x| self.eval(x, depth + 1));
                let r = n
                    .child_by_field_name("right")
                    .and_then(|x| self.eval(x, depth + 1));
                let or = n
                    .child_by_field_name("operator")
                    .is_some_and(|o| self.text(o) == "or");
                // `find_library("z") or "libz.so.1"`: either name.
                match (
                    or,
                    l.as_ref().and_then(lib_names),
                    r.as_ref().and_then(lib_names),
                ) {
                    (true, Some(x), Some(y)) => Some(Val::Candidates(union(x, y))),
                    // `_lib = _lib or CDLL(...)` with `_lib = None` before: the library.
                    _ if matches!(l, Some(Val::None)) => r.or(l),
                    _ => l.or(r),
                }
            }
            "conditional_expression" => {
                let mut c = n.walk();
                let kids: Vec<Node<'_>> = n.named_children(&mut c).collect();
                let a = kids.first().and_then(|x| self.eval(*x, depth + 1));
                let b = kids.get(2).and_then(|x| self.eval(*x, depth + 1));
                match (
                    a.as_ref().and_then(lib_names),
                    b.as_ref().and_then(lib_names),
                ) {
                    (Some(x), Some(y)) => Some(Val::Candidates(union(x, y))),
                    _ => a.or(b),
                }
            }
            "call" => self.call(n, depth),
            "assignment" => {
                self.assignment(n, depth);
                None
            }
            "named_expression" => {
                let v = n
                    .child_by_field_name("value")
                    .and_then(|x| self.eval(x, depth + 1));
                if let (Some(nm), Some(v)) = (n.child_by_field_name("name"), v.clone()) {
                    self.env.insert(self.text(nm).to_string(), v);
                }
                v
            }
            _ => {
                // Walk into other expressions for the calls they contain (comprehensions, lambdas, …).
                let mut c = n.walk();
                let kids: Vec<Node<'_>> = n.named_children(&mut c).collect();
                for k in kids {
                    if matches!(
                        k.kind(),
                        "call"
                            | "attribute"
                            | "subscript"
                            | "list"
                            | "tuple"
                            | "binary_operator"
                            | "boolean_operator"
                            | "parenthesized_expression"
                            | "conditional_expression"
                            | "not_operator"
                            | "comparison_operator"
                            | "keyword_argument"
                            | "argument_list"
                            | "lambda"
                            | "await"
                            | "list_comprehension"
                            | "generator_expression"
                            | "dictionary"
                            | "pair"
                            | "for_in_clause"
                            | "if_clause"
                            | "assignment"
                            | "augmented_assignment"
                    ) {
                        if k.kind() == "keyword_argument" {
                            if let Some(v) = k.child_by_field_name("value") {
                                self.eval(v, depth + 1);
                            }
                        } else {
                            self.eval(k, depth + 1);
                        }
                    }
                }
                None
            }
        }
    }

    fn attribute(&mut self, n: Node<'_>, depth: u32) -> Option<Val> {
        let obj = n.child_by_field_name("object")?;
        if obj.kind() == "identifier" {
            if let Some(v) = self.env.get(self.text(n)) {
                return Some(v.clone());
            }
        }
        let attr = self.text(n.child_by_field_name("attribute")?);
        let o = self.eval(obj, depth + 1)?;
        match o {
            Val::Ctypes => ctypes_attr(attr),
            Val::Cffi => (attr == "FFI").then_some(Val::FfiClass),
            Val::LoaderObj(l) => match attr {
                "LoadLibrary" => Some(Val::LoaderFn(l)),
                a if a.starts_with('_') => None,
                a => Some(Val::Lib(self.library(
                    l,
                    vec![LibName::Literal {
                        name: a.to_string(),
                    }],
                    n,
                ))),
            },
            Val::Lib(l) => match attr {
                "_handle" | "_name" | "_FuncPtr" => None,
                a => Some(Val::Func(self.func(l, a, n))),
            },
            Val::OsPath => match attr {
                "path" => Some(Val::OsPath),
                "join" => Some(Val::PathJoin),
                "dirname" => Some(Val::PathDirname),
                "abspath" | "realpath" | "normpath" => Some(Val::PathIdentity),
                _ => None,
            },
            _ => None,
        }
    }

    fn library(&mut self, loader: Loader, names: Vec<LibName>, n: Node<'_>) -> usize {
        let loc = self.loc(n);
        if let Some(i) = self.b.libraries.iter().position(|l| l.loc == loc) {
            return i;
        }
        self.b.libraries.push(Library {
            bound_to: Vec::new(),
            loader,
            names,
            unchecked_find_library: false,
            guarded: self.guard > 0,
            loc,
        });
        self.b.libraries.len() - 1
    }

    fn args<'t>(&self, call: Node<'t>) -> (Vec<Node<'t>>, Vec<(String, Node<'t>)>, bool) {
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
                    "list_splat" | "dictionary_splat" => splat = true,
                    "comment" => {}
                    _ => pos.push(k),
                }
            }
        }
        (pos, kw, splat)
    }

    fn lib_name(&mut self, arg: Option<Node<'_>>, depth: u32) -> (Vec<LibName>, Option<String>) {
        let Some(arg) = arg else {
            return (vec![LibName::MainProgram], None);
        };
        // `CDLL(name)` where `name` holds a find_library result: judged by whether `name` is ever tested.
        let held = (arg.kind() == "identifier").then(|| self.text(arg).to_string());
        let v = self.eval(arg, depth + 1);
        let names = match v {
            Some(Val::Str(s)) => vec![LibName::Literal { name: s }],
            Some(Val::Candidates(c)) => {
                // Only find_library results (`find_library("a") or find_library("b")`): may still be None.
                let all_found = c.iter().all(|n| matches!(n, LibName::FindLibrary { .. }));
                let held = if all_found {
                    held.or(Some(String::new()))
                } else {
                    None
                };
                return (c, held);
            }
            Some(Val::Found(s)) => {
                return (
                    vec![LibName::FindLibrary { name: s }],
                    held.or(Some(String::new())),
                );
            }
            Some(Val::ModuleDir(p)) => vec![LibName::ModuleRelative {
                path: p.trim_start_matches('/').to_string(),
            }],
            Some(Val::None) if arg.kind() == "none" => vec![LibName::MainProgram],
            _ => {
                self.unresolved("library name", arg);
                vec![LibName::Unknown {
                    text: self.short(arg),
                }]
            }
        };
        (names, None)
    }

    fn call(&mut self, n: Node<'_>, depth: u32) -> Option<Val> {
        let fnode = n.child_by_field_name("function")?;
        let callee = self.eval(fnode, depth + 1);
        let (pos, kw, splat) = self.args(n);
        match callee {
            Some(Val::LoaderFn(loader)) => {
                let arg = pos
                    .first()
                    .copied()
                    .or_else(|| kw.iter().find(|(k, _)| k == "name").map(|x| x.1));
                let (names, held) = self.lib_name(arg, depth);
                for (_, v) in &kw {
                    self.eval(*v, depth + 1);
                }
                let lib = self.library(loader, names, n);
                match held {
                    Some(h) if h.is_empty() => self.b.libraries[lib].unchecked_find_library = true,
                    Some(h) => self.pending_find_library.push((lib, h)),
                    None => {}
                }
                Some(Val::Lib(lib))
            }
            Some(Val::FindLibraryFn) => match pos.first().and_then(|a| self.eval(*a, depth + 1)) {
                Some(Val::Str(s)) => Some(Val::Found(s)),
                Some(Val::Candidates(c)) => Some(Val::Candidates(
                    c.into_iter()
                        .filter_map(|n| match n {
                            LibName::Literal { name } => Some(LibName::FindLibrary { name }),
                            _ => None,
                        })
                        .collect(),
                )),
                _ => {
                    if let Some(a) = pos.first() {
                        self.unresolved("find_library name", *a);
                    }
                    None
                }
            },
            Some(Val::FfiClass) => Some(Val::Ffi),
            Some(Val::PointerFn) => match pos.first().map(|a| (*a, self.eval(*a, depth + 1))) {
                Some((_, Some(Val::Type(t)))) => Some(Val::Type(CType::Pointer {
                    pointee: Box::new(t),
                })),
                Some((a, _)) => {
                    self.unresolved("POINTER argument", a);
                    Some(Val::Type(CType::Pointer {
                        pointee: Box::new(CType::Unknown {
                            text: self.short(a),
                        }),
                    }))
                }
                None => None,
            },
            Some(Val::ProtoFactory(conv)) => {
                let mut types = Vec::with_capacity(pos.len());
                for a in &pos {
                    let v = self.eval(*a, depth + 1);
                    types.push(self.as_type(*a, v, "a prototype's type"));
                }
                if splat || types.is_empty() {
                    self.unresolved("prototype", n);
                    return None;
                }
                let restype = types.remove(0);
                let loc = self.loc(n);
                if let Some(id) = self.b.prototypes.iter().position(|p| p.loc == loc) {
                    return Some(Val::Type(CType::FuncPtr { id }));
                }
                let id = self.b.prototypes.len();
                self.b.prototypes.push(Prototype {
                    name: None,
                    restype,
                    argtypes: types,
                    conv,
                    loc,
                });
                Some(Val::Type(CType::FuncPtr { id }))
            }
            Some(Val::Type(CType::FuncPtr { id })) => {
                // `PROTO(("name", lib), paramflags)`: a foreign function; `PROTO(pyfunc)`: a callback object.
                if let Some(first) = pos.first() {
                    if first.kind() == "tuple" || first.kind() == "parenthesized_expression" {
                        if let Some(Val::List(items)) = self.eval(*first, depth + 1) {
                            if let (Some(Val::Str(name)), Some(Val::Lib(lib))) =
                                (items.first(), items.get(1))
                            {
                                let f = self.func(*lib, name, n);
                                self.b.functions[f].prototype = Some(id);
                                return Some(Val::Func(f));
                            }
                        }
                        self.unresolved("a prototype's function name or library", *first);
                        return None;
                    }
                    if let Some(Val::Int(_)) = self.eval(*first, depth + 1) {
                        return None; // an address
                    }
                }
                Some(Val::None)
            }
            Some(Val::Func(f)) => {
                let mut inline = Vec::new();
                for (i, a) in pos.iter().enumerate() {
                    if a.kind() == "call" {
                        let callee = a
                            .child_by_field_name("function")
                            .and_then(|x| self.eval(x, depth + 1));
                        if let Some(Val::Type(CType::FuncPtr { id })) = callee {
                            let (ap, _, _) = self.args(*a);
                            let is_callback = ap
                                .first()
                                .is_some_and(|x| x.kind() != "tuple" && x.kind() != "integer");
                            if is_callback {
                                inline.push((i, id));
                            }
                        }
                    }
                    self.eval(*a, depth + 1);
                }
                for (_, v) in &kw {
                    self.eval(*v, depth + 1);
                }
                let loc = self.loc(n);
                if self.b.functions[f].calls.iter().any(|c| c.loc == loc) {
                    return None;
                }
                self.b.functions[f].calls.push(CallSite {
                    args: (!splat).then_some(pos.len()),
                    inline_callbacks: inline,
                    loc,
                });
                None
            }
            Some(Val::LibFactory(libs)) if libs.len() == 1 => Some(Val::Lib(libs[0])),
            Some(Val::LibFactory(libs)) => {
                // One library, whichever of the candidates loads: every name any `return` tries.
                let names: Vec<LibName> = libs
                    .iter()
                    .flat_map(|&l| self.b.libraries[l].names.clone())
                    .collect();
                let loader = self.b.libraries[libs[0]].loader;
                Some(Val::Lib(self.library(loader, names, n)))
            }
            Some(Val::PathJoin) => {
                let mut parts = Vec::new();
                for a in &pos {
                    parts.push(self.eval(*a, depth + 1));
                }
                let mut it = parts.into_iter();
                let mut accs = match it.next().flatten() {
                    Some(Val::ModuleDir(p)) => vec![p],
                    _ => return None,
                };
                for p in it {
                    let parts: Vec<String> = match p {
                        Some(Val::Str(s)) => vec![s],
                        // `os.path.join(here, "libfoo" + suffix)` with several possible suffixes.
                        Some(Val::Candidates(c)) => c
                            .into_iter()
                            .filter_map(|n| match n {
                                LibName::Literal { name } => Some(name),
                                _ => None,
                            })
                            .collect(),
                        _ => return None,
                    };
                    accs = accs
                        .iter()
                        .flat_map(|a| {
                            parts.iter().map(move |s| {
                                if a.is_empty() {
                                    s.clone()
                                } else {
                                    format!("{a}/{s}")
                                }
                            })
                        })
                        .take(64)
                        .collect();
                }
                if accs.len() == 1 {
                    accs.pop().map(Val::ModuleDir)
                } else {
                    Some(Val::Candidates(
                        accs.into_iter()
                            .map(|p| LibName::ModuleRelative {
                                path: p.trim_start_matches('/').to_string(),
                            })
                            .collect(),
                    ))
                }
            }
            Some(Val::PathDirname) => match pos.first().and_then(|a| self.eval(*a, depth + 1)) {
                Some(Val::DunderFile) => Some(Val::ModuleDir(String::new())),
                Some(Val::ModuleDir(p)) if p.is_empty() => Some(Val::ModuleDir("..".into())),
                Some(Val::ModuleDir(p)) => Some(Val::ModuleDir(match p.rsplit_once('/') {
                    Some((d, _)) => d.to_string(),
                    None => String::new(),
                })),
                _ => None,
            },
            Some(Val::PathIdentity) => pos.first().and_then(|a| self.eval(*a, depth + 1)),
            Some(Val::Ffi) | None => {
                // `ffi.cdef(...)`, `ffi.dlopen(...)`, `ffi.set_source(...)`, `getattr(lib, "f")`, or any other call.
                if fnode.kind() == "attribute" {
                    let obj = fnode.child_by_field_name("object");
                    let attr = fnode
                        .child_by_field_name("attribute")
                        .map(|a| self.text(a))
                        .unwrap_or("");
                    let is_ffi =
                        matches!(obj.and_then(|o| self.eval(o, depth + 1)), Some(Val::Ffi));
                    if is_ffi {
                        match attr {
                            "cdef" => {
                                match pos.first() {
                                    Some(a) => self.cdef(*a),
                                    None => self.unresolved("ffi.cdef text", n),
                                }
                                return None;
                            }
                            "set_source" => {
                                let l = self.loc(n);
                                self.b.set_source.push(l);
                                return None;
                            }
                            "dlopen" => {
                                let (names, held) = self.lib_name(pos.first().copied(), depth);
                                let lib = self.library(Loader::CffiDlopen, names, n);
                                match held {
                                    Some(h) if h.is_empty() => {
                                        self.b.libraries[lib].unchecked_find_library = true
                                    }
                                    Some(h) => self.pending_find_library.push((lib, h)),
                                    None => {}
                                }
                                return Some(Val::Lib(lib));
                            }
                            _ => {}
                        }
                    }
                }
                if fnode.kind() == "identifier"
                    && self.text(fnode) == "getattr"
                    && !self.env.contains_key("getattr")
                {
                    if let (Some(o), Some(k)) = (pos.first(), pos.get(1)) {
                        if let Some(Val::Lib(l)) = self.eval(*o, depth + 1) {
                            // `getattr(lib, "f", None)` probes for an optional function.
                            let probe = pos.len() >= 3 || self.guard > 0;
                            return match self.string(*k) {
                                Some(name) => {
                                    Some(Val::Func(self.func_guarded(l, &name, n, probe)))
                                }
                                None => {
                                    self.unresolved("a function name", *k);
                                    None
                                }
                            };
                        }
                    }
                }
                let callee_name =
                    (fnode.kind() == "identifier").then(|| self.text(fnode).to_string());
                for (k, a) in pos.iter().enumerate() {
                    if let (Some(Val::Lib(l)), Some(f)) = (self.eval(*a, depth + 1), &callee_name) {
                        self.lib_args.entry((f.clone(), k)).or_insert(l);
                    }
                }
                for (_, v) in &kw {
                    self.eval(*v, depth + 1);
                }
                None
            }
            _ => {
                for a in &pos {
                    self.eval(*a, depth + 1);
                }
                None
            }
        }
    }

    /// `ffi.cdef(TEXT)`: the text's fragments laid out at their own lines and columns.
    fn cdef(&mut self, a: Node<'_>) {
        let mut fragments = Vec::new();
        if !self.fragments(a, &mut fragments, 0) {
            self.unresolved("ffi.cdef text", a);
            return;
        }
        let mut text = String::new();
        let (mut line, mut col) = (0usize, 0usize);
        for (row, column, content) in fragments {
            while line < row {
                text.push('\n');
                line += 1;
                col = 0;
            }
            while col < column {
                text.push(' ');
                col += 1;
            }
            text.push_str(&content);
            for ch in content.chars() {
                if ch == '\n' {
                    line += 1;
                    col = 0;
                } else {
                    col += 1;
                }
            }
        }
        let loc = self.loc(a);
        self.b.cdefs.push(CdefBlock { text, loc });
    }

    /// The literal pieces of a cdef argument: (row, column, text), or false when part of it is not literal.
    fn fragments(&self, n: Node<'_>, out: &mut Vec<(usize, usize, String)>, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        match n.kind() {
            "string" => {
                let mut prefix = String::new();
                let mut c = n.walk();
                for ch in n.children(&mut c) {
                    match ch.kind() {
                        "string_start" => prefix = self.text(ch).to_ascii_lowercase(),
                        "string_content" => {
                            let t = self.text(ch);
                            let t = if prefix.contains('r') {
                                t.to_string()
                            } else {
                                unescape(t)
                            };
                            let p = ch.start_position();
                            let line_start = ch.start_byte() - p.column;
                            let col =
                                String::from_utf8_lossy(&self.src[line_start..ch.start_byte()])
                                    .chars()
                                    .count();
                            out.push((p.row, col, t));
                        }
                        "interpolation" => return false,
                        _ => {}
                    }
                }
                true
            }
            "concatenated_string" | "parenthesized_expression" => {
                let mut c = n.walk();
                let kids: Vec<Node<'_>> = n.named_children(&mut c).collect();
                kids.into_iter()
                    .all(|k| k.kind() == "comment" || self.fragments(k, out, depth + 1))
            }
            "binary_operator" => {
                let op = n
                    .child_by_field_name("operator")
                    .map(|o| self.text(o))
                    .unwrap_or("");
                op == "+"
                    && n.child_by_field_name("left")
                        .is_some_and(|l| self.fragments(l, out, depth + 1))
                    && n.child_by_field_name("right")
                        .is_some_and(|r| self.fragments(r, out, depth + 1))
            }
            _ => false,
        }
    }
}

/// The library names a value stands for, if it is a name (a string, a `find_library` result, a path next to
/// the module, or several of these).
/// A condition or decorator that tests a version, a platform or whether an attribute exists.
fn is_guard_text(t: &str) -> bool {
    let l = t.to_ascii_lowercase();
    [
        "version", "hasattr", "getattr", "platform", "os.name", "system()", "_win", "darwin",
        "linux", "maxsize", "exists", "isfile", "windows", "posix", "macos", "osx",
    ]
    .iter()
    .any(|k| l.contains(k))
}

fn lib_names(v: &Val) -> Option<Vec<LibName>> {
    Some(match v {
        Val::Str(s) => vec![LibName::Literal { name: s.clone() }],
        Val::Found(s) => vec![LibName::FindLibrary { name: s.clone() }],
        Val::ModuleDir(p) if !p.is_empty() => vec![LibName::ModuleRelative {
            path: p.trim_start_matches('/').to_string(),
        }],
        Val::Candidates(c) => c.clone(),
        _ => return None,
    })
}

fn union(mut a: Vec<LibName>, b: Vec<LibName>) -> Vec<LibName> {
    for n in b {
        if !a.contains(&n) {
            a.push(n);
        }
    }
    a
}

fn parse_int(t: &str) -> Option<i64> {
    let t = t.replace('_', "");
    let lower = t.to_ascii_lowercase();
    if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else {
        lower.parse().ok()
    }
}

/// Python's simple string escapes (a cdef or a library name needs no more).
fn unescape(t: &str) -> String {
    if !t.contains('\\') {
        return t.to_string();
    }
    let mut out = String::with_capacity(t.len());
    let mut it = t.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('\\') => out.push('\\'),
            Some('\'') => out.push('\''),
            Some('"') => out.push('"'),
            Some('\n') => {}
            Some('0') => out.push('\0'),
            Some(o) => {
                out.push('\\');
                out.push(o);
            }
            None => out.push('\\'),
        }
    }
    out
}

#[cfg(test)]
mod tests;

/// Whether a function body declares foreign functions on `param` (`param.f.argtypes = …`, `.restype`,
/// `.errcheck`): then `param` is a library.
fn declares_on(r: &Reader<'_>, n: Node<'_>, param: &str, depth: u32) -> bool {
    if depth > MAX_DEPTH {
        return false;
    }
    if n.kind() == "attribute" {
        let attr = n
            .child_by_field_name("attribute")
            .map(|a| r.text(a))
            .unwrap_or("");
        if matches!(attr, "argtypes" | "restype" | "errcheck") {
            if let Some(obj) = n
                .child_by_field_name("object")
                .filter(|o| o.kind() == "attribute")
            {
                if obj
                    .child_by_field_name("object")
                    .is_some_and(|p| p.kind() == "identifier" && r.text(p) == param)
                {
                    return true;
                }
            }
        }
    }
    let mut c = n.walk();
    let kids: Vec<Node<'_>> = n.named_children(&mut c).collect();
    kids.into_iter()
        .any(|k| declares_on(r, k, param, depth + 1))
}
