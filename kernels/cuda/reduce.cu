/* reduce.cu: REDUCE_MEAN/SUM/MAX/MIN/PROD over the axes in axes_mask (f32, i64)
 * and ARGMAX/ARGMIN over one axis (f32, i64 in; i64 out), with
 * kernels/cpu/reduce.c's rules: f32 sums and products in double, i64 ones wrap,
 * empty reductions give the identity (NaN for MEAN), MAX/MIN propagate NaN, ARG*
 * take the first extreme (the last with select_last_index) and a NaN wins.
 *
 * x is split into kept axes (they index the output) and reduced axes. With many
 * reduced elements per output a block reduces each output; otherwise a thread. */
#include "common.cuh"

struct reduce_plan {
    int n_keep, n_red;
    int64_t keep_dims[PP_MAX_RANK], keep_strides[PP_MAX_RANK];
    int64_t red_dims[PP_MAX_RANK], red_strides[PP_MAX_RANK];
    int64_t out_count, red_count;
};

static void plan_make(const pp_reduce_params *p, reduce_plan *rp) {
    int64_t strides[PP_MAX_RANK];
    int rank = p->rank < 0 ? 0 : (p->rank > PP_MAX_RANK ? PP_MAX_RANK : p->rank);
    pp_contig_strides(rank, p->dims, strides);
    rp->n_keep = rp->n_red = 0;
    rp->out_count = rp->red_count = 1;
    for (int d = 0; d < rank; d++) {
        if (p->axes_mask & (1u << d)) {
            rp->red_dims[rp->n_red] = p->dims[d];
            rp->red_strides[rp->n_red++] = strides[d];
            rp->red_count *= p->dims[d];
        } else {
            rp->keep_dims[rp->n_keep] = p->dims[d];
            rp->keep_strides[rp->n_keep++] = strides[d];
            rp->out_count *= p->dims[d];
        }
    }
}

__device__ __forceinline__ int64_t axes_offset(int64_t i, int n, const int64_t *dims, const int64_t *strides) {
    int64_t off = 0;
    for (int a = n - 1; a >= 0; a--) {
        off += (i % dims[a]) * strides[a];
        i /= dims[a];
    }
    return off;
}

/* The f32 accumulator: sum/prod in double, extreme in float with NaN sticking. */
struct acc_f {
    double v;
    float ext;
};

__device__ __forceinline__ void acc_f_add(pp_op op, acc_f &a, float v) {
    switch (op) {
    case PP_OP_REDUCE_MAX:
        if (v > a.ext || v != v) a.ext = a.ext != a.ext ? a.ext : v;
        break;
    case PP_OP_REDUCE_MIN:
        if (v < a.ext || v != v) a.ext = a.ext != a.ext ? a.ext : v;
        break;
    case PP_OP_REDUCE_PROD: a.v *= v; break;
    default: a.v += v; break;
    }
}

__device__ __forceinline__ void acc_f_merge(pp_op op, acc_f &a, const acc_f &b) {
    if (op == PP_OP_REDUCE_MAX || op == PP_OP_REDUCE_MIN) acc_f_add(op, a, b.ext);
    else if (op == PP_OP_REDUCE_PROD) a.v *= b.v;
    else a.v += b.v;
}

__device__ __forceinline__ acc_f acc_f_init(pp_op op) {
    acc_f a;
    a.v = op == PP_OP_REDUCE_PROD ? 1.0 : 0.0;
    a.ext = op == PP_OP_REDUCE_MAX ? -INFINITY : INFINITY;
    return a;
}

__device__ __forceinline__ float acc_f_result(pp_op op, const acc_f &a, int64_t count) {
    switch (op) {
    case PP_OP_REDUCE_MAX:
    case PP_OP_REDUCE_MIN: return a.ext;
    case PP_OP_REDUCE_MEAN: return count ? (float)(a.v / (double)count) : NAN;
    default: return (float)a.v;
    }
}

__device__ __forceinline__ void acc_i_add(pp_op op, uint64_t &acc, int64_t &ext, int64_t v) {
    switch (op) {
    case PP_OP_REDUCE_MAX: ext = v > ext ? v : ext; break;
    case PP_OP_REDUCE_MIN: ext = v < ext ? v : ext; break;
    case PP_OP_REDUCE_PROD: acc *= (uint64_t)v; break;
    default: acc += (uint64_t)v; break;
    }
}

__device__ __forceinline__ int64_t acc_i_result(pp_op op, uint64_t acc, int64_t ext, int64_t count) {
    if (op == PP_OP_REDUCE_MAX || op == PP_OP_REDUCE_MIN) return ext;
    int64_t r = (int64_t)acc;
    if (op == PP_OP_REDUCE_MEAN) r = count ? r / count : 0;
    return r;
}

__global__ void k_reduce_f32_thread(pp_op op, reduce_plan rp, const float *__restrict__ x, float *__restrict__ y) {
    PP_FOR(o, rp.out_count) {
        int64_t base = axes_offset(o, rp.n_keep, rp.keep_dims, rp.keep_strides);
        acc_f a = acc_f_init(op);
        for (int64_t r = 0; r < rp.red_count; r++)
            acc_f_add(op, a, x[base + axes_offset(r, rp.n_red, rp.red_dims, rp.red_strides)]);
        y[o] = acc_f_result(op, a, rp.red_count);
    }
}

__global__ void k_reduce_f32_block(pp_op op, reduce_plan rp, const float *__restrict__ x, float *__restrict__ y) {
    __shared__ acc_f sh[PP_THREADS];
    PP_FOR_ROWS(o, rp.out_count) {
        int64_t base = axes_offset(o, rp.n_keep, rp.keep_dims, rp.keep_strides);
        acc_f a = acc_f_init(op);
        for (int64_t r = threadIdx.x; r < rp.red_count; r += blockDim.x)
            acc_f_add(op, a, x[base + axes_offset(r, rp.n_red, rp.red_dims, rp.red_strides)]);
        __syncthreads();
        sh[threadIdx.x] = a;
        __syncthreads();
        for (unsigned s = blockDim.x / 2; s > 0; s >>= 1) {
            if (threadIdx.x < s) acc_f_merge(op, sh[threadIdx.x], sh[threadIdx.x + s]);
            __syncthreads();
        }
        if (threadIdx.x == 0) y[o] = acc_f_result(op, sh[0], rp.red_count);
    }
}

__global__ void k_reduce_i64_thread(pp_op op, reduce_plan rp, const int64_t *__restrict__ x, int64_t *__restrict__ y) {
    PP_FOR(o, rp.out_count) {
        int64_t base = axes_offset(o, rp.n_keep, rp.keep_dims, rp.keep_strides);
        uint64_t acc = op == PP_OP_REDUCE_PROD ? 1u : 0u;
        int64_t ext = op == PP_OP_REDUCE_MAX ? INT64_MIN : INT64_MAX;
        for (int64_t r = 0; r < rp.red_count; r++)
            acc_i_add(op, acc, ext, x[base + axes_offset(r, rp.n_red, rp.red_dims, rp.red_strides)]);
        y[o] = acc_i_result(op, acc, ext, rp.red_count);
    }
}

template <typename T>
__global__ void k_arg(int is_max, int last, reduce_plan rp, int64_t len, int64_t stride, const T *__restrict__ x,
                      int64_t *__restrict__ y) {
    PP_FOR(o, rp.out_count) {
        int64_t base = axes_offset(o, rp.n_keep, rp.keep_dims, rp.keep_strides);
        int64_t best = 0;
        for (int64_t j = 1; j < len; j++) {
            T v = x[base + j * stride], b = x[base + best * stride];
            if (b != b) break;
            int better = v != v || (is_max ? v > b : v < b) || (last && v == b);
            if (better) best = j;
        }
        y[o] = best;
    }
}

extern "C" int pp_cuda_reduce_supports(const pp_op_params *pp) {
    const pp_reduce_params *p = &pp->reduce;
    if (p->dtype != PP_DTYPE_F32 && p->dtype != PP_DTYPE_I64) return 0;
    if (p->op == PP_OP_ARGMAX || p->op == PP_OP_ARGMIN) {
        int n = 0;
        for (int d = 0; d < p->rank; d++) n += (p->axes_mask >> d) & 1u;
        return n <= 1;
    }
    return 1;
}

extern "C" cudaError_t pp_cuda_reduce(const pp_op_params *pp, const void *const *in, void *const *out, void *ws,
                                      const pp_cuda_exec *x) {
    (void)ws;
    const pp_reduce_params *p = &pp->reduce;
    reduce_plan rp;
    plan_make(p, &rp);
    if (rp.out_count <= 0) return cudaSuccess;
    cudaStream_t s = x->stream;
    if (p->op == PP_OP_ARGMAX || p->op == PP_OP_ARGMIN) {
        if (rp.n_red > 1) return cudaErrorInvalidValue;
        int64_t len = rp.n_red ? rp.red_dims[0] : 1, stride = rp.n_red ? rp.red_strides[0] : 0;
        int is_max = p->op == PP_OP_ARGMAX;
        if (p->dtype == PP_DTYPE_I64)
            k_arg<int64_t><<<pp_blocks(rp.out_count), PP_THREADS, 0, s>>>(is_max, p->select_last_index, rp, len, stride,
                                                                          (const int64_t *)in[0], (int64_t *)out[0]);
        else
            k_arg<float><<<pp_blocks(rp.out_count), PP_THREADS, 0, s>>>(is_max, p->select_last_index, rp, len, stride,
                                                                        (const float *)in[0], (int64_t *)out[0]);
        return cudaGetLastError();
    }
    if (p->dtype == PP_DTYPE_I64) {
        k_reduce_i64_thread<<<pp_blocks(rp.out_count), PP_THREADS, 0, s>>>(p->op, rp, (const int64_t *)in[0],
                                                                           (int64_t *)out[0]);
    } else if (rp.red_count >= 256 && rp.out_count < 65536) {
        k_reduce_f32_block<<<pp_row_blocks(rp.out_count), PP_THREADS, 0, s>>>(p->op, rp, (const float *)in[0],
                                                                              (float *)out[0]);
    } else {
        k_reduce_f32_thread<<<pp_blocks(rp.out_count), PP_THREADS, 0, s>>>(p->op, rp, (const float *)in[0],
                                                                           (float *)out[0]);
    }
    return cudaGetLastError();
}
