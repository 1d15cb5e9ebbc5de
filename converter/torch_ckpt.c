/* torch_ckpt.c: torch.save archives (torch_ckpt.h). */
#include "torch_ckpt.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pickle.h"
#include "zip.h"

/* LONG1 magic of the legacy format: PROTO 2, LONG1 10 bytes of 0x1950a86a20f9469cfc6c. */
static const uint8_t LEGACY_MAGIC[] = {0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C,
                                       0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19};

static int is_tar(const uint8_t *d, size_t n) { return n >= 262 && !memcmp(d + 257, "ustar", 5); }

int pp_torch_sniff(const uint8_t *d, size_t n) {
    if (n >= 4 && !memcmp(d, "PK\x03\x04", 4)) return 1;
    if (n >= 2 && d[0] == 0x80 && d[1] <= 5) return 1;
    return is_tar(d, n);
}

static pp_dtype to_pp(pp_pk_stype t, const char **name) {
    switch (t) {
    case PP_PK_S_F64: *name = "float64"; return PP_DTYPE_F64;
    case PP_PK_S_F32: *name = "float32"; return PP_DTYPE_F32;
    case PP_PK_S_F16: *name = "float16"; return PP_DTYPE_F16;
    case PP_PK_S_BF16: *name = "bfloat16"; return PP_DTYPE_BF16;
    case PP_PK_S_I64: *name = "int64"; return PP_DTYPE_I64;
    case PP_PK_S_I32: *name = "int32"; return PP_DTYPE_I32;
    case PP_PK_S_I16: *name = "int16"; return PP_DTYPE_I32; /* widened */
    case PP_PK_S_I8: *name = "int8"; return PP_DTYPE_I8;
    case PP_PK_S_U8: *name = "uint8"; return PP_DTYPE_U8;
    case PP_PK_S_BOOL: *name = "bool"; return PP_DTYPE_BOOL;
    default: *name = "?"; return PP_DTYPE_INVALID;
    }
}

/* One tensor value into c: bounds against its storage, then a view or a copy. */
static pp_code add_tensor(pp_ckpt *c, const pp_zip *z, const char *name, const pp_pk_value *t, int big_endian,
                          uint64_t *budget, pp_error *err) {
    char nb[160];
    const char *w = z->what;
    const pp_pk_value *s = t->storage;
    pp_ckpt_printable(nb, sizeof nb, name);
    const char *src;
    pp_dtype dt = to_pp(t->dtype, &src);
    if (dt == PP_DTYPE_INVALID)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: tensor '%s' has unsupported dtype %s", w, nb,
                            pp_pk_stype_name(t->dtype));
    size_t es = pp_pk_stype_size(t->dtype);
    /* The storage's bytes: numel × its element size (untyped: numel is bytes). */
    uint64_t sbytes;
    if (s->numel < 0 || (uint64_t)s->numel > UINT64_MAX / pp_pk_stype_size(s->stype))
        return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s': storage size overflows", w, nb);
    sbytes = (uint64_t)s->numel * pp_pk_stype_size(s->stype);
    if (s->stype != PP_PK_S_UNTYPED && s->stype != t->dtype)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s' is %s on a %s storage", w, nb,
                            pp_pk_stype_name(t->dtype), pp_pk_stype_name(s->stype));
    char rec[96];
    char kb[64];
    if (strlen(s->key) > 40)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s': storage key '%s' is too long", w, nb,
                            pp_ckpt_printable(kb, sizeof kb, s->key));
    snprintf(rec, sizeof rec, "data/%s", s->key);
    const pp_zip_entry *e = pp_zip_find_record(z, rec);
    if (!e)
        return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s': storage record '%s' is missing", w, nb,
                            pp_ckpt_printable(kb, sizeof kb, rec));
    const uint8_t *sdata;
    uint64_t ssize;
    pp_code rc = pp_zip_entry_data(z, e, &sdata, &ssize, err);
    if (rc) return rc;
    if (ssize < sbytes)
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: tensor '%s': storage '%s' holds %" PRIu64 " bytes, its id says %" PRIu64, w, nb, rec,
                            ssize, sbytes);
    /* numel and the last element the view touches, all checked. */
    uint64_t numel = 1, last = (uint64_t)t->offset;
    int empty = 0;
    for (int d = 0; d < t->rank; d++) {
        uint64_t n = (uint64_t)t->size[d], st = (uint64_t)t->stride[d];
        if (n == 0) empty = 1;
        if (n && numel > UINT64_MAX / n)
            return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s': size overflows", w, nb);
        numel *= n;
        if (n > 1) {
            if (st && (n - 1) > (UINT64_MAX - last) / st)
                return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s': extent overflows", w, nb);
            last += (n - 1) * st;
        }
    }
    if (empty) numel = 0;
    if (!empty && (last >= UINT64_MAX / es || (last + 1) * es > sbytes))
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: tensor '%s' (offset %" PRId64 ", extent to element %" PRIu64
                            ") does not fit its storage '%s' of %" PRIu64 " bytes",
                            w, nb, t->offset, last, s->key, sbytes);
    size_t out_es = dt == PP_DTYPE_I32 && es == 2 ? 4 : es;
    /* numel can exceed the storage (stride-0 views), so check before multiplying */
    if (numel > UINT64_MAX / out_es) return pp_error_set(err, PP_ERR_FORMAT, "%s: tensor '%s' is too large", w, nb);
    uint64_t nbytes = numel * out_es;
    /* Views may repeat storage bytes (stride 0, overlapping views): the tensors
     * may not add up to more than PP_TORCH_AMPLIFICATION × the file. */
    if (nbytes > *budget)
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "%s: tensor '%s' (%" PRIu64 " bytes) takes the tensors past %d times the file's size "
                            "(views repeating storage bytes)",
                            w, nb, nbytes, PP_TORCH_AMPLIFICATION);
    *budget -= nbytes;
    /* Contiguous, in C order? (dims of extent 1 may carry any stride) */
    int contiguous = 1;
    uint64_t want = 1;
    for (int d = t->rank; d-- > 0;) {
        if (t->size[d] != 1 && (uint64_t)t->stride[d] != want) contiguous = 0;
        want *= (uint64_t)t->size[d];
    }
    const uint8_t *base = sdata + (uint64_t)t->offset * es;
    if (empty) return pp_ckpt_add(c, name, dt, src, t->rank, t->size, "", 0, NULL, err);
    if (contiguous && !big_endian && out_es == es && ((uintptr_t)base % es) == 0)
        return pp_ckpt_add(c, name, dt, src, t->rank, t->size, base, nbytes, NULL, err);
    if (nbytes > SIZE_MAX) return pp_error_nomem(err, "%s: tensor '%s' is too large", w, nb);
    uint8_t *copy = pp_malloc(nbytes ? (size_t)nbytes : 1);
    if (!copy) return pp_error_nomem(err, "%s: tensor '%s': out of memory for %" PRIu64 " bytes", w, nb, nbytes);
    /* Odometer over the view, element by element. */
    int64_t idx[PP_MAX_RANK] = {0};
    uint64_t src_el = 0;
    for (uint64_t i = 0; i < numel; i++) {
        uint8_t tmp[8];
        memcpy(tmp, base + src_el * es, es);
        if (big_endian)
            for (size_t k = 0; k < es / 2; k++) {
                uint8_t x = tmp[k];
                tmp[k] = tmp[es - 1 - k];
                tmp[es - 1 - k] = x;
            }
        if (out_es != es) { /* int16 → int32, sign-extended */
            int16_t v16;
            memcpy(&v16, tmp, 2);
            int32_t v32 = v16;
            memcpy(copy + i * 4, &v32, 4);
        } else {
            memcpy(copy + i * es, tmp, es);
        }
        for (int d = t->rank; d-- > 0;) {
            if (++idx[d] < t->size[d]) {
                src_el += (uint64_t)t->stride[d];
                break;
            }
            src_el -= (uint64_t)t->stride[d] * (uint64_t)(t->size[d] - 1);
            idx[d] = 0;
        }
    }
    return pp_ckpt_add(c, name, dt, src, t->rank, t->size, copy, nbytes, copy, err);
}

/* The dict that holds the tensors: the root, or root[state_dict|model|model_state_dict] (two levels at most). */
static const pp_pk_value *find_state_dict(const pp_pk_value *v, char *nested, size_t nn, int depth) {
    if (!v || v->type != PP_PK_DICT) return NULL;
    for (size_t i = 0; i < v->n / 2; i++)
        if (v->items[2 * i + 1]->type == PP_PK_TENSOR) return v;
    static const char *keys[] = {"state_dict", "model_state_dict", "model", "module", "net"};
    if (depth >= 2) return NULL;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const pp_pk_value *d = pp_pk_dict_get(v, keys[k]);
        const pp_pk_value *r = find_state_dict(d, nested, nn, depth + 1);
        if (r) {
            if (!nested[0]) snprintf(nested, nn, "%s", keys[k]);
            return r;
        }
    }
    return NULL;
}

pp_code pp_torch_load(pp_ckpt *c, const uint8_t *data, size_t size, const char *what, pp_error *err) {
    if (size >= sizeof LEGACY_MAGIC && !memcmp(data, LEGACY_MAGIC, sizeof LEGACY_MAGIC))
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "%s: the legacy torch.save format (before PyTorch 1.6, or "
                            "_use_new_zipfile_serialization=False) is not supported; re-save it with a current torch",
                            what);
    if (is_tar(data, size))
        return pp_error_set(
            err, PP_ERR_UNSUPPORTED,
            "%s: a tar archive: the oldest legacy torch.save format is not supported; re-save it with a current torch",
            what);
    if (size >= 2 && data[0] == 0x80)
        return pp_error_set(
            err, PP_ERR_UNSUPPORTED,
            "%s: a bare pickle (pickle.dump, or a legacy torch.save) is not supported; save with torch.save", what);
    pp_zip z;
    pp_code rc = pp_zip_open(data, size, what, &z, err);
    if (rc) return rc;
    pp_pickle *pk = NULL;
    const pp_pk_value *root = NULL;
    if (pp_zip_find_record(&z, "constants.pkl") || pp_zip_find_record(&z, "code/__torch__.py")) {
        rc = pp_error_set(err, PP_ERR_UNSUPPORTED,
                          "%s: a TorchScript archive (torch.jit.save): it holds code, not a state dict; save "
                          "model.state_dict() with torch.save, or export ONNX",
                          what);
        goto out;
    }
    for (int i = 0; i < z.n_entries; i++) {
        const char *nm = z.entries[i].name, *sl = strchr(nm, '/');
        if (sl && !strncmp(sl + 1, "code/", 5)) {
            rc = pp_error_set(
                err, PP_ERR_UNSUPPORTED,
                "%s: a TorchScript archive (torch.jit.save, it has code/): save model.state_dict() with torch.save",
                what);
            goto out;
        }
    }
    const pp_zip_entry *pe = pp_zip_find_record(&z, "data.pkl");
    if (!pe) {
        rc = pp_error_set(err, PP_ERR_FORMAT, "%s: no data.pkl record: not a torch.save archive", what);
        goto out;
    }
    int big = 0;
    const pp_zip_entry *bo = pp_zip_find_record(&z, "byteorder");
    if (bo) {
        const uint8_t *bd;
        uint64_t bn;
        if ((rc = pp_zip_entry_data(&z, bo, &bd, &bn, err))) goto out;
        while (bn && (bd[bn - 1] == '\n' || bd[bn - 1] == ' ')) bn--;
        if (bn == 3 && !memcmp(bd, "big", 3)) big = 1;
        else if (!(bn == 6 && !memcmp(bd, "little", 6))) {
            rc = pp_error_set(err, PP_ERR_FORMAT, "%s: byteorder record is neither 'little' nor 'big'", what);
            goto out;
        }
    }
    const uint8_t *pd;
    uint64_t pn;
    if ((rc = pp_zip_entry_data(&z, pe, &pd, &pn, err))) goto out;
    char pw[160];
    snprintf(pw, sizeof pw, "%s: data.pkl", what);
    if ((rc = pp_pickle_load(pd, (size_t)pn, pw, &pk, &root, err))) goto out;
    const pp_pk_value *sd = find_state_dict(root, c->nested, sizeof c->nested, 0);
    if (!sd) {
        if (root->type == PP_PK_TENSOR)
            rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: holds a single tensor, not a state dict", what);
        else if (root->type == PP_PK_DICT)
            rc = pp_error_set(err, PP_ERR_FORMAT,
                              "%s: a dict without tensors (looked at the top level and under "
                              "'state_dict', 'model_state_dict', 'model', 'module', 'net')",
                              what);
        else
            rc = pp_error_set(err, PP_ERR_FORMAT, "%s: the pickle holds a %s, not a state dict", what,
                              pp_pk_type_name(root->type));
        goto out;
    }
    snprintf(c->format, sizeof c->format, "torch zip%s", big ? " (big-endian)" : "");
    uint64_t budget = (uint64_t)size * PP_TORCH_AMPLIFICATION + ((uint64_t)64 << 20);
    for (size_t i = 0; i < sd->n / 2 && !rc; i++) {
        const pp_pk_value *k = sd->items[2 * i], *v = sd->items[2 * i + 1];
        if (v->type != PP_PK_TENSOR) continue; /* _extra_state, counters, ... */
        if (k->type != PP_PK_STR) {
            rc = pp_error_set(err, PP_ERR_FORMAT, "%s: state dict key %zu is a %s, not a string", what, i,
                              pp_pk_type_name(k->type));
            break;
        }
        if (strlen(k->s) != k->len) {
            rc = pp_error_set(err, PP_ERR_FORMAT, "%s: state dict key %zu holds a NUL byte", what, i);
            break;
        }
        if (c->n >= PP_CKPT_MAX_TENSORS) {
            rc = pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: more than %d tensors", what, PP_CKPT_MAX_TENSORS);
            break;
        }
        rc = add_tensor(c, &z, k->s, v, big, &budget, err);
    }
out:
    pp_pickle_free(pk);
    pp_zip_close(&z);
    return rc;
}
