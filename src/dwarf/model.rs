//! DWARF 2–5 → the owned model of [`super`]: every DIE of `.debug_info` is read into a small table (tag and the
//! attributes we use, references turned into section offsets), then records, enums, functions and variables are
//! built from it. Types are deduplicated by name across compilation units: the first definition wins, a
//! differing later one is noted. Declarations (`DW_AT_declaration`) are never taken as definitions.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use gimli::{constants as dw, AttributeValue, EndianSlice, RunTimeEndian};
use object::{Object, ObjectSection};

use super::{
    DebugInfo, DebugSource, EnumDef, FunctionDef, Member, ParamDef, Record, RecordKind, TypeDesc,
    TypeKind, VariableDef,
};
use crate::error::InputError;

/// Types nest deeper than this only in malformed input.
const MAX_DEPTH: usize = 48;

#[derive(Debug, Clone, Copy)]
enum Const {
    U(u64),
    S(i64),
    /// A fixed-size data form: value and size in bytes (its signedness depends on the type).
    Data(u64, u8),
}

#[derive(Debug)]
struct Die<'d> {
    tag: dw::DwTag,
    depth: usize,
    unit: usize,
    /// Borrowed from `.debug_str` (or the DIE) unless it had to be repaired into UTF-8.
    name: Option<Cow<'d, str>>,
    linkage: Option<Cow<'d, str>>,
    byte_size: Option<u64>,
    bit_size: Option<u64>,
    bit_offset: Option<u64>,
    data_bit_offset: Option<u64>,
    member_loc: Option<u64>,
    ty: Option<usize>,
    /// DW_AT_specification or DW_AT_abstract_origin.
    origin: Option<usize>,
    encoding: Option<u8>,
    declaration: bool,
    external: bool,
    prototyped: bool,
    alignment: Option<u64>,
    const_value: Option<Const>,
    count: Option<Const>,
    upper: Option<Const>,
    lower: Option<Const>,
    decl_line: Option<u64>,
    children: Vec<usize>,
    /// Cycle search: 1 on the current path, 2 done.
    mark: std::cell::Cell<u8>,
}

impl<'d> Die<'d> {
    fn new(tag: dw::DwTag, depth: usize, unit: usize) -> Die<'d> {
        Die {
            tag,
            depth,
            unit,
            name: None,
            linkage: None,
            byte_size: None,
            bit_size: None,
            bit_offset: None,
            data_bit_offset: None,
            member_loc: None,
            ty: None,
            origin: None,
            encoding: None,
            declaration: false,
            external: false,
            prototyped: false,
            alignment: None,
            const_value: None,
            count: None,
            upper: None,
            lower: None,
            decl_line: None,
            children: Vec::new(),
            mark: std::cell::Cell::new(0),
        }
    }
}

struct Unit {
    name: String,
    addr_size: u8,
}

/// The DIEs by `.debug_info` offset: two parallel vectors sorted by offset (DIEs arrive in offset order, so
/// inserting is a push), looked up by binary search. Far smaller and faster than a tree map of large values.
#[derive(Default)]
struct Dies<'d> {
    offs: Vec<usize>,
    dies: Vec<Die<'d>>,
}

impl<'d> Dies<'d> {
    fn new() -> Dies<'d> {
        Dies::default()
    }

    fn insert(&mut self, off: usize, die: Die<'d>) {
        match self.offs.last() {
            Some(&last) if last >= off => match self.offs.binary_search(&off) {
                Ok(i) => self.dies[i] = die,
                Err(i) => {
                    self.offs.insert(i, off);
                    self.dies.insert(i, die);
                }
            },
            _ => {
                self.offs.push(off);
                self.dies.push(die);
            }
        }
    }

    fn reserve(&mut self, n: usize) {
        self.offs.reserve(n);
        self.dies.reserve(n);
    }

    fn get(&self, off: &usize) -> Option<&Die<'d>> {
        self.offs.binary_search(off).ok().map(|i| &self.dies[i])
    }

    fn get_mut(&mut self, off: &usize) -> Option<&mut Die<'d>> {
        self.offs.binary_search(off).ok().map(|i| &mut self.dies[i])
    }

    fn contains_key(&self, off: &usize) -> bool {
        self.offs.binary_search(off).is_ok()
    }

    fn len(&self) -> usize {
        self.offs.len()
    }

    fn keys(&self) -> std::slice::Iter<'_, usize> {
        self.offs.iter()
    }

    fn iter(&self) -> impl Iterator<Item = (&usize, &Die<'d>)> {
        self.offs.iter().zip(self.dies.iter())
    }
}

impl<'d> std::ops::Index<&usize> for Dies<'d> {
    type Output = Die<'d>;
    fn index(&self, off: &usize) -> &Die<'d> {
        self.get(off).expect("a DIE at a checked offset")
    }
}

struct Model<'d> {
    dies: Dies<'d>,
    units: Vec<Unit>,
    /// Anonymous (or any) struct/union/enum → the first typedef naming it.
    typedef_of: HashMap<usize, String>,
    notes: Vec<String>,
    little: bool,
    /// Work done describing types: (for the current item, in all), against [`ITEM_BUDGET`] and
    /// [`STEPS_PER_DIE`].
    steps: std::cell::Cell<(u64, u64)>,
    /// The DIE being described when the budget ran out.
    over_budget: std::cell::Cell<Option<usize>>,
    /// The first DIE reached deeper than [`MAX_DEPTH`] (a cycle, or a hostile chain).
    too_deep: std::cell::Cell<Option<usize>>,
}

/// Where DWARF reading failed: the file, the section and the offset in it (and, for uncompressed sections, the
/// byte offset in the file).
struct Errs<'a, 'd> {
    path: &'a str,
    file: &'a object::File<'d>,
}

impl Errs<'_, '_> {
    /// `expected` (what was being read) in `section` at `off`; `found` what was there instead.
    fn at(
        &self,
        section: &str,
        off: u64,
        expected: impl std::fmt::Display,
        found: impl Into<String>,
    ) -> InputError {
        let e = InputError::new(
            self.path,
            format!("{expected} in {section} at offset {off:#x}"),
            found,
        );
        match self.file_pos(section, off) {
            Some(p) => e.at(p),
            None => e,
        }
    }

    fn gimli(
        &self,
        section: &str,
        off: u64,
        expected: impl std::fmt::Display,
        e: gimli::Error,
    ) -> InputError {
        self.at(section, off, expected, describe(e))
    }

    /// The byte offset in the file of `off` in `section`, when the section is stored uncompressed.
    fn file_pos(&self, section: &str, off: u64) -> Option<u64> {
        let sec = self.file.section_by_name(section)?;
        let c = sec.compressed_file_range().ok()?;
        (c.format == object::CompressionFormat::None).then_some(c.offset + off)
    }
}

/// A gimli error in words, with its name and the value it carries (`… (gimli UnknownAbbreviation(200))`).
fn describe(e: gimli::Error) -> String {
    let words = e
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    format!("{words} (gimli {e:?})")
}

/// More work than any real type needs: a hostile file whose types fan out (function types whose parameters are
/// function types, …) is refused instead of taking exponential time. Per record, function or variable described …
const ITEM_BUDGET: u64 = 1_000_000;
/// … and for the whole file, on top of this many steps per DIE.
const STEPS_PER_DIE: u64 = 256;

/// A compressed DWARF section may expand to at most this many times its stored size plus 64 MiB.
const MAX_EXPANSION: u64 = 1024;

/// Read the DWARF of `file` (a library or its debug file at `from`).
pub(crate) fn read(
    path: &str,
    file: &object::File<'_>,
    source: DebugSource,
    from: &Path,
) -> Result<DebugInfo, InputError> {
    let endian = if file.is_little_endian() {
        RunTimeEndian::Little
    } else {
        RunTimeEndian::Big
    };
    let errs = Errs { path, file };
    let load = |id: gimli::SectionId| -> Result<Cow<'_, [u8]>, InputError> {
        let Some(sec) = file.section_by_name(id.name()) else {
            return Ok(Cow::Borrowed(&[][..]));
        };
        if let Ok(c) = sec.compressed_data() {
            let limit = (c.data.len() as u64)
                .saturating_mul(MAX_EXPANSION)
                .saturating_add(64 << 20);
            if c.format != object::CompressionFormat::None && c.uncompressed_size > limit {
                return Err(InputError::new(
                    path,
                    format!(
                        "a compressed {} section expanding to at most {limit} bytes",
                        id.name()
                    ),
                    format!(
                        "a header claiming {} bytes from {} stored",
                        c.uncompressed_size,
                        c.data.len()
                    ),
                ));
            }
        }
        sec.uncompressed_data().map_err(|e| {
            InputError::new(
                path,
                format!("a readable {} section", id.name()),
                format!("an error: {e}"),
            )
            .hint("compressed sections: zlib (SHF_COMPRESSED, .zdebug) and zstd are supported")
        })
    };
    let sections = gimli::DwarfSections::load(load)?;
    let dwarf = sections.borrow(|s| EndianSlice::new(s, endian));

    let mut m = Model {
        dies: Dies::new(),
        units: Vec::new(),
        typedef_of: HashMap::new(),
        notes: Vec::new(),
        little: file.is_little_endian(),
        steps: std::cell::Cell::new((0, 0)),
        over_budget: std::cell::Cell::new(None),
        too_deep: std::cell::Cell::new(None),
    };
    // The target of every reference read, to check that it lands on a DIE.
    let mut refs: Vec<usize> = Vec::new();
    let mut versions = BTreeSet::new();
    let mut type_sig_refs = false;
    // About one DIE per 8 bytes of .debug_info in C libraries: reserved up front, so the table is not copied
    // as it grows (reserved pages never written cost nothing).
    m.dies
        .reserve(gimli::Section::reader(&dwarf.debug_info).len() / 8);
    let mut iter = dwarf.units();
    let mut next_unit: u64 = 0;
    loop {
        let header = match iter.next() {
            Ok(Some(h)) => h,
            Ok(None) => break,
            Err(e) => {
                return Err(errs.gimli(".debug_info", next_unit, "a unit header", e));
            }
        };
        let unit_off = header
            .offset()
            .as_debug_info_offset()
            .map(|o| o.0 as u64)
            .unwrap_or(next_unit);
        next_unit = unit_off + header.length_including_self() as u64;
        let abbrevs = dwarf.abbreviations(&header).map_err(|e| {
            errs.gimli(
                ".debug_abbrev",
                header.debug_abbrev_offset().0 as u64,
                format_args!("the abbreviation table of the unit at .debug_info+{unit_off:#x}"),
                e,
            )
        })?;
        // The unit's root DIE is read first with offsets kept, so that an error in it is placed exactly; an error
        // left after that is in the line program the root names.
        let stmt_list = root_stmt_list(&errs, &header, &abbrevs, unit_off)?;
        let unit =
            gimli::Unit::new_with_abbreviations(&dwarf, header, abbrevs.clone()).map_err(|e| {
                match stmt_list {
                    Some(l) => errs.gimli(
                        ".debug_line",
                        l,
                        format_args!(
                        "the line program header named by the unit at .debug_info+{unit_off:#x}"
                    ),
                        e,
                    ),
                    None => errs.gimli(".debug_info", unit_off, "a readable compilation unit", e),
                }
            })?;
        versions.insert(unit.header.version());
        let unit_idx = m.units.len();
        m.units.push(Unit {
            name: unit
                .name
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            addr_size: unit.header.address_size(),
        });
        let base = unit_off as usize;
        let mut stack: Vec<usize> = Vec::new();
        let mut raw = unit
            .entries_raw(None)
            .map_err(|e| errs.gimli(".debug_info", unit_off, "the DIEs of a unit", e))?;
        while !raw.is_empty() {
            let depth = raw.next_depth();
            if depth < 0 {
                break;
            }
            let off = base + raw.next_offset().0;
            let abbrev = raw.read_abbreviation().map_err(|e| {
                errs.gimli(
                    ".debug_info",
                    off as u64,
                    format_args!(
                        "a DIE abbreviation code defined in the unit's table (.debug_abbrev+{:#x})",
                        unit.header.debug_abbrev_offset().0
                    ),
                    e,
                )
            })?;
            let Some(abbrev) = abbrev else { continue };
            stack.truncate(depth as usize);
            let mut die = Die::new(abbrev.tag(), depth as usize, unit_idx);
            for spec in abbrev.attributes() {
                let at = base + raw.next_offset().0;
                let attr = raw.read_attribute(*spec).map_err(|e| {
                    errs.gimli(
                        ".debug_info",
                        at as u64,
                        format_args!(
                            "the {} value ({}) of the {} DIE at {off:#x}",
                            spec.name(),
                            spec.form(),
                            abbrev.tag()
                        ),
                        e,
                    )
                })?;
                let v = attr.value();
                let refr = |v: &AttributeValue<EndianSlice<'_, RunTimeEndian>>| match *v {
                    AttributeValue::UnitRef(o) => o.to_debug_info_offset(&unit.header).map(|o| o.0),
                    AttributeValue::DebugInfoRef(o) => Some(o.0),
                    _ => None,
                };
                let string = || -> Result<Option<Cow<'_, str>>, InputError> {
                    match dwarf.attr_string(&unit, v) {
                        Ok(s) => Ok(Some(s.to_string_lossy())),
                        Err(e) => {
                            let (sec, so) = match v {
                                AttributeValue::DebugStrRef(o) => (".debug_str", o.0),
                                AttributeValue::DebugLineStrRef(o) => (".debug_line_str", o.0),
                                // Indexed and supplementary strings are left unnamed, as before.
                                _ => return Ok(None),
                            };
                            Err(errs.gimli(
                                sec,
                                so as u64,
                                format_args!(
                                    "a NUL-terminated string for the {} of the DIE at .debug_info+{off:#x}",
                                    attr.name()
                                ),
                                e,
                            ))
                        }
                    }
                };
                match attr.name() {
                    dw::DW_AT_name => die.name = string()?,
                    dw::DW_AT_linkage_name | dw::DW_AT_MIPS_linkage_name => die.linkage = string()?,
                    dw::DW_AT_byte_size => die.byte_size = attr.udata_value(),
                    dw::DW_AT_bit_size => die.bit_size = attr.udata_value(),
                    dw::DW_AT_bit_offset => die.bit_offset = attr.udata_value(),
                    dw::DW_AT_data_bit_offset => die.data_bit_offset = attr.udata_value(),
                    dw::DW_AT_data_member_location => {
                        die.member_loc = match v {
                            AttributeValue::Exprloc(e) => location_expr(e.0.slice()),
                            AttributeValue::Block(b) => location_expr(b.slice()),
                            _ => attr.udata_value(),
                        }
                    }
                    dw::DW_AT_type => {
                        die.ty = refr(&v);
                        if let Some(t) = die.ty {
                            refs.push(t);
                        }
                        if matches!(v, AttributeValue::DebugTypesRef(_)) {
                            type_sig_refs = true;
                        }
                    }
                    dw::DW_AT_specification | dw::DW_AT_abstract_origin => {
                        die.origin = refr(&v);
                        if let Some(t) = die.origin {
                            refs.push(t);
                        }
                    }
                    dw::DW_AT_encoding => {
                        if let AttributeValue::Encoding(e) = v {
                            die.encoding = Some(e.0)
                        }
                    }
                    dw::DW_AT_declaration => die.declaration = flag(&v),
                    dw::DW_AT_external => die.external = flag(&v),
                    dw::DW_AT_prototyped => die.prototyped = flag(&v),
                    dw::DW_AT_alignment => die.alignment = attr.udata_value(),
                    dw::DW_AT_const_value => die.const_value = constant(&v),
                    dw::DW_AT_count => die.count = constant(&v),
                    dw::DW_AT_upper_bound => die.upper = constant(&v),
                    dw::DW_AT_lower_bound => die.lower = constant(&v),
                    dw::DW_AT_decl_line => die.decl_line = attr.udata_value(),
                    _ => {}
                }
            }
            if let Some(&parent) = stack.last() {
                if let Some(p) = m.dies.get_mut(&parent) {
                    p.children.push(off);
                }
            }
            if die.tag == dw::DW_TAG_typedef {
                if let (Some(t), Some(n)) = (die.ty, &die.name) {
                    m.typedef_of.entry(t).or_insert_with(|| n.to_string());
                }
            }
            m.dies.insert(off, die);
            stack.push(off);
        }
    }
    // A reference must land on a DIE: one that does not is corrupt, and would silently lose a type. Sorted
    // targets are checked against the (sorted) DIE offsets in one pass; the referring DIE is looked up only
    // for the message.
    refs.sort_unstable();
    refs.dedup();
    let mut keys = m.dies.keys().peekable();
    for &to in &refs {
        while keys.next_if(|&&k| k < to).is_some() {}
        if keys.peek() != Some(&&to) {
            let (from, at) = m
                .dies
                .iter()
                .find_map(|(&o, d)| {
                    if d.ty == Some(to) {
                        Some((o, dw::DW_AT_type))
                    } else if d.origin == Some(to) {
                        Some((o, dw::DW_AT_abstract_origin))
                    } else {
                        None
                    }
                })
                .unwrap_or((0, dw::DW_AT_type));
            let at = if at == dw::DW_AT_type {
                "DW_AT_type"
            } else {
                "DW_AT_specification/DW_AT_abstract_origin"
            };
            return Err(errs.at(
                ".debug_info",
                from as u64,
                format_args!("a {at} reference to a DIE, from the DIE"),
                format!("offset {to:#x}, where no DIE starts"),
            ));
        }
    }
    if type_sig_refs {
        m.notes.push(
            "some types live in type units (-fdebug-types-section) and were not followed".into(),
        );
    }
    if file
        .section_by_name(".debug_types")
        .is_some_and(|s| s.size() > 0)
    {
        m.notes
            .push(".debug_types (DWARF 4 type units) is not read".into());
    }

    let (records, enums, functions, variables) = m.build();
    // Types nested deeper than any compiler writes: a reference cycle (shown with its DIEs), else a hostile chain.
    if let Some(cycle) = m.too_deep.get().and_then(|o| m.type_cycle_from(o)) {
        let path: Vec<String> = cycle
            .iter()
            .map(|&o| {
                let d = &m.dies[&o];
                match &d.name {
                    Some(n) => format!("{o:#x} {} {n}", d.tag),
                    None => format!("{o:#x} {}", d.tag),
                }
            })
            .collect();
        return Err(errs.at(
            ".debug_info",
            cycle[0] as u64,
            "type references that end at a base, struct, union or enum type, from the DIE",
            format!("a reference cycle: {} → {:#x}", path.join(" → "), cycle[0]),
        ));
    }
    if let Some(o) = m.over_budget.get() {
        return Err(errs.at(
            ".debug_info",
            o as u64,
            format_args!(
                "type descriptions of bounded size (at most {ITEM_BUDGET} steps per type, \
                 {STEPS_PER_DIE} per DIE), from the DIE"
            ),
            "types that expand without end (a hostile or corrupt type graph)",
        ));
    }
    if let Some(o) = m.too_deep.get() {
        m.notes.push(format!(
            "types nested deeper than {MAX_DEPTH} at .debug_info+{o:#x} are shown as `?`"
        ));
    }
    Ok(DebugInfo {
        source,
        path: from.to_path_buf(),
        dwarf_versions: versions.into_iter().collect(),
        units: m.units.len(),
        notes: m.notes,
        records,
        enums,
        functions,
        variables,
    })
}

/// The `DW_AT_stmt_list` of a unit's root DIE, read attribute by attribute so that an error names its offset.
fn root_stmt_list(
    errs: &Errs<'_, '_>,
    header: &gimli::UnitHeader<EndianSlice<'_, RunTimeEndian>>,
    abbrevs: &gimli::Abbreviations,
    unit_off: u64,
) -> Result<Option<u64>, InputError> {
    let mut raw = header
        .entries_raw(abbrevs, None)
        .map_err(|e| errs.gimli(".debug_info", unit_off, "the DIEs of a unit", e))?;
    let off = unit_off + raw.next_offset().0 as u64;
    let abbrev = raw.read_abbreviation().map_err(|e| {
        errs.gimli(
            ".debug_info",
            off,
            format_args!(
                "a root DIE abbreviation code defined in the unit's table (.debug_abbrev+{:#x})",
                header.debug_abbrev_offset().0
            ),
            e,
        )
    })?;
    let Some(abbrev) = abbrev else {
        return Ok(None);
    };
    let mut stmt = None;
    for spec in abbrev.attributes() {
        let at = unit_off + raw.next_offset().0 as u64;
        let attr = raw.read_attribute(*spec).map_err(|e| {
            errs.gimli(
                ".debug_info",
                at,
                format_args!(
                    "the {} value ({}) of the {} DIE at {off:#x}",
                    spec.name(),
                    spec.form(),
                    abbrev.tag()
                ),
                e,
            )
        })?;
        if let AttributeValue::DebugLineRef(o) = attr.value() {
            stmt = Some(o.0 as u64);
        }
    }
    Ok(stmt)
}

fn flag(v: &AttributeValue<EndianSlice<'_, RunTimeEndian>>) -> bool {
    matches!(v, AttributeValue::Flag(true))
}

fn constant(v: &AttributeValue<EndianSlice<'_, RunTimeEndian>>) -> Option<Const> {
    Some(match *v {
        AttributeValue::Udata(u) => Const::U(u),
        AttributeValue::Sdata(s) => Const::S(s),
        AttributeValue::Data1(d) => Const::Data(d as u64, 1),
        AttributeValue::Data2(d) => Const::Data(d as u64, 2),
        AttributeValue::Data4(d) => Const::Data(d as u64, 4),
        AttributeValue::Data8(d) => Const::Data(d, 8),
        _ => return None,
    })
}

impl Const {
    fn signed(self) -> i128 {
        match self {
            Const::U(u) => u as i128,
            Const::S(s) => s as i128,
            Const::Data(d, n) => {
                let shift = 64 - 8 * n as u32;
                (((d << shift) as i64) >> shift) as i128
            }
        }
    }
    fn unsigned(self) -> i128 {
        match self {
            Const::U(u) | Const::Data(u, _) => u as i128,
            Const::S(s) => s as u64 as i128,
        }
    }
    fn is_negative(self) -> bool {
        matches!(self, Const::S(s) if s < 0)
    }
}

/// A member location expression: `DW_OP_plus_uconst N` (DWARF 2), `DW_OP_constu N`, `DW_OP_litN`.
fn location_expr(b: &[u8]) -> Option<u64> {
    let (&op, rest) = b.split_first()?;
    match op {
        0x23 | 0x10 => uleb(rest),               // DW_OP_plus_uconst, DW_OP_constu
        0x30..=0x4f => Some((op - 0x30) as u64), // DW_OP_lit0..31
        _ => None,
    }
}

fn uleb(b: &[u8]) -> Option<u64> {
    let mut v = 0u64;
    for (i, &byte) in b.iter().enumerate().take(10) {
        v |= ((byte & 0x7f) as u64) << (7 * i);
        if byte & 0x80 == 0 {
            return Some(v);
        }
    }
    None
}

fn is_record(tag: dw::DwTag) -> bool {
    matches!(
        tag,
        dw::DW_TAG_structure_type | dw::DW_TAG_union_type | dw::DW_TAG_class_type
    )
}

/// A union, else a struct (a class is laid out as one).
fn record_kind(tag: dw::DwTag) -> RecordKind {
    if tag == dw::DW_TAG_union_type {
        RecordKind::Union
    } else {
        RecordKind::Struct
    }
}

fn is_qualifier(tag: dw::DwTag) -> bool {
    matches!(
        tag,
        dw::DW_TAG_const_type
            | dw::DW_TAG_volatile_type
            | dw::DW_TAG_restrict_type
            | dw::DW_TAG_atomic_type
    )
}

type Built = (
    Vec<Record>,
    Vec<EnumDef>,
    Vec<FunctionDef>,
    Vec<VariableDef>,
);

impl<'d> Model<'d> {
    fn die(&self, off: usize) -> Option<&Die<'d>> {
        self.dies.get(&off)
    }

    /// Count one step of describing types; `false` once a budget is spent (the first DIE over it is kept, and
    /// every later step fails at once).
    fn step(&self, off: usize) -> bool {
        self.step_n(off, 1)
    }

    /// [`Model::step`] for work worth `n` steps (a long declarator string copied).
    fn step_n(&self, off: usize, n: u64) -> bool {
        let (item, all) = self.steps.get();
        self.steps.set((item + n, all + n));
        let total = (self.dies.len() as u64)
            .saturating_mul(STEPS_PER_DIE)
            .saturating_add(ITEM_BUDGET);
        if item >= ITEM_BUDGET || all >= total || self.over_budget.get().is_some() {
            if self.over_budget.get().is_none() {
                self.over_budget.set(Some(off));
            }
            return false;
        }
        true
    }

    /// The type references that describing a type follows: what a typedef, qualifier, pointer, array or enum
    /// names, a function type's return and parameter types, and an anonymous record's by-value anonymous member
    /// records (a named record is never such a target, so it cannot be on a cycle).
    fn type_edges(&self, d: &Die) -> Vec<usize> {
        match d.tag {
            t if is_record(t) && d.name.is_none() => d
                .children
                .iter()
                .filter_map(|c| self.die(*c))
                .filter(|md| md.tag == dw::DW_TAG_member)
                .filter_map(|md| md.ty)
                .filter(|t| {
                    self.die(*t).is_some_and(|td| {
                        is_record(td.tag) && td.name.is_none() && !self.typedef_of.contains_key(t)
                    })
                })
                .collect(),
            dw::DW_TAG_subroutine_type => {
                d.ty.into_iter()
                    .chain(
                        d.children
                            .iter()
                            .filter_map(|c| self.die(*c))
                            .filter_map(|c| c.ty),
                    )
                    .collect()
            }
            dw::DW_TAG_typedef
            | dw::DW_TAG_pointer_type
            | dw::DW_TAG_reference_type
            | dw::DW_TAG_rvalue_reference_type
            | dw::DW_TAG_array_type
            | dw::DW_TAG_enumeration_type => d.ty.into_iter().collect(),
            t if is_qualifier(t) => d.ty.into_iter().collect(),
            _ => Vec::new(),
        }
    }

    /// Note the first DIE reached deeper than [`MAX_DEPTH`]; the description stops there.
    fn deep(&self, off: usize) {
        if self.too_deep.get().is_none() {
            self.too_deep.set(Some(off));
        }
    }

    /// A cycle of type references reachable from `start` (a typedef naming itself, pointers to each other, a
    /// record holding itself by value), which no compiler writes: the DIE offsets along it (the caller repeats
    /// the first at the end). One depth-first walk, linear in the references; run only when a description went
    /// deeper than [`MAX_DEPTH`], so well-formed files never pay for it.
    fn type_cycle_from(&self, start: usize) -> Option<Vec<usize>> {
        let sd = self.die(start)?;
        let first = self.type_edges(sd);
        if first.is_empty() {
            return None;
        }
        sd.mark.set(1);
        let mut stack: Vec<(usize, Vec<usize>, usize)> = vec![(start, first, 0)];
        while let Some(top) = stack.last_mut() {
            if top.2 < top.1.len() {
                let next = top.1[top.2];
                top.2 += 1;
                let Some(nd) = self.die(next) else { continue };
                match nd.mark.get() {
                    1 => {
                        let i = stack.iter().position(|f| f.0 == next).unwrap_or(0);
                        return Some(stack[i..].iter().map(|f| f.0).collect());
                    }
                    2 => {}
                    _ => {
                        let edges = self.type_edges(nd);
                        if edges.is_empty() {
                            nd.mark.set(2);
                        } else {
                            nd.mark.set(1);
                            stack.push((next, edges, 0));
                        }
                    }
                }
            } else {
                if let Some(d) = self.die(top.0) {
                    d.mark.set(2);
                }
                stack.pop();
            }
        }
        None
    }

    /// Follow DW_AT_specification / DW_AT_abstract_origin until `f` answers.
    fn chain<T>(&self, off: usize, f: impl Fn(&Die) -> Option<T>) -> Option<T> {
        let mut cur = Some(off);
        for _ in 0..8 {
            let d = self.die(cur?)?;
            if let Some(v) = f(d) {
                return Some(v);
            }
            cur = d.origin;
        }
        None
    }

    fn build(&mut self) -> Built {
        let mut records: Vec<Record> = Vec::new();
        let mut rec_idx: HashMap<String, usize> = HashMap::new();
        let mut enums: Vec<EnumDef> = Vec::new();
        let mut enum_idx: HashMap<String, usize> = HashMap::new();
        let mut functions: Vec<FunctionDef> = Vec::new();
        let mut fn_seen: BTreeSet<String> = BTreeSet::new();
        let mut variables: Vec<VariableDef> = Vec::new();
        let mut var_seen: BTreeSet<String> = BTreeSet::new();
        let mut notes = Vec::new();
        let mut noted: BTreeSet<String> = BTreeSet::new();

        // In offset order, by position: no lookup per DIE.
        for i in 0..self.dies.len() {
            self.steps.set((0, self.steps.get().1));
            let (off, d) = (self.dies.offs[i], &self.dies.dies[i]);
            if d.declaration {
                continue;
            }
            if is_record(d.tag) {
                if d.byte_size.is_none() {
                    continue;
                }
                let Some(name) = d
                    .name
                    .as_deref()
                    .map(str::to_owned)
                    .or_else(|| self.typedef_of.get(&off).cloned())
                else {
                    continue;
                };
                match rec_idx.get(&name) {
                    // A later definition of a known name is only compared with the first: its layout key (kind,
                    // size, member names and places) is all the comparison reads, so no full record is built.
                    Some(&i) => {
                        if !noted.contains(&name) && !self.same_layout_as(off, &records[i]) {
                            let kind = record_kind(d.tag);
                            notes.push(format!(
                                "{} {name} is defined differently in {} and {}: the first definition is used",
                                kind_word(kind),
                                records[i].cu,
                                self.cu(d)
                            ));
                            noted.insert(name);
                        }
                    }
                    None => {
                        let rec = self.record(off, 0);
                        rec_idx.insert(name, records.len());
                        records.push(rec);
                    }
                }
            } else if d.tag == dw::DW_TAG_enumeration_type {
                let Some(name) = d
                    .name
                    .as_deref()
                    .map(str::to_owned)
                    .or_else(|| self.typedef_of.get(&off).cloned())
                else {
                    continue;
                };
                let e = self.enum_def(off, &name);
                match enum_idx.get(&name) {
                    Some(&i) => {
                        let a = &enums[i];
                        let differs = a.byte_size != e.byte_size || a.enumerators != e.enumerators;
                        if differs && noted.insert(format!("enum {name}")) {
                            notes.push(format!(
                                "enum {name} is defined differently in {} and {}: the first definition is used",
                                enums[i].cu, e.cu
                            ));
                        }
                    }
                    None => {
                        enum_idx.insert(name, enums.len());
                        enums.push(e);
                    }
                }
            } else if d.tag == dw::DW_TAG_subprogram && d.depth <= 2 {
                if let Some(f) = self.function(off) {
                    if fn_seen.insert(f.name.clone()) {
                        functions.push(f);
                    }
                }
            } else if d.tag == dw::DW_TAG_variable && d.depth == 1 {
                if let Some(v) = self.variable(off) {
                    if var_seen.insert(v.name.clone()) {
                        variables.push(v);
                    }
                }
            }
        }
        self.notes.append(&mut notes);
        (records, enums, functions, variables)
    }

    fn cu(&self, d: &Die) -> String {
        self.units
            .get(d.unit)
            .map(|u| u.name.clone())
            .unwrap_or_default()
    }

    fn record(&self, off: usize, depth: usize) -> Record {
        let d = &self.dies[&off];
        let budget = self.step(off);
        let kind = if d.tag == dw::DW_TAG_union_type {
            RecordKind::Union
        } else {
            RecordKind::Struct
        };
        let typedef_name = self.typedef_of.get(&off).cloned();
        let mut members = Vec::new();
        for &c in d.children.iter().take_while(|_| budget) {
            let Some(md) = self.die(c) else { continue };
            if md.tag != dw::DW_TAG_member || md.external || md.declaration {
                // C++ static data members are DW_TAG_member with DW_AT_external/declaration (DWARF < 5).
                continue;
            }
            members.push(self.member(md, depth));
        }
        Record {
            kind,
            name: d
                .name
                .as_deref()
                .map(str::to_owned)
                .or_else(|| typedef_name.clone())
                .unwrap_or_default(),
            tag: d.name.as_deref().map(str::to_owned),
            typedef_name,
            byte_size: d.byte_size.unwrap_or(0),
            alignment: d.alignment,
            members,
            cu: self.cu(d),
            decl_line: d.decl_line,
        }
    }

    /// Does the record at `off` lay out like `first`: same kind and size, and the same members (name, offset,
    /// size, bit offset and width) in the same order? Reads only that, not the members' full types.
    fn same_layout_as(&self, off: usize, first: &Record) -> bool {
        let d = &self.dies[&off];
        let budget = self.step(off);
        if record_kind(d.tag) != first.kind || d.byte_size.unwrap_or(0) != first.byte_size {
            return false;
        }
        let mut theirs = first.members.iter();
        for &c in d.children.iter().take_while(|_| budget) {
            let Some(md) = self.die(c) else { continue };
            if md.tag != dw::DW_TAG_member || md.external || md.declaration {
                continue;
            }
            let Some(m) = theirs.next() else { return false };
            let size = self.size_of(md.ty, 0).unwrap_or(0);
            let (offset, bit_offset) = self.placement(md, size);
            if m.name.as_deref() != md.name.as_deref()
                || m.offset != offset
                || m.size != size
                || m.bit_offset != bit_offset
                || m.bit_size != md.bit_size
            {
                return false;
            }
        }
        theirs.next().is_none()
    }

    /// A member's byte offset and, for a bitfield, its absolute bit offset (see [`Member::offset`]).
    fn placement(&self, md: &Die, size: u64) -> (u64, Option<u64>) {
        let loc = md.member_loc.unwrap_or(0);
        match md.bit_size {
            Some(bits) => {
                let abs = if let Some(dbo) = md.data_bit_offset {
                    dbo
                } else if let Some(bo) = md.bit_offset {
                    let storage = md.byte_size.unwrap_or(size);
                    if self.little {
                        (loc + storage) * 8 - bo - bits
                    } else {
                        loc * 8 + bo
                    }
                } else {
                    loc * 8
                };
                let unit = size.max(1);
                let mut off = abs / (unit * 8) * unit;
                if abs + bits > (off + unit) * 8 {
                    off = abs / 8;
                }
                (off, Some(abs))
            }
            None => (loc, None),
        }
    }

    fn member(&self, md: &Die, depth: usize) -> Member {
        let ty = self.type_desc(md.ty);
        let size = ty.size.unwrap_or(0);
        let (offset, bit_offset) = self.placement(md, size);
        let name = md.name.as_deref().map(str::to_owned);
        let anon = match (&name, md.ty.and_then(|t| self.die(t))) {
            (_, Some(td))
                if is_record(td.tag)
                    && td.name.is_none()
                    && !self.typedef_of.contains_key(&md.ty.unwrap_or(0)) =>
            {
                let t = md.ty.unwrap_or(0);
                if depth < MAX_DEPTH {
                    Some(Box::new(self.record(t, depth + 1)))
                } else {
                    self.deep(t);
                    None
                }
            }
            _ => None,
        };
        let full = self.decl(md.ty, "\u{1}", 0);
        let (decl_type, decl_name) = split_decl(&full, name.as_deref().unwrap_or(""));
        let decl = tidy(&full.replace('\u{1}', name.as_deref().unwrap_or("")));
        Member {
            name,
            offset,
            size,
            ty,
            bit_size: md.bit_size,
            bit_offset,
            alignment: md.alignment,
            anon,
            decl,
            decl_type,
            decl_name,
        }
    }

    fn enum_def(&self, off: usize, name: &str) -> EnumDef {
        let d = &self.dies[&off];
        let signed = self.enum_signed(off);
        let enumerators = d
            .children
            .iter()
            .filter_map(|c| self.die(*c))
            .filter(|c| c.tag == dw::DW_TAG_enumerator)
            .filter_map(|c| {
                let v = c.const_value?;
                Some((
                    c.name.as_deref().map(str::to_owned).unwrap_or_default(),
                    if signed { v.signed() } else { v.unsigned() },
                ))
            })
            .collect();
        EnumDef {
            name: name.to_string(),
            tag: d.name.as_deref().map(str::to_owned),
            typedef_name: self.typedef_of.get(&off).cloned(),
            byte_size: d.byte_size.or_else(|| self.size_of(d.ty, 0)).unwrap_or(4),
            signed,
            enumerators,
            cu: self.cu(d),
        }
    }

    fn enum_signed(&self, off: usize) -> bool {
        let d = &self.dies[&off];
        if let Some(s) = d.ty.and_then(|t| self.kind(Some(t), 0).signed()) {
            return s;
        }
        if let Some(enc) = d.encoding {
            return enc == dw::DW_ATE_signed.0 || enc == dw::DW_ATE_signed_char.0;
        }
        d.children
            .iter()
            .filter_map(|c| self.die(*c))
            .any(|c| c.const_value.is_some_and(Const::is_negative))
    }

    fn function(&self, off: usize) -> Option<FunctionDef> {
        let d = &self.dies[&off];
        self.chain(off, |x| x.external.then_some(()))?;
        let name = self.chain(off, |x| x.name.as_deref().map(str::to_owned))?;
        let linkage = self.chain(off, |x| x.linkage.as_deref().map(str::to_owned));
        let ret_ty = self.chain(off, |x| x.ty);
        let prototyped = self.chain(off, |x| x.prototyped.then_some(())).is_some();
        // Parameters: this DIE's, else those of the declaration / abstract instance it completes.
        let mut src = off;
        for _ in 0..8 {
            let s = &self.dies[&src];
            let has = s.children.iter().filter_map(|c| self.die(*c)).any(|c| {
                c.tag == dw::DW_TAG_formal_parameter || c.tag == dw::DW_TAG_unspecified_parameters
            });
            match (has, s.origin) {
                (false, Some(o)) if self.dies.contains_key(&o) => src = o,
                _ => break,
            }
        }
        let mut params = Vec::new();
        let mut variadic = false;
        for &c in &self.dies[&src].children {
            let Some(cd) = self.die(c) else { continue };
            if cd.tag == dw::DW_TAG_formal_parameter {
                params.push(ParamDef {
                    name: self.chain(c, |x| x.name.as_deref().map(str::to_owned)),
                    ty: self.type_desc(self.chain(c, |x| x.ty)),
                });
            } else if cd.tag == dw::DW_TAG_unspecified_parameters {
                variadic = true;
            }
        }
        Some(FunctionDef {
            linkage_name: linkage.filter(|l| *l != name),
            name,
            ret: self.type_desc(ret_ty),
            params,
            variadic,
            prototyped,
            cu: self.cu(d),
        })
    }

    fn variable(&self, off: usize) -> Option<VariableDef> {
        let d = &self.dies[&off];
        self.chain(off, |x| x.external.then_some(()))?;
        let name = self.chain(off, |x| x.name.as_deref().map(str::to_owned))?;
        let linkage = self.chain(off, |x| x.linkage.as_deref().map(str::to_owned));
        Some(VariableDef {
            linkage_name: linkage.filter(|l| *l != name),
            name,
            ty: self.type_desc(self.chain(off, |x| x.ty)),
            cu: self.cu(d),
        })
    }

    fn type_desc(&self, ty: Option<usize>) -> TypeDesc {
        let mut cur = ty;
        let mut typedefs = Vec::new();
        let (mut is_const, mut is_volatile) = (false, false);
        for _ in 0..MAX_DEPTH {
            let Some(d) = cur.and_then(|o| self.die(o)) else {
                break;
            };
            match d.tag {
                dw::DW_TAG_const_type => is_const = true,
                dw::DW_TAG_volatile_type => is_volatile = true,
                dw::DW_TAG_restrict_type | dw::DW_TAG_atomic_type => {}
                dw::DW_TAG_typedef => {
                    typedefs.push(d.name.as_deref().map(str::to_owned).unwrap_or_default())
                }
                _ => break,
            }
            cur = d.ty;
        }
        TypeDesc {
            c: tidy(&self.decl(ty, "", 0)),
            size: self.size_of(ty, 0),
            kind: self.kind(cur, 0),
            typedefs,
            is_const,
            is_volatile,
        }
    }

    fn addr_size(&self, d: &Die) -> u64 {
        self.units
            .get(d.unit)
            .map(|u| u.addr_size as u64)
            .unwrap_or(8)
    }

    fn size_of(&self, ty: Option<usize>, depth: usize) -> Option<u64> {
        let d = self.die(ty?)?;
        if depth > MAX_DEPTH {
            self.deep(ty?);
            return None;
        }
        if !self.step(ty?) {
            return None;
        }
        if let Some(s) = d.byte_size {
            if !d.declaration {
                return Some(s);
            }
        }
        match d.tag {
            dw::DW_TAG_pointer_type
            | dw::DW_TAG_reference_type
            | dw::DW_TAG_rvalue_reference_type
            | dw::DW_TAG_ptr_to_member_type => Some(self.addr_size(d)),
            dw::DW_TAG_typedef => self.size_of(d.ty, depth + 1),
            t if is_qualifier(t) => self.size_of(d.ty, depth + 1),
            dw::DW_TAG_array_type => {
                if let Some(bits) = d.bit_size {
                    return Some(bits / 8);
                }
                let mut n = self.size_of(d.ty, depth + 1)?;
                for len in self.dims(d) {
                    n = n.checked_mul(len?)?;
                }
                Some(n)
            }
            _ => None,
        }
    }

    /// Array dimensions; `None` for an unknown (flexible) one.
    fn dims(&self, d: &Die) -> Vec<Option<u64>> {
        d.children
            .iter()
            .filter_map(|c| self.die(*c))
            .filter(|c| c.tag == dw::DW_TAG_subrange_type || c.tag == dw::DW_TAG_enumeration_type)
            .map(|c| {
                if let Some(n) = c.count {
                    let v = n.signed();
                    return (v >= 0).then_some(v as u64);
                }
                let up = c.upper?;
                // `-1` (flexible array) comes as sdata or a full 64-bit value; a data1 0xff is 255.
                let all_ones = matches!(up, Const::Data(u64::MAX, 8) | Const::U(u64::MAX));
                if all_ones || up.is_negative() {
                    return None;
                }
                let lo = c.lower.map(|l| l.unsigned()).unwrap_or(0);
                let n = up.unsigned() - lo + 1;
                u64::try_from(n).ok()
            })
            .collect()
    }

    fn kind(&self, ty: Option<usize>, depth: usize) -> TypeKind {
        let Some(off) = ty else {
            return TypeKind::Void;
        };
        let Some(d) = self.die(off) else {
            return TypeKind::Other {
                tag: "unresolved".into(),
            };
        };
        if depth > MAX_DEPTH {
            self.deep(off);
        }
        if depth > MAX_DEPTH || !self.step(off) {
            return TypeKind::Other {
                tag: "too deep".into(),
            };
        }
        match d.tag {
            dw::DW_TAG_base_type => {
                let size = d.byte_size.unwrap_or(0);
                match d.encoding.map(dw::DwAte) {
                    Some(dw::DW_ATE_boolean) => TypeKind::Bool { size },
                    Some(dw::DW_ATE_float) | Some(dw::DW_ATE_decimal_float) => {
                        TypeKind::Float { size }
                    }
                    Some(dw::DW_ATE_complex_float) => TypeKind::Complex { size },
                    Some(dw::DW_ATE_signed_char) => TypeKind::Char { signed: true, size },
                    Some(dw::DW_ATE_unsigned_char) | Some(dw::DW_ATE_UTF) => TypeKind::Char {
                        signed: false,
                        size,
                    },
                    Some(dw::DW_ATE_signed) => TypeKind::Int { signed: true, size },
                    Some(dw::DW_ATE_unsigned) => TypeKind::Int {
                        signed: false,
                        size,
                    },
                    _ if size == 0 => TypeKind::Void,
                    _ => TypeKind::Other {
                        tag: format!("base type {}", d.name.as_deref().unwrap_or("?")),
                    },
                }
            }
            dw::DW_TAG_unspecified_type => TypeKind::Void,
            dw::DW_TAG_pointer_type => TypeKind::Pointer {
                pointee: Box::new(self.kind(d.ty, depth + 1)),
            },
            t if is_record(t) => TypeKind::Record {
                record: if t == dw::DW_TAG_union_type {
                    RecordKind::Union
                } else {
                    RecordKind::Struct
                },
                name: d
                    .name
                    .as_deref()
                    .map(str::to_owned)
                    .or_else(|| self.typedef_of.get(&off).cloned()),
                size: if d.declaration { None } else { d.byte_size },
            },
            dw::DW_TAG_enumeration_type => TypeKind::Enum {
                name: d
                    .name
                    .as_deref()
                    .map(str::to_owned)
                    .or_else(|| self.typedef_of.get(&off).cloned()),
                size: d
                    .byte_size
                    .or_else(|| self.size_of(d.ty, depth + 1))
                    .unwrap_or(4),
                signed: self.enum_signed(off),
            },
            dw::DW_TAG_array_type => {
                let mut k = self.kind(d.ty, depth + 1);
                for len in self.dims(d).into_iter().rev() {
                    k = TypeKind::Array {
                        elem: Box::new(k),
                        len,
                    };
                }
                k
            }
            dw::DW_TAG_subroutine_type => {
                let mut params = Vec::new();
                let mut variadic = false;
                for c in d.children.iter().filter_map(|c| self.die(*c)) {
                    if c.tag == dw::DW_TAG_formal_parameter {
                        params.push(self.kind(c.ty, depth + 1));
                    } else if c.tag == dw::DW_TAG_unspecified_parameters {
                        variadic = true;
                    }
                }
                TypeKind::Function {
                    ret: Box::new(self.kind(d.ty, depth + 1)),
                    params,
                    variadic,
                }
            }
            dw::DW_TAG_typedef => self.kind(d.ty, depth + 1),
            t if is_qualifier(t) => self.kind(d.ty, depth + 1),
            t => TypeKind::Other {
                tag: t
                    .static_string()
                    .unwrap_or("unknown")
                    .trim_start_matches("DW_TAG_")
                    .to_string(),
            },
        }
    }

    /// The name a type is spelled with where it is a base of a declaration.
    fn base_name(&self, off: usize) -> String {
        let d = &self.dies[&off];
        let word = match d.tag {
            dw::DW_TAG_structure_type | dw::DW_TAG_class_type => Some("struct"),
            dw::DW_TAG_union_type => Some("union"),
            dw::DW_TAG_enumeration_type => Some("enum"),
            _ => None,
        };
        match (word, &d.name) {
            (Some(w), Some(n)) => format!("{w} {n}"),
            (Some(w), None) => match self.typedef_of.get(&off) {
                Some(t) => t.clone(),
                None => format!("{w} {{...}}"),
            },
            (None, Some(n)) => n.to_string(),
            (None, None) => "void".into(),
        }
    }

    /// A C declaration of `inner` (a name, or empty for an abstract declarator) with type `ty`.
    fn decl(&self, ty: Option<usize>, inner: &str, depth: usize) -> String {
        let Some(d) = ty.and_then(|o| self.die(o).map(|d| (o, d))) else {
            return join("void", inner);
        };
        let (off, d) = d;
        if depth > MAX_DEPTH {
            self.deep(off);
        }
        if depth > MAX_DEPTH || !self.step_n(off, 1 + inner.len() as u64 / 16) {
            return join("?", inner);
        }
        match d.tag {
            dw::DW_TAG_pointer_type
            | dw::DW_TAG_reference_type
            | dw::DW_TAG_rvalue_reference_type => {
                let sigil = match d.tag {
                    dw::DW_TAG_reference_type => "&",
                    dw::DW_TAG_rvalue_reference_type => "&&",
                    _ => "*",
                };
                let target = self.strip_quals_tag(d.ty);
                let wrap = matches!(
                    target,
                    Some(dw::DW_TAG_array_type) | Some(dw::DW_TAG_subroutine_type)
                );
                let i = if wrap {
                    format!("({sigil}{inner})")
                } else {
                    format!("{sigil}{inner}")
                };
                self.decl(d.ty, &i, depth + 1)
            }
            t if is_qualifier(t) => {
                let q = match t {
                    dw::DW_TAG_const_type => "const",
                    dw::DW_TAG_volatile_type => "volatile",
                    dw::DW_TAG_restrict_type => "restrict",
                    _ => "_Atomic",
                };
                let target = d.ty.and_then(|o| self.die(o)).map(|t| t.tag);
                if target == Some(dw::DW_TAG_pointer_type) {
                    let i = if inner.is_empty() {
                        q.to_string()
                    } else {
                        format!("{q} {inner}")
                    };
                    self.decl(d.ty, &i, depth + 1)
                } else {
                    format!("{q} {}", self.decl(d.ty, inner, depth + 1))
                }
            }
            dw::DW_TAG_array_type => {
                let mut i = inner.to_string();
                for len in self.dims(d) {
                    match len {
                        Some(n) => i.push_str(&format!("[{n}]")),
                        None => i.push_str("[]"),
                    }
                }
                self.decl(d.ty, &i, depth + 1)
            }
            dw::DW_TAG_subroutine_type => {
                let mut ps: Vec<String> = Vec::new();
                for c in d.children.iter().filter_map(|c| self.die(*c)) {
                    if c.tag == dw::DW_TAG_formal_parameter {
                        ps.push(tidy(&self.decl(c.ty, "", depth + 1)));
                    } else if c.tag == dw::DW_TAG_unspecified_parameters {
                        ps.push("...".into());
                    }
                }
                if ps.is_empty() && d.prototyped {
                    ps.push("void".into());
                }
                let i = format!("{inner}({})", ps.join(", "));
                self.decl(d.ty, &i, depth + 1)
            }
            _ => join(&self.base_name(off), inner),
        }
    }

    fn strip_quals_tag(&self, ty: Option<usize>) -> Option<dw::DwTag> {
        let mut cur = ty;
        for _ in 0..MAX_DEPTH {
            let d = self.die(cur?)?;
            if is_qualifier(d.tag) {
                cur = d.ty;
            } else {
                return Some(d.tag);
            }
        }
        None
    }
}

fn join(base: &str, inner: &str) -> String {
    if inner.is_empty() {
        base.to_string()
    } else {
        format!("{base} {inner}")
    }
}

/// Normalise spacing of an abstract declarator (`char *`, `int [3]`, `void (*)(int)`).
fn tidy(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Split a declaration with the name placeholder `\u{1}` the way pahole prints it: the base type (with any
/// leading pointer stars) in one column, the declarator with the name in the other.
fn split_decl(full: &str, name: &str) -> (String, String) {
    let Some(p) = full.find('\u{1}') else {
        return (tidy(full), name.to_string());
    };
    let (left, right) = (&full[..p], &full[p + 1..]);
    let trimmed = left.trim_end_matches(['(', '*', ' ', '&']);
    let tail = &left[trimmed.len()..];
    match tail.find('(') {
        Some(q) => (
            tidy(&left[..trimmed.len() + q]),
            format!(
                "{}{name}{right}",
                left[trimmed.len() + q..].replace(' ', "")
            ),
        ),
        None => (tidy(left), format!("{name}{right}")),
    }
}

fn kind_word(k: RecordKind) -> &'static str {
    match k {
        RecordKind::Struct => "struct",
        RecordKind::Union => "union",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model() -> Model<'static> {
        Model {
            dies: Dies::new(),
            units: vec![Unit {
                name: "u.c".into(),
                addr_size: 8,
            }],
            typedef_of: HashMap::new(),
            notes: Vec::new(),
            little: true,
            steps: std::cell::Cell::new((0, 0)),
            over_budget: std::cell::Cell::new(None),
            too_deep: std::cell::Cell::new(None),
        }
    }

    /// 40 function types, each returning and taking two of the next: 2^40 paths through an acyclic graph, cut
    /// off by the step budget in bounded time.
    #[test]
    fn fan_out_type_graph_is_cut_off() {
        let mut m = model();
        let n = 40;
        let at = |i: usize| 100 * i + 100;
        for i in 0..n {
            let next = (i + 1 < n).then(|| at(i + 1));
            let mut f = Die::new(dw::DW_TAG_subroutine_type, 1, 0);
            f.ty = next;
            f.prototyped = true;
            f.children = vec![at(i) + 1, at(i) + 2];
            m.dies.insert(at(i), f);
            for k in 1..=2 {
                let mut p = Die::new(dw::DW_TAG_formal_parameter, 2, 0);
                p.ty = next;
                m.dies.insert(at(i) + k, p);
            }
        }
        let mut v = Die::new(dw::DW_TAG_variable, 1, 0);
        v.name = Some("v".into());
        v.external = true;
        v.ty = Some(at(0));
        m.dies.insert(50, v);
        assert!(m.type_cycle_from(at(0)).is_none());
        let t = std::time::Instant::now();
        let _ = m.build();
        assert!(m.over_budget.get().is_some());
        assert!(
            t.elapsed() < std::time::Duration::from_secs(30),
            "{:?}",
            t.elapsed()
        );
    }

    /// A record holding itself by value through an anonymous member record is a cycle.
    #[test]
    fn record_holding_itself_is_a_cycle() {
        let mut m = model();
        let mut r = Die::new(dw::DW_TAG_structure_type, 1, 0);
        r.byte_size = Some(8);
        r.children = vec![20];
        m.dies.insert(10, r);
        let mut mem = Die::new(dw::DW_TAG_member, 2, 0);
        mem.ty = Some(10);
        m.dies.insert(20, mem);
        assert_eq!(m.type_cycle_from(10), Some(vec![10]));
    }

    /// A later definition of a known record is compared by layout only: the same members at the same places
    /// are no note (whatever their type spelling), a moved or resized member or bitfield is one.
    #[test]
    fn redefinitions_compared_by_layout() {
        fn rec(
            m: &mut Model<'_>,
            at: usize,
            unit: usize,
            members: &[(&'static str, u64, Option<u64>)],
        ) {
            let mut r = Die::new(dw::DW_TAG_structure_type, 1, unit);
            r.name = Some("s".into());
            r.byte_size = Some(16);
            r.children = (1..=members.len()).map(|k| at + 2 * k).collect();
            m.dies.insert(at, r);
            for (k, &(name, loc, bits)) in members.iter().enumerate() {
                let mut md = Die::new(dw::DW_TAG_member, 2, unit);
                md.name = Some(name.into());
                md.member_loc = Some(loc);
                md.bit_size = bits;
                md.data_bit_offset = bits.map(|_| loc * 8);
                md.ty = Some(1);
                m.dies.insert(at + 2 * (k + 1), md);
            }
        }
        let notes = |second: &[(&'static str, u64, Option<u64>)]| {
            let mut m = model();
            m.units.push(Unit {
                name: "v.c".into(),
                addr_size: 8,
            });
            let mut int = Die::new(dw::DW_TAG_base_type, 1, 0);
            int.byte_size = Some(4);
            int.encoding = Some(dw::DW_ATE_signed.0);
            m.dies.insert(1, int);
            rec(&mut m, 100, 0, &[("a", 0, None), ("f", 4, Some(3))]);
            rec(&mut m, 200, 1, second);
            let (records, ..) = m.build();
            assert_eq!(records.len(), 1);
            assert_eq!(records[0].cu, "u.c");
            m.notes
        };
        assert!(notes(&[("a", 0, None), ("f", 4, Some(3))]).is_empty());
        let differ =
            ["struct s is defined differently in u.c and v.c: the first definition is used"];
        assert_eq!(notes(&[("a", 4, None), ("f", 4, Some(3))]), differ);
        assert_eq!(notes(&[("a", 0, None), ("f", 4, Some(4))]), differ);
        assert_eq!(notes(&[("a", 0, None)]), differ);
        assert_eq!(notes(&[("b", 0, None), ("f", 4, Some(3))]), differ);
        assert_eq!(
            notes(&[("a", 0, None), ("f", 4, Some(3)), ("g", 8, None)]),
            differ
        );
    }

    #[test]
    fn location_expressions() {
        assert_eq!(location_expr(&[0x23, 0x90, 0x01]), Some(144));
        assert_eq!(location_expr(&[0x32]), Some(2));
        assert_eq!(location_expr(&[0x96]), None);
    }

    #[test]
    fn split_declarations() {
        assert_eq!(
            split_decl("struct node *\u{1}", "left"),
            ("struct node *".into(), "left".into())
        );
        assert_eq!(
            split_decl("int \u{1}[3][2]", "matrix"),
            ("int".into(), "matrix[3][2]".into())
        );
        assert_eq!(
            split_decl("void (*\u{1})(struct shape *, int, ...)", "cb"),
            ("void".into(), "(*cb)(struct shape *, int, ...)".into())
        );
    }

    #[test]
    fn data_form_sign_extension() {
        assert_eq!(Const::Data(0xff, 1).signed(), -1);
        assert_eq!(Const::Data(0xff, 1).unsigned(), 255);
    }
}
