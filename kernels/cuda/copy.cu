/* copy.cu: IDENTITY, FLATTEN, RESHAPE, SQUEEZE, UNSQUEEZE: the same bytes under a
 * new shape, one device-to-device copy (nothing when the plan aliased them). */
#include "common.cuh"

extern "C" cudaError_t pp_cuda_copy(const pp_op_params *p, const void *const *in, void *const *out, void *ws,
                                    const pp_cuda_exec *x) {
    (void)ws;
    if (p->copy.bytes == 0 || in[0] == out[0]) return cudaSuccess;
    return cudaMemcpyAsync(out[0], in[0], p->copy.bytes, cudaMemcpyDeviceToDevice, x->stream);
}

/* f32 only, which describe has checked: every shape it lets through runs here. */
extern "C" int pp_cuda_copy_supports(const pp_op_params *p) {
    (void)p;
    return 1;
}
