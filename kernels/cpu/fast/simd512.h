/* simd512.h: AVX-512 helpers for the fast kernels, compiled for AVX-512 by
 * target attribute only (the build itself targets the baseline x86-64, so it
 * runs on a CPU without AVX-512; callers dispatch on pp_cpu_isa_detect). */
#ifndef PP_CPU_FAST_SIMD512_H
#define PP_CPU_FAST_SIMD512_H

#include <immintrin.h>

#include "../../act.h"
#include "../../params.h"

#define PP_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,fma")))

/* e^x, relative error below 2e-7 over the f32 range; clamped where f32 ends. */
PP_AVX512 static inline __m512 pp512_exp(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    /* Taylor to r^7 on |r| <= ln2/2 */
    __m512 p = _mm512_set1_ps(1.f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.f));
    return _mm512_scalef_ps(p, n);
}

PP_AVX512 static inline __m512 pp512_sigmoid(__m512 x) {
    __m512 one = _mm512_set1_ps(1.f);
    return _mm512_div_ps(one, _mm512_add_ps(one, pp512_exp(_mm512_sub_ps(_mm512_setzero_ps(), x))));
}

/* The activation on 16 lanes; kinds without a vector form go lane by lane
 * through the reference's pp_act_apply. */
PP_AVX512 static inline __m512 pp512_act(__m512 v, pp_act a) {
    switch (a.kind) {
    case PP_ACT_NONE: return v;
    case PP_ACT_RELU: return _mm512_max_ps(v, _mm512_setzero_ps());
    case PP_ACT_CLIP: return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(a.alpha)), _mm512_set1_ps(a.beta));
    case PP_ACT_LEAKY_RELU: {
        __mmask16 neg = _mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_LT_OQ);
        return _mm512_mask_mul_ps(v, neg, v, _mm512_set1_ps(a.alpha));
    }
    case PP_ACT_HARDSWISH: {
        __m512 t = _mm512_add_ps(v, _mm512_set1_ps(3.f));
        t = _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(6.f));
        return _mm512_mul_ps(_mm512_mul_ps(v, t), _mm512_set1_ps(1.f / 6.f));
    }
    case PP_ACT_HARDSIGMOID: {
        __m512 t = _mm512_fmadd_ps(v, _mm512_set1_ps(a.alpha), _mm512_set1_ps(a.beta));
        return _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(1.f));
    }
    case PP_ACT_SIGMOID: return pp512_sigmoid(v);
    case PP_ACT_SILU: return _mm512_mul_ps(v, pp512_sigmoid(v));
    default: {
        float t[16];
        _mm512_storeu_ps(t, v);
        for (int i = 0; i < 16; i++) t[i] = pp_act_apply(a, t[i]);
        return _mm512_loadu_ps(t);
    }
    }
}

PP_AVX512 static inline __mmask16 pp512_mask(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (n > 0 ? n : 0)) - 1u);
}

#endif
