//! A streaming writer of pretty JSON, byte for byte what `serde_json::to_writer_pretty` writes (two-space indent,
//! `"key": value`, `[]` and `{}` when empty, the same string escapes), for documents with tens of thousands of
//! records: strings are copied whole when they need no escape (checked eight bytes at a time), numbers are
//! rendered without the formatting machinery, and output goes to one large buffer flushed in big writes.

use std::io::{self, Write};

/// Pretty JSON written value by value. Call [`JsonStream::finish`] to flush.
pub struct JsonStream<W: Write> {
    out: W,
    buf: Vec<u8>,
    /// Per open container (innermost last): whether it has a value yet.
    open: Vec<bool>,
    /// Flush the buffer when it holds this much (never, for a fragment).
    flush_at: usize,
}

/// Flush the buffer when it holds this much.
const FLUSH_AT: usize = 1 << 20;

impl<W: Write> JsonStream<W> {
    pub fn new(out: W) -> Self {
        JsonStream {
            out,
            buf: Vec::with_capacity(FLUSH_AT + (64 << 10)),
            open: Vec::with_capacity(8),
            flush_at: FLUSH_AT,
        }
    }

    /// Append elements a [`JsonStream::fragment`] rendered to the innermost container, which then has elements.
    pub fn raw_elements(&mut self, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() {
            return Ok(());
        }
        self.buf.extend_from_slice(bytes);
        if let Some(has) = self.open.last_mut() {
            *has = true;
        }
        self.maybe_flush()
    }

    fn maybe_flush(&mut self) -> io::Result<()> {
        if self.buf.len() >= self.flush_at {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn indent(&mut self) {
        const SPACES: &[u8; 64] = &[b' '; 64];
        let mut n = 2 * self.open.len();
        while n > 0 {
            let k = n.min(SPACES.len());
            self.buf.extend_from_slice(&SPACES[..k]);
            n -= k;
        }
    }

    /// The separator before a new member or element of the innermost container.
    fn next_item(&mut self) {
        let first = match self.open.last_mut() {
            Some(has) => !std::mem::replace(has, true),
            None => return,
        };
        self.buf
            .extend_from_slice(if first { b"\n" } else { b",\n" });
        self.indent();
    }

    /// Start an object (as a value: after [`JsonStream::key`], as an array element, or at the top).
    pub fn begin_object(&mut self) {
        self.buf.push(b'{');
        self.open.push(false);
    }

    pub fn end_object(&mut self) -> io::Result<()> {
        self.end(b'}')
    }

    pub fn begin_array(&mut self) {
        self.buf.push(b'[');
        self.open.push(false);
    }

    pub fn end_array(&mut self) -> io::Result<()> {
        self.end(b']')
    }

    fn end(&mut self, close: u8) -> io::Result<()> {
        if self.open.pop().unwrap_or(false) {
            self.buf.push(b'\n');
            self.indent();
        }
        self.buf.push(close);
        self.maybe_flush()
    }

    /// Start an array element: call before writing the element's value.
    pub fn element(&mut self) {
        self.next_item();
    }

    /// A member's key; its value follows.
    pub fn key(&mut self, k: &str) {
        self.next_item();
        self.string_raw(k);
        self.buf.extend_from_slice(b": ");
    }

    pub fn str_value(&mut self, s: &str) {
        self.string_raw(s);
    }

    pub fn u64_value(&mut self, v: u64) {
        let mut digits = [0u8; 20];
        self.buf.extend_from_slice(decimal(v, &mut digits));
    }

    pub fn bool_value(&mut self, v: bool) {
        self.buf
            .extend_from_slice(if v { b"true" } else { b"false" });
    }

    /// `"key": "value"`.
    pub fn str_member(&mut self, k: &str, v: &str) {
        self.key(k);
        self.string_raw(v);
    }

    /// `"key": 123`.
    pub fn u64_member(&mut self, k: &str, v: u64) {
        self.key(k);
        self.u64_value(v);
    }

    /// `"key": true`.
    pub fn bool_member(&mut self, k: &str, v: bool) {
        self.key(k);
        self.bool_value(v);
    }

    /// A quoted, escaped string.
    fn string_raw(&mut self, s: &str) {
        let b = s.as_bytes();
        self.buf.reserve(b.len() + 2);
        self.buf.push(b'"');
        let mut start = 0;
        while let Some(at) = next_escape(b, start) {
            self.buf.extend_from_slice(&b[start..at]);
            escape_byte(&mut self.buf, b[at]);
            start = at + 1;
        }
        self.buf.extend_from_slice(&b[start..]);
        self.buf.push(b'"');
    }

    /// Write the closing newline (as `report::write_json` does) and everything buffered.
    pub fn finish(mut self) -> io::Result<()> {
        self.buf.push(b'\n');
        self.out.write_all(&self.buf)?;
        self.out.flush()
    }
}

impl JsonStream<io::Sink> {
    /// A stream that renders elements (or members) of a container open `depth` levels deep into `buf`, kept in
    /// memory for [`JsonStream::raw_elements`] of the document's own stream: so parts of one array can be rendered
    /// on several threads. `first`: the container has no element before these.
    pub fn fragment(buf: Vec<u8>, depth: usize, first: bool) -> Self {
        let mut open = vec![true; depth];
        if let Some(has) = open.last_mut() {
            *has = !first;
        }
        JsonStream {
            out: io::sink(),
            buf,
            open,
            flush_at: usize::MAX,
        }
    }

    /// The rendered bytes.
    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }
}

/// The decimal digits of `v`, as `{}` formats it.
pub fn decimal(mut v: u64, digits: &mut [u8; 20]) -> &[u8] {
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    &digits[i..]
}

/// Whether a byte is one JSON strings escape: a control character, `"` or `\`.
#[inline]
fn needs_escape(c: u8) -> bool {
    c < 0x20 || c == b'"' || c == b'\\'
}

/// The index of the next byte at or after `from` that needs an escape. Eight bytes are tested at once: a word
/// has such a byte exactly when one of its bytes is below 0x20 or equal to `"` or `\`.
#[inline]
fn next_escape(b: &[u8], from: usize) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while i + 8 <= b.len() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[i..i + 8]);
        let x = u64::from_le_bytes(w);
        // Bytes below 0x20 (for bytes < 0x80; bytes >= 0x80 never match thanks to `!x`), and bytes equal to
        // 0x22 or 0x5c (zero after the xor). Both tests may flag a false positive only next to a true one, and
        // the exact position is found bytewise below.
        let below = x.wrapping_sub(ONES * 0x20) & !x & HIGH;
        let q = x ^ (ONES * 0x22);
        let quote = q.wrapping_sub(ONES) & !q & HIGH;
        let s = x ^ (ONES * 0x5c);
        let slash = s.wrapping_sub(ONES) & !s & HIGH;
        if below | quote | slash != 0 {
            break;
        }
        i += 8;
    }
    b[i..].iter().position(|&c| needs_escape(c)).map(|p| i + p)
}

/// serde_json's escape of one byte.
fn escape_byte(buf: &mut Vec<u8>, c: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    match c {
        b'"' => buf.extend_from_slice(b"\\\""),
        b'\\' => buf.extend_from_slice(b"\\\\"),
        0x08 => buf.extend_from_slice(b"\\b"),
        0x0c => buf.extend_from_slice(b"\\f"),
        b'\n' => buf.extend_from_slice(b"\\n"),
        b'\r' => buf.extend_from_slice(b"\\r"),
        b'\t' => buf.extend_from_slice(b"\\t"),
        _ => buf.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[usize::from(c >> 4)],
            HEX[usize::from(c & 0xf)],
        ]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(f: impl FnOnce(&mut JsonStream<&mut Vec<u8>>)) -> String {
        let mut out = Vec::new();
        let mut j = JsonStream::new(&mut out);
        f(&mut j);
        j.finish().unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn strings_escape_as_serde_json_escapes_them() {
        let mut all: String = (0u8..0x80).map(char::from).collect();
        all.push_str("é\u{2028}\"\\ tail");
        let mut samples = vec![
            String::new(),
            "plain_name_longer_than_eight".into(),
            "a\"b".into(),
            "12345678\\".into(),
            "1234567\u{1f}x".into(),
            "\u{7f}\u{80}ÿ".into(),
            all,
        ];
        for k in 0..20 {
            samples.push(format!("{}\"{}", "x".repeat(k), "y".repeat(k)));
        }
        for s in samples {
            let ours = stream(|j| j.str_value(&s));
            let theirs = serde_json::to_string_pretty(&s).unwrap() + "\n";
            assert_eq!(ours, theirs, "{s:?}");
        }
    }

    #[test]
    fn fragments_join_into_the_document_one_stream_writes() {
        fn element<W: Write>(j: &mut JsonStream<W>, v: u64) {
            j.element();
            j.begin_object();
            j.u64_member("n", v);
            j.end_object().unwrap();
        }
        let whole = stream(|j| {
            j.begin_object();
            j.key("list");
            j.begin_array();
            for v in 0..5 {
                element(j, v);
            }
            j.end_array().unwrap();
            j.end_object().unwrap();
        });
        let parts = stream(|j| {
            j.begin_object();
            j.key("list");
            j.begin_array();
            for range in [0..2u64, 2..2, 2..5] {
                let first = range.start == 0;
                let mut f = JsonStream::fragment(Vec::new(), 2, first);
                for v in range {
                    element(&mut f, v);
                }
                j.raw_elements(&f.into_bytes()).unwrap();
            }
            j.end_array().unwrap();
            j.end_object().unwrap();
        });
        assert_eq!(parts, whole);
    }

    #[test]
    fn documents_indent_as_serde_json_indents_them() {
        let ours = stream(|j| {
            j.begin_object();
            j.str_member("a", "x");
            j.key("list");
            j.begin_array();
            for v in [0u64, 9, 10, u64::MAX] {
                j.element();
                // serde_json's map sorts its keys.
                j.begin_object();
                j.bool_member("b", v > 5);
                j.key("empty");
                j.begin_array();
                j.end_array().unwrap();
                j.key("inner");
                j.begin_object();
                j.str_member("s", "t");
                j.end_object().unwrap();
                j.u64_member("n", v);
                j.end_object().unwrap();
            }
            j.end_array().unwrap();
            j.key("none");
            j.begin_object();
            j.end_object().unwrap();
            j.end_object().unwrap();
        });
        let list: Vec<serde_json::Value> = [0u64, 9, 10, u64::MAX]
            .iter()
            .map(|&v| serde_json::json!({"n": v, "b": v > 5, "empty": [], "inner": {"s": "t"}}))
            .collect();
        let mut doc = serde_json::Map::new();
        doc.insert("a".into(), "x".into());
        doc.insert("list".into(), list.into());
        doc.insert("none".into(), serde_json::json!({}));
        let theirs = serde_json::to_string_pretty(&doc).unwrap() + "\n";
        assert_eq!(ours, theirs);
    }
}
