/* pickle_values.h: the values a pickle builds (what pickle.h hands out), and
 * the unpickler's state, value arena and stack (pickle_values.c), shared by the
 * machine (pickle.c) and the torch allow-list (pickle_globals.c). */
#ifndef PP_PICKLE_VALUES_H
#define PP_PICKLE_VALUES_H

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

void pp_pickle_free(pp_pickle *p);

/* Dict lookup by string key (NULL when absent or d is not a dict). */
const pp_pk_value *pp_pk_dict_get(const pp_pk_value *d, const char *key);

const char *pp_pk_type_name(pp_pk_type t);

struct pp_pickle {
    pp_pk_value **chunks;
    size_t n_chunks, cap_chunks, used; /* values used in the last chunk */
    size_t n_values;
    pp_pk_value **stack;
    size_t sp, scap;
    size_t marks[PP_PICKLE_MAX_MARKS];
    int n_marks;
    pp_pk_value **memo;
    size_t memo_cap, memo_count;
    const uint8_t *b;
    size_t size, pos, op_off;
    uint8_t op;
    char what[128];
    pp_error *err;
};

/* Fails with a message naming the file, the opcode's byte offset and name. */
pp_code pp_pk_fail(pp_pickle *P, pp_code code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The opcode's name ("BINUNICODE"). */
const char *pp_pk_op_name(uint8_t op);
/* A name from the file made printable for a message. */
const char *pp_pk_printable(char *buf, size_t n, const char *s);
/* A new value in the arena (NULL and P->err set past the limits or out of memory). */
pp_pk_value *pp_pk_new(pp_pickle *P, pp_pk_type type);
/* A NUL-terminated copy of n bytes, owned by the arena. */
char *pp_pk_dup(pp_pickle *P, const void *s, size_t n);
pp_pk_value *pp_pk_new_str(pp_pickle *P, pp_pk_type type, const void *s, size_t n);
pp_code pp_pk_add_item(pp_pickle *P, pp_pk_value *c, pp_pk_value *item);
/* The stack: its bottom above the innermost MARK, push, pop, top, and pop to the MARK. */
size_t pp_pk_base(const pp_pickle *P);
pp_code pp_pk_push(pp_pickle *P, pp_pk_value *v);
pp_pk_value *pp_pk_pop(pp_pickle *P);
pp_pk_value *pp_pk_top(pp_pickle *P);
pp_code pp_pk_pop_mark(pp_pickle *P, size_t *first);

#ifdef __cplusplus
}
#endif
#endif
