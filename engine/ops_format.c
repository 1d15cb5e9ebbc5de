/* ops_format.c: REFORMAT, the conversion the layout planner inserts (formats.h).
 *
 * Attributes: "dtype" (the target pp_dtype), "layout" (the target pp_layout) and
 * "block" (NCHWC: channels per block). The logical dims never change.
 */
#include "ops.h"

static int float_type(pp_dtype t) { return t == PP_DTYPE_F32 || t == PP_DTYPE_F16 || t == PP_DTYPE_BF16; }

static pp_code check_format(const pp_shape *s, pp_dtype dtype, pp_layout layout, int block, const char *what,
                            pp_error *err) {
    if (layout != PP_LAYOUT_PLAIN && layout != PP_LAYOUT_NHWC && layout != PP_LAYOUT_NCHWC)
        return pp_error_set(err, PP_ERR_FORMAT, "%s layout %d is not plain, NHWC or NCHWc", what, (int)layout);
    if (layout != PP_LAYOUT_PLAIN && s->rank != 4)
        return pp_error_set(err, PP_ERR_SHAPE, "%s layout %s needs a rank-4 tensor, not rank %d", what,
                            layout == PP_LAYOUT_NHWC ? "NHWC" : "NCHWc", s->rank);
    if (layout == PP_LAYOUT_NCHWC && block != 4 && block != 8 && block != 16)
        return pp_error_set(err, PP_ERR_FORMAT, "%s NCHWc block %d is not 4, 8 or 16", what, block);
    if (layout != PP_LAYOUT_NCHWC && block != 0)
        return pp_error_set(err, PP_ERR_FORMAT, "%s block %d given for a layout without blocks", what, block);
    (void)dtype;
    return PP_OK;
}

pp_code pp_describe_reformat(const pp_describe_ctx *ctx, const pp_shape *in, int n_in, pp_shape *out, int n_out,
                             pp_op_params *p, pp_cost *cost, pp_error *err) {
    const pp_shape *x = &in[0];
    int64_t dt = pp_node_int(ctx->node, "dtype", x->dtype);
    int64_t layout = pp_node_int(ctx->node, "layout", PP_LAYOUT_PLAIN);
    int64_t block = pp_node_int(ctx->node, "block", 0);
    if (dt <= PP_DTYPE_INVALID || dt >= PP_DTYPE_COUNT)
        return pp_error_set(err, PP_ERR_FORMAT, "attribute dtype = %lld is not a dtype", (long long)dt);
    if (layout < 0 || layout > PP_LAYOUT_NCHWC || block < 0 || block > 16)
        return pp_error_set(err, PP_ERR_FORMAT, "attributes layout = %lld, block = %lld name no layout",
                            (long long)layout, (long long)block);
    if ((pp_dtype)dt != x->dtype && !(float_type((pp_dtype)dt) && float_type(x->dtype)))
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "converts only between f32, f16 and bf16, not %s to %s",
                            pp_dtype_name(x->dtype), pp_dtype_name((pp_dtype)dt));
    pp_code rc = check_format(x, x->dtype, x->layout, x->block, "input", err);
    if (!rc) rc = check_format(x, (pp_dtype)dt, (pp_layout)layout, (int)block, "output", err);
    if (rc) return rc;
    out[0] = *x;
    out[0].dtype = (pp_dtype)dt;
    out[0].layout = (pp_layout)layout;
    out[0].block = (int)block;
    pp_reformat_params *r = &p->reformat;
    r->from = (pp_format){x->dtype, x->layout, x->block};
    r->to = (pp_format){(pp_dtype)dt, (pp_layout)layout, (int)block};
    r->count = pp_shape_numel(x);
    if (x->rank == 4) {
        r->n = x->dims[0];
        r->c = x->dims[1];
        r->h = x->dims[2];
        r->w = x->dims[3];
    } else {
        r->n = r->count;
        r->c = r->h = r->w = 1;
    }
    cost->bytes = (double)r->count * (double)(pp_dtype_size(x->dtype) + pp_dtype_size((pp_dtype)dt));
    (void)n_in;
    (void)n_out;
    return PP_OK;
}
