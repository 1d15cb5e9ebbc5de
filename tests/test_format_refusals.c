/* test_format_refusals.c: damaged graph.bin images, one structural check each,
 * the checksums fixed so that the check itself has to catch the damage, each
 * refusal naming what it found. Helpers: support/format_image.h. */
#include <criterion/criterion.h>
#include <stdint.h>

#include "support/format_image.h"

/* ---- corruptions: one check each -------------------------------------------------------- */

Test(corrupt, short_header) {
    img im = ref_image();
    refused_as(im.p, 63, 0, PP_ERR_FORMAT, "the file is 63 bytes, shorter than the 64-byte header");
    refused_as(im.p, 0, 0, PP_ERR_FORMAT, "the file is 0 bytes");
    pp_free(im.p);
}

Test(corrupt, bad_magic) {
    img im = ref_image();
    im.p[0] = 'X';
    refused_fixed(&im, "header at offset 0: bad magic 5850475241504800");
    pp_free(im.p);
}

Test(corrupt, newer_major_version) {
    img im = ref_image();
    hdr(&im)->version_major = 3;
    fix_checksums(&im);
    refused_as(im.p, im.n, 0, PP_ERR_UNSUPPORTED, "file format 3.0 is newer than this reader's 2.0");
    pp_free(im.p);
}

Test(corrupt, major_version_zero) {
    img im = ref_image();
    hdr(&im)->version_major = 0;
    refused_fixed(&im, "file format 0.0 predates format 1");
    pp_free(im.p);
}

Test(corrupt, newer_minor_version_is_accepted) {
    img im = ref_image();
    hdr(&im)->version_minor = 7;
    fix_checksums(&im);
    pp_model *m;
    pp_error err;
    cr_assert_eq(pp_model_load_memory(im.p, im.n, 0, &m, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(m->version_minor, 7);
    pp_model_free(m);
    pp_free(im.p);
}

Test(corrupt, header_fields) {
    img im = ref_image();
    hdr(&im)->header_size = 32;
    refused_fixed(&im, "header at offset 12: header_size is 32, expected 64");
    hdr(&im)->header_size = 64;
    hdr(&im)->flags = 4;
    refused_fixed(&im, "header at offset 28: flags are 0x4, expected 0");
    hdr(&im)->flags = 0;
    hdr(&im)->section_table_offset = 128;
    refused_fixed(&im, "header at offset 32: section_table_offset is 128, expected 64");
    hdr(&im)->section_table_offset = 64;
    hdr(&im)->reserved[15] = 1;
    refused_fixed(&im, "header at offset 48: reserved bytes are not zero");
    pp_free(im.p);
}

Test(corrupt, file_size_mismatch) {
    img im = ref_image();
    unsigned char *big = calloc(1, im.n + 64);
    memcpy(big, im.p, im.n);
    char want[128];
    snprintf(want, sizeof want, "file_size says %zu bytes but the file is %zu bytes", im.n, im.n + 64);
    refused_as(big, im.n + 64, 0, PP_ERR_FORMAT, want);
    free(big);
    pp_free(im.p);
}

Test(corrupt, header_checksum) {
    img im = ref_image();
    im.p[64 + 9 * 32 + 3] ^= 0x10; /* in the padding after the table */
    refused(&im, "header at offset 40: header checksum mismatch over bytes [0, 384)");
    pp_free(im.p);
}

Test(corrupt, section_table_past_end) {
    img im = ref_image();
    hdr(&im)->section_count = 1000000;
    refused(&im, "header at offset 24: section table of 1000000 entries");
    pp_free(im.p);
}

Test(corrupt, section_misaligned) {
    img im = ref_image();
    entry(&im, PP_SEC_TENSORS)->offset += 8;
    refused_fixed(&im, "section table at offset 96: entry 1 (section TENSORS): offset");
    refused(&im, "is not a multiple of 64");
    pp_free(im.p);
}

Test(corrupt, section_overlap) {
    img im = ref_image();
    entry(&im, PP_SEC_NODES)->offset -= 64;
    refused_fixed(&im, "entry 2 (section NODES): offset");
    refused(&im, "overlaps the previous section");
    pp_free(im.p);
}

Test(corrupt, section_gap) {
    img im = ref_image();
    entry(&im, PP_SEC_NODES)->offset += 64;
    refused_fixed(&im, "(sections must tile the file)");
    pp_free(im.p);
}

Test(corrupt, section_past_end) {
    img im = ref_image();
    entry(&im, PP_SEC_DATA)->size = im.n * 2;
    refused_fixed(&im, "entry 8 (section DATA): bytes [");
    refused(&im, "run past the end of the file");
    pp_free(im.p);
}

Test(corrupt, section_short_of_end) {
    img im = ref_image();
    pp_fmt_section *d = entry(&im, PP_SEC_DATA);
    d->size -= 128; /* the reference's DATA ends well past 128 bytes of its last weight */
    refused_fixed(&im, "the sections end at");
    pp_free(im.p);
}

Test(corrupt, section_duplicated) {
    img im = ref_image();
    entry(&im, PP_SEC_NODES)->kind = PP_SEC_TENSORS;
    refused_fixed(&im, "entry 2: section TENSORS appears twice (first as entry 1)");
    pp_free(im.p);
}

Test(corrupt, required_section_missing) {
    img im = ref_image();
    entry(&im, PP_SEC_NODES)->kind = 77; /* unknown kinds are skipped... */
    refused_fixed(&im, "required section NODES is missing");
    pp_free(im.p);
}

Test(corrupt, unknown_optional_section_is_ignored) {
    img im = ref_image();
    entry(&im, PP_SEC_METADATA)->kind = 200; /* ...and METADATA is optional */
    fix_checksums(&im);
    pp_model *m;
    pp_error err;
    cr_assert_eq(pp_model_load_memory(im.p, im.n, 0, &m, &err), PP_OK, "%s", err.msg);
    cr_assert_eq(m->n_meta, 0);
    cr_assert_null(pp_model_meta_get(m, "producer"));
    pp_model_free(m);
    pp_free(im.p);
}

Test(corrupt, section_flags) {
    img im = ref_image();
    entry(&im, PP_SEC_VALUES)->flags = 1;
    refused_fixed(&im, "entry 5 (section VALUES): flags are 0x1, expected 0");
    pp_free(im.p);
}

Test(corrupt, section_checksums_name_the_section) {
    static const char *const names[] = {NULL,      "STRINGS", "TENSORS",  "NODES",    "ATTRS",
                                        "INDICES", "VALUES",  "GRAPH_IO", "METADATA", "DATA"};
    for (uint32_t kind = PP_SEC_STRINGS; kind <= PP_SEC_DATA; kind++) {
        img im = ref_image();
        pp_fmt_section *e = entry(&im, kind);
        if (e->size == 0) {
            pp_free(im.p);
            continue;
        }
        im.p[e->offset + e->size / 2] ^= 0x04;
        char want[64];
        snprintf(want, sizeof want, "%s at offset %llu: section checksum mismatch", names[kind],
                 (unsigned long long)e->offset);
        refused(&im, want);
        if (kind == PP_SEC_DATA) {
            /* Skipping DATA's checksum is exactly what lets this one through. */
            pp_model *m;
            pp_error err;
            cr_assert_eq(pp_model_load_memory(im.p, im.n, PP_LOAD_SKIP_DATA_CHECKSUM, &m, &err), PP_OK, "%s", err.msg);
            pp_model_free(m);
        }
        pp_free(im.p);
    }
}

Test(corrupt, record_size) {
    img im = ref_image();
    pp_fmt_section *e = entry(&im, PP_SEC_TENSORS);
    cr_assert_neq((e->offset + e->size) % 64, 1, "choose another section for this test");
    e->size -= 1; /* the last byte, a reserved zero, becomes padding */
    refused_fixed(&im, "section size 1727 is not a multiple of the 96-byte record");
    pp_free(im.p);
}

Test(corrupt, strings_must_start_empty) {
    img im = ref_image();
    sec(&im, PP_SEC_STRINGS)[0] = 'a';
    refused_fixed(&im, "STRINGS at offset");
    refused(&im, "the section must start with the empty string");
    pp_free(im.p);
}

Test(corrupt, unterminated_string) {
    img im = ref_image();
    pp_fmt_section *e = entry(&im, PP_SEC_STRINGS);
    im.p[e->offset + e->size - 1] = 'x';
    refused_fixed(&im, "the last string is unterminated");
    pp_free(im.p);
}

Test(corrupt, string_offset_out_of_range) {
    img im = ref_image();
    tensor_rec(&im, 2)->name = (uint32_t)entry(&im, PP_SEC_STRINGS)->size;
    refused_fixed(&im, "tensor 2: name offset");
    refused(&im, "is outside STRINGS");
    pp_free(im.p);
}

Test(corrupt, bad_dtype) {
    img im = ref_image();
    tensor_rec(&im, im.id.conv_w)->dtype = 42;
    refused_fixed(&im, "tensor 3 'conv.weight': invalid dtype 42");
    pp_free(im.p);
}

Test(corrupt, rank_nine) {
    img im = ref_image();
    tensor_rec(&im, im.id.x)->rank = 9;
    refused_fixed(&im, "tensor 0 'x': rank 9 exceeds the maximum 8");
    pp_free(im.p);
}

Test(corrupt, unused_dims_nonzero) {
    img im = ref_image();
    tensor_rec(&im, im.id.conv_b)->dims[3] = 5;
    refused_fixed(&im, "tensor 4 'conv.bias': dims[3] = 5 beyond rank 1 is not zero");
    pp_free(im.p);
}

Test(corrupt, unknown_tensor_kind) {
    img im = ref_image();
    tensor_rec(&im, im.id.relu)->kind = 7;
    refused_fixed(&im, "'relu': unknown kind 7");
    pp_free(im.p);
}

Test(corrupt, dims_overflow) {
    img im = ref_image();
    pp_fmt_tensor *t = tensor_rec(&im, im.id.flat);
    t->dims[0] = -(INT64_C(1) << 40);
    t->dims[1] = INT64_C(1) << 40;
    refused_fixed(&im, "'flat': dims overflow");
    t->dims[0] = INT64_MIN; /* -INT64_MIN is not representable */
    t->dims[1] = 1;
    refused_fixed(&im, "'flat': dims overflow");
    pp_free(im.p);
}

Test(corrupt, weight_with_batch_dim) {
    img im = ref_image();
    tensor_rec(&im, im.id.fc_w)->dims[0] = -4;
    refused_fixed(&im, "'fc.weight': weight dims[0] = -4 is negative");
    pp_free(im.p);
}

Test(corrupt, weight_size_mismatch) {
    img im = ref_image();
    tensor_rec(&im, im.id.conv_w)->dims[0] = 3;
    refused_fixed(&im, "'conv.weight': data_size 216 but the shape needs 324 bytes");
    pp_free(im.p);
}

Test(corrupt, misaligned_weight) {
    img im = ref_image();
    tensor_rec(&im, im.id.conv_b)->data_offset += 8;
    refused_fixed(&im, "'conv.bias': data_offset");
    refused(&im, "is not a multiple of 64");
    pp_free(im.p);
}

Test(corrupt, weight_outside_data) {
    img im = ref_image();
    tensor_rec(&im, im.id.fc_w)->data_offset = pp_fmt_align(entry(&im, PP_SEC_DATA)->size);
    refused_fixed(&im, "'fc.weight': data [");
    refused(&im, "lies outside DATA");
    tensor_rec(&im, im.id.fc_w)->data_offset = UINT64_MAX - 63; /* no wrap-around either */
    refused_fixed(&im, "lies outside DATA");
    pp_free(im.p);
}

Test(corrupt, overlapping_weights) {
    img im = ref_image();
    /* conv.bias (8 bytes) moved onto conv.weight's range. */
    tensor_rec(&im, im.id.conv_b)->data_offset = tensor_rec(&im, im.id.conv_w)->data_offset + 64;
    refused_fixed(&im, "tensor 3 'conv.weight' data [0, 216) overlaps tensor 4 'conv.bias' data [64, 72) in DATA");
    pp_free(im.p);
}

Test(corrupt, non_weight_with_data) {
    img im = ref_image();
    tensor_rec(&im, im.id.x)->data_size = 4;
    refused_fixed(&im, "tensor 0 'x': a INPUT tensor has data");
    pp_free(im.p);
}

Test(corrupt, bool_weight_not_zero_or_one) {
    img im = ref_image();
    sec(&im, PP_SEC_DATA)[tensor_rec(&im, im.id.flags)->data_offset + 2] = 2;
    refused_fixed(&im, "'flags': bool element 2 is 2, not 0 or 1");
    pp_free(im.p);
}

Test(corrupt, unknown_op) {
    img im = ref_image();
    node_rec(&im, 1)->op = 254;
    refused_fixed(&im, "node 1 'relu': unknown op 254");
    pp_free(im.p);
}

Test(corrupt, node_reserved) {
    img im = ref_image();
    node_rec(&im, 0)->reserved[0] = 1;
    refused_fixed(&im, "node 0 'model/conv': reserved bytes are not zero");
    pp_free(im.p);
}

Test(corrupt, node_name_out_of_range) {
    img im = ref_image();
    node_rec(&im, 2)->name = 0xFFFFFF00u;
    refused_fixed(&im, "node 2: name offset 4294967040 is outside STRINGS");
    pp_free(im.p);
}

Test(corrupt, node_inputs_outside_indices) {
    img im = ref_image();
    node_rec(&im, 6)->n_inputs = 1000;
    refused_fixed(&im, "node 6 'model/tokens': inputs [");
    refused(&im, "lie outside INDICES");
    pp_free(im.p);
}

Test(corrupt, node_attrs_outside_attrs) {
    img im = ref_image();
    node_rec(&im, 4)->n_attrs = 0xFFFFFFF0u;
    refused_fixed(&im, "node 4 'model/fc': attributes [");
    refused(&im, "lie outside ATTRS");
    pp_free(im.p);
}

Test(corrupt, node_ranges_out_of_sequence) {
    img im = ref_image();
    node_rec(&im, 1)->inputs_begin = 0; /* shares node 0's first input */
    refused_fixed(&im, "(INDICES holds each node's inputs then outputs, in node order)");
    pp_free(im.p);
}

Test(corrupt, dangling_input) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->inputs_begin) = 999;
    refused_fixed(&im, "node 1 'relu': input 0 refers to tensor 999, but there are 18 (dangling)");
    pp_free(im.p);
}

Test(corrupt, dangling_output) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->outputs_begin) = 18;
    refused_fixed(&im, "node 1 'relu': output 0 refers to tensor 18, but there are 18 (dangling)");
    pp_free(im.p);
}

Test(corrupt, absent_output) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->outputs_begin) = PP_FMT_NONE;
    refused_fixed(&im, "node 1 'relu': output 0 is absent");
    pp_free(im.p);
}

Test(corrupt, output_is_a_weight) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->outputs_begin) = im.id.scale;
    refused_fixed(&im, "node 1 'relu': output 0 writes tensor 5 'scale', which is a WEIGHT");
    pp_free(im.p);
}

Test(corrupt, cyclic_graph) {
    img im = ref_image();
    /* conv's input x replaced by mul's output: conv (node 0) needs node 2. */
    *index_rec(&im, node_rec(&im, 0)->inputs_begin) = im.id.scaled;
    refused_fixed(&im, "node 0 'model/conv': input 0, tensor 13 'scaled', is produced by the later node 2 'model/mul'");
    pp_free(im.p);
}

Test(corrupt, self_loop) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 1)->inputs_begin) = im.id.relu;
    refused_fixed(&im, "node 1 'relu': input 0, tensor 12 'relu', is its own output (a cycle)");
    pp_free(im.p);
}

Test(corrupt, tensor_produced_twice) {
    img im = ref_image();
    *index_rec(&im, node_rec(&im, 2)->outputs_begin) = im.id.relu;
    refused_fixed(&im, "tensor 12 'relu' is produced twice: by node 1 'relu' and by node 2 'model/mul'");
    pp_free(im.p);
}

Test(corrupt, activation_used_but_never_produced) {
    img im = ref_image();
    /* 'unused' becomes an activation that only an added input reads. */
    tensor_rec(&im, im.id.unused)->kind = PP_TENSOR_ACTIVATION;
    *index_rec(&im, node_rec(&im, 4)->inputs_begin + 2) = im.id.unused; /* gemm's absent C */
    refused_fixed(&im, "node 4 'model/fc': input 2, activation 2 'unused', is never produced");
    pp_free(im.p);
}

Test(corrupt, graph_output_never_produced) {
    img im = ref_image();
    tensor_rec(&im, im.id.unused)->kind = PP_TENSOR_ACTIVATION;
    io_ids(&im)[io_rec(&im)->n_inputs] = im.id.unused;
    refused_fixed(&im, "graph output 0, tensor 2 'unused', is never produced");
    pp_free(im.p);
}

Test(corrupt, orphan_activation) {
    img im = ref_image();
    /* 'unused' becomes an activation nobody reads or writes. */
    tensor_rec(&im, im.id.unused)->kind = PP_TENSOR_ACTIVATION;
    io_ids(&im)[2] = im.id.x; /* its graph input slot, now a duplicate */
    refused_fixed(&im, "graph input 2, tensor 0 'x', is listed twice");
    io_rec(&im)->n_inputs = 2;
    io_rec(&im)->n_outputs = 4; /* the freed slot becomes a first output: x */
    refused_fixed(&im, "activation 2 'unused' is never produced by any node");
    pp_free(im.p);
}

Test(corrupt, graph_input_not_input) {
    img im = ref_image();
    io_ids(&im)[1] = im.id.conv_w;
    refused_fixed(&im, "graph input 1, tensor 3 'conv.weight', is a WEIGHT, not an INPUT");
    pp_free(im.p);
}

Test(corrupt, input_not_listed) {
    img im = ref_image();
    io_rec(&im)->n_inputs = 2;
    io_rec(&im)->n_outputs = 4; /* 'unused' moves from the inputs to the outputs */
    refused_fixed(&im, "tensor 2 'unused' is an INPUT but not a graph input");
    pp_free(im.p);
}

Test(corrupt, graph_io_dangling) {
    img im = ref_image();
    io_ids(&im)[io_rec(&im)->n_inputs + 1] = 77;
    refused_fixed(&im, "graph output 1 refers to tensor 77, but there are 18 (dangling)");
    pp_free(im.p);
}

Test(corrupt, graph_io_size) {
    img im = ref_image();
    io_rec(&im)->n_inputs = 7;
    refused_fixed(&im, "GRAPH_IO at offset");
    refused(&im, "7 inputs and 3 outputs need 48");
    pp_free(im.p);
}

Test(corrupt, unknown_attribute_type) {
    img im = ref_image();
    attr_rec(&im, 2)->type = 9;
    refused_fixed(&im, "attribute 2 'group' of node 0 'model/conv': unknown attribute type 9");
    pp_free(im.p);
}

Test(corrupt, attribute_values_outside_pool) {
    img im = ref_image();
    attr_rec(&im, 1)->count = 1000;
    refused_fixed(&im, "attribute 1 'pads' of node 0 'model/conv': 1000 values at VALUES offset 16 lie outside VALUES");
    pp_free(im.p);
}

Test(corrupt, attribute_values_misaligned) {
    img im = ref_image();
    attr_rec(&im, 4)->value.pool += 4;
    refused_fixed(&im, "attribute 4 'scales' of node 0 'model/conv': VALUES offset 52 is not a multiple of 8");
    pp_free(im.p);
}

Test(corrupt, attribute_string_out_of_range) {
    img im = ref_image();
    attr_rec(&im, 3)->value.str = UINT64_C(1) << 40;
    refused_fixed(&im, "attribute 3 'auto_pad' of node 0 'model/conv': string offset 1099511627776 is outside STRINGS");
    pp_free(im.p);
}

Test(corrupt, attribute_without_name) {
    img im = ref_image();
    attr_rec(&im, 9)->name = 0;
    refused_fixed(&im, "attribute 9 of node 4 'model/fc' has an empty name");
    pp_free(im.p);
}

Test(corrupt, attribute_scalar_count) {
    img im = ref_image();
    attr_rec(&im, 2)->count = 2;
    refused_fixed(&im, "attribute 2 'group' of node 0 'model/conv': count is 2, expected 1");
    pp_free(im.p);
}

Test(corrupt, metadata_out_of_range) {
    img im = ref_image();
    pp_fmt_meta *mr = (pp_fmt_meta *)(void *)sec(&im, PP_SEC_METADATA);
    mr[1].value = 1u << 30;
    refused_fixed(&im, "METADATA at offset");
    refused(&im, "entry 1: value offset 1073741824 is outside STRINGS");
    pp_free(im.p);
}

Test(corrupt, indices_unused_entries) {
    img im = ref_image();
    pp_fmt_node *n = node_rec(&im, 6);
    n->n_inputs = 1; /* the last node drops its second input, leaving the last entry unused */
    n->outputs_begin -= 1;
    *index_rec(&im, n->outputs_begin) = im.id.tokens;
    refused_fixed(&im, "INDICES at offset");
    refused(&im, "the section has 21 entries but the nodes use 20");
    pp_free(im.p);
}

/* Every message above is different: the checks really are distinct. */
