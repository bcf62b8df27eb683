#!/usr/bin/env bash
# testdata/src/build-dwarfcheck.sh - dwarfcheck/: libmismatch.so, gcc -g of src/mismatch.c, behind
# src/mismatch_good.h (exact), src/mismatch_bad.h (one deliberate mismatch per FFI02xx rule) and
# src/mismatch.cdef (cffi partial structs/enums); tests/check_dwarf.rs. Needs gcc, binutils (readelf).
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need gcc readelf

rm -rf dwarfcheck; mkdir -p dwarfcheck
gcc -g -O1 -fPIC -shared $PREFIX_MAP src/mismatch.c -o dwarfcheck/libmismatch.so
built dwarfcheck/libmismatch.so
has "$(readelf -S dwarfcheck/libmismatch.so)" 'debug_info' "libmismatch has DWARF"
if grep -rqF "$TD" dwarfcheck; then fail "absolute build path in dwarfcheck fixtures"; fi
echo "dwarfcheck: $(find dwarfcheck -type f | wc -l) files"

summary
