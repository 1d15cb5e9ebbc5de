/* dataset.h: the inputs of a chunked run, and the chunks they are cut into.
 *
 * Each graph input comes from one .npy or from a folder of them (taken in
 * byte order of their names); with several inputs, file j of each belongs
 * together and holds the same batch. The items of all files, in that order,
 * are the run's input order. A chunk is a run of at most `chunk_items`
 * consecutive items of one file, so a chunk is read with one pread per input
 * and never spans two files. Chunk c's numbering depends only on the files'
 * batches and the chunk size, so every rank and every resume agree on it.
 *
 * Rank 0 resolves the files (folder listings, headers) once and packs the
 * result into bytes the other ranks unpack, so that a job with a thousand ranks
 * does not list a folder a thousand times. (engine/cli/dataset.c)
 */
#ifndef PP_DATASET_H
#define PP_DATASET_H

#include <stdint.h>
#include <stdio.h>

#include "../../loader/npy.h"
#include "../graph.h"

typedef struct pp_dataset {
    int n_inputs;         /* graph inputs, in the graph's order */
    int n_files;          /* files per input */
    char **paths;         /* [n_inputs * n_files], input-major; owned */
    pp_npy *headers;      /* [n_inputs * n_files]: dtype, rank, dims (no data) */
    uint64_t *offsets;    /* [n_inputs * n_files]: where each file's data starts */
    int64_t *file_items;  /* [n_files]: batch items in file j */
    uint64_t *item_bytes; /* [n_inputs]: bytes of one batch item */
    int64_t total;        /* items in all files */
    int64_t chunk_items;  /* the most items a chunk holds */
    int64_t n_chunks;
    int *chunk_file;      /* [n_chunks] */
    int64_t *chunk_first; /* [n_chunks]: first item within its file */
    int64_t *chunk_count; /* [n_chunks] */
    int64_t *chunk_start; /* [n_chunks]: first item in input order */
} pp_dataset;

/* Resolves `--input` specs (NAME=PATH or PATH, PATH a .npy or a folder of
 * them) against g's inputs, reading every file's header; then cuts the items
 * into chunks of chunk_items. Every input must be given and be batched on
 * axis 0. On failure *ds is empty and err names the spec, file, input or axis. */
pp_code pp_dataset_resolve(const pp_graph *g, const char *const *specs, int n_specs, int64_t chunk_items,
                           pp_dataset *ds, pp_error *err);
void pp_dataset_free(pp_dataset *ds);

/* Reads chunk c's items of every input into bufs[i] (chunk_items × item_bytes[i]
 * each). */
pp_code pp_dataset_read(const pp_dataset *ds, int64_t c, void *const *bufs, pp_error *err);

/* The resolved files as bytes (malloc'ed, *n long) and back: rank 0 packs,
 * the others unpack, and nobody lists a folder twice. */
pp_code pp_dataset_pack(const pp_dataset *ds, char **bytes, size_t *n, pp_error *err);
pp_code pp_dataset_unpack(const char *bytes, size_t n, pp_dataset *ds, pp_error *err);

/* Lines naming every file with its size and modification time, for the
 * manifest: a resume over changed inputs is refused. */
pp_code pp_dataset_describe(const pp_dataset *ds, const pp_graph *g, FILE *f, pp_error *err);

#endif
