//! Open a file (mmap), recognise what it is, split universal Mach-O files into slices, and build the
//! format-neutral [`Image`] model that every analysis reads. Nothing here prints.

pub mod elf;
pub mod filter;
pub mod guard;
pub mod macho;
pub mod names;
pub mod pe;
mod pe_tables;
pub mod sniff;
pub mod summary;

pub use guard::{install_panic_hook, read_guarded};

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::InputError;
use names::{CallingConvention, Mangling};

/// Object file format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Elf,
    Macho,
    Pe,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Elf => "elf",
            Format::Macho => "macho",
            Format::Pe => "pe",
        }
    }
}

/// Byte order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endian {
    Little,
    Big,
}

/// What kind of image the file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    SharedLibrary,
    Executable,
    PieExecutable,
    Bundle,
    Object,
    Core,
    Other,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::SharedLibrary => "shared-library",
            Kind::Executable => "executable",
            Kind::PieExecutable => "pie-executable",
            Kind::Bundle => "bundle",
            Kind::Object => "object",
            Kind::Core => "core",
            Kind::Other => "other",
        }
    }
}

/// The name a library is known by: ELF `DT_SONAME`, Mach-O `LC_ID_DYLIB`, PE export-directory name.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    pub name: String,
    /// Mach-O current version (`a.b.c`).
    pub current_version: Option<String>,
    /// Mach-O compatibility version (`a.b.c`).
    pub compatibility_version: Option<String>,
}

/// How a dependency is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NeededKind {
    /// ELF `DT_NEEDED`.
    Needed,
    /// Mach-O `LC_LOAD_DYLIB`.
    Load,
    /// Mach-O `LC_LOAD_WEAK_DYLIB`: may be absent at run time.
    Weak,
    /// Mach-O `LC_REEXPORT_DYLIB`.
    Reexport,
    /// Mach-O `LC_LOAD_UPWARD_DYLIB`.
    Upward,
    /// Mach-O `LC_LAZY_LOAD_DYLIB`.
    Lazy,
    /// PE import directory.
    Import,
    /// PE delay-load import directory.
    DelayImport,
}

/// One needed library, in the order the file records it.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Serialize)]
pub struct Needed {
    pub name: String,
    pub kind: NeededKind,
    /// Mach-O: the dylib's current and compatibility versions as recorded by the linker.
    pub current_version: Option<String>,
    pub compatibility_version: Option<String>,
}

/// What a symbol refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SymbolKind {
    Function,
    Data,
    Tls,
    Absolute,
    /// Re-exported from another library (Mach-O) or forwarded (PE): the definition lives elsewhere.
    Indirect,
    /// The format does not say (ELF `STT_NOTYPE`, an import whose kind is not recorded).
    Unknown,
}

impl SymbolKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SymbolKind::Function => "function",
            SymbolKind::Data => "data",
            SymbolKind::Tls => "tls",
            SymbolKind::Absolute => "absolute",
            SymbolKind::Indirect => "indirect",
            SymbolKind::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "function" | "func" => SymbolKind::Function,
            "data" | "object" => SymbolKind::Data,
            "tls" => SymbolKind::Tls,
            "absolute" | "abs" => SymbolKind::Absolute,
            "indirect" => SymbolKind::Indirect,
            "unknown" => SymbolKind::Unknown,
            _ => return None,
        })
    }
}

/// Symbol binding as the dynamic loader sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Binding {
    Global,
    Weak,
    /// ELF `STB_GNU_UNIQUE`.
    Unique,
}

impl Binding {
    /// The name the JSON documents use.
    pub fn as_str(self) -> &'static str {
        match self {
            Binding::Global => "global",
            Binding::Weak => "weak",
            Binding::Unique => "unique",
        }
    }
}

/// An ELF symbol version attached to a symbol.
#[derive(Debug, Clone, Serialize)]
pub struct SymbolVersion<'d> {
    /// Borrowed from the file's string table (tens of thousands of symbols share a handful of versions).
    pub name: Cow<'d, str>,
    /// `true` for the default version (`sym@@VER`), `false` for a hidden one (`sym@VER`).
    pub default: bool,
    /// For required versions: the library (`vn_file`) expected to define it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<Cow<'d, str>>,
}

/// A symbol the dynamic loader can bind to in this image.
#[derive(Debug, Clone, Serialize)]
pub struct Export<'d> {
    /// The name as stored in the file.
    pub name: Cow<'d, str>,
    /// The name C code would declare (Mach-O `_` and Win32 call-convention decorations removed).
    pub c_name: Cow<'d, str>,
    pub mangling: Mangling,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demangled: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calling_convention: Option<CallingConvention>,
    pub kind: SymbolKind,
    pub address: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    pub binding: Binding,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<SymbolVersion<'d>>,
    /// PE ordinal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<u32>,
    /// PE forwarder (`NTDLL.RtlAllocateHeap`) or Mach-O re-export (`/usr/lib/libfoo.dylib:_bar`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forwarder: Option<String>,
    /// Mach-O weak definition (`EXPORT_SYMBOL_FLAGS_WEAK_DEFINITION`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub weak_definition: bool,
    /// Mach-O stub-and-resolver export.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub resolver: bool,
}

/// Where an import is looked up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "lookup", rename_all = "kebab-case")]
pub enum ImportSource {
    /// A named library: PE DLL, Mach-O two-level namespace ordinal, or the ELF `vn_file` of the required version.
    Library { library: String },
    /// Mach-O flat namespace (`-undefined dynamic_lookup` or no two-level namespace): any loaded image.
    Flat,
    /// Mach-O `SELF_LIBRARY_ORDINAL`.
    SelfImage,
    /// Mach-O `EXECUTABLE_ORDINAL`: the main executable.
    Executable,
    /// ELF without a version requirement: the global scope.
    GlobalScope,
}

/// A symbol this image needs from elsewhere.
#[derive(Debug, Clone, Serialize)]
pub struct Import<'d> {
    /// Absent for a PE import by ordinal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<Cow<'d, str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub c_name: Option<Cow<'d, str>>,
    pub mangling: Mangling,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub demangled: Option<String>,
    /// PE import by ordinal.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ordinal: Option<u32>,
    /// PE import hint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<u16>,
    #[serde(flatten)]
    pub source: ImportSource,
    pub kind: SymbolKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<SymbolVersion<'d>>,
    /// May be absent at run time without failing the load (ELF `STB_WEAK`, Mach-O `N_WEAK_REF`).
    pub weak: bool,
    /// Bound lazily (Mach-O lazy bind, ELF PLT), when the format records it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lazy: Option<bool>,
    /// PE delay-load import.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delay_load: bool,
}

/// ELF-only facts.
#[serde_with::skip_serializing_none]
#[derive(Debug, Clone, Default, Serialize)]
pub struct ElfInfo {
    pub machine: u16,
    pub os_abi: String,
    pub interpreter: Option<String>,
    /// Names of the `DT_FLAGS` bits set (`BIND_NOW`, `ORIGIN`, …).
    pub flags: Vec<String>,
    /// Names of the `DT_FLAGS_1` bits set (`NOW`, `NODEFLIB`, `PIE`, …).
    pub flags_1: Vec<String>,
    /// Versions this file defines (`verdef`), in file order; the base version (the soname) is marked.
    pub versions_defined: Vec<VersionDef>,
    /// Versions this file requires (`verneed`), per library.
    pub versions_required: Vec<VersionNeed>,
    pub build_id: Option<String>,
    pub debuglink: Option<DebugLink>,
    /// Names of the DWARF sections present (`.debug_info`, `.zdebug_info`, …).
    pub dwarf_sections: Vec<String>,
    /// The file has a `.symtab` (not stripped).
    pub has_symtab: bool,
    /// The `p_flags` of the PT_GNU_STACK program header (`None`: there is none, and the loader assumes an
    /// executable stack).
    pub gnu_stack: Option<u32>,
    /// A `DT_TEXTREL` entry is present (DF_TEXTREL is in `flags` as `TEXTREL`).
    pub dt_textrel: bool,
}

/// One `verdef` entry.
#[derive(Debug, Clone, Serialize)]
pub struct VersionDef {
    pub name: String,
    pub index: u16,
    /// `VER_FLG_BASE`: the version naming the file itself.
    pub base: bool,
    /// Parent versions (`vda_next` chain after the first).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<String>,
}

/// One `verneed` entry: the versions required from one library.
#[derive(Debug, Clone, Serialize)]
pub struct VersionNeed {
    pub file: String,
    pub versions: Vec<String>,
    /// The highest version required per family, e.g. `GLIBC_2.34`, `GLIBCXX_3.4.29`, `CXXABI_1.3.13`.
    pub highest: Vec<String>,
}

/// `.gnu_debuglink` contents.
#[derive(Debug, Clone, Serialize)]
pub struct DebugLink {
    pub file: String,
    pub crc32: String,
}

/// Mach-O-only facts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct MachoInfo {
    pub cputype: u32,
    pub cpusubtype: u32,
    pub filetype: String,
    /// Names of the header flags set (`TWOLEVEL`, `PIE`, `WEAK_DEFINES`, …).
    pub flags: Vec<String>,
    pub two_level_namespace: bool,
    /// `LC_BUILD_VERSION` / `LC_VERSION_MIN_*` entries.
    pub platforms: Vec<MachoPlatform>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
    /// Where exports were read from: `LC_DYLD_INFO_ONLY`, `LC_DYLD_EXPORTS_TRIE`, or `symtab`.
    pub exports_source: String,
    /// Has `LC_DYLD_CHAINED_FIXUPS`.
    pub chained_fixups: bool,
    /// A `__DWARF` segment or `__debug_info` section is present (rare outside `.dSYM` bundles).
    pub dwarf_present: bool,
}

/// A Mach-O platform / minimum-OS record.
#[derive(Debug, Clone, Serialize)]
pub struct MachoPlatform {
    pub platform: String,
    pub minos: String,
    pub sdk: String,
    /// The load command it came from.
    pub source: String,
}

/// PE-only facts.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeInfo {
    pub machine: String,
    pub machine_raw: u16,
    pub subsystem: String,
    pub dll_characteristics: Vec<String>,
    pub characteristics: Vec<String>,
    pub timestamp: u32,
    pub image_base: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdb: Option<PdbInfo>,
    /// DWARF sections present (mingw builds with `-g`).
    pub dwarf_sections: Vec<String>,
}

/// CodeView RSDS record.
#[derive(Debug, Clone, Serialize)]
pub struct PdbInfo {
    pub path: String,
    pub guid: String,
    pub age: u32,
}

/// One image (one architecture slice of one file) in format-neutral terms.
#[derive(Debug, Clone, Serialize)]
pub struct Image<'d> {
    pub format: Format,
    pub arch: String,
    pub bits: u8,
    pub endian: Endian,
    pub kind: Kind,
    /// Byte offset of this image in the file (non-zero for universal slices).
    pub file_offset: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    pub needed: Vec<Needed>,
    /// ELF `DT_RPATH`; Mach-O `LC_RPATH` (dyld has only one kind).
    pub rpath: Vec<String>,
    /// ELF `DT_RUNPATH`.
    pub runpath: Vec<String>,
    pub exports: Vec<Export<'d>>,
    pub imports: Vec<Import<'d>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub elf: Option<ElfInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub macho: Option<MachoInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pe: Option<PeInfo>,
    /// The bytes of this image (the slice, for a universal Mach-O file): what a later reader (DWARF) parses
    /// without mapping or sniffing the file again.
    #[serde(skip)]
    pub data: ImageData<'d>,
}

/// The bytes an [`Image`] was read from; `Debug` shows only their length.
#[derive(Clone, Copy, Default)]
pub struct ImageData<'d>(pub &'d [u8]);

impl std::fmt::Debug for ImageData<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{} bytes>", self.0.len())
    }
}

impl std::ops::Deref for ImageData<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.0
    }
}

/// The facts that pick an image's separate debug file, decoded from [`ElfInfo`], [`MachoInfo`] and [`PeInfo`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DebugIds {
    /// ELF `NT_GNU_BUILD_ID`.
    pub build_id: Option<Vec<u8>>,
    /// ELF `.gnu_debuglink`: file name and CRC-32.
    pub debuglink: Option<(String, u32)>,
    /// Mach-O `LC_UUID`.
    pub uuid: Option<[u8; 16]>,
    /// PE CodeView PDB path.
    pub pdb: Option<String>,
    /// The image names DWARF sections of its own (ELF/PE `.debug_info`/`.zdebug_info`, Mach-O `__DWARF`).
    pub dwarf: bool,
}

impl Image<'_> {
    /// Build-id, debuglink, UUID, PDB path and DWARF presence, as bytes and numbers.
    pub fn debug_ids(&self) -> DebugIds {
        let has_info = |names: &[String]| {
            names
                .iter()
                .any(|n| n == ".debug_info" || n == ".zdebug_info")
        };
        let mut ids = DebugIds::default();
        if let Some(e) = &self.elf {
            ids.build_id = e.build_id.as_deref().and_then(unhex);
            ids.debuglink = e.debuglink.as_ref().and_then(|l| {
                let crc = u32::from_str_radix(&l.crc32, 16).ok()?;
                Some((l.file.clone(), crc))
            });
            ids.dwarf = has_info(&e.dwarf_sections);
        }
        if let Some(m) = &self.macho {
            ids.uuid = m
                .uuid
                .as_deref()
                .and_then(|u| unhex(&u.replace('-', "")))
                .and_then(|b| <[u8; 16]>::try_from(b).ok());
            ids.dwarf = m.dwarf_present;
        }
        if let Some(p) = &self.pe {
            ids.pdb = p.pdb.as_ref().map(|p| p.path.clone());
            ids.dwarf = has_info(&p.dwarf_sections);
        }
        ids
    }
}

/// Bytes from (lower- or upper-case) hex; `None` for odd length or a non-hex digit.
pub(crate) fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// How much symbol work to do while reading: demangling is the costly part.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    pub demangle: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { demangle: true }
    }
}

/// A file mapped into memory. Images borrow from it.
pub struct Mapped {
    pub path: String,
    pub resolved: PathBuf,
    map: Option<memmap2::Mmap>,
}

impl Mapped {
    /// Map `path` read-only. Directories, unreadable and empty files are input errors.
    pub fn open(path: &str) -> Result<Mapped, InputError> {
        let p = Path::new(path);
        let (file, len) =
            crate::input::open_regular(p, "a shared library file").map_err(|mut e| {
                e.path = path.to_string();
                e
            })?;
        let resolved = std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
        if len == 0 {
            return Ok(Mapped {
                path: path.to_string(),
                resolved,
                map: None,
            });
        }
        // SAFETY: the map is read-only; a file truncated underneath us is the one hazard of any mmap reader
        // (nm and llvm-nm accept the same); we never hand out the mapping beyond this process.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| {
            InputError::new(path, "a file that can be mapped", format!("an error: {e}"))
        })?;
        Ok(Mapped {
            path: path.to_string(),
            resolved,
            map: Some(map),
        })
    }

    pub fn bytes(&self) -> &[u8] {
        self.map.as_deref().unwrap_or(&[])
    }
}

/// One architecture slice of a universal Mach-O file, or the whole file.
#[derive(Debug, Clone, Copy)]
pub struct Slice<'d> {
    pub offset: u64,
    pub data: &'d [u8],
    /// Arch name from the fat header (for universal files).
    pub fat_arch: Option<&'static str>,
}

/// Read every image in a file: one for ELF and PE, one per slice for universal Mach-O.
/// `arch` keeps only the slice with that name.
pub fn read_images<'d>(
    path: &str,
    data: &'d [u8],
    arch: Option<&str>,
    opts: ReadOptions,
) -> Result<Vec<Image<'d>>, InputError> {
    let what = sniff::classify(path, data)?;
    let mut images = Vec::new();
    match what {
        sniff::Detected::Elf => images.push(elf::read(path, data, opts)?),
        sniff::Detected::Pe => images.push(pe::read(path, data, opts)?),
        sniff::Detected::Macho => images.push(macho::read(
            path,
            Slice {
                offset: 0,
                data,
                fat_arch: None,
            },
            opts,
        )?),
        sniff::Detected::Fat => {
            for slice in macho::fat_slices(path, data)? {
                if let Some(want) = arch {
                    if slice.fat_arch.is_some_and(|a| !arch_matches(a, want)) {
                        continue;
                    }
                }
                images.push(macho::read(path, slice, opts)?);
            }
        }
    }
    if let Some(want) = arch {
        images.retain(|img| arch_matches(&img.arch, want));
        if images.is_empty() {
            return Err(InputError::new(
                path,
                format!("an image for architecture {want}"),
                "no such slice",
            )
            .hint("run `ffi-doctor inspect` without --arch to list the architectures"));
        }
    }
    Ok(images)
}

/// Arch names match across the spellings users type (`arm64`/`aarch64`, `x86-64`/`amd64`, `i386`/`x86`).
pub fn arch_matches(have: &str, want: &str) -> bool {
    fn norm(s: &str) -> &str {
        match s.to_ascii_lowercase().as_str() {
            "arm64" | "aarch64" => "aarch64",
            "x86_64" | "x86-64" | "amd64" | "x64" => "x86_64",
            "i386" | "i686" | "x86" => "i386",
            _ => "",
        }
    }
    let (h, w) = (norm(have), norm(want));
    if !h.is_empty() && !w.is_empty() {
        h == w
    } else {
        have.eq_ignore_ascii_case(want)
    }
}

/// The name-derived facts of a symbol: C name, mangling kind and 32-bit Windows calling convention.
/// Demangling is left to [`finish`], which does it for all symbols at once.
pub(crate) fn name_facts(
    raw: &str,
    format: Format,
    bits: u8,
) -> (Cow<'_, str>, Mangling, Option<CallingConvention>) {
    let (c_name, conv) = names::c_name(raw, format, bits);
    (Cow::Borrowed(c_name), names::mangling_kind(c_name), conv)
}

/// Last step of every reader: demangle (when asked) and put symbols in their deterministic order.
pub(crate) fn finish(img: &mut Image<'_>, opts: ReadOptions) {
    if opts.demangle {
        demangle_exports(img);
        demangle_imports(img);
    }
    sort_symbols(img);
}

/// [`finish`] for a reader that built its exports in the order [`sort_symbols`] gives (the ELF reader): only the
/// imports are sorted (checking the order of 45 k long C++ names costs as much as a tenth of a listing).
pub(crate) fn finish_exports_sorted(img: &mut Image<'_>, opts: ReadOptions) {
    if opts.demangle {
        demangle_exports(img);
        demangle_imports(img);
    }
    sort_imports(img);
}

/// Demangle the exports of an image read without demangling (names sort by their raw form, so the order holds).
pub fn demangle_exports(img: &mut Image<'_>) {
    names::demangle_many(
        &mut img.exports,
        |e| Some((e.c_name.as_ref(), e.mangling)),
        |e, d| e.demangled = Some(d),
    );
}

/// Demangle the imports of an image read without demangling: a listing of imports need not pay for the exports.
pub fn demangle_imports(img: &mut Image<'_>) {
    names::demangle_many(
        &mut img.imports,
        |i| i.c_name.as_deref().map(|n| (n, i.mangling)),
        |i, d| i.demangled = Some(d),
    );
}

/// Turn a goblin error into an input error, keeping the offset when goblin knows it.
pub(crate) fn goblin_error(
    path: &str,
    expected: &str,
    e: goblin::error::Error,
    base: u64,
) -> InputError {
    use goblin::error::Error as G;
    let (found, offset) = match &e {
        G::Scroll(scroll::Error::BadOffset(o)) => (
            format!("a reference to offset {o:#x} outside the data"),
            Some(*o as u64),
        ),
        G::Scroll(scroll::Error::TooBig { size, len }) => (
            format!("a read of {size} bytes where only {len} remain (truncated?)"),
            None,
        ),
        G::BadMagic(m) => (format!("bad magic {m:#x}"), Some(0)),
        G::BufferTooShort(n, what) => {
            (format!("too little data for {n} {what} (truncated?)"), None)
        }
        G::Scroll(scroll::Error::BadInput { msg, .. }) if msg.contains("utf8") => (
            "a name in a string table that is not valid UTF-8 (symbol, library and path names are read as \
             UTF-8; this file is refused rather than shown with names missing)"
                .to_string(),
            None,
        ),
        other => (other.to_string(), None),
    };
    InputError::new(path, expected, found).at(base + offset.unwrap_or(0))
}

/// Below this many symbols a reader's work stays on the calling thread: starting the thread pool (about half a
/// millisecond of system time) costs more than spreading the work saves.
pub const PARALLEL_FROM: usize = 8192;

/// Sort exports by name, then version, then address; imports by library, then name, then ordinal. Equal keys keep
/// their table order. The order is found on indices and applied in place, so the (large) symbol records move once.
pub(crate) fn sort_symbols(img: &mut Image<'_>) {
    let order = sorted_order_by_key(&img.exports, |e| e.name.as_ref(), export_tie);
    permute(&mut img.exports, order);
    sort_imports(img);
}

/// The export order after the name.
fn export_tie(a: &Export<'_>, b: &Export<'_>) -> std::cmp::Ordering {
    ver_key(&a.version)
        .cmp(&ver_key(&b.version))
        .then(a.address.cmp(&b.address))
        .then(a.ordinal.cmp(&b.ordinal))
}

fn sort_imports(img: &mut Image<'_>) {
    let order = sorted_order(&img.imports, |a, b| {
        source_key(&a.source)
            .cmp(source_key(&b.source))
            .then(a.delay_load.cmp(&b.delay_load))
            .then_with(|| a.name.cmp(&b.name))
            .then(a.ordinal.cmp(&b.ordinal))
            .then_with(|| ver_key(&a.version).cmp(&ver_key(&b.version)))
    });
    permute(&mut img.imports, order);
}

/// The indices of `items` in the order of `cmp`, ties broken by index (what a stable sort gives).
fn sorted_order<T>(items: &[T], cmp: impl Fn(&T, &T) -> std::cmp::Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..items.len()).collect();
    order.sort_unstable_by(|&a, &b| cmp(&items[a], &items[b]).then(a.cmp(&b)));
    order
}

/// [`sorted_order`] for a comparison that starts with `key`: the keys are compared from one compact vector (the
/// records are touched only when keys tie).
/// Sorted on every core (the exports of a large library are tens of thousands of long names).
fn sorted_order_by_key<'a, T: Sync>(
    items: &'a [T],
    key: impl Fn(&'a T) -> &'a str,
    cmp: impl Fn(&T, &T) -> std::cmp::Ordering + Sync,
) -> Vec<usize> {
    use rayon::slice::ParallelSliceMut;
    let mut keys: Vec<(&str, usize)> = items.iter().map(key).zip(0..).collect();
    let order = |a: &(&str, usize), b: &(&str, usize)| {
        a.0.cmp(b.0)
            .then_with(|| cmp(&items[a.1], &items[b.1]))
            .then(a.1.cmp(&b.1))
    };
    if keys.len() >= PARALLEL_FROM {
        keys.par_sort_unstable_by(order);
    } else {
        keys.sort_unstable_by(order);
    }
    keys.into_iter().map(|(_, i)| i).collect()
}

/// Reorder `items` so that position `k` holds the item that was at `order[k]`, by following cycles.
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..order.len() {
        let mut k = start;
        while order[k] != start {
            let from = order[k];
            items.swap(k, from);
            order[k] = k;
            k = from;
        }
        order[k] = k;
    }
}

fn ver_key<'v>(v: &'v Option<SymbolVersion<'_>>) -> (&'v str, bool) {
    v.as_ref()
        .map(|v| (v.name.as_ref(), !v.default))
        .unwrap_or(("", false))
}

fn source_key(s: &ImportSource) -> &str {
    match s {
        ImportSource::Library { library } => library,
        ImportSource::Flat => "\u{1}flat",
        ImportSource::SelfImage => "\u{1}self",
        ImportSource::Executable => "\u{1}executable",
        ImportSource::GlobalScope => "",
    }
}

/// Read a NUL-terminated string at `off`, bounded by the slice.
pub(crate) fn cstr_at(data: &[u8], off: usize) -> Option<&str> {
    let rest = data.get(off..)?;
    let end = rest.iter().position(|&b| b == 0)?;
    std::str::from_utf8(&rest[..end]).ok()
}

/// Lower-case hex of a byte string.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod order_tests {
    use super::{permute, sorted_order};

    #[test]
    fn permutation_applies_a_stable_order() {
        let items = [(3, 'a'), (1, 'b'), (3, 'c'), (0, 'd'), (1, 'e'), (2, 'f')];
        let mut v = items.to_vec();
        let order = sorted_order(&v, |a, b| a.0.cmp(&b.0));
        permute(&mut v, order);
        let mut stable = items.to_vec();
        stable.sort_by_key(|x| x.0);
        assert_eq!(v, stable);
        let mut empty: Vec<u8> = Vec::new();
        permute(&mut empty, Vec::new());
    }
}
