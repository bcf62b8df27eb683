//! The report files CI systems read, over findings: SARIF 2.1.0 (GitHub code scanning) and JUnit XML (test
//! dashboards). Here are the pieces every command's files share — a rule per code from the registry, a finding's
//! level, message and location, the log around the results, XML escaping and a finding as failure text, which
//! `gate::render` builds the gate's (and `diff`'s) files from — and the two documents of a list of findings
//! grouped in scopes ([`Scope`]: `check`'s images), [`sarif`] and [`junit`].
//!
//! A finding keeps its shape: a grouped finding (the repetitive uses of one trap, or the declarations one
//! dependency exports, gathered into one, each member on its own line of `found` as `docs/findings.md` says) is
//! one SARIF result, as it is one entry of the JSON report, with `count` and `members` in its properties.
//!
//! JUnit has one test case per finding code in a scope, named by the code and its registered title, failing when
//! a finding of that code is at or above `--fail-on`. Per code rather than per checked function: a code is one
//! kind of mistake with one fix and one documented rule, every finding has one (record layouts, portability traps
//! and the library itself are no function's), and a test name that stays the same while the mistake is there is
//! what a dashboard's history of a test needs; the places are in the failure's text, one finding a paragraph.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Value};

use super::codes::{BindingCode, PortabilityCode, SymbolCode};
use super::human::severity_label;
use super::{Code, Finding, Location, Severity};

/// The base id of artifact URIs relative to the directory the command ran in (`originalUriBaseIds`).
pub const SRCROOT: &str = "%SRCROOT%";

/// One rule per code in `codes` (in code order, without repeats), with the registry's title and docs anchor, and
/// the index of each code's rule (a result's `ruleIndex`).
pub fn sarif_rules(codes: impl IntoIterator<Item = Code>) -> (Vec<Value>, BTreeMap<Code, usize>) {
    let mut used: BTreeMap<Code, usize> = codes.into_iter().map(|c| (c, 0)).collect();
    let rules = used
        .iter_mut()
        .enumerate()
        .map(|(i, (c, index))| {
            *index = i;
            json!({
                "id": c.id(),
                "name": c.id(),
                "shortDescription": { "text": c.info().short },
                "properties": { "docs": format!("docs/findings.md#{}", c.anchor()) },
            })
        })
        .collect();
    (rules, used)
}

/// A severity as a SARIF level.
pub fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// A finding's SARIF message: the message, then what was expected, what was found and the hint.
pub fn sarif_message(f: &Finding) -> Value {
    json!({ "text": format!("{}\nexpected: {}\nfound: {}\nhint: {}", f.message, f.expected, f.found, f.hint) })
}

/// A path as a URI reference: `/` separators, and the characters a URI gives a meaning to escaped.
fn uri_path(path: &str) -> String {
    let p = path.replace('\\', "/");
    let mut out = String::with_capacity(p.len());
    for c in p.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

/// A path as a SARIF URI: an absolute path as a `file://` URI, a relative one as a relative reference.
pub fn sarif_uri(path: &str) -> String {
    let out = uri_path(path);
    if out.starts_with('/') {
        format!("file://{out}")
    } else {
        out
    }
}

/// The artifact location of `path`, relative to `cwd` when it is inside it (with the base id [`SRCROOT`], which
/// code scanning resolves against the checkout), else an absolute `file://` URI.
pub fn sarif_artifact(path: &str, cwd: &Path) -> Value {
    let p = Path::new(path);
    let rel = if p.is_absolute() {
        p.strip_prefix(cwd).ok().map(|r| r.to_string_lossy())
    } else {
        Some(std::borrow::Cow::Borrowed(
            path.strip_prefix("./").unwrap_or(path),
        ))
    };
    match rel {
        Some(r) if !r.is_empty() => json!({ "uri": uri_path(&r), "uriBaseId": SRCROOT }),
        _ => json!({ "uri": sarif_uri(path) }),
    }
}

/// A physical location in the artifact `artifact`, with a region when the line is known.
pub fn sarif_physical(artifact: Value, line: Option<u32>, column: Option<u32>) -> Value {
    let mut physical = json!({ "artifactLocation": artifact });
    if let Some(l) = line {
        let mut region = json!({ "startLine": l });
        if let Some(c) = column {
            region["startColumn"] = json!(c);
        }
        physical["region"] = region;
    }
    physical
}

/// The SARIF 2.1.0 log of one `ffi-doctor` run with these rules and results.
pub fn sarif_log(rules: Vec<Value>, results: Vec<Value>) -> Value {
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [ {
            "tool": { "driver": {
                "name": "ffi-doctor",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            } },
            "results": results,
        } ]
    })
}

/// `s` with XML's special characters as entities and the control characters XML 1.0 cannot carry left out.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A finding as a paragraph of a JUnit failure: `CODE severity at LOCATION: message` and its expected, found
/// and hint.
pub fn junit_text(f: &Finding) -> String {
    format!(
        "{} {} at {}: {}\n  expected: {}\n  found: {}\n  hint: {}",
        f.code,
        severity_label(f.severity),
        f.location,
        f.message,
        f.expected,
        f.found,
        f.hint
    )
}

/// One list of findings and the name CI shows for it (`check`: one per image of the library,
/// `libfoo.so (x86_64)`).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    pub name: &'a str,
    pub findings: &'a [Finding],
}

/// Whether findings of `code` gather repetitive ones into one, a member a line of `found` (docs/findings.md):
/// declarations a dependency exports (FFI0101, FFI0104: more than three become one), the uses of one `long`
/// typedef or enum type (FFI0401, FFI0405), the functions taking one callback type (FFI0410) and the uses of one
/// expression a binding's reader could not resolve (FFI0713). Other findings
/// have several lines of `found` that are no members: a summary's parts, a layout per target, a library's output.
fn gathers(code: Code) -> bool {
    matches!(
        code,
        Code::Symbol(SymbolCode::NotExported | SymbolCode::VariableNotExported)
            | Code::Portability(
                PortabilityCode::Long | PortabilityCode::EnumByValue | PortabilityCode::Callback
            )
            | Code::Binding(BindingCode::Unresolved)
    )
}

/// The members of a grouped finding (the lines of its `found`), when it gathers more than one.
fn members(f: &Finding) -> Option<Vec<&str>> {
    (gathers(f.code) && f.found.contains('\n')).then(|| f.found.lines().collect())
}

/// The logical location of a finding about something inside a binary: the symbol, the import ordinal or the
/// needed library.
fn logical(loc: &Location) -> Option<Value> {
    let full = loc.to_string();
    if let Some(s) = &loc.symbol {
        Some(json!({ "name": s, "fullyQualifiedName": full }))
    } else if let Some(o) = loc.ordinal {
        Some(json!({ "name": format!("ordinal {o}"), "fullyQualifiedName": full }))
    } else {
        loc.entry
            .as_ref()
            .map(|e| json!({ "name": e, "fullyQualifiedName": format!("{full} (needs {e})"), "kind": "module" }))
    }
}

/// SARIF 2.1.0 of lists of findings: one run, a rule for each code used, one result per finding with its level,
/// message and location — a source position as a region of the file (relative to `cwd` when inside it), a
/// binary's symbol, ordinal or needed library as a logical location of the library file — and in its properties
/// the check kind, the scope, what was expected and found, the hint and, for a grouped finding, the count and
/// the members.
pub fn sarif(scopes: &[Scope<'_>], cwd: &Path) -> Value {
    let (rules, index) = sarif_rules(scopes.iter().flat_map(|s| s.findings).map(|f| f.code));
    let mut results = Vec::new();
    for s in scopes {
        for f in s.findings {
            let artifact = sarif_artifact(&f.location.file, cwd);
            let mut location = json!({
                "physicalLocation": sarif_physical(artifact, f.location.line, f.location.column),
            });
            if let Some(l) = logical(&f.location) {
                location["logicalLocations"] = json!([l]);
            }
            let mut properties = json!({
                "check": f.code.info().kind,
                "scope": s.name,
                "expected": f.expected,
                "found": f.found,
                "hint": f.hint,
            });
            if let Some(m) = members(f) {
                properties["count"] = json!(m.len());
                properties["members"] = json!(m);
            }
            results.push(json!({
                "ruleId": f.code,
                "ruleIndex": index[&f.code],
                "level": sarif_level(f.severity),
                "message": sarif_message(f),
                "locations": [location],
                "properties": properties,
            }));
        }
    }
    let mut log = sarif_log(rules, results);
    let base = cwd.to_string_lossy();
    let base = if base.ends_with('/') {
        sarif_uri(&base)
    } else {
        sarif_uri(&format!("{base}/"))
    };
    log["runs"][0]["originalUriBaseIds"] = json!({ SRCROOT: { "uri": base } });
    log
}

/// JUnit XML of lists of findings: a test suite per scope, a test case per finding code in it (a scope without
/// findings has one passing case, `no findings`). A case fails when a finding of its code is at or above
/// `fail_on`, with those findings as the failure's text; the code's findings below it are the case's output.
pub fn junit(title: &str, scopes: &[Scope<'_>], fail_on: Severity) -> String {
    let (mut tests, mut failures) = (0, 0);
    let mut suites = String::new();
    for s in scopes {
        let mut by_code: BTreeMap<Code, Vec<&Finding>> = BTreeMap::new();
        for f in s.findings {
            by_code.entry(f.code).or_default().push(f);
        }
        let name = xml_escape(s.name);
        let mut cases = String::new();
        let mut failed = 0;
        for (code, fs) in &by_code {
            let (failing, passing): (Vec<&Finding>, Vec<&Finding>) =
                fs.iter().partition(|f| f.severity >= fail_on);
            let _ = write!(
                cases,
                "    <testcase classname=\"{name}\" name=\"{} {}\">",
                code,
                xml_escape(code.info().short)
            );
            if !failing.is_empty() {
                failed += 1;
                let text: Vec<String> = failing.iter().map(|f| junit_text(f)).collect();
                let _ = write!(
                    cases,
                    "\n      <failure message=\"{} finding(s) at or above {}\" type=\"{code}\">{}</failure>",
                    failing.len(),
                    severity_label(fail_on),
                    xml_escape(&text.join("\n\n"))
                );
            }
            if !passing.is_empty() {
                let text: Vec<String> = passing.iter().map(|f| junit_text(f)).collect();
                let _ = write!(
                    cases,
                    "\n      <system-out>{}</system-out>",
                    xml_escape(&text.join("\n\n"))
                );
            }
            cases.push_str("\n    </testcase>\n");
        }
        let n = by_code.len().max(1);
        if by_code.is_empty() {
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{name}\" name=\"no findings\"></testcase>"
            );
        }
        tests += n;
        failures += failed;
        let _ = write!(
            suites,
            "  <testsuite name=\"{name}\" tests=\"{n}\" failures=\"{failed}\" errors=\"0\">\n{cases}  </testsuite>\n"
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"{}\" tests=\"{tests}\" \
         failures=\"{failures}\">\n{suites}</testsuites>\n",
        xml_escape(title)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(code: Code, severity: Severity, location: Location, found: &str) -> Finding {
        Finding {
            code,
            severity,
            location,
            message: "m".into(),
            expected: "e".into(),
            found: found.into(),
            hint: "h".into(),
        }
    }

    #[test]
    fn artifacts_are_relative_to_the_directory_when_inside_it() {
        let cwd = Path::new("/work/proj");
        assert_eq!(
            sarif_artifact("/work/proj/inc/a b.h", cwd),
            json!({ "uri": "inc/a%20b.h", "uriBaseId": SRCROOT })
        );
        assert_eq!(
            sarif_artifact("./inc/a.h", cwd),
            json!({ "uri": "inc/a.h", "uriBaseId": SRCROOT })
        );
        assert_eq!(
            sarif_artifact("/usr/include/zlib.h", cwd),
            json!({ "uri": "file:///usr/include/zlib.h" })
        );
    }

    #[test]
    fn only_gathering_findings_with_several_found_lines_have_members() {
        let grouped = finding(
            Code::Portability(PortabilityCode::Long),
            Severity::Warning,
            Location::at("a.h", 3, 5),
            "field `x` at a.h:3:5\nfield `y` at a.h:4:5",
        );
        assert_eq!(
            members(&grouped),
            Some(vec!["field `x` at a.h:3:5", "field `y` at a.h:4:5"])
        );
        let single = finding(
            Code::Symbol(SymbolCode::NotExported),
            Severity::Error,
            Location::at("a.h", 1, 1),
            "no such export",
        );
        assert_eq!(members(&single), None);
        let summary = finding(
            Code::Portability(PortabilityCode::Summary),
            Severity::Info,
            Location::file("a.h"),
            "matter: FFI0406 (1)\nonly on other targets: FFI0401 `long` (3 uses)",
        );
        assert_eq!(members(&summary), None);
        let output = finding(
            Code::Runtime(crate::report::codes::RuntimeCode::Output),
            Severity::Info,
            Location::file("lib.so"),
            "line 1\nline 2",
        );
        assert_eq!(members(&output), None);
    }

    #[test]
    fn a_symbol_of_a_library_is_a_logical_location_on_the_library_file() {
        let fs = vec![finding(
            Code::Runtime(crate::report::codes::RuntimeCode::Unresolved),
            Severity::Error,
            Location::symbol("/work/proj/lib/libz.so", "deflate"),
            "dlsym: undefined symbol",
        )];
        let log = sarif(
            &[Scope {
                name: "lib/libz.so (x86_64)",
                findings: &fs,
            }],
            Path::new("/work/proj"),
        );
        let loc = &log["runs"][0]["results"][0]["locations"][0];
        assert_eq!(
            loc["physicalLocation"],
            json!({ "artifactLocation": { "uri": "lib/libz.so", "uriBaseId": SRCROOT } })
        );
        assert_eq!(loc["logicalLocations"][0]["name"], "deflate");
        assert_eq!(
            loc["logicalLocations"][0]["fullyQualifiedName"],
            "/work/proj/lib/libz.so (symbol deflate)"
        );
        assert_eq!(
            log["runs"][0]["originalUriBaseIds"][SRCROOT]["uri"],
            "file:///work/proj/"
        );
    }

    #[test]
    fn junit_fails_a_code_at_or_above_the_threshold_only() {
        let fs = vec![
            finding(
                Code::Symbol(SymbolCode::NotExported),
                Severity::Error,
                Location::at("a.h", 1, 1),
                "x",
            ),
            finding(
                Code::Portability(PortabilityCode::Long),
                Severity::Warning,
                Location::at("a.h", 2, 1),
                "x",
            ),
        ];
        let scopes = [Scope {
            name: "lib.so (x86_64) & <more>",
            findings: &fs,
        }];
        let xml = junit("ffi-doctor check", &scopes, Severity::Error);
        assert!(xml.contains("tests=\"2\" failures=\"1\""), "{xml}");
        assert!(xml.contains("lib.so (x86_64) &amp; &lt;more&gt;"), "{xml}");
        let xml = junit("ffi-doctor check", &scopes, Severity::Warning);
        assert!(xml.contains("tests=\"2\" failures=\"2\""), "{xml}");
        let xml = junit(
            "t",
            &[Scope {
                name: "s",
                findings: &[],
            }],
            Severity::Info,
        );
        assert!(xml.contains("name=\"no findings\""), "{xml}");
    }
}
