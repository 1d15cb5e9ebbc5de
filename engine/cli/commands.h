/* commands.h: ppengine's commands, each taking the arguments after its name
 * and returning the exit status. main (ppengine.c) picks one. */
#ifndef PP_CLI_COMMANDS_H
#define PP_CLI_COMMANDS_H

int pp_cli_run(int argc, char **argv);     /* cmd_run.c */
int pp_cli_info(int argc, char **argv);    /* cmd_inspect.c */
int pp_cli_plan(int argc, char **argv);    /* cmd_inspect.c */
int pp_cli_bench(int argc, char **argv);   /* cmd_bench.c */
int pp_cli_compare(int argc, char **argv); /* cmd_compare.c */

#endif
