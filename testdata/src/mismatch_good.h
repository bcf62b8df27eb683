/* Matches testdata/src/mismatch.c exactly: `ffi-doctor check` finds no FFI02xx error. */
#include <stddef.h>

struct stats {
    double mean;
    int count;
};

struct header {
    int magic;
    char version;
};

struct packet {
    unsigned short port;
    unsigned int kind : 3;
    unsigned int urgent : 1;
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

enum color { RED = 0, GREEN = 5, BLUE = 10 };

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
int fill(char *buf, size_t len, int byte);
int add3(int a, int b, int c);
long total(void);
int log_msg(int level, const char *fmt, ...);
