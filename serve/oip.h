/* oip.h: the Open Inference Protocol (KServe v2, as Triton speaks it) over
 * HTTP/REST: parsing an infer request, JSON or with the binary tensor data
 * extension, against a model's inputs, and writing the responses.
 *
 * Binary extension: the body is a JSON header of Inference-Header-Content-Length
 * bytes followed by the tensors whose parameters carry "binary_data_size", in
 * the order they appear in the header, each raw, little-endian, row-major.
 * Outputs asked for with "binary_data": true (or every output, with the
 * request parameter "binary_data_output": true) come back the same way. */
#ifndef PP_SERVE_OIP_H
#define PP_SERVE_OIP_H

#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"
#include "server.h"

typedef struct pp_oip_request {
    void *root;         /* the parsed JSON header (cJSON), owned */
    const char *id;     /* the request's "id", borrowed from root, or NULL */
    int64_t batch;      /* rows, from the inputs' first dimension */
    int64_t timeout_us; /* parameters.timeout, 0: none */
    int n_in, n_out;
    const void **in;       /* [n_in] in the net's order: into the body, or into owned[i] */
    void **owned;          /* [n_in] buffers made for the request (JSON data, unaligned binary data) */
    unsigned char *want;   /* [n_out] 1: the output is returned */
    unsigned char *binary; /* [n_out] 1: as binary data */
} pp_oip_request;

/* Parses an infer request of `len` bytes for model m. header_len is the
 * Inference-Header-Content-Length value, or -1 when there is none (the whole
 * body is JSON). Binary inputs point into body, which must outlive r. Returns 0,
 * or 400 with a one-line message in msg. r is always safe to free after. */
int pp_oip_parse(const pp_serve_model *m, const char *body, size_t len, long long header_len, pp_oip_request *r,
                 char *msg, size_t cap);
void pp_oip_request_free(pp_oip_request *r);

/* The response's JSON header (the whole body when no output is binary) into
 * out; outputs[o] holds output o at r->batch. -1 when out of memory. */
int pp_oip_response(const pp_serve_model *m, const pp_oip_request *r, void *const *outputs, pp_sbuf *out);
/* GET /v2/models/{m}: name, versions, platform, inputs and outputs. */
int pp_oip_model_metadata(const pp_serve_model *m, pp_sbuf *out);
/* {"error": "msg"} */
int pp_oip_error(const char *msg, pp_sbuf *out);
/* "FP32", "INT64", ... for an element type; NULL for none. */
const char *pp_oip_datatype(pp_elem_type t);

#endif
