/* pt2_shape.c: the ATen ops that move data or make constants
 * (pt2_handlers.h): views, permutes, squeezes, expands, concatenation,
 * slicing and indexing, roll, pad, full/arange, and fill_ on slices of a
 * constant. Symbolic shapes come from the tensor metadata and the symbolic
 * integer arguments as shape program values (pt2_sym.c). */
#ifdef PP_HAVE_CJSON
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pt2_handlers.h"

/* ---- shapes ------------------------------------------------------------------------------ */

/* view / reshape / flatten / unflatten / _unsafe_view: the output's shape from
 * its metadata, symbolic extents as shape program values. */
pp_code pt2_reshape(pt2_node *n, const char *base) {
    (void)base;
    int x, nd, ro;
    pp_sx shape[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_out_sx(n, &ro, shape));
    PT2_TRY(pt2_simple(n, PP_OP_RESHAPE, 1, &x, &nd));
    pt2_set_sx(n, nd, "shape", shape, ro, 0, &rc);
    return rc;
}

pp_code pt2_permute(pt2_node *n, const char *base) {
    int x, nd, r, cnt = 0;
    int64_t d[PP_MAX_RANK], perm[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    for (int i = 0; i < r; i++) perm[i] = i;
    if (!strcmp(base, "permute")) {
        PT2_TRY(pt2_ints_arg(n, "dims", perm, PP_MAX_RANK, &cnt));
        if (cnt != r) return pt2_fail(n, PP_ERR_FORMAT, "permute of %d axes on a rank-%d tensor", cnt, r);
        for (int i = 0; i < r; i++) perm[i] = pt2_norm_axis(perm[i], r);
    } else if (r >= 2) { /* transpose(dim0, dim1); t() */
        int64_t a = 0, b = 1;
        if (strcmp(base, "t")) {
            PT2_TRY(pt2_int_arg(n, "dim0", 0, &a));
            PT2_TRY(pt2_int_arg(n, "dim1", 1, &b));
        }
        a = pt2_norm_axis(a, r), b = pt2_norm_axis(b, r);
        if (a < 0 || b < 0 || a >= r || b >= r) return pt2_fail(n, PP_ERR_FORMAT, "axis out of range");
        perm[a] = b, perm[b] = a;
    }
    PT2_TRY(pt2_simple(n, PP_OP_TRANSPOSE, 1, &x, &nd));
    pt2_set_ints(n, nd, "perm", perm, r, &rc);
    return rc;
}

pp_code pt2_unsqueeze(pt2_node *n, const char *base) {
    (void)base;
    int x, nd;
    int64_t dim;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_int_arg(n, "dim", 0, &dim));
    PT2_TRY(pt2_simple(n, PP_OP_UNSQUEEZE, 1, &x, &nd));
    pt2_set_ints(n, nd, "axes", &dim, 1, &rc);
    return rc;
}

/* squeeze(dim(s)) drops only the named axes of extent 1 (torch leaves others). */
pp_code pt2_squeeze(pt2_node *n, const char *base) {
    (void)base;
    int x, nd, r, cnt, k = 0;
    int64_t d[PP_MAX_RANK], dims[PP_MAX_RANK], axes[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    PT2_TRY(pt2_ints_arg(n, "dim", dims, PP_MAX_RANK, &cnt));
    if (!pt2_arg(n, "dim")) PT2_TRY(pt2_ints_arg(n, "dims", dims, PP_MAX_RANK, &cnt));
    if (!cnt)
        for (cnt = 0; cnt < r; cnt++) dims[cnt] = cnt;
    for (int i = 0; i < cnt; i++) {
        int a = pt2_norm_axis(dims[i], r);
        if (a >= 0 && a < r && d[a] == 1) axes[k++] = a;
    }
    if (!k) return pt2_bind_output(n, 0, x);
    PT2_TRY(pt2_simple(n, PP_OP_SQUEEZE, 1, &x, &nd));
    pt2_set_ints(n, nd, "axes", axes, k, &rc);
    return rc;
}

/* expand: 1 where the input already has the output's extent, else that extent
 * (a shape program value where it is symbolic). */
pp_code pt2_expand(pt2_node *n, const char *base) {
    (void)base;
    int x, nd, ri, ro;
    int64_t di[PP_MAX_RANK], dout[PP_MAX_RANK];
    pp_sx shape[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &ri, di));
    PT2_TRY(pt2_out_meta(n, NULL, &ro, dout));
    for (int i = 0; i < ro; i++) {
        int j = i - (ro - ri);
        if (j >= 0 && di[j] == dout[i]) shape[i] = pp_sx_const(1);
        else PT2_TRY(pp_symtab_dim(&n->x->g->sym, dout[i], &shape[i], n->x->err));
    }
    PT2_TRY(pt2_simple(n, PP_OP_EXPAND, 1, &x, &nd));
    pt2_set_sx(n, nd, "shape", shape, ro, 0, &rc);
    return rc;
}

pp_code pt2_cat(pt2_node *n, const char *base) {
    int ids[PT2_MAX_LIST], cnt, nd;
    int64_t dim;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensors_arg(n, "tensors", ids, PT2_MAX_LIST, &cnt));
    PT2_TRY(pt2_int_arg(n, "dim", 0, &dim));
    if (cnt < 1) return pt2_fail(n, PP_ERR_FORMAT, "no tensors");
    if (!strcmp(base, "stack")) {
        for (int i = 0; i < cnt; i++) {
            char sfx[32];
            snprintf(sfx, sizeof sfx, "unsqueeze%d", i);
            if ((ids[i] = pt2_add(n, PP_OP_UNSQUEEZE, sfx, 1, &ids[i], &nd)) < 0) return pt2_rc(n);
            pt2_set_ints(n, nd, "axes", &dim, 1, &rc);
        }
    }
    if (cnt == 1 && !rc) return pt2_bind_output(n, 0, ids[0]);
    PT2_TRY(rc);
    PT2_TRY(pt2_simple(n, PP_OP_CONCAT, cnt, ids, &nd));
    pt2_set_int(n, nd, "axis", dim, &rc);
    return rc;
}

/* The slice's start or end: a constant or a shape program value; the axis'
 * own extent as the end is "to the end". */
static pp_code slice_bound(pt2_node *n, const char *arg, int64_t extent, int64_t def, pp_sx *v) {
    pp_sx ext;
    PT2_TRY(pt2_sx_arg(n, arg, pp_sx_const(def), v));
    PT2_TRY(pp_symtab_dim(&n->x->g->sym, extent, &ext, n->x->err));
    if (v->slot >= 0 && v->slot == ext.slot) *v = pp_sx_const(INT64_MAX);
    return PP_OK;
}

pp_code pt2_slice(pt2_node *n, const char *base) {
    (void)base;
    int x, nd, r;
    int64_t d[PP_MAX_RANK], dim, step;
    pp_sx sb, eb;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    PT2_TRY(pt2_int_arg(n, "dim", 0, &dim));
    int a = pt2_norm_axis(dim, r);
    if (a < 0 || a >= r) return pt2_fail(n, PP_ERR_FORMAT, "dim %" PRId64 " of a rank-%d tensor", dim, r);
    PT2_TRY(slice_bound(n, "start", d[a], 0, &sb));
    PT2_TRY(slice_bound(n, "end", d[a], INT64_MAX, &eb));
    PT2_TRY(pt2_int_arg(n, "step", 1, &step));
    if (step < 1) return pt2_fail(n, PP_ERR_FORMAT, "slice step %" PRId64, step);
    PT2_TRY(pt2_simple(n, PP_OP_SLICE, 1, &x, &nd));
    pt2_set_sx(n, nd, "starts", &sb, 1, 0, &rc);
    pt2_set_sx(n, nd, "ends", &eb, 1, 0, &rc);
    pt2_set_ints(n, nd, "axes", (int64_t[]){a}, 1, &rc);
    pt2_set_ints(n, nd, "steps", &step, 1, &rc);
    if (rc || d[a] < 0 || sb.slot >= 0 || eb.slot >= 0) return rc;
    int64_t start = sb.v, end = eb.v;
    /* Remember the view (fill_ on a slice of a constant writes the constant). */
    pt2_val *self = pt2_lookup(n->x, pt2_arg_tensor_name(n, "self")), *out = pt2_lookup(n->x, n->name);
    if (!self || !out || self->n_slices >= PP_MAX_RANK) return PP_OK;
    int root = self->base >= 0 ? self->base : (int)(self - n->x->vals);
    int ns = self->base >= 0 ? self->n_slices : 0;
    if (self->base >= 0) memcpy(out->slices, self->slices, sizeof out->slices);
    int64_t len = d[a];
    if (start < 0) start += len;
    if (end < 0) end += len;
    start = start < 0 ? 0 : start > len ? len : start;
    end = end < start ? start : end > len ? len : end;
    out->base = root;
    out->slices[ns].axis = a;
    out->slices[ns].start = start;
    out->slices[ns].end = end;
    out->slices[ns].step = step;
    out->n_slices = ns + 1;
    return PP_OK;
}

pp_code pt2_select(pt2_node *n, const char *base) {
    (void)base;
    int x, nd, r;
    int64_t d[PP_MAX_RANK], dim, index;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    PT2_TRY(pt2_int_arg(n, "dim", 0, &dim));
    PT2_TRY(pt2_int_arg(n, "index", 0, &index));
    int a = pt2_norm_axis(dim, r);
    if (a < 0 || a >= r) return pt2_fail(n, PP_ERR_FORMAT, "dim %" PRId64 " of a rank-%d tensor", dim, r);
    if (index < 0 && d[a] >= 0) index += d[a];
    if (index < 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "a negative index on a symbolic axis");
    int idx = pt2_scalar(n, "index", (double)index, PP_DTYPE_I64);
    if (idx < 0) return pt2_rc(n);
    PT2_TRY(pt2_simple(n, PP_OP_GATHER, 2, (int[]){x, idx}, &nd));
    pt2_set_int(n, nd, "axis", a, &rc);
    return rc;
}

/* The names of a node's as_tensors output list; the count, or -1. */
static int output_names(pt2_node *n, const char **names, int max) {
    const cJSON *o = cJSON_GetArrayItem(n->outputs, 0),
                *l = o ? cJSON_GetObjectItemCaseSensitive(o, "as_tensors") : NULL;
    int k = 0;
    const cJSON *it;
    if (!cJSON_IsArray(l)) return -1;
    cJSON_ArrayForEach(it, l) {
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (k >= max || !cJSON_IsString(nm)) return -1;
        names[k++] = nm->valuestring;
    }
    return k;
}

/* unbind(dim) and split / split_with_sizes / chunk: one output per piece
 * (a GATHER of one index for unbind, a SLICE otherwise), bound by name. */
pp_code pt2_unbind(pt2_node *n, const char *base) {
    int x, r, nd, cnt = 0;
    int64_t d[PP_MAX_RANK], dim, sizes[PT2_MAX_LIST];
    const char *names[PT2_MAX_LIST];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    PT2_TRY(pt2_int_arg(n, "dim", 0, &dim));
    int a = pt2_norm_axis(dim, r), k = output_names(n, names, PT2_MAX_LIST);
    if (a < 0 || a >= r || k < 1) return pt2_fail(n, PP_ERR_FORMAT, "dim %" PRId64 " or its outputs", dim);
    if (d[a] < 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "splitting a symbolic axis");
    if (!strcmp(base, "split_with_sizes")) {
        PT2_TRY(pt2_ints_arg(n, "split_sizes", sizes, PT2_MAX_LIST, &cnt));
    } else if (strcmp(base, "unbind")) { /* split(split_size), chunk(chunks): equal pieces, the last shorter */
        int64_t each;
        PT2_TRY(pt2_int_arg(n, strcmp(base, "chunk") ? "split_size" : "chunks", 1, &each));
        if (!strcmp(base, "chunk")) each = each > 0 ? (d[a] + each - 1) / each : 0;
        for (int64_t at = 0; each > 0 && at < d[a] && cnt < PT2_MAX_LIST; at += each)
            sizes[cnt++] = at + each > d[a] ? d[a] - at : each;
    }
    for (int i = 0, at = 0; i < k && !rc; i++) {
        char sfx[32];
        snprintf(sfx, sizeof sfx, "%d", i);
        pt2_node piece = *n;
        piece.name = names[i];
        int y;
        if (!strcmp(base, "unbind")) {
            int idx = pt2_scalar(&piece, "index", i, PP_DTYPE_I64);
            if (idx < 0 || (y = pt2_add(&piece, PP_OP_GATHER, "", 2, (int[]){x, idx}, &nd)) < 0) return pt2_rc(n);
            pt2_set_int(n, nd, "axis", a, &rc);
        } else {
            if (i >= cnt) return pt2_fail(n, PP_ERR_FORMAT, "%d outputs for %d pieces", k, cnt);
            int64_t st = at, en = at + sizes[i];
            at += (int)sizes[i];
            if ((y = pt2_add(&piece, PP_OP_SLICE, "", 1, &x, &nd)) < 0) return pt2_rc(n);
            pt2_set_ints(n, nd, "starts", &st, 1, &rc);
            pt2_set_ints(n, nd, "ends", &en, 1, &rc);
            pt2_set_ints(n, nd, "axes", (int64_t[]){a}, 1, &rc);
        }
        if (!rc) rc = pt2_define(n->x, names[i], y);
    }
    return rc;
}

/* embedding(weight, indices); index_select(self, dim, index); index.Tensor(self, [None.., idx]). */
pp_code pt2_gather(pt2_node *n, const char *base) {
    int x, idx, nd;
    int64_t axis = 0;
    pp_code rc = PP_OK;
    if (!strcmp(base, "embedding")) {
        PT2_TRY(pt2_tensor_arg(n, "weight", 0, &x));
        PT2_TRY(pt2_tensor_arg(n, "indices", 0, &idx));
    } else if (!strcmp(base, "index_select")) {
        PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
        PT2_TRY(pt2_tensor_arg(n, "index", 0, &idx));
        PT2_TRY(pt2_int_arg(n, "dim", 0, &axis));
    } else {
        int ids[PP_MAX_RANK], cnt, found = 0;
        PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
        PT2_TRY(pt2_tensors_arg(n, "indices", ids, PP_MAX_RANK, &cnt));
        for (int i = 0; i < cnt; i++)
            if (ids[i] >= 0) found++, axis = i, idx = ids[i];
        if (found != 1) return pt2_fail(n, PP_ERR_UNSUPPORTED, "indexing with %d index tensors (one only)", found);
    }
    PT2_TRY(pt2_simple(n, PP_OP_GATHER, 2, (int[]){x, idx}, &nd));
    pt2_set_int(n, nd, "axis", axis, &rc);
    return rc;
}

/* roll: per axis, the last `shift` elements moved to the front (two slices, a concat). */
pp_code pt2_roll(pt2_node *n, const char *base) {
    (void)base;
    int x, r, cs, cd, nd;
    int64_t d[PP_MAX_RANK], shifts[PP_MAX_RANK], dims[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    PT2_TRY(pt2_ints_arg(n, "shifts", shifts, PP_MAX_RANK, &cs));
    PT2_TRY(pt2_ints_arg(n, "dims", dims, PP_MAX_RANK, &cd));
    if (cs != cd || !cd) return pt2_fail(n, PP_ERR_UNSUPPORTED, "roll without one dim per shift");
    for (int i = 0; i < cd && !rc; i++) {
        int a = pt2_norm_axis(dims[i], r);
        if (a < 0 || a >= r || d[a] < 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "roll along axis %" PRId64, dims[i]);
        int64_t len = d[a], s = ((shifts[i] % len) + len) % len;
        if (!s) continue;
        char sfx[3][32];
        snprintf(sfx[0], sizeof sfx[0], "tail%d", i);
        snprintf(sfx[1], sizeof sfx[1], "head%d", i);
        snprintf(sfx[2], sizeof sfx[2], "roll%d", i);
        int parts[2];
        for (int k = 0; k < 2 && !rc; k++) {
            int64_t st = k ? 0 : len - s, en = k ? len - s : len;
            if ((parts[k] = pt2_add(n, PP_OP_SLICE, sfx[k], 1, &x, &nd)) < 0) return pt2_rc(n);
            pt2_set_ints(n, nd, "starts", &st, 1, &rc);
            pt2_set_ints(n, nd, "ends", &en, 1, &rc);
            pt2_set_ints(n, nd, "axes", (int64_t[]){a}, 1, &rc);
        }
        if ((x = pt2_add(n, PP_OP_CONCAT, sfx[2], 2, parts, &nd)) < 0) return pt2_rc(n);
        pt2_set_int(n, nd, "axis", a, &rc);
    }
    return rc ? rc : pt2_bind_output(n, 0, x);
}

/* pad / constant_pad_nd: torch lists (begin, end) from the last axis backwards. */
pp_code pt2_pad(pt2_node *n, const char *base) {
    int x, r, cnt, nd;
    int64_t d[PP_MAX_RANK], p[2 * PP_MAX_RANK], pads[2 * PP_MAX_RANK] = {0};
    double value = 0;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    PT2_TRY(pt2_ints_arg(n, "pad", p, 2 * PP_MAX_RANK, &cnt));
    if (cnt % 2 || cnt / 2 > r) return pt2_fail(n, PP_ERR_FORMAT, "%d pads for a rank-%d tensor", cnt, r);
    const char *mode = strcmp(base, "pad") ? "constant" : pt2_string_arg(n, "mode", "constant");
    pt2_scalar_arg(n, "value", &value);
    int any = 0;
    for (int i = 0; i < cnt / 2; i++) {
        int a = r - 1 - i;
        pads[a] = p[2 * i], pads[r + a] = p[2 * i + 1];
        any |= p[2 * i] || p[2 * i + 1];
        if (p[2 * i] < 0 || p[2 * i + 1] < 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "negative padding");
    }
    if (!any) return pt2_bind_output(n, 0, x);
    const char *m = !strcmp(mode, "constant")    ? "constant"
                    : !strcmp(mode, "reflect")   ? "reflect"
                    : !strcmp(mode, "replicate") ? "edge"
                                                 : NULL;
    if (!m) return pt2_fail(n, PP_ERR_UNSUPPORTED, "pad mode '%.20s'", mode);
    PT2_TRY(pt2_simple(n, PP_OP_PAD, 1, &x, &nd));
    pt2_set_ints(n, nd, "pads", pads, 2 * r, &rc);
    pt2_set_float(n, nd, "value", value, &rc);
    if (!rc) rc = pp_node_set_string(n->x->g, nd, "mode", m, n->x->err);
    return rc;
}

/* outer(a, b) = a[:, None] * b[None, :]. */
pp_code pt2_outer(pt2_node *n, const char *base) {
    (void)base;
    int a, b, nd;
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &a));
    PT2_TRY(pt2_tensor_arg(n, "vec2", 0, &b));
    int ua = pt2_add(n, PP_OP_UNSQUEEZE, "col", 1, &a, &nd);
    if (ua < 0) return pt2_rc(n);
    pt2_set_ints(n, nd, "axes", (int64_t[]){1}, 1, &rc);
    int ub = pt2_add(n, PP_OP_UNSQUEEZE, "row", 1, &b, &nd);
    if (ub < 0) return pt2_rc(n);
    pt2_set_ints(n, nd, "axes", (int64_t[]){0}, 1, &rc);
    return rc ? rc : pt2_simple(n, PP_OP_MUL, 2, (int[]){ua, ub}, NULL);
}

/* ---- constants ------------------------------------------------------------------------------ */

/* A symbolic extent: CONSTANT_OF_SHAPE (a bool one made as i64 and cast, as
 * the fill kernel writes numbers). */
static pp_code full_symbolic(pt2_node *n, pp_dtype dt, double v) {
    int r, nd;
    pp_sx shape[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_out_sx(n, &r, shape));
    int y = pt2_add(n, PP_OP_CONSTANT_OF_SHAPE, dt == PP_DTYPE_BOOL ? "fill" : "", 0, NULL, &nd);
    if (y < 0) return pt2_rc(n);
    pt2_set_sx(n, nd, "shape", shape, r, 0, &rc);
    pt2_set_float(n, nd, "value", v, &rc);
    pt2_set_int(n, nd, "dtype", dt == PP_DTYPE_BOOL ? PP_DTYPE_I64 : dt, &rc);
    if (rc || dt != PP_DTYPE_BOOL) return rc ? rc : pt2_bind_output(n, 0, y);
    PT2_TRY(pt2_simple(n, PP_OP_CAST, 1, &y, &nd));
    pt2_set_int(n, nd, "to", PP_DTYPE_BOOL, &rc);
    return rc;
}

/* zeros, ones, full, new_zeros, new_ones, new_full and the _like ones: a
 * constant of the output's shape, made at run time where that is symbolic. */
pp_code pt2_full(pt2_node *n, const char *base) {
    pp_dtype dt;
    int r;
    int64_t d[PP_MAX_RANK];
    double v = strstr(base, "ones") ? 1 : 0;
    PT2_TRY(pt2_out_meta(n, &dt, &r, d));
    const char *arg = strstr(base, "full") ? "fill_value" : !strcmp(base, "scalar_tensor") ? "s" : NULL;
    if (arg && !pt2_scalar_arg(n, arg, &v)) return pt2_fail(n, PP_ERR_UNSUPPORTED, "%s is not a constant", arg);
    uint64_t numel = 1;
    for (int i = 0; i < r; i++) {
        if (d[i] < 0) return full_symbolic(n, dt, v);
        numel *= (uint64_t)d[i];
    }
    if (numel > (1u << 26)) return pt2_fail(n, PP_ERR_UNSUPPORTED, "a constant of %" PRIu64 " elements", numel);
    size_t es = pp_dtype_size(dt);
    uint8_t *buf = pp_calloc((size_t)numel + 1, es), one[8];
    if (!buf) return pp_error_nomem(n->x->err, "out of memory");
    int s = pt2_scalar(n, "value", v, dt);
    if (s >= 0) memcpy(one, n->x->g->tensors[s].data, es);
    for (uint64_t i = 0; s >= 0 && i < numel; i++) memcpy(buf + i * es, one, es);
    int id = s < 0 ? -1 : pt2_const(n->x, n->name, dt, r, d, buf);
    pp_free(buf);
    if (id < 0) return pt2_rc(n);
    return pt2_bind_output(n, 0, id);
}

/* arange(start, end, step): a RANGE whose bounds may be shape program values. */
pp_code pt2_arange(pt2_node *n, const char *base) {
    (void)base;
    static const char *args[3] = {"start", "end", "step"}, *attrs[3] = {"start", "limit", "delta"};
    pp_dtype dt;
    int r, nd;
    int64_t d[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_out_meta(n, &dt, &r, d));
    double v[3] = {0, 0, 1};
    pp_sx sv[3];
    for (int i = 0; i < 3; i++) {
        sv[i] = pp_sx_const(0);
        if (i != 1 && !pt2_arg(n, args[i])) continue;
        if (pt2_scalar_arg(n, args[i], &v[i])) continue;
        PT2_TRY(pt2_sx_arg(n, args[i], pp_sx_const(0), &sv[i]));
        if (sv[i].slot < 0) return pt2_fail(n, PP_ERR_UNSUPPORTED, "arange's %s is not a number", args[i]);
    }
    PT2_TRY(pt2_simple(n, PP_OP_RANGE, 0, NULL, &nd));
    for (int i = 0; i < 3; i++) {
        if (sv[i].slot >= 0) pt2_set_sx(n, nd, attrs[i], &sv[i], 1, 1, &rc);
        else pt2_set_float(n, nd, attrs[i], v[i], &rc);
    }
    pt2_set_int(n, nd, "dtype", dt, &rc);
    return rc;
}

/* fill_ on a slice view of a constant: the constant is rewritten (torchvision's
 * Swin builds its shifted-window mask so), and its name rebound. */
pp_code pt2_fill_(pt2_node *n, const char *base) {
    (void)base;
    pt2_ctx *x = n->x;
    pt2_val *view = pt2_lookup(x, pt2_arg_tensor_name(n, "self"));
    if (!view || view->base < 0)
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "an in-place fill_ of a tensor that is not a slice of a constant");
    pt2_val *root = &x->vals[view->base];
    const pp_tensor *t = root->tensor >= 0 ? &x->g->tensors[root->tensor] : NULL;
    double v;
    int vid = -1;
    if (!pt2_scalar_arg(n, "value", &v)) {
        PT2_TRY(pt2_tensor_arg(n, "value", 0, &vid));
        const pp_tensor *vt = &x->g->tensors[vid];
        if (vt->kind != PP_TENSOR_WEIGHT || vt->nbytes != pp_dtype_size(vt->dtype))
            return pt2_fail(n, PP_ERR_UNSUPPORTED, "fill_ with a value that is not a constant scalar");
    }
    if (!t || t->kind != PP_TENSOR_WEIGHT || t->rank < 0)
        return pt2_fail(n, PP_ERR_UNSUPPORTED,
                        "an in-place fill_ of a slice of '%.80s', which is computed, not constant", root->name);
    size_t es = pp_dtype_size(t->dtype);
    uint8_t *buf = pp_malloc((size_t)t->nbytes + 1), val[8] = {0};
    if (!buf) return pp_error_nomem(x->err, "out of memory");
    memcpy(buf, t->data, t->nbytes);
    if (vid >= 0) {
        const pp_tensor *vt = &x->g->tensors[vid];
        double dv = 0;
        if (vt->dtype == PP_DTYPE_F32) dv = *(const float *)vt->data;
        else if (vt->dtype == PP_DTYPE_I64) dv = (double)*(const int64_t *)vt->data;
        else if (vt->dtype == PP_DTYPE_F64) dv = *(const double *)vt->data;
        else if (vt->dtype == PP_DTYPE_I32) dv = *(const int32_t *)vt->data;
        v = dv;
    }
    int s = pt2_scalar(n, "fill", v, t->dtype);
    if (s < 0) {
        pp_free(buf);
        return pt2_rc(n);
    }
    memcpy(val, x->g->tensors[s].data, es);
    /* The region: per root axis a start, step and count, composed over the slices. */
    int64_t st[PP_MAX_RANK], sp[PP_MAX_RANK], cnt[PP_MAX_RANK], idx[PP_MAX_RANK] = {0};
    for (int a = 0; a < t->rank; a++) st[a] = 0, sp[a] = 1, cnt[a] = t->dims[a];
    for (int k = 0; k < view->n_slices; k++) {
        int a = view->slices[k].axis;
        int64_t len = view->slices[k].end - view->slices[k].start, step = view->slices[k].step;
        st[a] += view->slices[k].start * sp[a];
        sp[a] *= step;
        cnt[a] = len <= 0 ? 0 : (len + step - 1) / step;
    }
    int empty = 0;
    for (int a = 0; a < t->rank; a++) empty |= cnt[a] == 0;
    while (!empty) {
        int64_t off = 0, stride = 1;
        for (int a = t->rank - 1; a >= 0; a--) {
            off += (st[a] + idx[a] * sp[a]) * stride;
            stride *= t->dims[a];
        }
        memcpy(buf + (size_t)off * es, val, es);
        int a = t->rank - 1;
        while (a >= 0 && ++idx[a] == cnt[a]) idx[a--] = 0;
        if (a < 0) break;
    }
    char nm[300];
    snprintf(nm, sizeof nm, "%s.filled", n->name);
    int id = pt2_const(x, nm, t->dtype, t->rank, t->dims, buf);
    pp_free(buf);
    if (id < 0) return pt2_rc(n);
    root->tensor = id;
    return PP_OK;
}

/* slice_scatter(self, src, dim, start, end, step 1): self with self[start:end] on
 * dim replaced by src, as the concatenation of the parts around it (core ATen
 * writes masks so; constant inputs fold). */
pp_code pt2_slice_scatter(pt2_node *n, const char *base) {
    int x, src, r, nd, parts[3], k = 0;
    int64_t d[PP_MAX_RANK], dim, start, end, step;
    pp_code rc = PP_OK;
    (void)base;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_tensor_arg(n, "src", 0, &src));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    PT2_TRY(pt2_int_arg(n, "dim", 0, &dim));
    PT2_TRY(pt2_int_arg(n, "start", 0, &start));
    PT2_TRY(pt2_int_arg(n, "end", INT64_MAX, &end));
    PT2_TRY(pt2_int_arg(n, "step", 1, &step));
    int a = pt2_norm_axis(dim, r);
    if (a < 0 || a >= r || d[a] < 0 || step != 1)
        return pt2_fail(n, PP_ERR_UNSUPPORTED, "slice_scatter on axis %" PRId64 " with step %" PRId64, dim, step);
    int64_t len = d[a];
    if (start < 0) start += len;
    if (end < 0) end += len;
    start = start < 0 ? 0 : start > len ? len : start;
    end = end < start ? start : end > len ? len : end;
    int64_t bounds[2][2] = {{0, start}, {end, len}};
    for (int i = 0; i < 2 && !rc; i++) {
        if (i == 1) parts[k++] = src;
        if (bounds[i][0] == bounds[i][1]) continue;
        int y = pt2_add(n, PP_OP_SLICE, i ? "after" : "before", 1, &x, &nd);
        if (y < 0) return pt2_rc(n);
        pt2_set_ints(n, nd, "starts", &bounds[i][0], 1, &rc);
        pt2_set_ints(n, nd, "ends", &bounds[i][1], 1, &rc);
        pt2_set_ints(n, nd, "axes", (int64_t[]){a}, 1, &rc);
        parts[k++] = y;
    }
    PT2_TRY(rc);
    if (k == 1) return pt2_bind_output(n, 0, src);
    PT2_TRY(pt2_simple(n, PP_OP_CONCAT, k, parts, &nd));
    pt2_set_int(n, nd, "axis", a, &rc);
    return rc;
}

/* copy(self, src): src broadcast to self's shape, in self's dtype. */
pp_code pt2_copy(pt2_node *n, const char *base) {
    int src, r, rs, nd;
    int64_t d[PP_MAX_RANK], ds[PP_MAX_RANK], shape[PP_MAX_RANK];
    pp_dtype dt, dts;
    pp_code rc = PP_OK;
    (void)base;
    PT2_TRY(pt2_tensor_arg(n, "src", 0, &src));
    PT2_TRY(pt2_arg_meta(n, "self", &dt, &r, d));
    PT2_TRY(pt2_arg_meta(n, "src", &dts, &rs, ds));
    for (int i = 0; i < r; i++) {
        int j = i - (r - rs);
        if (d[i] < 0 && !(j >= 0 && ds[j] == d[i])) return pt2_fail(n, PP_ERR_UNSUPPORTED, "copy onto a batch axis");
        shape[i] = d[i] < 0 ? 1 : d[i];
    }
    int y = pt2_add(n, PP_OP_EXPAND, dt == dts ? "" : "expand", 1, &src, &nd);
    if (y < 0) return pt2_rc(n);
    pt2_set_ints(n, nd, "shape", shape, r, &rc);
    if (rc || dt == dts) return rc ? rc : pt2_bind_output(n, 0, y);
    PT2_TRY(pt2_simple(n, PP_OP_CAST, 1, &y, &nd));
    pt2_set_int(n, nd, "to", dt, &rc);
    return rc;
}

/* as_strided that only re-views a contiguous tensor (offset 0, strides those
 * of the output's shape where an extent is above 1): a reshape. */
pp_code pt2_as_strided(pt2_node *n, const char *base) {
    int r, cnt;
    int64_t d[PP_MAX_RANK], st[PP_MAX_RANK], off = 0, expect = 1;
    PT2_TRY(pt2_out_meta(n, NULL, &r, d));
    PT2_TRY(pt2_ints_arg(n, "stride", st, PP_MAX_RANK, &cnt));
    PT2_TRY(pt2_int_arg(n, "storage_offset", 0, &off));
    if (cnt != r || off) return pt2_fail(n, PP_ERR_UNSUPPORTED, "as_strided with an offset or %d strides", cnt);
    for (int i = r - 1; i >= 0; i--) {
        if (d[i] != 1 && st[i] != expect)
            return pt2_fail(n, PP_ERR_UNSUPPORTED, "as_strided that is not a contiguous view (axis %d)", i);
        if (d[i] < 0) break; /* the batch axis: every axis inside it matched */
        expect *= d[i];
    }
    return pt2_reshape(n, base);
}

/* any / all over dims of a bool tensor: REDUCE_MAX / REDUCE_MIN of its 0/1 floats. */
pp_code pt2_any(pt2_node *n, const char *base) {
    int x, r, nd, cnt, keep = 0;
    int64_t d[PP_MAX_RANK], axes[PP_MAX_RANK];
    pp_code rc = PP_OK;
    PT2_TRY(pt2_tensor_arg(n, "self", 0, &x));
    PT2_TRY(pt2_arg_meta(n, "self", NULL, &r, d));
    PT2_TRY(pt2_ints_arg(n, "dim", axes, PP_MAX_RANK, &cnt));
    PT2_TRY(pt2_bool_arg(n, "keepdim", 0, &keep));
    if (!cnt)
        for (cnt = 0; cnt < r; cnt++) axes[cnt] = cnt;
    int f = pt2_add(n, PP_OP_CAST, "f32", 1, &x, &nd);
    if (f < 0) return pt2_rc(n);
    pt2_set_int(n, nd, "to", PP_DTYPE_F32, &rc);
    int m = pt2_add(n, strcmp(base, "all") ? PP_OP_REDUCE_MAX : PP_OP_REDUCE_MIN, "reduce", 1, &f, &nd);
    if (m < 0) return pt2_rc(n);
    pt2_set_ints(n, nd, "axes", axes, cnt, &rc);
    pt2_set_int(n, nd, "keepdims", keep, &rc);
    PT2_TRY(rc);
    PT2_TRY(pt2_simple(n, PP_OP_CAST, 1, &m, &nd));
    pt2_set_int(n, nd, "to", PP_DTYPE_BOOL, &rc);
    return rc;
}
#endif
