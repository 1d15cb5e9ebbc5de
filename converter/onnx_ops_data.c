/* onnx_ops_data.c: the data-movement ONNX ops (Identity, Reshape, Transpose,
 * Concat, Split, Slice, Gather, Squeeze, Expand, Tile, Pad, Resize, Range,
 * ConstantOfShape, ...): one handler each, named in onnx_ops.c's table. Their
 * parameters may be shape values (converter/symval.h): they become attributes
 * holding shape program values (docs/ir.md), or the constant forms they reduce
 * to (Reshape's 0 and -1, Expand's 1, Slice's "to the end"). */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../loader/checked.h"
#include "onnx_internal.h"

/* Identity and Dropout (inference: the identity). The output becomes another
 * name for the input, except where it is a graph output (which keeps its name
 * through an IDENTITY node). */
pp_code ox_op_identity(ox_nctx *c, pp_op op) {
    if (strcmp(c->n->op_type, "Dropout") == 0) {
        if (c->n->n_out > 1 && *c->n->out[1] && ox_is_consumed(c->x, c->n->out[1])) {
            /* The mask keeps everything at inference: all true, known when the
             * shape is. */
            const pp_tensor *t =
                ox_has_in(c, 0) && c->in[0]->kind == OX_TENSOR ? ox_shape_of(c, c->in[0]->tensor) : NULL;
            if (!t) return c->rc ? c->rc : ox_fail(c, PP_ERR_UNSUPPORTED, "the mask of a shape value");
            size_t numel;
            if (ox_elements(c, t, "output 1 (mask)", &numel)) return c->rc;
            unsigned char *ones = ox_alloc(c->x, numel ? numel : 1);
            if (!ones) return ox_keep(c, PP_ERR_NOMEM);
            memset(ones, 1, numel);
            int id =
                pp_graph_add_weight(c->x->g, c->n->out[1], PP_DTYPE_BOOL, t->rank, t->dims, ones, numel, c->x->err);
            if (id < 0 || ox_keep(c, ox_bind_tensor(c->x, c->n->out[1], id))) return ox_keep(c, c->x->err->code);
        }
        if (ox_opset(c) >= 12 && ox_has_in(c, 2)) {
            double tm = 0;
            if (ox_param_scalar(c, 2, "training_mode", &tm) < 0) return c->rc;
            double ratio = 0.5;
            if (tm != 0 && ox_has_in(c, 1) && ox_param_scalar(c, 1, "ratio", &ratio) < 0) return c->rc;
            /* Training mode with ratio 0 drops nothing (torchvision's Swin
             * exports that): the identity still. */
            if (tm != 0 && ratio != 0) return ox_fail(c, PP_ERR_UNSUPPORTED, "training_mode=true");
        }
    }
    if (!ox_has_in(c, 0)) return ox_fail(c, PP_ERR_FORMAT, "input 0 is required but absent");
    const char *out = c->n->n_out ? c->n->out[0] : "";
    if (!*out) return c->rc;
    int is_graph_output = 0;
    for (int i = 0; i < c->x->n_outputs; i++)
        if (strcmp(c->x->outputs[i].name, out) == 0) is_graph_output = 1;
    ox_value *v = c->in[0];
    if (!is_graph_output) {
        if (v->kind == OX_SYM) return ox_keep(c, ox_bind_sym(c->x, out, &v->sym));
        return ox_keep(c, ox_bind_tensor(c->x, out, v->tensor));
    }
    int x = ox_data_in(c, 0);
    int y = ox_out_t(c, 0);
    ox_emit(c, PP_OP_IDENTITY, 1, &x, 1, &y);
    return c->rc;
}

pp_code ox_op_flatten(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "input");
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_FLATTEN, 1, &x, 1, &y);
    ox_seti(c, nd, "axis", ox_attr_i(c, "axis", 1));
    return c->rc;
}

pp_code ox_op_reshape(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "data");
    int64_t allowzero = ox_attr_i(c, "allowzero", 0);
    if (ox_has_in(c, 1) && c->in[1]->kind == OX_SYM) {
        /* A target shape that depends on the symbols: an element equal to the
         * input's extent on the same axis copies it (0); a single other symbolic
         * element is inferred (-1); what remains are shape program values. */
        pp_symval s = c->in[1]->sym;
        const pp_tensor *t = ox_shape_of(c, x);
        if (!t) return c->rc;
        if (s.rank != 1) return ox_fail(c, PP_ERR_SHAPE, "shape input of rank %d", s.rank);
        int infer = 0, open = 0;
        for (int d = 0; d < s.n; d++) {
            pp_sx e = s.e[d], here;
            if (e.slot < 0) {
                infer |= e.v == -1;
                continue;
            }
            if (!allowzero && d < t->rank && t->dims[d] < 0 &&
                !ox_keep(c, pp_symtab_dim(&c->x->g->sym, t->dims[d], &here, c->x->err)) && here.slot == e.slot)
                s.e[d] = pp_sx_const(0);
            else open++;
        }
        if (c->rc) return c->rc;
        for (int d = 0; d < s.n && open == 1 && !infer; d++)
            if (s.e[d].slot >= 0) s.e[d] = pp_sx_const(-1);
        int y = ox_out_t(c, 0);
        int nd = ox_emit(c, PP_OP_RESHAPE, 1, &x, 1, &y);
        ox_setis_sx(c, nd, "shape", s.e, (size_t)s.n);
        ox_seti(c, nd, "allowzero", allowzero);
        return c->rc;
    }
    int64_t *shape;
    size_t n;
    int r;
    if (ox_opset(c) < 5) {
        /* Reshape-1 takes the shape as an attribute. */
        shape = (int64_t *)ox_attr_ints(c, "shape", &n);
        r = shape ? 1 : 0;
    } else {
        r = ox_param_ints(c, 1, "shape", &shape, &n);
    }
    if (r < 0) return c->rc;
    if (r == 0) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 1 (shape) is required but absent");
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_RESHAPE, 1, &x, 1, &y);
    ox_setis(c, nd, "shape", shape, n);
    ox_seti(c, nd, "allowzero", allowzero);
    return c->rc;
}

pp_code ox_op_transpose(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "data");
    size_t n;
    const int64_t *perm = ox_attr_ints(c, "perm", &n);
    int64_t def[PP_MAX_RANK];
    if (!perm) {
        const pp_tensor *t = ox_shape_of(c, x);
        if (!t) return c->rc;
        for (int d = 0; d < t->rank; d++) def[d] = t->rank - 1 - d;
        perm = def;
        n = (size_t)t->rank;
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_TRANSPOSE, 1, &x, 1, &y);
    ox_setis(c, nd, "perm", perm, n);
    return c->rc;
}

pp_code ox_op_concat(ox_nctx *c, pp_op op) {
    int in[PP_MAX_IO];
    int n = 0;
    for (int i = 0; i < c->n_in; i++)
        if (ox_has_in(c, i)) in[n++] = ox_data_in(c, i);
    if (!n) return ox_fail(c, PP_ERR_FORMAT, "no inputs");
    const ox_attr *a = ox_attr_of(c, "axis", OX_ATTR_INT, "INT");
    if (!a && (c->rc || ox_opset(c) >= 4))
        return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "attribute axis is required");
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_CONCAT, n, in, 1, &y);
    ox_seti(c, nd, "axis", a ? a->i : 1); /* Concat-1 defaults to axis 1 */
    return c->rc;
}

pp_code ox_op_split(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "input");
    pp_sx *split = NULL;
    size_t ns = 0;
    if (ox_opset(c) >= 13) {
        if (ox_param_sx(c, 1, "split", &split, &ns) < 0) return c->rc;
    } else {
        const int64_t *a = ox_attr_ints(c, "split", &ns);
        if (ns && !(split = ox_alloc(c->x, sizeof(pp_sx) * ns))) return ox_keep(c, PP_ERR_NOMEM);
        for (size_t k = 0; k < ns; k++) split[k] = pp_sx_const(a[k]);
    }
    int n_out = c->n->n_out;
    if (n_out < 1) return ox_fail(c, PP_ERR_FORMAT, "no outputs");
    if (split && ns && ns != (size_t)n_out)
        return ox_fail(c, PP_ERR_SHAPE, "split has %zu values for %d outputs", ns, n_out);
    int outs[PP_MAX_IO];
    for (int j = 0; j < n_out; j++) outs[j] = ox_out_t(c, j);
    int nd = ox_emit(c, PP_OP_SPLIT, 1, &x, n_out, outs);
    ox_seti(c, nd, "axis", ox_attr_i(c, "axis", 0));
    if (split && ns) ox_setis_sx(c, nd, "split", split, ns);
    else ox_seti(c, nd, "num_outputs", ox_attr_i(c, "num_outputs", n_out));
    return c->rc;
}

/* Slice's parameters: starts, ends and steps may depend on the symbols, axes
 * are constant. An end that is the axis' own symbolic extent means "to the end". */
pp_code ox_op_slice(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "data");
    pp_sx *starts = NULL, *ends = NULL, *steps = NULL;
    int64_t *axes = NULL;
    size_t ns = 0, ne = 0, na = 0, nst = 0;
    if (ox_opset(c) < 10) {
        const int64_t *a[3];
        size_t n[3];
        static const char *names[3] = {"starts", "ends", "axes"};
        for (int k = 0; k < 3; k++) a[k] = ox_attr_ints(c, names[k], &n[k]);
        if (!a[0] || !a[1]) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "attributes starts and ends are required");
        starts = ox_alloc(c->x, sizeof(pp_sx) * (n[0] + 1));
        ends = ox_alloc(c->x, sizeof(pp_sx) * (n[1] + 1));
        if (!starts || !ends) return ox_keep(c, PP_ERR_NOMEM);
        for (size_t k = 0; k < n[0]; k++) starts[k] = pp_sx_const(a[0][k]);
        for (size_t k = 0; k < n[1]; k++) ends[k] = pp_sx_const(a[1][k]);
        ns = n[0];
        ne = n[1];
        axes = (int64_t *)a[2];
        na = n[2];
    } else {
        if (ox_param_sx(c, 1, "starts", &starts, &ns) <= 0)
            return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 1 (starts) is required");
        if (ox_param_sx(c, 2, "ends", &ends, &ne) <= 0)
            return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 2 (ends) is required");
        if (ox_param_ints(c, 3, "axes", &axes, &na) < 0) return c->rc;
        if (ox_param_sx(c, 4, "steps", &steps, &nst) < 0) return c->rc;
    }
    if (ns != ne || (axes && na != ns) || (steps && nst != ns))
        return ox_fail(c, PP_ERR_SHAPE, "starts, ends, axes and steps have %zu, %zu, %zu and %zu values", ns, ne,
                       axes ? na : ns, steps ? nst : ns);
    int64_t *def_axes = ox_alloc(c->x, sizeof(int64_t) * (ns + 1));
    pp_sx *def_steps = ox_alloc(c->x, sizeof(pp_sx) * (ns + 1));
    if (!def_axes || !def_steps) return ox_keep(c, PP_ERR_NOMEM);
    for (size_t i = 0; i < ns; i++) {
        def_axes[i] = (int64_t)i;
        def_steps[i] = pp_sx_const(1);
    }
    if (!axes) axes = def_axes;
    const pp_tensor *t = NULL;
    for (size_t i = 0; i < ne; i++) {
        if (ends[i].slot < 0) continue;
        if (!t && !(t = ox_shape_of(c, x))) return c->rc;
        int64_t a = axes[i] < 0 ? axes[i] + t->rank : axes[i];
        pp_sx ext;
        if (a >= 0 && a < t->rank && t->dims[a] < 0 &&
            !ox_keep(c, pp_symtab_dim(&c->x->g->sym, t->dims[a], &ext, c->x->err)) && ext.slot == ends[i].slot)
            ends[i] = pp_sx_const(INT64_MAX);
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_SLICE, 1, &x, 1, &y);
    ox_setis_sx(c, nd, "starts", starts, ns);
    ox_setis_sx(c, nd, "ends", ends, ns);
    ox_setis(c, nd, "axes", axes, ns);
    ox_setis_sx(c, nd, "steps", steps ? steps : def_steps, ns);
    return c->rc;
}

pp_code ox_op_gather(ox_nctx *c, pp_op op) {
    int in[2] = {ox_need_in(c, 0, "data"), ox_need_in(c, 1, "indices")};
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, op, 2, in, 1, &y);
    ox_seti(c, nd, "axis", ox_attr_i(c, "axis", 0));
    return c->rc;
}

pp_code ox_op_squeeze(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "data");
    const int64_t *axes = NULL;
    size_t na = 0;
    if (ox_opset(c) >= 13) {
        int64_t *v;
        if (ox_param_ints(c, 1, "axes", &v, &na) < 0) return c->rc;
        axes = v;
    } else {
        axes = ox_attr_ints(c, "axes", &na);
    }
    int64_t all[PP_MAX_RANK];
    if (op == PP_OP_UNSQUEEZE && !axes) return ox_fail(c, PP_ERR_FORMAT, "axes are required");
    if (op == PP_OP_SQUEEZE && (!axes || !na)) {
        /* Every axis of extent 1; a batch axis is never one of them. */
        const pp_tensor *t = ox_shape_of(c, x);
        if (!t) return c->rc;
        na = 0;
        for (int d = 0; d < t->rank; d++)
            if (t->dims[d] == 1) all[na++] = d;
        axes = all;
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, op, 1, &x, 1, &y);
    ox_setis(c, nd, "axes", axes, na);
    return c->rc;
}

pp_code ox_op_expand(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "input");
    pp_sx *shape;
    size_t n;
    int r = ox_param_sx(c, 1, "shape", &shape, &n);
    if (r <= 0) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 1 (shape) is required");
    /* A symbolic element equal to the input's extent on the aligned axis is 1
     * (broadcasting keeps the extent); the others stay shape program values. */
    const pp_tensor *t = NULL;
    for (size_t d = 0; d < n; d++) {
        if (shape[d].slot < 0) continue;
        if (!t && !(t = ox_shape_of(c, x))) return c->rc;
        int64_t a = (int64_t)d - ((int64_t)n - t->rank);
        pp_sx ext;
        if (a >= 0 && t->dims[a] < 0 && !ox_keep(c, pp_symtab_dim(&c->x->g->sym, t->dims[a], &ext, c->x->err)) &&
            ext.slot == shape[d].slot)
            shape[d] = pp_sx_const(1);
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_EXPAND, 1, &x, 1, &y);
    ox_setis_sx(c, nd, "shape", shape, n);
    return c->rc;
}

pp_code ox_op_tile(ox_nctx *c, pp_op op) {
    if (ox_opset(c) < 6) return ox_fail(c, PP_ERR_UNSUPPORTED, "Tile before opset 6 (tiles and axis inputs)");
    int x = ox_need_in(c, 0, "input");
    pp_sx *rep;
    size_t n;
    int r = ox_param_sx(c, 1, "repeats", &rep, &n);
    if (r <= 0) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 1 (repeats) is required");
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_TILE, 1, &x, 1, &y);
    ox_setis_sx(c, nd, "repeats", rep, n);
    return c->rc;
}

pp_code ox_op_pad(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "data");
    const char *mode = ox_attr_s(c, "mode", "constant");
    pp_sx *pads = NULL;
    size_t np = 0;
    double value = 0.0;
    int64_t *axes = NULL;
    size_t na = 0;
    if (ox_opset(c) < 11) {
        const int64_t *a = ox_attr_ints(c, "pads", &np);
        if (!a) a = ox_attr_ints(c, "paddings", &np);
        if (a && !(pads = ox_alloc(c->x, sizeof(pp_sx) * (np + 1)))) return ox_keep(c, PP_ERR_NOMEM);
        for (size_t k = 0; a && k < np; k++) pads[k] = pp_sx_const(a[k]);
        value = ox_attr_f(c, "value", 0.0);
    } else {
        if (ox_param_sx(c, 1, "pads", &pads, &np) <= 0)
            return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 1 (pads) is required");
        if (ox_has_in(c, 2) && ox_param_scalar(c, 2, "constant_value", &value) < 0) return c->rc;
        if (ox_has_in(c, 3) && ox_param_ints(c, 3, "axes", &axes, &na) < 0) return c->rc;
    }
    if (!pads) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "pads are required");
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_PAD, 1, &x, 1, &y);
    ox_setis_sx(c, nd, "pads", pads, np);
    ox_setf(c, nd, "value", value);
    ox_sets(c, nd, "mode", mode);
    if (axes && na) ox_setis(c, nd, "axes", axes, na);
    return c->rc;
}

pp_code ox_op_resize(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "X");
    int upsample = strcmp(c->n->op_type, "Upsample") == 0;
    if (upsample && ox_opset(c) < 7)
        return ox_fail(c, PP_ERR_UNSUPPORTED, "Upsample before opset 7 (experimental form)");
    const char *mode = ox_attr_s(c, "mode", "nearest");
    const char *coord = "half_pixel", *nearest = "round_prefer_floor";
    double *scales = NULL;
    pp_sx *sizes = NULL;
    size_t nsc = 0, nsz = 0;
    if (upsample || ox_opset(c) < 11) {
        /* Upsample and Resize-10: output(x) = input(floor(x / scale)). */
        coord = "asymmetric";
        nearest = "floor";
        if (strcmp(mode, "bilinear") == 0) mode = "linear";
        if (upsample && ox_opset(c) < 9) {
            size_t n;
            const float *f = ox_attr_floats(c, "scales", &n);
            if (!f) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "attribute scales is required");
            scales = ox_alloc(c->x, sizeof(double) * (n + 1));
            if (!scales) return ox_keep(c, PP_ERR_NOMEM);
            for (size_t i = 0; i < n; i++) scales[i] = f[i];
            nsc = n;
        } else if (ox_param_floats(c, 1, "scales", &scales, &nsc) <= 0) {
            return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 1 (scales) is required");
        }
    } else {
        coord = ox_attr_s(c, "coordinate_transformation_mode", "half_pixel");
        nearest = ox_attr_s(c, "nearest_mode", "round_prefer_floor");
        if (strcmp(coord, "tf_crop_and_resize") == 0)
            return ox_fail(c, PP_ERR_UNSUPPORTED, "coordinate_transformation_mode tf_crop_and_resize");
        if (ox_has_in(c, 2) && ox_param_floats(c, 2, "scales", &scales, &nsc) < 0) return c->rc;
        if (ox_has_in(c, 3) && ox_param_sx(c, 3, "sizes", &sizes, &nsz) < 0) return c->rc;
        if (!nsc) scales = NULL;
        if (!nsz) sizes = NULL;
        if (!scales && !sizes) return ox_fail(c, PP_ERR_FORMAT, "neither scales nor sizes is given");
        if (ox_attr_i(c, "exclude_outside", 0)) return ox_fail(c, PP_ERR_UNSUPPORTED, "exclude_outside=1");
    }
    if (strcmp(mode, "nearest") != 0 && strcmp(mode, "linear") != 0)
        return ox_fail(c, PP_ERR_UNSUPPORTED, "mode '%s' (nearest and linear are supported)", mode);
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_RESIZE, 1, &x, 1, &y);
    ox_sets(c, nd, "mode", mode);
    ox_sets(c, nd, "coordinate_transformation_mode", coord);
    ox_sets(c, nd, "nearest_mode", nearest);
    if (scales) ox_setfs(c, nd, "scales", scales, nsc);
    if (sizes) ox_setis_sx(c, nd, "sizes", sizes, nsz);
    if (!upsample && ox_opset(c) >= 18) {
        ox_copy_ints(c, nd, "axes");
        ox_sets(c, nd, "keep_aspect_ratio_policy", ox_attr_s(c, "keep_aspect_ratio_policy", "stretch"));
        ox_seti(c, nd, "antialias", ox_attr_i(c, "antialias", 0));
    }
    return c->rc;
}

pp_code ox_op_trilu(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "input");
    pp_sx k = pp_sx_const(0);
    if (ox_has_in(c, 1) && c->in[1]->kind == OX_SYM) {
        if (c->in[1]->sym.n != 1) return ox_fail(c, PP_ERR_SHAPE, "input 1 (k) has %d elements", c->in[1]->sym.n);
        k = c->in[1]->sym.e[0];
    } else {
        double kd = 0;
        if (ox_has_in(c, 1) && ox_param_scalar(c, 1, "k", &kd) < 0) return c->rc;
        k = pp_sx_const((int64_t)kd);
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_TRILU, 1, &x, 1, &y);
    ox_seti_sx(c, nd, "k", k);
    ox_seti(c, nd, "upper", ox_attr_i(c, "upper", 1));
    return c->rc;
}

pp_code ox_op_constant_of_shape(ox_nctx *c, pp_op op) {
    pp_sx *shape;
    size_t n;
    if (ox_has_in(c, 0) && c->in[0]->kind == OX_SYM && c->in[0]->sym.rank != 1)
        return ox_fail(c, PP_ERR_SHAPE, "input 0 (shape) is a scalar");
    int r = ox_param_sx(c, 0, "input", &shape, &n);
    if (r <= 0) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 0 (shape) is required");
    pp_dtype dt = PP_DTYPE_F32;
    double value = 0.0;
    const ox_attr *a = ox_attr_of(c, "value", OX_ATTR_TENSOR, "TENSOR");
    if (c->rc) return c->rc;
    if (a && a->t) {
        int w = ox_tensor_to_weight(c->x, a->t, ox_printf(c->x, "%s/value", c->name));
        if (w < 0) return ox_keep(c, c->x->err->code);
        const pp_tensor *t = &c->x->g->tensors[w];
        size_t numel;
        if (ox_elements(c, t, "attribute value", &numel)) return c->rc;
        if (numel != 1) return ox_fail(c, PP_ERR_SHAPE, "attribute value has %zu elements, expected one", numel);
        dt = t->dtype;
        ox_value tmp = {"value", OX_TENSOR, w, {0}};
        ox_value *saved = c->in[0];
        int saved_n = c->n_in;
        c->in[0] = &tmp;
        c->n_in = 1;
        double *v;
        size_t nv;
        pp_code rc = ox_const_values(c, 0, "value", &v, &nv);
        c->in[0] = saved;
        c->n_in = saved_n;
        if (rc) return rc;
        value = v[0];
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_CONSTANT_OF_SHAPE, 0, NULL, 1, &y);
    ox_setis_sx(c, nd, "shape", shape, n);
    ox_setf(c, nd, "value", value);
    ox_seti(c, nd, "dtype", dt);
    return c->rc;
}

/* Range with a bound that depends on the symbols (torch's arange(seq), the
 * dynamo exporter's Range(N)·stride for views): integer attributes that are
 * shape program values, in the start's type. */
static pp_code range_symbolic(ox_nctx *c, const char *const *role) {
    pp_sx e[3];
    pp_dtype dt = PP_DTYPE_I64;
    for (int i = 0; i < 3; i++) {
        pp_symval s;
        if (ox_sym_in(c, i, &s)) return c->rc;
        if (s.n != 1) return ox_fail(c, PP_ERR_SHAPE, "input %d (%s) has %d elements, expected one", i, role[i], s.n);
        e[i] = s.e[0];
        if (i == 0) dt = s.dtype;
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_RANGE, 0, NULL, 1, &y);
    for (int i = 0; i < 3; i++) ox_seti_sx(c, nd, role[i], e[i]);
    ox_seti(c, nd, "dtype", dt);
    return c->rc;
}

pp_code ox_op_range(ox_nctx *c, pp_op op) {
    double v[3];
    int64_t iv[3];
    static const char *role[3] = {"start", "limit", "delta"};
    for (int i = 0; i < 3; i++)
        if (ox_has_in(c, i) && c->in[i]->kind == OX_SYM) return range_symbolic(c, role);
    const pp_tensor *t = ox_tensor_of(c, 0);
    /* Integer ranges stay integers: INT64_MAX as a double is 2^63. */
    int exact = t && (t->dtype == PP_DTYPE_I64 || t->dtype == PP_DTYPE_I32);
    for (int i = 0; i < 3; i++) {
        int64_t *ints;
        size_t n = 1;
        int r = exact ? ox_param_ints(c, i, role[i], &ints, &n) : ox_param_scalar(c, i, role[i], &v[i]);
        if (r < 0) return c->rc;
        if (r == 0) return ox_fail(c, PP_ERR_FORMAT, "input %d (%s) is required", i, role[i]);
        if (n != 1) return ox_fail(c, PP_ERR_SHAPE, "input %d (%s) has %zu elements, expected one", i, role[i], n);
        if (exact) iv[i] = ints[0];
    }
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_RANGE, 0, NULL, 1, &y);
    for (int i = 0; i < 3; i++) {
        if (exact) ox_seti(c, nd, role[i], iv[i]);
        else ox_setf(c, nd, role[i], v[i]);
    }
    ox_seti(c, nd, "dtype", t ? t->dtype : PP_DTYPE_F32);
    return c->rc;
}

pp_code ox_op_d2s(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "input");
    const ox_attr *b = ox_attr_of(c, "blocksize", OX_ATTR_INT, "INT");
    if (!b) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "attribute blocksize is required");
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, op, 1, &x, 1, &y);
    ox_seti(c, nd, "blocksize", b->i);
    if (op == PP_OP_DEPTH_TO_SPACE) ox_sets(c, nd, "mode", ox_attr_s(c, "mode", "DCR"));
    return c->rc;
}

pp_code ox_op_cumsum(ox_nctx *c, pp_op op) {
    int x = ox_need_in(c, 0, "x");
    double axis;
    int r = ox_param_scalar(c, 1, "axis", &axis);
    if (r <= 0) return c->rc ? c->rc : ox_fail(c, PP_ERR_FORMAT, "input 1 (axis) is required");
    int y = ox_out_t(c, 0);
    int nd = ox_emit(c, PP_OP_CUMSUM, 1, &x, 1, &y);
    ox_seti(c, nd, "axis", (int64_t)axis);
    ox_seti(c, nd, "exclusive", ox_attr_i(c, "exclusive", 0));
    ox_seti(c, nd, "reverse", ox_attr_i(c, "reverse", 0));
    return c->rc;
}

pp_code ox_op_constant(ox_nctx *c, pp_op op) {
    const char *out = c->n->n_out ? c->n->out[0] : "";
    if (!*out) return ox_fail(c, PP_ERR_FORMAT, "no output");
    if (c->n->n_attrs != 1)
        return ox_fail(c, PP_ERR_FORMAT, "%d attributes, expected exactly one value", c->n->n_attrs);
    const ox_attr *a = &c->n->attrs[0];
    int id = -1;
    if (strcmp(a->name, "value") == 0 && a->type == OX_ATTR_TENSOR && a->t) {
        id = ox_tensor_to_weight(c->x, a->t, out);
        if (id < 0) return ox_keep(c, c->x->err->code);
    } else if (strcmp(a->name, "value_float") == 0 && a->type == OX_ATTR_FLOAT) {
        float f = a->f;
        id = pp_graph_add_weight(c->x->g, out, PP_DTYPE_F32, 0, NULL, &f, 4, c->x->err);
    } else if (strcmp(a->name, "value_int") == 0 && a->type == OX_ATTR_INT) {
        id = pp_graph_add_weight(c->x->g, out, PP_DTYPE_I64, 0, NULL, &a->i, 8, c->x->err);
    } else if (strcmp(a->name, "value_floats") == 0 && a->type == OX_ATTR_FLOATS) {
        int64_t d = (int64_t)a->n_floats;
        id = pp_graph_add_weight(c->x->g, out, PP_DTYPE_F32, 1, &d, a->floats ? (const void *)a->floats : "",
                                 4 * a->n_floats, c->x->err);
    } else if (strcmp(a->name, "value_ints") == 0 && a->type == OX_ATTR_INTS) {
        int64_t d = (int64_t)a->n_ints;
        id = pp_graph_add_weight(c->x->g, out, PP_DTYPE_I64, 1, &d, a->ints ? (const void *)a->ints : "", 8 * a->n_ints,
                                 c->x->err);
    } else {
        return ox_fail(c, PP_ERR_UNSUPPORTED, "attribute %s (strings and sparse tensors are not supported)", a->name);
    }
    if (id < 0) return ox_keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return ox_keep(c, ox_bind_tensor(c->x, out, id));
}

/* ScatterND has no IR op; models use it to build constants (Swin's shifted-
 * window attention mask: `mask[h0:h1, w0:w1] = n`). With constant inputs it is
 * evaluated here; on run-time data it is refused. */
pp_code ox_op_scatter_nd(ox_nctx *c, pp_op op) {
    if (strcmp(ox_attr_s(c, "reduction", "none"), "none") != 0)
        return c->rc ? c->rc : ox_fail(c, PP_ERR_UNSUPPORTED, "reduction '%s'", ox_attr_s(c, "reduction", ""));
    for (int i = 0; i < 3; i++)
        if (!ox_is_const(c, i)) {
            if (ox_tensor_of(c, i)) ox_note_needs_const(c, c->in[i]->tensor);
            return ox_fail(c, PP_ERR_UNSUPPORTED,
                           "input %d ('%s') is computed at run time; ScatterND is only folded "
                           "on constants",
                           i, ox_in_name(c, i));
        }
    const pp_tensor *d = ox_tensor_of(c, 0), *ix = ox_tensor_of(c, 1), *u = ox_tensor_of(c, 2);
    if (ix->dtype != PP_DTYPE_I64 || ix->rank < 1 || u->dtype != d->dtype)
        return ox_fail(c, PP_ERR_SHAPE, "indices must be int64 of rank >= 1 and updates of the data's dtype");
    int64_t k = ix->dims[ix->rank - 1];
    if (k < 1 || k > d->rank) return ox_fail(c, PP_ERR_SHAPE, "index tuples of %" PRId64 " for rank %d", k, d->rank);
    /* updates = indices.shape[:-1] + data.shape[k:] */
    int ur = ix->rank - 1 + d->rank - (int)k;
    int ok = u->rank == ur;
    for (int i = 0; ok && i < ix->rank - 1; i++) ok = u->dims[i] == ix->dims[i];
    for (int i = (int)k; ok && i < d->rank; i++) ok = u->dims[ix->rank - 1 + i - (int)k] == d->dims[i];
    if (!ok) return ox_fail(c, PP_ERR_SHAPE, "updates do not have the shape indices.shape[:-1] + data.shape[k:]");
    size_t es = pp_dtype_size(d->dtype), slice = es, n_tuples = 1;
    for (int i = (int)k; i < d->rank; i++) slice *= (size_t)d->dims[i];
    for (int i = 0; i < ix->rank - 1; i++) n_tuples *= (size_t)ix->dims[i];
    unsigned char *out = ox_alloc(c->x, (size_t)d->nbytes + 1);
    if (!out) return ox_keep(c, PP_ERR_NOMEM);
    memcpy(out, d->data, (size_t)d->nbytes);
    for (size_t t = 0; t < n_tuples; t++) {
        size_t off = 0;
        for (int64_t j = 0; j < k; j++) {
            int64_t v;
            memcpy(&v, (const unsigned char *)ix->data + 8 * (t * (size_t)k + (size_t)j), 8);
            int64_t ext = d->dims[j];
            if (v < 0) v += ext;
            if (v < 0 || v >= ext)
                return ox_fail(c, PP_ERR_SHAPE, "index %" PRId64 " out of range for axis %" PRId64 " (%" PRId64 ")", v,
                               j, ext);
            off = off * (size_t)ext + (size_t)v;
        }
        for (int i = (int)k; i < d->rank; i++) off *= (size_t)d->dims[i];
        memcpy(out + off * es, (const unsigned char *)u->data + t * slice, slice);
    }
    const char *name = c->n->n_out ? c->n->out[0] : "";
    if (!*name) return c->rc;
    int id = pp_graph_add_weight(c->x->g, name, d->dtype, d->rank, d->dims, out, d->nbytes, c->x->err);
    if (id < 0) return ox_keep(c, c->x->err->code ? c->x->err->code : PP_ERR_NOMEM);
    return ox_keep(c, ox_bind_tensor(c->x, name, id));
}
