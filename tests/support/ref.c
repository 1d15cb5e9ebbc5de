/* ref.c: see ref.h. */
#include "ref.h"

#include <math.h>
#include <stdio.h>

enum { REF_REPORT_MAX = 8 };

void pp_ref_rng_seed(pp_ref_rng *r, uint64_t seed) { r->state = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull; }

static uint32_t rng_next(pp_ref_rng *r) {
    r->state = r->state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(r->state >> 33); /* the high bits: an LCG's low bits are weak */
}

float pp_ref_rng_unit(pp_ref_rng *r) { return (float)(rng_next(r) >> 7) * (1.0f / 16777216.0f); }

float pp_ref_rng_uniform(pp_ref_rng *r, float lo, float hi) { return lo + (hi - lo) * pp_ref_rng_unit(r); }

int64_t pp_ref_rng_int(pp_ref_rng *r, int64_t n) {
    if (n <= 0) return 0;
    uint64_t v = ((uint64_t)rng_next(r) << 31) ^ rng_next(r);
    return (int64_t)(v % (uint64_t)n);
}

void pp_ref_fill(float *x, size_t n, uint64_t seed, float lo, float hi) {
    pp_ref_rng r;
    pp_ref_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = pp_ref_rng_uniform(&r, lo, hi);
}

static int ref_ok(float o, float r, float atol, float rtol) {
    if (isnan(r)) return isnan(o);
    if (isinf(r)) return o == r;
    if (!isfinite(o)) return 0;
    return fabs((double)o - (double)r) <= (double)atol + (double)rtol * fabs((double)r);
}

size_t pp_ref_compare(const char *what, const float *out, const float *ref, size_t n, float atol, float rtol) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (ref_ok(out[i], ref[i], atol, rtol)) continue;
        if (bad < REF_REPORT_MAX)
            fprintf(stderr, "%s: [%zu] got %.9g, expected %.9g (diff %.3g, tolerance %.3g)\n", what ? what : "compare",
                    i, (double)out[i], (double)ref[i], fabs((double)out[i] - (double)ref[i]),
                    (double)atol + (double)rtol * fabs((double)ref[i]));
        bad++;
    }
    if (bad > REF_REPORT_MAX) fprintf(stderr, "%s: %zu of %zu elements mismatch\n", what ? what : "compare", bad, n);
    return bad;
}

size_t pp_ref_compare_i64(const char *what, const int64_t *out, const int64_t *ref, size_t n) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        if (out[i] == ref[i]) continue;
        if (bad < REF_REPORT_MAX)
            fprintf(stderr, "%s: [%zu] got %lld, expected %lld\n", what ? what : "compare", i, (long long)out[i],
                    (long long)ref[i]);
        bad++;
    }
    if (bad > REF_REPORT_MAX) fprintf(stderr, "%s: %zu of %zu elements mismatch\n", what ? what : "compare", bad, n);
    return bad;
}

double pp_ref_worst_ratio(const float *out, const float *ref, size_t n, float atol, float rtol) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(ref[i])) continue;
        double r = fabs((double)out[i] - (double)ref[i]) / ((double)atol + (double)rtol * fabs((double)ref[i]));
        if (!(r <= worst)) worst = r; /* NaN out counts as worst */
    }
    return worst;
}
