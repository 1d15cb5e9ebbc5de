/* reformat.cu: REFORMAT, one tensor into another dtype and layout, as
 * kernels/cpu/reformat.c defines it: one thread per output element (padding
 * lanes of an NCHWc output written as zeros), reading its source element by
 * index. Planned conversions are rare (a graph's inputs and outputs), so this
 * favours one simple kernel for every pair of formats over tiled transposes.
 */
#include "common.cuh"

struct fmt_geom {
    int layout, block;
    int64_t cp; /* channels as stored (padded to whole blocks for NCHWc) */
};

__device__ __forceinline__ int64_t fmt_offset(const fmt_geom &f, int64_t c_, int64_t h_, int64_t w_, int64_t n,
                                              int64_t c, int64_t h, int64_t w) {
    switch (f.layout) {
    case PP_LAYOUT_NHWC: return ((n * h_ + h) * w_ + w) * c_ + c;
    case PP_LAYOUT_NCHWC: {
        int64_t b = f.block;
        return (((n * (f.cp / b) + c / b) * h_ + h) * w_ + w) * b + c % b;
    }
    default: return ((n * c_ + c) * h_ + h) * w_ + w;
    }
}

/* i walks the output as stored; its logical (n, c, h, w) is decoded from the
 * output's layout, c >= C being an NCHWc padding lane. */
template <typename T>
__global__ void k_reformat(pp_reformat_params r, fmt_geom fi, fmt_geom fo, const void *__restrict__ x,
                           void *__restrict__ y, int64_t total) {
    PP_FOR(i, total) {
        int64_t n, c, h, w;
        if (fo.layout == PP_LAYOUT_NHWC) {
            c = i % r.c;
            w = i / r.c % r.w;
            h = i / (r.c * r.w) % r.h;
            n = i / (r.c * r.w * r.h);
        } else if (fo.layout == PP_LAYOUT_NCHWC) {
            int64_t b = fo.block, cb = fo.cp / b;
            int64_t lane = i % b;
            w = i / b % r.w;
            h = i / (b * r.w) % r.h;
            c = i / (b * r.w * r.h) % cb * b + lane;
            n = i / (b * r.w * r.h * cb);
        } else {
            w = i % r.w;
            h = i / r.w % r.h;
            c = i / (r.w * r.h) % r.c;
            n = i / (r.w * r.h * r.c);
        }
        if (c >= r.c) {
            ((T *)y)[i] = T(0);
            continue;
        }
        int64_t s = fmt_offset(fi, r.c, r.h, r.w, n, c, h, w);
        if (sizeof(T) == 4 && r.from.dtype == r.to.dtype) ((T *)y)[i] = ((const T *)x)[s];
        else pp_store_float(r.to.dtype, y, i, pp_load_float(r.from.dtype, x, s));
    }
}

/* Same-dtype moves of non-float elements: bytes of `elem` per element. */
template <typename U>
__global__ void k_reformat_bits(pp_reformat_params r, fmt_geom fi, fmt_geom fo, const U *__restrict__ x,
                                U *__restrict__ y, int64_t total) {
    PP_FOR(i, total) {
        int64_t c = i / (r.w * r.h) % r.c, n = i / (r.w * r.h * r.c), h = i / r.w % r.h, w = i % r.w;
        y[fmt_offset(fo, r.c, r.h, r.w, n, c, h, w)] = x[fmt_offset(fi, r.c, r.h, r.w, n, c, h, w)];
    }
}

static int is_float(pp_dtype t) { return t == PP_DTYPE_F32 || t == PP_DTYPE_F16 || t == PP_DTYPE_BF16; }

static fmt_geom geom(const pp_format &f, int64_t c) {
    fmt_geom g;
    g.layout = f.layout;
    g.block = f.block;
    g.cp = f.layout == PP_LAYOUT_NCHWC ? (c + f.block - 1) / f.block * f.block : c;
    return g;
}

extern "C" int pp_cuda_reformat_supports(const pp_op_params *p) {
    const pp_reformat_params *r = &p->reformat;
    if (is_float(r->from.dtype) && is_float(r->to.dtype)) return 1;
    return r->from.dtype == r->to.dtype && pp_cuda_elem_ok(pp_dtype_bytes(r->from.dtype)) &&
           r->to.layout != PP_LAYOUT_NCHWC;
}

extern "C" cudaError_t pp_cuda_reformat(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                        const pp_cuda_exec *x) {
    (void)ws;
    const pp_reformat_params *r = &p->reformat;
    fmt_geom fi = geom(r->from, r->c), fo = geom(r->to, r->c);
    int64_t total = r->n * fo.cp * r->h * r->w;
    if (total <= 0) return cudaSuccess;
    if (!is_float(r->to.dtype)) {
        int64_t n = r->n * r->c * r->h * r->w;
        switch (pp_dtype_bytes(r->to.dtype)) {
        case 1:
            k_reformat_bits<uint8_t>
                <<<pp_blocks(n), PP_THREADS, 0, x->stream>>>(*r, fi, fo, (const uint8_t *)in[0], (uint8_t *)out[0], n);
            break;
        case 2:
            k_reformat_bits<uint16_t><<<pp_blocks(n), PP_THREADS, 0, x->stream>>>(*r, fi, fo, (const uint16_t *)in[0],
                                                                                  (uint16_t *)out[0], n);
            break;
        case 4:
            k_reformat_bits<uint32_t><<<pp_blocks(n), PP_THREADS, 0, x->stream>>>(*r, fi, fo, (const uint32_t *)in[0],
                                                                                  (uint32_t *)out[0], n);
            break;
        case 8:
            k_reformat_bits<uint64_t><<<pp_blocks(n), PP_THREADS, 0, x->stream>>>(*r, fi, fo, (const uint64_t *)in[0],
                                                                                  (uint64_t *)out[0], n);
            break;
        default: return cudaErrorInvalidValue;
        }
        return cudaGetLastError();
    }
    if (pp_dtype_bytes(r->to.dtype) == 4)
        k_reformat<float><<<pp_blocks(total), PP_THREADS, 0, x->stream>>>(*r, fi, fo, in[0], out[0], total);
    else k_reformat<uint16_t><<<pp_blocks(total), PP_THREADS, 0, x->stream>>>(*r, fi, fo, in[0], out[0], total);
    return cudaGetLastError();
}
