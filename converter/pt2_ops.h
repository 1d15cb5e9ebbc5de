/* pt2_ops.h: the ATen ops the .pt2 importer maps onto the IR (pt2_ops.c). */
#ifndef PP_PT2_OPS_H
#define PP_PT2_OPS_H

#include "pt2_build.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 when target ("aten.conv2d.default") has a mapping. */
int pt2_op_known(const char *target);
/* Adds the IR nodes of one ATen node and binds its outputs; errors name the node. */
pp_code pt2_op_import(pt2_node *n);

#ifdef __cplusplus
}
#endif
#endif
