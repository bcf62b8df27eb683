//! Compilation targets and their data models (LP64, LLP64, ILP32) as the compilers implement them.

use crate::binary::Format;

/// A C compilation target whose struct layout rules the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Target {
    /// x86_64 Linux, System V LP64 (GCC/Clang).
    LinuxX86_64,
    /// i386 Linux, System V ILP32: `double`/`long long` align 4 inside structs, `long double` 12/4.
    LinuxI386,
    /// AArch64 Linux (AAPCS64, LP64): plain `char` unsigned, `long double` 16 (quad).
    LinuxAarch64,
    /// x86_64 macOS (LP64).
    MacosX86_64,
    /// Apple arm64 macOS: `long double` is `double` (8), plain `char` signed.
    MacosArm64,
    /// Windows x64 with MSVC (LLP64): `long double` 8, `wchar_t` 2, MSVC bitfields.
    WindowsX64Msvc,
    /// Windows x86 with MSVC (ILP32): `double`/`long long` align 8 in structs.
    WindowsX86Msvc,
    /// Windows x64 with MinGW-w64 GCC (`-mms-bitfields`): `long double` 16/16.
    MingwX64,
    /// Windows x86 with MinGW-w64 GCC (`-mms-bitfields`): `long double` 12/4.
    MingwX86,
}

impl Target {
    /// Every target, in a stable order.
    pub const ALL: [Target; 9] = [
        Target::LinuxX86_64,
        Target::LinuxI386,
        Target::LinuxAarch64,
        Target::MacosX86_64,
        Target::MacosArm64,
        Target::WindowsX64Msvc,
        Target::WindowsX86Msvc,
        Target::MingwX64,
        Target::MingwX86,
    ];

    /// The stable name used on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Target::LinuxX86_64 => "linux-x86_64",
            Target::LinuxI386 => "linux-i386",
            Target::LinuxAarch64 => "linux-aarch64",
            Target::MacosX86_64 => "macos-x86_64",
            Target::MacosArm64 => "macos-arm64",
            Target::WindowsX64Msvc => "windows-x86_64-msvc",
            Target::WindowsX86Msvc => "windows-i686-msvc",
            Target::MingwX64 => "windows-x86_64-mingw",
            Target::MingwX86 => "windows-i686-mingw",
        }
    }

    /// Parses a name as printed by [`Target::name`]; also accepts a few common aliases
    /// (`x86_64-linux`, `aarch64`/`arm64` spellings, `win64`, clang triples).
    pub fn from_name(s: &str) -> Option<Target> {
        let l = s.trim().to_ascii_lowercase();
        if let Some(t) = Target::ALL
            .iter()
            .find(|t| t.name() == l || t.clang_triple() == l)
        {
            return Some(*t);
        }
        Some(match l.as_str() {
            "x86_64-linux" | "linux-amd64" | "linux-x64" | "x86_64-linux-gnu" => {
                Target::LinuxX86_64
            }
            "linux-i686" | "linux-x86" | "i386-linux" | "i686-linux-gnu" => Target::LinuxI386,
            "linux-arm64" | "aarch64-linux" => Target::LinuxAarch64,
            "macos-amd64" | "darwin-x86_64" | "x86_64-apple-darwin" => Target::MacosX86_64,
            "macos-aarch64" | "darwin-arm64" | "aarch64-apple-darwin" | "arm64-apple-darwin" => {
                Target::MacosArm64
            }
            "windows-x86_64" | "win64" | "windows-x64" | "windows-x64-msvc" | "windows-amd64" => {
                Target::WindowsX64Msvc
            }
            "windows-i686" | "win32" | "windows-x86" | "windows-x86-msvc" | "windows-i386-msvc" => {
                Target::WindowsX86Msvc
            }
            "mingw64" | "mingw-x86_64" | "windows-x64-mingw" | "x86_64-w64-mingw32" => {
                Target::MingwX64
            }
            "mingw32" | "mingw-i686" | "windows-x86-mingw" | "i686-w64-mingw32" => Target::MingwX86,
            _ => return None,
        })
    }

    /// The target of the machine running ffi-doctor (its OS and architecture; Windows assumes MSVC), or
    /// `None` on a host the engine has no model for.
    pub fn host() -> Option<Target> {
        let os = std::env::consts::OS;
        let arch = std::env::consts::ARCH;
        Some(match (os, arch) {
            ("linux", "x86_64") => Target::LinuxX86_64,
            ("linux", "x86") => Target::LinuxI386,
            ("linux", "aarch64") => Target::LinuxAarch64,
            ("macos", "x86_64") => Target::MacosX86_64,
            ("macos", "aarch64") => Target::MacosArm64,
            ("windows", "x86_64") => Target::WindowsX64Msvc,
            ("windows", "x86") => Target::WindowsX86Msvc,
            _ => return None,
        })
    }

    /// The clang `--target=` triple.
    pub fn clang_triple(self) -> &'static str {
        match self {
            Target::LinuxX86_64 => "x86_64-linux-gnu",
            Target::LinuxI386 => "i386-linux-gnu",
            Target::LinuxAarch64 => "aarch64-linux-gnu",
            Target::MacosX86_64 => "x86_64-apple-macos11",
            Target::MacosArm64 => "arm64-apple-macos11",
            Target::WindowsX64Msvc => "x86_64-pc-windows-msvc",
            Target::WindowsX86Msvc => "i686-pc-windows-msvc",
            Target::MingwX64 => "x86_64-w64-mingw32",
            Target::MingwX86 => "i686-w64-mingw32",
        }
    }

    /// Pointer size in bytes (8 or 4).
    pub fn pointer_size(self) -> u64 {
        if self.is_64bit() {
            8
        } else {
            4
        }
    }

    pub fn is_64bit(self) -> bool {
        !matches!(
            self,
            Target::LinuxI386 | Target::WindowsX86Msvc | Target::MingwX86
        )
    }

    /// `long` is 8 bytes (LP64: Linux and macOS 64-bit); 4 on LLP64 Windows and ILP32.
    pub fn is_lp64(self) -> bool {
        matches!(
            self,
            Target::LinuxX86_64 | Target::LinuxAarch64 | Target::MacosX86_64 | Target::MacosArm64
        )
    }

    pub fn is_windows(self) -> bool {
        matches!(
            self,
            Target::WindowsX64Msvc | Target::WindowsX86Msvc | Target::MingwX64 | Target::MingwX86
        )
    }

    pub fn is_msvc(self) -> bool {
        matches!(self, Target::WindowsX64Msvc | Target::WindowsX86Msvc)
    }

    pub fn is_mingw(self) -> bool {
        matches!(self, Target::MingwX64 | Target::MingwX86)
    }

    pub fn is_apple(self) -> bool {
        matches!(self, Target::MacosX86_64 | Target::MacosArm64)
    }

    pub fn is_linux(self) -> bool {
        matches!(
            self,
            Target::LinuxX86_64 | Target::LinuxI386 | Target::LinuxAarch64
        )
    }

    /// AArch64 (Linux or Apple).
    pub fn is_aarch64(self) -> bool {
        matches!(self, Target::LinuxAarch64 | Target::MacosArm64)
    }

    /// Plain `char` is unsigned (AArch64 Linux only among these targets; Apple arm64 keeps it signed).
    pub fn char_is_unsigned(self) -> bool {
        self == Target::LinuxAarch64
    }

    /// Bitfields follow the Microsoft rules (MSVC, and MinGW GCC's default `-mms-bitfields`).
    pub fn ms_bitfields(self) -> bool {
        self.is_windows()
    }

    /// Unnamed bitfields (including `:0`) raise the record's alignment on AAPCS64 Linux; on x86 SysV, Darwin
    /// x86_64 and Apple arm64 they do not. Microsoft layouts always count them.
    pub fn unnamed_bitfield_affects_align(self) -> bool {
        self == Target::LinuxAarch64
    }

    /// A description of the data model, e.g. `LP64`.
    pub fn data_model(self) -> &'static str {
        if self.is_lp64() {
            "LP64"
        } else if self.is_64bit() {
            "LLP64"
        } else {
            "ILP32"
        }
    }

    /// Macros the target's compiler predefines, for the spec preprocessor. Function-like macros carry their
    /// parameter list in the name, e.g. `("__declspec(x)", "__attribute__((x))")`.
    pub fn predefined_macros(self) -> Vec<(String, String)> {
        let mut m: Vec<(&str, String)> = Vec::new();
        let mut owned: Vec<(String, String)> = Vec::new();
        let one = || "1".to_string();
        m.push(("__STDC__", one()));
        m.push(("__STDC_VERSION__", "201112L".into()));
        m.push(("__STDC_HOSTED__", one()));
        m.push(("__CHAR_BIT__", "8".into()));
        m.push(("__ORDER_LITTLE_ENDIAN__", "1234".into()));
        m.push(("__ORDER_BIG_ENDIAN__", "4321".into()));
        m.push(("__BYTE_ORDER__", "__ORDER_LITTLE_ENDIAN__".into()));
        m.push(("__LITTLE_ENDIAN__", one()));
        let p = self.pointer_size();
        let long = if self.is_lp64() { 8 } else { 4 };
        m.push(("__SIZEOF_POINTER__", p.to_string()));
        m.push(("__SIZEOF_SHORT__", "2".into()));
        m.push(("__SIZEOF_INT__", "4".into()));
        m.push(("__SIZEOF_LONG__", long.to_string()));
        m.push(("__SIZEOF_LONG_LONG__", "8".into()));
        m.push(("__SIZEOF_FLOAT__", "4".into()));
        m.push(("__SIZEOF_DOUBLE__", "8".into()));
        m.push(("__SIZEOF_LONG_DOUBLE__", long_double(self).0.to_string()));
        m.push(("__SIZEOF_SIZE_T__", p.to_string()));
        m.push(("__SIZEOF_PTRDIFF_T__", p.to_string()));
        m.push((
            "__SIZEOF_WCHAR_T__",
            if self.is_windows() { "2" } else { "4" }.into(),
        ));
        if self.is_64bit() && !self.is_msvc() {
            m.push(("__SIZEOF_INT128__", "16".into()));
        }
        let (size_t, ptrdiff_t) = match (self.is_64bit(), self.is_lp64()) {
            (true, true) => ("long unsigned int", "long int"),
            (true, false) => ("long long unsigned int", "long long int"),
            (false, _) => ("unsigned int", "int"),
        };
        m.push(("__SIZE_TYPE__", size_t.into()));
        m.push(("__PTRDIFF_TYPE__", ptrdiff_t.into()));
        m.push(("__INTPTR_TYPE__", ptrdiff_t.into()));
        m.push(("__UINTPTR_TYPE__", size_t.into()));
        let wchar = match self {
            _ if self.is_windows() => "short unsigned int",
            Target::LinuxAarch64 => "unsigned int",
            _ => "int",
        };
        m.push(("__WCHAR_TYPE__", wchar.into()));
        let i64t = if self.is_lp64() {
            "long int"
        } else {
            "long long int"
        };
        m.push(("__INT64_TYPE__", i64t.into()));
        m.push((
            "__UINT64_TYPE__",
            format!("{} unsigned int", i64t.trim_end_matches(" int")),
        ));
        m.push(("__INTMAX_TYPE__", i64t.into()));
        if self.is_lp64() {
            m.push(("__LP64__", one()));
            m.push(("_LP64", one()));
        } else if !self.is_64bit() {
            m.push(("__ILP32__", one()));
            m.push(("_ILP32", one()));
        }
        if self.char_is_unsigned() {
            m.push(("__CHAR_UNSIGNED__", one()));
        }
        match self {
            Target::LinuxX86_64
            | Target::MacosX86_64
            | Target::WindowsX64Msvc
            | Target::MingwX64 => {
                if !self.is_msvc() {
                    m.push(("__x86_64__", one()));
                    m.push(("__x86_64", one()));
                    m.push(("__amd64__", one()));
                    m.push(("__amd64", one()));
                } else {
                    m.push(("_M_X64", "100".into()));
                    m.push(("_M_AMD64", "100".into()));
                }
            }
            Target::LinuxI386 | Target::WindowsX86Msvc | Target::MingwX86 => {
                if !self.is_msvc() {
                    m.push(("__i386__", one()));
                    m.push(("__i386", one()));
                    m.push(("i386", one()));
                    m.push(("__i686__", one()));
                } else {
                    m.push(("_M_IX86", "600".into()));
                }
            }
            Target::LinuxAarch64 | Target::MacosArm64 => {
                m.push(("__aarch64__", one()));
                if self.is_apple() {
                    m.push(("__arm64__", one()));
                    m.push(("__arm64", one()));
                }
            }
        }
        if self.is_linux() {
            for k in [
                "__linux__",
                "__linux",
                "linux",
                "__gnu_linux__",
                "__unix__",
                "__unix",
                "unix",
                "__ELF__",
            ] {
                m.push((k, one()));
            }
        }
        if self.is_apple() {
            m.push(("__APPLE__", one()));
            m.push(("__MACH__", one()));
            m.push(("__APPLE_CC__", "6000".into()));
            m.push((
                "__ENVIRONMENT_MAC_OS_X_VERSION_MIN_REQUIRED__",
                "110000".into(),
            ));
            m.push(("__DYNAMIC__", one()));
        }
        if self.is_windows() {
            m.push(("_WIN32", one()));
            if self.is_64bit() {
                m.push(("_WIN64", one()));
            }
            // MSVC's sized integer keywords; MinGW GCC predefines them as these macros (`unsigned __int64`
            // still works).
            m.push(("__int8", "char".into()));
            m.push(("__int16", "short".into()));
            m.push(("__int32", "int".into()));
            m.push(("__int64", "long long".into()));
        }
        if self.is_msvc() {
            m.push(("_MSC_VER", "1933".into()));
            m.push(("_MSC_FULL_VER", "193331630".into()));
            m.push(("_MSC_EXTENSIONS", one()));
            m.push(("_INTEGRAL_MAX_BITS", "64".into()));
        } else {
            m.push(("__GNUC__", "4".into()));
            m.push(("__GNUC_MINOR__", "2".into()));
            m.push(("__GNUC_PATCHLEVEL__", "1".into()));
        }
        if self.is_mingw() {
            for k in [
                "__MINGW32__",
                "WIN32",
                "_WIN32",
                "__WIN32",
                "__WIN32__",
                "WINNT",
                "__WINNT",
                "__WINNT__",
            ] {
                m.push((k, one()));
            }
            if self.is_64bit() {
                for k in ["__MINGW64__", "WIN64", "_WIN64", "__WIN64", "__WIN64__"] {
                    m.push((k, one()));
                }
            } else {
                m.push(("_X86_", one()));
            }
            m.push(("__declspec(x)", "__attribute__((x))".into()));
            for cc in ["cdecl", "stdcall", "fastcall", "thiscall"] {
                let v = format!("__attribute__((__{cc}__))");
                owned.push((format!("__{cc}"), v.clone()));
                owned.push((format!("_{cc}"), v));
            }
        }
        let mut out: Vec<(String, String)> = Vec::new();
        for (k, v) in m.into_iter().map(|(k, v)| (k.to_string(), v)).chain(owned) {
            if !out.iter().any(|(k2, _)| *k2 == k) {
                out.push((k, v));
            }
        }
        out
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Target::from_name(s).ok_or_else(|| {
            let names: Vec<&str> = Target::ALL.iter().map(|t| t.name()).collect();
            format!("unknown target `{s}` (known: {})", names.join(", "))
        })
    }
}

/// `long double` (size, align).
pub(crate) fn long_double(t: Target) -> (u64, u64) {
    match t {
        Target::LinuxX86_64 | Target::LinuxAarch64 | Target::MacosX86_64 | Target::MingwX64 => {
            (16, 16)
        }
        Target::LinuxI386 | Target::MingwX86 => (12, 4),
        Target::MacosArm64 | Target::WindowsX64Msvc | Target::WindowsX86Msvc => (8, 8),
    }
}

/// The target of an image, from its format and architecture (as `binary::Image` spells them). A PE image is
/// MSVC unless `pe_is_mingw_guess` (e.g. it imports `msvcrt.dll` and `libgcc_s_*`/`libwinpthread`).
pub fn for_image(format: Format, arch: &str, pe_is_mingw_guess: bool) -> Option<Target> {
    let a = arch.to_ascii_lowercase();
    let a = match a.as_str() {
        "x86_64" | "x86-64" | "amd64" | "x64" => "x86_64",
        "i386" | "i486" | "i586" | "i686" | "x86" => "i386",
        "aarch64" | "arm64" | "arm64e" => "aarch64",
        _ => return None,
    };
    Some(match (format, a) {
        (Format::Elf, "x86_64") => Target::LinuxX86_64,
        (Format::Elf, "i386") => Target::LinuxI386,
        (Format::Elf, "aarch64") => Target::LinuxAarch64,
        (Format::Macho, "x86_64") => Target::MacosX86_64,
        (Format::Macho, "aarch64") => Target::MacosArm64,
        (Format::Pe, "x86_64") if pe_is_mingw_guess => Target::MingwX64,
        (Format::Pe, "x86_64") => Target::WindowsX64Msvc,
        (Format::Pe, "i386") if pe_is_mingw_guess => Target::MingwX86,
        (Format::Pe, "i386") => Target::WindowsX86Msvc,
        _ => return None,
    })
}
