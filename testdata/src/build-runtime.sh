#!/usr/bin/env bash
# testdata/src/build-runtime.sh - runtime/: fixtures for `ffi-doctor load` / `check --runtime` (gcc, x86_64;
# tests/runtime_load.rs loads them in the isolated `ffi-doctor load` child):
#   libctor_{segv,hang,exit,spam,abort}.so  constructors that misbehave
#   libgood.so        good_version() -> "1.2.3", good_answer() -> 42, good_data
#   libneedsmissing.so  DT_NEEDED libnotshipped.so (not shipped)
#   libinterpose.so   links libinterpose_dep.so, which also defines interpose_both
#                     and alone defines interpose_from_dep
# The sources are C text written by this script. Needs gcc, llvm 14.
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need gcc llvm-readelf llvm-nm

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

summary
