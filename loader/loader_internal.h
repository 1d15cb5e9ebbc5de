/* loader_internal.h: helpers shared by the loader's own files (checksum.c,
 * read.c, write.c, npy.c). Not part of the loader's face (model.h, npy.h). */
#ifndef PP_LOADER_INTERNAL_H
#define PP_LOADER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../include/ppformat.h"
#include "error.h"

/* Records are copied to and from the file with memcpy, so the host must store
 * integers and doubles the way the file does. Every target we build for does. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "ppengine's loader assumes a little-endian host"
#endif

/* Incremental form of pp_fmt_checksum: feeding the same bytes in any number of
 * pieces gives the same value as one call over the whole. The writer uses it to
 * checksum DATA without first copying every weight into one buffer, and the
 * reader to checksum the header with its checksum field read as zero. */
typedef struct pp_cksum {
    uint64_t lane[4];
    uint64_t total;        /* bytes fed so far */
    unsigned char buf[32]; /* a partial 32-byte block */
    size_t nbuf;
} pp_cksum;

void pp_cksum_init(pp_cksum *c);
void pp_cksum_update(pp_cksum *c, const void *data, size_t n);
uint64_t pp_cksum_final(const pp_cksum *c);

/* Atomic output files: atomic.h. */
#include "atomic.h"

/* Bytes of a tensor at batch 1 (a dim d < 0 counts as -d): numel × dtype size.
 * Returns -1 when the product overflows u64 (INT64_MIN counts as overflow, its
 * negation being unrepresentable), 0 otherwise. */
int pp_dims_bytes(pp_dtype dt, int rank, const int64_t *dims, uint64_t *out);

/* Format 2's symbolic sections (symbols.c). The checks name the section, the
 * byte offset and the record; read.c and write.c share them. */
struct pp_model_symbol;
struct pp_model_attr;
pp_code pp_check_symbol(const struct pp_model_symbol *s, uint32_t i, const struct pp_model_symbol *all,
                        const char *where, uint64_t off, pp_error *err);
pp_code pp_check_shape_inst(const pp_fmt_shape_inst *in, uint32_t i, uint32_t n_symbols, const char *where,
                            uint64_t off, pp_error *err);
/* dims with every one naming a shape program value (format 2, when `slots`)
 * counted as 1, into fixed[], for the byte-size check; the axis naming a value
 * the program (n_prog long) lacks, or -1. */
int pp_slot_dims(const int64_t *dims, int rank, uint32_t n_prog, int slots, int64_t *fixed);
/* Where format 2's sections lie (offsets into the file, record counts). */
typedef struct pp_symbolic_sections {
    uint64_t str_off, str_size;
    uint64_t sym_off;
    uint32_t n_symbols;
    uint64_t prog_off;
    uint32_t n_prog;
    uint64_t attr_off, n_sym_attrs;
} pp_symbolic_sections;
/* Checks SYMBOLS into symbols[] (names point into STRINGS), SHAPE_PROGRAM, and
 * SYM_ATTRS, pointing each bound attribute's sym into *store (pp_malloc'ed; the
 * model owns it; NULL when there are none). */
pp_code pp_read_symbolic(const unsigned char *base, const pp_symbolic_sections *v, struct pp_model_attr *attrs,
                         uint32_t n_attrs, struct pp_model_symbol *symbols, uint32_t **store, pp_error *err);

/* Copies s into out (at most outsz - 1 bytes) for use inside a one-line error
 * message: control bytes become '?', and long names are cut with "...". */
const char *pp_msg_name(char *out, size_t outsz, const char *s);

#endif
