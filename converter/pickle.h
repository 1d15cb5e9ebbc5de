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
#include "pickle_values.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Runs the pickle in [data, data + size). `what` names it in messages
 * ("model.pt: data.pkl"). On success *out holds the result tree and *root the
 * top value; both live until pp_pickle_free. Errors name the opcode and its
 * byte offset. */
pp_code pp_pickle_load(const void *data, size_t size, const char *what, pp_pickle **out, const pp_pk_value **root,
                       pp_error *err);
#ifdef __cplusplus
}
#endif
#endif
