/* cmd_compare.c: `ppengine compare`: two .npy files of one shape, as
 * float64, the second the reference. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>

#include "../../loader/npy.h"
#include "cli_msg.h"
#include "cli_opts.h"
#include "commands.h"

int pp_cli_compare(int argc, char **argv) {
    double tol = 1e-4;
    const char *fa = NULL, *fb = NULL;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: ppengine compare OUT.npy REF.npy [--tol T]\n\n"
                   "Prints ||out - ref|| / ||ref|| and the largest absolute difference; exits 1 when the\n"
                   "relative error exceeds T (default 1e-4) or the files differ in shape or dtype.\n");
            return 0;
        } else if (!strcmp(argv[i], "--tol") && i + 1 < argc) {
            char *end;
            tol = strtod(argv[++i], &end);
            if (*end || !(tol >= 0)) return pp_cli_usage("--tol '%s' is not a number >= 0", argv[i]);
        } else if (argv[i][0] == '-') {
            return pp_cli_usage("unknown option '%s'", argv[i]);
        } else if (!fa) {
            fa = argv[i];
        } else if (!fb) {
            fb = argv[i];
        } else {
            return pp_cli_usage("unexpected argument '%s'", argv[i]);
        }
    }
    if (!fa || !fb) return pp_cli_usage("compare needs two .npy files%s", "");
    pp_npy a, b;
    pp_error err = {0};
    if (pp_npy_read(fa, &a, &err)) return pp_cli_fail(&err);
    if (pp_npy_read(fb, &b, &err)) {
        pp_npy_free(&a);
        return pp_cli_fail(&err);
    }
    int rc = 1;
    int same = a.dtype == b.dtype && a.rank == b.rank && a.nbytes == b.nbytes;
    for (int d = 0; same && d < a.rank; d++) same = a.dims[d] == b.dims[d];
    if (!same) {
        pp_cli_msg("ppengine", "%s and %s differ in dtype or shape", fa, fb);
    } else {
        size_t n = a.nbytes / (pp_dtype_size(a.dtype) ? pp_dtype_size(a.dtype) : 1);
        double num = 0, den = 0, maxd = 0;
        for (size_t i = 0; i < n; i++) {
            double x, y;
            switch (a.dtype) {
            case PP_DTYPE_F32: x = ((float *)a.data)[i], y = ((float *)b.data)[i]; break;
            case PP_DTYPE_I64: x = (double)((int64_t *)a.data)[i], y = (double)((int64_t *)b.data)[i]; break;
            case PP_DTYPE_I32: x = ((int32_t *)a.data)[i], y = ((int32_t *)b.data)[i]; break;
            default: x = ((unsigned char *)a.data)[i], y = ((unsigned char *)b.data)[i]; break;
            }
            num += (x - y) * (x - y);
            den += y * y;
            if (fabs(x - y) > maxd || x != x) maxd = x != x ? INFINITY : fabs(x - y);
        }
        double rel = sqrt(num) / (den > 0 ? sqrt(den) : 1);
        printf("%s vs %s: %zu values, relative L2 error %.3g, max |difference| %.3g\n", fa, fb, n, rel, maxd);
        if (rel <= tol && maxd < INFINITY) rc = 0;
        else pp_cli_msg("ppengine", "relative error %.3g exceeds %.3g", rel, tol);
    }
    pp_npy_free(&a);
    pp_npy_free(&b);
    return rc;
}
