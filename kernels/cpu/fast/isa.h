/* isa.h: the instruction sets the fast kernels pick from at run time (isa.c). */
#ifndef PP_CPU_FAST_ISA_H
#define PP_CPU_FAST_ISA_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pp_cpu_isa {
    PP_ISA_GENERIC = 0, /* plain C */
    PP_ISA_AVX2 = 1,    /* AVX2 + FMA */
    PP_ISA_AVX512 = 2,  /* AVX-512 F */
} pp_cpu_isa;

/* What this CPU runs, capped by PP_CPU_ISA=generic|avx2|avx512 in the
 * environment (to test the other paths on one machine). */
pp_cpu_isa pp_cpu_isa_detect(void);
const char *pp_cpu_isa_name(pp_cpu_isa isa);

#ifdef __cplusplus
}
#endif
#endif
