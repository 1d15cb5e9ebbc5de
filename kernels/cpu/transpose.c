/* transpose.c: y = x.permute(perm), rank ≤ 8, any element size.
 *
 * The permutation is first simplified: axes of extent 1 are dropped and input
 * axes that stay neighbours in the output are merged, so NCHW → NHWC becomes
 * (N, C, HW) → (N, HW, C) and a no-op permutation becomes one memcpy. Then
 *   - when x's innermost axis stays innermost, whole rows are memcpy'd;
 *   - otherwise x's innermost axis lands on some output axis q, and the kernel
 *     moves 32×32 tiles of the (q, last) plane for every index of the other
 *     axes: writes run along y's rows, reads along x's, both within a tile.
 */
#include <string.h>

#include "cpu_kernels.h"
#include "omp.h"

enum { TILE = 32 };

/* The simplified problem: output axis k has extent od[k] and input stride ist[k]. */
typedef struct tplan {
    int rank;
    int64_t od[PP_MAX_RANK], ist[PP_MAX_RANK], ost[PP_MAX_RANK];
    int64_t numel;
} tplan;

static int plan(const pp_transpose_params *t, tplan *pl) {
    int r = t->rank;
    if (r < 0 || r > PP_MAX_RANK) return 1;
    int seen[PP_MAX_RANK] = {0};
    for (int k = 0; k < r; k++) {
        if (t->perm[k] < 0 || t->perm[k] >= r || seen[t->perm[k]]) return 1;
        seen[t->perm[k]] = 1;
    }
    /* drop extent-1 axes, renumbering the rest */
    int newidx[PP_MAX_RANK], n = 0;
    int64_t id[PP_MAX_RANK];
    pl->numel = 1;
    for (int a = 0; a < r; a++) {
        pl->numel *= t->in_dims[a];
        newidx[a] = t->in_dims[a] == 1 ? -1 : n;
        if (t->in_dims[a] != 1) id[n++] = t->in_dims[a];
    }
    int perm[PP_MAX_RANK], m = 0;
    for (int k = 0; k < r; k++)
        if (newidx[t->perm[k]] >= 0) perm[m++] = newidx[t->perm[k]];
    /* group output axes whose input axes are consecutive: group g covers input
     * axes [first[g], first[g] + len[g]) */
    int first[PP_MAX_RANK], len[PP_MAX_RANK], g = 0;
    for (int k = 0; k < m; k++) {
        if (g > 0 && perm[k] == first[g - 1] + len[g - 1]) {
            len[g - 1]++;
        } else {
            first[g] = perm[k];
            len[g] = 1;
            g++;
        }
    }
    /* input strides of each input axis, then of each group */
    int64_t as[PP_MAX_RANK], s = 1;
    for (int a = n - 1; a >= 0; a--) {
        as[a] = s;
        s *= id[a];
    }
    pl->rank = g;
    for (int k = 0; k < g; k++) {
        int64_t d = 1;
        for (int a = first[k]; a < first[k] + len[k]; a++) d *= id[a];
        pl->od[k] = d;
        pl->ist[k] = as[first[k] + len[k] - 1];
    }
    if (g == 0) {
        pl->rank = 1;
        pl->od[0] = 1;
        pl->ist[0] = 1;
    }
    s = 1;
    for (int k = pl->rank - 1; k >= 0; k--) {
        pl->ost[k] = s;
        s *= pl->od[k];
    }
    return 0;
}

#define TILE_COPY(T)                                                                                                   \
    do {                                                                                                               \
        const T *X_ = (const T *)x;                                                                                    \
        T *Y_ = (T *)y;                                                                                                \
        for (int64_t i = i0; i < i1; i++)                                                                              \
            for (int64_t j = j0; j < j1; j++) Y_[yb + i * osq + j] = X_[xb + i + j * isl];                             \
    } while (0)

int pp_cpu_transpose(const pp_op_params *p, const void *const *in, void *const *out, void *ws) {
    const pp_transpose_params *t = &p->transpose;
    tplan pl;
    if (plan(t, &pl)) return 1;
    const size_t elem = t->elem;
    const unsigned char *x = in[0];
    unsigned char *y = out[0];
    if (pl.numel == 0) return 0;
    const int r = pl.rank;
    if (r == 1 || pl.ist[r - 1] == 1) {
        /* rows of the innermost axis are contiguous in both */
        const int64_t inner = pl.od[r - 1], rows = pl.numel / inner;
        const size_t row_bytes = (size_t)inner * elem;
        PP_OMP(omp parallel for schedule(static) if (pl.numel > 32768))
        for (int64_t row = 0; row < rows; row++) {
            int64_t rem = row, xo = 0;
            for (int k = r - 2; k >= 0; k--) {
                xo += (rem % pl.od[k]) * pl.ist[k];
                rem /= pl.od[k];
            }
            memcpy(y + (size_t)row * row_bytes, x + (size_t)xo * elem, row_bytes);
        }
        return 0;
    }
    /* the output axis q that x's innermost axis (stride 1) became */
    int q = 0;
    while (pl.ist[q] != 1) q++;
    int bax[PP_MAX_RANK], nb = 0;
    int64_t nbatch = 1;
    for (int k = 0; k < r - 1; k++)
        if (k != q) {
            bax[nb++] = k;
            nbatch *= pl.od[k];
        }
    const int64_t dq = pl.od[q], dl = pl.od[r - 1], osq = pl.ost[q], isl = pl.ist[r - 1];
    const int64_t tq = (dq + TILE - 1) / TILE, tl = (dl + TILE - 1) / TILE, tasks = nbatch * tq * tl;
    PP_OMP(omp parallel for schedule(static) if (pl.numel > 32768))
    for (int64_t task = 0; task < tasks; task++) {
        int64_t b = task / (tq * tl), tile = task % (tq * tl);
        const int64_t i0 = (tile / tl) * TILE, j0 = (tile % tl) * TILE;
        const int64_t i1 = i0 + TILE < dq ? i0 + TILE : dq, j1 = j0 + TILE < dl ? j0 + TILE : dl;
        int64_t xb = 0, yb = 0;
        for (int k = nb - 1; k >= 0; k--) {
            int64_t idx = b % pl.od[bax[k]];
            b /= pl.od[bax[k]];
            xb += idx * pl.ist[bax[k]];
            yb += idx * pl.ost[bax[k]];
        }
        switch (elem) {
        case 1: TILE_COPY(uint8_t); break;
        case 2: TILE_COPY(uint16_t); break;
        case 4: TILE_COPY(uint32_t); break;
        case 8: TILE_COPY(uint64_t); break;
        default:
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = j0; j < j1; j++)
                    memcpy(y + (size_t)(yb + i * osq + j) * elem, x + (size_t)(xb + i + j * isl) * elem, elem);
        }
    }
    return 0;
}
