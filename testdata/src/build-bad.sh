#!/usr/bin/env bash
# testdata/src/build-bad.sh - bad/: malformed and non-binary inputs (empty, truncated, text, GNU ld script, TAPI
# stub, static archive, Mach-O header with absurd load commands, truncated PE). Cut from elf/x86_64/libdemo.so and
# pe/msvc64/demo.dll, so it runs after build-elf.sh and build-pe.sh. Needs clang/llvm 14, python3.
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need clang llvm-ar python3

rm -rf bad
mkdir -p bad
for f in elf/x86_64/libdemo.so pe/msvc64/demo.dll; do
    [ -f "$f" ] || { echo "bad/ is cut from $f: run build-elf.sh and build-pe.sh first" >&2; exit 1; }
done
# The two members of libstatic.a, compiled exactly as build-elf.sh compiles them for x86_64.
ELF_CFLAGS="-O2 -fPIC -fvisibility=hidden $PREFIX_MAP"
B=$TMP/elf-x86_64; mkdir -p "$B"
clang --target=x86_64-linux-gnu $ELF_CFLAGS -ffreestanding -c src/ext.c -o "$B/ext.o"
clang --target=x86_64-linux-gnu $ELF_CFLAGS -g -c src/mangled.c -o "$B/mangled.o"

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

summary
