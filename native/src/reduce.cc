// Sum and mean over one contiguous run of axes: x viewed as [outer, reduce, inner],
// y[o, i] = sum_r x[o, r, i] (times 1/reduce for the mean). Accumulates in double.
#include <omp.h>

#include <algorithm>
#include <vector>

#include "common.h"

namespace sasa {
namespace {

/** reduceSum(x, y, [outer, reduce, inner], mean). */
Napi::Value ReduceSum(const Napi::CallbackInfo& info) {
  return guarded(info, "Sum", [&] {
    const int32_t* p = intsArg(info, 2, "geometry", 3);
    const int64_t outer = p[0], reduce = p[1], inner = p[2];
    const bool mean = boolArg(info, 3, "mean");
    const float* x = floatArg(info, 0, "x", outer * reduce * inner);
    float* y = floatArg(info, 1, "y", outer * inner);
    const double scale = mean ? 1.0 / static_cast<double>(reduce) : 1.0;
    if (inner == 1) {
#pragma omp parallel for schedule(static)
      for (int64_t o = 0; o < outer; ++o) {
        const float* row = x + o * reduce;
        double acc = 0.0;
#pragma omp simd reduction(+ : acc)
        for (int64_t r = 0; r < reduce; ++r) acc += row[r];
        y[o] = static_cast<float>(acc * scale);
      }
      return;
    }
    if (outer >= numThreads()) {
#pragma omp parallel
      {
        std::vector<double> acc(inner);
#pragma omp for schedule(static)
        for (int64_t o = 0; o < outer; ++o) {
          std::fill(acc.begin(), acc.end(), 0.0);
          for (int64_t r = 0; r < reduce; ++r) {
            const float* row = x + (o * reduce + r) * inner;
            double* a = acc.data();
#pragma omp simd
            for (int64_t i = 0; i < inner; ++i) a[i] += row[i];
          }
          for (int64_t i = 0; i < inner; ++i) y[o * inner + i] = static_cast<float>(acc[i] * scale);
        }
      }
      return;
    }
    // Few outer slices: split the reduced axis across threads, then combine the partial sums.
    const int threads = numThreads();
    std::vector<double> partial(static_cast<size_t>(threads) * inner);
    for (int64_t o = 0; o < outer; ++o) {
      std::fill(partial.begin(), partial.end(), 0.0);
#pragma omp parallel num_threads(threads)
      {
        double* a = partial.data() + static_cast<size_t>(omp_get_thread_num()) * inner;
#pragma omp for schedule(static)
        for (int64_t r = 0; r < reduce; ++r) {
          const float* row = x + (o * reduce + r) * inner;
#pragma omp simd
          for (int64_t i = 0; i < inner; ++i) a[i] += row[i];
        }
      }
      for (int64_t i = 0; i < inner; ++i) {
        double s = 0.0;
        for (int t = 0; t < threads; ++t) s += partial[static_cast<size_t>(t) * inner + i];
        y[o * inner + i] = static_cast<float>(s * scale);
      }
    }
  });
}

}  // namespace

void registerReduce(Napi::Env env, Napi::Object exports) {
  exports.Set("reduceSum", Napi::Function::New(env, ReduceSum));
}

}  // namespace sasa
