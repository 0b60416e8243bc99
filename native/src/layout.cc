// Data movement: one general float32 strided copy (Transpose, Slice) and a constant pad (PadV2).
//
// stridedCopy: y, contiguous in row-major order over `shape`, gets
//   y[i_0, ..., i_{r-1}] = x[offset + sum_d i_d * stride_d].
// The TypeScript side merges dimensions first (see kernels/layout.ts), so the problem arrives
// with as few dimensions as possible. Three paths:
//   - innermost input stride 1: each output row is one contiguous run, copied with memcpy;
//   - some other dimension k has input stride 1 (a transpose that moves the last axis):
//     32×32 tiles over (k, last) so that both reads and writes stay within cache lines;
//   - otherwise: a strided gather per output row.
// padConstant: y of shape x.shape + before + after; borders get the constant, the interior x.
// Both are parallel over output rows (an odometer per thread, no division per row).
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "common.h"

namespace sasa {
namespace {

constexpr int kMaxRank = 8;
// Below this many elements the copy runs on one thread (thread start-up would dominate).
constexpr int64_t kParallelMin = 1 << 15;

struct Dims {
  int rank = 0;
  int64_t shape[kMaxRank] = {};
};

int readRank(const char* op, int64_t rank) {
  if (rank < 1 || rank > kMaxRank) fail(op, "rank " + std::to_string(rank) + " is not in 1..8");
  return static_cast<int>(rank);
}

/**
 * Calls body(row, coord) for every row of the outer dims `outer` (rank `n`, row-major), with
 * coord the row's coordinates, split into contiguous chunks across threads.
 */
template <typename F>
void forEachRow(int n, const int64_t* outer, int64_t rowLength, F body) {
  int64_t rows = 1;
  for (int d = 0; d < n; ++d) rows *= outer[d];
  if (rows == 0) return;
  const bool parallel = rows > 1 && rows * rowLength >= kParallelMin;
#pragma omp parallel if (parallel)
  {
    const int64_t threads = omp_get_num_threads();
    const int64_t t = omp_get_thread_num();
    const int64_t begin = rows * t / threads;
    const int64_t end = rows * (t + 1) / threads;
    if (begin < end) {
      int64_t coord[kMaxRank] = {};
      int64_t q = begin;
      for (int d = n - 1; d >= 0; --d) {
        coord[d] = q % outer[d];
        q /= outer[d];
      }
      for (int64_t row = begin; row < end; ++row) {
        body(row, coord);
        for (int d = n - 1; d >= 0; --d) {
          if (++coord[d] < outer[d]) break;
          coord[d] = 0;
        }
      }
    }
  }
}

/** stridedCopy(x, y, [rank, shape[rank], stride[rank], offset]). */
Napi::Value StridedCopy(const Napi::CallbackInfo& info) {
  return guarded(info, "stridedCopy", [&] {
    const int32_t* head = intsArg(info, 2, "geometry", 1);
    const int rank = readRank("stridedCopy", head[0]);
    const int32_t* g = intsArg(info, 2, "geometry", 2 + 2 * rank);
    int64_t shape[kMaxRank], stride[kMaxRank];
    int64_t total = 1, last = g[1 + 2 * rank];
    if (last < 0) fail("stridedCopy", "negative offset");
    for (int d = 0; d < rank; ++d) {
      shape[d] = g[1 + d];
      stride[d] = g[1 + rank + d];
      if (shape[d] < 0 || stride[d] < 0) fail("stridedCopy", "negative size or stride");
      total *= shape[d];
      if (shape[d] > 0) last += (shape[d] - 1) * stride[d];
    }
    float* y = floatArg(info, 1, "y", total);
    if (total == 0) return;
    const float* x = floatArg(info, 0, "x", last + 1);
    const int64_t run = shape[rank - 1];

    if (stride[rank - 1] == 1) {
      forEachRow(rank - 1, shape, run, [&](int64_t row, const int64_t* c) {
        int64_t src = g[1 + 2 * rank];
        for (int d = 0; d < rank - 1; ++d) src += c[d] * stride[d];
        std::memcpy(y + row * run, x + src, static_cast<size_t>(run) * sizeof(float));
      });
      return;
    }

    int k = -1;
    for (int d = 0; d < rank - 1; ++d)
      if (stride[d] == 1 && shape[d] > 1) k = d;
    if (k >= 0 && run >= 4) {
      // Tiles over (k, last); the other dims are "outer".
      constexpr int64_t T = 32;
      int64_t dst[kMaxRank];
      dst[rank - 1] = 1;
      for (int d = rank - 2; d >= 0; --d) dst[d] = dst[d + 1] * shape[d + 1];
      int64_t oShape[kMaxRank], oSrc[kMaxRank], oDst[kMaxRank];
      int n = 0;
      int64_t outerCount = 1;
      for (int d = 0; d < rank - 1; ++d) {
        if (d == k) continue;
        oShape[n] = shape[d];
        oSrc[n] = stride[d];
        oDst[n] = dst[d];
        outerCount *= shape[d];
        ++n;
      }
      const int64_t nk = shape[k], nl = run, sl = stride[rank - 1], dk = dst[k];
      const int64_t tk = (nk + T - 1) / T, tl = (nl + T - 1) / T;
      const int64_t tiles = outerCount * tk * tl;
      const int64_t base = g[1 + 2 * rank];
#pragma omp parallel for schedule(static) if (total >= kParallelMin)
      for (int64_t t = 0; t < tiles; ++t) {
        int64_t o = t / (tk * tl);
        const int64_t rem = t % (tk * tl);
        const int64_t k0 = (rem / tl) * T, l0 = (rem % tl) * T;
        const int64_t k1 = std::min(nk, k0 + T), l1 = std::min(nl, l0 + T);
        int64_t src = base, out = 0;
        for (int j = n - 1; j >= 0; --j) {
          const int64_t c = o % oShape[j];
          o /= oShape[j];
          src += c * oSrc[j];
          out += c * oDst[j];
        }
        for (int64_t kk = k0; kk < k1; ++kk) {
          float* yr = y + out + kk * dk;
          const float* xr = x + src + kk;
          for (int64_t l = l0; l < l1; ++l) yr[l] = xr[l * sl];
        }
      }
      return;
    }

    const int64_t sl = stride[rank - 1];
    forEachRow(rank - 1, shape, run, [&](int64_t row, const int64_t* c) {
      int64_t src = g[1 + 2 * rank];
      for (int d = 0; d < rank - 1; ++d) src += c[d] * stride[d];
      float* yr = y + row * run;
      const float* xr = x + src;
      for (int64_t l = 0; l < run; ++l) yr[l] = xr[l * sl];
    });
  });
}

/** padConstant(x, y, [rank, xShape[rank], before[rank], after[rank]], value). */
Napi::Value PadConstant(const Napi::CallbackInfo& info) {
  return guarded(info, "padConstant", [&] {
    const int32_t* head = intsArg(info, 2, "geometry", 1);
    const int rank = readRank("padConstant", head[0]);
    const int32_t* g = intsArg(info, 2, "geometry", 1 + 3 * rank);
    const float value = static_cast<float>(numArg(info, 3, "constantValue"));
    int64_t xs[kMaxRank], before[kMaxRank], out[kMaxRank], xStride[kMaxRank];
    int64_t xTotal = 1, yTotal = 1;
    for (int d = 0; d < rank; ++d) {
      xs[d] = g[1 + d];
      before[d] = g[1 + rank + d];
      const int64_t after = g[1 + 2 * rank + d];
      if (xs[d] < 0 || before[d] < 0 || after < 0) fail("padConstant", "negative size or padding");
      out[d] = before[d] + xs[d] + after;
      xTotal *= xs[d];
      yTotal *= out[d];
    }
    const float* x = floatArg(info, 0, "x", xTotal);
    float* y = floatArg(info, 1, "y", yTotal);
    if (yTotal == 0) return;
    if (xTotal == 0) {
      std::fill(y, y + yTotal, value);
      return;
    }
    xStride[rank - 1] = 1;
    for (int d = rank - 2; d >= 0; --d) xStride[d] = xStride[d + 1] * xs[d + 1];
    const int L = rank - 1;
    const int64_t run = out[L], lead = before[L], width = xs[L];
    forEachRow(L, out, run, [&](int64_t row, const int64_t* c) {
      float* yr = y + row * run;
      int64_t src = 0;
      for (int d = 0; d < L; ++d) {
        const int64_t i = c[d] - before[d];
        if (i < 0 || i >= xs[d]) {
          std::fill(yr, yr + run, value);
          return;
        }
        src += i * xStride[d];
      }
      std::fill(yr, yr + lead, value);
      std::memcpy(yr + lead, x + src, static_cast<size_t>(width) * sizeof(float));
      std::fill(yr + lead + width, yr + run, value);
    });
  });
}

}  // namespace

void registerLayout(Napi::Env env, Napi::Object exports) {
  exports.Set("stridedCopy", Napi::Function::New(env, StridedCopy));
  exports.Set("padConstant", Napi::Function::New(env, PadConstant));
}

}  // namespace sasa
