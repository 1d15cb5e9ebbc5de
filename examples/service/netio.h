/* netio.h: whole-buffer socket reads and writes with a deadline, for ppserve and ppload. */
#ifndef PP_EXAMPLE_NETIO_H
#define PP_EXAMPLE_NETIO_H

#include <stddef.h>

/* Seconds on the monotonic clock. */
double pps_now(void);

/* Reads exactly n bytes before `deadline` (pps_now() time). Returns 0 on
 * success, 1 when the peer closed before the first byte (a clean end), -1 on
 * an error, a timeout or a close part-way (errno says which where it can). */
int pps_read_full(int fd, void *buf, size_t n, double deadline);
/* Writes exactly n bytes before `deadline`; 0 or -1. Never raises SIGPIPE. */
int pps_write_full(int fd, const void *buf, size_t n, double deadline);

/* Parses "HOST:PORT" where HOST is a loopback address (127.0.0.0/8 or
 * "localhost"); fills a struct sockaddr_in (passed as void * to keep the
 * socket headers out of this one). Returns 0, or -1 with a message in err. */
int pps_parse_loopback(const char *hostport, void *sockaddr_in_out, char *err, size_t errlen);

#endif
