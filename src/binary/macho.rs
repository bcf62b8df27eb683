//! Mach-O reading: universal (fat) headers, load commands (install name, dylibs by kind, LC_RPATH, platform and
//! minimum OS), the export trie as exports, and undefined nlist symbols with their two-level-namespace library.

use std::borrow::Cow;
use std::collections::HashMap;

use goblin::mach::load_command::CommandVariant;
use goblin::mach::MachO;

use super::{
    goblin_error, name_facts, Binding, Endian, Export, Format, Identity, Image, Import,
    ImportSource, Kind, MachoInfo, MachoPlatform, Needed, NeededKind, ReadOptions, Slice,
    SymbolKind,
};
use crate::error::InputError;

const MH_TWOLEVEL: u32 = 0x80;
const MH_PIE: u32 = 0x200000;

const HEADER_FLAGS: &[(u32, &str)] = &[
    (0x1, "NOUNDEFS"),
    (0x2, "INCRLINK"),
    (0x4, "DYLDLINK"),
    (0x8, "BINDATLOAD"),
    (0x10, "PREBOUND"),
    (0x20, "SPLIT_SEGS"),
    (0x40, "LAZY_INIT"),
    (0x80, "TWOLEVEL"),
    (0x100, "FORCE_FLAT"),
    (0x200, "NOMULTIDEFS"),
    (0x400, "NOFIXPREBINDING"),
    (0x800, "PREBINDABLE"),
    (0x1000, "ALLMODSBOUND"),
    (0x2000, "SUBSECTIONS_VIA_SYMBOLS"),
    (0x4000, "CANONICAL"),
    (0x8000, "WEAK_DEFINES"),
    (0x10000, "BINDS_TO_WEAK"),
    (0x20000, "ALLOW_STACK_EXECUTION"),
    (0x40000, "ROOT_SAFE"),
    (0x80000, "SETUID_SAFE"),
    (0x100000, "NO_REEXPORTED_DYLIBS"),
    (0x200000, "PIE"),
    (0x400000, "DEAD_STRIPPABLE_DYLIB"),
    (0x800000, "HAS_TLV_DESCRIPTORS"),
    (0x1000000, "NO_HEAP_EXECUTION"),
    (0x2000000, "APP_EXTENSION_SAFE"),
    (0x4000000, "NLIST_OUTOFSYNC_WITH_DYLDINFO"),
    (0x8000000, "SIM_SUPPORT"),
    (0x80000000, "DYLIB_IN_CACHE"),
];

/// Split a universal file into its slices, checking every slice lies inside the file.
pub fn fat_slices<'d>(path: &str, data: &'d [u8]) -> Result<Vec<Slice<'d>>, InputError> {
    let be32 = |off: usize| -> Option<u32> {
        data.get(off..off + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let be64 = |off: usize| -> Option<u64> {
        data.get(off..off + 8)
            .map(|b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
    };
    let fat64 = data.get(3) == Some(&0xbf);
    let n = be32(4).ok_or_else(|| {
        InputError::new(
            path,
            "a universal header (8 bytes)",
            format!("a file of {} bytes", data.len()),
        )
        .at(data.len() as u64)
    })? as usize;
    let entry = if fat64 { 32 } else { 20 };
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let at = 8 + i * entry;
        let short = || {
            InputError::new(
                path,
                format!("{n} universal architecture entries"),
                "a file that ends first (truncated?)",
            )
            .at(at as u64)
        };
        let cputype = be32(at).ok_or_else(short)?;
        let cpusubtype = be32(at + 4).ok_or_else(short)?;
        let (offset, size) = if fat64 {
            (
                be64(at + 8).ok_or_else(short)?,
                be64(at + 16).ok_or_else(short)?,
            )
        } else {
            (
                u64::from(be32(at + 8).ok_or_else(short)?),
                u64::from(be32(at + 12).ok_or_else(short)?),
            )
        };
        let end = offset
            .checked_add(size)
            .filter(|&e| e <= data.len() as u64)
            .ok_or_else(|| {
                InputError::new(
                    path,
                    format!("slice {i} ({size} bytes at offset {offset:#x}) inside the file"),
                    format!("a file of only {} bytes (truncated?)", data.len()),
                )
                .at(at as u64 + 8)
            })?;
        out.push(Slice {
            offset,
            data: &data[offset as usize..end as usize],
            fat_arch: Some(arch_name(cputype, cpusubtype)),
        });
    }
    Ok(out)
}

/// Apple's name for a CPU type (`x86_64`, `arm64`, `arm64e`, `i386`, …).
pub fn arch_name(cputype: u32, cpusubtype: u32) -> &'static str {
    goblin::mach::cputype::get_arch_name_from_types(cputype, cpusubtype & 0x00ff_ffff).unwrap_or(
        match cputype {
            0x0100_0007 => "x86_64",
            0x0100_000c => "arm64",
            7 => "i386",
            12 => "arm",
            0x0200_000c => "arm64_32",
            18 => "ppc",
            0x0100_0012 => "ppc64",
            _ => "unknown",
        },
    )
}

/// `xxxx.yy.zz` nibble-encoded version as `x.y.z`.
pub fn version3(v: u32) -> String {
    format!("{}.{}.{}", v >> 16, (v >> 8) & 0xff, v & 0xff)
}

/// OS version as otool prints it: `11.0`, `12.3.1`.
pub fn os_version(v: u32) -> String {
    if v & 0xff == 0 {
        format!("{}.{}", v >> 16, (v >> 8) & 0xff)
    } else {
        version3(v)
    }
}

fn platform_name(p: u32) -> String {
    match p {
        1 => "macos",
        2 => "ios",
        3 => "tvos",
        4 => "watchos",
        5 => "bridgeos",
        6 => "maccatalyst",
        7 => "iossimulator",
        8 => "tvossimulator",
        9 => "watchossimulator",
        10 => "driverkit",
        11 => "visionos",
        12 => "visionossimulator",
        _ => return format!("platform-{p}"),
    }
    .to_string()
}

struct SectionRange {
    start: u64,
    end: u64,
    kind: SymbolKind,
}

/// Read one Mach-O image (a whole thin file or one slice of a universal file).
/// The indices of the symbol table to walk for imports (and, with `with_defined`, for exports when there is no
/// export trie): `LC_DYSYMTAB`'s undefined range (plus its external defined range), when it has one that lies in
/// the table, else the whole table. A large C++ dylib has several times more local symbols than imports and
/// exports together (libarrow: 98,827 locals, 31,341 defined, 814 undefined).
fn symbol_range(m: &MachO<'_>, with_defined: bool) -> std::ops::Range<usize> {
    let mut nsyms = 0usize;
    let mut dysymtab = None;
    for lc in &m.load_commands {
        match &lc.command {
            CommandVariant::Symtab(c) => nsyms = c.nsyms as usize,
            CommandVariant::Dysymtab(d) => dysymtab = Some(*d),
            _ => {}
        }
    }
    let whole = 0..nsyms;
    let Some(d) = dysymtab else {
        return whole;
    };
    let (undef, n_undef) = (d.iundefsym as usize, d.nundefsym as usize);
    let end = undef.saturating_add(n_undef);
    let start = if with_defined {
        // The defined externals come right before the undefined ones in every table ld64 and lld write.
        if (d.iextdefsym as usize).saturating_add(d.nextdefsym as usize) != undef {
            return whole;
        }
        d.iextdefsym as usize
    } else {
        undef
    };
    if start > end || end > nsyms {
        return whole;
    }
    start..end
}

pub fn read<'d>(path: &str, slice: Slice<'d>, opts: ReadOptions) -> Result<Image<'d>, InputError> {
    let data = slice.data;
    if data.len() < 28 {
        return Err(InputError::new(
            path,
            "a complete Mach-O header (28 bytes)",
            format!("{} bytes", data.len()),
        )
        .at(slice.offset + data.len() as u64));
    }
    precheck(path, data, slice.offset)?;
    let m = MachO::parse(data, 0)
        .map_err(|e| goblin_error(path, "a well-formed Mach-O file", e, slice.offset))?;
    let h = &m.header;
    let bits = if m.is_64 { 64 } else { 32 };
    let two_level = h.flags & MH_TWOLEVEL != 0;
    let kind = match h.filetype {
        1 => Kind::Object,
        2 if h.flags & MH_PIE != 0 => Kind::PieExecutable,
        2 => Kind::Executable,
        4 => Kind::Core,
        6 | 9 => Kind::SharedLibrary,
        8 => Kind::Bundle,
        _ => Kind::Other,
    };
    let filetype = match h.filetype {
        1 => "MH_OBJECT",
        2 => "MH_EXECUTE",
        4 => "MH_CORE",
        5 => "MH_PRELOAD",
        6 => "MH_DYLIB",
        7 => "MH_DYLINKER",
        8 => "MH_BUNDLE",
        9 => "MH_DYLIB_STUB",
        10 => "MH_DSYM",
        11 => "MH_KEXT_BUNDLE",
        12 => "MH_FILESET",
        _ => "unknown",
    };

    let mut identity = None;
    let mut needed = Vec::new();
    let mut platforms = Vec::new();
    let mut uuid = None;
    let mut exports_source = "symtab".to_string();
    let mut chained_fixups = false;
    // The export trie and bind opcode streams (as goblin does: the last command that names them wins).
    let mut trie_range: Option<(u64, u64)> = None;
    let mut bind_ranges: Option<((u64, u64), (u64, u64))> = None;
    for lc in &m.load_commands {
        let dylib = |cmd: &goblin::mach::load_command::DylibCommand| -> (String, String, String) {
            let name = super::cstr_at(data, lc.offset + cmd.dylib.name as usize)
                .unwrap_or("")
                .to_string();
            (
                name,
                version3(cmd.dylib.current_version),
                version3(cmd.dylib.compatibility_version),
            )
        };
        let dep_kind = match &lc.command {
            CommandVariant::LoadDylib(_) => Some(NeededKind::Load),
            CommandVariant::LoadWeakDylib(_) => Some(NeededKind::Weak),
            CommandVariant::ReexportDylib(_) => Some(NeededKind::Reexport),
            CommandVariant::LoadUpwardDylib(_) => Some(NeededKind::Upward),
            CommandVariant::LazyLoadDylib(_) => Some(NeededKind::Lazy),
            _ => None,
        };
        match &lc.command {
            CommandVariant::LoadDylib(c)
            | CommandVariant::LoadWeakDylib(c)
            | CommandVariant::ReexportDylib(c)
            | CommandVariant::LoadUpwardDylib(c)
            | CommandVariant::LazyLoadDylib(c) => {
                let (name, cur, compat) = dylib(c);
                needed.push(Needed {
                    name,
                    kind: dep_kind.unwrap_or(NeededKind::Load),
                    current_version: Some(cur),
                    compatibility_version: Some(compat),
                });
            }
            CommandVariant::IdDylib(c) => {
                let (name, cur, compat) = dylib(c);
                identity = Some(Identity {
                    name,
                    current_version: Some(cur),
                    compatibility_version: Some(compat),
                });
            }
            CommandVariant::BuildVersion(c) => platforms.push(MachoPlatform {
                platform: platform_name(c.platform),
                minos: os_version(c.minos),
                sdk: os_version(c.sdk),
                source: "LC_BUILD_VERSION".into(),
            }),
            CommandVariant::VersionMinMacosx(c)
            | CommandVariant::VersionMinIphoneos(c)
            | CommandVariant::VersionMinTvos(c)
            | CommandVariant::VersionMinWatchos(c) => {
                let (platform, source) = match &lc.command {
                    CommandVariant::VersionMinMacosx(_) => ("macos", "LC_VERSION_MIN_MACOSX"),
                    CommandVariant::VersionMinIphoneos(_) => ("ios", "LC_VERSION_MIN_IPHONEOS"),
                    CommandVariant::VersionMinTvos(_) => ("tvos", "LC_VERSION_MIN_TVOS"),
                    _ => ("watchos", "LC_VERSION_MIN_WATCHOS"),
                };
                platforms.push(MachoPlatform {
                    platform: platform.into(),
                    minos: os_version(c.version),
                    sdk: os_version(c.sdk),
                    source: source.into(),
                });
            }
            CommandVariant::Uuid(c) => uuid = Some(format_uuid(&c.uuid)),
            CommandVariant::DyldInfo(c) | CommandVariant::DyldInfoOnly(c) => {
                exports_source = if matches!(lc.command, CommandVariant::DyldInfo(_)) {
                    "LC_DYLD_INFO".into()
                } else {
                    "LC_DYLD_INFO_ONLY".into()
                };
                trie_range = Some((c.export_off.into(), c.export_size.into()));
                bind_ranges = Some((
                    (c.bind_off.into(), c.bind_size.into()),
                    (c.lazy_bind_off.into(), c.lazy_bind_size.into()),
                ));
            }
            CommandVariant::DyldExportsTrie(c) => {
                exports_source = "LC_DYLD_EXPORTS_TRIE".into();
                trie_range = Some((c.dataoff.into(), c.datasize.into()));
            }
            CommandVariant::DyldChainedFixups(_) => chained_fixups = true,
            _ => {}
        }
    }

    // Sections: to tell functions from data, and to find DWARF.
    let mut sections = Vec::new();
    let mut dwarf_present = false;
    let mut text_vmaddr = 0u64;
    for seg in &m.segments {
        let segname = fixed_name(&seg.segname);
        if segname == "__TEXT" {
            text_vmaddr = seg.vmaddr;
        }
        if segname == "__DWARF" {
            dwarf_present = true;
        }
        for sect in seg {
            let Ok((s, _)) = sect else { break };
            let sname = fixed_name(&s.sectname);
            if sname.starts_with("__debug_") {
                dwarf_present = true;
            }
            let ty = s.flags & 0xff;
            let kind = if matches!(ty, 0x11..=0x13 | 0x15) {
                SymbolKind::Tls
            } else if s.flags & 0x8000_0400 != 0 {
                SymbolKind::Function
            } else {
                SymbolKind::Data
            };
            sections.push(SectionRange {
                start: s.addr,
                end: s.addr.saturating_add(s.size),
                kind,
            });
        }
    }
    sections.sort_by_key(|s| s.start);
    let kind_at = |addr: u64| -> SymbolKind {
        let i = sections.partition_point(|s| s.start <= addr);
        match i.checked_sub(1).and_then(|j| sections.get(j)) {
            Some(s) if addr < s.end || s.start == s.end => s.kind,
            _ => SymbolKind::Unknown,
        }
    };

    let mut exports = Vec::new();
    if let Some((trie_off, trie_size)) = trie_range {
        let libs: &[&str] = &m.libs;
        for e in walk_export_trie(path, data, trie_off, trie_size, libs, slice.offset)? {
            let (kind, address, forwarder, resolver) = match e.info {
                TrieInfo::Regular { address } => {
                    let addr = text_vmaddr.wrapping_add(address);
                    let kind = match e.flags & 0x3 {
                        1 => SymbolKind::Tls,
                        2 => SymbolKind::Absolute,
                        _ => kind_at(addr),
                    };
                    let addr = if e.flags & 0x3 == 2 { address } else { addr };
                    (kind, addr, None, false)
                }
                TrieInfo::Reexport { lib, symbol } => {
                    let target = symbol.filter(|s| !s.is_empty()).unwrap_or(e.name.as_str());
                    (
                        SymbolKind::Indirect,
                        0,
                        Some(format!("{lib}:{target}")),
                        false,
                    )
                }
                TrieInfo::Stub => (SymbolKind::Function, 0, None, true),
            };
            let weak_definition = e.flags & 0x4 != 0;
            let (c_name, mangling, _) = name_facts(&e.name, Format::Macho, bits);
            let c_name = Cow::Owned(c_name.into_owned());
            exports.push(Export {
                name: Cow::Owned(e.name),
                c_name,
                mangling,
                demangled: None,
                calling_convention: None,
                kind,
                address,
                size: None,
                binding: if weak_definition {
                    Binding::Weak
                } else {
                    Binding::Global
                },
                version: None,
                ordinal: None,
                forwarder,
                weak_definition,
                resolver,
            });
        }
    }

    // Lazy-ness from the bind opcodes when the file has them (not with chained fixups).
    let lazy: HashMap<&str, bool> = bind_ranges
        .map(|(bind, lazy_bind)| bind_laziness(data, bind, lazy_bind))
        .unwrap_or_default();

    let mut imports = Vec::new();
    let symbols = m.symbols.as_ref();
    let walked = symbol_range(&m, exports_source == "symtab");
    for i in walked {
        let Some(Ok((name, nl))) = symbols.map(|s| s.get(i)) else {
            break;
        };
        if nl.n_type & 0xe0 != 0 || nl.n_type & 0x1 == 0 {
            continue; // stab or not external
        }
        let ty = nl.n_type & 0x0e;
        if ty == 0x0 && nl.n_value == 0 {
            let ordinal = (nl.n_desc >> 8) as u8;
            let source = if !two_level {
                ImportSource::Flat
            } else {
                match ordinal {
                    0 => ImportSource::SelfImage,
                    0xfe => ImportSource::Flat,
                    0xff => ImportSource::Executable,
                    n => ImportSource::Library {
                        library: m
                            .libs
                            .get(n as usize)
                            .map(|s| s.to_string())
                            .unwrap_or_else(|| format!("<invalid library ordinal {n}>")),
                    },
                }
            };
            let (c_name, mangling, _) = name_facts(name, Format::Macho, bits);
            imports.push(Import {
                name: Some(Cow::Borrowed(name)),
                c_name: Some(c_name),
                mangling,
                demangled: None,
                ordinal: None,
                hint: None,
                source,
                kind: SymbolKind::Unknown,
                version: None,
                weak: nl.n_desc & 0x40 != 0,
                lazy: lazy.get(name).copied(),
                delay_load: false,
            });
        } else if exports_source == "symtab" && ty == 0xe && nl.n_type & 0x10 == 0 {
            // No export trie (old or object files): external defined nlist symbols are what dyld binds to.
            let (c_name, mangling, _) = name_facts(name, Format::Macho, bits);
            let weak = nl.n_desc & 0x80 != 0;
            exports.push(Export {
                name: Cow::Borrowed(name),
                c_name,
                mangling,
                demangled: None,
                calling_convention: None,
                kind: kind_at(nl.n_value),
                address: nl.n_value,
                size: None,
                binding: if weak { Binding::Weak } else { Binding::Global },
                version: None,
                ordinal: None,
                forwarder: None,
                weak_definition: weak,
                resolver: false,
            });
        }
    }

    let mut img = Image {
        format: Format::Macho,
        arch: arch_name(h.cputype, h.cpusubtype).to_string(),
        bits,
        endian: if m.little_endian {
            Endian::Little
        } else {
            Endian::Big
        },
        kind,
        file_offset: slice.offset,
        identity,
        needed,
        rpath: m.rpaths.iter().map(|s| s.to_string()).collect(),
        runpath: Vec::new(),
        exports,
        imports,
        elf: None,
        macho: Some(MachoInfo {
            cputype: h.cputype,
            cpusubtype: h.cpusubtype,
            filetype: filetype.into(),
            flags: HEADER_FLAGS
                .iter()
                .filter(|(b, _)| h.flags & b != 0)
                .map(|(_, n)| n.to_string())
                .collect(),
            two_level_namespace: two_level,
            platforms,
            uuid,
            exports_source,
            chained_fixups,
            dwarf_present,
        }),
        pe: None,
        data: super::ImageData(data),
    };
    super::finish(&mut img, opts);
    Ok(img)
}

/// What a terminal node of the export trie says.
enum TrieInfo<'d> {
    Regular {
        address: u64,
    },
    Reexport {
        lib: Cow<'d, str>,
        symbol: Option<&'d str>,
    },
    Stub,
}

struct TrieEntry<'d> {
    name: String,
    flags: u64,
    info: TrieInfo<'d>,
}

/// Read a ULEB128 at `*off`, not past `end`.
fn uleb(data: &[u8], off: &mut usize, end: usize) -> Option<u64> {
    let mut v = 0u64;
    let mut shift = 0u32;
    loop {
        if *off >= end {
            return None;
        }
        let b = *data.get(*off)?;
        *off += 1;
        if shift >= 64 || (shift == 63 && b & 0x7f > 1) {
            return None;
        }
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Some(v);
        }
        shift += 7;
    }
}

/// Walk the export trie (`off`/`size` from `LC_DYLD_INFO*` or `LC_DYLD_EXPORTS_TRIE`) without recursion. goblin's
/// walker recurses per node and follows child offsets blindly, so a corrupt trie whose child points back at an
/// ancestor overflows the stack, shared children blow up exponentially, and branch counts size allocations. Here
/// every node is visited at most once, every offset and count is checked against the trie, and the names it
/// spells out are bounded by a multiple of the file size.
fn walk_export_trie<'d>(
    path: &str,
    data: &'d [u8],
    off: u64,
    size: u64,
    libs: &[&'d str],
    base: u64,
) -> Result<Vec<TrieEntry<'d>>, InputError> {
    const EXP: &str = "a well-formed export trie";
    if size == 0 {
        return Ok(Vec::new());
    }
    let start = usize::try_from(off).unwrap_or(usize::MAX);
    let end = off
        .checked_add(size)
        .filter(|&e| e <= data.len() as u64)
        .ok_or_else(|| {
            InputError::new(
                path,
                format!("an export trie ({size} bytes at offset {off:#x}) inside the image"),
                format!("an image of only {} bytes (truncated?)", data.len()),
            )
            .at(base + off.min(data.len() as u64))
        })? as usize;
    let bad = |at: usize, found: &str| InputError::new(path, EXP, found).at(base + at as u64);
    let name_budget = data.len().saturating_mul(16).max(16 << 20);
    let mut name_bytes = 0usize;
    let mut visited = vec![0u64; (end - start).div_ceil(64)];
    let mut out = Vec::new();
    // (node offset, symbol prefix); children are pushed in reverse so entries come out in trie order.
    let mut stack: Vec<(usize, String)> = vec![(start, String::new())];
    while let Some((node, name)) = stack.pop() {
        let rel = node - start;
        if visited[rel / 64] & (1 << (rel % 64)) != 0 {
            return Err(bad(node, "a node reached twice (a cycle or shared child)"));
        }
        visited[rel / 64] |= 1 << (rel % 64);
        let mut p = node;
        let terminal = uleb(data, &mut p, end).ok_or_else(|| bad(node, "a truncated node"))?;
        let children_at = if terminal == 0 {
            p
        } else {
            let info_end = usize::try_from(terminal)
                .ok()
                .and_then(|t| p.checked_add(t))
                .filter(|&e| e <= end)
                .ok_or_else(|| bad(node, "terminal information running past the trie"))?;
            let flags =
                uleb(data, &mut p, info_end).ok_or_else(|| bad(p, "truncated export flags"))?;
            let info = match flags & 0x3 {
                0..=2 if flags & 0x8 != 0 => {
                    let ordinal = uleb(data, &mut p, info_end)
                        .ok_or_else(|| bad(p, "a truncated re-export ordinal"))?;
                    let symbol = super::cstr_at(&data[..info_end], p)
                        .ok_or_else(|| bad(p, "an unterminated re-export name"))?;
                    let lib = match usize::try_from(ordinal).ok().and_then(|o| libs.get(o)) {
                        Some(l) => Cow::Borrowed(*l),
                        None => Cow::Owned(format!("<invalid library ordinal {ordinal}>")),
                    };
                    TrieInfo::Reexport {
                        lib,
                        symbol: (!symbol.is_empty()).then_some(symbol),
                    }
                }
                0 if flags & 0x10 != 0 => {
                    for what in ["stub offset", "resolver offset"] {
                        uleb(data, &mut p, info_end)
                            .ok_or_else(|| bad(p, &format!("a truncated {what}")))?;
                    }
                    TrieInfo::Stub
                }
                _ => TrieInfo::Regular {
                    address: uleb(data, &mut p, info_end)
                        .ok_or_else(|| bad(p, "a truncated export address"))?,
                },
            };
            out.push(TrieEntry {
                name: name.clone(),
                flags,
                info,
            });
            info_end
        };
        let mut p = children_at;
        let n =
            uleb(data, &mut p, end).ok_or_else(|| bad(children_at, "a truncated child count"))?;
        // Each child takes at least two bytes (an empty edge label's NUL and a one-byte offset).
        if n > ((end - p) / 2) as u64 {
            return Err(bad(
                children_at,
                &format!("{n} children in a trie of {} bytes", end - start),
            ));
        }
        let first_child = stack.len();
        for _ in 0..n {
            let edge = super::cstr_at(&data[..end], p)
                .ok_or_else(|| bad(p, "an unterminated edge label"))?;
            p += edge.len() + 1;
            let at = p;
            let child = uleb(data, &mut p, end)
                .and_then(|c| usize::try_from(c).ok())
                .and_then(|c| start.checked_add(c))
                .filter(|&c| c < end)
                .ok_or_else(|| bad(at, "a child offset outside the trie"))?;
            name_bytes = name_bytes.saturating_add(name.len() + edge.len());
            if name_bytes > name_budget {
                return Err(bad(
                    at,
                    "a trie spelling out more symbol-name bytes than the file could hold",
                ));
            }
            let mut child_name = String::with_capacity(name.len() + edge.len());
            child_name.push_str(&name);
            child_name.push_str(edge);
            stack.push((child, child_name));
        }
        stack[first_child..].reverse();
    }
    Ok(out)
}

/// Which symbols the bind (`false`) and lazy-bind (`true`) opcode streams bind; a name in both counts as lazy, as
/// goblin's import list did. Only the opcodes' operands are decoded: no per-bind records are materialised, so a
/// corrupt `BIND_OPCODE_DO_BIND_ULEB_TIMES_SKIPPING_ULEB` count costs nothing. A malformed stream yields no
/// lazy-ness information rather than an error (it is an annotation, not a symbol list).
fn bind_laziness(data: &[u8], bind: (u64, u64), lazy_bind: (u64, u64)) -> HashMap<&str, bool> {
    let mut out = HashMap::new();
    for ((off, size), is_lazy) in [(bind, false), (lazy_bind, true)] {
        let start = usize::try_from(off).unwrap_or(usize::MAX);
        let end = usize::try_from(off.saturating_add(size))
            .unwrap_or(usize::MAX)
            .min(data.len());
        if scan_binds(data, start, end, is_lazy, &mut out).is_none() {
            return HashMap::new();
        }
    }
    out
}

fn scan_binds<'d>(
    data: &'d [u8],
    start: usize,
    end: usize,
    is_lazy: bool,
    out: &mut HashMap<&'d str, bool>,
) -> Option<()> {
    let mut p = start;
    let mut name = "";
    while p < end {
        let op = data[p];
        p += 1;
        match op & 0xf0 {
            0x00 => name = "", // DONE
            // dylib ordinal, segment and offset, add address: ULEB128 operands
            0x20 | 0x70 | 0x80 => {
                uleb(data, &mut p, end)?;
            }
            0x60 => {
                // SET_ADDEND_SLEB: skip the SLEB128
                let len = data
                    .get(p..end)?
                    .iter()
                    .take(10)
                    .position(|b| b & 0x80 == 0)?;
                p += len + 1;
            }
            0x40 => {
                // SET_SYMBOL_TRAILING_FLAGS_IMM
                name = super::cstr_at(&data[..end], p)?;
                p += name.len() + 1;
            }
            0x90 | 0xb0 => {
                out.insert(name, is_lazy);
            }
            0xa0 => {
                out.insert(name, is_lazy);
                uleb(data, &mut p, end)?;
            }
            0xc0 => {
                let count = uleb(data, &mut p, end)?;
                uleb(data, &mut p, end)?;
                if count > 0 {
                    out.insert(name, is_lazy);
                }
            }
            _ => {}
        }
    }
    Some(())
}

/// Check the load commands fit in the file before goblin reads them, for a message with the exact offset.
fn precheck(path: &str, data: &[u8], base: u64) -> Result<(), InputError> {
    let little = matches!(data[0], 0xce | 0xcf);
    let rd = |off: usize| -> u32 {
        let b = [data[off], data[off + 1], data[off + 2], data[off + 3]];
        if little {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        }
    };
    let header = if data[0] == 0xcf || data[3] == 0xcf {
        32u64
    } else {
        28
    };
    let (ncmds, sizeofcmds) = (u64::from(rd(16)), u64::from(rd(20)));
    let len = data.len() as u64;
    if header + sizeofcmds > len {
        return Err(InputError::new(
            path,
            format!("{sizeofcmds} bytes of load commands after the {header}-byte header"),
            format!("an image of only {len} bytes (truncated?)"),
        )
        .at(base + header));
    }
    if ncmds.saturating_mul(8) > sizeofcmds {
        return Err(InputError::new(
            path,
            format!("{ncmds} load commands (at least 8 bytes each) in sizeofcmds = {sizeofcmds}"),
            "a header whose counts disagree (corrupt?)",
        )
        .at(base + 16));
    }
    Ok(())
}

fn fixed_name(b: &[u8; 16]) -> &str {
    let end = b.iter().position(|&c| c == 0).unwrap_or(16);
    std::str::from_utf8(&b[..end]).unwrap_or("")
}

fn format_uuid(u: &[u8; 16]) -> String {
    let h = super::hex(u).to_uppercase();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn export_trie_cycle_is_an_error_not_a_stack_overflow() {
        // Root: not terminal, one child "a" at trie offset 0, i.e. the root itself.
        let trie = [0x00, 0x01, b'a', 0x00, 0x00];
        let e = walk_export_trie("t", &trie, 0, trie.len() as u64, &["self"], 0)
            .err()
            .expect("a cycle is rejected");
        assert_eq!(e.offset, Some(0));
        assert!(e.found.contains("twice"), "{e}");
    }

    #[test]
    fn export_trie_reads_terminal_and_reexport_nodes() {
        // Root with children "_f" (regular, address 0x10) and "_r" (re-export of `_g` from ordinal 1).
        let trie = [
            0x00, 0x02, b'_', b'f', 0x00, 0x0c, b'_', b'r', 0x00, 0x10, // root @0
            0x00, 0x00, // padding
            0x02, 0x00, 0x10,
            0x00, // @0x0c: terminal size 2, flags 0, address 0x10, no children
            0x05, 0x08, 0x01, b'_', b'g', 0x00, 0x00, // @0x10: re-export
        ];
        let libs = ["self", "/usr/lib/libfoo.dylib"];
        let out = walk_export_trie("t", &trie, 0, trie.len() as u64, &libs, 0).expect("valid");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].name, "_f");
        assert!(matches!(out[0].info, TrieInfo::Regular { address: 0x10 }));
        assert_eq!(out[1].name, "_r");
        match &out[1].info {
            TrieInfo::Reexport { lib, symbol } => {
                assert_eq!(lib, "/usr/lib/libfoo.dylib");
                assert_eq!(*symbol, Some("_g"));
            }
            _ => panic!("expected a re-export"),
        }
    }

    #[test]
    fn export_trie_outside_the_image_is_an_error() {
        let e = walk_export_trie("t", &[0u8; 16], 8, 0x1000, &["self"], 0x4000)
            .err()
            .expect("rejected");
        assert_eq!(e.offset, Some(0x4008));
    }

    #[test]
    fn huge_bind_repeat_count_costs_nothing() {
        // SET_SYMBOL "_x"; DO_BIND_ULEB_TIMES_SKIPPING_ULEB count=2^63, skip=0; DONE.
        let mut s = vec![0x40, b'_', b'x', 0x00, 0xc0];
        s.extend([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
        s.extend([0x00, 0x00]);
        let m = bind_laziness(&s, (0, s.len() as u64), (0, 0));
        assert_eq!(m.get("_x"), Some(&false));
    }
}
