/* npy.c: NumPy .npy files, read and written (loader/npy.h).
 *
 * The header is a Python dict literal; it is parsed by hand, every step bounded
 * by the header length the file declares (itself bounded by the file size), and
 * only the three keys NumPy writes are accepted. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checked.h"
#include "loader_internal.h"
#include "model.h"
#include "npy.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

static const struct {
    const char *descr;
    pp_dtype dtype;
} descrs[] = {
    {"<f4", PP_DTYPE_F32},
    {"<f2", PP_DTYPE_F16},
    {"<i8", PP_DTYPE_I64},
    {"<i4", PP_DTYPE_I32},
    {"|b1", PP_DTYPE_BOOL},
    {"|u1", PP_DTYPE_U8},
    {"|i1", PP_DTYPE_I8},
    /* Other spellings of the one-byte types, accepted on read only. */
    {"<u1", PP_DTYPE_U8},
    {"<i1", PP_DTYPE_I8},
    {"<b1", PP_DTYPE_BOOL},
};
#define N_WRITABLE 7 /* the first entries are the canonical ones the writer uses */

static const char supported_list[] = "f32, f16, i64, i32, bool, u8, i8 are";

/* The header being parsed: file bytes [start, end), positions reported as file offsets. */
typedef struct hparse {
    const unsigned char *base;
    size_t pos, end;
    const char *what;
    pp_error *err;
} hparse;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static pp_code
hbad(hparse *h, const char *fmt, ...) {
    char msg[PP_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return pp_error_set(h->err, PP_ERR_FORMAT, "%s: header at byte %zu: %s", h->what, h->pos, msg);
}

static void skip_ws(hparse *h) {
    while (h->pos < h->end) {
        unsigned char c = h->base[h->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
        h->pos++;
    }
}

static int peek(const hparse *h) { return h->pos < h->end ? h->base[h->pos] : -1; }

static pp_code expect(hparse *h, char c, const char *context) {
    skip_ws(h);
    if (peek(h) != (unsigned char)c) {
        int got = peek(h);
        if (got < 0) return hbad(h, "header ends where '%c' %s was expected", c, context);
        return hbad(h, "expected '%c' %s, found '%c'", c, context, got >= 0x20 && got < 0x7F ? got : '?');
    }
    h->pos++;
    return PP_OK;
}

/* A quoted string without escapes (NumPy writes none in these headers). */
static pp_code parse_str(hparse *h, char *out, size_t outsz, const char *context) {
    skip_ws(h);
    int q = peek(h);
    if (q != '\'' && q != '"') return hbad(h, "expected a quoted string %s", context);
    h->pos++;
    size_t n = 0;
    for (;;) {
        int c = peek(h);
        if (c < 0) return hbad(h, "unterminated string %s", context);
        h->pos++;
        if (c == q) break;
        if (c == '\\') return hbad(h, "escape sequences are not supported in %s", context);
        if (n + 1 >= outsz) return hbad(h, "string %s is longer than %zu bytes", context, outsz - 1);
        out[n++] = (char)c;
    }
    out[n] = 0;
    return PP_OK;
}

static int match_word(hparse *h, const char *w) {
    size_t n = strlen(w);
    if (h->end - h->pos < n || memcmp(h->base + h->pos, w, n) != 0) return 0;
    h->pos += n;
    return 1;
}

static pp_code parse_shape(hparse *h, int *rank, int64_t *dims) {
    pp_code rc = expect(h, '(', "to open 'shape'");
    if (rc) return rc;
    *rank = 0;
    for (;;) {
        skip_ws(h);
        if (peek(h) == ')') {
            h->pos++;
            return PP_OK;
        }
        int c = peek(h);
        if (c < '0' || c > '9') {
            if (c == '-') return hbad(h, "shape has a negative dimension");
            return hbad(h, "expected a dimension or ')' in 'shape'");
        }
        if (*rank == PP_MAX_RANK) return hbad(h, "shape has more than %d dimensions", PP_MAX_RANK);
        int64_t v = 0;
        while ((c = peek(h)) >= '0' && c <= '9') {
            if (pp_mul_i64(v, 10, &v) || pp_add_i64(v, c - '0', &v))
                return hbad(h, "dimension %d overflows a 64-bit integer", *rank);
            h->pos++;
        }
        if (peek(h) == 'L') h->pos++; /* Python 2 long literal */
        dims[(*rank)++] = v;
        skip_ws(h);
        if (peek(h) == ',') {
            h->pos++;
            continue;
        }
        if (peek(h) != ')') return hbad(h, "expected ',' or ')' in 'shape'");
    }
}

typedef struct npy_header {
    char descr[32];
    int fortran;
    int rank;
    int64_t dims[PP_MAX_RANK];
} npy_header;

static pp_code parse_dict(hparse *h, npy_header *out) {
    int seen_descr = 0, seen_fortran = 0, seen_shape = 0;
    pp_code rc = expect(h, '{', "to open the header dict");
    if (rc) return rc;
    for (;;) {
        skip_ws(h);
        if (peek(h) == '}') {
            h->pos++;
            break;
        }
        char key[32];
        size_t key_at = h->pos;
        if ((rc = parse_str(h, key, sizeof key, "as a dict key")) || (rc = expect(h, ':', "after a dict key")))
            return rc;
        skip_ws(h);
        if (strcmp(key, "descr") == 0) {
            if (seen_descr++) return hbad(h, "'descr' appears twice");
            if (peek(h) == '[' || peek(h) == '(')
                return hbad(h, "'descr' is a structured dtype, which is not supported");
            if ((rc = parse_str(h, out->descr, sizeof out->descr, "for 'descr'"))) return rc;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (seen_fortran++) return hbad(h, "'fortran_order' appears twice");
            if (match_word(h, "True")) out->fortran = 1;
            else if (match_word(h, "False")) out->fortran = 0;
            else return hbad(h, "'fortran_order' must be True or False");
        } else if (strcmp(key, "shape") == 0) {
            if (seen_shape++) return hbad(h, "'shape' appears twice");
            if ((rc = parse_shape(h, &out->rank, out->dims))) return rc;
        } else {
            h->pos = key_at;
            char shown[80];
            return hbad(h, "unexpected key '%s' (only 'descr', 'fortran_order' and 'shape' are known)",
                        pp_msg_name(shown, sizeof shown, key));
        }
        skip_ws(h);
        if (peek(h) == ',') {
            h->pos++;
            continue;
        }
        if (peek(h) == '}') continue;
        return hbad(h, "expected ',' or '}' after the value of '%s'", key);
    }
    if (!seen_descr || !seen_fortran || !seen_shape)
        return hbad(h, "the header dict lacks '%s'", !seen_descr ? "descr" : !seen_fortran ? "fortran_order" : "shape");
    for (; h->pos < h->end; h->pos++) {
        unsigned char c = h->base[h->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != 0)
            return hbad(h, "unexpected bytes after the header dict");
    }
    return PP_OK;
}

/* Parses the header at the start of a .npy of file_size bytes, of which the
 * first avail are at p (enough for the whole header), into out (no data) and
 * the data's offset; checks the data size the shape implies against the file. */
static pp_code parse_header(const unsigned char *p, size_t avail, uint64_t file_size, const char *what, pp_npy *out,
                            size_t *data_at_out, pp_error *err) {
    if (file_size < 10 || avail < 10 || memcmp(p, npy_magic, sizeof npy_magic) != 0) {
        if (avail < sizeof npy_magic || memcmp(p, npy_magic, sizeof npy_magic) != 0)
            return pp_error_set(err, PP_ERR_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic at byte 0)", what);
        return pp_error_set(err, PP_ERR_FORMAT, "%s: the file is %llu bytes, too short for a .npy header", what,
                            (unsigned long long)file_size);
    }
    unsigned major = p[6], minor = p[7];
    size_t hlen, start;
    if (major == 1 && minor == 0) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        start = 10;
    } else if ((major == 2 || major == 3) && minor == 0) {
        if (avail < 12)
            return pp_error_set(err, PP_ERR_FORMAT, "%s: the file is %llu bytes, too short for a version %u.0 header",
                                what, (unsigned long long)file_size, major);
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        start = 12;
    } else {
        return pp_error_set(err, PP_ERR_UNSUPPORTED,
                            "%s: .npy version %u.%u at byte 6 is not supported (1.0, 2.0, 3.0 are)", what, major,
                            minor);
    }
    if (hlen > file_size - start || hlen > avail - start)
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: header length %zu at byte 8 runs past the end of the file (%llu bytes)", what, hlen,
                            (unsigned long long)file_size);
    npy_header nh;
    memset(&nh, 0, sizeof nh);
    hparse h = {p, start, start + hlen, what, err};
    pp_code rc = parse_dict(&h, &nh);
    if (rc) return rc;

    char shown[80];
    pp_msg_name(shown, sizeof shown, nh.descr);
    pp_dtype dt = PP_DTYPE_INVALID;
    for (size_t i = 0; i < sizeof descrs / sizeof *descrs; i++)
        if (strcmp(nh.descr, descrs[i].descr) == 0) dt = descrs[i].dtype;
    if (dt == PP_DTYPE_INVALID) {
        if (nh.descr[0] == '>')
            return pp_error_set(err, PP_ERR_UNSUPPORTED,
                                "%s: dtype '%s' is big-endian, which is not supported (only little-endian %s)", what,
                                shown, supported_list);
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: dtype '%s' is not supported (%s)", what, shown,
                            supported_list);
    }
    if (nh.fortran)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: fortran_order is True; only C order is supported", what);

    uint64_t need;
    if (pp_dims_bytes(dt, nh.rank, nh.dims, &need))
        return pp_error_set(err, PP_ERR_FORMAT, "%s: shape dims overflow (numel × %zu bytes exceeds 2^64)", what,
                            pp_dtype_size(dt));
    size_t data_at = start + hlen;
    uint64_t have = file_size - data_at;
    if (need != have) {
        char sh[PP_MAX_RANK * 21 + 4];
        size_t k = 0;
        sh[k++] = '(';
        for (int d = 0; d < nh.rank; d++)
            k += (size_t)snprintf(sh + k, sizeof sh - k, "%s%lld", d ? ", " : "", (long long)nh.dims[d]);
        snprintf(sh + k, sizeof sh - k, "%s)", nh.rank == 1 ? "," : "");
        return pp_error_set(err, PP_ERR_FORMAT,
                            "%s: the data after byte %zu is %llu bytes but shape %s of %s needs %llu", what, data_at,
                            (unsigned long long)have, sh, pp_dtype_name(dt), (unsigned long long)need);
    }
    out->dtype = dt;
    out->rank = nh.rank;
    memcpy(out->dims, nh.dims, sizeof nh.dims);
    out->data = NULL;
    out->nbytes = (size_t)have;
    *data_at_out = data_at;
    return PP_OK;
}

/* p: n bool bytes, element `first` of the array, at byte `at` of the file. */
static pp_code check_bools(const unsigned char *p, size_t n, uint64_t first, uint64_t at, const char *what,
                           pp_error *err) {
    for (size_t e = 0; e < n; e++)
        if (p[e] > 1)
            return pp_error_set(err, PP_ERR_FORMAT, "%s: bool element %llu (byte %llu) is %u, not 0 or 1", what,
                                (unsigned long long)(first + e), (unsigned long long)(at + e), p[e]);
    return PP_OK;
}

pp_code pp_npy_read_memory(const void *buf, size_t size, const char *what, pp_npy *out, pp_error *err) {
    if (!out) return pp_error_set(err, PP_ERR_INVALID_ARG, "pp_npy_read_memory: NULL output");
    memset(out, 0, sizeof *out);
    if (!what) what = "npy";
    if (!buf && size) return pp_error_set(err, PP_ERR_INVALID_ARG, "%s: NULL buffer", what);
    const unsigned char *p = buf;
    pp_npy h;
    size_t data_at;
    pp_code rc = parse_header(p, size, size, what, &h, &data_at, err);
    if (rc) return rc;
    size_t have = h.nbytes;
    if (h.dtype == PP_DTYPE_BOOL && (rc = check_bools(p + data_at, have, 0, data_at, what, err))) return rc;
    void *data = pp_malloc(have);
    if (!data) return pp_error_set(err, PP_ERR_NOMEM, "%s: cannot allocate %zu bytes for the array", what, have);
    if (have) memcpy(data, p + data_at, have);
    *out = h;
    out->data = data;
    return PP_OK;
}

static pp_code pread_full(int fd, void *dst, size_t n, uint64_t at, const char *path, pp_error *err) {
    unsigned char *p = dst;
    for (size_t done = 0; done < n;) {
        ssize_t r = pread(fd, p + done, n - done, (off_t)(at + done));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0)
            return pp_error_set(err, PP_ERR_IO, "%s: read at byte %llu failed: %s", path,
                                (unsigned long long)(at + done), strerror(errno));
        if (r == 0)
            return pp_error_set(err, PP_ERR_IO, "%s: the file ends at byte %llu, %zu bytes short", path,
                                (unsigned long long)(at + done), n - done);
        done += (size_t)r;
    }
    return PP_OK;
}

pp_code pp_npy_read_header(const char *path, pp_npy *out, uint64_t *data_offset, pp_error *err) {
    memset(out, 0, sizeof *out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pp_error_set(err, PP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    unsigned char *buf = NULL;
    pp_code rc;
    if (fstat(fd, &st) != 0) {
        rc = pp_error_set(err, PP_ERR_IO, "%s: fstat failed: %s", path, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        rc = pp_error_set(err, PP_ERR_IO, "%s: not a regular file", path);
    } else {
        /* The preamble first, then exactly the header it declares. */
        uint64_t size = (uint64_t)st.st_size;
        unsigned char pre[12];
        size_t n = size < sizeof pre ? (size_t)size : sizeof pre, want = n;
        rc = pread_full(fd, pre, n, 0, path, err);
        if (!rc && n >= 10 && pre[6] == 1) want = 10 + ((size_t)pre[8] | (size_t)pre[9] << 8);
        else if (!rc && n == 12 && (pre[6] == 2 || pre[6] == 3))
            want = 12 + ((size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24);
        if (want > size) want = (size_t)size; /* parse_header names the shortfall */
        if (!rc && !(buf = pp_malloc(want ? want : 1)))
            rc = pp_error_set(err, PP_ERR_NOMEM, "%s: cannot allocate %zu bytes for the header", path, want);
        size_t data_at = 0;
        if (!rc) rc = pread_full(fd, buf, want, 0, path, err);
        if (!rc) rc = parse_header(buf, want, size, path, out, &data_at, err);
        if (!rc) *data_offset = data_at;
    }
    pp_free(buf);
    close(fd);
    return rc;
}

pp_code pp_npy_read_rows(const char *path, const pp_npy *header, uint64_t data_offset, int64_t first, int64_t count,
                         void *dst, pp_error *err) {
    if (header->rank < 1 || first < 0 || count < 0 || first > header->dims[0] || count > header->dims[0] - first)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "%s: rows %lld..%lld are outside axis 0 of %lld rows", path,
                            (long long)first, (long long)(first + count),
                            (long long)(header->rank ? header->dims[0] : 0));
    uint64_t row = header->dims[0] ? header->nbytes / (uint64_t)header->dims[0] : 0;
    size_t n = (size_t)(row * (uint64_t)count);
    uint64_t at = data_offset + row * (uint64_t)first;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pp_error_set(err, PP_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    pp_code rc = pread_full(fd, dst, n, at, path, err);
    close(fd);
    if (!rc && header->dtype == PP_DTYPE_BOOL) rc = check_bools(dst, n, row * (uint64_t)first, at, path, err);
    return rc;
}

pp_code pp_npy_read(const char *path, pp_npy *out, pp_error *err) {
    if (!out) return pp_error_set(err, PP_ERR_INVALID_ARG, "pp_npy_read: NULL output");
    memset(out, 0, sizeof *out);
    if (!path) return pp_error_set(err, PP_ERR_INVALID_ARG, "pp_npy_read: NULL path");
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
    if ((uint64_t)st.st_size > SIZE_MAX) {
        close(fd);
        return pp_error_nomem(err, "%s: too large for the address space", path);
    }
    size_t size = (size_t)st.st_size;
    if (size == 0) { /* mmap refuses empty files */
        close(fd);
        return pp_npy_read_memory("", 0, path, out, err);
    }
    void *map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED)
        return pp_error_set(err, PP_ERR_IO, "%s: mmap of %zu bytes failed: %s", path, size, strerror(e));
    pp_code rc = pp_npy_read_memory(map, size, path, out, err);
    munmap(map, size);
    return rc;
}

void pp_npy_free(pp_npy *a) {
    if (!a) return;
    pp_free(a->data);
    memset(a, 0, sizeof *a);
}

size_t pp_npy_header(pp_dtype dtype, int rank, const int64_t *dims, char *head) {
    const char *descr = NULL;
    for (size_t i = 0; i < N_WRITABLE; i++)
        if (descrs[i].dtype == dtype) descr = descrs[i].descr;
    if (!descr || rank < 0 || rank > PP_MAX_RANK) return 0;
    /* NumPy's own layout: the dict, spaces, '\n', the whole preamble a multiple of 64. */
    int n = snprintf(head + 10, PP_NPY_HEADER_MAX - 10, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int d = 0; d < rank; d++)
        n += snprintf(head + 10 + n, PP_NPY_HEADER_MAX - 10 - (size_t)n, "%s%lld", d ? ", " : "", (long long)dims[d]);
    n += snprintf(head + 10 + n, PP_NPY_HEADER_MAX - 10 - (size_t)n, "%s), }", rank == 1 ? "," : "");
    size_t total = pp_fmt_align(10 + (size_t)n + 1); /* + the '\n' */
    memset(head + 10 + n, ' ', total - 10 - (size_t)n - 1);
    head[total - 1] = '\n';
    memcpy(head, npy_magic, sizeof npy_magic);
    head[6] = 1;
    head[7] = 0;
    head[8] = (char)((total - 10) & 0xFF);
    head[9] = (char)((total - 10) >> 8);
    return total;
}

pp_code pp_npy_write(const char *path, pp_dtype dtype, int rank, const int64_t *dims, const void *data, pp_error *err) {
    const char *descr = NULL;
    for (size_t i = 0; i < N_WRITABLE; i++)
        if (descrs[i].dtype == dtype) descr = descrs[i].descr;
    if (!descr)
        return pp_error_set(err, PP_ERR_UNSUPPORTED, "%s: dtype %s cannot be written to .npy (%s)", path ? path : "npy",
                            pp_dtype_name(dtype), supported_list);
    if (rank < 0 || rank > PP_MAX_RANK || (rank && !dims))
        return pp_error_set(err, PP_ERR_INVALID_ARG, "%s: rank %d is outside 0..%d", path ? path : "npy", rank,
                            PP_MAX_RANK);
    for (int d = 0; d < rank; d++)
        if (dims[d] < 0)
            return pp_error_set(err, PP_ERR_INVALID_ARG, "%s: dims[%d] = %lld is negative", path ? path : "npy", d,
                                (long long)dims[d]);
    uint64_t nbytes;
    if (pp_dims_bytes(dtype, rank, dims, &nbytes) || nbytes > SIZE_MAX)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "%s: dims overflow", path ? path : "npy");
    if (nbytes && !data)
        return pp_error_set(err, PP_ERR_INVALID_ARG, "%s: %llu bytes to write but no data", path ? path : "npy",
                            (unsigned long long)nbytes);

    char head[PP_NPY_HEADER_MAX];
    size_t total = pp_npy_header(dtype, rank, dims, head);
    pp_afile af;
    pp_code rc = pp_afile_open(&af, path, err);
    if (rc) return rc;
    if ((rc = pp_afile_write(&af, head, total, err)) || (rc = pp_afile_write(&af, data, (size_t)nbytes, err))) {
        pp_afile_abort(&af);
        return rc;
    }
    return pp_afile_commit(&af, err);
}
