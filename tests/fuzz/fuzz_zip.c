/* fuzz_zip: ZIP bytes → pp_zip_open, then every entry's data (stored ones are
 * read to the last byte, so ASan checks the slice lies in the buffer) and the
 * lookups torch's loader makes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "converter/zip.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pp_zip z;
    pp_error err;
    memset(&err, 0, sizeof err);
    pp_code rc = pp_zip_open(data, size, "fuzz.zip", &z, &err);
    fz_check_error(rc, &err, "pp_zip_open");
    if (rc) {
        pp_zip_close(&z);
        return 0;
    }
    volatile uint8_t sum = 0;
    for (int i = 0; i < z.n_entries; i++) {
        const pp_zip_entry *e = &z.entries[i];
        if (!e->name) fz_fail("entry %d has no name", i);
        if (pp_zip_find(&z, e->name) == NULL) fz_fail("entry '%s' is not found by its own name", e->name);
        const uint8_t *p = NULL;
        uint64_t n = 0;
        memset(&err, 0, sizeof err);
        rc = pp_zip_entry_data(&z, e, &p, &n, &err);
        fz_check_error(rc, &err, "pp_zip_entry_data");
        if (rc) continue;
        if (n && (p < (const uint8_t *)data || n > size || (size_t)(p - data) > size - n))
            fz_fail("entry '%s' slice [%td, +%llu) is outside the %zu-byte buffer", e->name, p - data,
                    (unsigned long long)n, size);
        for (uint64_t k = 0; k < n; k++) sum += p[k];
    }
    (void)pp_zip_find_record(&z, "data.pkl");
    (void)pp_zip_find_record(&z, "byteorder");
    (void)pp_zip_find_record(&z, "data/0");
    (void)sum;
    pp_zip_close(&z);
    return 0;
}
