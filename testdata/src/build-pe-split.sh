#!/usr/bin/env bash
# testdata/src/build-pe-split.sh - pe/split/{mingw64,mingw32}/: split.dll, whose import names live in two sections
# as delvewheel leaves them (it renames vendored DLLs and writes the longer name into the spare bytes at the end
# of another section), next to the vendored, renamed DLL it imports (ext-5e1f0c2a.dll).
# Sources: src/split.c, src/split_ext.c, src/ext.def, src/pe_split_name.py. Needs gcc-mingw-w64 (x86_64 + i686),
# binutils-mingw-w64, python3, llvm-readobj 14.
# Part of testdata/build.sh (after build-pe.sh, which empties pe/); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need python3 llvm-readobj x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc x86_64-w64-mingw32-dlltool i686-w64-mingw32-dlltool

rm -rf pe/split
NEW=ext-5e1f0c2a.dll   # delvewheel's shape: <name>-<hash>.dll, longer than ext.dll
# (GNU ld derives the auto image base from the output name: link to the final relative paths, patch in place.)
FLAGS="-O2 $PREFIX_MAP -Wl,--no-insert-timestamp -s -shared"
for t in x86_64 i686; do
    m=$([ $t = x86_64 ] && echo i386:x86-64 || echo i386)
    d=pe/split/mingw$([ $t = x86_64 ] && echo 64 || echo 32)
    mkdir -p $d
    (cd "$TMP" && $t-w64-mingw32-dlltool -m $m -d "$TD/src/ext.def" -l libext-$t.a)
    $t-w64-mingw32-gcc $FLAGS src/split.c "$TMP/libext-$t.a" -o $d/split.dll
    python3 src/pe_split_name.py $d/split.dll $d/split.dll ext.dll "$NEW"
    $t-w64-mingw32-gcc $FLAGS src/split_ext.c src/ext.def -o $d/$NEW
    built $d/split.dll $d/$NEW
done

# Sanity checks: llvm-readobj reads the moved name, and the other names are still where the linker put them.
for f in pe/split/mingw64/split.dll pe/split/mingw32/split.dll; do
    imports=$(llvm-readobj --coff-imports "$f")
    has "$imports" "Name: $NEW" "$f: renamed import"
    has "$imports" 'Name: KERNEL32.dll' "$f: KERNEL32.dll import"
    has "$imports" 'Symbol: ext_helper' "$f: import by name from the renamed DLL"
    has "$imports" 'Symbol:  \(7\)' "$f: import by ordinal from the renamed DLL"
done
has "$(llvm-readobj --coff-exports pe/split/mingw64/$NEW)" 'Name: ext_helper' "vendored DLL exports"

summary
