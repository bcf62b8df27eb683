//! Symbol binding over a resolved tree (`deps --check-symbols`, like `ldd -r` without executing anything), one
//! binder per loader side by side. Each reads the facts the walk kept on the nodes: no file is reopened.

pub mod dyld;
pub mod glibc;
pub mod windows;

use std::sync::OnceLock;

/// What the binder of a node's loader needs of it.
#[derive(Debug)]
pub enum NodeFacts {
    Elf(glibc::ElfFacts),
    Macho(dyld::MachoFacts),
    Pe(std::sync::Arc<crate::loader::windows::PeFacts>),
}

impl NodeFacts {
    /// The names the object exports as C sees them (Mach-O's leading `_` removed; 32-bit Windows `_f@8`-style
    /// decorations removed, a shape 64-bit DLLs do not export).
    pub fn exported_c_names(&self) -> Vec<String> {
        match self {
            NodeFacts::Elf(f) => f.exported_names().map(str::to_string).collect(),
            NodeFacts::Macho(f) => f
                .exported_names()
                .map(|n| n.strip_prefix('_').unwrap_or(n).to_string())
                .collect(),
            NodeFacts::Pe(f) => f
                .names
                .iter()
                .map(|n| {
                    crate::binary::names::c_name(n, crate::binary::Format::Pe, 32)
                        .0
                        .to_string()
                })
                .collect(),
        }
    }
}

/// FFI0308 on the root: imports bound to libraries that have no file to read were not checked.
pub(crate) fn unchecked(
    graph: &crate::loader::Graph,
    message: String,
    expected: &str,
    found: String,
    hint: &str,
) -> crate::report::Finding {
    use crate::report::codes::{Code, LoadCode};
    crate::report::Finding {
        code: Code::Load(LoadCode::Unchecked),
        severity: crate::report::Severity::Info,
        location: graph
            .nodes
            .first()
            .map(|n| n.path.clone())
            .unwrap_or_default()
            .into(),
        message,
        expected: expected.into(),
        found,
        hint: hint.into(),
    }
}

type Reader = Box<dyn Fn() -> Option<NodeFacts> + Send + Sync>;

/// The binder's facts of one node: either read when the walk loaded it, or read on first use from the mapping
/// the walk kept (so a walk without `--check-symbols` never reads symbol tables, and binding never reopens).
pub struct Facts {
    cell: OnceLock<Option<NodeFacts>>,
    read: Option<Reader>,
}

impl Facts {
    /// Facts already read.
    pub fn ready(f: NodeFacts) -> Facts {
        Facts {
            cell: OnceLock::from(Some(f)),
            read: None,
        }
    }

    /// Facts read by `read` the first time a binder asks (None: the file has none it can read).
    pub fn lazy(read: impl Fn() -> Option<NodeFacts> + Send + Sync + 'static) -> Facts {
        Facts {
            cell: OnceLock::new(),
            read: Some(Box::new(read)),
        }
    }

    pub fn get(&self) -> Option<&NodeFacts> {
        self.cell
            .get_or_init(|| self.read.as_ref().and_then(|r| r()))
            .as_ref()
    }
}

impl std::fmt::Debug for Facts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.cell.get() {
            Some(v) => v.fmt(f),
            None => f.write_str("(not read yet)"),
        }
    }
}
