/* test_op_table.c: the one list of ops (kernels/op_table.h) is complete.
 *
 * Walks every op value a graph.bin can hold (0..255): each op of the format's
 * list (include/ppformat.h) has a definition with its describe function, a CPU
 * reference kernel, and either a CUDA kernel (with its supports check) or a
 * library path (cuDNN, cuBLASLt); each value outside the list has none. The f32
 * formulas of kernels/eltwise_math.h belong to element-wise rows of the table.
 */
#include <criterion/criterion.h>

#include "engine/ops.h"
#include "kernels/cpu/cpu_kernels.h"
#include "kernels/eltwise_math.h"
#ifdef PP_HAVE_CUDA
#include "kernels/cuda/cuda_kernels.h"
#endif

Test(op_table, every_listed_op_has_a_definition_and_kernels) {
    int listed = 0;
    for (int v = 0; v < 256; v++) {
        pp_op op = (pp_op)v;
        const char *name = pp_op_name(op);
        const pp_op_def *def = pp_op_def_get(op);
        if (!name) {
            cr_expect_null(def, "op value %d is not in PP_OP_LIST but has a definition", v);
            cr_expect_null(pp_cpu_kernel_for(op), "op value %d is not in PP_OP_LIST but has a CPU kernel", v);
            continue;
        }
        listed++;
        cr_assert_not_null(def, "op %s (%d) has no row in kernels/op_table.h", name, v);
        cr_expect_eq(def->op, op, "op %s: its row says op %d", name, (int)def->op);
        cr_expect_not_null(def->describe, "op %s has no describe function", name);
        cr_expect(def->min_in >= 0 && def->min_in <= def->max_in && def->max_in <= PP_MAX_IO, "op %s: inputs %d..%d",
                  name, def->min_in, def->max_in);
        cr_expect(def->min_out >= 1 && def->min_out <= def->max_out && def->max_out <= PP_MAX_IO,
                  "op %s: outputs %d..%d", name, def->min_out, def->max_out);
        cr_expect_not_null(pp_cpu_kernel_for(op), "op %s has no CPU reference kernel", name);
        cr_expect(def->cuda == PP_CUDA_PATH_KERNEL || def->cuda == PP_CUDA_PATH_CUDNN ||
                      def->cuda == PP_CUDA_PATH_CUBLASLT,
                  "op %s has no CUDA path", name);
#ifdef PP_HAVE_CUDA
        if (def->cuda == PP_CUDA_PATH_KERNEL)
            cr_expect_not_null(pp_cuda_kernel_for(op), "op %s has no CUDA kernel", name);
        else cr_expect_null(pp_cuda_kernel_for(op), "op %s is marked for a library but has a CUDA kernel", name);
#endif
    }
    cr_expect_eq(listed, PP_OP_TABLE_ROWS, "%d ops listed, %d table rows", listed, (int)PP_OP_TABLE_ROWS);
}

Test(op_table, elementwise_formulas_sit_on_elementwise_rows) {
    for (int v = 0; v < 256; v++) {
        pp_op op = (pp_op)v;
        if (!pp_unary_f32_has(op) && !pp_binary_f32_has(op)) continue;
        const pp_op_def *def = pp_op_def_get(op);
        cr_assert_not_null(def, "eltwise_math.h has a formula for op value %d, which has no row", v);
        cr_expect_str_eq(def->kernel, "eltwise", "op %s has a formula but runs on the '%s' kernel", pp_op_name(op),
                         def->kernel);
        cr_expect_eq(def->min_in, pp_unary_f32_has(op) ? 1 : 2, "op %s: formula arity vs its row", pp_op_name(op));
    }
}
