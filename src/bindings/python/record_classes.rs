//! `Structure`/`Union` classes (and their big- and little-endian forms, and subclasses of record classes):
//! `_fields_` with bit widths, `_pack_`, `_align_`, `_anonymous_` and `_layout_`, in the class body or assigned
//! later.

use tree_sitter::Node;

use super::reader::{Reader, Val};
use crate::bindings::model::{CField, CRecord, CType, Endian, LayoutRule};

impl Reader<'_> {
    pub(super) fn class(&mut self, s: Node<'_>, depth: u32) {
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

    pub(super) fn record_attr(
        &mut self,
        id: usize,
        attr: &str,
        n: Node<'_>,
        v: Option<Val>,
        depth: u32,
    ) {
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
}
