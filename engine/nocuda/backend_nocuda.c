/* backend_nocuda.c: the CUDA entry points of a build without the CUDA toolkit.
 * Linked in place of engine/cuda/ (CMakeLists.txt), so no source asks #ifdef
 * which backend it has: the same calls, a clear refusal. */
#include "../backend.h"

pp_code pp_backend_cuda_create(int index, pp_backend **out, pp_error *err) {
    *out = NULL;
    return pp_error_set(err, PP_ERR_DEVICE, "cuda:%d: this build of ppengine has no CUDA backend", index);
}

int pp_cuda_device_count(void) { return 0; }
