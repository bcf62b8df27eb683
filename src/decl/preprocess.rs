//! A small C preprocessor, enough for library headers: object- and function-like macros (`#`, `##`, variadic,
//! GNU `, ## __VA_ARGS__`), conditionals with `defined`/`__has_include`, `#include` through the caller's include
//! directories (a missing include is a note, never an error), `#pragma once`, `#pragma pack`, `#error`.
//! `defined X` produced by a macro expansion inside `#if` is evaluated as GCC/Clang do; `__has_attribute`,
//! `__has_builtin`, `__has_feature`, `__has_extension` (and whether they exist at all) are answered from the
//! target compiler's recorded answers (`src/abi/predefined/`); `__building_module(x)` is 0.
//!
//! Expansion follows the hide-set algorithm (a token never re-expands a macro it came from), with a global
//! token budget and bounded nesting so no input hangs or overflows the stack. Tokens produced by an expansion
//! carry the location of the macro use.

use super::expr::{self, Ctx};
use super::lex::{lex, Tk, TokLoc, Token};
use super::ParseOptions;
use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// Maximum `#include` nesting (GCC's limit).
const MAX_INCLUDE_DEPTH: usize = 200;
/// Maximum nesting of macro-argument pre-expansion.
const MAX_EXPANSION_NESTING: u32 = 100;
/// Total tokens macro expansion may produce for one parse.
const EXPANSION_BUDGET: u64 = 1_000_000;

/// A preprocessing failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PpError {
    pub loc: TokLoc,
    /// File name of `loc` (filled in when the error leaves [`preprocess`]).
    pub file: String,
    pub expected: String,
    pub found: String,
}

fn perr(loc: TokLoc, expected: impl Into<String>, found: impl Into<String>) -> PpError {
    PpError {
        loc,
        file: String::new(),
        expected: expected.into(),
        found: found.into(),
    }
}

/// Quote a token for messages.
pub fn describe(t: Option<&Token>) -> String {
    match t {
        None => "end of line".into(),
        Some(t) => format!("`{}`", t.text),
    }
}

/// What the preprocessor hands to the parser.
#[derive(Debug, Default)]
pub struct Output {
    pub tokens: Vec<Token>,
    /// `(index of the first token it applies to, pack value)`: `#pragma pack` state changes in token order.
    pub packs: Vec<(usize, Option<u32>)>,
    /// File names by `TokLoc::file`; index 0 is `<built-in>` (predefined and `-D` macros).
    pub files: Vec<String>,
    pub notes: Vec<(TokLoc, String)>,
    /// Integer object-like macros: name, value (`None` for cffi `#define X ...`), location of the `#define`.
    pub constants: Vec<(String, Option<i128>, TokLoc)>,
    /// Files that are not the spec's own: found through a system include directory outside the named file's
    /// own include directory, or included next to such a file. Their declarations give the spec types but
    /// are another library's (the C library's).
    pub system_files: Vec<String>,
    /// `#include`s that were not read (not found, or unreadable): location and spelling (`<x.h>`, `"x.h"`).
    pub unread: Vec<(TokLoc, String)>,
    /// Conditionals decided by a macro that a header not read may define: where the `#if` chain starts, the
    /// line of its `#endif`, the undefined macros it tested, and the index of the last unread include before it.
    pub unsure: Vec<UnsureRegion>,
}

/// A conditional decided while an include was not read, by macros nothing defined (see [`Output::unsure`]).
#[derive(Debug, Clone)]
pub struct UnsureRegion {
    pub start: TokLoc,
    /// The `#endif`'s line (the start's line until it is seen).
    pub end_line: u32,
    pub macros: Vec<String>,
    /// Index into [`Output::unread`].
    pub unread: usize,
}

#[derive(Debug)]
struct Macro {
    name: Rc<str>,
    /// `None` for an object-like macro.
    params: Option<Vec<Rc<str>>>,
    variadic: bool,
    body: Vec<Token>,
    loc: TokLoc,
    serial: u64,
}

struct FileCtx {
    toks: Vec<Token>,
    pos: usize,
    dir: Option<PathBuf>,
    canon: Option<PathBuf>,
    cond_base: usize,
    /// Index into the search path list this file was found through (for `#include_next`).
    search_idx: Option<usize>,
    /// Not the spec's own file (see [`Output::system_files`]).
    system: bool,
    /// The last `#line N "file"` / `# N "file"` marker: from this physical line on, lines count from `N` in the
    /// file of that index (locations follow it, as in a compiler's messages).
    line_map: Option<LineMap>,
}

#[derive(Debug, Clone, Copy)]
struct LineMap {
    from: u32,
    line: u32,
    file: u32,
}

impl LineMap {
    fn apply(&self, loc: &mut TokLoc) {
        if loc.line >= self.from {
            loc.line = self.line.saturating_add(loc.line - self.from);
            loc.file = self.file;
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Cond {
    /// This group is being processed.
    active: bool,
    /// Some group of this `#if` chain was taken.
    taken: bool,
    seen_else: bool,
    /// The enclosing region is active.
    parent: bool,
    loc: TokLoc,
    /// Index into [`Output::unsure`] when a test of this chain used a macro an unread include may define.
    unsure: Option<usize>,
}

enum Src {
    Main,
    List(VecDeque<Token>),
}

/// The preprocessor state.
struct Pp<'o> {
    opts: &'o ParseOptions,
    cffi: bool,
    macros: HashMap<Rc<str>, Rc<Macro>>,
    stack: Vec<FileCtx>,
    conds: Vec<Cond>,
    pending: VecDeque<Token>,
    out: Output,
    once: HashSet<PathBuf>,
    pack_stack: Vec<Option<u32>>,
    pack_cur: Option<u32>,
    budget: u64,
    serial: u64,
    nesting: u32,
    counter: u64,
    /// Expanding an `#if` line: `defined X` produced by a macro is evaluated, not expanded.
    in_if: bool,
    /// The target's compiler answers (`"__has_attribute packed"`, `"defined __has_feature"`, …), when the
    /// predefined macros name a target ([`crate::abi::TARGET_MARKER`]).
    queries: Option<HashSet<String>>,
    /// The named file's own include directory (its directory, unless that is a system directory).
    own_dir: Option<PathBuf>,
    /// The named file's directory relative to the system directory it is in (`openssl` for
    /// `/usr/include/openssl/ssl.h`): a file found at that path in any system directory is the library's too.
    own_rel: Option<PathBuf>,
    /// Names of files that are the spec's own (a name both foreign and own counts as own).
    own_files: HashSet<String>,
    /// The machine's system directory holding the named file when the target does not search it (a host
    /// header parsed for a cross target): searched last for quoted includes only, so the library's own
    /// `#include "lib/x.h"` resolve and the host's C library stays out.
    own_quote_dir: Option<PathBuf>,
}

/// Preprocess `text` (named `name`, found in `dir`).
pub fn preprocess(
    name: &str,
    text: &str,
    dir: Option<PathBuf>,
    opts: &ParseOptions,
    cffi: bool,
) -> Result<Output, PpError> {
    let mut pp = Pp::new(opts, cffi);
    match pp.run(name, text, dir) {
        Ok(()) => Ok(pp.out),
        Err(mut e) => {
            e.file = pp
                .out
                .files
                .get(e.loc.file as usize)
                .cloned()
                .unwrap_or_default();
            Err(e)
        }
    }
}

/// The target's `__SIZEOF_*__` macros (from [`ParseOptions::target_defines`]) as numbers.
pub fn target_sizes(opts: &ParseOptions) -> HashMap<String, i128> {
    opts.target_defines
        .iter()
        .filter(|(n, _)| n.starts_with("__SIZEOF_"))
        .filter_map(|(n, v)| Some((n.clone(), expr::parse_number(v.trim())?.v)))
        .collect()
}

fn sizeof_from(sizes: &HashMap<String, i128>, t: &[Token]) -> Option<i128> {
    let w: Vec<&str> = t
        .iter()
        .filter(|t| t.kind == Tk::Ident)
        .map(|t| &*t.text)
        .collect();
    expr::sizeof_words(&w, t.iter().any(|t| t.is_punct("*")), sizes)
}

impl<'o> Pp<'o> {
    fn new(opts: &'o ParseOptions, cffi: bool) -> Self {
        Pp {
            opts,
            cffi,
            macros: HashMap::new(),
            stack: Vec::new(),
            conds: Vec::new(),
            pending: VecDeque::new(),
            out: Output {
                files: vec!["<built-in>".into()],
                ..Default::default()
            },
            once: HashSet::new(),
            pack_stack: Vec::new(),
            pack_cur: None,
            budget: EXPANSION_BUDGET,
            serial: 0,
            nesting: 0,
            counter: 0,
            in_if: false,
            queries: crate::abi::Target::from_defines(&opts.target_defines)
                .map(|t| t.compiler_queries().map(str::to_string).collect()),
            own_dir: None,
            own_rel: None,
            own_files: HashSet::new(),
            own_quote_dir: None,
        }
    }

    fn run(&mut self, name: &str, text: &str, dir: Option<PathBuf>) -> Result<(), PpError> {
        let opts = self.opts;
        let mut predef: Vec<(String, String)> = vec![
            ("__STDC__".into(), "1".into()),
            ("__STDC_VERSION__".into(), "201710L".into()),
            ("__STDC_HOSTED__".into(), "1".into()),
        ];
        predef.extend(opts.target_defines.iter().cloned());
        if self.cffi {
            // cffi reads `WINAPI` as `__stdcall`, on every platform
            predef.push(("WINAPI".into(), "__stdcall".into()));
        }
        predef.extend(
            opts.defines
                .iter()
                .map(|(n, v)| (n.clone(), v.clone().unwrap_or_else(|| "1".into()))),
        );
        for (n, v) in predef {
            // `NAME(x)` style function-like definitions are accepted too; a malformed one is ignored
            let line = format!("{n} {v}");
            let toks = lex(&line, 0).tokens;
            let _ = self.define(&toks, TokLoc::default());
        }
        self.find_own_dirs(dir.as_deref());
        self.push_file(name, text, dir, None, None, false)?;
        loop {
            let mut src = Src::Main;
            match self.next_expanded(&mut src)? {
                Some(t) if t.kind == Tk::Ident && &*t.text == "_Pragma" => {
                    self.pragma_operator(t)?
                }
                Some(t) => self.out.tokens.push(t),
                None => break,
            }
        }
        self.collect_constants();
        let own = std::mem::take(&mut self.own_files);
        self.out.system_files.retain(|f| !own.contains(f));
        self.out.system_files.sort_unstable();
        self.out.system_files.dedup();
        Ok(())
    }

    fn active(&self) -> bool {
        self.conds.last().is_none_or(|c| c.active)
    }

    fn push_file(
        &mut self,
        name: &str,
        text: &str,
        dir: Option<PathBuf>,
        canon: Option<PathBuf>,
        search_idx: Option<usize>,
        system: bool,
    ) -> Result<(), PpError> {
        let idx = u32::try_from(self.out.files.len()).unwrap_or(u32::MAX);
        self.out.files.push(name.to_string());
        let lexed = lex(text, idx);
        if let Some(loc) = lexed.unterminated_comment {
            return Err(perr(loc, "`*/` to close the comment", "end of file"));
        }
        self.stack.push(FileCtx {
            toks: lexed.tokens,
            pos: 0,
            dir,
            canon,
            cond_base: self.conds.len(),
            search_idx,
            system,
            line_map: None,
        });
        // The main file is never the system's, even when a system header includes it again (openssl/srtp.h
        // includes <openssl/ssl.h>): its declarations are the checked library's.
        if system && self.out.files.get(1).is_none_or(|main| main != name) {
            self.out.system_files.push(name.to_string());
        } else {
            self.own_files.insert(name.to_string());
        }
        Ok(())
    }

    /// The named file's own include directory: its directory, or, when that is a system include directory's
    /// subdirectory (`/usr/include/openssl`), that subdirectory's path below the system directory.
    fn find_own_dirs(&mut self, dir: Option<&Path>) {
        let Some(dir) = dir else { return };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        let Ok(canon) = std::fs::canonicalize(dir) else {
            return;
        };
        let system: Vec<PathBuf> = self
            .opts
            .system_include_dirs
            .iter()
            .filter_map(|d| std::fs::canonicalize(d).ok())
            .collect();
        if system.contains(&canon) {
            return;
        }
        if super::system_dirs::is_machine_system_dir(&canon) {
            self.own_quote_dir = Some(canon);
            return;
        }
        self.own_rel = system
            .iter()
            .filter_map(|s| canon.strip_prefix(s).ok())
            .min_by_key(|r| r.components().count())
            .map(Path::to_path_buf);
        if self.own_rel.is_none() {
            // Under /usr/include without being on the list (a cross target's parse of a host header).
            let mut p = canon.as_path();
            while let Some(parent) = p.parent() {
                if super::system_dirs::is_machine_system_dir(parent) {
                    self.own_rel = canon.strip_prefix(parent).ok().map(Path::to_path_buf);
                    self.own_quote_dir = Some(parent.to_path_buf());
                    break;
                }
                p = parent;
            }
        }
        self.own_dir = Some(canon);
    }

    /// Whether an included file is another library's: see [`Output::system_files`].
    fn is_foreign(&self, name: &str, quoted: bool, idx: usize, canon: Option<&Path>) -> bool {
        let parent = self.stack.last().is_some_and(|f| f.system);
        if quoted && idx == 0 {
            return parent; // next to its includer
        }
        if let (Some(own), Some(c)) = (&self.own_dir, canon) {
            if c.starts_with(own) {
                return false;
            }
        }
        if let Some(rel) = &self.own_rel {
            if Path::new(name).starts_with(rel) {
                return false;
            }
        }
        if idx == usize::MAX {
            return parent; // an absolute #include
        }
        let first_system = usize::from(quoted) + self.opts.include_dirs.len();
        if quoted
            && self.own_quote_dir.is_some()
            && idx == first_system + self.opts.system_include_dirs.len()
        {
            return false; // the library's own directory, as the named file
        }
        idx >= first_system
    }

    // ---------------------------------------------------------------- token sources

    fn next_raw(&mut self) -> Result<Option<Token>, PpError> {
        if let Some(t) = self.pending.pop_front() {
            return Ok(Some(t));
        }
        loop {
            let Some(f) = self.stack.last_mut() else {
                return Ok(None);
            };
            if f.pos >= f.toks.len() {
                if self.conds.len() > f.cond_base {
                    let c = self.conds[f.cond_base];
                    return Err(perr(
                        c.loc,
                        "`#endif` to close this conditional",
                        "end of file",
                    ));
                }
                self.stack.pop();
                continue;
            }
            let mut t = f.toks[f.pos].clone();
            f.pos += 1;
            let map = f.line_map;
            if t.bol && t.is_punct("#") {
                self.directive(t)?;
                continue;
            }
            if !self.active() {
                continue;
            }
            if let Some(m) = map {
                m.apply(&mut t.loc);
            }
            return Ok(Some(t));
        }
    }

    fn src_next(&mut self, src: &mut Src) -> Result<Option<Token>, PpError> {
        match src {
            Src::Main => self.next_raw(),
            Src::List(q) => Ok(q.pop_front()),
        }
    }

    /// Whether the next token is `(`, without consuming anything (never crosses a directive or a file end).
    fn peek_lparen(&self, src: &Src) -> bool {
        match src {
            Src::List(q) => q.front().is_some_and(|t| t.is_punct("(")),
            Src::Main => {
                if let Some(t) = self.pending.front() {
                    return t.is_punct("(");
                }
                self.stack
                    .last()
                    .and_then(|f| f.toks.get(f.pos))
                    .is_some_and(|t| t.is_punct("("))
            }
        }
    }

    fn push_front(&mut self, src: &mut Src, toks: Vec<Token>) {
        let q = match src {
            Src::Main => &mut self.pending,
            Src::List(q) => q,
        };
        for t in toks.into_iter().rev() {
            q.push_front(t);
        }
    }

    // ---------------------------------------------------------------- macro expansion

    fn next_expanded(&mut self, src: &mut Src) -> Result<Option<Token>, PpError> {
        loop {
            let Some(t) = self.src_next(src)? else {
                return Ok(None);
            };
            if t.kind != Tk::Ident || t.hidden(&t.text) {
                return Ok(Some(t));
            }
            match &*t.text {
                "defined" if self.in_if => {
                    // `defined X` / `defined(X)` reached through a macro expansion: GCC, Clang and MinGW
                    // evaluate it with the macro table as it is (X is not expanded).
                    let mut toks = vec![t.clone()];
                    if let Some(n) = self.src_next(src)? {
                        let paren = n.is_punct("(");
                        toks.push(n);
                        if paren {
                            for _ in 0..2 {
                                if let Some(n) = self.src_next(src)? {
                                    toks.push(n);
                                }
                            }
                        }
                    }
                    let mut r = self.replace_builtins(&toks);
                    if r.len() == 1 {
                        return Ok(r.pop());
                    }
                    let rest: Vec<Token> = r.drain(1..).collect();
                    self.push_front(src, rest);
                    return Ok(r.pop());
                }
                "__LINE__" => {
                    let s = t.loc.line.to_string();
                    return Ok(Some(Token {
                        kind: Tk::Number,
                        text: s.into(),
                        ..t
                    }));
                }
                "__FILE__" => {
                    let f = self
                        .out
                        .files
                        .get(t.loc.file as usize)
                        .cloned()
                        .unwrap_or_default();
                    let s = format!("\"{}\"", f.replace('\\', "\\\\").replace('"', "\\\""));
                    return Ok(Some(Token {
                        kind: Tk::Str,
                        text: s.into(),
                        ..t
                    }));
                }
                "__COUNTER__" => {
                    self.counter += 1;
                    let s = (self.counter - 1).to_string();
                    return Ok(Some(Token {
                        kind: Tk::Number,
                        text: s.into(),
                        ..t
                    }));
                }
                _ => {}
            }
            let Some(m) = self.macros.get(&*t.text).cloned() else {
                return Ok(Some(t));
            };
            let args = if m.params.is_some() {
                if !self.peek_lparen(src) {
                    return Ok(Some(t));
                }
                self.src_next(src)?;
                Some(self.collect_args(src, &t, &m)?)
            } else {
                None
            };
            let body = self.subst(&m, args.as_deref().unwrap_or(&[]), &t)?;
            let n = body.len() as u64 + 1;
            if self.budget < n {
                return Err(perr(
                    t.loc,
                    "a macro expansion that terminates",
                    format!("more than {EXPANSION_BUDGET} expanded tokens"),
                ));
            }
            self.budget -= n;
            self.push_front(src, body);
        }
    }

    fn collect_args(
        &mut self,
        src: &mut Src,
        name: &Token,
        m: &Macro,
    ) -> Result<Vec<Vec<Token>>, PpError> {
        let nparams = m.params.as_ref().map_or(0, |p| p.len());
        let mut args: Vec<Vec<Token>> = vec![Vec::new()];
        let mut depth = 0usize;
        let mut total = 0usize;
        loop {
            let Some(t) = self.src_next(src)? else {
                return Err(perr(
                    name.loc,
                    format!("`)` to end the arguments of macro `{}`", m.name),
                    "end of file",
                ));
            };
            if t.is_punct("(") {
                depth += 1;
            } else if t.is_punct(")") {
                if depth == 0 {
                    break;
                }
                depth -= 1;
            } else if t.is_punct(",") && depth == 0 && !(m.variadic && args.len() >= nparams) {
                args.push(Vec::new());
                continue;
            }
            if let Some(a) = args.last_mut() {
                a.push(t);
            }
            total += 1;
            if total > 1_000_000 {
                return Err(perr(
                    name.loc,
                    "shorter macro arguments",
                    "more than 1000000 tokens",
                ));
            }
        }
        if nparams == 0 && args.len() == 1 && args[0].is_empty() {
            return Ok(Vec::new());
        }
        if m.variadic && args.len() + 1 == nparams {
            args.push(Vec::new());
        }
        if args.len() != nparams {
            return Err(perr(
                name.loc,
                format!("{nparams} argument(s) to macro `{}`", m.name),
                format!("{}", args.len()),
            ));
        }
        Ok(args)
    }

    fn expand_list(&mut self, toks: &[Token], at: TokLoc) -> Result<Vec<Token>, PpError> {
        self.nesting += 1;
        if self.nesting > MAX_EXPANSION_NESTING {
            self.nesting -= 1;
            return Err(perr(
                at,
                "a less deeply nested macro expansion",
                format!("more than {MAX_EXPANSION_NESTING} levels"),
            ));
        }
        let mut src = Src::List(toks.iter().cloned().collect());
        let mut out = Vec::new();
        let r = loop {
            match self.next_expanded(&mut src) {
                Ok(Some(t)) => out.push(t),
                Ok(None) => break Ok(out),
                Err(e) => break Err(e),
            }
        };
        self.nesting -= 1;
        r
    }

    fn subst(
        &mut self,
        m: &Macro,
        args: &[Vec<Token>],
        name: &Token,
    ) -> Result<Vec<Token>, PpError> {
        let pidx = |t: &Token| -> Option<usize> {
            if t.kind != Tk::Ident {
                return None;
            }
            m.params.as_ref()?.iter().position(|p| **p == *t.text)
        };
        let body = &m.body;
        let mut out: Vec<Token> = Vec::new();
        let mut i = 0;
        while i < body.len() {
            let b = &body[i];
            if m.params.is_some() && b.is_punct("#") {
                if let Some(p) = body.get(i + 1).and_then(pidx) {
                    let mut s = Token::new(Tk::Str, &stringify(&args[p]), b.loc);
                    s.space = b.space;
                    out.push(s);
                    i += 2;
                    continue;
                }
            }
            if b.is_punct("##") && !out.is_empty() && i + 1 < body.len() {
                let next = &body[i + 1];
                let rhs: Vec<Token> = match pidx(next) {
                    Some(p) => {
                        let is_va = m.variadic && p + 1 == args.len();
                        if is_va
                            && args[p].is_empty()
                            && out.last().is_some_and(|t| t.is_punct(","))
                        {
                            out.pop(); // GNU `, ## __VA_ARGS__`
                        }
                        args[p].clone()
                    }
                    None => vec![next.clone()],
                };
                i += 2;
                let Some(first) = rhs.first() else { continue };
                let Some(lhs) = out.pop() else { continue };
                let joined = format!("{}{}", lhs.text, first.text);
                let mut pasted = lex(&joined, lhs.loc.file).tokens;
                for p in &mut pasted {
                    p.loc = lhs.loc;
                    p.space = false;
                    p.bol = false;
                }
                if let Some(p) = pasted.first_mut() {
                    p.space = lhs.space;
                }
                out.extend(pasted);
                out.extend(rhs.into_iter().skip(1));
                continue;
            }
            if let Some(p) = pidx(b) {
                let raw = body.get(i + 1).is_some_and(|t| t.is_punct("##"));
                if raw && args[p].is_empty() {
                    out.push(Token::new(Tk::Other, "", b.loc)); // placemarker
                    i += 1;
                    continue;
                }
                let mut toks = if raw {
                    args[p].clone()
                } else {
                    self.expand_list(&args[p], name.loc)?
                };
                if let Some(f) = toks.first_mut() {
                    f.space = b.space;
                }
                out.append(&mut toks);
                i += 1;
                continue;
            }
            out.push(b.clone());
            i += 1;
        }
        out.retain(|t| !(t.kind == Tk::Other && t.text.is_empty()));
        // hide set and location of the use
        let mut hs: Vec<Rc<str>> = name
            .hide
            .as_ref()
            .map(|h| (**h).clone())
            .unwrap_or_default();
        hs.push(m.name.clone());
        let hs = Rc::new(hs);
        for (k, t) in out.iter_mut().enumerate() {
            let merged = match &t.hide {
                None => hs.clone(),
                Some(h) => {
                    let mut h: Vec<Rc<str>> = (**h).clone();
                    for n in hs.iter() {
                        if !h.contains(n) {
                            h.push(n.clone());
                        }
                    }
                    Rc::new(h)
                }
            };
            t.hide = Some(merged);
            t.loc = name.loc;
            t.bol = false;
            if k == 0 {
                t.space = name.space;
            }
        }
        Ok(out)
    }

    // ---------------------------------------------------------------- directives

    fn directive(&mut self, hash: Token) -> Result<(), PpError> {
        let line = {
            let Some(f) = self.stack.last_mut() else {
                return Ok(());
            };
            let start = f.pos;
            let mut end = start;
            while end < f.toks.len() && !f.toks[end].bol {
                end += 1;
            }
            f.pos = end;
            f.toks[start..end].to_vec()
        };
        let Some(first) = line.first() else {
            return Ok(());
        };
        let is_marker = first.kind == Tk::Number || &*first.text == "line";
        if is_marker && self.active() {
            let at = usize::from(first.kind != Tk::Number);
            self.line_marker(&line[at..], hash.loc);
        }
        // The directive's own locations follow the markers before it.
        let (hash, line) = match self.stack.last().and_then(|f| f.line_map) {
            Some(m) => {
                let mut hash = hash;
                m.apply(&mut hash.loc);
                let mut line = line;
                for t in &mut line {
                    m.apply(&mut t.loc);
                }
                (hash, line)
            }
            None => (hash, line),
        };
        let first = &line[0];
        let name = first.text.to_string();
        let rest = &line[1..];
        if first.kind == Tk::Number {
            return Ok(()); // `# 12 "file"` line marker, read above
        }
        let base = self.stack.last().map_or(0, |f| f.cond_base);
        match name.as_str() {
            "if" | "ifdef" | "ifndef" => {
                let parent = self.active();
                let v = if !parent {
                    false
                } else if name == "if" {
                    self.eval_if(rest, first)?
                } else {
                    let Some(id) = rest.first().filter(|t| t.kind == Tk::Ident) else {
                        return Err(perr(
                            first.loc,
                            format!("a macro name after `#{name}`"),
                            describe(rest.first()),
                        ));
                    };
                    self.macros.contains_key(&*id.text) == (name == "ifdef")
                };
                let unsure = if parent {
                    self.unsure_test(&name, rest, hash.loc, None)
                } else {
                    None
                };
                self.conds.push(Cond {
                    active: parent && v,
                    taken: v,
                    seen_else: false,
                    parent,
                    loc: hash.loc,
                    unsure,
                });
            }
            "elif" | "elifdef" | "elifndef" => {
                let Some(c) = self
                    .conds
                    .last()
                    .copied()
                    .filter(|_| self.conds.len() > base)
                else {
                    return Err(perr(
                        hash.loc,
                        format!("`#if` before `#{name}`"),
                        format!("`#{name}`"),
                    ));
                };
                if c.seen_else {
                    return Err(perr(
                        hash.loc,
                        "`#endif` after `#else`",
                        format!("`#{name}`"),
                    ));
                }
                let v = if !c.parent || c.taken {
                    false
                } else if name == "elif" {
                    self.eval_if(rest, first)?
                } else {
                    let d = rest
                        .first()
                        .is_some_and(|id| self.macros.contains_key(&*id.text));
                    d == (name == "elifdef")
                };
                let unsure = if c.parent && !c.taken {
                    self.unsure_test(&name, rest, c.loc, c.unsure)
                } else {
                    c.unsure
                };
                if let Some(last) = self.conds.last_mut() {
                    last.active = c.parent && !c.taken && v;
                    last.taken |= v;
                    last.unsure = unsure;
                }
            }
            "else" => {
                if self.conds.len() <= base {
                    return Err(perr(hash.loc, "`#if` before `#else`", "`#else`"));
                }
                if let Some(c) = self.conds.last_mut() {
                    if c.seen_else {
                        return Err(perr(hash.loc, "`#endif` after `#else`", "`#else`"));
                    }
                    c.seen_else = true;
                    c.active = c.parent && !c.taken;
                    c.taken = true;
                }
            }
            "endif" => {
                if self.conds.len() <= base {
                    return Err(perr(hash.loc, "`#if` before `#endif`", "`#endif`"));
                }
                if let Some(u) = self.conds.pop().and_then(|c| c.unsure) {
                    if let Some(r) = self.out.unsure.get_mut(u) {
                        r.end_line = hash.loc.line;
                    }
                }
            }
            _ if !self.active() => {}
            "define" => self.define(rest, first.loc)?,
            "undef" => {
                if let Some(id) = rest.first().filter(|t| t.kind == Tk::Ident) {
                    self.macros.remove(&*id.text);
                } else {
                    return Err(perr(
                        first.loc,
                        "a macro name after `#undef`",
                        describe(rest.first()),
                    ));
                }
            }
            "include" | "include_next" | "import" => {
                self.include(rest, &hash, first, name == "include_next")?
            }
            "pragma" => self.pragma(rest, hash.loc),
            "error" => {
                let msg: Vec<String> = rest.iter().map(|t| t.text.to_string()).collect();
                return Err(perr(
                    hash.loc,
                    "no `#error` in the selected configuration",
                    format!("`#error {}`", msg.join(" ")),
                ));
            }
            "warning" | "line" | "ident" | "sccs" | "assert" | "unassert" => {} // `#line`: read above
            _ => {
                let note = format!("unknown directive `#{name}` ignored");
                self.out.notes.push((hash.loc, note));
            }
        }
        Ok(())
    }

    /// `_Pragma ("…")` (C99), typically from a macro (GLib's `G_GNUC_BEGIN_IGNORE_DEPRECATIONS`): done as the
    /// `#pragma` it spells, and left out of the tokens. Anything else after `_Pragma` is passed on unchanged.
    fn pragma_operator(&mut self, kw: Token) -> Result<(), PpError> {
        let mut taken = vec![kw];
        for _ in 0..3 {
            let mut src = Src::Main;
            match self.next_expanded(&mut src)? {
                Some(t) => taken.push(t),
                None => break,
            }
        }
        let ok = taken.len() == 4
            && taken[1].is_punct("(")
            && taken[2].kind == Tk::Str
            && taken[3].is_punct(")");
        if !ok {
            self.out.tokens.extend(taken);
            return Ok(());
        }
        let s = &taken[2].text;
        let inner = s
            .get(s.find('"').map_or(0, |i| i + 1)..s.len().saturating_sub(1))
            .unwrap_or("")
            .replace("\\\"", "\"")
            .replace("\\\\", "\\");
        let loc = taken[0].loc;
        let mut toks = lex(&inner, loc.file).tokens;
        for t in &mut toks {
            t.loc = loc;
        }
        self.pragma(&toks, loc);
        Ok(())
    }

    /// `#line N ["file"]` / `# N "file" flags`: the next physical line is line `N` of `file` (default: the file
    /// named so far). A malformed marker is ignored, as the locations then stay physical.
    fn line_marker(&mut self, args: &[Token], hash: TokLoc) {
        let Some(n) = args
            .first()
            .filter(|t| t.kind == Tk::Number)
            .and_then(|t| t.text.parse::<u32>().ok())
        else {
            return;
        };
        let current = self
            .stack
            .last()
            .and_then(|f| f.line_map)
            .map_or(hash.file, |m| m.file);
        let file = match args.get(1).filter(|t| t.kind == Tk::Str) {
            Some(s) => {
                let name = s.text.get(1..s.text.len().saturating_sub(1)).unwrap_or("");
                match self.out.files.iter().position(|f| f == name) {
                    Some(i) => u32::try_from(i).unwrap_or(current),
                    None => {
                        self.out.files.push(name.to_string());
                        u32::try_from(self.out.files.len() - 1).unwrap_or(current)
                    }
                }
            }
            None => current,
        };
        if let Some(f) = self.stack.last_mut() {
            f.line_map = Some(LineMap {
                from: hash.line.saturating_add(1),
                line: n,
                file,
            });
        }
    }

    /// After an include that was not read: whether this `#if`/`#ifdef`/`#elif` test depends on macros nothing
    /// defined that the unread header may define (not the compiler's own names, not an include guard). Returns
    /// the index into [`Output::unsure`] of the chain's region (`known`, or a new one).
    fn unsure_test(
        &mut self,
        directive: &str,
        rest: &[Token],
        start: TokLoc,
        known: Option<usize>,
    ) -> Option<usize> {
        if self.out.unread.is_empty() || self.cffi {
            return known;
        }
        let mut names: Vec<String> = Vec::new();
        let consider = |n: &str, names: &mut Vec<String>| {
            if !self.macros.contains_key(n)
                && !is_builtin_macro(n)
                && !is_builtin_fn(n)
                && !is_compiler_name(n)
                && !names.iter().any(|x| x == n)
            {
                names.push(n.to_string());
            }
        };
        match directive {
            "ifdef" | "ifndef" | "elifdef" | "elifndef" => {
                let Some(id) = rest.first().filter(|t| t.kind == Tk::Ident) else {
                    return known;
                };
                if directive == "ifndef" && self.is_guard(&id.text) {
                    return known;
                }
                consider(&id.text, &mut names);
            }
            _ => {
                // `defined X`, and identifiers that are not macros (they evaluate to 0).
                let mut i = 0;
                while i < rest.len() {
                    let t = &rest[i];
                    if t.kind == Tk::Ident {
                        if &*t.text == "defined" {
                            let id = if rest.get(i + 1).is_some_and(|t| t.is_punct("(")) {
                                i += 1;
                                rest.get(i + 1)
                            } else {
                                rest.get(i + 1)
                            };
                            if let Some(id) = id.filter(|t| t.kind == Tk::Ident) {
                                if !(directive == "if" && self.is_guard_if(rest, &id.text)) {
                                    consider(&id.text, &mut names);
                                }
                                i += 1;
                            }
                        } else if !self.macros.contains_key(&*t.text)
                            && !rest.get(i + 1).is_some_and(|n| n.is_punct("("))
                        {
                            consider(&t.text, &mut names);
                        }
                    }
                    i += 1;
                }
            }
        }
        if names.is_empty() {
            return known;
        }
        let unread = self.out.unread.len() - 1;
        match known {
            Some(k) => {
                if let Some(r) = self.out.unsure.get_mut(k) {
                    for n in names {
                        if !r.macros.contains(&n) {
                            r.macros.push(n);
                        }
                    }
                }
                Some(k)
            }
            None => {
                self.out.unsure.push(UnsureRegion {
                    start,
                    end_line: start.line,
                    macros: names,
                    unread,
                });
                Some(self.out.unsure.len() - 1)
            }
        }
    }

    /// `#ifndef NAME` directly followed by `#define NAME`: an include guard.
    fn is_guard(&self, name: &str) -> bool {
        let Some(f) = self.stack.last() else {
            return false;
        };
        let next = &f.toks[f.pos.min(f.toks.len())..];
        next.len() >= 3
            && next[0].is_punct("#")
            && &*next[1].text == "define"
            && &*next[2].text == name
    }

    /// `#if !defined(NAME)` (alone) followed by `#define NAME`: an include guard too.
    fn is_guard_if(&self, rest: &[Token], name: &str) -> bool {
        rest.first().is_some_and(|t| t.is_punct("!")) && rest.len() <= 5 && self.is_guard(name)
    }

    fn define(&mut self, rest: &[Token], at: TokLoc) -> Result<(), PpError> {
        let Some(name) = rest.first().filter(|t| t.kind == Tk::Ident) else {
            return Err(perr(
                at,
                "a macro name after `#define`",
                describe(rest.first()),
            ));
        };
        if self.cffi && at.file != 0 {
            cffi_define(name, &rest[1..])?;
        }
        let mut i = 1;
        let mut params = None;
        let mut variadic = false;
        if rest.get(1).is_some_and(|t| t.is_punct("(") && !t.space) {
            let mut ps: Vec<Rc<str>> = Vec::new();
            i = 2;
            loop {
                let t = rest.get(i);
                match t {
                    Some(t) if t.is_punct(")") && ps.is_empty() => {
                        i += 1;
                        break;
                    }
                    Some(t) if t.is_punct("...") => {
                        ps.push(Rc::from("__VA_ARGS__"));
                        variadic = true;
                        i += 1;
                    }
                    Some(t) if t.kind == Tk::Ident => {
                        ps.push(t.text.clone());
                        i += 1;
                        if rest.get(i).is_some_and(|t| t.is_punct("...")) {
                            variadic = true;
                            i += 1;
                        }
                    }
                    _ => {
                        return Err(perr(
                            t.map_or(name.loc, |t| t.loc),
                            "a macro parameter name",
                            describe(t),
                        ))
                    }
                }
                match rest.get(i) {
                    Some(t) if t.is_punct(")") => {
                        i += 1;
                        break;
                    }
                    Some(t) if t.is_punct(",") && !variadic => i += 1,
                    t => {
                        return Err(perr(
                            t.map_or(name.loc, |t| t.loc),
                            "`,` or `)` in the macro parameter list",
                            describe(t),
                        ))
                    }
                }
            }
            params = Some(ps);
        }
        let mut body: Vec<Token> = rest[i.min(rest.len())..].to_vec();
        if let Some(b) = body.first_mut() {
            b.space = false;
        }
        for b in &mut body {
            b.bol = false;
        }
        self.serial += 1;
        let m = Macro {
            name: name.text.clone(),
            params,
            variadic,
            body,
            loc: name.loc,
            serial: self.serial,
        };
        self.macros.insert(name.text.clone(), Rc::new(m));
        Ok(())
    }

    /// Replace `defined X`, `defined(X)`, `__has_include(…)` and the other `__has_*` queries by 0/1.
    fn replace_builtins(&self, toks: &[Token]) -> Vec<Token> {
        let mut out = Vec::with_capacity(toks.len());
        let mut i = 0;
        let num = |v: bool, loc| Token::new(Tk::Number, if v { "1" } else { "0" }, loc);
        while i < toks.len() {
            let t = &toks[i];
            if t.kind == Tk::Ident && &*t.text == "defined" {
                let (id, adv) = if toks.get(i + 1).is_some_and(|t| t.is_punct("(")) {
                    if toks.get(i + 3).is_some_and(|t| t.is_punct(")")) {
                        (toks.get(i + 2), 4)
                    } else {
                        (None, 1)
                    }
                } else {
                    (toks.get(i + 1), 2)
                };
                if let Some(id) = id.filter(|x| x.kind == Tk::Ident) {
                    let d = self.macros.contains_key(&*id.text)
                        || self.builtin_fn_defined(&id.text)
                        || is_builtin_macro(&id.text);
                    out.push(num(d, t.loc));
                    i += adv;
                    continue;
                }
            }
            if t.kind == Tk::Ident
                && (is_builtin_fn(&t.text) || &*t.text == "__building_module")
                && toks.get(i + 1).is_some_and(|t| t.is_punct("("))
            {
                let mut depth = 0;
                let mut j = i + 1;
                while j < toks.len() {
                    if toks[j].is_punct("(") {
                        depth += 1;
                    } else if toks[j].is_punct(")") {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    j += 1;
                }
                let inner =
                    &toks[(i + 2).min(toks.len())..j.min(toks.len()).max((i + 2).min(toks.len()))];
                let v = if t.text.starts_with("__has_include") {
                    self.header_name(inner)
                        .is_some_and(|(n, q)| self.resolve(&n, q, false).is_some())
                } else {
                    self.query(&t.text, inner)
                };
                out.push(num(v, t.loc));
                i = j + 1;
                continue;
            }
            out.push(t.clone());
            i += 1;
        }
        out
    }

    /// `defined(__has_feature)` and the like: what the target's compiler has (all of them without a target).
    fn builtin_fn_defined(&self, name: &str) -> bool {
        match &self.queries {
            Some(q) => q.contains(&format!("defined {name}")),
            None => is_builtin_fn(name),
        }
    }

    /// `__has_attribute(x)`, `__has_builtin(x)`, `__has_feature(x)`, … as the target's compiler answers
    /// (recorded by `scripts/gen-predefined.sh`); without a target, or for a name not recorded, 0.
    /// `__building_module(x)` is 0: a header is never parsed as part of a module build.
    fn query(&self, op: &str, args: &[Token]) -> bool {
        let Some(q) = &self.queries else {
            return false;
        };
        let mut name: String = args.iter().map(|t| &*t.text).collect();
        if op == "__has_attribute" || op == "__has_c_attribute" {
            // GNU spelling variants: `__packed__`, `gnu::packed`
            name = name.trim_start_matches("gnu::").to_string();
            if name.len() > 4 && name.starts_with("__") && name.ends_with("__") {
                name = name[2..name.len() - 2].to_string();
            }
        }
        q.contains(&format!("{op} {name}"))
    }

    fn eval_if(&mut self, rest: &[Token], kw: &Token) -> Result<bool, PpError> {
        let toks = self.replace_builtins(rest);
        self.in_if = true;
        let toks = self.expand_list(&toks, kw.loc);
        self.in_if = false;
        let toks = self.replace_builtins(&toks?);
        if toks.is_empty() {
            return Err(perr(
                kw.loc,
                format!("an expression after `#{}`", kw.text),
                "end of line",
            ));
        }
        let no = |_: &str| None;
        let nt = |_: &str| false;
        let ns = |_: &[Token]| None;
        match expr::eval(
            &toks,
            &Ctx {
                pp: true,
                ident: &no,
                is_type: &nt,
                sizeof: &ns,
            },
        ) {
            Ok(v) => Ok(v != 0),
            Err(e) => {
                let loc = match toks.get(e.at) {
                    Some(t) => t.loc,
                    None => toks.last().map_or(kw.loc, |t| {
                        let len = u32::try_from(t.text.chars().count()).unwrap_or(0);
                        TokLoc {
                            col: t.loc.col.saturating_add(len),
                            ..t.loc
                        }
                    }),
                };
                Err(perr(loc, e.expected, describe(toks.get(e.at))))
            }
        }
    }

    /// `"x"` or `<x>` from directive tokens: (name, quoted).
    fn header_name(&self, toks: &[Token]) -> Option<(String, bool)> {
        let first = toks.first()?;
        if first.kind == Tk::Str {
            let s = &first.text;
            return Some((s.get(1..s.len().saturating_sub(1))?.to_string(), true));
        }
        if first.is_punct("<") {
            let mut s = String::new();
            for t in &toks[1..] {
                if t.is_punct(">") {
                    return Some((s, false));
                }
                if t.space && !s.is_empty() {
                    s.push(' ');
                }
                s.push_str(&t.text);
            }
        }
        None
    }

    /// Search order: the current file's directory (quoted form only), `-I` dirs, system dirs.
    fn search_dirs(&self, quoted: bool) -> Vec<PathBuf> {
        let mut v = Vec::new();
        if quoted {
            match self.stack.last().and_then(|f| f.dir.clone()) {
                Some(d) => v.push(d),
                None => v.push(PathBuf::new()),
            }
        }
        v.extend(self.opts.include_dirs.iter().cloned());
        v.extend(self.opts.system_include_dirs.iter().cloned());
        if quoted {
            v.extend(self.own_quote_dir.iter().cloned());
        }
        v
    }

    fn resolve(&self, name: &str, quoted: bool, next: bool) -> Option<(PathBuf, usize)> {
        if name.is_empty() {
            return None;
        }
        if Path::new(name).is_absolute() {
            return Path::new(name)
                .is_file()
                .then(|| (PathBuf::from(name), usize::MAX));
        }
        let dirs = self.search_dirs(quoted);
        let skip = if next {
            self.stack
                .last()
                .and_then(|f| f.search_idx)
                .map_or(0, |i| i.saturating_add(1))
        } else {
            0
        };
        dirs.iter().enumerate().skip(skip).find_map(|(i, d)| {
            let p = d.join(name);
            p.is_file().then_some((p, i))
        })
    }

    fn include(
        &mut self,
        rest: &[Token],
        hash: &Token,
        kw: &Token,
        next: bool,
    ) -> Result<(), PpError> {
        let mut hn = self.header_name(rest);
        if hn.is_none() {
            let expanded = self.expand_list(rest, kw.loc)?;
            hn = self.header_name(&expanded);
        }
        let Some((name, quoted)) = hn else {
            return Err(perr(
                kw.loc,
                "`\"file\"` or `<file>` after `#include`",
                describe(rest.first()),
            ));
        };
        let shown = if quoted {
            format!("\"{name}\"")
        } else {
            format!("<{name}>")
        };
        let Some((path, idx)) = self.resolve(&name, quoted, next) else {
            self.out.notes.push((
                hash.loc,
                format!("#include {shown} not found in the include path; skipped"),
            ));
            self.out.unread.push((hash.loc, shown));
            return Ok(());
        };
        let canon = std::fs::canonicalize(&path).ok();
        if canon.as_ref().is_some_and(|c| self.once.contains(c)) {
            return Ok(());
        }
        if self.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(perr(
                hash.loc,
                format!("#include nested at most {MAX_INCLUDE_DEPTH} deep"),
                format!("#include {shown}"),
            ));
        }
        let text = match crate::input::read_regular(&path, "a header", super::HEADER_LIMIT) {
            Ok(b) => String::from_utf8_lossy(&b).into_owned(),
            Err(e) => {
                let msg = format!(
                    "#include {shown}: cannot read {}: expected {}, found {}; skipped",
                    path.display(),
                    e.expected,
                    e.found
                );
                self.out.notes.push((hash.loc, msg));
                self.out.unread.push((hash.loc, shown));
                return Ok(());
            }
        };
        let dir = path.parent().map(Path::to_path_buf);
        let display = path.to_string_lossy().into_owned();
        let system = self.is_foreign(&name, quoted, idx, canon.as_deref());
        self.push_file(
            &display,
            &text,
            dir,
            canon,
            (idx != usize::MAX).then_some(idx),
            system,
        )
    }

    fn pragma(&mut self, rest: &[Token], loc: TokLoc) {
        let Some(first) = rest.first() else { return };
        match &*first.text {
            "once" => {
                if let Some(c) = self.stack.last().and_then(|f| f.canon.clone()) {
                    self.once.insert(c);
                }
            }
            "pack" => {
                if !rest.get(1).is_some_and(|t| t.is_punct("(")) {
                    self.out
                        .notes
                        .push((loc, "malformed `#pragma pack` ignored".into()));
                    return;
                }
                let args: Vec<&Token> = rest
                    .iter()
                    .skip(2)
                    .take_while(|t| !t.is_punct(")"))
                    .filter(|t| !t.is_punct(","))
                    .collect();
                let num = |t: &Token| -> Option<Option<u32>> {
                    let v = expr::parse_number(&t.text)?.v;
                    if matches!(v, 1 | 2 | 4 | 8 | 16) {
                        Some(Some(v as u32))
                    } else if v == 0 {
                        Some(None)
                    } else {
                        None
                    }
                };
                let first_arg = args.first().map(|t| t.text.to_string());
                match first_arg.as_deref() {
                    None => self.pack_cur = None,
                    Some("push") => {
                        self.pack_stack.push(self.pack_cur);
                        if let Some(n) = args.iter().skip(1).find(|t| t.kind == Tk::Number) {
                            match num(n) {
                                Some(v) => self.pack_cur = v,
                                None => {
                                    let msg = format!("invalid `#pragma pack` value {}", n.text);
                                    self.out.notes.push((n.loc, msg));
                                }
                            }
                        }
                    }
                    Some("pop") => {
                        if args.get(1).is_some_and(|t| t.kind == Tk::Ident) {
                            let msg = "`#pragma pack(pop, identifier)` treated as a plain pop"
                                .to_string();
                            self.out.notes.push((loc, msg));
                        }
                        match self.pack_stack.pop() {
                            Some(v) => self.pack_cur = v,
                            None => {
                                let msg = "`#pragma pack(pop)` without a matching push".to_string();
                                self.out.notes.push((loc, msg));
                            }
                        }
                    }
                    Some("show") => return,
                    Some(_) => match num(args[0]) {
                        Some(v) => self.pack_cur = v,
                        None => {
                            let msg = format!("invalid `#pragma pack` value {}", args[0].text);
                            self.out.notes.push((loc, msg));
                            return;
                        }
                    },
                }
                let idx = self.out.tokens.len() + self.pending.len();
                self.out.packs.push((idx, self.pack_cur));
            }
            _ => {}
        }
    }

    // ---------------------------------------------------------------- constants

    fn collect_constants(&mut self) {
        let sizes = target_sizes(self.opts);
        let mut ms: Vec<Rc<Macro>> = self
            .macros
            .values()
            .filter(|m| m.params.is_none() && m.loc.file != 0 && !m.body.is_empty())
            .cloned()
            .collect();
        ms.sort_by_key(|m| m.serial);
        for m in ms {
            if m.body.len() == 1 && m.body[0].is_punct("...") {
                if self.cffi {
                    self.out.constants.push((m.name.to_string(), None, m.loc));
                }
                continue;
            }
            let name = Token::new(Tk::Ident, &m.name, m.loc);
            self.budget = self.budget.max(EXPANSION_BUDGET / 4);
            let Ok(toks) = self.expand_list(&[name], m.loc) else {
                continue;
            };
            if toks
                .iter()
                .any(|t| t.kind == Tk::Ident && !is_type_word(&t.text))
            {
                continue;
            }
            let no = |_: &str| None;
            let nt = |_: &str| false;
            let so = |t: &[Token]| sizeof_from(&sizes, t);
            if let Ok(v) = expr::eval(
                &toks,
                &Ctx {
                    pp: false,
                    ident: &no,
                    is_type: &nt,
                    sizeof: &so,
                },
            ) {
                self.out
                    .constants
                    .push((m.name.to_string(), Some(v), m.loc));
            }
        }
    }
}

/// cffi's rule for `#define` in a cdef: the value is `...` or one integer literal (`-?0?x?[0-9a-f]+[lu]*`,
/// decimal, hex or octal); a string, a float, an expression or a function-like macro is an error.
fn cffi_define(name: &Token, body: &[Token]) -> Result<(), PpError> {
    let function_like = body.first().is_some_and(|t| t.is_punct("(") && !t.space);
    let text: String = body.iter().map(|t| &*t.text).collect();
    let int_literal = {
        let v = text.strip_prefix('-').unwrap_or(&text).to_ascii_lowercase();
        let v = v.trim_end_matches(['l', 'u']);
        let v = v.strip_prefix('0').unwrap_or(v);
        let v = v.strip_prefix('x').unwrap_or(v);
        !v.is_empty() && v.bytes().all(|b| b.is_ascii_hexdigit())
            || text
                .trim_start_matches('-')
                .trim_end_matches(['l', 'u', 'L', 'U'])
                == "0"
    };
    if !function_like && (text == "..." || int_literal) {
        return Ok(());
    }
    let at = body.first().map_or(name.loc, |t| t.loc);
    Err(perr(
        at,
        format!(
            "`#define {} ...` or `#define {} NUMBER` with an integer constant (cffi's cdef accepts only those)",
            name.text, name.text
        ),
        if body.is_empty() {
            "nothing".to_string()
        } else {
            let mut v = String::new();
            for (i, t) in body.iter().enumerate() {
                if i > 0 && t.space {
                    v.push(' ');
                }
                v.push_str(&t.text);
            }
            format!("`{v}`")
        },
    ))
}

fn is_type_word(s: &str) -> bool {
    matches!(
        s,
        "int" | "unsigned" | "signed" | "char" | "short" | "long" | "sizeof" | "float" | "double"
    ) || super::STANDARD_TYPEDEFS.contains(&s)
}

fn is_builtin_fn(s: &str) -> bool {
    matches!(
        s,
        "__has_include"
            | "__has_include_next"
            | "__has_attribute"
            | "__has_cpp_attribute"
            | "__has_c_attribute"
            | "__has_builtin"
            | "__has_feature"
            | "__has_extension"
            | "__has_declspec_attribute"
            | "__has_warning"
    )
}

/// A name only a compiler defines (any target's predefined macros, and other compilers' and platforms' own
/// `__NAME__`, `_M_*`, `_MSC_*` names): no header that was not read can define it.
fn is_compiler_name(s: &str) -> bool {
    static NAMES: std::sync::OnceLock<HashSet<String>> = std::sync::OnceLock::new();
    let names = NAMES.get_or_init(|| {
        crate::abi::Target::ALL
            .iter()
            .flat_map(|t| t.predefined_macros().into_iter().map(|(n, _)| n))
            .map(|n| n.split('(').next().unwrap_or("").to_string())
            .collect()
    });
    if names.contains(s) {
        return true;
    }
    // The C library's version macros look like a compiler's but come from a header (features.h & co.).
    const FROM_HEADERS: &[&str] = &[
        "__GLIBC__",
        "__GLIBC_MINOR__",
        "__UCLIBC__",
        "__BIONIC__",
        "__NEWLIB__",
        "__MUSL__",
        "__MINGW64_VERSION_MAJOR",
    ];
    if FROM_HEADERS.contains(&s) {
        return false;
    }
    (s.starts_with("__") && s.ends_with("__") && s.len() > 4)
        || s.starts_with("_M_")
        || s.starts_with("_MSC_")
        || matches!(
            s,
            "__cplusplus"
                | "_WIN32"
                | "_WIN64"
                | "WIN32"
                | "_WINDOWS"
                | "__sun"
                | "_AIX"
                | "__hpux"
                | "__riscv"
                | "__OBJC__"
                | "__ASSEMBLER__"
                | "__ASSEMBLY__"
                | "__midipix__"
        )
}

fn is_builtin_macro(s: &str) -> bool {
    matches!(s, "__FILE__" | "__LINE__" | "__COUNTER__")
}

/// `#x`: the argument's spelling as a string literal.
fn stringify(toks: &[Token]) -> String {
    let mut s = String::from("\"");
    for (i, t) in toks.iter().enumerate() {
        if i > 0 && t.space {
            s.push(' ');
        }
        if matches!(t.kind, Tk::Str | Tk::Char) {
            for c in t.text.chars() {
                if c == '"' || c == '\\' {
                    s.push('\\');
                }
                s.push(c);
            }
        } else {
            s.push_str(&t.text);
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pp(src: &str) -> Result<Output, PpError> {
        preprocess("t.h", src, None, &ParseOptions::default(), false)
    }
    fn text(src: &str) -> String {
        let o = pp(src).unwrap();
        o.tokens
            .iter()
            .map(|t| t.text.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn object_and_function_macros() {
        assert_eq!(
            text("#define A 1\n#define F(x, y) (x + y)\nF(A, 2)"),
            "( 1 + 2 )"
        );
        assert_eq!(
            text("#define OF(args) args\nint f OF((int a, char b));"),
            "int f ( int a , char b ) ;"
        );
        assert_eq!(text("#define S(x) #x\nS(a  \"b\" c)"), "\"a \\\"b\\\" c\"");
        assert_eq!(
            text("#define P(a,b) a##b\nP(x, y) P(, z) P(1,) P(,)"),
            "xy z 1"
        );
        assert_eq!(
            text("#define V(f, ...) f(__VA_ARGS__)\nV(g, 1, 2) V(h)"),
            "g ( 1 , 2 ) h ( )"
        );
        assert_eq!(
            text("#define E(f, a...) f(0, ## a)\nE(g) E(g, 1)"),
            "g ( 0 ) g ( 0 , 1 )"
        );
        assert_eq!(text("#define X X + 1\nX"), "X + 1");
        assert_eq!(text("#define f(x) x f\n#define g f\ng(1)(2)"), "1 f ( 2 )");
        assert_eq!(text("#define F(x) x\nF"), "F");
        assert_eq!(
            text("#define CAT(a, b) a ## b\n#define N 2\nCAT(x, N) CAT(1, 2)"),
            "xN 12"
        );
    }

    #[test]
    fn expansion_locations_are_the_use() {
        let o = pp("#define T int\n\n  T x;").unwrap();
        assert_eq!((o.tokens[0].loc.line, o.tokens[0].loc.col), (3, 3));
    }

    #[test]
    fn conditionals() {
        let s = "#define A 2\n#if A > 1 && defined(A) && !defined B\nyes\n#elif 1\nno\n#else\nno\n#endif\n\
                 #ifdef B\nno\n#elif A == 2\nyes2\n#endif\n#if 0\n#if 1\nno\n#endif\n#error not here\n#endif";
        assert_eq!(text(s), "yes yes2");
        assert_eq!(
            text("#if 'a' == 97 && (1 ? 2 : 3) == 2 && (1 << 4) == 16\nok\n#endif"),
            "ok"
        );
        assert_eq!(
            text("#if __has_include(\"nope.h\") || __has_attribute(packed)\nno\n#endif"),
            ""
        );
    }

    #[test]
    fn errors_have_locations() {
        let e = pp("int a;\n  #error boom here\n").unwrap_err();
        assert_eq!((e.loc.line, e.loc.col), (2, 3));
        assert!(e.found.contains("boom"));
        assert_eq!(e.file, "t.h");
        let e = pp("#if 1\nint a;\n").unwrap_err();
        assert_eq!((e.loc.line, e.loc.col), (1, 1));
        let e = pp("#if 1 +\n#endif").unwrap_err();
        assert_eq!(e.loc.line, 1);
        let e = pp("#define F(x) x\nF(1, 2)").unwrap_err();
        assert_eq!((e.loc.line, e.loc.col), (2, 1));
        assert!(pp("#endif").is_err());
        assert!(pp("#define F(x) x\nF(1").is_err());
    }

    #[test]
    fn constants_and_pragmas() {
        let o = pp("#define A 1\n#define B (A << 3)\n#define C foo\n#define D(x) 1\n#define E ((int)-1)\n#define F\n\
                    #pragma pack(push, 2)\nx\n#pragma pack(pop)\ny")
        .unwrap();
        let c: Vec<_> = o
            .constants
            .iter()
            .map(|(n, v, _)| (n.as_str(), *v))
            .collect();
        assert_eq!(c, [("A", Some(1)), ("B", Some(8)), ("E", Some(-1))]);
        assert_eq!(o.packs, [(0, Some(2)), (1, None)]);
    }

    #[test]
    fn missing_include_is_a_note() {
        let o = pp("#include <nonexistent_zz.h>\n#include \"also_missing.h\"\nint").unwrap();
        assert_eq!(o.notes.len(), 2);
        assert_eq!(o.tokens.len(), 1);
    }

    #[test]
    fn runaway_expansion_is_bounded() {
        let mut s = String::from("#define A0 x x\n");
        for i in 1..40 {
            s.push_str(&format!("#define A{i} A{} A{}\n", i - 1, i - 1));
        }
        s.push_str("A39\n");
        assert!(pp(&s).is_err());
    }
}
