//! `check LIB SPEC` as a library call: a declared interface (C header or cffi cdef) against the library — exported
//! symbols, the target's ABI, portability traps, the library's own DWARF when present and, with `runtime`, a real
//! load in an isolated child. [`check_library`] is what the `check` command and `gate` call.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::abi::{self, Target};
use crate::binary::{read_guarded, Image, Mapped, ReadOptions};
use crate::check::symbols::DepExport;
use crate::decl::{ParseOptions, RecordKind, Spec};
use crate::dwarf::DebugOptions;
use crate::error::InputError;
use crate::layout::{parse_for, parse_per_target, PerTarget};
use crate::report::codes::{Code, LayoutCode, RuntimeCode, SymbolCode};
use crate::report::{Finding, Severity};

/// The result of checking one library image against a spec.
#[derive(Debug, Serialize)]
pub struct ImageCheck {
    pub arch: String,
    pub target: Option<&'static str>,
    pub declared_functions: usize,
    pub declared_variables: usize,
    pub declared_records: usize,
    /// Functions and variables declared by other libraries' headers (the C library's) reached from the spec,
    /// which are not checked against this library.
    pub not_checked: crate::decl::Foreign,
    pub findings: Vec<Finding>,
}

/// What `check` reports for one library.
#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub schema: &'static str,
    pub library: String,
    pub spec: String,
    pub images: Vec<ImageCheck>,
    /// Spec notes (skipped includes, unsupported extensions).
    pub notes: Vec<String>,
}

impl CheckReport {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.images.iter().flat_map(|i| i.findings.iter())
    }
}

/// Options of a check run as a library call (what `gate` passes too).
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    pub parse: ParseOptions,
    pub arch: Option<String>,
    pub targets: Vec<Target>,
    pub runtime: bool,
    pub call: Option<(String, String)>,
    pub timeout_secs: u64,
    /// Skip the DWARF comparison (`--no-dwarf`).
    pub no_dwarf: bool,
    /// The CPython version whose ctypes rules lay out a binding's record classes (`--python-version`; default
    /// [`PyVersion::DEFAULT`](crate::bindings::ctypes_layout::PyVersion::DEFAULT)).
    pub python_version: Option<crate::bindings::ctypes_layout::PyVersion>,
    /// Where to look for the library's DWARF (`--debug-file`, `--debug-dir`); `arch` is taken from `arch`.
    pub debug: DebugOptions,
}

/// Guess whether a PE image was built by mingw (GCC) rather than MSVC, from its imports.
pub(crate) fn pe_is_mingw(img: &Image<'_>) -> bool {
    img.needed.iter().any(|n| {
        let l = n.name.to_ascii_lowercase();
        l == "msvcrt.dll"
            || l.starts_with("libgcc_s")
            || l.starts_with("libwinpthread")
            || l.starts_with("libstdc++")
    })
}

/// The dependency graph under the library's own loader's rules (what `deps` shows).
fn resolve_graph(
    lib: &str,
    env: &crate::loader::LoaderEnv,
) -> Result<crate::loader::Graph, InputError> {
    crate::loader::resolve(lib, env).map(|(graph, _)| graph)
}

/// Exports of the library's dependencies (for "found in a dependency" hints); empty when it cannot be resolved.
pub(crate) fn dependency_exports(lib: &str) -> Vec<DepExport> {
    let env = crate::loader::LoaderEnv::default();
    let Ok(graph) = resolve_graph(lib, &env) else {
        return Vec::new();
    };
    // The walk kept each node's facts (read from the mapping it already had): nothing is reopened here.
    let mut out = Vec::new();
    for n in graph.nodes.iter().skip(1) {
        let Some(facts) = n.bind_facts() else {
            continue;
        };
        for name in facts.exported_c_names() {
            out.push(DepExport {
                library: n.path.clone(),
                name,
            });
        }
    }
    out
}

/// Layout differences of each complete record of `spec` between `targets` (FFI0201), from the one cross-target
/// comparison ([`crate::layout::compare`]); `per_target[i]` is the spec parsed for `targets[i]`.
fn cross_target_layout(spec: &Spec, targets: &[Target], per_target: &[Spec]) -> Vec<Finding> {
    let mut out = Vec::new();
    if targets.len() < 2 {
        return out;
    }
    for r in &spec.records {
        if !r.complete || r.partial || spec.is_foreign_file(&r.loc.file) {
            continue;
        }
        let anonymous = format!("(anonymous at {})", r.loc);
        let query = match (&r.tag, r.kind) {
            (Some(t), RecordKind::Struct) => format!("struct {t}"),
            (Some(t), RecordKind::Union) => format!("union {t}"),
            (None, _) => anonymous.clone(),
        };
        let name = r.tag.clone().unwrap_or(anonymous);
        let compared = crate::layout::compare(&query, targets, per_target);
        let mut shapes: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
        for (t, p) in &compared.per_target {
            let PerTarget::Record { layout: l, .. } = p else {
                continue;
            };
            let fields: Vec<String> = l
                .fields
                .iter()
                .map(|f| match (f.bit_offset, f.bit_width) {
                    (Some(b), Some(w)) => {
                        format!("{}@bit{b}:{w}", f.name.as_deref().unwrap_or("_"))
                    }
                    _ => format!(
                        "{}@{}+{}",
                        f.name.as_deref().unwrap_or("_"),
                        f.offset,
                        f.size
                    ),
                })
                .collect();
            let shape = format!("size {} align {}; {}", l.size, l.align, fields.join(", "));
            shapes.entry(shape).or_default().push(t.name());
        }
        if shapes.len() > 1 {
            let found: Vec<String> = shapes
                .iter()
                .map(|(s, ts)| format!("{}: {s}", ts.join(", ")))
                .collect();
            out.push(Finding {
                code: Code::Layout(LayoutCode::TargetsDiffer),
                severity: Severity::Warning,
                location: r.loc.location(),
                message: format!("the layout of {name} differs between targets"),
                expected: "one layout on every target the binding supports".into(),
                found: found.join("\n"),
                hint: "use fixed-width types and explicit padding, or declare the layout per platform on the Python \
                       side; `ffi-doctor layout SPEC --targets all` shows each layout"
                    .into(),
            });
        }
    }
    out
}

/// Layout errors for the library's own target (FFI0200: a declared type the ABI engine cannot lay out).
fn own_target_layout(spec: &Spec, target: Target) -> Vec<Finding> {
    let mut out = Vec::new();
    for (id, r) in spec.records.iter().enumerate() {
        if !r.complete || r.partial || spec.is_foreign_file(&r.loc.file) {
            continue;
        }
        if let Err(e) = abi::record_layout(spec, id, target) {
            out.push(Finding {
                code: Code::Layout(LayoutCode::Uncomputable),
                severity: Severity::Info,
                location: r.loc.location(),
                message: format!(
                    "cannot compute the layout of {} for {}",
                    r.tag.as_deref().unwrap_or("a record"),
                    target.name()
                ),
                expected: "a record whose member types are all known".into(),
                found: e.message.clone(),
                hint: "declare the missing types (or pass -I so their header is read)".into(),
            });
        }
    }
    out
}

/// The DWARF comparison for one image: FFI02xx findings from [`crate::check::dwarf::compare`], or one info
/// finding saying why it did not happen (FFI0220 no DWARF, FFI0221 PDB only).
fn dwarf_findings(
    lib: &str,
    img: &Image<'_>,
    spec: &Spec,
    target: Option<Target>,
    n_images: usize,
    opts: &CheckOptions,
) -> Result<Vec<Finding>, InputError> {
    let mut dopts = opts.debug.clone();
    if n_images > 1 {
        dopts.arch = Some(img.arch.clone());
    } else if dopts.arch.is_none() {
        dopts.arch = opts.arch.clone();
    }
    let search = match crate::dwarf::search_image(lib, img, &dopts) {
        Ok(s) => s,
        // An explicit --debug-file that cannot be used is an input error; anything else is a note.
        Err(e) if dopts.debug_file.is_some() => return Err(e),
        Err(e) => {
            return Ok(vec![Finding {
                code: Code::Layout(LayoutCode::NoDwarf),
                severity: Severity::Info,
                location: lib.to_string().into(),
                message: "the library's DWARF debug info could not be read, so declarations were not compared \
                          with it"
                    .into(),
                expected: "readable DWARF".into(),
                found: e.to_string(),
                hint: "pass --debug-file PATH with a good debug file, or --no-dwarf".into(),
            }])
        }
    };
    let Some(info) = &search.info else {
        return Ok(vec![crate::check::dwarf::not_found(lib, &search)]);
    };
    let Some(t) = target else {
        return Ok(vec![Finding {
            code: Code::Layout(LayoutCode::NoDwarf),
            severity: Severity::Info,
            location: lib.to_string().into(),
            message: format!(
                "the library has DWARF, but its target ({}) has no ABI model, so declarations were not compared with it",
                img.arch
            ),
            expected: "a target the ABI engine knows".into(),
            found: img.arch.clone(),
            hint: String::new(),
        }]);
    };
    Ok(crate::check::dwarf::compare(spec, t, info))
}

/// FFI0511: what the runtime probe did, when it loaded the library.
fn runtime_summary(lib: &str, r: &crate::runtime::ProbeReport) -> Option<Finding> {
    if r.status != crate::runtime::ProbeStatus::Loaded {
        return None;
    }
    let resolved = r.symbols.iter().filter(|s| s.found).count();
    let mut msg = format!(
        "loaded in an isolated child: {resolved} of {} declared symbols resolved",
        r.symbols.len()
    );
    let mut found = vec![format!("{resolved}/{} symbols", r.symbols.len())];
    for c in &r.calls {
        let Some(v) = &c.value else { continue };
        let shown = if c.returns == crate::runtime::ReturnType::Str {
            format!("{v:?}")
        } else {
            v.clone()
        };
        let verdict = match (&c.expect, c.matched) {
            (Some(e), Some(true)) => format!(" matches '{e}'"),
            (Some(e), Some(false)) => format!(" does not match '{e}'"),
            _ => String::new(),
        };
        msg.push_str(&format!("; {}() = {shown}{verdict}", c.name));
        found.push(format!("{}() = {shown}", c.name));
    }
    if let Some(p) = &r.process {
        found.push(format!("{} ms", p.elapsed_ms));
    }
    Some(Finding {
        code: Code::Runtime(RuntimeCode::Summary),
        severity: Severity::Info,
        location: lib.to_string().into(),
        message: msg,
        expected: "the library loads and provides every declared symbol".into(),
        found: found.join(", "),
        hint: String::new(),
    })
}

/// Check `lib` against `spec_path`. Input problems (unreadable library, spec parse error) are errors.
pub fn check_library(
    lib: &str,
    spec_path: &str,
    opts: &CheckOptions,
) -> Result<CheckReport, InputError> {
    let mapped = Mapped::open(lib)?;
    let images = read_guarded(&mapped, opts.arch.as_deref(), ReadOptions::default())?;
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let mut deps: Option<Vec<DepExport>> = None;
    let mut portability_done = false;
    // The cross-target comparison parses the spec once per target, as each target's compiler would see it.
    let per_target = if opts.targets.len() >= 2 {
        parse_per_target(spec_path, &opts.parse, &opts.targets)?
    } else {
        Vec::new()
    };
    for (idx, img) in images.iter().enumerate() {
        let target = abi::for_image(img.format, &img.arch, pe_is_mingw(img));
        // The image's own target is often one of --targets: its parse is already there.
        let mut spec = match target.and_then(|t| opts.targets.iter().position(|x| *x == t)) {
            Some(i) if i < per_target.len() => per_target[i].clone(),
            _ => parse_for(spec_path, &opts.parse, target)?,
        };
        // Declarations that come from the system's own headers (--system-includes) describe the C library, not
        // this library: they give types to the spec but are not checked against its exports.
        let not_checked = spec.take_foreign();
        let system = spec.system_files.clone();
        let from_system = |file: &str| system.iter().any(|s| s == file);
        if notes.is_empty() {
            notes = spec
                .notes
                .iter()
                .map(|(l, n)| format!("{l}: {n}"))
                .collect();
        }
        let lib_name = img
            .identity
            .as_ref()
            .map(|i| i.name.clone())
            .unwrap_or_else(|| lib.to_string());
        let mut findings = crate::check::symbols::check(&spec, img, &lib_name, &[]);
        if findings.iter().any(|f| {
            f.code == Code::Symbol(SymbolCode::NotExported)
                || f.code == Code::Symbol(SymbolCode::VariableNotExported)
        }) {
            let d = deps.get_or_insert_with(|| dependency_exports(lib));
            if !d.is_empty() {
                findings = crate::check::symbols::check(&spec, img, &lib_name, d);
            }
        }
        if !portability_done {
            // Portability of the C library's own types (from system headers) is not this library's problem.
            findings.extend(
                crate::check::portability::check_for(
                    &spec,
                    &requested_targets(target, &opts.targets),
                )
                .into_iter()
                .filter(|f| !from_system(&f.location.file)),
            );
            portability_done = true;
        }
        if let Some(t) = target {
            findings.extend(own_target_layout(&spec, t));
        }
        findings.extend(cross_target_layout(&spec, &opts.targets, &per_target));
        if !opts.no_dwarf {
            findings.extend(dwarf_findings(lib, img, &spec, target, images.len(), opts)?);
        }
        out.push(ImageCheck {
            arch: img.arch.clone(),
            target: target.map(|t| t.name()),
            declared_functions: spec.functions.len(),
            declared_variables: spec.variables.len(),
            declared_records: spec.records.iter().filter(|r| r.complete).count(),
            not_checked,
            findings,
        });
        if opts.runtime && idx == 0 {
            let mut request = crate::runtime::ProbeRequest {
                symbols: spec
                    .functions
                    .iter()
                    .map(|f| f.name.clone())
                    .chain(spec.variables.iter().map(|v| v.name.clone()))
                    .collect(),
                calls: Vec::new(),
            };
            if let Some((name, glob)) = &opts.call {
                let returns = spec
                    .functions
                    .iter()
                    .find(|f| &f.name == name)
                    .and_then(|f| return_type_of(&spec, f));
                match returns {
                    Some(r) => request.calls.push(crate::runtime::CallSpec {
                        name: name.clone(),
                        returns: r,
                        expect: Some(glob.clone()),
                    }),
                    None => {
                        if let Some(last) = out.last_mut() {
                            last.findings.push(Finding {
                                code: Code::Runtime(RuntimeCode::UnsafeCall),
                                severity: Severity::Error,
                                location: spec_path.to_string().into(),
                                message: format!("--call {name}: not a zero-argument function returning const char * or an integer in the spec"),
                                expected: "a declaration like `const char *NAME(void);` or `int NAME(void);`".into(),
                                found: "no such declaration".into(),
                                hint: "only those safe signatures are ever called".into(),
                            });
                        }
                    }
                }
            }
            let popts = crate::runtime::ProbeOptions {
                timeout: std::time::Duration::from_secs(opts.timeout_secs.max(1)),
                ..Default::default()
            };
            let report = crate::runtime::probe(lib, &request, &popts);
            if let Some(last) = out.last_mut() {
                if let Some(s) = runtime_summary(lib, &report) {
                    last.findings.push(s);
                }
                last.findings.extend(report.findings);
            }
        }
    }
    Ok(CheckReport {
        schema: "ffi-doctor/check/v1",
        library: lib.to_string(),
        spec: spec_path.to_string(),
        images: out,
        notes,
    })
}

/// The library's own target and the `--targets`, without repeats: what portability findings are weighed for.
fn requested_targets(own: Option<Target>, asked: &[Target]) -> Vec<Target> {
    let mut v: Vec<Target> = own.into_iter().collect();
    for t in asked {
        if !v.contains(t) {
            v.push(*t);
        }
    }
    v
}

/// The safe return type of a zero-argument function, if it has one.
fn return_type_of(spec: &Spec, f: &crate::decl::Function) -> Option<crate::runtime::ReturnType> {
    use crate::decl::{Prim, Type};
    use crate::runtime::ReturnType as R;
    if crate::check::symbols::declared_arity(&f.sig) != 0 {
        return None;
    }
    let mut ty = f.sig.ret.ty.clone();
    for _ in 0..16 {
        match ty {
            Type::Named { ref name } => match spec.typedef(name) {
                Some(td) => ty = td.ty.ty.clone(),
                None => {
                    return match name.as_str() {
                        "size_t" | "uintptr_t" => Some(R::SizeT),
                        "int32_t" => Some(R::Int),
                        "uint32_t" => Some(R::Uint),
                        _ => None,
                    }
                }
            },
            _ => break,
        }
    }
    match ty {
        Type::Pointer { pointee } => match pointee.ty {
            Type::Prim { prim: Prim::Char } => Some(R::Str),
            _ => None,
        },
        Type::Prim { prim } => match prim {
            Prim::Int => Some(R::Int),
            Prim::UInt => Some(R::Uint),
            Prim::Long => Some(R::Long),
            Prim::ULong => Some(R::Ulong),
            _ => None,
        },
        _ => None,
    }
}
