/* accuracy: compares ppengine's digit logits with the labels and with PyTorch's
 * own logits for the same images, side by side. */
#include <math.h>
#include <stdio.h>

#include "../../loader/npy.h"

static int argmax(const float *v, int n) {
    int b = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[b]) b = i;
    return b;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: digits_accuracy OURS.npy TORCH.npy LABELS.npy\n");
        return 2;
    }
    pp_npy ours, torch, labels;
    pp_error err;
    if (pp_npy_read(argv[1], &ours, &err) || pp_npy_read(argv[2], &torch, &err) ||
        pp_npy_read(argv[3], &labels, &err)) {
        fprintf(stderr, "digits_accuracy: %s\n", err.msg);
        return 1;
    }
    if (ours.dtype != PP_DTYPE_F32 || torch.dtype != PP_DTYPE_F32 || labels.dtype != PP_DTYPE_I64 || ours.rank != 2 ||
        torch.rank != 2 || ours.dims[0] != torch.dims[0] || ours.dims[1] != torch.dims[1] ||
        labels.dims[0] != ours.dims[0]) {
        fprintf(stderr, "digits_accuracy: the three files do not describe the same (N, classes) logits\n");
        return 1;
    }
    int n = (int)ours.dims[0], c = (int)ours.dims[1];
    const float *a = ours.data, *b = torch.data;
    const int64_t *y = labels.data;
    int ok_ours = 0, ok_torch = 0, agree = 0;
    double maxdiff = 0;
    for (int i = 0; i < n; i++) {
        int pa = argmax(a + (size_t)i * c, c), pb = argmax(b + (size_t)i * c, c);
        ok_ours += pa == y[i];
        ok_torch += pb == y[i];
        agree += pa == pb;
        for (int j = 0; j < c; j++) {
            double d = fabs((double)a[(size_t)i * c + j] - b[(size_t)i * c + j]);
            if (d > maxdiff) maxdiff = d;
        }
    }
    printf("first predictions (ppengine / PyTorch / label):");
    for (int i = 0; i < n && i < 12; i++)
        printf(" %d/%d/%lld", argmax(a + (size_t)i * c, c), argmax(b + (size_t)i * c, c), (long long)y[i]);
    printf("\n");
    printf("accuracy on %d held-out digits: ppengine %.2f%%, PyTorch %.2f%%\n", n, 100.0 * ok_ours / n,
           100.0 * ok_torch / n);
    printf("predictions agree on %d of %d; largest logit difference %.3g\n", agree, n, maxdiff);
    pp_npy_free(&ours);
    pp_npy_free(&torch);
    pp_npy_free(&labels);
    return agree == n && maxdiff < 1e-3 ? 0 : 1;
}
