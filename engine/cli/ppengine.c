/* ppengine: run, inspect, plan and measure graph.bin files from the command
 * line. Each command is its own file (commands.h); their options are one table
 * (cli_opts.c). */
#include <stdio.h>
#include <string.h>

#include "cli_msg.h"
#include "commands.h"

int pp_cli_progress_open; /* cli_msg.h */

static const char *MAIN_HELP = "usage: ppengine COMMAND [options]\n"
                               "\n"
                               "commands:\n"
                               "  run GRAPH    run a graph.bin on inputs (.npy files or random) and write outputs\n"
                               "  info GRAPH   inputs, outputs, ops, parameters, FLOPs and activation memory\n"
                               "  plan GRAPH   show how the graph is split into pipeline stages over devices\n"
                               "  bench GRAPH  measure throughput and latency (trtexec-style)\n"
                               "  compare A.npy B.npy [--tol T]  relative L2 error and max difference; exit 1 above T\n"
                               "\n"
                               "'ppengine COMMAND --help' describes each command.\n";

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(MAIN_HELP, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "run")) return pp_cli_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "info")) return pp_cli_info(argc - 2, argv + 2);
    if (!strcmp(argv[1], "plan")) return pp_cli_plan(argc - 2, argv + 2);
    if (!strcmp(argv[1], "bench")) return pp_cli_bench(argc - 2, argv + 2);
    if (!strcmp(argv[1], "compare")) return pp_cli_compare(argc - 2, argv + 2);
    pp_cli_msg("ppengine", "unknown command '%s' (try --help)", argv[1]);
    return 2;
}
