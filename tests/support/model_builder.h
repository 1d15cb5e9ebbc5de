/* model_builder.h: build a pp_model in memory, for tests and benchmarks.
 *
 *     pp_mb *b = pp_mb_new();
 *     int64_t xd[] = {PP_DIM_BATCH, 4}, wd[] = {3, 4}, yd[] = {PP_DIM_BATCH, 3};
 *     uint32_t x = pp_mb_input(b, "x", PP_DTYPE_F32, 2, xd);           // also a graph input
 *     uint32_t w = pp_mb_weight(b, "w", PP_DTYPE_F32, 2, wd, w_data);   // copies 3*4*4 bytes
 *     uint32_t y = pp_mb_activation(b, "y", PP_DTYPE_F32, 2, yd);
 *     pp_mb_add_node(b, PP_OP_GEMM, "fc", PP_MB_IDS(x, w), PP_MB_IDS(y),
 *                    PP_MB_ATTRS(pp_mb_attr_int("transB", 1), pp_mb_attr_float("alpha", 1.0)));
 *     pp_mb_add_output(b, y);
 *     pp_mb_add_meta(b, "producer", "my test");
 *     pp_model_write(pp_mb_model(b), path, &err);
 *     pp_mb_free(b);
 *
 * The builder copies every name, string, id list, attribute list and weight it is
 * given (except with pp_mb_weight_borrow), so callers may pass temporaries. It
 * does no validation: pp_model_write does, which lets tests build invalid models
 * on purpose. Allocation failure (the builder uses plain malloc, so
 * pp_fault_arm_alloc never targets it) sets a sticky flag: the adders then return
 * PP_FMT_NONE and pp_mb_model returns NULL. Not thread-safe.
 */
#ifndef PP_MODEL_BUILDER_H
#define PP_MODEL_BUILDER_H

#include <stdint.h>

#include "loader/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_mb pp_mb;

/* NULL when out of memory. Free with pp_mb_free. */
pp_mb *pp_mb_new(void);
void pp_mb_free(pp_mb *b);

/* Adds a tensor and returns its id. data/nbytes matter for WEIGHT only: the
 * bytes are copied; data NULL with nbytes > 0 gives zeroed bytes to fill through
 * pp_mb_tensor_data. nbytes is stored as given (it may disagree with the shape,
 * for tests of the writer's checks). dims has rank entries (NULL for rank 0). */
uint32_t pp_mb_add_tensor(pp_mb *b, const char *name, pp_dtype dtype, pp_tensor_kind kind, int rank,
                          const int64_t *dims, const void *data, uint64_t nbytes);

/* Shorthands: an INPUT that is also appended to the graph inputs; an ACTIVATION;
 * a WEIGHT whose byte count follows from dtype and dims (data copied; NULL gives
 * zeros); a WEIGHT that borrows data (which must outlive every use of the model). */
uint32_t pp_mb_input(pp_mb *b, const char *name, pp_dtype dtype, int rank, const int64_t *dims);
uint32_t pp_mb_activation(pp_mb *b, const char *name, pp_dtype dtype, int rank, const int64_t *dims);
uint32_t pp_mb_weight(pp_mb *b, const char *name, pp_dtype dtype, int rank, const int64_t *dims, const void *data);
uint32_t pp_mb_weight_borrow(pp_mb *b, const char *name, pp_dtype dtype, int rank, const int64_t *dims,
                             const void *data);

/* The builder's copy of a weight's bytes (writable), or NULL. Valid until the next call that adds. */
void *pp_mb_tensor_data(pp_mb *b, uint32_t id);

/* Attribute values for pp_mb_add_node. They point at the caller's name, string
 * and arrays; pp_mb_add_node copies them. */
pp_model_attr pp_mb_attr_int(const char *name, int64_t v);
pp_model_attr pp_mb_attr_float(const char *name, double v);
pp_model_attr pp_mb_attr_string(const char *name, const char *s);
pp_model_attr pp_mb_attr_ints(const char *name, const int64_t *v, uint32_t n);
pp_model_attr pp_mb_attr_floats(const char *name, const double *v, uint32_t n);

/* Adds a node; returns its index. inputs may hold PP_FMT_NONE (absent optional input). */
uint32_t pp_mb_add_node(pp_mb *b, pp_op op, const char *name, const uint32_t *inputs, uint32_t n_inputs,
                        const uint32_t *outputs, uint32_t n_outputs, const pp_model_attr *attrs, uint32_t n_attrs);

/* An array argument and its length, for pp_mb_add_node. At least one element. */
#define PP_MB_IDS(...)                                                                                                 \
    (const uint32_t[]){__VA_ARGS__}, (uint32_t)(sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t))
#define PP_MB_ATTRS(...)                                                                                               \
    (const pp_model_attr[]){__VA_ARGS__},                                                                              \
        (uint32_t)(sizeof((const pp_model_attr[]){__VA_ARGS__}) / sizeof(pp_model_attr))
#define PP_MB_NO_ATTRS NULL, 0u

void pp_mb_add_input(pp_mb *b, uint32_t id);  /* appends to the graph inputs */
void pp_mb_add_output(pp_mb *b, uint32_t id); /* appends to the graph outputs */
void pp_mb_add_meta(pp_mb *b, const char *key, const char *value);

/* A view of the model built so far, for pp_model_write / pp_model_write_memory.
 * Owned by the builder; valid until the next call that adds or pp_mb_free. NULL
 * after an allocation failure. Its tensors, nodes etc. may be edited in place
 * through a cast by tests that need a model no adder would make. */
const pp_model *pp_mb_model(pp_mb *b);

#ifdef __cplusplus
}
#endif
#endif
