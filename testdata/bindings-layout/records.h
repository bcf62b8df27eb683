/* Records of a small sensor library, as its C header declares them. records.py is a ctypes binding of them,
 * with mistakes on purpose; README.md says which findings each class must give. */
#include <stdint.h>

struct point {
    int32_t x;
    int32_t y;
    double weight;
    const char *label;
};

struct flags {
    uint8_t kind;
    uint32_t mode : 3;
    uint16_t level : 9;
    uint32_t live : 1;
};

#pragma pack(push, 1)
struct wire_header {
    uint8_t type;
    uint32_t length;
    uint16_t crc;
};
#pragma pack(pop)

typedef struct {
    int64_t total;
    uint32_t count;
} stats_t;

struct node {
    struct point where;
    struct node *next;
    union {
        int32_t i;
        double d;
    };
};
