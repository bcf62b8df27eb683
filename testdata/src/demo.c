/*
 * demo.c - plain C shared library used for every ffi-doctor fixture
 * (ELF x86_64/i386/aarch64, Mach-O x86_64/arm64, PE mingw32/mingw64/msvc64).
 *
 * Compiled with -fvisibility=hidden on ELF/Mach-O, so only DEMO_API symbols
 * are exported.  On Windows, DEMO_API is __declspec(dllexport) and win.def
 * adds forwarders and an ordinal-only (NONAME) export.
 */
#if defined(_WIN32)
#  define DEMO_API __declspec(dllexport)
#  define DEMO_HIDDEN
#  define DEMO_WEAK
#else
#  define DEMO_API __attribute__((visibility("default")))
#  define DEMO_HIDDEN __attribute__((visibility("hidden")))
#  define DEMO_WEAK __attribute__((weak))
#endif
#define DEMO_NOINLINE __attribute__((noinline))

/* --- imports ---------------------------------------------------------- */
/* Declared by hand: this file must build freestanding (no libc headers). */
extern int puts(const char *s);           /* libc / libSystem / msvcrt     */
extern int ext_helper(int x);             /* libext.so.1 / ext.dll / flat  */
#if defined(_WIN32)
extern int ext_by_ordinal(int x);         /* ext.dll, imported by ordinal 7 */
extern int delayed_func(int x);           /* delayed.dll, delay-loaded      */
#endif

/* --- exported data ---------------------------------------------------- */
DEMO_API int demo_counter = 42;
DEMO_API const int demo_table[8] = { 1, 1, 2, 3, 5, 8, 13, 21 };

/* --- hidden: defined in the object, must NOT be exported ---------------- */
DEMO_HIDDEN DEMO_NOINLINE int demo_internal_helper(int x)
{
    return x * 3 + demo_counter;
}

/* --- exported functions ----------------------------------------------- */
DEMO_API int demo_add(int a, int b)
{
    return a + b;
}

DEMO_API const char *demo_version(void)
{
    return "demo 2.0.0";
}

DEMO_API int demo_call_ext(int x)
{
    puts("demo_call_ext");
    return ext_helper(demo_internal_helper(x));
}

/* Weak definition (ELF STB_WEAK / Mach-O N_WEAK_DEF); plain export on PE. */
DEMO_API DEMO_WEAK int demo_weak_hook(int x)
{
    return x + 1;
}

#if defined(__ELF__)
/* Thread-local variable (ELF only: STT_TLS in .dynsym). */
DEMO_API __thread int demo_tls_counter = 7;

DEMO_API int demo_tls_bump(void)
{
    return ++demo_tls_counter;
}

/* Two versions of one symbol: demo_compat@DEMO_1.0 and demo_compat@@DEMO_2.0
 * (see demo.map).  The implementation names themselves are made local by
 * the version script's `local: *`; the versioned aliases are exported. */
DEMO_API int demo_compat_v1(int x) { return x; }
DEMO_API int demo_compat_v2(int x, int y) { return x + y; }
__asm__(".symver demo_compat_v1, demo_compat@DEMO_1.0");
__asm__(".symver demo_compat_v2, demo_compat@@DEMO_2.0");

/* Only in DEMO_2.0 */
DEMO_API int demo_new_in_2(void) { return 2; }
#else
/* Non-ELF targets have no symbol versioning: a single demo_compat. */
DEMO_API int demo_compat(int x, int y) { return x + y; }
DEMO_API int demo_new_in_2(void) { return 2; }
#endif

#if defined(_WIN32)
/* Win32 calling conventions: on i686 these export as demo_stdcall@8 and
 * @demo_fastcall@8 (decorated); on x86_64 the attributes are ignored. */
DEMO_API int __stdcall demo_stdcall(int a, int b) { return a - b; }
DEMO_API int __fastcall demo_fastcall(int a, int b) { return a * b; }

/* Exported only by ordinal (win.def: @42 NONAME). Not dllexport'ed here. */
int demo_secret(void) { return 0x5ec2e7; }

DEMO_API int demo_call_delayed(int x)
{
    return delayed_func(x) + ext_by_ordinal(x);
}
#endif
