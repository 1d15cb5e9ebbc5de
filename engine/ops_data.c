/* ops_data.c: describe functions for the data-movement ops (reshapes,
 * transpose, concat, split, slice, gathers, expand, pad, resize, trilu, fills,
 * depth-to-space, cumsum): what each does to shapes and dtypes, the kernel
 * params it implies (kernels/params.h) and its cost. ONNX semantics, with
 * ONNX's constant parameter inputs read from attributes (docs/ir.md).
 *
 * Called with concrete shapes (the symbols resolved) during inference and at
 * every planned size: pure, cheap, no allocation. Messages name the input,
 * axis and extents; pp_op_describe prefixes the node.
 */
#include <math.h>

#include "ops_describe.h"

/* ---- reshapes: same bytes, new shape ------------------------------------------- */

static pp_code flatten_dims(const pp_node *n, const pp_shape *x, int64_t *dims, int *rank, pp_error *err) {
    const int r = x->rank;
    int64_t axis = pp_node_int(n, "axis", 1);
    if (axis < -r || axis > r)
        return pp_error_set(err, PP_ERR_SHAPE, "axis %lld is out of range for input 0 %s of rank %d", (long long)axis,
                            SHAPE_STR(x), r);
    if (axis < 0) axis += r;
    *rank = 2;
    dims[0] = prod(x->dims, 0, (int)axis);
    dims[1] = prod(x->dims, (int)axis, r);
    return PP_OK;
}

/* RESHAPE's shape attribute resolved: 0 copies the input's extent (unless
 * allowzero), one -1 takes what is left; the element count must match. */
static pp_code reshape_dims(const pp_describe_ctx *ctx, const pp_shape *x, int64_t *dims, int *rank, pp_error *err) {
    const pp_node *n = ctx->node;
    const int r = x->rank;
    uint32_t cnt;
    const int64_t *shape = pp_node_ints(n, "shape", &cnt);
    if (!shape) TRY(need_attr(ctx, "shape", PP_ATTR_INTS, err)); /* present but empty: no entries */
    if (cnt > PP_MAX_RANK)
        return pp_error_set(err, PP_ERR_SHAPE, "shape has %u entries (at most %d)", cnt, PP_MAX_RANK);
    const int allowzero = pp_node_int(n, "allowzero", 0) != 0;
    int infer = -1;
    int64_t known = 1;
    for (uint32_t i = 0; i < cnt; i++) {
        int64_t d = shape[i];
        if (d == 0 && !allowzero) {
            if ((int)i >= r)
                return pp_error_set(err, PP_ERR_SHAPE, "shape[%u] = 0 copies axis %u, but input 0 %s has rank %d", i, i,
                                    SHAPE_STR(x), r);
            d = x->dims[i];
        }
        if (d == -1) {
            if (infer >= 0)
                return pp_error_set(err, PP_ERR_SHAPE, "shape has -1 at both axis %d and axis %u", infer, i);
            infer = (int)i;
            dims[i] = -1;
            continue;
        }
        if (d < 0) return pp_error_set(err, PP_ERR_SHAPE, "shape[%u] = %lld is negative", i, (long long)d);
        dims[i] = d;
        if (pp_mul_i64(known, d, &known))
            return pp_error_set(err, PP_ERR_SHAPE, "attribute shape %s has too many elements",
                                DIMS_STR(shape, (int)cnt));
    }
    const int64_t total = pp_shape_numel(x);
    if (infer >= 0) {
        if (known == 0 || total % known != 0)
            return pp_error_set(err, PP_ERR_SHAPE,
                                "cannot infer axis %d: input 0 %s has %lld elements, not a multiple of the %lld "
                                "given by the other extents of shape %s",
                                infer, SHAPE_STR(x), (long long)total, (long long)known, DIMS_STR(shape, (int)cnt));
        dims[infer] = total / known;
        known = total;
    }
    if (known != total)
        return pp_error_set(err, PP_ERR_SHAPE, "input 0 %s has %lld elements but shape %s (resolved %s) has %lld",
                            SHAPE_STR(x), (long long)total, DIMS_STR(shape, (int)cnt), DIMS_STR(dims, (int)cnt),
                            (long long)known);
    *rank = (int)cnt;
    return PP_OK;
}

static pp_code squeeze_dims(const pp_node *n, const pp_shape *x, int64_t *dims, int *rank, pp_error *err) {
    const int r = x->rank;
    uint32_t cnt;
    const int64_t *axes = pp_node_ints(n, "axes", &cnt);
    int drop[PP_MAX_RANK] = {0};
    if (cnt == 0) {
        for (int d = 0; d < r; d++) drop[d] = x->dims[d] == 1;
    } else {
        for (uint32_t i = 0; i < cnt; i++) {
            int a = pp_axis_normalize(axes[i], r, "squeeze axis", err);
            if (a < 0) return PP_ERR_SHAPE;
            if (drop[a]) return pp_error_set(err, PP_ERR_SHAPE, "axis %d is listed twice in axes", a);
            if (x->dims[a] != 1)
                return pp_error_set(err, PP_ERR_SHAPE, "cannot squeeze axis %d of input 0 %s: extent %lld, not 1", a,
                                    SHAPE_STR(x), (long long)x->dims[a]);
            drop[a] = 1;
        }
    }
    *rank = 0;
    for (int d = 0; d < r; d++)
        if (!drop[d]) dims[(*rank)++] = x->dims[d];
    return PP_OK;
}

static pp_code unsqueeze_dims(const pp_node *n, const pp_shape *x, int64_t *dims, int *rank, pp_error *err) {
    const int r = x->rank;
    uint32_t cnt;
    const int64_t *axes = pp_node_ints(n, "axes", &cnt);
    if (!axes) return pp_error_set(err, PP_ERR_SHAPE, "missing attribute 'axes'");
    const int orank = r + (int)cnt;
    if (cnt > PP_MAX_RANK || orank > PP_MAX_RANK)
        return pp_error_set(err, PP_ERR_SHAPE, "input 0 %s with %u new axes exceeds rank %d", SHAPE_STR(x), cnt,
                            PP_MAX_RANK);
    int ins[PP_MAX_RANK] = {0};
    for (uint32_t i = 0; i < cnt; i++) {
        int a = pp_axis_normalize(axes[i], orank, "unsqueeze axis", err);
        if (a < 0) return PP_ERR_SHAPE;
        if (ins[a]) return pp_error_set(err, PP_ERR_SHAPE, "axis %d is listed twice in axes", a);
        ins[a] = 1;
    }
    for (int d = 0, k = 0; d < orank; d++) dims[d] = ins[d] ? 1 : x->dims[k++];
    *rank = orank;
    return PP_OK;
}

static pp_code reshape_target(const pp_describe_ctx *ctx, const pp_shape *x, int64_t *dims, int *rank, pp_error *err) {
    switch (ctx->node->op) {
    case PP_OP_IDENTITY:
        *rank = x->rank;
        memcpy(dims, x->dims, sizeof(int64_t) * (size_t)x->rank);
        return PP_OK;
    case PP_OP_FLATTEN: return flatten_dims(ctx->node, x, dims, rank, err);
    case PP_OP_RESHAPE: return reshape_dims(ctx, x, dims, rank, err);
    case PP_OP_SQUEEZE: return squeeze_dims(ctx->node, x, dims, rank, err);
    case PP_OP_UNSQUEEZE: return unsqueeze_dims(ctx->node, x, dims, rank, err);
    default: return pp_error_set(err, PP_ERR_INTERNAL, "not a reshape op");
    }
}

pp_code pp_describe_reshape(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                            pp_op_params *p, pp_cost *cost, pp_error *err) {
    TRY(need_input(in, 0, err));
    int64_t dims[PP_MAX_RANK];
    int rank = 0;
    TRY(reshape_target(ctx, &in[0], dims, &rank, err));
    set_shape(&out[0], in[0].dtype, rank, dims);
    p->copy.bytes = (size_t)pp_shape_numel(&in[0]) * pp_dtype_size(in[0].dtype);
    cost_io(cost, in, 1, out, 1, 0);
    return PP_OK;
}

/* ---- transpose, concat, split, slice ---------------------------------------------- */

pp_code pp_describe_transpose(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                              pp_op_params *p, pp_cost *cost, pp_error *err) {
    TRY(need_input(in, 0, err));
    const int r = in[0].rank;
    uint32_t cnt;
    const int64_t *perm = pp_node_ints(ctx->node, "perm", &cnt);
    pp_transpose_params *t = &p->transpose;
    if (perm && (int)cnt != r)
        return pp_error_set(err, PP_ERR_SHAPE, "perm has %u entries but input 0 %s has rank %d", cnt, SHAPE_STR(&in[0]),
                            r);
    int seen[PP_MAX_RANK] = {0};
    int64_t dims[PP_MAX_RANK];
    for (int k = 0; k < r; k++) {
        int64_t a = perm ? perm[k] : r - 1 - k;
        if (a < 0) a += r; /* negative entries count from the end, as axes do elsewhere */
        if (a < 0 || a >= r || seen[a])
            return pp_error_set(err, PP_ERR_SHAPE, "perm %s is not a permutation of the %d axes of input 0",
                                DIMS_STR(perm, (int)cnt), r);
        seen[a] = 1;
        t->perm[k] = (int)a;
        dims[k] = in[0].dims[a];
    }
    t->elem = pp_dtype_size(in[0].dtype);
    t->rank = r;
    memcpy(t->in_dims, in[0].dims, sizeof(int64_t) * (size_t)r);
    set_shape(&out[0], in[0].dtype, r, dims);
    cost_io(cost, in, 1, out, 1, 0);
    return PP_OK;
}

pp_code pp_describe_concat(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                           pp_op_params *p, pp_cost *cost, pp_error *err) {
    TRY(need_attr(ctx, "axis", PP_ATTR_INT, err));
    for (int i = 0; i < n_in; i++) TRY(need_input(in, i, err));
    const int r = in[0].rank;
    if (r == 0) return pp_error_set(err, PP_ERR_SHAPE, "input 0 is a scalar; concat needs rank >= 1");
    const int axis = pp_axis_normalize(pp_node_int(ctx->node, "axis", 0), r, "axis", err);
    if (axis < 0) return PP_ERR_SHAPE;
    pp_concat_params *c = &p->concat;
    int64_t total = 0;
    for (int i = 0; i < n_in; i++) {
        if (in[i].dtype != in[0].dtype)
            return pp_error_set(err, PP_ERR_SHAPE, "input %d is %s but input 0 is %s", i, pp_dtype_name(in[i].dtype),
                                pp_dtype_name(in[0].dtype));
        if (in[i].rank != r)
            return pp_error_set(err, PP_ERR_SHAPE, "input %d %s has rank %d but input 0 %s has rank %d", i,
                                SHAPE_STR(&in[i]), in[i].rank, SHAPE_STR(&in[0]), r);
        for (int d = 0; d < r; d++)
            if (d != axis && in[i].dims[d] != in[0].dims[d])
                return pp_error_set(err, PP_ERR_SHAPE,
                                    "input %d %s and input 0 %s differ on axis %d (%lld vs %lld), which is not the "
                                    "concat axis %d",
                                    i, SHAPE_STR(&in[i]), SHAPE_STR(&in[0]), d, (long long)in[i].dims[d],
                                    (long long)in[0].dims[d], axis);
        c->axis_len[i] = in[i].dims[axis];
        total += in[i].dims[axis];
    }
    c->elem = pp_dtype_size(in[0].dtype);
    c->n = n_in;
    c->outer = prod(in[0].dims, 0, axis);
    c->inner = prod(in[0].dims, axis + 1, r);
    set_shape(&out[0], in[0].dtype, r, in[0].dims);
    out[0].dims[axis] = total;
    if (in[0].layout == PP_LAYOUT_NHWC) {
        /* NHWC inputs (docs/planner.md): the same copy over the stored order
         * (N, H, W, C), where logical axis 1 is the innermost */
        static const int pos[4] = {0, 3, 1, 2};
        const int64_t *d = in[0].dims;
        int64_t phys[4] = {d[0], d[2], d[3], d[1]};
        for (int i = 0; i < n_in; i++)
            if (in[i].layout != PP_LAYOUT_NHWC || in[i].rank != 4)
                return pp_error_set(err, PP_ERR_SHAPE, "input %d is not NHWC like input 0", i);
        c->outer = prod(phys, 0, pos[axis]);
        c->inner = prod(phys, pos[axis] + 1, 4);
        out[0].layout = PP_LAYOUT_NHWC;
    }
    cost_io(cost, in, n_in, out, 1, 0);
    return PP_OK;
}

pp_code pp_describe_split(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                          pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    TRY(need_input(in, 0, err));
    const int r = in[0].rank;
    if (r == 0) return pp_error_set(err, PP_ERR_SHAPE, "input 0 is a scalar; split needs rank >= 1");
    const int axis = pp_axis_normalize(pp_node_int(n, "axis", 0), r, "axis", err);
    if (axis < 0) return PP_ERR_SHAPE;
    const int64_t len = in[0].dims[axis];
    pp_concat_params *c = &p->concat;
    uint32_t cnt;
    const int64_t *split = pp_node_ints(n, "split", &cnt);
    if (split && cnt > 0) {
        if ((int)cnt != n_out)
            return pp_error_set(err, PP_ERR_SHAPE, "split has %u entries but the node has %d outputs", cnt, n_out);
        int64_t sum = 0;
        for (uint32_t i = 0; i < cnt; i++) {
            if (split[i] < 0 || split[i] > len)
                return pp_error_set(err, PP_ERR_SHAPE, "split[%u] = %lld is outside [0, %lld] (axis %d of input 0 %s)",
                                    i, (long long)split[i], (long long)len, axis, SHAPE_STR(&in[0]));
            c->axis_len[i] = split[i];
            sum += split[i];
        }
        if (sum != len)
            return pp_error_set(err, PP_ERR_SHAPE, "split %s sums to %lld but axis %d of input 0 %s has extent %lld",
                                DIMS_STR(split, (int)cnt), (long long)sum, axis, SHAPE_STR(&in[0]), (long long)len);
    } else {
        int64_t num = pp_node_int(n, "num_outputs", n_out);
        if (num != n_out)
            return pp_error_set(err, PP_ERR_SHAPE, "num_outputs = %lld but the node has %d outputs", (long long)num,
                                n_out);
        /* opset 18: chunks of ceil(len / n), the last one smaller */
        const int64_t chunk = (len + n_out - 1) / n_out;
        for (int i = 0; i < n_out; i++) {
            int64_t left = len - (int64_t)i * chunk;
            c->axis_len[i] = left < 0 ? 0 : (left < chunk ? left : chunk);
        }
    }
    c->elem = pp_dtype_size(in[0].dtype);
    c->n = n_out;
    c->outer = prod(in[0].dims, 0, axis);
    c->inner = prod(in[0].dims, axis + 1, r);
    for (int i = 0; i < n_out; i++) {
        set_shape(&out[i], in[0].dtype, r, in[0].dims);
        out[i].dims[axis] = c->axis_len[i];
    }
    cost_io(cost, in, 1, out, n_out, 0);
    return PP_OK;
}

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

pp_code pp_describe_slice(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                          pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    TRY(need_input(in, 0, err));
    TRY(need_attr(ctx, "starts", PP_ATTR_INTS, err));
    TRY(need_attr(ctx, "ends", PP_ATTR_INTS, err));
    const int r = in[0].rank;
    uint32_t ns, ne, na, nst;
    const int64_t *starts = pp_node_ints(n, "starts", &ns), *ends = pp_node_ints(n, "ends", &ne);
    const int64_t *axes = pp_node_ints(n, "axes", &na), *steps = pp_node_ints(n, "steps", &nst);
    if (ne != ns || (axes && na != ns) || (steps && nst != ns))
        return pp_error_set(err, PP_ERR_SHAPE, "starts, ends, axes and steps have %u, %u, %u and %u entries", ns, ne,
                            axes ? na : ns, steps ? nst : ns);
    pp_slice_params *s = &p->slice;
    s->elem = pp_dtype_size(in[0].dtype);
    s->rank = r;
    for (int d = 0; d < r; d++) {
        s->in_dims[d] = s->out_dims[d] = in[0].dims[d];
        s->starts[d] = 0;
        s->steps[d] = 1;
    }
    int seen[PP_MAX_RANK] = {0};
    for (uint32_t i = 0; i < ns; i++) {
        char what[48];
        snprintf(what, sizeof what, "attribute axes[%u]", i);
        int a = pp_axis_normalize(axes ? axes[i] : (int64_t)i, r, what, err);
        if (a < 0) return PP_ERR_SHAPE;
        if (seen[a]) return pp_error_set(err, PP_ERR_SHAPE, "axis %d is sliced twice", a);
        seen[a] = 1;
        const int64_t dim = in[0].dims[a], step = steps ? steps[i] : 1;
        if (step == 0) return pp_error_set(err, PP_ERR_SHAPE, "attribute steps[%u] is 0 (axis %d)", i, a);
        int64_t st = starts[i], en = ends[i];
        /* ONNX: negatives count from the end, then clamp; adding dim cannot
         * overflow for a negative value */
        if (st < 0) st += dim;
        if (en < 0) en += dim;
        int64_t len;
        if (step > 0) {
            st = clamp64(st, 0, dim);
            en = clamp64(en, 0, dim);
            len = en > st ? (en - st - 1) / step + 1 : 0;
        } else {
            st = clamp64(st, 0, dim - 1);
            en = clamp64(en, -1, dim - 1);
            /* INT64_MIN has no negation; any span is shorter than INT64_MAX anyway */
            len = st > en ? (st - en - 1) / (step == INT64_MIN ? INT64_MAX : -step) + 1 : 0;
        }
        s->out_dims[a] = len;
        s->starts[a] = len > 0 ? st : 0;
        s->steps[a] = len > 1 ? step : 1; /* a single element needs no step; keeps index math small */
    }
    set_shape(&out[0], in[0].dtype, r, s->out_dims);
    cost_io(cost, in, 0, out, 1, 0);
    cost->bytes *= 2; /* reads what it writes */
    return PP_OK;
}

/* ---- gathers ---------------------------------------------------------------------- */

pp_code pp_describe_gather(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                           pp_op_params *p, pp_cost *cost, pp_error *err) {
    TRY(need_input(in, 0, err));
    TRY(need_input(in, 1, err));
    const int r = in[0].rank, q = in[1].rank;
    if (!is_int_dtype(in[1].dtype))
        return pp_error_set(err, PP_ERR_SHAPE, "indices (input 1) have dtype %s, expected i64 or i32",
                            pp_dtype_name(in[1].dtype));
    if (r == 0) return pp_error_set(err, PP_ERR_SHAPE, "data (input 0) is a scalar; gather needs rank >= 1");
    const int axis = pp_axis_normalize(pp_node_int(ctx->node, "axis", 0), r, "axis", err);
    if (axis < 0) return PP_ERR_SHAPE;
    if (r - 1 + q > PP_MAX_RANK)
        return pp_error_set(err, PP_ERR_SHAPE, "data %s and indices %s give rank %d (at most %d)", SHAPE_STR(&in[0]),
                            SHAPE_STR(&in[1]), r - 1 + q, PP_MAX_RANK);
    pp_gather_params *g = &p->gather;
    g->elem = pp_dtype_size(in[0].dtype);
    g->outer = prod(in[0].dims, 0, axis);
    g->axis_len = in[0].dims[axis];
    g->inner = prod(in[0].dims, axis + 1, r);
    g->n_idx = pp_shape_numel(&in[1]);
    g->idx_dtype = in[1].dtype;
    /* constant indices are checked now, so a bad one is named before any run */
    if (ctx->const_data && ctx->const_data[1]) {
        for (int64_t i = 0; i < g->n_idx; i++) {
            /* memcpy: a weight borrowed from a protobuf may sit at any address */
            const unsigned char *raw = ctx->const_data[1];
            int64_t v;
            if (g->idx_dtype == PP_DTYPE_I64) {
                memcpy(&v, raw + 8 * i, 8);
            } else {
                int32_t v32;
                memcpy(&v32, raw + 4 * i, 4);
                v = v32;
            }
            if (v < -g->axis_len || v >= g->axis_len)
                return pp_error_set(err, PP_ERR_SHAPE,
                                    "index %lld (element %lld of indices) is out of range for axis %d "
                                    "of data %s",
                                    (long long)v, (long long)i, axis, SHAPE_STR(&in[0]));
        }
    }
    int64_t dims[PP_MAX_RANK];
    int k = 0;
    for (int d = 0; d < axis; d++) dims[k++] = in[0].dims[d];
    for (int d = 0; d < q; d++) dims[k++] = in[1].dims[d];
    for (int d = axis + 1; d < r; d++) dims[k++] = in[0].dims[d];
    set_shape(&out[0], in[0].dtype, k, dims);
    cost_io(cost, in + 1, 1, out, 1, 0);
    cost->bytes += tensor_bytes(&out[0]); /* the rows read from data */
    return PP_OK;
}

pp_code pp_describe_gather_elements(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                                    pp_op_params *p, pp_cost *cost, pp_error *err) {
    TRY(need_input(in, 0, err));
    TRY(need_input(in, 1, err));
    const int r = in[0].rank;
    if (!is_int_dtype(in[1].dtype))
        return pp_error_set(err, PP_ERR_SHAPE, "indices (input 1) have dtype %s, expected i64 or i32",
                            pp_dtype_name(in[1].dtype));
    if (r == 0) return pp_error_set(err, PP_ERR_SHAPE, "data (input 0) is a scalar; gather_elements needs rank >= 1");
    if (in[1].rank != r)
        return pp_error_set(err, PP_ERR_SHAPE, "indices %s have rank %d but data %s has rank %d", SHAPE_STR(&in[1]),
                            in[1].rank, SHAPE_STR(&in[0]), r);
    const int axis = pp_axis_normalize(pp_node_int(ctx->node, "axis", 0), r, "axis", err);
    if (axis < 0) return PP_ERR_SHAPE;
    for (int d = 0; d < r; d++)
        if (d != axis && in[1].dims[d] > in[0].dims[d])
            return pp_error_set(err, PP_ERR_SHAPE, "indices %s exceed data %s on axis %d (%lld > %lld)",
                                SHAPE_STR(&in[1]), SHAPE_STR(&in[0]), d, (long long)in[1].dims[d],
                                (long long)in[0].dims[d]);
    pp_gather_elements_params *g = &p->gather_elements;
    g->elem = pp_dtype_size(in[0].dtype);
    g->rank = r;
    g->axis = axis;
    memcpy(g->in_dims, in[0].dims, sizeof(int64_t) * (size_t)r);
    memcpy(g->idx_dims, in[1].dims, sizeof(int64_t) * (size_t)r);
    g->idx_dtype = in[1].dtype;
    set_shape(&out[0], in[0].dtype, r, in[1].dims);
    cost_io(cost, in + 1, 1, out, 1, 0);
    cost->bytes += tensor_bytes(&out[0]);
    return PP_OK;
}

/* ---- expand, tile, pad ---------------------------------------------------------------- */

pp_code pp_describe_expand(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                           pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    TRY(need_input(in, 0, err));
    pp_expand_params *e = &p->expand;
    uint32_t cnt;
    e->op = n->op;
    e->elem = pp_dtype_size(in[0].dtype);
    if (n->op == PP_OP_EXPAND) {
        const int64_t *shape = pp_node_ints(n, "shape", &cnt);
        if (!shape) TRY(need_attr(ctx, "shape", PP_ATTR_INTS, err)); /* present but empty: no entries */
        if (cnt > PP_MAX_RANK)
            return pp_error_set(err, PP_ERR_SHAPE, "shape has %u entries (at most %d)", cnt, PP_MAX_RANK);
        pp_shape target = {.dtype = in[0].dtype, .rank = (int)cnt};
        for (uint32_t i = 0; i < cnt; i++) {
            if (shape[i] < 0)
                return pp_error_set(err, PP_ERR_SHAPE, "shape[%u] = %lld is negative", i, (long long)shape[i]);
            target.dims[i] = shape[i];
        }
        char what[320];
        snprintf(what, sizeof what, "input 0 %s and shape %s", SHAPE_STR(&in[0]), DIMS_STR(shape, (int)cnt));
        TRY(pp_shape_broadcast(&in[0], &target, &out[0], what, err));
        out[0].dtype = in[0].dtype;
        if (checked_numel(out[0].dims, out[0].rank) < 0)
            return pp_error_set(err, PP_ERR_SHAPE, "attribute shape %s gives output %s, too many elements",
                                DIMS_STR(shape, (int)cnt), SHAPE_STR(&out[0]));
    } else {
        const int64_t *rep = pp_node_ints(n, "repeats", &cnt);
        if (!rep) TRY(need_attr(ctx, "repeats", PP_ATTR_INTS, err)); /* present but empty: no entries */
        if ((int)cnt != in[0].rank)
            return pp_error_set(err, PP_ERR_SHAPE, "repeats has %u entries but input 0 %s has rank %d", cnt,
                                SHAPE_STR(&in[0]), in[0].rank);
        set_shape(&out[0], in[0].dtype, in[0].rank, in[0].dims);
        for (int d = 0; d < in[0].rank; d++) {
            if (rep[d] < 0)
                return pp_error_set(err, PP_ERR_SHAPE, "attribute repeats[%d] is %lld, negative", d, (long long)rep[d]);
            if (pp_mul_i64(in[0].dims[d], rep[d], &out[0].dims[d]))
                return pp_error_set(err, PP_ERR_SHAPE,
                                    "attribute repeats[%d] is %lld: axis %d (%lld) repeated overflows", d,
                                    (long long)rep[d], d, (long long)in[0].dims[d]);
        }
        if (checked_numel(out[0].dims, out[0].rank) < 0)
            return pp_error_set(err, PP_ERR_SHAPE, "attribute repeats %s gives output %s, too many elements",
                                DIMS_STR(rep, (int)cnt), SHAPE_STR(&out[0]));
    }
    const int r = out[0].rank, lead = r - in[0].rank;
    e->rank = r;
    for (int d = 0; d < r; d++) {
        e->in_dims[d] = d < lead ? 1 : in[0].dims[d - lead];
        e->out_dims[d] = out[0].dims[d];
    }
    cost_io(cost, in, 1, out, 1, 0);
    return PP_OK;
}

pp_code pp_describe_pad(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                        pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    TRY(need_input(in, 0, err));
    const int r = in[0].rank;
    uint32_t np, na;
    const int64_t *pads = pp_node_ints(n, "pads", &np);
    const int64_t *axes = pp_node_ints(n, "axes", &na);
    if (!pads) TRY(need_attr(ctx, "pads", PP_ATTR_INTS, err)); /* present but empty: no entries */
    const int k = axes ? (int)na : r;
    if ((int)np != 2 * k)
        return pp_error_set(err, PP_ERR_SHAPE,
                            "pads has %u entries; expected %d (begin and end for %d axes of input 0 %s)", np, 2 * k, k,
                            SHAPE_STR(&in[0]));
    pp_pad_params *pp = &p->pad;
    const char *mode = pp_node_string(n, "mode", "constant");
    if (strcmp(mode, "constant") == 0) pp->mode = 0;
    else if (strcmp(mode, "reflect") == 0) pp->mode = 1;
    else if (strcmp(mode, "edge") == 0) pp->mode = 2;
    else return pp_error_set(err, PP_ERR_UNSUPPORTED, "mode '%s' (supported: constant, reflect, edge)", mode);
    int64_t pb[PP_MAX_RANK] = {0}, pe[PP_MAX_RANK] = {0};
    int seen[PP_MAX_RANK] = {0};
    for (int i = 0; i < k; i++) {
        int a = axes ? pp_axis_normalize(axes[i], r, "pad axis", err) : i;
        if (a < 0) return PP_ERR_SHAPE;
        if (seen[a]) return pp_error_set(err, PP_ERR_SHAPE, "axis %d is listed twice in axes", a);
        seen[a] = 1;
        pb[a] = pads[i];
        pe[a] = pads[i + k];
    }
    pp->elem = pp_dtype_size(in[0].dtype);
    pp->dtype = in[0].dtype;
    pp->rank = r;
    pp->value = pp_node_float(n, "value", 0.0);
    set_shape(&out[0], in[0].dtype, r, in[0].dims);
    for (int d = 0; d < r; d++) {
        const int64_t dim = in[0].dims[d];
        if (pb[d] < -dim || pe[d] < -dim || pb[d] > ((int64_t)1 << 40) || pe[d] > ((int64_t)1 << 40) ||
            dim + pb[d] + pe[d] < 0)
            return pp_error_set(err, PP_ERR_SHAPE, "axis %d: pads %lld and %lld do not fit extent %lld of input 0 %s",
                                d, (long long)pb[d], (long long)pe[d], (long long)dim, SHAPE_STR(&in[0]));
        out[0].dims[d] = dim + pb[d] + pe[d];
        if (pp->mode != 0 && dim == 0 && out[0].dims[d] > 0)
            return pp_error_set(err, PP_ERR_SHAPE, "axis %d has extent 0: nothing to %s", d, mode);
        pp->in_dims[d] = dim;
        pp->out_dims[d] = out[0].dims[d];
        pp->pads_begin[d] = pb[d];
    }
    if (checked_numel(out[0].dims, r) < 0)
        return pp_error_set(err, PP_ERR_SHAPE, "attribute pads %s gives output %s, too many elements",
                            DIMS_STR(pads, (int)np), SHAPE_STR(&out[0]));
    cost_io(cost, in, 1, out, 1, 0);
    return PP_OK;
}

/* ---- resize ------------------------------------------------------------------------- */

pp_code pp_describe_resize(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                           pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    TRY(need_input(in, 0, err));
    const int r = in[0].rank;
    if (!is_float_dtype(in[0].dtype))
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "input 0 has dtype %s; resize takes %s",
                            pp_dtype_name(in[0].dtype), "f32, f16 or bf16");
    if (r < 2)
        return pp_error_set(err, PP_ERR_SHAPE, "input 0 %s has rank %d; resize needs rank >= 2", SHAPE_STR(&in[0]), r);
    pp_resize_params *rp = &p->resize;
    const char *mode = pp_node_string(n, "mode", "nearest");
    if (strcmp(mode, "nearest") == 0) rp->mode = 0;
    else if (strcmp(mode, "linear") == 0) rp->mode = 1;
    else return pp_error_set(err, PP_ERR_UNSUPPORTED, "mode '%s' (supported: nearest, linear)", mode);
    const char *ctm = pp_node_string(n, "coordinate_transformation_mode", "half_pixel");
    if (strcmp(ctm, "half_pixel") == 0) rp->coord = 0;
    else if (strcmp(ctm, "asymmetric") == 0) rp->coord = 1;
    else if (strcmp(ctm, "align_corners") == 0) rp->coord = 2;
    else if (strcmp(ctm, "pytorch_half_pixel") == 0) rp->coord = 3;
    else
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "coordinate_transformation_mode '%s' (supported: half_pixel, "
                            "asymmetric, align_corners, pytorch_half_pixel)",
                            ctm);
    const char *nm = pp_node_string(n, "nearest_mode", "round_prefer_floor");
    if (strcmp(nm, "round_prefer_floor") == 0) rp->nearest = 0;
    else if (strcmp(nm, "round_prefer_ceil") == 0) rp->nearest = 1;
    else if (strcmp(nm, "floor") == 0) rp->nearest = 2;
    else if (strcmp(nm, "ceil") == 0) rp->nearest = 3;
    else
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "nearest_mode '%s' (supported: round_prefer_floor, "
                            "round_prefer_ceil, floor, ceil)",
                            nm);
    const char *policy = pp_node_string(n, "keep_aspect_ratio_policy", "stretch");
    if (strcmp(policy, "stretch") != 0)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "keep_aspect_ratio_policy '%s' (supported: stretch)", policy);

    const pp_attr *sc = pp_node_attr(n, "scales"), *sz = pp_node_attr(n, "sizes");
    /* an empty list stands for an absent one (ONNX passes an empty scales tensor with sizes) */
    if (sc && sc->type == PP_ATTR_FLOATS && sc->count == 0) sc = NULL;
    if (sz && sz->type == PP_ATTR_INTS && sz->count == 0) sz = NULL;
    if (sc && sc->type != PP_ATTR_FLOATS)
        return pp_error_set(err, PP_ERR_SHAPE, "attribute 'scales' is not a float list");
    if (sz && sz->type != PP_ATTR_INTS) return pp_error_set(err, PP_ERR_SHAPE, "attribute 'sizes' is not an int list");
    if (!sc == !sz) return pp_error_set(err, PP_ERR_SHAPE, "exactly one of 'scales' and 'sizes' must be given");
    uint32_t na;
    const int64_t *axes = pp_node_ints(n, "axes", &na);
    const int k = axes ? (int)na : r;
    const uint32_t given = sc ? sc->count : sz->count;
    if ((int)given != k)
        return pp_error_set(err, PP_ERR_SHAPE, "%s has %u entries; expected %d for input 0 %s", sc ? "scales" : "sizes",
                            given, k, SHAPE_STR(&in[0]));
    double scale[PP_MAX_RANK];
    int64_t dims[PP_MAX_RANK];
    for (int d = 0; d < r; d++) {
        scale[d] = 1.0;
        dims[d] = in[0].dims[d];
    }
    int seen[PP_MAX_RANK] = {0};
    for (int i = 0; i < k; i++) {
        int a = axes ? pp_axis_normalize(axes[i], r, "resize axis", err) : i;
        if (a < 0) return PP_ERR_SHAPE;
        if (seen[a]) return pp_error_set(err, PP_ERR_SHAPE, "axis %d is listed twice in axes", a);
        seen[a] = 1;
        const int64_t dim = in[0].dims[a];
        if (sc) {
            const double s = (float)sc->floats[i]; /* ONNX scales are f32 */
            if (!(s > 0.0) || s > 1e6)
                return pp_error_set(err, PP_ERR_SHAPE, "scale %g for axis %d is not positive and finite", s, a);
            scale[a] = s;
            if ((double)dim * s >= (double)PP_MAX_TENSOR_BYTES)
                return pp_error_set(err, PP_ERR_SHAPE, "axis %d: %lld × scale %g is too large", a, (long long)dim, s);
            dims[a] = (int64_t)floor((double)dim * s);
        } else {
            if (sz->ints[i] < 0)
                return pp_error_set(err, PP_ERR_SHAPE, "size %lld for axis %d is negative", (long long)sz->ints[i], a);
            dims[a] = sz->ints[i];
            if (dim == 0 && dims[a] != 0)
                return pp_error_set(err, PP_ERR_SHAPE, "axis %d of input 0 %s is empty; cannot resize it to %lld", a,
                                    SHAPE_STR(&in[0]), (long long)dims[a]);
            scale[a] = dim ? (double)(float)((float)dims[a] / (float)dim) : 1.0;
        }
        if (a < r - 2 && (dims[a] != dim || scale[a] != 1.0))
            return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                "axis %d of input 0 %s would resize (scale %g, extent %lld → %lld); only the two "
                                "innermost axes may",
                                a, SHAPE_STR(&in[0]), scale[a], (long long)dim, (long long)dims[a]);
    }
    if (pp_node_int(n, "antialias", 0) && rp->mode == 1 && (scale[r - 2] < 1.0 || scale[r - 1] < 1.0))
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "antialias with downsampling is not supported");
    if (checked_numel(dims, r) < 0)
        return pp_error_set(err, PP_ERR_SHAPE, "output %s has too many elements", DIMS_STR(dims, r));
    rp->outer = prod(in[0].dims, 0, r - 2);
    rp->ih = in[0].dims[r - 2];
    rp->iw = in[0].dims[r - 1];
    rp->oh = dims[r - 2];
    rp->ow = dims[r - 1];
    rp->scale_h = (float)scale[r - 2];
    rp->scale_w = (float)scale[r - 1];
    rp->fmt = (pp_format){in[0].dtype, in[0].layout, 0};
    set_shape(&out[0], in[0].dtype, r, dims);
    if (in[0].layout == PP_LAYOUT_NHWC) { /* rank 4: (N, H, W, C) stored, C innermost */
        rp->outer = in[0].dims[0];
        rp->c = in[0].dims[1];
        out[0].layout = PP_LAYOUT_NHWC;
    }
    cost_io(cost, in, 1, out, 1, (double)pp_shape_numel(&out[0]) * (rp->mode ? 6.0 : 0.0));
    return PP_OK;
}

/* ---- trilu, fill, d2s, cumsum ----------------------------------------------------------- */

pp_code pp_describe_trilu(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                          pp_op_params *p, pp_cost *cost, pp_error *err) {
    TRY(need_input(in, 0, err));
    const int r = in[0].rank;
    if (r < 2)
        return pp_error_set(err, PP_ERR_SHAPE, "input 0 %s has rank %d; trilu needs rank >= 2", SHAPE_STR(&in[0]), r);
    pp_trilu_params *t = &p->trilu;
    t->elem = pp_dtype_size(in[0].dtype);
    t->batch = prod(in[0].dims, 0, r - 2);
    t->rows = in[0].dims[r - 2];
    t->cols = in[0].dims[r - 1];
    t->k = pp_node_int(ctx->node, "k", 0);
    t->upper = pp_node_int(ctx->node, "upper", 1) != 0;
    set_shape(&out[0], in[0].dtype, r, in[0].dims);
    cost_io(cost, in, 1, out, 1, 0);
    return PP_OK;
}

/* A numeric attribute as the file holds it, for messages: an INT exactly (a
 * double would round INT64_MAX), a FLOAT with %g. buf: 32 bytes. */
static const char *attr_num(const pp_node *n, const char *name, char *buf) {
    const pp_attr *a = pp_node_attr(n, name);
    if (a && a->type == PP_ATTR_INT) snprintf(buf, 32, "%lld", (long long)a->i);
    else snprintf(buf, 32, "%g", pp_node_float(n, name, 0.0));
    return buf;
}

static pp_code fill_dtype(const pp_describe_ctx *ctx, pp_dtype *dt, int range, pp_error *err) {
    int64_t v = pp_node_int(ctx->node, "dtype", PP_DTYPE_F32);
    int ok = v > PP_DTYPE_INVALID && v < PP_DTYPE_COUNT;
    if (range) ok = v == PP_DTYPE_F32 || v == PP_DTYPE_F64 || v == PP_DTYPE_I64 || v == PP_DTYPE_I32;
    if (!ok)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "dtype %lld (%s) is not supported here", (long long)v,
                            v > 0 && v < PP_DTYPE_COUNT ? pp_dtype_name((pp_dtype)v) : "unknown");
    *dt = (pp_dtype)v;
    return PP_OK;
}

pp_code pp_describe_fill(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                         pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    pp_fill_params *f = &p->fill;
    f->op = n->op;
    switch (n->op) {
    case PP_OP_SHAPE: {
        TRY(need_input(in, 0, err));
        const int64_t r = in[0].rank;
        int64_t start = pp_node_int(n, "start", 0), end = pp_node_int(n, "end", r);
        if (start < 0) start += r;
        if (end < 0) end += r;
        start = clamp64(start, 0, r);
        end = clamp64(end, 0, r);
        f->dtype = PP_DTYPE_I64;
        f->count = end > start ? end - start : 0;
        for (int64_t i = 0; i < f->count; i++) f->ivalues[i] = in[0].dims[start + i];
        int64_t d = f->count;
        set_shape(&out[0], PP_DTYPE_I64, 1, &d);
        break;
    }
    case PP_OP_CONSTANT_OF_SHAPE: {
        uint32_t cnt;
        const int64_t *shape = pp_node_ints(n, "shape", &cnt);
        if (!shape) TRY(need_attr(ctx, "shape", PP_ATTR_INTS, err)); /* present but empty: no entries */
        if (cnt > PP_MAX_RANK)
            return pp_error_set(err, PP_ERR_SHAPE, "shape has %u entries (at most %d)", cnt, PP_MAX_RANK);
        TRY(fill_dtype(ctx, &f->dtype, 0, err));
        f->count = checked_numel(shape, (int)cnt);
        if (f->count < 0)
            return pp_error_set(err, PP_ERR_SHAPE, "attribute shape %s has a negative extent or too many elements",
                                DIMS_STR(shape, (int)cnt));
        f->value = pp_node_float(n, "value", 0.0);
        set_shape(&out[0], f->dtype, (int)cnt, shape);
        break;
    }
    case PP_OP_RANGE: {
        if (!pp_node_attr(n, "limit")) return pp_error_set(err, PP_ERR_SHAPE, "missing attribute 'limit'");
        TRY(fill_dtype(ctx, &f->dtype, 1, err));
        double start = pp_node_float(n, "start", 0.0), limit = pp_node_float(n, "limit", 0.0),
               delta = pp_node_float(n, "delta", 1.0);
        if (is_int_dtype(f->dtype)) { /* integer ranges count in integers */
            start = trunc(start);
            limit = trunc(limit);
            delta = trunc(delta);
        }
        char sb[32], lb[32], db[32];
        if (!(delta != 0.0) || !isfinite(start) || !isfinite(limit) || !isfinite(delta))
            return pp_error_set(err, PP_ERR_SHAPE, "attributes start %s, limit %s, delta %s do not make a finite range",
                                attr_num(n, "start", sb), attr_num(n, "limit", lb), attr_num(n, "delta", db));
        double cnt = ceil((limit - start) / delta);
        if (cnt > (double)((int64_t)1 << 40))
            return pp_error_set(err, PP_ERR_SHAPE, "attributes start %s, limit %s, delta %s give %.0f elements",
                                attr_num(n, "start", sb), attr_num(n, "limit", lb), attr_num(n, "delta", db), cnt);
        f->count = cnt > 0 ? (int64_t)cnt : 0;
        f->start = start;
        f->delta = delta;
        set_shape(&out[0], f->dtype, 1, &f->count);
        break;
    }
    default: return pp_error_set(err, PP_ERR_INTERNAL, "not a fill op");
    }
    cost_io(cost, in, n_in, out, 1, 0);
    return PP_OK;
}

pp_code pp_describe_d2s(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                        pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    TRY(need_input(in, 0, err));
    if (in[0].rank != 4)
        return pp_error_set(err, PP_ERR_SHAPE, "input 0 %s is not 4-D (N, C, H, W)", SHAPE_STR(&in[0]));
    TRY(need_attr(ctx, "blocksize", PP_ATTR_INT, err));
    pp_d2s_params *d = &p->d2s;
    const int64_t b = pp_node_int(n, "blocksize", 0);
    if (b < 1 || b > 4096) return pp_error_set(err, PP_ERR_SHAPE, "blocksize %lld is not in [1, 4096]", (long long)b);
    d->op = n->op;
    d->elem = pp_dtype_size(in[0].dtype);
    d->n = in[0].dims[0];
    d->c = in[0].dims[1];
    d->h = in[0].dims[2];
    d->w = in[0].dims[3];
    d->block = b;
    int64_t dims[4] = {d->n, 0, 0, 0};
    if (n->op == PP_OP_DEPTH_TO_SPACE) {
        const char *mode = pp_node_string(n, "mode", "DCR");
        if (strcmp(mode, "DCR") == 0) d->mode = 0;
        else if (strcmp(mode, "CRD") == 0) d->mode = 1;
        else return pp_error_set(err, PP_ERR_UNSUPPORTED, "mode '%s' (supported: DCR, CRD)", mode);
        if (d->c % (b * b) != 0) /* b <= 4096: b² fits */
            return pp_error_set(err, PP_ERR_SHAPE,
                                "axis 1 (C) of input 0 %s has extent %lld, not a multiple of "
                                "blocksize² = %lld",
                                SHAPE_STR(&in[0]), (long long)d->c, (long long)(b * b));
        dims[1] = d->c / (b * b);
        dims[2] = d->h * b;
        dims[3] = d->w * b;
    } else {
        for (int a = 2; a < 4; a++)
            if (in[0].dims[a] % b != 0)
                return pp_error_set(err, PP_ERR_SHAPE,
                                    "axis %d of input 0 %s has extent %lld, not a multiple of "
                                    "blocksize %lld",
                                    a, SHAPE_STR(&in[0]), (long long)in[0].dims[a], (long long)b);
        if (pp_mul_i64(d->c, b * b, &dims[1]))
            return pp_error_set(err, PP_ERR_SHAPE,
                                "attribute blocksize is %lld: axis 1 (C) of input 0 %s times blocksize² overflows",
                                (long long)b, SHAPE_STR(&in[0]));
        dims[2] = d->h / b;
        dims[3] = d->w / b;
    }
    set_shape(&out[0], in[0].dtype, 4, dims);
    cost_io(cost, in, 1, out, 1, 0);
    return PP_OK;
}

pp_code pp_describe_cumsum(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                           pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    TRY(need_input(in, 0, err));
    const pp_dtype dt = in[0].dtype;
    if (dt != PP_DTYPE_F32 && dt != PP_DTYPE_F64 && !is_int_dtype(dt))
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "input 0 has dtype %s; cumsum takes f32, f64, i64 or i32",
                            pp_dtype_name(dt));
    const int r = in[0].rank;
    pp_cumsum_params *c = &p->cumsum;
    int axis = 0;
    if (r > 0) {
        axis = pp_axis_normalize(pp_node_int(n, "axis", 0), r, "axis", err);
        if (axis < 0) return PP_ERR_SHAPE;
    }
    c->dtype = dt;
    c->outer = r ? prod(in[0].dims, 0, axis) : 1;
    c->axis_len = r ? in[0].dims[axis] : 1;
    c->inner = r ? prod(in[0].dims, axis + 1, r) : 1;
    c->exclusive = pp_node_int(n, "exclusive", 0) != 0;
    c->reverse = pp_node_int(n, "reverse", 0) != 0;
    set_shape(&out[0], dt, r, in[0].dims);
    cost_io(cost, in, 1, out, 1, (double)pp_shape_numel(&in[0]));
    return PP_OK;
}
