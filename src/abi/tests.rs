//! Unit tests for the ABI facts in DESIGN.md (the exhaustive check against compilers is tests/oracle_abi.rs).

use super::*;
use crate::binary::Format;
use crate::decl::{Enum, Field, Loc, Prim, QualType, Record, RecordKind, Spec, Type};

fn p(prim: Prim) -> Type {
    Type::Prim { prim }
}

fn named(n: &str) -> Type {
    Type::Named { name: n.into() }
}

fn lay(t: Target, ty: Type) -> (u64, u64) {
    let l = type_layout(&Spec::default(), &ty, t).unwrap();
    (l.size, l.align)
}

fn field(name: &str, ty: Type) -> Field {
    Field {
        name: Some(name.into()),
        ty: QualType::new(ty),
        bits: None,
        aligned: None,
        packed: false,
        loc: Loc::default(),
    }
}

fn bf(name: Option<&str>, ty: Type, bits: u32) -> Field {
    Field {
        name: name.map(Into::into),
        bits: Some(bits),
        ..field("x", ty)
    }
}

fn rec(kind: RecordKind, fields: Vec<Field>) -> Record {
    Record {
        kind,
        tag: Some("s".into()),
        fields,
        complete: true,
        partial: false,
        packed: false,
        pack: None,
        aligned: None,
        loc: Loc::default(),
    }
}

fn layout1(t: Target, r: Record) -> RecordLayout {
    let spec = Spec {
        records: vec![r],
        ..Default::default()
    };
    record_layout(&spec, 0, t).unwrap()
}

#[test]
fn names_round_trip() {
    for t in Target::ALL {
        assert_eq!(Target::from_name(t.name()), Some(t));
        assert_eq!(Target::from_name(t.clang_triple()), Some(t));
    }
    assert_eq!(Target::from_name("nope"), None);
}

#[test]
fn long_is_8_on_lp64_4_elsewhere() {
    for t in Target::ALL {
        let want = if matches!(t, Target::WindowsX64Msvc | Target::MingwX64) || !t.is_64bit() {
            4
        } else {
            8
        };
        assert_eq!(lay(t, p(Prim::Long)).0, want, "{t}");
        assert_eq!(
            lay(
                t,
                Type::Pointer {
                    pointee: Box::new(QualType::new(p(Prim::Void)))
                }
            )
            .0,
            t.pointer_size()
        );
    }
}

#[test]
fn wchar_t_4_on_unix_2_on_windows() {
    for t in Target::ALL {
        let want = if t.is_windows() { (2, 2) } else { (4, 4) };
        assert_eq!(lay(t, p(Prim::WChar)), want, "{t}");
        assert_eq!(lay(t, named("wchar_t")), want, "{t}");
    }
}

#[test]
fn long_double() {
    assert_eq!(lay(Target::LinuxX86_64, p(Prim::LongDouble)), (16, 16));
    assert_eq!(lay(Target::LinuxAarch64, p(Prim::LongDouble)), (16, 16));
    assert_eq!(lay(Target::MacosX86_64, p(Prim::LongDouble)), (16, 16));
    assert_eq!(lay(Target::MacosArm64, p(Prim::LongDouble)), (8, 8));
    assert_eq!(lay(Target::WindowsX64Msvc, p(Prim::LongDouble)), (8, 8));
    assert_eq!(lay(Target::WindowsX86Msvc, p(Prim::LongDouble)), (8, 8));
    assert_eq!(lay(Target::LinuxI386, p(Prim::LongDouble)), (12, 4));
    assert_eq!(lay(Target::MingwX86, p(Prim::LongDouble)), (12, 4));
    assert_eq!(lay(Target::MingwX64, p(Prim::LongDouble)), (16, 16));
}

#[test]
fn i386_double_align_4_but_msvc_8() {
    let r = || {
        rec(
            RecordKind::Struct,
            vec![field("c", p(Prim::Char)), field("d", p(Prim::Double))],
        )
    };
    let l = layout1(Target::LinuxI386, r());
    assert_eq!((l.size, l.align, l.fields[1].offset), (12, 4, 4));
    assert_eq!(l.holes, vec![(1, 3)]);
    let l = layout1(Target::WindowsX86Msvc, r());
    assert_eq!((l.size, l.align, l.fields[1].offset), (16, 8, 8));
    let l = layout1(Target::MingwX86, r());
    assert_eq!((l.size, l.align, l.fields[1].offset), (16, 8, 8));
    assert_eq!(lay(Target::LinuxI386, p(Prim::LongLong)), (8, 4));
    assert_eq!(lay(Target::LinuxI386, named("int64_t")), (8, 4));
    assert_eq!(lay(Target::WindowsX86Msvc, p(Prim::LongLong)), (8, 8));
}

#[test]
fn bitfields_sysv_straddle_vs_msvc_new_unit() {
    // struct { char a:4; int b:8; char c; }
    let r = || {
        rec(
            RecordKind::Struct,
            vec![
                bf(Some("a"), p(Prim::Char), 4),
                bf(Some("b"), p(Prim::Int), 8),
                field("c", p(Prim::Char)),
            ],
        )
    };
    let l = layout1(Target::LinuxX86_64, r());
    assert_eq!(l.fields[1].bit_offset, Some(4));
    assert_eq!((l.fields[2].offset, l.size, l.align), (2, 4, 4));
    for t in [Target::WindowsX64Msvc, Target::MingwX64] {
        let l = layout1(t, r());
        assert_eq!(l.fields[1].bit_offset, Some(32), "{t}");
        assert_eq!((l.fields[2].offset, l.size, l.align), (8, 12, 4), "{t}");
    }
    // SysV: a bitfield that would cross its type's alignment unit moves to the next unit.
    let r = rec(
        RecordKind::Struct,
        vec![
            bf(Some("a"), p(Prim::Int), 30),
            bf(Some("b"), p(Prim::Int), 4),
        ],
    );
    let l = layout1(Target::LinuxX86_64, r);
    assert_eq!((l.fields[1].bit_offset, l.size), (Some(32), 8));
    // i386: long long is 4-aligned, so a 64-bit unit may start at any 32-bit boundary.
    let r = rec(
        RecordKind::Struct,
        vec![
            bf(Some("a"), p(Prim::Int), 20),
            bf(Some("b"), p(Prim::LongLong), 50),
        ],
    );
    let l = layout1(Target::LinuxI386, r.clone());
    assert_eq!((l.fields[1].bit_offset, l.size, l.align), (Some(32), 12, 4));
    let l = layout1(Target::LinuxX86_64, r);
    assert_eq!((l.fields[1].bit_offset, l.size, l.align), (Some(64), 16, 8));
}

#[test]
fn zero_width_and_unnamed_bitfields() {
    // struct { char a; int :0; char b; }: :0 aligns to int on SysV; ignored after a non-bitfield on MSVC.
    let r = || {
        rec(
            RecordKind::Struct,
            vec![
                field("a", p(Prim::Char)),
                bf(None, p(Prim::Int), 0),
                field("b", p(Prim::Char)),
            ],
        )
    };
    let l = layout1(Target::LinuxX86_64, r());
    assert_eq!((l.fields[2].offset, l.size, l.align), (4, 5, 1));
    let l = layout1(Target::LinuxAarch64, r());
    assert_eq!((l.fields[2].offset, l.size, l.align), (4, 8, 4));
    let l = layout1(Target::WindowsX64Msvc, r());
    assert_eq!((l.fields[2].offset, l.size, l.align), (1, 2, 1));
    // Unnamed non-zero bitfield: no alignment on x86 SysV, alignment on MSVC.
    let r = || {
        rec(
            RecordKind::Struct,
            vec![field("a", p(Prim::Char)), bf(None, p(Prim::Int), 3)],
        )
    };
    assert_eq!(layout1(Target::LinuxX86_64, r()).size, 2);
    assert_eq!(layout1(Target::WindowsX64Msvc, r()).size, 8);
}

#[test]
fn mingw_ms_bitfield_gcc_quirks() {
    // Verified with x86_64-w64-mingw32-gcc and i686-w64-mingw32-gcc 12 (default -mms-bitfields).
    // struct T { char p; __attribute__((packed)) int a:11; unsigned long :0; signed char c:5; };
    // a at bit 8; `:0` uses up a's unit (bytes 1..5) but does not realign (same type size), yet raises the
    // record's alignment: c at bit 40, sizeof 8, _Alignof 4.
    let mut a = bf(Some("a"), p(Prim::Int), 11);
    a.packed = true;
    let r = rec(
        RecordKind::Struct,
        vec![
            field("p", p(Prim::Char)),
            a,
            bf(None, p(Prim::ULong), 0),
            bf(Some("c"), p(Prim::SChar), 5),
        ],
    );
    // struct __attribute__((packed)) T { char p; unsigned short c:8; _Bool d __attribute__((aligned(2))); char e; };
    // GCC decides whether d needs realigning at bit 16 (already 2-aligned) before using up the rest of c's
    // unit, so d lands at offset 3 despite aligned(2): e at 4, sizeof 6, _Alignof 2.
    let mut d = field("d", p(Prim::Bool));
    d.aligned = Some(2);
    let mut r2 = rec(
        RecordKind::Struct,
        vec![
            field("p", p(Prim::Char)),
            bf(Some("c"), p(Prim::UShort), 8),
            d,
            field("e", p(Prim::Char)),
        ],
    );
    r2.packed = true;
    for t in [Target::MingwX86, Target::MingwX64] {
        let l = layout1(t, r.clone());
        assert_eq!(
            (
                l.fields[1].bit_offset,
                l.fields[3].bit_offset,
                l.size,
                l.align
            ),
            (Some(8), Some(40), 8, 4),
            "{t}"
        );
        let l = layout1(t, r2.clone());
        assert_eq!(
            (
                l.fields[1].bit_offset,
                l.fields[2].offset,
                l.fields[3].offset,
                l.size,
                l.align
            ),
            (Some(8), 3, 4, 6, 2),
            "{t}"
        );
    }
}

#[test]
fn pack_and_packed() {
    let r = || {
        rec(
            RecordKind::Struct,
            vec![
                field("c", p(Prim::Char)),
                field("i", p(Prim::Int)),
                field("d", p(Prim::Double)),
            ],
        )
    };
    let mut packed = r();
    packed.packed = true;
    let l = layout1(Target::LinuxX86_64, packed);
    assert_eq!(
        (l.size, l.align, l.fields[1].offset, l.fields[2].offset),
        (13, 1, 1, 5)
    );
    let mut pack2 = r();
    pack2.pack = Some(2);
    for t in Target::ALL {
        let l = layout1(t, pack2.clone());
        assert_eq!(
            (l.size, l.align, l.fields[1].offset, l.fields[2].offset),
            (14, 2, 2, 6),
            "{t}"
        );
    }
    let mut aligned = r();
    aligned.aligned = Some(32);
    let l = layout1(Target::LinuxX86_64, aligned);
    assert_eq!((l.size, l.align, l.tail_padding), (32, 32, 16));
}

#[test]
fn flexible_array_member() {
    let r = rec(
        RecordKind::Struct,
        vec![
            field("n", p(Prim::Char)),
            field(
                "d",
                Type::Array {
                    elem: Box::new(QualType::new(p(Prim::Double))),
                    len: None,
                },
            ),
        ],
    );
    let l = layout1(Target::LinuxX86_64, r);
    assert_eq!((l.size, l.align, l.fields[1].offset), (8, 8, 8));
}

#[test]
fn union_layout() {
    let r = rec(
        RecordKind::Union,
        vec![
            field(
                "c",
                Type::Array {
                    elem: Box::new(QualType::new(p(Prim::Char))),
                    len: Some(5),
                },
            ),
            field("i", p(Prim::Int)),
        ],
    );
    let l = layout1(Target::LinuxX86_64, r);
    assert_eq!((l.size, l.align, l.tail_padding), (8, 4, 3));
}

#[test]
fn enums() {
    let mk = |vals: Vec<i128>| Spec {
        enums: vec![Enum {
            tag: Some("e".into()),
            variants: vals
                .into_iter()
                .enumerate()
                .map(|(i, v)| (format!("V{i}"), Some(v)))
                .collect(),
            complete: true,
            partial: false,
            loc: Loc::default(),
        }],
        ..Default::default()
    };
    let e = Type::Enum { id: 0 };
    assert_eq!(
        type_layout(&mk(vec![0, 1]), &e, Target::LinuxX86_64).unwrap(),
        Layout { size: 4, align: 4 }
    );
    assert_eq!(
        type_layout(&mk(vec![0xffff_ffff]), &e, Target::LinuxX86_64)
            .unwrap()
            .size,
        4
    );
    assert_eq!(
        type_layout(&mk(vec![1 << 40]), &e, Target::LinuxX86_64).unwrap(),
        Layout { size: 8, align: 8 }
    );
    assert_eq!(
        type_layout(&mk(vec![1 << 40]), &e, Target::LinuxI386).unwrap(),
        Layout { size: 8, align: 4 }
    );
    assert_eq!(
        type_layout(&mk(vec![1 << 40]), &e, Target::WindowsX64Msvc)
            .unwrap()
            .size,
        4
    );
}

#[test]
fn standard_typedefs() {
    assert_eq!(lay(Target::WindowsX64Msvc, named("size_t")), (8, 8));
    assert_eq!(lay(Target::LinuxI386, named("size_t")), (4, 4));
    assert_eq!(lay(Target::LinuxX86_64, named("int_fast16_t")).0, 8);
    assert_eq!(lay(Target::LinuxI386, named("int_fast16_t")).0, 4);
    assert_eq!(lay(Target::WindowsX64Msvc, named("int_fast16_t")).0, 4);
    assert_eq!(lay(Target::MingwX64, named("int_fast16_t")).0, 2);
    assert_eq!(lay(Target::MacosArm64, named("int_fast16_t")).0, 2);
    assert_eq!(lay(Target::LinuxX86_64, named("va_list")), (24, 8));
    assert_eq!(lay(Target::LinuxAarch64, named("va_list")), (32, 8));
    assert_eq!(lay(Target::MacosArm64, named("va_list")), (8, 8));
    assert_eq!(lay(Target::WindowsX86Msvc, named("va_list")), (4, 4));
    assert_eq!(lay(Target::WindowsX86Msvc, named("time_t")), (8, 8));
    assert_eq!(lay(Target::LinuxI386, named("time_t")), (4, 4));
}

#[test]
fn errors_name_the_type() {
    let s = Spec::default();
    let e = type_layout(&s, &named("FILE"), Target::LinuxX86_64).unwrap_err();
    assert!(e.message.contains("FILE"), "{e}");
    let e = type_layout(&s, &named("my_handle"), Target::LinuxX86_64).unwrap_err();
    assert!(e.message.contains("my_handle"), "{e}");
    let e = type_layout(&s, &p(Prim::Void), Target::LinuxX86_64).unwrap_err();
    assert!(e.message.contains("void"), "{e}");
    let mut r = rec(RecordKind::Struct, vec![]);
    r.complete = false;
    let spec = Spec {
        records: vec![r],
        ..Default::default()
    };
    let e = type_layout(&spec, &Type::Record { id: 0 }, Target::LinuxX86_64).unwrap_err();
    assert!(e.message.contains("struct s"), "{e}");
    assert!(type_layout(&s, &p(Prim::Int128), Target::LinuxI386).is_err());
}

#[test]
fn image_targets() {
    assert_eq!(
        for_image(Format::Elf, "x86_64", false),
        Some(Target::LinuxX86_64)
    );
    assert_eq!(
        for_image(Format::Elf, "i386", false),
        Some(Target::LinuxI386)
    );
    assert_eq!(
        for_image(Format::Elf, "aarch64", false),
        Some(Target::LinuxAarch64)
    );
    assert_eq!(
        for_image(Format::Macho, "arm64", false),
        Some(Target::MacosArm64)
    );
    assert_eq!(
        for_image(Format::Macho, "x86_64", false),
        Some(Target::MacosX86_64)
    );
    assert_eq!(
        for_image(Format::Pe, "x86_64", false),
        Some(Target::WindowsX64Msvc)
    );
    assert_eq!(for_image(Format::Pe, "i386", true), Some(Target::MingwX86));
    assert_eq!(for_image(Format::Elf, "riscv64", false), None);
}

#[test]
fn macros() {
    let has = |t: Target, k: &str| t.predefined_macros().iter().any(|(n, _)| n == k);
    assert!(has(Target::WindowsX64Msvc, "_WIN64") && has(Target::WindowsX64Msvc, "_MSC_VER"));
    assert!(!has(Target::WindowsX64Msvc, "__GNUC__"));
    assert!(
        has(Target::MingwX86, "__MINGW32__")
            && has(Target::MingwX86, "__GNUC__")
            && !has(Target::MingwX86, "_WIN64")
    );
    assert!(has(Target::MacosArm64, "__APPLE__") && has(Target::LinuxX86_64, "__x86_64__"));
    let long = |t: Target| {
        t.predefined_macros()
            .into_iter()
            .find(|(n, _)| n == "__SIZEOF_LONG__")
            .unwrap()
            .1
    };
    assert_eq!(long(Target::LinuxX86_64), "8");
    assert_eq!(long(Target::WindowsX64Msvc), "4");
}

#[test]
fn pahole_rendering() {
    let r = rec(
        RecordKind::Struct,
        vec![
            field("c", p(Prim::Char)),
            field("d", p(Prim::Double)),
            field("e", p(Prim::Char)),
        ],
    );
    let spec = Spec {
        records: vec![r],
        ..Default::default()
    };
    let l = record_layout(&spec, 0, Target::LinuxX86_64).unwrap();
    let s = render_pahole(&spec, 0, &l);
    assert!(s.contains("/* XXX 7 bytes hole, try to pack */"), "{s}");
    assert!(s.contains("/* padding: 7 */"), "{s}");
    assert!(s.contains("size: 24"), "{s}");
}
