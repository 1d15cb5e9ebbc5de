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
    if (!rc) fz_read_checkpoint(c);
    pp_ckpt_free(c);
    return 0;
}
