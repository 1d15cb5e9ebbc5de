/* mock_cudnn.h: what the two halves of the host cuDNN (mock_cudnn.c, the legacy
 * API; mock_cudnn_graph.c, the backend graph API) share. */
#ifndef PP_MOCK_CUDNN_H
#define PP_MOCK_CUDNN_H

#include <cudnn.h>
#include <stddef.h>

/* element i of an f32, f16 or bf16 array as float, and the store back (round to
 * nearest even) */
float mock_ld(cudnnDataType_t t, const void *p, size_t i);
void mock_st(cudnnDataType_t t, void *p, size_t i, float v);
/* graphs executed, and of those with a fused epilogue */
extern long mock_cudnn_executions, mock_cudnn_fused_executions;

#endif
