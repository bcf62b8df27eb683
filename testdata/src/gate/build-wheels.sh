#!/usr/bin/env bash
# build-wheels.sh - the `ffi-doctor gate` fixtures in testdata/wheels/ (see testdata/README.md).
# Called from the end of testdata/build.sh; runs standalone too. Needs clang/lld/llvm-lipo 14,
# g++ (libstdc++), x86_64-w64-mingw32-gcc, python3. Each bad fixture breaks exactly one policy
# of tests/gate_policy.rs's config; the good ones break none.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
TD=$PWD
[ -d /usr/lib/llvm-14/bin ] && export PATH="/usr/lib/llvm-14/bin:$PATH"
export LC_ALL=C SOURCE_DATE_EPOCH=0
T=$(mktemp -d "${TMPDIR:-/tmp}/ffi-doctor-wheels.XXXXXX")
trap 'rm -rf "$T"' EXIT
PM="-ffile-prefix-map=$TD=. -ffile-prefix-map=$T=build"
S=src/gate/gate.c
OUT=wheels
rm -rf "$OUT"; mkdir -p "$OUT"

ELF="clang --target=x86_64-linux-gnu -O2 -fPIC -fvisibility=hidden $PM -fuse-ld=lld -shared -Wl,--build-id=sha1 -Wl,-z,noexecstack"
LINUX_TAG=cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64

# wheel NAME TAG(platform part of the filename and WHEEL Tag lines, dotted) DIR
wheel() {
    local name=$1 plat=$2 dir=$3 di="$3/$1-1.0.dist-info"
    mkdir -p "$di"
    printf 'Metadata-Version: 2.1\nName: %s\nVersion: 1.0\n' "$name" > "$di/METADATA"
    {
        printf 'Wheel-Version: 1.0\nGenerator: ffi-doctor-testdata\nRoot-Is-Purelib: false\n'
        IFS=. read -ra ps <<< "$plat"
        for p in "${ps[@]}"; do printf 'Tag: cp311-cp311-%s\n' "$p"; done
    } > "$di/WHEEL"
    : > "$dir/$name/__init__.py"
    python3 src/gate/mkwheel.py "$OUT/$name-1.0-cp311-cp311-$plat.whl" "$dir"
    echo "built $OUT/$name-1.0-cp311-cp311-$plat.whl"
}

# --- Linux: a vendored library in NAME.libs/ found through $ORIGIN (auditwheel repair's layout)
linux_vendored() { # NAME RUNPATH
    local name=$1 d=$T/$1
    mkdir -p "$d/$name" "$d/$name.libs"
    $ELF -DVENDORED $S -Wl,--version-script=src/gate/mylib.map -Wl,-soname,libmylib-0a1b2c3d.so.1 \
        -o "$d/$name.libs/libmylib-0a1b2c3d.so.1"
    $ELF -DEXT $S -Wl,--version-script=src/gate/mylib.map -L"$d/$name.libs" -l:libmylib-0a1b2c3d.so.1 \
        -Wl,--enable-new-dtags,-rpath,"$2" -o "$d/$name/_ext.cpython-311-x86_64-linux-gnu.so"
}
linux_vendored good '$ORIGIN/../good.libs'
wheel good manylinux_2_17_x86_64.manylinux2014_x86_64 "$T/good"
linux_vendored badrpath '$ORIGIN/../badrpath.libs:/home/builder/mylib/lib'
wheel badrpath manylinux_2_17_x86_64.manylinux2014_x86_64 "$T/badrpath"

linux_single() { # NAME PLATFORM DEFINE [extra link args...]
    local name=$1 plat=$2 def=$3; shift 3
    local d=$T/$name; mkdir -p "$d/$name"
    $ELF -D$def $S -Wl,--version-script=src/gate/mylib.map "$@" -o "$d/$name/_ext.cpython-311-x86_64-linux-gnu.so"
    wheel "$name" "$plat" "$d"
}
linux_single newglibc manylinux_2_17_x86_64.manylinux2014_x86_64 NEWGLIBC
# libnotshipped.so.1 exists only at link time
$ELF -DVENDORED $S -Wl,-soname,libnotshipped.so.1 -o "$T/libnotshipped.so.1"
# (nothing imported from it, so the only problem is the missing library itself)
linux_single missing manylinux_2_17_x86_64.manylinux2014_x86_64 EXT_STANDALONE -L"$T" -Wl,--no-as-needed -l:libnotshipped.so.1
linux_single external manylinux_2_17_x86_64.manylinux2014_x86_64 NEEDS_EXT -Lelf/x86_64 -l:libext.so.1
linux_single wrongarch manylinux_2_17_aarch64.manylinux2014_aarch64 EXT_STANDALONE

# --- loose ELF libraries, one broken export/hardening policy each
mkdir -p "$OUT/lib"
$ELF -DVENDORED $S -Wl,-soname,libgood.so -o "$OUT/lib/libgood.so"
$ELF -DNOPREFIX $S -Wl,-soname,libnoprefix.so -o "$OUT/lib/libnoprefix.so"
$ELF -DMANGLED $S -Wl,-soname,libmangled.so -o "$OUT/lib/libmangled.so"
$ELF -DCLASH $S -Wl,-soname,libclash.so -o "$OUT/lib/libclash.so"
clang --target=x86_64-linux-gnu -O2 -fPIC -fvisibility=hidden $PM -fuse-ld=lld -shared -Wl,--build-id=none \
    -Wl,-z,execstack -Wl,-z,notext -DHARDENING $S -Wl,-soname,libhardening.so -o "$OUT/lib/libhardening.so"
g++ -O2 -fPIC -std=c++17 -fvisibility=hidden -fvisibility-inlines-hidden -fsized-deallocation $PM -shared \
    -Wl,--build-id=sha1 -Wl,--version-script=src/gate/mylib.map -Wl,-soname,libcxxnew.so \
    src/gate/cxxnew.cpp -o "$OUT/lib/libcxxnew.so"
echo "built $OUT/lib/*.so"

# --- macOS: universal2, the vendored dylib in .dylibs/ loaded via @loader_path (delocate's layout)
MACHO="-O2 -ffreestanding -fvisibility=hidden $PM -fuse-ld=lld -nostdlib -shared -Wl,-S src/libSystem.tbd"
mkdir -p "$OUT/.build"
mac_fat() { # OUT MINOS ARCHS DEFINE [extra...]
    local out=$1 minos=$2 archs=$3 def=$4; shift 4
    local parts=()
    for a in $archs; do
        # a fixed relative output path: ld64.lld writes it into the code signature
        clang --target=$a-apple-macos$minos $MACHO -D$def $S "$@" -o "$OUT/.build/$a.bin"
        parts+=("$OUT/.build/$a.bin")
    done
    if [ "${#parts[@]}" -gt 1 ]; then llvm-lipo -create "${parts[@]}" -output "$out"; else cp "${parts[0]}" "$out"; fi
}
d=$T/mac; mkdir -p "$d/mac/.dylibs"
mac_fat "$d/mac/.dylibs/libmylib.dylib" 11.0 "x86_64 arm64" VENDORED \
    -Wl,-install_name,@loader_path/.dylibs/libmylib.dylib  # what the extension records: delocate's form
mac_fat "$d/mac/_ext.cpython-311-darwin.so" 11.0 "x86_64 arm64" EXT "$d/mac/.dylibs/libmylib.dylib"
wheel mac macosx_11_0_universal2 "$d"
d=$T/macnew; mkdir -p "$d/macnew"
mac_fat "$d/macnew/_ext.cpython-311-darwin.so" 12.0 "x86_64 arm64" EXT_STANDALONE
wheel macnew macosx_11_0_universal2 "$d"
mac_fat "$OUT/lib/libthin.dylib" 11.0 "arm64" VENDORED -Wl,-install_name,@rpath/libthin.dylib
echo "built $OUT/lib/libthin.dylib"

# --- Windows: a .pyd and its vendored DLL in win.libs/ (delvewheel's layout; found via os.add_dll_directory)
d=$T/win; mkdir -p "$d/win" "$d/win.libs"
MINGW="x86_64-w64-mingw32-gcc -O2 $PM -shared -s -Wl,--no-insert-timestamp -Wl,--disable-auto-image-base"
$MINGW -DVENDORED $S -o "$d/win.libs/mylib-0a1b2c3d.dll" -Wl,--out-implib,"$T/libmylib.dll.a"
$MINGW -DEXT $S "$T/libmylib.dll.a" -o "$d/win/_ext.cp311-win_amd64.pyd"
wheel win win_amd64 "$d"
rm -rf "$OUT/.build"
