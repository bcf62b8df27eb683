//! C tokenizer shared by the preprocessor and the declaration parser.
//!
//! Handles `/* */` and `//` comments, backslash-newline splices (locations stay those of the physical source),
//! identifiers, pp-numbers, character and string literals (with `L`/`u`/`U`/`u8` prefixes) and punctuators.
//! It never fails: an unterminated literal becomes an [`Tk::Other`] token (an error only if the parser meets
//! it), an unterminated block comment is reported through [`Lexed::unterminated_comment`].

use std::rc::Rc;

/// A source position inside the preprocessor's file table (`file` indexes [`super::preprocess::Output::files`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokLoc {
    pub file: u32,
    pub line: u32,
    pub col: u32,
}

/// Token classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tk {
    Ident,
    Number,
    Char,
    Str,
    Punct,
    /// A stray character or an unterminated literal.
    Other,
}

/// One token.
#[derive(Debug, Clone)]
pub struct Token {
    pub kind: Tk,
    pub text: Rc<str>,
    pub loc: TokLoc,
    /// First token of a logical line.
    pub bol: bool,
    /// Preceded by white space (for stringification).
    pub space: bool,
    /// Macro names this token may no longer expand (the "hide set" of the expansion algorithm).
    pub hide: Option<Rc<Vec<Rc<str>>>>,
}

impl Token {
    pub fn new(kind: Tk, text: &str, loc: TokLoc) -> Self {
        Token {
            kind,
            text: Rc::from(text),
            loc,
            bol: false,
            space: false,
            hide: None,
        }
    }
    /// An identifier or punctuator spelled `p`.
    pub fn is(&self, p: &str) -> bool {
        (self.kind == Tk::Punct || self.kind == Tk::Ident) && &*self.text == p
    }
    pub fn is_punct(&self, p: &str) -> bool {
        self.kind == Tk::Punct && &*self.text == p
    }
    pub fn hidden(&self, name: &str) -> bool {
        self.hide
            .as_ref()
            .is_some_and(|h| h.iter().any(|n| &**n == name))
    }
}

/// The result of lexing one file.
pub struct Lexed {
    pub tokens: Vec<Token>,
    /// Location of an unterminated `/*` comment, if any.
    pub unterminated_comment: Option<TokLoc>,
}

const PUNCTS3: &[&str] = &["...", "<<=", ">>="];
const PUNCTS2: &[&str] = &[
    "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "*=", "/=", "%=", "+=", "-=",
    "&=", "^=", "|=", "##",
];
const PUNCTS1: &str = "[](){}.&*+-~!/%<>^|?:;=,#";

/// Tokenize `text` as file number `file`.
pub fn lex(text: &str, file: u32) -> Lexed {
    // Logical characters with their physical positions; backslash-newline splices removed.
    let mut chars: Vec<(char, u32, u32)> = Vec::with_capacity(text.len());
    {
        let (mut line, mut col) = (1u32, 1u32);
        let mut it = text.chars().peekable();
        while let Some(c) = it.next() {
            if c == '\\' {
                // splice: backslash, optional trailing blanks, newline
                let mut look = it.clone();
                while let Some(&n) = look.peek() {
                    if n == ' ' || n == '\t' {
                        look.next();
                    } else {
                        break;
                    }
                }
                if look.peek() == Some(&'\r') {
                    look.next();
                }
                if look.peek() == Some(&'\n') {
                    look.next();
                    it = look;
                    line = line.saturating_add(1);
                    col = 1;
                    continue;
                }
            }
            if c == '\r' {
                continue;
            }
            chars.push((c, line, col));
            if c == '\n' {
                line = line.saturating_add(1);
                col = 1;
            } else {
                col = col.saturating_add(1);
            }
        }
    }

    let mut tokens = Vec::new();
    let mut unterminated_comment = None;
    let mut i = 0usize;
    let mut bol = true;
    let mut space = false;
    let n = chars.len();
    let at = |i: usize| -> char { chars.get(i).map(|c| c.0).unwrap_or('\0') };
    while i < n {
        let (c, line, col) = chars[i];
        let loc = TokLoc { file, line, col };
        if c == '\n' {
            bol = true;
            space = false;
            i += 1;
            continue;
        }
        if c.is_whitespace() {
            space = true;
            i += 1;
            continue;
        }
        if c == '/' && at(i + 1) == '*' {
            i += 2;
            loop {
                if i >= n {
                    unterminated_comment = Some(loc);
                    break;
                }
                if at(i) == '*' && at(i + 1) == '/' {
                    i += 2;
                    break;
                }
                i += 1;
            }
            space = true;
            continue;
        }
        if c == '/' && at(i + 1) == '/' {
            while i < n && at(i) != '\n' {
                i += 1;
            }
            continue;
        }
        let start = i;
        let kind;
        // literal prefixes
        let mut lit_start = None;
        if c == '"' || c == '\'' {
            lit_start = Some(i);
        } else if (c == 'L' || c == 'U' || c == 'u') && (at(i + 1) == '"' || at(i + 1) == '\'') {
            lit_start = Some(i + 1);
        } else if c == 'u' && at(i + 1) == '8' && (at(i + 2) == '"' || at(i + 2) == '\'') {
            lit_start = Some(i + 2);
        }
        if let Some(q) = lit_start {
            let quote = at(q);
            let mut j = q + 1;
            let mut ok = false;
            while j < n {
                let d = at(j);
                if d == '\\' {
                    j += 2;
                    continue;
                }
                if d == '\n' {
                    break;
                }
                if d == quote {
                    ok = true;
                    j += 1;
                    break;
                }
                j += 1;
            }
            let j = j.min(n);
            kind = if !ok {
                Tk::Other
            } else if quote == '"' {
                Tk::Str
            } else {
                Tk::Char
            };
            i = j;
        } else if c.is_ascii_alphabetic() || c == '_' || c == '$' {
            while i < n && (at(i).is_ascii_alphanumeric() || at(i) == '_' || at(i) == '$') {
                i += 1;
            }
            kind = Tk::Ident;
        } else if c.is_ascii_digit() || (c == '.' && at(i + 1).is_ascii_digit()) {
            i += 1;
            while i < n {
                let d = at(i);
                if ((d == '+' || d == '-') && matches!(at(i - 1), 'e' | 'E' | 'p' | 'P'))
                    || d.is_ascii_alphanumeric()
                    || d == '_'
                    || d == '.'
                    || (d == '\'' && at(i + 1).is_ascii_hexdigit())
                {
                    i += 1;
                } else {
                    break;
                }
            }
            kind = Tk::Number;
        } else {
            let s3: String = (0..3).map(|k| at(i + k)).collect();
            let s2: String = s3.chars().take(2).collect();
            if PUNCTS3.contains(&s3.as_str()) {
                i += 3;
                kind = Tk::Punct;
            } else if PUNCTS2.contains(&s2.as_str()) {
                i += 2;
                kind = Tk::Punct;
            } else if PUNCTS1.contains(c) {
                i += 1;
                kind = Tk::Punct;
            } else {
                i += 1;
                kind = Tk::Other;
            }
        }
        let text: String = chars[start..i].iter().map(|c| c.0).collect();
        let mut t = Token::new(kind, &text, loc);
        t.bol = bol;
        t.space = space;
        bol = false;
        space = false;
        tokens.push(t);
    }
    Lexed {
        tokens,
        unterminated_comment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        lex(s, 0)
            .tokens
            .iter()
            .map(|t| t.text.to_string())
            .collect()
    }

    #[test]
    fn basic_tokens() {
        assert_eq!(
            texts("int x = 0x1fUL; // c\n a...b"),
            ["int", "x", "=", "0x1fUL", ";", "a", "...", "b"]
        );
        assert_eq!(
            texts("a<<=b->c##d"),
            ["a", "<<=", "b", "->", "c", "##", "d"]
        );
        assert_eq!(
            texts("L'x' \"s\\\"t\" 1e+5"),
            ["L'x'", "\"s\\\"t\"", "1e+5"]
        );
    }

    #[test]
    fn splices_and_locations() {
        let l = lex("#define A \\\n  1\n  b /* x\n */ c", 0);
        let t: Vec<_> = l
            .tokens
            .iter()
            .map(|t| (t.text.to_string(), t.loc.line, t.loc.col, t.bol))
            .collect();
        assert_eq!(t[0], ("#".into(), 1, 1, true));
        assert_eq!(t[3], ("1".into(), 2, 3, false));
        assert_eq!(t[4], ("b".into(), 3, 3, true));
        assert_eq!(t[5], ("c".into(), 4, 5, false));
        assert!(lex("/* open", 0).unterminated_comment.is_some());
    }

    #[test]
    fn odd_input_does_not_panic() {
        for s in [
            "'", "\"abc", "\\", "é∂", "1e", "u8", "\\\n", "..", "a\\ \n b", "'\\", "\"\\",
        ] {
            let _ = lex(s, 0);
        }
    }
}
