//! Reading a Python binding statically: a `.py` file is parsed with tree-sitter's Python grammar (error-tolerant,
//! Python 3.8–3.14 syntax; never imported, never executed) and its statements are walked once, in source order,
//! with a flat table of what each Python name denotes (the ctypes module, a library, a ctypes type, a prototype, a
//! foreign function, a string). What cannot be resolved without running the code is listed in
//! [`Binding::unresolved`], never guessed.
//!
//! One file per job: the reader's state and name table (`reader`), statements, imports and assignments
//! (`statements`), module functions read early and again (`functions`), expressions evaluated to values and
//! calls dispatched by callee (`expressions`), library loading (`libraries`), declarations on foreign functions
//! and prototypes (`declarations`), ctypes type expressions (`types`), `Structure`/`Union` classes
//! (`record_classes`), cffi (`cffi`) and guards on versions, platforms and attributes (`guards`).

mod cffi;
mod declarations;
mod expressions;
mod functions;
mod guards;
mod libraries;
mod reader;
mod record_classes;
mod statements;
mod types;

use tree_sitter::Parser;

use super::model::Binding;
use crate::error::InputError;
use reader::Reader;

/// The largest `.py` file read: real binding modules are well under 1 MiB.
pub const PY_LIMIT: u64 = 8 << 20;

/// Expressions and statements nested deeper than this are not followed (hostile input).
const MAX_DEPTH: u32 = 100;

/// Read the binding in `path`.
pub fn read_binding(path: &str) -> Result<Binding, InputError> {
    let bytes =
        crate::input::read_regular(std::path::Path::new(path), "a Python source file", PY_LIMIT)?;
    // CPython refuses source with a NUL byte ("source code cannot contain null bytes"): a binary is not a
    // binding, whatever its name.
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        return Err(
            InputError::new(path, "Python source text", "a NUL byte (binary data)")
                .at(at as u64)
                .hint("give the binding's .py file as SPEC and the library as LIB"),
        );
    }
    let text = String::from_utf8_lossy(&bytes);
    parse_binding(path, &text)
}

/// Read a binding from source text; `file` names it in locations.
pub fn parse_binding(file: &str, text: &str) -> Result<Binding, InputError> {
    // The walk recurses along the syntax tree (bounded by MAX_DEPTH); a thread of its own gives it a stack that
    // holds that bound whatever thread the caller is on (test threads and rayon workers have 2 MiB).
    let (f, t) = (file.to_string(), text.to_string());
    std::thread::Builder::new()
        .name("python-reader".into())
        .stack_size(READER_STACK)
        .spawn(move || read_on_this_thread(&f, &t))
        .map_err(|e| InputError::new(file, "a thread to read the Python source on", e.to_string()))?
        .join()
        .unwrap_or_else(|_| {
            Err(InputError::new(
                file,
                "Python source the reader can walk",
                "a syntax tree the reader failed on",
            ))
        })
}

/// The reader thread's stack: MAX_DEPTH nested expressions take well under a tenth of it in a debug build.
const READER_STACK: usize = 64 << 20;

fn read_on_this_thread(file: &str, text: &str) -> Result<Binding, InputError> {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_python::LANGUAGE.into())
        .map_err(|e| InputError::new(file, "a usable Python grammar", e.to_string()))?;
    let tree = parser
        .parse(text, None)
        .ok_or_else(|| InputError::new(file, "Python source", "text the parser gave up on"))?;
    let mut r = Reader::new(text.as_bytes(), file);
    let root = tree.root_node();
    r.collect_tested(root, 0);
    r.collect_errors(root, 0);
    r.block(root, 0);
    // Function bodies again, now that every module-level name is bound (nested definitions join the queue).
    let mut i = 0;
    while i < r.deferred.len() {
        let (start, end) = r.deferred[i];
        i += 1;
        let mut node = root.descendant_for_byte_range(start, end);
        while let Some(n) = node {
            if n.kind() == "function_definition" {
                break;
            }
            node = n.parent();
        }
        if let Some(n) = node {
            r.function_body(n, 1);
        }
    }
    r.finish();
    Ok(r.b)
}

#[cfg(test)]
mod tests;
