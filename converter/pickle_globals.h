/* pickle_globals.h: the allow-listed globals and what REDUCE and PERSID do
 * with them (pickle_globals.c; docs/checkpoints.md, "The pickle allow-list"). */
#ifndef PP_PICKLE_GLOBALS_H
#define PP_PICKLE_GLOBALS_H

#include <stddef.h>

#include "pickle_values.h"

/* GLOBAL / STACK_GLOBAL: pushes the global, or refuses one off the allow-list by name. */
pp_code pp_pk_push_global(pp_pickle *P, const char *mod, size_t mlen, const char *name, size_t nlen);
/* REDUCE: calls an allow-listed global on its argument tuple. */
pp_code pp_pk_reduce(pp_pickle *P);
/* BINPERSID: torch's ('storage', class, key, location, numel). */
pp_code pp_pk_persid(pp_pickle *P);

#endif
