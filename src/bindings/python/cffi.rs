//! cffi in ABI mode: `ffi.cdef(TEXT)` (its literal fragments laid out at their own lines and columns),
//! `ffi.set_source(...)` and `ffi.dlopen(name)`.

use tree_sitter::Node;

use super::expressions::unescape;
use super::reader::{Reader, Val};
use super::MAX_DEPTH;
use crate::bindings::model::CdefBlock;

impl Reader<'_> {
    /// A method call on an `FFI()` instance, when it is one this reader knows (`cdef`, `set_source`, `dlopen`).
    pub(super) fn ffi_method(
        &mut self,
        n: Node<'_>,
        fnode: Node<'_>,
        pos: &[Node<'_>],
        depth: u32,
    ) -> Option<Option<Val>> {
        if fnode.kind() == "attribute" {
            let obj = fnode.child_by_field_name("object");
            let attr = fnode
                .child_by_field_name("attribute")
                .map(|a| self.text(a))
                .unwrap_or("");
            let is_ffi = matches!(obj.and_then(|o| self.eval(o, depth + 1)), Some(Val::Ffi));
            if is_ffi {
                match attr {
                    "cdef" => {
                        match pos.first() {
                            Some(a) => self.cdef(*a),
                            None => self.unresolved("ffi.cdef text", n),
                        }
                        return Some(None);
                    }
                    "set_source" => {
                        let l = self.loc(n);
                        self.b.set_source.push(l);
                        return Some(None);
                    }
                    "dlopen" => return Some(Some(self.dlopen(n, pos, depth))),
                    _ => {}
                }
            }
        }
        None
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
