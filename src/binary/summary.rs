//! A format-neutral summary of one [`Image`]: what `inspect` shows (identity, dependencies, search paths, symbol
//! counts by mangling and kind, imports per providing library, the format extras).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{
    ElfInfo, Endian, Format, Identity, Image, Import, ImportSource, Kind, MachoInfo, Needed, PeInfo,
};

/// Symbol counts, split by mangling kind and by symbol kind.
#[derive(Debug, Serialize)]
pub struct Counts {
    pub total: usize,
    pub by_mangling: BTreeMap<&'static str, usize>,
    pub by_kind: BTreeMap<&'static str, usize>,
}

impl Counts {
    pub fn of(
        items: impl Iterator<Item = (crate::binary::names::Mangling, crate::binary::SymbolKind)>,
    ) -> Counts {
        let mut c = Counts {
            total: 0,
            by_mangling: BTreeMap::new(),
            by_kind: BTreeMap::new(),
        };
        for (m, k) in items {
            c.total += 1;
            *c.by_mangling.entry(m.as_str()).or_default() += 1;
            *c.by_kind.entry(k.as_str()).or_default() += 1;
        }
        c
    }
}

/// Everything `inspect` says about one image.
#[derive(Debug, Serialize)]
pub struct ImageSummary<'a> {
    pub format: Format,
    pub arch: &'a str,
    pub bits: u8,
    pub endian: Endian,
    pub kind: Kind,
    pub file_offset: u64,
    pub identity: Option<&'a Identity>,
    pub needed: &'a [Needed],
    pub rpath: &'a [String],
    pub runpath: &'a [String],
    pub exports: Counts,
    pub imports: Counts,
    /// Imports per providing library (PE DLL, Mach-O dylib, ELF verneed file), plus flat/global-scope lookups.
    pub imports_by_source: BTreeMap<String, usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elf: Option<&'a ElfInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macho: Option<&'a MachoInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pe: Option<&'a PeInfo>,
}

/// Summarise one image.
pub fn summarize<'a>(img: &'a Image<'_>) -> ImageSummary<'a> {
    let mut counted: BTreeMap<&str, usize> = BTreeMap::new();
    for i in &img.imports {
        *counted.entry(source_label_str(i)).or_default() += 1;
    }
    let by_source = counted
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    ImageSummary {
        format: img.format,
        arch: &img.arch,
        bits: img.bits,
        endian: img.endian,
        kind: img.kind,
        file_offset: img.file_offset,
        identity: img.identity.as_ref(),
        needed: &img.needed,
        rpath: &img.rpath,
        runpath: &img.runpath,
        exports: Counts::of(img.exports.iter().map(|e| (e.mangling, e.kind))),
        imports: Counts::of(img.imports.iter().map(|i| (i.mangling, i.kind))),
        imports_by_source: by_source,
        elf: img.elf.as_ref(),
        macho: img.macho.as_ref(),
        pe: img.pe.as_ref(),
    }
}

/// A short label for where an import is looked up.
pub fn source_label(i: &Import<'_>) -> String {
    source_label_str(i).to_string()
}

/// [`source_label`], borrowed.
pub fn source_label_str<'a>(i: &'a Import<'_>) -> &'a str {
    match &i.source {
        ImportSource::Library { library } => library,
        ImportSource::Flat => "(flat namespace)",
        ImportSource::SelfImage => "(self)",
        ImportSource::Executable => "(main executable)",
        ImportSource::GlobalScope => "(global scope)",
    }
}
