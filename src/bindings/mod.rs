//! Python bindings (ctypes modules, cffi ABI-mode code) as declarations: the model of what a binding declares
//! (`model`). Reading `.py` sources and checking them against a library build on it.

pub mod model;
pub mod python;
