#include "emu.h"
thread_local uint3 threadIdx, blockIdx;
thread_local dim3 blockDim, gridDim;
thread_local pp_emu_ctx pp_emu;
static cudaError_t last = cudaSuccess;
void pp_emu_launch(dim3 grid, dim3 block, size_t smem, std::function<void()> f) {
    if (block.x == 0 || block.x > 1024 || block.y != 1 || block.z != 1 || smem > 48 * 1024 || grid.x == 0 ||
        grid.y == 0) {
        fprintf(stderr, "EMU: bad launch config grid (%u,%u) block %u smem %zu\n", grid.x, grid.y, block.x, smem);
        abort();
    }
    dim3 g(grid.x > 3 ? 3 : grid.x, grid.y > 2 ? 2 : grid.y, 1);
    std::vector<char> dyn(smem + 16);
    std::vector<double> xch(block.x);
    for (unsigned by = 0; by < g.y; by++)
        for (unsigned bx = 0; bx < g.x; bx++) {
            std::barrier<> bar(block.x);
            std::vector<std::barrier<> *> wb;
            for (unsigned w = 0; w < (block.x + 31) / 32; w++)
                wb.push_back(new std::barrier<>(block.x - w * 32 < 32 ? block.x - w * 32 : 32));
            std::memset(dyn.data(), 0xCD, dyn.size()); // garbage, like real shared memory
            std::vector<std::thread> ts;
            for (unsigned t = 0; t < block.x; t++)
                ts.emplace_back([&, t] {
                    threadIdx = uint3{t, 0, 0};
                    blockIdx = uint3{bx, by, 0};
                    blockDim = block;
                    gridDim = g;
                    pp_emu.block_bar = &bar;
                    pp_emu.warp_bars = &wb;
                    pp_emu.xch_f = reinterpret_cast<float *>(xch.data());
                    pp_emu.dyn = dyn.data();
                    f();
                });
            for (auto &th : ts) th.join();
            for (auto *b : wb) delete b;
        }
}
