#!/usr/bin/env bash
# scripts/diff-pypi-pairs.sh DIR - two releases each of LZ4 (1.9.3 → 1.9.4) and Brotli (1.0.9 → 1.1.0), built with -g
# into DIR/<name>-<version>/<lib>.so for tests/diff_real.rs (and bench/run.sh's diff case when libpng is absent).
# Sources: the PyPI sdists that vendor them (lz4 3.1.10 and 4.3.3 carry lz4libs/ of LZ4 1.9.3 and 1.9.4; Brotli
# 1.0.9 and 1.1.0 carry brotli's c/ tree), fetched with pip into DIR/sdist, so only PyPI must be reachable.
# Built as upstream's Makefile/CMake build them: -fvisibility=hidden with the projects' export macros, upstream's
# SONAMEs (liblz4.so.1, libbrotlicommon.so.1, libbrotlidec.so.1, libbrotlienc.so.1). The exports match Debian's
# liblz4.so.1.9.4 and libbrotli*.so.1.0.9 except what the sdists leave out (lz4file.c) or Debian adds
# (-DLZ4F_PUBLISH_STATIC_FUNCTIONS). Each release also gets its public headers and one header including them all
# (lz4-all.h, brotli-all.h: the --spec of a binding that uses the whole library). Needs gcc, python3 -m pip, tar,
# unzip (or python3's zipfile). Outputs are kept: a second run does nothing.
set -euo pipefail
DIR=${1:?usage: diff-pypi-pairs.sh DIR}
mkdir -p "$DIR/sdist" "$DIR/src"
DIR=$(cd "$DIR" && pwd)
export LC_ALL=C SOURCE_DATE_EPOCH=0 PIP_DISABLE_PIP_VERSION_CHECK=1

# sdist PKG VER: unpack PKG==VER's sdist into $DIR/src/PKG-VER (its top directory's contents)
sdist() {
    local pkg=$1 ver=$2 out="$DIR/src/$1-$2"
    [ -d "$out" ] && return 0
    local f
    f=$(find "$DIR/sdist" -maxdepth 1 -iname "$pkg-$ver.*" | head -n1)
    if [ -z "$f" ]; then
        # pip prepares an sdist's metadata even to download it: first with the installed setuptools
        # (--no-build-isolation, nothing more to fetch), else in the isolated build environment pip fetches
        python3 -m pip download -q --no-deps --no-binary :all: --no-build-isolation "$pkg==$ver" -d "$DIR/sdist" \
            >/dev/null 2>&1 || python3 -m pip download -q --no-deps --no-binary :all: "$pkg==$ver" -d "$DIR/sdist"
        f=$(find "$DIR/sdist" -maxdepth 1 -iname "$pkg-$ver.*" | head -n1)
    fi
    [ -n "$f" ] || { echo "diff-pypi-pairs.sh: no sdist of $pkg==$ver in $DIR/sdist" >&2; return 1; }
    rm -rf "$out.tmp"
    mkdir -p "$out.tmp"
    case "$f" in
        *.zip) python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$f" "$out.tmp" ;;
        *) tar -xzf "$f" -C "$out.tmp" ;;
    esac
    mv "$out.tmp"/* "$out.tmp.d" && rmdir "$out.tmp" && mv "$out.tmp.d" "$out"
}

CFLAGS="-g -O2 -fPIC -fvisibility=hidden"

# lz4 PYPI_VERSION LZ4_VERSION: liblz4.so (lz4.c lz4hc.c lz4frame.c xxhash.c) as lib/Makefile links it
lz4() {
    local src="$DIR/src/lz4-$1/lz4libs" out="$DIR/lz4-$2"
    [ -f "$out/liblz4.so" ] && return 0
    sdist lz4 "$1"
    mkdir -p "$out"
    (cd "$src" && gcc $CFLAGS -shared -ffile-prefix-map="$src"=. -o "$out/liblz4.so.tmp" \
        lz4.c lz4hc.c lz4frame.c xxhash.c -Wl,-soname,liblz4.so.1)
    cp "$src"/lz4.h "$src"/lz4hc.h "$src"/lz4frame.h "$out/"
    printf '#include "lz4.h"\n#include "lz4hc.h"\n#include "lz4frame.h"\n' >"$out/lz4-all.h"
    mv "$out/liblz4.so.tmp" "$out/liblz4.so"
}

# brotli PYPI_VERSION: libbrotlicommon, libbrotlidec and libbrotlienc as CMakeLists.txt builds them (dec and enc
# link common)
brotli() {
    local src="$DIR/src/Brotli-$1/c" out="$DIR/brotli-$1"
    [ -f "$out/libbrotlienc.so" ] && return 0
    sdist Brotli "$1"
    mkdir -p "$out"
    local inc=(-I"$src/include" -DBROTLI_SHARED_COMPILATION -ffile-prefix-map="$src"=.)
    (cd "$src" && gcc $CFLAGS "${inc[@]}" -DBROTLICOMMON_SHARED_COMPILATION -shared -o "$out/libbrotlicommon.so" \
        common/*.c -Wl,-soname,libbrotlicommon.so.1)
    (cd "$src" && gcc $CFLAGS "${inc[@]}" -DBROTLIDEC_SHARED_COMPILATION -shared -o "$out/libbrotlidec.so" \
        dec/*.c -Wl,-soname,libbrotlidec.so.1 -L"$out" -lbrotlicommon) &
    local dec=$!
    (cd "$src" && gcc $CFLAGS "${inc[@]}" -DBROTLIENC_SHARED_COMPILATION -shared -o "$out/libbrotlienc.so.tmp" \
        enc/*.c -Wl,-soname,libbrotlienc.so.1 -L"$out" -lbrotlicommon -lm)
    wait "$dec"
    cp -r "$src/include/brotli" "$out/"
    printf '#include <brotli/decode.h>\n#include <brotli/encode.h>\n' >"$out/brotli-all.h"
    mv "$out/libbrotlienc.so.tmp" "$out/libbrotlienc.so"
}

lz4 3.1.10 1.9.3 &
old=$!
lz4 4.3.3 1.9.4
wait "$old"
brotli 1.0.9
brotli 1.1.0
ls -l "$DIR"/lz4-*/lib*.so "$DIR"/brotli-*/lib*.so
