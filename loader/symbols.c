/* symbols.c: format 2's symbolic sections, read and checked (read.c calls these
 * once the section table, checksums and record sizes are known to be sound) and
 * the rules the writer checks a model against (docs/format.md, "Symbols"). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "loader_internal.h"
#include "model.h"

#define NAME(buf, s) pp_msg_name(buf, sizeof buf, s)

__attribute__((format(printf, 4, 5))) static pp_code bad(pp_error *err, const char *where, uint64_t off,
                                                         const char *fmt, ...) {
    char what[PP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return pp_error_set(err, PP_ERR_FORMAT, "%s at offset %" PRIu64 ": %s", where, off, what);
}

static int all_zero(const void *p, size_t n) {
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i]) return 0;
    return 1;
}

/* Operands an op reads: 1 (SYM), 2, or 3 (WHERE). */
static int arity(unsigned op) { return op == PP_SHAPE_SYM ? 1 : op == PP_SHAPE_WHERE ? 3 : 2; }

pp_code pp_check_symbol(const pp_model_symbol *s, uint32_t i, const pp_model_symbol *all, const char *where,
                        uint64_t off, pp_error *err) {
    char nb[80];
    if (!s->name || !*s->name) return bad(err, where, off, "symbol %u has no name", i);
    const char *nm = NAME(nb, s->name);
    if (s->flags & ~PP_SYMBOL_BATCH)
        return bad(err, where, off + 4, "symbol %u '%s': unknown flags 0x%x", i, nm, s->flags);
    int64_t lo = s->flags & PP_SYMBOL_BATCH ? 1 : 0;
    if (s->min < lo || s->max < s->min)
        return bad(err, where, off + 8, "symbol %u '%s': range %" PRId64 "..%" PRId64 " is empty or below %" PRId64, i,
                   nm, s->min, s->max, lo);
    for (uint32_t k = 0; k < i; k++) {
        if (strcmp(all[k].name, s->name) == 0)
            return bad(err, where, off, "symbol %u '%s' has the name of symbol %u", i, nm, k);
        if ((all[k].flags & s->flags & PP_SYMBOL_BATCH))
            return bad(err, where, off + 4, "symbol %u '%s' is a second batch (symbol %u is one)", i, nm, k);
    }
    return PP_OK;
}

pp_code pp_check_shape_inst(const pp_fmt_shape_inst *in, uint32_t i, uint32_t n_symbols, const char *where,
                            uint64_t off, pp_error *err) {
    if (in->op < PP_SHAPE_SYM || in->op > PP_SHAPE_OP_MAX)
        return bad(err, where, off, "instruction %u: unknown op %u", i, in->op);
    if (!all_zero(in->reserved, sizeof in->reserved))
        return bad(err, where, off + 2, "instruction %u: reserved bytes are not zero", i);
    int n = arity(in->op);
    const int64_t v[3] = {in->a, in->b, in->c};
    if (in->imm >> n)
        return bad(err, where, off + 1, "instruction %u: immediate bits 0x%x beyond its %d operands", i, in->imm, n);
    for (int k = 0; k < 3; k++) {
        if (k >= n) {
            if (v[k])
                return bad(err, where, off + 8 + 8 * (uint64_t)k, "instruction %u: unused operand %d is not 0", i, k);
            continue;
        }
        if ((in->imm >> k) & 1) continue;
        if (v[k] < 0 || (uint64_t)v[k] >= i)
            return bad(err, where, off + 8 + 8 * (uint64_t)k,
                       "instruction %u: operand %d reads value %" PRId64 ", not an earlier instruction", i, k, v[k]);
    }
    if (in->op == PP_SHAPE_SYM && (!(in->imm & 1) || in->a < 0 || (uint64_t)in->a >= n_symbols))
        return bad(err, where, off + 8, "instruction %u: SYM of symbol %" PRId64 " (%s; there are %u)", i, in->a,
                   in->imm & 1 ? "an immediate" : "not an immediate", n_symbols);
    return PP_OK;
}

int pp_slot_dims(const int64_t *dims, int rank, uint32_t n_prog, int slots, int64_t *fixed) {
    for (int k = 0; k < rank; k++) {
        fixed[k] = dims[k];
        if (!slots || dims[k] > PP_DIM_SLOT_BASE) continue;
        if ((uint64_t)(PP_DIM_SLOT_BASE - dims[k]) >= n_prog) return k;
        fixed[k] = 1;
    }
    return -1;
}

static pp_code read_symbols(const unsigned char *base, uint64_t off, uint32_t n, uint64_t str_off, uint64_t str_size,
                            pp_model_symbol *out, pp_error *err) {
    for (uint32_t i = 0; i < n; i++) {
        uint64_t at = off + (uint64_t)i * sizeof(pp_fmt_symbol);
        pp_fmt_symbol s;
        memcpy(&s, base + at, sizeof s);
        if (s.name >= str_size)
            return bad(err, "SYMBOLS", at, "symbol %u: name offset %u is outside STRINGS (%" PRIu64 " bytes)", i,
                       s.name, str_size);
        if (!all_zero(s.reserved, sizeof s.reserved))
            return bad(err, "SYMBOLS", at + 24, "symbol %u: reserved bytes are not zero", i);
        out[i] = (pp_model_symbol){(const char *)base + str_off + s.name, s.flags, s.min, s.max};
        pp_code rc = pp_check_symbol(&out[i], i, out, "SYMBOLS", at, err);
        if (rc) return rc;
    }
    return PP_OK;
}

static pp_code read_shape_prog(const unsigned char *base, uint64_t off, uint32_t n, uint32_t n_symbols, pp_error *err) {
    for (uint32_t i = 0; i < n; i++) {
        uint64_t at = off + (uint64_t)i * sizeof(pp_fmt_shape_inst);
        pp_fmt_shape_inst in;
        memcpy(&in, base + at, sizeof in);
        pp_code rc = pp_check_shape_inst(&in, i, n_symbols, "SHAPE_PROGRAM", at, err);
        if (rc) return rc;
    }
    return PP_OK;
}

static pp_code read_sym_attrs(const unsigned char *base, uint64_t off, uint64_t n, pp_model_attr *attrs,
                              uint32_t n_attrs, uint32_t n_prog, uint32_t *store, pp_error *err) {
    /* Each bound attribute gets `count` entries of store, in record order. */
    uint64_t used = 0;
    int64_t prev_attr = -1, prev_elem = -1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t at = off + i * sizeof(pp_fmt_sym_attr);
        pp_fmt_sym_attr r;
        memcpy(&r, base + at, sizeof r);
        if (r.reserved)
            return bad(err, "SYM_ATTRS", at + 12, "record %" PRIu64 ": reserved field is %u", i, r.reserved);
        if (r.attr >= n_attrs)
            return bad(err, "SYM_ATTRS", at, "record %" PRIu64 ": attribute %u, but there are %u", i, r.attr, n_attrs);
        if ((int64_t)r.attr < prev_attr || ((int64_t)r.attr == prev_attr && (int64_t)r.element <= prev_elem))
            return bad(err, "SYM_ATTRS", at,
                       "record %" PRIu64 ": attribute %u value %u comes after attribute %" PRId64 " value %" PRId64
                       " (records are sorted, each value once)",
                       i, r.attr, r.element, prev_attr, prev_elem);
        pp_model_attr *a = &attrs[r.attr];
        char ab[80];
        if (a->type == PP_ATTR_STRING)
            return bad(err, "SYM_ATTRS", at, "record %" PRIu64 ": attribute %u '%s' is a string", i, r.attr,
                       NAME(ab, a->name));
        uint32_t count = a->type == PP_ATTR_INTS || a->type == PP_ATTR_FLOATS ? a->count : 1;
        if (r.element >= count)
            return bad(err, "SYM_ATTRS", at + 4, "record %" PRIu64 ": value %u of attribute %u '%s', which has %u", i,
                       r.element, r.attr, NAME(ab, a->name), count);
        if (r.slot >= n_prog)
            return bad(err, "SYM_ATTRS", at + 8, "record %" PRIu64 ": shape value %u, but the program has %u", i,
                       r.slot, n_prog);
        int nonzero = a->type == PP_ATTR_INT     ? a->i != 0
                      : a->type == PP_ATTR_FLOAT ? a->f != 0
                      : a->type == PP_ATTR_INTS  ? a->ints[r.element] != 0
                                                 : a->floats[r.element] != 0;
        if (nonzero)
            return bad(err, "SYM_ATTRS", at,
                       "record %" PRIu64 ": value %u of attribute %u '%s' is bound but stored as nonzero", i, r.element,
                       r.attr, NAME(ab, a->name));
        if ((int64_t)r.attr != prev_attr) {
            a->sym = store + used;
            for (uint32_t k = 0; k < count; k++) store[used + k] = PP_FMT_NONE;
            used += count;
        }
        store[a->sym - store + r.element] = r.slot;
        prev_attr = r.attr;
        prev_elem = r.element;
    }
    return PP_OK;
}

static uint64_t sym_attrs_store(const unsigned char *base, uint64_t off, uint64_t n, const pp_model_attr *attrs,
                                uint32_t n_attrs) {
    uint64_t total = 0;
    int64_t prev = -1;
    for (uint64_t i = 0; i < n; i++) {
        pp_fmt_sym_attr r;
        memcpy(&r, base + off + i * sizeof r, sizeof r);
        if (r.attr >= n_attrs || (int64_t)r.attr == prev) continue;
        const pp_model_attr *a = &attrs[r.attr];
        total += a->type == PP_ATTR_INTS || a->type == PP_ATTR_FLOATS ? a->count : 1;
        prev = r.attr;
    }
    return total;
}

pp_code pp_read_symbolic(const unsigned char *base, const pp_symbolic_sections *v, pp_model_attr *attrs,
                         uint32_t n_attrs, pp_model_symbol *symbols, uint32_t **store, pp_error *err) {
    *store = NULL;
    pp_code rc = read_symbols(base, v->sym_off, v->n_symbols, v->str_off, v->str_size, symbols, err);
    if (!rc) rc = read_shape_prog(base, v->prog_off, v->n_prog, v->n_symbols, err);
    if (rc || !v->n_sym_attrs) return rc;
    uint64_t n = sym_attrs_store(base, v->attr_off, v->n_sym_attrs, attrs, n_attrs);
    size_t bytes;
    if (n > SIZE_MAX || pp_mul_size((size_t)n, sizeof(uint32_t), &bytes) || !(*store = pp_malloc(bytes ? bytes : 1)))
        return pp_error_set(err, PP_ERR_NOMEM, "cannot allocate %" PRIu64 " symbolic attribute values", n);
    return read_sym_attrs(base, v->attr_off, v->n_sym_attrs, attrs, n_attrs, v->n_prog, *store, err);
}
