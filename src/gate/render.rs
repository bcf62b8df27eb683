//! Renderers of a [`GateReport`]: human (comfy-table), SARIF 2.1.0 and JUnit XML (built from the pieces in
//! [`crate::report::ci`] that `check`'s files share). JSON is the report itself.

use std::fmt::Write as _;

use comfy_table::{presets::UTF8_BORDERS_ONLY, ContentArrangement, Table};
use serde_json::{json, Value};

use super::{GateFinding, GateReport};
use crate::report::ci::{self, xml_escape};
use crate::report::human::severity_label;

/// A table cell of at most `CELL_LIMIT` characters: wrapping a 100,000-character RPATH took the table seconds;
/// the JSON, SARIF and JUnit reports keep the whole text.
fn clip(s: &str) -> std::borrow::Cow<'_, str> {
    const CELL_LIMIT: usize = 2000;
    match s.char_indices().nth(CELL_LIMIT) {
        None => s.into(),
        Some((cut, _)) => format!(
            "{}… ({} more characters; --format json has them all)",
            &s[..cut],
            s[cut..].chars().count()
        )
        .into(),
    }
}

/// Human summary: one table of findings per target, then the totals.
pub fn human(r: &GateReport) -> String {
    let mut out = String::new();
    // comfy-table wraps to the terminal's width; without a terminal (CI logs), to 160 columns.
    let width = comfy_table::Table::new().width().unwrap_or(160);
    for t in &r.targets {
        let shown: Vec<&GateFinding> = t.findings.iter().collect();
        let open = shown.iter().filter(|f| f.suppressed.is_none()).count();
        let _ = writeln!(
            out,
            "{} [{}]: {} binar{}, {} finding{}{}",
            t.path,
            t.kind,
            t.binaries.len(),
            if t.binaries.len() == 1 { "y" } else { "ies" },
            open,
            if open == 1 { "" } else { "s" },
            if shown.len() > open {
                format!(" ({} baselined)", shown.len() - open)
            } else {
                String::new()
            }
        );
        for p in &t.policies {
            let _ = writeln!(
                out,
                "  policy {} [{}]{}",
                p.name,
                p.source,
                if p.detail.is_empty() {
                    String::new()
                } else {
                    format!(": {}", p.detail)
                }
            );
        }
        for e in &t.errors {
            let _ = writeln!(out, "  input error: {e}");
        }
        if shown.is_empty() {
            continue;
        }
        let mut table = Table::new();
        table
            .load_preset(UTF8_BORDERS_ONLY)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(width)
            .set_header(vec!["code", "severity", "location", "problem", "hint"]);
        for f in shown {
            let g = &f.finding;
            let severity = match &f.suppressed {
                Some(reason) => format!("{} (baseline: {reason})", severity_label(g.severity)),
                None => severity_label(g.severity).to_string(),
            };
            table.add_row(vec![
                g.code.to_string(),
                clip(&severity).into_owned(),
                clip(&g.location.to_string()).into_owned(),
                format!(
                    "{}\nexpected: {}\nfound: {}",
                    clip(&g.message),
                    clip(&g.expected),
                    clip(&g.found)
                ),
                clip(&g.hint).into_owned(),
            ]);
        }
        let _ = writeln!(out, "{table}");
    }
    let s = &r.summary;
    let _ = writeln!(
        out,
        "gate: {} target(s), {} binar{}: {} error(s), {} warning(s), {} info, {} baselined{} -> exit {}",
        s.targets,
        s.binaries,
        if s.binaries == 1 { "y" } else { "ies" },
        s.errors,
        s.warnings,
        s.infos,
        s.suppressed,
        if s.input_errors > 0 { format!(", {} unusable input(s)", s.input_errors) } else { String::new() },
        r.exit_code
    );
    out
}

/// SARIF 2.1.0: one run, a rule for each code used, one result per finding (baselined ones carry a suppression).
pub fn sarif(r: &GateReport) -> Value {
    let (rules, index) = ci::sarif_rules(
        r.targets
            .iter()
            .flat_map(|t| &t.findings)
            .map(|f| f.finding.code),
    );
    let mut results = Vec::new();
    for t in &r.targets {
        for f in &t.findings {
            let g = &f.finding;
            // The artifact is the file on disk: a wheel member's `wheel!member` names the wheel.
            let file = g
                .location
                .file
                .split('!')
                .next()
                .unwrap_or(&g.location.file)
                .to_string();
            let physical = ci::sarif_physical(
                json!({ "uri": ci::sarif_uri(&file) }),
                g.location.line,
                g.location.column,
            );
            let mut res = json!({
                "ruleId": g.code,
                "ruleIndex": index[&g.code],
                "level": ci::sarif_level(g.severity),
                "message": ci::sarif_message(g),
                "locations": [ {
                    "physicalLocation": physical,
                    "logicalLocations": [ { "fullyQualifiedName": g.location } ]
                } ],
                "properties": { "check": f.check, "target": t.path },
            });
            if let Some(reason) = &f.suppressed {
                res["suppressions"] = json!([{ "kind": "external", "justification": reason }]);
            }
            results.push(res);
        }
    }
    ci::sarif_log(rules, results)
}

/// JUnit XML: one testsuite per target, one testcase per target × check kind; unsuppressed findings at or above
/// the failure threshold are failures, input errors are errors.
pub fn junit(r: &GateReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let total: usize = r.targets.iter().map(|t| t.checks.len()).sum();
    let mut failures_total = 0;
    let mut suites = String::new();
    for t in &r.targets {
        let mut cases = String::new();
        let mut failures = 0;
        for check in &t.checks {
            let fs: Vec<&GateFinding> = t
                .findings
                .iter()
                .filter(|f| {
                    f.check == *check && f.suppressed.is_none() && f.finding.severity >= r.fail_on
                })
                .collect();
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\">",
                xml_escape(&t.path),
                check
            );
            if !fs.is_empty() {
                failures += 1;
                let text: Vec<String> = fs.iter().map(|f| ci::junit_text(&f.finding)).collect();
                let codes: Vec<&str> = fs.iter().map(|f| f.finding.code.id()).collect();
                let _ = write!(
                    cases,
                    "\n      <failure message=\"{} finding(s): {}\" type=\"{}\">{}</failure>\n    ",
                    fs.len(),
                    xml_escape(&codes.join(", ")),
                    check,
                    xml_escape(&text.join("\n"))
                );
            }
            cases.push_str("</testcase>\n");
        }
        let errors = t.errors.len();
        let mut err_text = String::new();
        if errors > 0 {
            let msgs: Vec<String> = t.errors.iter().map(|e| e.to_string()).collect();
            let _ = writeln!(
                err_text,
                "    <testcase classname=\"{}\" name=\"input\"><error message=\"unusable input\">{}</error></testcase>",
                xml_escape(&t.path),
                xml_escape(&msgs.join("\n"))
            );
        }
        failures_total += failures;
        let _ = write!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{}\">\n{cases}{err_text}  </testsuite>\n",
            xml_escape(&t.path),
            t.checks.len() + usize::from(errors > 0),
            usize::from(errors > 0)
        );
    }
    let _ = write!(
        out,
        "<testsuites name=\"ffi-doctor gate\" tests=\"{total}\" failures=\"{failures_total}\">\n{suites}</testsuites>\n"
    );
    out
}
