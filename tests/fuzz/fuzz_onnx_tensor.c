/* fuzz_onnx_tensor: a standalone TensorProto (ONNX test data, input_0.pb) →
 * pp_onnx_tensor_read. An accepted tensor's bytes must match its dtype and dims. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "converter/onnx.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pp_onnx_tensor t;
    pp_error err;
    memset(&err, 0, sizeof err);
    pp_code rc = pp_onnx_tensor_read(data, size, &t, &err);
    fz_check_error(rc, &err, "pp_onnx_tensor_read");
    if (rc) {
        if (t.data || t.name) fz_fail("pp_onnx_tensor_read failed but left data");
        return 0;
    }
    uint64_t numel = 1;
    for (int d = 0; d < t.rank; d++) {
        if (t.dims[d] < 0) fz_fail("accepted tensor has dim %d = %lld", d, (long long)t.dims[d]);
        numel *= (uint64_t)t.dims[d];
    }
    if (!t.name || t.rank < 0 || t.rank > PP_MAX_RANK || numel * pp_dtype_size(t.dtype) != t.nbytes)
        fz_fail("accepted tensor: rank %d, %llu elements of %zu bytes, but %llu bytes", t.rank,
                (unsigned long long)numel, pp_dtype_size(t.dtype), (unsigned long long)t.nbytes);
    /* Reading every byte lets ASan check the buffer is as long as it claims. */
    volatile uint8_t sum = 0;
    for (uint64_t i = 0; i < t.nbytes; i++) sum += ((const uint8_t *)t.data)[i];
    (void)sum;
    pp_onnx_tensor_free(&t);
    return 0;
}
