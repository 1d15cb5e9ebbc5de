/* ppformat.h: the graph.bin file format, byte by byte.
 *
 * Everything is little-endian. A file is:
 *
 *   [header, 64 bytes][section table, 32 bytes × section_count][zero pad to 64]
 *   [section 0][zero pad to 64][section 1][zero pad to 64] ... [section k][zero pad to 64]
 *
 * Sections appear in the table in file order and tile the file exactly: section i
 * starts at pp_fmt_align(end of section i-1) and the file ends at pp_fmt_align(end of
 * the last one). Checksums (pp_fmt_checksum, docs/format.md) cover every byte:
 *   - header.header_checksum covers bytes [0, first section offset) with the
 *     checksum field itself read as zero (header, table and the pad after it);
 *   - each section's checksum covers [offset, pp_fmt_align(offset + size)), i.e.
 *     the section and the zero padding after it.
 * So a flipped bit anywhere, padding included, is caught.
 *
 * Cross references inside sections are u32 indices or byte offsets, never
 * pointers; a reader validates each one before use (loader/). Beyond the layout
 * the writer keeps, and the reader enforces, a few canonical rules that keep
 * validation linear on hostile files (INDICES and ATTRS filled in node order with
 * nothing shared or unused, reserved fields zero, every INPUT a graph input, every
 * ACTIVATION produced exactly once): docs/format.md lists them all.
 *
 * Versioning: a reader refuses a file whose major version is newer than its own,
 * naming both; minor versions only add things an older reader may ignore (new
 * metadata keys, new section kinds it does not need).
 */
#ifndef PPFORMAT_H
#define PPFORMAT_H

#include <stdint.h>

#define PP_FMT_MAGIC "PPGRAPH" /* 8 bytes with the terminating NUL */
#define PP_FMT_VERSION_MAJOR 1
#define PP_FMT_VERSION_MINOR 0
#define PP_FMT_ALIGN 64u /* sections and tensor data start on this */
#define PP_MAX_RANK 8
#define PP_FMT_NONE 0xFFFFFFFFu /* an absent optional input, an absent string */

static inline uint64_t pp_fmt_align(uint64_t x) { return (x + PP_FMT_ALIGN - 1) & ~(uint64_t)(PP_FMT_ALIGN - 1); }

/* Element types. Values are stored in the file; never renumber. */
typedef enum pp_dtype {
    PP_DTYPE_INVALID = 0,
    PP_DTYPE_F32 = 1,
    PP_DTYPE_F16 = 2,
    PP_DTYPE_BF16 = 3,
    PP_DTYPE_I64 = 4,
    PP_DTYPE_I32 = 5,
    PP_DTYPE_BOOL = 6, /* one byte, 0 or 1 */
    PP_DTYPE_U8 = 7,
    PP_DTYPE_I8 = 8,
    PP_DTYPE_F64 = 9,
    PP_DTYPE_COUNT
} pp_dtype;

/* Operators. Values are stored in the file; append only. */
// clang-format off
#define PP_OP_LIST(X)                                                                                            \
    X(IDENTITY, 1) X(CONV, 2) X(GEMM, 3) X(MATMUL, 4) X(BATCHNORM, 5)                                            \
    X(RELU, 10) X(CLIP, 11) X(SIGMOID, 12) X(TANH, 13) X(GELU, 14) X(SILU, 15) X(HARDSWISH, 16)                  \
    X(HARDSIGMOID, 17) X(LEAKY_RELU, 18) X(SQRT, 19) X(ERF, 20) X(EXP, 21) X(LOG, 22) X(NEG, 23) X(ABS, 24)      \
    X(RECIPROCAL, 25) X(NOT, 26) X(CAST, 27) X(ELU, 28) X(SOFTPLUS, 29) X(FLOOR, 30) X(CEIL, 31)                 \
    X(SIN, 32) X(COS, 33) X(SIGN, 34) X(ROUND, 35) X(MISH, 36) X(SELU, 37) X(GELU_TANH, 38) X(TAN, 39)          \
    X(ADD, 50) X(SUB, 51) X(MUL, 52) X(DIV, 53) X(POW, 54) X(EQUAL, 55) X(LESS, 56) X(GREATER, 57)               \
    X(AND, 58) X(OR, 59) X(MAX, 60) X(MIN, 61) X(WHERE, 62) X(LESS_EQUAL, 63) X(GREATER_EQUAL, 64)              \
    X(XOR, 65) X(MOD, 66) X(PRELU, 67)                                                                           \
    X(MAXPOOL, 80) X(AVGPOOL, 81) X(GLOBAL_AVGPOOL, 82) X(GLOBAL_MAXPOOL, 83)                                    \
    X(SOFTMAX, 90) X(LOG_SOFTMAX, 91) X(LAYERNORM, 92) X(ATTENTION, 93)                                          \
    X(REDUCE_MEAN, 100) X(REDUCE_SUM, 101) X(REDUCE_MAX, 102) X(REDUCE_MIN, 103) X(REDUCE_PROD, 104)             \
    X(ARGMAX, 105) X(ARGMIN, 106)                                                                                \
    X(FLATTEN, 120) X(RESHAPE, 121) X(TRANSPOSE, 122) X(CONCAT, 123) X(SPLIT, 124) X(SLICE, 125)                 \
    X(GATHER, 126) X(SQUEEZE, 127) X(UNSQUEEZE, 128) X(EXPAND, 129) X(PAD, 130) X(RESIZE, 131)                   \
    X(TRILU, 132) X(SHAPE, 133) X(TILE, 134) X(CONSTANT_OF_SHAPE, 135) X(RANGE, 136) X(DEPTH_TO_SPACE, 137)      \
    X(SPACE_TO_DEPTH, 138) X(GATHER_ELEMENTS, 139) X(CUMSUM, 140)                                                \
    X(REFORMAT, 200) /* 200 and up: inserted by the engine's planner, never by a converter */

typedef enum pp_op {
    PP_OP_INVALID = 0,
#define PP_X_ENUM(name, val) PP_OP_##name = val,
    PP_OP_LIST(PP_X_ENUM)
#undef PP_X_ENUM
    PP_OP_MAX_VALUE = 255
} pp_op;
// clang-format on

/* Attribute value types. */
typedef enum pp_attr_type {
    PP_ATTR_INT = 1,    /* value.i */
    PP_ATTR_FLOAT = 2,  /* value.f (f64) */
    PP_ATTR_STRING = 3, /* value.str: offset into STRINGS */
    PP_ATTR_INTS = 4,   /* count i64 at value.pool: byte offset into VALUES, 8-aligned */
    PP_ATTR_FLOATS = 5, /* count f64 at value.pool */
} pp_attr_type;

/* What a tensor is to the graph. */
typedef enum pp_tensor_kind {
    PP_TENSOR_ACTIVATION = 0, /* produced by a node, lives in the activation arena */
    PP_TENSOR_INPUT = 1,      /* fed by the caller */
    PP_TENSOR_WEIGHT = 2,     /* constant, bytes in the DATA section */
} pp_tensor_kind;

typedef enum pp_fmt_section_kind {
    PP_SEC_STRINGS = 1,  /* NUL-terminated UTF-8 strings back to back; offset 0 is "" */
    PP_SEC_TENSORS = 2,  /* pp_fmt_tensor[] */
    PP_SEC_NODES = 3,    /* pp_fmt_node[], in topological order */
    PP_SEC_ATTRS = 4,    /* pp_fmt_attr[] */
    PP_SEC_INDICES = 5,  /* u32[]: node inputs/outputs; PP_FMT_NONE marks an absent optional input */
    PP_SEC_VALUES = 6,   /* i64 / f64 pool for list attributes */
    PP_SEC_GRAPH_IO = 7, /* pp_fmt_io header then u32 tensor ids: inputs, then outputs */
    PP_SEC_METADATA = 8, /* pp_fmt_meta[] */
    PP_SEC_DATA = 9,     /* tensor bytes, each at a PP_FMT_ALIGN multiple of the file */
} pp_fmt_section_kind;

/* Dimension encoding. d >= 0 is a fixed extent; d < 0 is (-d) × batch, so
 * (N, 3, 224, 224) is {-1, 3, 224, 224} and a (N*T, C) reshape is {-T, C}. */
#define PP_DIM_BATCH (-1)

typedef struct pp_fmt_header { /* 64 bytes at offset 0 */
    char magic[8];             /* "PPGRAPH\0" */
    uint16_t version_major;
    uint16_t version_minor;
    uint32_t header_size; /* 64 */
    uint64_t file_size;   /* must equal the real file size */
    uint32_t section_count;
    uint32_t flags;                /* 0 */
    uint64_t section_table_offset; /* 64 */
    uint64_t header_checksum;
    uint8_t reserved[16]; /* zero */
} pp_fmt_header;

typedef struct pp_fmt_section { /* 32 bytes */
    uint32_t kind;              /* pp_fmt_section_kind */
    uint32_t flags;             /* 0 */
    uint64_t offset;            /* multiple of PP_FMT_ALIGN */
    uint64_t size;              /* payload bytes, padding excluded */
    uint64_t checksum;          /* over [offset, align(offset + size)) */
} pp_fmt_section;

typedef struct pp_fmt_tensor { /* 96 bytes */
    uint32_t name;             /* STRINGS offset */
    uint8_t dtype;             /* pp_dtype */
    uint8_t rank;              /* 0..PP_MAX_RANK */
    uint8_t kind;              /* pp_tensor_kind */
    uint8_t flags;             /* 0 */
    int64_t dims[PP_MAX_RANK]; /* see PP_DIM_BATCH; unused entries 0 */
    uint64_t data_offset;      /* WEIGHT: offset from the DATA section start, PP_FMT_ALIGN multiple */
    uint64_t data_size;        /* WEIGHT: bytes = numel × dtype size; 0 otherwise */
    uint8_t reserved[8];
} pp_fmt_tensor;

typedef struct pp_fmt_node { /* 40 bytes */
    uint32_t op;             /* pp_op */
    uint32_t name;           /* STRINGS offset: the source node name */
    uint32_t inputs_begin;   /* index into INDICES */
    uint32_t n_inputs;
    uint32_t outputs_begin; /* index into INDICES */
    uint32_t n_outputs;
    uint32_t attrs_begin; /* index into ATTRS */
    uint32_t n_attrs;
    uint8_t reserved[8];
} pp_fmt_node;

typedef struct pp_fmt_attr { /* 24 bytes */
    uint32_t name;           /* STRINGS offset */
    uint32_t type;           /* pp_attr_type */
    uint32_t count;          /* INTS/FLOATS: element count; else 1 */
    uint32_t reserved;
    union {
        int64_t i;
        double f;
        uint64_t str;  /* STRINGS offset */
        uint64_t pool; /* VALUES byte offset */
    } value;
} pp_fmt_attr;

typedef struct pp_fmt_io { /* 8 bytes, followed by u32 ids */
    uint32_t n_inputs;
    uint32_t n_outputs;
} pp_fmt_io;

typedef struct pp_fmt_meta { /* 8 bytes */
    uint32_t key;            /* STRINGS offsets */
    uint32_t value;
} pp_fmt_meta;

#ifdef __cplusplus
#define PP_FMT_STATIC_ASSERT static_assert
#else
#define PP_FMT_STATIC_ASSERT _Static_assert
#endif
PP_FMT_STATIC_ASSERT(sizeof(pp_fmt_header) == 64, "header is 64 bytes");
PP_FMT_STATIC_ASSERT(sizeof(pp_fmt_section) == 32, "section entry is 32 bytes");
PP_FMT_STATIC_ASSERT(sizeof(pp_fmt_tensor) == 96, "tensor record is 96 bytes");
PP_FMT_STATIC_ASSERT(sizeof(pp_fmt_node) == 40, "node record is 40 bytes");
PP_FMT_STATIC_ASSERT(sizeof(pp_fmt_attr) == 24, "attribute record is 24 bytes");

#endif /* PPFORMAT_H */
