/* shapes.c - layout fixture for the DWARF reader: nested structs, unions, arrays, bitfields of mixed types,
 * holes, a packed struct, an enum field, function pointers, and a few exported functions and globals. */
#include <stddef.h>
#include <stdint.h>

#define API __attribute__((visibility("default")))

enum color { RED = 0, GREEN = 1, BLUE = 2, ALPHA = -1 };
enum big_flags { BF_NONE = 0, BF_HIGH = 0x100000000LL };
typedef enum { SMALL_A = 1, SMALL_B = 2 } small_e;

struct point { double x, y; };

struct rect {
    struct point origin;
    struct point extent;
};

typedef struct {
    char tag;            /* then a 7-byte hole */
    double weight;
    short id;            /* then a 2-byte hole */
    int count;
    char name[13];       /* then 3 bytes of padding */
} padded_t;

struct bits {
    unsigned int a : 3;
    unsigned int b : 5;
    signed int c : 7;
    unsigned char d : 2;
    unsigned short e : 9;
    unsigned long long f : 33;
    int after;
    _Bool flag : 1;
    long long g : 40;
};

struct __attribute__((packed)) packed_hdr {
    uint8_t kind;
    uint32_t length;
    uint16_t crc;
    uint64_t stamp;
};

union value {
    int64_t i;
    double d;
    const char *s;
    unsigned char raw[12];
};

typedef int (*compare_fn)(const void *, const void *);

struct shape {
    enum color color;
    struct rect bounds;
    union value v;
    struct point corners[4];
    int matrix[3][2];
    compare_fn cmp;
    void (*on_draw)(struct shape *self, int flags, ...);
    union {
        float f;
        uint32_t u;
    };
    struct {
        short lo, hi;
    } range;
    struct shape *next;
    const volatile unsigned long *counter;
    small_e size_class;
    char trailer;
};

struct __attribute__((aligned(32))) aligned_box {
    int v;
    char c;
};

struct mixed_bits {
    char c;
    int x : 4;
    int y : 12;
    long z : 20;
    char tail;
};

typedef struct node {
    struct node *left, *right;
    void *payload;
    size_t len;
} node_t;

struct flex {
    size_t n;
    int items[];
};

API int shape_area(const struct shape *s, double scale) { return s ? (int)(s->bounds.extent.x * scale) : 0; }
API void shape_draw(struct shape *s, int flags, ...) { (void)s; (void)flags; }
API enum color shape_color(struct shape s) { return s.color; }
API unsigned long long bits_f(struct bits *b) { return b->f; }
API int packed_len(struct packed_hdr *h) { return (int)h->length; }
API double rect_w(struct rect r, padded_t *p, union value v) { (void)p; (void)v; return r.extent.x; }
API size_t node_len(node_t *n, struct aligned_box *b, struct mixed_bits *m, struct flex *f) {
    (void)b; (void)m; (void)f; return n->len;
}
API small_e classify(const char *name, unsigned char k, signed char sc, const int *const p) {
    (void)name; (void)sc; (void)p; return k ? SMALL_A : SMALL_B;
}
API enum big_flags big(void) { return BF_HIGH; }

API int shape_count = 3;
API const char *shape_names[4] = { "a", "b", "c", "d" };
API struct point shape_origin;
static int hidden_static;
int *use_hidden(void) { return &hidden_static; }
