/* difflib.h - the public header of the diff fixture library (testdata/src/build-diff.sh). Each K_* macro is one
 * change between two releases; the base release defines none. */
#ifndef DIFFLIB_H
#define DIFFLIB_H

#ifdef K_TYPEDEF_NAME
typedef int dl_int_t;
#define DL_SCALAR dl_int_t
#else
#define DL_SCALAR int
#endif

struct dl_cfg {
#ifdef K_MEMBER_ORDER
    int b;
    int a;
#else
    int a;
#ifndef K_MEMBER_REMOVED
    int b;
#endif
#endif
#ifdef K_MEMBER_ADDED
    int c;
#endif
};

struct dl_buf {
#ifdef K_MEMBER_TYPE
    long len;
#elif defined K_MEMBER_SIGN
    unsigned int len;
#else
    int len;
#endif
#ifdef K_MEMBER_RENAMED
    int count;
#else
    int cnt;
#endif
#ifdef K_ARRAY_LEN
    char name[16];
#else
    char name[8];
#endif
#ifdef K_MEMBER_OFFSET
    int tail __attribute__((aligned(32)));
#else
    int tail;
#endif
#ifdef K_FNPTR
    int (*cb)(long);
#else
    int (*cb)(int);
#endif
};

struct dl_flags {
#ifdef K_BITFIELD_POS
    unsigned : 1;
#endif
#ifdef K_BITFIELD_WIDTH
    unsigned mode : 3;
#else
    unsigned mode : 2;
#endif
    unsigned on : 1;
};

#ifdef K_RECORD_KIND
#define DL_VAL union dl_val
#else
#define DL_VAL struct dl_val
#endif
DL_VAL {
    int i;
    float f;
};

struct dl_inner {
#ifdef K_NESTED
    long long v;
#else
    int v;
#endif
};

struct dl_outer {
    struct dl_inner in;
    union {
#ifdef K_ANON_UNION
        double d;
#else
        int i;
#endif
        float f;
    } u;
}
#ifdef K_RECORD_ALIGN
__attribute__((aligned(16)))
#endif
;

struct dl_node {
#ifdef K_POINTED_RECORD
    long long key;
#else
    int key;
#endif
    struct dl_node *next;
};

enum dl_mode {
    DL_SLOW,
#ifdef K_ENUM_RENUMBER
    DL_FAST = 5,
#else
    DL_FAST,
#endif
#ifndef K_ENUM_REMOVED
    DL_AUTO,
#endif
#ifdef K_ENUM_APPENDED
    DL_TURBO,
#endif
}
#ifdef K_ENUM_SIZE
__attribute__((packed))
#endif
;

struct dl_handle; /* opaque: defined by the library only */

struct dl_ret {
    int a;
#ifdef K_RETURN_RECORD
    int b;
#endif
};

int dl_cfg_get(struct dl_cfg c);
int dl_buf_len(const struct dl_buf *b);
int dl_flags_mode(struct dl_flags f);
int dl_val_int(DL_VAL v);
int dl_outer_v(const struct dl_outer *o);
int dl_node_key(const struct dl_node *n);
int dl_set_mode(enum dl_mode m);
struct dl_handle *dl_open(void);
int dl_handle_id(struct dl_handle *h);
struct dl_ret dl_make(void);

#ifdef K_PARAM_COUNT
int dl_add(int a, int b, int c);
#else
int dl_add(int a, int b);
#endif
#ifdef K_PARAM_TYPE
long dl_scale(long v);
#else
long dl_scale(int v);
#endif
#ifdef K_PARAM_SIGN
int dl_shift(unsigned int v);
#else
int dl_shift(int v);
#endif
#ifdef K_RETURN_TYPE
long long dl_ret(void);
#else
int dl_ret(void);
#endif
#ifdef K_VARIADIC
int dl_log(const char *fmt, ...);
#else
int dl_log(const char *fmt);
#endif
#ifdef K_POINTEE
int dl_peek(long *p);
#else
int dl_peek(int *p);
#endif
#ifdef K_CV
int dl_name(const char *s);
#else
int dl_name(char *s);
#endif
int dl_twice(DL_SCALAR v);

#ifdef K_VARIABLE_TYPE
extern long dl_counter;
#else
extern int dl_counter;
#endif
#ifdef K_DATA_SIZE
extern int dl_table[8];
#else
extern int dl_table[4];
#endif
#ifdef K_CONST_VAR
extern const int dl_limit;
#else
extern int dl_limit;
#endif

#endif
