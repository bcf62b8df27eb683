/* difflib.c - the diff fixture library: one base release and one K_* change per new release
 * (testdata/src/build-diff.sh builds every pair). */
#ifdef DL_FREESTANDING
#define strlen __builtin_strlen
#else
#include <string.h>
#endif
#include "difflib.h"

#define API __attribute__((visibility("default")))

struct dl_handle {
#ifdef K_OPAQUE_INTERNAL
    long long id;
    int extra;
#else
    int id;
#endif
};

static struct dl_handle the_handle;

API int dl_cfg_get(struct dl_cfg c) { return c.a; }
API int dl_buf_len(const struct dl_buf *b) { return b->len + (int)strlen(b->name); }
API int dl_flags_mode(struct dl_flags f) { return (int)f.mode; }
API int dl_val_int(DL_VAL v) { return v.i; }
API int dl_outer_v(const struct dl_outer *o) { return (int)o->in.v; }
API int dl_node_key(const struct dl_node *n) { return (int)n->key; }
API int dl_set_mode(enum dl_mode m) { return (int)m; }
API struct dl_handle *dl_open(void) { return &the_handle; }
API int dl_handle_id(struct dl_handle *h) { return (int)h->id; }
API struct dl_ret dl_make(void) { struct dl_ret r = {1}; return r; }

#ifdef K_PARAM_COUNT
API int dl_add(int a, int b, int c) { return a + b + c; }
#else
API int dl_add(int a, int b) { return a + b; }
#endif
#ifdef K_PARAM_TYPE
API long dl_scale(long v) { return v * 2; }
#else
API long dl_scale(int v) { return v * 2L; }
#endif
#ifdef K_PARAM_SIGN
API int dl_shift(unsigned int v) { return (int)(v >> 1); }
#else
API int dl_shift(int v) { return v >> 1; }
#endif
#ifdef K_RETURN_TYPE
API long long dl_ret(void) { return 7; }
#else
API int dl_ret(void) { return 7; }
#endif
#ifdef K_VARIADIC
API int dl_log(const char *fmt, ...) { return (int)strlen(fmt); }
#else
API int dl_log(const char *fmt) { return (int)strlen(fmt); }
#endif
#ifdef K_POINTEE
API int dl_peek(long *p) { return (int)*p; }
#else
API int dl_peek(int *p) { return *p; }
#endif
#ifdef K_CV
API int dl_name(const char *s) { return s[0]; }
#else
API int dl_name(char *s) { return s[0]; }
#endif
API int dl_twice(DL_SCALAR v) { return v * 2; }

#ifdef K_VARIABLE_TYPE
API long dl_counter = 1;
#else
API int dl_counter = 1;
#endif
#ifdef K_DATA_SIZE
API int dl_table[8] = {1};
#else
API int dl_table[4] = {1};
#endif
#ifdef K_CONST_VAR
API const int dl_limit = 10;
#else
API int dl_limit = 10;
#endif

#ifndef K_EXPORT_REMOVED
API int dl_gone(void) { return 1; }
#endif
#ifdef K_EXPORT_ADDED
API int dl_new(void) { return 2; }
#endif
#ifdef K_KIND_CHANGED
API int dl_thing(void) { return 3; }
#else
API int dl_thing = 3;
#endif
#ifdef K_STATIC_ADDED
static int helper(int x) { return x + 1; }
API int dl_internal(int x) { return helper(x); }
#else
API int dl_internal(int x) { return x + 1; }
#endif

/* Symbol versions: dl_ver is at DL_1.0 in the base; K_DEFAULT_MOVED makes DL_2.0 its default and keeps the old
 * one as a hidden version; K_VERSION_GONE drops DL_1.0 (dl_ver moves to DL_2.0 alone). */
#if defined K_DEFAULT_MOVED
API int impl_ver_old(void) { return 1; }
API int impl_ver_new(void) { return 2; }
__asm__(".symver impl_ver_old, dl_ver@DL_1.0");
__asm__(".symver impl_ver_new, dl_ver@@DL_2.0");
#else
API int dl_ver(void) { return 1; }
#endif

#ifdef K_VERSION_ADDED
API int dl_v11(void) { return 11; }
#endif

#ifdef K_GLIBC_RAISED
#include <sys/random.h>
API int dl_random(void) { int v = 0; return (int)getrandom(&v, sizeof v, 0) + v; }
#endif
#ifdef K_NEEDED_ADDED
#include <math.h>
API double dl_root(double x) { return sqrt(x); }
#endif
