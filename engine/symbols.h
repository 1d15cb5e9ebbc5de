/* symbols.h: the IR's symbolic dimensions and its shape program (docs/ir.md).
 *
 * A graph may name a few symbols (batch, seq, ...), each with a range [min, max]
 * of the values a run may give it. Shape arithmetic that depends on them is kept
 * as a shape program: integer instructions (pp_shape_op, include/ppformat.h) in
 * SSA form, each reading symbols, constants and the values of earlier
 * instructions. The value of instruction i is "slot" i. A tensor dimension is
 *   d >= 0                          a fixed extent,
 *   PP_DIM_SLOT_BASE < d < 0        (-d) × batch (format 1's only symbolic form),
 *   d <= PP_DIM_SLOT_BASE           slot PP_DIM_SLOT_BASE - d,
 * and an element of an INT, INTS, FLOAT or FLOATS attribute may be a slot
 * (pp_attr.sym). Before a describe function runs, the symbols get values (a
 * pp_dimenv: the batch of one micro-batch, every other symbol whole per run), the
 * program is evaluated and bound attribute elements take their slots' values,
 * so describe functions only ever see concrete shapes.
 *
 * Emitting folds constants, simplifies the obvious (x + 0, x * 1, ...) and reuses
 * an identical instruction, so the same expression is the same slot. Bounds are
 * interval arithmetic over the symbols' ranges, for sizing buffers at the ranges'
 * maxima and for deciding comparisons at conversion.
 */
#ifndef PP_SYMBOLS_H
#define PP_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

#include "../include/ppformat.h"
#include "../loader/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The max of a symbol nobody bounded. An engine needs a real one for every
 * symbol but the batch (`--dim seq=1..512`, or the inputs of `ppengine run`). */
#define PP_SYM_UNBOUNDED ((int64_t)INT32_MAX)

typedef struct pp_symbol {
    char *name; /* owned */
    int64_t min, max;
} pp_symbol;

typedef struct pp_symtab {
    pp_symbol sym[PP_MAX_SYMBOLS];
    int n_sym;
    int batch;               /* index of the batch symbol, -1 when there is none */
    pp_fmt_shape_inst *prog; /* owned, n_prog instructions */
    int n_prog, cap_prog;
} pp_symtab;

/* A symbolic scalar: the constant v, or (slot >= 0) the value of a slot. */
typedef struct pp_sx {
    int64_t v;
    int32_t slot;
} pp_sx;

static inline pp_sx pp_sx_const(int64_t v) {
    pp_sx x = {v, -1};
    return x;
}
static inline pp_sx pp_sx_slot(int32_t s) {
    pp_sx x = {0, s};
    return x;
}

static inline int pp_dim_is_slot(int64_t d) { return d <= PP_DIM_SLOT_BASE; }
static inline int64_t pp_dim_of_slot(int32_t s) { return PP_DIM_SLOT_BASE - s; }
static inline int64_t pp_dim_slot(int64_t d) { return PP_DIM_SLOT_BASE - d; } /* >= 0 for a slot dim */

void pp_symtab_init(pp_symtab *t);
void pp_symtab_free(pp_symtab *t);
/* dst (initialised or freed) becomes a copy of src. */
pp_code pp_symtab_copy(pp_symtab *dst, const pp_symtab *src, pp_error *err);

/* Adds a symbol (name copied); its index, or -1 with err set (a duplicate name,
 * more than PP_MAX_SYMBOLS, a second batch, an empty or inverted range). */
int pp_symtab_add(pp_symtab *t, const char *name, int64_t min, int64_t max, int is_batch, pp_error *err);
/* The index of the symbol named name, or -1. */
int pp_symtab_find(const pp_symtab *t, const char *name);
/* The batch symbol's index, adding "N" (1..PP_SYM_UNBOUNDED) when there is none:
 * graphs whose dims use the (-k) × batch form have one. -1 and err when full. */
int pp_symtab_ensure_batch(pp_symtab *t, pp_error *err);
/* 1 when a format 1.0 file says as much: no program and at most an unnamed,
 * unbounded batch (its name is not kept then). */
int pp_symtab_is_plain(const pp_symtab *t);

/* Emits op(a, b, c) (operands the op does not read are ignored), folding
 * constants, simplifying and reusing an identical instruction: *out is a
 * constant or a slot. Errors: constant arithmetic that overflows or divides by
 * zero, a program past PP_MAX_SHAPE_INSTS, out of memory. */
pp_code pp_symtab_emit(pp_symtab *t, pp_shape_op op, pp_sx a, pp_sx b, pp_sx c, pp_sx *out, pp_error *err);
/* Drops the instructions nothing needs: used[i] (n_prog flags) marks those the
 * graph refers to, and their operands are kept too. remap[i] gets instruction
 * i's new index, -1 for a dropped one. used is overwritten. */
void pp_symtab_prune(pp_symtab *t, char *used, int32_t *remap);
/* The slot holding symbol s. */
pp_code pp_symtab_symbol(pp_symtab *t, int s, pp_sx *out, pp_error *err);
/* A dimension as a symbolic scalar: a constant, a slot, or (for (-k) × batch)
 * the slot of k × batch. */
pp_code pp_symtab_dim(pp_symtab *t, int64_t dim, pp_sx *out, pp_error *err);

/* Evaluates slots [from, n_prog) into slot[] given every symbol's value sym[]
 * (slots before `from` must hold their values already). Errors name the slot,
 * its expression and the operands (overflow, division by zero). */
pp_code pp_symtab_eval(const pp_symtab *t, const int64_t *sym, int64_t *slot, int from, pp_error *err);
/* Interval bounds of every slot when symbol i lies in [lo[i], hi[i]]; extents
 * that overflow saturate at INT64_MIN / INT64_MAX. */
void pp_symtab_bounds(const pp_symtab *t, const int64_t *lo, const int64_t *hi, int64_t *slot_lo, int64_t *slot_hi);
/* The same for one value over the symbols' own ranges (a constant: itself). */
void pp_symtab_range(const pp_symtab *t, pp_sx x, int64_t *lo, int64_t *hi);

/* Text for messages and `ppengine info`: "seq", "batch*seq", "seq+1",
 * "min(seq, 512)"; a dimension: "7", "N", "3N", "seq". Into buf. */
const char *pp_symtab_slot_str(const pp_symtab *t, int32_t slot, char *buf, size_t size);
const char *pp_symtab_dim_str(const pp_symtab *t, int64_t dim, char *buf, size_t size);
/* "batch=2, seq=7": every symbol's value, into buf. */
const char *pp_symtab_values_str(const pp_symtab *t, const int64_t *sym, char *buf, size_t size);

/* Narrows ranges by a list like "seq=1..256,batch=1..8" ("seq=128": one value)
 * within the table's own: lo[] and hi[] (one entry per symbol) start as the
 * table's ranges and are narrowed. "batch" names the batch symbol whatever its
 * name. Errors name the item: an unknown symbol (listing the graph's), a bad
 * spelling, an empty range (max < min), a range outside the table's. */
pp_code pp_symtab_narrow(const pp_symtab *t, const char *list, int64_t *lo, int64_t *hi, pp_error *err);
/* One item "NAME=MIN..MAX" or "NAME=VALUE": the name into name[n], the range. */
pp_code pp_dim_spec_parse(const char *item, size_t len, char *name, size_t n, int64_t *lo, int64_t *hi, pp_error *err);

/* The values of everything symbolic at one point: each symbol, the batch (for
 * (-k) × batch dims: the batch symbol's value, 1 without one) and every slot. */
typedef struct pp_dimenv {
    int64_t sym[PP_MAX_SYMBOLS];
    int64_t batch;
    int64_t *slot; /* owned: pp_dimenv_free */
    int n_slot;
} pp_dimenv;

/* Fills env for symbol values sym[] (n_sym of them), evaluating the program.
 * env may be reused: its slots are reallocated only when they must grow. */
pp_code pp_dimenv_set(pp_dimenv *env, const pp_symtab *t, const int64_t *sym, pp_error *err);
void pp_dimenv_free(pp_dimenv *env);
/* A dimension's value in env (INT64_MAX for a slot env does not hold). */
int64_t pp_dim_value(int64_t d, const pp_dimenv *env);

#ifdef __cplusplus
}
#endif
#endif
