/* libmismatch: the library behind testdata/src/mismatch_good.h (matches it exactly) and mismatch_bad.h (one
 * deliberate mismatch per ffi-doctor FFI02xx rule). Built with gcc -g by testdata/build.sh. */
#include <stddef.h>
#include <string.h>

struct stats {
    double mean;
    int count; /* bad header: long (fits the tail padding: only the member differs) */
};

struct header {
    int magic;
    char version; /* bad header adds `char flags;` after this (in the tail padding) */
};

struct packet {
    unsigned short port;
    unsigned int kind : 3;
    unsigned int urgent : 1; /* bad header: width 2 */
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

enum color { RED = 0, GREEN = 5, BLUE = 10 }; /* bad header: GREEN = 6 */

typedef enum { MODE_FAST = 1, MODE_SAFE = 2 } mode_t_;

int mm_counter = 0;
const char *mm_name = "mismatch";

double stats_mean(const struct stats *s) { return s ? s->mean : 0.0; }
int header_magic(struct header *h) { return h->magic + h->version; }
unsigned packet_kind(struct packet p) { return p.kind + p.urgent + p.port; }
int point_sum(point_t p) { return p.x + p.y; }
long value_int(union value v) { return v.i; }
int nested_id(struct nested *n) { return n->id + n->as_int + n->where.x + n->tag[0]; }
int color_code(enum color c) { return (int)c; }
int mode_of(mode_t_ m) { return (int)m; }

/* bad header: `int len` (int vs size_t) */
int fill(char *buf, size_t len, int byte)
{
    memset(buf, byte, len);
    return (int)len;
}

/* bad header: two parameters */
int add3(int a, int b, int c) { return a + b + c; }

/* bad header: returns int */
long total(void) { return 42L; }

/* variadic */
int log_msg(int level, const char *fmt, ...) { return level + (fmt != NULL); }
