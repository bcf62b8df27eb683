//! What a library is and what it needs, between two images: its own name (SONAME, install name, DLL name), the
//! Mach-O current and compatibility versions, needed libraries and Mach-O re-exports, the highest GLIBC /
//! GLIBCXX / CXXABI versions required, and the minimum macOS.

use super::{finding, Ctx};
use crate::binary::{Image, NeededKind};
use crate::report::codes::DiffCode;
use crate::report::{Finding, Location, Severity};

/// Compare identity and requirements of `old` and `new`.
pub fn compare(ctx: &Ctx<'_>, old: &Image<'_>, new: &Image<'_>, out: &mut Vec<Finding>) {
    let here = || Location::file(ctx.new_file);
    let (io, inew) = (old.identity.as_ref(), new.identity.as_ref());
    let name = |i: Option<&crate::binary::Identity>| i.map(|i| i.name.clone());
    if name(io) != name(inew) {
        let what = match old.format {
            crate::binary::Format::Elf => "SONAME",
            crate::binary::Format::Macho => "install name",
            crate::binary::Format::Pe => "DLL name",
        };
        let show = |s: Option<String>| s.unwrap_or_else(|| "none".to_string());
        out.push(finding(
            DiffCode::Identity,
            None,
            here(),
            format!(
                "the {what} changed from {} to {}",
                show(name(io)),
                show(name(inew))
            ),
            show(name(io)),
            show(name(inew)),
            "the intended way to break the ABI: binaries linked against OLD keep loading OLD; every consumer \
             must relink, and bindings that name the library must be updated"
                .into(),
        ));
    }
    if let (Some(a), Some(b)) = (io, inew) {
        macho_versions(ctx, a, b, out);
    }
    needed(ctx, old, new, out);
    requirements(ctx, old, new, out);
    min_macos(ctx, old, new, out);
}

/// `a.b.c` as a number dyld compares (`a << 16 | b << 8 | c`).
fn packed(v: &str) -> Option<u64> {
    let mut parts = v.split('.').map(|p| p.parse::<u64>().ok());
    let a = parts.next()??;
    let b = parts.next().unwrap_or(Some(0))?;
    let c = parts.next().unwrap_or(Some(0))?;
    Some(a << 16 | (b & 0xff) << 8 | (c & 0xff))
}

fn macho_versions(
    ctx: &Ctx<'_>,
    a: &crate::binary::Identity,
    b: &crate::binary::Identity,
    out: &mut Vec<Finding>,
) {
    let (Some(old_compat), Some(new_cur)) = (&a.compatibility_version, &b.current_version) else {
        return;
    };
    let refused = matches!((packed(new_cur), packed(old_compat)), (Some(c), Some(k)) if c < k);
    let changed = a.compatibility_version != b.compatibility_version
        || a.current_version != b.current_version;
    if !refused && !changed {
        return;
    }
    let show = |i: &crate::binary::Identity| {
        format!(
            "current {}, compatibility {}",
            i.current_version.as_deref().unwrap_or("-"),
            i.compatibility_version.as_deref().unwrap_or("-")
        )
    };
    out.push(finding(
        DiffCode::MachoVersion,
        (!refused).then_some(Severity::Info),
        Location::file(ctx.new_file),
        if refused {
            format!(
                "NEW's current version {new_cur} is below OLD's compatibility version {old_compat}"
            )
        } else {
            "the Mach-O current/compatibility version changed".to_string()
        },
        show(a),
        show(b),
        if refused {
            "dyld refuses NEW for clients linked against OLD (`Incompatible library version`): the current \
             version must not go below any compatibility version a client recorded"
                .into()
        } else {
            "clients linked against NEW record its compatibility version and refuse older releases".into()
        },
    ));
}

fn needed(ctx: &Ctx<'_>, old: &Image<'_>, new: &Image<'_>, out: &mut Vec<Finding>) {
    let list = |img: &Image<'_>, reexport: bool| -> Vec<String> {
        img.needed
            .iter()
            .filter(|n| (n.kind == NeededKind::Reexport) == reexport)
            .map(|n| n.name.clone())
            .collect()
    };
    for reexport in [false, true] {
        let (o, n) = (list(old, reexport), list(new, reexport));
        for name in n.iter().filter(|x| !o.contains(x)) {
            out.push(if reexport {
                finding(
                    DiffCode::Reexport,
                    None,
                    Location::file(ctx.new_file).entry(name.clone()),
                    format!("{name} is re-exported now"),
                    "not re-exported".into(),
                    name.clone(),
                    "its symbols are now part of this library's interface".into(),
                )
            } else {
                finding(
                    DiffCode::NeededAdded,
                    None,
                    Location::file(ctx.new_file).entry(name.clone()),
                    format!("NEW needs {name}"),
                    "not needed".into(),
                    name.clone(),
                    "NEW loads only where this library can be found: ship it or make sure the platform has it"
                        .into(),
                )
            });
        }
        for name in o.iter().filter(|x| !n.contains(x)) {
            out.push(if reexport {
                finding(
                    DiffCode::Reexport,
                    None,
                    Location::file(ctx.new_file).entry(name.clone()),
                    format!("{name} is no longer re-exported"),
                    name.clone(),
                    "not re-exported".into(),
                    "callers that found its symbols through this library no longer do".into(),
                )
            } else {
                finding(
                    DiffCode::NeededRemoved,
                    None,
                    Location::file(ctx.new_file).entry(name.clone()),
                    format!("{name} is no longer needed"),
                    name.clone(),
                    "not needed".into(),
                    "callers that relied on it being loaded with this library must load it themselves".into(),
                )
            });
        }
    }
}

/// Split `GLIBC_2.34` into its family and numeric parts.
fn family_version(v: &str) -> Option<(&str, Vec<u64>)> {
    let (fam, num) = v.rsplit_once('_')?;
    let nums: Option<Vec<u64>> = num.split('.').map(|p| p.parse().ok()).collect();
    Some((fam, nums?))
}

fn requirements(ctx: &Ctx<'_>, old: &Image<'_>, new: &Image<'_>, out: &mut Vec<Finding>) {
    let (Some(eo), Some(en)) = (&old.elf, &new.elf) else {
        return;
    };
    for fam in ["GLIBC", "GLIBCXX", "CXXABI"] {
        let highest = |e: &crate::binary::ElfInfo| -> Option<(Vec<u64>, String)> {
            e.versions_required
                .iter()
                .flat_map(|n| &n.versions)
                .filter_map(|v| {
                    let (f, nums) = family_version(v)?;
                    (f == fam).then(|| (nums, v.clone()))
                })
                .max()
        };
        let (ho, hn) = (highest(eo), highest(en));
        let raised = match (&ho, &hn) {
            (Some(a), Some(b)) => b.0 > a.0,
            (None, Some(_)) => true,
            _ => false,
        };
        if raised {
            let (from, to) = (
                ho.map(|h| h.1).unwrap_or_else(|| "none".to_string()),
                hn.map(|h| h.1).unwrap_or_default(),
            );
            out.push(finding(
                DiffCode::Requirement,
                None,
                Location::file(ctx.new_file).version(to.clone()),
                format!("NEW requires {to} (OLD required {from})"),
                from,
                to,
                "NEW runs on fewer systems than OLD: build it on the oldest system you support (manylinux)"
                    .into(),
            ));
        }
    }
}

fn version_nums(v: &str) -> Vec<u64> {
    v.split('.').filter_map(|p| p.parse().ok()).collect()
}

fn min_macos(ctx: &Ctx<'_>, old: &Image<'_>, new: &Image<'_>, out: &mut Vec<Finding>) {
    let (Some(mo), Some(mn)) = (&old.macho, &new.macho) else {
        return;
    };
    for pn in &mn.platforms {
        let Some(po) = mo.platforms.iter().find(|p| p.platform == pn.platform) else {
            continue;
        };
        if version_nums(&pn.minos) > version_nums(&po.minos) {
            out.push(finding(
                DiffCode::MinMacos,
                None,
                Location::file(ctx.new_file),
                format!(
                    "the minimum {} version was raised from {} to {}",
                    pn.platform, po.minos, pn.minos
                ),
                format!("{} {}", po.platform, po.minos),
                format!("{} {}", pn.platform, pn.minos),
                "NEW does not load on the systems between the two versions (set MACOSX_DEPLOYMENT_TARGET)"
                    .into(),
            ));
        }
    }
}
