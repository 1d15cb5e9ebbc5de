/* cli_msg.h: how ppengine and ppconvert report an error: exactly one line on
 * stderr, "PROG: MESSAGE\n", whatever MESSAGE holds (a library message, a file
 * name, an option), and never run on after a progress bar left open on stderr.
 * Scripts and logs read one error per line; a message without its newline
 * would glue the next output onto it. Each program defines
 * pp_cli_progress_open once (ppengine.c, ppconvert.c).
 */
#ifndef PP_CLI_MSG_H
#define PP_CLI_MSG_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Set by a tool while a progress bar ("\r..." without a newline) is on stderr;
 * the next message first ends that line. */
extern int pp_cli_progress_open;

static inline void pp_cli_vmsg(const char *prog, const char *fmt, va_list ap) {
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r' || msg[n - 1] == ' ')) msg[--n] = 0;
    for (size_t i = 0; i < n; i++)
        if (msg[i] == '\n' || msg[i] == '\r') msg[i] = ' ';
    if (pp_cli_progress_open) fputc('\n', stderr);
    pp_cli_progress_open = 0;
    fprintf(stderr, "%s: %s\n", prog, msg);
    fflush(stderr);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static inline void
pp_cli_msg(const char *prog, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pp_cli_vmsg(prog, fmt, ap);
    va_end(ap);
}

#endif
