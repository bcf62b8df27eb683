//! FFI0713 grouped by the expression the reader could not resolve: a type imported from another module of the
//! package is one finding listing its uses, not one per field (PySDL2's events.py: 173 findings became 16).

mod common;

use common::{ffi_command, run_json, system_lib, with_code};

#[test]
fn one_unresolved_name_is_one_finding_with_its_uses() {
    let Some(libc) = system_lib("libc.so.6", |n| n == "libc.so.6") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let py = dir.path().join("events.py");
    std::fs::write(
        &py,
        "import ctypes\n\
         from .stdinc import Uint32, Sint16\n\
         \n\
         class Event(ctypes.Structure):\n\
         \x20   _fields_ = [(\"type\", Uint32), (\"timestamp\", Uint32), (\"x\", Sint16)]\n\
         \n\
         class Other(ctypes.Structure):\n\
         \x20   _fields_ = [(\"window\", Uint32)]\n",
    )
    .unwrap();
    let run = run_json(ffi_command(), "check", [libc.as_os_str(), py.as_os_str()]);
    let found = with_code(&run.doc, "FFI0713");
    assert_eq!(found.len(), 2, "{found:#?}");
    let uint32 = found
        .iter()
        .find(|f| f["message"].as_str().unwrap().starts_with("`Uint32`"))
        .expect("one finding for Uint32");
    assert!(
        uint32["message"].as_str().unwrap().contains("3 uses"),
        "{uint32}"
    );
    assert!(
        uint32["location"]
            .as_str()
            .unwrap()
            .ends_with("events.py:5:26"),
        "{uint32}"
    );
    let lines: Vec<&str> = uint32["found"].as_str().unwrap().lines().collect();
    assert_eq!(lines.len(), 3, "{uint32}");
    assert!(
        lines[2].contains("events.py:8:") && lines[2].contains("Other.window"),
        "{uint32}"
    );
    assert!(uint32["hint"].as_str().unwrap().contains("another module"));
    let sint16 = found
        .iter()
        .find(|f| !f["message"].as_str().unwrap().starts_with("`Uint32`"))
        .unwrap();
    assert!(
        sint16["message"].as_str().unwrap().contains("Event.x"),
        "{sint16}"
    );
}
