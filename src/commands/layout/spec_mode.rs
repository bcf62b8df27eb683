//! `layout` on a header or cdef: renders the cross-target comparison of [`crate::layout`] (pahole blocks per group
//! of identical targets, then the differences) or its JSON.

use std::io::Write;

use serde::Serialize;

use super::LayoutArgs;
use crate::abi::Target;
use crate::commands::args::target_named;
use crate::commands::Context;
use crate::error::InputError;
use crate::layout::{self, compare::LayoutDoc, Comparison, PerTarget, TypeDoc};
use crate::report::{self, OutputFormat, EXIT_INPUT};

#[derive(Serialize)]
struct Doc<'a> {
    schema: &'static str,
    mode: &'static str,
    file: &'a str,
    resolved: String,
    targets: Vec<&'static str>,
    notes: Vec<String>,
    /// Declarations that an include which was not read may change, per target (FFI0411 in `check`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unsure: Vec<UnsureDoc<'a>>,
    records: Vec<TypeDoc>,
}

#[derive(Serialize)]
struct UnsureDoc<'a> {
    target: &'static str,
    #[serde(flatten)]
    unsure: &'a crate::decl::Unsure,
}

pub fn run(ctx: &Context, a: &LayoutArgs) -> i32 {
    let fail = |e: InputError| {
        report::report_input_errors(ctx.format, "layout", &[e]);
        EXIT_INPUT
    };
    let targets = match targets_of(a) {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    // Parse once per target: the target's predefined macros select its branch of every #if.
    let specs = match a
        .spec_args
        .parse_options()
        .and_then(|p| layout::parse_per_target(&a.file, &p, &targets))
    {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let notes: Vec<String> = specs[0]
        .notes
        .iter()
        .map(|(l, n)| format!("{l}: {n}"))
        .collect();
    let chosen = match &a.type_name {
        Some(t) => {
            if specs.iter().all(|s| layout::find(s, t).is_none()) {
                return fail(layout::not_found(&a.file, t, &specs[0]));
            }
            vec![t.clone()]
        }
        None => layout::all_records(&specs[0]),
    };
    if !ctx.quiet && ctx.format == OutputFormat::Human {
        eprintln!(
            "note: layouts from the ABI engine for {} (declarations of {}, not a compiled library)",
            targets
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join(", "),
            a.file
        );
        for n in &notes {
            eprintln!("note: {n}");
        }
    }
    let unsure: Vec<UnsureDoc> = targets
        .iter()
        .zip(&specs)
        .flat_map(|(t, s)| {
            s.unsure.iter().map(|u| UnsureDoc {
                target: t.name(),
                unsure: u,
            })
        })
        .collect();
    if !ctx.quiet && ctx.format == OutputFormat::Human {
        // One line per target and conditional: the declarations it decides, then what it depends on.
        let mut i = 0;
        while i < unsure.len() {
            let u = &unsure[i];
            let mut j = i;
            while j < unsure.len()
                && unsure[j].target == u.target
                && unsure[j].unsure.condition == u.unsure.condition
            {
                j += 1;
            }
            let decls: Vec<&str> = unsure[i..j]
                .iter()
                .take(4)
                .map(|d| d.unsure.declaration.as_str())
                .collect();
            let more = (j - i).saturating_sub(decls.len());
            eprintln!(
                "warning: {}: {}{} may differ: the conditional at {} tests {}, which a header that was not read \
                 (last: {} at {}) may define",
                u.target,
                decls.join(", "),
                if more > 0 { format!(" and {more} more") } else { String::new() },
                u.unsure.condition,
                u.unsure.macros.join(", "),
                u.unsure.include,
                u.unsure.include_loc
            );
            i = j;
        }
    }
    let docs: Vec<Comparison> = chosen
        .iter()
        .map(|q| layout::compare(q, &targets, &specs))
        .collect();
    let written = match ctx.format {
        OutputFormat::Json => report::write_json(&Doc {
            schema: "ffi-doctor/layout/v1",
            mode: "spec",
            file: &a.file,
            resolved: std::fs::canonicalize(&a.file)
                .map(|p| p.display().to_string())
                .unwrap_or_else(|_| a.file.clone()),
            targets: targets.iter().map(|t| t.name()).collect(),
            notes,
            unsure,
            records: docs.into_iter().map(|c| c.doc).collect(),
        }),
        _ => {
            let mut text = String::new();
            for (i, c) in docs.iter().enumerate() {
                if i > 0 {
                    text.push('\n');
                }
                human(&mut text, c, targets.len());
            }
            let stdout = std::io::stdout();
            let mut out = stdout.lock();
            out.write_all(text.as_bytes()).and_then(|_| out.flush())
        }
    };
    report::finish_output(written)
}

fn targets_of(a: &LayoutArgs) -> Result<Vec<Target>, InputError> {
    if let Some(t) = &a.target {
        return target_named(t).map(|t| vec![t]);
    }
    let mut out = a.targets.resolve()?;
    if out.is_empty() {
        out.push(Target::host().unwrap_or(Target::LinuxX86_64));
    }
    Ok(out)
}

/// One group's layout as text: the pahole block of a record, one line for a scalar or an error.
fn group_text(name: &str, p: &PerTarget) -> String {
    match p {
        PerTarget::Record { text, .. } => text.clone(),
        PerTarget::Scalar {
            size,
            align,
            resolved,
        } => format!("{name} ({resolved}): size {size}, align {align}\n"),
        PerTarget::Error(e) => format!("{name}: cannot lay out: {e}\n"),
    }
}

fn human(out: &mut String, c: &Comparison, ntargets: usize) {
    use std::fmt::Write as _;
    let doc = &c.doc;
    if ntargets == 1 {
        out.push_str(&group_text(&doc.name, &c.per_target[c.groups[0][0]].1));
        return;
    }
    for (i, (g, l)) in c.groups.iter().zip(&doc.layouts).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let _ = writeln!(out, "/* {} */", l.targets.join(", "));
        out.push_str(&group_text(&doc.name, &c.per_target[g[0]].1));
    }
    let _ = writeln!(out);
    if doc.identical {
        let what = match doc.layouts.first() {
            Some(LayoutDoc {
                size: Some(s),
                align: Some(a),
                ..
            }) => format!(": size {s}, align {a}"),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "{}: identical on all {ntargets} targets{what}",
            doc.name
        );
        return;
    }
    let _ = writeln!(
        out,
        "{}: {} different layouts across {ntargets} targets",
        doc.name,
        doc.layouts.len()
    );
    for l in &doc.layouts {
        let what = match (&l.error, l.size, l.align) {
            (Some(e), _, _) => format!("cannot lay out: {e}"),
            (None, Some(s), Some(a)) => {
                let mut w = format!("size {s}, align {a}");
                if let Some(r) = &l.resolved {
                    w = format!("{r}, {w}");
                }
                w
            }
            _ => String::new(),
        };
        let _ = writeln!(out, "  {}: {what}", l.targets.join(", "));
    }
    if !doc.differences.is_empty() {
        let _ = writeln!(out, "  differences:");
        for d in &doc.differences {
            let subject = match &d.field {
                Some(f) => f.clone(),
                None => d.what.to_string(),
            };
            let vals: Vec<String> = d
                .values
                .iter()
                .map(|v| format!("{} ({})", v.value, v.targets.join(", ")))
                .collect();
            let _ = writeln!(out, "    {subject}: {}", vals.join("; "));
        }
    }
}
