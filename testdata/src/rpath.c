/* rpath.c - librpath / librunpath (ELF) and librpath.dylib (Mach-O):
 * a library that depends on libdemo and is located via rpath. */
#define API __attribute__((visibility("default")))
extern int demo_add(int, int);
#if defined(__APPLE__)
extern int ext_weak_feature(int) __attribute__((weak_import)); /* weak dylib */
#endif

API int rpath_entry(int x)
{
#if defined(__APPLE__)
    if (ext_weak_feature)
        x = ext_weak_feature(x);
#endif
    return demo_add(x, 1);
}
