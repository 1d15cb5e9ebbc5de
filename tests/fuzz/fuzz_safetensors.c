/* fuzz_safetensors: a .safetensors file → pp_safetensors_load (length, JSON
 * header through cJSON, tiling of the data buffer). Every accepted tensor is
 * read to its last byte, so ASan checks that it lies inside the file. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "converter/checkpoint.h"
#include "converter/safetensors.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pp_ckpt *c = pp_calloc(1, sizeof *c);
    if (!c) abort();
    pp_error err;
    memset(&err, 0, sizeof err);
    (void)pp_safetensors_sniff(data, size);
    pp_code rc = pp_safetensors_load(c, data, size, "fuzz.safetensors", &err);
    fz_check_error(rc, &err, "pp_safetensors_load");
    if (!rc) fz_read_checkpoint(c);
    pp_ckpt_free(c);
    return 0;
}
