/* test_format.c: graph.bin written and read back (memory, file, the same bytes
 * again), names, sizes and the checksum, and the writer's own refusals. The
 * reference model and the image helpers: support/format_image.h; damaged files:
 * test_format_sweeps.c and test_format_refusals.c. */
#include <criterion/criterion.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "support/format_image.h"

/* ---- comparing models ----------------------------------------------------------- */

static const char *nz(const char *s) { return s ? s : ""; }

static void same_model(const pp_model *a, const pp_model *b) {
    cr_assert_eq(a->n_tensors, b->n_tensors);
    cr_assert_eq(a->n_nodes, b->n_nodes);
    cr_assert_eq(a->n_inputs, b->n_inputs);
    cr_assert_eq(a->n_outputs, b->n_outputs);
    cr_assert_eq(a->n_meta, b->n_meta);
    for (uint32_t i = 0; i < a->n_tensors; i++) {
        const pp_model_tensor *x = &a->tensors[i], *y = &b->tensors[i];
        cr_assert_str_eq(nz(x->name), nz(y->name), "tensor %u", i);
        cr_assert_eq(x->dtype, y->dtype, "tensor %u", i);
        cr_assert_eq(x->kind, y->kind, "tensor %u", i);
        cr_assert_eq(x->rank, y->rank, "tensor %u", i);
        for (int k = 0; k < x->rank; k++) cr_assert_eq(x->dims[k], y->dims[k], "tensor %u dim %d", i, k);
        cr_assert_eq(x->nbytes, y->nbytes, "tensor %u", i);
        if (x->nbytes) cr_assert(memcmp(x->data, y->data, (size_t)x->nbytes) == 0, "tensor %u bytes", i);
    }
    for (uint32_t j = 0; j < a->n_nodes; j++) {
        const pp_model_node *x = &a->nodes[j], *y = &b->nodes[j];
        cr_assert_eq(x->op, y->op, "node %u", j);
        cr_assert_str_eq(nz(x->name), nz(y->name), "node %u", j);
        cr_assert_eq(x->n_inputs, y->n_inputs, "node %u", j);
        cr_assert_eq(x->n_outputs, y->n_outputs, "node %u", j);
        cr_assert_eq(x->n_attrs, y->n_attrs, "node %u", j);
        for (uint32_t k = 0; k < x->n_inputs; k++) cr_assert_eq(x->inputs[k], y->inputs[k], "node %u in %u", j, k);
        for (uint32_t k = 0; k < x->n_outputs; k++) cr_assert_eq(x->outputs[k], y->outputs[k], "node %u out %u", j, k);
        for (uint32_t k = 0; k < x->n_attrs; k++) {
            const pp_model_attr *p = &x->attrs[k], *q = &y->attrs[k];
            cr_assert_str_eq(nz(p->name), nz(q->name), "node %u attr %u", j, k);
            cr_assert_eq(p->type, q->type, "node %u attr %u", j, k);
            switch (p->type) {
            case PP_ATTR_INT: cr_assert_eq(p->i, q->i); break;
            case PP_ATTR_FLOAT: cr_assert(memcmp(&p->f, &q->f, sizeof p->f) == 0); break;
            case PP_ATTR_STRING: cr_assert_str_eq(nz(p->s), nz(q->s)); break;
            case PP_ATTR_INTS:
                cr_assert_eq(p->count, q->count);
                if (p->count) cr_assert(memcmp(p->ints, q->ints, p->count * sizeof(int64_t)) == 0);
                break;
            case PP_ATTR_FLOATS:
                cr_assert_eq(p->count, q->count);
                if (p->count) cr_assert(memcmp(p->floats, q->floats, p->count * sizeof(double)) == 0);
                break;
            }
        }
    }
    for (uint32_t k = 0; k < a->n_inputs; k++) cr_assert_eq(a->inputs[k], b->inputs[k]);
    for (uint32_t k = 0; k < a->n_outputs; k++) cr_assert_eq(a->outputs[k], b->outputs[k]);
    for (uint32_t k = 0; k < a->n_meta; k++) {
        cr_assert_str_eq(nz(a->meta[k].key), nz(b->meta[k].key));
        cr_assert_str_eq(nz(a->meta[k].value), nz(b->meta[k].value));
    }
}

/* ---- round trips ------------------------------------------------------------------ */

Test(format, round_trip_memory) {
    ref_ids id;
    pp_mb *b = reference(&id);
    const pp_model *src = pp_mb_model(b);
    pp_error err = {0};
    void *data;
    size_t size;
    cr_assert_eq(pp_model_write_memory(src, &data, &size, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(size % PP_FMT_ALIGN, 0);

    /* A 64-aligned buffer is used in place: every pointer lands inside it. */
    void *aligned;
    cr_assert_eq(posix_memalign(&aligned, 64, size), 0);
    memcpy(aligned, data, size);
    pp_model *m = NULL;
    cr_assert_eq(pp_model_load_memory(aligned, size, 0, &m, &err), PP_OK, "%s", err.msg);
    same_model(src, m);
    /* Nothing symbolic beyond the batch: written as format 1.0, as before format 2. */
    cr_assert_eq(m->version_major, 1);
    cr_assert_eq(m->version_minor, 0);
    const unsigned char *lo = aligned, *hi = lo + size;
    for (uint32_t i = 0; i < m->n_tensors; i++) {
        const pp_model_tensor *t = &m->tensors[i];
        cr_assert((const unsigned char *)t->name >= lo && (const unsigned char *)t->name < hi, "name %u", i);
        if (t->kind != PP_TENSOR_WEIGHT) {
            cr_assert_null(t->data);
            continue;
        }
        cr_assert_eq((uintptr_t)t->data % PP_FMT_ALIGN, 0, "weight %u not 64-aligned", i);
        cr_assert((const unsigned char *)t->data >= lo && (const unsigned char *)t->data + t->nbytes <= hi,
                  "weight %u outside the buffer", i);
    }
    cr_assert_eq(m->tensors[id.scale].rank, 0);
    cr_assert_eq(m->tensors[id.scale].nbytes, 4);
    cr_assert_float_eq(*(const float *)m->tensors[id.scale].data, 0.5f, 0);
    cr_assert_eq(m->tensors[id.empty].nbytes, 0);
    cr_assert_eq(m->tensors[id.tokens].dims[0], -2);
    cr_assert_eq(m->nodes[4].inputs[2], PP_FMT_NONE);
    cr_assert_str_eq(pp_model_meta_get(m, "producer"), "test_format");
    cr_assert_str_eq(pp_model_meta_get(m, "opset"), "13");
    cr_assert_null(pp_model_meta_get(m, "absent"));
    /* Strings are stored once: the tensor "relu", the node "relu" and the key "relu". */
    cr_assert_eq(m->tensors[id.relu].name, m->nodes[1].name);
    cr_assert_eq(m->tensors[id.relu].name, m->meta[2].key);

    /* Writing what was read gives the same bytes. */
    void *again;
    size_t again_size;
    cr_assert_eq(pp_model_write_memory(m, &again, &again_size, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(again_size, size);
    cr_assert(memcmp(again, data, size) == 0, "write(read(write(m))) differs from write(m)");
    pp_free(again);
    pp_model_free(m);

    /* A misaligned buffer still yields 64-aligned weights (from an aligned copy). */
    unsigned char *odd = malloc(size + 8);
    memcpy(odd + 8 + ((uintptr_t)(odd + 8) % 64 == 0), data, size);
    const unsigned char *src_bytes = odd + 8 + ((uintptr_t)(odd + 8) % 64 == 0);
    cr_assert_neq((uintptr_t)src_bytes % 64, 0);
    cr_assert_eq(pp_model_load_memory(src_bytes, size, 0, &m, &err), PP_OK, "%s", err.msg);
    same_model(src, m);
    for (uint32_t i = 0; i < m->n_tensors; i++)
        if (m->tensors[i].kind == PP_TENSOR_WEIGHT)
            cr_assert_eq((uintptr_t)m->tensors[i].data % PP_FMT_ALIGN, 0, "weight %u", i);
    pp_model_free(m);
    free(odd);
    free(aligned);
    pp_free(data);
    pp_mb_free(b);
}

Test(format, round_trip_file) {
    make_tmpdir();
    ref_ids id;
    pp_mb *b = reference(&id);
    const pp_model *src = pp_mb_model(b);
    char path[400];
    snprintf(path, sizeof path, "%s/model.bin", tmpdir);
    pp_error err = {0};
    cr_assert_eq(pp_model_write(src, path, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(count_files(), 1, "the temporary file was left behind");
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_mode & 0777, 0644);

    void *mem;
    size_t mem_size;
    cr_assert_eq(pp_model_write_memory(src, &mem, &mem_size, &err), PP_OK);
    cr_assert_eq((size_t)st.st_size, mem_size);
    FILE *f = fopen(path, "rb");
    unsigned char *disk = malloc(mem_size);
    cr_assert_eq(fread(disk, 1, mem_size, f), mem_size);
    fclose(f);
    cr_assert(memcmp(disk, mem, mem_size) == 0, "file and memory writers disagree");
    free(disk);
    pp_free(mem);

    for (unsigned flags = 0; flags <= PP_LOAD_SKIP_DATA_CHECKSUM; flags += PP_LOAD_SKIP_DATA_CHECKSUM) {
        pp_model *m = NULL;
        cr_assert_eq(pp_model_load(path, flags, &m, &err), PP_OK, "%s", err.msg);
        same_model(src, m);
        const char *first_name = m->tensors[0].name;
        for (uint32_t i = 0; i < m->n_tensors; i++) {
            const pp_model_tensor *t = &m->tensors[i];
            if (t->kind != PP_TENSOR_WEIGHT) continue;
            cr_assert_eq((uintptr_t)t->data % PP_FMT_ALIGN, 0, "weight %u", i);
            /* Names and weights come from the same mapping of mem_size bytes. */
            ptrdiff_t d = (const char *)t->data - first_name;
            cr_assert(d > 0 && (size_t)d < mem_size, "weight %u is not in the mapping", i);
        }
        pp_model_free(m);
    }
    pp_model *m = (pp_model *)1;
    snprintf(path, sizeof path, "%s/absent.bin", tmpdir);
    cr_assert_eq(pp_model_load(path, 0, &m, &err), PP_ERR_IO);
    cr_assert_null(m);
    cr_assert(strstr(err.msg, "absent.bin"), "%s", err.msg);
    cr_assert_eq(pp_model_load(tmpdir, 0, &m, &err), PP_ERR_IO);
    cr_assert(strstr(err.msg, "not a regular file"), "%s", err.msg);
    pp_mb_free(b);
    remove_tmpdir();
}

Test(format, null_error_keeps_the_code) {
    img im = ref_image();
    pp_model *m;
    im.p[0] ^= 1;
    cr_assert_eq(pp_model_load_memory(im.p, im.n, 0, &m, NULL), PP_ERR_FORMAT);
    make_tmpdir();
    char path[400];
    snprintf(path, sizeof path, "%s/bad.bin", tmpdir);
    FILE *f = fopen(path, "wb");
    fwrite(im.p, 1, im.n, f);
    fclose(f);
    cr_assert_eq(pp_model_load(path, 0, &m, NULL), PP_ERR_FORMAT);
    cr_assert_null(m);
    remove_tmpdir();
    pp_free(im.p);
}

Test(format, empty_model) {
    pp_mb *b = pp_mb_new();
    pp_error err = {0};
    void *data;
    size_t size;
    cr_assert_eq(pp_model_write_memory(pp_mb_model(b), &data, &size, &err), PP_OK, "%s", err.msg);
    pp_model *m = NULL;
    cr_assert_eq(pp_model_load_memory(data, size, 0, &m, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(m->n_tensors + m->n_nodes + m->n_inputs + m->n_outputs + m->n_meta, 0);
    pp_model_free(m);
    pp_free(data);
    pp_mb_free(b);
}

Test(format, names_and_sizes) {
    cr_assert_eq(pp_dtype_size(PP_DTYPE_F32), 4);
    cr_assert_eq(pp_dtype_size(PP_DTYPE_BF16), 2);
    cr_assert_eq(pp_dtype_size(PP_DTYPE_F64), 8);
    cr_assert_eq(pp_dtype_size(PP_DTYPE_INVALID), 0);
    cr_assert_eq(pp_dtype_size((pp_dtype)200), 0);
    for (int d = 1; d < PP_DTYPE_COUNT; d++) cr_assert_eq((int)pp_dtype_from_name(pp_dtype_name((pp_dtype)d)), d);
    cr_assert_eq(pp_dtype_from_name("f128"), PP_DTYPE_INVALID);
    cr_assert_str_eq(pp_dtype_name((pp_dtype)99), "invalid");
    cr_assert_str_eq(pp_op_name(PP_OP_CONV), "CONV");
    cr_assert_str_eq(pp_op_name(PP_OP_LEAKY_RELU), "LEAKY_RELU");
    cr_assert_null(pp_op_name((pp_op)7));
    cr_assert_null(pp_op_name(PP_OP_INVALID));
    cr_assert_eq(pp_op_from_name("LeakyRelu"), PP_OP_LEAKY_RELU);
    cr_assert_eq(pp_op_from_name("conv"), PP_OP_CONV);
    cr_assert_eq(pp_op_from_name("GlobalAvgpool"), PP_OP_GLOBAL_AVGPOOL);
    cr_assert_eq(pp_op_from_name("NoSuchOp"), PP_OP_INVALID);
    cr_assert_eq(pp_op_from_name(""), PP_OP_INVALID);
    for (int op = 0; op <= PP_OP_MAX_VALUE; op++) {
        const char *n = pp_op_name((pp_op)op);
        if (n) cr_assert_eq((int)pp_op_from_name(n), op, "op %d '%s' does not round trip", op, n);
    }
}

Test(format, checksum) {
    /* Reference values, also printed in docs/format.md for other implementations. */
    cr_assert_eq(pp_fmt_checksum("", 0), 0x2b8b1ade776d0acbull);
    cr_assert_eq(pp_fmt_checksum("abc", 3), 0x43c0b73c241301b0ull);
    unsigned char buf[300];
    for (int i = 0; i < 300; i++) buf[i] = (unsigned char)i;
    cr_assert_eq(pp_fmt_checksum(buf, 32), 0x36bec348b1cada0bull);
    cr_assert_eq(pp_fmt_checksum(buf, 100), 0xd48253c5f8f332aaull);
    cr_assert_eq(pp_fmt_checksum(NULL, 0), 0x2b8b1ade776d0acbull);
    /* Every single-bit flip, at every length that exercises the tail paths. */
    for (size_t n = 1; n <= 100; n += 33) {
        uint64_t h = pp_fmt_checksum(buf, n);
        for (size_t bit = 0; bit < n * 8; bit++) {
            buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
            cr_assert_neq(pp_fmt_checksum(buf, n), h, "flip of bit %zu of %zu bytes undetected", bit, n);
            buf[bit / 8] ^= (unsigned char)(1u << (bit % 8));
        }
    }
    /* Appending zeros changes it (the length is mixed in). */
    unsigned char z[64] = {0};
    for (size_t n = 0; n < 64; n++) cr_assert_neq(pp_fmt_checksum(z, n), pp_fmt_checksum(z, n + 1), "length %zu", n);
}

/* ---- the writer's own checks ---------------------------------------------------------------- */

static pp_model *editable(pp_mb *b) { return (pp_model *)pp_mb_model(b); }

static void writer_refuses(const pp_model *m, const char *substr) {
    pp_error err = {0};
    void *data = (void *)1;
    size_t size = 1;
    pp_code rc = pp_model_write_memory(m, &data, &size, &err);
    cr_assert_eq(rc, PP_ERR_INVALID_ARG, "expected a refusal (%s), got %s: %s", substr, pp_code_name(rc), err.msg);
    cr_assert_null(data);
    cr_assert_eq(size, 0);
    cr_assert(strstr(err.msg, substr), "message \"%s\" lacks \"%s\"", err.msg, substr);
}

Test(writer, refuses_dangling_id_and_leaves_no_file) {
    make_tmpdir();
    ref_ids id;
    pp_mb *b = reference(&id);
    pp_model_node *n = (pp_model_node *)&editable(b)->nodes[1];
    ((uint32_t *)n->inputs)[0] = 500;
    char path[400];
    snprintf(path, sizeof path, "%s/model.bin", tmpdir);
    pp_error err = {0};
    cr_assert_eq(pp_model_write(pp_mb_model(b), path, &err), PP_ERR_INVALID_ARG);
    cr_assert(strstr(err.msg, "node 1 'relu': input 0 is tensor 500, but there are 18"), "%s", err.msg);
    cr_assert(strstr(err.msg, "model.bin"), "%s", err.msg);
    cr_assert_eq(count_files(), 0, "a refused write left a file (or a temporary) behind");

    /* An existing file is left untouched by a refused write. */
    FILE *f = fopen(path, "wb");
    fputs("old", f);
    fclose(f);
    cr_assert_eq(pp_model_write(pp_mb_model(b), path, &err), PP_ERR_INVALID_ARG);
    cr_assert_eq(count_files(), 1);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0);
    cr_assert_eq(st.st_size, 3);

    /* An unwritable folder fails with IO and leaves nothing. */
    ((uint32_t *)n->inputs)[0] = id.conv_out;
    snprintf(path, sizeof path, "%s/no/such/dir/model.bin", tmpdir);
    cr_assert_eq(pp_model_write(pp_mb_model(b), path, &err), PP_ERR_IO);
    cr_assert(strstr(err.msg, "temporary"), "%s", err.msg);
    pp_mb_free(b);
    remove_tmpdir();
}

Test(writer, refuses_invalid_models) {
    ref_ids id;
    pp_mb *b = reference(&id);
    pp_model *m = editable(b);
    pp_model_tensor *t = (pp_model_tensor *)m->tensors;
    pp_model_node *n = (pp_model_node *)m->nodes;

    t[id.conv_w].dtype = (pp_dtype)42;
    writer_refuses(m, "tensor 3 'conv.weight': invalid dtype 42");
    t[id.conv_w].dtype = PP_DTYPE_F32;

    t[id.x].rank = 9;
    writer_refuses(m, "tensor 0 'x': rank 9 is outside 0..8");
    t[id.x].rank = 4;

    t[id.fc_w].dims[0] = -4;
    writer_refuses(m, "tensor 10 'fc.weight': weight dims[0] = -4 is negative");
    t[id.fc_w].dims[0] = 4;

    t[id.conv_b].nbytes = 12;
    writer_refuses(m, "tensor 4 'conv.bias': weight has 12 bytes but its shape needs 8");
    t[id.conv_b].nbytes = 8;

    t[id.flat].dims[0] = INT64_C(1) << 62;
    writer_refuses(m, "tensor 14 'flat': dims overflow");
    t[id.flat].dims[0] = PP_DIM_BATCH;

    n[2].op = (pp_op)7;
    writer_refuses(m, "node 2 'model/mul': unknown op 7");
    n[2].op = PP_OP_MUL;

    ((uint32_t *)n[0].inputs)[0] = id.scaled;
    writer_refuses(m, "node 0 'model/conv': input 0, activation 13 'scaled', is not produced by an earlier node");
    ((uint32_t *)n[0].inputs)[0] = id.x;

    ((uint32_t *)n[2].outputs)[0] = id.relu;
    writer_refuses(m, "tensor 12 'relu' is produced twice: by node 1 'relu' and node 2 'model/mul'");
    ((uint32_t *)n[2].outputs)[0] = id.scaled;

    ((uint32_t *)n[2].outputs)[0] = id.scale;
    writer_refuses(m, "node 2 'model/mul': output 0, tensor 5 'scale', is a WEIGHT");
    ((uint32_t *)n[2].outputs)[0] = id.scaled;

    ((pp_model_attr *)n[0].attrs)[2].type = (pp_attr_type)9;
    writer_refuses(m, "node 0 'model/conv': attribute 'group' has unknown type 9");
    ((pp_model_attr *)n[0].attrs)[2].type = PP_ATTR_INT;

    ((uint32_t *)m->inputs)[1] = id.conv_w;
    writer_refuses(m, "graph input 1, tensor 3 'conv.weight', is a WEIGHT, not an INPUT");
    ((uint32_t *)m->inputs)[1] = id.mask;

    m->n_inputs = 2;
    writer_refuses(m, "tensor 2 'unused' is an INPUT but not a graph input");
    m->n_inputs = 3;

    t[id.unused].kind = PP_TENSOR_ACTIVATION;
    ((uint32_t *)m->outputs)[0] = id.unused;
    m->n_inputs = 2;
    writer_refuses(m, "graph output 0, tensor 2 'unused', is never produced");
    ((uint32_t *)m->outputs)[0] = id.fc_out;
    writer_refuses(m, "activation 2 'unused' is never produced");
    t[id.unused].kind = PP_TENSOR_INPUT;
    m->n_inputs = 3;

    unsigned char *flags = pp_mb_tensor_data(b, id.flags);
    flags[1] = 3;
    writer_refuses(m, "tensor 6 'flags': bool element 1 is 3, not 0 or 1");
    flags[1] = 0;

    t[id.x].nbytes = 4;
    writer_refuses(m, "tensor 0 'x': a INPUT tensor has data (4 bytes)");
    t[id.x].nbytes = 0;

    /* Restored, it writes. */
    void *data;
    size_t size;
    pp_error err;
    cr_assert_eq(pp_model_write_memory(m, &data, &size, &err), PP_OK, "%s", err.msg);
    pp_free(data);
    pp_mb_free(b);
}
