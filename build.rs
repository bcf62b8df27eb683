//! Build script: compiles the Itanium demangling driver (src/binary/demangle/itanium.cpp) against LLVM's
//! header-only demangler (`llvm/Demangle/ItaniumDemangle.h`, shipped with LLVM's development files, e.g. Debian's
//! `llvm-14-dev`), so names read exactly as llvm-cxxfilt prints them, and links LLVM's Microsoft demangler from the
//! static `libLLVMDemangle.a` of the same installation (src/binary/demangle/msvc.cpp), so MSVC names read exactly as
//! llvm-undname prints them. The headers are looked up in `$FFI_DOCTOR_LLVM_INCLUDE`, then `llvm-config
//! --includedir`, then the usual install directories (highest version first); the library beside them in `../lib`.
//! Without them, or if they do not build, the crate falls back to the pure-Rust cpp_demangle and msvc-demangler and
//! says so with a build warning; `FFI_DOCTOR_NO_LLVM_DEMANGLE=1` chooses that fallback on purpose.

use std::path::{Path, PathBuf};
use std::process::Command;

const HEADER: &str = "llvm/Demangle/ItaniumDemangle.h";
const SHIM: &str = "src/binary/demangle/itanium.cpp";
const MSVC_SHIM: &str = "src/binary/demangle/msvc.cpp";

fn has_header(dir: &Path) -> bool {
    dir.join(HEADER).is_file()
}

fn llvm_config_include() -> Option<PathBuf> {
    let out = Command::new("llvm-config")
        .arg("--includedir")
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let dir = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    has_header(&dir).then_some(dir)
}

/// `/usr/lib/llvm-N/include` (Debian, Ubuntu), Homebrew's and the plain prefixes; the highest version wins.
fn usual_include() -> Option<PathBuf> {
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let v = name.strip_prefix("llvm-")?.parse::<u32>().ok()?;
            Some((v, e.path().join("include")))
        })
        .filter(|(_, d)| has_header(d))
        .collect();
    versioned.sort();
    if let Some((_, d)) = versioned.pop() {
        return Some(d);
    }
    [
        "/opt/homebrew/opt/llvm/include",
        "/usr/local/opt/llvm/include",
        "/usr/local/include",
        "/usr/include",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|d| has_header(d))
}

fn main() {
    println!("cargo:rustc-check-cfg=cfg(llvm_itanium_demangle)");
    println!("cargo:rustc-check-cfg=cfg(llvm_msvc_demangle)");
    println!("cargo:rerun-if-changed={SHIM}");
    println!("cargo:rerun-if-changed={MSVC_SHIM}");
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=FFI_DOCTOR_LLVM_INCLUDE");
    println!("cargo:rerun-if-env-changed=FFI_DOCTOR_NO_LLVM_DEMANGLE");
    if std::env::var("FFI_DOCTOR_NO_LLVM_DEMANGLE").as_deref() == Ok("1") {
        println!("cargo:warning=FFI_DOCTOR_NO_LLVM_DEMANGLE=1: C++ names are demangled by cpp_demangle and msvc-demangler");
        return;
    }
    let include = std::env::var_os("FFI_DOCTOR_LLVM_INCLUDE")
        .map(PathBuf::from)
        .filter(|d| has_header(d))
        .or_else(llvm_config_include)
        .or_else(usual_include);
    let Some(include) = include else {
        println!(
            "cargo:warning=LLVM's demangler headers ({HEADER}) not found: C++ names are demangled by cpp_demangle, \
             which differs from llvm-cxxfilt on some names (install LLVM's development files, e.g. llvm-14-dev)"
        );
        return;
    };
    println!("cargo:rerun-if-changed={}", include.join(HEADER).display());
    let built = cc::Build::new()
        .cpp(true)
        .std("c++17")
        .include(&include)
        .define("NDEBUG", None)
        // Demangling is a hot path even in test builds.
        .opt_level(2)
        .warnings(false)
        .file(SHIM)
        .try_compile("ffi_doctor_itanium");
    match built {
        Ok(()) => println!("cargo:rustc-cfg=llvm_itanium_demangle"),
        Err(e) => println!(
            "cargo:warning=LLVM's demangler in {} did not compile ({e}): C++ names are demangled by cpp_demangle",
            include.display()
        ),
    }
    msvc(&include);
}

/// LLVM's Microsoft demangler: `libLLVMDemangle.a` beside the headers, with the driver that calls it.
fn msvc(include: &Path) {
    let lib_dir = include.parent().map(|p| p.join("lib"));
    let Some(lib_dir) = lib_dir.filter(|d| d.join("libLLVMDemangle.a").is_file()) else {
        println!(
            "cargo:warning=libLLVMDemangle.a not found beside {}: MSVC names are demangled by msvc-demangler, which \
             differs from llvm-undname on some names",
            include.display()
        );
        return;
    };
    println!(
        "cargo:rerun-if-changed={}",
        lib_dir.join("libLLVMDemangle.a").display()
    );
    let built = cc::Build::new()
        .cpp(true)
        .std("c++17")
        .include(include)
        .define("NDEBUG", None)
        .opt_level(2)
        .warnings(false)
        .file(MSVC_SHIM)
        .try_compile("ffi_doctor_msvc");
    match built {
        Ok(()) => {
            println!("cargo:rustc-link-search=native={}", lib_dir.display());
            println!("cargo:rustc-link-lib=static=LLVMDemangle");
            println!("cargo:rustc-cfg=llvm_msvc_demangle");
        }
        Err(e) => println!(
            "cargo:warning=LLVM's Microsoft demangler driver did not compile ({e}): MSVC names are demangled by \
             msvc-demangler"
        ),
    }
}
