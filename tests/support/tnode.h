/* tnode.h: nodes and shapes built by hand for the kernel and describe tests
 * (Criterion suites only: it asserts). One tnode holds a pp_node and the storage
 * its attributes point into. */
#ifndef PP_TEST_TNODE_H
#define PP_TEST_TNODE_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "engine/ops.h"

typedef struct tnode {
    pp_node node;
    pp_attr attrs[16];
    int64_t ints[16][8];
    double floats[16][8];
} tnode;

static inline void tn_init_io(tnode *t, pp_op op, int n_in, int n_out) {
    memset(t, 0, sizeof *t);
    t->node.op = op;
    t->node.name = (char *)"test_node";
    t->node.n_in = n_in;
    t->node.n_out = n_out;
    t->node.attrs = t->attrs;
}
static inline void tn_init(tnode *t, pp_op op, int n_in) { tn_init_io(t, op, n_in, 1); }

static inline pp_attr *tn_add(tnode *t, const char *name, pp_attr_type type) {
    cr_assert(t->node.n_attr < 16);
    pp_attr *a = &t->attrs[t->node.n_attr++];
    a->name = (char *)name;
    a->type = type;
    a->count = 1;
    return a;
}

static inline void tn_int(tnode *t, const char *name, int64_t v) { tn_add(t, name, PP_ATTR_INT)->i = v; }
static inline void tn_float(tnode *t, const char *name, double v) { tn_add(t, name, PP_ATTR_FLOAT)->f = v; }
static inline void tn_str(tnode *t, const char *name, const char *s) { tn_add(t, name, PP_ATTR_STRING)->s = (char *)s; }
static inline void tn_ints(tnode *t, const char *name, int n, const int64_t *v) {
    int slot = t->node.n_attr;
    pp_attr *a = tn_add(t, name, PP_ATTR_INTS);
    cr_assert(n <= 8);
    if (n) memcpy(t->ints[slot], v, sizeof(int64_t) * (size_t)n);
    a->count = (uint32_t)n;
    a->ints = t->ints[slot];
}
static inline void tn_floats(tnode *t, const char *name, int n, const double *v) {
    int slot = t->node.n_attr;
    pp_attr *a = tn_add(t, name, PP_ATTR_FLOATS);
    cr_assert(n <= 8);
    if (n) memcpy(t->floats[slot], v, sizeof(double) * (size_t)n);
    a->count = (uint32_t)n;
    a->floats = t->floats[slot];
}
#define NDIMS(...) ((int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)))
#define TN_INTS(t, name, ...) tn_ints(t, name, NDIMS(__VA_ARGS__), (int64_t[]){__VA_ARGS__})
#define TN_FLOATS(t, name, ...)                                                                                        \
    tn_floats(t, name, (int)(sizeof((double[]){__VA_ARGS__}) / sizeof(double)), (double[]){__VA_ARGS__})

static inline pp_shape make_shape(pp_dtype dt, int rank, const int64_t *dims) {
    pp_shape s;
    memset(&s, 0, sizeof s);
    s.dtype = dt;
    s.rank = rank;
    for (int i = 0; i < rank; i++) s.dims[i] = dims[i];
    return s;
}
#define SHAPE(dt, ...) make_shape(dt, NDIMS(__VA_ARGS__), (int64_t[]){__VA_ARGS__})
#define F32(...) SHAPE(PP_DTYPE_F32, __VA_ARGS__)

static inline size_t numel(const pp_shape *s) {
    size_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= (size_t)s->dims[i];
    return n;
}

static inline void expect_dims(const pp_shape *s, int rank, const int64_t *dims) {
    cr_assert_eq(s->rank, rank, "rank %d, expected %d", s->rank, rank);
    for (int i = 0; i < rank; i++)
        cr_assert_eq(s->dims[i], dims[i], "axis %d is %lld, expected %lld", i, (long long)s->dims[i],
                     (long long)dims[i]);
}
#define EXPECT_DIMS(s, ...) expect_dims(s, NDIMS(__VA_ARGS__), (int64_t[]){__VA_ARGS__})

#endif
