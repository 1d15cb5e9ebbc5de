/* ref.h: small helpers for kernel tests: seeded random fills and an
 * element-wise comparison that reports the first mismatches.
 *
 * The generator is a 64-bit LCG (Knuth's MMIX constants), so a seed gives the
 * same data on every machine and compiler.
 */
#ifndef PP_TEST_REF_H
#define PP_TEST_REF_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pp_ref_rng {
    uint64_t state;
} pp_ref_rng;

void pp_ref_rng_seed(pp_ref_rng *r, uint64_t seed);
/* Uniform in [0, 1), 24 bits of resolution. */
float pp_ref_rng_unit(pp_ref_rng *r);
/* Uniform in [lo, hi). */
float pp_ref_rng_uniform(pp_ref_rng *r, float lo, float hi);
/* Uniform integer in [0, n); 0 when n <= 0. */
int64_t pp_ref_rng_int(pp_ref_rng *r, int64_t n);

/* x[0..n) uniform in [lo, hi), from its own generator seeded with seed. */
void pp_ref_fill(float *x, size_t n, uint64_t seed, float lo, float hi);

/* Compares out against ref element-wise: |out - ref| <= atol + rtol·|ref|. A
 * NaN reference requires a NaN, an infinite one the same infinity. Prints the
 * first few mismatches (index, both values, the difference) to stderr under the
 * heading `what` and returns how many elements mismatch (0: all agree). */
size_t pp_ref_compare(const char *what, const float *out, const float *ref, size_t n, float atol, float rtol);

/* The same for i64 values (exact). */
size_t pp_ref_compare_i64(const char *what, const int64_t *out, const int64_t *ref, size_t n);

/* Largest |out - ref| / (atol + rtol·|ref|) over finite references: <= 1 means
 * within tolerance; a measure of how close a pass was. */
double pp_ref_worst_ratio(const float *out, const float *ref, size_t n, float atol, float rtol);

#ifdef __cplusplus
}
#endif
#endif
