/* Deliberately wrong against testdata/src/mismatch.c: one mismatch per FFI02xx rule (see tests/check_dwarf.rs). */
#include <stddef.h>

struct stats {
    double mean;
    long count; /* FFI0206: int in the library */
};

struct header {
    int magic;
    char version;
    char flags; /* FFI0203: not in the library */
};

struct packet {
    unsigned short port;
    unsigned int kind : 3;
    unsigned int urgent : 2; /* FFI0207: width 1 in the library */
};

typedef struct {
    int x;
    int y;
} point_t;

union value {
    long i;
    double d;
    const char *s;
};

struct nested {
    int id;
    union {
        int as_int;
        float as_float;
    };
    point_t where;
    char tag[8];
};

enum color { RED = 0, GREEN = 6 /* FFI0208: 5 in the library */, BLUE = 10 };

typedef enum { MODE_FAST = 1, MODE_SAFE = 2 } mode_t_;

extern int mm_counter;
extern const char *mm_name;

double stats_mean(const struct stats *s);
int header_magic(struct header *h);
unsigned packet_kind(struct packet p);
int point_sum(point_t p);
long value_int(union value v);
int nested_id(struct nested *n);
int color_code(enum color c);
int mode_of(mode_t_ m);
int fill(char *buf, int len, int byte); /* FFI0211: size_t in the library */
int add3(int a, int b); /* FFI0210: three parameters in the library */
int total(void); /* FFI0213: returns long in the library */
int log_msg(int level, const char *fmt, ...);
