#!/usr/bin/env bash
# testdata/src/build-dwarf.sh - dwarf/: libshapes (src/shapes.c) for the DWARF reader and `ffi-doctor layout`,
# checked against pahole (tests/oracle_dwarf.rs): DWARF 4/5 (clang), strict DWARF 2 (gcc), compressed debug
# sections, a split debug file, a mingw DLL with DWARF and an MSVC-style DLL with only a PDB reference.
# Needs clang/lld/llvm 14, gcc, binutils (objcopy, readelf), x86_64-w64-mingw32-gcc.
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need clang ld.lld gcc objcopy readelf llvm-objdump llvm-readobj x86_64-w64-mingw32-gcc

rm -rf dwarf; mkdir -p dwarf/split dwarf/pe
DW_CFLAGS="-O1 -fPIC -fvisibility=hidden $PREFIX_MAP"
DW_LDFLAGS="-shared -fuse-ld=lld -Wl,--build-id=sha1"
# clang DWARF 4 and 5 (DWARF 4 bitfields: DW_AT_bit_offset; DWARF 5: DW_AT_data_bit_offset)
for v in 4 5; do
    clang $DW_CFLAGS -gdwarf-$v $DW_LDFLAGS src/shapes.c -o dwarf/libshapes.dwarf$v.so
    built dwarf/libshapes.dwarf$v.so
done
# gcc strict DWARF 2: member offsets as DW_OP_plus_uconst expressions, no DW_AT_alignment
gcc $DW_CFLAGS -gdwarf-2 -gstrict-dwarf -shared -Wl,--build-id=sha1 src/shapes.c -o dwarf/libshapes.gcc-dwarf2.so
built dwarf/libshapes.gcc-dwarf2.so
# compressed debug sections: SHF_COMPRESSED zlib, legacy .zdebug_*, SHF_COMPRESSED zstd (binutils objcopy)
clang $DW_CFLAGS -gdwarf-5 -gz=zlib $DW_LDFLAGS src/shapes.c -o dwarf/libshapes.zlib.so
built dwarf/libshapes.zlib.so
objcopy --compress-debug-sections=zlib-gnu dwarf/libshapes.dwarf4.so dwarf/libshapes.zdebug.so
built dwarf/libshapes.zdebug.so
if objcopy --compress-debug-sections=zstd dwarf/libshapes.dwarf5.so dwarf/libshapes.zstd.so 2>/dev/null; then
    built dwarf/libshapes.zstd.so
else
    echo "note: objcopy cannot write zstd-compressed sections; dwarf/libshapes.zstd.so not built"
fi
# split: --only-keep-debug file + stripped library with .gnu_debuglink (same build-id)
cp dwarf/libshapes.dwarf5.so dwarf/split/libshapes.full.so
objcopy --only-keep-debug dwarf/split/libshapes.full.so dwarf/split/libshapes.so.debug
objcopy --strip-debug --add-gnu-debuglink=dwarf/split/libshapes.so.debug dwarf/split/libshapes.full.so dwarf/split/libshapes.so
rm dwarf/split/libshapes.full.so
built dwarf/split/libshapes.so dwarf/split/libshapes.so.debug
# mingw DLL with DWARF in PE sections (long names through the COFF string table)
x86_64-w64-mingw32-gcc -O1 -g $PREFIX_MAP -shared src/shapes.c -o dwarf/pe/shapes.dll
built dwarf/pe/shapes.dll
# MSVC-style DLL with only a CodeView/PDB reference (no DWARF)
# Built in a fixed directory with relative names: the PDB records paths, and /Brepro derives the image
# timestamp and PDB GUID from the contents, so a fixed path keeps the DLL byte-identical across builds.
PDB_DIR=/tmp/ffi-doctor-pdbonly-build
rm -rf "$PDB_DIR" && mkdir -p "$PDB_DIR"
cat > "$PDB_DIR/pdbonly.c" <<'C'
__declspec(dllexport) int pdb_only(int x) { return x + 1; }
C
(cd "$PDB_DIR" && clang --target=x86_64-pc-windows-msvc -g -gcodeview -ffreestanding -fdebug-compilation-dir=. \
    -c pdbonly.c -o pdbonly.obj &&
 ld.lld -flavor link /dll /noentry /nodefaultlib /Brepro /debug /pdb:pdbonly.pdb /pdbaltpath:pdbonly.pdb \
    pdbonly.obj /out:pdbonly.dll)
cp "$PDB_DIR/pdbonly.dll" dwarf/pe/pdbonly.dll
rm -rf "$PDB_DIR" dwarf/pe/pdbonly.pdb dwarf/pe/*.lib
built dwarf/pe/pdbonly.dll
has "$(readelf -S dwarf/libshapes.zlib.so)" 'debug_info' "zlib variant has .debug_info"
has "$(readelf -t dwarf/libshapes.zlib.so)" 'COMPRESSED' "zlib variant is compressed"
has "$(readelf -S dwarf/libshapes.zdebug.so)" 'zdebug_info' ".zdebug variant"
has "$(readelf --debug-dump=links dwarf/split/libshapes.so)" 'libshapes.so.debug' "split: debuglink"
if readelf -S dwarf/split/libshapes.so | grep -q '\.debug_info'; then fail "split library still has .debug_info"; fi
has "$(llvm-objdump -h dwarf/pe/shapes.dll)" 'debug_info' "mingw DLL has DWARF"
has "$(llvm-readobj --coff-debug-directory dwarf/pe/pdbonly.dll)" 'PDBFileName: pdbonly.pdb' "PDB-only DLL"
if grep -rqF "$TD" dwarf; then fail "absolute build path in dwarf fixtures"; fi
echo "dwarf: $(find dwarf -type f | wc -l) files"

summary
