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
            CommandVariant::DyldInfo(_) => exports_source = "LC_DYLD_INFO".into(),
            CommandVariant::DyldInfoOnly(_) => exports_source = "LC_DYLD_INFO_ONLY".into(),
            CommandVariant::DyldExportsTrie(_) => exports_source = "LC_DYLD_EXPORTS_TRIE".into(),
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
    let trie = m
        .exports()
        .map_err(|e| goblin_error(path, "a well-formed export trie", e, slice.offset))?;
    if exports_source != "symtab" {
        use goblin::mach::exports::ExportInfo;
        for e in trie {
            let (kind, address, forwarder, flags, resolver) = match e.info {
                ExportInfo::Regular { address, flags } => {
                    let addr = text_vmaddr.wrapping_add(address);
                    let kind = match flags & 0x3 {
                        1 => SymbolKind::Tls,
                        2 => SymbolKind::Absolute,
                        _ => kind_at(addr),
                    };
                    let addr = if flags & 0x3 == 2 { address } else { addr };
                    (kind, addr, None, flags, false)
                }
                ExportInfo::Reexport {
                    lib,
                    lib_symbol_name,
                    flags,
                } => {
                    let target = lib_symbol_name
                        .filter(|s| !s.is_empty())
                        .unwrap_or(e.name.as_str());
                    (
                        SymbolKind::Indirect,
                        0,
                        Some(format!("{lib}:{target}")),
                        flags,
                        false,
                    )
                }
                ExportInfo::Stub { flags, .. } => (SymbolKind::Function, 0, None, flags, true),
            };
            let weak_definition = flags & 0x4 != 0;
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
    let lazy: HashMap<&str, bool> = m
        .imports()
        .map(|v| v.into_iter().map(|i| (i.name, i.is_lazy)).collect())
        .unwrap_or_default();

    let mut imports = Vec::new();
    for sym in m.symbols() {
        let Ok((name, nl)) = sym else { break };
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
    };
    super::finish(&mut img, opts);
    Ok(img)
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
