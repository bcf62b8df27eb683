#!/usr/bin/env bash
# testdata/build.sh - (re)build the whole ffi-doctor fixture corpus: runs one script per fixture family, each of
# which also runs on its own (see README.md for what each fixture demonstrates).
#
#   src/build-elf.sh             elf/
#   src/build-macho.sh           macho/
#   src/build-pe.sh              pe/
#   src/build-pe-split.sh        pe/split/     (after build-pe.sh, which empties pe/)
#   src/build-callconv.sh        pe/callconv/  (likewise)
#   src/build-bad.sh             bad/          (cut from elf/ and pe/ outputs, so after those)
#   src/build-loader-glibc.sh    loader/glibc/
#   src/build-loader-windows.sh  loader/windows/
#   src/build-loader-dyld.sh     loader/dyld/
#   src/build-runtime.sh         runtime/
#   src/build-dwarf.sh           dwarf/
#   src/build-dwarfcheck.sh      dwarfcheck/
#   src/build-diff.sh            diff/         (pairs of releases for `diff` and its abidiff oracle)
#   src/gate/build-wheels.sh     wheels/
#
# Needs (Debian 12): clang/lld/llvm 14, gcc, g++ (libstdc++), binutils, gcc-mingw-w64 (x86_64 + i686),
# binutils-mingw-w64, rustc (host target only), python3.
# Idempotent; runs from any cwd; intermediates go to temp dirs; each script ends with sanity checks that the
# features the tests rely on are really there.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
for family in elf macho pe pe-split callconv bad loader-glibc loader-windows loader-dyld runtime dwarf dwarfcheck diff; do
    echo "== $family"
    bash "src/build-$family.sh"
done
echo "== wheels"
bash src/gate/build-wheels.sh
