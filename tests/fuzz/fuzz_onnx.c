/* fuzz_onnx: ModelProto bytes → the whole conversion pipeline, in memory.
 *
 *   pp_onnx_import_memory (protobuf walk, opset checks, import-time folding)
 *   → pp_fold_constants → pp_eliminate_dead → pp_graph_toposort → pp_graph_infer
 *   → metadata → graph.bin in memory (the writer) → pp_model_load_memory
 *   → pp_graph_from_model → a bounded CPU run at batch 1
 *
 * Mirrors converter/convert.c, which works on paths. Every stage after a
 * successful inference must succeed: the converter never writes a file that
 * the loader refuses or the engine cannot build. External data resolves
 * against a private folder holding one 256-byte file, "w.bin", so both the
 * found and the missing (and the escaping, "../x") cases are reachable.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "converter/fold.h"
#include "converter/onnx.h"
#include "fuzz_common.h"

static char tmpdir[256];

static void cleanup(void) {
    char p[300];
    snprintf(p, sizeof p, "%s/w.bin", tmpdir);
    unlink(p);
    rmdir(tmpdir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/fuzz_onnx.XXXXXX", base);
    if (!mkdtemp(tmpdir)) abort();
    atexit(cleanup);
    char p[300];
    snprintf(p, sizeof p, "%s/w.bin", tmpdir);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    for (int i = 0; i < 256; i++) fputc(i % 7 == 0 ? 0x3f : i, f);
    fclose(f);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pp_error err;
    memset(&err, 0, sizeof err);
    pp_onnx *h = NULL;
    pp_graph *g = NULL;
    pp_code rc = pp_onnx_import_memory(data, size, tmpdir, NULL, &h, &g, &err);
    fz_check_error(rc, &err, "pp_onnx_import_memory");
    if (rc) {
        if (h || g) fz_fail("pp_onnx_import_memory failed but returned a handle or graph");
        return 0;
    }
    const pp_onnx_info *info = pp_onnx_get_info(h);
    if (!info || !info->producer_name || !info->producer_version) fz_fail("imported model without info");

    int more = 0, removed = 0;
    if (!(rc = pp_fold_constants(g, &more, &err)) && !(rc = pp_eliminate_dead(g, &removed, &err)) &&
        !(rc = pp_graph_toposort(g, &err)))
        rc = pp_graph_infer(g, &err);
    fz_check_error(rc, &err, "conversion passes");
    if (!rc) rc = pp_graph_add_meta(g, "producer", info->producer_name, &err);
    if (!rc) rc = pp_graph_add_meta(g, "source_format", "onnx", &err);
    if (rc) {
        pp_graph_free(g);
        pp_onnx_free(h);
        return 0;
    }

    /* A converted graph must write, load and build. */
    void *bin = NULL;
    size_t bin_size = 0;
    rc = pp_graph_write_memory(g, &bin, &bin_size, &err);
    if (rc) fz_fail("the converter's graph does not write: %s", err.msg);
    pp_graph_free(g);
    pp_onnx_free(h); /* after the graph, whose weights may borrow from it */
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
