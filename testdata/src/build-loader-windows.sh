#!/usr/bin/env bash
# testdata/src/build-loader-windows.sh - loader/windows/: Windows loader scenarios (mingw gcc + GNU ld, -nostdlib so
# each DLL imports only what its scenario needs; tests/loader_windows.rs). Layout:
#   app/      root DLLs and their neighbours (application / DLL load dir)
#   pathdir/  on PATH only          path32/   32-bit copies, earlier on PATH
#   dlldir/   --dll-dir only        exe/      host.exe (--executable)
#   sysroot/Windows/System32/kernel32.dll   a tiny fake exporting GetTickCount
# The sources are C and .def text written by this script. Needs gcc-mingw-w64 (x86_64 + i686), llvm 14.
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc x86_64-w64-mingw32-dlltool llvm-readobj llvm-objdump

rm -rf loader/windows
mkdir -p loader/windows/{app,pathdir,path32,dlldir,exe,sysroot/Windows/System32}
W=$TMP/winloader; mkdir -p "$W"
WIN_FLAGS="-O2 $PREFIX_MAP -nostdlib -Wl,--no-insert-timestamp"
printf 'int __stdcall DllMain(void *h, unsigned r, void *p) { return 1; }\n' > "$W/dllmain.c"
# GNU ld picks a DLL's image base by hashing the output file name as written on its command line. The DLLs were
# first built as winloader/<dir>/<name>.dll, so they are still linked under that name (from $STAGE, where winloader
# is a symlink to loader/windows): same image base and checksum, byte-identical fixtures.
STAGE=$TMP/stage; mkdir -p "$STAGE"; ln -s "$TD/loader/windows" "$STAGE/winloader"
# as_built OUT: OUT as the linker sees it from $STAGE
as_built() { echo "winloader/${1#loader/windows/}"; }
# implib NAME: import library $W/libNAME.a from the .def text on stdin
implib() {
    cat > "$W/$1.imp.def"
    (cd "$W" && x86_64-w64-mingw32-dlltool -m i386:x86-64 -d "$1.imp.def" -l "lib$1.a")
}
# mkdll OUT SRC-TEXT [LINK ARGS...]: a 64-bit DLL (entry DllMain) from C text
mkdll() {
    local out=$1 src=$2 base; shift 2
    base=$(basename "$out" .dll)
    printf '%s\n' "$src" > "$W/$base.c"
    (cd "$STAGE" && x86_64-w64-mingw32-gcc $WIN_FLAGS -shared -Wl,-e,DllMain "$W/$base.c" "$W/dllmain.c" "$@" \
        -o "$(as_built "$out")")
    built "$out"
}

# The fake system DLL and the import libraries the scenarios link against.
printf 'LIBRARY KERNEL32.dll\nEXPORTS\n    GetTickCount\n' > "$W/kernel32.def"
mkdll loader/windows/sysroot/Windows/System32/kernel32.dll \
    'unsigned GetTickCount(void) { return 42; }' "$W/kernel32.def"
printf 'LIBRARY KERNEL32.dll\nEXPORTS\n    GetTickCount\n' | implib kernel32
# Near.DLL: imported with other case than the file name (near.dll); the import
# library declares two names and an ordinal that near.dll does not export.
implib near <<'EOF'
LIBRARY Near.DLL
EXPORTS
    near_fn
    near_missing
    Near_Upper
    near_by_ord @5 NONAME
    near_gone @9 NONAME
EOF
printf 'LIBRARY onpath.dll\nEXPORTS\n    onpath_fn\n' | implib onpath
printf 'LIBRARY indlldir.dll\nEXPORTS\n    dlldir_fn\n' | implib indlldir
printf 'LIBRARY wrongarch.dll\nEXPORTS\n    wrongarch_fn\n' | implib wrongarch
printf 'LIBRARY fwda.dll\nEXPORTS\n    f\n    loop1\n' | implib fwda
printf 'LIBRARY cyca.dll\nEXPORTS\n    cyca_fn\n' | implib cyca
printf 'LIBRARY cycb.dll\nEXPORTS\n    cycb_fn\n' | implib cycb

# Dependencies in their directories
printf 'LIBRARY near.dll\nEXPORTS\n    near_fn\n    near_upper\n    near_by_ord @5 NONAME\n' > "$W/near.def"
mkdll loader/windows/app/near.dll 'int near_fn(void){return 1;} int near_upper(void){return 2;} int near_by_ord(void){return 5;}' \
    "$W/near.def"
mkdll loader/windows/pathdir/onpath.dll '__declspec(dllexport) int onpath_fn(void) { return 1; }'
mkdll loader/windows/dlldir/indlldir.dll '__declspec(dllexport) int dlldir_fn(void) { return 1; }'
mkdll loader/windows/pathdir/wrongarch.dll '__declspec(dllexport) int wrongarch_fn(void) { return 64; }'
printf '__declspec(dllexport) int wrongarch_fn(void) { return 32; }\n' > "$W/wrongarch32.c"
printf 'int __stdcall DllMain(void *h, unsigned r, void *p) { return 1; }\n' > "$W/dllmain32.c"
(cd "$STAGE" && i686-w64-mingw32-gcc $WIN_FLAGS -shared -Wl,-e,_DllMain@12 "$W/wrongarch32.c" "$W/dllmain32.c" \
    -o "$(as_built loader/windows/path32/wrongarch.dll)")
built loader/windows/path32/wrongarch.dll

# Forwarder chain fwda!f -> fwdb.g -> fwdc.h, and a forwarder cycle loop1 <-> loop2
printf 'LIBRARY fwda.dll\nEXPORTS\n    f = fwdb.g\n    loop1 = fwdb.loop2\n    fwda_real\n' > "$W/fwda.def"
printf 'LIBRARY fwdb.dll\nEXPORTS\n    g = fwdc.h\n    loop2 = fwda.loop1\n    fwdb_real\n' > "$W/fwdb.def"
printf 'LIBRARY fwdc.dll\nEXPORTS\n    h\n' > "$W/fwdc.def"
mkdll loader/windows/app/fwda.dll 'int fwda_real(void) { return 1; }' "$W/fwda.def"
mkdll loader/windows/app/fwdb.dll 'int fwdb_real(void) { return 1; }' "$W/fwdb.def"
mkdll loader/windows/app/fwdc.dll 'int h(void) { return 3; }' "$W/fwdc.def"

# search.dll: application dir (Near.DLL) vs PATH (onpath.dll, wrongarch.dll
# behind a 32-bit copy) vs --dll-dir (indlldir.dll) vs KnownDLLs (KERNEL32.dll)
mkdll loader/windows/app/search.dll \
    'int near_fn(void); int onpath_fn(void); int dlldir_fn(void); int wrongarch_fn(void); unsigned GetTickCount(void);
__declspec(dllexport) int search_all(void) { return near_fn() + onpath_fn() + dlldir_fn() + wrongarch_fn() + (int)GetTickCount(); }' \
    "$W/libnear.a" "$W/libonpath.a" "$W/libindlldir.a" "$W/libwrongarch.a" "$W/libkernel32.a"

# symbols.dll: near_missing and Near_Upper (near.dll exports near_upper) by
# name, ordinal 5 (exported) and 9 (not), f through the forwarder chain, loop1
# into the forwarder cycle
mkdll loader/windows/app/symbols.dll \
    'int near_fn(void); int near_missing(void); int Near_Upper(void); int near_by_ord(void); int near_gone(void);
int f(void); int loop1(void);
__declspec(dllexport) int symbols_all(void) { return near_fn() + near_missing() + Near_Upper() + near_by_ord() + near_gone() + f() + loop1(); }' \
    "$W/libnear.a" "$W/libfwda.a"

# cycle: cyca.dll <-> cycb.dll
mkdll loader/windows/app/cyca.dll 'int cycb_fn(void); __declspec(dllexport) int cyca_fn(void) { return cycb_fn(); }' "$W/libcycb.a"
mkdll loader/windows/app/cycb.dll 'int cyca_fn(void); __declspec(dllexport) int cycb_fn(void) { return cyca_fn(); }' "$W/libcyca.a"

# host.exe: an application in another directory (imports KERNEL32.dll only)
printf 'unsigned GetTickCount(void); int start(void) { return (int)GetTickCount(); }\n' > "$W/host.c"
x86_64-w64-mingw32-gcc $WIN_FLAGS -Wl,-e,start "$W/host.c" "$W/libkernel32.a" -o loader/windows/exe/host.exe
built loader/windows/exe/host.exe

wi() { llvm-readobj --coff-imports "$1"; }
has "$(wi loader/windows/app/search.dll)" 'Name: Near\.DLL' "search imports Near.DLL"
has "$(wi loader/windows/app/search.dll)" 'Name: KERNEL32\.dll' "search imports KERNEL32.dll"
has "$(wi loader/windows/app/symbols.dll)" 'Symbol:  \(9\)' "symbols imports ordinal 9"
has "$(llvm-readobj --file-headers loader/windows/path32/wrongarch.dll)" 'IMAGE_FILE_MACHINE_I386' "32-bit wrongarch"
has "$(llvm-objdump -p loader/windows/app/fwda.dll)" 'f \(forwarded to fwdb\.g\)' "fwda forwarder"
has "$(llvm-objdump -p loader/windows/app/fwdb.dll)" 'g \(forwarded to fwdc\.h\)' "fwdb forwarder"
has "$(wi loader/windows/app/cycb.dll)" 'Name: cyca\.dll' "cycle b->a"
grep -rqF "$TD" loader/windows && fail "absolute build path in loader/windows fixtures"

summary
