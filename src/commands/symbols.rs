//! `ffi-doctor exports FILE` and `ffi-doctor imports FILE`: symbol listings with filters, as columns or JSON.

use std::borrow::Cow;
use std::io::Write;

use serde::Serialize;

use super::Context;
use crate::binary::filter::SymbolFilter as Filter;
use crate::binary::read_guarded;
use crate::binary::{Format, Image, Mapped, ReadOptions};
use crate::report::{self, Columns, OutputFormat, EXIT_INPUT};

#[derive(Debug, clap::Args)]
pub struct SymbolArgs {
    /// A shared library or executable.
    pub file: String,
    /// Only this architecture slice of a universal Mach-O file (x86_64, arm64, …).
    #[arg(long)]
    pub arch: Option<String>,
    /// Only mangled names (C++, Rust, Swift).
    #[arg(long, conflicts_with = "unmangled")]
    pub mangled: bool,
    /// Only plain C names.
    #[arg(long)]
    pub unmangled: bool,
    /// Only symbols of this kind: function, data, tls, absolute, indirect, unknown.
    #[arg(long, value_parser = parse_kind)]
    pub kind: Option<crate::binary::SymbolKind>,
    /// Only names matching this glob (tried on the raw, C and demangled name).
    #[arg(long = "match", value_name = "PATTERN", value_parser = parse_glob)]
    pub pattern: Option<glob::Pattern>,
    /// Do not demangle (faster on very large libraries).
    #[arg(long)]
    pub no_demangle: bool,
}

fn parse_kind(s: &str) -> Result<crate::binary::SymbolKind, String> {
    crate::binary::SymbolKind::parse(s).ok_or_else(|| {
        format!("unknown kind `{s}`: expected function, data, tls, absolute, indirect or unknown")
    })
}

fn parse_glob(s: &str) -> Result<glob::Pattern, String> {
    glob::Pattern::new(s).map_err(|e| format!("bad pattern `{s}`: {e}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Exports,
    Imports,
}

#[derive(Serialize)]
struct ImageDoc<'a, T: Serialize> {
    format: Format,
    arch: &'a str,
    file_offset: u64,
    count: usize,
    #[serde(rename = "symbols")]
    items: Vec<&'a T>,
}

pub fn run(ctx: &Context, args: &SymbolArgs, which: Which) -> i32 {
    let command = match which {
        Which::Exports => "exports",
        Which::Imports => "imports",
    };
    let mapped = match Mapped::open(&args.file) {
        Ok(m) => m,
        Err(e) => {
            report::report_input_errors(ctx.format, command, &[e]);
            return EXIT_INPUT;
        }
    };
    let opts = ReadOptions {
        demangle: !args.no_demangle,
    };
    let images = match read_guarded(&mapped, args.arch.as_deref(), opts) {
        Ok(i) => i,
        Err(e) => {
            report::report_input_errors(ctx.format, command, &[e]);
            return EXIT_INPUT;
        }
    };
    let filter = Filter {
        mangled: args.mangled,
        unmangled: args.unmangled,
        kind: args.kind,
        pattern: args.pattern.as_ref(),
    };
    let written = match (ctx.format, which) {
        (OutputFormat::Json, Which::Exports) => json(command, &mapped, &images, |img| {
            img.exports.iter().filter(|e| filter.export(e)).collect()
        }),
        (OutputFormat::Json, Which::Imports) => json(command, &mapped, &images, |img| {
            img.imports.iter().filter(|i| filter.import(i)).collect()
        }),
        (OutputFormat::Human, _) => human(&images, which, &filter),
    };
    report::finish_output(written)
}

fn json<'a, T: Serialize + 'a>(
    command: &str,
    mapped: &Mapped,
    images: &'a [Image<'a>],
    pick: impl Fn(&'a Image<'a>) -> Vec<&'a T>,
) -> std::io::Result<()> {
    #[derive(Serialize)]
    struct Doc<'a, T: Serialize> {
        schema: String,
        path: &'a str,
        resolved_path: String,
        images: Vec<ImageDoc<'a, T>>,
    }
    let docs = images
        .iter()
        .map(|img| {
            let items = pick(img);
            ImageDoc {
                format: img.format,
                arch: &img.arch,
                file_offset: img.file_offset,
                count: items.len(),
                items,
            }
        })
        .collect();
    report::write_json(&Doc {
        schema: format!("ffi-doctor/{command}/v1"),
        path: &mapped.path,
        resolved_path: mapped.resolved.display().to_string(),
        images: docs,
    })
}

fn human(images: &[Image<'_>], which: Which, filter: &Filter<'_>) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    for img in images {
        if images.len() > 1 {
            writeln!(
                out,
                "== {} ({} slice at {:#x})",
                img.arch,
                img.format.as_str(),
                img.file_offset
            )?;
        }
        match which {
            Which::Exports => export_columns(img, filter).write(&mut out)?,
            Which::Imports => import_columns(img, filter).write(&mut out)?,
        }
    }
    out.flush()
}

fn version_label(v: &Option<crate::binary::SymbolVersion>) -> Cow<'static, str> {
    match v {
        Some(v) if v.default => Cow::Owned(format!("@@{}", v.name)),
        Some(v) => Cow::Owned(format!("@{}", v.name)),
        None => Cow::Borrowed(""),
    }
}

fn export_columns<'a>(img: &'a Image<'a>, filter: &Filter<'_>) -> Columns<'a> {
    let mut c = Columns::new(vec![
        "ADDRESS",
        "SIZE",
        "ORDINAL",
        "KIND",
        "BIND",
        "MANGLING",
        "VERSION",
        "NAME",
        "FORWARDER",
        "DEMANGLED",
    ]);
    let hexw = if img.bits == 64 { 16 } else { 8 };
    for e in img.exports.iter().filter(|e| filter.export(e)) {
        let address = if e.forwarder.is_some() {
            Cow::Borrowed("")
        } else {
            Cow::Owned(format!("{:0hexw$x}", e.address))
        };
        let binding = if e.weak_definition {
            "weak-def"
        } else {
            match e.binding {
                crate::binary::Binding::Global => "global",
                crate::binary::Binding::Weak => "weak",
                crate::binary::Binding::Unique => "unique",
            }
        };
        let mut kind = Cow::Borrowed(e.kind.as_str());
        if e.resolver {
            kind = Cow::Owned(format!("{kind} (resolver)"));
        }
        c.push(vec![
            address,
            e.size
                .map(|s| Cow::Owned(s.to_string()))
                .unwrap_or_default(),
            e.ordinal
                .map(|o| Cow::Owned(o.to_string()))
                .unwrap_or_default(),
            kind,
            Cow::Borrowed(binding),
            Cow::Borrowed(e.mangling.as_str()),
            version_label(&e.version),
            match (e.name.is_empty(), e.ordinal) {
                (true, Some(o)) => Cow::Owned(format!("#{o} (ordinal only)")),
                _ => Cow::Borrowed(e.name.as_ref()),
            },
            e.forwarder
                .as_deref()
                .map(Cow::Borrowed)
                .unwrap_or_default(),
            e.demangled
                .as_deref()
                .map(Cow::Borrowed)
                .unwrap_or_default(),
        ]);
    }
    c
}

fn import_columns<'a>(img: &'a Image<'a>, filter: &Filter<'_>) -> Columns<'a> {
    let mut c = Columns::new(vec![
        "FROM",
        "FLAGS",
        "MANGLING",
        "VERSION",
        "NAME",
        "DEMANGLED",
    ]);
    for i in img.imports.iter().filter(|i| filter.import(i)) {
        let mut flags = Vec::new();
        if i.weak {
            flags.push("weak");
        }
        if i.lazy == Some(true) {
            flags.push("lazy");
        }
        if i.delay_load {
            flags.push("delay");
        }
        let name = match (&i.name, i.ordinal) {
            (Some(n), _) => Cow::Borrowed(n.as_ref()),
            (None, Some(o)) => Cow::Owned(format!("#{o}")),
            (None, None) => Cow::Borrowed("?"),
        };
        c.push(vec![
            Cow::Owned(crate::binary::summary::source_label(i)),
            Cow::Owned(flags.join(",")),
            Cow::Borrowed(i.mangling.as_str()),
            version_label(&i.version),
            name,
            i.demangled
                .as_deref()
                .map(Cow::Borrowed)
                .unwrap_or_default(),
        ]);
    }
    c
}
