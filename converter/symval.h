/* symval.h: shape values at conversion: small integer tensors whose elements
 * are constants or values of the graph's shape program (engine/symbols.h).
 *
 * Exporters write shape arithmetic as ops on tensors: torch's `x.view(B*T, C)`
 * with dynamic B and T becomes Shape → Gather → Mul → Concat → Reshape. The
 * importers evaluate those ops on pp_symvals instead of emitting nodes: an
 * element that depends on the symbols becomes a shape program value (folded,
 * simplified and shared by pp_symtab_emit), so what reaches a Reshape's shape,
 * an Expand's, a Slice's ends or a Range's limit is a list of constants and
 * program values, which the IR keeps as symbolic attribute values (docs/ir.md).
 *
 * Comparisons are decided from the symbols' ranges where they can be (torch's
 * `Equal(shape, -1)` is false: extents are not negative); otherwise they become
 * program values too. What has no integer meaning (a shape value divided as a
 * float that is not exact) is refused with PP_ERR_UNSUPPORTED, and the importer
 * then computes it as data at run time.
 */
#ifndef PP_SYMVAL_H
#define PP_SYMVAL_H

#include <stdint.h>

#include "../engine/graph.h"
#include "../loader/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define PP_SYM_MAX 16

typedef struct pp_symval {
    pp_dtype dtype; /* what the model thinks it is: i64, i32, f32/f64 after a Cast, bool after a comparison */
    int rank;       /* 0 or 1 */
    int n;          /* elements; 1 when rank is 0 */
    pp_sx e[PP_SYM_MAX];
} pp_symval;

/* 1 when no element is a program value. */
int pp_symval_is_const(const pp_symval *v);

/* A constant tensor (rank <= 1, at most PP_SYM_MAX elements; integers, bool, or
 * floats holding integers) as a symval; `what` names it in errors. */
pp_code pp_symval_from_data(pp_dtype dtype, int rank, const int64_t *dims, const void *data, pp_symval *out,
                            const char *what, pp_error *err);
/* A constant symval as tensor bytes of its dtype (*data pp_malloc'ed). */
pp_code pp_symval_to_data(const pp_symval *v, void **data, uint64_t *nbytes, pp_error *err);
/* A tensor's shape (dims in the IR's encoding) as an i64 vector. */
pp_code pp_symval_from_dims(pp_symtab *t, int rank, const int64_t *dims, pp_symval *out, pp_error *err);

/* The ONNX shape ops on symvals, with NumPy broadcasting of rank <= 1 operands.
 * `what` names the node in errors: PP_ERR_SHAPE for operands that do not fit,
 * PP_ERR_UNSUPPORTED for what has no integer shape-program meaning. */
typedef enum pp_symval_op { PP_SV_ADD, PP_SV_SUB, PP_SV_MUL, PP_SV_DIV, PP_SV_MOD } pp_symval_op;
pp_code pp_symval_binary(pp_symtab *t, pp_symval_op op, const pp_symval *a, const pp_symval *b, pp_symval *out,
                         const char *what, pp_error *err);
pp_code pp_symval_neg(pp_symtab *t, const pp_symval *a, pp_symval *out, const char *what, pp_error *err);
/* Equal (cmp 0), Less (-1), Greater (1), and with `or_equal` LessOrEqual and
 * GreaterOrEqual: a bool symval. */
pp_code pp_symval_compare(pp_symtab *t, int cmp, int or_equal, const pp_symval *a, const pp_symval *b, pp_symval *out,
                          const char *what, pp_error *err);
/* Not of a bool symval. */
pp_code pp_symval_not(pp_symtab *t, const pp_symval *a, pp_symval *out, const char *what, pp_error *err);
/* Max (is_max 1) / Min (0). */
pp_code pp_symval_minmax(pp_symtab *t, int is_max, const pp_symval *a, const pp_symval *b, pp_symval *out,
                         const char *what, pp_error *err);
pp_code pp_symval_where(pp_symtab *t, const pp_symval *cond, const pp_symval *x, const pp_symval *y, pp_symval *out,
                        const char *what, pp_error *err);
/* Gather along axis 0 with constant indices (rank 0 or 1). */
pp_code pp_symval_gather(const pp_symval *data, const pp_symval *idx, pp_symval *out, const char *what, pp_error *err);
/* ONNX Slice on axis 0 with one start, end and step (clamped as ONNX does). */
pp_code pp_symval_slice(const pp_symval *data, int64_t start, int64_t end, int64_t step, pp_symval *out,
                        const char *what, pp_error *err);
pp_code pp_symval_concat(const pp_symval *const *parts, int n, pp_symval *out, const char *what, pp_error *err);
pp_code pp_symval_cast(pp_symtab *t, const pp_symval *a, pp_dtype to, pp_symval *out, const char *what, pp_error *err);
/* ReduceProd (is_prod 1) / ReduceSum over axis 0; keepdims gives rank 1. */
pp_code pp_symval_reduce(pp_symtab *t, int is_prod, const pp_symval *a, int keepdims, pp_symval *out, const char *what,
                         pp_error *err);
/* "[batch, seq*4, 7]"-style text into buf. */
const char *pp_symval_str(const pp_symtab *t, const pp_symval *v, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
