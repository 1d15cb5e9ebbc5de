/* checkpoint.c: opening checkpoints and the converter's face for them
 * (checkpoint.h). */
#include "checkpoint.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "safetensors.h"
#include "torch_ckpt.h"

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

pp_code pp_ckpt_open(const char *path, pp_ckpt **out, pp_error *err) {
    *out = NULL;
    pp_ckpt *c = pp_calloc(1, sizeof *c);
    if (!c) return pp_error_nomem(err, "out of memory");
    pp_code rc;
    if (ends_with(path, ".index.json")) {
        rc = pp_safetensors_load_index(c, path, err);
    } else {
        const uint8_t *d;
        size_t n;
        rc = pp_ckpt_map_file(c, path, &d, &n, err);
        if (!rc) {
            if (n >= 4 && !memcmp(d, "PK\x03\x04", 4)) rc = pp_torch_load(c, d, n, path, err);
            else if (pp_safetensors_sniff(d, n)) rc = pp_safetensors_load(c, d, n, path, err);
            else if (pp_torch_sniff(d, n)) rc = pp_torch_load(c, d, n, path, err);
            else if (n >= 8 && !memcmp(d, "\x08", 1) && ends_with(path, ".onnx"))
                rc = pp_error_set(err, PP_ERR_INVALID_ARG, "%s: an ONNX model, not a checkpoint", path);
            else
                rc = pp_error_set(
                    err, PP_ERR_FORMAT,
                    "%s: neither a torch.save zip archive nor a safetensors file (first bytes %02X %02X %02X %02X)",
                    path, n > 0 ? d[0] : 0, n > 1 ? d[1] : 0, n > 2 ? d[2] : 0, n > 3 ? d[3] : 0);
        }
    }
    if (rc) {
        pp_ckpt_free(c);
        return rc;
    }
    if (c->n == 0) {
        pp_ckpt_free(c);
        return pp_error_set(err, PP_ERR_FORMAT, "%s: no tensors", path);
    }
    /* DataParallel / DDP: every key under "module.". */
    int all_module = 1;
    for (int i = 0; i < c->n && all_module; i++) all_module = !strncmp(c->tensors[i].name, "module.", 7);
    if (all_module) {
        for (int i = 0; i < c->n; i++)
            memmove(c->tensors[i].name, c->tensors[i].name + 7, strlen(c->tensors[i].name + 7) + 1);
        c->stripped_module = 1;
    }
    /* Unique names, and the index pp_ckpt_find searches. */
    if ((rc = pp_ckpt_index(c, path, err))) {
        pp_ckpt_free(c);
        return rc;
    }
    *out = c;
    return PP_OK;
}

pp_code pp_convert_checkpoint(const char *path, const char *arch, const char *arch_file, pp_graph **out, char *detected,
                              size_t n, pp_error *err) {
    *out = NULL;
    if (detected && n) detected[0] = 0;
    pp_ckpt *c;
    pp_code rc = pp_ckpt_open(path, &c, err);
    if (rc) return rc;
    rc = pp_arch_build(c, arch, arch_file, out, detected, n, err);
    if (rc) {
        if (err) pp_error_prefix(err, "%s", path);
        pp_ckpt_free(c);
        return rc;
    }
    /* The graph borrows the checkpoint's unmodified tensors: it keeps it. */
    (*out)->keep = c;
    (*out)->keep_free = (void (*)(void *))pp_ckpt_free;
    return PP_OK;
}

static const char *dtype_name(pp_dtype d) {
    switch (d) {
    case PP_DTYPE_F32: return "f32";
    case PP_DTYPE_F16: return "f16";
    case PP_DTYPE_BF16: return "bf16";
    case PP_DTYPE_I64: return "i64";
    case PP_DTYPE_I32: return "i32";
    case PP_DTYPE_BOOL: return "bool";
    case PP_DTYPE_U8: return "u8";
    case PP_DTYPE_I8: return "i8";
    case PP_DTYPE_F64: return "f64";
    default: return "?";
    }
}

pp_code pp_inspect_file(const char *path, FILE *out, pp_error *err) {
    pp_ckpt *c;
    pp_code rc = pp_ckpt_open(path, &c, err);
    if (rc) return rc;
    uint64_t params = 0, bytes = 0;
    for (int i = 0; i < c->n; i++) {
        uint64_t ne = 1;
        for (int d = 0; d < c->tensors[i].rank; d++) ne *= (uint64_t)c->tensors[i].dims[d];
        params += ne;
        bytes += c->tensors[i].nbytes;
    }
    fprintf(out, "%s: %s, %d tensors, %" PRIu64 " elements, %" PRIu64 " bytes%s%s%s\n", path, c->format, c->n, params,
            bytes, c->nested[0] ? ", under '" : "", c->nested, c->nested[0] ? "'" : "");
    if (c->stripped_module) fprintf(out, "  (DataParallel 'module.' prefixes stripped)\n");
    for (int i = 0; i < c->n; i++) {
        const pp_ckpt_tensor *t = &c->tensors[i];
        char shape[160], nb[200];
        size_t k = 0;
        k += (size_t)snprintf(shape + k, sizeof shape - k, "(");
        for (int d = 0; d < t->rank && k < sizeof shape; d++)
            k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%" PRId64, d ? ", " : "", t->dims[d]);
        if (k < sizeof shape) snprintf(shape + k, sizeof shape - k, ")");
        fprintf(out, "  %-48s %-5s %-9s %-24s %" PRIu64 " bytes\n", pp_ckpt_printable(nb, sizeof nb, t->name),
                dtype_name(t->dtype), t->src_dtype ? t->src_dtype : "", shape, t->nbytes);
    }
    char fam[256];
    if (pp_arch_detect(c, fam, sizeof fam) == PP_OK) fprintf(out, "architecture: %s\n", fam);
    else fprintf(out, "architecture: not recognised from the keys (give --arch or an architecture file)\n");
    pp_ckpt_free(c);
    return PP_OK;
}
