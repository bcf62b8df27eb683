//! The PE export, import and delay-load import tables, read the way the Windows loader reads them: every RVA on
//! its own through the section table. Repair tools (delvewheel, which rewrites most Windows wheels on PyPI) write
//! a renamed DLL's longer name into whichever section has room, so the names of one import directory may live in
//! several sections; a reader that resolves them relative to the directory's section refuses such files.
//!
//! One walker serves the import and the delay-load import directories (they differ only in the descriptor's
//! size and field offsets). Every read is bounds-checked, every loop advances through the file and so ends with
//! it, and nothing is allocated beyond what the file's bytes can hold. A bad RVA is reported at the file offset
//! of the structure that holds it (data-directory entry, descriptor, thunk, export directory, name pointer).

/// A table the file does not describe well: what was expected, what was found, and where the bad value is.
#[derive(Debug)]
pub(super) struct TableError {
    pub expected: String,
    pub found: String,
    pub at: u64,
}

fn err(expected: impl Into<String>, found: impl Into<String>, at: usize) -> TableError {
    TableError {
        expected: expected.into(),
        found: found.into(),
        at: at as u64,
    }
}

/// One section's bytes in the file: `[va, va + len)` maps to `[off, off + len)`, `len = min(VirtualSize,
/// SizeOfRawData)` (bytes past the raw data are zero-filled by the loader and hold no table).
#[derive(Debug, Clone, Copy)]
struct Span {
    va: u32,
    len: u32,
    off: u32,
}

/// RVA to file bytes through the section table.
pub(super) struct RvaMap<'d> {
    data: &'d [u8],
    spans: Vec<Span>,
}

/// Why an RVA has no bytes.
enum Miss {
    /// No section holds it.
    NoSection,
    /// A section holds it, but the section's raw data runs past the end of the file.
    Truncated { end: u64 },
}

impl Miss {
    fn describe(&self, rva: u32) -> String {
        match self {
            Miss::NoSection => format!("RVA {rva:#x}, which no section's data holds"),
            Miss::Truncated { end } => format!(
                "RVA {rva:#x}, in a section whose data would end at offset {end:#x}, past the end of the file \
                 (truncated?)"
            ),
        }
    }
}

/// A NUL-terminated string, or why there is none.
fn cstr(bytes: &[u8]) -> Option<&[u8]> {
    bytes.iter().position(|&b| b == 0).map(|n| &bytes[..n])
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at.checked_add(2)?)
        .map(|x| u16::from_le_bytes([x[0], x[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at.checked_add(4)?)
        .map(|x| u32::from_le_bytes([x[0], x[1], x[2], x[3]]))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    let lo = u32_at(b, at)?;
    let hi = u32_at(b, at.checked_add(4)?)?;
    Some(u64::from(lo) | (u64::from(hi) << 32))
}

impl<'d> RvaMap<'d> {
    /// `sections`: (VirtualAddress, VirtualSize, SizeOfRawData, PointerToRawData) per section header.
    pub fn new(data: &'d [u8], sections: impl Iterator<Item = (u32, u32, u32, u32)>) -> Self {
        let spans = sections
            .map(|(va, vsize, raw, off)| Span {
                va,
                len: vsize.min(raw),
                off,
            })
            .collect();
        RvaMap { data, spans }
    }

    /// The bytes from `rva` to the end of its section's data.
    fn bytes(&self, rva: u32) -> Result<&'d [u8], Miss> {
        let span = self
            .spans
            .iter()
            .find(|s| rva.checked_sub(s.va).is_some_and(|d| d < s.len))
            .ok_or(Miss::NoSection)?;
        let start = u64::from(span.off) + u64::from(rva - span.va);
        let end = u64::from(span.off) + u64::from(span.len);
        usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(s, e)| self.data.get(s..e))
            .ok_or(Miss::Truncated { end })
    }

    /// The file offset of `rva` (for messages), when a section holds it.
    fn offset(&self, rva: u32) -> Option<usize> {
        let b = self.bytes(rva).ok()?;
        Some(b.as_ptr() as usize - self.data.as_ptr() as usize)
    }

    /// `n` bytes at `rva` within one section, or an error naming `what` at `holder`.
    fn slice(&self, rva: u32, n: usize, what: &str, holder: usize) -> Result<&'d [u8], TableError> {
        let b = self.bytes(rva).map_err(|m| {
            err(
                format!("{what} at an RVA inside a section"),
                m.describe(rva),
                holder,
            )
        })?;
        b.get(..n).ok_or_else(|| {
            err(
                format!("{what} ({n} bytes) inside one section"),
                format!(
                    "RVA {rva:#x}, {} bytes before its section's data ends",
                    b.len()
                ),
                holder,
            )
        })
    }

    /// The NUL-terminated string at `rva`, or an error naming `what` at `holder`.
    fn string(&self, rva: u32, what: &str, holder: usize) -> Result<&'d [u8], TableError> {
        let b = self.bytes(rva).map_err(|m| {
            err(
                format!("{what} at an RVA inside a section"),
                m.describe(rva),
                holder,
            )
        })?;
        cstr(b).ok_or_else(|| {
            err(
                format!("a NUL-terminated {what}"),
                format!("RVA {rva:#x}, whose section's data ends before a NUL"),
                holder,
            )
        })
    }
}

/// Which import directory a walk reads: its descriptor's size and where its fields are.
#[derive(Debug, Clone, Copy)]
pub(super) enum ImportKind {
    /// `IMAGE_IMPORT_DESCRIPTOR`: OriginalFirstThunk, TimeDateStamp, ForwarderChain, Name, FirstThunk.
    Import,
    /// `IMAGE_DELAYLOAD_DESCRIPTOR`: Attributes, DllNameRVA, ModuleHandleRVA, ImportAddressTableRVA,
    /// ImportNameTableRVA, BoundImportAddressTableRVA, UnloadInformationTableRVA, TimeDateStamp.
    Delay,
}

impl ImportKind {
    fn descriptor_size(self) -> usize {
        match self {
            ImportKind::Import => 20,
            ImportKind::Delay => 32,
        }
    }

    /// Offsets of the DLL name RVA, the name (lookup) table RVA, and the address table RVA used when the name
    /// table is absent.
    fn fields(self) -> (usize, usize, Option<usize>) {
        match self {
            ImportKind::Import => (12, 0, Some(16)),
            ImportKind::Delay => (4, 16, None),
        }
    }

    fn label(self) -> &'static str {
        match self {
            ImportKind::Import => "import",
            ImportKind::Delay => "delay-load import",
        }
    }
}

/// One imported symbol.
#[derive(Debug, Clone, Copy)]
pub(super) enum Entry<'d> {
    Name { hint: u16, name: &'d [u8] },
    Ordinal(u16),
}

/// One descriptor: the DLL and what is imported from it, in table order.
pub(super) struct ImportedDll<'d> {
    pub name: &'d [u8],
    pub entries: Vec<Entry<'d>>,
}

/// Walk an import or delay-load import directory at `dir_rva` (whose data-directory entry is at file offset
/// `dir_entry`). `pe64`: thunks are 8 bytes (PE32+), else 4.
pub(super) fn imports<'d>(
    map: &RvaMap<'d>,
    kind: ImportKind,
    dir_rva: u32,
    dir_entry: usize,
    pe64: bool,
) -> Result<Vec<ImportedDll<'d>>, TableError> {
    let label = kind.label();
    let size = kind.descriptor_size();
    let (name_field, table_field, fallback_field) = kind.fields();
    let descs = map.bytes(dir_rva).map_err(|m| {
        err(
            format!("the {label} directory at an RVA inside a section"),
            m.describe(dir_rva),
            dir_entry,
        )
    })?;
    let base = map.offset(dir_rva).unwrap_or(dir_entry);
    let mut out = Vec::new();
    let mut pos = 0usize;
    loop {
        let at = base + pos;
        let d = descs.get(pos..pos + size).ok_or_else(|| {
            err(
                format!("a null {label} descriptor ending the directory"),
                "the end of the directory's section first",
                at,
            )
        })?;
        if d.iter().all(|&b| b == 0) {
            return Ok(out);
        }
        let field = |off: usize| u32_at(d, off).unwrap_or(0);
        let name = map.string(field(name_field), &format!("{label} DLL name"), at)?;
        let table = match (field(table_field), fallback_field) {
            (0, Some(f)) => field(f),
            (rva, _) => rva,
        };
        let entries = thunks(map, table, pe64, label, at)?;
        out.push(ImportedDll { name, entries });
        pos += size;
    }
}

/// The entries of one import name (lookup) table at `rva`, held by the descriptor at `desc`.
fn thunks<'d>(
    map: &RvaMap<'d>,
    rva: u32,
    pe64: bool,
    label: &str,
    desc: usize,
) -> Result<Vec<Entry<'d>>, TableError> {
    let what = format!("{label} name table");
    let table = map.bytes(rva).map_err(|m| {
        err(
            format!("the {what} at an RVA inside a section"),
            m.describe(rva),
            desc,
        )
    })?;
    let base = map.offset(rva).unwrap_or(desc);
    let width = if pe64 { 8 } else { 4 };
    let mut entries = Vec::new();
    let mut pos = 0usize;
    loop {
        let at = base + pos;
        let raw = if pe64 {
            u64_at(table, pos)
        } else {
            u32_at(table, pos).map(u64::from)
        }
        .ok_or_else(|| {
            err(
                format!("a null thunk ending the {what}"),
                "the end of the table's section first",
                at,
            )
        })?;
        if raw == 0 {
            return Ok(entries);
        }
        let ordinal_flag = if pe64 { 1 << 63 } else { 1 << 31 };
        if raw & ordinal_flag != 0 {
            entries.push(Entry::Ordinal(raw as u16));
        } else {
            // Bits 0..31 hold the hint/name RVA (the rest must be zero; read as the loader does, truncated).
            let hn = raw as u32;
            let hint = map.slice(hn, 2, &format!("{label} hint/name entry"), at)?;
            let hint = u16_at(hint, 0).unwrap_or(0);
            let name_rva = hn.saturating_add(2);
            let name = map.string(name_rva, &format!("{label} name"), at)?;
            entries.push(Entry::Name { hint, name });
        }
        pos += width;
    }
}

/// Where an export points.
#[derive(Debug, Clone, Copy)]
pub(super) enum ExportAddress<'d> {
    Address(u32),
    ForwardByName(&'d [u8], &'d [u8]),
    ForwardByOrdinal(&'d [u8], u32),
}

/// One export-address-table slot and the name (if any) that points at it.
pub(super) struct ExportEntry<'d> {
    pub ordinal: u32,
    pub name: Option<&'d [u8]>,
    pub target: ExportAddress<'d>,
}

/// The export directory: the DLL's own name (when readable) and every export-address-table slot in order.
pub(super) struct Exports<'d> {
    pub dll_name: Option<&'d [u8]>,
    pub entries: Vec<ExportEntry<'d>>,
}

/// Read the export directory at `dir_rva` (`dir_size` bytes, which bounds the forwarder strings), whose
/// data-directory entry is at file offset `dir_entry`.
pub(super) fn exports<'d>(
    map: &RvaMap<'d>,
    dir_rva: u32,
    dir_size: u32,
    dir_entry: usize,
) -> Result<Exports<'d>, TableError> {
    let dir = map.slice(dir_rva, 40, "the export directory", dir_entry)?;
    let at = map.offset(dir_rva).unwrap_or(dir_entry);
    let field = |off: usize| u32_at(dir, off).unwrap_or(0);
    let dll_name = map.bytes(field(12)).ok().and_then(cstr);
    let ordinal_base = field(16);
    let (n_funcs, n_names) = (field(20), field(24));
    // Each array must lie inside one section before anything sized by its count is allocated.
    let array = |rva: u32, n: u32, width: usize, what: &str| -> Result<&'d [u8], TableError> {
        if n == 0 {
            return Ok(&[]);
        }
        let len = (n as usize).saturating_mul(width);
        map.slice(rva, len, what, at)
    };
    let addresses = array(field(28), n_funcs, 4, "the export address table")?;
    let names = array(field(32), n_names, 4, "the export name pointer table")?;
    let ordinals = array(field(36), n_names, 2, "the export ordinal table")?;
    let forwarder = |rva: u32| rva >= dir_rva && rva - dir_rva < dir_size;

    let mut entries = Vec::with_capacity(n_funcs as usize);
    for (i, slot) in addresses.chunks_exact(4).enumerate() {
        let rva = u32::from_le_bytes([slot[0], slot[1], slot[2], slot[3]]);
        let holder = map.offset(field(28)).unwrap_or(at) + 4 * i;
        let target = if forwarder(rva) {
            let text = map.string(rva, "export forwarder", holder)?;
            let dot = text.iter().position(|&b| b == b'.').ok_or_else(|| {
                err(
                    "an export forwarder DLL.name or DLL.#ordinal",
                    format!("{:?} with no '.'", String::from_utf8_lossy(text)),
                    holder,
                )
            })?;
            let (dll, rest) = (&text[..dot], &text[dot + 1..]);
            match rest {
                [] => {
                    return Err(err(
                        "an export forwarder DLL.name or DLL.#ordinal",
                        format!("{:?} with no name", String::from_utf8_lossy(text)),
                        holder,
                    ))
                }
                [b'#', digits @ ..] => {
                    let ord = std::str::from_utf8(digits)
                        .ok()
                        .and_then(|d| d.parse::<u32>().ok())
                        .ok_or_else(|| {
                            err(
                                "an export forwarder ordinal in decimal",
                                format!("{:?}", String::from_utf8_lossy(text)),
                                holder,
                            )
                        })?;
                    ExportAddress::ForwardByOrdinal(dll, ord)
                }
                name => ExportAddress::ForwardByName(dll, name),
            }
        } else {
            ExportAddress::Address(rva)
        };
        entries.push(ExportEntry {
            ordinal: ordinal_base.wrapping_add(i as u32),
            name: None,
            target,
        });
    }
    let names_at = map.offset(field(32)).unwrap_or(at);
    for (i, (ptr, ord)) in names
        .chunks_exact(4)
        .zip(ordinals.chunks_exact(2))
        .enumerate()
    {
        let holder = names_at + 4 * i;
        let name_rva = u32::from_le_bytes([ptr[0], ptr[1], ptr[2], ptr[3]]);
        let index = u16::from_le_bytes([ord[0], ord[1]]);
        let name = map.string(name_rva, "export name", holder)?;
        let entry = entries.get_mut(usize::from(index)).ok_or_else(|| {
            err(
                format!("an export ordinal index below the {n_funcs} address-table slots"),
                format!("index {index}"),
                map.offset(field(36)).unwrap_or(at) + 2 * i,
            )
        })?;
        entry.name = Some(name);
    }
    Ok(Exports { dll_name, entries })
}
