/* One object of each record, so that the library's DWARF describes them all. */
#include "records.h"

struct point sensor_origin;
struct flags sensor_flags;
struct wire_header sensor_header;
stats_t sensor_stats;
struct node sensor_node;
