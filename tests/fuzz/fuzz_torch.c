/* fuzz_torch: a torch.save archive (.pt) → pp_torch_load (zip + safe unpickler
 * + state-dict walk + storage checks). Every accepted tensor is read to its
 * last byte, so ASan checks that it lies inside the file or its own copy. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "converter/checkpoint.h"
#include "converter/torch_ckpt.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pp_ckpt *c = pp_calloc(1, sizeof *c);
    if (!c) abort();
    pp_error err;
    memset(&err, 0, sizeof err);
    (void)pp_torch_sniff(data, size);
    pp_code rc = pp_torch_load(c, data, size, "fuzz.pt", &err);
    fz_check_error(rc, &err, "pp_torch_load");
    volatile uint8_t sum = 0;
    for (int i = 0; !rc && i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        uint64_t numel = 1;
        for (int d = 0; d < t->rank; d++) numel *= (uint64_t)t->dims[d];
        if (!t->name || t->rank < 0 || t->rank > PP_MAX_RANK || numel * pp_dtype_size(t->dtype) != t->nbytes)
            fz_fail("tensor %d: rank %d, %llu elements of %zu bytes, but %llu bytes", i, t->rank,
                    (unsigned long long)numel, pp_dtype_size(t->dtype), (unsigned long long)t->nbytes);
        for (uint64_t k = 0; k < t->nbytes; k++) sum += ((const uint8_t *)t->data)[k];
    }
    (void)sum;
    pp_ckpt_free(c);
    return 0;
}
