//! `ffi-doctor exports FILE` and `ffi-doctor imports FILE`: symbol listings with filters, as columns or JSON.

use std::io::Write;

use serde::Serialize;

use super::Context;
use crate::binary::filter::SymbolFilter as Filter;
use crate::binary::read_guarded;
use crate::binary::{Export, Format, Image, Import, Mapped, ReadOptions};
use crate::report::json_stream::JsonStream;
use crate::report::ordered::render_in_order;
use crate::report::{self, OutputFormat, EXIT_INPUT};

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
    // Only the listed side is demangled (an imports listing of a large C++ library need not demangle its exports).
    let opts = ReadOptions { demangle: false };
    let mut images = match read_guarded(&mapped, args.arch.as_deref(), opts) {
        Ok(i) => i,
        Err(e) => {
            report::report_input_errors(ctx.format, command, &[e]);
            return EXIT_INPUT;
        }
    };
    // Exports are demangled as they are rendered, on every core, unless a pattern (tried on the demangled name
    // too) must see them first.
    let lazy = which == Which::Exports && !args.no_demangle && args.pattern.is_none();
    if !args.no_demangle && !lazy {
        for img in &mut images {
            match which {
                Which::Exports => crate::binary::demangle_exports(img),
                Which::Imports => crate::binary::demangle_imports(img),
            }
        }
    }
    let filter = Filter {
        mangled: args.mangled,
        unmangled: args.unmangled,
        kind: args.kind,
        pattern: args.pattern.as_ref(),
    };
    let written = match (ctx.format, which) {
        (OutputFormat::Json, Which::Exports) => exports_json(&mapped, &images, &filter, lazy),
        (OutputFormat::Json, Which::Imports) => json(command, &mapped, &images, |img| {
            img.imports.iter().filter(|i| filter.import(i)).collect()
        }),
        (OutputFormat::Human, _) => human(&images, which, &filter, lazy),
    };
    // The process ends after this listing: the records (tens of MB on a large C++ library) and the mapping are left
    // to the kernel rather than freed one by one.
    std::mem::forget(images);
    std::mem::forget(mapped);
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

/// The exports document, streamed: the same bytes `json` writes through serde for [`Export`], without building
/// the document or going through the serializer per field (the listing of a large C++ library is tens of MB).
/// The symbols are rendered (and, when `lazy`, demangled) in chunks on every core and written in order.
fn exports_json(
    mapped: &Mapped,
    images: &[Image<'_>],
    filter: &Filter<'_>,
    lazy: bool,
) -> std::io::Result<()> {
    /// Depth of the symbols array: document, images, image, symbols.
    const DEPTH: usize = 4;
    let stdout = std::io::stdout();
    let mut j = JsonStream::new(stdout.lock());
    j.begin_object();
    j.str_member("schema", "ffi-doctor/exports/v1");
    j.str_member("path", &mapped.path);
    j.str_member("resolved_path", &mapped.resolved.display().to_string());
    j.key("images");
    j.begin_array();
    for img in images {
        j.element();
        j.begin_object();
        j.str_member("format", img.format.as_str());
        j.str_member("arch", &img.arch);
        j.u64_member("file_offset", img.file_offset);
        let kept = kept_exports(img, filter);
        j.u64_member("count", kept.len() as u64);
        j.key("symbols");
        j.begin_array();
        render_in_order(
            &kept,
            CHUNK,
            |start, part, buf| {
                let mut f = JsonStream::fragment(std::mem::take(buf), DEPTH, start == 0);
                for e in part {
                    f.element();
                    let demangled = lazy_demangled(e, lazy);
                    // A fragment is written to memory: it does not fail.
                    let _ = export_json(&mut f, e, demangled.as_deref().or(e.demangled.as_deref()));
                }
                *buf = f.into_bytes();
            },
            |bytes, ()| j.raw_elements(bytes),
        )?;
        j.end_array()?;
        j.end_object()?;
    }
    j.end_array()?;
    j.end_object()?;
    j.finish()
}

/// The exports a listing keeps, in order (tested on every core: a filter may match globs on long names).
fn kept_exports<'a, 'd>(img: &'a Image<'d>, filter: &Filter<'_>) -> Vec<&'a Export<'d>> {
    use rayon::iter::{IndexedParallelIterator, IntoParallelRefIterator, ParallelIterator};
    if img.exports.len() < crate::binary::PARALLEL_FROM {
        return img.exports.iter().filter(|e| filter.export(e)).collect();
    }
    img.exports
        .par_iter()
        .with_min_len(CHUNK)
        .filter(|e| filter.export(e))
        .collect()
}

/// Symbols per chunk of a listing rendered on several threads: small enough to spread a listing of a few thousand
/// symbols over two cores, large enough that handing chunks over costs nothing next to rendering them.
const CHUNK: usize = 512;

/// The demangled name of `e` when the listing demangles as it renders (`lazy`), else `None` (the reader or the
/// command demangled it already, or demangling is off).
fn lazy_demangled(e: &Export<'_>, lazy: bool) -> Option<String> {
    if !lazy || !e.mangling.has_demangler() {
        return None;
    }
    crate::binary::names::demangle(&e.c_name, e.mangling)
}

/// One [`Export`] as its `Serialize` derive writes it: fields in declaration order, optional ones skipped when
/// absent (and the two flags when false).
/// `demangled` is the demangled name, wherever it came from.
fn export_json<W: Write>(
    j: &mut JsonStream<W>,
    e: &Export<'_>,
    demangled: Option<&str>,
) -> std::io::Result<()> {
    j.begin_object();
    j.str_member("name", &e.name);
    j.str_member("c_name", &e.c_name);
    j.str_member("mangling", e.mangling.as_str());
    if let Some(d) = demangled {
        j.str_member("demangled", d);
    }
    if let Some(c) = e.calling_convention {
        j.str_member("calling_convention", c.as_str());
    }
    j.str_member("kind", e.kind.as_str());
    j.u64_member("address", e.address);
    if let Some(s) = e.size {
        j.u64_member("size", s);
    }
    j.str_member("binding", e.binding.as_str());
    if let Some(v) = &e.version {
        j.key("version");
        j.begin_object();
        j.str_member("name", &v.name);
        j.bool_member("default", v.default);
        if let Some(f) = &v.file {
            j.str_member("file", f);
        }
        j.end_object()?;
    }
    if let Some(o) = e.ordinal {
        j.u64_member("ordinal", u64::from(o));
    }
    if let Some(f) = &e.forwarder {
        j.str_member("forwarder", f);
    }
    if e.weak_definition {
        j.bool_member("weak_definition", true);
    }
    if e.resolver {
        j.bool_member("resolver", true);
    }
    j.end_object()
}

fn human(
    images: &[Image<'_>],
    which: Which,
    filter: &Filter<'_>,
    lazy: bool,
) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    // Big writes: a demangled listing of a large C++ library is tens of MB (the NAME column is padded).
    let mut out = std::io::BufWriter::with_capacity(1 << 20, stdout.lock());
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
            Which::Exports => {
                let hexw = if img.bits == 64 { 16 } else { 8 };
                let kept = kept_exports(img, filter);
                write_table(
                    &mut out,
                    EXPORT_HEADERS,
                    &kept,
                    |e, w| {
                        export_widths(e, hexw, w);
                        // Whether the name demangles is known only once it is rendered: the column is kept on
                        // the guess that it does, and the header waits for a row that confirms it.
                        if lazy && e.mangling.has_demangler() {
                            w.cell(9, 1);
                        }
                    },
                    |e, row| export_row(e, hexw, lazy, row),
                    lazy,
                )?
            }
            Which::Imports => {
                let kept: Vec<&Import<'_>> =
                    img.imports.iter().filter(|i| filter.import(i)).collect();
                write_table(
                    &mut out,
                    IMPORT_HEADERS,
                    &kept,
                    import_widths,
                    import_row,
                    false,
                )?
            }
        }
    }
    out.flush()
}

const EXPORT_HEADERS: [&str; 10] = [
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
];

const IMPORT_HEADERS: [&str; 6] = ["FROM", "FLAGS", "MANGLING", "VERSION", "NAME", "DEMANGLED"];

/// One row's cells: borrowed from the symbol, or formatted into one buffer that is reused for every row (no
/// allocation per row or cell).
struct Row<'a, const N: usize> {
    text: String,
    cells: [Cell<'a>; N],
    n: usize,
}

#[derive(Clone, Copy)]
enum Cell<'a> {
    Borrowed(&'a str),
    /// A range of `Row::text`.
    Formatted(usize, usize),
}

impl<'a, const N: usize> Row<'a, N> {
    fn new() -> Self {
        Row {
            text: String::with_capacity(256),
            cells: [Cell::Borrowed(""); N],
            n: 0,
        }
    }

    fn clear(&mut self) {
        self.text.clear();
        self.n = 0;
    }

    fn push(&mut self, c: Cell<'a>) {
        if self.n < N {
            self.cells[self.n] = c;
            self.n += 1;
        }
    }

    fn cell(&mut self, s: &'a str) {
        self.push(Cell::Borrowed(s));
    }

    /// Start a formatted cell: append to `text`, then [`Row::end`].
    fn start(&self) -> usize {
        self.text.len()
    }

    fn end(&mut self, start: usize) {
        self.push(Cell::Formatted(start, self.text.len()));
    }

    fn cell_fmt(&mut self, args: std::fmt::Arguments<'_>) {
        let start = self.start();
        let _ = std::fmt::Write::write_fmt(&mut self.text, args);
        self.end(start);
    }

    /// `{:0width$x}` without the formatting machinery.
    fn cell_hex(&mut self, v: u64, width: usize) {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let start = self.start();
        let mut buf = [b'0'; 16];
        let mut i = 16;
        let mut x = v;
        while x != 0 {
            i -= 1;
            buf[i] = DIGITS[(x & 0xf) as usize];
            x >>= 4;
        }
        let used = 16 - i;
        for _ in used..width {
            self.text.push('0');
        }
        self.text.extend(buf[i..].iter().map(|&b| char::from(b)));
        self.end(start);
    }

    /// `{}` of an unsigned number without the formatting machinery.
    fn cell_dec(&mut self, v: u64) {
        let start = self.start();
        let mut buf = [b'0'; 20];
        let mut i = 20;
        let mut x = v;
        loop {
            i -= 1;
            buf[i] = b'0' + (x % 10) as u8;
            x /= 10;
            if x == 0 {
                break;
            }
        }
        self.text.extend(buf[i..].iter().map(|&b| char::from(b)));
        self.end(start);
    }

    fn get(&self, i: usize) -> &str {
        if i >= self.n {
            return "";
        }
        match self.cells[i] {
            Cell::Borrowed(s) => s,
            Cell::Formatted(a, b) => &self.text[a..b],
        }
    }
}

/// Display width of a cell: characters, as the columns are aligned.
fn width_of(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

fn write_spaces(out: &mut (impl Write + ?Sized), mut n: usize) -> std::io::Result<()> {
    const SPACES: &[u8; 128] = &[b' '; 128];
    while n > 0 {
        let k = n.min(SPACES.len());
        out.write_all(&SPACES[..k])?;
        n -= k;
    }
    Ok(())
}

/// A listing aligned in columns, written in two passes over the items without storing the rows: the widths
/// (`measure`), then the text, rendered in chunks on every core (`fill`) and written in order. Columns empty in
/// every row are dropped, and the last cell of a line is not padded. With `last_guessed`, `measure` marks the last
/// column used where it may be (a name that may demangle): its header is written only if a row has a cell there.
fn write_table<'a, T: Sync, const N: usize>(
    out: &mut impl Write,
    headers: [&str; N],
    kept: &[&'a T],
    measure: impl Fn(&T, &mut Widths<N>) + Sync,
    fill: impl Fn(&'a T, &mut Row<'a, N>) + Sync,
    last_guessed: bool,
) -> std::io::Result<()> {
    use rayon::iter::{IndexedParallelIterator, IntoParallelRefIterator, ParallelIterator};
    let add = |mut w: Widths<N>, t: &&T| {
        measure(t, &mut w);
        w
    };
    let Widths { mut width, used } = if kept.len() < crate::binary::PARALLEL_FROM {
        kept.iter().fold(Widths::new(), add)
    } else {
        kept.par_iter()
            .with_min_len(CHUNK)
            .fold(Widths::new, add)
            .reduce(Widths::new, Widths::merge)
    };
    let cols: Vec<usize> = (0..N).filter(|&i| used[i]).collect();
    for &i in &cols {
        width[i] = width[i].max(headers[i].len());
    }
    // Rows are the same with or without an empty last column (a line ends at its last non-empty cell): only the
    // header depends on whether the guessed column is confirmed.
    let confirmed = !(last_guessed && used[N - 1]);
    let header = |out: &mut dyn Write, with_last: bool| {
        let cols: Vec<usize> = cols
            .iter()
            .copied()
            .filter(|&i| with_last || i + 1 < N)
            .collect();
        write_line(out, &cols, &width, |i| headers[i])
    };
    let mut header_written = false;
    let mut held = Vec::new();
    if confirmed {
        header(out, true)?;
        header_written = true;
    }
    render_in_order(
        kept,
        CHUNK,
        |_, part, buf| {
            let mut row = Row::<N>::new();
            let mut has_last = false;
            for t in part {
                row.clear();
                fill(t, &mut row);
                has_last |= !row.get(N - 1).is_empty();
                // Writing to memory does not fail.
                let _ = write_line(buf, &cols, &width, |i| row.get(i));
            }
            has_last
        },
        |bytes, has_last| {
            if header_written {
                return out.write_all(bytes);
            }
            if has_last {
                header(out, true)?;
                header_written = true;
                out.write_all(&std::mem::take(&mut held))?;
                return out.write_all(bytes);
            }
            held.extend_from_slice(bytes);
            Ok(())
        },
    )?;
    if !header_written {
        header(out, false)?;
        out.write_all(&held)?;
    }
    Ok(())
}

/// The first pass of a table: which columns have a non-empty cell, and their widest cell.
struct Widths<const N: usize> {
    width: [usize; N],
    used: [bool; N],
}

impl<const N: usize> Widths<N> {
    fn new() -> Self {
        Widths {
            width: [0; N],
            used: [false; N],
        }
    }

    /// The widths of two parts of a listing together.
    fn merge(mut self, other: Self) -> Self {
        for i in 0..N {
            self.width[i] = self.width[i].max(other.width[i]);
            self.used[i] |= other.used[i];
        }
        self
    }

    /// A cell of display width `w` in column `i` (0: empty). The last column is never padded, so its width is
    /// not kept (it is the demangled name, the longest cell of a C++ listing).
    fn cell(&mut self, i: usize, w: usize) {
        if w > 0 {
            self.used[i] = true;
            if i + 1 < N {
                self.width[i] = self.width[i].max(w);
            }
        }
    }
}

/// Number of decimal digits of `v`.
fn dec_len(v: u64) -> usize {
    v.checked_ilog10().map_or(1, |l| l as usize + 1)
}

/// The widths of the cells [`export_row`] makes, computed without formatting them (the first pass of a listing of
/// tens of thousands of exports).
fn export_widths(e: &Export<'_>, hexw: usize, w: &mut Widths<10>) {
    if e.forwarder.is_none() {
        let digits = (64 - e.address.leading_zeros() as usize).div_ceil(4);
        w.cell(0, digits.max(hexw));
    }
    if let Some(s) = e.size {
        w.cell(1, dec_len(s));
    }
    if let Some(o) = e.ordinal {
        w.cell(2, dec_len(u64::from(o)));
    }
    let kind = e.kind.as_str().len();
    w.cell(
        3,
        if e.resolver {
            kind + " (resolver)".len()
        } else {
            kind
        },
    );
    w.cell(4, bind_label(e).len());
    w.cell(5, e.mangling.as_str().len());
    if let Some(v) = &e.version {
        w.cell(6, if v.default { 2 } else { 1 } + width_of(&v.name));
    }
    match (e.name.is_empty(), e.ordinal) {
        (true, Some(o)) => w.cell(7, 1 + dec_len(u64::from(o)) + " (ordinal only)".len()),
        _ => w.cell(7, width_of(&e.name)),
    }
    w.cell(8, e.forwarder.as_deref().map_or(0, width_of));
    w.cell(9, e.demangled.as_deref().map_or(0, str::len));
}

fn bind_label(e: &Export<'_>) -> &'static str {
    if e.weak_definition {
        "weak-def"
    } else {
        e.binding.as_str()
    }
}

/// One line of a table: the cells of the kept columns, padded to their widths, up to the last non-empty one.
fn write_line<'c>(
    out: &mut (impl Write + ?Sized),
    cols: &[usize],
    width: &[usize],
    cell: impl Fn(usize) -> &'c str,
) -> std::io::Result<()> {
    let last = cols
        .iter()
        .rposition(|&i| !cell(i).is_empty())
        .map_or(0, |p| p + 1);
    let mut pending = 0usize;
    for (k, &i) in cols[..last].iter().enumerate() {
        if k > 0 {
            write_spaces(out, pending + 2)?;
        }
        let c = cell(i);
        out.write_all(c.as_bytes())?;
        pending = width[i].saturating_sub(width_of(c));
    }
    out.write_all(b"\n")
}

fn version_cell<const N: usize>(v: &Option<crate::binary::SymbolVersion>, row: &mut Row<'_, N>) {
    match v {
        Some(v) => {
            let start = row.start();
            row.text.push_str(if v.default { "@@" } else { "@" });
            row.text.push_str(&v.name);
            row.end(start);
        }
        None => row.cell(""),
    }
}

/// With `demangle`, the DEMANGLED cell is demangled here rather than read from the export.
fn export_row<'a>(e: &'a Export<'_>, hexw: usize, demangle: bool, row: &mut Row<'a, 10>) {
    if e.forwarder.is_some() {
        row.cell("");
    } else {
        row.cell_hex(e.address, hexw);
    }
    match e.size {
        Some(s) => row.cell_dec(s),
        None => row.cell(""),
    }
    match e.ordinal {
        Some(o) => row.cell_dec(u64::from(o)),
        None => row.cell(""),
    }
    if e.resolver {
        row.cell_fmt(format_args!("{} (resolver)", e.kind.as_str()));
    } else {
        row.cell(e.kind.as_str());
    }
    row.cell(bind_label(e));
    row.cell(e.mangling.as_str());
    version_cell(&e.version, row);
    match (e.name.is_empty(), e.ordinal) {
        (true, Some(o)) => row.cell_fmt(format_args!("#{o} (ordinal only)")),
        _ => row.cell(&e.name),
    }
    row.cell(e.forwarder.as_deref().unwrap_or(""));
    match lazy_demangled(e, demangle) {
        Some(d) => {
            let start = row.start();
            row.text.push_str(&d);
            row.end(start);
        }
        None => row.cell(e.demangled.as_deref().unwrap_or("")),
    }
}

/// The widths of the cells [`import_row`] makes, computed without formatting them.
fn import_widths(i: &Import<'_>, w: &mut Widths<6>) {
    w.cell(0, width_of(crate::binary::summary::source_label_str(i)));
    let flags: usize = [
        (i.weak, "weak"),
        (i.lazy == Some(true), "lazy"),
        (i.delay_load, "delay"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, f)| f.len() + 1)
    .sum();
    w.cell(1, flags.saturating_sub(1));
    w.cell(2, i.mangling.as_str().len());
    if let Some(v) = &i.version {
        w.cell(3, if v.default { 2 } else { 1 } + width_of(&v.name));
    }
    w.cell(
        4,
        match (&i.name, i.ordinal) {
            (Some(n), _) => width_of(n),
            (None, Some(o)) => 1 + dec_len(u64::from(o)),
            (None, None) => 1,
        },
    );
    w.cell(5, i.demangled.as_deref().map_or(0, width_of));
}

fn import_row<'a>(i: &'a Import<'_>, row: &mut Row<'a, 6>) {
    row.cell(crate::binary::summary::source_label_str(i));
    let start = row.start();
    let mut first = true;
    for (on, flag) in [
        (i.weak, "weak"),
        (i.lazy == Some(true), "lazy"),
        (i.delay_load, "delay"),
    ] {
        if on {
            if !first {
                row.text.push(',');
            }
            row.text.push_str(flag);
            first = false;
        }
    }
    row.end(start);
    row.cell(i.mangling.as_str());
    version_cell(&i.version, row);
    match (&i.name, i.ordinal) {
        (Some(n), _) => row.cell(n),
        (None, Some(o)) => row.cell_fmt(format_args!("#{o}")),
        (None, None) => row.cell("?"),
    }
    row.cell(i.demangled.as_deref().unwrap_or(""));
}

#[cfg(test)]
mod tests {
    use super::{export_json, export_row, export_widths, JsonStream, Row, Widths};
    use crate::binary::names::{CallingConvention, Mangling};
    use crate::binary::{Binding, Export, SymbolKind, SymbolVersion};
    use std::borrow::Cow;

    #[test]
    fn streamed_export_is_what_serde_writes() {
        let plain = Export {
            name: Cow::Borrowed("_f@12"),
            c_name: Cow::Borrowed("f"),
            mangling: Mangling::C,
            demangled: None,
            calling_convention: None,
            kind: SymbolKind::Function,
            address: 0,
            size: None,
            binding: Binding::Global,
            version: None,
            ordinal: None,
            forwarder: None,
            weak_definition: false,
            resolver: false,
        };
        let full = Export {
            name: Cow::Owned("_ZN1a\"b\\c\u{1}\té".into()),
            demangled: Some("a::\"b\"()".into()),
            calling_convention: Some(CallingConvention::Stdcall),
            mangling: Mangling::RustLegacy,
            kind: SymbolKind::Tls,
            address: u64::MAX,
            size: Some(17),
            binding: Binding::Unique,
            version: Some(SymbolVersion {
                name: "V_1".into(),
                default: false,
                file: Some("libx.so".into()),
            }),
            ordinal: Some(7),
            forwarder: Some("NTDLL.X".into()),
            weak_definition: true,
            resolver: true,
            ..plain.clone()
        };
        let ordinal_only = Export {
            name: Cow::Borrowed(""),
            ordinal: Some(12345),
            address: 0x1234,
            forwarder: None,
            ..full.clone()
        };
        for e in [&plain, &full, &ordinal_only] {
            for hexw in [8, 16] {
                let mut fast = Widths {
                    width: [0; 10],
                    used: [false; 10],
                };
                export_widths(e, hexw, &mut fast);
                let mut slow = Widths {
                    width: [0; 10],
                    used: [false; 10],
                };
                let mut row = Row::<10>::new();
                export_row(e, hexw, false, &mut row);
                for i in 0..10 {
                    slow.cell(i, super::width_of(row.get(i)));
                }
                assert_eq!((fast.width, fast.used), (slow.width, slow.used));
            }
        }
        for e in [plain, full] {
            let mut out = Vec::new();
            let mut j = JsonStream::new(&mut out);
            export_json(&mut j, &e, e.demangled.as_deref()).unwrap();
            j.finish().unwrap();
            let theirs = serde_json::to_string_pretty(&e).unwrap() + "\n";
            assert_eq!(String::from_utf8(out).unwrap(), theirs);
        }
    }

    #[test]
    fn import_widths_are_the_formatted_rows_widths() {
        use crate::binary::{Import, ImportSource};
        let base = Import {
            name: Some(Cow::Borrowed("f")),
            c_name: Some(Cow::Borrowed("f")),
            mangling: Mangling::C,
            demangled: None,
            ordinal: None,
            hint: None,
            source: ImportSource::GlobalScope,
            kind: SymbolKind::Function,
            version: None,
            weak: false,
            lazy: None,
            delay_load: false,
        };
        let samples = [
            base.clone(),
            Import {
                name: None,
                ordinal: Some(4711),
                weak: true,
                lazy: Some(true),
                delay_load: true,
                source: ImportSource::Library {
                    library: "libé.so".into(),
                },
                version: Some(SymbolVersion {
                    name: "GLIBC_2.2.5".into(),
                    default: false,
                    file: Some("libc.so.6".into()),
                }),
                demangled: Some("ns::f(int)".into()),
                ..base.clone()
            },
            Import {
                name: None,
                lazy: Some(true),
                ..base.clone()
            },
        ];
        for i in &samples {
            let mut fast = Widths::<6>::new();
            super::import_widths(i, &mut fast);
            let mut slow = Widths::<6>::new();
            let mut row = Row::<6>::new();
            super::import_row(i, &mut row);
            for c in 0..6 {
                slow.cell(c, super::width_of(row.get(c)));
            }
            assert_eq!((fast.width, fast.used), (slow.width, slow.used), "{i:?}");
        }
    }

    #[test]
    fn numbers_are_formatted_as_std_formats_them() {
        let mut row = Row::<'_, 4>::new();
        for v in [0u64, 1, 9, 10, 0xdead_beef, u64::MAX, 1 << 40] {
            row.clear();
            row.cell_hex(v, 16);
            row.cell_hex(v, 8);
            row.cell_dec(v);
            row.cell("x");
            assert_eq!(row.get(0), format!("{v:016x}"));
            assert_eq!(row.get(1), format!("{v:08x}"));
            assert_eq!(row.get(2), v.to_string());
            assert_eq!(row.get(3), "x");
            assert_eq!(row.get(4), "");
        }
    }
}
