//! Guards: code that runs only where a function may be missing (under an `if` on a version, a platform or
//! `hasattr`, in a `try` that catches `AttributeError`, in a function decorated with such a check).

use tree_sitter::Node;

use super::reader::Reader;

impl Reader<'_> {
    /// Whether a compound statement's blocks run only where a function may be missing.
    pub(super) fn guards(&self, s: Node<'_>) -> bool {
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

    /// Whether a function definition is decorated with a version, platform or attribute check.
    pub(super) fn decorated_guard(&self, s: Node<'_>) -> bool {
        s.parent()
            .filter(|p| p.kind() == "decorated_definition")
            .is_some_and(|p| {
                let mut c = p.walk();
                let any = p
                    .named_children(&mut c)
                    .any(|d| d.kind() == "decorator" && is_guard_text(self.text(d)));
                any
            })
    }
}

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
