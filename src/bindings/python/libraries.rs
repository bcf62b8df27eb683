//! Library loading: `CDLL`/`WinDLL`/`cdll.name`/`ffi.dlopen` and the names they are given (literals, candidates,
//! `find_library` results, paths next to the module), functions that return a library, and whether a
//! `find_library` result is checked for `None` before it is loaded.

use tree_sitter::Node;

use super::reader::{Reader, Val};
use super::MAX_DEPTH;
use crate::bindings::model::{Flag, LibName, Library, Loader};

impl Reader<'_> {
    /// Names that the code tests for truth or `None`: a `find_library` result held in one of them is checked.
    pub(super) fn collect_tested(&mut self, n: Node<'_>, depth: u32) {
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

    pub(super) fn finish(&mut self) {
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

    pub(super) fn library(&mut self, loader: Loader, names: Vec<LibName>, n: Node<'_>) -> usize {
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
            use_errno: Flag::Absent,
            use_last_error: Flag::Absent,
            loc,
        });
        self.b.libraries.len() - 1
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

    /// `CDLL(name, …)`, `cdll.LoadLibrary(name)`: a library.
    pub(super) fn load_call(
        &mut self,
        loader: Loader,
        n: Node<'_>,
        pos: &[Node<'_>],
        kw: &[(String, Node<'_>)],
        depth: u32,
    ) -> Val {
        let arg = pos
            .first()
            .copied()
            .or_else(|| kw.iter().find(|(k, _)| k == "name").map(|x| x.1));
        let (names, held) = self.lib_name(arg, depth);
        for (_, v) in kw {
            self.eval(*v, depth + 1);
        }
        let lib = self.library(loader, names, n);
        let flag = |name: &str| match kw.iter().find(|(k, _)| k == name || k == "**") {
            Some((k, _)) if k == "**" => Flag::Unknown,
            Some((_, v)) => match self.text(*v) {
                "True" | "1" => Flag::Set,
                "False" | "0" => Flag::Absent,
                _ => Flag::Unknown,
            },
            None => Flag::Absent,
        };
        let (errno, last_error) = (flag("use_errno"), flag("use_last_error"));
        let l = &mut self.b.libraries[lib];
        l.use_errno = errno;
        l.use_last_error = last_error;
        match held {
            Some(h) if h.is_empty() => self.b.libraries[lib].unchecked_find_library = true,
            Some(h) => self.pending_find_library.push((lib, h)),
            None => {}
        }
        Val::Lib(lib)
    }

    /// `find_library(name)`: a name the loader finds, or several.
    pub(super) fn find_library_call(&mut self, pos: &[Node<'_>], depth: u32) -> Option<Val> {
        match pos.first().and_then(|a| self.eval(*a, depth + 1)) {
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
        }
    }

    /// A call to a function that returns one of several libraries: one library, whichever of them loads.
    pub(super) fn factory_call(&mut self, libs: &[usize], n: Node<'_>) -> Val {
        // One library, whichever of the candidates loads: every name any `return` tries.
        let names: Vec<LibName> = libs
            .iter()
            .flat_map(|&l| self.b.libraries[l].names.clone())
            .collect();
        let loader = self.b.libraries[libs[0]].loader;
        Val::Lib(self.library(loader, names, n))
    }

    /// `os.path.join(dir, …)` under the module's directory.
    pub(super) fn path_join(&mut self, pos: &[Node<'_>], depth: u32) -> Option<Val> {
        let mut parts = Vec::new();
        for a in pos {
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

    /// `os.path.dirname(__file__)` and parents of the module's directory.
    pub(super) fn path_dirname(&mut self, pos: &[Node<'_>], depth: u32) -> Option<Val> {
        match pos.first().and_then(|a| self.eval(*a, depth + 1)) {
            Some(Val::DunderFile) => Some(Val::ModuleDir(String::new())),
            Some(Val::ModuleDir(p)) if p.is_empty() => Some(Val::ModuleDir("..".into())),
            Some(Val::ModuleDir(p)) => Some(Val::ModuleDir(match p.rsplit_once('/') {
                Some((d, _)) => d.to_string(),
                None => String::new(),
            })),
            _ => None,
        }
    }

    /// `ffi.dlopen(name)`: a library loaded by cffi.
    pub(super) fn dlopen(&mut self, n: Node<'_>, pos: &[Node<'_>], depth: u32) -> Val {
        let (names, held) = self.lib_name(pos.first().copied(), depth);
        let lib = self.library(Loader::CffiDlopen, names, n);
        match held {
            Some(h) if h.is_empty() => self.b.libraries[lib].unchecked_find_library = true,
            Some(h) => self.pending_find_library.push((lib, h)),
            None => {}
        }
        Val::Lib(lib)
    }
}

/// The library names a value stands for, if it is a name (a string, a `find_library` result, a path next to
/// the module, or several of these).
pub(super) fn lib_names(v: &Val) -> Option<Vec<LibName>> {
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

pub(super) fn union(mut a: Vec<LibName>, b: Vec<LibName>) -> Vec<LibName> {
    for n in b {
        if !a.contains(&n) {
            a.push(n);
        }
    }
    a
}
