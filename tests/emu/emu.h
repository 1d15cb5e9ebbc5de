// emu.h: run CUDA kernels on the host, one std::thread per CUDA thread, blocks one
// after another (so static storage works as __shared__), grids capped small (every
// kernel here is grid-stride). Good enough to check indexing and reductions.
#pragma once
#include <cuda_runtime.h>
#include <barrier>
#include <functional>
#include <thread>
#include <vector>
#include <cstring>
#include <cmath>
#include <cstdlib>

struct pp_emu_ctx {
    std::barrier<> *block_bar;
    std::vector<std::barrier<> *> *warp_bars;
    float *xch_f; // per-thread exchange slots
    char *dyn;
};
extern thread_local uint3 threadIdx, blockIdx;
extern thread_local dim3 blockDim, gridDim;
extern thread_local pp_emu_ctx pp_emu;

static inline void __syncthreads() { pp_emu.block_bar->arrive_and_wait(); }
static inline void *pp_emu_smem() { return pp_emu.dyn; }

template <typename T> static inline T __shfl_xor_sync(unsigned, T v, int o) {
    static_assert(sizeof(T) <= sizeof(double), "");
    unsigned t = threadIdx.x, w = t / 32;
    double *slots = reinterpret_cast<double *>(pp_emu.xch_f);
    std::memcpy(&slots[t], &v, sizeof v);
    (*pp_emu.warp_bars)[w]->arrive_and_wait();
    T r;
    std::memcpy(&r, &slots[(t ^ (unsigned)o)], sizeof r);
    (*pp_emu.warp_bars)[w]->arrive_and_wait();
    return r;
}

static inline void __syncwarp(unsigned = 0xffffffffu) { (*pp_emu.warp_bars)[threadIdx.x / 32]->arrive_and_wait(); }

// lane src's value, for every lane of the warp
template <typename T> static inline T __shfl_sync(unsigned, T v, int src) {
    static_assert(sizeof(T) <= sizeof(double), "");
    unsigned t = threadIdx.x, w = t / 32;
    double *slots = reinterpret_cast<double *>(pp_emu.xch_f);
    std::memcpy(&slots[t], &v, sizeof v);
    (*pp_emu.warp_bars)[w]->arrive_and_wait();
    T r;
    std::memcpy(&r, &slots[w * 32 + (unsigned)src], sizeof r);
    (*pp_emu.warp_bars)[w]->arrive_and_wait();
    return r;
}

static inline float rsqrtf(float x) { return 1.f / sqrtf(x); }
void pp_emu_launch(dim3 grid, dim3 block, size_t smem, std::function<void()> f);
