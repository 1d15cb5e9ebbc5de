/* run_nompi.c: pp_run_mpi where the build found no MPI (CMake's FindMPI):
 * everything else works, and asking for MPI says why it cannot. */
#include <stdio.h>

#include "chunked.h"
#include "cli_msg.h"

int pp_run_mpi(const pp_chunked_options *o, const char *why) {
    (void)o;
    pp_cli_msg("ppengine",
               "%s asks for an MPI run, but this ppengine was built without MPI (install libopenmpi-dev and "
               "rebuild; docs/scale.md), or pass --no-mpi to run as one independent process",
               why);
    return 2;
}
