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

/* tanh: an odd polynomial below 0.625 (Cephes' tanhf), else from e^-2|x|. */
PP_AVX512 static inline __m512 pp512_tanh(__m512 x) {
    __m512 ax = _mm512_abs_ps(x), z = _mm512_mul_ps(x, x);
    __m512 p = _mm512_set1_ps(-5.70498872745e-3f);
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(2.06390887954e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-5.37397155531e-2f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(1.33314422036e-1f));
    p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(-3.33332819422e-1f));
    __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), x, x);
    __m512 e = pp512_exp(_mm512_mul_ps(ax, _mm512_set1_ps(-2.f)));
    __m512 big = _mm512_div_ps(_mm512_sub_ps(_mm512_set1_ps(1.f), e), _mm512_add_ps(_mm512_set1_ps(1.f), e));
    big = _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_castps_si512(big), _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u))));
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(0.625f), _CMP_LT_OQ), big, small);
}

/* erfc(u) for u >= 0 (Numerical Recipes' erfcc: relative error below 1.2e-7). */
PP_AVX512 static inline __m512 pp512_erfc_pos(__m512 u) {
    __m512 t = _mm512_div_ps(_mm512_set1_ps(1.f), _mm512_fmadd_ps(u, _mm512_set1_ps(0.5f), _mm512_set1_ps(1.f)));
    static const float c[] = {0.17087277f,  -0.82215223f, 1.48851587f, -1.13520398f, 0.27886807f,
                              -0.18628806f, 0.09678418f,  0.37409196f, 1.00002368f,  -1.26551223f};
    __m512 p = _mm512_set1_ps(c[0]);
    for (int i = 1; i < 10; i++) p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(c[i]));
    return _mm512_mul_ps(t, pp512_exp(_mm512_fnmadd_ps(u, u, p)));
}

/* GELU (erf form) = x/2 · erfc(-x/√2), each side from erfc of a positive
 * argument, so it keeps its relative accuracy where it tends to 0. */
PP_AVX512 static inline __m512 pp512_gelu(__m512 x) {
    __m512 u = _mm512_mul_ps(x, _mm512_set1_ps(-0.70710678118654752f)); /* erfc's argument */
    __m512 e = pp512_erfc_pos(_mm512_abs_ps(u));
    __mmask16 neg = _mm512_cmp_ps_mask(u, _mm512_setzero_ps(), _CMP_LT_OQ); /* x > 0: erfc(u) = 2 - erfc(-u) */
    e = _mm512_mask_sub_ps(e, neg, _mm512_set1_ps(2.f), e);
    return _mm512_mul_ps(_mm512_mul_ps(x, _mm512_set1_ps(0.5f)), e);
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
    case PP_ACT_TANH: return pp512_tanh(v);
    case PP_ACT_GELU: return pp512_gelu(v);
    case PP_ACT_GELU_TANH: {
        __m512 inner =
            _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f),
                          _mm512_fmadd_ps(_mm512_mul_ps(_mm512_mul_ps(v, v), v), _mm512_set1_ps(0.044715f), v));
        return _mm512_mul_ps(_mm512_mul_ps(v, _mm512_set1_ps(0.5f)),
                             _mm512_add_ps(_mm512_set1_ps(1.f), pp512_tanh(inner)));
    }
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
