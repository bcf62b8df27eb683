#!/usr/bin/env bash
# testdata/src/build-macho.sh - macho/{x86_64,arm64,fat}/: libdemo.dylib (thin and universal), libcxx.dylib,
# librpath.dylib. ld64.lld without an SDK: -nostdlib + the src/libSystem.tbd stub. Sources: src/demo.c,
# src/mangled.c, src/cxx.cpp, src/ext.c, src/reexp.c, src/rpath.c. Needs clang/lld/llvm 14, python3.
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need clang clang++ ld.lld llvm-lipo llvm-otool llvm-objdump python3

rm -rf macho
mkdir -p macho/{x86_64,arm64,fat}

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

# Sanity checks
has "$(llvm-otool -l macho/arm64/librpath.dylib)" 'LC_REEXPORT_DYLIB' "reexport"
has "$(llvm-otool -l macho/arm64/librpath.dylib)" 'LC_LOAD_WEAK_DYLIB' "weak dylib"
has "$(llvm-objdump --macho --lazy-bind macho/arm64/libdemo.dylib)" 'flat-namespace +_ext_helper' "flat import"
has "$(llvm-objdump --macho --lazy-bind macho/arm64/libdemo.dylib)" 'libSystem +_puts' "two-level import"
has "$(llvm-lipo -archs macho/fat/libdemo.dylib)" 'x86_64 arm64' "fat archs"

summary
