/* http.h: ppserve's HTTP face (the Open Inference Protocol's REST endpoints
 * and /metrics) on libmicrohttpd. */
#ifndef PP_SERVE_HTTP_H
#define PP_SERVE_HTTP_H

#include <microhttpd.h>

#include "server.h"

/* Serves s on listen_fd (bound and listening; libmicrohttpd owns it from now
 * on) with one thread per connection; a connection silent for timeout_s
 * seconds, mid-request or idle, is closed. NULL when it cannot start. */
struct MHD_Daemon *pp_serve_http_start(pp_serve *s, int listen_fd, unsigned timeout_s);

#endif
