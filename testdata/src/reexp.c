/* reexp.c - libreexp.dylib, re-exported by librpath.dylib (LC_REEXPORT_DYLIB). */
__attribute__((visibility("default"))) int reexp_func(int x) { return x * 2; }
