/* The C API of src/demo.c as a binding declares it. On 32-bit Windows the library also exports the
 * __stdcall / __fastcall functions, decorated (`demo_stdcall@8`, `@demo_fastcall@8`); on Mach-O every name
 * carries the extra `_`. `check` must find all of them under their plain C names. Used by tests/check_spec.rs. */
int demo_add(int a, int b);
const char *demo_version(void);
#if defined(_WIN32) && !defined(_WIN64)
int __stdcall demo_stdcall(int a, int b);
int __fastcall demo_fastcall(int a, int b);
#endif
