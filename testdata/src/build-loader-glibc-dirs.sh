#!/usr/bin/env bash
# testdata/src/build-loader-glibc-dirs.sh - loader/glibc/{nodeflib,multiarch32}/: where glibc's ld.so looks last
# (tests/loader_glibc.rs checks them against ldd, LD_DEBUG=libs and real runs). Run by build-loader-glibc.sh (which
# empties loader/glibc/ first); runs standalone too. Needs gcc with -m32 (gcc-multilib, libc6-dev-i386).
#
#   nodeflib/     libnodeflib.so is linked with -z nodefaultlib (DF_1_NODEFLIB) and needs libfakeroot-0.so, whose
#                 ld.so.cache entry (from the fakeroot package) is /usr/lib/x86_64-linux-gnu/libfakeroot/…: a
#                 subdirectory of a system directory, so glibc drops it; libdeflib.so is the same without the flag.
#                 app_nodeflib / app_deflib load them through DT_RUNPATH $ORIGIN.
#   multiarch32/  app32, a 32-bit program (DT_RUNPATH $ORIGIN/lib) needing libm32dep.so from lib/ and libm.so.6,
#                 which on Debian amd64 live in /lib32 (libc6-i386); empty.ld.so.cache: a valid cache with no
#                 entries, the model's side of `ld.so --inhibit-cache`.
#
# The sources are one-line C written by this script.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need gcc llvm-readelf python3

rm -rf loader/glibc/nodeflib loader/glibc/multiarch32
mkdir -p loader/glibc/nodeflib loader/glibc/multiarch32/lib
L=$TMP/loader-dirs; mkdir -p "$L"
CF="-O2 $PREFIX_MAP"

# A stand-in with the soname of fakeroot's library to link against (the real one is found at run time).
printf 'int fakeroot_stub(void) { return 0; }\n' > "$L/stub.c"
gcc $CF -fPIC -shared -Wl,-soname,libfakeroot-0.so "$L/stub.c" -o "$L/libfakeroot-0.so"

R=loader/glibc/nodeflib
printf 'int nodeflib_fn(void) { return 1; }\n' > "$L/nodeflib.c"
gcc $CF -fPIC -shared -Wl,--build-id=sha1 -Wl,--no-as-needed -Wl,-soname,libnodeflib.so -Wl,-z,nodefaultlib \
    "$L/nodeflib.c" -L"$L" -lfakeroot-0 -o $R/libnodeflib.so
gcc $CF -fPIC -shared -Wl,--build-id=sha1 -Wl,--no-as-needed -Wl,-soname,libdeflib.so \
    "$L/nodeflib.c" -L"$L" -lfakeroot-0 -o $R/libdeflib.so
printf 'int main(void) { return 0; }\n' > "$L/main.c"
for v in nodeflib deflib; do
    gcc $CF -Wl,--no-as-needed "$L/main.c" -L$R -l$v -Wl,-rpath-link,"$L" \
        -Wl,--enable-new-dtags,-rpath,'$ORIGIN' -o $R/app_$v
done
built $R/libnodeflib.so $R/libdeflib.so $R/app_nodeflib $R/app_deflib

R=loader/glibc/multiarch32
printf 'int m32dep_fn(void) { return 1; }\n' > "$L/m32dep.c"
gcc -m32 $CF -fPIC -shared -Wl,--build-id=sha1 -Wl,-soname,libm32dep.so "$L/m32dep.c" -o $R/lib/libm32dep.so
printf 'double cos(double); int m32dep_fn(void);\nint main(int c, char **v) { (void)v; return m32dep_fn() - 1 + (int)cos(c - 1) - 1; }\n' \
    > "$L/app32.c"
gcc -m32 $CF -Wl,--no-as-needed "$L/app32.c" -L$R/lib -lm32dep -lm \
    -Wl,--enable-new-dtags,-rpath,'$ORIGIN/lib' -o $R/app32
python3 - "$R/empty.ld.so.cache" <<'PY'
import struct, sys
# glibc-ld.so.cache1.1 header (sysdeps/generic/dl-cache.h): magic+version, nlibs, len_strings, flags, padding,
# extension_offset, unused[3]: 48 bytes, no entries.
open(sys.argv[1], "wb").write(b"glibc-ld.so.cache1.1" + struct.pack("<IIB3xI3I", 0, 0, 2, 0, 0, 0, 0))
PY
built $R/lib/libm32dep.so $R/app32 $R/empty.ld.so.cache

has "$(llvm-readelf -d loader/glibc/nodeflib/libnodeflib.so)" 'FLAGS_1.*NODEFLIB' "libnodeflib has DF_1_NODEFLIB"
grep -q NODEFLIB <<<"$(llvm-readelf -d loader/glibc/nodeflib/libdeflib.so)" && fail "libdeflib has NODEFLIB"
has "$(llvm-readelf -d loader/glibc/nodeflib/libnodeflib.so)" 'NEEDED.*libfakeroot-0\.so' "needs libfakeroot-0.so"
has "$(llvm-readelf -h loader/glibc/multiarch32/app32)" 'ELF32' "32-bit app"
has "$(llvm-readelf -d loader/glibc/multiarch32/app32)" 'NEEDED.*libm\.so\.6' "app32 needs libm.so.6"
has "$(llvm-readelf -d loader/glibc/multiarch32/app32)" '\(RUNPATH\).*\[\$ORIGIN/lib\]' "app32 RUNPATH"
[ "$(stat -c %s loader/glibc/multiarch32/empty.ld.so.cache)" = 48 ] || fail "empty cache size"
grep -rqF "$TD" loader/glibc/nodeflib loader/glibc/multiarch32 && fail "absolute build path in the fixtures"

summary
