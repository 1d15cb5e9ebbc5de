/* fuzz_pt2: a torch.export archive (.pt2) → the whole .pt2 conversion, in memory.
 *
 *   pp_convert_pt2_memory (zip, the ExportedProgram JSON through cJSON, schema
 *   version, weight tables through the safe unpickler, the ATen graph onto the
 *   IR, folding, passes, inference) → graph.bin in memory (the writer)
 *   → pp_model_load_memory → pp_graph_from_model → a bounded CPU run at batch 1
 *
 * Mirrors converter/pt2.c's path entry. Whatever converts must write, load and
 * build: the converter never writes a file ppengine refuses.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "converter/pt2.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pp_error err;
    memset(&err, 0, sizeof err);
    pp_graph *g = NULL;
    pp_code rc = pp_convert_pt2_memory(data, size, "fuzz.pt2", &g, NULL, &err);
    fz_check_error(rc, &err, "pp_convert_pt2_memory");
    if (rc) {
        if (g) fz_fail("pp_convert_pt2_memory failed but returned a graph");
        return 0;
    }
    void *bin = NULL;
    size_t bin_size = 0;
    rc = pp_graph_write_memory(g, &bin, &bin_size, &err);
    if (rc) fz_fail("the converter's graph does not write: %s", err.msg);
    pp_graph_free(g);
    pp_model *m = NULL;
    rc = pp_model_load_memory(bin, bin_size, 0, &m, &err);
    if (rc) fz_fail("the converter wrote a graph.bin the loader refuses: %s", err.msg);
    pp_graph *g2 = NULL;
    rc = pp_graph_from_model(&m, &g2, &err);
    if (rc) fz_fail("the converter wrote a graph.bin the engine cannot build: %s", err.msg);
    fz_exec_graph(g2, 1, data, size);
    pp_graph_free(g2);
    pp_free(bin);
    return 0;
}
