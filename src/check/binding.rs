//! `check LIB BINDING.py [HEADER…]`: a Python binding (ctypes module or cffi ABI-mode code, read statically by
//! [`crate::bindings::python`]) against the library's exports, the header(s) and every requested target: symbols
//! looked up, missing or wrong `restype`/`argtypes`, argument counts, callbacks, variadic functions, unchecked
//! `find_library` results and what the reader could not resolve (FFI07xx).

use crate::bindings::ctypes_layout::PyVersion;
use crate::bindings::records::{check_records, RecordTruth};
use std::collections::HashMap;

use crate::abi::{self, Target};
use crate::binary::{read_guarded, Format, Image, Mapped, ReadOptions};
use crate::bindings::model::{Binding, CType, LibName, Library, Loader};
use crate::bindings::spelling::Ctypes;
use crate::check::binding_types::{
    c_class, compare, ctype_class, ctype_spelling, ctypes_spelling, fn_pointer_sig,
    is_mutable_char_ptr, Class, Verdict,
};
use crate::check::run::{dependency_exports, pe_is_mingw, CheckOptions, CheckReport, ImageCheck};
use crate::check::symbols::{declared_arity, DepExport};
use crate::decl::{self, c_spelling, FnSig, Function, Loc, Spec};
use crate::error::InputError;
use crate::layout::parse_for;
use crate::report::codes::{BindingCode, Code, SymbolCode};
use crate::report::{Finding, Severity};

fn finding(code: BindingCode, loc: &Loc, message: String) -> Finding {
    Finding {
        code: Code::Binding(code),
        severity: code.info().severity,
        location: if loc.line == 0 {
            crate::report::Location::file(loc.file.as_str())
        } else {
            loc.location()
        },
        message,
        expected: String::new(),
        found: String::new(),
        hint: String::new(),
    }
}

/// The file name a path ends in.
pub(crate) fn base(p: &str) -> &str {
    p.rsplit(['/', '\\']).next().unwrap_or(p)
}

/// `libz.so.1` → `z`, `zlib1.dll` → `zlib1`, `libSDL2-2.0.so.0` → `SDL2-2.0`: the name `find_library` takes.
pub(crate) fn short_name(file: &str) -> &str {
    let f = base(file);
    let f = f.strip_prefix("lib").unwrap_or(f);
    let end = [".so", ".dylib", ".dll", ".DLL"]
        .iter()
        .filter_map(|e| f.find(e))
        .min()
        .unwrap_or(f.len());
    &f[..end]
}

/// Whether one of the names a binding loads a library by denotes the library being checked.
fn names_match(lib: &Library, path: &str, soname: Option<&str>) -> bool {
    let file = base(path);
    let same = |n: &str| {
        let n = base(n);
        n == file
            || Some(n) == soname
            || (file.starts_with(n) && file[n.len()..].starts_with(['.', '-']))
            || (!n.contains('.') && short_name(file).eq_ignore_ascii_case(short_name(n)))
    };
    lib.names.iter().any(|n| match n {
        LibName::Literal { name } => same(name),
        LibName::ModuleRelative { path } => same(path),
        LibName::FindLibrary { name } => {
            let s = short_name(file);
            s == name || s.strip_suffix(|c: char| c.is_ascii_digit()) == Some(name.as_str())
        }
        LibName::MainProgram | LibName::Unknown { .. } => false,
    })
}

/// The binding's libraries that are the checked library: those loaded by a name that denotes it, else the only
/// library the binding declares functions on.
fn matching_libraries(b: &Binding, path: &str, soname: Option<&str>) -> Vec<bool> {
    let mut m: Vec<bool> = b
        .libraries
        .iter()
        .map(|l| names_match(l, path, soname))
        .collect();
    if !m.iter().any(|x| *x) {
        let used: Vec<usize> = {
            let mut u: Vec<usize> = b.functions.iter().map(|f| f.library).collect();
            u.sort_unstable();
            u.dedup();
            u
        };
        if used.len() == 1 {
            m[used[0]] = true;
        } else if used.is_empty() && b.libraries.len() == 1 {
            m[0] = true;
        }
    }
    m
}

/// The header(s) parsed for one target: every function by name, with the spec it came from.
struct Truth {
    target: Target,
    specs: Vec<Spec>,
    by_name: HashMap<String, (usize, usize)>,
}

impl Truth {
    fn parse(headers: &[String], opts: &CheckOptions, target: Target) -> Result<Truth, InputError> {
        let mut specs = Vec::with_capacity(headers.len());
        let mut by_name = HashMap::new();
        for (i, h) in headers.iter().enumerate() {
            let spec = parse_for(h, &opts.parse, Some(target))?;
            for (j, f) in spec.functions.iter().enumerate() {
                by_name.entry(f.name.clone()).or_insert((i, j));
            }
            specs.push(spec);
        }
        Ok(Truth {
            target,
            specs,
            by_name,
        })
    }

    fn function(&self, name: &str) -> Option<(&Spec, &Function)> {
        let &(i, j) = self.by_name.get(name)?;
        Some((&self.specs[i], &self.specs[i].functions[j]))
    }
}

/// The library's own DWARF as the truth for its own target, when no header is given: each defined function as a
/// declaration whose types are typedefs named by the DWARF's C spelling (`uLong`, `const char *`), so messages
/// say what the library's source says.
fn dwarf_truth(info: &crate::dwarf::DebugInfo, target: Target) -> Truth {
    use crate::decl::{Param, Prim, QualType, Type, Typedef};
    use crate::dwarf::TypeKind as K;
    fn prim_for(signed: bool, size: u64) -> Option<Prim> {
        Some(match (signed, size) {
            (false, 1) => Prim::UChar,
            (true, 1) => Prim::SChar,
            (false, 2) => Prim::UShort,
            (true, 2) => Prim::Short,
            (false, 4) => Prim::UInt,
            (true, 4) => Prim::Int,
            (false, 8) => Prim::ULongLong,
            (true, 8) => Prim::LongLong,
            (false, 16) => Prim::UInt128,
            (true, 16) => Prim::Int128,
            _ => return None,
        })
    }
    fn ty(k: &K, const_pointee: bool, depth: u32) -> QualType {
        let unknown = || {
            QualType::new(Type::Named {
                name: "__dwarf_unknown".into(),
            })
        };
        let prim = |p| QualType::new(Type::Prim { prim: p });
        if depth > 8 {
            return unknown();
        }
        match k {
            K::Void => prim(Prim::Void),
            K::Bool { .. } => prim(Prim::Bool),
            K::Int { signed, size } | K::Enum { signed, size, .. } => {
                prim_for(*signed, *size).map(prim).unwrap_or_else(unknown)
            }
            // Plain char keeps its target-dependent signedness out of the comparison.
            K::Char { size: 1, .. } => prim(Prim::Char),
            K::Char { signed, size } => prim_for(*signed, *size).map(prim).unwrap_or_else(unknown),
            K::Float { size: 4 } => prim(Prim::Float),
            K::Float { size: 8 } => prim(Prim::Double),
            K::Float { .. } => prim(Prim::LongDouble),
            K::Pointer { pointee } => {
                let mut p = ty(pointee, false, depth + 1);
                p.quals.is_const = const_pointee;
                QualType::new(Type::Pointer {
                    pointee: Box::new(p),
                })
            }
            K::Array { elem, len } => QualType::new(Type::Array {
                elem: Box::new(ty(elem, false, depth + 1)),
                len: *len,
            }),
            K::Function {
                ret,
                params,
                variadic,
            } => QualType::new(Type::Function {
                sig: Box::new(FnSig {
                    ret: ty(ret, false, depth + 1),
                    params: params
                        .iter()
                        .map(|p| Param {
                            name: None,
                            ty: ty(p, false, depth + 1),
                        })
                        .collect(),
                    variadic: *variadic,
                    unprototyped: false,
                    callconv: None,
                }),
            }),
            _ => unknown(),
        }
    }
    let mut spec = Spec::default();
    let named = |spec: &mut Spec, d: &crate::dwarf::TypeDesc| -> QualType {
        // `const char *`: the pointee is const when the spelling says so before the last `*`.
        let const_pointee =
            d.c.rsplit_once('*')
                .is_some_and(|(head, _)| head.contains("const"));
        if spec.typedef(&d.c).is_none() {
            spec.typedefs.push(Typedef {
                name: d.c.clone(),
                ty: ty(&d.kind, const_pointee, 0),
                cffi_unknown: None,
                aligned: None,
                loc: Loc::default(),
            });
        }
        QualType::new(Type::Named { name: d.c.clone() })
    };
    for f in info.functions() {
        let ret = named(&mut spec, &f.ret);
        let params = f
            .params
            .iter()
            .map(|p| Param {
                name: p.name.clone(),
                ty: named(&mut spec, &p.ty),
            })
            .collect();
        spec.functions.push(Function {
            name: f.name.clone(),
            sig: FnSig {
                ret,
                params,
                variadic: f.variadic,
                unprototyped: !f.prototyped,
                callconv: None,
            },
            loc: Loc {
                file: format!("{} (DWARF, {})", info.path.display(), f.cu),
                line: 0,
                col: 0,
            },
        });
    }
    let by_name = spec
        .functions
        .iter()
        .enumerate()
        .map(|(j, f)| (f.name.clone(), (0, j)))
        .collect();
    Truth {
        target,
        specs: vec![spec],
        by_name,
    }
}

/// Per-target verdicts for one slot (a parameter or the return), grouped into one finding.
struct Slot {
    worst: Verdict,
    /// What differs, with the targets where it does, in first-seen order.
    lines: Vec<(String, Vec<&'static str>)>,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            worst: Verdict::Same,
            lines: Vec::new(),
        }
    }

    fn add(&mut self, v: Verdict, target: Target, decl: &Class, c: &Class) {
        if v == Verdict::Same {
            return;
        }
        self.worst = self.worst.max(v);
        let what = format!("{} where C has {}", decl.describe(), c.describe());
        group_by_target(&mut self.lines, what, target);
    }

    fn text(&self) -> String {
        grouped_text(&self.lines)
    }
}

fn group_by_target(lines: &mut Vec<(String, Vec<&'static str>)>, what: String, target: Target) {
    match lines.iter_mut().find(|(w, _)| *w == what) {
        Some((_, ts)) => ts.push(target.name()),
        None => lines.push((what, vec![target.name()])),
    }
}

/// `linux-x86_64, macos-arm64: what; windows-x86_64-msvc: other`.
fn grouped_text(lines: &[(String, Vec<&'static str>)]) -> String {
    lines
        .iter()
        .map(|(w, ts)| format!("{}: {w}", ts.join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Check `lib` against the Python binding `py` with `headers` as the truth for types.
pub fn check_binding(
    lib: &str,
    py: &str,
    headers: &[String],
    opts: &CheckOptions,
) -> Result<CheckReport, InputError> {
    let binding = crate::bindings::python::read_binding(py)?;
    check_read_binding(lib, &binding, headers, opts)
}

/// [`check_binding`] for a binding already read (the gate reads wheel members from memory).
pub fn check_read_binding(
    lib: &str,
    binding: &Binding,
    headers: &[String],
    opts: &CheckOptions,
) -> Result<CheckReport, InputError> {
    let py = binding.file.as_str();
    let mapped = Mapped::open(lib)?;
    let images = read_guarded(&mapped, opts.arch.as_deref(), ReadOptions::default())?;
    let mut out = Vec::new();
    let mut deps: Option<Vec<DepExport>> = None;
    let mut notes = Vec::new();
    for (idx, img) in images.iter().enumerate() {
        let own = abi::for_image(img.format, &img.arch, pe_is_mingw(img));
        let targets: Vec<Target> = if opts.targets.is_empty() {
            own.into_iter().collect()
        } else {
            opts.targets.clone()
        };
        let lib_name = img
            .identity
            .as_ref()
            .map(|i| i.name.clone())
            .unwrap_or_else(|| base(lib).to_string());
        let soname = img.identity.as_ref().map(|i| i.name.as_str());
        let matching = matching_libraries(binding, lib, soname);
        let mut findings = Vec::new();
        if idx == 0 {
            findings.extend(binding_local(binding));
        }
        // The cffi cdef, parsed for each target (its `#if`s and `...` types follow the target).
        let cdef_specs: Vec<Spec> = if binding.cdefs.is_empty() {
            Vec::new()
        } else {
            let text = binding.cdef_text();
            let parse = |t: Option<Target>| {
                let mut p = opts.parse.clone();
                p.cffi = true;
                if let Some(t) = t {
                    p.target_defines = t.predefined_macros();
                }
                decl::parse_str(py, &text, &p)
            };
            let parsed: Result<Vec<Spec>, decl::ParseError> = if targets.is_empty() {
                parse(None).map(|s| vec![s])
            } else {
                targets.iter().map(|t| parse(Some(*t))).collect()
            };
            match parsed {
                Ok(v) => {
                    if idx == 0 {
                        notes.extend(v[0].notes.iter().map(|(l, n)| format!("{l}: {n}")));
                    }
                    v
                }
                // A cdef the parser refuses is reported, and the rest of the binding is still checked.
                Err(e) => {
                    if idx == 0 {
                        let mut f = finding(
                            BindingCode::Unresolved,
                            &e.loc,
                            "the ffi.cdef text cannot be parsed, so its declarations were not checked".into(),
                        );
                        f.expected = e.expected.clone();
                        f.found = e.found.clone();
                        f.hint =
                            "cffi accepts it only if it parses too; pass -D/-I if it needs macros"
                                .into();
                        findings.push(f);
                    }
                    Vec::new()
                }
            }
        };
        let mut dwarf_used = None;
        let mut dwarf_info = None;
        let truths: Vec<Truth> = if headers.is_empty() {
            // No header: the library's own DWARF, for its own target.
            match (own, opts.no_dwarf) {
                (Some(t), false) => {
                    let mut dopts = opts.debug.clone();
                    if images.len() > 1 {
                        dopts.arch = Some(img.arch.clone());
                    }
                    match crate::dwarf::search_image(lib, img, &dopts) {
                        // Functions' types when it describes functions; record classes' layouts when the
                        // binding has any.
                        Ok(crate::dwarf::DebugSearch {
                            info: Some(info), ..
                        }) if !info.functions().is_empty() || !binding.records.is_empty() => {
                            dwarf_used = Some(info.path.display().to_string());
                            let truth = if info.functions().is_empty() {
                                Vec::new()
                            } else {
                                vec![dwarf_truth(&info, t)]
                            };
                            dwarf_info = Some((t, info));
                            truth
                        }
                        _ => Vec::new(),
                    }
                }
                _ => Vec::new(),
            }
        } else {
            targets
                .iter()
                .map(|t| Truth::parse(headers, opts, *t))
                .collect::<Result<_, _>>()?
        };
        // Symbols: ctypes lookups on the matching libraries, and the cffi functions used (or all declared).
        let mut sym_spec = Spec::default();
        let mut other = 0usize;
        let mut other_libs: Vec<String> = Vec::new();
        let mut stdcall_lookup: HashMap<String, bool> = HashMap::new();
        for f in &binding.functions {
            let l = &binding.libraries[f.library];
            if !matching[f.library] {
                other += 1;
                let shown = lib_label(l);
                if !other_libs.contains(&shown) {
                    other_libs.push(shown);
                }
                continue;
            }
            if l.loader == Loader::CffiDlopen && !cdef_specs.is_empty() {
                continue; // checked through the cdef below
            }
            stdcall_lookup.insert(
                f.name.clone(),
                l.loader != Loader::Cdll && l.loader != Loader::PyDll,
            );
            sym_spec.functions.push(Function {
                name: f.name.clone(),
                sig: FnSig {
                    ret: decl::QualType::new(decl::Type::Prim {
                        prim: decl::Prim::Int,
                    }),
                    params: Vec::new(),
                    variadic: false,
                    unprototyped: true,
                    callconv: None,
                },
                loc: f.loc.clone(),
            });
        }
        let cffi_used: Vec<&str> = binding
            .functions
            .iter()
            .filter(|f| {
                matching[f.library] && binding.libraries[f.library].loader == Loader::CffiDlopen
            })
            .map(|f| f.name.as_str())
            .collect();
        let cffi_matches = binding
            .libraries
            .iter()
            .enumerate()
            .any(|(i, l)| matching[i] && l.loader == Loader::CffiDlopen);
        if let Some(cdef) = cdef_specs.first() {
            if cffi_matches || binding.libraries.is_empty() {
                for f in &cdef.functions {
                    if cffi_used.is_empty() || cffi_used.contains(&f.name.as_str()) {
                        stdcall_lookup.insert(f.name.clone(), true);
                        sym_spec.functions.push(f.clone());
                    }
                }
                for v in &cdef.variables {
                    sym_spec.variables.push(v.clone());
                }
            }
        }
        let guarded: std::collections::HashSet<(u32, u32)> = binding
            .functions
            .iter()
            .filter(|f| f.guarded)
            .map(|f| (f.loc.line, f.loc.col))
            .collect();
        findings.extend(symbols(
            &sym_spec,
            img,
            &lib_name,
            lib,
            &stdcall_lookup,
            &guarded,
            &mut deps,
        ));
        if other > 0 && idx == 0 {
            let mut f = finding(
                BindingCode::OtherLibrary,
                &Loc {
                    file: py.to_string(),
                    ..Default::default()
                },
                format!(
                    "{other} function{} on {} {} not checked against {lib_name}",
                    if other == 1 { "" } else { "s" },
                    other_libs.join(", "),
                    if other == 1 { "was" } else { "were" }
                ),
            );
            f.expected = format!("functions looked up on {lib_name}");
            f.found = format!("functions looked up on {}", other_libs.join(", "));
            f.hint =
                "check each library of the binding: `ffi-doctor check THAT_LIB BINDING.py`".into();
            findings.push(f);
        }
        // Types: ctypes declarations against the header; cffi declarations against the header.
        let empty = Spec::default();
        let ctypes =
            Ctypes::of_python_minor(opts.python_version.unwrap_or(PyVersion::DEFAULT).minor);
        for f in &binding.functions {
            if !matching[f.library] || binding.libraries[f.library].loader == Loader::CffiDlopen {
                continue;
            }
            findings.extend(ctypes_function(binding, f, &truths, &empty, ctypes));
        }
        if !cdef_specs.is_empty() && (cffi_matches || binding.libraries.is_empty()) {
            findings.extend(cffi_functions(binding, &cdef_specs, &truths, &cffi_used));
        }
        // Record classes: ctypes' own layout of each `Structure`/`Union` against the header's records on every
        // target, or against the library's DWARF on its own target.
        if !binding.records.is_empty() {
            let record_truth = RecordTruth {
                headers: truths
                    .iter()
                    .flat_map(|t| t.specs.iter().map(move |s| (t.target, s)))
                    .collect(),
                dwarf: dwarf_info.as_ref().map(|(t, d)| (*t, d)),
                pairs: Vec::new(),
            };
            let record_targets: Vec<Target> = if headers.is_empty() {
                dwarf_info.iter().map(|(t, _)| *t).collect()
            } else {
                targets.clone()
            };
            findings.extend(check_records(
                &binding.records,
                &binding.prototypes,
                &record_truth,
                &record_targets,
                opts.python_version.unwrap_or(PyVersion::DEFAULT),
            ));
        }
        let checked_fns = sym_spec.functions.len();
        if idx == 0 {
            let truth_targets: Vec<Target> = truths.iter().map(|t| t.target).collect();
            let shown = if truths.is_empty() {
                &targets
            } else {
                &truth_targets
            };
            findings.push(summary(
                binding,
                py,
                &lib_name,
                headers,
                dwarf_used.as_deref(),
                shown,
                checked_fns,
            ));
        }
        out.push(ImageCheck {
            arch: img.arch.clone(),
            target: own.map(|t| t.name()),
            declared_functions: checked_fns,
            declared_variables: sym_spec.variables.len(),
            declared_records: binding
                .records
                .iter()
                .filter(|r| r.fields.is_some())
                .count(),
            not_checked: Default::default(),
            findings,
        });
    }
    Ok(CheckReport {
        schema: "ffi-doctor/check/v1",
        library: lib.to_string(),
        spec: py.to_string(),
        images: out,
        notes,
    })
}

fn lib_label(l: &Library) -> String {
    match l.names.first() {
        Some(LibName::Literal { name }) => name.clone(),
        Some(LibName::FindLibrary { name }) => format!("find_library({name:?})"),
        Some(LibName::ModuleRelative { path }) => path.clone(),
        Some(LibName::MainProgram) => "the main program".into(),
        Some(LibName::Unknown { text }) => text.clone(),
        None => "a library".into(),
    }
}

/// Export checks (FFI0701; FFI0102/FFI0103 as for headers), with ctypes' and cffi's 32-bit Windows lookup: a
/// `__stdcall` lookup also finds `_f@N`, a `CDLL` lookup does not.
fn symbols(
    spec: &Spec,
    img: &Image<'_>,
    lib_name: &str,
    lib: &str,
    stdcall: &HashMap<String, bool>,
    guarded: &std::collections::HashSet<(u32, u32)>,
    deps: &mut Option<Vec<DepExport>>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut spec = spec.clone();
    if img.format == Format::Pe && img.bits == 32 {
        let raw: std::collections::HashSet<&str> =
            img.exports.iter().map(|e| e.name.as_ref()).collect();
        spec.functions.retain(|f| {
            if raw.contains(f.name.as_str()) {
                return false;
            }
            let decorated = (0..32)
                .map(|i| format!("_{}@{}", f.name, i * 4))
                .find(|d| raw.contains(d.as_str()));
            match decorated {
                Some(_) if stdcall.get(&f.name).copied().unwrap_or(true) => false,
                Some(d) => {
                    let mut x = finding(
                        BindingCode::NotExported,
                        &f.loc,
                        format!("`{}` is not exported by {lib_name} under that name", f.name),
                    );
                    x.expected = format!("an export `{}`", f.name);
                    x.found = format!("`{d}` (a __stdcall decoration)");
                    x.hint = "load the library with `ctypes.WinDLL` (it also tries `_name@N` on 32-bit Windows); \
                              `CDLL` looks up the plain name only"
                        .into();
                    out.push(x);
                    false
                }
                None => true,
            }
        });
    }
    let mut found = crate::check::symbols::check(&spec, img, lib_name, &[]);
    if found
        .iter()
        .any(|f| f.code == Code::Symbol(SymbolCode::NotExported))
    {
        let d = deps.get_or_insert_with(|| dependency_exports(lib));
        if !d.is_empty() {
            found = crate::check::symbols::check(&spec, img, lib_name, d);
        }
    }
    for mut f in found {
        if f.code == Code::Symbol(SymbolCode::NotExported)
            && guarded.contains(&(f.location.line.unwrap_or(0), f.location.column.unwrap_or(0)))
        {
            f.code = Code::Binding(BindingCode::NotExported);
            f.severity = Severity::Info;
            f.message = format!(
                "{} (the binding looks it up only under a version or platform check, a try/except or a getattr \
                 default, so it expects it to be missing somewhere)",
                f.message.replacen("function ", "", 1)
            );
            out.push(f);
            continue;
        }
        if f.code == Code::Symbol(SymbolCode::NotExported) {
            f.code = Code::Binding(BindingCode::NotExported);
            f.message = f.message.replacen("function ", "", 1);
            f.hint = format!(
                "{}; ctypes raises AttributeError when the binding looks it up (cffi: when it is accessed)",
                f.hint
            );
        }
        out.push(f);
    }
    out
}

/// FFI0713, grouped by the expression that could not be resolved: a name imported from another module of the
/// package (`Uint32` from `.stdinc`) is usually the same unknown in hundreds of places. One finding per expression,
/// at its first use, listing every use; an expression used once keeps its own message.
fn unresolved(b: &Binding) -> Vec<Finding> {
    let mut groups: Vec<(&str, Vec<&crate::bindings::model::Unresolved>)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for u in &b.unresolved {
        match index.get(u.text.as_str()) {
            Some(&i) => groups[i].1.push(u),
            None => {
                index.insert(&u.text, groups.len());
                groups.push((&u.text, vec![u]));
            }
        }
    }
    let hint = "it was not checked; ffi-doctor never runs the binding's code";
    groups
        .into_iter()
        .map(|(text, uses)| {
            let first = uses[0];
            let mut f = if uses.len() == 1 {
                let mut f = finding(
                    BindingCode::Unresolved,
                    &first.loc,
                    format!("{} cannot be resolved statically", first.what),
                );
                f.found = text.to_string();
                f
            } else {
                let mut f = finding(
                    BindingCode::Unresolved,
                    &first.loc,
                    format!(
                        "`{text}` cannot be resolved statically ({} uses, first: {})",
                        uses.len(),
                        first.what
                    ),
                );
                f.found = uses
                    .iter()
                    .map(|u| format!("{}: {}", u.loc, u.what))
                    .collect::<Vec<_>>()
                    .join("\n");
                f
            };
            f.expected = "a literal or a name bound to one".into();
            f.hint = if uses.len() > 1 && text.chars().all(|c| c.is_alphanumeric() || c == '_') {
                format!(
                    "{hint}; if it is defined in another module of the package (`from … import`), that module is \
                     not followed: check it too"
                )
            } else {
                hint.into()
            };
            f
        })
        .collect()
}

/// FFI0718: `ctypes.get_errno()` (or `get_last_error()`) read where every ctypes library the file loads is loaded
/// without `use_errno=True` (`use_last_error=True`). ctypes copies the real `errno` into its private copy only
/// around calls of such libraries' functions, so the read gives 0 (or what `set_errno` stored), never the error.
/// Not reported when the file loads no ctypes library (it may use one loaded elsewhere) or when a load's keywords
/// are not all visible.
fn errno_reads(b: &Binding) -> Vec<Finding> {
    use crate::bindings::model::Flag;
    let ctypes_libs: Vec<_> = b
        .libraries
        .iter()
        .filter(|l| l.loader != Loader::CffiDlopen)
        .collect();
    let mut out = Vec::new();
    for last_error in [false, true] {
        let reads: Vec<&Loc> = b
            .errno_reads
            .iter()
            .filter(|r| r.last_error == last_error)
            .map(|r| &r.loc)
            .collect();
        let flag = |l: &Library| {
            if last_error {
                l.use_last_error
            } else {
                l.use_errno
            }
        };
        if reads.is_empty()
            || ctypes_libs.is_empty()
            || ctypes_libs.iter().any(|l| flag(l) != Flag::Absent)
        {
            continue;
        }
        let (read, keyword) = if last_error {
            ("ctypes.get_last_error()", "use_last_error=True")
        } else {
            ("ctypes.get_errno()", "use_errno=True")
        };
        let mut f = finding(
            BindingCode::ErrnoNotSaved,
            reads[0],
            if reads.len() == 1 {
                format!("{read} is read, but no library is loaded with {keyword}")
            } else {
                format!(
                    "{read} is read {} times, but no library is loaded with {keyword}",
                    reads.len()
                )
            },
        );
        f.expected = format!("the library whose errors are read loaded with {keyword}");
        f.found = format!(
            "{}; ctypes copies the real value into the copy {read} returns only around calls of functions of a \
             library loaded with {keyword}: it reads 0, never the error",
            ctypes_libs
                .iter()
                .map(|l| format!("{}(...) at {}", l.loader.spelling(), l.loc))
                .collect::<Vec<_>>()
                .join(", ")
        );
        f.hint = format!(
            "load it as ctypes.{}(name, {keyword}) (cffi: read ffi.errno, which is always saved)",
            ctypes_libs[0].loader.spelling()
        );
        out.push(f);
    }
    out
}

/// Findings that need no library: what the reader could not resolve, unchecked `find_library`, errno reads,
/// inline callbacks, API mode, syntax errors.
fn binding_local(b: &Binding) -> Vec<Finding> {
    let mut out = unresolved(b);
    for l in &b.libraries {
        if l.unchecked_find_library {
            let name = l
                .names
                .iter()
                .find_map(|n| match n {
                    LibName::FindLibrary { name } => Some(name.as_str()),
                    _ => None,
                })
                .unwrap_or("?");
            let mut f = finding(
                BindingCode::UncheckedFindLibrary,
                &l.loc,
                format!(
                    "{}(find_library({name:?})) without a None check",
                    l.loader.spelling()
                ),
            );
            f.expected = "the find_library result tested before it is loaded".into();
            f.found = format!(
                "find_library returns None when lib{name} is not installed, and {}(None) is the main program: the \
                 binding then fails later, on the first missing symbol",
                l.loader.spelling()
            );
            f.hint = format!(
                "path = ctypes.util.find_library({name:?}); if path is None: raise OSError(\"lib{name} not found\")"
            );
            out.push(f);
        }
    }
    out.extend(errno_reads(b));
    for func in &b.functions {
        for c in &func.calls {
            for &(i, p) in &c.inline_callbacks {
                let proto = b.prototypes[p]
                    .name
                    .clone()
                    .unwrap_or_else(|| "CFUNCTYPE(...)".into());
                let mut f = finding(
                    BindingCode::InlineCallback,
                    &c.loc,
                    format!(
                        "callback {proto}(...) is created inline as argument {} of {}",
                        i + 1,
                        func.name
                    ),
                );
                f.expected = "a callback object kept alive as long as C may call it".into();
                f.found = "a temporary: Python may free it while C still holds the pointer".into();
                f.hint = format!("bind it to a name that outlives the call: `cb = {proto}(pyfunc)`, then pass `cb`");
                out.push(f);
            }
        }
    }
    for l in &b.set_source {
        let mut f = finding(
            BindingCode::ApiMode,
            l,
            "ffi.set_source: cffi API mode, the C compiler checks these declarations when the module is built".into(),
        );
        f.expected = "ABI mode (ffi.dlopen) for the static checks".into();
        f.found = "API mode".into();
        out.push(f);
    }
    if let Some(first) = b.syntax_errors.first() {
        let mut f = finding(
            BindingCode::SyntaxError,
            first,
            format!(
                "the Python parser recovered from {} syntax error{}; the rest of the file was read",
                b.syntax_errors.len(),
                if b.syntax_errors.len() == 1 { "" } else { "s" }
            ),
        );
        f.expected = "Python 3 syntax".into();
        f.found = "text the grammar does not accept".into();
        out.push(f);
    }
    out
}

fn summary(
    b: &Binding,
    py: &str,
    lib_name: &str,
    headers: &[String],
    dwarf: Option<&str>,
    targets: &[Target],
    checked: usize,
) -> Finding {
    let truth = match (headers.is_empty(), dwarf) {
        (false, _) => format!("types from {}", headers.join(", ")),
        (true, Some(d)) => format!("types from the library's DWARF ({d}), for its own target"),
        (true, None) => {
            "exports only (no header given and no DWARF: types were not checked)".to_string()
        }
    };
    let mut f = finding(
        BindingCode::Summary,
        &Loc {
            file: py.to_string(),
            ..Default::default()
        },
        format!(
            "{} libraries, {} functions, {} records, {} prototypes, {} cdef blocks read; {checked} functions checked \
             against {lib_name}: {truth}",
            b.libraries.len(),
            b.functions.len(),
            b.records.len(),
            b.prototypes.len(),
            b.cdefs.len()
        ),
    );
    f.expected =
        "the binding's declarations, checked against the library and the truth for types".into();
    f.found = format!(
        "targets: {}",
        targets
            .iter()
            .map(|t| t.name())
            .collect::<Vec<_>>()
            .join(", ")
    );
    f
}

/// Where calling conventions differ: 32-bit x86 Windows (everywhere else `__stdcall` is ignored and `WinDLL`,
/// `WINFUNCTYPE` are `CDLL`, `CFUNCTYPE`).
fn conventions_differ(t: Target) -> bool {
    matches!(t, Target::WindowsX86Msvc | Target::MingwX86)
}

/// The convention a C function type gets: `__stdcall` or the default cdecl (`__fastcall`, `__vectorcall` and
/// `__thiscall` are conventions ctypes cannot call at all).
fn c_convention(sig: &FnSig) -> &str {
    match sig.callconv.as_deref() {
        None | Some("__cdecl") => "cdecl",
        Some("__stdcall") => "__stdcall",
        Some(other) => other,
    }
}

/// How ctypes calls through a loader or prototype kind, as the C spelling it must match.
fn ctypes_convention(c: crate::bindings::model::CallConv) -> &'static str {
    match c {
        crate::bindings::model::CallConv::Stdcall => "__stdcall",
        crate::bindings::model::CallConv::Cdecl | crate::bindings::model::CallConv::Python => {
            "cdecl"
        }
    }
}

/// FFI0719: a function called with another convention than the header gives it on 32-bit Windows: through
/// `CDLL` (cdecl) when it is `__stdcall` (`WINAPI`), or through `WinDLL` when it is cdecl; a prototype's own
/// convention (`WINFUNCTYPE` / `CFUNCTYPE`) decides when the function is made from one.
fn convention(
    b: &Binding,
    f: &crate::bindings::model::FunctionDecl,
    proto: Option<&crate::bindings::model::Prototype>,
    truths: &[Truth],
) -> Option<Finding> {
    let (ours, by) = match proto {
        Some(p) => (
            p.conv,
            p.name.clone().unwrap_or_else(|| "its prototype".into()),
        ),
        None => {
            let l = b.libraries.get(f.library)?;
            let conv = match l.loader {
                Loader::WinDll | Loader::OleDll => crate::bindings::model::CallConv::Stdcall,
                Loader::Cdll | Loader::PyDll => crate::bindings::model::CallConv::Cdecl,
                Loader::CffiDlopen => return None,
            };
            (conv, format!("{}(...) at {}", l.loader.spelling(), l.loc))
        }
    };
    let ours = ctypes_convention(ours);
    let mut on = Vec::new();
    let mut theirs = "";
    for t in truths.iter().filter(|t| conventions_differ(t.target)) {
        let Some((_, c)) = t.function(&f.name) else {
            continue;
        };
        if c_convention(&c.sig) != ours {
            theirs = c_convention(&c.sig);
            on.push(t.target.name());
        }
    }
    if on.is_empty() {
        return None;
    }
    let mut x = finding(
        BindingCode::CallingConvention,
        &f.loc,
        format!(
            "{} is {theirs} but is called as {ours} (through {by}) on {}",
            f.name,
            on.join(", ")
        ),
    );
    x.expected = format!("a {theirs} call");
    x.found = format!(
        "a {ours} call: on 32-bit Windows the caller and the callee disagree on who pops the arguments, and ctypes \
         raises \"Procedure probably called with too many (or not enough) arguments\" or the stack is corrupted"
    );
    x.hint = match theirs {
        "__stdcall" => {
            "load the library with ctypes.WinDLL (or make the prototype with WINFUNCTYPE)".into()
        }
        "cdecl" => {
            "load the library with ctypes.CDLL (or make the prototype with CFUNCTYPE)".into()
        }
        other => format!(
            "ctypes cannot call {other} functions: wrap it in a C function with a cdecl signature"
        ),
    };
    Some(x)
}

/// The checks of one ctypes function against the header, on every target.
fn ctypes_function(
    b: &Binding,
    f: &crate::bindings::model::FunctionDecl,
    truths: &[Truth],
    empty: &Spec,
    ctypes: Ctypes,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some((spec0, c0)) = truths.first().and_then(|t| t.function(&f.name)) else {
        return out;
    };
    let proto = f.prototype.map(|p| &b.prototypes[p]);
    let argtypes: Option<(Vec<CType>, &Loc)> = match (&f.argtypes, proto) {
        (Some(a), _) => Some((a.value.clone(), &a.loc)),
        (None, Some(p)) => Some((p.argtypes.clone(), &p.loc)),
        (None, None) => None,
    };
    let restype: Option<(CType, &Loc)> = match (&f.restype, proto) {
        (Some(r), _) => Some((r.value.clone(), &r.loc)),
        (None, Some(p)) => Some((p.restype.clone(), &p.loc)),
        (None, None) => None,
    };
    let arity = declared_arity(&c0.sig);
    let c_decl = if c0.loc.line > 0 {
        format!("{} (declared at {})", c0.name, c0.loc)
    } else {
        format!("{} as {} defines it", c0.name, c0.loc.file)
    };
    out.extend(convention(b, f, proto, truths));
    // Variadic.
    if c0.sig.variadic {
        let mut x = finding(
            BindingCode::Variadic,
            &f.loc,
            format!("{} is variadic and is called through ctypes", f.name),
        );
        x.expected = "a function with a fixed parameter list".into();
        x.found = format!("{c_decl} ends in `...`");
        x.hint = "set argtypes to exactly the fixed parameters (ctypes then knows where the variadic ones start: \
                  Apple arm64 passes them on the stack, not in registers) and pass each variadic argument as an \
                  explicit ctypes instance (c_int(x), c_double(y)), or wrap the function in C with a fixed signature".into();
        out.push(x);
    }
    // Missing restype.
    if restype.is_none() {
        let bad: Vec<(Target, Class)> = truths
            .iter()
            .filter_map(|t| {
                let (s, c) = t.function(&f.name)?;
                let k = c_class(s, &c.sig.ret, t.target, false, 0);
                (!k.int_compatible()).then_some((t.target, k))
            })
            .collect();
        if !bad.is_empty() {
            let mut x = finding(
                BindingCode::MissingRestype,
                &f.loc,
                format!(
                    "{} returns {} but has no restype: ctypes reads it as a C int",
                    f.name,
                    c_spelling::spell(spec0, &c0.sig.ret)
                ),
            );
            x.expected = format!(
                "restype = {}",
                ctypes_spelling(spec0, &c0.sig.ret, ctypes, 0)
            );
            let mut lines = Vec::new();
            for (t, k) in &bad {
                group_by_target(
                    &mut lines,
                    format!("{} truncated to a 4-byte int", k.describe()),
                    *t,
                );
            }
            x.found = grouped_text(&lines);
            x.hint = format!(
                "lib.{}.restype = {}",
                f.name,
                ctypes_spelling(spec0, &c0.sig.ret, ctypes, 0)
            );
            out.push(x);
        }
    }
    // Missing argtypes.
    if argtypes.is_none() && !f.argtypes_unresolved && !c0.sig.unprototyped {
        let mut params: Vec<String> = Vec::new();
        for t in truths {
            let Some((s, c)) = t.function(&f.name) else {
                continue;
            };
            for (i, p) in c.sig.params.iter().enumerate().take(declared_arity(&c.sig)) {
                let k = c_class(s, &p.ty, t.target, true, 0);
                if k.needs_argtypes() {
                    let d = format!("parameter {} ({})", i + 1, c_spelling::spell(s, &p.ty));
                    if !params.contains(&d) {
                        params.push(d);
                    }
                }
            }
        }
        if !params.is_empty() {
            let mut x = finding(
                BindingCode::MissingArgtypes,
                &f.loc,
                format!(
                    "{} takes {} but has no argtypes: ctypes passes Python ints as C int",
                    f.name,
                    params.join(", ")
                ),
            );
            let spelled: Vec<String> = c0
                .sig
                .params
                .iter()
                .take(arity)
                .map(|p| ctypes_spelling(spec0, &p.ty, ctypes, 0))
                .collect();
            x.expected = format!("argtypes = [{}]", spelled.join(", "));
            x.found = "no argtypes".into();
            x.hint = format!("lib.{}.argtypes = [{}]", f.name, spelled.join(", "));
            out.push(x);
        }
    }
    // Argument count and each argument.
    if let Some((args, loc)) = &argtypes {
        let count_ok = if c0.sig.variadic {
            args.len() >= arity
        } else {
            args.len() == arity || c0.sig.unprototyped
        };
        if !count_ok {
            let mut x = finding(
                BindingCode::ArgCount,
                loc,
                format!(
                    "{}: argtypes has {} entries, the C function takes {arity} parameter{}",
                    f.name,
                    args.len(),
                    if arity == 1 { "" } else { "s" }
                ),
            );
            x.expected = format!("{arity} argtypes");
            x.found = format!("{}", args.len());
            x.hint = format!("match {c_decl}");
            out.push(x);
        }
        for (i, a) in args.iter().enumerate().take(arity) {
            let mut slot = Slot::new();
            let mut cb: Option<String> = None;
            for t in truths {
                let Some((s, c)) = t.function(&f.name) else {
                    continue;
                };
                let Some(p) = c.sig.params.get(i) else {
                    continue;
                };
                let dk = ctype_class(a, t.target, empty, true, 0);
                let ck = c_class(s, &p.ty, t.target, true, 0);
                slot.add(compare(&dk, &ck), t.target, &dk, &ck);
                if let (CType::FuncPtr { id }, Some(sig)) = (a, fn_pointer_sig(s, &p.ty)) {
                    if cb.is_none() {
                        cb = callback_mismatch(b, *id, s, sig, t.target, empty);
                    }
                }
            }
            let p0 = &c0.sig.params[i];
            let what = format!(
                "parameter {}{} of {}",
                i + 1,
                p0.name
                    .as_deref()
                    .map(|n| format!(" `{n}`"))
                    .unwrap_or_default(),
                f.name
            );
            push_slot(
                &mut out,
                slot,
                loc,
                &what,
                &ctype_spelling(b, a, 0),
                spec0,
                &p0.ty,
                true,
                ctypes,
            );
            if let Some(found) = cb {
                let mut x = finding(
                    BindingCode::CallbackType,
                    loc,
                    format!(
                        "{what}: the callback prototype differs from the C function-pointer type"
                    ),
                );
                x.expected = c_spelling::spell(spec0, &p0.ty);
                x.found = found;
                x.hint = "declare the prototype with the header's exact return and parameter types, and its \
                          calling convention: WINFUNCTYPE for a __stdcall (CALLBACK, WINAPI) pointer on 32-bit \
                          Windows, CFUNCTYPE otherwise"
                    .into();
                out.push(x);
            }
            if a == &(CType::Simple {
                simple: crate::bindings::model::Simple::CharP,
            }) && is_mutable_char_ptr(spec0, &p0.ty)
            {
                let mut x = finding(
                    BindingCode::CharPOutput,
                    loc,
                    format!("{what}: c_char_p for a non-const char *, which the function may write into"),
                );
                x.expected = "POINTER(c_char) (pass create_string_buffer(n))".into();
                x.found = format!("c_char_p for {}", c_spelling::spell(spec0, &p0.ty));
                x.hint = "ctypes passes bytes objects as c_char_p, and bytes are immutable: use POINTER(c_char) \
                          with ctypes.create_string_buffer"
                    .into();
                out.push(x);
            }
        }
    }
    // Return type.
    if let Some((r, loc)) = &restype {
        if !matches!(r, CType::Void) {
            let mut slot = Slot::new();
            for t in truths {
                let Some((s, c)) = t.function(&f.name) else {
                    continue;
                };
                let ck = c_class(s, &c.sig.ret, t.target, false, 0);
                if matches!(ck.kind, crate::check::binding_types::Kind::Void) {
                    continue;
                }
                let dk = ctype_class(r, t.target, empty, false, 0);
                slot.add(compare(&dk, &ck), t.target, &dk, &ck);
            }
            let what = format!("restype of {}", f.name);
            push_slot(
                &mut out,
                slot,
                loc,
                &what,
                &ctype_spelling(b, r, 0),
                spec0,
                &c0.sig.ret,
                false,
                ctypes,
            );
        }
    }
    // Call sites.
    // A function made from a prototype with paramflags takes fewer Python arguments (output parameters are
    // created by ctypes) or keyword arguments: its calls are not counted.
    if !c0.sig.variadic && !c0.sig.unprototyped && f.prototype.is_none() {
        for c in &f.calls {
            if let Some(n) = c.args {
                if n != arity {
                    let mut x = finding(
                        BindingCode::ArgCount,
                        &c.loc,
                        format!("{} is called with {n} arguments but takes {arity}", f.name),
                    );
                    x.expected = format!("{arity} arguments");
                    x.found = n.to_string();
                    x.hint = format!("match {c_decl}");
                    out.push(x);
                }
            }
        }
    }
    out
}

/// One finding for a parameter or return slot whose verdict is not `Same` on some target.
#[allow(clippy::too_many_arguments)]
fn push_slot(
    out: &mut Vec<Finding>,
    slot: Slot,
    loc: &Loc,
    what: &str,
    declared: &str,
    spec: &Spec,
    c_ty: &decl::QualType,
    param: bool,
    ctypes: Ctypes,
) {
    let code = match (slot.worst, param) {
        (Verdict::Same, _) => return,
        (Verdict::Signedness, _) => BindingCode::Signedness,
        (Verdict::Differs, true) => BindingCode::ParamType,
        (Verdict::Differs, false) => BindingCode::ReturnType,
    };
    let c = c_spelling::spell(spec, c_ty);
    let mut x = finding(
        code,
        loc,
        format!("{what}: {declared} does not match the C type {c}"),
    );
    x.expected = format!("{} ({c})", ctypes_spelling(spec, c_ty, ctypes, 0));
    x.found = format!("{declared}: {}", slot.text());
    x.hint = format!("use {}", ctypes_spelling(spec, c_ty, ctypes, 0));
    out.push(x);
}

/// How a ctypes prototype differs from a C function-pointer signature on `target`, if it does.
fn callback_mismatch(
    b: &Binding,
    id: usize,
    spec: &Spec,
    sig: &FnSig,
    target: Target,
    empty: &Spec,
) -> Option<String> {
    let p = b.prototypes.get(id)?;
    let arity = declared_arity(sig);
    let spelled = || {
        let args: Vec<String> = std::iter::once(&p.restype)
            .chain(p.argtypes.iter())
            .map(|t| ctype_spelling(b, t, 0))
            .collect();
        format!(
            "{}({})",
            p.name.as_deref().unwrap_or("CFUNCTYPE"),
            args.join(", ")
        )
    };
    if !sig.variadic && !sig.unprototyped && p.argtypes.len() != arity {
        return Some(format!(
            "{}: {} parameters where C has {arity}",
            spelled(),
            p.argtypes.len()
        ));
    }
    if conventions_differ(target) && ctypes_convention(p.conv) != c_convention(sig) {
        return Some(format!(
            "{}: a {} callback where C calls it as {} on {} (made with {}; the callee pops the arguments only \
             under __stdcall)",
            spelled(),
            ctypes_convention(p.conv),
            c_convention(sig),
            target.name(),
            match p.conv {
                crate::bindings::model::CallConv::Stdcall => "WINFUNCTYPE",
                crate::bindings::model::CallConv::Cdecl => "CFUNCTYPE",
                crate::bindings::model::CallConv::Python => "PYFUNCTYPE",
            }
        ));
    }
    let ret_c = c_class(spec, &sig.ret, target, false, 0);
    let ret_d = ctype_class(&p.restype, target, empty, false, 0);
    let void_ok = matches!(ret_c.kind, crate::check::binding_types::Kind::Void)
        && matches!(p.restype, CType::Void);
    if !void_ok && compare(&ret_d, &ret_c) == Verdict::Differs {
        return Some(format!(
            "{}: returns {} where C has {} on {}",
            spelled(),
            ret_d.describe(),
            ret_c.describe(),
            target.name()
        ));
    }
    for (i, (a, cp)) in p.argtypes.iter().zip(sig.params.iter()).enumerate() {
        let d = ctype_class(a, target, empty, true, 0);
        let c = c_class(spec, &cp.ty, target, true, 0);
        if compare(&d, &c) == Verdict::Differs {
            return Some(format!(
                "{}: parameter {} is {} where C has {} on {}",
                spelled(),
                i + 1,
                d.describe(),
                c.describe(),
                target.name()
            ));
        }
    }
    None
}

/// cffi declarations (the cdef, parsed per target) against the header, and variadic functions in ABI mode.
/// FFI0719 for a cffi ABI-mode declaration: on 32-bit Windows cffi calls a function with the convention its cdef
/// declares (`WINAPI` / `__stdcall`, else cdecl), which must be the header's.
fn cdef_convention(f: &Function, cdefs: &[Spec], truths: &[Truth]) -> Option<Finding> {
    let mut on = Vec::new();
    let mut pair = (String::new(), String::new());
    for (ti, t) in truths.iter().enumerate() {
        if !conventions_differ(t.target) {
            continue;
        }
        let (Some((_, hf)), Some(cs)) = (t.function(&f.name), cdefs.get(ti)) else {
            continue;
        };
        let Some(cf) = cs.functions.iter().find(|x| x.name == f.name) else {
            continue;
        };
        let (ours, theirs) = (c_convention(&cf.sig), c_convention(&hf.sig));
        if ours != theirs {
            pair = (ours.to_string(), theirs.to_string());
            on.push(t.target.name());
        }
    }
    if on.is_empty() {
        return None;
    }
    let (ours, theirs) = pair;
    let mut x = finding(
        BindingCode::CallingConvention,
        &f.loc,
        format!(
            "{} is {theirs} but the cdef declares it {ours} on {}",
            f.name,
            on.join(", ")
        ),
    );
    x.expected = format!("a {theirs} declaration");
    x.found = format!(
        "a {ours} declaration: cffi calls it so, and on 32-bit Windows the caller and the callee then disagree on \
         who pops the arguments"
    );
    x.hint = if theirs == "__stdcall" {
        format!(
            "declare it as the header does: `... WINAPI {}(...);`",
            f.name
        )
    } else {
        "declare it without WINAPI / __stdcall, as the header does".into()
    };
    Some(x)
}

fn cffi_functions(b: &Binding, cdefs: &[Spec], truths: &[Truth], used: &[&str]) -> Vec<Finding> {
    let mut out = Vec::new();
    let api_mode = !b.set_source.is_empty();
    let cdef0 = &cdefs[0];
    for f in &cdef0.functions {
        if !used.is_empty() && !used.contains(&f.name.as_str()) {
            continue;
        }
        if f.sig.variadic && !api_mode {
            let mut x = finding(
                BindingCode::Variadic,
                &f.loc,
                format!("{} is variadic and is called through cffi ABI mode", f.name),
            );
            x.expected = "a function with a fixed parameter list, or API mode".into();
            x.found = "a declaration ending in `...`".into();
            x.hint = "pass variadic arguments as typed cdata (ffi.cast(\"int\", x)); cffi's docs recommend API mode \
                      (ffi.set_source) for variadic functions, which Apple arm64 passes on the stack"
                .into();
            out.push(x);
        }
        let Some((hspec, h)) = truths.first().and_then(|t| t.function(&f.name)) else {
            continue;
        };
        let (da, ha) = (declared_arity(&f.sig), declared_arity(&h.sig));
        if (da != ha || f.sig.variadic != h.sig.variadic) && !h.sig.unprototyped {
            let mut x = finding(
                BindingCode::ArgCount,
                &f.loc,
                format!(
                    "{}: the cdef declares {da} parameters, the C function takes {ha}",
                    f.name
                ),
            );
            x.expected = format!(
                "{} (declared at {})",
                c_spelling::spell(hspec, &h.sig.ret),
                h.loc
            );
            x.found = format!("{da} parameters");
            x.hint = "copy the declaration from the header".into();
            out.push(x);
            continue;
        }
        if !api_mode {
            out.extend(cdef_convention(f, cdefs, truths));
        }
        for i in 0..=da {
            let mut slot = Slot::new();
            for (ti, t) in truths.iter().enumerate() {
                let (Some((hs, hf)), Some(cs)) = (t.function(&f.name), cdefs.get(ti)) else {
                    continue;
                };
                let Some(cf) = cs.functions.iter().find(|x| x.name == f.name) else {
                    continue;
                };
                let (dq, cq) = if i == da {
                    (&cf.sig.ret, &hf.sig.ret)
                } else {
                    match (cf.sig.params.get(i), hf.sig.params.get(i)) {
                        (Some(a), Some(c)) => (&a.ty, &c.ty),
                        _ => continue,
                    }
                };
                let dk = c_class(cs, dq, t.target, i != da, 0);
                let ck = c_class(hs, cq, t.target, i != da, 0);
                slot.add(compare(&dk, &ck), t.target, &dk, &ck);
            }
            let (what, dq, cq) = if i == da {
                (format!("return type of {}", f.name), &f.sig.ret, &h.sig.ret)
            } else {
                (
                    format!("parameter {} of {}", i + 1, f.name),
                    &f.sig.params[i].ty,
                    &h.sig.params[i].ty,
                )
            };
            let declared = c_spelling::spell(cdef0, dq);
            let code = match slot.worst {
                Verdict::Same => continue,
                Verdict::Signedness => BindingCode::Signedness,
                Verdict::Differs if i == da => BindingCode::ReturnType,
                Verdict::Differs => BindingCode::ParamType,
            };
            let c = c_spelling::spell(hspec, cq);
            let mut x = finding(
                code,
                &f.loc,
                format!("{what}: the cdef says {declared}, the header {c}"),
            );
            x.expected = c.clone();
            x.found = format!("{declared}: {}", slot.text());
            x.hint = format!("declare it as `{c}` in the cdef, as the header does");
            out.push(x);
        }
    }
    out
}
