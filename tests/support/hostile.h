/* hostile.h: graph.bin models whose shape attributes are hostile: INT64_MAX and
 * INT64_MIN, negative and zero values, dilation × kernel and extent products
 * past 2^63, for conv, pooling, reshape, slice, expand, range, tile, pad and the
 * other ops whose output extents come from attributes.
 *
 * Each case is one node named after the case. The engine must refuse it (from
 * pp_graph_from_model) with a message naming the node, the attribute and its
 * value, or, for a legal extreme (a slice from INT64_MIN to INT64_MAX), accept
 * it with the output shape stored in the file. tests/test_hostile.c asserts
 * both; the same models are the fuzz_graphbin regressions
 * tests/fuzz/regressions/fuzz_graphbin/hostile-<name>.bin.
 */
#ifndef PP_TEST_HOSTILE_H
#define PP_TEST_HOSTILE_H

#include "support/model_builder.h"

typedef struct pp_hostile {
    const char *name;  /* the node's name and the regression file's stem */
    const char *attr;  /* the attribute the message must name */
    const char *value; /* its value, as the message must print it; NULL for an accepted case */
} pp_hostile;

int pp_hostile_count(void);
const pp_hostile *pp_hostile_get(int i);
/* A builder holding case i (the caller frees it with pp_mb_free), or NULL when
 * out of memory. */
pp_mb *pp_hostile_build(int i);

#endif
