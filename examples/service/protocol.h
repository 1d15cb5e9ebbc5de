/* protocol.h: the wire protocol between ppserve and its clients (ppload).
 *
 * TCP on loopback; every integer is a little-endian u32. A connection carries
 * any number of request/response pairs, one at a time, until the client closes.
 *
 *   request:   u32 magic (PPS_MAGIC), u32 batch, then the input bytes:
 *              for each net input in order, pp_net_input_bytes(net, i, batch)
 *              bytes (C order, batch on axis 0, the net's element type)
 *   response:  u32 status, u32 nbytes, then nbytes bytes:
 *              status 0: every output in order, pp_net_output_bytes(net, o, batch) each
 *              otherwise: a one-line error message (not NUL-terminated)
 *
 * batch 0 is the info request (no input bytes follow); its response body is
 *   u32 max_batch, u32 n_inputs, u32 n_outputs,
 *   then per input and per output: u32 element type (pp_elem_type), u32 bytes per item
 * so a client needs nothing but the address to build requests.
 *
 * Status values 1..9 are the engine's pp_status_code for the run. Protocol errors
 * (bad magic, batch above the server's max) get their status and message, and
 * the server then closes the connection, since it cannot find the next request.
 */
#ifndef PP_EXAMPLE_PROTOCOL_H
#define PP_EXAMPLE_PROTOCOL_H

#include <stdint.h>
#include <string.h>

#define PPS_MAGIC 0x31535050u /* the bytes "PPS1" */

enum {
    PPS_OK = 0,
    /* 1..9: pp_status_code of the failed run */
    PPS_BAD_MAGIC = 100, /* not a request; the connection is closed */
    PPS_BAD_BATCH = 101, /* batch above the server's --max-batch; the connection is closed */
    PPS_BUSY = 102,      /* too many connections; the connection is closed */
    PPS_SERVER = 104,    /* the server failed otherwise (out of memory) */
};

static inline void pps_put_u32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t pps_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
