/* read.c: graph.bin → a validated, read-only pp_model (docs/format.md).
 *
 * Nothing in the file is trusted until it has been checked: every read is
 * bounded by what was validated before it (header, then section table, then
 * checksums, then record sizes, then each record's fields, then the references
 * between records), and each failure names the section, the byte offset in the
 * file and the tensor or node at fault. The resulting arrays live in one
 * allocation; strings, index lists, attribute values and weights point into the
 * mapping (zero copy). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader_internal.h"
#include "model.h"

#define N_KINDS 13    /* section kinds 1..12; index 0 unused */
#define N_KINDS_V1 10 /* format 1 knows kinds 1..9 */

static const char *const section_names[N_KINDS] = {
    NULL,       "STRINGS",  "TENSORS", "NODES",   "ATTRS",         "INDICES",   "VALUES",
    "GRAPH_IO", "METADATA", "DATA",    "SYMBOLS", "SHAPE_PROGRAM", "SYM_ATTRS",
};

/* Absent optional sections read as empty. */
static const int section_required[N_KINDS] = {0, 1, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0};

/* Owns the mapping (or the aligned copy of caller memory) behind a pp_model. */
typedef struct loaded {
    void *map; /* mmap'ed file, or NULL */
    size_t map_size;
    void *copy;          /* pp_malloc'ed copy of misaligned caller memory, or NULL */
    uint32_t *sym_store; /* the bound attributes' sym arrays (format 2), or NULL */
} loaded;

typedef struct section {
    int present;
    uint32_t entry; /* index in the section table */
    uint64_t off, size;
} section;

typedef struct reader {
    const unsigned char *base;
    uint64_t size;
    unsigned flags;
    pp_error *err;
    pp_fmt_header h;
    section sec[N_KINDS];
    int n_kinds; /* the section kinds this file's major version knows, + 1 */
    uint32_t n_tensors, n_nodes, n_attrs, n_meta, n_symbols, n_prog;
    uint64_t n_idx, n_values, n_sym_attrs;
    uint32_t io_in, io_out;
} reader;

#define NAME(buf, s) pp_msg_name(buf, sizeof buf, s)

/* "TENSORS at offset 4160: tensor 3 'conv1.weight': invalid dtype 42" */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static pp_code
bad(reader *r, const char *where, uint64_t off, const char *fmt, ...) {
    char what[PP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return pp_error_set(r->err, PP_ERR_FORMAT, "%s at offset %llu: %s", where, (unsigned long long)off, what);
}

static const char *kind_name(unsigned k) {
    switch (k) {
    case PP_TENSOR_ACTIVATION: return "ACTIVATION";
    case PP_TENSOR_INPUT: return "INPUT";
    case PP_TENSOR_WEIGHT: return "WEIGHT";
    }
    return "unknown";
}

static int all_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* A STRINGS offset: PP_FMT_NONE reads as "". STRINGS was checked to start and
 * end with a NUL, so any offset inside it is a terminated string. */
static const char *str_at(const reader *r, uint64_t off) {
    if (off == PP_FMT_NONE) return (const char *)r->base + r->sec[PP_SEC_STRINGS].off;
    if (off >= r->sec[PP_SEC_STRINGS].size) return NULL;
    return (const char *)r->base + r->sec[PP_SEC_STRINGS].off + off;
}

/* ---- header and section table --------------------------------------------- */

static pp_code check_header(reader *r) {
    if (r->size < sizeof(pp_fmt_header))
        return pp_error_set(r->err, PP_ERR_FORMAT, "header: the file is %llu bytes, shorter than the %zu-byte header",
                            (unsigned long long)r->size, sizeof(pp_fmt_header));
    pp_fmt_header *h = &r->h;
    memcpy(h, r->base, sizeof *h);
    if (memcmp(h->magic, PP_FMT_MAGIC, sizeof h->magic) != 0) {
        char shown[40];
        size_t k = 0;
        for (int i = 0; i < 8; i++)
            k += (size_t)snprintf(shown + k, sizeof shown - k, "%02x", (unsigned char)h->magic[i]);
        return bad(r, "header", 0, "bad magic %s: not a graph.bin (expected \"PPGRAPH\\0\")", shown);
    }
    if (h->version_major > PP_FMT_VERSION_MAJOR)
        return pp_error_set(r->err, PP_ERR_UNSUPPORTED,
                            "header at offset 8: file format %u.%u is newer than this reader's %d.%d", h->version_major,
                            h->version_minor, PP_FMT_VERSION_MAJOR, PP_FMT_VERSION_MINOR);
    if (h->version_major < 1)
        return bad(r, "header", 8, "file format %u.%u predates format 1 and is not supported", h->version_major,
                   h->version_minor);
    r->n_kinds = h->version_major == 1 ? N_KINDS_V1 : N_KINDS;
    if (h->header_size != sizeof *h)
        return bad(r, "header", 12, "header_size is %u, expected %zu", h->header_size, sizeof *h);
    if (h->flags != 0) return bad(r, "header", 28, "flags are 0x%x, expected 0", h->flags);
    if (h->section_table_offset != sizeof *h)
        return bad(r, "header", 32, "section_table_offset is %llu, expected %zu",
                   (unsigned long long)h->section_table_offset, sizeof *h);
    if (!all_zero(h->reserved, sizeof h->reserved)) return bad(r, "header", 48, "reserved bytes are not zero");
    if (h->file_size != r->size)
        return bad(r, "header", 16, "file_size says %llu bytes but the file is %llu bytes (truncated or padded?)",
                   (unsigned long long)h->file_size, (unsigned long long)r->size);
    uint64_t table_end = sizeof *h + (uint64_t)h->section_count * sizeof(pp_fmt_section);
    if (pp_fmt_align(table_end) > r->size)
        return bad(r, "header", 24,
                   "section table of %u entries, bytes [64, %llu), runs past the end of the file (%llu bytes)",
                   h->section_count, (unsigned long long)table_end, (unsigned long long)r->size);
    pp_cksum ck;
    pp_fmt_header zeroed = *h;
    zeroed.header_checksum = 0;
    pp_cksum_init(&ck);
    pp_cksum_update(&ck, &zeroed, sizeof zeroed);
    pp_cksum_update(&ck, r->base + sizeof zeroed, (size_t)(pp_fmt_align(table_end) - sizeof zeroed));
    uint64_t got = pp_cksum_final(&ck);
    if (got != h->header_checksum)
        return bad(r, "header", 40, "header checksum mismatch over bytes [0, %llu): stored %016llx, computed %016llx",
                   (unsigned long long)pp_fmt_align(table_end), (unsigned long long)h->header_checksum,
                   (unsigned long long)got);
    return PP_OK;
}

static pp_code check_table(reader *r) {
    uint64_t table_end = sizeof(pp_fmt_header) + (uint64_t)r->h.section_count * sizeof(pp_fmt_section);
    uint64_t expect = pp_fmt_align(table_end), prev_end = table_end;
    for (uint32_t i = 0; i < r->h.section_count; i++) {
        uint64_t at = sizeof(pp_fmt_header) + (uint64_t)i * sizeof(pp_fmt_section);
        pp_fmt_section s;
        memcpy(&s, r->base + at, sizeof s);
        char label[64];
        const char *nm = s.kind > 0 && s.kind < (uint32_t)r->n_kinds ? section_names[s.kind] : NULL;
        if (nm) snprintf(label, sizeof label, "section %s", nm);
        else snprintf(label, sizeof label, "section of unknown kind %u", s.kind);
        if (s.offset % PP_FMT_ALIGN)
            return bad(r, "section table", at, "entry %u (%s): offset %llu is not a multiple of %u", i, label,
                       (unsigned long long)s.offset, PP_FMT_ALIGN);
        if (s.offset < expect)
            return bad(r, "section table", at,
                       "entry %u (%s): offset %llu overlaps the %s ending at %llu (sections must be in file order)", i,
                       label, (unsigned long long)s.offset, i ? "previous section" : "section table",
                       (unsigned long long)prev_end);
        if (s.offset > expect)
            return bad(r, "section table", at,
                       "entry %u (%s): offset %llu leaves a gap after %llu (sections must tile the file)", i, label,
                       (unsigned long long)s.offset, (unsigned long long)expect);
        if (s.offset > r->size || s.size > r->size - s.offset)
            return bad(r, "section table", at,
                       "entry %u (%s): bytes [%llu, +%llu) run past the end of the file (%llu bytes)", i, label,
                       (unsigned long long)s.offset, (unsigned long long)s.size, (unsigned long long)r->size);
        prev_end = s.offset + s.size;
        expect = pp_fmt_align(prev_end);
        if (!nm) continue; /* an unknown kind from a newer minor version: tiled and checksummed, else ignored */
        if (s.flags != 0)
            return bad(r, "section table", at, "entry %u (%s): flags are 0x%x, expected 0", i, label, s.flags);
        if (r->sec[s.kind].present)
            return bad(r, "section table", at, "entry %u: %s appears twice (first as entry %u)", i, label,
                       r->sec[s.kind].entry);
        r->sec[s.kind] = (section){1, i, s.offset, s.size};
    }
    if (expect != r->size)
        return bad(r, "section table", sizeof(pp_fmt_header),
                   "the sections end at %llu (padded) but the file is %llu bytes", (unsigned long long)expect,
                   (unsigned long long)r->size);
    for (int k = 1; k < r->n_kinds; k++) {
        if (!r->sec[k].present && section_required[k])
            return bad(r, "section table", sizeof(pp_fmt_header), "required section %s is missing", section_names[k]);
        if (!r->sec[k].present) r->sec[k] = (section){0, 0, 0, 0}; /* reads as empty at offset 0 */
    }
    /* The zero padding after the table is covered by the header checksum, and must be zero. */
    if (!all_zero(r->base + table_end, (size_t)(pp_fmt_align(table_end) - table_end)))
        return bad(r, "section table", table_end, "padding after the table is not zero");
    return PP_OK;
}

static pp_code check_checksums(reader *r) {
    for (uint32_t i = 0; i < r->h.section_count; i++) {
        uint64_t at = sizeof(pp_fmt_header) + (uint64_t)i * sizeof(pp_fmt_section);
        pp_fmt_section s;
        memcpy(&s, r->base + at, sizeof s);
        const char *nm = s.kind > 0 && s.kind < (uint32_t)r->n_kinds ? section_names[s.kind] : "of unknown kind";
        uint64_t end = s.offset + s.size, padded = pp_fmt_align(end);
        if (!(s.kind == PP_SEC_DATA && (r->flags & PP_LOAD_SKIP_DATA_CHECKSUM))) {
            uint64_t got = pp_fmt_checksum(r->base + s.offset, (size_t)(padded - s.offset));
            if (got != s.checksum)
                return bad(r, nm, s.offset,
                           "section checksum mismatch over bytes [%llu, %llu): stored %016llx, computed %016llx",
                           (unsigned long long)s.offset, (unsigned long long)padded, (unsigned long long)s.checksum,
                           (unsigned long long)got);
        }
        for (uint64_t b = end; b < padded; b++)
            if (r->base[b]) return bad(r, nm, b, "padding byte after the section is 0x%02x, not zero", r->base[b]);
    }
    return PP_OK;
}

static pp_code record_count(reader *r, int kind, uint64_t rec, uint64_t max, uint64_t *out) {
    const section *s = &r->sec[kind];
    if (s->size % rec)
        return bad(r, section_names[kind], s->off, "section size %llu is not a multiple of the %llu-byte record",
                   (unsigned long long)s->size, (unsigned long long)rec);
    if (s->size / rec > max)
        return bad(r, section_names[kind], s->off, "%llu records exceed the format's limit of %llu",
                   (unsigned long long)(s->size / rec), (unsigned long long)max);
    *out = s->size / rec;
    return PP_OK;
}

static pp_code check_sizes(reader *r) {
    const section *st = &r->sec[PP_SEC_STRINGS];
    if (st->size == 0 || r->base[st->off] != 0)
        return bad(r, "STRINGS", st->off, "the section must start with the empty string (a NUL byte)");
    if (r->base[st->off + st->size - 1] != 0)
        return bad(r, "STRINGS", st->off + st->size - 1,
                   "the last string is unterminated (no NUL before the section ends)");
    uint64_t n = 0;
    pp_code rc;
    /* Ids are u32 and PP_FMT_NONE is reserved, so at most 2^32 - 1 of each. */
    if ((rc = record_count(r, PP_SEC_TENSORS, sizeof(pp_fmt_tensor), PP_FMT_NONE - 1u, &n))) return rc;
    r->n_tensors = (uint32_t)n;
    if ((rc = record_count(r, PP_SEC_NODES, sizeof(pp_fmt_node), UINT32_MAX, &n))) return rc;
    r->n_nodes = (uint32_t)n;
    if ((rc = record_count(r, PP_SEC_ATTRS, sizeof(pp_fmt_attr), UINT32_MAX, &n))) return rc;
    r->n_attrs = (uint32_t)n;
    if ((rc = record_count(r, PP_SEC_METADATA, sizeof(pp_fmt_meta), UINT32_MAX, &n))) return rc;
    r->n_meta = (uint32_t)n;
    if ((rc = record_count(r, PP_SEC_INDICES, sizeof(uint32_t), UINT64_MAX, &r->n_idx))) return rc;
    if ((rc = record_count(r, PP_SEC_VALUES, sizeof(int64_t), UINT64_MAX, &r->n_values))) return rc;
    if ((rc = record_count(r, PP_SEC_SYMBOLS, sizeof(pp_fmt_symbol), PP_MAX_SYMBOLS, &n))) return rc;
    r->n_symbols = (uint32_t)n;
    if ((rc = record_count(r, PP_SEC_SHAPE_PROGRAM, sizeof(pp_fmt_shape_inst), PP_MAX_SHAPE_INSTS, &n))) return rc;
    r->n_prog = (uint32_t)n;
    if ((rc = record_count(r, PP_SEC_SYM_ATTRS, sizeof(pp_fmt_sym_attr), UINT64_MAX, &r->n_sym_attrs))) return rc;
    const section *io = &r->sec[PP_SEC_GRAPH_IO];
    if (io->size < sizeof(pp_fmt_io))
        return bad(r, "GRAPH_IO", io->off, "section is %llu bytes, shorter than its %zu-byte header",
                   (unsigned long long)io->size, sizeof(pp_fmt_io));
    pp_fmt_io h;
    memcpy(&h, r->base + io->off, sizeof h);
    uint64_t want = sizeof h + 4 * ((uint64_t)h.n_inputs + h.n_outputs);
    if (io->size != want)
        return bad(r, "GRAPH_IO", io->off, "section is %llu bytes but %u inputs and %u outputs need %llu",
                   (unsigned long long)io->size, h.n_inputs, h.n_outputs, (unsigned long long)want);
    r->io_in = h.n_inputs;
    r->io_out = h.n_outputs;
    return PP_OK;
}

/* ---- records ---------------------------------------------------------------- */

typedef struct wrange {
    uint64_t off, size;
    uint32_t t;
} wrange;

static int wrange_cmp(const void *a, const void *b) {
    const wrange *x = a, *y = b;
    if (x->off != y->off) return x->off < y->off ? -1 : 1;
    return x->t < y->t ? -1 : x->t > y->t;
}

/* Scratch for the cross-reference checks, freed before returning. */
typedef struct scratch {
    uint32_t *producer; /* per tensor: the node writing it, or PP_FMT_NONE */
    wrange *weights;
    unsigned char *listed; /* per tensor: already a graph input */
} scratch;

static pp_code check_tensors(reader *r, pp_model_tensor *out, scratch *sc) {
    const section *ts = &r->sec[PP_SEC_TENSORS], *ds = &r->sec[PP_SEC_DATA];
    uint32_t n_weights = 0;
    char nb[80], lb[120];
    for (uint32_t i = 0; i < r->n_tensors; i++) {
        uint64_t at = ts->off + (uint64_t)i * sizeof(pp_fmt_tensor);
        pp_fmt_tensor t;
        memcpy(&t, r->base + at, sizeof t);
        const char *name = str_at(r, t.name);
        if (!name)
            return bad(r, "TENSORS", at, "tensor %u: name offset %u is outside STRINGS (%llu bytes)", i, t.name,
                       (unsigned long long)r->sec[PP_SEC_STRINGS].size);
        snprintf(lb, sizeof lb, "tensor %u '%s'", i, NAME(nb, name));
        if (t.dtype == PP_DTYPE_INVALID || t.dtype >= PP_DTYPE_COUNT)
            return bad(r, "TENSORS", at + 4, "%s: invalid dtype %u", lb, t.dtype);
        if (t.rank > PP_MAX_RANK)
            return bad(r, "TENSORS", at + 5, "%s: rank %u exceeds the maximum %d", lb, t.rank, PP_MAX_RANK);
        if (t.kind > PP_TENSOR_WEIGHT) return bad(r, "TENSORS", at + 6, "%s: unknown kind %u", lb, t.kind);
        if (t.flags != 0) return bad(r, "TENSORS", at + 7, "%s: flags are 0x%x, expected 0", lb, t.flags);
        for (int k = t.rank; k < PP_MAX_RANK; k++)
            if (t.dims[k] != 0)
                return bad(r, "TENSORS", at + 8 + 8 * (uint64_t)k, "%s: dims[%d] = %lld beyond rank %u is not zero", lb,
                           k, (long long)t.dims[k], t.rank);
        if (!all_zero(t.reserved, sizeof t.reserved))
            return bad(r, "TENSORS", at + 88, "%s: reserved bytes are not zero", lb);
        int64_t fixed[PP_MAX_RANK];
        int bad_axis =
            pp_slot_dims(t.dims, t.rank, r->h.version_major >= 2 ? r->n_prog : 0, r->h.version_major >= 2, fixed);
        if (bad_axis >= 0)
            return bad(r, "TENSORS", at + 8 + 8 * (uint64_t)bad_axis,
                       "%s: dims[%d] names shape value %llu, but the program has %u", lb, bad_axis,
                       (unsigned long long)(PP_DIM_SLOT_BASE - t.dims[bad_axis]), r->n_prog);
        uint64_t bytes;
        if (pp_dims_bytes((pp_dtype)t.dtype, t.rank, fixed, &bytes))
            return bad(r, "TENSORS", at + 8, "%s: dims overflow (numel × %zu bytes exceeds 2^64)", lb,
                       pp_dtype_size((pp_dtype)t.dtype));
        pp_model_tensor *m = &out[i];
        m->name = name;
        m->dtype = (pp_dtype)t.dtype;
        m->kind = (pp_tensor_kind)t.kind;
        m->rank = t.rank;
        memcpy(m->dims, t.dims, sizeof m->dims);
        if (t.kind != PP_TENSOR_WEIGHT) {
            if (t.data_offset || t.data_size)
                return bad(r, "TENSORS", at + 72, "%s: a %s tensor has data (offset %llu, %llu bytes)", lb,
                           kind_name(t.kind), (unsigned long long)t.data_offset, (unsigned long long)t.data_size);
            continue;
        }
        for (int k = 0; k < t.rank; k++)
            if (t.dims[k] < 0)
                return bad(r, "TENSORS", at + 8 + 8 * (uint64_t)k,
                           "%s: weight dims[%d] = %lld is negative (a weight has no batch axis)", lb, k,
                           (long long)t.dims[k]);
        if (t.data_size != bytes)
            return bad(r, "TENSORS", at + 80, "%s: data_size %llu but the shape needs %llu bytes (numel × %zu)", lb,
                       (unsigned long long)t.data_size, (unsigned long long)bytes, pp_dtype_size((pp_dtype)t.dtype));
        if (t.data_offset % PP_FMT_ALIGN)
            return bad(r, "TENSORS", at + 72, "%s: data_offset %llu is not a multiple of %u", lb,
                       (unsigned long long)t.data_offset, PP_FMT_ALIGN);
        if (t.data_offset > ds->size || t.data_size > ds->size - t.data_offset)
            return bad(r, "TENSORS", at + 72, "%s: data [%llu, +%llu) lies outside DATA (%llu bytes)", lb,
                       (unsigned long long)t.data_offset, (unsigned long long)t.data_size,
                       (unsigned long long)ds->size);
        m->data = r->base + ds->off + t.data_offset;
        m->nbytes = t.data_size;
        if (t.dtype == PP_DTYPE_BOOL) {
            const unsigned char *b = m->data;
            for (uint64_t e = 0; e < t.data_size; e++)
                if (b[e] > 1)
                    return bad(r, "DATA", ds->off + t.data_offset + e, "%s: bool element %llu is %u, not 0 or 1", lb,
                               (unsigned long long)e, b[e]);
        }
        if (t.data_size) sc->weights[n_weights++] = (wrange){t.data_offset, t.data_size, i};
    }
    qsort(sc->weights, n_weights, sizeof *sc->weights, wrange_cmp);
    for (uint32_t k = 1; k < n_weights; k++) {
        const wrange *a = &sc->weights[k - 1], *b = &sc->weights[k];
        if (a->off + a->size > b->off) {
            char nb2[80];
            return bad(r, "TENSORS", ts->off + (uint64_t)b->t * sizeof(pp_fmt_tensor),
                       "tensor %u '%s' data [%llu, %llu) overlaps tensor %u '%s' data [%llu, %llu) in DATA", a->t,
                       NAME(nb, out[a->t].name), (unsigned long long)a->off, (unsigned long long)(a->off + a->size),
                       b->t, NAME(nb2, out[b->t].name), (unsigned long long)b->off,
                       (unsigned long long)(b->off + b->size));
        }
    }
    return PP_OK;
}

static const uint32_t *indices_at(const reader *r, uint64_t i) {
    return (const uint32_t *)(const void *)(r->base + r->sec[PP_SEC_INDICES].off + 4 * i);
}

static pp_code check_attr(reader *r, uint32_t a, const char *node_label, pp_model_attr *m) {
    uint64_t at = r->sec[PP_SEC_ATTRS].off + (uint64_t)a * sizeof(pp_fmt_attr);
    pp_fmt_attr x;
    memcpy(&x, r->base + at, sizeof x);
    char nb[80], lb[240];
    const char *name = str_at(r, x.name);
    if (!name)
        return bad(r, "ATTRS", at, "attribute %u of %s: name offset %u is outside STRINGS (%llu bytes)", a, node_label,
                   x.name, (unsigned long long)r->sec[PP_SEC_STRINGS].size);
    if (!*name) return bad(r, "ATTRS", at, "attribute %u of %s has an empty name", a, node_label);
    snprintf(lb, sizeof lb, "attribute %u '%s' of %s", a, NAME(nb, name), node_label);
    if (x.reserved != 0) return bad(r, "ATTRS", at + 12, "%s: reserved field is %u, expected 0", lb, x.reserved);
    memset(m, 0, sizeof *m);
    m->name = name;
    m->type = (pp_attr_type)x.type;
    switch (x.type) {
    case PP_ATTR_INT:
    case PP_ATTR_FLOAT:
    case PP_ATTR_STRING:
        if (x.count != 1) return bad(r, "ATTRS", at + 8, "%s: count is %u, expected 1 for a scalar", lb, x.count);
        if (x.type == PP_ATTR_INT) {
            m->i = x.value.i;
        } else if (x.type == PP_ATTR_FLOAT) {
            m->f = x.value.f;
        } else {
            m->s = x.value.str <= UINT32_MAX ? str_at(r, x.value.str) : NULL;
            if (!m->s)
                return bad(r, "ATTRS", at + 16, "%s: string offset %llu is outside STRINGS (%llu bytes)", lb,
                           (unsigned long long)x.value.str, (unsigned long long)r->sec[PP_SEC_STRINGS].size);
        }
        return PP_OK;
    case PP_ATTR_INTS:
    case PP_ATTR_FLOATS: {
        uint64_t pool = x.value.pool, vsize = r->sec[PP_SEC_VALUES].size;
        if (pool % 8)
            return bad(r, "ATTRS", at + 16, "%s: VALUES offset %llu is not a multiple of 8", lb,
                       (unsigned long long)pool);
        if (pool > vsize || (uint64_t)x.count * 8 > vsize - pool)
            return bad(r, "ATTRS", at + 16, "%s: %u values at VALUES offset %llu lie outside VALUES (%llu bytes)", lb,
                       x.count, (unsigned long long)pool, (unsigned long long)vsize);
        const void *p = r->base + r->sec[PP_SEC_VALUES].off + pool;
        m->count = x.count;
        if (x.type == PP_ATTR_INTS) m->ints = p;
        else m->floats = p;
        return PP_OK;
    }
    }
    return bad(r, "ATTRS", at + 4, "%s: unknown attribute type %u", lb, x.type);
}

/* Pass 1: each node's own fields, its index and attribute ranges, its attributes
 * and its outputs (recording producers). Ranges must follow one another node by
 * node (INDICES: inputs then outputs; ATTRS: attributes), which keeps this pass
 * linear in the file size even for a hostile file. */
static pp_code check_nodes_own(reader *r, pp_model_node *out, const pp_model_tensor *tensors, pp_model_attr *attrs,
                               scratch *sc) {
    const section *ns = &r->sec[PP_SEC_NODES];
    char nb[80], lb[120], tb[80], ob[80];
    uint64_t idx = 0, attr = 0;
    for (uint32_t t = 0; t < r->n_tensors; t++) sc->producer[t] = PP_FMT_NONE;
    for (uint32_t j = 0; j < r->n_nodes; j++) {
        uint64_t at = ns->off + (uint64_t)j * sizeof(pp_fmt_node);
        pp_fmt_node n;
        memcpy(&n, r->base + at, sizeof n);
        const char *name = str_at(r, n.name);
        if (!name)
            return bad(r, "NODES", at + 4, "node %u: name offset %u is outside STRINGS (%llu bytes)", j, n.name,
                       (unsigned long long)r->sec[PP_SEC_STRINGS].size);
        snprintf(lb, sizeof lb, "node %u '%s'", j, NAME(nb, name));
        if (n.op > PP_OP_MAX_VALUE || !pp_op_name((pp_op)n.op))
            return bad(r, "NODES", at, "%s: unknown op %u", lb, n.op);
        if (!all_zero(n.reserved, sizeof n.reserved))
            return bad(r, "NODES", at + 32, "%s: reserved bytes are not zero", lb);
        if ((uint64_t)n.inputs_begin + n.n_inputs > r->n_idx)
            return bad(r, "NODES", at + 8, "%s: inputs [%u, +%u) lie outside INDICES (%llu entries)", lb,
                       n.inputs_begin, n.n_inputs, (unsigned long long)r->n_idx);
        if ((uint64_t)n.outputs_begin + n.n_outputs > r->n_idx)
            return bad(r, "NODES", at + 16, "%s: outputs [%u, +%u) lie outside INDICES (%llu entries)", lb,
                       n.outputs_begin, n.n_outputs, (unsigned long long)r->n_idx);
        if ((uint64_t)n.attrs_begin + n.n_attrs > r->n_attrs)
            return bad(r, "NODES", at + 24, "%s: attributes [%u, +%u) lie outside ATTRS (%u records)", lb,
                       n.attrs_begin, n.n_attrs, r->n_attrs);
        if (n.inputs_begin != idx || n.outputs_begin != idx + n.n_inputs)
            return bad(r, "NODES", at + 8,
                       "%s: inputs start at %u and outputs at %u, expected %llu and %llu (INDICES holds each node's "
                       "inputs then outputs, in node order)",
                       lb, n.inputs_begin, n.outputs_begin, (unsigned long long)idx,
                       (unsigned long long)(idx + n.n_inputs));
        if (n.attrs_begin != attr)
            return bad(r, "NODES", at + 24,
                       "%s: attributes start at %u, expected %llu (ATTRS holds them in node order)", lb, n.attrs_begin,
                       (unsigned long long)attr);
        idx += (uint64_t)n.n_inputs + n.n_outputs;
        attr += n.n_attrs;
        for (uint32_t a = 0; a < n.n_attrs; a++) {
            pp_code rc = check_attr(r, n.attrs_begin + a, lb, &attrs[n.attrs_begin + a]);
            if (rc) return rc;
        }
        const uint32_t *outs = indices_at(r, n.outputs_begin);
        for (uint32_t k = 0; k < n.n_outputs; k++) {
            uint64_t iat = r->sec[PP_SEC_INDICES].off + 4 * ((uint64_t)n.outputs_begin + k);
            uint32_t t = outs[k];
            if (t == PP_FMT_NONE) return bad(r, "INDICES", iat, "%s: output %u is absent (PP_FMT_NONE)", lb, k);
            if (t >= r->n_tensors)
                return bad(r, "INDICES", iat, "%s: output %u refers to tensor %u, but there are %u (dangling)", lb, k,
                           t, r->n_tensors);
            if (tensors[t].kind != PP_TENSOR_ACTIVATION)
                return bad(r, "INDICES", iat, "%s: output %u writes tensor %u '%s', which is a %s", lb, k, t,
                           NAME(tb, tensors[t].name), kind_name(tensors[t].kind));
            if (sc->producer[t] != PP_FMT_NONE)
                return bad(r, "INDICES", iat, "tensor %u '%s' is produced twice: by node %u '%s' and by %s", t,
                           NAME(tb, tensors[t].name), sc->producer[t], NAME(ob, out[sc->producer[t]].name), lb);
            sc->producer[t] = j;
        }
        pp_model_node *m = &out[j];
        m->op = (pp_op)n.op;
        m->name = name;
        m->n_inputs = n.n_inputs;
        m->n_outputs = n.n_outputs;
        m->n_attrs = n.n_attrs;
        m->inputs = indices_at(r, n.inputs_begin);
        m->outputs = outs;
        m->attrs = attrs + n.attrs_begin;
    }
    if (idx != r->n_idx)
        return bad(r, "INDICES", r->sec[PP_SEC_INDICES].off + 4 * idx,
                   "the section has %llu entries but the nodes use %llu", (unsigned long long)r->n_idx,
                   (unsigned long long)idx);
    if (attr != r->n_attrs)
        return bad(r, "ATTRS", r->sec[PP_SEC_ATTRS].off + attr * sizeof(pp_fmt_attr),
                   "the section has %u records but the nodes use %llu", r->n_attrs, (unsigned long long)attr);
    return PP_OK;
}

/* Pass 2: every input exists and, when an activation, was produced by an
 * earlier node; this is what rules out cycles. */
static pp_code check_nodes_inputs(reader *r, const pp_model_node *nodes, const pp_model_tensor *tensors,
                                  const scratch *sc) {
    char nb[80], tb[80], pb[80];
    for (uint32_t j = 0; j < r->n_nodes; j++) {
        const pp_model_node *n = &nodes[j];
        uint64_t first = (uint64_t)(n->inputs - indices_at(r, 0));
        for (uint32_t k = 0; k < n->n_inputs; k++) {
            uint64_t iat = r->sec[PP_SEC_INDICES].off + 4 * (first + k);
            uint32_t t = n->inputs[k];
            if (t == PP_FMT_NONE) continue; /* an absent optional input */
            if (t >= r->n_tensors)
                return bad(r, "INDICES", iat, "node %u '%s': input %u refers to tensor %u, but there are %u (dangling)",
                           j, NAME(nb, n->name), k, t, r->n_tensors);
            if (tensors[t].kind != PP_TENSOR_ACTIVATION) continue;
            uint32_t p = sc->producer[t];
            if (p == PP_FMT_NONE)
                return bad(r, "INDICES", iat, "node %u '%s': input %u, activation %u '%s', is never produced", j,
                           NAME(nb, n->name), k, t, NAME(tb, tensors[t].name));
            if (p == j)
                return bad(r, "INDICES", iat, "node %u '%s': input %u, tensor %u '%s', is its own output (a cycle)", j,
                           NAME(nb, n->name), k, t, NAME(tb, tensors[t].name));
            if (p > j)
                return bad(r, "INDICES", iat,
                           "node %u '%s': input %u, tensor %u '%s', is produced by the later node %u '%s' (a cycle, "
                           "or nodes not in topological order)",
                           j, NAME(nb, n->name), k, t, NAME(tb, tensors[t].name), p, NAME(pb, nodes[p].name));
        }
    }
    return PP_OK;
}

static pp_code check_graph_io(reader *r, const pp_model_tensor *tensors, const scratch *sc, const uint32_t **ins,
                              const uint32_t **outs) {
    const section *io = &r->sec[PP_SEC_GRAPH_IO];
    char tb[80];
    *ins = (const uint32_t *)(const void *)(r->base + io->off + sizeof(pp_fmt_io));
    *outs = *ins + r->io_in;
    memset(sc->listed, 0, r->n_tensors);
    for (uint32_t k = 0; k < r->io_out; k++) {
        uint64_t at = io->off + sizeof(pp_fmt_io) + 4 * ((uint64_t)r->io_in + k);
        uint32_t t = (*outs)[k];
        if (t >= r->n_tensors)
            return bad(r, "GRAPH_IO", at, "graph output %u refers to tensor %u, but there are %u (dangling)", k, t,
                       r->n_tensors);
        if (tensors[t].kind == PP_TENSOR_ACTIVATION && sc->producer[t] == PP_FMT_NONE)
            return bad(r, "GRAPH_IO", at, "graph output %u, tensor %u '%s', is never produced", k, t,
                       NAME(tb, tensors[t].name));
    }
    for (uint32_t k = 0; k < r->io_in; k++) {
        uint64_t at = io->off + sizeof(pp_fmt_io) + 4 * (uint64_t)k;
        uint32_t t = (*ins)[k];
        if (t >= r->n_tensors)
            return bad(r, "GRAPH_IO", at, "graph input %u refers to tensor %u, but there are %u (dangling)", k, t,
                       r->n_tensors);
        if (tensors[t].kind != PP_TENSOR_INPUT)
            return bad(r, "GRAPH_IO", at, "graph input %u, tensor %u '%s', is a %s, not an INPUT", k, t,
                       NAME(tb, tensors[t].name), kind_name(tensors[t].kind));
        if (sc->listed[t])
            return bad(r, "GRAPH_IO", at, "graph input %u, tensor %u '%s', is listed twice", k, t,
                       NAME(tb, tensors[t].name));
        sc->listed[t] = 1;
    }
    for (uint32_t t = 0; t < r->n_tensors; t++)
        if (tensors[t].kind == PP_TENSOR_INPUT && !sc->listed[t])
            return bad(r, "TENSORS", r->sec[PP_SEC_TENSORS].off + (uint64_t)t * sizeof(pp_fmt_tensor),
                       "tensor %u '%s' is an INPUT but not a graph input", t, NAME(tb, tensors[t].name));
    for (uint32_t t = 0; t < r->n_tensors; t++)
        if (tensors[t].kind == PP_TENSOR_ACTIVATION && sc->producer[t] == PP_FMT_NONE)
            return bad(r, "TENSORS", r->sec[PP_SEC_TENSORS].off + (uint64_t)t * sizeof(pp_fmt_tensor),
                       "activation %u '%s' is never produced by any node", t, NAME(tb, tensors[t].name));
    return PP_OK;
}

static pp_code check_meta(reader *r, pp_model_meta *out) {
    const section *ms = &r->sec[PP_SEC_METADATA];
    for (uint32_t k = 0; k < r->n_meta; k++) {
        uint64_t at = ms->off + (uint64_t)k * sizeof(pp_fmt_meta);
        pp_fmt_meta x;
        memcpy(&x, r->base + at, sizeof x);
        out[k].key = str_at(r, x.key);
        out[k].value = str_at(r, x.value);
        if (!out[k].key)
            return bad(r, "METADATA", at, "entry %u: key offset %u is outside STRINGS (%llu bytes)", k, x.key,
                       (unsigned long long)r->sec[PP_SEC_STRINGS].size);
        if (!out[k].value)
            return bad(r, "METADATA", at + 4, "entry %u: value offset %u is outside STRINGS (%llu bytes)", k, x.value,
                       (unsigned long long)r->sec[PP_SEC_STRINGS].size);
    }
    return PP_OK;
}

/* ---- assembly ----------------------------------------------------------------- */

/* Lays out n items of size sz at *at (max-aligned), advancing *at; -1 on overflow. */
static int carve(size_t *at, size_t n, size_t sz, size_t *where) {
    size_t al = _Alignof(max_align_t), bytes, start;
    if (pp_add_size(*at, al - 1, &start)) return -1;
    start &= ~(al - 1);
    if (pp_mul_size(n, sz, &bytes) || pp_add_size(start, bytes, at)) return -1;
    *where = start;
    return 0;
}

/* Validates [base, base + size) and builds the model over it. On success the
 * model borrows base; the caller attaches the owner (mapping or copy). */
static pp_code build_model(const unsigned char *base, uint64_t size, unsigned flags, pp_model **out, pp_error *err) {
    reader r;
    memset(&r, 0, sizeof r);
    r.base = base;
    r.size = size;
    r.flags = flags;
    r.err = err;
    pp_code rc;
    if ((rc = check_header(&r)) || (rc = check_table(&r)) || (rc = check_checksums(&r)) || (rc = check_sizes(&r)))
        return rc;

    size_t total = 0, o_model, o_priv, o_t, o_n, o_a, o_m, o_s;
    if (carve(&total, 1, sizeof(pp_model), &o_model) || carve(&total, 1, sizeof(loaded), &o_priv) ||
        carve(&total, r.n_symbols, sizeof(pp_model_symbol), &o_s) ||
        carve(&total, r.n_tensors, sizeof(pp_model_tensor), &o_t) ||
        carve(&total, r.n_nodes, sizeof(pp_model_node), &o_n) ||
        carve(&total, r.n_attrs, sizeof(pp_model_attr), &o_a) || carve(&total, r.n_meta, sizeof(pp_model_meta), &o_m))
        return pp_error_nomem(err, "%u tensors, %u nodes and %u attributes exceed the address space", r.n_tensors,
                              r.n_nodes, r.n_attrs);
    size_t stotal = 0, o_prod, o_w, o_listed;
    if (carve(&stotal, r.n_tensors, sizeof(uint32_t), &o_prod) || carve(&stotal, r.n_tensors, sizeof(wrange), &o_w) ||
        carve(&stotal, r.n_tensors, 1, &o_listed))
        return pp_error_nomem(err, "%u tensors exceed the address space", r.n_tensors);
    unsigned char *block = pp_calloc(1, total);
    if (!block) return pp_error_set(err, PP_ERR_NOMEM, "cannot allocate %zu bytes for the model description", total);
    unsigned char *sblock = pp_malloc(stotal);
    if (!sblock) {
        pp_free(block);
        return pp_error_set(err, PP_ERR_NOMEM, "cannot allocate %zu bytes of scratch for validation", stotal);
    }
    scratch sc = {(uint32_t *)(void *)(sblock + o_prod), (wrange *)(void *)(sblock + o_w), sblock + o_listed};
    pp_model *m = (pp_model *)(void *)(block + o_model);
    pp_model_tensor *tensors = (pp_model_tensor *)(void *)(block + o_t);
    pp_model_node *nodes = (pp_model_node *)(void *)(block + o_n);
    pp_model_attr *attrs = (pp_model_attr *)(void *)(block + o_a);
    pp_model_meta *meta = (pp_model_meta *)(void *)(block + o_m);
    pp_model_symbol *symbols = (pp_model_symbol *)(void *)(block + o_s);
    const uint32_t *ins = NULL, *outs = NULL;
    uint32_t *store = NULL;
    if (!(rc = check_tensors(&r, tensors, &sc)) && !(rc = check_nodes_own(&r, nodes, tensors, attrs, &sc)) &&
        !(rc = check_nodes_inputs(&r, nodes, tensors, &sc)) && !(rc = check_graph_io(&r, tensors, &sc, &ins, &outs)))
        rc = check_meta(&r, meta);
    if (!rc) {
        const section *ss = &r.sec[PP_SEC_SYMBOLS], *ps = &r.sec[PP_SEC_SHAPE_PROGRAM], *as = &r.sec[PP_SEC_SYM_ATTRS];
        pp_symbolic_sections v = {r.sec[PP_SEC_STRINGS].off,
                                  r.sec[PP_SEC_STRINGS].size,
                                  ss->off,
                                  r.n_symbols,
                                  ps->off,
                                  r.n_prog,
                                  as->off,
                                  r.n_sym_attrs};
        rc = pp_read_symbolic(r.base, &v, attrs, r.n_attrs, symbols, &store, r.err);
    }
    pp_free(sblock);
    if (rc) {
        pp_free(store);
        pp_free(block);
        return rc;
    }
    m->n_symbols = r.n_symbols;
    m->symbols = symbols;
    m->n_shape_insts = r.n_prog;
    m->shape_prog = r.n_prog ? (const pp_fmt_shape_inst *)(const void *)(base + r.sec[PP_SEC_SHAPE_PROGRAM].off) : NULL;
    ((loaded *)(void *)(block + o_priv))->sym_store = store;
    m->n_tensors = r.n_tensors;
    m->n_nodes = r.n_nodes;
    m->n_inputs = r.io_in;
    m->n_outputs = r.io_out;
    m->n_meta = r.n_meta;
    m->tensors = tensors;
    m->nodes = nodes;
    m->inputs = ins;
    m->outputs = outs;
    m->meta = meta;
    m->version_major = r.h.version_major;
    m->version_minor = r.h.version_minor;
    m->priv = block + o_priv;
    *out = m;
    return PP_OK;
}

pp_code pp_model_load_memory(const void *data, size_t size, unsigned flags, pp_model **out, pp_error *err) {
    if (!out) return pp_error_set(err, PP_ERR_INVALID_ARG, "pp_model_load_memory: NULL output");
    *out = NULL;
    if (!data && size) return pp_error_set(err, PP_ERR_INVALID_ARG, "pp_model_load_memory: NULL data");
    if (!data) data = "";
    const unsigned char *base = data;
    void *copy = NULL;
    /* Weights must come out PP_FMT_ALIGN-aligned in memory, as they would from a
     * mapping; for a misaligned buffer that takes an aligned copy. */
    if ((uintptr_t)base % PP_FMT_ALIGN) {
        size_t n;
        if (pp_add_size(size, PP_FMT_ALIGN, &n) || !(copy = pp_malloc(n)))
            return pp_error_set(err, PP_ERR_NOMEM, "cannot allocate %zu + %u bytes for an aligned copy of the model",
                                size, PP_FMT_ALIGN);
        unsigned char *aligned = (unsigned char *)copy + (PP_FMT_ALIGN - (uintptr_t)copy % PP_FMT_ALIGN) % PP_FMT_ALIGN;
        memcpy(aligned, base, size);
        base = aligned;
    }
    pp_model *m;
    pp_code rc = build_model(base, size, flags, &m, err);
    if (rc) {
        pp_free(copy);
        return rc;
    }
    loaded *l = m->priv;
    l->copy = copy;
    *out = m;
    return PP_OK;
}

pp_code pp_model_load(const char *path, unsigned flags, pp_model **out, pp_error *err) {
    if (!out) return pp_error_set(err, PP_ERR_INVALID_ARG, "pp_model_load: NULL output");
    *out = NULL;
    if (!path) return pp_error_set(err, PP_ERR_INVALID_ARG, "pp_model_load: NULL path");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pp_error_set(err, PP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return pp_error_set(err, PP_ERR_IO, "%s: fstat failed: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return pp_error_set(err, PP_ERR_IO, "%s: not a regular file", path);
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < sizeof(pp_fmt_header)) {
        close(fd);
        return pp_error_set(err, PP_ERR_FORMAT, "%s: header: the file is %llu bytes, shorter than the %zu-byte header",
                            path, (unsigned long long)size, sizeof(pp_fmt_header));
    }
    if (size > SIZE_MAX) {
        close(fd);
        return pp_error_set(err, PP_ERR_NOMEM, "%s: %llu bytes exceed the address space", path,
                            (unsigned long long)size);
    }
    void *map = mmap(NULL, (size_t)size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd); /* the mapping keeps the file alive */
    if (map == MAP_FAILED)
        return pp_error_set(err, PP_ERR_IO, "%s: mmap of %llu bytes failed: %s", path, (unsigned long long)size,
                            strerror(e));
    /* The checksum reads every byte once, front to back. */
    if (!(flags & PP_LOAD_SKIP_DATA_CHECKSUM)) (void)madvise(map, (size_t)size, MADV_SEQUENTIAL);
    pp_model *m;
    pp_code rc = build_model(map, size, flags, &m, err);
    if (rc) {
        munmap(map, (size_t)size);
        if (err) pp_error_prefix(err, "%s", path);
        return rc;
    }
    /* Weights are read at random later; undo the sequential hint. */
    if (!(flags & PP_LOAD_SKIP_DATA_CHECKSUM)) (void)madvise(map, (size_t)size, MADV_NORMAL);
    loaded *l = m->priv;
    l->map = map;
    l->map_size = (size_t)size;
    *out = m;
    return PP_OK;
}

void pp_model_free(pp_model *m) {
    if (!m || !m->priv) return;
    loaded *l = m->priv;
    if (l->map) munmap(l->map, l->map_size);
    pp_free(l->copy);
    pp_free(l->sym_store);
    /* m is the start of the one block that also holds *l and the arrays. */
    pp_free(m);
}

const char *pp_model_meta_get(const pp_model *m, const char *key) {
    if (!m || !key) return NULL;
    for (uint32_t k = 0; k < m->n_meta; k++)
        if (m->meta[k].key && strcmp(m->meta[k].key, key) == 0) return m->meta[k].value;
    return NULL;
}
