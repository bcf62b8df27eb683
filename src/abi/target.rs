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

    /// Macros the target's compiler predefines, for the spec preprocessor: what `CC -dM -E -x c /dev/null`
    /// prints for this target's compiler (limits such as `__INT_MAX__`, type macros, ISA macros such as
    /// `__SSE2__`, compiler identity), kept as data in `src/abi/predefined/<target>.txt` by
    /// `scripts/gen-predefined.sh`. Function-like macros carry their parameter list in the name, e.g.
    /// `("__declspec(x)", "__attribute__((x))")`. The last entry, [`TARGET_MARKER`], names the target so the
    /// parser can evaluate `sizeof`/`_Alignof`/`offsetof` of records with this ABI.
    pub fn predefined_macros(self) -> Vec<(String, String)> {
        let mut out = parse_predefined(predefined_text(self));
        if self.is_windows() {
            // MSVC's sized integer keywords (clang's MSVC mode has them as keywords; MinGW's headers define
            // them as these macros).
            for (k, v) in [
                ("__int8", "char"),
                ("__int16", "short"),
                ("__int32", "int"),
                ("__int64", "long long"),
            ] {
                if !out.iter().any(|(n, _)| n == k) {
                    out.push((k.into(), v.into()));
                }
            }
        }
        out.push((TARGET_MARKER.into(), self.name().into()));
        out
    }

    /// The answers of this target's compiler to `__has_attribute`, `__has_builtin`, `__has_feature`,
    /// `__has_extension` (`"__has_attribute packed"`: non-zero) and which of those operators it has
    /// (`"defined __has_feature"`), as recorded by `scripts/gen-predefined.sh`.
    pub fn compiler_queries(self) -> impl Iterator<Item = &'static str> {
        predefined_text(self)
            .lines()
            .filter_map(|l| l.strip_prefix("//@ "))
            .map(str::trim)
    }

    /// `__BIGGEST_ALIGNMENT__`: what a bare `__attribute__((aligned))` gives.
    pub fn biggest_alignment(self) -> u32 {
        parse_predefined(predefined_text(self))
            .into_iter()
            .find(|(n, _)| n == "__BIGGEST_ALIGNMENT__")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(if self.is_64bit() { 16 } else { 8 })
    }

    /// The target named by a [`TARGET_MARKER`] entry of predefined macros, if any.
    pub fn from_defines(defines: &[(String, String)]) -> Option<Target> {
        defines
            .iter()
            .rev()
            .find(|(n, _)| n == TARGET_MARKER)
            .and_then(|(_, v)| Target::from_name(v))
    }
}

/// A macro [`Target::predefined_macros`] adds to name its target (a reserved identifier no header uses).
pub const TARGET_MARKER: &str = "__ffi_doctor_target__";

/// The generated predefined-macro table of `t` (see `scripts/gen-predefined.sh`).
fn predefined_text(t: Target) -> &'static str {
    match t {
        Target::LinuxX86_64 => include_str!("predefined/linux-x86_64.txt"),
        Target::LinuxI386 => include_str!("predefined/linux-i386.txt"),
        Target::LinuxAarch64 => include_str!("predefined/linux-aarch64.txt"),
        Target::MacosX86_64 => include_str!("predefined/macos-x86_64.txt"),
        Target::MacosArm64 => include_str!("predefined/macos-arm64.txt"),
        Target::WindowsX64Msvc => include_str!("predefined/windows-x86_64-msvc.txt"),
        Target::WindowsX86Msvc => include_str!("predefined/windows-i686-msvc.txt"),
        Target::MingwX64 => include_str!("predefined/windows-x86_64-mingw.txt"),
        Target::MingwX86 => include_str!("predefined/windows-i686-mingw.txt"),
    }
}

/// `#define NAME BODY` / `#define NAME(a,b) BODY` lines as `(name-with-params, body)`; other lines are skipped.
pub fn parse_predefined(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("#define ") else {
            continue;
        };
        let name_end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let (name, after) = if rest[name_end..].starts_with('(') {
            match rest[name_end..].find(')') {
                Some(close) => rest.split_at(name_end + close + 1),
                None => continue,
            }
        } else {
            rest.split_at(name_end)
        };
        out.push((name.to_string(), after.trim().to_string()));
    }
    out
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
