//! The registry of finding codes: one closed enum per family (FFI01xx symbols … FFI06xx policy, FFI08xx diff), gathered in one
//! [`Code`]. Each code carries its stable id, default severity, the check kind the gate and JUnit group it under,
//! a one-line SARIF rule text and the docs anchor of its family. `docs/findings.md` documents every code (a test
//! keeps the two equal and the ids unique).
//!
//! The families live here, on the lowest floor, because a code is the contract between the analysis that emits it
//! and every renderer and config that reads it; each family's doc comment names the module that emits it.

use std::fmt;

use serde::{Serialize, Serializer};

use super::Severity;

/// What part of a check a code belongs to: the gate's grouping and JUnit's test case names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckKind {
    /// Declared interface against the library (symbols, layouts, portability).
    Spec,
    /// Which libraries load, and from where.
    Dependencies,
    /// Whether imported symbols and versions bind.
    Symbols,
    /// What the library exports.
    Exports,
    /// Format, architectures and OS versions against the platform.
    Platform,
    /// Executable stack, text relocations, build-id.
    Hardening,
    /// The runtime probe.
    Runtime,
    /// Types between two releases (`diff`): functions, variables and the records and enums they reach.
    Abi,
}

impl CheckKind {
    /// The name used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Spec => "spec",
            CheckKind::Dependencies => "dependencies",
            CheckKind::Symbols => "symbols",
            CheckKind::Exports => "exports",
            CheckKind::Platform => "platform",
            CheckKind::Hardening => "hardening",
            CheckKind::Runtime => "runtime",
            CheckKind::Abi => "abi",
        }
    }
}

impl fmt::Display for CheckKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the registry knows about one code.
#[derive(Debug, Clone, Copy)]
pub struct CodeInfo {
    /// The stable id, e.g. `FFI0301`.
    pub id: &'static str,
    /// The severity a finding of this code has unless the rule or the config says otherwise.
    pub severity: Severity,
    /// The check kind the gate groups it under.
    pub kind: CheckKind,
    /// One line: the SARIF rule's short description.
    pub short: &'static str,
}

macro_rules! family {
    ($(#[$meta:meta])* $variant:ident: $name:ident, $anchor:literal {
        $($(#[$vmeta:meta])* $var:ident = $id:literal, $sev:ident, $kind:ident, $short:literal;)*
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $var,)*
        }

        impl $name {
            /// Every code of the family, in id order.
            pub const ALL: &'static [$name] = &[$($name::$var),*];
            /// The docs anchor of the family in `docs/findings.md`.
            pub const ANCHOR: &'static str = $anchor;

            /// What the registry knows about this code.
            pub const fn info(self) -> CodeInfo {
                match self {
                    $($name::$var => CodeInfo {
                        id: $id,
                        severity: Severity::$sev,
                        kind: CheckKind::$kind,
                        short: $short,
                    },)*
                }
            }
        }

        impl From<$name> for Code {
            fn from(c: $name) -> Code {
                Code::$variant(c)
            }
        }
    };
}

family! {
    /// FFI01xx: declared symbols against the exports (`check::symbols`).
    Symbol: SymbolCode, "ffi01xx--symbols-check" {
        NotExported = "FFI0101", Error, Spec, "Declared function is not exported";
        KindMismatch = "FFI0102", Error, Spec, "Declared as a function but exported as data, or the other way round";
        HiddenVersion = "FFI0103", Error, Spec, "Exported only at a non-default symbol version";
        VariableNotExported = "FFI0104", Error, Spec, "Declared variable is not exported";
    }
}

family! {
    /// FFI02xx: declared types against the ABI engine and the library's DWARF (`check::run`, `check::dwarf`).
    Layout: LayoutCode, "ffi02xx--layout-and-types" {
        Uncomputable = "FFI0200", Info, Spec, "The layout of a declared record cannot be computed for the target";
        TargetsDiffer = "FFI0201", Warning, Spec, "A record's layout differs between targets";
        SizeDiffers = "FFI0202", Error, Spec, "A declared record's size differs from the library's DWARF";
        MembersDiffer = "FFI0203", Error, Spec, "Members missing from or extra in the declaration";
        MemberOrder = "FFI0204", Error, Spec, "Members declared in another order than in the library";
        MemberOffset = "FFI0205", Error, Spec, "A member's offset differs from the library's DWARF";
        MemberType = "FFI0206", Error, Spec, "A member's type differs from the library's DWARF";
        Bitfield = "FFI0207", Error, Spec, "A bitfield's position or width differs from the library's DWARF";
        EnumeratorValue = "FFI0208", Error, Spec, "An enumerator's value differs from the library's";
        EnumSize = "FFI0209", Warning, Spec, "An enum type's size differs from the library's";
        ParamCount = "FFI0210", Error, Spec, "A function's parameter count differs from its definition";
        ParamType = "FFI0211", Error, Spec, "A parameter's type differs from the definition";
        ParamSignedness = "FFI0212", Warning, Spec, "A parameter differs only in signedness";
        ReturnType = "FFI0213", Error, Spec, "The return type differs from the definition";
        Variadic = "FFI0214", Error, Spec, "Variadic-ness differs from the definition";
        VariableType = "FFI0215", Error, Spec, "A variable's type differs from the library's";
        NoPrototype = "FFI0216", Info, Spec, "The library defines the function without a prototype";
        DwarfSummary = "FFI0217", Info, Spec, "What was compared with the library's DWARF";
        DeclaredUncomputable = "FFI0218", Info, Spec, "A declared layout cannot be computed: only names and types compared";
        Constness = "FFI0219", Info, Spec, "Const-ness differs between declaration and definition";
        NoDwarf = "FFI0220", Info, Spec, "No readable DWARF: declarations were not compared with it";
        PdbNotRead = "FFI0221", Info, Spec, "The library's debug info is a PDB, which is not read";
    }
}

family! {
    /// FFI03xx: loading and dependencies (`loader`).
    Load: LoadCode, "ffi03xx--loading-and-dependencies-deps-resolve-load" {
        NotFound = "FFI0301", Error, Dependencies, "A needed library cannot be found by the target's loader";
        UndefinedSymbol = "FFI0302", Error, Symbols, "An imported symbol does not bind";
        Cycle = "FFI0303", Info, Dependencies, "Dependency cycle";
        MissingVersion = "FFI0304", Error, Symbols, "A required symbol version is not defined";
        NoVersionInfo = "FFI0305", Warning, Symbols, "A library required with versions has no version information";
        DelayLoadMissing = "FFI0306", Warning, Dependencies, "A delay-loaded DLL cannot be found";
        OrdinalMissing = "FFI0307", Error, Symbols, "An import by ordinal that the DLL does not export";
        Unchecked = "FFI0308", Info, Dependencies, "Libraries whose symbols could not be checked";
        WeakAbsent = "FFI0309", Info, Dependencies, "A weak dylib is absent";
    }
}

family! {
    /// FFI04xx: portability traps in declarations (`check::portability`).
    Portability: PortabilityCode, "ffi04xx--portability-check" {
        Long = "FFI0401", Warning, Spec, "`long` differs in size between targets";
        WChar = "FFI0402", Warning, Spec, "`wchar_t` differs in size between targets";
        LongDouble = "FFI0403", Warning, Spec, "`long double` differs in size between targets";
        PlainChar = "FFI0404", Warning, Spec, "Plain `char` used as a number differs in signedness";
        EnumByValue = "FFI0405", Warning, Spec, "An enum type by value: its size is the compiler's choice";
        Bitfields = "FFI0406", Warning, Spec, "A record with bitfields";
        Packed = "FFI0407", Warning, Spec, "A packed record";
        RecordByValue = "FFI0408", Warning, Spec, "A struct or union passed or returned by value";
        Variadic = "FFI0409", Warning, Spec, "A variadic function";
        Callback = "FFI0410", Info, Spec, "A function taking a callback";
        DependsOnUnread = "FFI0411", Warning, Spec, "A declaration depends on a header that was not read";
        Summary = "FFI0412", Info, Spec, "Which portability findings matter for the requested targets";
    }
}

family! {
    /// FFI05xx: the runtime probe (`runtime`, `check --runtime`).
    Runtime: RuntimeCode, "ffi05xx--runtime-load-check---runtime" {
        Skipped = "FFI0500", Info, Runtime, "Runtime checks skipped";
        LoadFailed = "FFI0501", Error, Runtime, "The dynamic loader cannot load the library";
        Unresolved = "FFI0502", Error, Runtime, "A declared symbol cannot be resolved with dlsym";
        Interposed = "FFI0503", Warning, Runtime, "A symbol resolves into another object than the library";
        UnexpectedValue = "FFI0504", Error, Runtime, "A called function returned an unexpected value";
        Crashed = "FFI0505", Error, Runtime, "The library crashed the probe";
        TimedOut = "FFI0506", Error, Runtime, "The probe timed out";
        Exited = "FFI0507", Error, Runtime, "The library exited the probe process";
        Output = "FFI0508", Info, Runtime, "The library wrote to stdout/stderr while being probed";
        ProbeFailed = "FFI0509", Error, Runtime, "The runtime probe itself could not run";
        UnsafeCall = "FFI0510", Error, Runtime, "A requested call has no safe signature";
        Summary = "FFI0511", Info, Runtime, "Summary of a successful runtime probe";
        Interfered = "FFI0512", Error, Runtime, "The library interfered with the probe";
    }
}

family! {
    /// FFI06xx: release policies of the gate (`gate::policy`).
    Policy: PolicyCode, "ffi06xx--policy" {
        ExternalLibrary = "FFI0601", Error, Dependencies, "External library not allowed by the policy";
        SymbolVersion = "FFI0602", Error, Symbols, "GLIBC / GLIBCXX / CXXABI symbol version newer than allowed";
        Rpath = "FFI0603", Error, Dependencies, "Absolute RPATH / RUNPATH / LC_RPATH entry";
        MangledExports = "FFI0604", Error, Exports, "C++ or Rust symbols exported from a C API library";
        ExportPrefix = "FFI0605", Error, Exports, "Exported name without the required prefix";
        LibcClash = "FFI0606", Error, Exports, "Exported name clashes with the C library";
        MissingArch = "FFI0607", Error, Platform, "Universal binary lacks a required architecture";
        MinMacos = "FFI0608", Error, Platform, "Minimum macOS newer than allowed";
        PlatformTag = "FFI0609", Error, Platform, "Binary does not match the wheel's platform tag";
        ExecStack = "FFI0610", Error, Hardening, "Executable stack";
        TextRel = "FFI0611", Error, Hardening, "Text relocations";
        NoBuildId = "FFI0612", Error, Hardening, "No build-id";
        UnloadedLibrary = "FFI0613", Warning, Dependencies, "A shipped library that no extension module or executable loads";
        MsvcRuntime = "FFI0614", Warning, Dependencies, "MSVC runtime DLL needed but not shipped";
    }
}

family! {
    /// FFI07xx: Python bindings (ctypes modules, cffi code) against the library, its header and every target
    /// (`check::binding`, `gate`).
    Binding: BindingCode, "ffi07xx--python-bindings-check-lib-bindingpy" {
        Summary = "FFI0700", Info, Spec, "What was read from a Python binding and what it was checked against";
        NotExported = "FFI0701", Error, Spec, "A function the binding looks up is not exported by its library";
        MissingRestype = "FFI0702", Error, Spec, "No restype on a function whose C return type is not int-compatible";
        MissingArgtypes = "FFI0703", Warning, Spec, "No argtypes on a function with pointer, 64-bit, floating-point or struct parameters";
        ArgCount = "FFI0704", Error, Spec, "The binding passes or declares another number of arguments than the C function takes";
        ParamType = "FFI0705", Error, Spec, "A parameter's ctypes/cffi type differs from the C type in size or kind";
        ReturnType = "FFI0706", Error, Spec, "The restype differs from the C return type in size or kind";
        Signedness = "FFI0707", Warning, Spec, "A parameter or return type differs from the C type only in signedness";
        CharPOutput = "FFI0708", Warning, Spec, "c_char_p passed where the C function writes into a char buffer";
        CallbackType = "FFI0709", Error, Spec, "A callback prototype differs from the C function-pointer type";
        InlineCallback = "FFI0710", Warning, Spec, "A callback object created inline in a call can be collected while C holds it";
        Variadic = "FFI0711", Warning, Spec, "A variadic function called through ctypes or cffi ABI mode";
        UncheckedFindLibrary = "FFI0712", Warning, Spec, "find_library's result is loaded without a None check";
        Unresolved = "FFI0713", Info, Spec, "Something in the binding cannot be resolved statically";
        ApiMode = "FFI0714", Info, Spec, "cffi API mode: the C compiler checks these declarations";
        OtherLibrary = "FFI0715", Info, Spec, "Declarations on another library than the one checked";
        SyntaxError = "FFI0716", Info, Spec, "The Python parser recovered from syntax errors";
        RuntimeLibrary = "FFI0717", Error, Dependencies, "A library loaded at run time by Python code is neither shipped nor allowed";
        ErrnoNotSaved = "FFI0718", Warning, Spec, "ctypes.get_errno()/get_last_error() read, but no library is loaded with use_errno/use_last_error";
        CallingConvention = "FFI0719", Error, Spec, "A function is called with another calling convention than it has on 32-bit Windows";
    }
}

family! {
    /// FFI075x: ctypes record classes against the C declarations and the library's DWARF, with ctypes' own
    /// layout rules (`bindings::records`).
    BindingLayout: BindingLayoutCode, "ffi075x--ctypes-record-layouts" {
        NoCounterpart = "FFI0750", Info, Spec, "Record classes with no C struct or union of the same name";
        NotCompared = "FFI0751", Info, Spec, "A record class could not be compared (a type or layout is not known)";
        CtypesRaises = "FFI0752", Error, Spec, "ctypes refuses the record class when it is created";
        SizeDiffers = "FFI0753", Error, Spec, "A record class's size differs from the C record's";
        MembersDiffer = "FFI0754", Error, Spec, "Fields missing from or extra in the record class";
        MemberOrder = "FFI0755", Error, Spec, "Fields declared in another order than in C";
        MemberType = "FFI0756", Error, Spec, "A field's type differs from the C member's";
        MemberSignedness = "FFI0757", Warning, Spec, "A field differs from the C member only in signedness";
        Bitfield = "FFI0758", Error, Spec, "A field's bit width differs from the C member's, or only one is a bitfield";
        Pack = "FFI0759", Error, Spec, "`_pack_` differs from the C record's packing";
        Alignment = "FFI0760", Error, Spec, "The alignment differs from the C record's (`_align_`, alignment attributes)";
        CtypesRules = "FFI0761", Error, Spec, "ctypes lays the class out differently from the C compiler";
        PackWithoutLayout = "FFI0762", Warning, Spec, "`_pack_` without `_layout_` (deprecated in Python 3.14)";
        AttributeIgnored = "FFI0763", Warning, Spec, "A ctypes class attribute the Python version ignores";
    }
}

family! {
    /// FFI08xx: ABI changes between two releases of a library (`diff`).
    Diff: DiffCode, "ffi08xx--abi-changes-between-releases-diff" {
        ExportRemoved = "FFI0801", Error, Exports, "An exported symbol was removed";
        ExportAdded = "FFI0802", Info, Exports, "Symbols were added to the exports";
        ExportKind = "FFI0803", Error, Exports, "An export changed kind (function, data, TLS)";
        DataSize = "FFI0804", Error, Exports, "An exported variable changed size";
        DefaultVersion = "FFI0805", Error, Symbols, "A symbol's default version moved";
        VersionRemoved = "FFI0806", Error, Symbols, "A symbol version node was removed";
        VersionAdded = "FFI0807", Info, Symbols, "Symbol version nodes were added";
        Ordinal = "FFI0808", Error, Exports, "A PE export's ordinal changed or was removed";
        Forwarder = "FFI0809", Warning, Exports, "A PE forwarder or Mach-O re-export of a symbol changed";
        Reexport = "FFI0810", Warning, Dependencies, "A re-exported Mach-O library was added or removed";
        Identity = "FFI0811", Info, Dependencies, "The library's name (SONAME, install name, DLL name) changed";
        MachoVersion = "FFI0812", Error, Dependencies, "The Mach-O current or compatibility version changed";
        NeededAdded = "FFI0813", Warning, Dependencies, "A needed library was added";
        NeededRemoved = "FFI0814", Info, Dependencies, "A needed library was removed";
        Requirement = "FFI0815", Warning, Platform, "A newer GLIBC / GLIBCXX / CXXABI version is required";
        MinMacos = "FFI0816", Warning, Platform, "The minimum macOS version was raised";
        LibraryRemoved = "FFI0817", Error, Exports, "A library of the old release has no counterpart in the new one";
        LibraryAdded = "FFI0818", Info, Exports, "A library of the new release has no counterpart in the old one";
        ArchRemoved = "FFI0819", Error, Platform, "An architecture slice was removed";
        ArchAdded = "FFI0820", Info, Platform, "An architecture slice was added";
        ParamCount = "FFI0830", Error, Abi, "A function's parameter count changed";
        ParamType = "FFI0831", Error, Abi, "A parameter's type changed size or kind";
        ParamSignedness = "FFI0832", Warning, Abi, "A parameter's type changed signedness only";
        ReturnType = "FFI0833", Error, Abi, "A function's return type changed";
        Variadic = "FFI0834", Error, Abi, "A function became variadic or stopped being variadic";
        VariableType = "FFI0835", Error, Abi, "An exported variable's type changed";
        RecordSize = "FFI0836", Error, Abi, "A struct or union changed size";
        RecordAlign = "FFI0837", Error, Abi, "A struct or union changed alignment";
        MemberAdded = "FFI0838", Error, Abi, "A member was added to a struct or union";
        MemberRemoved = "FFI0839", Error, Abi, "A member was removed from a struct or union";
        MemberOrder = "FFI0840", Error, Abi, "Members of a struct or union changed order";
        MemberOffset = "FFI0841", Error, Abi, "A member moved";
        MemberType = "FFI0842", Error, Abi, "A member's type changed";
        Bitfield = "FFI0843", Error, Abi, "A bitfield's position or width changed";
        MemberRenamed = "FFI0844", Info, Abi, "A member was renamed, split or merged; the bytes are the same";
        EnumeratorAdded = "FFI0845", Info, Abi, "Enumerators were appended to an enum";
        EnumeratorChanged = "FFI0846", Error, Abi, "An enumerator was renumbered or removed";
        EnumSize = "FFI0847", Error, Abi, "An enum type changed size";
        Spelling = "FFI0848", Info, Abi, "Only a typedef name or a cv-qualifier changed";
        RecordKind = "FFI0849", Error, Abi, "A struct became a union or the other way round";
        NoDebugInfo = "FFI0850", Info, Abi, "No DWARF on one side: types were not compared";
        Summary = "FFI0851", Info, Abi, "What was compared";
    }
}

/// Every finding code ffi-doctor emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    Symbol(SymbolCode),
    Layout(LayoutCode),
    Load(LoadCode),
    Portability(PortabilityCode),
    Runtime(RuntimeCode),
    Policy(PolicyCode),
    Binding(BindingCode),
    BindingLayout(BindingLayoutCode),
    Diff(DiffCode),
}

impl Code {
    /// What the registry knows about this code.
    pub const fn info(self) -> CodeInfo {
        match self {
            Code::Symbol(c) => c.info(),
            Code::Layout(c) => c.info(),
            Code::Load(c) => c.info(),
            Code::Portability(c) => c.info(),
            Code::Runtime(c) => c.info(),
            Code::Policy(c) => c.info(),
            Code::Binding(c) => c.info(),
            Code::BindingLayout(c) => c.info(),
            Code::Diff(c) => c.info(),
        }
    }

    /// The stable id, e.g. `FFI0301`.
    pub const fn id(self) -> &'static str {
        self.info().id
    }

    /// The docs anchor of the code's family in `docs/findings.md`.
    pub const fn anchor(self) -> &'static str {
        match self {
            Code::Symbol(_) => SymbolCode::ANCHOR,
            Code::Layout(_) => LayoutCode::ANCHOR,
            Code::Load(_) => LoadCode::ANCHOR,
            Code::Portability(_) => PortabilityCode::ANCHOR,
            Code::Runtime(_) => RuntimeCode::ANCHOR,
            Code::Policy(_) => PolicyCode::ANCHOR,
            Code::Binding(_) => BindingCode::ANCHOR,
            Code::BindingLayout(_) => BindingLayoutCode::ANCHOR,
            Code::Diff(_) => DiffCode::ANCHOR,
        }
    }

    /// Every registered code, in id order.
    pub fn all() -> impl Iterator<Item = Code> {
        let symbol = SymbolCode::ALL.iter().map(|&c| Code::from(c));
        symbol
            .chain(LayoutCode::ALL.iter().map(|&c| c.into()))
            .chain(LoadCode::ALL.iter().map(|&c| c.into()))
            .chain(PortabilityCode::ALL.iter().map(|&c| c.into()))
            .chain(RuntimeCode::ALL.iter().map(|&c| c.into()))
            .chain(PolicyCode::ALL.iter().map(|&c| c.into()))
            .chain(BindingCode::ALL.iter().map(|&c| c.into()))
            .chain(BindingLayoutCode::ALL.iter().map(|&c| c.into()))
            .chain(DiffCode::ALL.iter().map(|&c| c.into()))
    }

    /// The registered code with this id (`FFI0301`), if there is one.
    pub fn parse(id: &str) -> Option<Code> {
        Code::all().find(|c| c.id() == id)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.id() == *other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_well_formed_and_in_order() {
        let ids: Vec<&str> = Code::all().map(|c| c.id()).collect();
        for id in &ids {
            assert!(
                id.len() == 7
                    && id.starts_with("FFI")
                    && id[3..].bytes().all(|b| b.is_ascii_digit()),
                "{id}"
            );
        }
        let mut sorted = ids.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(ids, sorted, "codes must be unique and listed in id order");
        assert_eq!(Code::parse("FFI0301"), Some(Code::Load(LoadCode::NotFound)));
        assert_eq!(Code::parse("FFI0000"), None);
    }

    /// GitHub's anchor for a Markdown heading.
    fn slug(heading: &str) -> String {
        heading
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect()
    }

    #[test]
    fn docs_list_exactly_the_registered_codes() {
        let docs = include_str!("../../docs/findings.md");
        let anchors: Vec<String> = docs
            .lines()
            .filter_map(|l| l.strip_prefix("## "))
            .map(slug)
            .collect();
        let rows: Vec<(&str, &str)> = docs
            .lines()
            .filter_map(|l| {
                let mut cells = l.split('|').map(str::trim).skip(1);
                let id = cells.next()?;
                let sev = cells.next()?;
                (id.starts_with("FFI0") && id.len() == 7).then_some((id, sev))
            })
            .collect();
        let documented: Vec<&str> = rows.iter().map(|r| r.0).collect();
        let registered: Vec<&str> = Code::all().map(|c| c.id()).collect();
        assert_eq!(
            documented, registered,
            "docs/findings.md and the registry differ"
        );
        for (code, (_, sev)) in Code::all().zip(&rows) {
            assert!(
                anchors.iter().any(|a| a == code.anchor()),
                "{code}: no heading in docs/findings.md has the anchor {}",
                code.anchor()
            );
            let default = match code.info().severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            assert!(
                sev.starts_with(default)
                    || (code.info().kind == CheckKind::Hardening && sev.contains("hardening")),
                "{code}: docs say severity `{sev}`, the registry's default is {default}"
            );
        }
    }
}
