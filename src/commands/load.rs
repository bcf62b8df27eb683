//! `ffi-doctor load LIB`: load the library for real — in an isolated child process, never in this one — resolve
//! symbols, optionally call one safe zero-argument function, and explain a failed load with the static model.

use std::io::Write;
use std::time::Duration;

use comfy_table::{presets::UTF8_BORDERS_ONLY, ContentArrangement, Table};
use serde::Serialize;

use super::args::SeverityArg;
use super::Context;
use crate::report::human::Block;
use crate::report::{self, OutputFormat, EXIT_INPUT};
use crate::runtime::ProbeStatus;
use crate::runtime::{self, CallSpec, ProbeOptions, ProbeReport, ProbeRequest, ReturnType};

/// `--returns`: the clap spelling of [`ReturnType`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReturnTypeArg {
    /// `const char *` (rendered as the string, `NULL` for a null pointer).
    Str,
    /// `int`
    Int,
    /// `unsigned int`
    Uint,
    /// `long`
    Long,
    /// `unsigned long`
    Ulong,
    /// `size_t`
    #[value(name = "size_t")]
    SizeT,
}

impl From<ReturnTypeArg> for ReturnType {
    fn from(r: ReturnTypeArg) -> ReturnType {
        match r {
            ReturnTypeArg::Str => ReturnType::Str,
            ReturnTypeArg::Int => ReturnType::Int,
            ReturnTypeArg::Uint => ReturnType::Uint,
            ReturnTypeArg::Long => ReturnType::Long,
            ReturnTypeArg::Ulong => ReturnType::Ulong,
            ReturnTypeArg::SizeT => ReturnType::SizeT,
        }
    }
}

/// Arguments of `ffi-doctor load`.
#[derive(Debug, clap::Args)]
pub struct LoadArgs {
    /// The shared library to load (this host's format and architecture; others are skipped).
    pub lib: String,
    /// A symbol to resolve with dlsym and locate with dladdr; repeatable.
    #[arg(long = "symbol", value_name = "NAME")]
    pub symbols: Vec<String>,
    /// Call this zero-argument function (only with --returns; nothing else is ever called).
    #[arg(long, value_name = "NAME", requires = "returns")]
    pub call: Option<String>,
    /// The declared return type of --call: `const char *` (str) or an integer type.
    #[arg(long, value_enum, requires = "call")]
    pub returns: Option<ReturnTypeArg>,
    /// A glob the rendered return value must match (e.g. '1.*').
    #[arg(long, value_name = "GLOB", requires = "call", value_parser = parse_glob)]
    pub expect: Option<String>,
    /// Wall-clock limit for the child in seconds; on expiry its whole process group is killed.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_secs)]
    pub timeout: f64,
    /// Address-space limit of the child (RLIMIT_AS) in MiB; 0 for none.
    #[arg(long, value_name = "MIB", default_value_t = 4096)]
    pub address_space_mib: u64,
    /// Exit 1 when a finding has at least this severity.
    #[arg(long, value_enum, default_value_t = SeverityArg::Error)]
    pub fail_on: SeverityArg,
}

fn parse_glob(s: &str) -> Result<String, String> {
    glob::Pattern::new(s)
        .map(|_| s.to_string())
        .map_err(|e| format!("bad pattern `{s}`: {e}"))
}

fn parse_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= 86_400.0 => Ok(v),
        _ => Err(format!(
            "`{s}`: expected a number of seconds between 0 and 86400"
        )),
    }
}

pub fn run(ctx: &Context, args: &LoadArgs) -> i32 {
    let mut request = ProbeRequest {
        symbols: args.symbols.clone(),
        calls: Vec::new(),
    };
    if let (Some(name), Some(returns)) = (&args.call, args.returns.map(ReturnType::from)) {
        request.calls.push(CallSpec {
            name: name.clone(),
            returns,
            expect: args.expect.clone(),
        });
    }
    let opts = ProbeOptions {
        timeout: Duration::from_secs_f64(args.timeout),
        address_space_limit: (args.address_space_mib > 0).then_some(args.address_space_mib << 20),
        ..ProbeOptions::default()
    };
    let rep = runtime::probe(&args.lib, &request, &opts);
    if let Some(e) = rep.input_error {
        report::report_input_errors(ctx.format, "load", &[e]);
        return EXIT_INPUT;
    }
    let written = match ctx.format {
        OutputFormat::Json => {
            #[derive(Serialize)]
            struct Doc<'a> {
                schema: &'static str,
                host: Host,
                #[serde(flatten)]
                report: &'a ProbeReport,
            }
            #[derive(Serialize)]
            struct Host {
                os: &'static str,
                arch: &'static str,
            }
            report::write_json(&Doc {
                schema: runtime::SCHEMA,
                host: Host {
                    os: std::env::consts::OS,
                    arch: std::env::consts::ARCH,
                },
                report: &rep,
            })
        }
        OutputFormat::Human => write_human(&rep),
    };
    let code = report::finish_output(written);
    if code != 0 {
        return code;
    }
    report::exit_code_for(&rep.findings, args.fail_on)
}

fn write_human(r: &ProbeReport) -> std::io::Result<()> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut t = Table::new();
    t.load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if t.width().is_none() {
        t.set_width(120);
    }
    let status = match (&r.process, r.status) {
        (Some(p), ProbeStatus::Loaded) => {
            format!("loaded in {} ms (isolated child)", p.elapsed_ms)
        }
        (_, s) => s.as_str().replace('_', " "),
    };
    t.add_row(vec!["load".to_string(), status]);
    if let Some(e) = &r.load_error {
        t.add_row(vec!["dlerror".to_string(), e.clone()]);
    }
    if let Some(why) = &r.skipped {
        t.add_row(vec!["skipped".to_string(), why.clone()]);
    }
    for s in &r.symbols {
        let v = if s.found {
            let mut v = s.address.clone().unwrap_or_default();
            if let Some(o) = &s.object {
                v.push_str(&format!("  in {o}"));
            }
            if let Some(k) = &s.kind {
                v.push_str(&format!("  ({k})"));
            }
            v
        } else {
            format!("NOT FOUND: {}", s.error.as_deref().unwrap_or(""))
        };
        t.add_row(vec![format!("symbol {}", s.name), v]);
    }
    for c in &r.calls {
        let v = match (&c.value, &c.error) {
            (Some(v), _) => {
                let shown = if c.returns == ReturnType::Str && v != "NULL" {
                    format!("{v:?}")
                } else {
                    v.clone()
                };
                match (c.matched, &c.expect) {
                    (Some(true), Some(g)) => format!("{shown}  (matches `{g}`)"),
                    (Some(false), Some(g)) => format!("{shown}  (does NOT match `{g}`)"),
                    _ => shown,
                }
            }
            (None, Some(e)) => format!("not called: {e}"),
            (None, None) => "not called".into(),
        };
        t.add_row(vec![format!("{}()", c.name), v]);
    }
    for (name, c) in [("stdout", &r.stdout), ("stderr", &r.stderr)] {
        if c.bytes > 0 {
            t.add_row(vec![
                name.to_string(),
                format!(
                    "{} bytes{}",
                    c.bytes,
                    if c.truncated {
                        format!(" ({} kept)", c.text.len())
                    } else {
                        String::new()
                    }
                ),
            ]);
        }
    }
    writeln!(out, "{}\n{t}", r.path)?;
    for f in &r.findings {
        let block = Block {
            indent: "",
            lead: "",
            hint: true,
        };
        report::human::write_block(&mut out, f, block)?;
    }
    for f in &r.explanation {
        let block = Block {
            indent: "  ",
            lead: "because ",
            hint: false,
        };
        report::human::write_block(&mut out, f, block)?;
    }
    out.flush()
}

/// The command line of `ffi-doctor __probe` (internal: started by `ffi-doctor load`, never by people).
#[derive(Debug, clap::Args)]
pub struct ProbeChildArgs {
    /// The inherited file descriptor to write result events to.
    #[arg(long, default_value_t = 3)]
    pub result_fd: i32,
    /// Run as the supervisor between `ffi-doctor` and the probe (see `runtime::supervise`).
    #[arg(long)]
    pub supervise: bool,
    /// Supervisor: the descriptor its own report goes to (never inherited by the probe).
    #[arg(long)]
    pub status_fd: Option<i32>,
    /// Supervisor: wall-clock limit of the probe in milliseconds.
    #[arg(long)]
    pub timeout_ms: Option<u64>,
    /// Supervisor: the empty directory the probe runs in.
    #[arg(long)]
    pub workdir: Option<std::path::PathBuf>,
    /// Supervisor: `RLIMIT_AS` of the probe in bytes.
    #[arg(long)]
    pub as_limit: Option<u64>,
}

impl From<&ProbeChildArgs> for crate::runtime::child::ProbeChildArgs {
    fn from(a: &ProbeChildArgs) -> Self {
        crate::runtime::child::ProbeChildArgs {
            result_fd: a.result_fd,
            supervise: a.supervise,
            status_fd: a.status_fd,
            timeout_ms: a.timeout_ms,
            workdir: a.workdir.clone(),
            as_limit: a.as_limit,
        }
    }
}
