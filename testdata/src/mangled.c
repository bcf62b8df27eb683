/*
 * mangled.c - functions whose *symbol names* are Rust (legacy + v0) and
 * Swift mangled names, produced with asm labels so that every object format
 * (ELF, Mach-O, PE) carries them even though no Rust/Swift toolchain for
 * that target is available.
 *
 * __USER_LABEL_PREFIX__ is "_" on Mach-O and i686 Windows and empty
 * elsewhere, so the final symbol gets the platform's usual prefix
 * (e.g. Mach-O: __ZN..., _$s...).
 */
#if defined(_WIN32) && defined(__i386__) && defined(__GNUC__) && !defined(__clang__)
   /* i686 GNU ld would look up the -export: name with an extra '_' prefix
    * and fail; win32.def exports these names instead. */
#  define API
#elif defined(_WIN32)
#  define API __declspec(dllexport)
#else
#  define API __attribute__((visibility("default")))
#endif
#define STR2(x) #x
#define STR(x) STR2(x)
#define SYM(name) __asm__(STR(__USER_LABEL_PREFIX__) name)

/* Rust legacy mangling: demo_rust::inner::greet / demo_rust::add */
API const char *rust_legacy_greet(void) SYM("_ZN9demo_rust5inner5greet17h80a2a251ab72d7d4E");
API int rust_legacy_add(int a, int b) SYM("_ZN9demo_rust3add17h0123456789abcdefE");

/* Rust v0 mangling: demo_rust::inner::greet / <demo_rust::inner::Thing>::value */
API const char *rust_v0_greet(void) SYM("_RNvNtCs1234_9demo_rust5inner5greet");
API int rust_v0_value(const int *self) SYM("_RNvMNtCs1234_9demo_rust5innerNtB2_5Thing5value");

/* Swift mangling: main.foo() -> () and DemoSwift.greet() -> String */
API void swift_foo(void) SYM("$s4main3fooyyF");
API int swift_greet(void) SYM("$s9DemoSwift5greetSSyF");

const char *rust_legacy_greet(void) { return "hi (legacy)"; }
int rust_legacy_add(int a, int b) { return a + b; }
const char *rust_v0_greet(void) { return "hi (v0)"; }
int rust_v0_value(const int *self) { return *self; }
void swift_foo(void) { }
int swift_greet(void) { return 5; }
