/* cli_common.h: what ppengine's commands share: checking an .npy against a
 * graph input, output file names, the clock. (engine/cli/cli_common.c) */
#ifndef PP_CLI_COMMON_H
#define PP_CLI_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "../../loader/npy.h"
#include "../graph.h"

/* Milliseconds on the monotonic clock (the one engine traces stamp with). */
double pp_cli_now_ms(void);
/* Checks an .npy (its header is enough: a->data is not read) against graph
 * input t and returns its batch in *batch (1 when t has none). */
pp_code pp_cli_check_input(const pp_tensor *t, const pp_npy *a, const char *file, int64_t *batch, pp_error *err);
/* A tensor name made safe as a file name: [A-Za-z0-9_.-] kept, anything else '_'. */
void pp_cli_safe_name(const char *in, char *out, size_t n);

#endif
