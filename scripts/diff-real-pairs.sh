#!/usr/bin/env bash
# scripts/diff-real-pairs.sh DIR - two releases of zlib and three of libpng (1.5 → 1.6 is a real break), built from their release tags with -g
# into DIR/<name>-<tag>/lib<name>.so for tests/diff_real.rs (and bench/run.sh's diff case).
# Sources: https://github.com/<repo>/archive/refs/tags/<tag>.tar.gz (cached in DIR/src), or, when
# FFI_DOCTOR_GIT_MIRRORS names a directory of bare mirrors (<owner>+<name>/repo), `git archive` from there.
# Needs gcc, curl (or the mirrors), tar; libpng builds against the zlib built here.
set -euo pipefail
DIR=${1:?usage: diff-real-pairs.sh DIR}
mkdir -p "$DIR/src"
DIR=$(cd "$DIR" && pwd)
export LC_ALL=C SOURCE_DATE_EPOCH=0

# fetch REPO TAG: unpack the tag's sources into $DIR/src/<name>-<tag>
fetch() {
    local repo=$1 tag=$2 name=${1#*/}
    local out="$DIR/src/$name-$tag"
    [ -d "$out" ] && return 0
    mkdir -p "$out.tmp"
    local mirror="${FFI_DOCTOR_GIT_MIRRORS:-}/${repo/\//+}/repo"
    if [ -n "${FFI_DOCTOR_GIT_MIRRORS:-}" ] && [ -d "$mirror" ]; then
        git --git-dir="$mirror" archive "$tag" | tar -x -C "$out.tmp"
    else
        curl -fsSL "https://github.com/$repo/archive/refs/tags/$tag.tar.gz" | tar -xz -C "$out.tmp" --strip-components=1
    fi
    mv "$out.tmp" "$out"
}

CFLAGS="-g -O2 -fPIC"

zlib() {
    local tag=$1 src="$DIR/src/zlib-$1" out="$DIR/zlib-$1"
    [ -f "$out/libz.so" ] && return 0
    fetch madler/zlib "$tag"
    mkdir -p "$out"
    (cd "$src" && gcc $CFLAGS -DHAVE_UNISTD_H -DHAVE_STDARG_H -D_LARGEFILE64_SOURCE=1 -shared \
        -ffile-prefix-map="$src"=. -o "$out/libz.so" \
        adler32.c compress.c crc32.c deflate.c gzclose.c gzlib.c gzread.c gzwrite.c infback.c inffast.c \
        inflate.c inftrees.c trees.c uncompr.c zutil.c \
        -Wl,--version-script=zlib.map -Wl,-soname,libz.so.1)
    cp "$src/zlib.h" "$src/zconf.h" "$out/"
}

libpng() {
    local tag=$1 src="$DIR/src/libpng-$1" out="$DIR/libpng-$1" z="$DIR/zlib-$2"
    local minor=${tag#v1.}; minor=${minor%%.*}
    local lib=libpng1$minor
    [ -f "$out/$lib.so" ] && return 0
    fetch pnggroup/libpng "$tag"
    mkdir -p "$out"
    cp "$src/scripts/pnglibconf.h.prebuilt" "$src/pnglibconf.h"
    (cd "$src" && gcc $CFLAGS -I"$z" -DPNG_ARM_NEON_OPT=0 -DPNG_INTEL_SSE_OPT=0 -shared \
        -ffile-prefix-map="$src"=. -o "$out/$lib.so" \
        png.c pngerror.c pngget.c pngmem.c pngpread.c pngread.c pngrio.c pngrtran.c pngrutil.c pngset.c \
        pngtrans.c pngwio.c pngwrite.c pngwtran.c pngwutil.c \
        -Wl,-soname,$lib.so.1$minor -L"$z" -lz -lm)
    cp "$src/png.h" "$src/pngconf.h" "$src/pnglibconf.h" "$out/"
}

zlib v1.2.13
zlib v1.3.1
libpng v1.5.30 v1.3.1
libpng v1.6.40 v1.3.1
libpng v1.6.43 v1.3.1
ls -l "$DIR"/*/lib*.so
