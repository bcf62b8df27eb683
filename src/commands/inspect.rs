//! `ffi-doctor inspect FILE...`: one summary per image (per slice for universal Mach-O), as a table or JSON.

use std::io::Write;

use comfy_table::{presets::UTF8_BORDERS_ONLY, ContentArrangement, Table};
use serde::Serialize;

use super::Context;
use crate::binary::summary::{summarize, Counts, ImageSummary};
use crate::binary::{read_guarded, Endian, Format, Image, Mapped, ReadOptions};
use crate::report::{self, OutputFormat, EXIT_INPUT, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// Shared libraries or executables (ELF, Mach-O incl. universal, PE).
    #[arg(required = true)]
    pub files: Vec<String>,
    /// Only this architecture slice of a universal Mach-O file (x86_64, arm64, …).
    #[arg(long)]
    pub arch: Option<String>,
}

#[derive(Serialize)]
struct FileDoc<'a> {
    path: &'a str,
    resolved_path: String,
    size: u64,
    universal: bool,
    images: Vec<ImageSummary<'a>>,
}

pub fn run(ctx: &Context, args: &InspectArgs) -> i32 {
    let opts = ReadOptions { demangle: false };
    let mut errors = Vec::new();
    let mut mapped = Vec::new();
    for f in &args.files {
        match Mapped::open(f) {
            Ok(m) => mapped.push(m),
            Err(e) => errors.push(e),
        }
    }
    let mut files: Vec<(&Mapped, Vec<Image<'_>>)> = Vec::new();
    for m in &mapped {
        match read_guarded(m, args.arch.as_deref(), opts) {
            Ok(imgs) => files.push((m, imgs)),
            Err(e) => errors.push(e),
        }
    }
    let docs: Vec<FileDoc<'_>> = files
        .iter()
        .map(|(m, imgs)| FileDoc {
            path: &m.path,
            resolved_path: m.resolved.display().to_string(),
            size: m.bytes().len() as u64,
            universal: m.bytes().starts_with(&[0xca, 0xfe, 0xba]),
            images: imgs.iter().map(summarize).collect(),
        })
        .collect();
    for e in &errors {
        eprintln!("error: {e}");
    }
    let written = match ctx.format {
        OutputFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                schema: &'static str,
                files: &'a [FileDoc<'a>],
                errors: &'a [crate::error::InputError],
            }
            report::write_json(&Doc {
                schema: "ffi-doctor/inspect/v1",
                files: &docs,
                errors: &errors,
            })
        }
        OutputFormat::Human => write_human(&docs),
    };
    let code = report::finish_output(written);
    if !errors.is_empty() {
        EXIT_INPUT
    } else {
        code.max(EXIT_OK)
    }
}

fn write_human(docs: &[FileDoc<'_>]) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for (n, d) in docs.iter().enumerate() {
        if n > 0 {
            writeln!(out)?;
        }
        let slices = if d.universal {
            format!(", universal: {} slices", d.images.len())
        } else {
            String::new()
        };
        writeln!(out, "{} ({} bytes{slices})", d.path, d.size)?;
        for img in &d.images {
            writeln!(out, "{}", image_table(img))?;
        }
    }
    Ok(())
}

fn image_table(s: &ImageSummary<'_>) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if t.width().is_none() {
        t.set_width(120);
    }
    let mut row = |k: &str, v: String| {
        if !v.is_empty() {
            t.add_row(vec![k.to_string(), v]);
        }
    };
    let endian = match s.endian {
        Endian::Little => "little-endian",
        Endian::Big => "big-endian",
    };
    row(
        "format",
        format!("{} {} {}-bit {endian}", s.format.as_str(), s.arch, s.bits),
    );
    if s.file_offset != 0 {
        row("slice offset", format!("{:#x}", s.file_offset));
    }
    row("kind", s.kind.as_str().to_string());
    if let Some(id) = s.identity {
        let label = match s.format {
            Format::Elf => "soname",
            Format::Macho => "install name",
            Format::Pe => "dll name",
        };
        let mut v = id.name.clone();
        if let (Some(c), Some(p)) = (&id.current_version, &id.compatibility_version) {
            v.push_str(&format!(" (current {c}, compatibility {p})"));
        }
        row(label, v);
    }
    let needed: Vec<String> = s
        .needed
        .iter()
        .map(|n| {
            let kind = serde_json::to_value(n.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            format!("{} [{kind}]", n.name)
        })
        .collect();
    row("needed", needed.join("\n"));
    let rpath_label = if s.format == Format::Macho {
        "LC_RPATH"
    } else {
        "DT_RPATH"
    };
    row(rpath_label, s.rpath.join("\n"));
    row("DT_RUNPATH", s.runpath.join("\n"));
    row("exports", counts_line(&s.exports));
    row("imports", counts_line(&s.imports));
    if !s.imports_by_source.is_empty() && s.format != Format::Elf {
        row(
            "imports from",
            s.imports_by_source
                .iter()
                .map(|(k, v)| format!("{k}: {v}"))
                .collect::<Vec<_>>()
                .join("\n"),
        );
    }
    if let Some(e) = s.elf {
        row("interpreter", e.interpreter.clone().unwrap_or_default());
        row("os abi", e.os_abi.clone());
        row("DT_FLAGS", e.flags.join(" "));
        row("DT_FLAGS_1", e.flags_1.join(" "));
        let defined: Vec<String> = e
            .versions_defined
            .iter()
            .map(|v| {
                if v.base {
                    format!("{} (base)", v.name)
                } else {
                    v.name.clone()
                }
            })
            .collect();
        row("versions defined", defined.join(" "));
        let required: Vec<String> = e
            .versions_required
            .iter()
            .map(|v| {
                format!(
                    "{}: {} (highest: {})",
                    v.file,
                    v.versions.len(),
                    v.highest.join(", ")
                )
            })
            .collect();
        row("versions required", required.join("\n"));
        row("build-id", e.build_id.clone().unwrap_or_default());
        row(
            "debuglink",
            e.debuglink
                .as_ref()
                .map(|d| format!("{} (crc {})", d.file, d.crc32))
                .unwrap_or_default(),
        );
        row(
            "debug info",
            if e.dwarf_sections.is_empty() {
                "none".into()
            } else {
                e.dwarf_sections.join(" ")
            },
        );
        row(
            "symtab",
            if e.has_symtab {
                "present".into()
            } else {
                "stripped".into()
            },
        );
    }
    if let Some(m) = s.macho {
        let plats: Vec<String> = m
            .platforms
            .iter()
            .map(|p| {
                format!(
                    "{} min {} sdk {} ({})",
                    p.platform, p.minos, p.sdk, p.source
                )
            })
            .collect();
        row("platform", plats.join("\n"));
        row("filetype", m.filetype.clone());
        row("flags", m.flags.join(" "));
        row(
            "namespace",
            if m.two_level_namespace {
                "two-level".into()
            } else {
                "flat".into()
            },
        );
        row("uuid", m.uuid.clone().unwrap_or_default());
        row("exports from", m.exports_source.clone());
        if m.chained_fixups {
            row("fixups", "LC_DYLD_CHAINED_FIXUPS".into());
        }
        row(
            "debug info",
            if m.dwarf_present {
                "DWARF present".into()
            } else {
                "none (look for a .dSYM)".into()
            },
        );
    }
    if let Some(p) = s.pe {
        row("machine", format!("{} ({:#06x})", p.machine, p.machine_raw));
        row("subsystem", p.subsystem.clone());
        row("characteristics", p.characteristics.join(" "));
        row("dll characteristics", p.dll_characteristics.join(" "));
        row("timestamp", format!("{:#010x}", p.timestamp));
        row("image base", format!("{:#x}", p.image_base));
        row(
            "pdb",
            p.pdb
                .as_ref()
                .map(|d| format!("{} {{{}}} age {}", d.path, d.guid, d.age))
                .unwrap_or_default(),
        );
        row(
            "debug info",
            if p.dwarf_sections.is_empty() {
                "none".into()
            } else {
                p.dwarf_sections.join(" ")
            },
        );
    }
    t
}

fn counts_line(c: &Counts) -> String {
    if c.total == 0 {
        return "0".into();
    }
    let parts: Vec<String> = c
        .by_mangling
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    let kinds: Vec<String> = c.by_kind.iter().map(|(k, v)| format!("{k} {v}")).collect();
    format!("{} ({}; {})", c.total, parts.join(", "), kinds.join(", "))
}
