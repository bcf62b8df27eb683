#!/usr/bin/env bash
# testdata/build.sh - (re)build the ffi-doctor fixture corpus from testdata/src.
#
# Needs (Debian 12): clang/lld/llvm 14, gcc-mingw-w64 (x86_64 + i686),
# binutils-mingw-w64, rustc (host target only), python3.
# Idempotent; runs from any cwd; intermediates go to a temp dir.
# Outputs: elf/ macho/ pe/ bad/ loader/ winloader/ (see README.md).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
TD=$PWD
[ -d /usr/lib/llvm-14/bin ] && export PATH="/usr/lib/llvm-14/bin:$PATH"
export LC_ALL=C SOURCE_DATE_EPOCH=0 ZERO_AR_DATE=1

TMP=$(mktemp -d "${TMPDIR:-/tmp}/ffi-doctor-testdata.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# Keep absolute paths out of the outputs (sources are passed as src/...).
PREFIX_MAP="-ffile-prefix-map=$TD=. -ffile-prefix-map=$TMP=build"

BUILT=()
built() { for f in "$@"; do BUILT+=("$f"); echo "built $f"; done; }
need() { command -v "$1" >/dev/null || { echo "missing tool: $1" >&2; exit 1; }; }
for t in clang clang++ ld.lld llvm-lipo llvm-dlltool llvm-ar llvm-objcopy llvm-nm llvm-readobj \
         x86_64-w64-mingw32-gcc i686-w64-mingw32-gcc x86_64-w64-mingw32-dlltool \
         i686-w64-mingw32-dlltool rustc python3; do need "$t"; done

rm -rf elf macho pe bad
mkdir -p elf/{x86_64,i386,aarch64} macho/{x86_64,arm64,fat} pe/{mingw64,mingw32,msvc64} bad

###############################################################################
# ELF
###############################################################################
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

###############################################################################
# Mach-O (ld64.lld, no SDK: -nostdlib + libSystem.tbd stub)
###############################################################################
MACHO_CFLAGS="-O2 -ffreestanding -fvisibility=hidden $PREFIX_MAP"
MACHO_LDFLAGS="-fuse-ld=lld -nostdlib -shared"

for arch in x86_64 arm64; do
    T="--target=$arch-apple-macos11"
    O=macho/$arch
    B=$TMP/macho-$arch; mkdir -p "$B"

    clang $T $MACHO_CFLAGS -c src/demo.c -o "$B/demo.o"
    clang $T $MACHO_CFLAGS -c src/mangled.c -o "$B/mangled.o"
    # _puts binds two-level to libSystem (from the .tbd); _ext_helper is left
    # to -undefined dynamic_lookup (flat namespace lookup).
    clang $T $MACHO_LDFLAGS "$B/demo.o" "$B/mangled.o" src/libSystem.tbd \
        -Wl,-undefined,dynamic_lookup -Wl,-install_name,@rpath/libdemo.dylib \
        -Wl,-current_version,2.1.0 -Wl,-compatibility_version,2.0.0 \
        -o $O/libdemo.dylib
    built $O/libdemo.dylib
done

llvm-lipo -create macho/x86_64/libdemo.dylib macho/arm64/libdemo.dylib \
    -output macho/fat/libdemo.dylib
built macho/fat/libdemo.dylib

T="--target=arm64-apple-macos11"
O=macho/arm64
B=$TMP/macho-arm64

clang++ $T $MACHO_CFLAGS -nostdinc++ -fno-exceptions -fno-rtti -c src/cxx.cpp -o "$B/cxx.o"
clang++ $T $MACHO_LDFLAGS "$B/cxx.o" src/libSystem.tbd -Wl,-undefined,dynamic_lookup \
    -Wl,-install_name,@rpath/libcxx.dylib -o $O/libcxx.dylib
built $O/libcxx.dylib

# Dependencies of librpath.dylib (not shipped): weak libext, re-exported libreexp
clang $T $MACHO_CFLAGS -c src/ext.c -o "$B/ext.o"
clang $T $MACHO_LDFLAGS "$B/ext.o" -Wl,-install_name,@rpath/libext.dylib -o "$B/libext.dylib"
clang $T $MACHO_CFLAGS -c src/reexp.c -o "$B/reexp.o"
clang $T $MACHO_LDFLAGS "$B/reexp.o" -Wl,-install_name,/usr/lib/libreexp.dylib \
    -o "$B/libreexp.dylib"

clang $T $MACHO_CFLAGS -c src/rpath.c -o "$B/rpath.o"
clang $T $MACHO_LDFLAGS "$B/rpath.o" $O/libdemo.dylib \
    -Wl,-weak_library,"$B/libext.dylib" -Wl,-reexport_library,"$B/libreexp.dylib" \
    src/libSystem.tbd -Wl,-install_name,@rpath/librpath.dylib \
    -Wl,-rpath,@loader_path/../lib -Wl,-rpath,/opt/demo/lib \
    -Wl,-current_version,1.0.0 -Wl,-compatibility_version,1.0.0 \
    -o $O/librpath.dylib

# ld64.lld 14 emits a re-exported dylib twice (LC_LOAD_DYLIB + LC_REEXPORT_DYLIB)
# while numbering bind ordinals as if it appeared once. Drop the duplicate
# LC_LOAD_DYLIB and re-hash the ad-hoc code signature so the file is consistent.
python3 - $O/librpath.dylib <<'PY'
import hashlib, struct, sys
path = sys.argv[1]
b = bytearray(open(path, 'rb').read())
assert struct.unpack_from('<I', b, 0)[0] == 0xfeedfacf, 'expected 64-bit LE Mach-O'
ncmds, sizeofcmds = struct.unpack_from('<II', b, 16)
cmds, off = [], 32
for _ in range(ncmds):
    cmd, size = struct.unpack_from('<II', b, off)
    cmds.append((off, cmd, size)); off += size
def name(o, s):
    return bytes(b[o + struct.unpack_from('<I', b, o + 8)[0]:o + s]).split(b'\0')[0]
LC_LOAD_DYLIB, LC_REEXPORT_DYLIB, LC_CODE_SIGNATURE = 0xc, 0x8000001f, 0x1d
reexp = {name(o, s) for o, c, s in cmds if c == LC_REEXPORT_DYLIB}
keep = [(o, c, s) for o, c, s in cmds if not (c == LC_LOAD_DYLIB and name(o, s) in reexp)]
if len(keep) != len(cmds):
    new = b''.join(bytes(b[o:o + s]) for o, c, s in keep)
    b[32:32 + sizeofcmds] = new + bytes(sizeofcmds - len(new))
    struct.pack_into('<II', b, 16, len(keep), len(new))
    off = 32
    for _ in range(len(keep)):
        cmd, size = struct.unpack_from('<II', b, off)
        if cmd == LC_CODE_SIGNATURE:
            dataoff, = struct.unpack_from('<I', b, off + 8)
            magic, _, count = struct.unpack_from('>III', b, dataoff)
            assert magic == 0xfade0cc0
            for i in range(count):
                typ, boff = struct.unpack_from('>II', b, dataoff + 12 + 8 * i)
                cd = dataoff + boff
                if struct.unpack_from('>I', b, cd)[0] != 0xfade0c02:
                    continue
                (hash_off,) = struct.unpack_from('>I', b, cd + 16)
                n_code, code_limit = struct.unpack_from('>II', b, cd + 28)
                hash_size, hash_type, _, page_shift = struct.unpack_from('>BBBB', b, cd + 36)
                assert hash_type == 2 and hash_size == 32, 'expected SHA-256 code directory'
                page = 1 << page_shift
                for k in range(n_code):
                    chunk = bytes(b[k * page:min((k + 1) * page, code_limit)])
                    b[cd + hash_off + 32 * k:cd + hash_off + 32 * (k + 1)] = hashlib.sha256(chunk).digest()
        off += size
    open(path, 'wb').write(b)
PY
built $O/librpath.dylib

###############################################################################
# PE
###############################################################################
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

###############################################################################
# Malformed / non-binary inputs
###############################################################################
: > bad/empty.so
head -c 100 elf/x86_64/libdemo.so > bad/truncated.so
printf 'This is not an ELF file.\nJust some plain text pretending to be a shared library.\n' > bad/notelf.so
cat > bad/libc_ldscript.so <<'EOF'
/* GNU ld script
   Use the shared library, but some functions are only in
   the static library, so try that secondarily.  */
OUTPUT_FORMAT(elf64-x86-64)
GROUP ( /lib/x86_64-linux-gnu/libc.so.6 /usr/lib/x86_64-linux-gnu/libc_nonshared.a  AS_NEEDED ( /lib64/ld-linux-x86-64.so.2 ) )
EOF
cp src/libSystem.tbd bad/libSystem.tbd
llvm-ar rcD bad/libstatic.a "$TMP/elf-x86_64/ext.o" "$TMP/elf-x86_64/mangled.o"
# MH_MAGIC_64, CPU_TYPE_ARM64, MH_DYLIB, then an absurd ncmds/sizeofcmds and junk
python3 - <<'PY'
import struct
hdr = struct.pack('<IiiIIIII', 0xfeedfacf, 0x0100000c, 0, 6, 0xffffffff, 0x7fffffff, 0, 0)
open('bad/badmagic.dylib', 'wb').write(hdr + b'\xde\xad\xbe\xef' * 8 + b'garbage!' * 4)
PY
head -c 300 pe/msvc64/demo.dll > bad/truncated.dll
built bad/empty.so bad/truncated.so bad/notelf.so bad/libc_ldscript.so bad/libSystem.tbd \
      bad/libstatic.a bad/badmagic.dylib bad/truncated.dll

###############################################################################
# Sanity checks: the features the tests rely on must really be there.
###############################################################################
fail() { echo "CHECK FAILED: $*" >&2; exit 1; }
has() { grep -qE -- "$2" <<<"$1" || fail "$3"; }

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
has "$(llvm-otool -l macho/arm64/librpath.dylib)" 'LC_REEXPORT_DYLIB' "reexport"
has "$(llvm-otool -l macho/arm64/librpath.dylib)" 'LC_LOAD_WEAK_DYLIB' "weak dylib"
has "$(llvm-objdump --macho --lazy-bind macho/arm64/libdemo.dylib)" 'flat-namespace +_ext_helper' "flat import"
has "$(llvm-objdump --macho --lazy-bind macho/arm64/libdemo.dylib)" 'libSystem +_puts' "two-level import"
has "$(llvm-lipo -archs macho/fat/libdemo.dylib)" 'x86_64 arm64' "fat archs"
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

###############################################################################
# Loader search scenarios (gcc + GNU ld; tests/loader_glibc.rs checks them
# against ldd and LD_DEBUG=libs). Layout: loader/<scenario>/...
###############################################################################
need gcc
rm -rf loader
mkdir -p loader/{rpath_vs_runpath/{a,b},inherit/deep,wrong_class/{w32,w64},missing,llp/dir,cycle,symbols}
L=$TMP/loader; mkdir -p "$L"
LD_CFLAGS="-O2 -fPIC $PREFIX_MAP"
# mklib OUT SONAME [LINK ARGS...]: a one-function library (the link args add DT_NEEDED / rpaths)
mklib() {
    local out=$1 soname=$2; shift 2
    local fn=${soname%%.so*}; fn=${fn#lib}
    printf 'int %s_fn(void) { return 1; }\n' "$fn" > "$L/$fn.c"
    gcc $LD_CFLAGS -shared -Wl,--no-as-needed -Wl,--build-id=sha1 "$L/$fn.c" \
        -Wl,-soname,"$soname" -o "$out" "$@"
    case $out in "$L"/*) ;; *) built "$out" ;; esac
}

# rpath_vs_runpath: DT_RPATH $ORIGIN/a vs DT_RUNPATH $ORIGIN/b, each needing libleaf.so
R=loader/rpath_vs_runpath
mklib $R/a/libleaf.so libleaf.so
mklib $R/b/libleaf.so libleaf.so -Wl,--defsym=leaf_copy_b=0
mklib $R/libtop_rpath.so libtop_rpath.so -L$R/a -lleaf -Wl,--disable-new-dtags,-rpath,'$ORIGIN/a'
mklib $R/libtop_runpath.so libtop_runpath.so -L$R/b -lleaf -Wl,--enable-new-dtags,-rpath,'$ORIGIN/b'

# inherit: executable's DT_RPATH applies to libmid.so's needs; DT_RUNPATH does not
R=loader/inherit
mklib $R/deep/libdeep.so libdeep.so
mklib $R/deep/libmid.so libmid.so -L$R/deep -ldeep
printf 'int main(void) { return 0; }\n' > "$L/main.c"
gcc -O2 $PREFIX_MAP -Wl,--no-as-needed "$L/main.c" -L$R/deep -lmid -Wl,-rpath-link,$R/deep \
    -Wl,--disable-new-dtags,-rpath,'$ORIGIN/deep' -o $R/app_rpath
gcc -O2 $PREFIX_MAP -Wl,--no-as-needed "$L/main.c" -L$R/deep -lmid -Wl,-rpath-link,$R/deep \
    -Wl,--enable-new-dtags,-rpath,'$ORIGIN/deep' -o $R/app_runpath
built $R/app_rpath $R/app_runpath

# wrong_class: a 32-bit libleaf.so in the first DT_RPATH dir, the 64-bit one in the second
R=loader/wrong_class
printf 'int leaf_fn(void) { return 1; }\n' > "$L/leaf32.c"
clang --target=i386-linux-gnu -O2 -fPIC $PREFIX_MAP -nostdlib -shared -fuse-ld=lld \
    -Wl,-soname,libleaf.so "$L/leaf32.c" -o $R/w32/libleaf.so
built $R/w32/libleaf.so
mklib $R/w64/libleaf.so libleaf.so
mklib $R/libwc.so libwc.so -L$R/w64 -lleaf -Wl,--disable-new-dtags,-rpath,'$ORIGIN/w32:$ORIGIN/w64'

# missing: libnothere.so is linked against but not shipped (libleaf.so is, via $ORIGIN)
R=loader/missing
mklib "$L/libnothere.so" libnothere.so
mklib $R/libleaf.so libleaf.so
mklib $R/libmissing.so libmissing.so -L"$L" -lnothere -L$R -lleaf \
    -Wl,--enable-new-dtags,-rpath,'$ORIGIN'

# llp: libllpdep.so only reachable through LD_LIBRARY_PATH=loader/llp/dir
R=loader/llp
mklib $R/dir/libllpdep.so libllpdep.so
mklib $R/libllp.so libllp.so -L$R/dir -lllpdep

# cycle: libcyca.so <-> libcycb.so, both DT_RUNPATH $ORIGIN
R=loader/cycle
mklib "$L/libcycb.so" libcycb.so
mklib $R/libcyca.so libcyca.so -L"$L" -lcycb -Wl,--enable-new-dtags,-rpath,'$ORIGIN'
mklib $R/libcycb.so libcycb.so -L$R -lcyca -Wl,--enable-new-dtags,-rpath,'$ORIGIN'

# symbols: what ldd -r reports (tests/loader_glibc.rs compares deps --check-symbols with it).
# libprov.so is shipped at version 1 (PROV_1: prov_a) but libneedsver.so was linked against version 2
# (PROV_2 adds prov_b): "version `PROV_2' not found". libundef.so calls a function nothing defines.
R=loader/symbols
printf 'PROV_1 { global: prov_a; local: *; };\n' > "$L/prov1.map"
printf 'PROV_1 { global: prov_a; local: *; };\nPROV_2 { global: prov_b; } PROV_1;\n' > "$L/prov2.map"
printf 'int prov_a(void) { return 1; }\n' > "$L/prov1.c"
printf 'int prov_a(void) { return 1; }\nint prov_b(void) { return 2; }\n' > "$L/prov2.c"
gcc $LD_CFLAGS -shared -Wl,--build-id=sha1 -Wl,-soname,libprov.so -Wl,--version-script,"$L/prov1.map" \
    "$L/prov1.c" -o $R/libprov.so
mkdir -p "$L/prov2"
gcc $LD_CFLAGS -shared -Wl,--build-id=sha1 -Wl,-soname,libprov.so -Wl,--version-script,"$L/prov2.map" \
    "$L/prov2.c" -o "$L/prov2/libprov.so"
printf 'int prov_a(void); int prov_b(void);\nint needs_fn(void) { return prov_a() + prov_b(); }\n' > "$L/needs.c"
gcc $LD_CFLAGS -shared -Wl,--build-id=sha1 -Wl,--no-as-needed -Wl,-soname,libneedsver.so "$L/needs.c" \
    -L"$L/prov2" -lprov -Wl,--enable-new-dtags,-rpath,'$ORIGIN' -o $R/libneedsver.so
printf 'int nowhere_func(void);\nint undef_fn(void) { return nowhere_func(); }\n' > "$L/undef.c"
gcc $LD_CFLAGS -shared -Wl,--build-id=sha1 -Wl,-soname,libundef.so "$L/undef.c" -o $R/libundef.so
built $R/libprov.so $R/libneedsver.so $R/libundef.so

has "$(llvm-readelf -d loader/rpath_vs_runpath/libtop_rpath.so)" '\(RPATH\).*\[\$ORIGIN/a\]' "loader RPATH"
has "$(llvm-readelf -d loader/rpath_vs_runpath/libtop_runpath.so)" '\(RUNPATH\).*\[\$ORIGIN/b\]' "loader RUNPATH"
has "$(llvm-readelf -d loader/inherit/app_rpath)" '\(RPATH\).*\[\$ORIGIN/deep\]' "exe RPATH"
has "$(llvm-readelf -d loader/inherit/app_runpath)" '\(RUNPATH\).*\[\$ORIGIN/deep\]' "exe RUNPATH"
has "$(llvm-readelf -d loader/inherit/deep/libmid.so)" 'NEEDED.*libdeep\.so' "libmid needs libdeep"
grep -q PATH <<<"$(llvm-readelf -d loader/inherit/deep/libmid.so)" && fail "libmid.so has an rpath"
has "$(llvm-readelf -h loader/wrong_class/w32/libleaf.so)" 'ELF32' "32-bit leaf"
has "$(llvm-readelf -d loader/missing/libmissing.so)" 'NEEDED.*libnothere\.so' "missing needs libnothere"
has "$(llvm-readelf -d loader/cycle/libcycb.so)" 'NEEDED.*libcyca\.so' "cycle b->a"
has "$(llvm-readelf -d loader/cycle/libcyca.so)" 'NEEDED.*libcycb\.so' "cycle a->b"
has "$(llvm-readelf -V loader/symbols/libneedsver.so)" 'PROV_2' "libneedsver requires PROV_2"
grep -q PROV_2 <<<"$(llvm-readelf -V loader/symbols/libprov.so)" && fail "shipped libprov.so defines PROV_2"
grep -rqF "$TD" loader && fail "absolute build path in loader fixtures"


###############################################################################
# Windows loader scenarios (mingw gcc + GNU ld, -nostdlib so each DLL imports
# only what its scenario needs; tests/loader_windows.rs). Layout: winloader/
#   app/      root DLLs and their neighbours (application / DLL load dir)
#   pathdir/  on PATH only          path32/   32-bit copies, earlier on PATH
#   dlldir/   --dll-dir only        exe/      host.exe (--executable)
#   sysroot/Windows/System32/kernel32.dll   a tiny fake exporting GetTickCount
###############################################################################
rm -rf winloader
mkdir -p winloader/{app,pathdir,path32,dlldir,exe,sysroot/Windows/System32}
W=$TMP/winloader; mkdir -p "$W"
WIN_FLAGS="-O2 $PREFIX_MAP -nostdlib -Wl,--no-insert-timestamp"
printf 'int __stdcall DllMain(void *h, unsigned r, void *p) { return 1; }\n' > "$W/dllmain.c"
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
    x86_64-w64-mingw32-gcc $WIN_FLAGS -shared -Wl,-e,DllMain "$W/$base.c" "$W/dllmain.c" "$@" -o "$out"
    built "$out"
}

# The fake system DLL and the import libraries the scenarios link against.
printf 'LIBRARY KERNEL32.dll\nEXPORTS\n    GetTickCount\n' > "$W/kernel32.def"
mkdll winloader/sysroot/Windows/System32/kernel32.dll \
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
mkdll winloader/app/near.dll 'int near_fn(void){return 1;} int near_upper(void){return 2;} int near_by_ord(void){return 5;}' \
    "$W/near.def"
mkdll winloader/pathdir/onpath.dll '__declspec(dllexport) int onpath_fn(void) { return 1; }'
mkdll winloader/dlldir/indlldir.dll '__declspec(dllexport) int dlldir_fn(void) { return 1; }'
mkdll winloader/pathdir/wrongarch.dll '__declspec(dllexport) int wrongarch_fn(void) { return 64; }'
printf '__declspec(dllexport) int wrongarch_fn(void) { return 32; }\n' > "$W/wrongarch32.c"
printf 'int __stdcall DllMain(void *h, unsigned r, void *p) { return 1; }\n' > "$W/dllmain32.c"
i686-w64-mingw32-gcc $WIN_FLAGS -shared -Wl,-e,_DllMain@12 "$W/wrongarch32.c" "$W/dllmain32.c" \
    -o winloader/path32/wrongarch.dll
built winloader/path32/wrongarch.dll

# Forwarder chain fwda!f -> fwdb.g -> fwdc.h, and a forwarder cycle loop1 <-> loop2
printf 'LIBRARY fwda.dll\nEXPORTS\n    f = fwdb.g\n    loop1 = fwdb.loop2\n    fwda_real\n' > "$W/fwda.def"
printf 'LIBRARY fwdb.dll\nEXPORTS\n    g = fwdc.h\n    loop2 = fwda.loop1\n    fwdb_real\n' > "$W/fwdb.def"
printf 'LIBRARY fwdc.dll\nEXPORTS\n    h\n' > "$W/fwdc.def"
mkdll winloader/app/fwda.dll 'int fwda_real(void) { return 1; }' "$W/fwda.def"
mkdll winloader/app/fwdb.dll 'int fwdb_real(void) { return 1; }' "$W/fwdb.def"
mkdll winloader/app/fwdc.dll 'int h(void) { return 3; }' "$W/fwdc.def"

# search.dll: application dir (Near.DLL) vs PATH (onpath.dll, wrongarch.dll
# behind a 32-bit copy) vs --dll-dir (indlldir.dll) vs KnownDLLs (KERNEL32.dll)
mkdll winloader/app/search.dll \
    'int near_fn(void); int onpath_fn(void); int dlldir_fn(void); int wrongarch_fn(void); unsigned GetTickCount(void);
__declspec(dllexport) int search_all(void) { return near_fn() + onpath_fn() + dlldir_fn() + wrongarch_fn() + (int)GetTickCount(); }' \
    "$W/libnear.a" "$W/libonpath.a" "$W/libindlldir.a" "$W/libwrongarch.a" "$W/libkernel32.a"

# symbols.dll: near_missing and Near_Upper (near.dll exports near_upper) by
# name, ordinal 5 (exported) and 9 (not), f through the forwarder chain, loop1
# into the forwarder cycle
mkdll winloader/app/symbols.dll \
    'int near_fn(void); int near_missing(void); int Near_Upper(void); int near_by_ord(void); int near_gone(void);
int f(void); int loop1(void);
__declspec(dllexport) int symbols_all(void) { return near_fn() + near_missing() + Near_Upper() + near_by_ord() + near_gone() + f() + loop1(); }' \
    "$W/libnear.a" "$W/libfwda.a"

# cycle: cyca.dll <-> cycb.dll
mkdll winloader/app/cyca.dll 'int cycb_fn(void); __declspec(dllexport) int cyca_fn(void) { return cycb_fn(); }' "$W/libcycb.a"
mkdll winloader/app/cycb.dll 'int cyca_fn(void); __declspec(dllexport) int cycb_fn(void) { return cyca_fn(); }' "$W/libcyca.a"

# host.exe: an application in another directory (imports KERNEL32.dll only)
printf 'unsigned GetTickCount(void); int start(void) { return (int)GetTickCount(); }\n' > "$W/host.c"
x86_64-w64-mingw32-gcc $WIN_FLAGS -Wl,-e,start "$W/host.c" "$W/libkernel32.a" -o winloader/exe/host.exe
built winloader/exe/host.exe

wi() { llvm-readobj --coff-imports "$1"; }
has "$(wi winloader/app/search.dll)" 'Name: Near\.DLL' "search imports Near.DLL"
has "$(wi winloader/app/search.dll)" 'Name: KERNEL32\.dll' "search imports KERNEL32.dll"
has "$(wi winloader/app/symbols.dll)" 'Symbol:  \(9\)' "symbols imports ordinal 9"
has "$(llvm-readobj --file-headers winloader/path32/wrongarch.dll)" 'IMAGE_FILE_MACHINE_I386' "32-bit wrongarch"
has "$(llvm-objdump -p winloader/app/fwda.dll)" 'f \(forwarded to fwdb\.g\)' "fwda forwarder"
has "$(llvm-objdump -p winloader/app/fwdb.dll)" 'g \(forwarded to fwdc\.h\)' "fwdb forwarder"
has "$(wi winloader/app/cycb.dll)" 'Name: cyca\.dll' "cycle b->a"
grep -rqF "$TD" winloader && fail "absolute build path in winloader fixtures"

echo
echo "Fixtures:"
for f in "${BUILT[@]}"; do printf '  %8d  %s\n' "$(stat -c %s "$f")" "$f"; done
echo "Total: $(du -cb "${BUILT[@]}" | tail -1 | cut -f1) bytes"

###############################################################################
# dyld search scenarios (arm64 Mach-O, ld64.lld; tests/loader_dyld.rs).
# Layout: dyldloader/<scenario>/...; the tests pass --sysroot dyldloader, so
# the target paths are /<scenario>/...
###############################################################################
rm -rf dyldloader
mkdir -p dyldloader/{chain/{bin,lib},loaderpath/{bin,lib},exepath/{bin,plugins},weak,missing/fb} \
         dyldloader/{wrongarch/{x86,arm},dyldlp/{vendor,override,empty},symbols,cycle}
DL=$TMP/dyldloader; mkdir -p "$DL"
DY_T="--target=arm64-apple-macos11"
DY_FLAGS="-fuse-ld=lld -nostdlib -Wl,-undefined,dynamic_lookup"
# dysrc FN [CALLS...]: a C file defining FN, which calls each of CALLS
dysrc() {
    local fn=$1; shift
    { for c in "$@"; do printf 'int %s(void);\n' "$c"; done
      printf '__attribute__((visibility("default"))) int %s(void) { return 1' "$fn"
      for c in "$@"; do printf ' + %s()' "$c"; done
      printf '; }\n'; } > "$DL/$fn.c"
    echo "$DL/$fn.c"
}
# mkdylib OUT INSTALL_NAME FN [CALLS... --] [LINK ARGS...]: a one-function dylib (DY_T picks the arch)
mkdylib() {
    local out=$1 install=$2 fn=$3; shift 3
    local calls=()
    if [[ " $* " == *" -- "* ]]; then
        while [ "$1" != -- ]; do calls+=("$1"); shift; done; shift
    fi
    clang $DY_T $MACHO_CFLAGS -c "$(dysrc "$fn" "${calls[@]}")" -o "$DL/$fn.o"
    clang $DY_T $DY_FLAGS -shared "$DL/$fn.o" -Wl,-install_name,"$install" -o "$out" "$@"
    case $out in "$DL"/*) ;; *) built "$out" ;; esac
}
# mkexe OUT [CALLS... --] [LINK ARGS...]: an MH_EXECUTE whose main calls CALLS, linked with libSystem
mkexe() {
    local out=$1; shift
    local calls=()
    if [[ " $* " == *" -- "* ]]; then
        while [ "$1" != -- ]; do calls+=("$1"); shift; done; shift
    fi
    local name; name=$(basename "$out")
    clang $DY_T $MACHO_CFLAGS -c "$(dysrc "main" "${calls[@]}")" -o "$DL/main-$name.o"
    clang $DY_T $DY_FLAGS "$DL/main-$name.o" src/libSystem.tbd -o "$out" "$@"
    built "$out"
}

# chain: bin/app (LC_RPATH @executable_path/../lib) -> @rpath/libA -> @rpath/libB -> @rpath/libC;
# the libraries have no LC_RPATH: every @rpath is found through the executable's
R=dyldloader/chain
mkdylib $R/lib/libC.dylib @rpath/libC.dylib c_fn
mkdylib $R/lib/libB.dylib @rpath/libB.dylib b_fn c_fn -- $R/lib/libC.dylib
mkdylib $R/lib/libA.dylib @rpath/libA.dylib a_fn b_fn -- $R/lib/libB.dylib
mkexe $R/bin/app a_fn -- $R/lib/libA.dylib -Wl,-rpath,@executable_path/../lib

# loaderpath: a dylib in bin/ loading @loader_path/../lib/libX.dylib
R=dyldloader/loaderpath
mkdylib $R/lib/libX.dylib @loader_path/../lib/libX.dylib x_fn
mkdylib $R/bin/libtool.dylib @rpath/libtool.dylib tool_fn x_fn -- $R/lib/libX.dylib

# exepath: plugins/libplug.dylib loads @executable_path/libE.dylib (the host's dir, not the plugin's)
R=dyldloader/exepath
mkdylib $R/bin/libE.dylib @executable_path/libE.dylib e_fn
mkexe $R/bin/host
mkdylib $R/plugins/libplug.dylib @rpath/libplug.dylib plug_fn e_fn -- $R/bin/libE.dylib

# weak: LC_LOAD_WEAK_DYLIB @rpath/libopt.dylib, not shipped
R=dyldloader/weak
mkdylib "$DL/libopt.dylib" @rpath/libopt.dylib opt_fn
mkdylib $R/libweakuser.dylib @rpath/libweakuser.dylib weakuser_fn \
    -Wl,-weak_library,"$DL/libopt.dylib" -Wl,-rpath,@loader_path

# missing: @rpath/libgone.dylib and /missing/abs/libabs.dylib are not shipped (libthere.dylib is);
# rpaths @loader_path, /opt/nowhere/lib. fb/libgone.dylib is only reachable with
# DYLD_FALLBACK_LIBRARY_PATH=/missing/fb
R=dyldloader/missing
mkdylib "$DL/libgone.dylib" @rpath/libgone.dylib gone_fn
mkdylib "$DL/libabs.dylib" /missing/abs/libabs.dylib abs_fn
mkdylib $R/fb/libgone.dylib @rpath/libgone.dylib gone_fn
mkdylib $R/libthere.dylib @rpath/libthere.dylib there_fn
mkdylib $R/libneedy.dylib @rpath/libneedy.dylib needy_fn gone_fn there_fn abs_fn -- \
    "$DL/libgone.dylib" $R/libthere.dylib "$DL/libabs.dylib" -Wl,-rpath,@loader_path -Wl,-rpath,/opt/nowhere/lib

# wrongarch: LC_RPATH @loader_path/x86 (x86_64-only libdual) before @loader_path/arm (arm64 libdual);
# libwa.dylib itself is universal (x86_64 + arm64)
R=dyldloader/wrongarch
DY_T="--target=x86_64-apple-macos11" mkdylib $R/x86/libdual.dylib @rpath/libdual.dylib dual_fn
mkdylib $R/arm/libdual.dylib @rpath/libdual.dylib dual_fn
for a in x86_64 arm64; do
    d=$([ $a = x86_64 ] && echo x86 || echo arm)
    DY_T="--target=$a-apple-macos11" mkdylib "$DL/libwa-$a.dylib" @rpath/libwa.dylib wa_fn dual_fn -- \
        $R/$d/libdual.dylib -Wl,-rpath,@loader_path/x86 -Wl,-rpath,@loader_path/arm
done
llvm-lipo -create "$DL/libwa-x86_64.dylib" "$DL/libwa-arm64.dylib" -output $R/libwa.dylib
built $R/libwa.dylib

# dyldlp: install name /dyldlp/vendor/libover.dylib; override/libover.dylib wins with DYLD_LIBRARY_PATH
R=dyldloader/dyldlp
mkdylib $R/vendor/libover.dylib /dyldlp/vendor/libover.dylib over_fn
mkdylib $R/override/libover.dylib /dyldlp/vendor/libover.dylib over_fn -Wl,-current_version,2.0.0
mkdylib $R/libapp.dylib @rpath/libapp.dylib app_fn over_fn -- $R/vendor/libover.dylib

# symbols: libuser.dylib was linked against a libZ exporting _zfunc and _zother; the shipped libZ
# exports only _zother (two-level: both imports bind to @rpath/libZ.dylib; dyld_stub_binder to libSystem)
R=dyldloader/symbols
cat > "$DL/z_old.c" <<'C'
__attribute__((visibility("default"))) int zfunc(void) { return 1; }
__attribute__((visibility("default"))) int zother(void) { return 2; }
C
cat > "$DL/z_new.c" <<'C'
__attribute__((visibility("default"))) int zother(void) { return 2; }
C
for v in old new; do
    clang $DY_T $MACHO_CFLAGS -c "$DL/z_$v.c" -o "$DL/z_$v.o"
done
clang $DY_T $DY_FLAGS -shared "$DL/z_old.o" -Wl,-install_name,@rpath/libZ.dylib -o "$DL/libZ.dylib"
clang $DY_T $DY_FLAGS -shared "$DL/z_new.o" -Wl,-install_name,@rpath/libZ.dylib -o $R/libZ.dylib
built $R/libZ.dylib
mkdylib $R/libuser.dylib @rpath/libuser.dylib user_fn zfunc zother -- "$DL/libZ.dylib" \
    src/libSystem.tbd -Wl,-rpath,@loader_path

# cycle: libcyca.dylib <-> libcycb.dylib, both LC_RPATH @loader_path
R=dyldloader/cycle
mkdylib "$DL/libcycb.dylib" @rpath/libcycb.dylib cycb_fn
mkdylib $R/libcyca.dylib @rpath/libcyca.dylib cyca_fn cycb_fn -- "$DL/libcycb.dylib" -Wl,-rpath,@loader_path
mkdylib $R/libcycb.dylib @rpath/libcycb.dylib cycb_fn cyca_fn -- $R/libcyca.dylib -Wl,-rpath,@loader_path

otl() { llvm-otool -l "$1"; }
has "$(otl dyldloader/chain/bin/app)" 'path @executable_path/\.\./lib' "chain: exe LC_RPATH"
has "$(otl dyldloader/chain/bin/app)" 'name @rpath/libA\.dylib' "chain: exe loads libA"
for l in A B C; do
    if grep -q LC_RPATH <<<"$(otl dyldloader/chain/lib/lib$l.dylib)"; then fail "chain: lib$l has LC_RPATH"; fi
done
has "$(otl dyldloader/loaderpath/bin/libtool.dylib)" 'name @loader_path/\.\./lib/libX\.dylib' "loader_path"
has "$(otl dyldloader/exepath/plugins/libplug.dylib)" 'name @executable_path/libE\.dylib' "executable_path"
has "$(otl dyldloader/weak/libweakuser.dylib)" 'LC_LOAD_WEAK_DYLIB' "weak dylib"
has "$(otl dyldloader/missing/libneedy.dylib)" 'name /missing/abs/libabs\.dylib' "missing: absolute install name"
has "$(llvm-lipo -archs dyldloader/wrongarch/x86/libdual.dylib)" '^x86_64 *$' "x86_64-only libdual"
has "$(llvm-lipo -archs dyldloader/wrongarch/libwa.dylib)" 'x86_64 arm64' "fat libwa"
has "$(otl dyldloader/dyldlp/libapp.dylib)" 'name /dyldlp/vendor/libover\.dylib' "absolute install name"
has "$(llvm-nm -gU dyldloader/symbols/libZ.dylib)" '_zother' "shipped libZ"
if grep -q _zfunc <<<"$(llvm-nm -gU dyldloader/symbols/libZ.dylib)"; then fail "shipped libZ exports _zfunc"; fi
has "$(llvm-objdump --macho --bind --lazy-bind dyldloader/symbols/libuser.dylib)" 'libZ +_zfunc' "libuser binds _zfunc to libZ"
has "$(otl dyldloader/cycle/libcycb.dylib)" 'name @rpath/libcyca\.dylib' "cycle b->a"
has "$(otl dyldloader/cycle/libcyca.dylib)" 'name @rpath/libcycb\.dylib' "cycle a->b"
if grep -rqF "$TD" dyldloader; then fail "absolute build path in dyldloader fixtures"; fi
echo "dyldloader: $(find dyldloader -type f | wc -l) files, $(du -cb $(find dyldloader -type f) | tail -1 | cut -f1) bytes"

###############################################################################
# Runtime probe fixtures (gcc; tests/runtime_load.rs loads them in the isolated
# `ffi-doctor load` child). Layout: runtime/
#   libctor_{segv,hang,exit,spam,abort}.so  constructors that misbehave
#   libgood.so        good_version() -> "1.2.3", good_answer() -> 42, good_data
#   libneedsmissing.so  DT_NEEDED libnotshipped.so (not shipped)
#   libinterpose.so   links libinterpose_dep.so, which also defines interpose_both
#                     and alone defines interpose_from_dep
###############################################################################
need gcc
rm -rf runtime
mkdir -p runtime
RT=$TMP/runtime; mkdir -p "$RT"
RT_CFLAGS="-O2 -fPIC $PREFIX_MAP"
# rtlib OUT SONAME SRC-TEXT [LINK ARGS...]: a shared library from C text
rtlib() {
    local out=$1 soname=$2 src=$3 base; shift 3
    base=$(basename "$out" .so)
    printf '%s\n' "$src" > "$RT/$base.c"
    gcc $RT_CFLAGS -shared -Wl,--no-as-needed -Wl,--build-id=sha1 "$RT/$base.c" \
        -Wl,-soname,"$soname" -o "$out" "$@"
    case $out in "$RT"/*) ;; *) built "$out" ;; esac
}

# Constructors that misbehave while dlopen runs them.
rtlib runtime/libctor_segv.so libctor_segv.so '#include <stdio.h>
__attribute__((constructor)) static void init(void) {
    fputs("ctor_segv: about to dereference NULL\n", stderr); fflush(stderr);
    *(volatile int *)0 = 1;
}
int ctor_segv_fn(void) { return 1; }'
# hang: forks a grandchild that hangs too (the whole process group must be killed)
rtlib runtime/libctor_hang.so libctor_hang.so '#include <unistd.h>
__attribute__((constructor)) static void init(void) {
    if (fork() == 0) for (;;) pause();
    for (;;) pause();
}
int ctor_hang_fn(void) { return 1; }'
rtlib runtime/libctor_exit.so libctor_exit.so '#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void init(void) {
    puts("ctor_exit: license check failed, exiting"); exit(3);
}
int ctor_exit_fn(void) { return 1; }'
# spam: 4 MiB on stdout and 4 MiB on stderr, then loads fine
rtlib runtime/libctor_spam.so libctor_spam.so '#include <stdio.h>
#include <string.h>
__attribute__((constructor)) static void init(void) {
    static char line[1024];
    memset(line, 0x41, sizeof line - 1); line[sizeof line - 2] = 0x0a;
    for (int i = 0; i < 4096; i++) { fputs(line, stdout); fputs(line, stderr); }
    fflush(stdout);
}
int ctor_spam_fn(void) { return 7; }'
rtlib runtime/libctor_abort.so libctor_abort.so '#include <stdio.h>
#include <stdlib.h>
__attribute__((constructor)) static void init(void) {
    fputs("ctor_abort: invariant violated\n", stderr); abort();
}
int ctor_abort_fn(void) { return 1; }'

rtlib runtime/libgood.so libgood.so 'const char *good_version(void) { return "1.2.3"; }
int good_answer(void) { return 42; }
long good_negative(void) { return -5; }
int good_data[4] = {1, 2, 3, 4};'

# libnotshipped.so is linked against but not shipped
rtlib "$RT/libnotshipped.so" libnotshipped.so 'int notshipped_fn(void) { return 1; }'
rtlib runtime/libneedsmissing.so libneedsmissing.so \
    'int notshipped_fn(void); int needsmissing_fn(void) { return notshipped_fn(); }' \
    -L"$RT" -lnotshipped -Wl,--enable-new-dtags,-rpath,'$ORIGIN'

rtlib runtime/libinterpose_dep.so libinterpose_dep.so \
    'int interpose_both(void) { return 2; } int interpose_from_dep(void) { return 3; }'
rtlib runtime/libinterpose.so libinterpose.so \
    'int interpose_both(void) { return 1; } int interpose_own(void) { return 1; }' \
    -Lruntime -linterpose_dep -Wl,--enable-new-dtags,-rpath,'$ORIGIN'

has "$(llvm-readelf -d runtime/libneedsmissing.so)" 'NEEDED.*libnotshipped\.so' "needsmissing needs libnotshipped"
if [ -e runtime/libnotshipped.so ]; then fail "libnotshipped.so must not be shipped"; fi
has "$(llvm-readelf -d runtime/libinterpose.so)" 'NEEDED.*libinterpose_dep\.so' "interpose needs dep"
has "$(llvm-nm -D --defined-only runtime/libinterpose_dep.so)" ' interpose_both$' "dep defines interpose_both"
if grep -q interpose_from_dep <<<"$(llvm-nm -D --defined-only runtime/libinterpose.so)"; then
    fail "libinterpose.so defines interpose_from_dep"
fi
has "$(llvm-nm -D --defined-only runtime/libgood.so)" ' D good_data$' "good_data is data"
if grep -rqF "$TD" runtime; then fail "absolute build path in runtime fixtures"; fi
echo "runtime: $(find runtime -type f | wc -l) files"

###############################################################################
# DWARF: libshapes (src/shapes.c) for the DWARF reader and `ffi-doctor layout`, checked against pahole
###############################################################################
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

###############################################################################
# check vs DWARF: libmismatch (src/mismatch.c) behind src/mismatch_good.h (exact), src/mismatch_bad.h (one
# deliberate mismatch per FFI02xx rule) and src/mismatch.cdef (cffi partial structs/enums); tests/check_dwarf.rs
###############################################################################
rm -rf dwarfcheck; mkdir -p dwarfcheck
gcc -g -O1 -fPIC -shared $PREFIX_MAP src/mismatch.c -o dwarfcheck/libmismatch.so
built dwarfcheck/libmismatch.so
has "$(readelf -S dwarfcheck/libmismatch.so)" 'debug_info' "libmismatch has DWARF"
if grep -rqF "$TD" dwarfcheck; then fail "absolute build path in dwarfcheck fixtures"; fi
echo "dwarfcheck: $(find dwarfcheck -type f | wc -l) files"

###############################################################################
# gate: test wheels and loose libraries for `ffi-doctor gate` (testdata/wheels/)
###############################################################################
# Each bad fixture breaks exactly one policy of tests/gate_wheels.rs's config; see
# src/gate/build-wheels.sh (it runs standalone too).
bash "$TD/src/gate/build-wheels.sh"
