//! Python bindings (ctypes modules, cffi ABI-mode code) as declarations: the model of what a binding declares
//! (`model`), ctypes' own layout of record classes per Python version and target (`ctypes_layout`), the record
//! classes checked against the C declarations and the library's DWARF (`records`), and how a C type is spelled
//! in ctypes for hints (`spelling`). Reading `.py` sources and checking them against a library build on it.

pub mod ctypes_layout;
pub mod model;
pub mod python;
pub mod records;
pub mod spelling;
