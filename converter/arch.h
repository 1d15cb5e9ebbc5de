/* arch.h: architectures, i.e. how a checkpoint's weights become a graph
 * (docs/checkpoints.md).
 *
 * A checkpoint holds weights, not the graph. A family builder (one
 * arch_<family>.c each) or an architecture description file (arch_file.c)
 * says which op each key feeds. Every
 * key is asked for with the shape the builder expects (-1 where any extent
 * goes); missing, mis-shaped and unused keys are collected and reported in one
 * message. BatchNorm that follows a convolution is folded into its weights and
 * bias at build time (in double precision); one that does not becomes a
 * BATCHNORM node. Convolutions carry their ReLU and residual add fused.
 *
 * This is the architectures' face: the options, detection and building.
 * arch.c holds the list of families (arch_families.h); each family builds
 * with the helpers of arch_build.h, in its own arch_<family>.c.
 */
#ifndef PP_ARCH_H
#define PP_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "../engine/graph.h"
#include "arch_build.h"
#include "checkpoint_table.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Parses "family[:k=v,...]" into family (may come back "" or "auto") and opts. */
pp_code pp_arch_parse(const char *arch, char *family, size_t n, pp_arch_opts *opts, pp_error *err);

/* Detects the family and depth from the keys ("resnet50", "mlp", "vgg16_bn", ...),
 * with a description in parentheses. PP_ERR_UNSUPPORTED when nothing matches. */
pp_code pp_arch_detect(const pp_ckpt *c, char *out, size_t n);

/* Builds the graph (shapes inferred). See pp_convert_checkpoint. */
pp_code pp_arch_build(const pp_ckpt *c, const char *arch, const char *arch_file, pp_graph **out, char *detected,
                      size_t n, pp_error *err);

#ifdef __cplusplus
}
#endif
#endif
