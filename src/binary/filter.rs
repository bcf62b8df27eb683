//! Symbol filters shared by the `exports` and `imports` listings.

use super::{Export, Import, SymbolKind};
use crate::binary::names::Mangling;

/// Which exports/imports a listing keeps: only mangled or only plain C names, one symbol kind, a glob tried on
/// the raw, C and demangled name.
pub struct SymbolFilter<'a> {
    pub mangled: bool,
    pub unmangled: bool,
    pub kind: Option<SymbolKind>,
    pub pattern: Option<&'a glob::Pattern>,
}

impl SymbolFilter<'_> {
    fn keep(&self, mangling: Mangling, kind: SymbolKind, names: &[Option<&str>]) -> bool {
        if self.mangled && !mangling.is_mangled() || self.unmangled && mangling.is_mangled() {
            return false;
        }
        if self.kind.is_some_and(|k| k != kind) {
            return false;
        }
        match self.pattern {
            Some(p) => names.iter().flatten().any(|n| p.matches(n)),
            None => true,
        }
    }

    pub fn export(&self, e: &Export<'_>) -> bool {
        self.keep(
            e.mangling,
            e.kind,
            &[Some(&e.name), Some(&e.c_name), e.demangled.as_deref()],
        )
    }

    pub fn import(&self, i: &Import<'_>) -> bool {
        self.keep(
            i.mangling,
            i.kind,
            &[
                i.name.as_deref(),
                i.c_name.as_deref(),
                i.demangled.as_deref(),
            ],
        )
    }
}
