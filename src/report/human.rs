//! The one human renderer of findings: how a severity is spelled, how one finding is written as a block, and how
//! a list of findings is grouped by declaration with a closing count. Commands choose the shape; the words and
//! the spelling live only here.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::codes::{Code, LayoutCode};
use super::{Finding, Location, Severity};

/// How a severity is spelled for people: `error`, `warning`, `info`.
pub fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    }
}

/// Findings counted by severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

impl Counts {
    pub fn of<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> Counts {
        let mut c = Counts::default();
        for f in findings {
            match f.severity {
                Severity::Error => c.errors += 1,
                Severity::Warning => c.warnings += 1,
                Severity::Info => c.infos += 1,
            }
        }
        c
    }
}

/// A source position → sortable key (lines numerically); any other location is `(its text, 0, 0)`.
pub fn location_key(loc: &Location) -> (String, u32, u32) {
    match (loc.line, loc.column, &loc.symbol, loc.ordinal) {
        (Some(l), c, None, None) => (loc.file.clone(), l, c.unwrap_or(0)),
        _ => (loc.to_string(), 0, 0),
    }
}

/// The shape of a finding written as a stand-alone block (after a table or tree).
#[derive(Debug, Clone, Copy)]
pub struct Block<'a> {
    /// Written before every line of the block.
    pub indent: &'a str,
    /// Written before the code, e.g. `because ` for an explanation of another finding.
    pub lead: &'a str,
    /// Write a `hint:` line (even when the hint is empty).
    pub hint: bool,
}

/// `\n{indent}{lead}{code} {severity}: {message}\n{indent}  {found}` and, with [`Block::hint`],
/// `{indent}  hint: {hint}`; continuation lines of `found` and `hint` keep the indentation.
pub fn write_block(out: &mut dyn Write, f: &Finding, b: Block<'_>) -> io::Result<()> {
    let cont = format!("\n{}  ", b.indent);
    writeln!(
        out,
        "\n{ind}{}{} {}: {}\n{ind}  {}",
        b.lead,
        f.code,
        severity_label(f.severity),
        f.message,
        f.found.replace('\n', &cont),
        ind = b.indent
    )?;
    if b.hint {
        writeln!(out, "{}  hint: {}", b.indent, f.hint.replace('\n', &cont))?;
    }
    Ok(())
}

/// Findings grouped by location in source order (`file:line:col` numerically), each as
/// `  CODE severity: message` with its expected/found and hint, then `N errors, N warnings, N notes`. With
/// `quiet`, info findings (and groups of only info findings) are left out; the count still has them.
pub fn write_grouped(out: &mut dyn Write, findings: &[Finding], quiet: bool) -> io::Result<()> {
    let mut groups: BTreeMap<(String, u32, u32), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        groups.entry(location_key(&f.location)).or_default().push(f);
    }
    for ((file, line, col), fs) in &groups {
        if quiet && fs.iter().all(|f| f.severity == Severity::Info) {
            continue;
        }
        let loc = if *line > 0 {
            format!("{file}:{line}:{col}")
        } else {
            file.clone()
        };
        writeln!(out, "\n{loc}")?;
        for f in fs {
            if quiet && f.severity == Severity::Info {
                continue;
            }
            write_grouped_entry(out, f)?;
        }
    }
    let c = Counts::of(findings);
    writeln!(
        out,
        "\n{} errors, {} warnings, {} notes",
        c.errors, c.warnings, c.infos
    )
}

fn write_grouped_entry(out: &mut dyn Write, f: &Finding) -> io::Result<()> {
    writeln!(
        out,
        "  {} {}: {}",
        f.code,
        severity_label(f.severity),
        f.message
    )?;
    let per_target = f.code == Code::Layout(LayoutCode::TargetsDiffer);
    if per_target {
        // The found text is one line per group of targets.
        writeln!(out, "      {}", f.found.replace('\n', "\n      "))?;
    } else if !f.expected.is_empty()
        && !f.found.is_empty()
        && matches!(
            f.code,
            Code::Symbol(_) | Code::Layout(_) | Code::Binding(_) | Code::BindingLayout(_)
        )
    {
        writeln!(out, "      expected: {}", f.expected)?;
        writeln!(
            out,
            "      found:    {}",
            f.found.replace('\n', "\n                ")
        )?;
    }
    if !f.hint.is_empty() {
        writeln!(out, "      hint: {}", f.hint)?;
    }
    Ok(())
}
