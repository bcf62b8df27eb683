/* ext.c - tiny dependency library: ELF libext.so.1 (DT_NEEDED of libdemo.so),
 * Mach-O libext.dylib (weak / re-exported dependency of librpath.dylib). */
#define API __attribute__((visibility("default")))
API int ext_helper(int x) { return x ^ 0x5a; }
API int ext_by_ordinal(int x) { return x + 7; }
API int ext_weak_feature(int x) { return x - 1; }
