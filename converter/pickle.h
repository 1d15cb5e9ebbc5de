/* pickle.h: a safe unpickler for torch.save's data.pkl (formats.md §1.2–1.5).
 *
 * Nothing is executed and nothing is imported. The machine runs the protocol-2
 * opcodes of formats.md §1.4 plus the protocol 3–5 ones torch writes when asked
 * (FRAME, SHORT_BINUNICODE, BINUNICODE8, STACK_GLOBAL, MEMOIZE, BINBYTES,
 * SHORT_BINBYTES, BINBYTES8, EMPTY_SET, ADDITEMS, FROZENSET) and builds a tree of
 * plain values. GLOBAL / STACK_GLOBAL name only allow-listed callables and
 * classes (docs/checkpoints.md); REDUCE applies their meaning symbolically:
 * _rebuild_tensor_v2 makes a tensor value (storage, dtype, offset, size,
 * stride), OrderedDict() an empty dict, and so on. BUILD is accepted on dicts
 * and tensors only, and its state ignored. Anything else (os.system,
 * builtins.eval, a class to instantiate) is refused, naming it.
 *
 * Bounds: stack depth, marks, memo index, container nesting and the total
 * number of values are capped (PP_PICKLE_MAX_*); every read is checked against
 * the buffer. Values may form cycles only through the memo and lists/dicts
 * (APPEND of a list to itself): consumers walk the tree with a depth bound.
 */
#ifndef PP_PICKLE_H
#define PP_PICKLE_H

#include <stddef.h>
#include <stdint.h>

#include "../include/ppformat.h"
#include "../loader/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PP_PICKLE_MAX_STACK (1 << 20)
#define PP_PICKLE_MAX_MARKS 256
#define PP_PICKLE_MAX_MEMO (1 << 22)
#define PP_PICKLE_MAX_DEPTH 64
#define PP_PICKLE_MAX_VALUES (1 << 24)

typedef enum pp_pk_type {
    PP_PK_NONE = 0,
    PP_PK_BOOL,
    PP_PK_INT,
    PP_PK_FLOAT,
    PP_PK_STR, /* UTF-8 as in the file */
    PP_PK_BYTES,
    PP_PK_TUPLE,
    PP_PK_LIST,
    PP_PK_DICT, /* ordered; items are key, value, key, value, ... (n is twice the pairs) */
    PP_PK_SET,
    PP_PK_GLOBAL,  /* an allow-listed name, not yet called */
    PP_PK_STORAGE, /* a persistent id ('storage', type, key, location, numel) */
    PP_PK_TENSOR,
} pp_pk_type;

/* Storage element types (formats.md §1.2); UNTYPED counts bytes. */
typedef enum pp_pk_stype {
    PP_PK_S_INVALID = 0,
    PP_PK_S_F64,
    PP_PK_S_F32,
    PP_PK_S_F16,
    PP_PK_S_BF16,
    PP_PK_S_I64,
    PP_PK_S_I32,
    PP_PK_S_I16,
    PP_PK_S_I8,
    PP_PK_S_U8,
    PP_PK_S_BOOL,
    PP_PK_S_UNTYPED,
} pp_pk_stype;

/* Bytes per element of a storage type (1 for UNTYPED), 0 when invalid. */
size_t pp_pk_stype_size(pp_pk_stype t);
const char *pp_pk_stype_name(pp_pk_stype t);

typedef struct pp_pk_value pp_pk_value;

struct pp_pk_value {
    pp_pk_type type;
    int depth;           /* containers: 1 + deepest item seen */
    int64_t i;           /* BOOL, INT */
    double f;            /* FLOAT */
    char *s;             /* STR, BYTES (NUL added), GLOBAL "module.name"; owned by the pickle */
    size_t len;          /* STR, BYTES: bytes */
    pp_pk_value **items; /* TUPLE, LIST, SET: n items; DICT: n = 2 × pairs (key, value, key, value, ...) */
    size_t n, cap;
    /* STORAGE */
    pp_pk_stype stype;
    char *key, *location; /* owned by the pickle */
    int64_t numel;
    /* TENSOR */
    const pp_pk_value *storage;
    int64_t offset; /* elements */
    int rank;
    int64_t size[PP_MAX_RANK], stride[PP_MAX_RANK];
    pp_pk_stype dtype; /* the element type (the storage's, or v3's dtype argument) */
};

typedef struct pp_pickle pp_pickle;

/* Runs the pickle in [data, data + size). `what` names it in messages
 * ("model.pt: data.pkl"). On success *out holds the result tree and *root the
 * top value; both live until pp_pickle_free. Errors name the opcode and its
 * byte offset. */
pp_code pp_pickle_load(const void *data, size_t size, const char *what, pp_pickle **out, const pp_pk_value **root,
                       pp_error *err);
void pp_pickle_free(pp_pickle *p);

/* Dict lookup by string key (NULL when absent or d is not a dict). */
const pp_pk_value *pp_pk_dict_get(const pp_pk_value *d, const char *key);

const char *pp_pk_type_name(pp_pk_type t);

#ifdef __cplusplus
}
#endif
#endif
