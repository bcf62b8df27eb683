//! `ffi-doctor diff OLD NEW`: the ABI changes between two releases (libraries, wheels or directories), as
//! FFI08xx findings. Human output groups them by severity, then by entity (the symbol or type); JSON is the
//! report (`ffi-doctor/diff/v1`); `--sarif` / `--junit` files go through the gate's renderers. Exit 0 / 1
//! (unsuppressed findings at or above `--fail-on`) / 2 (unusable input).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use super::args::{ReportFiles, SeverityArg, SpecArgs};
use super::Context;
use crate::diff::{self, DiffOptions, DiffReport, Interest, Suppression};
use crate::dwarf::DebugOptions;
use crate::error::InputError;
use crate::gate::{self, GateFinding, GateReport, Summary, TargetReport};
use crate::report::human::severity_label;
use crate::report::{self, Finding, OutputFormat, Severity, EXIT_INPUT};

#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The previous release: a library (ELF, Mach-O incl. universal, PE), a wheel or a directory.
    pub old: String,
    /// The new release, of the same kind.
    pub new: String,
    /// Compare only what this header (or cffi cdef) declares, for both releases; a record it leaves opaque is
    /// not part of the ABI.
    #[arg(long, conflicts_with_all = ["old_spec", "new_spec"])]
    pub spec: Option<String>,
    /// The previous release's header. With --new-spec, the types the two headers declare (laid out for the
    /// library's target) are compared instead of the DWARF, restricted to what either declares.
    #[arg(long)]
    pub old_spec: Option<String>,
    /// The new release's header.
    #[arg(long)]
    pub new_spec: Option<String>,
    /// Compare only what this Python binding (ctypes or cffi, read statically, never imported) uses: "does my
    /// binding still work against NEW?". With --spec, what either declares.
    #[arg(long, value_name = "BINDING.py")]
    pub python: Option<String>,
    #[command(flatten)]
    pub spec_args: SpecArgs,
    /// Only this architecture of universal Mach-O files.
    #[arg(long)]
    pub arch: Option<String>,
    /// Compare exports and identity only, not the DWARF types.
    #[arg(long)]
    pub no_dwarf: bool,
    /// A global debug directory (`.build-id/` and debuglink lookups); repeatable; default /usr/lib/debug.
    #[arg(long, value_name = "DIR")]
    pub debug_dir: Vec<PathBuf>,
    /// Accept the changes its `[[baseline]]` entries match (code, location-glob, reason): an ffi-doctor.toml or
    /// any TOML file with such entries.
    #[arg(long, value_name = "FILE")]
    pub suppressions: Option<PathBuf>,
    /// Exit 1 when an unsuppressed change has at least this severity.
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
    #[command(flatten)]
    pub files: ReportFiles,
}

fn interest(a: &DiffArgs) -> Result<Option<Interest>, InputError> {
    let opts = a.spec_args.parse_options()?;
    // Which names and records a header declares, as the host's compiler would see it (its predefined macros:
    // headers test CHAR_BIT, __SIZEOF_*__, …).
    let parse = |p: &str| -> Result<Interest, InputError> {
        let spec = crate::layout::compare::parse_for(p, &opts, crate::abi::Target::host())?;
        Ok(Interest::from_spec(&spec))
    };
    let spec = match (&a.spec, &a.old_spec, &a.new_spec) {
        (Some(s), _, _) => Some(parse(s)?),
        (None, Some(o), Some(n)) => Some(parse(o)?.union(parse(n)?)),
        (None, Some(o), None) => Some(parse(o)?),
        (None, None, Some(n)) => Some(parse(n)?),
        (None, None, None) => None,
    };
    let binding = match &a.python {
        Some(p) => {
            let mut opts = opts.clone();
            if let Some(t) = crate::abi::Target::host() {
                opts.target_defines = t.predefined_macros();
            }
            Some(Interest::from_binding(
                &crate::bindings::python::read_binding(p)?,
                &opts,
            )?)
        }
        None => None,
    };
    Ok(match (spec, binding) {
        (Some(s), Some(b)) => Some(s.union(b)),
        (s, b) => s.or(b),
    })
}

fn suppressions(path: &std::path::Path) -> Result<Vec<Suppression>, String> {
    let loaded = gate::config::load(path).map_err(|e| format!("suppressions: {e}"))?;
    Ok(loaded
        .config
        .baselines
        .iter()
        .filter_map(|b| {
            let b = b.get_ref();
            Some(Suppression {
                code: crate::report::Code::parse(&b.code)?,
                location: glob::Pattern::new(&b.location_glob).ok()?,
                reason: b.reason.clone().unwrap_or_default(),
            })
        })
        .collect())
}

pub fn run(ctx: &Context, a: &DiffArgs) -> i32 {
    let input_error = |e: InputError| {
        report::report_input_errors(ctx.format, "diff", &[e]);
        EXIT_INPUT
    };
    let interest = match interest(a) {
        Ok(i) => i,
        Err(e) => return input_error(e),
    };
    let rules = match &a.suppressions {
        Some(p) => match suppressions(p) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
        },
        None => Vec::new(),
    };
    let mut debug = DebugOptions::default();
    if !a.debug_dir.is_empty() {
        debug.debug_dirs = a.debug_dir.clone();
    }
    let specs = match (&a.old_spec, &a.new_spec) {
        (Some(o), Some(n)) => match a.spec_args.parse_options() {
            Ok(parse) => Some(diff::SpecPair {
                old: o.clone(),
                new: n.clone(),
                parse,
            }),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_INPUT;
            }
        },
        _ => None,
    };
    let opts = DiffOptions {
        debug,
        no_dwarf: a.no_dwarf,
        arch: a.arch.clone(),
        interest,
        specs,
    };
    let mut rep = match diff::diff_paths(&a.old, &a.new, &opts) {
        Ok(r) => r,
        Err(e) => return input_error(e),
    };
    rep.suppress(&rules);
    let fail_on: Severity = a.fail_on.into();
    let all: Vec<Finding> = rep.findings().cloned().collect();
    let exit = report::exit_code_for(&all, fail_on);
    let sarif_junit = (a.files.sarif.is_some() || a.files.junit.is_some())
        .then(|| as_gate_report(&rep, fail_on, exit));
    if let Err(e) = a.files.write_gate(sarif_junit.as_ref(), || {
        serde_json::to_string_pretty(&rep).unwrap_or_default() + "\n"
    }) {
        eprintln!("error: {e}");
        return EXIT_INPUT;
    }
    let written = match ctx.format {
        OutputFormat::Json => report::write_json(&rep),
        OutputFormat::Human => human(&rep, ctx.quiet),
    };
    let code = report::finish_output(written);
    if code != 0 {
        return code;
    }
    exit
}

/// The diff as a one-target gate report, for the gate's SARIF and JUnit renderers.
fn as_gate_report(rep: &DiffReport, fail_on: Severity, exit: i32) -> GateReport {
    let mut summary = Summary {
        targets: 1,
        binaries: rep.pairs.len(),
        ..Summary::default()
    };
    let mut findings: Vec<GateFinding> = rep
        .findings()
        .map(|f| {
            match f.severity {
                Severity::Error => summary.errors += 1,
                Severity::Warning => summary.warnings += 1,
                Severity::Info => summary.infos += 1,
            }
            GateFinding {
                finding: f.clone(),
                check: f.code.info().kind.as_str(),
                suppressed: None,
            }
        })
        .collect();
    summary.suppressed = rep.suppressed.len();
    findings.extend(rep.suppressed.iter().map(|s| GateFinding {
        finding: s.finding.clone(),
        check: s.finding.code.info().kind.as_str(),
        suppressed: Some(s.reason.clone()),
    }));
    let mut checks: Vec<&'static str> = findings.iter().map(|f| f.check).collect();
    checks.extend(["exports", "abi"]);
    checks.sort();
    checks.dedup();
    GateReport {
        schema: diff::SCHEMA,
        config: String::new(),
        fail_on,
        targets: vec![TargetReport {
            path: rep.new.clone(),
            kind: "diff",
            wheel: None,
            policies: Vec::new(),
            binaries: rep.pairs.iter().map(|p| p.new.clone()).collect(),
            checks,
            findings,
            errors: Vec::new(),
        }],
        summary,
        exit_code: exit,
    }
}

/// At most 240 characters of a value (lists of symbols get long); JSON, SARIF and JUnit keep all of it.
fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    const LIMIT: usize = 240;
    match s.char_indices().nth(LIMIT) {
        None => s.into(),
        Some((cut, _)) => format!("{}… (--format json has all of it)", &s[..cut]).into(),
    }
}

/// One line per pair, then the findings by severity (errors first), within it by entity (the location).
fn human(r: &DiffReport, quiet: bool) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    writeln!(out, "{} → {}", r.old, r.new)?;
    for p in &r.pairs {
        let dwarf = |d: &Option<diff::DebugNote>| match d {
            Some(d) => format!(
                "DWARF {}",
                d.dwarf_versions
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("+")
            ),
            None => "no DWARF".to_string(),
        };
        writeln!(
            out,
            "  {} → {} ({} {}; {} / {}){}",
            p.old,
            p.new,
            p.format.as_str(),
            p.arch,
            dwarf(&p.old_debug),
            dwarf(&p.new_debug),
            if p.renamed {
                " — renamed: intended break"
            } else {
                ""
            }
        )?;
    }
    let all: Vec<&Finding> = r.findings().collect();
    for sev in [Severity::Error, Severity::Warning, Severity::Info] {
        if quiet && sev == Severity::Info {
            continue;
        }
        let mut groups: BTreeMap<String, Vec<&Finding>> = BTreeMap::new();
        for f in all.iter().filter(|f| f.severity == sev) {
            groups.entry(f.location.to_string()).or_default().push(f);
        }
        if groups.is_empty() {
            continue;
        }
        let n: usize = groups.values().map(Vec::len).sum();
        writeln!(out, "\n{} ({n}):", severity_label(sev))?;
        for (entity, fs) in groups {
            writeln!(out, "  {entity}")?;
            for f in fs {
                writeln!(out, "    {} {}", f.code, f.message)?;
                if !f.expected.is_empty() || !f.found.is_empty() {
                    writeln!(out, "        old: {}", clip(&f.expected))?;
                    writeln!(out, "        new: {}", clip(&f.found))?;
                }
                if !f.hint.is_empty() && !quiet {
                    writeln!(out, "        hint: {}", f.hint)?;
                }
            }
        }
    }
    if !r.suppressed.is_empty() {
        writeln!(out, "\nsuppressed ({}):", r.suppressed.len())?;
        for s in &r.suppressed {
            writeln!(
                out,
                "  {} {} at {} — {}",
                s.finding.code, s.finding.message, s.finding.location, s.reason
            )?;
        }
    }
    let c = crate::report::human::Counts::of(all.iter().copied());
    let verdict = if c.errors > 0 {
        "breaking"
    } else if c.warnings > 0 {
        "compatible, with warnings"
    } else {
        "compatible"
    };
    writeln!(
        out,
        "\n{verdict}: {} errors, {} warnings, {} notes",
        c.errors, c.warnings, c.infos
    )?;
    out.flush()
}
