/* resize_coord.h: where an output coordinate of RESIZE samples the input, one
 * definition for the CPU and CUDA kernels (ONNX Resize; scale = output / input
 * as ONNX defines it, coordinates in float as ONNX Runtime computes them):
 *   half_pixel          x_in = (x_out + 0.5) / scale - 0.5
 *   pytorch_half_pixel  the same, but 0 when the output extent is 1
 *   align_corners       x_out · (in - 1) / (in · scale - 1): the unrounded output
 *                       length, as ONNX's reference does; 0 when out is 1
 *   asymmetric          x_out / scale
 * nearest rounds x_in by nearest_mode and clamps to [0, in - 1]. */
#ifndef PP_KERNEL_RESIZE_COORD_H
#define PP_KERNEL_RESIZE_COORD_H

#include <math.h>
#include <stdint.h>

#include "act.h" /* PP_HD */

enum { PP_COORD_HALF_PIXEL = 0, PP_COORD_ASYMMETRIC = 1, PP_COORD_ALIGN_CORNERS = 2, PP_COORD_PYTORCH_HALF_PIXEL = 3 };
enum { PP_NEAREST_ROUND_PREFER_FLOOR = 0, PP_NEAREST_ROUND_PREFER_CEIL = 1, PP_NEAREST_FLOOR = 2, PP_NEAREST_CEIL = 3 };

PP_HD float pp_resize_src_coord(int coord, int64_t o, float scale, int64_t in_len, int64_t out_len) {
    switch (coord) {
    case PP_COORD_HALF_PIXEL: return ((float)o + 0.5f) / scale - 0.5f;
    case PP_COORD_PYTORCH_HALF_PIXEL: return out_len > 1 ? ((float)o + 0.5f) / scale - 0.5f : 0.f;
    case PP_COORD_ALIGN_CORNERS: {
        float len = (float)in_len * scale - 1.f;
        return out_len == 1 || !(len > 0.f) ? 0.f : (float)o * (float)(in_len - 1) / len;
    }
    case PP_COORD_ASYMMETRIC: return (float)o / scale;
    }
    return 0.f;
}

PP_HD int64_t pp_resize_nearest_index(int mode, float x, int64_t len) {
    float f;
    switch (mode) {
    case PP_NEAREST_ROUND_PREFER_FLOOR: f = x == floorf(x) + 0.5f ? floorf(x) : roundf(x); break;
    case PP_NEAREST_ROUND_PREFER_CEIL: f = x == floorf(x) + 0.5f ? ceilf(x) : roundf(x); break;
    case PP_NEAREST_FLOOR: f = floorf(x); break;
    default: f = ceilf(x); break;
    }
    if (!(f >= 0.f)) return 0; /* also NaN */
    if (f >= (float)(len - 1)) return len - 1;
    return (int64_t)f;
}

#endif
