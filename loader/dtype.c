/* dtype.c: names and sizes of dtypes and ops, shared by the loader, the tools
 * and the error messages. */
#include <string.h>

#include "loader_internal.h"
#include "model.h"

static const struct {
    const char *name;
    size_t size;
} dtypes[PP_DTYPE_COUNT] = {
    [PP_DTYPE_INVALID] = {"invalid", 0}, [PP_DTYPE_F32] = {"f32", 4}, [PP_DTYPE_F16] = {"f16", 2},
    [PP_DTYPE_BF16] = {"bf16", 2},       [PP_DTYPE_I64] = {"i64", 8}, [PP_DTYPE_I32] = {"i32", 4},
    [PP_DTYPE_BOOL] = {"bool", 1},       [PP_DTYPE_U8] = {"u8", 1},   [PP_DTYPE_I8] = {"i8", 1},
    [PP_DTYPE_F64] = {"f64", 8},
};

size_t pp_dtype_size(pp_dtype dt) { return (unsigned)dt < PP_DTYPE_COUNT ? dtypes[dt].size : 0; }

const char *pp_dtype_name(pp_dtype dt) { return (unsigned)dt < PP_DTYPE_COUNT ? dtypes[dt].name : "invalid"; }

pp_dtype pp_dtype_from_name(const char *s) {
    if (!s) return PP_DTYPE_INVALID;
    for (int i = 1; i < PP_DTYPE_COUNT; i++)
        if (strcmp(s, dtypes[i].name) == 0) return (pp_dtype)i;
    return PP_DTYPE_INVALID;
}

/* Op names are the enum's own spelling ("CONV", "LEAKY_RELU"): a constant table
 * the X-macro writes, so there is nothing to build at run time and nothing to
 * race on. */
static const struct {
    pp_op op;
    const char *name;
} ops[] = {
#define PP_X_NAME(name, val) {PP_OP_##name, #name},
    PP_OP_LIST(PP_X_NAME)
#undef PP_X_NAME
};

const char *pp_op_name(pp_op op) {
    switch (op) {
#define PP_X_CASE(name, val)                                                                                           \
    case PP_OP_##name: return #name;
        PP_OP_LIST(PP_X_CASE)
#undef PP_X_CASE
    default: return NULL;
    }
}

static int upper_ascii(unsigned char c) { return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c; }

/* Equal ignoring ASCII case and underscores, so "LEAKY_RELU", "LeakyRelu" and
 * "leaky_relu" all name PP_OP_LEAKY_RELU. */
static int same_op_name(const char *a, const char *b) {
    for (;;) {
        while (*a == '_') a++;
        while (*b == '_') b++;
        if (upper_ascii((unsigned char)*a) != upper_ascii((unsigned char)*b)) return 0;
        if (!*a) return 1;
        a++;
        b++;
    }
}

pp_op pp_op_from_name(const char *s) {
    if (!s || !*s) return PP_OP_INVALID;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (same_op_name(s, ops[i].name)) return ops[i].op;
    return PP_OP_INVALID;
}

int pp_dims_bytes(pp_dtype dt, int rank, const int64_t *dims, uint64_t *out) {
    uint64_t n = pp_dtype_size(dt);
    for (int k = 0; k < rank; k++) {
        int64_t d = dims[k];
        if (d == INT64_MIN) return -1;
        uint64_t e = (uint64_t)(d < 0 ? -d : d);
        if (e != 0 && n > UINT64_MAX / e) return -1;
        n *= e;
    }
    *out = n;
    return 0;
}
