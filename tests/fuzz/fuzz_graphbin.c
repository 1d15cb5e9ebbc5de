/* fuzz_graphbin: graph.bin bytes → pp_model_load_memory → pp_graph_from_model
 * → (round trip through the writer) → optionally a bounded CPU run.
 *
 * Input: one mode byte, then the file. The 64-bit checksums reject nearly every
 * mutation at the first check, so a mode bit has the harness recompute them
 * after mutation (and set file_size to the real size): that is what lets the
 * fuzzer reach the structural validation behind them (docs/format.md,
 * Validation 2-9). Mode bits:
 *   0x01  PP_LOAD_SKIP_DATA_CHECKSUM
 *   0x02  recompute file_size, the header checksum and every section checksum
 *   0x04  load from a misaligned buffer (the loader's aligned-copy path); else
 *         from a 64-byte-aligned one (used in place)
 *   0x08  run the graph on the CPU (batch 1, or 2 with 0x10) when it is small
 * Seeds (tests/fuzz/corpus/fuzz_graphbin) are real files with mode 0x0a/0x0f.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "include/ppformat.h"

/* Rewrites file_size and the checksums of buf in place, so that only structure
 * is left to be wrong. Entries that point outside the buffer are left alone
 * (the loader must refuse them anyway). */
static void fix_checksums(uint8_t *buf, size_t size) {
    if (size < sizeof(pp_fmt_header)) return;
    pp_fmt_header h;
    memcpy(&h, buf, sizeof h);
    h.file_size = size;
    uint64_t table_end = sizeof h + (uint64_t)h.section_count * sizeof(pp_fmt_section);
    if (h.section_count > size / sizeof(pp_fmt_section) || pp_fmt_align(table_end) > size) {
        memcpy(buf, &h, sizeof h);
        return;
    }
    for (uint32_t i = 0; i < h.section_count; i++) {
        pp_fmt_section s;
        size_t at = sizeof h + (size_t)i * sizeof s;
        memcpy(&s, buf + at, sizeof s);
        if (s.offset > size || s.size > size - s.offset) continue;
        uint64_t end = pp_fmt_align(s.offset + s.size);
        if (end > size) continue;
        s.checksum = pp_fmt_checksum(buf + s.offset, (size_t)(end - s.offset));
        memcpy(buf + at, &s, sizeof s);
    }
    h.header_checksum = 0;
    memcpy(buf, &h, sizeof h);
    h.header_checksum = pp_fmt_checksum(buf, (size_t)pp_fmt_align(table_end));
    memcpy(buf, &h, sizeof h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    unsigned mode = data[0];
    data++;
    size--;
    void *raw;
    uint8_t *buf = fz_copy_at(data, size, (mode & 0x04) ? 1 : 0, &raw);
    if (mode & 0x02) fix_checksums(buf, size);

    pp_error err;
    memset(&err, 0, sizeof err);
    pp_model *m = NULL;
    unsigned flags = (mode & 0x01) ? PP_LOAD_SKIP_DATA_CHECKSUM : 0;
    pp_code rc = pp_model_load_memory(buf, size, flags, &m, &err);
    fz_check_error(rc, &err, "pp_model_load_memory");
    if (rc) {
        if (m) fz_fail("pp_model_load_memory failed but left a model");
        free(raw);
        return 0;
    }

    pp_graph *g = NULL;
    memset(&err, 0, sizeof err);
    rc = pp_graph_from_model(&m, &g, &err);
    fz_check_error(rc, &err, "pp_graph_from_model");
    if (rc) {
        if (g) fz_fail("pp_graph_from_model failed but returned a graph");
        pp_model_free(m);
        free(raw);
        return 0;
    }
    if (m) fz_fail("pp_graph_from_model succeeded but did not take the model");

    /* Whatever the reader accepts and the engine builds, the writer writes and
     * the reader reads back: the two apply the same rules. */
    void *out = NULL;
    size_t out_size = 0;
    memset(&err, 0, sizeof err);
    rc = pp_graph_write_memory(g, &out, &out_size, &err);
    if (rc) fz_fail("a loaded graph does not write back: %s", err.msg);
    pp_model *m2 = NULL;
    rc = pp_model_load_memory(out, out_size, 0, &m2, &err);
    if (rc) fz_fail("the writer's output of a loaded graph does not load: %s", err.msg);
    if (m2->n_tensors != (uint32_t)g->n_tensors || m2->n_nodes != (uint32_t)g->n_nodes)
        fz_fail("round trip changed the graph: %u/%u tensors, %u/%u nodes", m2->n_tensors, g->n_tensors, m2->n_nodes,
                g->n_nodes);
    pp_graph *g2 = NULL;
    rc = pp_graph_from_model(&m2, &g2, &err);
    if (rc) fz_fail("the rewritten graph does not build: %s", err.msg);
    pp_graph_free(g2);
    pp_free(out);

    if (mode & 0x08) fz_exec_graph(g, (mode & 0x10) ? 2 : 1, data, size);
    pp_graph_free(g);
    free(raw);
    return 0;
}
