/* ops_eltwise.c: describe functions for the element-wise ops (unary,
 * binary with broadcasting, WHERE, CAST): shapes and dtypes, the kernel
 * params (kernels/params.h) and the cost. ONNX semantics.
 *
 * Conventions chosen here (the kernels follow them):
 *   MOD:  eltwise.alpha = ONNX `fmod` (0: the divisor's sign, 1: C fmod).
 *   GELU: `approximate` = "tanh" selects the GELU_TANH kernel.
 *   Integer DIV truncates toward zero; division by zero gives 0 (eltwise.c).
 */
#include <math.h>

#include "ops_describe.h"

/* ---- element-wise -------------------------------------------------------------- */

pp_code pp_describe_unary(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                          pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    pp_op op = n->op;
    TRY(need_input(in, 0, err));
    const pp_dtype dt = in[0].dtype;
    int ok;
    const char *want;
    switch (op) {
    case PP_OP_NEG:
    case PP_OP_ABS:
    case PP_OP_SIGN:
        ok = is_float_dtype(dt) || is_int_dtype(dt);
        want = "f32, f16, bf16, i64 or i32";
        break;
    case PP_OP_NOT:
        ok = dt == PP_DTYPE_BOOL;
        want = "bool";
        break;
    default:
        ok = is_float_dtype(dt);
        want = "f32, f16 or bf16";
        break;
    }
    if (!ok)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "input 0 has dtype %s; this op takes %s", pp_dtype_name(dt), want);
    float alpha = 0.f, beta = 0.f;
    switch (op) {
    case PP_OP_CLIP:
        alpha = (float)pp_node_float(n, "min", -INFINITY);
        beta = (float)pp_node_float(n, "max", INFINITY);
        break;
    case PP_OP_LEAKY_RELU: alpha = (float)pp_node_float(n, "alpha", 0.01); break;
    case PP_OP_ELU: alpha = (float)pp_node_float(n, "alpha", 1.0); break;
    case PP_OP_HARDSIGMOID:
        alpha = (float)pp_node_float(n, "alpha", 0.2);
        beta = (float)pp_node_float(n, "beta", 0.5);
        break;
    case PP_OP_SELU:
        alpha = (float)pp_node_float(n, "alpha", 1.67326319217681884765625);
        beta = (float)pp_node_float(n, "gamma", 1.05070102214813232421875);
        break;
    case PP_OP_GELU: {
        const char *approx = pp_node_string(n, "approximate", "none");
        if (strcmp(approx, "tanh") == 0) op = PP_OP_GELU_TANH;
        else if (strcmp(approx, "none") != 0)
            return pp_error_set(err, PP_ERR_UNSUPPORTED, "approximate '%s' is not 'none' or 'tanh'", approx);
    } break;
    default: break;
    }
    set_shape(&out[0], op == PP_OP_NOT ? PP_DTYPE_BOOL : dt, in[0].rank, in[0].dims);
    out[0].layout = in[0].layout; /* walked contiguously: any layout */
    eltwise_flat(&p->eltwise, op, dt, out[0].dtype, &out[0]);
    p->eltwise.alpha = alpha;
    p->eltwise.beta = beta;
    cost_io(cost, in, 1, out, 1, (double)p->eltwise.count);
    return PP_OK;
}

static int is_compare(pp_op op) {
    return op == PP_OP_EQUAL || op == PP_OP_LESS || op == PP_OP_GREATER || op == PP_OP_LESS_EQUAL ||
           op == PP_OP_GREATER_EQUAL;
}

/* Broadcast out over in[0..k) and fill the eltwise strides. */
static pp_code broadcast_inputs(const pp_shape *in, int k, pp_shape *out, pp_eltwise_params *e, pp_error *err) {
    pp_shape acc = in[0];
    for (int i = 1; i < k; i++) {
        char what[320];
        snprintf(what, sizeof what, "input%s %s and input %d %s", i > 1 ? "s 0..1 broadcast to" : " 0", SHAPE_STR(&acc),
                 i, SHAPE_STR(&in[i]));
        pp_shape next;
        TRY(pp_shape_broadcast(&acc, &in[i], &next, what, err));
        next.dtype = acc.dtype;
        acc = next;
    }
    acc.layout = PP_LAYOUT_PLAIN; /* NHWC operands: nhwc_walk */
    acc.block = 0;
    *out = acc;
    e->n_in = k;
    e->rank = acc.rank;
    e->count = pp_shape_numel(&acc);
    for (int d = 0; d < acc.rank; d++) e->dims[d] = acc.dims[d];
    for (int i = 0; i < k; i++) pp_shape_broadcast_strides(&in[i], &acc, e->strides[i]);
    return PP_OK;
}

/* NHWC operands (docs/planner.md): the output is NHWC too and the kernel walks
 * it in (N, H, W, C) order, each operand's strides taken from its own layout (a
 * plain operand of lower rank broadcasts as before). The same kernel runs. */
static pp_code nhwc_walk(const pp_shape *in, int k, pp_shape *out, pp_eltwise_params *e, pp_error *err) {
    int any = 0;
    for (int i = 0; i < k; i++) any |= in[i].layout == PP_LAYOUT_NHWC;
    if (!any) return PP_OK;
    if (out->rank != 4)
        return pp_error_set(err, PP_ERR_SHAPE, "an NHWC input broadcasts to rank %d; NHWC is for rank 4", out->rank);
    static const int perm[4] = {0, 2, 3, 1}; /* (N, H, W, C) as logical axes */
    for (int i = 0; i < k; i++) {
        int64_t st[4];
        if (in[i].layout == PP_LAYOUT_NHWC) {
            const int64_t *d = in[i].dims; /* rank 4, the output's rank */
            int64_t nat[4] = {d[2] * d[3] * d[1], 1, d[3] * d[1], d[1]};
            for (int a = 0; a < 4; a++) st[a] = d[a] == 1 ? 0 : nat[a];
        } else {
            for (int a = 0; a < 4; a++) st[a] = e->strides[i][a];
        }
        for (int a = 0; a < 4; a++) e->strides[i][a] = st[perm[a]];
    }
    int64_t dims[4];
    for (int a = 0; a < 4; a++) dims[a] = out->dims[perm[a]];
    for (int a = 0; a < 4; a++) e->dims[a] = dims[a];
    out->layout = PP_LAYOUT_NHWC;
    return PP_OK;
}

pp_code pp_describe_binary(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                           pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_node *n = ctx->node;
    const pp_op op = n->op;
    TRY(need_input(in, 0, err));
    TRY(need_input(in, 1, err));
    const pp_dtype a = in[0].dtype, b = in[1].dtype;
    if (a != b)
        return pp_error_set(err, PP_ERR_SHAPE, "input 0 is %s and input 1 is %s; both must have the same dtype",
                            pp_dtype_name(a), pp_dtype_name(b));
    int ok;
    const char *want;
    if (is_compare(op)) {
        ok = is_float_dtype(a) || is_int_dtype(a) || a == PP_DTYPE_BOOL;
        want = "f32, f16, bf16, i64, i32 or bool";
    } else if (op == PP_OP_AND || op == PP_OP_OR || op == PP_OP_XOR) {
        ok = a == PP_DTYPE_BOOL;
        want = "bool";
    } else if (op == PP_OP_PRELU) {
        ok = is_float_dtype(a);
        want = "f32, f16 or bf16";
    } else {
        ok = is_float_dtype(a) || is_int_dtype(a);
        want = "f32, f16, bf16, i64 or i32";
    }
    if (!ok)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "inputs have dtype %s; this op takes %s", pp_dtype_name(a), want);
    pp_eltwise_params *e = &p->eltwise;
    TRY(broadcast_inputs(in, 2, &out[0], e, err));
    if (op == PP_OP_PRELU) {
        /* the slope broadcasts to x, never x to the slope */
        int same = out[0].rank == in[0].rank;
        for (int d = 0; same && d < in[0].rank; d++) same = out[0].dims[d] == in[0].dims[d];
        if (!same)
            return pp_error_set(err, PP_ERR_SHAPE, "slope (input 1) %s does not broadcast to x (input 0) %s",
                                SHAPE_STR(&in[1]), SHAPE_STR(&in[0]));
    }
    TRY(nhwc_walk(in, 2, &out[0], e, err));
    out[0].dtype = is_compare(op) ? PP_DTYPE_BOOL : a;
    e->op = op;
    e->dtype = a;
    e->out_dtype = out[0].dtype;
    if (op == PP_OP_MOD) e->alpha = pp_node_int(n, "fmod", 0) != 0 ? 1.f : 0.f;
    cost_io(cost, in, 2, out, 1, (double)e->count);
    return PP_OK;
}

pp_code pp_describe_where(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                          pp_op_params *p, pp_cost *cost, pp_error *err) {
    for (int i = 0; i < 3; i++) TRY(need_input(in, i, err));
    if (in[0].dtype != PP_DTYPE_BOOL)
        return pp_error_set(err, PP_ERR_SHAPE, "condition (input 0) has dtype %s, expected bool",
                            pp_dtype_name(in[0].dtype));
    if (in[1].dtype != in[2].dtype)
        return pp_error_set(err, PP_ERR_SHAPE, "input 1 is %s and input 2 is %s; both must have the same dtype",
                            pp_dtype_name(in[1].dtype), pp_dtype_name(in[2].dtype));
    size_t es = pp_dtype_size(in[1].dtype);
    if (es != 1 && es != 2 && es != 4 && es != 8)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "inputs 1 and 2 have dtype %s", pp_dtype_name(in[1].dtype));
    pp_eltwise_params *e = &p->eltwise;
    TRY(broadcast_inputs(in, 3, &out[0], e, err));
    out[0].dtype = in[1].dtype;
    e->op = PP_OP_WHERE;
    e->dtype = e->out_dtype = in[1].dtype;
    cost_io(cost, in, 3, out, 1, (double)e->count);
    return PP_OK;
}

pp_code pp_describe_cast(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                         pp_op_params *p, pp_cost *cost, pp_error *err) {
    TRY(need_input(in, 0, err));
    TRY(need_attr(ctx, "to", PP_ATTR_INT, err));
    int64_t to = pp_node_int(ctx->node, "to", 0);
    if (to <= PP_DTYPE_INVALID || to >= PP_DTYPE_COUNT)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "'to' = %lld is not a known dtype", (long long)to);
    set_shape(&out[0], (pp_dtype)to, in[0].rank, in[0].dims);
    eltwise_flat(&p->eltwise, PP_OP_CAST, in[0].dtype, (pp_dtype)to, &out[0]);
    cost_io(cost, in, 1, out, 1, (double)p->eltwise.count);
    return PP_OK;
}
