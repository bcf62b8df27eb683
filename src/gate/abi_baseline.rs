//! The gate's ABI baseline (`[policy] abi-baseline = "path or glob"`, `gate --baseline PATH`): every target is
//! diffed ([`crate::diff`]) against its counterpart in the previous release — a wheel against the baseline wheel
//! of the same distribution and platform, a library against the baseline library of the same name (versions and
//! build hashes aside), a directory against the baseline directory. Breaking changes are gate errors unless the
//! library's name (SONAME, install name, DLL name) or the wheel's major version changed too: then they are the
//! intended kind of break and reported as info.

use std::path::{Path, PathBuf};

use super::{GateFinding, Loaded};
use crate::diff::{self, DiffOptions};
use crate::error::InputError;
use crate::report::codes::{Code, DiffCode};
use crate::report::Severity;

/// The baseline paths: `spec` relative to the config's directory, a glob expanded.
pub fn resolve(loaded: &Loaded, spec: &str) -> Result<Vec<PathBuf>, InputError> {
    let joined = loaded.base.join(spec);
    if joined.exists() {
        return Ok(vec![joined]);
    }
    let found = crate::input::glob_paths(&joined.to_string_lossy())?;
    if found.is_empty() {
        return Err(InputError::new(
            spec,
            "a previous release (wheels, libraries or a directory) for abi-baseline",
            "nothing there",
        )
        .hint("paths in the config are relative to the config file's directory"));
    }
    Ok(found)
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The major version of a wheel file name (`demo-2.1.0-…whl` → `2`).
fn wheel_major(p: &Path) -> Option<String> {
    let (_, version, _) = super::wheel::parse_filename(&file_name(p))?;
    version.split('.').next().map(str::to_string)
}

/// The baseline counterpart of `target` among `baselines`.
fn counterpart<'a>(target: &Path, baselines: &'a [PathBuf]) -> Option<&'a PathBuf> {
    if baselines.len() == 1 {
        return baselines.first();
    }
    let name = file_name(target);
    if let Some((dist, _, plats)) = super::wheel::parse_filename(&name) {
        let same_dist: Vec<&PathBuf> = baselines
            .iter()
            .filter(|b| {
                super::wheel::parse_filename(&file_name(b)).is_some_and(|(d, _, _)| d == dist)
            })
            .collect();
        return same_dist
            .iter()
            .copied()
            .find(|b| {
                super::wheel::parse_filename(&file_name(b)).is_some_and(|(_, _, p)| p == plats)
            })
            .or(if same_dist.len() == 1 {
                same_dist.first().copied()
            } else {
                None
            });
    }
    if target.is_dir() {
        return baselines.iter().find(|b| b.is_dir());
    }
    let want = diff::inputs::stable_name(&name);
    baselines
        .iter()
        .find(|b| diff::inputs::stable_name(&file_name(b)) == want)
}

/// The diff of one target against its counterpart, as gate findings (none when there is no counterpart: a new
/// target has nothing to break).
pub fn findings(
    target: &str,
    baselines: &[PathBuf],
    interest: Option<diff::Interest>,
) -> Result<Vec<GateFinding>, InputError> {
    let tpath = Path::new(target);
    let Some(base) = counterpart(tpath, baselines) else {
        return Ok(Vec::new());
    };
    let base_shown = base.display().to_string();
    let opts = DiffOptions {
        interest,
        ..DiffOptions::default()
    };
    let report = diff::diff_paths(&base_shown, target, &opts)?;
    let major_bump =
        matches!((wheel_major(base), wheel_major(tpath)), (Some(a), Some(b)) if a != b);
    let mut out = Vec::new();
    for p in &report.pairs {
        let intended = p.renamed || major_bump;
        // The summary of what was compared is the diff command's business, not a gate finding.
        for f in p
            .findings
            .iter()
            .filter(|f| f.code != Code::Diff(DiffCode::Summary))
        {
            let mut f = f.clone();
            if intended && f.severity == Severity::Error {
                f.severity = Severity::Info;
                f.hint = format!(
                    "intended break ({}): {}",
                    if p.renamed {
                        "the library's name changed"
                    } else {
                        "the major version changed"
                    },
                    f.hint
                );
            }
            f.message = format!("since {}: {}", p.old, f.message);
            out.push(GateFinding {
                check: f.code.info().kind.as_str(),
                finding: f,
                suppressed: None,
            });
        }
    }
    for f in &report.unpaired {
        let mut f = f.clone();
        if major_bump && f.severity == Severity::Error {
            f.severity = Severity::Info;
            f.hint = format!("intended break (the major version changed): {}", f.hint);
        }
        out.push(GateFinding {
            check: f.code.info().kind.as_str(),
            finding: f,
            suppressed: None,
        });
    }
    Ok(out)
}
