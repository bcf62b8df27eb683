//! Integer constant expressions: `#if` conditions, `#define` constants, enumerator values, array sizes, bitfield
//! widths and `aligned(n)` arguments.
//!
//! Values are computed in `i128` and narrowed to a C-like type (`int` = 32 bits, `long`/`long long` = 64 bits,
//! with signedness) so `~0U`, `-1U` and `0xFFFFFFFF` behave as in C; `long` itself is taken as 64 bits. In `#if`
//! mode every value is `intmax_t`/`uintmax_t` (64 bits) and unknown identifiers are 0; otherwise an unknown
//! identifier makes the expression non-constant. `sizeof(type)`, `_Alignof`/`__alignof__(type)` and
//! `__builtin_offsetof(type, member)` are evaluated only through the caller's callback (the parser answers
//! basic types from the target's `__SIZEOF_*__` macros and any complete type through the ABI engine when it
//! knows the target); floating-point and pointer values are not constant here (an error the caller may turn
//! into a note).

use super::lex::{Tk, Token};
use std::collections::HashMap;

/// A typed integer value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Val {
    pub v: i128,
    pub uns: bool,
    pub bits: u32,
}

impl Val {
    fn int(v: i128) -> Val {
        Val {
            v,
            uns: false,
            bits: 32,
        }
    }
    fn norm(v: i128, bits: u32, uns: bool) -> Val {
        let bits = bits.clamp(1, 64);
        let m = 1i128 << bits;
        let mut x = v.rem_euclid(m);
        if !uns && x >= m / 2 {
            x -= m;
        }
        Val { v: x, uns, bits }
    }
}

/// An evaluation failure: the token index where it happened (`toks.len()` for the end) and what was expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError {
    pub at: usize,
    pub expected: String,
}

/// How identifiers are resolved.
pub struct Ctx<'a> {
    /// `#if` semantics: unknown identifiers are 0 and all arithmetic is 64-bit.
    pub pp: bool,
    /// Value of a named constant (an enumerator), if known.
    pub ident: &'a dyn Fn(&str) -> Option<i128>,
    /// Whether an identifier names a type (for casts).
    pub is_type: &'a dyn Fn(&str) -> bool,
    /// `sizeof(type-name)` given the tokens between the parentheses, if the target's size is known. For
    /// `_Alignof`/`alignof`/`__alignof__`/`__alignof` and `__builtin_offsetof` the tokens start with that
    /// keyword (then the tokens between the parentheses).
    pub sizeof: &'a dyn Fn(&[Token]) -> Option<i128>,
}

/// Size of a type named by keywords or a standard typedef (`pointer`: the name ends in `*`), from the target's
/// `__SIZEOF_*__` macros (`sizes`, as the caller's target defines give them). `None` when unknown.
pub fn sizeof_words(words: &[&str], pointer: bool, sizes: &HashMap<String, i128>) -> Option<i128> {
    let get = |k: &str| sizes.get(k).copied();
    if pointer {
        return get("__SIZEOF_POINTER__");
    }
    let has = |w: &str| words.contains(&w);
    let longs = words.iter().filter(|w| **w == "long").count();
    let rest: Vec<&str> = words
        .iter()
        .copied()
        .filter(|w| !matches!(*w, "const" | "volatile" | "signed" | "unsigned" | "long"))
        .collect();
    if has("void") || has("struct") || has("union") || has("enum") {
        return None;
    }
    if has("char") || has("_Bool") || has("bool") {
        return Some(1);
    }
    if has("short") {
        return get("__SIZEOF_SHORT__");
    }
    if has("double") {
        return get(if longs > 0 {
            "__SIZEOF_LONG_DOUBLE__"
        } else {
            "__SIZEOF_DOUBLE__"
        });
    }
    if has("float") {
        return get("__SIZEOF_FLOAT__");
    }
    if rest.is_empty() || rest == ["int"] {
        return match longs {
            0 => get("__SIZEOF_INT__"),
            1 => get("__SIZEOF_LONG__"),
            _ => get("__SIZEOF_LONG_LONG__"),
        };
    }
    if rest.len() != 1 || longs > 0 {
        return None;
    }
    match rest[0] {
        "__int128" | "__int128_t" | "__uint128_t" => Some(16),
        "size_t" | "ssize_t" => get("__SIZEOF_SIZE_T__"),
        "ptrdiff_t" => get("__SIZEOF_PTRDIFF_T__"),
        "wchar_t" => get("__SIZEOF_WCHAR_T__"),
        "wint_t" => get("__SIZEOF_WINT_T__"),
        "intptr_t" | "uintptr_t" => get("__SIZEOF_POINTER__"),
        "char16_t" => Some(2),
        "char32_t" => Some(4),
        w => {
            let n = w
                .strip_prefix('u')
                .unwrap_or(w)
                .strip_prefix("int")?
                .strip_suffix("_t")?;
            let n = n.strip_prefix("_least").unwrap_or(n);
            match n.parse::<i128>() {
                Ok(b @ (8 | 16 | 32 | 64)) => Some(b / 8),
                _ => None,
            }
        }
    }
}

/// Evaluate all of `toks` as one constant expression.
pub fn eval(toks: &[Token], ctx: &Ctx) -> Result<i128, EvalError> {
    let mut p = P {
        t: toks,
        i: 0,
        ctx,
        depth: 0,
    };
    let v = p.cond(true)?;
    if p.i < toks.len() {
        return Err(p.err("end of expression"));
    }
    Ok(v.v)
}

struct P<'a, 'b> {
    t: &'a [Token],
    i: usize,
    ctx: &'a Ctx<'b>,
    depth: u32,
}

const TYPE_WORDS: &[&str] = &[
    "int", "unsigned", "signed", "char", "short", "long", "void", "_Bool", "const", "volatile",
    "float", "double", "struct", "union", "enum", "__int128",
];

impl P<'_, '_> {
    fn err(&self, expected: &str) -> EvalError {
        EvalError {
            at: self.i,
            expected: expected.to_string(),
        }
    }
    fn peek(&self) -> Option<&Token> {
        self.t.get(self.i)
    }
    fn peek_is(&self, p: &str) -> bool {
        self.peek().is_some_and(|t| t.is_punct(p))
    }
    fn bits(&self, b: u32) -> u32 {
        if self.ctx.pp {
            64
        } else {
            b
        }
    }

    fn cond(&mut self, live: bool) -> Result<Val, EvalError> {
        self.depth += 1;
        if self.depth > 200 {
            return Err(self.err("a less deeply nested expression"));
        }
        let c = self.binary(0, live)?;
        let r = if self.peek_is("?") {
            self.i += 1;
            let a = self.cond(live && c.v != 0)?;
            if !self.peek_is(":") {
                return Err(self.err("`:`"));
            }
            self.i += 1;
            let b = self.cond(live && c.v == 0)?;
            let (bits, uns) = common(a, b);
            let x = if c.v != 0 { a.v } else { b.v };
            Val::norm(x, bits, uns)
        } else {
            c
        };
        self.depth -= 1;
        Ok(r)
    }

    fn binary(&mut self, min: u8, live: bool) -> Result<Val, EvalError> {
        let mut lhs = self.unary(live)?;
        while let Some(t) = self.peek() {
            if t.kind != Tk::Punct {
                break;
            }
            let op = t.text.clone();
            let prec = match &*op {
                "||" => 1,
                "&&" => 2,
                "|" => 3,
                "^" => 4,
                "&" => 5,
                "==" | "!=" => 6,
                "<" | ">" | "<=" | ">=" => 7,
                "<<" | ">>" => 8,
                "+" | "-" => 9,
                "*" | "/" | "%" => 10,
                _ => break,
            };
            if prec <= min {
                break;
            }
            let at = self.i;
            self.i += 1;
            let rlive = match &*op {
                "||" => live && lhs.v == 0,
                "&&" => live && lhs.v != 0,
                _ => live,
            };
            let rhs = self.binary(prec, rlive)?;
            lhs = self.apply(&op, lhs, rhs, live, at)?;
        }
        Ok(lhs)
    }

    fn apply(&self, op: &str, a: Val, b: Val, live: bool, at: usize) -> Result<Val, EvalError> {
        let (bits, uns) = common(a, b);
        let (x, y) = (Val::norm(a.v, bits, uns).v, Val::norm(b.v, bits, uns).v);
        let r = match op {
            "||" => Val::int((a.v != 0 || b.v != 0) as i128),
            "&&" => Val::int((a.v != 0 && b.v != 0) as i128),
            "|" => Val::norm(x | y, bits, uns),
            "^" => Val::norm(x ^ y, bits, uns),
            "&" => Val::norm(x & y, bits, uns),
            "==" => Val::int((x == y) as i128),
            "!=" => Val::int((x != y) as i128),
            "<" => Val::int((x < y) as i128),
            ">" => Val::int((x > y) as i128),
            "<=" => Val::int((x <= y) as i128),
            ">=" => Val::int((x >= y) as i128),
            "<<" | ">>" => {
                let l = Val::norm(a.v, self.bits(a.bits.max(32)), a.uns);
                let s = b.v;
                let v = if !(0..128).contains(&s) {
                    0
                } else if op == "<<" {
                    l.v.checked_shl(s as u32).unwrap_or(0)
                } else {
                    l.v >> s
                };
                Val::norm(v, l.bits, l.uns)
            }
            "+" => Val::norm(x.wrapping_add(y), bits, uns),
            "-" => Val::norm(x.wrapping_sub(y), bits, uns),
            "*" => Val::norm(x.wrapping_mul(y), bits, uns),
            "/" | "%" => {
                if y == 0 {
                    if live {
                        return Err(EvalError {
                            at,
                            expected: "a non-zero divisor".into(),
                        });
                    }
                    Val::int(0)
                } else if op == "/" {
                    Val::norm(x.wrapping_div(y), bits, uns)
                } else {
                    Val::norm(x.wrapping_rem(y), bits, uns)
                }
            }
            _ => {
                return Err(EvalError {
                    at,
                    expected: "an operator".into(),
                })
            }
        };
        Ok(if self.ctx.pp {
            Val { bits: 64, ..r }
        } else {
            r
        })
    }

    fn unary(&mut self, live: bool) -> Result<Val, EvalError> {
        self.depth += 1;
        if self.depth > 400 {
            return Err(self.err("a less deeply nested expression"));
        }
        let r = self.unary_inner(live);
        self.depth -= 1;
        r
    }

    fn unary_inner(&mut self, live: bool) -> Result<Val, EvalError> {
        let Some(t) = self.peek().cloned() else {
            return Err(self.err("an integer constant expression"));
        };
        if t.kind == Tk::Punct {
            match &*t.text {
                "+" | "-" | "~" | "!" => {
                    self.i += 1;
                    let v = self.unary(live)?;
                    let bits = self.bits(v.bits.max(32));
                    return Ok(match &*t.text {
                        "+" => Val::norm(v.v, bits, v.uns),
                        "-" => Val::norm(v.v.wrapping_neg(), bits, v.uns),
                        "~" => Val::norm(!v.v, bits, v.uns),
                        _ => Val {
                            v: (v.v == 0) as i128,
                            uns: false,
                            bits: self.bits(32),
                        },
                    });
                }
                "(" => {
                    self.i += 1;
                    if let Some(cast) = self.try_cast()? {
                        let v = self.unary(live)?;
                        return Ok(match cast {
                            Some((bits, uns)) => Val::norm(v.v, self.bits(bits), uns),
                            None => v,
                        });
                    }
                    let mut v = self.cond(live)?;
                    while self.peek_is(",") {
                        self.i += 1;
                        v = self.cond(live)?;
                    }
                    if !self.peek_is(")") {
                        return Err(self.err("`)`"));
                    }
                    self.i += 1;
                    return Ok(v);
                }
                _ => return Err(self.err("an integer constant expression")),
            }
        }
        match t.kind {
            Tk::Number => {
                let v = parse_number(&t.text).ok_or_else(|| self.err("an integer constant"))?;
                self.i += 1;
                Ok(if self.ctx.pp {
                    Val { bits: 64, ..v }
                } else {
                    v
                })
            }
            Tk::Char => {
                let v = parse_char(&t.text).ok_or_else(|| self.err("a character constant"))?;
                self.i += 1;
                Ok(Val {
                    v,
                    uns: false,
                    bits: self.bits(32),
                })
            }
            Tk::Ident => {
                if matches!(
                    &*t.text,
                    "sizeof"
                        | "_Alignof"
                        | "__alignof__"
                        | "__alignof"
                        | "alignof"
                        | "__builtin_offsetof"
                ) && self.t.get(self.i + 1).is_some_and(|t| t.is_punct("("))
                {
                    if let Some(v) = self.try_sizeof() {
                        return Ok(Val {
                            v,
                            uns: true,
                            bits: 64,
                        });
                    }
                }
                if matches!(
                    &*t.text,
                    "sizeof" | "_Alignof" | "__alignof__" | "alignof" | "__builtin_offsetof"
                ) {
                    return Err(self.err(
                        "an integer constant expression (sizeof/_Alignof/offsetof of a complete type \
                         the parser knows, with a target to lay it out)",
                    ));
                }
                self.i += 1;
                if let Some(v) = (self.ctx.ident)(&t.text) {
                    let bits = if v > i32::MAX as i128 || v < i32::MIN as i128 {
                        64
                    } else {
                        32
                    };
                    return Ok(Val::norm(v, self.bits(bits), false));
                }
                if self.ctx.pp {
                    // `true`/`false` are 1/0 in #if since C23 and C++
                    let v = (&*t.text == "true") as i128;
                    return Ok(Val {
                        v,
                        uns: false,
                        bits: 64,
                    });
                }
                self.i -= 1;
                Err(self.err("an integer constant expression"))
            }
            _ => Err(self.err("an integer constant expression")),
        }
    }

    /// At `sizeof (`: the size through the callback, consuming through `)`.
    fn try_sizeof(&mut self) -> Option<i128> {
        let open = self.i + 1;
        let mut depth = 0usize;
        let mut j = open;
        while j < self.t.len() {
            if self.t[j].is_punct("(") {
                depth += 1;
            } else if self.t[j].is_punct(")") {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            j += 1;
        }
        if j >= self.t.len() {
            return None;
        }
        let kw = &self.t[self.i];
        let v = if &*kw.text == "sizeof" {
            (self.ctx.sizeof)(&self.t[open + 1..j])?
        } else {
            let mut toks = vec![kw.clone()];
            toks.extend_from_slice(&self.t[open + 1..j]);
            (self.ctx.sizeof)(&toks)?
        };
        self.i = j + 1;
        Some(v)
    }

    /// After `(`: a type name and `)` make a cast. Returns `Some(Some((bits, unsigned)))` for an integer type that
    /// narrows, `Some(None)` for one that does not (unknown width), `None` if this is not a cast.
    #[allow(clippy::type_complexity)]
    fn try_cast(&mut self) -> Result<Option<Option<(u32, bool)>>, EvalError> {
        let Some(first) = self.peek() else {
            return Ok(None);
        };
        if first.kind != Tk::Ident
            || !(TYPE_WORDS.contains(&&*first.text)
                || (!self.ctx.pp && (self.ctx.is_type)(&first.text)))
        {
            return Ok(None);
        }
        let start = self.i;
        let mut words = Vec::new();
        while let Some(t) = self.peek() {
            if t.kind == Tk::Ident {
                words.push(t.text.to_string());
            } else if t.is_punct("*") {
                return Err(self.err("an integer (not a pointer) constant"));
            } else if t.is_punct(")") {
                break;
            } else {
                self.i = start;
                return Ok(None);
            }
            self.i += 1;
        }
        if !self.peek_is(")") {
            return Err(self.err("`)`"));
        }
        self.i += 1;
        let has = |w: &str| words.iter().any(|x| x == w);
        if has("float") || has("double") {
            return Err(EvalError {
                at: start,
                expected: "an integer type".into(),
            });
        }
        let uns = has("unsigned");
        let longs = words.iter().filter(|w| *w == "long").count();
        let r = if has("char") {
            Some((8, uns))
        } else if has("short") {
            Some((16, uns))
        } else if longs >= 2 {
            Some((64, uns))
        } else if longs == 1 {
            None
        } else if has("int") || has("unsigned") || has("signed") {
            Some((32, uns))
        } else if words.len() == 1 {
            let w = &words[0];
            let fixed = w
                .strip_prefix("uint")
                .map(|r| (r, true))
                .or_else(|| w.strip_prefix("int").map(|r| (r, false)));
            match fixed.and_then(|(r, u)| {
                r.strip_suffix("_t")
                    .and_then(|n| n.parse::<u32>().ok())
                    .map(|n| (n, u))
            }) {
                Some((n, u)) if [8, 16, 32, 64].contains(&n) => Some((n, u)),
                _ => None,
            }
        } else {
            None
        };
        Ok(Some(r))
    }
}

fn common(a: Val, b: Val) -> (u32, bool) {
    let bits = a.bits.max(b.bits).max(32);
    let uns = (a.uns && a.bits >= bits) || (b.uns && b.bits >= bits);
    (bits, uns)
}

/// Parse an integer literal with C suffixes.
pub fn parse_number(s: &str) -> Option<Val> {
    let s: String = s.chars().filter(|&c| c != '\'').collect();
    let lower = s.to_ascii_lowercase();
    let (digits, radix) = if let Some(r) = lower.strip_prefix("0x") {
        (r.to_string(), 16)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (r.to_string(), 2)
    } else if lower.starts_with('0') && lower.len() > 1 {
        (lower[1..].to_string(), 8)
    } else {
        (lower.clone(), 10)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let (num, suffix) = digits.split_at(end);
    let num = if num.is_empty() && radix == 8 {
        "0"
    } else {
        num
    };
    if num.is_empty() {
        return None;
    }
    let (uns_s, longs) = match suffix {
        "" => (false, 0),
        "u" => (true, 0),
        "l" => (false, 1),
        "ul" | "lu" => (true, 1),
        "ll" => (false, 2),
        "ull" | "llu" => (true, 2),
        "i64" => (false, 2),
        "ui64" => (true, 2),
        _ => return None,
    };
    let v = u64::from_str_radix(num, radix).ok()? as i128;
    let fits_i32 = v <= i32::MAX as i128;
    let fits_u32 = v <= u32::MAX as i128;
    let fits_i64 = v <= i64::MAX as i128;
    let (bits, uns) = if longs == 0 && (fits_i32 || (uns_s && fits_u32)) {
        (32, uns_s)
    } else if longs == 0 && radix != 10 && fits_u32 {
        (32, true)
    } else if fits_i64 {
        (64, uns_s)
    } else {
        (64, true)
    };
    Some(Val { v, uns, bits })
}

/// Value of a character constant (`'a'`, `'\n'`, `L'\x41'`, multi-character constants combined big-endian).
pub fn parse_char(s: &str) -> Option<i128> {
    let q = s.find('\'')?;
    let wide = q > 0;
    let body: Vec<char> = s.get(q + 1..s.len().checked_sub(1)?)?.chars().collect();
    let mut vals = Vec::new();
    let mut i = 0;
    while i < body.len() {
        let c = body[i];
        if c != '\\' {
            vals.push(c as i128);
            i += 1;
            continue;
        }
        i += 1;
        let e = *body.get(i)?;
        i += 1;
        let v = match e {
            'n' => 10,
            't' => 9,
            'r' => 13,
            'a' => 7,
            'b' => 8,
            'f' => 12,
            'v' => 11,
            'e' => 27,
            'x' => {
                let mut v: i128 = 0;
                let mut any = false;
                while i < body.len() && body[i].is_ascii_hexdigit() {
                    v = v
                        .checked_mul(16)?
                        .checked_add(body[i].to_digit(16)? as i128)?;
                    i += 1;
                    any = true;
                }
                if !any {
                    return None;
                }
                v
            }
            '0'..='7' => {
                let mut v = e.to_digit(8)? as i128;
                let mut n = 1;
                while n < 3 && i < body.len() && body[i].is_digit(8) {
                    v = v * 8 + body[i].to_digit(8)? as i128;
                    i += 1;
                    n += 1;
                }
                v
            }
            other => other as i128,
        };
        vals.push(v);
    }
    if vals.is_empty() {
        return None;
    }
    if wide || vals.len() == 1 {
        let v = *vals.last()?;
        // plain char: a byte value; treated as signed char like x86 (escapes above 127 wrap)
        return Some(if !wide && v > 127 && v < 256 {
            v - 256
        } else {
            v
        });
    }
    let mut v: i128 = 0;
    for x in vals {
        v = ((v << 8) | (x & 0xff)) & 0xffff_ffff;
    }
    Some(Val::norm(v, 32, false).v)
}

#[cfg(test)]
mod tests {
    use super::super::lex::lex;
    use super::*;

    fn ev(s: &str, pp: bool) -> Result<i128, EvalError> {
        let toks = lex(s, 0).tokens;
        let id = |n: &str| if n == "A" { Some(5) } else { None };
        let ty = |n: &str| n == "uLong";
        let sizes: HashMap<String, i128> =
            [("__SIZEOF_LONG__".to_string(), 8)].into_iter().collect();
        let so = |t: &[Token]| {
            let w: Vec<&str> = t
                .iter()
                .filter(|t| t.kind == Tk::Ident)
                .map(|t| &*t.text)
                .collect();
            sizeof_words(&w, t.iter().any(|t| t.is_punct("*")), &sizes)
        };
        eval(
            &toks,
            &Ctx {
                pp,
                ident: &id,
                is_type: &ty,
                sizeof: &so,
            },
        )
    }

    #[test]
    fn arithmetic() {
        assert_eq!(ev("1 + 2 * 3 - (4 << 2) / 2", false), Ok(-1));
        assert_eq!(ev("(-1)", false), Ok(-1));
        assert_eq!(ev("~0U", false), Ok(0xffff_ffff));
        assert_eq!(ev("-1U", false), Ok(0xffff_ffff));
        assert_eq!(ev("0x12d0", false), Ok(0x12d0));
        assert_eq!(ev("1ULL << 40", false), Ok(1 << 40));
        assert_eq!(ev("A * 2 + 'a'", false), Ok(107));
        assert_eq!(ev("1 ? 2 : 3", false), Ok(2));
        assert_eq!(ev("0 && 1/0", false), Ok(0));
        assert_eq!(ev("(unsigned char)257", false), Ok(1));
        assert_eq!(ev("(uLong)3", false), Ok(3));
        assert_eq!(ev("'\\n' + '\\x41' + '\\0'", false), Ok(75));
        assert_eq!(ev("0x7fffffff + 1 > 0", false), Ok(0)); // int overflow wraps like gcc
        assert_eq!(ev("-1 < 0u", false), Ok(0));
        assert_eq!(ev("-1 < 0u", true), Ok(0));
        assert_eq!(ev("-1 < 0", true), Ok(1));
        assert_eq!(ev("1024 / (8 * sizeof (unsigned long int))", false), Ok(16));
        assert_eq!(ev("sizeof(uint32_t) + sizeof(char)", false), Ok(5));
    }

    #[test]
    fn pp_mode_unknowns_are_zero() {
        assert_eq!(ev("FOO + 1", true), Ok(1));
        assert!(ev("FOO + 1", false).is_err());
        assert!(ev("1 / 0", true).is_err());
        assert!(ev("sizeof(int)", false).is_err()); // __SIZEOF_INT__ not supplied
        assert!(ev("((void*)0)", false).is_err());
        assert!(ev("1.5", false).is_err());
        assert!(ev("1 +", false).is_err());
        assert!(ev("(1", false).is_err());
        assert!(ev("1 2", false).is_err());
        assert!(ev("sizeof(", false).is_err());
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let s = "(".repeat(5000) + "1" + &")".repeat(5000);
        assert!(ev(&s, false).is_err());
        let s = "-".repeat(5000) + "1";
        assert!(ev(&s, false).is_err());
    }
}
