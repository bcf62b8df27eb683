#!/usr/bin/env bash
# testdata/src/build-elf.sh - elf/{x86_64,i386,aarch64}/: libdemo.so (+ stripped copy and separate debug file),
# libext.so.1, demo_exe, libcxx.so, librpath.so/librunpath.so, Rust dylibs (legacy and v0 mangling).
# Sources: src/demo.c, src/mangled.c, src/demo.map, src/ext.c, src/main.c, src/cxx.cpp, src/rpath.c,
# src/rust_demo.rs. Needs clang/lld/llvm 14, rustc (host target only).
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need clang clang++ ld.lld llvm-objcopy llvm-readobj llvm-readelf llvm-nm rustc

rm -rf elf
mkdir -p elf/{x86_64,i386,aarch64}

ELF_CFLAGS="-O2 -fPIC -fvisibility=hidden $PREFIX_MAP"
ELF_LDFLAGS="-fuse-ld=lld -shared -Wl,--build-id=sha1 -Wl,--hash-style=both"

for arch in x86_64 i386 aarch64; do
    T="--target=$arch-linux-gnu"
    O=elf/$arch
    B=$TMP/elf-$arch; mkdir -p "$B"
    if [ "$arch" = x86_64 ]; then
        # Host target: link against the real glibc (versioned imports, crt files).
        LIBC=""; DBG="-g"
    else
        # Cross targets: no sysroot needed, libc symbols stay unresolved.
        LIBC="-nostdlib -ffreestanding"; DBG=""
    fi

    # libext.so.1: the dependency providing ext_helper
    clang $T $ELF_CFLAGS -ffreestanding -c src/ext.c -o "$B/ext.o"
    clang $T $ELF_LDFLAGS -nostdlib "$B/ext.o" -Wl,-soname,libext.so.1 -o $O/libext.so.1
    built $O/libext.so.1

    # libdemo.so
    clang $T $ELF_CFLAGS $LIBC $DBG -c src/demo.c -o "$B/demo.o"
    clang $T $ELF_CFLAGS $LIBC $DBG -c src/mangled.c -o "$B/mangled.o"
    clang $T $ELF_LDFLAGS $LIBC "$B/demo.o" "$B/mangled.o" \
        -Wl,--version-script=src/demo.map -Wl,-soname,libdemo.so \
        -L$O -l:libext.so.1 -o $O/libdemo.so
    built $O/libdemo.so
done

O=elf/x86_64
T="--target=x86_64-linux-gnu"

# Stripped copy with a .gnu_debuglink pointing at libdemo.so.debug
llvm-objcopy --only-keep-debug $O/libdemo.so $O/libdemo.so.debug
llvm-objcopy --strip-debug --add-gnu-debuglink=$O/libdemo.so.debug $O/libdemo.so $O/libdemo.stripped.so
built $O/libdemo.so.debug $O/libdemo.stripped.so

# PIE executable linked against libdemo.so
clang $T -O2 -fPIE $PREFIX_MAP -c src/main.c -o "$TMP/main.o"
clang $T -fuse-ld=lld -pie "$TMP/main.o" -L$O -ldemo -Wl,-rpath-link,$O \
    -Wl,-rpath,'$ORIGIN' -Wl,--build-id=sha1 -o $O/demo_exe
built $O/demo_exe

# C++ (Itanium mangling), no libstdc++
clang++ $T $ELF_CFLAGS -nostdinc++ -fno-exceptions -fno-rtti -c src/cxx.cpp -o "$TMP/cxx.o"
clang++ $T $ELF_LDFLAGS -nostdlib++ "$TMP/cxx.o" -Wl,-soname,libcxx.so -o $O/libcxx.so
built $O/libcxx.so

# DT_RPATH / DT_RUNPATH, both needing libdemo.so
clang $T $ELF_CFLAGS -c src/rpath.c -o "$TMP/rpath.o"
clang $T $ELF_LDFLAGS "$TMP/rpath.o" -L$O -ldemo -Wl,-soname,librpath.so \
    -Wl,--disable-new-dtags,-rpath,'$ORIGIN/../lib:/opt/demo/lib' -o $O/librpath.so
clang $T $ELF_LDFLAGS "$TMP/rpath.o" -L$O -ldemo -Wl,-soname,librunpath.so \
    -Wl,--enable-new-dtags,-rpath,'$ORIGIN/../lib:/opt/demo/lib' -o $O/librunpath.so
built $O/librpath.so $O/librunpath.so

# Rust dylibs (crate-type dylib keeps Rust-mangled symbols exported).
# Legacy is the default mangling on stable; spelling it out
# (-C symbol-mangling-version=legacy) would need -Z unstable-options.
RUSTFLAGS_COMMON=(--edition 2021 --crate-type dylib -C prefer-dynamic -C opt-level=2 -C debuginfo=0
                  --remap-path-prefix "$TD=." -C link-arg=-Wl,--build-id=sha1)
rustc "${RUSTFLAGS_COMMON[@]}" --crate-name rust_legacy src/rust_demo.rs \
    --out-dir "$TMP/rust-legacy"
rustc "${RUSTFLAGS_COMMON[@]}" -C symbol-mangling-version=v0 --crate-name rust_v0 \
    src/rust_demo.rs --out-dir "$TMP/rust-v0"
cp "$TMP/rust-legacy/librust_legacy.so" $O/librust_legacy.so
cp "$TMP/rust-v0/librust_v0.so" $O/librust_v0.so
built $O/librust_legacy.so $O/librust_v0.so

# Sanity checks: the features the tests rely on must really be there.
for arch in x86_64 i386 aarch64; do
    d=$(llvm-readobj --dyn-syms --needed-libs --version-info elf/$arch/libdemo.so)
    has "$d" 'demo_compat@DEMO_1\.0' "$arch: demo_compat@DEMO_1.0"
    has "$d" 'demo_compat@@DEMO_2\.0' "$arch: demo_compat@@DEMO_2.0"
    has "$d" 'libext\.so\.1' "$arch: NEEDED libext.so.1"
    has "$d" 'demo_tls_counter' "$arch: TLS export"
    grep -q demo_internal_helper <<<"$d" && fail "$arch: hidden symbol exported"
done
has "$(llvm-readelf -d elf/x86_64/librpath.so)" '\(RPATH\).*\$ORIGIN/\.\./lib:/opt/demo/lib' "DT_RPATH"
has "$(llvm-readelf -d elf/x86_64/librunpath.so)" '\(RUNPATH\).*\$ORIGIN/\.\./lib:/opt/demo/lib' "DT_RUNPATH"
has "$(llvm-nm -D --defined-only elf/x86_64/librust_legacy.so)" ' _ZN11rust_legacy.*17h[0-9a-f]{16}E$' "rust legacy"
has "$(llvm-nm -D --defined-only elf/x86_64/librust_v0.so)" ' _RNv' "rust v0"

summary
