#!/usr/bin/env bash
# testdata/src/build-callconv.sh - pe/callconv/{mingw32,mingw64}/callconv.dll from src/callconv.c and
# src/callconv.h: a __stdcall and a cdecl function and a function taking a callback of each convention, for
# tests/check_callconv.rs. Exports are undecorated (--kill-at), as most DLLs export them (a .def file or
# __declspec with MSVC's extern "C" __stdcall still decorates; ctypes finds both).
# Needs gcc-mingw-w64 (x86_64 + i686). Part of testdata/build.sh; runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc x86_64-w64-mingw32-nm i686-w64-mingw32-nm

rm -rf pe/callconv
FLAGS="-O2 $PREFIX_MAP -Wl,--no-insert-timestamp -s -shared"
for t in x86_64 i686; do
    d=pe/callconv/mingw$([ $t = x86_64 ] && echo 64 || echo 32)
    mkdir -p $d
    $t-w64-mingw32-gcc $FLAGS -Wl,--kill-at src/callconv.c -o $d/callconv.dll
    built $d/callconv.dll
done

# Sanity check: the compiler gave cc_std_add the __stdcall convention on i686 only (its object symbol is
# decorated with the argument bytes) and cc_c_add cdecl everywhere.
i686-w64-mingw32-gcc -c -O2 src/callconv.c -o "$TMP/cc32.o"
x86_64-w64-mingw32-gcc -c -O2 src/callconv.c -o "$TMP/cc64.o"
has "$(i686-w64-mingw32-nm "$TMP/cc32.o")" ' T _cc_std_add@8$' "i686: cc_std_add is __stdcall"
has "$(i686-w64-mingw32-nm "$TMP/cc32.o")" ' T _cc_c_add$' "i686: cc_c_add is cdecl"
has "$(x86_64-w64-mingw32-nm "$TMP/cc64.o")" ' T cc_std_add$' "x86_64: one convention"

summary
