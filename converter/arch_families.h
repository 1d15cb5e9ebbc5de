/* arch_families.h: the architecture families (arch.h), one arch_<family>.c
 * each, and the order arch.c tries them in.
 *
 * A family says which names it answers to, whether a table's keys are its own
 * (and then describes what it found: "resnet50 (bottleneck 3,4,6,3; ...)"),
 * and builds the graph from the keys with the helpers of arch_build.h.
 */
#ifndef PP_ARCH_FAMILIES_H
#define PP_ARCH_FAMILIES_H

#include <stddef.h>

#include "arch_build.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_arch_family {
    /* Names given with --arch: "resnet*" matches any name starting with
     * "resnet", "mlp" only itself. NULL-terminated. */
    const char *names[6];
    /* For the list of known names in a refusal. */
    const char *listed;
    /* 1 (and a description in desc) when the keys are this family's. */
    int (*detect)(const pp_ckpt *c, char *desc, size_t n);
    /* The graph's output id (-1 on a problem, recorded in b); *input set;
     * desc holds what was built. */
    int (*build)(pp_ab *b, int *input, char *desc, size_t n);
} pp_arch_family;

extern const pp_arch_family pp_arch_mlp, pp_arch_resnet, pp_arch_vgg, pp_arch_mobilenet_v2, pp_arch_mobilenet_v3,
    pp_arch_efficientnet, pp_arch_densenet, pp_arch_squeezenet, pp_arch_shufflenet, pp_arch_mnasnet, pp_arch_googlenet,
    pp_arch_regnet, pp_arch_convnext, pp_arch_vit, pp_arch_swin;

/* The architecture description file (arch_file.c): builds its layers into
 * b->g and returns the graph's input and output activation ids. */
pp_code pp_arch_file_build(pp_ab *b, const char *path, int *input, int *output);

#ifdef __cplusplus
}
#endif
#endif
