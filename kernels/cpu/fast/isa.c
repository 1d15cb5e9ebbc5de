/* isa.c: which micro-kernels this CPU runs (isa.h). */
#include <stdlib.h>
#include <string.h>

#include "isa.h"

pp_cpu_isa pp_cpu_isa_detect(void) {
    pp_cpu_isa isa = PP_ISA_GENERIC;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = PP_ISA_AVX2;
    if (isa == PP_ISA_AVX2 && __builtin_cpu_supports("avx512f")) isa = PP_ISA_AVX512;
#endif
    const char *cap = getenv("PP_CPU_ISA");
    if (cap && !strcmp(cap, "generic")) isa = PP_ISA_GENERIC;
    else if (cap && !strcmp(cap, "avx2") && isa > PP_ISA_AVX2) isa = PP_ISA_AVX2;
    return isa;
}

const char *pp_cpu_isa_name(pp_cpu_isa isa) {
    switch (isa) {
    case PP_ISA_AVX512: return "avx512";
    case PP_ISA_AVX2: return "avx2";
    default: return "generic";
    }
}
