//! Statements in source order: blocks and compound statements (branches, loops, `try`), imports of ctypes,
//! cffi and `os.path`, and assignments, which bind names in the reader's table.

use tree_sitter::Node;

use super::libraries::{lib_names, union};
use super::reader::{Reader, Val};
use super::types::ctypes_attr;
use super::MAX_DEPTH;
use crate::bindings::model::{CType, LibName};

impl Reader<'_> {
    pub(super) fn block(&mut self, n: Node<'_>, depth: u32) {
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

    pub(super) fn statement(&mut self, s: Node<'_>, depth: u32) {
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

    pub(super) fn assignment(&mut self, a: Node<'_>, depth: u32) {
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
                        self.declare_attr(obj, attr, left, right, value, depth)
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
}
