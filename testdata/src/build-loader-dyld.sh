#!/usr/bin/env bash
# testdata/src/build-loader-dyld.sh - loader/dyld/<scenario>/: dyld search scenarios (arm64 Mach-O, ld64.lld;
# tests/loader_dyld.rs). The tests pass --sysroot testdata/loader/dyld, so the target paths are /<scenario>/...
# One-function -ffreestanding -nostdlib dylibs written by this script, -undefined dynamic_lookup, libSystem from
# src/libSystem.tbd. Needs clang/lld/llvm 14.
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need clang ld.lld llvm-lipo llvm-otool llvm-nm llvm-objdump

MACHO_CFLAGS="-O2 -ffreestanding -fvisibility=hidden $PREFIX_MAP"
rm -rf loader/dyld
mkdir -p loader/dyld/{chain/{bin,lib},loaderpath/{bin,lib},exepath/{bin,plugins},weak,missing/fb} \
         loader/dyld/{wrongarch/{x86,arm},dyldlp/{vendor,override,empty},symbols,cycle}
DL=$TMP/dyldloader; mkdir -p "$DL"
DY_T="--target=arm64-apple-macos11"
DY_FLAGS="-fuse-ld=lld -nostdlib -Wl,-undefined,dynamic_lookup"
# dysrc FN [CALLS...]: a C file defining FN, which calls each of CALLS
dysrc() {
    local fn=$1; shift
    { for c in "$@"; do printf 'int %s(void);\n' "$c"; done
      printf '__attribute__((visibility("default"))) int %s(void) { return 1' "$fn"
      for c in "$@"; do printf ' + %s()' "$c"; done
      printf '; }\n'; } > "$DL/$fn.c"
    echo "$DL/$fn.c"
}
# mkdylib OUT INSTALL_NAME FN [CALLS... --] [LINK ARGS...]: a one-function dylib (DY_T picks the arch)
mkdylib() {
    local out=$1 install=$2 fn=$3; shift 3
    local calls=()
    if [[ " $* " == *" -- "* ]]; then
        while [ "$1" != -- ]; do calls+=("$1"); shift; done; shift
    fi
    clang $DY_T $MACHO_CFLAGS -c "$(dysrc "$fn" "${calls[@]}")" -o "$DL/$fn.o"
    clang $DY_T $DY_FLAGS -shared "$DL/$fn.o" -Wl,-install_name,"$install" -o "$out" "$@"
    case $out in "$DL"/*) ;; *) built "$out" ;; esac
}
# mkexe OUT [CALLS... --] [LINK ARGS...]: an MH_EXECUTE whose main calls CALLS, linked with libSystem
mkexe() {
    local out=$1; shift
    local calls=()
    if [[ " $* " == *" -- "* ]]; then
        while [ "$1" != -- ]; do calls+=("$1"); shift; done; shift
    fi
    local name; name=$(basename "$out")
    clang $DY_T $MACHO_CFLAGS -c "$(dysrc "main" "${calls[@]}")" -o "$DL/main-$name.o"
    clang $DY_T $DY_FLAGS "$DL/main-$name.o" src/libSystem.tbd -o "$out" "$@"
    built "$out"
}

# chain: bin/app (LC_RPATH @executable_path/../lib) -> @rpath/libA -> @rpath/libB -> @rpath/libC;
# the libraries have no LC_RPATH: every @rpath is found through the executable's
R=loader/dyld/chain
mkdylib $R/lib/libC.dylib @rpath/libC.dylib c_fn
mkdylib $R/lib/libB.dylib @rpath/libB.dylib b_fn c_fn -- $R/lib/libC.dylib
mkdylib $R/lib/libA.dylib @rpath/libA.dylib a_fn b_fn -- $R/lib/libB.dylib
mkexe $R/bin/app a_fn -- $R/lib/libA.dylib -Wl,-rpath,@executable_path/../lib

# loaderpath: a dylib in bin/ loading @loader_path/../lib/libX.dylib
R=loader/dyld/loaderpath
mkdylib $R/lib/libX.dylib @loader_path/../lib/libX.dylib x_fn
mkdylib $R/bin/libtool.dylib @rpath/libtool.dylib tool_fn x_fn -- $R/lib/libX.dylib

# exepath: plugins/libplug.dylib loads @executable_path/libE.dylib (the host's dir, not the plugin's)
R=loader/dyld/exepath
mkdylib $R/bin/libE.dylib @executable_path/libE.dylib e_fn
mkexe $R/bin/host
mkdylib $R/plugins/libplug.dylib @rpath/libplug.dylib plug_fn e_fn -- $R/bin/libE.dylib

# weak: LC_LOAD_WEAK_DYLIB @rpath/libopt.dylib, not shipped
R=loader/dyld/weak
mkdylib "$DL/libopt.dylib" @rpath/libopt.dylib opt_fn
mkdylib $R/libweakuser.dylib @rpath/libweakuser.dylib weakuser_fn \
    -Wl,-weak_library,"$DL/libopt.dylib" -Wl,-rpath,@loader_path

# missing: @rpath/libgone.dylib and /missing/abs/libabs.dylib are not shipped (libthere.dylib is);
# rpaths @loader_path, /opt/nowhere/lib. fb/libgone.dylib is only reachable with
# DYLD_FALLBACK_LIBRARY_PATH=/missing/fb
R=loader/dyld/missing
mkdylib "$DL/libgone.dylib" @rpath/libgone.dylib gone_fn
mkdylib "$DL/libabs.dylib" /missing/abs/libabs.dylib abs_fn
mkdylib $R/fb/libgone.dylib @rpath/libgone.dylib gone_fn
mkdylib $R/libthere.dylib @rpath/libthere.dylib there_fn
mkdylib $R/libneedy.dylib @rpath/libneedy.dylib needy_fn gone_fn there_fn abs_fn -- \
    "$DL/libgone.dylib" $R/libthere.dylib "$DL/libabs.dylib" -Wl,-rpath,@loader_path -Wl,-rpath,/opt/nowhere/lib

# wrongarch: LC_RPATH @loader_path/x86 (x86_64-only libdual) before @loader_path/arm (arm64 libdual);
# libwa.dylib itself is universal (x86_64 + arm64)
R=loader/dyld/wrongarch
DY_T="--target=x86_64-apple-macos11" mkdylib $R/x86/libdual.dylib @rpath/libdual.dylib dual_fn
mkdylib $R/arm/libdual.dylib @rpath/libdual.dylib dual_fn
for a in x86_64 arm64; do
    d=$([ $a = x86_64 ] && echo x86 || echo arm)
    DY_T="--target=$a-apple-macos11" mkdylib "$DL/libwa-$a.dylib" @rpath/libwa.dylib wa_fn dual_fn -- \
        $R/$d/libdual.dylib -Wl,-rpath,@loader_path/x86 -Wl,-rpath,@loader_path/arm
done
llvm-lipo -create "$DL/libwa-x86_64.dylib" "$DL/libwa-arm64.dylib" -output $R/libwa.dylib
built $R/libwa.dylib

# dyldlp: install name /dyldlp/vendor/libover.dylib; override/libover.dylib wins with DYLD_LIBRARY_PATH
R=loader/dyld/dyldlp
mkdylib $R/vendor/libover.dylib /dyldlp/vendor/libover.dylib over_fn
mkdylib $R/override/libover.dylib /dyldlp/vendor/libover.dylib over_fn -Wl,-current_version,2.0.0
mkdylib $R/libapp.dylib @rpath/libapp.dylib app_fn over_fn -- $R/vendor/libover.dylib

# symbols: libuser.dylib was linked against a libZ exporting _zfunc and _zother; the shipped libZ
# exports only _zother (two-level: both imports bind to @rpath/libZ.dylib; dyld_stub_binder to libSystem)
R=loader/dyld/symbols
cat > "$DL/z_old.c" <<'C'
__attribute__((visibility("default"))) int zfunc(void) { return 1; }
__attribute__((visibility("default"))) int zother(void) { return 2; }
C
cat > "$DL/z_new.c" <<'C'
__attribute__((visibility("default"))) int zother(void) { return 2; }
C
for v in old new; do
    clang $DY_T $MACHO_CFLAGS -c "$DL/z_$v.c" -o "$DL/z_$v.o"
done
clang $DY_T $DY_FLAGS -shared "$DL/z_old.o" -Wl,-install_name,@rpath/libZ.dylib -o "$DL/libZ.dylib"
clang $DY_T $DY_FLAGS -shared "$DL/z_new.o" -Wl,-install_name,@rpath/libZ.dylib -o $R/libZ.dylib
built $R/libZ.dylib
mkdylib $R/libuser.dylib @rpath/libuser.dylib user_fn zfunc zother -- "$DL/libZ.dylib" \
    src/libSystem.tbd -Wl,-rpath,@loader_path

# cycle: libcyca.dylib <-> libcycb.dylib, both LC_RPATH @loader_path
R=loader/dyld/cycle
mkdylib "$DL/libcycb.dylib" @rpath/libcycb.dylib cycb_fn
mkdylib $R/libcyca.dylib @rpath/libcyca.dylib cyca_fn cycb_fn -- "$DL/libcycb.dylib" -Wl,-rpath,@loader_path
mkdylib $R/libcycb.dylib @rpath/libcycb.dylib cycb_fn cyca_fn -- $R/libcyca.dylib -Wl,-rpath,@loader_path

otl() { llvm-otool -l "$1"; }
has "$(otl loader/dyld/chain/bin/app)" 'path @executable_path/\.\./lib' "chain: exe LC_RPATH"
has "$(otl loader/dyld/chain/bin/app)" 'name @rpath/libA\.dylib' "chain: exe loads libA"
for l in A B C; do
    if grep -q LC_RPATH <<<"$(otl loader/dyld/chain/lib/lib$l.dylib)"; then fail "chain: lib$l has LC_RPATH"; fi
done
has "$(otl loader/dyld/loaderpath/bin/libtool.dylib)" 'name @loader_path/\.\./lib/libX\.dylib' "loader_path"
has "$(otl loader/dyld/exepath/plugins/libplug.dylib)" 'name @executable_path/libE\.dylib' "executable_path"
has "$(otl loader/dyld/weak/libweakuser.dylib)" 'LC_LOAD_WEAK_DYLIB' "weak dylib"
has "$(otl loader/dyld/missing/libneedy.dylib)" 'name /missing/abs/libabs\.dylib' "missing: absolute install name"
has "$(llvm-lipo -archs loader/dyld/wrongarch/x86/libdual.dylib)" '^x86_64 *$' "x86_64-only libdual"
has "$(llvm-lipo -archs loader/dyld/wrongarch/libwa.dylib)" 'x86_64 arm64' "fat libwa"
has "$(otl loader/dyld/dyldlp/libapp.dylib)" 'name /dyldlp/vendor/libover\.dylib' "absolute install name"
has "$(llvm-nm -gU loader/dyld/symbols/libZ.dylib)" '_zother' "shipped libZ"
if grep -q _zfunc <<<"$(llvm-nm -gU loader/dyld/symbols/libZ.dylib)"; then fail "shipped libZ exports _zfunc"; fi
has "$(llvm-objdump --macho --bind --lazy-bind loader/dyld/symbols/libuser.dylib)" 'libZ +_zfunc' "libuser binds _zfunc to libZ"
has "$(otl loader/dyld/cycle/libcycb.dylib)" 'name @rpath/libcyca\.dylib' "cycle b->a"
has "$(otl loader/dyld/cycle/libcyca.dylib)" 'name @rpath/libcycb\.dylib' "cycle a->b"
if grep -rqF "$TD" loader/dyld; then fail "absolute build path in loader/dyld fixtures"; fi
echo "loader/dyld: $(find loader/dyld -type f | wc -l) files, $(du -cb $(find loader/dyld -type f) | tail -1 | cut -f1) bytes"

summary
