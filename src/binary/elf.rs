//! ELF reading: header facts, the dynamic section (soname, needed, rpath/runpath, flags), symbol versions
//! (versym/verdef/verneed), the dynamic symbol table as exports and imports, build-id, debuglink and DWARF presence.

use std::borrow::Cow;

use goblin::elf::{dynamic, header, note, section_header, sym, Elf};

use super::{
    goblin_error, name_facts, Binding, DebugLink, ElfInfo, Endian, Export, Format, Image, Import,
    ImportSource, Kind, Needed, NeededKind, ReadOptions, SymbolKind, SymbolVersion, VersionDef,
    VersionNeed,
};
use crate::error::InputError;

const DT_FLAGS_NAMES: &[(u64, &str)] = &[
    (0x1, "ORIGIN"),
    (0x2, "SYMBOLIC"),
    (0x4, "TEXTREL"),
    (0x8, "BIND_NOW"),
    (0x10, "STATIC_TLS"),
];

const DT_FLAGS_1_NAMES: &[(u64, &str)] = &[
    (0x1, "NOW"),
    (0x2, "GLOBAL"),
    (0x4, "GROUP"),
    (0x8, "NODELETE"),
    (0x10, "LOADFLTR"),
    (0x20, "INITFIRST"),
    (0x40, "NOOPEN"),
    (0x80, "ORIGIN"),
    (0x100, "DIRECT"),
    (0x400, "INTERPOSE"),
    (0x800, "NODEFLIB"),
    (0x1000, "NODUMP"),
    (0x2000, "CONFALT"),
    (0x4000, "ENDFILTEE"),
    (0x8000, "DISPRELDNE"),
    (0x10000, "DISPRELPND"),
    (0x20000, "NODIRECT"),
    (0x40000, "IGNMULDEF"),
    (0x80000, "NOKSYMS"),
    (0x100000, "NOHDR"),
    (0x200000, "EDITED"),
    (0x400000, "NORELOC"),
    (0x800000, "SYMINTPOSE"),
    (0x1000000, "GLOBAUDIT"),
    (0x2000000, "SINGLETON"),
    (0x4000000, "STUB"),
    (0x8000000, "PIE"),
];

/// Architecture name for an ELF `e_machine`.
pub fn arch_name(machine: u16, is_64: bool, little: bool) -> String {
    use goblin::elf::header::*;
    match machine {
        EM_X86_64 => "x86_64",
        EM_386 => "i386",
        EM_AARCH64 => "aarch64",
        EM_ARM => "arm",
        EM_PPC64 if little => "ppc64le",
        EM_PPC64 => "ppc64",
        EM_PPC => "ppc",
        EM_RISCV if is_64 => "riscv64",
        EM_RISCV => "riscv32",
        EM_S390 => "s390x",
        EM_MIPS if is_64 && little => "mips64el",
        EM_MIPS if is_64 => "mips64",
        EM_MIPS if little => "mipsel",
        EM_MIPS => "mips",
        EM_SPARCV9 => "sparc64",
        EM_SPARC => "sparc",
        258 => "loongarch64",
        EM_IA_64 => "ia64",
        _ => return format!("elf-machine-{machine}"),
    }
    .to_string()
}

fn os_abi(b: u8) -> String {
    match b {
        0 => "SYSV",
        1 => "HPUX",
        2 => "NETBSD",
        3 => "GNU",
        6 => "SOLARIS",
        9 => "FREEBSD",
        12 => "OPENBSD",
        97 => "ARM",
        255 => "STANDALONE",
        _ => return format!("{b}"),
    }
    .to_string()
}

/// Check the header tables lie inside the file before handing the bytes to goblin, so a truncated file gets a
/// message with the exact offset.
fn precheck(path: &str, data: &[u8]) -> Result<(), InputError> {
    const EXP: &str = "an ELF file";
    let class = *data
        .get(4)
        .ok_or_else(|| truncated(path, "ELF identification", 16, data.len()))?;
    let is_64 = match class {
        1 => false,
        2 => true,
        c => {
            return Err(InputError::new(
                path,
                "ELF class 1 (32-bit) or 2 (64-bit)",
                format!("class {c}"),
            )
            .at(4))
        }
    };
    let little = match data.get(5) {
        Some(1) => true,
        Some(2) => false,
        Some(d) => {
            return Err(InputError::new(
                path,
                "ELF data encoding 1 (LSB) or 2 (MSB)",
                format!("{d}"),
            )
            .at(5))
        }
        None => return Err(truncated(path, "ELF identification", 16, data.len())),
    };
    let ehsize = if is_64 { 64 } else { 52 };
    if data.len() < ehsize {
        return Err(truncated(path, "ELF header", ehsize, data.len()));
    }
    let rd = |off: usize, n: usize| -> u64 {
        let b = &data[off..off + n];
        let mut v = 0u64;
        for i in 0..n {
            let byte = if little { b[n - 1 - i] } else { b[i] };
            v = (v << 8) | u64::from(byte);
        }
        v
    };
    let (phoff, shoff, phentsize, phnum, shentsize, shnum) = if is_64 {
        (
            rd(32, 8),
            rd(40, 8),
            rd(54, 2),
            rd(56, 2),
            rd(58, 2),
            rd(60, 2),
        )
    } else {
        (
            rd(28, 4),
            rd(32, 4),
            rd(42, 2),
            rd(44, 2),
            rd(46, 2),
            rd(48, 2),
        )
    };
    let len = data.len() as u64;
    let ph_end = phoff.saturating_add(phentsize.saturating_mul(phnum));
    if phnum > 0 && ph_end > len {
        return Err(InputError::new(
            path,
            format!(
                "{phnum} program headers of {phentsize} bytes at offset {phoff:#x} inside the file"
            ),
            format!("a file of only {len} bytes (truncated?)"),
        )
        .at(phoff.min(len)));
    }
    let sh_end = shoff.saturating_add(shentsize.saturating_mul(shnum));
    if shnum > 0 && shoff != 0 && sh_end > len {
        return Err(InputError::new(
            path,
            format!(
                "{shnum} section headers of {shentsize} bytes at offset {shoff:#x} inside the file"
            ),
            format!("a file of only {len} bytes (truncated?)"),
        )
        .at(shoff.min(len)));
    }
    let _ = EXP;
    Ok(())
}

fn truncated(path: &str, what: &str, need: usize, have: usize) -> InputError {
    InputError::new(
        path,
        format!("a complete {what} ({need} bytes)"),
        format!("a file of only {have} bytes"),
    )
    .at(have as u64)
}

/// Read one ELF image.
pub fn read<'d>(path: &str, data: &'d [u8], opts: ReadOptions) -> Result<Image<'d>, InputError> {
    read_with(path, data, opts, true)
}

/// Read one ELF image without its dynamic symbol table (`exports` and `imports` are empty): what a loader's
/// search needs (needed entries, soname, rpath/runpath, flags, class, machine, versions), at a fraction of the cost
/// for a library with tens of thousands of symbols.
pub fn read_dynamic<'d>(path: &str, data: &'d [u8]) -> Result<Image<'d>, InputError> {
    read_with(path, data, ReadOptions { demangle: false }, false)
}

fn read_with<'d>(
    path: &str,
    data: &'d [u8],
    opts: ReadOptions,
    symbols: bool,
) -> Result<Image<'d>, InputError> {
    precheck(path, data)?;
    let (elf, dyn_text) = match parse_lean(data) {
        Some(lean) => lean,
        None => Elf::parse(data).map(|elf| (elf, None)),
    }
    .map_err(|e| goblin_error(path, "a well-formed ELF file", e, 0))?;
    // `.dynstr` as text: checked as a whole by `parse_lean`, else (goblin has checked every string of it) here.
    let dyn_text = dyn_text.or_else(|| {
        let d = elf.dynamic.as_ref()?;
        let table = data.get(d.info.strtab..d.info.strtab.checked_add(d.info.strsz)?)?;
        std::str::from_utf8(table).ok()
    });
    let dyn_str = |off: usize| match dyn_text {
        Some(text) => strtab_at(text, off),
        None => elf.dynstrtab.get_at(off),
    };
    let hdr = &elf.header;
    let is_64 = elf.is_64;
    let little = elf.little_endian;
    let bits = if is_64 { 64 } else { 32 };

    let mut flags = 0u64;
    let mut flags_1 = 0u64;
    let mut dt_textrel = false;
    if let Some(dynamic) = &elf.dynamic {
        for d in &dynamic.dyns {
            match d.d_tag {
                dynamic::DT_FLAGS => flags |= d.d_val,
                dynamic::DT_FLAGS_1 => flags_1 |= d.d_val,
                dynamic::DT_TEXTREL => dt_textrel = true,
                _ => {}
            }
        }
    }
    let kind = match hdr.e_type {
        header::ET_EXEC => Kind::Executable,
        header::ET_REL => Kind::Object,
        header::ET_CORE => Kind::Core,
        header::ET_DYN if flags_1 & 0x8000000 != 0 => Kind::PieExecutable,
        header::ET_DYN if elf.interpreter.is_some() && elf.soname.is_none() => Kind::PieExecutable,
        header::ET_DYN => Kind::SharedLibrary,
        _ => Kind::Other,
    };

    // Version tables: index -> name for definitions; index -> (name, file) for requirements.
    let mut versions_defined = Vec::new();
    let mut def_names: Dense<&str> = Dense::default();
    if let Some(verdef) = &elf.verdef {
        for vd in verdef.iter() {
            let mut names = vd.iter().filter_map(|aux| dyn_str(aux.vda_name));
            let Some(name) = names.next() else { continue };
            def_names.insert(vd.vd_ndx, name);
            versions_defined.push(VersionDef {
                name: name.to_string(),
                index: vd.vd_ndx,
                base: vd.vd_flags & 1 != 0,
                parents: names.map(str::to_string).collect(),
            });
        }
    }
    let mut versions_required = Vec::new();
    let mut need_names: Dense<(&str, &str)> = Dense::default();
    if let Some(verneed) = &elf.verneed {
        for vn in verneed.iter() {
            let file = dyn_str(vn.vn_file).unwrap_or("");
            let mut versions = Vec::new();
            for aux in vn.iter() {
                if let Some(name) = dyn_str(aux.vna_name) {
                    need_names.insert(aux.vna_other & 0x7fff, (name, file));
                    versions.push(name.to_string());
                }
            }
            let highest = highest_versions(&versions);
            versions_required.push(VersionNeed {
                file: file.to_string(),
                versions,
                highest,
            });
        }
    }

    let bind_now = flags & 0x8 != 0 || flags_1 & 0x1 != 0;
    // Without symbols, neither the symbol table nor the PLT relocations are walked.
    // (At most 2^32 - 1, so the sort keys below fit in a `u32`: a table that size is a 100 GB file.)
    let nsyms = if symbols {
        elf.dynsyms.len().min(u32::MAX as usize)
    } else {
        0
    };
    let mut plt_syms = vec![false; nsyms];
    for r in elf
        .pltrelocs
        .iter()
        .take(if symbols { usize::MAX } else { 0 })
    {
        if let Some(slot) = plt_syms.get_mut(r.r_sym) {
            *slot = true;
        }
    }

    // The table is walked in ranges on every core (a large C++ library has tens of thousands of symbols); the
    // ranges' results are joined in table order.
    let walk = |range: std::ops::Range<usize>| {
        let mut pending: Vec<PendingExport<'_>> = Vec::with_capacity(range.len());
        let mut imports = Vec::new();
        for i in range {
            let Some(s) = elf.dynsyms.get(i) else {
                break;
            };
            if i == 0 || s.st_name == 0 {
                continue;
            }
            let bind = s.st_bind();
            if bind == sym::STB_LOCAL {
                continue;
            }
            let Some(name) = dyn_str(s.st_name) else {
                continue;
            };
            if name.is_empty() {
                continue;
            }
            let vs = elf
                .versym
                .as_ref()
                .and_then(|v| v.get_at(i))
                .map(|v| v.vs_val)
                .unwrap_or(1);
            let vidx = vs & 0x7fff;
            let hidden = vs & 0x8000 != 0;
            let binding = match bind {
                sym::STB_WEAK => Binding::Weak,
                sym::STB_GNU_UNIQUE => Binding::Unique,
                _ => Binding::Global,
            };
            if s.st_shndx == section_header::SHN_UNDEF as usize {
                let (c_name, mangling, _) = name_facts(name, Format::Elf, bits);
                let kind = symbol_kind(&s);
                let version =
                    (vidx >= 2)
                        .then(|| need_names.get(&vidx))
                        .flatten()
                        .map(|&(v, f)| SymbolVersion {
                            name: Cow::Borrowed(v),
                            default: !hidden,
                            file: Some(Cow::Borrowed(f)),
                        });
                let source = match &version {
                    Some(v) => ImportSource::Library {
                        library: v.file.as_deref().unwrap_or_default().to_string(),
                    },
                    None => ImportSource::GlobalScope,
                };
                imports.push(Import {
                    name: Some(Cow::Borrowed(name)),
                    c_name: Some(c_name),
                    mangling,
                    demangled: None,
                    ordinal: None,
                    hint: None,
                    source,
                    kind,
                    version,
                    weak: binding == Binding::Weak,
                    lazy: Some(!bind_now && plt_syms.get(i).copied().unwrap_or(false)),
                    delay_load: false,
                });
                continue;
            }
            // Hidden and internal symbols are not visible to the dynamic loader.
            let visibility = s.st_other & 0x3;
            if visibility == sym::STV_HIDDEN || visibility == sym::STV_INTERNAL {
                continue;
            }
            pending.push(PendingExport {
                name,
                version: (vidx >= 2).then(|| def_names.get(&vidx)).flatten().copied(),
                address: s.st_value,
                size: s.st_size,
                index: i as u32,
                hidden,
                binding,
                kind: symbol_kind(&s),
                resolver: s.st_type() == sym::STT_GNU_IFUNC,
            });
        }
        (pending, imports)
    };
    /// Symbols per range: a power of two, so a range's number and an index in it make one sort key.
    const RANGE_BITS: u32 = 13;
    const RANGE: usize = 1 << RANGE_BITS;
    let range = |k: usize| k * RANGE..nsyms.min((k + 1) * RANGE);
    let mut parts: Vec<_> = if nsyms >= super::PARALLEL_FROM {
        use rayon::iter::{IntoParallelIterator, ParallelIterator};
        (0..nsyms.div_ceil(RANGE))
            .into_par_iter()
            .map(|k| walk(range(k)))
            .collect()
    } else {
        (0..nsyms.div_ceil(RANGE)).map(|k| walk(range(k))).collect()
    };
    let mut exports = Vec::new();
    let imports: Vec<Import<'_>> = parts.iter_mut().flat_map(|p| p.1.drain(..)).collect();
    // Pending exports stay in their ranges (not copied into one vector); a key's index is (range, position).
    let pending = |k: u32| &parts[(k >> RANGE_BITS) as usize].0[(k as usize) & (RANGE - 1)];
    // Built in their final order (`sort_symbols`' order: name, version, address; ties in table order), so the
    // records are never moved by the sort: compact (name, index) keys are sorted instead.
    let mut keys: Vec<(&[u8], u32)> = Vec::with_capacity(parts.iter().map(|p| p.0.len()).sum());
    for (r, part) in (0u32..).zip(&parts) {
        keys.extend(
            part.0
                .iter()
                .zip(0u32..)
                .map(|(p, i)| (p.name.as_bytes(), (r << RANGE_BITS) | i)),
        );
    }
    {
        use rayon::slice::ParallelSliceMut;
        fn ver<'a>(p: &PendingExport<'a>) -> (&'a str, bool) {
            p.version.map_or(("", false), |v| (v, p.hidden))
        }
        let order = |&(an, a): &(&[u8], u32), &(bn, b): &(&[u8], u32)| {
            an.cmp(bn).then_with(|| {
                let (a, b) = (pending(a), pending(b));
                ver(a)
                    .cmp(&ver(b))
                    .then(a.address.cmp(&b.address))
                    .then(a.index.cmp(&b.index))
            })
        };
        if keys.len() >= super::PARALLEL_FROM {
            keys.par_sort_unstable_by(order);
        } else {
            keys.sort_unstable_by(order);
        }
    }
    // The records (tens of thousands of ~200 bytes on a large C++ library) are built on every core, each straight
    // into its place.
    {
        use rayon::iter::{IndexedParallelIterator, IntoParallelRefIterator, ParallelIterator};
        let make = |&(_, k): &(&[u8], u32)| {
            let p = pending(k);
            let (c_name, mangling, conv) = name_facts(p.name, Format::Elf, bits);
            Export {
                name: Cow::Borrowed(p.name),
                c_name,
                mangling,
                demangled: None,
                calling_convention: conv,
                kind: p.kind,
                address: p.address,
                size: Some(p.size),
                binding: p.binding,
                version: p.version.map(|v| SymbolVersion {
                    name: Cow::Borrowed(v),
                    default: !p.hidden,
                    file: None,
                }),
                ordinal: None,
                forwarder: None,
                weak_definition: false,
                resolver: p.resolver,
            }
        };
        if keys.len() >= super::PARALLEL_FROM {
            keys.par_iter()
                .with_min_len(4096)
                .map(make)
                .collect_into_vec(&mut exports);
        } else {
            exports = keys.iter().map(make).collect();
        }
    }

    let mut dwarf_sections = Vec::new();
    let mut has_symtab = false;
    let mut debuglink = None;
    for sh in &elf.section_headers {
        if sh.sh_type == section_header::SHT_SYMTAB {
            has_symtab = true;
        }
        let Some(name) = elf.shdr_strtab.get_at(sh.sh_name) else {
            continue;
        };
        if name.starts_with(".debug_") || name.starts_with(".zdebug_") {
            dwarf_sections.push(name.to_string());
        }
        if name == ".gnu_debuglink" && sh.sh_type != section_header::SHT_NOBITS {
            let start = sh.sh_offset as usize;
            let end = start.saturating_add(sh.sh_size as usize);
            if let Some(bytes) = data.get(start..end) {
                debuglink = parse_debuglink(bytes, little);
            }
        }
    }

    let build_id = build_id(&elf, data);

    let needed = elf
        .libraries
        .iter()
        .map(|n| Needed {
            name: n.to_string(),
            kind: NeededKind::Needed,
            current_version: None,
            compatibility_version: None,
        })
        .collect();

    let mut img = Image {
        format: Format::Elf,
        arch: arch_name(hdr.e_machine, is_64, little),
        bits,
        endian: if little { Endian::Little } else { Endian::Big },
        kind,
        file_offset: 0,
        identity: elf.soname.map(|s| super::Identity {
            name: s.to_string(),
            current_version: None,
            compatibility_version: None,
        }),
        needed,
        rpath: split_paths(&elf.rpaths),
        runpath: split_paths(&elf.runpaths),
        exports,
        imports,
        elf: Some(ElfInfo {
            machine: hdr.e_machine,
            os_abi: os_abi(hdr.e_ident[header::EI_OSABI]),
            interpreter: elf.interpreter.map(str::to_string),
            flags: flag_names(flags, DT_FLAGS_NAMES),
            flags_1: flag_names(flags_1, DT_FLAGS_1_NAMES),
            versions_defined,
            versions_required,
            build_id,
            debuglink,
            dwarf_sections,
            has_symtab,
            gnu_stack: elf
                .program_headers
                .iter()
                .find(|ph| ph.p_type == goblin::elf::program_header::PT_GNU_STACK)
                .map(|ph| ph.p_flags),
            dt_textrel,
        }),
        macho: None,
        pe: None,
        data: super::ImageData(data),
    };
    super::finish_exports_sorted(&mut img, opts);
    Ok(img)
}

/// The string at `off` of a string table, as goblin's `Strtab::get_at` finds it in a parsed table: up to the next
/// NUL or the end of the table; at the very end, `""` only when the table does not end in a NUL; `None` beyond it
/// or inside a multi-byte character.
fn strtab_at(text: &str, off: usize) -> Option<&str> {
    let rest = text.get(off..)?;
    if rest.is_empty() {
        return (!text.is_empty() && !text.ends_with('\0')).then_some("");
    }
    Some(match find_nul(rest.as_bytes()) {
        Some(n) => &rest[..n],
        None => rest,
    })
}

/// The index of the first NUL byte (called once per symbol name; memchr's vectorised search).
fn find_nul(b: &[u8]) -> Option<usize> {
    memchr::memchr(0, b)
}

/// An export found in the dynamic symbol table, before it becomes an [`Export`]: what the record needs and the
/// sort compares, compact (tens of thousands of them are sorted and read once more).
struct PendingExport<'d> {
    name: &'d str,
    version: Option<&'d str>,
    address: u64,
    size: u64,
    /// Index in the symbol table (the last tie-breaker of the order).
    index: u32,
    hidden: bool,
    binding: Binding,
    kind: SymbolKind,
    resolver: bool,
}

/// A map from a small index (a symbol version index) to a value, as a vector: later inserts win.
struct Dense<T>(Vec<Option<T>>);

impl<T> Default for Dense<T> {
    fn default() -> Self {
        Dense(Vec::new())
    }
}

impl<T> Dense<T> {
    fn insert(&mut self, at: u16, v: T) {
        let at = usize::from(at);
        if self.0.len() <= at {
            self.0.resize_with(at + 1, || None);
        }
        self.0[at] = Some(v);
    }

    fn get(&self, at: &u16) -> Option<&T> {
        self.0.get(usize::from(*at))?.as_ref()
    }
}

/// `Elf::parse` without what no reader here uses and what costs the most on large libraries: goblin walks every
/// dynamic relocation (`.rela.dyn`, tens of megabytes in a large C++ library) to bound the symbol count, and parses
/// `.symtab`. The dynamic symbol count comes from the `SHT_DYNSYM` section, as `nm` and `llvm-nm` take it. `None`
/// when that section is absent (stripped section headers) or relocations use the MIPS64 layout: the full parse.
///
/// `.dynstr` is checked as one piece (NUL is ASCII, so the table is UTF-8 exactly when every string in it is) and
/// returned as text for [`strtab_at`], instead of goblin's parse, which lists every string of it; a table that
/// fails the check gets goblin's parse, and so its error.
fn parse_lean(bytes: &[u8]) -> Option<goblin::error::Result<(Elf<'_>, Option<&str>)>> {
    use goblin::elf::{program_header::ProgramHeader, reloc::RelocSection, symver};
    use goblin::elf::{section_header::SectionHeader, sym::Symtab};
    use goblin::strtab::Strtab;
    let header = Elf::parse_header(bytes).ok()?;
    if header.e_machine == header::EM_MIPS {
        return None;
    }
    let build = || -> goblin::error::Result<Option<(Elf<'_>, Option<&str>)>> {
        let mut dyn_text = None;
        let mut elf = Elf::lazy_parse(header)?;
        let container = if elf.is_64 {
            goblin::container::Container::Big
        } else {
            goblin::container::Container::Little
        };
        let endian = if elf.little_endian {
            scroll::Endian::Little
        } else {
            scroll::Endian::Big
        };
        let ctx = goblin::container::Ctx::new(container, endian);
        let shdrs =
            SectionHeader::parse(bytes, header.e_shoff as usize, header.e_shnum as usize, ctx)?;
        let Some(dynsym) = shdrs
            .iter()
            .find(|s| s.sh_type == section_header::SHT_DYNSYM)
        else {
            return Ok(None);
        };
        let entsize = if elf.is_64 { 24 } else { 16 };
        let count = (dynsym.sh_size / entsize) as usize;
        if dynsym.sh_offset.saturating_add(dynsym.sh_size) > bytes.len() as u64 {
            return Ok(None);
        }
        elf.program_headers =
            ProgramHeader::parse(bytes, header.e_phoff as usize, header.e_phnum as usize, ctx)?;
        for ph in &elf.program_headers {
            if ph.p_type == goblin::elf::program_header::PT_INTERP && ph.p_filesz != 0 {
                let count = (ph.p_filesz - 1) as usize;
                elf.interpreter = scroll::Pread::pread_with::<&str>(
                    bytes,
                    ph.p_offset as usize,
                    scroll::ctx::StrCtx::Length(count),
                )
                .ok();
            }
        }
        let shstrndx = header.e_shstrndx as usize;
        if let Some(sh) = shdrs.get(shstrndx) {
            sh.check_size(bytes.len())?;
            elf.shdr_strtab = Strtab::parse(bytes, sh.sh_offset as usize, sh.sh_size as usize, 0)?;
        }
        elf.dynamic = goblin::elf::dynamic::Dynamic::parse(bytes, &elf.program_headers, ctx)?;
        if let Some(dynamic) = &elf.dynamic {
            let info = &dynamic.info;
            let table = info
                .strtab
                .checked_add(info.strsz)
                .and_then(|end| bytes.get(info.strtab..end));
            let text = match table.map(std::str::from_utf8) {
                Some(Ok(text)) => {
                    elf.dynstrtab = Strtab::from_slice_unparsed(bytes, info.strtab, info.strsz, 0);
                    text
                }
                _ => {
                    elf.dynstrtab = Strtab::parse(bytes, info.strtab, info.strsz, 0)?;
                    // Not reached: a table goblin parses is UTF-8 throughout.
                    return Ok(None);
                }
            };
            dyn_text = Some(text);
            if info.soname != 0 {
                elf.soname = strtab_at(text, info.soname);
            }
            for d in &dynamic.dyns {
                if d.d_tag == dynamic::DT_NEEDED {
                    elf.libraries.extend(strtab_at(text, d.d_val as usize));
                } else if d.d_tag == dynamic::DT_RPATH {
                    elf.rpaths.extend(strtab_at(text, d.d_val as usize));
                } else if d.d_tag == dynamic::DT_RUNPATH {
                    elf.runpaths.extend(strtab_at(text, d.d_val as usize));
                }
            }
            let is_rela = info.pltrel == dynamic::DT_RELA;
            elf.pltrelocs = RelocSection::parse(bytes, info.jmprel, info.pltrelsz, is_rela, ctx)?;
            elf.dynsyms = Symtab::parse(bytes, info.symtab, count, ctx)?;
        }
        elf.versym = symver::VersymSection::parse(bytes, &shdrs, ctx)?;
        elf.verdef = symver::VerdefSection::parse(bytes, &shdrs, ctx)?;
        elf.verneed = symver::VerneedSection::parse(bytes, &shdrs, ctx)?;
        elf.section_headers = shdrs;
        Ok(Some((elf, dyn_text)))
    };
    build().transpose()
}

fn symbol_kind(s: &sym::Sym) -> SymbolKind {
    if s.st_shndx == section_header::SHN_ABS as usize {
        return SymbolKind::Absolute;
    }
    match s.st_type() {
        sym::STT_FUNC | sym::STT_GNU_IFUNC => SymbolKind::Function,
        sym::STT_OBJECT | sym::STT_COMMON => SymbolKind::Data,
        sym::STT_TLS => SymbolKind::Tls,
        _ => SymbolKind::Unknown,
    }
}

fn split_paths(entries: &[&str]) -> Vec<String> {
    entries
        .iter()
        .flat_map(|e| e.split(':'))
        .map(str::to_string)
        .collect()
}

fn flag_names(bits: u64, table: &[(u64, &str)]) -> Vec<String> {
    let mut out: Vec<String> = table
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n.to_string())
        .collect();
    let known: u64 = table.iter().map(|(b, _)| b).fold(0, |a, b| a | b);
    if bits & !known != 0 {
        out.push(format!("{:#x}", bits & !known));
    }
    out
}

fn build_id(elf: &Elf<'_>, data: &[u8]) -> Option<String> {
    let from = |it: note::NoteIterator<'_>| -> Option<String> {
        for n in it {
            let Ok(n) = n else { break };
            if n.n_type == note::NT_GNU_BUILD_ID && n.name == "GNU" {
                return Some(super::hex(n.desc));
            }
        }
        None
    };
    if let Some(it) = elf.iter_note_headers(data) {
        if let Some(id) = from(it) {
            return Some(id);
        }
    }
    elf.iter_note_sections(data, Some(".note.gnu.build-id"))
        .and_then(from)
}

fn parse_debuglink(bytes: &[u8], little: bool) -> Option<DebugLink> {
    let end = bytes.iter().position(|&b| b == 0)?;
    let file = std::str::from_utf8(&bytes[..end]).ok()?.to_string();
    let crc_off = (end + 1).div_ceil(4) * 4;
    let c = bytes.get(crc_off..crc_off + 4)?;
    let arr = [c[0], c[1], c[2], c[3]];
    let crc = if little {
        u32::from_le_bytes(arr)
    } else {
        u32::from_be_bytes(arr)
    };
    Some(DebugLink {
        file,
        crc32: format!("{crc:08x}"),
    })
}

/// The highest version required in each family (`GLIBC_2.34`, `GLIBCXX_3.4.29`), ignoring non-numeric ones such as
/// `GLIBC_PRIVATE`.
pub fn highest_versions(versions: &[String]) -> Vec<String> {
    let mut best: Vec<(&str, Vec<u64>, &str)> = Vec::new();
    for v in versions {
        let Some((family, nums)) = split_version(v) else {
            continue;
        };
        match best.iter_mut().find(|(f, _, _)| *f == family) {
            Some(entry) if nums > entry.1 => *entry = (family, nums, v),
            Some(_) => {}
            None => best.push((family, nums, v)),
        }
    }
    let mut out: Vec<String> = best.into_iter().map(|(_, _, v)| v.to_string()).collect();
    out.sort();
    out
}

/// `GLIBC_2.34` → (`GLIBC`, [2, 34]).
pub fn split_version(v: &str) -> Option<(&str, Vec<u64>)> {
    let us = v.rfind('_')?;
    let (family, num) = (&v[..us], &v[us + 1..]);
    let nums: Option<Vec<u64>> = num.split('.').map(|p| p.parse().ok()).collect();
    Some((family, nums?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_search() {
        for len in 0..40 {
            for at in 0..=len {
                let mut v = vec![0x80u8 | 1; len];
                if at < len {
                    v[at] = 0;
                    if at + 1 < len {
                        v[at + 1] = 0;
                    }
                }
                assert_eq!(find_nul(&v), (at < len).then_some(at), "{len} {at}");
            }
        }
        assert_eq!(find_nul(b"\x01\x00\x01\x01\x01\x01\x01\x01\x01"), Some(1));
        assert_eq!(find_nul(b"\x01\x01\x01\x01\x01\x01\x01\x00"), Some(7));
    }

    #[test]
    fn string_lookup_is_goblins() {
        let tables: [&str; 6] = ["", "\0", "\0abc\0\0d\0", "\0abc\0tail", "x", "\0é\0ab"];
        for t in tables {
            let parsed = goblin::strtab::Strtab::parse(t.as_bytes(), 0, t.len(), 0).unwrap();
            for off in 0..t.len() + 3 {
                assert_eq!(strtab_at(t, off), parsed.get_at(off), "{t:?} at {off}");
            }
        }
    }

    #[test]
    fn highest_per_family() {
        let v: Vec<String> = [
            "GLIBC_2.2.5",
            "GLIBC_2.34",
            "GLIBC_2.4",
            "GLIBC_PRIVATE",
            "GLIBCXX_3.4.9",
            "GLIBCXX_3.4.29",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(highest_versions(&v), vec!["GLIBCXX_3.4.29", "GLIBC_2.34"]);
    }
}
