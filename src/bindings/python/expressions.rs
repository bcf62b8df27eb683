//! Expressions evaluated to what they denote (strings, integers, lists, names, attributes, operators), and calls
//! dispatched by what the callee is to the file that knows that job.

use tree_sitter::Node;

use super::libraries::{lib_names, union};
use super::reader::{Reader, Val};
use super::types::ctypes_attr;
use super::MAX_DEPTH;
use crate::bindings::model::{CType, ErrnoRead, LibName};

impl Reader<'_> {
    /// What a bare name denotes: the table first, then `__file__` and the ctypes names.
    fn lookup(&self, name: &str) -> Option<Val> {
        if let Some(v) = self.env.get(name) {
            return Some(v.clone());
        }
        match name {
            "__file__" => Some(Val::DunderFile),
            _ => ctypes_attr(name),
        }
    }

    pub(super) fn string(&self, n: Node<'_>) -> Option<String> {
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

    pub(super) fn eval(&mut self, n: Node<'_>, depth: u32) -> Option<Val> {
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

    pub(super) fn attribute(&mut self, n: Node<'_>, depth: u32) -> Option<Val> {
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

    pub(super) fn call(&mut self, n: Node<'_>, depth: u32) -> Option<Val> {
        let fnode = n.child_by_field_name("function")?;
        let callee = self.eval(fnode, depth + 1);
        let (pos, kw, splat) = self.args(n);
        match callee {
            Some(Val::LoaderFn(loader)) => Some(self.load_call(loader, n, &pos, &kw, depth)),
            Some(Val::FindLibraryFn) => self.find_library_call(&pos, depth),
            Some(Val::ErrnoFn(last_error)) => {
                let loc = self.loc(n);
                self.b.errno_reads.push(ErrnoRead { last_error, loc });
                None
            }
            Some(Val::FfiClass) => Some(Val::Ffi),
            Some(Val::PointerFn) => self.pointer_call(&pos, depth),
            Some(Val::ProtoFactory(conv)) => self.prototype(conv, n, &pos, splat, depth),
            Some(Val::Type(CType::FuncPtr { id })) => self.prototype_call(id, n, &pos, depth),
            Some(Val::Func(f)) => self.foreign_call(f, n, &pos, &kw, splat, depth),
            Some(Val::LibFactory(libs)) if libs.len() == 1 => Some(Val::Lib(libs[0])),
            Some(Val::LibFactory(libs)) => Some(self.factory_call(&libs, n)),
            Some(Val::PathJoin) => self.path_join(&pos, depth),
            Some(Val::PathDirname) => self.path_dirname(&pos, depth),
            Some(Val::PathIdentity) => pos.first().and_then(|a| self.eval(*a, depth + 1)),
            Some(Val::Ffi) | None => {
                // `ffi.cdef(...)`, `ffi.dlopen(...)`, `ffi.set_source(...)`, `getattr(lib, "f")`, or any other call.
                if let Some(v) = self.ffi_method(n, fnode, &pos, depth) {
                    return v;
                }
                if let Some(v) = self.getattr_call(n, fnode, &pos, depth) {
                    return v;
                }
                self.lib_arguments(fnode, &pos, &kw, depth);
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
pub(super) fn unescape(t: &str) -> String {
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
