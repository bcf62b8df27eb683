#!/usr/bin/env bash
# testdata/src/build-loader-glibc.sh - loader/glibc/<scenario>/: glibc ld.so search scenarios (gcc + GNU ld, x86_64;
# tests/loader_glibc.rs checks them against ldd and LD_DEBUG=libs): rpath_vs_runpath, inherit, wrong_class, missing,
# llp, cycle, symbols (then build-loader-glibc-dirs.sh: nodeflib, multiarch32). The sources are one-line C written by this script. Needs gcc, clang/lld/llvm 14.
# Part of testdata/build.sh (which runs every family); runs standalone too.
source "$(dirname "${BASH_SOURCE[0]}")/build-common.sh"
need gcc clang ld.lld llvm-readelf

rm -rf loader/glibc
mkdir -p loader/glibc/{rpath_vs_runpath/{a,b},inherit/deep,wrong_class/{w32,w64},missing,llp/dir,cycle,symbols}
L=$TMP/loader; mkdir -p "$L"
LD_CFLAGS="-O2 -fPIC $PREFIX_MAP"
# mklib OUT SONAME [LINK ARGS...]: a one-function library (the link args add DT_NEEDED / rpaths)
mklib() {
    local out=$1 soname=$2; shift 2
    local fn=${soname%%.so*}; fn=${fn#lib}
    printf 'int %s_fn(void) { return 1; }\n' "$fn" > "$L/$fn.c"
    gcc $LD_CFLAGS -shared -Wl,--no-as-needed -Wl,--build-id=sha1 "$L/$fn.c" \
        -Wl,-soname,"$soname" -o "$out" "$@"
    case $out in "$L"/*) ;; *) built "$out" ;; esac
}

# rpath_vs_runpath: DT_RPATH $ORIGIN/a vs DT_RUNPATH $ORIGIN/b, each needing libleaf.so
R=loader/glibc/rpath_vs_runpath
mklib $R/a/libleaf.so libleaf.so
mklib $R/b/libleaf.so libleaf.so -Wl,--defsym=leaf_copy_b=0
mklib $R/libtop_rpath.so libtop_rpath.so -L$R/a -lleaf -Wl,--disable-new-dtags,-rpath,'$ORIGIN/a'
mklib $R/libtop_runpath.so libtop_runpath.so -L$R/b -lleaf -Wl,--enable-new-dtags,-rpath,'$ORIGIN/b'

# inherit: executable's DT_RPATH applies to libmid.so's needs; DT_RUNPATH does not
R=loader/glibc/inherit
mklib $R/deep/libdeep.so libdeep.so
mklib $R/deep/libmid.so libmid.so -L$R/deep -ldeep
printf 'int main(void) { return 0; }\n' > "$L/main.c"
gcc -O2 $PREFIX_MAP -Wl,--no-as-needed "$L/main.c" -L$R/deep -lmid -Wl,-rpath-link,$R/deep \
    -Wl,--disable-new-dtags,-rpath,'$ORIGIN/deep' -o $R/app_rpath
gcc -O2 $PREFIX_MAP -Wl,--no-as-needed "$L/main.c" -L$R/deep -lmid -Wl,-rpath-link,$R/deep \
    -Wl,--enable-new-dtags,-rpath,'$ORIGIN/deep' -o $R/app_runpath
built $R/app_rpath $R/app_runpath

# wrong_class: a 32-bit libleaf.so in the first DT_RPATH dir, the 64-bit one in the second
R=loader/glibc/wrong_class
printf 'int leaf_fn(void) { return 1; }\n' > "$L/leaf32.c"
clang --target=i386-linux-gnu -O2 -fPIC $PREFIX_MAP -nostdlib -shared -fuse-ld=lld \
    -Wl,-soname,libleaf.so "$L/leaf32.c" -o $R/w32/libleaf.so
built $R/w32/libleaf.so
mklib $R/w64/libleaf.so libleaf.so
mklib $R/libwc.so libwc.so -L$R/w64 -lleaf -Wl,--disable-new-dtags,-rpath,'$ORIGIN/w32:$ORIGIN/w64'

# missing: libnothere.so is linked against but not shipped (libleaf.so is, via $ORIGIN)
R=loader/glibc/missing
mklib "$L/libnothere.so" libnothere.so
mklib $R/libleaf.so libleaf.so
mklib $R/libmissing.so libmissing.so -L"$L" -lnothere -L$R -lleaf \
    -Wl,--enable-new-dtags,-rpath,'$ORIGIN'

# llp: libllpdep.so only reachable through LD_LIBRARY_PATH=loader/glibc/llp/dir
R=loader/glibc/llp
mklib $R/dir/libllpdep.so libllpdep.so
mklib $R/libllp.so libllp.so -L$R/dir -lllpdep

# cycle: libcyca.so <-> libcycb.so, both DT_RUNPATH $ORIGIN
R=loader/glibc/cycle
mklib "$L/libcycb.so" libcycb.so
mklib $R/libcyca.so libcyca.so -L"$L" -lcycb -Wl,--enable-new-dtags,-rpath,'$ORIGIN'
mklib $R/libcycb.so libcycb.so -L$R -lcyca -Wl,--enable-new-dtags,-rpath,'$ORIGIN'

# symbols: what ldd -r reports (tests/loader_glibc.rs compares deps --check-symbols with it).
# libprov.so is shipped at version 1 (PROV_1: prov_a) but libneedsver.so was linked against version 2
# (PROV_2 adds prov_b): "version `PROV_2' not found". libundef.so calls a function nothing defines.
R=loader/glibc/symbols
printf 'PROV_1 { global: prov_a; local: *; };\n' > "$L/prov1.map"
printf 'PROV_1 { global: prov_a; local: *; };\nPROV_2 { global: prov_b; } PROV_1;\n' > "$L/prov2.map"
printf 'int prov_a(void) { return 1; }\n' > "$L/prov1.c"
printf 'int prov_a(void) { return 1; }\nint prov_b(void) { return 2; }\n' > "$L/prov2.c"
gcc $LD_CFLAGS -shared -Wl,--build-id=sha1 -Wl,-soname,libprov.so -Wl,--version-script,"$L/prov1.map" \
    "$L/prov1.c" -o $R/libprov.so
mkdir -p "$L/prov2"
gcc $LD_CFLAGS -shared -Wl,--build-id=sha1 -Wl,-soname,libprov.so -Wl,--version-script,"$L/prov2.map" \
    "$L/prov2.c" -o "$L/prov2/libprov.so"
printf 'int prov_a(void); int prov_b(void);\nint needs_fn(void) { return prov_a() + prov_b(); }\n' > "$L/needs.c"
gcc $LD_CFLAGS -shared -Wl,--build-id=sha1 -Wl,--no-as-needed -Wl,-soname,libneedsver.so "$L/needs.c" \
    -L"$L/prov2" -lprov -Wl,--enable-new-dtags,-rpath,'$ORIGIN' -o $R/libneedsver.so
printf 'int nowhere_func(void);\nint undef_fn(void) { return nowhere_func(); }\n' > "$L/undef.c"
gcc $LD_CFLAGS -shared -Wl,--build-id=sha1 -Wl,-soname,libundef.so "$L/undef.c" -o $R/libundef.so
built $R/libprov.so $R/libneedsver.so $R/libundef.so

has "$(llvm-readelf -d loader/glibc/rpath_vs_runpath/libtop_rpath.so)" '\(RPATH\).*\[\$ORIGIN/a\]' "loader RPATH"
has "$(llvm-readelf -d loader/glibc/rpath_vs_runpath/libtop_runpath.so)" '\(RUNPATH\).*\[\$ORIGIN/b\]' "loader RUNPATH"
has "$(llvm-readelf -d loader/glibc/inherit/app_rpath)" '\(RPATH\).*\[\$ORIGIN/deep\]' "exe RPATH"
has "$(llvm-readelf -d loader/glibc/inherit/app_runpath)" '\(RUNPATH\).*\[\$ORIGIN/deep\]' "exe RUNPATH"
has "$(llvm-readelf -d loader/glibc/inherit/deep/libmid.so)" 'NEEDED.*libdeep\.so' "libmid needs libdeep"
grep -q PATH <<<"$(llvm-readelf -d loader/glibc/inherit/deep/libmid.so)" && fail "libmid.so has an rpath"
has "$(llvm-readelf -h loader/glibc/wrong_class/w32/libleaf.so)" 'ELF32' "32-bit leaf"
has "$(llvm-readelf -d loader/glibc/missing/libmissing.so)" 'NEEDED.*libnothere\.so' "missing needs libnothere"
has "$(llvm-readelf -d loader/glibc/cycle/libcycb.so)" 'NEEDED.*libcyca\.so' "cycle b->a"
has "$(llvm-readelf -d loader/glibc/cycle/libcyca.so)" 'NEEDED.*libcycb\.so' "cycle a->b"
has "$(llvm-readelf -V loader/glibc/symbols/libneedsver.so)" 'PROV_2' "libneedsver requires PROV_2"
grep -q PROV_2 <<<"$(llvm-readelf -V loader/glibc/symbols/libprov.so)" && fail "shipped libprov.so defines PROV_2"
grep -rqF "$TD" loader/glibc && fail "absolute build path in loader/glibc fixtures"

summary
# The default-directory scenarios (nodeflib/, multiarch32/) have their own script.
bash src/build-loader-glibc-dirs.sh
