/* ppconvert.h: the C API of libppconvert: model files into graph.bin, without Python.
 *
 * What `ppconvert` does, for programs: an ONNX model (either torch exporter), a
 * torch.save state_dict (.pt/.pth) or a .safetensors file (with an architecture
 * given or detected from its keys) becomes a graph.bin that libppengine loads.
 * The format is read from the file's first bytes. Statuses are libppengine's
 * (ppengine.h): NULL is success, anything else the caller frees with
 * pp_status_free. Link with ppconvert (pkg-config ppconvert, or the CMake target
 * ppengine::ppconvert), which brings ppengine.
 *
 *   pp_converter *c;
 *   pp_status *st = pp_converter_create(&c);
 *   if (!st) st = pp_converter_set(c, "dtype", "f16");
 *   if (!st) st = pp_converter_run(c, "resnet50.onnx", "resnet50.bin");
 *   pp_converter_free(c);
 *
 * Threads: a converter is used by one thread at a time; separate converters may
 * run at once. Nothing is written under the output path unless the whole
 * conversion succeeds (a temporary file, then a rename).
 */
#ifndef PPCONVERT_H
#define PPCONVERT_H

#include "ppengine.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_converter pp_converter;

/* "0.1.0": the converter's version. */
PP_API const char *pp_converter_version(void);

/* A converter with default settings; *out is the caller's, freed with pp_converter_free. */
PP_API PP_NODISCARD pp_status *pp_converter_create(pp_converter **out);
PP_API void pp_converter_free(pp_converter *c); /* NULL is fine */

/* Settings, one key at a time (an unknown key or a bad value is INVALID_ARGUMENT):
 *   dtype      "f32" (default), "f16" or "bf16": how weights are stored in graph.bin
 *              (16 bits halve the file; the engine widens them once at load)
 *   dim        "NAME=N": bind the symbolic extent NAME of the inputs to N; "NAME=MIN..MAX": keep it
 *              symbolic with that range (the graph's buffers are sized for MAX); "batch" names
 *              the batch whatever the model calls it (repeatable)
 *   const      "NAME=FILE.npy": bind graph input NAME to constant data (repeatable;
 *              the file is read when set)
 *   arch       checkpoints: "resnet50", "mobilenet_v2", "auto:input=32", ... (default: detected)
 *   arch_file  checkpoints: an architecture description file (docs/checkpoints.md) */
PP_API PP_NODISCARD pp_status *pp_converter_set(pp_converter *c, const char *key, const char *value);

/* Converts `input` into the graph.bin `output`. The converter may be run again. */
PP_API PP_NODISCARD pp_status *pp_converter_run(pp_converter *c, const char *input, const char *output);

#ifdef __cplusplus
}
#endif
#endif
