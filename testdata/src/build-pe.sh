#!/usr/bin/env bash
# testdata/src/build-pe.sh - pe/{mingw64,mingw32,msvc64}/: demo.dll (GNU ld, ld.lld and lld-link), cxx.dll.
# Sources: src/demo.c, src/mangled.c, src/cxx.cpp, src/win.def, src/win32.def, src/ext.def, src/delayed.def,
# src/crt_stdio.def, src/delayhlp.c, src/dllmain.c. Needs clang/lld/llvm 14, gcc-mingw-w64 (x86_64 + i686),
# binutils-mingw-w64.
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need clang clang++ llvm-dlltool llvm-readobj llvm-objdump x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc x86_64-w64-mingw32-dlltool i686-w64-mingw32-dlltool

rm -rf pe
mkdir -p pe/{mingw64,mingw32,msvc64}

# Import libraries: ext.dll (ext_by_ordinal is NONAME @7 -> import by ordinal),
# delayed.dll, and the UCRT stdio API set for the -nostdlib MSVC build.
for t in x86_64 i686; do
    m=$([ $t = x86_64 ] && echo i386:x86-64 || echo i386)
    # (run inside $TMP: dlltool bakes the output path into symbol names)
    (cd "$TMP" && $t-w64-mingw32-dlltool -m $m -d "$TD/src/ext.def" -l libext-$t.a)
    (cd "$TMP" && $t-w64-mingw32-dlltool -m $m -d "$TD/src/delayed.def" -l libdelayed-$t.a)
done
llvm-dlltool -m i386:x86-64 -d src/ext.def -l "$TMP/ext.lib"
llvm-dlltool -m i386:x86-64 -d src/delayed.def -l "$TMP/delayed.lib"
llvm-dlltool -m i386:x86-64 -d src/crt_stdio.def -l "$TMP/crt_stdio.lib"

MINGW_FLAGS="-O2 $PREFIX_MAP -Wl,--no-insert-timestamp"

# mingw (GNU ld 2.40). GNU ld cannot produce a delay-import directory
# (dlltool --output-delaylib objects link, but the data directory stays
# empty), so delayed.dll is a normal import here; see pe/mingw64/demo_lld.dll.
x86_64-w64-mingw32-gcc $MINGW_FLAGS -shared src/demo.c src/mangled.c src/win.def \
    "$TMP/libext-x86_64.a" "$TMP/libdelayed-x86_64.a" -o pe/mingw64/demo.dll
built pe/mingw64/demo.dll

# i686: __stdcall/__fastcall exported decorated (demo_stdcall@8, @demo_fastcall@8)
i686-w64-mingw32-gcc $MINGW_FLAGS -shared src/demo.c src/mangled.c src/win32.def \
    "$TMP/libext-i686.a" "$TMP/libdelayed-i686.a" -o pe/mingw32/demo.dll
built pe/mingw32/demo.dll

# mingw CRT + ld.lld (MinGW driver): real delay-import directory for delayed.dll.
# lld only delay-loads short-format import libraries -> llvm-dlltool.
llvm-dlltool -m i386:x86-64 -d src/ext.def -l "$TMP/libext-llvm.a"
llvm-dlltool -m i386:x86-64 -d src/delayed.def -l "$TMP/libdelayed-llvm.a"
MINGW_GCC_DIR=$(dirname "$(x86_64-w64-mingw32-gcc -print-libgcc-file-name)")
clang --target=x86_64-w64-mingw32 -fuse-ld=lld -O2 $PREFIX_MAP -shared -L"$MINGW_GCC_DIR" \
    src/demo.c src/mangled.c src/win.def "$TMP/libext-llvm.a" "$TMP/libdelayed-llvm.a" \
    -Wl,--delayload=delayed.dll -Wl,--no-insert-timestamp -o pe/mingw64/demo_lld.dll
built pe/mingw64/demo_lld.dll

# C++ for mingw (Itanium names), no libstdc++ needed. Compiled with clang
# (g++-mingw-w64 is not required), linked by mingw gcc / GNU ld.
clang++ --target=x86_64-w64-mingw32 -O2 $PREFIX_MAP -nostdinc++ -fno-exceptions -fno-rtti \
    -c src/cxx.cpp -o "$TMP/cxx-mingw.o"
x86_64-w64-mingw32-gcc $MINGW_FLAGS -shared "$TMP/cxx-mingw.o" -static-libgcc \
    -o pe/mingw64/cxx.dll
built pe/mingw64/cxx.dll

# MSVC ABI via clang + lld-link, no CRT
T="--target=x86_64-pc-windows-msvc"
MSVC_CFLAGS="-O2 -ffreestanding -fno-stack-protector $PREFIX_MAP"
MSVC_LDFLAGS="-fuse-ld=lld -nostdlib -shared -Wl,/Brepro -Wl,/entry:_DllMainCRTStartup"
B=$TMP/msvc; mkdir -p "$B"
for f in demo mangled delayhlp dllmain; do clang $T $MSVC_CFLAGS -c src/$f.c -o "$B/$f.obj"; done
clang $T $MSVC_LDFLAGS "$B/demo.obj" "$B/mangled.obj" "$B/delayhlp.obj" "$B/dllmain.obj" \
    "$TMP/ext.lib" "$TMP/delayed.lib" "$TMP/crt_stdio.lib" \
    -Wl,/def:src/win.def -Wl,/delayload:delayed.dll -o pe/msvc64/demo.dll
built pe/msvc64/demo.dll

clang++ $T $MSVC_CFLAGS -nostdinc++ -fno-exceptions -fno-rtti -c src/cxx.cpp -o "$B/cxx.obj"
clang $T $MSVC_LDFLAGS "$B/cxx.obj" "$B/dllmain.obj" -o pe/msvc64/cxx.dll
built pe/msvc64/cxx.dll
# lld-link also writes import libraries next to the DLLs; not fixtures.
rm -f pe/*/*.lib pe/*/*.exp pe/*/*.a

# Sanity checks
has "$(llvm-readobj --coff-exports pe/mingw32/demo.dll)" 'Name: demo_stdcall@8' "stdcall export"
has "$(llvm-readobj --coff-exports pe/mingw32/demo.dll)" 'Name: @demo_fastcall@8' "fastcall export"
for f in pe/mingw64/demo.dll pe/mingw32/demo.dll pe/mingw64/demo_lld.dll pe/msvc64/demo.dll; do
    p=$(llvm-objdump -p $f)
    has "$p" 'demo_alloc \(forwarded to NTDLL\.RtlAllocateHeap\)' "$f forwarder"
    has "$p" 'demo_sleep \(forwarded to KERNEL32\.Sleep\)' "$f forwarder"
    has "$(llvm-readobj --coff-imports $f)" 'Symbol:  \(7\)' "$f import by ordinal"
done
for f in pe/mingw64/demo_lld.dll pe/msvc64/demo.dll; do
    has "$(llvm-readobj --coff-imports $f)" 'DelayImport' "$f delay import"
done
has "$(llvm-readobj --coff-exports pe/msvc64/cxx.dll)" 'Name: \?area@geometry@demo@@' "msvc C++ names"
has "$(llvm-readobj --coff-exports pe/mingw64/cxx.dll)" 'Name: _ZN4demo8geometry' "mingw C++ names"

summary
