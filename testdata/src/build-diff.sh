#!/usr/bin/env bash
# testdata/src/build-diff.sh - diff/: pairs of releases of one small C library (src/diff/difflib.c, its header
# src/diff/difflib.h), one change per pair, for `ffi-doctor diff` and its abidiff oracle (tests/diff_abidiff.rs).
#   diff/elf/    base-<tc>.so and <kind>.so for 46 change kinds; <tc> rotates over gcc and clang, DWARF 4 and 5
#   diff/pe/     mingw x86_64 DLLs with DWARF: base.dll and <kind>.dll
#   diff/macho/  arm64 / universal dylibs (exports only): base.dylib, base-fat.dylib and <kind>.dylib
# Every directory has a MANIFEST: `kind toolchain old new` per pair. Needs gcc, clang/lld/llvm 14, mingw-w64.
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need gcc clang ld.lld llvm-lipo x86_64-w64-mingw32-gcc readelf

rm -rf diff
mkdir -p diff/elf diff/pe diff/macho

SRC=src/diff/difflib.c
COMMON="-O2 -fPIC -fvisibility=hidden -Isrc/diff $PREFIX_MAP"

# elf OUT TOOLCHAIN MAP CFLAGS... -- LDFLAGS...
elf() {
    local out=$1 tc=$2 map=$3; shift 3
    local cflags=() ldflags=() seen=0
    for a in "$@"; do
        if [ "$a" = "--" ]; then seen=1; elif [ $seen = 0 ]; then cflags+=("$a"); else ldflags+=("$a"); fi
    done
    local cc dw
    case $tc in
        gcc4) cc=gcc; dw=-gdwarf-4 ;;
        gcc5) cc=gcc; dw=-gdwarf-5 ;;
        clang4) cc=clang; dw=-gdwarf-4 ;;
        clang5) cc=clang; dw=-gdwarf-5 ;;
    esac
    $cc $COMMON $dw ${cflags[@]+"${cflags[@]}"} -shared -o "$TMP/libdifflib.so" $SRC \
        -Wl,--version-script=src/diff/$map -Wl,-soname,libdifflib.so.1 -Wl,--build-id=none \
        -Wl,--no-as-needed ${ldflags[@]+"${ldflags[@]}"}
    cp "$TMP/libdifflib.so" "$out"
    built "$out"
}

TOOLCHAINS=(gcc4 gcc5 clang4 clang5)
for tc in "${TOOLCHAINS[@]}"; do
    elf diff/elf/base-$tc.so $tc base.map
done

# kind | macro (or -) | version script | extra link flags
KINDS="
nochange|-|base.map|
export_removed|K_EXPORT_REMOVED|base.map|
export_added|K_EXPORT_ADDED|base.map|
kind_changed|K_KIND_CHANGED|base.map|
data_size|K_DATA_SIZE|base.map|
default_moved|K_DEFAULT_MOVED|moved.map|
version_removed|-|gone.map|
version_added|K_VERSION_ADDED|added.map|
soname_changed|-|base.map|-Wl,-soname,libdifflib.so.2
needed_added|K_NEEDED_ADDED|base.map|-lm
needed_removed|-|base.map|
glibc_raised|K_GLIBC_RAISED|base.map|
param_count|K_PARAM_COUNT|base.map|
param_type|K_PARAM_TYPE|base.map|
param_sign|K_PARAM_SIGN|base.map|
return_type|K_RETURN_TYPE|base.map|
variadic|K_VARIADIC|base.map|
pointee|K_POINTEE|base.map|
cv_changed|K_CV|base.map|
typedef_name|K_TYPEDEF_NAME|base.map|
variable_type|K_VARIABLE_TYPE|base.map|
const_var|K_CONST_VAR|base.map|
member_added|K_MEMBER_ADDED|base.map|
member_removed|K_MEMBER_REMOVED|base.map|
member_order|K_MEMBER_ORDER|base.map|
member_offset|K_MEMBER_OFFSET|base.map|
member_type|K_MEMBER_TYPE|base.map|
member_sign|K_MEMBER_SIGN|base.map|
member_renamed|K_MEMBER_RENAMED|base.map|
array_len|K_ARRAY_LEN|base.map|
fnptr|K_FNPTR|base.map|
bitfield_width|K_BITFIELD_WIDTH|base.map|
bitfield_pos|K_BITFIELD_POS|base.map|
record_kind|K_RECORD_KIND|base.map|
nested|K_NESTED|base.map|
anon_union|K_ANON_UNION|base.map|
record_align|K_RECORD_ALIGN|base.map|
pointed_record|K_POINTED_RECORD|base.map|
enum_appended|K_ENUM_APPENDED|base.map|
enum_renumber|K_ENUM_RENUMBER|base.map|
enum_removed|K_ENUM_REMOVED|base.map|
enum_size|K_ENUM_SIZE|base.map|
return_record|K_RETURN_RECORD|base.map|
opaque_internal|K_OPAQUE_INTERNAL|base.map|
static_added|K_STATIC_ADDED|base.map|
soname_break|K_EXPORT_REMOVED|base.map|-Wl,-soname,libdifflib.so.2
"
: > diff/elf/MANIFEST
i=0
while IFS='|' read -r kind macro map ldflags; do
    [ -n "$kind" ] || continue
    tc=${TOOLCHAINS[$((i % 4))]}
    i=$((i + 1))
    def=()
    [ "$macro" = - ] || def=(-D"$macro")
    old=base-$tc.so
    if [ "$kind" = needed_removed ]; then
        old=needed_removed-old.so
        elf diff/elf/$old $tc base.map -- -lm
    fi
    # shellcheck disable=SC2086
    elf diff/elf/$kind.so $tc "$map" ${def[@]+"${def[@]}"} -- $ldflags
    echo "$kind $tc $old $kind.so" >> diff/elf/MANIFEST
done <<<"$KINDS"

# PE (mingw, DWARF 4): every global exported (ordinals follow the names' order, as with a .def file without @N).
# (`long` is 4 bytes here: int → long is no change on Windows, so the type pair changes a return to long long.)
pe() {
    local out=$1; shift
    x86_64-w64-mingw32-gcc -O2 -gdwarf-4 -Isrc/diff $PREFIX_MAP "$@" -shared -o "$TMP/difflib.dll" $SRC \
        -Wl,--export-all-symbols -Wl,--no-insert-timestamp -Wl,--image-base,0x6a0000000
    cp "$TMP/difflib.dll" "$out"
    built "$out"
}
pe diff/pe/base.dll
: > diff/pe/MANIFEST
for kv in export_removed:K_EXPORT_REMOVED export_added:K_EXPORT_ADDED return_type:K_RETURN_TYPE \
          member_added:K_MEMBER_ADDED nochange:-; do
    kind=${kv%%:*} macro=${kv#*:}
    if [ "$macro" = - ]; then pe diff/pe/$kind.dll; else pe diff/pe/$kind.dll -D"$macro"; fi
    echo "$kind mingw64 base.dll $kind.dll" >> diff/pe/MANIFEST
done
# A forwarder that points elsewhere: both releases forward dl_fwd to KERNEL32, to another function in NEW.
pe diff/pe/forwarder-old.dll src/diff/fwd_old.def
pe diff/pe/forwarder.dll src/diff/fwd_new.def
echo "forwarder mingw64 forwarder-old.dll forwarder.dll" >> diff/pe/MANIFEST

# Mach-O (exports only: no dSYM): ld64.lld without an SDK, as build-macho.sh.
macho() {
    local out=$1 arch=$2 minos=$3; shift 3
    clang --target=$arch-apple-macos$minos -O2 -ffreestanding -fvisibility=hidden -DDL_FREESTANDING -Isrc/diff \
        $PREFIX_MAP -fuse-ld=lld -nostdlib -shared "$@" -o "$TMP/libdifflib.dylib" $SRC src/libSystem.tbd \
        -Wl,-undefined,dynamic_lookup
    cp "$TMP/libdifflib.dylib" "$out"
}
V2="-Wl,-install_name,@rpath/libdifflib.dylib -Wl,-current_version,2.0.0 -Wl,-compatibility_version,2.0.0"
# shellcheck disable=SC2086
{
macho diff/macho/base.dylib arm64 11 $V2; built diff/macho/base.dylib
macho "$TMP/base-x86_64.dylib" x86_64 11 $V2
llvm-lipo -create "$TMP/base-x86_64.dylib" diff/macho/base.dylib -output diff/macho/base-fat.dylib
built diff/macho/base-fat.dylib
macho diff/macho/export_removed.dylib arm64 11 $V2 -DK_EXPORT_REMOVED; built diff/macho/export_removed.dylib
macho diff/macho/install_name.dylib arm64 11 -Wl,-install_name,@rpath/libdifflib.3.dylib \
    -Wl,-current_version,3.0.0 -Wl,-compatibility_version,3.0.0
built diff/macho/install_name.dylib
macho diff/macho/version_lowered.dylib arm64 11 -Wl,-install_name,@rpath/libdifflib.dylib \
    -Wl,-current_version,1.5.0 -Wl,-compatibility_version,1.0.0
built diff/macho/version_lowered.dylib
macho diff/macho/minos_raised.dylib arm64 13 $V2; built diff/macho/minos_raised.dylib
clang --target=arm64-apple-macos11 -O2 -ffreestanding $PREFIX_MAP -fuse-ld=lld -nostdlib -shared \
    -Wl,-install_name,/usr/lib/libdiffextra.dylib -o "$TMP/libdiffextra.dylib" src/diff/extra.c
macho diff/macho/reexport_added.dylib arm64 11 $V2 -Wl,-reexport_library,"$TMP/libdiffextra.dylib"
built diff/macho/reexport_added.dylib
macho "$TMP/x.dylib" x86_64 11 $V2 -DK_EXPORT_ADDED
macho "$TMP/a.dylib" arm64 11 $V2 -DK_EXPORT_ADDED
llvm-lipo -create "$TMP/x.dylib" "$TMP/a.dylib" -output diff/macho/fat_export_added.dylib
built diff/macho/fat_export_added.dylib
}
cp diff/macho/base.dylib diff/macho/arch_removed.dylib
cat > diff/macho/MANIFEST <<MF
export_removed arm64 base.dylib export_removed.dylib
install_name arm64 base.dylib install_name.dylib
version_lowered arm64 base.dylib version_lowered.dylib
minos_raised arm64 base.dylib minos_raised.dylib
fat_export_added fat base-fat.dylib fat_export_added.dylib
arch_removed fat base-fat.dylib base.dylib
reexport_added arm64 base.dylib reexport_added.dylib
MF
rm diff/macho/arch_removed.dylib

# Sanity checks on what the tests rely on.
has "$(readelf --dyn-syms -W diff/elf/default_moved.so)" 'dl_ver@DL_1.0' "default_moved keeps dl_ver@DL_1.0"
has "$(readelf -V diff/elf/default_moved.so)" 'DL_2.0' "default_moved defines DL_2.0"
has "$(readelf -d diff/elf/needed_added.so)" 'libm.so.6' "needed_added needs libm"
has "$(readelf --debug-dump=info diff/elf/base-clang5.so | head -20)" 'Version:.*5' "clang DWARF 5"
has "$(readelf --debug-dump=info diff/elf/base-gcc4.so | head -20)" 'Version:.*4' "gcc DWARF 4"
summary
