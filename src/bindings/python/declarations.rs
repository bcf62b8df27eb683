//! Declarations on foreign functions: `lib.f` and `getattr(lib, "f")` as functions of a library, their
//! `argtypes`/`restype`/`errcheck`, prototypes (`CFUNCTYPE(...)`, with `PROTO(("name", lib), paramflags)`) and the
//! calls made to them.

use tree_sitter::Node;

use super::reader::{Reader, Val};
use crate::bindings::model::{CType, CallConv, CallSite, FunctionDecl, Prototype, Typed};

impl Reader<'_> {
    pub(super) fn func(&mut self, lib: usize, name: &str, n: Node<'_>) -> usize {
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

    /// `lib.f.argtypes = …`, `.restype = …`, `.errcheck = …`.
    pub(super) fn declare_attr(
        &mut self,
        obj: Node<'_>,
        attr: &str,
        left: Node<'_>,
        right: Node<'_>,
        value: Option<Val>,
        depth: u32,
    ) {
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
                    Some(t) => self.b.functions[f].argtypes = Some(Typed { value: t, loc }),
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

    /// `CFUNCTYPE(restype, *argtypes)` and friends: a prototype.
    pub(super) fn prototype(
        &mut self,
        conv: CallConv,
        n: Node<'_>,
        pos: &[Node<'_>],
        splat: bool,
        depth: u32,
    ) -> Option<Val> {
        let mut types = Vec::with_capacity(pos.len());
        for a in pos {
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

    /// A call of a prototype: `PROTO(("name", lib), paramflags)` declares a foreign function, `PROTO(pyfunc)`
    /// makes a callback object.
    pub(super) fn prototype_call(
        &mut self,
        id: usize,
        n: Node<'_>,
        pos: &[Node<'_>],
        depth: u32,
    ) -> Option<Val> {
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

    /// A call of a foreign function: its argument count and the callbacks made inline.
    pub(super) fn foreign_call(
        &mut self,
        f: usize,
        n: Node<'_>,
        pos: &[Node<'_>],
        kw: &[(String, Node<'_>)],
        splat: bool,
        depth: u32,
    ) -> Option<Val> {
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
        for (_, v) in kw {
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

    /// `getattr(lib, "f")`: the function `f` of `lib` (optional when given a default or under a guard).
    pub(super) fn getattr_call(
        &mut self,
        n: Node<'_>,
        fnode: Node<'_>,
        pos: &[Node<'_>],
        depth: u32,
    ) -> Option<Option<Val>> {
        if fnode.kind() == "identifier"
            && self.text(fnode) == "getattr"
            && !self.env.contains_key("getattr")
        {
            if let (Some(o), Some(k)) = (pos.first(), pos.get(1)) {
                if let Some(Val::Lib(l)) = self.eval(*o, depth + 1) {
                    // `getattr(lib, "f", None)` probes for an optional function.
                    let probe = pos.len() >= 3 || self.guard > 0;
                    return Some(match self.string(*k) {
                        Some(name) => Some(Val::Func(self.func_guarded(l, &name, n, probe))),
                        None => {
                            self.unresolved("a function name", *k);
                            None
                        }
                    });
                }
            }
        }
        None
    }
}
