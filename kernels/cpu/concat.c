/* concat.c: CONCAT (n inputs → 1) and SPLIT (1 → n outputs) along one axis.
 * Every tensor is viewed as (outer, axis_len[i], inner): for each outer index,
 * piece i is one contiguous run of axis_len[i]·inner elements of the whole. */
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

/* Bytes of piece i per outer index (run), where it starts in a row of the
 * whole (off), and the whole's row bytes (returned; 0 for bad params). */
static size_t layout(const pp_concat_params *c, size_t *run, size_t *off) {
    if (c->n < 1 || c->n > PP_MAX_IO || c->outer < 0 || c->inner < 0) return 0;
    size_t row = 0;
    for (int i = 0; i < c->n; i++) {
        if (c->axis_len[i] < 0) return 0;
        run[i] = (size_t)(c->axis_len[i] * c->inner) * c->elem;
        off[i] = row;
        row += run[i];
    }
    return row;
}

int pp_cpu_concat(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_concat_params *c = &p->concat;
    size_t run[PP_MAX_IO], off[PP_MAX_IO], row = layout(c, run, off);
    if (!row) return c->n < 1 || c->n > PP_MAX_IO;
    unsigned char *y = out[0];
    const int64_t tasks = c->outer * c->n;
    PP_OMP(omp parallel for schedule(static) if ((size_t)c->outer * row > (1u << 17)))
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / c->n;
        int i = (int)(t % c->n);
        if (run[i]) memcpy(y + (size_t)o * row + off[i], (const unsigned char *)in[i] + (size_t)o * run[i], run[i]);
    }
    return 0;
}

int pp_cpu_split(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_concat_params *c = &p->concat;
    size_t run[PP_MAX_IO], off[PP_MAX_IO], row = layout(c, run, off);
    if (!row) return c->n < 1 || c->n > PP_MAX_IO;
    const unsigned char *x = in[0];
    const int64_t tasks = c->outer * c->n;
    PP_OMP(omp parallel for schedule(static) if ((size_t)c->outer * row > (1u << 17)))
    for (int64_t t = 0; t < tasks; t++) {
        int64_t o = t / c->n;
        int i = (int)(t % c->n);
        if (run[i]) memcpy((unsigned char *)out[i] + (size_t)o * run[i], x + (size_t)o * row + off[i], run[i]);
    }
    return 0;
}
