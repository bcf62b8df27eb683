//! Exports between two images of one library: removed and added symbols, kind and data-size changes, ELF symbol
//! versions (default version moved, version nodes removed or added), PE ordinals and forwarders, Mach-O
//! re-exported symbols. Both export lists are sorted by name ([`crate::binary`] sorts them), so the comparison is
//! one merge over the two lists without a map.

use std::cmp::Ordering;

use super::{finding, Ctx};
use crate::binary::{Export, Image, SymbolKind};
use crate::report::codes::DiffCode;
use crate::report::{Finding, Location, Severity};

/// How an export is used: code, data, thread-local data; `None` when the file does not say.
fn class(k: SymbolKind) -> Option<SymbolKind> {
    match k {
        SymbolKind::Function | SymbolKind::Data | SymbolKind::Tls => Some(k),
        _ => None,
    }
}

/// The entry `dlsym(name)` finds: the unversioned or default-version one, else the first.
fn primary<'a, 'd>(group: &[&'a Export<'d>]) -> &'a Export<'d> {
    group
        .iter()
        .copied()
        .find(|e| e.version.as_ref().is_none_or(|v| v.default))
        .unwrap_or(group[0])
}

fn version_text(e: &Export<'_>) -> String {
    match &e.version {
        Some(v) if v.default => format!("{}@@{}", e.name, v.name),
        Some(v) => format!("{}@{}", e.name, v.name),
        None => e.name.to_string(),
    }
}

/// The absolute symbol a linker defines for each version node (`DL_1.0@@DL_1.0`): the node, not an interface.
fn is_version_symbol(e: &Export<'_>) -> bool {
    e.version.as_ref().is_some_and(|v| v.name == e.name)
}

/// A default version that moved: (symbol, OLD's version, NEW's version, OLD's still defined for the symbol).
type Moved<'a> = (&'a str, &'a str, &'a str, bool);

/// Compare the exports of `old` and `new`; findings go to `out`.
pub fn compare(ctx: &Ctx<'_>, old: &Image<'_>, new: &Image<'_>, out: &mut Vec<Finding>) {
    let keep = |e: &Export<'_>| !is_version_symbol(e);
    let (o, n): (Vec<&Export<'_>>, Vec<&Export<'_>>) = (
        old.exports.iter().filter(|e| keep(e)).collect(),
        new.exports.iter().filter(|e| keep(e)).collect(),
    );
    let (o, n) = (&o[..], &n[..]);
    let mut moved: Vec<Moved<'_>> = Vec::new();
    let mut added: Vec<&str> = Vec::new();
    let (mut i, mut j) = (0, 0);
    let group_end = |list: &[&Export<'_>], start: usize| {
        let name = &list[start].name;
        start
            + list[start..]
                .iter()
                .position(|e| e.name != *name)
                .unwrap_or(list.len() - start)
    };
    while i < o.len() || j < n.len() {
        let ord = match (o.get(i), n.get(j)) {
            (Some(a), Some(b)) => a.name.cmp(&b.name),
            (Some(_), None) => Ordering::Less,
            (None, _) => Ordering::Greater,
        };
        match ord {
            Ordering::Less => {
                let end = group_end(o, i);
                if !ctx.wants(&o[i].c_name) {
                    i = end;
                    continue;
                }
                if o[i].name.is_empty() {
                    ordinal_only(ctx, &o[i..end], n, out);
                } else {
                    let e = primary(&o[i..end]);
                    out.push(finding(
                        DiffCode::ExportRemoved,
                        None,
                        ctx.symbol(&e.name),
                        format!("`{}` is no longer exported", e.name),
                        format!("{} {}", e.kind.as_str(), version_text(e)),
                        "not exported".into(),
                        "callers that bind this name (ctypes, cffi, dlsym, linked binaries) fail with NEW: \
                         keep it (a wrapper is enough) or change the library's name (SONAME) to say the ABI broke"
                            .into(),
                    ));
                }
                i = end;
            }
            Ordering::Greater => {
                let end = group_end(n, j);
                if !n[j].name.is_empty() && ctx.wants(&n[j].c_name) {
                    added.push(&n[j].name);
                }
                j = end;
            }
            Ordering::Equal => {
                let (ei, ej) = (group_end(o, i), group_end(n, j));
                if o[i].name.is_empty() {
                    ordinal_only(ctx, &o[i..ei], n, out);
                } else if ctx.wants(&o[i].c_name) {
                    same_name(ctx, &o[i..ei], &n[j..ej], &mut moved, out);
                }
                (i, j) = (ei, ej);
            }
        }
    }
    if !added.is_empty() {
        let shown: Vec<&str> = added.iter().take(8).copied().collect();
        let more = added.len() - shown.len();
        out.push(finding(
            DiffCode::ExportAdded,
            None,
            Location::file(ctx.new_file),
            format!(
                "{} symbol{} added: {}{}",
                added.len(),
                if added.len() == 1 { " was" } else { "s were" },
                shown.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ),
            "not exported".into(),
            added.join(", "),
            "compatible: callers of OLD do not use them; a binding that uses them needs NEW".into(),
        ));
    }
    default_moved(ctx, &moved, out);
    versions(ctx, old, new, out);
}

/// One finding per (OLD version, NEW version, OLD kept) of moved default versions: a version node renamed moves
/// every symbol in it.
fn default_moved(ctx: &Ctx<'_>, moved: &[Moved<'_>], out: &mut Vec<Finding>) {
    let mut keys: Vec<(&str, &str, bool)> = moved.iter().map(|m| (m.1, m.2, m.3)).collect();
    keys.sort();
    keys.dedup();
    for (from, to, kept) in keys {
        let names: Vec<&str> = moved
            .iter()
            .filter(|m| (m.1, m.2, m.3) == (from, to, kept))
            .map(|m| m.0)
            .collect();
        let loc = match names[..] {
            [one] => ctx.symbol(one),
            _ => Location::file(ctx.new_file),
        };
        let subject = match names[..] {
            [one] => format!("`{one}`"),
            _ => format!("{} symbols", names.len()),
        };
        out.push(finding(
            DiffCode::DefaultVersion,
            kept.then_some(Severity::Warning),
            loc.version(to.to_string()),
            format!("the default version of {subject} moved from {from} to {to}"),
            names
                .iter()
                .map(|n| format!("{n}@@{from}"))
                .collect::<Vec<_>>()
                .join(", "),
            names
                .iter()
                .map(|n| format!("{n}@@{to}"))
                .collect::<Vec<_>>()
                .join(", "),
            if kept {
                format!(
                    "binaries linked against OLD still bind @{from}; dlsym by plain name (ctypes, cffi) now finds \
                     the {to} implementation"
                )
            } else {
                format!(
                    "binaries linked against OLD require @{from}, which NEW does not define for these symbols: keep \
                     the old version as a hidden one (.symver)"
                )
            },
        ));
    }
}

/// Exports without a name (PE, by ordinal only): each ordinal must still be exported.
fn ordinal_only(ctx: &Ctx<'_>, old: &[&Export<'_>], new: &[&Export<'_>], out: &mut Vec<Finding>) {
    for e in old {
        let Some(ord) = e.ordinal else { continue };
        if !new.iter().any(|x| x.ordinal == Some(ord)) {
            out.push(finding(
                DiffCode::Ordinal,
                None,
                Location::ordinal(ctx.new_file, ord),
                format!("ordinal {ord} (exported without a name) is no longer exported"),
                format!("ordinal {ord}"),
                "not exported".into(),
                "importers by ordinal fail to load with NEW".into(),
            ));
        }
    }
}

/// One name exported by both: kind, data size, default version, hidden versions, ordinal, forwarder.
fn same_name<'a>(
    ctx: &Ctx<'_>,
    og: &[&'a Export<'_>],
    ng: &[&'a Export<'_>],
    moved: &mut Vec<Moved<'a>>,
    out: &mut Vec<Finding>,
) {
    let (a, b) = (primary(og), primary(ng));
    let loc = || ctx.symbol(&a.name);
    if let (Some(ka), Some(kb)) = (class(a.kind), class(b.kind)) {
        if ka != kb {
            out.push(finding(
                DiffCode::ExportKind,
                None,
                loc(),
                format!(
                    "`{}` was {} and is now {}",
                    a.name,
                    article(ka),
                    article(kb)
                ),
                ka.as_str().into(),
                kb.as_str().into(),
                "a caller that uses it as before reads code as data or calls data".into(),
            ));
        } else if ka != SymbolKind::Function {
            if let (Some(sa), Some(sb)) = (a.size, b.size) {
                if sa != sb {
                    out.push(finding(
                        DiffCode::DataSize,
                        None,
                        loc(),
                        format!("`{}` was {sa} bytes and is {sb} bytes", a.name),
                        format!("{sa} bytes"),
                        format!("{sb} bytes"),
                        "executables keep a copy of OLD's size (copy relocation) and bindings read OLD's \
                         layout: a new variable name (or an accessor function) keeps old callers working"
                            .into(),
                    ));
                }
            }
        }
    }
    // ELF versions: the default moved, or a version a linked binary may require is gone.
    if let (Some(va), Some(vb)) = (&a.version, &b.version) {
        if va.default && vb.default && va.name != vb.name {
            let kept = ng
                .iter()
                .any(|e| e.version.as_ref().is_some_and(|v| v.name == va.name));
            moved.push((a.name.as_ref(), va.name.as_ref(), vb.name.as_ref(), kept));
        }
    }
    for e in og.iter().filter(|e| !std::ptr::eq(**e, a)) {
        let Some(v) = &e.version else { continue };
        if !ng
            .iter()
            .any(|x| x.version.as_ref().is_some_and(|w| w.name == v.name))
        {
            out.push(finding(
                DiffCode::ExportRemoved,
                None,
                loc().version(v.name.clone()),
                format!("`{}` is no longer exported", version_text(e)),
                version_text(e),
                "not exported".into(),
                "binaries linked against this version fail to load with NEW".into(),
            ));
        }
    }
    if let (Some(oa), Some(ob)) = (a.ordinal, b.ordinal) {
        if oa != ob {
            out.push(finding(
                DiffCode::Ordinal,
                None,
                loc(),
                format!("`{}` moved from ordinal {oa} to ordinal {ob}", a.name),
                format!("ordinal {oa}"),
                format!("ordinal {ob}"),
                "importers by ordinal (a .def file with @N, NONAME exports) call another function with NEW: \
                 pin ordinals in the .def file"
                    .into(),
            ));
        }
    }
    if a.forwarder != b.forwarder {
        let show = |f: &Option<String>| f.clone().unwrap_or_else(|| "defined here".to_string());
        out.push(finding(
            DiffCode::Forwarder,
            None,
            loc(),
            match &b.forwarder {
                Some(f) => format!("`{}` is now forwarded to {f}", a.name),
                None => format!("`{}` is no longer forwarded", a.name),
            },
            show(&a.forwarder),
            show(&b.forwarder),
            "the definition now lives in another library: check that it is the same function"
                .into(),
        ));
    }
}

fn article(k: SymbolKind) -> &'static str {
    match k {
        SymbolKind::Function => "a function",
        SymbolKind::Data => "data",
        SymbolKind::Tls => "thread-local data",
        _ => "something else",
    }
}

/// ELF version nodes (`verdef`) removed or added.
fn versions(ctx: &Ctx<'_>, old: &Image<'_>, new: &Image<'_>, out: &mut Vec<Finding>) {
    let (Some(eo), Some(en)) = (&old.elf, &new.elf) else {
        return;
    };
    let names = |e: &crate::binary::ElfInfo| -> Vec<String> {
        e.versions_defined
            .iter()
            .filter(|v| !v.base)
            .map(|v| v.name.clone())
            .collect()
    };
    let (vo, vn) = (names(eo), names(en));
    for v in vo.iter().filter(|v| !vn.contains(v)) {
        out.push(finding(
            DiffCode::VersionRemoved,
            None,
            Location::file(ctx.new_file).version(v.clone()),
            format!("version {v} is no longer defined"),
            format!("version {v} defined"),
            "not defined".into(),
            "binaries linked against OLD that require this version fail to load (`version not found`)".into(),
        ));
    }
    let added: Vec<&String> = vn.iter().filter(|v| !vo.contains(v)).collect();
    if !added.is_empty() {
        let list: Vec<&str> = added.iter().map(|s| s.as_str()).collect();
        out.push(finding(
            DiffCode::VersionAdded,
            None,
            Location::file(ctx.new_file),
            format!(
                "version{} {} {} new",
                if list.len() == 1 { "" } else { "s" },
                list.join(", "),
                if list.len() == 1 { "is" } else { "are" }
            ),
            "not defined".into(),
            list.join(", "),
            "compatible".into(),
        ));
    }
}
