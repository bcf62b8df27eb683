//! Recursive-descent parser for C declarations (and cffi `cdef` forms) over preprocessed tokens.
//!
//! Only what a header declares is modelled: function bodies (`static inline` helpers) are skipped, initializers
//! are skipped, `static` objects and functions are left out (they are not library symbols), except cffi's
//! `static const int X;` which declares a constant whose value comes from the library.

use super::expr::{self, Ctx};
use super::lex::{Tk, TokLoc, Token};
use super::preprocess::Output;
use super::{
    Constant, Enum, Field, FnSig, Function, Loc, Param, ParseError, Prim, QualType, Quals, Record,
    RecordKind, Spec, Type, Typedef, Variable, STANDARD_TYPEDEFS,
};
use std::collections::{HashMap, HashSet};

/// Nesting limit for declarators, records and parameter lists.
const MAX_DEPTH: u32 = 100;

#[derive(Debug, Default, Clone, Copy)]
struct Attrs {
    packed: bool,
    aligned: Option<u32>,
}

impl Attrs {
    fn merge(&mut self, o: Attrs) {
        self.packed |= o.packed;
        if o.aligned.is_some() {
            self.aligned = o.aligned.max(self.aligned);
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Storage {
    None,
    Typedef,
    Extern,
    Static,
    Other,
}

struct Specs {
    storage: Storage,
    inline: bool,
    base: QualType,
    cc: Option<String>,
    attrs: Attrs,
    cffi_unknown: Option<String>,
    /// A record defined by these specifiers (`struct s { … }`), for declaration-level attributes.
    defined_record: Option<usize>,
}

type Declarator = (Option<(String, TokLoc)>, QualType, Attrs);

/// Parse preprocessed tokens into a [`Spec`]. `sizes` are the target's `__SIZEOF_*__` values (for `sizeof`).
/// `target` (when known) lays out records for `sizeof`/`_Alignof`/`offsetof` in constant expressions.
pub fn parse(
    pp: Output,
    cffi: bool,
    sizes: HashMap<String, i128>,
    target: Option<crate::abi::Target>,
) -> Result<Spec, ParseError> {
    let mut p = Parser {
        target,
        user_typedefs: HashSet::new(),
        toks: &pp.tokens,
        pos: 0,
        files: &pp.files,
        packs: &pp.packs,
        sizes,
        cffi,
        spec: Spec::default(),
        typedef_names: STANDARD_TYPEDEFS.iter().map(|s| s.to_string()).collect(),
        enum_consts: HashMap::new(),
        tags: HashMap::new(),
        enum_tags: HashMap::new(),
        depth: 0,
        extern_c: 0,
        noted_unknown: HashSet::new(),
        fn_names: HashSet::new(),
        var_names: HashSet::new(),
    };
    for (loc, msg) in &pp.notes {
        let l = p.loc(*loc);
        p.spec.notes.push((l, msg.clone()));
    }
    while p.pos < p.toks.len() {
        p.external_decl()?;
    }
    let mut constants = Vec::new();
    for (name, value, loc) in &pp.constants {
        constants.push(Constant {
            name: name.clone(),
            value: *value,
            loc: p.loc(*loc),
        });
    }
    // cffi `static const int X;` constants come after the macros
    constants.append(&mut p.spec.constants);
    p.spec.constants = constants;
    Ok(p.spec)
}

struct Parser<'a> {
    target: Option<crate::abi::Target>,
    /// Names of `spec.typedefs` (the first definition is kept).
    user_typedefs: HashSet<String>,
    toks: &'a [Token],
    pos: usize,
    files: &'a [String],
    packs: &'a [(usize, Option<u32>)],
    sizes: HashMap<String, i128>,
    cffi: bool,
    spec: Spec,
    typedef_names: HashSet<String>,
    enum_consts: HashMap<String, i128>,
    tags: HashMap<(RecordKind, String), usize>,
    enum_tags: HashMap<String, usize>,
    depth: u32,
    extern_c: u32,
    noted_unknown: HashSet<String>,
    fn_names: HashSet<String>,
    var_names: HashSet<String>,
}

fn is_qual(s: &str) -> Option<&'static str> {
    Some(match s {
        "const" | "__const" | "__const__" => "const",
        "volatile" | "__volatile" | "__volatile__" => "volatile",
        "restrict" | "__restrict" | "__restrict__" | "_Nonnull" | "_Nullable"
        | "_Null_unspecified" | "__nonnull" | "__nullable" | "__ptr32" | "__ptr64"
        | "__unaligned" | "__w64" | "_Atomic" => "ignore",
        _ => return None,
    })
}

fn callconv(s: &str) -> Option<&'static str> {
    Some(match s.trim_start_matches('_').trim_end_matches('_') {
        "stdcall" => "__stdcall",
        "cdecl" => "__cdecl",
        "fastcall" => "__fastcall",
        "vectorcall" => "__vectorcall",
        "thiscall" => "__thiscall",
        "pascal" => "__pascal",
        _ => return None,
    })
}

const TYPE_KEYWORDS: &[&str] = &[
    "void",
    "char",
    "short",
    "int",
    "long",
    "float",
    "double",
    "signed",
    "__signed",
    "__signed__",
    "unsigned",
    "_Bool",
    "__int128",
    "__int128_t",
    "__uint128_t",
    "_Complex",
    "__complex__",
];

/// Whether `s` is a keyword that names or modifies a built-in type (the base keywords or an extended float).
fn is_type_keyword(s: &str) -> bool {
    TYPE_KEYWORDS.contains(&s) || EXTENDED_FLOATS.contains(&s)
}

/// Floating types beyond `float`/`double`/`long double`: kept as [`Type::Named`] with their keyword (the ABI
/// engine lays them out per target, or says the target lacks them).
const EXTENDED_FLOATS: &[&str] = &[
    "_Float16",
    "_Float32",
    "_Float64",
    "_Float128",
    "_Float32x",
    "_Float64x",
    "_Float128x",
    "__float128",
    "__float80",
    "__ibm128",
    "__bf16",
    "__fp16",
];

/// Byte offset and type of member `name` of record `id` (searching anonymous members), from its layout.
fn find_member(
    spec: &Spec,
    id: usize,
    l: &crate::abi::RecordLayout,
    name: &str,
) -> Option<(u64, Type)> {
    let r = spec.records.get(id)?;
    for (f, fl) in r.fields.iter().zip(&l.fields) {
        if f.bits.is_some() {
            continue;
        }
        if f.name.as_deref() == Some(name) {
            return Some((fl.offset, f.ty.ty.clone()));
        }
        if let (None, Type::Record { id: nid }, Some(nl)) = (&f.name, &f.ty.ty, &fl.nested) {
            if let Some((o, ty)) = find_member(spec, *nid, nl, name) {
                return Some((fl.offset + o, ty));
            }
        }
    }
    None
}

fn prim_words(p: Prim) -> &'static [&'static str] {
    match p {
        Prim::Bool | Prim::Char | Prim::SChar | Prim::UChar => &["char"],
        Prim::Short | Prim::UShort => &["short"],
        Prim::Int | Prim::UInt => &["int"],
        Prim::Long | Prim::ULong => &["long"],
        Prim::LongLong | Prim::ULongLong => &["long", "long"],
        Prim::Float => &["float"],
        Prim::Double => &["double"],
        Prim::LongDouble => &["long", "double"],
        Prim::Int128 | Prim::UInt128 => &["__int128"],
        Prim::WChar => &["wchar_t"],
        Prim::Char16 => &["char16_t"],
        Prim::Char32 => &["char32_t"],
        Prim::Void => &["void"],
    }
}

/// Set the calling convention on the function a declarator type designates (directly or through pointers).
fn apply_cc(ty: &mut QualType, cc: &str) {
    let mut t = ty;
    for _ in 0..64 {
        match &mut t.ty {
            Type::Function { sig } => {
                if sig.callconv.is_none() {
                    sig.callconv = Some(cc.to_string());
                }
                return;
            }
            Type::Pointer { pointee } => t = pointee,
            _ => return,
        }
    }
}

impl<'a> Parser<'a> {
    // ---------------------------------------------------------------- helpers

    fn loc(&self, l: TokLoc) -> Loc {
        Loc {
            file: self.files.get(l.file as usize).cloned().unwrap_or_default(),
            line: l.line,
            col: l.col,
        }
    }
    fn peek(&self) -> Option<&'a Token> {
        self.toks.get(self.pos)
    }
    fn peek_at(&self, k: usize) -> Option<&'a Token> {
        self.toks.get(self.pos + k)
    }
    fn is(&self, p: &str) -> bool {
        self.peek().is_some_and(|t| t.is(p))
    }
    fn eat(&mut self, p: &str) -> bool {
        if self.is(p) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn here(&self) -> TokLoc {
        match self.peek() {
            Some(t) => t.loc,
            None => match self.toks.last() {
                Some(t) => {
                    let len = u32::try_from(t.text.chars().count()).unwrap_or(0);
                    TokLoc {
                        col: t.loc.col.saturating_add(len),
                        ..t.loc
                    }
                }
                None => TokLoc {
                    file: 1,
                    line: 1,
                    col: 1,
                },
            },
        }
    }
    fn found(&self) -> String {
        match self.peek() {
            Some(t) => format!("`{}`", t.text),
            None => "end of input".into(),
        }
    }
    fn err(&self, expected: impl Into<String>) -> ParseError {
        ParseError {
            loc: self.loc(self.here()),
            expected: expected.into(),
            found: self.found(),
        }
    }
    fn expect(&mut self, p: &str) -> Result<(), ParseError> {
        if self.eat(p) {
            Ok(())
        } else {
            Err(self.err(format!("`{p}`")))
        }
    }
    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(format!(
                "a declaration nested less than {MAX_DEPTH} levels deep"
            )));
        }
        Ok(())
    }
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
    fn note(&mut self, at: TokLoc, msg: String) {
        let l = self.loc(at);
        self.spec.notes.push((l, msg));
    }

    /// At an opening bracket: skip to just after its match.
    fn skip_balanced(&mut self) -> Result<(), ParseError> {
        let open = self.peek().map(|t| t.text.to_string()).unwrap_or_default();
        let close = match open.as_str() {
            "(" => ")",
            "[" => "]",
            "{" => "}",
            _ => return Err(self.err("`(`, `[` or `{`")),
        };
        let start = self.pos;
        let mut stack: Vec<&str> = Vec::new();
        while let Some(t) = self.peek() {
            self.pos += 1;
            if t.kind != Tk::Punct {
                continue;
            }
            match &*t.text {
                "(" => stack.push(")"),
                "[" => stack.push("]"),
                "{" => stack.push("}"),
                c @ (")" | "]" | "}") => {
                    if let Some(want) = stack.pop().filter(|w| *w != c) {
                        self.pos -= 1;
                        return Err(self.err(format!("`{want}`")));
                    }
                    if stack.is_empty() {
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        let l = self.loc(self.toks[start].loc);
        Err(ParseError {
            loc: l,
            expected: format!("`{close}` to match this `{open}`"),
            found: "end of input".into(),
        })
    }

    /// Tokens of a constant expression up to (not including) one of `stops` at bracket depth 0.
    fn expr_tokens(&mut self, stops: &[&str]) -> Result<&'a [Token], ParseError> {
        let start = self.pos;
        while let Some(t) = self.peek() {
            if t.kind == Tk::Punct && stops.contains(&&*t.text) {
                break;
            }
            if t.is_punct("(") || t.is_punct("[") || t.is_punct("{") {
                self.skip_balanced()?;
            } else if t.is_punct(")") || t.is_punct("]") || t.is_punct("}") {
                break;
            } else {
                self.pos += 1;
            }
        }
        Ok(&self.toks[start..self.pos])
    }

    fn eval(&self, toks: &[Token]) -> Result<i128, ParseError> {
        let consts = &self.enum_consts;
        let id = |n: &str| consts.get(n).copied();
        let names = &self.typedef_names;
        let ty = |n: &str| names.contains(n);
        let so = |t: &[Token]| self.sizeof_tokens(t);
        expr::eval(
            toks,
            &Ctx {
                pp: false,
                ident: &id,
                is_type: &ty,
                sizeof: &so,
            },
        )
        .map_err(|e| {
            let t = toks.get(e.at);
            let at = t
                .map(|t| t.loc)
                .or_else(|| toks.last().map(|t| t.loc))
                .unwrap_or_else(|| self.here());
            ParseError {
                loc: self.loc(at),
                expected: e.expected,
                found: t.map_or("end of expression".into(), |t| format!("`{}`", t.text)),
            }
        })
    }

    /// `sizeof(type-name)` for basic types, pointers, standard typedefs and user typedefs of those; with a
    /// target, any complete type (records, arrays, enums) through the ABI engine, and `_Alignof(type-name)`,
    /// `__alignof__(type-name)` and `__builtin_offsetof(type, member-designator)` (the tokens then start with
    /// that keyword).
    fn sizeof_tokens(&self, t: &[Token]) -> Option<i128> {
        if let Some(kw) = t.first().filter(|k| {
            matches!(
                &*k.text,
                "_Alignof" | "alignof" | "__alignof__" | "__alignof" | "__builtin_offsetof"
            )
        }) {
            let target = self.target?;
            if &*kw.text == "__builtin_offsetof" {
                return self.offsetof_tokens(&t[1..], target);
            }
            let ty = self.type_from_tokens(&t[1..])?;
            let l = crate::abi::type_layout(&self.spec, &ty, target).ok()?;
            // GCC's `__alignof__` is the preferred alignment: 8 for `double`/`long long` on i386 SysV, where
            // `_Alignof` (the ABI alignment in a struct) is 4.
            if kw.text.starts_with("__alignof") && target == crate::abi::Target::LinuxI386 {
                if let Some(Type::Prim { prim }) = self.resolve_scalar(&ty) {
                    if matches!(prim, Prim::Double | Prim::LongLong | Prim::ULongLong) {
                        return Some(8);
                    }
                }
            }
            return Some(l.align as i128);
        }
        if let Some(v) = self.sizeof_basic(t) {
            return Some(v);
        }
        let target = self.target?;
        let ty = self.type_from_tokens(t)?;
        crate::abi::type_layout(&self.spec, &ty, target)
            .ok()
            .map(|l| l.size as i128)
    }

    /// A typedef chain followed down to a non-typedef type (arrays to their element).
    fn resolve_scalar(&self, ty: &Type) -> Option<Type> {
        let mut ty = ty.clone();
        for _ in 0..64 {
            ty = match &ty {
                Type::Named { name } => self.spec.typedef(name)?.ty.ty.clone(),
                Type::Array { elem, .. } => elem.ty.clone(),
                _ => return Some(ty),
            };
        }
        None
    }

    /// A type name (`struct s`, `T`, `unsigned long`, followed by `*` and `[N]`) from constant-expression
    /// tokens, for `sizeof`/`_Alignof`; `None` for anything else (an expression operand).
    fn type_from_tokens(&self, t: &[Token]) -> Option<Type> {
        let mut i = 0;
        let mut words: Vec<String> = Vec::new();
        let mut base: Option<Type> = None;
        while let Some(tok) = t.get(i) {
            if tok.kind != Tk::Ident {
                break;
            }
            let s = &*tok.text;
            if is_qual(s).is_some() || s == "__extension__" {
                i += 1;
            } else if matches!(s, "struct" | "union" | "enum") {
                let tag = t.get(i + 1).filter(|x| x.kind == Tk::Ident)?;
                base = Some(match s {
                    "enum" => Type::Enum {
                        id: *self.enum_tags.get(&*tag.text)?,
                    },
                    _ => {
                        let kind = if s == "struct" {
                            RecordKind::Struct
                        } else {
                            RecordKind::Union
                        };
                        Type::Record {
                            id: *self.tags.get(&(kind, tag.text.to_string()))?,
                        }
                    }
                });
                i += 2;
            } else if is_type_keyword(s) {
                words.push(s.to_string());
                i += 1;
            } else if base.is_none() && words.is_empty() && self.typedef_names.contains(s) {
                base = Some(Type::Named {
                    name: s.to_string(),
                });
                i += 1;
            } else {
                return None;
            }
        }
        let mut ty = match base {
            Some(b) if words.is_empty() => b,
            None if !words.is_empty() => self.type_of_words(&words).ok()?,
            _ => return None,
        };
        while t.get(i).is_some_and(|x| x.is_punct("*")) {
            ty = Type::Pointer {
                pointee: Box::new(QualType::new(ty)),
            };
            i += 1;
        }
        let mut dims = Vec::new();
        while t.get(i).is_some_and(|x| x.is_punct("[")) {
            let close = i + t[i..].iter().position(|x| x.is_punct("]"))?;
            dims.push(u64::try_from(self.eval(&t[i + 1..close]).ok()?).ok()?);
            i = close + 1;
        }
        if i != t.len() {
            return None;
        }
        for n in dims.into_iter().rev() {
            ty = Type::Array {
                elem: Box::new(QualType::new(ty)),
                len: Some(n),
            };
        }
        Some(ty)
    }

    /// `__builtin_offsetof(type, a.b[2].c)` through the ABI engine.
    fn offsetof_tokens(&self, t: &[Token], target: crate::abi::Target) -> Option<i128> {
        let comma = t.iter().position(|x| x.is_punct(","))?;
        let mut ty = self.type_from_tokens(&t[..comma])?;
        let mut off: u64 = 0;
        let mut i = comma + 1;
        let mut want_name = true;
        while i < t.len() {
            let tok = &t[i];
            if want_name {
                if tok.kind != Tk::Ident {
                    return None;
                }
                let id = match self.resolve_scalar(&ty)? {
                    Type::Record { id } => id,
                    _ => return None,
                };
                let l = crate::abi::record_layout(&self.spec, id, target).ok()?;
                let (o, fty) = find_member(&self.spec, id, &l, &tok.text)?;
                off += o;
                ty = fty;
                want_name = false;
                i += 1;
            } else if tok.is_punct(".") {
                want_name = true;
                i += 1;
            } else if tok.is_punct("[") {
                let close = i + t[i..].iter().position(|x| x.is_punct("]"))?;
                let n = u64::try_from(self.eval(&t[i + 1..close]).ok()?).ok()?;
                let mut cur = ty.clone();
                for _ in 0..64 {
                    match cur {
                        Type::Named { ref name } if self.spec.typedef(name).is_some() => {
                            cur = self.spec.typedef(name)?.ty.ty.clone()
                        }
                        _ => break,
                    }
                }
                let Type::Array { elem, .. } = cur else {
                    return None;
                };
                let el = crate::abi::type_layout(&self.spec, &elem.ty, target).ok()?;
                off += n * el.size;
                ty = elem.ty;
                i = close + 1;
            } else {
                return None;
            }
        }
        if want_name {
            return None;
        }
        Some(off as i128)
    }

    /// `sizeof` of basic types, pointers, standard typedefs and user typedefs of those (no target needed).
    fn sizeof_basic(&self, t: &[Token]) -> Option<i128> {
        let mut words: Vec<&str> = Vec::new();
        let mut pointer = false;
        for tok in t {
            if tok.is_punct("*") {
                pointer = true;
            } else if tok.kind == Tk::Ident {
                words.push(&tok.text);
            } else {
                return None;
            }
        }
        if !pointer && words.len() == 1 && self.spec.typedef(words[0]).is_some() {
            // follow user typedefs down to a basic type, a pointer or a standard name
            let mut ty = self.spec.typedef(words[0])?.ty.clone();
            for _ in 0..64 {
                match &ty.ty {
                    Type::Named { name } => match self.spec.typedef(name) {
                        Some(td) => ty = td.ty.clone(),
                        None => return expr::sizeof_words(&[name.as_str()], false, &self.sizes),
                    },
                    Type::Pointer { .. } => return expr::sizeof_words(&[], true, &self.sizes),
                    Type::Prim { prim } => {
                        return expr::sizeof_words(prim_words(*prim), false, &self.sizes)
                    }
                    _ => return None,
                }
            }
            return None;
        }
        expr::sizeof_words(&words, pointer, &self.sizes)
    }

    fn pack_at(&self, idx: usize) -> Option<u32> {
        let n = self.packs.partition_point(|(i, _)| *i <= idx);
        if n == 0 {
            None
        } else {
            self.packs[n - 1].1
        }
    }

    // ---------------------------------------------------------------- attributes

    /// Consume attributes, calling conventions, `asm("…")` labels and nullability/pointer-size qualifiers.
    fn attributes(&mut self, attrs: &mut Attrs, cc: &mut Option<String>) -> Result<(), ParseError> {
        loop {
            let Some(t) = self.peek() else { return Ok(()) };
            if t.is_punct("[") && self.peek_at(1).is_some_and(|t| t.is_punct("[")) {
                self.skip_balanced()?;
                continue;
            }
            if t.kind != Tk::Ident {
                return Ok(());
            }
            match &*t.text {
                "__attribute__" | "__attribute" => {
                    self.pos += 1;
                    if !(self.is("(") && self.peek_at(1).is_some_and(|t| t.is_punct("("))) {
                        return Err(self.err("`((` after `__attribute__`"));
                    }
                    let start = self.pos;
                    self.skip_balanced()?;
                    let end = self.pos - 1;
                    self.parse_attr_items(start + 2, end.saturating_sub(1), attrs, cc);
                }
                "__declspec" => {
                    self.pos += 1;
                    if !self.is("(") {
                        return Err(self.err("`(` after `__declspec`"));
                    }
                    let start = self.pos;
                    self.skip_balanced()?;
                    self.parse_attr_items(start + 1, self.pos - 1, attrs, cc);
                }
                "__asm__" | "__asm" | "asm" | "_Pragma" | "__pragma" => {
                    self.pos += 1;
                    while self
                        .peek()
                        .is_some_and(|t| is_qual(&t.text) == Some("volatile"))
                    {
                        self.pos += 1;
                    }
                    if self.is("(") {
                        self.skip_balanced()?;
                    }
                }
                "_Alignas" | "alignas" => {
                    self.pos += 1;
                    if !self.is("(") {
                        return Err(self.err("`(` after `_Alignas`"));
                    }
                    let start = self.pos;
                    self.skip_balanced()?;
                    let inner = &self.toks[start + 1..self.pos - 1];
                    let v = self.eval(inner).ok().or_else(|| self.sizeof_tokens(inner));
                    match v {
                        Some(v) if v > 0 && v <= u32::MAX as i128 => {
                            attrs.aligned = attrs.aligned.max(Some(v as u32))
                        }
                        _ => self.note(t.loc, "`_Alignas` argument not evaluated; ignored".into()),
                    }
                }
                "__extension__" => self.pos += 1,
                s => {
                    if let Some(c) = callconv(s) {
                        *cc = Some(c.to_string());
                        self.pos += 1;
                    } else if is_qual(s) == Some("ignore") {
                        self.pos += 1;
                        // Apple Clang predefines `__nonnull` as `_Nonnull`, so glibc's `__nonnull ((1))` reads
                        // `_Nonnull ((1))` when the host's headers are parsed for a macOS target: skip the
                        // GNU attribute arguments rather than stop.
                        if matches!(s, "_Nonnull" | "_Nullable" | "_Null_unspecified")
                            && self.is("(")
                            && self.peek_at(1).is_some_and(|t| t.is_punct("("))
                        {
                            self.skip_balanced()?;
                        }
                    } else {
                        return Ok(());
                    }
                }
            }
        }
    }

    /// Items of `__attribute__((…))` / `__declspec(…)` between token indices `[start, end)`.
    fn parse_attr_items(
        &mut self,
        start: usize,
        end: usize,
        attrs: &mut Attrs,
        cc: &mut Option<String>,
    ) {
        let toks = &self.toks[start.min(end)..end];
        let mut i = 0;
        while i < toks.len() {
            let t = &toks[i];
            i += 1;
            if t.kind != Tk::Ident {
                continue;
            }
            let name = t.text.trim_start_matches("__").trim_end_matches("__");
            let mut args: &[Token] = &[];
            if toks.get(i).is_some_and(|x| x.is_punct("(")) {
                let mut depth = 0;
                let s = i;
                while i < toks.len() {
                    if toks[i].is_punct("(") {
                        depth += 1;
                    } else if toks[i].is_punct(")") {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    i += 1;
                }
                args = &toks[(s + 1).min(i)..i.min(toks.len())];
                i += 1;
            }
            match name {
                "packed" => attrs.packed = true,
                "aligned" | "align" => {
                    if args.is_empty() {
                        // `aligned` with no argument: the target's largest alignment (recorded as 0 when
                        // there is no target)
                        let a = self.target.map_or(0, |t| t.biggest_alignment());
                        attrs.aligned = attrs.aligned.max(Some(a));
                    } else {
                        match self.eval(args) {
                            Ok(v) if v > 0 && v <= u32::MAX as i128 => {
                                attrs.aligned = attrs.aligned.max(Some(v as u32))
                            }
                            _ => {
                                self.note(t.loc, "`aligned` argument not evaluated; ignored".into())
                            }
                        }
                    }
                }
                n => {
                    if let Some(c) = callconv(n) {
                        *cc = Some(c.to_string());
                    }
                }
            }
            while i < toks.len() && !toks[i].is_punct(",") {
                i += 1;
            }
        }
    }

    // ---------------------------------------------------------------- declaration specifiers

    fn is_type_start(&self, t: &Token) -> bool {
        t.kind == Tk::Ident
            && (is_type_keyword(&t.text)
                || matches!(
                    &*t.text,
                    "struct" | "union" | "enum" | "__attribute__" | "__declspec" | "_Alignas"
                )
                || is_qual(&t.text).is_some()
                || callconv(&t.text).is_some()
                || self.typedef_names.contains(&*t.text))
    }

    /// Declaration specifiers; `None` if the next token cannot start one.
    fn specs(&mut self, in_param: bool) -> Result<Option<Specs>, ParseError> {
        let start = self.pos;
        let mut storage = Storage::None;
        let mut inline = false;
        let mut quals = Quals::default();
        let mut cc = None;
        let mut attrs = Attrs::default();
        let mut words: Vec<String> = Vec::new();
        let mut named: Option<Type> = None;
        let mut cffi_unknown = None;
        let mut defined_record = None;
        loop {
            self.attributes(&mut attrs, &mut cc)?;
            let Some(t) = self.peek() else { break };
            if self.cffi && t.is_punct("...") && storage == Storage::Typedef && named.is_none() {
                // cffi's forms: `typedef ... t;`, `typedef int... t;` (any integer words), `typedef float... t;`
                // / `double...`; anything else (`void...`) is not one.
                let int_words = ["int", "long", "short", "signed", "unsigned", "char"];
                let ok = words.iter().all(|w| int_words.contains(&w.as_str()))
                    || matches!(words.as_slice(), [w] if w == "float" || w == "double");
                if !ok {
                    return Err(self.err(format!(
                        "`int...`, `float...`, `double...` or `...` (cffi's types of unknown size), not `{}...`",
                        words.join(" ")
                    )));
                }
                self.pos += 1;
                if words.is_empty() {
                    cffi_unknown = Some("...".to_string());
                    let id = self.new_record(RecordKind::Struct, None, t.loc);
                    named = Some(Type::Record { id });
                } else {
                    cffi_unknown = Some(format!("{}...", words.join(" ")));
                }
                continue;
            }
            if t.kind != Tk::Ident {
                break;
            }
            let s = &*t.text;
            match s {
                "typedef" => storage = Storage::Typedef,
                "extern" => {
                    storage = Storage::Extern;
                    if self.peek_at(1).is_some_and(|t| t.kind == Tk::Str) {
                        self.pos += 1; // extern "C" on one declaration
                    }
                }
                "static" => storage = Storage::Static,
                "auto" | "register" | "_Thread_local" | "__thread" | "thread_local"
                | "constexpr" => {
                    if storage == Storage::None {
                        storage = Storage::Other;
                    }
                }
                "inline" | "__inline" | "__inline__" | "__forceinline" => inline = true,
                "_Noreturn" | "noreturn" => {}
                "struct" | "union" | "enum" => {
                    if named.is_some() || !words.is_empty() {
                        return Err(self.err("one type in the declaration specifiers"));
                    }
                    let (ty, def) = if s == "enum" {
                        self.enum_spec()?
                    } else {
                        self.record_spec()?
                    };
                    defined_record = def;
                    named = Some(ty);
                    continue;
                }
                "__typeof__" | "typeof" | "__typeof" | "typeof_unqual" => {
                    return Err(self.err("a type this parser models (typeof is not supported)"));
                }
                _ => {
                    if let Some(q) = is_qual(s) {
                        match q {
                            "const" => quals.is_const = true,
                            "volatile" => quals.is_volatile = true,
                            _ => {}
                        }
                    } else if is_type_keyword(s)
                        && !(EXTENDED_FLOATS.contains(&s)
                            && (self.typedef_names.contains(s)
                                || named.is_some()
                                || words.iter().any(|w| w != "_Complex" && w != "__complex__")))
                    {
                        // (`typedef long double _Float128;`: a compiler without the keyword, e.g. Clang 14,
                        // gets it from glibc as a typedef)
                        if named.is_some() {
                            return Err(self.err("one type in the declaration specifiers"));
                        }
                        words.push(s.to_string());
                    } else if named.is_some() || !words.is_empty() {
                        break;
                    } else if self.typedef_names.contains(s) {
                        named = Some(Type::Named {
                            name: s.to_string(),
                        });
                    } else if self.unknown_type_name_here(in_param) {
                        if self.cffi {
                            // cffi knows only the cdef's own types and its standard ones
                            return Err(self.err(
                                "a type the cdef declares or one of cffi's standard types (cffi: unknown type name)",
                            ));
                        }
                        if self.noted_unknown.insert(s.to_string()) {
                            let msg = format!(
                                "unknown type name `{s}` (declared in a skipped include?) kept as a named type"
                            );
                            self.note(t.loc, msg);
                        }
                        named = Some(Type::Named {
                            name: s.to_string(),
                        });
                    } else {
                        break;
                    }
                }
            }
            self.pos += 1;
        }
        if self.pos == start {
            return Ok(None);
        }
        let ty = match named {
            Some(t) => t,
            // implicit int (`static x;`, `unsigned` handled below) — also what attributes-only specifiers give
            None if words.is_empty() => Type::Prim { prim: Prim::Int },
            None => self.type_of_words(&words)?,
        };
        Ok(Some(Specs {
            storage,
            inline,
            base: QualType { ty, quals },
            cc,
            attrs,
            cffi_unknown,
            defined_record,
        }))
    }

    /// An identifier that is not a known type, at a point where only a type name makes sense.
    fn unknown_type_name_here(&self, in_param: bool) -> bool {
        let Some(n) = self.peek_at(1) else {
            return false;
        };
        if n.kind == Tk::Ident {
            return is_qual(&n.text).is_some()
                || callconv(&n.text).is_some()
                || !self.is_type_start(n);
        }
        if n.is_punct("*") {
            return true;
        }
        if n.is_punct("(") {
            return self.peek_at(2).is_some_and(|t| {
                t.is_punct("*") || t.is_punct("^") || callconv(&t.text).is_some()
            });
        }
        in_param && (n.is_punct(",") || n.is_punct(")") || n.is_punct("["))
    }

    /// The type named by specifier keywords: a [`Prim`], or an extended floating or `_Complex` type as a
    /// [`Type::Named`] spelled `__float128`, `_Complex double`, `_Complex _Float128`, ….
    fn type_of_words(&self, words: &[String]) -> Result<Type, ParseError> {
        let complex = words.iter().any(|w| w == "_Complex" || w == "__complex__");
        let rest: Vec<String> = words
            .iter()
            .filter(|w| *w != "_Complex" && *w != "__complex__")
            .cloned()
            .collect();
        let ext = rest.iter().find(|w| EXTENDED_FLOATS.contains(&w.as_str()));
        if let Some(e) = ext {
            if rest.len() != 1 {
                return Err(ParseError {
                    loc: self.loc(self.here()),
                    expected: "a valid combination of type specifiers".into(),
                    found: format!("`{}`", words.join(" ")),
                });
            }
            let name = if complex {
                format!("_Complex {e}")
            } else {
                e.clone()
            };
            return Ok(Type::Named { name });
        }
        if !complex {
            return Ok(Type::Prim {
                prim: self.prim_of(words)?,
            });
        }
        // `_Complex` alone is `_Complex double`; `__complex__ int` is a GNU complex integer.
        let p = if rest.is_empty() {
            Prim::Double
        } else {
            self.prim_of(&rest)?
        };
        Ok(Type::Named {
            name: format!(
                "_Complex {}",
                super::c_spelling::type_name(&self.spec, &Type::Prim { prim: p })
            ),
        })
    }

    fn prim_of(&self, words: &[String]) -> Result<Prim, ParseError> {
        let c = |w: &str| words.iter().filter(|x| *x == w).count();
        let signed = c("signed") + c("__signed") + c("__signed__");
        let unsigned = c("unsigned");
        let sign = signed + unsigned;
        let longs = c("long");
        let bad = || {
            Err(ParseError {
                loc: self.loc(self.here()),
                expected: "a valid combination of type specifiers".into(),
                found: format!("`{}`", words.join(" ")),
            })
        };
        if sign > 1 || longs > 2 || c("_Complex") + c("__complex__") > 0 {
            return bad();
        }
        let mut base: Vec<&str> = words
            .iter()
            .map(String::as_str)
            .filter(|w| {
                !matches!(
                    *w,
                    "signed" | "__signed" | "__signed__" | "unsigned" | "long"
                )
            })
            .collect();
        base.sort_unstable();
        let u = unsigned > 0;
        let p = match (base.as_slice(), longs) {
            ([], 0) | (["int"], 0) => {
                if u {
                    Prim::UInt
                } else {
                    Prim::Int
                }
            }
            ([], 1) | (["int"], 1) => {
                if u {
                    Prim::ULong
                } else {
                    Prim::Long
                }
            }
            ([], 2) | (["int"], 2) => {
                if u {
                    Prim::ULongLong
                } else {
                    Prim::LongLong
                }
            }
            (["short"], 0) | (["int", "short"], 0) => {
                if u {
                    Prim::UShort
                } else {
                    Prim::Short
                }
            }
            (["char"], 0) => {
                if u {
                    Prim::UChar
                } else if signed > 0 {
                    Prim::SChar
                } else {
                    Prim::Char
                }
            }
            (["void"], 0) if sign == 0 => Prim::Void,
            (["_Bool"], 0) if sign == 0 => Prim::Bool,
            (["float"], 0) if sign == 0 => Prim::Float,
            (["double"], 0) if sign == 0 => Prim::Double,
            (["double"], 1) if sign == 0 => Prim::LongDouble,
            (["__int128"], 0) | (["__int128_t"], 0) => {
                if u {
                    Prim::UInt128
                } else {
                    Prim::Int128
                }
            }
            (["__uint128_t"], 0) if sign == 0 => Prim::UInt128,
            _ => return bad(),
        };
        Ok(p)
    }

    fn new_record(&mut self, kind: RecordKind, tag: Option<String>, at: TokLoc) -> usize {
        let loc = self.loc(at);
        self.spec.records.push(Record {
            kind,
            tag: tag.clone(),
            fields: Vec::new(),
            complete: false,
            partial: false,
            packed: false,
            pack: None,
            aligned: None,
            loc,
        });
        let id = self.spec.records.len() - 1;
        if let Some(t) = tag {
            self.tags.insert((kind, t), id);
        }
        id
    }

    /// `struct`/`union` specifier; returns the type and the id if this defined a body.
    fn record_spec(&mut self) -> Result<(Type, Option<usize>), ParseError> {
        let Some(kw) = self.peek() else {
            return Err(self.err("`struct` or `union`"));
        };
        self.pos += 1;
        let kind = if &*kw.text == "union" {
            RecordKind::Union
        } else {
            RecordKind::Struct
        };
        let mut attrs = Attrs::default();
        let mut cc = None;
        self.attributes(&mut attrs, &mut cc)?;
        let tag = match self.peek() {
            Some(t) if t.kind == Tk::Ident => {
                self.pos += 1;
                Some(t.text.to_string())
            }
            _ => None,
        };
        self.attributes(&mut attrs, &mut cc)?;
        if !self.is("{") {
            let Some(tag) = tag else {
                return Err(self.err(format!("a tag or `{{` after `{}`", kw.text)));
            };
            let id = match self.tags.get(&(kind, tag.clone())) {
                Some(&id) => id,
                None => self.new_record(kind, Some(tag), kw.loc),
            };
            return Ok((Type::Record { id }, None));
        }
        let brace = self.pos;
        self.pos += 1;
        let id = match tag.as_ref().and_then(|t| self.tags.get(&(kind, t.clone()))) {
            Some(&id) if !self.spec.records[id].complete => {
                let l = self.loc(kw.loc);
                self.spec.records[id].loc = l;
                id
            }
            _ => self.new_record(kind, tag, kw.loc),
        };
        // a struct level costs several stack frames: it counts thrice toward MAX_DEPTH (about 33 levels)
        self.enter()?;
        self.enter()?;
        self.enter()?;
        let mut fields = Vec::new();
        let mut partial = false;
        while !self.is("}") {
            if self.peek().is_none() {
                return Err(self.err("`}` to end the member list"));
            }
            if self.eat(";") {
                continue;
            }
            if self.cffi && self.is("...") && self.peek_at(1).is_some_and(|t| t.is_punct(";")) {
                self.pos += 2;
                partial = true;
                continue;
            }
            if self.is("_Static_assert") || self.is("static_assert") {
                self.pos += 1;
                if self.is("(") {
                    self.skip_balanced()?;
                }
                self.expect(";")?;
                continue;
            }
            self.member_decl(&mut fields)?;
        }
        self.pos += 1; // `}`
        self.leave();
        self.leave();
        self.leave();
        self.attributes(&mut attrs, &mut cc)?;
        let pack = self.pack_at(brace);
        let r = &mut self.spec.records[id];
        r.fields = fields;
        r.complete = true;
        r.partial = partial;
        r.packed |= attrs.packed;
        r.aligned = r.aligned.max(attrs.aligned);
        r.pack = pack;
        Ok((Type::Record { id }, Some(id)))
    }

    fn member_decl(&mut self, fields: &mut Vec<Field>) -> Result<(), ParseError> {
        let at = self.here();
        let Some(specs) = self.specs(false)? else {
            return Err(self.err("a member declaration"));
        };
        if specs.storage != Storage::None {
            return Err(ParseError {
                loc: self.loc(at),
                expected: "a member declaration".into(),
                found: "a storage class".into(),
            });
        }
        if self.eat(";") {
            // anonymous struct/union member (C11); a tagged nested declaration declares no member, except
            // with the Microsoft extensions Windows compilers have on (MSVC, and MinGW GCC's
            // `-fms-extensions`), where `struct T {…};` and a typedef name of a record are anonymous members
            let ms = self.target.is_some_and(|t| t.is_windows());
            let mut base = specs.base.clone();
            if ms {
                if let Some(rec @ Type::Record { .. }) = self.resolve_scalar(&base.ty) {
                    base.ty = rec;
                }
            }
            if let Type::Record { id } = base.ty {
                if self.spec.records[id].tag.is_none() || ms {
                    fields.push(Field {
                        name: None,
                        ty: base.clone(),
                        bits: None,
                        aligned: specs.attrs.aligned,
                        packed: specs.attrs.packed,
                        loc: self.loc(at),
                    });
                }
            }
            return Ok(());
        }
        loop {
            let floc = self.here();
            let (name, mut ty, mut attrs) = if self.is(":") {
                (None, specs.base.clone(), Attrs::default())
            } else {
                let (n, t, a) = self.declarator(specs.base.clone(), false)?;
                (n, t, a)
            };
            let mut bits = None;
            if self.eat(":") {
                let toks = self.expr_tokens(&[",", ";"])?;
                if toks.is_empty() {
                    return Err(self.err("a bitfield width"));
                }
                let v = self.eval(toks)?;
                if !(0..=128).contains(&v) {
                    return Err(ParseError {
                        loc: self.loc(toks[0].loc),
                        expected: "a bitfield width from 0 to 128".into(),
                        found: v.to_string(),
                    });
                }
                bits = Some(v as u32);
                let mut cc = None;
                self.attributes(&mut attrs, &mut cc)?;
            }
            if let Some(c) = &specs.cc {
                apply_cc(&mut ty, c);
            }
            attrs.merge(specs.attrs);
            let (loc, name) = match name {
                Some((n, l)) => (self.loc(l), Some(n)),
                None => (self.loc(floc), None),
            };
            fields.push(Field {
                name,
                ty,
                bits,
                aligned: attrs.aligned,
                packed: attrs.packed,
                loc,
            });
            if self.eat(",") {
                continue;
            }
            return self.expect(";");
        }
    }

    fn enum_spec(&mut self) -> Result<(Type, Option<usize>), ParseError> {
        let Some(kw) = self.peek() else {
            return Err(self.err("`enum`"));
        };
        self.pos += 1;
        let mut attrs = Attrs::default();
        let mut cc = None;
        self.attributes(&mut attrs, &mut cc)?;
        let tag = match self.peek() {
            Some(t) if t.kind == Tk::Ident => {
                self.pos += 1;
                Some(t.text.to_string())
            }
            _ => None,
        };
        self.attributes(&mut attrs, &mut cc)?;
        if self.is(":") && self.peek_at(1).is_some_and(|t| t.kind == Tk::Ident) {
            // C23 fixed underlying type: skipped (the ABI engine sizes enums from their values)
            self.pos += 1;
            while self.peek().is_some_and(|t| t.kind == Tk::Ident) {
                self.pos += 1;
            }
        }
        let existing = tag.as_ref().and_then(|t| self.enum_tags.get(t).copied());
        if !self.is("{") {
            if tag.is_none() {
                return Err(self.err("a tag or `{` after `enum`"));
            }
            let id = match existing {
                Some(id) => id,
                None => self.new_enum(tag, kw.loc),
            };
            return Ok((Type::Enum { id }, None));
        }
        self.pos += 1;
        let id = match existing {
            Some(id) if !self.spec.enums[id].complete => id,
            _ => self.new_enum(tag, kw.loc),
        };
        let mut variants = Vec::new();
        let mut partial = false;
        let mut next: Option<i128> = Some(0);
        loop {
            if self.eat("}") {
                break;
            }
            if self.cffi && self.is("...") {
                self.pos += 1;
                partial = true;
            } else {
                let Some(t) = self.peek().filter(|t| t.kind == Tk::Ident) else {
                    return Err(self.err("an enumerator name or `}`"));
                };
                self.pos += 1;
                let mut a = Attrs::default();
                let mut c = None;
                self.attributes(&mut a, &mut c)?;
                let mut value = next;
                if self.eat("=") {
                    if self.cffi && self.is("...") {
                        self.pos += 1;
                        value = None;
                        partial = true;
                    } else {
                        let toks = self.expr_tokens(&[",", "}"])?;
                        if toks.is_empty() {
                            return Err(self.err("an enumerator value"));
                        }
                        value = match self.eval(toks) {
                            Ok(v) => Some(v),
                            Err(e) => {
                                let msg = format!(
                                    "value of enumerator `{}` not evaluated: expected {}, found {}",
                                    t.text, e.expected, e.found
                                );
                                self.note(toks[0].loc, msg);
                                None
                            }
                        };
                    }
                }
                if let Some(v) = value {
                    self.enum_consts.insert(t.text.to_string(), v);
                }
                next = value.and_then(|v| v.checked_add(1));
                variants.push((t.text.to_string(), value));
            }
            if self.eat(",") {
                continue;
            }
            self.expect("}")?;
            break;
        }
        let e = &mut self.spec.enums[id];
        e.variants = variants;
        e.complete = true;
        e.partial = partial;
        self.attributes(&mut attrs, &mut cc)?;
        Ok((Type::Enum { id }, None))
    }

    fn new_enum(&mut self, tag: Option<String>, at: TokLoc) -> usize {
        let loc = self.loc(at);
        self.spec.enums.push(Enum {
            tag: tag.clone(),
            variants: Vec::new(),
            complete: false,
            partial: false,
            loc,
        });
        let id = self.spec.enums.len() - 1;
        if let Some(t) = tag {
            self.enum_tags.insert(t, id);
        }
        id
    }

    // ---------------------------------------------------------------- declarators

    /// Whether `(` at the current position opens a nested declarator (not a parameter list).
    fn nested_declarator_follows(&self) -> bool {
        let Some(n) = self.peek_at(1) else {
            return false;
        };
        if n.is_punct("*") || n.is_punct("^") || n.is_punct("(") {
            return true;
        }
        if n.kind != Tk::Ident {
            return false;
        }
        if callconv(&n.text).is_some()
            || matches!(&*n.text, "__attribute__" | "__attribute" | "__declspec")
        {
            return true;
        }
        !self.is_type_start(n) && !matches!(&*n.text, "register" | "static" | "extern")
    }

    /// A (possibly abstract) declarator applied to `base`: name with its location, type, attributes.
    fn declarator(&mut self, base: QualType, abstract_ok: bool) -> Result<Declarator, ParseError> {
        self.enter()?;
        let r = self.declarator_inner(base, abstract_ok);
        self.leave();
        r
    }

    fn declarator_inner(
        &mut self,
        base: QualType,
        abstract_ok: bool,
    ) -> Result<Declarator, ParseError> {
        let mut attrs = Attrs::default();
        let mut cc = None;
        self.attributes(&mut attrs, &mut cc)?;
        let mut ty = base;
        while self.is("*") || self.is("^") {
            self.pos += 1;
            ty = QualType::new(Type::Pointer {
                pointee: Box::new(ty),
            });
            loop {
                self.attributes(&mut attrs, &mut cc)?;
                match self.peek().and_then(|t| {
                    if t.kind == Tk::Ident {
                        is_qual(&t.text)
                    } else {
                        None
                    }
                }) {
                    Some("const") => ty.quals.is_const = true,
                    Some("volatile") => ty.quals.is_volatile = true,
                    Some(_) => {}
                    None => break,
                }
                self.pos += 1;
            }
        }
        let mut name = None;
        let mut inner = None;
        if self.is("(") && self.nested_declarator_follows() {
            inner = Some(self.pos + 1);
            self.skip_balanced()?;
        } else if let Some(t) = self.peek().filter(|t| t.kind == Tk::Ident) {
            if !self.is_type_start(t) {
                name = Some((t.text.to_string(), t.loc));
                self.pos += 1;
            } else if (self.typedef_names.contains(&*t.text)
                && (!abstract_ok
                    || self
                        .peek_at(1)
                        .is_some_and(|n| n.is_punct(",") || n.is_punct(")") || n.is_punct("["))))
                || EXTENDED_FLOATS.contains(&&*t.text)
            {
                // redeclaring a typedef name (`typedef unsigned long size_t;`), a parameter named like a
                // typedef (`IXMLDOMDocument **DOMDocument)`), or `typedef long double _Float128;`
                name = Some((t.text.to_string(), t.loc));
                self.pos += 1;
            }
        }
        // suffixes
        enum Suffix {
            Array(Option<u64>),
            Func(FnSig),
        }
        let mut suffixes = Vec::new();
        loop {
            if self.is("[") && !self.peek_at(1).is_some_and(|t| t.is_punct("[")) {
                let open = self.here();
                self.pos += 1;
                while self
                    .peek()
                    .is_some_and(|t| t.is("static") || is_qual(&t.text).is_some())
                {
                    self.pos += 1;
                }
                let len = if self.is("]") {
                    None
                } else if self.cffi && self.is("...") {
                    self.pos += 1;
                    self.note(
                        open,
                        "cffi array length `...` (taken from the library) recorded as unknown"
                            .into(),
                    );
                    None
                } else if self.is("*") && self.peek_at(1).is_some_and(|t| t.is_punct("]")) {
                    self.pos += 1;
                    None
                } else {
                    let toks = self.expr_tokens(&["]"])?;
                    let v = match self.eval(toks) {
                        Ok(v) => v,
                        // a parameter's array (a VLA like `int a[n]`) decays to a pointer: its length is moot
                        Err(_) if abstract_ok => -1,
                        Err(e) => return Err(e),
                    };
                    if v == -1 && abstract_ok {
                        self.expect("]")?;
                        suffixes.push(Suffix::Array(None));
                        continue;
                    }
                    if v < 0 || v > u64::MAX as i128 {
                        return Err(ParseError {
                            loc: self.loc(toks[0].loc),
                            expected: "a non-negative array length".into(),
                            found: v.to_string(),
                        });
                    }
                    Some(v as u64)
                };
                self.expect("]")?;
                suffixes.push(Suffix::Array(len));
            } else if self.is("(") {
                let sig = self.params()?;
                suffixes.push(Suffix::Func(sig));
            } else {
                break;
            }
        }
        for s in suffixes.into_iter().rev() {
            ty = match s {
                Suffix::Array(len) => QualType::new(Type::Array {
                    elem: Box::new(ty),
                    len,
                }),
                Suffix::Func(mut sig) => {
                    sig.ret = ty;
                    QualType::new(Type::Function { sig: Box::new(sig) })
                }
            };
        }
        if let Some(start) = inner {
            let save = self.pos;
            self.pos = start;
            let (n, t, a) = self.declarator(ty, abstract_ok)?;
            self.expect(")")?;
            self.pos = save;
            name = n;
            ty = t;
            attrs.merge(a);
        }
        self.attributes(&mut attrs, &mut cc)?;
        if let Some(c) = cc {
            apply_cc(&mut ty, &c);
        }
        if name.is_none() && !abstract_ok {
            return Err(self.err("an identifier"));
        }
        Ok((name, ty, attrs))
    }

    /// At `(`: a parameter list.
    fn params(&mut self) -> Result<FnSig, ParseError> {
        self.expect("(")?;
        self.enter()?;
        let mut sig = FnSig {
            ret: QualType::new(Type::Prim { prim: Prim::Void }),
            params: Vec::new(),
            variadic: false,
            unprototyped: false,
            callconv: None,
        };
        if self.eat(")") {
            // cffi reads `f()` as `f(void)`
            sig.unprototyped = !self.cffi;
            self.leave();
            return Ok(sig);
        }
        if self.is("void") && self.peek_at(1).is_some_and(|t| t.is_punct(")")) {
            self.pos += 2;
            self.leave();
            return Ok(sig);
        }
        if self.cffi && self.is("...") {
            // cffi: "a function with only '(...)' as argument is not correct C code"
            return Err(self.err("a named parameter before `...` (C and cffi need one)"));
        }
        loop {
            if self.eat("...") {
                sig.variadic = true;
                self.expect(")")?;
                break;
            }
            let Some(specs) = self.specs(true)? else {
                return Err(self.err("a parameter declaration"));
            };
            let (name, mut ty, _) = self.declarator(specs.base.clone(), true)?;
            if let Some(c) = &specs.cc {
                apply_cc(&mut ty, c);
            }
            sig.params.push(Param {
                name: name.map(|n| n.0),
                ty,
            });
            if self.eat(",") {
                continue;
            }
            self.expect(")")?;
            break;
        }
        self.leave();
        Ok(sig)
    }

    // ---------------------------------------------------------------- external declarations

    /// The function type behind a declarator type (directly, or through a typedef of a function type).
    fn function_sig(&self, ty: &QualType) -> Option<FnSig> {
        let mut t = ty.clone();
        for _ in 0..64 {
            match &t.ty {
                Type::Function { sig } => return Some((**sig).clone()),
                Type::Named { name } if self.user_typedefs.contains(name) => {
                    t = self.spec.typedef(name)?.ty.clone()
                }
                _ => return None,
            }
        }
        None
    }

    fn external_decl(&mut self) -> Result<(), ParseError> {
        let Some(t) = self.peek() else { return Ok(()) };
        if self.eat(";") {
            return Ok(());
        }
        if t.is("extern")
            && self.peek_at(1).is_some_and(|t| t.kind == Tk::Str)
            && self.peek_at(2).is_some_and(|t| t.is_punct("{"))
        {
            self.pos += 3;
            self.extern_c += 1;
            return Ok(());
        }
        if t.is_punct("}") && self.extern_c > 0 {
            self.pos += 1;
            self.extern_c -= 1;
            return Ok(());
        }
        if t.is("_Static_assert") || t.is("static_assert") {
            self.pos += 1;
            if self.is("(") {
                self.skip_balanced()?;
            }
            return self.expect(";");
        }
        if (t.is("__asm__") || t.is("asm") || t.is("__asm"))
            && self.peek_at(1).is_some_and(|t| t.is_punct("("))
        {
            self.pos += 1;
            self.skip_balanced()?;
            return Ok(());
        }
        let start = self.here();
        let Some(specs) = self.specs(false)? else {
            return Err(self.err("a declaration"));
        };
        if self.eat(";") {
            if let Some(id) = specs.defined_record {
                let r = &mut self.spec.records[id];
                r.packed |= specs.attrs.packed;
                r.aligned = r.aligned.max(specs.attrs.aligned);
            }
            if specs.cffi_unknown.is_some() {
                return Err(ParseError {
                    loc: self.loc(start),
                    expected: "a typedef name after `...`".into(),
                    found: "`;`".into(),
                });
            }
            return Ok(());
        }
        loop {
            let (name, mut ty, attrs) = self.declarator(specs.base.clone(), false)?;
            let Some((name, nloc)) = name else {
                return Err(self.err("an identifier"));
            };
            if let Some(c) = &specs.cc {
                apply_cc(&mut ty, c);
            }
            let loc = self.loc(nloc);
            if specs.storage == Storage::Typedef {
                if let Some(id) = specs.defined_record {
                    let r = &mut self.spec.records[id];
                    r.packed |= specs.attrs.packed;
                }
                if attrs.packed {
                    self.note(
                        nloc,
                        format!("packing attribute on typedef `{name}` is not modelled"),
                    );
                }
                // `aligned` among the specifiers (before `struct`) or after the name belongs to the typedef.
                let aligned = match (specs.attrs.aligned, attrs.aligned) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                self.typedef_names.insert(name.clone());
                if self.user_typedefs.insert(name.clone()) {
                    self.spec.typedefs.push(Typedef {
                        name,
                        ty,
                        cffi_unknown: specs.cffi_unknown.clone(),
                        aligned,
                        loc,
                    });
                }
            } else if let Some(sig) = self.function_sig(&ty) {
                if self.is("{") {
                    if self.cffi {
                        // cffi: "this construct is valid C but not valid in cdef()"
                        return Err(
                            self.err("`;` (a cdef declares functions, it has no function bodies)")
                        );
                    }
                    // a definition: `static inline` helpers are skipped with their bodies
                    self.skip_balanced()?;
                    if specs.storage != Storage::Static
                        && !specs.inline
                        && self.fn_names.insert(name.clone())
                    {
                        self.spec.functions.push(Function { name, sig, loc });
                    }
                    return Ok(());
                }
                if specs.storage != Storage::Static && self.fn_names.insert(name.clone()) {
                    self.spec.functions.push(Function { name, sig, loc });
                }
            } else if specs.storage == Storage::Static {
                if self.cffi && ty.quals.is_const {
                    self.spec.constants.push(Constant {
                        name,
                        value: None,
                        loc,
                    });
                }
            } else if self.var_names.insert(name.clone()) {
                self.spec.variables.push(Variable { name, ty, loc });
            }
            if self.eat("=") {
                self.expr_tokens(&[",", ";"])?;
            }
            if self.eat(",") {
                continue;
            }
            return self.expect(";");
        }
    }
}
