/* cases_eltwise.c: gpu_ops' element-wise cases: unary, binary with broadcasting, casts. */
#include <stdio.h>

#include "harness.h"

/* Unary ops, each on the inputs its domain needs; clip; the integer and bool unaries. */
static void unary_cases(void) {
    static const struct {
        pp_op op;
        const char *name;
        gen_kind g;
    } un[] = {
        {PP_OP_RELU, "relu", G_NORMAL},
        {PP_OP_SIGMOID, "sigmoid", G_NORMAL},
        {PP_OP_TANH, "tanh", G_NORMAL},
        {PP_OP_GELU, "gelu", G_NORMAL},
        {PP_OP_GELU_TANH, "gelu_tanh", G_NORMAL},
        {PP_OP_SILU, "silu", G_NORMAL},
        {PP_OP_HARDSWISH, "hardswish", G_NORMAL},
        {PP_OP_HARDSIGMOID, "hardsigmoid", G_NORMAL},
        {PP_OP_SQRT, "sqrt", G_POS},
        {PP_OP_ERF, "erf", G_NORMAL},
        {PP_OP_EXP, "exp", G_NORMAL},
        {PP_OP_LOG, "log", G_POS},
        {PP_OP_NEG, "neg", G_NORMAL},
        {PP_OP_ABS, "abs", G_NORMAL},
        {PP_OP_RECIPROCAL, "reciprocal", G_POS},
        {PP_OP_ELU, "elu", G_NORMAL},
        {PP_OP_SOFTPLUS, "softplus", G_NORMAL},
        {PP_OP_FLOOR, "floor", G_NORMAL},
        {PP_OP_CEIL, "ceil", G_NORMAL},
        {PP_OP_SIN, "sin", G_NORMAL},
        {PP_OP_COS, "cos", G_NORMAL},
        {PP_OP_TAN, "tan", G_NORMAL},
        {PP_OP_SIGN, "sign", G_NORMAL},
        {PP_OP_ROUND, "round", G_NORMAL},
        {PP_OP_MISH, "mish", G_NORMAL},
        {PP_OP_SELU, "selu", G_NORMAL},
        {PP_OP_LEAKY_RELU, "leaky_relu", G_NORMAL},
    };
    char name[64];
    for (size_t i = 0; i < sizeof un / sizeof un[0]; i++) {
        snprintf(name, sizeof name, "%s (7,3,5)", un[i].name);
        CASE(.name = name, .op = un[i].op, .n_in = 1, .n_out = 1,
             .in = {with_gen(F32(3, I64(7), I64(3), I64(5)), un[i].g, 0)}, .atol = 2e-6f, .rtol = 2e-6f);
    }
    CASE(.name = "clip [-0.5, 1] (1)", .op = PP_OP_CLIP, .n_in = 1, .n_out = 1, .in = {F32(1, I64(1))}, .n_attr = 2,
         .attr = {A_FLOAT("min", -0.5), A_FLOAT("max", 1.0)});
    CASE(.name = "clip (33,17)", .op = PP_OP_CLIP, .n_in = 1, .n_out = 1, .in = {F32(2, I64(33), I64(17))}, .n_attr = 2,
         .attr = {A_FLOAT("min", 0.0), A_FLOAT("max", 6.0)});
    CASE(.name = "neg i64 (9)", .op = PP_OP_NEG, .n_in = 1, .n_out = 1, .in = {T(PP_DTYPE_I64, 1, I64(9))});
    CASE(.name = "abs i32 (9)", .op = PP_OP_ABS, .n_in = 1, .n_out = 1, .in = {T(PP_DTYPE_I32, 1, I64(9))});
    CASE(.name = "not bool (2,5)", .op = PP_OP_NOT, .n_in = 1, .n_out = 1, .in = {T(PP_DTYPE_BOOL, 2, I64(2), I64(5))});
}

/* Binary ops with broadcasting, in f32 and i64; the odd shapes, integer corner cases,
 * bool logic, PRelu and Where. */
static void binary_cases(void) {
    static const struct {
        pp_op op;
        const char *name;
    } bin[] = {
        {PP_OP_ADD, "add"},
        {PP_OP_SUB, "sub"},
        {PP_OP_MUL, "mul"},
        {PP_OP_DIV, "div"},
        {PP_OP_MAX, "max"},
        {PP_OP_MIN, "min"},
        {PP_OP_EQUAL, "equal"},
        {PP_OP_LESS, "less"},
        {PP_OP_GREATER, "greater"},
        {PP_OP_LESS_EQUAL, "less_equal"},
        {PP_OP_GREATER_EQUAL, "greater_equal"},
    };
    char name[64];
    for (size_t i = 0; i < sizeof bin / sizeof bin[0]; i++) {
        snprintf(name, sizeof name, "%s (7,3,4,5)+(1,3,1,1)", bin[i].name);
        CASE(.name = name, .op = bin[i].op, .n_in = 2, .n_out = 1,
             .in = {F32(4, I64(7), I64(3), I64(4), I64(5)), F32(4, I64(1), I64(3), I64(1), I64(1))});
        snprintf(name, sizeof name, "%s i64 (5,1)+(1,6)", bin[i].name);
        CASE(.name = name, .op = bin[i].op, .n_in = 2, .n_out = 1,
             .in = {T(PP_DTYPE_I64, 2, I64(5), I64(1)), T(PP_DTYPE_I64, 2, I64(1), I64(6))});
    }
    CASE(.name = "add same shape (1000003)", .op = PP_OP_ADD, .n_in = 2, .n_out = 1,
         .in = {F32(1, I64(1000003)), F32(1, I64(1000003))});
    CASE(.name = "mul scalar (1)*(2,3,7)", .op = PP_OP_MUL, .n_in = 2, .n_out = 1,
         .in = {F32(1, I64(1)), F32(3, I64(2), I64(3), I64(7))});
    CASE(.name = "add (1,1)+(1,1)", .op = PP_OP_ADD, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(1), I64(1)), F32(2, I64(1), I64(1))});
    CASE(.name = "pow (3,4)^(4)", .op = PP_OP_POW, .n_in = 2, .n_out = 1,
         .in = {with_gen(F32(2, I64(3), I64(4)), G_POS, 0), F32(1, I64(4))}, .atol = 1e-5f, .rtol = 1e-5f);
    CASE(.name = "mod fmod=0 (6,5)", .op = PP_OP_MOD, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(6), I64(5)), with_gen(F32(2, I64(6), I64(5)), G_POS, 0)});
    CASE(.name = "mod i32 (6,5)", .op = PP_OP_MOD, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I32, 2, I64(6), I64(5)), T(PP_DTYPE_I32, 2, I64(6), I64(5))});
    CASE(.name = "div i32 by zero and -1 (40)", .op = PP_OP_DIV, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I32, 1, I64(40)), T(PP_DTYPE_I32, 1, I64(40))});
    CASE(.name = "pow i64 (13)", .op = PP_OP_POW, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 1, I64(13)), T(PP_DTYPE_I64, 1, I64(13))});
    CASE(.name = "and bool (4,1)&(1,3)", .op = PP_OP_AND, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 2, I64(4), I64(1)), T(PP_DTYPE_BOOL, 2, I64(1), I64(3))});
    CASE(.name = "or bool (5)", .op = PP_OP_OR, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 1, I64(5)), T(PP_DTYPE_BOOL, 1, I64(5))});
    CASE(.name = "xor bool (5)", .op = PP_OP_XOR, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 1, I64(5)), T(PP_DTYPE_BOOL, 1, I64(5))});
    CASE(.name = "prelu (7,3,4,4) slope (3,1,1)", .op = PP_OP_PRELU, .n_in = 2, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(4), I64(4)), F32(3, I64(3), I64(1), I64(1))});
    CASE(.name = "where (2,1,5) ? (3,1) : (1)", .op = PP_OP_WHERE, .n_in = 3, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 3, I64(2), I64(1), I64(5)), F32(2, I64(3), I64(1)), F32(1, I64(1))});
    CASE(.name = "where i64 (4,4)", .op = PP_OP_WHERE, .n_in = 3, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 2, I64(4), I64(4)), T(PP_DTYPE_I64, 2, I64(4), I64(4)),
                T(PP_DTYPE_I64, 2, I64(4), I64(4))});
}

/* Every cast between two different dtypes. */
static void cast_cases(void) {
    static const pp_dtype types[] = {PP_DTYPE_F32,  PP_DTYPE_F16, PP_DTYPE_BF16, PP_DTYPE_I64, PP_DTYPE_I32,
                                     PP_DTYPE_BOOL, PP_DTYPE_U8,  PP_DTYPE_I8,   PP_DTYPE_F64};
    char name[64];
    for (size_t a = 0; a < sizeof types / sizeof types[0]; a++)
        for (size_t b = 0; b < sizeof types / sizeof types[0]; b++) {
            if (a == b) continue;
            snprintf(name, sizeof name, "cast %d->%d (3,7)", (int)types[a], (int)types[b]);
            CASE(.name = name, .op = PP_OP_CAST, .n_in = 1, .n_out = 1, .in = {T(types[a], 2, I64(3), I64(7))},
                 .n_attr = 1, .attr = {A_INT("to", types[b])});
        }
}

void eltwise_cases(void) {
    unary_cases();
    binary_cases();
    cast_cases();
}
