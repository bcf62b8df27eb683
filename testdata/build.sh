#!/usr/bin/env bash
# testdata/build.sh - (re)build the ffi-doctor fixture corpus from testdata/src.
#
# Needs (Debian 12): clang/lld/llvm 14, gcc-mingw-w64 (x86_64 + i686),
# binutils-mingw-w64, rustc (host target only), python3.
# Idempotent; runs from any cwd; intermediates go to a temp dir.
# Outputs: elf/ macho/ pe/ bad/ loader/ (see README.md).
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
# Loader search scenarios (gcc + GNU ld; tests/oracle_deps.rs checks them
# against ldd and LD_DEBUG=libs). Layout: loader/<scenario>/...
###############################################################################
need gcc
rm -rf loader
mkdir -p loader/{rpath_vs_runpath/{a,b},inherit/deep,wrong_class/{w32,w64},missing,llp/dir,cycle}
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
grep -rqF "$TD" loader && fail "absolute build path in loader fixtures"

echo
echo "Fixtures:"
for f in "${BUILT[@]}"; do printf '  %8d  %s\n' "$(stat -c %s "$f")" "$f"; done
echo "Total: $(du -cb "${BUILT[@]}" | tail -1 | cut -f1) bytes"
