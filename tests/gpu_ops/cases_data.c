/* cases_data.c: gpu_ops' data-movement cases (reshape, transpose, concat, gather,
 * pad, resize, ...) and the cases replayed from a CUDA graph. */
#include "harness.h"

void data_cases(void) {
    CASE(.name = "reshape (2,3,4)->(6,4)", .op = PP_OP_RESHAPE, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(2), I64(3), I64(4))}, .n_attr = 1, .attr = {A_INTS("shape", 2, I64(6), I64(4))});
    CASE(.name = "flatten (7,3,2,2)", .op = PP_OP_FLATTEN, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(2), I64(2))}, .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "transpose 0,2,3,1 (7,3,5,4)", .op = PP_OP_TRANSPOSE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(5), I64(4))}, .n_attr = 1,
         .attr = {A_INTS("perm", 4, I64(0), I64(2), I64(3), I64(1))});
    CASE(.name = "transpose 2d i64 (33,17)", .op = PP_OP_TRANSPOSE, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 2, I64(33), I64(17))}, .n_attr = 1, .attr = {A_INTS("perm", 2, I64(1), I64(0))});
    CASE(.name = "transpose bool 0,2,1,3", .op = PP_OP_TRANSPOSE, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_BOOL, 4, I64(2), I64(3), I64(4), I64(5))}, .n_attr = 1,
         .attr = {A_INTS("perm", 4, I64(0), I64(2), I64(1), I64(3))});
    CASE(.name = "concat axis1 3 inputs", .op = PP_OP_CONCAT, .n_in = 3, .n_out = 1,
         .in = {F32(4, I64(7), I64(3), I64(2), I64(2)), F32(4, I64(7), I64(1), I64(2), I64(2)),
                F32(4, I64(7), I64(5), I64(2), I64(2))},
         .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "concat axis0 i64", .op = PP_OP_CONCAT, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 1, I64(3)), T(PP_DTYPE_I64, 1, I64(1))}, .n_attr = 1, .attr = {A_INT("axis", 0)});
    CASE(.name = "split axis2 (2,3,7) into 3,4", .op = PP_OP_SPLIT, .n_in = 1, .n_out = 2,
         .in = {F32(3, I64(2), I64(3), I64(7))}, .n_attr = 2,
         .attr = {A_INT("axis", 2), A_INTS("split", 2, I64(3), I64(4))});
    CASE(.name = "slice steps -1,2", .op = PP_OP_SLICE, .n_in = 1, .n_out = 1, .in = {F32(3, I64(4), I64(9), I64(5))},
         .n_attr = 4,
         .attr = {A_INTS("starts", 2, I64(-1), I64(1)), A_INTS("ends", 2, I64(-100), I64(8)),
                  A_INTS("axes", 2, I64(0), I64(1)), A_INTS("steps", 2, I64(-1), I64(2))});
    CASE(.name = "gather axis0 i64 idx", .op = PP_OP_GATHER, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(10), I64(7)), with_gen(T(PP_DTYPE_I64, 2, I64(3), I64(4)), G_INDEX, 10)}, .n_attr = 1,
         .attr = {A_INT("axis", 0)});
    CASE(.name = "gather axis1 i32 idx", .op = PP_OP_GATHER, .n_in = 2, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 3, I64(2), I64(5), I64(3)), with_gen(T(PP_DTYPE_I32, 1, I64(6)), G_INDEX, 5)},
         .n_attr = 1, .attr = {A_INT("axis", 1)});
    CASE(.name = "gather index out of range", .op = PP_OP_GATHER, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(4), I64(3)), with_gen(T(PP_DTYPE_I64, 1, I64(64)), G_INDEX, 9)}, .n_attr = 1,
         .attr = {A_INT("axis", 0)}, .expect_error = 1);
    CASE(.name = "gather_elements axis1", .op = PP_OP_GATHER_ELEMENTS, .n_in = 2, .n_out = 1,
         .in = {F32(2, I64(3), I64(5)), with_gen(T(PP_DTYPE_I64, 2, I64(3), I64(4)), G_INDEX, 5)}, .n_attr = 1,
         .attr = {A_INT("axis", 1)});
    CASE(.name = "expand (3,1)->(2,3,4)", .op = PP_OP_EXPAND, .n_in = 1, .n_out = 1, .in = {F32(2, I64(3), I64(1))},
         .n_attr = 1, .attr = {A_INTS("shape", 3, I64(2), I64(3), I64(4))});
    CASE(.name = "tile (2,3) x (2,3)", .op = PP_OP_TILE, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_I32, 2, I64(2), I64(3))}, .n_attr = 1, .attr = {A_INTS("repeats", 2, I64(2), I64(3))});
    CASE(.name = "pad constant (1,3,4,5)", .op = PP_OP_PAD, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(4), I64(5))}, .n_attr = 2,
         .attr = {A_INTS("pads", 8, I64(0), I64(0), I64(1), I64(2), I64(0), I64(0), I64(3), I64(0)),
                  A_FLOAT("value", 1.5)});
    CASE(.name = "pad reflect (2,3,5)", .op = PP_OP_PAD, .n_in = 1, .n_out = 1, .in = {F32(3, I64(2), I64(3), I64(5))},
         .n_attr = 2,
         .attr = {A_INTS("pads", 6, I64(0), I64(2), I64(3), I64(0), I64(1), I64(4)), A_STR("mode", "reflect")});
    CASE(.name = "pad edge crop (4,6)", .op = PP_OP_PAD, .n_in = 1, .n_out = 1, .in = {F32(2, I64(4), I64(6))},
         .n_attr = 2, .attr = {A_INTS("pads", 4, I64(2), I64(-1), I64(1), I64(-2)), A_STR("mode", "edge")});
    CASE(.name = "resize nearest x2 (1,3,5,7)", .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(5), I64(7))}, .n_attr = 2,
         .attr = {A_FLOATS("scales", 4, 1.0, 1.0, 2.0, 2.0), A_STR("mode", "nearest")});
    CASE(.name = "resize linear half_pixel (2,2,4,6)->(7,9)", .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(2), I64(4), I64(6))}, .n_attr = 2,
         .attr = {A_INTS("sizes", 4, I64(2), I64(2), I64(7), I64(9)), A_STR("mode", "linear")}, .atol = 1e-5f,
         .rtol = 1e-5f);
    CASE(.name = "resize linear align_corners", .op = PP_OP_RESIZE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(1), I64(3), I64(3))}, .n_attr = 3,
         .attr = {A_INTS("sizes", 4, I64(1), I64(1), I64(8), I64(5)), A_STR("mode", "linear"),
                  A_STR("coordinate_transformation_mode", "align_corners")},
         .atol = 1e-5f, .rtol = 1e-5f);
    CASE(.name = "trilu upper k=1 (2,4,5)", .op = PP_OP_TRILU, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(2), I64(4), I64(5))}, .n_attr = 2, .attr = {A_INT("k", 1), A_INT("upper", 1)});
    CASE(.name = "trilu lower k=-1 (6,6)", .op = PP_OP_TRILU, .n_in = 1, .n_out = 1, .in = {F32(2, I64(6), I64(6))},
         .n_attr = 2, .attr = {A_INT("k", -1), A_INT("upper", 0)});
    CASE(.name = "depth_to_space DCR b2 (1,8,3,3)", .op = PP_OP_DEPTH_TO_SPACE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(8), I64(3), I64(3))}, .n_attr = 1, .attr = {A_INT("blocksize", 2)});
    CASE(.name = "depth_to_space CRD b2 (2,8,2,3)", .op = PP_OP_DEPTH_TO_SPACE, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(2), I64(8), I64(2), I64(3))}, .n_attr = 2,
         .attr = {A_INT("blocksize", 2), A_STR("mode", "CRD")});
    CASE(.name = "space_to_depth b2 (1,3,4,6)", .op = PP_OP_SPACE_TO_DEPTH, .n_in = 1, .n_out = 1,
         .in = {F32(4, I64(1), I64(3), I64(4), I64(6))}, .n_attr = 1, .attr = {A_INT("blocksize", 2)});
    CASE(.name = "cumsum axis1 (3,7,2)", .op = PP_OP_CUMSUM, .n_in = 1, .n_out = 1,
         .in = {F32(3, I64(3), I64(7), I64(2))}, .n_attr = 1, .attr = {A_INT("axis", 1)}, .atol = 1e-5f, .rtol = 1e-5f);
    CASE(.name = "cumsum i64 exclusive reverse (9)", .op = PP_OP_CUMSUM, .n_in = 1, .n_out = 1,
         .in = {T(PP_DTYPE_I64, 1, I64(9))}, .n_attr = 3,
         .attr = {A_INT("axis", 0), A_INT("exclusive", 1), A_INT("reverse", 1)});
    CASE(.name = "shape (7,3,5)", .op = PP_OP_SHAPE, .n_in = 1, .n_out = 1, .in = {F32(3, I64(7), I64(3), I64(5))});
    CASE(.name = "constant_of_shape (3,4) = 2.5", .op = PP_OP_CONSTANT_OF_SHAPE, .n_in = 0, .n_out = 1, .n_attr = 3,
         .attr = {A_INTS("shape", 2, I64(3), I64(4)), A_FLOAT("value", 2.5), A_INT("dtype", PP_DTYPE_F32)});
    CASE(.name = "range i64 0..10 by 3", .op = PP_OP_RANGE, .n_in = 0, .n_out = 1, .n_attr = 4,
         .attr = {A_FLOAT("start", 0), A_FLOAT("limit", 10), A_FLOAT("delta", 3), A_INT("dtype", PP_DTYPE_I64)});
    CASE(.name = "range f32 -1..1 by 0.25", .op = PP_OP_RANGE, .n_in = 0, .n_out = 1, .n_attr = 4,
         .attr = {A_FLOAT("start", -1), A_FLOAT("limit", 1), A_FLOAT("delta", 0.25), A_INT("dtype", PP_DTYPE_F32)});
}

/* A few cases captured into a CUDA graph and replayed. */
void graph_cases(void) {
    run_graph(&(tcase){.name = "graph: add (7,3,4,5)+(1,3,1,1)",
                       .op = PP_OP_ADD,
                       .n_in = 2,
                       .n_out = 1,
                       .in = {F32(4, I64(7), I64(3), I64(4), I64(5)), F32(4, I64(1), I64(3), I64(1), I64(1))}});
    run_graph(&(tcase){.name = "graph: gemm +b",
                       .op = PP_OP_GEMM,
                       .n_in = 3,
                       .n_out = 1,
                       .in = {F32(2, I64(7), I64(33)), F32(2, I64(17), I64(33)), F32(1, I64(17))},
                       .n_attr = 1,
                       .attr = {A_INT("transB", 1)},
                       .atol = 1e-4f,
                       .rtol = 1e-4f});
    run_graph(
        &(tcase){.name = "graph: conv +b +relu",
                 .op = PP_OP_CONV,
                 .n_in = 3,
                 .n_out = 1,
                 .in = {F32(4, I64(2), I64(8), I64(6), I64(6)), F32(4, I64(8), I64(8), I64(3), I64(3)), F32(1, I64(8))},
                 .n_attr = 2,
                 .attr = {A_INTS("pads", 4, I64(1), I64(1), I64(1), I64(1)), A_INT("activation", PP_ACT_RELU)},
                 .atol = 1e-4f,
                 .rtol = 1e-4f});
    run_graph(&(tcase){.name = "graph: attention",
                       .op = PP_OP_ATTENTION,
                       .n_in = 3,
                       .n_out = 1,
                       .in = {F32(4, I64(2), I64(3), I64(7), I64(16)), F32(4, I64(2), I64(3), I64(9), I64(16)),
                              F32(4, I64(2), I64(3), I64(9), I64(8))},
                       .atol = 2e-5f,
                       .rtol = 2e-5f});
}
