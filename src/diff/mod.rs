//! `ffi-doctor diff OLD NEW` as a library call: did a release break the people who bind to the last one?
//!
//! OLD and NEW are libraries (ELF, PE, Mach-O; a universal file slice by slice), wheels (binaries paired by their
//! path in the wheel) or directories ([`inputs`]). Each pair of binaries is compared on three levels, each a
//! module with one job:
//! - [`exports`]: removed, added, kind and data-size changes, ELF symbol versions, PE ordinals and forwarders;
//! - [`identity`]: SONAME / install name / DLL name, Mach-O versions, needed and re-exported libraries, GLIBC /
//!   GLIBCXX / CXXABI requirements, minimum macOS;
//! - [`types`]: functions, variables and the records and enums they reach, from each side's DWARF — or, with
//!   both releases' headers ([`SpecPair`]), from the declarations laid out by the ABI engine ([`spec_types`]).
//!
//! Which declarations matter can be narrowed with an [`Interest`]: from a spec ([`Interest::from_spec`], the
//! `--spec` option) or — the hook for a Python binding reader — from any list of function and variable names and
//! the records the binding defines completely (fill an [`Interest`] and pass it in [`DiffOptions::interest`]).
//! Every finding is of the FFI08xx family; its location is the NEW file (the release under review).

pub mod exports;
pub mod identity;
pub mod inputs;
pub mod spec_types;
pub mod types;

use std::collections::BTreeSet;

use serde::Serialize;

use crate::binary::{self, Format, Image, Mapped, ReadOptions};
use crate::decl::{Spec, Type};
use crate::dwarf::{DebugOptions, DebugSearch};
use crate::error::InputError;
use crate::report::codes::{Code, DiffCode};
use crate::report::{Finding, Location, Severity};

pub use inputs::InputKind;
pub use types::TypeStats;

/// The JSON schema name of the diff report.
pub const SCHEMA: &str = "ffi-doctor/diff/v1";

/// The declarations a caller uses: only these are compared (exports by C name, types reached from them).
#[derive(Debug, Clone, Default)]
pub struct Interest {
    /// Function and variable names (C names).
    pub names: BTreeSet<String>,
    /// Records (tags and the typedef names of records) the caller's declarations define completely: a record
    /// reached only through a pointer is part of the ABI only when it is here.
    pub complete_records: BTreeSet<String>,
}

impl Interest {
    /// The functions, variables and complete records a spec declares.
    pub fn from_spec(spec: &Spec) -> Interest {
        let mut i = Interest::default();
        i.names
            .extend(spec.functions.iter().map(|f| f.name.clone()));
        i.names
            .extend(spec.variables.iter().map(|v| v.name.clone()));
        for r in spec.records.iter().filter(|r| r.complete) {
            if let Some(t) = &r.tag {
                i.complete_records.insert(t.clone());
            }
        }
        for t in &spec.typedefs {
            if let Type::Record { id } = t.ty.ty {
                if spec.records.get(id).is_some_and(|r| r.complete) {
                    i.complete_records.insert(t.name.clone());
                }
            }
        }
        i
    }

    /// What a Python binding uses: the functions it looks up (ctypes declarations, named prototypes, and what its
    /// cffi `cdef`s declare), and as complete records its `Structure`/`Union` classes with `_fields_` (a class
    /// stands for the C record of its name, as `check` pairs them) and the records its cdefs define.
    pub fn from_binding(
        b: &crate::bindings::model::Binding,
        parse: &crate::decl::ParseOptions,
    ) -> Result<Interest, InputError> {
        let mut i = Interest::default();
        i.names.extend(b.function_names().map(str::to_string));
        i.complete_records.extend(
            b.records
                .iter()
                .filter(|r| r.fields.is_some())
                .map(|r| r.name.clone()),
        );
        if !b.cdefs.is_empty() {
            let mut p = parse.clone();
            p.cffi = true;
            let spec = crate::decl::parse_str(&b.file, &b.cdef_text(), &p)?;
            i = i.union(Interest::from_spec(&spec));
        }
        Ok(i)
    }

    /// Both sides' declarations together (`--old-spec` and `--new-spec`).
    pub fn union(mut self, other: Interest) -> Interest {
        self.names.extend(other.names);
        self.complete_records.extend(other.complete_records);
        self
    }
}

/// How to diff.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Where to look for separate debug files (both sides).
    pub debug: DebugOptions,
    /// Compare exports and identity only.
    pub no_dwarf: bool,
    /// Only this architecture of universal Mach-O files.
    pub arch: Option<String>,
    /// Only these declarations (none: everything exported).
    pub interest: Option<Interest>,
    /// Compare the types two headers declare instead of the DWARF (`--old-spec` with `--new-spec`).
    pub specs: Option<SpecPair>,
}

/// The headers of the two releases and how to preprocess them.
#[derive(Debug, Clone)]
pub struct SpecPair {
    pub old: String,
    pub new: String,
    pub parse: crate::decl::ParseOptions,
}

/// What one comparison needs to know while it emits findings.
pub struct Ctx<'a> {
    /// The NEW file as shown in locations.
    pub new_file: &'a str,
    pub interest: Option<&'a Interest>,
}

impl Ctx<'_> {
    /// Is the C name `name` one the caller uses?
    pub fn wants(&self, name: &str) -> bool {
        self.interest.is_none_or(|i| i.names.contains(name))
    }

    /// Does a pointer to the record `name` make it part of the ABI? Without an interest: whenever DWARF has
    /// the record complete.
    pub fn public_record(&self, name: &str) -> bool {
        self.interest
            .is_none_or(|i| i.complete_records.contains(name))
    }

    /// A symbol of the NEW file.
    pub fn symbol(&self, name: &str) -> Location {
        Location::symbol(self.new_file, name)
    }
}

/// Build a finding of the diff family; `severity` overrides the code's default.
pub(crate) fn finding(
    code: DiffCode,
    severity: Option<Severity>,
    location: Location,
    message: String,
    expected: String,
    found: String,
    hint: String,
) -> Finding {
    Finding {
        code: Code::Diff(code),
        severity: severity.unwrap_or(code.info().severity),
        location,
        message,
        expected,
        found,
        hint,
    }
}

/// Where one side's DWARF came from.
#[derive(Debug, Clone, Serialize)]
pub struct DebugNote {
    pub source: &'static str,
    pub path: String,
    pub dwarf_versions: Vec<u16>,
}

/// One pair of binaries (one architecture of them).
#[derive(Debug, Clone, Serialize)]
pub struct PairReport {
    pub old: String,
    pub new: String,
    pub format: Format,
    pub arch: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old_debug: Option<DebugNote>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_debug: Option<DebugNote>,
    /// What the type comparison covered (absent when it did not run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub types: Option<TypeStats>,
    /// The library's own name changed: breaking changes are the intended kind.
    pub renamed: bool,
    pub findings: Vec<Finding>,
}

/// The whole diff.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    pub schema: &'static str,
    pub old: String,
    pub new: String,
    pub old_kind: InputKind,
    pub new_kind: InputKind,
    pub pairs: Vec<PairReport>,
    /// Findings about binaries without a counterpart.
    pub unpaired: Vec<Finding>,
    /// Findings a suppression rule accepted, with its reason (taken out of `pairs` and `unpaired`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suppressed: Vec<Suppressed>,
    pub summary: DiffSummary,
}

/// Counts over the report's (unsuppressed) findings.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffSummary {
    pub pairs: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    pub suppressed: usize,
    /// Some change breaks callers of OLD (an error).
    pub breaking: bool,
}

/// A finding a suppression rule accepted.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    #[serde(flatten)]
    pub finding: Finding,
    pub reason: String,
}

/// A `[[baseline]]`-style rule: a code, a glob over the location's text (`*` also crosses `/`) and a reason.
#[derive(Debug, Clone)]
pub struct Suppression {
    pub code: Code,
    pub location: glob::Pattern,
    pub reason: String,
}

impl DiffReport {
    /// Every finding, pairs first.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.pairs
            .iter()
            .flat_map(|p| &p.findings)
            .chain(&self.unpaired)
    }

    /// Move the findings a rule accepts to [`DiffReport::suppressed`].
    pub fn suppress(&mut self, rules: &[Suppression]) {
        if rules.is_empty() {
            return;
        }
        let mut taken = Vec::new();
        let mut sift = |fs: &mut Vec<Finding>| {
            fs.retain(|f| {
                let text = f.location.to_string();
                match rules
                    .iter()
                    .find(|r| r.code == f.code && r.location.matches(&text))
                {
                    Some(r) => {
                        taken.push(Suppressed {
                            finding: f.clone(),
                            reason: r.reason.clone(),
                        });
                        false
                    }
                    None => true,
                }
            })
        };
        for p in &mut self.pairs {
            sift(&mut p.findings);
        }
        sift(&mut self.unpaired);
        self.suppressed.extend(taken);
        self.summarize();
    }

    /// Recount [`DiffReport::summary`].
    fn summarize(&mut self) {
        let mut s = DiffSummary {
            pairs: self.pairs.len(),
            suppressed: self.suppressed.len(),
            ..DiffSummary::default()
        };
        for f in self.findings() {
            match f.severity {
                Severity::Error => s.errors += 1,
                Severity::Warning => s.warnings += 1,
                Severity::Info => s.infos += 1,
            }
        }
        s.breaking = s.errors > 0;
        self.summary = s;
    }

    /// Is any change breaking (an error)?
    pub fn breaking(&self) -> bool {
        self.findings().any(|f| f.severity == Severity::Error)
    }
}

/// Diff two inputs (libraries, wheels or directories).
pub fn diff_paths(old: &str, new: &str, opts: &DiffOptions) -> Result<DiffReport, InputError> {
    let (so, sn) = (inputs::open(old)?, inputs::open(new)?);
    if so.kind != sn.kind {
        let kind = |k: inputs::InputKind| match k {
            inputs::InputKind::File => "a library file",
            inputs::InputKind::Directory => "a directory",
            inputs::InputKind::Wheel => "a wheel",
        };
        return Err(InputError::new(
            new,
            format!("the new release as {}, like OLD ({old})", kind(so.kind)),
            kind(sn.kind),
        )
        .hint(
            "compare a library with a library, a wheel with a wheel, a directory with a directory",
        ));
    }
    let (pairs, old_left, new_left) = inputs::pair(&so.binaries, &sn.binaries);
    let mut report = DiffReport {
        schema: SCHEMA,
        old: old.to_string(),
        new: new.to_string(),
        old_kind: so.kind,
        new_kind: sn.kind,
        pairs: Vec::new(),
        unpaired: Vec::new(),
        suppressed: Vec::new(),
        summary: DiffSummary::default(),
    };
    for (i, j) in pairs {
        let (a, b) = (&so.binaries[i], &sn.binaries[j]);
        report.pairs.extend(diff_files(
            &a.path.to_string_lossy(),
            &a.display,
            &b.path.to_string_lossy(),
            &b.display,
            opts,
        )?);
    }
    for i in old_left {
        let a = &so.binaries[i];
        report.unpaired.push(finding(
            DiffCode::LibraryRemoved,
            None,
            Location::file(&a.display),
            format!("{} has no counterpart in NEW", a.key),
            a.key.clone(),
            "nothing".into(),
            "callers that load it fail: ship it again, or say in the release notes what replaces it".into(),
        ));
    }
    for j in new_left {
        let b = &sn.binaries[j];
        report.unpaired.push(finding(
            DiffCode::LibraryAdded,
            None,
            Location::file(&b.display),
            format!("{} is new", b.key),
            "nothing".into(),
            b.key.clone(),
            "compatible".into(),
        ));
    }
    report.summarize();
    Ok(report)
}

/// Diff two binary files (every architecture of a universal Mach-O file against the same one of the other).
pub fn diff_files(
    old_path: &str,
    old_display: &str,
    new_path: &str,
    new_display: &str,
    opts: &DiffOptions,
) -> Result<Vec<PairReport>, InputError> {
    let (mo, mn) = (Mapped::open(old_path)?, Mapped::open(new_path)?);
    let ro = ReadOptions { demangle: false };
    let (io, inew) = (
        binary::read_guarded(&mo, opts.arch.as_deref(), ro)?,
        binary::read_guarded(&mn, opts.arch.as_deref(), ro)?,
    );
    let mut out = Vec::new();
    let mut arch_findings = Vec::new();
    for a in &io {
        match inew
            .iter()
            .find(|b| binary::arch_matches(&b.arch, &a.arch))
            .or(if io.len() == 1 && inew.len() == 1 {
                inew.first()
            } else {
                None
            }) {
            Some(b) => out.push(diff_images(a, old_display, b, new_display, opts)?),
            None => arch_findings.push(finding(
                DiffCode::ArchRemoved,
                None,
                Location::file(new_display),
                format!("the {} slice is gone", a.arch),
                a.arch.clone(),
                "no such slice".into(),
                "callers on that architecture cannot load NEW".into(),
            )),
        }
    }
    for b in &inew {
        if !io.iter().any(|a| binary::arch_matches(&a.arch, &b.arch)) && io.len() > 1 {
            arch_findings.push(finding(
                DiffCode::ArchAdded,
                None,
                Location::file(new_display),
                format!("the {} slice is new", b.arch),
                "no such slice".into(),
                b.arch.clone(),
                "compatible".into(),
            ));
        }
    }
    if let Some(first) = out.first_mut() {
        first.findings.splice(0..0, arch_findings);
    } else if !arch_findings.is_empty() {
        out.push(PairReport {
            old: old_display.to_string(),
            new: new_display.to_string(),
            format: io.first().map_or(Format::Macho, |i| i.format),
            arch: String::new(),
            old_debug: None,
            new_debug: None,
            types: None,
            renamed: false,
            findings: arch_findings,
        });
    }
    Ok(out)
}

fn debug_note(s: &DebugSearch) -> Option<DebugNote> {
    s.info.as_ref().map(|d| DebugNote {
        source: d.source.as_str(),
        path: d.path.display().to_string(),
        dwarf_versions: d.dwarf_versions.clone(),
    })
}

/// Sorted, deduplicated C names of an image's exports.
fn export_names<'a>(img: &'a Image<'_>) -> Vec<&'a str> {
    let mut v: Vec<&str> = img.exports.iter().map(|e| e.c_name.as_ref()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Diff two images of one library.
pub fn diff_images(
    old: &Image<'_>,
    old_display: &str,
    new: &Image<'_>,
    new_display: &str,
    opts: &DiffOptions,
) -> Result<PairReport, InputError> {
    let ctx = Ctx {
        new_file: new_display,
        interest: opts.interest.as_ref(),
    };
    let mut findings = Vec::new();
    identity::compare(&ctx, old, new, &mut findings);
    exports::compare(&ctx, old, new, &mut findings);
    let mut report = PairReport {
        old: old_display.to_string(),
        new: new_display.to_string(),
        format: new.format,
        arch: new.arch.clone(),
        old_debug: None,
        new_debug: None,
        types: None,
        renamed: findings
            .iter()
            .any(|f| f.code == Code::Diff(DiffCode::Identity)),
        findings: Vec::new(),
    };
    if let Some(sp) = &opts.specs {
        declared_types(&ctx, old, new, sp, &mut report, &mut findings)?;
    } else if !opts.no_dwarf {
        // The two DWARF reads are independent and the bulk of the work: side by side.
        let search = |display: &str, img: &Image<'_>| {
            let mut dopts = opts.debug.clone();
            dopts.arch = Some(img.arch.clone());
            crate::dwarf::search_image(display, img, &dopts)
        };
        let (so, sn) = rayon::join(|| search(old_display, old), || search(new_display, new));
        let (so, sn) = (so?, sn?);
        report.old_debug = debug_note(&so);
        report.new_debug = debug_note(&sn);
        match (&so.info, &sn.info) {
            (Some(a), Some(b)) => {
                let (eo, en) = (export_names(old), export_names(new));
                let both = |n: &str| eo.binary_search(&n).is_ok() && en.binary_search(&n).is_ok();
                let stats = types::compare(&ctx, a, b, &both, false, &mut findings);
                let versions = |d: &crate::dwarf::DebugInfo| {
                    d.dwarf_versions
                        .iter()
                        .map(|v| v.to_string())
                        .collect::<Vec<_>>()
                        .join("+")
                };
                findings.push(finding(
                    DiffCode::Summary,
                    None,
                    Location::file(new_display),
                    format!(
                        "compared {} functions, {} variables, {} records, {} enums (DWARF {} / DWARF {})",
                        stats.functions,
                        stats.variables,
                        stats.records,
                        stats.enums,
                        versions(a),
                        versions(b)
                    ),
                    String::new(),
                    String::new(),
                    String::new(),
                ));
                report.types = Some(stats);
            }
            _ => {
                let missing: Vec<&str> = [(so.info.is_none(), "OLD"), (sn.info.is_none(), "NEW")]
                    .iter()
                    .filter(|x| x.0)
                    .map(|x| x.1)
                    .collect();
                findings.push(finding(
                    DiffCode::NoDebugInfo,
                    None,
                    Location::file(new_display),
                    format!(
                        "no DWARF in {}: only exports and identity were compared",
                        missing.join(" and ")
                    ),
                    "DWARF on both sides".into(),
                    format!("none in {}", missing.join(" and ")),
                    "build both releases with -g (or pass --debug-dir with their separate debug files) to compare \
                     types"
                        .into(),
                ));
            }
        }
    }
    report.findings = group_spelling(findings);
    Ok(report)
}

/// Typedef-name and qualifier changes (FFI0848) with the same old and new spelling become one finding naming
/// every place: a release that renames `png_structp` to `png_structrp` does so in hundreds of prototypes.
fn group_spelling(findings: Vec<Finding>) -> Vec<Finding> {
    let spelling = Code::Diff(DiffCode::Spelling);
    let mut out = Vec::with_capacity(findings.len());
    let mut groups: Vec<(String, String, Vec<Finding>)> = Vec::new();
    for f in findings {
        if f.code != spelling || f.severity != DiffCode::Spelling.info().severity {
            out.push(f);
            continue;
        }
        // `x of f(): A → B`: the subject is what comes before the colon.
        let key_a = f.expected.split(" (").next().unwrap_or("").to_string();
        let key_b = f.found.split(" (").next().unwrap_or("").to_string();
        match groups.iter_mut().find(|g| g.0 == key_a && g.1 == key_b) {
            Some(g) => g.2.push(f),
            None => groups.push((key_a, key_b, vec![f])),
        }
    }
    for (a, b, mut fs) in groups {
        if fs.len() == 1 {
            out.extend(fs);
            continue;
        }
        let places: Vec<String> = fs
            .iter()
            .map(|f| f.message.split(": ").next().unwrap_or("").to_string())
            .collect();
        let mut first = fs.swap_remove(0);
        first.location = Location::file(first.location.file.clone());
        first.message = format!("{a} → {b} in {} places", places.len());
        first.hint = format!(
            "compatible: the same underlying type under another typedef name or qualifier; in {}",
            places.join("; ")
        );
        out.push(first);
    }
    out
}

/// Whether a PE image was linked by MinGW (its C runtime is msvcrt.dll or it needs libgcc / libwinpthread).
fn pe_is_mingw(img: &Image<'_>) -> bool {
    img.needed.iter().any(|n| {
        let l = n.name.to_ascii_lowercase();
        l == "msvcrt.dll" || l.starts_with("libgcc_s") || l.starts_with("libwinpthread")
    })
}

/// Types from the two headers, laid out for the library's target.
fn declared_types(
    ctx: &Ctx<'_>,
    old: &Image<'_>,
    new: &Image<'_>,
    sp: &SpecPair,
    report: &mut PairReport,
    findings: &mut Vec<Finding>,
) -> Result<(), InputError> {
    let Some(target) = crate::abi::for_image(new.format, &new.arch, pe_is_mingw(new)) else {
        findings.push(finding(
            DiffCode::NoDebugInfo,
            None,
            Location::file(ctx.new_file),
            format!(
                "the ABI engine has no target for {} {}: the headers' types were not compared",
                new.format.as_str(),
                new.arch
            ),
            "a known target".into(),
            format!("{} {}", new.format.as_str(), new.arch),
            String::new(),
        ));
        return Ok(());
    };
    let parse = |p: &str| crate::layout::compare::parse_for(p, &sp.parse, Some(target));
    let (so, sn) = (parse(&sp.old)?, parse(&sp.new)?);
    let (a, b) = (
        spec_types::debug_info(&so, target, &sp.old),
        spec_types::debug_info(&sn, target, &sp.new),
    );
    let (eo, en) = (export_names(old), export_names(new));
    let both = |n: &str| eo.binary_search(&n).is_ok() && en.binary_search(&n).is_ok();
    let stats = types::compare(ctx, &a, &b, &both, true, findings);
    findings.push(finding(
        DiffCode::Summary,
        None,
        Location::file(ctx.new_file),
        format!(
            "compared {} functions, {} variables, {} records, {} enums (declared in {} / {}, laid out for {})",
            stats.functions,
            stats.variables,
            stats.records,
            stats.enums,
            sp.old,
            sp.new,
            target.name()
        ),
        String::new(),
        String::new(),
        String::new(),
    ));
    let note = |p: &str| DebugNote {
        source: "spec",
        path: p.to_string(),
        dwarf_versions: Vec::new(),
    };
    report.old_debug = Some(note(&sp.old));
    report.new_debug = Some(note(&sp.new));
    report.types = Some(stats);
    Ok(())
}
