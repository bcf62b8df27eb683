#!/usr/bin/env bash
# scripts/diff-pypi-pairs.sh DIR - two releases each of LZ4 (1.9.3 → 1.9.4) and Brotli (1.0.9 → 1.1.0), built with -g
# into DIR/<name>-<version>/<lib>.so for tests/diff_real.rs (and bench/run.sh's diff case when libpng is absent).
# Sources: the PyPI sdists that vendor them (lz4 3.1.10 and 4.3.3 carry lz4libs/ of LZ4 1.9.3 and 1.9.4; Brotli
# 1.0.9 and 1.1.0 carry brotli's c/ tree), downloaded from PyPI's file host (pinned URL and sha256) into DIR/sdist, so only PyPI must be reachable.
# Built as upstream's Makefile/CMake build them: -fvisibility=hidden with the projects' export macros, upstream's
# SONAMEs (liblz4.so.1, libbrotlicommon.so.1, libbrotlidec.so.1, libbrotlienc.so.1). The exports match Debian's
# liblz4.so.1.9.4 and libbrotli*.so.1.0.9 except what the sdists leave out (lz4file.c) or Debian adds
# (-DLZ4F_PUBLISH_STATIC_FUNCTIONS). Each release also gets its public headers and one header including them all
# (lz4-all.h, brotli-all.h: the --spec of a binding that uses the whole library). Needs gcc, curl, sha256sum, tar,
# unzip (or python3's zipfile). Outputs are kept: a second run does nothing.
set -euo pipefail
DIR=${1:?usage: diff-pypi-pairs.sh DIR}
mkdir -p "$DIR/sdist" "$DIR/src"
DIR=$(cd "$DIR" && pwd)
export LC_ALL=C SOURCE_DATE_EPOCH=0

# The sdists, pinned by URL and sha256 (as PyPI's simple index lists them): downloaded, checked and unpacked,
# never built or run (pip would run each sdist's setup.py to read its metadata).
sdist_url() {
    case "$1-$2" in
        lz4-3.1.10) echo "https://files.pythonhosted.org/packages/53/31/df54b869e4a3a97eb6735c7d0853758124dfbd61dd9e9e1c7b5e72fd55b4/lz4-3.1.10.tar.gz 439e575ecfa9ecffcbd63cfed99baefbe422ab9645b1e82278024d8a21d9720b" ;;
        lz4-4.3.3) echo "https://files.pythonhosted.org/packages/a4/31/ec1259ca8ad11568abaf090a7da719616ca96b60d097ccc5799cd0ff599c/lz4-4.3.3.tar.gz 01fe674ef2889dbb9899d8a67361e0c4a2c833af5aeb37dd505727cf5d2a131e" ;;
        Brotli-1.0.9) echo "https://files.pythonhosted.org/packages/2a/18/70c32fe9357f3eea18598b23aa9ed29b1711c3001835f7cf99a9818985d0/Brotli-1.0.9.zip 4d1b810aa0ed773f81dceda2cc7b403d01057458730e309856356d4ef4188438" ;;
        Brotli-1.1.0) echo "https://files.pythonhosted.org/packages/2f/c2/f9e977608bdf958650638c3f1e28f85a1b075f075ebbe77db8555463787b/Brotli-1.1.0.tar.gz 81de08ac11bcb85841e440c13611c00b67d3bf82698314928d0b676362546724" ;;
        *) return 1 ;;
    esac
}

# sdist PKG VER: unpack PKG==VER's sdist into $DIR/src/PKG-VER (its top directory's contents)
sdist() {
    local pkg=$1 ver=$2 out="$DIR/src/$1-$2"
    [ -d "$out" ] && return 0
    local url sum f
    read -r url sum < <(sdist_url "$pkg" "$ver")
    f="$DIR/sdist/${url##*/}"
    if [ ! -f "$f" ]; then
        curl -fsSL --retry 3 -o "$f.tmp" "$url"
        echo "$sum  $f.tmp" | sha256sum -c --quiet - || { rm -f "$f.tmp"; echo "diff-pypi-pairs.sh: $url: sha256 differs" >&2; return 1; }
        mv "$f.tmp" "$f"
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
