//! Module-level Python functions: read early (quietly) to learn which libraries they return, then read again
//! after the module with each parameter bound to the library the module passes it.

use tree_sitter::Node;

use super::reader::{Reader, Val};
use super::MAX_DEPTH;
use crate::bindings::model::{LibName, Loader};

impl Reader<'_> {
    pub(super) fn function_def(&mut self, s: Node<'_>, depth: u32) {
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

    /// The final reading of a function body: parameters bound to the library the module passes them (or, when
    /// the body declares foreign functions on a parameter, `param.f.argtypes = …`, to a library known only as
    /// that parameter), every other parameter unbound.
    pub(super) fn function_body(&mut self, s: Node<'_>, depth: u32) {
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
        let decorated = self.decorated_guard(s);
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

    /// Remember which library each positional argument of a call to a module function is: the function's body
    /// is read again with that parameter bound to it.
    pub(super) fn lib_arguments(
        &mut self,
        fnode: Node<'_>,
        pos: &[Node<'_>],
        kw: &[(String, Node<'_>)],
        depth: u32,
    ) {
        let callee_name = (fnode.kind() == "identifier").then(|| self.text(fnode).to_string());
        for (k, a) in pos.iter().enumerate() {
            if let (Some(Val::Lib(l)), Some(f)) = (self.eval(*a, depth + 1), &callee_name) {
                self.lib_args.entry((f.clone(), k)).or_insert(l);
            }
        }
        for (_, v) in kw {
            self.eval(*v, depth + 1);
        }
    }
}

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
