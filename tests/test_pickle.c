/* The safe unpickler (converter/pickle.h): pickles written here byte by byte.
 * Plain values and torch's tensor rebuilds are built; hostile pickles (os.system,
 * builtins.eval, instantiation, deep nesting, memo abuse, huge lengths, stack
 * underflow, truncation) are refused with a message naming the opcode and byte;
 * and random mutations of a real data.pkl never crash. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "converter/pickle.h"
#include "converter/zip.h"

#ifndef PP_SOURCE_DIR
#define PP_SOURCE_DIR "."
#endif

#define P(s) (const uint8_t *)(s), sizeof(s) - 1

static const pp_pk_value *load(pp_pickle **pk, const uint8_t *b, size_t n) {
    pp_error err = {0};
    const pp_pk_value *root = NULL;
    pp_code rc = pp_pickle_load(b, n, "t.pkl", pk, &root, &err);
    cr_assert_eq(rc, PP_OK, "%s", err.msg);
    return root;
}

static void refused(const uint8_t *b, size_t n, const char *needle) {
    /* An exact-size copy, so that ASan catches any read past the end. */
    uint8_t *c = malloc(n ? n : 1);
    memcpy(c, b, n);
    pp_error err = {0};
    pp_pickle *pk = NULL;
    const pp_pk_value *root = NULL;
    pp_code rc = pp_pickle_load(c, n, "t.pkl", &pk, &root, &err);
    cr_expect_neq(rc, PP_OK, "accepted; expected '%s'", needle);
    cr_expect(pk == NULL && root == NULL);
    cr_expect(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
    pp_pickle_free(pk);
    free(c);
}

Test(pickle, plain_values) {
    pp_pickle *pk;
    /* {'a': 1, 'b': (-2, 3.5, None, True, 'x'), 'c': [300, 70000, -1, 2**40], 'd': b'\x00\xff'} */
    const pp_pk_value *r = load(&pk, P("\x80\x02}q\x00(X\x01\x00\x00\x00"
                                       "aK\x01X\x01\x00\x00\x00"
                                       "b(J\xfe\xff\xff\xff"
                                       "G@\x0c\x00\x00\x00\x00\x00\x00N\x88X\x01\x00\x00\x00xtX\x01\x00\x00\x00"
                                       "c]"
                                       "(M,\x01J\x70\x11\x01\x00\x8a\x01\xff\x8a\x06\x00\x00\x00\x00\x00\x01"
                                       "eX\x01\x00"
                                       "\x00\x00"
                                       "dC\x02\x00\xffu."));
    cr_assert_eq(r->type, PP_PK_DICT);
    cr_assert_eq(r->n, 8, "4 pairs");
    cr_expect_eq(pp_pk_dict_get(r, "a")->i, 1);
    const pp_pk_value *b = pp_pk_dict_get(r, "b");
    cr_assert(b && b->type == PP_PK_TUPLE && b->n == 5);
    cr_expect_eq(b->items[0]->i, -2);
    cr_expect_eq(b->items[1]->f, 3.5);
    cr_expect_eq(b->items[2]->type, PP_PK_NONE);
    cr_expect_eq(b->items[3]->type, PP_PK_BOOL);
    cr_expect_str_eq(b->items[4]->s, "x");
    const pp_pk_value *c = pp_pk_dict_get(r, "c");
    cr_assert(c && c->type == PP_PK_LIST && c->n == 4);
    cr_expect_eq(c->items[0]->i, 300);
    cr_expect_eq(c->items[1]->i, 70000);
    cr_expect_eq(c->items[2]->i, -1);
    cr_expect_eq(c->items[3]->i, (int64_t)1 << 40);
    const pp_pk_value *d = pp_pk_dict_get(r, "d");
    cr_assert(d && d->type == PP_PK_BYTES && d->len == 2);
    cr_expect_eq((uint8_t)d->s[1], 0xff);
    pp_pickle_free(pk);
}

/* OrderedDict{'w': tensor} with the storage ('storage', FloatStorage, '0', 'cpu', 12),
 * offset 2, size (2, 3), stride (1, 2): a transposed view. */
#define TENSOR_PKL                                                                                                     \
    "\x80\x02\x63\x63ollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00wq\x02\x63torch._utils\n_rebuild_tensor_"   \
    "v2\n"                                                                                                             \
    "q\x03((X\x07\x00\x00\x00storageq\x04\x63torch\nFloatStorage\nq\x05X\x01\x00\x00\x00"                              \
    "0q\x06X\x03\x00\x00\x00"                                                                                          \
    "cpu"                                                                                                              \
    "q\x07K\x0ctq\x08QK\x02K\x02K\x03\x86q\x09K\x01K\x02\x86q\x0a\x89h\x00)Rq\x0btq\x0cRq\x0ds}q\x0e"                  \
    "X\x00\x00\x00\x00}X\x07\x00\x00\x00versionK\x01ssb."

Test(pickle, tensor_rebuild) {
    pp_pickle *pk;
    const pp_pk_value *r = load(&pk, P(TENSOR_PKL));
    cr_assert_eq(r->type, PP_PK_DICT);
    const pp_pk_value *t = pp_pk_dict_get(r, "w");
    cr_assert(t && t->type == PP_PK_TENSOR);
    cr_expect_eq(t->rank, 2);
    cr_expect_eq(t->size[0], 2);
    cr_expect_eq(t->size[1], 3);
    cr_expect_eq(t->stride[0], 1);
    cr_expect_eq(t->stride[1], 2);
    cr_expect_eq(t->offset, 2);
    cr_expect_eq(t->dtype, PP_PK_S_F32);
    cr_expect_str_eq(t->storage->key, "0");
    cr_expect_str_eq(t->storage->location, "cpu");
    cr_expect_eq(t->storage->numel, 12);
    pp_pickle_free(pk);
}

Test(pickle, protocol4_opcodes) {
    pp_pickle *pk;
    /* FRAME, SHORT_BINUNICODE, STACK_GLOBAL collections.OrderedDict, MEMOIZE, BINGET, EMPTY_SET/ADDITEMS, FROZENSET */
    const pp_pk_value *r =
        load(&pk, P("\x80\x04\x95\x30\x00\x00\x00\x00\x00\x00\x00\x8c\x0b\x63ollections\x94\x8c\x0bOrderedDict"
                    "\x94\x93\x94)R\x94(\x8c\x01s\x8f(K\x01K\x02\x90\x8c\x01\x66(K\x03\x91\x8c\x01gh\x00u."));
    cr_assert_eq(r->type, PP_PK_DICT);
    const pp_pk_value *s = pp_pk_dict_get(r, "s");
    cr_assert(s && s->type == PP_PK_SET && s->n == 2);
    cr_assert(pp_pk_dict_get(r, "f")->type == PP_PK_SET);
    const pp_pk_value *g = pp_pk_dict_get(r, "g");
    cr_assert(g && g->type == PP_PK_STR && !strcmp(g->s, "collections"), "memo 0 holds the first string");
    pp_pickle_free(pk);
}

Test(pickle, codecs_encode_and_torch_size) {
    pp_pickle *pk;
    /* (_codecs.encode('\u00e9a', 'latin1'), torch.Size((2, 3))) */
    const pp_pk_value *r =
        load(&pk, P("\x80\x02\x63_codecs\nencode\nX\x03\x00\x00\x00\xc3\xa9\x61X\x06\x00\x00\x00latin1\x86R"
                    "\x63torch\nSize\nK\x02K\x03\x86\x85R\x86."));
    cr_assert_eq(r->type, PP_PK_TUPLE);
    const pp_pk_value *b = r->items[0];
    cr_assert(b->type == PP_PK_BYTES && b->len == 2 && (uint8_t)b->s[0] == 0xE9 && b->s[1] == 'a');
    cr_assert(r->items[1]->type == PP_PK_TUPLE && r->items[1]->n == 2);
    pp_pickle_free(pk);
}

Test(pickle, self_referencing_list_terminates) {
    pp_pickle *pk;
    /* l = []; l.append(l) */
    const pp_pk_value *r = load(&pk, P("\x80\x02]q\x00h\x00\x61."));
    cr_assert_eq(r->type, PP_PK_LIST);
    cr_expect_eq(r->items[0], r);
    pp_pickle_free(pk);
}

Test(pickle, hostile_globals) {
    refused(P("\x80\x02\x63os\nsystem\nX\x02\x00\x00\x00ls\x85R."), "global 'os.system' is not allowed");
    refused(P("\x80\x02\x63\x62uiltins\neval\nX\x03\x00\x00\x00\x31+1\x85R."), "global 'builtins.eval' is not allowed");
    refused(P("\x80\x02\x63__builtin__\ngetattr\n."), "global '__builtin__.getattr' is not allowed");
    refused(P("\x80\x02\x63posix\nsystem\n."), "global 'posix.system' is not allowed");
    refused(P("\x80\x02\x63torch\nload\n."), "global 'torch.load' is not allowed");
    refused(P("\x80\x02\x63torch._utils\n_rebuild_from_type\n."),
            "global 'torch._utils._rebuild_from_type' is not allowed");
    /* The same through STACK_GLOBAL. */
    refused(P("\x80\x04\x8c\x02os\x8c\x06system\x93."), "global 'os.system' is not allowed");
    refused(P("\x80\x04\x8c\x02os\x8c\x07sys\ntem\x93."), "global 'os.sys?tem' is not allowed");
    /* Allowed names that are not callables. */
    refused(P("\x80\x02\x63torch\nFloatStorage\n)R."), "'torch.FloatStorage' may not be called");
    refused(P("\x80\x02\x63torch\nfloat32\n)R."), "'torch.float32' may not be called");
    /* Instantiation (whole-module pickles) and the opcodes that call things. */
    refused(P("\x80\x02\x63\x63ollections\nOrderedDict\n)\x81."),
            "instantiating 'collections.OrderedDict' is not allowed");
    refused(P("\x80\x02(\x63os\nsystem\n."), "global 'os.system'");
    refused(P("\x80\x02(ios\nsystem\n."), "INST");
    refused(P("\x80\x02]}b."), "BUILD on a list");
    refused(P("\x80\x02K\x01]\x61."), "");
    refused(P("\x80\x02K\x01K\x02\x61."), "APPEND on a int");
    refused(P("\x80\x02X\x01\x00\x00\x00\x61Q."), "persistent id is not a ('storage', ...) tuple");
    refused(
        P("\x80\x02(X\x07\x00\x00\x00storage\x63torch\nFloatStorage\nX\x01\x00\x00\x00\x30X\x03\x00\x00\x00\x63puK\x01"
          "K\x00tQ."),
        "legacy");
}

Test(pickle, stack_and_memo_abuse) {
    refused(P("\x80\x02."), "stack underflow");
    refused(P("\x80\x02\x86."), "stack underflow");
    refused(P("\x80\x02K\x01s."), "stack underflow");
    refused(P("\x80\x02(K\x01\x86."), "stack underflow"); /* TUPLE2 reaching below the MARK */
    refused(P("\x80\x02t."), "no MARK");
    refused(P("\x80\x02(K\x01."), "open MARK");
    refused(P("\x80\x02}(K\x01u."), "odd item count");
    refused(P("\x80\x02h\x05."), "memo entry 5 was never set");
    refused(P("\x80\x02j\xff\xff\xff\x7f."), "was never set");
    refused(P("\x80\x02K\x01r\xff\xff\xff\xff."), "memo index 4294967295 is over the limit");
    refused(P("\x80\x02q\x00."), "stack underflow");
    refused(P("\x80\x02K\x01"), "ends without STOP");
    refused(P(""), "ends without STOP");
    refused(P("\x80\x09."), "pickle protocol 9");
    refused(P("\x80\x02\xff."), "opcode not allowed");
}

Test(pickle, huge_lengths) {
    refused(P("\x80\x02X\xff\xff\xff\xff\x61."), "a 4294967295-byte string with only 2 bytes left");
    refused(P("\x80\x04\x8d\xff\xff\xff\xff\xff\xff\xff\xff."), "-byte string with only 1 bytes left");
    refused(P("\x80\x04\x8e\x00\x00\x00\x00\x00\x00\x00\x80."), "string with only");
    refused(P("\x80\x02T\xff\xff\xff\xff."), "negative string length");
    refused(P("\x80\x02\x8a\x09\x01\x02\x03\x04\x05\x06\x07\x08\x09."), "a 9-byte integer");
    refused(P("\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19."), "a 10-byte integer");
    refused(P("\x80\x02\x8a\x08\x01"), "truncated");
    refused(P("\x80\x02G\x00\x00"), "truncated");
    refused(P("\x80\x02X\x05\x00"), "truncated");
    refused(P("\x80\x04\x95\xff\xff\xff\xff\x00\x00\x00\x00N."), "frame runs past the end");
    refused(P("\x80\x02\x63os"), "unterminated module name");
    refused(P("\x80\x02\x63os\nsys"), "unterminated global name");
}

Test(pickle, deep_nesting) {
    /* 300 MARKs. */
    uint8_t b[700];
    size_t n = 0;
    b[n++] = 0x80, b[n++] = 2;
    for (int i = 0; i < 300; i++) b[n++] = '(';
    b[n++] = '.';
    refused(b, n, "nested MARKs");
    /* A list nested 100 deep through APPEND: [[[[...]]]] */
    n = 0;
    b[n++] = 0x80, b[n++] = 2;
    for (int i = 0; i < 100; i++) b[n++] = ']';
    for (int i = 0; i < 99; i++) b[n++] = 'a';
    b[n++] = '.';
    refused(b, n, "containers nest deeper than 64");
    /* Tuples 100 deep: N, then TUPLE1 × 100. */
    n = 0;
    b[n++] = 0x80, b[n++] = 2, b[n++] = 'N';
    for (int i = 0; i < 100; i++) b[n++] = 0x85;
    b[n++] = '.';
    refused(b, n, "nest deeper");
}

Test(pickle, tensor_arguments_checked) {
    /* _rebuild_tensor_v2 on a non-storage, and with a negative size. */
    refused(P("\x80\x02\x63torch._utils\n_rebuild_tensor_v2\n(K\x01K\x00K\x02\x85K\x01\x85\x89NtR."),
            "first argument is a int, not a storage");
    refused(P("\x80\x02\x63torch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storage\x63torch\nFloatStorage\n"
              "X\x01\x00\x00\x00\x30X\x03\x00\x00\x00\x63puK\x04tQK\x00J\xff\xff\xff\xff\x85K\x01\x85\x89NtR."),
            "tensor size[0] is not a non-negative int");
    refused(P("\x80\x02\x63torch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storage\x63torch\nFloatStorage\n"
              "X\x01\x00\x00\x00\x30X\x03\x00\x00\x00\x63puK\x04tQK\x00K\x02\x85)\x89NtR."),
            "size has 1 dims, stride 0");
    refused(P("\x80\x02\x63torch._utils\n_rebuild_tensor_v2\n(K\x01tR."), "tensor rebuild with 1 arguments");
}

/* Random byte mutations of a real state dict's data.pkl: no crash, no leak. */
Test(pickle, mutated_real_pickle) {
    FILE *f = fopen(PP_SOURCE_DIR "/tests/fixtures/models/resnet.pt", "rb");
    cr_assert(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len);
    cr_assert_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    pp_zip z;
    pp_error err = {0};
    cr_assert_eq(pp_zip_open(b, (size_t)len, "resnet.pt", &z, &err), PP_OK, "%s", err.msg);
    const uint8_t *d;
    uint64_t n;
    cr_assert_eq(pp_zip_entry_data(&z, pp_zip_find_record(&z, "data.pkl"), &d, &n, &err), PP_OK);
    pp_pickle *pk;
    const pp_pk_value *root;
    cr_assert_eq(pp_pickle_load(d, n, "data.pkl", &pk, &root, &err), PP_OK, "%s", err.msg);
    cr_expect_eq(root->type, PP_PK_DICT);
    cr_expect_eq(root->n, 2 * 62);
    pp_pickle_free(pk);
    uint8_t *c = malloc(n);
    uint64_t s = 0x243F6A8885A308D3ull;
    int ok = 0;
    for (int it = 0; it < 4000; it++) {
        memcpy(c, d, n);
        for (int k = 0; k < 1 + it % 3; k++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            c[s % n] = (uint8_t)(s >> 40);
        }
        size_t cut = it % 5 == 0 ? (size_t)(s >> 20) % n : n; /* sometimes truncated too */
        if (pp_pickle_load(c, cut, "m.pkl", &pk, &root, &err) == PP_OK) {
            ok++;
            pp_pickle_free(pk);
        }
    }
    cr_log_info("%d of 4000 mutated pickles still load", ok);
    free(c);
    pp_zip_close(&z);
    free(b);
}
