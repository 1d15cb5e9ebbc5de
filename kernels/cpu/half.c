/* half.c: IEEE binary16 and bfloat16 ↔ binary32, bit-exact, round to nearest
 * even. Integer bit manipulation only, so the result does not depend on the
 * FPU's rounding mode or on F16C being present. */
#include <stdint.h>
#include <string.h>

#include "cpu_kernels.h"

static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static float f32_from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

float pp_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu;
    if (exp == 0x1F) return f32_from_bits(sign | 0x7F800000u | (mant << 13)); /* Inf, NaN keeps its payload */
    if (exp != 0) return f32_from_bits(sign | ((exp + 112u) << 23) | (mant << 13));
    /* zero or subnormal: mant · 2^-24, exact in binary32 */
    float v = (float)mant * 0x1p-24f;
    return sign ? -v : v;
}

uint16_t pp_f32_to_f16(float f) {
    uint32_t x = f32_bits(f);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7FFFFFFFu;
    if (ax > 0x7F800000u) /* NaN: stay quiet, keep the top payload bits */
        return (uint16_t)(sign | 0x7E00u | ((ax >> 13) & 0x1FFu));
    /* 65520 = 65504 + half an ulp: the tie rounds to the even 65536, i.e. Inf */
    if (ax >= 0x477FF000u) return (uint16_t)(sign | 0x7C00u);
    uint32_t e = ax >> 23;
    if (e < 113) {                                 /* below 2^-14: binary16 subnormal (or zero) */
        if (e < 102) return sign;                  /* below 2^-25: rounds to zero (a tie at 2^-25 goes to even 0) */
        uint32_t m = (ax & 0x7FFFFFu) | 0x800000u; /* value = m · 2^(e-150) = (m >> (126-e)) · 2^-24 */
        uint32_t shift = 126 - e;                  /* 14..24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1u))) r++; /* r == 0x400 is the smallest normal: still right */
        return (uint16_t)(sign | r);
    }
    uint32_t h = ((e - 112) << 10) | ((ax >> 13) & 0x3FFu);
    uint32_t rem = ax & 0x1FFFu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* a carry into the exponent is right too */
    return (uint16_t)(sign | h);
}

float pp_bf16_to_f32(uint16_t h) { return f32_from_bits((uint32_t)h << 16); }

uint16_t pp_f32_to_bf16(float f) {
    uint32_t x = f32_bits(f);
    if ((x & 0x7FFFFFFFu) > 0x7F800000u) /* NaN: rounding could carry it into Inf; force quiet */
        return (uint16_t)((x >> 16) | 0x0040u);
    x += 0x7FFFu + ((x >> 16) & 1u); /* ties to even; overflow past the max finite gives Inf */
    return (uint16_t)(x >> 16);
}
