//! PE/COFF reading: header facts, sections, the CodeView PDB reference and DWARF section names with the `object`
//! crate; the export directory (ordinals, forwarders) and the import and delay-load import directories with
//! [`super::pe_tables`], which maps every RVA through the section table as the Windows loader does.

use std::borrow::Cow;

use object::pe;
use object::read::pe::{ImageNtHeaders, ImageOptionalHeader, PeFile};
use object::{LittleEndian as LE, Object, ObjectSection};

use super::pe_tables::{self, Entry, ExportAddress, ImportKind};

use super::{
    name_facts, Binding, Endian, Export, Format, Identity, Image, Import, ImportSource, Kind,
    Needed, NeededKind, PdbInfo, PeInfo, ReadOptions, SymbolKind,
};
use crate::error::InputError;

const DLL_CHARACTERISTICS: &[(u16, &str)] = &[
    (0x20, "HIGH_ENTROPY_VA"),
    (0x40, "DYNAMIC_BASE"),
    (0x80, "FORCE_INTEGRITY"),
    (0x100, "NX_COMPAT"),
    (0x200, "NO_ISOLATION"),
    (0x400, "NO_SEH"),
    (0x800, "NO_BIND"),
    (0x1000, "APPCONTAINER"),
    (0x2000, "WDM_DRIVER"),
    (0x4000, "GUARD_CF"),
    (0x8000, "TERMINAL_SERVER_AWARE"),
];

const CHARACTERISTICS: &[(u16, &str)] = &[
    (0x1, "RELOCS_STRIPPED"),
    (0x2, "EXECUTABLE_IMAGE"),
    (0x4, "LINE_NUMS_STRIPPED"),
    (0x8, "LOCAL_SYMS_STRIPPED"),
    (0x10, "AGGRESSIVE_WS_TRIM"),
    (0x20, "LARGE_ADDRESS_AWARE"),
    (0x80, "BYTES_REVERSED_LO"),
    (0x100, "32BIT_MACHINE"),
    (0x200, "DEBUG_STRIPPED"),
    (0x400, "REMOVABLE_RUN_FROM_SWAP"),
    (0x800, "NET_RUN_FROM_SWAP"),
    (0x1000, "SYSTEM"),
    (0x2000, "DLL"),
    (0x4000, "UP_SYSTEM_ONLY"),
    (0x8000, "BYTES_REVERSED_HI"),
];

/// Architecture name and machine name for a COFF machine value.
pub fn machine_names(m: pe::Machine) -> (&'static str, &'static str) {
    match m {
        pe::IMAGE_FILE_MACHINE_I386 => ("i386", "IMAGE_FILE_MACHINE_I386"),
        pe::IMAGE_FILE_MACHINE_AMD64 => ("x86_64", "IMAGE_FILE_MACHINE_AMD64"),
        pe::IMAGE_FILE_MACHINE_ARM64 => ("arm64", "IMAGE_FILE_MACHINE_ARM64"),
        pe::IMAGE_FILE_MACHINE_ARM64EC => ("arm64ec", "IMAGE_FILE_MACHINE_ARM64EC"),
        pe::IMAGE_FILE_MACHINE_ARMNT => ("arm", "IMAGE_FILE_MACHINE_ARMNT"),
        pe::IMAGE_FILE_MACHINE_ARM => ("arm", "IMAGE_FILE_MACHINE_ARM"),
        pe::IMAGE_FILE_MACHINE_IA64 => ("ia64", "IMAGE_FILE_MACHINE_IA64"),
        pe::IMAGE_FILE_MACHINE_RISCV64 => ("riscv64", "IMAGE_FILE_MACHINE_RISCV64"),
        _ => ("unknown", "unknown"),
    }
}

fn subsystem_name(s: u16) -> String {
    match s {
        1 => "NATIVE",
        2 => "WINDOWS_GUI",
        3 => "WINDOWS_CUI",
        5 => "OS2_CUI",
        7 => "POSIX_CUI",
        9 => "WINDOWS_CE_GUI",
        10 => "EFI_APPLICATION",
        11 => "EFI_BOOT_SERVICE_DRIVER",
        12 => "EFI_RUNTIME_DRIVER",
        13 => "EFI_ROM",
        14 => "XBOX",
        16 => "WINDOWS_BOOT_APPLICATION",
        _ => return format!("{s}"),
    }
    .to_string()
}

/// Read one PE image.
pub fn read<'d>(path: &str, data: &'d [u8], opts: ReadOptions) -> Result<Image<'d>, InputError> {
    let lfanew = data
        .get(0x3c..0x40)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| {
            InputError::new(
                path,
                "a complete MS-DOS header (64 bytes)",
                format!("{} bytes", data.len()),
            )
            .at(data.len() as u64)
        })?;
    match data.get(lfanew..lfanew + 4) {
        Some(b"PE\0\0") => {}
        Some(_) => {
            return Err(InputError::new(
                path,
                "the PE signature \"PE\\0\\0\"",
                "other bytes (an MS-DOS program?)",
            )
            .at(lfanew as u64))
        }
        None => {
            return Err(InputError::new(
                path,
                format!("the PE signature at offset {lfanew:#x} (from e_lfanew)"),
                format!("a file of only {} bytes (truncated?)", data.len()),
            )
            .at(0x3c))
        }
    }
    let magic = data
        .get(lfanew + 24..lfanew + 26)
        .map(|b| u16::from_le_bytes([b[0], b[1]]));
    match magic {
        Some(pe::IMAGE_NT_OPTIONAL_HDR64_MAGIC) => {
            read_as::<pe::ImageNtHeaders64>(path, data, lfanew, opts)
        }
        Some(pe::IMAGE_NT_OPTIONAL_HDR32_MAGIC) => {
            read_as::<pe::ImageNtHeaders32>(path, data, lfanew, opts)
        }
        Some(m) => Err(InputError::new(
            path,
            "optional header magic 0x10b (PE32) or 0x20b (PE32+)",
            format!("{m:#x}"),
        )
        .at(lfanew as u64 + 24)),
        None => Err(InputError::new(
            path,
            "a complete PE header",
            "a file that ends first (truncated?)",
        )
        .at(data.len() as u64)),
    }
}

fn obj_err(path: &str, what: &str, e: object::Error, at: usize) -> InputError {
    InputError::new(path, format!("a well-formed {what}"), e.to_string()).at(at as u64)
}

fn read_as<'d, H: ImageNtHeaders>(
    path: &str,
    data: &'d [u8],
    lfanew: usize,
    opts: ReadOptions,
) -> Result<Image<'d>, InputError> {
    let file =
        PeFile::<H, &'d [u8]>::parse(data).map_err(|e| obj_err(path, "PE file", e, lfanew))?;
    let nt = file.nt_headers();
    let fh = nt.file_header();
    let oh = nt.optional_header();
    let machine = fh.machine.get(LE);
    let characteristics = fh.characteristics.get(LE).0;
    let (arch, machine_name) = machine_names(machine);
    let machine = machine.0;
    let bits = if file.is_64() { 64 } else { 32 };
    let sections = file.section_table();

    let exec_at = |rva: u32| -> bool {
        sections.iter().any(|s| {
            let va = s.virtual_address.get(LE);
            let size = s.virtual_size.get(LE).max(s.size_of_raw_data.get(LE));
            rva >= va
                && rva < va.saturating_add(size)
                && s.characteristics.get(LE).0 & 0x2000_0020 != 0
        })
    };

    let map = pe_tables::RvaMap::new(
        data,
        sections.iter().map(|s| {
            (
                s.virtual_address.get(LE),
                s.virtual_size.get(LE),
                s.size_of_raw_data.get(LE),
                s.pointer_to_raw_data.get(LE),
            )
        }),
    );
    // The data directories follow the optional header's fixed part (96 bytes in PE32, 112 in PE32+).
    let dir_entry = |index: usize| lfanew + 24 + if file.is_64() { 112 } else { 96 } + 8 * index;
    let table_err = |e: pe_tables::TableError| {
        InputError::new(path, format!("a well-formed {}", e.expected), e.found).at(e.at)
    };

    let mut identity = None;
    let mut exports = Vec::new();
    if let Some(dir) = file.data_directory(pe::IMAGE_DIRECTORY_ENTRY_EXPORT) {
        let table = pe_tables::exports(
            &map,
            dir.virtual_address.get(LE),
            dir.size.get(LE),
            dir_entry(pe::IMAGE_DIRECTORY_ENTRY_EXPORT),
        )
        .map_err(table_err)?;
        identity = table
            .dll_name
            .and_then(|n| std::str::from_utf8(n).ok())
            .map(|name| Identity {
                name: name.to_string(),
                current_version: None,
                compatibility_version: None,
            });
        exports.reserve(table.entries.len());
        for e in table.entries {
            // An export-address-table slot of RVA 0 with no name is an unused ordinal (lld leaves ordinals below
            // the lowest used one empty when the base is 0): the loader refuses it, dumpbin does not list it.
            if e.name.is_none() && matches!(e.target, ExportAddress::Address(0)) {
                continue;
            }
            let (kind, address, forwarder) = match e.target {
                ExportAddress::Address(rva) => {
                    let kind = if exec_at(rva) {
                        SymbolKind::Function
                    } else {
                        SymbolKind::Data
                    };
                    (kind, u64::from(rva), None)
                }
                ExportAddress::ForwardByName(dll, name) => (
                    SymbolKind::Indirect,
                    0,
                    Some(format!(
                        "{}.{}",
                        String::from_utf8_lossy(dll),
                        String::from_utf8_lossy(name)
                    )),
                ),
                ExportAddress::ForwardByOrdinal(dll, ord) => (
                    SymbolKind::Indirect,
                    0,
                    Some(format!("{}.#{}", String::from_utf8_lossy(dll), ord)),
                ),
            };
            let name: Cow<'d, str> = match e.name {
                Some(n) => String::from_utf8_lossy(n),
                None => Cow::Owned(String::new()),
            };
            let (c_name, mangling, conv) = match &name {
                Cow::Borrowed(b) => name_facts(b, Format::Pe, bits),
                Cow::Owned(o) => {
                    let (c, m, cc) = name_facts(o, Format::Pe, bits);
                    (Cow::Owned(c.into_owned()), m, cc)
                }
            };
            exports.push(Export {
                name,
                c_name,
                mangling,
                demangled: None,
                calling_convention: conv,
                kind,
                address,
                size: None,
                binding: Binding::Global,
                version: None,
                ordinal: Some(e.ordinal),
                forwarder,
                weak_definition: false,
                resolver: false,
            });
        }
    }

    // The import and delay-load import directories, one walker for both.
    let mut needed = Vec::new();
    let mut imports = Vec::new();
    for (index, kind, needed_kind) in [
        (
            pe::IMAGE_DIRECTORY_ENTRY_IMPORT,
            ImportKind::Import,
            NeededKind::Import,
        ),
        (
            pe::IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT,
            ImportKind::Delay,
            NeededKind::DelayImport,
        ),
    ] {
        let Some(dir) = file.data_directory(index) else {
            continue;
        };
        let dlls = pe_tables::imports(
            &map,
            kind,
            dir.virtual_address.get(LE),
            dir_entry(index),
            file.is_64(),
        )
        .map_err(table_err)?;
        let delay_load = matches!(kind, ImportKind::Delay);
        for dll in dlls {
            let library = String::from_utf8_lossy(dll.name).into_owned();
            imports.extend(dll.entries.into_iter().map(|entry| {
                let (name, ordinal, hint) = match entry {
                    Entry::Name { hint, name } => {
                        (Some(String::from_utf8_lossy(name)), None, Some(hint))
                    }
                    Entry::Ordinal(o) => (None, Some(u32::from(o)), None),
                };
                let (c_name, mangling) = match &name {
                    Some(n) => {
                        let (c, m, _) = name_facts(n, Format::Pe, bits);
                        (Some(Cow::Owned(c.into_owned())), m)
                    }
                    None => (None, crate::binary::names::Mangling::C),
                };
                Import {
                    name,
                    c_name,
                    mangling,
                    demangled: None,
                    ordinal,
                    hint,
                    source: ImportSource::Library {
                        library: library.clone(),
                    },
                    kind: SymbolKind::Unknown,
                    version: None,
                    weak: false,
                    lazy: None,
                    delay_load,
                }
            }));
            needed.push(Needed {
                name: library,
                kind: needed_kind,
                current_version: None,
                compatibility_version: None,
            });
        }
    }

    let pdb = file.pdb_info().ok().flatten().map(|cv| PdbInfo {
        path: String::from_utf8_lossy(cv.path()).into_owned(),
        guid: format_guid(&cv.guid()),
        age: cv.age(),
    });
    let dwarf_sections = file
        .sections()
        .filter_map(|s| s.name().ok().map(str::to_string))
        .filter(|n| n.starts_with(".debug_") || n.starts_with(".zdebug_"))
        .collect();

    let dll_chars = oh.dll_characteristics().0;
    let kind = if characteristics & pe::IMAGE_FILE_DLL.0 != 0 {
        Kind::SharedLibrary
    } else {
        Kind::Executable
    };
    let mut img = Image {
        format: Format::Pe,
        arch: arch.to_string(),
        bits,
        endian: Endian::Little,
        kind,
        file_offset: 0,
        identity,
        needed,
        rpath: Vec::new(),
        runpath: Vec::new(),
        exports,
        imports,
        elf: None,
        macho: None,
        pe: Some(PeInfo {
            machine: machine_name.to_string(),
            machine_raw: machine,
            subsystem: subsystem_name(oh.subsystem().0),
            dll_characteristics: names16(dll_chars, DLL_CHARACTERISTICS),
            characteristics: names16(characteristics, CHARACTERISTICS),
            timestamp: fh.time_date_stamp.get(LE),
            image_base: oh.image_base(),
            pdb,
            dwarf_sections,
        }),
        data: super::ImageData(data),
    };
    super::finish(&mut img, opts);
    Ok(img)
}

fn names16(bits: u16, table: &[(u16, &str)]) -> Vec<String> {
    table
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// A GUID in registry form: `{Data1}-{Data2}-{Data3}-{Data4[0..2]}-{Data4[2..8]}`, the first three little-endian.
fn format_guid(g: &[u8; 16]) -> String {
    let d1 = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    let d2 = u16::from_le_bytes([g[4], g[5]]);
    let d3 = u16::from_le_bytes([g[6], g[7]]);
    format!(
        "{d1:08X}-{d2:04X}-{d3:04X}-{}-{}",
        super::hex(&g[8..10]).to_uppercase(),
        super::hex(&g[10..]).to_uppercase()
    )
}
