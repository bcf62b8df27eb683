//! Symbol binding over a resolved tree (`deps --check-symbols`, like `ldd -r` without executing anything), one
//! binder per loader side by side. Each reads the facts the walk kept on the nodes: no file is reopened.

pub mod dyld;
pub mod glibc;
pub mod windows;

/// What the binder of a node's loader needs of it, read once when the walk loaded it.
#[derive(Debug)]
pub enum NodeFacts {
    Elf(glibc::ElfFacts),
    Macho(dyld::MachoFacts),
    Pe(std::sync::Arc<crate::loader::windows::PeFacts>),
}
