/* omp.h: OpenMP pragmas that vanish (without unknown-pragma warnings) when the
 * build has no OpenMP, e.g. under ThreadSanitizer. Inside macros, where #pragma
 * cannot appear, PP_OMP(omp parallel for ...) is the way to write one. */
#ifndef PP_CPU_OMP_H
#define PP_CPU_OMP_H

#ifdef _OPENMP
#define PP_OMP(...) _Pragma(#__VA_ARGS__)
#else
#define PP_OMP(...)
#endif

#endif
