/*
 * gate.c - the binaries of the `ffi-doctor gate` fixtures (testdata/wheels/).
 * One source, selected with -D: each fixture breaks exactly one gate policy
 * (or none). Built by build-wheels.sh, called from the end of testdata/build.sh.
 */
#if defined(_WIN32)
#  define API __declspec(dllexport)
#else
#  define API __attribute__((visibility("default")))
#endif

#ifdef VENDORED
/* The vendored C API library: exports only mylib_*. */
API int mylib_add(int a, int b) { return a + b; }
#endif

#ifdef EXT
/* A CPython extension module calling into the vendored library. */
extern int mylib_add(int, int);
API void *PyInit__ext(void) { return (void *)(__INTPTR_TYPE__)mylib_add(1, 2); }
#endif

#ifdef EXT_STANDALONE
/* An extension module with no vendored dependency. */
API void *PyInit__ext(void) { return (void *)0; }
#endif

#ifdef NEWGLIBC
/* dlopen moved into libc in glibc 2.34: dlopen@GLIBC_2.34. */
extern void *dlopen(const char *, int);
API void *PyInit__ext(void) { return dlopen("libm.so.6", 1); }
#endif

#ifdef NEEDS_EXT
/* Needs ext_helper from libext.so.1 (outside the wheel). */
extern int ext_helper(int);
API void *PyInit__ext(void) { return (void *)(__INTPTR_TYPE__)ext_helper(1); }
#endif

#ifdef NOPREFIX
API int mylib_add(int a, int b) { return a + b; }
API int other_add(int a, int b) { return a + b; }   /* no mylib_ prefix */
#endif

#ifdef MANGLED
API int mylib_add(int a, int b) { return a + b; }
/* Itanium C++ mylib::add(int, int) and a Rust legacy mylib::sub. */
API int cxx_add(int a, int b) __asm__("_ZN5mylib3addEii");
API int cxx_add(int a, int b) { return a + b; }
API int rust_sub(int a, int b) __asm__("_ZN5mylib3sub17h0123456789abcdefE");
API int rust_sub(int a, int b) { return a - b; }
#endif

#ifdef CLASH
API int mylib_add(int a, int b) { return a + b; }
/* strdup is libc's: whichever library is loaded first wins (interposition). */
API char *strdup(const char *s) { return (char *)s; }
#endif

#ifdef HARDENING
API int mylib_add(int a, int b) { return a + b; }
/* An absolute address in .text: a text relocation with -z notext. */
__asm__(".text\n.globl mylib_table_ref\n.type mylib_table_ref,@object\nmylib_table_ref:\n.quad mylib_add\n");
#endif
