/* test_format_sweeps.c: damaged graph.bin images swept over the whole file:
 * every truncation point that matters, every bit flip, every padding byte,
 * random edits with the checksums fixed, and every allocation failing in turn.
 * Helpers: support/format_image.h. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "support/format_image.h"

/* Reads every byte the model exposes, so that ASan sees any pointer that strays. */
static uint64_t touch_all(const pp_model *m) {
    uint64_t acc = 0;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const pp_model_tensor *t = &m->tensors[i];
        acc += strlen(t->name);
        for (uint64_t e = 0; e < t->nbytes; e++) acc += ((const unsigned char *)t->data)[e];
    }
    for (uint32_t j = 0; j < m->n_nodes; j++) {
        const pp_model_node *n = &m->nodes[j];
        acc += strlen(n->name) + (uint64_t)n->op;
        for (uint32_t k = 0; k < n->n_inputs; k++)
            if (n->inputs[k] != PP_FMT_NONE) acc += m->tensors[n->inputs[k]].rank;
        for (uint32_t k = 0; k < n->n_outputs; k++) acc += m->tensors[n->outputs[k]].rank;
        for (uint32_t k = 0; k < n->n_attrs; k++) {
            const pp_model_attr *a = &n->attrs[k];
            acc += strlen(a->name);
            if (a->type == PP_ATTR_STRING) acc += strlen(a->s);
            for (uint32_t v = 0; v < a->count; v++) {
                uint64_t bits;
                memcpy(&bits, a->type == PP_ATTR_INTS ? (const void *)&a->ints[v] : (const void *)&a->floats[v], 8);
                acc += bits;
            }
        }
    }
    for (uint32_t k = 0; k < m->n_inputs; k++) acc += m->tensors[m->inputs[k]].rank;
    for (uint32_t k = 0; k < m->n_outputs; k++) acc += m->tensors[m->outputs[k]].rank;
    for (uint32_t k = 0; k < m->n_meta; k++) acc += strlen(m->meta[k].key) + strlen(m->meta[k].value);
    return acc;
}

/* ---- corruptions: whole-file sweeps --------------------------------------------------- */

Test(corrupt, truncation_everywhere) {
    img im = ref_image();
    pp_fmt_section *t = (pp_fmt_section *)(void *)(im.p + sizeof(pp_fmt_header));
    size_t cuts[256];
    size_t nc = 0;
    size_t fixed[] = {0, 1, 8, 63, 64, 65, 96, 383, 384, 385, im.n - 64, im.n - 1};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) cuts[nc++] = fixed[i];
    for (uint32_t i = 0; i < hdr(&im)->section_count; i++) {
        uint64_t o = t[i].offset, s = t[i].size;
        uint64_t c[] = {o, o + 1, o + s / 2, o + s, o + s + 1, pp_fmt_align(o + s) - 1};
        for (size_t k = 0; k < 6; k++)
            if (c[k] < im.n) cuts[nc++] = (size_t)c[k];
    }
    for (size_t i = 0; i < nc; i++) {
        size_t n = cuts[i];
        if (n < sizeof(pp_fmt_header)) refused_as(im.p, n, 0, PP_ERR_FORMAT, "shorter than the 64-byte header");
        else refused_as(im.p, n, 0, PP_ERR_FORMAT, "file_size says");
        /* The checksum flag must not let a short file through. */
        pp_error err;
        pp_model *m;
        cr_assert_neq(pp_model_load_memory(im.p, n, PP_LOAD_SKIP_DATA_CHECKSUM, &m, &err), PP_OK, "cut %zu", n);
    }
    /* And from disk, where the mapping is exactly the short file. */
    make_tmpdir();
    char path[400];
    snprintf(path, sizeof path, "%s/short.bin", tmpdir);
    size_t disk_cuts[] = {0, 10, 64, 500, im.n - 1};
    for (size_t i = 0; i < sizeof disk_cuts / sizeof *disk_cuts; i++) {
        FILE *f = fopen(path, "wb");
        fwrite(im.p, 1, disk_cuts[i], f);
        fclose(f);
        pp_error err = {0};
        pp_model *m = (pp_model *)1;
        cr_assert_eq(pp_model_load(path, 0, &m, &err), PP_ERR_FORMAT, "cut %zu: %s", disk_cuts[i], err.msg);
        cr_assert_null(m);
        cr_assert(strstr(err.msg, "short.bin: header"), "%s", err.msg);
    }
    remove_tmpdir();
    pp_free(im.p);
}

Test(corrupt, every_bit_flip) {
    img im = ref_image();
    size_t flips = 0;
    for (size_t byte = 0; byte < im.n; byte++) {
        for (int bit = 0; bit < 8; bit++) {
            im.p[byte] ^= (unsigned char)(1u << bit);
            pp_error err = {0};
            pp_model *m = NULL;
            pp_code rc = pp_model_load_memory(im.p, im.n, 0, &m, &err);
            cr_assert_neq(rc, PP_OK, "flip of bit %d at byte %zu was not detected", bit, byte);
            cr_assert_null(m);
            im.p[byte] ^= (unsigned char)(1u << bit);
            flips++;
        }
    }
    cr_assert_eq(flips, im.n * 8);
    pp_free(im.p);
}

/* Every padding byte, set nonzero with all checksums fixed, is still refused. */
Test(corrupt, padding_with_fixed_checksums) {
    img im = ref_image();
    pp_fmt_section *t = (pp_fmt_section *)(void *)(im.p + sizeof(pp_fmt_header));
    uint32_t count = hdr(&im)->section_count;
    size_t tested = 0;
    uint64_t table_end = sizeof(pp_fmt_header) + count * sizeof(pp_fmt_section);
    for (uint64_t b = table_end; b < pp_fmt_align(table_end); b++, tested++) {
        im.p[b] = 0x20;
        refused_fixed(&im, "padding after the table is not zero");
        im.p[b] = 0;
    }
    for (uint32_t i = 0; i < count; i++) {
        uint64_t end = t[i].offset + t[i].size;
        for (uint64_t b = end; b < pp_fmt_align(end); b++, tested++) {
            im.p[b] = 0x01;
            fix_checksums(&im);
            /* The DATA checksum flag skips the checksum, never the padding check. */
            refused_as(im.p, im.n, PP_LOAD_SKIP_DATA_CHECKSUM, PP_ERR_FORMAT, "padding byte after the section");
            refused(&im, "padding byte after the section");
            im.p[b] = 0;
        }
    }
    cr_assert_gt(tested, 100);
    fix_checksums(&im);
    pp_model *m;
    pp_error err;
    cr_assert_eq(pp_model_load_memory(im.p, im.n, 0, &m, &err), PP_OK, "%s", err.msg);
    pp_model_free(m);
    pp_free(im.p);
}

/* Random edits after the header, checksums fixed: whatever the loader decides,
 * it must not crash or read out of bounds (ASan watches), and a model it accepts
 * must be fully readable. Most edits land in the tables (not DATA) and many
 * write plausible small integers, so that they get past the first checks. */
static uint64_t xorshift(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

Test(corrupt, random_edits_never_crash) {
    img im = ref_image();
    unsigned char *orig = malloc(im.n);
    memcpy(orig, im.p, im.n);
    size_t tables_end = (size_t)entry(&im, PP_SEC_DATA)->offset;
    uint64_t rng = 0x9E3779B97F4A7C15ull;
    int accepted = 0;
    const int iters = 30000;
    for (int iter = 0; iter < iters; iter++) {
        memcpy(im.p, orig, im.n);
        int edits = 1 + (int)(xorshift(&rng) % 3);
        for (int e = 0; e < edits; e++) {
            uint64_t r = xorshift(&rng);
            size_t span = (r & 3) ? tables_end - 64 : im.n - 64;
            size_t at = 64 + (size_t)(xorshift(&rng) % span);
            uint64_t v = xorshift(&rng);
            switch (r >> 60) {
            case 0:
            case 1: im.p[at] = 0; break;
            case 2: im.p[at] = 0xFF; break;
            case 3:
            case 4: im.p[at] = (unsigned char)(im.p[at] + 1); break;
            case 5:
            case 6: im.p[at] = (unsigned char)(im.p[at] - 1); break;
            case 7:
            case 8: im.p[at] = (unsigned char)v; break;
            default: {
                /* A small or boundary u32 at a 4-aligned position: a plausible id, count or offset. */
                static const uint32_t special[] = {0, 1, 2, 17, 18, 63, 64, 0x7FFFFFFF, 0xFFFFFFFE, 0xFFFFFFFF};
                uint32_t w = (v & 1) ? special[(v >> 8) % 10] : (uint32_t)((v >> 8) % (im.n + 64));
                at &= ~(size_t)3;
                if (at + 4 <= im.n) memcpy(im.p + at, &w, 4);
                break;
            }
            }
        }
        fix_checksums(&im);
        pp_error err = {0};
        pp_model *m = NULL;
        pp_code rc = pp_model_load_memory(im.p, im.n, 0, &m, &err);
        if (rc == PP_OK) {
            accepted++;
            (void)touch_all(m);
            pp_model_free(m);
        } else {
            cr_assert_null(m);
            cr_assert(err.msg[0], "failure without a message");
            cr_assert(rc == PP_ERR_FORMAT || rc == PP_ERR_UNSUPPORTED, "%s: %s", pp_code_name(rc), err.msg);
        }
    }
    cr_log_info("random edits: %d of %d accepted", accepted, iters);
    free(orig);
    pp_free(im.p);
}

Test(corrupt, allocation_failures_leak_nothing) {
    img im = ref_image();
    int ok_seen = 0;
    for (long nth = 1; nth < 20 && !ok_seen; nth++) {
        pp_fault_arm_alloc(nth);
        pp_error err = {0};
        pp_model *m = NULL;
        pp_code rc = pp_model_load_memory(im.p + 0, im.n, 0, &m, &err);
        pp_fault_arm_alloc(0);
        if (rc == PP_OK) {
            ok_seen = 1;
            pp_model_free(m);
        } else {
            cr_assert_eq(rc, PP_ERR_NOMEM, "%s", err.msg);
            cr_assert(strstr(err.msg, "bytes"), "%s", err.msg);
            cr_assert_null(m);
        }
    }
    cr_assert(ok_seen);
    ref_ids id;
    pp_mb *b = reference(&id);
    make_tmpdir();
    char path[400];
    snprintf(path, sizeof path, "%s/model.bin", tmpdir);
    ok_seen = 0;
    for (long nth = 1; nth < 40 && !ok_seen; nth++) {
        pp_fault_arm_alloc(nth);
        pp_error err = {0};
        void *data = NULL;
        size_t size;
        pp_code rc = pp_model_write_memory(pp_mb_model(b), &data, &size, &err);
        pp_fault_arm_alloc(nth);
        pp_code rc2 = pp_model_write(pp_mb_model(b), path, &err);
        pp_fault_arm_alloc(0);
        if (rc == PP_OK) pp_free(data);
        if (rc2 == PP_OK) ok_seen = 1;
        else cr_assert_eq(count_files(), 0, "a failed write left a file");
        if (rc != PP_OK) cr_assert_eq(rc, PP_ERR_NOMEM, "%s", err.msg);
    }
    cr_assert(ok_seen);
    remove_tmpdir();
    pp_mb_free(b);
    pp_free(im.p);
}
