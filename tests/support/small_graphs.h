/* small_graphs.h: graphs built through the IR API for tests, with plain C
 * references, shared by the Criterion suites and the standalone stress programs. */
#ifndef PP_TEST_SMALL_GRAPHS_H
#define PP_TEST_SMALL_GRAPHS_H

#include "engine/graph.h"

#define MLP_IN 6
#define MLP_HID 10
#define MLP_OUT 4

/* x (N,6) → relu(x·W1ᵀ+b1)=h1 → h1·W2ᵀ=h2 → h3=h1+h2 → h3·W3ᵀ+b3 → softmax = probs.
 * Outputs: probs (N,4) and h3 (N,10), an intermediate that also feeds later nodes,
 * so it must be forwarded across stage boundaries. Aborts the test on failure. */
pp_graph *test_mlp_graph(void);
void test_mlp_reference(int n, const float *x, float *probs, float *h3);
/* Deterministic inputs in [-2, 2). Caller frees. */
float *test_random_floats(size_t n, unsigned seed);

#endif
