/* fuzz_pickle: data.pkl bytes → pp_pickle_load (the safe unpickler); an
 * accepted tree is walked the way a consumer does (depth-bounded, since lists
 * may contain themselves), touching every string, item and tensor field. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "converter/pickle.h"
#include "fuzz_common.h"

static volatile size_t sink;
/* Shared items and self-containing lists make the tree a DAG with cycles: a
 * depth bound alone leaves 2^64 paths, so the walk also has a visit budget. */
static long budget;

static void walk(const pp_pk_value *v, int depth) {
    if (!v || depth > PP_PICKLE_MAX_DEPTH || budget-- <= 0) return;
    sink += (size_t)v->type;
    if ((unsigned)v->type > PP_PK_TENSOR) fz_fail("value of unknown type %d", (int)v->type);
    switch (v->type) {
    case PP_PK_STR:
    case PP_PK_BYTES:
    case PP_PK_GLOBAL:
        if (!v->s) fz_fail("%s value without bytes", pp_pk_type_name(v->type));
        for (size_t i = 0; i < v->len; i++) sink += (uint8_t)v->s[i];
        if (v->type != PP_PK_GLOBAL && v->s[v->len] != 0) fz_fail("%s not NUL-terminated", pp_pk_type_name(v->type));
        break;
    case PP_PK_TUPLE:
    case PP_PK_LIST:
    case PP_PK_SET:
    case PP_PK_DICT: {
        /* n counts items; a dict's are key, value, key, value (pp_pk_dict_get). */
        if (v->type == PP_PK_DICT && v->n % 2) fz_fail("dict with an odd number (%zu) of items", v->n);
        for (size_t i = 0; i < v->n; i++) walk(v->items[i], depth + 1);
        break;
    }
    case PP_PK_STORAGE:
        if (pp_pk_stype_size(v->stype) == 0) fz_fail("storage of invalid type");
        if (v->key) sink += strlen(v->key);
        if (v->location) sink += strlen(v->location);
        break;
    case PP_PK_TENSOR:
        if (v->rank < 0 || v->rank > PP_MAX_RANK) fz_fail("tensor of rank %d", v->rank);
        for (int d = 0; d < v->rank; d++) sink += (size_t)(v->size[d] + v->stride[d]);
        walk(v->storage, depth + 1);
        break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pp_pickle *p = NULL;
    const pp_pk_value *root = NULL;
    pp_error err;
    memset(&err, 0, sizeof err);
    pp_code rc = pp_pickle_load(data, size, "fuzz.pkl", &p, &root, &err);
    fz_check_error(rc, &err, "pp_pickle_load");
    if (rc) {
        pp_pickle_free(p); /* NULL on failure; harmless either way */
        return 0;
    }
    budget = 1 << 16;
    walk(root, 0);
    (void)pp_pk_dict_get(root, "state_dict");
    pp_pickle_free(p);
    return 0;
}
