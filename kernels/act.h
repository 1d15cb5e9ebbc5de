/* act.h: the fused activations, one definition for the CPU and CUDA kernels. */
#ifndef PP_KERNEL_ACT_H
#define PP_KERNEL_ACT_H

#include <math.h>

#include "params.h"

#ifdef __CUDACC__
#define PP_HD __host__ __device__ __forceinline__
#else
#define PP_HD static inline
#endif

PP_HD float pp_act_apply(pp_act a, float x) {
    switch (a.kind) {
    case PP_ACT_NONE: return x;
    case PP_ACT_RELU: return x > 0.f ? x : 0.f;
    case PP_ACT_CLIP: return x < a.alpha ? a.alpha : (x > a.beta ? a.beta : x);
    case PP_ACT_SIGMOID: return 1.f / (1.f + expf(-x));
    case PP_ACT_TANH: return tanhf(x);
    case PP_ACT_GELU: return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case PP_ACT_GELU_TANH: {
        const float c = 0.7978845608028654f; /* sqrt(2/pi) */
        return 0.5f * x * (1.f + tanhf(c * (x + 0.044715f * x * x * x)));
    }
    case PP_ACT_SILU: return x / (1.f + expf(-x));
    case PP_ACT_HARDSWISH: {
        float t = x + 3.f;
        t = t < 0.f ? 0.f : (t > 6.f ? 6.f : t);
        return x * t * (1.f / 6.f);
    }
    case PP_ACT_HARDSIGMOID: {
        float t = a.alpha * x + a.beta;
        return t < 0.f ? 0.f : (t > 1.f ? 1.f : t);
    }
    case PP_ACT_LEAKY_RELU: return x >= 0.f ? x : a.alpha * x;
    }
    return x;
}

#endif
